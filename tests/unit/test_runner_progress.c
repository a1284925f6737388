/* The runner's progress events and its cancel flag: a 3-folder run reports
 * every folder and step in order, with ingest's bytes as it reads; a
 * cancel asked after folder 1's merge stops the run before its aggregate,
 * leaves folder 1 running (resumable, same batch) with bronze and silver
 * holding its batch and gold nothing, and the next run completes exactly. */
#include "pipetest.h"
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/cancel.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
}

/* What the callback saw: the folder/step events as one line each, the
 * progress of ingest, and the log lines. */
typedef struct seen {
    sl_buf trace;
    size_t progress;      /* STEP_PROGRESS events */
    int64_t last_bytes;   /* bytes of the last progress of the current ingest */
    int progress_ordered; /* bytes never went down within an attempt */
    int64_t ingest_total; /* bytes_total announced at ingest's start */
    int64_t ingest_done;  /* bytes reported when ingest finished */
    int totals_match;     /* every ingest finished with bytes == bytes_total */
    size_t lines;         /* events with a log line */
    atomic_int *cancel;   /* set after the merge of cancel_folder */
    const char *cancel_folder;
    const char *lake_cancel_url; /* set: after folder 1700000000 finishes, another
                                  * "process" asks through the lake (cancel.h) */
    int lake_cancel_rc;
} seen;

static void on_event(void *ctx, const runner_event *ev)
{
    seen *s = ctx;
    assert_non_null(ev->run_id);
    if (ev->line)
        s->lines++;
    switch (ev->kind) {
    case RUNNER_EV_LOG:
        assert_non_null(ev->line);
        return;
    case RUNNER_EV_FOLDER_STARTED:
        buf_appendf(&s->trace, "folder %s start files=%lld\n", ev->folder,
                    (long long)ev->files_total);
        return;
    case RUNNER_EV_STEP_STARTED:
        buf_appendf(&s->trace, "  %s %s #%d\n", ev->folder, ev->step, ev->attempt);
        if (strcmp(ev->step, "ingest") == 0) {
            s->ingest_total = ev->bytes_total;
            s->last_bytes = 0;
        }
        return;
    case RUNNER_EV_STEP_PROGRESS:
        s->progress++;
        assert_string_equal(ev->step, "ingest");
        if (ev->bytes < s->last_bytes)
            s->progress_ordered = 0;
        s->last_bytes = ev->bytes;
        return;
    case RUNNER_EV_STEP_FINISHED:
        buf_appendf(&s->trace, "  %s %s %s\n", ev->folder, ev->step, ev->state);
        if (strcmp(ev->step, "ingest") == 0 && strcmp(ev->state, "succeeded") == 0) {
            s->ingest_done = ev->bytes;
            if (ev->bytes != s->ingest_total || ev->bytes <= 0)
                s->totals_match = 0;
        }
        if (s->cancel && strcmp(ev->step, "merge") == 0 &&
            strcmp(ev->folder, s->cancel_folder) == 0)
            atomic_store(s->cancel, 1);
        return;
    case RUNNER_EV_FOLDER_FINISHED:
        buf_appendf(&s->trace, "folder %s %s\n", ev->folder, ev->state);
        if (s->lake_cancel_url && strcmp(ev->folder, "1700000000") == 0) {
            store *other = NULL;
            sl_err e = {0};
            assert_int_equal(store_open(s->lake_cancel_url, &other, &e), SL_OK);
            s->lake_cancel_rc = cancel_request(other, "orders", "oncall", "stop it",
                                               time_now_ms(), NULL, &e);
            store_close(other);
        }
        return;
    }
    fail_msg("unknown event kind %d", (int)ev->kind);
}

static void seen_init(seen *s)
{
    memset(s, 0, sizeof *s);
    s->progress_ordered = 1;
    s->totals_match = 1;
}

static void world_make(pt_world *w, const char *tag)
{
    pt_world_init(w, tag, 11, NULL);
    for (int i = 0; i < 3; i++)
        pt_folder_write(w, 1700000000 + i * 3600, 2, 12);
}

static sl_code run_once(pipeline_def *d, seen *s, const atomic_int *cancel,
                        runner_result *r, sl_err *err)
{
    runner_opts o = {.operator_name = "tester",
                     .sleep_ms = no_sleep,
                     .seed = 3,
                     .progress = s ? on_event : NULL,
                     .progress_ctx = s,
                     .cancel = cancel};
    return runner_run(d, &o, r, err);
}

