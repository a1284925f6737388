/* The console's entry point: theme, screen, worker, audit session events,
 * then either the interactive loop or a script. */
#include "tui/tui.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/ops/ops.h"
#include "backend/pipeline/config.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/script.h"
#include "tui/theme.h"
#include "tui/worker.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void tui_print_actions(void *file)
{
    actions_print((FILE *)file, 0);
}

/* session.open / session.close are audit events written through ops. */
static sl_code session_event(session *sess, const char *name, const char *mode,
                             const char *theme_name, sl_err *err)
{
    ops_request req;
    memset(&req, 0, sizeof req);
    json_t *params = json_pack("{s:s, s:s}", "mode", mode, "theme", theme_name);
    req.params = params;
    ops_result res;
    memset(&res, 0, sizeof res);
    sl_code rc = ops_run(&sess->ops, name, &req, &res, err);
    ops_result_clear(&res);
    json_decref(params);
    return rc;
}

static sl_code run_interactive(app *a, tui_worker *w)
{
    app_draw(a);
    (void)w;
    while (!app_quitting(a)) {
        /* The spinner needs a tick while work runs; results wake us early. */
        int key = crt_key_wait(app_busy(a) ? 100 : 1000, worker_wake_fd(w));
        app_deliver(a);
        app_tick(a);
        if (stop_requested) {
            /* Ctrl-C (or SIGTERM) never quits silently: it asks, like q,
             * and a live run is stopped at a step boundary first. */
            stop_requested = 0;
            sl_err e;
            err_clear(&e);
            app_action(a, ACT_QUIT, NULL, SRC_KEY, &e);
        }
        if (key != CRT_KEY_NONE) {
            sl_err e;
            err_clear(&e);
            if (app_key(a, key, &e) != SL_OK)
                app_error(a, &e);
        }
        unsigned r = app_take_reactions(a);
        if (r & REACT_QUIT)
            break;
        if (r & REACT_REPAINT)
            crt_repaint();
        app_draw(a);
    }
    return SL_OK;
}

sl_code tui_run(session *sess, const tui_opts *opts, sl_err *err)
{
    tui_opts none;
    memset(&none, 0, sizeof none);
    if (!opts)
        opts = &none;
    int script = opts->script_path != NULL;
    if (!script && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
        return err_set(
            err, SL_TUI_NO_TERMINAL,
            "the console needs a terminal: stdin and stdout are not both ttys");

    theme th;
    const char *theme_name =
        theme_choose(opts->theme, sess->cfg ? sess->cfg->theme : NULL);
    sl_code rc = theme_load(theme_name, &th, err);
    if (rc != SL_OK)
        return rc;

    /* The user's key bindings are checked before the screen opens: a typo
     * in console.keys is a config error, not a console that ignores it. */
    action_keymap *km = keymap_new();
    const config_console *cc = sess->cfg ? &sess->cfg->console : NULL;
    for (size_t i = 0; cc && i < cc->nkeys; i++)
        if ((rc = keymap_bind(km, cc->keys[i].action, cc->keys[i].keys, err)) != SL_OK) {
            keymap_free(km);
            return err_wrap(err, "%s", sess->cfg->path);
        }

    tui_script sc;
    memset(&sc, 0, sizeof sc);
    if (script && (rc = script_load(opts->script_path, &sc, err)) != SL_OK) {
        keymap_free(km);
        return rc;
    }

    if (script)
        rc = crt_open_virtual(opts->rows > 0 ? opts->rows : 24,
                              opts->cols > 0 ? opts->cols : 80, &th, err);
    else
        rc = crt_open_terminal(&th, err);
    if (rc != SL_OK) {
        keymap_free(km);
        script_free(&sc);
        return rc;
    }
    if (!script && cc && cc->mouse)
        crt_mouse(1);

    tui_worker *w = NULL;
    if ((rc = worker_start(sess, &w, err)) != SL_OK) {
        keymap_free(km);
        crt_close();
        script_free(&sc);
        return rc;
    }
    const char *mode = script ? "script" : "interactive";
    if ((rc = session_event(sess, "session.open", mode, th.name, err)) != SL_OK) {
        keymap_free(km);
        worker_stop(w);
        crt_close();
        script_free(&sc);
        return rc;
    }

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    app *a = app_new(sess, &th, script, w);
    app_set_keymap(a, km);
    app_start(a);
    rc = script ? script_run(&sc, a, err) : run_interactive(a, w);

    /* The worker finishes its job before the views and the session go. */
    worker_stop(w);
    app_free(a);
    crt_close();
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    script_free(&sc);

    sl_err close_err;
    err_clear(&close_err);
    sl_code crc = session_event(sess, "session.close", mode, th.name, &close_err);
    if (rc == SL_OK && crc != SL_OK) {
        *err = close_err;
        rc = crc;
    }
    return rc;
}
