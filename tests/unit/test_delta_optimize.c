/* OPTIMIZE (bin-packing): small files of each partition are rewritten into
 * fewer files with the same rows and values (read back through the Parquet
 * reader), full and correct stats, dataChange false on both sides, and a
 * commitInfo "OPTIMIZE" with Delta's parameters and string metrics. A
 * concurrent removal of a compacted file is a conflict; a concurrent append
 * is not, and both results stay live. */
#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_write.h"
#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/parquet/pq_reader.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define NOW_MS 1700000000000LL

typedef struct fx {
    char *dir;
    store *s;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("delta-optimize");
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
    {"score", PQ_TYPE_DOUBLE, true},
    {"day", PQ_TYPE_DATE, true},
};

static void create_table(store *s, const char *key)
{
    dt_create_table(s, key, COLS, 4, "day");
}

/* n rows with ids first.., days alternating 2024-01-01 / 2024-01-02 (one
 * file per day and append). */
static void append_rows(store *s, const char *key, int64_t first, size_t n)
{
    pq_value *rows = calloc(n * 4, sizeof *rows);
    char(*names)[16] = calloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        int64_t id = first + (int64_t)i;
        snprintf(names[i], sizeof names[i], "n%lld", (long long)id);
        rows[i * 4] = pq_val_i64(id);
        rows[i * 4 + 1] = id % 3 == 2 ? pq_val_null() : pq_val_str(names[i]);
        rows[i * 4 + 2] = id % 4 == 1 ? pq_val_null() : pq_val_f64((double)id * 0.5);
        rows[i * 4 + 3] = pq_val_date(19723 + (int32_t)(id % 2));
    }
    dt_append(s, key, rows, n, 4);
    free(rows);
    free(names);
}

/* Each file's stats against what the reader returns: min/max of id and
 * nullCount of name (numRecords is checked by dt_table_rows). */
static void check_file_stats(const json_t *add, const json_t *rows, void *ctx)
{
    (void)ctx;
    int64_t min_id = INT64_MAX, max_id = INT64_MIN, null_names = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        int64_t id = json_integer_value(json_object_get(row, "id"));
        min_id = id < min_id ? id : min_id;
        max_id = id > max_id ? id : max_id;
        null_names += json_is_null(json_object_get(row, "name"));
    }
    json_t *stats = json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
    assert_non_null(stats);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(stats, "minValues"), "id")),
        min_id);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(stats, "maxValues"), "id")),
        max_id);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(stats, "nullCount"), "name")),
        null_names);
    json_decref(stats);
}

/* Every live row as text "row-json|partitionValues-json", sorted; checks
 * each file's stats against what the reader returns. */
static dt_strs table_dump(const fx *f, const char *key)
{
    return dt_table_rows(f->s, key, check_file_stats, NULL);
}

/* The actions of commit v, one JSON object per line. */
static json_t *commit_actions(store *s, const char *key, int64_t v)
{
    char *k = delta_commit_key(key, v);
    sl_buf b = {0};
    sl_err err = {0};
    assert_int_equal(store_get(s, k, &b, &err), SL_OK);
    json_t *acts = json_array();
    char *text = strndup(b.data, b.len);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        json_array_append_new(acts, a);
    }
    free(text);
    buf_free(&b);
    free(k);
    return acts;
}

