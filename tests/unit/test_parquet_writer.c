/* The Parquet writer: Thrift compact encoding byte for byte, the RLE hybrid,
 * the file structure and footer decoded back by a small test-only reader, the
 * page data against the rows written, statistics for Parquet and Delta, and
 * (when node is present) the rows as an independent reader (hyparquet) sees
 * them. */
#include "testutil.h"

#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend/parquet/pq_column.h"
#include "backend/parquet/pq_rle.h"
#include "backend/parquet/pq_writer.h"
#include "backend/parquet/thrift_compact.h"
#include "backend/util/buf.h"
#include "version.h"

/* ------------------------------------------------------------------ */
/* Byte helpers                                                        */

static void assert_bytes(const sl_buf *b, const unsigned char *want, size_t n)
{
    if (b->len != n || memcmp(b->data, want, n) != 0) {
        fprintf(stderr, "got  %zu bytes:", b->len);
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, " %02x", (unsigned char)b->data[i]);
        fprintf(stderr, "\nwant %zu bytes:", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n");
        fail_msg("byte mismatch");
    }
}

static uint32_t rd_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd_le64(const unsigned char *p)
{
    return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

/* ------------------------------------------------------------------ */
/* Test-only Thrift compact reader: decodes a struct into a JSON object   */
/* keyed by field id ("1", "2", ...); binaries become (unchecked) strings. */

typedef struct tr {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} tr;

static unsigned tr_byte(tr *r)
{
    if (r->pos >= r->len) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->pos++];
}

static uint64_t tr_varint(tr *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        unsigned b = tr_byte(r);
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80) || r->bad)
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t unzig(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static json_t *tr_struct(tr *r, int depth);

static json_t *tr_value(tr *r, int type, int depth)
{
    if (depth > 16) {
        r->bad = 1;
        return json_null();
    }
    switch (type) {
    case THRIFT_BYTE:
        return json_integer((int8_t)tr_byte(r));
    case THRIFT_I16:
    case THRIFT_I32:
    case THRIFT_I64:
        return json_integer(unzig(tr_varint(r)));
    case THRIFT_DOUBLE: {
        if (r->len - r->pos < 8) {
            r->bad = 1;
            return json_null();
        }
        uint64_t bits = rd_le64(r->p + r->pos);
        r->pos += 8;
        double d;
        memcpy(&d, &bits, sizeof d);
        return json_real(d);
    }
    case THRIFT_BINARY: {
        uint64_t n = tr_varint(r);
        if (r->bad || n > r->len - r->pos) {
            r->bad = 1;
            return json_null();
        }
        json_t *s = json_stringn_nocheck((const char *)r->p + r->pos, (size_t)n);
        r->pos += (size_t)n;
        return s;
    }
    case THRIFT_LIST:
    case THRIFT_SET: {
        unsigned h = tr_byte(r);
        uint64_t n = h >> 4;
        int elem = (int)(h & 0x0F);
        if (n == 15)
            n = tr_varint(r);
        json_t *a = json_array();
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (elem == THRIFT_BOOL_TRUE || elem == THRIFT_BOOL_FALSE)
                json_array_append_new(a, json_boolean(tr_byte(r) == 1));
            else
                json_array_append_new(a, tr_value(r, elem, depth + 1));
        }
        return a;
    }
    case THRIFT_STRUCT:
        return tr_struct(r, depth + 1);
    default:
        r->bad = 1;
        return json_null();
    }
}

static json_t *tr_struct(tr *r, int depth)
{
    json_t *o = json_object();
    int64_t last = 0;
    while (!r->bad) {
        unsigned h = tr_byte(r);
        if (h == THRIFT_STOP)
            break;
        int type = (int)(h & 0x0F);
        int delta = (int)(h >> 4);
        int64_t id = delta ? last + delta : unzig(tr_varint(r));
        json_t *v;
        if (type == THRIFT_BOOL_TRUE || type == THRIFT_BOOL_FALSE)
            v = json_boolean(type == THRIFT_BOOL_TRUE);
        else
            v = tr_value(r, type, depth);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)id);
        json_object_set_new(o, key, v);
        last = id;
    }
    return o;
}

/* Decodes one struct at p[0..len); *used gets the bytes consumed. */
static json_t *decode_struct(const void *p, size_t len, size_t *used)
{
    tr r = {p, len, 0, 0};
    json_t *o = tr_struct(&r, 0);
    assert_false(r.bad);
    if (used)
        *used = r.pos;
    return o;
}

static json_t *fld(json_t *o, int id)
{
    char key[16];
    snprintf(key, sizeof key, "%d", id);
    return json_object_get(o, key);
}

static int64_t fld_int(json_t *o, int id)
{
    json_t *v = fld(o, id);
    if (!json_is_integer(v))
        fail_msg("field %d is not an integer", id);
    return json_integer_value(v);
}

