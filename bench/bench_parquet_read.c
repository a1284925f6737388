/* Full decode of a Parquet file, one thread: every column chunk of every row
 * group through pq_read_column (values, levels, dictionaries, codecs).
 * usage: bench_parquet_read FILE [--rows]   (--rows: assemble JSON rows too)
 * Prints one JSON line: rows, seconds, peak RSS. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "backend/parquet/pq_reader.h"
#include "backend/util/timeutil.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_parquet_read FILE [--rows]\n");
        return 2;
    }
    int rows_mode = argc > 2 && strcmp(argv[2], "--rows") == 0;
    sl_err err = {0};
    double t0 = time_mono_ms();
    pq_reader *r = NULL;
    sl_code c = pq_reader_open_file(argv[1], &r, &err);
    int64_t values = 0, rows = 0;
    if (c == SL_OK && rows_mode) {
        pq_rows *it = NULL;
        c = pq_rows_open(r, NULL, 0, &it, &err);
        json_t *row;
        while (c == SL_OK && (c = pq_rows_next(it, &row, &err)) == SL_OK && row) {
            rows++;
            json_decref(row);
        }
        pq_rows_free(it);
    } else if (c == SL_OK) {
        const pq_file_info *info = pq_reader_info(r);
        rows = info->num_rows;
        for (size_t g = 0; c == SL_OK && g < info->num_row_groups; g++)
            for (size_t l = 0; c == SL_OK && l < info->num_leaves; l++) {
                pq_column_data d;
                c = pq_read_column(r, g, l, &d, &err);
                if (c == SL_OK) {
                    values += (int64_t)d.num_values;
                    pq_column_data_free(&d);
                }
            }
    }
    if (c != SL_OK) {
        fprintf(stderr, "%s: %s\n", err_code_name(c), err.msg);
        return 1;
    }
    double secs = (time_mono_ms() - t0) / 1000.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"op\":\"%s\",\"rows\":%lld,\"values\":%lld,\"seconds\":%.3f,\"peak_rss_mb\":%.1f}\n",
           rows_mode ? "read-rows" : "read", (long long)rows, (long long)values, secs,
           (double)ru.ru_maxrss / 1024.0);
    pq_reader_close(r);
    return 0;
}
