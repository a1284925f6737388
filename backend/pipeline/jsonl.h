#ifndef SLUICE_PIPELINE_JSONL_H
#define SLUICE_PIPELINE_JSONL_H

/* The JSON-lines reader of the ingest hot path: yajl callbacks, no document
 * tree. Each line is one object; keys of the schema fill typed cells (a
 * missing key is a null), other keys are counted as drift, and a line that
 * is not an object of the right types is handed to on_bad with its line
 * number and the reason, never silently dropped. Input may arrive in chunks
 * cut anywhere. */

#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_writer.h"
#include "backend/util/err.h"

typedef struct jsonl_stats {
    int64_t lines;        /* non-blank lines seen */
    int64_t rows;         /* handed to on_row */
    int64_t malformed;    /* handed to on_bad */
    int64_t unknown_keys; /* keys not in the schema (drift) */
    int64_t bytes;
} jsonl_stats;

/* row[i] is column i; strings point into the reader's buffers and are valid
 * during the call only (the Parquet writer copies what it keeps). */
typedef sl_code (*jsonl_row_fn)(void *ctx, const pq_value *row, int64_t line_no,
                                sl_err *err);
typedef void (*jsonl_bad_fn)(void *ctx, int64_t line_no, const char *line, size_t len,
                             const char *why);

typedef struct jsonl_reader jsonl_reader;

/* Column types: BOOLEAN, INT32, INT64, DOUBLE, STRING, TIMESTAMP_US (an ISO
 * 8601 string, or epoch microseconds as a number). The schema is copied. */
jsonl_reader *jsonl_reader_new(const pq_schema_col *cols, size_t ncols,
                               jsonl_row_fn on_row, jsonl_bad_fn on_bad, void *ctx);
sl_code jsonl_reader_feed(jsonl_reader *r, const char *data, size_t len, sl_err *err);
/* Handles a last line without a newline. */
sl_code jsonl_reader_finish(jsonl_reader *r, sl_err *err);
const jsonl_stats *jsonl_reader_stats(const jsonl_reader *r);
/* Plain lines (a flat object of unescaped scalars) take a scanner of their
 * own before yajl; on by default. Off, every line goes through yajl (the
 * differential tests compare both). */
void jsonl_reader_set_fast_path(jsonl_reader *r, int on);
void jsonl_reader_free(jsonl_reader *r);

#endif
