/* The merge step (backend/pipeline/merge.c): generated batches of inserts,
 * updates, deletes, exact duplicates, out-of-order updates, resurrections
 * and ties are merged into silver, and silver must equal an independent
 * replay of every event under the ordering rule (written here, plainly);
 * gold must equal the aggregates of that expected silver. Also: key-range
 * pruning reads one file of many, re-runs are skipped, a crash between the
 * tombstones and the silver commit recovers, and the files layout replaces
 * exactly the changed customers' files. Each scenario also runs with warm
 * snapshots kept across batches (merge_req.silver_snap / tomb_snap, as a
 * long-running runner keeps them), which must give the same tables. */
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
#include "backend/util/buf.h"

#define DAY_US INT64_C(86400000000)
#define T0 (INT64_C(1767225600) * 1000000) /* 2026-01-01T00:00:00Z */

static pq_schema_col BCOLS[] = {
    {"order_id", PQ_TYPE_STRING, true},         {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},           {"qty", PQ_TYPE_INT32, true},
    {"updated_at", PQ_TYPE_TIMESTAMP_US, true}, {"op", PQ_TYPE_STRING, true},
};
/* A batch's bronze columns: the declared ones plus ingest's. */
static const pq_schema_col BATCH_COLS[] = {
    {"order_id", PQ_TYPE_STRING, true},
    {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},
    {"qty", PQ_TYPE_INT32, true},
    {"updated_at", PQ_TYPE_TIMESTAMP_US, true},
    {"op", PQ_TYPE_STRING, true},
    {"_source_file", PQ_TYPE_STRING, true},
    {"_source_line", PQ_TYPE_INT64, true},
    {"_epoch", PQ_TYPE_INT64, true},
    {"_batch_id", PQ_TYPE_INT64, true},
    {"_ingest_time", PQ_TYPE_TIMESTAMP_US, true},
};
#define NBATCH_COLS (sizeof BATCH_COLS / sizeof BATCH_COLS[0])
static char *KEYS[] = {"order_id"};
static char *GROUP_BY[] = {"day"};
static pl_aggregate AGGS[] = {{"orders", PL_AGG_COUNT, NULL},
                              {"revenue", PL_AGG_SUM, "amount"},
                              {"max_qty", PL_AGG_MAX, "qty"}};

static void def_init(pipeline_def *d, pl_layout layout)
{
    memset(d, 0, sizeof *d);
    d->name = "orders";
    d->source.layout = layout;
    d->bronze.table = "orders_raw";
    d->bronze.cols = BCOLS;
    d->bronze.ncols = sizeof BCOLS / sizeof BCOLS[0];
    d->silver.table = "orders";
    d->silver.keys = KEYS;
    d->silver.nkeys = 1;
    d->silver.sequence_by = "updated_at";
    d->silver.delete_column = "op";
    d->silver.delete_equals = "D";
    d->gold.table = "orders_by_day";
    d->gold.group_by = GROUP_BY;
    d->gold.ngroup_by = 1;
    d->gold.day_from = "updated_at";
    d->gold.aggregates = AGGS;
    d->gold.naggregates = 3;
}

/* One delivered row (an event). */
typedef struct ev {
    char id[24], cust[16], file[32];
    double amount; /* multiples of 0.25: sums are exact in any order */
    int amount_null, qty, ts_null, del;
    int64_t ts, batch, line;
} ev;

static void add_event(delta_rows *b, const ev *e)
{
    pq_value *r = delta_rows_add(b);
    r[0] = pq_val_strn(delta_rows_keep(b, e->id, strlen(e->id)), strlen(e->id));
    r[1] = pq_val_strn(delta_rows_keep(b, e->cust, strlen(e->cust)), strlen(e->cust));
    r[2] = e->amount_null ? pq_val_null() : pq_val_f64(e->amount);
    r[3] = pq_val_i32(e->qty);
    r[4] = e->ts_null ? pq_val_null() : pq_val_ts_us(e->ts);
    r[5] = pq_val_strn(e->del ? "D" : "U", 1);
    r[6] = pq_val_strn(delta_rows_keep(b, e->file, strlen(e->file)), strlen(e->file));
    r[7] = pq_val_i64(e->line);
    r[8] = pq_val_i64(e->batch);
    r[9] = pq_val_i64(e->batch);
    r[10] = pq_val_ts_us(T0);
}

/* ---- the independent expectation --------------------------------------- */

/* Is a newer than b? sequence (null oldest), then batch, then line. */
static int ev_newer(const ev *a, const ev *b)
{
    if (a->ts_null != b->ts_null)
        return b->ts_null;
    if (!a->ts_null && a->ts != b->ts)
        return a->ts > b->ts;
    if (a->batch != b->batch)
        return a->batch > b->batch;
    if (a->line != b->line)
        return a->line > b->line;
    return strcmp(a->file, b->file) > 0;
}

