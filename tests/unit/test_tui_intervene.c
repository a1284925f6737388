/* Interventions from the console: restore, vacuum and optimize open a
 * preview dialog whose default is Cancel, need the typed target and a
 * reason, go through the ops layer, and leave their audit rows either way
 * (confirmed: requested -> succeeded | failed; cancelled: requested ->
 * refused). Scripted sessions on a virtual screen, checked by screen dumps,
 * the table's log and the audit database. */
#include "deltatest.h"
#include "testutil.h"
#include "tuitest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backend/delta/delta.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define FAKE_NOW_MS 1700010000000LL
#define DAY_MS (24LL * 3600 * 1000)

typedef struct world {
    char *dir;
    char *state;
    char *orders; /* dir/lake/silver/orders */
} world;

/* Hand-written so the dialog's file names are stable: v0 create, v1 and v2
 * appends, v3 a DELETE that swaps part-0001 for part-0003. */
static const char *const commits[] = {
    "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"CREATE TABLE\"}}\n"
    "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
    "{\"metaData\":{\"id\":\"0b5e-orders\",\"format\":{\"provider\":\"parquet\","
    "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{"
    "\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
    "\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{},"
    "\"createdTime\":1700000000000}}\n",
    "{\"commitInfo\":{\"timestamp\":1700000360000,\"operation\":\"WRITE\"}}\n"
    "{\"add\":{\"path\":\"part-0001.parquet\",\"partitionValues\":{},\"size\":1024,"
    "\"modificationTime\":1700000360000,\"dataChange\":true,"
    "\"stats\":\"{\\\"numRecords\\\":10}\"}}\n",
    "{\"commitInfo\":{\"timestamp\":1700000720000,\"operation\":\"WRITE\"}}\n"
    "{\"add\":{\"path\":\"part-0002.parquet\",\"partitionValues\":{},\"size\":2048,"
    "\"modificationTime\":1700000720000,\"dataChange\":true,"
    "\"stats\":\"{\\\"numRecords\\\":5}\"}}\n",
    "{\"commitInfo\":{\"timestamp\":1700001080000,\"operation\":\"DELETE\"}}\n"
    "{\"remove\":{\"path\":\"part-0001.parquet\",\"deletionTimestamp\":1700001080000,"
    "\"dataChange\":true,\"size\":1024}}\n"
    "{\"add\":{\"path\":\"part-0003.parquet\",\"partitionValues\":{},\"size\":512,"
    "\"modificationTime\":1700001080000,\"dataChange\":true,"
    "\"stats\":\"{\\\"numRecords\\\":7}\"}}\n",
};

static void write_sized(const char *dir, const char *rel, size_t n)
{
    char *text = sl_calloc(n + 1, 1);
    memset(text, 'x', n);
    tu_write_file(dir, rel, text);
    free(text);
}

static void world_build(world *w, int read_only)
{
    w->dir = tu_mkdtemp("tuiiv");
    w->state = paths_join(w->dir, "state");
    w->orders = paths_join(w->dir, "lake/silver/orders");
    tu_write_file(w->dir, "incoming/README.txt", "drop folders here\n");
    for (size_t v = 0; v < sizeof commits / sizeof commits[0]; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "_delta_log/%020zu.json", v);
        tu_write_file(w->orders, rel, commits[v]);
    }
    /* Restore only checks that re-added files exist; their bytes are not read. */
    write_sized(w->orders, "part-0001.parquet", 1024);
    write_sized(w->orders, "part-0002.parquet", 2048);
    write_sized(w->orders, "part-0003.parquet", 512);
    char *cfg = sl_asprintf("{\"environment\": \"prod\", \"banner_color\": \"red\",\n"
                            " \"source\": \"incoming\", \"lake\": \"lake\",\n"
                            " \"tables\": {\"orders\": \"silver/orders\",\n"
                            "            \"events\": \"silver/events\"},\n"
                            " \"theme\": \"dark\", \"read_only\": %s}\n",
                            read_only ? "true" : "false");
    tu_write_file(w->dir, "sluice.json", cfg);
    free(cfg);
    char now[32];
    snprintf(now, sizeof now, "%lld", FAKE_NOW_MS);
    setenv("SLUICE_STATE_DIR", w->state, 1);
    setenv("SLUICE_FAKE_NOW_MS", now, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
}

static int setup(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    world_build(w, 0);
    *state = w;
    return 0;
}

static int setup_ro(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    world_build(w, 1);
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
    free(w->orders);
    free(w);
    return 0;
}

