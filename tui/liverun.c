/* The live run: one ops "run"/"retry" on a thread of its own, its progress
 * folded into a state the Run view copies under a mutex.
 *
 * Threads: the run thread calls ops_run with an ops context of its own (the
 * session's config and structured log are read-only or locked; the audit
 * log gets a SQLite connection of its own, as a second writer process
 * would). The runner's progress events arrive on the run thread and only
 * touch the state under the mutex; the UI thread reads it through
 * liverun_snapshot. The wake pipe turns readable on every change. */
#include "tui/liverun.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/pipeline/runner.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

struct liverun {
    session *sess;
    pthread_mutex_t mu;
    pthread_cond_t done_cv; /* signalled when the run thread finishes */
    pthread_t thread;
    int joinable; /* a finished or running thread not yet joined (UI thread only) */
    atomic_int cancel;
    int wake[2];
    /* the request, owned, for the run thread */
    char *req_target, *req_reason;
    json_t *req_params;
    int req_dry_run, req_confirmed;
    /* the state, under mu */
    int active, cancelling;
    char action[16], target[128], run_id[40], state[16];
    char pipeline[128]; /* the pipeline the run is of ("" when not known) */
    int64_t started_ms, finished_ms;
    sl_code code;
    sl_err err;
    liverun_step *steps;
    size_t nsteps, capsteps;
    size_t folders_done;
    char *log[LIVERUN_LOG_MAX]; /* ring: log[(log_head + i) % MAX], i < nlog */
    size_t log_head, nlog;
    uint64_t log_seq;
    liverun_observer observer;
    void *observer_ctx;
};

/* ---- state (callers hold mu) ---------------------------------------------- */

static void poke(liverun *lr)
{
    if (lr->wake[1] >= 0) {
        ssize_t n = write(lr->wake[1], "x", 1);
        (void)n; /* a full pipe already wakes the reader */
    }
}

static void log_add(liverun *lr, const char *line)
{
    char hms[16] = "";
    char when[32];
    time_format_iso(time_now_ms(), when, sizeof when);
    snprintf(hms, sizeof hms, "%.8s", when + 11); /* "HH:MM:SS" (UTC) */
    char *text = sl_asprintf("%s %s", hms, line);
    if (lr->nlog == LIVERUN_LOG_MAX) {
        free(lr->log[lr->log_head]);
        lr->log[lr->log_head] = text;
        lr->log_head = (lr->log_head + 1) % LIVERUN_LOG_MAX;
    } else {
        lr->log[(lr->log_head + lr->nlog) % LIVERUN_LOG_MAX] = text;
        lr->nlog++;
    }
    lr->log_seq++;
}

static void state_reset(liverun *lr)
{
    for (size_t i = 0; i < lr->nlog; i++)
        free(lr->log[(lr->log_head + i) % LIVERUN_LOG_MAX]);
    lr->nlog = lr->log_head = 0;
    lr->log_seq = 0;
    lr->nsteps = 0;
    lr->folders_done = 0;
    lr->run_id[0] = 0;
    lr->finished_ms = -1;
    lr->code = SL_OK;
    err_clear(&lr->err);
    lr->cancelling = 0;
}

/* The step line of (folder, step): the latest one, created when absent. */
static liverun_step *step_of(liverun *lr, const char *folder, const char *step)
{
    for (size_t i = lr->nsteps; i-- > 0;)
        if (strcmp(lr->steps[i].folder, folder) == 0 &&
            strcmp(lr->steps[i].step, step) == 0)
            return &lr->steps[i];
    if (lr->nsteps == lr->capsteps) {
        lr->capsteps = lr->capsteps ? lr->capsteps * 2 : 16;
        lr->steps = sl_realloc(lr->steps, lr->capsteps * sizeof *lr->steps);
    }
    liverun_step *s = &lr->steps[lr->nsteps++];
    memset(s, 0, sizeof *s);
    snprintf(s->folder, sizeof s->folder, "%s", folder);
    snprintf(s->step, sizeof s->step, "%s", step);
    s->started_ms = time_now_ms();
    s->finished_ms = -1;
    s->rows = s->bytes = 0;
    s->rows_total = s->bytes_total = -1;
    s->rows_out = s->version = -1;
    return s;
}

