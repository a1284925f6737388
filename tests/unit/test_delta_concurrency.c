/* 8 processes append 50 times each to one local table through the commit
 * path: exactly 400 new versions, a contiguous log, every appended file
 * live and every row there once. Then an OPTIMIZE-like and a DELETE-like
 * commit race on the same file. */

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define NPROC 8
#define NAPPEND 50

static int child_run(const char *dir, int who)
{
    store *s;
    sl_err err = {0};
    if (store_open(dir, &s, &err) != SL_OK)
        return 10;
    int max_attempts = 0;
    for (int i = 0; i < NAPPEND; i++) {
        pq_value row[2] = {pq_val_i64((int64_t)who * 1000 + i), pq_val_i32(who)};
        delta_append_req req = {.rows = row, .nrows = 1, .ncols = 2};
        delta_append_result ar;
        if (delta_table_append(s, "t", &req, NULL, &ar, &err) != SL_OK) {
            fprintf(stderr, "child %d append %d: %s %s\n", who, i,
                    err_code_name(err.code), err.msg);
            store_close(s);
            return 11;
        }
        if (ar.attempts > max_attempts)
            max_attempts = ar.attempts;
    }
    store_close(s);
    /* Success reports the most attempts one append needed: 100 + n. */
    return 100 + (max_attempts < 150 ? max_attempts : 150);
}

static void test_eight_writers(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta-conc");
    store *s;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, false}, {"who", PQ_TYPE_INT32, false}};
    delta_table_spec spec = {.cols = cols, .ncols = 2};
    delta_commit_result cr;
    assert_int_equal(delta_table_create(s, "t", &spec, NULL, &cr, &err), SL_OK);

    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0)
            _exit(child_run(dir, p));
    }
    int most_attempts = 0;
    for (int p = 0; p < NPROC; p++) {
        int st = 0;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st));
        assert_true(WEXITSTATUS(st) > 100);
        if (WEXITSTATUS(st) - 100 > most_attempts)
            most_attempts = WEXITSTATUS(st) - 100;
    }
    fprintf(stderr, "concurrency: one append needed at most %d attempts\n",
            most_attempts);

    /* Exactly 400 new versions, contiguous. */
    delta_log_listing l;
    assert_int_equal(delta_log_list(s, "t", &l, &err), SL_OK);
    assert_int_equal(l.ncommits, 1 + NPROC * NAPPEND);
    for (size_t i = 0; i < l.ncommits; i++)
        assert_int_equal(l.commits[i].version, (int64_t)i);
    assert_int_equal(l.latest, NPROC * NAPPEND);
    delta_log_listing_free(&l);

    /* Every appended file live, every id once. */
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap;
    assert_int_equal(delta_snapshot_open(s, "t", &at, &snap, &err), SL_OK);
    assert_int_equal(snap->version, NPROC * NAPPEND);
    assert_int_equal(snap->nfiles, NPROC * NAPPEND);
    assert_int_equal(snap->num_rows, NPROC * NAPPEND);
    char seen[NPROC][NAPPEND];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < snap->nfiles; i++) {
        json_t *add = delta_file_add(&snap->files[i]);
        json_t *stats =
            json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
        json_int_t id = json_integer_value(
            json_object_get(json_object_get(stats, "minValues"), "id"));
        int who = (int)(id / 1000), n = (int)(id % 1000);
        assert_true(who >= 0 && who < NPROC && n >= 0 && n < NAPPEND);
        assert_int_equal(seen[who][n], 0);
        seen[who][n] = 1;
        char *key = delta_data_file_key(s, "t", snap->files[i].path);
        store_obj o;
        assert_int_equal(store_stat(s, key, &o, &err), SL_OK);
        assert_int_equal((int64_t)o.size, snap->files[i].size);
        store_obj_clear(&o);
        free(key);
        json_decref(stats);
        json_decref(add);
    }
    delta_snapshot_free(snap);

    /* Each commit holds one add and its own commitInfo: nobody's commit was
     * overwritten or merged into another's. */
    delta_history h;
    assert_int_equal(delta_history_load(s, "t", 0, &h, &err), SL_OK);
    assert_int_equal(h.n, 1 + NPROC * NAPPEND);
    int64_t max_lag = 0, retried = 0;
    for (size_t i = 0; i + 1 < h.n; i++) {
        assert_int_equal(h.items[i].num_add, 1);
        assert_string_equal(h.items[i].operation, "WRITE");
        int64_t lag = h.items[i].version - 1 - h.items[i].read_version;
        assert_true(lag >= 0);
        retried += lag > 0;
        if (lag > max_lag)
            max_lag = lag;
    }
    fprintf(stderr,
            "concurrency: %lld of %d commits retried, at most %lld versions behind\n",
            (long long)retried, NPROC * NAPPEND, (long long)max_lag);
    delta_history_free(&h);

    /* No data file on disk that the log does not reference (no failed commit). */
    store_page pg;
    assert_int_equal(store_list_all(s, "t/", NULL, &pg, &err), SL_OK);
    size_t ndata = 0;
    for (size_t i = 0; i < pg.n; i++)
        if (strstr(pg.items[i].key, ".parquet") && !strstr(pg.items[i].key, "_delta_log"))
            ndata++;
    assert_int_equal(ndata, NPROC * NAPPEND);
    store_page_free(&pg);

    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* An OPTIMIZE-like rewrite (remove A and B, add C, dataChange false) and a
 * DELETE-like remove of A race from the same snapshot in two processes: one
 * wins, the other reports SL-DELTA-CONFLICT (exit 4), and nothing is lost. */
