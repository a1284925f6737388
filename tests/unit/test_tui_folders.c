/* The Folders view on the demo world (`sluice demo`, pinned clock): every
 * epoch folder of the orders pipeline in its state, the :where state filter,
 * Space marks, and the folder interventions through their dialog (skip of
 * two marked folders, a cancelled skip, a reset, a wrong typed target),
 * checked on the screen, in the checkpoint (`sluice folders orders --json`)
 * and in the audit log. */
#include "testutil.h"
#include "tuitest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/fmt.h"

#define FAKE_NOW_MS 1700010000000LL

/* The demo's folders (hourly, the first at 2023-11-13 13:00 UTC). */
#define F_OLDEST "1699880400"   /* processed */
#define F_LATE "1699966800"     /* the late arrival, pending */
#define F_FAILED "1699977600"   /* failed: an order without an order_id */
#define F_PENDING1 "1699981200" /* pending, after the failure */
#define F_WAITING "1700006400"  /* no _SUCCESS marker yet */

typedef struct world {
    char *dir;
    char *state;
} world;

/* The demo takes seconds to build (its runner retries with backoff): it is
 * built once, and each test works on a copy of it. */
static char *g_template;

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

static int group_setup(void **state)
{
    (void)state;
    g_template = tu_mkdtemp("tuifoldtpl");
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
    w->dir = tu_mkdtemp("tuifold");
    w->state = paths_join(w->dir, "state");
    /* The audit log starts empty in each test: state/ is not copied. */
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
    if (!getenv("SLUICE_KEEP_WORLD")) /* debugging: keep the dumps */
        tu_rmtree(w->dir);
    free(w->dir);
    free(w->state);
    free(w);
    return 0;
}

static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

static void run_ok(world *w, const char *script, int rows, int cols)
{
    sl_err err = {0};
    sl_code c = tt_run_script(w->dir, script, rows, cols, NULL, &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

/* `sluice folders orders --json`: the pipeline's folders with their states. */
static json_t *cli_folders(world *w)
{
    char *cmd = sl_asprintf("cd '%s' && '%s' -c '%s/sluice.json' folders orders --json",
                            w->dir, tu_sluice_bin(), w->dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *arr = json_loads(out, 0, NULL);
    if (!json_is_array(arr))
        fail_msg("not a JSON array: %s", out);
    free(out);
    free(cmd);
    return arr;
}

static const char *state_of(const json_t *folders, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(
        (json_t *)folders, i,
        f) if (strcmp(json_string_value(json_object_get(f, "folder")), name) ==
               0) return json_string_value(json_object_get(f, "state"));
    fail_msg("folder %s is not listed", name);
    return NULL;
}

/* Run ids are random: every shortened or whole form of each one on the
 * screen becomes a stable placeholder of the same length. */
static void mask_run_ids(world *w, const char *name)
{
    json_t *folders = cli_folders(w);
    char *path = paths_join(w->dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    json_t *seen = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(folders, i, f)
    {
        const char *id = json_string_value(json_object_get(f, "run_id"));
        if (!id)
            continue;
        size_t k, known = 0;
        json_t *s;
        json_array_foreach(seen, k, s) known |= strcmp(json_string_value(s), id) == 0;
        if (known)
            continue;
        json_array_append_new(seen, json_string(id));
        char fake[64];
        snprintf(fake, sizeof fake, "R%0*zu", (int)strlen(id) - 1, json_array_size(seen));
        static const size_t widths[] = {9, 16};
        for (size_t wi = 0; wi < 2; wi++) {
            char real_s[64], fake_s[64];
            fmt_middle(id, widths[wi], real_s, sizeof real_s);
            fmt_middle(fake, widths[wi], fake_s, sizeof fake_s);
            assert_int_equal(strlen(real_s), strlen(fake_s));
            for (char *p = strstr(text, real_s); p; p = strstr(p, real_s))
                memcpy(p, fake_s, strlen(fake_s));
        }
    }
    tu_write_file(w->dir, name, text);
    json_decref(seen);
    json_decref(folders);
    free(text);
    free(path);
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
    audit_verify_result vr;
    assert_int_equal(audit_verify(log, &vr, &err), SL_OK);
    audit_close(log);
    free(db);
    return evs;
}

/* Lines of a dump holding needle. */
static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *one = sl_strndup(line, len);
        n += strstr(one, needle) != NULL;
        free(one);
        line = end ? end + 1 : NULL;
    }
    return n;
}

static void test_folders_dumps(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\n"
           "wait\n"
           "dump @/folders-demo-80x24.txt\n"
           "resize 43 132\n"
           "dump @/folders-demo-132x43.txt\n"
           "enter\n"
           "wait\n"
           "dump @/folder-detail.txt\n",
           24, 80);
    mask_run_ids(w, "folders-demo-80x24.txt");
    mask_run_ids(w, "folders-demo-132x43.txt");
    tt_expect_dump(w->dir, "folders-demo-80x24.txt", 24);
    tt_expect_dump(w->dir, "folders-demo-132x43.txt", 43);
    char *d = tt_read_dump(w->dir, "folders-demo-80x24.txt");
    /* The incident is in the first line of the view and under the cursor. */
    expect_in(d, "orders: 1 failed · 8 pending (1 late) · 1 waiting · 26 processed");
    expect_in(d, F_FAILED " 11-14 16:00 failed");
    expect_in(d, "pending, late");
    free(d);
    d = tt_read_dump(w->dir, "folders-demo-132x43.txt");
    expect_in(d, "2023-11-14 16:00  9h00m ago");
    expect_in(d, "failed SL-EXPECTATION-FAILED");
    expect_in(d, "waiting for marker");
    expect_in(d, "pending (late)");
    expect_in(d, "Quarantined");
    assert_int_equal(count_lines_with(d, "processed"), 26 + 1 /* header */);
    free(d);
    /* Enter on the failed folder: its checkpoint row with the error and its
     * hint, its runs rows and its files. */
    d = tt_read_dump(w->dir, "folder-detail.txt");
    expect_in(d, "orders / " F_FAILED " — 2023-11-14 16:00 UTC");
    expect_in(d, "Checkpoint row");
    expect_in(d, "error              SL-EXPECTATION-FAILED");
    expect_in(d, "hint ");
    expect_in(d, "Runs (");
    expect_in(d, "ingest");
    expect_in(d, "Files: ");
    expect_in(d, "_SUCCESS");
    free(d);
}

static void test_where_state(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\nwait\n"
           "where state=failed,pending\n"
           "dump @/where-fp.txt\n"
           "where state=waiting\n"
           "dump @/where-w.txt\n"
           "where\n"
           "filter 11-13 2\n" /* `/` matches text: 13 Nov, 20:00 to 23:00 */
           "dump @/where-none.txt\n",
           43, 132);
    char *d = tt_read_dump(w->dir, "where-fp.txt");
    expect_in(d, "where state=failed,pending (9 shown)");
    assert_int_equal(count_lines_with(d, " failed SL-"), 1);
    assert_int_equal(count_lines_with(d, " pending"), 8 + 1 /* the header's count */);
    assert_int_equal(count_lines_with(d, "ago processed"), 0);
    free(d);
    d = tt_read_dump(w->dir, "where-w.txt");
    assert_int_equal(count_lines_with(d, "waiting for marker"), 1);
    expect_in(d, F_WAITING);
    assert_null(strstr(d, F_FAILED));
    free(d);
    d = tt_read_dump(w->dir, "where-none.txt");
    assert_null(strstr(d, "where state"));
    assert_int_equal(count_lines_with(d, "2023-11-13 2"), 4);
    free(d);
    /* A state that does not exist is refused, naming the choices. */
    sl_err err = {0};
    sl_code c = tt_run_script(w->dir, "view folders\nwait\nwhere state=broken\n", 24, 80,
                              NULL, &err);
    assert_int_equal(c, SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "not 'broken'"));
}

