/* One function table per column type: PLAIN encoding, sort order,
 * statistics bytes and the Delta statistics value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_column.h"
#include "backend/util/timeutil.h"

/* Delta (Spark) keeps string bounds to this many characters. */
#define DELTA_STRING_PREFIX 32

static void put_le32(sl_buf *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    buf_append(out, b, sizeof b);
}

static void put_le64(sl_buf *out, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    buf_append(out, b, sizeof b);
}

static bool always_eligible(const pq_value *v)
{
    (void)v;
    return true;
}

/* ---- boolean: bit-packed LSB first in PLAIN ---- */

static size_t bool_size(const pq_value *v)
{
    (void)v;
    return 1;
}

static void bool_put(pq_column *c, const pq_value *v)
{
    int64_t bit = c->page_nonnull;
    if (bit % 8 == 0)
        buf_append_char(&c->page_values, 0);
    if (v->b)
        ((unsigned char *)c->page_values.data)[c->page_values.len - 1] |=
            (unsigned char)(1u << (bit % 8));
}

static int bool_cmp(const pq_value *a, const pq_value *b)
{
    return (int)a->b - (int)b->b;
}

static void bool_stat(const pq_value *v, bool is_max, sl_buf *out)
{
    (void)is_max;
    buf_append_char(out, v->b ? 1 : 0); /* statistics use one byte, not a bit */
}

static json_t *no_json(const pq_value *v, bool is_max)
{
    (void)v;
    (void)is_max;
    return NULL; /* Delta collects no min/max for booleans */
}

/* ---- int32 ---- */

static size_t i32_size(const pq_value *v)
{
    (void)v;
    return 4;
}

static void i32_put(pq_column *c, const pq_value *v)
{
    put_le32(&c->page_values, (uint32_t)v->i32);
}

static int i32_cmp(const pq_value *a, const pq_value *b)
{
    return (a->i32 > b->i32) - (a->i32 < b->i32);
}

static void i32_stat(const pq_value *v, bool is_max, sl_buf *out)
{
    (void)is_max;
    put_le32(out, (uint32_t)v->i32);
}

static json_t *i32_json(const pq_value *v, bool is_max)
{
    (void)is_max;
    return json_integer(v->i32);
}

/* ---- int64 (and timestamps, which are int64 micros) ---- */

static size_t i64_size(const pq_value *v)
{
    (void)v;
    return 8;
}

static void i64_put(pq_column *c, const pq_value *v)
{
    put_le64(&c->page_values, (uint64_t)v->i64);
}

static int i64_cmp(const pq_value *a, const pq_value *b)
{
    return (a->i64 > b->i64) - (a->i64 < b->i64);
}

static void i64_stat(const pq_value *v, bool is_max, sl_buf *out)
{
    (void)is_max;
    put_le64(out, (uint64_t)v->i64);
}

static json_t *i64_json(const pq_value *v, bool is_max)
{
    (void)is_max;
    return json_integer(v->i64);
}

static json_t *ts_json(const pq_value *v, bool is_max)
{
    (void)is_max;
    /* Delta keeps milliseconds, truncated toward the past (readers widen
     * the max by the lost microseconds). */
    int64_t ms = v->i64 / 1000;
    if (v->i64 % 1000 < 0)
        ms -= 1;
    char iso[64];
    time_format_iso(ms, iso, sizeof iso);
    return json_string(iso);
}

/* ---- double: IEEE order, NaN left out of statistics ---- */

static void f64_put(pq_column *c, const pq_value *v)
{
    uint64_t bits;
    memcpy(&bits, &v->f64, sizeof bits);
    put_le64(&c->page_values, bits);
}

static bool f64_eligible(const pq_value *v)
{
    return !isnan(v->f64);
}

static int f64_cmp(const pq_value *a, const pq_value *b)
{
    return (a->f64 > b->f64) - (a->f64 < b->f64);
}

/* A zero bound is written as -0.0 for a min and +0.0 for a max, so the bound
 * holds whichever zero the data has (parquet.thrift's rule). */
static double f64_bound(const pq_value *v, bool is_max)
{
    if (v->f64 == 0.0)
        return is_max ? 0.0 : -0.0;
    return v->f64;
}

static void f64_stat(const pq_value *v, bool is_max, sl_buf *out)
{
    double d = f64_bound(v, is_max);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    put_le64(out, bits);
}

