#include "backend/parquet/pq_codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4hc.h>
#include <snappy-c.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

/* Default levels, chosen for write speed (pages are compressed on the hot
 * path of the writer): gzip 6 (zlib's own default), zstd 1 (about 1.5x
 * faster than 3 for a few percent of size), brotli 4 (11, the library's
 * default, is two orders of magnitude slower). */
#define GZIP_DEFAULT_LEVEL 6
#define ZSTD_DEFAULT_LEVEL 1
#define BROTLI_DEFAULT_LEVEL 4
#define BROTLI_WINDOW_BITS 22

/* Page sizes are i32 in the page header; larger buffers are never pages. */
#define PAGE_MAX ((size_t)INT32_MAX)

bool pq_codec_supported(pq_codec c)
{
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
    case PQ_CODEC_SNAPPY:
    case PQ_CODEC_GZIP:
    case PQ_CODEC_BROTLI:
    case PQ_CODEC_ZSTD:
    case PQ_CODEC_LZ4_RAW:
        return true;
    case PQ_CODEC_LZO:
    case PQ_CODEC_LZ4:
        return false;
    }
    return false;
}

const char *pq_codec_name(pq_codec c)
{
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
        return "UNCOMPRESSED";
    case PQ_CODEC_SNAPPY:
        return "SNAPPY";
    case PQ_CODEC_GZIP:
        return "GZIP";
    case PQ_CODEC_LZO:
        return "LZO";
    case PQ_CODEC_BROTLI:
        return "BROTLI";
    case PQ_CODEC_LZ4:
        return "LZ4";
    case PQ_CODEC_ZSTD:
        return "ZSTD";
    case PQ_CODEC_LZ4_RAW:
        return "LZ4_RAW";
    }
    return "UNKNOWN";
}

bool pq_codec_from_name(const char *name, pq_codec *out)
{
    static const struct {
        const char *name;
        pq_codec codec;
    } names[] = {
        {"none", PQ_CODEC_UNCOMPRESSED}, {"uncompressed", PQ_CODEC_UNCOMPRESSED},
        {"snappy", PQ_CODEC_SNAPPY},     {"gzip", PQ_CODEC_GZIP},
        {"zstd", PQ_CODEC_ZSTD},         {"lz4_raw", PQ_CODEC_LZ4_RAW},
        {"lz4raw", PQ_CODEC_LZ4_RAW},    {"brotli", PQ_CODEC_BROTLI},
    };
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            if (out)
                *out = names[i].codec;
            return true;
        }
    }
    return false;
}

static sl_code corrupt(sl_err *err, pq_codec c, const char *what, size_t n, size_t dst_len)
{
    return err_set(err, SL_PARQUET_CORRUPT,
                   "%s page: %s (%zu compressed bytes, %zu expected uncompressed)",
                   pq_codec_name(c), what, n, dst_len);
}

static sl_code snappy_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                                 sl_err *err)
{
    size_t len = 0;
    if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
        return corrupt(err, PQ_CODEC_SNAPPY, "bad length preamble", n, dst_len);
    if (len != dst_len)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "SNAPPY page: decompresses to %zu bytes, header says %zu", len,
                       dst_len);
    if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
        len != dst_len)
        return corrupt(err, PQ_CODEC_SNAPPY, "invalid compressed data", n, dst_len);
    return SL_OK;
}

/* Inflates one or more concatenated gzip (or zlib) members: Hadoop-style
 * writers emit a member per flushed block within one page. */
static sl_code gzip_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                               sl_err *err)
{
    uint8_t spill[64]; /* receives output beyond dst_len, which is then an error */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return err_set(err, SL_NOMEM, "GZIP page: inflateInit2 failed");
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = dst_len ? dst : spill;
    zs.avail_out = dst_len ? (uInt)dst_len : sizeof spill;
    bool in_spill = dst_len == 0;
    sl_code rc = SL_OK;
    for (;;) {
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (in_spill && zs.avail_out != sizeof spill) {
            rc = corrupt(err, PQ_CODEC_GZIP, "output longer than the page header says", n,
                         dst_len);
            break;
        }
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            if (inflateReset(&zs) != Z_OK) {
                rc = corrupt(err, PQ_CODEC_GZIP, "cannot restart after a member", n, dst_len);
                break;
            }
            continue;
        }
        if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (zs.avail_out == 0 && !in_spill) {
                /* dst is full: any further output means the page is too long */
                in_spill = true;
                zs.next_out = spill;
                zs.avail_out = sizeof spill;
                continue;
            }
            if (zs.avail_in == 0 || zr == Z_BUF_ERROR) {
                rc = corrupt(err, PQ_CODEC_GZIP, "truncated stream", n, dst_len);
                break;
            }
            continue;
        }
        rc = err_set(err, SL_PARQUET_CORRUPT, "GZIP page: %s (%zu compressed bytes)",
                     zs.msg ? zs.msg : "invalid data", n);
        break;
    }
    size_t produced = in_spill ? dst_len : dst_len - zs.avail_out;
    inflateEnd(&zs);
    if (rc == SL_OK && produced != dst_len)
        rc = err_set(err, SL_PARQUET_CORRUPT,
                     "GZIP page: decompresses to %zu bytes, header says %zu", produced,
                     dst_len);
    return rc;
}