static void test_binpack_rows_and_commit(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 6; i++)
        append_rows(f->s, "t", i * 10, 10);
    delta_snapshot *before_snap = dt_snap_latest(f->s, "t");
    assert_int_equal(before_snap->nfiles, 12);
    int64_t before_bytes = before_snap->size_bytes;
    dt_strs before = table_dump(f, "t");
    assert_int_equal(before.n, 60);

    delta_optimize_opts o = {.now_ms = NOW_MS};
    delta_optimize_result res;
    sl_err err = {0};
    assert_int_equal(delta_optimize_run(f->s, "t", before_snap, &o, NULL, &res, &err),
                     SL_OK);
    assert_true(res.committed);
    assert_int_equal(res.version, 7);
    assert_int_equal(res.removed_files, 12);
    assert_int_equal(res.added_files, 2);
    assert_int_equal(res.bins, 2);
    assert_int_equal(res.removed_bytes, before_bytes);
    assert_int_equal(res.rows, 60);

    dt_strs after = table_dump(f, "t");
    dt_assert_rows_equal(&before, &after);
    delta_snapshot *after_snap = dt_snap_latest(f->s, "t");
    assert_int_equal(after_snap->nfiles, 2);
    assert_int_equal(after_snap->num_rows, 60);
    assert_int_equal(after_snap->size_bytes, res.added_bytes);

    json_t *acts = commit_actions(f->s, "t", 7);
    size_t i, nadd = 0, nrem = 0;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        json_t *ci = json_object_get(a, "commitInfo");
        json_t *add = json_object_get(a, "add");
        json_t *rem = json_object_get(a, "remove");
        if (ci) {
            assert_int_equal(i, 0);
            assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                                "OPTIMIZE");
            /* Delta Lake: no data change -> snapshot isolation; removes -> not blind. */
            assert_string_equal(json_string_value(json_object_get(ci, "isolationLevel")),
                                "SnapshotIsolation");
            assert_true(json_is_false(json_object_get(ci, "isBlindAppend")));
            json_t *p = json_object_get(ci, "operationParameters");
            assert_string_equal(json_string_value(json_object_get(p, "predicate")), "[]");
            assert_string_equal(json_string_value(json_object_get(p, "zOrderBy")), "[]");
            json_t *m = json_object_get(ci, "operationMetrics");
            assert_string_equal(json_string_value(json_object_get(m, "numRemovedFiles")),
                                "12");
            assert_string_equal(json_string_value(json_object_get(m, "numAddedFiles")),
                                "2");
            assert_string_equal(
                json_string_value(json_object_get(m, "numDeletionVectorsRemoved")), "0");
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)res.added_bytes);
            assert_string_equal(json_string_value(json_object_get(m, "numAddedBytes")),
                                buf);
            snprintf(buf, sizeof buf, "%lld", (long long)before_bytes);
            assert_string_equal(json_string_value(json_object_get(m, "numRemovedBytes")),
                                buf);
            int64_t mn =
                strtoll(json_string_value(json_object_get(m, "minFileSize")), 0, 10);
            int64_t mx =
                strtoll(json_string_value(json_object_get(m, "maxFileSize")), 0, 10);
            int64_t p50 =
                strtoll(json_string_value(json_object_get(m, "p50FileSize")), 0, 10);
            assert_int_equal(mn + mx, res.added_bytes);
            /* Delta's index floor(n * 50 / 100): of two files, the larger. */
            assert_int_equal(p50, mx);
        } else if (add) {
            nadd++;
            assert_true(json_is_false(json_object_get(add, "dataChange")));
            assert_non_null(json_object_get(add, "stats"));
        } else if (rem) {
            nrem++;
            assert_true(json_is_false(json_object_get(rem, "dataChange")));
            assert_int_equal(
                json_integer_value(json_object_get(rem, "deletionTimestamp")), NOW_MS);
            assert_true(json_is_true(json_object_get(rem, "extendedFileMetadata")));
            assert_true(json_integer_value(json_object_get(rem, "size")) > 0);
            assert_non_null(
                json_object_get(json_object_get(rem, "partitionValues"), "day"));
        }
    }
    assert_int_equal(nadd, 2);
    assert_int_equal(nrem, 12);
    json_decref(acts);

    /* Nothing left to compact: no commit. */
    delta_optimize_result again;
    assert_int_equal(delta_optimize_run(f->s, "t", after_snap, &o, NULL, &again, &err),
                     SL_OK);
    assert_false(again.committed);
    delta_snapshot *latest = dt_snap_latest(f->s, "t");
    assert_int_equal(latest->version, 7);
    delta_snapshot_free(latest);
    delta_snapshot_free(after_snap);
    delta_snapshot_free(before_snap);
    dt_strs_clear(&before);
    dt_strs_clear(&after);
}

