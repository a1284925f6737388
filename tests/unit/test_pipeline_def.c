/* Pipeline files: the issue's example parses to the expected definition,
 * defaults apply, relative URLs resolve like sluice.json's, and every kind
 * of mistake is refused with the file and the JSON path of the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/util/buf.h"
#include "testutil.h"

#define FILE_NAME "pipelines/orders.json"

/* The example of issue 5, verbatim. */
static const char *const example =
    "{\n"
    "  \"name\": \"orders\",\n"
    "  \"source\": {\"url\": \"s3://bucket/incoming/\", \"layout\": \"epoch\", "
    "\"format\": "
    "\"jsonl\",\n"
    "             \"ready_marker\": \"_SUCCESS\", \"settle_seconds\": 60},\n"
    "  \"lake\": \"s3://bucket/lake/\",\n"
    "  \"bronze\": {\"table\": \"orders_raw\", \"partition_by\": [\"_ingest_date\"],\n"
    "             \"schema\": {\"order_id\": \"string\", \"customer_id\": \"string\", "
    "\"amount\": \"double\",\n"
    "                        \"qty\": \"int\", \"updated_at\": \"timestamp\", \"op\": "
    "\"string\"},\n"
    "             \"on_schema_drift\": \"rescue\"},\n"
    "  \"silver\": {\"table\": \"orders\", \"keys\": [\"order_id\"], \"sequence_by\": "
    "\"updated_at\",\n"
    "             \"delete_when\": {\"column\": \"op\", \"equals\": \"D\"}},\n"
    "  \"gold\":   {\"table\": \"orders_by_day\", \"group_by\": [\"day\"], \"day_from\": "
    "\"updated_at\",\n"
    "             \"aggregates\": {\"orders\": \"count\", \"revenue\": "
    "\"sum(amount)\"}},\n"
    "  \"expectations\": [\n"
    "    {\"name\": \"amount_present\", \"column\": \"amount\", \"rule\": \"not_null\", "
    "\"on_fail\": \"quarantine\"},\n"
    "    {\"name\": \"qty_positive\", \"column\": \"qty\", \"rule\": \">0\", "
    "\"on_fail\": "
    "\"drop\"},\n"
    "    {\"name\": \"has_key\", \"column\": \"order_id\", \"rule\": \"not_null\", "
    "\"on_fail\": \"fail\"}],\n"
    "  \"checks\": {\"max_count_mismatch_pct\": 1.0},\n"
    "  \"retries\": {\"max_attempts\": 3, \"backoff_seconds\": 5},\n"
    "  \"optimize\": {\"every_runs\": 20, \"zorder_by\": [\"customer_id\"]},\n"
    "  \"vacuum\": {\"retain_hours\": 168, \"every_runs\": 50}\n"
    "}\n";