static sl_code zstd_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                               sl_err *err)
{
    uint8_t dummy;
    size_t r = ZSTD_decompress(dst_len ? dst : &dummy, dst_len, src, n);
    if (ZSTD_isError(r))
        return err_set(err, SL_PARQUET_CORRUPT,
                       "ZSTD page: %s (%zu compressed bytes, %zu expected uncompressed)",
                       ZSTD_getErrorName(r), n, dst_len);
    if (r != dst_len)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "ZSTD page: decompresses to %zu bytes, header says %zu", r, dst_len);
    return SL_OK;
}

static sl_code lz4_raw_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                                  sl_err *err)
{
    char dummy;
    int r = LZ4_decompress_safe((const char *)src, dst_len ? (char *)dst : &dummy, (int)n,
                                (int)dst_len);
    if (r < 0)
        return corrupt(err, PQ_CODEC_LZ4_RAW, "invalid or oversized block", n, dst_len);
    if ((size_t)r != dst_len)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "LZ4_RAW page: decompresses to %d bytes, header says %zu", r, dst_len);
    return SL_OK;
}

static sl_code brotli_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                                 sl_err *err)
{
    uint8_t dummy;
    size_t len = dst_len;
    BrotliDecoderResult r = BrotliDecoderDecompress(n, src, &len, dst_len ? dst : &dummy);
    if (r != BROTLI_DECODER_RESULT_SUCCESS)
        return corrupt(err, PQ_CODEC_BROTLI,
                       r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
                           ? "output longer than the page header says"
                           : "invalid or truncated stream",
                       n, dst_len);
    if (len != dst_len)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BROTLI page: decompresses to %zu bytes, header says %zu", len,
                       dst_len);
    return SL_OK;
}

static sl_code unsupported(pq_codec c, sl_err *err)
{
    if (c == PQ_CODEC_LZ4)
        return err_set(err, SL_PARQUET_UNSUPPORTED,
                       "compression codec LZ4 (the deprecated Hadoop-framed LZ4) is not "
                       "supported; LZ4_RAW is");
    return err_set(err, SL_PARQUET_UNSUPPORTED, "compression codec %s (%d) is not supported",
                   pq_codec_name(c), (int)c);
}

sl_code pq_codec_decompress(pq_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                            size_t dst_len, sl_err *err)
{
    if (!pq_codec_supported(c))
        return unsupported(c, err);
    if (n > PAGE_MAX || dst_len > PAGE_MAX)
        return corrupt(err, c, "page larger than 2 GiB", n, dst_len);
    if (n == 0) {
        /* libraries treat empty input differently; an empty page is empty */
        if (dst_len == 0)
            return SL_OK;
        return corrupt(err, c, "no compressed bytes", n, dst_len);
    }
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
        if (n != dst_len)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "UNCOMPRESSED page: %zu bytes, header says %zu", n, dst_len);
        memcpy(dst, src, n);
        return SL_OK;
    case PQ_CODEC_SNAPPY:
        return snappy_decompress(src, n, dst, dst_len, err);
    case PQ_CODEC_GZIP:
        return gzip_decompress(src, n, dst, dst_len, err);
    case PQ_CODEC_ZSTD:
        return zstd_decompress(src, n, dst, dst_len, err);
    case PQ_CODEC_LZ4_RAW:
        return lz4_raw_decompress(src, n, dst, dst_len, err);
    case PQ_CODEC_BROTLI:
        return brotli_decompress(src, n, dst, dst_len, err);
    case PQ_CODEC_LZO:
    case PQ_CODEC_LZ4:
        break;
    }
    return unsupported(c, err);
}

