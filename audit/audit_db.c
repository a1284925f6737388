/* The audit database: open, schema, append-only triggers and the one
 * append path that extends the hash chain under the SQLite write lock. */
#include "audit/audit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* Long enough for the other appender to finish a commit (two fsyncs). */
#define AUDIT_BUSY_TIMEOUT_MS 10000

static const char *const audit_schema_sql =
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " operator TEXT,"
    " host TEXT,"
    " session_id TEXT,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " params TEXT NOT NULL,"
    " reason TEXT,"
    " phase TEXT NOT NULL CHECK (phase IN ('requested','succeeded','failed','refused')),"
    " before_state TEXT,"
    " after_state TEXT,"
    " error_code TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_events_ts ON audit_events(ts_ms);"
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;"
    "PRAGMA user_version = 1;";

sl_code audit_db_error(audit_log *a, sl_code code, const char *what, sl_err *err)
{
    return err_set(err, code, "audit log %s: %s: %s", a->path, what,
                   sqlite3_errmsg(a->db));
}

sl_code audit_db_exec(audit_log *a, const char *sql, sl_err *err)
{
    if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return audit_db_error(a, SL_AUDIT_DB, sql, err);
    return SL_OK;
}

/* SQLite creates the file 0644 (less umask) and gives -wal/-shm the mode of
 * the database, so creating it 0600 first keeps all three private. */
static sl_code audit_file_create(const char *path, sl_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        return err_set(err, SL_AUDIT_DB, "audit log %s: cannot create: %s%s", path,
                       strerror(e),
                       e == ENOENT ? " (the parent directory must exist)" : "");
    }
    close(fd);
    return SL_OK;
}

static sl_code audit_schema_create(audit_log *a, sl_err *err)
{
    /* journal_mode needs no transaction; it persists in the file. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(a->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return audit_db_error(a, SL_AUDIT_DB, "PRAGMA journal_mode", err);
    int rc = sqlite3_step(st);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int wal = mode && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal)
        return err_set(err, SL_AUDIT_DB, "audit log %s: cannot switch to WAL mode: %s",
                       a->path, sqlite3_errmsg(a->db));

    sl_code c = audit_db_exec(a, "BEGIN IMMEDIATE", err);
    if (c != SL_OK)
        return c;
    if (sqlite3_exec(a->db, audit_schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        c = audit_db_error(a, SL_AUDIT_DB, "creating the schema", err);
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return c;
    }
    c = audit_db_exec(a, "COMMIT", err);
    if (c != SL_OK)
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return c;
}

sl_code audit_open(const char *path, audit_log **out, sl_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(err, SL_USAGE, "audit log: no database path given");
    sl_code c = audit_file_create(path, err);
    if (c != SL_OK)
        return c;

    audit_log *a = sl_calloc(1, sizeof *a);
    a->path = sl_strdup(path);
    a->head_path = sl_asprintf("%s.head", path);
    pthread_mutex_init(&a->lock, NULL);
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        c = a->db ? audit_db_error(a, SL_AUDIT_DB, "cannot open", err)
                  : err_set(err, SL_AUDIT_DB, "audit log %s: cannot open", path);
        audit_close(a);
        return c;
    }
    sqlite3_busy_timeout(a->db, AUDIT_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(a->db, 1);
    c = audit_schema_create(a, err);
    if (c != SL_OK) {
        audit_close(a);
        return c;
    }
    *out = a;
    return SL_OK;
}

void audit_close(audit_log *a)
{
    if (!a)
        return;
    sqlite3_close(a->db);
    pthread_mutex_destroy(&a->lock);
    free(a->path);
    free(a->head_path);
    free(a);
}

const char *audit_path(const audit_log *a)
{
    return a ? a->path : NULL;
}

static int audit_phase_valid(const char *phase)
{
    static const char *const phases[] = {"requested", "succeeded", "failed", "refused"};
    for (size_t i = 0; phase && i < sizeof phases / sizeof phases[0]; i++)
        if (strcmp(phase, phases[i]) == 0)
            return 1;
    return 0;
}

/* The last row (max id) as the chain head; id 0 and the genesis hash when
 * the log is empty. Runs inside the append transaction. */
static sl_code audit_last_row(audit_log *a, int64_t *id, int64_t *ts,
                              char hash[AUDIT_HASH_HEX], sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            a->db, "SELECT id, ts_ms, hash FROM audit_events ORDER BY id DESC LIMIT 1",
            -1, &st, NULL) != SQLITE_OK)
        return audit_db_error(a, SL_AUDIT_DB, "reading the last row", err);
    int rc = sqlite3_step(st);
    sl_code c = SL_OK;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *ts = sqlite3_column_int64(st, 1);
        const char *h = (const char *)sqlite3_column_text(st, 2);
        snprintf(hash, AUDIT_HASH_HEX, "%s", h ? h : "");
    } else if (rc == SQLITE_DONE) {
        *id = 0;
        *ts = 0;
        snprintf(hash, AUDIT_HASH_HEX, "%s", AUDIT_GENESIS_HASH);
    } else {
        c = audit_db_error(a, SL_AUDIT_DB, "reading the last row", err);
    }
    sqlite3_finalize(st);
    return c;
}

static void audit_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

