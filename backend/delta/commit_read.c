/* One commit's actions as a JSON array, in file order (the console's
 * drill-down into a version). */

#include <stdlib.h>

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
