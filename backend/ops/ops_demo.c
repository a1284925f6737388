#include <jansson.h>

#include "backend/ops/ops_actions.h"
#include "backend/pipeline/demo.h"
#include "backend/util/timeutil.h"

sl_code ops_demo_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                        sl_err *err)
{
    (void)ctx;
    (void)err;
    res->before = json_pack("{s:s?}", "dir", req->target);
    return SL_OK;
}

sl_code ops_demo_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    (void)ctx;
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "demo.create needs a folder");
    demo_opts o = {.dir = req->target, .now_ms = time_now_ms()};
    json_t *summary = NULL;
    sl_code c = demo_create(&o, &summary, err);
    if (c != SL_OK)
        return c;
    res->after =
        json_pack("{s:O, s:O, s:O}", "config", json_object_get(summary, "config"),
                  "epoch_folders", json_object_get(summary, "epoch_folders"), "tables",
                  json_object_get(summary, "tables"));
    res->output = summary;
    return SL_OK;
}
