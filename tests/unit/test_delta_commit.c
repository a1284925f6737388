/* The Delta write side: create, append, read back (snapshot and Parquet),
 * commitInfo shape, writer protocol refusals, txn idempotence and the
 * conflict matrix of the commit path. */

#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_write.h"
#include "backend/parquet/pq_reader.h"
#include "backend/store/store.h"
#include "backend/store/store_fault.h"
#include "backend/util/buf.h"

typedef struct fx {
    char *dir;
    store *s;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("delta-commit");
    sl_err err;
    assert_int_equal(store_open(f->dir, &f->s, &err), SL_OK);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const pq_schema_col COLS[] = {
    {"id", PQ_TYPE_INT64, false},
    {"name", PQ_TYPE_STRING, true},
    {"day", PQ_TYPE_DATE, true},
};

static void create_table(store *s, const char *key, int partitioned)
{
    const char *parts[] = {"day"};
    delta_table_spec spec = {.cols = COLS,
                             .ncols = 3,
                             .partition_cols = partitioned ? parts : NULL,
                             .npartition_cols = partitioned ? 1 : 0};
    delta_commit_meta meta = {.run_id = "run-1", .audit_event_id = "ev-1"};
    delta_commit_result r;
    sl_err err = {0};
    assert_int_equal(delta_table_create(s, key, &spec, &meta, &r, &err), SL_OK);
    assert_int_equal(r.version, 0);
}

/* rows: ids first..first+n-1, days alternating 19723 / 19724 (2024-01-01/02). */
static sl_code append_rows(store *s, const char *key, int64_t first, size_t n,
                           const char *app_id, int64_t txn_version,
                           delta_append_result *out, sl_err *err)
{
    pq_value *rows = calloc(n * 3 + 1, sizeof *rows);
    char(*names)[16] = calloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "n%lld", (long long)(first + (int64_t)i));
        rows[i * 3] = pq_val_i64(first + (int64_t)i);
        rows[i * 3 + 1] = i % 3 == 2 ? pq_val_null() : pq_val_str(names[i]);
        rows[i * 3 + 2] = pq_val_date(19723 + (int32_t)(i % 2));
    }
    delta_append_req req = {.rows = rows,
                            .nrows = n,
                            .ncols = 3,
                            .app_id = app_id,
                            .txn_version = txn_version};
    delta_commit_meta meta = {.run_id = "run-2", .audit_event_id = "ev-2"};
    sl_code c = delta_table_append(s, key, &req, &meta, out, err);
    free(rows);
    free(names);
    return c;
}

/* ---- create + append + read back ---------------------------------------- */

static void test_create_append_read_back(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 1);
    delta_append_result ar;
    sl_err err = {0};
    assert_int_equal(append_rows(f->s, "t", 1, 6, NULL, 0, &ar, &err), SL_OK);
    assert_int_equal(ar.version, 1);
    assert_int_equal(ar.nfiles, 2);
    assert_int_equal(ar.nrows, 6);
    assert_int_equal(ar.skipped, 0);

    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    assert_int_equal(snap->version, 1);
    assert_int_equal(snap->nfiles, 2);
    assert_int_equal(snap->num_rows, 6);
    assert_int_equal(
        json_integer_value(json_object_get(snap->protocol, "minReaderVersion")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(snap->protocol, "minWriterVersion")), 2);
    json_t *pc = json_object_get(snap->metadata, "partitionColumns");
    assert_string_equal(json_string_value(json_array_get(pc, 0)), "day");
    const char *ss = json_string_value(json_object_get(snap->metadata, "schemaString"));
    assert_non_null(strstr(ss, "{\"name\":\"id\",\"type\":\"long\",\"nullable\":false"));
    assert_non_null(strstr(ss, "\"type\":\"date\""));

    int64_t id_sum = 0, rows = 0, nulls = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        const delta_file *df = &snap->files[i];
        const char *want =
            i == 0 ? "day=2024-01-01/part-00000-" : "day=2024-01-02/part-00000-";
        assert_memory_equal(df->path, want, strlen(want));
        assert_non_null(strstr(df->path, "-c000.snappy.parquet"));
        json_t *add = delta_file_add(df);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(add, "partitionValues"), "day")),
                            i == 0 ? "2024-01-01" : "2024-01-02");
        assert_true(json_is_true(json_object_get(add, "dataChange")));
        json_t *stats =
            json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(stats, "numRecords")), 3);
        assert_non_null(json_object_get(json_object_get(stats, "minValues"), "id"));
        assert_null(json_object_get(json_object_get(stats, "minValues"), "day"));
        json_decref(stats);
        assert_int_equal(json_integer_value(json_object_get(add, "size")), df->size);
        json_decref(add);

        /* The data file itself, through the Parquet reader. */
        char *path = sl_asprintf("%s/t/%s", f->dir, df->path);
        pq_reader *pr;
        assert_int_equal(pq_reader_open_file(path, &pr, &err), SL_OK);
        const pq_file_info *info = pq_reader_info(pr);
        assert_int_equal(info->num_leaves, 2); /* partition column left out */
        pq_rows *it;
        assert_int_equal(pq_rows_open(pr, NULL, 0, &it, &err), SL_OK);
        json_t *row;
        while (pq_rows_next(it, &row, &err) == SL_OK && row) {
            int64_t id = json_integer_value(json_object_get(row, "id"));
            id_sum += id;
            rows++;
            json_t *nm = json_object_get(row, "name");
            if (json_is_null(nm) || !nm) {
                nulls++;
            } else {
                char want_name[16];
                snprintf(want_name, sizeof want_name, "n%lld", (long long)id);
                assert_string_equal(json_string_value(nm), want_name);
            }
            /* odd ids (i even) went to 2024-01-01 */
            assert_int_equal((id - 1) % 2, (int64_t)i);
            json_decref(row);
        }
        pq_rows_free(it);
        pq_reader_close(pr);
        free(path);
    }
    assert_int_equal(rows, 6);
    assert_int_equal(id_sum, 21);
    assert_int_equal(nulls, 2);
    delta_snapshot_free(snap);
}

