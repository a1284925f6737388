/* The pipeline interventions of the console (tui/pipeact.h), called as the
 * Folders, Runs and Runbooks views call them, on a copy of the demo world:
 * each opens its preview dialog (Cancel default, typed target, reason),
 * and the answer goes through ops (run and retry through the live run), so
 * the audit log has requested -> succeeded | refused; a read-only console
 * refuses and audits; a runbook's run id lands in the params. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/ops/session.h"
#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/pipeact.h"
#include "tui/theme.h"
#include "tui/worker.h"

#define FAKE_NOW_MS 1700010000000LL
#define F_OLDEST "1699880400"    /* processed by the demo's first run */
#define F_LATE "1699966800"      /* the late arrival, pending */
#define F_FAILED "1699977600"    /* failed in the demo's last run */
#define F_PROCESSED "1699959600" /* processed by the demo's last run */

static char *g_template;

typedef struct world {
    char *dir;
    char *state;
} world;

/* A console on a virtual screen, driven through the app's API. */
typedef struct console {
    session *sess;
    tui_worker *w;
    app *a;
} console;

static void pin_env(const char *state_dir)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", FAKE_NOW_MS);
    setenv("SLUICE_STATE_DIR", state_dir, 1);
    setenv("SLUICE_FAKE_NOW_MS", now, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
}

/* The demo takes seconds (its runner backs off between retries): built
 * once, copied per test. */
static int group_setup(void **state)
{
    (void)state;
    g_template = tu_mkdtemp("pipeacttpl");
    char *st = paths_join(g_template, "state");
    pin_env(st);
    free(st);
    demo_opts o = {.dir = g_template, .now_ms = FAKE_NOW_MS, .operator_name = "tester"};
    json_t *summary = NULL;
    sl_err err = {0};
    sl_code c = demo_create(&o, &summary, &err);
    if (c != SL_OK) {
        fprintf(stderr, "demo_create: %s %s\n", err_code_name(c), err.msg);
        return -1;
    }
    json_decref(summary);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(g_template);
    free(g_template);
    return 0;
}

static int setup(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    w->dir = tu_mkdtemp("pipeact");
    w->state = paths_join(w->dir, "state");
    char *cmd = sl_asprintf("cd '%s' && cp -a incoming lake pipelines sluice.json '%s/'",
                            g_template, w->dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    pin_env(w->state);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    tu_rmtree(w->dir);
    free(w->dir);
    free(w->state);
    free(w);
    return 0;
}

static void console_open(world *w, int read_only, console *c)
{
    sl_err err = {0};
    char *cfg = paths_join(w->dir, "sluice.json");
    session_opts so = {.config_path = cfg, .channel = "console", .read_only = read_only};
    assert_int_equal(session_open(&so, &c->sess, &err), SL_OK);
    free(cfg);
    theme th;
    assert_int_equal(theme_load("dark", &th, &err), SL_OK);
    assert_int_equal(crt_open_virtual(24, 80, &th, &err), SL_OK);
    assert_int_equal(worker_start(c->sess, &c->w, &err), SL_OK);
    c->a = app_new(c->sess, &th, 1, c->w);
    app_start(c->a);
    app_settle(c->a);
}

static void console_close(console *c)
{
    worker_stop(c->w);
    app_free(c->a);
    crt_close();
    session_close(c->sess);
}

static char *screen(console *c)
{
    app_draw(c->a);
    return crt_dump_text();
}

static void keys(console *c, const char *text)
{
    sl_err err = {0};
    for (const char *p = text; *p; p++)
        assert_int_equal(app_key(c->a, (unsigned char)*p, &err), SL_OK);
}

static void key(console *c, int k)
{
    sl_err err = {0};
    assert_int_equal(app_key(c->a, k, &err), SL_OK);
}

/* Target typed, reason typed, then Right from Cancel to Confirm, Enter. */
static void confirm(console *c, const char *target, const char *reason)
{
    if (target) {
        keys(c, target);
        key(c, CRT_KEY_ENTER);
    }
    keys(c, reason);
    key(c, CRT_KEY_ENTER); /* lands on Cancel, the default */
    key(c, CRT_KEY_RIGHT);
    key(c, CRT_KEY_ENTER);
    app_settle(c->a);
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, text);
}

static json_t *cli_folders(world *w)
{
    char *cmd = sl_asprintf("cd '%s' && '%s' -c '%s/sluice.json' folders orders --json",
                            w->dir, tu_sluice_bin(), w->dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *arr = json_loads(out, 0, NULL);
    assert_true(json_is_array(arr));
    free(out);
    free(cmd);
    return arr;
}

static const json_t *folder_of(const json_t *folders, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach((json_t *)folders, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "folder")), name) == 0)
            return f;
    }
    fail_msg("folder %s is not listed", name);
    return NULL;
}

