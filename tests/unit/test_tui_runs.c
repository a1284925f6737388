/* The Runs view and a run's detail on the demo lake (`sluice demo`: three
 * runs, the newest failed on SL-EXPECTATION-FAILED; pinned clock): dumps at
 * 80x24 and 132x43, the detail naming the failing folder, its error code
 * and the code's hint, `:where` filtering, rollback-run from the view going
 * to the ops layer with the selected run, failed-first ordering once a newer
 * run succeeded, and `sluice runs` / `run show` printing as before.
 * Run ids are random: dumps show them as RUNID00000000001... (oldest run
 * first). SLUICE_TUI_UPDATE_EXPECTED=1 rewrites the expected dumps. */
#include "testutil.h"
#include "tuitest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define NOW_MS 1700010000000LL
#define NOW_TEXT "1700010000000"

typedef struct world {
    char *tmp;
    char *dir; /* tmp/demo: the config and the dumps */
    char *cfg;
    char *state;
    json_t *summary;
    char *ids[8]; /* run ids, oldest first; a fourth after the resolving run */
    size_t nids;
} world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    W.tmp = tu_mkdtemp("tuiruns");
    W.state = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", W.state, 1);
    W.dir = paths_join(W.tmp, "demo");
    W.cfg = paths_join(W.dir, "sluice.json");
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    sl_err err = {0};
    if (demo_create(&o, &W.summary, &err) != SL_OK) {
        fprintf(stderr, "demo_create: %s\n", err.msg);
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(W.summary, "runs"), i, r) W.ids[W.nids++] =
        sl_strdup(json_string_value(json_object_get(r, "run_id")));
    return W.nids == 3 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(W.summary);
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(W.tmp);
    for (size_t i = 0; i < W.nids; i++)
        free(W.ids[i]);
    free(W.tmp);
    free(W.dir);
    free(W.cfg);
    free(W.state);
    return 0;
}

