/* The audit log as its callers use it: append, get, query with every filter,
 * export (parsed back), the hash chain, the triggers and two processes
 * appending at once. */
#include "testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backend/util/buf.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct fx {
    char *dir;
    char *path;
    audit_log *log;
};

static int fx_setup(void **state)
{
    struct fx *f = sl_calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("audit-chain");
    f->path = sl_asprintf("%s/audit.db", f->dir);
    sl_err err = {0};
    if (audit_open(f->path, &f->log, &err) != SL_OK) {
        fprintf(stderr, "audit_open: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    audit_close(f->log);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static int64_t add(audit_log *log, int64_t ts, const char *op, const char *action,
                   const char *target, const char *reason, const char *phase)
{
    audit_event ev = {.ts_ms = ts,
                      .operator_name = (char *)op,
                      .host = "host1",
                      .session_id = "s-1",
                      .action = (char *)action,
                      .target = (char *)target,
                      .reason = (char *)reason,
                      .phase = (char *)phase};
    int64_t id = 0;
    sl_err err = {0};
    sl_code c = audit_append(log, &ev, &id, &err);
    if (c != SL_OK)
        fprintf(stderr, "append: %s\n", err.msg);
    assert_int_equal(c, SL_OK);
    assert_true(id > 0);
    return id;
}

static int is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

static void test_append_get_roundtrip(void **state)
{
    struct fx *f = *state;
    audit_event ev = {.ts_ms = 1700000000123,
                      .operator_name = "alice",
                      .host = "db-01",
                      .session_id = "cli-42",
                      .action = "restore",
                      .target = "lake/silver",
                      .params = "{\"version\":3}",
                      .reason = "",
                      .phase = "requested",
                      .before_state = "{\"version\":5}",
                      .after_state = NULL,
                      .error_code = NULL};
    int64_t id = 0;
    sl_err err = {0};
    assert_int_equal(audit_append(f->log, &ev, &id, &err), SL_OK);
    assert_int_equal(id, 1);

    audit_event got;
    assert_int_equal(audit_get(f->log, 1, &got, &err), SL_OK);
    assert_int_equal(got.id, 1);
    assert_int_equal(got.ts_ms, 1700000000123);
    assert_string_equal(got.operator_name, "alice");
    assert_string_equal(got.host, "db-01");
    assert_string_equal(got.session_id, "cli-42");
    assert_string_equal(got.action, "restore");
    assert_string_equal(got.target, "lake/silver");
    assert_string_equal(got.params, "{\"version\":3}");
    assert_non_null(got.reason); /* "" stays "", not NULL */
    assert_string_equal(got.reason, "");
    assert_string_equal(got.phase, "requested");
    assert_string_equal(got.before_state, "{\"version\":5}");
    assert_null(got.after_state);
    assert_null(got.error_code);
    assert_string_equal(got.prev_hash, GENESIS);
    assert_true(is_hex64(got.hash));

    /* params defaults to {}; ts 0 means now; the chain links to row 1. */
    audit_event ev2 = {
        .operator_name = "bob", .action = "audit.note", .phase = "succeeded"};
    assert_int_equal(audit_append(f->log, &ev2, &id, &err), SL_OK);
    assert_int_equal(id, 2);
    audit_event got2;
    assert_int_equal(audit_get(f->log, 2, &got2, &err), SL_OK);
    assert_string_equal(got2.params, "{}");
    assert_null(got2.target);
    assert_null(got2.host);
    assert_true(got2.ts_ms >= 1700000000123);
    assert_string_equal(got2.prev_hash, got.hash);
    assert_string_not_equal(got2.hash, got.hash);

    audit_event none;
    assert_int_equal(audit_get(f->log, 99, &none, &err), SL_AUDIT_NOT_FOUND);
    assert_int_equal(err.code, SL_AUDIT_NOT_FOUND);
    assert_non_null(strstr(err.msg, "99"));
    audit_event_clear(&none);

    /* The head file names the last row. */
    char *head_path = sl_asprintf("%s.head", f->path);
    char *head = tu_read_file(head_path);
    char *want = sl_asprintf("2 %s\n", got2.hash);
    assert_non_null(head);
    assert_string_equal(head, want);
    free(head);
    free(want);
    free(head_path);
    audit_event_clear(&got);
    audit_event_clear(&got2);
}

static void test_append_refuses_bad_events(void **state)
{
    struct fx *f = *state;
    sl_err err = {0};
    audit_event no_action = {.phase = "requested"};
    assert_int_equal(audit_append(f->log, &no_action, NULL, &err), SL_USAGE);
    audit_event bad_phase = {.action = "run", .phase = "done"};
    assert_int_equal(audit_append(f->log, &bad_phase, NULL, &err), SL_USAGE);
    assert_non_null(strstr(err.msg, "done"));

    add(f->log, 5000, "a", "run", NULL, NULL, "requested");
    audit_event backwards = {.ts_ms = 4000, .action = "run", .phase = "failed"};
    assert_int_equal(audit_append(f->log, &backwards, NULL, &err), SL_USAGE);

    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(f->log, NULL, &evs, &n, &err), SL_OK);
    assert_int_equal(n, 1); /* nothing half-written by the refusals */
    audit_events_free(evs, n);
}

static void test_file_modes(void **state)
{
    struct fx *f = *state;
    add(f->log, 1, "a", "run", NULL, NULL, "requested");
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *head = sl_asprintf("%s.head", f->path);
    assert_int_equal(stat(head, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(head);
    char *wal = sl_asprintf("%s-wal", f->path);
    if (stat(wal, &st) == 0)
        assert_int_equal(st.st_mode & 0777, 0600);
    free(wal);

    /* WAL mode is on. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_open_needs_parent_dir(void **state)
{
    struct fx *f = *state;
    char *p = sl_asprintf("%s/no/such/dir/audit.db", f->dir);
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(p, &log, &err), SL_AUDIT_DB);
    assert_null(log);
    assert_non_null(strstr(err.msg, p));
    free(p);
}

static void test_open_refuses_non_database(void **state)
{
    struct fx *f = *state;
    tu_write_file(f->dir, "junk.db",
                  "this is not an SQLite database, just text padding it out\n");
    char *p = sl_asprintf("%s/junk.db", f->dir);
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(p, &log, &err), SL_AUDIT_DB);
    assert_null(log);
    assert_non_null(strstr(err.msg, p));
    free(p);
}

static void fill_for_query(audit_log *log)
{
    add(log, 1000, "alice", "run", "pipeline/orders", "nightly load", "requested");
    add(log, 2000, "alice", "run", "pipeline/orders", "nightly load", "succeeded");
    add(log, 3000, "bob", "restore", "lake/silver", "Bad MERGE at v12", "requested");
    add(log, 4000, "bob", "restore", "lake/silver", "Bad MERGE at v12", "failed");
    add(log, 5000, "carol", "audit.note", NULL, "paged about lag", "succeeded");
    add(log, 6000, "alice", "skip", "incoming/1700000000", NULL, "refused");
}

static size_t query_ids(audit_log *log, const audit_filter *flt, int64_t *ids, size_t max)
{
    audit_event *evs = NULL;
    size_t n = 0;
    sl_err err = {0};
    assert_int_equal(audit_query(log, flt, &evs, &n, &err), SL_OK);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        ids[i] = evs[i].id;
    audit_events_free(evs, n);
    return n;
}

static void test_query_filters(void **state)
{
    struct fx *f = *state;
    fill_for_query(f->log);
    int64_t ids[16];

    assert_int_equal(query_ids(f->log, NULL, ids, 16), 6);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[5], 6);

    audit_filter since = {.since_ms = 3000, .until_ms = 5000};
    assert_int_equal(query_ids(f->log, &since, ids, 16), 3);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[2], 5);

    audit_filter action = {.action = "restore"};
    assert_int_equal(query_ids(f->log, &action, ids, 16), 2);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 4);

    audit_filter op = {.operator_name = "alice"};
    assert_int_equal(query_ids(f->log, &op, ids, 16), 3);
    assert_int_equal(ids[2], 6);

    audit_filter phase = {.phase = "succeeded"};
    assert_int_equal(query_ids(f->log, &phase, ids, 16), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 5);

    audit_filter target = {.target = "silver"};
    assert_int_equal(query_ids(f->log, &target, ids, 16), 2);
    assert_int_equal(ids[0], 3);

    /* Free text runs over action/target/reason/operator, case-blind. */
    audit_filter text_reason = {.text = "merge"};
    assert_int_equal(query_ids(f->log, &text_reason, ids, 16), 2);
    assert_int_equal(ids[0], 3);
    audit_filter text_op = {.text = "CAROL"};
    assert_int_equal(query_ids(f->log, &text_op, ids, 16), 1);
    assert_int_equal(ids[0], 5);
    audit_filter text_target = {.text = "1700000000"};
    assert_int_equal(query_ids(f->log, &text_target, ids, 16), 1);
    assert_int_equal(ids[0], 6);
    audit_filter text_action = {.text = "note"};
    assert_int_equal(query_ids(f->log, &text_action, ids, 16), 1);
    assert_int_equal(ids[0], 5);

    audit_filter combined = {
        .operator_name = "alice", .phase = "requested", .since_ms = 500};
    assert_int_equal(query_ids(f->log, &combined, ids, 16), 1);
    assert_int_equal(ids[0], 1);

    audit_filter newest = {.newest_first = 1, .limit = 2};
    assert_int_equal(query_ids(f->log, &newest, ids, 16), 2);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[1], 5);
    audit_filter oldest = {.limit = 2};
    assert_int_equal(query_ids(f->log, &oldest, ids, 16), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);

    /* Filter values are data, never SQL. */
    audit_filter inject = {.action = "run' OR '1'='1"};
    assert_int_equal(query_ids(f->log, &inject, ids, 16), 0);
    audit_filter inject2 = {.target = "%"};
    assert_int_equal(query_ids(f->log, &inject2, ids, 16), 0);
    assert_int_equal(query_ids(f->log, NULL, ids, 16), 6);
}

static void test_event_to_json(void **state)
{
    (void)state;
    audit_event ev = {.id = 7,
                      .ts_ms = 1769860800123, /* 2026-01-31T12:00:00.123Z */
                      .operator_name = "alice",
                      .host = "h",
                      .session_id = "s",
                      .action = "restore",
                      .target = NULL,
                      .params = "{\"version\":3,\"tables\":[\"a\",\"b\"]}",
                      .reason = "why",
                      .phase = "failed",
                      .before_state = "not json {",
                      .after_state = "42",
                      .error_code = "SL-DELTA-CONFLICT",
                      .prev_hash = GENESIS,
                      .hash = "ab"};
    json_t *o = audit_event_to_json(&ev);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
    assert_int_equal(json_integer_value(json_object_get(o, "ts_ms")), 1769860800123);
    assert_string_equal(json_string_value(json_object_get(o, "time")),
                        "2026-01-31T12:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "operator")), "alice");
    assert_true(json_is_null(json_object_get(o, "target")));
    json_t *params = json_object_get(o, "params");
    assert_true(json_is_object(params));
    assert_int_equal(json_integer_value(json_object_get(params, "version")), 3);
    assert_int_equal(json_array_size(json_object_get(params, "tables")), 2);
    assert_string_equal(json_string_value(json_object_get(o, "before_state")),
                        "not json {");
    assert_int_equal(json_integer_value(json_object_get(o, "after_state")), 42);
    assert_string_equal(json_string_value(json_object_get(o, "error_code")),
                        "SL-DELTA-CONFLICT");
    assert_string_equal(json_string_value(json_object_get(o, "phase")), "failed");
    assert_string_equal(json_string_value(json_object_get(o, "prev_hash")), GENESIS);
    const char *keys[] = {"host", "session_id", "action", "reason", "hash"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(o, keys[i]));
    json_decref(o);

    /* Invalid UTF-8 (a row edited by hand) still yields a string. */
    audit_event bad = {.action = "x\xff\xfey", .phase = "failed", .params = "{}"};
    o = audit_event_to_json(&bad);
    const char *s = json_string_value(json_object_get(o, "action"));
    assert_non_null(s);
    assert_string_equal(s, "x\xEF\xBF\xBD\xEF\xBF\xBDy");
    json_decref(o);
}

static char *export_text(audit_log *log, const audit_filter *flt, const char *format,
                         sl_code *code)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    sl_err err = {0};
    *code = audit_export(log, flt, format, mem, &err);
    fclose(mem);
    return text;
}

static void test_export_jsonl(void **state)
{
    struct fx *f = *state;
    fill_for_query(f->log);
    audit_event ev = {.operator_name = "dave",
                      .action = "restore",
                      .target = "lake/gold",
                      .params = "{\"version\":9}",
                      .reason = "line\nbreak, \"quoted\"",
                      .phase = "succeeded",
                      .before_state = "{\"version\":10}",
                      .after_state = "{\"version\":11}"};
    sl_err err = {0};
    assert_int_equal(audit_append(f->log, &ev, NULL, &err), SL_OK);

    /* newest_first in the filter is ignored: exports are oldest first. */
    audit_filter flt = {.newest_first = 1};
    sl_code c;
    char *text = export_text(f->log, &flt, "jsonl", &c);
    assert_int_equal(c, SL_OK);
    int64_t expect = 1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "id")), expect);
        assert_true(json_is_string(json_object_get(o, "time")));
        assert_true(json_is_string(json_object_get(o, "hash")));
        if (expect == 7) {
            assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(o, "params"), "version")),
                             9);
            assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(o, "after_state"), "version")),
                             11);
            assert_string_equal(json_string_value(json_object_get(o, "reason")),
                                "line\nbreak, \"quoted\"");
        }
        json_decref(o);
        expect++;
    }
    assert_int_equal(expect, 8);
    free(text);

    audit_filter only_bob = {.operator_name = "bob"};
    text = export_text(f->log, &only_bob, "jsonl", &c);
    assert_int_equal(c, SL_OK);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(text);

    text = export_text(f->log, NULL, "xml", &c);
    assert_int_equal(c, SL_USAGE);
    free(text);
}

