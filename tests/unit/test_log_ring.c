/* The log's in-memory ring (the console's command log): order, wrapping,
 * long texts cut at a character boundary, the stats the Health view shows,
 * log_op feeding it, and 4 writer threads plus a reader: no entry lost,
 * duplicated or torn. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/log.h"
#include "testutil.h"

static void test_order_and_wrap(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", "1700000000000", 1);
    log_ring *r = log_ring_new(4);
    assert_int_equal(log_ring_capacity(r), 4);
    log_entry *e = NULL;
    assert_int_equal(log_ring_copy(r, 0, &e), 0);
    assert_null(e);
    assert_int_equal(log_ring_last_seq(r), 0);
    for (int i = 1; i <= 6; i++) {
        char t[32];
        snprintf(t, sizeof t, "key-%d", i);
        log_ring_add(r, "store.get", t, i == 5 ? SL_STORE_IO : SL_OK, i * 1.5,
                     i == 5 ? "disk full" : NULL);
    }
    assert_int_equal(log_ring_last_seq(r), 6);
    /* Wrapped: the 4 newest, oldest first. */
    size_t n = log_ring_copy(r, 0, &e);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        char t[32];
        snprintf(t, sizeof t, "key-%zu", i + 3);
        assert_int_equal(e[i].seq, i + 3);
        assert_string_equal(e[i].target, t);
        assert_string_equal(e[i].op, "store.get");
        assert_true(e[i].duration_ms == (double)(i + 3) * 1.5);
        assert_int_equal(e[i].ts_ms, 1700000000000LL);
    }
    assert_int_equal(e[2].code, SL_STORE_IO);
    assert_string_equal(e[2].msg, "disk full");
    assert_string_equal(e[0].msg, "");
    free(e);
    /* Only what came after a seq. */
    n = log_ring_copy(r, 5, &e);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].seq, 6);
    free(e);
    assert_int_equal(log_ring_copy(r, 6, &e), 0);
    log_ring_free(r);
    log_ring_free(NULL);
    log_ring_add(NULL, "x", NULL, SL_OK, 0, NULL); /* no ring: a no-op */
}

static void test_long_text_cut_at_character(void **state)
{
    (void)state;
    log_ring *r = log_ring_new(2);
    sl_buf b = {0};
    for (int i = 0; i < LOG_RING_TEXT_MAX; i++)
        buf_append_str(&b, "é"); /* 2 bytes each: the cut falls inside one */
    log_ring_add(r, "store.list", b.data, SL_OK, 0, b.data);
    log_entry *e = NULL;
    assert_int_equal(log_ring_copy(r, 0, &e), 1);
    size_t len = strlen(e[0].target);
    assert_true(len < LOG_RING_TEXT_MAX);
    assert_string_equal(e[0].target + len - strlen("…"), "…");
    /* Every byte before the ellipsis belongs to a whole "é". */
    size_t body = len - strlen("…");
    assert_int_equal(body % 2, 0);
    assert_memory_equal(e[0].target, b.data, body);
    assert_string_equal(e[0].msg, e[0].target);
    free(e);
    buf_free(&b);
    log_ring_free(r);
}

