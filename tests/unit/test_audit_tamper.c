/* Tampering as an attacker would do it: with the sqlite3 command-line tool
 * on the database file (triggers dropped first), or on the head file. Each
 * case must fail verification and name the exact first bad row. */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_internal.h"
#include "backend/util/buf.h"

#define NROWS 10

struct fx {
    char *dir;
    char *path;
    char *head;
};

static int have_cli = -1;

static int fx_setup(void **state)
{
    struct fx *f = sl_calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("audit-tamper");
    f->path = sl_asprintf("%s/audit.db", f->dir);
    f->head = sl_asprintf("%s.head", f->path);
    audit_log *log = NULL;
    sl_err err = {0};
    if (audit_open(f->path, &log, &err) != SL_OK)
        return -1;
    for (int i = 1; i <= NROWS; i++) {
        char target[64];
        snprintf(target, sizeof target, "lake/t%d", i);
        audit_event ev = {.ts_ms = 1700000000000 + i * 1000,
                          .operator_name = "alice",
                          .host = "h",
                          .session_id = "s",
                          .action = i % 3 ? "run" : "restore",
                          .target = i == 3 ? NULL : target,
                          .reason = "incident 42",
                          .phase = i % 2 ? "requested" : "succeeded"};
        if (audit_append(log, &ev, NULL, &err) != SL_OK)
            return -1;
    }
    audit_close(log);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f->head);
    free(f);
    return 0;
}

/* Runs SQL on the file with the triggers dropped: through the sqlite3 CLI
 * when installed (the way a person would), else through the C API. */
static void tamper(const struct fx *f, const char *sql)
{
    char *full = sl_asprintf("DROP TRIGGER IF EXISTS audit_events_no_update;"
                             "DROP TRIGGER IF EXISTS audit_events_no_delete;%s",
                             sql);
    if (have_cli < 0)
        have_cli = tu_run("command -v sqlite3 >/dev/null 2>&1", NULL) == 0;
    if (have_cli) {
        char *cmd = sl_asprintf("sqlite3 -bail '%s' \"%s\" 2>&1", f->path, full);
        char *out = NULL;
        int rc = tu_run(cmd, &out);
        if (rc != 0)
            fprintf(stderr, "%s\n-> %s\n", cmd, out ? out : "");
        assert_int_equal(rc, 0);
        free(out);
        free(cmd);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        char *msg = NULL;
        int rc = sqlite3_exec(db, full, NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            fprintf(stderr, "%s -> %s\n", full, msg ? msg : "");
        assert_int_equal(rc, SQLITE_OK);
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    free(full);
}

/* Opens the log, verifies, and checks the verdict names row bad_id. */
static void expect_tampered(const struct fx *f, int64_t bad_id, const char *words)
{
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &log, &err), SL_OK);
    audit_verify_result res;
    sl_code c = audit_verify(log, &res, &err);
    audit_close(log);
    printf("  verify: %s\n", err.msg);
    assert_int_equal(c, SL_AUDIT_TAMPERED);
    assert_int_equal(err.code, SL_AUDIT_TAMPERED);
    assert_false(res.ok);
    assert_int_equal(res.first_bad_id, bad_id);
    char *prefix = sl_asprintf("audit chain broken at row %lld: ", (long long)bad_id);
    assert_int_equal(strncmp(err.msg, prefix, strlen(prefix)), 0);
    assert_string_equal(err.msg + strlen(prefix), res.problem);
    free(prefix);
    if (words && !strstr(res.problem, words)) {
        fprintf(stderr, "problem '%s' lacks '%s'\n", res.problem, words);
        fail();
    }
}

static void expect_intact(const struct fx *f, int64_t rows)
{
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &log, &err), SL_OK);
    audit_verify_result res;
    sl_code c = audit_verify(log, &res, &err);
    audit_close(log);
    if (c != SL_OK)
        fprintf(stderr, "verify: %s\n", err.msg);
    assert_int_equal(c, SL_OK);
    assert_true(res.ok);
    assert_int_equal(res.rows, rows);
    assert_int_equal(res.first_bad_id, 0);
}

/* Reads row id, lets edit() change it, recomputes its hash as a forger who
 * knows the algorithm would, and writes it back. Returns the new hash. */
