/* The Parquet reader against files our own writer produces (every writer
 * type, nulls, edge values, several row groups and pages, every codec):
 * rows and columns read back identically; projection reads only the chunks
 * asked for; schema and metadata JSON; the Thrift compact reader on its own
 * (unknown fields of every type, unknown union members, long-form headers,
 * depth and length limits); and `sluice parquet schema|meta|cat`. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "backend/parquet/pq_meta.h"
#include "backend/parquet/pq_read_int.h" /* page headers, to count pages */
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_rle.h"
#include "backend/parquet/pq_writer.h"
#include "backend/parquet/thrift_compact.h"
#include "backend/parquet/thrift_read.h"
#include "backend/util/buf.h"

/* ---- a generated table ---------------------------------------------------- */

enum { C_BOOL, C_I32, C_I64, C_DBL, C_STR, C_TS, C_FLT, C_BIN, C_DATE, C_NTZ, C_DEC9, C_DEC38, NCOLS };

static const char *const col_names[NCOLS] = {"b",    "i32", "i64", "dbl", "str",  "ts",
                                             "flt",  "bin", "day", "ntz", "dec9", "dec38"};

static void schema(pq_schema_col *cols)
{
    const pq_type types[NCOLS] = {PQ_TYPE_BOOLEAN,      PQ_TYPE_INT32,   PQ_TYPE_INT64,
                                  PQ_TYPE_DOUBLE,       PQ_TYPE_STRING,  PQ_TYPE_TIMESTAMP_US,
                                  PQ_TYPE_FLOAT,        PQ_TYPE_BINARY,  PQ_TYPE_DATE,
                                  PQ_TYPE_TIMESTAMP_NTZ, PQ_TYPE_DECIMAL_OF(9, 2),
                                  PQ_TYPE_DECIMAL_OF(38, 10)};
    for (int i = 0; i < NCOLS; i++)
        cols[i] = (pq_schema_col){col_names[i], types[i], i != C_I64};
}

static const char *const strings[] = {"", "plain", "ünïcödé 😀", "a\"quote\\", "x"};

/* Row i of the table; bin_buf/str point at storage that lives as long as the call. */
static void make_row(int i, pq_value *v, uint8_t *bin_buf)
{
    v[C_BOOL] = i % 3 == 0 ? pq_val_null() : pq_val_bool(i % 2 == 0);
    int32_t i32 = i == 1 ? INT32_MIN : i == 2 ? INT32_MAX : (int32_t)(i * 7919 - 40000);
    v[C_I32] = i % 7 == 0 ? pq_val_null() : pq_val_i32(i32);
    v[C_I64] = pq_val_i64(i == 3 ? INT64_MIN : i == 4 ? INT64_MAX : (int64_t)i * 1000000007LL);
    double d = i == 5 ? NAN : i == 6 ? -0.0 : i == 8 ? INFINITY : i * 0.25 - 100.0;
    v[C_DBL] = i % 11 == 0 ? pq_val_null() : pq_val_f64(d);
    v[C_STR] = i % 5 == 0 ? pq_val_null() : pq_val_str(strings[i % 4 + (i % 9 == 0)]);
    int64_t ts = i == 9 ? -62135596800000000LL /* 0001-01-01 */
                 : i == 10 ? 253402300799999999LL /* 9999-12-31T23:59:59.999999 */
                           : 1700000000000000LL + (int64_t)i * 1000001LL;
    v[C_TS] = i % 13 == 0 ? pq_val_null() : pq_val_ts_us(ts);
    v[C_FLT] = i % 4 == 1 ? pq_val_null() : pq_val_f32((float)i / 3.0f);
    bin_buf[0] = 0xff;
    bin_buf[1] = (uint8_t)i;
    bin_buf[2] = 0;
    v[C_BIN] = i % 6 == 0 ? pq_val_null() : pq_val_bin(bin_buf, (size_t)(i % 3 + 1));
    v[C_DATE] = i % 8 == 0 ? pq_val_null() : pq_val_date(i * 37 - 20000);
    v[C_NTZ] = i % 9 == 4 ? pq_val_null() : pq_val_ts_us(ts + 123);
    v[C_DEC9] = i % 10 == 3 ? pq_val_null() : pq_val_dec((int64_t)i * 12345 - 999999);
    v[C_DEC38] = i % 2 ? pq_val_null()
                       : pq_val_dec128(i % 4 == 0 ? (int64_t)i * 1000003 : -(int64_t)i * 77,
                                       (uint64_t)i * 0x9E3779B97F4A7C15ULL);
}

/* ---- expected JSON, computed here independently of the reader ------------ */

static json_t *b64(const uint8_t *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sl_buf b = {0};
    buf_append_str(&b, "base64:");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        buf_append_char(&b, t[v >> 18]);
        buf_append_char(&b, t[(v >> 12) & 63]);
        buf_append_char(&b, i + 1 < n ? t[(v >> 6) & 63] : '=');
        buf_append_char(&b, i + 2 < n ? t[v & 63] : '=');
    }
    json_t *j = json_string(b.data);
    buf_free(&b);
    return j;
}

static json_t *ts_text(int64_t us, bool utc)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0)
        frac += 1000000, secs--;
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ".%06lld", (long long)frac);
    if (utc)
        snprintf(buf + n, sizeof buf - (size_t)n, "Z");
    return json_string(buf);
}