static void test_events_in_order(void **state)
{
    (void)state;
    pt_world w;
    world_make(&w, "prog-order");
    pipeline_def *d = pt_def(&w);
    seen s;
    seen_init(&s);
    runner_result r;
    sl_err err = {0};
    sl_code c = run_once(d, &s, NULL, &r, &err);
    if (c != SL_OK)
        fail_msg("run: %s %s", err_code_name(c), err.msg);
    assert_int_equal(r.processed, 3);
    assert_int_equal(r.cancelled, 0);
    const char *want = "folder 1700000000 start files=2\n"
                       "  1700000000 ingest #1\n"
                       "  1700000000 ingest succeeded\n"
                       "  1700000000 merge #1\n"
                       "  1700000000 merge succeeded\n"
                       "  1700000000 aggregate #1\n"
                       "  1700000000 aggregate succeeded\n"
                       "folder 1700000000 processed\n"
                       "folder 1700003600 start files=2\n"
                       "  1700003600 ingest #1\n"
                       "  1700003600 ingest succeeded\n"
                       "  1700003600 merge #1\n"
                       "  1700003600 merge succeeded\n"
                       "  1700003600 aggregate #1\n"
                       "  1700003600 aggregate succeeded\n"
                       "folder 1700003600 processed\n"
                       "folder 1700007200 start files=2\n"
                       "  1700007200 ingest #1\n"
                       "  1700007200 ingest succeeded\n"
                       "  1700007200 merge #1\n"
                       "  1700007200 merge succeeded\n"
                       "  1700007200 aggregate #1\n"
                       "  1700007200 aggregate succeeded\n"
                       "folder 1700007200 processed\n";
    assert_string_equal(s.trace.data, want);
    /* ingest reported its reads: at least one per file, growing, ending at
     * the folder's bytes */
    assert_true(s.progress >= 6);
    assert_true(s.progress_ordered);
    assert_true(s.totals_match);
    assert_true(s.ingest_done > 0);
    /* a line per folder/step event plus the run's own lines */
    assert_true(s.lines >= 24 + 2);
    runner_result_clear(&r);

    /* without a callback nothing changes: a second run finds nothing */
    c = run_once(d, NULL, NULL, &r, &err);
    assert_int_equal(c, SL_OK);
    assert_int_equal(r.processed, 0);
    runner_result_clear(&r);
    buf_free(&s.trace);
    pipeline_def_free(d);
    pt_world_free(&w);
}

static int64_t txn_of(const char *lake_dir, const char *table, const char *app)
{
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(lake_dir, &lake, &err), SL_OK);
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(lake, table, &latest, &snap, &err);
    int64_t out = -1;
    if (c == SL_OK) {
        json_t *v = json_object_get(json_object_get(snap->txns, app), "version");
        out = json_is_integer(v) ? json_integer_value(v) : -1;
    } else if (c != SL_DELTA_NOT_A_TABLE) {
        fail_msg("table %s: %s %s", table, err_code_name(c), err.msg);
    }
    delta_snapshot_free(snap);
    store_close(lake);
    return out;
}

static void test_cancel_after_merge(void **state)
{
    (void)state;
    pt_world w;
    world_make(&w, "prog-cancel");
    pipeline_def *d = pt_def(&w);
    atomic_int cancel;
    atomic_init(&cancel, 0);
    seen s;
    seen_init(&s);
    s.cancel = &cancel;
    s.cancel_folder = "1700000000";
    runner_result r;
    sl_err err = {0};
    sl_code c = run_once(d, &s, &cancel, &r, &err);
    assert_int_equal(c, SL_RUN_CANCELLED);
    assert_int_equal(r.cancelled, 1);
    assert_int_equal(r.failed, 0);
    if (r.processed != 0)
        fail_msg("processed %zu: %s", r.processed, s.trace.data);
    if (!strstr(err.msg, "before aggregate of folder 1700000000"))
        fail_msg("message: %s", err.msg);
    assert_true(json_is_true(json_object_get(r.report, "cancelled")));
    char run_id[40];
    snprintf(run_id, sizeof run_id, "%s", r.run_id);
    runner_result_clear(&r);
    const char *want = "folder 1700000000 start files=2\n"
                       "  1700000000 ingest #1\n"
                       "  1700000000 ingest succeeded\n"
                       "  1700000000 merge #1\n"
                       "  1700000000 merge succeeded\n"
                       "  1700000000 aggregate cancelled\n"
                       "folder 1700000000 running\n";
    assert_string_equal(s.trace.data, want);

    /* the tables hold folder 1's ingest and merge only */
    store *lake = NULL;
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.e[0].folder, "1700000000");
    assert_string_equal(v.e[0].state, "running");
    int64_t batch = v.e[0].batch_id;
    assert_true(batch >= 0);
    ckpt_view_free(&v);
    assert_int_equal(txn_of(w.lake, "orders_raw", "sluice:orders:bronze"), batch);
    assert_int_equal(txn_of(w.lake, "orders", "sluice:orders:silver"), batch);
    assert_int_equal(txn_of(w.lake, "orders_by_day", "sluice:orders:gold"), -1);

    /* the step not started has its runs row */
    run_step *rows = NULL;
    size_t n = 0;
    assert_int_equal(runs_load(lake, "orders", run_id, &rows, &n, &err), SL_OK);
    int cancelled_rows = 0, aggregate_rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].step, "aggregate") != 0)
            continue;
        aggregate_rows++;
        if (strcmp(rows[i].state, "cancelled") == 0 && rows[i].batch_id == batch &&
            rows[i].error_code && strcmp(rows[i].error_code, "SL-RUN-CANCELLED") == 0)
            cancelled_rows++;
    }
    assert_int_equal(aggregate_rows, 1);
    assert_int_equal(cancelled_rows, 1);
    run_steps_free(rows, n);
    store_close(lake);

    /* a normal run resumes folder 1 (same batch) and completes exactly */
    c = run_once(d, NULL, NULL, &r, &err);
    if (c != SL_OK)
        fail_msg("resume: %s %s", err_code_name(c), err.msg);
    assert_int_equal(r.processed, 3);
    assert_int_equal(r.recovered, 1);
    runner_result_clear(&r);
    char *want_s = pt_expected_silver(&w), *got_s = pt_actual_silver(&w);
    assert_string_equal(got_s, want_s);
    free(want_s);
    free(got_s);
    char *want_g = pt_expected_gold(&w), *got_g = pt_actual_gold(&w);
    assert_string_equal(got_g, want_g);
    free(want_g);
    free(got_g);
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 3);
    for (size_t i = 0; i < v.n; i++)
        assert_string_equal(v.e[i].state, "processed");
    assert_int_equal(ckpt_find(&v, "1700000000")->batch_id, batch);
    ckpt_view_free(&v);
    store_close(lake);
    buf_free(&s.trace);
    pipeline_def_free(d);
    pt_world_free(&w);
}

