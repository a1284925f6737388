/* Verification of the chain: every row re-hashed and linked to the one
 * before, ids consecutive from 1, and the last row matched against the head
 * file so that a truncated tail is seen too. The first bad row is named. */
#include "audit/audit_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Looking for the id a moved row was written under is a diagnosis on an
 * already broken log; bounded so a huge log cannot stall it. */
#define AUDIT_MOVED_SEARCH_MAX 2000000

_Static_assert(sizeof(((audit_verify_result *)0)->head_hash) == AUDIT_HASH_HEX,
               "audit_verify_result.head_hash holds one hex SHA-256");

struct audit_walk {
    audit_log *a;
    audit_verify_result *res;
    int64_t expect_id; /* the id the next row must have */
    int64_t prev_ts;
    char prev_hash[AUDIT_HASH_HEX]; /* stored hash of the row before */
    int64_t max_id;                 /* for the moved-row search */
};

static sl_code audit_bad(audit_verify_result *res, int64_t id, sl_err *err,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sl_code audit_bad(audit_verify_result *res, int64_t id, sl_err *err,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->problem, sizeof res->problem, fmt, ap);
    va_end(ap);
    res->ok = 0;
    res->first_bad_id = id;
    return err_set(err, SL_AUDIT_TAMPERED, "audit chain broken at row %" PRId64 ": %s",
                   id, res->problem);
}

/* A row written by sluice has INTEGER ids and times and TEXT (or NULL)
 * strings without NUL bytes; anything else was put there by hand. */
static const char *audit_row_types_bad(sqlite3_stmt *st)
{
    static const char *const names[AUDIT_COL_COUNT] = {
        "id",           "ts_ms",       "operator",   "host",      "session_id",
        "action",       "target",      "params",     "reason",    "phase",
        "before_state", "after_state", "error_code", "prev_hash", "hash"};
    for (int col = 0; col < AUDIT_COL_COUNT; col++) {
        int t = sqlite3_column_type(st, col);
        if (col == AUDIT_COL_ID || col == AUDIT_COL_TS) {
            if (t != SQLITE_INTEGER)
                return names[col];
            continue;
        }
        if (t == SQLITE_NULL)
            continue;
        if (t != SQLITE_TEXT)
            return names[col];
        const char *s = (const char *)sqlite3_column_text(st, col);
        if (!s || strlen(s) != (size_t)sqlite3_column_bytes(st, col))
            return names[col];
    }
    return NULL;
}

/* The id under which ev's content (with its stored prev_hash) hashes to its
 * stored hash, or 0 when none: a row whose content was moved to another id. */
static int64_t audit_moved_from(const struct audit_walk *w, const audit_event *ev)
{
    audit_event probe = *ev;
    int64_t last = w->max_id + 1;
    if (last > AUDIT_MOVED_SEARCH_MAX)
        last = AUDIT_MOVED_SEARCH_MAX;
    char h[AUDIT_HASH_HEX];
    for (int64_t id = 1; id <= last; id++) {
        if (id == ev->id)
            continue;
        probe.id = id;
        audit_hash_event(&probe, ev->prev_hash, h);
        if (strcmp(h, ev->hash) == 0)
            return id;
    }
    return 0;
}

static sl_code audit_check_row(struct audit_walk *w, sqlite3_stmt *st, sl_err *err)
{
    int64_t id = sqlite3_column_int64(st, AUDIT_COL_ID);
    if (id > w->expect_id) {
        if (id - w->expect_id == 1)
            return audit_bad(w->res, w->expect_id, err,
                             "row %" PRId64 " is missing (deleted)", w->expect_id);
        return audit_bad(w->res, w->expect_id, err,
                         "rows %" PRId64 "..%" PRId64 " are missing (deleted)",
                         w->expect_id, id - 1);
    }
    if (id < w->expect_id)
        return audit_bad(w->res, id, err,
                         "row %" PRId64 " is not part of the chain (ids start at 1)", id);
    const char *bad_col = audit_row_types_bad(st);
    if (bad_col)
        return audit_bad(w->res, id, err,
                         "row %" PRId64
                         " was edited (column %s holds a value sluice never writes)",
                         id, bad_col);

    audit_event ev;
    audit_event_from_row(st, &ev);
    sl_code c = SL_OK;
    char h[AUDIT_HASH_HEX];
    audit_hash_event(&ev, ev.prev_hash, h);
    if (!ev.hash || !ev.prev_hash || strcmp(h, ev.hash) != 0) {
        int64_t from = ev.hash && ev.prev_hash ? audit_moved_from(w, &ev) : 0;
        if (from)
            c = audit_bad(w->res, id, err,
                          "row %" PRId64 " holds the content of row %" PRId64
                          " (rows re-ordered or inserted out of order)",
                          id, from);
        else
            c = audit_bad(
                w->res, id, err,
                "row %" PRId64 " was edited (its content does not match its hash)", id);
    } else if (strcmp(ev.prev_hash, w->prev_hash) != 0) {
        c = audit_bad(
            w->res, id, err,
            "row %" PRId64 " does not follow row %" PRId64
            " (its prev_hash links elsewhere: rows re-ordered or inserted out of order)",
            id, id - 1);
    } else if (ev.ts_ms < w->prev_ts) {
        c = audit_bad(w->res, id, err,
                      "row %" PRId64 " is out of order (its time is before row %" PRId64
                      "'s)",
                      id, id - 1);
    } else {
        snprintf(w->prev_hash, sizeof w->prev_hash, "%s", ev.hash);
        w->prev_ts = ev.ts_ms;
        w->expect_id = id + 1;
        w->res->rows++;
    }
    audit_event_clear(&ev);
    return c;
}

