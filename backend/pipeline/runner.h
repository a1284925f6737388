#ifndef SLUICE_PIPELINE_RUNNER_H
#define SLUICE_PIPELINE_RUNNER_H
/* The runner: one pipeline, its pending folders oldest first, each through
 * ingest -> merge -> aggregate -> mark processed in strict order, under the
 * pipeline's lease, with retries of transient faults, every step attempt in
 * `_sluice/runs` and every folder state in the checkpoint.
 *
 * Exactly once: a folder's batch id is recorded (state running) before any
 * step; each step's commit carries txn(sluice:<pipeline>:<step>, batch), so
 * after a crash the run resumes the folder with the same batch id and every
 * step already committed is recognised in its table and not redone. A step
 * that fails for good marks the folder failed and stops the run: later
 * folders wait (strict sequencing) until the folder is retried or skipped. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

typedef struct runner_opts {
    const char *run_id;     /* NULL: a new random id */
    const char *folder;     /* only this folder (a retry); NULL: every pending one */
    const char *until_step; /* stop each folder after "ingest", "merge" or "aggregate" */
    int dry_run;            /* discover and report the plan; nothing written */
    const char *operator_name; /* for commitInfo and the checkpoint */
    const char *audit_event_id;
    size_t max_folders; /* 0: all pending */
    /* Stores to use instead of opening def's URLs (tests wrap them with
     * faults); borrowed. */
    store *lake;
    store *source;
    /* Retries: waits go through sleep_ms (NULL: real sleep); seed for jitter. */
    void (*sleep_ms)(void *ctx, int64_t ms);
    void *sleep_ctx;
    uint64_t seed;
    int64_t lease_ttl_ms; /* 0: 60 s */
    sl_log *log;          /* may be NULL */
} runner_opts;

typedef struct runner_result {
    char run_id[40];
    size_t processed;    /* folders that reached "processed" in this run */
    size_t recovered;    /* of which were resumed after an interruption */
    size_t failed;       /* 0 or 1: the run stops at the first failed folder */
    size_t pending_left; /* pending folders not processed (stopped or limited) */
    size_t waiting;      /* folders waiting for their marker or to settle */
    /* {"run_id","pipeline","dry_run","folders":[{"folder","batch_id","state",
     *  "recovered","steps":[{"step","state","attempts","version","rows_in",
     *  "rows_out","error_code"}], "error":{code,message,hint}}], "waiting",
     *  "pending_left","lease":{...} when held by another} (owned) */
    json_t *report;
} runner_result;

sl_code runner_run(const pipeline_def *d, const runner_opts *o, runner_result *out,
                   sl_err *err);
void runner_result_clear(runner_result *r);

#endif
