#ifndef SLUICE_PARQUET_PQ_CODEC_H
#define SLUICE_PARQUET_PQ_CODEC_H

/* Page compression codecs behind one interface (pq_codec.c): uncompressed,
 * snappy (libsnappy), gzip (zlib; a page may hold several concatenated
 * members), zstd (libzstd), and LZ4_RAW / brotli where built in. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_meta.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

bool pq_codec_supported(pq_codec c);
const char *pq_codec_name(pq_codec c); /* "SNAPPY", ... */
/* "snappy", "zstd", "gzip", "none"/"uncompressed" (any case); false when unknown. */
bool pq_codec_from_name(const char *name, pq_codec *out);

/* Decompresses exactly dst_len bytes into dst. Input of 0 bytes is never
 * handed to a library (it gives dst_len 0 or SL_PARQUET_CORRUPT). Output
 * shorter or longer than dst_len, or a library error, is
 * SL_PARQUET_CORRUPT; an unsupported codec SL_PARQUET_UNSUPPORTED. */
sl_code pq_codec_decompress(pq_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                            size_t dst_len, sl_err *err);

/* Appends the compressed form of src to out. level 0 = the codec's default. */
sl_code pq_codec_compress(pq_codec c, const uint8_t *src, size_t n, int level, sl_buf *out,
                          sl_err *err);

#endif
