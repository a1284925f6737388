#ifndef SLUICE_OPS_OPS_ACTIONS_H
#define SLUICE_OPS_OPS_ACTIONS_H

/* The descriptor table lives in ops_actions.c; ops.h declares ops_table().
 * Each intervention's handler is in its own file (ops_note.c, ops_demo.c,
 * ops_session.c, ...) and declared here. */
#include "backend/ops/ops.h"

sl_code ops_session_open_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                             sl_err *err);
sl_code ops_session_close_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                              sl_err *err);
sl_code ops_note_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_demo_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                        sl_err *err);
sl_code ops_demo_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_restore_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                           sl_err *err);
sl_code ops_restore_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                        sl_err *err);
sl_code ops_vacuum_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err);
sl_code ops_vacuum_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                       sl_err *err);
sl_code ops_optimize_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                            sl_err *err);
sl_code ops_optimize_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                         sl_err *err);

sl_code ops_run_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_retry_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_skip_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_mark_processed_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                               sl_err *err);
sl_code ops_reset_run(ops_ctx *ctx, const ops_request *req, ops_result *res, sl_err *err);
sl_code ops_rollback_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                         sl_err *err);

/* Runbook runs (ops_runbook.c): start and steps, audited, not mutating. */
sl_code ops_runbook_start_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                              sl_err *err);
sl_code ops_runbook_step_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                             sl_err *err);
/* cancel (ops_cancel.c) */
sl_code ops_cancel_before(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err);
sl_code ops_cancel_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                       sl_err *err);

/* skip-file (ops_skipfile.c) */
sl_code ops_skip_file_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err);

#endif
