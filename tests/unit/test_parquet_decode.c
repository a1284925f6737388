/* The Parquet value and level decoders (pq_decode.h): known byte vectors
 * from the format specification, round trips against the writer's RLE
 * encoder and a small reference DELTA_BINARY_PACKED encoder written here,
 * and truncated or malformed input, which must give SL_PARQUET_CORRUPT and
 * never a read past the end (inputs live in exactly sized heap blocks so
 * ASan sees any overread). */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_decode.h"
#include "backend/parquet/pq_rle.h"
#include "backend/util/buf.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* An exactly sized heap copy, so reading one byte too far trips ASan. */
static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

static uint64_t mask_bits(int bw)
{
    return bw >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
}

/* Little-endian bit writer (LSB first), for reference encodings. */
typedef struct bitw {
    sl_buf *out;
    uint64_t acc;
    int nbits;
} bitw;

static void bitw_put(bitw *w, uint64_t v, int bw)
{
    for (int i = 0; i < bw; i++) {
        w->acc |= ((v >> i) & 1) << w->nbits;
        if (++w->nbits == 8) {
            buf_append_char(w->out, (char)w->acc);
            w->acc = 0;
            w->nbits = 0;
        }
    }
}

static void bitw_flush(bitw *w)
{
    if (w->nbits) {
        buf_append_char(w->out, (char)w->acc);
        w->acc = 0;
        w->nbits = 0;
    }
}

static void put_varint(sl_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_append_char(b, (char)(v | 0x80));
        v >>= 7;
    }
    buf_append_char(b, (char)v);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int width_of(uint64_t v)
{
    int w = 0;
    while (v) {
        w++;
        v >>= 1;
    }
    return w;
}

static void assert_corrupt(sl_code rc, const sl_err *err, const char *needle)
{
    if (rc != SL_PARQUET_CORRUPT)
        fail_msg("expected SL_PARQUET_CORRUPT, got %s (%s)", err_code_name(rc), err->msg);
    if (needle && !strstr(err->msg, needle))
        fail_msg("message \"%s\" does not name \"%s\"", err->msg, needle);
}

/* ------------------------------------------------------------------ */
/* RLE / bit-packed hybrid: known vectors                              */

static void decode_rle_vec(const uint8_t *bytes, size_t n, int bw, const uint32_t *want,
                           size_t count, size_t want_consumed)
{
    uint8_t *src = dup_exact(bytes, n);
    uint32_t *out = calloc(count + 1, sizeof *out);
    size_t consumed = 0;
    sl_err err = {0};
    sl_code rc = pq_decode_rle(src, n, bw, out, count, &consumed, &err);
    if (rc != SL_OK)
        fail_msg("width %d: %s", bw, err.msg);
    for (size_t i = 0; i < count; i++)
        if (out[i] != want[i])
            fail_msg("width %d value %zu: got %u want %u", bw, i, out[i], want[i]);
    assert_int_equal(consumed, want_consumed);
    free(out);
    free(src);
}

static void test_rle_known_vectors(void **state)
{
    (void)state;
    /* RLE run: 8 x 5 at width 3 */
    {
        const uint8_t b[] = {0x10, 0x05};
        const uint32_t w[] = {5, 5, 5, 5, 5, 5, 5, 5};
        decode_rle_vec(b, sizeof b, 3, w, 8, 2);
    }
    /* bit-packed run, the specification's example: 0..7 at width 3 */
    {
        const uint8_t b[] = {0x03, 0x88, 0xC6, 0xFA};
        const uint32_t w[] = {0, 1, 2, 3, 4, 5, 6, 7};
        decode_rle_vec(b, sizeof b, 3, w, 8, 4);
    }
    /* mixed at width 1: RLE 3 x 1, then one bit-packed group 0,1,0,1,... */
    {
        const uint8_t b[] = {0x06, 0x01, 0x03, 0xAA};
        const uint32_t w[] = {1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1};
        decode_rle_vec(b, sizeof b, 1, w, 11, 4);
    }
    /* width 0: a run header and no value bytes */
    {
        const uint8_t b[] = {0x0A};
        const uint32_t w[] = {0, 0, 0, 0, 0};
        decode_rle_vec(b, sizeof b, 0, w, 5, 1);
    }
    /* width 8: RLE 2 x 0xAB then 8 literal bytes */
    {
        const uint8_t b[] = {0x04, 0xAB, 0x03, 1, 2, 3, 4, 5, 6, 7, 255};
        const uint32_t w[] = {0xAB, 0xAB, 1, 2, 3, 4, 5, 6, 7, 255};
        decode_rle_vec(b, sizeof b, 8, w, 10, sizeof b);
    }
    /* width 17: RLE value in 3 bytes, then a bit-packed group built bit by bit */
    {
        const uint32_t w[] = {65537, 65537, 1, 131071, 0, 65536, 12345, 99999, 7, 131070};
        sl_buf b = {0};
        buf_append(&b, "\x04\x01\x00\x01", 4);
        buf_append_char(&b, 0x03);
        bitw bw = {.out = &b};
        for (int i = 2; i < 10; i++)
            bitw_put(&bw, w[i], 17);
        bitw_flush(&bw);
        assert_int_equal(b.len, 4 + 1 + 17);
        decode_rle_vec((const uint8_t *)b.data, b.len, 17, w, 10, b.len);
        buf_free(&b);
    }
    /* width 32: RLE of UINT32_MAX then a bit-packed group */
    {
        const uint32_t w[] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0, 1, 0x80000000u,
                              0x7FFFFFFFu, 0xDEADBEEFu, 42, 0x01020304u, 0xFFFFFFFEu};
        sl_buf b = {0};
        buf_append(&b, "\x06\xFF\xFF\xFF\xFF\x03", 6);
        for (int i = 3; i < 11; i++) {
            uint32_t v = w[i];
            unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                                   (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
            buf_append(&b, le, 4);
        }
        decode_rle_vec((const uint8_t *)b.data, b.len, 32, w, 11, b.len);
        buf_free(&b);
    }
    /* a final bit-packed run declaring more groups than the bytes present:
     * accepted while the values in use are there */
    {
        const uint8_t b[] = {0x05, 0x88, 0xC6};
        const uint32_t w[] = {0, 1, 2, 3, 4};
        decode_rle_vec(b, sizeof b, 3, w, 5, sizeof b);
    }
    /* count stops inside a run: consumed ends after that run's bytes */
    {
        const uint8_t b[] = {0x10, 0x05, 0x10, 0x06};
        const uint32_t w[] = {5, 5, 5};
        decode_rle_vec(b, sizeof b, 3, w, 3, 2);
    }
}

