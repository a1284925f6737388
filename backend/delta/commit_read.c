/* One commit's actions as a JSON array, in file order (the console's
 * drill-down into a version). */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/util/log.h"
#include "backend/util/timeutil.h"

static sl_code collect_action(void *ctx, json_t *action, size_t line, sl_err *err)
{
    (void)line;
    (void)err;
    json_array_append(ctx, action);
    return SL_OK;
}

sl_code delta_commit_read(store *s, const char *table_key, int64_t version,
                          json_t **actions_out, sl_err *err)
{
    double t0 = time_mono_ms();
    *actions_out = NULL;
    if (version < 0)
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND, "version %lld is negative",
                       (long long)version);
    char *prefix = delta_log_prefix(table_key);
    char *key = sl_asprintf("%s%020lld.json", prefix, (long long)version);
    free(prefix);
    sl_buf b = {0};
    sl_err le = {0};
    sl_code c = store_get(s, key, &b, &le);
    json_t *arr = NULL;
    if (c == SL_STORE_NOT_FOUND) {
        c = err_set(&le, SL_DELTA_VERSION_NOT_FOUND,
                    "no JSON commit for version %lld at %s", (long long)version, key);
    } else if (c == SL_OK) {
        arr = json_array();
        c = delta_commit_parse(b.data ? b.data : "", b.len, key, collect_action, arr,
                               &le);
    }
    buf_free(&b);
    if (s->log) {
        char *msg = c == SL_OK ? sl_asprintf("%zu actions", json_array_size(arr))
                               : sl_strdup(le.msg);
        char *target = delta_table_target(s, key);
        log_op(s->log, "delta.commit", target, c, time_mono_ms() - t0, msg);
        free(target);
        free(msg);
    }
    free(key);
    if (c != SL_OK) {
        json_decref(arr);
        if (err)
            *err = le;
        return c;
    }
    *actions_out = arr;
    return SL_OK;
}

/* The txn of app_id in one commit's actions: its version, or -1. */
static int64_t commit_txn_version(const json_t *actions, const char *app_id)
{
    size_t i;
    json_t *a;
    json_array_foreach((json_t *)actions, i, a)
    {
        const json_t *t = json_object_get(a, "txn");
        const char *app = json_string_value(json_object_get(t, "appId"));
        if (app && strcmp(app, app_id) == 0)
            return json_integer_value(json_object_get(t, "version"));
    }
    return -1;
}

sl_code delta_txn_commit_find(store *s, const char *table_key, const char *app_id,
                              int64_t txn_version, size_t max_back, int64_t *version_out,
                              sl_err *err)
{
    *version_out = -1;
    delta_log_listing l;
    sl_err le = {0};
    sl_code c = delta_log_list(s, table_key, &l, &le);
    if (c == SL_DELTA_NOT_A_TABLE)
        return SL_OK; /* nothing committed there yet */
    if (c != SL_OK) {
        if (err)
            *err = le;
        return c;
    }
    /* Newest first: txn versions only grow, so a commit carrying an older
     * version of app_id means the one sought is not further back. */
    size_t seen = 0;
    for (size_t k = l.ncommits; k-- > 0 && seen < max_back; seen++) {
        json_t *actions = NULL;
        c = delta_commit_read(s, table_key, l.commits[k].version, &actions, err);
        if (c != SL_OK)
            break;
        int64_t v = commit_txn_version(actions, app_id);
        json_decref(actions);
        if (v == txn_version)
            *version_out = l.commits[k].version;
        if (v >= 0 && v <= txn_version)
            break;
    }
    delta_log_listing_free(&l);
    return c;
}
