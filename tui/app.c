#include "tui/app.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"
#include "tui/crt.h"
#include "tui/dialog.h"
#include "tui/fmt.h"
#include "tui/liverun.h"
#include "tui/pipeact.h"
#include "tui/prompt.h"

/* The tabs, in Tab order. Drill-down views live on a tab's stack. */
static const view_ops *const tab_ops[] = {
    &view_overview_ops, &view_folders_ops, &view_runs_ops,     &view_tables_ops,
    &view_audit_ops,    &view_health_ops,  &view_runbooks_ops, &view_help_ops};
#define NTABS ((int)(sizeof tab_ops / sizeof tab_ops[0]))
#define STACK_MAX 16

/* Actions that belong to one view: invoked elsewhere, they switch there first. */
static const struct {
    action_id id;
    const char *view;
} action_home[] = {{ACT_VERIFY, "audit"},
                   {ACT_EXPORT, "audit"},
                   {ACT_FAILED_FIRST, "runs"},
                   {ACT_STEP_DO, "runbooks"},
                   {ACT_STEP_SKIP, "runbooks"}};

typedef enum app_mode {
    MODE_BROWSE,
    MODE_COMMAND,
    MODE_FILTER,
    MODE_CONFIRM_QUIT,
    MODE_DIALOG
} app_mode;

struct app {
    session *sess;
    tui_worker *worker;
    theme theme;
    int script;
    int read_only;
    struct {
        view *stack[STACK_MAX];
        int depth;
    } tabs[NTABS];
    int cur;
    uint64_t next_id;
    app_mode mode;
    tui_prompt prompt;
    struct {
        tui_dialog *d;
        dialog_answer_fn answer;
        void *ctx;
        void (*ctx_free)(void *);
    } dialog;
    char message[512];
    theme_elem message_elem;
    sl_err last_error;
    unsigned react;
    unsigned spin;
    int quit;
    int quit_after_run; /* quit confirmed while a run was live: quit once it stops */
    liverun *live;
    pipeline_def **pipelines;
    size_t npipelines;
    sl_err pipelines_err;
    int refresh_paused;
    action_keymap *keymap;
    int live_was_active; /* the live run was active at the last tick */
};

/* ---- jobs of the app itself ---------------------------------------- */

typedef struct note_job {
    tui_job base;
    char *text;
    int64_t event_id;
} note_job;

static void note_run(tui_job *job, session *sess)
{
    note_job *j = (note_job *)job;
    ops_request req = {0};
    req.reason = j->text;
    ops_result res = {0};
    job->code = ops_run(&sess->ops, "audit.note", &req, &res, &job->err);
    j->event_id = res.final_id ? res.final_id : res.requested_id;
    ops_result_clear(&res);
}

static void note_free(tui_job *job)
{
    note_job *j = (note_job *)job;
    free(j->text);
    free(j);
}

static void note_deliver(tui_job *job, app *a)
{
    note_job *j = (note_job *)job;
    if (job->code != SL_OK) {
        app_error(a, &job->err);
    } else {
        app_message(a, EL_OK, "note recorded as audit event #%lld",
                    (long long)j->event_id);
        app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    }
    job->free(job);
}

/* A mutating action typed in a read-only console: the ops layer refuses it
 * again and writes the refusal to the audit log. */
typedef struct refusal_job {
    tui_job base;
    char *name;
} refusal_job;

static void refusal_run(tui_job *job, session *sess)
{
    refusal_job *j = (refusal_job *)job;
    ops_request req = {0};
    ops_result res;
    job->code = ops_run(&sess->ops, j->name, &req, &res, &job->err);
    ops_result_clear(&res);
}

static void refusal_free(tui_job *job)
{
    refusal_job *j = (refusal_job *)job;
    free(j->name);
    free(j);
}

static void refusal_deliver(tui_job *job, app *a)
{
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    job->free(job);
}

/* ---- views and tabs -------------------------------------------------- */

session *app_session(app *a)
{
    return a->sess;
}

int app_read_only(const app *a)
{
    return a->read_only;
}

const theme *app_theme(const app *a)
{
    return &a->theme;
}

const char *app_spinner(const app *a)
{
    static const char *const frames[] = {"|", "/", "-", "\\"};
    return frames[a->spin % 4];
}

view *app_view_new(app *a, const view_ops *ops, const char *crumb, void *state)
{
    view *v = sl_calloc(1, sizeof *v);
    v->ops = ops;
    v->id = ++a->next_id;
    v->state = state;
    snprintf(v->crumb, sizeof v->crumb, "%s", crumb ? crumb : ops->title);
    return v;
}

static void view_destroy(view *v)
{
    if (!v)
        return;
    if (v->ops->done)
        v->ops->done(v);
    list_free(&v->list);
    free(v);
}

static void view_load(app *a, view *v)
{
    if (v->ops->load)
        v->ops->load(v, a);
    if (v->list.ops)
        list_refilter(v);
}

static view *current(app *a)
{
    if (a->tabs[a->cur].depth == 0) {
        view *v = app_view_new(a, tab_ops[a->cur], NULL, NULL);
        a->tabs[a->cur].stack[0] = v;
        a->tabs[a->cur].depth = 1;
        view_load(a, v);
    }
    return a->tabs[a->cur].stack[a->tabs[a->cur].depth - 1];
}

