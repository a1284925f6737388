/* RLE / bit-packed hybrid decoding (levels, dictionary indices, booleans)
 * and the deprecated BIT_PACKED level encoding. */

#include <stdbool.h>
#include <string.h>

#include "backend/parquet/pq_decode.h"
#include "backend/parquet/pq_decode_bits.h"

/* Values per step when bit-packed levels are narrowed to int16; a multiple
 * of 8 keeps every step byte aligned. */
#define LEVEL_CHUNK 512

/* Unpacks k values of width bw (LSB first) from p, where avail bytes exist
 * and avail covers the k values. bw is a constant after inlining, so each
 * case of unpack32 below becomes straight-line shifts. */
static inline __attribute__((always_inline)) void unpack32_w(const uint8_t *p, size_t avail,
                                                             uint32_t *out, size_t k,
                                                             const int bw)
{
    const uint64_t mask = bw == 32 ? 0xffffffffu : (((uint64_t)1 << bw) - 1);
    size_t groups = k / 8;
    /* a group of 8 values is bw bytes; the 8-byte loads need 8 bytes of slack */
    size_t fast = avail >= (size_t)bw + 8 ? (avail - (size_t)bw - 8) / (size_t)bw + 1 : 0;
    if (fast > groups)
        fast = groups;
    for (size_t g = 0; g < fast; g++) {
        const uint8_t *q = p + g * (size_t)bw;
        uint32_t *o = out + g * 8;
        /* written out so that every shift is a constant */
#define UNPACK_ONE(j) o[j] = (uint32_t)((pq_load64(q + ((j) * bw >> 3)) >> ((j) * bw & 7)) & mask)
        UNPACK_ONE(0);
        UNPACK_ONE(1);
        UNPACK_ONE(2);
        UNPACK_ONE(3);
        UNPACK_ONE(4);
        UNPACK_ONE(5);
        UNPACK_ONE(6);
        UNPACK_ONE(7);
#undef UNPACK_ONE
    }
    for (size_t i = fast * 8; i < k; i++) {
        size_t off = i * (size_t)bw;
        size_t b = off >> 3;
        out[i] = (uint32_t)((pq_load64_partial(p + b, avail - b) >> (off & 7)) & mask);
    }
}

#define UNPACK_CASE(W)                                                                        \
    case W:                                                                                   \
        unpack32_w(p, avail, out, k, W);                                                      \
        break;
#define UNPACK_CASES8(B)                                                                      \
    UNPACK_CASE(B + 1)                                                                        \
    UNPACK_CASE(B + 2)                                                                        \
    UNPACK_CASE(B + 3)                                                                        \
    UNPACK_CASE(B + 4)                                                                        \
    UNPACK_CASE(B + 5)                                                                        \
    UNPACK_CASE(B + 6) UNPACK_CASE(B + 7) UNPACK_CASE(B + 8)

static void unpack32(const uint8_t *p, size_t avail, int bw, uint32_t *out, size_t k)
{
    switch (bw) {
    case 0:
        memset(out, 0, k * sizeof *out);
        break;
        UNPACK_CASES8(0)
        UNPACK_CASES8(8)
        UNPACK_CASES8(16)
        UNPACK_CASES8(24)
    default:
        break;
    }
}

/* Bit-packed run into int16 levels, through a small u32 buffer. Returns
 * false when a value does not fit int16. */
static bool unpack_levels(const uint8_t *p, size_t avail, int bw, int16_t *out, size_t k)
{
    uint32_t tmp[LEVEL_CHUNK];
    for (size_t done = 0; done < k; done += LEVEL_CHUNK) {
        size_t m = k - done < LEVEL_CHUNK ? k - done : LEVEL_CHUNK;
        size_t skip = done / 8 * (size_t)bw;
        unpack32(p + skip, avail - skip, bw, tmp, m);
        uint32_t acc = 0;
        for (size_t i = 0; i < m; i++) {
            acc |= tmp[i];
            out[done + i] = (int16_t)tmp[i];
        }
        if (acc > INT16_MAX)
            return false;
    }
    return true;
}

static sl_code rle_corrupt(sl_err *err, const char *what, size_t done, size_t count, size_t pos)
{
    return err_set(err, SL_PARQUET_CORRUPT,
                   "RLE/bit-packed hybrid: %s (after %zu of %zu values, at byte %zu)", what, done,
                   count, pos);
}

/* The hybrid decoder behind both entry points; exactly one of o32 / o16 is
 * set. */