/* A minimal RFC 4180 reader: rows of fields, quoted fields may hold commas,
 * doubled quotes and line breaks. */
struct csv {
    char ***rows;
    size_t *ncols;
    size_t nrows;
};

static void csv_parse(const char *s, struct csv *out)
{
    memset(out, 0, sizeof *out);
    sl_buf field = {0};
    char **cols = NULL;
    size_t ncols = 0;
    int quoted = 0, row_open = 0;
    for (const char *p = s; *p; p++) {
        row_open = 1;
        if (quoted) {
            if (*p == '"' && p[1] == '"') {
                buf_append_char(&field, '"');
                p++;
            } else if (*p == '"') {
                quoted = 0;
            } else {
                buf_append_char(&field, *p);
            }
            continue;
        }
        if (*p == '"') {
            quoted = 1;
        } else if (*p == ',' || *p == '\r') {
            if (*p == '\r')
                assert_int_equal(p[1], '\n');
            cols = sl_realloc(cols, (ncols + 1) * sizeof *cols);
            cols[ncols++] = sl_strdup(field.data ? field.data : "");
            buf_reset(&field);
            if (*p == '\r') {
                p++;
                out->rows = sl_realloc(out->rows, (out->nrows + 1) * sizeof *out->rows);
                out->ncols =
                    sl_realloc(out->ncols, (out->nrows + 1) * sizeof *out->ncols);
                out->rows[out->nrows] = cols;
                out->ncols[out->nrows++] = ncols;
                cols = NULL;
                ncols = 0;
                row_open = 0;
            }
        } else {
            assert_int_not_equal(*p, '\n'); /* bare LF only inside quotes */
            buf_append_char(&field, *p);
        }
    }
    assert_false(quoted);
    assert_false(row_open); /* every row ends with CRLF */
    buf_free(&field);
    free(cols);
}

