/* The Parquet writer: Thrift compact encoding byte for byte, the RLE hybrid,
 * the file structure and footer decoded back by a small test-only reader
 * (dictionary pages, every codec), the page data against the rows written,
 * dictionary choice and fallback, page and row group bounds, statistics
 * rules, decimal encodings, Delta statistics, streaming to a sink, and (when
 * node is present) the rows as an independent reader (hyparquet) sees them.
 * tests/unit/test_parquet_interop.c reads every type back with DuckDB,
 * arrow-rs and our own reader. */
#include "testutil.h"

#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend/parquet/pq_codec.h"
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
    /* 32-bit values, and noise longer than one bit-packed run (63 groups) */
    static uint32_t noise[2000], back2[2000];
    for (int i = 0; i < 2000; i++)
        noise[i] = (uint32_t)i * 2654435761u;
    sl_buf e = {0};
    pq_rle_encode_u32(&e, noise, 2000, 32);
    assert_int_equal(rle_decode((unsigned char *)e.data, e.len, 32, back2, 2000), 2000);
    assert_memory_equal(noise, back2, sizeof noise);
    /* every run header is at most 63 groups: (63 << 1) | 1 */
    assert_int_equal((unsigned char)e.data[0], 127);
    buf_free(&e);
}

/* ------------------------------------------------------------------ */
/* A test-only column chunk reader: dictionary and data pages, every   */
/* codec, PLAIN and RLE_DICTIONARY, checking sizes and metadata.       */

/* How a column's values sit in pages. */
typedef enum tkind { T_BOOL, T_I32, T_I64, T_F32, T_F64, T_BYTES, T_FLBA } tkind;

static tkind kind_of(pq_type t)
{
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        return T_BOOL;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return T_I32;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return T_I64;
    case PQ_TYPE_FLOAT:
        return T_F32;
    case PQ_TYPE_DOUBLE:
        return T_F64;
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY:
        return T_BYTES;
    case PQ_TYPE_DECIMAL:
        return pq_type_precision(t) <= 9    ? T_I32
               : pq_type_precision(t) <= 18 ? T_I64
                                            : T_FLBA;
    }
    return T_BOOL;
}

static int phys_of(pq_type t)
{
    static const int phys[] = {[T_BOOL] = 0, [T_I32] = 1,   [T_I64] = 2, [T_F32] = 4,
                               [T_F64] = 5,  [T_BYTES] = 6, [T_FLBA] = 7};
    return phys[kind_of(t)];
}

/* Spark's table of the fewest bytes per decimal precision. */
static int flba_len(int p)
{
    static const int len[39] = {0,  1,  1,  2,  2,  3,  3,  4,  4,  4,  5,  5,  6,
                                6,  6,  7,  7,  8,  8,  9,  9,  9,  10, 10, 11, 11,
                                11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16};
    return len[p];
}

static pq_int128 i128(int64_t v)
{
    return (pq_int128){(uint64_t)v, v < 0 ? -1 : 0};
}

/* Cells as the writer's caller gives them, in the test's terms. */
static bool cell_equal(pq_type t, const pq_value *a, const pq_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null == b->is_null;
    if (pq_type_base(t) == PQ_TYPE_DECIMAL)
        return a->dec.lo == b->dec.lo && a->dec.hi == b->dec.hi;
    switch (kind_of(t)) {
    case T_BOOL:
        return a->b == b->b;
    case T_I32:
        return a->i32 == b->i32;
    case T_I64:
        return a->i64 == b->i64;
    case T_F32:
        return memcmp(&a->f32, &b->f32, sizeof(float)) == 0;
    case T_F64:
        return memcmp(&a->f64, &b->f64, sizeof(double)) == 0;
    case T_BYTES:
        return a->str.len == b->str.len &&
               (a->str.len == 0 || memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0);
    case T_FLBA:
        return false;
    }
    return false;
}

/* One PLAIN value at *p (booleans: bit *bit); decimals become pq_int128. */
static pq_value plain_value(pq_type t, const unsigned char **p, const unsigned char *end,
                            size_t *bit)
{
    pq_value c;
    memset(&c, 0, sizeof c);
    bool dec = pq_type_base(t) == PQ_TYPE_DECIMAL;
    switch (kind_of(t)) {
    case T_BOOL:
        c.b = (*p)[*bit / 8] >> (*bit % 8) & 1;
        (*bit)++;
        return c;
    case T_I32:
        assert_true(end - *p >= 4);
        c.i32 = (int32_t)rd_le32(*p);
        if (dec)
            c.dec = i128(c.i32);
        *p += 4;
        return c;
    case T_I64:
        assert_true(end - *p >= 8);
        c.i64 = (int64_t)rd_le64(*p);
        if (dec)
            c.dec = i128(c.i64);
        *p += 8;
        return c;
    case T_F32: {
        assert_true(end - *p >= 4);
        uint32_t bits = rd_le32(*p);
        memcpy(&c.f32, &bits, 4);
        *p += 4;
        return c;
    }
    case T_F64: {
        assert_true(end - *p >= 8);
        uint64_t bits = rd_le64(*p);
        memcpy(&c.f64, &bits, 8);
        *p += 8;
        return c;
    }
    case T_BYTES:
        assert_true(end - *p >= 4);
        c.str.len = rd_le32(*p);
        assert_true((size_t)(end - *p) >= 4 + c.str.len);
        c.str.ptr = (const char *)*p + 4;
        *p += 4 + c.str.len;
        return c;
    case T_FLBA: {
        /* big-endian two's complement, sign-extended to 128 bits */
        int n = flba_len(pq_type_precision(t));
        assert_true(end - *p >= n);
        unsigned char be[16];
        memset(be, (*p)[0] & 0x80 ? 0xff : 0, 16);
        memcpy(be + 16 - n, *p, (size_t)n);
        uint64_t hi = 0, lo = 0;
        for (int k = 0; k < 8; k++) {
            hi = hi << 8 | be[k];
            lo = lo << 8 | be[8 + k];
        }
        c.dec.hi = (int64_t)hi;
        c.dec.lo = lo;
        *p += n;
        return c;
    }
    }
    return c;
}

/* What a chunk held, besides its values. */
typedef struct chunk_seen {
    int dict_pages, plain_pages, dict_data_pages;
    int dict_entries;
    int64_t max_page_rows;
    size_t max_plain_values; /* bytes of PLAIN values in one page */
    size_t dict_bytes;       /* the dictionary page body */
} chunk_seen;

/* Decodes a column chunk into cells (byte arrays point into *keep, which
 * the caller frees) and checks its page headers, sizes and metadata. */
static size_t decode_chunk(const sl_buf *file, json_t *cc, const pq_schema_col *col,
                           pq_value *cells, size_t max_cells, chunk_seen *seen,
                           sl_buf *keep)
{
    json_t *meta = fld(cc, 3);
    const unsigned char *f = (const unsigned char *)file->data;
    int codec = (int)fld_int(meta, 4);
    int64_t dict_off = fld(meta, 11) ? fld_int(meta, 11) : 0;
    int64_t data_off = fld_int(meta, 9);
    size_t start = (size_t)(dict_off ? dict_off : data_off);
    assert_int_equal(fld_int(cc, 2), start);
    size_t pos = start, end = start + (size_t)fld_int(meta, 7);
    assert_true(end <= file->len);
    /* keep holds every decompressed page; cells point into it by offset */
    size_t count = 0, ndict = 0;
    size_t *dict_at = NULL;
    int64_t total_unc = 0, total_comp = 0;
    memset(seen, 0, sizeof *seen);
    typedef struct {
        size_t cell;
        size_t off;
    } fixup;
    fixup *fix = sl_calloc(max_cells + 1, sizeof *fix);
    size_t nfix = 0;
    tkind k = kind_of(col->type);
    while (pos < end) {
        size_t used;
        json_t *ph = decode_struct(f + pos, end - pos, &used);
        int type = (int)fld_int(ph, 1);
        int64_t usize = fld_int(ph, 2), csize = fld_int(ph, 3);
        assert_true(pos + used + (size_t)csize <= end);
        total_unc += (int64_t)used + usize;
        total_comp += (int64_t)used + csize;
        if (type == 2)
            assert_int_equal(pos, (size_t)dict_off);
        else if (seen->plain_pages + seen->dict_data_pages == 0)
            assert_int_equal(pos, (size_t)data_off);
        pos += used;
        /* the body, decompressed, at keep[base..] */
        size_t base = keep->len;
        if (codec == 0) {
            assert_int_equal(usize, csize);
            buf_append(keep, f + pos, (size_t)csize);
        } else {
            buf_reserve(keep, (size_t)usize + 1);
            sl_err err = {0};
            if (pq_codec_decompress((pq_codec)codec, f + pos, (size_t)csize,
                                    (uint8_t *)keep->data + base, (size_t)usize,
                                    &err) != SL_OK)
                fail_msg("page of %s: %s", col->name, err.msg);
            keep->len += (size_t)usize;
        }
        pos += (size_t)csize;
        const unsigned char *body = (const unsigned char *)keep->data + base;
        const unsigned char *body_end = body + usize;
        if (type == 2) {
            assert_int_equal(seen->dict_pages, 0);
            assert_int_equal(seen->plain_pages + seen->dict_data_pages, 0);
            seen->dict_pages++;
            json_t *dh = fld(ph, 7);
            ndict = (size_t)fld_int(dh, 1);
            assert_int_equal(fld_int(dh, 2), 0); /* PLAIN */
            seen->dict_entries = (int)ndict;
            seen->dict_bytes = (size_t)usize;
            dict_at = sl_calloc(ndict + 1, sizeof *dict_at);
            const unsigned char *p = body;
            for (size_t i = 0; i < ndict; i++) {
                dict_at[i] = (size_t)(p - (const unsigned char *)keep->data);
                size_t bit = 0;
                plain_value(col->type, &p, body_end, &bit);
            }
            assert_ptr_equal(p, body_end);
            json_decref(ph);
            continue;
        }
        assert_int_equal(type, 0); /* DATA_PAGE */
        json_t *dp = fld(ph, 5);
        size_t nvals = (size_t)fld_int(dp, 1);
        int enc = (int)fld_int(dp, 2);
        assert_int_equal(fld_int(dp, 3), 3); /* RLE */
        assert_int_equal(fld_int(dp, 4), 3);
        json_decref(ph);
        if ((int64_t)nvals > seen->max_page_rows)
            seen->max_page_rows = (int64_t)nvals;
        assert_true(count + nvals <= max_cells);
        uint32_t *levels = sl_calloc(nvals + 8, sizeof *levels);
        size_t nonnull = nvals;
        if (col->nullable) {
            uint32_t llen = rd_le32(body);
            body += 4;
            assert_int_equal(rle_decode(body, llen, 1, levels, nvals), nvals);
            body += llen;
            nonnull = 0;
            for (size_t i = 0; i < nvals; i++)
                nonnull += levels[i];
        } else {
            for (size_t i = 0; i < nvals; i++)
                levels[i] = 1;
        }
        uint32_t *idx = NULL;
        if (enc == 8) { /* RLE_DICTIONARY */
            assert_non_null(dict_at);
            seen->dict_data_pages++;
            int bw = *body++;
            assert_true(bw >= 1 && bw <= 32);
            idx = sl_calloc(nonnull + 8, sizeof *idx);
            assert_int_equal(
                rle_decode(body, (size_t)(body_end - body), bw, idx, nonnull), nonnull);
            body = body_end;
        } else {
            assert_int_equal(enc, 0); /* PLAIN */
            seen->plain_pages++;
            if ((size_t)(body_end - body) > seen->max_plain_values)
                seen->max_plain_values = (size_t)(body_end - body);
        }
        size_t bit = 0, vi = 0;
        for (size_t i = 0; i < nvals; i++) {
            pq_value *c = &cells[count];
            memset(c, 0, sizeof *c);
            if (!levels[i]) {
                c->is_null = true;
                count++;
                continue;
            }
            if (idx) {
                assert_true(idx[vi] < ndict);
                const unsigned char *p =
                    (const unsigned char *)keep->data + dict_at[idx[vi]];
                size_t b0 = 0;
                *c = plain_value(col->type, &p,
                                 (const unsigned char *)keep->data + keep->len, &b0);
                vi++;
            } else {
                *c = plain_value(col->type, &body, body_end, &bit);
            }
            if (k == T_BYTES) { /* re-point after keep grows */
                fix[nfix].cell = count;
                fix[nfix].off = (size_t)((const unsigned char *)c->str.ptr -
                                         (const unsigned char *)keep->data);
                nfix++;
            }
            count++;
        }
        if (!idx) {
            if (k == T_BOOL)
                body += (bit + 7) / 8;
            assert_ptr_equal(body, body_end); /* the page holds exactly its values */
        }
        free(idx);
        free(levels);
    }
    assert_int_equal(pos, end);
    assert_int_equal(total_unc, fld_int(meta, 6));
    assert_int_equal(total_comp, fld_int(meta, 7));
    for (size_t i = 0; i < nfix; i++)
        cells[fix[i].cell].str.ptr = keep->data + fix[i].off;
    free(fix);
    free(dict_at);

    /* encodings: PLAIN (dictionary page or PLAIN data), RLE (levels),
     * RLE_DICTIONARY; encoding_stats counting the pages */
    int want_enc[3], ne = 0;
    if (seen->dict_pages || seen->plain_pages)
        want_enc[ne++] = 0;
    if (col->nullable)
        want_enc[ne++] = 3;
    if (seen->dict_data_pages)
        want_enc[ne++] = 8;
    json_t *encs = fld(meta, 2);
    assert_int_equal(json_array_size(encs), ne);
    for (int i = 0; i < ne; i++)
        assert_int_equal(json_integer_value(json_array_get(encs, (size_t)i)),
                         want_enc[i]);
    assert_int_equal(dict_off != 0, seen->dict_pages == 1);
    assert_int_equal(seen->dict_pages, seen->dict_data_pages > 0);
    json_t *es = fld(meta, 13);
    int want_es[3][3], nes = 0;
    if (seen->dict_pages)
        memcpy(want_es[nes++], (int[3]){2, 0, 1}, sizeof want_es[0]);
    if (seen->plain_pages)
        memcpy(want_es[nes++], (int[3]){0, 0, seen->plain_pages}, sizeof want_es[0]);
    if (seen->dict_data_pages)
        memcpy(want_es[nes++], (int[3]){0, 8, seen->dict_data_pages}, sizeof want_es[0]);
    assert_int_equal(json_array_size(es), nes);
    for (int i = 0; i < nes; i++)
        for (int j = 0; j < 3; j++)
            assert_int_equal(fld_int(json_array_get(es, (size_t)i), j + 1),
                             want_es[i][j]);
    return count;
}