static json_t *real_or_text(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *expected_row(int i)
{
    pq_value v[NCOLS];
    uint8_t bin[3];
    make_row(i, v, bin);
    json_t *o = json_object();
    for (int c = 0; c < NCOLS; c++) {
        json_t *j;
        if (v[c].is_null) {
            j = json_null();
        } else {
            switch (c) {
            case C_BOOL: j = json_boolean(v[c].b); break;
            case C_I32: j = json_integer(v[c].i32); break;
            case C_I64: j = json_integer(v[c].i64); break;
            case C_DBL: j = real_or_text(v[c].f64); break;
            case C_STR: j = json_stringn(v[c].str.ptr, v[c].str.len); break;
            case C_TS: j = ts_text(v[c].i64, true); break;
            case C_FLT: j = json_real((double)v[c].f32); break;
            case C_BIN: j = b64((const uint8_t *)v[c].str.ptr, v[c].str.len); break;
            case C_DATE: {
                time_t t = (time_t)v[c].i32 * 86400;
                struct tm tm;
                gmtime_r(&t, &tm);
                char b[32];
                snprintf(b, sizeof b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday);
                j = json_string(b);
                break;
            }
            case C_NTZ: j = ts_text(v[c].i64, false); break;
            default: {
                char b[64];
                pq_decimal_format(v[c].dec, c == C_DEC9 ? 2 : 10, b, sizeof b);
                j = json_string(b);
            }
            }
        }
        json_object_set_new(o, col_names[c], j);
    }
    return o;
}

static void write_table(int nrows, const pq_writer_opts *opts, sl_buf *file)
{
    pq_schema_col cols[NCOLS];
    schema(cols);
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, NCOLS, opts, &err);
    if (!w)
        fail_msg("writer: %s", err.msg);
    for (int i = 0; i < nrows; i++) {
        pq_value v[NCOLS];
        uint8_t bin[3];
        make_row(i, v, bin);
        if (pq_writer_add_row(w, v, &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
    }
    if (pq_writer_finish(w, file, NULL, &err) != SL_OK)
        fail_msg("finish: %s", err.msg);
    pq_writer_free(w);
}

/* ---- a counting source: which byte ranges the reader asked for ----------- */

typedef struct counted {
    pq_source inner;
    size_t reads;
    uint64_t off[4096];
    size_t len[4096];
} counted;

static sl_code counted_read(void *ctx, uint64_t offset, size_t len, uint8_t *dst, sl_err *err)
{
    counted *c = ctx;
    if (c->reads < 4096) {
        c->off[c->reads] = offset;
        c->len[c->reads] = len;
    }
    c->reads++;
    return c->inner.read(c->inner.ctx, offset, len, dst, err);
}

static void counted_close(void *ctx)
{
    counted *c = ctx;
    c->inner.close(c->inner.ctx);
}

static void assert_rows_equal_table(pq_reader *r, int nrows)
{
    pq_rows *rows = NULL;
    sl_err err = {0};
    assert_int_equal(pq_rows_open(r, NULL, 0, &rows, &err), SL_OK);
    for (int i = 0;; i++) {
        json_t *row = NULL;
        if (pq_rows_next(rows, &row, &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
        if (!row) {
            assert_int_equal(i, nrows);
            break;
        }
        json_t *want = expected_row(i);
        if (!json_equal(row, want)) {
            char *a = json_dumps(row, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
            fail_msg("row %d:\n ours %s\n want %s", i, a, b);
        }
        json_decref(want);
        json_decref(row);
    }
    pq_rows_free(rows);
}

static void test_roundtrip_every_codec(void **state)
{
    (void)state;
    const pq_compression comps[] = {PQ_COMPRESSION_NONE, PQ_COMPRESSION_SNAPPY,
                                    PQ_COMPRESSION_GZIP, PQ_COMPRESSION_ZSTD};
    for (size_t k = 0; k < 2 * sizeof comps / sizeof comps[0]; k++) {
        pq_writer_opts o = {.page_size = 256,
                            .row_group_rows = 700,
                            .compression = comps[k / 2],
                            .no_dictionary = k % 2 == 1};
        sl_buf file = {0};
        const int nrows = 2500;
        write_table(nrows, &o, &file);
        pq_source src;
        pq_source_memory(file.data, file.len, "table.parquet", &src);
        pq_reader *r = NULL;
        sl_err err = {0};
        if (pq_reader_open(&src, &r, &err) != SL_OK)
            fail_msg("open: %s", err.msg);
        const pq_file_info *info = pq_reader_info(r);
        assert_int_equal(info->num_rows, nrows);
        assert_int_equal(info->num_row_groups, 4); /* 700+700+700+400 */
        assert_int_equal(info->num_leaves, NCOLS);
        assert_rows_equal_table(r, nrows);

        /* Columnar: levels, values and the sign of -0.0 survive. */
        size_t row0 = 0;
        for (size_t g = 0; g < info->num_row_groups; g++) {
            pq_column_data d;
            if (pq_read_column(r, g, C_DBL, &d, &err) != SL_OK)
                fail_msg("column: %s", err.msg);
            assert_int_equal(d.num_levels, info->row_groups[g].num_rows);
            assert_non_null(d.def);
            assert_null(d.rep);
            size_t vi = 0;
            for (size_t i = 0; i < d.num_levels; i++) {
                pq_value v[NCOLS];
                uint8_t bin[3];
                make_row((int)(row0 + i), v, bin);
                assert_int_equal(d.def[i], v[C_DBL].is_null ? 0 : 1);
                if (v[C_DBL].is_null)
                    continue;
                double got = ((const double *)d.values)[vi++];
                if (isnan(v[C_DBL].f64))
                    assert_true(isnan(got));
                else
                    assert_memory_equal(&got, &v[C_DBL].f64, sizeof got);
            }
            assert_int_equal(vi, d.num_values);
            row0 += d.num_levels;
            pq_column_data_free(&d);
            /* A required column has no definition levels. */
            if (pq_read_column(r, g, C_I64, &d, &err) != SL_OK)
                fail_msg("column: %s", err.msg);
            assert_null(d.def);
            assert_int_equal(d.num_values, d.num_levels);
            pq_column_data_free(&d);
        }
        /* Several pages per chunk were really written. */
        const pq_chunk_info *ci = &info->row_groups[0].chunks[C_TS];
        size_t pages = 0, pos = (size_t)(ci->dictionary_page_offset > 0
                                             ? ci->dictionary_page_offset
                                             : ci->data_page_offset);
        size_t end = pos + (size_t)ci->total_compressed_size;
        while (pos < end) {
            pq_page_hdr h;
            size_t used;
            assert_int_equal(pq_meta_read_page_header((const uint8_t *)file.data + pos,
                                                      end - pos, &h, &used, &err),
                             SL_OK);
            pos += used + (size_t)h.compressed_size;
            pages += h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2;
        }
        assert_int_equal(pos, end);
        assert_true(pages >= 2);
        pq_reader_close(r);
        buf_free(&file);
    }
}

static void test_projection_reads_only_requested_chunks(void **state)
{
    (void)state;
    pq_writer_opts o = {.row_group_rows = 300, .page_size = 1024};
    sl_buf file = {0};
    write_table(1000, &o, &file);
    counted *cs = calloc(1, sizeof *cs);
    pq_source_memory(file.data, file.len, "p.parquet", &cs->inner);
    pq_source src = {.ctx = cs, .size = file.len, .name = "p.parquet", .read = counted_read,
                     .close = counted_close};
    pq_reader *r = NULL;
    sl_err err = {0};
    assert_int_equal(pq_reader_open(&src, &r, &err), SL_OK);
    const pq_file_info *info = pq_reader_info(r);
    assert_int_equal(info->num_row_groups, 4);
    size_t before = cs->reads;
    const char *want[] = {"ts", "str"};
    pq_rows *rows = NULL;
    assert_int_equal(pq_rows_open(r, want, 2, &rows, &err), SL_OK);
    assert_int_equal(cs->reads, before); /* opening reads nothing */
    int n = 0;
    for (;; n++) {
        json_t *row = NULL;
        assert_int_equal(pq_rows_next(rows, &row, &err), SL_OK);
        if (!row)
            break;
        /* Only the projected keys, in schema order. */
        assert_int_equal(json_object_size(row), 2);
        const char *first = json_object_iter_key(json_object_iter(row));
        assert_string_equal(first, "str");
        json_t *full = expected_row(n);
        assert_true(json_equal(json_object_get(row, "ts"), json_object_get(full, "ts")));
        assert_true(json_equal(json_object_get(row, "str"), json_object_get(full, "str")));
        json_decref(full);
        json_decref(row);
    }
    assert_int_equal(n, 1000);
    pq_rows_free(rows);
    /* Exactly one read per projected chunk, each inside that chunk. */
    assert_int_equal(cs->reads - before, 2 * info->num_row_groups);
    for (size_t i = before; i < cs->reads; i++) {
        bool inside = false;
        for (size_t g = 0; g < info->num_row_groups; g++)
            for (size_t k = 0; k < info->num_leaves; k++) {
                const pq_chunk_info *ci = &info->row_groups[g].chunks[k];
                int64_t start = ci->dictionary_page_offset > 0 ? ci->dictionary_page_offset
                                                               : ci->data_page_offset;
                if (cs->off[i] == (uint64_t)start &&
                    cs->len[i] == (size_t)ci->total_compressed_size)
                    inside |= (k == C_TS || k == C_STR);
            }
        assert_true(inside);
    }
    /* An unknown column is refused by name. */
    const char *bad[] = {"nope"};
    assert_int_equal(pq_rows_open(r, bad, 1, &rows, &err), SL_PARQUET_NO_COLUMN);
    assert_non_null(strstr(err.msg, "nope"));
    pq_reader_close(r);
    free(cs);
    buf_free(&file);
}

static void test_nested_projection_on_checkpoint(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    char *path = sl_asprintf("%s/parquet/delta-checkpoints/"
                             "checkpoint_with_partitions__00000000000000000002.checkpoint.parquet",
                             fx);
    pq_reader *r = NULL;
    sl_err err = {0};
    assert_int_equal(pq_reader_open_file(path, &r, &err), SL_OK);
    const char *cols[] = {"add.path", "add.partitionValues", "add.size"};
    pq_rows *rows = NULL;
    assert_int_equal(pq_rows_open(r, cols, 3, &rows, &err), SL_OK);
    int adds = 0, nulls = 0;
    for (;;) {
        json_t *row = NULL;
        assert_int_equal(pq_rows_next(rows, &row, &err), SL_OK);
        if (!row)
            break;
        assert_int_equal(json_object_size(row), 1);
        json_t *add = json_object_get(row, "add");
        assert_non_null(add);
        if (json_is_null(add)) {
            nulls++;
        } else {
            adds++;
            assert_int_equal(json_object_size(add), 3);
            assert_true(json_is_string(json_object_get(add, "path")));
            assert_true(json_is_integer(json_object_get(add, "size")));
            json_t *pv = json_object_get(add, "partitionValues");
            assert_true(json_is_array(pv));
            assert_int_equal(json_array_size(pv), 1);
            assert_string_equal(json_string_value(json_object_get(json_array_get(pv, 0), "key")),
                                "color");
        }
        json_decref(row);
    }
    assert_true(adds > 0);
    assert_true(nulls > 0);
    pq_rows_free(rows);
    pq_reader_close(r);
    free(path);
}

static void test_schema_and_meta_json(void **state)
{
    (void)state;
    pq_writer_opts o = {.row_group_rows = 50, .compression = PQ_COMPRESSION_ZSTD};
    sl_buf file = {0};
    write_table(120, &o, &file);
    pq_source src;
    pq_source_memory(file.data, file.len, "m.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    assert_int_equal(pq_reader_open(&src, &r, &err), SL_OK);

    json_t *s = pq_schema_to_json(r);
    json_t *kids = json_object_get(s, "children");
    assert_int_equal(json_array_size(kids), NCOLS);
    json_t *ts = json_array_get(kids, C_TS);
    assert_string_equal(json_string_value(json_object_get(ts, "name")), "ts");
    assert_string_equal(json_string_value(json_object_get(ts, "type")), "INT64");
    assert_string_equal(json_string_value(json_object_get(ts, "repetition")), "OPTIONAL");
    assert_string_equal(json_string_value(json_object_get(ts, "logical")), "TIMESTAMP(MICROS,UTC)");
    json_t *ntz = json_array_get(kids, C_NTZ);
    assert_string_equal(json_string_value(json_object_get(ntz, "logical")),
                        "TIMESTAMP(MICROS,local)");
    json_t *dec = json_array_get(kids, C_DEC38);
    assert_string_equal(json_string_value(json_object_get(dec, "type")), "FIXED_LEN_BYTE_ARRAY");
    assert_int_equal(json_integer_value(json_object_get(dec, "precision")), 38);
    assert_int_equal(json_integer_value(json_object_get(dec, "scale")), 10);
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, C_I64),
                                                          "repetition")),
                        "REQUIRED");
    assert_string_equal(json_string_value(json_object_get(json_array_get(kids, C_STR), "converted")),
                        "UTF8");
    json_decref(s);

    json_t *m = pq_meta_to_json(r);
    assert_int_equal(json_integer_value(json_object_get(m, "num_rows")), 120);
    assert_non_null(strstr(json_string_value(json_object_get(m, "created_by")), "sluice"));
    json_t *rgs = json_object_get(m, "row_groups");
    assert_int_equal(json_array_size(rgs), 3);
    /* Statistics of row group 0 match the rows written there. */
    json_t *cols = json_object_get(json_array_get(rgs, 0), "columns");
    json_t *i32 = json_array_get(cols, C_I32);
    assert_string_equal(json_string_value(json_object_get(i32, "codec")), "ZSTD");
    assert_string_equal(json_string_value(json_object_get(i32, "path")), "i32");
    assert_true(json_array_size(json_object_get(i32, "encodings")) >= 1);
    int64_t mn = INT64_MAX, mx = INT64_MIN, nulls = 0;
    for (int i = 0; i < 50; i++) {
        pq_value v[NCOLS];
        uint8_t bin[3];
        make_row(i, v, bin);
        if (v[C_I32].is_null) {
            nulls++;
            continue;
        }
        mn = v[C_I32].i32 < mn ? v[C_I32].i32 : mn;
        mx = v[C_I32].i32 > mx ? v[C_I32].i32 : mx;
    }
    json_t *st = json_object_get(i32, "statistics");
    assert_non_null(st);
    assert_int_equal(json_integer_value(json_object_get(st, "min")), mn);
    assert_int_equal(json_integer_value(json_object_get(st, "max")), mx);
    assert_int_equal(json_integer_value(json_object_get(st, "null_count")), nulls);
    json_t *tsst = json_object_get(json_array_get(cols, C_TS), "statistics");
    assert_true(json_is_string(json_object_get(tsst, "min")));
    json_decref(m);
    pq_reader_close(r);
    buf_free(&file);
}

/* ---- Thrift compact reader ------------------------------------------------ */

static sl_code read_known(const uint8_t *p, size_t n, int32_t *a, int32_t *z, size_t *used,
                          sl_err *err)
{
    thrift_reader r;
    thrift_reader_init(&r, p, n);
    sl_code c = thrift_struct_enter(&r, err);
    int16_t last = 0;
    while (c == SL_OK) {
        thrift_field f;
        if ((c = thrift_field_next(&r, &last, &f, err)) != SL_OK || f.type == THRIFT_STOP)
            break;
        int64_t v;
        if (f.id == 1 || f.id == 500) {
            if ((c = thrift_read_int_field(&r, &f, INT32_MIN, INT32_MAX, &v, err)) == SL_OK)
                *(f.id == 1 ? a : z) = (int32_t)v;
        } else {
            c = thrift_skip_field(&r, &f, err);
        }
    }
    thrift_struct_leave(&r);
    *used = thrift_reader_pos(&r);
    return c;
}

static void test_thrift_skips_unknown_fields(void **state)
{
    (void)state;
    sl_buf b = {0};
    thrift_writer w;
    thrift_writer_init(&w, &b);
    thrift_struct_begin(&w);
    thrift_field_i32(&w, 1, -77);
    thrift_field_bool(&w, 2, true);
    thrift_field_bool(&w, 3, false);
    thrift_field_i16(&w, 4, -300);
    thrift_field_i64(&w, 5, INT64_MIN);
    thrift_field_double(&w, 6, 3.5);
    thrift_field_binary(&w, 7, "abc\0def", 7);
    thrift_field_list_begin(&w, 8, THRIFT_I64, 3);
    thrift_elem_i64(&w, 1);
    thrift_elem_i64(&w, -1);
    thrift_elem_i64(&w, INT64_MAX);
    thrift_field_list_begin(&w, 9, THRIFT_BOOL_TRUE, 2);
    thrift_elem_bool(&w, true);
    thrift_elem_bool(&w, false);
    thrift_field_struct_begin(&w, 10); /* nested struct with a list of structs */
    thrift_field_string(&w, 1, "inner");
    thrift_field_list_begin(&w, 2, THRIFT_STRUCT, 2);
    for (int i = 0; i < 2; i++) {
        thrift_struct_begin(&w);
        thrift_field_list_begin(&w, 3, THRIFT_BINARY, 1);
        thrift_elem_string(&w, "deep");
        thrift_struct_end(&w);
    }
    thrift_struct_end(&w);
    thrift_field_list_begin(&w, 11, THRIFT_STRUCT, 20); /* a long list header */
    for (int i = 0; i < 20; i++) {
        thrift_struct_begin(&w);
        thrift_struct_end(&w);
    }
    /* byte (3), set (10) and map (11) by hand: the writer has no calls for them */
    const uint8_t byte_field[] = {0x13, 0x80};                   /* id 12, byte -128 */
    const uint8_t set_field[] = {0x1A, 0x25, 0x02, 0x04};        /* id 13, set<i32> {1, 2} */
    const uint8_t map_field[] = {0x1B, 0x02, 0x85, 0x01, 'k', 0x02, 0x01, 'q', 0x04};
    /* id 14, map<binary,i32> {"k":1,"q":2} */
    const uint8_t empty_map[] = {0x1B, 0x00};                    /* id 15, empty map */
    buf_append(&b, byte_field, sizeof byte_field);
    buf_append(&b, set_field, sizeof set_field);
    buf_append(&b, map_field, sizeof map_field);
    buf_append(&b, empty_map, sizeof empty_map);
    /* id 500 in long form (delta 0): type i32, zigzag id, value */
    const uint8_t long_form[] = {0x05, 0xE8, 0x07, 0x0E};       /* id 500 = 1000 zz, v = 7 */
    buf_append(&b, long_form, sizeof long_form);
    buf_append_char(&b, 0); /* STOP */
    w.depth = 0;
    int32_t a = 0, z = 0;
    size_t used = 0;
    sl_err err = {0};
    sl_code c = read_known((const uint8_t *)b.data, b.len, &a, &z, &used, &err);
    if (c != SL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(a, -77);
    assert_int_equal(z, 7);
    assert_int_equal(used, b.len);
    /* Every proper prefix is truncated: an error, never a read past the end. */
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        c = read_known(copy, n, &a, &z, &used, &err);
        assert_int_equal(c, SL_PARQUET_CORRUPT);
        free(copy);
    }
    buf_free(&b);
}

static void test_thrift_limits(void **state)
{
    (void)state;
    sl_err err = {0};
    thrift_reader r;
    /* A struct nested 100 deep is refused by depth, not by the stack. */
    sl_buf b = {0};
    for (int i = 0; i < 100; i++)
        buf_append_char(&b, 0x1C); /* field delta 1, struct */
    for (int i = 0; i < 101; i++)
        buf_append_char(&b, 0);
    thrift_reader_init(&r, b.data, b.len);
    assert_int_equal(thrift_skip(&r, THRIFT_STRUCT, &err), SL_PARQUET_TOO_DEEP);
    /* Lists nested the same way. */
    buf_reset(&b);
    for (int i = 0; i < 100; i++)
        buf_append_char(&b, 0x19); /* list of one list */
    thrift_reader_init(&r, b.data, b.len);
    assert_int_equal(thrift_skip(&r, THRIFT_LIST, &err), SL_PARQUET_TOO_DEEP);
    buf_free(&b);
    /* An absurd list length is refused before anything is allocated. */
    const uint8_t huge[] = {0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00};
    thrift_type et;
    uint32_t n;
    thrift_reader_init(&r, huge, sizeof huge);
    assert_int_equal(thrift_list_begin(&r, &et, &n, &err), SL_PARQUET_CORRUPT);
    assert_non_null(strstr(err.msg, "elements"));
    const uint8_t huge_map[] = {0xFF, 0xFF, 0xFF, 0x0F, 0x55, 0x00};
    thrift_type kt, vt;
    thrift_reader_init(&r, huge_map, sizeof huge_map);
    assert_int_equal(thrift_map_begin(&r, &kt, &vt, &n, &err), SL_PARQUET_CORRUPT);
    /* A string longer than what is left. */
    const uint8_t str[] = {0x10, 'a', 'b'};
    const uint8_t *p;
    size_t len;
    thrift_reader_init(&r, str, sizeof str);
    assert_int_equal(thrift_read_binary(&r, &p, &len, &err), SL_PARQUET_CORRUPT);
    /* Varints: 11 bytes, and an i32 out of range. */
    const uint8_t vlong[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    uint64_t u;
    thrift_reader_init(&r, vlong, sizeof vlong);
    assert_int_equal(thrift_read_varint(&r, &u, &err), SL_PARQUET_CORRUPT);
    const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    int32_t i32;
    thrift_reader_init(&r, big, sizeof big);
    assert_int_equal(thrift_read_i32(&r, &i32, &err), SL_PARQUET_CORRUPT);
    const uint8_t max64[] = {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    int64_t i64;
    thrift_reader_init(&r, max64, sizeof max64);
    assert_int_equal(thrift_read_i64(&r, &i64, &err), SL_OK);
    assert_true(i64 == INT64_MAX);
    /* An unknown type nibble in a field header. */
    const uint8_t badtype[] = {0x1D};
    thrift_field f;
    int16_t last = 0;
    thrift_reader_init(&r, badtype, sizeof badtype);
    assert_int_equal(thrift_field_next(&r, &last, &f, &err), SL_PARQUET_CORRUPT);
}

/* A footer-only file (no row groups) around a hand-made schema. */
static void schema_only_file(const pq_schema_element *els, size_t n, size_t leaves, sl_buf *out)
{
    pq_file_meta m = {.version = 1, .schema = els, .num_schema = n, .num_leaves = leaves,
                      .created_by = "test"};
    sl_buf meta = {0};
    pq_meta_write_file_meta(&meta, &m);
    buf_reset(out);
    buf_append(out, "PAR1", 4);
    buf_append(out, meta.data, meta.len);
    uint32_t len = (uint32_t)meta.len;
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    buf_append(out, le, 4);
    buf_append(out, "PAR1", 4);
    buf_free(&meta);
}

static void test_unknown_logical_member_and_legacy_lists(void **state)
{
    (void)state;
    /* message { optional binary s (LogicalType member 20 = unknown);
     *           optional group l (LIST) { repeated int32 array; }   -- 2-level
     *           optional group m (MAP) { repeated group kv { required binary k; optional int32 v; } } } */
    pq_schema_element els[] = {
        {.name = "schema", .num_children = 3, .converted = PQ_CONV_NONE},
        {.name = "s", .has_type = true, .type = PQ_PHYS_BYTE_ARRAY, .has_repetition = true,
         .repetition = PQ_REP_OPTIONAL, .converted = PQ_CONV_NONE,
         .logical = {.kind = (pq_logical_kind)20}},
        {.name = "l", .has_repetition = true, .repetition = PQ_REP_OPTIONAL, .num_children = 1,
         .converted = PQ_CONV_LIST},
        {.name = "array", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_REPEATED, .converted = PQ_CONV_NONE},
        {.name = "m", .has_repetition = true, .repetition = PQ_REP_OPTIONAL, .num_children = 1,
         .converted = PQ_CONV_MAP},
        {.name = "kv", .has_repetition = true, .repetition = PQ_REP_REPEATED, .num_children = 2,
         .converted = PQ_CONV_NONE},
        {.name = "k", .has_type = true, .type = PQ_PHYS_BYTE_ARRAY, .has_repetition = true,
         .repetition = PQ_REP_REQUIRED, .converted = PQ_CONV_UTF8},
        {.name = "v", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_OPTIONAL, .converted = PQ_CONV_NONE},
    };
    sl_buf f = {0};
    schema_only_file(els, sizeof els / sizeof els[0], 4, &f);
    pq_source src;
    pq_source_memory(f.data, f.len, "u.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    if (pq_reader_open(&src, &r, &err) != SL_OK)
        fail_msg("%s", err.msg);
    const pq_file_info *info = pq_reader_info(r);
    assert_int_equal(info->num_leaves, 4);
    assert_int_equal(info->leaves[0]->logical.kind, PQ_LOGICAL_OTHER);
    assert_string_equal(info->leaves[1]->path, "l.array");
    assert_int_equal(info->leaves[1]->max_def, 2);
    assert_int_equal(info->leaves[1]->max_rep, 1);
    assert_string_equal(info->leaves[3]->path, "m.kv.v");
    assert_int_equal(info->leaves[3]->max_def, 3);
    json_t *s = pq_schema_to_json(r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s, "children"), 0), "logical")),
                        "OTHER");
    json_decref(s);
    /* No row groups: no rows, and asking for a column chunk is refused. */
    pq_rows *rows = NULL;
    assert_int_equal(pq_rows_open(r, NULL, 0, &rows, &err), SL_OK);
    json_t *row = (json_t *)1;
    assert_int_equal(pq_rows_next(rows, &row, &err), SL_OK);
    assert_null(row);
    pq_rows_free(rows);
    pq_column_data d;
    assert_int_equal(pq_read_column(r, 0, 0, &d, &err), SL_PARQUET_NO_COLUMN);
    pq_reader_close(r);
    buf_free(&f);
}


/* ---- hand-built nested files: legacy list forms ----------------------------- */

typedef struct leaf_data {
    const char *const *path;
    size_t path_len;
    int16_t max_def, max_rep;
    const uint8_t *rep, *def; /* one per level entry */
    size_t n;
    const int32_t *values; /* the defined ones */
    size_t nvalues;
} leaf_data;

static void levels_rle(sl_buf *page, const uint8_t *lv, size_t n, int16_t max)
{
    sl_buf b = {0};
    pq_rle_encode_u8(&b, lv, n, pq_rle_bit_width((uint32_t)max));
    uint32_t len = (uint32_t)b.len;
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    buf_append(page, le, 4);
    buf_append(page, b.data, b.len);
    buf_free(&b);
}

/* INT32 leaves, one uncompressed DATA_PAGE v1 each. */
static void nested_file(const pq_schema_element *els, size_t nels, const leaf_data *leaves,
                        size_t nleaves, int64_t rows, sl_buf *out)
{
    buf_reset(out);
    buf_append(out, "PAR1", 4);
    pq_column_chunk cc[8];
    for (size_t k = 0; k < nleaves; k++) {
        const leaf_data *l = &leaves[k];
        sl_buf page = {0};
        if (l->max_rep > 0)
            levels_rle(&page, l->rep, l->n, l->max_rep);
        if (l->max_def > 0)
            levels_rle(&page, l->def, l->n, l->max_def);
        for (size_t i = 0; i < l->nvalues; i++) {
            uint32_t v = (uint32_t)l->values[i];
            uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
            buf_append(&page, le, 4);
        }
        pq_page_header h = {.type = PQ_PAGE_DATA,
                            .uncompressed_page_size = (int32_t)page.len,
                            .compressed_page_size = (int32_t)page.len,
                            .data = {.num_values = (int32_t)l->n,
                                     .encoding = PQ_ENC_PLAIN,
                                     .definition_level_encoding = PQ_ENC_RLE,
                                     .repetition_level_encoding = PQ_ENC_RLE}};
        size_t start = out->len;
        pq_meta_write_page_header(out, &h);
        buf_append(out, page.data, page.len);
        buf_free(&page);
        cc[k] = (pq_column_chunk){
            .file_offset = (int64_t)start,
            .meta = {.type = PQ_PHYS_INT32, .encodings = {PQ_ENC_PLAIN, PQ_ENC_RLE},
                     .num_encodings = 2, .path = l->path, .path_len = l->path_len,
                     .codec = PQ_CODEC_UNCOMPRESSED, .num_values = (int64_t)l->n,
                     .total_uncompressed_size = (int64_t)(out->len - start),
                     .total_compressed_size = (int64_t)(out->len - start),
                     .data_page_offset = (int64_t)start}};
    }
    pq_row_group rg = {.columns = cc, .num_columns = nleaves, .num_rows = rows,
                       .file_offset = 4, .ordinal = -1};
    pq_file_meta m = {.version = 1, .schema = els, .num_schema = nels, .num_rows = rows,
                      .row_groups = &rg, .num_row_groups = 1, .created_by = "test",
                      .num_leaves = nleaves};
    sl_buf meta = {0};
    pq_meta_write_file_meta(&meta, &m);
    buf_append(out, meta.data, meta.len);
    uint32_t len = (uint32_t)meta.len;
    uint8_t le[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    buf_append(out, le, 4);
    buf_append(out, "PAR1", 4);
    buf_free(&meta);
}

static void test_legacy_lists_assemble(void **state)
{
    (void)state;
    /* message {
     *   optional group l (LIST) { repeated int32 array; }              2-level list
     *   repeated int32 r;                                              no annotation
     *   optional group t (LIST) { repeated group t_tuple { required int32 a; } }
     *   optional group n (LIST) { repeated group list {                3-level, nested
     *       optional group element (LIST) { repeated group list { optional int32 element; } } } }
     * } */
    const pq_schema_element els[] = {
        {.name = "schema", .num_children = 4, .converted = PQ_CONV_NONE},
        {.name = "l", .has_repetition = true, .repetition = PQ_REP_OPTIONAL, .num_children = 1,
         .converted = PQ_CONV_LIST},
        {.name = "array", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_REPEATED, .converted = PQ_CONV_NONE},
        {.name = "r", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_REPEATED, .converted = PQ_CONV_NONE},
        {.name = "t", .has_repetition = true, .repetition = PQ_REP_OPTIONAL, .num_children = 1,
         .converted = PQ_CONV_LIST},
        {.name = "t_tuple", .has_repetition = true, .repetition = PQ_REP_REPEATED,
         .num_children = 1, .converted = PQ_CONV_NONE},
        {.name = "a", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_REQUIRED, .converted = PQ_CONV_NONE},
        {.name = "n", .has_repetition = true, .repetition = PQ_REP_OPTIONAL, .num_children = 1,
         .converted = PQ_CONV_NONE, .logical = {.kind = PQ_LOGICAL_LIST}},
        {.name = "list", .has_repetition = true, .repetition = PQ_REP_REPEATED,
         .num_children = 1, .converted = PQ_CONV_NONE},
        {.name = "element", .has_repetition = true, .repetition = PQ_REP_OPTIONAL,
         .num_children = 1, .converted = PQ_CONV_LIST},
        {.name = "list", .has_repetition = true, .repetition = PQ_REP_REPEATED,
         .num_children = 1, .converted = PQ_CONV_NONE},
        {.name = "element", .has_type = true, .type = PQ_PHYS_INT32, .has_repetition = true,
         .repetition = PQ_REP_OPTIONAL, .converted = PQ_CONV_NONE},
    };
    static const char *const pl[] = {"l", "array"}, *const pr[] = {"r"},
                             *const pt[] = {"t", "t_tuple", "a"},
                             *const pn[] = {"n", "list", "element", "list", "element"};
    /* rows: 0 {l:[1,2], r:[7], t:[{a:5}], n:[[1,null],null,[]]}
     *       1 {l:null, r:[], t:[], n:[]}
     *       2 {l:[], r:[8,9], t:null, n:null} */
    static const uint8_t l_rep[] = {0, 1, 0, 0}, l_def[] = {2, 2, 0, 1};
    static const int32_t l_val[] = {1, 2};
    static const uint8_t r_rep[] = {0, 0, 0, 1}, r_def[] = {1, 0, 1, 1};
    static const int32_t r_val[] = {7, 8, 9};
    static const uint8_t t_rep[] = {0, 0, 0}, t_def[] = {2, 1, 0};
    static const int32_t t_val[] = {5};
    /* n: def 1 list present, 2 outer element exists, 3 inner list present,
     *    4 inner element exists, 5 value present */
    static const uint8_t n_rep[] = {0, 2, 1, 1, 0, 0}, n_def[] = {5, 4, 2, 3, 1, 0};
    static const int32_t n_val[] = {1};
    const leaf_data leaves[] = {
        {pl, 2, 2, 1, l_rep, l_def, 4, l_val, 2},
        {pr, 1, 1, 1, r_rep, r_def, 4, r_val, 3},
        {pt, 3, 2, 1, t_rep, t_def, 3, t_val, 1},
        {pn, 5, 5, 2, n_rep, n_def, 6, n_val, 1},
    };
    sl_buf f = {0};
    nested_file(els, sizeof els / sizeof els[0], leaves, 4, 3, &f);
    pq_source src;
    pq_source_memory(f.data, f.len, "legacy.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    if (pq_reader_open(&src, &r, &err) != SL_OK)
        fail_msg("%s", err.msg);
    const pq_file_info *info = pq_reader_info(r);
    assert_int_equal(info->leaves[3]->max_def, 5);
    assert_int_equal(info->leaves[3]->max_rep, 2);
    const char *want[] = {
        "{\"l\":[1,2],\"r\":[7],\"t\":[{\"a\":5}],\"n\":[[1,null],null,[]]}",
        "{\"l\":null,\"r\":[],\"t\":[],\"n\":[]}",
        "{\"l\":[],\"r\":[8,9],\"t\":null,\"n\":null}",
    };
    pq_rows *rows = NULL;
    assert_int_equal(pq_rows_open(r, NULL, 0, &rows, &err), SL_OK);
    for (int i = 0; i < 3; i++) {
        json_t *row = NULL;
        if (pq_rows_next(rows, &row, &err) != SL_OK)
            fail_msg("%s", err.msg);
        assert_non_null(row);
        char *got = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(got, want[i]);
        free(got);
        json_decref(row);
    }
    json_t *end = NULL;
    assert_int_equal(pq_rows_next(rows, &end, &err), SL_OK);
    assert_null(end);
    pq_rows_free(rows);
    /* Projection of one nested list keeps only it. */
    const char *cols[] = {"n"};
    assert_int_equal(pq_rows_open(r, cols, 1, &rows, &err), SL_OK);
    json_t *row = NULL;
    assert_int_equal(pq_rows_next(rows, &row, &err), SL_OK);
    char *got = json_dumps(row, JSON_COMPACT);
    assert_string_equal(got, "{\"n\":[[1,null],null,[]]}");
    free(got);
    json_decref(row);
    pq_rows_free(rows);
    pq_reader_close(r);
    buf_free(&f);
}

/* ---- the CLI ---------------------------------------------------------------- */

static int run_cli(const char *dir, const char *args, char **out)
{
    char *cmd = sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/state' '%s' %s", dir, dir,
                            tu_sluice_bin(), args);
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

static size_t count_json_lines(const char *text, size_t *max_keys)
{
    size_t n = 0;
    *max_keys = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        json_error_t je;
        json_t *j = json_loadb(p, len, 0, &je);
        if (!j)
            fail_msg("not JSON: %.*s", (int)len, p);
        assert_true(json_is_object(j));
        if (json_object_size(j) > *max_keys)
            *max_keys = json_object_size(j);
        json_decref(j);
        n++;
        p = eol ? eol + 1 : NULL;
    }
    return n;
}

static void test_cli_parquet(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("pqcli");
    sl_buf file = {0};
    pq_writer_opts o = {.row_group_rows = 40};
    write_table(100, &o, &file);
    char *path = sl_asprintf("%s/t.parquet", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(file.data, 1, file.len, fp), file.len);
    fclose(fp);
    char *out = NULL, *args;
    size_t keys;

    args = sl_asprintf("parquet cat '%s' --limit 7", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    assert_int_equal(count_json_lines(out, &keys), 7);
    assert_int_equal(keys, NCOLS);
    free(out), free(args);

    args = sl_asprintf("parquet cat '%s'", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    assert_int_equal(count_json_lines(out, &keys), 100);
    free(out), free(args);

    args = sl_asprintf("parquet cat '%s' --columns i64,day --limit 1000", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    assert_int_equal(count_json_lines(out, &keys), 100);
    assert_int_equal(keys, 2);
    free(out), free(args);

    args = sl_asprintf("parquet schema '%s' --json", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "children")), NCOLS);
    json_decref(j);
    free(out), free(args);

    args = sl_asprintf("parquet meta '%s' --json", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "row_groups")), 3);
    json_decref(j);
    free(out), free(args);

    args = sl_asprintf("parquet meta '%s'", path);
    assert_int_equal(run_cli(dir, args, &out), 0);
    assert_non_null(strstr(out, "row group 2: 20 rows"));
    free(out), free(args);

    args = sl_asprintf("parquet cat '%s' --columns nope 2>&1", path);
    assert_int_equal(run_cli(dir, args, &out), 2);
    assert_non_null(strstr(out, "SL-PARQUET-NO-COLUMN"));
    free(out), free(args);

    args = sl_asprintf("parquet cat '%s' --columns nope --json", path);
    assert_int_equal(run_cli(dir, args, &out), 2);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "SL-PARQUET-NO-COLUMN");
    json_decref(j);
    free(out), free(args);

    /* Not Parquet at all. */
    tu_write_file(dir, "x.parquet", "hello, this is not parquet");
    args = sl_asprintf("parquet schema '%s/x.parquet' 2>&1", dir);
    assert_int_not_equal(run_cli(dir, args, &out), 0);
    assert_non_null(strstr(out, "SL-PARQUET-NOT-PARQUET"));
    free(out), free(args);

    /* A fixture with nesting: a checkpoint, projected. */
    const char *fx = tu_fixtures_dir();
    if (fx) {
        args = sl_asprintf("parquet cat '%s/parquet/delta-checkpoints/"
                           "table-with-domain-metadata__00000000000000000108.checkpoint.parquet' "
                           "--columns add.path,add.deletionVector --limit 50",
                           fx);
        assert_int_equal(run_cli(dir, args, &out), 0);
        assert_int_equal(count_json_lines(out, &keys), 50);
        assert_int_equal(keys, 1);
        assert_non_null(strstr(out, "{\"add\":{\"path\":"));
        free(out), free(args);
        args = sl_asprintf("parquet schema '%s/parquet/parquet-testing/nested_maps.snappy.parquet'",
                           fx);
        assert_int_equal(run_cli(dir, args, &out), 0);
        assert_non_null(strstr(out, "OPTIONAL group a [MAP]"));
        free(out), free(args);
    }
    free(path);
    buf_free(&file);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_codec),
        cmocka_unit_test(test_projection_reads_only_requested_chunks),
        cmocka_unit_test(test_nested_projection_on_checkpoint),
        cmocka_unit_test(test_schema_and_meta_json),
        cmocka_unit_test(test_thrift_skips_unknown_fields),
        cmocka_unit_test(test_thrift_limits),
        cmocka_unit_test(test_unknown_logical_member_and_legacy_lists),
        cmocka_unit_test(test_legacy_lists_assemble),
        cmocka_unit_test(test_cli_parquet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
