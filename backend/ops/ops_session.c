#include <jansson.h>

#include "backend/ops/ops_actions.h"

/* Opening and closing a console are audit events: the rows themselves are
 * the record, so the handlers only describe the session. */
static json_t *session_state(const ops_ctx *ctx, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:b}", "session",
                     ctx->session_id ? ctx->session_id : "", "channel",
                     ctx->channel ? ctx->channel : "", "state", state, "read_only",
                     ctx->read_only);
}

sl_code ops_session_open_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                             sl_err *err)
{
    (void)req;
    (void)err;
    res->after = session_state(ctx, "open");
    return SL_OK;
}

sl_code ops_session_close_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                              sl_err *err)
{
    (void)req;
    (void)err;
    res->after = session_state(ctx, "closed");
    return SL_OK;
}
