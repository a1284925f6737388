/* The Parquet reader on damaged and hostile input: truncated files (every
 * length), wrong magic at either end, a footer longer than the file, absurd
 * or negative sizes in the footer and in page headers, a corrupted
 * compressed page, dictionary indices out of range, schemas deeper than the
 * limit or whose num_children point past the list, single-byte damage
 * anywhere in a file; and the inputs found while fuzzing (tests/fuzz):
 * timestamps at the ends of int64, repeated groups nested deep without
 * annotations, a huge BOOLEAN dictionary count. Each gives an SL-PARQUET-*
 * code or the right values; none crashes (this test runs under ASan+UBSan
 * in the sanitizer build). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_meta.h"
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_rle.h"
#include "backend/parquet/pq_writer.h"
#include "backend/parquet/thrift_compact.h"
#include "backend/util/buf.h"

static bool parquet_code(sl_code c)
{
    return c == SL_PARQUET_CORRUPT || c == SL_PARQUET_NOT_PARQUET ||
           c == SL_PARQUET_UNSUPPORTED || c == SL_PARQUET_TOO_DEEP;
}

/* Opens data, reads every column chunk and every row; returns the first
 * error (or SL_OK). */
static sl_code decode_all(const void *data, size_t len, sl_err *err)
{
    pq_source src;
    pq_source_memory(data, len, "damaged.parquet", &src);
    pq_reader *r = NULL;
    sl_code c = pq_reader_open(&src, &r, err);
    if (c != SL_OK)
        return c;
    const pq_file_info *info = pq_reader_info(r);
    sl_code first = SL_OK;
    for (size_t g = 0; g < info->num_row_groups; g++)
        for (size_t k = 0; k < info->num_leaves; k++) {
            pq_column_data d;
            c = pq_read_column(r, g, k, &d, err);
            if (c == SL_OK)
                pq_column_data_free(&d);
            else if (first == SL_OK)
                first = c;
        }
    pq_rows *rows = NULL;
    c = pq_rows_open(r, NULL, 0, &rows, err);
    while (c == SL_OK) {
        json_t *row = NULL;
        c = pq_rows_next(rows, &row, err);
        if (!row)
            break;
        char *text = json_dumps(row, JSON_COMPACT); /* every value must print */
        assert_non_null(text);
        free(text);
        json_decref(row);
    }
    pq_rows_free(rows);
    pq_reader_close(r);
    return first != SL_OK ? first : c;
}

static void small_file(sl_buf *out, pq_compression comp)
{
    pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, false},
                            {"name", PQ_TYPE_STRING, true},
                            {"amount", PQ_TYPE_DOUBLE, true},
                            {"ok", PQ_TYPE_BOOLEAN, true}};
    pq_writer_opts o = {.compression = comp, .row_group_rows = 25, .page_size = 128};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, 4, &o, &err);
    assert_non_null(w);
    char name[32];
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "name-%d", i % 7);
        pq_value v[4] = {pq_val_i64(i), i % 5 ? pq_val_str(name) : pq_val_null(),
                         pq_val_f64(i * 1.5), pq_val_bool(i % 2)};
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    assert_int_equal(pq_writer_finish(w, out, NULL, &err), SL_OK);
    pq_writer_free(w);
}

static uint32_t le32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- truncation and damage to whole files ---------------------------------- */

static void assert_every_prefix_fails(const uint8_t *data, size_t len)
{
    sl_err err = {0};
    for (size_t n = 0; n < len; n++) {
        sl_code c = decode_all(data, n, &err);
        if (!parquet_code(c))
            fail_msg("prefix of %zu bytes: %s (%s)", n, err_code_name(c), err.msg);
    }
    assert_int_equal(decode_all(data, len, &err), SL_OK);
}

static void test_truncated_written_file(void **state)
{
    (void)state;
    sl_buf f = {0};
    small_file(&f, PQ_COMPRESSION_SNAPPY);
    assert_every_prefix_fails((const uint8_t *)f.data, f.len);
    buf_free(&f);
}

static void test_truncated_fixtures(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    const char *files[] = {"parquet-testing/nested_maps.snappy.parquet",
                           "parquet-testing/datapage_v2.snappy.parquet",
                           "delta-checkpoints/checkpoint_with_partitions__00000000000000000002.checkpoint.parquet"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = sl_asprintf("%s/parquet/%s", fx, files[i]);
        sl_buf b = {0};
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
            buf_append(&b, chunk, n);
        fclose(fp);
        assert_every_prefix_fails((const uint8_t *)b.data, b.len);
        buf_free(&b);
        free(path);
    }
}

