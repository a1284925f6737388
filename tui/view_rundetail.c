/* One run (Enter in Runs): what it was, its error with the code's hint, its
 * steps in the order they happened (folder, step, attempt, state, rows,
 * table versions, duration), its checks (before: the discover step's
 * detail; during: the ingest steps' row-count and expectation checks;
 * after: gold against silver in the aggregate steps and the schedule
 * check) and the table versions it produced. B rolls it back. */
#include <jansson.h>
#include <stdarg.h>
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

view *view_rundetail_new(app *a, const char *pipeline, const char *run_id);

#define NCOLS 7

/* A line of the detail: a span of text, or a step's cells. */
typedef struct rd_line {
    theme_elem elem;
    int span;
    char *cell[NCOLS];
} rd_line;

typedef struct rd_state {
    char *pipeline, *run_id;
    run_step *rows;
    size_t n;
    int64_t now_ms;
    rd_line *lines;
    size_t nlines, cap;
    int width; /* the width the lines were wrapped for */
} rd_state;

typedef struct rd_job {
    tui_job base;
    char *lake_url, *pipeline, *run_id;
    run_step *rows;
    size_t n;
    int64_t now_ms;
} rd_job;

static const tui_column cols[] = {
    {"Folder", 10, 1, 0}, {"Step", 9, 0, 0},      {"Try", 3, 0, 1},  {"State", 9, 0, 0},
    {"Rows", 7, 0, 1},    {"Versions", 14, 2, 0}, {"Took", 7, 0, 1},
};

static rd_state *st(view *v)
{
    return v->state;
}

/* ---- lines -------------------------------------------------------------- */

static void lines_free(rd_state *s)
{
    for (size_t i = 0; i < s->nlines; i++)
        for (int c = 0; c < NCOLS; c++)
            free(s->lines[i].cell[c]);
    free(s->lines);
    s->lines = NULL;
    s->nlines = s->cap = 0;
}

static rd_line *line_new(rd_state *s, theme_elem e, int span)
{
    if (s->nlines == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->lines = sl_realloc(s->lines, s->cap * sizeof *s->lines);
    }
    rd_line *l = &s->lines[s->nlines++];
    memset(l, 0, sizeof *l);
    l->elem = e;
    l->span = span;
    return l;
}

