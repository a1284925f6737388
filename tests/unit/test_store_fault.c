/* The fault-injecting store wrapper: rates per operation kind, determinism
 * by seed, the two transient codes, torn writes (never of commit files nor
 * of conditional creates), failures after the write happened, counters,
 * ownership of the inner store, and that a torn checkpoint leaves a Delta
 * table readable (the snapshot falls back to the JSON commits). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/store/store_fault.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

typedef struct fx {
    char *dir;
    store *inner;
} fx;

static int setup(void **state)
{
    fx *f = sl_calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("store-fault");
    sl_err err = {0};
    assert_int_equal(store_open(f->dir, &f->inner, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->inner);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* A wrapper that leaves the fixture's inner store open when closed. */
static store *wrap(fx *f, store_fault_opts *o)
{
    o->keep_inner = 1;
    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_fault_wrap(f->inner, o, &s, &err), SL_OK);
    assert_true(store_is_fault(s));
    assert_string_equal(store_url(s), store_url(f->inner));
    return s;
}

static int is_transient_store(sl_code c)
{
    return c == SL_STORE_TIMEOUT || c == SL_STORE_UNAVAILABLE;
}

static uint64_t inner_size(fx *f, const char *key, sl_code *code)
{
    store_obj o;
    sl_err err = {0};
    *code = store_stat(f->inner, key, &o, &err);
    uint64_t n = o.size;
    store_obj_clear(&o);
    return n;
}

/* ---- rates and determinism --------------------------------------------- */

/* The outcome pattern of n stats of one existing key, as a string of
 * '.' (ok), 'T' (timeout) and 'U' (unavailable). Caller frees. */
static char *stat_pattern(fx *f, uint64_t seed, double rate, int n)
{
    store_fault_opts o = {.seed = seed};
    o.fail_rate[SF_OP_STAT] = rate;
    store *s = wrap(f, &o);
    char *pat = sl_calloc((size_t)n + 1, 1);
    for (int i = 0; i < n; i++) {
        store_obj ob;
        sl_err err = {0};
        sl_code c = store_stat(s, "k", &ob, &err);
        store_obj_clear(&ob);
        pat[i] = c == SL_OK                  ? '.'
                 : c == SL_STORE_TIMEOUT     ? 'T'
                 : c == SL_STORE_UNAVAILABLE ? 'U'
                                             : '?';
        if (c != SL_OK)
            assert_non_null(strstr(err.msg, "injected fault: stat k"));
    }
    store_fault_counts k;
    store_fault_counts_get(s, &k);
    assert_int_equal(k.calls[SF_OP_STAT], n);
    assert_int_equal(k.failed[SF_OP_STAT], k.timeouts + k.unavailable);
    store_close(s);
    return pat;
}

static void test_rates_and_seed(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    assert_int_equal(store_put(f->inner, "k", "v", 1, &err), SL_OK);
    const int n = 2000;
    char *a = stat_pattern(f, 7, 0.3, n);
    char *b = stat_pattern(f, 7, 0.3, n);
    char *c = stat_pattern(f, 8, 0.3, n);
    assert_string_equal(a, b); /* same seed, same faults */
    assert_string_not_equal(a, c);
    size_t fails = 0, t = 0, u = 0;
    for (int i = 0; i < n; i++) {
        assert_true(a[i] != '?');
        fails += a[i] != '.';
        t += a[i] == 'T';
        u += a[i] == 'U';
    }
    /* 30% of 2000 is 600; binomial sd ~20, so +-150 never fails by chance. */
    assert_in_range(fails, 450, 750);
    assert_in_range(t, fails / 4, fails * 3 / 4); /* both codes, about half each */
    assert_int_equal(t + u, fails);
    free(a);
    free(b);
    free(c);

    char *none = stat_pattern(f, 7, 0.0, 200);
    char *all = stat_pattern(f, 7, 1.0, 200);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(none[i], '.');
        assert_true(all[i] == 'T' || all[i] == 'U');
    }
    free(none);
    free(all);
}