static void csv_free(struct csv *c)
{
    for (size_t r = 0; r < c->nrows; r++) {
        for (size_t i = 0; i < c->ncols[r]; i++)
            free(c->rows[r][i]);
        free(c->rows[r]);
    }
    free(c->rows);
    free(c->ncols);
}

static void test_export_csv(void **state)
{
    struct fx *f = *state;
    fill_for_query(f->log);
    audit_event ev = {.operator_name = "dave",
                      .action = "restore",
                      .target = "lake/gold",
                      .params = "{\"a\":1,\"b\":\"x\"}",
                      .reason = "line\nbreak, \"quoted\"",
                      .phase = "succeeded"};
    sl_err err = {0};
    assert_int_equal(audit_append(f->log, &ev, NULL, &err), SL_OK);

    sl_code c;
    char *text = export_text(f->log, NULL, "csv", &c);
    assert_int_equal(c, SL_OK);
    struct csv csv;
    csv_parse(text, &csv);
    assert_int_equal(csv.nrows, 8);
    assert_int_equal(csv.ncols[0], 16);
    assert_string_equal(csv.rows[0][0], "id");
    assert_string_equal(csv.rows[0][2], "time");
    assert_string_equal(csv.rows[0][8], "params");
    assert_string_equal(csv.rows[0][15], "hash");
    for (size_t r = 1; r < csv.nrows; r++) {
        assert_int_equal(csv.ncols[r], 16);
        char id[24];
        snprintf(id, sizeof id, "%zu", r);
        assert_string_equal(csv.rows[r][0], id);
    }
    assert_string_equal(csv.rows[1][1], "1000");
    assert_string_equal(csv.rows[1][2], "1970-01-01T00:00:01.000Z");
    assert_string_equal(csv.rows[3][3], "bob");
    assert_string_equal(csv.rows[5][7], ""); /* NULL target */
    assert_string_equal(csv.rows[7][8], "{\"a\":1,\"b\":\"x\"}");
    assert_string_equal(csv.rows[7][9], "line\nbreak, \"quoted\"");
    assert_string_equal(csv.rows[7][10], "succeeded");
    /* The exported chain links like the database's. */
    for (size_t r = 2; r < csv.nrows; r++)
        assert_string_equal(csv.rows[r][14], csv.rows[r - 1][15]);
    assert_string_equal(csv.rows[1][14], GENESIS);
    csv_free(&csv);
    free(text);
}