static void run_ok(const char *script)
{
    sl_err err = {0};
    sl_code c = tt_run_script(W.dir, script, 24, 80, "dark", &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

/* Rewrites dir/name with the random run ids replaced by stable ones. */
static void mask_run_ids(const char *name)
{
    char *path = paths_join(W.dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    for (size_t i = 0; i < W.nids; i++) {
        char mask[32];
        snprintf(mask, sizeof mask, "RUNID%011zu", i + 1);
        assert_int_equal(strlen(W.ids[i]), strlen(mask));
        for (char *p = strstr(text, W.ids[i]); p; p = strstr(p, W.ids[i]))
            memcpy(p, mask, strlen(mask));
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    free(path);
}

static char *masked_dump(const char *name)
{
    mask_run_ids(name);
    char *d = tt_read_dump(W.dir, name);
    assert_non_null(d);
    return d;
}

static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

static void expect_not_in(const char *screen, const char *needle)
{
    if (strstr(screen, needle))
        fail_msg("'%s' should not be on the screen:\n%s", needle, screen);
}

/* The n-th line (0-based) of a dump; caller frees. */
static char *line_of(const char *text, int n)
{
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    return sl_asprintf("%.*s", (int)strcspn(p, "\n"), p);
}

static void test_runs_dumps(void **state)
{
    (void)state;
    run_ok("view runs\n"
           "wait\n"
           "dump @/runs-80x24.txt\n"
           "resize 43 132\n"
           "wait\n"
           "dump @/runs-132x43.txt\n");
    mask_run_ids("runs-80x24.txt");
    mask_run_ids("runs-132x43.txt");
    tt_expect_dump(W.dir, "runs-80x24.txt", 24);
    tt_expect_dump(W.dir, "runs-132x43.txt", 43);
    char *d = tt_read_dump(W.dir, "runs-132x43.txt");
    /* Newest first; the failed one says where and why. */
    char *first = line_of(d, 4);
    expect_in(first, "RUNID00000000003 orders");
    expect_in(first, "failed");
    expect_in(first, "SL-EXPECTATION-FAILED ingest");
    expect_in(first, json_string_value(json_object_get(W.summary, "failed_folder")));
    free(first);
    first = line_of(d, 6);
    expect_in(first, "RUNID00000000001");
    expect_in(first, "succeeded");
    free(first);
    free(d);
}

/* Enter on the failed run: its error code, message and hint, its steps, checks. */
static void test_run_detail(void **state)
{
    (void)state;
    run_ok("view runs\n"
           "wait\n"
           "enter\n"
           "wait\n"
           "dump @/runs-detail-80x24.txt\n"
           "resize 43 132\n"
           "wait\n"
           "dump @/runs-detail-132x43.txt\n"
           "last\n"
           "dump @/runs-detail-end.txt\n");
    mask_run_ids("runs-detail-80x24.txt");
    mask_run_ids("runs-detail-132x43.txt");
    tt_expect_dump(W.dir, "runs-detail-80x24.txt", 24);
    tt_expect_dump(W.dir, "runs-detail-132x43.txt", 43);
    const char *bad = json_string_value(json_object_get(W.summary, "failed_folder"));
    char *d = tt_read_dump(W.dir, "runs-detail-132x43.txt");
    char *want =
        sl_asprintf("Error SL-EXPECTATION-FAILED in ingest of %s, attempt 1", bad);
    expect_in(d, want);
    free(want);
    expect_in(d, "expectation \"has_key\" (order_id not_null");
    /* The code's hint, as docs/errors.md and `run show` give it (first words). */
    char hint[48];
    snprintf(hint, sizeof hint, "hint: %s", err_code_hint(SL_EXPECTATION_FAILED));
    hint[40] = '\0';
    expect_in(d, hint);
    expect_in(d, "before  discover: lag 14h00m, 12 pending");
    want = sl_asprintf("during  ingest of %s: SL-EXPECTATION-FAILED", bad);
    expect_in(d, want);
    free(want);
    free(d);
    /* The end of the detail: the versions the run produced. */
    d = masked_dump("runs-detail-end.txt");
    expect_in(d, "Table versions produced (5 tables)");
    expect_in(d, "orders_raw                 4 versions: 24, 25, 26, 27");
    free(d);
}

static void test_where(void **state)
{
    (void)state;
    run_ok("view runs\n"
           "wait\n"
           "where state=failed pipeline=orders\n"
           "dump @/where-failed.txt\n"
           "where state=succeeded\n"
           "dump @/where-ok.txt\n"
           "where pipeline=nope\n"
           "dump @/where-none.txt\n"
           "where\n"
           "dump @/where-all.txt\n");
    char *d = masked_dump("where-failed.txt");
    expect_in(d, "1 run · 1 failed");
    expect_in(d, "where state=failed pipeline=orders");
    expect_in(d, "RUNID00000000003");
    expect_not_in(d, "RUNID00000000001");
    free(d);
    d = masked_dump("where-ok.txt");
    expect_in(d, "2 runs · 0 failed");
    expect_not_in(d, "RUNID00000000003");
    free(d);
    d = masked_dump("where-none.txt");
    expect_in(d, "0 runs");
    expect_in(d, "(nothing here)");
    free(d);
    d = masked_dump("where-all.txt");
    expect_in(d, "3 runs · 1 failed");
    free(d);
    /* An unknown field is an error naming the ones there are. */
    sl_err err = {0};
    sl_code c =
        tt_run_script(W.dir, "view runs\nwait\nwhere colour=red\n", 24, 80, "dark", &err);
    assert_int_not_equal(c, SL_OK);
    assert_non_null(strstr(err.msg, "runs have no field 'colour'"));
}

/* B on the selected run: the rollback preview of that run; cancelling it
 * leaves the ops layer's audit rows naming the run, and nothing changes. */
static void test_rollback_goes_through_ops(void **state)
{
    (void)state;
    run_ok("view runs\n"
           "wait\n"
           "key B\n"
           "wait\n"
           "dump @/rollback.txt\n"
           "key Esc\n"
           "wait\n");
    char *d = masked_dump("rollback.txt");
    expect_in(d, "RUNID00000000003");
    free(d);
    char *db = paths_join(W.state, "audit.db");
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(db, &log, &err), SL_OK);
    audit_filter f = {.action = "rollback-run"};
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(log, &f, &evs, &n, &err), SL_OK);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].target, W.ids[2]);
        assert_string_not_equal(evs[i].phase, "succeeded");
    }
    audit_events_free(evs, n);
    audit_close(log);
    free(db);
    /* Still three runs, the newest still failed. */
    char *cmd = sl_asprintf("%s -c %s runs --failed", tu_sluice_bin(), W.cfg);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, W.ids[2]));
    free(out);
    free(cmd);
}

