#ifndef SLUICE_DELTA_DELTA_OPTIMIZE_H
#define SLUICE_DELTA_DELTA_OPTIMIZE_H

/* OPTIMIZE (bin-packing) of a Delta table the way Delta Lake writes it: per
 * partition, live files smaller than the target size are grouped into bins
 * near the target; each bin of two or more files is read and rewritten as
 * one file with full stats. The commit removes the compacted files and adds
 * the new ones, all with dataChange false, under commitInfo "OPTIMIZE". Rows
 * and values are unchanged. Its read set is the compacted files: concurrent
 * appends commit around it, a concurrent removal of a compacted file is
 * SL_DELTA_CONFLICT. */

#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

#define DELTA_OPTIMIZE_DEFAULT_TARGET (128LL * 1024 * 1024)

typedef struct delta_optimize_opts {
    int64_t target_size;               /* bytes; <= 0: DELTA_OPTIMIZE_DEFAULT_TARGET */
    int64_t now_ms;                    /* deletionTimestamp of the removes */
    const pq_writer_opts *writer_opts; /* may be NULL */
    int max_attempts;                  /* as in delta_commit_req */
    /* Z-order: data columns (not partition columns) whose values the rows
     * are clustered by. With any, every file of a partition (not only the
     * small ones) is rewritten, rows sorted by the Z-order curve and split
     * into files of about target_size (by the input bytes). */
    const char *const *zorder_by;
    size_t nzorder_by;
    /* Plan only: bins, files and bytes to compact are reported (rows from
     * the files' stats), nothing is read, written or committed. */
    int dry_run;
} delta_optimize_opts;

typedef struct delta_optimize_result {
    int committed;   /* 0: nothing to compact (no commit written) */
    int64_t version; /* the OPTIMIZE commit's version when committed */
    size_t removed_files, added_files, bins;
    int64_t removed_bytes, added_bytes;
    int64_t rows; /* rows rewritten (dry run: from stats, -1 when any is unknown) */
} delta_optimize_result;

/* Plans the bins from snap (the table's snapshot the caller opened), writes
 * the new files and commits through delta_commit. meta->operation is
 * overridden with "OPTIMIZE"; parameters {"predicate":"[]","zOrderBy":"[]"}
 * (zOrderBy: the column list as JSON text, "[\"a\",\"b\"]") and metrics (numRemovedFiles,
 * numAddedFiles, numRemovedBytes, numAddedBytes, minFileSize, p25FileSize, p50FileSize,
 * p75FileSize, maxFileSize of the added files, the percentile at sorted index
 * n*p/100 as Delta Lake reports it; numDeletionVectorsRemoved) are filled
 * here, with isolationLevel SnapshotIsolation. Files with deletion vectors are
 * left alone. New data files of a failed commit are deleted. With
 * opts->dry_run nothing is written: the result counts the planned bins. */
sl_code delta_optimize_run(store *s, const char *table_key, const delta_snapshot *snap,
                           const delta_optimize_opts *opts, const delta_commit_meta *meta,
                           delta_optimize_result *out, sl_err *err);

/* ---- zorder.c ---------------------------------------------------------- */

/* An order-preserving 64-bit key of a cell: integers, dates and timestamps
 * with the sign bit flipped, doubles/floats by the IEEE total-order trick,
 * decimals as int64 (saturated), booleans 0/1, strings and binaries by their
 * first 8 bytes big-endian; nulls 0 (first). */
uint64_t delta_zorder_key(const pq_value *v, pq_type t);

/* perm (nrows entries) receives the row indices of cells (nrows x ncols) in
 * Z-order over the columns key_cols (types key_types): each column's keys
 * are replaced by their rank among the rows' distinct values (nulls first),
 * spread evenly over 64 bits, and the top 64/nkeys bits of each are
 * interleaved (most significant first); ties keep input order. */
void delta_zorder_sort(const pq_value *cells, size_t nrows, size_t ncols,
                       const size_t *key_cols, const pq_type *key_types, size_t nkeys,
                       size_t *perm);

#endif