static const char *fld_str(json_t *o, int id, size_t *len)
{
    json_t *v = fld(o, id);
    if (!json_is_string(v))
        fail_msg("field %d is not a binary", id);
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

/* ------------------------------------------------------------------ */
/* Thrift compact writer                                               */

static void test_thrift_varint_zigzag(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        unsigned char bytes[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7F}, 1},
        {128, {0x80, 0x01}, 2},
        {300, {0xAC, 0x02}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {UINT64_MAX, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_buf b = {0};
        thrift_varint_write(&b, cases[i].v);
        assert_bytes(&b, cases[i].bytes, cases[i].n);
        buf_free(&b);
    }
    assert_int_equal(thrift_zigzag(0), 0);
    assert_int_equal(thrift_zigzag(-1), 1);
    assert_int_equal(thrift_zigzag(1), 2);
    assert_int_equal(thrift_zigzag(-2), 3);
    assert_true(thrift_zigzag(INT32_MAX) == 4294967294u);
    assert_true(thrift_zigzag(INT32_MIN) == 4294967295u);
    assert_true(thrift_zigzag(INT64_MAX) == UINT64_MAX - 1);
    assert_true(thrift_zigzag(INT64_MIN) == UINT64_MAX);

    /* i64 extremes survive a field round trip */
    sl_buf b = {0};
    thrift_writer w;
    thrift_writer_init(&w, &b);
    thrift_struct_begin(&w);
    thrift_field_i64(&w, 1, INT64_MIN);
    thrift_field_i64(&w, 2, INT64_MAX);
    thrift_field_i32(&w, 3, INT32_MIN);
    thrift_struct_end(&w);
    json_t *o = decode_struct(b.data, b.len, NULL);
    assert_true(fld_int(o, 1) == INT64_MIN);
    assert_true(fld_int(o, 2) == INT64_MAX);
    assert_true(fld_int(o, 3) == INT32_MIN);
    json_decref(o);
    buf_free(&b);
}

static void test_thrift_struct_bytes(void **state)
{
    (void)state;
    sl_buf b = {0};
    thrift_writer w;
    thrift_writer_init(&w, &b);
    thrift_struct_begin(&w);
    thrift_field_i32(&w, 1, 1);                          /* 15 02 */
    thrift_field_i64(&w, 3, -1);                         /* 26 01 (delta 2) */
    thrift_field_bool(&w, 4, true);                      /* 11 */
    thrift_field_bool(&w, 5, false);                     /* 12 */
    thrift_field_string(&w, 6, "ab");                    /* 18 02 61 62 */
    thrift_field_i32(&w, 40, 7);                         /* delta 34 > 15: 05 50 0e */
    thrift_field_i16(&w, 41, -3);                        /* 14 05 */
    thrift_field_list_begin(&w, 42, THRIFT_I32, 3);      /* 19 35 */
    thrift_elem_i32(&w, 1);                              /* 02 */
    thrift_elem_i32(&w, 2);                              /* 04 */
    thrift_elem_i32(&w, -3);                             /* 05 */
    thrift_field_struct_begin(&w, 43);                   /* 1c */
    thrift_field_i32(&w, 1, 5);                          /* 15 0a (fresh id context) */
    thrift_struct_end(&w);                               /* 00 */
    thrift_field_double(&w, 44, 1.0);                    /* 17 00 00 00 00 00 00 f0 3f */
    thrift_field_i32(&w, 2, 0);                          /* id goes down: 05 04 00 */
    thrift_field_list_begin(&w, 3, THRIFT_BOOL_TRUE, 2); /* 19 21 */
    thrift_elem_bool(&w, true);                          /* 01 */
    thrift_elem_bool(&w, false);                         /* 02 */
    thrift_struct_end(&w);                               /* 00 */
    static const unsigned char want[] = {
        0x15, 0x02, 0x26, 0x01, 0x11, 0x12, 0x18, 0x02, 0x61, 0x62, 0x05,
        0x50, 0x0e, 0x14, 0x05, 0x19, 0x35, 0x02, 0x04, 0x05, 0x1c, 0x15,
        0x0a, 0x00, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
        0x05, 0x04, 0x00, 0x19, 0x21, 0x01, 0x02, 0x00};
    assert_bytes(&b, want, sizeof want);
    buf_free(&b);
}

static void test_thrift_long_list(void **state)
{
    (void)state;
    sl_buf b = {0};
    thrift_writer w;
    thrift_writer_init(&w, &b);
    thrift_struct_begin(&w);
    thrift_field_list_begin(&w, 1, THRIFT_BINARY, 15);
    for (int i = 0; i < 15; i++)
        thrift_elem_string(&w, "x");
    thrift_field_list_begin(&w, 2, THRIFT_STRUCT, 0);
    thrift_struct_end(&w);
    /* 15 elements need the long form: f8 0f, then 15 x (01 78) */
    assert_int_equal((unsigned char)b.data[0], 0x19);
    assert_int_equal((unsigned char)b.data[1], 0xf8);
    assert_int_equal((unsigned char)b.data[2], 0x0f);
    assert_int_equal((unsigned char)b.data[3], 0x01);
    assert_int_equal((unsigned char)b.data[4], 'x');
    static const unsigned char tail[] = {0x19, 0x0c, 0x00};
    assert_int_equal(b.len, 3 + 30 + 3);
    assert_memory_equal(b.data + 33, tail, 3);
    json_t *o = decode_struct(b.data, b.len, NULL);
    assert_int_equal(json_array_size(fld(o, 1)), 15);
    assert_int_equal(json_array_size(fld(o, 2)), 0);
    json_decref(o);
    buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* RLE / bit-packed hybrid                                             */

/* Test-only decoder; returns the number of values decoded. */
static size_t rle_decode(const unsigned char *p, size_t len, int bw, uint32_t *out,
                         size_t n)
{
    tr r = {p, len, 0, 0};
    size_t count = 0;
    while (count < n && r.pos < len && !r.bad) {
        uint64_t h = tr_varint(&r);
        if (h & 1) {
            size_t vals = (size_t)(h >> 1) * 8;
            size_t bytes = (size_t)(h >> 1) * (size_t)bw;
            assert_true(bytes <= len - r.pos);
            for (size_t k = 0; k < vals; k++) {
                uint32_t v = 0;
                for (int bit = 0; bit < bw; bit++) {
                    size_t at = k * (size_t)bw + (size_t)bit;
                    if (p[r.pos + at / 8] >> (at % 8) & 1)
                        v |= 1u << bit;
                }
                if (count < n)
                    out[count++] = v;
            }
            r.pos += bytes;
        } else {
            size_t run = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int k = 0; k < (bw + 7) / 8; k++)
                v |= (uint32_t)tr_byte(&r) << (8 * k);
            for (size_t k = 0; k < run && count < n; k++)
                out[count++] = v;
        }
    }
    assert_false(r.bad);
    return count;
}

static void test_rle_hybrid(void **state)
{
    (void)state;
    assert_int_equal(pq_rle_bit_width(0), 0);
    assert_int_equal(pq_rle_bit_width(1), 1);
    assert_int_equal(pq_rle_bit_width(7), 3);
    assert_int_equal(pq_rle_bit_width(8), 4);

    /* all valid: one RLE run */
    uint8_t ones[100];
    memset(ones, 1, sizeof ones);
    sl_buf b = {0};
    pq_rle_encode_u8(&b, ones, 100, 1);
    static const unsigned char run[] = {0xc8, 0x01, 0x01}; /* varint(200), value 1 */
    assert_bytes(&b, run, sizeof run);
    buf_free(&b);

    /* alternating: one bit-packed group, LSB first */
    uint8_t alt[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    pq_rle_encode_u8(&b, alt, 8, 1);
    static const unsigned char packed[] = {0x03, 0xaa};
    assert_bytes(&b, packed, sizeof packed);
    buf_free(&b);

    /* a short tail is padded to a whole group */
    uint8_t three[3] = {1, 0, 1};
    pq_rle_encode_u8(&b, three, 3, 1);
    static const unsigned char padded[] = {0x03, 0x05};
    assert_bytes(&b, padded, sizeof padded);
    buf_free(&b);

    /* mixed patterns and widths round-trip */
    for (int bw = 1; bw <= 17; bw += 4) {
        uint32_t vals[1000], back[1000];
        uint32_t mask = bw >= 32 ? UINT32_MAX : ((1u << bw) - 1);
        for (int i = 0; i < 1000; i++) {
            if (i % 100 < 40)
                vals[i] = 3 & mask; /* long runs */
            else
                vals[i] = ((uint32_t)i * 2654435761u >> 7) & mask; /* noise */
        }
        sl_buf e = {0};
        pq_rle_encode_u32(&e, vals, 1000, bw);
        assert_int_equal(rle_decode((unsigned char *)e.data, e.len, bw, back, 1000),
                         1000);
        assert_memory_equal(vals, back, sizeof vals);
        buf_free(&e);
    }
}

/* ------------------------------------------------------------------ */
/* A table of every supported type with nulls and edge values          */

enum { C_ID, C_QTY, C_AMOUNT, C_OK, C_NAME, C_TS, C_FLAG, C_EMPTY, NCOLS };

static const pq_schema_col SCHEMA[NCOLS] = {
    {"id", PQ_TYPE_INT64, false},     {"qty", PQ_TYPE_INT32, true},
    {"amount", PQ_TYPE_DOUBLE, true}, {"ok", PQ_TYPE_BOOLEAN, true},
    {"name", PQ_TYPE_STRING, true},   {"ts", PQ_TYPE_TIMESTAMP_US, true},
    {"flag", PQ_TYPE_BOOLEAN, false}, {"always_null", PQ_TYPE_STRING, true},
};

static const char *const NAMES[] = {
    "alpha",
    "",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x9c\x93 \xf0\x9f\x98\x80",
    "zeta",
    "Alpha",
    "a somewhat longer string value that goes past thirty-two chars",
};

#define NROWS 45

static void make_row(int i, pq_value *v)
{
    v[C_ID] = pq_val_i64(i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t)i * 1000 - 7);
    v[C_QTY] = i % 5 == 4 ? pq_val_null()
                          : pq_val_i32(i == 2   ? INT32_MIN
                                       : i == 3 ? INT32_MAX
                                                : i - 20);
    static const double specials[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300};
    if (i % 7 == 6)
        v[C_AMOUNT] = pq_val_null();
    else if (i == 10)
        v[C_AMOUNT] = pq_val_f64(NAN);
    else
        v[C_AMOUNT] = pq_val_f64(i < 6 ? specials[i] : i * 0.5);
    v[C_OK] = i % 3 == 2 ? pq_val_null() : pq_val_bool(i % 2 == 0);
    v[C_NAME] = i % 4 == 3 ? pq_val_null() : pq_val_str(NAMES[i % 6]);
    /* far past (year 1), far future (9999-12-31T23:59:59.999999), around 0 */
    static const int64_t ts[] = {-62135596800000000LL, 253402300799999999LL, -1, 0,
                                 1767225600123456LL};
    v[C_TS] =
        i % 9 == 8 ? pq_val_null() : pq_val_ts_us(i < 5 ? ts[i] : 1767225600000000LL + i);
    v[C_FLAG] = pq_val_bool(i >= 20 && i < 30);
    v[C_EMPTY] = pq_val_null();
}

static sl_buf write_table(int nrows, const pq_writer_opts *opts, pq_file_stats *stats)
{
    sl_err err = {0};
    pq_writer *w = pq_writer_new(SCHEMA, NCOLS, opts, &err);
    assert_non_null(w);
    for (int i = 0; i < nrows; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    assert_int_equal(pq_writer_num_rows(w), nrows);
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, stats, &err), SL_OK);
    pq_writer_free(w);
    return file;
}

