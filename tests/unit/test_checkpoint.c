/* The checkpoint table (_sluice/processed_folders) and the runs table:
 * latest state per folder, pipelines kept apart, txn idempotence, seq
 * unique under concurrent recorders, history order; run rows round trip. */
#include "deltatest.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"

typedef struct fx {
    char *dir;
    store *lake;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("ckpt");
    f->lake = dt_open_store(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->lake);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void record(fx *f, const char *pipeline, const char *folder, const char *state,
                   int64_t batch)
{
    ckpt_entry e;
    ckpt_entry_init(&e);
    e.folder = (char *)folder;
    e.state = (char *)state;
    e.batch_id = batch;
    e.epoch = strtoll(folder, NULL, 10);
    e.rows_read = batch * 10;
    e.message = (char *)"why";
    sl_err err = {0};
    int64_t v;
    int skipped;
    assert_int_equal(
        ckpt_record(f->lake, pipeline, &e, 1, NULL, 0, NULL, &v, &skipped, &err), SL_OK);
    assert_false(skipped);
}

static void test_empty_lake(void **state)
{
    fx *f = *state;
    ckpt_view v;
    sl_err err = {0};
    assert_int_equal(ckpt_load(f->lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 0);
    assert_int_equal(v.version, -1);
    assert_int_equal(v.max_batch_id, -1);
    assert_null(ckpt_find(&v, "1700000000"));
    ckpt_view_free(&v);
}

static void test_latest_state_wins(void **state)
{
    fx *f = *state;
    record(f, "orders", "1700003600", "running", 1);
    record(f, "orders", "1700003600", "processed", 1);
    record(f, "orders", "1700000000", "running", 2); /* a late folder */
    record(f, "orders", "1700000000", "failed", 2);
    record(f, "other", "1700000000", "processed", 7); /* another pipeline */
    record(f, "orders", "1700007200", "skipped", -1);
    ckpt_view v;
    sl_err err = {0};
    assert_int_equal(ckpt_load(f->lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.max_batch_id, 2);
    assert_int_equal(v.max_seq, 6);
    assert_string_equal(v.e[0].folder, "1700000000"); /* sorted by folder */
    assert_string_equal(ckpt_find(&v, "1700000000")->state, "failed");
    assert_string_equal(ckpt_find(&v, "1700003600")->state, "processed");
    assert_int_equal(ckpt_find(&v, "1700003600")->rows_read, 10);
    assert_int_equal(ckpt_find(&v, "1700003600")->epoch, 1700003600);
    assert_string_equal(ckpt_find(&v, "1700003600")->message, "why");
    assert_string_equal(ckpt_find(&v, "1700007200")->state, "skipped");
    assert_int_equal(ckpt_find(&v, "1700007200")->batch_id, -1);
    assert_true(ckpt_find(&v, "1700007200")->recorded_ms > 0);
    ckpt_view_free(&v);

    assert_int_equal(ckpt_load(f->lake, "other", &v, &err), SL_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.max_batch_id, 7);
    ckpt_view_free(&v);

    ckpt_entry *h;
    size_t n;
    assert_int_equal(ckpt_history(f->lake, "orders", "1700000000", &h, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(h[0].state, "running");
    assert_string_equal(h[1].state, "failed");
    assert_true(h[0].seq < h[1].seq);
    ckpt_entries_free(h, n);
    assert_int_equal(ckpt_history(f->lake, "orders", NULL, &h, &n, &err), SL_OK);
    assert_int_equal(n, 5);
    ckpt_entries_free(h, n);
}

static void test_txn_makes_it_idempotent(void **state)
{
    fx *f = *state;
    ckpt_entry e;
    ckpt_entry_init(&e);
    e.folder = (char *)"1700000000";
    e.state = (char *)"running";
    e.batch_id = 5;
    sl_err err = {0};
    int64_t v1, v2;
    int skipped;
    assert_int_equal(
        ckpt_record(f->lake, "orders", &e, 1, "start", 5, NULL, &v1, &skipped, &err),
        SL_OK);
    assert_false(skipped);
    assert_int_equal(
        ckpt_record(f->lake, "orders", &e, 1, "start", 5, NULL, &v2, &skipped, &err),
        SL_OK);
    assert_true(skipped);
    assert_int_equal(v1, v2);
    ckpt_entry *h;
    size_t n;
    assert_int_equal(ckpt_history(f->lake, "orders", NULL, &h, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    ckpt_entries_free(h, n);
}

/* Four processes record at once: every row lands with a distinct seq. */
static void test_concurrent_recorders(void **state)
{
    fx *f = *state;
    enum { PROCS = 4, EACH = 6 };
    sl_err err = {0};
    assert_int_equal(systable_ensure(f->lake, ckpt_table(), &err), SL_OK);
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            store *s = NULL;
            sl_err e = {0};
            if (store_open(f->dir, &s, &e) != SL_OK)
                _exit(2);
            for (int i = 0; i < EACH; i++) {
                char folder[32];
                snprintf(folder, sizeof folder, "%d", 1700000000 + p * 100 + i);
                ckpt_entry row;
                ckpt_entry_init(&row);
                row.folder = folder;
                row.state = (char *)"processed";
                row.batch_id = p * 100 + i;
                if (ckpt_record(s, "orders", &row, 1, NULL, 0, NULL, NULL, NULL, &e) !=
                    SL_OK)
                    _exit(3);
            }
            store_close(s);
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    ckpt_entry *h;
    size_t n;
    assert_int_equal(ckpt_history(f->lake, "orders", NULL, &h, &n, &err), SL_OK);
    assert_int_equal(n, PROCS * EACH);
    for (size_t i = 1; i < n; i++)
        assert_true(h[i - 1].seq < h[i].seq); /* distinct, and sorted */
    ckpt_entries_free(h, n);
    ckpt_view v;
    assert_int_equal(ckpt_load(f->lake, "orders", &v, &err), SL_OK);
    assert_int_equal(v.n, PROCS * EACH);
    assert_int_equal(v.max_seq, PROCS * EACH);
    ckpt_view_free(&v);
}

static void test_runs_round_trip(void **state)
{
    fx *f = *state;
    run_step s[3];
    for (int i = 0; i < 3; i++)
        run_step_init(&s[i]);
    s[0].run_id = sl_strdup("r2");
    s[0].pipeline = sl_strdup("orders");
    s[0].step = sl_strdup("ingest");
    s[0].state = sl_strdup("retrying");
    s[0].error_code = sl_strdup("SL-STORE-TIMEOUT");
    s[0].started_ms = 2000;
    s[0].finished_ms = 2500;
    s[1].run_id = sl_strdup("r2");
    s[1].pipeline = sl_strdup("orders");
    s[1].step = sl_strdup("ingest");
    s[1].attempt = 2;
    s[1].state = sl_strdup("succeeded");
    s[1].folder = sl_strdup("1700000000");
    s[1].batch_id = 3;
    s[1].rows_in = 100;
    s[1].rows_out = 98;
    s[1].table_name = sl_strdup("orders_raw");
    s[1].version_before = 4;
    s[1].version_after = 5;
    s[1].started_ms = 3000;
    s[1].finished_ms = 3100;
    s[1].detail = sl_strdup("{\"quarantined\":2}");
    s[2].run_id = sl_strdup("r1");
    s[2].pipeline = sl_strdup("orders");
    s[2].step = sl_strdup("discover");
    s[2].state = sl_strdup("succeeded");
    s[2].started_ms = 1000;
    sl_err err = {0};
    assert_int_equal(runs_append(f->lake, s, 3, &err), SL_OK);
    run_step *got;
    size_t n;
    assert_int_equal(runs_load(f->lake, "orders", NULL, &got, &n, &err), SL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got[0].run_id, "r1"); /* by start time */
    assert_string_equal(got[2].state, "succeeded");
    assert_int_equal(got[2].attempt, 2);
    assert_int_equal(got[2].batch_id, 3);
    assert_int_equal(got[2].version_after, 5);
    assert_string_equal(got[2].detail, "{\"quarantined\":2}");
    assert_null(got[0].folder);
    assert_string_equal(got[1].error_code, "SL-STORE-TIMEOUT");
    run_steps_free(got, n);
    assert_int_equal(runs_load(f->lake, "orders", "r2", &got, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    run_steps_free(got, n);
    assert_int_equal(runs_load(f->lake, "nope", NULL, &got, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    run_steps_free(got, n);
    for (int i = 0; i < 3; i++)
        run_step_clear(&s[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_lake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latest_state_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_makes_it_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_recorders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
