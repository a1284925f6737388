/* 8 processes append 50 times each to one local table through the commit
 * path: exactly 400 new versions, a contiguous log, every appended file
 * live and every row there once. Then an OPTIMIZE-like and a DELETE-like
 * commit race on the same file, and the real OPTIMIZE races a DELETE-like
 * remove in two processes, round after round, both orders of winning. */

#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_optimize.h"
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
    dt_create_table(s, "t", cols, 2, NULL);

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
    dt_create_table(s, "t", cols, 2, NULL);
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

/* ---- the real OPTIMIZE against a DELETE-like remove, two processes ------- */

#define RACE_ROUNDS 20
#define RACE_FILES 3
#define RACE_ROWS 4 /* per file */
#define RACE_NOW_MS 1700000000000LL

/* Exit codes of a racer besides err_code_exit()'s (0 done, 4 conflict). */
#define RACER_SETUP 20   /* store, snapshot or pipes failed */
#define RACER_NO_WORK 21 /* OPTIMIZE returned SL_OK without compacting everything */

/* How a round releases the racers: together, or one strictly after the
 * other has finished (the later one still read the old snapshot, so it
 * must lose). */
typedef enum race_order {
    RACE_TOGETHER,
    RACE_OPTIMIZE_FIRST,
    RACE_DELETE_FIRST
} race_order;

typedef struct race_pipes {
    int ready[2];                     /* racers -> parent: snapshot opened */
    int go_optimize[2], go_delete[2]; /* parent -> racer: commit now */
} race_pipes;

/* The DELETE-like commit: remove one file as DELETE does, having read it. */
static sl_code delete_file(store *s, const char *key, const delta_snapshot *snap,
                           const char *victim, sl_err *err)
{
    int64_t size = -1;
    for (size_t i = 0; i < snap->nfiles; i++)
        if (strcmp(snap->files[i].path, victim) == 0)
            size = snap->files[i].size;
    json_t *acts =
        json_pack("[{s:{s:s,s:I,s:b,s:b,s:{},s:I}}]", "remove", "path", victim,
                  "deletionTimestamp", (json_int_t)RACE_NOW_MS, "dataChange", 1,
                  "extendedFileMetadata", 1, "partitionValues", "size", (json_int_t)size);
    delta_commit_req req = {.meta = {.operation = "DELETE"},
                            .read_snap = snap,
                            .actions = acts,
                            .read_paths = &victim,
                            .nread_paths = 1};
    delta_commit_result r;
    sl_code c = delta_commit(s, key, &req, &r, err);
    json_decref(acts);
    return c;
}

/* A racer process: opens its own store and the snapshot at `version`,
 * says so, waits for the go, then runs its operation. No cmocka here: the
 * result is the exit code. */
static int racer(const char *dir, const char *key, int64_t version, int optimize,
                 const char *victim, int ready_fd, int go_fd)
{
    store *s = NULL;
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    delta_at at = {.kind = DELTA_AT_VERSION, .version = version};
    char b = 'r';
    int ready = store_open(dir, &s, &err) == SL_OK &&
                delta_snapshot_open(s, key, &at, &snap, &err) == SL_OK &&
                write(ready_fd, &b, 1) == 1;
    /* Closed at once: a racer that fails here ends the parent's wait (EOF). */
    close(ready_fd);
    if (!ready || read(go_fd, &b, 1) != 1) {
        delta_snapshot_free(snap);
        store_close(s);
        return RACER_SETUP;
    }
    int code;
    if (optimize) {
        delta_optimize_opts o = {.now_ms = RACE_NOW_MS};
        delta_optimize_result res;
        sl_code c = delta_optimize_run(s, key, snap, &o, NULL, &res, &err);
        code = err_code_exit(c);
        if (c == SL_OK && !(res.committed && res.removed_files == RACE_FILES))
            code = RACER_NO_WORK;
    } else {
        code = err_code_exit(delete_file(s, key, snap, victim, &err));
    }
    if (code != 0 && code != err_code_exit(SL_DELTA_CONFLICT))
        fprintf(stderr, "%s racer: %s %s\n", optimize ? "optimize" : "delete",
                err_code_name(err.code), err.msg);
    delta_snapshot_free(snap);
    store_close(s);
    return code;
}

static void close_pair(int p[2])
{
    close(p[0]);
    close(p[1]);
}

static pid_t racer_start(const char *dir, const char *key, int64_t version, int optimize,
                         const char *victim, race_pipes *rp)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Only our ends stay open, so a parent that dies releases us (EOF). */
        int *go = optimize ? rp->go_optimize : rp->go_delete;
        close(rp->ready[0]);
        close(go[1]);
        close_pair(optimize ? rp->go_delete : rp->go_optimize);
        _exit(racer(dir, key, version, optimize, victim, rp->ready[1], go[0]));
    }
    return pid;
}

static void release(int go_fd)
{
    assert_int_equal(write(go_fd, "g", 1), 1);
}