static void test_target_size_and_single_bins(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 4; i++)
        append_rows(f->s, "t", i * 10, 10);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    assert_int_equal(snap->nfiles, 8);
    int64_t max = 0;
    for (size_t i = 0; i < snap->nfiles; i++)
        max = snap->files[i].size > max ? snap->files[i].size : max;
    sl_err err = {0};
    delta_optimize_result res;

    /* Every file at or above the target: nothing is a candidate. */
    delta_optimize_opts small = {.target_size = 1, .now_ms = NOW_MS};
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &small, NULL, &res, &err),
                     SL_OK);
    assert_false(res.committed);
    assert_int_equal(res.removed_files, 0);

    /* A target of two files' size: bins of two per partition. The dry run
     * plans exactly what the real run does and writes nothing. */
    delta_optimize_opts two = {.target_size = 2 * max + 1, .now_ms = NOW_MS};
    delta_optimize_opts plan = two;
    plan.dry_run = 1;
    char *tdir = sl_asprintf("%s/t", f->dir);
    char *digest = dt_tree_digest(tdir);
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &plan, NULL, &res, &err), SL_OK);
    assert_false(res.committed);
    assert_int_equal(res.bins, 4);
    assert_int_equal(res.removed_files, 8);
    assert_int_equal(res.added_files, 0);
    assert_int_equal(res.rows, 40);
    int64_t planned_bytes = res.removed_bytes;
    char *digest2 = dt_tree_digest(tdir);
    assert_string_equal(digest, digest2);
    free(digest);
    free(digest2);
    free(tdir);
    dt_strs before = table_dump(f, "t");
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &two, NULL, &res, &err), SL_OK);
    assert_true(res.committed);
    assert_int_equal(res.removed_files, 8);
    assert_int_equal(res.added_files, 4);
    assert_int_equal(res.bins, 4);
    assert_int_equal(res.removed_bytes, planned_bytes);
    dt_strs after = table_dump(f, "t");
    dt_assert_rows_equal(&before, &after);
    delta_snapshot_free(snap);
    dt_strs_clear(&before);
    dt_strs_clear(&after);

    /* One file per partition left: bins of one are left alone. */
    create_table(f->s, "u");
    append_rows(f->s, "u", 0, 10);
    snap = dt_snap_latest(f->s, "u");
    delta_optimize_opts def = {.now_ms = NOW_MS};
    assert_int_equal(delta_optimize_run(f->s, "u", snap, &def, NULL, &res, &err), SL_OK);
    assert_false(res.committed);
    assert_int_equal(res.bins, 0);
    delta_snapshot_free(snap);
}

static void test_concurrent_remove_conflicts(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 3; i++)
        append_rows(f->s, "t", i * 10, 10);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");

    /* A DELETE-like writer removes one of the files first. */
    json_t *add = delta_file_add(&snap->files[0]);
    json_t *acts =
        json_pack("[{s:{s:O, s:I, s:b}}]", "remove", "path", json_object_get(add, "path"),
                  "deletionTimestamp", (json_int_t)NOW_MS, "dataChange", 1);
    delta_commit_req req = {.meta = {.operation = "DELETE"},
                            .read_snap = snap,
                            .actions = acts,
                            .max_attempts = 3};
    delta_commit_result cr;
    sl_err err = {0};
    assert_int_equal(delta_commit(f->s, "t", &req, &cr, &err), SL_OK);
    json_decref(acts);
    json_decref(add);

    delta_optimize_opts o = {.now_ms = NOW_MS, .max_attempts = 3};
    delta_optimize_result res;
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &o, NULL, &res, &err),
                     SL_DELTA_CONFLICT);
    assert_false(res.committed);
    delta_snapshot *latest = dt_snap_latest(f->s, "t");
    assert_int_equal(latest->version, 4);
    assert_int_equal(latest->nfiles, 5);
    /* The rewritten files of the lost commit were deleted again: the table
     * directory holds only the 6 appended data files. */
    store_page pg = {0};
    assert_int_equal(store_list_all(f->s, "t/day=2024-01-01/", NULL, &pg, &err), SL_OK);
    size_t n1 = pg.n;
    store_page_free(&pg);
    assert_int_equal(store_list_all(f->s, "t/day=2024-01-02/", NULL, &pg, &err), SL_OK);
    assert_int_equal(n1 + pg.n, 6);
    store_page_free(&pg);
    delta_snapshot_free(latest);
    delta_snapshot_free(snap);
}