static sl_code audit_walk_rows(struct audit_walk *w, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->a->db, "SELECT max(id) FROM audit_events", -1, &st, NULL) !=
        SQLITE_OK)
        return audit_db_error(w->a, SL_AUDIT_DB, "reading the last id", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        w->max_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    if (sqlite3_prepare_v2(w->a->db,
                           "SELECT " AUDIT_COLUMNS " FROM audit_events ORDER BY id", -1,
                           &st, NULL) != SQLITE_OK)
        return audit_db_error(w->a, SL_AUDIT_DB, "reading the rows", err);
    sl_code c = SL_OK;
    int rc = SQLITE_DONE;
    while (c == SL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        c = audit_check_row(w, st, err);
    if (c == SL_OK && rc != SQLITE_DONE)
        c = audit_db_error(w->a, SL_AUDIT_DB, "reading the rows", err);
    sqlite3_finalize(st);
    return c;
}

/* The chain is intact up to expect_id - 1; now the head must agree. */
static sl_code audit_check_head(struct audit_walk *w, sl_err *err)
{
    audit_log *a = w->a;
    int64_t last = w->expect_id - 1;
    int found = 0;
    int64_t head_id = 0;
    char head_hash[AUDIT_HASH_HEX];
    sl_err herr = {0};
    sl_code c = audit_head_read(a->head_path, &found, &head_id, head_hash, &herr);
    if (c == SL_AUDIT_TAMPERED)
        return audit_bad(w->res, last > 0 ? last : 1, err,
                         "the head file %s is malformed", a->head_path);
    if (c != SL_OK) {
        if (err)
            *err = herr;
        return c;
    }
    if (!found) {
        if (last == 0)
            return SL_OK;
        return audit_bad(w->res, last, err,
                         "the head file %s is missing, so the tail after row %" PRId64
                         " cannot be proven complete",
                         a->head_path, last);
    }
    if (head_id > last) {
        if (head_id == last + 1)
            return audit_bad(w->res, last + 1, err,
                             "row %" PRId64
                             " is missing: the log ends before the head (tail "
                             "truncated)",
                             last + 1);
        return audit_bad(w->res, last + 1, err,
                         "rows %" PRId64 "..%" PRId64
                         " are missing: the log ends before the head (tail truncated)",
                         last + 1, head_id);
    }
    if (head_id < last)
        return audit_bad(w->res, head_id + 1, err,
                         "row %" PRId64 " is past the head (row %" PRId64
                         "): rows were added outside sluice or the head was replaced",
                         head_id + 1, head_id);
    if (strcmp(head_hash, w->prev_hash) != 0)
        return audit_bad(w->res, last, err,
                         "row %" PRId64
                         " does not match the hash in the head file (the log was "
                         "rewritten)",
                         last);
    return SL_OK;
}

sl_code audit_verify(audit_log *a, audit_verify_result *res, sl_err *err)
{
    memset(res, 0, sizeof *res);
    struct audit_walk w = {.a = a, .res = res, .expect_id = 1};
    snprintf(w.prev_hash, sizeof w.prev_hash, "%s", AUDIT_GENESIS_HASH);

    /* The write lock keeps appenders out, whose head file runs one row
     * ahead of the database until they commit. */
    pthread_mutex_lock(&a->lock);
    int rc = sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK && (rc & 0xff) == SQLITE_READONLY)
        rc = sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL);
    sl_code c = SL_OK;
    if (rc != SQLITE_OK) {
        c = audit_db_error(a, SL_AUDIT_DB, "starting verification", err);
    } else {
        c = audit_walk_rows(&w, err);
        if (c == SL_OK)
            c = audit_check_head(&w, err);
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&a->lock);
    if (c == SL_OK) {
        res->ok = 1;
        res->head_id = w.expect_id - 1;
        if (res->head_id > 0)
            snprintf(res->head_hash, sizeof res->head_hash, "%s", w.prev_hash);
    }
    return c;
}
