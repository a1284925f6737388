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
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

/* Progress of a run, as it happens (the console's live run). Events come
 * on the runner's thread, in order: FOLDER_STARTED, then per step
 * STEP_STARTED (once per attempt), STEP_PROGRESS (ingest: source bytes
 * read so far, per chunk read), STEP_FINISHED (state succeeded | skipped |
 * retrying | failed | cancelled), then FOLDER_FINISHED (state processed |
 * running | failed). LOG events carry run-level lines (discovery, the
 * stop); every event but STEP_PROGRESS has a short human line in
 * `line`. Strings are borrowed for the call only. A step stopped by the
 * cancel flag before it started gets STEP_FINISHED "cancelled" (attempt
 * 0) without a STEP_STARTED. */
typedef enum runner_event_kind {
    RUNNER_EV_LOG,
    RUNNER_EV_FOLDER_STARTED,
    RUNNER_EV_STEP_STARTED,
    RUNNER_EV_STEP_PROGRESS,
    RUNNER_EV_STEP_FINISHED,
    RUNNER_EV_FOLDER_FINISHED,
} runner_event_kind;

typedef struct runner_event {
    runner_event_kind kind;
    const char *run_id;
    const char *folder; /* NULL for run-level LOG events */
    int64_t batch_id;   /* -1 when none */
    const char *step;   /* "ingest" | "merge" | "aggregate"; NULL otherwise */
    const char *table;
    int attempt;
    const char *state;   /* *_FINISHED */
    int64_t files_total; /* the folder's data files; -1 unknown */
    int64_t rows_total;  /* expected: the marker's rows (ingest), bronze's (merge) */
    int64_t bytes_total; /* expected: the folder's bytes (ingest); -1 unknown */
    int64_t rows, bytes; /* so far (progress) or read (finished); -1 unknown */
    int64_t rows_out;    /* STEP_FINISHED; -1 unknown */
    int64_t version;     /* STEP_FINISHED: the table version made, -1 none */
    sl_code code;        /* *_FINISHED */
    const char *message; /* the error's message when code != SL_OK */
    const char *line;    /* one human line for the log */
} runner_event;

typedef void (*runner_progress_fn)(void *ctx, const runner_event *ev);

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
    /* Progress events (NULL: none), called on the runner's thread. */
    runner_progress_fn progress;
    void *progress_ctx;
    /* Set (non-zero) by another thread to stop the run at the next step or
     * folder boundary: a step in flight finishes, the folder in progress
     * stays "running" with its batch id (the next run resumes it, it is
     * never marked processed half-done), the step not started gets a runs
     * row "cancelled", and the run returns SL_RUN_CANCELLED. NULL: never. */
    const atomic_int *cancel;
} runner_opts;

typedef struct runner_result {
    char run_id[40];
    size_t processed;    /* folders that reached "processed" in this run */
    size_t recovered;    /* of which were resumed after an interruption */
    size_t failed;       /* 0 or 1: the run stops at the first failed folder */
    size_t pending_left; /* pending folders not processed (stopped or limited) */
    size_t waiting;      /* folders waiting for their marker or to settle */
    int cancelled;       /* stopped by opts.cancel */
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
