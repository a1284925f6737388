#ifndef SLUICE_PIPELINE_RUNNER_INTERNAL_H
#define SLUICE_PIPELINE_RUNNER_INTERNAL_H
/* What the runner's files share (runner.c: the steps and one folder;
 * runner_files.c: the files layout; runner_upkeep.c: the optimize/vacuum
 * cadence and the schedule check). Not for other modules. */
#include <jansson.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/retry.h"
#include "backend/pipeline/runner.h"
#include "backend/pipeline/source_files.h"

typedef struct run_ctx {
    const pipeline_def *d;
    const runner_opts *o;
    store *lake, *src;
    store *own_lake, *own_src;
    store *retry_lake, *retry_src; /* request-level retries around lake and src */
    /* silver and tombstones kept warm across the run's batches (the merge
     * brings them up to date instead of reopening them) */
    delta_snapshot *silver_warm, *tomb_warm;
    lease *lease;
    int cancel_from_lake; /* stopped by a request in the lake: cleared at the end */
    char run_id[40];
    retry_policy rp;
    delta_commit_meta meta;
    int64_t ttl_ms;
    json_t *folders; /* report */
    /* progress (runner_emit): the source seen through a wrapper that counts
     * the bytes a step reads while prog.counting is set */
    store *count_src;
    struct {
        const char *folder, *step;
        int64_t batch, files_total, rows_total, bytes_total, bytes;
        int attempt, counting;
    } prog;
} run_ctx;

/* The files layout's batch: its manifest (checkpoint detail), the source
 * files it replaces (deleted ones included) and their source_files rows. */
typedef struct files_batch {
    const char *manifest;
    const char *const *changed;
    size_t nchanged;
    const srcfile *rows;
    size_t nrows;
} files_batch;

/* Bookkeeping with the steps' retries. */
sl_code runner_with_retries(run_ctx *rc, sl_code (*fn)(void *, sl_err *), void *arg,
                            sl_err *err);
/* One row of _sluice/runs (best effort: logged, never fails a step). */
void runner_runs_row(run_ctx *rc, const char *folder, int64_t batch, const char *step,
                     int attempt, const char *state, sl_code c, const sl_err *e,
                     const char *table, int64_t vbefore, int64_t vafter, int64_t rows_in,
                     int64_t rows_out, int64_t started_ms, const char *detail);
/* Progress: a runner_event with every number unknown (-1). */
runner_event runner_event_make(runner_event_kind kind);
/* Hands ev to opts.progress (run id filled in); nothing without one. */
void runner_emit(run_ctx *rc, runner_event *ev);
/* A run-level log line (RUNNER_EV_LOG). */
void runner_logf(run_ctx *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether opts.cancel, or a cancel request in the lake for this run's
 * lease, asks the run to stop at this boundary. */
int runner_cancel_asked(run_ctx *rc);
/* Renews the lease (with retries). */
sl_code runner_lease_keep(run_ctx *rc, sl_err *err);
/* One folder (or files batch, fb) through every step and into the checkpoint. */
sl_code runner_folder_run(run_ctx *rc, const pl_folder *f, int64_t batch, int recovered,
                          const files_batch *fb, json_t **report_out, sl_err *err);
/* The files layout's run (runner_files.c); *batch_out -1 when nothing ran. */
sl_code runner_files_run(run_ctx *rc, runner_result *out, int64_t *batch_out,
                         sl_err *err);
/* runner_upkeep.c */
void runner_maintenance(run_ctx *rc, int64_t first_batch, int64_t last_batch);
void runner_schedule_check(run_ctx *rc, runner_result *out, int64_t started_ms);

#endif
