#ifndef SLUICE_PIPELINE_SOURCE_CSV_H
#define SLUICE_PIPELINE_SOURCE_CSV_H
/* CSV source files (RFC 4180): a header line names the columns; fields are
 * separated by commas, records by LF or CRLF; a field in double quotes may
 * hold commas, newlines and doubled quotes (""). Each data record is handed
 * on as a JSON object line of its fields ({"col":"text",...}; an empty
 * unquoted field is null, an empty quoted one ""), which the JSON-lines
 * reader then casts to the bronze types (jsonl_reader_set_text_values), so
 * drift and type errors work as for JSON lines. A record that cannot be a
 * row (a stray or unclosed quote, the wrong number of fields, bad UTF-8) is
 * handed to on_bad with its text as read. Records are numbered from 1 (the
 * first record after the header); blank lines are skipped. Input may
 * arrive in chunks cut anywhere. */
#include <stddef.h>
#include <stdint.h>

#include "backend/util/err.h"

typedef sl_code (*csv_line_fn)(void *ctx, const char *json, size_t len, int64_t record_no,
                               sl_err *err);
typedef sl_code (*csv_bad_fn)(void *ctx, const char *raw, size_t len, int64_t record_no,
                              const char *why, sl_err *err);

typedef struct csv_source csv_source;

/* name: the file, for messages. */
csv_source *csv_source_new(const char *name, csv_line_fn on_line, csv_bad_fn on_bad,
                           void *ctx);
/* SL_INGEST_FORMAT for a header that cannot be one (a bad record, an empty
 * or repeated column name); callbacks' errors stop the feed. */
sl_code csv_source_feed(csv_source *c, const char *data, size_t len, sl_err *err);
/* Handles a last record without a newline (or with an unclosed quote). */
sl_code csv_source_finish(csv_source *c, sl_err *err);
/* Data records seen (non-blank, good or bad). */
int64_t csv_source_records(const csv_source *c);
void csv_source_free(csv_source *c);

#endif