static void test_rle_levels_known(void **state)
{
    (void)state;
    const uint8_t b[] = {0x06, 0x02, 0x03, 0x88, 0xC6, 0xFA};
    int16_t out[11];
    size_t consumed = 0;
    sl_err err = {0};
    assert_int_equal(pq_decode_rle_levels(b, sizeof b, 3, out, 11, &consumed, &err), SL_OK);
    const int16_t want[] = {2, 2, 2, 0, 1, 2, 3, 4, 5, 6, 7};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(consumed, sizeof b);
    /* width 16 values above INT16_MAX cannot be levels */
    const uint8_t big[] = {0x02, 0xFF, 0xFF};
    assert_corrupt(pq_decode_rle_levels(big, sizeof big, 16, out, 1, NULL, &err), &err,
                   "RLE");
    assert_corrupt(pq_decode_rle_levels(b, sizeof b, 17, out, 1, NULL, &err), &err,
                   "bit width");
}

static void test_rle_malformed(void **state)
{
    (void)state;
    uint32_t out[64];
    sl_err err = {0};
    /* value wider than the bit width */
    const uint8_t wide[] = {0x04, 0x09};
    assert_corrupt(pq_decode_rle(wide, sizeof wide, 3, out, 2, NULL, &err), &err,
                   "RLE/bit-packed hybrid");
    /* run value truncated (width 17 needs 3 bytes) */
    uint8_t *t = dup_exact("\x04\x01\x00", 3);
    assert_corrupt(pq_decode_rle(t, 3, 17, out, 2, NULL, &err), &err, "truncated");
    free(t);
    /* bit-packed run with too few bytes for the values asked */
    t = dup_exact("\x03\x88", 2);
    assert_corrupt(pq_decode_rle(t, 2, 3, out, 8, NULL, &err), &err, "truncated");
    free(t);
    /* input ends before enough values */
    t = dup_exact("\x10\x05", 2);
    assert_corrupt(pq_decode_rle(t, 2, 3, out, 9, NULL, &err), &err, "ends");
    free(t);
    /* header varint running off the end */
    t = dup_exact("\xFF\xFF", 2);
    assert_corrupt(pq_decode_rle(t, 2, 3, out, 9, NULL, &err), &err, "header");
    free(t);
    /* widths out of range */
    assert_corrupt(pq_decode_rle(wide, sizeof wide, 33, out, 1, NULL, &err), &err,
                   "bit width");
    assert_corrupt(pq_decode_rle(wide, sizeof wide, -1, out, 1, NULL, &err), &err,
                   "bit width");
    /* a huge declared bit-packed run must not overflow into a bogus success */
    const uint8_t huge[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x01};
    assert_corrupt(pq_decode_rle(huge, sizeof huge, 8, out, 4, NULL, &err), &err,
                   "truncated");
    /* zero values from empty input is fine */
    assert_int_equal(pq_decode_rle(NULL, 0, 5, out, 0, NULL, &err), SL_OK);
}

/* ------------------------------------------------------------------ */
/* RLE hybrid: round trips against pq_rle_encode_u32                   */