typedef struct model {
    ev *state; /* per key: the newest event so far (a delete too) */
    int *has;
    size_t nkeys;
} model;

static void model_apply(model *m, const ev *e, size_t key)
{
    if (!m->has[key] || ev_newer(e, &m->state[key])) {
        m->state[key] = *e;
        m->has[key] = 1;
    }
}

/* ---- reading tables back ------------------------------------------------ */

static void read_table(store *s, const char *key, delta_rows *r, size_t *nfiles)
{
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(s, key, &at, &snap, &err), SL_OK);
    pq_schema_col *cols;
    size_t n;
    assert_int_equal(delta_schema_cols(snap->metadata, &cols, &n, &err), SL_OK);
    delta_rows_init(r, cols, n);
    for (size_t i = 0; i < snap->nfiles; i++)
        assert_int_equal(delta_rows_read_file(s, key, &snap->files[i], cols, n, r, &err),
                         SL_OK);
    if (nfiles)
        *nfiles = snap->nfiles;
    delta_schema_cols_free(cols, n);
    delta_snapshot_free(snap);
}

static int64_t table_version(store *s, const char *key)
{
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(s, key, &at, &snap, &err), SL_OK);
    int64_t v = snap->version;
    delta_snapshot_free(snap);
    return v;
}

static int row_by_id(const delta_rows *r, const char *id)
{
    int found = -1;
    for (size_t i = 0; i < r->nrows; i++) {
        const pq_value *v = &r->cells[i * r->ncols];
        if (v->str.len == strlen(id) && memcmp(v->str.ptr, id, v->str.len) == 0) {
            assert_int_equal(found, -1); /* one row per key */
            found = (int)i;
        }
    }
    return found;
}

/* Silver equals the model: the same keys, each with the newest event's
 * values; no key whose newest event is a delete. */
static void expect_silver(store *s, const model *m, const char *const *ids)
{
    delta_rows r;
    read_table(s, "orders", &r, NULL);
    size_t live = 0;
    for (size_t k = 0; k < m->nkeys; k++) {
        int i = row_by_id(&r, ids[k]);
        if (!m->has[k] || m->state[k].del) {
            if (i >= 0)
                fail_msg("key %s should be absent", ids[k]);
            continue;
        }
        if (i < 0)
            fail_msg("key %s is missing", ids[k]);
        live++;
        const ev *e = &m->state[k];
        const pq_value *c = &r.cells[(size_t)i * r.ncols];
        assert_int_equal(c[2].is_null, e->amount_null);
        if (!e->amount_null)
            assert_true(c[2].f64 == e->amount);
        assert_int_equal(c[3].i32, e->qty);
        assert_int_equal(c[4].is_null, e->ts_null);
        if (!e->ts_null)
            assert_int_equal(c[4].i64, e->ts);
        assert_int_equal(c[7].i64, e->line);  /* _source_line */
        assert_int_equal(c[9].i64, e->batch); /* _batch_id */
    }
    assert_int_equal(r.nrows, live);
    delta_rows_free(&r);
}

/* Gold equals count/sum/max per UTC day of the model's live rows. */
static void expect_gold(store *s, const model *m)
{
    enum { NDAYS = 64 };
    int64_t cnt[NDAYS + 1] = {0}, mq[NDAYS + 1];
    double sum[NDAYS + 1] = {0};
    int sum_any[NDAYS + 1] = {0};
    for (int i = 0; i <= NDAYS; i++)
        mq[i] = INT64_MIN;
    for (size_t k = 0; k < m->nkeys; k++) {
        if (!m->has[k] || m->state[k].del)
            continue;
        const ev *e = &m->state[k];
        int day = e->ts_null ? NDAYS : (int)((e->ts - T0) / DAY_US);
        if (day < 0 || day > NDAYS)
            fail_msg("key %zu day %d ts %lld null %d", k, day, (long long)e->ts,
                     e->ts_null);
        cnt[day]++;
        if (!e->amount_null) {
            sum[day] += e->amount;
            sum_any[day] = 1;
        }
        if (e->qty > mq[day])
            mq[day] = e->qty;
    }
    delta_rows g;
    read_table(s, "orders_by_day", &g, NULL);
    size_t groups = 0;
    for (int day = 0; day <= NDAYS; day++) {
        if (!cnt[day])
            continue;
        groups++;
        int found = 0;
        for (size_t i = 0; i < g.nrows; i++) {
            const pq_value *c = &g.cells[i * g.ncols];
            int gday = c[0].is_null ? NDAYS : c[0].i32 - (int)(T0 / DAY_US);
            if (gday != day)
                continue;
            found++;
            assert_int_equal(c[1].i64, cnt[day]);
            assert_int_equal(c[2].is_null, !sum_any[day]);
            if (sum_any[day])
                assert_true(c[2].f64 == sum[day]);
            assert_int_equal(c[3].i32, mq[day]);
        }
        assert_int_equal(found, 1);
    }
    assert_int_equal(g.nrows, groups);
    delta_rows_free(&g);
}

