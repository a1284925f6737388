#ifndef SLUICE_TUI_VIEW_H
#define SLUICE_TUI_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"
#include "backend/util/err.h"
#include "tui/actions.h"
#include "tui/theme.h"
#include "tui/worker.h"

/* A screen of the console is a table of functions (as tig's view_ops):
 * adding a view is adding a file with one of these, never editing another
 * view. List views embed a tui_list and get moving, filtering, scrolling and
 * column layout from list.c. */

typedef struct app app;
typedef struct view view;

typedef struct tui_rect {
    int row, col, rows, cols;
} tui_rect;

/* What a handler asks the main loop to do next (htop style). */
enum {
    REACT_NONE = 0,
    REACT_REDRAW = 1u << 0,
    REACT_REPAINT = 1u << 1, /* forget the terminal's contents (Ctrl-L) */
    REACT_QUIT = 1u << 2,
    REACT_UNHANDLED = 1u << 3, /* a view passes the action on to the generic driver */
};

/* Events the app broadcasts to every live view. */
enum { VIEW_EVENT_AUDIT_CHANGED = 1, VIEW_EVENT_TABLE_CHANGED = 2 };

typedef struct view_ops {
    const char *name;  /* "folders": the `view NAME` argument */
    const char *title; /* "Folders": tab label */
    /* Starts (re)loading: posts jobs with app_post. NULL: nothing to load. */
    void (*load)(view *v, app *a);
    /* A finished job of this view; the view owns it from here and frees it. */
    void (*take)(view *v, app *a, tui_job *job);
    void (*draw)(view *v, app *a, tui_rect r);
    /* An action for this view; return REACT_UNHANDLED to let the generic
     * driver (moving, filter, back...) have it. NULL: all generic. */
    unsigned (*handle)(view *v, app *a, action_id id, const char *arg, sl_err *err);
    /* Enter on the selected row (drill down). NULL: nothing to open. */
    unsigned (*enter)(view *v, app *a, sl_err *err);
    void (*notify)(view *v, app *a, int event);
    /* Frees the view's state (not the view). */
    void (*done)(view *v);
} view_ops;

#define TUI_MAX_COLS 8
#define TUI_CELL_MAX 400

typedef struct tui_column {
    const char *title;
    int width; /* minimum cells */
    int flex;  /* share of the spare width */
    int right; /* right-aligned */
} tui_column;

typedef struct tui_row {
    char cell[TUI_MAX_COLS][TUI_CELL_MAX];
    theme_elem elem;
    int span; /* cell[0] spans the whole row (section lines) */
} tui_row;

typedef struct list_ops {
    const tui_column *cols;
    int ncols;
    int no_header;
    size_t (*count)(view *v);
    void (*row)(view *v, size_t i, tui_row *out);
} list_ops;

typedef struct tui_list {
    const list_ops *ops;
    size_t *vis; /* item indexes passing the filter */
    size_t nvis;
    size_t cursor; /* position in vis */
    size_t top;    /* first shown position in vis */
    int page;      /* body rows at the last draw */
    int row0;      /* screen row of the first item row at the last draw (-1: none) */
    char filter[256];
} tui_list;

struct view {
    const view_ops *ops;
    uint64_t id;
    char crumb[128];   /* breadcrumb label */
    void *state;       /* the view's own data, freed by ops->done */
    tui_list list;     /* used when list.ops is set */
    int pending;       /* jobs posted and not yet taken */
    int loaded;        /* at least one load finished */
    int64_t loaded_ms; /* when its last job was delivered (0: never); the app
                        * refreshes and marks stale data by it */
    sl_err error;      /* last load error (code SL_OK when none) */
};

/* Generic list behaviour (list.c). */
void list_refilter(view *v); /* after the items or the filter changed */
void list_set_filter(view *v, const char *text);
/* Moving actions (down, up, page-down, page-up, first, last). */
unsigned list_move(view *v, action_id id);
/* A mouse click at screen row: selects the item drawn there. 1 if any. */
int list_click(view *v, int screen_row);
/* The selected item; 0 when the list is empty. */
int list_selected(const view *v, size_t *item);
/* Column header, rows, selection and an empty/filter note inside r. */
void list_draw(view *v, app *a, tui_rect r);
void list_free(tui_list *l);

/* Loading / error lines a view shows when it has no data to draw. Returns
 * 1 when it drew something (the view should not draw its body). */
int view_draw_state(view *v, app *a, tui_rect r, const char *what);

/* The views (one file each). */
extern const view_ops view_overview_ops;
extern const view_ops view_runs_ops;
extern const view_ops view_health_ops;
extern const view_ops view_runbooks_ops;
extern const view_ops view_cmdlog_ops;
extern const view_ops view_run_ops;
extern const view_ops view_folders_ops;
extern const view_ops view_tables_ops;
extern const view_ops view_audit_ops;
extern const view_ops view_help_ops;
extern const view_ops view_history_ops;
extern const view_ops view_text_ops;

/* Drill-down constructors. */
view *view_cmdlog_new(app *a); /* the command log (L) */
view *view_run_new(app *a);    /* the live run (w, and after starting one) */
/* One run: its steps, checks, error with hint, versions (Runs, Enter). */
view *view_rundetail_new(app *a, const char *pipeline, const char *run_id);
/* One audit event with its request pair, params, before and after. */
view *view_event_new(app *a, int64_t id);
/* ? from a view: its own actions first, then every other one. */
view *view_help_new(app *a, const char *for_view);
view *view_history_new(app *a, const char *table_name, const char *url);
/* A text view whose text is produced on the worker by fn(sess, arg); the
 * view owns arg and frees it with arg_free. */
typedef sl_code (*text_producer)(session *sess, void *arg, sl_buf *out, sl_err *err);
view *view_text_new(app *a, const char *crumb, text_producer fn, void *arg,
                    void (*arg_free)(void *));
/* A text view with fixed content (no job). */
view *view_text_new_static(app *a, const char *crumb, const char *text);

#endif
