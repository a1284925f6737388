/* Table history: one digest of commitInfo (plus action counts) per
 * available JSON commit, newest first. Gaps do not stop history: every
 * commit that exists is shown, so an engineer can see what is missing. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/util/log.h"
#include "backend/util/timeutil.h"

static json_t *object_or_empty(json_t *v)
{
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

static char *string_either(const json_t *obj, const char *a, const char *b)
{
    const char *v = json_string_value(json_object_get(obj, a));
    if (!v)
        v = json_string_value(json_object_get(obj, b));
    return sl_strdup(v);
}

static sl_code commit_digest(store *s, const delta_commit_ref *ref, delta_commit_info *ci,
                             sl_err *err)
{
    memset(ci, 0, sizeof *ci);
    ci->version = ref->version;
    delta_commit_summary sum;
    sl_code c = delta_commit_summary_load(s, ref->key, &sum, err);
    if (c != SL_OK)
        return c;
    json_t *info = sum.commit_info;
    ci->num_add = sum.num_add;
    ci->num_remove = sum.num_remove;
    ci->has_metadata = sum.has_metadata;
    ci->has_protocol = sum.has_protocol;
    int64_t ts = delta_commit_info_timestamp(info);
    ci->timestamp_ms = ts >= 0 ? ts : ref->mtime_ms;
    ci->operation = sl_strdup(json_string_value(json_object_get(info, "operation")));
    ci->operation_parameters =
        object_or_empty(json_object_get(info, "operationParameters"));
    ci->operation_metrics = object_or_empty(json_object_get(info, "operationMetrics"));
    ci->user = string_either(info, "userName", "userId");
    ci->engine = string_either(info, "engineInfo", "clientVersion");
    json_t *rv = json_object_get(info, "readVersion");
    ci->read_version = json_is_integer(rv) ? (int64_t)json_integer_value(rv) : -1;
    json_t *ba = json_object_get(info, "isBlindAppend");
    ci->is_blind_append = json_is_boolean(ba) ? json_is_true(ba) : -1;
    ci->commit_info = info; /* takes the reference */
    return SL_OK;
}

static void commit_info_clear(delta_commit_info *ci)
{
    free(ci->operation);
    free(ci->user);
    free(ci->engine);
    json_decref(ci->operation_parameters);
    json_decref(ci->operation_metrics);
    json_decref(ci->commit_info);
    memset(ci, 0, sizeof *ci);
}

sl_code delta_history_load(store *s, const char *table_key, size_t limit,
                           delta_history *out, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err le = {0};
    memset(out, 0, sizeof *out);
    out->latest_version = -1;
    out->oldest_available = -1;
    delta_log_listing l;
    sl_code c = delta_log_list(s, table_key, &l, &le);
    if (c == SL_OK) {
        size_t n = l.ncommits;
        if (limit && limit < n)
            n = limit;
        out->items = sl_calloc(n ? n : 1, sizeof *out->items);
        for (size_t i = 0; i < n && c == SL_OK; i++) {
            c = commit_digest(s, &l.commits[l.ncommits - 1 - i], &out->items[i], &le);
            if (c == SL_OK)
                out->n++;
        }
        out->latest_version = l.latest;
        out->oldest_available = l.ncommits ? l.commits[0].version : -1;
    }
    delta_log_listing_free(&l);
    if (c != SL_OK)
        delta_history_free(out);

    if (s->log) {
        char *target = delta_table_target(s, table_key);
        char *msg = c == SL_OK ? sl_asprintf("%zu commits, latest version %lld", out->n,
                                             (long long)out->latest_version)
                               : sl_strdup(le.msg);
        log_op(s->log, "delta.history", target, c, time_mono_ms() - t0, msg);
        free(msg);
        free(target);
    }
    if (c != SL_OK && err)
        *err = le;
    return c;
}

void delta_history_free(delta_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        commit_info_clear(&h->items[i]);
    free(h->items);
    memset(h, 0, sizeof *h);
    h->latest_version = -1;
    h->oldest_available = -1;
}