/* The footer kept, the data before it cut short: every chunk offset then
 * points outside the data. */
static void test_data_cut_footer_kept(void **state)
{
    (void)state;
    sl_buf f = {0};
    small_file(&f, PQ_COMPRESSION_NONE);
    uint32_t flen = le32(f.data + f.len - 8);
    size_t tail = flen + 8, data_end = f.len - tail;
    sl_err err = {0};
    for (size_t cut = 4; cut < data_end; cut++) {
        sl_buf g = {0};
        buf_append(&g, f.data, cut);
        buf_append(&g, f.data + data_end, tail);
        sl_code c = decode_all(g.data, g.len, &err);
        if (!parquet_code(c))
            fail_msg("data cut at %zu: %s (%s)", cut, err_code_name(c), err.msg);
        buf_free(&g);
    }
    buf_free(&f);
}

/* Every byte of a file flipped in turn: an error or a (different) decode,
 * never a crash. */
static void flip_every_byte(const uint8_t *data, size_t len, size_t from)
{
    uint8_t *copy = malloc(len);
    sl_err err = {0};
    const uint8_t masks[] = {0xFF, 0x01, 0x80};
    for (size_t m = 0; m < sizeof masks; m++)
        for (size_t i = from; i < len; i++) {
            memcpy(copy, data, len);
            copy[i] ^= masks[m];
            sl_code c = decode_all(copy, len, &err);
            if (c != SL_OK && !parquet_code(c))
                fail_msg("byte %zu ^ %02x: %s (%s)", i, masks[m], err_code_name(c), err.msg);
        }
    free(copy);
}

static void test_single_byte_damage(void **state)
{
    (void)state;
    const pq_compression comps[] = {PQ_COMPRESSION_NONE, PQ_COMPRESSION_SNAPPY,
                                    PQ_COMPRESSION_ZSTD, PQ_COMPRESSION_GZIP};
    for (size_t k = 0; k < 4; k++) {
        sl_buf f = {0};
        small_file(&f, comps[k]);
        flip_every_byte((const uint8_t *)f.data, f.len, 0);
        buf_free(&f);
    }
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    char *path = sl_asprintf("%s/parquet/parquet-testing/nullable.impala.parquet", fx);
    char *text = NULL;
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    flip_every_byte((const uint8_t *)b.data, b.len, 0);
    buf_free(&b);
    free(text);
    free(path);
}

static void test_magic_and_footer_length(void **state)
{
    (void)state;
    sl_buf f = {0};
    small_file(&f, PQ_COMPRESSION_SNAPPY);
    sl_err err = {0};
    f.data[0] = 'X';
    assert_int_equal(decode_all(f.data, f.len, &err), SL_PARQUET_NOT_PARQUET);
    assert_non_null(strstr(err.msg, "start"));
    f.data[0] = 'P';
    f.data[f.len - 1] = 'X';
    assert_int_equal(decode_all(f.data, f.len, &err), SL_PARQUET_NOT_PARQUET);
    assert_non_null(strstr(err.msg, "end"));
    f.data[f.len - 1] = '1';
    memcpy(f.data + f.len - 4, "PARE", 4);
    assert_int_equal(decode_all(f.data, f.len, &err), SL_PARQUET_UNSUPPORTED);
    memcpy(f.data + f.len - 4, "PAR1", 4);
    /* Footer length larger than the file, and one byte short. */
    uint32_t flen = le32(f.data + f.len - 8);
    uint8_t *lenp = (uint8_t *)f.data + f.len - 8;
    const uint32_t bad[] = {0xFFFFFFFFu, (uint32_t)f.len, (uint32_t)f.len - 11, flen - 1, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lenp[0] = (uint8_t)bad[i], lenp[1] = (uint8_t)(bad[i] >> 8);
        lenp[2] = (uint8_t)(bad[i] >> 16), lenp[3] = (uint8_t)(bad[i] >> 24);
        sl_code c = decode_all(f.data, f.len, &err);
        assert_true(parquet_code(c));
        if (bad[i] > f.len - 12)
            assert_int_equal(c, SL_PARQUET_CORRUPT);
    }
    assert_int_equal(decode_all("PAR1PAR1", 8, &err), SL_PARQUET_NOT_PARQUET);
    assert_int_equal(decode_all("PAR1\0\0\0\0PAR1", 12, &err), SL_PARQUET_CORRUPT);
    buf_free(&f);
}

