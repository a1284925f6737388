/* DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY. */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_decode.h"
#include "backend/parquet/pq_decode_bits.h"

/* Values unpacked per step inside a miniblock (a multiple of 8, so every
 * step starts on a byte boundary). */
#define DBP_CHUNK 64
/* Block sizes are i32 in every writer; larger ones are corrupt headers. */
#define DBP_MAX_BLOCK ((uint64_t)1 << 31)
/* Rebuilt DELTA_BYTE_ARRAY values of one page: the reader's limit for any
 * page. Prefixes repeat bytes, so a small page could otherwise ask for
 * gigabytes (n values of 1..n bytes rebuild to n(n+1)/2). */
#define DBA_MAX_BYTES ((uint64_t)1 << 30)

/* Unpacks k values of bw bits (LSB first, bw 1..64) from p with avail bytes
 * present (covering the k values). A value spans at most 9 bytes. */
static inline __attribute__((always_inline)) void unpack64_w(const uint8_t *p, size_t avail,
                                                             uint64_t *out, size_t k,
                                                             const int bw)
{
    const uint64_t mask = bw == 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
    size_t groups = k / 8;
    size_t fast = avail >= (size_t)bw + 9 ? (avail - (size_t)bw - 9) / (size_t)bw + 1 : 0;
    if (fast > groups)
        fast = groups;
    for (size_t g = 0; g < fast; g++) {
        const uint8_t *q = p + g * (size_t)bw;
        uint64_t *o = out + g * 8;
        /* written out so that every shift is a constant */
#define UNPACK_ONE(j)                                                                         \
    do {                                                                                      \
        const int sh = (j) * bw & 7;                                                          \
        uint64_t v = pq_load64(q + ((j) * bw >> 3)) >> sh;                                    \
        if (bw > 56 && sh + bw > 64)                                                          \
            v |= (uint64_t)q[((j) * bw >> 3) + 8] << ((64 - sh) & 63);                        \
        o[j] = v & mask;                                                                      \
    } while (0)
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
        int sh = (int)(off & 7);
        uint64_t v = pq_load64_partial(p + b, avail - b) >> sh;
        if (sh + bw > 64)
            v |= (uint64_t)p[b + 8] << (64 - sh);
        out[i] = v & mask;
    }
}

#define UNPACK_CASE(W)                                                                        \
    case W:                                                                                   \
        unpack64_w(p, avail, out, k, W);                                                      \
        break;
#define UNPACK_CASES8(B)                                                                      \
    UNPACK_CASE(B + 1)                                                                        \
    UNPACK_CASE(B + 2)                                                                        \
    UNPACK_CASE(B + 3)                                                                        \
    UNPACK_CASE(B + 4)                                                                        \
    UNPACK_CASE(B + 5)                                                                        \
    UNPACK_CASE(B + 6) UNPACK_CASE(B + 7) UNPACK_CASE(B + 8)

static void unpack64(const uint8_t *p, size_t avail, int bw, uint64_t *out, size_t k)
{
    switch (bw) {
    case 0:
        memset(out, 0, k * sizeof *out);
        break;
        UNPACK_CASES8(0)
        UNPACK_CASES8(8)
        UNPACK_CASES8(16)
        UNPACK_CASES8(24)
        UNPACK_CASES8(32)
        UNPACK_CASES8(40)
        UNPACK_CASES8(48)
        UNPACK_CASES8(56)
    default:
        break;
    }
}

static sl_code dbp_corrupt(sl_err *err, const char *what, size_t pos)
{
    return err_set(err, SL_PARQUET_CORRUPT, "DELTA_BINARY_PACKED: %s (at byte %zu)", what, pos);
}

/* Decodes the first count values of a DELTA_BINARY_PACKED stream into o32
 * or o64 (exactly one is set) and walks the rest of the stream so that
 * *consumed is its end. Arithmetic wraps in 64 bits; 32-bit output keeps
 * the low half, which is the same as wrapping in 32 bits. */