void app_push(app *a, view *child)
{
    current(a);
    int t = a->cur;
    if (a->tabs[t].depth == STACK_MAX) {
        /* The deepest drill-down replaces the top rather than growing forever. */
        view_destroy(a->tabs[t].stack[STACK_MAX - 1]);
        a->tabs[t].depth--;
    }
    a->tabs[t].stack[a->tabs[t].depth++] = child;
    view_load(a, child);
    a->react |= REACT_REDRAW;
}

static void pop(app *a)
{
    int t = a->cur;
    if (a->tabs[t].depth <= 1)
        return;
    view_destroy(a->tabs[t].stack[--a->tabs[t].depth]);
    a->react |= REACT_REDRAW;
}

static int tab_index(const char *name)
{
    for (int i = 0; i < NTABS; i++)
        if (strcmp(tab_ops[i]->name, name) == 0)
            return i;
    return -1;
}

static void switch_tab(app *a, int t)
{
    a->cur = ((t % NTABS) + NTABS) % NTABS;
    current(a);
    a->react |= REACT_REDRAW;
}

static view *find_view(app *a, uint64_t id)
{
    for (int t = 0; t < NTABS; t++)
        for (int d = 0; d < a->tabs[t].depth; d++)
            if (a->tabs[t].stack[d]->id == id)
                return a->tabs[t].stack[d];
    return NULL;
}

void app_broadcast(app *a, int event)
{
    for (int t = 0; t < NTABS; t++)
        for (int d = 0; d < a->tabs[t].depth; d++) {
            view *v = a->tabs[t].stack[d];
            if (v->ops->notify)
                v->ops->notify(v, a, event);
        }
}

void app_post(app *a, view *v, tui_job *job)
{
    job->owner = v ? v->id : 0;
    if (v)
        v->pending++;
    worker_post(a->worker, job);
    a->react |= REACT_REDRAW;
}

/* ---- dialogs ------------------------------------------------------------ */

void app_dialog_open(app *a, tui_dialog *d, dialog_answer_fn answer, void *ctx,
                     void (*ctx_free)(void *))
{
    if (a->dialog.d) { /* one at a time: the older question is dropped unanswered */
        dialog_free(a->dialog.d);
        if (a->dialog.ctx_free)
            a->dialog.ctx_free(a->dialog.ctx);
    }
    a->dialog.d = d;
    a->dialog.answer = answer;
    a->dialog.ctx = ctx;
    a->dialog.ctx_free = ctx_free;
    a->mode = MODE_DIALOG;
    a->react |= REACT_REDRAW;
}

int app_dialog_is_open(const app *a)
{
    return a->dialog.d != NULL;
}

static void dialog_close(app *a, int answer)
{
    char *reason = dialog_reason(a->dialog.d);
    dialog_answer_fn fn = a->dialog.answer;
    void *ctx = a->dialog.ctx;
    dialog_free(a->dialog.d);
    memset(&a->dialog, 0, sizeof a->dialog);
    a->mode = MODE_BROWSE;
    fn(a, ctx, answer, reason);
    free(reason);
}

int app_deliver(app *a)
{
    int n = 0;
    tui_job *list = worker_take_done(a->worker);
    while (list) {
        tui_job *job = list;
        list = list->next;
        job->next = NULL;
        n++;
        if (job->owner == 0) {
            job->deliver(job, a);
            continue;
        }
        view *v = find_view(a, job->owner);
        if (!v) {
            job->free(job); /* its view was closed meanwhile */
            continue;
        }
        v->pending--;
        v->ops->take(v, a, job);
        if (v->pending == 0)
            v->loaded_ms = time_now_ms();
        if (v->list.ops)
            list_refilter(v);
    }
    if (n)
        a->react |= REACT_REDRAW;
    return n;
}

void app_settle(app *a)
{
    for (;;) {
        worker_wait_idle(a->worker);
        liverun_wait(a->live);
        app_tick(a); /* a run that ended makes the views reload */
        if (app_deliver(a) == 0 && worker_busy(a->worker) == 0 &&
            !liverun_active(a->live))
            break;
    }
}

/* ---- messages and errors ----------------------------------------------- */

void app_message(app *a, theme_elem e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->message_elem = e;
    a->react |= REACT_REDRAW;
}

void app_error(app *a, const sl_err *e)
{
    a->last_error = *e;
    app_message(a, EL_WARNING, "hint: %s (e: details)", err_code_hint(e->code));
}

/* ---- lifecycle ----------------------------------------------------------- */

app *app_new(session *sess, const theme *th, int script, tui_worker *worker)
{
    app *a = sl_calloc(1, sizeof *a);
    a->sess = sess;
    a->theme = *th;
    a->script = script;
    a->worker = worker;
    a->read_only = sess->ops.read_only;
    a->message_elem = EL_MESSAGE;
    err_clear(&a->last_error);
    a->live = liverun_new(sess);
    a->keymap = keymap_new();
    err_clear(&a->pipelines_err);
    if (sess->cfg && sess->cfg->npipelines &&
        config_pipelines_load_all(sess->cfg, &a->pipelines, &a->npipelines,
                                  &a->pipelines_err) != SL_OK) {
        a->pipelines = NULL;
        a->npipelines = 0;
    }
    return a;
}

