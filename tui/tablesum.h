#ifndef SLUICE_TUI_TABLESUM_H
#define SLUICE_TUI_TABLESUM_H

#include <stdint.h>

#include "backend/util/err.h"
#include "backend/util/log.h"
#include "tui/app.h"

/* A snapshot reduced to what the console shows (worker side: the snapshot
 * itself is freed before the result crosses to the UI thread). */
typedef struct table_summary {
    sl_code code; /* SL_OK, or why the snapshot could not be read */
    sl_err err;
    int64_t version;
    int64_t timestamp_ms;
    uint64_t files;
    int64_t rows; /* -1: unknown (stats missing) */
    uint64_t bytes;
    char protocol[128]; /* "1/2", "3/7 deletionVectors" */
} table_summary;

/* Opens the table at url (latest version) and fills sum; never fails
 * itself: errors land in sum->code/err. */
void tablesum_load(const char *url, sl_log *log, table_summary *sum);

/* Text from a table (paths, values, column names) made safe to draw:
 * control characters (C0, DEL, C1), bidi overrides and invalid UTF-8
 * become visible escapes (\n, \t, \x1b, \u202e), so nothing in the data
 * can move the cursor or flip the line. Always NUL-terminates out. */
void tbl_escape(const char *in, char *out, size_t outlen);

/* Drill-downs of the Tables views (their own files; view.h holds the
 * shared views). version -1: the latest. */
view *view_diff_new(app *a, const char *table, const char *url, int64_t v1, int64_t v2);
view *view_preview_new(app *a, const char *table, const char *url, int64_t version);

#endif
