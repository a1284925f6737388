/* The console's audit view: `:where` by each field and by time range, the
 * `/` text filter on top, one event in detail with its request and its
 * before/after state (seeded rows and a real restore from the CLI), verify
 * shown in the view (intact, then after editing a row with the sqlite3
 * CLI), and `:export` checked line by line against `sluice audit export`.
 * Scripted sessions on a virtual screen at 80x24 and 132x43. */
#include "testutil.h"
#include "tuitest.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

#define FAKE_NOW_MS "1700010000000" /* 2023-11-15 01:00:00 UTC */

typedef struct world {
    char *dir;
    char *state;
    char *db;
} world;

/* orders: v0 create, v1 and v2 appends, v3 a DELETE (as in
 * test_tui_intervene.c), so a restore to v2 has something to undo. */
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

#define LONG_TARGET                                                                      \
    "lake/silver/customers_with_a_rather_long_table_name_kept_in_the_middle"

/* Rows 1..11 as other sessions wrote them, oldest first; times before the
 * pinned clock so the chain's times stay in order. */
typedef struct seed {
    const char *when, *op, *session, *action, *target, *phase, *reason;
    const char *before, *after;
    sl_code error;
} seed;

static const seed seeds[] = {
    {"2023-11-13T09:00:00Z", "alice", "s-alice-1", "run", "orders", "requested",
     "nightly catch-up", NULL, NULL, SL_OK},
    {"2023-11-13T09:05:00Z", "alice", "s-alice-1", "run", "orders", "succeeded",
     "nightly catch-up", NULL, "{\"folders\":3,\"rows\":1200}", SL_OK},
    {"2023-11-14T01:59:00Z", "bob", "s-bob-1", "session.open", NULL, "succeeded", NULL,
     NULL, "{\"session\":\"s-bob-1\",\"channel\":\"console\",\"state\":\"open\"}", SL_OK},
    {"2023-11-14T02:00:00Z", "bob", "s-bob-1", "restore", "orders", "requested",
     "bad load at 01:00",
     "{\"version\":7,\"files\":2,\"rows\":12,\"note\":\"the 01:00 load wrote rows with "
     "negative amounts into every partition of the table, so the whole version goes\"}",
     NULL, SL_OK},
    {"2023-11-14T02:01:00Z", "bob", "s-bob-1", "restore", "orders", "failed",
     "bad load at 01:00", "{\"version\":7,\"files\":2,\"rows\":12}", NULL, SL_IO},
    {"2023-11-14T03:00:00Z", "bob", "s-bob-2", "vacuum", "events", "refused",
     "disk nearly full", NULL, NULL, SL_OPS_READ_ONLY},
    {"2023-11-14T23:30:00Z", "carol", "s-carol-1", "optimize", LONG_TARGET, "requested",
     NULL, "{\"files\":40}", NULL, SL_OK},
    {"2023-11-14T23:31:00Z", "carol", "s-carol-1", "optimize", LONG_TARGET, "succeeded",
     NULL, "{\"files\":40}", "{\"files\":2}", SL_OK},
    {"2023-11-15T00:30:00Z", "alice", "s-alice-2", "audit.note", NULL, "requested",
     "paged: lag over 2h", NULL, NULL, SL_OK},
    {"2023-11-15T00:30:00Z", "alice", "s-alice-2", "audit.note", NULL, "succeeded",
     "paged: lag over 2h", NULL, NULL, SL_OK},
};
#define NSEEDS (sizeof seeds / sizeof seeds[0])
/* Then the CLI's restore (11 requested, 12 succeeded) and the console's
 * session.open (13, 14). */

static void seed_log(world *w)
{
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(w->db, &log, &err), SL_OK);
    for (size_t i = 0; i < NSEEDS; i++) {
        const seed *s = &seeds[i];
        int64_t ts = 0;
        assert_int_equal(time_parse(s->when, &ts, &err), SL_OK);
        audit_event ev = {.ts_ms = ts,
                          .operator_name = (char *)s->op,
                          .host = "ops-1",
                          .session_id = (char *)s->session,
                          .action = (char *)s->action,
                          .target = (char *)s->target,
                          .params = "{}",
                          .reason = (char *)s->reason,
                          .phase = (char *)s->phase,
                          .before_state = (char *)s->before,
                          .after_state = (char *)s->after,
                          .error_code =
                              s->error == SL_OK ? NULL : (char *)err_code_name(s->error)};
        assert_int_equal(audit_append(log, &ev, NULL, &err), SL_OK);
    }
    audit_close(log);
}

