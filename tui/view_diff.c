/* Two versions of one table compared (History: `d`, `:diff V1 V2`): rows,
 * files and bytes before and after, schema, partitioning, properties and
 * protocol changes, then every file added and removed. Computed on the
 * worker from the two snapshots (backend/delta/diff.h). */
#include <stdarg.h>
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

/* One line of the page; file lines are laid out at draw time (their path
 * takes the width left by size and rows). */
typedef struct diff_line {
    char *text; /* NULL for a file line */
    theme_elem elem;
    char sign; /* file lines: '+' added, '-' removed */
    char *path;
    int64_t size, rows;
} diff_line;

typedef struct diff_state {
    char *table, *url;
    int64_t v1, v2;
    diff_line *lines;
    size_t n;
    int width; /* of the last draw, for file lines */
} diff_state;

typedef struct diff_job {
    tui_job base;
    char *url;
    int64_t v1, v2;
    delta_diff d;
    int have;
} diff_job;

static const tui_column cols[] = {{"", 10, 1, 0}};

static diff_state *st(view *v)
{
    return v->state;
}

static void lines_free(diff_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->lines[i].text);
        free(s->lines[i].path);
    }
    free(s->lines);
    s->lines = NULL;
    s->n = 0;
}

static diff_line *line_new(diff_state *s)
{
    s->lines = sl_realloc(s->lines, (s->n + 1) * sizeof *s->lines);
    diff_line *l = &s->lines[s->n++];
    memset(l, 0, sizeof *l);
    l->elem = EL_NORMAL;
    return l;
}