struct liverun *app_liverun(app *a)
{
    return a->live;
}

pipeline_def *const *app_pipelines(app *a, size_t *n)
{
    *n = a->npipelines;
    return a->pipelines;
}

const sl_err *app_pipelines_error(app *a)
{
    return &a->pipelines_err;
}

int app_refresh_paused(const app *a)
{
    return a->refresh_paused;
}

action_keymap *app_keymap(app *a)
{
    return a->keymap;
}

void app_set_keymap(app *a, action_keymap *m)
{
    keymap_free(a->keymap);
    a->keymap = m;
}

void app_free(app *a)
{
    if (!a)
        return;
    for (int t = 0; t < NTABS; t++)
        while (a->tabs[t].depth > 0)
            view_destroy(a->tabs[t].stack[--a->tabs[t].depth]);
    prompt_free(&a->prompt);
    if (a->dialog.d) {
        dialog_free(a->dialog.d);
        if (a->dialog.ctx_free)
            a->dialog.ctx_free(a->dialog.ctx);
    }
    /* A run still live stops at its next step boundary, never mid-commit. */
    liverun_free(a->live);
    keymap_free(a->keymap);
    config_pipelines_free(a->pipelines, a->npipelines);
    free(a);
}

void app_start(app *a)
{
    switch_tab(a, 0);
}

unsigned app_take_reactions(app *a)
{
    unsigned r = a->react;
    a->react = 0;
    return r;
}

int app_quitting(const app *a)
{
    return a->quit;
}

/* Called by the main loop on every tick: a quit waiting for the live run to
 * stop happens once it has. */
void app_tick(app *a)
{
    /* Automatic refresh of the view on screen, never under a prompt or a
     * dialog, never in scripts (their screens must not move by time). */
    view *v = current(a);
    const config *cfg = a->sess->cfg;
    int every = cfg ? cfg->console.refresh_seconds : 10;
    if (!a->script && !a->refresh_paused && every > 0 && a->mode == MODE_BROWSE &&
        v->ops->load && v->pending == 0 && v->loaded_ms > 0 &&
        time_now_ms() - v->loaded_ms >= (int64_t)every * 1000) {
        v->loaded_ms = time_now_ms(); /* one reload in flight at a time */
        view_load(a, v);
    }
    if (a->quit_after_run && !liverun_active(a->live)) {
        a->quit = 1;
        a->react |= REACT_QUIT;
    }
    int live = liverun_active(a->live);
    if (live)
        a->react |= REACT_REDRAW;
    if (a->live_was_active && !live) {
        /* The run changed tables, the checkpoint and the audit log: every
         * view showing them reloads. */
        app_broadcast(a, VIEW_EVENT_TABLE_CHANGED);
        app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    }
    a->live_was_active = live;
}

int app_busy(app *a)
{
    return worker_busy(a->worker) > 0 || liverun_active(a->live);
}

/* ---- actions --------------------------------------------------------------- */

static sl_code action_generic(app *a, view *v, action_id id, const char *arg,
                              action_source src, sl_err *err);

static void open_prompt(app *a, app_mode mode, const char *prefix, const char *initial)
{
    a->mode = mode;
    prompt_start(&a->prompt, prefix, initial);
    a->react |= REACT_REDRAW;
}

/* Script lines act like a user who finishes what is on the prompt first:
 * `enter`/`back` answer an open prompt, anything else closes it. */
static int script_prompt_shortcut(app *a, action_id id, sl_err *err, sl_code *rc)
{
    if (a->mode == MODE_BROWSE || id == ACT_KEY || id == ACT_TYPE || id == ACT_WAIT ||
        id == ACT_DUMP || id == ACT_RESIZE)
        return 0;
    if (a->mode == MODE_DIALOG) {
        /* A dialog is answered, never closed by a stray command. */
        if (id == ACT_BACK) {
            *rc = app_key(a, CRT_KEY_ESC, err);
            return 1;
        }
        *rc = err_set(
            err, SL_USAGE,
            "a dialog is open: answer it first (key/type lines, or back to cancel)");
        return 1;
    }
    if (id == ACT_ENTER || id == ACT_BACK) {
        *rc = app_key(a, id == ACT_ENTER ? CRT_KEY_ENTER : CRT_KEY_ESC, err);
        return 1;
    }
    a->mode = MODE_BROWSE; /* a live filter stays, as after Enter */
    return 0;
}

