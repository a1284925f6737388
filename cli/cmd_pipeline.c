/* The pipeline commands: run, run show, retry, skip, mark-processed, reset,
 * status, runs. Changes go through ops (audited, read-only refused); the
 * read-only commands read the checkpoint and runs tables directly. */
#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runs.h"
#include "backend/pipeline/status.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static sl_code need_config(cli_ctx *ctx, sl_err *err)
{
    if (!ctx->sess || !ctx->sess->cfg)
        return err_set(
            err, SL_CONFIG_NOT_FOUND,
            "pipeline commands need a sluice.json (-c FILE) listing \"pipelines\"");
    return SL_OK;
}

/* --pipeline NAME, else the only pipeline. */
static sl_code pipeline_pick(cli_ctx *ctx, const char *name, pipeline_def **d,
                             sl_err *err)
{
    sl_code c = need_config(ctx, err);
    if (c != SL_OK)
        return c;
    const config *cfg = ctx->sess->cfg;
    if (name)
        return config_pipeline_load(cfg, name, d, err);
    pipeline_def **all = NULL;
    size_t n = 0;
    c = config_pipelines_load_all(cfg, &all, &n, err);
    if (c != SL_OK)
        return c;
    if (n != 1) {
        config_pipelines_free(all, n);
        return err_set(err, SL_PIPELINE_UNKNOWN,
                       "%zu pipelines are configured: name one with --pipeline NAME", n);
    }
    *d = all[0];
    all[0] = NULL;
    config_pipelines_free(all, n);
    return SL_OK;
}

static void print_error_line(FILE *o, const json_t *e)
{
    if (!e)
        return;
    fprintf(o, "    %s: %s\n    hint: %s\n",
            json_string_value(json_object_get(e, "code")),
            json_string_value(json_object_get(e, "message")),
            json_string_value(json_object_get(e, "hint")));
}

static void print_report(FILE *o, const json_t *rep)
{
    if (!rep)
        return;
    fprintf(o, "run %s of %s%s\n", json_string_value(json_object_get(rep, "run_id")),
            json_string_value(json_object_get(rep, "pipeline")),
            json_is_true(json_object_get(rep, "dry_run")) ? " (dry run: nothing written)"
                                                          : "");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rep, "folders"), i, f)
    {
        fprintf(o, "  %-14s batch %-5lld %s%s\n",
                json_string_value(json_object_get(f, "folder")),
                (long long)json_integer_value(json_object_get(f, "batch_id")),
                json_string_value(json_object_get(f, "state")),
                json_is_true(json_object_get(f, "recovered")) ? " (resumed)" : "");
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(f, "steps"), k, s)
        {
            fprintf(o, "    %-10s %-9s attempts %lld",
                    json_string_value(json_object_get(s, "step")),
                    json_string_value(json_object_get(s, "state")),
                    (long long)json_integer_value(json_object_get(s, "attempts")));
            json_int_t v = json_integer_value(json_object_get(s, "version"));
            if (v >= 0)
                fprintf(o, "  version %lld", (long long)v);
            json_int_t out = json_integer_value(json_object_get(s, "rows_out"));
            if (out >= 0)
                fprintf(o, "  rows %lld", (long long)out);
            fputc('\n', o);
        }
        print_error_line(o, json_object_get(f, "error"));
    }
    json_t *lease = json_object_get(rep, "lease");
    if (lease) {
        char *t = json_dumps(lease, JSON_COMPACT);
        fprintf(o, "  lease held by another runner: %s\n", t ? t : "?");
        free(t);
    }
    fprintf(o, "processed %lld, pending left %lld, waiting %lld\n",
            (long long)json_integer_value(json_object_get(rep, "processed")),
            (long long)json_integer_value(json_object_get(rep, "pending_left")),
            (long long)json_integer_value(json_object_get(rep, "waiting")));
}

/* One ops call; prints output (JSON or text via print). */
static sl_code ops_call(cli_ctx *ctx, const char *action, ops_request *req,
                        void (*print)(FILE *, const json_t *), sl_err *err)
{
    ops_result res;
    sl_code c = ops_run(&ctx->sess->ops, action, req, &res, err);
    if (res.output) {
        if (ctx->json) {
            cli_print_json(ctx, json_incref(res.output));
            if (c != SL_OK)
                ctx->reported = 1;
        } else if (print) {
            print(ctx->out, res.output);
        }
    }
    ops_result_clear(&res);
    return c;
}

