/* Exactly once: the runner killed at 100 chosen moments spread over every
 * step (the n-th store operation of the lake, before or after it is carried
 * out), each time followed by a normal run: silver, gold, quarantine and
 * the checkpoint always end as an uninterrupted run leaves them, bronze
 * holds every valid row exactly once, and every table replays. */
#include "crashstore.h"
#include "pipetest.h"
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

#define TRIALS 100

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
}

/* Runs the pipeline of world dir `dir` with the lake wrapped to crash at
 * lake op at_op (0: never); returns the lake ops counted. */
static uint64_t run_with_crash(const char *dir, uint64_t at_op, int after, sl_code *code)
{
    pt_world w = {0};
    w.dir = (char *)dir;
    w.config = paths_join(dir, "sluice.json");
    pipeline_def *d = pt_def(&w);
    free(w.config);
    store *lake_inner = NULL, *lake = NULL, *src = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(d->lake_url, &lake_inner, &err), SL_OK);
    assert_int_equal(store_open(d->source.url, &src, &err), SL_OK);
    assert_int_equal(crashstore_wrap(lake_inner, at_op, after, &lake, &err), SL_OK);
    runner_opts o = {.operator_name = "crash",
                     .lake = lake,
                     .source = src,
                     .sleep_ms = no_sleep,
                     .lease_ttl_ms = 1000};
    runner_result r;
    *code = runner_run(d, &o, &r, &err);
    uint64_t ops = crashstore_ops(lake);
    runner_result_clear(&r);
    store_close(lake);
    store_close(src);
    pipeline_def_free(d);
    return ops;
}

static void copy_tree(const char *from, const char *to)
{
    char *cmd = sl_asprintf("rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
}

static void expect_same(const char *what, char *want, char *got, int trial, uint64_t at)
{
    if (strcmp(want, got) != 0) {
        /* The whole texts do not fit a cmocka message: show the diff. */
        tu_write_file("/tmp", "sluice-crash-want.txt", want);
        tu_write_file("/tmp", "sluice-crash-got.txt", got);
        char *out = NULL;
        tu_run("diff /tmp/sluice-crash-want.txt /tmp/sluice-crash-got.txt", &out);
        fprintf(stderr, "%s", out ? out : "");
        free(out);
        fail_msg("trial %d (crash at lake op %llu): %s differs (diff above)", trial,
                 (unsigned long long)at, what);
    }
    free(want);
    free(got);
}

/* How many runs rows name table@version among their commits. */
static int claims(const run_step *rows, size_t n, const char *table, int64_t version)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *d = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
        json_t *v = json_object_get(json_object_get(d, "commits"), table);
        k += json_is_integer(v) && json_integer_value(v) == version;
        size_t j;
        json_t *e;
        json_array_foreach(v, j, e) k += json_integer_value(e) == version;
        json_decref(d);
    }
    return k;
}

/* Every commit a step made (it carries a txn of the pipeline) is named by
 * exactly one runs row, whichever run made it: so rollback-run can undo
 * what a killed run committed, and never undoes a commit twice. */
static void expect_commits_attributed(store *lake, int trial, uint64_t at)
{
    static const char *const tables[] = {"orders_raw", "orders_raw_quarantine", "orders",
                                         "_sluice/tombstones/orders", "orders_by_day"};
    run_step *rows = NULL;
    size_t n = 0;
    sl_err err = {0};
    assert_int_equal(runs_load(lake, "orders", NULL, &rows, &n, &err), SL_OK);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        delta_at latest = {.kind = DELTA_AT_LATEST};
        delta_snapshot *snap = NULL;
        if (delta_snapshot_open(lake, tables[t], &latest, &snap, &err) != SL_OK)
            continue; /* e.g. no tombstones table when nothing was deleted */
        int64_t last = snap->version;
        delta_snapshot_free(snap);
        for (int64_t v = 0; v <= last; v++) {
            json_t *actions = NULL;
            assert_int_equal(delta_commit_read(lake, tables[t], v, &actions, &err),
                             SL_OK);
            int ours = 0;
            size_t i;
            json_t *a;
            json_array_foreach(actions, i, a)
            {
                const char *app = json_string_value(
                    json_object_get(json_object_get(a, "txn"), "appId"));
                ours |= app && strncmp(app, "sluice:orders:", 14) == 0;
            }
            json_decref(actions);
            int k = claims(rows, n, tables[t], v);
            if (ours && k != 1)
                fail_msg("trial %d (crash at lake op %llu): %s@%lld is named by %d runs "
                         "rows",
                         trial, (unsigned long long)at, tables[t], (long long)v, k);
        }
    }
    run_steps_free(rows, n);
}

