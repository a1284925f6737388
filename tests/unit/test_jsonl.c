/* The JSON-lines reader: typed cells, nulls, drift, malformed lines with
 * their numbers, and chunk boundaries anywhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/jsonl.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"
#include "testutil.h"

static const pq_schema_col COLS[] = {
    {"id", PQ_TYPE_STRING, true},  {"qty", PQ_TYPE_INT32, true},
    {"n", PQ_TYPE_INT64, true},    {"amount", PQ_TYPE_DOUBLE, true},
    {"ok", PQ_TYPE_BOOLEAN, true}, {"ts", PQ_TYPE_TIMESTAMP_US, true},
};
#define NCOLS (sizeof COLS / sizeof *COLS)

/* Renders every row and bad line as text so runs can be compared. */
typedef struct sink {
    sl_buf out;
} sink;

static sl_code on_row(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    (void)err;
    sink *s = ctx;
    buf_appendf(&s->out, "%lld:", (long long)line_no);
    for (size_t i = 0; i < NCOLS; i++) {
        const pq_value *v = &row[i];
        if (v->is_null) {
            buf_append_str(&s->out, " null");
            continue;
        }
        switch (COLS[i].type) {
        case PQ_TYPE_STRING:
            buf_appendf(&s->out, " '%.*s'", (int)v->str.len, v->str.ptr);
            break;
        case PQ_TYPE_INT32:
            buf_appendf(&s->out, " %d", v->i32);
            break;
        case PQ_TYPE_INT64:
        case PQ_TYPE_TIMESTAMP_US:
            buf_appendf(&s->out, " %lld", (long long)v->i64);
            break;
        case PQ_TYPE_DOUBLE:
            buf_appendf(&s->out, " %g", v->f64);
            break;
        case PQ_TYPE_BOOLEAN:
            buf_appendf(&s->out, " %s", v->b ? "true" : "false");
            break;
        default:
            buf_append_str(&s->out, " ?");
        }
    }
    buf_append_char(&s->out, '\n');
    return SL_OK;
}

static void on_bad(void *ctx, int64_t line_no, const char *line, size_t len,
                   const char *why)
{
    sink *s = ctx;
    buf_appendf(&s->out, "%lld: BAD (%s) [%.*s]\n", (long long)line_no, why, (int)len,
                line);
}

static const char *INPUT =
    "{\"id\":\"a\",\"qty\":2,\"n\":-9223372036854775808,\"amount\":1.5,\"ok\":true,"
    "\"ts\":\"2026-01-31T12:00:00.250Z\"}\n"
    "{\"id\":\"b\",\"extra\":{\"deep\":[1,2,{\"x\":3}]},\"ts\":1700000000000000}\n"
    "\n"
    "{\"id\":\"c\",\"amount\":\n"
    "[1,2]\n"
    "{\"id\":\"d\"}{\"id\":\"e\"}\n"
    "{\"id\":\"f\",\"qty\":3.5}\n"
    "{\"id\":\"g\",\"qty\":2147483648}\n"
    "{\"id\":\"h\",\"ts\":\"yesterday\"}\n"
    "{\"id\":\"\xc3\xa9\xe2\x82\xac\",\"amount\":null,\"ok\":false}\r\n"
    "{\"id\":\"bad utf8 \xff\"}\n"
    "{\"id\":\"i\",\"id\":\"j\"}\n"
    "42\n"
    "{\"id\":\"lone \\udc00 surrogate\"}\n"
    "{\"id\":\"pair \\ud83d\\ude00 ok\"}\n"
    "{\"id\":\"last\",\"n\":7}";

