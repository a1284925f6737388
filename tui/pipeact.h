#ifndef SLUICE_TUI_PIPEACT_H
#define SLUICE_TUI_PIPEACT_H

#include <stddef.h>

#include "backend/util/err.h"
#include "tui/actions.h"
#include "tui/app.h"

/* The console's pipeline interventions: run, retry, skip, mark-processed,
 * reset (on folders), skip-file (on a folder's files) and rollback-run (on
 * a run). Each computes its dry-run
 * preview on the worker (what the ops layer would do: folders and their
 * states before/after, tables and versions for a rollback), opens the
 * preview dialog (default Cancel, typed target, reason), and on confirm
 * runs the ops action with the same target and params as the CLI: run and
 * retry through the live run (tui/liverun.h, the Run view opens), the rest
 * on the worker; cancel and refusals are audited by ops. */
typedef struct pipeact_target {
    const char *pipeline;
    const char *const *folders; /* the marked folders, or the selected one */
    size_t nfolders;
    const char *run_id;       /* rollback-run, retry of a run */
    const char *const *files; /* skip-file: source keys "<folder>/<file>" */
    size_t nfiles;
    const char *until_step;  /* run: --until-step, may be NULL */
    const char *runbook_run; /* set when a runbook step asks: linked in params */
} pipeact_target;

/* id: ACT_RUN, ACT_RETRY, ACT_SKIP, ACT_MARK, ACT_RESET, ACT_ROLLBACK or
 * ACT_CANCEL (stop the live run). SL_OPS_READ_ONLY in a read-only console
 * (audited by ops as refused). */
sl_code pipeact_open(app *a, action_id id, const pipeact_target *t, sl_err *err);

#endif
