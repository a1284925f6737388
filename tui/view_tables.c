/* Tables: every configured table with its snapshot summary. Enter opens
 * the table's history; p previews the latest rows of the selected table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/intervene.h"
#include "tui/tablesum.h"
#include "tui/view.h"

typedef struct table_entry {
    char *name;
    char *url;
    table_summary sum;
} table_entry;

typedef struct tables_state {
    table_entry *items;
    size_t n;
} tables_state;

typedef struct tables_job {
    tui_job base;
    table_entry *items;
    size_t n;
} tables_job;

static const tui_column cols[] = {
    {"Table", 8, 2, 0}, {"Version", 7, 0, 1}, {"Files", 5, 0, 1},    {"Rows", 6, 0, 1},
    {"Size", 9, 0, 1},  {"Updated", 9, 0, 1}, {"Protocol", 8, 1, 0}, {"Status", 18, 1, 0},
};

static tables_state *st(view *v)
{
    return v->state;
}

static void entries_free(table_entry *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].name);
        free(items[i].url);
    }
    free(items);
}

static size_t count(view *v)
{
    return st(v)->n;
}

static void row(view *v, size_t i, tui_row *out)
{
    const table_entry *t = &st(v)->items[i];
    char name[TUI_CELL_MAX];
    tbl_escape(t->name, name, sizeof name);
    fmt_middle(name, 40, out->cell[0], TUI_CELL_MAX);
    if (t->sum.code != SL_OK) {
        for (int c = 1; c < 7; c++)
            snprintf(out->cell[c], TUI_CELL_MAX, "-");
        snprintf(out->cell[7], TUI_CELL_MAX, "%s", err_code_name(t->sum.code));
        out->elem = EL_FAILED;
        return;
    }
    snprintf(out->cell[1], TUI_CELL_MAX, "%lld", (long long)t->sum.version);
    fmt_human((int64_t)t->sum.files, out->cell[2], TUI_CELL_MAX);
    fmt_human(t->sum.rows, out->cell[3], TUI_CELL_MAX);
    fmt_bytes(t->sum.bytes, out->cell[4], TUI_CELL_MAX);
    fmt_age(t->sum.timestamp_ms, time_now_ms(), out->cell[5], TUI_CELL_MAX);
    snprintf(out->cell[6], TUI_CELL_MAX, "%s", t->sum.protocol);
    snprintf(out->cell[7], TUI_CELL_MAX, t->sum.rows < 0 ? "rows unknown" : "ok");
    if (t->sum.rows < 0)
        out->elem = EL_WARNING;
}

static const list_ops tables_list_ops = {cols, 8, 0, count, row};

static void job_run(tui_job *job, session *sess)
{
    tables_job *j = (tables_job *)job;
    for (size_t i = 0; i < j->n; i++)
        tablesum_load(j->items[i].url, sess->log, &j->items[i].sum);
}

static void job_free(tui_job *job)
{
    tables_job *j = (tables_job *)job;
    entries_free(j->items, j->n);
    free(j);
}

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(tables_state));
        v->list.ops = &tables_list_ops;
    }
    const config *cfg = app_session(a)->cfg;
    if (!cfg || cfg->ntables == 0) {
        err_set(&v->error, SL_TABLE_UNKNOWN,
                "no \"tables\" in the config: nothing to show");
        return;
    }
    tables_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->n = cfg->ntables;
    j->items = sl_calloc(j->n, sizeof *j->items);
    for (size_t i = 0; i < j->n; i++) {
        j->items[i].name = sl_strdup(cfg->tables[i].name);
        j->items[i].url = sl_strdup(cfg->tables[i].url);
    }
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    (void)a;
    tables_job *j = (tables_job *)job;
    entries_free(st(v)->items, st(v)->n);
    st(v)->items = j->items;
    st(v)->n = j->n;
    j->items = NULL;
    j->n = 0;
    err_clear(&v->error);
    v->loaded = 1;
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "tables"))
        return;
    size_t bad = 0;
    for (size_t i = 0; i < st(v)->n; i++)
        bad += st(v)->items[i].sum.code != SL_OK;
    const config *cfg = app_session(a)->cfg;
    char *line = sl_asprintf("%zu table%s in %s%s", st(v)->n, st(v)->n == 1 ? "" : "s",
                             cfg && cfg->lake_url ? cfg->lake_url : "the config",
                             bad ? " · some cannot be read (Enter shows why)" : "");
    crt_put(r.row, 1, r.cols - 1, bad ? EL_WARNING : EL_DIM, line);
    free(line);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    app_push(a, view_history_new(a, st(v)->items[i].name, st(v)->items[i].url));
    return REACT_REDRAW;
}

/* Restore, vacuum and optimize act on the selected table; preview shows
 * its latest rows (or those of the version given). */
static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    size_t i;
    if (id != ACT_RESTORE && id != ACT_VACUUM && id != ACT_OPTIMIZE && id != ACT_PREVIEW)
        return REACT_UNHANDLED;
    if (!v->loaded || !list_selected(v, &i)) {
        err_set(err, SL_USAGE, "no table selected");
        return REACT_REDRAW;
    }
    const table_entry *t = &st(v)->items[i];
    if (id == ACT_PREVIEW) {
        int64_t version = -1;
        char *end = NULL;
        if (arg && ((version = strtoll(arg, &end, 10)) < 0 || *end || end == arg)) {
            err_set(err, SL_USAGE, "'%s' is not a version number", arg);
            return REACT_REDRAW;
        }
        app_push(a, view_preview_new(a, t->name, t->url, version));
        return REACT_REDRAW;
    }
    return intervene_handle(a, id, arg, t->name, t->url, -1, err);
}

static void notify(view *v, app *a, int event)
{
    if (event == VIEW_EVENT_TABLE_CHANGED)
        load(v, a);
}

static void done(view *v)
{
    if (!v->state)
        return;
    entries_free(st(v)->items, st(v)->n);
    free(v->state);
}

const view_ops view_tables_ops = {
    .name = "tables",
    .title = "Tables",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};
