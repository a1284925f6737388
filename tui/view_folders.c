/* Folders. With pipelines in the config: every epoch folder of each
 * pipeline in its state (pending, waiting for marker, running step X,
 * processed, failed, skipped) with files, bytes, rows, quarantined rows and
 * run id; `:where state=failed,pending pipeline=orders` filters, Space marks
 * folders for skip / mark-processed / reset, x t S M Z start the pipeline
 * interventions (tui/pipeact.h), Enter opens a folder (its files, checkpoint
 * row and history, runs rows). Without pipelines: the source's folders as
 * listed (epoch folders oldest first, anything else apart). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
#include "backend/pipeline/folders.h"
#include "backend/pipeline/runs.h"
#include "backend/store/store.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/liverun.h"
#include "tui/pipeact.h"
#include "tui/view.h"

/* ---- the data ------------------------------------------------------------ */

/* One epoch folder of a pipeline, copied out of discovery and the
 * checkpoint so the view owns everything it draws. */
typedef struct fv_folder {
    char *name;
    int64_t epoch;
    const char *state; /* discovery's static strings */
    char *why;         /* waiting: why (NULL otherwise) */
    int late;
    int has_marker;
    uint64_t files, bytes;
    int64_t rows, quarantined; /* -1 when unknown */
    char *run_id;
    char *error_code;
    char step[24]; /* running: the step its run last started ("" unknown) */
} fv_folder;

/* The states a folder can be in, in the order the header counts them. */
static const char *const state_names[] = {"failed",  "running", "pending",
                                          "waiting", "skipped", "processed"};
#define NSTATES (sizeof state_names / sizeof state_names[0])

typedef struct fv_pipeline {
    char *name;
    char *source_url;
    fv_folder *f;
    size_t n;
    sl_err err; /* this pipeline failed to load: its section says why */
    size_t counts[NSTATES];
    size_t nlate;
} fv_pipeline;

/* A row of the list: a pipeline's section line (folder -1) or a folder. */
typedef struct fv_item {
    size_t pipe;
    long folder;
} fv_item;

typedef struct fv_where {
    unsigned states;       /* bit per state_names index; 0: all */
    int late, quarantined; /* state=late, state=quarantined */
    char pipeline[64];     /* "" all */
    char text[256];        /* as typed, for the header */
} fv_where;

typedef struct folders_state {
    int pipelines; /* 1: pipeline mode; 0: the plain source listing */
    /* plain mode */
    char *url;
    source_listing listing;
    /* pipeline mode */
    fv_pipeline *pipes;
    size_t npipes;
    fv_item *items;
    size_t nitems;
    fv_where where;
    char **marks; /* "pipeline/folder" */
    size_t nmarks;
    int narrow;           /* the last draw was under 100 columns */
    char live_folder[64]; /* the live run's folder and step at the last draw */
    char live_step[24];
    int live_was_active; /* a run was live at the last draw */
    int64_t now_ms;
} folders_state;

static folders_state *st(view *v)
{
    return v->state;
}

static void fv_folder_free(fv_folder *f)
{
    free(f->name);
    free(f->why);
    free(f->run_id);
    free(f->error_code);
}

static void pipes_free(fv_pipeline *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < p[i].n; k++)
            fv_folder_free(&p[i].f[k]);
        free(p[i].f);
        free(p[i].name);
        free(p[i].source_url);
    }
    free(p);
}

static int state_index(const char *state)
{
    for (size_t i = 0; i < NSTATES; i++)
        if (strcmp(state, state_names[i]) == 0)
            return (int)i;
    return -1;
}

/* ---- plain mode (no pipelines): the source as listed ---------------------- */

static const tui_column plain_cols[] = {
    {"Folder", 12, 1, 0}, {"Epoch time (UTC)", 16, 0, 0},  {"Files", 6, 0, 1},
    {"Bytes", 10, 0, 1},  {"Newest file (UTC)", 17, 0, 0},
};

static size_t plain_count(view *v)
{
    const source_listing *l = &st(v)->listing;
    return l->nepochs + (l->nothers ? 1 + l->nothers : 0);
}

static void plain_cells(const source_folder *f, int epoch, tui_row *out)
{
    snprintf(out->cell[0], TUI_CELL_MAX, "%s%s", f->name, f->is_file ? "" : "/");
    if (epoch)
        fmt_time_short(f->epoch * 1000, out->cell[1], TUI_CELL_MAX);
    else
        snprintf(out->cell[1], TUI_CELL_MAX, "%s",
                 f->is_file ? "(loose file)" : "(not an epoch)");
    snprintf(out->cell[2], TUI_CELL_MAX, "%llu", (unsigned long long)f->files);
    fmt_bytes(f->bytes, out->cell[3], TUI_CELL_MAX);
    fmt_time_short(f->newest_mtime_ms, out->cell[4], TUI_CELL_MAX);
}

static void plain_row(view *v, size_t i, tui_row *out)
{
    const source_listing *l = &st(v)->listing;
    if (i < l->nepochs) {
        plain_cells(&l->epochs[i], 1, out);
        return;
    }
    if (i == l->nepochs) {
        out->span = 1;
        out->elem = EL_SECTION;
        snprintf(out->cell[0], TUI_CELL_MAX,
                 "Other entries, not epoch folders (%zu):", l->nothers);
        return;
    }
    plain_cells(&l->others[i - l->nepochs - 1], 0, out);
    out->elem = EL_WARNING;
}