/* Every cell of column col over all row groups (byte arrays point into
 * *keep); *seen_all sums the chunks' pages. */
static pq_value *read_column(const sl_buf *file, json_t *fm, size_t col,
                             const pq_schema_col *sc, size_t nrows, sl_buf *keep,
                             chunk_seen *seen_all)
{
    pq_value *cells = sl_calloc(nrows + 1, sizeof *cells);
    json_t *rgs = fld(fm, 4);
    size_t at = 0;
    memset(seen_all, 0, sizeof *seen_all);
    for (size_t g = 0; g < json_array_size(rgs); g++) {
        json_t *cc = json_array_get(fld(json_array_get(rgs, g), 1), col);
        chunk_seen s;
        at += decode_chunk(file, cc, sc, cells + at, nrows - at, &s, keep);
        seen_all->dict_pages += s.dict_pages;
        seen_all->plain_pages += s.plain_pages;
        seen_all->dict_data_pages += s.dict_data_pages;
        if (s.dict_entries > seen_all->dict_entries)
            seen_all->dict_entries = s.dict_entries;
        if (s.dict_bytes > seen_all->dict_bytes)
            seen_all->dict_bytes = s.dict_bytes;
        if (s.max_page_rows > seen_all->max_page_rows)
            seen_all->max_page_rows = s.max_page_rows;
        if (s.max_plain_values > seen_all->max_plain_values)
            seen_all->max_plain_values = s.max_plain_values;
    }
    assert_int_equal(at, nrows);
    return cells;
}

/* ------------------------------------------------------------------ */
/* A table of every supported type with nulls and edge values          */

enum {
    C_ID,
    C_QTY,
    C_AMOUNT,
    C_OK,
    C_NAME,
    C_TS,
    C_FLAG,
    C_EMPTY,
    C_F32,
    C_BIN,
    C_DAY,
    C_NTZ,
    C_D9,
    C_D18,
    C_D38,
    C_STATUS,
    NCOLS
};
/* The columns hyparquet reads back (its decimals are lossy JS numbers). */
#define NCOLS_HYPARQUET 8

static const pq_schema_col SCHEMA[NCOLS] = {
    {"id", PQ_TYPE_INT64, false},
    {"qty", PQ_TYPE_INT32, true},
    {"amount", PQ_TYPE_DOUBLE, true},
    {"ok", PQ_TYPE_BOOLEAN, true},
    {"name", PQ_TYPE_STRING, true},
    {"ts", PQ_TYPE_TIMESTAMP_US, true},
    {"flag", PQ_TYPE_BOOLEAN, false},
    {"always_null", PQ_TYPE_STRING, true},
    {"f32", PQ_TYPE_FLOAT, true},
    {"bin", PQ_TYPE_BINARY, true},
    {"day", PQ_TYPE_DATE, true},
    {"ntz", PQ_TYPE_TIMESTAMP_NTZ, true},
    {"d9", PQ_TYPE_DECIMAL_OF(9, 2), true},
    {"d18", PQ_TYPE_DECIMAL_OF(18, 3), false},
    {"d38", PQ_TYPE_DECIMAL_OF(38, 5), true},
    {"status", PQ_TYPE_STRING, false},
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

static pq_value dec_parse(const char *s, int p, int sc)
{
    pq_value v;
    sl_err err = {0};
    if (pq_decimal_parse(s, strlen(s), p, sc, &v, &err) != SL_OK)
        fail_msg("%s: %s", s, err.msg);
    return v;
}

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
    static const float f32s[] = {NAN, -0.0f, 3.25f, -INFINITY, 0.1f};
    v[C_F32] =
        i % 6 == 5 ? pq_val_null() : pq_val_f32(i < 5 ? f32s[i] : (float)(i % 7) - 3.0f);
    static const char bins[][3] = {"\x00\x01", "\xff\xfe", "ab"};
    v[C_BIN] = i % 8 == 7 ? pq_val_null() : pq_val_bin(bins[i % 3], i % 4 == 0 ? 0 : 2);
    v[C_DAY] = i % 10 == 9 ? pq_val_null()
                           : pq_val_date(i == 0   ? -719162
                                         : i == 1 ? 2932896
                                                  : i * 100 - 2000);
    v[C_NTZ] =
        i % 11 == 10 ? pq_val_null() : pq_val_ts_us(i < 5 ? ts[4 - i] : -(int64_t)i);
    v[C_D9] = i % 3 == 1 ? pq_val_null()
              : i == 0   ? dec_parse("9999999.99", 9, 2)
              : i == 2   ? dec_parse("-9999999.99", 9, 2)
                         : pq_val_dec(i * 101 - 2000);
    v[C_D18] = i == 0   ? dec_parse("999999999999999.999", 18, 3)
               : i == 1 ? dec_parse("-999999999999999.999", 18, 3)
                        : pq_val_dec((int64_t)i * -1000003);
    v[C_D38] = i % 4 == 2 ? pq_val_null()
               : i == 0   ? dec_parse("999999999999999999999999999999999.99999", 38, 5)
               : i == 1   ? dec_parse("-999999999999999999999999999999999.99999", 38, 5)
               : i == 3
                   ? dec_parse("-0.00001", 38, 5)
                   : pq_val_dec128(i % 2 ? -1 : 0, (uint64_t)i * 0x9E3779B97F4A7C15ULL);
    static const char *const status[] = {"new", "paid", "shipped"};
    v[C_STATUS] = pq_val_str(status[i % 3]);
}

