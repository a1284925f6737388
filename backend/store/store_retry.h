#ifndef SLUICE_STORE_STORE_RETRY_H
#define SLUICE_STORE_STORE_RETRY_H
/* Request-level retries, as S3 SDKs do: a store whose calls are retried on
 * transient faults (timeouts, 5xx and throttling, I/O errors) with
 * exponential backoff and jitter before an error reaches the caller. The
 * steps above retry whole units of work on top of this.
 *
 * Retrying is safe for every call: gets, lists and stats read; put and
 * delete are idempotent; a put_if_absent whose first attempt landed but was
 * reported failed comes back as SL_STORE_EXISTS, which the commit path
 * already treats as a lost race and resolves by reading the log (it then
 * finds its own txn). */
#include <stdint.h>

#include "backend/store/store.h"

/* 1 for the store codes worth another request. */
int store_code_transient(sl_code c);

typedef struct store_retry_opts {
    int max_attempts;                        /* per request, the first included; < 1: 5 */
    int64_t base_ms;                         /* first wait; doubles each attempt; 0: 50 */
    int64_t max_ms;                          /* cap on a wait; 0: 2000 */
    uint64_t seed;                           /* jitter */
    void (*sleep_ms)(void *ctx, int64_t ms); /* NULL: nanosleep */
    void *sleep_ctx;
} store_retry_opts;

/* Wraps inner (the wrapper owns it unless keep_inner). */
sl_code store_retry_wrap(store *inner, const store_retry_opts *o, int keep_inner,
                         store **out, sl_err *err);
/* Requests retried so far (tests and the command log). */
uint64_t store_retry_count(const store *s);

#endif
