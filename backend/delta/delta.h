#ifndef SLUICE_DELTA_DELTA_H
#define SLUICE_DELTA_DELTA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/store/store.h"
#include "backend/util/err.h"

/* Reading a Delta table's transaction log (PROTOCOL.md of delta-io/delta):
 * listing, replay into a snapshot, history from commitInfo. Operations that
 * write (restore, vacuum, ...) live in their own files and never in here.
 *
 * A table is addressed as (store, table_key): table_key is the key prefix of
 * the table root inside the store ("" when the store is opened on the table
 * root itself, else e.g. "bronze/orders"), without a trailing slash. */

/* One live data file of a snapshot, reconciled by (path, deletion vector id). */
typedef struct delta_file {
    /* Strings are owned by the snapshot (freed with it, never alone). */
    char *path;             /* add.path as written (URI-encoded) */
    char *dv_id;            /* storageType + pathOrInlineDv (+ "@" offset), NULL without DV */
    int64_t size;
    int64_t modification_time;
    int64_t num_records;    /* stats.numRecords, else the data file's Parquet footer
                             * (snapshots); -1 when neither is available */
    int64_t dv_cardinality; /* rows deleted by the DV; 0 without DV */
    /* Private: the whole add action's body, unknown fields kept, is read
     * with delta_file_add() or delta_file_add_text(). A JSON commit's add
     * keeps its text as written (add_text); an add from a checkpoint keeps a
     * row of the checkpoint's decoded columns (add_batch, add_rec) and its
     * text is written on demand: building 100k texts or JSON trees up front
     * would dominate the snapshot of a 100k-file table. */
    const char *add_text;
    struct delta_cp_batch *add_batch;
    uint32_t add_rec;
} delta_file;

/* The add action's body: a new reference (json_decref it); NULL only if the
 * text is not valid JSON or cannot be rebuilt, which replay has already
 * ruled out. Safe to call from several threads on one snapshot. */
json_t *delta_file_add(const delta_file *f);
/* The same as JSON text (for commits that copy the action); caller frees. */
char *delta_file_add_text(const delta_file *f);

/* A remove kept for VACUUM's retention checks. */
typedef struct delta_tombstone {
    char *path;
    char *dv_id;
    int64_t deletion_timestamp; /* -1 when absent */
    char *remove_json;          /* the remove action's body as written */
} delta_tombstone;

/* remove_json parsed: a new reference (json_decref it). */
json_t *delta_tombstone_remove(const delta_tombstone *t);

typedef struct delta_snapshot {
    int64_t version;
    int64_t timestamp_ms;   /* commit time of `version` (commitInfo.timestamp, else file mtime) */
    json_t *protocol;       /* the protocol action's body (owned) */
    json_t *metadata;       /* the metaData action's body (owned) */
    delta_file *files;      /* sorted by path */
    size_t nfiles;
    delta_tombstone *tombstones;
    size_t ntombstones;
    json_t *txns;           /* object appId -> txn body (owned) */
    json_t *domains;        /* object domain -> domainMetadata body, removed ones dropped (owned) */
    int64_t num_rows;       /* sum(numRecords) - sum(DV cardinality); -1 when any file's
                             * count is unknown (no stats and no readable footer) */
    int64_t size_bytes;
    int64_t checkpoint_version; /* the checkpoint it was built from; -1: JSON commits only */
    size_t rows_from_footers;   /* files without stats counted from their Parquet footer */
    size_t rows_unknown_files;  /* files without stats whose data file is missing/unreadable */
    /* Private: owns the strings of files[] and tombstones[] (paths, DV ids,
     * action texts) and the checkpoint columns adds are kept in; freed by
     * delta_snapshot_free. */
    struct delta_arena *arena;
} delta_snapshot;

typedef enum delta_at_kind { DELTA_AT_LATEST, DELTA_AT_VERSION, DELTA_AT_TIMESTAMP } delta_at_kind;

typedef struct delta_at {
    delta_at_kind kind;
    int64_t version;      /* DELTA_AT_VERSION */
    int64_t timestamp_ms; /* DELTA_AT_TIMESTAMP: newest commit at or before it */
} delta_at;

