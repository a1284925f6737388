#ifndef SLUICE_PARQUET_PQ_RLE_H
#define SLUICE_PARQUET_PQ_RLE_H

/* The RLE / bit-packed hybrid encoding of Parquet (levels, dictionary
 * indices, booleans). Output has no length prefix; DATA_PAGE v1 levels add
 * their own 4-byte prefix. */

#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"

/* Bits needed for values 0..max_value (0 for max_value 0). */
int pq_rle_bit_width(uint32_t max_value);

/* Encodes n values (each < 2^bit_width, bit_width 0..32) from 8-bit or
 * 32-bit arrays. Runs of 8 or more equal values become RLE runs; the rest is
 * bit-packed in groups of 8, the last group padded with zeros (readers stop
 * at the value count they know). */
void pq_rle_encode_u8(sl_buf *out, const uint8_t *values, size_t n, int bit_width);
void pq_rle_encode_u32(sl_buf *out, const uint32_t *values, size_t n, int bit_width);

#endif
