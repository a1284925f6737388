/* Writer interop: a table of every supported type with nulls and edge values
 * (empty and 4-byte UTF-8 strings, integer limits, NaN, -0.0, infinities,
 * years 1 and 9999, decimals at their precision limits) is written once per
 * codec, with the dictionary on and off, in several row groups and pages;
 * then read back by DuckDB (@duckdb/node-api), by arrow-rs (parquet-wasm)
 * and by our own reader, and every value compared with what was written.
 * DuckDB's parquet_metadata() must show the statistics we wrote and
 * parquet_schema() the types. The npm packages are installed by the test
 * into <build>/npm-interop (FAIL if that fails; SKIP only without node). */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* ------------------------------------------------------------------ */
/* The table                                                           */

typedef enum kind {
    K_BOOL,
    K_I32,
    K_I64,
    K_F32,
    K_F64,
    K_STR,
    K_BIN,
    K_DATE,
    K_TS,
    K_NTZ,
    K_DEC
} kind;

static const char *const KIND_NAMES[] = {"bool", "i32",  "i64", "f32", "f64", "str",
                                         "bin",  "date", "ts",  "ntz", "dec"};

typedef struct icol {
    pq_schema_col sc;
    kind k;
} icol;

#define DEC(p, s) PQ_TYPE_DECIMAL_OF(p, s)

static const icol COLS[] = {
    {{"id", PQ_TYPE_INT64, false}, K_I64},
    {{"b", PQ_TYPE_BOOLEAN, true}, K_BOOL},
    {{"i32", PQ_TYPE_INT32, true}, K_I32},
    {{"i64", PQ_TYPE_INT64, true}, K_I64},
    {{"f32", PQ_TYPE_FLOAT, true}, K_F32},
    {{"f64", PQ_TYPE_DOUBLE, true}, K_F64},
    {{"s", PQ_TYPE_STRING, true}, K_STR},
    {{"status", PQ_TYPE_STRING, false}, K_STR},
    {{"bin", PQ_TYPE_BINARY, true}, K_BIN},
    {{"day", PQ_TYPE_DATE, true}, K_DATE},
    {{"ts", PQ_TYPE_TIMESTAMP_US, true}, K_TS},
    {{"ntz", PQ_TYPE_TIMESTAMP_NTZ, true}, K_NTZ},
    {{"d1", DEC(1, 0), true}, K_DEC},
    {{"d9", DEC(9, 2), true}, K_DEC},
    {{"d18", DEC(18, 6), true}, K_DEC},
    {{"d19", DEC(19, 0), true}, K_DEC},
    {{"d38", DEC(38, 12), true}, K_DEC},
};
#define NC ((int)(sizeof COLS / sizeof COLS[0]))
#define NROWS 2600
#define RG_ROWS 1000

static const char *const STRS[] = {
    "",
    "a",
    "plain ascii",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",        /* 日本語 */
    "emoji \xf0\x9f\x98\x80 and \xf0\x9f\x8c\x8d", /* 4-byte UTF-8 */
    "\x7f",
    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
    "quote \" backslash \\ tab \t newline \n",
    "a much longer string value that goes well past thirty-two characters of text",
};
#define NSTRS ((int)(sizeof STRS / sizeof STRS[0]))
static const char *const STATUS[] = {"new", "paid", "shipped", "cancelled", "refunded"};

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Decimal text for the precision limits. */
static pq_value dec_text(const char *s, int p, int sc)
{
    pq_value v;
    sl_err err = {0};
    if (pq_decimal_parse(s, strlen(s), p, sc, &v, &err) != SL_OK)
        fail_msg("decimal '%s': %s", s, err.msg);
    return v;
}

