#ifndef SLUICE_PARQUET_PQ_WRITER_H
#define SLUICE_PARQUET_PQ_WRITER_H

/* Writes flat Parquet files in memory: rows in, a complete file (and the
 * statistics Delta wants in add.stats) out.
 *
 *   pq_writer *w = pq_writer_new(cols, ncols, NULL, &err);
 *   pq_writer_add_row(w, values, &err);           // once per row
 *   pq_writer_finish(w, &file, &stats, &err);     // file.data/file.len
 *   pq_writer_free(w); pq_file_stats_free(&stats); buf_free(&file);
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend/util/buf.h"
#include "backend/util/err.h"

/* Column types as the pipeline sees them; each maps to a physical type plus
 * its converted and logical annotations. */
typedef enum pq_type {
    PQ_TYPE_BOOLEAN,
    PQ_TYPE_INT32,
    PQ_TYPE_INT64,
    PQ_TYPE_DOUBLE,
    PQ_TYPE_STRING,       /* BYTE_ARRAY, UTF8 / STRING */
    PQ_TYPE_TIMESTAMP_US, /* INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS) */
} pq_type;

typedef struct pq_schema_col {
    const char *name;
    pq_type type;
    bool nullable; /* OPTIONAL when true, REQUIRED otherwise */
} pq_schema_col;

/* One cell. Strings are borrowed for the duration of the add_row call only
 * (the writer copies what it keeps); timestamps are microseconds since the
 * epoch, UTC, in i64. */
typedef struct pq_value {
    bool is_null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        double f64;
        struct {
            const char *ptr;
            size_t len;
        } str;
    };
} pq_value;

static inline pq_value pq_val_null(void)
{
    return (pq_value){.is_null = true};
}
static inline pq_value pq_val_bool(bool v)
{
    return (pq_value){.b = v};
}
static inline pq_value pq_val_i32(int32_t v)
{
    return (pq_value){.i32 = v};
}
static inline pq_value pq_val_i64(int64_t v)
{
    return (pq_value){.i64 = v};
}
static inline pq_value pq_val_f64(double v)
{
    return (pq_value){.f64 = v};
}
static inline pq_value pq_val_ts_us(int64_t us)
{
    return (pq_value){.i64 = us};
}
static inline pq_value pq_val_strn(const char *s, size_t n)
{
    return (pq_value){.str = {s, n}};
}
pq_value pq_val_str(const char *s); /* NUL-terminated; NULL gives a null cell */

typedef struct pq_writer_opts {
    /* A data page is closed once its values reach this many bytes
     * (0: 1 MiB). */
    size_t page_size;
    /* A row group is closed after this many rows (0: one row group). */
    int64_t row_group_rows;
} pq_writer_opts;

/* Per-file statistics for Delta's add.stats. */
typedef struct pq_file_stats {
    int64_t num_rows;
    /* Owned: {"numRecords":N,"minValues":{..},"maxValues":{..},
     * "nullCount":{..}} the way Delta writers produce it (json_dumps it into
     * add.stats). */
    json_t *delta_stats;
} pq_file_stats;

typedef struct pq_writer pq_writer;

/* Copies the schema. Fails (NULL, SL-PARQUET-SCHEMA) on no columns, empty or
 * duplicate names, or an unknown type. opts may be NULL. */
pq_writer *pq_writer_new(const pq_schema_col *cols, size_t ncols,
                         const pq_writer_opts *opts, sl_err *err);

/* values[i] is column i. A row that does not fit (null in a required column,
 * a string over 1 GiB) is refused with SL-PARQUET-VALUE and leaves the
 * writer unchanged. */
sl_code pq_writer_add_row(pq_writer *w, const pq_value *values, sl_err *err);

/* Rows added so far. */
int64_t pq_writer_num_rows(const pq_writer *w);

/* Closes the file: *file_out is replaced by the complete Parquet file (its
 * previous content is freed); *stats_out (may be NULL) receives the Delta
 * statistics, to be released with pq_file_stats_free. The writer accepts no
 * rows afterwards. */
sl_code pq_writer_finish(pq_writer *w, sl_buf *file_out, pq_file_stats *stats_out,
                         sl_err *err);

void pq_writer_free(pq_writer *w);
void pq_file_stats_free(pq_file_stats *s);

#endif