static void fill_values(uint32_t *v, size_t n, int bw, int pattern)
{
    uint64_t m = mask_bits(bw);
    size_t i = 0;
    while (i < n) {
        uint32_t x = (uint32_t)(rng() & m);
        size_t run = 1;
        if (pattern == 1)
            run = 1 + rng() % 40; /* runs and literals mixed */
        else if (pattern == 2)
            x = (uint32_t)(m & (i % 3 == 0 ? m : 0)); /* extremes */
        for (size_t k = 0; k < run && i < n; k++)
            v[i++] = x;
    }
}

static void test_rle_roundtrip_all_widths(void **state)
{
    (void)state;
    const size_t counts[] = {1, 7, 8, 9, 100, 1000, 4099};
    for (int bw = 0; bw <= 32; bw++) {
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            for (int pattern = 0; pattern < 3; pattern++) {
                size_t n = counts[ci];
                uint32_t *v = malloc(n * sizeof *v);
                uint32_t *out = malloc(n * sizeof *out);
                fill_values(v, n, bw, pattern);
                sl_buf enc = {0};
                pq_rle_encode_u32(&enc, v, n, bw);
                uint8_t *src = dup_exact(enc.data, enc.len);
                size_t consumed = 0;
                sl_err err = {0};
                sl_code rc = pq_decode_rle(src, enc.len, bw, out, n, &consumed, &err);
                if (rc != SL_OK)
                    fail_msg("width %d count %zu pattern %d: %s", bw, n, pattern, err.msg);
                assert_memory_equal(out, v, n * sizeof *v);
                assert_int_equal(consumed, enc.len);
                if (bw <= 15) {
                    int16_t *lv = malloc(n * sizeof *lv);
                    rc = pq_decode_rle_levels(src, enc.len, bw, lv, n, &consumed, &err);
                    if (rc != SL_OK)
                        fail_msg("levels width %d count %zu: %s", bw, n, err.msg);
                    for (size_t i = 0; i < n; i++)
                        assert_int_equal(lv[i], v[i]);
                    free(lv);
                }
                free(src);
                buf_free(&enc);
                free(out);
                free(v);
            }
        }
    }
}

/* Every prefix of a valid stream is either rejected as corrupt or (when only
 * padding was cut) decodes to the same values; none reads past its end. */
static void test_rle_truncations(void **state)
{
    (void)state;
    const int widths[] = {1, 3, 8, 13, 17, 32};
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        int bw = widths[wi];
        size_t n = 301;
        uint32_t *v = malloc(n * sizeof *v);
        uint32_t *out = malloc(n * sizeof *out);
        fill_values(v, n, bw, 1);
        sl_buf enc = {0};
        pq_rle_encode_u32(&enc, v, n, bw);
        size_t rejected = 0;
        for (size_t cut = 0; cut < enc.len; cut++) {
            uint8_t *src = dup_exact(enc.data, cut);
            sl_err err = {0};
            sl_code rc = pq_decode_rle(src, cut, bw, out, n, NULL, &err);
            if (rc == SL_OK)
                assert_memory_equal(out, v, n * sizeof *v);
            else {
                assert_corrupt(rc, &err, "RLE/bit-packed hybrid");
                rejected++;
            }
            free(src);
        }
        /* at most the zero padding of the final group can be cut */
        assert_true(rejected + (size_t)bw >= enc.len);
        assert_true(rejected > enc.len / 2);
        buf_free(&enc);
        free(out);
        free(v);
    }
}

/* ------------------------------------------------------------------ */
/* Legacy BIT_PACKED levels                                            */

static void test_bit_packed_levels(void **state)
{
    (void)state;
    /* the specification's example: 0..7 at width 3, most significant bit first */
    const uint8_t b[] = {0x05, 0x39, 0x77};
    uint8_t *src = dup_exact(b, sizeof b);
    int16_t out[8];
    size_t consumed = 0;
    sl_err err = {0};
    assert_int_equal(pq_decode_bit_packed_levels(src, 3, 3, out, 8, &consumed, &err), SL_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], i);
    assert_int_equal(consumed, 3);
    /* 5 values need only 2 bytes */
    assert_int_equal(pq_decode_bit_packed_levels(src, 2, 3, out, 5, &consumed, &err), SL_OK);
    assert_int_equal(consumed, 2);
    assert_int_equal(out[4], 4);
    assert_corrupt(pq_decode_bit_packed_levels(src, 2, 3, out, 8, NULL, &err), &err,
                   "BIT_PACKED");
    assert_corrupt(pq_decode_bit_packed_levels(src, 3, 17, out, 1, NULL, &err), &err,
                   "bit width");
    free(src);

    /* random round trip against an MSB-first packer, widths 1..15 */
    for (int bw = 1; bw <= 15; bw++) {
        size_t n = 77;
        int16_t want[77], got[77];
        uint8_t packed[77 * 2] = {0};
        size_t bit = 0;
        for (size_t i = 0; i < n; i++) {
            want[i] = (int16_t)(rng() & mask_bits(bw));
            for (int k = bw - 1; k >= 0; k--, bit++)
                if ((want[i] >> k) & 1)
                    packed[bit >> 3] |= (uint8_t)(0x80 >> (bit & 7));
        }
        size_t len = (bit + 7) / 8;
        src = dup_exact(packed, len);
        assert_int_equal(pq_decode_bit_packed_levels(src, len, bw, got, n, &consumed, &err),
                         SL_OK);
        assert_memory_equal(got, want, sizeof want);
        assert_int_equal(consumed, len);
        free(src);
    }
    /* width 0: no bytes */
    assert_int_equal(pq_decode_bit_packed_levels(NULL, 0, 0, out, 8, &consumed, &err), SL_OK);
    assert_int_equal(consumed, 0);
    assert_int_equal(out[7], 0);
}