static void test_issue_example(void **state)
{
    (void)state;
    pipeline_def *d = NULL;
    sl_err e = {0};
    assert_int_equal(pipeline_def_parse(example, FILE_NAME, "/etc/sl", NULL, &d, &e),
                     SL_OK);
    assert_string_equal(d->name, "orders");
    assert_string_equal(d->path, FILE_NAME);
    assert_string_equal(d->source.url, "s3://bucket/incoming/");
    assert_int_equal(d->source.layout, PL_LAYOUT_EPOCH);
    assert_int_equal(d->source.format, PL_FORMAT_JSONL);
    assert_string_equal(d->source.ready_marker, "_SUCCESS");
    assert_int_equal(d->source.settle_ms, 60000);
    assert_null(d->source.key_from_name);
    assert_string_equal(d->lake_url, "s3://bucket/lake/");

    assert_string_equal(d->bronze.table, "orders_raw");
    static const char *const names[] = {"order_id", "customer_id", "amount",
                                        "qty",      "updated_at",  "op"};
    static const pq_type types[] = {PQ_TYPE_STRING, PQ_TYPE_STRING,       PQ_TYPE_DOUBLE,
                                    PQ_TYPE_INT32,  PQ_TYPE_TIMESTAMP_US, PQ_TYPE_STRING};
    assert_int_equal(d->bronze.ncols, 6);
    for (size_t i = 0; i < 6; i++) { /* file order is kept */
        assert_string_equal(d->bronze.cols[i].name, names[i]);
        assert_int_equal(d->bronze.cols[i].type, types[i]);
        assert_true(d->bronze.cols[i].nullable);
    }
    assert_int_equal(pipeline_def_col(d, "qty"), 3);
    assert_int_equal(pipeline_def_col(d, "nope"), -1);
    assert_int_equal(d->bronze.npartition_by, 1);
    assert_string_equal(d->bronze.partition_by[0], "_ingest_date");
    assert_int_equal(d->bronze.on_schema_drift, PL_DRIFT_RESCUE);

    assert_string_equal(d->silver.table, "orders");
    assert_int_equal(d->silver.nkeys, 1);
    assert_string_equal(d->silver.keys[0], "order_id");
    assert_string_equal(d->silver.sequence_by, "updated_at");
    assert_string_equal(d->silver.delete_column, "op");
    assert_string_equal(d->silver.delete_equals, "D");

    assert_string_equal(d->gold.table, "orders_by_day");
    assert_int_equal(d->gold.ngroup_by, 1);
    assert_string_equal(d->gold.group_by[0], "day");
    assert_string_equal(d->gold.day_from, "updated_at");
    assert_int_equal(d->gold.naggregates, 2);
    assert_string_equal(d->gold.aggregates[0].name, "orders");
    assert_int_equal(d->gold.aggregates[0].fn, PL_AGG_COUNT);
    assert_null(d->gold.aggregates[0].column);
    assert_string_equal(d->gold.aggregates[1].name, "revenue");
    assert_int_equal(d->gold.aggregates[1].fn, PL_AGG_SUM);
    assert_string_equal(d->gold.aggregates[1].column, "amount");

    assert_int_equal(d->nexpectations, 3);
    assert_string_equal(d->expectations[0].name, "amount_present");
    assert_string_equal(d->expectations[0].column, "amount");
    assert_int_equal(d->expectations[0].rule, PL_RULE_NOT_NULL);
    assert_int_equal(d->expectations[0].on_fail, PL_FAIL_QUARANTINE);
    assert_int_equal(d->expectations[1].rule, PL_RULE_GT);
    assert_true(d->expectations[1].number == 0.0);
    assert_int_equal(d->expectations[1].on_fail, PL_FAIL_DROP);
    assert_int_equal(d->expectations[2].on_fail, PL_FAIL_FAIL);

    assert_true(d->checks.max_count_mismatch_pct == 1.0);
    assert_int_equal(d->retries.max_attempts, 3);
    assert_int_equal(d->retries.backoff_ms, 5000);
    assert_int_equal(d->optimize.every_runs, 20);
    assert_int_equal(d->optimize.nzorder_by, 1);
    assert_string_equal(d->optimize.zorder_by[0], "customer_id");
    assert_true(d->vacuum.retain_hours == 168.0);
    assert_int_equal(d->vacuum.every_runs, 50);

    char *url = pipeline_table_url(d, d->silver.table);
    assert_string_equal(url, "s3://bucket/lake/orders");
    free(url);
    url = pipeline_table_url(d, "_sluice/runs");
    assert_string_equal(url, "s3://bucket/lake/_sluice/runs");
    free(url);
    char *app = pipeline_app_id(d, "silver");
    assert_string_equal(app, "sluice:orders:silver");
    free(app);
    pipeline_def_free(d);
}

/* A pipeline document from parts; NULL takes the default part. */
static char *doc(const char *top, const char *source, const char *bronze,
                 const char *rest)
{
    return sl_asprintf(
        "{%s\"source\": %s, \"bronze\": %s%s%s}", top ? top : "\"name\": \"orders\", ",
        source ? source : "{\"url\": \"incoming\"}",
        bronze ? bronze
               : "{\"table\": \"orders_raw\", \"schema\": {\"order_id\": \"string\", "
                 "\"customer_id\": \"string\", \"amount\": \"double\", \"qty\": "
                 "\"int\", \"updated_at\": \"timestamp\", \"op\": \"string\", "
                 "\"ok\": \"boolean\"}}",
        rest ? ", " : "", rest ? rest : "");
}

static pipeline_def *parse_ok(char *text, const char *lake)
{
    pipeline_def *d = NULL;
    sl_err e = {0};
    sl_code c = pipeline_def_parse(text, FILE_NAME, "/etc/sl", lake, &d, &e);
    if (c != SL_OK)
        fprintf(stderr, "unexpected error: %s\n", e.msg);
    assert_int_equal(c, SL_OK);
    free(text);
    return d;
}

