/* The generic list: filtering, cursor, scrolling and column layout shared
 * by every list view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/view.h"

static int row_matches(view *v, size_t i, const char *filter)
{
    tui_row *row = sl_calloc(1, sizeof *row);
    v->list.ops->row(v, i, row);
    int hit = 0;
    int n = row->span ? 1 : v->list.ops->ncols;
    for (int c = 0; c < n && !hit; c++)
        hit = strcasestr(row->cell[c], filter) != NULL;
    free(row);
    return hit;
}

void list_refilter(view *v)
{
    tui_list *l = &v->list;
    if (!l->ops)
        return;
    size_t old_item = 0;
    int had = list_selected(v, &old_item);
    size_t n = l->ops->count(v);
    free(l->vis);
    l->vis = sl_calloc(n ? n : 1, sizeof *l->vis);
    l->nvis = 0;
    for (size_t i = 0; i < n; i++)
        if (!l->filter[0] || row_matches(v, i, l->filter))
            l->vis[l->nvis++] = i;
    /* Keep the selection on the same item when it is still shown. */
    size_t cur = 0;
    int found = 0;
    for (size_t k = 0; had && k < l->nvis; k++)
        if (l->vis[k] == old_item) {
            cur = k;
            found = 1;
            break;
        }
    if (!found)
        cur = l->cursor < l->nvis ? l->cursor : (l->nvis ? l->nvis - 1 : 0);
    l->cursor = cur;
    if (l->top > l->cursor)
        l->top = l->cursor;
}

void list_set_filter(view *v, const char *text)
{
    snprintf(v->list.filter, sizeof v->list.filter, "%s", text ? text : "");
    v->list.cursor = 0;
    v->list.top = 0;
    list_refilter(v);
    v->list.cursor = 0;
    v->list.top = 0;
}

unsigned list_move(view *v, action_id id)
{
    tui_list *l = &v->list;
    if (l->nvis == 0)
        return REACT_NONE;
    size_t page = l->page > 1 ? (size_t)l->page - 1 : 1;
    size_t last = l->nvis - 1;
    switch (id) {
    case ACT_DOWN:
        if (l->cursor < last)
            l->cursor++;
        break;
    case ACT_UP:
        if (l->cursor > 0)
            l->cursor--;
        break;
    case ACT_PAGE_DOWN:
        l->cursor = l->cursor + page < last ? l->cursor + page : last;
        l->top += page;
        break;
    case ACT_PAGE_UP:
        l->cursor = l->cursor > page ? l->cursor - page : 0;
        l->top = l->top > page ? l->top - page : 0;
        break;
    case ACT_FIRST:
        l->cursor = 0;
        break;
    case ACT_LAST:
        l->cursor = last;
        break;
    default:
        return REACT_NONE;
    }
    return REACT_REDRAW;
}

int list_selected(const view *v, size_t *item)
{
    const tui_list *l = &v->list;
    if (!l->ops || l->nvis == 0 || l->cursor >= l->nvis || !l->vis)
        return 0;
    *item = l->vis[l->cursor];
    return 1;
}

/* Column widths for the given width: minimums first, then the spare cells
 * shared by the flex columns; x positions include one blank between columns
 * and one cell of left margin. */
static void layout(const list_ops *ops, int cols, int *x, int *w)
{
    int total = 1, flex = 0;
    for (int c = 0; c < ops->ncols; c++) {
        total += ops->cols[c].width + (c ? 1 : 0);
        flex += ops->cols[c].flex;
    }
    int spare = cols - total;
    int given = 0, last_flex = -1;
    for (int c = 0; c < ops->ncols; c++) {
        w[c] = ops->cols[c].width;
        if (spare > 0 && ops->cols[c].flex) {
            int add = spare * ops->cols[c].flex / flex;
            w[c] += add;
            given += add;
            last_flex = c;
        }
    }
    if (last_flex >= 0)
        w[last_flex] += spare - given; /* rounding remainder */
    int pos = 1;
    for (int c = 0; c < ops->ncols; c++) {
        x[c] = pos;
        pos += w[c] + 1;
    }
}