static void test_stats_window_and_failures(void **state)
{
    (void)state;
    log_ring *r = log_ring_new(16);
    setenv("SLUICE_FAKE_NOW_MS", "900000", 1);
    log_ring_add(r, "store.get", "a", SL_OK, 100, NULL); /* outside the 1-min window */
    setenv("SLUICE_FAKE_NOW_MS", "1050000", 1);
    log_ring_add(r, "store.get", "b", SL_OK, 2, NULL);
    log_ring_add(r, "store.get", "c", SL_STORE_NOT_FOUND, 4,
                 "no such key");                                      /* an answer */
    log_ring_add(r, "store.put", "d", SL_STORE_IO, 9, "EIO");         /* a failure */
    log_ring_add(r, "delta.snapshot", "e", SL_DELTA_GAP, 500, "gap"); /* not store */
    log_ring_stats s;
    log_ring_stats_since(r, "store.", 1050000 - 60000 + 1, &s);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.errors, 1);
    assert_true(s.mean_ms == 5.0);
    assert_true(s.max_ms == 9.0);
    assert_int_equal(s.partial, 0);
    log_ring_stats_since(r, "store.", 0, &s);
    assert_int_equal(s.calls, 4);
    assert_true(s.mean_ms == (100.0 + 2 + 4 + 9) / 4);
    assert_true(s.max_ms == 100.0);
    log_ring_stats_since(r, NULL, 0, &s);
    assert_int_equal(s.calls, 5);
    assert_int_equal(s.errors, 2);
    assert_int_equal(log_code_is_failure(SL_OK), 0);
    assert_int_equal(log_code_is_failure(SL_STORE_NOT_FOUND), 0);
    assert_int_equal(log_code_is_failure(SL_STORE_EXISTS), 0);
    assert_int_equal(log_code_is_failure(SL_STORE_TIMEOUT), 1);
    log_ring_free(r);

    /* A window older than what the ring still holds is marked partial. */
    r = log_ring_new(2);
    for (int i = 0; i < 3; i++)
        log_ring_add(r, "store.get", "k", SL_OK, 1, NULL);
    log_ring_stats_since(r, "store.", 0, &s);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.partial, 1);
    assert_int_equal(s.kept, 2);
    log_ring_free(r);
    log_ring_stats_since(NULL, "store.", 0, &s);
    assert_int_equal(s.calls, 0);
}

static void test_log_op_feeds_the_ring(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("logring");
    sl_log *log = NULL;
    sl_err err = {0};
    assert_int_equal(log_open(dir, &log, &err), SL_OK);
    assert_null(log_ring_get(log));
    log_op(log, "store.get", "file:///before", SL_OK, 1, NULL); /* no ring yet */
    log_ring *r = log_ring_enable(log, 8);
    assert_non_null(r);
    assert_ptr_equal(log_ring_enable(log, 99), r); /* once */
    assert_ptr_equal(log_ring_get(log), r);
    log_op(log, "delta.commit", "file:///lake/orders", SL_DELTA_CONFLICT, 3.25,
           "lost race");
    log_entry *e = NULL;
    assert_int_equal(log_ring_copy(r, 0, &e), 1);
    assert_string_equal(e[0].op, "delta.commit");
    assert_string_equal(e[0].target, "file:///lake/orders");
    assert_int_equal(e[0].code, SL_DELTA_CONFLICT);
    assert_string_equal(e[0].msg, "lost race");
    free(e);
    /* The file still gets every line. */
    char *text = tu_read_file(log_path(log));
    assert_non_null(strstr(text, "file:///before"));
    assert_non_null(strstr(text, "lost race"));
    free(text);
    log_close(log); /* frees the ring */
    assert_null(log_ring_enable(NULL, 8));
    assert_null(log_ring_get(NULL));
    tu_rmtree(dir);
    free(dir);
}

#define WRITERS 4
#define PER_WRITER 3000

typedef struct writer {
    log_ring *r;
    int id;
} writer;

/* Every field of an entry encodes (writer, i), so a torn copy shows. */
static void *write_many(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < PER_WRITER; i++) {
        char op[32], target[64], msg[64];
        snprintf(op, sizeof op, "w%d", w->id);
        snprintf(target, sizeof target, "w%d/item-%d", w->id, i);
        snprintf(msg, sizeof msg, "msg w%d %d", w->id, i);
        log_ring_add(w->r, op, target, (sl_code)(i % 3), w->id * 100000.0 + i, msg);
    }
    return NULL;
}

static void check_entry(const log_entry *e, int *writer_out, int *i_out)
{
    int w, i;
    assert_int_equal(sscanf(e->target, "w%d/item-%d", &w, &i), 2);
    char op[32], msg[64];
    snprintf(op, sizeof op, "w%d", w);
    snprintf(msg, sizeof msg, "msg w%d %d", w, i);
    assert_string_equal(e->op, op);
    assert_string_equal(e->msg, msg);
    assert_int_equal(e->code, i % 3);
    assert_true(e->duration_ms == w * 100000.0 + i);
    *writer_out = w;
    *i_out = i;
}

