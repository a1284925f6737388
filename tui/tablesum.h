#ifndef SLUICE_TUI_TABLESUM_H
#define SLUICE_TUI_TABLESUM_H

#include <stdint.h>

#include "backend/util/err.h"
#include "backend/util/log.h"

/* A snapshot reduced to what the console shows (worker side: the snapshot
 * itself is freed before the result crosses to the UI thread). */
typedef struct table_summary {
    sl_code code;     /* SL_OK, or why the snapshot could not be read */
    sl_err err;
    int64_t version;
    int64_t timestamp_ms;
    uint64_t files;
    int64_t rows;     /* -1: unknown (stats missing) */
    uint64_t bytes;
    char protocol[128]; /* "1/2", "3/7 deletionVectors" */
} table_summary;

/* Opens the table at url (latest version) and fills sum; never fails
 * itself: errors land in sum->code/err. */
void tablesum_load(const char *url, sl_log *log, table_summary *sum);

#endif