static void test_create_twice_refused(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 0);
    delta_table_spec spec = {.cols = COLS, .ncols = 3};
    sl_err err = {0};
    delta_commit_result r;
    assert_int_equal(delta_table_create(f->s, "t", &spec, NULL, &r, &err),
                     SL_DELTA_TABLE_EXISTS);
    const char *bad_parts[] = {"nope"};
    spec.partition_cols = bad_parts;
    spec.npartition_cols = 1;
    assert_int_equal(delta_table_create(f->s, "u", &spec, NULL, &r, &err),
                     SL_DELTA_SCHEMA);
    pq_schema_col bad[] = {{"a b", PQ_TYPE_INT64, true}};
    delta_table_spec s2 = {.cols = bad, .ncols = 1};
    assert_int_equal(delta_table_create(f->s, "u", &s2, NULL, &r, &err), SL_DELTA_SCHEMA);
}

static void test_types_and_ntz_protocol(void **state)
{
    fx *f = *state;
    pq_schema_col cols[] = {
        {"b", PQ_TYPE_BOOLEAN, true},         {"i", PQ_TYPE_INT32, true},
        {"d", PQ_TYPE_DOUBLE, true},          {"fl", PQ_TYPE_FLOAT, true},
        {"bin", PQ_TYPE_BINARY, true},        {"ts", PQ_TYPE_TIMESTAMP_US, true},
        {"ntz", PQ_TYPE_TIMESTAMP_NTZ, true}, {"dec", PQ_TYPE_DECIMAL_OF(10, 2), true},
        {"p", PQ_TYPE_STRING, true},
    };
    const char *parts[] = {"p"};
    delta_table_spec spec = {
        .cols = cols, .ncols = 9, .partition_cols = parts, .npartition_cols = 1};
    delta_commit_result r;
    sl_err err = {0};
    assert_int_equal(delta_table_create(f->s, "", &spec, NULL, &r, &err), SL_OK);
    delta_snapshot *snap = dt_snap_latest(f->s, "");
    assert_int_equal(
        json_integer_value(json_object_get(snap->protocol, "minReaderVersion")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(snap->protocol, "minWriterVersion")), 7);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(snap->protocol, "writerFeatures"), 0)),
                        "timestampNtz");
    pq_schema_col *back;
    size_t nback;
    assert_int_equal(delta_schema_cols(snap->metadata, &back, &nback, &err), SL_OK);
    assert_int_equal(nback, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(back[i].name, cols[i].name);
        assert_int_equal(back[i].type, cols[i].type);
    }
    delta_schema_cols_free(back, nback);
    delta_snapshot_free(snap);

    /* A partition value needing escapes: directory as Spark escapes it,
     * add.path URI-encoded again, partitionValues raw. */
    pq_value row[9] = {pq_val_bool(true),         pq_val_i32(7),
                       pq_val_f64(1.5),           pq_val_f32(2.5f),
                       pq_val_bin("\x01\x02", 2), pq_val_ts_us(1000),
                       pq_val_ts_us(2000),        pq_val_dec(12345),
                       pq_val_str("A/B C:%")};
    delta_append_req req = {.rows = row, .nrows = 1, .ncols = 9};
    delta_append_result ar;
    assert_int_equal(delta_table_append(f->s, "", &req, NULL, &ar, &err), SL_OK);
    snap = dt_snap_latest(f->s, "");
    assert_int_equal(snap->nfiles, 1);
    assert_memory_equal(snap->files[0].path, "p=A%252FB%20C%253A%2525/", 24);
    json_t *add = delta_file_add(&snap->files[0]);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(add, "partitionValues"), "p")),
        "A/B C:%");
    json_decref(add);
    char *key = delta_data_file_key(f->s, "", snap->files[0].path);
    assert_non_null(key);
    assert_memory_equal(key, "p=A%2FB C%3A%25/", 16);
    store_obj o;
    assert_int_equal(store_stat(f->s, key, &o, &err), SL_OK);
    store_obj_clear(&o);
    free(key);
    delta_snapshot_free(snap);

    /* Null partition value. */
    row[8] = pq_val_null();
    assert_int_equal(delta_table_append(f->s, "", &req, NULL, &ar, &err), SL_OK);
    snap = dt_snap_latest(f->s, "");
    int found = 0;
    for (size_t i = 0; i < snap->nfiles; i++)
        if (strncmp(snap->files[i].path, "p=__HIVE_DEFAULT_PARTITION__/", 29) == 0) {
            json_t *a = delta_file_add(&snap->files[i]);
            assert_true(json_is_null(
                json_object_get(json_object_get(a, "partitionValues"), "p")));
            json_decref(a);
            found = 1;
        }
    assert_true(found);
    delta_snapshot_free(snap);
}

