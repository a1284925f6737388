/* The console stays responsive while backend work runs (issue 2): a job
 * that blocks on the worker until the test releases it, the UI thread
 * driving the app meanwhile, and the screen showing that it is loading.
 * Every step is ordered by pipes (job started / job released), never by
 * sleeping: a job that ran on the UI thread is caught by its thread id,
 * a missing indicator by the screen dump. */
#include "testutil.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/ops/session.h"
#include "backend/util/buf.h"
#include "backend/util/log.h"
#include "backend/util/paths.h"
#include "tui/actions.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/theme.h"
#include "tui/view.h"
#include "tui/worker.h"

/* ---- the gate: a job that holds the worker until released ------------- */

typedef struct gate {
    pthread_t ui;     /* the thread that drives the console (this test) */
    int started[2];   /* job -> test: "I am running" */
    int release[2];   /* test -> job: "finish now" */
    int on_ui_thread; /* set (atomically) when the job ran on the UI thread */
} gate;

static void gate_init(gate *g)
{
    g->ui = pthread_self();
    assert_int_equal(pipe(g->started), 0);
    assert_int_equal(pipe(g->release), 0);
    g->on_ui_thread = 0;
}

static void gate_close(gate *g)
{
    close(g->started[0]);
    close(g->started[1]);
    close(g->release[0]);
    close(g->release[1]);
}

/* Runs inside a job. On the UI thread it must not block (that would hang
 * the test instead of failing it): it records the fact and returns 0. */
