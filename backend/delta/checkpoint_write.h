#ifndef SLUICE_DELTA_CHECKPOINT_WRITE_H
#define SLUICE_DELTA_CHECKPOINT_WRITE_H

/* Writing classic Delta checkpoints: NNN.checkpoint.parquet (one action per
 * row: protocol, metaData, txn, domainMetadata, add with stats as a JSON
 * string, and the removes still within the deleted-file retention; struct,
 * MAP and LIST columns as Delta specifies) and _last_checkpoint. Built on
 * the nested Parquet writer (backend/parquet/pq_nested_writer.h). */

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "backend/delta/delta.h"
#include "backend/parquet/pq_nested_writer.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* delta.checkpointInterval of a metaData body (configuration), default 10;
 * a missing, non-numeric or non-positive value gives the default. */
int64_t delta_checkpoint_interval(const json_t *metadata);
/* Whether a commit of `version` should be followed by a checkpoint. */
bool delta_checkpoint_due(const json_t *metadata, int64_t version);

/* delta.deletedFileRetentionDuration ("interval 7 days", "interval 1 week",
 * "interval 168 hours", ...) in milliseconds; default one week. -1 when the
 * value is present but not understood (then every tombstone is kept). */
int64_t delta_deleted_file_retention_ms(const json_t *metadata);

/* The classic checkpoint schema (a new tree for pq_nwriter_new). */
pq_wnode *delta_checkpoint_schema(void);

typedef struct delta_checkpoint_result {
    int64_t version;
    int64_t rows; /* actions written */
    int64_t num_adds;
    /* of them, adds copied from a checkpoint's kept columns without their
     * JSON text (the rest went through their text) */
    int64_t num_adds_direct;
    int64_t num_removes; /* tombstones kept */
    int64_t size_bytes;  /* of the Parquet file */
} delta_checkpoint_result;

/* Writes the checkpoint of snap (at snap->version) into the table's
 * _delta_log, then _last_checkpoint ({version, size, sizeInBytes,
 * numOfAddFiles}). Tombstones deleted at or before now_ms minus the
 * retention are left out. Both files are replaced atomically (a checkpoint
 * of one version always holds the same state). out may be NULL. Errors:
 * SL_PARQUET_* from the writer, SL_STORE_* naming the key. */
sl_code delta_checkpoint_write(store *s, const char *table_key,
                               const delta_snapshot *snap, int64_t now_ms,
                               delta_checkpoint_result *out, sl_err *err);

/* What a writer calls after committing `version`: when delta_checkpoint_due
 * says so (by the metaData of that version), builds its snapshot and writes
 * the checkpoint. *written (may be NULL) says whether it did. A failure
 * leaves the table readable (the commit stands; the checkpoint file and
 * _last_checkpoint are each replaced atomically). */
sl_code delta_checkpoint_after_commit(store *s, const char *table_key, int64_t version,
                                      int64_t now_ms, bool *written, sl_err *err);

#endif