static void test_chain_links_and_verify(void **state)
{
    struct fx *f = *state;
    audit_verify_result res;
    sl_err err = {0};
    /* An empty log with no head is intact. */
    assert_int_equal(audit_verify(f->log, &res, &err), SL_OK);
    assert_true(res.ok);
    assert_int_equal(res.rows, 0);

    for (int i = 0; i < 25; i++)
        add(f->log, 0, "alice", "run", "t", i % 2 ? "odd" : NULL, "requested");
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(f->log, NULL, &evs, &n, &err), SL_OK);
    assert_int_equal(n, 25);
    assert_string_equal(evs[0].prev_hash, GENESIS);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(evs[i].id, (int64_t)i + 1);
        assert_string_equal(evs[i].prev_hash, evs[i - 1].hash);
        assert_true(evs[i].ts_ms >= evs[i - 1].ts_ms);
        assert_true(is_hex64(evs[i].hash));
    }
    /* Identical content at different positions still hashes differently. */
    assert_string_not_equal(evs[2].hash, evs[4].hash);
    audit_events_free(evs, n);

    assert_int_equal(audit_verify(f->log, &res, &err), SL_OK);
    assert_true(res.ok);
    assert_int_equal(res.rows, 25);
    assert_int_equal(res.first_bad_id, 0);

    /* Reopening keeps the chain going. */
    audit_close(f->log);
    assert_int_equal(audit_open(f->path, &f->log, &err), SL_OK);
    assert_int_equal(add(f->log, 0, "bob", "run", NULL, NULL, "succeeded"), 26);
    assert_int_equal(audit_verify(f->log, &res, &err), SL_OK);
    assert_int_equal(res.rows, 26);
}

