#include "backend/pipeline/rowcmp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* NaN above every number, as Spark orders floats. */
static int cmp_f64(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c)
        return c < 0 ? -1 : 1;
    return (na > nb) - (na < nb);
}

static int cmp_i128(pq_int128 a, pq_int128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return (a.lo > b.lo) - (a.lo < b.lo);
}

int rowcmp_value(pq_type t, const pq_value *a, const pq_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null && b->is_null ? 0 : a->is_null ? -1 : 1;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        return (int)a->b - (int)b->b;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return cmp_i64(a->i32, b->i32);
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return cmp_i64(a->i64, b->i64);
    case PQ_TYPE_FLOAT:
        return cmp_f64(a->f32, b->f32);
    case PQ_TYPE_DOUBLE:
        return cmp_f64(a->f64, b->f64);
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY:
        return cmp_bytes(a->str.ptr, a->str.len, b->str.ptr, b->str.len);
    case PQ_TYPE_DECIMAL:
        return cmp_i128(a->dec, b->dec);
    }
    return 0;
}

int rowcmp_cols(const delta_rows *a, size_t ia, const size_t *ca, const delta_rows *b,
                size_t ib, const size_t *cb, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int c = rowcmp_value(a->types[ca[k]], &a->cells[ia * a->ncols + ca[k]],
                             &b->cells[ib * b->ncols + cb[k]]);
        if (c)
            return c;
    }
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int32_t rowcmp_day_of_us(int64_t us)
{
    return (int32_t)floor_div(us, INT64_C(86400000000));
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* A stats bound of a date ("2026-01-31") in days; 0 when unreadable. */
static int bound_date(const json_t *j, int64_t *out)
{
    int y;
    unsigned m, d;
    const char *s = json_string_value(j);
    if (!s || sscanf(s, "%d-%u-%u", &y, &m, &d) != 3)
        return 0;
    *out = days_from_civil(y, m, d);
    return 1;
}

/* A stats bound of a timestamp ("2026-01-31T12:00:00.123Z", milliseconds
 * truncated) in microseconds: the max is widened by the truncated part. */
static int bound_ts(const json_t *j, int is_max, int64_t *out)
{
    int y;
    unsigned mo, d, h, mi, s, ms = 0;
    const char *t = json_string_value(j);
    if (!t || sscanf(t, "%d-%u-%uT%u:%u:%u.%u", &y, &mo, &d, &h, &mi, &s, &ms) < 6)
        return 0;
    int64_t v = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s;
    *out = (v * 1000 + ms) * 1000 + (is_max ? 999 : 0);
    return 1;
}

int rowcmp_bound(pq_type t, const pq_value *v, const json_t *j, int is_max)
{
    int64_t b;
    if (!j || v->is_null)
        return 2;
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64:
        if (!json_is_integer(j))
            return 2;
        return cmp_i64(pq_type_base(t) == PQ_TYPE_INT32 ? v->i32 : v->i64,
                       json_integer_value(j));
    case PQ_TYPE_DOUBLE:
    case PQ_TYPE_FLOAT: {
        double x = pq_type_base(t) == PQ_TYPE_DOUBLE ? v->f64 : v->f32;
        if (!json_is_number(j) || isnan(x))
            return 2;
        return cmp_f64(x, json_number_value(j));
    }
    case PQ_TYPE_STRING: {
        const char *s = json_string_value(j);
        if (!s)
            return 2;
        return cmp_bytes(v->str.ptr, v->str.len, s, json_string_length(j));
    }
    case PQ_TYPE_DATE:
        if (!bound_date(j, &b))
            return 2;
        return cmp_i64(v->i32, b);
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        if (!bound_ts(j, is_max, &b))
            return 2;
        return cmp_i64(v->i64, b);
    default:
        return 2;
    }
}

int rowcmp_in_range(pq_type t, const pq_value *v, const json_t *min, const json_t *max)
{
    if (!min || !max || v->is_null)
        return 1;
    int lo = rowcmp_bound(t, v, min, 0), hi = rowcmp_bound(t, v, max, 1);
    if (lo == 2 || hi == 2)
        return 1;
    return lo >= 0 && hi <= 0;
}

int rowcmp_any_in_range(pq_type t, const pq_value *vals, size_t n, const json_t *min,
                        const json_t *max)
{
    if (!min || !max)
        return 1;
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first value >= min */
        size_t mid = lo + (hi - lo) / 2;
        int c = rowcmp_bound(t, &vals[mid], min, 0);
        if (c == 2)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n)
        return 0;
    int c = rowcmp_bound(t, &vals[lo], max, 1);
    return c == 2 || c <= 0;
}

int rowcmp_text(pq_type t, const pq_value *v, sl_buf *out)
{
    if (v->is_null)
        return 0;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        buf_append_str(out, v->b ? "true" : "false");
        break;
    case PQ_TYPE_INT32:
        buf_appendf(out, "%d", (int)v->i32);
        break;
    case PQ_TYPE_INT64:
        buf_appendf(out, "%lld", (long long)v->i64);
        break;
    case PQ_TYPE_FLOAT:
        buf_appendf(out, "%.9g", (double)v->f32);
        break;
    case PQ_TYPE_DOUBLE:
        buf_appendf(out, "%.17g", v->f64);
        break;
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY:
        buf_append(out, v->str.ptr, v->str.len);
        break;
    case PQ_TYPE_DATE: {
        int y;
        unsigned m, d;
        civil_from_days(v->i32, &y, &m, &d);
        buf_appendf(out, "%04d-%02u-%02u", y, m, d);
        break;
    }
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ: {
        int y;
        unsigned m, d;
        int64_t day = floor_div(v->i64, INT64_C(86400000000));
        int64_t rem = v->i64 - day * INT64_C(86400000000);
        civil_from_days(day, &y, &m, &d);
        buf_appendf(out, "%04d-%02u-%02uT%02d:%02d:%02d.%06d%s", y, m, d,
                    (int)(rem / 3600000000), (int)(rem / 60000000 % 60),
                    (int)(rem / 1000000 % 60), (int)(rem % 1000000),
                    pq_type_base(t) == PQ_TYPE_TIMESTAMP_US ? "Z" : "");
        break;
    }
    case PQ_TYPE_DECIMAL: {
        char text[48];
        pq_decimal_format(v->dec, pq_type_scale(t), text, sizeof text);
        buf_append_str(out, text);
        break;
    }
    }
    return 1;
}