static sl_buf write_table(int nrows, const pq_writer_opts *opts, pq_file_stats *stats)
{
    sl_err err = {0};
    pq_writer *w = pq_writer_new(SCHEMA, NCOLS, opts, &err);
    assert_non_null(w);
    for (int i = 0; i < nrows; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        if (pq_writer_add_row(w, v, &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
    }
    assert_int_equal(pq_writer_num_rows(w), nrows);
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, stats, &err), SL_OK);
    if (stats)
        assert_int_equal(stats->file_size, file.len);
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

/* The statistics order of each type. */
static int stat_cmp(pq_type t, const pq_value *a, const pq_value *b)
{
    if (pq_type_base(t) == PQ_TYPE_DECIMAL) {
        if (a->dec.hi != b->dec.hi)
            return a->dec.hi < b->dec.hi ? -1 : 1;
        return (a->dec.lo > b->dec.lo) - (a->dec.lo < b->dec.lo);
    }
    switch (kind_of(t)) {
    case T_BOOL:
        return (int)a->b - (int)b->b;
    case T_I32:
        return (a->i32 > b->i32) - (a->i32 < b->i32);
    case T_I64:
        return (a->i64 > b->i64) - (a->i64 < b->i64);
    case T_F32:
        return (a->f32 > b->f32) - (a->f32 < b->f32);
    case T_F64:
        return (a->f64 > b->f64) - (a->f64 < b->f64);
    case T_BYTES: {
        size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
        int r = n ? memcmp(a->str.ptr, b->str.ptr, n) : 0; /* unsigned bytes */
        return r ? r : (a->str.len > b->str.len) - (a->str.len < b->str.len);
    }
    case T_FLBA:
        return 0;
    }
    return 0;
}

static bool is_nan(pq_type t, const pq_value *v)
{
    return (pq_type_base(t) == PQ_TYPE_FLOAT && isnan(v->f32)) ||
           (pq_type_base(t) == PQ_TYPE_DOUBLE && isnan(v->f64));
}

/* Expected Parquet statistics of rows [from, to) of one column. */
static bool expected_minmax(int col, int from, int to, pq_value *lo, pq_value *hi,
                            int64_t *nulls)
{
    bool have = false;
    *nulls = 0;
    for (int i = from; i < to; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        if (v[col].is_null) {
            (*nulls)++;
            continue;
        }
        if (is_nan(SCHEMA[col].type, &v[col]))
            continue;
        if (!have || stat_cmp(SCHEMA[col].type, &v[col], lo) < 0)
            *lo = v[col];
        if (!have || stat_cmp(SCHEMA[col].type, &v[col], hi) > 0)
            *hi = v[col];
        have = true;
    }
    return have;
}

/* A statistics value (PLAIN, no length) against the bound expected. */
static void check_stat_value(pq_type t, const char *got, size_t len, const pq_value *want,
                             bool is_max)
{
    const unsigned char *g = (const unsigned char *)got;
    bool dec = pq_type_base(t) == PQ_TYPE_DECIMAL;
    switch (kind_of(t)) {
    case T_BOOL:
        assert_int_equal(len, 1);
        assert_int_equal(g[0], want->b ? 1 : 0);
        break;
    case T_I32:
        assert_int_equal(len, 4);
        assert_true((int32_t)rd_le32(g) == (dec ? (int32_t)want->dec.lo : want->i32));
        break;
    case T_I64:
        assert_int_equal(len, 8);
        assert_true((int64_t)rd_le64(g) == (dec ? (int64_t)want->dec.lo : want->i64));
        break;
    case T_F32: {
        assert_int_equal(len, 4);
        uint32_t bits = rd_le32(g);
        float f;
        memcpy(&f, &bits, 4);
        if (want->f32 == 0.0f) /* zero bounds: -0.0 for min, +0.0 for max */
            assert_int_equal(signbit(f) != 0, !is_max);
        else
            assert_true(f == want->f32);
        break;
    }
    case T_F64: {
        assert_int_equal(len, 8);
        uint64_t bits = rd_le64(g);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (want->f64 == 0.0)
            assert_int_equal(signbit(d) != 0, !is_max);
        else
            assert_true(d == want->f64);
        break;
    }
    case T_BYTES:
        assert_int_equal(len, want->str.len);
        assert_memory_equal(got, want->str.ptr, len);
        break;
    case T_FLBA: {
        assert_int_equal(len, flba_len(pq_type_precision(t)));
        const unsigned char *p = g;
        size_t bit = 0;
        pq_value back = plain_value(t, &p, g + len, &bit);
        assert_true(back.dec.hi == want->dec.hi && back.dec.lo == want->dec.lo);
        break;
    }
    }
}

static bool legacy_stats_expected(pq_type t)
{
    tkind k = kind_of(t);
    return k != T_BYTES && k != T_FLBA; /* their legacy order is not the type's */
}

/* Checks the schema elements against SCHEMA (every annotation). */
static void check_schema(json_t *fm)
{
    json_t *schema = fld(fm, 2);
    assert_int_equal(json_array_size(schema), NCOLS + 1);
    json_t *root = json_array_get(schema, 0);
    assert_string_equal(fld_str(root, 4, NULL), "schema");
    assert_int_equal(fld_int(root, 5), NCOLS);
    assert_null(fld(root, 1));
    for (int c = 0; c < NCOLS; c++) {
        json_t *e = json_array_get(schema, (size_t)c + 1);
        pq_type t = SCHEMA[c].type;
        assert_string_equal(fld_str(e, 4, NULL), SCHEMA[c].name);
        assert_int_equal(fld_int(e, 1), phys_of(t));
        assert_int_equal(fld_int(e, 3), SCHEMA[c].nullable ? 1 : 0);
        assert_null(fld(e, 5));
        json_t *lt = fld(e, 10);
        switch (pq_type_base(t)) {
        case PQ_TYPE_STRING:
            assert_int_equal(fld_int(e, 6), 0);      /* UTF8 */
            assert_true(json_is_object(fld(lt, 1))); /* STRING */
            break;
        case PQ_TYPE_TIMESTAMP_US:
        case PQ_TYPE_TIMESTAMP_NTZ: {
            bool utc = pq_type_base(t) == PQ_TYPE_TIMESTAMP_US;
            if (utc)
                assert_int_equal(fld_int(e, 6), 10); /* TIMESTAMP_MICROS */
            else
                assert_null(fld(e, 6)); /* it would claim UTC */
            json_t *ts = fld(lt, 8);
            assert_int_equal(json_is_true(fld(ts, 1)), utc); /* isAdjustedToUTC */
            assert_true(json_is_boolean(fld(ts, 1)));
            assert_true(json_is_object(fld(fld(ts, 2), 2))); /* MICROS */
            break;
        }
        case PQ_TYPE_DATE:
            assert_int_equal(fld_int(e, 6), 6);
            assert_true(json_is_object(fld(lt, 6)));
            break;
        case PQ_TYPE_DECIMAL: {
            int p = pq_type_precision(t), s = pq_type_scale(t);
            assert_int_equal(fld_int(e, 6), 5);
            assert_int_equal(fld_int(e, 7), s);
            assert_int_equal(fld_int(e, 8), p);
            json_t *d = fld(lt, 5);
            assert_int_equal(fld_int(d, 1), s);
            assert_int_equal(fld_int(d, 2), p);
            if (p > 18)
                assert_int_equal(fld_int(e, 2), flba_len(p));
            else
                assert_null(fld(e, 2));
            break;
        }
        default:
            assert_null(fld(e, 6));
            assert_null(lt);
            assert_null(fld(e, 2));
            break;
        }
    }
}

/* Checks the whole file against rows [0, nrows) written with row groups of
 * rg_rows (0: one) and the given codec. Returns the number of data pages. */
static int check_file(const sl_buf *file, int nrows, int rg_rows, int codec)
{
    json_t *fm = read_footer(file);
    assert_int_equal(fld_int(fm, 1), 1);
    assert_int_equal(fld_int(fm, 3), nrows);
    char want_cb[128];
    snprintf(want_cb, sizeof want_cb, "sluice version %s (build %s)", SLUICE_VERSION,
             SLUICE_BUILD_ID);
    assert_string_equal(fld_str(fm, 6, NULL), want_cb);
    check_schema(fm);
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
        int64_t total_unc = 0, total_comp = 0;
        for (int c = 0; c < NCOLS; c++) {
            json_t *cc = json_array_get(cols, (size_t)c);
            json_t *m = fld(cc, 3);
            assert_int_equal(fld_int(cc, 2), expect_offset);
            assert_int_equal(fld_int(m, 1), phys_of(SCHEMA[c].type));
            json_t *path = fld(m, 3);
            assert_int_equal(json_array_size(path), 1);
            assert_string_equal(json_string_value(json_array_get(path, 0)),
                                SCHEMA[c].name);
            assert_int_equal(fld_int(m, 4), codec);
            assert_int_equal(fld_int(m, 5), rg_n);
            total_unc += fld_int(m, 6);
            total_comp += fld_int(m, 7);
            expect_offset += (size_t)fld_int(m, 7);

            /* page data equals the rows written */
            sl_buf keep = {0};
            chunk_seen seen;
            size_t n =
                decode_chunk(file, cc, &SCHEMA[c], cells, (size_t)nrows, &seen, &keep);
            pages += seen.plain_pages + seen.dict_data_pages;
            assert_int_equal(n, rg_n);
            for (int r = first_row; r < last_row; r++) {
                pq_value v[NCOLS];
                make_row(r, v);
                if (!cell_equal(SCHEMA[c].type, &v[c], &cells[r - first_row]))
                    fail_msg("column %s row %d differs", SCHEMA[c].name, r);
            }
            buf_free(&keep);

            /* statistics */
            json_t *st = fld(m, 12);
            pq_value lo, hi;
            int64_t nulls;
            bool have = expected_minmax(c, first_row, last_row, &lo, &hi, &nulls);
            assert_int_equal(fld_int(st, 3), nulls);
            if (!have) {
                for (int id = 1; id <= 6; id++)
                    if (id != 3)
                        assert_null(fld(st, id));
                continue;
            }
            size_t len;
            const char *p = fld_str(st, 6, &len);
            check_stat_value(SCHEMA[c].type, p, len, &lo, false);
            p = fld_str(st, 5, &len);
            check_stat_value(SCHEMA[c].type, p, len, &hi, true);
            /* legacy min/max only where the legacy order is right */
            if (!legacy_stats_expected(SCHEMA[c].type)) {
                assert_null(fld(st, 1));
                assert_null(fld(st, 2));
            } else {
                p = fld_str(st, 2, &len);
                check_stat_value(SCHEMA[c].type, p, len, &lo, false);
                p = fld_str(st, 1, &len);
                check_stat_value(SCHEMA[c].type, p, len, &hi, true);
            }
        }
        assert_int_equal(fld_int(rg, 2), total_unc);
        assert_int_equal(fld_int(rg, 6), total_comp);
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
    /* defaults: snappy, one page per chunk */
    assert_int_equal(check_file(&file, NROWS, 0, PQ_CODEC_SNAPPY), NCOLS);
    assert_int_equal(stats.num_rows, NROWS);
    /* the low-cardinality column went through a dictionary, booleans never */
    json_t *fm = read_footer(&file);
    json_t *cols = fld(json_array_get(fld(fm, 4), 0), 1);
    assert_non_null(fld(fld(json_array_get(cols, C_STATUS), 3), 11));
    assert_null(fld(fld(json_array_get(cols, C_OK), 3), 11));
    assert_null(fld(fld(json_array_get(cols, C_ID), 3), 11)); /* all distinct: PLAIN */
    json_decref(fm);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

static void test_writer_codecs_and_row_groups(void **state)
{
    (void)state;
    static const struct {
        pq_compression comp;
        pq_codec codec;
    } codecs[] = {{PQ_COMPRESSION_NONE, PQ_CODEC_UNCOMPRESSED},
                  {PQ_COMPRESSION_SNAPPY, PQ_CODEC_SNAPPY},
                  {PQ_COMPRESSION_GZIP, PQ_CODEC_GZIP},
                  {PQ_COMPRESSION_ZSTD, PQ_CODEC_ZSTD},
                  {PQ_COMPRESSION_LZ4_RAW, PQ_CODEC_LZ4_RAW},
                  {PQ_COMPRESSION_BROTLI, PQ_CODEC_BROTLI}};
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
        if (!pq_codec_supported(codecs[k].codec))
            continue;
        for (int dict = 0; dict < 2; dict++) {
            pq_writer_opts opts = {.page_size = 40,
                                   .row_group_rows = 13,
                                   .compression = codecs[k].comp,
                                   .no_dictionary = dict == 0};
            pq_file_stats stats = {0};
            sl_buf file = write_table(NROWS, &opts, &stats);
            int pages = check_file(&file, NROWS, 13, (int)codecs[k].codec);
            /* small pages: several per chunk (dictionary indices are tiny) */
            if (dict == 0)
                assert_true(pages > 4 * NCOLS);
            else
                assert_true(pages >= 4 * NCOLS);
            /* Delta statistics cover the whole file, not the last row group */
            json_t *mins = json_object_get(stats.delta_stats, "minValues");
            json_t *maxs = json_object_get(stats.delta_stats, "maxValues");
            assert_true(json_integer_value(json_object_get(mins, "id")) == INT64_MIN);
            assert_true(json_integer_value(json_object_get(maxs, "id")) == INT64_MAX);
            assert_int_equal(
                json_integer_value(json_object_get(stats.delta_stats, "numRecords")),
                NROWS);
            pq_file_stats_free(&stats);
            buf_free(&file);
        }
    }
}

static void test_writer_empty_file(void **state)
{
    (void)state;
    pq_file_stats stats = {0};
    sl_buf file = write_table(0, NULL, &stats);
    check_file(&file, 0, 0, PQ_CODEC_SNAPPY);
    assert_int_equal(json_integer_value(json_object_get(stats.delta_stats, "numRecords")),
                     0);
    assert_int_equal(json_object_size(json_object_get(stats.delta_stats, "minValues")),
                     0);
    pq_file_stats_free(&stats);
    buf_free(&file);
}

/* ------------------------------------------------------------------ */
/* Streaming to a sink                                                 */

typedef struct sink_ctx {
    sl_buf out;
    int calls;
    int fail_at; /* 0: never */
} sink_ctx;

static sl_code test_sink(void *ctx, const void *data, size_t len, sl_err *err)
{
    sink_ctx *s = ctx;
    if (++s->calls == s->fail_at)
        return err_set(err, SL_STORE_IO, "sink refused part %d", s->calls);
    buf_append(&s->out, data, len);
    return SL_OK;
}

static void test_writer_sink(void **state)
{
    (void)state;
    pq_writer_opts opts = {.row_group_rows = 10};
    sl_buf whole = write_table(NROWS, &opts, NULL);

    sink_ctx s = {0};
    sl_err err = {0};
    pq_writer *w = pq_writer_new_sink(SCHEMA, NCOLS, &opts, test_sink, &s, &err);
    assert_non_null(w);
    assert_int_equal(s.calls, 0); /* nothing before the first row group */
    for (int i = 0; i < NROWS; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
        if (i == 9)
            assert_true(s.out.len > 4); /* the first row group went out */
    }
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, NULL, &st, &err), SL_OK);
    pq_writer_free(w);
    /* the same bytes as the buffered writer */
    assert_int_equal(s.out.len, whole.len);
    assert_memory_equal(s.out.data, whole.data, whole.len);
    assert_int_equal(st.file_size, whole.len);
    pq_file_stats_free(&st);
    buf_free(&s.out);

    /* a failing sink stops the writer with its code */
    sink_ctx bad = {.fail_at = 3};
    w = pq_writer_new_sink(SCHEMA, NCOLS, &opts, test_sink, &bad, &err);
    sl_code rc = SL_OK;
    int i = 0;
    for (; i < NROWS && rc == SL_OK; i++) {
        pq_value v[NCOLS];
        make_row(i, v);
        rc = pq_writer_add_row(w, v, &err);
    }
    assert_int_equal(rc, SL_STORE_IO);
    assert_int_equal(i, 10); /* at the first row group */
    pq_value v[NCOLS];
    make_row(0, v);
    assert_int_equal(pq_writer_add_row(w, v, &err), SL_INTERNAL);
    assert_int_equal(pq_writer_finish(w, NULL, NULL, &err), SL_INTERNAL);
    pq_writer_free(w);
    buf_free(&bad.out);
    buf_free(&whole);
}

