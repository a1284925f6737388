/* The pipeline lease: acquire, held, expiry takeover, renew, lost, release;
 * races decided by the store (interleavings forced through a store wrapper,
 * and real processes racing); torn objects; no leftovers. Times are passed
 * in: nothing sleeps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/pipeline/lease.h"
#include "backend/util/buf.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("lease");
    sl_err e = {0};
    if (store_open(f->dir, &f->st, &e) != SL_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* The keys of the pipeline's lease objects, one per line. */
static char *lease_objects(store *st, const char *pipeline)
{
    char *prefix = lease_key_prefix(pipeline);
    store_page page;
    sl_err e = {0};
    assert_int_equal(store_list_all(st, prefix, NULL, &page, &e), SL_OK);
    sl_buf b = {0};
    buf_append_str(&b, "");
    for (size_t i = 0; i < page.n; i++)
        buf_appendf(&b, "%s\n", page.items[i].key);
    store_page_free(&page);
    free(prefix);
    return buf_steal(&b);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_lifecycle(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease_holder h;
    int exists = 1;
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_false(exists);

    lease *a = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "alice", 1000, 100, &a, &h, &e),
                     SL_OK);
    assert_non_null(a);
    assert_false(a->took_over);
    assert_int_equal(a->expires_ms, 1100);
    assert_string_equal(a->owner, "alice");
    assert_int_equal(a->pid, getpid());
    assert_non_null(strstr(a->key, "_sluice/locks/orders."));
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_true(exists);
    assert_string_equal(h.owner, "alice");
    assert_string_equal(h.token, a->token);
    assert_int_equal(h.pid, getpid());
    assert_int_equal(h.acquired_ms, 1000);
    assert_int_equal(h.expires_ms, 1100);

    /* Held until expiry, by anyone (the same owner name included). */
    lease *b = NULL;
    memset(&h, 0, sizeof h);
    assert_int_equal(lease_acquire(f->st, "orders", "bob", 1099, 100, &b, &h, &e),
                     SL_LEASE_HELD);
    assert_null(b);
    assert_string_equal(h.owner, "alice");
    assert_int_equal(h.expires_ms, 1100);
    assert_int_equal(h.pid, getpid());
    assert_true(h.host[0] != '\0');
    assert_non_null(strstr(e.msg, "alice"));
    assert_non_null(strstr(e.msg, h.host));
    assert_non_null(strstr(e.msg, "1970-01-01T00:00:01.100Z UTC"));
    json_t *j = lease_holder_json(&h);
    assert_string_equal(json_string_value(json_object_get(j, "owner")), "alice");
    assert_string_equal(json_string_value(json_object_get(j, "host")), h.host);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), getpid());
    assert_int_equal(json_integer_value(json_object_get(j, "expires_ms")), 1100);
    assert_string_equal(json_string_value(json_object_get(j, "expires")),
                        "1970-01-01T00:00:01.100Z");
    assert_null(json_object_get(j, "token"));
    assert_null(json_object_get(j, "released"));
    json_decref(j);
    assert_int_equal(lease_acquire(f->st, "orders", "alice", 1050, 100, &b, NULL, &e),
                     SL_LEASE_HELD);
    /* Another pipeline is independent (and no prefix confusion). */
    lease *o2 = NULL;
    assert_int_equal(lease_acquire(f->st, "orders2", "bob", 1050, 100, &o2, NULL, &e),
                     SL_OK);
    lease_free(o2);

    /* Renewal extends; a renewed lease is held past the first expiry. */
    assert_int_equal(lease_renew(f->st, a, 1080, 100, &e), SL_OK);
    assert_int_equal(a->expires_ms, 1180);
    assert_int_equal(lease_acquire(f->st, "orders", "bob", 1150, 100, &b, &h, &e),
                     SL_LEASE_HELD);
    assert_int_equal(h.expires_ms, 1180);
    char *objs = lease_objects(f->st, "orders");
    assert_int_equal(count_lines(objs), 1); /* superseded generations are gone */
    free(objs);

    /* Release: free again, and the next taker is no takeover. */
    assert_int_equal(lease_release(f->st, a, &e), SL_OK);
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_false(exists);
    assert_true(h.released);
    assert_int_equal(lease_acquire(f->st, "orders", "bob", 1150, 100, &b, &h, &e), SL_OK);
    assert_false(b->took_over);
    assert_string_equal(b->owner, "bob");
    objs = lease_objects(f->st, "orders");
    assert_int_equal(count_lines(objs), 1);
    free(objs);
    lease_free(a);
    lease_free(b);
}

