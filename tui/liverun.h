#ifndef SLUICE_TUI_LIVERUN_H
#define SLUICE_TUI_LIVERUN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/util/err.h"

/* The live run: at most one pipeline run (ops "run" or "retry") started from
 * this console, executed on a thread of its own so the worker stays free for
 * the views. The runner reports each step as it starts and ends, rows and
 * bytes as they go, and log lines; the Run view (view_run.c) draws a copy
 * taken under the lock. Cancelling asks the runner to stop at the next step
 * boundary: a step in flight finishes (its commit lands or not, never
 * half), later steps and folders are left pending. */
typedef struct liverun liverun;

typedef struct liverun_step {
    char folder[64];
    char step[24];
    char state[16]; /* running, succeeded, skipped, retrying, failed, cancelled */
    int attempt;
    int64_t started_ms, finished_ms; /* finished -1 while running */
    int64_t rows, bytes;             /* so far */
    int64_t rows_total, bytes_total; /* expected, -1 when unknown (progress bar) */
    char error_code[40];
    /* added by the live run's implementation */
    char table[64];
    int64_t rows_out; /* when finished; -1 unknown */
    int64_t version;  /* table version the step made; -1 none */
} liverun_step;

/* A copy of the run's state for drawing (liverun_snapshot). */
typedef struct liverun_view {
    int active;      /* 1 while the thread runs */
    int cancelling;  /* cancel asked, not yet stopped */
    char action[16]; /* "run" | "retry" */
    char target[128];
    char pipeline[128]; /* the pipeline it runs ("" when not known) */
    char run_id[40];
    int64_t started_ms, finished_ms;
    sl_code code; /* when finished */
    sl_err err;
    liverun_step *steps; /* in order started */
    size_t nsteps;
    char **log; /* the run's log lines, oldest first (bounded ring, oldest dropped) */
    size_t nlog;
    uint64_t log_seq; /* lines ever appended (follow mode tracks it) */
    /* added: "running", "succeeded", "failed", "cancelled"; "" before any run */
    char state[16];
    size_t folders_done; /* folders that reached processed */
} liverun_view;

/* The log ring's bound (oldest lines dropped beyond it). */
#define LIVERUN_LOG_MAX 2000

liverun *liverun_new(session *sess);
/* Cancels an active run and waits for it, then frees. */
void liverun_free(liverun *lr);
/* Starts ops action ("run" or "retry") with req (copied) on the run thread.
 * SL_USAGE when a run is already active. */
sl_code liverun_start(liverun *lr, const char *action, const ops_request *req,
                      sl_err *err);
int liverun_active(liverun *lr);
/* Asks the run to stop after its current step (idempotent). */
void liverun_cancel(liverun *lr);
/* Blocks until no run is active. */
void liverun_wait(liverun *lr);
/* Readable when the run's state changed (draw again); drained by snapshot. */
int liverun_wake_fd(const liverun *lr);
void liverun_snapshot(liverun *lr, liverun_view *out);
void liverun_view_free(liverun_view *v);

/* Added: an observer called on the run thread after each runner event has
 * been folded into the state (outside the lock, so it may call
 * liverun_cancel), e.g. a runbook waiting for a step, or a test stopping a
 * run at a chosen boundary. NULL removes it. */
struct runner_event;
typedef void (*liverun_observer)(void *ctx, const struct runner_event *ev);
void liverun_set_observer(liverun *lr, liverun_observer fn, void *ctx);

#endif
