/* cancel: ask the run holding a pipeline's lease to stop at its next step
 * boundary (backend/pipeline/cancel.h). target = pipeline name. Mutating
 * (a read-only console cannot stop what another started) and audited with
 * the holder it was aimed at. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops_actions.h"
#include "backend/pipeline/cancel.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/timeutil.h"

static sl_code lake_of(ops_ctx *ctx, const ops_request *req, pipeline_def **d,
                       store **lake, sl_err *err)
{
    *d = NULL;
    *lake = NULL;
    if (!ctx->cfg)
        return err_set(err, SL_CONFIG_NOT_FOUND, "cancel needs a sluice.json");
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "cancel needs the pipeline's name");
    sl_code c = config_pipeline_load(ctx->cfg, req->target, d, err);
    if (c == SL_OK)
        c = store_open((*d)->lake_url, lake, err);
    if (c == SL_OK && ctx->log)
        store_set_log(*lake, ctx->log);
    if (c != SL_OK) {
        pipeline_def_free(*d);
        *d = NULL;
    }
    return c;
}

sl_code ops_cancel_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err)
{
    pipeline_def *d;
    store *lake;
    sl_code c = lake_of(ctx, req, &d, &lake, err);
    if (c != SL_OK)
        return c;
    lease_holder h;
    int exists = 0;
    c = lease_read(lake, d->name, &h, &exists, err);
    if (c == SL_OK)
        res->before = json_pack("{s:s, s:o}", "pipeline", d->name, "lease",
                                exists ? lease_holder_json(&h) : json_null());
    store_close(lake);
    pipeline_def_free(d);
    return c;
}

sl_code ops_cancel_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    pipeline_def *d;
    store *lake;
    sl_code c = lake_of(ctx, req, &d, &lake, err);
    if (c != SL_OK)
        return c;
    lease_holder h;
    memset(&h, 0, sizeof h);
    if (!req->dry_run)
        c = cancel_request(lake, d->name, ctx->operator_name, req->reason, time_now_ms(),
                           &h, err);
    if (c == SL_OK)
        res->output = json_pack("{s:s, s:s, s:b}", "pipeline", d->name, "requested_for",
                                h.owner, "dry_run", req->dry_run != 0);
    store_close(lake);
    pipeline_def_free(d);
    return c;
}