static inline __attribute__((always_inline)) sl_code
dbp_decode(const uint8_t *src, size_t n, int32_t *o32, int64_t *o64, size_t count,
           size_t *consumed, sl_err *err)
{
    size_t pos = 0;
    uint64_t block_size, mini_count, total, zz;
    if (!pq_varint_read(src, n, &pos, &block_size) ||
        !pq_varint_read(src, n, &pos, &mini_count) || !pq_varint_read(src, n, &pos, &total) ||
        !pq_varint_read(src, n, &pos, &zz))
        return dbp_corrupt(err, "header is truncated or not varints", pos);
    if (block_size == 0 || block_size % 128 != 0 || block_size > DBP_MAX_BLOCK)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "DELTA_BINARY_PACKED: block size %llu is not a positive multiple of 128",
                       (unsigned long long)block_size);
    if (mini_count == 0 || block_size % mini_count != 0 ||
        (block_size / mini_count) % 32 != 0)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "DELTA_BINARY_PACKED: %llu miniblocks do not split a block of %llu into "
                       "multiples of 32 values",
                       (unsigned long long)mini_count, (unsigned long long)block_size);
    if (count > total)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "DELTA_BINARY_PACKED: header holds %llu values, %zu expected",
                       (unsigned long long)total, count);
    const size_t vpm = (size_t)(block_size / mini_count);
    uint64_t last = (uint64_t)pq_zigzag_decode(zz);
    size_t done = 0;
    if (count > 0) {
        if (o32)
            o32[0] = (int32_t)(uint32_t)last;
        else
            o64[0] = (int64_t)last;
        done = 1;
    }
    uint64_t remaining = total > 0 ? total - 1 : 0;
    uint64_t tmp[DBP_CHUNK];
    while (remaining > 0) {
        uint64_t mzz;
        if (!pq_varint_read(src, n, &pos, &mzz))
            return dbp_corrupt(err, "block header (min delta) is truncated", pos);
        const uint64_t min_delta = (uint64_t)pq_zigzag_decode(mzz);
        if (mini_count > n - pos)
            return dbp_corrupt(err, "miniblock bit widths are truncated", pos);
        const uint8_t *widths = src + pos;
        pos += (size_t)mini_count;
        /* widths of miniblocks past the last value may be garbage: never read them */
        for (size_t m = 0; m < mini_count && remaining > 0; m++) {
            int bw = widths[m];
            if (bw > 64)
                return err_set(err, SL_PARQUET_CORRUPT,
                               "DELTA_BINARY_PACKED: miniblock bit width %d is over 64 (at "
                               "byte %zu)",
                               bw, pos);
            size_t in_mini = remaining < vpm ? (size_t)remaining : vpm;
            size_t avail = n - pos;
            if (pq_packed_bytes(in_mini, bw) > avail)
                return dbp_corrupt(err, "miniblock is truncated", pos);
            size_t use = count - done < in_mini ? count - done : in_mini;
            for (size_t c = 0; c < use; c += DBP_CHUNK) {
                size_t k = use - c < DBP_CHUNK ? use - c : DBP_CHUNK;
                size_t skip = c / 8 * (size_t)bw;
                unpack64(src + pos + skip, avail - skip, bw, tmp, k);
                if (o32) {
                    int32_t *o = o32 + done;
                    for (size_t j = 0; j < k; j++) {
                        last += min_delta + tmp[j];
                        o[j] = (int32_t)(uint32_t)last;
                    }
                } else {
                    int64_t *o = o64 + done;
                    for (size_t j = 0; j < k; j++) {
                        last += min_delta + tmp[j];
                        o[j] = (int64_t)last;
                    }
                }
                done += k;
            }
            /* the last miniblock is padded to full size, but tolerate a
             * writer that stopped after the values in use */
            size_t full = vpm / 8 * (size_t)bw;
            pos += full < avail ? full : avail;
            remaining -= in_mini;
        }
    }
    if (consumed)
        *consumed = pos;
    return SL_OK;
}

sl_code pq_decode_delta_i32(const uint8_t *src, size_t n, int32_t *out, size_t count,
                            size_t *consumed, sl_err *err)
{
    return dbp_decode(src, n, out, NULL, count, consumed, err);
}

sl_code pq_decode_delta_i64(const uint8_t *src, size_t n, int64_t *out, size_t count,
                            size_t *consumed, sl_err *err)
{
    return dbp_decode(src, n, NULL, out, count, consumed, err);
}

/* The lengths of DELTA_LENGTH_BYTE_ARRAY: count non-negative lengths into
 * lens, whose bytes (total *sum) start at *data_pos and fit the input. */
static sl_code dlba_lengths(const uint8_t *src, size_t n, size_t count, int32_t *lens,
                            size_t *data_pos, size_t *sum, const char *enc, sl_err *err)
{
    size_t pos = 0;
    sl_code rc = pq_decode_delta_i32(src, n, lens, count, &pos, err);
    if (rc != SL_OK)
        return err_wrap(err, "%s lengths", enc);
    size_t left = n - pos, total = 0;
    for (size_t i = 0; i < count; i++) {
        if (lens[i] < 0)
            return err_set(err, SL_PARQUET_CORRUPT, "%s: value %zu has negative length %d", enc,
                           i, lens[i]);
        if ((size_t)lens[i] > left - total)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "%s: value %zu of %zu needs %d bytes, %zu left", enc, i, count,
                           lens[i], left - total);
        total += (size_t)lens[i];
    }
    *data_pos = pos;
    *sum = total;
    return SL_OK;
}

