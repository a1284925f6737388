/* Decimals for the writer: text to unscaled 128-bit values and back, the
 * precision checks and the FIXED_LEN_BYTE_ARRAY width. GCC and clang's
 * 128-bit integers do the arithmetic; the public face is pq_int128. */
#include <string.h>

#include "backend/parquet/pq_column.h"

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

/* A decimal has at most this many significant digits (10^38 < 2^127). */
#define MAX_DIGITS PQ_DECIMAL_MAX_PRECISION
/* Exponents beyond this cannot give a value that fits, whatever the digits. */
#define MAX_EXPONENT 10000

static u128 to_u128(pq_int128 v)
{
    return (u128)(uint64_t)v.hi << 64 | v.lo;
}

static i128 to_i128(pq_int128 v)
{
    return (i128)to_u128(v);
}

static pq_int128 from_i128(i128 v)
{
    u128 u = (u128)v;
    return (pq_int128){.lo = (uint64_t)u, .hi = (int64_t)(uint64_t)(u >> 64)};
}

static u128 pow10_u128(int n)
{
    u128 r = 1;
    for (int i = 0; i < n; i++)
        r *= 10;
    return r;
}

static u128 abs_u128(pq_int128 v)
{
    u128 u = to_u128(v);
    return v.hi < 0 ? (u128)0 - u : u;
}

int pq_int128_cmp(pq_int128 a, pq_int128 b)
{
    i128 x = to_i128(a), y = to_i128(b);
    return (x > y) - (x < y);
}

bool pq_int128_fits_precision(pq_int128 v, int32_t precision)
{
    if (precision < 1 || precision > MAX_DIGITS)
        return false;
    return abs_u128(v) < pow10_u128(precision);
}

int32_t pq_decimal_flba_length(int32_t precision)
{
    u128 limit = pow10_u128(precision);
    for (int32_t n = 1; n < 16; n++)
        if (((u128)1 << (8 * n - 1)) >= limit)
            return n;
    return 16;
}

sl_code pq_decimal_parse(const char *s, size_t len, int32_t precision, int32_t scale,
                         pq_value *out, sl_err *err)
{
    if (precision < 1 || precision > MAX_DIGITS || scale < 0 || scale > precision)
        return err_set(err, SL_PARQUET_VALUE, "decimal(%d,%d) is not a valid type",
                       (int)precision, (int)scale);
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    /* value = digits * 10^exp, digits without leading zeros */
    char digits[MAX_DIGITS + 1];
    int nd = 0;
    long exp = 0;
    bool any = false, too_many = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (nd == 0 && s[i] == '0')
            continue;
        if (nd < MAX_DIGITS + 1)
            digits[nd++] = s[i];
        else if (s[i] != '0')
            too_many = true;
        else
            exp++; /* a zero we did not store still scales the value */
    }
    if (nd > MAX_DIGITS)
        too_many = true;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            any = true;
            if (nd == 0 && s[i] == '0') {
                exp--;
                continue;
            }
            if (nd < MAX_DIGITS + 1) {
                digits[nd++] = s[i];
                exp--;
            } else if (s[i] != '0') {
                too_many = true;
            }
        }
    }
    if (!any)
        goto bad;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= len || s[i] < '0' || s[i] > '9')
            goto bad;
        long e = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < MAX_EXPONENT)
                e = e * 10 + (s[i] - '0');
        exp += eneg ? -e : e;
    }
    if (i != len)
        goto bad;
    while (nd > 0 && digits[nd - 1] == '0') {
        nd--;
        exp++;
    }
    if (nd == 0) {
        *out = pq_val_dec(0);
        return SL_OK;
    }
    long k = exp + scale; /* unscaled = digits * 10^k */
    if (k < 0)
        return err_set(err, SL_PARQUET_VALUE,
                       "decimal '%.*s' has more fractional digits than scale %d",
                       (int)(len > 64 ? 64 : len), s, (int)scale);
    if (too_many || nd + k > precision)
        return err_set(err, SL_PARQUET_VALUE,
                       "decimal '%.*s' does not fit decimal(%d,%d)",
                       (int)(len > 64 ? 64 : len), s, (int)precision, (int)scale);
    u128 u = 0;
    for (int d = 0; d < nd; d++)
        u = u * 10 + (u128)(digits[d] - '0');
    u *= pow10_u128((int)k);
    i128 v = neg ? -(i128)u : (i128)u;
    *out = (pq_value){.dec = from_i128(v)};
    return SL_OK;
bad:
    return err_set(err, SL_PARQUET_VALUE, "'%.*s' is not a decimal number",
                   (int)(len > 64 ? 64 : len), s);
}

size_t pq_decimal_format(pq_int128 v, int32_t scale, char *out, size_t outlen)
{
    char tmp[48];
    size_t n = 0;
    u128 u = abs_u128(v);
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while ((int32_t)n <= scale) /* at least one digit before the point */
        tmp[n++] = '0';
    char res[48];
    size_t r = 0;
    if (v.hi < 0)
        res[r++] = '-';
    for (size_t k = n; k > 0; k--) {
        res[r++] = tmp[k - 1];
        if (scale > 0 && k - 1 == (size_t)scale)
            res[r++] = '.';
    }
    if (outlen == 0)
        return r;
    size_t copy = r < outlen - 1 ? r : outlen - 1;
    memcpy(out, res, copy);
    out[copy] = '\0';
    return r;
}