/* ------------------------------------------------------------------ */
/* PLAIN                                                               */

static void test_plain(void **state)
{
    (void)state;
    sl_err err = {0};
    size_t consumed = 0;
    int32_t i32[3] = {1, -2, 0x7FFFFFFF};
    uint8_t *src = dup_exact(i32, sizeof i32);
    int32_t o32[3];
    assert_int_equal(pq_decode_plain_fixed(src, 12, 4, 3, o32, &consumed, &err), SL_OK);
    assert_memory_equal(o32, i32, sizeof i32);
    assert_int_equal(consumed, 12);
    assert_corrupt(pq_decode_plain_fixed(src, 11, 4, 3, o32, NULL, &err), &err, "PLAIN");
    assert_corrupt(pq_decode_plain_fixed(src, 12, 0, 3, o32, NULL, &err), &err, "width");
    /* an absurd count must not overflow count * width */
    assert_corrupt(pq_decode_plain_fixed(src, 12, 8, SIZE_MAX / 4, o32, NULL, &err), &err,
                   "PLAIN");
    uint8_t flba[12];
    assert_int_equal(pq_decode_plain_fixed(src, 12, 12, 1, flba, &consumed, &err), SL_OK);
    assert_memory_equal(flba, i32, 12);
    free(src);

    /* booleans, LSB first */
    const uint8_t bools[] = {0xB5, 0x02}; /* 1,0,1,0,1,1,0,1, 0,1 */
    src = dup_exact(bools, 2);
    uint8_t ob[10];
    assert_int_equal(pq_decode_plain_bool(src, 2, 10, ob, &consumed, &err), SL_OK);
    const uint8_t wantb[] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1};
    assert_memory_equal(ob, wantb, 10);
    assert_int_equal(consumed, 2);
    assert_corrupt(pq_decode_plain_bool(src, 1, 9, ob, NULL, &err), &err, "PLAIN booleans");
    free(src);

    /* byte arrays */
    const uint8_t ba[] = {3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 2, 0, 0, 0, 0xE2, 0x82};
    src = dup_exact(ba, sizeof ba);
    pq_span sp[3];
    assert_int_equal(pq_decode_plain_bytes(src, sizeof ba, 3, sp, &consumed, &err), SL_OK);
    assert_int_equal(consumed, sizeof ba);
    assert_int_equal(sp[0].len, 3);
    assert_memory_equal(sp[0].ptr, "abc", 3);
    assert_int_equal(sp[1].len, 0);
    assert_int_equal(sp[2].len, 2);
    assert_ptr_equal(sp[2].ptr, src + 15);
    for (size_t cut = 0; cut < sizeof ba; cut++) {
        uint8_t *t = dup_exact(ba, cut);
        assert_corrupt(pq_decode_plain_bytes(t, cut, 3, sp, NULL, &err), &err,
                       "PLAIN BYTE_ARRAY");
        free(t);
    }
    /* a length near 4 GiB must not wrap the position */
    const uint8_t evil[] = {0xFF, 0xFF, 0xFF, 0xFF, 'x'};
    assert_corrupt(pq_decode_plain_bytes(evil, sizeof evil, 1, sp, NULL, &err), &err,
                   "claims");
    free(src);
}

/* ------------------------------------------------------------------ */
/* DELTA_BINARY_PACKED                                                 */

/* A reference encoder: values are given as 64-bit patterns; deltas wrap in
 * 64 bits, or in 32 (as parquet-mr does for INT32) when wrap32. Miniblock
 * widths of unused miniblocks are set to garbage_width. */