/* ---- fixtures ------------------------------------------------------------ */

typedef struct fx {
    char *dir;
    store *s;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("merge");
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

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

/* The warm snapshots of the "_warm" variants (NULL pointers: cold). */
static delta_snapshot **warm_silver, **warm_tomb;
static delta_snapshot *warm_silver_snap, *warm_tomb_snap;

static void warm_begin(void)
{
    warm_silver_snap = warm_tomb_snap = NULL;
    warm_silver = &warm_silver_snap;
    warm_tomb = &warm_tomb_snap;
}

/* A process that dies loses its warm snapshots. */
static void warm_lose(void)
{
    delta_snapshot_free(warm_silver_snap);
    delta_snapshot_free(warm_tomb_snap);
    warm_silver_snap = warm_tomb_snap = NULL;
}

static void warm_end(void)
{
    warm_lose();
    warm_silver = warm_tomb = NULL;
}

/* The warm snapshot of table key equals a fresh open: version, files, rows,
 * txns. */
static void expect_warm_fresh(store *s, const char *key, const delta_snapshot *warm)
{
    if (!warm)
        return;
    delta_snapshot *fresh = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(s, key, &at, &fresh, &err), SL_OK);
    assert_int_equal(warm->version, fresh->version);
    assert_int_equal(warm->nfiles, fresh->nfiles);
    assert_int_equal(warm->num_rows, fresh->num_rows);
    for (size_t i = 0; i < warm->nfiles; i++)
        assert_string_equal(warm->files[i].path, fresh->files[i].path);
    assert_true(json_equal(warm->txns, fresh->txns));
    delta_snapshot_free(fresh);
}

static sl_code run_merge(store *s, const pipeline_def *d, const delta_rows *batch,
                         int64_t id, merge_result *mr, sl_err *err)
{
    merge_req q = {.def = d,
                   .batch = batch,
                   .batch_cols = BATCH_COLS,
                   .nbatch_cols = NBATCH_COLS,
                   .batch_id = id,
                   .silver_snap = warm_silver,
                   .tomb_snap = warm_tomb};
    sl_code c = merge_run(s, &q, mr, err);
    if (c == SL_OK && warm_silver) {
        assert_non_null(*warm_silver); /* kept for the next batch */
        expect_warm_fresh(s, d->silver.table, *warm_silver);
    }
    return c;
}

static void run_aggregate(store *s, const pipeline_def *d, const merge_result *mr,
                          int64_t id, aggregate_result *ar)
{
    aggregate_req q = {.def = d,
                       .before = mr->skipped ? NULL : &mr->before,
                       .after = mr->skipped ? NULL : &mr->after,
                       .batch_id = id};
    sl_err err = {0};
    sl_code c = aggregate_run(s, &q, ar, &err);
    if (c != SL_OK)
        fail_msg("aggregate: %s", err.msg);
    c = aggregate_check(s, d, &q, &err);
    if (c != SL_OK)
        fail_msg("check: %s", err.msg);
}

/* Deletes the newest commit of a table, as if the process died before
 * writing it (its data files stay behind as orphans). */
static void drop_last_commit(fx *f, const char *table, int64_t version)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/_delta_log/%020lld.json", f->dir, table,
             (long long)version);
    assert_int_equal(remove(path), 0);
}

/* ---- epoch layout: generated history ------------------------------------ */

#define NKEYS 120
#define NBATCHES 8

