/* The ingest step on a local lake: bronze and quarantine contents exact
 * (rows read back from the data files), each drift mode, each kind of
 * expectation, CSV and Parquet sources, files cut by size in one commit,
 * partitions, and re-runs that do nothing twice. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/ingest.h"
#include "backend/util/buf.h"
#include "testutil.h"

/* 2026-03-04T05:06:07Z */
#define INGEST_US 1772600767000000LL

typedef struct lake_fx {
    char *dir;
    store *src, *lake;
    pipeline_def *d;
} lake_fx;

static const pq_schema_col DECL[] = {
    {"order_id", PQ_TYPE_STRING, true}, {"amount", PQ_TYPE_DOUBLE, true},
    {"qty", PQ_TYPE_INT32, true},       {"updated_at", PQ_TYPE_TIMESTAMP_US, true},
    {"op", PQ_TYPE_STRING, true},
};
#define NDECL (sizeof DECL / sizeof *DECL)

static pipeline_def *def_new(pl_format fmt, pl_drift drift)
{
    pipeline_def *d = sl_calloc(1, sizeof *d);
    d->name = sl_strdup("orders");
    d->source.format = fmt;
    d->bronze.table = sl_strdup("orders_raw");
    d->bronze.cols = sl_calloc(NDECL, sizeof *d->bronze.cols);
    for (size_t i = 0; i < NDECL; i++) {
        d->bronze.cols[i] = DECL[i];
        d->bronze.cols[i].name = sl_strdup(DECL[i].name);
    }
    d->bronze.ncols = NDECL;
    d->bronze.partition_by = sl_calloc(1, sizeof(char *));
    d->bronze.partition_by[0] = sl_strdup("_ingest_date");
    d->bronze.npartition_by = 1;
    d->bronze.on_schema_drift = drift;
    d->checks.max_count_mismatch_pct = 1.0;
    return d;
}

static void def_expect(pipeline_def *d, const char *name, const char *col, pl_rule rule,
                       double num, pl_on_fail on_fail)
{
    d->expectations =
        sl_realloc(d->expectations, (d->nexpectations + 1) * sizeof *d->expectations);
    pl_expectation *e = &d->expectations[d->nexpectations++];
    memset(e, 0, sizeof *e);
    e->name = sl_strdup(name);
    e->column = sl_strdup(col);
    e->rule = rule;
    e->number = num;
    e->on_fail = on_fail;
}

static void def_free(pipeline_def *d)
{
    free(d->name);
    free(d->bronze.table);
    for (size_t i = 0; i < d->bronze.ncols; i++)
        free((char *)d->bronze.cols[i].name);
    free(d->bronze.cols);
    for (size_t i = 0; i < d->bronze.npartition_by; i++)
        free(d->bronze.partition_by[i]);
    free(d->bronze.partition_by);
    for (size_t i = 0; i < d->nexpectations; i++) {
        free(d->expectations[i].name);
        free(d->expectations[i].column);
    }
    free(d->expectations);
    free(d);
}

static void fx_open(lake_fx *fx, pl_format fmt, pl_drift drift)
{
    fx->dir = tu_mkdtemp("ingest");
    char *src = sl_asprintf("%s/src", fx->dir), *lake = sl_asprintf("%s/lake", fx->dir);
    tu_write_file(fx->dir, "src/.keep", "");
    tu_write_file(fx->dir, "lake/.keep", "");
    sl_err e = {0};
    assert_int_equal(store_open(src, &fx->src, &e), SL_OK);
    assert_int_equal(store_open(lake, &fx->lake, &e), SL_OK);
    free(src);
    free(lake);
    fx->d = def_new(fmt, drift);
}

static void fx_close(lake_fx *fx)
{
    store_close(fx->src);
    store_close(fx->lake);
    def_free(fx->d);
    tu_rmtree(fx->dir);
    free(fx->dir);
}

static void put_src(lake_fx *fx, const char *key, const char *text, size_t len)
{
    sl_err e = {0};
    assert_int_equal(store_put(fx->src, key, text, len, &e), SL_OK);
}

static sl_code run_batch(lake_fx *fx, const char *const *files, size_t n, int64_t batch,
                         int64_t file_rows, ingest_result *res, sl_err *e)
{
    ingest_req req = {
        .def = fx->d,
        .source = fx->src,
        .files = files,
        .nfiles = n,
        .epoch = 1000 + batch,
        .batch_id = batch,
        .ingest_time_us = INGEST_US,
        .file_rows = file_rows,
    };
    return ingest_run(fx->lake, &req, res, e);
}

