/* The console's pipeline interventions (see pipeact.h). The order is that
 * of intervene.c: the request is built on the UI thread from the target,
 * exactly as the CLI builds it (cli/cmd_pipeline.c); its dry run runs on the
 * worker through ops_preview (reads only, audits nothing); the dialog shows
 * it with Cancel as the default; the answer goes to ops (or, for run and
 * retry, to the live run's thread), so the audit log has it either way. */
#include "tui/pipeact.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/buf.h"
#include "tui/dialog.h"
#include "tui/fmt.h"
#include "tui/liverun.h"

/* What the operator confirms or cancels: one ops call. */
typedef struct pa_plan {
    action_id id;
    const char *ops_name;
    char *pipeline;
    char *target; /* the ops target */
    json_t *params;
    char *what; /* "2 folders of orders", for messages */
} pa_plan;

static void plan_free(void *p)
{
    pa_plan *pl = p;
    if (!pl)
        return;
    free(pl->pipeline);
    free(pl->target);
    json_decref(pl->params);
    free(pl->what);
    free(pl);
}

static const char *ops_name_of(action_id id)
{
    switch (id) {
    case ACT_RUN:
        return "run";
    case ACT_RETRY:
        return "retry";
    case ACT_SKIP:
        return "skip";
    case ACT_MARK:
        return "mark-processed";
    case ACT_RESET:
        return "reset";
    case ACT_ROLLBACK:
        return "rollback-run";
    case ACT_SKIP_FILE:
        return "skip-file";
    default:
        return NULL;
    }
}

/* The state a folder action sets (ops_pipeline.c's set_state). */
static const char *new_state_of(action_id id)
{
    return id == ACT_SKIP ? "skipped" : id == ACT_MARK ? "processed" : "pending";
}

/* ---- building the request (UI thread) ------------------------------------- */

static sl_code pick_pipeline(app *a, const char *name, char **out, sl_err *err)
{
    if (name && *name) {
        *out = sl_strdup(name);
        return SL_OK;
    }
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    if (n == 0)
        return err_set(err, SL_PIPELINE_UNKNOWN,
                       "no pipeline is configured (sluice.json \"pipelines\")");
    if (n > 1)
        return err_set(err, SL_PIPELINE_UNKNOWN,
                       "%zu pipelines are configured: select a folder of one", n);
    *out = sl_strdup(defs[0]->name);
    return SL_OK;
}

