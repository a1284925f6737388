#include "backend/parquet/pq_rle.h"

#include <string.h>

#include "backend/parquet/thrift_compact.h"

/* A run shorter than this is cheaper bit-packed than as its own RLE run. */
#define RLE_MIN_RUN 8

typedef struct rle_src {
    const uint8_t *u8;
    const uint32_t *u32;
} rle_src;

static inline uint32_t src_at(const rle_src *s, size_t i)
{
    return s->u8 ? s->u8[i] : s->u32[i];
}

int pq_rle_bit_width(uint32_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

static size_t run_length(const rle_src *s, size_t i, size_t n)
{
    uint32_t v = src_at(s, i);
    size_t j = i + 1;
    while (j < n && src_at(s, j) == v)
        j++;
    return j - i;
}

static void emit_rle_run(sl_buf *out, uint32_t value, size_t count, int bit_width)
{
    thrift_varint_write(out, (uint64_t)count << 1);
    int nbytes = (bit_width + 7) / 8;
    for (int b = 0; b < nbytes; b++)
        buf_append_char(out, (char)(value >> (8 * b)));
}

/* Bit-packs values [start, start + 8*groups), LSB first; positions at or past
 * n are zero padding. */
static void emit_bitpacked(sl_buf *out, const rle_src *s, size_t start, size_t groups,
                           size_t n, int bit_width)
{
    thrift_varint_write(out, ((uint64_t)groups << 1) | 1);
    size_t nbytes = groups * (size_t)bit_width; /* 8 values * width bits / 8 */
    buf_reserve(out, nbytes);
    unsigned char *p = (unsigned char *)out->data + out->len;
    memset(p, 0, nbytes);
    size_t bit = 0;
    for (size_t k = 0; k < groups * 8; k++, bit += (size_t)bit_width) {
        size_t i = start + k;
        uint64_t v = i < n ? src_at(s, i) : 0;
        for (int b = 0; b < bit_width; b++)
            if (v >> b & 1)
                p[(bit + (size_t)b) >> 3] |=
                    (unsigned char)(1u << ((bit + (size_t)b) & 7));
    }
    out->len += nbytes;
    out->data[out->len] = '\0';
}

static void rle_encode(sl_buf *out, const rle_src *s, size_t n, int bit_width)
{
    size_t i = 0;
    while (i < n) {
        size_t run = run_length(s, i, n);
        if (run >= RLE_MIN_RUN || bit_width == 0) {
            emit_rle_run(out, src_at(s, i), run, bit_width);
            i += run;
            continue;
        }
        /* Bit-pack groups of 8 until a long run starts at a group boundary. */
        size_t start = i, groups = 0;
        do {
            groups++;
            i += 8;
        } while (i < n && run_length(s, i, n) < RLE_MIN_RUN);
        emit_bitpacked(out, s, start, groups, n, bit_width);
    }
}

void pq_rle_encode_u8(sl_buf *out, const uint8_t *values, size_t n, int bit_width)
{
    rle_src s = {.u8 = values};
    rle_encode(out, &s, n, bit_width);
}

void pq_rle_encode_u32(sl_buf *out, const uint32_t *values, size_t n, int bit_width)
{
    rle_src s = {.u32 = values};
    rle_encode(out, &s, n, bit_width);
}