static void text(rd_state *s, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void text(rd_state *s, theme_elem e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_buf b = {0};
    buf_vappendf(&b, fmt, ap);
    va_end(ap);
    line_new(s, e, 1)->cell[0] = b.data ? b.data : sl_strdup("");
}

/* Long text wrapped at spaces to the width, each line indented. */
static void wrapped(rd_state *s, theme_elem e, const char *indent, const char *body)
{
    int width = s->width - 2 - (int)strlen(indent);
    if (width < 20)
        width = 20;
    const char *p = body;
    while (*p) {
        size_t len = strlen(p);
        size_t cut = len;
        if ((int)len > width) {
            cut = (size_t)width;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (size_t)width;
        }
        text(s, e, "%s%.*s", indent, (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

static const char *run_state(const rd_state *s, const run_step **failed)
{
    *failed = NULL;
    int warned = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->rows[i].state, "failed") && !*failed)
            *failed = &s->rows[i];
        warned |= !strcmp(s->rows[i].state, "warning");
    }
    return *failed ? "failed" : warned ? "warning" : "succeeded";
}

static void build_head(rd_state *s)
{
    const run_step *failed;
    const char *state = run_state(s, &failed);
    int64_t t0 = -1, t1 = -1, b0 = -1, b1 = -1;
    size_t folders = 0;
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        if (r->started_ms >= 0 && (t0 < 0 || r->started_ms < t0))
            t0 = r->started_ms;
        t1 = r->finished_ms > t1 ? r->finished_ms : t1;
        if (r->batch_id >= 0) {
            b0 = b0 < 0 || r->batch_id < b0 ? r->batch_id : b0;
            b1 = r->batch_id > b1 ? r->batch_id : b1;
        }
        folders += r->folder && (i == 0 || !s->rows[i - 1].folder ||
                                 strcmp(s->rows[i - 1].folder, r->folder));
    }
    theme_elem e = failed ? EL_FAILED : !strcmp(state, "warning") ? EL_WARNING : EL_OK;
    text(s, e, "Run %s of %s · %s · %zu step attempts · %zu folders", s->run_id,
         s->pipeline, state, s->n, folders);
    char when[32], age[32], took[32], batches[64] = "no batches";
    fmt_time(t0, when, sizeof when);
    fmt_age(t0, s->now_ms, age, sizeof age);
    fmt_duration(t0 >= 0 && t1 >= t0 ? t1 - t0 : -1, took, sizeof took);
    if (b0 >= 0)
        snprintf(batches, sizeof batches, "batches %lld–%lld", (long long)b0,
                 (long long)b1);
    text(s, EL_NORMAL, "Started %s UTC (%s) · took %s · %s", when, age, took, batches);
    text(s, EL_NORMAL, "%s", "");
    if (failed) {
        text(s, EL_FAILED, "Error %s in %s%s%s, attempt %d",
             failed->error_code ? failed->error_code : "(no code)", failed->step,
             failed->folder ? " of " : "", failed->folder ? failed->folder : "",
             failed->attempt);
        if (failed->error_message)
            wrapped(s, EL_NORMAL, "  ", failed->error_message);
        char *hint = sl_asprintf("hint: %s",
                                 err_code_hint(err_code_from_name(failed->error_code)));
        wrapped(s, EL_WARNING, "  ", hint);
        free(hint);
        text(s, EL_NORMAL, "%s", "");
    }
}

static void build_steps(rd_state *s)
{
    text(s, EL_SECTION, "Steps (%zu)", s->n);
    rd_line *h = line_new(s, EL_HEADER, 0);
    for (int c = 0; c < NCOLS; c++)
        h->cell[c] = sl_strdup(cols[c].title);
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        theme_elem e = !strcmp(r->state, "failed")     ? EL_FAILED
                       : !strcmp(r->state, "retrying") ? EL_WARNING
                       : !strcmp(r->state, "warning")  ? EL_WARNING
                                                       : EL_NORMAL;
        rd_line *l = line_new(s, e, 0);
        char rows[32] = "-", took[32];
        if (r->rows_out >= 0)
            fmt_human(r->rows_out, rows, sizeof rows);
        fmt_duration(r->started_ms >= 0 && r->finished_ms >= r->started_ms
                         ? r->finished_ms - r->started_ms
                         : -1,
                     took, sizeof took);
        l->cell[0] = sl_strdup(r->folder ? r->folder : "(pipeline)");
        l->cell[1] = sl_strdup(r->step);
        l->cell[2] = sl_asprintf("%d", r->attempt);
        l->cell[3] = sl_strdup(r->state);
        l->cell[4] = sl_strdup(rows);
        if (!r->table_name || (r->version_before < 0 && r->version_after < 0))
            l->cell[5] = sl_strdup(r->table_name ? r->table_name : "");
        else if (r->version_after >= 0)
            l->cell[5] =
                sl_asprintf("%s %lld→%lld", r->table_name, (long long)r->version_before,
                            (long long)r->version_after);
        else
            l->cell[5] = sl_asprintf("%s %lld (none made)", r->table_name,
                                     (long long)r->version_before);
        l->cell[6] = sl_strdup(took);
    }
    text(s, EL_NORMAL, "%s", "");
}

static int is_check_code(const char *code)
{
    return code &&
           (!strcmp(code, "SL-CHECK-FAILED") || !strcmp(code, "SL-EXPECTATION-FAILED"));
}

/* Before: what discover found (its detail). */
static void check_before(rd_state *s)
{
    int any = 0;
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        if (strcmp(r->step, "discover") || !r->detail)
            continue;
        json_t *d = json_loads(r->detail, 0, NULL);
        char lag[32];
        fmt_duration(json_integer_value(json_object_get(d, "lag_seconds")) * 1000, lag,
                     sizeof lag);
        text(s, EL_OK,
             "  before  discover: lag %s, %lld pending, %lld late, %lld skipped over",
             lag, (long long)json_integer_value(json_object_get(d, "pending")),
             (long long)json_integer_value(json_object_get(d, "late")),
             (long long)json_integer_value(json_object_get(d, "skipped_over")));
        json_decref(d);
        any = 1;
    }
    if (!any)
        text(s, EL_DIM, "  before  (no discover step recorded)");
}

