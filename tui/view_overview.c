/* Overview: the first screen. Its first line names the worst thing going
 * on; then one block per pipeline: state, lease, lag of the oldest pending
 * folder (coloured by the lag_minutes thresholds), last run, today's counts,
 * a sparkline of rows per processed folder, and the open alerts (status.h
 * says which). Enter pushes the Runs view filtered to the selected
 * pipeline; x runs it (preview, confirm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/status.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/pipeact.h"
#include "tui/view.h"

#define SPARK_N 24
#define ALERTS_SHOWN 4
#define LABEL_W 10

typedef struct ov_item {
    char *name;
    sl_code code; /* this pipeline's load failed: err says why */
    sl_err err;
    pl_overview o;
} ov_item;

typedef struct overview_state {
    ov_item *items;
    size_t n;
    size_t sel, top;
    int64_t now_ms; /* the clock of the last load */
} overview_state;

typedef struct overview_job {
    tui_job base;
    pipeline_def *const *defs; /* the app's, alive as long as the console */
    size_t ndefs;
    ov_item *items;
    int64_t now_ms;
} overview_job;

static overview_state *st(view *v)
{
    return v->state;
}

static void items_free(ov_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].name);
        pl_overview_free(&items[i].o);
    }
    free(items);
}

/* ---- loading (worker) --------------------------------------------------- */

static void job_run(tui_job *job, session *sess)
{
    overview_job *j = (overview_job *)job;
    j->now_ms = time_now_ms();
    j->items = sl_calloc(j->ndefs ? j->ndefs : 1, sizeof *j->items);
    for (size_t i = 0; i < j->ndefs; i++) {
        ov_item *it = &j->items[i];
        it->name = sl_strdup(j->defs[i]->name);
        /* One broken lake must not hide the other pipelines. */
        it->code =
            pl_overview_load(j->defs[i], sess->log, j->now_ms, SPARK_N, &it->o, &it->err);
    }
    job->code = SL_OK;
}

static void job_free(tui_job *job)
{
    overview_job *j = (overview_job *)job;
    items_free(j->items, j->ndefs);
    free(j);
}

static void load(view *v, app *a)
{
    if (!v->state)
        v->state = sl_calloc(1, sizeof(overview_state));
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    if (!defs || !n) {
        const sl_err *pe = app_pipelines_error(a);
        if (pe && pe->code != SL_OK)
            v->error = *pe;
        else
            v->loaded = 1; /* nothing to load: the empty state says so */
        return;
    }
    overview_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->defs = defs;
    j->ndefs = n;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    overview_job *j = (overview_job *)job;
    overview_state *s = st(v);
    (void)a;
    items_free(s->items, s->n);
    s->items = j->items;
    s->n = j->ndefs;
    s->now_ms = j->now_ms;
    j->items = NULL;
    if (s->sel >= s->n)
        s->sel = s->n ? s->n - 1 : 0;
    err_clear(&v->error);
    v->loaded = 1;
    job->free(job);
}

/* ---- drawing ------------------------------------------------------------ */

static theme_elem state_elem(const char *state)
{
    if (!strcmp(state, "failed"))
        return EL_FAILED;
    if (!strcmp(state, "stuck") || !strcmp(state, "paused"))
        return EL_WARNING;
    return EL_OK;
}

/* Writes text at *col (advancing it) while it fits before end. */
static void seg(int row, int *col, int end, theme_elem e, const char *text)
{
    if (*col >= end)
        return;
    *col += crt_put(row, *col, end - *col, e, text);
}

static void label(int row, int col, const char *text)
{
    crt_put(row, col, LABEL_W, EL_DIM, text);
}

static size_t alerts_lines(const ov_item *it)
{
    if (it->code != SL_OK)
        return 2;
    size_t n = it->o.nalerts;
    if (n > ALERTS_SHOWN)
        n = ALERTS_SHOWN + 1; /* "… N more" */
    return n ? n : 1;
}

/* Header + lease, lag, last run, today, rows, alerts; a blank after. */
static int block_rows(const ov_item *it)
{
    if (it->code != SL_OK)
        return 1 + (int)alerts_lines(it) + 1;
    return 6 + (int)alerts_lines(it) + 1;
}

