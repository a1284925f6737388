#ifndef SLUICE_PARQUET_PQ_DECODE_BITS_H
#define SLUICE_PARQUET_PQ_DECODE_BITS_H

/* Byte-level helpers shared by the pq_decode_*.c files (private to them):
 * ULEB128 varints and little-endian loads that never read past the end. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Reads a ULEB128 varint of at most 64 bits at src[*pos]; false when the
 * input ends inside it or it is longer than 10 bytes / 64 bits. */
static inline bool pq_varint_read(const uint8_t *src, size_t n, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    size_t p = *pos;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= n)
            return false;
        uint8_t b = src[p++];
        if (shift == 63 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pos = p;
            *out = v;
            return true;
        }
    }
    return false;
}

static inline int64_t pq_zigzag_decode(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

/* Eight bytes little endian from p (the caller guarantees they exist). */
static inline uint64_t pq_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Up to eight bytes little endian from p, of which only avail exist. */
static inline uint64_t pq_load64_partial(const uint8_t *p, size_t avail)
{
    if (avail >= 8)
        return pq_load64(p);
    uint64_t v = 0;
    for (size_t i = 0; i < avail; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Bytes needed for count values of bit_width bits (count * bit_width must
 * not overflow: callers bound count first). */
static inline size_t pq_packed_bytes(size_t count, int bit_width)
{
    return (count * (size_t)bit_width + 7) / 8;
}

#endif
