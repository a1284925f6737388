#ifndef SLUICE_TUI_APP_H
#define SLUICE_TUI_APP_H

#include "backend/ops/session.h"
#include "backend/util/err.h"
#include "tui/actions.h"
#include "tui/theme.h"
#include "tui/view.h"
#include "tui/worker.h"

/* The console's state and its generic driver: tabs of view stacks, input
 * modes (browse, `:` line, `/` filter, quit confirmation), the action
 * dispatcher, and the frame (banner, title, status line, key bar). Views
 * reach the app only through the functions below. */

typedef enum action_source { SRC_KEY, SRC_COMMAND, SRC_SCRIPT } action_source;

app *app_new(session *sess, const theme *th, int script, tui_worker *worker);
void app_free(app *a);

/* Opens the first view. */
void app_start(app *a);
/* One key press through the current input mode. */
sl_code app_key(app *a, int key, sl_err *err);
/* A command line ("name args"), as typed after ':' or read from a script. */
sl_code app_command(app *a, const char *line, action_source src, sl_err *err);
sl_code app_action(app *a, action_id id, const char *arg, action_source src, sl_err *err);
/* Hands finished jobs to their views; returns how many. */
int app_deliver(app *a);
/* Script mode: waits until no job is queued, running or undelivered. */
void app_settle(app *a);
/* Draws the whole frame once. */
void app_draw(app *a);
/* Reactions collected since the last call (REACT_*), then cleared. */
unsigned app_take_reactions(app *a);
int app_quitting(const app *a);
/* Once per main-loop turn: finishes a quit that waited for the live run. */
void app_tick(app *a);
/* Work in flight (worker jobs or the live run): the loop ticks faster. */
int app_busy(app *a);
/* Shows an error in the status line (and its hint in the message line). */
void app_error(app *a, const sl_err *e);
void app_message(app *a, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For views. */
session *app_session(app *a);
int app_read_only(const app *a);
const theme *app_theme(const app *a);
const char *app_spinner(const app *a);
/* A new view (not yet shown); crumb is its breadcrumb label. */
view *app_view_new(app *a, const view_ops *ops, const char *crumb, void *state);
/* Shows child on top of the current view (drill-down) and starts its load. */
void app_push(app *a, view *child);
/* Posts a job on behalf of v (NULL: the app itself, then job->deliver
 * takes it back on the UI thread). */
void app_post(app *a, view *v, tui_job *job);
/* Tells every live view (VIEW_EVENT_*). */
void app_broadcast(app *a, int event);

/* A modal dialog (tui/dialog.h) takes the keys until it is answered; then
 * answer(a, ctx, DIALOG_CONFIRM | DIALOG_CANCEL, reason) runs on the UI
 * thread and owns ctx. If the console closes first, ctx_free(ctx). The app
 * owns d. */
struct tui_dialog;
typedef void (*dialog_answer_fn)(app *a, void *ctx, int answer, const char *reason);
void app_dialog_open(app *a, struct tui_dialog *d, dialog_answer_fn answer, void *ctx,
                     void (*ctx_free)(void *));
int app_dialog_is_open(const app *a);

/* The live run of this console (tui/liverun.h); never NULL. */
struct liverun;
struct liverun *app_liverun(app *a);
/* The config's pipelines (loaded once at start; NULL/0 without a config or
 * when a pipeline file is broken: app_pipelines_error says why). */
struct pipeline_def;
struct pipeline_def *const *app_pipelines(app *a, size_t *n);
const sl_err *app_pipelines_error(app *a);
/* Milliseconds since the view's data was loaded, for "stale" marks; the
 * automatic refresh reloads views older than console.refresh_seconds unless
 * paused (P). */
int app_refresh_paused(const app *a);
/* The console's key map (defaults + the user's bindings). */
action_keymap *app_keymap(app *a);
/* Takes ownership of m (the user's bindings applied); the old map is freed. */
void app_set_keymap(app *a, action_keymap *m);

#endif
