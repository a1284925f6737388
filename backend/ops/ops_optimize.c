#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "backend/delta/delta_optimize.h"
#include "backend/ops/ops_actions.h"
#include "backend/util/timeutil.h"

/* "optimize": req->target names the table (for the audit rows); params give
 * {"url": table URL (default: the target), "target_size": bytes (optional),
 * "zorder_by": ["col", ...] (optional)}.
 * Data is unchanged (dataChange false), so it is not destructive. */

static sl_code optimize_open(const ops_request *req, store **st, delta_snapshot **snap,
                             sl_err *err)
{
    *st = NULL;
    *snap = NULL;
    json_t *u = json_object_get(req->params, "url");
    const char *url = json_is_string(u) ? json_string_value(u) : req->target;
    if (!url || !*url)
        return err_set(err, SL_USAGE, "optimize needs a table");
    delta_at latest = {.kind = DELTA_AT_LATEST};
    sl_code c = store_open(url, st, err);
    if (c == SL_OK)
        c = delta_snapshot_open(*st, "", &latest, snap, err);
    if (c != SL_OK) {
        store_close(*st);
        *st = NULL;
    }
    return c;
}

/* o->zorder_by points into req->params and *names (caller frees *names). */
static sl_code optimize_opts_read(const ops_request *req, delta_optimize_opts *o,
                                  const char ***names, sl_err *err)
{
    memset(o, 0, sizeof *o);
    *names = NULL;
    o->now_ms = time_now_ms();
    json_t *zb = json_object_get(req->params, "zorder_by");
    if (zb && !json_is_array(zb))
        return err_set(err, SL_USAGE,
                       "optimize: zorder_by must be a list of column names");
    size_t nz = json_array_size(zb);
    if (nz) {
        *names = sl_calloc(nz, sizeof **names);
        for (size_t i = 0; i < nz; i++) {
            const char *n = json_string_value(json_array_get(zb, i));
            if (!n || !*n)
                return err_set(err, SL_USAGE,
                               "optimize: zorder_by entry %zu is not a column name",
                               i + 1);
            (*names)[i] = n;
        }
        o->zorder_by = *names;
        o->nzorder_by = nz;
    }
    json_t *t = json_object_get(req->params, "target_size");
    if (t && (!json_is_integer(t) || json_integer_value(t) <= 0))
        return err_set(err, SL_USAGE, "optimize: target_size must be a positive integer");
    o->target_size = t ? json_integer_value(t) : DELTA_OPTIMIZE_DEFAULT_TARGET;
    return SL_OK;
}

static json_t *state_json(const delta_snapshot *s)
{
    return json_pack("{s:I, s:I, s:o, s:I}", "version", (json_int_t)s->version, "files",
                     (json_int_t)s->nfiles, "rows",
                     s->num_rows < 0 ? json_null() : json_integer(s->num_rows), "bytes",
                     (json_int_t)s->size_bytes);
}

sl_code ops_optimize_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                            sl_err *err)
{
    (void)ctx;
    store *st;
    delta_snapshot *snap;
    delta_optimize_opts o;
    const char **names;
    sl_code c = optimize_opts_read(req, &o, &names, err);
    free(names);
    if (c == SL_OK)
        c = optimize_open(req, &st, &snap, err);
    if (c != SL_OK)
        return c;
    res->before = state_json(snap);
    delta_snapshot_free(snap);
    store_close(st);
    return SL_OK;
}

sl_code ops_optimize_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                         sl_err *err)
{
    store *st;
    delta_snapshot *snap;
    delta_optimize_opts o;
    const char **names;
    sl_code c = optimize_opts_read(req, &o, &names, err);
    if (c == SL_OK)
        c = optimize_open(req, &st, &snap, err);
    if (c != SL_OK) {
        free(names);
        return c;
    }
    if (req->dry_run) {
        /* The bins come from file sizes alone: planned without reading data. */
        o.dry_run = 1;
        delta_optimize_result r;
        c = delta_optimize_run(st, "", snap, &o, NULL, &r, err);
        if (c == SL_OK)
            res->output = json_pack(
                "{s:s?, s:b, s:o, s:I, s:I, s:I, s:I, s:o}", "table", req->target,
                "dry_run", 1, "before", state_json(snap), "target_size",
                (json_int_t)o.target_size, "bins", (json_int_t)r.bins, "removed_files",
                (json_int_t)r.removed_files, "removed_bytes", (json_int_t)r.removed_bytes,
                "rows", r.rows < 0 ? json_null() : json_integer(r.rows));
        delta_snapshot_free(snap);
        store_close(st);
        free(names);
        return c;
    }
    if (ctx->log)
        store_set_log(st, ctx->log);
    char event_id[32];
    snprintf(event_id, sizeof event_id, "%lld", (long long)res->requested_id);
    delta_commit_meta meta = {
        .operation = "OPTIMIZE",
        .operator_name = ctx->operator_name,
        .run_id = ctx->session_id,
        .audit_event_id = res->requested_id ? event_id : NULL,
    };
    delta_optimize_result r;
    c = delta_optimize_run(st, "", snap, &o, &meta, &r, err);
    if (c == SL_OK) {
        delta_snapshot *after = NULL;
        delta_at latest = {.kind = DELTA_AT_LATEST};
        if (delta_snapshot_open(st, "", &latest, &after, err) == SL_OK) {
            res->after = state_json(after);
            delta_snapshot_free(after);
        }
        res->output = json_pack(
            "{s:s?, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "table", req->target,
            "committed", r.committed, "version", (json_int_t)r.version, "target_size",
            (json_int_t)o.target_size, "bins", (json_int_t)r.bins, "removed_files",
            (json_int_t)r.removed_files, "added_files", (json_int_t)r.added_files,
            "removed_bytes", (json_int_t)r.removed_bytes, "added_bytes",
            (json_int_t)r.added_bytes, "rows", (json_int_t)r.rows);
        json_t *zb = json_object_get(req->params, "zorder_by");
        json_object_set_new(res->output, "zorder_by", zb ? json_copy(zb) : json_array());
    }
    delta_snapshot_free(snap);
    store_close(st);
    free(names);
    return c;
}