/* Each kind fails at its own rate; a kind at 0 never fails. */
static void test_per_kind(void **state)
{
    fx *f = *state;
    store_fault_opts o = {.seed = 3};
    o.fail_rate[SF_OP_PUT] = 1.0;
    store *s = wrap(f, &o);
    sl_err err = {0};
    sl_code c = store_put(s, "a/b", "xyz", 3, &err);
    assert_true(is_transient_store(c));
    sl_code ic;
    inner_size(f, "a/b", &ic);
    assert_int_equal(ic, SL_STORE_NOT_FOUND); /* failed before: nothing written */
    /* The other kinds pass through. */
    assert_int_equal(store_put_if_absent(s, "a/c", "12", 2, &err), SL_OK);
    sl_buf b = {0};
    assert_int_equal(store_get(s, "a/c", &b, &err), SL_OK);
    assert_int_equal(b.len, 2);
    assert_int_equal(store_get_range(s, "a/c", 1, 5, &b, &err), SL_OK);
    assert_int_equal(b.len, 1);
    buf_free(&b);
    store_page p;
    assert_int_equal(store_list_all(s, "", NULL, &p, &err), SL_OK);
    assert_int_equal(p.n, 1);
    store_page_free(&p);
    assert_int_equal(store_delete(s, "a/c", &err), SL_OK);
    store_fault_counts k;
    store_fault_counts_get(s, &k);
    assert_int_equal(k.calls[SF_OP_PUT], 1);
    assert_int_equal(k.failed[SF_OP_PUT], 1);
    assert_int_equal(k.calls[SF_OP_PUT_IF_ABSENT], 1);
    assert_int_equal(k.calls[SF_OP_GET], 2);
    assert_int_equal(k.calls[SF_OP_LIST], 1);
    assert_int_equal(k.calls[SF_OP_DELETE], 1);
    for (int i = 0; i < SF_OP_COUNT; i++)
        if (i != SF_OP_PUT)
            assert_int_equal(k.failed[i], 0);
    assert_int_equal(k.torn, 0);
    /* Paused: counted, never failed. */
    store_fault_set_enabled(s, 0);
    assert_int_equal(store_put(s, "a/b", "xyz", 3, &err), SL_OK);
    store_fault_set_enabled(s, 1);
    assert_true(is_transient_store(store_put(s, "a/b", "xyz", 3, &err)));
    store_fault_counts_get(s, &k);
    assert_int_equal(k.calls[SF_OP_PUT], 3);
    assert_int_equal(k.failed[SF_OP_PUT], 2);
    store_close(s);
    /* Rates outside [0, 1] are refused; the inner store is left alone. */
    store *bad = NULL;
    store_fault_opts ob = {0};
    ob.fail_rate[SF_OP_GET] = 1.5;
    assert_int_equal(store_fault_wrap(f->inner, &ob, &bad, &err), SL_INTERNAL);
    assert_null(bad);
    assert_int_equal(inner_size(f, "a/b", &ic), 3);
    assert_int_equal(ic, SL_OK);
    assert_string_equal(store_fault_op_name(SF_OP_PUT_IF_ABSENT), "put_if_absent");
    store_fault_counts_get(f->inner, &k); /* not a wrapper: zeros */
    assert_int_equal(k.calls[SF_OP_PUT], 0);
}

/* ---- torn writes --------------------------------------------------------- */

