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

/* Column types: BOOLEAN, INT32, INT64, DOUBLE, FLOAT, STRING, TIMESTAMP_US
 * (an ISO 8601 string, or epoch microseconds as a number), DATE (a
 * "YYYY-MM-DD" string), DECIMAL (a number or a string, exact: digits beyond
 * the scale must be zeros). A value of another JSON type is a type error
 * whose reason names the column. The schema is copied. */
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

/* Parses one complete line (no newline in it) numbered line_no: for
 * sources that are not a byte stream of lines (CSV records and Parquet rows
 * made into JSON objects). Blank lines are skipped as in feed. */
sl_code jsonl_reader_parse_line(jsonl_reader *r, const char *line, size_t len,
                                int64_t line_no, sl_err *err);

/* ---- schema drift ------------------------------------------------------
 * Off by default: keys outside the schema are counted and skipped, and a
 * value of the wrong type makes the line bad. */

/* Rescue: a value that does not fit its column's type leaves the column
 * null, and it and every key outside the schema go, with their values as
 * JSON, into one object text ({"extra":{"a":1},"qty":"three"}, in line
 * order) that jsonl_reader_rescued returns during on_row. */
void jsonl_reader_set_rescue(jsonl_reader *r, int on);
/* Strings cast to the column's type from their text ("42" for an integer,
 * "true", "1.5", "2026-01-31"): for sources whose values are all text. */
void jsonl_reader_set_text_values(jsonl_reader *r, int on);
/* Column col (a STRING column) takes any value as its JSON text: 12 ->
 * "12", {"a":1} -> "{\"a\":1}" (strings stay themselves). */
void jsonl_reader_set_any_as_text(jsonl_reader *r, size_t col, int on);

/* What a value outside the schema looked like. */
typedef enum jsonl_kind {
    JSONL_NULL,
    JSONL_BOOL,
    JSONL_INT, /* a number without fraction or exponent */
    JSONL_REAL,
    JSONL_STRING,
    JSONL_OBJECT,
    JSONL_ARRAY,
} jsonl_kind;

/* During on_row: the line as read (or as handed to parse_line). */
const char *jsonl_reader_line(const jsonl_reader *r, size_t *len);
/* During on_row with rescue on: the rescued object text, or NULL when the
 * row has nothing to rescue. */
const char *jsonl_reader_rescued(const jsonl_reader *r, size_t *len);
/* During on_row: the row's keys outside the schema, in line order, each
 * with the kind of its value. */
size_t jsonl_reader_unknown_count(const jsonl_reader *r);
void jsonl_reader_unknown(const jsonl_reader *r, size_t i, const char **key,
                          size_t *key_len, jsonl_kind *kind);

#endif