static const char *WANT =
    "1: 'a' 2 -9223372036854775808 1.5 true 1769860800250000\n"
    "2: 'b' null null null null 1700000000000000\n"
    "4: BAD (not one complete JSON object on the line) [{\"id\":\"c\",\"amount\":]\n"
    "5: BAD (a line that is not an object) [[1,2]]\n"
    "6: BAD (two values on one line) [{\"id\":\"d\"}{\"id\":\"e\"}]\n"
    "7: BAD (column \"qty\": a number that is not a 32-bit integer) "
    "[{\"id\":\"f\",\"qty\":3.5}]\n"
    "8: BAD (column \"qty\": a number that is not a 32-bit integer) "
    "[{\"id\":\"g\",\"qty\":2147483648}]\n"
    "9: BAD (column \"ts\": a timestamp that is not ISO 8601) "
    "[{\"id\":\"h\",\"ts\":\"yesterday\"}]\n"
    "10: '\xc3\xa9\xe2\x82\xac' null null null false null\n"
    "11: BAD (not valid JSON) [{\"id\":\"bad utf8 \xff\"}]\n"
    "12: BAD (a key appears twice) [{\"id\":\"i\",\"id\":\"j\"}]\n"
    "13: BAD (not one complete JSON object on the line) [42]\n"
    "14: BAD (a string is not valid UTF-8 (a lone \\u surrogate escape)) "
    "[{\"id\":\"lone \\udc00 surrogate\"}]\n"
    "15: 'pair \xf0\x9f\x98\x80 ok' null null null null null\n"
    "16: 'last' null 7 null null null\n";

static char *run_chunks(size_t chunk, jsonl_stats *st)
{
    sink s = {0};
    jsonl_reader *r = jsonl_reader_new(COLS, NCOLS, on_row, on_bad, &s);
    sl_err e = {0};
    size_t n = strlen(INPUT);
    for (size_t off = 0; off < n; off += chunk) {
        size_t len = n - off < chunk ? n - off : chunk;
        assert_int_equal(jsonl_reader_feed(r, INPUT + off, len, &e), SL_OK);
    }
    assert_int_equal(jsonl_reader_finish(r, &e), SL_OK);
    if (st)
        *st = *jsonl_reader_stats(r);
    jsonl_reader_free(r);
    return buf_steal(&s.out);
}

static void test_rows_and_bad_lines(void **state)
{
    (void)state;
    jsonl_stats st;
    char *got = run_chunks(1 << 20, &st);
    if (strcmp(got, WANT) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, WANT);
    assert_string_equal(got, WANT);
    free(got);
    assert_int_equal(st.lines, 15);
    assert_int_equal(st.rows, 5);
    assert_int_equal(st.malformed, 10);
    assert_int_equal(st.unknown_keys, 1);
    assert_int_equal(st.bytes, (int64_t)strlen(INPUT));
}

static void test_any_chunking_gives_the_same(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk < 40; chunk++) {
        char *got = run_chunks(chunk, NULL);
        assert_string_equal(got, WANT);
        free(got);
    }
}

static sl_code stop_row(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    (void)ctx;
    (void)row;
    return err_set(err, SL_PARQUET_VALUE, "refused line %lld", (long long)line_no);
}

static void test_row_error_stops(void **state)
{
    (void)state;
    jsonl_reader *r = jsonl_reader_new(COLS, NCOLS, stop_row, NULL, NULL);
    sl_err e = {0};
    assert_int_equal(jsonl_reader_feed(r, "{\"id\":\"x\"}\n", 11, &e), SL_PARQUET_VALUE);
    assert_string_equal(e.msg, "refused line 1");
    jsonl_reader_free(r);
}

typedef struct dbl_sink {
    double *got;
    size_t n;
} dbl_sink;

static sl_code take_double(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    (void)line_no;
    (void)err;
    dbl_sink *d = ctx;
    d->got[d->n++] = row[3].f64;
    return SL_OK;
}

/* Every double the reader produces is bit-identical to strtod's. */
static void test_doubles_match_strtod(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char texts[N][40];
    static double got[N];
    dbl_sink d = {got, 0};
    jsonl_reader *r = jsonl_reader_new(COLS, NCOLS, take_double, NULL, &d);
    uint64_t x = 88172645463325252ULL;
    sl_buf line = {0};
    sl_err e = {0};
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int digits = 1 + (int)(x % 17), dot = (int)((x >> 8) % (unsigned)(digits + 1));
        char *t = texts[i];
        size_t k = 0;
        if ((x >> 20) & 1)
            t[k++] = '-';
        uint64_t y = x;
        for (int j = 0; j < digits; j++) {
            if (j == dot && j > 0)
                t[k++] = '.';
            t[k++] =
                (char)('0' + (j == 0 && digits > 1 && dot != 1 ? 1 + y % 9 : y % 10));
            y = y / 10 ? y / 10 : x >> 3;
        }
        if (i % 7 == 0)
            k += (size_t)snprintf(t + k, 8, "e%d", (int)(x % 40) - 20);
        t[k] = '\0';
        buf_reset(&line);
        buf_appendf(&line, "{\"amount\":%s}\n", t);
        assert_int_equal(jsonl_reader_feed(r, line.data, line.len, &e), SL_OK);
    }
    assert_int_equal(d.n, N);
    for (int i = 0; i < N; i++) {
        double want = strtod(texts[i], NULL);
        if (memcmp(&want, &got[i], sizeof want) != 0)
            fprintf(stderr, "%s: got %.17g want %.17g\n", texts[i], got[i], want);
        assert_memory_equal(&want, &got[i], sizeof want);
    }
    buf_free(&line);
    jsonl_reader_free(r);
}

