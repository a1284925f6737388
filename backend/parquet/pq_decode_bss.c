/* BYTE_STREAM_SPLIT: byte k of every value is stored in stream k. */

#include <string.h>

#include "backend/parquet/pq_decode.h"

/* width is a constant after inlining for the common 4- and 8-byte cases. */
static inline __attribute__((always_inline)) void bss_gather(const uint8_t *src, size_t stride,
                                                             size_t width, size_t count,
                                                             uint8_t *out)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t *o = out + i * width;
        for (size_t k = 0; k < width; k++)
            o[k] = src[k * stride + i];
    }
}

sl_code pq_decode_byte_stream_split(const uint8_t *src, size_t n, size_t width,
                                    size_t count, void *out, sl_err *err)
{
    if (width == 0)
        return err_set(err, SL_PARQUET_CORRUPT, "BYTE_STREAM_SPLIT: value width 0");
    if (n % width != 0)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BYTE_STREAM_SPLIT: %zu bytes are not a multiple of the %zu-byte width",
                       n, width);
    /* each stream holds every value of the page, so its length is n / width */
    size_t stride = n / width;
    if (count > stride)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BYTE_STREAM_SPLIT: %zu values of %zu bytes need more than the %zu "
                       "bytes present",
                       count, width, n);
    if (width == 4)
        bss_gather(src, stride, 4, count, out);
    else if (width == 8)
        bss_gather(src, stride, 8, count, out);
    else
        bss_gather(src, stride, width, count, out);
    return SL_OK;
}
