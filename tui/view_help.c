/* Help: generated from the action table and the console's key map (the
 * user's bindings included), grouped, without the actions the current mode
 * does not offer (read-only hides mutating ones). Opened with ? from a view,
 * it lists that view's own actions first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/actions.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/view.h"

typedef struct help_item {
    const action_desc *action; /* NULL: a group title */
    action_group group;
} help_item;

typedef struct help_state {
    help_item *items;
    size_t n;
    char for_view[32]; /* "" on the Help tab */
    app *a;            /* whose key map the rows show (list rows get no app) */
} help_state;

/* The actions each view answers (the rest are the app's, or say where they
 * work): the first section of its help. */
static const struct {
    const char *view;
    action_id ids[12];
} view_actions[] = {
    {"overview", {ACT_ENTER, ACT_RUN, ACT_LIVE, ACT_COUNT}},
    {"folders",
     {ACT_ENTER, ACT_SELECT, ACT_WHERE, ACT_RUN, ACT_RETRY, ACT_SKIP, ACT_SKIP_FILE,
      ACT_MARK, ACT_RESET, ACT_COUNT}},
    {"runs",
     {ACT_ENTER, ACT_FAILED_FIRST, ACT_WHERE, ACT_ROLLBACK, ACT_RETRY, ACT_COUNT}},
    {"tables", {ACT_ENTER, ACT_RESTORE, ACT_VACUUM, ACT_OPTIMIZE, ACT_COUNT}},
    {"history",
     {ACT_ENTER, ACT_SELECT, ACT_DIFF, ACT_PREVIEW, ACT_RESTORE, ACT_VACUUM, ACT_OPTIMIZE,
      ACT_COUNT}},
    {"audit", {ACT_ENTER, ACT_WHERE, ACT_VERIFY, ACT_EXPORT, ACT_NOTE, ACT_COUNT}},
    {"health", {ACT_RELOAD, ACT_PAUSE, ACT_COUNT}},
    {"runbooks", {ACT_ENTER, ACT_STEP_DO, ACT_STEP_SKIP, ACT_COUNT}},
    {"run", {ACT_FOLLOW, ACT_CANCEL, ACT_UP, ACT_COUNT}},
    {"cmdlog", {ACT_ENTER, ACT_FILTER, ACT_COUNT}},
};

static const action_id *actions_of(const char *view_name)
{
    for (size_t i = 0; i < sizeof view_actions / sizeof view_actions[0]; i++)
        if (strcmp(view_actions[i].view, view_name) == 0)
            return view_actions[i].ids;
    return NULL;
}

static const tui_column cols[] = {
    {"Keys", 10, 0, 0}, {"Action", 18, 0, 0}, {"What it does", 20, 1, 0}};

static help_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->n;
}

/* Group GROUP_COUNT titles the section of the view's own actions. */
static void row_in(view *v, app *a, size_t i, tui_row *out)
{
    const help_item *it = &st(v)->items[i];
    if (!it->action) {
        out->span = 1;
        out->elem = EL_SECTION;
        if (it->group == GROUP_COUNT)
            snprintf(out->cell[0], TUI_CELL_MAX, "In this view (%s)", st(v)->for_view);
        else
            snprintf(out->cell[0], TUI_CELL_MAX, "%s", actions_group_name(it->group));
        return;
    }
    const action_desc *d = it->action;
    const char *keys = keymap_keys(a ? app_keymap(a) : NULL, d->id);
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", *keys ? keys : "");
    snprintf(out->cell[1], TUI_CELL_MAX, "%s%s%s", d->name, *d->args ? " " : "", d->args);
    snprintf(out->cell[2], TUI_CELL_MAX, "%s", d->help);
}

static void row(view *v, size_t i, tui_row *out)
{
    row_in(v, st(v)->a, i, out);
}

static const list_ops help_list_ops = {cols, 3, 0, count, row};

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(help_state));
        v->list.ops = &help_list_ops;
    }
    help_state *s = st(v);
    s->a = a;
    free(s->items);
    size_t n;
    const action_desc *t = actions_table(&n);
    s->items = sl_calloc(2 * n + GROUP_COUNT + 1, sizeof *s->items);
    s->n = 0;
    const action_id *own = s->for_view[0] ? actions_of(s->for_view) : NULL;
    if (own) {
        s->items[s->n++] = (help_item){NULL, GROUP_COUNT};
        for (size_t k = 0; own[k] != ACT_COUNT; k++) {
            const action_desc *d = actions_get(own[k]);
            if (actions_available(d, app_read_only(a)))
                s->items[s->n++] = (help_item){d, d->group};
        }
    }
    for (int g = 0; g < GROUP_COUNT; g++) {
        int titled = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].group != (action_group)g ||
                !actions_available(&t[i], app_read_only(a)))
                continue;
            if (!titled) {
                s->items[s->n++] = (help_item){NULL, (action_group)g};
                titled = 1;
            }
            s->items[s->n++] = (help_item){&t[i], (action_group)g};
        }
    }
    v->loaded = 1;
}

static void draw(view *v, app *a, tui_rect r)
{
    const theme *th = app_theme(a);
    char *line =
        sl_asprintf("Every action works as a key, as :name ARGS and in scripts · "
                    "theme %s%s",
                    th->name, app_read_only(a) ? " · read-only: changes hidden" : "");
    crt_put(r.row, 1, r.cols - 1, EL_DIM, line);
    free(line);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

static void done(view *v)
{
    if (!v->state)
        return;
    free(st(v)->items);
    free(v->state);
}

view *view_help_new(app *a, const char *for_view)
{
    help_state *s = sl_calloc(1, sizeof *s);
    snprintf(s->for_view, sizeof s->for_view, "%s", for_view ? for_view : "");
    view *v = app_view_new(a, &view_help_ops, "Keys", s);
    v->list.ops = &help_list_ops;
    return v;
}

const view_ops view_help_ops = {
    .name = "help",
    .title = "Help",
    .load = load,
    .draw = draw,
    .done = done,
};