/* ------------------------------------------------------------------ */
/* Dictionaries, pages and row groups                                  */

/* Writes one column of n values from gen(i) and returns the file. */
typedef pq_value (*gen_fn)(int i, char *scratch);

static sl_buf write_one(const pq_schema_col *col, int n, gen_fn gen,
                        const pq_writer_opts *o)
{
    sl_err err = {0};
    pq_writer *w = pq_writer_new(col, 1, o, &err);
    assert_non_null(w);
    for (int i = 0; i < n; i++) {
        char scratch[64];
        pq_value v = gen(i, scratch);
        if (pq_writer_add_row(w, &v, &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
    }
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    pq_writer_free(w);
    return file;
}

/* Reads it back and compares with gen. */
static void check_one(const sl_buf *file, const pq_schema_col *col, int n, gen_fn gen,
                      chunk_seen *seen)
{
    json_t *fm = read_footer(file);
    sl_buf keep = {0};
    pq_value *cells = read_column(file, fm, 0, col, (size_t)n, &keep, seen);
    for (int i = 0; i < n; i++) {
        char scratch[64];
        pq_value v = gen(i, scratch);
        if (!cell_equal(col->type, &v, &cells[i]))
            fail_msg("%s row %d differs", col->name, i);
    }
    free(cells);
    buf_free(&keep);
    json_decref(fm);
}

static pq_value gen_mixed_strings(int i, char *scratch)
{
    /* 300 rows from 4 values, then every value new */
    if (i < 300)
        snprintf(scratch, 64, "repeated-%d", i % 4);
    else
        snprintf(scratch, 64, "unique-value-%06d", i);
    return pq_val_str(scratch);
}

static pq_value gen_unique(int i, char *scratch)
{
    snprintf(scratch, 64, "u%d", i);
    return pq_val_str(scratch);
}

static pq_value gen_floats(int i, char *scratch)
{
    (void)scratch;
    static const float f[] = {0.0f, -0.0f, NAN, 1.5f};
    return i % 11 == 10 ? pq_val_null() : pq_val_f32(f[i % 4]);
}

static pq_value gen_doubles(int i, char *scratch)
{
    (void)scratch;
    static const double d[] = {0.0, -0.0, NAN, -1e300};
    return pq_val_f64(d[i % 4]);
}

static pq_value gen_dec38(int i, char *scratch)
{
    (void)scratch;
    return i % 3 == 0 ? pq_val_dec128(-1, (uint64_t)-5) : pq_val_dec(i % 2 ? 7 : -7);
}

static pq_value gen_bins(int i, char *scratch)
{
    scratch[0] = (char)(i % 3);
    scratch[1] = (char)0xff;
    return pq_val_bin(scratch, (size_t)(i % 3));
}

static pq_value gen_i64_seq(int i, char *scratch)
{
    (void)scratch;
    return pq_val_i64((int64_t)i * 7 - 100000);
}

static void test_dictionary_choice_and_fallback(void **state)
{
    (void)state;
    /* a dictionary that passes its limit: dictionary pages first, then PLAIN,
     * and the dictionary page stays within the limit */
    pq_schema_col s = {"s", PQ_TYPE_STRING, false};
    pq_writer_opts o = {
        .dictionary_limit = 300, .page_size = 200, .compression = PQ_COMPRESSION_NONE};
    sl_buf f = write_one(&s, 800, gen_mixed_strings, &o);
    chunk_seen seen;
    check_one(&f, &s, 800, gen_mixed_strings, &seen);
    assert_int_equal(seen.dict_pages, 1);
    assert_true(seen.dict_data_pages >= 1);
    assert_true(seen.plain_pages >= 1);
    assert_true(seen.dict_bytes <= 300);
    assert_true(seen.dict_entries > 4); /* some unique values got in first */
    buf_free(&f);

    /* all distinct: the dictionary is not smaller, so PLAIN only */
    f = write_one(&s, 500, gen_unique, NULL);
    check_one(&f, &s, 500, gen_unique, &seen);
    assert_int_equal(seen.dict_pages, 0);
    assert_int_equal(seen.dict_data_pages, 0);
    buf_free(&f);

    /* repeated values, but the dictionary switched off */
    pq_writer_opts off = {.no_dictionary = true};
    f = write_one(&s, 300, gen_mixed_strings, &off);
    check_one(&f, &s, 300, gen_mixed_strings, &seen);
    assert_int_equal(seen.dict_pages, 0);
    buf_free(&f);

    /* every dictionary-capable kind round-trips bit for bit: -0.0 and +0.0
     * and NaN stay themselves */
    struct {
        pq_schema_col col;
        gen_fn gen;
        int entries;
    } kinds[] = {
        {{"f", PQ_TYPE_FLOAT, true}, gen_floats, 4},
        {{"d", PQ_TYPE_DOUBLE, false}, gen_doubles, 4},
        {{"x", PQ_TYPE_DECIMAL_OF(38, 2), false}, gen_dec38, 3},
        {{"b", PQ_TYPE_BINARY, false}, gen_bins, 3},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        f = write_one(&kinds[k].col, 400, kinds[k].gen, NULL);
        check_one(&f, &kinds[k].col, 400, kinds[k].gen, &seen);
        assert_int_equal(seen.dict_pages, 1);
        assert_int_equal(seen.plain_pages, 0);
        assert_int_equal(seen.dict_entries, kinds[k].entries);
        buf_free(&f);
    }
}

static void test_page_and_row_group_bounds(void **state)
{
    (void)state;
    pq_schema_col col = {"n", PQ_TYPE_INT64, false};
    /* pages by rows: at most 20,000 rows each whatever the byte size */
    pq_writer_opts big = {.page_size = (size_t)1 << 30};
    sl_buf f = write_one(&col, 45000, gen_i64_seq, &big);
    chunk_seen seen;
    check_one(&f, &col, 45000, gen_i64_seq, &seen);
    assert_int_equal(seen.plain_pages, 3);
    assert_int_equal(seen.max_page_rows, 20000);
    buf_free(&f);

    /* pages by bytes: a page closes once its values reach page_size */
    pq_writer_opts small = {.page_size = 1000, .no_dictionary = true};
    f = write_one(&col, 1000, gen_i64_seq, &small);
    check_one(&f, &col, 1000, gen_i64_seq, &seen);
    assert_int_equal(seen.max_plain_values, 1000);
    assert_int_equal(seen.plain_pages, 8);
    buf_free(&f);

    /* row groups by rows */
    pq_writer_opts rows = {.row_group_rows = 100};
    f = write_one(&col, 250, gen_i64_seq, &rows);
    json_t *fm = read_footer(&f);
    json_t *rgs = fld(fm, 4);
    assert_int_equal(json_array_size(rgs), 3);
    assert_int_equal(fld_int(json_array_get(rgs, 2), 3), 50);
    json_decref(fm);
    check_one(&f, &col, 250, gen_i64_seq, &seen);
    buf_free(&f);

    /* row groups by bytes: each closes once it holds the limit */
    pq_schema_col two[] = {{"n", PQ_TYPE_INT64, false}, {"s", PQ_TYPE_STRING, true}};
    pq_writer_opts bytes = {.row_group_bytes = 20000,
                            .page_size = 4096,
                            .no_dictionary = true,
                            .compression = PQ_COMPRESSION_NONE};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(two, 2, &bytes, &err);
    for (int i = 0; i < 5000; i++) {
        char s[32];
        snprintf(s, sizeof s, "value %d", i);
        pq_value v[2] = {pq_val_i64(i), i % 4 ? pq_val_str(s) : pq_val_null()};
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    assert_int_equal(pq_writer_finish(w, &f, NULL, &err), SL_OK);
    pq_writer_free(w);
    fm = read_footer(&f);
    rgs = fld(fm, 4);
    size_t n = json_array_size(rgs);
    int64_t rows_total = 0;
    assert_true(n >= 4);
    for (size_t g = 0; g < n; g++) {
        json_t *rg = json_array_get(rgs, g);
        int64_t size = fld_int(rg, 6);
        rows_total += fld_int(rg, 3);
        /* the limit plus at most one row and the last pages' headers */
        assert_true(size <= 20000 + 128);
        if (g + 1 < n)
            assert_true(size >= 20000);
    }
    assert_int_equal(rows_total, 5000);
    json_decref(fm);
    buf_free(&f);
}

/* ------------------------------------------------------------------ */
/* Statistics rules                                                    */

/* The footer statistics of row group 0, column col. */
static json_t *stats_of(json_t *fm, size_t col)
{
    return fld(fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), col), 3), 12);
}

