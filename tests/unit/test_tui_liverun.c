/* The live run and the Run view: a run started through the console's live
 * run (tui/liverun.c; pipeact, which starts it from Folders, belongs to
 * another part) on its own thread, the Run view dumped at 80x24 and 132x43
 * once it has finished (pinned clock, the run id masked), the log paused
 * and followed again; a cancel asked at a chosen boundary (an observer on
 * the run thread, no timing) stops the run resumable and audited as
 * failed with SL-RUN-CANCELLED, and the next run completes exactly; a
 * second start while one runs is refused. */
#include "pipetest.h"
#include "testutil.h"
#include "tuitest.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "backend/ops/session.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/liverun.h"
#include "tui/theme.h"
#include "tui/worker.h"

#define FAKE_NOW "1700010000000"
#define RUN_ID_MASK "RUNID-MASKED-ID!"

/* The console in this process, without a terminal (as `sluice tui
 * --script` sets it up), so the test can start runs through liverun. */
typedef struct harness {
    pt_world w;
    session *sess;
    tui_worker *worker;
    app *a;
    theme th;
} harness;

static void world_open(harness *h, const char *tag)
{
    memset(h, 0, sizeof *h);
    pt_world_init(&h->w, tag, 21, NULL);
    for (int i = 0; i < 3; i++)
        pt_folder_write(&h->w, 1700000000 + i * 3600, 2, 12);
    char *state = paths_join(h->w.dir, "state");
    setenv("SLUICE_STATE_DIR", state, 1);
    free(state);
    setenv("SLUICE_FAKE_NOW_MS", FAKE_NOW, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    session_opts so = {.config_path = h->w.config, .channel = "console"};
    sl_err err = {0};
    assert_int_equal(session_open(&so, &h->sess, &err), SL_OK);
    assert_int_equal(theme_load("dark", &h->th, &err), SL_OK);
    assert_int_equal(crt_open_virtual(24, 80, &h->th, &err), SL_OK);
    assert_int_equal(worker_start(h->sess, &h->worker, &err), SL_OK);
    h->a = app_new(h->sess, &h->th, 1, h->worker);
    app_start(h->a);
}

static void world_close(harness *h)
{
    worker_stop(h->worker);
    app_free(h->a);
    crt_close();
    session_close(h->sess);
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(h->w.dir);
    pt_world_free(&h->w);
}

static void cmd(harness *h, const char *line)
{
    sl_err err = {0};
    sl_code c = app_command(h->a, line, SRC_SCRIPT, &err);
    if (c != SL_OK)
        fail_msg("%s: %s %s", line, err_code_name(c), err.msg);
}

/* Writes the screen to dir/name with the run id masked, then compares. */
static void dump_expect(harness *h, const char *name, int rows, int cols,
                        const char *run_id)
{
    crt_resize(rows, cols);
    char *path = paths_join(h->w.dir, name);
    char *line = sl_asprintf("dump %s", path);
    cmd(h, line);
    free(line);
    char *text = tu_read_file(path);
    assert_non_null(text);
    size_t n = strlen(run_id);
    assert_true(n == 0 || n == strlen(RUN_ID_MASK));
    for (char *p = n ? strstr(text, run_id) : NULL; p; p = strstr(p + n, run_id))
        memcpy(p, RUN_ID_MASK, n);
    tu_write_file(h->w.dir, name, text);
    free(text);
    free(path);
    tt_expect_dump(h->w.dir, name, rows);
}

static char *screen(harness *h)
{
    app_draw(h->a);
    return crt_dump_text();
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" not on the screen:\n%s", needle, text);
}

static sl_code start_run(harness *h, sl_err *err)
{
    json_t *params = json_pack("{s:s}", "pipeline", "orders");
    ops_request req;
    memset(&req, 0, sizeof req);
    req.target = "orders";
    req.params = params;
    sl_code c = liverun_start(app_liverun(h->a), "run", &req, err);
    json_decref(params); /* liverun copied it */
    return c;
}

/* The audit rows of action "run", oldest first. */
static audit_event *run_events(harness *h, size_t *n)
{
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.action = "run";
    audit_event *evs = NULL;
    sl_err err = {0};
    assert_int_equal(audit_query(h->sess->audit, &f, &evs, n, &err), SL_OK);
    return evs;
}

