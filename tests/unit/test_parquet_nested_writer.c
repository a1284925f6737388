/* The nested Parquet writer and the JSON shredder: exact levels of a small
 * file (pq_read_column), rows with nulls at every level, empty versus null
 * lists and maps, lists of lists and maps of lists read back identical by
 * our reader under several codecs, page sizes, row group sizes and
 * dictionary limits; refused rows leave the file unchanged; malformed
 * schemas are refused. A Delta-checkpoint-shaped file (one action per row)
 * is read back by DuckDB and arrow-rs (npm packages of tests/npm-interop,
 * installed by the test into <build>/npm-nested; FAIL if that fails, SKIP
 * only without node) and compared value by value, with DuckDB's view of the
 * schema (MAP/LIST annotations, repetitions). The checkpoint schema is the
 * one backend/delta/checkpoint_write.c writes. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_nested_writer.h"
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_shred.h"
#include "backend/util/buf.h"

#define OPT PQ_REP_OPTIONAL
#define REQ PQ_REP_REQUIRED

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static json_t *jparse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        fail_msg("bad JSON in test: %s: %s", jerr.text, text);
    return j;
}

static char *jdump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void assert_json_eq(const json_t *want, const json_t *got, const char *what,
                           size_t row)
{
    if (!json_equal((json_t *)want, (json_t *)got)) {
        char *a = jdump(want), *b = jdump(got);
        fail_msg("%s row %zu:\n want %s\n got  %s", what, row, a, b ? b : "(null)");
    }
}

/* All rows of a file as our reader gives them. */
static json_t *read_rows(const sl_buf *file)
{
    pq_source src;
    pq_source_memory(file->data, file->len, "nested.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    if (pq_reader_open(&src, &r, &err) != SL_OK)
        fail_msg("reader: %s", err.msg);
    pq_rows *rows = NULL;
    if (pq_rows_open(r, NULL, 0, &rows, &err) != SL_OK)
        fail_msg("rows: %s", err.msg);
    json_t *out = json_array();
    for (;;) {
        json_t *row = NULL;
        if (pq_rows_next(rows, &row, &err) != SL_OK)
            fail_msg("rows_next: %s", err.msg);
        if (!row)
            break;
        json_array_append_new(out, row);
    }
    pq_rows_free(rows);
    pq_reader_close(r);
    return out;
}

/* Writes rows through the shredder; returns the file. */
static void write_rows(pq_wnode *root, const pq_writer_opts *opts, const json_t *rows,
                       sl_buf *file)
{
    sl_err err = {0};
    pq_nwriter *w = pq_nwriter_new(root, opts, &err);
    if (!w)
        fail_msg("nwriter_new: %s", err.msg);
    pq_shredder *s = pq_shred_new(w, true);
    for (size_t i = 0; i < json_array_size(rows); i++)
        if (pq_shred_row(s, json_array_get(rows, i), &err) != SL_OK)
            fail_msg("shred row %zu: %s", i, err.msg);
    pq_nfile_stats st = {0};
    if (pq_nwriter_finish(w, file, &st, &err) != SL_OK)
        fail_msg("finish: %s", err.msg);
    assert_int_equal(st.num_rows, (int64_t)json_array_size(rows));
    assert_int_equal(st.file_size, (int64_t)file->len);
    pq_shred_free(s);
    pq_nwriter_free(w);
}

/* ------------------------------------------------------------------ */
/* A schema with every kind of nesting                                 */

static pq_wnode *deep_schema(void)
{
    pq_wnode *root = pq_wnode_group("schema", REQ);
    pq_wnode_add(root, pq_wnode_leaf("id", PQ_TYPE_INT64, REQ));
    pq_wnode_add(root, pq_wnode_leaf("name", PQ_TYPE_STRING, OPT));
    pq_wnode_add(root,
                 pq_wnode_list("tags", OPT, pq_wnode_leaf("e", PQ_TYPE_STRING, OPT)));
    pq_wnode_add(root, pq_wnode_map("attrs", OPT, PQ_TYPE_STRING,
                                    pq_wnode_leaf("v", PQ_TYPE_STRING, OPT)));
    pq_wnode *pt = pq_wnode_add(root, pq_wnode_group("point", OPT));
    pq_wnode_add(pt, pq_wnode_leaf("x", PQ_TYPE_DOUBLE, REQ));
    pq_wnode_add(pt, pq_wnode_leaf("y", PQ_TYPE_DOUBLE, OPT));
    pq_wnode_add(pt, pq_wnode_leaf("label", PQ_TYPE_STRING, OPT));
    pq_wnode_add(
        root,
        pq_wnode_list("matrix", OPT,
                      pq_wnode_list("row", OPT, pq_wnode_leaf("c", PQ_TYPE_INT32, OPT))));
    pq_wnode *item = pq_wnode_group("item", OPT);
    pq_wnode_add(item, pq_wnode_leaf("sku", PQ_TYPE_STRING, REQ));
    pq_wnode_add(item, pq_wnode_leaf("qty", PQ_TYPE_INT32, OPT));
    pq_wnode_add(
        item,
        pq_wnode_map("opts", OPT, PQ_TYPE_STRING,
                     pq_wnode_list("v", OPT, pq_wnode_leaf("n", PQ_TYPE_INT64, REQ))));
    pq_wnode_add(root, pq_wnode_list("items", REQ, item));
    pq_wnode_add(root, pq_wnode_leaf("flag", PQ_TYPE_BOOLEAN, OPT));
    pq_wnode_add(root, pq_wnode_leaf("day", PQ_TYPE_DATE, OPT));
    pq_wnode_add(root, pq_wnode_leaf("ts", PQ_TYPE_TIMESTAMP_US, OPT));
    pq_wnode_add(root, pq_wnode_leaf("amount", PQ_TYPE_DECIMAL_OF(10, 2), OPT));
    return root;
}

static const char *const EDGE_ROWS[] = {
    /* everything null that may be */
    "{\"id\":1,\"name\":null,\"tags\":null,\"attrs\":null,\"point\":null,\"matrix\":null,"
    "\"items\":[],\"flag\":null,\"day\":null,\"ts\":null,\"amount\":null}",
    /* empty containers, null elements */
    "{\"id\":2,\"name\":\"\",\"tags\":[],\"attrs\":[],\"point\":{\"x\":0.5,\"y\":null,"
    "\"label\":null},\"matrix\":[],\"items\":[null],\"flag\":false,\"day\":\"1970-01-"
    "01\","
    "\"ts\":\"1970-01-01T00:00:00Z\",\"amount\":\"0.00\"}",
    "{\"id\":3,\"name\":\"x\",\"tags\":[null],\"attrs\":[{\"key\":\"k\",\"value\":null}],"
    "\"point\":{\"x\":-1.25,\"y\":2.5,\"label\":\"p\"},\"matrix\":[null,[],[null],[1,"
    "null,3]],"
    "\"items\":[{\"sku\":\"a\",\"qty\":null,\"opts\":null},{\"sku\":\"b\",\"qty\":2,"
    "\"opts\":[]}],\"flag\":true,\"day\":\"2024-02-29\","
    "\"ts\":\"2024-01-02T03:04:05.123456Z\",\"amount\":\"-123.45\"}",
    "{\"id\":4,\"name\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"tags\":[\"a\",null,\"b\",\"\"],"
    "\"attrs\":[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"\"}],"
    "\"point\":null,\"matrix\":[[7],[8,9]],\"items\":[{\"sku\":\"c\",\"qty\":null,"
    "\"opts\":[{\"key\":\"o1\",\"value\":null},{\"key\":\"o2\",\"value\":[]},"
    "{\"key\":\"o3\",\"value\":[1,2,3]}]},null,{\"sku\":\"\",\"qty\":-5,\"opts\":null}],"
    "\"flag\":null,\"day\":\"1900-12-31\",\"ts\":\"1969-12-31T23:59:59.999999Z\","
    "\"amount\":\"99999999.99\"}",
};
#define NEDGE (sizeof EDGE_ROWS / sizeof EDGE_ROWS[0])

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Row i in the reader's form: every struct field present, maps as arrays
 * of {key, value}. */
static json_t *gen_row(uint32_t i)
{
    uint32_t h = mix(i + 17);
    json_t *row = json_object();
    json_object_set_new(row, "id", json_integer((json_int_t)i * 1000003));
    static const char *const names[] = {"alpha", "beta", "gamma", "delta",
                                        "a long name "
                                        "that makes pages fill up faster than the rest"};
    json_object_set_new(row, "name",
                        h % 7 == 0 ? json_null() : json_string(names[h % 5]));
    json_t *tags = h % 5 == 0 ? json_null() : json_array();
    for (uint32_t k = 0; json_is_array(tags) && k < (h >> 3) % 5; k++) {
        char t[32];
        snprintf(t, sizeof t, "t%u", (unsigned)((h >> (k + 4)) % 40));
        json_array_append_new(tags,
                              (h >> (k + 9)) % 6 == 0 ? json_null() : json_string(t));
    }
    json_object_set_new(row, "tags", tags);
    json_t *attrs = h % 6 == 1 ? json_null() : json_array();
    for (uint32_t k = 0; json_is_array(attrs) && k < (h >> 5) % 4; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%u", (unsigned)k);
        snprintf(val, sizeof val, "v%u", (unsigned)((h >> k) % 100));
        json_array_append_new(
            attrs, json_pack("{s:s, s:o}", "key", key, "value",
                             (h >> (k + 2)) % 5 == 0 ? json_null() : json_string(val)));
    }
    json_object_set_new(row, "attrs", attrs);
    json_object_set_new(
        row, "point",
        h % 4 == 0 ? json_null()
                   : json_pack("{s:f, s:o, s:o}", "x", (double)(h % 1000) / 4, "y",
                               h % 3 ? json_real(-(double)(h % 77) / 8) : json_null(),
                               "label", h % 9 ? json_null() : json_string("here")));
    json_t *matrix = h % 8 == 3 ? json_null() : json_array();
    for (uint32_t r = 0; json_is_array(matrix) && r < (h >> 11) % 4; r++) {
        uint32_t g = mix(h + r);
        json_t *cells = g % 5 == 0 ? json_null() : json_array();
        for (uint32_t c = 0; json_is_array(cells) && c < g % 6; c++)
            json_array_append_new(
                cells, (g >> c) % 7 == 0
                           ? json_null()
                           : json_integer((json_int_t)(g >> 8) % 1000 - (json_int_t)c));
        json_array_append_new(matrix, cells);
    }
    json_object_set_new(row, "matrix", matrix);
    json_t *items = json_array();
    for (uint32_t k = 0; k < (h >> 14) % 4; k++) {
        uint32_t g = mix(h ^ (k + 1));
        if (g % 9 == 0) {
            json_array_append_new(items, json_null());
            continue;
        }
        char sku[16];
        snprintf(sku, sizeof sku, "sku-%u", (unsigned)(g % 50));
        json_t *opts = g % 3 == 0 ? json_null() : json_array();
        for (uint32_t o = 0; json_is_array(opts) && o < (g >> 4) % 3; o++) {
            char key[8];
            snprintf(key, sizeof key, "o%u", (unsigned)o);
            json_t *v = (g >> o) % 4 == 0 ? json_null() : json_array();
            for (uint32_t n = 0; json_is_array(v) && n < (g >> (o + 6)) % 4; n++)
                json_array_append_new(v, json_integer((json_int_t)g * 31 + n));
            json_array_append_new(opts, json_pack("{s:s, s:o}", "key", key, "value", v));
        }
        json_array_append_new(
            items, json_pack("{s:s, s:o, s:o}", "sku", sku, "qty",
                             g % 4 ? json_integer((json_int_t)(g % 100)) : json_null(),
                             "opts", opts));
    }
    json_object_set_new(row, "items", items);
    json_object_set_new(row, "flag", h % 3 == 2 ? json_null() : json_boolean(h & 64));
    json_object_set_new(row, "day",
                        h % 10 == 4 ? json_null() : json_string("2023-05-17"));
    json_object_set_new(
        row, "ts", h % 11 == 4 ? json_null() : json_string("2023-05-17T10:11:12.5Z"));
    json_object_set_new(row, "amount", h % 12 == 0 ? json_null() : json_string("17.25"));
    return row;
}

static json_t *all_rows(size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < NEDGE; i++)
        json_array_append_new(rows, jparse(EDGE_ROWS[i]));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, gen_row((uint32_t)i));
    return rows;
}