static int racer_run(store *s, const delta_snapshot *snap, int optimize, int go_fd)
{
    char b;
    if (read(go_fd, &b, 1) != 1)
        return 20;
    json_t *actions = json_array();
    sl_err err = {0};
    for (size_t i = 0; i < snap->nfiles; i++) {
        if (!optimize && i > 0)
            break;
        if (i > 1)
            break;
        json_array_append_new(actions,
                              json_pack("{s:{s:s,s:I,s:b,s:b,s:{},s:I}}", "remove",
                                        "path", snap->files[i].path, "deletionTimestamp",
                                        (json_int_t)1, "dataChange", !optimize,
                                        "extendedFileMetadata", 1, "partitionValues",
                                        "size", (json_int_t)snap->files[i].size));
    }
    if (optimize) {
        /* The two rows of A and B rewritten into one file. */
        pq_value rows[4] = {pq_val_i64(1), pq_val_i32(0), pq_val_i64(2), pq_val_i32(0)};
        json_t *add = NULL;
        if (delta_data_file_write(s, "t", snap->metadata, rows, 2, NULL, 0, &add, &err) !=
            SL_OK)
            return 21;
        json_array_append_new(actions, json_pack("{s:o}", "add", add));
    }
    delta_commit_req req = {.meta = {.operation = optimize ? "OPTIMIZE" : "DELETE"},
                            .read_snap = snap,
                            .actions = actions};
    delta_commit_result r;
    sl_code c = delta_commit(s, "t", &req, &r, &err);
    json_decref(actions);
    return err_code_exit(c);
}

static void test_optimize_vs_delete(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta-race");
    store *s;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, false}, {"who", PQ_TYPE_INT32, false}};
    delta_table_spec spec = {.cols = cols, .ncols = 2};
    delta_commit_result cr;
    assert_int_equal(delta_table_create(s, "t", &spec, NULL, &cr, &err), SL_OK);
    for (int64_t id = 1; id <= 3; id++) {
        pq_value row[2] = {pq_val_i64(id), pq_val_i32(0)};
        delta_append_req req = {.rows = row, .nrows = 1, .ncols = 2};
        delta_append_result ar;
        assert_int_equal(delta_table_append(s, "t", &req, NULL, &ar, &err), SL_OK);
    }
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap;
    assert_int_equal(delta_snapshot_open(s, "t", &at, &snap, &err), SL_OK);
    assert_int_equal(snap->nfiles, 3);
    /* Order the files by id (the log sorts them by path): A=1, B=2, then 3. */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = i + 1; j < 3; j++) {
            json_t *a = delta_file_add(&snap->files[i]);
            json_t *b = delta_file_add(&snap->files[j]);
            json_t *sa =
                json_loads(json_string_value(json_object_get(a, "stats")), 0, NULL);
            json_t *sb =
                json_loads(json_string_value(json_object_get(b, "stats")), 0, NULL);
            if (json_integer_value(
                    json_object_get(json_object_get(sa, "minValues"), "id")) >
                json_integer_value(
                    json_object_get(json_object_get(sb, "minValues"), "id"))) {
                delta_file t = snap->files[i];
                snap->files[i] = snap->files[j];
                snap->files[j] = t;
            }
            json_decref(sa);
            json_decref(sb);
            json_decref(a);
            json_decref(b);
        }
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        pids[k] = fork();
        assert_true(pids[k] >= 0);
        if (pids[k] == 0) {
            close(go[1]);
            _exit(racer_run(s, snap, k == 0, go[0]));
        }
    }
    close(go[0]);
    assert_int_equal(write(go[1], "gg", 2), 2);
    close(go[1]);
    int codes[2];
    for (int k = 0; k < 2; k++) {
        int st = 0;
        assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
        assert_true(WIFEXITED(st));
        codes[k] = WEXITSTATUS(st);
    }
    /* exactly one winner; the loser exits 4 (SL-DELTA-CONFLICT) */
    assert_true((codes[0] == 0 && codes[1] == 4) || (codes[0] == 4 && codes[1] == 0));
    int optimize_won = codes[0] == 0;
    delta_snapshot *after;
    assert_int_equal(delta_snapshot_open(s, "t", &at, &after, &err), SL_OK);
    assert_int_equal(after->version, snap->version + 1);
    /* optimize: ids 1,2 in one new file + id 3; delete: ids 2 and 3 remain */
    assert_int_equal(after->nfiles, 2);
    assert_int_equal(after->num_rows, optimize_won ? 3 : 2);
    int saw3 = 0;
    for (size_t i = 0; i < after->nfiles; i++)
        if (strcmp(after->files[i].path, snap->files[2].path) == 0)
            saw3 = 1;
    assert_true(saw3);
    delta_history h;
    assert_int_equal(delta_history_load(s, "t", 1, &h, &err), SL_OK);
    assert_string_equal(h.items[0].operation, optimize_won ? "OPTIMIZE" : "DELETE");
    delta_history_free(&h);
    delta_snapshot_free(after);
    delta_snapshot_free(snap);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_writers),
        cmocka_unit_test(test_optimize_vs_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
