#include "backend/parquet/pq_rle.h"

#include <string.h>

#include "backend/parquet/thrift_compact.h"

/* A run shorter than this is cheaper bit-packed than as its own RLE run. */
#define RLE_MIN_RUN 8
/* Groups of 8 per bit-packed run: parquet-mr's cap, which every reader
 * accepts (the header then fits one byte). */
#define RLE_MAX_GROUPS 63

int pq_rle_bit_width(uint32_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

static void emit_rle_run(sl_buf *out, uint32_t value, size_t count, int bit_width)
{
    thrift_varint_write(out, (uint64_t)count << 1);
    int nbytes = (bit_width + 7) / 8;
    unsigned char b[4];
    for (int i = 0; i < nbytes; i++)
        b[i] = (unsigned char)(value >> (8 * i));
    buf_append(out, b, (size_t)nbytes);
}

/* One encoder per element type: same code, no per-value indirection. */
#define PQ_RLE_DEFINE(NAME, T)                                                           \
    static size_t NAME##_run(const T *v, size_t i, size_t n)                             \
    {                                                                                    \
        T x = v[i];                                                                      \
        size_t j = i + 1;                                                                \
        while (j < n && v[j] == x)                                                       \
            j++;                                                                         \
        return j - i;                                                                    \
    }                                                                                    \
                                                                                         \
    /* Bit-packs 8*groups values from start, LSB first; positions at or past n are       \
     * zero padding. */                                                                  \
    static void NAME##_pack(sl_buf *out, const T *v, size_t start, size_t groups,        \
                            size_t n, int bw)                                            \
    {                                                                                    \
        unsigned char hdr = (unsigned char)(groups << 1 | 1);                            \
        size_t nbytes = groups * (size_t)bw; /* 8 values * bw bits / 8 */                \
        buf_reserve(out, nbytes + 1);                                                    \
        unsigned char *p = (unsigned char *)out->data + out->len;                        \
        *p++ = hdr;                                                                      \
        uint64_t acc = 0;                                                                \
        int bits = 0;                                                                    \
        size_t end = start + groups * 8;                                                 \
        size_t full = end < n ? end : n;                                                 \
        for (size_t i = start; i < end; i++) {                                           \
            uint64_t x = i < full ? (uint64_t)v[i] : 0;                                  \
            acc |= x << bits;                                                            \
            bits += bw;                                                                  \
            while (bits >= 8) {                                                          \
                *p++ = (unsigned char)acc;                                               \
                acc >>= 8;                                                               \
                bits -= 8;                                                               \
            }                                                                            \
        }                                                                                \
        out->len += nbytes + 1;                                                          \
        out->data[out->len] = '\0';                                                      \
    }                                                                                    \
                                                                                         \
    void pq_rle_encode_##NAME(sl_buf *out, const T *values, size_t n, int bit_width)     \
    {                                                                                    \
        size_t i = 0;                                                                    \
        while (i < n) {                                                                  \
            size_t run = NAME##_run(values, i, n);                                       \
            if (run >= RLE_MIN_RUN || bit_width == 0) {                                  \
                emit_rle_run(out, values[i], run, bit_width);                            \
                i += run;                                                                \
                continue;                                                                \
            }                                                                            \
            /* Groups of 8 until a long run starts at a group boundary. */               \
            size_t start = i, groups = 0;                                                \
            do {                                                                         \
                groups++;                                                                \
                i += 8;                                                                  \
            } while (i < n && groups < RLE_MAX_GROUPS &&                                 \
                     NAME##_run(values, i, n) < RLE_MIN_RUN);                            \
            NAME##_pack(out, values, start, groups, n, bit_width);                       \
        }                                                                                \
    }

PQ_RLE_DEFINE(u8, uint8_t)
PQ_RLE_DEFINE(u32, uint32_t)