/* ---- commitInfo ---------------------------------------------------------- */

static json_t *commit_info_of(store *s, const char *key, int64_t v)
{
    json_t *actions;
    sl_err err = {0};
    assert_int_equal(delta_commit_read(s, key, v, &actions, &err), SL_OK);
    json_t *ci = json_object_get(json_array_get(actions, 0), "commitInfo");
    assert_non_null(ci);
    json_incref(ci);
    json_decref(actions);
    return ci;
}

static void test_commit_info_shape(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 1);
    delta_append_result ar;
    sl_err err = {0};
    assert_int_equal(append_rows(f->s, "t", 1, 4, NULL, 0, &ar, &err), SL_OK);

    json_t *ci0 = commit_info_of(f->s, "t", 0);
    assert_string_equal(json_string_value(json_object_get(ci0, "operation")),
                        "CREATE TABLE");
    assert_null(json_object_get(ci0, "readVersion"));
    /* Delta Lake writes CREATE TABLE (no file actions, nothing read) as blind. */
    assert_true(json_is_true(json_object_get(ci0, "isBlindAppend")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ci0, "operationParameters"), "partitionBy")),
                        "[\"day\"]");
    json_decref(ci0);

    json_t *ci = commit_info_of(f->s, "t", 1);
    const char *order[] = {
        "timestamp",      "operation",     "operationParameters", "readVersion",
        "isolationLevel", "isBlindAppend", "operationMetrics",    "userMetadata",
        "engineInfo",     "txnId"};
    void *it = json_object_iter(ci);
    for (size_t i = 0; i < sizeof order / sizeof *order;
         i++, it = json_object_iter_next(ci, it)) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), order[i]);
    }
    assert_true(json_is_integer(json_object_get(ci, "timestamp")));
    assert_true(json_integer_value(json_object_get(ci, "timestamp")) > 1600000000000LL);
    assert_string_equal(json_string_value(json_object_get(ci, "operation")), "WRITE");
    json_t *params = json_object_get(ci, "operationParameters");
    assert_string_equal(json_string_value(json_object_get(params, "mode")), "Append");
    assert_int_equal(json_integer_value(json_object_get(ci, "readVersion")), 0);
    assert_string_equal(json_string_value(json_object_get(ci, "isolationLevel")),
                        "Serializable");
    assert_true(json_is_true(json_object_get(ci, "isBlindAppend")));
    json_t *m = json_object_get(ci, "operationMetrics");
    assert_string_equal(json_string_value(json_object_get(m, "numFiles")), "2");
    assert_string_equal(json_string_value(json_object_get(m, "numOutputRows")), "4");
    assert_true(json_is_string(json_object_get(m, "numOutputBytes")));
    assert_memory_equal(json_string_value(json_object_get(ci, "engineInfo")), "sluice/",
                        7);
    const char *txn = json_string_value(json_object_get(ci, "txnId"));
    assert_int_equal(strlen(txn), 36);
    assert_int_equal(txn[14], '4');
    json_t *um =
        json_loads(json_string_value(json_object_get(ci, "userMetadata")), 0, NULL);
    assert_non_null(um);
    assert_string_equal(json_string_value(json_object_get(um, "operator")), "tester");
    assert_string_equal(json_string_value(json_object_get(um, "runId")), "run-2");
    assert_string_equal(json_string_value(json_object_get(um, "auditEventId")), "ev-2");
    json_decref(um);
    json_decref(ci);

    /* History (our reader) sees the same. */
    delta_history h;
    assert_int_equal(delta_history_load(f->s, "t", 0, &h, &err), SL_OK);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.items[0].operation, "WRITE");
    assert_int_equal(h.items[0].is_blind_append, 1);
    assert_int_equal(h.items[0].read_version, 0);
    delta_history_free(&h);
}

/* ---- writer protocol ----------------------------------------------------- */

static sl_code proto_check(const char *proto, const char *meta, sl_err *err)
{
    json_t *p = json_loads(proto, 0, NULL);
    json_t *m = json_loads(meta, 0, NULL);
    assert_non_null(p);
    assert_non_null(m);
    sl_code c = delta_write_protocol_check(p, m, "tbl", err);
    json_decref(p);
    json_decref(m);
    return c;
}

#define PLAIN_META                                                                       \
    "{\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","             \
    "\"configuration\":{}}"