static sl_code audit_insert(audit_log *a, const audit_event *row, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            a->db,
            "INSERT INTO audit_events (" AUDIT_COLUMNS ") VALUES "
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            -1, &st, NULL) != SQLITE_OK)
        return audit_db_error(a, SL_AUDIT_DB, "preparing the insert", err);
    sqlite3_bind_int64(st, 1 + AUDIT_COL_ID, row->id);
    sqlite3_bind_int64(st, 1 + AUDIT_COL_TS, row->ts_ms);
    audit_bind_text(st, 1 + AUDIT_COL_OPERATOR, row->operator_name);
    audit_bind_text(st, 1 + AUDIT_COL_HOST, row->host);
    audit_bind_text(st, 1 + AUDIT_COL_SESSION, row->session_id);
    audit_bind_text(st, 1 + AUDIT_COL_ACTION, row->action);
    audit_bind_text(st, 1 + AUDIT_COL_TARGET, row->target);
    audit_bind_text(st, 1 + AUDIT_COL_PARAMS, row->params);
    audit_bind_text(st, 1 + AUDIT_COL_REASON, row->reason);
    audit_bind_text(st, 1 + AUDIT_COL_PHASE, row->phase);
    audit_bind_text(st, 1 + AUDIT_COL_BEFORE, row->before_state);
    audit_bind_text(st, 1 + AUDIT_COL_AFTER, row->after_state);
    audit_bind_text(st, 1 + AUDIT_COL_ERROR, row->error_code);
    audit_bind_text(st, 1 + AUDIT_COL_PREV_HASH, row->prev_hash);
    audit_bind_text(st, 1 + AUDIT_COL_HASH, row->hash);
    sl_code c = SL_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        c = audit_db_error(a, SL_AUDIT_DB, "inserting the event", err);
    sqlite3_finalize(st);
    return c;
}

/* Everything between BEGIN IMMEDIATE and COMMIT: the write lock is held,
 * so the last row read here is the one this row chains to. */
static sl_code audit_append_locked(audit_log *a, const audit_event *ev, audit_event *row,
                                   char prev[AUDIT_HASH_HEX], char hash[AUDIT_HASH_HEX],
                                   sl_err *err)
{
    int64_t last_id = 0, last_ts = 0;
    sl_code c = audit_last_row(a, &last_id, &last_ts, prev, err);
    if (c != SL_OK)
        return c;
    if (ev->ts_ms == 0) {
        /* A clock stepped back must not look like rows out of order. */
        int64_t now = time_now_ms();
        row->ts_ms = now < last_ts ? last_ts : now;
    } else if (ev->ts_ms < last_ts) {
        return err_set(err, SL_USAGE,
                       "audit log %s: event time %lld is before the last row's (%lld)",
                       a->path, (long long)ev->ts_ms, (long long)last_ts);
    }
    row->id = last_id + 1;
    row->prev_hash = prev;
    audit_hash_event(row, prev, hash);
    row->hash = hash;
    return audit_insert(a, row, err);
}

/* One transaction: BEGIN IMMEDIATE, chain to the last row, insert, move the
 * head, COMMIT. The head is written before COMMIT while the write lock is
 * held, so no other appender can leave a stale head behind. */
static sl_code audit_append_txn(audit_log *a, const audit_event *ev, audit_event *row,
                                char prev[AUDIT_HASH_HEX], char hash[AUDIT_HASH_HEX],
                                sl_err *err)
{
    sl_code c = audit_db_exec(a, "BEGIN IMMEDIATE", err);
    if (c != SL_OK)
        return c;
    c = audit_append_locked(a, ev, row, prev, hash, err);
    /* The previous head, read under the lock, to put back if COMMIT fails.
     * A malformed head is overwritten: verify still reports the chain. */
    int found = 0;
    int64_t head_id = 0;
    char head_hash[AUDIT_HASH_HEX] = "";
    if (c == SL_OK &&
        audit_head_read(a->head_path, &found, &head_id, head_hash, NULL) != SL_OK)
        found = 0;
    if (c == SL_OK)
        c = audit_head_write(a->head_path, row->id, hash, err);
    if (c != SL_OK) {
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        return c;
    }
    if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        c = audit_db_error(a, SL_AUDIT_DB, "committing the event", err);
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        audit_head_restore(a->head_path, found, head_id, head_hash);
    }
    return c;
}

sl_code audit_append(audit_log *a, const audit_event *ev, int64_t *id_out, sl_err *err)
{
    if (id_out)
        *id_out = 0;
    if (!ev->action || !*ev->action)
        return err_set(err, SL_USAGE, "audit log %s: an event needs an action", a->path);
    if (!audit_phase_valid(ev->phase))
        return err_set(
            err, SL_USAGE,
            "audit log %s: phase '%s' is not requested|succeeded|failed|refused", a->path,
            ev->phase ? ev->phase : "(null)");

    /* A shallow copy: the strings stay the caller's, stored exactly as given. */
    audit_event row = *ev;
    if (!row.params)
        row.params = "{}";
    char prev[AUDIT_HASH_HEX], hash[AUDIT_HASH_HEX];
    pthread_mutex_lock(&a->lock);
    sl_code c = audit_append_txn(a, ev, &row, prev, hash, err);
    pthread_mutex_unlock(&a->lock);
    if (c == SL_OK && id_out)
        *id_out = row.id;
    return c;
}