static const list_ops plain_list_ops = {plain_cols, 5, 0, plain_count, plain_row};

typedef struct plain_job {
    tui_job base;
    char *url;
    source_listing listing;
} plain_job;

static void plain_job_run(tui_job *job, session *sess)
{
    plain_job *j = (plain_job *)job;
    store *s = NULL;
    job->code = store_open(j->url, &s, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(s, sess->log);
    job->code = folders_list(s, "", &j->listing, &job->err);
    store_close(s);
}

static void plain_job_free(tui_job *job)
{
    plain_job *j = (plain_job *)job;
    folders_free(&j->listing);
    free(j->url);
    free(j);
}

enum { JOB_PLAIN = 1, JOB_PIPES = 2 };

static void plain_load(view *v, app *a)
{
    const config *cfg = app_session(a)->cfg;
    if (!cfg || !cfg->source_url) {
        err_set(&v->error, SL_CONFIG_INVALID,
                "no \"source\" in the config: nothing to list");
        return;
    }
    free(st(v)->url);
    st(v)->url = sl_strdup(cfg->source_url);
    plain_job *j = sl_calloc(1, sizeof *j);
    j->base.kind = JOB_PLAIN;
    j->base.run = plain_job_run;
    j->base.free = plain_job_free;
    j->url = sl_strdup(cfg->source_url);
    app_post(a, v, &j->base);
}

static void plain_take(view *v, plain_job *j)
{
    folders_free(&st(v)->listing);
    st(v)->listing = j->listing;
    memset(&j->listing, 0, sizeof j->listing);
}

static void plain_draw(view *v, app *a, tui_rect r)
{
    const source_listing *l = &st(v)->listing;
    char *line = sl_asprintf("%s · %zu epoch folders · %zu other", st(v)->url, l->nepochs,
                             l->nothers);
    crt_put(r.row, 1, r.cols - 1, EL_DIM, line);
    free(line);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

/* ---- pipeline mode: loading on the worker --------------------------------- */

typedef struct pipes_job {
    tui_job base;
    char **names; /* the pipelines to load (the app's definitions, by name) */
    size_t n;
    fv_pipeline *pipes; /* result, n of them */
    int64_t now_ms;
} pipes_job;

/* The step each running folder's run last started, from the runs table (a
 * run that crashed mid-step leaves its folder "running"). */
static void running_steps(const pipeline_def *d, sl_log *log, fv_pipeline *p)
{
    store *lake = NULL;
    sl_err err = {0};
    if (store_open(d->lake_url, &lake, &err) != SL_OK)
        return;
    store_set_log(lake, log);
    for (size_t i = 0; i < p->n; i++) {
        fv_folder *f = &p->f[i];
        if (strcmp(f->state, "running") != 0 || !f->run_id)
            continue;
        run_step *rows = NULL;
        size_t n = 0;
        if (runs_load(lake, d->name, f->run_id, &rows, &n, &err) == SL_OK)
            for (size_t k = 0; k < n; k++)
                if (rows[k].folder && strcmp(rows[k].folder, f->name) == 0)
                    snprintf(f->step, sizeof f->step, "%s", rows[k].step);
        run_steps_free(rows, n);
    }
    store_close(lake);
}

static void pipeline_fill(const pipeline_def *d, session *sess, int64_t now_ms,
                          fv_pipeline *p)
{
    p->name = sl_strdup(d->name);
    p->source_url = sl_strdup(d->source.url);
    pipeline_folders pf;
    if (pipeline_folders_load(d, sess->log, now_ms, &pf, &p->err) != SL_OK)
        return;
    err_clear(&p->err);
    p->n = pf.dsc.n;
    p->f = sl_calloc(p->n ? p->n : 1, sizeof *p->f);
    int any_running = 0;
    for (size_t i = 0; i < p->n; i++) {
        const pl_folder *src = &pf.dsc.folders[i];
        const ckpt_entry *e = ckpt_find(&pf.ckpt, src->folder);
        fv_folder *f = &p->f[i];
        f->name = sl_strdup(src->folder);
        f->epoch = src->epoch;
        f->state = src->state;
        f->why = src->why ? sl_strdup(src->why) : NULL;
        f->late = src->late;
        f->has_marker = src->has_marker;
        f->files = src->files;
        f->bytes = src->bytes;
        f->rows = e ? e->rows_read : -1;
        f->quarantined = e ? e->rows_quarantined : -1;
        f->run_id = e && e->run_id ? sl_strdup(e->run_id) : NULL;
        f->error_code = e && e->error_code && strcmp(f->state, "failed") == 0
                            ? sl_strdup(e->error_code)
                            : NULL;
        int s = state_index(f->state);
        if (s >= 0)
            p->counts[s]++;
        p->nlate += (size_t)f->late;
        any_running |= s == 1;
    }
    pipeline_folders_free(&pf);
    if (any_running)
        running_steps(d, sess->log, p);
}

static void pipes_job_run(tui_job *job, session *sess)
{
    pipes_job *j = (pipes_job *)job;
    j->pipes = sl_calloc(j->n ? j->n : 1, sizeof *j->pipes);
    for (size_t i = 0; i < j->n; i++) {
        pipeline_def *d = NULL;
        fv_pipeline *p = &j->pipes[i];
        /* Read again from the config: the app's copies belong to the UI thread. */
        if (config_pipeline_load(sess->cfg, j->names[i], &d, &p->err) != SL_OK) {
            p->name = sl_strdup(j->names[i]);
            continue;
        }
        pipeline_fill(d, sess, j->now_ms, p);
        pipeline_def_free(d);
    }
    job->code = SL_OK;
}

static void pipes_job_free(tui_job *job)
{
    pipes_job *j = (pipes_job *)job;
    for (size_t i = 0; i < j->n; i++)
        free(j->names[i]);
    free(j->names);
    pipes_free(j->pipes, j->pipes ? j->n : 0);
    free(j);
}

/* ---- pipeline mode: rows ---------------------------------------------------- */

static int is_marked(const folders_state *s, const char *pipe, const char *folder)
{
    size_t pl = strlen(pipe);
    for (size_t i = 0; i < s->nmarks; i++)
        if (strncmp(s->marks[i], pipe, pl) == 0 && s->marks[i][pl] == '/' &&
            strcmp(s->marks[i] + pl + 1, folder) == 0)
            return 1;
    return 0;
}

static int where_keeps(const fv_where *w, const fv_pipeline *p, const fv_folder *f)
{
    if (w->pipeline[0] && strcmp(w->pipeline, p->name) != 0)
        return 0;
    if (!w->states && !w->late && !w->quarantined)
        return 1;
    int s = state_index(f->state);
    if (s >= 0 && (w->states & (1u << s)))
        return 1;
    if (w->late && f->late)
        return 1;
    return w->quarantined && f->quarantined > 0;
}

/* The rows: a section line per pipeline when there are several (or one
 * failed to load), then its folders passing the :where filter. */
static void items_build(folders_state *s)
{
    free(s->items);
    size_t cap = s->npipes;
    for (size_t i = 0; i < s->npipes; i++)
        cap += s->pipes[i].n;
    s->items = sl_calloc(cap ? cap : 1, sizeof *s->items);
    s->nitems = 0;
    for (size_t i = 0; i < s->npipes; i++) {
        const fv_pipeline *p = &s->pipes[i];
        if (s->where.pipeline[0] && strcmp(s->where.pipeline, p->name) != 0)
            continue;
        if (s->npipes > 1 || p->err.code != SL_OK)
            s->items[s->nitems++] = (fv_item){i, -1};
        for (size_t k = 0; k < p->n; k++)
            if (where_keeps(&s->where, p, &p->f[k]))
                s->items[s->nitems++] = (fv_item){i, (long)k};
    }
}

static size_t pipes_count(view *v)
{
    return st(v)->nitems;
}

/* "26 processed · 1 failed · 8 pending (1 late) · 1 waiting" */
static void counts_text(const fv_pipeline *p, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t s = 0; s < NSTATES; s++) {
        if (!p->counts[s])
            continue;
        char late[32] = "";
        if (s == 2 && p->nlate)
            snprintf(late, sizeof late, " (%zu late)", p->nlate);
        int n = snprintf(out + used, outlen - used, "%s%zu %s%s", used ? " · " : "",
                         p->counts[s], state_names[s], late);
        if (n < 0 || (size_t)n >= outlen - used)
            return;
        used += (size_t)n;
    }
    if (!used)
        snprintf(out, outlen, "no epoch folders yet");
}

static void section_row(const fv_pipeline *p, tui_row *out)
{
    out->span = 1;
    if (p->err.code != SL_OK) {
        out->elem = EL_FAILED;
        /* The message may be longer than a cell: cut, never overflowed. */
        snprintf(out->cell[0], TUI_CELL_MAX, "%.60s: %s %.300s", p->name,
                 err_code_name(p->err.code), p->err.msg);
        return;
    }
    char counts[256];
    counts_text(p, counts, sizeof counts);
    out->elem = EL_SECTION;
    snprintf(out->cell[0], TUI_CELL_MAX, "%s · %zu folders: %s", p->name, p->n, counts);
}

static void state_text(const folders_state *s, const fv_folder *f, char *out,
                       size_t outlen)
{
    const char *state = f->state;
    int narrow = s->narrow;
    const char *step = f->step;
    if (strcmp(state, "running") == 0 && s->live_folder[0] &&
        strcmp(s->live_folder, f->name) == 0)
        step = s->live_step;
    if (strcmp(state, "waiting") == 0) {
        int marker = !f->has_marker || (f->why && strstr(f->why, "marker"));
        snprintf(out, outlen, "%s",
                 marker ? (narrow ? "waiting marker" : "waiting for marker")
                        : (narrow ? "waiting settle" : "waiting (settling)"));
    } else if (strcmp(state, "running") == 0 && step[0]) {
        snprintf(out, outlen, "%s%s", narrow ? "running " : "running step ", step);
    } else if (strcmp(state, "pending") == 0 && f->late) {
        snprintf(out, outlen, "%s", narrow ? "pending, late" : "pending (late)");
    } else if (strcmp(state, "failed") == 0 && f->error_code && !narrow) {
        snprintf(out, outlen, "failed %s", f->error_code);
    } else {
        snprintf(out, outlen, "%s", state);
    }
}

static theme_elem state_elem(const fv_folder *f)
{
    if (strcmp(f->state, "failed") == 0)
        return EL_FAILED;
    if (strcmp(f->state, "skipped") == 0 || f->late)
        return EL_WARNING;
    if (strcmp(f->state, "waiting") == 0)
        return EL_DIM;
    return EL_NORMAL;
}

static void count_cell(int64_t n, char *out)
{
    if (n < 0)
        snprintf(out, TUI_CELL_MAX, "-");
    else
        fmt_human(n, out, TUI_CELL_MAX);
}

static void pipes_row(view *v, size_t i, tui_row *out)
{
    const folders_state *s = st(v);
    const fv_item *it = &s->items[i];
    const fv_pipeline *p = &s->pipes[it->pipe];
    if (it->folder < 0) {
        section_row(p, out);
        return;
    }
    const fv_folder *f = &p->f[it->folder];
    snprintf(out->cell[0], TUI_CELL_MAX, "%s %s",
             is_marked(s, p->name, f->name) ? "*" : " ", f->name);
    char when[32];
    fmt_time_short(f->epoch * 1000, when, sizeof when);
    if (s->narrow) {
        /* "11-14 16:00": the year costs five cells an 80-column screen lacks. */
        snprintf(out->cell[1], TUI_CELL_MAX, "%s", strlen(when) > 5 ? when + 5 : when);
    } else {
        char age[32];
        fmt_age(f->epoch * 1000, s->now_ms, age, sizeof age);
        snprintf(out->cell[1], TUI_CELL_MAX, "%s  %s", when, age);
    }
    state_text(s, f, out->cell[2], TUI_CELL_MAX);
    snprintf(out->cell[3], TUI_CELL_MAX, "%llu", (unsigned long long)f->files);
    fmt_bytes(f->bytes, out->cell[4], TUI_CELL_MAX);
    count_cell(f->rows, out->cell[5]);
    count_cell(f->quarantined, out->cell[6]);
    if (f->run_id)
        fmt_middle(f->run_id, s->narrow ? 9 : 16, out->cell[7], TUI_CELL_MAX);
    else
        snprintf(out->cell[7], TUI_CELL_MAX, "-");
    out->elem = state_elem(f);
}

/* Under 100 columns the time drops its year and the run id is shortened. */
static const tui_column narrow_cols[] = {
    {"  Folder", 12, 0, 0}, {"UTC", 11, 0, 0}, {"State", 14, 1, 0}, {"Files", 5, 0, 1},
    {"Bytes", 9, 0, 1},     {"Rows", 6, 0, 1}, {"Quar", 5, 0, 1},   {"Run", 9, 0, 0},
};
static const tui_column wide_cols[] = {
    {"  Folder", 12, 0, 0},    {"Time (UTC)", 28, 0, 0}, {"State", 20, 1, 0},
    {"Files", 6, 0, 1},        {"Bytes", 10, 0, 1},      {"Rows", 8, 0, 1},
    {"Quarantined", 11, 0, 1}, {"Run", 16, 0, 0},
};
static const list_ops narrow_list_ops = {narrow_cols, 8, 0, pipes_count, pipes_row};
static const list_ops wide_list_ops = {wide_cols, 8, 0, pipes_count, pipes_row};

/* ---- load / take / draw ---------------------------------------------------- */

static void pipes_load(view *v, app *a)
{
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    if (!n) {
        v->error = *app_pipelines_error(a);
        return;
    }
    pipes_job *j = sl_calloc(1, sizeof *j);
    j->base.kind = JOB_PIPES;
    j->base.run = pipes_job_run;
    j->base.free = pipes_job_free;
    j->n = n;
    j->names = sl_calloc(n, sizeof *j->names);
    for (size_t i = 0; i < n; i++)
        j->names[i] = sl_strdup(defs[i]->name);
    j->now_ms = time_now_ms();
    app_post(a, v, &j->base);
}

static void load(view *v, app *a)
{
    if (!v->state) {
        folders_state *s = sl_calloc(1, sizeof *s);
        const config *cfg = app_session(a)->cfg;
        s->pipelines = cfg && cfg->npipelines > 0;
        s->narrow = 1;
        v->state = s;
        v->list.ops = s->pipelines ? &narrow_list_ops : &plain_list_ops;
    }
    if (st(v)->pipelines)
        pipes_load(v, a);
    else
        plain_load(v, a);
}

static void pipes_take(view *v, pipes_job *j)
{
    folders_state *s = st(v);
    pipes_free(s->pipes, s->npipes);
    s->pipes = j->pipes;
    s->npipes = j->n;
    s->now_ms = j->now_ms;
    j->pipes = NULL;
    items_build(s);
    if (v->loaded)
        return;
    /* First load: the cursor starts on the incident (the first failed
     * folder, else the first pending one), so it is on screen at once. */
    for (int want = 0; want < 3; want += 2)
        for (size_t i = 0; i < s->nitems; i++) {
            const fv_item *it = &s->items[i];
            if (it->folder >= 0 &&
                strcmp(s->pipes[it->pipe].f[it->folder].state, state_names[want]) == 0) {
                v->list.cursor = i;
                return;
            }
        }
}

static void take(view *v, app *a, tui_job *job)
{
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        if (job->kind == JOB_PLAIN)
            plain_take(v, (plain_job *)job);
        else
            pipes_take(v, (pipes_job *)job);
        v->loaded = 1;
    }
    job->free(job);
}