/* check_entry without cmocka's asserts (which must stay on the main thread). */
static int entry_whole(const log_entry *e)
{
    int w, i;
    if (sscanf(e->target, "w%d/item-%d", &w, &i) != 2)
        return 0;
    char op[32], msg[64];
    snprintf(op, sizeof op, "w%d", w);
    snprintf(msg, sizeof msg, "msg w%d %d", w, i);
    return strcmp(e->op, op) == 0 && strcmp(e->msg, msg) == 0 &&
           e->code == (sl_code)(i % 3) && e->duration_ms == w * 100000.0 + i;
}

typedef struct reader {
    log_ring *r;
    size_t bad; /* torn or out-of-order entries seen */
    size_t seen;
} reader;

/* Reads while the writers run: every copy is in seq order and whole. */
static void *read_many(void *arg)
{
    reader *rd = arg;
    uint64_t after = 0;
    for (int round = 0; round < 400; round++) {
        log_entry *e = NULL;
        size_t n = log_ring_copy(rd->r, after, &e);
        for (size_t k = 0; k < n; k++) {
            rd->bad += !entry_whole(&e[k]) || e[k].seq <= after ||
                       (k && e[k].seq != e[k - 1].seq + 1);
            rd->seen++;
        }
        if (n)
            after = e[n - 1].seq;
        free(e);
    }
    return NULL;
}

static void run_writers(log_ring *r)
{
    pthread_t th[WRITERS], rth;
    writer w[WRITERS];
    reader rd = {r, 0, 0};
    assert_int_equal(pthread_create(&rth, NULL, read_many, &rd), 0);
    for (int k = 0; k < WRITERS; k++) {
        w[k].r = r;
        w[k].id = k;
        assert_int_equal(pthread_create(&th[k], NULL, write_many, &w[k]), 0);
    }
    for (int k = 0; k < WRITERS; k++)
        pthread_join(th[k], NULL);
    pthread_join(rth, NULL);
    assert_int_equal(rd.bad, 0);
}

static void test_concurrent_writers_lose_nothing(void **state)
{
    (void)state;
    log_ring *r = log_ring_new(WRITERS * PER_WRITER);
    run_writers(r);
    log_entry *e = NULL;
    size_t n = log_ring_copy(r, 0, &e);
    assert_int_equal(n, WRITERS * PER_WRITER);
    int next[WRITERS] = {0};
    for (size_t k = 0; k < n; k++) {
        int w, i;
        assert_int_equal(e[k].seq, k + 1);
        check_entry(&e[k], &w, &i);
        assert_true(w >= 0 && w < WRITERS);
        assert_int_equal(i, next[w]); /* each writer's entries in its order, none lost */
        next[w]++;
    }
    for (int k = 0; k < WRITERS; k++)
        assert_int_equal(next[k], PER_WRITER);
    free(e);
    log_ring_free(r);
}

static void test_concurrent_writers_wrapping(void **state)
{
    (void)state;
    log_ring *r = log_ring_new(1000);
    run_writers(r);
    assert_int_equal(log_ring_last_seq(r), WRITERS * PER_WRITER);
    log_entry *e = NULL;
    size_t n = log_ring_copy(r, 0, &e);
    assert_int_equal(n, 1000);
    int last[WRITERS] = {-1, -1, -1, -1};
    for (size_t k = 0; k < n; k++) {
        int w, i;
        assert_int_equal(e[k].seq, WRITERS * PER_WRITER - 1000 + k + 1);
        check_entry(&e[k], &w, &i);
        assert_true(i > last[w]);
        last[w] = i;
    }
    free(e);
    log_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_wrap),
        cmocka_unit_test(test_long_text_cut_at_character),
        cmocka_unit_test(test_stats_window_and_failures),
        cmocka_unit_test(test_log_op_feeds_the_ring),
        cmocka_unit_test(test_concurrent_writers_lose_nothing),
        cmocka_unit_test(test_concurrent_writers_wrapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