static void step_totals(liverun_step *s, const runner_event *ev)
{
    if (ev->table)
        snprintf(s->table, sizeof s->table, "%s", ev->table);
    if (ev->rows_total >= 0)
        s->rows_total = ev->rows_total;
    if (ev->bytes_total >= 0)
        s->bytes_total = ev->bytes_total;
}

/* The runner's events, on the run thread. */
static void on_event(void *ctx, const runner_event *ev)
{
    liverun *lr = ctx;
    pthread_mutex_lock(&lr->mu);
    if (!lr->run_id[0] && ev->run_id)
        snprintf(lr->run_id, sizeof lr->run_id, "%s", ev->run_id);
    liverun_step *s = NULL;
    switch (ev->kind) {
    case RUNNER_EV_STEP_STARTED:
        s = step_of(lr, ev->folder, ev->step);
        snprintf(s->state, sizeof s->state, "running");
        s->attempt = ev->attempt;
        s->finished_ms = -1;
        s->rows = s->bytes = 0;
        s->error_code[0] = 0;
        step_totals(s, ev);
        break;
    case RUNNER_EV_STEP_PROGRESS:
        s = step_of(lr, ev->folder, ev->step);
        if (ev->rows >= 0)
            s->rows = ev->rows;
        if (ev->bytes >= 0)
            s->bytes = ev->bytes;
        step_totals(s, ev);
        break;
    case RUNNER_EV_STEP_FINISHED:
        s = step_of(lr, ev->folder, ev->step);
        snprintf(s->state, sizeof s->state, "%s", ev->state ? ev->state : "?");
        s->attempt = ev->attempt;
        step_totals(s, ev);
        s->rows = ev->rows; /* read, -1 when the step does not count them */
        if (ev->bytes >= 0)
            s->bytes = ev->bytes;
        s->rows_out = ev->rows_out;
        s->version = ev->version;
        snprintf(s->error_code, sizeof s->error_code, "%s",
                 ev->code == SL_OK ? "" : err_code_name(ev->code));
        /* a retry is still under way: the step has not finished */
        s->finished_ms = strcmp(s->state, "retrying") == 0 ? -1 : time_now_ms();
        break;
    case RUNNER_EV_FOLDER_FINISHED:
        if (ev->state && strcmp(ev->state, "processed") == 0)
            lr->folders_done++;
        break;
    case RUNNER_EV_LOG:
    case RUNNER_EV_FOLDER_STARTED:
        break;
    }
    if (ev->line)
        log_add(lr, ev->line);
    poke(lr);
    liverun_observer fn = lr->observer;
    void *fn_ctx = lr->observer_ctx;
    pthread_mutex_unlock(&lr->mu);
    if (fn)
        fn(fn_ctx, ev);
}

void liverun_set_observer(liverun *lr, liverun_observer fn, void *ctx)
{
    pthread_mutex_lock(&lr->mu);
    lr->observer = fn;
    lr->observer_ctx = ctx;
    pthread_mutex_unlock(&lr->mu);
}

/* ---- the run thread --------------------------------------------------------- */

static void run_finish(liverun *lr, sl_code c, const sl_err *e, const ops_result *res)
{
    pthread_mutex_lock(&lr->mu);
    const char *rid = json_string_value(json_object_get(res->after, "run_id"));
    if (!lr->run_id[0] && rid)
        snprintf(lr->run_id, sizeof lr->run_id, "%s", rid);
    lr->code = c;
    if (c != SL_OK)
        lr->err = *e;
    lr->finished_ms = time_now_ms();
    snprintf(lr->state, sizeof lr->state, "%s",
             c == SL_OK              ? "succeeded"
             : c == SL_RUN_CANCELLED ? "cancelled"
                                     : "failed");
    char line[700];
    if (c == SL_OK)
        snprintf(line, sizeof line, "%s succeeded (audited)", lr->action);
    else if (c == SL_RUN_CANCELLED)
        snprintf(line, sizeof line, "%s cancelled (audited): the next run resumes it",
                 lr->action);
    else
        snprintf(line, sizeof line, "%s failed: %s %.500s", lr->action, err_code_name(c),
                 e->msg);
    log_add(lr, line);
    lr->active = 0;
    lr->cancelling = 0;
    poke(lr);
    pthread_cond_broadcast(&lr->done_cv);
    pthread_mutex_unlock(&lr->mu);
}