sl_code app_action(app *a, action_id id, const char *arg, action_source src, sl_err *err)
{
    err_clear(err);
    const action_desc *d = actions_get(id);
    if (!d)
        return err_set(err, SL_INTERNAL, "action id %d is not in the action table",
                       (int)id);
    if (!actions_available(d, a->read_only)) {
        int audited = (d->flags & ACT_MUTATES) && ops_find(d->name);
        if (audited) {
            refusal_job *j = sl_calloc(1, sizeof *j);
            j->base.run = refusal_run;
            j->base.free = refusal_free;
            j->base.deliver = refusal_deliver;
            j->name = sl_strdup(d->name);
            app_post(a, NULL, &j->base);
        }
        return err_set(err, SL_OPS_READ_ONLY,
                       "'%s' changes data and this console is read-only%s", d->name,
                       audited ? " (refusal audited)" : "");
    }
    if (src == SRC_SCRIPT) {
        sl_code rc;
        if (script_prompt_shortcut(a, id, err, &rc))
            return rc;
    }
    if (arg && !*arg)
        arg = NULL;
    if ((d->flags & ACT_ARG) && !arg) {
        if (src == SRC_KEY) {
            char init[64];
            snprintf(init, sizeof init, "%s ", d->name);
            open_prompt(a, MODE_COMMAND, ":", init);
            return SL_OK;
        }
        return err_set(err, SL_USAGE, "'%s' needs an argument: %s %s", d->name, d->name,
                       d->args);
    }
    if (arg && !(d->flags & (ACT_ARG | ACT_ARG_OPT)))
        return err_set(err, SL_USAGE, "'%s' takes no argument (got '%s')", d->name, arg);
    if ((d->flags & ACT_SCRIPT) && !a->script)
        return err_set(err, SL_USAGE, "'%s' works in scripts only", d->name);
    /* An action that belongs to one view goes there: its tab, back to the
     * tab's own view (from a drill-down such as one audit event). */
    for (size_t i = 0; i < sizeof action_home / sizeof action_home[0]; i++)
        if (action_home[i].id == id &&
            strcmp(current(a)->ops->name, action_home[i].view)) {
            switch_tab(a, tab_index(action_home[i].view));
            while (a->tabs[a->cur].depth > 1)
                pop(a);
        }

    view *v = current(a);
    if (v->ops->handle) {
        unsigned r = v->ops->handle(v, a, id, arg, err);
        if (!(r & REACT_UNHANDLED)) {
            a->react |= r | REACT_REDRAW;
            return err->code;
        }
        err_clear(err);
    }
    sl_code rc = action_generic(a, v, id, arg, src, err);
    a->react |= REACT_REDRAW;
    return rc;
}

static sl_code show_last_error(app *a)
{
    if (a->last_error.code == SL_OK) {
        app_message(a, EL_MESSAGE, "no error so far");
        return SL_OK;
    }
    char *text = sl_asprintf("Code:    %s\nMessage: %s\nHint:    %s\n",
                             err_code_name(a->last_error.code), a->last_error.msg,
                             err_code_hint(a->last_error.code));
    app_push(a, view_text_new_static(a, "last error", text));
    free(text);
    return SL_OK;
}

static sl_code do_theme(app *a, const char *name, sl_err *err)
{
    const char *chosen = theme_choose(name, NULL);
    theme th;
    sl_code rc = theme_load(chosen, &th, err);
    if (rc != SL_OK)
        return rc;
    a->theme = th;
    crt_set_theme(&a->theme);
    if (strcmp(chosen, name) != 0)
        app_message(a, EL_WARNING, "NO_COLOR is set: theme %s stays in use", chosen);
    else
        app_message(a, EL_MESSAGE, "theme %s", th.name);
    a->react |= REACT_REPAINT;
    return SL_OK;
}

static sl_code do_type(app *a, const char *text, sl_err *err)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        int len = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        char one[5] = {0};
        for (int i = 0; i < len && p[i]; i++)
            one[i] = (char)p[i];
        int key = actions_key_parse(one);
        if (key < 0)
            return err_set(err, SL_USAGE, "cannot type the bytes of '%s'", text);
        sl_code rc = app_key(a, key, err);
        if (rc != SL_OK)
            return rc;
        p += strlen(one);
    }
    return SL_OK;
}

static sl_code do_resize(app *a, const char *arg, sl_err *err)
{
    int rows, cols;
    char extra;
    if (sscanf(arg, "%d %d %c", &rows, &cols, &extra) != 2 || rows < 2 || cols < 2 ||
        rows > 1000 || cols > 1000)
        return err_set(err, SL_USAGE,
                       "resize needs ROWS COLS between 2 and 1000, got '%s'", arg);
    crt_resize(rows, cols);
    a->react |= REACT_REDRAW;
    return SL_OK;
}