static void test_epoch_history(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, PL_LAYOUT_EPOCH);
    rng_state = 42;
    char ids[NKEYS][24];
    const char *idp[NKEYS];
    for (size_t k = 0; k < NKEYS; k++) {
        snprintf(ids[k], sizeof ids[k], "o%04zu", k * 7 % 1000);
        idp[k] = ids[k];
    }
    model m = {calloc(NKEYS, sizeof(ev)), calloc(NKEYS, sizeof(int)), NKEYS};
    int64_t dup_total = 0, stale_total = 0, resurrected = 0, del_total = 0;
    for (int64_t b = 1; b <= NBATCHES; b++) {
        delta_rows batch;
        delta_rows_init(&batch, BATCH_COLS, NBATCH_COLS);
        ev *evs = calloc(400, sizeof *evs);
        size_t *evkey = calloc(400, sizeof *evkey);
        size_t n = 0;
        size_t rows = 120 + rnd(80);
        for (size_t i = 0; i < rows; i++) {
            ev *e = &evs[n];
            size_t k = rnd(NKEYS);
            uint32_t kind = rnd(100);
            if (kind < 10 && n > 0) { /* an exact duplicate of an earlier row */
                size_t j = rnd((uint32_t)n);
                *e = evs[j];
                k = evkey[j];
                dup_total++;
            } else {
                snprintf(e->id, sizeof e->id, "%s", ids[k]);
                snprintf(e->cust, sizeof e->cust, "c%02u", rnd(9));
                e->amount = (double)rnd(4000) * 0.25;
                e->amount_null = rnd(15) == 0;
                e->qty = 1 + (int)rnd(50);
                /* Timestamps over ~10 days, drawn so some updates arrive
                 * after newer ones (out of order), some tie (same second),
                 * a few have none. */
                e->ts = T0 + (int64_t)rnd(10) * DAY_US + (int64_t)rnd(4) * 3600000000;
                e->ts_null = rnd(25) == 0;
                e->del = rnd(100) < 18;
            }
            snprintf(e->file, sizeof e->file, "%lld/part-%u.jsonl", (long long)b,
                     (unsigned)(i % 2));
            e->batch = b;
            e->line = (int64_t)(i / 2) + 1; /* two files: lines repeat */
            if (m.has[k] && m.state[k].del && !e->del && ev_newer(e, &m.state[k]))
                resurrected++;
            del_total += e->del;
            evkey[n++] = k;
            add_event(&batch, e);
        }
        /* The model applies events one by one in delivery order. */
        for (size_t i = 0; i < n; i++) {
            if (m.has[evkey[i]] && !ev_newer(&evs[i], &m.state[evkey[i]]))
                stale_total++;
            model_apply(&m, &evs[i], evkey[i]);
        }
        merge_result mr;
        sl_err err = {0};
        sl_code c = run_merge(f->s, &d, &batch, b, &mr, &err);
        if (c != SL_OK)
            fail_msg("merge batch %lld: %s", (long long)b, err.msg);
        assert_false(mr.skipped);
        assert_int_equal(mr.rows_in, (int64_t)n);
        assert_true(mr.silver_version > 0 && mr.tombstones_version > 0);
        assert_int_equal(mr.upserts, mr.inserts + mr.updates);
        assert_int_equal((int64_t)mr.after.nrows, mr.upserts);
        assert_int_equal((int64_t)mr.before.nrows, mr.updates + mr.deletes);
        if (b == 5) {
            /* Crash after the tombstones commit, before silver's: the re-run
             * skips tombstones and still applies this batch's deletes. */
            assert_true(mr.deletes > 0);
            warm_lose();
            drop_last_commit(f, "orders", mr.silver_version);
            merge_result_clear(&mr);
            c = run_merge(f->s, &d, &batch, b, &mr, &err);
            if (c != SL_OK)
                fail_msg("re-run of batch 5: %s", err.msg);
            assert_false(mr.skipped);
            assert_int_equal(mr.tombstones_version, -1);
        }
        expect_silver(f->s, &m, idp);
        aggregate_result ar;
        run_aggregate(f->s, &d, &mr, b, &ar);
        assert_false(ar.skipped);
        assert_true(ar.gold_version > 0);
        expect_gold(f->s, &m);

        /* Idempotent: the same batch again changes nothing. */
        int64_t sv = table_version(f->s, "orders"),
                gv = table_version(f->s, "orders_by_day");
        merge_result again;
        assert_int_equal(run_merge(f->s, &d, &batch, b, &again, &err), SL_OK);
        assert_true(again.skipped);
        assert_int_equal(again.silver_version, -1);
        aggregate_result ar2;
        run_aggregate(f->s, &d, &again, b, &ar2);
        assert_true(ar2.skipped);
        assert_int_equal(table_version(f->s, "orders"), sv);
        assert_int_equal(table_version(f->s, "orders_by_day"), gv);
        merge_result_clear(&again);
        merge_result_clear(&mr);
        delta_rows_free(&batch);
        free(evs);
        free(evkey);
    }
    /* The generator produced every case the merge must get right. */
    assert_true(dup_total > 10);
    assert_true(stale_total > 10);
    assert_true(resurrected > 0);
    assert_true(del_total > 10);
    free(m.state);
    free(m.has);
}

static void test_epoch_history_warm(void **state)
{
    warm_begin();
    test_epoch_history(state);
    expect_warm_fresh(((fx *)*state)->s, "_sluice/tombstones/orders", warm_tomb_snap);
    warm_end();
}

