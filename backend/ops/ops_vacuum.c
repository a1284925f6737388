#include <jansson.h>
#include <stdlib.h>

#include "backend/delta/delta_vacuum.h"
#include "backend/ops/ops_actions.h"
#include "backend/util/buf.h"

/* VACUUM as an intervention: req->target is the table's URL (its root),
 * params {"retain_hours": H, "force_short_retention": bool}; the audit rows
 * carry the params, so a forced short retention is on record. */

static sl_code vacuum_opts_read(const ops_request *req, delta_vacuum_opts *o, sl_err *err)
{
    o->retain_ms = -1;
    json_t *h = req->params ? json_object_get(req->params, "retain_hours") : NULL;
    if (h && !json_is_null(h)) {
        if (!json_is_number(h) || json_number_value(h) < 0)
            return err_set(err, SL_USAGE, "vacuum: retain_hours must be a number >= 0");
        o->retain_ms = (int64_t)(json_number_value(h) * 3600000.0);
    }
    o->force_short_retention =
        req->params &&
        json_is_true(json_object_get(req->params, "force_short_retention"));
    o->dry_run = req->dry_run;
    o->record_commits = -1;
    return SL_OK;
}

sl_code ops_vacuum_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err)
{
    (void)ctx;
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "vacuum needs a table");
    store *st = NULL;
    sl_code c = store_open(req->target, &st, err);
    if (c != SL_OK)
        return c;
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    c = delta_snapshot_open(st, "", &at, &snap, err);
    if (c == SL_OK) {
        res->before =
            json_pack("{s:s, s:I, s:I, s:I}", "table", req->target, "version",
                      (json_int_t)snap->version, "num_files", (json_int_t)snap->nfiles,
                      "size_bytes", (json_int_t)snap->size_bytes);
        delta_snapshot_free(snap);
    }
    store_close(st);
    return c;
}

sl_code ops_vacuum_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    delta_vacuum_opts o = {0};
    sl_code c = vacuum_opts_read(req, &o, err);
    if (c != SL_OK)
        return c;
    store *st = NULL;
    if ((c = store_open(req->target, &st, err)) != SL_OK)
        return c;
    if (ctx->log)
        store_set_log(st, ctx->log);
    char *event = sl_asprintf("%lld", (long long)res->requested_id);
    delta_commit_meta meta = {.operator_name = ctx->operator_name,
                              .run_id = ctx->session_id,
                              .audit_event_id = res->requested_id ? event : NULL};
    o.meta = &meta;
    delta_vacuum_result vr;
    c = delta_vacuum(st, "", &o, &vr, err);
    if (c == SL_OK) {
        res->output = delta_vacuum_result_json(&vr);
        res->after = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I}", "deleted_files", (json_int_t)vr.nfiles,
            "deleted_bytes", (json_int_t)vr.bytes, "retention_ms",
            (json_int_t)vr.retain_ms, "vacuum_start_version",
            (json_int_t)vr.start_version, "vacuum_end_version",
            (json_int_t)vr.end_version, "vacuumed_directories", (json_int_t)vr.ndirs);
        delta_vacuum_result_free(&vr);
    }
    free(event);
    store_close(st);
    return c;
}