/* ---- hand-built files: one REQUIRED INT32 column "x" ----------------------- */

typedef struct chunk_spec {
    pq_codec codec;
    int64_t num_values, num_rows;
    int64_t dict_offset_rel; /* -1: no dictionary page */
    int64_t tcs_delta;       /* added to the true total_compressed_size */
    bool negative_size;      /* a negative total_uncompressed_size */
    bool typed;              /* column "x" has type `type`, not INT32 */
    pq_physical type;
} chunk_spec;

static void page_header(sl_buf *out, pq_page_type type, int32_t usize, int32_t csize,
                        int32_t nvals, pq_encoding enc)
{
    thrift_writer w;
    thrift_writer_init(&w, out);
    thrift_struct_begin(&w);
    thrift_field_i32(&w, 1, (int32_t)type);
    thrift_field_i32(&w, 2, usize);
    thrift_field_i32(&w, 3, csize);
    if (type == PQ_PAGE_DATA) {
        thrift_field_struct_begin(&w, 5);
        thrift_field_i32(&w, 1, nvals);
        thrift_field_i32(&w, 2, (int32_t)enc);
        thrift_field_i32(&w, 3, PQ_ENC_RLE);
        thrift_field_i32(&w, 4, PQ_ENC_RLE);
        thrift_struct_end(&w);
    } else if (type == PQ_PAGE_DICTIONARY) {
        thrift_field_struct_begin(&w, 7);
        thrift_field_i32(&w, 1, nvals);
        thrift_field_i32(&w, 2, (int32_t)enc);
        thrift_struct_end(&w);
    }
    thrift_struct_end(&w);
}

static void build_file(sl_buf *out, const sl_buf *chunk, const chunk_spec *s)
{
    pq_physical type = s->typed ? s->type : PQ_PHYS_INT32;
    pq_schema_element els[] = {
        {.name = "schema", .num_children = 1, .converted = PQ_CONV_NONE},
        {.name = "x", .has_type = true, .type = type, .has_repetition = true,
         .repetition = PQ_REP_REQUIRED, .converted = PQ_CONV_NONE},
    };
    const char *path[] = {"x"};
    pq_column_chunk cc = {
        .file_offset = 4,
        .meta = {.type = type,
                 .encodings = {PQ_ENC_PLAIN},
                 .num_encodings = 1,
                 .path = path,
                 .path_len = 1,
                 .codec = s->codec,
                 .num_values = s->num_values,
                 .total_uncompressed_size = s->negative_size ? -5 : (int64_t)chunk->len,
                 .total_compressed_size = (int64_t)chunk->len + s->tcs_delta,
                 .data_page_offset = 4 + (s->dict_offset_rel >= 0 ? 0 : 0),
                 .dictionary_page_offset = s->dict_offset_rel >= 0 ? 4 + s->dict_offset_rel : 0},
    };
    pq_row_group rg = {.columns = &cc, .num_columns = 1, .total_byte_size = (int64_t)chunk->len,
                       .num_rows = s->num_rows, .file_offset = 4, .ordinal = -1};
    pq_file_meta m = {.version = 1, .schema = els, .num_schema = 2, .num_rows = s->num_rows,
                      .row_groups = &rg, .num_row_groups = 1, .created_by = "robust",
                      .num_leaves = 1};
    sl_buf meta = {0};
    pq_meta_write_file_meta(&meta, &m);
    buf_reset(out);
    buf_append(out, "PAR1", 4);
    buf_append(out, chunk->data, chunk->len);
    buf_append(out, meta.data, meta.len);
    uint32_t n = (uint32_t)meta.len;
    uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    buf_append(out, le, 4);
    buf_append(out, "PAR1", 4);
    buf_free(&meta);
}