/* Two folders marked with Space, skipped through the dialog. */
static void test_skip_two_marked(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\nwait\n"
           "where state=pending\n"
           "first\n"
           "select\n"
           "select\n"
           "dump @/marked.txt\n"
           "key S\n"
           "wait\n"
           "dump @/folders-skip-dialog-80x24.txt\n"
           "type 2 folders\n"
           "key Enter\n"
           "type vendor resends both deliveries\n"
           "key Enter\n"
           "key Right\n"
           "key Enter\n"
           "wait\n"
           "dump @/skipped.txt\n",
           24, 80);
    char *d = tt_read_dump(w->dir, "marked.txt");
    expect_in(d, "· 2 marked");
    expect_in(d, "* " F_LATE);
    expect_in(d, "* " F_PENDING1);
    free(d);
    tt_expect_dump(w->dir, "folders-skip-dialog-80x24.txt", 24);
    d = tt_read_dump(w->dir, "folders-skip-dialog-80x24.txt");
    expect_in(d, "Skip 2 folders of orders");
    expect_in(d, F_LATE "  2023-11-14 13:00  pending → skipped");
    expect_in(d, F_PENDING1 "  2023-11-14 17:00  pending → skipped");
    expect_in(d, "Type 2 folders to confirm:");
    free(d);
    d = tt_read_dump(w->dir, "skipped.txt");
    expect_in(d, "skipped 2 folders of orders: checkpoint version");
    expect_in(d, "2 skipped");
    assert_null(strstr(d, "marked"));
    free(d);

    json_t *folders = cli_folders(w);
    assert_string_equal(state_of(folders, F_LATE), "skipped");
    assert_string_equal(state_of(folders, F_PENDING1), "skipped");
    assert_string_equal(state_of(folders, F_FAILED), "failed");
    json_decref(folders);

    size_t n;
    audit_event *evs = events_of(w, "skip", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].target, F_LATE "," F_PENDING1);
        assert_string_equal(evs[i].reason, "vendor resends both deliveries");
        assert_string_equal(evs[i].operator_name, "tester");
        assert_non_null(strstr(evs[i].params, "\"pipeline\":\"orders\""));
    }
    assert_non_null(strstr(evs[1].before_state, "\"state\":\"pending\""));
    assert_non_null(strstr(evs[1].after_state, "\"state\":\"skipped\""));
    audit_events_free(evs, n);
}