static sl_code plan_build(app *a, action_id id, const pipeact_target *t, pa_plan **out,
                          sl_err *err)
{
    *out = NULL;
    pa_plan *p = sl_calloc(1, sizeof *p);
    p->id = id;
    p->ops_name = ops_name_of(id);
    sl_code c = pick_pipeline(a, t->pipeline, &p->pipeline, err);
    if (c != SL_OK) {
        plan_free(p);
        return c;
    }
    p->params = json_object();
    switch (id) {
    case ACT_RUN:
        if (t->until_step && strcmp(t->until_step, "ingest") &&
            strcmp(t->until_step, "merge") && strcmp(t->until_step, "aggregate")) {
            plan_free(p);
            return err_set(err, SL_USAGE,
                           "run until ingest, merge or aggregate, not '%s'",
                           t->until_step);
        }
        p->target = sl_strdup(p->pipeline);
        if (t->nfolders)
            json_object_set_new(p->params, "folder", json_string(t->folders[0]));
        if (t->until_step)
            json_object_set_new(p->params, "until_step", json_string(t->until_step));
        p->what = t->nfolders ? sl_asprintf("folder %s of %s", t->folders[0], p->pipeline)
                              : sl_strdup(p->pipeline);
        break;
    case ACT_RETRY:
    case ACT_ROLLBACK:
        if (!t->run_id || !*t->run_id) {
            plan_free(p);
            return err_set(err, SL_USAGE,
                           "%s needs a run: select a failed folder or a run",
                           ops_name_of(id));
        }
        p->target = sl_strdup(t->run_id);
        json_object_set_new(p->params, "pipeline", json_string(p->pipeline));
        if (id == ACT_ROLLBACK)
            json_object_set_new(p->params, "cascade", json_false());
        p->what = sl_asprintf("run %s of %s", t->run_id, p->pipeline);
        break;
    case ACT_SKIP_FILE: { /* as `sluice skip-file F/FILE...` */
        if (!t->nfiles) {
            plan_free(p);
            return err_set(
                err, SL_USAGE,
                "skip-file needs a file: open a folder (Enter) and select one");
        }
        json_t *files = json_array();
        sl_buf target = {0};
        for (size_t i = 0; i < t->nfiles; i++) {
            json_array_append_new(files, json_string(t->files[i]));
            buf_appendf(&target, "%s%s", i ? "," : "", t->files[i]);
        }
        p->target = buf_steal(&target);
        json_object_set_new(p->params, "pipeline", json_string(p->pipeline));
        json_object_set_new(p->params, "files", files);
        p->what = t->nfiles == 1 ? sl_asprintf("file %s of %s", t->files[0], p->pipeline)
                                 : sl_asprintf("%zu files of %s", t->nfiles, p->pipeline);
        break;
    }
    default: { /* skip, mark-processed, reset: as `sluice skip F1 F2 ...` */
        if (!t->nfolders) {
            plan_free(p);
            return err_set(err, SL_USAGE, "%s needs folders: select or mark some",
                           ops_name_of(id));
        }
        json_t *folders = json_array();
        sl_buf target = {0};
        for (size_t i = 0; i < t->nfolders; i++) {
            json_array_append_new(folders, json_string(t->folders[i]));
            buf_appendf(&target, "%s%s", i ? "," : "", t->folders[i]);
        }
        p->target = buf_steal(&target);
        json_object_set_new(p->params, "pipeline", json_string(p->pipeline));
        json_object_set_new(p->params, "folders", folders);
        p->what = t->nfolders == 1
                      ? sl_asprintf("folder %s of %s", t->folders[0], p->pipeline)
                      : sl_asprintf("%zu folders of %s", t->nfolders, p->pipeline);
        break;
    }
    }
    /* A runbook's step: its run links the audit rows of what it asked for. */
    if (t->runbook_run)
        json_object_set_new(p->params, "runbook_run", json_string(t->runbook_run));
    *out = p;
    return SL_OK;
}

/* ---- the preview, on the worker ------------------------------------------- */

typedef struct pa_line {
    theme_elem e;
    char *text;
} pa_line;

typedef struct preview_job {
    tui_job base;
    pa_plan *plan;
    size_t nfolders; /* for the typed target "N folders" */
    /* results */
    char *title, *expect, *confirm;
    pa_line *lines;
    size_t nlines;
} preview_job;