static json_t *f64_json(const pq_value *v, bool is_max)
{
    (void)is_max;
    double d = v->f64; /* Delta compares numerically: -0.0 == 0.0 */
    if (!isfinite(d))
        return NULL; /* JSON has no infinity */
    return json_real(d);
}

/* ---- string: BYTE_ARRAY, unsigned byte-wise order ---- */

static size_t str_size(const pq_value *v)
{
    return 4 + v->str.len;
}

static void str_put(pq_column *c, const pq_value *v)
{
    put_le32(&c->page_values, (uint32_t)v->str.len);
    if (v->str.len)
        buf_append(&c->page_values, v->str.ptr, v->str.len);
}

static int str_cmp(const pq_value *a, const pq_value *b)
{
    size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
    int r = n ? memcmp(a->str.ptr, b->str.ptr, n) : 0;
    if (r)
        return r;
    return (a->str.len > b->str.len) - (a->str.len < b->str.len);
}

static void str_stat(const pq_value *v, bool is_max, sl_buf *out)
{
    (void)is_max;
    if (v->str.len)
        buf_append(out, v->str.ptr, v->str.len);
}

static json_t *str_json(const pq_value *v, bool is_max)
{
    size_t n = 0;
    char *s = is_max
                  ? pq_delta_string_max(v->str.ptr, v->str.len, DELTA_STRING_PREFIX, &n)
                  : pq_delta_string_min(v->str.ptr, v->str.len, DELTA_STRING_PREFIX, &n);
    if (!s)
        return NULL;
    json_t *j = json_stringn(s, n);
    free(s);
    return j;
}

static const pq_col_type COL_TYPES[] = {
    {PQ_TYPE_BOOLEAN,
     "boolean",
     PQ_PHYS_BOOLEAN,
     PQ_CONV_NONE,
     {.kind = PQ_LOGICAL_NONE, .ts_adjusted_to_utc = false, .ts_unit = 0},
     true,
     bool_size,
     bool_put,
     always_eligible,
     bool_cmp,
     bool_stat,
     no_json},
    {PQ_TYPE_INT32,
     "int32",
     PQ_PHYS_INT32,
     PQ_CONV_NONE,
     {.kind = PQ_LOGICAL_NONE, .ts_adjusted_to_utc = false, .ts_unit = 0},
     true,
     i32_size,
     i32_put,
     always_eligible,
     i32_cmp,
     i32_stat,
     i32_json},
    {PQ_TYPE_INT64,
     "int64",
     PQ_PHYS_INT64,
     PQ_CONV_NONE,
     {.kind = PQ_LOGICAL_NONE, .ts_adjusted_to_utc = false, .ts_unit = 0},
     true,
     i64_size,
     i64_put,
     always_eligible,
     i64_cmp,
     i64_stat,
     i64_json},
    {PQ_TYPE_DOUBLE,
     "double",
     PQ_PHYS_DOUBLE,
     PQ_CONV_NONE,
     {.kind = PQ_LOGICAL_NONE, .ts_adjusted_to_utc = false, .ts_unit = 0},
     true,
     i64_size,
     f64_put,
     f64_eligible,
     f64_cmp,
     f64_stat,
     f64_json},
    {PQ_TYPE_STRING,
     "string",
     PQ_PHYS_BYTE_ARRAY,
     PQ_CONV_UTF8,
     {.kind = PQ_LOGICAL_STRING, .ts_adjusted_to_utc = false, .ts_unit = 0},
     false,
     str_size,
     str_put,
     always_eligible,
     str_cmp,
     str_stat,
     str_json},
    {PQ_TYPE_TIMESTAMP_US,
     "timestamp",
     PQ_PHYS_INT64,
     PQ_CONV_TIMESTAMP_MICROS,
     {.kind = PQ_LOGICAL_TIMESTAMP, .ts_adjusted_to_utc = true, .ts_unit = PQ_UNIT_MICROS},
     true,
     i64_size,
     i64_put,
     always_eligible,
     i64_cmp,
     i64_stat,
     ts_json},
};

const pq_col_type *pq_col_type_get(pq_type type)
{
    for (size_t i = 0; i < sizeof COL_TYPES / sizeof COL_TYPES[0]; i++)
        if (COL_TYPES[i].type == type)
            return &COL_TYPES[i];
    return NULL;
}
