#ifndef SLUICE_PIPELINE_SOURCE_PARQUET_H
#define SLUICE_PIPELINE_SOURCE_PARQUET_H
/* Parquet source files: each row becomes a JSON object line (the reader's
 * JSON rendering: integers, numbers, strings, timestamps as ISO 8601 UTC
 * text, dates "YYYY-MM-DD", decimals as exact text, nested values as JSON),
 * which the JSON-lines reader casts to the bronze schema by column name
 * with text values on (jsonl_reader_set_text_values): columns the schema
 * lacks are drift, values that do not cast are type errors, and a
 * quarantined row's raw text is that JSON. Rows are numbered from 1. */
#include <stddef.h>
#include <stdint.h>

#include "backend/store/store.h"
#include "backend/util/err.h"

typedef sl_code (*pqsrc_row_fn)(void *ctx, const char *json, size_t len, int64_t row_no,
                                sl_err *err);

/* Reads every row of the Parquet file at key in s (range reads, one row
 * group at a time). A file that is not Parquet or is damaged is
 * SL_INGEST_FORMAT naming it (the reader's message kept). *rows_out
 * (may be NULL) gets the rows handed on. */
sl_code source_parquet_read(store *s, const char *key, pqsrc_row_fn on_row, void *ctx,
                            int64_t *rows_out, sl_err *err);

#endif
