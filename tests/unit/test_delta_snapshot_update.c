/* delta_snapshot_update (backend/delta/snapshot_update.c): a snapshot kept
 * open while random commits land (adds, removes, re-adds, files without
 * stats, metaData, txn and domainMetadata changes, checkpoints, cleaned-up
 * commits) must, once updated, equal a snapshot opened fresh at the same
 * version, file by file and action by action. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define TS0 INT64_C(1767225600000)
#define MAXF 64 /* distinct paths the random commits draw from */

typedef struct fx {
    char *dir;
    store *s;
    int64_t version; /* the newest commit written */
    int live[MAXF];  /* model: which paths are live (only for picking actions) */
    unsigned seed;
} fx;

static unsigned rnd(fx *f)
{
    f->seed = f->seed * 1103515245u + 12345u;
    return (f->seed >> 8) & 0xffffff;
}

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("snapupd");
    sl_err err = {0};
    assert_int_equal(store_open(f->dir, &f->s, &err), SL_OK);
    f->version = -1;
    f->seed = 12345;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Writes the next commit of the table "t" with the given action lines. */
static void commit_write(fx *f, const char *lines)
{
    f->version++;
    char key[64];
    snprintf(key, sizeof key, "t/_delta_log/%020lld.json", (long long)f->version);
    char *text =
        sl_asprintf("{\"commitInfo\":{\"timestamp\":%lld,\"operation\":\"TEST\"}}\n%s",
                    (long long)(TS0 + f->version * 1000), lines);
    sl_err err = {0};
    assert_int_equal(store_put_if_absent(f->s, key, text, strlen(text), &err), SL_OK);
    free(text);
}

static void table_create(fx *f)
{
    commit_write(f,
                 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
                 "{\"metaData\":{\"id\":\"t-1\",\"format\":{\"provider\":\"parquet\","
                 "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\","
                 "\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\","
                 "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],"
                 "\"configuration\":{},\"createdTime\":1}}\n");
}

static void add_line(fx *f, sl_buf *b, int p)
{
    /* Every fifth path has no stats and no data file: its rows are unknown. */
    if (p % 5 == 4)
        buf_appendf(b,
                    "{\"add\":{\"path\":\"f%02d.parquet\",\"partitionValues\":{},"
                    "\"size\":%d,\"modificationTime\":%lld,\"dataChange\":true}}\n",
                    p, 100 + p, (long long)(TS0 + f->version));
    else
        buf_appendf(
            b,
            "{\"add\":{\"path\":\"f%02d.parquet\",\"partitionValues\":{},"
            "\"size\":%d,\"modificationTime\":%lld,\"dataChange\":true,"
            "\"stats\":\"{\\\"numRecords\\\":%u,\\\"minValues\\\":{\\\"x\\\":1}}\","
            "\"tags\":{\"v\":\"%lld\"}}}\n",
            p, 100 + p, (long long)(TS0 + f->version), rnd(f) % 1000,
            (long long)f->version);
}

/* One random commit: a few adds (new paths or re-adds of removed ones,
 * replacements of live ones), removes, and now and then metaData, txn or
 * domainMetadata. */
static void random_commit(fx *f)
{
    sl_buf b = {0};
    int nact = 1 + (int)(rnd(f) % 4);
    int used[MAXF] = {0};
    for (int a = 0; a < nact; a++) {
        int p = (int)(rnd(f) % MAXF);
        if (used[p])
            continue; /* one action per path and commit */
        used[p] = 1;
        if (f->live[p] && rnd(f) % 3 == 0) {
            buf_appendf(
                &b,
                "{\"remove\":{\"path\":\"f%02d.parquet\",\"deletionTimestamp\":%lld,"
                "\"dataChange\":true}}\n",
                p, (long long)(TS0 + f->version));
            f->live[p] = 0;
        } else {
            add_line(f, &b, p);
            f->live[p] = 1;
        }
    }
    unsigned r = rnd(f) % 10;
    if (r == 0)
        buf_appendf(
            &b,
            "{\"metaData\":{\"id\":\"t-1\",\"format\":{\"provider\":\"parquet\","
            "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\","
            "\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\","
            "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],"
            "\"configuration\":{\"k\":\"%lld\"},\"createdTime\":1}}\n",
            (long long)f->version);
    else if (r == 1)
        buf_appendf(&b, "{\"txn\":{\"appId\":\"app-%u\",\"version\":%lld}}\n", rnd(f) % 3,
                    (long long)f->version);
    else if (r == 2)
        buf_appendf(&b,
                    "{\"domainMetadata\":{\"domain\":\"d%u\",\"configuration\":\"{}\","
                    "\"removed\":%s}}\n",
                    rnd(f) % 2, rnd(f) % 2 ? "true" : "false");
    if (!b.data)
        add_line(f, &b, 0), f->live[0] = 1;
    commit_write(f, b.data);
    buf_free(&b);
}