static void test_protocol_rules(void **state)
{
    (void)state;
    sl_err err = {0};
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":2}", PLAIN_META, &err),
        SL_OK);
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":4}", PLAIN_META, &err),
        SL_OK);
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":3}",
                    "{\"configuration\":{\"delta.constraints.pos\":\"x > 0\"}}", &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "checkConstraints"));
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":4}",
                    "{\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{"
                    "\\\"name\\\":\\\"g\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":"
                    "true,\\\"metadata\\\":{\\\"delta.generationExpression\\\":\\\"1\\\"}"
                    "}]}\",\"configuration\":{}}",
                    &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "generatedColumns"));
    assert_int_equal(
        proto_check("{\"minReaderVersion\":2,\"minWriterVersion\":5}",
                    "{\"configuration\":{\"delta.columnMapping.mode\":\"name\"}}", &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "columnMapping"));
    assert_int_equal(
        proto_check("{\"minReaderVersion\":2,\"minWriterVersion\":5}",
                    "{\"configuration\":{\"delta.columnMapping.mode\":\"none\"}}", &err),
        SL_OK);
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":7,\"writerFeatures\":["
                    "\"appendOnly\",\"invariants\",\"changeDataFeed\"]}",
                    PLAIN_META, &err),
        SL_OK);
    assert_int_equal(proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":7,"
                                 "\"writerFeatures\":[\"appendOnly\",\"fancyNewThing\"]}",
                                 PLAIN_META, &err),
                     SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "fancyNewThing"));
    assert_int_equal(
        proto_check("{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":["
                    "\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}",
                    PLAIN_META, &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "deletionVectors"));
    assert_int_equal(proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":7,"
                                 "\"writerFeatures\":[\"domainMetadata\"]}",
                                 PLAIN_META, &err),
                     SL_OK);
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":7,\"writerFeatures\":["
                    "\"domainMetadata\"]}",
                    "{\"configuration\":{\"delta.liquid.clusteringColumns\":\"id\"}}",
                    &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "domainMetadata"));
    static const char *const refused[] = {"rowTracking", "clustering", "v2Checkpoint",
                                          "deletionVectors"};
    for (size_t i = 0; i < 4; i++) {
        char *pr = sl_asprintf("{\"minReaderVersion\":1,\"minWriterVersion\":7,"
                               "\"writerFeatures\":[\"appendOnly\",\"%s\"]}",
                               refused[i]);
        assert_int_equal(proto_check(pr, PLAIN_META, &err), SL_DELTA_UNSUPPORTED_FEATURE);
        assert_non_null(strstr(err.msg, refused[i]));
        free(pr);
    }
    assert_int_equal(
        proto_check("{\"minReaderVersion\":1,\"minWriterVersion\":8}", PLAIN_META, &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
    assert_int_equal(
        proto_check("{\"minReaderVersion\":4,\"minWriterVersion\":7}", PLAIN_META, &err),
        SL_DELTA_UNSUPPORTED_FEATURE);
}

static void test_protocol_refusals_on_fixtures(void **state)
{
    fx *f = *state;
    static const struct {
        const char *rel, *feature;
    } cases[] = {
        {"delta-rs/table-with-dv-small", "deletionVectors"},
        {"delta-rs/table_with_deletion_logs", "deletionVectors"},
        {"delta-rs/table_with_liquid_clustering", "deletionVectors"},
        {"delta-rs/table_with_column_mapping", "columnMapping"},
        {"delta/v2-checkpoint-json", "v2Checkpoint"},
    };
    if (!tu_fixtures_dir())
        skip();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = dt_copy_fixture(f->dir, cases[i].rel);
        char *before = dt_tree_digest(dir);
        store *s;
        sl_err err = {0};
        assert_int_equal(store_open(dir, &s, &err), SL_OK);
        delta_snapshot *snap = dt_snap_latest(s, "");
        pq_schema_col *cols;
        size_t ncols;
        sl_code c = delta_schema_cols(snap->metadata, &cols, &ncols, &err);
        sl_code schema_c = c;
        size_t n = c == SL_OK ? ncols : 1;
        pq_value *row = calloc(n, sizeof *row);
        for (size_t k = 0; k < n; k++)
            row[k] = pq_val_null();
        delta_append_req req = {.rows = row, .nrows = 1, .ncols = n};
        delta_append_result ar;
        c = delta_table_append(s, "", &req, NULL, &ar, &err);
        if (c != SL_DELTA_UNSUPPORTED_FEATURE)
            fail_msg("%s: got %s (%s)", cases[i].rel, err_code_name(c), err.msg);
        if (!strstr(err.msg, cases[i].feature))
            fail_msg("%s: message does not name %s: %s", cases[i].rel, cases[i].feature,
                     err.msg);
        /* The commit path itself refuses too (a remove-only commit). */
        json_t *actions = json_pack("[{s:{s:s,s:I,s:b}}]", "remove", "path",
                                    snap->nfiles ? snap->files[0].path : "x.parquet",
                                    "deletionTimestamp", (json_int_t)1, "dataChange", 1);
        delta_commit_req creq = {
            .meta = {.operation = "DELETE"}, .read_snap = snap, .actions = actions};
        delta_commit_result cr;
        assert_int_equal(delta_commit(s, "", &creq, &cr, &err),
                         SL_DELTA_UNSUPPORTED_FEATURE);
        json_decref(actions);
        if (schema_c == SL_OK)
            delta_schema_cols_free(cols, ncols);
        free(row);
        delta_snapshot_free(snap);
        store_close(s);
        char *after = dt_tree_digest(dir);
        assert_string_equal(before, after);
        free(before);
        free(after);
        free(dir);
    }
}