/* The live run's current folder and step, so a running folder says which
 * step it is in while the run goes. */
static void live_step(view *v, folders_state *s, app *a)
{
    s->live_folder[0] = s->live_step[0] = '\0';
    liverun *lr = app_liverun(a);
    int active = liverun_active(lr);
    /* A run started here just ended: show what it did to the folders. */
    if (s->live_was_active && !active)
        load(v, a);
    s->live_was_active = active;
    if (!active)
        return;
    liverun_view lv;
    liverun_snapshot(lr, &lv);
    for (size_t i = lv.nsteps; i-- > 0;)
        if (strcmp(lv.steps[i].state, "running") == 0 ||
            strcmp(lv.steps[i].state, "retrying") == 0) {
            snprintf(s->live_folder, sizeof s->live_folder, "%s", lv.steps[i].folder);
            snprintf(s->live_step, sizeof s->live_step, "%s", lv.steps[i].step);
            break;
        }
    liverun_view_free(&lv);
}

static void pipes_header(view *v, tui_rect r)
{
    const folders_state *s = st(v);
    char text[768], counts[256] = "";
    size_t shown = 0;
    for (size_t i = 0; i < s->nitems; i++)
        shown += s->items[i].folder >= 0;
    if (s->npipes == 1) {
        counts_text(&s->pipes[0], counts, sizeof counts);
    } else {
        /* Several pipelines: the sums here, each one's counts on its line. */
        fv_pipeline all = {0};
        for (size_t i = 0; i < s->npipes; i++) {
            for (size_t k = 0; k < NSTATES; k++)
                all.counts[k] += s->pipes[i].counts[k];
            all.nlate += s->pipes[i].nlate;
        }
        char sums[200];
        counts_text(&all, sums, sizeof sums);
        snprintf(counts, sizeof counts, "%zu pipelines: %s", s->npipes, sums);
    }
    int n = snprintf(text, sizeof text, "%s%s%s", s->npipes == 1 ? s->pipes[0].name : "",
                     s->npipes == 1 ? ": " : "", counts);
    if (n > 0 && s->nmarks)
        n += snprintf(text + n, sizeof text - (size_t)n, " · %zu marked", s->nmarks);
    if (n > 0 && s->where.text[0])
        snprintf(text + n, sizeof text - (size_t)n, " · where %s (%zu shown)",
                 s->where.text, shown);
    int failed = 0;
    for (size_t i = 0; i < s->npipes; i++)
        failed |= s->pipes[i].counts[0] > 0 || s->pipes[i].err.code != SL_OK;
    crt_put(r.row, 1, r.cols - 1, failed ? EL_FAILED : EL_DIM, text);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "folders"))
        return;
    folders_state *s = st(v);
    if (!s->pipelines) {
        plain_draw(v, a, r);
        return;
    }
    s->narrow = r.cols < 100;
    const list_ops *want = s->narrow ? &narrow_list_ops : &wide_list_ops;
    if (v->list.ops != want) {
        v->list.ops = want;
        list_refilter(v); /* the text filter matched the other layout's cells */
    }
    live_step(v, s, a);
    pipes_header(v, r);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