/* The run id a folder's checkpoint row names (caller frees). */
static char *run_of(world *w, const char *folder)
{
    json_t *folders = cli_folders(w);
    char *id = sl_strdup(
        json_string_value(json_object_get(folder_of(folders, folder), "run_id")));
    json_decref(folders);
    return id;
}

static const char *state_of(json_t *folders, const char *name)
{
    return json_string_value(json_object_get(folder_of(folders, name), "state"));
}

static audit_event *events_of(world *w, const char *action, size_t *n)
{
    char *db = paths_join(w->state, "audit.db");
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(db, &log, &err), SL_OK);
    audit_filter f = {.action = action};
    audit_event *evs = NULL;
    assert_int_equal(audit_query(log, &f, &evs, n, &err), SL_OK);
    audit_close(log);
    free(db);
    return evs;
}

/* Retry of the failed folder's run, asked by a runbook step, cancelled. */
static void test_retry_cancelled_links_runbook(void **state)
{
    world *w = *state;
    char *run = run_of(w, F_FAILED);
    console c;
    console_open(w, 0, &c);
    const char *folders[] = {F_FAILED};
    pipeact_target t = {.pipeline = "orders",
                        .folders = folders,
                        .nfolders = 1,
                        .run_id = run,
                        .runbook_run = "rb-0042"};
    sl_err err = {0};
    assert_int_equal(pipeact_open(c.a, ACT_RETRY, &t, &err), SL_OK);
    app_settle(c.a);
    assert_true(app_dialog_is_open(c.a));
    char *s = screen(&c);
    char *want = sl_asprintf("Retry run %s of orders", run);
    expect_in(s, want);
    free(want);
    expect_in(s, "Folders it takes (1):");
    expect_in(s, F_FAILED "  batch");
    want = sl_asprintf("Type %s to confirm:", run);
    expect_in(s, want);
    free(want);
    free(s);
    keys(&c, "wrong");
    key(&c, CRT_KEY_ESC);
    app_settle(c.a);
    assert_false(app_dialog_is_open(c.a));
    console_close(&c);

    json_t *after = cli_folders(w);
    assert_string_equal(state_of(after, F_FAILED), "failed");
    json_decref(after);
    size_t n;
    audit_event *evs = events_of(w, "retry", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "refused");
    assert_string_equal(evs[1].error_code, "SL-OPS-CANCELLED");
    assert_string_equal(evs[0].target, run);
    assert_non_null(strstr(evs[0].params, "\"runbook_run\":\"rb-0042\""));
    assert_non_null(strstr(evs[0].params, "\"pipeline\":\"orders\""));
    audit_events_free(evs, n);
    free(run);
}

/* Roll back the demo's last run: its tables go back, its folders pending. */
static void test_rollback_run_confirmed(void **state)
{
    world *w = *state;
    char *run = run_of(w, F_PROCESSED);
    console c;
    console_open(w, 0, &c);
    pipeact_target t = {.pipeline = "orders", .run_id = run};
    sl_err err = {0};
    assert_int_equal(pipeact_open(c.a, ACT_ROLLBACK, &t, &err), SL_OK);
    app_settle(c.a);
    assert_true(app_dialog_is_open(c.a));
    char *s = screen(&c);
    char *want = sl_asprintf("Roll back run %s of orders", run);
    expect_in(s, want);
    free(want);
    expect_in(s, "→ as of version");
    expect_in(s, "Tables restored: ");
    expect_in(s, "folders back to pending: ");
    assert_null(strstr(s, "WARNING"));
    free(s);
    confirm(&c, run, "bad batch loaded overnight");
    s = screen(&c);
    expect_in(s, "rolled back run");
    free(s);
    console_close(&c);

    json_t *after = cli_folders(w);
    assert_string_equal(state_of(after, F_PROCESSED), "pending");
    assert_string_equal(state_of(after, F_OLDEST), "processed");
    json_decref(after);
    size_t n;
    audit_event *evs = events_of(w, "rollback-run", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].reason, "bad batch loaded overnight");
    assert_string_equal(evs[1].target, run);
    assert_non_null(strstr(evs[1].after_state, "restored"));
    audit_events_free(evs, n);
    free(run);
}

/* The first run has later runs on top: the preview shows the cascade in
 * red, and cancelling leaves everything as it was. */