/* Fails with the whole screen shown when needle is not on it. */
static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

static void run_ok(world *w, const char *script)
{
    sl_err err = {0};
    sl_code c = tt_run_script(w->dir, script, 24, 80, NULL, &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

/* Audit rows of one action, oldest first. */
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

static int64_t latest_version(const char *table_dir)
{
    store *s = dt_open_store(table_dir);
    delta_snapshot *snap = dt_snap_latest(s, "");
    int64_t v = snap->version;
    delta_snapshot_free(snap);
    store_close(s);
    return v;
}

/* The commitInfo of one version. */
static json_t *commit_info(const char *table_dir, int64_t version)
{
    store *s = dt_open_store(table_dir);
    json_t *actions = NULL;
    sl_err err = {0};
    assert_int_equal(delta_commit_read(s, "", version, &actions, &err), SL_OK);
    store_close(s);
    json_t *ci = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) if (json_object_get(a, "commitInfo")) ci =
        json_incref(json_object_get(a, "commitInfo"));
    json_decref(actions);
    assert_non_null(ci);
    return ci;
}

static void test_restore_preview_then_confirm(void **state)
{
    world *w = *state;
    run_ok(w, "view tables\n"
              "enter\n"
              "down\n" /* version 2 */
              "key R\n"
              "wait\n"
              "dump @/restore-dialog-80x24.txt\n"
              /* A wrong target keeps the dialog open and says why. */
              "type orders@1\n"
              "key Enter\n"
              "type bad rows from the 03:00 load\n"
              "key Enter\n"
              "key Right\n"
              "key Enter\n"
              "dump @/restore-wrong-target.txt\n"
              "key C-u\n"
              "type orders@2\n"
              "key Enter\n"
              "key Enter\n" /* lands on Cancel, the default */
              "dump @/restore-on-cancel.txt\n"
              "key Right\n"
              "key Enter\n"
              "wait\n"
              "dump @/restored.txt\n");
    tt_expect_dump(w->dir, "restore-dialog-80x24.txt", 24);
    char *d = tt_read_dump(w->dir, "restore-dialog-80x24.txt");
    expect_in(d, "Restore orders to version 2");
    expect_in(d, "re-add 1 (1.0 KiB), remove 1 (512 B)");
    expect_in(d, "Before: 2 files · 12 rows");
    expect_in(d, "After:  2 files · 15 rows");
    expect_in(d, "+ re-add part-0001.parquet");
    expect_in(d, "- remove part-0003.parquet");
    expect_in(d, "Type orders@2 to confirm:");
    expect_in(d, "[ Cancel ]");
    free(d);
    d = tt_read_dump(w->dir, "restore-wrong-target.txt");
    expect_in(d, "type orders@2 exactly to confirm");
    free(d);
    d = tt_read_dump(w->dir, "restore-on-cancel.txt");
    expect_in(d, "> Cancel <");
    expect_in(d, "[ Restore ]");
    free(d);
    /* Committed, and the history view reloaded to show it. */
    d = tt_read_dump(w->dir, "restored.txt");
    expect_in(d, "restored orders to version 2: committed version 4");
    expect_in(d, "RESTORE");
    assert_null(strstr(d, "Type orders@2"));
    free(d);

    assert_int_equal(latest_version(w->orders), 4);
    json_t *ci = commit_info(w->orders, 4);
    assert_string_equal(json_string_value(json_object_get(ci, "operation")), "RESTORE");
    json_t *um =
        json_loads(json_string_value(json_object_get(ci, "userMetadata")), 0, NULL);
    assert_non_null(um);
    assert_string_equal(json_string_value(json_object_get(um, "operator")), "tester");
    const char *event_id = json_string_value(json_object_get(um, "auditEventId"));
    assert_non_null(event_id);

    size_t n;
    audit_event *evs = events_of(w, "restore", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    assert_int_equal(evs[0].id, strtoll(event_id, NULL, 10));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].target, "orders");
        assert_string_equal(evs[i].reason, "bad rows from the 03:00 load");
        assert_string_equal(evs[i].operator_name, "tester");
        assert_non_null(strstr(evs[i].params, "\"version\":2"));
    }
    assert_non_null(strstr(evs[1].before_state, "\"version\":3"));
    assert_non_null(strstr(evs[1].after_state, "\"version\":4"));
    audit_events_free(evs, n);
    json_decref(um);
    json_decref(ci);
}

