/* Merge in the files layout: replacing one customer's file in a table of
 * N customers (N = 100, 1,000, 10,000; each file 100..1,000 rows, silver
 * partitioned by _source_file) against ingesting that file alone (one data
 * file plus an append commit on an empty table). usage: bench_merge DATA_DIR
 * The merge is timed as the runner calls it (merge_run: the customer's
 * file found, removed, the new file written, the commit), with the new
 * content in memory, in three ways:
 *   warm      the runner's steady state: silver's snapshot kept across
 *             batches (merge_req.silver_snap), brought up to date by
 *             replaying only new commits; its median, and its mean;
 *   period    warm, over one whole checkpoint period of the table's size
 *             (delta_checkpoint_due_sized: every 10 commits under 320
 *             files, else a 32nd of the files, rounded up to 10): the
 *             amortised cost of a replacement, exactly one checkpoint
 *             (write and reopen) included;
 *   cold      the first batch of a process: the snapshot opened; against
 *             it, ingesting the file alone into a table of the same size
 *             in a fresh process (an append to silver, which opens its
 *             snapshot too; run last, as it leaves duplicates behind);
 *   warm+gold warm, also reading the old rows (what the aggregate needs).
 * Tables are built under DATA_DIR on each run (untimed). Prints one JSON
 * line per N over BENCH_ROUNDS (default 21) replacements per way, each of
 * another customer; BENCH_CUSTOMERS=N runs one size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/merge.h"
#include "backend/util/buf.h"

#define T0 (INT64_C(1767225600) * 1000000)
#define MAX_ROUNDS 101

static pq_schema_col BCOLS[] = {
    {"order_id", PQ_TYPE_STRING, true},         {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},           {"qty", PQ_TYPE_INT32, true},
    {"updated_at", PQ_TYPE_TIMESTAMP_US, true}, {"op", PQ_TYPE_STRING, true},
};
static char *KEYS[] = {"order_id"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, dbl_cmp);
    return v[n / 2];
}

static int rows_of(int c)
{
    return 100 + (int)((unsigned)c * 2654435761u % 901u);
}

/* Customer c's file content (version v) in silver's columns. */
static void cust_rows(delta_rows *r, int c, int v, int64_t batch)
{
    char id[32], cust[16], file[32];
    snprintf(cust, sizeof cust, "c%05d", c);
    snprintf(file, sizeof file, "id-%05d.txt", c);
    for (int i = 0; i < rows_of(c); i++) {
        snprintf(id, sizeof id, "%s-%04d", cust, i);
        pq_value *x = delta_rows_add(r);
        x[0] = pq_val_str(delta_rows_keep(r, id, strlen(id)));
        x[1] = pq_val_str(delta_rows_keep(r, cust, strlen(cust)));
        x[2] = pq_val_f64(i * 0.5 + v);
        x[3] = pq_val_i32(1 + i % 9);
        x[4] = pq_val_ts_us(T0 + (int64_t)i * 1000000);
        x[5] = pq_val_str("U");
        x[6] = pq_val_str(delta_rows_keep(r, file, strlen(file)));
        x[7] = pq_val_i64(i + 1);
        x[8] = pq_val_null();
        x[9] = pq_val_i64(batch);
    }
}

static void die(const char *what, const sl_err *err)
{
    fprintf(stderr, "bench_merge: %s: %s\n", what, err->msg);
    exit(1);
}

/* The table of n customers, one data file each, added 1,000 files per
 * commit (untimed); created as the merge creates silver. */
static void build(store *s, const pipeline_def *d, int n)
{
    pq_schema_col *cols;
    size_t nc;
    sl_err err = {0};
    if (merge_silver_cols(d, &cols, &nc, &err) != SL_OK)
        die("cols", &err);
    delta_snapshot *created = NULL;
    if (merge_silver_open(s, d, &created, &err) != SL_OK)
        die("create", &err);
    delta_snapshot_free(created);
    delta_commit_result cr;
    for (int lo = 0; lo < n; lo += 1000) {
        delta_snapshot *snap = NULL;
        delta_at at = {.kind = DELTA_AT_LATEST};
        if (delta_snapshot_open(s, d->silver.table, &at, &snap, &err) != SL_OK)
            die("snapshot", &err);
        json_t *actions = json_array();
        for (int c = lo; c < n && c < lo + 1000; c++) {
            delta_rows r;
            delta_rows_init(&r, cols, nc);
            cust_rows(&r, c, 0, 1);
            json_t *add = NULL;
            if (delta_data_file_write(s, d->silver.table, snap->metadata, r.cells,
                                      r.nrows, NULL, 1, &add, &err) != SL_OK)
                die("write", &err);
            json_array_append_new(actions, json_pack("{s:o}", "add", add));
            delta_rows_free(&r);
        }
        delta_commit_req req = {
            .meta = {.operation = "WRITE"}, .read_snap = snap, .actions = actions};
        if (delta_commit(s, d->silver.table, &req, &cr, &err) != SL_OK)
            die("commit", &err);
        json_decref(actions);
        delta_snapshot_free(snap);
    }
    free(cols);
}