static void line_add(preview_job *j, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line_add(preview_job *j, theme_elem e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    j->lines = sl_realloc(j->lines, (j->nlines + 1) * sizeof *j->lines);
    j->lines[j->nlines].e = e;
    j->lines[j->nlines].text = text ? text : sl_strdup("?");
    j->nlines++;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static long long jint(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* run / retry: the runner's dry run says which folders it would take. */
static void run_lines(preview_job *j, const json_t *rep)
{
    const pa_plan *p = j->plan;
    const char *until = json_string_value(json_object_get(p->params, "until_step"));
    if (p->id == ACT_RETRY)
        line_add(j, EL_NORMAL, "Runs again the folder run %s left failed, in the same",
                 p->target);
    else if (json_object_get(p->params, "folder"))
        line_add(j, EL_NORMAL, "Runs pipeline %s on folder %s%s%s.", p->pipeline,
                 jstr(p->params, "folder"), until ? " until step " : "",
                 until ? until : "");
    else
        line_add(j, EL_NORMAL,
                 "Runs pipeline %s on its pending folders, oldest first%s%s.",
                 p->pipeline, until ? ", until step " : "", until ? until : "");
    if (p->id == ACT_RETRY)
        line_add(j, EL_NORMAL, "%s",
                 "batch: the steps it finished are kept, not redone.");
    line_add(j, EL_NORMAL, "%s",
             "The run goes on its own thread; the Run view follows it, C stops it.");
    line_add(j, EL_NORMAL, "%s", "");
    const json_t *folders = json_object_get(rep, "folders");
    size_t n = json_array_size(folders);
    if (!n)
        line_add(j, EL_WARNING, "%s", "No folder is ready for this run now.");
    else
        line_add(j, EL_NORMAL, "Folders it takes (%zu):", n);
    size_t i;
    json_t *f;
    json_array_foreach(folders, i, f)
        line_add(j, EL_NORMAL, "  %s  batch %lld  %lld file%s%s", jstr(f, "folder"),
                 jint(f, "batch_id"), jint(f, "files"), jint(f, "files") == 1 ? "" : "s",
                 json_is_true(json_object_get(f, "recovered")) ? "  (resumed)" : "");
    const char *blocked = json_string_value(json_object_get(rep, "blocked_by"));
    if (blocked)
        line_add(j, EL_FAILED,
                 "Blocked by failed folder %s: later folders wait until it is retried or "
                 "skipped.",
                 blocked);
    line_add(j, EL_NORMAL, "Pending after it: %lld · waiting for a marker: %lld",
             jint(rep, "pending_left"), jint(rep, "waiting"));
    const json_t *lease = json_object_get(rep, "lease");
    if (lease) {
        char *text = json_dumps(lease, JSON_COMPACT);
        line_add(j, EL_WARNING, "The lease is held by another runner: %s",
                 text ? text : "?");
        free(text);
    }
}

/* skip / mark-processed / reset: each folder's state before and after. */
static void state_lines(preview_job *j, const json_t *out)
{
    const pa_plan *p = j->plan;
    const char *to = new_state_of(p->id);
    switch (p->id) {
    case ACT_SKIP:
        line_add(j, EL_NORMAL, "%s",
                 "The runner passes over skipped folders: their data is not loaded.");
        break;
    case ACT_MARK:
        line_add(j, EL_NORMAL, "%s",
                 "Marked processed without running: their rows never reach the tables.");
        break;
    default:
        line_add(j, EL_NORMAL, "%s",
                 "Pending again: the next run loads them (a batch it had is forgotten).");
        break;
    }
    line_add(j, EL_NORMAL, "%s",
             "One checkpoint row per folder is written, all in one commit.");
    line_add(j, EL_NORMAL, "%s", "");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(out, "folders"), i, f)
    {
        char when[32] = "";
        long long epoch = strtoll(jstr(f, "folder"), NULL, 10);
        fmt_time_short((int64_t)epoch * 1000, when, sizeof when);
        const char *from = jstr(f, "state");
        char batch[32] = "";
        if (jint(f, "batch_id") >= 0)
            snprintf(batch, sizeof batch, "  batch %lld", jint(f, "batch_id"));
        line_add(j, strcmp(from, to) == 0 ? EL_DIM : EL_NORMAL, "  %s  %s  %s → %s%s",
                 jstr(f, "folder"), when, from, to, batch);
    }
}

/* skip-file: the folder loads without these files. */
static void skip_file_lines(preview_job *j, const json_t *out)
{
    line_add(j, EL_NORMAL, "Folder %s is loaded without these files (they stay in",
             jstr(out, "folder"));
    line_add(j, EL_NORMAL, "%s",
             "the source; the checkpoint row records them until a reset).");
    line_add(j, EL_NORMAL, "%s",
             "Then retry (t) or run (x) the folder: the marker's row count is not");
    line_add(j, EL_NORMAL, "%s", "checked for it, as the delivery is no longer whole.");
    line_add(j, EL_NORMAL, "%s", "");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(out, "excluded_files"), i, f)
        line_add(j, EL_WARNING, "  - %s", json_string_value(f));
}

static void rollback_lines(preview_job *j, const json_t *out, const char *dependents)
{
    const pa_plan *p = j->plan;
    line_add(j, EL_NORMAL, "Restores every table run %s changed to its version",
             p->target);
    line_add(j, EL_NORMAL, "%s",
             "before the run (a RESTORE commit each); its folders become pending.");
    if (dependents) {
        line_add(j, EL_FAILED, "WARNING: %s", dependents);
        line_add(j, EL_FAILED, "%s",
                 "They are rolled back too (cascade): runs undone below.");
    }
    char *runs = json_dumps(json_object_get(out, "runs"), JSON_COMPACT);
    line_add(j, EL_NORMAL, "Runs undone: %s", runs ? runs : "?");
    free(runs);
    const json_t *tables = json_object_get(out, "tables");
    const json_t *folders = json_object_get(out, "folders");
    line_add(j, EL_NORMAL, "Tables restored: %zu · folders back to pending: %zu",
             json_array_size(tables), json_array_size(folders));
    line_add(j, EL_NORMAL, "%s", "");
    size_t i;
    json_t *t;
    json_array_foreach((json_t *)tables, i, t)
        line_add(j, EL_NORMAL, "  %-28s version %lld → as of version %lld",
                 jstr(t, "table"), jint(t, "version"), jint(t, "restore_to"));
    json_array_foreach((json_t *)folders, i, t)
        line_add(j, EL_NORMAL, "  folder %s → pending", json_string_value(t));
}

static void preview_run(tui_job *job, session *sess)
{
    preview_job *j = (preview_job *)job;
    pa_plan *p = j->plan;
    ops_request req = {.target = p->target, .params = p->params};
    ops_result res;
    job->code = ops_preview(&sess->ops, p->ops_name, &req, &res, &job->err);
    char *dependents = NULL;
    if (job->code == SL_ROLLBACK_DEPENDENT && p->id == ACT_ROLLBACK &&
        strstr(job->err.msg, "later runs committed")) {
        /* Later runs built on the run's tables: show the cascade, in red, and
         * confirm that (the CLI's --cascade). */
        dependents = sl_strdup(job->err.msg);
        ops_result_clear(&res);
        json_object_set_new(p->params, "cascade", json_true());
        err_clear(&job->err);
        job->code = ops_preview(&sess->ops, p->ops_name, &req, &res, &job->err);
    }
    if (job->code == SL_OK) {
        switch (p->id) {
        case ACT_RUN:
        case ACT_RETRY:
            run_lines(j, res.output);
            break;
        case ACT_ROLLBACK:
            rollback_lines(j, res.output, dependents);
            break;
        case ACT_SKIP_FILE:
            skip_file_lines(j, res.output);
            break;
        default:
            state_lines(j, res.output);
            break;
        }
    }
    free(dependents);
    ops_result_clear(&res);
}

static void preview_free(tui_job *job)
{
    preview_job *j = (preview_job *)job;
    plan_free(j->plan);
    free(j->title);
    free(j->expect);
    free(j->confirm);
    for (size_t i = 0; i < j->nlines; i++)
        free(j->lines[i].text);
    free(j->lines);
    free(j);
}

/* Title, the text to type and the Confirm word of the dialog. */
static void dialog_words(preview_job *j)
{
    const pa_plan *p = j->plan;
    switch (p->id) {
    case ACT_RUN:
        j->title = sl_asprintf("Run %s", p->what);
        j->expect = sl_strdup(p->pipeline);
        j->confirm = sl_strdup("Run");
        break;
    case ACT_RETRY:
        j->title = sl_asprintf("Retry %s", p->what);
        j->expect = sl_strdup(p->target);
        j->confirm = sl_strdup("Retry");
        break;
    case ACT_ROLLBACK:
        j->title = sl_asprintf("Roll back %s", p->what);
        j->expect = sl_strdup(p->target);
        j->confirm = sl_strdup("Roll back");
        break;
    case ACT_SKIP_FILE:
        j->title = sl_asprintf("Skip %s", p->what);
        j->expect = sl_strdup(p->target);
        j->confirm = sl_strdup("Skip file");
        break;
    default: {
        static const char *const verbs[] = {"Skip", "Mark processed", "Reset"};
        int k = p->id == ACT_SKIP ? 0 : p->id == ACT_MARK ? 1 : 2;
        j->title = sl_asprintf("%s %s", verbs[k], p->what);
        j->expect = j->nfolders == 1 ? sl_strdup(p->target)
                                     : sl_asprintf("%zu folders", j->nfolders);
        j->confirm = sl_strdup(k == 1 ? "Mark" : verbs[k]);
        break;
    }
    }
}

/* ---- the answer ------------------------------------------------------------ */

typedef struct answer_job {
    tui_job base;
    pa_plan *plan;
    char *target; /* cancel: the pipeline (no plan) */
    char *reason;
    int confirmed;
    json_t *output;
    int64_t event_id;
} answer_job;

static void answer_run(tui_job *job, session *sess)
{
    answer_job *j = (answer_job *)job;
    ops_request req = {
        .target = j->plan->target,
        .reason = j->reason,
        .params = j->plan->params,
        .confirmed = j->confirmed,
        .cancelled = !j->confirmed,
    };
    ops_result res;
    job->code = ops_run(&sess->ops, j->plan->ops_name, &req, &res, &job->err);
    j->event_id = res.final_id ? res.final_id : res.requested_id;
    j->output = res.output;
    res.output = NULL;
    ops_result_clear(&res);
}

static void answer_free(tui_job *job)
{
    answer_job *j = (answer_job *)job;
    plan_free(j->plan);
    free(j->target);
    free(j->reason);
    json_decref(j->output);
    free(j);
}

static void done_message(app *a, const answer_job *j)
{
    const pa_plan *p = j->plan;
    const json_t *o = j->output;
    long long ev = (long long)j->event_id;
    if (p->id == ACT_ROLLBACK) {
        char *restored = json_dumps(json_object_get(o, "restored"), JSON_COMPACT);
        app_message(a, EL_OK,
                    "rolled back %s: restored %s, %zu folders pending (audit #%lld)",
                    p->what, restored ? restored : "{}",
                    json_array_size(json_object_get(o, "folders")), ev);
        free(restored);
        return;
    }
    if (p->id == ACT_SKIP_FILE) {
        app_message(a, EL_OK,
                    "skipped %s: checkpoint version %lld (audit #%lld); t retries the "
                    "folder without it",
                    p->what, jint(o, "checkpoint_version"), ev);
        return;
    }
    static const char *const done[] = {"skipped", "marked processed", "reset to pending"};
    int k = p->id == ACT_SKIP ? 0 : p->id == ACT_MARK ? 1 : 2;
    app_message(a, EL_OK, "%s %s: checkpoint version %lld (audit #%lld)", done[k],
                p->what, jint(o, "checkpoint_version"), ev);
}

static void answer_deliver(tui_job *job, app *a)
{
    answer_job *j = (answer_job *)job;
    if (job->code == SL_OPS_CANCELLED) {
        app_message(a, EL_MESSAGE, "%s of %s cancelled: nothing changed (audit #%lld)",
                    j->plan->ops_name, j->plan->what, (long long)j->event_id);
    } else if (job->code != SL_OK) {
        app_error(a, &job->err);
    } else {
        done_message(a, j);
        app_broadcast(a, VIEW_EVENT_TABLE_CHANGED);
    }
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    job->free(job);
}

static void post_answer(app *a, pa_plan *plan, int confirmed, const char *reason)
{
    answer_job *j = sl_calloc(1, sizeof *j);
    j->base.run = answer_run;
    j->base.free = answer_free;
    j->base.deliver = answer_deliver;
    j->plan = plan;
    j->reason = reason && *reason ? sl_strdup(reason) : NULL;
    j->confirmed = confirmed;
    app_post(a, NULL, &j->base);
}

/* run and retry go to the live run's thread: the worker stays free for
 * the views while the run takes minutes. */
static void start_live(app *a, pa_plan *plan, const char *reason)
{
    ops_request req = {
        .target = plan->target, .reason = reason, .params = plan->params, .confirmed = 1};
    sl_err err = {0};
    if (liverun_start(app_liverun(a), plan->ops_name, &req, &err) != SL_OK) {
        app_error(a, &err);
    } else {
        app_push(a, view_run_new(a));
        app_message(a, EL_MESSAGE, "%s of %s started (C stops it after its step)",
                    plan->ops_name, plan->what);
    }
    plan_free(plan);
}

static void on_answer(app *a, void *ctx, int answer, const char *reason)
{
    pa_plan *plan = ctx;
    int confirmed = answer == DIALOG_CONFIRM;
    if (confirmed && (plan->id == ACT_RUN || plan->id == ACT_RETRY)) {
        start_live(a, plan, reason);
        return;
    }
    app_message(a, EL_MESSAGE,
                confirmed ? "%s of %s running…" : "%s of %s: recording the cancel…",
                plan->ops_name, plan->what);
    post_answer(a, plan, confirmed, reason);
}

static void preview_deliver(tui_job *job, app *a)
{
    preview_job *j = (preview_job *)job;
    if (job->code != SL_OK) {
        app_error(a, &job->err);
    } else {
        dialog_words(j);
        tui_dialog *d = dialog_new(j->title, j->expect, j->confirm);
        for (size_t i = 0; i < j->nlines; i++)
            dialog_add_line(d, j->lines[i].e, j->lines[i].text);
        app_dialog_open(a, d, on_answer, j->plan, plan_free);
        j->plan = NULL;
    }
    job->free(job);
}

/* ---- read-only: ops refuses again and audits the refusal ------------------- */

static void refusal_deliver(tui_job *job, app *a)
{
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    job->free(job);
}

static void refuse(app *a, pa_plan *plan)
{
    answer_job *j = sl_calloc(1, sizeof *j);
    j->base.run = answer_run;
    j->base.free = answer_free;
    j->base.deliver = refusal_deliver;
    j->plan = plan;
    j->confirmed = 1; /* asked for, not cancelled: ops refuses it as read-only */
    app_post(a, NULL, &j->base);
}

/* ---- cancel: stop the live run --------------------------------------------- */

typedef struct stop_ctx {
    char *what;     /* "run orders (run 7e2b…)" */
    char *pipeline; /* for ops "cancel" */
    int other;      /* not this console's live run */
} stop_ctx;

static void stop_free(void *p)
{
    stop_ctx *s = p;
    if (!s)
        return;
    free(s->what);
    free(s->pipeline);
    free(s);
}

/* ops "cancel": audited with the lease holder it was aimed at, and a
 * request in the lake, so a run this console did not start stops too. */
static void note_run(tui_job *job, session *sess)
{
    answer_job *j = (answer_job *)job;
    ops_request req = {
        .target = j->target, .reason = j->reason, .cancelled = !j->confirmed};
    ops_result res;
    job->code = ops_run(&sess->ops, "cancel", &req, &res, &job->err);
    j->event_id = res.final_id ? res.final_id : res.requested_id;
    ops_result_clear(&res);
}

static void note_deliver(tui_job *job, app *a)
{
    if (job->code != SL_OK && job->code != SL_OPS_CANCELLED)
        app_error(a, &job->err);
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    job->free(job);
}

static void on_stop(app *a, void *ctx, int answer, const char *reason)
{
    stop_ctx *s = ctx;
    int confirmed = answer == DIALOG_CONFIRM;
    /* At once in this process; the audited request in the lake follows on
     * the worker (the run's own audit row says how it ended). Cancelling
     * the dialog is audited too (requested -> refused). */
    if (confirmed && !s->other)
        liverun_cancel(app_liverun(a));
    answer_job *j = sl_calloc(1, sizeof *j);
    j->base.run = note_run;
    j->base.free = answer_free;
    j->base.deliver = note_deliver;
    j->target = sl_strdup(s->pipeline);
    j->reason = sl_strdup(reason ? reason : "");
    j->confirmed = confirmed;
    app_post(a, NULL, &j->base);
    if (confirmed)
        app_message(a, EL_WARNING, "stopping %s after its current step…", s->what);
    else
        app_message(a, EL_MESSAGE, "%s goes on", s->what);
    stop_free(s);
}

/* No live run in this console: the request goes to whichever process holds
 * the pipeline's lease (a scheduled run, another console), through the
 * lake; ops says so when nothing runs. */
static sl_code open_stop_other(app *a, const char *pipeline, sl_err *err)
{
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    if (!pipeline && n == 1)
        pipeline = defs[0]->name;
    if (!pipeline) {
        app_message(a, EL_MESSAGE,
                    n ? "no run in this console; select a pipeline (Overview) to stop "
                        "its run"
                      : "no run in progress");
        return SL_OK;
    }
    if (app_read_only(a))
        return err_set(err, SL_OPS_READ_ONLY,
                       "'cancel' stops a run: this console is read-only");
    stop_ctx *s = sl_calloc(1, sizeof *s);
    s->what = sl_asprintf("run of %s", pipeline);
    s->pipeline = sl_strdup(pipeline);
    s->other = 1;
    char *title = sl_asprintf("Stop the run of %s", pipeline);
    tui_dialog *d = dialog_new(title, NULL, "Stop run");
    free(title);
    dialog_add_line(d, EL_NORMAL,
                    "No run was started from this console: whichever process holds");
    dialog_add_line(d, EL_NORMAL,
                    "the pipeline's lease (a scheduled run, another console) is asked,");
    dialog_add_line(d, EL_NORMAL,
                    "through the lake, to stop after its current step. Nothing is");
    dialog_add_line(d, EL_NORMAL, "half-committed; later folders stay pending.");
    app_dialog_open(a, d, on_stop, s, stop_free);
    return SL_OK;
}

static sl_code open_stop(app *a, const pipeact_target *t, sl_err *err)
{
    liverun *lr = app_liverun(a);
    if (!liverun_active(lr))
        return open_stop_other(a, t ? t->pipeline : NULL, err);
    if (app_read_only(a))
        return err_set(err, SL_OPS_READ_ONLY,
                       "'cancel' stops a run: this console is read-only");
    liverun_view lv;
    liverun_snapshot(lr, &lv);
    stop_ctx *s = sl_calloc(1, sizeof *s);
    s->what = sl_asprintf("%s of %s%s%s", lv.action, lv.target,
                          lv.run_id[0] ? " as run " : "", lv.run_id);
    s->pipeline = sl_strdup(lv.pipeline);
    char *title = sl_asprintf("Stop the %s", s->what);
    tui_dialog *d = dialog_new(title, NULL, "Stop run");
    free(title);
    dialog_add_line(d, EL_NORMAL,
                    "The run stops after its current step: a step in flight finishes");
    dialog_add_line(
        d, EL_NORMAL,
        "(its commit lands or not, never half); later steps and folders stay");
    dialog_add_line(d, EL_NORMAL, "pending for the next run.");
    dialog_add_line(d, EL_NORMAL, "");
    for (size_t i = 0; i < lv.nsteps; i++) {
        char *line =
            sl_asprintf("  %s  %-10s %s (attempt %d)", lv.steps[i].folder,
                        lv.steps[i].step, lv.steps[i].state, lv.steps[i].attempt);
        dialog_add_line(
            d, strcmp(lv.steps[i].state, "failed") == 0 ? EL_FAILED : EL_NORMAL, line);
        free(line);
    }
    liverun_view_free(&lv);
    app_dialog_open(a, d, on_stop, s, stop_free);
    return SL_OK;
}

/* ---- entry ------------------------------------------------------------------ */

sl_code pipeact_open(app *a, action_id id, const pipeact_target *t, sl_err *err)
{
    if (id == ACT_CANCEL)
        return open_stop(a, t, err);
    if (!ops_name_of(id))
        return err_set(err, SL_INTERNAL, "action %s is not a pipeline intervention",
                       actions_get(id) ? actions_get(id)->name : "?");
    pa_plan *plan = NULL;
    sl_code c = plan_build(a, id, t, &plan, err);
    if (c != SL_OK)
        return c;
    if (app_read_only(a)) {
        const char *name = plan->ops_name;
        refuse(a, plan);
        return err_set(
            err, SL_OPS_READ_ONLY,
            "'%s' changes data and this console is read-only (refusal audited)", name);
    }
    if ((id == ACT_RUN || id == ACT_RETRY) && liverun_active(app_liverun(a))) {
        plan_free(plan);
        return err_set(err, SL_USAGE, "a run is already going (w shows it; C stops it)");
    }
    preview_job *j = sl_calloc(1, sizeof *j);
    j->base.run = preview_run;
    j->base.free = preview_free;
    j->base.deliver = preview_deliver;
    j->plan = plan;
    j->nfolders = t->nfolders;
    app_post(a, NULL, &j->base);
    app_message(a, EL_MESSAGE, "preparing the %s preview of %s…", plan->ops_name,
                plan->what);
    return SL_OK;
}