/* `sluice runs --failed` and `run show` print as they did. */
static void test_cli_runs_unchanged(void **state)
{
    (void)state;
    const char *bad = json_string_value(json_object_get(W.summary, "failed_folder"));
    char *cmd = sl_asprintf("%s -c %s runs --failed", tu_sluice_bin(), W.cfg);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    char *want = sl_asprintf(
        "RUN                FOLDER       BATCH  STEP       TRY STATE      VERSION  "
        "ERROR\n"
        "%-18s %-12s 26     ingest     1   failed     -        SL-EXPECTATION-FAILED\n",
        W.ids[2], bad);
    assert_string_equal(out, want);
    free(want);
    free(out);
    free(cmd);
}

/* Skip the bad folder and run: a newer run succeeds. In time order it is
 * first; f puts the failed run first, f again restores time order. */
static void test_failed_first(void **state)
{
    (void)state;
    session_opts so = {.config_path = W.cfg, .operator_name = "tester", .channel = "cli"};
    session *s = NULL;
    sl_err err = {0};
    assert_int_equal(session_open(&so, &s, &err), SL_OK);
    json_t *params = json_pack("{s:s}", "pipeline", DEMO_PIPELINE);
    ops_request skip = {
        .target = json_string_value(json_object_get(W.summary, "failed_folder")),
        .reason = "order without an order_id",
        .params = params,
        .confirmed = 1};
    ops_result res;
    assert_int_equal(ops_run(&s->ops, "skip", &skip, &res, &err), SL_OK);
    ops_result_clear(&res);
    ops_request run = {.target = DEMO_PIPELINE, .params = params};
    assert_int_equal(ops_run(&s->ops, "run", &run, &res, &err), SL_OK);
    W.ids[W.nids++] = sl_strdup(json_string_value(json_object_get(res.output, "run_id")));
    ops_result_clear(&res);
    json_decref(params);
    session_close(s);

    run_ok("view runs\n"
           "wait\n"
           "resize 43 132\n"
           "dump @/ff-time.txt\n"
           "failed-first\n"
           "dump @/ff-failed.txt\n"
           "key f\n"
           "dump @/ff-again.txt\n");
    char *d = masked_dump("ff-time.txt");
    expect_in(d, "4 runs · 1 failed · newest first");
    char *l = line_of(d, 4);
    expect_in(l, "RUNID00000000004");
    expect_in(l, "succeeded");
    free(l);
    l = line_of(d, 5);
    expect_in(l, "RUNID00000000003");
    free(l);
    free(d);
    d = masked_dump("ff-failed.txt");
    expect_in(d, "4 runs · 1 failed · failed first");
    l = line_of(d, 4);
    expect_in(l, "RUNID00000000003");
    expect_in(l, "failed");
    free(l);
    l = line_of(d, 5);
    expect_in(l, "RUNID00000000004");
    free(l);
    free(d);
    d = masked_dump("ff-again.txt");
    l = line_of(d, 4);
    expect_in(l, "RUNID00000000004");
    free(l);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_dumps),
        cmocka_unit_test(test_run_detail),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_cli_runs_unchanged),
        cmocka_unit_test(test_rollback_goes_through_ops),
        cmocka_unit_test(test_failed_first), /* last: it changes the demo */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