/* ---- reading tables back ---------------------------------------------- */

static void cell_text(sl_buf *b, pq_type t, const pq_value *v)
{
    if (v->is_null) {
        buf_append_str(b, "~");
        return;
    }
    switch (pq_type_base(t)) {
    case PQ_TYPE_STRING:
        buf_append(b, v->str.ptr, v->str.len);
        break;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        buf_appendf(b, "%d", v->i32);
        break;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
        buf_appendf(b, "%" PRId64, v->i64);
        break;
    case PQ_TYPE_DOUBLE:
        buf_appendf(b, "%g", v->f64);
        break;
    case PQ_TYPE_BOOLEAN:
        buf_append_str(b, v->b ? "true" : "false");
        break;
    default:
        buf_append_str(b, "?");
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table's rows, each "col=value|..." for the named columns in that
 * order (all when NULL), sorted, one a line; *nfiles gets the live data files. */
static char *table_text(store *lake, const char *key, const char *const *want,
                        size_t nwant, size_t *nfiles, int64_t *version)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_err e = {0};
    assert_int_equal(delta_snapshot_open(lake, key, &latest, &snap, &e), SL_OK);
    pq_schema_col *cols;
    size_t ncols;
    assert_int_equal(delta_schema_cols(snap->metadata, &cols, &ncols, &e), SL_OK);
    delta_rows rows;
    delta_rows_init(&rows, cols, ncols);
    for (size_t f = 0; f < snap->nfiles; f++)
        assert_int_equal(
            delta_rows_read_file(lake, key, &snap->files[f], cols, ncols, &rows, &e),
            SL_OK);
    char **lines = sl_calloc(rows.nrows + 1, sizeof *lines);
    for (size_t r = 0; r < rows.nrows; r++) {
        sl_buf b = {0};
        int first = 1;
        size_t nshow = want ? nwant : ncols;
        for (size_t w = 0; w < nshow; w++) {
            size_t k = w;
            if (want)
                for (k = 0; k < ncols && strcmp(want[w], cols[k].name) != 0; k++)
                    ;
            assert_true(k < ncols);
            if (!first)
                buf_append_char(&b, '|');
            first = 0;
            buf_appendf(&b, "%s=", cols[k].name);
            cell_text(&b, cols[k].type, &rows.cells[r * ncols + k]);
        }
        lines[r] = buf_steal(&b);
    }
    qsort(lines, rows.nrows, sizeof *lines, cmp_str);
    sl_buf out = {0};
    buf_append_str(&out, "");
    for (size_t r = 0; r < rows.nrows; r++) {
        buf_appendf(&out, "%s\n", lines[r]);
        free(lines[r]);
    }
    free(lines);
    if (nfiles)
        *nfiles = snap->nfiles;
    if (version)
        *version = snap->version;
    delta_rows_free(&rows);
    delta_schema_cols_free(cols, ncols);
    delta_snapshot_free(snap);
    return buf_steal(&out);
}

static void expect_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", got, want);
    assert_string_equal(got, want);
}

static const char *const BRONZE_VIEW[] = {"_source_file", "_source_line", "order_id",
                                          "amount",       "qty",          "updated_at",
                                          "op",           "_rescued_data"};
static const char *const QUAR_VIEW[] = {"_source_file", "_source_line", "_raw",
                                        "_reason",      "_expectation", "_batch_id"};

/* ---- JSON lines, rescue, expectations, re-runs ------------------------- */

static const char F1[] =
    "{\"order_id\":\"o1\",\"amount\":10.5,\"qty\":2,\"updated_at\":\"2026-01-01T00:00:"
    "00Z\","
    "\"op\":\"U\"}\n"
    "not json at all\n"
    "\n"
    "{\"order_id\":\"o2\",\"amount\":5,\"qty\":\"many\",\"coupon\":{\"code\":\"X\"}}\n"
    "{\"order_id\":\"o3\",\"amount\":null,\"qty\":1}\n"
    "{\"order_id\":\"o4\",\"amount\":1,\"qty\":0}\n"
    "[1,2]\n"
    "{\"order_id\":\"o5\",\"amount\":2,\"qty\":3}"; /* no newline at the end */
