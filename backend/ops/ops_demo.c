#include <jansson.h>
#include <stdio.h>

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
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "demo.create needs a folder");
    /* The demo's runs point back at this audit row, as an operator's would. */
    char event[32];
    snprintf(event, sizeof event, "%lld", (long long)res->requested_id);
    demo_opts o = {.dir = req->target,
                   .now_ms = time_now_ms(),
                   .operator_name = ctx->operator_name,
                   .audit_event_id = res->requested_id ? event : NULL};
    json_t *summary = NULL;
    sl_code c = demo_create(&o, &summary, err);
    if (c != SL_OK)
        return c;
    res->after = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "config",
                           json_object_get(summary, "config"), "epoch_folders",
                           json_object_get(summary, "epoch_folders"), "tables",
                           json_object_get(summary, "tables"), "pipeline",
                           json_object_get(summary, "pipeline"), "processed",
                           json_object_get(summary, "processed"), "failed_folder",
                           json_object_get(summary, "failed_folder"), "pending",
                           json_object_get(summary, "pending"), "waiting",
                           json_object_get(summary, "waiting"));
    res->output = summary;
    return SL_OK;
}