static void test_append_to_writer7_fixture(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta/commit-info-optimize");
    store *s;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_snapshot *before = dt_snap_latest(s, "");
    pq_value row[2] = {pq_val_i32(42), pq_val_i32(3)};
    delta_append_req req = {.rows = row, .nrows = 1, .ncols = 2};
    delta_append_result ar;
    assert_int_equal(delta_table_append(s, "", &req, NULL, &ar, &err), SL_OK);
    delta_snapshot *after = dt_snap_latest(s, "");
    assert_int_equal(after->version, before->version + 1);
    assert_int_equal(after->nfiles, before->nfiles + 1);
    assert_int_equal(after->num_rows, before->num_rows + 1);
    /* Metadata and protocol untouched: unknown configuration kept. */
    assert_true(json_equal(after->metadata, before->metadata));
    assert_true(json_equal(after->protocol, before->protocol));

    /* appendOnly honoured: a data-changing remove is refused once it is set. */
    json_t *md = json_deep_copy(after->metadata);
    json_object_set_new(json_object_get(md, "configuration"), "delta.appendOnly",
                        json_string("true"));
    json_t *actions = json_pack("[{s:o}]", "metaData", md);
    delta_commit_req creq = {.meta = {.operation = "SET TBLPROPERTIES"},
                             .read_snap = after,
                             .actions = actions};
    delta_commit_result cr;
    assert_int_equal(delta_commit(s, "", &creq, &cr, &err), SL_OK);
    json_decref(actions);
    delta_snapshot *ao = dt_snap_latest(s, "");
    actions = json_pack("[{s:{s:s,s:I,s:b}}]", "remove", "path", ao->files[0].path,
                        "deletionTimestamp", (json_int_t)1, "dataChange", 1);
    creq = (delta_commit_req){
        .meta = {.operation = "DELETE"}, .read_snap = ao, .actions = actions};
    assert_int_equal(delta_commit(s, "", &creq, &cr, &err), SL_DELTA_APPEND_ONLY);
    json_decref(actions);
    delta_snapshot_free(ao);
    delta_snapshot_free(before);
    delta_snapshot_free(after);
    store_close(s);
    free(dir);
}

static void test_append_to_partitioned_fixture(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/delta-0.8.0-partitioned");
    store *s;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_snapshot *before = dt_snap_latest(s, "");
    pq_value row[4] = {pq_val_str("new"), pq_val_str("2024"), pq_val_str("1"),
                       pq_val_str("2")};
    delta_append_req req = {.rows = row, .nrows = 1, .ncols = 4};
    delta_append_result ar;
    assert_int_equal(delta_table_append(s, "", &req, NULL, &ar, &err), SL_OK);
    delta_snapshot *after = dt_snap_latest(s, "");
    assert_int_equal(after->nfiles, before->nfiles + 1);
    assert_int_equal(after->num_rows, before->num_rows + 1);
    int found = 0;
    for (size_t i = 0; i < after->nfiles; i++)
        if (strncmp(after->files[i].path, "year=2024/month=1/day=2/part-00000-", 35) == 0)
            found++;
    assert_int_equal(found, 1);
    delta_snapshot_free(before);
    delta_snapshot_free(after);
    store_close(s);
    free(dir);
}

/* ---- txn idempotence ------------------------------------------------------ */

static void test_txn_idempotence(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 0);
    delta_append_result ar;
    sl_err err = {0};
    assert_int_equal(append_rows(f->s, "t", 1, 3, "loader", 1, &ar, &err), SL_OK);
    assert_int_equal(ar.version, 1);
    assert_int_equal(append_rows(f->s, "t", 1, 3, "loader", 1, &ar, &err), SL_OK);
    assert_int_equal(ar.skipped, 1);
    assert_int_equal(ar.version, 1);
    assert_int_equal(append_rows(f->s, "t", 4, 2, "loader", 2, &ar, &err), SL_OK);
    assert_int_equal(ar.skipped, 0);
    assert_int_equal(ar.version, 2);
    assert_int_equal(append_rows(f->s, "t", 6, 2, "other", 1, &ar, &err), SL_OK);
    assert_int_equal(ar.version, 3);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    assert_int_equal(snap->num_rows, 7);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(snap->txns, "loader"), "version")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(snap->txns, "other"), "version")),
                     1);
    delta_snapshot_free(snap);
}

/* ---- conflict matrix ------------------------------------------------------ */

static json_t *add_action(const char *path)
{
    return json_pack("{s:{s:s,s:{},s:I,s:I,s:b,s:s}}", "add", "path", path,
                     "partitionValues", "size", (json_int_t)10, "modificationTime",
                     (json_int_t)1, "dataChange", 1, "stats", "{\"numRecords\":1}");
}

static json_t *remove_action(const char *path)
{
    return json_pack("{s:{s:s,s:I,s:b}}", "remove", "path", path, "deletionTimestamp",
                     (json_int_t)5, "dataChange", 1);
}