static void test_defaults_and_resolution(void **state)
{
    (void)state;
    pipeline_def *d = parse_ok(doc(NULL, NULL, NULL, NULL), "/data/lake");
    assert_string_equal(d->source.url, "/etc/sl/incoming"); /* against base_dir */
    assert_int_equal(d->source.layout, PL_LAYOUT_EPOCH);
    assert_int_equal(d->source.format, PL_FORMAT_JSONL);
    assert_string_equal(d->source.ready_marker, "_SUCCESS");
    assert_int_equal(d->source.settle_ms, 0);
    assert_string_equal(d->lake_url, "/data/lake"); /* sluice.json's lake */
    assert_int_equal(d->bronze.npartition_by, 0);
    assert_int_equal(d->bronze.on_schema_drift, PL_DRIFT_RESCUE);
    assert_null(d->silver.table);
    assert_null(d->gold.table);
    assert_int_equal(d->nexpectations, 0);
    assert_true(d->checks.max_count_mismatch_pct == 1.0);
    assert_int_equal(d->retries.max_attempts, 3);
    assert_int_equal(d->retries.backoff_ms, 5000);
    assert_int_equal(d->optimize.every_runs, 0);
    assert_true(d->vacuum.retain_hours == 168.0);
    assert_int_equal(d->vacuum.every_runs, 0);
    pipeline_def_free(d);

    /* Own lake, relative, absolute and URL locations; no ready marker. */
    d = parse_ok(doc("\"name\": \"o-2_x\", \"lake\": \"../lake\", ",
                     "{\"url\": \"/abs/in\", \"ready_marker\": null, \"settle_seconds\": "
                     "1.5}",
                     NULL, NULL),
                 "/data/lake");
    assert_string_equal(d->lake_url, "/etc/sl/../lake");
    assert_string_equal(d->source.url, "/abs/in");
    assert_null(d->source.ready_marker);
    assert_int_equal(d->source.settle_ms, 1500);
    pipeline_def_free(d);
    d = parse_ok(doc("\"name\": \"o\", \"lake\": \"file:///l\", ", NULL, NULL, NULL),
                 NULL);
    assert_string_equal(d->lake_url, "file:///l");
    pipeline_def_free(d);

    /* Without base_dir, relative URLs resolve against the file's directory. */
    pipeline_def *d2 = NULL;
    sl_err e = {0};
    char *text = doc(NULL, NULL, NULL, NULL);
    assert_int_equal(pipeline_def_parse(text, "/srv/p/orders.json", NULL, "/l", &d2, &e),
                     SL_OK);
    assert_string_equal(d2->source.url, "/srv/p/incoming");
    free(text);
    pipeline_def_free(d2);
}