static void write_sized(const char *dir, const char *rel, size_t n)
{
    char *text = sl_calloc(n + 1, 1);
    memset(text, 'x', n);
    tu_write_file(dir, rel, text);
    free(text);
}

/* A restore through the real CLI: ops writes its requested and succeeded
 * rows with the state before and after. */
static void cli_restore(world *w)
{
    char *cmd = sl_asprintf("'%s' -c '%s/sluice.json' restore orders --version 2 "
                            "--reason 'undo the DELETE' --yes 2>&1",
                            tu_sluice_bin(), w->dir);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    if (rc != 0)
        fail_msg("%s\n-> %s", cmd, out ? out : "");
    free(out);
    free(cmd);
}

static int setup(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    w->dir = tu_mkdtemp("tuiaud");
    w->state = paths_join(w->dir, "state");
    w->db = paths_join(w->state, "audit.db");
    char *orders = paths_join(w->dir, "lake/silver/orders");
    for (size_t v = 0; v < sizeof commits / sizeof commits[0]; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "_delta_log/%020zu.json", v);
        tu_write_file(orders, rel, commits[v]);
    }
    write_sized(orders, "part-0001.parquet", 1024);
    write_sized(orders, "part-0002.parquet", 2048);
    write_sized(orders, "part-0003.parquet", 512);
    free(orders);
    tu_write_file(w->dir, "incoming/README.txt", "drop folders here\n");
    tu_write_file(w->dir, "sluice.json",
                  "{\"environment\": \"prod\", \"banner_color\": \"red\",\n"
                  " \"source\": \"incoming\", \"lake\": \"lake\",\n"
                  " \"tables\": {\"orders\": \"silver/orders\"},\n"
                  " \"theme\": \"dark\"}\n");
    tu_write_file(w->state, "keep", "");
    setenv("SLUICE_STATE_DIR", w->state, 1);
    setenv("SLUICE_FAKE_NOW_MS", FAKE_NOW_MS, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    seed_log(w);
    cli_restore(w);
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
    free(w->db);
    free(w);
    return 0;
}

