/* A writer killed with SIGKILL at random points of its commits, 100 times
 * with a fixed seed: afterwards the table always replays, every version
 * either fully exists or not at all, and leftover temp files are never
 * taken for commits. Checkpoints written after every 10th commit are part
 * of what gets interrupted; the snapshot (built from the newest one) must
 * still open.
 *
 * Kill points come from two sources: a store wrapper in the child that
 * SIGKILLs itself before or after its K-th write (data file put, commit
 * put_if_absent or delete; deterministic from
 * the seed), and, every other round, the parent killing the child after a
 * seeded delay, which can land inside a put (between the temp file and its
 * link). The assertions hold wherever the kill lands. */

#include "deltatest.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define ROUNDS 100

static uint64_t rng_state = 0x5eed1234abcdULL;

static uint32_t rng_next(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* ---- the killing store wrapper (child side) ----------------------------- */

static long calls, kill_at;
static int kill_after;

static void maybe_die(int after)
{
    if (kill_at > 0 && calls == kill_at && after == kill_after)
        raise(SIGKILL);
}

#define INNER(s) ((store *)(s)->impl)

static sl_code w_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    sl_code c = INNER(s)->ops->list(INNER(s), req, out, err);
    return c;
}

static sl_code w_get(store *s, const char *key, uint64_t off, uint64_t len, int whole,
                     sl_buf *out, sl_err *err)
{
    sl_code c = INNER(s)->ops->get_range(INNER(s), key, off, len, whole, out, err);
    return c;
}

static sl_code w_put(store *s, const char *key, const void *data, size_t len,
                     int if_absent, sl_err *err)
{
    calls++;
    maybe_die(0);
    sl_code c = INNER(s)->ops->put(INNER(s), key, data, len, if_absent, err);
    maybe_die(1);
    return c;
}

static sl_code w_del(store *s, const char *key, sl_err *err)
{
    calls++;
    maybe_die(0);
    sl_code c = INNER(s)->ops->del(INNER(s), key, err);
    maybe_die(1);
    return c;
}

static sl_code w_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    sl_code c = INNER(s)->ops->stat(INNER(s), key, out, err);
    return c;
}

static void w_close(store *s)
{
    store_close(INNER(s));
}

static const store_ops wrap_ops = {"file", w_list, w_get, w_put, w_del, w_stat, w_close};

static void child_write(const char *dir, long k, int after, int round)
{
    store *inner;
    sl_err err = {0};
    if (store_open(dir, &inner, &err) != SL_OK)
        _exit(10);
    store *s = sl_calloc(1, sizeof *s);
    s->ops = &wrap_ops;
    s->url = sl_strdup(store_url(inner));
    s->impl = inner;
    calls = 0;
    kill_at = k;
    kill_after = after;
    for (int i = 0; i < 1000; i++) {
        int64_t id = (int64_t)round * 10000 + i;
        pq_value rows[4] = {pq_val_i64(id), pq_val_str("x"), pq_val_i64(id + 5000),
                            pq_val_str("y")};
        delta_append_req req = {.rows = rows, .nrows = 1 + (size_t)(i % 2), .ncols = 2};
        delta_append_result ar;
        if (delta_table_append(s, "t", &req, NULL, &ar, &err) != SL_OK)
            _exit(11);
    }
    store_close(s);
    _exit(0);
}

/* ---- the parent's checks ------------------------------------------------ */

typedef struct line_count {
    size_t lines, adds;
    int first_is_commit_info;
    long long num_files;
} line_count;

static sl_code count_action(void *ctx, json_t *action, size_t line, sl_err *err)
{
    (void)err;
    line_count *lc = ctx;
    lc->lines++;
    json_t *ci = json_object_get(action, "commitInfo");
    if (line == 1 && ci) {
        lc->first_is_commit_info = 1;
        const char *nf = json_string_value(
            json_object_get(json_object_get(ci, "operationMetrics"), "numFiles"));
        lc->num_files = nf ? atoll(nf) : -1;
    }
    if (json_object_get(action, "add"))
        lc->adds++;
    return SL_OK;
}

/* Every file in _delta_log, raw (temp files included): commit files are
 * whole, the rest are never parsed as commits. Returns the commit count. */
