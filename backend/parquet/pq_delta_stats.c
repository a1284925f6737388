/* Delta add.stats from the writer's statistics, with Spark's string bounds:
 * lengths count UTF-16 units (as Java strings do), a minimum is a prefix, a
 * maximum is a prefix plus a tie-breaker (DEL, or U+10FFFF) that keeps it
 * above every value it stands for. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_column.h"

/* Delta (Spark) keeps string bounds to this many characters. */
#define DELTA_STRING_PREFIX 32

/* Decodes one well-formed UTF-8 scalar at s[*pos]; -1 when malformed. */
static long utf8_next(const unsigned char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    unsigned c = s[i];
    int n;
    long cp, min;
    if (c < 0x80) {
        *pos = i + 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - i <= (size_t)n)
        return -1;
    for (int k = 1; k <= n; k++) {
        unsigned cc = s[i + (size_t)k];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *pos = i + (size_t)n + 1;
    return cp;
}

static size_t utf16_units(long cp)
{
    return cp >= 0x10000 ? 2 : 1;
}

/* Total UTF-16 length of s, or (size_t)-1 when s is not valid UTF-8. */
static size_t utf16_length(const char *s, size_t len)
{
    size_t pos = 0, units = 0;
    while (pos < len) {
        long cp = utf8_next((const unsigned char *)s, len, &pos);
        if (cp < 0)
            return (size_t)-1;
        units += utf16_units(cp);
    }
    return units;
}

/* Byte length of the shortest prefix holding prefix_len units; a character
 * that straddles the limit is kept whole. *units_out gets its unit count. */
static size_t prefix_bytes(const char *s, size_t len, size_t prefix_len,
                           size_t *units_out)
{
    size_t pos = 0, units = 0;
    while (pos < len && units < prefix_len) {
        long cp = utf8_next((const unsigned char *)s, len, &pos);
        units += utf16_units(cp);
    }
    *units_out = units;
    return pos;
}

static char *dup_bytes(const char *s, size_t n, const char *tail, size_t tail_len,
                       size_t *out_len)
{
    char *r = sl_calloc(n + tail_len + 1, 1);
    if (n)
        memcpy(r, s, n);
    if (tail_len)
        memcpy(r + n, tail, tail_len);
    *out_len = n + tail_len;
    return r;
}

char *pq_delta_string_min(const char *s, size_t len, size_t prefix_len, size_t *out_len)
{
    size_t total = utf16_length(s, len);
    if (total == (size_t)-1)
        return NULL;
    if (total <= prefix_len)
        return dup_bytes(s, len, NULL, 0, out_len);
    if (prefix_len == 0)
        return NULL;
    size_t units;
    size_t n = prefix_bytes(s, len, prefix_len, &units);
    return dup_bytes(s, n, NULL, 0, out_len);
}

char *pq_delta_string_max(const char *s, size_t len, size_t prefix_len, size_t *out_len)
{
    static const char max_char[] = "\xF4\x8F\xBF\xBF"; /* U+10FFFF */
    size_t total = utf16_length(s, len);
    if (total == (size_t)-1)
        return NULL;
    if (total <= prefix_len)
        return dup_bytes(s, len, NULL, 0, out_len);
    if (prefix_len == 0)
        return NULL;
    size_t units;
    size_t pos = prefix_bytes(s, len, prefix_len, &units);
    /* The tie-breaker must exceed the first character cut off; U+10FFFF
     * cannot be exceeded, so such characters are kept and the search goes
     * on, up to twice the prefix. */
    while (units <= 2 * prefix_len) {
        if (pos >= len)
            return dup_bytes(s, len, NULL, 0, out_len);
        size_t next = pos;
        long cp = utf8_next((const unsigned char *)s, len, &next);
        if (cp == 0x10FFFF) {
            pos = next;
            units += 2;
        } else if (cp < 0x7F) {
            return dup_bytes(s, pos, "\x7F", 1, out_len);
        } else {
            return dup_bytes(s, pos, max_char, 4, out_len);
        }
    }
    return NULL;
}

/* Days since 1970-01-01 to a proleptic Gregorian date. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* A bound as JSON text (sl_buf *out) or nothing (false). */

static bool put_json(sl_buf *out, json_t *v)
{
    if (!v)
        return false;
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(v);
    if (!s)
        return false;
    buf_append_str(out, s);
    free(s);
    return true;
}

/* "YYYY-MM-DD"; nothing outside years 0..9999 (Delta wants four digits). */
static bool date_json(sl_buf *out, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return false;
    buf_appendf(out, "\"%04d-%02u-%02u\"", (int)y, m, d);
    return true;
}

/* Milliseconds, truncated toward the past as Delta does (readers widen a
 * max by the lost part); "Z" for UTC-adjusted timestamps. */
static bool ts_json(sl_buf *out, int64_t us, bool utc)
{
    int64_t ms = floor_div(us, 1000);
    int64_t days = floor_div(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return false;
    buf_appendf(out, "\"%04d-%02u-%02uT%02d:%02d:%02d.%03d%s\"", (int)y, m, d,
                (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                (int)(rem % 1000), utc ? "Z" : "");
    return true;
}

/* Floats: numbers, or the strings Delta writes for the values JSON lacks. */
static bool float_json(sl_buf *out, double v)
{
    if (isnan(v))
        buf_append_str(out, "\"NaN\"");
    else if (isinf(v))
        buf_append_str(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        return put_json(out, json_real(v));
    return true;
}

static bool string_json(sl_buf *out, const pq_value *v, bool is_max)
{
    size_t n = 0;
    char *s = is_max
                  ? pq_delta_string_max(v->str.ptr, v->str.len, DELTA_STRING_PREFIX, &n)
                  : pq_delta_string_min(v->str.ptr, v->str.len, DELTA_STRING_PREFIX, &n);
    if (!s)
        return false;
    bool ok = put_json(out, json_stringn(s, n));
    free(s);
    return ok;
}

static pq_int128 i128_of(int64_t v)
{
    return (pq_int128){(uint64_t)v, v < 0 ? -1 : 0};
}

/* The Delta bound of a column as JSON text, or false when Delta keeps none.
 * Decimals are exact JSON numbers ("-123.45"). Floats follow Spark's order,
 * where NaN is above everything: a NaN makes the max NaN. */
static bool bound_json(sl_buf *out, const pq_column *c, const pq_col_stats *fs,
                       bool is_max)
{
    pq_type t = c->t->type;
    if ((t == PQ_TYPE_FLOAT || t == PQ_TYPE_DOUBLE) &&
        (is_max ? fs->has_nan : !fs->has_min_max && fs->has_nan)) {
        buf_append_str(out, "\"NaN\"");
        return true;
    }
    if (!fs->has_min_max)
        return false;
    const pq_value *v = is_max ? &fs->max : &fs->min;
    char text[48];
    switch (t) {
    case PQ_TYPE_BOOLEAN:
    case PQ_TYPE_BINARY:
        return false; /* Delta collects no bounds for these */
    case PQ_TYPE_INT32:
        buf_appendf(out, "%d", (int)v->i32);
        return true;
    case PQ_TYPE_INT64:
        buf_appendf(out, "%lld", (long long)v->i64);
        return true;
    case PQ_TYPE_FLOAT:
        return float_json(out, (double)v->f32);
    case PQ_TYPE_DOUBLE:
        return float_json(out, v->f64);
    case PQ_TYPE_STRING:
        return string_json(out, v, is_max);
    case PQ_TYPE_DATE:
        return date_json(out, v->i32);
    case PQ_TYPE_TIMESTAMP_US:
        return ts_json(out, v->i64, true);
    case PQ_TYPE_TIMESTAMP_NTZ:
        return ts_json(out, v->i64, false);
    case PQ_TYPE_DECIMAL: {
        pq_int128 d = c->kind == PQ_KIND_I32   ? i128_of(v->i32)
                      : c->kind == PQ_KIND_I64 ? i128_of(v->i64)
                                               : v->dec;
        pq_decimal_format(d, c->scale, text, sizeof text);
        buf_append_str(out, text);
        return true;
    }
    }
    return false;
}

static void put_name(sl_buf *out, const char *name)
{
    put_json(out, json_string(name));
    buf_append_char(out, ':');
}

/* One of minValues/maxValues. */
static void put_bounds(sl_buf *out, const pq_column *cols, size_t ncols, bool is_max)
{
    buf_append_char(out, '{');
    bool first = true;
    sl_buf v = {0};
    for (size_t i = 0; i < ncols; i++) {
        buf_reset(&v);
        if (!bound_json(&v, &cols[i], &cols[i].file_stats, is_max))
            continue;
        if (!first)
            buf_append_char(out, ',');
        first = false;
        put_name(out, cols[i].name);
        buf_append(out, v.data, v.len);
    }
    buf_free(&v);
    buf_append_char(out, '}');
}

char *pq_delta_stats_text(const pq_column *cols, size_t ncols, int64_t num_rows)
{
    sl_buf out = {0};
    buf_appendf(&out, "{\"numRecords\":%lld,\"minValues\":", (long long)num_rows);
    put_bounds(&out, cols, ncols, false);
    buf_append_str(&out, ",\"maxValues\":");
    put_bounds(&out, cols, ncols, true);
    buf_append_str(&out, ",\"nullCount\":{");
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            buf_append_char(&out, ',');
        put_name(&out, cols[i].name);
        buf_appendf(&out, "%lld", (long long)cols[i].file_stats.null_count);
    }
    buf_append_str(&out, "}}");
    return buf_steal(&out);
}

/* The same as JSON values: decimals become reals (the nearest double),
 * and integers beyond 64 bits (decimal(38,0)) too. */
json_t *pq_delta_stats_build(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (j)
        return j;
    /* only a decimal integer past 64 bits makes jansson refuse */
    return json_loads(text, JSON_DECODE_INT_AS_REAL, &jerr);
}