/* The drift of each row after it: rescued text and unknown keys. */
typedef struct drift_sink {
    sink s;
    jsonl_reader *r;
} drift_sink;

static sl_code on_row_drift(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    drift_sink *d = ctx;
    on_row(&d->s, row, line_no, err);
    size_t n;
    const char *resc = jsonl_reader_rescued(d->r, &n);
    if (resc)
        buf_appendf(&d->s.out, "  rescued %.*s\n", (int)n, resc);
    for (size_t i = 0; i < jsonl_reader_unknown_count(d->r); i++) {
        const char *k;
        size_t kl;
        jsonl_kind kind;
        jsonl_reader_unknown(d->r, i, &k, &kl, &kind);
        buf_appendf(&d->s.out, "  unknown %.*s %d\n", (int)kl, k, (int)kind);
    }
    const char *line = jsonl_reader_line(d->r, &n);
    buf_appendf(&d->s.out, "  line %zu %c\n", n, n ? line[0] : '-');
    return SL_OK;
}

static void on_bad_drift(void *ctx, int64_t line_no, const char *line, size_t len,
                         const char *why)
{
    on_bad(&((drift_sink *)ctx)->s, line_no, line, len, why);
}

/* Runs text through a reader: rescue on or off, fast path on or off. */
static char *run_drift(const char *text, size_t n, int fast, int rescue)
{
    drift_sink d = {0};
    d.r = jsonl_reader_new(COLS, NCOLS, on_row_drift, on_bad_drift, &d);
    jsonl_reader_set_fast_path(d.r, fast);
    jsonl_reader_set_rescue(d.r, rescue);
    sl_err e = {0};
    assert_int_equal(jsonl_reader_feed(d.r, text, n, &e), SL_OK);
    assert_int_equal(jsonl_reader_finish(d.r, &e), SL_OK);
    jsonl_reader_free(d.r);
    return buf_steal(&d.s.out);
}

static char *run_text(const char *text, size_t n, int fast)
{
    sink s = {0};
    jsonl_reader *r = jsonl_reader_new(COLS, NCOLS, on_row, on_bad, &s);
    jsonl_reader_set_fast_path(r, fast);
    sl_err e = {0};
    assert_int_equal(jsonl_reader_feed(r, text, n, &e), SL_OK);
    assert_int_equal(jsonl_reader_finish(r, &e), SL_OK);
    buf_appendf(&s.out, "unknown=%lld\n", (long long)jsonl_reader_stats(r)->unknown_keys);
    jsonl_reader_free(r);
    return buf_steal(&s.out);
}