static sl_code rle_decode(const uint8_t *src, size_t n, int bw, uint32_t *o32, int16_t *o16,
                          size_t count, size_t *consumed, sl_err *err)
{
    int max_bw = o16 ? 16 : 32;
    if (bw < 0 || bw > max_bw)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "RLE/bit-packed hybrid: bit width %d is out of range 0..%d", bw, max_bw);
    if (count > SIZE_MAX / 64)
        return err_set(err, SL_PARQUET_CORRUPT, "RLE/bit-packed hybrid: absurd value count %zu",
                       count);
    const size_t vbytes = ((size_t)bw + 7) / 8;
    uint64_t maxv = ((uint64_t)1 << bw) - 1;
    if (o16 && maxv > INT16_MAX)
        maxv = INT16_MAX;
    size_t pos = 0, done = 0;
    while (done < count) {
        size_t want = count - done;
        if (pos >= n && bw == 0) {
            /* width 0 carries no information: a writer that stops early
             * still means zeros */
            if (o32)
                memset(o32 + done, 0, want * sizeof *o32);
            else
                memset(o16 + done, 0, want * sizeof *o16);
            done = count;
            break;
        }
        uint64_t h;
        if (!pq_varint_read(src, n, &pos, &h))
            return rle_corrupt(err, pos >= n ? "input ends before the next run header"
                                             : "run header is not a valid varint",
                               done, count, pos);
        if (h & 1) {
            uint64_t groups = h >> 1;
            size_t take = groups >= (want + 7) / 8 ? want : (size_t)groups * 8;
            if (take > want)
                take = want;
            size_t avail = n - pos;
            if (pq_packed_bytes(take, bw) > avail)
                return rle_corrupt(err, "bit-packed run is truncated", done, count, pos);
            if (o32) {
                unpack32(src + pos, avail, bw, o32 + done, take);
            } else if (!unpack_levels(src + pos, avail, bw, o16 + done, take)) {
                return rle_corrupt(err, "level does not fit 16 bits", done, count, pos);
            }
            /* a final run may stop short of its declared groups once the
             * values in use are present */
            if (bw > 0)
                pos += groups <= avail / (size_t)bw ? (size_t)groups * (size_t)bw : avail;
            done += take;
        } else {
            uint64_t run = h >> 1;
            if (vbytes > n - pos)
                return rle_corrupt(err, "RLE run value is truncated", done, count, pos);
            uint64_t v = 0;
            for (size_t b = 0; b < vbytes; b++)
                v |= (uint64_t)src[pos + b] << (8 * b);
            if (v > maxv)
                return rle_corrupt(err, "RLE run value is wider than the bit width", done,
                                   count, pos);
            pos += vbytes;
            size_t take = run < want ? (size_t)run : want;
            if (o32) {
                uint32_t *o = o32 + done;
                for (size_t i = 0; i < take; i++)
                    o[i] = (uint32_t)v;
            } else {
                int16_t *o = o16 + done;
                for (size_t i = 0; i < take; i++)
                    o[i] = (int16_t)v;
            }
            done += take;
        }
    }
    if (consumed)
        *consumed = pos;
    return SL_OK;
}

sl_code pq_decode_rle(const uint8_t *src, size_t n, int bit_width, uint32_t *out,
                      size_t count, size_t *consumed, sl_err *err)
{
    return rle_decode(src, n, bit_width, out, NULL, count, consumed, err);
}

sl_code pq_decode_rle_levels(const uint8_t *src, size_t n, int bit_width, int16_t *out,
                             size_t count, size_t *consumed, sl_err *err)
{
    return rle_decode(src, n, bit_width, NULL, out, count, consumed, err);
}

sl_code pq_decode_bit_packed_levels(const uint8_t *src, size_t n, int bit_width,
                                    int16_t *out, size_t count, size_t *consumed,
                                    sl_err *err)
{
    if (bit_width < 0 || bit_width > 16)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BIT_PACKED levels: bit width %d is out of range 0..16", bit_width);
    if (count > SIZE_MAX / 64)
        return err_set(err, SL_PARQUET_CORRUPT, "BIT_PACKED levels: absurd value count %zu",
                       count);
    size_t need = pq_packed_bytes(count, bit_width);
    if (need > n)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BIT_PACKED levels: %zu values of %d bits need %zu bytes, %zu present",
                       count, bit_width, need, n);
    if (bit_width == 0) {
        memset(out, 0, count * sizeof *out);
    } else {
        const uint32_t mask = ((uint32_t)1 << bit_width) - 1;
        for (size_t i = 0; i < count; i++) {
            size_t off = i * (size_t)bit_width;
            size_t b = off >> 3;
            /* most significant bit first: a 24-bit big-endian window holds
             * any value of up to 16 bits at any bit offset */
            uint32_t w = (uint32_t)src[b] << 16;
            if (b + 1 < need)
                w |= (uint32_t)src[b + 1] << 8;
            if (b + 2 < need)
                w |= src[b + 2];
            uint32_t v = (w >> (24 - (int)(off & 7) - bit_width)) & mask;
            if (v > INT16_MAX)
                return err_set(err, SL_PARQUET_CORRUPT,
                               "BIT_PACKED levels: level %u does not fit 16 bits", v);
            out[i] = (int16_t)v;
        }
    }
    if (consumed)
        *consumed = need;
    return SL_OK;
}