/* ---- actions ------------------------------------------------------------------ */

static const fv_folder *selected(view *v, const fv_pipeline **pipe)
{
    size_t i;
    folders_state *s = st(v);
    if (!s || !s->pipelines || !v->loaded || !list_selected(v, &i) || i >= s->nitems)
        return NULL;
    *pipe = &s->pipes[s->items[i].pipe];
    return s->items[i].folder >= 0 ? &(*pipe)->f[s->items[i].folder] : NULL;
}

static void marks_clear(folders_state *s)
{
    for (size_t i = 0; i < s->nmarks; i++)
        free(s->marks[i]);
    free(s->marks);
    s->marks = NULL;
    s->nmarks = 0;
}

static unsigned do_select(view *v, app *a)
{
    folders_state *s = st(v);
    const fv_pipeline *p = NULL;
    const fv_folder *f = selected(v, &p);
    if (!f) {
        app_message(a, EL_MESSAGE, "Space marks a folder: select one first");
        return REACT_REDRAW;
    }
    char *key = sl_asprintf("%s/%s", p->name, f->name);
    size_t i = 0;
    while (i < s->nmarks && strcmp(s->marks[i], key) != 0)
        i++;
    if (i < s->nmarks) {
        free(s->marks[i]);
        s->marks[i] = s->marks[--s->nmarks];
        free(key);
    } else {
        s->marks = sl_realloc(s->marks, (s->nmarks + 1) * sizeof *s->marks);
        s->marks[s->nmarks++] = key;
    }
    /* As htop's Space: the next row is selected, so a run of folders marks fast. */
    list_move(v, ACT_DOWN);
    app_message(a, EL_MESSAGE, "%zu folder%s marked (S skip, M mark-processed, Z reset)",
                s->nmarks, s->nmarks == 1 ? "" : "s");
    return REACT_REDRAW;
}

