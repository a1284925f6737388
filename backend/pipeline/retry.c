/* Backoff with jitter for the runner's transient failures (retry.h). */
#include "backend/pipeline/retry.h"

#include <errno.h>
#include <time.h>

int err_is_transient(sl_code c)
{
    return c == SL_STORE_TIMEOUT || c == SL_STORE_UNAVAILABLE || c == SL_STORE_IO ||
           c == SL_DELTA_CONFLICT || c == SL_DELTA_COMMIT_UNKNOWN;
}

void retry_policy_from_def(retry_policy *p, const pipeline_def *d, uint64_t seed)
{
    *p = (retry_policy){
        .max_attempts = d->retries.max_attempts,
        .base_ms = d->retries.backoff_ms,
        .max_ms = RETRY_DEFAULT_MAX_MS,
        .seed = seed,
    };
}

/* splitmix64: a full-period generator from one word of state. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* base * 2^(attempt-1) without overflow, capped. */
static int64_t backoff(const retry_policy *p, int attempt)
{
    int64_t d = p->base_ms > 0 ? p->base_ms : 0;
    int64_t cap = p->max_ms > 0 ? p->max_ms : INT64_MAX;
    for (int i = 1; i < attempt && d < cap; i++)
        d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
    return d < cap ? d : cap;
}

/* Equal jitter rather than full jitter: full jitter ([0, d]) spreads many
 * competing clients best, but one pipeline has one runner (the lease), and
 * a wait that can come out near zero would hit a throttling or recovering
 * store again at once. Equal jitter keeps at least half the backoff (the
 * store gets its pause, the operator a predictable "retrying in 5-10 s")
 * while two runners of different pipelines still drift apart. */
int64_t retry_delay_ms(const retry_policy *p, int attempt, uint64_t *rng)
{
    int64_t d = backoff(p, attempt < 1 ? 1 : attempt);
    if (!rng || d == 0)
        return d;
    int64_t half = d / 2;
    uint64_t span = (uint64_t)(d - half) + 1; /* [0, d - half] inclusive */
    return half + (int64_t)(rng_next(rng) % span);
}

static void real_sleep(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

sl_code retry_run(const retry_policy *p,
                  sl_code (*fn)(void *ctx, int attempt, sl_err *err), void *ctx,
                  void (*on_attempt)(void *ctx, int attempt, sl_code c, const sl_err *e,
                                     int64_t delay_ms),
                  sl_err *err)
{
    int max = p->max_attempts < 1 ? 1 : p->max_attempts;
    uint64_t rng = p->seed;
    for (int attempt = 1;; attempt++) {
        sl_err e = {0};
        sl_code c = fn(ctx, attempt, &e);
        if (c != SL_OK && e.code == SL_OK)
            e.code = c; /* a callee that returned a code without setting err */
        int again = c != SL_OK && err_is_transient(c) && attempt < max;
        int64_t delay = again ? retry_delay_ms(p, attempt, &rng) : -1;
        if (on_attempt)
            on_attempt(ctx, attempt, c, &e, delay);
        if (!again) {
            if (c != SL_OK && err_is_transient(c) && attempt > 1)
                err_wrap(&e, "gave up after %d attempts", attempt);
            if (c != SL_OK && err)
                *err = e;
            return c;
        }
        if (p->sleep_ms)
            p->sleep_ms(p->sleep_ctx, delay);
        else
            real_sleep(delay);
    }
}
