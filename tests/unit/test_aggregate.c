/* The aggregate step (backend/pipeline/aggregate.c): gold recomputed for
 * the touched groups only, groups that lose their last row disappear, a
 * skipped merge (touched groups unknown) recomputes everything, other
 * group columns and aggregates (min, avg) are right, and the "after" check
 * catches a gold table changed by hand. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/aggregate.h"
#include "backend/pipeline/merge.h"
#include "backend/store/store.h"

#define DAY_US INT64_C(86400000000)
#define T0 (INT64_C(1767225600) * 1000000) /* 2026-01-01T00:00:00Z */
#define DAY0 20454                         /* T0 in days */

static pq_schema_col BCOLS[] = {
    {"id", PQ_TYPE_STRING, true},    {"region", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_INT64, true}, {"at", PQ_TYPE_TIMESTAMP_US, true},
    {"op", PQ_TYPE_STRING, true},
};
static const pq_schema_col BATCH_COLS[] = {
    {"id", PQ_TYPE_STRING, true},          {"region", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_INT64, true},       {"at", PQ_TYPE_TIMESTAMP_US, true},
    {"op", PQ_TYPE_STRING, true},          {"_source_file", PQ_TYPE_STRING, true},
    {"_source_line", PQ_TYPE_INT64, true}, {"_epoch", PQ_TYPE_INT64, true},
    {"_batch_id", PQ_TYPE_INT64, true},
};
#define NB (sizeof BATCH_COLS / sizeof BATCH_COLS[0])
static char *KEYS[] = {"id"};
static char *BY_DAY[] = {"day"};
static char *BY_REGION[] = {"region"};
static pl_aggregate AGGS[] = {{"n", PL_AGG_COUNT, NULL},
                              {"total", PL_AGG_SUM, "amount"},
                              {"smallest", PL_AGG_MIN, "amount"},
                              {"mean", PL_AGG_AVG, "amount"}};

static void def_init(pipeline_def *d, int by_region)
{
    memset(d, 0, sizeof *d);
    d->name = "sales";
    d->bronze.table = "sales_raw";
    d->bronze.cols = BCOLS;
    d->bronze.ncols = 5;
    d->silver.table = "sales";
    d->silver.keys = KEYS;
    d->silver.nkeys = 1;
    d->silver.sequence_by = "at";
    d->silver.delete_column = "op";
    d->silver.delete_equals = "D";
    d->gold.table = "sales_gold";
    d->gold.group_by = by_region ? BY_REGION : BY_DAY;
    d->gold.ngroup_by = 1;
    d->gold.day_from = "at";
    d->gold.aggregates = AGGS;
    d->gold.naggregates = 4;
}

typedef struct fx {
    char *dir;
    store *s;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("aggregate");
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

/* Row "id,region,amount,day,op" into a batch. */
static void add(delta_rows *b, const char *id, const char *region, int64_t amount,
                int day, const char *op, int64_t batch)
{
    pq_value *r = delta_rows_add(b);
    r[0] = pq_val_str(delta_rows_keep(b, id, strlen(id)));
    r[1] = pq_val_str(delta_rows_keep(b, region, strlen(region)));
    r[2] = pq_val_i64(amount);
    r[3] = pq_val_ts_us(T0 + day * DAY_US + batch);
    r[4] = pq_val_str(op);
    r[5] = pq_val_str("f.jsonl");
    r[6] = pq_val_i64((int64_t)b->nrows);
    r[7] = pq_val_i64(batch);
    r[8] = pq_val_i64(batch);
}

/* Merges then aggregates one batch; returns the aggregate's result. */
static aggregate_result step(fx *f, const pipeline_def *d, delta_rows *b, int64_t id,
                             int pretend_skipped)
{
    merge_req q = {.def = d,
                   .batch = b,
                   .batch_cols = BATCH_COLS,
                   .nbatch_cols = NB,
                   .batch_id = id};
    merge_result mr;
    sl_err err = {0};
    if (merge_run(f->s, &q, &mr, &err) != SL_OK)
        fail_msg("merge: %s", err.msg);
    aggregate_req a = {.def = d,
                       .before = pretend_skipped ? NULL : &mr.before,
                       .after = pretend_skipped ? NULL : &mr.after,
                       .batch_id = id};
    aggregate_result ar;
    if (aggregate_run(f->s, &a, &ar, &err) != SL_OK)
        fail_msg("aggregate: %s", err.msg);
    if (aggregate_check(f->s, d, &a, &err) != SL_OK)
        fail_msg("check: %s", err.msg);
    merge_result_clear(&mr);
    delta_rows_free(b);
    delta_rows_init(b, BATCH_COLS, NB);
    return ar;
}

static void read_gold(fx *f, delta_rows *g)
{
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(f->s, "sales_gold", &at, &snap, &err), SL_OK);
    pq_schema_col *cols;
    size_t n;
    assert_int_equal(delta_schema_cols(snap->metadata, &cols, &n, &err), SL_OK);
    delta_rows_init(g, cols, n);
    for (size_t i = 0; i < snap->nfiles; i++)
        assert_int_equal(
            delta_rows_read_file(f->s, "sales_gold", &snap->files[i], cols, n, g, &err),
            SL_OK);
    delta_schema_cols_free(cols, n);
    delta_snapshot_free(snap);
}