static void test_concurrent_append_succeeds(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 3; i++)
        append_rows(f->s, "t", i * 10, 10);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    append_rows(f->s, "t", 100, 4); /* lands between read and commit */
    dt_strs before = table_dump(f, "t");
    assert_int_equal(before.n, 34);

    delta_optimize_opts o = {.now_ms = NOW_MS};
    delta_optimize_result res;
    sl_err err = {0};
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &o, NULL, &res, &err), SL_OK);
    assert_true(res.committed);
    assert_int_equal(res.version, 5);
    delta_snapshot *latest = dt_snap_latest(f->s, "t");
    assert_int_equal(latest->nfiles, 4); /* 2 compacted + 2 appended */
    assert_int_equal(latest->num_rows, 34);
    dt_strs after = table_dump(f, "t");
    dt_assert_rows_equal(&before, &after);
    delta_snapshot_free(latest);
    delta_snapshot_free(snap);
    dt_strs_clear(&before);
    dt_strs_clear(&after);
}

/* ---- Z-order ---------------------------------------------------------------- */

static void test_zorder_keys_preserve_order(void **state)
{
    (void)state;
    int64_t ints[] = {INT64_MIN, -5, -1, 0, 1, 7, INT64_MAX};
    for (size_t i = 1; i < sizeof ints / sizeof ints[0]; i++) {
        pq_value a = pq_val_i64(ints[i - 1]), b = pq_val_i64(ints[i]);
        assert_true(delta_zorder_key(&a, PQ_TYPE_INT64) <
                    delta_zorder_key(&b, PQ_TYPE_INT64));
    }
    pq_value i32a = pq_val_i32(-3), i32b = pq_val_i32(2);
    assert_true(delta_zorder_key(&i32a, PQ_TYPE_INT32) <
                delta_zorder_key(&i32b, PQ_TYPE_INT32));
    double dbl[] = {-1e300, -2.5, -1e-300, 0.0, 1e-300, 3.0, 1e300};
    for (size_t i = 1; i < sizeof dbl / sizeof dbl[0]; i++) {
        pq_value a = pq_val_f64(dbl[i - 1]), b = pq_val_f64(dbl[i]);
        assert_true(delta_zorder_key(&a, PQ_TYPE_DOUBLE) <
                    delta_zorder_key(&b, PQ_TYPE_DOUBLE));
    }
    const char *strs[] = {"", "A", "Ab", "a", "abcdefg", "b"};
    for (size_t i = 1; i < sizeof strs / sizeof strs[0]; i++) {
        pq_value a = pq_val_str(strs[i - 1]), b = pq_val_str(strs[i]);
        assert_true(delta_zorder_key(&a, PQ_TYPE_STRING) <
                    delta_zorder_key(&b, PQ_TYPE_STRING));
    }
    pq_value n = pq_val_null(), lo = pq_val_i64(INT64_MIN + 1);
    assert_true(delta_zorder_key(&n, PQ_TYPE_INT64) <
                delta_zorder_key(&lo, PQ_TYPE_INT64));
}

static const pq_schema_col ZCOLS[] = {
    {"id", PQ_TYPE_INT64, false},
    {"name", PQ_TYPE_STRING, true},
    {"x", PQ_TYPE_INT64, true},
    {"y", PQ_TYPE_DOUBLE, true},
};

/* Each append holds all 16x16 (x, y) combinations in a scrambled order, so
 * every file spans the whole range of both columns. */