/* Footer of a complete file; checks the frame on the way. */
static json_t *read_footer(const sl_buf *file)
{
    assert_true(file->len >= 12);
    assert_memory_equal(file->data, "PAR1", 4);
    assert_memory_equal(file->data + file->len - 4, "PAR1", 4);
    uint32_t flen = rd_le32((const unsigned char *)file->data + file->len - 8);
    assert_true(flen <= file->len - 12);
    size_t used = 0;
    json_t *fm = decode_struct(file->data + file->len - 8 - flen, flen, &used);
    assert_int_equal(used, flen);
    return fm;
}

static bool cell_equal(pq_type t, const pq_value *a, const pq_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null == b->is_null;
    switch (t) {
    case PQ_TYPE_BOOLEAN:
        return a->b == b->b;
    case PQ_TYPE_INT32:
        return a->i32 == b->i32;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
        return a->i64 == b->i64;
    case PQ_TYPE_DOUBLE:
        return memcmp(&a->f64, &b->f64, sizeof(double)) == 0;
    case PQ_TYPE_STRING:
        return a->str.len == b->str.len &&
               (a->str.len == 0 || memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0);
    }
    return false;
}

/* Decodes every page of one column chunk into cells (strings point into the
 * file); returns the number of cells. Checks page headers on the way. */
