/* The command log (L): every backend request this console made (store
 * calls, Delta reads and commits, ops), from the session log's in-memory
 * ring (backend/util/log.h), oldest at the top and newest at the bottom, as
 * a log tail reads: the sequence of requests reads top-down in the order
 * they happened, and following new ones keeps the cursor on the last line
 * (as the live run's log does). Enter shows one entry in full so it can be
 * copied; `/` filters; F (or moving to the last row) follows again.
 *
 * The ring is memory only (no I/O), so the view copies new entries on the
 * UI thread at each frame instead of posting worker jobs; the writers (the
 * worker, the live run) take the ring's lock, and so does the copy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/log.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

typedef struct cmdlog_state {
    log_entry *items; /* oldest first */
    size_t n, cap;
    uint64_t last_seq; /* newest seq copied */
    size_t dropped;    /* entries the ring overwrote before we copied them */
    /* Cells of the target column while drawing; 0 outside list_draw, so the
     * filter always matches the whole target, not its shortened form. */
    int target_w;
} cmdlog_state;

/* Narrow screens show the time of day; the date is in the entry (Enter). */
static const tui_column narrow_cols[] = {
    {"Time UTC", 8, 0, 0}, {"Took", 7, 0, 1},    {"Result", 15, 0, 0},
    {"Op", 15, 0, 0},      {"Target", 10, 1, 0},
};
static const tui_column wide_cols[] = {
    {"#", 6, 0, 1},       {"Time (UTC)", 19, 0, 0}, {"Took", 8, 0, 1},
    {"Result", 18, 0, 0}, {"Op", 16, 0, 0},         {"Target", 10, 1, 0},
};
#define NARROW_FIXED (1 + 8 + 1 + 7 + 1 + 15 + 1 + 15 + 1)
#define WIDE_FIXED (1 + 6 + 1 + 19 + 1 + 8 + 1 + 18 + 1 + 16 + 1)
#define WIDE_FROM 110 /* columns from which the wide layout is used */

static cmdlog_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->n;
}

/* "0.42ms", "12ms", "4.2s": sub-millisecond local calls keep two decimals. */
static void took_text(double ms, char *out, size_t outlen)
{
    if (ms < 0)
        snprintf(out, outlen, "-");
    else if (ms < 10)
        snprintf(out, outlen, "%.2fms", ms);
    else if (ms < 1000)
        snprintf(out, outlen, "%.0fms", ms);
    else
        fmt_duration((int64_t)ms, out, outlen);
}

static const char *result_text(sl_code code)
{
    if (code == SL_OK)
        return "ok";
    const char *name = err_code_name(code);
    return strncmp(name, "SL-", 3) == 0 ? name + 3 : name;
}

static void entry_cells(const cmdlog_state *s, const log_entry *e, int wide, tui_row *out)
{
    int c = 0;
    if (wide) {
        snprintf(out->cell[c++], TUI_CELL_MAX, "%llu", (unsigned long long)e->seq);
        fmt_time(e->ts_ms, out->cell[c++], TUI_CELL_MAX);
    } else {
        char full[32];
        fmt_time(e->ts_ms, full, sizeof full);
        snprintf(out->cell[c++], TUI_CELL_MAX, "%s",
                 strlen(full) > 11 ? full + 11 : full);
    }
    took_text(e->duration_ms, out->cell[c++], TUI_CELL_MAX);
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s", result_text(e->code));
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s", e->op);
    /* Both ends of a target matter (the table and the object key). */
    if (s->target_w > 0)
        fmt_middle(e->target, (size_t)s->target_w, out->cell[c], TUI_CELL_MAX);
    else
        snprintf(out->cell[c], TUI_CELL_MAX, "%.*s", TUI_CELL_MAX - 1, e->target);
    if (log_code_is_failure(e->code))
        out->elem = EL_FAILED;
}

static void row_narrow(view *v, size_t i, tui_row *out)
{
    entry_cells(st(v), &st(v)->items[i], 0, out);
}

static void row_wide(view *v, size_t i, tui_row *out)
{
    entry_cells(st(v), &st(v)->items[i], 1, out);
}

static const list_ops narrow_ops = {narrow_cols, 5, 0, count, row_narrow};
static const list_ops wide_ops = {wide_cols, 6, 0, count, row_wide};

static log_ring *ring_of(app *a)
{
    return log_ring_get(app_session(a)->log);
}

/* Appends what the ring got since the last copy; keeps at most the ring's
 * capacity (older entries leave the top). Returns 1 when something came. */
