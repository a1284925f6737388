#ifndef SLUICE_PIPELINE_DEMO_H
#define SLUICE_PIPELINE_DEMO_H

#include <jansson.h>
#include <stdint.h>

#include "backend/util/err.h"

/* The demo world of `sluice demo DIR`: DIR/incoming holds three dozen hourly
 * epoch folders of JSON-lines orders (some malformed lines, two late
 * arrivals, the newest still without its _SUCCESS marker, a non-epoch folder
 * and a stray file); DIR/lake holds Delta tables with a JSON-only log; and
 * DIR/sluice.json points at both. The rows are the same for a given now_ms
 * (file and table ids are random UUIDs). */
/* Hourly folders ending an hour before now. */
#define DEMO_FOLDERS 36

typedef struct demo_opts {
    const char *dir; /* local directory, created when missing */
    int64_t now_ms;  /* the demo's "now" (time_now_ms() normally) */
} demo_opts;

/* *summary_out: {"dir","config","source","lake","epoch_folders","files",
 * "rows","malformed_lines","late_folders":[...],"tables":[...]}. Refuses a
 * DIR that already holds a sluice.json (never overwrites a config or a
 * table). */
sl_code demo_create(const demo_opts *opts, json_t **summary_out, sl_err *err);

/* Writes the demo lake's tables under lake_dir (demo_lake.c). */
sl_code demo_lake_create(const char *lake_dir, int64_t now_ms, json_t *summary,
                         sl_err *err);
/* First demo epoch for a given now. */
int64_t demo_first_epoch(int64_t now_ms);

#endif