/* Good lines, odd ones and thousands of mutilated ones. */
static void mutilated_lines(sl_buf *text)
{
    static const char *const pieces[] = {
        "{\"id\":\"a\",\"qty\":1,\"n\":2,\"amount\":0.5,\"ok\":true,\"ts\":\"2026-01-"
        "01T00:00:00Z\"}",
        "{ \"id\" : \"sp ace\" , \"qty\" : -0 , \"amount\" : 1e3 }",
        "{\"id\":\"esc\\\"aped\\u00e9\",\"x\":[1,{\"y\":2}]}",
        "{\"id\":\"\xc3\xa9t\xc3\xa9\",\"ok\":false,\"n\":null}",
        "{}",
        "{\"qty\":01}",
        "{\"amount\":1.}",
        "{\"amount\":-}",
        "{\"n\":1e}",
        "{\"id\":\"tab\there\"}",
        "{\"id\":\"a\",}",
        "{\"id\" \"a\"}",
        "{\"id\":tru}",
        "{\"k\xc3\xa9y\":1}",
        "{\"id\":\"a\"} x",
        "{\"ts\":12345678}",
        "{\"ok\":nul}",
        "{\"id\":\"\xed\xa0\x80\"}",
        "{\"qty\":2147483647,\"n\":-9223372036854775808}",
        "{\"id\":7,\"qty\":\"x\",\"zz\":{\"a\":[1,\"b\\n\",null,true,{}]},\"ok\":[]}",
        "{\"u\":1,\"v\":2.5,\"w\":\"s\",\"x\":null,\"y\":false,\"z\":[]}",
    };
    size_t np = sizeof pieces / sizeof *pieces;
    for (size_t i = 0; i < np; i++) {
        buf_append_str(text, pieces[i]);
        buf_append_char(text, '\n');
    }
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int i = 0; i < 6000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *base = pieces[x % np];
        size_t bl = strlen(base);
        char line[256];
        memcpy(line, base, bl);
        size_t ll = bl;
        switch ((x >> 8) % 4) {
        case 0: /* cut */
            ll = (size_t)((x >> 16) % (bl + 1));
            break;
        case 1: /* flip a byte */
            line[(x >> 16) % bl] = (char)(x >> 32);
            break;
        case 2: /* insert a byte */
            if (bl < sizeof line - 1) {
                size_t at = (size_t)((x >> 16) % bl);
                memmove(line + at + 1, line + at, bl - at);
                line[at] = "{}[]\":,\\ 0-e.\x80"[(x >> 40) % 14];
                ll = bl + 1;
            }
            break;
        default:
            break;
        }
        for (size_t k = 0; k < ll; k++)
            if (line[k] == '\n')
                line[k] = ' ';
        buf_append(text, line, ll);
        buf_append_char(text, '\n');
    }
}

/* The plain-line scanner and yajl agree on every line. */
static void test_fast_path_matches_yajl(void **state)
{
    (void)state;
    sl_buf text = {0};
    mutilated_lines(&text);
    char *fast = run_text(text.data, text.len, 1);
    char *slow = run_text(text.data, text.len, 0);
    assert_string_equal(fast, slow);
    assert_non_null(strstr(fast, "BAD"));
    assert_non_null(strstr(fast, "1: 'a' 1 2 0.5 true"));
    free(fast);
    free(slow);
    buf_free(&text);
}

/* ... and so they do with rescue on, rescued texts and unknown keys too. */
static void test_fast_path_matches_yajl_rescue(void **state)
{
    (void)state;
    sl_buf text = {0};
    mutilated_lines(&text);
    char *fast = run_drift(text.data, text.len, 1, 1);
    char *slow = run_drift(text.data, text.len, 0, 1);
    assert_string_equal(fast, slow);
    assert_non_null(strstr(fast, "rescued {\"id\":7,\"qty\":\"x\",\"zz\":"));
    free(fast);
    free(slow);
    fast = run_drift(text.data, text.len, 1, 0);
    slow = run_drift(text.data, text.len, 0, 0);
    assert_string_equal(fast, slow);
    assert_null(strstr(fast, "rescued"));
    free(fast);
    free(slow);
    buf_free(&text);
}

/* Rescue: mistyped values and unknown keys (nested ones rewritten as JSON,
 * strings re-escaped) go to the rescued object in line order; the columns
 * stay null; the line is a row. Unknown keys report their value's kind. */