/* Row i's cells; strings point at static data or into bin_buf (4 bytes). */
static void make_row(int i, pq_value *v, unsigned char *bin_buf)
{
    uint32_t h = mix((uint32_t)i + 1);
    v[0] = pq_val_i64(i);
    v[1] = i % 9 == 4 ? pq_val_null() : pq_val_bool(h & 1);

    static const int32_t i32e[] = {INT32_MIN, INT32_MAX, 0, -1, 1};
    v[2] = i % 7 == 6 ? pq_val_null()
           : i < 5    ? pq_val_i32(i32e[i])
                      : pq_val_i32((int32_t)(h % 200) - 100);
    static const int64_t i64e[] = {INT64_MIN, INT64_MAX, 0, -1};
    v[3] = i % 11 == 5 ? pq_val_null()
           : i < 4     ? pq_val_i64(i64e[i])
                       : pq_val_i64((int64_t)h * 1000003 - ((int64_t)1 << 40));

    float f32e[] = {NAN,     -0.0f,    0.0f,    INFINITY, -INFINITY,
                    FLT_MAX, -FLT_MAX, FLT_MIN, 1.5f,     0.1f};
    int nf = (int)(sizeof f32e / sizeof f32e[0]);
    /* edges repeat every 600 rows, so each row group sees them; the float
     * edges (infinities) only in the first, as DuckDB shows no infinite
     * bounds, so the others' bounds stay visible; NaN and -0.0 everywhere */
    int e = i % 600;
    v[4] = i % 13 == 3    ? pq_val_null()
           : i < nf       ? pq_val_f32(f32e[i])
           : i % 97 == 50 ? pq_val_f32(NAN)
           : i % 89 == 7  ? pq_val_f32(-0.0f)
                          : pq_val_f32((float)(h % 1000) / 8.0f - 60.0f);
    double f64e[] = {NAN,     -0.0,     0.0,      INFINITY, -INFINITY,
                     DBL_MAX, -DBL_MAX, 4.9e-324, 0.1,      -1e-300};
    v[5] = i % 17 == 2    ? pq_val_null()
           : i < nf       ? pq_val_f64(f64e[i])
           : i % 97 == 50 ? pq_val_f64(NAN)
           : i % 89 == 7  ? pq_val_f64(-0.0)
                          : pq_val_f64((double)(h % 100000) * 0.01 - 300.0);

    v[6] = i % 5 == 2 ? pq_val_null() : pq_val_str(STRS[(i + h % 3) % NSTRS]);
    v[7] = pq_val_str(STATUS[h % 5]);

    if (i % 6 == 1) {
        v[8] = pq_val_null();
    } else if (e < 4) {
        static const char *const bins[] = {"", "\x00", "\xff\xfe\x80", "abc"};
        static const size_t blen[] = {0, 1, 3, 3};
        v[8] = pq_val_bin(bins[e], blen[e]);
    } else {
        for (int k = 0; k < 4; k++)
            bin_buf[k] = (unsigned char)(h >> (8 * k));
        v[8] = pq_val_bin(bin_buf, 1 + h % 4);
    }

    static const int32_t days[] = {-719162, 2932896, 0, -1}; /* 0001-01-01, 9999-12-31 */
    v[9] = i % 10 == 7 ? pq_val_null()
           : e < 4     ? pq_val_date(days[e])
                       : pq_val_date((int32_t)(h % 40000) - 20000);
    static const int64_t ts[] = {-62135596800000000LL, 253402300799999999LL, -1, 0,
                                 1767225600123456LL};
    v[10] = i % 8 == 3 ? pq_val_null()
            : e < 5    ? pq_val_ts_us(ts[e])
                       : pq_val_ts_us(1700000000000000LL + (int64_t)h * 997);
    v[11] = i % 12 == 1 ? pq_val_null()
            : e < 5     ? pq_val_ts_us(ts[(e + 2) % 5])
                        : pq_val_ts_us(-1700000000000000LL + (int64_t)h * 1009);

    static const int64_t d1[] = {-9, 9, 0};
    v[12] = i % 4 == 3 ? pq_val_null() : pq_val_dec(d1[h % 3]);
    static const char *const d9e[] = {"9999999.99", "-9999999.99", "0", "-0.01"};
    v[13] = i % 14 == 9 ? pq_val_null()
            : e < 4     ? dec_text(d9e[e], 9, 2)
                        : pq_val_dec((int64_t)(h % 2000001) - 1000000);
    static const char *const d18e[] = {"999999999999.999999", "-999999999999.999999",
                                       "0.000001", "-0.000001"};
    v[14] = i % 15 == 0 ? pq_val_null()
            : e < 4     ? dec_text(d18e[e], 18, 6)
                        : pq_val_dec((int64_t)h * 7919 - 17000000000000LL);
    static const char *const d19e[] = {"9999999999999999999", "-9999999999999999999", "0",
                                       "-1"};
    v[15] = i % 16 == 5 ? pq_val_null()
            : e < 4     ? dec_text(d19e[e], 19, 0)
                        : pq_val_dec((int64_t)h - 2000000000LL);
    static const char *const d38e[] = {"99999999999999999999999999.999999999999",
                                       "-99999999999999999999999999.999999999999",
                                       "0.000000000001", "-12345678901234567890.5"};
    char text[64];
    if (i % 18 == 11) {
        v[16] = pq_val_null();
    } else if (e < 4) {
        v[16] = dec_text(d38e[e], 38, 12);
    } else {
        snprintf(text, sizeof text, "%s%u%07u.%u", h & 1 ? "-" : "", h, h % 9999991,
                 h % 977);
        v[16] = dec_text(text, 38, 12);
    }
}