static void test_files_layout_types_rules(void **state)
{
    (void)state;
    pipeline_def *d = parse_ok(
        doc(NULL,
            "{\"url\": \"in\", \"layout\": \"files\", \"format\": \"csv\", "
            "\"key_from_name\": \"id-([0-9]+)\\\\.txt\"}",
            "{\"table\": \"lake/raw-1\", \"on_schema_drift\": \"evolve\", "
            "\"partition_by\": [\"d\"], \"schema\": {\"s\": \"string\", \"i\": \"int\", "
            "\"l\": \"long\", \"d\": \"date\", \"f\": \"float\", \"b\": \"boolean\", "
            "\"t\": \"timestamp\", \"x\": \"double\", \"m\": \"decimal(10,2)\", "
            "\"big\": \"decimal( 38 , 0 )\"}}",
            "\"silver\": {\"table\": \"s\", \"keys\": [\"s\", \"i\"], \"delete_when\": "
            "{\"column\": \"b\", \"equals\": true}}, "
            "\"gold\": {\"table\": \"g\", \"group_by\": [\"s\", \"day\"], \"day_from\": "
            "\"t\", \"aggregates\": {\"n\": \"count\", \"lo\": \"min(s)\", \"hi\": "
            "\"max(m)\", \"mean\": \"avg( x )\", \"total\": \"sum(l)\"}}, "
            "\"expectations\": [{\"name\": \"a\", \"column\": \"x\", \"rule\": \">= "
            "1.5\"},"
            "{\"name\": \"b\", \"column\": \"i\", \"rule\": \"<10\"},"
            "{\"name\": \"c\", \"column\": \"l\", \"rule\": \"<=-3\"},"
            "{\"name\": \"d\", \"column\": \"m\", \"rule\": \"==2.5\"},"
            "{\"name\": \"e\", \"column\": \"f\", \"rule\": \"!=0\"},"
            "{\"name\": \"f\", \"column\": \"s\", \"rule\": \"in:a, b ,c d\"}]"),
        "/l");
    assert_int_equal(d->source.layout, PL_LAYOUT_FILES);
    assert_int_equal(d->source.format, PL_FORMAT_CSV);
    assert_string_equal(d->source.key_from_name, "id-([0-9]+)\\.txt");
    assert_null(d->source.ready_marker); /* no marker in the files layout */
    assert_string_equal(d->bronze.table, "lake/raw-1");
    assert_int_equal(d->bronze.on_schema_drift, PL_DRIFT_EVOLVE);
    static const pq_type want[] = {PQ_TYPE_STRING,
                                   PQ_TYPE_INT32,
                                   PQ_TYPE_INT64,
                                   PQ_TYPE_DATE,
                                   PQ_TYPE_FLOAT,
                                   PQ_TYPE_BOOLEAN,
                                   PQ_TYPE_TIMESTAMP_US,
                                   PQ_TYPE_DOUBLE,
                                   PQ_TYPE_DECIMAL_OF(10, 2),
                                   PQ_TYPE_DECIMAL_OF(38, 0)};
    assert_int_equal(d->bronze.ncols, 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(d->bronze.cols[i].type, want[i]);
    assert_int_equal(pq_type_precision(d->bronze.cols[8].type), 10);
    assert_int_equal(pq_type_scale(d->bronze.cols[8].type), 2);
    assert_string_equal(d->silver.delete_equals, "true");
    assert_null(d->silver.sequence_by);
    static const pl_agg fns[] = {PL_AGG_COUNT, PL_AGG_MIN, PL_AGG_MAX, PL_AGG_AVG,
                                 PL_AGG_SUM};
    static const char *const cols[] = {NULL, "s", "m", "x", "l"};
    assert_int_equal(d->gold.naggregates, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(d->gold.aggregates[i].fn, fns[i]);
        if (cols[i])
            assert_string_equal(d->gold.aggregates[i].column, cols[i]);
        else
            assert_null(d->gold.aggregates[i].column);
    }
    static const pl_rule rules[] = {PL_RULE_GE, PL_RULE_LT, PL_RULE_LE,
                                    PL_RULE_EQ, PL_RULE_NE, PL_RULE_IN};
    static const double nums[] = {1.5, 10, -3, 2.5, 0};
    assert_int_equal(d->nexpectations, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(d->expectations[i].rule, rules[i]);
        assert_int_equal(d->expectations[i].on_fail, PL_FAIL_QUARANTINE); /* default */
        if (i < 5)
            assert_true(d->expectations[i].number == nums[i]);
    }
    assert_int_equal(d->expectations[5].nin_values, 3);
    assert_string_equal(d->expectations[5].in_values[0], "a");
    assert_string_equal(d->expectations[5].in_values[1], "b");
    assert_string_equal(d->expectations[5].in_values[2], "c d");
    pipeline_def_free(d);

    /* delete_when.equals as an integer; a declared "day" column is a column. */
    d = parse_ok(
        doc(NULL, NULL,
            "{\"table\": \"r\", \"schema\": {\"k\": \"long\", \"day\": \"date\", "
            "\"del\": \"int\"}}",
            "\"silver\": {\"table\": \"s\", \"keys\": [\"k\"], \"sequence_by\": "
            "\"k\", \"delete_when\": {\"column\": \"del\", \"equals\": 1}}, "
            "\"gold\": {\"table\": \"g\", \"group_by\": [\"day\"], "
            "\"aggregates\": {\"n\": \"count\"}}"),
        "/l");
    assert_string_equal(d->silver.delete_equals, "1");
    assert_null(d->gold.day_from);
    assert_string_equal(d->gold.group_by[0], "day");
    pipeline_def_free(d);
}

/* The parse fails with SL_PIPELINE_INVALID, names the file, and the message
 * holds needle (the JSON path and what is wrong). */
static void expect_bad_lake(char *text, const char *lake, const char *needle)
{
    pipeline_def *d = NULL;
    sl_err e = {0};
    sl_code c = pipeline_def_parse(text, FILE_NAME, "/etc/sl", lake, &d, &e);
    if (c != SL_PIPELINE_INVALID || !strstr(e.msg, needle) ||
        strncmp(e.msg, FILE_NAME, strlen(FILE_NAME)) != 0)
        fprintf(stderr, "for %s\n  got %s \"%s\"\n  want \"%s\"\n", text,
                err_code_name(c), e.msg, needle);
    assert_int_equal(c, SL_PIPELINE_INVALID);
    assert_null(d);
    assert_non_null(strstr(e.msg, needle));
    assert_memory_equal(e.msg, FILE_NAME, strlen(FILE_NAME));
    free(text);
}

static void expect_bad(char *text, const char *needle)
{
    expect_bad_lake(text, "/l", needle);
}

#define SILVER "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"]}"
#define EXP(x) "\"expectations\": [" x "]"

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_bad(doc("\"nmae\": 1, \"name\": \"o\", ", NULL, NULL, NULL),
               FILE_NAME ": nmae: unknown key");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"sequnce_by\": \"updated_at\"}"),
               FILE_NAME ": silver.sequnce_by: unknown key");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"formt\": \"csv\"}", NULL, NULL),
               "source.formt: unknown key");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"int\"}, \"partition\": []}",
                   NULL),
               "bronze.partition: unknown key");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"delete_when\": {\"column\": \"op\", \"equals\": \"D\", \"x\": 1}}"),
               "silver.delete_when.x: unknown key");
    expect_bad(doc(NULL, NULL, NULL,
                   SILVER ", \"gold\": {\"table\": \"g\", \"group_by\": [\"op\"], "
                          "\"aggregates\": {\"n\": \"count\"}, \"having\": 1}"),
               "gold.having: unknown key");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"qty\", \"rule\": \">0\"}, "
                       "{\"name\": \"b\", \"column\": \"qty\", \"rule\": \">0\", "
                       "\"severity\": 1}")),
               "expectations[1].severity: unknown key");
    expect_bad(doc(NULL, NULL, NULL, "\"checks\": {\"max_mismatch\": 1}"),
               "checks.max_mismatch: unknown key");
    expect_bad(doc(NULL, NULL, NULL, "\"retries\": {\"attempts\": 1}"),
               "retries.attempts: unknown key");
    expect_bad(doc(NULL, NULL, NULL, "\"optimize\": {\"zorder\": []}"),
               "optimize.zorder: unknown key");
    expect_bad(doc(NULL, NULL, NULL, "\"vacuum\": {\"retain_days\": 7}"),
               "vacuum.retain_days: unknown key");
}