static void ref_dbp(sl_buf *b, const int64_t *vals, size_t n, size_t block, size_t minis,
                    bool wrap32, uint8_t garbage_width)
{
    size_t vpm = block / minis;
    put_varint(b, block);
    put_varint(b, minis);
    put_varint(b, n);
    put_varint(b, zigzag(n ? vals[0] : 0));
    int64_t *d = malloc(block * sizeof *d);
    for (size_t i = 1; i < n; i += block) {
        size_t k = n - i < block ? n - i : block;
        int64_t mn = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            uint64_t diff = (uint64_t)vals[i + j] - (uint64_t)vals[i + j - 1];
            d[j] = wrap32 ? (int64_t)(int32_t)(uint32_t)diff : (int64_t)diff;
            if (d[j] < mn)
                mn = d[j];
        }
        put_varint(b, zigzag(mn));
        int widths[64];
        for (size_t m = 0; m < minis; m++) {
            uint64_t mx = 0;
            bool used = m * vpm < k;
            for (size_t j = m * vpm; j < (m + 1) * vpm && j < k; j++) {
                uint64_t rel = (uint64_t)d[j] - (uint64_t)mn;
                if (rel > mx)
                    mx = rel;
            }
            widths[m] = used ? width_of(mx) : -1;
            buf_append_char(b, (char)(used ? widths[m] : garbage_width));
        }
        for (size_t m = 0; m < minis && widths[m] >= 0; m++) {
            bitw w = {.out = b};
            for (size_t j = m * vpm; j < (m + 1) * vpm; j++)
                bitw_put(&w, j < k ? (uint64_t)d[j] - (uint64_t)mn : 0, widths[m]);
            bitw_flush(&w);
        }
    }
    free(d);
}

static void check_dbp64(const int64_t *vals, size_t n, size_t block, size_t minis,
                        uint8_t garbage)
{
    sl_buf enc = {0};
    ref_dbp(&enc, vals, n, block, minis, false, garbage);
    uint8_t *src = dup_exact(enc.data, enc.len);
    int64_t *out = malloc((n ? n : 1) * sizeof *out);
    size_t consumed = 0;
    sl_err err = {0};
    sl_code rc = pq_decode_delta_i64(src, enc.len, out, n, &consumed, &err);
    if (rc != SL_OK)
        fail_msg("i64 n=%zu block=%zu minis=%zu: %s", n, block, minis, err.msg);
    for (size_t i = 0; i < n; i++)
        if (out[i] != vals[i])
            fail_msg("i64 n=%zu value %zu: got %lld want %lld", n, i, (long long)out[i],
                     (long long)vals[i]);
    assert_int_equal(consumed, enc.len);
    free(out);
    free(src);
    buf_free(&enc);
}

static void check_dbp32(const int32_t *vals, size_t n, bool wrap32)
{
    int64_t *wide = calloc(n ? n : 1, sizeof *wide);
    for (size_t i = 0; i < n; i++)
        wide[i] = vals[i];
    sl_buf enc = {0};
    ref_dbp(&enc, wide, n, 128, 4, wrap32, 0);
    uint8_t *src = dup_exact(enc.data, enc.len);
    int32_t *out = malloc((n ? n : 1) * sizeof *out);
    size_t consumed = 0;
    sl_err err = {0};
    sl_code rc = pq_decode_delta_i32(src, enc.len, out, n, &consumed, &err);
    if (rc != SL_OK)
        fail_msg("i32 n=%zu: %s", n, err.msg);
    assert_memory_equal(out, vals, n * sizeof *vals);
    assert_int_equal(consumed, enc.len);
    free(out);
    free(src);
    free(wide);
    buf_free(&enc);
}

static void test_dbp_spec_examples(void **state)
{
    (void)state;
    sl_err err = {0};
    size_t consumed = 0;
    /* 1, 2, 3, 4, 5: min delta 1, all miniblock widths 0 */
    const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    uint8_t *src = dup_exact(ex1, sizeof ex1);
    int64_t o[8];
    assert_int_equal(pq_decode_delta_i64(src, sizeof ex1, o, 5, &consumed, &err), SL_OK);
    const int64_t w1[] = {1, 2, 3, 4, 5};
    assert_memory_equal(o, w1, sizeof w1);
    assert_int_equal(consumed, sizeof ex1);
    free(src);
    /* 7, 5, 3, 1, 2, 3, 4, 5: min delta -2, relative 0 0 0 3 3 3 3 at width 2;
     * unused miniblock widths are garbage (0xEE) and must be ignored */
    const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0xEE, 0xEE, 0xEE,
                           0xC0, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    src = dup_exact(ex2, sizeof ex2);
    int32_t o32[8];
    assert_int_equal(pq_decode_delta_i32(src, sizeof ex2, o32, 8, &consumed, &err), SL_OK);
    const int32_t w2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    assert_memory_equal(o32, w2, sizeof w2);
    assert_int_equal(consumed, sizeof ex2);
    /* fewer values than the stream holds: consumed is still the stream's end */
    assert_int_equal(pq_decode_delta_i32(src, sizeof ex2, o32, 3, &consumed, &err), SL_OK);
    assert_int_equal(o32[2], 3);
    assert_int_equal(consumed, sizeof ex2);
    /* more values than it holds */
    assert_corrupt(pq_decode_delta_i32(src, sizeof ex2, o32, 9, NULL, &err), &err,
                   "DELTA_BINARY_PACKED");
    /* a miniblock stopping after the values in use (no padding) is accepted */
    assert_int_equal(pq_decode_delta_i32(src, 12, o32, 8, &consumed, &err), SL_OK);
    assert_memory_equal(o32, w2, sizeof w2);
    assert_int_equal(consumed, 12);
    /* one byte less is not */
    uint8_t *cut = dup_exact(ex2, 11);
    assert_corrupt(pq_decode_delta_i32(cut, 11, o32, 8, NULL, &err), &err, "miniblock");
    free(cut);
    free(src);
}

