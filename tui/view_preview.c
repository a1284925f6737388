/* The first rows of one version of a table (time travel: History `p`,
 * `:preview V`, Tables `p` for the latest), read on the worker from that
 * version's data files with the Parquet reader, stopping after
 * PREVIEW_ROWS rows.
 *
 * Wide tables: the action table has no Left/Right actions, so rather than
 * scrolling sideways the grid shows the columns that fit (the header says
 * which) and Enter opens the selected row as a record (one line per column:
 * name, type, value), which shows every column at any width. Values are
 * escaped (tbl_escape) and nulls drawn as ∅, distinct from any text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/diff.h"
#include "backend/store/store.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/tablesum.h"
#include "tui/view.h"

#define PREVIEW_ROWS 200
#define PREVIEW_COL_MAX 28 /* cells: wider values end in "…" in the grid */
#define NULL_MARK "∅"

typedef struct preview_state {
    char *table, *url;
    int64_t version; /* as asked; -1 latest */
    delta_preview p;
    int have;
    int *width; /* per column, cells */
    int *right; /* numbers right-aligned */
} preview_state;

typedef struct preview_job {
    tui_job base;
    char *url;
    int64_t version;
    delta_preview p;
    int have;
} preview_job;

static const tui_column cols[] = {{"", 10, 1, 0}};

static preview_state *st(view *v)
{
    return v->state;
}

static const char *cell_at(const delta_preview *p, size_t row, size_t col)
{
    return p->cells[row * p->ncols + col];
}

/* text cut or padded to exactly w cells (text is already escaped). */
static void fit(const char *text, int w, int right, sl_buf *out)
{
    int tw = crt_text_width(text);
    if (tw <= w) {
        if (right)
            buf_appendf(out, "%*s%s", w - tw, "", text);
        else
            buf_appendf(out, "%s%*s", text, w - tw, "");
        return;
    }
    /* Whole characters while they fit in w - 1, then the ellipsis. */
    int used = 0;
    const char *p = text;
    while (*p) {
        size_t len = 1;
        while (p[len] && ((unsigned char)p[len] & 0xc0) == 0x80)
            len++;
        char one[8] = {0};
        memcpy(one, p, len < sizeof one ? len : sizeof one - 1);
        int cw = crt_text_width(one);
        if (used + cw > w - 1)
            break;
        buf_append(out, p, len);
        used += cw;
        p += len;
    }
    buf_appendf(out, "…%*s", w - 1 - used, "");
}

static void cell_text(const char *raw, char *out, size_t outlen)
{
    if (!raw)
        snprintf(out, outlen, NULL_MARK);
    else
        tbl_escape(raw, out, outlen);
}