static void write_cells(const pq_schema_col *cols, size_t ncols, const pq_value *cells,
                        int nrows, sl_buf *file, pq_file_stats *st)
{
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, ncols, NULL, &err);
    assert_non_null(w);
    for (int i = 0; i < nrows; i++)
        if (pq_writer_add_row(w, &cells[(size_t)i * ncols], &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
    assert_int_equal(pq_writer_finish(w, file, st, &err), SL_OK);
    pq_writer_free(w);
}

static void test_statistics_rules(void **state)
{
    (void)state;
    pq_schema_col cols[] = {
        {"s", PQ_TYPE_STRING, true},
        {"b", PQ_TYPE_BINARY, true},
        {"big", PQ_TYPE_DECIMAL_OF(30, 0), true},
        {"small", PQ_TYPE_DECIMAL_OF(4, 1), true},
        {"f", PQ_TYPE_FLOAT, true},
        {"z", PQ_TYPE_DOUBLE, true},
        {"long", PQ_TYPE_STRING, true},
    };
    enum { S, B, BIG, SMALL, F, Z, LONG, N };
    static char huge[5000];
    memset(huge, 'x', sizeof huge - 1);
    pq_value rows[4][N] = {
        {pq_val_str("a"), pq_val_bin("\x00\x01", 2), pq_val_dec(-1), pq_val_dec(-5),
         pq_val_f32(NAN), pq_val_f64(-0.0), pq_val_str(huge)},
        {pq_val_str("\xc3\xa9"), pq_val_bin("\xff", 1), pq_val_dec(1), pq_val_dec(3),
         pq_val_f32(-0.0f), pq_val_f64(-0.0), pq_val_str("short")},
        {pq_val_str("Z"), pq_val_bin("", 0), pq_val_dec128(-1000, 0), pq_val_null(),
         pq_val_f32(0.0f), pq_val_null(), pq_val_null()},
        {pq_val_str(""), pq_val_null(), pq_val_dec(5), pq_val_dec(-9999), pq_val_f32(NAN),
         pq_val_f64(-0.0), pq_val_str("tiny")},
    };
    sl_buf file = {0};
    pq_file_stats st = {0};
    write_cells(cols, N, &rows[0][0], 4, &file, &st);
    json_t *fm = read_footer(&file);
    size_t len;
    const char *p;

    /* strings and binaries: unsigned byte order ("\xc3\xa9" > "a" > "Z"), no
     * legacy min/max */
    json_t *s = stats_of(fm, S);
    p = fld_str(s, 6, &len);
    assert_int_equal(len, 0);
    p = fld_str(s, 5, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(p, "\xc3\xa9", 2);
    assert_null(fld(s, 1));
    assert_null(fld(s, 2));
    json_t *b = stats_of(fm, B);
    fld_str(b, 6, &len);
    assert_int_equal(len, 0);
    p = fld_str(b, 5, &len);
    assert_int_equal(len, 1);
    assert_int_equal((unsigned char)p[0], 0xff);
    assert_int_equal(fld_int(b, 3), 1);

    /* decimals compare as numbers: in FIXED_LEN_BYTE_ARRAY (13 bytes for 30
     * digits) -1000 * 2^64 < -1 < 1 < 5, though -1's bytes are all 0xff */
    json_t *big = stats_of(fm, BIG);
    p = fld_str(big, 6, &len);
    assert_int_equal(len, 13);
    static const unsigned char min_be[13] = {0xff, 0xff, 0xff, 0xfc, 0x18, 0, 0,
                                             0,    0,    0,    0,    0,    0};
    assert_memory_equal(p, min_be, 13);
    p = fld_str(big, 5, &len);
    static const unsigned char five[13] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
    assert_memory_equal(p, five, 13);
    assert_null(fld(big, 1)); /* FLBA's legacy order is unsigned: left out */
    json_t *small = stats_of(fm, SMALL);
    p = fld_str(small, 6, &len);
    assert_int_equal((int32_t)rd_le32((const unsigned char *)p), -9999);
    p = fld_str(small, 2, &len); /* INT32 decimals keep the legacy fields */
    assert_int_equal((int32_t)rd_le32((const unsigned char *)p), -9999);
    p = fld_str(small, 5, &len);
    assert_int_equal((int32_t)rd_le32((const unsigned char *)p), 3);

    /* floats: NaN ignored; zero bounds are -0.0 (min) and +0.0 (max) */
    json_t *f = stats_of(fm, F);
    float fl;
    uint32_t bits;
    p = fld_str(f, 6, &len);
    bits = rd_le32((const unsigned char *)p);
    memcpy(&fl, &bits, 4);
    assert_true(fl == 0.0f && signbit(fl));
    p = fld_str(f, 5, &len);
    bits = rd_le32((const unsigned char *)p);
    memcpy(&fl, &bits, 4);
    assert_true(fl == 0.0f && !signbit(fl));
    json_t *z = stats_of(fm, Z); /* only -0.0: the max is still +0.0 */
    p = fld_str(z, 5, &len);
    uint64_t b64 = rd_le64((const unsigned char *)p);
    double d;
    memcpy(&d, &b64, 8);
    assert_true(d == 0.0 && !signbit(d));

    /* a bound too long for the footer is left out; the null count stays */
    json_t *lg = stats_of(fm, LONG);
    assert_null(fld(lg, 5));
    assert_null(fld(lg, 6));
    assert_int_equal(fld_int(lg, 3), 1);
    json_decref(fm);
    pq_file_stats_free(&st);
    buf_free(&file);
}

/* ------------------------------------------------------------------ */
/* Decimals                                                            */

static void check_parse(const char *s, int p, int sc, const char *want)
{
    pq_value v;
    sl_err err = {0};
    sl_code rc = pq_decimal_parse(s, strlen(s), p, sc, &v, &err);
    if (!want) {
        if (rc != SL_PARQUET_VALUE)
            fail_msg("'%s' as decimal(%d,%d) should be refused", s, p, sc);
        return;
    }
    if (rc != SL_OK)
        fail_msg("'%s' as decimal(%d,%d): %s", s, p, sc, err.msg);
    char text[64];
    pq_decimal_format(v.dec, sc, text, sizeof text);
    if (strcmp(text, want) != 0)
        fail_msg("'%s' as decimal(%d,%d) gave %s, want %s", s, p, sc, text, want);
}

static pq_value gen_dec_phys(int i, char *scratch)
{
    (void)scratch;
    static const int64_t v[] = {-1, 1, 0, -99999, 99999};
    return pq_val_dec(v[i % 5]);
}

static void test_decimal_encodings(void **state)
{
    (void)state;
    for (int p = 1; p <= 38; p++)
        if (p > 18 && pq_type_precision(PQ_TYPE_DECIMAL_OF(p, 0)) != p)
            fail_msg("precision %d does not survive the type", p);
    check_parse("123.45", 9, 2, "123.45");
    check_parse("-0.5", 3, 1, "-0.5");
    check_parse("+7", 3, 1, "7.0");
    check_parse("1e2", 5, 0, "100");
    check_parse("1.5E-1", 5, 2, "0.15");
    check_parse(".5", 2, 1, "0.5");
    check_parse("5.", 2, 1, "5.0");
    check_parse("1.500", 3, 1, "1.5"); /* zeros beyond the scale are fine */
    check_parse("-0", 3, 1, "0.0");
    check_parse("0.000000000000000000000000000000000000000000001e45", 5, 0, "1");
    check_parse("99999999999999999999999999999999999999", 38, 0,
                "99999999999999999999999999999999999999");
    check_parse("-9999999999999999999999999999.9999999999", 38, 10,
                "-9999999999999999999999999999.9999999999");
    check_parse("1.55", 3, 1, NULL);  /* would lose a digit */
    check_parse("12345", 4, 0, NULL); /* too many digits */
    check_parse("100000000000000000000000000000000000000", 38, 0, NULL);
    check_parse("100.0", 4, 2, NULL);
    check_parse("", 4, 0, NULL);
    check_parse("-", 4, 0, NULL);
    check_parse("1.2.3", 4, 0, NULL);
    check_parse("1e", 4, 0, NULL);
    check_parse("abc", 4, 0, NULL);
    check_parse("1 ", 4, 0, NULL);

    /* physical forms: INT32 / INT64 little endian, FLBA big-endian two's
     * complement of the fewest bytes */
    static const struct {
        int p;
        tkind k;
        int len;
    } forms[] = {{1, T_I32, 4},   {9, T_I32, 4},   {10, T_I64, 8},   {18, T_I64, 8},
                 {19, T_FLBA, 9}, {20, T_FLBA, 9}, {28, T_FLBA, 12}, {38, T_FLBA, 16}};
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        pq_schema_col col = {"x", PQ_TYPE_DECIMAL_OF(forms[k].p, 0), false};
        assert_int_equal(kind_of(col.type), forms[k].k);
        if (forms[k].k == T_FLBA)
            assert_int_equal(flba_len(forms[k].p), forms[k].len);
        int n = forms[k].p < 5 ? 3 : 5; /* values of 5 digits need precision 5 */
        pq_writer_opts plain = {.no_dictionary = true,
                                .compression = PQ_COMPRESSION_NONE};
        sl_buf f = write_one(&col, n, gen_dec_phys, &plain);
        chunk_seen seen;
        check_one(&f, &col, n, gen_dec_phys, &seen);
        /* the first value, -1, is all 0xff in any width */
        json_t *fm = read_footer(&f);
        json_t *m = fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), 0), 3);
        const unsigned char *page = (const unsigned char *)f.data + fld_int(m, 9);
        size_t used;
        json_decref(decode_struct(page, f.len, &used));
        for (int i = 0; i < forms[k].len; i++)
            assert_int_equal(page[used + (size_t)i], 0xff);
        if (forms[k].k == T_FLBA) /* then 1: 00 .. 01 */
            assert_int_equal(page[used + 2 * (size_t)forms[k].len - 1], 1);
        json_decref(fm);
        buf_free(&f);
    }

    /* values beyond the precision are refused */
    pq_schema_col col = {"x", PQ_TYPE_DECIMAL_OF(5, 2), true};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(&col, 1, NULL, &err);
    pq_value v = pq_val_dec(100000);
    assert_int_equal(pq_writer_add_row(w, &v, &err), SL_PARQUET_VALUE);
    assert_non_null(strstr(err.msg, "1000.00"));
    v = pq_val_dec(-99999);
    assert_int_equal(pq_writer_add_row(w, &v, &err), SL_OK);
    pq_writer_free(w);
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
    /* Spark's order puts NaN above everything: the max is "NaN" */
    assert_true(json_real_value(json_object_get(mins, "amount")) == -2.25);
    assert_string_equal(json_string_value(json_object_get(maxs, "amount")), "NaN");
    assert_string_equal(json_string_value(json_object_get(mins, "ts")),
                        "0001-01-01T00:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(maxs, "ts")),
                        "9999-12-31T23:59:59.999Z");
    assert_string_equal(json_string_value(json_object_get(mins, "ntz")),
                        "0001-01-01T00:00:00.000");
    assert_string_equal(json_string_value(json_object_get(maxs, "ntz")),
                        "9999-12-31T23:59:59.999");
    assert_string_equal(json_string_value(json_object_get(mins, "day")), "0001-01-01");
    assert_string_equal(json_string_value(json_object_get(maxs, "day")), "9999-12-31");
    assert_string_equal(json_string_value(json_object_get(mins, "f32")), "-Infinity");
    assert_string_equal(json_string_value(json_object_get(maxs, "f32")), "NaN");
    assert_string_equal(json_string_value(json_object_get(mins, "name")), "");
    assert_string_equal(
        json_string_value(json_object_get(maxs, "name")),
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x9c\x93 \xf0\x9f\x98\x80");
    /* booleans and binaries get no bounds in Delta; an all-null column neither */
    assert_null(json_object_get(mins, "ok"));
    assert_null(json_object_get(maxs, "flag"));
    assert_null(json_object_get(mins, "always_null"));
    assert_null(json_object_get(mins, "bin"));
    /* decimals: exact numbers in the text, the nearest double in jansson */
    const char *text = stats.delta_stats_json;
    assert_non_null(strstr(text, "\"d9\":-9999999.99"));
    assert_non_null(strstr(text, "\"d9\":9999999.99"));
    assert_non_null(strstr(text, "\"d38\":-999999999999999999999999999999999.99999"));
    assert_non_null(strstr(text, "\"d38\":999999999999999999999999999999999.99999"));
    assert_non_null(strstr(text, "\"d18\":-999999999999999.999"));
    assert_true(json_real_value(json_object_get(maxs, "d9")) == 9999999.99);
    /* the text and the values agree */
    json_t *parsed = json_loads(text, 0, NULL);
    assert_non_null(parsed);
    assert_true(json_equal(parsed, s));
    json_decref(parsed);

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

/* The exact add.stats text for one small table of every type. */
static void test_delta_stats_shapes(void **state)
{
    (void)state;
    pq_schema_col cols[] = {
        {"i", PQ_TYPE_INT32, true},
        {"l", PQ_TYPE_INT64, false},
        {"f", PQ_TYPE_FLOAT, true},
        {"d", PQ_TYPE_DOUBLE, true},
        {"s", PQ_TYPE_STRING, true},
        {"bin", PQ_TYPE_BINARY, true},
        {"ok", PQ_TYPE_BOOLEAN, true},
        {"day", PQ_TYPE_DATE, true},
        {"ts", PQ_TYPE_TIMESTAMP_US, true},
        {"ntz", PQ_TYPE_TIMESTAMP_NTZ, true},
        {"amt", PQ_TYPE_DECIMAL_OF(9, 2), true},
        {"big", PQ_TYPE_DECIMAL_OF(38, 10), true},
        {"n\"q", PQ_TYPE_STRING, true},
    };
    enum { N = sizeof cols / sizeof cols[0] };
    pq_value rows[2][N] = {
        {pq_val_i32(-3), pq_val_i64(10000000000LL), pq_val_f32(0.5f),
         pq_val_f64(-INFINITY), pq_val_str("b\"x"), pq_val_bin("\x01", 1),
         pq_val_bool(true), pq_val_date(19000), pq_val_ts_us(1700000000123999LL),
         pq_val_ts_us(-1), pq_val_dec(-5), pq_val_dec128(0, 1), pq_val_null()},
        {pq_val_i32(7), pq_val_i64(-2), pq_val_null(), pq_val_f64(2.5),
         pq_val_str("0123456789012345678901234567890123456789"), pq_val_null(),
         pq_val_bool(false), pq_val_date(-1), pq_val_ts_us(0),
         pq_val_ts_us(86400000000LL), pq_val_dec(12345), pq_val_null(), pq_val_null()},
    };
    sl_buf file = {0};
    pq_file_stats st = {0};
    write_cells(cols, N, &rows[0][0], 2, &file, &st);
    static const char want[] =
        "{\"numRecords\":2,"
        "\"minValues\":{\"i\":-3,\"l\":-2,\"f\":0.5,\"d\":\"-Infinity\","
        "\"s\":\"0123456789012345678901234567890\x31\",\"day\":\"1969-12-31\","
        "\"ts\":\"1970-01-01T00:00:00.000Z\",\"ntz\":\"1969-12-31T23:59:59.999\","
        "\"amt\":-0.05,\"big\":0.0000000001},"
        "\"maxValues\":{\"i\":7,\"l\":10000000000,\"f\":0.5,\"d\":2.5,\"s\":\"b\\\"x\","
        "\"day\":\"2022-01-08\",\"ts\":\"2023-11-14T22:13:20.123Z\","
        "\"ntz\":\"1970-01-02T00:00:00.000\",\"amt\":123.45,\"big\":0.0000000001},"
        "\"nullCount\":{\"i\":0,\"l\":0,\"f\":1,\"d\":0,\"s\":0,\"bin\":1,\"ok\":0,"
        "\"day\":0,\"ts\":0,\"ntz\":0,\"amt\":0,\"big\":1,\"n\\\"q\":2}}";
    if (strcmp(st.delta_stats_json, want) != 0)
        fail_msg("add.stats\n got %s\nwant %s", st.delta_stats_json, want);
    pq_file_stats_free(&st);
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

    /* through the writer at Delta's 32; invalid UTF-8 never gets in */
    pq_schema_col col = {"s", PQ_TYPE_STRING, true};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(&col, 1, NULL, &err);
    const char *vals[] = {"0123456789012345678901234567890123456789", "bad \xff utf8",
                          "0000"};
    for (int i = 0; i < 3; i++) {
        pq_value v = pq_val_str(vals[i]);
        assert_int_equal(pq_writer_add_row(w, &v, &err),
                         i == 1 ? SL_PARQUET_VALUE : SL_OK);
    }
    assert_non_null(strstr(err.msg, "UTF-8"));
    sl_buf file = {0};
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "s")),
                        "0000");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "maxValues"), "s")),
                        "01234567890123456789012345678901\x7f");
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

    /* only NaN and null: no Parquet bounds; Delta's are NaN (Spark's order) */
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
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "d")),
                        "NaN");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "maxValues"), "d")),
                        "NaN");
    json_decref(fm);
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);

    /* infinities: Parquet keeps them; Delta spells them as strings */
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
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "minValues"), "d")),
                        "-Infinity");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st.delta_stats, "maxValues"), "d")),
                        "Infinity");
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