/* A batch of keys [lo, lo + n) in one day, all inserts. */
static void range_batch(delta_rows *b, int lo, int n, int64_t batch, int64_t ts)
{
    delta_rows_init(b, BATCH_COLS, NBATCH_COLS);
    for (int i = 0; i < n; i++) {
        ev e = {0};
        snprintf(e.id, sizeof e.id, "k%05d", lo + i);
        snprintf(e.cust, sizeof e.cust, "c1");
        snprintf(e.file, sizeof e.file, "%lld/a.jsonl", (long long)batch);
        e.amount = 1.5;
        e.qty = 2;
        e.ts = ts;
        e.batch = batch;
        e.line = i + 1;
        add_event(b, &e);
    }
}

static void test_epoch_pruning(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, PL_LAYOUT_EPOCH);
    sl_err err = {0};
    /* Ten batches, each a disjoint key range on its own day: ten files. */
    for (int b = 0; b < 10; b++) {
        delta_rows batch;
        range_batch(&batch, b * 100, 100, b + 1, T0 + b * DAY_US);
        merge_result mr;
        assert_int_equal(run_merge(f->s, &d, &batch, b + 1, &mr, &err), SL_OK);
        assert_int_equal(mr.inserts, 100);
        assert_int_equal(mr.files_read, 0); /* no range overlaps a new one */
        aggregate_result ar;
        run_aggregate(f->s, &d, &mr, b + 1, &ar);
        merge_result_clear(&mr);
        delta_rows_free(&batch);
    }
    /* Three keys of the sixth range updated later that day. */
    delta_rows batch;
    range_batch(&batch, 510, 3, 11, T0 + 5 * DAY_US + 3600000000);
    merge_result mr;
    assert_int_equal(run_merge(f->s, &d, &batch, 11, &mr, &err), SL_OK);
    assert_int_equal(mr.files_considered, 10);
    assert_int_equal(mr.files_read, 1);
    assert_int_equal(mr.files_removed, 1);
    assert_int_equal(mr.files_added, 2); /* the survivors, the new rows */
    assert_int_equal(mr.updates, 3);
    assert_int_equal(mr.inserts, 0);
    aggregate_result ar;
    run_aggregate(f->s, &d, &mr, 11, &ar);
    assert_int_equal(ar.groups_touched, 1);
    assert_int_equal(ar.silver_files_read, 2); /* only that day's files */
    assert_int_equal(ar.files_read, 1);        /* gold: one file per day */
    assert_int_equal(ar.files_removed, 1);
    assert_int_equal(ar.files_added, 1);
    delta_rows silver;
    size_t nfiles;
    read_table(f->s, "orders", &silver, &nfiles);
    assert_int_equal(silver.nrows, 1000);
    assert_int_equal(nfiles, 11);
    int i = row_by_id(&silver, "k00511");
    assert_true(i >= 0);
    assert_int_equal(silver.cells[(size_t)i * silver.ncols + 9].i64, 11);
    delta_rows_free(&silver);
    merge_result_clear(&mr);
    delta_rows_free(&batch);
    /* Gold as a whole agrees with silver. */
    assert_int_equal(aggregate_check(f->s, &d, NULL, &err), SL_OK);
}

/* ---- files layout ---------------------------------------------------------- */

#define NCUST 200

/* Customer c's content at version v: its rows (item ids and amounts). */
static int cust_rows(int c, int v)
{
    if (v == 0)
        return 3 + c % 7;
    if (c == 13)
        return 0;                  /* emptied */
    return c % 2 ? 1 : 12 + c % 5; /* shorter or longer */
}

static void cust_batch(delta_rows *b, const int *custs, size_t n, int v, int64_t batch)
{
    delta_rows_init(b, BATCH_COLS, NBATCH_COLS);
    for (size_t k = 0; k < n; k++) {
        int c = custs[k];
        for (int i = 0; i < cust_rows(c, v); i++) {
            ev e = {0};
            snprintf(e.id, sizeof e.id, "c%03d-%02d", c, i);
            snprintf(e.cust, sizeof e.cust, "c%03d", c);
            snprintf(e.file, sizeof e.file, "id-%03d.txt", c);
            e.amount = v * 100 + i;
            e.qty = v + 1;
            e.ts = T0 + (int64_t)(c % 3) * DAY_US;
            e.batch = batch;
            e.line = i + 1;
            add_event(b, &e);
        }
    }
}

static int changed_customer(int c)
{
    return c % 10 == 3; /* 20 of 200, 13 among them */
}

