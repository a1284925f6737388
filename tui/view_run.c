/* The live run (w, and after x/t start one): the run's header, one line
 * per step with its progress, and the run's log below in follow mode (new
 * lines keep it at the bottom; k/PgUp scrolls up and pauses, F follows
 * again). C asks to stop the run at its next step boundary. Without a run
 * it shows the last run of this console, or how to start one. Everything
 * drawn comes from a snapshot of tui/liverun.c taken under its lock: the
 * view loads nothing from the backend itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/liverun.h"
#include "tui/pipeact.h"
#include "tui/view.h"

typedef struct run_state {
    int paused;       /* the log does not follow new lines */
    uint64_t top_seq; /* paused: sequence number of the first line shown */
    /* from the last draw, for scrolling */
    uint64_t first_seq, end_seq; /* lines [first_seq, end_seq) are in the ring */
    int page;                    /* log lines shown */
} run_state;

static run_state *st(view *v)
{
    if (!v->state) /* opened by name (`view run`) rather than view_run_new */
        v->state = sl_calloc(1, sizeof(run_state));
    return v->state;
}

static theme_elem state_elem(const char *state)
{
    if (strcmp(state, "succeeded") == 0 || strcmp(state, "processed") == 0)
        return EL_OK;
    if (strcmp(state, "failed") == 0)
        return EL_FAILED;
    if (strcmp(state, "retrying") == 0 || strcmp(state, "cancelled") == 0)
        return EL_WARNING;
    if (strcmp(state, "skipped") == 0)
        return EL_DIM;
    return EL_LOADING; /* running */
}

/* ---- header --------------------------------------------------------------- */

static int64_t elapsed_of(int64_t started, int64_t finished)
{
    int64_t end = finished >= 0 ? finished : time_now_ms();
    return end >= started ? end - started : 0;
}

/* Lines used. */
static int draw_header(app *a, const liverun_view *lv, tui_rect r)
{
    int row = r.row;
    const char *state = lv->cancelling ? "cancelling" : lv->state;
    char left[256];
    snprintf(left, sizeof left, "%s %s", lv->action, lv->target[0] ? lv->target : "");
    char right[64];
    if (lv->active)
        snprintf(right, sizeof right, "%s %s", app_spinner(a), state);
    else
        snprintf(right, sizeof right, "%s", state);
    int rw = crt_text_width(right);
    crt_put(row, r.col + 1, r.cols - rw - 3, EL_NORMAL, left);
    crt_put_right(row, r.col, r.cols - 1, lv->cancelling ? EL_WARNING : state_elem(state),
                  right);
    if (++row >= r.row + r.rows)
        return row - r.row;

    char started[24], took[24];
    fmt_time_short(lv->started_ms, started, sizeof started);
    fmt_duration(elapsed_of(lv->started_ms, lv->finished_ms), took, sizeof took);
    char *info = sl_asprintf("run %s · started %s · %s %s · %zu folder%s done",
                             lv->run_id[0] ? lv->run_id
                             : lv->active  ? "(starting)"
                                           : "-",
                             started, lv->active ? "elapsed" : "took", took,
                             lv->folders_done, lv->folders_done == 1 ? "" : "s");
    crt_put(row++, r.col + 1, r.cols - 1, EL_DIM, info);
    free(info);
    if (row >= r.row + r.rows)
        return row - r.row;

    /* what the operator must know at once */
    if (lv->cancelling) {
        crt_put(row++, r.col + 1, r.cols - 1, EL_WARNING,
                "cancel asked: the run stops after its current step (never mid-commit)");
    } else if (!lv->active && lv->code == SL_RUN_CANCELLED) {
        crt_put(row++, r.col + 1, r.cols - 1, EL_WARNING,
                "stopped by the operator; the folder in progress stays resumable");
    } else if (!lv->active && lv->code != SL_OK) {
        char *line = sl_asprintf("%s %s", err_code_name(lv->code), lv->err.msg);
        crt_put(row++, r.col + 1, r.cols - 1, EL_FAILED, line);
        free(line);
    }
    return row - r.row;
}

/* ---- steps ----------------------------------------------------------------- */

enum { W_STEP = 9, W_STATE = 10, W_TRY = 3, W_ELAPSED = 7 };

typedef struct step_cols {
    int folder, step, state, try_, elapsed, progress; /* start columns */
    int folder_w, progress_w;
} step_cols;