static void test_torn_writes(void **state)
{
    fx *f = *state;
    store_fault_opts o = {.seed = 11, .torn_rate = 1.0};
    store *s = wrap(f, &o);
    char data[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    sl_err err = {0};
    sl_code ic;
    /* A data file: a strict prefix lands and the caller sees a fault. */
    for (int i = 0; i < 20; i++) {
        char key[64];
        snprintf(key, sizeof key, "t/part-%d.parquet", i);
        sl_code c = store_put(s, key, data, sizeof data, &err);
        assert_true(is_transient_store(c));
        assert_non_null(strstr(err.msg, "torn write"));
        uint64_t n = inner_size(f, key, &ic);
        assert_int_equal(ic, SL_OK);
        assert_true(n < sizeof data);
        sl_buf b = {0};
        assert_int_equal(store_get(f->inner, key, &b, &err), SL_OK);
        assert_memory_equal(b.data ? b.data : "", data,
                            b.len); /* a prefix, not garbage */
        buf_free(&b);
    }
    /* Checkpoints and _last_checkpoint may be torn too. */
    assert_true(is_transient_store(store_put(
        s, "t/_delta_log/00000000000000000010.checkpoint.parquet", data, 100, &err)));
    assert_true(is_transient_store(
        store_put(s, "t/_delta_log/_last_checkpoint", data, 50, &err)));
    /* Commit files never: not by put, not by put_if_absent. */
    const char *commits[] = {"t/_delta_log/00000000000000000003.json",
                             "_delta_log/00000000000000000004.json"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(store_put(s, commits[i], data, sizeof data, &err), SL_OK);
        assert_int_equal(inner_size(f, commits[i], &ic), sizeof data);
    }
    assert_int_equal(store_put_if_absent(s, "t/_delta_log/00000000000000000005.json",
                                         data, sizeof data, &err),
                     SL_OK);
    /* Conditional creates (leases) are atomic wherever they go. */
    assert_int_equal(store_put_if_absent(s, "_sluice/locks/p", data, sizeof data, &err),
                     SL_OK);
    assert_int_equal(inner_size(f, "_sluice/locks/p", &ic), sizeof data);
    /* Names that only look like commits are tearable. */
    assert_true(is_transient_store(
        store_put(s, "t/_delta_log/00000000000000000003.json.tmp", data, 10, &err)));
    assert_true(is_transient_store(
        store_put(s, "t/x_delta_log/00000000000000000003.json", data, 10, &err)));
    /* Empty objects cannot be torn. */
    assert_int_equal(store_put(s, "t/empty", "", 0, &err), SL_OK);
    store_fault_counts k;
    store_fault_counts_get(s, &k);
    assert_int_equal(k.torn, 24);
    assert_int_equal(k.failed[SF_OP_PUT], 0);
    store_close(s);
}

/* ---- failing after the inner call ---------------------------------------- */

static void test_fail_after(void **state)
{
    fx *f = *state;
    store_fault_opts o = {.seed = 5};
    o.fail_after_rate[SF_OP_PUT_IF_ABSENT] = 1.0;
    o.fail_after_rate[SF_OP_DELETE] = 1.0;
    o.fail_after_rate[SF_OP_LIST] = 1.0;
    store *s = wrap(f, &o);
    sl_err err = {0};
    sl_code ic;
    /* The commit landed although the caller saw a timeout or 503. */
    sl_code c =
        store_put_if_absent(s, "t/_delta_log/00000000000000000001.json", "{}\n", 3, &err);
    assert_true(is_transient_store(c));
    assert_non_null(strstr(err.msg, "after the store carried it out"));
    assert_int_equal(inner_size(f, "t/_delta_log/00000000000000000001.json", &ic), 3);
    /* A retry then meets its own write: EXISTS passes through unchanged. */
    assert_int_equal(
        store_put_if_absent(s, "t/_delta_log/00000000000000000001.json", "{}\n", 3, &err),
        SL_STORE_EXISTS);
    /* A delete that happened, reported failed. */
    assert_true(is_transient_store(
        store_delete(s, "t/_delta_log/00000000000000000001.json", &err)));
    inner_size(f, "t/_delta_log/00000000000000000001.json", &ic);
    assert_int_equal(ic, SL_STORE_NOT_FOUND);
    /* A listing whose answer is lost: the caller gets no items. */
    store_page p = {0};
    assert_true(
        is_transient_store(store_list(s, &(store_list_req){.prefix = ""}, &p, &err)));
    assert_int_equal(p.n, 0);
    assert_null(p.items);
    store_fault_counts k;
    store_fault_counts_get(s, &k);
    assert_int_equal(k.failed_after[SF_OP_PUT_IF_ABSENT], 1);
    assert_int_equal(k.failed_after[SF_OP_DELETE], 1);
    assert_int_equal(k.failed_after[SF_OP_LIST], 1);
    assert_int_equal(k.failed[SF_OP_PUT_IF_ABSENT], 0);
    store_close(s);
}

/* ---- ownership ------------------------------------------------------------ */

/* Without keep_inner the wrapper closes the inner store (ASan's leak check
 * fails this test otherwise); with it the inner store stays usable. */
static void test_ownership(void **state)
{
    fx *f = *state;
    store *own = NULL, *w = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(f->dir, &own, &err), SL_OK);
    store_fault_opts o;
    store_fault_opts_uniform(&o, 0.0, 1);
    assert_int_equal(store_fault_wrap(own, &o, &w, &err), SL_OK);
    assert_int_equal(store_put(w, "x", "1", 1, &err), SL_OK);
    store_close(w); /* closes own too */

    store_fault_opts_uniform(&o, 0.0, 1);
    o.keep_inner = 1;
    assert_int_equal(store_fault_wrap(f->inner, &o, &w, &err), SL_OK);
    store_close(w);
    sl_buf b = {0};
    assert_int_equal(store_get(f->inner, "x", &b, &err), SL_OK);
    assert_int_equal(b.len, 1);
    buf_free(&b);

    store_fault_opts_uniform(&o, 0.25, 9);
    for (int i = 0; i < SF_OP_COUNT; i++) {
        assert_true(o.fail_rate[i] == 0.25);
        assert_true(o.fail_after_rate[i] == 0.0);
    }
    assert_true(o.torn_rate == 0.25);
    assert_int_equal(o.seed, 9);
}