/* Esc after typing: requested -> refused, nothing changed. */
static void test_skip_cancelled(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\nwait\n"
           "where state=failed\n"
           "key S\n"
           "wait\n"
           "type " F_FAILED "\n"
           "key Enter\n"
           "type not sure yet\n"
           "key Esc\n"
           "wait\n"
           "dump @/cancelled.txt\n",
           24, 80);
    char *d = tt_read_dump(w->dir, "cancelled.txt");
    expect_in(d, "skip of folder " F_FAILED " of orders cancelled: nothing changed");
    free(d);
    json_t *folders = cli_folders(w);
    assert_string_equal(state_of(folders, F_FAILED), "failed");
    json_decref(folders);
    size_t n;
    audit_event *evs = events_of(w, "skip", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "refused");
    assert_string_equal(evs[1].error_code, "SL-OPS-CANCELLED");
    assert_string_equal(evs[1].target, F_FAILED);
    audit_events_free(evs, n);
}

/* A processed folder made pending again. */
static void test_reset_processed(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\nwait\n"
           "first\n"
           "key Z\n"
           "wait\n"
           "dump @/reset-dialog.txt\n"
           "type " F_OLDEST "\nkey Enter\n"
           "type reload after the vendor's fix\nkey Enter\nkey Right\nkey Enter\n"
           "wait\n"
           "dump @/reset.txt\n",
           24, 80);
    char *d = tt_read_dump(w->dir, "reset-dialog.txt");
    expect_in(d, "Reset folder " F_OLDEST " of orders");
    expect_in(d, "processed → pending");
    expect_in(d, "Type " F_OLDEST " to confirm:");
    free(d);
    d = tt_read_dump(w->dir, "reset.txt");
    expect_in(d, "reset to pending folder " F_OLDEST " of orders");
    expect_in(d, F_OLDEST " 11-13 13:00 pending");
    free(d);
    json_t *folders = cli_folders(w);
    assert_string_equal(state_of(folders, F_OLDEST), "pending");
    json_decref(folders);
    size_t n;
    audit_event *evs = events_of(w, "reset", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].reason, "reload after the vendor's fix");
    assert_non_null(strstr(evs[1].before_state, "\"state\":\"processed\""));
    audit_events_free(evs, n);
}

/* A wrong typed target keeps Confirm shut; the dialog stays open. */
static void test_wrong_target(void **state)
{
    world *w = *state;
    run_ok(w,
           "view folders\nwait\n"
           "first\n"
           "key M\n"
           "wait\n"
           "type 1699880401\nkey Enter\n"
           "type looks done\nkey Enter\nkey Right\nkey Enter\n"
           "dump @/wrong.txt\n"
           "key Esc\nwait\n",
           24, 80);
    char *d = tt_read_dump(w->dir, "wrong.txt");
    expect_in(d, "type " F_OLDEST " exactly to confirm");
    expect_in(d, "Mark processed folder " F_OLDEST);
    free(d);
    json_t *folders = cli_folders(w);
    assert_string_equal(state_of(folders, F_OLDEST), "processed");
    json_decref(folders);
    size_t n;
    audit_event *evs = events_of(w, "mark-processed", &n);
    assert_int_equal(n, 2); /* the Esc: requested -> refused */
    assert_string_equal(evs[1].phase, "refused");
    audit_events_free(evs, n);
}

/* Two pipelines: a section line each; :where pipeline= keeps one. */
static void test_two_pipelines(void **state)
{
    world *w = *state;
    char *cmd = sl_asprintf(
        "cd '%s' && sed 's/\"name\": \"orders\"/\"name\": \"returns\"/' "
        "pipelines/orders.json > pipelines/returns.json && "
        "sed -i 's#\"pipelines/orders.json\"#\"pipelines/orders.json\", "
        "\"pipelines/returns.json\"#' sluice.json && grep -q returns.json sluice.json",
        w->dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    run_ok(w,
           "view folders\nwait\n"
           "resize 90 132\n"
           "dump @/two.txt\n"
           "resize 43 132\n"
           "where pipeline=returns state=waiting\n"
           "dump @/two-where.txt\n",
           43, 132);
    char *d = tt_read_dump(w->dir, "two.txt");
    expect_in(d,
              "2 pipelines: 1 failed · 43 pending (1 late) · 2 waiting · 26 processed");
    expect_in(
        d,
        "orders · 36 folders: 1 failed · 8 pending (1 late) · 1 waiting · 26 processed");
    /* returns has no checkpoint yet: every folder is its to load. */
    expect_in(d, "returns · 36 folders: 35 pending · 1 waiting");
    free(d);
    d = tt_read_dump(w->dir, "two-where.txt");
    expect_in(d, "returns · 36 folders");
    assert_null(strstr(d, "orders · 36"));
    assert_int_equal(count_lines_with(d, "waiting for marker"), 1);
    expect_in(d, "(1 shown)");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_folders_dumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_where_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_two_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_cancelled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_processed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_pipelines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