static step_cols layout(const liverun_view *lv, tui_rect r)
{
    step_cols c;
    int longest = 6;
    for (size_t i = 0; i < lv->nsteps; i++) {
        int w = crt_text_width(lv->steps[i].folder);
        if (w > longest)
            longest = w;
    }
    int max_folder = r.cols / 4 > 8 ? r.cols / 4 : 8;
    c.folder_w = longest < max_folder ? longest : max_folder;
    c.folder = r.col + 1;
    c.step = c.folder + c.folder_w + 1;
    c.state = c.step + W_STEP + 1;
    c.try_ = c.state + W_STATE + 1;
    c.elapsed = c.try_ + W_TRY + 1;
    c.progress = c.elapsed + W_ELAPSED + 2;
    c.progress_w = r.col + r.cols - c.progress - 1;
    if (c.progress_w < 0)
        c.progress_w = 0;
    return c;
}

/* "[#####-----]" of done/total, width cells wide (brackets included). */
static void bar(int64_t done, int64_t total, int width, char *out, size_t outlen)
{
    int inner = width - 2;
    int full = total > 0 ? (int)((double)inner * (double)done / (double)total) : 0;
    if (full > inner)
        full = inner;
    if (full < 0)
        full = 0;
    sl_buf b = {0};
    buf_append_char(&b, '[');
    for (int i = 0; i < inner; i++)
        buf_append_str(&b, i < full ? "#" : "-");
    buf_append_char(&b, ']');
    snprintf(out, outlen, "%s", b.data);
    buf_free(&b);
}

/* The progress cell: a bar with bytes when the total is known, then the
 * rows in and out once the step has them; plain counts otherwise. */
static void progress_text(const liverun_step *s, int width, char *out, size_t outlen)
{
    if (strcmp(s->state, "cancelled") == 0) {
        snprintf(out, outlen, "not started");
        return;
    }
    if (strcmp(s->state, "skipped") == 0) {
        snprintf(out, outlen, "already in %s (recovered)",
                 s->table[0] ? s->table : "table");
        return;
    }
    if (strcmp(s->state, "failed") == 0 || strcmp(s->state, "retrying") == 0) {
        snprintf(out, outlen, "%s", s->error_code);
        return;
    }
    int done = strcmp(s->state, "succeeded") == 0;
    char rows[64] = "";
    char in[16], outn[16];
    if (done && s->rows >= 0 && s->rows_out >= 0) {
        fmt_human(s->rows, in, sizeof in);
        fmt_human(s->rows_out, outn, sizeof outn);
        snprintf(rows, sizeof rows, "%s→%s rows", in, outn);
    } else if (done && s->rows_out >= 0) { /* aggregate: the groups it rewrote */
        fmt_human(s->rows_out, outn, sizeof outn);
        snprintf(rows, sizeof rows, "%s %s", outn,
                 strcmp(s->step, "aggregate") == 0 ? "groups" : "rows out");
    } else if (!done && s->rows_total >= 0) {
        fmt_human(s->rows_total, in, sizeof in);
        snprintf(rows, sizeof rows, "%s rows %s", in,
                 strcmp(s->step, "merge") == 0 ? "to merge" : "expected");
    }
    if (s->bytes_total > 0 && width >= 16) {
        int64_t got = s->bytes > s->bytes_total ? s->bytes_total : s->bytes;
        char b[32], bt[32], wide[64], narrow[64];
        fmt_bytes((uint64_t)got, b, sizeof b);
        fmt_bytes((uint64_t)s->bytes_total, bt, sizeof bt);
        bar(got, s->bytes_total, 12, wide, sizeof wide);
        bar(got, s->bytes_total, 8, narrow, sizeof narrow);
        int pct = (int)(100.0 * (double)got / (double)s->bytes_total);
        const char *sep = rows[0] ? " · " : "";
        /* narrower terminals lose the total, then the percentage and some
         * of the bar; the rows stay */
        char *forms[] = {
            sl_asprintf("%s %3d%% %s/%s%s%s", wide, pct, b, bt, sep, rows),
            sl_asprintf("%s %3d%% %s%s%s", wide, pct, b, sep, rows),
            sl_asprintf("%s %s%s%s", narrow, b, sep, rows),
        };
        size_t nforms = sizeof forms / sizeof *forms, pick = 0;
        while (pick + 1 < nforms && crt_text_width(forms[pick]) > width)
            pick++;
        snprintf(out, outlen, "%s", forms[pick]);
        for (size_t i = 0; i < nforms; i++)
            free(forms[i]);
        return;
    }
    if (!done && s->bytes > 0) {
        char b[32];
        fmt_bytes((uint64_t)s->bytes, b, sizeof b);
        snprintf(out, outlen, "%s read%s%s", b, rows[0] ? " · " : "", rows);
        return;
    }
    snprintf(out, outlen, "%s", rows[0] ? rows : done ? "" : "…");
}

