#ifndef SLUICE_AUDIT_AUDIT_INTERNAL_H
#define SLUICE_AUDIT_AUDIT_INTERNAL_H

/* Private to audit/: the handle, the column list shared by every SELECT,
 * the canonical row hash and the head file. */

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "audit/audit.h"

struct audit_log {
    sqlite3 *db;
    char *path;      /* the database file */
    char *head_path; /* PATH.head: "<last id> <last hash>\n" */
    /* The console's UI and worker threads may share one handle; a
     * transaction (BEGIN..COMMIT) must not interleave with another call. */
    pthread_mutex_t lock;
};

/* Hex SHA-256 plus NUL. */
#define AUDIT_HASH_HEX 65
/* prev_hash of the first row. */
#define AUDIT_GENESIS_HASH                                                               \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* Every SELECT reads the columns in this order so audit_event_from_row can
 * decode any of them. */
#define AUDIT_COLUMNS                                                                    \
    "id, ts_ms, operator, host, session_id, action, target, params, reason, phase, "     \
    "before_state, after_state, error_code, prev_hash, hash"
enum {
    AUDIT_COL_ID,
    AUDIT_COL_TS,
    AUDIT_COL_OPERATOR,
    AUDIT_COL_HOST,
    AUDIT_COL_SESSION,
    AUDIT_COL_ACTION,
    AUDIT_COL_TARGET,
    AUDIT_COL_PARAMS,
    AUDIT_COL_REASON,
    AUDIT_COL_PHASE,
    AUDIT_COL_BEFORE,
    AUDIT_COL_AFTER,
    AUDIT_COL_ERROR,
    AUDIT_COL_PREV_HASH,
    AUDIT_COL_HASH,
    AUDIT_COL_COUNT
};

/* audit_db.c */
sl_code audit_db_error(audit_log *a, sl_code code, const char *what, sl_err *err);
/* Runs one statement without results (BEGIN, COMMIT, ...). */
sl_code audit_db_exec(audit_log *a, const char *sql, sl_err *err);

/* audit_hash.c: hash over the canonical serialisation of every column of ev
 * (id and ts_ms included, NULL distinct from "") followed by prev_hash. */
void audit_hash_event(const audit_event *ev, const char *prev_hash,
                      char out[AUDIT_HASH_HEX]);
/* Head file: *found is 0 when the file does not exist. A file that exists
 * but does not parse returns SL_AUDIT_TAMPERED. */
sl_code audit_head_read(const char *head_path, int *found, int64_t *id,
                        char hash[AUDIT_HASH_HEX], sl_err *err);
/* Atomic replace (temp + fsync + rename + fsync dir), mode 0600. */
sl_code audit_head_write(const char *head_path, int64_t id, const char *hash,
                         sl_err *err);
/* Puts back what audit_head_read saw (removes the file when !found). */
void audit_head_restore(const char *head_path, int found, int64_t id, const char *hash);

/* audit_query.c: decodes the AUDIT_COLUMNS of the current row into out
 * (owned strings). */
void audit_event_from_row(sqlite3_stmt *st, audit_event *out);
/* Calls fn for each row matching f (NULL: all) in f's order; fn may take
 * the strings over by zeroing *ev. Stops at the first non-OK code. */
sl_code audit_query_each(audit_log *a, const audit_filter *f,
                         sl_code (*fn)(audit_event *ev, void *ctx, sl_err *err),
                         void *ctx, sl_err *err);

#endif
