#include <jansson.h>
#include <string.h>

#include "backend/ops/ops_actions.h"

/* Runbook runs in the audit log. Neither event changes data (a read-only
 * console may follow a runbook; the mutating actions a step offers are
 * refused by their own descriptors), so the handlers only check that the
 * event can be linked: a runbook run id in params, and for a step its
 * number and an outcome the audit readers know. */

sl_code ops_runbook_start_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                              sl_err *err);
sl_code ops_runbook_step_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                             sl_err *err);

static const char *param_str(const ops_request *req, const char *key)
{
    const char *s = json_string_value(json_object_get(req->params, key));
    return s && *s ? s : NULL;
}

static sl_code need_run_id(const char *action, const ops_request *req, sl_err *err)
{
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "%s needs the runbook as its target", action);
    if (!param_str(req, "runbook_run"))
        return err_set(err, SL_USAGE, "%s needs params.runbook_run (the runbook run id)",
                       action);
    return SL_OK;
}

sl_code ops_runbook_start_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                              sl_err *err)
{
    (void)ctx;
    sl_code c = need_run_id("runbook.start", req, err);
    if (c != SL_OK)
        return c;
    res->output = json_pack("{s:s, s:s}", "runbook", req->target, "runbook_run",
                            param_str(req, "runbook_run"));
    return SL_OK;
}

static int outcome_known(const char *o)
{
    static const char *const known[] = {"done", "skipped", "action", "checked"};
    for (size_t i = 0; o && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(o, known[i]) == 0)
            return 1;
    return 0;
}

sl_code ops_runbook_step_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                             sl_err *err)
{
    (void)ctx;
    sl_code c = need_run_id("runbook.step", req, err);
    if (c != SL_OK)
        return c;
    json_t *step = json_object_get(req->params, "step");
    if (!json_is_integer(step) || json_integer_value(step) < 1)
        return err_set(err, SL_USAGE, "runbook.step needs params.step (1-based number)");
    const char *outcome = param_str(req, "outcome");
    if (!outcome_known(outcome))
        return err_set(err, SL_USAGE,
                       "runbook.step needs params.outcome: done, skipped, action or "
                       "checked (got '%s')",
                       outcome ? outcome : "");
    res->output =
        json_pack("{s:s, s:s, s:O, s:s}", "runbook", req->target, "runbook_run",
                  param_str(req, "runbook_run"), "step", step, "outcome", outcome);
    return SL_OK;
}