static void draw_step(const liverun_step *s, const step_cols *c, int row)
{
    char folder[128], tries[16], took[24], prog[256];
    fmt_middle(s->folder, (size_t)c->folder_w, folder, sizeof folder);
    crt_put(row, c->folder, c->folder_w, EL_NORMAL, folder);
    crt_put(row, c->step, W_STEP, EL_NORMAL, s->step);
    crt_put(row, c->state, W_STATE, state_elem(s->state), s->state);
    snprintf(tries, sizeof tries, "%d", s->attempt);
    crt_put_right(row, c->try_, W_TRY, s->attempt > 1 ? EL_WARNING : EL_NORMAL,
                  s->attempt > 0 ? tries : "-");
    if (s->attempt > 0)
        fmt_duration(elapsed_of(s->started_ms, s->finished_ms), took, sizeof took);
    else
        snprintf(took, sizeof took, "-");
    crt_put_right(row, c->elapsed, W_ELAPSED, EL_NORMAL, took);
    progress_text(s, c->progress_w, prog, sizeof prog);
    theme_elem e = strcmp(s->state, "failed") == 0     ? EL_FAILED
                   : strcmp(s->state, "retrying") == 0 ? EL_WARNING
                                                       : EL_NORMAL;
    crt_put(row, c->progress, c->progress_w, e, prog);
}

/* The step lines (the latest ones when they do not all fit); lines used. */
static int draw_steps(const liverun_view *lv, tui_rect r)
{
    if (r.rows <= 0)
        return 0;
    step_cols c = layout(lv, r);
    crt_fill(r.row, r.col, r.cols, EL_HEADER);
    crt_put(r.row, c.folder, c.folder_w, EL_HEADER, "Folder");
    crt_put(r.row, c.step, W_STEP, EL_HEADER, "Step");
    crt_put(r.row, c.state, W_STATE, EL_HEADER, "State");
    crt_put_right(r.row, c.try_, W_TRY, EL_HEADER, "Try");
    crt_put_right(r.row, c.elapsed, W_ELAPSED, EL_HEADER, "Elapsed");
    crt_put(r.row, c.progress, c.progress_w, EL_HEADER, "Progress");
    int row = r.row + 1;
    int room = r.rows - 1;
    if (lv->nsteps == 0 && room > 0) {
        crt_put(row++, r.col + 1, r.cols - 1, EL_DIM,
                lv->active ? "discovering folders…" : "no step ran");
        return row - r.row;
    }
    size_t first = 0;
    if ((size_t)room < lv->nsteps && room > 0) {
        first = lv->nsteps - (size_t)room + 1;
        char *more = sl_asprintf("… %zu earlier step%s", first, first == 1 ? "" : "s");
        crt_put(row++, r.col + 1, r.cols - 1, EL_DIM, more);
        free(more);
    }
    for (size_t i = first; i < lv->nsteps && row < r.row + r.rows; i++)
        draw_step(&lv->steps[i], &c, row++);
    return row - r.row;
}

/* ---- log ---------------------------------------------------------------------- */

static void draw_log(view *v, const liverun_view *lv, tui_rect r)
{
    run_state *s = st(v);
    if (r.rows <= 0)
        return;
    s->end_seq = lv->log_seq;
    s->first_seq = lv->log_seq - lv->nlog;
    s->page = r.rows - 1; /* under the title line */
    uint64_t page = (uint64_t)s->page;
    uint64_t bottom_top = lv->nlog > page ? s->end_seq - page : s->first_seq;
    uint64_t top = bottom_top;
    if (s->paused) {
        if (s->top_seq < s->first_seq)
            s->top_seq = s->first_seq; /* dropped from the ring meanwhile */
        if (s->top_seq > bottom_top)
            s->top_seq = bottom_top;
        top = s->top_seq;
    }
    char *title;
    if (s->paused)
        title = sl_asprintf(" Log · paused — F follows (%llu more below)",
                            (unsigned long long)(bottom_top - top));
    else
        title = sl_asprintf(" Log · following (%zu line%s; k/PgUp scrolls)", lv->nlog,
                            lv->nlog == 1 ? "" : "s");
    crt_fill(r.row, r.col, r.cols, EL_SECTION);
    crt_put(r.row, r.col, r.cols, s->paused ? EL_WARNING : EL_SECTION, title);
    free(title);
    for (int i = 0; i < s->page; i++) {
        uint64_t seq = top + (uint64_t)i;
        if (seq >= s->end_seq)
            break;
        const char *line = lv->log[seq - s->first_seq];
        theme_elem e = strstr(line, " failed")                              ? EL_FAILED
                       : strstr(line, "cancel") || strstr(line, "retrying") ? EL_WARNING
                                                                            : EL_NORMAL;
        crt_put(r.row + 1 + i, r.col + 1, r.cols - 1, e, line);
    }
}

