/* The Runbooks view on the demo lake (`sluice demo`, mid-incident): the
 * list and the failed-ingest runbook's step at 80x24 and 132x43 (screen
 * dumps), a step skipped with its reason and a note step taken through the
 * dialog, both linked to the runbook run in the audit log, and a read-only
 * console that follows the runbook while its mutating action is refused
 * and audited. */
#include "testutil.h"
#include "tuitest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/consistency.h"
#include "backend/pipeline/demo.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define NOW_MS 1700010000000LL
#define NOW_TEXT "1700010000000"

static struct {
    char *tmp;
    char *dir; /* tmp/demo: the world of the scripts and their dumps */
    char *state;
} W;

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    unsetenv("SLUICE_RUNBOOKS_DIR"); /* the source tree's docs/runbooks */
    W.tmp = tu_mkdtemp("rbtui");
    W.dir = paths_join(W.tmp, "demo");
    W.state = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", W.state, 1);
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    json_t *summary = NULL;
    sl_err err = {0};
    sl_code c = demo_create(&o, &summary, &err);
    json_decref(summary);
    if (c != SL_OK) {
        fprintf(stderr, "demo_create: %s %s\n", err_code_name(c), err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(W.tmp);
    free(W.tmp);
    free(W.dir);
    free(W.state);
    return 0;
}

/* Each test starts with an empty audit log, so event numbers on screen are
 * stable whatever ran before. */
static int fresh_state(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", W.state);
    assert_int_equal(tu_run(cmd, NULL), 0);
    return 0;
}

static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

static void run_ok(const char *script)
{
    sl_err err = {0};
    sl_code c = tt_run_script(W.dir, script, 24, 80, NULL, &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

static audit_event *events(const char *action, size_t *n)
{
    char *db = paths_join(W.state, "audit.db");
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

/* params.key of an event, as text ("" when absent). */
static char *param(const audit_event *ev, const char *key)
{
    json_t *p = json_loads(ev->params, 0, NULL);
    assert_non_null(p);
    json_t *v = json_object_get(p, key);
    char *out = json_is_string(v) ? sl_strdup(json_string_value(v))
                : json_is_integer(v)
                    ? sl_asprintf("%lld", (long long)json_integer_value(v))
                    : sl_strdup("");
    json_decref(p);
    return out;
}

/* The runbook run id of the one runbook.start of this test. */
static char *started_run(const char *runbook)
{
    size_t n;
    audit_event *evs = events("runbook.start", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].target, runbook);
    assert_string_equal(evs[1].operator_name, "tester");
    char *id = param(&evs[1], "runbook_run");
    assert_int_equal(strlen(id), 16);
    audit_events_free(evs, n);
    return id;
}

static void test_list_and_step_dumps(void **state)
{
    (void)state;
    run_ok("view runbooks\n"
           "wait\n"
           "dump @/runbooks-list-80x24.txt\n"
           "down\n"
           "down\n"
           "enter\n"
           "wait\n"
           "dump @/runbooks-step-80x24.txt\n"
           "resize 43 132\n"
           "dump @/runbooks-step-132x43.txt\n"
           "back\n"
           "dump @/runbooks-list-132x43.txt\n");
    tt_expect_dump(W.dir, "runbooks-list-80x24.txt", 24);
    tt_expect_dump(W.dir, "runbooks-step-80x24.txt", 24);
    tt_expect_dump(W.dir, "runbooks-step-132x43.txt", 43);
    tt_expect_dump(W.dir, "runbooks-list-132x43.txt", 43);
    char *d = tt_read_dump(W.dir, "runbooks-list-80x24.txt");
    expect_in(d, "5 runbooks");
    expect_in(d, "Failed ingest step");
    expect_in(d, "Bad data committed to silver");
    expect_in(d, "Checkpoint out of step with the t");
    expect_in(d, "Stuck lease");
    expect_in(d, "Accidental vacuum window check");
    free(d);
    /* The live panel: the demo's failed folder with its code and hint. */
    d = tt_read_dump(W.dir, "runbooks-step-80x24.txt");
    expect_in(d, "Failed ingest step · step 1 of 5");
    expect_in(d, "1699977600 orders");
    expect_in(d, "SL-EXPECTATION-FAILED");
    expect_in(d, "hint: Rows broke an expectation");
    expect_in(d, "runbook run started (audit #");
    free(d);
    d = tt_read_dump(W.dir, "runbooks-step-132x43.txt");
    expect_in(d, "[*] 1. Read the error");
    expect_in(d, "[ ] 5. Run the pending folders");
    expect_in(d, "expectation \"has_key\" (order_id not_null, on_fail fail)");
    free(d);
    /* Opening it started (and audited) a runbook run; nothing else. */
    char *id = started_run("failed-ingest");
    size_t n;
    audit_event *evs = events("runbook.step", &n);
    assert_int_equal(n, 0);
    audit_events_free(evs, n);
    free(id);
}

static void test_skip_then_note(void **state)
{
    (void)state;
    run_ok("view runbooks\nwait\ndown\ndown\nenter\nwait\n"
           /* n: the reason dialog; Enter moves to Cancel, Right to Skip. */
           "step-skip\n"
           "type already read it on the pager\n"
           "key Enter\nkey Right\nkey Enter\n"
           "wait\n"
           "dump @/after-skip.txt\n"
           /* a on a note step: the note dialog. */
           "step\n"
           "type order without order_id in 1699977600, ticket 4411\n"
           "key Enter\nkey Right\nkey Enter\n"
           "wait\n"
           "dump @/after-note.txt\n");
    char *d = tt_read_dump(W.dir, "after-skip.txt");
    expect_in(d, "step 2 of 5");
    expect_in(d, "[-]1 [*]2 [ ]3");
    expect_in(d, "step 1 skipped (audit #");
    free(d);
    d = tt_read_dump(W.dir, "after-note.txt");
    expect_in(d, "step 3 of 5");
    expect_in(d, "[-]1 [x]2 [*]3");
    expect_in(d, "a: skip the selected folder");
    free(d);

    char *id = started_run("failed-ingest");
    size_t n;
    audit_event *evs = events("runbook.step", &n);
    assert_int_equal(n, 4);
    const char *const outcome[] = {"skipped", "skipped", "done", "done"};
    const char *const step[] = {"1", "1", "2", "2"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].phase, i % 2 ? "succeeded" : "requested");
        assert_string_equal(evs[i].target, "failed-ingest");
        char *run = param(&evs[i], "runbook_run"), *o = param(&evs[i], "outcome"),
             *s = param(&evs[i], "step");
        assert_string_equal(run, id);
        assert_string_equal(o, outcome[i]);
        assert_string_equal(s, step[i]);
        free(run);
        free(o);
        free(s);
    }
    assert_string_equal(evs[1].reason, "already read it on the pager");
    assert_null(evs[3].reason);
    audit_events_free(evs, n);
    /* The note's own rows carry the run too, and come before its step row. */
    evs = events("audit.note", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].reason,
                            "order without order_id in 1699977600, ticket 4411");
        char *run = param(&evs[i], "runbook_run"), *s = param(&evs[i], "runbook_step");
        assert_string_equal(run, id);
        assert_string_equal(s, "2");
        free(run);
        free(s);
    }
    int64_t note_id = evs[1].id;
    audit_events_free(evs, n);
    evs = events("runbook.step", &n);
    assert_true(evs[2].id > note_id);
    audit_events_free(evs, n);
    free(id);
}

