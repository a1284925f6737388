#ifndef SLUICE_DELTA_DIFF_H
#define SLUICE_DELTA_DIFF_H

/* Looking at past versions of a table (time travel), read only:
 *  - the difference between two snapshots: data files added and removed
 *    (reconciled by path and deletion vector id, as replay does), rows and
 *    bytes before and after, columns added / removed / retyped, partitioning,
 *    table properties and protocol changes;
 *  - the first rows of a version, read from that version's data files with
 *    the Parquet reader, stopping after a limit (never a full table scan).
 * What the console's `d` (diff) and `p` (preview) show. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* One data file that differs between the two versions. */
typedef struct delta_diff_file {
    char *path;  /* add.path as written (URI-encoded) */
    char *dv_id; /* NULL without a deletion vector */
    int64_t size;
    int64_t rows; /* records minus DV cardinality; -1 when unknown */
    int64_t modification_time;
} delta_diff_file;

typedef enum delta_col_change {
    DELTA_COL_ADDED,
    DELTA_COL_REMOVED,
    DELTA_COL_RETYPED,  /* type text differs */
    DELTA_COL_NULLABLE, /* only nullability differs */
} delta_col_change;

/* A top-level column that changed (nested fields show in the type text). */
typedef struct delta_diff_col {
    delta_col_change change;
    char *name;
    char *old_type; /* "long", "struct<a:int>", NULL when added */
    char *new_type; /* NULL when removed */
    int old_nullable, new_nullable;
} delta_diff_col;

/* A table property (metaData.configuration key) that changed; NULL value:
 * absent on that side. */
typedef struct delta_diff_prop {
    char *key;
    char *old_value;
    char *new_value;
} delta_diff_prop;

/* The state of one side. rows -1: some file's count is unknown. */
typedef struct delta_side {
    int64_t version;
    int64_t timestamp_ms;
    int64_t files;
    int64_t rows;
    int64_t bytes;
    char *partitioning; /* "date, region" or "" when not partitioned */
    char *protocol;     /* "1/2", "3/7 deletionVectors" */
} delta_side;

typedef struct delta_diff {
    delta_side from, to;    /* from is the older version */
    delta_diff_file *added; /* in `to`, not in `from`; sorted by path */
    size_t nadded;
    int64_t added_bytes, added_rows; /* rows -1 when some file's are unknown */
    delta_diff_file *removed;        /* in `from`, not in `to`; sorted by path */
    size_t nremoved;
    int64_t removed_bytes, removed_rows;
    delta_diff_col *cols; /* in the newer schema's order, removed ones last */
    size_t ncols;
    int partitioning_changed;
    delta_diff_prop *props; /* sorted by key */
    size_t nprops;
    int protocol_changed;
    int metadata_id_changed; /* the table was replaced (new metaData.id) */
} delta_diff;

/* The difference between two open snapshots; the older one is `from`
 * whatever the argument order. Never fails on a readable snapshot except
 * for a schemaString that is not JSON (SL_DELTA_CORRUPT_LOG). */
sl_code delta_diff_snapshots(const delta_snapshot *a, const delta_snapshot *b,
                             delta_diff *out, sl_err *err);
/* Opens the table at versions v1 and v2 and diffs them. Errors of
 * delta_snapshot_open pass through (SL_DELTA_VERSION_NOT_FOUND, ...). */
sl_code delta_diff_versions(store *s, const char *table_key, int64_t v1, int64_t v2,
                            delta_diff *out, sl_err *err);
void delta_diff_free(delta_diff *d);
/* {"from":{"version","timestamp","files","rows","bytes","partitioning","protocol"},
 *  "to":{...},"added":[{"path","dv","size","rows"}],"removed":[...],
 *  "added_bytes","added_rows","removed_bytes","removed_rows",
 *  "columns":[{"change":"added|removed|retyped|nullable","name","old_type",
 *  "new_type"}],"partitioning_changed","properties":[{"key","old","new"}],
 *  "protocol_changed","metadata_id_changed"}; unknown rows are null. New
 * reference. */
json_t *delta_diff_to_json(const delta_diff *d);

/* A column of the table as the schema names it. */
typedef struct delta_preview_col {
    char *name;
    char *type;    /* type text as in delta_diff_col */
    int partition; /* a partition column: values from partitionValues */
} delta_preview_col;

/* The first rows of a version. Cells are texts, NULL for a null value;
 * long values are cut at DELTA_PREVIEW_CELL_MAX bytes (ending in "…").
 * Texts are as stored: they may hold control characters (escape them
 * before showing). */
#define DELTA_PREVIEW_CELL_MAX 1024

typedef struct delta_preview {
    int64_t version;
    int64_t timestamp_ms;
    delta_preview_col *cols;
    size_t ncols;
    char **cells; /* nrows * ncols, row-major */
    size_t nrows;
    int more;             /* rows remain after the limit */
    int64_t table_rows;   /* the snapshot's row count, -1 unknown */
    size_t files_total;   /* live files of the version */
    size_t files_read;    /* opened to fill the preview */
    size_t files_skipped; /* with a deletion vector: their rows cannot be
                           * shown without it, so they are left out */
} delta_preview;

/* Reads up to limit rows of the table at version (-1: latest) from its data
 * files in the order they were written (modificationTime, then path), one
 * row group at a time; partition columns from
 * partitionValues, columns a file lacks as nulls; column mapping (name/id)
 * honoured through the physical names. Errors: those of
 * delta_snapshot_open, SL_STORE_NOT_FOUND naming a data file that is gone
 * (vacuumed), SL_PARQUET_* naming an unreadable one. */
sl_code delta_preview_read(store *s, const char *table_key, int64_t version, size_t limit,
                           delta_preview *out, sl_err *err);
void delta_preview_free(delta_preview *p);

#endif