static void test_expired_takeover_and_lost(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease_holder h;
    int exists;
    lease *a = NULL, *b = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "alice", 0, 100, &a, NULL, &e),
                     SL_OK);
    /* Expiry is exclusive: at expires_ms the lease is free. */
    assert_int_equal(lease_acquire(f->st, "orders", "bob", 100, 500, &b, &h, &e), SL_OK);
    assert_true(b->took_over);
    assert_string_equal(b->previous.owner, "alice");
    assert_string_equal(b->previous.token, a->token);
    assert_int_equal(b->previous.expires_ms, 100);
    assert_int_equal(b->expires_ms, 600);

    /* The old holder finds out at its next renewal, and cannot release. */
    assert_int_equal(lease_renew(f->st, a, 120, 100, &e), SL_LEASE_LOST);
    assert_non_null(strstr(e.msg, "bob"));
    assert_int_equal(lease_release(f->st, a, &e), SL_LEASE_LOST);
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_true(exists);
    assert_string_equal(h.owner, "bob");
    assert_string_equal(h.token, b->token);
    assert_int_equal(h.expires_ms, 600);

    /* The lost holder's attempts left the winner's lease working. */
    assert_int_equal(lease_renew(f->st, b, 300, 500, &e), SL_OK);
    assert_int_equal(lease_release(f->st, b, &e), SL_OK);
    lease_free(a);
    lease_free(b);

    /* A released lease is no takeover even when long expired. */
    assert_int_equal(lease_acquire(f->st, "orders", "carol", 9999, 10, &a, NULL, &e),
                     SL_OK);
    assert_false(a->took_over);
    lease_free(a);
    assert_int_equal(lease_acquire(f->st, "bad.name", "x", 0, 10, &a, NULL, &e),
                     SL_PIPELINE_INVALID);
    assert_int_equal(lease_acquire(f->st, "orders", "x", 0, 0, &a, NULL, &e),
                     SL_INTERNAL);
}

/* ---- a store wrapper that runs a hook just before one put --------------- */

typedef struct hook_ctx {
    store *inner;
    const char *trigger; /* key suffix of the put_if_absent that fires the hook */
    void (*hook)(struct hook_ctx *);
    int fired;
    int fail_after_put; /* report SL_STORE_TIMEOUT although the put happened */
} hook_ctx;

static hook_ctx *ctx_of(store *s)
{
    return s->impl;
}

static sl_code w_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    return store_list(ctx_of(s)->inner, req, out, err);
}

static sl_code w_get_range(store *s, const char *key, uint64_t offset, uint64_t len,
                           int whole, sl_buf *out, sl_err *err)
{
    store *in = ctx_of(s)->inner;
    return whole ? store_get(in, key, out, err)
                 : store_get_range(in, key, offset, len, out, err);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static sl_code w_put(store *s, const char *key, const void *data, size_t len,
                     int if_absent, sl_err *err)
{
    hook_ctx *c = ctx_of(s);
    if (if_absent && c->trigger && !c->fired && ends_with(key, c->trigger)) {
        c->fired = 1;
        if (c->hook)
            c->hook(c);
    }
    sl_code r = if_absent ? store_put_if_absent(c->inner, key, data, len, err)
                          : store_put(c->inner, key, data, len, err);
    if (r == SL_OK && c->fail_after_put)
        return err_set(err, SL_STORE_TIMEOUT, "timed out (after the write landed)");
    return r;
}

static sl_code w_del(store *s, const char *key, sl_err *err)
{
    return store_delete(ctx_of(s)->inner, key, err);
}

static sl_code w_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    return store_stat(ctx_of(s)->inner, key, out, err);
}

static const store_ops wrap_ops = {"wrap", w_list, w_get_range, w_put,
                                   w_del,  w_stat, NULL};

static store wrap(hook_ctx *c)
{
    store s = {&wrap_ops, "wrap://", NULL, c};
    return s;
}

/* Hook: the late holder renews just before the taker claims generation 2. */
static lease *late_holder;
static void hook_late_renew(hook_ctx *c)
{
    sl_err e = {0};
    assert_int_equal(lease_renew(c->inner, late_holder, 150, 1000, &e), SL_OK);
}

