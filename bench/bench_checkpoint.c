/* Snapshot of a Delta table whose state is in one Parquet checkpoint, one
 * thread: usage: bench_checkpoint TABLE_DIR
 * Prints one JSON line: version, files, seconds, peak RSS. */
#include <stdio.h>
#include <sys/resource.h>

#include "backend/delta/delta.h"
#include "backend/util/timeutil.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_checkpoint TABLE_DIR\n");
        return 2;
    }
    sl_err err = {0};
    double t0 = time_mono_ms();
    store *st = NULL;
    sl_code c = store_open(argv[1], &st, &err);
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    if (c == SL_OK)
        c = delta_snapshot_open(st, "", &at, &snap, &err);
    if (c != SL_OK) {
        fprintf(stderr, "%s: %s\n", err_code_name(c), err.msg);
        return 1;
    }
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