static void line_add(diff_state *s, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line_add(diff_state *s, theme_elem e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_buf b = {0};
    buf_vappendf(&b, fmt, ap);
    va_end(ap);
    diff_line *l = line_new(s);
    l->text = buf_steal(&b);
    l->elem = e;
}

static size_t count(view *v)
{
    return st(v)->n;
}

static void file_cells(const diff_line *l, int width, char *out, size_t outlen)
{
    char size[32], rows[48], esc[TUI_CELL_MAX], path[TUI_CELL_MAX];
    fmt_bytes((uint64_t)(l->size > 0 ? l->size : 0), size, sizeof size);
    if (l->rows < 0)
        snprintf(rows, sizeof rows, "? rows");
    else {
        char n[32];
        fmt_human(l->rows, n, sizeof n);
        snprintf(rows, sizeof rows, "%s rows", n);
    }
    tbl_escape(l->path, esc, sizeof esc);
    /* "   + " path, size (10), rows (12) */
    int pw = width - 5 - 11 - 13 - 1;
    if (pw < 12)
        pw = 12;
    fmt_middle(esc, (size_t)pw, path, sizeof path);
    int pad = pw - crt_text_width(path);
    /* the line is clipped to the screen anyway */
    if (snprintf(out, outlen, "  %c %s%*s %10s %12s", l->sign, path, pad > 0 ? pad : 0,
                 "", size, rows) < 0)
        out[0] = '\0';
}

static void row(view *v, size_t i, tui_row *out)
{
    const diff_line *l = &st(v)->lines[i];
    out->span = 1;
    out->elem = l->elem;
    if (l->text)
        snprintf(out->cell[0], TUI_CELL_MAX, "%s", l->text);
    else
        file_cells(l, st(v)->width, out->cell[0], TUI_CELL_MAX);
}

static const list_ops diff_list_ops = {cols, 1, 1, count, row};

/* ---- the page -------------------------------------------------------------- */

static void signed_count(int64_t delta, char *out, size_t outlen)
{
    char n[32];
    fmt_human(delta < 0 ? -delta : delta, n, sizeof n);
    if (snprintf(out, outlen, "%s%s", delta < 0 ? "-" : delta > 0 ? "+" : "", n) < 0)
        out[0] = '\0';
}

static void signed_bytes(int64_t delta, char *out, size_t outlen)
{
    char n[32];
    fmt_bytes((uint64_t)(delta < 0 ? -delta : delta), n, sizeof n);
    if (snprintf(out, outlen, "%s%s",
                 delta < 0   ? "-"
                 : delta > 0 ? "+"
                             : "",
                 delta ? n : "0") < 0)
        out[0] = '\0';
}

/* Before / After / Change, one quantity per line. */
static void add_totals(diff_state *s, const delta_diff *d)
{
    char a[32], b[32], c[32];
    line_add(s, EL_HEADER, " %-14s %14s %14s %12s", "", "Before", "After", "Change");
    fmt_human(d->from.files, a, sizeof a);
    fmt_human(d->to.files, b, sizeof b);
    signed_count(d->to.files - d->from.files, c, sizeof c);
    line_add(s, EL_NORMAL, " %-14s %14s %14s %12s", "Files", a, b, c);
    fmt_human(d->from.rows, a, sizeof a);
    fmt_human(d->to.rows, b, sizeof b);
    if (d->from.rows < 0 || d->to.rows < 0)
        snprintf(c, sizeof c, "?");
    else
        signed_count(d->to.rows - d->from.rows, c, sizeof c);
    line_add(s, EL_NORMAL, " %-14s %14s %14s %12s", "Rows", a, b, c);
    fmt_bytes((uint64_t)d->from.bytes, a, sizeof a);
    fmt_bytes((uint64_t)d->to.bytes, b, sizeof b);
    signed_bytes(d->to.bytes - d->from.bytes, c, sizeof c);
    line_add(s, EL_NORMAL, " %-14s %14s %14s %12s", "Size", a, b, c);
    line_add(s, d->partitioning_changed ? EL_WARNING : EL_NORMAL, " %-14s %14s %14s %12s",
             "Partitioned by", d->from.partitioning[0] ? d->from.partitioning : "-",
             d->to.partitioning[0] ? d->to.partitioning : "-",
             d->partitioning_changed ? "changed" : "");
    line_add(s, d->protocol_changed ? EL_WARNING : EL_NORMAL, " %-14s %14s %14s %12s",
             "Protocol", d->from.protocol, d->to.protocol,
             d->protocol_changed ? "changed" : "");
}

static void add_schema(diff_state *s, const delta_diff *d)
{
    line_add(s, EL_SECTION, "Schema changes (%zu):", d->ncols);
    if (d->ncols == 0)
        line_add(s, EL_DIM, "   (none)");
    for (size_t i = 0; i < d->ncols; i++) {
        const delta_diff_col *c = &d->cols[i];
        char name[TUI_CELL_MAX];
        tbl_escape(c->name, name, sizeof name);
        switch (c->change) {
        case DELTA_COL_ADDED:
            line_add(s, EL_OK, "  + %-20s %s (added)", name, c->new_type);
            break;
        case DELTA_COL_REMOVED:
            line_add(s, EL_FAILED, "  - %-20s %s (dropped)", name, c->old_type);
            break;
        case DELTA_COL_RETYPED:
            line_add(s, EL_WARNING, "  ~ %-20s %s → %s", name, c->old_type, c->new_type);
            break;
        case DELTA_COL_NULLABLE:
            line_add(s, EL_WARNING, "  ~ %-20s %s → %s", name,
                     c->old_nullable ? "nullable" : "not null",
                     c->new_nullable ? "nullable" : "not null");
            break;
        }
    }
    if (d->metadata_id_changed)
        line_add(s, EL_WARNING, "  ! the table was replaced (new metaData id)");
    line_add(s, EL_SECTION, "Table properties (%zu):", d->nprops);
    if (d->nprops == 0)
        line_add(s, EL_DIM, "   (none changed)");
    for (size_t i = 0; i < d->nprops; i++) {
        const delta_diff_prop *p = &d->props[i];
        char k[TUI_CELL_MAX / 2], o[TUI_CELL_MAX / 4], n[TUI_CELL_MAX / 4];
        tbl_escape(p->key, k, sizeof k);
        tbl_escape(p->old_value, o, sizeof o);
        tbl_escape(p->new_value, n, sizeof n);
        if (!p->old_value)
            line_add(s, EL_OK, "  + %s = %s", k, n);
        else if (!p->new_value)
            line_add(s, EL_FAILED, "  - %s (was %s)", k, o);
        else
            line_add(s, EL_WARNING, "  ~ %s = %s → %s", k, o, n);
    }
}

static void add_files(diff_state *s, const char *title, char sign,
                      const delta_diff_file *f, size_t n, int64_t bytes, int64_t rows)
{
    char b[32], r[32];
    fmt_bytes((uint64_t)bytes, b, sizeof b);
    fmt_human(rows, r, sizeof r);
    line_add(s, EL_SECTION, "%s (%zu, %s, %s rows):", title, n, b, r);
    if (n == 0)
        line_add(s, EL_DIM, "   (none)");
    for (size_t i = 0; i < n; i++) {
        diff_line *l = line_new(s);
        l->elem = sign == '+' ? EL_OK : EL_WARNING;
        l->sign = sign;
        l->path = sl_strdup(f[i].path);
        l->size = f[i].size;
        l->rows = f[i].rows;
    }
}

static void build(diff_state *s, const delta_diff *d)
{
    lines_free(s);
    char t1[32], t2[32];
    fmt_time_short(d->from.timestamp_ms, t1, sizeof t1);
    fmt_time_short(d->to.timestamp_ms, t2, sizeof t2);
    char name[TUI_CELL_MAX];
    tbl_escape(s->table, name, sizeof name);
    line_add(s, EL_NORMAL, " %s: version %lld (%s) → version %lld (%s)", name,
             (long long)d->from.version, t1, (long long)d->to.version, t2);
    if (d->nadded + d->nremoved + d->ncols + d->nprops == 0 && !d->partitioning_changed &&
        !d->protocol_changed)
        line_add(s, EL_OK,
                 " the two versions hold the same files, schema and properties");
    line_add(s, EL_NORMAL, "%s", "");
    add_totals(s, d);
    line_add(s, EL_NORMAL, "%s", "");
    add_schema(s, d);
    line_add(s, EL_NORMAL, "%s", "");
    add_files(s, "Files added", '+', d->added, d->nadded, d->added_bytes, d->added_rows);
    add_files(s, "Files removed", '-', d->removed, d->nremoved, d->removed_bytes,
              d->removed_rows);
}

/* ---- the view -------------------------------------------------------------- */

static void job_run(tui_job *job, session *sess)
{
    diff_job *j = (diff_job *)job;
    store *s = NULL;
    job->code = store_open(j->url, &s, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(s, sess->log);
    job->code = delta_diff_versions(s, "", j->v1, j->v2, &j->d, &job->err);
    j->have = job->code == SL_OK;
    store_close(s);
}

static void job_free(tui_job *job)
{
    diff_job *j = (diff_job *)job;
    if (j->have)
        delta_diff_free(&j->d);
    free(j->url);
    free(j);
}

static void load(view *v, app *a)
{
    diff_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->url = sl_strdup(st(v)->url);
    j->v1 = st(v)->v1;
    j->v2 = st(v)->v2;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    diff_job *j = (diff_job *)job;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        build(st(v), &j->d);
        v->loaded = 1;
    }
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "diff"))
        return;
    st(v)->width = r.cols;
    list_draw(v, a, r);
}

static void notify(view *v, app *a, int event)
{
    if (event == VIEW_EVENT_TABLE_CHANGED)
        load(v, a);
}

static void done(view *v)
{
    diff_state *s = st(v);
    lines_free(s);
    free(s->table);
    free(s->url);
    free(s);
}

static const view_ops view_diff_ops = {
    .name = "diff",
    .title = "Diff",
    .load = load,
    .take = take,
    .draw = draw,
    .notify = notify,
    .done = done,
};

view *view_diff_new(app *a, const char *table, const char *url, int64_t v1, int64_t v2)
{
    diff_state *s = sl_calloc(1, sizeof *s);
    s->table = sl_strdup(table);
    s->url = sl_strdup(url);
    s->v1 = v1 < v2 ? v1 : v2;
    s->v2 = v1 < v2 ? v2 : v1;
    s->width = 80;
    char crumb[64];
    snprintf(crumb, sizeof crumb, "diff %lld..%lld", (long long)s->v1, (long long)s->v2);
    view *v = app_view_new(a, &view_diff_ops, crumb, s);
    v->list.ops = &diff_list_ops;
    return v;
}