static void test_rescue(void **state)
{
    (void)state;
    static const char *in =
        "{\"id\":\"a\",\"qty\":\"three\",\"zz\":{\"k\":[1,2.5e1,\"q\\\"\\u0001\",null]},"
        "\"ok\":1,\"n\":[true,{}],\"ts\":\"2026-01-01\"}\n"
        "{\"id\":\"b\",\"amount\":2,\"u\":null,\"v\":false,\"w\":-3,\"x\":1.5,\"y\":"
        "\"s\"}\n"
        "{\"id\":\"c\",\"id\":\"d\"}\n";
    char *got = run_drift(in, strlen(in), 1, 1);
    const char *want =
        "1: 'a' null null null null 1767225600000000\n"
        "  rescued "
        "{\"qty\":\"three\",\"zz\":{\"k\":[1,2.5e1,\"q\\\"\\u0001\",null]},\"ok\":1,"
        "\"n\":[true,{}]}\n"
        "  unknown zz 5\n"
        "  line 101 {\n"
        "2: 'b' null null 2 null null\n"
        "  rescued {\"u\":null,\"v\":false,\"w\":-3,\"x\":1.5,\"y\":\"s\"}\n"
        "  unknown u 0\n"
        "  unknown v 1\n"
        "  unknown w 2\n"
        "  unknown x 3\n"
        "  unknown y 4\n"
        "  line 63 {\n"
        "3: BAD (a key appears twice) [{\"id\":\"c\",\"id\":\"d\"}]\n";
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want);
    assert_string_equal(got, want);
    free(got);
    /* Off: the same first line is bad, naming the column. */
    got = run_drift(in, strlen(in), 1, 0);
    assert_non_null(
        strstr(got, "1: BAD (column \"qty\": a string where the schema wants"));
    assert_non_null(strstr(got, "unknown w 2"));
    free(got);
}

static const pq_schema_col MORE[] = {
    {"d", PQ_TYPE_DATE, true},
    {"f", PQ_TYPE_FLOAT, true},
    {"m", PQ_TYPE_DECIMAL_OF(7, 2), true},
    {"b", PQ_TYPE_BOOLEAN, true},
    {"i", PQ_TYPE_INT64, true},
    {"x", PQ_TYPE_DOUBLE, true},
    {"t", PQ_TYPE_STRING, true},
};
#define NMORE (sizeof MORE / sizeof *MORE)

static sl_code on_more(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    (void)err;
    sl_buf *b = ctx;
    buf_appendf(b, "%lld:", (long long)line_no);
    for (size_t i = 0; i < NMORE; i++) {
        const pq_value *v = &row[i];
        if (v->is_null) {
            buf_append_str(b, " null");
            continue;
        }
        char dec[48];
        switch (pq_type_base(MORE[i].type)) {
        case PQ_TYPE_DATE:
            buf_appendf(b, " d%d", v->i32);
            break;
        case PQ_TYPE_FLOAT:
            buf_appendf(b, " f%g", (double)v->f32);
            break;
        case PQ_TYPE_DECIMAL:
            pq_decimal_format(v->dec, 2, dec, sizeof dec);
            buf_appendf(b, " m%s", dec);
            break;
        case PQ_TYPE_BOOLEAN:
            buf_appendf(b, " %s", v->b ? "T" : "F");
            break;
        case PQ_TYPE_INT64:
            buf_appendf(b, " %lld", (long long)v->i64);
            break;
        case PQ_TYPE_DOUBLE:
            buf_appendf(b, " %g", v->f64);
            break;
        default:
            buf_appendf(b, " '%.*s'", (int)v->str.len, v->str.ptr);
        }
    }
    buf_append_char(b, '\n');
    return SL_OK;
}

static void on_more_bad(void *ctx, int64_t line_no, const char *line, size_t len,
                        const char *why)
{
    (void)line;
    (void)len;
    buf_appendf(ctx, "%lld: BAD %s\n", (long long)line_no, why);
}

static char *run_more(const char *in, int text_values, int any_text)
{
    sl_buf b = {0};
    jsonl_reader *r = jsonl_reader_new(MORE, NMORE, on_more, on_more_bad, &b);
    jsonl_reader_set_text_values(r, text_values);
    jsonl_reader_set_any_as_text(r, 6, any_text);
    jsonl_reader_set_any_as_text(r, 0, 1); /* not a string column: ignored */
    sl_err e = {0};
    assert_int_equal(jsonl_reader_feed(r, in, strlen(in), &e), SL_OK);
    assert_int_equal(jsonl_reader_finish(r, &e), SL_OK);
    jsonl_reader_free(r);
    return buf_steal(&b);
}

/* Dates, floats and decimals; strings cast from text when asked; a string
 * column that takes any value as its JSON text. */