static sl_code check_count(size_t count, const char *enc, sl_err *err)
{
    if (count > SIZE_MAX / 16 || count > INT32_MAX)
        return err_set(err, SL_PARQUET_CORRUPT, "%s: absurd value count %zu", enc, count);
    return SL_OK;
}

sl_code pq_decode_delta_length(const uint8_t *src, size_t n, pq_span *out, size_t count,
                               size_t *consumed, sl_err *err)
{
    static const char enc[] = "DELTA_LENGTH_BYTE_ARRAY";
    sl_code rc = check_count(count, enc, err);
    if (rc != SL_OK)
        return rc;
    int32_t *lens = malloc(count ? count * sizeof *lens : 1);
    if (!lens)
        return err_set(err, SL_NOMEM, "%s: no memory for %zu lengths", enc, count);
    size_t pos = 0, sum = 0;
    rc = dlba_lengths(src, n, count, lens, &pos, &sum, enc, err);
    if (rc == SL_OK) {
        for (size_t i = 0; i < count; i++) {
            out[i].ptr = src + pos;
            out[i].len = (uint32_t)lens[i];
            pos += (size_t)lens[i];
        }
        if (consumed)
            *consumed = pos;
    }
    free(lens);
    return rc;
}

/* Checks the prefixes against the previous values and returns the bytes of
 * the rebuilt values. */
static sl_code dba_sizes(const int32_t *prefix, const int32_t *suffix, size_t count,
                         uint64_t *total, sl_err *err)
{
    uint64_t prev = 0, sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (prefix[i] < 0 || (uint64_t)prefix[i] > prev)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "DELTA_BYTE_ARRAY: value %zu has prefix length %d but the previous "
                           "value has %llu bytes",
                           i, prefix[i], (unsigned long long)prev);
        prev = (uint64_t)prefix[i] + (uint64_t)suffix[i];
        sum += prev;
    }
    *total = sum;
    return SL_OK;
}

sl_code pq_decode_delta_bytes(const uint8_t *src, size_t n, size_t count, sl_buf *arena,
                              uint32_t *offsets, size_t *consumed, sl_err *err)
{
    static const char enc[] = "DELTA_BYTE_ARRAY";
    sl_code rc = check_count(count, enc, err);
    if (rc != SL_OK)
        return rc;
    int32_t *lens = malloc(count ? 2 * count * sizeof *lens : 1);
    if (!lens)
        return err_set(err, SL_NOMEM, "%s: no memory for %zu lengths", enc, count);
    int32_t *prefix = lens, *suffix = lens + count;
    size_t ppos = 0, dpos = 0, sum = 0;
    uint64_t total = 0;
    rc = pq_decode_delta_i32(src, n, prefix, count, &ppos, err);
    if (rc != SL_OK)
        err_wrap(err, "%s prefix lengths", enc);
    if (rc == SL_OK)
        rc = dlba_lengths(src + ppos, n - ppos, count, suffix, &dpos, &sum,
                          "DELTA_BYTE_ARRAY suffixes", err);
    if (rc == SL_OK)
        rc = dba_sizes(prefix, suffix, count, &total, err);
    if (rc == SL_OK && total > (uint64_t)UINT32_MAX - arena->len)
        rc = err_set(err, SL_PARQUET_CORRUPT,
                     "%s: %zu values rebuild to %llu bytes, over the 4 GiB limit", enc, count,
                     (unsigned long long)total);
    else if (rc == SL_OK && total > DBA_MAX_BYTES)
        rc = err_set(err, SL_PARQUET_CORRUPT,
                     "%s: %zu values rebuild to %llu bytes, over the 1 GiB page limit", enc,
                     count, (unsigned long long)total);
    if (rc == SL_OK) {
        buf_reserve(arena, (size_t)total);
        const uint8_t *sfx = src + ppos + dpos;
        uint8_t *base = (uint8_t *)arena->data;
        size_t at = arena->len, prev_at = at;
        offsets[0] = (uint32_t)at;
        for (size_t i = 0; i < count; i++) {
            size_t p = (size_t)prefix[i], s = (size_t)suffix[i];
            /* the prefix lies inside the previous value, never overlapping */
            if (p)
                memcpy(base + at, base + prev_at, p);
            if (s)
                memcpy(base + at + p, sfx, s);
            sfx += s;
            prev_at = at;
            at += p + s;
            offsets[i + 1] = (uint32_t)at;
        }
        arena->len = at;
        arena->data[at] = '\0';
        if (consumed)
            *consumed = ppos + dpos + sum;
    }
    free(lens);
    return rc;
}