static void test_rollback_cascade_shown(void **state)
{
    world *w = *state;
    char *run = run_of(w, F_OLDEST);
    console c;
    console_open(w, 0, &c);
    pipeact_target t = {.pipeline = "orders", .run_id = run};
    sl_err err = {0};
    assert_int_equal(pipeact_open(c.a, ACT_ROLLBACK, &t, &err), SL_OK);
    app_settle(c.a);
    char *s = screen(&c);
    expect_in(s, "WARNING: later runs committed on top of run");
    expect_in(s, "rolled back too (cascade)");
    free(s);
    key(&c, CRT_KEY_ESC);
    app_settle(c.a);
    console_close(&c);
    json_t *after = cli_folders(w);
    assert_string_equal(state_of(after, F_OLDEST), "processed");
    json_decref(after);
    size_t n;
    audit_event *evs = events_of(w, "rollback-run", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "refused");
    assert_non_null(strstr(evs[0].params, "\"cascade\":true"));
    audit_events_free(evs, n);
    free(run);
}

/* Run one folder: the live run loads it and the Run view opens. */
static void test_run_folder_live(void **state)
{
    world *w = *state;
    console c;
    console_open(w, 0, &c);
    const char *folders[] = {F_LATE};
    pipeact_target t = {.pipeline = "orders", .folders = folders, .nfolders = 1};
    sl_err err = {0};
    assert_int_equal(pipeact_open(c.a, ACT_RUN, &t, &err), SL_OK);
    app_settle(c.a);
    char *s = screen(&c);
    expect_in(s, "Run folder " F_LATE " of orders");
    expect_in(s, "Type orders to confirm:");
    free(s);
    confirm(&c, "orders", "load the late delivery");
    s = screen(&c);
    expect_in(s, "Live run");
    free(s);
    console_close(&c);
    json_t *after = cli_folders(w);
    assert_string_equal(state_of(after, F_LATE), "processed");
    assert_string_equal(state_of(after, F_FAILED), "failed");
    json_decref(after);
    size_t n;
    audit_event *evs = events_of(w, "run", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[0].reason, "load the late delivery");
    assert_non_null(strstr(evs[0].params, "\"folder\":\"" F_LATE "\""));
    audit_events_free(evs, n);
}

/* Read-only: refused at once, and ops audits the refusal. */
static void test_read_only_refused(void **state)
{
    world *w = *state;
    console c;
    console_open(w, 1, &c);
    const char *folders[] = {F_LATE, F_FAILED};
    pipeact_target t = {.pipeline = "orders", .folders = folders, .nfolders = 2};
    sl_err err = {0};
    assert_int_equal(pipeact_open(c.a, ACT_SKIP, &t, &err), SL_OPS_READ_ONLY);
    assert_non_null(strstr(err.msg, "read-only"));
    app_settle(c.a);
    assert_false(app_dialog_is_open(c.a));
    console_close(&c);
    json_t *after = cli_folders(w);
    assert_string_equal(state_of(after, F_LATE), "pending");
    json_decref(after);
    size_t n;
    audit_event *evs = events_of(w, "skip", &n);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].phase, "refused");
    assert_string_equal(evs[0].error_code, "SL-OPS-READ-ONLY");
    assert_string_equal(evs[0].target, F_LATE "," F_FAILED);
    audit_events_free(evs, n);
}

/* Bad requests are refused before anything is posted. */
static void test_bad_targets(void **state)
{
    world *w = *state;
    console c;
    console_open(w, 0, &c);
    sl_err err = {0};
    pipeact_target none = {.pipeline = "orders"};
    assert_int_equal(pipeact_open(c.a, ACT_SKIP, &none, &err), SL_USAGE);
    assert_int_equal(pipeact_open(c.a, ACT_ROLLBACK, &none, &err), SL_USAGE);
    pipeact_target until = {.pipeline = "orders", .until_step = "publish"};
    assert_int_equal(pipeact_open(c.a, ACT_RUN, &until, &err), SL_USAGE);
    assert_non_null(strstr(err.msg, "publish"));
    /* No live run in this console: cancel asks whichever run holds the
     * (single) pipeline's lease, through the lake, after a dialog. */
    pipeact_target empty = {0};
    assert_int_equal(pipeact_open(c.a, ACT_CANCEL, &empty, &err), SL_OK);
    assert_true(app_dialog_is_open(c.a));
    char *s = screen(&c);
    expect_in(s, "Stop the run of orders");
    expect_in(s, "whichever process holds");
    free(s);
    assert_int_equal(app_key(c.a, CRT_KEY_ESC, &err), SL_OK);
    assert_false(app_dialog_is_open(c.a));
    console_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_cancelled_links_runbook, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_run_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_cascade_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_folder_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_targets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