static size_t decode_chunk(const sl_buf *file, json_t *meta, const pq_schema_col *col,
                           pq_value *cells, size_t max_cells, int *pages_out)
{
    const unsigned char *f = (const unsigned char *)file->data;
    size_t pos = (size_t)fld_int(meta, 9);
    size_t end = pos + (size_t)fld_int(meta, 7);
    assert_true(end <= file->len);
    size_t count = 0;
    int pages = 0;
    while (pos < end) {
        size_t used;
        json_t *ph = decode_struct(f + pos, end - pos, &used);
        pos += used;
        pages++;
        assert_int_equal(fld_int(ph, 1), 0); /* DATA_PAGE */
        int64_t size = fld_int(ph, 3);
        assert_int_equal(fld_int(ph, 2), size);
        json_t *dp = fld(ph, 5);
        size_t nvals = (size_t)fld_int(dp, 1);
        assert_int_equal(fld_int(dp, 2), 0); /* PLAIN */
        assert_int_equal(fld_int(dp, 3), 3); /* RLE */
        assert_int_equal(fld_int(dp, 4), 3);
        json_decref(ph);
        assert_true(pos + (size_t)size <= end);
        assert_true(count + nvals <= max_cells);
        const unsigned char *body = f + pos, *body_end = f + pos + size;
        uint32_t *levels = sl_calloc(nvals, sizeof *levels);
        if (col->nullable) {
            uint32_t llen = rd_le32(body);
            body += 4;
            assert_int_equal(rle_decode(body, llen, 1, levels, nvals), nvals);
            body += llen;
        } else {
            for (size_t i = 0; i < nvals; i++)
                levels[i] = 1;
        }
        size_t bit = 0;
        for (size_t i = 0; i < nvals; i++) {
            pq_value *c = &cells[count++];
            memset(c, 0, sizeof *c);
            if (!levels[i]) {
                c->is_null = true;
                continue;
            }
            switch (col->type) {
            case PQ_TYPE_BOOLEAN:
                c->b = body[bit / 8] >> (bit % 8) & 1;
                bit++;
                break;
            case PQ_TYPE_INT32:
                c->i32 = (int32_t)rd_le32(body);
                body += 4;
                break;
            case PQ_TYPE_INT64:
            case PQ_TYPE_TIMESTAMP_US:
                c->i64 = (int64_t)rd_le64(body);
                body += 8;
                break;
            case PQ_TYPE_DOUBLE: {
                uint64_t bits = rd_le64(body);
                memcpy(&c->f64, &bits, sizeof bits);
                body += 8;
                break;
            }
            case PQ_TYPE_STRING:
                c->str.len = rd_le32(body);
                c->str.ptr = (const char *)body + 4;
                body += 4 + c->str.len;
                break;
            }
            assert_true(body <= body_end);
        }
        if (col->type == PQ_TYPE_BOOLEAN)
            body += (bit + 7) / 8;
        assert_ptr_equal(body, body_end); /* the page holds exactly its values */
        free(levels);
        pos += (size_t)size;
    }
    assert_int_equal(pos, end);
    if (pages_out)
        *pages_out += pages;
    return count;
}

/* Expected Parquet statistics of rows [from, to) of one column. */
static bool expected_minmax(int col, int from, int to, pq_value *lo, pq_value *hi,
                            int64_t *nulls)
{
    const pq_col_type *t = pq_col_type_get(SCHEMA[col].type);
    bool have = false;
    *nulls = 0;
    for (int i = from; i < to; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        if (v[col].is_null) {
            (*nulls)++;
            continue;
        }
        if (SCHEMA[col].type == PQ_TYPE_DOUBLE && isnan(v[col].f64))
            continue;
        if (!have || t->compare(&v[col], lo) < 0)
            *lo = v[col];
        if (!have || t->compare(&v[col], hi) > 0)
            *hi = v[col];
        have = true;
    }
    return have;
}

static void check_stat_bytes(int col, const char *got, size_t len, const pq_value *want,
                             bool is_max)
{
    const unsigned char *g = (const unsigned char *)got;
    switch (SCHEMA[col].type) {
    case PQ_TYPE_BOOLEAN:
        assert_int_equal(len, 1);
        assert_int_equal(g[0], want->b ? 1 : 0);
        break;
    case PQ_TYPE_INT32:
        assert_int_equal(len, 4);
        assert_int_equal((int32_t)rd_le32(g), want->i32);
        break;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
        assert_int_equal(len, 8);
        assert_true((int64_t)rd_le64(g) == want->i64);
        break;
    case PQ_TYPE_DOUBLE: {
        assert_int_equal(len, 8);
        uint64_t bits = rd_le64(g);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (want->f64 == 0.0) /* zero bounds: -0.0 for min, +0.0 for max */
            assert_int_equal(signbit(d) != 0, !is_max);
        else
            assert_true(d == want->f64);
        break;
    }
    case PQ_TYPE_STRING:
        assert_int_equal(len, want->str.len);
        assert_memory_equal(got, want->str.ptr, len);
        break;
    }
}

/* Checks the whole file against rows [0, nrows) written with row groups of
 * rg_rows (0: one). Returns the number of data pages seen. */