static void zappend(store *s, const char *key, int64_t first)
{
    enum { N = 256 };
    pq_value *rows = calloc(N * 4, sizeof *rows);
    char(*names)[16] = calloc(N, sizeof *names);
    for (size_t i = 0; i < N; i++) {
        size_t cell = (i * 97 + (size_t)first) % N; /* 97 is odd: a permutation */
        int64_t id = first + (int64_t)i;
        snprintf(names[i], sizeof names[i], "n%lld", (long long)id);
        rows[i * 4] = pq_val_i64(id);
        rows[i * 4 + 1] = pq_val_str(names[i]);
        rows[i * 4 + 2] = pq_val_i64((int64_t)(cell / 16) - 4);
        rows[i * 4 + 3] = pq_val_f64(((double)(cell % 16) - 8.0) * 1.5);
    }
    delta_append_req req = {.rows = rows, .nrows = N, .ncols = 4};
    delta_append_result ar;
    sl_err err = {0};
    assert_int_equal(delta_table_append(s, key, &req, NULL, &ar, &err), SL_OK);
    free(rows);
    free(names);
}

/* Sum over live files of (max - min) of a column, from the stats. */
static double range_sum(store *s, const char *key, const char *col)
{
    delta_snapshot *snap = dt_snap_latest(s, key);
    double sum = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        json_t *add = delta_file_add(&snap->files[i]);
        json_t *st =
            json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
        assert_non_null(st);
        json_t *mn = json_object_get(json_object_get(st, "minValues"), col);
        json_t *mx = json_object_get(json_object_get(st, "maxValues"), col);
        assert_true(json_is_number(mn) && json_is_number(mx));
        sum += json_number_value(mx) - json_number_value(mn);
        json_decref(st);
        json_decref(add);
    }
    delta_snapshot_free(snap);
    return sum;
}

static void test_zorder_shrinks_ranges(void **state)
{
    fx *f = *state;
    delta_table_spec spec = {.cols = ZCOLS, .ncols = 4};
    delta_commit_result cr;
    sl_err err = {0};
    assert_int_equal(delta_table_create(f->s, "z", &spec, NULL, &cr, &err), SL_OK);
    for (int i = 0; i < 4; i++)
        zappend(f->s, "z", i * 1000);
    delta_snapshot *snap = dt_snap_latest(f->s, "z");
    assert_int_equal(snap->nfiles, 4);
    int64_t max = 0;
    for (size_t i = 0; i < snap->nfiles; i++)
        max = snap->files[i].size > max ? snap->files[i].size : max;
    double x_before = range_sum(f->s, "z", "x"), y_before = range_sum(f->s, "z", "y");
    assert_true(x_before == 4 * 15.0 && y_before == 4 * 22.5);
    dt_strs before = table_dump(f, "z");

    /* Unknown and repeated columns are refused before anything is written. */
    const char *bad[] = {"x", "nope"};
    delta_optimize_opts o = {
        .now_ms = NOW_MS, .target_size = max, .zorder_by = bad, .nzorder_by = 2};
    delta_optimize_result res;
    assert_int_equal(delta_optimize_run(f->s, "z", snap, &o, NULL, &res, &err), SL_USAGE);
    const char *twice[] = {"x", "x"};
    o.zorder_by = twice;
    assert_int_equal(delta_optimize_run(f->s, "z", snap, &o, NULL, &res, &err), SL_USAGE);

    const char *zcols[] = {"x", "y"};
    o.zorder_by = zcols;
    assert_int_equal(delta_optimize_run(f->s, "z", snap, &o, NULL, &res, &err), SL_OK);
    assert_true(res.committed);
    assert_int_equal(res.removed_files, 4);
    assert_int_equal(res.added_files, 4);
    dt_strs after = table_dump(f, "z");
    dt_assert_rows_equal(&before, &after);
    double x_after = range_sum(f->s, "z", "x"), y_after = range_sum(f->s, "z", "y");
    assert_true(x_after < x_before);
    assert_true(y_after < y_before);
    /* Quadrants of the 16x16 grid: each file spans half of each range. */
    assert_true(x_after + y_after <= (x_before + y_before) / 2);

    json_t *acts = commit_actions(f->s, "z", res.version);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    json_t *p = json_object_get(ci, "operationParameters");
    assert_string_equal(json_string_value(json_object_get(p, "zOrderBy")),
                        "[\"x\",\"y\"]");
    json_decref(acts);
    delta_snapshot_free(snap);
    dt_strs_clear(&before);
    dt_strs_clear(&after);
}