/* Esc, or Enter on the default button: nothing changes; a pair is audited. */
static void test_restore_cancel(void **state)
{
    world *w = *state;
    char *before = dt_tree_digest(w->orders);
    run_ok(w, "view tables\nenter\ndown\nkey R\nwait\n"
              "type orders@2\n"
              "key Esc\n"
              "wait\n"
              "dump @/cancelled.txt\n"
              "restore 1\n"
              "wait\n"
              "key Enter\n"
              "type changed my mind\n"
              "key Enter\n"
              "key Enter\n"
              "wait\n");
    char *after = dt_tree_digest(w->orders);
    assert_string_equal(before, after);
    char *d = tt_read_dump(w->dir, "cancelled.txt");
    expect_in(d, "restore of orders cancelled: nothing changed");
    free(d);
    size_t n;
    audit_event *evs = events_of(w, "restore", &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i += 2) {
        assert_string_equal(evs[i].phase, "requested");
        assert_string_equal(evs[i + 1].phase, "refused");
        assert_string_equal(evs[i + 1].error_code, "SL-OPS-CANCELLED");
        assert_string_equal(evs[i + 1].target, "orders");
    }
    assert_non_null(strstr(evs[0].params, "\"version\":2"));
    assert_null(evs[1].reason);
    assert_non_null(strstr(evs[2].params, "\"version\":1"));
    assert_string_equal(evs[3].reason, "changed my mind");
    audit_events_free(evs, n);
    free(before);
    free(after);
}

/* A target whose files were vacuumed: the preview says so in red, and
 * confirming fails in the ops layer (audited) without touching the table. */
static void test_restore_of_vacuumed_files(void **state)
{
    world *w = *state;
    char *gone = paths_join(w->orders, "part-0001.parquet");
    assert_int_equal(unlink(gone), 0);
    free(gone);
    /* A month later the target is also beyond the 7-day retention. */
    char later[32];
    snprintf(later, sizeof later, "%lld", FAKE_NOW_MS + 30 * DAY_MS);
    setenv("SLUICE_FAKE_NOW_MS", later, 1);
    char *before = dt_tree_digest(w->orders);
    run_ok(w,
           "view tables\nenter\ndown\nkey R\nwait\n"
           "dump @/missing.txt\n"
           "type orders@2\nkey Enter\ntype try anyway\nkey Enter\nkey Right\nkey Enter\n"
           "wait\n"
           "dump @/failed.txt\n");
    char *after = dt_tree_digest(w->orders);
    assert_string_equal(before, after);
    char *d = tt_read_dump(w->dir, "missing.txt");
    expect_in(d, "missing (vacuumed): part-0001.parquet");
    expect_in(d, "WARNING: target version 2 (2023-11-14T22:25:20.000Z) is older than the");
    expect_in(d, "restore will be refused");
    free(d);
    d = tt_read_dump(w->dir, "failed.txt");
    expect_in(d, "SL-STORE-NOT-FOUND");
    free(d);
    size_t n;
    audit_event *evs = events_of(w, "restore", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "failed");
    assert_string_equal(evs[1].error_code, "SL-STORE-NOT-FOUND");
    audit_events_free(evs, n);
    free(before);
    free(after);
}

/* Read-only: no key opens a dialog; the typed command is refused by the
 * dispatcher and again by ops, which audits it. */
static void test_read_only_refuses(void **state)
{
    world *w = *state;
    char *before = dt_tree_digest(w->orders);
    sl_err err = {0};
    assert_int_equal(tt_run_script(w->dir,
                                   "view tables\nenter\nkey R\nkey V\nkey O\nwait\n"
                                   "dump @/ro.txt\n",
                                   24, 80, NULL, &err),
                     SL_OK);
    char *d = tt_read_dump(w->dir, "ro.txt");
    expect_in(d, "key O does nothing here");
    assert_null(strstr(d, "to confirm"));
    free(d);
    assert_int_equal(
        tt_run_script(w->dir, "view tables\nenter\nrestore 1\n", 24, 80, NULL, &err),
        SL_OPS_READ_ONLY);
    assert_non_null(strstr(err.msg, "read-only"));
    char *after = dt_tree_digest(w->orders);
    assert_string_equal(before, after);
    size_t n;
    audit_event *evs = events_of(w, "restore", &n);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].phase, "refused");
    assert_string_equal(evs[0].error_code, "SL-OPS-READ-ONLY");
    audit_events_free(evs, n);
    free(before);
    free(after);
}

/* ---- optimize, then vacuum the files it replaced ------------------------ */