static void test_triggers_refuse_update_delete(void **state)
{
    struct fx *f = *state;
    add(f->log, 100, "alice", "run", "t", "r", "requested");
    add(f->log, 200, "alice", "run", "t", "r", "succeeded");

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(db,
                                      "UPDATE audit_events SET reason = 'x' WHERE id = 1",
                                      NULL, NULL, &msg),
                         SQLITE_OK);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(
        sqlite3_exec(db, "DELETE FROM audit_events WHERE id = 2", NULL, NULL, &msg),
        SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_events", NULL, NULL, &msg),
                         SQLITE_OK);
    sqlite3_free(msg);
    /* Phases outside the four are refused by the schema too. */
    msg = NULL;
    assert_int_not_equal(
        sqlite3_exec(
            db,
            "INSERT INTO audit_events (id, ts_ms, action, params, phase, prev_hash, "
            "hash) VALUES (3, 300, 'x', '{}', 'done', 'p', 'h')",
            NULL, NULL, &msg),
        SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(db);

    audit_event *evs = NULL;
    size_t n = 0;
    sl_err err = {0};
    assert_int_equal(audit_query(f->log, NULL, &evs, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].reason, "r");
    audit_events_free(evs, n);
    audit_verify_result res;
    assert_int_equal(audit_verify(f->log, &res, &err), SL_OK);
}

