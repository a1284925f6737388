#ifndef SLUICE_PIPELINE_SYSTABLE_H
#define SLUICE_PIPELINE_SYSTABLE_H
/* sluice's own tables under the lake's `_sluice/` (the checkpoint, the runs,
 * the source files): ordinary Delta tables, so Spark or Databricks can read
 * them, written and read through the same write path as any table. */
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct systable {
    const char *key;  /* "_sluice/runs" */
    const char *name; /* metaData.name */
    const pq_schema_col *cols;
    size_t ncols;
} systable;

/* Creates the table when it does not exist yet (a racing creator is fine). */
sl_code systable_ensure(store *lake, const systable *t, sl_err *err);

/* Every row of the table, in t's columns (a table that does not exist yet
 * reads as empty, version -1). *snap_out (may be NULL) receives the snapshot
 * read, for a consistent systable_append with read_all. */
sl_code systable_read(store *lake, const systable *t, delta_rows *out,
                      int64_t *version_out, delta_snapshot **snap_out, sl_err *err);

typedef struct systable_append_req {
    const pq_value *rows; /* nrows x t->ncols */
    size_t nrows;
    const char *app_id; /* txn appId, or NULL */
    int64_t txn_version;
    /* The rows were computed from this snapshot and the whole table (a
     * concurrent change is SL_DELTA_CONFLICT); NULL: a blind append. */
    const delta_snapshot *read_snap;
    const delta_commit_meta *meta; /* may be NULL */
} systable_append_req;

/* One commit; *version_out the version (the latest when the txn was already
 * applied, *skipped_out then 1). Creates the table if needed. */
sl_code systable_append(store *lake, const systable *t, const systable_append_req *req,
                        int64_t *version_out, int *skipped_out, sl_err *err);

/* Cell readers for rows read back: strings are not NUL-terminated in place
 * (systable_str gives pointer and length; systable_strdup a copy or NULL),
 * numbers if_null for nulls. */
const char *systable_str(const delta_rows *r, size_t row, size_t col, size_t *len);
char *systable_strdup(const delta_rows *r, size_t row, size_t col);
int64_t systable_i64(const delta_rows *r, size_t row, size_t col, int64_t if_null);
/* A timestamp cell in milliseconds; -1 for null. */
int64_t systable_ms(const delta_rows *r, size_t row, size_t col);

/* Cells to write: NULL strings, negative counts and negative times are nulls. */
pq_value systable_cell_str(const char *s);
pq_value systable_cell_i64(int64_t v);
pq_value systable_cell_ts_ms(int64_t ms);

#endif