static void test_race_late_renew_vs_taker(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease_holder h;
    assert_int_equal(
        lease_acquire(f->st, "orders", "alice", 0, 100, &late_holder, NULL, &e), SL_OK);
    hook_ctx c = {
        .inner = f->st, .trigger = "00000000000000000002", .hook = hook_late_renew};
    store w = wrap(&c);
    lease *t = NULL;
    /* The taker read generation 1 as expired; the renewal wins generation 2. */
    assert_int_equal(lease_acquire(&w, "orders", "taker", 200, 100, &t, &h, &e),
                     SL_LEASE_HELD);
    assert_true(c.fired);
    assert_null(t);
    assert_string_equal(h.owner, "alice");
    assert_int_equal(h.expires_ms, 1150);
    assert_int_equal(lease_renew(f->st, late_holder, 300, 1000, &e), SL_OK);
    lease_free(late_holder);
}

/* Hook: while a slow taker sits on its stale read of generation 1, the
 * holder releases (2), bob acquires (3) and renews (4): generation 2 is
 * deleted again, so the slow taker's put_if_absent of 2 succeeds. It must
 * see generation 4 and step back. */
static lease *bob;
static void hook_release_acquire_renew(hook_ctx *c)
{
    sl_err e = {0};
    assert_int_equal(lease_release(c->inner, late_holder, &e), SL_OK);
    assert_int_equal(lease_acquire(c->inner, "orders", "bob", 200, 1000, &bob, NULL, &e),
                     SL_OK);
    assert_int_equal(lease_renew(c->inner, bob, 300, 1000, &e), SL_OK);
    char *objs = lease_objects(c->inner, "orders");
    assert_string_equal(objs, "_sluice/locks/orders.00000000000000000004\n");
    free(objs);
}

static void test_race_stale_taker_is_a_stray(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease_holder h;
    assert_int_equal(
        lease_acquire(f->st, "orders", "alice", 0, 100, &late_holder, NULL, &e), SL_OK);
    hook_ctx c = {.inner = f->st,
                  .trigger = "00000000000000000002",
                  .hook = hook_release_acquire_renew};
    store w = wrap(&c);
    lease *t = NULL;
    assert_int_equal(lease_acquire(&w, "orders", "slow", 400, 100, &t, &h, &e),
                     SL_LEASE_HELD);
    assert_true(c.fired);
    assert_null(t);
    assert_string_equal(h.owner, "bob");
    assert_int_equal(h.expires_ms, 1300);
    /* The stray generation 2 was removed; bob still holds and renews. */
    char *objs = lease_objects(f->st, "orders");
    assert_string_equal(objs, "_sluice/locks/orders.00000000000000000004\n");
    free(objs);
    assert_int_equal(lease_renew(f->st, bob, 500, 1000, &e), SL_OK);
    int exists;
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_true(exists);
    assert_string_equal(h.owner, "bob");
    lease_free(bob);
    lease_free(late_holder);
}

/* Hook: a second taker claims the same generation first. */
static void hook_other_taker(hook_ctx *c)
{
    sl_err e = {0};
    lease *o = NULL;
    assert_int_equal(lease_acquire(c->inner, "orders", "first", 200, 100, &o, NULL, &e),
                     SL_OK);
    assert_true(o->took_over);
    lease_free(o);
}

static void test_race_two_takers(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease_holder h;
    lease *a = NULL, *t = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "alice", 0, 100, &a, NULL, &e),
                     SL_OK);
    hook_ctx c = {
        .inner = f->st, .trigger = "00000000000000000002", .hook = hook_other_taker};
    store w = wrap(&c);
    assert_int_equal(lease_acquire(&w, "orders", "second", 200, 100, &t, &h, &e),
                     SL_LEASE_HELD);
    assert_string_equal(h.owner, "first");
    lease_free(a);
}

/* A put that reports a timeout after it landed still counts as ours. */
static void test_ambiguous_put(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    hook_ctx c = {.inner = f->st, .fail_after_put = 1};
    store w = wrap(&c);
    lease *a = NULL;
    assert_int_equal(lease_acquire(&w, "orders", "alice", 0, 100, &a, NULL, &e), SL_OK);
    assert_int_equal(lease_renew(&w, a, 50, 100, &e), SL_OK);
    assert_int_equal(a->expires_ms, 150);
    assert_int_equal(lease_release(&w, a, &e), SL_OK);
    lease_free(a);
}

