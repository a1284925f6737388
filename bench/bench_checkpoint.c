/* Snapshot of a Delta table whose state is in one Parquet checkpoint, one
 * thread: usage: bench_checkpoint TABLE_DIR
 * Prints one JSON line: version, files, seconds, peak RSS.
 *
 * Checkpoint writing (what every 10th commit of a table pays):
 *   bench_checkpoint --make TABLE_DIR N      builds a table: v0 protocol and
 *       metaData, v1 N adds (date partitions, stats, a tag on every 10th),
 *       v2 removes 1% of them, v3 checkpointed (by this build), v4 one add.
 *   bench_checkpoint --write [--json] TABLE_DIR [ROUNDS]
 *       opens the latest snapshot (adds from the checkpoint's columns, or
 *       with --json from the JSON commits alone, as texts) outside the
 *       timing, then writes its checkpoint ROUNDS times (default 5) into a
 *       scratch directory; prints every round's wall time and the medians
 *       of wall and CPU time, and how many adds were copied from the
 *       checkpoint's columns without their text ("direct"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define MAX_ROUNDS 50
#define NOW_MS 1767225600000LL

static int fail(sl_code c, const sl_err *err)
{
    fprintf(stderr, "%s: %s\n", err_code_name(c), err->msg);
    return 1;
}

static int snapshot_bench(const char *dir)
{
    sl_err err = {0};
    double t0 = time_mono_ms();
    store *st = NULL;
    sl_code c = store_open(dir, &st, &err);
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    if (c == SL_OK)
        c = delta_snapshot_open(st, "", &at, &snap, &err);
    if (c != SL_OK)
        return fail(c, &err);
    double secs = (time_mono_ms() - t0) / 1000.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"op\":\"checkpoint\",\"version\":%lld,\"files\":%zu,\"rows\":%lld,"
           "\"seconds\":%.3f,\"peak_rss_mb\":%.1f}\n",
           (long long)snap->version, snap->nfiles, (long long)snap->num_rows, secs,
           (double)ru.ru_maxrss / 1024.0);
    delta_snapshot_free(snap);
    store_close(st);
    return 0;
}

/* ---- --make ---------------------------------------------------------------- */

static void add_line(sl_buf *b, long long i)
{
    time_t t = (time_t)(NOW_MS / 1000 + (i % 365) * 86400);
    struct tm tm;
    char date[16];
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    buf_appendf(b,
                "{\"add\":{\"path\":\"date=%s/part-%06lld-%08llx.c000.snappy.parquet\","
                "\"partitionValues\":{\"date\":\"%s\"},\"size\":%lld,"
                "\"modificationTime\":%lld,\"dataChange\":true,\"stats\":"
                "\"{\\\"numRecords\\\":%lld,\\\"minValues\\\":{\\\"id\\\":%lld},"
                "\\\"maxValues\\\":{\\\"id\\\":%lld},\\\"nullCount\\\":{\\\"id\\\":0}}\"",
                date, i, (unsigned long long)(i * 2654435761u), date, 1000000 + i,
                NOW_MS + i, 1000 + i % 100, i * 1000, i * 1000 + 999);
    if (i % 10 == 0)
        buf_appendf(b, ",\"tags\":{\"INSERTION_TIME\":\"%lld\"}", NOW_MS + i);
    buf_append_str(b, "}}\n");
}

static sl_code put_commit(store *st, long long v, sl_buf *b, sl_err *err)
{
    char key[64];
    snprintf(key, sizeof key, "_delta_log/%020lld.json", v);
    buf_appendf(b, "{\"commitInfo\":{\"timestamp\":%lld,\"operation\":\"WRITE\"}}\n",
                NOW_MS + v);
    sl_code c = store_put(st, key, b->data, b->len, err);
    buf_reset(b);
    return c;
}

