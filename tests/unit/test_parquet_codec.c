/* Page compression codecs (pq_codec.h): round trips of every supported
 * codec, exact output lengths, damaged input (SL_PARQUET_CORRUPT, never a
 * crash; compressed bytes live in exactly sized heap blocks so ASan sees
 * overreads), concatenated gzip members, empty pages, unsupported codecs. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "backend/parquet/pq_codec.h"
#include "backend/util/buf.h"

static const pq_codec all_codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                                      PQ_CODEC_ZSTD,         PQ_CODEC_LZ4_RAW, PQ_CODEC_BROTLI};
#define N_CODECS (sizeof all_codecs / sizeof all_codecs[0])

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 24);
    return p;
}

/* Text-like data with repeats: what a page of strings looks like. */
static uint8_t *compressible_bytes(size_t n)
{
    static const char *words[] = {"sluice ", "parquet ", "delta ", "row-group ", "page ",
                                  "2024-01-01T00:00:00Z ", "null ", "12345 "};
    uint8_t *p = malloc(n ? n : 1);
    size_t i = 0;
    while (i < n) {
        const char *w = words[rng() % 8];
        for (size_t k = 0; w[k] && i < n; k++)
            p[i++] = (uint8_t)w[k];
    }
    return p;
}

static void compress_ok(pq_codec c, const uint8_t *src, size_t n, int level, sl_buf *out)
{
    sl_err err = {0};
    sl_code rc = pq_codec_compress(c, src, n, level, out, &err);
    if (rc != SL_OK)
        fail_msg("%s compress of %zu bytes: %s", pq_codec_name(c), n, err.msg);
}

static void expect_corrupt(sl_code rc, const sl_err *err, pq_codec c, const char *what)
{
    if (rc != SL_PARQUET_CORRUPT)
        fail_msg("%s %s: expected SL_PARQUET_CORRUPT, got %s (%s)", pq_codec_name(c), what,
                 err_code_name(rc), err->msg);
    if (!strstr(err->msg, pq_codec_name(c)))
        fail_msg("%s %s: message \"%s\" does not name the codec", pq_codec_name(c), what,
                 err->msg);
}

static void roundtrip(pq_codec c, const uint8_t *src, size_t n, int level)
{
    sl_buf comp = {0};
    compress_ok(c, src, n, level, &comp);
    uint8_t *in = dup_exact(comp.data, comp.len);
    uint8_t *out = malloc(n ? n : 1);
    sl_err err = {0};
    sl_code rc = pq_codec_decompress(c, in, comp.len, out, n, &err);
    if (rc != SL_OK)
        fail_msg("%s round trip of %zu bytes: %s", pq_codec_name(c), n, err.msg);
    if (n)
        assert_memory_equal(out, src, n);
    free(out);
    free(in);
    buf_free(&comp);
}

static void test_roundtrip_every_codec(void **state)
{
    (void)state;
    const size_t mib = 1 << 20;
    uint8_t *rnd = random_bytes(mib);
    uint8_t *txt = compressible_bytes(mib);
    for (size_t i = 0; i < N_CODECS; i++) {
        pq_codec c = all_codecs[i];
        assert_true(pq_codec_supported(c));
        roundtrip(c, NULL, 0, 0);
        roundtrip(c, (const uint8_t *)"x", 1, 0);
        roundtrip(c, rnd, 1000, 0);
        roundtrip(c, rnd, mib, 0);
        roundtrip(c, txt, mib, 0);
    }
    /* compressible data actually shrinks (the codec is not a copy) */
    for (size_t i = 1; i < N_CODECS; i++) {
        sl_buf comp = {0};
        compress_ok(all_codecs[i], txt, mib, 0, &comp);
        if (comp.len > mib / 3)
            fail_msg("%s left 1 MiB of text at %zu bytes", pq_codec_name(all_codecs[i]),
                     comp.len);
        buf_free(&comp);
    }
    /* explicit levels */
    roundtrip(PQ_CODEC_GZIP, txt, 100000, 1);
    roundtrip(PQ_CODEC_GZIP, txt, 100000, 9);
    roundtrip(PQ_CODEC_ZSTD, txt, 100000, 19);
    roundtrip(PQ_CODEC_ZSTD, txt, 100000, -3);
    roundtrip(PQ_CODEC_LZ4_RAW, txt, 100000, 9);
    roundtrip(PQ_CODEC_BROTLI, txt, 100000, 11);
    free(txt);
    free(rnd);
}

