#ifndef SLUICE_PIPELINE_ROWCMP_H
#define SLUICE_PIPELINE_ROWCMP_H
/* Value comparison for merges and aggregates: a total order over cells of
 * one column type (null first), comparisons against a file's stats bounds
 * for pruning, and the text of a cell (delete_when compares as strings). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_rows.h"
#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"

/* <0, 0, >0. Null sorts first; strings and binaries by bytes (UTF-8 byte
 * order is code point order, as Delta's stats use); NaN above every number. */
int rowcmp_value(pq_type t, const pq_value *a, const pq_value *b);

/* Compares n cells: row ia of a at columns ca[] with row ib of b at cb[]
 * (types from a). */
int rowcmp_cols(const delta_rows *a, size_t ia, const size_t *ca, const delta_rows *b,
                size_t ib, const size_t *cb, size_t n);

/* A non-null v compared with one stats bound (is_max: the bound is a max,
 * so a timestamp's truncated milliseconds widen it): <0, 0, >0, or 2 when
 * the bound cannot be read for the type. */
int rowcmp_bound(pq_type t, const pq_value *v, const json_t *bound, int is_max);

/* Whether a non-null v may lie in [min, max] (stats bounds as JSON, as
 * delta_file_col_range gives them). 1 when the bounds are missing or cannot
 * be read for the type: pruning must never skip a file that may hold v. */
int rowcmp_in_range(pq_type t, const pq_value *v, const json_t *min, const json_t *max);

/* Whether any of n sorted, non-null values may lie in [min, max] (binary
 * search; 1 when the bounds are missing or unreadable). */
int rowcmp_any_in_range(pq_type t, const pq_value *vals, size_t n, const json_t *min,
                        const json_t *max);

/* The cell's text (strings as is, numbers in decimal, booleans
 * "true"/"false", dates "YYYY-MM-DD", timestamps ISO 8601) appended to out;
 * 0 for null (nothing appended). */
int rowcmp_text(pq_type t, const pq_value *v, sl_buf *out);

/* The UTC day (days since 1970-01-01) of a timestamp in microseconds. */
int32_t rowcmp_day_of_us(int64_t us);

#endif