static sl_code action_generic(app *a, view *v, action_id id, const char *arg,
                              action_source src, sl_err *err)
{
    switch (id) {
    case ACT_DOWN:
    case ACT_UP:
    case ACT_PAGE_DOWN:
    case ACT_PAGE_UP:
    case ACT_FIRST:
    case ACT_LAST:
        if (v->list.ops)
            a->react |= list_move(v, id);
        return SL_OK;
    case ACT_ENTER:
        if (!v->ops->enter) {
            app_message(a, EL_MESSAGE, "nothing to open here");
            return SL_OK;
        }
        a->react |= v->ops->enter(v, a, err);
        return err->code;
    case ACT_BACK:
        if (v->list.ops && v->list.filter[0])
            list_set_filter(v, "");
        else
            pop(a);
        return SL_OK;
    case ACT_NEXT_VIEW:
        switch_tab(a, a->cur + 1);
        return SL_OK;
    case ACT_PREV_VIEW:
        switch_tab(a, a->cur - 1);
        return SL_OK;
    case ACT_OVERVIEW:
    case ACT_FOLDERS:
    case ACT_RUNS:
    case ACT_TABLES:
    case ACT_AUDIT:
    case ACT_HEALTH:
    case ACT_RUNBOOKS:
        switch_tab(a, tab_index(actions_get(id)->name));
        return SL_OK;
    case ACT_HELP:
        /* ? answers for the view at hand; `view help` is the whole table. */
        if (strcmp(v->ops->name, "help") == 0)
            return SL_OK;
        app_push(a, view_help_new(a, v->ops->name));
        return SL_OK;
    case ACT_VIEW: {
        int t = tab_index(arg);
        if (t < 0)
            return err_set(err, SL_USAGE,
                           "no view named '%s' (overview, folders, runs, tables, audit, "
                           "health, runbooks, help)",
                           arg);
        switch_tab(a, t);
        return SL_OK;
    }
    case ACT_CMDLOG:
        app_push(a, view_cmdlog_new(a));
        return SL_OK;
    case ACT_LIVE:
        app_push(a, view_run_new(a));
        return SL_OK;
    case ACT_PAUSE:
        a->refresh_paused = !a->refresh_paused;
        app_message(a, EL_MESSAGE, "automatic refresh %s",
                    a->refresh_paused ? "paused (P resumes; r reloads by hand)"
                                      : "resumed");
        return SL_OK;
    case ACT_WHERE:
        app_message(a, EL_MESSAGE,
                    "this view has no fields to filter by; / filters text");
        return SL_OK;
    case ACT_SELECT:
        app_message(a, EL_MESSAGE, "nothing to mark here (Space marks folders)");
        return SL_OK;
    case ACT_RUN:
    case ACT_RETRY:
    case ACT_SKIP:
    case ACT_MARK:
    case ACT_RESET:
        app_message(a, EL_MESSAGE, "%s works on folders: open Folders (2) and select one",
                    actions_get(id)->name);
        return SL_OK;
    case ACT_ROLLBACK:
        app_message(a, EL_MESSAGE,
                    "rollback-run works on a run: open Runs (3), select one");
        return SL_OK;
    case ACT_SKIP_FILE:
        app_message(a, EL_MESSAGE,
                    "skip-file works on a folder: open Folders (2) and select it");
        return SL_OK;
    case ACT_CANCEL: {
        /* The live run of this console, else whichever run holds the lease. */
        pipeact_target t = {0};
        return pipeact_open(a, ACT_CANCEL, &t, err);
    }
    case ACT_FOLLOW:
        app_message(a, EL_MESSAGE, "follow works in the live run (w)");
        return SL_OK;
    case ACT_FAILED_FIRST:
    case ACT_EXPORT:
    case ACT_STEP_DO:
    case ACT_STEP_SKIP:
        app_message(a, EL_MESSAGE, "%s does nothing in this view", actions_get(id)->name);
        return SL_OK;
    case ACT_DIFF:
    case ACT_PREVIEW:
        app_message(a, EL_MESSAGE,
                    "%s works on a table's history: open Tables (4), Enter on a table",
                    actions_get(id)->name);
        return SL_OK;
    case ACT_ERROR:
        return show_last_error(a);
    case ACT_FILTER:
        if (!v->list.ops) {
            app_message(a, EL_MESSAGE, "this view has no rows to filter");
            return SL_OK;
        }
        if (src == SRC_KEY && !arg) {
            open_prompt(a, MODE_FILTER, "/", v->list.filter);
            return SL_OK;
        }
        list_set_filter(v, arg ? arg : "");
        return SL_OK;
    case ACT_COMMAND:
        open_prompt(a, MODE_COMMAND, ":", "");
        return SL_OK;
    case ACT_RELOAD:
        view_load(a, v);
        return SL_OK;
    case ACT_REDRAW:
        a->react |= REACT_REPAINT;
        return SL_OK;
    case ACT_THEME:
        return do_theme(a, arg, err);
    case ACT_DUMP_STYLE:
        app_draw(a);
        return crt_dump_styles_file(arg, err);
    case ACT_DUMP: {
        app_draw(a);
        sl_code rc = crt_dump_file(arg, err);
        if (rc == SL_OK && !a->script)
            app_message(a, EL_MESSAGE, "screen written to %s", arg);
        return rc;
    }
    case ACT_QUIT:
        if (src == SRC_KEY) {
            a->mode = MODE_CONFIRM_QUIT;
            return SL_OK;
        }
        if (liverun_active(a->live)) {
            /* Scripts too: the run stops at a step boundary, then we quit. */
            liverun_cancel(a->live);
            liverun_wait(a->live);
        }
        a->quit = 1;
        a->react |= REACT_QUIT;
        return SL_OK;
    case ACT_VERIFY:
        app_message(a, EL_MESSAGE, "verify works in the audit view");
        return SL_OK;
    case ACT_RESTORE:
    case ACT_VACUUM:
    case ACT_OPTIMIZE:
        app_message(a, EL_MESSAGE, "%s works on a table: open Tables (2) and select one",
                    actions_get(id)->name);
        return SL_OK;
    case ACT_NOTE: {
        note_job *j = sl_calloc(1, sizeof *j);
        j->base.run = note_run;
        j->base.free = note_free;
        j->base.deliver = note_deliver;
        j->text = sl_strdup(arg);
        app_post(a, NULL, &j->base);
        app_message(a, EL_MESSAGE, "writing the note to the audit log...");
        return SL_OK;
    }
    case ACT_KEY: {
        int key = actions_key_parse(arg);
        if (key < 0)
            return err_set(err, SL_USAGE, "unknown key name '%s'", arg);
        return app_key(a, key, err);
    }
    case ACT_TYPE:
        return do_type(a, arg, err);
    case ACT_WAIT:
        if (a->script)
            app_settle(a);
        return SL_OK;
    case ACT_RESIZE:
        return do_resize(a, arg, err);
    case ACT_CLICK: {
        int row = -1, col = -1;
        char how[16] = "";
        if (!arg || sscanf(arg, "%d %d %15s", &row, &col, how) < 2 || row < 0 || col < 0)
            return err_set(err, SL_USAGE, "click ROW COL [double|up|down], not '%s'",
                           arg ? arg : "");
        int kind = !how[0]                      ? CRT_MOUSE_CLICK
                   : strcmp(how, "double") == 0 ? CRT_MOUSE_DOUBLE
                   : strcmp(how, "up") == 0     ? CRT_MOUSE_WHEEL_UP
                   : strcmp(how, "down") == 0   ? CRT_MOUSE_WHEEL_DOWN
                                                : 0;
        if (!kind)
            return err_set(err, SL_USAGE, "click: '%s' is not double, up or down", how);
        crt_mouse_inject(kind, row, col);
        return app_key(a, CRT_KEY_MOUSE, err);
    }
    case ACT_COUNT:
        break;
    }
    return err_set(err, SL_INTERNAL, "action %d has no handler", (int)id);
}