/* Built from the newest complete checkpoint at or before the version (classic,
 * multi-part or v2 with sidecars; _last_checkpoint is not trusted) plus the
 * JSON commits after it; files without stats get their row count from their
 * Parquet footer.
 * Errors: SL_DELTA_NOT_A_TABLE, SL_DELTA_GAP (names the missing version),
 * SL_DELTA_UNSUPPORTED_FEATURE (names the feature or reader version),
 * SL_DELTA_CORRUPT_LOG (names file and line), SL_DELTA_VERSION_NOT_FOUND,
 * SL_PARQUET_* / SL_STORE_* naming an unreadable checkpoint file. Never a
 * wrong answer. */
sl_code delta_snapshot_open(store *s, const char *table_key, const delta_at *at,
                            delta_snapshot **out, sl_err *err);
void delta_snapshot_free(delta_snapshot *snap);
/* The `sluice snapshot --json` shape:
 * {"table","version","num_files","num_rows","size_bytes","protocol":{...},
 *  "partition_columns","schema","metadata_id","configuration"}. */
json_t *delta_snapshot_to_json(const delta_snapshot *snap, const char *table_name);

/* One version's commitInfo digest. */
typedef struct delta_commit_info {
    int64_t version;
    int64_t timestamp_ms;        /* commitInfo.timestamp, else file mtime */
    char *operation;             /* NULL when the commit has no commitInfo */
    json_t *operation_parameters; /* object, owned (never NULL) */
    json_t *operation_metrics;    /* object, owned (never NULL) */
    char *user;                  /* userName, else userId; NULL when absent */
    char *engine;                /* engineInfo, else clientVersion; NULL when absent */
    int64_t read_version;        /* -1 when absent */
    int is_blind_append;         /* 1, 0, or -1 when absent */
    size_t num_add;
    size_t num_remove;
    int has_metadata;
    int has_protocol;
    json_t *commit_info;         /* whole commitInfo, owned; NULL when absent */
} delta_commit_info;

typedef struct delta_history {
    delta_commit_info *items;    /* newest first */
    size_t n;
    int64_t latest_version;
    int64_t oldest_available;    /* oldest version whose JSON commit still exists */
} delta_history;

/* limit 0 means all available commits. */
sl_code delta_history_load(store *s, const char *table_key, size_t limit,
                           delta_history *out, sl_err *err);
void delta_history_free(delta_history *h);
/* The `sluice history --json` shape: array, newest first, of
 * {"version","timestamp","operation","operation_parameters","operation_metrics",
 *  "num_add","num_remove","user","engine","read_version","is_blind_append"}. */
json_t *delta_history_to_json(const delta_history *h);

/* All actions of one commit, in file order, as a JSON array (console
 * drill-down). */
sl_code delta_commit_read(store *s, const char *table_key, int64_t version,
                          json_t **actions_out, sl_err *err);

/* The version of the commit that carries txn(app_id, txn_version), found by
 * reading commits back from the newest, at most max_back of them, stopping
 * at one with an older txn of app_id (txn versions only grow). -1 when none
 * (also for a table with no log yet). What a resumed run uses to attribute a
 * commit made before a crash. Errors: SL_STORE_* / SL_DELTA_CORRUPT_LOG. */
sl_code delta_txn_commit_find(store *s, const char *table_key, const char *app_id,
                              int64_t txn_version, size_t max_back,
                              int64_t *version_out, sl_err *err);

/* ---- snapshot_update.c ---------------------------------------------------- */

/* Brings *snap (an open snapshot of the table, at any version) to the latest
 * version by replaying only the commits after snap->version, listed from
 * that version on: what a long-running runner calls between batches instead
 * of reopening. The result equals delta_snapshot_open at the latest version
 * (files, their add actions, tombstones, protocol, metaData, txns, domains,
 * row and size totals); *snap may be replaced by a freshly opened snapshot
 * (when a commit after it is no longer in the log, or once it is 1,000
 * commits past the checkpoint it was built from: that bounds the strings of
 * removed files it keeps). *snap NULL opens the latest. On error *snap is
 * left as it was (a valid snapshot at its old version). Errors as
 * delta_snapshot_open. */
sl_code delta_snapshot_update(store *s, const char *table_key, delta_snapshot **snap,
                              sl_err *err);

#endif