/* The reader prints 17.25 as "17.25" and the timestamp with its fraction as
 * microseconds; both forms round-trip as written above. */
static void check_round_trip(const pq_writer_opts *opts, size_t n, const char *what)
{
    json_t *rows = all_rows(n);
    sl_buf file = {0};
    write_rows(deep_schema(), opts, rows, &file);
    json_t *got = read_rows(&file);
    assert_int_equal(json_array_size(got), json_array_size(rows));
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *want = json_array_get(rows, i);
        json_t *g = json_array_get(got, i);
        /* the fraction prints as 6 digits */
        json_t *ts = json_object_get(want, "ts");
        if (json_is_string(ts) &&
            strcmp(json_string_value(ts), "2023-05-17T10:11:12.5Z") == 0)
            json_object_set_new(want, "ts", json_string("2023-05-17T10:11:12.500000Z"));
        assert_json_eq(want, g, what, i);
    }
    json_decref(got);
    json_decref(rows);
    buf_free(&file);
}

static void test_round_trip_variants(void **state)
{
    (void)state;
    check_round_trip(NULL, 50, "defaults");
    pq_writer_opts small = {
        .page_size = 64, .row_group_rows = 97, .compression = PQ_COMPRESSION_NONE};
    check_round_trip(&small, 3000, "small pages");
    pq_writer_opts tiny_dict = {
        .page_size = 200, .dictionary_limit = 40, .compression = PQ_COMPRESSION_ZSTD};
    if (pq_codec_supported(PQ_CODEC_ZSTD))
        check_round_trip(&tiny_dict, 3000, "dictionary overflow");
    pq_writer_opts plain = {.no_dictionary = true,
                            .row_group_bytes = 4096,
                            .compression = PQ_COMPRESSION_GZIP};
    check_round_trip(&plain, 2000, "plain, byte-bound row groups");
}