/* During (ingest) and after (aggregate): failures named, passes counted. */
static void check_steps(rd_state *s, const char *label, const char *step,
                        const char *what)
{
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        if (strcmp(r->step, step))
            continue;
        if (!strcmp(r->state, "succeeded")) {
            passed++;
        } else if (!strcmp(r->state, "failed") && is_check_code(r->error_code)) {
            failed++;
            text(s, EL_FAILED, "  %-7s %s of %s: %s", label, step,
                 r->folder ? r->folder : "-", r->error_code);
        }
    }
    if (passed || !failed)
        text(s, passed ? EL_OK : EL_DIM, "  %-7s %s: passed on %zu %s steps", label, what,
             passed, step);
}

static void check_schedule(rd_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        if (strcmp(r->step, "schedule-check") || !r->detail)
            continue;
        json_t *d = json_loads(r->detail, 0, NULL);
        json_int_t missed = json_integer_value(json_object_get(d, "missed_runs"));
        text(
            s, missed ? EL_WARNING : EL_OK,
            "  after   schedule: %lld missed runs (every %lld min, longest gap %lld min)",
            (long long)missed,
            (long long)json_integer_value(json_object_get(d, "every_minutes")),
            (long long)json_integer_value(json_object_get(d, "longest_gap_minutes")));
        json_decref(d);
    }
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* table -> ascending versions, from the rows' tables and their commits. */
static void versions_add(json_t *m, const char *table, json_int_t v)
{
    if (!table || v < 0)
        return;
    json_t *a = json_object_get(m, table);
    if (!a) {
        a = json_array();
        json_object_set_new(m, table, a);
    }
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) if (json_integer_value(e) == v) return;
    for (i = 0; i < json_array_size(a) && json_integer_value(json_array_get(a, i)) < v;
         i++)
        ;
    json_array_insert_new(a, i, json_integer(v));
}

static void build_versions(rd_state *s)
{
    json_t *m = json_object();
    for (size_t i = 0; i < s->n; i++) {
        const run_step *r = &s->rows[i];
        if (r->version_after >= 0 && strcmp(r->state, "skipped"))
            versions_add(m, r->table_name, r->version_after);
        json_t *d = r->detail ? json_loads(r->detail, 0, NULL) : NULL;
        const char *t;
        json_t *v;
        json_object_foreach(json_object_get(d, "commits"), t, v)
        {
            if (json_is_integer(v))
                versions_add(m, t, json_integer_value(v));
            size_t k;
            json_t *e;
            json_array_foreach(v, k, e) versions_add(m, t, json_integer_value(e));
        }
        json_decref(d);
    }
    text(s, EL_SECTION, "Table versions produced (%zu tables)", json_object_size(m));
    if (!json_object_size(m))
        text(s, EL_DIM, "  none: the run committed nothing");
    const char **names = sl_calloc(json_object_size(m) + 1, sizeof *names);
    size_t nn = 0;
    const char *t;
    json_t *a;
    json_object_foreach(m, t, a) names[nn++] = t;
    qsort(names, nn, sizeof *names, name_cmp);
    int w = 0;
    for (size_t i = 0; i < nn; i++)
        w = (int)strlen(names[i]) > w ? (int)strlen(names[i]) : w;
    for (size_t i = 0; i < nn; i++) {
        a = json_object_get(m, names[i]);
        sl_buf b = {0};
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e)
            buf_appendf(&b, "%s%lld", k ? ", " : "", (long long)json_integer_value(e));
        char *line =
            sl_asprintf("%-*s  %zu version%s: %s", w, names[i], json_array_size(a),
                        json_array_size(a) == 1 ? "" : "s", b.data ? b.data : "");
        wrapped(s, EL_NORMAL, "  ", line);
        free(line);
        buf_free(&b);
    }
    free(names);
    json_decref(m);
}

static void build(rd_state *s, int width)
{
    lines_free(s);
    s->width = width;
    build_head(s);
    build_steps(s);
    text(s, EL_SECTION, "Checks");
    check_before(s);
    check_steps(s, "during", "ingest", "row counts and expectations");
    check_steps(s, "after", "aggregate", "gold equals silver");
    check_schedule(s);
    text(s, EL_NORMAL, "%s", "");
    build_versions(s);
}

/* ---- the list ----------------------------------------------------------- */

