/* Runs: one line per run of every configured pipeline, newest first (f puts
 * the failed ones first), filtered by `:where state= pipeline= error=
 * since= until=`. Enter shows a run (view_rundetail.c); B rolls the selected
 * run back and t retries it, both with a preview and a confirmation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runs.h"
#include "backend/pipeline/status.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/pipeact.h"
#include "tui/view.h"

typedef struct runs_where {
    char state[32];
    char pipeline[160];
    char error[64];
    int64_t since_ms, until_ms; /* -1: open */
    char text[256];             /* as typed, for the header */
} runs_where;

typedef struct runs_state {
    pl_run_summary *runs; /* newest first, as loaded */
    size_t n;
    size_t *shown; /* indexes into runs passing :where, failed first when asked */
    size_t nshown;
    int failed_first;
    runs_where where;
} runs_state;

typedef struct runs_job {
    tui_job base;
    pipeline_def *const *defs;
    size_t ndefs;
    pl_run_summary *runs;
    size_t n;
} runs_job;

static const tui_column cols[] = {
    {"Run", 16, 0, 0},   {"Pipeline", 8, 1, 0}, {"Started (UTC)", 16, 0, 0},
    {"Took", 6, 0, 1},   {"Folders", 7, 0, 1},  {"State", 9, 0, 0},
    {"Error", 10, 2, 0},
};

static runs_state *st(view *v)
{
    return v->state;
}

static runs_state *state_get(view *v)
{
    if (!v->state) {
        runs_state *s = sl_calloc(1, sizeof *s);
        s->where.since_ms = s->where.until_ms = -1;
        v->state = s;
    }
    return v->state;
}

static size_t count(view *v)
{
    return st(v) ? st(v)->nshown : 0;
}

static void row(view *v, size_t i, tui_row *out)
{
    const pl_run_summary *r = &st(v)->runs[st(v)->shown[i]];
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", r->run_id);
    snprintf(out->cell[1], TUI_CELL_MAX, "%s", r->pipeline);
    fmt_time_short(r->started_ms, out->cell[2], TUI_CELL_MAX);
    fmt_duration(r->started_ms >= 0 && r->finished_ms >= r->started_ms
                     ? r->finished_ms - r->started_ms
                     : -1,
                 out->cell[3], TUI_CELL_MAX);
    snprintf(out->cell[4], TUI_CELL_MAX, "%zu", r->folders);
    snprintf(out->cell[5], TUI_CELL_MAX, "%s", r->state);
    if (r->error_code)
        snprintf(out->cell[6], TUI_CELL_MAX, "%s %s%s%s", r->error_code, r->error_step,
                 r->error_folder ? " " : "", r->error_folder ? r->error_folder : "");
    if (!strcmp(r->state, "failed"))
        out->elem = EL_FAILED;
    else if (!strcmp(r->state, "warning"))
        out->elem = EL_WARNING;
}

static const list_ops runs_list_ops = {cols, 7, 0, count, row};

/* ---- the shown rows: :where, then failed first ------------------------- */

static int where_match(const runs_where *w, const pl_run_summary *r)
{
    if (w->state[0] && strcmp(w->state, r->state))
        return 0;
    if (w->pipeline[0] && strcmp(w->pipeline, r->pipeline))
        return 0;
    if (w->error[0] && (!r->error_code || !strstr(r->error_code, w->error)))
        return 0;
    if (w->since_ms >= 0 && r->started_ms < w->since_ms)
        return 0;
    if (w->until_ms >= 0 && r->started_ms >= w->until_ms)
        return 0;
    return 1;
}

static void reshow(view *v)
{
    runs_state *s = st(v);
    free(s->shown);
    s->shown = sl_calloc(s->n ? s->n : 1, sizeof *s->shown);
    s->nshown = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->n; i++) {
            int failed = !strcmp(s->runs[i].state, "failed");
            /* Without failed-first one pass keeps the time order. */
            if (pass == 1 && !s->failed_first)
                break;
            if (s->failed_first && failed != (pass == 0))
                continue;
            if (where_match(&s->where, &s->runs[i]))
                s->shown[s->nshown++] = i;
        }
    list_refilter(v);
}

/* A date "2023-11-14" (its whole day for until) or an ISO time. */
static sl_code where_time(const char *text, int until, int64_t *out, sl_err *err)
{
    sl_code c = time_parse(text, out, err);
    if (c == SL_OK && until && strlen(text) == 10)
        *out += 24LL * 3600 * 1000;
    return c;
}

static sl_code where_parse(const char *arg, runs_where *w, sl_err *err)
{
    memset(w, 0, sizeof *w);
    w->since_ms = w->until_ms = -1;
    if (!arg)
        return SL_OK;
    snprintf(w->text, sizeof w->text, "%s", arg);
    char *copy = sl_strdup(arg);
    sl_code c = SL_OK;
    for (char *save = NULL, *tok = strtok_r(copy, " \t", &save); tok && c == SL_OK;
         tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            c = err_set(err, SL_USAGE, "where takes FIELD=VALUE, not '%s'", tok);
            break;
        }
        *eq = '\0';
        const char *val = eq + 1;
        if (!strcmp(tok, "state"))
            snprintf(w->state, sizeof w->state, "%s", val);
        else if (!strcmp(tok, "pipeline"))
            snprintf(w->pipeline, sizeof w->pipeline, "%s", val);
        else if (!strcmp(tok, "error"))
            snprintf(w->error, sizeof w->error, "%s", val);
        else if (!strcmp(tok, "since"))
            c = where_time(val, 0, &w->since_ms, err);
        else if (!strcmp(tok, "until"))
            c = where_time(val, 1, &w->until_ms, err);
        else
            c = err_set(err, SL_USAGE,
                        "runs have no field '%s' (state, pipeline, error, since, until)",
                        tok);
    }
    free(copy);
    return c;
}