static char *forge_row(const struct fx *f, int64_t id, void (*edit)(audit_event *ev))
{
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &log, &err), SL_OK);
    audit_event ev;
    assert_int_equal(audit_get(log, id, &ev, &err), SL_OK);
    audit_close(log);
    edit(&ev);
    char h[AUDIT_HASH_HEX];
    audit_hash_event(&ev, ev.prev_hash, h);
    char *sql =
        sl_asprintf("UPDATE audit_events SET ts_ms = %lld, reason = '%s', "
                    "prev_hash = '%s', hash = '%s' WHERE id = %lld;",
                    (long long)ev.ts_ms, ev.reason, ev.prev_hash, h, (long long)id);
    tamper(f, sql);
    free(sql);
    audit_event_clear(&ev);
    return sl_strdup(h);
}

static void write_head(const struct fx *f, const char *text)
{
    FILE *fp = fopen(f->head, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_clean_log_is_intact(void **state)
{
    expect_intact(*state, NROWS);
}

static void test_edit_reason(void **state)
{
    tamper(*state, "UPDATE audit_events SET reason = 'nothing to see' WHERE id = 4;");
    expect_tampered(*state, 4, "edited");
}

static void test_edit_timestamp(void **state)
{
    tamper(*state, "UPDATE audit_events SET ts_ms = ts_ms + 1 WHERE id = 7;");
    expect_tampered(*state, 7, "edited");
}

static void test_edit_null_to_empty(void **state)
{
    /* Row 3's target is NULL; "" must not hash the same. */
    tamper(*state, "UPDATE audit_events SET target = '' WHERE id = 3;");
    expect_tampered(*state, 3, "edited");
}

static void test_edit_type_only(void **state)
{
    /* Same bytes, stored as a BLOB: not something sluice writes. */
    tamper(*state, "UPDATE audit_events SET reason = CAST(reason AS BLOB) WHERE id = 2;");
    expect_tampered(*state, 2, "edited");
}

static void test_edit_two_rows_names_first(void **state)
{
    tamper(*state, "UPDATE audit_events SET phase = 'failed' WHERE id IN (6, 9);");
    expect_tampered(*state, 6, "edited");
}

static void test_delete_middle_row(void **state)
{
    tamper(*state, "DELETE FROM audit_events WHERE id = 5;");
    expect_tampered(*state, 5, "row 5 is missing");
}

static void test_delete_first_rows(void **state)
{
    tamper(*state, "DELETE FROM audit_events WHERE id <= 2;");
    expect_tampered(*state, 1, "rows 1..2 are missing");
}

static void test_swap_two_rows(void **state)
{
    tamper(*state, "UPDATE audit_events SET id = -1 WHERE id = 3;"
                   "UPDATE audit_events SET id = 3 WHERE id = 6;"
                   "UPDATE audit_events SET id = 6 WHERE id = -1;");
    expect_tampered(*state, 3, "holds the content of row 6");
}

static void test_swap_adjacent_contents(void **state)
{
    /* Contents swapped, ids kept: every column but id moves. */
    tamper(*state,
           "CREATE TEMP TABLE r AS SELECT * FROM audit_events WHERE id IN (4, 5);"
           "UPDATE audit_events SET (ts_ms, operator, host, session_id, action, target, "
           "params,"
           " reason, phase, before_state, after_state, error_code, prev_hash, hash) ="
           " (SELECT ts_ms, operator, host, session_id, action, target, params, reason, "
           "phase,"
           " before_state, after_state, error_code, prev_hash, hash FROM r"
           " WHERE r.id = 9 - audit_events.id) WHERE id IN (4, 5);");
    expect_tampered(*state, 4, "holds the content of row 5");
}

static void test_insert_copy_at_end(void **state)
{
    struct fx *f = *state;
    /* A replayed copy of row 2 as a new row 11, head moved along. */
    tamper(
        f,
        "INSERT INTO audit_events SELECT 11, ts_ms, operator, host, session_id,"
        " action, target, params, reason, phase, before_state, after_state, error_code,"
        " prev_hash, hash FROM audit_events WHERE id = 2;");
    expect_tampered(f, 11, "holds the content of row 2");
}

static void test_truncate_tail(void **state)
{
    tamper(*state, "DELETE FROM audit_events WHERE id >= 8;");
    expect_tampered(*state, 8, "truncated");
}

static void test_truncate_last_row(void **state)
{
    tamper(*state, "DELETE FROM audit_events WHERE id = 10;");
    expect_tampered(*state, 10, "row 10 is missing");
}

static void test_truncate_everything(void **state)
{
    tamper(*state, "DELETE FROM audit_events;");
    expect_tampered(*state, 1, "rows 1..10 are missing");
}

static void test_head_deleted(void **state)
{
    struct fx *f = *state;
    assert_int_equal(unlink(f->head), 0);
    expect_tampered(f, NROWS, "head file");
}

static void test_head_malformed(void **state)
{
    struct fx *f = *state;
    write_head(f, "10 not-a-hash\n");
    expect_tampered(f, NROWS, "malformed");
}

static void test_head_rolled_back(void **state)
{
    struct fx *f = *state;
    /* An old head (row 9) beside a full log: row 10 is unaccounted for. */
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &log, &err), SL_OK);
    audit_event ev;
    assert_int_equal(audit_get(log, 9, &ev, &err), SL_OK);
    audit_close(log);
    char *text = sl_asprintf("9 %s\n", ev.hash);
    write_head(f, text);
    free(text);
    audit_event_clear(&ev);
    expect_tampered(f, 10, "past the head");
}