static const char F2[] = "{\"order_id\":\"o6\",\"amount\":3,\"qty\":4,\"op\":\"D\"}\n"
                         "{\"order_id\":\"bad \xff\"}\n";

static void test_jsonl_rescue_expectations_rerun(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    def_expect(fx.d, "amount_present", "amount", PL_RULE_NOT_NULL, 0, PL_FAIL_QUARANTINE);
    def_expect(fx.d, "qty_positive", "qty", PL_RULE_GT, 0, PL_FAIL_DROP);
    put_src(&fx, "e1/a.jsonl", F1, strlen(F1));
    put_src(&fx, "e1/b.jsonl", F2, strlen(F2));
    const char *files[] = {"e1/a.jsonl", "e1/b.jsonl"};
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, files, 2, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.files, 2);
    assert_int_equal(res.bytes, (int64_t)(strlen(F1) + strlen(F2)));
    assert_int_equal(res.lines, 9);
    assert_int_equal(res.malformed, 3);
    assert_int_equal(res.rows_read, 6);
    assert_int_equal(res.rows_written, 4);
    assert_int_equal(res.rows_quarantined, 4); /* 3 malformed + o3 */
    assert_int_equal(res.rows_dropped, 1);     /* o4 */
    assert_int_equal(res.rows_rescued, 1);     /* o2 */
    assert_int_equal(res.quarantine_version, 1);
    assert_int_equal(res.bronze_version, 1);
    assert_int_equal(json_array_size(res.added_columns), 0);
    char *ej = json_dumps(res.expectations, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(ej,
                        "[{\"name\":\"amount_present\",\"column\":\"amount\",\"rule\":"
                        "\"not_null\",\"on_fail\":\"quarantine\",\"failed\":1},"
                        "{\"name\":\"qty_positive\",\"column\":\"qty\",\"rule\":\">0\","
                        "\"on_fail\":\"drop\",\"failed\":1}]");
    free(ej);
    ingest_result_clear(&res);

    char *b = table_text(fx.lake, "orders_raw", BRONZE_VIEW, 8, NULL, NULL);
    /* o2's qty did not cast: null, rescued with the unknown key. */
    expect_text(b,
                "_source_file=e1/a.jsonl|_source_line=1|order_id=o1|amount=10.5|qty=2|"
                "updated_at=1767225600000000|op=U|_rescued_data=~\n"
                "_source_file=e1/a.jsonl|_source_line=4|order_id=o2|amount=5|qty=~|"
                "updated_at=~|op=~|_rescued_data={\"qty\":\"many\",\"coupon\":{\"code\":"
                "\"X\"}}\n"
                "_source_file=e1/a.jsonl|_source_line=8|order_id=o5|amount=2|qty=3|"
                "updated_at=~|op=~|_rescued_data=~\n"
                "_source_file=e1/b.jsonl|_source_line=1|order_id=o6|amount=3|qty=4|"
                "updated_at=~|op=D|_rescued_data=~\n");
    free(b);
    char *q = table_text(fx.lake, "orders_raw_quarantine", QUAR_VIEW, 6, NULL, NULL);
    expect_text(
        q, "_source_file=e1/a.jsonl|_source_line=2|_raw=not json at all|_reason=not "
           "valid JSON|_expectation=~|_batch_id=1\n"
           "_source_file=e1/a.jsonl|_source_line=5|_raw={\"order_id\":\"o3\",\"amount\":"
           "null,\"qty\":1}|_reason=expectation \"amount_present\" failed: amount "
           "not_null|_expectation=amount_present|_batch_id=1\n"
           "_source_file=e1/a.jsonl|_source_line=7|_raw=[1,2]|_reason=a line that is not "
           "an object|_expectation=~|_batch_id=1\n"
           "_source_file=e1/b.jsonl|_source_line=2|_raw={\"order_id\":\"bad "
           "\\xFF\"}|_reason=not valid JSON|_expectation=~|_batch_id=1\n");
    free(q);
    /* System columns of one row. */
    static const char *const sys[] = {"order_id", "_epoch", "_batch_id", "_ingest_time",
                                      "_ingest_date"};
    b = table_text(fx.lake, "orders_raw", sys, 5, NULL, NULL);
    assert_non_null(strstr(b, "order_id=o1|_epoch=1001|_batch_id=1|_ingest_time="
                              "1772600767000000|_ingest_date=20516\n"));
    free(b);

    /* The same batch again: skipped, nothing read, no new version. */
    put_src(&fx, "e1/a.jsonl", "garbage\n", 8);
    assert_int_equal(run_batch(&fx, files, 2, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.skipped, 1);
    assert_int_equal(res.bronze_version, 1);
    assert_int_equal(res.quarantine_version, 1);
    assert_int_equal(res.rows_read, 0);
    ingest_result_clear(&res);

    /* Batch 2 crashes after its quarantine commit (simulated by removing
     * bronze's commit): the re-run writes bronze and not quarantine again. */
    assert_int_equal(run_batch(&fx, files, 1, 2, 0, &res, &e), SL_OK);
    assert_int_equal(res.bronze_version, 2);
    assert_int_equal(res.quarantine_version, 2);
    ingest_result_clear(&res);
    assert_int_equal(
        store_delete(fx.lake, "orders_raw/_delta_log/00000000000000000002.json", &e),
        SL_OK);
    assert_int_equal(run_batch(&fx, files, 1, 2, 0, &res, &e), SL_OK);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.bronze_version, 2);
    assert_int_equal(res.quarantine_version, -1);
    assert_int_equal(res.rows_quarantined, 1);
    ingest_result_clear(&res);
    q = table_text(fx.lake, "orders_raw_quarantine", QUAR_VIEW, 6, NULL, NULL);
    assert_non_null(
        strstr(q, "_raw=garbage|_reason=not valid JSON|_expectation=~|_batch_id=2\n"));
    assert_null(strstr(strstr(q, "_batch_id=2") + 1, "_batch_id=2"));
    free(q);
    fx_close(&fx);
}

