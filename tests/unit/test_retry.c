/* Retries: which codes are transient, the backoff's growth, cap and equal
 * jitter (bounds, determinism by seed), and retry_run's loop with a fake
 * sleep that records the waits instead of sleeping. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/retry.h"

static void test_transient_codes(void **state)
{
    (void)state;
    assert_true(err_is_transient(SL_STORE_TIMEOUT));
    assert_true(err_is_transient(SL_STORE_UNAVAILABLE));
    assert_true(err_is_transient(SL_STORE_IO));
    assert_true(err_is_transient(SL_DELTA_CONFLICT));
    const sl_code not [] = {SL_OK,           SL_FAILED,           SL_STORE_NOT_FOUND,
                            SL_STORE_EXISTS, SL_STORE_BAD_KEY,    SL_DELTA_CORRUPT_LOG,
                            SL_LEASE_HELD,   SL_INGEST_FORMAT,    SL_EXPECTATION_FAILED,
                            SL_CHECK_FAILED, SL_PIPELINE_INVALID, SL_STORE_PERMISSION};
    for (size_t i = 0; i < sizeof not / sizeof not [0]; i++)
        assert_false(err_is_transient(not [i]));
}

/* Without jitter: base, 2 base, 4 base, ... up to the cap. */
static void test_delay_growth_and_cap(void **state)
{
    (void)state;
    retry_policy p = {.max_attempts = 10, .base_ms = 100, .max_ms = 1000};
    const int64_t want[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (int a = 1; a <= 7; a++)
        assert_int_equal(retry_delay_ms(&p, a, NULL), want[a - 1]);
    /* No cap: doubling saturates instead of overflowing. */
    p.max_ms = 0;
    assert_int_equal(retry_delay_ms(&p, 11, NULL), 102400);
    int64_t huge = retry_delay_ms(&p, 200, NULL);
    assert_true(huge > 0);
    assert_int_equal(huge, INT64_MAX);
    p.base_ms = 0;
    uint64_t rng = 1;
    assert_int_equal(retry_delay_ms(&p, 3, &rng), 0);
    p.base_ms = -5; /* nonsense reads as no wait */
    assert_int_equal(retry_delay_ms(&p, 1, NULL), 0);
}

/* Equal jitter: every wait in [d/2, d]; spread across that range; the same
 * seed gives the same waits. */
static void test_jitter(void **state)
{
    (void)state;
    retry_policy p = {.base_ms = 1000, .max_ms = 8000};
    uint64_t rng = 42;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t d = retry_delay_ms(&p, 1, &rng);
        assert_in_range(d, 500, 1000);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(lo < 550 && hi > 950); /* it does spread */
    for (int a = 1; a <= 6; a++) {
        int64_t cap = a >= 4 ? 8000 : 1000LL << (a - 1);
        for (int i = 0; i < 50; i++)
            assert_in_range(retry_delay_ms(&p, a, &rng), cap / 2, cap);
    }
    uint64_t r1 = 7, r2 = 7, r3 = 8;
    int same = 1, differ = 0;
    for (int i = 0; i < 20; i++) {
        int64_t a = retry_delay_ms(&p, 3, &r1), b = retry_delay_ms(&p, 3, &r2);
        int64_t c = retry_delay_ms(&p, 3, &r3);
        same &= a == b;
        differ |= a != c;
    }
    assert_true(same);
    assert_true(differ);
}

/* ---- retry_run ------------------------------------------------------------ */

typedef struct run_ctx {
    const sl_code *codes; /* what attempt i returns */
    int ncodes;
    int calls;
    int64_t slept[16];
    int nslept;
    int heard;
    int64_t heard_delay[16];
    sl_code heard_code[16];
} run_ctx;

static sl_code fake_step(void *ctx, int attempt, sl_err *err)
{
    run_ctx *r = ctx;
    r->calls++;
    assert_int_equal(attempt, r->calls);
    sl_code c = r->codes[attempt - 1 < r->ncodes ? attempt - 1 : r->ncodes - 1];
    if (c == SL_OK)
        return SL_OK;
    return err_set(err, c, "attempt %d failed", attempt);
}

static void fake_sleep(void *ctx, int64_t ms)
{
    run_ctx *r = ctx;
    assert_true(r->nslept < 16);
    r->slept[r->nslept++] = ms;
}

static void hear(void *ctx, int attempt, sl_code c, const sl_err *e, int64_t delay_ms)
{
    run_ctx *r = ctx;
    assert_int_equal(attempt, r->heard + 1);
    if (c != SL_OK)
        assert_int_equal(e->code, c);
    r->heard_code[r->heard] = c;
    r->heard_delay[r->heard++] = delay_ms;
}

static retry_policy policy(run_ctx *r, int max_attempts)
{
    return (retry_policy){.max_attempts = max_attempts,
                          .base_ms = 5000,
                          .max_ms = 60000,
                          .seed = 99,
                          .sleep_ms = fake_sleep,
                          .sleep_ctx = r};
}

static void test_run_recovers(void **state)
{
    (void)state;
    const sl_code codes[] = {SL_STORE_TIMEOUT, SL_DELTA_CONFLICT, SL_OK};
    run_ctx r = {.codes = codes, .ncodes = 3};
    retry_policy p = policy(&r, 5);
    sl_err err = {0};
    assert_int_equal(retry_run(&p, fake_step, &r, hear, &err), SL_OK);
    assert_int_equal(r.calls, 3);
    assert_int_equal(r.nslept, 2);
    assert_in_range(r.slept[0], 2500, 5000);
    assert_in_range(r.slept[1], 5000, 10000);
    assert_int_equal(r.heard, 3);
    assert_int_equal(r.heard_delay[0], r.slept[0]); /* told the wait it then took */
    assert_int_equal(r.heard_delay[1], r.slept[1]);
    assert_int_equal(r.heard_delay[2], -1);
    assert_int_equal(r.heard_code[2], SL_OK);
    /* The waits come from the seed: a second run waits the same. */
    run_ctx r2 = {.codes = codes, .ncodes = 3};
    retry_policy p2 = policy(&r2, 5);
    assert_int_equal(retry_run(&p2, fake_step, &r2, NULL, &err), SL_OK);
    assert_memory_equal(r.slept, r2.slept, 2 * sizeof r.slept[0]);
}

static void test_run_gives_up(void **state)
{
    (void)state;
    const sl_code codes[] = {SL_STORE_UNAVAILABLE};
    run_ctx r = {.codes = codes, .ncodes = 1};
    retry_policy p = policy(&r, 4);
    sl_err err = {0};
    assert_int_equal(retry_run(&p, fake_step, &r, hear, &err), SL_STORE_UNAVAILABLE);
    assert_int_equal(r.calls, 4);
    assert_int_equal(r.nslept, 3); /* none after the last attempt */
    assert_int_equal(err.code, SL_STORE_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "gave up after 4 attempts"));
    assert_non_null(strstr(err.msg, "attempt 4 failed")); /* the last error */
    assert_int_equal(r.heard_delay[3], -1);
}

