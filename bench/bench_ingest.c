/* The ingest step on one folder of JSON-lines orders, one thread: source
 * read in chunks, reader, rescue, an expectation, system columns, bronze
 * data files and the commits (quarantine stays empty), into a fresh local
 * lake. usage: bench_ingest IN.jsonl LAKE_DIR
 * The source store is opened on IN's directory (the file is read in
 * place); LAKE_DIR must not exist (it is created). Prints one JSON line: rows, input
 * bytes, seconds (wall and CPU), MB/s, peak RSS, quarantined rows, bronze version. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "backend/pipeline/ingest.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

static const pq_schema_col COLS[] = {
    {"id", PQ_TYPE_STRING, true},       {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},   {"qty", PQ_TYPE_INT32, true},
    {"ts", PQ_TYPE_TIMESTAMP_US, true}, {"status", PQ_TYPE_STRING, true},
    {"note", PQ_TYPE_STRING, true},
};

/* User plus system time: on a shared machine it moves far less than the
 * wall clock when neighbours compete for the core. */
static double cpu_seconds(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_ingest IN.jsonl LAKE_DIR\n");
        return 2;
    }
    char *in_dir = sl_strdup(argv[1]), *in_base = sl_strdup(argv[1]);
    const char *src_root = dirname(in_dir), *key = basename(in_base);
    pl_expectation ex = {.name = "has_id",
                         .column = "id",
                         .rule = PL_RULE_NOT_NULL,
                         .on_fail = PL_FAIL_QUARANTINE};
    char *part[] = {"_ingest_date"};
    pipeline_def d = {0};
    d.name = "bench";
    d.source.format = PL_FORMAT_JSONL;
    d.bronze.table = "orders_raw";
    d.bronze.cols = (pq_schema_col *)COLS;
    d.bronze.ncols = sizeof COLS / sizeof *COLS;
    d.bronze.partition_by = part;
    d.bronze.npartition_by = 1;
    d.bronze.on_schema_drift = PL_DRIFT_RESCUE;
    d.expectations = &ex;
    d.nexpectations = 1;
    d.checks.max_count_mismatch_pct = 1.0;

    if (mkdir(argv[2], 0755) != 0) {
        perror(argv[2]);
        return 1;
    }
    sl_err err = {0};
    double t0 = time_mono_ms();
    store *src = NULL, *lake = NULL;
    sl_code c = store_open(src_root, &src, &err);
    if (c == SL_OK)
        c = store_open(argv[2], &lake, &err);
    const char *files[] = {key};
    pq_writer_opts opts = {.compression = PQ_COMPRESSION_SNAPPY};
    ingest_req req = {
        .def = &d,
        .source = src,
        .files = files,
        .nfiles = 1,
        .epoch = 1,
        .batch_id = 1,
        .ingest_time_us = time_now_ms() * 1000,
        .writer_opts = &opts,
    };
    ingest_result res = {0};
    if (c == SL_OK)
        c = ingest_run(lake, &req, &res, &err);
    if (c != SL_OK) {
        fprintf(stderr, "%s: %s\n", err_code_name(c), err.msg);
        return 1;
    }
    double secs = (time_mono_ms() - t0) / 1000.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"op\":\"ingest\",\"rows\":%lld,\"input_bytes\":%lld,\"seconds\":%.3f,"
           "\"cpu_seconds\":%.3f,\"mb_per_s\":%.1f,\"peak_rss_mb\":%.1f,"
           "\"quarantined\":%lld,\"bronze_version\":%lld}\n",
           (long long)res.rows_written, (long long)res.bytes, secs, cpu_seconds(&ru),
           (double)res.bytes / 1e6 / secs, (double)ru.ru_maxrss / 1024.0,
           (long long)res.rows_quarantined, (long long)res.bronze_version);
    ingest_result_clear(&res);
    store_close(src);
    store_close(lake);
    free(in_dir);
    free(in_base);
    return 0;
}
