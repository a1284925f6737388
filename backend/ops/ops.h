#ifndef SLUICE_OPS_OPS_H
#define SLUICE_OPS_OPS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

/* The one door for interventions. Every action that changes anything is a
 * descriptor in the ops table and runs through ops_run, which refuses it in
 * read-only mode, insists on a reason where the descriptor says so, and
 * writes the audit rows around it: requested -> succeeded | failed (or a
 * single refused row). Nothing outside ops writes audit rows. */

struct config;
struct runner_event;

typedef struct ops_ctx {
    const struct config *cfg; /* may be NULL (commands that run without one) */
    audit_log *audit;
    sl_log *log;
    const char *operator_name;
    const char *host;
    const char *session_id;
    const char *channel; /* "cli" or "console" */
    int read_only;
} ops_ctx;

enum {
    OPS_MUTATES = 1u << 0,      /* refused in read-only mode */
    OPS_NEEDS_REASON = 1u << 1, /* refused without a reason */
    OPS_DESTRUCTIVE = 1u << 2,  /* preview + typed confirmation in the console */
};

typedef struct ops_request {
    const char *target; /* may be NULL */
    const char *reason; /* may be NULL */
    json_t *params;     /* borrowed object, may be NULL */
    int dry_run;
    int confirmed; /* destructive actions: the operator typed the target / --yes */
    /* The operator saw the preview and cancelled: audited as a requested row
     * (with the state before) and a refused row (SL_OPS_CANCELLED); the
     * action does not run. */
    int cancelled;
    /* Optional, "run" and "retry" only (the console's live run): the
     * runner's progress events (struct runner_event, backend/pipeline/
     * runner.h) on the calling thread, and a flag another thread sets to
     * stop the run at its next step boundary (SL_RUN_CANCELLED, audited as
     * failed with that code). NULL: none. */
    void (*progress)(void *ctx, const struct runner_event *ev);
    void *progress_ctx;
    const atomic_int *cancel;
} ops_request;

typedef struct ops_result {
    json_t *before;       /* state before (owned, may be NULL) */
    json_t *after;        /* state after (owned, may be NULL) */
    json_t *output;       /* what the action returns to its caller (owned, may be NULL) */
    int64_t requested_id; /* audit row ids; 0 when none was written */
    int64_t final_id;
    /* What `before` prepared for `run` (a restore plan), so the work is not
     * done twice; freed with work_free by ops_result_clear. */
    void *work;
    void (*work_free)(void *work);
} ops_result;

typedef struct ops_desc {
    const char *name;    /* "audit.note" */
    const char *summary; /* one line for help screens */
    unsigned flags;
    /* Fills res->before (optional) before the requested row is written. */
    sl_code (*before)(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
    /* Does the work; fills res->after and res->output. */
    sl_code (*run)(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
} ops_desc;

const ops_desc *ops_find(const char *name);
/* The whole table (for help screens, the read-only filter and tests). */
const ops_desc *ops_table(size_t *n);

/* Runs the named action through the read-only, reason and audit rules. */
sl_code ops_run(ops_ctx *ctx, const char *name, const ops_request *req, ops_result *res,
                sl_err *err);
void ops_result_clear(ops_result *res);

/* The dry run of an action for a preview shown before a confirmation (the
 * CLI without --yes, the console's dialog): runs the descriptor with
 * dry_run set and writes no audit row — what the operator then does
 * (confirm, cancel, or a refusal) is what gets audited. Every descriptor's
 * dry run reads only. */
sl_code ops_preview(ops_ctx *ctx, const char *name, const ops_request *req, ops_result *res,
                    sl_err *err);

#endif