static sl_code commit1(store *s, const delta_snapshot *snap, json_t *action, int read_all,
                       const char *read_path, delta_commit_result *r, sl_err *err)
{
    json_t *actions = json_array();
    json_array_append_new(actions, action);
    delta_commit_req req = {.meta = {.operation = "TEST"},
                            .read_snap = snap,
                            .actions = actions,
                            .read_all = read_all,
                            .read_paths = read_path ? &read_path : NULL,
                            .nread_paths = read_path ? 1 : 0};
    sl_code c = delta_commit(s, "t", &req, r, err);
    json_decref(actions);
    return c;
}

static char *commit_bytes(const fx *f, int64_t v)
{
    char *p = sl_asprintf("%s/t/_delta_log/%020lld.json", f->dir, (long long)v);
    char *t = tu_read_file(p);
    free(p);
    return t;
}

/* ---- checkpoint cadence ---------------------------------------------------- */

/* Table key with nfiles live files at v1, then single-add commits up to v30
 * (each with the latest snapshot in hand, as sluice's writers commit); the
 * versions after which a checkpoint was written, as text "10 20 ". */
static char *cadence(store *s, const char *key, size_t nfiles, json_t *configuration)
{
    delta_table_spec spec = {.cols = COLS, .ncols = 3, .configuration = configuration};
    delta_commit_meta meta = {.run_id = "run-1"};
    delta_commit_result r;
    sl_err err = {0};
    assert_int_equal(delta_table_create(s, key, &spec, &meta, &r, &err), SL_OK);
    sl_buf out = {0};
    for (int64_t v = 1; v <= 30; v++) {
        json_t *actions = json_array();
        size_t n = v == 1 ? nfiles : 1;
        for (size_t i = 0; i < n; i++) {
            char path[48];
            snprintf(path, sizeof path, "v%lld-%zu.parquet", (long long)v, i);
            json_array_append_new(actions, add_action(path));
        }
        delta_snapshot *snap = dt_snap_latest(s, key);
        delta_commit_req req = {
            .meta = {.operation = "WRITE"}, .read_snap = snap, .actions = actions};
        assert_int_equal(delta_commit(s, key, &req, &r, &err), SL_OK);
        assert_int_equal(r.version, v);
        if (r.checkpoint_written)
            buf_appendf(&out, "%lld ", (long long)v);
        delta_snapshot_free(snap);
        json_decref(actions);
    }
    return out.data ? buf_steal(&out) : sl_strdup("");
}

/* Delta's every-10-commits rule on small tables and on tables that set
 * delta.checkpointInterval; a large table waits until the commits since its
 * last checkpoint number a 32nd of its files (here 660 files: 20 commits). */
static void test_checkpoint_cadence(void **state)
{
    fx *f = *state;
    char *small = cadence(f->s, "small", 5, NULL);
    assert_string_equal(small, "10 20 30 ");
    char *large = cadence(f->s, "large", 640, NULL);
    assert_string_equal(large, "20 ");
    json_t *conf = json_pack("{s:s}", "delta.checkpointInterval", "10");
    char *chosen = cadence(f->s, "chosen", 640, conf);
    json_decref(conf);
    assert_string_equal(chosen, "10 20 30 ");
    /* The large table still reads back whole from its checkpoint + tail. */
    delta_snapshot *snap = dt_snap_latest(f->s, "large");
    assert_int_equal(snap->nfiles, 640 + 29);
    assert_int_equal(snap->checkpoint_version, 20);
    delta_snapshot_free(snap);
    free(small);
    free(large);
    free(chosen);
}