static int make_table(const char *dir, long long n)
{
    sl_err err = {0};
    store *st = NULL;
    sl_code c = store_open(dir, &st, &err);
    sl_buf b = {0};
    buf_append_str(
        &b,
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
        "{\"metaData\":{\"id\":\"bench-ckpt\",\"format\":{\"provider\":\"parquet\","
        "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":"
        "[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
        "\\\"metadata\\\":{}},{\\\"name\\\":\\\"date\\\",\\\"type\\\":\\\"string\\\","
        "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":"
        "[\"date\"],\"configuration\":{},\"createdTime\":1767225600000}}\n");
    if (c == SL_OK)
        c = put_commit(st, 0, &b, &err);
    for (long long i = 0; c == SL_OK && i < n; i++)
        add_line(&b, i);
    if (c == SL_OK)
        c = put_commit(st, 1, &b, &err);
    /* removes 1%: tombstones within the retention (deleted "now") */
    for (long long i = 0; c == SL_OK && i < n; i += 100) {
        sl_buf one = {0};
        add_line(&one, i);
        char *p = strstr(one.data, "\"path\":\"") + 8;
        *strchr(p, '"') = '\0';
        buf_appendf(&b,
                    "{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":%lld,"
                    "\"dataChange\":true,\"extendedFileMetadata\":true,\"size\":%lld}}\n",
                    p, (long long)time_now_ms(), 1000000 + i);
        buf_free(&one);
    }
    if (c == SL_OK)
        c = put_commit(st, 2, &b, &err);
    if (c == SL_OK)
        c = put_commit(st, 3, &b, &err);
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    if (c == SL_OK)
        c = delta_snapshot_open(st, "", &at, &snap, &err);
    if (c == SL_OK)
        c = delta_checkpoint_write(st, "", snap, time_now_ms(), NULL, &err);
    delta_snapshot_free(snap);
    if (c == SL_OK)
        add_line(&b, n);
    if (c == SL_OK)
        c = put_commit(st, 4, &b, &err);
    buf_free(&b);
    store_close(st);
    return c == SL_OK ? 0 : fail(c, &err);
}

/* ---- --write --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* CPU time of the process: on a shared machine it moves less than the
 * wall clock (both are printed). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_bench(const char *dir, int json_only, int rounds)
{
    sl_err err = {0};
    store *st = NULL, *out = NULL;
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    char scratch[] = "/tmp/bench-ckpt-XXXXXX";
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    sl_code c = store_open(dir, &st, &err);
    if (c == SL_OK)
        c = delta_snapshot_open_ex(st, "", &at, !json_only, &snap, &err);
    if (c == SL_OK)
        c = store_open(scratch, &out, &err);
    double secs[MAX_ROUNDS], cpu[MAX_ROUNDS];
    delta_checkpoint_result res = {0};
    for (int r = 0; c == SL_OK && r < rounds; r++) {
        double t0 = time_mono_ms(), c0 = cpu_seconds();
        c = delta_checkpoint_write(out, "", snap, time_now_ms(), &res, &err);
        secs[r] = (time_mono_ms() - t0) / 1000.0;
        cpu[r] = cpu_seconds() - c0;
    }
    if (c != SL_OK)
        return fail(c, &err);
    printf(
        "{\"op\":\"checkpoint_write\",\"source\":\"%s\",\"version\":%lld,\"adds\":%lld,"
        "\"direct\":%lld,\"removes\":%lld,\"bytes\":%lld,\"rounds\":[",
        json_only ? "json" : "checkpoint", (long long)res.version,
        (long long)res.num_adds, (long long)res.num_adds_direct,
        (long long)res.num_removes, (long long)res.size_bytes);
    for (int r = 0; r < rounds; r++)
        printf("%s%.4f", r ? "," : "", secs[r]);
    qsort(secs, (size_t)rounds, sizeof *secs, cmp_double);
    qsort(cpu, (size_t)rounds, sizeof *cpu, cmp_double);
    printf("],\"seconds\":%.4f,\"cpu_seconds\":%.4f}\n", secs[rounds / 2],
           cpu[rounds / 2]);
    delta_snapshot_free(snap);
    store_close(out);
    store_close(st);
    char *rm = sl_asprintf("rm -rf '%s'", scratch);
    int rc = system(rm);
    free(rm);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--make") == 0)
        return make_table(argv[2], atoll(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "--write") == 0) {
        int json_only = strcmp(argv[2], "--json") == 0;
        int at = 2 + json_only;
        int rounds = argc > at + 1 ? atoi(argv[at + 1]) : 5;
        if (at < argc && rounds > 0 && rounds <= MAX_ROUNDS)
            return write_bench(argv[at], json_only, rounds);
    }
    if (argc == 2 && argv[1][0] != '-')
        return snapshot_bench(argv[1]);
    fprintf(stderr, "usage: bench_checkpoint TABLE_DIR\n"
                    "       bench_checkpoint --make TABLE_DIR N\n"
                    "       bench_checkpoint --write [--json] TABLE_DIR [ROUNDS]\n");
    return 2;
}