/* Ingest of customer c's file alone: one append on an empty table. */
static double ingest_once(store *s, const pipeline_def *d, int c, int round)
{
    pq_schema_col *cols;
    size_t nc;
    sl_err err = {0};
    merge_silver_cols(d, &cols, &nc, &err);
    char key[64];
    snprintf(key, sizeof key, "ingest-%d-%d", c, round);
    delta_table_spec spec = {.cols = cols, .ncols = nc};
    delta_commit_result cr;
    if (delta_table_create(s, key, &spec, NULL, &cr, &err) != SL_OK)
        die("create", &err);
    delta_rows r;
    delta_rows_init(&r, cols, nc);
    cust_rows(&r, c, 1, 2);
    delta_append_req q = {.rows = r.cells, .nrows = r.nrows, .ncols = nc};
    delta_append_result ar;
    double t = now_s();
    if (delta_table_append(s, key, &q, NULL, &ar, &err) != SL_OK)
        die("append", &err);
    t = now_s() - t;
    delta_rows_free(&r);
    free(cols);
    return t;
}

/* Checkpoint files in silver's log. */
static size_t checkpoints(store *s)
{
    store_page pg = {0};
    sl_err err = {0};
    size_t n = 0;
    if (store_list_all(s, "orders/_delta_log/", NULL, &pg, &err) != SL_OK)
        die("list", &err);
    for (size_t i = 0; i < pg.n; i++)
        n += strstr(pg.items[i].key, ".checkpoint.parquet") != NULL;
    store_page_free(&pg);
    return n;
}

/* Commits between two checkpoints of a table of n files, as
 * delta_checkpoint_due_sized spaces them. */
static int period_of(int n)
{
    int want = n / 32 > 1000 ? 1000 : n / 32;
    int p = 10;
    while (p < want)
        p += 10;
    return p;
}

/* Customer c's file appended to silver with no snapshot in hand. */
static double ingest_cold_once(store *s, const pipeline_def *d, int c, int64_t batch)
{
    pq_schema_col *cols;
    size_t nc;
    sl_err err = {0};
    merge_silver_cols(d, &cols, &nc, &err);
    delta_rows r;
    delta_rows_init(&r, cols, nc);
    cust_rows(&r, c, (int)batch, batch);
    delta_append_req q = {.rows = r.cells, .nrows = r.nrows, .ncols = nc};
    delta_append_result ar;
    double t = now_s();
    if (delta_table_append(s, d->silver.table, &q, NULL, &ar, &err) != SL_OK)
        die("append", &err);
    t = now_s() - t;
    delta_rows_free(&r);
    free(cols);
    return t;
}