static void test_compress_appends_and_levels(void **state)
{
    (void)state;
    sl_buf out = {0};
    buf_append_str(&out, "HEAD");
    compress_ok(PQ_CODEC_UNCOMPRESSED, (const uint8_t *)"abc", 3, 0, &out);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.data, "HEADabc", 7);
    size_t before = out.len;
    compress_ok(PQ_CODEC_ZSTD, (const uint8_t *)"abcabcabc", 9, 0, &out);
    assert_true(out.len > before);
    assert_memory_equal(out.data, "HEADabc", 7);
    uint8_t back[9];
    sl_err err = {0};
    assert_int_equal(pq_codec_decompress(PQ_CODEC_ZSTD, (const uint8_t *)out.data + before,
                                         out.len - before, back, 9, &err),
                     SL_OK);
    assert_memory_equal(back, "abcabcabc", 9);
    /* gzip writes a gzip header (magic 1f 8b) */
    buf_reset(&out);
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"abc", 3, 0, &out);
    assert_int_equal((unsigned char)out.data[0], 0x1f);
    assert_int_equal((unsigned char)out.data[1], 0x8b);
    /* levels out of range */
    assert_int_equal(pq_codec_compress(PQ_CODEC_GZIP, (const uint8_t *)"a", 1, 10, &out, &err),
                     SL_USAGE);
    assert_non_null(strstr(err.msg, "GZIP"));
    assert_int_equal(pq_codec_compress(PQ_CODEC_ZSTD, (const uint8_t *)"a", 1, 99, &out, &err),
                     SL_USAGE);
    assert_int_equal(
        pq_codec_compress(PQ_CODEC_BROTLI, (const uint8_t *)"a", 1, 12, &out, &err), SL_USAGE);
    buf_free(&out);
}

static void test_wrong_length(void **state)
{
    (void)state;
    uint8_t *txt = compressible_bytes(5000);
    for (size_t i = 0; i < N_CODECS; i++) {
        pq_codec c = all_codecs[i];
        sl_buf comp = {0};
        compress_ok(c, txt, 5000, 0, &comp);
        uint8_t *in = dup_exact(comp.data, comp.len);
        const size_t lens[] = {4999, 5001, 1, 0, 10000};
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            uint8_t *out = malloc(lens[k] ? lens[k] : 1);
            sl_err err = {0};
            sl_code rc = pq_codec_decompress(c, in, comp.len, out, lens[k], &err);
            char what[64];
            snprintf(what, sizeof what, "dst_len %zu for 5000 bytes", lens[k]);
            expect_corrupt(rc, &err, c, what);
            free(out);
        }
        free(in);
        buf_free(&comp);
    }
    free(txt);
}