/* The gold row of a day (days from T0), or -1. */
static int gold_day(const delta_rows *g, int day)
{
    for (size_t i = 0; i < g->nrows; i++)
        if (g->cells[i * g->ncols].i32 == DAY0 + day)
            return (int)i;
    return -1;
}

static void test_touched_groups_and_empty_groups(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, 0);
    delta_rows b;
    delta_rows_init(&b, BATCH_COLS, NB);
    add(&b, "a", "north", 10, 0, "U", 1);
    add(&b, "b", "north", 20, 0, "U", 1);
    add(&b, "c", "south", 5, 1, "U", 1);
    aggregate_result ar = step(f, &d, &b, 1, 0);
    assert_int_equal(ar.groups_touched, 2);

    /* b moves to day 2; c is deleted, so day 1 loses its only row. */
    add(&b, "b", "north", 7, 2, "U", 2);
    add(&b, "c", "south", 0, 3, "D", 2);
    ar = step(f, &d, &b, 2, 0);
    assert_int_equal(ar.groups_touched, 3); /* days 0, 1 (before), 2 (after) */
    delta_rows g;
    read_gold(f, &g);
    assert_int_equal(g.nrows, 2);
    int r0 = gold_day(&g, 0), r2 = gold_day(&g, 2);
    assert_true(r0 >= 0 && r2 >= 0);
    assert_int_equal(gold_day(&g, 1), -1);
    const pq_value *c0 = &g.cells[(size_t)r0 * g.ncols];
    assert_int_equal(c0[1].i64, 1);  /* n */
    assert_int_equal(c0[2].i64, 10); /* total */
    assert_int_equal(c0[3].i64, 10); /* smallest */
    assert_true(c0[4].f64 == 10.0);  /* mean */
    delta_rows_free(&g);

    /* A merge whose result was lost (skipped): every group recomputed. */
    add(&b, "d", "east", 4, 2, "U", 3);
    ar = step(f, &d, &b, 3, 1);
    assert_int_equal(ar.groups_touched, 2);
    read_gold(f, &g);
    const pq_value *c2 = &g.cells[(size_t)gold_day(&g, 2) * g.ncols];
    assert_int_equal(c2[1].i64, 2);
    assert_int_equal(c2[2].i64, 11);
    assert_int_equal(c2[3].i64, 4);
    assert_true(c2[4].f64 == 5.5);
    delta_rows_free(&g);
    delta_rows_free(&b);
}

