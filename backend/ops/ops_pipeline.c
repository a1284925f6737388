/* The pipeline's interventions: run, retry, skip, mark-processed, reset.
 * Each names its pipeline in params {"pipeline": NAME} (the target is the
 * pipeline for run, the run id for retry, the folder(s) otherwise). The
 * folder-state changes hold the pipeline's lease while they write, so they
 * never race a running runner. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/ops/ops_actions.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runner.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define OPS_LEASE_TTL_MS (60 * 1000)

static const char *param_str(const ops_request *req, const char *key)
{
    return json_string_value(json_object_get(req->params, key));
}

static sl_code def_load(ops_ctx *ctx, const char *name, pipeline_def **d, sl_err *err)
{
    *d = NULL;
    if (!ctx->cfg)
        return err_set(err, SL_CONFIG_NOT_FOUND, "pipelines need a sluice.json");
    if (!name || !*name) {
        if (ctx->cfg->npipelines != 1)
            return err_set(err, SL_PIPELINE_UNKNOWN,
                           "name the pipeline: the config lists %zu",
                           ctx->cfg->npipelines);
        pipeline_def **all = NULL;
        size_t n = 0;
        sl_code c = config_pipelines_load_all(ctx->cfg, &all, &n, err);
        if (c != SL_OK)
            return c;
        *d = all[0];
        all[0] = NULL;
        config_pipelines_free(all, n);
        return SL_OK;
    }
    return config_pipeline_load(ctx->cfg, name, d, err);
}

/* ---- run / retry -------------------------------------------------------- */

static sl_code run_pipeline(ops_ctx *ctx, const ops_request *req, ops_result *res,
                            const char *pipeline, const char *folder, sl_err *err)
{
    pipeline_def *d = NULL;
    sl_code c = def_load(ctx, pipeline, &d, err);
    if (c != SL_OK)
        return c;
    char event[32];
    snprintf(event, sizeof event, "%lld", (long long)res->requested_id);
    runner_opts o = {
        .folder = folder,
        .until_step = param_str(req, "until_step"),
        .dry_run = req->dry_run,
        .operator_name = ctx->operator_name,
        .audit_event_id = res->requested_id ? event : NULL,
        .log = ctx->log,
        .seed = (uint64_t)time_now_ms(),
        .progress = req->progress,
        .progress_ctx = req->progress_ctx,
        .cancel = req->cancel,
    };
    runner_result rr;
    c = runner_run(d, &o, &rr, err);
    res->output = json_incref(rr.report);
    res->after = json_pack("{s:s, s:I, s:I, s:I}", "run_id", rr.run_id, "processed",
                           (json_int_t)rr.processed, "failed", (json_int_t)rr.failed,
                           "pending_left", (json_int_t)rr.pending_left);
    if (rr.cancelled)
        json_object_set_new(res->after, "cancelled", json_true());
    /* Taking over another runner's expired lease is on the audit record. */
    json_t *took = json_object_get(rr.report, "lease_taken_over");
    if (took)
        json_object_set(res->after, "lease_taken_over", took);
    runner_result_clear(&rr);
    pipeline_def_free(d);
    return c;
}

sl_code ops_run_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    return run_pipeline(ctx, req, res, req->target, param_str(req, "folder"), err);
}

/* The folder a run left failed: failed now, and that run worked on it
 * (so retrying the original run id still finds it after a failed retry). */
static sl_code failed_folder_of(store *lake, const char *pipeline, const char *run_id,
                                char **folder, sl_err *err)
{
    *folder = NULL;
    ckpt_view v;
    sl_code c = ckpt_load(lake, pipeline, &v, err);
    if (c != SL_OK)
        return c;
    ckpt_entry *h = NULL;
    size_t n = 0;
    c = ckpt_history(lake, pipeline, NULL, &h, &n, err);
    for (size_t i = 0; c == SL_OK && i < n && !*folder; i++) {
        if (!h[i].run_id || strcmp(h[i].run_id, run_id) != 0)
            continue;
        const ckpt_entry *now = ckpt_find(&v, h[i].folder);
        if (now && strcmp(now->state, "failed") == 0)
            *folder = sl_strdup(h[i].folder);
    }
    ckpt_entries_free(h, n);
    ckpt_view_free(&v);
    if (c == SL_OK && !*folder)
        c = err_set(err, SL_RUN_NOT_FOUND,
                    "run %s of pipeline %s left no folder that is still failed", run_id,
                    pipeline);
    return c;
}

sl_code ops_retry_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    pipeline_def *d = NULL;
    sl_code c = def_load(ctx, param_str(req, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    store *lake = NULL;
    char *folder = NULL;
    c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK)
        c = failed_folder_of(lake, d->name, req->target, &folder, err);
    store_close(lake);
    if (c == SL_OK) {
        res->before = json_pack("{s:s, s:s}", "run_id", req->target, "folder", folder);
        c = run_pipeline(ctx, req, res, d->name, folder, err);
    }
    free(folder);
    pipeline_def_free(d);
    return c;
}

/* ---- skip / mark-processed / reset ------------------------------------- */

/* The folders named: the target ("F" or "F1,F2") or params.folders. */
static char **folders_of(const ops_request *req, size_t *n)
{
    *n = 0;
    json_t *list = json_object_get(req->params, "folders");
    char **out = NULL;
    if (json_is_array(list)) {
        out = sl_calloc(json_array_size(list) + 1, sizeof *out);
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) if (json_is_string(v)) out[(*n)++] =
            sl_strdup(json_string_value(v));
        return out;
    }
    const char *t = req->target ? req->target : "";
    out = sl_calloc(strlen(t) / 2 + 2, sizeof *out);
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, ",");
        if (len)
            out[(*n)++] = sl_strndup(p, len);
        p += len;
        p += *p == ',';
    }
    return out;
}