/* A cancel between folders: folder 1 completes, folder 2 never starts. */
/* `sluice cancel` from another process: the request in the lake stops the
 * run at its next boundary as the console's flag does, and is gone after. */
static void test_cancel_from_the_lake(void **state)
{
    (void)state;
    pt_world w;
    world_make(&w, "prog-lakecancel");
    pipeline_def *d = pt_def(&w);
    seen s;
    seen_init(&s);
    s.lake_cancel_url = w.lake;
    s.lake_cancel_rc = -1;
    runner_result r;
    sl_err err = {0};
    sl_code c = run_once(d, &s, NULL, &r, &err);
    assert_int_equal(s.lake_cancel_rc, SL_OK);
    assert_int_equal(c, SL_RUN_CANCELLED);
    assert_int_equal(r.cancelled, 1);
    assert_int_equal(r.processed, 1);
    runner_result_clear(&r);
    if (strstr(s.trace.data, "folder 1700003600 start"))
        fail_msg("the run went on past the request:\n%s", s.trace.data);
    store *lake = NULL;
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    sl_buf b = {0};
    assert_int_equal(store_get(lake, "_sluice/cancel/orders", &b, &err),
                     SL_STORE_NOT_FOUND);
    store_close(lake);
    /* the next run is not stopped by it and completes exactly */
    c = run_once(d, NULL, NULL, &r, &err);
    if (c != SL_OK)
        fail_msg("next run: %s %s", err_code_name(c), err.msg);
    assert_int_equal(r.processed, 2);
    runner_result_clear(&r);
    char *want_s = pt_expected_silver(&w), *got_s = pt_actual_silver(&w);
    assert_string_equal(got_s, want_s);
    free(want_s);
    free(got_s);
    buf_free(&s.trace);
    pipeline_def_free(d);
    pt_world_free(&w);
}

static void test_cancel_between_folders(void **state)
{
    (void)state;
    pt_world w;
    world_make(&w, "prog-between");
    pipeline_def *d = pt_def(&w);
    atomic_int cancel;
    atomic_init(&cancel, 0);
    seen s;
    seen_init(&s);
    runner_result r;
    sl_err err = {0};
    /* asked to stop before the first folder starts */
    atomic_store(&cancel, 1);
    sl_code c = run_once(d, &s, &cancel, &r, &err);
    assert_int_equal(c, SL_RUN_CANCELLED);
    assert_int_equal(r.processed, 0);
    runner_result_clear(&r);
    assert_string_equal(s.trace.data, "  1700000000 ingest cancelled\n");
    store *lake = NULL;
    assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 0); /* nothing started: every folder still pending */
    ckpt_view_free(&v);
    store_close(lake);
    assert_int_equal(txn_of(w.lake, "orders_raw", "sluice:orders:bronze"), -1);
    c = run_once(d, NULL, NULL, &r, &err);
    assert_int_equal(c, SL_OK);
    assert_int_equal(r.processed, 3);
    runner_result_clear(&r);
    char *want_s = pt_expected_silver(&w), *got_s = pt_actual_silver(&w);
    assert_string_equal(got_s, want_s);
    free(want_s);
    free(got_s);
    buf_free(&s.trace);
    pipeline_def_free(d);
    pt_world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_in_order),
        cmocka_unit_test(test_cancel_after_merge),
        cmocka_unit_test(test_cancel_between_folders),
        cmocka_unit_test(test_cancel_from_the_lake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