static sl_code run_show(cli_ctx *ctx, const char *run_id, sl_err *err);

sl_code cmd_run(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos >= 1 && strcmp(a->pos[0], "show") == 0) {
        if (a->npos != 2)
            return err_set(err, SL_USAGE, "usage: sluice run show RUN_ID");
        return run_show(ctx, a->pos[1], err);
    }
    if (a->npos > 1)
        return err_set(
            err, SL_USAGE,
            "usage: sluice run [PIPELINE] [--folder F] [--until-step S] [--dry-run]");
    pipeline_def *d = NULL;
    sl_code c =
        pipeline_pick(ctx, a->npos ? a->pos[0] : cli_args_get(a, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    const char *until = cli_args_get(a, "until-step");
    if (until && strcmp(until, "ingest") && strcmp(until, "merge") &&
        strcmp(until, "aggregate")) {
        pipeline_def_free(d);
        return err_set(err, SL_USAGE,
                       "--until-step is ingest, merge or aggregate, not %s", until);
    }
    json_t *params = json_object();
    if (cli_args_get(a, "folder"))
        json_object_set_new(params, "folder", json_string(cli_args_get(a, "folder")));
    if (until)
        json_object_set_new(params, "until_step", json_string(until));
    ops_request req = {.target = d->name,
                       .reason = cli_args_get(a, "reason"),
                       .params = params,
                       .dry_run = cli_args_has(a, "dry-run")};
    c = ops_call(ctx, "run", &req, print_report, err);
    json_decref(params);
    pipeline_def_free(d);
    return c;
}

sl_code cmd_retry(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(
            err, SL_USAGE,
            "usage: sluice retry RUN_ID [--pipeline P] --reason R [--dry-run]");
    pipeline_def *d = NULL;
    sl_code c = pipeline_pick(ctx, cli_args_get(a, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    json_t *params = json_pack("{s:s}", "pipeline", d->name);
    ops_request req = {.target = a->pos[0],
                       .reason = cli_args_get(a, "reason"),
                       .params = params,
                       .dry_run = cli_args_has(a, "dry-run")};
    c = ops_call(ctx, "retry", &req, print_report, err);
    json_decref(params);
    pipeline_def_free(d);
    return c;
}

static void print_state_change(FILE *o, const json_t *out)
{
    const char *state = json_string_value(json_object_get(out, "state"));
    int dry = json_is_true(json_object_get(out, "dry_run"));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(out, "folders"), i, f)
        fprintf(o, "%s %s: %s -> %s\n", dry ? "would set" : "set",
                json_string_value(json_object_get(f, "folder")),
                json_string_value(json_object_get(f, "state")), state);
    if (dry)
        fputs("dry run: nothing written\n", o);
}

/* skip / mark-processed / reset: FOLDER... --reason R [--yes] [--dry-run]. */
static sl_code state_command(cli_ctx *ctx, const char *action, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos < 1)
        return err_set(
            err, SL_USAGE,
            "usage: sluice %s FOLDER... [--pipeline P] --reason R [--dry-run] [--yes]",
            action);
    pipeline_def *d = NULL;
    sl_code c = pipeline_pick(ctx, cli_args_get(a, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    json_t *folders = json_array();
    sl_buf target = {0};
    for (size_t i = 0; i < a->npos; i++) {
        json_array_append_new(folders, json_string(a->pos[i]));
        buf_appendf(&target, "%s%s", i ? "," : "", a->pos[i]);
    }
    json_t *params = json_pack("{s:s, s:o}", "pipeline", d->name, "folders", folders);
    ops_request req = {.target = target.data,
                       .reason = cli_args_get(a, "reason"),
                       .params = params,
                       .dry_run = cli_args_has(a, "dry-run"),
                       .confirmed = cli_args_has(a, "yes")};
    /* Unconfirmed: show what would change, then let ops refuse (and audit). */
    if (!req.dry_run && !req.confirmed && ctx->sess->ops.cfg) {
        sl_err perr = {0};
        ops_result pres;
        if (ops_preview(&ctx->sess->ops, action, &req, &pres, &perr) == SL_OK &&
            pres.output && !ctx->json) {
            print_state_change(ctx->out, pres.output);
            fprintf(ctx->out, "not changed: pass --yes to %s these folders\n", action);
        }
        ops_result_clear(&pres);
    }
    c = ops_call(ctx, action, &req, print_state_change, err);
    json_decref(params);
    buf_free(&target);
    pipeline_def_free(d);
    return c;
}

sl_code cmd_skip(cli_ctx *ctx, sl_err *err)
{
    return state_command(ctx, "skip", err);
}

sl_code cmd_mark_processed(cli_ctx *ctx, sl_err *err)
{
    return state_command(ctx, "mark-processed", err);
}

sl_code cmd_reset(cli_ctx *ctx, sl_err *err)
{
    return state_command(ctx, "reset", err);
}

static void print_rollback(FILE *o, const json_t *out)
{
    int dry = json_is_true(json_object_get(out, "dry_run"));
    char *runs = json_dumps(json_object_get(out, "runs"), JSON_COMPACT);
    fprintf(o, "%s runs %s\n", dry ? "would roll back" : "rolled back",
            runs ? runs : "?");
    free(runs);
    size_t i;
    json_t *t;
    json_t *restored = json_object_get(out, "restored");
    json_array_foreach(json_object_get(out, "tables"), i, t)
    {
        const char *name = json_string_value(json_object_get(t, "table"));
        json_t *nv = json_object_get(restored, name);
        fprintf(o, "  %-32s version %lld -> as of version %lld", name,
                (long long)json_integer_value(json_object_get(t, "version")),
                (long long)json_integer_value(json_object_get(t, "restore_to")));
        if (nv)
            fprintf(o, " (RESTORE committed as version %lld)",
                    (long long)json_integer_value(nv));
        fputc('\n', o);
    }
    json_array_foreach(json_object_get(out, "folders"), i, t)
        fprintf(o, "  folder %s -> pending\n", json_string_value(t));
    if (dry)
        fputs("dry run: nothing written\n", o);
}

sl_code cmd_rollback_run(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(
            err, SL_USAGE,
            "usage: sluice rollback-run RUN_ID [--pipeline P] [--cascade] --reason R "
            "[--dry-run] [--yes]");
    pipeline_def *d = NULL;
    sl_code c = pipeline_pick(ctx, cli_args_get(a, "pipeline"), &d, err);
    if (c != SL_OK)
        return c;
    json_t *params = json_pack("{s:s, s:b}", "pipeline", d->name, "cascade",
                               cli_args_has(a, "cascade"));
    ops_request req = {.target = a->pos[0],
                       .reason = cli_args_get(a, "reason"),
                       .params = params,
                       .dry_run = cli_args_has(a, "dry-run"),
                       .confirmed = cli_args_has(a, "yes")};
    if (!req.dry_run && !req.confirmed) {
        sl_err perr = {0};
        ops_result pres;
        if (ops_preview(&ctx->sess->ops, "rollback-run", &req, &pres, &perr) == SL_OK &&
            pres.output && !ctx->json) {
            print_rollback(ctx->out, pres.output);
            fputs("not rolled back: pass --yes to roll these back\n", ctx->out);
        }
        ops_result_clear(&pres);
    }
    c = ops_call(ctx, "rollback-run", &req, print_rollback, err);
    json_decref(params);
    pipeline_def_free(d);
    return c;
}

/* ---- read-only: status, runs, run show, folders PIPELINE ------------------ */

static sl_code lake_open(const pipeline_def *d, session *s, store **lake, sl_err *err)
{
    sl_code c = store_open(d->lake_url, lake, err);
    if (c == SL_OK)
        store_set_log(*lake, s->log);
    return c;
}

static json_t *steps_json(const run_step *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char started[40] = "";
        if (s[i].started_ms >= 0)
            time_format_iso(s[i].started_ms, started, sizeof started);
        json_array_append_new(
            a,
            json_pack(
                "{s:s, s:s, s:s?, s:I, s:s, s:i, s:s, s:s?, s:s?, s:I, s:I, s:s?, "
                "s:I, s:I, s:s, s:I}",
                "run_id", s[i].run_id, "pipeline", s[i].pipeline, "folder", s[i].folder,
                "batch_id", (json_int_t)s[i].batch_id, "step", s[i].step, "attempt",
                s[i].attempt, "state", s[i].state, "error_code", s[i].error_code,
                "error_message", s[i].error_message, "rows_in", (json_int_t)s[i].rows_in,
                "rows_out", (json_int_t)s[i].rows_out, "table", s[i].table_name,
                "version_before", (json_int_t)s[i].version_before, "version_after",
                (json_int_t)s[i].version_after, "started", started, "duration_ms",
                (json_int_t)(s[i].finished_ms >= s[i].started_ms && s[i].started_ms >= 0
                                 ? s[i].finished_ms - s[i].started_ms
                                 : -1)));
    }
    return a;
}

static void print_steps(FILE *o, const run_step *s, size_t n)
{
    fprintf(o, "%-18s %-12s %-6s %-10s %-3s %-10s %-8s %s\n", "RUN", "FOLDER", "BATCH",
            "STEP", "TRY", "STATE", "VERSION", "ERROR");
    for (size_t i = 0; i < n; i++) {
        char v[24] = "-";
        if (s[i].version_after >= 0)
            snprintf(v, sizeof v, "%lld", (long long)s[i].version_after);
        fprintf(o, "%-18s %-12s %-6lld %-10s %-3d %-10s %-8s %s\n", s[i].run_id,
                s[i].folder ? s[i].folder : "-", (long long)s[i].batch_id, s[i].step,
                s[i].attempt, s[i].state, v, s[i].error_code ? s[i].error_code : "");
    }
}

static sl_code run_show(cli_ctx *ctx, const char *run_id, sl_err *err)
{
    pipeline_def *d = NULL;
    sl_code c = pipeline_pick(ctx, cli_args_get(ctx->args, "pipeline"), &d, err);
    store *lake = NULL;
    if (c == SL_OK)
        c = lake_open(d, ctx->sess, &lake, err);
    run_step *s = NULL;
    size_t n = 0;
    if (c == SL_OK)
        c = runs_load(lake, d->name, run_id, &s, &n, err);
    if (c == SL_OK && n == 0)
        c = err_set(err, SL_RUN_NOT_FOUND, "no run %s in pipeline %s", run_id, d->name);
    if (c == SL_OK) {
        if (ctx->json) {
            cli_print_json(ctx, json_pack("{s:s, s:s, s:o}", "run_id", run_id, "pipeline",
                                          d->name, "steps", steps_json(s, n)));
        } else {
            print_steps(ctx->out, s, n);
            for (size_t i = 0; i < n; i++)
                if (s[i].error_code)
                    fprintf(ctx->out, "\n%s of %s attempt %d: %s\n  %s\n  hint: %s\n",
                            s[i].step, s[i].folder ? s[i].folder : "-", s[i].attempt,
                            s[i].error_code, s[i].error_message ? s[i].error_message : "",
                            err_code_hint(err_code_from_name(s[i].error_code)));
        }
    }
    run_steps_free(s, n);
    store_close(lake);
    pipeline_def_free(d);
    return c;
}

sl_code cmd_runs(cli_ctx *ctx, sl_err *err)
{
    pipeline_def *d = NULL;
    const cli_args *a = ctx->args;
    sl_code c =
        pipeline_pick(ctx, a->npos ? a->pos[0] : cli_args_get(a, "pipeline"), &d, err);
    store *lake = NULL;
    if (c == SL_OK)
        c = lake_open(d, ctx->sess, &lake, err);
    run_step *s = NULL;
    size_t n = 0;
    if (c == SL_OK)
        c = runs_load(lake, d->name, NULL, &s, &n, err);
    if (c == SL_OK) {
        /* --failed: the failed attempts first, newest first. */
        size_t k = 0;
        run_step *shown = sl_calloc(n ? n : 1, sizeof *shown);
        int failed_only = cli_args_has(a, "failed");
        for (size_t i = n; i-- > 0;)
            if (!failed_only || strcmp(s[i].state, "failed") == 0)
                shown[k++] = s[i];
        if (ctx->json)
            cli_print_json(ctx, steps_json(shown, k));
        else
            print_steps(ctx->out, shown, k);
        free(shown); /* the rows are s's */
    }
    run_steps_free(s, n);
    store_close(lake);
    pipeline_def_free(d);
    return c;
}

/* Folder states: the source listed against the checkpoint. */
sl_code cli_pipeline_folders(cli_ctx *ctx, const pipeline_def *d, sl_err *err)
{
    pl_states ps;
    sl_code c = pl_states_load(d, ctx->sess->log, time_now_ms(), &ps, err);
    if (c == SL_OK) {
        json_t *arr = json_array();
        if (!ctx->json)
            fprintf(ctx->out, "%-14s %-24s %-10s %6s %10s %10s  %s\n", "FOLDER",
                    "EPOCH (UTC)", "STATE", "FILES", "BYTES", "ROWS", "RUN");
        for (size_t i = 0; i < ps.dsc.n; i++) {
            const pl_folder *f = &ps.dsc.folders[i];
            const ckpt_entry *e = ckpt_find(&ps.v, f->folder);
            int64_t rows = e ? e->rows_read : -1;
            json_array_append_new(
                arr,
                json_pack("{s:s, s:I, s:s, s:I, s:I, s:o, s:s?}", "folder", f->folder,
                          "epoch", (json_int_t)f->epoch, "state", f->state, "files",
                          (json_int_t)f->files, "bytes", (json_int_t)f->bytes, "rows",
                          rows >= 0 ? json_integer(rows) : json_null(), "run_id",
                          e ? e->run_id : NULL));
            if (!ctx->json) {
                char ep[40], size[32], r[24] = "-";
                time_format_iso(f->epoch * 1000, ep, sizeof ep);
                cli_human_bytes(f->bytes, size, sizeof size);
                if (rows >= 0)
                    snprintf(r, sizeof r, "%lld", (long long)rows);
                fprintf(ctx->out, "%-14s %-24s %-10s %6llu %10s %10s  %s%s%s\n",
                        f->folder, ep, f->state, (unsigned long long)f->files, size, r,
                        e && e->run_id ? e->run_id : "-", f->why ? "  " : "",
                        f->why ? f->why : "");
            }
        }
        if (ctx->json)
            cli_print_json(ctx, arr);
        else
            json_decref(arr);
    }
    pl_states_free(&ps);
    return c;
}

sl_code cmd_status(cli_ctx *ctx, sl_err *err)
{
    sl_code c = need_config(ctx, err);
    if (c != SL_OK)
        return c;
    pipeline_def **all = NULL;
    size_t n = 0;
    c = config_pipelines_load_all(ctx->sess->cfg, &all, &n, err);
    if (c != SL_OK)
        return c;
    json_t *arr = json_array();
    for (size_t i = 0; i < n && c == SL_OK; i++) {
        const pipeline_def *d = all[i];
        pl_states ps;
        int64_t now = time_now_ms();
        c = pl_states_load(d, ctx->sess->log, now, &ps, err);
        if (c == SL_OK) {
            pl_status st;
            pl_status_compute(d, &ps, now, &st);
            json_array_append_new(arr, pl_status_json(&st));
            const size_t *cnt = st.counts;
            if (!ctx->json)
                fprintf(ctx->out,
                        "%-16s %-8s pending %zu, waiting %zu, processed %zu, failed %zu, "
                        "skipped %zu%s\n",
                        d->name, st.health, cnt[PL_PENDING], cnt[PL_WAITING],
                        cnt[PL_PROCESSED], cnt[PL_FAILED], cnt[PL_SKIPPED],
                        st.lease_held ? " (lease held)" : "");
        }
        pl_states_free(&ps);
    }
    if (c == SL_OK && ctx->json)
        cli_print_json(ctx, arr);
    else
        json_decref(arr);
    config_pipelines_free(all, n);
    return c;
}