static void assert_json_equal(json_t *a, json_t *b)
{
    if (!json_equal(a, b)) {
        char *x = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
        char *y = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("%s\n  !=\n%s", x ? x : "NULL", y ? y : "NULL");
    }
}

static void assert_opt_str_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_true(a == b);
    else
        assert_string_equal(a, b);
}

/* The updated snapshot against a fresh one, field by field. exact_text: the
 * add texts must be byte-equal (both came from the same JSON commits). */
static void assert_snap_equal(const delta_snapshot *u, const delta_snapshot *o,
                              int exact_text)
{
    assert_int_equal(u->version, o->version);
    assert_int_equal(u->timestamp_ms, o->timestamp_ms);
    assert_int_equal(u->nfiles, o->nfiles);
    assert_int_equal(u->num_rows, o->num_rows);
    assert_int_equal(u->size_bytes, o->size_bytes);
    assert_int_equal(u->rows_unknown_files, o->rows_unknown_files);
    assert_int_equal(u->rows_from_footers, o->rows_from_footers);
    assert_json_equal(u->protocol, o->protocol);
    assert_json_equal(u->metadata, o->metadata);
    assert_json_equal(u->txns, o->txns);
    assert_json_equal(u->domains, o->domains);
    for (size_t i = 0; i < u->nfiles; i++) {
        const delta_file *a = &u->files[i], *b = &o->files[i];
        assert_string_equal(a->path, b->path);
        assert_opt_str_equal(a->dv_id, b->dv_id);
        assert_int_equal(a->size, b->size);
        assert_int_equal(a->modification_time, b->modification_time);
        assert_int_equal(a->num_records, b->num_records);
        assert_int_equal(a->dv_cardinality, b->dv_cardinality);
        char *ta = delta_file_add_text(a), *tb = delta_file_add_text(b);
        assert_non_null(ta);
        assert_non_null(tb);
        if (exact_text)
            assert_string_equal(ta, tb);
        json_t *ja = delta_file_add(a), *jb = delta_file_add(b);
        if (!exact_text) {
            /* A checkpoint writes its adds with dataChange false (the
             * protocol's rule): that flag says how the state was read. */
            json_object_del(ja, "dataChange");
            json_object_del(jb, "dataChange");
        }
        assert_json_equal(ja, jb);
        json_decref(ja);
        json_decref(jb);
        free(ta);
        free(tb);
    }
    assert_int_equal(u->ntombstones, o->ntombstones);
    for (size_t i = 0; i < u->ntombstones; i++) {
        const delta_tombstone *a = &u->tombstones[i], *b = &o->tombstones[i];
        assert_string_equal(a->path, b->path);
        assert_opt_str_equal(a->dv_id, b->dv_id);
        assert_int_equal(a->deletion_timestamp, b->deletion_timestamp);
        json_t *ja = delta_tombstone_remove(a), *jb = delta_tombstone_remove(b);
        if (!exact_text) {
            json_object_del(ja, "dataChange");
            json_object_del(jb, "dataChange");
        }
        assert_json_equal(ja, jb);
        json_decref(ja);
        json_decref(jb);
    }
}

static delta_snapshot *open_latest(fx *f)
{
    delta_snapshot *snap = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_err err = {0};
    assert_int_equal(delta_snapshot_open(f->s, "t", &at, &snap, &err), SL_OK);
    return snap;
}

static void update_ok(fx *f, delta_snapshot **snap)
{
    sl_err err = {0};
    sl_code c = delta_snapshot_update(f->s, "t", snap, &err);
    if (c != SL_OK)
        fail_msg("update: %s", err.msg);
    assert_non_null(*snap);
}

/* JSON commits only: after every round of 1..4 commits the kept snapshot,
 * updated in place, equals a fresh open, add texts byte for byte. */
static void test_update_random_commits(void **state)
{
    fx *f = *state;
    table_create(f);
    delta_snapshot *warm = open_latest(f);
    for (int round = 0; round < 60; round++) {
        int n = 1 + (int)(rnd(f) % 4);
        for (int k = 0; k < n; k++)
            random_commit(f);
        delta_snapshot *before = warm;
        update_ok(f, &warm);
        assert_ptr_equal(warm, before); /* updated in place, not reopened */
        assert_int_equal(warm->version, f->version);
        delta_snapshot *fresh = open_latest(f);
        assert_snap_equal(warm, fresh, 1);
        delta_snapshot_free(fresh);
    }
    /* Nothing new: the snapshot stays as it is. */
    update_ok(f, &warm);
    assert_int_equal(warm->version, f->version);
    delta_snapshot_free(warm);
}

