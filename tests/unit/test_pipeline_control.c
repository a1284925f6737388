/* Execution control: a store failing 10% of its calls (timeouts, 5xx,
 * torn writes, and writes that landed but were reported failed) makes runs
 * complete through retries or fail cleanly — never a partial commit or a
 * half-marked folder — and a clean run afterwards ends exactly right; two
 * runners started on one pipeline at once: one runs, the other reports the
 * lease holder and exits with code 3. */
#include "crashstore.h"
#include "pipetest.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner.h"
#include "backend/store/store_fault.h"
#include "backend/util/buf.h"

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
}

static int64_t txn_of(store *lake, const char *table, const char *app)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    sl_code c = delta_snapshot_open(lake, table, &latest, &snap, &err);
    if (c == SL_DELTA_NOT_A_TABLE)
        return -1;
    if (c != SL_OK)
        fail_msg("table %s does not replay: %s %s", table, err_code_name(c), err.msg);
    json_t *v = json_object_get(json_object_get(snap->txns, app), "version");
    int64_t out = json_is_integer(v) ? json_integer_value(v) : -1;
    delta_snapshot_free(snap);
    return out;
}

/* Every table replays; every processed folder's batch is in every table. */
static void check_invariants(const char *lake_dir, int iteration)
{
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(lake_dir, &lake, &err), SL_OK);
    static const char *const tables[] = {"orders_raw",    "orders_raw_quarantine",
                                         "orders",        "_sluice/tombstones/orders",
                                         "orders_by_day", "_sluice/runs"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        txn_of(lake, tables[i], "none"); /* fails the test when it does not replay */
    ckpt_view v;
    sl_code c = ckpt_load(lake, "orders", &v, &err);
    if (c != SL_OK)
        fail_msg("iteration %d: the checkpoint does not read: %s", iteration, err.msg);
    int64_t b = txn_of(lake, "orders_raw", "sluice:orders:bronze");
    int64_t s = txn_of(lake, "orders", "sluice:orders:silver");
    int64_t g = txn_of(lake, "orders_by_day", "sluice:orders:gold");
    for (size_t i = 0; i < v.n; i++) {
        if (strcmp(v.e[i].state, "processed") != 0)
            continue;
        if (b < v.e[i].batch_id || s < v.e[i].batch_id || g < v.e[i].batch_id)
            fail_msg("iteration %d: folder %s is processed (batch %lld) but the tables "
                     "hold batches %lld/%lld/%lld",
                     iteration, v.e[i].folder, (long long)v.e[i].batch_id, (long long)b,
                     (long long)s, (long long)g);
    }
    ckpt_view_free(&v);
    store_close(lake);
}

