/* The operations layer: the one door for interventions. Read-only and
 * missing reasons are refused and audited; accepted actions leave a
 * requested row before and a succeeded/failed row after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "testutil.h"

typedef struct world {
    char *dir;
    session *sess;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = tu_mkdtemp("ops");
    char sd[4096];
    snprintf(sd, sizeof sd, "%s/state", w->dir);
    setenv("SLUICE_STATE_DIR", sd, 1);
    tu_write_file(w->dir, "sluice.json", "{\"environment\":\"test\"}");
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/sluice.json", w->dir);
    session_opts o = {.config_path = cfg, .operator_name = "alice", .channel = "cli"};
    sl_err e = {0};
    assert_int_equal(session_open(&o, &w->sess, &e), SL_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    session_close(w->sess);
    tu_rmtree(w->dir);
    free(w->dir);
    free(w);
    return 0;
}

static audit_event *all_events(world *w, size_t *n)
{
    audit_filter f = {0};
    audit_event *evs = NULL;
    sl_err e = {0};
    assert_int_equal(audit_query(w->sess->audit, &f, &evs, n, &e), SL_OK);
    return evs;
}

static void test_table_is_well_formed(void **state)
{
    (void)state;
    size_t n;
    const ops_desc *t = ops_table(&n);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].name);
        assert_true(strlen(t[i].summary) > 10);
        assert_non_null(t[i].run);
        assert_ptr_equal(ops_find(t[i].name), &t[i]);
    }
    assert_null(ops_find("rm -rf"));
    assert_true(ops_find("demo.create")->flags & OPS_MUTATES);
    assert_true(ops_find("audit.note")->flags & OPS_NEEDS_REASON);
}

static void test_note_requires_reason(void **state)
{
    world *w = *state;
    ops_request req = {.target = "orders"};
    ops_result res;
    sl_err e = {0};
    assert_int_equal(ops_run(&w->sess->ops, "audit.note", &req, &res, &e),
                     SL_OPS_REASON_REQUIRED);
    ops_result_clear(&res);
    req.reason = "   ";
    assert_int_equal(ops_run(&w->sess->ops, "audit.note", &req, &res, &e),
                     SL_OPS_REASON_REQUIRED);
    ops_result_clear(&res);
    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(evs[i].phase, "refused");
        assert_string_equal(evs[i].error_code, "SL-OPS-REASON-REQUIRED");
        assert_string_equal(evs[i].operator_name, "alice");
        assert_string_equal(evs[i].action, "audit.note");
    }
    audit_events_free(evs, n);
}

static void test_note_is_audited_around(void **state)
{
    world *w = *state;
    ops_request req = {.target = "orders", .reason = "paged at 03:12, silver lagging"};
    ops_result res;
    sl_err e = {0};
    assert_int_equal(ops_run(&w->sess->ops, "audit.note", &req, &res, &e), SL_OK);
    assert_true(res.requested_id > 0);
    assert_int_equal(res.final_id, res.requested_id + 1);
    ops_result_clear(&res);
    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].reason, "paged at 03:12, silver lagging");
    assert_string_equal(evs[1].target, "orders");
    assert_string_equal(evs[1].session_id, w->sess->session_id);
    assert_null(evs[1].error_code);
    audit_events_free(evs, n);
    audit_verify_result vr;
    assert_int_equal(audit_verify(w->sess->audit, &vr, &e), SL_OK);
    assert_true(vr.ok);
}

static void test_read_only_refuses_and_audits(void **state)
{
    world *w = *state;
    w->sess->ops.read_only = 1;
    char target[4200];
    snprintf(target, sizeof target, "%s/demo-ro", w->dir);
    ops_request req = {.target = target, .reason = "try"};
    ops_result res;
    sl_err e = {0};
    assert_int_equal(ops_run(&w->sess->ops, "demo.create", &req, &res, &e),
                     SL_OPS_READ_ONLY);
    ops_result_clear(&res);
    assert_int_equal(access(target, F_OK), -1); /* nothing was created */
    /* Notes only touch the audit log: allowed to a read-only observer. */
    ops_request note = {.reason = "watching only"};
    assert_int_equal(ops_run(&w->sess->ops, "audit.note", &note, &res, &e), SL_OK);
    ops_result_clear(&res);
    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 3);
    assert_string_equal(evs[0].action, "demo.create");
    assert_string_equal(evs[0].phase, "refused");
    assert_string_equal(evs[0].error_code, "SL-OPS-READ-ONLY");
    audit_events_free(evs, n);
}

static void test_failure_is_audited(void **state)
{
    world *w = *state;
    /* A demo folder that cannot be created: its parent is a file. */
    tu_write_file(w->dir, "blocker", "x");
    char target[4200];
    snprintf(target, sizeof target, "%s/blocker/demo", w->dir);
    ops_request req = {.target = target};
    ops_result res;
    sl_err e = {0};
    sl_code c = ops_run(&w->sess->ops, "demo.create", &req, &res, &e);
    assert_int_not_equal(c, SL_OK);
    ops_result_clear(&res);
    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "failed");
    assert_string_equal(evs[1].error_code, err_code_name(c));
    audit_events_free(evs, n);
}

/* An operator who cancels after the preview leaves a requested/refused pair
 * and nothing else; read-only still refuses first, with one row. */
static void test_cancel_writes_a_pair(void **state)
{
    world *w = *state;
    char target[4200];
    snprintf(target, sizeof target, "%s/demo-cancelled", w->dir);
    ops_request req = {.target = target, .cancelled = 1};
    ops_result res;
    sl_err e = {0};
    assert_int_equal(ops_run(&w->sess->ops, "demo.create", &req, &res, &e),
                     SL_OPS_CANCELLED);
    assert_true(res.requested_id > 0);
    assert_int_equal(res.final_id, res.requested_id + 1);
    ops_result_clear(&res);
    assert_int_equal(access(target, F_OK), -1); /* nothing ran */
    assert_true(strstr(e.msg, "cancelled") != NULL);

    w->sess->ops.read_only = 1;
    assert_int_equal(ops_run(&w->sess->ops, "demo.create", &req, &res, &e),
                     SL_OPS_READ_ONLY);
    ops_result_clear(&res);

    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 3);
    assert_string_equal(evs[0].phase, "requested");
    assert_null(evs[0].error_code);
    assert_string_equal(evs[1].phase, "refused");
    assert_string_equal(evs[1].error_code, "SL-OPS-CANCELLED");
    assert_string_equal(evs[1].target, target);
    assert_string_equal(evs[2].phase, "refused");
    assert_string_equal(evs[2].error_code, "SL-OPS-READ-ONLY");
    audit_events_free(evs, n);
}

static void test_unknown_and_no_audit(void **state)
{
    world *w = *state;
    ops_result res;
    sl_err e = {0};
    ops_request req = {.reason = "x"};
    assert_int_equal(ops_run(&w->sess->ops, "drop.table", &req, &res, &e),
                     SL_OPS_UNKNOWN);
    ops_ctx bare = w->sess->ops;
    bare.audit = NULL;
    assert_int_equal(ops_run(&bare, "audit.note", &req, &res, &e), SL_AUDIT_DB);
    size_t n;
    audit_event *evs = all_events(w, &n);
    assert_int_equal(n, 0);
    audit_events_free(evs, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_well_formed),
        cmocka_unit_test_setup_teardown(test_note_requires_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_is_audited_around, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refuses_and_audits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failure_is_audited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_writes_a_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_no_audit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