static void test_files_layout(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, PL_LAYOUT_FILES);
    sl_err err = {0};
    int all[NCUST], changed[NCUST];
    size_t nchanged = 0;
    for (int c = 0; c < NCUST; c++) {
        all[c] = c;
        if (changed_customer(c))
            changed[nchanged++] = c;
    }
    assert_int_equal(nchanged, 20);
    delta_rows b1;
    cust_batch(&b1, all, NCUST, 0, 1);
    merge_result mr;
    assert_int_equal(run_merge(f->s, &d, &b1, 1, &mr, &err), SL_OK);
    assert_int_equal(mr.files_added, NCUST); /* one data file per source file */
    /* Partitioned by source file: one directory each. */
    json_t *pcols = NULL;
    {
        delta_snapshot *sn = NULL;
        delta_at lat = {.kind = DELTA_AT_LATEST};
        assert_int_equal(delta_snapshot_open(f->s, "orders", &lat, &sn, &err), SL_OK);
        pcols = json_incref(json_object_get(sn->metadata, "partitionColumns"));
        for (size_t i = 0; i < sn->nfiles; i++)
            assert_true(strncmp(sn->files[i].path, "_source_file=id-", 16) == 0);
        delta_snapshot_free(sn);
    }
    assert_int_equal(json_array_size(pcols), 1);
    assert_string_equal(json_string_value(json_array_get(pcols, 0)), "_source_file");
    json_decref(pcols);
    aggregate_result ar;
    run_aggregate(f->s, &d, &mr, 1, &ar);
    merge_result_clear(&mr);

    /* The data files of the changed customers before the replacement. */
    delta_snapshot *before = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    assert_int_equal(delta_snapshot_open(f->s, "orders", &at, &before, &err), SL_OK);
    json_t *expect_removed = json_object();
    for (size_t i = 0; i < before->nfiles; i++) {
        json_t *mn, *mx;
        delta_file_col_range(&before->files[i], "_source_file", &mn, &mx);
        assert_true(json_equal(mn, mx));
        int c = atoi(json_string_value(mn) + 3);
        if (changed_customer(c))
            json_object_set_new(expect_removed, before->files[i].path, json_true());
        json_decref(mn);
        json_decref(mx);
    }
    delta_snapshot_free(before);
    assert_int_equal(json_object_size(expect_removed), 20);

    delta_rows b2;
    cust_batch(&b2, changed, nchanged, 1, 2);
    const char *names[NCUST];
    char namebuf[NCUST][32];
    for (size_t k = 0; k < nchanged; k++) {
        snprintf(namebuf[k], sizeof namebuf[k], "id-%03d.txt", changed[k]);
        names[k] = namebuf[k];
    }
    merge_req q = {.def = &d,
                   .batch = &b2,
                   .batch_cols = BATCH_COLS,
                   .nbatch_cols = NBATCH_COLS,
                   .batch_id = 2,
                   .changed_files = names,
                   .nchanged_files = nchanged,
                   .silver_snap = warm_silver};
    assert_int_equal(merge_run(f->s, &q, &mr, &err), SL_OK);
    if (warm_silver)
        expect_warm_fresh(f->s, "orders", *warm_silver);
    assert_int_equal(mr.files_considered, NCUST);
    assert_int_equal(mr.files_removed, 20);
    assert_int_equal(mr.files_added, 19); /* the emptied one has no file */

    /* The commit removed exactly those files and added one per customer. */
    json_t *actions = NULL;
    assert_int_equal(delta_commit_read(f->s, "orders", mr.silver_version, &actions, &err),
                     SL_OK);
    size_t nrem = 0, nadd = 0, i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        json_t *rm = json_object_get(a, "remove"), *ad = json_object_get(a, "add");
        if (rm) {
            nrem++;
            assert_non_null(json_object_get(
                expect_removed, json_string_value(json_object_get(rm, "path"))));
            assert_true(json_is_true(json_object_get(rm, "dataChange")));
        }
        if (ad) {
            nadd++;
            /* The source file is the partition value, and its directory. */
            const char *src = json_string_value(
                json_object_get(json_object_get(ad, "partitionValues"), "_source_file"));
            assert_non_null(src);
            assert_true(changed_customer(atoi(src + 3)));
            char dir[64];
            snprintf(dir, sizeof dir, "_source_file=%s/", src);
            assert_true(strncmp(json_string_value(json_object_get(ad, "path")), dir,
                                strlen(dir)) == 0);
        }
    }
    assert_int_equal(nrem, 20);
    assert_int_equal(nadd, 19);
    json_decref(actions);
    json_decref(expect_removed);
    run_aggregate(f->s, &d, &mr, 2, &ar);
    merge_result_clear(&mr);

    /* The table holds exactly the latest content of every file. */
    delta_rows t;
    size_t nfiles;
    read_table(f->s, "orders", &t, &nfiles);
    size_t want = 0;
    for (int c = 0; c < NCUST; c++) {
        int v = changed_customer(c) ? 1 : 0;
        want += (size_t)cust_rows(c, v);
        for (int r = 0; r < cust_rows(c, v); r++) {
            char id[24];
            snprintf(id, sizeof id, "c%03d-%02d", c, r);
            int row = row_by_id(&t, id);
            assert_true(row >= 0);
            assert_true(t.cells[(size_t)row * t.ncols + 2].f64 == v * 100 + r);
        }
        char gone[24];
        snprintf(gone, sizeof gone, "c%03d-%02d", c, cust_rows(c, v));
        assert_int_equal(row_by_id(&t, gone), -1);
    }
    assert_int_equal(t.nrows, want);
    assert_int_equal(nfiles, NCUST - 1);
    delta_rows_free(&t);
    assert_int_equal(aggregate_check(f->s, &d, NULL, &err), SL_OK);
    delta_rows_free(&b1);
    delta_rows_free(&b2);
}