sl_code app_command(app *a, const char *line, action_source src, sl_err *err)
{
    err_clear(err);
    while (isspace((unsigned char)*line))
        line++;
    if (*line == ':')
        line++;
    while (isspace((unsigned char)*line))
        line++;
    if (!*line)
        return SL_OK;
    size_t n = strcspn(line, " \t");
    char name[64];
    if (n >= sizeof name)
        return err_set(err, SL_USAGE, "unknown action '%.*s'", (int)n, line);
    memcpy(name, line, n);
    name[n] = '\0';
    const char *rest = line + n;
    while (isspace((unsigned char)*rest))
        rest++;
    char *arg = sl_strdup(rest);
    size_t len = strlen(arg);
    while (len > 0 && isspace((unsigned char)arg[len - 1]))
        arg[--len] = '\0';
    const action_desc *d = actions_find(name);
    sl_code rc;
    if (!d)
        rc = err_set(err, SL_USAGE, "unknown action '%s' (? lists them)", name);
    else
        rc = app_action(a, d->id, arg, src, err);
    free(arg);
    return rc;
}

/* ---- keys ---------------------------------------------------------------- */

static void complete_command(app *a)
{
    char text[PROMPT_MAX * 4];
    prompt_text(&a->prompt, text, sizeof text);
    if (strchr(text, ' '))
        return;
    size_t n, len = strlen(text);
    const action_desc *t = actions_table(&n);
    const action_desc *only = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!actions_available(&t[i], a->read_only) || strncmp(t[i].name, text, len))
            continue;
        if (only) {
            app_message(a, EL_MESSAGE, "several actions start with '%s'", text);
            return;
        }
        only = &t[i];
    }
    if (only) {
        char full[80];
        snprintf(full, sizeof full, "%s%s", only->name,
                 (only->flags & (ACT_ARG | ACT_ARG_OPT)) ? " " : "");
        prompt_set(&a->prompt, full);
    }
}

/* A tab's label: its title, or on a narrow screen (compact) its key for
 * every tab but the current one, so the breadcrumb keeps room. Brackets
 * mark the current tab without colour (monochrome, dumps). */
static void tab_label(const app *a, int t, int compact, char *out, size_t outlen)
{
    if (t == a->cur || !compact) {
        snprintf(out, outlen, t == a->cur ? "[%s]" : " %s ", tab_ops[t]->title);
        return;
    }
    const action_desc *d = actions_find(tab_ops[t]->name);
    const char *keys = d ? keymap_keys(a->keymap, d->id) : "";
    size_t kl = strcspn(keys, " ");
    if (kl == 0 || kl > 8)
        snprintf(out, outlen, " %.1s ", tab_ops[t]->title);
    else
        snprintf(out, outlen, " %.*s ", (int)kl, keys);
}

/* Full titles when they leave a third of the row for the breadcrumb. */
static int tabs_compact(const app *a, int cols)
{
    int w = 1;
    for (int t = 0; t < NTABS; t++) {
        char label[64];
        tab_label(a, t, 0, label, sizeof label);
        w += crt_text_width(label) + 1;
    }
    return w > cols * 2 / 3;
}

/* The tab label under column col of the title row, -1 when none (the
 * same layout draw_title uses). */
static int tab_at(const app *a, int col)
{
    int rows, cols;
    crt_size(&rows, &cols);
    int compact = tabs_compact(a, cols);
    int x = 1;
    for (int t = 0; t < NTABS; t++) {
        char label[64];
        tab_label(a, t, compact, label, sizeof label);
        int w = crt_text_width(label);
        if (col >= x && col < x + w)
            return t;
        x += w + 1;
    }
    return -1;
}

/* Mouse (console.mouse): a click on a tab switches to it, on a row selects
 * it, a double click opens it, the wheel moves by three rows. */