static int check_file(const sl_buf *file, int nrows, int rg_rows)
{
    json_t *fm = read_footer(file);
    assert_int_equal(fld_int(fm, 1), 1);
    assert_int_equal(fld_int(fm, 3), nrows);
    char want_cb[128];
    snprintf(want_cb, sizeof want_cb, "sluice version %s (build %s)", SLUICE_VERSION,
             SLUICE_BUILD_ID);
    assert_string_equal(fld_str(fm, 6, NULL), want_cb);

    /* schema: root with num_children, then one leaf per column */
    json_t *schema = fld(fm, 2);
    assert_int_equal(json_array_size(schema), NCOLS + 1);
    json_t *root = json_array_get(schema, 0);
    assert_string_equal(fld_str(root, 4, NULL), "schema");
    assert_int_equal(fld_int(root, 5), NCOLS);
    assert_null(fld(root, 1));
    static const int phys[] = {2, 1, 5, 0, 6, 2, 0, 6};
    for (int c = 0; c < NCOLS; c++) {
        json_t *e = json_array_get(schema, (size_t)c + 1);
        assert_string_equal(fld_str(e, 4, NULL), SCHEMA[c].name);
        assert_int_equal(fld_int(e, 1), phys[c]);
        assert_int_equal(fld_int(e, 3), SCHEMA[c].nullable ? 1 : 0);
        assert_null(fld(e, 5));
        json_t *lt = fld(e, 10);
        if (SCHEMA[c].type == PQ_TYPE_STRING) {
            assert_int_equal(fld_int(e, 6), 0);      /* UTF8 */
            assert_true(json_is_object(fld(lt, 1))); /* STRING */
        } else if (SCHEMA[c].type == PQ_TYPE_TIMESTAMP_US) {
            assert_int_equal(fld_int(e, 6), 10); /* TIMESTAMP_MICROS */
            json_t *ts = fld(lt, 8);
            assert_true(json_is_true(fld(ts, 1)));           /* isAdjustedToUTC */
            assert_true(json_is_object(fld(fld(ts, 2), 2))); /* MICROS */
        } else {
            assert_null(fld(e, 6));
            assert_null(lt);
        }
    }
    /* column orders: TypeDefinedOrder per leaf */
    json_t *orders = fld(fm, 7);
    assert_int_equal(json_array_size(orders), NCOLS);
    for (size_t i = 0; i < NCOLS; i++)
        assert_true(json_is_object(fld(json_array_get(orders, i), 1)));

    /* row groups: contiguous chunks from offset 4 up to the footer */
    json_t *rgs = fld(fm, 4);
    int expect_rgs = nrows == 0 ? 0 : rg_rows ? (nrows + rg_rows - 1) / rg_rows : 1;
    assert_int_equal(json_array_size(rgs), expect_rgs);
    size_t expect_offset = 4;
    int first_row = 0, pages = 0;
    pq_value *cells = sl_calloc((size_t)nrows + 1, sizeof *cells);
    for (size_t g = 0; g < json_array_size(rgs); g++) {
        json_t *rg = json_array_get(rgs, g);
        int64_t rg_n = fld_int(rg, 3);
        int last_row = first_row + (int)rg_n;
        assert_int_equal(
            rg_n, rg_rows ? (nrows - first_row < rg_rows ? nrows - first_row : rg_rows)
                          : nrows);
        assert_int_equal(fld_int(rg, 5), expect_offset);
        assert_int_equal(fld_int(rg, 7), g);
        json_t *cols = fld(rg, 1);
        assert_int_equal(json_array_size(cols), NCOLS);
        int64_t total = 0;
        for (int c = 0; c < NCOLS; c++) {
            json_t *cc = json_array_get(cols, (size_t)c);
            json_t *m = fld(cc, 3);
            assert_int_equal(fld_int(cc, 2), expect_offset);
            assert_int_equal(fld_int(m, 9), expect_offset);
            assert_int_equal(fld_int(m, 1), phys[c]);
            json_t *enc = fld(m, 2);
            assert_int_equal(json_array_size(enc), 2);
            assert_int_equal(json_integer_value(json_array_get(enc, 0)), 0);
            assert_int_equal(json_integer_value(json_array_get(enc, 1)), 3);
            json_t *path = fld(m, 3);
            assert_int_equal(json_array_size(path), 1);
            assert_string_equal(json_string_value(json_array_get(path, 0)),
                                SCHEMA[c].name);
            assert_int_equal(fld_int(m, 4), 0);
            assert_int_equal(fld_int(m, 5), rg_n);
            assert_int_equal(fld_int(m, 6), fld_int(m, 7));
            total += fld_int(m, 7);
            expect_offset += (size_t)fld_int(m, 7);

            /* page data equals the rows written */
            size_t n = decode_chunk(file, m, &SCHEMA[c], cells, (size_t)nrows, &pages);
            assert_int_equal(n, rg_n);
            for (int r = first_row; r < last_row; r++) {
                pq_value v[NCOLS];
                make_row(r, v);
                if (!cell_equal(SCHEMA[c].type, &v[c], &cells[r - first_row]))
                    fail_msg("column %s row %d differs", SCHEMA[c].name, r);
            }

            /* statistics */
            json_t *st = fld(m, 12);
            pq_value lo, hi;
            int64_t nulls;
            bool have = expected_minmax(c, first_row, last_row, &lo, &hi, &nulls);
            assert_int_equal(fld_int(st, 3), nulls);
            if (!have) {
                assert_null(fld(st, 5));
                assert_null(fld(st, 6));
                continue;
            }
            size_t len;
            const char *p = fld_str(st, 6, &len);
            check_stat_bytes(c, p, len, &lo, false);
            p = fld_str(st, 5, &len);
            check_stat_bytes(c, p, len, &hi, true);
            /* legacy min/max only where the legacy order is right */
            if (SCHEMA[c].type == PQ_TYPE_STRING) {
                assert_null(fld(st, 1));
                assert_null(fld(st, 2));
            } else {
                p = fld_str(st, 2, &len);
                check_stat_bytes(c, p, len, &lo, false);
            }
        }
        assert_int_equal(fld_int(rg, 2), total);
        assert_int_equal(fld_int(rg, 6), total);
        first_row = last_row;
    }
    assert_int_equal(first_row, nrows);
    uint32_t flen = rd_le32((const unsigned char *)file->data + file->len - 8);
    assert_int_equal(expect_offset, file->len - 8 - flen);
    free(cells);
    json_decref(fm);
    return pages;
}