/* ---- evolve ----------------------------------------------------------- */

static void test_evolve(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_EVOLVE);
    static const char in[] =
        "{\"order_id\":\"o1\",\"coupon\":\"C1\",\"score\":1,\"flag\":true,\"meta\":{"
        "\"a\":[1]}}\n"
        "{\"order_id\":\"o2\",\"score\":2.5,\"flag\":false,\"n\":7}\n"
        "{\"order_id\":\"o3\",\"qty\":\"x\",\"mixed\":1}\n"
        "{\"order_id\":\"o4\",\"mixed\":\"one\",\"n\":null}\n";
    put_src(&fx, "e1/a.jsonl", in, strlen(in));
    const char *files[] = {"e1/a.jsonl"};
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_OK);
    char *added = json_dumps(res.added_columns, JSON_COMPACT);
    assert_string_equal(added,
                        "[\"coupon\",\"score\",\"flag\",\"meta\",\"n\",\"mixed\"]");
    free(added);
    /* create (0), ADD COLUMNS (1), quarantine of o3's bad qty, data (2). */
    assert_int_equal(res.bronze_version, 2);
    assert_int_equal(res.rows_written, 3);
    assert_int_equal(res.malformed, 1);
    ingest_result_clear(&res);
    delta_history h;
    assert_int_equal(delta_history_load(fx.lake, "orders_raw", 0, &h, &e), SL_OK);
    assert_string_equal(h.items[1].operation, "ADD COLUMNS");
    assert_int_equal(h.items[1].has_metadata, 1);
    assert_int_equal(h.items[1].num_add, 0);
    assert_string_equal(h.items[0].operation, "WRITE");
    delta_history_free(&h);

    static const char *const view[] = {"order_id", "coupon", "score", "flag",
                                       "meta",     "n",      "mixed"};
    char *b = table_text(fx.lake, "orders_raw", view, 7, NULL, NULL);
    expect_text(b,
                "order_id=o1|coupon=C1|score=1|flag=true|meta={\"a\":[1]}|n=~|mixed=~\n"
                "order_id=o2|coupon=~|score=2.5|flag=false|meta=~|n=7|mixed=~\n"
                "order_id=o4|coupon=~|score=~|flag=~|meta=~|n=~|mixed=one\n");
    free(b);
    /* Types: long for integers, double for numbers, boolean, string for
     * objects and for mixed kinds. */
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap;
    assert_int_equal(delta_snapshot_open(fx.lake, "orders_raw", &latest, &snap, &e),
                     SL_OK);
    const char *ss = json_string_value(json_object_get(snap->metadata, "schemaString"));
    assert_non_null(strstr(ss, "{\"name\":\"_ingest_date\",\"type\":\"date\""));
    assert_non_null(strstr(ss, "{\"name\":\"coupon\",\"type\":\"string\""));
    assert_non_null(strstr(ss, "{\"name\":\"score\",\"type\":\"double\""));
    assert_non_null(strstr(ss, "{\"name\":\"flag\",\"type\":\"boolean\""));
    assert_non_null(strstr(ss, "{\"name\":\"meta\",\"type\":\"string\""));
    assert_non_null(strstr(ss, "{\"name\":\"n\",\"type\":\"long\""));
    assert_non_null(strstr(ss, "{\"name\":\"mixed\",\"type\":\"string\""));
    delta_snapshot_free(snap);

    /* The next batch uses the added columns: a number in the string column
     * "mixed" is kept as its text, no new metaData commit. */
    static const char in2[] = "{\"order_id\":\"o5\",\"mixed\":12.50,\"n\":3}\n";
    put_src(&fx, "e2/a.jsonl", in2, strlen(in2));
    const char *files2[] = {"e2/a.jsonl"};
    assert_int_equal(run_batch(&fx, files2, 1, 2, 0, &res, &e), SL_OK);
    assert_int_equal(json_array_size(res.added_columns), 0);
    assert_int_equal(res.bronze_version, 3);
    ingest_result_clear(&res);
    b = table_text(fx.lake, "orders_raw", view, 7, NULL, NULL);
    assert_non_null(
        strstr(b, "order_id=o5|coupon=~|score=~|flag=~|meta=~|n=3|mixed=12.50\n"));
    free(b);
    fx_close(&fx);
}