/* ---- the view -------------------------------------------------------------------- */

static void draw_empty(tui_rect r)
{
    static const char *const lines[] = {
        "No run started from this console.",
        "",
        "Start one from Folders (2): select a folder and press x (run);",
        "t retries a failed folder. The run then shows here as it goes:",
        "each step with its progress, and the run's log.",
    };
    for (int i = 0; i < (int)(sizeof lines / sizeof *lines) && i < r.rows; i++)
        crt_put(r.row + i, r.col + 1, r.cols - 1, i == 0 ? EL_NORMAL : EL_DIM, lines[i]);
}

static void draw(view *v, app *a, tui_rect r)
{
    liverun_view lv;
    liverun_snapshot(app_liverun(a), &lv);
    if (!lv.action[0]) {
        draw_empty(r);
        liverun_view_free(&lv);
        return;
    }
    int used = draw_header(a, &lv, r);
    used += used < r.rows; /* a blank line before the steps */
    int left = r.rows - used;
    /* the log keeps at least a third of what is left (and a title line) */
    int min_log = left / 3 > 2 ? left / 3 : (left > 2 ? 2 : 0);
    int step_room = left - min_log;
    int want = (int)lv.nsteps + 1 + (lv.nsteps == 0);
    if (want < step_room)
        step_room = want;
    tui_rect sr = {r.row + used, r.col, step_room, r.cols};
    used += draw_steps(&lv, sr);
    tui_rect lr = {r.row + used, r.col, r.rows - used, r.cols};
    draw_log(v, &lv, lr);
    liverun_view_free(&lv);
}

static unsigned scroll(view *v, int64_t by)
{
    run_state *s = st(v);
    uint64_t page = (uint64_t)(s->page > 0 ? s->page : 1);
    uint64_t bottom_top =
        s->end_seq - s->first_seq > page ? s->end_seq - page : s->first_seq;
    int64_t top = (int64_t)(s->paused ? s->top_seq : bottom_top) + by;
    if (top < (int64_t)s->first_seq)
        top = (int64_t)s->first_seq;
    if (top > (int64_t)bottom_top)
        top = (int64_t)bottom_top;
    s->top_seq = (uint64_t)top;
    s->paused = 1;
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)arg;
    run_state *s = st(v);
    int64_t page = s->page > 0 ? s->page : 1;
    switch (id) {
    case ACT_UP:
        return scroll(v, -1);
    case ACT_PAGE_UP:
        return scroll(v, -page);
    case ACT_DOWN:
        return scroll(v, 1);
    case ACT_PAGE_DOWN:
        return scroll(v, page);
    case ACT_FIRST:
        return scroll(v, -(int64_t)(s->end_seq - s->first_seq));
    case ACT_LAST:
    case ACT_FOLLOW:
        s->paused = 0;
        app_message(a, EL_MESSAGE, "following the run's log");
        return REACT_REDRAW;
    case ACT_CANCEL: {
        if (!liverun_active(app_liverun(a))) {
            app_message(a, EL_MESSAGE, "no run in progress");
            return REACT_REDRAW;
        }
        pipeact_target t;
        memset(&t, 0, sizeof t);
        pipeact_open(a, ACT_CANCEL, &t, err);
        return REACT_REDRAW;
    }
    default:
        return REACT_UNHANDLED;
    }
}

static void done(view *v)
{
    free(v->state);
    v->state = NULL;
}

const view_ops view_run_ops = {"run",  "Live run", NULL, NULL, draw,
                               handle, NULL,       NULL, done};

view *view_run_new(app *a)
{
    return app_view_new(a, &view_run_ops, "Live run", sl_calloc(1, sizeof(run_state)));
}
