#ifndef SLUICE_DELTA_DELTA_ROWS_H
#define SLUICE_DELTA_DELTA_ROWS_H
/* Rows of a Delta table in memory: nrows x ncols cells (row-major) of the
 * table's columns in schema order (delta_schema_cols), partition columns
 * included. Read from data files (OPTIMIZE, merges, aggregates) or built
 * by the caller (ingest). String cells point into memory the set owns
 * (decoded column chunks, copied texts), valid until delta_rows_free. */
#include <jansson.h>
#include <stddef.h>

#include "backend/delta/delta.h"
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_writer.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct delta_rows {
    pq_value *cells;
    size_t nrows, cap, ncols;
    pq_type *types; /* ncols column types (owned copy) */
    /* private: what string cells point into */
    pq_column_data *chunks;
    size_t nchunks, cap_chunks;
    char **texts;
    size_t ntexts, cap_texts;
} delta_rows;

/* An empty set for the columns cols (their types are copied). */
void delta_rows_init(delta_rows *r, const pq_schema_col *cols, size_t ncols);
void delta_rows_free(delta_rows *r);
/* A new row of nulls at the end; the pointer is valid until the next add. */
pq_value *delta_rows_add(delta_rows *r);
/* A copy of n bytes the set keeps (NUL-terminated), for string cells. */
const char *delta_rows_keep(delta_rows *r, const char *s, size_t n);
/* Copies row i of src (its strings too) to the end of dst (same columns). */
void delta_rows_copy_row(delta_rows *dst, const delta_rows *src, size_t i);

/* Appends every row of one live data file (cols: r's columns, by name): cells of the data
 * columns from the Parquet file (columns absent from the file are nulls; files written
 * before a widening int -> long, float -> double and INT96 or millisecond
 * timestamps are read as the table's type), partition columns from the
 * add's partitionValues. Deletion vectors are refused
 * (SL_DELTA_UNSUPPORTED_FEATURE): the rows they hide would come back. */
sl_code delta_rows_read_file(store *s, const char *table_key, const delta_file *f,
                             const pq_schema_col *cols, size_t ncols, delta_rows *r,
                             sl_err *err);

/* A partition value's text (as in partitionValues) as a cell of col's type;
 * strings are kept in r. NULL text is a null cell. */
sl_code delta_rows_partition_cell(const pq_schema_col *col, const char *text,
                                  delta_rows *r, pq_value *out, sl_err *err);

/* The minimum and maximum of a column from a file's stats (stats.minValues /
 * maxValues, JSON values; partition columns from partitionValues as
 * strings). New references in *min and *max; both NULL when the stats do not
 * say (then the file may hold anything). */
void delta_file_col_range(const delta_file *f, const char *col, json_t **min,
                          json_t **max);

#endif