static void test_zorder_partition_column_refused(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    append_rows(f->s, "t", 0, 10);
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    const char *cols[] = {"day"};
    delta_optimize_opts o = {.now_ms = NOW_MS, .zorder_by = cols, .nzorder_by = 1};
    delta_optimize_result res;
    sl_err err = {0};
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &o, NULL, &res, &err), SL_USAGE);
    /* A data column: even single-file partitions are rewritten in curve order. */
    const char *ok[] = {"score", "id"};
    o.zorder_by = ok;
    o.nzorder_by = 2;
    dt_strs before = table_dump(f, "t");
    assert_int_equal(delta_optimize_run(f->s, "t", snap, &o, NULL, &res, &err), SL_OK);
    assert_true(res.committed);
    assert_int_equal(res.removed_files, 2);
    assert_int_equal(res.added_files, 2);
    dt_strs after = table_dump(f, "t");
    dt_assert_rows_equal(&before, &after);
    delta_snapshot_free(snap);
    dt_strs_clear(&before);
    dt_strs_clear(&after);
}

/* ---- ops and CLI ----------------------------------------------------------- */

static void test_ops_optimize(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 3; i++)
        append_rows(f->s, "t", i * 10, 10);
    dt_strs before = table_dump(f, "t");
    session *sess = dt_session(f->dir);
    char *url = sl_asprintf("%s/t", f->dir);
    ops_request req = {.target = url, .reason = "too many small files"};
    ops_result res;
    sl_err e = {0};
    /* Read-only: refused and audited, nothing committed. */
    sess->ops.read_only = 1;
    assert_int_equal(ops_run(&sess->ops, "optimize", &req, &res, &e), SL_OPS_READ_ONLY);
    ops_result_clear(&res);
    sess->ops.read_only = 0;
    delta_snapshot *snap = dt_snap_latest(f->s, "t");
    assert_int_equal(snap->version, 3);
    delta_snapshot_free(snap);
    /* Without a reason: refused. */
    req.reason = NULL;
    assert_int_not_equal(ops_run(&sess->ops, "optimize", &req, &res, &e), SL_OK);
    ops_result_clear(&res);
    /* Not destructive: runs without confirmation. */
    req.reason = "too many small files";
    assert_int_equal(ops_run(&sess->ops, "optimize", &req, &res, &e), SL_OK);
    assert_true(json_is_true(json_object_get(res.output, "committed")));
    assert_int_equal(json_integer_value(json_object_get(res.output, "version")), 4);
    assert_int_equal(json_integer_value(json_object_get(res.output, "removed_files")), 6);
    assert_int_equal(json_integer_value(json_object_get(res.output, "added_files")), 2);
    assert_int_equal(json_integer_value(json_object_get(res.before, "files")), 6);
    assert_int_equal(json_integer_value(json_object_get(res.after, "files")), 2);
    int64_t req_id = res.requested_id;
    assert_true(req_id > 0);
    ops_result_clear(&res);
    dt_strs after = table_dump(f, "t");
    dt_assert_rows_equal(&before, &after);

    audit_filter af = {0};
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(sess->audit, &af, &evs, &n, &e), SL_OK);
    size_t opt = 0, refused = 0, succeeded = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i].action, "optimize") != 0)
            continue;
        opt++;
        refused += strcmp(evs[i].phase, "refused") == 0;
        succeeded += strcmp(evs[i].phase, "succeeded") == 0;
    }
    assert_int_equal(refused, 2);
    assert_int_equal(succeeded, 1);
    assert_int_equal(opt, 4);
    audit_events_free(evs, n);
    /* The OPTIMIZE commit links back to the audit event. */
    json_t *acts = commit_actions(f->s, "t", 4);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")), "OPTIMIZE");
    char idtxt[32];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)req_id);
    assert_non_null(
        strstr(json_string_value(json_object_get(ci, "userMetadata")), idtxt));
    json_decref(acts);
    session_close(sess);
    free(url);
    dt_strs_clear(&before);
    dt_strs_clear(&after);
}

