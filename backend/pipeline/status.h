#ifndef SLUICE_PIPELINE_STATUS_H
#define SLUICE_PIPELINE_STATUS_H
/* A pipeline's status, computed once for `sluice status`, `sluice runs`,
 * `sluice folders` and the console's Overview and Runs views: the source
 * listed against the checkpoint (folder states), the lease, the lag of the
 * oldest pending folder, and the runs table summarised per run.
 *
 * States of a pipeline (pl_overview.state), the first that applies:
 *   failed   a folder is failed (it holds back every later one)
 *   running  a holder's lease is live (not released, not expired)
 *   stuck    a lease expired without being released: its holder died and
 *            the next run takes it over
 *   paused   folders are pending but nothing will start a run: the pipeline
 *            has no schedule (a run waits for someone to start it)
 *   healthy  otherwise
 * `sluice status` keeps its three states (failed, running, healthy). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runs.h"
#include "backend/store/store.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

/* Folder states counted by status, in `sluice status --json` order. */
enum {
    PL_PENDING,
    PL_WAITING,
    PL_RUNNING,
    PL_PROCESSED,
    PL_FAILED,
    PL_SKIPPED,
    PL_NSTATES
};
extern const char *const pl_state_names[PL_NSTATES];

/* A pipeline's folders: its source listed against its checkpoint. */
typedef struct pl_states {
    store *lake, *src;
    ckpt_view v;
    pl_discovery dsc;
    pl_known *known;
} pl_states;

/* Opens the lake and the source (logging to log, may be NULL), reads the
 * checkpoint and discovers the folders as of now_ms. Free with
 * pl_states_free even on error. */
sl_code pl_states_load(const pipeline_def *d, sl_log *log, int64_t now_ms, pl_states *out,
                       sl_err *err);
void pl_states_free(pl_states *ps);

/* What `sluice status` reports for one pipeline. */
typedef struct pl_status {
    const char *pipeline;         /* the definition's name (borrowed) */
    size_t counts[PL_NSTATES];    /* folders per state */
    int64_t oldest_pending_epoch; /* -1: none pending */
    int64_t lag_seconds;          /* now - oldest pending epoch; 0: none */
    int lease_held;               /* a live lease (not released, not expired) */
    int lease_stale;              /* expired without release: holder died */
    lease_holder lease;           /* when held or stale */
    const char *health;           /* "failed" | "running" | "healthy" */
} pl_status;

/* From loaded states; reads the lease (an unreadable lease counts as free). */
void pl_status_compute(const pipeline_def *d, const pl_states *ps, int64_t now_ms,
                       pl_status *out);
/* {"pipeline","state","folders":{...},"lag_seconds","lease"}: `status --json`. */
json_t *pl_status_json(const pl_status *s);

/* One run, from its runs rows. */
typedef struct pl_run_summary {
    char *run_id;
    char *pipeline;
    int64_t started_ms, finished_ms; /* earliest start, latest finish; -1 unknown */
    int64_t max_batch;               /* highest batch id; -1: none */
    size_t steps;                    /* rows (step attempts) */
    size_t folders;                  /* distinct folders */
    /* "failed" (a step failed for good), "warning" (a check warned), else
     * "succeeded" */
    const char *state;
    char *error_code;   /* the first failed step's (step order); NULL: none */
    char *error_folder; /* its folder; NULL when pipeline-wide or none */
    char *error_step;   /* its step */
} pl_run_summary;

/* Runs of rows (any order, any pipelines), newest first: by start, then by
 * the highest batch (batches number a pipeline's runs in order), then id. */
void pl_runs_summarize(const run_step *rows, size_t n, pl_run_summary **out,
                       size_t *nout);
void pl_run_summaries_free(pl_run_summary *r, size_t n);

/* One run's rows in the order they happened: pipeline-wide steps that come
 * first (discover), then each batch's steps (ingest, merge, aggregate, mark)
 * and attempts, then the pipeline-wide ones after (optimize, vacuum,
 * schedule-check). Rows of one instant sort the same every time. */
void pl_run_steps_order(run_step *rows, size_t n);

/* An open alert of a pipeline. */
typedef struct pl_alert {
    int critical; /* 1: failure; 0: warning */
    char text[320];
} pl_alert;

#define PL_SPARK_MAX 64

/* The Overview's view of one pipeline. */
typedef struct pl_overview {
    pl_status st;
    const char *state; /* see the top of this file */
    int has_last_run;
    pl_run_summary last_run; /* the newest run */
    size_t nruns;
    int64_t schedule_every_ms; /* 0: not scheduled */
    int64_t missed_runs;       /* scheduled periods since the last run with none */
    /* Today (the UTC day of now): folders that reached their state today. */
    int64_t today_start_ms;
    size_t today_processed, today_failed;
    int64_t today_rows; /* rows read by the folders processed today */
    /* Rows read per processed folder, oldest first, the newest nspark. */
    int64_t spark[PL_SPARK_MAX];
    size_t nspark;
    /* Open alerts: each failed folder (its error code); failed steps and
     * warnings of the last run not already named by a failed folder;
     * missed scheduled runs; a stale lease. */
    pl_alert *alerts;
    size_t nalerts;
} pl_overview;

/* Loads everything above for one pipeline as of now_ms, with the newest
 * spark_n (at most PL_SPARK_MAX) processed folders in the sparkline. */
sl_code pl_overview_load(const pipeline_def *d, sl_log *log, int64_t now_ms,
                         size_t spark_n, pl_overview *out, sl_err *err);
void pl_overview_free(pl_overview *o);

#endif