/* Cancelling the skip dialog records nothing and keeps the step. */
static void test_skip_cancelled(void **state)
{
    (void)state;
    run_ok("view runbooks\nwait\ndown\ndown\nenter\nwait\n"
           "step-skip\ntype not sure\nkey Esc\nwait\n"
           "dump @/cancelled.txt\n");
    char *d = tt_read_dump(W.dir, "cancelled.txt");
    expect_in(d, "step 1 of 5");
    expect_in(d, "skip cancelled: the step stays open");
    free(d);
    size_t n;
    audit_event *evs = events("runbook.step", &n);
    assert_int_equal(n, 0);
    audit_events_free(evs, n);
}

static void set_read_only(int on)
{
    char *cfg = paths_join(W.dir, "sluice.json");
    char *text = tu_read_file(cfg);
    assert_non_null(text);
    const char *from = on ? "\"read_only\": false" : "\"read_only\": true";
    char *at = strstr(text, from);
    assert_non_null(at);
    sl_buf b = {0};
    buf_append(&b, text, (size_t)(at - text));
    buf_append_str(&b, on ? "\"read_only\": true" : "\"read_only\": false");
    buf_append_str(&b, at + strlen(from));
    buf_append_char(&b, '\0');
    tu_write_file(W.dir, "sluice.json", b.data);
    buf_free(&b);
    free(text);
    free(cfg);
}

/* Read-only: the runbook is followed (start and skips audited), the step's
 * skip action is refused by ops and audited with the run id; the folder
 * stays failed. */