static void test_cli_json(void **state)
{
    fx *f = *state;
    create_table(f->s, "t");
    for (int i = 0; i < 4; i++)
        append_rows(f->s, "t", i * 10, 10);
    char *base = sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/clistate' '%s' optimize "
                             "'%s/t' --json",
                             f->dir, f->dir, tu_sluice_bin(), f->dir);
    char *out = NULL;
    /* No reason: refused with a non-zero exit. */
    assert_int_not_equal(tu_run(base, &out), 0);
    free(out);
    char *cmd = sl_asprintf("%s --target-size nope --reason r", base);
    assert_int_not_equal(tu_run(cmd, &out), 0);
    free(out);
    free(cmd);
    /* --dry-run: the plan, and the table stays at version 4. */
    cmd = sl_asprintf("%s --dry-run --reason look", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *dry = json_loads(out, 0, NULL);
    assert_non_null(dry);
    free(out);
    free(cmd);
    assert_true(json_is_true(json_object_get(dry, "dry_run")));
    assert_int_equal(json_integer_value(json_object_get(dry, "removed_files")), 8);
    assert_int_equal(json_integer_value(json_object_get(dry, "bins")), 2);
    assert_int_equal(json_integer_value(json_object_get(dry, "rows")), 40);
    json_decref(dry);
    delta_snapshot *still = dt_snap_latest(f->s, "t");
    assert_int_equal(still->version, 4);
    delta_snapshot_free(still);
    cmd = sl_asprintf("%s --reason compaction", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    assert_non_null(o);
    free(out);
    assert_true(json_is_true(json_object_get(o, "committed")));
    assert_int_equal(json_integer_value(json_object_get(o, "version")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "removed_files")), 8);
    assert_int_equal(json_integer_value(json_object_get(o, "added_files")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "rows")), 40);
    assert_int_equal(json_integer_value(json_object_get(o, "target_size")),
                     DELTA_OPTIMIZE_DEFAULT_TARGET);
    json_decref(o);
    /* Again: nothing left to compact, no new version. */
    assert_int_equal(tu_run(cmd, &out), 0);
    o = json_loads(out, 0, &je);
    assert_non_null(o);
    free(out);
    assert_true(json_is_false(json_object_get(o, "committed")));
    assert_int_equal(json_integer_value(json_object_get(o, "version")), 5);
    json_decref(o);
    free(cmd);
    /* Z-order: bad lists and partition columns are refused; data columns
     * rewrite every partition and the commit names them. */
    cmd = sl_asprintf("%s --reason z --zorder-by score,", base);
    assert_int_not_equal(tu_run(cmd, &out), 0);
    free(out);
    free(cmd);
    cmd = sl_asprintf("%s --reason z --zorder-by day", base);
    assert_int_not_equal(tu_run(cmd, &out), 0);
    free(out);
    free(cmd);
    cmd = sl_asprintf("%s --reason z --zorder-by score,id --target-size 100000", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    o = json_loads(out, 0, &je);
    assert_non_null(o);
    free(out);
    assert_true(json_is_true(json_object_get(o, "committed")));
    assert_int_equal(json_integer_value(json_object_get(o, "version")), 6);
    assert_int_equal(json_integer_value(json_object_get(o, "removed_files")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "rows")), 40);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(o, "zorder_by"), 1)), "id");
    json_decref(o);
    free(cmd);
    json_t *acts = commit_actions(f->s, "t", 6);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ci, "operationParameters"), "zOrderBy")),
                        "[\"score\",\"id\"]");
    json_decref(acts);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binpack_rows_and_commit, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_size_and_single_bins, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_remove_conflicts, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_append_succeeds, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_zorder_keys_preserve_order),
        cmocka_unit_test_setup_teardown(test_zorder_shrinks_ranges, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_zorder_partition_column_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_optimize, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cli_json, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