static void test_string_utf8_check(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"", true},
        {"0123456789abcdef0123456789abcdef", true},
        {"0123456789abcdef\xf0\x9f\x98\x80", true},   /* 4 bytes after 16 ASCII */
        {"0123456789abcde\xf0\x9f\x98\x80xyz", true}, /* straddling a step */
        {"\xc3\xa9\xe2\x9c\x93", true},
        {"0123456789abcdef0\xff", false},
        {"0123456789abcdef\xf0\x9f\x98", false}, /* truncated at the end */
        {"ab\xc0\xaf", false},                   /* overlong */
        {"\xed\xa0\x80 surrogate", false},
        {"0123456\x80", false}, /* lone continuation in the tail word */
    };
    pq_schema_col str = {"s", PQ_TYPE_STRING, false}, bin = {"b", PQ_TYPE_BINARY, false};
    sl_err err = {0};
    pq_writer *ws = pq_writer_new(&str, 1, NULL, &err);
    pq_writer *wb = pq_writer_new(&bin, 1, NULL, &err);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pq_value v = pq_val_str(cases[i].s);
        sl_code rc = pq_writer_add_row(ws, &v, &err);
        if ((rc == SL_OK) != cases[i].ok)
            fail_msg("case %zu: UTF-8 check gave %d", i, (int)rc);
        assert_int_equal(pq_writer_add_row(wb, &v, &err),
                         SL_OK); /* binaries: any bytes */
    }
    pq_writer_free(ws);
    pq_writer_free(wb);
}

/* ------------------------------------------------------------------ */
/* Repeated values, the dictionary cache, statistics of PLAIN pages,   */
/* the row group byte bound                                            */

/* Rows in row-major order with their own copies of the strings. */
typedef struct grid {
    pq_value *cells;
    size_t ncols;
    int nrows;
    sl_buf text;
} grid;

static void grid_put_str(grid *g, int row, size_t col, const char *s, size_t n)
{
    pq_value *v = &g->cells[(size_t)row * g->ncols + col];
    *v = pq_val_strn(NULL, n);
    v->str.ptr = (const char *)(uintptr_t)g->text.len; /* an offset until fixed up */
    buf_append(&g->text, s, n);
}

static void grid_fix(grid *g, const pq_schema_col *cols)
{
    for (int r = 0; r < g->nrows; r++)
        for (size_t c = 0; c < g->ncols; c++) {
            pq_value *v = &g->cells[(size_t)r * g->ncols + c];
            if (!v->is_null && kind_of(cols[c].type) == T_BYTES)
                v->str.ptr = g->text.data + (uintptr_t)v->str.ptr;
        }
}

/* Every cell read back and every row group's footer statistics (min, max,
 * null count) against the rows it holds. Row group by row group: decoded
 * strings point into that group's pages. */