static void lag_text(app *a, const ov_item *it, char *out, size_t len, theme_elem *e)
{
    const pl_status *s = &it->o.st;
    *e = EL_OK;
    if (s->oldest_pending_epoch < 0) {
        snprintf(out, len, "none: no folder is pending");
        return;
    }
    char d[32], when[32];
    fmt_duration(s->lag_seconds * 1000, d, sizeof d);
    fmt_time_short(s->oldest_pending_epoch * 1000, when, sizeof when);
    double warn = 0, crit = 0;
    if (config_threshold_get(app_session(a)->cfg, "lag_minutes", &warn, &crit)) {
        double minutes = (double)s->lag_seconds / 60.0;
        *e = minutes >= crit ? EL_FAILED : minutes >= warn ? EL_WARNING : EL_OK;
    }
    snprintf(out, len, "%s  oldest pending %lld (%s)", d,
             (long long)s->oldest_pending_epoch, when);
}

static void draw_header(const ov_item *it, int row, int cols, int selected)
{
    theme_elem base = selected ? EL_SELECTION : EL_NORMAL;
    crt_fill(row, 0, cols, base);
    int col = 1;
    seg(row, &col, cols, base, selected ? "▶ " : "  ");
    seg(row, &col, cols, selected ? EL_SELECTION : EL_TITLE, it->name);
    col++;
    if (it->code != SL_OK) {
        seg(row, &col, cols, selected ? EL_SELECTION : EL_FAILED, "UNREADABLE");
        return;
    }
    char up[16];
    snprintf(up, sizeof up, "%s", it->o.state);
    for (char *p = up; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    seg(row, &col, cols, selected ? EL_SELECTION : state_elem(it->o.state), up);
    const size_t *c = it->o.st.counts;
    char counts[160];
    snprintf(counts, sizeof counts,
             "  %zu pending · %zu waiting · %zu processed · %zu failed · %zu skipped",
             c[PL_PENDING], c[PL_WAITING], c[PL_PROCESSED], c[PL_FAILED], c[PL_SKIPPED]);
    seg(row, &col, cols, base, counts);
}

static void draw_lease(const ov_item *it, int row, int x, int cols)
{
    const pl_status *s = &it->o.st;
    label(row, x, "Lease");
    if (!s->lease_held && !s->lease_stale) {
        crt_put(row, x + LABEL_W, cols - x - LABEL_W, EL_NORMAL, "free");
        return;
    }
    char exp[32];
    fmt_time_short(s->lease.expires_ms, exp, sizeof exp);
    char *t = sl_asprintf("%s %s@%s pid %lld, %s %s UTC",
                          s->lease_held ? "held by" : "stale: held by", s->lease.owner,
                          s->lease.host, (long long)s->lease.pid,
                          s->lease_held ? "expires" : "expired", exp);
    crt_put(row, x + LABEL_W, cols - x - LABEL_W, s->lease_held ? EL_NORMAL : EL_WARNING,
            t);
    free(t);
}

static void draw_last_run(const ov_item *it, int64_t now_ms, int row, int x, int cols)
{
    const pl_overview *o = &it->o;
    label(row, x, "Last run");
    if (!o->has_last_run) {
        crt_put(row, x + LABEL_W, cols - x - LABEL_W, EL_DIM, "none recorded");
        return;
    }
    const pl_run_summary *r = &o->last_run;
    char when[32], age[32];
    fmt_time_short(r->started_ms, when, sizeof when);
    fmt_age(r->started_ms, now_ms, age, sizeof age);
    char *t = sl_asprintf("%s  %s (%s)  ", r->run_id, when, age);
    int col = x + LABEL_W;
    seg(row, &col, cols, EL_NORMAL, t);
    free(t);
    theme_elem e = !strcmp(r->state, "failed")    ? EL_FAILED
                   : !strcmp(r->state, "warning") ? EL_WARNING
                                                  : EL_OK;
    seg(row, &col, cols, e, r->state);
    if (r->error_code) {
        char *why = sl_asprintf("  %s in %s%s%s", r->error_code, r->error_step,
                                r->error_folder ? " of " : "",
                                r->error_folder ? r->error_folder : "");
        seg(row, &col, cols, e, why);
        free(why);
    }
}

static void draw_today(const ov_item *it, int row, int x, int cols)
{
    const pl_overview *o = &it->o;
    label(row, x, "Today");
    char rows[32], day[32];
    fmt_count(o->today_rows, rows, sizeof rows);
    fmt_time_short(o->today_start_ms, day, sizeof day);
    day[10] = '\0';
    int col = x + LABEL_W;
    char *t = sl_asprintf("%zu folders processed · ", o->today_processed);
    seg(row, &col, cols, EL_NORMAL, t);
    free(t);
    t = sl_asprintf("%zu failed", o->today_failed);
    seg(row, &col, cols, o->today_failed ? EL_FAILED : EL_NORMAL, t);
    free(t);
    t = sl_asprintf(" · %s rows  (%s UTC)", rows, day);
    seg(row, &col, cols, EL_NORMAL, t);
    free(t);
}

static void draw_spark(const ov_item *it, int row, int x, int cols)
{
    static const char *const bars[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    const pl_overview *o = &it->o;
    label(row, x, "Rows");
    if (!o->nspark) {
        crt_put(row, x + LABEL_W, cols - x - LABEL_W, EL_DIM, "no folder processed yet");
        return;
    }
    int64_t lo = o->spark[0], hi = o->spark[0];
    for (size_t i = 1; i < o->nspark; i++) {
        lo = o->spark[i] < lo ? o->spark[i] : lo;
        hi = o->spark[i] > hi ? o->spark[i] : hi;
    }
    char line[PL_SPARK_MAX * 4 + 1] = "";
    for (size_t i = 0; i < o->nspark; i++) {
        /* Scaled from zero, so a small folder looks small. */
        int level = hi > 0 ? (int)((o->spark[i] * 7 + hi / 2) / hi) : 0;
        strcat(line, bars[level < 0 ? 0 : level > 7 ? 7 : level]);
    }
    int col = x + LABEL_W;
    seg(row, &col, cols, EL_OK, line);
    char a[32], b[32];
    fmt_human(lo, a, sizeof a);
    fmt_human(hi, b, sizeof b);
    char *t = sl_asprintf("  last %zu folders, %s–%s rows each", o->nspark, a, b);
    seg(row, &col, cols, EL_DIM, t);
    free(t);
}

static int draw_alerts(const ov_item *it, int row, int x, int cols, int last)
{
    label(row, x, "Alerts");
    int w = cols - x - LABEL_W;
    if (it->code != SL_OK) {
        char *t = sl_asprintf("✗ %s %s", err_code_name(it->code), it->err.msg);
        crt_put(row, x + LABEL_W, w, EL_FAILED, t);
        free(t);
        if (row + 1 <= last) {
            t = sl_asprintf("hint: %s", err_code_hint(it->code));
            crt_put(row + 1, x + LABEL_W, w, EL_WARNING, t);
            free(t);
        }
        return 2;
    }
    const pl_overview *o = &it->o;
    if (!o->nalerts) {
        crt_put(row, x + LABEL_W, w, EL_OK, "none");
        return 1;
    }
    int used = 0;
    for (size_t i = 0; i < o->nalerts && i < ALERTS_SHOWN && row + used <= last; i++) {
        const pl_alert *al = &o->alerts[i];
        char *t = sl_asprintf("%s %s", al->critical ? "✗" : "!", al->text);
        crt_put(row + used, x + LABEL_W, w, al->critical ? EL_FAILED : EL_WARNING, t);
        free(t);
        used++;
    }
    if (o->nalerts > ALERTS_SHOWN && row + used <= last) {
        char *t = sl_asprintf("… %zu more (Enter: the runs)", o->nalerts - ALERTS_SHOWN);
        crt_put(row + used, x + LABEL_W, w, EL_DIM, t);
        free(t);
        used++;
    }
    return used;
}

/* One pipeline's block from row; stops at last. */
static void draw_block(view *v, app *a, const ov_item *it, int selected, int row,
                       int last, int cols)
{
    const int x = 3;
    draw_header(it, row++, cols, selected);
    if (it->code != SL_OK) {
        if (row <= last)
            draw_alerts(it, row, x, cols, last);
        return;
    }
    if (row <= last)
        draw_lease(it, row++, x, cols);
    if (row <= last) {
        char lag[200];
        theme_elem e;
        lag_text(a, it, lag, sizeof lag, &e);
        label(row, x, "Lag");
        crt_put(row++, x + LABEL_W, cols - x - LABEL_W, e, lag);
    }
    if (row <= last)
        draw_last_run(it, st(v)->now_ms, row++, x, cols);
    if (row <= last)
        draw_today(it, row++, x, cols);
    if (row <= last)
        draw_spark(it, row++, x, cols);
    if (row <= last)
        draw_alerts(it, row, x, cols, last);
}

/* The first line: the worst state across pipelines, named. */
static void draw_summary(view *v, int row, int cols)
{
    const overview_state *s = st(v);
    size_t failed = 0, warn = 0, alerts = 0, bad = 0;
    const ov_item *first_bad = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const ov_item *it = &s->items[i];
        if (it->code != SL_OK || !strcmp(it->o.state, "failed")) {
            failed++;
            if (!first_bad)
                first_bad = it;
        } else if (state_elem(it->o.state) == EL_WARNING) {
            warn++;
        }
        alerts += it->code != SL_OK ? 1 : it->o.nalerts;
        bad += it->code != SL_OK;
    }
    char *t;
    theme_elem e;
    if (failed) {
        const char *why = first_bad->code != SL_OK ? err_code_name(first_bad->code)
                          : first_bad->o.nalerts   ? first_bad->o.alerts[0].text
                                                   : "failed";
        t = sl_asprintf("✗ %zu of %zu pipeline%s failed · %s: %s · %zu open alert%s",
                        failed, s->n, s->n == 1 ? "" : "s", first_bad->name, why, alerts,
                        alerts == 1 ? "" : "s");
        e = EL_FAILED;
    } else if (warn || alerts) {
        t = sl_asprintf("! %zu pipeline%s need attention · %zu open alert%s",
                        warn ? warn : 1, warn == 1 || !warn ? "" : "s", alerts,
                        alerts == 1 ? "" : "s");
        e = EL_WARNING;
    } else {
        t = sl_asprintf("✓ %zu pipeline%s healthy · no open alerts", s->n,
                        s->n == 1 ? "" : "s");
        e = EL_OK;
    }
    crt_fill(row, 0, cols, e == EL_OK ? EL_NORMAL : e);
    crt_put(row, 1, cols - 1, e, t);
    free(t);
}

static void keep_selection_visible(overview_state *s, int rows)
{
    if (s->sel < s->top)
        s->top = s->sel;
    for (;;) {
        int need = 0;
        for (size_t i = s->top; i <= s->sel && i < s->n; i++)
            need += block_rows(&s->items[i]);
        if (need <= rows || s->top >= s->sel)
            break;
        s->top++;
    }
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the pipelines"))
        return;
    overview_state *s = st(v);
    if (!s->n) {
        crt_put(r.row, 1, r.cols - 1, EL_WARNING,
                "No pipelines configured: list them in sluice.json's \"pipelines\"");
        return;
    }
    draw_summary(v, r.row, r.cols);
    int row = r.row + 2, last = r.row + r.rows - 1;
    keep_selection_visible(s, last - row + 1);
    for (size_t i = s->top; i < s->n && row <= last; i++) {
        draw_block(v, a, &s->items[i], i == s->sel, row, last, r.cols);
        row += block_rows(&s->items[i]);
    }
}

/* ---- actions ------------------------------------------------------------ */

static unsigned move(overview_state *s, action_id id)
{
    if (!s->n)
        return REACT_NONE;
    switch (id) {
    case ACT_DOWN:
    case ACT_PAGE_DOWN:
        s->sel = s->sel + 1 < s->n ? s->sel + 1 : s->sel;
        break;
    case ACT_UP:
    case ACT_PAGE_UP:
        s->sel = s->sel ? s->sel - 1 : 0;
        break;
    case ACT_FIRST:
        s->sel = 0;
        break;
    default:
        s->sel = s->n - 1;
        break;
    }
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    overview_state *s = st(v);
    switch (id) {
    case ACT_DOWN:
    case ACT_UP:
    case ACT_PAGE_DOWN:
    case ACT_PAGE_UP:
    case ACT_FIRST:
    case ACT_LAST:
        return s ? move(s, id) : REACT_NONE;
    case ACT_RUN: {
        if (!s || !s->n)
            return REACT_NONE;
        pipeact_target t = {.pipeline = s->items[s->sel].name, .until_step = arg};
        pipeact_open(a, ACT_RUN, &t, err);
        return REACT_REDRAW;
    }
    default:
        return REACT_UNHANDLED;
    }
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    overview_state *s = st(v);
    if (!v->loaded || !s || !s->n)
        return REACT_NONE;
    const char *name = s->items[s->sel].name;
    char crumb[160];
    snprintf(crumb, sizeof crumb, "Runs of %s", name);
    view *runs = app_view_new(a, &view_runs_ops, crumb, NULL);
    char *where = sl_asprintf("pipeline=%s", name);
    /* The Runs view takes its filter as a :where before its first load. */
    view_runs_ops.handle(runs, a, ACT_WHERE, where, err);
    free(where);
    app_push(a, runs);
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
    if (!v->state)
        return;
    items_free(st(v)->items, st(v)->n);
    free(v->state);
}

const view_ops view_overview_ops = {
    .name = "overview",
    .title = "Overview",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};