static const char *failed_folder(const char *lake_dir, char *buf, size_t n)
{
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(lake_dir, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    const char *out = NULL;
    for (size_t i = 0; i < v.n && !out; i++)
        if (strcmp(v.e[i].state, "failed") == 0) {
            snprintf(buf, n, "%s", v.e[i].folder);
            out = buf;
        }
    ckpt_view_free(&v);
    store_close(lake);
    return out;
}

static void test_faults_at_ten_percent(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-faults", 7,
                  "\"retries\": {\"max_attempts\": 4, \"backoff_seconds\": 1}");
    for (int i = 0; i < 3; i++)
        pt_folder_write(&w, 1700000000 + i * 3600, 2, 15);
    pipeline_def *d = pt_def(&w);
    int ok_runs = 0, failed_runs = 0;
    uint64_t faults = 0;
    for (int it = 0; it < 40; it++) {
        store *lake_in = NULL, *src_in = NULL, *lake = NULL, *src = NULL;
        sl_err err = {0};
        assert_int_equal(store_open(w.lake, &lake_in, &err), SL_OK);
        assert_int_equal(store_open(w.source, &src_in, &err), SL_OK);
        store_fault_opts fo;
        store_fault_opts_uniform(&fo, 0.10, 1000 + (uint64_t)it);
        fo.fail_after_rate[SF_OP_PUT_IF_ABSENT] = 0.05;
        fo.fail_after_rate[SF_OP_PUT] = 0.05;
        assert_int_equal(store_fault_wrap(lake_in, &fo, &lake, &err), SL_OK);
        assert_int_equal(store_fault_wrap(src_in, &fo, &src, &err), SL_OK);
        char buf[32];
        runner_opts o = {.operator_name = "faults",
                         .lake = lake,
                         .source = src,
                         .sleep_ms = no_sleep,
                         .seed = (uint64_t)it,
                         .lease_ttl_ms = 1,
                         .folder = failed_folder(w.lake, buf, sizeof buf)};
        runner_result r;
        sl_code c = runner_run(d, &o, &r, &err);
        /* A clean failure names a code with a hint; it never leaves junk. */
        if (c == SL_OK)
            ok_runs++;
        else {
            failed_runs++;
            assert_non_null(err_code_hint(c));
            if (getenv("SLUICE_TEST_VERBOSE"))
                printf("run %d: %s %s\n", it, err_code_name(c), err.msg);
        }
        store_fault_counts fc;
        store_fault_counts_get(lake, &fc);
        faults += fc.timeouts + fc.unavailable + fc.torn;
        runner_result_clear(&r);
        store_close(lake);
        store_close(src);
        check_invariants(w.lake, it);
    }
    printf(
        "fault runs: %d completed, %d failed cleanly, %llu faults injected in the lake\n",
        ok_runs, failed_runs, (unsigned long long)faults);
    assert_true(faults > 100);
    assert_true(ok_runs >= 10); /* retries carry most runs through */
    /* Faults off: what is left finishes, and the tables are exactly right. */
    char buf[32];
    runner_opts o = {.operator_name = "clean",
                     .sleep_ms = no_sleep,
                     .lease_ttl_ms = 1,
                     .folder = failed_folder(w.lake, buf, sizeof buf)};
    runner_result r;
    sl_err err = {0};
    assert_int_equal(runner_run(d, &o, &r, &err), SL_OK);
    runner_result_clear(&r);
    o.folder = NULL;
    assert_int_equal(runner_run(d, &o, &r, &err), SL_OK);
    runner_result_clear(&r);
    char *want = pt_expected_silver(&w), *got = pt_actual_silver(&w);
    if (strcmp(want, got))
        fail_msg("silver after faults differs\n--- expected\n%s--- got\n%s", want, got);
    free(want);
    free(got);
    want = pt_expected_gold(&w);
    got = pt_actual_gold(&w);
    assert_string_equal(want, got);
    free(want);
    free(got);
    want = pt_expected_quarantine(&w);
    got = pt_actual_quarantine(&w);
    assert_string_equal(want, got);
    free(want);
    free(got);
    pipeline_def_free(d);
    pt_world_free(&w);
}

/* Runner A parks in the middle of its run (its lease held); runner B,
 * started then, is refused with the holder named; A then finishes. */
static void test_two_runners(void **state)
{
    (void)state;
    pt_world w;
    pt_world_init(&w, "pipe-two", 3, NULL);
    pt_folder_write(&w, 1700000000, 1, 10);
    pipeline_def *d = pt_def(&w);
    int to_parent[2], to_a[2];
    assert_int_equal(pipe(to_parent), 0);
    assert_int_equal(pipe(to_a), 0);
    pid_t a = fork();
    assert_true(a >= 0);
    if (a == 0) {
        store *inner = NULL, *lake = NULL;
        sl_err err = {0};
        if (store_open(w.lake, &inner, &err) != SL_OK ||
            crashstore_wrap(inner, 0, 0, &lake, &err) != SL_OK)
            _exit(20);
        crashstore_pause_at(lake, 40, to_parent[1], to_a[0]); /* well after the lease */
        runner_opts o = {.operator_name = "runner-a", .lake = lake, .sleep_ms = no_sleep};
        runner_result r;
        sl_code c = runner_run(d, &o, &r, &err);
        _exit(c == SL_OK && r.processed == 1 ? 0 : 21);
    }
    char b;
    assert_int_equal(read(to_parent[0], &b, 1), 1); /* A holds the lease, mid-run */
    char *cmd =
        sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/state' '%s' run orders --json",
                    w.dir, w.dir, tu_sluice_bin());
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(out, "runner-a"));
    assert_non_null(strstr(out, "\"lease\""));
    free(out);
    free(cmd);
    assert_int_equal(write(to_a[1], "g", 1), 1);
    int st;
    assert_int_equal(waitpid(a, &st, 0), a);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    close(to_parent[0]);
    close(to_parent[1]);
    close(to_a[0]);
    close(to_a[1]);
    pipeline_def_free(d);
    pt_world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_at_ten_percent),
        cmocka_unit_test(test_two_runners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
