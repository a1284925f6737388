/* Cancel requests in the lake: aimed at the run holding the lease, honoured
 * only by that run, removed when stale; refused when nothing runs. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/cancel.h"
#include "backend/pipeline/lease.h"
#include "backend/util/buf.h"

static void test_cancel_request(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("cancel");
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &lake, &err), SL_OK);
    const int64_t now = 1700000000000LL;
    /* Nothing runs: nothing to cancel, nothing written. */
    assert_int_equal(cancel_request(lake, "orders", "bob", "stuck", now, NULL, &err),
                     SL_RUN_NOT_FOUND);
    assert_non_null(strstr(err.msg, "orders"));
    sl_buf b = {0};
    assert_int_equal(store_get(lake, "_sluice/cancel/orders", &b, &err),
                     SL_STORE_NOT_FOUND);

    lease *l = NULL;
    assert_int_equal(
        lease_acquire(lake, "orders", "runner-1", now, 60000, &l, NULL, &err), SL_OK);
    lease_holder h;
    assert_int_equal(cancel_request(lake, "orders", "bob", "stuck", now + 1000, &h, &err),
                     SL_OK);
    assert_string_equal(h.owner, "runner-1");
    assert_int_equal(store_get(lake, "_sluice/cancel/orders", &b, &err), SL_OK);
    assert_non_null(strstr(b.data, "\"operator\":\"bob\""));
    assert_non_null(strstr(b.data, "\"reason\":\"stuck\""));
    buf_free(&b);
    /* The holder sees it (again and again until it clears it). */
    assert_true(cancel_requested(lake, "orders", l->token));
    assert_true(cancel_requested(lake, "orders", l->token));
    cancel_clear(lake, "orders");
    assert_false(cancel_requested(lake, "orders", l->token));

    /* A request for a run that ended is stale: the next run ignores and
     * removes it. */
    assert_int_equal(
        cancel_request(lake, "orders", "bob", "late", now + 2000, NULL, &err), SL_OK);
    assert_int_equal(lease_release(lake, l, &err), SL_OK);
    lease_free(l);
    l = NULL;
    assert_int_equal(
        lease_acquire(lake, "orders", "runner-2", now + 3000, 60000, &l, NULL, &err),
        SL_OK);
    assert_false(cancel_requested(lake, "orders", l->token));
    assert_int_equal(store_get(lake, "_sluice/cancel/orders", &b, &err),
                     SL_STORE_NOT_FOUND);
    /* An expired lease is no run either. */
    assert_int_equal(
        cancel_request(lake, "orders", "bob", "x", now + 3000 + 61000, NULL, &err),
        SL_RUN_NOT_FOUND);
    lease_free(l);
    buf_free(&b);
    store_close(lake);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
