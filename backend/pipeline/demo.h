#ifndef SLUICE_PIPELINE_DEMO_H
#define SLUICE_PIPELINE_DEMO_H

#include <jansson.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* The demo world of `sluice demo DIR`, caught in the middle of an incident:
 * DIR/incoming holds three dozen hourly epoch folders of JSON-lines orders
 * (malformed lines, rows the expectations quarantine or drop, unknown keys,
 * two late arrivals, the newest still without its _SUCCESS marker, a
 * non-epoch folder and a stray file); DIR/pipelines/orders.json loads them
 * into DIR/lake (bronze orders_raw, silver orders, gold orders_by_day); the
 * real runner has run it a few times, up to a folder holding an order
 * without an order_id: that folder failed (SL-EXPECTATION-FAILED), the ones
 * after it are pending, one late arrival landed after the failure, and the
 * newest folder waits for its marker. DIR/sluice.json points at all of it.
 * The data are the same for a given now_ms; file, table and run ids are
 * random. The runner reads the clock itself (time_now_ms), so now_ms must
 * be that clock's value (SLUICE_FAKE_NOW_MS pins both in tests). */

/* Hourly folders ending an hour before now. */
#define DEMO_FOLDERS 36
/* The folder (index from the oldest) with the order without an order_id. */
#define DEMO_BAD_FOLDER 27
/* Late arrivals: the first lands before the failure and is processed, the
 * second lands after it and is pending. */
#define DEMO_LATE_PROCESSED 5
#define DEMO_LATE_PENDING 24
#define DEMO_PIPELINE "orders"

typedef struct demo_opts {
    const char *dir;            /* local directory, created when missing */
    int64_t now_ms;             /* the demo's "now" (time_now_ms()) */
    const char *operator_name;  /* who the runs are recorded for; NULL: "demo" */
    const char *audit_event_id; /* the audit row that asked for the demo, or NULL */
} demo_opts;

/* *summary_out: {"dir","config","source","lake","epoch_folders","files",
 * "rows","malformed_lines","late_folders":[...],"tables":[...],"pipeline",
 * "pipeline_file","runs":[...],"processed","failed_folder","failed_code",
 * "pending","waiting"} (docs/cli.md). Refuses a DIR that already holds a
 * sluice.json (never overwrites a config or a table). */
sl_code demo_create(const demo_opts *opts, json_t **summary_out, sl_err *err);

/* First demo epoch for a given now. */
int64_t demo_first_epoch(int64_t now_ms);

/* ---- shared by demo.c and demo_lake.c -------------------------------- */

/* Writes DIR/pipelines/orders.json through st (rooted at DIR). */
sl_code demo_pipeline_write(store *st, sl_err *err);

/* Runs the demo pipeline once (max_folders 0: every pending folder) and
 * appends {"run_id","processed","failed_folder"?,"error_code"?} to runs.
 * A run stopped by a failed folder is what the demo wants from its last run:
 * then *failed_folder_out (a copy, caller frees) names it, *failed_code_out
 * holds its code and SL_OK is returned; any other failure is returned. */
sl_code demo_pipeline_run(const pipeline_def *d, const demo_opts *opts,
                          size_t max_folders, json_t *runs, char **failed_folder_out,
                          sl_code *failed_code_out, sl_err *err);

/* Adds "processed", "pending", "waiting" (from the checkpoint and the
 * source as discovery sees them at now_ms) to summary. */
sl_code demo_pipeline_counts(const pipeline_def *d, int64_t now_ms, json_t *summary,
                             sl_err *err);

#endif
