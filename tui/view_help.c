/* Help: generated from the action table, grouped, without the actions the
 * current mode does not offer (read-only hides mutating ones). */
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
} help_state;

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

static void row(view *v, size_t i, tui_row *out)
{
    const help_item *it = &st(v)->items[i];
    if (!it->action) {
        out->span = 1;
        out->elem = EL_SECTION;
        snprintf(out->cell[0], TUI_CELL_MAX, "%s", actions_group_name(it->group));
        return;
    }
    const action_desc *d = it->action;
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", *d->keys ? d->keys : "");
    snprintf(out->cell[1], TUI_CELL_MAX, "%s%s%s", d->name, *d->args ? " " : "", d->args);
    snprintf(out->cell[2], TUI_CELL_MAX, "%s", d->help);
}

static const list_ops help_list_ops = {cols, 3, 0, count, row};

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(help_state));
        v->list.ops = &help_list_ops;
    }
    help_state *s = st(v);
    free(s->items);
    size_t n;
    const action_desc *t = actions_table(&n);
    s->items = sl_calloc(n + GROUP_COUNT, sizeof *s->items);
    s->n = 0;
    for (int g = 0; g < GROUP_COUNT; g++) {
        int titled = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].group != (action_group)g || !actions_available(&t[i], app_read_only(a)))
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
    char *line = sl_asprintf("Every action works as a key, as :name ARGS and in scripts · "
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

const view_ops view_help_ops = {
    .name = "help",
    .title = "Help",
    .load = load,
    .draw = draw,
    .done = done,
};