static void test_crash_anywhere(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-crash", 99,
                  "\"retries\": {\"max_attempts\": 2, \"backoff_seconds\": 0}");
    for (int i = 0; i < 3; i++)
        pt_folder_write(&w, 1700000000 + i * 3600, 2, 15);
    char *template_dir = sl_asprintf("%s-template", w.dir);
    copy_tree(w.dir, template_dir);

    /* How many lake operations an uninterrupted run makes. */
    sl_code c;
    uint64_t total = run_with_crash(w.dir, 0, 0, &c);
    assert_int_equal(c, SL_OK);
    assert_true(total > 50);
    char *silver = pt_actual_silver(&w), *gold = pt_actual_gold(&w),
         *quar = pt_actual_quarantine(&w);
    expect_same("silver (reference)", pt_expected_silver(&w), sl_strdup(silver), -1, 0);

    uint64_t rng = 12345;
    int crashed = 0;
    for (int t = 0; t < TRIALS; t++) {
        copy_tree(template_dir, w.dir);
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t at = 1 + (rng >> 33) % total;
        int after = t % 2;
        /* Debugging one trial: SLUICE_CRASH_ONLY=N (with SLUICE_CRASH_TRACE=1). */
        const char *only = getenv("SLUICE_CRASH_ONLY");
        if (only && atoi(only) != t)
            continue;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sl_code cc;
            run_with_crash(w.dir, at, after, &cc);
            _exit(cc == SL_OK ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        crashed += WEXITSTATUS(st) == CRASH_EXIT;
        /* The dead runner's lease (ttl 1 s) has expired for the next one. */
        char later[32];
        snprintf(later, sizeof later, "%lld", (long long)(time_now_ms() + 5000));
        setenv("SLUICE_FAKE_NOW_MS", later, 1);
        uint64_t ops = run_with_crash(w.dir, 0, 0, &c);
        unsetenv("SLUICE_FAKE_NOW_MS");
        (void)ops;
        if (c != SL_OK)
            fail_msg(
                "trial %d (crash at lake op %llu%s): the recovery run failed with %s", t,
                (unsigned long long)at, after ? " after" : "", err_code_name(c));
        expect_same("silver", sl_strdup(silver), pt_actual_silver(&w), t, at);
        expect_same("gold", sl_strdup(gold), pt_actual_gold(&w), t, at);
        expect_same("quarantine", sl_strdup(quar), pt_actual_quarantine(&w), t, at);
        store *lake = NULL;
        sl_err err = {0};
        assert_int_equal(store_open(w.lake, &lake, &err), SL_OK);
        ckpt_view v;
        assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
        assert_int_equal(v.n, 3);
        int64_t bronze = 0;
        for (size_t i = 0; i < v.n; i++) {
            if (strcmp(v.e[i].state, "processed") != 0)
                fail_msg("trial %d: folder %s is %s", t, v.e[i].folder, v.e[i].state);
            if (v.e[i].rows_bronze >= 0)
                bronze += v.e[i].rows_bronze;
        }
        ckpt_view_free(&v);
        /* Bronze holds each valid row once: its snapshot's row count. */
        delta_at latest = {.kind = DELTA_AT_LATEST};
        delta_snapshot *snap = NULL;
        assert_int_equal(delta_snapshot_open(lake, "orders_raw", &latest, &snap, &err),
                         SL_OK);
        if (snap->num_rows != (int64_t)pt_count(&w, PT_VALID))
            fail_msg("trial %d (crash at %llu): bronze has %lld rows, %zu expected", t,
                     (unsigned long long)at, (long long)snap->num_rows,
                     pt_count(&w, PT_VALID));
        delta_snapshot_free(snap);
        expect_commits_attributed(lake, t, at);
        store_close(lake);
    }
    printf("%d of %d trials crashed mid-run (the rest crashed after the run's last "
           "lake op or not at all)\n",
           crashed, TRIALS);
    assert_true(getenv("SLUICE_CRASH_ONLY") || crashed >= TRIALS * 9 / 10);
    free(silver);
    free(gold);
    free(quar);
    tu_rmtree(template_dir);
    free(template_dir);
    pt_world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