static void test_group_by_column_pruned(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, 1);
    delta_rows b;
    delta_rows_init(&b, BATCH_COLS, NB);
    static const char *regions[] = {"r0", "r1", "r2", "r3", "r4", "r5"};
    char id[16];
    for (int r = 0; r < 6; r++) { /* one batch (one silver file) per region */
        for (int i = 0; i < 5; i++) {
            snprintf(id, sizeof id, "%s-%d", regions[r], i);
            add(&b, id, regions[r], r * 10 + i, 0, "U", r + 1);
        }
        step(f, &d, &b, r + 1, 0);
    }
    add(&b, "r3-0", "r3", 100, 1, "U", 7);
    aggregate_result ar = step(f, &d, &b, 7, 0);
    assert_int_equal(ar.groups_touched, 1);
    /* Region r3's two silver files (survivors, new row), one gold file. */
    assert_int_equal(ar.silver_files_read, 2);
    assert_int_equal(ar.files_read, 1);
    delta_rows g;
    read_gold(f, &g);
    assert_int_equal(g.nrows, 6);
    for (size_t i = 0; i < g.nrows; i++) {
        const pq_value *c = &g.cells[i * g.ncols];
        if (strncmp(c[0].str.ptr, "r3", 2) == 0) {
            assert_int_equal(c[2].i64, 100 + 31 + 32 + 33 + 34);
            assert_int_equal(c[3].i64, 31);
        }
    }
    delta_rows_free(&g);
    delta_rows_free(&b);
}

/* Replaces gold's file holding day 0 by one saying n = 999. */
static void tamper(fx *f)
{
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(f->s, "sales_gold", &at, &snap, &err), SL_OK);
    delta_rows g;
    read_gold(f, &g);
    for (size_t i = 0; i < g.nrows; i++)
        if (g.cells[i * g.ncols].i32 == DAY0)
            g.cells[i * g.ncols + 1] = pq_val_i64(999);
    json_t *add = NULL;
    assert_int_equal(delta_data_file_write(f->s, "sales_gold", snap->metadata, g.cells,
                                           g.nrows, NULL, 1, &add, &err),
                     SL_OK);
    json_t *actions = json_array();
    for (size_t i = 0; i < snap->nfiles; i++)
        json_array_append_new(actions, json_pack("{s:{s:s, s:b}}", "remove", "path",
                                                 snap->files[i].path, "dataChange", 1));
    json_array_append_new(actions, json_pack("{s:o}", "add", add));
    delta_commit_req req = {
        .meta = {.operation = "WRITE"}, .read_snap = snap, .actions = actions};
    delta_commit_result cr;
    assert_int_equal(delta_commit(f->s, "sales_gold", &req, &cr, &err), SL_OK);
    json_decref(actions);
    delta_rows_free(&g);
    delta_snapshot_free(snap);
}

static void test_check_detects_tampered_gold(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, 0);
    delta_rows b;
    delta_rows_init(&b, BATCH_COLS, NB);
    add(&b, "a", "north", 10, 0, "U", 1);
    add(&b, "b", "north", 20, 0, "U", 1);
    add(&b, "c", "south", 5, 1, "U", 1);
    step(f, &d, &b, 1, 0);
    sl_err err = {0};
    assert_int_equal(aggregate_check(f->s, &d, NULL, &err), SL_OK);
    tamper(f);
    assert_int_equal(aggregate_check(f->s, &d, NULL, &err), SL_CHECK_FAILED);
    assert_non_null(strstr(err.msg, "day=2026-01-01"));
    assert_non_null(strstr(err.msg, "n is 999 in gold, 2 recomputed"));
    /* Only day 1 touched: the tampered day 0 is not looked at. */
    delta_rows after;
    delta_rows_init(&after, BATCH_COLS, NB);
    add(&after, "c", "south", 5, 1, "U", 1);
    aggregate_req t = {.def = &d, .after = &after};
    /* after holds silver-shaped rows: ids, region, amount, at, op first. */
    assert_int_equal(aggregate_check(f->s, &d, &t, &err), SL_OK);
    after.cells[3] = pq_val_ts_us(T0);
    assert_int_equal(aggregate_check(f->s, &d, &t, &err), SL_CHECK_FAILED);
    delta_rows_free(&after);
    delta_rows_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_touched_groups_and_empty_groups, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_group_by_column_pruned, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_check_detects_tampered_gold, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