/* ---- fail modes: nothing committed ------------------------------------ */

static void test_drift_fail(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_FAIL);
    static const char in[] =
        "{\"order_id\":\"o1\"}\nnot json\n{\"order_id\":\"o2\",\"zz\":1}\n";
    put_src(&fx, "e1/a.jsonl", in, strlen(in));
    const char *files[] = {"e1/a.jsonl"};
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_INGEST_SCHEMA_DRIFT);
    assert_non_null(strstr(e.msg, "e1/a.jsonl line 3: key \"zz\""));
    ingest_result_clear(&res);
    int64_t v;
    size_t nf;
    char *t = table_text(fx.lake, "orders_raw", NULL, 0, &nf, &v);
    assert_int_equal(v, 0);
    assert_int_equal(nf, 0);
    free(t);
    t = table_text(fx.lake, "orders_raw_quarantine", NULL, 0, &nf, &v);
    assert_int_equal(v, 0);
    free(t);
    /* No data file was left behind either. */
    store_page pg = {0};
    assert_int_equal(store_list_all(fx.lake, "", NULL, &pg, &e), SL_OK);
    for (size_t i = 0; i < pg.n; i++)
        assert_true(strstr(pg.items[i].key, "_delta_log/") ||
                    strstr(pg.items[i].key, ".keep"));
    store_page_free(&pg);
    fx_close(&fx);
}

