/* Parquet source rows through the reader's JSON row assembly: one rendering
 * of every Parquet type, shared with `sluice parquet cat`, and one casting
 * path (the JSON-lines reader) for every source format. */
#include "backend/pipeline/source_parquet.h"

#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_reader.h"

static int is_format_error(sl_code c)
{
    switch (c) {
    case SL_PARQUET_CORRUPT:
    case SL_PARQUET_NOT_PARQUET:
    case SL_PARQUET_UNSUPPORTED:
    case SL_PARQUET_TOO_DEEP:
        return 1;
    default:
        return 0;
    }
}

sl_code source_parquet_read(store *s, const char *key, pqsrc_row_fn on_row, void *ctx,
                            int64_t *rows_out, sl_err *err)
{
    int64_t n = 0;
    if (rows_out)
        *rows_out = 0;
    pq_source src;
    sl_code c = pq_source_store(s, key, &src, err);
    if (c != SL_OK)
        return c;
    pq_reader *r = NULL;
    c = pq_reader_open(&src, &r, err);
    pq_rows *rows = NULL;
    if (c == SL_OK)
        c = pq_rows_open(r, NULL, 0, &rows, err);
    while (c == SL_OK) {
        json_t *row = NULL;
        c = pq_rows_next(rows, &row, err);
        if (c != SL_OK || !row)
            break;
        char *text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(row);
        if (!text) {
            c = err_set(err, SL_INGEST_FORMAT, "%s: row %lld cannot be rendered as JSON",
                        key, (long long)(n + 1));
            break;
        }
        n++;
        c = on_row(ctx, text, strlen(text), n, err);
        free(text);
    }
    if (is_format_error(c)) {
        /* The reader's message names the file; the code says "the source
         * file is bad", which the runner does not retry. */
        c = SL_INGEST_FORMAT;
        if (err)
            err->code = c;
    }
    pq_rows_free(rows);
    pq_reader_close(r);
    if (rows_out)
        *rows_out = n;
    return c;
}