static void test_read_only_follows_but_refuses(void **state)
{
    (void)state;
    set_read_only(1);
    sl_err err = {0};
    sl_code c = tt_run_script(W.dir,
                              "view runbooks\nwait\ndown\ndown\nenter\nwait\n"
                              "step-skip\ntype read only tonight\n"
                              "key Enter\nkey Right\nkey Enter\nwait\n"
                              "step-skip\ntype no notes either\n"
                              "key Enter\nkey Right\nkey Enter\nwait\n"
                              "step\nwait\n"
                              "dump @/ro.txt\n",
                              24, 80, NULL, &err);
    set_read_only(0);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
    char *d = tt_read_dump(W.dir, "ro.txt");
    expect_in(d, "step 3 of 5");
    expect_in(d, "SL-OPS-READ-ONLY");
    expect_in(d, "a: skip the selected folder (refused: read-only)");
    expect_in(d, "1699977600 orders");
    free(d);
    char *id = started_run("failed-ingest");
    size_t n;
    audit_event *evs = events("skip", &n);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].phase, "refused");
    assert_string_equal(evs[0].error_code, "SL-OPS-READ-ONLY");
    assert_string_equal(evs[0].target, "1699977600");
    char *run = param(&evs[0], "runbook_run");
    assert_string_equal(run, id);
    free(run);
    audit_events_free(evs, n);
    evs = events("runbook.step", &n);
    assert_int_equal(n, 4); /* the two skips; the refused action is not a step taken */
    audit_events_free(evs, n);
    free(id);
}

/* The demo's checkpoint against its tables. */
static cons_report check(void)
{
    char *path = paths_join(W.dir, "sluice.json");
    config *cfg = NULL;
    pipeline_def *d = NULL;
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(config_load(path, &cfg, &err), SL_OK);
    assert_int_equal(config_pipeline_load(cfg, DEMO_PIPELINE, &d, &err), SL_OK);
    assert_int_equal(store_open(d->lake_url, &lake, &err), SL_OK);
    cons_report r;
    sl_code c = consistency_check(lake, d, &r, &err);
    if (c != SL_OK)
        fail_msg("consistency_check: %s %s", err_code_name(c), err.msg);
    store_close(lake);
    pipeline_def_free(d);
    config_free(cfg);
    free(path);
    return r;
}

static void restore_by_cli(const char *table, int version)
{
    char *cmd = sl_asprintf("'%s' -c '%s/sluice.json' restore '%s' --version %d --reason "
                            "'runbook test' --yes > /dev/null",
                            tu_sluice_bin(), W.dir, table, version);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
}

/* Last (it changes the demo): a silver restore behind the checkpoint's back
 * is found ("undone"), then a checkpoint restore behind the tables'
 * ("orphan"); the checkpoint-drift runbook's panel lists them. */
static void test_consistency_panel(void **state)
{
    (void)state;
    cons_report r = check();
    assert_int_equal(r.n, 0);
    assert_int_equal(r.tables_checked, 3);
    assert_int_equal(r.folders_checked, DEMO_FOLDERS - 10); /* the demo's 26 processed */
    int64_t max_batch = r.ckpt_max_batch;
    assert_true(max_batch > 0);
    cons_report_free(&r);

    restore_by_cli("orders", 20);
    r = check();
    assert_true(r.n > 0);
    for (size_t i = 0; i < r.n; i++) {
        assert_string_equal(r.issues[i].kind, "undone");
        assert_string_equal(r.issues[i].table, "orders");
        assert_int_equal(r.issues[i].restored_to, 20);
        assert_true(r.issues[i].version > 20);
        assert_non_null(r.issues[i].folder);
    }
    size_t undone = r.n;
    cons_report_free(&r);
    run_ok("view runbooks\nwait\ndown\nenter\nwait\nresize 43 132\n"
           "dump @/drift.txt\n");
    char *d = tt_read_dump(W.dir, "drift.txt");
    expect_in(d, "Checkpoint out of step with the tables · step 1 of 4");
    char *note = sl_asprintf("%zu disagreement%s between checkpoint and tables", undone,
                             undone == 1 ? "" : "s");
    expect_in(d, note);
    free(note);
    expect_in(d, "orders   undone");
    expect_in(d, "v20<v");
    expect_in(d, "was undone by a RESTORE to version 20");
    free(d);

    restore_by_cli("_sluice/processed_folders", 1);
    r = check();
    size_t orphans = 0;
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.issues[i].kind, "orphan") == 0) {
            orphans++;
            assert_null(r.issues[i].folder);
            assert_true(r.issues[i].batch_id > r.ckpt_max_batch);
        }
    assert_int_equal(orphans, 3); /* bronze, silver and gold hold later batches */
    assert_true(r.ckpt_max_batch < max_batch);
    cons_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_list_and_step_dumps, fresh_state),
        cmocka_unit_test_setup(test_skip_then_note, fresh_state),
        cmocka_unit_test_setup(test_skip_cancelled, fresh_state),
        cmocka_unit_test_setup(test_read_only_follows_but_refuses, fresh_state),
        cmocka_unit_test_setup(test_consistency_panel, fresh_state), /* last */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