static size_t count(view *v)
{
    return st(v) ? st(v)->nlines : 0;
}

static void row(view *v, size_t i, tui_row *out)
{
    const rd_line *l = &st(v)->lines[i];
    out->elem = l->elem;
    out->span = l->span;
    for (int c = 0; c < (l->span ? 1 : NCOLS); c++)
        snprintf(out->cell[c], TUI_CELL_MAX, "%s", l->cell[c] ? l->cell[c] : "");
}

static const list_ops rd_list_ops = {cols, NCOLS, 1, count, row};

/* ---- loading (worker) --------------------------------------------------- */

static void job_run(tui_job *job, session *sess)
{
    rd_job *j = (rd_job *)job;
    j->now_ms = time_now_ms();
    store *lake = NULL;
    job->code = store_open(j->lake_url, &lake, &job->err);
    if (job->code == SL_OK) {
        store_set_log(lake, sess->log);
        job->code = runs_load(lake, j->pipeline, j->run_id, &j->rows, &j->n, &job->err);
    }
    if (job->code == SL_OK && !j->n)
        job->code = err_set(&job->err, SL_RUN_NOT_FOUND, "no run %s in pipeline %s",
                            j->run_id, j->pipeline);
    if (job->code == SL_OK)
        pl_run_steps_order(j->rows, j->n);
    store_close(lake);
}

static void job_free(tui_job *job)
{
    rd_job *j = (rd_job *)job;
    run_steps_free(j->rows, j->n);
    free(j->lake_url);
    free(j->pipeline);
    free(j->run_id);
    free(j);
}

static const char *lake_of(app *a, const char *pipeline)
{
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(defs[i]->name, pipeline))
            return defs[i]->lake_url;
    return NULL;
}

static void load(view *v, app *a)
{
    rd_state *s = st(v);
    v->list.ops = &rd_list_ops;
    const char *lake = lake_of(a, s->pipeline);
    if (!lake) {
        err_set(&v->error, SL_PIPELINE_UNKNOWN, "pipeline %s is not in the config",
                s->pipeline);
        return;
    }
    rd_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->lake_url = sl_strdup(lake);
    j->pipeline = sl_strdup(s->pipeline);
    j->run_id = sl_strdup(s->run_id);
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    rd_job *j = (rd_job *)job;
    rd_state *s = st(v);
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        run_steps_free(s->rows, s->n);
        s->rows = j->rows;
        s->n = j->n;
        s->now_ms = j->now_ms;
        j->rows = NULL;
        j->n = 0;
        build(s, s->width ? s->width : 80);
        v->loaded = 1;
    }
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the run"))
        return;
    rd_state *s = st(v);
    if (s->width != r.cols) { /* wrapped text follows the width */
        build(s, r.cols);
        list_refilter(v);
    }
    list_draw(v, a, (tui_rect){r.row, r.col, r.rows - 1, r.cols});
    crt_put(
        r.row + r.rows - 1, 1, r.cols - 1, EL_DIM,
        "B rolls this run back (preview, then confirm) · t retries it · Esc: the runs");
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)arg;
    if (id != ACT_ROLLBACK && id != ACT_RETRY)
        return REACT_UNHANDLED;
    pipeact_target t = {.pipeline = st(v)->pipeline, .run_id = st(v)->run_id};
    pipeact_open(a, id, &t, err);
    return REACT_REDRAW;
}

static void notify(view *v, app *a, int event)
{
    (void)event;
    if (!v->pending)
        load(v, a);
}

static void done(view *v)
{
    rd_state *s = st(v);
    if (!s)
        return;
    lines_free(s);
    run_steps_free(s->rows, s->n);
    free(s->pipeline);
    free(s->run_id);
    free(s);
}

/* Named "runs": its actions and help are the Runs view's. */
static const view_ops view_rundetail_ops = {
    .name = "runs",
    .title = "Run",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .notify = notify,
    .done = done,
};

view *view_rundetail_new(app *a, const char *pipeline, const char *run_id)
{
    rd_state *s = sl_calloc(1, sizeof *s);
    s->pipeline = sl_strdup(pipeline);
    s->run_id = sl_strdup(run_id);
    char crumb[64];
    snprintf(crumb, sizeof crumb, "run %s", run_id);
    return app_view_new(a, &view_rundetail_ops, crumb, s);
}