static void strs_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Every folder must be one the source lists or the checkpoint knows. */
static sl_code folders_check(store *lake, store *src, const pipeline_def *d,
                             char **folders, size_t n, const char *new_state,
                             json_t **before, ckpt_view *view, sl_err *err)
{
    sl_code c = ckpt_load(lake, d->name, view, err);
    if (c != SL_OK)
        return c;
    pl_discovery dsc = {0};
    pl_discover_opts dopt = {.now_ms = time_now_ms(), .max_marker_reads = (size_t)-1};
    c = discover_epochs(src, d, NULL, 0, &dopt, &dsc, err);
    *before = json_array();
    for (size_t i = 0; c == SL_OK && i < n; i++) {
        const ckpt_entry *e = ckpt_find(view, folders[i]);
        int listed = 0;
        for (size_t k = 0; k < dsc.n && !listed; k++)
            listed = strcmp(dsc.folders[k].folder, folders[i]) == 0;
        if (!e && !listed) {
            c = err_set(err, SL_FOLDER_NOT_FOUND,
                        "folder %s is neither in the source of %s nor in its checkpoint",
                        folders[i], d->name);
            break;
        }
        const char *old = e ? e->state : "pending";
        if (strcmp(old, "running") == 0 && strcmp(new_state, "pending") != 0) {
            c = err_set(err, SL_USAGE,
                        "folder %s is running (batch %lld): retry or reset it instead",
                        folders[i], e ? (long long)e->batch_id : -1LL);
            break;
        }
        json_array_append_new(*before, json_pack("{s:s, s:s, s:I}", "folder", folders[i],
                                                 "state", old, "batch_id",
                                                 (json_int_t)(e ? e->batch_id : -1)));
    }
    pl_discovery_free(&dsc);
    return c;
}

static sl_code set_state(ops_ctx *ctx, const ops_request *req, ops_result *res,
                         const char *new_state, sl_err *err)
{
    pipeline_def *d = NULL;
    sl_code c = def_load(ctx, param_str(req, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    size_t n;
    char **folders = folders_of(req, &n);
    store *lake = NULL, *src = NULL;
    lease *l = NULL;
    ckpt_view view = {0};
    json_t *before = NULL;
    if (n == 0)
        c = err_set(err, SL_USAGE, "name at least one folder");
    if (c == SL_OK)
        c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK)
        c = store_open(d->source.url, &src, err);
    if (c == SL_OK && !req->dry_run) {
        char owner[200];
        snprintf(owner, sizeof owner, "%s (%s)",
                 ctx->operator_name ? ctx->operator_name : "?", new_state);
        lease_holder holder;
        memset(&holder, 0, sizeof holder);
        c = lease_acquire(lake, d->name, owner, time_now_ms(), OPS_LEASE_TTL_MS, &l,
                          &holder, err);
    }
    if (c == SL_OK)
        c = folders_check(lake, src, d, folders, n, new_state, &before, &view, err);
    if (c == SL_OK) {
        res->before = json_incref(before);
        if (req->dry_run) {
            res->output = json_pack("{s:s, s:s, s:b, s:O}", "pipeline", d->name, "state",
                                    new_state, "dry_run", 1, "folders", before);
        } else {
            ckpt_entry *rows = sl_calloc(n, sizeof *rows);
            for (size_t i = 0; i < n; i++) {
                ckpt_entry_init(&rows[i]);
                const ckpt_entry *e = ckpt_find(&view, folders[i]);
                rows[i].folder = folders[i];
                rows[i].state = (char *)new_state;
                rows[i].epoch = e ? e->epoch : strtoll(folders[i], NULL, 10);
                /* A skip or a mark keeps the batch id it had, so a retry of the
                 * same batch is still recognised; a reset forgets it. */
                rows[i].batch_id = e && strcmp(new_state, "pending") ? e->batch_id : -1;
                rows[i].message = (char *)req->reason;
                rows[i].operator_name = (char *)ctx->operator_name;
                rows[i].run_id = (char *)ctx->session_id;
            }
            int64_t version = -1;
            c = ckpt_record(lake, d->name, rows, n, NULL, 0, NULL, &version, NULL, err);
            free(rows);
            if (c == SL_OK) {
                res->after = json_pack("{s:s, s:I}", "state", new_state,
                                       "checkpoint_version", (json_int_t)version);
                res->output = json_pack("{s:s, s:s, s:O, s:I}", "pipeline", d->name,
                                        "state", new_state, "folders", before,
                                        "checkpoint_version", (json_int_t)version);
            }
        }
    }
    if (l) {
        sl_err ignored = {0};
        lease_release(lake, l, &ignored);
        lease_free(l);
    }
    json_decref(before);
    ckpt_view_free(&view);
    store_close(src);
    store_close(lake);
    strs_free(folders, n);
    pipeline_def_free(d);
    return c;
}

sl_code ops_skip_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    return set_state(ctx, req, res, "skipped", err);
}

sl_code ops_mark_processed_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                               sl_err *err)
{
    return set_state(ctx, req, res, "processed", err);
}

sl_code ops_reset_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err)
{
    return set_state(ctx, req, res, "pending", err);
}
