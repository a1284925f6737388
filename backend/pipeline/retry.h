#ifndef SLUICE_PIPELINE_RETRY_H
#define SLUICE_PIPELINE_RETRY_H

/* Retries of transient failures with exponential backoff and jitter. The
 * sleep is injected so tests (and a runner that must keep renewing its
 * lease while it waits) control the time that passes. */

#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/util/err.h"

/* 1 for the faults worth another attempt: SL_STORE_TIMEOUT,
 * SL_STORE_UNAVAILABLE, SL_STORE_IO, SL_DELTA_COMMIT_UNKNOWN and SL_DELTA_CONFLICT (the step
 * recomputes from a fresh snapshot); 0 for everything else, SL_OK included. */
int err_is_transient(sl_code c);

typedef struct retry_policy {
    int max_attempts; /* attempts in all, the first included; < 1 means 1 */
    int64_t base_ms;  /* the wait after the first failure (before jitter) */
    int64_t max_ms;   /* cap on any wait; <= 0: no cap */
    uint64_t seed;    /* seeds the jitter; equal seeds give equal waits */
    /* Waits ms milliseconds; NULL sleeps for real (nanosleep). */
    void (*sleep_ms)(void *ctx, int64_t ms);
    void *sleep_ctx;
} retry_policy;

/* The pipeline's retries: max_attempts and backoff_ms from d, waits capped
 * at RETRY_DEFAULT_MAX_MS, real sleep; the caller picks the seed. */
#define RETRY_DEFAULT_MAX_MS (5 * 60 * 1000)
void retry_policy_from_def(retry_policy *p, const pipeline_def *d, uint64_t seed);

/* The wait after failed attempt `attempt` (1-based): base_ms * 2^(attempt-1),
 * capped at max_ms, then equal jitter: half of it fixed plus a uniform
 * random part of up to the other half, drawn from *rng (which advances).
 * rng NULL: no jitter (the capped value itself). Never negative. */
int64_t retry_delay_ms(const retry_policy *p, int attempt, uint64_t *rng);

/* Calls fn(ctx, attempt, err) for attempt = 1, 2, ... while it fails with a
 * transient code and attempts remain, waiting retry_delay_ms between
 * attempts (jitter seeded from p->seed). on_attempt (may be NULL) hears of
 * every attempt as it ends: its code (SL_OK on success), its error, and the
 * wait before the next attempt or -1 when none follows. Returns SL_OK or
 * the last attempt's code with its error in *err; when transient failures
 * used up every attempt the message says how many were made. */
sl_code retry_run(const retry_policy *p,
                  sl_code (*fn)(void *ctx, int attempt, sl_err *err), void *ctx,
                  void (*on_attempt)(void *ctx, int attempt, sl_code c, const sl_err *e,
                                     int64_t delay_ms),
                  sl_err *err);

#endif