/* A plain page of n int32 values 0..n-1 (header sizes overridden when non-zero). */
static void plain_page(sl_buf *chunk, int n, int32_t usize_override, int32_t csize_override)
{
    sl_buf body = {0};
    for (int i = 0; i < n; i++) {
        uint8_t v[4] = {(uint8_t)i, 0, 0, 0};
        buf_append(&body, v, 4);
    }
    int32_t cs = csize_override ? csize_override : (int32_t)body.len;
    int32_t us = usize_override ? usize_override : (int32_t)body.len;
    page_header(chunk, PQ_PAGE_DATA, us, cs, n, PQ_ENC_PLAIN);
    buf_append(chunk, body.data, body.len);
    buf_free(&body);
}

static sl_code build_and_decode(const sl_buf *chunk, const chunk_spec *s, sl_err *err)
{
    sl_buf f = {0};
    build_file(&f, chunk, s);
    sl_code c = decode_all(f.data, f.len, err);
    buf_free(&f);
    return c;
}

static void test_hand_built_pages(void **state)
{
    (void)state;
    sl_err err = {0};
    sl_buf ch = {0};
    chunk_spec s = {.codec = PQ_CODEC_UNCOMPRESSED, .num_values = 5, .num_rows = 5,
                    .dict_offset_rel = -1};

    /* The baseline decodes, so each failure below is the damage's doing. */
    plain_page(&ch, 5, 0, 0);
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_OK);

    /* A page longer than its chunk. */
    buf_reset(&ch);
    plain_page(&ch, 5, 0, 0x7FFFFFFF);
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    /* A negative page size. */
    buf_reset(&ch);
    plain_page(&ch, 5, 0, -20);
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    assert_non_null(strstr(err.msg, "negative"));
    /* Absurd uncompressed size behind a codec. */
    buf_reset(&ch);
    plain_page(&ch, 5, 0x7FFFFFF0, 0);
    s.codec = PQ_CODEC_SNAPPY;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    /* A corrupted compressed page: the bytes are not snappy. */
    buf_reset(&ch);
    {
        const uint8_t junk[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x11, 0x22, 0x33, 0x44, 0x55};
        page_header(&ch, PQ_PAGE_DATA, 20, sizeof junk, 5, PQ_ENC_PLAIN);
        buf_append(&ch, junk, sizeof junk);
    }
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.codec = PQ_CODEC_UNCOMPRESSED;
    /* More values in the page than in the chunk, and than in the page. */
    buf_reset(&ch);
    plain_page(&ch, 5, 0, 0);
    s.num_values = 3;
    s.num_rows = 3;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.num_values = 9;
    s.num_rows = 9;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    /* Rows in the row group that the chunk does not hold. */
    s.num_values = 5;
    s.num_rows = 6;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.num_rows = 5;
    /* An absurd value count in the column metadata. */
    s.num_values = (int64_t)1 << 40;
    assert_true(parquet_code(build_and_decode(&ch, &s, &err)));
    s.num_values = 5;
    /* The chunk size in the footer runs past the data, or is negative. */
    s.tcs_delta = 1000;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.tcs_delta = -(int64_t)ch.len - 10;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.tcs_delta = 0;
    s.negative_size = true;
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    s.negative_size = false;
    /* Unknown page types are skipped by their size. */
    buf_reset(&ch);
    page_header(&ch, (pq_page_type)77, 3, 3, 0, PQ_ENC_PLAIN);
    buf_append(&ch, "abc", 3);
    plain_page(&ch, 5, 0, 0);
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_OK);
    buf_free(&ch);
}

static void test_dictionary_index_out_of_range(void **state)
{
    (void)state;
    sl_err err = {0};
    for (uint32_t bad = 0; bad < 2; bad++) {
        sl_buf ch = {0};
        /* Dictionary of two values. */
        const uint8_t dict[] = {10, 0, 0, 0, 20, 0, 0, 0};
        page_header(&ch, PQ_PAGE_DICTIONARY, sizeof dict, sizeof dict, 2, PQ_ENC_PLAIN);
        buf_append(&ch, dict, sizeof dict);
        size_t data_at = ch.len;
        /* Indices (bit width 2): 0,1,1,0 and then 3 (out of range) or 1. */
        uint32_t idx[5] = {0, 1, 1, 0, bad ? 3 : 1};
        sl_buf body = {0};
        buf_append_char(&body, 2);
        pq_rle_encode_u32(&body, idx, 5, 2);
        page_header(&ch, PQ_PAGE_DATA, (int32_t)body.len, (int32_t)body.len, 5,
                    PQ_ENC_RLE_DICTIONARY);
        buf_append(&ch, body.data, body.len);
        buf_free(&body);
        chunk_spec s = {.codec = PQ_CODEC_UNCOMPRESSED, .num_values = 5, .num_rows = 5,
                        .dict_offset_rel = 0};
        (void)data_at;
        sl_code c = build_and_decode(&ch, &s, &err);
        if (bad) {
            assert_int_equal(c, SL_PARQUET_CORRUPT);
            assert_non_null(strstr(err.msg, "dictionary index 3"));
        } else {
            assert_int_equal(c, SL_OK);
        }
        /* A dictionary-encoded page without a dictionary page. */
        sl_buf only = {0};
        buf_append(&only, ch.data + data_at, ch.len - data_at);
        s.dict_offset_rel = -1;
        assert_int_equal(build_and_decode(&only, &s, &err), SL_PARQUET_CORRUPT);
        buf_free(&only);
        buf_free(&ch);
    }
}