static int is_numeric(const char *type)
{
    static const char *const nums[] = {"byte",  "short",  "integer", "long",
                                       "float", "double", "decimal"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (strncmp(type, nums[i], strlen(nums[i])) == 0)
            return 1;
    return 0;
}

/* Column widths from the names and the values (capped). */
static void layout(preview_state *s)
{
    const delta_preview *p = &s->p;
    free(s->width);
    free(s->right);
    s->width = sl_calloc(p->ncols ? p->ncols : 1, sizeof *s->width);
    s->right = sl_calloc(p->ncols ? p->ncols : 1, sizeof *s->right);
    char esc[TUI_CELL_MAX];
    for (size_t k = 0; k < p->ncols; k++) {
        tbl_escape(p->cols[k].name, esc, sizeof esc);
        int w = crt_text_width(esc);
        for (size_t r = 0; r < p->nrows && w < PREVIEW_COL_MAX; r++) {
            cell_text(cell_at(p, r, k), esc, sizeof esc);
            int cw = crt_text_width(esc);
            w = cw > w ? cw : w;
        }
        s->width[k] = w < 4 ? 4 : w > PREVIEW_COL_MAX ? PREVIEW_COL_MAX : w;
        s->right[k] = is_numeric(p->cols[k].type);
    }
}

/* The columns that fit whole in cols cells (at least one). */
static size_t cols_shown(const preview_state *s, int cols)
{
    int x = 1;
    size_t k = 0;
    for (; k < s->p.ncols; k++) {
        x += s->width[k] + (k ? 1 : 0);
        if (x > cols)
            break;
    }
    return k ? k : (s->p.ncols ? 1 : 0);
}

static size_t count(view *v)
{
    return st(v)->have ? st(v)->p.nrows : 0;
}

static void line(const preview_state *s, size_t r, char *out, size_t outlen)
{
    sl_buf b = {0};
    char esc[TUI_CELL_MAX];
    for (size_t k = 0; k < s->p.ncols && b.len < outlen; k++) {
        if (k)
            buf_append_char(&b, ' ');
        if (r == (size_t)-1)
            tbl_escape(s->p.cols[k].name, esc, sizeof esc);
        else
            cell_text(cell_at(&s->p, r, k), esc, sizeof esc);
        fit(esc, s->width[k], r != (size_t)-1 && s->right[k], &b);
    }
    /* Cut on a character boundary. */
    size_t len = b.len < outlen ? b.len : outlen - 1;
    while (len > 0 && len < b.len && ((unsigned char)b.data[len] & 0xc0) == 0x80)
        len--;
    snprintf(out, outlen, "%.*s", (int)len, b.data ? b.data : "");
    buf_free(&b);
}

static void row(view *v, size_t i, tui_row *out)
{
    out->span = 1;
    line(st(v), i, out->cell[0], TUI_CELL_MAX);
}

static const list_ops preview_list_ops = {cols, 1, 1, count, row};

/* ---- worker ---------------------------------------------------------------- */

static void job_run(tui_job *job, session *sess)
{
    preview_job *j = (preview_job *)job;
    store *s = NULL;
    job->code = store_open(j->url, &s, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(s, sess->log);
    job->code = delta_preview_read(s, "", j->version, PREVIEW_ROWS, &j->p, &job->err);
    j->have = job->code == SL_OK;
    store_close(s);
}

static void job_free(tui_job *job)
{
    preview_job *j = (preview_job *)job;
    if (j->have)
        delta_preview_free(&j->p);
    free(j->url);
    free(j);
}

static void load(view *v, app *a)
{
    preview_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->url = sl_strdup(st(v)->url);
    j->version = st(v)->version;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    preview_job *j = (preview_job *)job;
    preview_state *s = st(v);
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        if (s->have)
            delta_preview_free(&s->p);
        s->p = j->p;
        s->have = 1;
        j->have = 0;
        layout(s);
        err_clear(&v->error);
        v->loaded = 1;
    }
    job->free(job);
}

/* ---- drawing --------------------------------------------------------------- */

static void draw_summary(preview_state *s, tui_rect r, size_t shown)
{
    const delta_preview *p = &s->p;
    char when[32], rows[32], total[32];
    fmt_time_short(p->timestamp_ms, when, sizeof when);
    fmt_count((int64_t)p->nrows, rows, sizeof rows);
    fmt_count(p->table_rows, total, sizeof total);
    sl_buf b = {0};
    /* Narrow screens: which columns are shown comes first, it is what the
     * grid leaves out. */
    if (shown < p->ncols)
        buf_appendf(&b, "cols 1-%zu/%zu (Enter: whole row) · ", shown, p->ncols);
    buf_appendf(&b, "%s @ version %lld (%s) · first %s of %s rows", s->table,
                (long long)p->version, when, rows, total);
    if (p->more)
        buf_append_str(&b, " (more not read)");
    if (shown == p->ncols)
        buf_appendf(&b, " · %zu columns · Enter shows a row", p->ncols);
    buf_append_str(&b, " · " NULL_MARK " null");
    crt_put(r.row, 1, r.cols - 1, EL_DIM, b.data);
    buf_free(&b);
    if (p->files_skipped) {
        char *warn = sl_asprintf("%zu of %zu files have deletion vectors: their rows are "
                                 "left out of this preview",
                                 p->files_skipped, p->files_total);
        crt_put(r.row + 1, 1, r.cols - 1, EL_WARNING, warn);
        free(warn);
    }
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "rows"))
        return;
    preview_state *s = st(v);
    int top = s->p.files_skipped ? 2 : 1;
    if (r.rows < top + 2)
        return;
    size_t shown = cols_shown(s, r.cols);
    draw_summary(s, r, shown);
    char hdr[TUI_CELL_MAX];
    line(s, (size_t)-1, hdr, sizeof hdr);
    crt_fill(r.row + top, 0, r.cols, EL_HEADER);
    crt_put(r.row + top, 1, r.cols - 1, EL_HEADER, hdr);
    if (s->p.nrows == 0) {
        crt_put(r.row + top + 1, 1, r.cols - 1, EL_DIM, "(this version has no rows)");
        return;
    }
    list_draw(v, a, (tui_rect){r.row + top + 1, r.col, r.rows - top - 1, r.cols});
}

