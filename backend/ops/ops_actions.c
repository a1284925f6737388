#include "backend/ops/ops_actions.h"

/* Every intervention, as data (tmux-style descriptors): the CLI, the
 * console's `:` line, the help screens, the read-only filter and the audit
 * tests all read this one table. */
static const ops_desc ops_descs[] = {
    {"session.open", "A console or CLI session starts (audited)", 0, NULL,
     ops_session_open_run},
    {"session.close", "A console or CLI session ends (audited)", 0, NULL,
     ops_session_close_run},
    {"audit.note", "Add an operator's incident note to the audit log", OPS_NEEDS_REASON,
     NULL, ops_note_run},
    {"demo.create", "Create a demo source, lake and sluice.json in a folder", OPS_MUTATES,
     ops_demo_before, ops_demo_run},
    {"restore", "Restore a Delta table to an earlier version or time (RESTORE commit)",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, ops_restore_before,
     ops_restore_run},
    {"vacuum", "Delete data files no version inside the retention still references",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, ops_vacuum_before, ops_vacuum_run},
    {"optimize", "Compact small files of a Delta table (OPTIMIZE commit; data unchanged)",
     OPS_MUTATES | OPS_NEEDS_REASON, ops_optimize_before, ops_optimize_run},
    {"run", "Run a pipeline: its pending folders through every step, oldest first",
     OPS_MUTATES, NULL, ops_run_run},
    {"retry",
     "Run again the folder a failed run left failed (same batch: done steps kept)",
     OPS_MUTATES | OPS_NEEDS_REASON, NULL, ops_retry_run},
    {"skip", "Mark folders skipped: the runner passes over them (checkpoint row)",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, NULL, ops_skip_run},
    {"mark-processed", "Mark folders processed without running them (checkpoint row)",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, NULL, ops_mark_processed_run},
    {"reset",
     "Make folders pending again (checkpoint restore): the next run reprocesses them",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, NULL, ops_reset_run},
    {"rollback-run",
     "Restore every table a run changed to its version before the run; its folders "
     "pending",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, NULL, ops_rollback_run},
    {"skip-file",
     "Leave source files out of their epoch folder (checkpoint row); the folder loads "
     "without them",
     OPS_MUTATES | OPS_NEEDS_REASON | OPS_DESTRUCTIVE, NULL, ops_skip_file_run},
    {"cancel", "Stop a pipeline's run at its next step boundary (whoever started it)",
     OPS_MUTATES | OPS_NEEDS_REASON, ops_cancel_before, ops_cancel_run},
    /* Not mutating: a read-only console may follow a runbook; the actions its
     * steps offer are refused by their own rows. */
    {"runbook.start", "A runbook run starts in the console (audited, linked by its id)",
     0, NULL, ops_runbook_start_run},
    {"runbook.step", "A runbook step was done, skipped or its action opened (audited)", 0,
     NULL, ops_runbook_step_run},
};

const ops_desc *ops_table(size_t *n)
{
    *n = sizeof ops_descs / sizeof ops_descs[0];
    return ops_descs;
}