/* A BOOLEAN dictionary page claiming 2^31-1 entries in a 1-byte body: the
 * count is refused before anything is allocated for it (it used to cost a
 * 2 GiB allocation). */
static void test_boolean_dictionary_count(void **state)
{
    (void)state;
    sl_err err = {0};
    sl_buf ch = {0};
    page_header(&ch, PQ_PAGE_DICTIONARY, 1, 1, INT32_MAX, PQ_ENC_PLAIN);
    buf_append_char(&ch, 0x01);
    chunk_spec s = {.codec = PQ_CODEC_UNCOMPRESSED, .num_values = 1, .num_rows = 1,
                    .dict_offset_rel = 0, .typed = true, .type = PQ_PHYS_BOOLEAN};
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    assert_non_null(strstr(err.msg, "dictionary of 2147483647 entries in 1 bytes"));
    buf_free(&ch);
}

static void put_varint(sl_buf *b, uint64_t v)
{
    do {
        uint8_t byte = (uint8_t)(v & 0x7F);
        v >>= 7;
        buf_append_char(b, (char)(byte | (v ? 0x80 : 0)));
    } while (v);
}

/* DELTA_BINARY_PACKED for n values first, first + step, ...: every delta is
 * the block's minimum, so the miniblocks have bit width 0. */
static void dbp_arith(sl_buf *b, size_t n, int64_t first, int64_t step)
{
    put_varint(b, 128);
    put_varint(b, 4);
    put_varint(b, n);
    put_varint(b, (uint64_t)((first << 1) ^ (first >> 63)));
    for (size_t done = 1; done < n; done += 128) {
        put_varint(b, (uint64_t)((step << 1) ^ (step >> 63)));
        buf_append(b, "\0\0\0\0", 4);
    }
}

/* DELTA_BYTE_ARRAY where value i repeats value i-1 and adds one byte: n
 * values of 1..n bytes rebuild to n(n+1)/2 bytes, here 1.5 GB from a page of
 * 59 KB that zstd shrinks to a few hundred bytes. It must be refused before
 * anything that large is allocated. */
static void test_delta_byte_array_bomb(void **state)
{
    (void)state;
    enum { N = 55000 };
    sl_buf body = {0}, z = {0}, ch = {0};
    dbp_arith(&body, N, 0, 1); /* prefix lengths 0, 1, 2, ... */
    dbp_arith(&body, N, 1, 0); /* suffix lengths 1, 1, 1, ... */
    for (size_t i = 0; i < N; i++)
        buf_append_char(&body, 'a');
    sl_err err = {0};
    assert_int_equal(pq_codec_compress(PQ_CODEC_ZSTD, (const uint8_t *)body.data, body.len, 0,
                                       &z, &err),
                     SL_OK);
    assert_true(z.len < 4096);
    page_header(&ch, PQ_PAGE_DATA, (int32_t)body.len, (int32_t)z.len, N,
                PQ_ENC_DELTA_BYTE_ARRAY);
    buf_append(&ch, z.data, z.len);
    chunk_spec s = {.codec = PQ_CODEC_ZSTD, .num_values = N, .num_rows = N,
                    .dict_offset_rel = -1, .typed = true, .type = PQ_PHYS_BYTE_ARRAY};
    assert_int_equal(build_and_decode(&ch, &s, &err), SL_PARQUET_CORRUPT);
    assert_non_null(strstr(err.msg, "DELTA_BYTE_ARRAY"));
    assert_non_null(strstr(err.msg, "1512527500 bytes"));
    buf_free(&body);
    buf_free(&z);
    buf_free(&ch);
}

