/* JSON lines -> Parquet, one thread: the ingest hot path (yajl reader +
 * Parquet writer). usage: bench_parquet_write IN.jsonl OUT.parquet [codec]
 * Prints one JSON line: rows, input bytes, seconds (wall and CPU), MB/s, peak RSS. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_writer.h"
#include "backend/pipeline/jsonl.h"
#include "backend/util/timeutil.h"

static const pq_schema_col COLS[] = {
    {"id", PQ_TYPE_STRING, true},       {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},   {"qty", PQ_TYPE_INT32, true},
    {"ts", PQ_TYPE_TIMESTAMP_US, true}, {"status", PQ_TYPE_STRING, true},
    {"note", PQ_TYPE_STRING, true},
};

static sl_code add_row(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    (void)line_no;
    return pq_writer_add_row(ctx, row, err);
}

/* User plus system time: on a shared machine it moves far less than the
 * wall clock when neighbours compete for the core. */
static double cpu_seconds(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
           (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_parquet_write IN.jsonl OUT.parquet [codec]\n");
        return 2;
    }
    pq_writer_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.compression = PQ_COMPRESSION_SNAPPY;
    if (argc > 3 && !pq_compression_from_name(argv[3], &opts.compression)) {
        fprintf(stderr, "unknown codec %s\n", argv[3]);
        return 2;
    }
    sl_err err = {0};
    double t0 = time_mono_ms();
    pq_writer *w = pq_writer_new(COLS, sizeof COLS / sizeof *COLS, &opts, &err);
    if (!w) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    jsonl_reader *r =
        jsonl_reader_new(COLS, sizeof COLS / sizeof *COLS, add_row, NULL, w);
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    static char chunk[1 << 20];
    ssize_t n;
    sl_code c = SL_OK;
    while (c == SL_OK && (n = read(fd, chunk, sizeof chunk)) > 0)
        c = jsonl_reader_feed(r, chunk, (size_t)n, &err);
    close(fd);
    if (c == SL_OK)
        c = jsonl_reader_finish(r, &err);
    sl_buf file = {0};
    if (c == SL_OK)
        c = pq_writer_finish(w, &file, NULL, &err);
    if (c != SL_OK) {
        fprintf(stderr, "%s: %s\n", err_code_name(c), err.msg);
        return 1;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out || fwrite(file.data, 1, file.len, out) != file.len || fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    double secs = (time_mono_ms() - t0) / 1000.0;
    const jsonl_stats *st = jsonl_reader_stats(r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    pq_codec codec = PQ_CODEC_UNCOMPRESSED;
    pq_compression_codec(opts.compression, &codec);
    printf("{\"op\":\"write\",\"rows\":%lld,\"input_bytes\":%lld,\"output_bytes\":%zu,"
           "\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"mb_per_s\":%.1f,\"peak_rss_mb\":%.1f,"
           "\"codec\":\"%s\"}\n",
           (long long)st->rows, (long long)st->bytes, file.len, secs, cpu_seconds(&ru),
           (double)st->bytes / 1e6 / secs, (double)ru.ru_maxrss / 1024.0,
           pq_codec_name(codec));
    buf_free(&file);
    jsonl_reader_free(r);
    pq_writer_free(w);
    return 0;
}