static void test_run_view_after_completion(void **state)
{
    (void)state;
    harness h;
    world_open(&h, "liverun-view");
    cmd(&h, "view help");
    cmd(&h, "live");
    cmd(&h, "wait"); /* the tabs' own loads, so the title bar is settled */
    dump_expect(&h, "liverun-empty-80x24.txt", 24, 80, "");

    sl_err err = {0};
    assert_int_equal(start_run(&h, &err), SL_OK);
    cmd(&h, "wait"); /* settles the live run too */
    assert_int_equal(liverun_active(app_liverun(h.a)), 0);
    liverun_view lv;
    liverun_snapshot(app_liverun(h.a), &lv);
    assert_string_equal(lv.state, "succeeded");
    assert_int_equal(lv.code, SL_OK);
    assert_int_equal(lv.folders_done, 3);
    assert_int_equal(lv.nsteps, 9);
    for (size_t i = 0; i < lv.nsteps; i++) {
        assert_string_equal(lv.steps[i].state, "succeeded");
        assert_int_equal(lv.steps[i].attempt, 1);
    }
    /* ingest's progress reached the folder's bytes */
    assert_string_equal(lv.steps[0].step, "ingest");
    assert_true(lv.steps[0].bytes_total > 0);
    assert_int_equal(lv.steps[0].bytes, lv.steps[0].bytes_total);
    assert_int_equal(strlen(lv.run_id), strlen(RUN_ID_MASK));
    char run_id[40];
    snprintf(run_id, sizeof run_id, "%s", lv.run_id);
    liverun_view_free(&lv);

    dump_expect(&h, "liverun-done-80x24.txt", 24, 80, run_id);
    dump_expect(&h, "liverun-done-132x43.txt", 43, 132, run_id);

    /* k pauses the log (shown), F follows again */
    crt_resize(24, 80);
    free(screen(&h)); /* laid out at this size before the key, as on a terminal */
    cmd(&h, "key k");
    char *s = screen(&h);
    expect_in(s, "paused — F follows (1 more below)");
    free(s);
    dump_expect(&h, "liverun-paused-80x24.txt", 24, 80, run_id);
    cmd(&h, "key F");
    s = screen(&h);
    expect_in(s, "Log · following");
    free(s);

    /* the data and the audit: requested -> succeeded, tables exact */
    size_t n = 0;
    audit_event *evs = run_events(&h, &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].phase, "requested");
    assert_string_equal(evs[1].phase, "succeeded");
    assert_string_equal(evs[1].operator_name, "tester");
    expect_in(evs[1].after_state, run_id);
    audit_events_free(evs, n);
    char *want = pt_expected_silver(&h.w), *got = pt_actual_silver(&h.w);
    assert_string_equal(got, want);
    free(want);
    free(got);
    world_close(&h);
}

typedef struct stopper {
    liverun *lr;
    int fired;
} stopper;

/* On the run thread: stop once folder 1's merge has finished. */
static void stop_after_merge(void *ctx, const struct runner_event *ev)
{
    stopper *s = ctx;
    if (ev->kind == RUNNER_EV_STEP_FINISHED && strcmp(ev->step, "merge") == 0 &&
        strcmp(ev->folder, "1700000000") == 0 && !s->fired) {
        s->fired = 1;
        liverun_cancel(s->lr);
    }
}