/* A torn (unparsable) lease object is held ttl after it was written, then
 * taken over with the previous holder marked unreadable. */
static void test_unreadable_object(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    const char *key = "_sluice/locks/orders.00000000000000000007";
    assert_int_equal(store_put(f->st, key, "{\"own", 5, &e), SL_OK);
    store_obj st;
    assert_int_equal(store_stat(f->st, key, &st, &e), SL_OK);
    int64_t written = st.mtime_ms;
    store_obj_clear(&st);
    lease_holder h;
    int exists;
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_true(exists);
    assert_true(h.unreadable);
    lease *l = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "a", written + 99, 100, &l, &h, &e),
                     SL_LEASE_HELD);
    assert_true(h.unreadable);
    assert_non_null(strstr(e.msg, "unreadable"));
    assert_int_equal(lease_acquire(f->st, "orders", "a", written + 100, 100, &l, &h, &e),
                     SL_OK);
    assert_true(l->took_over);
    assert_true(l->previous.unreadable);
    assert_int_equal(l->generation, 8);
    lease_free(l);
}

/* Objects under the prefix that are not generations are ignored. */
static void test_foreign_keys_ignored(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    const char *junk[] = {"_sluice/locks/orders.99999999999999999999",
                          "_sluice/locks/orders.0000000000000000000x",
                          "_sluice/locks/orders.1", "_sluice/locks/orders.bak"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(store_put(f->st, junk[i], "{}", 2, &e), SL_OK);
    lease_holder h;
    int exists = 1;
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_false(exists);
    lease *l = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "a", 0, 100, &l, &h, &e), SL_OK);
    assert_int_equal(l->generation, 1);
    assert_false(l->took_over);
    lease_free(l);
}

/* ---- real processes ---------------------------------------------------- */

#define NPROC 6

/* Each child waits on the barrier, acquires, and reports one line:
 * "<code> <own owner> <winner or holder owner> <took_over> <previous owner>". */
static void child_acquire(const char *dir, int barrier_fd, int out_fd, int stay_fd,
                          const char *owner, int64_t now)
{
    char c;
    (void)!read(barrier_fd, &c, 1); /* returns at EOF: the parent let everyone go */
    store *st = NULL;
    sl_err e = {0};
    char line[800];
    if (store_open(dir, &st, &e) != SL_OK) {
        snprintf(line, sizeof line, "%d %s - 0 -\n", (int)SL_INTERNAL, owner);
    } else {
        lease *l = NULL;
        lease_holder h;
        memset(&h, 0, sizeof h);
        sl_code r = lease_acquire(st, "orders", owner, now, 5000, &l, &h, &e);
        if (r == SL_OK)
            snprintf(line, sizeof line, "%d %s %s %d %s\n", (int)r, owner, owner,
                     l->took_over, l->took_over ? l->previous.owner : "-");
        else
            snprintf(line, sizeof line, "%d %s %s 0 -\n", (int)r, owner,
                     h.owner[0] ? h.owner : "-");
        lease_free(l);
        store_close(st);
    }
    (void)!write(out_fd, line, strlen(line));
    /* Stay alive until every racer has reported: a winner that exited at
     * once would be a dead holder, which the others may rightly take over. */
    (void)!read(stay_fd, &c, 1);
    _exit(0);
}

typedef struct result {
    int code;
    char owner[64], holder[64], previous[64];
    int took_over;
} result;