static void draw_cells(const list_ops *ops, const tui_row *row, int r, int cols,
                       theme_elem e, const int *x, const int *w)
{
    crt_fill(r, 0, cols, e);
    if (row->span) {
        crt_put(r, 1, cols - 1, e, row->cell[0]);
        return;
    }
    for (int c = 0; c < ops->ncols; c++) {
        if (x[c] >= cols)
            break;
        int width = w[c] < cols - x[c] ? w[c] : cols - x[c];
        if (ops->cols[c].right)
            crt_put_right(r, x[c], width, e, row->cell[c]);
        else
            crt_put(r, x[c], width, e, row->cell[c]);
    }
}

void list_draw(view *v, app *a, tui_rect r)
{
    (void)a;
    tui_list *l = &v->list;
    const list_ops *ops = l->ops;
    int x[TUI_MAX_COLS], w[TUI_MAX_COLS];
    layout(ops, r.cols, x, w);
    int row = r.row;
    if (!ops->no_header && r.rows > 0) {
        tui_row *hdr = sl_calloc(1, sizeof *hdr);
        for (int c = 0; c < ops->ncols; c++)
            snprintf(hdr->cell[c], TUI_CELL_MAX, "%s", ops->cols[c].title);
        draw_cells(ops, hdr, row, r.cols, EL_HEADER, x, w);
        free(hdr);
        row++;
    }
    int page = r.row + r.rows - row;
    l->page = page > 0 ? page : 1;
    l->row0 = page > 0 && l->nvis ? row : -1;
    if (page <= 0)
        return;
    if (l->nvis == 0) {
        char note[300];
        if (l->filter[0])
            snprintf(note, sizeof note, "no rows match '%s' (Esc clears the filter)",
                     l->filter);
        else
            snprintf(note, sizeof note, "(nothing here)");
        crt_put(row, 1, r.cols - 1, EL_DIM, note);
        return;
    }
    if (l->cursor >= l->nvis)
        l->cursor = l->nvis - 1;
    if (l->cursor < l->top)
        l->top = l->cursor;
    if (l->cursor >= l->top + (size_t)page)
        l->top = l->cursor - (size_t)page + 1;
    if (l->top + (size_t)page > l->nvis)
        l->top = l->nvis > (size_t)page ? l->nvis - (size_t)page : 0;
    tui_row *item = sl_calloc(1, sizeof *item);
    for (int i = 0; i < page && l->top + (size_t)i < l->nvis; i++) {
        size_t k = l->top + (size_t)i;
        memset(item, 0, sizeof *item);
        item->elem = EL_NORMAL;
        ops->row(v, l->vis[k], item);
        theme_elem e = k == l->cursor ? EL_SELECTION : item->elem;
        draw_cells(ops, item, row + i, r.cols, e, x, w);
    }
    free(item);
}

int list_click(view *v, int screen_row)
{
    tui_list *l = &v->list;
    if (!l->ops || l->row0 < 0 || screen_row < l->row0 || screen_row >= l->row0 + l->page)
        return 0;
    size_t k = l->top + (size_t)(screen_row - l->row0);
    if (k >= l->nvis)
        return 0;
    l->cursor = k;
    return 1;
}

void list_free(tui_list *l)
{
    free(l->vis);
    l->vis = NULL;
    l->nvis = 0;
}

int view_draw_state(view *v, app *a, tui_rect r, const char *what)
{
    if (r.rows <= 0)
        return 1;
    if (v->error.code != SL_OK) {
        char *line = sl_asprintf("%s %s", err_code_name(v->error.code), v->error.msg);
        crt_put(r.row, 1, r.cols - 1, EL_FAILED, line);
        free(line);
        if (r.rows > 1) {
            char *hint = sl_asprintf("hint: %s", err_code_hint(v->error.code));
            crt_put(r.row + 1, 1, r.cols - 1, EL_WARNING, hint);
            free(hint);
        }
        if (r.rows > 2)
            crt_put(r.row + 2, 1, r.cols - 1, EL_DIM, "r reloads");
        return 1;
    }
    if (!v->loaded) {
        char *line = v->pending ? sl_asprintf("%s loading %s…", app_spinner(a), what)
                                : sl_asprintf("%s not loaded (r loads)", what);
        crt_put(r.row, 1, r.cols - 1, EL_LOADING, line);
        free(line);
        return 1;
    }
    return 0;
}