static void test_writer_file_structure(void **state)
{
    (void)state;
    pq_file_stats stats = {0};
    sl_buf file = write_table(NROWS, NULL, &stats);
    assert_int_equal(check_file(&file, NROWS, 0), NCOLS); /* one page per chunk */
    assert_int_equal(stats.num_rows, NROWS);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

static void test_writer_pages_and_row_groups(void **state)
{
    (void)state;
    pq_writer_opts opts = {.page_size = 40, .row_group_rows = 13};
    pq_file_stats stats = {0};
    sl_buf file = write_table(NROWS, &opts, &stats);
    int pages = check_file(&file, NROWS, 13);
    assert_true(pages > 4 * NCOLS); /* small pages: several per chunk */
    /* Delta statistics cover the whole file, not the last row group */
    json_t *mins = json_object_get(stats.delta_stats, "minValues");
    json_t *maxs = json_object_get(stats.delta_stats, "maxValues");
    assert_true(json_integer_value(json_object_get(mins, "id")) == INT64_MIN);
    assert_true(json_integer_value(json_object_get(maxs, "id")) == INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(stats.delta_stats, "numRecords")),
                     NROWS);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

static void test_writer_empty_file(void **state)
{
    (void)state;
    pq_file_stats stats = {0};
    sl_buf file = write_table(0, NULL, &stats);
    check_file(&file, 0, 0);
    assert_int_equal(json_integer_value(json_object_get(stats.delta_stats, "numRecords")),
                     0);
    assert_int_equal(json_object_size(json_object_get(stats.delta_stats, "minValues")),
                     0);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

/* ------------------------------------------------------------------ */
/* Delta statistics                                                    */

static void test_delta_stats(void **state)
{
    (void)state;
    pq_file_stats stats = {0};
    sl_buf file = write_table(NROWS, NULL, &stats);
    json_t *s = stats.delta_stats;
    json_t *mins = json_object_get(s, "minValues");
    json_t *maxs = json_object_get(s, "maxValues");
    json_t *nulls = json_object_get(s, "nullCount");
    assert_int_equal(json_integer_value(json_object_get(s, "numRecords")), NROWS);
    assert_int_equal(json_object_size(s), 4);

    assert_true(json_integer_value(json_object_get(mins, "id")) == INT64_MIN);
    assert_true(json_integer_value(json_object_get(maxs, "id")) == INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(mins, "qty")), INT32_MIN);
    assert_int_equal(json_integer_value(json_object_get(maxs, "qty")), INT32_MAX);
    /* NaN is left out: bounds are the real extremes */
    assert_true(json_real_value(json_object_get(mins, "amount")) == -2.25);
    assert_true(json_real_value(json_object_get(maxs, "amount")) == 1e300);
    assert_string_equal(json_string_value(json_object_get(mins, "ts")),
                        "0001-01-01T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(maxs, "ts")),
                        "9999-12-31T23:59:59.999Z");
    assert_string_equal(json_string_value(json_object_get(mins, "name")), "");
    assert_string_equal(
        json_string_value(json_object_get(maxs, "name")),
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x9c\x93 \xf0\x9f\x98\x80");
    /* booleans get no bounds in Delta; an all-null column neither */
    assert_null(json_object_get(mins, "ok"));
    assert_null(json_object_get(maxs, "flag"));
    assert_null(json_object_get(mins, "always_null"));

    int64_t want_nulls[NCOLS] = {0};
    for (int i = 0; i < NROWS; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        for (int c = 0; c < NCOLS; c++)
            want_nulls[c] += v[c].is_null;
    }
    assert_int_equal(json_object_size(nulls), NCOLS);
    for (int c = 0; c < NCOLS; c++)
        assert_int_equal(json_integer_value(json_object_get(nulls, SCHEMA[c].name)),
                         want_nulls[c]);
    assert_int_equal(want_nulls[C_EMPTY], NROWS);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

static void check_trunc(bool is_max, const char *in, const char *want)
{
    size_t n = 0;
    char *got = is_max ? pq_delta_string_max(in, strlen(in), 6, &n)
                       : pq_delta_string_min(in, strlen(in), 6, &n);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
    free(got);
}

#define MAXCP "\xf4\x8f\xbf\xbf" /* U+10FFFF */
#define EMOJI "\xf0\x9f\x98\x80" /* U+1F600: two UTF-16 units */
#define EACUTE "\xc3\xa9"

static void test_delta_string_truncation(void **state)
{
    (void)state;
    /* prefix length 6 (Delta uses 32; the rule is the same) */
    check_trunc(false, "abcdef", "abcdef");
    check_trunc(true, "abcdef", "abcdef");
    check_trunc(false, "abcdefgh", "abcdef");
    check_trunc(true, "abcdefgh", "abcdef\x7f");            /* ASCII tie-breaker */
    check_trunc(true, "abcdef" EACUTE "x", "abcdef" MAXCP); /* cut char >= DEL */
    check_trunc(false, EACUTE EACUTE EACUTE EACUTE EACUTE EACUTE EACUTE,
                EACUTE EACUTE EACUTE EACUTE EACUTE EACUTE);
    /* a surrogate pair straddling the limit is kept whole (7 units) */
    check_trunc(false, "abcde" EMOJI "zz", "abcde" EMOJI);
    check_trunc(true, "abcde" EMOJI "zz", "abcde" EMOJI "\x7f");
    /* U+10FFFF cannot be exceeded: keep it and look further */
    check_trunc(true, "abcdef" MAXCP, "abcdef" MAXCP);
    check_trunc(true, "abcdef" MAXCP "a", "abcdef" MAXCP "\x7f");
    check_trunc(true, "abcdef" MAXCP EACUTE, "abcdef" MAXCP MAXCP);
    check_trunc(true, "abcdef" MAXCP MAXCP MAXCP MAXCP "a", NULL); /* past 2x prefix */
    /* invalid UTF-8 gives no bound */
    check_trunc(false, "ab\xff", NULL);
    check_trunc(true, "ab\xc3", NULL);
    check_trunc(false, "\xed\xa0\x80", NULL); /* encoded surrogate */

    /* through the writer at Delta's 32 */
    pq_schema_col col = {"s", PQ_TYPE_STRING, true};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(&col, 1, NULL, &err);
    const char *vals[] = {"0123456789012345678901234567890123456789", "bad \xff utf8",
                          "0000"};
    for (int i = 0; i < 3; i++) {
        pq_value v = pq_val_str(vals[i]);
        assert_int_equal(pq_writer_add_row(w, &v, &err), SL_OK);
    }
    sl_buf file = {0};
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    /* max is the invalid string: no Delta max; min is "0000" */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "s")),
                        "0000");
    assert_null(json_object_get(json_object_get(st.delta_stats, "maxValues"), "s"));
    char *dump = json_dumps(st.delta_stats, 0);
    assert_non_null(dump); /* always serialisable */
    free(dump);
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);

    w = pq_writer_new(&col, 1, NULL, &err);
    pq_value v = pq_val_str(vals[0]);
    assert_int_equal(pq_writer_add_row(w, &v, &err), SL_OK);
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "s")),
                        "01234567890123456789012345678901");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "maxValues"), "s")),
                        "01234567890123456789012345678901\x7f");
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);
}