static void test_cancel_in_the_middle(void **state)
{
    (void)state;
    harness h;
    world_open(&h, "liverun-cancel");
    cmd(&h, "view help");
    cmd(&h, "live");
    liverun *lr = app_liverun(h.a);
    stopper st = {lr, 0};
    liverun_set_observer(lr, stop_after_merge, &st);
    sl_err err = {0};
    assert_int_equal(start_run(&h, &err), SL_OK);
    cmd(&h, "wait");
    liverun_set_observer(lr, NULL, NULL);
    assert_int_equal(st.fired, 1);

    /* the wake pipe said so, and a snapshot drains it */
    int fd = liverun_wake_fd(lr);
    assert_true(fd >= 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 1);
    liverun_view lv;
    liverun_snapshot(lr, &lv);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_string_equal(lv.state, "cancelled");
    assert_int_equal(lv.code, SL_RUN_CANCELLED);
    assert_int_equal(lv.cancelling, 0);
    assert_int_equal(lv.folders_done, 0);
    assert_int_equal(lv.nsteps, 3);
    assert_string_equal(lv.steps[1].step, "merge");
    assert_string_equal(lv.steps[1].state, "succeeded");
    assert_string_equal(lv.steps[2].step, "aggregate");
    assert_string_equal(lv.steps[2].state, "cancelled");
    assert_string_equal(lv.steps[2].error_code, "SL-RUN-CANCELLED");
    int asked = 0;
    for (size_t i = 0; i < lv.nlog; i++)
        asked |= strstr(lv.log[i], "cancel asked") != NULL;
    assert_true(asked);
    char run_id[40];
    snprintf(run_id, sizeof run_id, "%s", lv.run_id);
    liverun_view_free(&lv);
    dump_expect(&h, "liverun-cancelled-80x24.txt", 24, 80, run_id);

    /* folder 1 stays running (resumable), never processed half-done */
    store *lake = NULL;
    assert_int_equal(store_open(h.w.lake, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.e[0].state, "running");
    int64_t batch = v.e[0].batch_id;
    ckpt_view_free(&v);

    /* audited as failed with the cancel code */
    size_t n = 0;
    audit_event *evs = run_events(&h, &n);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].phase, "failed");
    assert_string_equal(evs[1].error_code, "SL-RUN-CANCELLED");
    audit_events_free(evs, n);

    /* the next run resumes folder 1 with its batch and completes exactly */
    assert_int_equal(start_run(&h, &err), SL_OK);
    cmd(&h, "wait");
    liverun_snapshot(lr, &lv);
    assert_string_equal(lv.state, "succeeded");
    assert_int_equal(lv.folders_done, 3);
    assert_string_equal(lv.steps[0].step, "ingest");
    assert_string_equal(lv.steps[0].state, "skipped"); /* already in bronze */
    liverun_view_free(&lv);
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 3);
    for (size_t i = 0; i < v.n; i++)
        assert_string_equal(v.e[i].state, "processed");
    assert_int_equal(ckpt_find(&v, "1700000000")->batch_id, batch);
    ckpt_view_free(&v);
    store_close(lake);
    char *want = pt_expected_silver(&h.w), *got = pt_actual_silver(&h.w);
    assert_string_equal(got, want);
    free(want);
    free(got);
    want = pt_expected_gold(&h.w);
    got = pt_actual_gold(&h.w);
    assert_string_equal(got, want);
    free(want);
    free(got);
    world_close(&h);
}

/* Holds the run thread at its first event until the test opens it. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, open;
} gate;

static void wait_bounded(gate *g, int *flag)
{
    /* the bound only keeps a broken build from hanging the suite */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 120;
    while (!*flag)
        if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT)
            break;
}

static void gate_observer(void *ctx, const struct runner_event *ev)
{
    (void)ev;
    gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    if (!g->arrived) {
        g->arrived = 1;
        pthread_cond_broadcast(&g->cv);
        wait_bounded(g, &g->open);
    }
    pthread_mutex_unlock(&g->mu);
}

static void test_one_run_at_a_time(void **state)
{
    (void)state;
    harness h;
    world_open(&h, "liverun-busy");
    liverun *lr = app_liverun(h.a);
    gate g = {.arrived = 0, .open = 0};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    liverun_set_observer(lr, gate_observer, &g);
    sl_err err = {0};
    assert_int_equal(liverun_start(lr, "optimize", NULL, &err), SL_USAGE);
    assert_int_equal(start_run(&h, &err), SL_OK);
    pthread_mutex_lock(&g.mu);
    wait_bounded(&g, &g.arrived);
    int arrived = g.arrived;
    pthread_mutex_unlock(&g.mu);
    assert_true(arrived);
    assert_int_equal(liverun_active(lr), 1);
    err_clear(&err);
    assert_int_equal(start_run(&h, &err), SL_USAGE);
    expect_in(err.msg, "already in progress");
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    liverun_wait(lr);
    liverun_set_observer(lr, NULL, NULL);
    assert_int_equal(liverun_active(lr), 0);
    liverun_view lv;
    liverun_snapshot(lr, &lv);
    assert_string_equal(lv.state, "succeeded");
    liverun_view_free(&lv);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    world_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_view_after_completion),
        cmocka_unit_test(test_cancel_in_the_middle),
        cmocka_unit_test(test_one_run_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
