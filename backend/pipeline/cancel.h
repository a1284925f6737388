#ifndef SLUICE_PIPELINE_CANCEL_H
#define SLUICE_PIPELINE_CANCEL_H
/* Asking a running pipeline to stop, from any process: the console that
 * started it, another console, or `sluice cancel` next to a scheduled run.
 * The request is an object in the lake, _sluice/cancel/<pipeline>, naming
 * the lease token of the run it is meant for ({"token", "operator",
 * "reason", "requested_ms"}). A runner looks at each step boundary: a
 * request for its own token stops it there (the step in flight finishes,
 * nothing is half-committed; later steps and folders stay pending); a
 * request for another token is stale (that run ended before it saw it) and
 * is removed. */
#include <stdint.h>

#include "backend/pipeline/lease.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* "_sluice/cancel/<pipeline>". Caller frees. */
char *cancel_key(const char *pipeline);

/* Writes the request for the run holding the pipeline's lease at now_ms;
 * *holder (may be NULL) is that run's holder. SL_RUN_NOT_FOUND when no run
 * holds the lease (none running, or its lease expired). */
sl_code cancel_request(store *lake, const char *pipeline, const char *operator_name,
                       const char *reason, int64_t now_ms, lease_holder *holder,
                       sl_err *err);

/* 1 when a request names token; a stale request is removed. 0 also when the
 * request cannot be read (a runner is never stopped by an unreadable
 * object; the error is logged by the store). */
int cancel_requested(store *lake, const char *pipeline, const char *token);

/* Removes the request (after the run stopped for it). */
void cancel_clear(store *lake, const char *pipeline);

#endif