static void test_expectation_fail(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    def_expect(fx.d, "has_key", "order_id", PL_RULE_NOT_NULL, 0, PL_FAIL_FAIL);
    def_expect(fx.d, "qty_small", "qty", PL_RULE_LE, 10, PL_FAIL_QUARANTINE);
    static const char in[] =
        "{\"order_id\":\"o1\",\"qty\":50}\n{\"qty\":1}\n{\"order_id\":\"o3\"}\n"
        "{\"order_id\":null,\"qty\":99}\n";
    put_src(&fx, "e1/a.jsonl", in, strlen(in));
    const char *files[] = {"e1/a.jsonl"};
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_EXPECTATION_FAILED);
    assert_non_null(strstr(e.msg,
                           "expectation \"has_key\" (order_id not_null, on_fail fail) "
                           "failed on 2 rows"));
    assert_non_null(strstr(e.msg, "e1/a.jsonl line 2"));
    /* Counts are reported for every expectation, row 4 counted for both. */
    char *ej = json_dumps(res.expectations, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(
        strstr(ej, "\"rule\":\"<=10\",\"on_fail\":\"quarantine\",\"failed\":2"));
    free(ej);
    ingest_result_clear(&res);
    int64_t v;
    size_t nf;
    char *t = table_text(fx.lake, "orders_raw", NULL, 0, &nf, &v);
    assert_int_equal(v, 0);
    free(t);
    t = table_text(fx.lake, "orders_raw_quarantine", NULL, 0, &nf, &v);
    assert_int_equal(v, 0);
    assert_int_equal(nf, 0);
    free(t);
    fx_close(&fx);
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_CSV, PL_DRIFT_RESCUE);
    static const char in[] = "\xEF\xBB\xBForder_id,amount,qty,updated_at,op,extra\r\n"
                             "o1,1.5,2,2026-01-01T00:00:00Z,U,x\r\n"
                             "\"o,2\",\"3\",4,,\"\",\"multi\nline \"\"quoted\"\"\"\r\n"
                             "o3,abc,1,,U,\r\n"
                             "o4,1,2\r\n"
                             "\r\n"
                             "o5,1,2,,\"D\"x,\r\n"
                             "o6,2,3,,D,last";
    put_src(&fx, "e1/a.csv", in, strlen(in));
    const char *files[] = {"e1/a.csv"};
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.lines, 6);
    assert_int_equal(res.malformed, 2);
    assert_int_equal(res.rows_written, 4);
    assert_int_equal(res.rows_rescued, 4);
    ingest_result_clear(&res);
    char *b = table_text(fx.lake, "orders_raw", BRONZE_VIEW, 8, NULL, NULL);
    expect_text(
        b,
        "_source_file=e1/a.csv|_source_line=1|order_id=o1|amount=1.5|qty=2|updated_at="
        "1767225600000000|op=U|_rescued_data={\"extra\":\"x\"}\n"
        "_source_file=e1/a.csv|_source_line=2|order_id=o,2|amount=3|qty=4|updated_at=~|"
        "op=|_rescued_data={\"extra\":\"multi\\nline \\\"quoted\\\"\"}\n"
        "_source_file=e1/a.csv|_source_line=3|order_id=o3|amount=~|qty=1|updated_at=~|"
        "op=U|_rescued_data={\"amount\":\"abc\",\"extra\":null}\n"
        "_source_file=e1/a.csv|_source_line=6|order_id=o6|amount=2|qty=3|updated_at=~|"
        "op=D|_rescued_data={\"extra\":\"last\"}\n");
    free(b);
    char *q = table_text(fx.lake, "orders_raw_quarantine", QUAR_VIEW, 6, NULL, NULL);
    expect_text(
        q, "_source_file=e1/a.csv|_source_line=4|_raw=o4,1,2|_reason=a record with 3 "
           "fields where the header has 6|_expectation=~|_batch_id=1\n"
           "_source_file=e1/a.csv|_source_line=5|_raw=o5,1,2,,\"D\"x,|_reason=text "
           "after a closing quote|_expectation=~|_batch_id=1\n");
    free(q);
    fx_close(&fx);
}

/* ---- Parquet sources ---------------------------------------------------- */

static void test_parquet_source(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_PARQUET, PL_DRIFT_RESCUE);
    def_expect(fx.d, "amount_present", "amount", PL_RULE_NOT_NULL, 0, PL_FAIL_QUARANTINE);
    static const pq_schema_col src_cols[] = {
        {"order_id", PQ_TYPE_STRING, true}, {"qty", PQ_TYPE_INT64, true},
        {"amount", PQ_TYPE_STRING, true},   {"updated_at", PQ_TYPE_TIMESTAMP_US, true},
        {"note", PQ_TYPE_STRING, true},
    };
    sl_err e = {0};
    pq_writer *w = pq_writer_new(src_cols, 5, NULL, &e);
    assert_non_null(w);
    pq_value rows[3][5] = {
        {pq_val_str("p1"), pq_val_i64(3), pq_val_str("2.25"),
         pq_val_ts_us(1767225600000000), pq_val_str("hi")},
        {pq_val_str("p2"), pq_val_i64(5000000000), pq_val_str("1"), pq_val_null(),
         pq_val_null()},
        {pq_val_str("p3"), pq_val_i64(1), pq_val_null(), pq_val_null(), pq_val_null()},
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(pq_writer_add_row(w, rows[i], &e), SL_OK);
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, NULL, &e), SL_OK);
    pq_writer_free(w);
    put_src(&fx, "e1/part-0.parquet", file.data, file.len);
    put_src(&fx, "e1/broken.parquet", "PAR1 not really", 15);
    const char *files[] = {"e1/part-0.parquet"};
    ingest_result res;
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.bytes, (int64_t)file.len);
    assert_int_equal(res.lines, 3);
    assert_int_equal(res.rows_written, 2);
    assert_int_equal(res.rows_quarantined, 1);
    ingest_result_clear(&res);
    buf_free(&file);
    char *b = table_text(fx.lake, "orders_raw", BRONZE_VIEW, 8, NULL, NULL);
    expect_text(
        b, "_source_file=e1/part-0.parquet|_source_line=1|order_id=p1|amount=2.25|qty=3|"
           "updated_at=1767225600000000|op=~|_rescued_data={\"note\":\"hi\"}\n"
           "_source_file=e1/part-0.parquet|_source_line=2|order_id=p2|amount=1|qty=~|"
           "updated_at=~|op=~|_rescued_data={\"qty\":5000000000,\"note\":null}\n");
    free(b);
    char *q = table_text(fx.lake, "orders_raw_quarantine", QUAR_VIEW, 6, NULL, NULL);
    expect_text(q,
                "_source_file=e1/part-0.parquet|_source_line=3|_raw={\"order_id\":\"p3\","
                "\"qty\":1,\"amount\":null,\"updated_at\":null,\"note\":null}|_reason="
                "expectation \"amount_present\" failed: amount not_null|_expectation="
                "amount_present|_batch_id=1\n");
    free(q);
    /* A damaged file stops the step with SL_INGEST_FORMAT naming it. */
    const char *bad[] = {"e1/broken.parquet"};
    assert_int_equal(run_batch(&fx, bad, 1, 2, 0, &res, &e), SL_INGEST_FORMAT);
    assert_non_null(strstr(e.msg, "broken.parquet"));
    ingest_result_clear(&res);
    fx_close(&fx);
}

