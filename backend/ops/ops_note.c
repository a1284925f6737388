#include <jansson.h>

#include "backend/ops/ops_actions.h"

/* A note changes nothing but the audit log; its text is the reason, so the
 * audit rows carry it and the result only echoes it back. */
sl_code ops_note_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    (void)ctx;
    (void)err;
    res->output = json_pack("{s:s, s:s?}", "note", req->reason, "target", req->target);
    return SL_OK;
}
