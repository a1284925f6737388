/* The pipeline end to end on a local lake: generated epoch folders with
 * inserts, updates, deletes, duplicates, out-of-order updates, malformed
 * lines, unknown keys and rows failing expectations, processed by the
 * runner (including a late folder): silver equals an independent
 * computation of the final state, gold its aggregate, quarantine exactly
 * the bad lines, and the checkpoint's counts reconcile. */
#include "pipetest.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
}

static runner_result run(pt_world *w, const pipeline_def *d, sl_code want)
{
    runner_opts o = {.operator_name = "tester", .sleep_ms = no_sleep, .seed = 7};
    runner_result r;
    sl_err err = {0};
    sl_code c = runner_run(d, &o, &r, &err);
    if (c != want) {
        char *rep = r.report ? json_dumps(r.report, JSON_INDENT(1)) : NULL;
        fail_msg("run: %s %s\n%s", err_code_name(c), err.msg, rep ? rep : "");
    }
    (void)w;
    return r;
}

static void expect_equal_text(const char *what, const char *want, const char *got)
{
    if (strcmp(want, got) != 0)
        fail_msg("%s differs\n--- expected\n%s--- got\n%s", what, want, got);
}

static void check_tables(pt_world *w)
{
    char *want = pt_expected_silver(w), *got = pt_actual_silver(w);
    expect_equal_text("silver", want, got);
    free(want);
    free(got);
    want = pt_expected_gold(w);
    got = pt_actual_gold(w);
    expect_equal_text("gold", want, got);
    free(want);
    free(got);
    want = pt_expected_quarantine(w);
    got = pt_actual_quarantine(w);
    expect_equal_text("quarantine", want, got);
    free(want);
    free(got);
}

static void test_end_to_end(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-e2e", 42, NULL);
    for (int i = 0; i < 6; i++)
        pt_folder_write(&w, 1700000000 + i * 3600, 2, 40);
    pipeline_def *d = pt_def(&w);

    runner_result r = run(&w, d, SL_OK);
    assert_int_equal(r.processed, 6);
    assert_int_equal(r.failed, 0);
    runner_result_clear(&r);
    check_tables(&w);

    /* A late folder (older than everything processed) and a newer one. */
    pt_folder_write(&w, 1699990000, 1, 30);
    pt_folder_write(&w, 1700030000, 2, 30);
    r = run(&w, d, SL_OK);
    assert_int_equal(r.processed, 2);
    /* The before checks saw one late folder and the lag of the oldest pending. */
    json_t *cb = json_object_get(r.report, "checks_before");
    assert_int_equal(json_integer_value(json_object_get(cb, "late")), 1);
    assert_int_equal(json_integer_value(json_object_get(cb, "pending")), 2);
    assert_int_equal(json_integer_value(json_object_get(cb, "newest_processed_epoch")),
                     1700000000 + 5 * 3600);
    assert_true(json_integer_value(json_object_get(cb, "lag_seconds")) > 0);
    runner_result_clear(&r);
    check_tables(&w);

    /* Nothing left: a run does nothing. */
    r = run(&w, d, SL_OK);
    assert_int_equal(r.processed, 0);
    runner_result_clear(&r);

    /* Counts reconcile per folder: read = bronze + quarantined(expectation)
     * + dropped, and over all folders they match the generator. */
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 8);
    int64_t bronze = 0, quarantined = 0, dropped = 0;
    for (size_t i = 0; i < v.n; i++) {
        assert_string_equal(v.e[i].state, "processed");
        bronze += v.e[i].rows_bronze;
        quarantined += v.e[i].rows_quarantined;
        dropped += v.e[i].rows_dropped;
        assert_non_null(v.e[i].versions);
    }
    ckpt_view_free(&v);
    assert_int_equal(bronze, (int64_t)pt_count(&w, PT_VALID));
    assert_int_equal(dropped, (int64_t)pt_count(&w, PT_DROP));
    assert_int_equal(quarantined,
                     (int64_t)(pt_count(&w, PT_QUARANTINE) + pt_count(&w, PT_MALFORMED)));
    run_step *steps;
    size_t n;
    assert_int_equal(runs_load(lake, "orders", NULL, &steps, &n, &err), SL_OK);
    size_t marks = 0;
    for (size_t i = 0; i < n; i++)
        marks += strcmp(steps[i].step, "mark") == 0 &&
                 strcmp(steps[i].state, "succeeded") == 0;
    assert_int_equal(marks, 8);
    run_steps_free(steps, n);
    store_close(lake);
    pipeline_def_free(d);
    pt_world_free(&w);
}

/* A scheduled pipeline (every 60 minutes): runs at T, T+1h and T+4h leave
 * two slots without a run, which the after-check reports and records. */
static void test_missed_scheduled_runs(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-sched", 5, "\"schedule\": {\"every_minutes\": 60}");
    pt_folder_write(&w, 1700000000, 1, 5);
    pipeline_def *d = pt_def(&w);
    assert_int_equal(d->schedule.every_ms, 3600000);
    static const int64_t at_min[] = {0, 60, 240};
    int64_t missed = -1;
    for (int i = 0; i < 3; i++) {
        char now[32];
        snprintf(now, sizeof now, "%lld",
                 (long long)(1800000000000LL + at_min[i] * 60000));
        setenv("SLUICE_FAKE_NOW_MS", now, 1);
        runner_result r = run(&w, d, SL_OK);
        missed = json_integer_value(
            json_object_get(json_object_get(r.report, "checks_after"), "missed_runs"));
        if (i < 2)
            assert_int_equal(missed, 0);
        runner_result_clear(&r);
    }
    unsetenv("SLUICE_FAKE_NOW_MS");
    assert_int_equal(missed, 2);
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    run_step *steps;
    size_t n;
    assert_int_equal(runs_load(lake, "orders", NULL, &steps, &n, &err), SL_OK);
    size_t warnings = 0;
    for (size_t i = 0; i < n; i++)
        warnings += strcmp(steps[i].step, "schedule-check") == 0 &&
                    strcmp(steps[i].state, "warning") == 0;
    assert_int_equal(warnings, 1);
    run_steps_free(steps, n);
    store_close(lake);
    pipeline_def_free(d);
    pt_world_free(&w);
}

/* The "before" check of expected counts: a marker announcing more rows than
 * the folder holds fails the folder (read for the folder the run takes);
 * a marker that agrees passes. */
static void test_marker_row_count(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-marker", 9, NULL);
    pt_folder_write(&w, 1700000000, 1, 20);
    tu_write_file(w.dir, "incoming/1700000000/_SUCCESS", "{\"rows\": 1000}");
    pipeline_def *d = pt_def(&w);
    runner_result r = run(&w, d, SL_CHECK_FAILED);
    json_t *f = json_array_get(json_object_get(r.report, "folders"), 0);
    const char *msg =
        json_string_value(json_object_get(json_object_get(f, "error"), "message"));
    assert_non_null(strstr(msg, "marker announces 1000 rows, 20 were read"));
    runner_result_clear(&r);
    pipeline_def_free(d);
    pt_world_free(&w);

    pt_world_init(&w, "pipe-marker", 9, NULL);
    pt_folder_write(&w, 1700000000, 1, 20);
    tu_write_file(w.dir, "incoming/1700000000/_SUCCESS", "{\"rows\": 20}");
    d = pt_def(&w);
    r = run(&w, d, SL_OK);
    assert_int_equal(r.processed, 1);
    runner_result_clear(&r);
    pipeline_def_free(d);
    pt_world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_to_end),
        cmocka_unit_test(test_missed_scheduled_runs),
        cmocka_unit_test(test_marker_row_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