static void test_double_edge_stats(void **state)
{
    (void)state;
    pq_schema_col col = {"d", PQ_TYPE_DOUBLE, true};
    sl_err err = {0};

    /* only NaN and null: no bounds anywhere */
    pq_writer *w = pq_writer_new(&col, 1, NULL, &err);
    pq_value vals[] = {pq_val_f64(NAN), pq_val_null(), pq_val_f64(NAN)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pq_writer_add_row(w, &vals[i], &err), SL_OK);
    sl_buf file = {0};
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    json_t *fm = read_footer(&file);
    json_t *stat =
        fld(fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), 0), 3), 12);
    assert_int_equal(fld_int(stat, 3), 1);
    assert_null(fld(stat, 5));
    assert_null(fld(stat, 6));
    assert_null(json_object_get(json_object_get(st.delta_stats, "minValues"), "d"));
    json_decref(fm);
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);

    /* infinities: Parquet keeps them, JSON cannot */
    w = pq_writer_new(&col, 1, NULL, &err);
    pq_value inf[] = {pq_val_f64(-INFINITY), pq_val_f64(2.0), pq_val_f64(INFINITY)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pq_writer_add_row(w, &inf[i], &err), SL_OK);
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    fm = read_footer(&file);
    stat = fld(fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), 0), 3), 12);
    size_t len;
    const char *p = fld_str(stat, 6, &len);
    uint64_t bits = rd_le64((const unsigned char *)p);
    double d;
    memcpy(&d, &bits, sizeof d);
    assert_true(isinf(d) && d < 0);
    assert_null(json_object_get(json_object_get(st.delta_stats, "minValues"), "d"));
    assert_null(json_object_get(json_object_get(st.delta_stats, "maxValues"), "d"));
    char *dump = json_dumps(st.delta_stats, 0);
    assert_non_null(dump);
    free(dump);
    json_decref(fm);
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);

    /* zero bounds: a min of +0.0 is written as -0.0, a max of -0.0 as +0.0 */
    static const double sets[2][2] = {{0.0, 1.0}, {-0.0, -1.0}};
    for (int k = 0; k < 2; k++) {
        w = pq_writer_new(&col, 1, NULL, &err);
        for (int i = 0; i < 2; i++) {
            pq_value v = pq_val_f64(sets[k][i]);
            assert_int_equal(pq_writer_add_row(w, &v, &err), SL_OK);
        }
        assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
        fm = read_footer(&file);
        stat = fld(fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), 0), 3), 12);
        p = fld_str(stat, k == 0 ? 6 : 5, &len);
        assert_int_equal(len, 8);
        bits = rd_le64((const unsigned char *)p);
        memcpy(&d, &bits, sizeof d);
        assert_true(d == 0.0);
        assert_int_equal(signbit(d) != 0, k == 0);
        json_decref(fm);
        buf_free(&file);
        pq_writer_free(w);
    }
}

static void test_timestamp_iso_floor(void **state)
{
    (void)state;
    pq_schema_col col = {"t", PQ_TYPE_TIMESTAMP_US, false};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(&col, 1, NULL, &err);
    pq_value vals[] = {pq_val_ts_us(-1), pq_val_ts_us(1767225600999999LL)};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pq_writer_add_row(w, &vals[i], &err), SL_OK);
    sl_buf file = {0};
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "t")),
                        "1969-12-31T23:59:59.999Z");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "maxValues"), "t")),
                        "2026-01-01T00:00:00.999Z");
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */

static void test_writer_refusals(void **state)
{
    (void)state;
    sl_err err = {0};
    assert_null(pq_writer_new(SCHEMA, 0, NULL, &err));
    assert_int_equal(err.code, SL_PARQUET_SCHEMA);
    pq_schema_col dup[] = {{"a", PQ_TYPE_INT32, false}, {"a", PQ_TYPE_INT64, false}};
    assert_null(pq_writer_new(dup, 2, NULL, &err));
    assert_int_equal(err.code, SL_PARQUET_SCHEMA);
    assert_non_null(strstr(err.msg, "'a'"));
    pq_schema_col unnamed[] = {{"", PQ_TYPE_INT32, false}};
    assert_null(pq_writer_new(unnamed, 1, NULL, &err));
    assert_int_equal(err.code, SL_PARQUET_SCHEMA);
    pq_schema_col badtype[] = {{"x", (pq_type)99, false}};
    assert_null(pq_writer_new(badtype, 1, NULL, &err));
    assert_int_equal(err.code, SL_PARQUET_SCHEMA);

    /* a refused row leaves the writer as it was */
    pq_writer *w = pq_writer_new(SCHEMA, NCOLS, NULL, &err);
    pq_value v[NCOLS];
    for (int i = 0; i < 3; i++) {
        make_row(i, v);
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    make_row(3, v);
    v[C_FLAG] = pq_val_null();
    assert_int_equal(pq_writer_add_row(w, v, &err), SL_PARQUET_VALUE);
    assert_non_null(strstr(err.msg, "'flag'"));
    assert_non_null(strstr(err.msg, "row 4"));
    make_row(3, v);
    v[C_NAME] = pq_val_strn(NULL, 5);
    assert_int_equal(pq_writer_add_row(w, v, &err), SL_PARQUET_VALUE);
    assert_int_equal(pq_writer_num_rows(w), 3);
    for (int i = 3; i < 10; i++) {
        make_row(i, v);
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    sl_buf file = {0};
    buf_append_str(&file, "old content is replaced");
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    check_file(&file, 10, 0);
    make_row(0, v);
    assert_int_equal(pq_writer_add_row(w, v, &err), SL_INTERNAL);
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_INTERNAL);
    buf_free(&file);
    pq_writer_free(w);
}

/* ------------------------------------------------------------------ */
/* Independent reader: hyparquet under node                             */

static int have_node(void)
{
    return tu_run("command -v node >/dev/null 2>&1", NULL) == 0;
}

/* Installs tests/npm into <build>/npm once (reinstalls when the package
 * files change); returns the reader script's path, or fails the test. */
static char *npm_reader(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    const char *bin = getenv("SLUICE_BIN");
    assert_non_null(src);
    assert_non_null(bin);
    char *bin_copy = sl_strdup(bin);
    char *npm_dir = sl_asprintf("%s/npm", dirname(bin_copy));
    free(bin_copy);
    char *pkg_path = sl_asprintf("%s/tests/npm/package.json", src);
    char *script_path = sl_asprintf("%s/tests/npm/read_parquet.mjs", src);
    char *pkg = tu_read_file(pkg_path);
    char *script = tu_read_file(script_path);
    assert_non_null(pkg);
    assert_non_null(script);
    char *want_stamp = sl_asprintf("%s\n%s", pkg, script);
    char *stamp_path = sl_asprintf("%s/.sluice-stamp", npm_dir);
    char *stamp = tu_read_file(stamp_path);
    char *reader =
        sl_asprintf("%s/node_modules/sluice-test-readers/read_parquet.mjs", npm_dir);
    struct stat st;
    if (!stamp || strcmp(stamp, want_stamp) != 0 || stat(reader, &st) != 0) {
        char *cmd =
            sl_asprintf("mkdir -p '%s' && npm install --prefix '%s' --install-links "
                        "--no-audit --no-fund --loglevel=error '%s/tests/npm' 1>&2",
                        npm_dir, npm_dir, src);
        int rc = tu_run(cmd, NULL);
        free(cmd);
        if (rc != 0)
            fail_msg("npm install of tests/npm into %s failed (exit %d)", npm_dir, rc);
        assert_int_equal(stat(reader, &st), 0);
        FILE *fp = fopen(stamp_path, "wb");
        assert_non_null(fp);
        fputs(want_stamp, fp);
        fclose(fp);
    }
    free(stamp);
    free(stamp_path);
    free(want_stamp);
    free(pkg);
    free(script);
    free(pkg_path);
    free(script_path);
    free(npm_dir);
    return reader;
}

/* hyparquet's JSON for one cell compared with the value written. */
static void check_js_cell(int c, int row, json_t *got, const pq_value *want)
{
    if (want->is_null) {
        if (!json_is_null(got))
            fail_msg("hyparquet: %s row %d should be null", SCHEMA[c].name, row);
        return;
    }
    char buf[64];
    switch (SCHEMA[c].type) {
    case PQ_TYPE_BOOLEAN:
        assert_true(json_is_boolean(got));
        assert_int_equal(json_is_true(got), want->b);
        break;
    case PQ_TYPE_INT32:
        assert_true(json_is_integer(got));
        assert_int_equal(json_integer_value(got), want->i32);
        break;
    case PQ_TYPE_INT64:
        snprintf(buf, sizeof buf, "%lld", (long long)want->i64);
        assert_string_equal(json_string_value(got), buf);
        break;
    case PQ_TYPE_TIMESTAMP_US:
        snprintf(buf, sizeof buf, "%lld", (long long)want->i64);
        assert_string_equal(json_string_value(json_object_get(got, "micros")), buf);
        break;
    case PQ_TYPE_DOUBLE:
        if (isnan(want->f64))
            assert_string_equal(json_string_value(got), "NaN");
        else if (want->f64 == 0.0 && signbit(want->f64))
            assert_string_equal(json_string_value(got), "-0");
        else if (!json_is_number(got) || json_number_value(got) != want->f64)
            fail_msg("hyparquet: %s row %d: %g expected", SCHEMA[c].name, row, want->f64);
        break;
    case PQ_TYPE_STRING:
        assert_true(json_is_string(got));
        assert_int_equal(json_string_length(got), want->str.len);
        assert_memory_equal(json_string_value(got), want->str.ptr, want->str.len);
        break;
    }
}

static void test_independent_reader(void **state)
{
    (void)state;
    if (!have_node()) {
        printf("SKIP: node is not installed; the hyparquet cross-check is skipped\n");
        return;
    }
    char *reader = npm_reader();
    char *dir = tu_mkdtemp("pqw");
    pq_writer_opts opts = {.page_size = 100, .row_group_rows = 20};
    for (int pass = 0; pass < 2; pass++) {
        sl_buf file = write_table(NROWS, pass ? &opts : NULL, NULL);
        char *path = sl_asprintf("%s/t%d.parquet", dir, pass);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(file.data, 1, file.len, fp), file.len);
        fclose(fp);
        buf_free(&file);

        char *cmd = sl_asprintf("node '%s' '%s'", reader, path);
        char *out = NULL;
        assert_int_equal(tu_run(cmd, &out), 0);
        free(cmd);
        int row = 0;
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), row++) {
            json_error_t jerr;
            json_t *o = json_loads(line, 0, &jerr);
            if (!o)
                fail_msg("hyparquet output line %d is not JSON: %s", row + 1, jerr.text);
            assert_true(row < NROWS);
            pq_value v[NCOLS];
            make_row(row, v);
            assert_int_equal(json_object_size(o), NCOLS);
            for (int c = 0; c < NCOLS; c++)
                check_js_cell(c, row, json_object_get(o, SCHEMA[c].name), &v[c]);
            json_decref(o);
        }
        assert_int_equal(row, NROWS);
        free(out);

        /* the footer as hyparquet understands it */
        cmd = sl_asprintf("node '%s' --meta '%s'", reader, path);
        assert_int_equal(tu_run(cmd, &out), 0);
        free(cmd);
        json_t *meta = json_loads(out, 0, NULL);
        assert_non_null(meta);
        char want_cb[128];
        snprintf(want_cb, sizeof want_cb, "sluice version %s (build %s)", SLUICE_VERSION,
                 SLUICE_BUILD_ID);
        assert_string_equal(json_string_value(json_object_get(meta, "created_by")),
                            want_cb);
        assert_string_equal(json_string_value(json_object_get(meta, "num_rows")), "45");
        json_t *schema = json_object_get(meta, "schema");
        json_t *ts = json_object_get(json_array_get(schema, C_TS + 1), "logical_type");
        assert_string_equal(json_string_value(json_object_get(ts, "type")), "TIMESTAMP");
        assert_string_equal(json_string_value(json_object_get(ts, "unit")), "MICROS");
        assert_true(json_is_true(json_object_get(ts, "isAdjustedToUTC")));
        json_t *rg0 = json_array_get(json_object_get(meta, "row_groups"), 0);
        json_t *qty = json_object_get(
            json_object_get(json_array_get(json_object_get(rg0, "columns"), C_QTY),
                            "meta_data"),
            "statistics");
        pq_value lo, hi;
        int64_t nulls;
        expected_minmax(C_QTY, 0, pass ? 20 : NROWS, &lo, &hi, &nulls);
        assert_int_equal(json_integer_value(json_object_get(qty, "min_value")), lo.i32);
        assert_int_equal(json_integer_value(json_object_get(qty, "max_value")), hi.i32);
        char want_nulls[32];
        snprintf(want_nulls, sizeof want_nulls, "%lld", (long long)nulls);
        assert_string_equal(json_string_value(json_object_get(qty, "null_count")),
                            want_nulls);
        json_decref(meta);
        free(out);
        free(path);
    }
    tu_rmtree(dir);
    free(dir);
    free(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_varint_zigzag),
        cmocka_unit_test(test_thrift_struct_bytes),
        cmocka_unit_test(test_thrift_long_list),
        cmocka_unit_test(test_rle_hybrid),
        cmocka_unit_test(test_writer_file_structure),
        cmocka_unit_test(test_writer_pages_and_row_groups),
        cmocka_unit_test(test_writer_empty_file),
        cmocka_unit_test(test_delta_stats),
        cmocka_unit_test(test_delta_string_truncation),
        cmocka_unit_test(test_double_edge_stats),
        cmocka_unit_test(test_timestamp_iso_floor),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_independent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