/* ---- files by size, partitions ------------------------------------------- */

static void test_files_and_partitions(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    free(fx.d->bronze.partition_by[0]);
    fx.d->bronze.partition_by[0] = sl_strdup("op");
    sl_buf in = {0}, want = {0};
    const char *ops[] = {"U", "D", NULL, "a/b=c"};
    for (int i = 0; i < 20; i++) {
        const char *op = ops[i % 4];
        if (op)
            buf_appendf(&in, "{\"order_id\":\"o%02d\",\"op\":\"%s\"}\n", i, op);
        else
            buf_appendf(&in, "{\"order_id\":\"o%02d\"}\n", i);
    }
    for (int i = 0; i < 20; i++)
        buf_appendf(&want, "order_id=o%02d|op=%s|_source_line=%d\n", i,
                    ops[i % 4] ? ops[i % 4] : "~", i + 1);
    put_src(&fx, "e1/a.jsonl", in.data, in.len);
    const char *files[] = {"e1/a.jsonl"};
    ingest_result res;
    sl_err e = {0};
    /* 5 rows per partition, 2 rows per file: 3 files each, 12 in all. */
    assert_int_equal(run_batch(&fx, files, 1, 1, 2, &res, &e), SL_OK);
    assert_int_equal(res.rows_written, 20);
    assert_int_equal(res.bronze_version, 1);
    ingest_result_clear(&res);
    static const char *const view[] = {"order_id", "op", "_source_line"};
    size_t nf;
    char *b = table_text(fx.lake, "orders_raw", view, 3, &nf, NULL);
    expect_text(b, want.data);
    assert_int_equal(nf, 12);
    free(b);
    /* Hive directories, escaped; null as the default partition. */
    store_page pg = {0};
    assert_int_equal(store_list_all(fx.lake, "orders_raw/", "/", &pg, &e), SL_OK);
    sl_buf dirs = {0};
    for (size_t i = 0; i < pg.n; i++)
        if (pg.items[i].is_prefix)
            buf_appendf(&dirs, "%s ", pg.items[i].key);
    assert_string_equal(dirs.data,
                        "orders_raw/_delta_log/ orders_raw/op=D/ "
                        "orders_raw/op=U/ orders_raw/op=__HIVE_DEFAULT_PARTITION__/ "
                        "orders_raw/op=a%2Fb%3Dc/ ");
    store_page_free(&pg);
    buf_free(&dirs);
    buf_free(&in);
    buf_free(&want);
    fx_close(&fx);
}