/* ---- values at the edges of their types ------------------------------------ */

/* Timestamps at the ends of int64: the day split used to overflow (signed
 * overflow, caught by UBSan) for values within a day of INT64_MIN. */
static void test_timestamp_extremes(void **state)
{
    (void)state;
    pq_schema_col cols[] = {{"ts", PQ_TYPE_TIMESTAMP_US, false}};
    pq_writer_opts o = {.compression = PQ_COMPRESSION_NONE};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, 1, &o, &err);
    assert_non_null(w);
    const int64_t vals[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, -1};
    const char *want[] = {"-290308-12-21T19:59:05.224192Z", "-290308-12-21T19:59:05.224193Z",
                          "294247-01-10T04:00:54.775807Z", "1969-12-31T23:59:59.999999Z"};
    for (size_t i = 0; i < 4; i++) {
        pq_value v = pq_val_ts_us(vals[i]);
        assert_int_equal(pq_writer_add_row(w, &v, &err), SL_OK);
    }
    sl_buf f = {0};
    assert_int_equal(pq_writer_finish(w, &f, NULL, &err), SL_OK);
    pq_writer_free(w);

    pq_source src;
    pq_source_memory(f.data, f.len, "ts.parquet", &src);
    pq_reader *r = NULL;
    assert_int_equal(pq_reader_open(&src, &r, &err), SL_OK);
    pq_rows *rows = NULL;
    assert_int_equal(pq_rows_open(r, NULL, 0, &rows, &err), SL_OK);
    for (size_t i = 0; i < 4; i++) {
        json_t *row = NULL;
        assert_int_equal(pq_rows_next(rows, &row, &err), SL_OK);
        assert_non_null(row);
        assert_string_equal(json_string_value(json_object_get(row, "ts")), want[i]);
        json_decref(row);
    }
    /* The statistics print through the same code. */
    json_t *meta = pq_meta_to_json(r);
    json_t *st = json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(meta, "row_groups"), 0),
                                       "columns"),
                       0),
        "statistics");
    assert_string_equal(json_string_value(json_object_get(st, "min")), want[0]);
    json_decref(meta);
    pq_rows_free(rows);
    pq_reader_close(r);
    buf_free(&f);
}

/* ---- schemas ------------------------------------------------------------------ */

static sl_code open_schema(const pq_schema_element *els, size_t n, sl_err *err)
{
    pq_file_meta m = {.version = 1, .schema = els, .num_schema = n, .created_by = "robust"};
    sl_buf meta = {0}, f = {0};
    pq_meta_write_file_meta(&meta, &m);
    buf_append(&f, "PAR1", 4);
    buf_append(&f, meta.data, meta.len);
    uint32_t len = (uint32_t)meta.len;
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    buf_append(&f, le, 4);
    buf_append(&f, "PAR1", 4);
    sl_code c = decode_all(f.data, f.len, err);
    buf_free(&meta);
    buf_free(&f);
    return c;
}