static void *run_thread(void *arg)
{
    liverun *lr = arg;
    ops_ctx ctx = lr->sess->ops;
    audit_log *own = NULL;
    sl_err aerr;
    err_clear(&aerr);
    /* A connection of its own: the worker thread keeps using the session's. */
    if (ctx.audit && audit_open(audit_path(ctx.audit), &own, &aerr) == SL_OK)
        ctx.audit = own;
    ops_request req;
    memset(&req, 0, sizeof req);
    req.target = lr->req_target;
    req.reason = lr->req_reason;
    req.params = lr->req_params;
    req.dry_run = lr->req_dry_run;
    req.confirmed = lr->req_confirmed;
    req.progress = on_event;
    req.progress_ctx = lr;
    req.cancel = &lr->cancel;
    ops_result res;
    memset(&res, 0, sizeof res);
    sl_err err;
    err_clear(&err);
    char action[16];
    pthread_mutex_lock(&lr->mu);
    snprintf(action, sizeof action, "%s", lr->action);
    pthread_mutex_unlock(&lr->mu);
    sl_code c = ops_run(&ctx, action, &req, &res, &err);
    run_finish(lr, c, &err, &res);
    ops_result_clear(&res);
    audit_close(own);
    return NULL;
}

/* ---- API ------------------------------------------------------------------- */

liverun *liverun_new(session *sess)
{
    liverun *lr = sl_calloc(1, sizeof *lr);
    lr->sess = sess;
    pthread_mutex_init(&lr->mu, NULL);
    pthread_cond_init(&lr->done_cv, NULL);
    atomic_init(&lr->cancel, 0);
    lr->wake[0] = lr->wake[1] = -1;
    if (pipe(lr->wake) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(lr->wake[i], F_SETFL, fcntl(lr->wake[i], F_GETFL) | O_NONBLOCK);
            fcntl(lr->wake[i], F_SETFD, FD_CLOEXEC);
        }
    } else {
        lr->wake[0] = lr->wake[1] = -1; /* no wake-ups: the UI still ticks */
    }
    lr->finished_ms = -1;
    err_clear(&lr->err);
    return lr;
}

static void join_finished(liverun *lr)
{
    if (!lr->joinable)
        return;
    pthread_join(lr->thread, NULL);
    lr->joinable = 0;
}

static void request_free(liverun *lr)
{
    free(lr->req_target);
    free(lr->req_reason);
    json_decref(lr->req_params);
    lr->req_target = lr->req_reason = NULL;
    lr->req_params = NULL;
}

void liverun_free(liverun *lr)
{
    if (!lr)
        return;
    liverun_cancel(lr);
    liverun_wait(lr);
    pthread_mutex_lock(&lr->mu);
    state_reset(lr);
    pthread_mutex_unlock(&lr->mu);
    free(lr->steps);
    request_free(lr);
    for (int i = 0; i < 2; i++)
        if (lr->wake[i] >= 0)
            close(lr->wake[i]);
    pthread_cond_destroy(&lr->done_cv);
    pthread_mutex_destroy(&lr->mu);
    free(lr);
}