static void test_files_layout_warm(void **state)
{
    warm_begin();
    test_files_layout(state);
    warm_end();
}

/* ---- files layout: names that need escaping, warm across batches -------- */

#define NSRC 7
static const char *const SRC_NAMES[NSRC] = {
    "plain.txt",    "plain.txt2",        "in/a b%20c=d#e'f.txt",
    "in/a%2Fb.txt", "x:y*z?[1]^{2}.txt", "\xc3\xbc-\xe6\x97\xa5.txt",
    "t\tab\x7f.txt"};

/* Source k's content at version v: n rows "s<k>-<v>-<i>". */
static void src_batch(delta_rows *b, const int *srcs, const int *nrows, size_t n, int v,
                      int64_t batch)
{
    delta_rows_init(b, BATCH_COLS, NBATCH_COLS);
    for (size_t j = 0; j < n; j++)
        for (int i = 0; i < nrows[j]; i++) {
            ev e = {0};
            snprintf(e.id, sizeof e.id, "s%d-%d-%d", srcs[j], v, i);
            snprintf(e.cust, sizeof e.cust, "c%d", srcs[j]);
            snprintf(e.file, sizeof e.file, "%s", SRC_NAMES[srcs[j]]);
            e.amount = v * 100 + i;
            e.qty = 1;
            e.ts = T0 + (int64_t)(srcs[j] % 3) * DAY_US;
            e.batch = batch;
            e.line = i + 1;
            add_event(b, &e);
        }
}

/* Silver holds exactly version ver[k] of each source k (cnt[k] rows). */
static void expect_sources(store *s, const int *ver, const int *cnt)
{
    delta_rows t;
    read_table(s, "orders", &t, NULL);
    size_t want = 0;
    for (int k = 0; k < NSRC; k++) {
        want += (size_t)cnt[k];
        for (int i = 0; i < cnt[k]; i++) {
            char id[24];
            snprintf(id, sizeof id, "s%d-%d-%d", k, ver[k], i);
            int row = row_by_id(&t, id);
            if (row < 0)
                fail_msg("row %s of %s is missing", id, SRC_NAMES[k]);
            const pq_value *f = &t.cells[(size_t)row * t.ncols + 6];
            assert_int_equal(f->str.len, strlen(SRC_NAMES[k]));
            assert_memory_equal(f->str.ptr, SRC_NAMES[k], f->str.len);
        }
    }
    if (t.nrows != want)
        fail_msg("silver has %zu rows, want %zu (an old file left behind?)", t.nrows,
                 want);
    delta_rows_free(&t);
}