static void test_corrupted_input(void **state)
{
    (void)state;
    uint8_t *txt = compressible_bytes(20000);
    for (size_t i = 0; i < N_CODECS; i++) {
        pq_codec c = all_codecs[i];
        sl_buf comp = {0};
        compress_ok(c, txt, 20000, 0, &comp);
        uint8_t *out = malloc(20000);
        sl_err err = {0};
        /* truncation always fails */
        const size_t cuts[] = {comp.len / 2, comp.len - 1, 1};
        for (size_t k = 0; k < 3; k++) {
            uint8_t *in = dup_exact(comp.data, cuts[k]);
            expect_corrupt(pq_codec_decompress(c, in, cuts[k], out, 20000, &err), &err, c,
                           "truncated input");
            free(in);
        }
        /* random damage: either detected or (for formats without checksums)
         * bytes of the right length; never a crash or an overread */
        for (int round = 0; round < 200; round++) {
            uint8_t *in = dup_exact(comp.data, comp.len);
            int flips = 1 + (int)(rng() % 4);
            for (int f = 0; f < flips; f++)
                in[rng() % comp.len] ^= (uint8_t)(1 + rng() % 255);
            sl_code rc = pq_codec_decompress(c, in, comp.len, out, 20000, &err);
            if (rc != SL_OK)
                expect_corrupt(rc, &err, c, "damaged input");
            free(in);
        }
        /* garbage of the right length */
        uint8_t *junk = random_bytes(comp.len);
        sl_code rc = pq_codec_decompress(c, junk, comp.len, out, 20000, &err);
        if (c != PQ_CODEC_UNCOMPRESSED)
            expect_corrupt(rc, &err, c, "random bytes");
        free(junk);
        free(out);
        buf_free(&comp);
    }
    /* zlib checks its CRC: one flipped payload byte in a gzip member is caught */
    sl_buf comp = {0};
    compress_ok(PQ_CODEC_GZIP, txt, 20000, 0, &comp);
    uint8_t *in = dup_exact(comp.data, comp.len);
    in[comp.len - 6] ^= 0x55; /* inside the CRC32 trailer */
    uint8_t *out = malloc(20000);
    sl_err err = {0};
    expect_corrupt(pq_codec_decompress(PQ_CODEC_GZIP, in, comp.len, out, 20000, &err), &err,
                   PQ_CODEC_GZIP, "bad CRC");
    free(out);
    free(in);
    buf_free(&comp);
    free(txt);
}

static void test_gzip_members(void **state)
{
    (void)state;
    sl_buf comp = {0};
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"hello ", 6, 0, &comp);
    size_t first = comp.len;
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"concatenated ", 13, 0, &comp);
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"world", 5, 0, &comp);
    uint8_t *in = dup_exact(comp.data, comp.len);
    uint8_t out[24];
    sl_err err = {0};
    assert_int_equal(pq_codec_decompress(PQ_CODEC_GZIP, in, comp.len, out, 24, &err), SL_OK);
    assert_memory_equal(out, "hello concatenated world", 24);
    /* the first member alone is not the whole page */
    expect_corrupt(pq_codec_decompress(PQ_CODEC_GZIP, in, first, out, 24, &err), &err,
                   PQ_CODEC_GZIP, "one member of three");
    /* a member cut short after a complete one */
    expect_corrupt(pq_codec_decompress(PQ_CODEC_GZIP, in, comp.len - 3, out, 24, &err), &err,
                   PQ_CODEC_GZIP, "truncated second member");
    /* an empty member in the middle */
    sl_buf mid = {0};
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"ab", 2, 0, &mid);
    compress_ok(PQ_CODEC_GZIP, NULL, 0, 0, &mid);
    compress_ok(PQ_CODEC_GZIP, (const uint8_t *)"cd", 2, 0, &mid);
    assert_int_equal(
        pq_codec_decompress(PQ_CODEC_GZIP, (const uint8_t *)mid.data, mid.len, out, 4, &err),
        SL_OK);
    assert_memory_equal(out, "abcd", 4);
    buf_free(&mid);
    free(in);
    buf_free(&comp);

    /* a zlib (not gzip) stream is accepted too: windowBits 15 + 32 */
    const char *msg = "zlib-wrapped deflate data, zlib-wrapped deflate data";
    size_t mlen = strlen(msg);
    uLongf zlen = compressBound((uLong)mlen);
    uint8_t *z = malloc(zlen);
    assert_int_equal(compress2(z, &zlen, (const Bytef *)msg, (uLong)mlen, 6), Z_OK);
    uint8_t *zin = dup_exact(z, zlen);
    uint8_t *zout = malloc(mlen);
    assert_int_equal(pq_codec_decompress(PQ_CODEC_GZIP, zin, zlen, zout, mlen, &err), SL_OK);
    assert_memory_equal(zout, msg, mlen);
    free(zout);
    free(zin);
    free(z);
}