static sl_code gzip_compress(const uint8_t *src, size_t n, int level, sl_buf *out, sl_err *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 16: a gzip header, which every Parquet reader accepts */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return err_set(err, SL_NOMEM, "GZIP: deflateInit2 failed (level %d)", level);
    size_t bound = deflateBound(&zs, (uLong)n);
    buf_reserve(out, bound);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    size_t produced = bound - zs.avail_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END)
        return err_set(err, SL_INTERNAL, "GZIP: deflate did not finish (%d)", zr);
    out->len += produced;
    out->data[out->len] = '\0';
    return SL_OK;
}

static sl_code check_level(pq_codec c, int level, int lo, int hi, sl_err *err)
{
    if (level < lo || level > hi)
        return err_set(err, SL_USAGE, "%s compression level %d is out of range %d..%d",
                       pq_codec_name(c), level, lo, hi);
    return SL_OK;
}

sl_code pq_codec_compress(pq_codec c, const uint8_t *src, size_t n, int level, sl_buf *out,
                          sl_err *err)
{
    if (!pq_codec_supported(c))
        return unsupported(c, err);
    if (n > PAGE_MAX)
        return err_set(err, SL_PARQUET_VALUE, "%s: page of %zu bytes is larger than 2 GiB",
                       pq_codec_name(c), n);
    sl_code rc = SL_OK;
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
        buf_append(out, src, n);
        return SL_OK;
    case PQ_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        buf_reserve(out, bound);
        size_t len = bound;
        if (snappy_compress((const char *)src, n, out->data + out->len, &len) != SNAPPY_OK)
            return err_set(err, SL_INTERNAL, "SNAPPY: compression failed (%zu bytes)", n);
        out->len += len;
        out->data[out->len] = '\0';
        return SL_OK;
    }
    case PQ_CODEC_GZIP:
        if (level == 0)
            level = GZIP_DEFAULT_LEVEL;
        if ((rc = check_level(c, level, 1, 9, err)) != SL_OK)
            return rc;
        return gzip_compress(src, n, level, out, err);
    case PQ_CODEC_ZSTD: {
        if (level == 0)
            level = ZSTD_DEFAULT_LEVEL;
        if ((rc = check_level(c, level, ZSTD_minCLevel(), ZSTD_maxCLevel(), err)) != SL_OK)
            return rc;
        size_t bound = ZSTD_compressBound(n);
        buf_reserve(out, bound);
        size_t r = ZSTD_compress(out->data + out->len, bound, src, n, level);
        if (ZSTD_isError(r))
            return err_set(err, SL_INTERNAL, "ZSTD: %s", ZSTD_getErrorName(r));
        out->len += r;
        out->data[out->len] = '\0';
        return SL_OK;
    }
    case PQ_CODEC_LZ4_RAW: {
        /* level 0 or 1: the fast compressor; 2..12: LZ4HC at that level */
        if ((rc = check_level(c, level, 0, LZ4HC_CLEVEL_MAX, err)) != SL_OK)
            return rc;
        int bound = LZ4_compressBound((int)n);
        buf_reserve(out, (size_t)bound);
        char *dst = out->data + out->len;
        int r = level <= 1 ? LZ4_compress_default((const char *)src, dst, (int)n, bound)
                           : LZ4_compress_HC((const char *)src, dst, (int)n, bound, level);
        if (r <= 0)
            return err_set(err, SL_INTERNAL, "LZ4_RAW: compression failed (%zu bytes)", n);
        out->len += (size_t)r;
        out->data[out->len] = '\0';
        return SL_OK;
    }
    case PQ_CODEC_BROTLI: {
        if (level == 0)
            level = BROTLI_DEFAULT_LEVEL;
        if ((rc = check_level(c, level, BROTLI_MIN_QUALITY, BROTLI_MAX_QUALITY, err)) != SL_OK)
            return rc;
        size_t bound = BrotliEncoderMaxCompressedSize(n);
        if (bound == 0)
            return err_set(err, SL_PARQUET_VALUE, "BROTLI: page of %zu bytes is too large", n);
        buf_reserve(out, bound);
        size_t len = bound;
        if (!BrotliEncoderCompress(level, BROTLI_WINDOW_BITS, BROTLI_MODE_GENERIC, n, src, &len,
                                   (uint8_t *)out->data + out->len))
            return err_set(err, SL_INTERNAL, "BROTLI: compression failed (%zu bytes)", n);
        out->len += len;
        out->data[out->len] = '\0';
        return SL_OK;
    }
    case PQ_CODEC_LZO:
    case PQ_CODEC_LZ4:
        break;
    }
    return unsupported(c, err);
}
