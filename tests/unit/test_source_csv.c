/* The CSV source: RFC 4180 quoting (commas, doubled quotes and newlines
 * inside quotes), CRLF, a byte order mark, nulls for empty unquoted fields,
 * bad records with their text and record number, header errors, and the
 * same result whatever the chunking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/source_csv.h"
#include "backend/util/buf.h"
#include "testutil.h"

static sl_code on_line(void *ctx, const char *json, size_t len, int64_t no, sl_err *err)
{
    (void)err;
    buf_appendf(ctx, "%lld %.*s\n", (long long)no, (int)len, json);
    return SL_OK;
}

static sl_code on_bad(void *ctx, const char *raw, size_t len, int64_t no, const char *why,
                      sl_err *err)
{
    (void)err;
    buf_appendf(ctx, "%lld BAD (%s) [%.*s]\n", (long long)no, why, (int)len, raw);
    return SL_OK;
}

/* Feeds text in chunks of the given size; returns the rendering. */
static char *run(const char *text, size_t n, size_t chunk, sl_code *code, sl_err *e)
{
    sl_buf out = {0};
    buf_append_str(&out, "");
    csv_source *c = csv_source_new("t.csv", on_line, on_bad, &out);
    sl_code rc = SL_OK;
    for (size_t off = 0; off < n && rc == SL_OK; off += chunk)
        rc = csv_source_feed(c, text + off, n - off < chunk ? n - off : chunk, e);
    if (rc == SL_OK)
        rc = csv_source_finish(c, e);
    if (rc == SL_OK)
        buf_appendf(&out, "records=%lld\n", (long long)csv_source_records(c));
    csv_source_free(c);
    *code = rc;
    return buf_steal(&out);
}

static const char INPUT[] = "\xEF\xBB\xBF"
                            "id,name,note\r\n"
                            "1,plain,\r\n"
                            "2,\"with, comma\",\"\"\r\n"
                            "3,\"say \"\"hi\"\"\",\"two\nlines\"\n"
                            "\n"
                            "4,too,many,fields\n"
                            "5,bad\"quote,x\n"
                            "6,\"closed\"junk,x\n"
                            "7,\"t\xc3\xa9\\st\",\ttab\n"
                            "8,\xff,x\n"
                            "9,last,\"open quote\nnever closed";

static const char WANT[] =
    "1 {\"id\":\"1\",\"name\":\"plain\",\"note\":null}\n"
    "2 {\"id\":\"2\",\"name\":\"with, comma\",\"note\":\"\"}\n"
    "3 {\"id\":\"3\",\"name\":\"say \\\"hi\\\"\",\"note\":\"two\\nlines\"}\n"
    "4 BAD (a record with 4 fields where the header has 3) [4,too,many,fields]\n"
    "5 BAD (a quote inside an unquoted field) [5,bad\"quote,x]\n"
    "6 BAD (text after a closing quote) [6,\"closed\"junk,x]\n"
    "7 {\"id\":\"7\",\"name\":\"t\xc3\xa9\\\\st\",\"note\":\"\\ttab\"}\n"
    "8 BAD (not valid UTF-8) [8,\xff,x]\n"
    "9 BAD (a quoted field is not closed at the end of the file) "
    "[9,last,\"open quote\nnever closed]\n"
    "records=9\n";

static void test_records(void **state)
{
    (void)state;
    sl_code c;
    sl_err e = {0};
    char *got = run(INPUT, sizeof INPUT - 1, 1 << 20, &c, &e);
    assert_int_equal(c, SL_OK);
    if (strcmp(got, WANT) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, WANT);
    assert_string_equal(got, WANT);
    free(got);
}

static void test_any_chunking(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 17; chunk++) {
        sl_code c;
        sl_err e = {0};
        char *got = run(INPUT, sizeof INPUT - 1, chunk, &c, &e);
        assert_int_equal(c, SL_OK);
        assert_string_equal(got, WANT);
        free(got);
    }
}

static void test_header_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"a,b,a\n1,2,3\n", "t.csv: the header names column \"a\" twice"},
        {"a,,b\n", "t.csv: header column 2 has no name"},
        {"a,\"b\n",
         "t.csv: the header line is not valid CSV (a quoted field is not closed"},
        {"a,b\"c\n", "t.csv: the header line is not valid CSV (a quote inside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_code c;
        sl_err e = {0};
        char *got = run(cases[i].text, strlen(cases[i].text), 3, &c, &e);
        assert_int_equal(c, SL_INGEST_FORMAT);
        assert_non_null(strstr(e.msg, cases[i].msg));
        free(got);
    }
    /* Empty files, a header alone, a BOM alone: no records. */
    static const char *const empty[] = {"", "\n\n", "a,b\n", "a,b", "\xEF\xBB\xBF"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        sl_code c;
        sl_err e = {0};
        char *got = run(empty[i], strlen(empty[i]), 1, &c, &e);
        assert_int_equal(c, SL_OK);
        assert_string_equal(got, "records=0\n");
        free(got);
    }
    /* A file that starts like a BOM but is not one keeps its bytes. */
    sl_code c;
    sl_err e = {0};
    char *got = run("\xEF\xBBx\n1\n", 6, 1, &c, &e);
    assert_int_equal(c, SL_INGEST_FORMAT);
    assert_non_null(strstr(e.msg, "header column 1 is not valid UTF-8"));
    free(got);
}

static sl_code stop(void *ctx, const char *json, size_t len, int64_t no, sl_err *err)
{
    (void)ctx;
    (void)json;
    (void)len;
    return err_set(err, SL_INGEST_SCHEMA_DRIFT, "stop at %lld", (long long)no);
}

static void test_callback_error_stops(void **state)
{
    (void)state;
    csv_source *c = csv_source_new("t.csv", stop, on_bad, NULL);
    sl_err e = {0};
    assert_int_equal(csv_source_feed(c, "a\n1\n2\n", 6, &e), SL_INGEST_SCHEMA_DRIFT);
    assert_string_equal(e.msg, "stop at 1");
    csv_source_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_any_chunking),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_callback_error_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
