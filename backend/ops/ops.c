#include "backend/ops/ops.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops_actions.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

const ops_desc *ops_find(const char *name)
{
    size_t n;
    const ops_desc *t = ops_table(&n);
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

void ops_result_clear(ops_result *res)
{
    if (!res)
        return;
    json_decref(res->before);
    json_decref(res->after);
    json_decref(res->output);
    if (res->work && res->work_free)
        res->work_free(res->work);
    memset(res, 0, sizeof *res);
}

static int blank(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static char *json_text_or_null(json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

/* One audit row for this request in the given phase. */
static sl_code audit_row(ops_ctx *ctx, const ops_desc *d, const ops_request *req,
                         const char *phase, json_t *before, json_t *after, sl_code code,
                         int64_t *id_out, sl_err *err)
{
    json_t *params = req->params ? json_deep_copy(req->params) : json_object();
    if (req->dry_run)
        json_object_set_new(params, "dry_run", json_true());
    char *ptext = json_text_or_null(params);
    char *btext = json_text_or_null(before);
    char *atext = json_text_or_null(after);
    json_decref(params);
    audit_event ev = {
        .operator_name = (char *)ctx->operator_name,
        .host = (char *)ctx->host,
        .session_id = (char *)ctx->session_id,
        .action = (char *)d->name,
        .target = (char *)req->target,
        .params = ptext,
        .reason = (char *)(blank(req->reason) ? NULL : req->reason),
        .phase = (char *)phase,
        .before_state = btext,
        .after_state = atext,
        .error_code = code == SL_OK ? NULL : (char *)err_code_name(code),
    };
    sl_code c = audit_append(ctx->audit, &ev, id_out, err);
    free(ptext);
    free(btext);
    free(atext);
    return c;
}

/* A refusal is audited too, then returned with its own code and message. */
static sl_code refuse(ops_ctx *ctx, const ops_desc *d, const ops_request *req,
                      ops_result *res, sl_code code, const char *why, sl_err *err)
{
    sl_err aerr = {0};
    sl_code ac =
        audit_row(ctx, d, req, "refused", NULL, NULL, code, &res->final_id, &aerr);
    if (ac != SL_OK) {
        if (err)
            *err = aerr;
        return ac;
    }
    return err_set(err, code, "%s refused: %s", d->name, why);
}

/* The operator looked at the preview and said no: the request and its
 * refusal are both recorded, so the audit shows what was almost done. The
 * reason rule does not apply (one cancels before typing a reason). */
static sl_code cancel(ops_ctx *ctx, const ops_desc *d, const ops_request *req,
                      ops_result *res, sl_err *err)
{
    sl_err berr = {0};
    if (d->before && d->before(ctx, req, res, &berr) != SL_OK) {
        json_decref(res->before);
        res->before = NULL; /* the state could not be read; the pair is still written */
    }
    sl_code c = audit_row(ctx, d, req, "requested", res->before, NULL, SL_OK,
                          &res->requested_id, err);
    if (c != SL_OK)
        return c;
    return refuse(ctx, d, req, res, SL_OPS_CANCELLED, "cancelled by the operator", err);
}

sl_code ops_run(ops_ctx *ctx, const char *name, const ops_request *req, ops_result *res,
                sl_err *err)
{
    memset(res, 0, sizeof *res);
    const ops_desc *d = ops_find(name);
    if (!d)
        return err_set(err, SL_OPS_UNKNOWN, "no intervention named \"%s\"", name);
    if (!ctx->audit)
        return err_set(err, SL_AUDIT_DB, "%s refused: no audit log is open", name);
    double t0 = time_mono_ms();
    sl_code c;
    if ((d->flags & OPS_MUTATES) && ctx->read_only)
        c = refuse(ctx, d, req, res, SL_OPS_READ_ONLY, "this session is read-only", err);
    else if (req->cancelled)
        c = cancel(ctx, d, req, res, err);
    else if ((d->flags & OPS_NEEDS_REASON) && blank(req->reason))
        c = refuse(ctx, d, req, res, SL_OPS_REASON_REQUIRED, "a reason is required", err);
    else if ((d->flags & OPS_DESTRUCTIVE) && !req->confirmed && !req->dry_run)
        c = refuse(ctx, d, req, res, SL_OPS_NOT_CONFIRMED,
                   "destructive actions need a typed confirmation", err);
    else {
        c = d->before ? d->before(ctx, req, res, err) : SL_OK;
        if (c == SL_OK)
            c = audit_row(ctx, d, req, "requested", res->before, NULL, SL_OK,
                          &res->requested_id, err);
        /* Without a requested row the action must not run at all. */
        if (c == SL_OK) {
            c = d->run(ctx, req, res, err);
            sl_err aerr = {0};
            sl_code ac = audit_row(ctx, d, req, c == SL_OK ? "succeeded" : "failed",
                                   res->before, res->after, c, &res->final_id, &aerr);
            if (c == SL_OK && ac != SL_OK) {
                if (err)
                    *err = aerr;
                c = ac;
            }
        }
    }
    log_op(ctx->log, d->name, req->target, c, time_mono_ms() - t0,
           c == SL_OK || !err ? NULL : err->msg);
    return c;
}

sl_code ops_preview(ops_ctx *ctx, const char *name, const ops_request *req,
                    ops_result *res, sl_err *err)
{
    memset(res, 0, sizeof *res);
    const ops_desc *d = ops_find(name);
    if (!d)
        return err_set(err, SL_OPS_UNKNOWN, "no intervention named \"%s\"", name);
    ops_request dry = *req;
    dry.dry_run = 1;
    dry.confirmed = 0;
    sl_code c = d->before ? d->before(ctx, &dry, res, err) : SL_OK;
    if (c == SL_OK)
        c = d->run(ctx, &dry, res, err);
    return c;
}