static int parse_states(fv_where *w, const char *list, sl_err *err)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        for (size_t s = 0; s < NSTATES && !found; s++)
            if (strlen(state_names[s]) == n && strncmp(p, state_names[s], n) == 0) {
                w->states |= 1u << s;
                found = 1;
            }
        if (!found && n == 4 && strncmp(p, "late", 4) == 0)
            found = w->late = 1;
        if (!found && n == 11 && strncmp(p, "quarantined", 11) == 0)
            found = w->quarantined = 1;
        if (!found && n) {
            err_set(
                err, SL_USAGE,
                "state is failed, running, pending, waiting, skipped, processed, late "
                "or quarantined (several: state=failed,pending), not '%.*s'",
                (int)n, p);
            return 0;
        }
        p += n;
        p += *p == ',';
    }
    return 1;
}

/* `:where state=failed,pending pipeline=orders`; no argument clears. */
static unsigned do_where(view *v, app *a, const char *arg, sl_err *err)
{
    folders_state *s = st(v);
    fv_where w = {0};
    if (arg)
        snprintf(w.text, sizeof w.text, "%s", arg);
    char *copy = sl_strdup(arg ? arg : "");
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (eq && strncmp(tok, "state", (size_t)(eq - tok)) == 0 && eq - tok == 5) {
            if (!parse_states(&w, eq + 1, err))
                break;
        } else if (eq && eq - tok == 8 && strncmp(tok, "pipeline", 8) == 0) {
            snprintf(w.pipeline, sizeof w.pipeline, "%s", eq + 1);
        } else {
            err_set(
                err, SL_USAGE,
                "folders filter by state=STATE[,STATE...] and pipeline=NAME, not '%s'",
                tok);
            break;
        }
    }
    free(copy);
    if (err->code != SL_OK)
        return REACT_REDRAW;
    s->where = w;
    if (s->pipelines && v->loaded) {
        items_build(s);
        v->list.cursor = v->list.top = 0;
        list_refilter(v);
    }
    if (w.text[0])
        app_message(a, EL_MESSAGE, "folders where %s (:where alone clears)", w.text);
    else
        app_message(a, EL_MESSAGE, "folder filter cleared");
    return REACT_REDRAW;
}