static void files_special_names(fx *f, int legacy)
{
    pipeline_def d;
    def_init(&d, PL_LAYOUT_FILES);
    sl_err err = {0};
    if (legacy) {
        /* silver as created before the layout was partitioned */
        pq_schema_col *cols;
        size_t nc;
        assert_int_equal(merge_silver_cols(&d, &cols, &nc, &err), SL_OK);
        delta_snapshot *sn = NULL;
        assert_int_equal(merge_table_open(f->s, "orders", cols, nc, &sn, &err), SL_OK);
        delta_snapshot_free(sn);
        free(cols);
    }
    int ver[NSRC], cnt[NSRC], all[NSRC];
    for (int k = 0; k < NSRC; k++) {
        all[k] = k;
        ver[k] = 0;
        cnt[k] = 2 + k;
    }
    delta_rows b;
    src_batch(&b, all, cnt, NSRC, 0, 1);
    merge_result mr;
    assert_int_equal(run_merge(f->s, &d, &b, 1, &mr, &err), SL_OK);
    assert_int_equal(mr.files_added, NSRC);
    merge_result_clear(&mr);
    delta_rows_free(&b);
    expect_sources(f->s, ver, cnt);
    rng_state = 7;
    for (int64_t batch = 2; batch <= 14; batch++) {
        int srcs[2], n[2];
        srcs[0] = (int)rnd(NSRC);
        srcs[1] = (srcs[0] + 1 + (int)rnd(NSRC - 1)) % NSRC;
        size_t ns = 1 + rnd(2);
        const char *names[2];
        int64_t old_rows = 0, old_files = 0;
        for (size_t j = 0; j < ns; j++) {
            n[j] = (int)rnd(6); /* 0: the file was emptied */
            names[j] = SRC_NAMES[srcs[j]];
            old_rows += cnt[srcs[j]];
            old_files += cnt[srcs[j]] > 0;
        }
        src_batch(&b, srcs, n, ns, (int)batch, batch);
        merge_req q = {.def = &d,
                       .batch = &b,
                       .batch_cols = BATCH_COLS,
                       .nbatch_cols = NBATCH_COLS,
                       .batch_id = batch,
                       .changed_files = names,
                       .nchanged_files = ns,
                       .silver_snap = warm_silver};
        sl_code c = merge_run(f->s, &q, &mr, &err);
        if (c != SL_OK)
            fail_msg("batch %lld: %s", (long long)batch, err.msg);
        /* Exactly the changed sources' files went, their rows read for gold
         * with the source file back from the partition value. */
        assert_int_equal(mr.files_removed, old_files);
        assert_int_equal((int64_t)mr.before.nrows, old_rows);
        for (size_t i = 0; i < mr.before.nrows; i++) {
            const pq_value *fv = &mr.before.cells[i * mr.before.ncols + 6];
            int hit = 0;
            for (size_t j = 0; j < ns; j++)
                hit |= fv->str.len == strlen(names[j]) &&
                       memcmp(fv->str.ptr, names[j], fv->str.len) == 0;
            assert_true(hit);
        }
        for (size_t j = 0; j < ns; j++) {
            ver[srcs[j]] = (int)batch;
            cnt[srcs[j]] = n[j];
        }
        merge_result_clear(&mr);
        delta_rows_free(&b);
        expect_sources(f->s, ver, cnt);
        if (warm_silver)
            expect_warm_fresh(f->s, "orders", *warm_silver);
    }
    /* Version 10 was due a checkpoint; with a warm snapshot the merge wrote it. */
    char *cp = sl_asprintf("%s/orders/_delta_log/%020d.checkpoint.parquet", f->dir, 10);
    FILE *fp = fopen(cp, "rb");
    assert_non_null(fp);
    fclose(fp);
    free(cp);
    delta_snapshot *sn = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    assert_int_equal(delta_snapshot_open(f->s, "orders", &at, &sn, &err), SL_OK);
    for (size_t i = 0; i < sn->nfiles; i++)
        assert_int_equal(strncmp(sn->files[i].path, "_source_file=", 13) == 0, !legacy);
    delta_snapshot_free(sn);
}

static void test_files_special_names(void **state)
{
    files_special_names(*state, 0);
}

static void test_files_special_names_warm(void **state)
{
    warm_begin();
    files_special_names(*state, 0);
    warm_end();
}

/* An unpartitioned silver (from before) is still searched by stats. */
static void test_files_legacy_unpartitioned(void **state)
{
    warm_begin();
    files_special_names(*state, 1);
    warm_end();
}

/* A failed merge drops the warm snapshot: the next batch starts cold. */
static void test_warm_dropped_on_error(void **state)
{
    fx *f = *state;
    pipeline_def d;
    def_init(&d, PL_LAYOUT_FILES);
    sl_err err = {0};
    int one[1] = {0}, n[1] = {3};
    delta_rows b;
    src_batch(&b, one, n, 1, 0, 1);
    warm_begin();
    merge_result mr;
    assert_int_equal(run_merge(f->s, &d, &b, 1, &mr, &err), SL_OK);
    merge_result_clear(&mr);
    assert_non_null(warm_silver_snap);
    pq_schema_col bad[NBATCH_COLS];
    memcpy(bad, BATCH_COLS, sizeof bad);
    bad[2].type = PQ_TYPE_INT64; /* amount: not silver's type */
    merge_req q = {.def = &d,
                   .batch = &b,
                   .batch_cols = bad,
                   .nbatch_cols = NBATCH_COLS,
                   .batch_id = 2,
                   .silver_snap = warm_silver};
    assert_int_equal(merge_run(f->s, &q, &mr, &err), SL_DELTA_SCHEMA);
    merge_result_clear(&mr);
    assert_null(warm_silver_snap);
    /* ... and the next one opens it again. */
    q.batch_cols = BATCH_COLS;
    assert_int_equal(merge_run(f->s, &q, &mr, &err), SL_OK);
    merge_result_clear(&mr);
    assert_non_null(warm_silver_snap);
    expect_warm_fresh(f->s, "orders", warm_silver_snap);
    warm_end();
    delta_rows_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_epoch_history, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_epoch_pruning, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_files_layout, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_epoch_history_warm, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_files_layout_warm, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_files_special_names, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_files_special_names_warm, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_files_legacy_unpartitioned, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_warm_dropped_on_error, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