/* Exact levels of one list leaf: null, [], [null], ["a","b"]. */
static void test_exact_levels(void **state)
{
    (void)state;
    pq_wnode *root = pq_wnode_group("schema", REQ);
    pq_wnode_add(root, pq_wnode_list("l", OPT, pq_wnode_leaf("x", PQ_TYPE_STRING, OPT)));
    json_t *rows = jparse("[{\"l\":null},{\"l\":[]},{\"l\":[null]},{\"l\":[\"a\",\"b\"]},"
                          "{\"l\":[\"a\"]}]");
    sl_buf file = {0};
    pq_writer_opts o = {.compression = PQ_COMPRESSION_NONE};
    write_rows(root, &o, rows, &file);

    pq_source src;
    pq_source_memory(file.data, file.len, "levels.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    assert_int_equal(pq_reader_open(&src, &r, &err), SL_OK);
    const pq_file_info *fi = pq_reader_info(r);
    assert_int_equal(fi->num_rows, 5);
    assert_int_equal(fi->num_leaves, 1);
    assert_string_equal(fi->leaves[0]->path, "l.list.element");
    assert_int_equal(fi->leaves[0]->max_def, 3);
    assert_int_equal(fi->leaves[0]->max_rep, 1);
    assert_int_equal(fi->root->children[0]->converted, PQ_CONV_LIST);
    /* statistics: nulls are entries below max_def (null list, empty, null) */
    assert_true(fi->row_groups[0].chunks[0].has_null_count);
    assert_int_equal(fi->row_groups[0].chunks[0].null_count, 3);
    assert_int_equal(fi->row_groups[0].chunks[0].num_values, 6);
    pq_column_data d = {0};
    assert_int_equal(pq_read_column(r, 0, 0, &d, &err), SL_OK);
    static const int16_t want_def[] = {0, 1, 2, 3, 3, 3};
    static const int16_t want_rep[] = {0, 0, 0, 0, 1, 0};
    assert_int_equal(d.num_levels, 6);
    assert_int_equal(d.num_values, 3);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(d.def[i], want_def[i]);
        assert_int_equal(d.rep[i], want_rep[i]);
    }
    pq_column_data_free(&d);
    pq_reader_close(r);
    json_decref(rows);
    buf_free(&file);
}