static int reap(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Row i (0-based) of file f as dt_table_rows spells it: built here from
 * the values written, not read back. */
static char *race_row(int f, int i)
{
    int64_t id = (int64_t)f * 100 + i;
    char name[16];
    snprintf(name, sizeof name, "n%lld", (long long)id);
    json_t *row = json_pack("{s:I,s:s}", "id", (json_int_t)id, "name", name);
    char *t = json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT);
    char *line = sl_asprintf("%s|{}", t);
    free(t);
    json_decref(row);
    return line;
}

/* The rows expected live: every file's but `skip`'s (-1: none). */
static dt_strs race_expected(int skip)
{
    dt_strs l = {0};
    for (int f = 0; f < RACE_FILES; f++)
        for (int i = 0; i < RACE_ROWS && f != skip; i++)
            dt_strs_push(&l, race_row(f, i));
    dt_strs_sort(&l);
    return l;
}

/* A fresh table of RACE_FILES files (the log sorts them by path, not by
 * append); returns its snapshot and sets *victim to the path of the
 * victim_file-th file appended. */
static delta_snapshot *race_table(store *s, const char *key, int victim_file,
                                  const char **victim)
{
    static const pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, false},
                                         {"name", PQ_TYPE_STRING, true}};
    dt_create_table(s, key, cols, 2, NULL);
    for (int f = 0; f < RACE_FILES; f++) {
        pq_value rows[RACE_ROWS * 2];
        char names[RACE_ROWS][16];
        for (int i = 0; i < RACE_ROWS; i++) {
            int64_t id = (int64_t)f * 100 + i;
            snprintf(names[i], sizeof names[i], "n%lld", (long long)id);
            rows[i * 2] = pq_val_i64(id);
            rows[i * 2 + 1] = pq_val_str(names[i]);
        }
        dt_append(s, key, rows, RACE_ROWS, 2);
    }
    delta_snapshot *snap = dt_snap_latest(s, key);
    assert_int_equal(snap->nfiles, RACE_FILES);
    *victim = NULL;
    for (size_t i = 0; i < snap->nfiles; i++) {
        json_t *add = delta_file_add(&snap->files[i]);
        json_t *st =
            json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
        json_int_t min =
            json_integer_value(json_object_get(json_object_get(st, "minValues"), "id"));
        if (min == (json_int_t)victim_file * 100)
            *victim = snap->files[i].path;
        json_decref(st);
        json_decref(add);
    }
    assert_non_null(*victim);
    return snap;
}

/* Data files on disk (keys outside _delta_log). */
static dt_strs data_keys(store *s, const char *key)
{
    char *prefix = sl_asprintf("%s/", key);
    store_page pg;
    sl_err err = {0};
    assert_int_equal(store_list_all(s, prefix, NULL, &pg, &err), SL_OK);
    dt_strs l = {0};
    for (size_t i = 0; i < pg.n; i++)
        if (!strstr(pg.items[i].key, "/_delta_log/"))
            dt_strs_push(&l, sl_strdup(pg.items[i].key));
    store_page_free(&pg);
    free(prefix);
    dt_strs_sort(&l);
    return l;
}

static dt_strs live_keys(store *s, const char *key, const delta_snapshot *snap)
{
    dt_strs l = {0};
    for (size_t i = 0; i < snap->nfiles; i++)
        dt_strs_push(&l, delta_data_file_key(s, key, snap->files[i].path));
    dt_strs_sort(&l);
    return l;
}

/* After a round: the log is contiguous up to exactly one new version whose
 * commit is the winner's, the table replays, rows are exactly the expected
 * multiset, and every data file on disk is live or one of the originals (a
 * losing OPTIMIZE deleted its new files). */
static void race_check(store *s, const char *key, const delta_snapshot *before,
                       const char *victim, int victim_file, int optimize_won)
{
    sl_err err = {0};
    delta_log_listing l;
    assert_int_equal(delta_log_list(s, key, &l, &err), SL_OK);
    assert_int_equal(l.ncommits, (size_t)before->version + 2);
    for (size_t i = 0; i < l.ncommits; i++)
        assert_int_equal(l.commits[i].version, (int64_t)i);
    delta_log_listing_free(&l);
    delta_history h;
    assert_int_equal(delta_history_load(s, key, 1, &h, &err), SL_OK);
    assert_int_equal(h.items[0].version, before->version + 1);
    assert_string_equal(h.items[0].operation, optimize_won ? "OPTIMIZE" : "DELETE");
    assert_int_equal(h.items[0].read_version, before->version);
    delta_history_free(&h);

    delta_snapshot *after = dt_snap_latest(s, key);
    assert_int_equal(after->version, before->version + 1);
    dt_strs live = live_keys(s, key, after);
    dt_strs orig = live_keys(s, key, before);
    char *victim_key = delta_data_file_key(s, key, victim);
    if (optimize_won) {
        assert_int_equal(after->nfiles, 1); /* one bin of all three */
        assert_false(dt_strs_has(&orig, live.v[0]));
    } else {
        assert_int_equal(after->nfiles, RACE_FILES - 1);
        for (size_t i = 0; i < live.n; i++) {
            assert_true(dt_strs_has(&orig, live.v[i]));
            assert_string_not_equal(live.v[i], victim_key);
        }
    }
    dt_strs want = race_expected(optimize_won ? -1 : victim_file);
    dt_strs got = dt_table_rows(s, key, NULL, NULL);
    dt_assert_rows_equal(&got, &want);
    assert_int_equal(after->num_rows, (int64_t)want.n);

    /* On disk: the originals (a remove deletes nothing) plus the live
     * files; nothing else, so no orphan of a losing OPTIMIZE. */
    dt_strs disk = data_keys(s, key);
    for (size_t i = 0; i < disk.n; i++)
        if (!dt_strs_has(&live, disk.v[i]) && !dt_strs_has(&orig, disk.v[i]))
            fail_msg("%s: data file %s is neither live nor original", key, disk.v[i]);
    assert_int_equal(disk.n, RACE_FILES + (optimize_won ? 1 : 0));
    dt_strs_clear(&disk);
    dt_strs_clear(&got);
    dt_strs_clear(&want);
    free(victim_key);
    dt_strs_clear(&orig);
    dt_strs_clear(&live);
    delta_snapshot_free(after);
}