/* The folders an action applies to: the marked ones (all of one pipeline),
 * else the selected one. Returns the count; *names are borrowed from the
 * view's data (valid until the next load) and freed by the caller (array). */
static size_t action_folders(view *v, const char ***names, const fv_pipeline **pipe,
                             sl_err *err)
{
    folders_state *s = st(v);
    *names = NULL;
    *pipe = NULL;
    if (s->nmarks) {
        const char **out = sl_calloc(s->nmarks, sizeof *out);
        size_t n = 0;
        for (size_t i = 0; i < s->npipes; i++)
            for (size_t k = 0; k < s->pipes[i].n; k++) {
                if (!is_marked(s, s->pipes[i].name, s->pipes[i].f[k].name))
                    continue;
                if (*pipe && *pipe != &s->pipes[i]) {
                    free(out);
                    err_set(
                        err, SL_USAGE,
                        "the marked folders belong to several pipelines: mark folders "
                        "of one (Space unmarks)");
                    return 0;
                }
                *pipe = &s->pipes[i];
                out[n++] = s->pipes[i].f[k].name;
            }
        if (n) {
            *names = out;
            return n;
        }
        free(out); /* marks of folders gone since: fall back to the selection */
    }
    const fv_folder *f = selected(v, pipe);
    if (!f) {
        err_set(err, SL_USAGE, "select a folder (or mark some with Space) first");
        return 0;
    }
    const char **out = sl_calloc(1, sizeof *out);
    out[0] = f->name;
    *names = out;
    return 1;
}

static unsigned do_pipeline_action(view *v, app *a, action_id id, const char *arg,
                                   sl_err *err)
{
    if (!v->loaded) {
        err_set(err, SL_USAGE, "the folders are still loading");
        return REACT_REDRAW;
    }
    pipeact_target t = {0};
    const fv_pipeline *p = NULL;
    const char **names = NULL;
    const fv_folder *f = NULL;
    switch (id) {
    case ACT_RUN:
        /* On a section line: the whole pipeline; on a folder: that folder. */
        f = selected(v, &p);
        if (!p) {
            err_set(err, SL_USAGE, "select a folder or a pipeline first");
            return REACT_REDRAW;
        }
        if (f) {
            names = sl_calloc(1, sizeof *names);
            names[0] = f->name;
            t.nfolders = 1;
        }
        t.until_step = arg;
        break;
    case ACT_SKIP_FILE: {
        /* FILE: as the error names it ("1700000000/part-1.jsonl"), or
         * relative to the selected folder ("part-1.jsonl"). */
        f = selected(v, &p);
        if (!f || !arg || !*arg) {
            err_set(err, SL_USAGE,
                    "select the folder, then :skip-file FILE (the file the error names)");
            return REACT_REDRAW;
        }
        char *key =
            strchr(arg, '/') ? sl_strdup(arg) : sl_asprintf("%s/%s", f->name, arg);
        const char *keys[1] = {key};
        t.pipeline = p->name;
        t.files = keys;
        t.nfiles = 1;
        pipeact_open(a, id, &t, err);
        free(key);
        return REACT_REDRAW;
    }
    case ACT_RETRY:
        f = selected(v, &p);
        if (!f || strcmp(f->state, "failed") != 0 || !f->run_id) {
            err_set(err, SL_USAGE,
                    "retry works on a failed folder: select one (:where state=failed)");
            return REACT_REDRAW;
        }
        names = sl_calloc(1, sizeof *names);
        names[0] = f->name;
        t.nfolders = 1;
        t.run_id = f->run_id;
        break;
    default: /* skip, mark-processed, reset */
        t.nfolders = action_folders(v, &names, &p, err);
        if (!t.nfolders)
            return REACT_REDRAW;
        break;
    }
    t.pipeline = p->name;
    t.folders = names;
    pipeact_open(a, id, &t, err);
    free(names);
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    if (!st(v) || !st(v)->pipelines)
        return REACT_UNHANDLED;
    switch (id) {
    case ACT_SELECT:
        return do_select(v, a);
    case ACT_WHERE:
        return do_where(v, a, arg, err);
    case ACT_RUN:
    case ACT_RETRY:
    case ACT_SKIP:
    case ACT_MARK:
    case ACT_RESET:
    case ACT_SKIP_FILE:
        return do_pipeline_action(v, a, id, arg, err);
    default:
        return REACT_UNHANDLED;
    }
}