static void edit_reason(audit_event *ev)
{
    free(ev->reason);
    ev->reason = sl_strdup("forged");
}

static void test_forged_last_row_caught_by_head(void **state)
{
    /* The row is self-consistent and links to row 9; only the head knows. */
    char *h = forge_row(*state, 10, edit_reason);
    free(h);
    expect_tampered(*state, 10, "head");
}

static void move_ts_back(audit_event *ev)
{
    ev->ts_ms -= 5000;
}

static void test_time_going_backwards(void **state)
{
    struct fx *f = *state;
    /* A forged last row with a valid hash and a head to match, but a time
     * before row 9's: it was inserted out of order. */
    char *h = forge_row(f, 10, move_ts_back);
    char *text = sl_asprintf("10 %s\n", h);
    write_head(f, text);
    free(text);
    free(h);
    expect_tampered(f, 10, "out of order");
}

static void relink(audit_event *ev)
{
    free(ev->prev_hash);
    ev->prev_hash = sl_strdup(AUDIT_GENESIS_HASH);
}

static void test_broken_link_with_valid_hash(void **state)
{
    /* Row 6 re-hashed over a different prev_hash: its own hash checks out,
     * the link to row 5 does not. */
    char *h = forge_row(*state, 6, relink);
    free(h);
    expect_tampered(*state, 6, "does not follow row 5");
}

static void test_appends_after_tamper_keep_failing(void **state)
{
    struct fx *f = *state;
    tamper(f, "UPDATE audit_events SET operator = 'mallory' WHERE id = 2;");
    /* New rows chain on, but the evidence stays. */
    audit_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(audit_open(f->path, &log, &err), SL_OK);
    audit_event ev = {.action = "audit.note", .phase = "succeeded"};
    int64_t id = 0;
    assert_int_equal(audit_append(log, &ev, &id, &err), SL_OK);
    assert_int_equal(id, 11);
    audit_close(log);
    expect_tampered(f, 2, "edited");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_clean_log_is_intact),
        T(test_edit_reason),
        T(test_edit_timestamp),
        T(test_edit_null_to_empty),
        T(test_edit_type_only),
        T(test_edit_two_rows_names_first),
        T(test_delete_middle_row),
        T(test_delete_first_rows),
        T(test_swap_two_rows),
        T(test_swap_adjacent_contents),
        T(test_insert_copy_at_end),
        T(test_truncate_tail),
        T(test_truncate_last_row),
        T(test_truncate_everything),
        T(test_head_deleted),
        T(test_head_malformed),
        T(test_head_rolled_back),
        T(test_forged_last_row_caught_by_head),
        T(test_time_going_backwards),
        T(test_broken_link_with_valid_hash),
        T(test_appends_after_tamper_keep_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
