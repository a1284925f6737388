#ifndef SLUICE_DELTA_DELTA_WRITE_H
#define SLUICE_DELTA_DELTA_WRITE_H

/* The write side of a Delta table: one commit path (commit.c) that every
 * operation goes through, the writer protocol check, commitInfo, and table
 * creation/append. Operations (restore, vacuum, optimize) build their
 * actions from a snapshot and hand them to delta_commit, which owns the
 * only-if-absent creation of NNN.json, conflict checks and retries. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/parquet/pq_writer.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* ---- write_protocol.c ------------------------------------------------- */

/* May sluice write to a table with this protocol and metaData (bodies of
 * the actions)? New tables are (1,2). Reader <= 1 (or 2 with column mapping
 * mode none) and writer <= 2 are accepted; writer 3..7 only when every
 * writer feature (legacy versions imply theirs) is one we honour
 * (appendOnly, changeDataFeed: we only add/remove whole files; timestampNtz)
 * or provably inactive (invariants, checkConstraints, generatedColumns,
 * identityColumns, columnMapping mode none, domainMetadata without
 * clustering). Everything else (deletionVectors, rowTracking, clustering,
 * v2Checkpoint, unknown) is SL_DELTA_UNSUPPORTED_FEATURE naming it.
 * `where` names the table in messages. */
sl_code delta_write_protocol_check(const json_t *protocol, const json_t *metadata,
                                   const char *where, sl_err *err);

/* ---- commit_info.c ---------------------------------------------------- */

/* What the commit says about itself. Borrowed; may be zero-initialised
 * except for operation. */
typedef struct delta_commit_meta {
    const char *operation;        /* "WRITE", "CREATE TABLE", "RESTORE", ... */
    json_t *operation_parameters; /* object or NULL; copied as given */
    json_t *operation_metrics;    /* object or NULL; values become strings */
    const char *isolation_level;  /* NULL: "Serializable" */
    const char *operator_name;    /* userMetadata.operator; NULL: $SLUICE_OPERATOR,
                                   * else $USER */
    const char *run_id;           /* userMetadata.runId, omitted when NULL */
    const char *audit_event_id;   /* userMetadata.auditEventId, omitted when NULL */
} delta_commit_meta;

/* The commitInfo body in Spark's shape: timestamp, operation,
 * operationParameters, readVersion (omitted when read_version < 0),
 * isolationLevel, isBlindAppend, operationMetrics (strings), engineInfo
 * "sluice/X.Y.Z", txnId, userMetadata (a JSON string holding operator, run
 * id and audit event id). New reference. */
json_t *delta_commit_info_build(const delta_commit_meta *m, int64_t timestamp_ms,
                                int64_t read_version, int is_blind_append,
                                const char *txn_id);

/* ---- commit.c: the one commit path ------------------------------------ */

typedef struct delta_commit_req {
    delta_commit_meta meta;
    /* The snapshot the actions were computed from; NULL creates the table
     * (the commit goes to version 0 and must bring protocol and metaData). */
    const delta_snapshot *read_snap;
    /* Actions without commitInfo (protocol, metaData, add, remove, txn,
     * cdc, domainMetadata, ...); written in this order after commitInfo,
     * fields kept as given. Borrowed array of objects. */
    json_t *actions;
    /* Data files (add.path as in the log) whose content the operation read;
     * a concurrent remove of one of them is a conflict. Files we remove
     * count as read without being listed. */
    const char *const *read_paths;
    size_t nread_paths;
    /* The result depends on the whole table (RESTORE, a rewrite): any
     * concurrent data change (add or remove with dataChange true) is a
     * conflict. Commits that change metaData or protocol imply it. */
    int read_all;
    /* Attempts at a new version before giving up with SL_DELTA_CONFLICT
     * (0: 1000). Each lost race re-reads only the winners' commits. */
    int max_attempts;
    /* 1: no checkpoint after the commit even when delta.checkpointInterval
     * says one is due (a caller that writes it itself). */
    int no_checkpoint;
} delta_commit_req;

/* Whether a writer holding the table's snapshot should checkpoint after
 * committing `version`: Delta's every-delta.checkpointInterval rule, and,
 * unless the table sets that interval itself, not before the commits since
 * last_checkpoint (-1: none) number a 32nd of the nfiles live files (at most
 * 1,000), so a checkpoint costs each commit a constant share of a large
 * table (checkpoint_policy.c). */
bool delta_checkpoint_due_sized(const json_t *metadata, int64_t version,
                                int64_t last_checkpoint, size_t nfiles);

typedef struct delta_commit_result {
    int64_t version; /* the version this commit became */
    int attempts;    /* 1 when the first try won */
    char txn_id[37]; /* commitInfo.txnId */
    /* After every delta.checkpointInterval commits (default 10) a classic
     * checkpoint follows the commit. Its failure does not undo the commit
     * (the table stays readable from the JSON log): it is reported here. */
    int checkpoint_written;
    sl_err checkpoint_err; /* code SL_OK unless the checkpoint failed */
} delta_commit_result;