static void test_bad_top_and_source(void **state)
{
    (void)state;
    expect_bad(sl_strdup("{\n  \"name\": \"o\",\n  \"source\": \n}"), FILE_NAME ":4:");
    expect_bad(sl_strdup("{\"name\": \"o\", \"name\": \"p\"}"), "name");
    expect_bad(sl_strdup("[1]"), "top level must be an object");
    expect_bad(doc("", NULL, NULL, NULL), "name: missing");
    expect_bad(doc("\"name\": \"bad name\", ", NULL, NULL, NULL), "name: \"bad name\"");
    expect_bad(doc("\"name\": \"a.b\", ", NULL, NULL, NULL), "name: \"a.b\"");
    expect_bad(doc("\"name\": 7, ", NULL, NULL, NULL),
               "name: must be a non-empty string");
    expect_bad(sl_strdup("{\"name\": \"o\", \"bronze\": {}}"), "source: missing");
    expect_bad(doc(NULL, "\"in\"", NULL, NULL), "source: must be an object");
    expect_bad(doc(NULL, "{}", NULL, NULL), "source.url: missing");
    expect_bad(doc(NULL, "{\"url\": \"\"}", NULL, NULL),
               "source.url: must be a non-empty");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"layout\": \"folders\"}", NULL, NULL),
               "source.layout: \"folders\" is not one of \"epoch\", \"files\"");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"format\": \"xml\"}", NULL, NULL),
               "source.format: \"xml\" is not one of");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"format\": 1}", NULL, NULL),
               "source.format: must be one of");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"settle_seconds\": \"60\"}", NULL, NULL),
               "source.settle_seconds: must be a number");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"settle_seconds\": -1}", NULL, NULL),
               "source.settle_seconds: -1 is out of range");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"layout\": \"files\"}", NULL, NULL),
               "source.key_from_name: missing");
    expect_bad(
        doc(NULL, "{\"url\": \"x\", \"layout\": \"files\", \"key_from_name\": \"id-(x\"}",
            NULL, NULL),
        "source.key_from_name: \"id-(x\" is not a POSIX extended regex");
    expect_bad(doc(NULL,
                   "{\"url\": \"x\", \"layout\": \"files\", \"key_from_name\": "
                   "\"(a)-(b)\"}",
                   NULL, NULL),
               "source.key_from_name: \"(a)-(b)\" has 2 capture groups");
    expect_bad(doc(NULL,
                   "{\"url\": \"x\", \"layout\": \"files\", \"key_from_name\": \"a.*\"}",
                   NULL, NULL),
               "has 0 capture groups");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"key_from_name\": \"(a)\"}", NULL, NULL),
               "source.key_from_name: applies to the files layout only");
    expect_bad(doc(NULL,
                   "{\"url\": \"x\", \"layout\": \"files\", \"key_from_name\": \"(a)\", "
                   "\"ready_marker\": \"_OK\"}",
                   NULL, NULL),
               "source.ready_marker: applies to the epoch layout only");
    expect_bad(doc(NULL, "{\"url\": \"x\", \"ready_marker\": \"a/b\"}", NULL, NULL),
               "source.ready_marker: names a file");
    expect_bad_lake(doc(NULL, NULL, NULL, NULL), NULL, "lake: missing");
    expect_bad(doc("\"name\": \"o\", \"lake\": 3, ", NULL, NULL, NULL),
               "lake: must be a non-empty string");
}