static void test_conflict_matrix(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 0);
    sl_err err = {0};
    delta_commit_result r;
    delta_snapshot *s0 = dt_snap_latest(f->s, "t");
    assert_int_equal(commit1(f->s, s0, add_action("a.parquet"), 0, NULL, &r, &err),
                     SL_OK);
    assert_int_equal(commit1(f->s, s0, add_action("b.parquet"), 0, NULL, &r, &err),
                     SL_OK);
    /* blind append vs append: retried at the next version */
    assert_int_equal(r.version, 2);
    assert_int_equal(r.attempts, 2);
    delta_snapshot_free(s0);

    delta_snapshot *s2 = dt_snap_latest(f->s, "t");
    assert_int_equal(s2->nfiles, 2);
    /* remove vs remove of the same file */
    assert_int_equal(commit1(f->s, s2, remove_action("a.parquet"), 0, NULL, &r, &err),
                     SL_OK);
    assert_int_equal(r.version, 3);
    char *v3 = commit_bytes(f, 3);
    assert_int_equal(commit1(f->s, s2, remove_action("a.parquet"), 0, NULL, &r, &err),
                     SL_DELTA_CONFLICT);
    assert_non_null(strstr(err.msg, "a.parquet"));
    assert_int_equal(err_code_exit(SL_DELTA_CONFLICT), 4);
    /* a file we read was removed concurrently */
    assert_int_equal(commit1(f->s, s2, add_action("c.parquet"), 0, "a.parquet", &r, &err),
                     SL_DELTA_CONFLICT);
    /* removing another file is fine */
    assert_int_equal(commit1(f->s, s2, remove_action("b.parquet"), 0, NULL, &r, &err),
                     SL_OK);
    assert_int_equal(r.version, 4);
    /* reading the whole table while others changed data */
    assert_int_equal(commit1(f->s, s2, add_action("d.parquet"), 1, NULL, &r, &err),
                     SL_DELTA_CONFLICT);
    /* the winner's commit was never overwritten */
    char *v3b = commit_bytes(f, 3);
    assert_string_equal(v3, v3b);
    free(v3);
    free(v3b);
    delta_snapshot_free(s2);

    /* metaData change by a winner */
    delta_snapshot *s4 = dt_snap_latest(f->s, "t");
    json_t *md = json_deep_copy(s4->metadata);
    json_object_set_new(json_object_get(md, "configuration"), "k", json_string("v"));
    assert_int_equal(
        commit1(f->s, s4, json_pack("{s:o}", "metaData", md), 0, NULL, &r, &err), SL_OK);
    assert_int_equal(commit1(f->s, s4, add_action("e.parquet"), 0, NULL, &r, &err),
                     SL_DELTA_CONFLICT);
    assert_non_null(strstr(err.msg, "metaData"));
    delta_snapshot_free(s4);

    /* same txn appId */
    delta_snapshot *s5 = dt_snap_latest(f->s, "t");
    json_t *txn =
        json_pack("{s:{s:s,s:I}}", "txn", "appId", "app-1", "version", (json_int_t)1);
    assert_int_equal(commit1(f->s, s5, txn, 0, NULL, &r, &err), SL_OK);
    json_t *actions = json_array();
    json_array_append_new(actions, add_action("f.parquet"));
    json_array_append_new(actions, json_pack("{s:{s:s,s:I}}", "txn", "appId", "app-1",
                                             "version", (json_int_t)2));
    delta_commit_req req = {
        .meta = {.operation = "WRITE"}, .read_snap = s5, .actions = actions};
    assert_int_equal(delta_commit(f->s, "t", &req, &r, &err), SL_DELTA_CONFLICT);
    assert_non_null(strstr(err.msg, "app-1"));
    json_decref(actions);
    /* another appId retries fine */
    actions = json_array();
    json_array_append_new(actions, add_action("g.parquet"));
    json_array_append_new(actions, json_pack("{s:{s:s,s:I}}", "txn", "appId", "app-2",
                                             "version", (json_int_t)1));
    req.actions = actions;
    assert_int_equal(delta_commit(f->s, "t", &req, &r, &err), SL_OK);
    assert_int_equal(r.version, 7);
    json_decref(actions);
    delta_snapshot_free(s5);

    /* a bounded number of attempts */
    delta_snapshot *s7 = dt_snap_latest(f->s, "t");
    assert_int_equal(commit1(f->s, s7, add_action("h.parquet"), 0, NULL, &r, &err),
                     SL_OK);
    actions = json_array();
    json_array_append_new(actions, add_action("i.parquet"));
    req = (delta_commit_req){.meta = {.operation = "WRITE"},
                             .read_snap = s7,
                             .actions = actions,
                             .max_attempts = 1};
    assert_int_equal(delta_commit(f->s, "t", &req, &r, &err), SL_DELTA_CONFLICT);
    json_decref(actions);
    delta_snapshot_free(s7);

    /* The log replays contiguously and the losers left nothing behind. */
    delta_snapshot *last = dt_snap_latest(f->s, "t");
    assert_int_equal(last->version, 8);
    assert_int_equal(last->nfiles, 2); /* g and h: a and b removed, f and i lost */
    delta_snapshot_free(last);
}

/* ---- fields kept, times, timestamp partitions ---------------------------- */

static void test_unknown_fields_kept(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 0);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    json_t *add =
        json_loads("{\"add\":{\"path\":\"x.parquet\",\"partitionValues\":{},"
                   "\"size\":3,\"modificationTime\":9,\"dataChange\":true,"
                   "\"stats\":\"{\\\"numRecords\\\":2}\",\"tags\":{\"a\":\"b\"},"
                   "\"fooUnknown\":{\"x\":[1,2,{\"y\":null}]}}}",
                   0, NULL);
    json_t *future =
        json_loads("{\"futureAction\":{\"k\":1,\"nested\":{\"z\":[true]}}}", 0, NULL);
    assert_non_null(add);
    assert_non_null(future);
    json_t *actions = json_array();
    json_array_append(actions, add);
    json_array_append(actions, future);
    delta_commit_req req = {
        .meta = {.operation = "WRITE"}, .read_snap = snap, .actions = actions};
    delta_commit_result r;
    sl_err err = {0};
    assert_int_equal(delta_commit(f->s, "t", &req, &r, &err), SL_OK);
    json_t *back;
    assert_int_equal(delta_commit_read(f->s, "t", r.version, &back, &err), SL_OK);
    assert_int_equal(json_array_size(back), 3);
    assert_true(json_equal(json_array_get(back, 1), add));
    assert_true(json_equal(json_array_get(back, 2), future));
    json_decref(back);
    delta_snapshot *after = dt_snap_latest(f->s, "t");
    assert_int_equal(after->nfiles, 1);
    json_t *a = delta_file_add(&after->files[0]);
    assert_true(json_equal(a, json_object_get(add, "add")));
    json_decref(a);
    delta_snapshot_free(after);
    json_decref(actions);
    json_decref(add);
    json_decref(future);
    delta_snapshot_free(snap);
}