static size_t log_dir_check(const char *dir, size_t *temps, size_t *checkpoints)
{
    char *logdir = sl_asprintf("%s/t/_delta_log", dir);
    DIR *d = opendir(logdir);
    assert_non_null(d);
    size_t ncommits = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        delta_log_name nm;
        if (strcmp(e->d_name, "_last_checkpoint") == 0)
            continue;
        if (!delta_log_name_parse(e->d_name, &nm)) {
            assert_memory_equal(e->d_name, ".sluice-tmp-", 12);
            (*temps)++;
            continue;
        }
        if (nm.kind == DELTA_LOG_CHECKPOINT) {
            (*checkpoints)++;
            continue; /* written by store_put (temp + rename): whole or absent */
        }
        assert_int_equal(nm.kind, DELTA_LOG_COMMIT);
        ncommits++;
        char *p = sl_asprintf("%s/%s", logdir, e->d_name);
        char *text = tu_read_file(p);
        assert_non_null(text);
        size_t n = strlen(text);
        assert_true(n > 0 && text[n - 1] == '\n');
        line_count lc = {0};
        sl_err err = {0};
        if (delta_commit_parse(text, n, p, count_action, &lc, &err) != SL_OK)
            fail_msg("partial commit %s: %s", p, err.msg);
        assert_true(lc.first_is_commit_info);
        if (nm.version > 0)
            assert_int_equal(lc.num_files, (long long)lc.adds);
        free(text);
        free(p);
    }
    closedir(d);
    free(logdir);
    return ncommits;
}

static void test_kill_during_commits(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta-crash");
    store *s;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, false}, {"tag", PQ_TYPE_STRING, true}};
    dt_create_table(s, "t", cols, 2, NULL);

    int64_t last_version = 0;
    size_t temps_total = 0, timed_kills = 0, call_kills = 0, checkpoints_seen = 0;
    for (int round = 0; round < ROUNDS; round++) {
        long k = 1 + (long)(rng_next() % 10);
        int after = (int)(rng_next() % 2);
        int timed = round % 2 == 1;
        unsigned delay_us = rng_next() % 20000;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_write(dir, timed ? 0 : k, after, round);
        if (timed) {
            struct timespec ts = {0, (long)delay_us * 1000L};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        if (timed)
            timed_kills++;
        else
            call_kills++;

        /* The table replays, from a version at least as new as before. */
        delta_at at = {.kind = DELTA_AT_LATEST};
        delta_snapshot *snap = NULL;
        if (delta_snapshot_open(s, "t", &at, &snap, &err) != SL_OK)
            fail_msg("round %d: table does not replay: %s", round, err.msg);
        assert_true(snap->version >= last_version);
        last_version = snap->version;
        assert_true(snap->num_rows >= 0);
        for (size_t i = 0; i < snap->nfiles; i++) {
            char *key = delta_data_file_key(s, "t", snap->files[i].path);
            store_obj o;
            if (store_stat(s, key, &o, &err) != SL_OK)
                fail_msg("round %d: live file %s missing", round, key);
            store_obj_clear(&o);
            free(key);
        }
        /* Versions 0..latest all present and whole; nothing else counted. */
        size_t temps = 0, cps = 0;
        size_t n = log_dir_check(dir, &temps, &cps);
        assert_int_equal(n, (size_t)snap->version + 1);
        delta_log_listing l;
        assert_int_equal(delta_log_list(s, "t", &l, &err), SL_OK);
        assert_int_equal(l.ncommits, n);
        assert_int_equal(l.latest, snap->version);
        delta_log_listing_free(&l);
        temps_total += temps;
        checkpoints_seen = cps;
        delta_snapshot_free(snap);
    }
    assert_int_equal(call_kills + timed_kills, ROUNDS);
    /* The writer made progress across the rounds, through checkpoints (one
     * every 10 commits, written after the commit; a kill may skip one). */
    assert_true(last_version > 10);
    assert_true(checkpoints_seen > 0);

    /* Still writable after all that. */
    pq_value row[2] = {pq_val_i64(-1), pq_val_null()};
    delta_append_req req = {.rows = row, .nrows = 1, .ncols = 2};
    delta_append_result ar;
    assert_int_equal(delta_table_append(s, "t", &req, NULL, &ar, &err), SL_OK);
    assert_int_equal(ar.version, last_version + 1);
    fprintf(stderr, "crash: %d rounds, %lld versions, %zu leftover temp files seen\n",
            ROUNDS, (long long)ar.version, temps_total);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
