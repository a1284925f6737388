#ifndef SLUICE_PIPELINE_MERGE_H
#define SLUICE_PIPELINE_MERGE_H
/* The merge step: a batch's bronze rows upserted into silver by key
 * (newest sequence_by wins, ties by _batch_id then _source_line), deletes
 * recorded in _sluice/tombstones/<silver> so a late older update never
 * resurrects a key, copy-on-write of only the files whose key range can
 * hold a batch key. The files layout replaces a changed source file's rows
 * as a whole, one data file per source file. One commit per table carrying
 * txn(pipeline_app_id(d, "tombstones"/"silver"), batch_id): tombstones
 * first, then silver, so a re-run after a crash redoes only what is missing.
 *
 * In the files layout silver is partitioned by _source_file (one Hive
 * directory per source file, standard Delta that DuckDB and Spark read and
 * prune): the snapshot's files are sorted by path, so a changed source
 * file's data files are found by a binary search on its directory, without
 * reading any other file's stats. A runner that keeps its snapshots warm
 * across batches (merge_req.silver_snap) then replaces one customer's file
 * at a cost that does not grow with the number of customers. */
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct merge_req {
    const pipeline_def *def;
    const delta_rows *batch;         /* the batch's bronze rows */
    const pq_schema_col *batch_cols; /* bronze columns (names) of batch */
    size_t nbatch_cols;
    int64_t batch_id;
    const delta_commit_meta *meta; /* may be NULL */
    const pq_writer_opts *writer_opts;
    /* Files layout: the source files (_source_file values) whose complete
     * new content the batch holds, including files that are now empty and
     * so have no row in the batch. NULL: the batch's distinct _source_file
     * values. Ignored by the epoch layout. */
    const char *const *changed_files;
    size_t nchanged_files;
    /* Optional warm snapshots the caller keeps across batches (in/out; NULL:
     * each call opens and frees its own). *silver_snap (or *tomb_snap, the
     * tombstones table of the epoch layout) NULL: opened here and handed
     * back; else brought to the latest version with delta_snapshot_update
     * instead of a full open. After the step's own commit they are updated
     * to include it (and the checkpoint a commit may be due is written from
     * them, saving the reopen it would cost). On an error they are freed
     * and set to NULL: the next call starts cold. The caller frees them
     * (delta_snapshot_free) when done. */
    delta_snapshot **silver_snap;
    delta_snapshot **tomb_snap;
} merge_req;

typedef struct merge_result {
    int skipped;                                /* silver txn already at batch_id */
    int64_t silver_version, tombstones_version; /* -1: no commit */
    int64_t rows_in, upserts, inserts, updates, deletes, stale_ignored,
        duplicates_collapsed;
    size_t files_considered, files_read, files_removed, files_added; /* silver */
    delta_rows before; /* silver rows replaced or deleted (silver columns) */
    delta_rows after;  /* silver rows written for changed keys (silver columns) */
} merge_result;

/* Runs the step on the lake store (tables are keys under it). Transient
 * failures (SL_STORE_*, SL_DELTA_CONFLICT) leave no commit of this call
 * behind except possibly the tombstones one, which a re-run recognises by
 * its txn. When skipped, before/after are empty: the aggregate step then
 * cannot know the touched groups and must recompute all (pass NULL). */
sl_code merge_run(store *lake, const merge_req *req, merge_result *out, sl_err *err);
void merge_result_clear(merge_result *r);

/* Silver's columns: the declared bronze columns in order, then _source_file,
 * _source_line, _epoch, _batch_id. *cols is one allocation (names borrowed
 * from d): free(*cols). */
sl_code merge_silver_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                          sl_err *err);

/* ---- shared with aggregate.c ------------------------------------------ */

/* Silver's latest snapshot, creating the table when it does not exist yet
 * (merge_silver_cols; in the files layout partitioned by _source_file). */
sl_code merge_silver_open(store *lake, const pipeline_def *d, delta_snapshot **snap,
                          sl_err *err);

/* The latest snapshot of table key, creating the table with cols (no
 * partitions) when it does not exist yet. */
sl_code merge_table_open(store *lake, const char *key, const pq_schema_col *cols,
                         size_t ncols, delta_snapshot **snap, sl_err *err);
/* txns[app_id].version of the snapshot, -1 when absent. */
int64_t merge_txn_version(const delta_snapshot *snap, const char *app_id);
/* A remove action ({"remove": {...}}, dataChange true) for a live file. */
json_t *merge_remove_action(const delta_file *f, int64_t now_ms);
/* Writes rows (in the order idx gives, all rows when idx is NULL) of the
 * table's columns as data files of about 128 MiB; appends {"add": ...}
 * actions to adds. */
sl_code merge_write_rows(store *lake, const char *key, const delta_snapshot *snap,
                         const delta_rows *r, const size_t *idx, size_t n,
                         const pq_writer_opts *opts, json_t *adds, sl_err *err);

typedef struct merge_commit_spec {
    const delta_commit_meta *meta; /* may be NULL */
    const char *operation;
    json_t *parameters, *metrics; /* borrowed, may be NULL */
    json_t *removes, *adds;       /* arrays of actions, borrowed */
    const char *const *read_paths;
    size_t nread_paths;
    const char *app_id;
    int64_t txn_version;
    int no_checkpoint; /* the caller writes a due checkpoint itself */
} merge_commit_spec;
/* One commit of removes + adds + txn against snap; on failure the added
 * data files are deleted. */
sl_code merge_commit(store *lake, const char *key, const delta_snapshot *snap,
                     const merge_commit_spec *spec, int64_t *version, sl_err *err);

#endif