/* Map columns as JSON objects come back as arrays of {key, value}. */
static void test_map_object_form(void **state)
{
    (void)state;
    pq_wnode *root = pq_wnode_group("schema", REQ);
    pq_wnode_add(root, pq_wnode_map("m", OPT, PQ_TYPE_STRING,
                                    pq_wnode_leaf("v", PQ_TYPE_INT64, OPT)));
    json_t *rows = jparse("[{\"m\":{\"a\":1,\"b\":null,\"c\":3}},{\"m\":{}},{}]");
    sl_buf file = {0};
    write_rows(root, NULL, rows, &file);
    json_t *got = read_rows(&file);
    json_t *want =
        jparse("[{\"m\":[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":null},"
               "{\"key\":\"c\",\"value\":3}]},{\"m\":[]},{\"m\":null}]");
    assert_json_eq(want, got, "map object form", 0);
    json_decref(want);
    json_decref(got);
    json_decref(rows);
    buf_free(&file);
}

/* A refused row leaves no trace; the next rows go in. */
static void test_refused_rows(void **state)
{
    (void)state;
    sl_err err = {0};
    pq_nwriter *w = pq_nwriter_new(deep_schema(), NULL, &err);
    assert_non_null(w);
    pq_shredder *s = pq_shred_new(w, true);
    json_t *good = jparse(EDGE_ROWS[3]);
    assert_int_equal(pq_shred_row(s, good, &err), SL_OK);
    static const char *const bad[] = {
        /* required id missing */
        "{\"items\":[]}",
        /* required list null */
        "{\"id\":5,\"items\":null}",
        /* required sku null deep inside */
        "{\"id\":5,\"tags\":[\"a\"],\"items\":[{\"sku\":null}]}",
        /* a map value of the wrong type after good nested values */
        "{\"id\":5,\"tags\":[\"ok\"],\"items\":[{\"sku\":\"\\u00ff\"}],\"attrs\":{\"k\":"
        "1}}",
        /* unknown member (strict) */
        "{\"id\":5,\"items\":[],\"point\":{\"x\":1,\"z\":2}}",
        /* type mismatches */
        "{\"id\":\"5\",\"items\":[]}",
        "{\"id\":5,\"items\":{}}",
        "{\"id\":5,\"items\":[],\"matrix\":[[\"x\"]]}",
        "{\"id\":5,\"items\":[],\"amount\":\"1.234\"}",
        "[1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *row = jparse(bad[i]);
        sl_err e2 = {0};
        sl_code rc = pq_shred_row(s, row, &e2);
        if (rc != SL_PARQUET_VALUE)
            fail_msg("bad row %zu accepted (rc %d)", i, (int)rc);
        assert_non_null(strstr(e2.msg, "row 2"));
        json_decref(row);
    }
    /* invalid UTF-8 deep inside (jansson's parser would refuse it) */
    json_t *row = jparse("{\"id\":5,\"tags\":[\"ok\"],\"items\":[{\"sku\":\"s\"}]}");
    json_t *item = json_array_get(json_object_get(row, "items"), 0);
    json_object_set_new(item, "sku", json_stringn_nocheck("a\xff", 2));
    assert_int_equal(pq_shred_row(s, row, &err), SL_PARQUET_VALUE);
    assert_non_null(strstr(err.msg, "UTF-8"));
    json_decref(row);
    assert_int_equal(pq_shred_row(s, good, &err), SL_OK);
    /* the low-level API: order of entries within a row */
    int id = pq_nwriter_leaf_index(w, "id");
    assert_int_equal(id, 0);
    assert_int_equal(
        pq_nwriter_leaf_index(w, "items.list.element.opts.key_value.value.list.element"),
        (int)pq_nwriter_num_leaves(w) - 5);
    pq_value v = pq_val_i64(9);
    assert_int_equal(pq_nwriter_leaf_put(w, 0, 0, 1, &v, &err), SL_PARQUET_VALUE);
    assert_int_equal(pq_nwriter_leaf_put(w, 0, 1, 0, &v, &err), SL_PARQUET_VALUE);
    assert_int_equal(pq_nwriter_leaf_put(w, 0, 0, 0, NULL, &err), SL_PARQUET_VALUE);
    sl_buf file = {0};
    assert_int_equal(pq_nwriter_finish(w, &file, NULL, &err), SL_OK);
    json_t *got = read_rows(&file);
    assert_int_equal(json_array_size(got), 2);
    assert_json_eq(good, json_array_get(got, 0), "refused", 0);
    assert_json_eq(good, json_array_get(got, 1), "refused", 1);
    json_decref(got);
    json_decref(good);
    buf_free(&file);
    pq_shred_free(s);
    pq_nwriter_free(w);
}