/* Forks NPROC acquirers released at once; fills res[NPROC]. */
static void race(const char *dir, int round, int64_t now, result *res)
{
    int barrier[2], out[2], stay[2];
    assert_int_equal(pipe(barrier), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(stay), 0);
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        char owner[64];
        snprintf(owner, sizeof owner, "r%d-p%d", round, i);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(barrier[1]);
            close(out[0]);
            close(stay[1]);
            child_acquire(dir, barrier[0], out[1], stay[0], owner, now);
        }
    }
    close(barrier[0]);
    close(out[1]);
    close(stay[0]);
    close(barrier[1]); /* go */
    char buf[NPROC * 800 + 1];
    size_t len = 0;
    ssize_t n;
    int lines = 0;
    while (lines < NPROC && len < sizeof buf - 1 &&
           (n = read(out[0], buf + len, sizeof buf - 1 - len)) > 0) {
        for (ssize_t k = 0; k < n; k++)
            lines += buf[len + (size_t)k] == '\n';
        len += (size_t)n;
    }
    close(stay[1]); /* everyone reported: let them go */
    for (int i = 0; i < NPROC; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(out[0]);
    buf[len] = '\0';
    char *save = NULL;
    int i = 0;
    for (char *line = strtok_r(buf, "\n", &save); line && i < NPROC;
         line = strtok_r(NULL, "\n", &save), i++)
        assert_int_equal(sscanf(line, "%d %63s %63s %d %63s", &res[i].code, res[i].owner,
                                res[i].holder, &res[i].took_over, res[i].previous),
                         5);
    assert_int_equal(i, NPROC);
}

/* Exactly one winner; everyone else was refused naming the winner. */
static const result *one_winner(const result *res)
{
    const result *w = NULL;
    for (int i = 0; i < NPROC; i++)
        if (res[i].code == SL_OK) {
            assert_null(w);
            w = &res[i];
        }
    assert_non_null(w);
    for (int i = 0; i < NPROC; i++) {
        if (&res[i] == w)
            continue;
        assert_int_equal(res[i].code, SL_LEASE_HELD);
        assert_string_equal(res[i].holder, w->owner);
    }
    return w;
}

static void test_processes_acquire_at_once(void **state)
{
    fixture *f = *state;
    result res[NPROC];
    race(f->dir, 0, 1000, res);
    const result *w = one_winner(res);
    assert_int_equal(w->took_over, 0);
    lease_holder h;
    int exists;
    sl_err e = {0};
    assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
    assert_true(exists);
    assert_string_equal(h.owner, w->owner);
}

static void test_processes_race_takeover(void **state)
{
    fixture *f = *state;
    sl_err e = {0};
    lease *old = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "old", 0, 100, &old, NULL, &e),
                     SL_OK);
    lease_free(old);
    char previous[64] = "old";
    for (int round = 1; round <= 20; round++) {
        /* Each round starts after the previous winner's lease (5 s) expired. */
        result res[NPROC];
        race(f->dir, round, (int64_t)round * 10000, res);
        const result *w = one_winner(res);
        assert_int_equal(w->took_over, 1);
        assert_string_equal(w->previous, previous);
        snprintf(previous, sizeof previous, "%s", w->owner);
        lease_holder h;
        int exists;
        assert_int_equal(lease_read(f->st, "orders", &h, &exists, &e), SL_OK);
        assert_string_equal(h.owner, w->owner);
        assert_int_equal(h.expires_ms, (int64_t)round * 10000 + 5000);
    }
    char *objs = lease_objects(f->st, "orders");
    assert_int_equal(count_lines(objs), 1);
    free(objs);
}

/* A runner killed on this host leaves its lease behind: the next runner
 * takes it over at once (its process is gone), without waiting out the
 * ttl, and reports whose it was. A live holder still blocks. */
static void test_dead_holder_on_this_host(void **state)
{
    fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lease *l = NULL;
        lease_holder h;
        sl_err e = {0};
        _exit(lease_acquire(f->st, "orders", "doomed", 1000, 3600000, &l, &h, &e) == SL_OK
                  ? 0
                  : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), 0);
    lease *l = NULL;
    lease_holder h;
    sl_err e = {0};
    /* an hour before that lease's expiry */
    assert_int_equal(lease_acquire(f->st, "orders", "next", 2000, 60000, &l, &h, &e),
                     SL_OK);
    assert_true(l->took_over);
    assert_string_equal(l->previous.owner, "doomed");
    assert_int_equal(l->previous.pid, pid);
    /* this process is alive: another taker is refused */
    lease *l2 = NULL;
    assert_int_equal(lease_acquire(f->st, "orders", "third", 3000, 60000, &l2, &h, &e),
                     SL_LEASE_HELD);
    assert_string_equal(h.owner, "next");
    lease_free(l);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_takeover_and_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_late_renew_vs_taker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_stale_taker_is_a_stray, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_race_two_takers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ambiguous_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_keys_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_acquire_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_race_takeover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_holder_on_this_host, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