/* ------------------------------------------------------------------ */
/* Canonical cells (what read_interop.mjs prints)                      */

static void hex_of(const pq_value *v, char *out)
{
    for (size_t k = 0; k < v->str.len; k++)
        sprintf(out + 2 * k, "%02x", (unsigned char)v->str.ptr[k]);
    out[2 * v->str.len] = '\0';
}

static bool float_matches(double want, json_t *got)
{
    const char *s = json_string_value(got);
    if (isnan(want))
        return s && strcmp(s, "NaN") == 0;
    if (isinf(want))
        return s && strcmp(s, want > 0 ? "Infinity" : "-Infinity") == 0;
    if (want == 0.0 && signbit(want))
        return s && strcmp(s, "-0") == 0;
    return json_is_number(got) && json_number_value(got) == want;
}

/* A canonical cell (DuckDB's or arrow's) against the value written. */
static bool canon_matches(const icol *c, const pq_value *v, json_t *got)
{
    if (v->is_null)
        return json_is_null(got);
    char buf[128];
    switch (c->k) {
    case K_BOOL:
        return json_is_boolean(got) && json_is_true(got) == v->b;
    case K_I32:
    case K_DATE:
        return json_is_integer(got) && json_integer_value(got) == v->i32;
    case K_I64:
    case K_TS:
    case K_NTZ:
        snprintf(buf, sizeof buf, "%lld", (long long)v->i64);
        return json_is_string(got) && strcmp(json_string_value(got), buf) == 0;
    case K_F32:
        return float_matches((double)v->f32, got);
    case K_F64:
        return float_matches(v->f64, got);
    case K_STR:
        return json_is_string(got) && json_string_length(got) == v->str.len &&
               memcmp(json_string_value(got), v->str.ptr, v->str.len) == 0;
    case K_BIN:
        hex_of(v, buf);
        return json_is_string(got) && strcmp(json_string_value(got), buf) == 0;
    case K_DEC:
        pq_decimal_format(v->dec, 0, buf, sizeof buf);
        return json_is_string(got) && strcmp(json_string_value(got), buf) == 0;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

typedef struct variant {
    pq_compression comp;
    const char *codec_name; /* as DuckDB prints it */
    bool no_dict;
} variant;

static void write_variant(const variant *vr, const char *path)
{
    pq_schema_col sc[NC];
    for (int c = 0; c < NC; c++)
        sc[c] = COLS[c].sc;
    pq_writer_opts o = {.compression = vr->comp,
                        .no_dictionary = vr->no_dict,
                        .row_group_rows = RG_ROWS,
                        .page_size = 2048};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(sc, NC, &o, &err);
    if (!w)
        fail_msg("pq_writer_new: %s", err.msg);
    for (int i = 0; i < NROWS; i++) {
        pq_value v[NC];
        unsigned char bin[4];
        make_row(i, v, bin);
        if (pq_writer_add_row(w, v, &err) != SL_OK)
            fail_msg("row %d: %s", i, err.msg);
    }
    sl_buf file = {0};
    pq_file_stats st = {0};
    assert_int_equal(pq_writer_finish(w, &file, &st, &err), SL_OK);
    assert_int_equal(st.file_size, file.len);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(file.data, 1, file.len, fp), file.len);
    fclose(fp);
    pq_file_stats_free(&st);
    buf_free(&file);
    pq_writer_free(w);
}

/* ------------------------------------------------------------------ */
/* Expected statistics per row group                                   */

typedef struct bounds {
    bool have;
    pq_value lo, hi;
    int64_t nulls;
} bounds;

static int cmp_val(const icol *c, const pq_value *a, const pq_value *b)
{
    switch (c->k) {
    case K_BOOL:
        return (int)a->b - (int)b->b;
    case K_I32:
    case K_DATE:
        return (a->i32 > b->i32) - (a->i32 < b->i32);
    case K_I64:
    case K_TS:
    case K_NTZ:
        return (a->i64 > b->i64) - (a->i64 < b->i64);
    case K_F32:
        return (a->f32 > b->f32) - (a->f32 < b->f32);
    case K_F64:
        return (a->f64 > b->f64) - (a->f64 < b->f64);
    case K_STR:
    case K_BIN: {
        size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
        int r = n ? memcmp(a->str.ptr, b->str.ptr, n) : 0;
        return r ? r : (a->str.len > b->str.len) - (a->str.len < b->str.len);
    }
    case K_DEC:
        if (a->dec.hi != b->dec.hi)
            return a->dec.hi < b->dec.hi ? -1 : 1;
        return (a->dec.lo > b->dec.lo) - (a->dec.lo < b->dec.lo);
    }
    return 0;
}

static bounds *expected_bounds(int ngroups)
{
    bounds *b = sl_calloc((size_t)ngroups * NC, sizeof *b);
    /* byte-array bounds point into rows that must stay alive: keep copies */
    static unsigned char keep[NROWS][4];
    for (int i = 0; i < NROWS; i++) {
        pq_value v[NC];
        make_row(i, v, keep[i]);
        int g = i / RG_ROWS;
        for (int c = 0; c < NC; c++) {
            bounds *x = &b[g * NC + c];
            if (v[c].is_null) {
                x->nulls++;
                continue;
            }
            if ((COLS[c].k == K_F32 && isnan(v[c].f32)) ||
                (COLS[c].k == K_F64 && isnan(v[c].f64)))
                continue;
            if (!x->have || cmp_val(&COLS[c], &v[c], &x->lo) < 0)
                x->lo = v[c];
            if (!x->have || cmp_val(&COLS[c], &v[c], &x->hi) > 0)
                x->hi = v[c];
            x->have = true;
        }
    }
    return b;
}

/* DuckDB's rendering of a min/max statistic against the bound written. */
static void check_duck_stat(const icol *c, const char *got, const pq_value *want,
                            bool is_max, const char *what)
{
    /* DuckDB hides infinite float bounds (old writers wrote bogus ones) */
    if ((c->k == K_F32 && isinf(want->f32)) || (c->k == K_F64 && isinf(want->f64))) {
        if (got)
            fail_msg("%s: DuckDB shows '%s' for an infinite bound", what, got);
        return;
    }
    if (!got)
        fail_msg("%s: DuckDB shows no statistic", what);
    char buf[160];
    switch (c->k) {
    case K_BOOL:
        assert_string_equal(got, want->b ? "true" : "false");
        return;
    case K_I32:
        snprintf(buf, sizeof buf, "%d", (int)want->i32);
        break;
    case K_I64:
        snprintf(buf, sizeof buf, "%lld", (long long)want->i64);
        break;
    case K_DATE: {
        int64_t us;
        if (time_parse_iso_us(got, strlen(got), &us) != 0)
            fail_msg("%s: DuckDB date '%s'", what, got);
        assert_true(us == (int64_t)want->i32 * 86400000000LL);
        return;
    }
    case K_TS:
    case K_NTZ: {
        int64_t us;
        if (time_parse_iso_us(got, strlen(got), &us) != 0)
            fail_msg("%s: DuckDB timestamp '%s'", what, got);
        if (us != want->i64)
            fail_msg("%s: DuckDB timestamp '%s' is not %lld", what, got,
                     (long long)want->i64);
        return;
    }
    case K_F32:
    case K_F64: {
        double w = c->k == K_F32 ? (double)want->f32 : want->f64;
        double g = strtod(got, NULL);
        if (c->k == K_F32)
            g = (double)strtof(got, NULL);
        if (w == 0.0) { /* zero bounds: -0.0 for a min, +0.0 for a max */
            if (g != 0.0 || (signbit(g) != 0) != !is_max)
                fail_msg("%s: zero bound '%s'", what, got);
        } else if (g != w) {
            fail_msg("%s: DuckDB shows '%s', wrote %.17g", what, got, w);
        }
        return;
    }
    case K_STR:
        if (strlen(got) != want->str.len ||
            memcmp(got, want->str.ptr, want->str.len) != 0)
            fail_msg("%s: DuckDB shows '%s'", what, got);
        return;
    case K_BIN: {
        /* DuckDB prints blobs with \xHH for bytes outside printable ASCII */
        size_t n = 0;
        for (size_t k = 0; k < want->str.len; k++) {
            unsigned char ch = (unsigned char)want->str.ptr[k];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'' && ch != '"')
                buf[n++] = (char)ch;
            else
                n += (size_t)sprintf(buf + n, "\\x%02X", ch);
        }
        buf[n] = '\0';
        break;
    }
    case K_DEC:
        pq_decimal_format(want->dec, pq_type_scale(c->sc.type), buf, sizeof buf);
        break;
    }
    if (strcmp(got, buf) != 0)
        fail_msg("%s: DuckDB shows '%s', wrote '%s'", what, got, buf);
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t jint_str(json_t *o, const char *key)
{
    const char *s = jstr(o, key);
    if (!s)
        fail_msg("metadata field %s missing", key);
    return strtoll(s, NULL, 10);
}

static void check_duck_meta(const variant *vr, json_t *meta, const bounds *exp)
{
    int ngroups = (NROWS + RG_ROWS - 1) / RG_ROWS;
    assert_int_equal(json_array_size(meta), (size_t)ngroups * NC);
    int dict_chunks = 0;
    for (size_t k = 0; k < json_array_size(meta); k++) {
        json_t *m = json_array_get(meta, k);
        int g = (int)jint_str(m, "row_group_id");
        int c = (int)jint_str(m, "column_id");
        assert_int_equal(g * NC + c, (int)k);
        const icol *col = &COLS[c];
        char what[128];
        snprintf(what, sizeof what, "%s rg %d column %s", vr->codec_name, g,
                 col->sc.name);
        int rows = g == ngroups - 1 ? NROWS - g * RG_ROWS : RG_ROWS;
        assert_int_equal(jint_str(m, "row_group_num_rows"), rows);
        assert_int_equal(jint_str(m, "num_values"), rows);
        assert_string_equal(jstr(m, "path_in_schema"), col->sc.name);
        assert_string_equal(jstr(m, "compression"), vr->codec_name);
        const bounds *b = &exp[g * NC + c];
        if (jint_str(m, "stats_null_count") != b->nulls)
            fail_msg("%s: null count %s, wrote %lld", what, jstr(m, "stats_null_count"),
                     (long long)b->nulls);
        if (b->have) {
            char w2[160];
            snprintf(w2, sizeof w2, "%s min", what);
            check_duck_stat(col, jstr(m, "stats_min_value"), &b->lo, false, w2);
            snprintf(w2, sizeof w2, "%s max", what);
            check_duck_stat(col, jstr(m, "stats_max_value"), &b->hi, true, w2);
        }
        const char *enc = jstr(m, "encodings");
        assert_non_null(enc);
        bool has_dict = strstr(enc, "RLE_DICTIONARY") != NULL;
        bool has_dict_off = json_is_string(json_object_get(m, "dictionary_page_offset"));
        if (has_dict != has_dict_off)
            fail_msg("%s: encodings '%s' but dictionary_page_offset %s", what, enc,
                     has_dict_off ? "set" : "absent");
        if (vr->no_dict || col->k == K_BOOL)
            assert_false(has_dict);
        if (has_dict) {
            dict_chunks++;
            assert_true(jint_str(m, "dictionary_page_offset") <
                        jint_str(m, "data_page_offset"));
        }
        /* RLE (definition levels) exactly for nullable columns */
        char *list = sl_strdup(enc), *save = NULL;
        bool rle = false;
        for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            rle |= strcmp(t, "RLE") == 0;
        free(list);
        if (rle != col->sc.nullable)
            fail_msg("%s: encodings '%s'", what, enc);
    }
    if (!vr->no_dict)
        assert_true(dict_chunks >= ngroups); /* at least "status" everywhere */
}

static void check_duck_schema(json_t *schema)
{
    assert_int_equal(json_array_size(schema), NC + 1);
    for (int c = 0; c < NC; c++) {
        json_t *e = json_array_get(schema, (size_t)c + 1);
        const icol *col = &COLS[c];
        assert_string_equal(jstr(e, "name"), col->sc.name);
        assert_string_equal(jstr(e, "repetition_type"),
                            col->sc.nullable ? "OPTIONAL" : "REQUIRED");
        const char *type = jstr(e, "type"), *conv = jstr(e, "converted_type");
        const char *logical = jstr(e, "logical_type");
        int p = pq_type_precision(col->sc.type), s = pq_type_scale(col->sc.type);
        switch (col->k) {
        case K_BOOL:
            assert_string_equal(type, "BOOLEAN");
            assert_null(conv);
            break;
        case K_I32:
            assert_string_equal(type, "INT32");
            assert_null(conv);
            break;
        case K_I64:
            assert_string_equal(type, "INT64");
            assert_null(conv);
            break;
        case K_F32:
            assert_string_equal(type, "FLOAT");
            break;
        case K_F64:
            assert_string_equal(type, "DOUBLE");
            break;
        case K_STR:
            assert_string_equal(type, "BYTE_ARRAY");
            assert_string_equal(conv, "UTF8");
            assert_non_null(strstr(logical, "StringType"));
            break;
        case K_BIN:
            assert_string_equal(type, "BYTE_ARRAY");
            assert_null(conv);
            assert_null(logical);
            break;
        case K_DATE:
            assert_string_equal(type, "INT32");
            assert_string_equal(conv, "DATE");
            assert_non_null(strstr(logical, "DateType"));
            break;
        case K_TS:
            assert_string_equal(type, "INT64");
            assert_string_equal(conv, "TIMESTAMP_MICROS");
            assert_non_null(strstr(logical, "isAdjustedToUTC=1"));
            assert_non_null(strstr(logical, "MICROS=MicroSeconds()"));
            break;
        case K_NTZ:
            assert_string_equal(type, "INT64");
            assert_null(conv); /* TIMESTAMP_MICROS would mean UTC */
            assert_non_null(strstr(logical, "isAdjustedToUTC=0"));
            assert_non_null(strstr(logical, "MICROS=MicroSeconds()"));
            break;
        case K_DEC: {
            assert_string_equal(conv, "DECIMAL");
            assert_int_equal(strtol(jstr(e, "precision"), NULL, 10), p);
            assert_int_equal(strtol(jstr(e, "scale"), NULL, 10), s);
            char want[64];
            snprintf(want, sizeof want, "DecimalType(scale=%d, precision=%d)", s, p);
            assert_string_equal(logical, want);
            if (p <= 9) {
                assert_string_equal(type, "INT32");
            } else if (p <= 18) {
                assert_string_equal(type, "INT64");
            } else {
                assert_string_equal(type, "FIXED_LEN_BYTE_ARRAY");
                /* fewest bytes: 9 for 19 digits, 16 for 38 */
                assert_int_equal(strtol(jstr(e, "type_length"), NULL, 10),
                                 p == 19 ? 9 : 16);
            }
            break;
        }
        }
    }
}

static void check_arrow_types(json_t *types)
{
    static const char *const want[] = {"Int64",
                                       "Bool",
                                       "Int32",
                                       "Int64",
                                       "Float32",
                                       "Float64",
                                       "Utf8",
                                       "Utf8",
                                       "Binary",
                                       "Date32<DAY>",
                                       "Timestamp<MICROSECOND, UTC>",
                                       "Timestamp<MICROSECOND>",
                                       "Decimal[1e0]",
                                       "Decimal[9e+2]",
                                       "Decimal[18e+6]",
                                       "Decimal[19e0]",
                                       "Decimal[38e+12]"};
    for (int c = 0; c < NC; c++) {
        const char *got = jstr(types, COLS[c].sc.name);
        if (!got || strcmp(got, want[c]) != 0)
            fail_msg("arrow type of %s: %s, want %s", COLS[c].sc.name, got ? got : "none",
                     want[c]);
    }
}

static void check_rows(const char *reader, const char *codec, json_t *rows)
{
    assert_int_equal(json_array_size(rows), NROWS);
    for (int i = 0; i < NROWS; i++) {
        pq_value v[NC];
        unsigned char bin[4];
        make_row(i, v, bin);
        json_t *row = json_array_get(rows, (size_t)i);
        for (int c = 0; c < NC; c++) {
            json_t *got = json_array_get(row, (size_t)c);
            if (!canon_matches(&COLS[c], &v[c], got)) {
                char *g = json_dumps(got, JSON_ENCODE_ANY);
                fail_msg("%s (%s): row %d column %s reads as %s", reader, codec, i,
                         COLS[c].sc.name, g ? g : "?");
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Our own reader (pq_rows_*: the JSON forms of pq_reader.h)           */

static void b64(const pq_value *v, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)v->str.ptr,
                    (int)v->str.len);
}

static bool utf8_ok(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n); /* jansson refuses invalid UTF-8 */
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

static bool ours_matches(const icol *c, const pq_value *v, json_t *got)
{
    if (v->is_null)
        return json_is_null(got);
    char buf[256];
    const char *s = json_string_value(got);
    switch (c->k) {
    case K_BOOL:
        return json_is_boolean(got) && json_is_true(got) == v->b;
    case K_I32:
        return json_is_integer(got) && json_integer_value(got) == v->i32;
    case K_I64:
        return json_is_integer(got) && json_integer_value(got) == v->i64;
    case K_F32:
    case K_F64: {
        double w = c->k == K_F32 ? (double)v->f32 : v->f64;
        if (isnan(w))
            return s && strcmp(s, "NaN") == 0;
        if (isinf(w))
            return s && strcmp(s, w > 0 ? "Infinity" : "-Infinity") == 0;
        if (!json_is_number(got) || json_number_value(got) != w)
            return false;
        return !json_is_real(got) || signbit(json_real_value(got)) == signbit(w);
    }
    case K_STR:
        return s && json_string_length(got) == v->str.len &&
               memcmp(s, v->str.ptr, v->str.len) == 0;
    case K_BIN:
        if (utf8_ok(v->str.ptr, v->str.len))
            return s && json_string_length(got) == v->str.len &&
                   memcmp(s, v->str.ptr, v->str.len) == 0;
        memcpy(buf, "base64:", 7);
        b64(v, buf + 7);
        return s && strcmp(s, buf) == 0;
    case K_DATE: {
        int64_t us;
        return s && time_parse_iso_us(s, strlen(s), &us) == 0 &&
               us == (int64_t)v->i32 * 86400000000LL;
    }
    case K_TS:
    case K_NTZ: {
        int64_t us;
        if (!s || time_parse_iso_us(s, strlen(s), &us) != 0 || us != v->i64)
            return false;
        bool z = s[strlen(s) - 1] == 'Z';
        return z == (c->k == K_TS);
    }
    case K_DEC:
        pq_decimal_format(v->dec, pq_type_scale(c->sc.type), buf, sizeof buf);
        return s && strcmp(s, buf) == 0;
    }
    return false;
}

static void check_own_reader(const char *path, const char *codec)
{
    pq_reader *r = NULL;
    sl_err err = {0};
    if (pq_reader_open_file(path, &r, &err) != SL_OK)
        fail_msg("our reader (%s): open: %s", codec, err.msg);
    const pq_file_info *fi = pq_reader_info(r);
    assert_int_equal(fi->num_rows, NROWS);
    assert_int_equal(fi->num_row_groups, (NROWS + RG_ROWS - 1) / RG_ROWS);
    pq_rows *rows = NULL;
    if (pq_rows_open(r, NULL, 0, &rows, &err) != SL_OK)
        fail_msg("our reader (%s): rows: %s", codec, err.msg);
    for (int i = 0;; i++) {
        json_t *row = NULL;
        if (pq_rows_next(rows, &row, &err) != SL_OK)
            fail_msg("our reader (%s): row %d: %s", codec, i, err.msg);
        if (!row) {
            assert_int_equal(i, NROWS);
            break;
        }
        assert_true(i < NROWS);
        pq_value v[NC];
        unsigned char bin[4];
        make_row(i, v, bin);
        for (int c = 0; c < NC; c++) {
            json_t *got = json_object_get(row, COLS[c].sc.name);
            if (!ours_matches(&COLS[c], &v[c], got)) {
                char *g = json_dumps(got, JSON_ENCODE_ANY);
                fail_msg("our reader (%s): row %d column %s reads as %s", codec, i,
                         COLS[c].sc.name, g ? g : "(missing)");
            }
        }
        json_decref(row);
    }
    pq_rows_free(rows);
    pq_reader_close(r);
}

/* ------------------------------------------------------------------ */

static const variant VARIANTS[] = {
    {PQ_COMPRESSION_NONE, "UNCOMPRESSED", false},
    {PQ_COMPRESSION_NONE, "UNCOMPRESSED", true},
    {PQ_COMPRESSION_SNAPPY, "SNAPPY", false},
    {PQ_COMPRESSION_SNAPPY, "SNAPPY", true},
    {PQ_COMPRESSION_GZIP, "GZIP", false},
    {PQ_COMPRESSION_GZIP, "GZIP", true},
    {PQ_COMPRESSION_ZSTD, "ZSTD", false},
    {PQ_COMPRESSION_ZSTD, "ZSTD", true},
    {PQ_COMPRESSION_LZ4_RAW, "LZ4_RAW", false},
    {PQ_COMPRESSION_LZ4_RAW, "LZ4_RAW", true},
    {PQ_COMPRESSION_BROTLI, "BROTLI", false},
    {PQ_COMPRESSION_BROTLI, "BROTLI", true},
};
#define NVARIANTS ((int)(sizeof VARIANTS / sizeof VARIANTS[0]))

static bool variant_supported(const variant *vr)
{
    static const pq_codec codecs[] = {
        [PQ_COMPRESSION_NONE] = PQ_CODEC_UNCOMPRESSED,
        [PQ_COMPRESSION_SNAPPY] = PQ_CODEC_SNAPPY,
        [PQ_COMPRESSION_GZIP] = PQ_CODEC_GZIP,
        [PQ_COMPRESSION_ZSTD] = PQ_CODEC_ZSTD,
        [PQ_COMPRESSION_LZ4_RAW] = PQ_CODEC_LZ4_RAW,
        [PQ_COMPRESSION_BROTLI] = PQ_CODEC_BROTLI,
    };
    return pq_codec_supported(codecs[vr->comp]);
}

static char *variant_path(const char *dir, int k)
{
    return sl_asprintf("%s/%s-%s.parquet", dir, VARIANTS[k].codec_name,
                       VARIANTS[k].no_dict ? "plain" : "dict");
}

static void test_writer_interop(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("pqinterop");
    json_t *files = json_array();
    bool written[NVARIANTS] = {0};
    for (int k = 0; k < NVARIANTS; k++) {
        if (!variant_supported(&VARIANTS[k])) {
            printf("note: codec %s is not built in; not written\n",
                   VARIANTS[k].codec_name);
            continue;
        }
        /* the four the issue requires must be there */
        char *path = variant_path(dir, k);
        write_variant(&VARIANTS[k], path);
        written[k] = true;
        json_array_append_new(files, json_string(path));
        check_own_reader(path, VARIANTS[k].codec_name);
        free(path);
    }
    for (int k = 0; k < 8; k++)
        assert_true(written[k]);

    if (!tu_have_node()) {
        printf("SKIP: node is not installed; DuckDB and arrow-rs cross-checks skipped\n");
    } else {
        char *script = tu_npm_script("npm-interop", "read_interop.mjs");
        json_t *spec = json_object();
        json_t *cols = json_array();
        for (int c = 0; c < NC; c++) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(COLS[c].sc.name));
            json_object_set_new(o, "kind", json_string(KIND_NAMES[COLS[c].k]));
            json_array_append_new(cols, o);
        }
        json_object_set_new(spec, "columns", cols);
        json_object_set(spec, "files", files);
        char *spec_path = sl_asprintf("%s/spec.json", dir);
        assert_int_equal(json_dump_file(spec, spec_path, 0), 0);
        json_decref(spec);

        char *cmd = sl_asprintf("node '%s' '%s'", script, spec_path);
        char *out = NULL;
        int rc = tu_run(cmd, &out);
        if (rc != 0)
            fail_msg("read_interop.mjs failed (exit %d)", rc);
        int ngroups = (NROWS + RG_ROWS - 1) / RG_ROWS;
        bounds *exp = expected_bounds(ngroups);
        size_t nfiles = 0;
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            json_error_t jerr;
            json_t *res = json_loads(line, 0, &jerr);
            if (!res)
                fail_msg("read_interop.mjs output is not JSON: %s", jerr.text);
            const char *file = jstr(res, "file");
            int k = -1;
            for (int j = 0; j < NVARIANTS; j++) {
                char *p = variant_path(dir, j);
                if (written[j] && strcmp(p, file) == 0)
                    k = j;
                free(p);
            }
            assert_true(k >= 0);
            check_rows("DuckDB", VARIANTS[k].codec_name, json_object_get(res, "duckdb"));
            check_rows("arrow-rs", VARIANTS[k].codec_name, json_object_get(res, "arrow"));
            check_arrow_types(json_object_get(res, "arrow_types"));
            check_duck_meta(&VARIANTS[k], json_object_get(res, "meta"), exp);
            check_duck_schema(json_object_get(res, "schema"));
            json_decref(res);
            nfiles++;
        }
        assert_int_equal(nfiles, json_array_size(files));
        free(exp);
        free(out);
        free(cmd);
        free(spec_path);
        free(script);
    }
    json_decref(files);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_interop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