static void expect_schema_error(pq_wnode *root, const char *what)
{
    sl_err err = {0};
    pq_nwriter *w = pq_nwriter_new(root, NULL, &err);
    if (w)
        fail_msg("schema accepted: %s", what);
    assert_int_equal(err.code, SL_PARQUET_SCHEMA);
}

static void test_schema_errors(void **state)
{
    (void)state;
    expect_schema_error(pq_wnode_group("schema", REQ), "no leaves");
    pq_wnode *r = pq_wnode_group("schema", REQ);
    pq_wnode_add(r, pq_wnode_leaf("a", PQ_TYPE_INT32, OPT));
    pq_wnode_add(r, pq_wnode_leaf("a", PQ_TYPE_INT64, OPT));
    expect_schema_error(r, "duplicate");
    r = pq_wnode_group("schema", REQ);
    pq_wnode_add(r, pq_wnode_leaf("a", PQ_TYPE_INT32, PQ_REP_REPEATED));
    expect_schema_error(r, "bare repeated");
    r = pq_wnode_group("schema", REQ);
    pq_wnode_add(r, pq_wnode_group("g", OPT));
    expect_schema_error(r, "empty group");
    r = pq_wnode_group("schema", REQ);
    pq_wnode_add(r, pq_wnode_leaf("d", PQ_TYPE_DECIMAL_OF(40, 2), OPT));
    expect_schema_error(r, "decimal precision");
    expect_schema_error(pq_wnode_leaf("x", PQ_TYPE_INT32, REQ), "leaf root");
}

/* ------------------------------------------------------------------ */
/* A Delta checkpoint read by DuckDB and arrow-rs                      */

/* The schema the Delta checkpoint writer uses (backend/delta). */
static pq_wnode *checkpoint_schema(void)
{
    return delta_checkpoint_schema();
}

/* The full form of an action row: every field present (null when absent),
 * maps as objects; filled from the shorter JSON the test writes. */
static json_t *full_form(const pq_wnode *n, const json_t *v)
{
    if (!v || json_is_null(v))
        return json_null();
    switch (n->kind) {
    case PQ_WNODE_LEAF:
        return json_deep_copy(v);
    case PQ_WNODE_GROUP: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->num_children; i++)
            json_object_set_new(
                o, n->children[i]->name,
                full_form(n->children[i], json_object_get(v, n->children[i]->name)));
        return o;
    }
    case PQ_WNODE_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(
                a, full_form(n->children[0]->children[0], json_array_get(v, i)));
        return a;
    }
    case PQ_WNODE_MAP: {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
            json_object_set_new(o, k, full_form(n->children[0]->children[1], x));
        return o;
    }
    }
    return json_null();
}

/* Our reader's maps (arrays of {key, value}) as objects. */
static json_t *maps_as_objects(const pq_wnode *n, const json_t *v)
{
    if (!v || json_is_null(v))
        return json_null();
    switch (n->kind) {
    case PQ_WNODE_LEAF:
        return json_deep_copy(v);
    case PQ_WNODE_GROUP: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->num_children; i++)
            json_object_set_new(
                o, n->children[i]->name,
                maps_as_objects(n->children[i],
                                json_object_get(v, n->children[i]->name)));
        return o;
    }
    case PQ_WNODE_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(
                a, maps_as_objects(n->children[0]->children[0], json_array_get(v, i)));
        return a;
    }
    case PQ_WNODE_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            json_object_set_new(o, json_string_value(json_object_get(e, "key")),
                                maps_as_objects(n->children[0]->children[1],
                                                json_object_get(e, "value")));
        }
        return o;
    }
    }
    return json_null();
}