/* Checks the writer protocol (of read_snap and of any protocol/metaData in
 * the actions), delta.appendOnly (removes with dataChange are
 * SL_DELTA_APPEND_ONLY), then creates NNN.json only if absent at
 * read_snap->version + 1. On a lost race the winners' commits are read:
 * blind appends against appends retry at the next version; a winner that
 * removes a file we read or remove, changes metaData or protocol, commits a
 * txn with one of our appIds, or changes data while we read_all, is
 * SL_DELTA_CONFLICT naming the version and the reason. Creating a table
 * (read_snap NULL) where version 0 exists is SL_DELTA_TABLE_EXISTS. Never
 * overwrites a log entry. When the new version is due a checkpoint, writes
 * it (checkpoint_write.h) after the commit. */
sl_code delta_commit(store *s, const char *table_key, const delta_commit_req *req,
                     delta_commit_result *out, sl_err *err);

/* Deletes the data files named by the {"add": ...} actions of a commit that
 * did not happen (nothing refers to them). Never call it after
 * SL_DELTA_COMMIT_UNKNOWN: that commit may exist. */
void delta_adds_delete(store *s, const char *table_key, const json_t *adds);

/* The key of a commit file: "<table_key>/_delta_log/%020lld.json". Caller
 * frees. */
char *delta_commit_key(const char *table_key, int64_t version);

/* ---- table_write.c: create and append --------------------------------- */

/* The Delta type name of a Parquet writer type ("long", "decimal(10,2)",
 * "timestamp_ntz", ...) into out (at least 24 bytes); 0, or -1 when the
 * type has none. */
int delta_type_name(pq_type t, char *out, size_t outlen);

/* The table's data columns as Parquet writer types, from the metaData's
 * schemaString (all columns, partition columns included, in schema order).
 * Primitive types only; anything else is SL_DELTA_UNSUPPORTED_FEATURE
 * naming column and type. *cols_out holds names owned by the array: free
 * with delta_schema_cols_free. */
sl_code delta_schema_cols(const json_t *metadata, pq_schema_col **cols_out,
                          size_t *ncols_out, sl_err *err);
void delta_schema_cols_free(pq_schema_col *cols, size_t ncols);

typedef struct delta_table_spec {
    const pq_schema_col *cols; /* all columns, in schema order */
    size_t ncols;
    const char *const *partition_cols; /* names among cols, may be NULL */
    size_t npartition_cols;
    json_t *configuration;   /* object of string values, or NULL */
    const char *name;        /* metaData.name, may be NULL */
    const char *description; /* may be NULL */
} delta_table_spec;

/* Creates an empty table: version 0 with protocol (1,2) — (3,7) with the
 * timestampNtz feature when a column needs it — metaData and commitInfo
 * "CREATE TABLE". meta.operation may be NULL (then "CREATE TABLE"). */
sl_code delta_table_create(store *s, const char *table_key, const delta_table_spec *spec,
                           const delta_commit_meta *meta, delta_commit_result *out,
                           sl_err *err);

typedef struct delta_append_req {
    /* nrows rows of ncols values each, in the table's schema order
     * (delta_schema_cols); partition column values included. Borrowed. */
    const pq_value *rows;
    size_t nrows;
    size_t ncols; /* must equal the table's column count */
    /* Idempotent writes: with app_id set, the commit carries txn(app_id,
     * txn_version) and is skipped when the table's txn for app_id is already
     * at or beyond txn_version. */
    const char *app_id;
    int64_t txn_version;
    const pq_writer_opts *writer_opts; /* may be NULL */
    int max_attempts;                  /* as in delta_commit_req */
    /* The snapshot the rows were computed from (NULL: the latest is opened
     * here) and whether they depend on the whole table (read_all: any
     * concurrent data change is SL_DELTA_CONFLICT, so the caller recomputes
     * instead of appending stale rows; the append is then not blind). */
    const delta_snapshot *read_snap;
    int read_all;
} delta_append_req;

typedef struct delta_append_result {
    int skipped;     /* 1: the txn was already applied; nothing written */
    int64_t version; /* new version, or the latest when skipped */
    size_t nfiles;   /* data files written */
    int64_t nrows;
    int64_t nbytes;
    int attempts;
} delta_append_result;

/* Appends rows as one blind-append commit ("WRITE", mode Append): one
 * Parquet file per partition value combination, named
 * part-00000-<uuid>-c000.snappy.parquet under Hive-style directories
 * (col=value, escaped as Spark does; null as __HIVE_DEFAULT_PARTITION__),
 * add actions with full stats, partitionValues, modificationTime and
 * dataChange true. meta.operation may be NULL (then "WRITE"). Data files of
 * a failed commit are deleted. */
sl_code delta_table_append(store *s, const char *table_key, const delta_append_req *req,
                           const delta_commit_meta *meta, delta_append_result *out,
                           sl_err *err);

/* Writes one data file from rows of the table's columns (partition columns
 * are left out of the file; all rows must share their values) and returns
 * its add action (new reference) with stats, partitionValues, size,
 * modificationTime and dataChange. For OPTIMIZE-like rewrites too. */
sl_code delta_data_file_write(store *s, const char *table_key, const json_t *metadata,
                              const pq_value *rows, size_t nrows,
                              const pq_writer_opts *opts, int data_change,
                              json_t **add_out, sl_err *err);

#endif