static sl_code mouse_event(app *a, sl_err *err)
{
    int row, col;
    int kind = crt_mouse_last(&row, &col);
    view *v = current(a);
    switch (kind) {
    case CRT_MOUSE_WHEEL_UP:
    case CRT_MOUSE_WHEEL_DOWN:
        for (int i = 0; i < 3 && v->list.ops; i++)
            a->react |= list_move(v, kind == CRT_MOUSE_WHEEL_UP ? ACT_UP : ACT_DOWN);
        return SL_OK;
    case CRT_MOUSE_CLICK:
    case CRT_MOUSE_DOUBLE:
        if (row == 1) {
            int t = tab_at(a, col);
            if (t >= 0)
                switch_tab(a, t);
            return SL_OK;
        }
        if (list_click(v, row) && kind == CRT_MOUSE_DOUBLE)
            return app_action(a, ACT_ENTER, NULL, SRC_KEY, err);
        return SL_OK;
    default:
        return SL_OK;
    }
}

sl_code app_key(app *a, int key, sl_err *err)
{
    err_clear(err);
    a->react |= REACT_REDRAW;
    if (key == CRT_KEY_RESIZE)
        return SL_OK; /* crt already knows the new size; the next frame re-lays out */
    switch (a->mode) {
    case MODE_DIALOG: {
        int r = dialog_key(a->dialog.d, key);
        if (r != DIALOG_OPEN)
            dialog_close(a, r);
        return SL_OK;
    }
    case MODE_CONFIRM_QUIT:
        a->mode = MODE_BROWSE;
        if (key == 'y' || key == 'Y') {
            if (liverun_active(a->live)) {
                liverun_cancel(a->live);
                a->quit_after_run = 1;
                app_message(a, EL_WARNING,
                            "stopping the run after its current step; sluice quits when "
                            "it has stopped");
                return SL_OK;
            }
            a->quit = 1;
            a->react |= REACT_QUIT;
        } else {
            app_message(a, EL_MESSAGE, "quit cancelled");
        }
        return SL_OK;
    case MODE_COMMAND: {
        if (key == CRT_KEY_TAB) {
            complete_command(a);
            return SL_OK;
        }
        int r = prompt_key(&a->prompt, key);
        if (r == PROMPT_CANCEL) {
            a->mode = MODE_BROWSE;
        } else if (r == PROMPT_ACCEPT) {
            char line[PROMPT_MAX * 4];
            prompt_text(&a->prompt, line, sizeof line);
            prompt_history_add(&a->prompt, line);
            a->mode = MODE_BROWSE;
            return app_command(a, line, SRC_COMMAND, err);
        }
        return SL_OK;
    }
    case MODE_FILTER: {
        view *v = current(a);
        int r = prompt_key(&a->prompt, key);
        if (r == PROMPT_CANCEL) {
            a->mode = MODE_BROWSE;
            list_set_filter(v, "");
        } else if (r == PROMPT_ACCEPT) {
            a->mode = MODE_BROWSE;
        } else if (r == PROMPT_EDITED) {
            char text[PROMPT_MAX * 4];
            prompt_text(&a->prompt, text, sizeof text);
            list_set_filter(v, text);
        }
        return SL_OK;
    }
    case MODE_BROWSE:
        break;
    }
    a->message[0] = '\0';
    if (key == CRT_KEY_MOUSE)
        return mouse_event(a, err);
    action_id id = keymap_lookup(a->keymap, key, a->read_only);
    if (id == ACT_COUNT) {
        char name[32];
        actions_key_name(key, name, sizeof name);
        app_message(a, EL_MESSAGE, "key %s does nothing here (? for help)", name);
        return SL_OK;
    }
    return app_action(a, id, NULL, SRC_KEY, err);
}

/* ---- drawing ----------------------------------------------------------------- */