struct thread_arg {
    audit_log *log;
    const char *who;
    int failures;
};

static void *thread_append(void *p)
{
    struct thread_arg *t = p;
    for (int i = 0; i < 100; i++) {
        audit_event ev = {
            .operator_name = (char *)t->who, .action = "run", .phase = "failed"};
        sl_err err = {0};
        if (audit_append(t->log, &ev, NULL, &err) != SL_OK)
            t->failures++;
        audit_event got;
        if (audit_get(t->log, 1, &got, &err) != SL_OK)
            t->failures++;
        audit_event_clear(&got);
    }
    return NULL;
}

static void test_threads_share_a_handle(void **state)
{
    /* The console's UI and worker threads use one handle. */
    struct fx *f = *state;
    add(f->log, 0, "main", "session.open", NULL, NULL, "succeeded");
    struct thread_arg args[2] = {{f->log, "t1", 0}, {f->log, "t2", 0}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&th[k], NULL, thread_append, &args[k]), 0);
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_join(th[k], NULL), 0);
    assert_int_equal(args[0].failures, 0);
    assert_int_equal(args[1].failures, 0);
    audit_verify_result res;
    sl_err err = {0};
    assert_int_equal(audit_verify(f->log, &res, &err), SL_OK);
    assert_int_equal(res.rows, 201);
}

/* Each child appends on its own connection; returns the exit status. */
static int child_append(const char *path, const char *who, int count)
{
    audit_log *log = NULL;
    sl_err err = {0};
    if (audit_open(path, &log, &err) != SL_OK) {
        fprintf(stderr, "child %s: %s\n", who, err.msg);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        char target[64];
        snprintf(target, sizeof target, "%s-%d", who, i);
        audit_event ev = {.operator_name = (char *)who,
                          .action = "run",
                          .target = target,
                          .phase = "requested"};
        if (audit_append(log, &ev, NULL, &err) != SL_OK) {
            fprintf(stderr, "child %s append %d: %s\n", who, i, err.msg);
            rc = 1;
        }
    }
    audit_close(log);
    return rc;
}

static void test_concurrent_appenders(void **state)
{
    struct fx *f = *state;
    add(f->log, 0, "parent", "session.open", NULL, NULL, "succeeded");
    /* Children open their own connections; none is shared across fork. */
    audit_close(f->log);
    f->log = NULL;

    const char *who[2] = {"childA", "childB"};
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0)
            _exit(child_append(f->path, who[k], 200));
    }
    for (int k = 0; k < 2; k++) {
        int st = 0;
        assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }

    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &f->log, &err), SL_OK);
    audit_verify_result res;
    sl_code c = audit_verify(f->log, &res, &err);
    if (c != SL_OK)
        fprintf(stderr, "verify: %s\n", err.msg);
    assert_int_equal(c, SL_OK);
    assert_true(res.ok);
    assert_int_equal(res.rows, 401);

    for (int k = 0; k < 2; k++) {
        audit_filter flt = {.operator_name = who[k]};
        audit_event *evs = NULL;
        size_t n = 0;
        assert_int_equal(audit_query(f->log, &flt, &evs, &n, &err), SL_OK);
        assert_int_equal(n, 200);
        /* Each child's rows are in its own order. */
        for (size_t i = 0; i < n; i++) {
            char target[64];
            snprintf(target, sizeof target, "%s-%zu", who[k], i);
            assert_string_equal(evs[i].target, target);
        }
        audit_events_free(evs, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_get_roundtrip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses_bad_events, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_modes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_needs_parent_dir, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_non_database, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_query_filters, fx_setup, fx_teardown),
        cmocka_unit_test(test_event_to_json),
        cmocka_unit_test_setup_teardown(test_export_jsonl, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_export_csv, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_chain_links_and_verify, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_triggers_refuse_update_delete, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_a_handle, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appenders, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