static void test_run_not_transient(void **state)
{
    (void)state;
    const sl_code codes[] = {SL_STORE_TIMEOUT, SL_INGEST_FORMAT, SL_OK};
    run_ctx r = {.codes = codes, .ncodes = 3};
    retry_policy p = policy(&r, 5);
    sl_err err = {0};
    assert_int_equal(retry_run(&p, fake_step, &r, hear, &err), SL_INGEST_FORMAT);
    assert_int_equal(r.calls, 2); /* stopped at the non-transient error */
    assert_int_equal(r.nslept, 1);
    assert_string_equal(err.msg, "attempt 2 failed");
    assert_int_equal(r.heard_delay[1], -1);

    const sl_code first[] = {SL_CHECK_FAILED};
    run_ctx r2 = {.codes = first, .ncodes = 1};
    retry_policy p2 = policy(&r2, 5);
    assert_int_equal(retry_run(&p2, fake_step, &r2, NULL, &err), SL_CHECK_FAILED);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.nslept, 0);

    /* max_attempts below 1 still makes one attempt, and never retries. */
    const sl_code t[] = {SL_STORE_TIMEOUT};
    run_ctx r3 = {.codes = t, .ncodes = 1};
    retry_policy p3 = policy(&r3, 0);
    assert_int_equal(retry_run(&p3, fake_step, &r3, NULL, &err), SL_STORE_TIMEOUT);
    assert_int_equal(r3.calls, 1);
    assert_null(strstr(err.msg, "gave up"));
}

static void test_policy_from_def(void **state)
{
    (void)state;
    pipeline_def d = {0};
    d.retries.max_attempts = 3;
    d.retries.backoff_ms = 5000;
    retry_policy p;
    retry_policy_from_def(&p, &d, 17);
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.base_ms, 5000);
    assert_int_equal(p.max_ms, RETRY_DEFAULT_MAX_MS);
    assert_int_equal(p.seed, 17);
    assert_null(p.sleep_ms);
    assert_int_equal(retry_delay_ms(&p, 2, NULL), 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transient_codes),
        cmocka_unit_test(test_delay_growth_and_cap),
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_run_recovers),
        cmocka_unit_test(test_run_gives_up),
        cmocka_unit_test(test_run_not_transient),
        cmocka_unit_test(test_policy_from_def),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