static void notify(view *v, app *a, int event)
{
    if (event != VIEW_EVENT_TABLE_CHANGED || !st(v))
        return;
    /* Folder states changed under the marks (an action on them, or another
     * view's): stale marks must not carry into the next action. */
    marks_clear(st(v));
    load(v, a);
}

/* ---- drill down: a folder's files, checkpoint row and runs ------------------ */

typedef struct files_arg {
    char *url;
    char *prefix;
} files_arg;

static void files_arg_free(void *p)
{
    files_arg *f = p;
    free(f->url);
    free(f->prefix);
    free(f);
}

static sl_code files_text(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    files_arg *f = arg;
    store *s = NULL;
    sl_code rc = store_open(f->url, &s, err);
    if (rc != SL_OK)
        return rc;
    store_set_log(s, sess->log);
    store_page page = {0};
    rc = store_list_all(s, f->prefix, NULL, &page, err);
    if (rc == SL_OK) {
        const char *root = store_url(s);
        size_t rl = strlen(root);
        buf_appendf(out, "%s%s%s — %zu objects\n\n", root,
                    rl && root[rl - 1] == '/' ? "" : "/", f->prefix, page.n);
        for (size_t i = 0; i < page.n; i++) {
            char size[32], when[32];
            fmt_bytes(page.items[i].size, size, sizeof size);
            fmt_time(page.items[i].mtime_ms, when, sizeof when);
            buf_appendf(out, "%10s  %s  %s\n", size, when,
                        page.items[i].key + strlen(f->prefix));
        }
    }
    store_page_free(&page);
    store_close(s);
    return rc;
}

static unsigned plain_enter(view *v, app *a)
{
    size_t i;
    if (!list_selected(v, &i))
        return REACT_NONE;
    const source_listing *l = &st(v)->listing;
    const source_folder *f = NULL;
    if (i < l->nepochs)
        f = &l->epochs[i];
    else if (i > l->nepochs)
        f = &l->others[i - l->nepochs - 1];
    if (!f || f->is_file)
        return REACT_NONE;
    files_arg *arg = sl_calloc(1, sizeof *arg);
    arg->url = sl_strdup(st(v)->url);
    arg->prefix = sl_asprintf("%s/", f->name);
    app_push(a, view_text_new(a, f->name, files_text, arg, files_arg_free));
    return REACT_REDRAW;
}

typedef struct detail_arg {
    char *pipeline;
    char *folder;
} detail_arg;

static void detail_arg_free(void *p)
{
    detail_arg *d = p;
    free(d->pipeline);
    free(d->folder);
    free(d);
}

static void num_line(sl_buf *out, const char *label, int64_t n)
{
    char text[32] = "-";
    if (n >= 0)
        fmt_count(n, text, sizeof text);
    buf_appendf(out, "  %-18s %s\n", label, text);
}

static void ckpt_lines(sl_buf *out, const ckpt_entry *e)
{
    char t1[32], t2[32], size[32];
    buf_appendf(out, "Checkpoint row (seq %lld)\n", (long long)e->seq);
    buf_appendf(out, "  %-18s %s\n", "state", e->state);
    /* The error first: on a small screen it is what the engineer came for. */
    if (e->error_code) {
        buf_appendf(out, "  %-18s %s\n", "error", e->error_code);
        buf_appendf(out, "  %-18s %s\n", "message", e->message ? e->message : "");
        buf_appendf(out, "  %-18s %s\n", "hint",
                    err_code_hint(err_code_from_name(e->error_code)));
    } else if (e->message) {
        buf_appendf(out, "  %-18s %s\n", "reason", e->message);
    }
    buf_appendf(out, "  %-18s %s\n", "run", e->run_id ? e->run_id : "-");
    buf_appendf(out, "  %-18s %lld\n", "batch", (long long)e->batch_id);
    buf_appendf(out, "  %-18s %s\n", "operator",
                e->operator_name ? e->operator_name : "-");
    fmt_time(e->started_ms, t1, sizeof t1);
    fmt_time(e->finished_ms, t2, sizeof t2);
    buf_appendf(out, "  %-18s %s → %s\n", "started → finished", t1, t2);
    num_line(out, "files", e->files);
    fmt_bytes(e->bytes >= 0 ? (uint64_t)e->bytes : 0, size, sizeof size);
    buf_appendf(out, "  %-18s %s\n", "bytes", e->bytes >= 0 ? size : "-");
    num_line(out, "rows read", e->rows_read);
    num_line(out, "rows bronze", e->rows_bronze);
    num_line(out, "rows quarantined", e->rows_quarantined);
    num_line(out, "rows dropped", e->rows_dropped);
    num_line(out, "rows silver", e->rows_silver);
    num_line(out, "rows gold", e->rows_gold);
    buf_appendf(out, "  %-18s %s\n", "versions", e->versions ? e->versions : "-");
}

