/* One decoded Parquet value as JSON, by the leaf's physical type and its
 * annotations (the formats documented in pq_reader.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_read_int.h"
#include "backend/util/text.h"
#include "backend/util/timeutil.h"

static json_t *base64_json(const uint8_t *p, size_t n)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t outlen = 7 + 4 * ((n + 2) / 3);
    char *s = malloc(outlen + 1);
    if (!s)
        abort();
    memcpy(s, "base64:", 7);
    char *o = s + 7;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    json_t *j = json_stringn_nocheck(s, (size_t)(o - s));
    free(s);
    return j;
}

json_t *pq_json_bytes(const uint8_t *p, size_t n)
{
    if (text_utf8_valid(p, n))
        return json_stringn_nocheck((const char *)p, n);
    return base64_json(p, n);
}

/* ---- dates and times --------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (Hinnant's method). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Writes v in decimal, zero-padded to at least width digits; returns the
 * count (no printf: timestamps are formatted once per value). */
static int put_digits(char *out, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* "YYYY-MM-DD" (more year digits or a leading '-' when needed); out holds
 * at least 32 bytes. */
static int fmt_date(char *out, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = 0;
    if (y < 0)
        out[n++] = '-';
    n += put_digits(out + n, (uint64_t)(y < 0 ? -y : y), 4);
    out[n++] = '-';
    n += put_digits(out + n, m, 2);
    out[n++] = '-';
    n += put_digits(out + n, d, 2);
    return n;
}

/* HH:MM:SS[.ffffff|.fffffffff] from a count of sub-second units in a day;
 * out holds at least 24 bytes. */
static int fmt_time_of_day(char *out, int64_t t, int64_t per_sec)
{
    int64_t secs = t / per_sec, frac = t % per_sec;
    int n = put_digits(out, (uint64_t)(secs / 3600), 2);
    out[n++] = ':';
    n += put_digits(out + n, (uint64_t)(secs / 60 % 60), 2);
    out[n++] = ':';
    n += put_digits(out + n, (uint64_t)(secs % 60), 2);
    if (frac == 0)
        return n;
    out[n++] = '.';
    if (per_sec == 1000)
        return n + put_digits(out + n, (uint64_t)frac * 1000, 6);
    if (per_sec == 1000000)
        return n + put_digits(out + n, (uint64_t)frac, 6);
    if (frac % 1000 == 0)
        return n + put_digits(out + n, (uint64_t)frac / 1000, 6);
    return n + put_digits(out + n, (uint64_t)frac, 9);
}

static json_t *ts_json(int64_t v, int64_t per_sec, bool utc)
{
    int64_t per_day = per_sec * 86400;
    /* days * per_day can lie below INT64_MIN: take the remainder instead */
    int64_t days = v / per_day, rem = v % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    char buf[80];
    int n = fmt_date(buf, days);
    buf[n++] = 'T';
    n += fmt_time_of_day(buf + n, rem, per_sec);
    if (utc)
        buf[n++] = 'Z';
    return json_stringn_nocheck(buf, (size_t)n);
}

static json_t *time_json(int64_t v, int64_t per_sec)
{
    int64_t per_day = per_sec * 86400;
    if (v < 0 || v > per_day)
        return json_integer(v); /* outside a day: show the raw count */
    char buf[40];
    int n = fmt_time_of_day(buf, v, per_sec);
    return json_stringn_nocheck(buf, (size_t)n);
}

int64_t pq_int96_to_micros(const uint8_t v[12])
{
    uint64_t nanos = 0;
    for (int i = 7; i >= 0; i--)
        nanos = nanos << 8 | v[i];
    uint32_t jd = (uint32_t)v[8] | (uint32_t)v[9] << 8 | (uint32_t)v[10] << 16 |
                  (uint32_t)v[11] << 24;
    /* Spark's own arithmetic: 64-bit microseconds with wrap-around, which
     * gives back exactly the instants Spark wrote, also beyond the range of
     * 64-bit nanoseconds (unsigned, so no signed overflow). */
    uint64_t days = (uint64_t)((int64_t)(int32_t)jd - 2440588);
    uint64_t us = days * 86400000000ULL + (uint64_t)((int64_t)nanos / 1000);
    return (int64_t)us;
}

/* ---- decimals ---------------------------------------------------------- */

static json_t *decimal_from_i128(__int128 v, int32_t scale)
{
    char digits[48];
    size_t nd = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (scale < 0)
        scale = 0;
    if (scale > 38)
        scale = 38;
    while (nd <= (size_t)scale)
        digits[nd++] = '0';
    char out[96];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    for (size_t i = nd; i-- > 0;) {
        out[o++] = digits[i];
        if (i == (size_t)scale && scale > 0)
            out[o++] = '.';
    }
    return json_stringn(out, o);
}

/* Big-endian two's complement; NULL when it does not fit 128 bits. */
static json_t *decimal_from_bytes(const uint8_t *p, size_t n, int32_t scale)
{
    if (n == 0)
        return decimal_from_i128(0, scale);
    uint8_t sign = (p[0] & 0x80) ? 0xFF : 0x00;
    while (n > 16) {
        if (p[0] != sign)
            return NULL;
        p++, n--;
    }
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | p[i];
    return decimal_from_i128((__int128)u, scale);
}

/* ---- per-leaf format ---------------------------------------------------- */

static bool is_unsigned(const pq_node *l)
{
    if (l->logical.kind == PQ_LOGICAL_INTEGER)
        return !l->logical.int_signed;
    return l->converted >= PQ_CONV_UINT_8 && l->converted <= PQ_CONV_UINT_64;
}

static bool is_decimal(const pq_node *l)
{
    return l->logical.kind == PQ_LOGICAL_DECIMAL ||
           (l->logical.kind == PQ_LOGICAL_NONE && l->converted == PQ_CONV_DECIMAL);
}

pq_vfmt pq_value_format(const pq_node *l)
{
    const pq_logical *lg = &l->logical;
    if (lg->kind == PQ_LOGICAL_UNKNOWN)
        return PQ_VF_NULL;
    switch (l->type) {
    case PQ_PHYS_BOOLEAN:
        return PQ_VF_BOOL;
    case PQ_PHYS_INT32:
        if (is_decimal(l))
            return PQ_VF_DECIMAL;
        if (lg->kind == PQ_LOGICAL_DATE || l->converted == PQ_CONV_DATE)
            return PQ_VF_DATE;
        if ((lg->kind == PQ_LOGICAL_TIME && lg->ts_unit == PQ_UNIT_MILLIS) ||
            l->converted == PQ_CONV_TIME_MILLIS)
            return PQ_VF_TIME_MILLIS;
        return is_unsigned(l) ? PQ_VF_U32 : PQ_VF_I32;
    case PQ_PHYS_INT64:
        if (is_decimal(l))
            return PQ_VF_DECIMAL;
        if (lg->kind == PQ_LOGICAL_TIMESTAMP)
            return lg->ts_unit == PQ_UNIT_NANOS    ? PQ_VF_TS_NANOS
                   : lg->ts_unit == PQ_UNIT_MICROS ? PQ_VF_TS_MICROS
                                                   : PQ_VF_TS_MILLIS;
        if (lg->kind == PQ_LOGICAL_TIME)
            return lg->ts_unit == PQ_UNIT_NANOS ? PQ_VF_TIME_NANOS : PQ_VF_TIME_MICROS;
        if (l->converted == PQ_CONV_TIMESTAMP_MILLIS)
            return PQ_VF_TS_MILLIS;
        if (l->converted == PQ_CONV_TIMESTAMP_MICROS)
            return PQ_VF_TS_MICROS;
        if (l->converted == PQ_CONV_TIME_MICROS)
            return PQ_VF_TIME_MICROS;
        return is_unsigned(l) ? PQ_VF_U64 : PQ_VF_I64;
    case PQ_PHYS_INT96:
        return PQ_VF_INT96;
    case PQ_PHYS_FLOAT:
        return PQ_VF_FLOAT;
    case PQ_PHYS_DOUBLE:
        return PQ_VF_DOUBLE;
    case PQ_PHYS_BYTE_ARRAY:
        return is_decimal(l) ? PQ_VF_DECIMAL : PQ_VF_STRING;
    case PQ_PHYS_FIXED_LEN_BYTE_ARRAY:
        if (is_decimal(l))
            return PQ_VF_DECIMAL;
        if (lg->kind == PQ_LOGICAL_UUID && l->type_length == 16)
            return PQ_VF_UUID;
        if (lg->kind == PQ_LOGICAL_FLOAT16 && l->type_length == 2)
            return PQ_VF_FLOAT16;
        return PQ_VF_STRING;
    }
    return PQ_VF_STRING;
}

static json_t *real_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v;
    if (e == 0)
        v = ldexp(m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static json_t *uuid_json(const uint8_t *p)
{
    char s[37];
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[o++] = '-';
        s[o++] = hex[p[i] >> 4];
        s[o++] = hex[p[i] & 15];
    }
    return json_stringn(s, o);
}

static bool ts_utc(const pq_node *l)
{
    /* Legacy converted timestamps are instants (UTC). */
    return l->logical.kind == PQ_LOGICAL_TIMESTAMP ? l->logical.ts_adjusted_to_utc : true;
}

json_t *pq_value_json(pq_vfmt f, const pq_node *l, const void *values, size_t i)
{
    switch (f) {
    case PQ_VF_NULL:
        return json_null();
    case PQ_VF_BOOL:
        return json_boolean(((const uint8_t *)values)[i]);
    case PQ_VF_I32:
        return json_integer(((const int32_t *)values)[i]);
    case PQ_VF_U32:
        return json_integer((json_int_t)(uint32_t)((const int32_t *)values)[i]);
    case PQ_VF_I64:
        return json_integer(((const int64_t *)values)[i]);
    case PQ_VF_U64: {
        uint64_t u = (uint64_t)((const int64_t *)values)[i];
        if (u <= INT64_MAX)
            return json_integer((json_int_t)u);
        char b[24];
        int n = snprintf(b, sizeof b, "%llu", (unsigned long long)u);
        return json_stringn_nocheck(b, (size_t)n);
    }
    case PQ_VF_FLOAT:
        return real_json(((const float *)values)[i]);
    case PQ_VF_DOUBLE:
        return real_json(((const double *)values)[i]);
    case PQ_VF_STRING: {
        const pq_span *s = &((const pq_span *)values)[i];
        return pq_json_bytes(s->ptr, s->len);
    }
    case PQ_VF_DECIMAL:
        switch (l->type) {
        case PQ_PHYS_INT32:
            return decimal_from_i128(((const int32_t *)values)[i], l->scale);
        case PQ_PHYS_INT64:
            return decimal_from_i128(((const int64_t *)values)[i], l->scale);
        case PQ_PHYS_BYTE_ARRAY:
        case PQ_PHYS_FIXED_LEN_BYTE_ARRAY: {
            const pq_span *s = &((const pq_span *)values)[i];
            json_t *j = decimal_from_bytes(s->ptr, s->len, l->scale);
            return j ? j : pq_json_bytes(s->ptr, s->len);
        }
        default:
            return json_null();
        }
    case PQ_VF_DATE: {
        char b[40];
        int n = fmt_date(b, ((const int32_t *)values)[i]);
        return json_stringn_nocheck(b, (size_t)n);
    }
    case PQ_VF_TS_MILLIS:
        return ts_json(((const int64_t *)values)[i], 1000, ts_utc(l));
    case PQ_VF_TS_MICROS:
        return ts_json(((const int64_t *)values)[i], 1000000, ts_utc(l));
    case PQ_VF_TS_NANOS:
        return ts_json(((const int64_t *)values)[i], 1000000000, ts_utc(l));
    case PQ_VF_TIME_MILLIS:
        return time_json(((const int32_t *)values)[i], 1000);
    case PQ_VF_TIME_MICROS:
        return time_json(((const int64_t *)values)[i], 1000000);
    case PQ_VF_TIME_NANOS:
        return time_json(((const int64_t *)values)[i], 1000000000);
    case PQ_VF_INT96:
        return ts_json(pq_int96_to_micros((const uint8_t *)values + 12 * i), 1000000, true);
    case PQ_VF_UUID:
        return uuid_json(((const pq_span *)values)[i].ptr);
    case PQ_VF_FLOAT16: {
        const uint8_t *p = ((const pq_span *)values)[i].ptr;
        return real_json(half_to_double((uint16_t)(p[0] | p[1] << 8)));
    }
    }
    return json_null();
}

json_t *pq_stat_value_json(const pq_node *l, const uint8_t *v, size_t len)
{
    union {
        uint8_t b;
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        uint8_t raw[12];
        pq_span span;
    } u;
    size_t want;
    switch (l->type) {
    case PQ_PHYS_BOOLEAN: want = 1; break;
    case PQ_PHYS_INT32:
    case PQ_PHYS_FLOAT: want = 4; break;
    case PQ_PHYS_INT64:
    case PQ_PHYS_DOUBLE: want = 8; break;
    case PQ_PHYS_INT96: want = 12; break;
    case PQ_PHYS_FIXED_LEN_BYTE_ARRAY: want = (size_t)l->type_length; break;
    default: want = len; break;
    }
    if (len != want)
        return NULL;
    if (l->type == PQ_PHYS_BYTE_ARRAY || l->type == PQ_PHYS_FIXED_LEN_BYTE_ARRAY) {
        u.span = (pq_span){v, (uint32_t)len};
    } else {
        memcpy(u.raw, v, len);
        if (l->type == PQ_PHYS_BOOLEAN)
            u.b = v[0] != 0;
    }
    return pq_value_json(pq_value_format(l), l, &u, 0);
}

bool pq_legacy_stats_usable(const pq_node *l)
{
    switch (l->type) {
    case PQ_PHYS_BOOLEAN:
    case PQ_PHYS_FLOAT:
    case PQ_PHYS_DOUBLE:
        return true;
    case PQ_PHYS_INT32:
    case PQ_PHYS_INT64:
        return !is_unsigned(l);
    default:
        return false; /* byte strings were compared as signed bytes */
    }
}