static double merge_once(store *s, const pipeline_def *d, int c, int64_t batch,
                         delta_snapshot **warm, size_t *files_read)
{
    pq_schema_col *cols;
    size_t nc;
    sl_err err = {0};
    merge_silver_cols(d, &cols, &nc, &err);
    delta_rows r;
    delta_rows_init(&r, cols, nc);
    cust_rows(&r, c, (int)batch, batch);
    merge_req q = {.def = d,
                   .batch = &r,
                   .batch_cols = cols,
                   .nbatch_cols = nc,
                   .batch_id = batch,
                   .silver_snap = warm};
    merge_result mr;
    double t = now_s();
    if (merge_run(s, &q, &mr, &err) != SL_OK)
        die("merge", &err);
    t = now_s() - t;
    if (mr.files_removed != 1 || mr.files_added != 1) {
        fprintf(stderr, "bench_merge: replaced %zu files with %zu\n", mr.files_removed,
                mr.files_added);
        exit(1);
    }
    *files_read = mr.files_read;
    merge_result_clear(&mr);
    delta_rows_free(&r);
    free(cols);
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_merge DATA_DIR\n");
        return 2;
    }
    int rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 21;
    rounds = rounds < 1 ? 1 : rounds > MAX_ROUNDS ? MAX_ROUNDS : rounds;
    static const int NS[] = {100, 1000, 10000};
    /* BENCH_CUSTOMERS=N runs one size only (profiling). */
    int only = getenv("BENCH_CUSTOMERS") ? atoi(getenv("BENCH_CUSTOMERS")) : 0;
    for (size_t v = 0; v < sizeof NS / sizeof NS[0]; v++) {
        int n = NS[v];
        if (only > 0 && n != only)
            continue;
        char *root = sl_asprintf("%s/merge-%d", argv[1], n);
        char *cmd = sl_asprintf("rm -rf '%s' && mkdir -p '%s'", root, root);
        if (system(cmd) != 0)
            return 1;
        free(cmd);
        store *s = NULL;
        sl_err err = {0};
        if (store_open(root, &s, &err) != SL_OK)
            die("store", &err);
        pipeline_def d = {0};
        d.name = "bench";
        d.source.layout = PL_LAYOUT_FILES;
        d.bronze.cols = BCOLS;
        d.bronze.ncols = sizeof BCOLS / sizeof BCOLS[0];
        d.silver.table = "orders";
        d.silver.keys = KEYS;
        d.silver.nkeys = 1;
        d.silver.sequence_by = "updated_at";
        build(s, &d, n);
        double tw[MAX_ROUNDS], tc[MAX_ROUNDS], tg[MAX_ROUNDS], ti[MAX_ROUNDS];
        size_t fr = 0, frg = 0;
        int64_t batch = 2;
        delta_snapshot *warm = NULL;
        /* The process's first batch opens the snapshot: not steady state. */
        merge_once(s, &d, 0, batch++, &warm, &fr);
        for (int k = 0; k < rounds; k++) {
            int c = (int)((unsigned)(k * 7919 + 13) % (unsigned)n);
            ti[k] = ingest_once(s, &d, c, k);
            tw[k] = merge_once(s, &d, c, batch++, &warm, &fr);
        }
        double mean_w = 0;
        for (int k = 0; k < rounds; k++)
            mean_w += tw[k] / rounds;
        /* One whole checkpoint period, started right after a checkpoint. */
        int period = period_of(n);
        size_t ck0 = checkpoints(s);
        while (checkpoints(s) == ck0)
            merge_once(s, &d, (int)(batch % n), batch, &warm, &fr), batch++;
        size_t ck1 = checkpoints(s);
        double tp = 0;
        for (int k = 0; k < period; k++) {
            int c = (int)((unsigned)(k * 7919 + 23) % (unsigned)n);
            tp += merge_once(s, &d, c, batch++, &warm, &fr);
        }
        if (checkpoints(s) != ck1 + 1) {
            fprintf(stderr, "bench_merge: %zu checkpoints in a period of %d commits\n",
                    checkpoints(s) - ck1, period);
            return 1;
        }
        double amort = tp / period;
        d.gold.table = "orders_by_day"; /* merge keeps the old rows */
        for (int k = 0; k < rounds; k++) {
            int c = (int)((unsigned)(k * 7919 + 17) % (unsigned)n);
            tg[k] = merge_once(s, &d, c, batch++, &warm, &frg);
        }
        d.gold.table = NULL;
        delta_snapshot_free(warm);
        for (int k = 0; k < rounds; k++) {
            int c = (int)((unsigned)(k * 7919 + 19) % (unsigned)n);
            tc[k] = merge_once(s, &d, c, batch++, NULL, &fr);
        }
        double tci[MAX_ROUNDS];
        for (int k = 0; k < rounds; k++)
            tci[k] = ingest_cold_once(
                s, &d, (int)((unsigned)(k * 7919 + 29) % (unsigned)n), batch++);
        double mci = median(tci, rounds);
        double mi = median(ti, rounds), mw = median(tw, rounds), mc = median(tc, rounds),
               mg = median(tg, rounds);
        printf("{\"customers\":%d,\"rounds\":%d,\"ingest_s\":%.5f,\"warm_s\":%.5f,"
               "\"warm_mean_s\":%.5f,\"period\":%d,\"period_mean_s\":%.5f,"
               "\"cold_s\":%.5f,\"cold_ingest_s\":%.5f,\"warm_gold_s\":%.5f,"
               "\"ratio_warm\":%.2f,\"ratio_warm_mean\":%.2f,\"ratio_period\":%.2f,"
               "\"ratio_cold\":%.2f,\"ratio_cold_vs_cold_ingest\":%.2f,"
               "\"ratio_warm_gold\":%.2f,\"files_read\":%zu,\"files_read_gold\":%zu}\n",
               n, rounds, mi, mw, mean_w, period, amort, mc, mci, mg, mw / mi,
               mean_w / mi, amort / mi, mc / mi, mc / mci, mg / mi, fr, frg);
        fflush(stdout);
        store_close(s);
        free(root);
    }
    return 0;
}