static int pull(view *v, app *a)
{
    cmdlog_state *s = st(v);
    log_ring *r = ring_of(a);
    log_entry *fresh = NULL;
    size_t k = log_ring_copy(r, s->last_seq, &fresh);
    if (!k)
        return 0;
    if (fresh[0].seq > s->last_seq + 1)
        s->dropped += (size_t)(fresh[0].seq - s->last_seq - 1);
    /* log_ring_copy never returns more than the ring holds (k <= cap). */
    size_t cap = log_ring_capacity(r);
    size_t keep = s->n + k > cap ? cap - k : s->n;
    if (keep < s->n) {
        s->dropped += s->n - keep;
        memmove(s->items, s->items + (s->n - keep), keep * sizeof *s->items);
    }
    if (keep + k > s->cap) {
        s->cap = keep + k;
        s->items = sl_realloc(s->items, s->cap * sizeof *s->items);
    }
    memcpy(s->items + keep, fresh, k * sizeof *fresh);
    s->n = keep + k;
    free(fresh);
    s->last_seq = s->items[s->n - 1].seq;
    return 1;
}

/* New entries arrive at the bottom; a cursor on the last row follows them. */
static void refresh_items(view *v, app *a)
{
    tui_list *l = &v->list;
    int follow = l->nvis == 0 || l->cursor + 1 >= l->nvis;
    if (!pull(v, a))
        return;
    list_refilter(v);
    if (follow && l->nvis)
        l->cursor = l->nvis - 1;
}

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(cmdlog_state));
        v->list.ops = &narrow_ops;
    }
    if (!ring_of(a)) {
        err_set(&v->error, SL_INTERNAL,
                "this session keeps no command log (only console sessions do)");
        return;
    }
    err_clear(&v->error);
    refresh_items(v, a);
    v->loaded = 1;
}

static void draw_head(view *v, int row, int cols)
{
    cmdlog_state *s = st(v);
    const tui_list *l = &v->list;
    int following = l->nvis == 0 || l->cursor + 1 >= l->nvis;
    char dropped[64] = "";
    if (s->dropped)
        snprintf(dropped, sizeof dropped, " (%zu older dropped)", s->dropped);
    char *line = sl_asprintf("%zu requests%s · newest at the bottom · %s", s->n, dropped,
                             following ? "following" : "F follows");
    crt_put(row, 1, cols - 1, EL_DIM, line);
    free(line);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the command log"))
        return;
    int wide = r.cols >= WIDE_FROM;
    const list_ops *want = wide ? &wide_ops : &narrow_ops;
    if (v->list.ops != want) {
        v->list.ops = want;
        list_refilter(v); /* the filter matched the other layout's cells */
    }
    refresh_items(v, a);
    draw_head(v, r.row, r.cols);
    int fixed = wide ? WIDE_FIXED : NARROW_FIXED;
    st(v)->target_w = r.cols - fixed > 10 ? r.cols - fixed : 10;
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
    st(v)->target_w = 0;
}

static char *entry_text(const log_entry *e)
{
    char when[40];
    time_format_iso(e->ts_ms, when, sizeof when);
    sl_buf b = {0};
    buf_appendf(&b, "Request:  #%llu\n", (unsigned long long)e->seq);
    buf_appendf(&b, "Time:     %s\n", when);
    buf_appendf(&b, "Op:       %s\n", e->op);
    buf_appendf(&b, "Target:   %s\n", e->target[0] ? e->target : "-");
    buf_appendf(&b, "Outcome:  %s\n", e->code == SL_OK ? "ok" : err_code_name(e->code));
    buf_appendf(&b, "Took:     %.3f ms\n", e->duration_ms);
    buf_appendf(&b, "Message:  %s\n", e->msg[0] ? e->msg : "-");
    if (log_code_is_failure(e->code))
        buf_appendf(&b, "Hint:     %s\n", err_code_hint(e->code));
    return buf_steal(&b);
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    const log_entry *e = &st(v)->items[i];
    char crumb[32];
    snprintf(crumb, sizeof crumb, "request #%llu", (unsigned long long)e->seq);
    char *text = entry_text(e);
    app_push(a, view_text_new_static(a, crumb, text));
    free(text);
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)a;
    (void)arg;
    (void)err;
    if (id != ACT_FOLLOW)
        return REACT_UNHANDLED;
    if (v->list.nvis)
        v->list.cursor = v->list.nvis - 1;
    return REACT_REDRAW;
}

static void done(view *v)
{
    if (!v->state)
        return;
    free(st(v)->items);
    free(v->state);
}

const view_ops view_cmdlog_ops = {
    .name = "cmdlog",
    .title = "Command log",
    .load = load,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .done = done,
};

view *view_cmdlog_new(app *a)
{
    return app_view_new(a, &view_cmdlog_ops, "Command log", NULL);
}