/* Enter: the selected row as a record, every column on its own line. */
static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    preview_state *s = st(v);
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    int nw = 4, tw = 4;
    char esc[TUI_CELL_MAX];
    for (size_t k = 0; k < s->p.ncols; k++) {
        tbl_escape(s->p.cols[k].name, esc, sizeof esc);
        int w = crt_text_width(esc);
        nw = w > nw ? (w < 32 ? w : 32) : nw;
        w = crt_text_width(s->p.cols[k].type);
        tw = w > tw ? (w < 24 ? w : 24) : tw;
    }
    sl_buf b = {0};
    buf_appendf(&b, "%s @ version %lld, row %zu of the preview\n\n", s->table,
                (long long)s->p.version, i + 1);
    for (size_t k = 0; k < s->p.ncols; k++) {
        char name[TUI_CELL_MAX];
        tbl_escape(s->p.cols[k].name, name, sizeof name);
        sl_buf cell = {0};
        fit(name, nw, 0, &cell);
        buf_appendf(&cell, " ");
        fit(s->p.cols[k].type, tw, 0, &cell);
        const char *raw = cell_at(&s->p, i, k);
        char *val = sl_calloc(1, DELTA_PREVIEW_CELL_MAX * 4 + 8);
        if (raw)
            tbl_escape(raw, val, DELTA_PREVIEW_CELL_MAX * 4 + 8);
        buf_appendf(&b, " %s %s%s\n", cell.data, raw ? val : NULL_MARK " (null)",
                    s->p.cols[k].partition ? "  (partition)" : "");
        free(val);
        buf_free(&cell);
    }
    char crumb[32];
    snprintf(crumb, sizeof crumb, "row %zu", i + 1);
    app_push(a, view_text_new_static(a, crumb, b.data));
    buf_free(&b);
    return REACT_REDRAW;
}

static void notify(view *v, app *a, int event)
{
    /* A pinned version never changes; the latest may. */
    if (event == VIEW_EVENT_TABLE_CHANGED && st(v)->version < 0)
        load(v, a);
}

static void done(view *v)
{
    preview_state *s = st(v);
    if (s->have)
        delta_preview_free(&s->p);
    free(s->width);
    free(s->right);
    free(s->table);
    free(s->url);
    free(s);
}

static const view_ops view_preview_ops = {
    .name = "preview",
    .title = "Preview",
    .load = load,
    .take = take,
    .draw = draw,
    .enter = enter,
    .notify = notify,
    .done = done,
};

view *view_preview_new(app *a, const char *table, const char *url, int64_t version)
{
    preview_state *s = sl_calloc(1, sizeof *s);
    s->table = sl_strdup(table);
    s->url = sl_strdup(url);
    s->version = version;
    char crumb[48];
    if (version < 0)
        snprintf(crumb, sizeof crumb, "rows @ latest");
    else
        snprintf(crumb, sizeof crumb, "rows @ %lld", (long long)version);
    view *v = app_view_new(a, &view_preview_ops, crumb, s);
    v->list.ops = &preview_list_ops;
    return v;
}