static void check_grid(const sl_buf *file, const pq_schema_col *cols, const grid *g)
{
    json_t *fm = read_footer(file);
    json_t *rgs = fld(fm, 4);
    int from = 0;
    for (size_t k = 0; k < json_array_size(rgs); k++) {
        json_t *rg = json_array_get(rgs, k);
        int to = from + (int)fld_int(rg, 3);
        assert_true(to <= g->nrows);
        for (size_t c = 0; c < g->ncols; c++) {
            pq_type t = cols[c].type;
            json_t *cc = json_array_get(fld(rg, 1), c);
            sl_buf keep = {0};
            chunk_seen seen;
            pq_value *back = sl_calloc((size_t)(to - from) + 1, sizeof *back);
            assert_int_equal(
                decode_chunk(file, cc, &cols[c], back, (size_t)(to - from), &seen, &keep),
                (size_t)(to - from));
            pq_value lo = {0}, hi = {0};
            bool have = false;
            int64_t nulls = 0;
            for (int r = from; r < to; r++) {
                const pq_value *v = &g->cells[(size_t)r * g->ncols + c];
                if (!cell_equal(t, v, &back[r - from]))
                    fail_msg("column %s row %d differs", cols[c].name, r);
                if (v->is_null) {
                    nulls++;
                } else if (!is_nan(t, v)) {
                    if (!have || stat_cmp(t, v, &lo) < 0)
                        lo = *v;
                    if (!have || stat_cmp(t, v, &hi) > 0)
                        hi = *v;
                    have = true;
                }
            }
            free(back);
            buf_free(&keep);
            json_t *st = fld(fld(cc, 3), 12);
            assert_int_equal(fld_int(st, 3), nulls);
            assert_int_equal(fld(st, 6) != NULL, have);
            if (have) {
                size_t len;
                const char *p = fld_str(st, 6, &len);
                check_stat_value(t, p, len, &lo, false);
                p = fld_str(st, 5, &len);
                check_stat_value(t, p, len, &hi, true);
            }
        }
        from = to;
    }
    assert_int_equal(from, g->nrows);
    json_decref(fm);
}

enum { R_K, R_N, R_D, R_C, R_W, R_NCOLS };
static const pq_schema_col RCOLS[R_NCOLS] = {
    {"k", PQ_TYPE_STRING, true}, {"n", PQ_TYPE_INT64, true},
    {"d", PQ_TYPE_DOUBLE, true}, {"c", PQ_TYPE_STRING, false},
    {"w", PQ_TYPE_STRING, true},
};

/* Runs of equal values, nulls inside runs, -0.0 next to +0.0 and NaN
 * (bitwise different, so never a repeat of each other), two strings that
 * share length and first and last eight bytes (one dictionary cache slot),
 * a long constant, and a column whose dictionary overflows mid-chunk. */
static void fill_repeats(grid *g)
{
    static const char *const keys[] = {"aaaaaaaaXaaaaaaaa", "aaaaaaaaYaaaaaaaa",
                                       "\xc3\xa9", "", "aaaaaaaaXaaaaaaab"};
    static const double ds[] = {-0.0, 0.0, NAN, 1.5, -2.25};
    const char *konst = "s3://bucket/incoming/epoch=1767225600/part-0001.jsonl";
    for (int r = 0; r < g->nrows; r++) {
        pq_value *row = &g->cells[(size_t)r * g->ncols];
        int run = r / 7; /* runs of seven rows */
        if (r % 11 == 5)
            row[R_K] = pq_val_null();
        else
            grid_put_str(g, r, R_K, keys[run % 5], strlen(keys[run % 5]));
        row[R_N] = r % 13 == 0 ? pq_val_null() : pq_val_i64((run % 3) * 1000 - 1000);
        row[R_D] = r % 17 == 3 ? pq_val_null() : pq_val_f64(ds[(r / 3) % 5]);
        grid_put_str(g, r, R_C, konst, strlen(konst));
        char w[32];
        int n = snprintf(w, sizeof w, "value-%04d", r / 2); /* pairs, then new */
        if (r % 9 == 4)
            row[R_W] = pq_val_null();
        else
            grid_put_str(g, r, R_W, w, (size_t)n);
    }
}

static void test_repeats_and_dictionary_cache(void **state)
{
    (void)state;
    grid g = {.ncols = R_NCOLS, .nrows = 2000};
    g.cells = sl_calloc((size_t)g.nrows * g.ncols, sizeof *g.cells);
    fill_repeats(&g);
    grid_fix(&g, RCOLS);
    /* Row groups of 700 rows put a repeat on the first row of a chunk (the
     * previous chunk's index must not carry over); small pages close inside
     * runs; w's dictionary passes its limit within the first chunk. */
    pq_writer_opts o = {.row_group_rows = 700, .page_size = 64, .dictionary_limit = 600};
    for (int codec = 0; codec < 2; codec++) {
        o.compression = codec ? PQ_COMPRESSION_NONE : PQ_COMPRESSION_SNAPPY;
        sl_buf file = {0};
        pq_file_stats st = {0};
        sl_err err = {0};
        pq_writer *w = pq_writer_new(RCOLS, R_NCOLS, &o, &err);
        assert_non_null(w);
        for (int r = 0; r < g.nrows; r++)
            if (pq_writer_add_row(w, &g.cells[(size_t)r * R_NCOLS], &err) != SL_OK)
                fail_msg("row %d: %s", r, err.msg);
        assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
        pq_writer_free(w);
        check_grid(&file, RCOLS, &g);
        /* k, c went through the dictionary; w fell back to PLAIN */
        json_t *fm = read_footer(&file);
        sl_buf keep = {0};
        chunk_seen seen;
        free(read_column(&file, fm, R_C, &RCOLS[R_C], (size_t)g.nrows, &keep, &seen));
        assert_true(seen.dict_data_pages > 0 && seen.plain_pages == 0);
        assert_int_equal(seen.dict_entries, 1);
        free(read_column(&file, fm, R_W, &RCOLS[R_W], (size_t)g.nrows, &keep, &seen));
        assert_true(seen.dict_data_pages > 0 && seen.plain_pages > 0);
        buf_free(&keep);
        json_decref(fm);
        json_t *nc = json_object_get(st.delta_stats, "nullCount");
        assert_int_equal(json_integer_value(json_object_get(nc, "k")), 182);
        assert_int_equal(json_integer_value(json_object_get(nc, "n")), 154);
        pq_file_stats_free(&st);
        buf_free(&file);
    }
    free(g.cells);
    buf_free(&g.text);

    /* The first page drops the dictionary (unique values: not smaller than
     * PLAIN); the value after it repeats the page's last one, which must go
     * PLAIN now, not as a dictionary index. */
    static const pq_schema_col u = {"u", PQ_TYPE_STRING, false};
    grid gu = {.ncols = 1, .nrows = 40};
    gu.cells = sl_calloc(40, sizeof *gu.cells);
    for (int r = 0; r < 40; r++) {
        char s[32];
        int n = snprintf(s, sizeof s, "unique-value-%d", r < 4 || r > 9 ? r : 3);
        grid_put_str(&gu, r, 0, s, (size_t)n);
    }
    grid_fix(&gu, &u);
    pq_writer_opts tiny = {.page_size = 1}; /* a page of four indices */
    sl_buf file = {0};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(&u, 1, &tiny, &err);
    for (int r = 0; r < 40; r++)
        assert_int_equal(pq_writer_add_row(w, &gu.cells[r], &err), SL_OK);
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    pq_writer_free(w);
    check_grid(&file, &u, &gu);
    buf_free(&file);
    free(gu.cells);
    buf_free(&gu.text);
}

/* PLAIN pages take their bounds from a scan when they close: many small
 * pages and two row groups of numbers (NaN, both zeros, extremes) and
 * strings that differ only past their first eight bytes or in high bytes. */
static void test_plain_page_statistics(void **state)
{
    (void)state;
    static const pq_schema_col cols[] = {
        {"i", PQ_TYPE_INT32, true},  {"l", PQ_TYPE_INT64, true},
        {"f", PQ_TYPE_FLOAT, true},  {"d", PQ_TYPE_DOUBLE, true},
        {"s", PQ_TYPE_STRING, true}, {"m", PQ_TYPE_DECIMAL_OF(9, 2), true},
        {"b", PQ_TYPE_BINARY, true},
    };
    enum { NC = 7 };
    grid g = {.ncols = NC, .nrows = 900};
    g.cells = sl_calloc((size_t)g.nrows * NC, sizeof *g.cells);
    static const float fs[] = {NAN, -0.0f, 0.0f, 3.5f, -1e30f, 1e30f};
    static const char *const ss[] = {"prefix-same-0001",
                                     "prefix-same-0001z",
                                     "prefix-same-000",
                                     "\xc3\xa9t\xc3\xa9",
                                     "",
                                     "Z"};
    for (int r = 0; r < g.nrows; r++) {
        pq_value *row = &g.cells[(size_t)r * NC];
        bool null = r % 10 == 9;
        int h = (r * 7919) % 1000; /* a scattered order */
        row[0] = null ? pq_val_null() : pq_val_i32(h == 500 ? INT32_MIN : h - 400);
        row[1] = null ? pq_val_null() : pq_val_i64(h == 17 ? INT64_MAX : (int64_t)h * -3);
        row[2] = null ? pq_val_null() : pq_val_f32(fs[h % 6]);
        row[3] = null ? pq_val_null() : pq_val_f64(r < 450 ? NAN : (double)fs[h % 6] / 3);
        if (null) {
            row[4] = pq_val_null();
            row[6] = pq_val_null();
        } else {
            char s[48];
            int n = snprintf(s, sizeof s, "%s%d", ss[h % 6], h / 97);
            grid_put_str(&g, r, 4, s, (size_t)n);
            char b[3] = {(char)(h & 0xff), (char)(h >> 8), (char)0xff};
            grid_put_str(&g, r, 6, b, (size_t)(h % 4 == 0 ? 0 : 3));
        }
        row[5] = null ? pq_val_null() : pq_val_dec(h * 1001 - 500000);
    }
    grid_fix(&g, cols);
    pq_writer_opts o = {.no_dictionary = true, .page_size = 100, .row_group_rows = 450};
    sl_buf file = {0};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, NC, &o, &err);
    assert_non_null(w);
    for (int r = 0; r < g.nrows; r++)
        assert_int_equal(pq_writer_add_row(w, &g.cells[(size_t)r * NC], &err), SL_OK);
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    pq_writer_free(w);
    check_grid(&file, cols, &g);
    /* d's first row group is all NaN: no bounds, but the second has them */
    json_t *fm = read_footer(&file);
    json_t *d0 =
        fld(fld(json_array_get(fld(json_array_get(fld(fm, 4), 0), 1), 3), 3), 12);
    assert_null(fld(d0, 6));
    json_decref(fm);
    buf_free(&file);
    free(g.cells);
    buf_free(&g.text);
}