static json_t *checkpoint_actions(int nadds)
{
    json_t *rows = json_array();
    json_array_append_new(
        rows, jparse("{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                     "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":"
                     "[\"deletionVectors\",\"domainMetadata\"]}}"));
    json_array_append_new(
        rows,
        jparse(
            "{\"metaData\":{\"id\":\"6c8a1c3e-0b1f-4d3c-9a55-0f6a7c1d2e3f\",\"name\":"
            "null,"
            "\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":"
            "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\",\"partitionColumns\":"
            "[\"day\",\"region\"],\"configuration\":{\"delta.checkpointInterval\":\"10\","
            "\"delta.enableDeletionVectors\":\"true\"},\"createdTime\":1700000000000}}"));
    json_array_append_new(rows,
                          jparse("{\"txn\":{\"appId\":\"sluice-run\",\"version\":42,"
                                 "\"lastUpdated\":1700000000123}}"));
    json_array_append_new(rows,
                          jparse("{\"domainMetadata\":{\"domain\":\"delta.rowTracking\","
                                 "\"configuration\":\"{\\\"rowIdHighWaterMark\\\":7}\","
                                 "\"removed\":false}}"));
    for (int i = 0; i < nadds; i++) {
        char *text = sl_asprintf(
            "{\"add\":{\"path\":\"day=2024-01-%02d/region=%s/"
            "part-%05d-%08x.snappy.parquet\","
            "\"partitionValues\":{\"day\":\"2024-01-%02d\",\"region\":%s},\"size\":%d,"
            "\"modificationTime\":%lld,\"dataChange\":%s,\"stats\":%s%s%s}}",
            i % 28 + 1, i % 3 ? "eu" : "us", i, mix((uint32_t)i), i % 28 + 1,
            i % 5 == 0 ? "null" : (i % 3 ? "\"eu\"" : "\"us\""), 1000 + i * 7,
            1700000000000LL + i, i % 2 ? "true" : "false",
            i % 4 == 0 ? "null" : "\"{\\\"numRecords\\\":",
            i % 4 == 0 ? "" : (i % 2 ? "10" : "20"),
            i % 4 == 0 ? "" : ",\\\"minValues\\\":{\\\"id\\\":1}}\"");
        json_t *row = jparse(text);
        free(text);
        json_t *add = json_object_get(row, "add");
        if (i % 7 == 3)
            json_object_set_new(add, "tags",
                                jparse("{\"INSERTION_TIME\":\"1700000000000000\","
                                       "\"empty\":\"\",\"none\":null}"));
        if (i % 11 == 5)
            json_object_set_new(add, "tags", json_object());
        if (i % 13 == 6)
            json_object_set_new(add, "deletionVector",
                                jparse("{\"storageType\":\"u\",\"pathOrInlineDv\":"
                                       "\"ab^-aqEH.-t@S}K{vb[*k^\",\"offset\":4,"
                                       "\"sizeInBytes\":40,\"cardinality\":6}"));
        json_array_append(rows, row);
        json_decref(row);
    }
    json_array_append_new(
        rows, jparse("{\"remove\":{\"path\":\"day=2023-12-31/region=us/old.parquet\","
                     "\"deletionTimestamp\":1700000001000,\"dataChange\":true,"
                     "\"extendedFileMetadata\":true,\"partitionValues\":"
                     "{\"day\":\"2023-12-31\",\"region\":\"us\"},\"size\":77}}"));
    return rows;
}

static void check_reader_rows(const char *reader, json_t *texts, const json_t *want)
{
    if (json_array_size(texts) != json_array_size(want))
        fail_msg("%s read %zu rows, want %zu", reader, json_array_size(texts),
                 json_array_size(want));
    for (size_t i = 0; i < json_array_size(want); i++) {
        json_t *got = jparse(json_string_value(json_array_get(texts, i)));
        assert_json_eq(json_array_get(want, i), got, reader, i);
        json_decref(got);
    }
}

static json_t *schema_row(json_t *schema, const char *name, int nth)
{
    for (size_t i = 0; i < json_array_size(schema); i++) {
        json_t *r = json_array_get(schema, i);
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0 &&
            nth-- == 0)
            return r;
    }
    fail_msg("DuckDB's parquet_schema has no '%s'", name);
    return NULL;
}

