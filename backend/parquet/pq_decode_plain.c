/* PLAIN decoding: fixed-width values, bit-packed booleans, length-prefixed
 * byte arrays. */

#include <string.h>

#include "backend/parquet/pq_decode.h"

sl_code pq_decode_plain_fixed(const uint8_t *src, size_t n, size_t width, size_t count,
                              void *out, size_t *consumed, sl_err *err)
{
    if (width == 0)
        return err_set(err, SL_PARQUET_CORRUPT, "PLAIN: value width 0");
    if (count > n / width)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "PLAIN: %zu values of %zu bytes need more than the %zu bytes present",
                       count, width, n);
    size_t len = count * width;
    if (len)
        memcpy(out, src, len);
    if (consumed)
        *consumed = len;
    return SL_OK;
}

sl_code pq_decode_plain_bool(const uint8_t *src, size_t n, size_t count, uint8_t *out,
                             size_t *consumed, sl_err *err)
{
    size_t need = count / 8 + (count % 8 != 0);
    if (need > n)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "PLAIN booleans: %zu values need %zu bytes, %zu present", count, need, n);
    size_t full = count / 8;
    for (size_t b = 0; b < full; b++) {
        uint8_t v = src[b];
        uint8_t *o = out + b * 8;
        for (int j = 0; j < 8; j++)
            o[j] = (uint8_t)((v >> j) & 1);
    }
    for (size_t i = full * 8; i < count; i++)
        out[i] = (uint8_t)((src[i >> 3] >> (i & 7)) & 1);
    if (consumed)
        *consumed = need;
    return SL_OK;
}

sl_code pq_decode_plain_bytes(const uint8_t *src, size_t n, size_t count, pq_span *out,
                              size_t *consumed, sl_err *err)
{
    size_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        if (n - pos < 4)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "PLAIN BYTE_ARRAY: input ends before the length of value %zu of %zu "
                           "(byte %zu)",
                           i, count, pos);
        uint32_t len = (uint32_t)src[pos] | (uint32_t)src[pos + 1] << 8 |
                       (uint32_t)src[pos + 2] << 16 | (uint32_t)src[pos + 3] << 24;
        pos += 4;
        if (len > n - pos)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "PLAIN BYTE_ARRAY: value %zu of %zu claims %u bytes, %zu left", i,
                           count, len, n - pos);
        out[i].ptr = src + pos;
        out[i].len = len;
        pos += len;
    }
    if (consumed)
        *consumed = pos;
    return SL_OK;
}