static void test_real_optimize_vs_delete(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta-optrace");
    store *s = dt_open_store(dir);
    const int conflict = err_code_exit(SL_DELTA_CONFLICT);
    assert_int_equal(conflict, 4);
    int wins_optimize = 0, wins_delete = 0, raced = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        race_order order = (race_order)(round % 4 == 1   ? RACE_OPTIMIZE_FIRST
                                        : round % 4 == 2 ? RACE_DELETE_FIRST
                                                         : RACE_TOGETHER);
        char key[16];
        snprintf(key, sizeof key, "t%02d", round);
        int victim_file = round % RACE_FILES;
        const char *victim = NULL;
        delta_snapshot *before = race_table(s, key, victim_file, &victim);

        race_pipes rp;
        assert_int_equal(pipe(rp.ready), 0);
        assert_int_equal(pipe(rp.go_optimize), 0);
        assert_int_equal(pipe(rp.go_delete), 0);
        pid_t opt = racer_start(dir, key, before->version, 1, victim, &rp);
        pid_t del = racer_start(dir, key, before->version, 0, victim, &rp);
        close(rp.ready[1]);
        close(rp.go_optimize[0]);
        close(rp.go_delete[0]);
        /* Both hold the snapshot before either may commit. */
        char buf[2];
        size_t got = 0;
        for (int tries = 0; tries < 2 && got < 2; tries++) {
            ssize_t n = read(rp.ready[0], buf + got, 2 - got);
            if (n <= 0)
                break; /* a racer failed before its snapshot */
            got += (size_t)n;
        }
        if (got != 2) {
            /* EOF on the go pipes ends the other racer before we fail. */
            close(rp.go_optimize[1]);
            close(rp.go_delete[1]);
            fail_msg("round %d: a racer could not open the snapshot (exits %d, %d)",
                     round, reap(opt), reap(del));
        }
        int code_opt, code_del;
        if (order == RACE_OPTIMIZE_FIRST) {
            release(rp.go_optimize[1]);
            code_opt = reap(opt);
            release(rp.go_delete[1]);
            code_del = reap(del);
        } else if (order == RACE_DELETE_FIRST) {
            release(rp.go_delete[1]);
            code_del = reap(del);
            release(rp.go_optimize[1]);
            code_opt = reap(opt);
        } else {
            release(rp.go_optimize[1]);
            release(rp.go_delete[1]);
            code_opt = reap(opt);
            code_del = reap(del);
            raced++;
        }
        close(rp.ready[0]);
        close(rp.go_optimize[1]);
        close(rp.go_delete[1]);

        /* Exactly one winner; the loser reports SL-DELTA-CONFLICT. */
        if (!((code_opt == 0 && code_del == conflict) ||
              (code_opt == conflict && code_del == 0)))
            fail_msg("round %d: optimize exit %d, delete exit %d", round, code_opt,
                     code_del);
        int optimize_won = code_opt == 0;
        if (order == RACE_OPTIMIZE_FIRST)
            assert_true(optimize_won);
        if (order == RACE_DELETE_FIRST)
            assert_false(optimize_won);
        wins_optimize += optimize_won;
        wins_delete += !optimize_won;
        race_check(s, key, before, victim, victim_file, optimize_won);
        delta_snapshot_free(before);
    }
    fprintf(stderr,
            "optimize vs delete: %d rounds (%d released together): optimize won %d, "
            "delete won %d\n",
            RACE_ROUNDS, raced, wins_optimize, wins_delete);
    assert_int_equal(wins_optimize + wins_delete, RACE_ROUNDS);
    assert_true(wins_optimize > 0 && wins_delete > 0);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_writers),
        cmocka_unit_test(test_optimize_vs_delete),
        cmocka_unit_test(test_real_optimize_vs_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