static void test_checkpoint_interop(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("pqnested");
    json_t *rows = checkpoint_actions(700);
    pq_wnode *schema = checkpoint_schema();
    json_t *want = json_array();
    for (size_t i = 0; i < json_array_size(rows); i++)
        json_array_append_new(want, full_form(schema, json_array_get(rows, i)));
    pq_wnode_free(schema);

    /* two shapes: one row group with the defaults, and many small pages and
     * row groups without a dictionary */
    pq_writer_opts small = {
        .page_size = 300, .row_group_rows = 128, .no_dictionary = true};
    const pq_writer_opts *variants[] = {NULL, &small};
    json_t *files = json_array();
    for (int k = 0; k < 2; k++) {
        sl_buf file = {0};
        write_rows(checkpoint_schema(), variants[k], rows, &file);
        char *path = sl_asprintf("%s/00000000000000000010.checkpoint-%d.parquet", dir, k);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(file.data, 1, file.len, fp), file.len);
        fclose(fp);
        /* our reader first */
        json_t *got = read_rows(&file);
        pq_wnode *sch = checkpoint_schema();
        assert_int_equal(json_array_size(got), json_array_size(want));
        for (size_t i = 0; i < json_array_size(got); i++) {
            json_t *g = maps_as_objects(sch, json_array_get(got, i));
            assert_json_eq(json_array_get(want, i), g, "ours", i);
            json_decref(g);
        }
        pq_wnode_free(sch);
        json_decref(got);
        json_array_append_new(files, json_string(path));
        free(path);
        buf_free(&file);
    }

    if (!tu_have_node()) {
        printf("SKIP: node is not installed; DuckDB and arrow-rs cross-checks skipped\n");
    } else {
        char *script = tu_npm_script("npm-nested", "read_nested.mjs");
        char *cmd = sl_asprintf("node '%s' '%s' '%s'", script,
                                json_string_value(json_array_get(files, 0)),
                                json_string_value(json_array_get(files, 1)));
        char *out = NULL;
        int rc = tu_run(cmd, &out);
        if (rc != 0)
            fail_msg("read_nested.mjs failed (exit %d)", rc);
        size_t nfiles = 0;
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            json_t *res = jparse(line);
            check_reader_rows("DuckDB", json_object_get(res, "duckdb"), want);
            check_reader_rows("arrow-rs", json_object_get(res, "arrow"), want);
            json_t *sch = json_object_get(res, "schema");
            json_t *pv = schema_row(sch, "partitionValues", 0);
            assert_string_equal(json_string_value(json_object_get(pv, "converted_type")),
                                "MAP");
            assert_string_equal(json_string_value(json_object_get(pv, "repetition_type")),
                                "OPTIONAL");
            json_t *kv = schema_row(sch, "key_value", 0);
            assert_string_equal(json_string_value(json_object_get(kv, "repetition_type")),
                                "REPEATED");
            json_t *key = schema_row(sch, "key", 0);
            assert_string_equal(
                json_string_value(json_object_get(key, "repetition_type")), "REQUIRED");
            json_t *pc = schema_row(sch, "partitionColumns", 0);
            assert_string_equal(json_string_value(json_object_get(pc, "converted_type")),
                                "LIST");
            json_t *list = schema_row(sch, "list", 0);
            assert_string_equal(
                json_string_value(json_object_get(list, "repetition_type")), "REPEATED");
            json_decref(res);
            nfiles++;
        }
        assert_int_equal(nfiles, 2);
        free(out);
        free(cmd);
        free(script);
    }
    json_decref(files);
    json_decref(want);
    json_decref(rows);
    tu_rmtree(dir);
    free(dir);
}

/* ---- null runs and pre-checked entries ---- */

static pq_wnode *runs_schema(void)
{
    pq_wnode *root = pq_wnode_group("schema", REQ);
    pq_wnode *a = pq_wnode_add(root, pq_wnode_group("a", OPT));
    pq_wnode_add(a, pq_wnode_leaf("x", PQ_TYPE_INT64, OPT));
    pq_wnode_add(a, pq_wnode_map("m", OPT, PQ_TYPE_STRING,
                                 pq_wnode_leaf("v", PQ_TYPE_STRING, OPT)));
    pq_wnode_add(root, pq_wnode_leaf("r", PQ_TYPE_STRING, OPT));
    pq_wnode *q = pq_wnode_add(root, pq_wnode_group("q", OPT));
    pq_wnode_add(q, pq_wnode_leaf("y", PQ_TYPE_INT32, OPT));
    return root; /* leaves: a.x, a.m.key, a.m.value, r, q.y */
}

/* Row i of the runs file, each leaf's entries put with pq_nwriter_leaf_put
 * (fast 0) or with pq_nwriter_put_nulls for the leaves the row leaves at
 * def 0 and pq_nwriter_leaf_put_checked for the rest (fast 1). */