/* The column writers fed directly, as pq_writer feeds them, summing their
 * bytes after every row: the row counts of the row groups row_group_bytes
 * asks for (limit 0: none) into want; sums (may be NULL) gets the sum after
 * each row. Returns the number of groups. */
static size_t oracle_groups(const pq_schema_col *cols, size_t nc, const grid *g,
                            const pq_writer_opts *o, int64_t *want, size_t cap,
                            size_t *sums)
{
    pq_codec codec;
    assert_true(pq_compression_codec(o->compression, &codec));
    pq_page_scratch scratch = {0};
    pq_column *oc = sl_calloc(nc, sizeof *oc);
    bool *rep = sl_calloc(nc, sizeof *rep);
    for (size_t c = 0; c < nc; c++)
        pq_column_init(&oc[c], &cols[c], o, codec, &scratch);
    size_t n = 0;
    int64_t in_group = 0;
    sl_err err = {0};
    for (int r = 0; r < g->nrows; r++) {
        const pq_value *row = &g->cells[(size_t)r * nc];
        for (size_t c = 0; c < nc; c++)
            rep[c] = !row[c].is_null && pq_column_repeats(&oc[c], &row[c]);
        size_t sum = 0;
        for (size_t c = 0; c < nc; c++) {
            assert_int_equal(pq_column_add(&oc[c], &row[c], rep[c], &err), SL_OK);
            sum += pq_column_buffered(&oc[c]);
        }
        if (sums)
            sums[r] = sum;
        in_group++;
        if (o->row_group_bytes && sum >= o->row_group_bytes) {
            assert_true(n < cap);
            want[n++] = in_group;
            in_group = 0;
            for (size_t c = 0; c < nc; c++) {
                assert_int_equal(pq_column_finish_chunk(&oc[c], &err), SL_OK);
                pq_column_next_chunk(&oc[c]);
            }
        }
    }
    if (in_group) {
        assert_true(n < cap);
        want[n++] = in_group;
    }
    for (size_t c = 0; c < nc; c++)
        pq_column_free(&oc[c]);
    free(oc);
    free(rep);
    buf_free(&scratch.body);
    buf_free(&scratch.comp);
    buf_free(&scratch.levels);
    return n;
}

/* A row group closes on the first row whose columns hold row_group_bytes,
 * though the writer sums its columns only when the bound may be near. The
 * hard case is a new dictionary entry that widens every index of a long
 * page at once: one bound lands exactly on the row with the largest jump. */
static void test_row_group_bytes_exact(void **state)
{
    (void)state;
    static const pq_schema_col cols[] = {
        {"grow", PQ_TYPE_STRING, true}, /* each value twice: the dictionary stays */
        {"n", PQ_TYPE_INT64, true},
        {"c", PQ_TYPE_STRING, false},
        {"x", PQ_TYPE_DOUBLE, true},
    };
    enum { NC = 4, ROWS = 6000 };
    grid g = {.ncols = NC, .nrows = ROWS};
    g.cells = sl_calloc((size_t)ROWS * NC, sizeof *g.cells);
    for (int r = 0; r < ROWS; r++) {
        pq_value *row = &g.cells[(size_t)r * NC];
        char s[32];
        int n = snprintf(s, sizeof s, "g%d", r / 2);
        if (r % 50 == 7)
            row[0] = pq_val_null();
        else
            grid_put_str(&g, r, 0, s, (size_t)n);
        row[1] = r % 7 == 0 ? pq_val_null() : pq_val_i64((int64_t)r * 37 % 101);
        grid_put_str(&g, r, 2, "constant", 8);
        row[3] = pq_val_f64(r * 0.25);
    }
    grid_fix(&g, cols);
    /* the row where one cell adds the most bytes (an index widening) */
    size_t *sums = sl_calloc(ROWS, sizeof *sums);
    int64_t want[128];
    pq_writer_opts whole = {0};
    oracle_groups(cols, NC, &g, &whole, want, 128, sums);
    int jump_row = 1;
    for (int r = 2; r < ROWS; r++)
        if (sums[r] - sums[r - 1] > sums[jump_row] - sums[jump_row - 1])
            jump_row = r;
    assert_true(sums[jump_row] - sums[jump_row - 1] > 200);
    pq_writer_opts variants[] = {
        {.row_group_bytes = sums[jump_row]},
        {.row_group_bytes = 9000, .page_size = 512},
        {.row_group_bytes = 3000, .page_size = 128, .compression = PQ_COMPRESSION_NONE},
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        const pq_writer_opts *o = &variants[v];
        size_t nwant = oracle_groups(cols, NC, &g, o, want, 128, NULL);
        assert_true(nwant >= 2);
        if (v == 0)
            assert_int_equal(want[0], jump_row + 1);
        sl_err err = {0};
        pq_writer *w = pq_writer_new(cols, NC, o, &err);
        assert_non_null(w);
        for (int r = 0; r < ROWS; r++)
            assert_int_equal(pq_writer_add_row(w, &g.cells[(size_t)r * NC], &err), SL_OK);
        sl_buf file = {0};
        assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
        pq_writer_free(w);
        json_t *fm = read_footer(&file);
        json_t *rgs = fld(fm, 4);
        assert_int_equal(json_array_size(rgs), nwant);
        for (size_t k = 0; k < nwant; k++)
            assert_int_equal(fld_int(json_array_get(rgs, k), 3), want[k]);
        json_decref(fm);
        check_grid(&file, cols, &g);
        buf_free(&file);
    }
    free(sums);
    free(g.cells);
    buf_free(&g.text);
}

/* A refused row changes nothing, also when cells before the bad one repeat
 * their column's previous value; a string equal in length to the previous
 * one but not in bytes is checked. */
static void test_refused_row_with_repeats(void **state)
{
    (void)state;
    static const pq_schema_col cols[] = {{"a", PQ_TYPE_STRING, false},
                                         {"b", PQ_TYPE_STRING, true}};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, 2, NULL, &err);
    pq_value ok[2] = {pq_val_str("same"), pq_val_str("ok\xc3\xa9")};
    pq_value bad[2] = {pq_val_str("same"), pq_val_strn("ok\xc3\x28", 4)};
    pq_value bad_a[2] = {pq_val_strn("sam\xff", 4), pq_val_str("ok\xc3\xa9")};
    assert_int_equal(pq_writer_add_row(w, ok, &err), SL_OK);
    assert_int_equal(pq_writer_add_row(w, bad, &err), SL_PARQUET_VALUE);
    assert_non_null(strstr(err.msg, "'b'"));
    assert_int_equal(pq_writer_add_row(w, bad_a, &err), SL_PARQUET_VALUE);
    assert_non_null(strstr(err.msg, "'a'"));
    assert_int_equal(pq_writer_num_rows(w), 1);
    assert_int_equal(pq_writer_add_row(w, ok, &err), SL_OK);
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    pq_writer_free(w);
    grid g = {.ncols = 2, .nrows = 2, .cells = (pq_value[4]){ok[0], ok[1], ok[0], ok[1]}};
    check_grid(&file, cols, &g);
    buf_free(&file);
    /* the inline ASCII check: a bad byte at every position of every length */
    pq_schema_col one = {"s", PQ_TYPE_STRING, false};
    w = pq_writer_new(&one, 1, NULL, &err);
    for (size_t n = 1; n <= 24; n++)
        for (size_t at = 0; at < n; at++) {
            char s[24];
            memset(s, 'x', sizeof s);
            s[at] = (char)0x80;
            pq_value v = pq_val_strn(s, n);
            assert_int_equal(pq_writer_add_row(w, &v, &err), SL_PARQUET_VALUE);
        }
    assert_int_equal(pq_writer_num_rows(w), 0);
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
    pq_schema_col baddec[][1] = {{{"x", PQ_TYPE_DECIMAL, false}},
                                 {{"x", PQ_TYPE_DECIMAL_OF(39, 0), false}},
                                 {{"x", PQ_TYPE_DECIMAL_OF(5, 6), false}},
                                 {{"x", (pq_type)((int)PQ_TYPE_INT32 | 5 << 8), false}}};
    for (size_t i = 0; i < sizeof baddec / sizeof baddec[0]; i++) {
        assert_null(pq_writer_new(baddec[i], 1, NULL, &err));
        assert_int_equal(err.code, SL_PARQUET_SCHEMA);
    }
    pq_compression comp;
    pq_codec codec;
    assert_true(pq_compression_from_name("ZSTD", &comp));
    assert_int_equal(comp, PQ_COMPRESSION_ZSTD);
    assert_true(pq_compression_from_name("none", &comp));
    assert_true(pq_compression_codec(comp, &codec));
    assert_int_equal(codec, PQ_CODEC_UNCOMPRESSED);
    assert_true(pq_compression_codec(PQ_COMPRESSION_DEFAULT, &codec));
    assert_int_equal(codec, PQ_CODEC_SNAPPY);
    assert_false(pq_compression_from_name("lzo", &comp));
    assert_false(pq_compression_codec((pq_compression)42, &codec));
    pq_writer_opts badcomp = {.compression = (pq_compression)42};
    assert_null(pq_writer_new(SCHEMA, NCOLS, &badcomp, &err));
    assert_int_equal(err.code, SL_PARQUET_UNSUPPORTED);

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
    check_file(&file, 10, 0, PQ_CODEC_SNAPPY);
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
    default:
        fail_msg("hyparquet: column %s is not compared here", SCHEMA[c].name);
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
            json_t *o = json_loads(line, JSON_ALLOW_NUL, &jerr);
            if (!o)
                fail_msg("hyparquet output line %d is not JSON: %s", row + 1, jerr.text);
            assert_true(row < NROWS);
            pq_value v[NCOLS];
            make_row(row, v);
            assert_int_equal(json_object_size(o), NCOLS);
            for (int c = 0; c < NCOLS_HYPARQUET; c++)
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
        cmocka_unit_test(test_writer_codecs_and_row_groups),
        cmocka_unit_test(test_writer_empty_file),
        cmocka_unit_test(test_writer_sink),
        cmocka_unit_test(test_dictionary_choice_and_fallback),
        cmocka_unit_test(test_page_and_row_group_bounds),
        cmocka_unit_test(test_statistics_rules),
        cmocka_unit_test(test_decimal_encodings),
        cmocka_unit_test(test_delta_stats),
        cmocka_unit_test(test_delta_stats_shapes),
        cmocka_unit_test(test_delta_string_truncation),
        cmocka_unit_test(test_double_edge_stats),
        cmocka_unit_test(test_timestamp_iso_floor),
        cmocka_unit_test(test_string_utf8_check),
        cmocka_unit_test(test_repeats_and_dictionary_cache),
        cmocka_unit_test(test_plain_page_statistics),
        cmocka_unit_test(test_row_group_bytes_exact),
        cmocka_unit_test(test_refused_row_with_repeats),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_independent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
