#ifndef SLUICE_PIPELINE_AGGREGATE_H
#define SLUICE_PIPELINE_AGGREGATE_H
/* The aggregate step: gold recomputed from silver for the groups a batch
 * touched (the group keys of merge_result's before and after rows), gold
 * rewritten copy-on-write (files holding a touched group are replaced by
 * their untouched groups plus the recomputed ones; groups that became
 * empty disappear), one commit with txn(pipeline_app_id(d, "gold"),
 * batch_id). Also the "after" check: gold against an independent
 * recomputation from silver. */
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct aggregate_req {
    const pipeline_def *def;
    /* merge_result's before/after (silver's columns, in silver's schema
     * order). Both NULL: every group is recomputed (after a merge that was
     * skipped, whose touched groups are unknown). */
    const delta_rows *before, *after;
    int64_t batch_id;
    const delta_commit_meta *meta; /* may be NULL */
    const pq_writer_opts *writer_opts;
} aggregate_req;

typedef struct aggregate_result {
    int skipped;          /* gold's txn already at batch_id */
    int64_t gold_version; /* -1: no commit */
    size_t groups_touched;
    size_t files_read, files_removed, files_added; /* gold */
    size_t silver_files_read;
} aggregate_result;

sl_code aggregate_run(store *lake, const aggregate_req *req, aggregate_result *out,
                      sl_err *err);

/* The "after" check: recompute the touched groups (or all groups when
 * touched is NULL, or its before and after are both NULL) from silver
 * independently of gold's files and compare with gold: SL_CHECK_FAILED
 * naming the first differing group and values. */
sl_code aggregate_check(store *lake, const pipeline_def *def,
                        const aggregate_req *touched, sl_err *err);

/* Gold's columns: the group_by columns ("day": a date, the UTC day of
 * day_from) then one per aggregate (count: long; sum: long over int/long,
 * else double; min/max: the column's type; avg: double). *cols is one
 * allocation (names borrowed from d): free(*cols). */
sl_code aggregate_gold_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                            sl_err *err);

#endif
