#ifndef SLUICE_PARQUET_PQ_DECODE_H
#define SLUICE_PARQUET_PQ_DECODE_H

/* Value and level decoders, one per Parquet encoding (pq_decode_*.c). Every
 * decoder is bounds-checked against its input: running out of input, a bit
 * width out of range or a length beyond the page is SL_PARQUET_CORRUPT,
 * never a read past the end. *consumed (when not NULL) receives the bytes
 * used. */

#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"
#include "backend/util/err.h"

/* A byte string inside a page buffer (or an arena that outlives it). */
typedef struct pq_span {
    const uint8_t *ptr;
    uint32_t len;
} pq_span;

/* RLE / bit-packed hybrid (no length prefix): count values of bit_width
 * (0..32) into out. */
sl_code pq_decode_rle(const uint8_t *src, size_t n, int bit_width, uint32_t *out,
                      size_t count, size_t *consumed, sl_err *err);
/* The same for levels (bit_width 0..16). */
sl_code pq_decode_rle_levels(const uint8_t *src, size_t n, int bit_width, int16_t *out,
                             size_t count, size_t *consumed, sl_err *err);
/* Deprecated BIT_PACKED levels (most significant bit first, no runs). */
sl_code pq_decode_bit_packed_levels(const uint8_t *src, size_t n, int bit_width,
                                    int16_t *out, size_t count, size_t *consumed,
                                    sl_err *err);

/* PLAIN. width is 4 (INT32/FLOAT), 8 (INT64/DOUBLE), 12 (INT96) or the
 * FIXED_LEN_BYTE_ARRAY length; values are copied as they are (little
 * endian). */
sl_code pq_decode_plain_fixed(const uint8_t *src, size_t n, size_t width, size_t count,
                              void *out, size_t *consumed, sl_err *err);
/* PLAIN booleans: bit-packed, least significant bit first, one byte out each. */
sl_code pq_decode_plain_bool(const uint8_t *src, size_t n, size_t count, uint8_t *out,
                             size_t *consumed, sl_err *err);
/* PLAIN BYTE_ARRAY: 4-byte little-endian length + bytes; spans point into src. */
sl_code pq_decode_plain_bytes(const uint8_t *src, size_t n, size_t count, pq_span *out,
                              size_t *consumed, sl_err *err);

/* DELTA_BINARY_PACKED into 32- or 64-bit integers (wrapping arithmetic, as
 * the format wants). */
sl_code pq_decode_delta_i32(const uint8_t *src, size_t n, int32_t *out, size_t count,
                            size_t *consumed, sl_err *err);
sl_code pq_decode_delta_i64(const uint8_t *src, size_t n, int64_t *out, size_t count,
                            size_t *consumed, sl_err *err);
/* DELTA_LENGTH_BYTE_ARRAY; spans point into src. */
sl_code pq_decode_delta_length(const uint8_t *src, size_t n, pq_span *out, size_t count,
                               size_t *consumed, sl_err *err);
/* DELTA_BYTE_ARRAY (prefix lengths + suffixes): the values are rebuilt into
 * arena (appended; its data may move while decoding), so the result is
 * offsets: value i is arena->data[offsets[i] .. offsets[i+1]). offsets has
 * count + 1 entries. */
sl_code pq_decode_delta_bytes(const uint8_t *src, size_t n, size_t count, sl_buf *arena,
                              uint32_t *offsets, size_t *consumed, sl_err *err);
/* BYTE_STREAM_SPLIT for values of width bytes (4, 8, or FLBA length). */
sl_code pq_decode_byte_stream_split(const uint8_t *src, size_t n, size_t width,
                                    size_t count, void *out, sl_err *err);

#endif