static void test_dbp_roundtrips(void **state)
{
    (void)state;
    /* one value; zero values */
    const int64_t one[] = {-42};
    check_dbp64(one, 1, 128, 4, 0);
    check_dbp64(one, 0, 128, 4, 0);
    /* INT64 min/max: deltas wrap and need all 64 bits */
    const int64_t ext[] = {INT64_MIN, INT64_MAX, INT64_MIN, 0,  -1, INT64_MAX,
                           INT64_MAX, INT64_MIN, 1,         -1, 0};
    check_dbp64(ext, sizeof ext / sizeof ext[0], 128, 4, 0);
    const int32_t ext32[] = {INT32_MIN, INT32_MAX, INT32_MIN, 0, -1, INT32_MAX, 5};
    check_dbp32(ext32, 7, false);
    check_dbp32(ext32, 7, true);
    /* random data over many block shapes, partly filled last blocks and
     * miniblocks, garbage widths in unused miniblocks */
    const size_t sizes[] = {2, 31, 32, 33, 128, 129, 130, 257, 1000, 5001};
    const size_t shapes[][2] = {{128, 4}, {128, 1}, {256, 8}, {128, 2}, {512, 16}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        int64_t *v = malloc(n * sizeof *v);
        int32_t *v32 = malloc(n * sizeof *v32);
        for (int kind = 0; kind < 4; kind++) {
            int64_t acc = (int64_t)(rng() % 1000);
            for (size_t i = 0; i < n; i++) {
                switch (kind) {
                case 0: /* ascending ids */
                    acc += (int64_t)(rng() % 5);
                    v[i] = acc;
                    break;
                case 1: /* full-range noise */
                    v[i] = (int64_t)rng();
                    break;
                case 2: /* small signed noise */
                    v[i] = (int64_t)(rng() % 2001) - 1000;
                    break;
                default: /* every bit width shows up */
                    v[i] = (int64_t)(rng() & mask_bits((int)(i % 65)));
                    break;
                }
                v32[i] = (int32_t)(uint32_t)(uint64_t)v[i];
            }
            for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
                check_dbp64(v, n, shapes[sh][0], shapes[sh][1], (uint8_t)(sh * 50 + 7));
            check_dbp32(v32, n, false);
            check_dbp32(v32, n, true);
        }
        free(v32);
        free(v);
    }
}

static void test_dbp_malformed(void **state)
{
    (void)state;
    int64_t out[300];
    sl_err err = {0};
    /* block size not a multiple of 128 */
    const uint8_t bs[] = {0x64, 0x04, 0x01, 0x00};
    assert_corrupt(pq_decode_delta_i64(bs, sizeof bs, out, 1, NULL, &err), &err,
                   "block size");
    /* 128 / 3 miniblocks */
    const uint8_t mb[] = {0x80, 0x01, 0x03, 0x01, 0x00};
    assert_corrupt(pq_decode_delta_i64(mb, sizeof mb, out, 1, NULL, &err), &err,
                   "miniblocks");
    /* 128 / 8 = 16 values per miniblock: not a multiple of 32 */
    const uint8_t mb8[] = {0x80, 0x01, 0x08, 0x01, 0x00};
    assert_corrupt(pq_decode_delta_i64(mb8, sizeof mb8, out, 1, NULL, &err), &err,
                   "miniblocks");
    /* bit width 65 in a used miniblock */
    const uint8_t w65[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 65, 0, 0, 0};
    assert_corrupt(pq_decode_delta_i64(w65, sizeof w65, out, 2, NULL, &err), &err, "64");

    /* every truncation of a real stream is rejected or decodes identically */
    int64_t v[300];
    for (int i = 0; i < 300; i++)
        v[i] = (int64_t)(rng() % 100000);
    sl_buf enc = {0};
    ref_dbp(&enc, v, 300, 128, 4, false, 0);
    size_t rejected = 0;
    for (size_t cut = 0; cut < enc.len; cut++) {
        uint8_t *src = dup_exact(enc.data, cut);
        sl_code rc = pq_decode_delta_i64(src, cut, out, 300, NULL, &err);
        if (rc == SL_OK)
            assert_memory_equal(out, v, sizeof v);
        else {
            assert_corrupt(rc, &err, "DELTA_BINARY_PACKED");
            rejected++;
        }
        free(src);
    }
    assert_true(rejected > enc.len * 3 / 4);
    buf_free(&enc);
}