sl_code liverun_start(liverun *lr, const char *action, const ops_request *req,
                      sl_err *err)
{
    if (!action || (strcmp(action, "run") != 0 && strcmp(action, "retry") != 0))
        return err_set(err, SL_USAGE,
                       "the live run runs \"run\" or \"retry\", not \"%s\"",
                       action ? action : "(none)");
    pthread_mutex_lock(&lr->mu);
    int busy = lr->active;
    pthread_mutex_unlock(&lr->mu);
    if (busy)
        return err_set(err, SL_USAGE,
                       "a run is already in progress from this console (w shows it; C "
                       "stops it)");
    join_finished(lr); /* the previous run's thread, finished */
    request_free(lr);
    lr->req_target = req && req->target ? sl_strdup(req->target) : NULL;
    lr->req_reason = req && req->reason ? sl_strdup(req->reason) : NULL;
    lr->req_params = req && req->params ? json_deep_copy(req->params) : NULL;
    lr->req_dry_run = req ? req->dry_run : 0;
    lr->req_confirmed = req ? req->confirmed : 0;
    atomic_store(&lr->cancel, 0);

    pthread_mutex_lock(&lr->mu);
    state_reset(lr);
    snprintf(lr->action, sizeof lr->action, "%s", action);
    const char *pipeline = json_string_value(json_object_get(lr->req_params, "pipeline"));
    const char *folder = json_string_value(json_object_get(lr->req_params, "folder"));
    const char *target = lr->req_target ? lr->req_target : pipeline ? pipeline : "";
    /* run: target = the pipeline; retry: target = the run id */
    snprintf(lr->pipeline, sizeof lr->pipeline, "%s",
             pipeline                     ? pipeline
             : strcmp(action, "run") == 0 ? target
                                          : "");
    if (folder)
        snprintf(lr->target, sizeof lr->target, "%s folder %s", target, folder);
    else
        snprintf(lr->target, sizeof lr->target, "%s", target);
    snprintf(lr->state, sizeof lr->state, "running");
    lr->started_ms = time_now_ms();
    lr->active = 1;
    char line[512];
    snprintf(line, sizeof line, "%s %s requested by %s", action,
             lr->target[0] ? lr->target : "(the pipeline)", lr->sess->operator_name);
    log_add(lr, line);
    pthread_mutex_unlock(&lr->mu);

    int rc = pthread_create(&lr->thread, NULL, run_thread, lr);
    if (rc != 0) {
        pthread_mutex_lock(&lr->mu);
        lr->active = 0;
        snprintf(lr->state, sizeof lr->state, "failed");
        lr->code =
            err_set(&lr->err, SL_FAILED, "cannot start the run thread: %s", strerror(rc));
        lr->finished_ms = time_now_ms();
        pthread_mutex_unlock(&lr->mu);
        return err_set(err, SL_FAILED, "cannot start the run thread: %s", strerror(rc));
    }
    lr->joinable = 1;
    pthread_mutex_lock(&lr->mu);
    poke(lr);
    pthread_mutex_unlock(&lr->mu);
    return SL_OK;
}

int liverun_active(liverun *lr)
{
    pthread_mutex_lock(&lr->mu);
    int a = lr->active;
    pthread_mutex_unlock(&lr->mu);
    return a;
}

void liverun_cancel(liverun *lr)
{
    pthread_mutex_lock(&lr->mu);
    if (lr->active && !lr->cancelling) {
        lr->cancelling = 1;
        atomic_store(&lr->cancel, 1);
        log_add(lr, "cancel asked: the run stops after its current step");
        poke(lr);
    }
    pthread_mutex_unlock(&lr->mu);
}

void liverun_wait(liverun *lr)
{
    pthread_mutex_lock(&lr->mu);
    while (lr->active)
        pthread_cond_wait(&lr->done_cv, &lr->mu);
    pthread_mutex_unlock(&lr->mu);
    join_finished(lr);
}

int liverun_wake_fd(const liverun *lr)
{
    return lr->wake[0];
}

static void wake_drain(liverun *lr)
{
    char buf[64];
    if (lr->wake[0] < 0)
        return;
    while (read(lr->wake[0], buf, sizeof buf) > 0)
        ;
}

void liverun_snapshot(liverun *lr, liverun_view *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&lr->mu);
    wake_drain(lr);
    out->active = lr->active;
    out->cancelling = lr->cancelling;
    snprintf(out->action, sizeof out->action, "%s", lr->action);
    snprintf(out->target, sizeof out->target, "%s", lr->target);
    snprintf(out->pipeline, sizeof out->pipeline, "%s", lr->pipeline);
    snprintf(out->run_id, sizeof out->run_id, "%s", lr->run_id);
    snprintf(out->state, sizeof out->state, "%s", lr->state);
    out->started_ms = lr->started_ms;
    out->finished_ms = lr->finished_ms;
    out->code = lr->code;
    out->err = lr->err;
    out->folders_done = lr->folders_done;
    if (lr->nsteps) {
        out->steps = sl_calloc(lr->nsteps, sizeof *out->steps);
        memcpy(out->steps, lr->steps, lr->nsteps * sizeof *out->steps);
        out->nsteps = lr->nsteps;
    }
    if (lr->nlog) {
        out->log = sl_calloc(lr->nlog, sizeof *out->log);
        for (size_t i = 0; i < lr->nlog; i++)
            out->log[i] = sl_strdup(lr->log[(lr->log_head + i) % LIVERUN_LOG_MAX]);
        out->nlog = lr->nlog;
    }
    out->log_seq = lr->log_seq;
    pthread_mutex_unlock(&lr->mu);
}

void liverun_view_free(liverun_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nlog; i++)
        free(v->log[i]);
    free(v->log);
    free(v->steps);
    memset(v, 0, sizeof *v);
}
