#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_restore.h"
#include "backend/ops/ops_actions.h"
#include "backend/util/timeutil.h"

/* "restore": req->target names the table (for the audit rows); params give
 * {"url": table URL (default: the target), "version": N | "timestamp_ms": N
 * (+ "timestamp": the text the operator typed)}. */

static sl_code restore_at(const ops_request *req, delta_at *at, sl_err *err)
{
    json_t *v = json_object_get(req->params, "version");
    json_t *t = json_object_get(req->params, "timestamp_ms");
    if (json_is_integer(v) && !json_is_integer(t)) {
        *at = (delta_at){.kind = DELTA_AT_VERSION, .version = json_integer_value(v)};
        return SL_OK;
    }
    if (json_is_integer(t) && !json_is_integer(v)) {
        *at =
            (delta_at){.kind = DELTA_AT_TIMESTAMP, .timestamp_ms = json_integer_value(t)};
        return SL_OK;
    }
    return err_set(err, SL_USAGE, "restore needs exactly one of version or timestamp");
}

static sl_code restore_open(const ops_request *req, store **st, delta_restore_plan **plan,
                            sl_err *err)
{
    *st = NULL;
    *plan = NULL;
    json_t *u = json_object_get(req->params, "url");
    const char *url = json_is_string(u) ? json_string_value(u) : req->target;
    if (!url || !*url)
        return err_set(err, SL_USAGE, "restore needs a table");
    delta_at at;
    sl_code c = restore_at(req, &at, err);
    if (c == SL_OK)
        c = store_open(url, st, err);
    if (c == SL_OK)
        c = delta_restore_plan_build(*st, "", &at, time_now_ms(), plan, err);
    if (c != SL_OK) {
        store_close(*st);
        *st = NULL;
    }
    return c;
}

static json_t *state_json(const delta_snapshot *s)
{
    return json_pack("{s:I, s:I, s:o, s:I}", "version", (json_int_t)s->version, "files",
                     (json_int_t)s->nfiles, "rows",
                     s->num_rows < 0 ? json_null() : json_integer(s->num_rows), "bytes",
                     (json_int_t)s->size_bytes);
}

/* The plan `before` built, kept for `run`: two snapshots, opened once. */
typedef struct restore_work {
    store *st;
    delta_restore_plan *plan;
} restore_work;

static void restore_work_free(void *w)
{
    restore_work *rw = w;
    delta_restore_plan_free(rw->plan);
    store_close(rw->st);
    free(rw);
}

sl_code ops_restore_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                           sl_err *err)
{
    (void)ctx;
    store *st;
    delta_restore_plan *p;
    sl_code c = restore_open(req, &st, &p, err);
    if (c != SL_OK)
        return c;
    res->before = state_json(p->current);
    json_object_set_new(res->before, "target_version", json_integer(p->target->version));
    restore_work *rw = sl_calloc(1, sizeof *rw);
    rw->st = st;
    rw->plan = p;
    res->work = rw;
    res->work_free = restore_work_free;
    return SL_OK;
}

sl_code ops_restore_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                        sl_err *err)
{
    store *st;
    delta_restore_plan *p;
    restore_work *rw = res->work;
    if (rw) { /* take over what before() opened */
        st = rw->st;
        p = rw->plan;
        free(rw);
        res->work = NULL;
    } else {
        sl_code c = restore_open(req, &st, &p, err);
        if (c != SL_OK)
            return c;
    }
    sl_code c;
    if (ctx->log)
        store_set_log(st, ctx->log);
    json_t *preview = delta_restore_plan_to_json(p, req->target);
    if (req->dry_run) {
        json_object_set_new(preview, "dry_run", json_true());
        res->output = preview;
        delta_restore_plan_free(p);
        store_close(st);
        return SL_OK;
    }
    char event_id[32];
    snprintf(event_id, sizeof event_id, "%lld", (long long)res->requested_id);
    delta_commit_meta meta = {
        .operation = "RESTORE",
        .operator_name = ctx->operator_name,
        .run_id = ctx->session_id,
        .audit_event_id = res->requested_id ? event_id : NULL,
    };
    delta_commit_result cr = {0};
    c = delta_restore_commit(st, "", p, &meta, &cr, err);
    if (c == SL_OK) {
        res->after = state_json(p->target);
        json_object_set_new(res->after, "version", json_integer(cr.version));
        json_object_set_new(res->after, "restored_version",
                            json_integer(p->target->version));
        json_object_set_new(preview, "version", json_integer(cr.version));
        json_object_set_new(preview, "committed", json_true());
        res->output = preview;
    } else {
        json_decref(preview);
    }
    delta_restore_plan_free(p);
    store_close(st);
    return c;
}