/* ------------------------------------------------------------------ */
/* DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY                        */

static void ref_dlba(sl_buf *b, const char *const *vals, size_t n)
{
    int64_t *lens = calloc(n ? n : 1, sizeof *lens);
    for (size_t i = 0; i < n; i++)
        lens[i] = (int64_t)strlen(vals[i]);
    ref_dbp(b, lens, n, 128, 4, true, 0);
    for (size_t i = 0; i < n; i++)
        buf_append_str(b, vals[i]);
    free(lens);
}

static void test_delta_length(void **state)
{
    (void)state;
    const char *vals[] = {"Hello", "World", "Foobar", "ABCDEF", "", "\xC3\xA9t\xC3\xA9"};
    size_t n = 6;
    sl_buf enc = {0};
    ref_dlba(&enc, vals, n);
    uint8_t *src = dup_exact(enc.data, enc.len);
    pq_span sp[6];
    size_t consumed = 0;
    sl_err err = {0};
    assert_int_equal(pq_decode_delta_length(src, enc.len, sp, n, &consumed, &err), SL_OK);
    assert_int_equal(consumed, enc.len);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sp[i].len, strlen(vals[i]));
        assert_memory_equal(sp[i].ptr, vals[i], sp[i].len);
        assert_true(sp[i].ptr >= src && sp[i].ptr + sp[i].len <= src + enc.len);
    }
    for (size_t cut = 0; cut < enc.len; cut++) {
        uint8_t *t = dup_exact(enc.data, cut);
        assert_corrupt(pq_decode_delta_length(t, cut, sp, n, NULL, &err), &err,
                       "DELTA_LENGTH_BYTE_ARRAY");
        free(t);
    }
    free(src);
    buf_free(&enc);
    /* a negative length */
    const int64_t neg[] = {3, -1};
    ref_dbp(&enc, neg, 2, 128, 4, true, 0);
    buf_append_str(&enc, "abc");
    assert_corrupt(pq_decode_delta_length((const uint8_t *)enc.data, enc.len, sp, 2, NULL,
                                          &err),
                   &err, "negative");
    buf_free(&enc);
    /* no values */
    ref_dlba(&enc, vals, 0);
    assert_int_equal(
        pq_decode_delta_length((const uint8_t *)enc.data, enc.len, sp, 0, &consumed, &err),
        SL_OK);
    assert_int_equal(consumed, enc.len);
    buf_free(&enc);
}

static void ref_dba(sl_buf *b, const int64_t *prefix, const char *const *suffix, size_t n)
{
    ref_dbp(b, prefix, n, 128, 4, true, 0);
    ref_dlba(b, suffix, n);
}

static void test_delta_bytes(void **state)
{
    (void)state;
    /* the specification's example */
    const int64_t prefix[] = {0, 2, 0, 3};
    const char *suffix[] = {"axis", "le", "babble", "yhood"};
    const char *want[] = {"axis", "axle", "babble", "babyhood"};
    sl_buf enc = {0};
    ref_dba(&enc, prefix, suffix, 4);
    uint8_t *src = dup_exact(enc.data, enc.len);
    sl_buf arena = {0};
    buf_append_str(&arena, "previous page"); /* offsets are absolute in the arena */
    uint32_t off[5];
    size_t consumed = 0;
    sl_err err = {0};
    assert_int_equal(pq_decode_delta_bytes(src, enc.len, 4, &arena, off, &consumed, &err),
                     SL_OK);
    assert_int_equal(consumed, enc.len);
    assert_int_equal(off[0], strlen("previous page"));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(off[i + 1] - off[i], strlen(want[i]));
        assert_memory_equal(arena.data + off[i], want[i], strlen(want[i]));
    }
    assert_int_equal(arena.len, off[4]);
    assert_memory_equal(arena.data, "previous page", 13);
    for (size_t cut = 0; cut < enc.len; cut++) {
        uint8_t *t = dup_exact(enc.data, cut);
        size_t before = arena.len;
        assert_corrupt(pq_decode_delta_bytes(t, cut, 4, &arena, off, NULL, &err), &err,
                       "DELTA_BYTE_ARRAY");
        assert_int_equal(arena.len, before);
        free(t);
    }
    free(src);
    buf_free(&enc);

    /* a prefix longer than the previous value */
    const int64_t bad_prefix[] = {0, 5};
    const char *bad_suffix[] = {"abcd", "x"};
    ref_dba(&enc, bad_prefix, bad_suffix, 2);
    assert_corrupt(
        pq_decode_delta_bytes((const uint8_t *)enc.data, enc.len, 2, &arena, off, NULL, &err),
        &err, "prefix length 5");
    buf_free(&enc);
    /* a first value with a prefix */
    const int64_t first_prefix[] = {1};
    ref_dba(&enc, first_prefix, bad_suffix, 1);
    assert_corrupt(
        pq_decode_delta_bytes((const uint8_t *)enc.data, enc.len, 1, &arena, off, NULL, &err),
        &err, "DELTA_BYTE_ARRAY");
    buf_free(&enc);

    /* random sorted strings sharing prefixes, against their plain form */
    size_t n = 700;
    char **vals = calloc(n, sizeof *vals);
    int64_t *pre = calloc(n, sizeof *pre);
    const char **suf = calloc(n, sizeof *suf);
    char prev[64] = "";
    for (size_t i = 0; i < n; i++) {
        size_t keep = strlen(prev) ? rng() % (strlen(prev) + 1) : 0;
        size_t add = rng() % 12;
        char s[64];
        memcpy(s, prev, keep);
        for (size_t k = 0; k < add && keep + k < 40; k++)
            s[keep + k] = (char)('a' + rng() % 26);
        size_t len = keep + add < 40 ? keep + add : 40;
        s[len] = '\0';
        vals[i] = sl_strdup(s);
        pre[i] = (int64_t)keep;
        suf[i] = vals[i] + keep;
        memcpy(prev, s, len + 1);
    }
    ref_dba(&enc, pre, suf, n);
    uint32_t *offs = malloc((n + 1) * sizeof *offs);
    buf_reset(&arena);
    src = dup_exact(enc.data, enc.len);
    assert_int_equal(pq_decode_delta_bytes(src, enc.len, n, &arena, offs, &consumed, &err),
                     SL_OK);
    assert_int_equal(consumed, enc.len);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(offs[i + 1] - offs[i], strlen(vals[i]));
        assert_memory_equal(arena.data + offs[i], vals[i], strlen(vals[i]));
    }
    free(src);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    free(pre);
    free(suf);
    free(offs);
    buf_free(&enc);
    buf_free(&arena);
}