static void test_empty_pages(void **state)
{
    (void)state;
    sl_err err = {0};
    uint8_t out[4];
    for (size_t i = 0; i < N_CODECS; i++) {
        pq_codec c = all_codecs[i];
        /* 0 input bytes never reach a library */
        assert_int_equal(pq_codec_decompress(c, NULL, 0, NULL, 0, &err), SL_OK);
        expect_corrupt(pq_codec_decompress(c, NULL, 0, out, 4, &err), &err, c,
                       "empty input, 4 bytes expected");
        /* a real stream of 0 bytes decompresses to dst_len 0 */
        sl_buf comp = {0};
        compress_ok(c, NULL, 0, 0, &comp);
        uint8_t *in = dup_exact(comp.data, comp.len);
        assert_int_equal(pq_codec_decompress(c, in, comp.len, NULL, 0, &err), SL_OK);
        free(in);
        buf_free(&comp);
    }
    /* a zstd frame made by the library itself with no content */
    uint8_t frame[64];
    size_t fl = ZSTD_compress(frame, sizeof frame, "", 0, 3);
    assert_false(ZSTD_isError(fl));
    uint8_t *in = dup_exact(frame, fl);
    assert_int_equal(pq_codec_decompress(PQ_CODEC_ZSTD, in, fl, NULL, 0, &err), SL_OK);
    /* and that frame is not 4 bytes of data */
    expect_corrupt(pq_codec_decompress(PQ_CODEC_ZSTD, in, fl, out, 4, &err), &err,
                   PQ_CODEC_ZSTD, "empty frame, 4 bytes expected");
    free(in);
}

static void test_unsupported_and_names(void **state)
{
    (void)state;
    sl_err err = {0};
    uint8_t out[8];
    const uint8_t in[4] = {1, 2, 3, 4};
    assert_false(pq_codec_supported(PQ_CODEC_LZO));
    assert_false(pq_codec_supported(PQ_CODEC_LZ4));
    assert_int_equal(pq_codec_decompress(PQ_CODEC_LZO, in, 4, out, 8, &err),
                     SL_PARQUET_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "LZO"));
    assert_int_equal(pq_codec_decompress(PQ_CODEC_LZ4, in, 4, out, 8, &err),
                     SL_PARQUET_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "LZ4"));
    assert_int_equal(pq_codec_decompress((pq_codec)42, in, 4, out, 8, &err),
                     SL_PARQUET_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "42"));
    /* unsupported even for an empty page: the reader must say why */
    assert_int_equal(pq_codec_decompress(PQ_CODEC_LZO, NULL, 0, NULL, 0, &err),
                     SL_PARQUET_UNSUPPORTED);
    sl_buf b = {0};
    assert_int_equal(pq_codec_compress(PQ_CODEC_LZO, in, 4, 0, &b, &err),
                     SL_PARQUET_UNSUPPORTED);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    assert_string_equal(pq_codec_name(PQ_CODEC_SNAPPY), "SNAPPY");
    assert_string_equal(pq_codec_name(PQ_CODEC_LZ4_RAW), "LZ4_RAW");
    assert_string_equal(pq_codec_name((pq_codec)42), "UNKNOWN");
    pq_codec c = PQ_CODEC_GZIP;
    assert_true(pq_codec_from_name("Snappy", &c));
    assert_int_equal(c, PQ_CODEC_SNAPPY);
    assert_true(pq_codec_from_name("NONE", &c));
    assert_int_equal(c, PQ_CODEC_UNCOMPRESSED);
    assert_true(pq_codec_from_name("uncompressed", &c));
    assert_int_equal(c, PQ_CODEC_UNCOMPRESSED);
    assert_true(pq_codec_from_name("zstd", &c));
    assert_int_equal(c, PQ_CODEC_ZSTD);
    assert_true(pq_codec_from_name("GZIP", &c));
    assert_int_equal(c, PQ_CODEC_GZIP);
    assert_true(pq_codec_from_name("lz4_raw", &c));
    assert_int_equal(c, PQ_CODEC_LZ4_RAW);
    assert_true(pq_codec_from_name("brotli", &c));
    assert_int_equal(c, PQ_CODEC_BROTLI);
    c = PQ_CODEC_ZSTD;
    assert_false(pq_codec_from_name("lzo", &c));
    assert_false(pq_codec_from_name("zip", &c));
    assert_false(pq_codec_from_name("", &c));
    assert_false(pq_codec_from_name(NULL, &c));
    assert_int_equal(c, PQ_CODEC_ZSTD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_codec),
        cmocka_unit_test(test_compress_appends_and_levels),
        cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_corrupted_input),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_empty_pages),
        cmocka_unit_test(test_unsupported_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