static void test_types_and_text_values(void **state)
{
    (void)state;
    static const char *in =
        "{\"d\":\"2026-01-31\",\"f\":1.5,\"m\":\"123.40\",\"t\":\"s\"}\n"
        "{\"m\":-0.5,\"f\":1e39}\n"
        "{\"m\":1.234}\n"
        "{\"d\":\"2026-01-31T00:00:00Z\"}\n"
        "{\"b\":\"TRUE\",\"i\":\"-42\",\"x\":\"2.5\",\"f\":\"NaN\"}\n"
        "{\"i\":\"4x\"}\n"
        "{\"t\":12.50}\n"
        "{\"t\":{\"a\":[1,\"x\"]},\"b\":false}\n"
        "{\"d\":\"1969-12-31\"}\n";
    char *got = run_more(in, 1, 1);
    const char *want = "1: d20484 f1.5 m123.40 null null null 's'\n"
                       "2: BAD column \"f\": a number out of the float range\n"
                       "3: BAD column \"m\": a number that does not fit the decimal's "
                       "precision and scale\n"
                       "4: BAD column \"d\": a date that is not YYYY-MM-DD\n"
                       "5: null fnan null T -42 2.5 null\n"
                       "6: BAD column \"i\": a text that is not an integer\n"
                       "7: null null null null null null '12.50'\n"
                       "8: null null null F null null '{\"a\":[1,\"x\"]}'\n"
                       "9: d-1 null null null null null null\n";
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want);
    assert_string_equal(got, want);
    free(got);
    /* Without text values and any-as-text: strict types. */
    got = run_more(in, 0, 0);
    assert_non_null(strstr(got, "5: BAD column \"b\": a string where the schema wants"));
    assert_non_null(strstr(got, "7: BAD column \"t\": a number where the schema wants"));
    assert_non_null(strstr(got, "1: d20484 f1.5 m123.40"));
    free(got);
}

/* parse_line numbers lines as told and skips blank ones. */
static void test_parse_line(void **state)
{
    (void)state;
    sink s = {0};
    jsonl_reader *r = jsonl_reader_new(COLS, NCOLS, on_row, on_bad, &s);
    sl_err e = {0};
    assert_int_equal(jsonl_reader_parse_line(r, "{\"id\":\"x\"}", 10, 7, &e), SL_OK);
    assert_int_equal(jsonl_reader_parse_line(r, "  ", 2, 8, &e), SL_OK);
    assert_int_equal(jsonl_reader_parse_line(r, "{", 1, 12, &e), SL_OK);
    assert_string_equal(s.out.data,
                        "7: 'x' null null null null null\n"
                        "12: BAD (not one complete JSON object on the line) [{]\n");
    assert_int_equal(jsonl_reader_stats(r)->lines, 2);
    jsonl_reader_free(r);
    buf_free(&s.out);
}

static void test_iso_parser(void **state)
{
    (void)state;
    int64_t us;
    const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"1970-01-01", 0},
        {"2026-01-31T12:00:00Z", 1769860800000000LL},
        {"2026-01-31 12:00:00.123456789", 1769860800123456LL},
        {"2026-01-31T14:00+02:00", 1769860800000000LL},
        {"0001-01-01T00:00:00Z", -62135596800000000LL},
        {"9999-12-31T23:59:59.999999Z", 253402300799999999LL},
        {"1969-12-31T23:59:59.5Z", -500000},
        {"2024-02-29", 1709164800000000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(time_parse_iso_us(ok[i].s, strlen(ok[i].s), &us), 0);
        assert_int_equal(us, ok[i].want);
    }
    const char *bad[] = {"",
                         "2026",
                         "2026-02-30",
                         "2026-13-01",
                         "2026-01-31T25:00",
                         "2026-01-31T12:00:00.",
                         "2026-01-31x",
                         "2026-01-31T12:00:00Zjunk",
                         "2025-02-29",
                         "1900-02-29"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(time_parse_iso_us(bad[i], strlen(bad[i]), &us), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_bad_lines),
        cmocka_unit_test(test_any_chunking_gives_the_same),
        cmocka_unit_test(test_row_error_stops),
        cmocka_unit_test(test_doubles_match_strtod),
        cmocka_unit_test(test_fast_path_matches_yajl),
        cmocka_unit_test(test_fast_path_matches_yajl_rescue),
        cmocka_unit_test(test_rescue),
        cmocka_unit_test(test_types_and_text_values),
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_iso_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