/* ------------------------------------------------------------------ */
/* BYTE_STREAM_SPLIT                                                   */

static void check_bss(size_t width, size_t count)
{
    uint8_t *plain = malloc(width * count + 1);
    uint8_t *split = malloc(width * count + 1);
    for (size_t i = 0; i < width * count; i++)
        plain[i] = (uint8_t)rng();
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < width; k++)
            split[k * count + i] = plain[i * width + k];
    uint8_t *src = dup_exact(split, width * count);
    uint8_t *out = malloc(width * count + 1);
    sl_err err = {0};
    assert_int_equal(pq_decode_byte_stream_split(src, width * count, width, count, out, &err),
                     SL_OK);
    assert_memory_equal(out, plain, width * count);
    free(out);
    free(src);
    free(split);
    free(plain);
}

static void test_byte_stream_split(void **state)
{
    (void)state;
    /* known vector: floats 1.0f (0x3F800000) and -2.5f (0xC0200000) */
    const uint8_t b[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x20, 0x3F, 0xC0};
    float f[2];
    sl_err err = {0};
    assert_int_equal(pq_decode_byte_stream_split(b, 8, 4, 2, f, &err), SL_OK);
    assert_true(f[0] == 1.0f);
    assert_true(f[1] == -2.5f);
    /* doubles 1.0 and 2.0 */
    const uint8_t d[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x00, 0x3F, 0x40};
    double dv[2];
    assert_int_equal(pq_decode_byte_stream_split(d, 16, 8, 2, dv, &err), SL_OK);
    assert_true(dv[0] == 1.0);
    assert_true(dv[1] == 2.0);
    check_bss(4, 1);
    check_bss(4, 1001);
    check_bss(8, 333);
    check_bss(3, 17); /* FIXED_LEN_BYTE_ARRAY(3) */
    check_bss(16, 9);
    assert_corrupt(pq_decode_byte_stream_split(b, 7, 4, 1, f, &err), &err, "BYTE_STREAM_SPLIT");
    assert_corrupt(pq_decode_byte_stream_split(b, 8, 4, 3, f, &err), &err, "BYTE_STREAM_SPLIT");
    assert_corrupt(pq_decode_byte_stream_split(b, 8, 0, 1, f, &err), &err, "width");
    assert_corrupt(pq_decode_byte_stream_split(b, 4, 8, 1, dv, &err), &err, "BYTE_STREAM_SPLIT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rle_known_vectors),
        cmocka_unit_test(test_rle_levels_known),
        cmocka_unit_test(test_rle_malformed),
        cmocka_unit_test(test_rle_roundtrip_all_widths),
        cmocka_unit_test(test_rle_truncations),
        cmocka_unit_test(test_bit_packed_levels),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_dbp_spec_examples),
        cmocka_unit_test(test_dbp_roundtrips),
        cmocka_unit_test(test_dbp_malformed),
        cmocka_unit_test(test_delta_length),
        cmocka_unit_test(test_delta_bytes),
        cmocka_unit_test(test_byte_stream_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
