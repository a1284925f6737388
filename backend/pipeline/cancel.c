/* Cancel requests in the lake (see cancel.h). */
#include "backend/pipeline/cancel.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"

char *cancel_key(const char *pipeline)
{
    return sl_asprintf("_sluice/cancel/%s", pipeline);
}

sl_code cancel_request(store *lake, const char *pipeline, const char *operator_name,
                       const char *reason, int64_t now_ms, lease_holder *holder,
                       sl_err *err)
{
    lease_holder h;
    memset(&h, 0, sizeof h);
    int exists = 0;
    sl_code c = lease_read(lake, pipeline, &h, &exists, err);
    if (c != SL_OK)
        return c;
    if (holder)
        *holder = h;
    if (!exists || h.unreadable || h.expires_ms <= now_ms)
        return err_set(err, SL_RUN_NOT_FOUND,
                       "no run of pipeline %s is in progress (its lease is %s)", pipeline,
                       !exists        ? "free"
                       : h.unreadable ? "unreadable"
                                      : "expired");
    json_t *body = json_pack("{s:s, s:s, s:s?, s:I}", "token", h.token, "operator",
                             operator_name ? operator_name : "", "reason", reason,
                             "requested_ms", (json_int_t)now_ms);
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    char *key = cancel_key(pipeline);
    c = store_put(lake, key, text, strlen(text), err);
    free(key);
    free(text);
    return c;
}

int cancel_requested(store *lake, const char *pipeline, const char *token)
{
    char *key = cancel_key(pipeline);
    sl_buf b = {0};
    sl_err e = {0};
    int hit = 0;
    if (store_get(lake, key, &b, &e) == SL_OK) {
        json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "token"));
        if (t && token && strcmp(t, token) == 0)
            hit = 1;
        else if (j) /* for a run that is over: nobody will ever honour it */
            store_delete(lake, key, &e);
        json_decref(j);
    }
    buf_free(&b);
    free(key);
    return hit;
}

void cancel_clear(store *lake, const char *pipeline)
{
    char *key = cancel_key(pipeline);
    sl_err e = {0};
    store_delete(lake, key, &e);
    free(key);
}