static void draw_banner(app *a, int row, int cols)
{
    const config *cfg = a->sess->cfg;
    theme_elem e = theme_banner_elem(cfg ? cfg->banner_color : NULL);
    crt_fill(row, 0, cols, e);
    char env[64];
    snprintf(env, sizeof env, "%s",
             cfg && cfg->environment ? cfg->environment : "no config");
    for (char *p = env; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    char clock[32], right[48];
    fmt_time_short(time_now_ms(), clock, sizeof clock);
    snprintf(right, sizeof right, "%s UTC ", clock);
    int rw = crt_text_width(right);
    int room = cols - rw - 1;
    if (room < 10) {
        room = cols;
        rw = 0;
    }
    char *left = sl_asprintf(" %s │ sluice │ lake %s", env,
                             cfg && cfg->lake_url ? cfg->lake_url : "-");
    crt_put(row, 0, room, e, left);
    free(left);
    if (rw)
        crt_put_right(row, cols - rw, rw, e, right);
}

static void draw_title(app *a, int row, int cols)
{
    crt_fill(row, 0, cols, EL_TITLE);
    int x = 1;
    int compact = tabs_compact(a, cols);
    for (int t = 0; t < NTABS && x < cols; t++) {
        char label[64];
        tab_label(a, t, compact, label, sizeof label);
        x += crt_put(row, x, cols - x, t == a->cur ? EL_TAB_ACTIVE : EL_TAB, label);
        x += 1;
    }
    view *v = current(a);
    sl_buf crumbs = {0};
    for (int d = 1; d < a->tabs[a->cur].depth; d++)
        buf_appendf(&crumbs, " › %s", a->tabs[a->cur].stack[d]->crumb);
    char right[96] = "";
    const config *cfg = a->sess->cfg;
    int every = cfg ? cfg->console.refresh_seconds : 10;
    int64_t age = v->loaded_ms > 0 ? time_now_ms() - v->loaded_ms : 0;
    if (worker_busy(a->worker) > 0) {
        snprintf(right, sizeof right, "%s loading… ", app_spinner(a));
    } else if (v->loaded_ms > 0 &&
               (a->refresh_paused || every == 0 || age > (int64_t)every * 2000)) {
        /* Data older than the refresh promises is marked with its age. */
        char ago[32];
        fmt_age(v->loaded_ms, time_now_ms(), ago, sizeof ago);
        snprintf(right, sizeof right, "%sdata %s ", a->refresh_paused ? "paused · " : "",
                 ago);
    }
    if (v->list.ops && v->list.filter[0]) {
        size_t n = v->list.ops->count(v);
        buf_appendf(&crumbs, "  /%s (%zu of %zu)", v->list.filter, v->list.nvis, n);
    }
    int rw = crt_text_width(right);
    if (crumbs.len && x < cols)
        crt_put(row, x, cols - x - rw, EL_CRUMB, crumbs.data);
    buf_free(&crumbs);
    if (rw && rw < cols - x)
        crt_put_right(row, cols - rw, rw, EL_LOADING, right);
}

static void draw_status(app *a, int row, int cols)
{
    const config *cfg = a->sess->cfg;
    crt_fill(row, 0, cols, EL_STATUS);
    char *left = sl_asprintf(" %s │ %s", cfg && cfg->environment ? cfg->environment : "-",
                             a->sess->operator_name);
    int x = crt_put(row, 0, cols, EL_STATUS, left);
    free(left);
    if (a->read_only && x + 1 < cols) {
        x += 1;
        x += crt_put(row, x, cols - x, EL_STATUS_RO, " RO ");
    }
    if (x >= cols)
        return;
    if (a->last_error.code != SL_OK) {
        char *e =
            sl_asprintf(" │ %s %s", err_code_name(a->last_error.code), a->last_error.msg);
        crt_put(row, x, cols - x, EL_STATUS_ERROR, e);
        free(e);
    } else {
        char *t = sl_asprintf(" │ theme %s", a->theme.name);
        crt_put(row, x, cols - x, EL_STATUS, t);
        free(t);
    }
}

static void draw_keybar(app *a, int row, int cols)
{
    crt_fill(row, 0, cols, EL_MESSAGE);
    size_t n;
    const action_desc *t = actions_table(&n);
    int x = 0;
    for (size_t i = 0; i < n && x < cols; i++) {
        if (!(t[i].flags & ACT_BAR) || !actions_available(&t[i], a->read_only))
            continue;
        char key[32];
        const char *keys = keymap_keys(a->keymap, t[i].id);
        size_t kl = strcspn(keys, " ");
        if (kl == 0)
            continue; /* unbound by the user */
        snprintf(key, sizeof key, "%.*s", (int)kl, keys);
        char label[48];
        snprintf(label, sizeof label, " %s  ", t[i].name);
        int need = crt_text_width(key) + crt_text_width(label);
        if (x + need > cols)
            break;
        x += crt_put(row, x, cols - x, EL_KEY, key);
        x += crt_put(row, x, cols - x, EL_MESSAGE, label);
    }
}

static void draw_bottom(app *a, int row, int cols)
{
    crt_cursor(0, 0, 0);
    switch (a->mode) {
    case MODE_COMMAND:
    case MODE_FILTER:
        prompt_draw(&a->prompt, row, 0, cols, EL_PROMPT);
        return;
    case MODE_DIALOG:
        crt_fill(row, 0, cols, EL_MESSAGE);
        crt_put(row, 0, cols, EL_MESSAGE,
                " Tab next field · Enter on a button answers · Esc cancels");
        return;
    case MODE_CONFIRM_QUIT:
        crt_fill(row, 0, cols, EL_PROMPT);
        crt_put(row, 0, cols, EL_PROMPT,
                liverun_active(a->live)
                    ? "A run is in progress. Stop it after its current step and quit? "
                      "[y/N]"
                    : "Quit sluice? [y/N] (y quits, any other key cancels)");
        return;
    case MODE_BROWSE:
        break;
    }
    if (a->message[0]) {
        crt_fill(row, 0, cols, EL_MESSAGE);
        crt_put(row, 0, cols, a->message_elem, a->message);
        return;
    }
    draw_keybar(a, row, cols);
}

void app_draw(app *a)
{
    int rows, cols;
    crt_size(&rows, &cols);
    crt_erase();
    if (rows < 6 || cols < 20) {
        crt_put(0, 0, cols, EL_WARNING, "terminal too small");
        crt_cursor(0, 0, 0);
        crt_flush();
        return;
    }
    draw_banner(a, 0, cols);
    draw_title(a, 1, cols);
    view *v = current(a);
    tui_rect body = {2, 0, rows - 4, cols};
    v->ops->draw(v, a, body);
    draw_status(a, rows - 2, cols);
    draw_bottom(a, rows - 1, cols);
    if (a->mode == MODE_DIALOG)
        dialog_draw(a->dialog.d, body); /* last, so it owns the cursor */
    a->spin++;
    crt_flush();
}
