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
    "{\"id\":\"last\",\"n\":7}";

static const char *WANT =
    "1: 'a' 2 -9223372036854775808 1.5 true 1769860800250000\n"
    "2: 'b' null null null null 1700000000000000\n"
    "4: BAD (not one complete JSON object on the line) [{\"id\":\"c\",\"amount\":]\n"
    "5: BAD (a line that is not an object) [[1,2]]\n"
    "6: BAD (two values on one line) [{\"id\":\"d\"}{\"id\":\"e\"}]\n"
    "7: BAD (a number that is not a 32-bit integer) [{\"id\":\"f\",\"qty\":3.5}]\n"
    "8: BAD (a number that is not a 32-bit integer) [{\"id\":\"g\",\"qty\":2147483648}]\n"
    "9: BAD (a timestamp that is not ISO 8601) [{\"id\":\"h\",\"ts\":\"yesterday\"}]\n"
    "10: '\xc3\xa9\xe2\x82\xac' null null null false null\n"
    "11: BAD (not valid JSON) [{\"id\":\"bad utf8 \xff\"}]\n"
    "12: BAD (a key appears twice) [{\"id\":\"i\",\"id\":\"j\"}]\n"
    "13: BAD (not one complete JSON object on the line) [42]\n"
    "14: 'last' null 7 null null null\n";

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
    assert_int_equal(st.lines, 13);
    assert_int_equal(st.rows, 4);
    assert_int_equal(st.malformed, 9);
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

/* The plain-line scanner and yajl agree on every line: good ones, odd ones
 * and thousands of mutilated ones. */
static void test_fast_path_matches_yajl(void **state)
{
    (void)state;
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
    };
    size_t np = sizeof pieces / sizeof *pieces;
    sl_buf text = {0};
    for (size_t i = 0; i < np; i++) {
        buf_append_str(&text, pieces[i]);
        buf_append_char(&text, '\n');
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
        buf_append(&text, line, ll);
        buf_append_char(&text, '\n');
    }
    char *fast = run_text(text.data, text.len, 1);
    char *slow = run_text(text.data, text.len, 0);
    assert_string_equal(fast, slow);
    assert_non_null(strstr(fast, "BAD"));
    assert_non_null(strstr(fast, "1: 'a' 1 2 0.5 true"));
    free(fast);
    free(slow);
    buf_free(&text);
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
        cmocka_unit_test(test_iso_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