static void history_lines(sl_buf *out, store *lake, const detail_arg *d)
{
    ckpt_entry *h = NULL;
    size_t n = 0;
    sl_err err = {0};
    if (ckpt_history(lake, d->pipeline, d->folder, &h, &n, &err) != SL_OK) {
        buf_appendf(out, "\nCheckpoint history: %s %s\n", err_code_name(err.code),
                    err.msg);
        return;
    }
    buf_appendf(out, "\nCheckpoint history (%zu rows, oldest first)\n", n);
    for (size_t i = 0; i < n; i++) {
        char when[32];
        fmt_time(h[i].recorded_ms, when, sizeof when);
        buf_appendf(out, "  %s  %-9s  batch %-4lld %-16s %s%s%s\n", when, h[i].state,
                    (long long)h[i].batch_id,
                    h[i].operator_name ? h[i].operator_name : "-",
                    h[i].error_code ? h[i].error_code : "", h[i].error_code ? " " : "",
                    h[i].message ? h[i].message : "");
    }
    ckpt_entries_free(h, n);
}

static void runs_lines(sl_buf *out, store *lake, const detail_arg *d)
{
    run_step *rows = NULL;
    size_t n = 0;
    sl_err err = {0};
    if (runs_load(lake, d->pipeline, NULL, &rows, &n, &err) != SL_OK) {
        buf_appendf(out, "\nRuns: %s %s\n", err_code_name(err.code), err.msg);
        return;
    }
    size_t shown = 0;
    for (size_t i = 0; i < n; i++)
        shown += rows[i].folder && strcmp(rows[i].folder, d->folder) == 0;
    buf_appendf(out, "\nRuns (%zu step attempts)\n", shown);
    if (shown)
        buf_appendf(out, "  %-16s %-10s %-3s %-10s %8s %8s  %-24s %s\n", "RUN", "STEP",
                    "TRY", "STATE", "ROWS IN", "ROWS OUT", "TABLE@VERSION", "ERROR");
    for (size_t i = 0; i < n; i++) {
        const run_step *r = &rows[i];
        if (!r->folder || strcmp(r->folder, d->folder) != 0)
            continue;
        char in[32], outn[32], tv[96] = "-";
        count_cell(r->rows_in, in);
        count_cell(r->rows_out, outn);
        if (r->table_name && r->version_after >= 0)
            snprintf(tv, sizeof tv, "%s@%lld", r->table_name,
                     (long long)r->version_after);
        buf_appendf(out, "  %-16s %-10s %-3d %-10s %8s %8s  %-24s %s\n", r->run_id,
                    r->step, r->attempt, r->state, in, outn, tv,
                    r->error_code ? r->error_code : "");
        if (r->error_message)
            buf_appendf(out, "      %s\n", r->error_message);
    }
    run_steps_free(rows, n);
}

static sl_code detail_text(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    detail_arg *d = arg;
    pipeline_def *def = NULL;
    sl_code c = config_pipeline_load(sess->cfg, d->pipeline, &def, err);
    if (c != SL_OK)
        return c;
    store *lake = NULL;
    c = store_open(def->lake_url, &lake, err);
    ckpt_view v = {0};
    if (c == SL_OK) {
        store_set_log(lake, sess->log);
        c = ckpt_load(lake, def->name, &v, err);
    }
    if (c == SL_OK) {
        int64_t epoch = -1;
        char when[32] = "-";
        if (folders_epoch_of(d->folder, &epoch))
            fmt_time_short(epoch * 1000, when, sizeof when);
        buf_appendf(out, "%s / %s — %s UTC\n\n", def->name, d->folder, when);
        const ckpt_entry *e = ckpt_find(&v, d->folder);
        if (e)
            ckpt_lines(out, e);
        else
            buf_appendf(out, "Checkpoint row: none yet (the folder was never run)\n");
        history_lines(out, lake, d);
        runs_lines(out, lake, d);
        buf_appendf(out, "\nFiles: ");
        files_arg fa = {.url = def->source.url, .prefix = sl_asprintf("%s/", d->folder)};
        sl_err ferr = {0};
        if (files_text(sess, &fa, out, &ferr) != SL_OK)
            buf_appendf(out, "%s %s\n", err_code_name(ferr.code), ferr.msg);
        free(fa.prefix);
    }
    ckpt_view_free(&v);
    store_close(lake);
    pipeline_def_free(def);
    return c;
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    if (!v->loaded)
        return REACT_NONE;
    if (!st(v)->pipelines)
        return plain_enter(v, a);
    const fv_pipeline *p = NULL;
    const fv_folder *f = selected(v, &p);
    if (!f) {
        app_message(a, EL_MESSAGE, "Enter opens a folder; x on a pipeline line runs it");
        return REACT_REDRAW;
    }
    detail_arg *arg = sl_calloc(1, sizeof *arg);
    arg->pipeline = sl_strdup(p->name);
    arg->folder = sl_strdup(f->name);
    app_push(a, view_text_new(a, f->name, detail_text, arg, detail_arg_free));
    return REACT_REDRAW;
}

static void done(view *v)
{
    folders_state *s = st(v);
    if (!s)
        return;
    folders_free(&s->listing);
    free(s->url);
    pipes_free(s->pipes, s->npipes);
    free(s->items);
    marks_clear(s);
    free(s);
}

const view_ops view_folders_ops = {
    .name = "folders",
    .title = "Folders",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};