static void test_schema_limits(void **state)
{
    (void)state;
    sl_err err = {0};
    enum { DEPTH = 80 };
    pq_schema_element els[DEPTH + 2];
    memset(els, 0, sizeof els);
    for (int i = 0; i <= DEPTH; i++)
        els[i] = (pq_schema_element){.name = "g", .has_repetition = i > 0,
                                     .repetition = PQ_REP_OPTIONAL, .num_children = 1,
                                     .converted = PQ_CONV_NONE};
    els[DEPTH + 1] = (pq_schema_element){.name = "leaf", .has_type = true,
                                         .type = PQ_PHYS_INT32, .has_repetition = true,
                                         .repetition = PQ_REP_OPTIONAL,
                                         .converted = PQ_CONV_NONE};
    assert_int_equal(open_schema(els, DEPTH + 2, &err), SL_PARQUET_TOO_DEEP);
    /* 20 levels are fine. */
    memmove(&els[21], &els[DEPTH + 1], sizeof els[0]);
    assert_int_equal(open_schema(els, 22, &err), SL_OK);
    /* num_children pointing past the list. */
    pq_schema_element past[] = {
        {.name = "schema", .num_children = 3, .converted = PQ_CONV_NONE},
        {.name = "a", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .converted = PQ_CONV_NONE},
    };
    assert_int_equal(open_schema(past, 2, &err), SL_PARQUET_CORRUPT);
    past[0].num_children = 1;
    assert_int_equal(open_schema(past, 2, &err), SL_OK);
    past[0].num_children = -1;
    assert_int_equal(open_schema(past, 2, &err), SL_PARQUET_CORRUPT);
    /* Elements left over after the tree, an unknown physical type, a bad
     * FIXED_LEN_BYTE_ARRAY length. */
    pq_schema_element extra[] = {
        {.name = "schema", .num_children = 1, .converted = PQ_CONV_NONE},
        {.name = "a", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .converted = PQ_CONV_NONE},
        {.name = "b", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .converted = PQ_CONV_NONE},
    };
    assert_int_equal(open_schema(extra, 3, &err), SL_PARQUET_CORRUPT);
    extra[0].num_children = 2;
    extra[2].type = (pq_physical)9;
    assert_int_equal(open_schema(extra, 3, &err), SL_PARQUET_UNSUPPORTED);
    extra[2].type = PQ_PHYS_FIXED_LEN_BYTE_ARRAY; /* no type_length: 0 */
    assert_int_equal(open_schema(extra, 3, &err), SL_PARQUET_CORRUPT);
}

/* Repeated groups without a LIST annotation, nested 60 deep (under the
 * limit): each is two assembly shapes (a list and its element), which used
 * to overflow the shape stack of pq_rows_open. */
static void test_nested_repeated_groups(void **state)
{
    (void)state;
    enum { DEPTH = 60 };
    pq_schema_element els[DEPTH + 2];
    memset(els, 0, sizeof els);
    els[0] = (pq_schema_element){.name = "schema", .num_children = 1,
                                 .converted = PQ_CONV_NONE};
    for (int i = 1; i <= DEPTH; i++)
        els[i] = (pq_schema_element){.name = "r", .has_repetition = true,
                                     .repetition = PQ_REP_REPEATED, .num_children = 1,
                                     .converted = PQ_CONV_NONE};
    els[DEPTH + 1] = (pq_schema_element){.name = "leaf", .has_type = true,
                                         .type = PQ_PHYS_INT32, .has_repetition = true,
                                         .repetition = PQ_REP_OPTIONAL,
                                         .converted = PQ_CONV_NONE};
    sl_err err = {0};
    assert_int_equal(open_schema(els, DEPTH + 2, &err), SL_OK);
}

/* Thrift nesting in the footer itself: an unknown field holding structs
 * nested 200 deep. */
static void test_footer_nesting_too_deep(void **state)
{
    (void)state;
    sl_buf meta = {0}, f = {0};
    buf_append_char(&meta, 0x15); /* field 1 (version), i32 */
    buf_append_char(&meta, 0x02);
    buf_append_char(&meta, (char)0xFC); /* field 16 (delta 15), struct */
    for (int i = 0; i < 200; i++)
        buf_append_char(&meta, 0x1C);
    for (int i = 0; i < 202; i++)
        buf_append_char(&meta, 0);
    buf_append(&f, "PAR1", 4);
    buf_append(&f, meta.data, meta.len);
    uint32_t len = (uint32_t)meta.len;
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    buf_append(&f, le, 4);
    buf_append(&f, "PAR1", 4);
    sl_err err = {0};
    assert_int_equal(decode_all(f.data, f.len, &err), SL_PARQUET_TOO_DEEP);
    buf_free(&meta);
    buf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magic_and_footer_length),
        cmocka_unit_test(test_truncated_written_file),
        cmocka_unit_test(test_truncated_fixtures),
        cmocka_unit_test(test_data_cut_footer_kept),
        cmocka_unit_test(test_single_byte_damage),
        cmocka_unit_test(test_hand_built_pages),
        cmocka_unit_test(test_dictionary_index_out_of_range),
        cmocka_unit_test(test_boolean_dictionary_count),
        cmocka_unit_test(test_delta_byte_array_bomb),
        cmocka_unit_test(test_timestamp_extremes),
        cmocka_unit_test(test_schema_limits),
        cmocka_unit_test(test_nested_repeated_groups),
        cmocka_unit_test(test_footer_nesting_too_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
