#ifndef SLUICE_DELTA_DELTA_RESTORE_H
#define SLUICE_DELTA_DELTA_RESTORE_H

/* RESTORE of a Delta table to an earlier version or time, the way Delta
 * Lake writes it: files of the target missing now are re-added with their
 * original add action (dataChange true), files live now but not in the
 * target are removed (deletionTimestamp, extendedFileMetadata, size,
 * partitionValues, stats), the target's metaData, the higher of the two
 * protocols, and commitInfo "RESTORE". The plan is computed from the two
 * snapshots alone (no history walk); the preview of a plan writes nothing. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct delta_restore_plan {
    delta_at at;              /* as requested */
    delta_snapshot *current;  /* latest (owned) */
    delta_snapshot *target;   /* at `at` (owned) */
    const delta_file **readd; /* in target, not live now (into target->files) */
    size_t nreadd;
    const delta_file **remove; /* live now, not in target (into current->files) */
    size_t nremove;
    int64_t readd_bytes;
    int64_t remove_bytes;
    char **missing; /* add.path of re-adds whose data file is gone */
    size_t nmissing;
    int64_t retention_ms;  /* delta.deletedFileRetentionDuration of the current table */
    int retention_warning; /* target commit time older than now - retention */
    int64_t now_ms;
} delta_restore_plan;

/* Opens the latest snapshot and the one at `at` (version or timestamp),
 * diffs them by (path, deletion vector id) and stats the data file of every
 * re-add. A target at or after the latest version is SL_USAGE; errors of
 * delta_snapshot_open pass through. */
sl_code delta_restore_plan_build(store *s, const char *table_key, const delta_at *at,
                                 int64_t now_ms, delta_restore_plan **out, sl_err *err);
void delta_restore_plan_free(delta_restore_plan *p);

/* The preview: {"table","read_version","target_version","target_timestamp",
 * "files_to_readd":[{"path","size","rows"}],"files_to_remove":[...],
 * "readd_bytes","remove_bytes","before":{"version","files","rows","bytes"},
 * "after":{"files","rows","bytes"},"missing_files":[paths],
 * "retention_hours","warnings":[text]}. rows are null when unknown. New
 * reference. */
json_t *delta_restore_plan_to_json(const delta_restore_plan *p, const char *table_name);

/* The actions of the RESTORE commit (metaData, protocol, adds, removes, in
 * that order, as Delta Lake writes them). New reference. */
json_t *delta_restore_actions(const delta_restore_plan *p);

/* The operationParameters of the commitInfo: {"version": N, "timestamp":
 * null} or {"version": null, "timestamp": "ISO"}. New reference. */
json_t *delta_restore_parameters(const delta_restore_plan *p);

/* Commits the plan through delta_commit (read_all: any concurrent data
 * change is SL_DELTA_CONFLICT). Refuses first with
 * SL_DELTA_UNSUPPORTED_FEATURE when the table's protocol may not be
 * written, then with SL_STORE_NOT_FOUND listing the re-adds whose data files
 * were vacuumed. meta->operation is overridden with "RESTORE"; its
 * parameters and metrics are filled here. */
sl_code delta_restore_commit(store *s, const char *table_key, const delta_restore_plan *p,
                             const delta_commit_meta *meta, delta_commit_result *out,
                             sl_err *err);

#endif