static void runs_row(pq_nwriter *w, long i, int fast)
{
    sl_err err = {0};
    char key[4][16], text[32];
    pq_value v;
    if (i % 3 == 0) { /* a present: x, and a map of i % 4 entries (some null) */
        sl_code (*put)(pq_nwriter *, size_t, int, int, const pq_value *, sl_err *) =
            fast ? pq_nwriter_leaf_put_checked : pq_nwriter_leaf_put;
        v = pq_val_i64(i);
        assert_int_equal(put(w, 0, 2, 0, &v, &err), SL_OK);
        int n = (int)(i % 4);
        if (n == 0) {
            assert_int_equal(put(w, 1, 2, 0, NULL, &err), SL_OK); /* empty map */
            assert_int_equal(put(w, 2, 2, 0, NULL, &err), SL_OK);
        }
        for (int e = 0; e < n; e++) {
            snprintf(key[e], sizeof key[e], "k%d", e);
            pq_value k = pq_val_strn(key[e], strlen(key[e]));
            assert_int_equal(put(w, 1, 3, e ? 1 : 0, &k, &err), SL_OK);
            pq_value val = pq_val_strn("value", 5);
            assert_int_equal(
                put(w, 2, e == 1 ? 3 : 4, e ? 1 : 0, e == 1 ? NULL : &val, &err), SL_OK);
        }
        if (fast) {
            assert_int_equal(pq_nwriter_put_nulls(w, 3, 2, &err), SL_OK);
        } else {
            assert_int_equal(pq_nwriter_leaf_put(w, 3, 0, 0, NULL, &err), SL_OK);
            assert_int_equal(pq_nwriter_leaf_put(w, 4, 0, 0, NULL, &err), SL_OK);
        }
    } else { /* a null, r a string, q.y a value or q null */
        if (fast) {
            assert_int_equal(pq_nwriter_put_nulls(w, 0, 3, &err), SL_OK);
        } else {
            for (size_t l = 0; l < 3; l++)
                assert_int_equal(pq_nwriter_leaf_put(w, l, 0, 0, NULL, &err), SL_OK);
        }
        snprintf(text, sizeof text, "row %ld", i);
        v = pq_val_strn(text, strlen(text));
        assert_int_equal(pq_nwriter_leaf_put(w, 3, 1, 0, &v, &err), SL_OK);
        if (i % 5 == 0 && fast) {
            assert_int_equal(pq_nwriter_put_nulls(w, 4, 1, &err), SL_OK);
        } else if (i % 5 == 0) {
            assert_int_equal(pq_nwriter_leaf_put(w, 4, 0, 0, NULL, &err), SL_OK);
        } else {
            v = pq_val_i32((int32_t)i);
            assert_int_equal(pq_nwriter_leaf_put(w, 4, 2, 0, &v, &err), SL_OK);
        }
    }
    assert_int_equal(pq_nwriter_end_row(w, &err), SL_OK);
}

/* Null runs and pre-checked entries give the bytes of single checked puts,
 * across pages closed by the row bound (20,000 entries), pages waiting to
 * close on a record boundary (tiny pages, map entries) and row groups; a
 * run over a required leaf is refused and puts nothing. */
static void test_null_runs(void **state)
{
    (void)state;
    static const pq_writer_opts variants[] = {
        {.compression = PQ_COMPRESSION_SNAPPY},
        {.compression = PQ_COMPRESSION_NONE, .page_size = 64, .row_group_rows = 7000},
    };
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        sl_err err = {0};
        sl_buf f[2] = {{0}, {0}};
        for (int fast = 0; fast < 2; fast++) {
            pq_nwriter *w = pq_nwriter_new(runs_schema(), &variants[k], &err);
            assert_non_null(w);
            for (long i = 0; i < 45000; i++)
                runs_row(w, i, fast);
            assert_int_equal(pq_nwriter_finish(w, &f[fast], NULL, &err), SL_OK);
            pq_nwriter_free(w);
        }
        assert_int_equal(f[0].len, f[1].len);
        assert_memory_equal(f[0].data, f[1].data, f[0].len);
        json_t *rows = read_rows(&f[1]);
        assert_int_equal(json_array_size(rows), 45000);
        json_t *r3 = json_array_get(rows, 3);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(r3, "a"), "x")), 3);
        assert_true(json_is_null(json_object_get(json_array_get(rows, 5), "q")));
        json_decref(rows);
        buf_free(&f[0]);
        buf_free(&f[1]);
    }

    /* a required leaf in the run: refused, nothing put */
    pq_wnode *root = pq_wnode_group("schema", REQ);
    pq_wnode_add(root, pq_wnode_leaf("o", PQ_TYPE_INT64, OPT));
    pq_wnode_add(root, pq_wnode_leaf("req", PQ_TYPE_INT64, REQ));
    sl_err err = {0};
    pq_nwriter *w = pq_nwriter_new(root, NULL, &err);
    assert_non_null(w);
    assert_int_equal(pq_nwriter_put_nulls(w, 0, 2, &err), SL_PARQUET_VALUE);
    assert_int_equal(pq_nwriter_put_nulls(w, 1, 5, &err), SL_PARQUET_VALUE);
    assert_int_equal(pq_nwriter_put_nulls(w, 0, 1, &err), SL_OK);
    pq_value one = pq_val_i64(1);
    assert_int_equal(pq_nwriter_leaf_put_checked(w, 1, 0, 0, &one, &err), SL_OK);
    assert_int_equal(pq_nwriter_end_row(w, &err), SL_OK);
    sl_buf file = {0};
    assert_int_equal(pq_nwriter_finish(w, &file, NULL, &err), SL_OK);
    json_t *rows = read_rows(&file);
    json_t *want = jparse("[{\"o\":null,\"req\":1}]");
    assert_json_eq(want, rows, "required", 0);
    json_decref(want);
    json_decref(rows);
    buf_free(&file);
    pq_nwriter_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_levels),
        cmocka_unit_test(test_map_object_form),
        cmocka_unit_test(test_round_trip_variants),
        cmocka_unit_test(test_refused_rows),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_null_runs),
        cmocka_unit_test(test_checkpoint_interop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