static void test_commit_times_increase(void **state)
{
    fx *f = *state;
    setenv("SLUICE_FAKE_NOW_MS", "1700000000000", 1);
    create_table(f->s, "t", 0);
    delta_append_result ar;
    sl_err err = {0};
    assert_int_equal(append_rows(f->s, "t", 1, 1, NULL, 0, &ar, &err), SL_OK);
    assert_int_equal(append_rows(f->s, "t", 2, 1, NULL, 0, &ar, &err), SL_OK);
    unsetenv("SLUICE_FAKE_NOW_MS");
    for (int64_t v = 0; v <= 2; v++) {
        json_t *ci = commit_info_of(f->s, "t", v);
        assert_int_equal(json_integer_value(json_object_get(ci, "timestamp")),
                         1700000000000LL + v);
        json_decref(ci);
    }
}

static void test_timestamp_partition(void **state)
{
    fx *f = *state;
    pq_schema_col cols[] = {{"v", PQ_TYPE_INT64, true},
                            {"ts", PQ_TYPE_TIMESTAMP_US, true},
                            {"d", PQ_TYPE_DOUBLE, true}};
    const char *parts[] = {"ts", "d"};
    delta_table_spec spec = {
        .cols = cols, .ncols = 3, .partition_cols = parts, .npartition_cols = 2};
    delta_commit_result r;
    sl_err err = {0};
    assert_int_equal(delta_table_create(f->s, "t", &spec, NULL, &r, &err), SL_OK);
    pq_value row[3] = {pq_val_i64(1), pq_val_ts_us(86400000000LL + 1000),
                       pq_val_f64(2.0)};
    delta_append_req req = {.rows = row, .nrows = 1, .ncols = 3};
    delta_append_result ar;
    assert_int_equal(delta_table_append(f->s, "t", &req, NULL, &ar, &err), SL_OK);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    json_t *add = delta_file_add(&snap->files[0]);
    json_t *pv = json_object_get(add, "partitionValues");
    assert_string_equal(json_string_value(json_object_get(pv, "ts")),
                        "1970-01-02T00:00:00.001000Z");
    assert_string_equal(json_string_value(json_object_get(pv, "d")), "2.0");
    const char *want = "ts=1970-01-02T00%253A00%253A00.001000Z/d=2.0/part-";
    assert_memory_equal(snap->files[0].path, want, strlen(want));
    json_decref(add);
    delta_snapshot_free(snap);
}

/* A commit whose create landed but whose answer was lost: the commit path
 * reads the file back, finds its own txnId and succeeds; when even the read
 * fails the outcome is SL_DELTA_COMMIT_UNKNOWN and the data files stay, so
 * the table (which does hold the commit) still reads. */
static void test_lost_answers(void **state)
{
    fx *f = *state;
    create_table(f->s, "t", 0);
    sl_err err = {0};
    store *wrapped = NULL;
    store_fault_opts fo = {.seed = 1, .keep_inner = 1};
    fo.fail_after_rate[SF_OP_PUT_IF_ABSENT] = 1.0;
    assert_int_equal(store_fault_wrap(f->s, &fo, &wrapped, &err), SL_OK);
    delta_append_result ar;
    assert_int_equal(append_rows(wrapped, "t", 1, 4, NULL, 0, &ar, &err), SL_OK);
    assert_int_equal(ar.version, 1);
    store_close(wrapped);

    fo.fail_rate[SF_OP_GET] = 1.0; /* and the read-back fails too */
    assert_int_equal(store_fault_wrap(f->s, &fo, &wrapped, &err), SL_OK);
    delta_snapshot *read = dt_snap_latest(f->s, "t"); /* read before the faults */
    pq_value rows[4 * 3];
    for (int i = 0; i < 4; i++) {
        rows[i * 3] = pq_val_i64(5 + i);
        rows[i * 3 + 1] = pq_val_str("x");
        rows[i * 3 + 2] = pq_val_date(19723);
    }
    delta_append_req req = {.rows = rows, .nrows = 4, .ncols = 3, .read_snap = read};
    assert_int_equal(delta_table_append(wrapped, "t", &req, NULL, &ar, &err),
                     SL_DELTA_COMMIT_UNKNOWN);
    delta_snapshot_free(read);
    store_close(wrapped);
    /* It did land; every file it names is there; nothing was lost. */
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    assert_int_equal(snap->version, 2);
    assert_int_equal(snap->num_rows, 8);
    for (size_t i = 0; i < snap->nfiles; i++) {
        char *key = delta_data_file_key(f->s, "t", snap->files[i].path);
        store_obj o;
        assert_int_equal(store_stat(f->s, key, &o, &err), SL_OK);
        store_obj_clear(&o);
        free(key);
    }
    delta_snapshot_free(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_append_read_back, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_create_twice_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_types_and_ntz_protocol, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_info_shape, fx_setup, fx_teardown),
        cmocka_unit_test(test_protocol_rules),
        cmocka_unit_test_setup_teardown(test_protocol_refusals_on_fixtures, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_append_to_writer7_fixture, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_append_to_partitioned_fixture, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_txn_idempotence, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_conflict_matrix, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_kept, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_commit_times_increase, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_partition, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lost_answers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_cadence, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