static int gate_pass(gate *g)
{
    if (pthread_equal(pthread_self(), g->ui)) {
        __atomic_store_n(&g->on_ui_thread, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    char c = 's';
    if (write(g->started[1], &c, 1) != 1)
        return 0;
    if (read(g->release[0], &c, 1) != 1)
        return 0;
    return 1;
}

/* Fails (instead of hanging) when the job already ran on the UI thread;
 * otherwise waits until the worker has picked it up. */
static void gate_wait_started(gate *g)
{
    if (__atomic_load_n(&g->on_ui_thread, __ATOMIC_SEQ_CST))
        fail_msg("the backend job ran on the UI thread (inside the post)");
    char c;
    assert_int_equal(read(g->started[0], &c, 1), 1);
}

static void gate_open(gate *g)
{
    assert_int_equal(write(g->release[1], "r", 1), 1);
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    assert_true(n >= 0);
    return n > 0 && (p.revents & POLLIN);
}

/* ---- the worker alone: the wake pipe ------------------------------------ */

typedef struct gated_job {
    tui_job base;
    gate *g;
    int passed;
} gated_job;

static void gated_run(tui_job *job, session *sess)
{
    (void)sess;
    gated_job *j = (gated_job *)job;
    j->passed = gate_pass(j->g);
}

static void plain_run(tui_job *job, session *sess)
{
    (void)sess;
    ((gated_job *)job)->passed = 1;
}

static void gated_free(tui_job *job)
{
    free(job);
}

static gated_job *gated_new(gate *g, void (*run)(tui_job *, session *), int kind)
{
    gated_job *j = sl_calloc(1, sizeof *j);
    j->base.run = run;
    j->base.free = gated_free;
    j->base.kind = kind;
    j->g = g;
    return j;
}

static void test_wake_fd_follows_finished_jobs(void **state)
{
    (void)state;
    gate g;
    gate_init(&g);
    tui_worker *w = NULL;
    sl_err err;
    assert_int_equal(worker_start(NULL, &w, &err), SL_OK);
    int fd = worker_wake_fd(w);
    assert_true(fd >= 0);
    assert_false(readable(fd));

    gated_job *held = gated_new(&g, gated_run, 1);
    worker_post(w, &held->base);
    gate_wait_started(&g);
    /* Running but not finished: busy, nothing to take, no wake-up. */
    assert_int_equal(worker_busy(w), 1);
    assert_false(readable(fd));
    assert_null(worker_take_done(w));

    gate_open(&g);
    worker_wait_idle(w);
    assert_int_equal(worker_busy(w), 0);
    assert_true(readable(fd));
    assert_true(readable(fd)); /* stays readable until the job is taken */
    tui_job *done = worker_take_done(w);
    assert_ptr_equal(done, &held->base);
    assert_null(done->next);
    assert_int_equal(held->passed, 1);
    assert_false(readable(fd));
    done->free(done);

    /* Several finished jobs: one wake-up, one take drains them all. */
    for (int i = 0; i < 3; i++)
        worker_post(w, &gated_new(&g, plain_run, 10 + i)->base);
    worker_wait_idle(w);
    assert_true(readable(fd));
    int n = 0;
    for (tui_job *j = worker_take_done(w); j;) {
        tui_job *next = j->next;
        assert_int_equal(j->kind, 10 + n);
        n++;
        j->free(j);
        j = next;
    }
    assert_int_equal(n, 3);
    assert_false(readable(fd));
    assert_null(worker_take_done(w));

    worker_stop(w);
    gate_close(&g);
}

/* ---- the whole app: a slow log replay in a drill-down view ---------------- */

static const char *const commit0 =
    "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"CREATE TABLE\","
    "\"operationParameters\":{},\"engineInfo\":\"hand-written/1.0\"}}\n"
    "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
    "{\"metaData\":{\"id\":\"0b5e-orders\",\"format\":{\"provider\":\"parquet\","
    "\"options\":{}},"
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
    "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1700000000000}}\n";

typedef struct console {
    char *dir;
    session *sess;
    tui_worker *w;
    app *a;
    gate g;
} console;

static int console_setup(void **state)
{
    console *c = sl_calloc(1, sizeof *c);
    c->dir = tu_mkdtemp("tuiworker");
    tu_write_file(c->dir, "incoming/1700000000/part-0.jsonl", "{\"id\":1}\n");
    tu_write_file(c->dir, "incoming/1700003600/part-0.jsonl", "{\"id\":2}\n");
    tu_write_file(c->dir, "lake/silver/orders/_delta_log/00000000000000000000.json",
                  commit0);
    tu_write_file(
        c->dir, "sluice.json",
        "{\"environment\": \"test\", \"source\": \"incoming\", \"lake\": \"lake\",\n"
        " \"tables\": {\"orders\": \"silver/orders\"}}\n");
    char *state_dir = paths_join(c->dir, "state");
    setenv("SLUICE_STATE_DIR", state_dir, 1);
    free(state_dir);
    setenv("SLUICE_FAKE_NOW_MS", "1700010000000", 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    char *themes = sl_asprintf("%s/themes", getenv("SLUICE_SOURCE_DIR"));
    setenv("SLUICE_THEMES_DIR", themes, 1);
    free(themes);

    sl_err err;
    char *cfg = paths_join(c->dir, "sluice.json");
    session_opts so = {.config_path = cfg, .channel = "console"};
    if (session_open(&so, &c->sess, &err) != SL_OK)
        fail_msg("session_open: %s", err.msg);
    free(cfg);
    theme th;
    if (theme_load("dark", &th, &err) != SL_OK)
        fail_msg("theme: %s", err.msg);
    assert_int_equal(crt_open_virtual(24, 80, &th, &err), SL_OK);
    assert_int_equal(worker_start(c->sess, &c->w, &err), SL_OK);
    c->a = app_new(c->sess, &th, 1, c->w);
    gate_init(&c->g);
    app_start(c->a);
    sl_err verr;
    assert_int_equal(app_command(c->a, "view folders", SRC_COMMAND, &verr), SL_OK);
    app_settle(c->a); /* the Folders listing is in before the slow job starts */
    *state = c;
    return 0;
}

static int console_teardown(void **state)
{
    console *c = *state;
    /* A test that failed with the gate shut must not hang here: open it
     * (an extra byte is harmless), then the worker finishes before the
     * views go. */
    gate_open(&c->g);
    worker_stop(c->w);
    app_free(c->a);
    crt_close();
    session_close(c->sess);
    gate_close(&c->g);
    tu_rmtree(c->dir);
    free(c->dir);
    free(c);
    unsetenv("SLUICE_THEMES_DIR");
    return 0;
}

/* The producer of the slow view: a stand-in for a long log replay. */
static sl_code slow_replay(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    (void)sess;
    (void)err;
    gate *g = arg;
    if (!gate_pass(g)) {
        buf_append_str(out, "ran without the gate\n");
        return SL_OK;
    }
    buf_append_str(out, "Replayed:\n  3 versions\n  slow replay finished\n");
    return SL_OK;
}

static char *screen(app *a)
{
    app_draw(a);
    char *d = crt_dump_text();
    assert_non_null(d);
    return d;
}

/* Line row (0-based) of a dump. Caller frees. */
static char *screen_line(const char *dump, int row)
{
    const char *p = dump;
    for (int i = 0; i < row && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    return sl_strndup(p, strcspn(p, "\n"));
}

static void expect_text(const char *dump, const char *needle, int present,
                        const char *when)
{
    if ((strstr(dump, needle) != NULL) != present) {
        fprintf(stderr, "--- screen %s\n%s---\n", when, dump);
        fail_msg("%s: '%s' should %sbe on the screen", when, needle,
                 present ? "" : "not ");
    }
}

/* The title line (row 1) says "loading…" exactly while work is pending. */
static void expect_title_loading(const char *dump, int loading, const char *when)
{
    char *title = screen_line(dump, 1);
    if ((strstr(title, "loading…") != NULL) != loading) {
        fprintf(stderr, "--- screen %s\n%s---\n", when, dump);
        fail_msg("%s: the title line '%s' should %sshow loading…", when, title,
                 loading ? "" : "not ");
    }
    free(title);
}

static void act(app *a, action_id id, const char *arg)
{
    sl_err err;
    if (app_action(a, id, arg, SRC_KEY, &err) != SL_OK)
        fail_msg("action %s: %s", actions_get(id)->name, err.msg);
}

static void test_ui_responsive_while_job_blocks(void **state)
{
    console *c = *state;
    app *a = c->a;
    int fd = worker_wake_fd(c->w);
    char *d = screen(a);
    expect_title_loading(d, 0, "after the listing settled");
    expect_text(d, "1700003600/", 1, "after the listing settled");
    free(d);

    app_push(a, view_text_new(a, "slow replay", slow_replay, &c->g, NULL));
    gate_wait_started(&c->g);

    /* The job holds the worker: nothing finished, yet the UI draws. */
    assert_int_equal(worker_busy(c->w), 1);
    assert_false(readable(fd));
    assert_int_equal(app_deliver(a), 0);
    d = screen(a);
    expect_title_loading(d, 1, "while the replay runs");
    expect_text(d, "› slow replay", 1, "while the replay runs");
    expect_text(d, "loading details…", 1, "while the replay runs");
    expect_text(d, "slow replay finished", 0, "while the replay runs");
    free(d);

    /* Keys and actions keep working: move, switch tabs (whose loads queue
     * behind the running job), open help, a `:` command back. */
    sl_err err;
    assert_int_equal(app_key(a, 'j', &err), SL_OK);
    act(a, ACT_VIEW, "tables");
    d = screen(a);
    expect_text(d, "[Tables]", 1, "switching while the replay runs");
    expect_title_loading(d, 1, "switching while the replay runs");
    expect_text(d, "loading tables…", 1, "switching while the replay runs");
    free(d);

    act(a, ACT_VIEW, "help");
    act(a, ACT_DOWN, NULL);
    d = screen(a);
    expect_text(d, "[Help]", 1, "help while the replay runs");
    expect_text(d, "Every action works as a key", 1, "help while the replay runs");
    expect_title_loading(d, 1, "help while the replay runs");
    free(d);

    assert_int_equal(app_command(a, "view folders", SRC_COMMAND, &err), SL_OK);
    d = screen(a);
    expect_text(d, "[Folders]", 1, "back on Folders");
    expect_text(d, "loading details…", 1, "back on Folders");
    expect_title_loading(d, 1, "back on Folders");
    free(d);
    /* Still the one job, still held: nothing above waited for it. */
    assert_int_equal(app_deliver(a), 0);
    assert_false(readable(fd));

    /* Release: the finish wakes the key wait, delivery shows the result. */
    gate_open(&c->g);
    worker_wait_idle(c->w);
    assert_int_equal(worker_busy(c->w), 0);
    assert_true(readable(fd));
    d = screen(a);
    expect_text(d, "loading details…", 1, "finished but not delivered");
    expect_title_loading(d, 0, "finished but not delivered");
    free(d);
    assert_true(app_deliver(a) >= 2); /* the replay and the Tables listing */
    assert_false(readable(fd));
    d = screen(a);
    expect_title_loading(d, 0, "after delivery");
    expect_text(d, "loading", 0, "after delivery");
    expect_text(d, "slow replay finished", 1, "after delivery");
    expect_text(d, "› slow replay", 1, "after delivery");
    free(d);
    act(a, ACT_TABLES, NULL);
    d = screen(a);
    expect_text(d, "orders", 1, "Tables after delivery");
    expect_text(d, "loading", 0, "Tables after delivery");
    free(d);
}

static void test_view_closed_while_job_blocks(void **state)
{
    console *c = *state;
    app *a = c->a;
    app_push(a, view_text_new(a, "slow replay", slow_replay, &c->g, NULL));
    gate_wait_started(&c->g);
    /* Esc closes the view whose job still runs. */
    sl_err err;
    assert_int_equal(app_key(a, CRT_KEY_ESC, &err), SL_OK);
    char *d = screen(a);
    expect_text(d, "› slow replay", 0, "after Esc");
    expect_text(d, "1700003600/", 1, "after Esc");
    expect_title_loading(d, 1, "after Esc");
    free(d);
    gate_open(&c->g);
    worker_wait_idle(c->w);
    /* The orphaned result is freed, not shown (ASan checks the freeing). */
    assert_int_equal(app_deliver(a), 1);
    d = screen(a);
    expect_text(d, "slow replay", 0, "after the orphan's delivery");
    expect_title_loading(d, 0, "after the orphan's delivery");
    free(d);
}

/* An interactive console (not a script) refreshes the view on screen once
 * its data is older than console.refresh_seconds (10 by default), and marks
 * data with its age while the refresh is paused (P). The clock is moved by
 * hand; app_tick is what the main loop calls every turn. */
static void test_refresh_and_stale_marks(void **state)
{
    console *c = *state;
    theme th;
    sl_err err;
    assert_int_equal(theme_load("dark", &th, &err), SL_OK);
    app *a = app_new(c->sess, &th, 0, c->w);
    app_start(a);
    assert_int_equal(app_command(a, "view folders", SRC_COMMAND, &err), SL_OK);
    app_settle(a);
    /* A reload shows as the store requests it makes (the console's command
     * ring), whatever the worker's speed. */
    log_ring *ring = log_ring_get(c->sess->log);
    assert_non_null(ring);
    uint64_t seq = log_ring_last_seq(ring);

    setenv("SLUICE_FAKE_NOW_MS", "1700010005000", 1); /* 5 s: not yet */
    app_tick(a);
    app_settle(a);
    assert_int_equal(log_ring_last_seq(ring), seq);
    setenv("SLUICE_FAKE_NOW_MS", "1700010011000", 1); /* 11 s: reloads */
    app_tick(a);
    app_settle(a);
    if (log_ring_last_seq(ring) == seq)
        fail_msg("the view was not reloaded 11 s after its load");
    seq = log_ring_last_seq(ring);

    act(a, ACT_PAUSE, NULL);
    setenv("SLUICE_FAKE_NOW_MS", "1700010311000", 1); /* 5 min on, paused */
    app_tick(a);
    app_settle(a);
    assert_int_equal(log_ring_last_seq(ring), seq);
    char *d = screen(a);
    char *title = screen_line(d, 1);
    if (!strstr(title, "paused · data 5m ago"))
        fail_msg("the title does not mark the paused data's age: '%s'", title);
    free(title);
    free(d);
    act(a, ACT_PAUSE, NULL); /* resumed: old data reloads at once */
    app_tick(a);
    app_settle(a);
    if (log_ring_last_seq(ring) == seq)
        fail_msg("the view was not reloaded when the refresh resumed");
    d = screen(a);
    title = screen_line(d, 1);
    if (strstr(title, "data "))
        fail_msg("fresh data is still marked stale: '%s'", title);
    free(title);
    free(d);
    app_free(a);
    setenv("SLUICE_FAKE_NOW_MS", "1700010000000", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wake_fd_follows_finished_jobs),
        cmocka_unit_test_setup_teardown(test_ui_responsive_while_job_blocks,
                                        console_setup, console_teardown),
        cmocka_unit_test_setup_teardown(test_refresh_and_stale_marks, console_setup,
                                        console_teardown),
        cmocka_unit_test_setup_teardown(test_view_closed_while_job_blocks, console_setup,
                                        console_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