static void test_bad_bronze(void **state)
{
    (void)state;
    expect_bad(doc(NULL, NULL, "{\"schema\": {\"a\": \"int\"}}", NULL),
               "bronze.table: missing");
    expect_bad(doc(NULL, NULL, "{\"table\": \"t\"}", NULL), "bronze.schema: missing");
    expect_bad(doc(NULL, NULL, "{\"table\": \"t\", \"schema\": {}}", NULL),
               "bronze.schema: must declare at least one column");
    expect_bad(doc(NULL, NULL, "{\"table\": \"t\", \"schema\": [\"a\"]}", NULL),
               "bronze.schema: must be an object");
    expect_bad(
        doc(NULL, NULL, "{\"table\": \"t\", \"schema\": {\"a\": \"money\"}}", NULL),
        "bronze.schema.a: unknown type \"money\"");
    expect_bad(doc(NULL, NULL, "{\"table\": \"t\", \"schema\": {\"a\": 1}}", NULL),
               "bronze.schema.a: a column type must be a string");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"decimal(39,2)\"}}", NULL),
               "bronze.schema.a: \"decimal(39,2)\": a decimal's precision");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"decimal(5,6)\"}}", NULL),
               "bronze.schema.a: \"decimal(5,6)\"");
    expect_bad(
        doc(NULL, NULL, "{\"table\": \"t\", \"schema\": {\"a\": \"decimal(5)\"}}", NULL),
        "unknown type \"decimal(5)\"");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"int\", \"_source_file\": "
                   "\"string\"}}",
                   NULL),
               "bronze.schema._source_file: \"_source_file\" is a column sluice adds");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"int\"}, \"partition_by\": "
                   "[\"nope\"]}",
                   NULL),
               "bronze.partition_by[0]: no column \"nope\" in bronze.schema (nor is it "
               "_ingest_date)");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"int\"}, \"partition_by\": "
                   "\"a\"}",
                   NULL),
               "bronze.partition_by: must be an array");
    expect_bad(doc(NULL, NULL,
                   "{\"table\": \"t\", \"schema\": {\"a\": \"int\"}, \"partition_by\": "
                   "[\"a\", \"a\"]}",
                   NULL),
               "bronze.partition_by[1]: \"a\" is listed twice");
    expect_bad(
        doc(NULL, NULL,
            "{\"table\": \"t\", \"schema\": {\"a\": \"int\"}, \"on_schema_drift\": "
            "\"ignore\"}",
            NULL),
        "bronze.on_schema_drift: \"ignore\" is not one of \"rescue\", \"evolve\", "
        "\"fail\"");
    expect_bad(
        doc(NULL, NULL, "{\"table\": \"_sluice/x\", \"schema\": {\"a\": \"int\"}}", NULL),
        "bronze.table: \"_sluice/x\" is not a table name");
    expect_bad(
        doc(NULL, NULL, "{\"table\": \"a/../b\", \"schema\": {\"a\": \"int\"}}", NULL),
        "bronze.table: \"a/../b\" is not a table name");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"orders_raw\", \"keys\": "
                   "[\"order_id\"]}"),
               "silver.table: \"orders_raw\" is also bronze.table");
    expect_bad(doc(NULL, NULL, NULL,
                   SILVER ", \"gold\": {\"table\": \"orders_raw_quarantine\", "
                          "\"group_by\": [\"op\"], \"aggregates\": {\"n\": \"count\"}}"),
               "gold.table: \"orders_raw_quarantine\" is also the quarantine table");
}

static void test_bad_silver_gold(void **state)
{
    (void)state;
    expect_bad(doc(NULL, NULL, NULL, "\"silver\": {\"keys\": [\"order_id\"]}"),
               "silver.table: missing");
    expect_bad(doc(NULL, NULL, NULL, "\"silver\": {\"table\": \"s\"}"),
               "silver.keys: missing");
    expect_bad(doc(NULL, NULL, NULL, "\"silver\": {\"table\": \"s\", \"keys\": []}"),
               "silver.keys: must name at least one column");
    expect_bad(
        doc(NULL, NULL, NULL, "\"silver\": {\"table\": \"s\", \"keys\": \"order_id\"}"),
        "silver.keys: must be an array of strings");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\", \"nope\"]}"),
               "silver.keys[1]: no column \"nope\" in bronze.schema");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"sequence_by\": \"updated\"}"),
               "silver.sequence_by: no column \"updated\"");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"delete_when\": {\"column\": \"opp\", \"equals\": \"D\"}}"),
               "silver.delete_when.column: no column \"opp\"");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"delete_when\": {\"column\": \"op\"}}"),
               "silver.delete_when.equals: missing");
    expect_bad(doc(NULL, NULL, NULL,
                   "\"silver\": {\"table\": \"s\", \"keys\": [\"order_id\"], "
                   "\"delete_when\": {\"column\": \"op\", \"equals\": [1]}}"),
               "silver.delete_when.equals: must be a string, integer or boolean");