static const pq_schema_col EVENT_COLS[] = {
    {"id", PQ_TYPE_INT64, false},
    {"kind", PQ_TYPE_STRING, true},
};

static void events_table(world *w)
{
    char *dir = paths_join(w->dir, "lake/silver/events");
    assert_int_equal(mkdir(dir, 0755), 0);
    store *s = dt_open_store(dir);
    dt_create_table(s, "", EVENT_COLS, 2, NULL);
    for (int k = 0; k < 4; k++) {
        pq_value rows[6];
        for (int i = 0; i < 3; i++) {
            rows[i * 2] = pq_val_i64(k * 10 + i);
            rows[i * 2 + 1] = pq_val_str(i % 2 ? "click" : "view");
        }
        dt_append(s, "", rows, 3, 2);
    }
    store_close(s);
    free(dir);
}

/* Every data file's mtime a day before the fake clock, so that vacuum's
 * cutoff (which compares mtimes) never depends on the real date. */
static void age_files(const char *dir)
{
    char *cmd = sl_asprintf("find '%s' -name '*.parquet' -exec touch -d @%lld {} +", dir,
                            (long long)(FAKE_NOW_MS / 1000 - 24 * 3600));
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
}

static size_t count_parquet(const char *dir)
{
    char *cmd =
        sl_asprintf("find '%s' -name '*.parquet' -not -path '*_delta_log*' | wc -l", dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    size_t n = (size_t)strtoul(out, NULL, 10);
    free(out);
    free(cmd);
    return n;
}

static void test_optimize_then_vacuum(void **state)
{
    world *w = *state;
    events_table(w);
    char *events = paths_join(w->dir, "lake/silver/events");
    age_files(events);
    assert_int_equal(count_parquet(events), 4);

    /* Optimize from the Tables view: a reason is needed, no typed target. */
    run_ok(w, "view tables\n"
              "filter events\n"
              "key O\n"
              "wait\n"
              "dump @/optimize-dialog.txt\n"
              "key Enter\nkey Right\nkey Enter\n" /* no reason yet: refused in place */
              "dump @/optimize-noreason.txt\n"
              "type too many small files\nkey Enter\nkey Right\nkey Enter\n"
              "wait\n"
              "dump @/optimized.txt\n");
    char *d = tt_read_dump(w->dir, "optimize-dialog.txt");
    expect_in(d, "Optimize events: compact 4 files");
    expect_in(d, "Rows unchanged (12)");
    assert_null(strstr(d, "to confirm:"));
    free(d);
    d = tt_read_dump(w->dir, "optimize-noreason.txt");
    expect_in(d, "a reason is required");
    free(d);
    d = tt_read_dump(w->dir, "optimized.txt");
    expect_in(d, "optimized events: 4 files compacted into 1, version 5");
    free(d);
    json_t *ci = commit_info(events, 5);
    assert_string_equal(json_string_value(json_object_get(ci, "operation")), "OPTIMIZE");
    json_decref(ci);
    assert_int_equal(count_parquet(events), 5);

    /* Eight days later the four compacted files are past the retention. */
    age_files(events);
    char later[32];
    snprintf(later, sizeof later, "%lld", FAKE_NOW_MS + 8 * DAY_MS);
    setenv("SLUICE_FAKE_NOW_MS", later, 1);
    run_ok(w,
           "view tables\nfilter events\n"
           "key V\n"
           "wait\n"
           "dump @/vacuum-dialog.txt\n"
           "type events\nkey Enter\ntype disk at 91%\nkey Enter\nkey Right\nkey Enter\n"
           "wait\n"
           "dump @/vacuumed.txt\n");
    d = tt_read_dump(w->dir, "vacuum-dialog.txt");
    expect_in(d, "Vacuum events: delete 4 files");
    expect_in(d, "Retention: 168 h");
    expect_in(d, "Type events to confirm:");
    free(d);
    d = tt_read_dump(w->dir, "vacuumed.txt");
    expect_in(d, "vacuumed events: deleted 4 files");
    free(d);
    assert_int_equal(count_parquet(events), 1);
    ci = commit_info(events, 6);
    assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                        "VACUUM START");
    json_decref(ci);

    size_t n;
    audit_event *evs = events_of(w, "optimize", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].reason, "too many small files");
    audit_events_free(evs, n);
    evs = events_of(w, "vacuum", &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].reason, "disk at 91%");
    audit_events_free(evs, n);
    free(events);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restore_preview_then_confirm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_of_vacuumed_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refuses, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_optimize_then_vacuum, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