/* ---- a torn checkpoint ------------------------------------------------------ */

static const pq_schema_col COLS[] = {{"id", PQ_TYPE_INT64, false}};

static void append_ids(store *s, int64_t first, size_t n)
{
    pq_value rows[16];
    for (size_t i = 0; i < n; i++)
        rows[i] = pq_val_i64(first + (int64_t)i);
    delta_append_req req = {.rows = rows, .nrows = n, .ncols = 1};
    delta_append_result r;
    sl_err err = {0};
    assert_int_equal(delta_table_append(s, "t", &req, NULL, &r, &err), SL_OK);
}

/* Delta readers skip an unreadable checkpoint and rebuild from the JSON
 * commits; a torn _last_checkpoint is only a wrong hint. */
static void test_torn_checkpoint_readable(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    delta_table_spec spec = {.cols = COLS, .ncols = 1};
    delta_commit_result cr;
    assert_int_equal(delta_table_create(f->inner, "t", &spec, NULL, &cr, &err), SL_OK);
    for (int v = 1; v <= 3; v++)
        append_ids(f->inner, v * 10, 4);
    delta_snapshot *snap = NULL;
    assert_int_equal(delta_snapshot_open(f->inner, "t", NULL, &snap, &err), SL_OK);
    assert_int_equal(snap->version, 3);

    store_fault_opts o = {.seed = 2, .torn_rate = 1.0};
    store *s = wrap(f, &o);
    sl_code c = delta_checkpoint_write(s, "t", snap, time_now_ms(), NULL, &err);
    assert_true(is_transient_store(c));
    delta_snapshot_free(snap);
    sl_code ic;
    uint64_t torn =
        inner_size(f, "t/_delta_log/00000000000000000003.checkpoint.parquet", &ic);
    assert_int_equal(ic, SL_OK); /* the torn file is there for readers to meet */
    (void)torn;
    /* A torn _last_checkpoint pointing at it, for good measure. */
    const char *hint =
        "{\"version\":3,\"size\":13,\"sizeInBytes\":1000,\"numOfAddFiles\":3}";
    assert_true(is_transient_store(
        store_put(s, "t/_delta_log/_last_checkpoint", hint, strlen(hint), &err)));
    store_close(s);

    snap = NULL;
    c = delta_snapshot_open(f->inner, "t", NULL, &snap, &err);
    if (c != SL_OK)
        fail_msg("snapshot over a torn checkpoint: %s", err.msg);
    assert_int_equal(snap->version, 3);
    assert_int_equal(snap->checkpoint_version, -1); /* rebuilt from the commits */
    assert_int_equal(snap->nfiles, 3);
    assert_int_equal(snap->num_rows, 12);
    delta_snapshot_free(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rates_and_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_checkpoint_readable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