#define GOLD(g) SILVER ", \"gold\": {\"table\": \"g\", " g "}"
    expect_bad(doc(NULL, NULL, NULL,
                   "\"gold\": {\"table\": \"g\", \"group_by\": [\"op\"], \"aggregates\": "
                   "{\"n\": \"count\"}}"),
               "gold: needs a silver section");
    expect_bad(doc(NULL, NULL, NULL, GOLD("\"aggregates\": {\"n\": \"count\"}")),
               "gold.group_by: missing");
    expect_bad(doc(NULL, NULL, NULL, GOLD("\"group_by\": [\"op\"]")),
               "gold.aggregates: missing");
    expect_bad(doc(NULL, NULL, NULL, GOLD("\"group_by\": [\"op\"], \"aggregates\": {}")),
               "gold.aggregates: must define at least one aggregate");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": "
                        "\"median(amount)\"}")),
               "gold.aggregates.m: \"median(amount)\" is not an aggregate");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": \"sum\"}")),
               "gold.aggregates.m: \"sum\" is not an aggregate");
    expect_bad(
        doc(NULL, NULL, NULL,
            GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": \"sum(nope)\"}")),
        "gold.aggregates.m: \"sum(nope)\": no column \"nope\"");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": "
                        "\"avg(customer_id)\"}")),
               "gold.aggregates.m: \"avg(customer_id)\": avg needs a numeric column");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": \"max(ok)\"}")),
               "max of a boolean column");
    expect_bad(
        doc(NULL, NULL, NULL, GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"m\": 3}")),
        "gold.aggregates.m: must be a string");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"aggregates\": {\"op\": \"count\"}")),
               "gold.aggregates.op: \"op\" is also a group_by column");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"nope\"], \"aggregates\": {\"n\": \"count\"}")),
               "gold.group_by[0]: no column \"nope\"");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"day\"], \"aggregates\": {\"n\": \"count\"}")),
               "gold.group_by[0]: \"day\" needs gold.day_from");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"day\"], \"day_from\": \"amount\", "
                        "\"aggregates\": {\"n\": \"count\"}")),
               "gold.day_from: \"amount\" is not a timestamp column");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"day\"], \"day_from\": \"when\", "
                        "\"aggregates\": {\"n\": \"count\"}")),
               "gold.day_from: no column \"when\"");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\"], \"day_from\": \"updated_at\", "
                        "\"aggregates\": {\"n\": \"count\"}")),
               "gold.day_from: is set but gold.group_by does not list \"day\"");
    expect_bad(doc(NULL, NULL, NULL,
                   GOLD("\"group_by\": [\"op\", \"op\"], \"aggregates\": {\"n\": "
                        "\"count\"}")),
               "gold.group_by[1]: \"op\" is listed twice");
#undef GOLD
}