/* ---- loading (worker) --------------------------------------------------- */

static void job_run(tui_job *job, session *sess)
{
    runs_job *j = (runs_job *)job;
    run_step *all = NULL;
    size_t nall = 0;
    job->code = SL_OK;
    for (size_t i = 0; i < j->ndefs && job->code == SL_OK; i++) {
        store *lake = NULL;
        job->code = store_open(j->defs[i]->lake_url, &lake, &job->err);
        run_step *rows = NULL;
        size_t n = 0;
        if (job->code == SL_OK) {
            store_set_log(lake, sess->log);
            job->code = runs_load(lake, j->defs[i]->name, NULL, &rows, &n, &job->err);
        }
        if (job->code == SL_OK && n) {
            all = sl_realloc(all, (nall + n) * sizeof *all);
            memcpy(all + nall, rows, n * sizeof *rows); /* the strings move with them */
            nall += n;
            free(rows);
        } else {
            run_steps_free(rows, n);
        }
        store_close(lake);
    }
    if (job->code == SL_OK)
        pl_runs_summarize(all, nall, &j->runs, &j->n);
    run_steps_free(all, nall);
}

static void job_free(tui_job *job)
{
    runs_job *j = (runs_job *)job;
    pl_run_summaries_free(j->runs, j->n);
    free(j);
}

static void load(view *v, app *a)
{
    state_get(v);
    v->list.ops = &runs_list_ops;
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    if (!defs || !n) {
        const sl_err *pe = app_pipelines_error(a);
        if (pe && pe->code != SL_OK)
            v->error = *pe;
        else
            v->loaded = 1;
        return;
    }
    runs_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->defs = defs;
    j->ndefs = n;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    runs_job *j = (runs_job *)job;
    runs_state *s = st(v);
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        pl_run_summaries_free(s->runs, s->n);
        s->runs = j->runs;
        s->n = j->n;
        j->runs = NULL;
        j->n = 0;
        v->loaded = 1;
        reshow(v);
    }
    job->free(job);
}

/* ---- drawing ------------------------------------------------------------ */

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the runs"))
        return;
    runs_state *s = st(v);
    size_t failed = 0;
    for (size_t i = 0; i < s->nshown; i++)
        failed += !strcmp(s->runs[s->shown[i]].state, "failed");
    int col = 1;
    char *t = sl_asprintf("%zu run%s · ", s->nshown, s->nshown == 1 ? "" : "s");
    col += crt_put(r.row, col, r.cols - col, EL_DIM, t);
    free(t);
    t = sl_asprintf("%zu failed", failed);
    col += crt_put(r.row, col, r.cols - col, failed ? EL_FAILED : EL_DIM, t);
    free(t);
    t = sl_asprintf(" · %s", s->failed_first ? "failed first" : "newest first");
    col += crt_put(r.row, col, r.cols - col, EL_DIM, t);
    free(t);
    if (s->where.text[0] && col < r.cols) {
        t = sl_asprintf(" · where %s", s->where.text);
        crt_put(r.row, col, r.cols - col, EL_WARNING, t);
        free(t);
    }
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

/* ---- actions ------------------------------------------------------------ */

static const pl_run_summary *selected(view *v)
{
    size_t i;
    if (!v->loaded || !st(v) || !list_selected(v, &i))
        return NULL;
    return &st(v)->runs[st(v)->shown[i]];
}

static unsigned intervene(view *v, app *a, action_id id, sl_err *err)
{
    const pl_run_summary *r = selected(v);
    if (!r) {
        app_message(a, EL_MESSAGE, "no run selected");
        return REACT_NONE;
    }
    pipeact_target t = {.pipeline = r->pipeline, .run_id = r->run_id};
    pipeact_open(a, id, &t, err);
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    runs_state *s = state_get(v);
    switch (id) {
    case ACT_FAILED_FIRST:
        s->failed_first = !s->failed_first;
        if (v->loaded)
            reshow(v);
        app_message(a, EL_MESSAGE, "%s",
                    s->failed_first ? "failed runs first" : "newest first");
        return REACT_REDRAW;
    case ACT_WHERE: {
        runs_where w;
        if (where_parse(arg, &w, err) != SL_OK)
            return REACT_REDRAW;
        s->where = w;
        v->list.cursor = v->list.top = 0;
        if (v->loaded)
            reshow(v);
        return REACT_REDRAW;
    }
    case ACT_ROLLBACK:
    case ACT_RETRY:
        return intervene(v, a, id, err);
    default:
        return REACT_UNHANDLED;
    }
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    const pl_run_summary *r = selected(v);
    if (!r)
        return REACT_NONE;
    app_push(a, view_rundetail_new(a, r->pipeline, r->run_id));
    return REACT_REDRAW;
}

static void notify(view *v, app *a, int event)
{
    (void)event;
    if (v->state && !v->pending)
        load(v, a);
}

static void done(view *v)
{
    runs_state *s = st(v);
    if (!s)
        return;
    pl_run_summaries_free(s->runs, s->n);
    free(s->shown);
    free(s);
}

const view_ops view_runs_ops = {
    .name = "runs",
    .title = "Runs",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};