static void run_ok(world *w, const char *script, int rows, int cols)
{
    sl_err err = {0};
    sl_code c = tt_run_script(w->dir, script, rows, cols, NULL, &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
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

/* The ids of the listed events, top to bottom ("12,11,5"): every line
 * after the column header whose first word is a number (✗ marks a broken
 * row). */
static char *listed_ids(world *w, const char *dump)
{
    char *text = tt_read_dump(w->dir, dump);
    assert_non_null(text);
    sl_buf out = {0};
    const char *hdr = strstr(text, " Id Time (UTC)");
    assert_non_null(hdr);
    const char *p = strchr(hdr, '\n');
    while (p && *++p) {
        const char *q = p;
        while (*q == ' ')
            q++;
        if (strncmp(q, "✗", strlen("✗")) == 0)
            q += strlen("✗");
        char *end = NULL;
        long id = strtol(q, &end, 10);
        if (end == q || *end != ' ')
            break;
        buf_appendf(&out, "%s%ld", out.len ? "," : "", id);
        p = strchr(p, '\n');
    }
    free(text);
    return out.data ? out.data : sl_strdup("");
}

static void expect_ids(world *w, const char *dump, const char *want)
{
    char *got = listed_ids(w, dump);
    if (strcmp(got, want) != 0) {
        char *screen = tt_read_dump(w->dir, dump);
        fail_msg("%s lists ids %s, expected %s:\n%s", dump, got, want, screen);
    }
    free(got);
}

static void expect_dump_has(world *w, const char *dump, const char *needle)
{
    char *d = tt_read_dump(w->dir, dump);
    assert_non_null(d);
    expect_in(d, needle);
    free(d);
}

static void test_filters_by_field_and_time(void **state)
{
    world *w = *state;
    run_ok(w,
           "view audit\n"
           "dump @/all.txt\n"
           "where operator=bob\n"
           "dump @/bob.txt\n"
           "where action=restore\n"
           "dump @/restore.txt\n"
           "where action=restore phase=failed\n"
           "dump @/failed.txt\n"
           "where target=orders\n"
           "dump @/orders.txt\n"
           "where target=customers*middle\n"
           "dump @/wild-target.txt\n"
           "where operator=al* action=*note\n"
           "dump @/wild-both.txt\n"
           "where phase=refused\n"
           "dump @/refused.txt\n"
           "where since=2023-11-14 until=2023-11-14T03:00\n"
           "dump @/range.txt\n"
           "where until=2023-11-13\n"
           "dump @/until-day.txt\n"
           "where since=2023-11-15T00:30\n"
           "dump @/since.txt\n"
           "where operator=bob action=restore target=orders phase=failed "
           "since=2023-11-14 until=2023-11-15T06:00\n"
           "dump @/audit-where-80x24.txt\n"
           "where operator=nobody\n"
           "dump @/none.txt\n"
           "where\n"
           "dump @/cleared.txt\n"
           "where operator=bob\n"
           "filter restore\n"
           "dump @/bob-slash.txt\n",
           24, 80);
    /* 14 events: 10 seeded, the CLI restore (11, 12), session.open (13, 14). */
    expect_dump_has(w, "all.txt", "14 events · :where filters · v verifies the chain");
    expect_ids(w, "all.txt", "14,13,12,11,10,9,8,7,6,5,4,3,2,1");
    expect_ids(w, "bob.txt", "6,5,4,3");
    expect_dump_has(w, "bob.txt", "4 of 14 events · where operator=bob");
    expect_ids(w, "restore.txt", "12,11,5,4");
    expect_ids(w, "failed.txt", "5");
    expect_dump_has(w, "failed.txt",
                    "1 of 14 events · where action=restore phase=failed");
    /* target matches anywhere: the seeded "orders" and the CLI's URL. */
    expect_ids(w, "orders.txt", "12,11,5,4,2,1");
    expect_ids(w, "wild-target.txt", "8,7");
    expect_ids(w, "wild-both.txt", "10,9");
    expect_ids(w, "refused.txt", "6");
    /* until with a time is inclusive; with a date alone, the whole day. */
    expect_ids(w, "range.txt", "6,5,4,3");
    expect_ids(w, "until-day.txt", "2,1");
    expect_ids(w, "since.txt", "14,13,12,11,10,9");
    expect_ids(w, "audit-where-80x24.txt", "5");
    tt_expect_dump(w->dir, "audit-where-80x24.txt", 24);
    expect_ids(w, "none.txt", "");
    expect_dump_has(w, "none.txt", "0 of 14 events · where operator=nobody");
    expect_ids(w, "cleared.txt", "14,13,12,11,10,9,8,7,6,5,4,3,2,1");
    /* / narrows what :where loaded, and the header says both. */
    expect_ids(w, "bob-slash.txt", "5,4");
    expect_dump_has(w, "bob-slash.txt",
                    "2 of 14 events · where operator=bob · / restore");
    /* The restore's URL target is shown by its table name. */
    char *d = tt_read_dump(w->dir, "restore.txt");
    expect_in(d, "restore       succeeded orders: undo the DELETE");
    expect_not_in(d, "file://");
    free(d);
}

static void test_filters_132x43(void **state)
{
    world *w = *state;
    run_ok(w,
           "view audit\n"
           "dump @/audit-all-132x43.txt\n"
           "where since=2023-11-14 until=2023-11-15T06:00 operator=*o*\n"
           "dump @/audit-where-132x43.txt\n",
           43, 132);
    tt_expect_dump(w->dir, "audit-all-132x43.txt", 43);
    tt_expect_dump(w->dir, "audit-where-132x43.txt", 43);
    /* Wide: seconds, the age, target and reason apart, the long target
     * shortened in the middle. */
    char *d = tt_read_dump(w->dir, "audit-all-132x43.txt");
    expect_in(d, "2023-11-14 23:31:00");
    expect_in(d, "1h29m ago");
    expect_in(d, "22h00m ago");
    expect_in(d, "lake/silver/cus…_in_the_middle");
    free(d);
    /* bob and carol, and the console/CLI operator "tester" is excluded. */
    expect_ids(w, "audit-where-132x43.txt", "8,7,6,5,4,3");
}

static void test_where_mistakes_are_named(void **state)
{
    world *w = *state;
    const struct {
        const char *line, *needle;
    } bad[] = {
        {"where colour=red", "no field 'colour'"},
        {"where since=yesterday", "since=yesterday is not a UTC date"},
        {"where phase=done", "phase=done is not a phase"},
        {"where operator", "expected FIELD=VALUE"},
        {"where operator=a operator=b", "operator is given twice"},
        {"where since=2023-11-15 until=2023-11-14", "since is after until"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *script = sl_asprintf("view audit\n%s\n", bad[i].line);
        sl_err err = {0};
        sl_code c = tt_run_script(w->dir, script, 24, 80, NULL, &err);
        free(script);
        if (c == SL_OK || !strstr(err.msg, bad[i].needle))
            fail_msg("'%s': got %s '%s', wanted '%s'", bad[i].line, err_code_name(c),
                     err.msg, bad[i].needle);
    }
}

static void test_event_detail(void **state)
{
    world *w = *state;
    /* A seeded request: every field, the pair, before state wrapped. */
    run_ok(w,
           "view audit\n"
           "where action=restore operator=bob\n"
           "last\n"
           "enter\n"
           "dump @/audit-event-80x24.txt\n"
           "last\n"
           "dump @/event-80x24-end.txt\n",
           24, 80);
    tt_expect_dump(w->dir, "audit-event-80x24.txt", 24);
    char *d = tt_read_dump(w->dir, "audit-event-80x24.txt");
    expect_in(d, "Id:        4");
    expect_in(d, "Time:      2023-11-14 02:00:00 UTC (23h00m ago)");
    expect_in(d, "Operator:  bob");
    expect_in(d, "Host:      ops-1");
    expect_in(d, "Session:   s-bob-1");
    expect_in(d, "Channel:   console");
    expect_in(d, "Target:    orders");
    expect_in(d, "Phase:     requested");
    expect_in(d, "Reason:    bad load at 01:00");
    expect_in(d, "Request:");
    expect_in(d, "  #4 requested 2023-11-14 02:00:00 UTC  (this event)");
    expect_in(d, "→ #5 failed    2023-11-14 02:01:00 UTC  SL-IO  (Enter opens)");
    free(d);
    d = tt_read_dump(w->dir, "event-80x24-end.txt");
    expect_in(d, "Before:");
    expect_in(d, "\"version\": 7,");
    expect_in(d, "↪ "); /* the long note wraps */
    expect_in(d, "whole version goes");
    expect_in(d, "After:");
    free(d);

    /* The closing row of the pair: its error code with the code's meaning;
     * Enter on the request's other row opens that one. */
    run_ok(w,
           "view audit\n"
           "where phase=failed\n"
           "enter\n"
           "dump @/failed-event.txt\n"
           "filter requested\n"
           "enter\n"
           "dump @/opened-pair.txt\n",
           24, 80);
    d = tt_read_dump(w->dir, "failed-event.txt");
    expect_in(d, "Id:        5");
    expect_in(d, "Error:     SL-IO: Check that the path exists");
    expect_in(d, "  #4 requested");
    expect_in(d, "→ #5 failed");
    free(d);
    expect_dump_has(w, "opened-pair.txt", "Id:        4");

    /* The real restore from the CLI, wide: its parameters, the channel
     * inferred, before and after as ops recorded them. */
    run_ok(w,
           "view audit\n"
           "where action=restore phase=succeeded\n"
           "enter\n"
           "dump @/restore-event-132x43.txt\n",
           43, 132);
    d = tt_read_dump(w->dir, "restore-event-132x43.txt");
    expect_in(d, "Id:        12");
    expect_in(d, "Operator:  tester");
    expect_in(d, "Channel:   cli (inferred: no session.open row)");
    expect_in(d, "Target:    orders");
    expect_in(d, "\"url\": \"/tmp/");
    expect_in(d, "Reason:    undo the DELETE");
    expect_in(d, "  #11 requested 2023-11-15 01:00:00 UTC  (Enter opens)");
    expect_in(d, "→ #12 succeeded");
    expect_in(d, "Before:");
    expect_in(d, "After:");
    free(d);
    /* What ops wrote is what is shown, value by value. */
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(w->db, &log, &err), SL_OK);
    audit_event ev;
    assert_int_equal(audit_get(log, 12, &ev, &err), SL_OK);
    audit_close(log);
    assert_non_null(ev.before_state);
    assert_non_null(ev.after_state);
    json_t *after = json_loads(ev.after_state, 0, NULL);
    assert_non_null(after);
    d = tt_read_dump(w->dir, "restore-event-132x43.txt");
    const char *key;
    json_t *val;
    json_object_foreach(after, key, val)
    {
        if (!json_is_integer(val))
            continue;
        char needle[160];
        snprintf(needle, sizeof needle, "\"%s\": %lld", key,
                 (long long)json_integer_value(val));
        expect_in(d, needle);
    }
    free(d);
    json_decref(after);
    audit_event_clear(&ev);
}

/* Runs SQL on the database with the triggers dropped, through the sqlite3
 * CLI when installed (as a person would), else the C API. */
static void tamper(world *w, const char *sql)
{
    char *full = sl_asprintf("DROP TRIGGER IF EXISTS audit_events_no_update;%s", sql);
    if (tu_run("command -v sqlite3 >/dev/null 2>&1", NULL) == 0) {
        char *cmd = sl_asprintf("sqlite3 -bail '%s' \"%s\" 2>&1", w->db, full);
        char *out = NULL;
        int rc = tu_run(cmd, &out);
        if (rc != 0)
            fail_msg("%s\n-> %s", cmd, out ? out : "");
        free(out);
        free(cmd);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(w->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, full, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    free(full);
}

static void test_verify_ok_then_broken(void **state)
{
    world *w = *state;
    run_ok(w, "view audit\nwhere operator=bob\nverify\ndump @/verify-ok.txt\n", 24, 80);
    char *d = tt_read_dump(w->dir, "verify-ok.txt");
    /* The whole chain, whatever the filter: 14 rows when it ran. */
    expect_in(d, "✓ chain verified: 14 events, head #14 ");
    expect_in(d, "4 of 14 events · where operator=bob");
    free(d);
    /* The head hash shown is the last row's. */
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(w->db, &log, &err), SL_OK);
    audit_event ev;
    assert_int_equal(audit_get(log, 14, &ev, &err), SL_OK);
    audit_close(log);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "#14 %.16s…", ev.hash);
    expect_dump_has(w, "verify-ok.txt", prefix);
    audit_event_clear(&ev);

    tamper(w, "UPDATE audit_events SET reason = 'nothing to see' WHERE id = 5;");
    run_ok(w, "view audit\nwhere operator=bob\nverify\ndump @/verify-bad.txt\n", 24, 80);
    d = tt_read_dump(w->dir, "verify-bad.txt");
    expect_in(d, "✗ chain BROKEN at event #5: row 5 was edited");
    /* The edited row is marked in the list. */
    expect_in(d, "✗5 ");
    expect_in(d, "nothing to see");
    free(d);
    expect_ids(w, "verify-bad.txt", "6,5,4,3");
}

/* The lines of `sluice audit export` (the whole log) whose id is in ids. */
static char **cli_export_lines(world *w, const int64_t *ids, size_t n)
{
    char *cmd = sl_asprintf("'%s' -c '%s/sluice.json' audit export --format jsonl",
                            tu_sluice_bin(), w->dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    char **lines = sl_calloc(n + 1, sizeof *lines);
    for (char *p = out; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *o = json_loadb(p, len, 0, NULL);
        assert_non_null(o);
        int64_t id = json_integer_value(json_object_get(o, "id"));
        json_decref(o);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == id)
                lines[i] = sl_strndup(p, len);
        p = nl ? nl + 1 : NULL;
    }
    free(out);
    return lines;
}

static void test_export_the_rows_shown(void **state)
{
    world *w = *state;
    run_ok(w,
           "view audit\n"
           "where operator=bob\n"
           "filter restore\n"
           "export @/bob.jsonl\n"
           "dump @/exported.txt\n"
           "export @/bob.jsonl\n"
           "dump @/again.txt\n",
           24, 80);
    char *path = paths_join(w->dir, "bob.jsonl");
    char *msg = sl_asprintf("exported 2 events as JSON lines to %s", path);
    /* The message names the real path: read the dump unmasked. */
    char *raw_path = sl_asprintf("%s/exported.txt", w->dir);
    char *d = tu_read_file(raw_path);
    free(raw_path);
    expect_in(d, msg);
    free(d);
    free(msg);
    /* An existing file is never overwritten. */
    expect_dump_has(w, "again.txt", "export failed");

    /* Exactly the two rows shown, oldest first, each line as the CLI's. */
    char *text = tu_read_file(path);
    assert_non_null(text);
    const int64_t want[] = {4, 5};
    char **cli = cli_export_lines(w, want, 2);
    char *p = text;
    for (size_t i = 0; i < 2; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_non_null(cli[i]);
        assert_string_equal(p, cli[i]);
        json_t *o = json_loads(p, 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(o, "id")), want[i]);
        assert_string_equal(json_string_value(json_object_get(o, "operator")), "bob");
        assert_string_equal(json_string_value(json_object_get(o, "action")), "restore");
        json_decref(o);
        p = nl + 1;
        free(cli[i]);
    }
    assert_string_equal(p, ""); /* nothing else */
    free(cli);
    free(text);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filters_by_field_and_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_132x43, setup, teardown),
        cmocka_unit_test_setup_teardown(test_where_mistakes_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_detail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_ok_then_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_the_rows_shown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