/* A bronze table whose schema is not the pipeline's is refused. */
static void test_schema_mismatch(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    static const pq_schema_col other[] = {{"order_id", PQ_TYPE_STRING, true},
                                          {"amount", PQ_TYPE_INT64, true}};
    delta_table_spec spec = {.cols = other, .ncols = 2};
    delta_commit_result cr;
    sl_err e = {0};
    assert_int_equal(delta_table_create(fx.lake, "orders_raw", &spec, NULL, &cr, &e),
                     SL_OK);
    put_src(&fx, "e1/a.jsonl", "{}\n", 3);
    const char *files[] = {"e1/a.jsonl"};
    ingest_result res;
    assert_int_equal(run_batch(&fx, files, 1, 1, 0, &res, &e), SL_DELTA_SCHEMA);
    assert_non_null(strstr(e.msg,
                           "column 2 is \"amount\" (long) where the pipeline wants "
                           "\"amount\" (double)"));
    ingest_result_clear(&res);
    fx_close(&fx);
}

/* An empty folder still marks the batch done in bronze; the files layout
 * (epoch -1) leaves _epoch null. */
static void test_empty_folder_and_files_layout(void **state)
{
    (void)state;
    lake_fx fx;
    fx_open(&fx, PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    ingest_result res;
    sl_err e = {0};
    assert_int_equal(run_batch(&fx, NULL, 0, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.bronze_version, 1);
    assert_int_equal(res.quarantine_version, -1);
    assert_int_equal(res.rows_read, 0);
    ingest_result_clear(&res);
    assert_int_equal(run_batch(&fx, NULL, 0, 1, 0, &res, &e), SL_OK);
    assert_int_equal(res.skipped, 1);
    ingest_result_clear(&res);
    put_src(&fx, "cust-1.jsonl", "{\"order_id\":\"c1\"}\n", 19);
    const char *files[] = {"cust-1.jsonl"};
    ingest_req req = {.def = fx.d,
                      .source = fx.src,
                      .files = files,
                      .nfiles = 1,
                      .epoch = -1,
                      .batch_id = 2,
                      .ingest_time_us = -1}; /* 1969-12-31T23:59:59.999999Z */
    assert_int_equal(ingest_run(fx.lake, &req, &res, &e), SL_OK);
    ingest_result_clear(&res);
    static const char *const view[] = {"order_id", "_epoch", "_batch_id", "_ingest_date"};
    char *b = table_text(fx.lake, "orders_raw", view, 4, NULL, NULL);
    expect_text(b, "order_id=c1|_epoch=~|_batch_id=2|_ingest_date=-1\n");
    free(b);
    fx_close(&fx);
}

/* The column lists, and a declared column that takes a system name. */
static void test_columns(void **state)
{
    (void)state;
    pipeline_def *d = def_new(PL_FORMAT_JSONL, PL_DRIFT_RESCUE);
    pq_schema_col *c;
    size_t n;
    sl_err e = {0};
    assert_int_equal(ingest_bronze_cols(d, &c, &n, &e), SL_OK);
    sl_buf names = {0};
    for (size_t i = 0; i < n; i++)
        buf_appendf(&names, "%s ", c[i].name);
    assert_string_equal(names.data, "order_id amount qty updated_at op _rescued_data "
                                    "_source_file _source_line _epoch _batch_id "
                                    "_ingest_time _ingest_date ");
    delta_schema_cols_free(c, n);
    d->bronze.on_schema_drift = PL_DRIFT_EVOLVE;
    assert_int_equal(ingest_bronze_cols(d, &c, &n, &e), SL_OK);
    assert_int_equal(n, NDECL + 6);
    delta_schema_cols_free(c, n);
    free((char *)d->bronze.cols[1].name);
    d->bronze.cols[1].name = sl_strdup("_batch_id");
    assert_int_equal(ingest_bronze_cols(d, &c, &n, &e), SL_PIPELINE_INVALID);
    def_free(d);
    assert_int_equal(ingest_quarantine_cols(&c, &n, &e), SL_OK);
    buf_reset(&names);
    for (size_t i = 0; i < n; i++)
        buf_appendf(&names, "%s ", c[i].name);
    assert_string_equal(names.data, "_source_file _source_line _raw _reason _expectation "
                                    "_epoch _batch_id _ingest_time ");
    delta_schema_cols_free(c, n);
    buf_free(&names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_rescue_expectations_rerun),
        cmocka_unit_test(test_evolve),
        cmocka_unit_test(test_drift_fail),
        cmocka_unit_test(test_expectation_fail),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_parquet_source),
        cmocka_unit_test(test_files_and_partitions),
        cmocka_unit_test(test_schema_mismatch),
        cmocka_unit_test(test_empty_folder_and_files_layout),
        cmocka_unit_test(test_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