/* A snapshot built from a checkpoint (adds kept as checkpoint columns) and
 * updated across later checkpoints equals a fresh open, which reads the
 * newest checkpoint. */
static void test_update_across_checkpoints(void **state)
{
    fx *f = *state;
    table_create(f);
    for (int k = 0; k < 12; k++)
        random_commit(f);
    sl_err err = {0};
    delta_snapshot *cp = open_latest(f);
    assert_int_equal(delta_checkpoint_write(f->s, "t", cp, TS0, NULL, &err), SL_OK);
    delta_snapshot_free(cp);
    delta_snapshot *warm = open_latest(f);
    assert_int_equal(warm->checkpoint_version, f->version);
    for (int round = 0; round < 20; round++) {
        int n = 1 + (int)(rnd(f) % 3);
        for (int k = 0; k < n; k++)
            random_commit(f);
        if (round % 5 == 4) {
            cp = open_latest(f);
            assert_int_equal(delta_checkpoint_write(f->s, "t", cp, TS0, NULL, &err),
                             SL_OK);
            delta_snapshot_free(cp);
        }
        update_ok(f, &warm);
        delta_snapshot *fresh = open_latest(f);
        assert_snap_equal(warm, fresh, 0);
        delta_snapshot_free(fresh);
    }
    delta_snapshot_free(warm);
}

/* The commits after the kept version were cleaned up behind a checkpoint:
 * the update cannot replay them and must reopen, not miss them. */
static void test_update_after_cleanup(void **state)
{
    fx *f = *state;
    table_create(f);
    for (int k = 0; k < 5; k++)
        random_commit(f);
    delta_snapshot *warm = open_latest(f);
    int64_t kept = warm->version;
    for (int k = 0; k < 6; k++)
        random_commit(f);
    sl_err err = {0};
    delta_snapshot *cp = open_latest(f);
    assert_int_equal(delta_checkpoint_write(f->s, "t", cp, TS0, NULL, &err), SL_OK);
    delta_snapshot_free(cp);
    for (int64_t v = 0; v <= kept + 2; v++) {
        char key[64];
        snprintf(key, sizeof key, "t/_delta_log/%020lld.json", (long long)v);
        assert_int_equal(store_delete(f->s, key, &err), SL_OK);
    }
    update_ok(f, &warm);
    delta_snapshot *fresh = open_latest(f);
    assert_snap_equal(warm, fresh, 0);
    delta_snapshot_free(fresh);

    /* Every commit cleaned up, nothing new after the checkpoint either. */
    delta_snapshot *old = NULL;
    delta_at at = {.kind = DELTA_AT_LATEST};
    assert_int_equal(delta_snapshot_open(f->s, "t", &at, &old, &err), SL_OK);
    old->version = kept; /* as if kept from before the cleanup */
    for (int64_t v = kept + 3; v <= f->version; v++) {
        char key[64];
        snprintf(key, sizeof key, "t/_delta_log/%020lld.json", (long long)v);
        assert_int_equal(store_delete(f->s, key, &err), SL_OK);
    }
    update_ok(f, &old);
    assert_int_equal(old->version, f->version);
    delta_snapshot_free(old);
    delta_snapshot_free(warm);
}

/* A commit that cannot be replayed leaves the kept snapshot as it was. */
static void test_update_error_keeps_snapshot(void **state)
{
    fx *f = *state;
    table_create(f);
    random_commit(f);
    delta_snapshot *warm = open_latest(f);
    int64_t v = warm->version;
    size_t n = warm->nfiles;
    commit_write(f, "{\"add\":{\"partitionValues\":{}}}\n"); /* no path */
    sl_err err = {0};
    assert_int_equal(delta_snapshot_update(f->s, "t", &warm, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(warm);
    assert_int_equal(warm->version, v);
    assert_int_equal(warm->nfiles, n);
    delta_snapshot_free(warm);

    /* NULL opens the latest readable... here the log is corrupt at the top. */
    delta_snapshot *none = NULL;
    assert_int_equal(delta_snapshot_update(f->s, "t", &none, &err), SL_DELTA_CORRUPT_LOG);
    assert_null(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_random_commits, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_across_checkpoints, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_after_cleanup, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_error_keeps_snapshot, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