static void test_bad_expectations_and_cadence(void **state)
{
    (void)state;
    expect_bad(doc(NULL, NULL, NULL, "\"expectations\": {}"),
               "expectations: must be an array");
    expect_bad(doc(NULL, NULL, NULL, EXP("1")), "expectations[0]: must be an object");
    expect_bad(doc(NULL, NULL, NULL, EXP("{\"column\": \"qty\", \"rule\": \">0\"}")),
               "expectations[0].name: missing");
    expect_bad(doc(NULL, NULL, NULL, EXP("{\"name\": \"a\", \"rule\": \">0\"}")),
               "expectations[0].column: missing");
    expect_bad(doc(NULL, NULL, NULL, EXP("{\"name\": \"a\", \"column\": \"qty\"}")),
               "expectations[0].rule: missing");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"qtty\", \"rule\": \">0\"}")),
               "expectations[0].column: no column \"qtty\"");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"qty\", \"rule\": \">x\"}")),
               "expectations[0].rule: \">x\": > needs a number after it");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"qty\", \"rule\": \">=\"}")),
               "expectations[0].rule: \">=\": >= needs a number");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"qty\", \"rule\": \"<1e999\"}")),
               "expectations[0].rule: \"<1e999\"");
    expect_bad(
        doc(NULL, NULL, NULL,
            EXP("{\"name\": \"a\", \"column\": \"qty\", \"rule\": \"between:1,2\"}")),
        "expectations[0].rule: \"between:1,2\" is not a rule");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"op\", \"rule\": \">0\"}")),
               "expectations[0].rule: \">0\" compares numbers but column \"op\" is not "
               "numeric");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"op\", \"rule\": \"in:a,,b\"}")),
               "expectations[0].rule: \"in:a,,b\" has an empty value");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"op\", \"rule\": \"in:\"}")),
               "has an empty value");
    expect_bad(
        doc(NULL, NULL, NULL,
            EXP("{\"name\": \"a\", \"column\": \"op\", \"rule\": \"not_null\", "
                "\"on_fail\": \"warn\"}")),
        "expectations[0].on_fail: \"warn\" is not one of \"drop\", \"quarantine\", "
        "\"fail\"");
    expect_bad(doc(NULL, NULL, NULL,
                   EXP("{\"name\": \"a\", \"column\": \"op\", \"rule\": \"not_null\"}, "
                       "{\"name\": \"a\", \"column\": \"qty\", \"rule\": \"not_null\"}")),
               "expectations[1].name: \"a\" is used by expectations[0] too");

    expect_bad(doc(NULL, NULL, NULL, "\"checks\": {\"max_count_mismatch_pct\": \"1\"}"),
               "checks.max_count_mismatch_pct: must be a number");
    expect_bad(doc(NULL, NULL, NULL, "\"checks\": {\"max_count_mismatch_pct\": 101}"),
               "checks.max_count_mismatch_pct: 101 is out of range");
    expect_bad(doc(NULL, NULL, NULL, "\"checks\": 1"), "checks: must be an object");
    expect_bad(doc(NULL, NULL, NULL, "\"retries\": {\"max_attempts\": 0}"),
               "retries.max_attempts: 0 is out of range");
    expect_bad(doc(NULL, NULL, NULL, "\"retries\": {\"max_attempts\": 2.5}"),
               "retries.max_attempts: must be a whole number");
    expect_bad(doc(NULL, NULL, NULL, "\"retries\": {\"backoff_seconds\": -1}"),
               "retries.backoff_seconds: -1 is out of range");
    expect_bad(doc(NULL, NULL, NULL, "\"optimize\": {\"zorder_by\": [\"nope\"]}"),
               "optimize.zorder_by[0]: no column \"nope\"");
    expect_bad(doc(NULL, NULL, NULL, "\"optimize\": {\"every_runs\": -1}"),
               "optimize.every_runs: -1 is out of range");
    expect_bad(doc(NULL, NULL, NULL, "\"vacuum\": {\"retain_hours\": \"168\"}"),
               "vacuum.retain_hours: must be a number");
    expect_bad(doc(NULL, NULL, NULL, "\"vacuum\": {\"every_runs\": true}"),
               "vacuum.every_runs: must be a whole number");
}

static void test_load_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("pipeline_def");
    tu_write_file(dir, "pipelines/orders.json", example);
    char *path = sl_asprintf("%s/pipelines/orders.json", dir);
    pipeline_def *d = NULL;
    sl_err e = {0};
    assert_int_equal(pipeline_def_load(path, dir, NULL, &d, &e), SL_OK);
    assert_string_equal(d->name, "orders");
    assert_string_equal(d->path, path);
    pipeline_def_free(d);
    free(path);
    path = sl_asprintf("%s/pipelines/missing.json", dir);
    assert_int_equal(pipeline_def_load(path, dir, NULL, &d, &e), SL_PIPELINE_INVALID);
    assert_null(d);
    assert_non_null(strstr(e.msg, "missing.json"));
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void test_name_check(void **state)
{
    (void)state;
    assert_true(pipeline_name_ok("orders"));
    assert_true(pipeline_name_ok("Orders_2-x"));
    assert_false(pipeline_name_ok(""));
    assert_false(pipeline_name_ok("a.b"));
    assert_false(pipeline_name_ok("a/b"));
    assert_false(pipeline_name_ok(NULL));
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(pipeline_name_ok(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_example),
        cmocka_unit_test(test_defaults_and_resolution),
        cmocka_unit_test(test_files_layout_types_rules),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_bad_top_and_source),
        cmocka_unit_test(test_bad_bronze),
        cmocka_unit_test(test_bad_silver_gold),
        cmocka_unit_test(test_bad_expectations_and_cadence),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_name_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
