/* Writing classic checkpoints: a snapshot rebuilt from our checkpoint (plus
 * later JSON commits) equals the one rebuilt from JSON commits alone — on a
 * hand-made partitioned table with tags, nulls, txns and domain metadata,
 * and on copies of the fixture tables; tombstones past the deleted-file
 * retention are left out; _last_checkpoint says what was written; the
 * interval and retention settings are read as Delta spells them; a
 * snapshot whose adds are kept as checkpoint columns checkpoints into the
 * same bytes (its adds copied from the checkpoint's columns, also of many
 * shapes and from checkpoints written by others, give the text way's
 * bytes); rows shredded from JSON text equal rows shredded from trees. */
#include "deltatest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_shred.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

static const delta_at LATEST = {.kind = DELTA_AT_LATEST};

/* Null members dropped at every level: a checkpoint leaves null fields out
 * where a JSON commit may spell them. dataChange is dropped too: a
 * checkpoint records state (false). */
static json_t *norm(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (json_is_null(x) || strcmp(k, "dataChange") == 0)
                continue;
            json_object_set_new(o, k, norm(x));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, norm(json_array_get(v, i)));
        return a;
    }
    return json_deep_copy(v);
}

static void assert_norm_eq(const json_t *a, const json_t *b, const char *what,
                           const char *where)
{
    json_t *na = norm(a), *nb = norm(b);
    if (!json_equal(na, nb)) {
        char *ta = json_dumps(na, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *tb = json_dumps(nb, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("%s: %s differs:\n json       %s\n checkpoint %s", where, what, ta, tb);
    }
    json_decref(na);
    json_decref(nb);
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* want: JSON-only snapshot; got: from the checkpoint. Tombstones of want
 * deleted at or before cutoff_ms are expected to be gone. */
static void assert_snapshots_equal(const delta_snapshot *want, const delta_snapshot *got,
                                   int64_t cutoff_ms, bool all_from_checkpoint,
                                   const char *where)
{
    assert_int_equal(want->version, got->version);
    assert_norm_eq(want->protocol, got->protocol, "protocol", where);
    assert_norm_eq(want->metadata, got->metadata, "metaData", where);
    assert_norm_eq(want->txns, got->txns, "txns", where);
    assert_norm_eq(want->domains, got->domains, "domainMetadata", where);
    if (want->nfiles != got->nfiles)
        fail_msg("%s: %zu files from JSON, %zu from the checkpoint", where, want->nfiles,
                 got->nfiles);
    for (size_t i = 0; i < want->nfiles; i++) {
        const delta_file *a = &want->files[i], *b = &got->files[i];
        if (strcmp(a->path, b->path) != 0 || !str_eq(a->dv_id, b->dv_id))
            fail_msg("%s: file %zu: %s vs %s", where, i, a->path, b->path);
        assert_int_equal(a->size, b->size);
        assert_int_equal(a->modification_time, b->modification_time);
        assert_int_equal(a->num_records, b->num_records);
        assert_int_equal(a->dv_cardinality, b->dv_cardinality);
        json_t *ja = delta_file_add(a), *jb = delta_file_add(b);
        assert_non_null(ja);
        assert_non_null(jb);
        assert_norm_eq(ja, jb, a->path, where);
        if (all_from_checkpoint)
            assert_true(json_is_false(json_object_get(jb, "dataChange")));
        json_decref(ja);
        json_decref(jb);
    }
    assert_int_equal(want->num_rows, got->num_rows);
    assert_int_equal(want->size_bytes, got->size_bytes);
    size_t kept = 0;
    for (size_t i = 0; i < want->ntombstones; i++) {
        const delta_tombstone *t = &want->tombstones[i];
        int64_t ts = t->deletion_timestamp < 0 ? 0 : t->deletion_timestamp;
        const delta_tombstone *m = NULL;
        for (size_t j = 0; j < got->ntombstones && !m; j++)
            if (strcmp(got->tombstones[j].path, t->path) == 0 &&
                str_eq(got->tombstones[j].dv_id, t->dv_id))
                m = &got->tombstones[j];
        if (ts <= cutoff_ms) {
            if (m)
                fail_msg("%s: expired tombstone %s kept", where, t->path);
            continue;
        }
        if (!m)
            fail_msg("%s: tombstone %s lost", where, t->path);
        kept++;
        assert_int_equal(t->deletion_timestamp, m->deletion_timestamp);
        json_t *ra = delta_tombstone_remove(t), *rb = delta_tombstone_remove(m);
        assert_norm_eq(ra, rb, t->path, where);
        json_decref(ra);
        json_decref(rb);
    }
    assert_int_equal(kept, got->ntombstones);
}

/* Writes the checkpoint of the latest version and compares; returns the
 * version checkpointed. */
static int64_t checkpoint_and_compare(const char *dir, int64_t now_ms, int64_t cutoff_ms,
                                      const char *where, delta_checkpoint_result *res)
{
    store *s = dt_open_store(dir);
    sl_err err = {0};
    delta_snapshot *json_snap = NULL;
    if (delta_snapshot_open_ex(s, "", &LATEST, 0, &json_snap, &err) != SL_OK)
        fail_msg("%s: JSON snapshot: %s", where, err.msg);
    if (delta_checkpoint_write(s, "", json_snap, now_ms, res, &err) != SL_OK)
        fail_msg("%s: checkpoint: %s", where, err.msg);
    assert_int_equal(res->version, json_snap->version);
    assert_int_equal(res->num_adds, (int64_t)json_snap->nfiles);
    delta_snapshot *cp_snap = NULL;
    if (delta_snapshot_open_ex(s, "", &LATEST, 1, &cp_snap, &err) != SL_OK)
        fail_msg("%s: checkpoint snapshot: %s", where, err.msg);
    assert_int_equal(cp_snap->checkpoint_version, json_snap->version);
    assert_snapshots_equal(json_snap, cp_snap, cutoff_ms, true, where);
    int64_t v = json_snap->version;
    delta_snapshot_free(cp_snap);
    delta_snapshot_free(json_snap);
    store_close(s);
    return v;
}

static void check_last_checkpoint(const char *dir, const delta_checkpoint_result *res)
{
    char *p = sl_asprintf("%s/_delta_log/_last_checkpoint", dir);
    char *text = tu_read_file(p);
    assert_non_null(text);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), res->version);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), res->rows);
    assert_int_equal(json_integer_value(json_object_get(j, "sizeInBytes")),
                     res->size_bytes);
    assert_int_equal(json_integer_value(json_object_get(j, "numOfAddFiles")),
                     res->num_adds);
    char *cp = sl_asprintf("%s/_delta_log/%020lld.checkpoint.parquet", dir,
                           (long long)res->version);
    FILE *fp = fopen(cp, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    assert_int_equal(ftell(fp), res->size_bytes);
    fclose(fp);
    free(cp);
    json_decref(j);
    free(text);
    free(p);
}

/* ---- a hand-made table ---- */

#define NOW 1800000000000LL
#define HOUR 3600000LL

static void write_commit(const char *dir, int v, const char *lines)
{
    char *rel = sl_asprintf("_delta_log/%020d.json", v);
    tu_write_file(dir, rel, lines);
    free(rel);
}

static char *add_line(int i, int64_t ts)
{
    return sl_asprintf(
        "{\"add\":{\"path\":\"day=2024-01-0%d/region=%s/part-%03d.parquet\","
        "\"partitionValues\":{\"day\":\"2024-01-0%d\",\"region\":%s},\"size\":%d,"
        "\"modificationTime\":%lld,\"dataChange\":true,\"stats\":%s%s}}\n",
        i % 9 + 1, i % 3 ? "eu" : "us", i, i % 9 + 1, i % 4 == 0 ? "null" : "\"eu\"",
        1000 + i, (long long)ts, "\"{\\\"numRecords\\\":",
        i % 2 ? "7,\\\"minValues\\\":{\\\"id\\\":1},\\\"maxValues\\\":{\\\"id\\\":9},"
                "\\\"nullCount\\\":{\\\"id\\\":0}}\""
              : "3}\",\"tags\":{\"INSERTION_TIME\":\"1700000000000000\",\"x\":\"\"}");
}

static void build_table(const char *dir)
{
    sl_buf b = {0};
    buf_append_str(
        &b, "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"WRITE\"}}\n"
            "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
            "{\"metaData\":{\"id\":\"0b8f1c3e-1111-4d3c-9a55-0f6a7c1d2e3f\","
            "\"name\":null,\"format\":{\"provider\":\"parquet\",\"options\":{}},"
            "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":["
            "{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
            "\\\"metadata\\\":{}},{\\\"name\\\":\\\"day\\\",\\\"type\\\":\\\"string\\\","
            "\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"region\\\","
            "\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
            "\"partitionColumns\":[\"day\",\"region\"],\"configuration\":"
            "{\"delta.checkpointInterval\":\"3\",\"delta.deletedFileRetentionDuration\":"
            "\"interval 2 days\"},\"createdTime\":1700000000000}}\n");
    for (int i = 0; i < 12; i++) {
        char *l = add_line(i, 1700000000000LL + i);
        buf_append_str(&b, l);
        free(l);
    }
    write_commit(dir, 0, b.data);
    buf_reset(&b);
    /* v1: a txn, more files, a recent remove (kept) and an old one (expired) */
    buf_append_str(
        &b, "{\"commitInfo\":{\"timestamp\":1700000001000,\"operation\":\"WRITE\"}}\n"
            "{\"txn\":{\"appId\":\"sluice-run\",\"version\":4,"
            "\"lastUpdated\":1700000001000}}\n");
    for (int i = 12; i < 20; i++) {
        char *l = add_line(i, 1700000001000LL + i);
        buf_append_str(&b, l);
        free(l);
    }
    buf_appendf(
        &b,
        "{\"remove\":{\"path\":\"day=2024-01-01/region=us/part-000.parquet\","
        "\"deletionTimestamp\":%lld,\"dataChange\":true,\"extendedFileMetadata\":true,"
        "\"partitionValues\":{\"day\":\"2024-01-01\",\"region\":null},\"size\":1000}}\n"
        "{\"remove\":{\"path\":\"day=2024-01-02/region=eu/part-001.parquet\","
        "\"deletionTimestamp\":%lld,\"dataChange\":true}}\n",
        (long long)(NOW - HOUR), (long long)(NOW - 3 * 24 * HOUR));
    write_commit(dir, 1, b.data);
    buf_reset(&b);
    /* v2: another app's txn, a newer version of the first, a remove */
    buf_append_str(
        &b, "{\"commitInfo\":{\"timestamp\":1700000002000,\"operation\":\"WRITE\"}}\n"
            "{\"txn\":{\"appId\":\"sluice-run\",\"version\":5}}\n"
            "{\"txn\":{\"appId\":\"other\",\"version\":1,\"lastUpdated\":7}}\n");
    buf_appendf(&b,
                "{\"remove\":{\"path\":\"day=2024-01-03/region=eu/part-002.parquet\","
                "\"deletionTimestamp\":%lld,\"dataChange\":true,\"size\":1002}}\n",
                (long long)(NOW - 47 * HOUR));
    write_commit(dir, 2, b.data);
    buf_free(&b);
}

static void test_handmade_table(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("cpw");
    build_table(dir);
    delta_checkpoint_result res = {0};
    int64_t v = checkpoint_and_compare(dir, NOW, NOW - 2 * 24 * HOUR, "handmade", &res);
    assert_int_equal(v, 2);
    assert_int_equal(res.num_adds, 17);
    assert_int_equal(res.num_removes, 2); /* the 3-day-old one expired */
    assert_int_equal(res.rows, 1 + 1 + 2 + 17 + 2);
    check_last_checkpoint(dir, &res);

    /* commits after the checkpoint still replay on top of it */
    sl_buf b = {0};
    buf_append_str(
        &b, "{\"commitInfo\":{\"timestamp\":1700000003000,\"operation\":\"WRITE\"}}\n");
    for (int i = 20; i < 23; i++) {
        char *l = add_line(i, 1700000003000LL + i);
        buf_append_str(&b, l);
        free(l);
    }
    buf_appendf(&b,
                "{\"remove\":{\"path\":\"day=2024-01-04/region=us/part-003.parquet\","
                "\"deletionTimestamp\":%lld,\"dataChange\":true}}\n",
                (long long)NOW);
    write_commit(dir, 3, b.data);
    buf_free(&b);
    store *s = dt_open_store(dir);
    sl_err err = {0};
    delta_snapshot *a = NULL, *c = NULL;
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 0, &a, &err), SL_OK);
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 1, &c, &err), SL_OK);
    assert_int_equal(c->checkpoint_version, 2);
    assert_int_equal(c->version, 3);
    assert_snapshots_equal(a, c, NOW - 2 * 24 * HOUR, false, "handmade v3");
    assert_true(delta_checkpoint_due(a->metadata, 3));
    assert_false(delta_checkpoint_due(a->metadata, 4));
    /* after the commit of v3 (interval 3) the writer checkpoints it */
    bool written = false;
    assert_int_equal(delta_checkpoint_after_commit(s, "", 3, NOW, &written, &err), SL_OK);
    assert_true(written);
    delta_snapshot *d = NULL;
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 1, &d, &err), SL_OK);
    assert_int_equal(d->checkpoint_version, 3);
    assert_snapshots_equal(a, d, NOW - 2 * 24 * HOUR, true, "handmade after_commit");
    delta_snapshot_free(d);
    char *lc = sl_asprintf("%s/_delta_log/_last_checkpoint", dir);
    char *text = tu_read_file(lc);
    assert_non_null(strstr(text, "\"version\":3"));
    free(text);
    free(lc);
    /* v1 is not due: nothing written */
    assert_int_equal(delta_checkpoint_after_commit(s, "", 1, NOW, &written, &err), SL_OK);
    assert_false(written);
    char *cp1 = sl_asprintf("%s/_delta_log/%020d.checkpoint.parquet", dir, 1);
    assert_null(tu_read_file(cp1));
    free(cp1);
    delta_snapshot_free(a);
    delta_snapshot_free(c);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* ---- fixtures ---- */

static void test_fixture_tables(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    static const char *const tables[] = {
        "delta-rs/simple_table",
        "delta-rs/simple_table_with_checkpoint",
        "delta-rs/delta-0.8.0-partitioned",
        "delta-rs/delta-0.8.0-special-partition",
        "delta-rs/cdf-table",
        "delta-rs/table-with-dv-small",
        "delta-rs/table_with_deletion_logs",
        "delta-rs/table_with_column_mapping",
        "delta/basic-with-inserts-deletes-checkpoint",
        "delta/basic-with-inserts-overwrite-restore",
        "delta/commit-info-optimize",
        "delta/data-reader-partition-values",
        "delta/multi-part-checkpoint",
    };
    size_t compared = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char *tmp = tu_mkdtemp("cpwfx");
        char *dir = dt_copy_fixture(tmp, tables[i]);
        /* our checkpoint must be the one used: drop theirs */
        char *rm = sl_asprintf("rm -f '%s'/_delta_log/*.checkpoint*.parquet "
                               "'%s'/_delta_log/_last_checkpoint",
                               dir, dir);
        assert_int_equal(tu_run(rm, NULL), 0);
        store *s = dt_open_store(dir);
        sl_err err = {0};
        delta_snapshot *probe = NULL;
        sl_code rc = delta_snapshot_open_ex(s, "", &LATEST, 0, &probe, &err);
        delta_snapshot_free(probe);
        store_close(s);
        if (rc != SL_OK) {
            printf("note: %s has no JSON-only snapshot (%s); not compared\n", tables[i],
                   err.msg);
        } else {
            delta_checkpoint_result res = {0};
            /* now 0: every tombstone is inside the retention, all kept */
            checkpoint_and_compare(dir, 0, INT64_MIN, tables[i], &res);
            check_last_checkpoint(dir, &res);
            compared++;
        }
        tu_rmtree(tmp);
        free(rm);
        free(dir);
        free(tmp);
    }
    assert_true(compared >= 8);
}

static void test_settings(void **state)
{
    (void)state;
    json_t *md = json_pack("{s:{}}", "configuration");
    assert_int_equal(delta_checkpoint_interval(md), 10);
    assert_int_equal(delta_deleted_file_retention_ms(md), 7 * 24 * HOUR);
    json_t *conf = json_object_get(md, "configuration");
    json_object_set_new(conf, "delta.checkpointInterval", json_string("25"));
    assert_int_equal(delta_checkpoint_interval(md), 25);
    assert_true(delta_checkpoint_due(md, 50));
    assert_false(delta_checkpoint_due(md, 0));
    json_object_set_new(conf, "delta.checkpointInterval", json_string("0"));
    assert_int_equal(delta_checkpoint_interval(md), 10);
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {{"interval 1 week", 7 * 24 * HOUR},
                 {"interval 168 hours", 168 * HOUR},
                 {"INTERVAL 2 DAYS", 48 * HOUR},
                 {"interval 1 day 12 hours", 36 * HOUR},
                 {"interval 30 minutes", HOUR / 2},
                 {"interval 0 seconds", 0},
                 {"3 days", 72 * HOUR},
                 {"interval 7 fortnights", -1},
                 {"interval", -1},
                 {"soon", -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object_set_new(conf, "delta.deletedFileRetentionDuration",
                            json_string(cases[i].text));
        if (delta_deleted_file_retention_ms(md) != cases[i].ms)
            fail_msg("'%s': %lld, want %lld", cases[i].text,
                     (long long)delta_deleted_file_retention_ms(md),
                     (long long)cases[i].ms);
    }
    json_decref(md);
}

/* ---- adds kept as checkpoint columns; rows shredded from text ---- */

static sl_buf read_bytes(const char *path)
{
    sl_buf b = {0};
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    return b;
}

/* A snapshot whose adds and removes come from our checkpoint (the adds as
 * kept columns, their texts written on demand) checkpoints into the very
 * same bytes as the JSON-only snapshot of that version. */
static void test_checkpoint_of_checkpoint(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("cpw2"), *dir2 = tu_mkdtemp("cpw2b");
    build_table(dir);
    delta_checkpoint_result res = {0}, res2 = {0};
    int64_t v = checkpoint_and_compare(dir, NOW, NOW - 2 * 24 * HOUR, "cp of cp", &res);
    store *s = dt_open_store(dir), *s2 = dt_open_store(dir2);
    sl_err err = {0};
    delta_snapshot *c = NULL;
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 1, &c, &err), SL_OK);
    assert_int_equal(c->checkpoint_version, v);
    size_t from_cols = 0;
    for (size_t i = 0; i < c->nfiles; i++)
        from_cols += c->files[i].add_batch != NULL && !c->files[i].add_text;
    assert_int_equal(from_cols, c->nfiles); /* the path under test was taken */
    assert_int_equal(delta_checkpoint_write(s2, "", c, NOW, &res2, &err), SL_OK);
    assert_int_equal(res2.num_adds_direct, (int64_t)c->nfiles);
    assert_int_equal(res2.rows, res.rows);
    assert_int_equal(res2.num_adds, res.num_adds);
    assert_int_equal(res2.num_removes, res.num_removes);
    char *a = sl_asprintf("%s/_delta_log/%020lld.checkpoint.parquet", dir, (long long)v);
    char *b = sl_asprintf("%s/_delta_log/%020lld.checkpoint.parquet", dir2, (long long)v);
    sl_buf ba = read_bytes(a), bb = read_bytes(b);
    assert_int_equal(ba.len, bb.len);
    assert_memory_equal(ba.data, bb.data, ba.len);
    buf_free(&ba);
    buf_free(&bb);
    free(a);
    free(b);
    delta_snapshot_free(c);
    store_close(s);
    store_close(s2);
    tu_rmtree(dir);
    tu_rmtree(dir2);
    free(dir);
    free(dir2);
}

/* ---- adds copied from checkpoint columns (no JSON text in between) ---- */

/* Writes snap's checkpoint into a fresh folder, the direct way allowed or
 * not (text_only); returns the file's bytes. */
static sl_buf checkpoint_bytes(const delta_snapshot *snap, int text_only,
                               delta_checkpoint_result *res)
{
    char *dir = tu_mkdtemp("cpwd");
    store *s = dt_open_store(dir);
    sl_err err = {0};
    delta_checkpoint_text_adds = text_only;
    sl_code rc = delta_checkpoint_write(s, "", snap, NOW, res, &err);
    delta_checkpoint_text_adds = 0;
    if (rc != SL_OK)
        fail_msg("checkpoint: %s", err.msg);
    char *p = sl_asprintf("%s/_delta_log/%020lld.checkpoint.parquet", dir,
                          (long long)snap->version);
    sl_buf b = read_bytes(p);
    free(p);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
    return b;
}

static size_t files_from_columns(const delta_snapshot *snap)
{
    size_t n = 0;
    for (size_t i = 0; i < snap->nfiles; i++)
        n += snap->files[i].add_batch != NULL && !snap->files[i].add_text;
    return n;
}

/* The member of an add body, exactly (nulls kept; NULL when absent). */
static void assert_member_eq(const json_t *a, const json_t *b, const char *name,
                             const char *path)
{
    const json_t *x = json_object_get(a, name), *y = json_object_get(b, name);
    if (!x != !y || (x && !json_equal((json_t *)x, (json_t *)y))) {
        char *tx = x ? json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *ty = y ? json_dumps(y, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        fail_msg("%s: %s: %s vs %s", path, name, tx ? tx : "(absent)",
                 ty ? ty : "(absent)");
    }
}

/* Adds of many shapes: partition values with nulls and an empty map, tags
 * (and empty tags), deletion vectors (with and without offset), stats
 * with quotes, backslashes and non-ASCII text, and optional fields left out. */
static void build_shapes_table(const char *dir)
{
    write_commit(
        dir, 0,
        "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"WRITE\"}}\n"
        "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
        "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":"
        "[\"deletionVectors\"]}}\n"
        "{\"metaData\":{\"id\":\"shapes\",\"format\":{\"provider\":\"parquet\","
        "\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":["
        "{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
        "\\\"metadata\\\":{}},{\\\"name\\\":\\\"d\\\",\\\"type\\\":\\\"string\\\","
        "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[\"d\"],"
        "\"configuration\":{},\"createdTime\":1700000000000}}\n"
        "{\"add\":{\"path\":\"d=x/a%20b.parquet\",\"partitionValues\":{\"d\":\"x\"},"
        "\"size\":10,\"modificationTime\":5,\"dataChange\":true,\"stats\":"
        "\"{\\\"numRecords\\\":3,\\\"minValues\\\":{\\\"s\\\":\\\"q\\\\\\\"uote "
        "\\\\\\\\ "
        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\\"}}\",\"tags\":{\"INSERTION_TIME\":"
        "\"17\",\"empty\":\"\"},\"deletionVector\":{\"storageType\":\"u\","
        "\"pathOrInlineDv\":\"ab^-aqEH.-t@S}K{vb[*k^\",\"offset\":1,\"sizeInBytes\":36,"
        "\"cardinality\":2},\"baseRowId\":7,\"defaultRowCommitVersion\":0}}\n"
        "{\"add\":{\"path\":\"d=__HIVE_DEFAULT_PARTITION__/b.parquet\","
        "\"partitionValues\":{\"d\":null},\"size\":11,\"modificationTime\":6,"
        "\"dataChange\":false,\"tags\":{},\"deletionVector\":{\"storageType\":\"i\","
        "\"pathOrInlineDv\":\"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L\","
        "\"sizeInBytes\":40,\"cardinality\":6}}}\n"
        "{\"add\":{\"path\":\"c.parquet\",\"partitionValues\":{},\"size\":12,"
        "\"modificationTime\":7,\"dataChange\":true,\"clusteringProvider\":\"liquid\"}}\n"
        "{\"add\":{\"path\":\"d=y/"
        "\xe6\x97\xa5.parquet\",\"partitionValues\":{\"d\":\"y\"},"
        "\"size\":13,\"modificationTime\":8,\"dataChange\":true,\"stats\":"
        "\"{\\\"numRecords\\\":0}\",\"tags\":null}}\n"
        "{\"add\":{\"path\":\"e.parquet\",\"partitionValues\":{\"d\":\"\"},\"size\":0,"
        "\"modificationTime\":0,\"dataChange\":true,\"stats\":\"\"}}\n");
    /* after the first checkpoint: one add from JSON, one remove */
    write_commit(
        dir, 1,
        "{\"commitInfo\":{\"timestamp\":1700000001000,\"operation\":\"WRITE\"}}\n"
        "{\"add\":{\"path\":\"f.parquet\",\"partitionValues\":{\"d\":\"z\"},"
        "\"size\":14,\"modificationTime\":9,\"dataChange\":true}}\n"
        "{\"remove\":{\"path\":\"c.parquet\",\"deletionTimestamp\":"
        "1799999999000,\"dataChange\":true}}\n");
}

/* A checkpoint written from a checkpoint-based snapshot copies the adds it
 * read from the checkpoint's columns (the direct way is counted, so a
 * silent fall back to the texts fails here), re-reads equal to that
 * snapshot file by file, and is byte for byte the file the text way
 * writes. */
static void test_direct_adds(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("cpwd0");
    build_shapes_table(dir);
    store *s = dt_open_store(dir);
    sl_err err = {0};
    delta_at v0 = {.kind = DELTA_AT_VERSION, .version = 0};
    delta_snapshot *j0 = NULL, *src = NULL, *back = NULL;
    assert_int_equal(delta_snapshot_open_ex(s, "", &v0, 0, &j0, &err), SL_OK);
    delta_checkpoint_result r0 = {0};
    assert_int_equal(delta_checkpoint_write(s, "", j0, NOW, &r0, &err), SL_OK);
    assert_int_equal(r0.num_adds, 5);
    assert_int_equal(r0.num_adds_direct, 0); /* JSON adds: texts */
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 1, &src, &err), SL_OK);
    assert_int_equal(src->checkpoint_version, 0);
    assert_int_equal(src->nfiles, 5);
    assert_int_equal(files_from_columns(src), 4);

    delta_checkpoint_result res = {0};
    assert_int_equal(delta_checkpoint_write(s, "", src, NOW, &res, &err), SL_OK);
    assert_int_equal(res.num_adds, 5);
    assert_int_equal(res.num_adds_direct, 4); /* all but the JSON add */
    assert_int_equal(res.num_removes, 1);
    assert_int_equal(delta_snapshot_open_ex(s, "", &LATEST, 1, &back, &err), SL_OK);
    assert_int_equal(back->checkpoint_version, 1);
    assert_int_equal(back->nfiles, src->nfiles);
    assert_int_equal(files_from_columns(back), back->nfiles);
    for (size_t i = 0; i < src->nfiles; i++) {
        const delta_file *a = &src->files[i], *b = &back->files[i];
        assert_string_equal(a->path, b->path);
        assert_true(str_eq(a->dv_id, b->dv_id));
        assert_int_equal(a->size, b->size);
        assert_int_equal(a->modification_time, b->modification_time);
        assert_int_equal(a->num_records, b->num_records);
        assert_int_equal(a->dv_cardinality, b->dv_cardinality);
        json_t *ja = delta_file_add(a), *jb = delta_file_add(b);
        assert_non_null(ja);
        assert_non_null(jb);
        static const char *const members[] = {"path",
                                              "partitionValues",
                                              "size",
                                              "modificationTime",
                                              "stats",
                                              "tags",
                                              "deletionVector",
                                              "baseRowId",
                                              "defaultRowCommitVersion",
                                              "clusteringProvider"};
        for (size_t m = 0; m < sizeof members / sizeof *members; m++)
            assert_member_eq(ja, jb, members[m], a->path);
        assert_true(json_is_false(json_object_get(jb, "dataChange")));
        json_decref(ja);
        json_decref(jb);
    }
    /* spot checks that the shapes under test are there */
    const delta_file *fa = NULL, *fb = NULL;
    for (size_t i = 0; i < back->nfiles; i++) {
        if (strcmp(back->files[i].path, "d=x/a%20b.parquet") == 0)
            fa = &back->files[i];
        if (strcmp(back->files[i].path, "d=__HIVE_DEFAULT_PARTITION__/b.parquet") == 0)
            fb = &back->files[i];
    }
    assert_non_null(fa);
    assert_non_null(fb);
    json_t *ja = delta_file_add(fa), *jb = delta_file_add(fb);
    assert_non_null(strstr(json_string_value(json_object_get(ja, "stats")),
                           "q\\\"uote \\\\ \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ja, "tags"), "empty")), "");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(ja, "deletionVector"), "offset")),
                     1);
    assert_true(
        json_is_null(json_object_get(json_object_get(jb, "partitionValues"), "d")));
    assert_int_equal(json_object_size(json_object_get(jb, "tags")), 0);
    assert_null(json_object_get(json_object_get(jb, "deletionVector"), "offset"));
    json_decref(ja);
    json_decref(jb);

    /* the same bytes as the text way, from either snapshot */
    delta_checkpoint_result rd = {0}, rt = {0};
    sl_buf d = checkpoint_bytes(back, 0, &rd), t = checkpoint_bytes(back, 1, &rt);
    assert_int_equal(rd.num_adds_direct, back->nfiles);
    assert_int_equal(rt.num_adds_direct, 0);
    assert_int_equal(d.len, t.len);
    assert_memory_equal(d.data, t.data, d.len);
    buf_free(&d);
    buf_free(&t);
    delta_snapshot_free(j0);
    delta_snapshot_free(src);
    delta_snapshot_free(back);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* Checkpoints written by others (their add columns, one file or several
 * parts): the direct way gives the text way's bytes, adds it cannot copy
 * included. */
static void test_direct_adds_foreign(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    static const char *const tables[] = {
        "delta-rs/simple_table_with_checkpoint",
        "delta/basic-with-inserts-deletes-checkpoint",
        "delta/multi-part-checkpoint",
        "delta-rs/table-with-dv-small",
    };
    size_t direct = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char *path = sl_asprintf("%s/delta/%s", fx, tables[i]);
        store *s = dt_open_store(path);
        sl_err err = {0};
        delta_snapshot *snap = NULL;
        if (delta_snapshot_open_ex(s, "", &LATEST, 1, &snap, &err) != SL_OK)
            fail_msg("%s: %s", tables[i], err.msg);
        delta_checkpoint_result rd = {0}, rt = {0};
        sl_buf d = checkpoint_bytes(snap, 0, &rd), t = checkpoint_bytes(snap, 1, &rt);
        if (d.len != t.len || memcmp(d.data, t.data, d.len) != 0)
            fail_msg("%s: the direct way's file differs from the text way's", tables[i]);
        assert_int_equal(rd.num_adds, rt.num_adds);
        direct += (size_t)rd.num_adds_direct;
        buf_free(&d);
        buf_free(&t);
        delta_snapshot_free(snap);
        store_close(s);
        free(path);
    }
    /* 27 of the 29 adds are copied (those of the tables' checkpoints) */
    assert_true(direct >= 20);
}

/* Rows shredded from their text give the file json_loads + pq_shred_row
 * gives: escapes, surrogate pairs, repeated keys (the last wins, also in
 * maps), empty and null maps and lists, maps as {key, value} arrays,
 * members the schema lacks. */
static void test_text_rows_match_trees(void **state)
{
    (void)state;
    static const char *rows[] = {
        "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
        "\"readerFeatures\":[],\"writerFeatures\":[\"deletionVectors\",\"x\"]}}",
        "{\"metaData\":{\"id\":\"i\",\"name\":null,\"format\":{\"provider\":\"parquet\","
        "\"options\":{}},\"partitionColumns\":[\"a\",null],\"configuration\":"
        "{\"k\":\"1\",\"j\":null,\"k\":\"2\",\"z\":\"3\"},\"createdTime\":-5}}",
        "{\"add\":{\"path\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
        "\"path\":\"p%20x\",\"partitionValues\":{\"d\":\"2024\",\"e\":null},"
        "\"size\":0,\"modificationTime\":-9223372036854775808,\"dataChange\":true,"
        "\"stats\":\"{\\\"numRecords\\\":1}\",\"tags\":[{\"key\":\"t\",\"value\":\"v\"}],"
        "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab\",\"offset\":"
        "1,"
        "\"sizeInBytes\":36,\"cardinality\":2},\"unknown\":{\"deep\":[1,2.5e3,{}]},"
        "\"baseRowId\":9223372036854775807}}",
        " {\"txn\" : {\"appId\":\"\",\"version\":0} , \"remove\":null}\n",
        "{\"remove\":{\"path\":\"r\",\"deletionTimestamp\":1,\"partitionValues\":{},"
        "\"tags\":null,\"extendedFileMetadata\":false}}",
        "{\"domainMetadata\":{\"domain\":\"d\",\"configuration\":\"{}\",\"removed\":"
        "false}}",
    };
    size_t nrows = sizeof rows / sizeof rows[0];
    sl_err err = {0};
    pq_writer_opts opts = {.compression = PQ_COMPRESSION_SNAPPY};
    pq_nwriter *wt = pq_nwriter_new(delta_checkpoint_schema(), &opts, &err);
    pq_nwriter *wx = pq_nwriter_new(delta_checkpoint_schema(), &opts, &err);
    assert_non_null(wt);
    assert_non_null(wx);
    pq_shredder *st = pq_shred_new(wt, false), *sx = pq_shred_new(wx, false);
    for (size_t i = 0; i < nrows; i++) {
        json_error_t jerr;
        json_t *row = json_loads(rows[i], 0, &jerr);
        if (!row)
            fail_msg("row %zu: %s", i, jerr.text);
        if (pq_shred_row(st, row, &err) != SL_OK)
            fail_msg("tree row %zu: %s", i, err.msg);
        json_decref(row);
        if (pq_shred_row_text(sx, rows[i], strlen(rows[i]), &err) != SL_OK)
            fail_msg("text row %zu: %s", i, err.msg);
    }
    /* a body with a member set, as the checkpoint writes its adds */
    const char *body = "{\"path\":\"m\",\"dataChange\":true,\"size\":3}";
    json_t *row =
        json_pack("{s:{s:s, s:b, s:i}}", "add", "path", "m", "dataChange", 0, "size", 3);
    assert_int_equal(pq_shred_row(st, row, &err), SL_OK);
    json_decref(row);
    pq_shred_set set = {"dataChange", "false"};
    assert_int_equal(pq_shred_member_text(sx, "add", body, strlen(body), &set, 1, &err),
                     SL_OK);
    sl_buf ft = {0}, fx = {0};
    assert_int_equal(pq_nwriter_finish(wt, &ft, NULL, &err), SL_OK);
    assert_int_equal(pq_nwriter_finish(wx, &fx, NULL, &err), SL_OK);
    assert_int_equal(ft.len, fx.len);
    assert_memory_equal(ft.data, fx.data, ft.len);
    buf_free(&ft);
    buf_free(&fx);
    pq_shred_free(st);
    pq_shred_free(sx);
    pq_nwriter_free(wt);
    pq_nwriter_free(wx);
}

/* Text json_loads or the tree shredder refuses is refused too, with
 * SL-PARQUET-VALUE, and the writer keeps its rows. */
static void test_text_rows_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "{\"add\":{\"path\":\"a\\u0000b\"}}",
        "{\"add\":{\"size\":99999999999999999999}}",
        "{\"add\":{\"size\":1}} x",
        "{\"add\":{\"path\":\"a}}",
        "{\"add\":{\"size\":01}}",
        "{\"add\":{\"size\":1.5}}",
        "{\"add\":{\"path\":\"\\ud800\"}}",
        "{\"add\":{\"path\":\"\\q\"}}",
        "{\"add\":{\"path\":\"a\tb\"}}",
        "{\"add\":{\"dataChange\":tru}}",
        "{\"add\":{\"path\":1}}",
        "{\"protocol\":{\"minReaderVersion\":3000000000}}",
        "{\"add\":{\"partitionValues\":\"x\"}}",
        "[{\"add\":{}}]",
        "",
    };
    sl_err err = {0};
    pq_nwriter *w = pq_nwriter_new(delta_checkpoint_schema(), NULL, &err);
    assert_non_null(w);
    pq_shredder *sh = pq_shred_new(w, false);
    const char *ok = "{\"add\":{\"path\":\"fine\"}}";
    assert_int_equal(pq_shred_row_text(sh, ok, strlen(ok), &err), SL_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the old way refuses it as well */
        json_t *j = json_loads(bad[i], 0, NULL);
        if (j) {
            sl_err e2 = {0};
            if (pq_shred_row(sh, j, &e2) == SL_OK)
                fail_msg("'%s' is fine as a tree", bad[i]);
            json_decref(j);
        }
        sl_err e = {0};
        if (pq_shred_row_text(sh, bad[i], strlen(bad[i]), &e) != SL_PARQUET_VALUE)
            fail_msg("'%s' was not refused", bad[i]);
        assert_true(strlen(e.msg) > 0);
        assert_int_equal(pq_nwriter_num_rows(w), 1);
    }
    const char *body = "[1]";
    pq_shred_set set = {"dataChange", "false"};
    assert_int_equal(pq_shred_member_text(sh, "add", body, strlen(body), &set, 1, &err),
                     SL_PARQUET_VALUE);
    assert_int_equal(pq_shred_row_text(sh, ok, strlen(ok), &err), SL_OK);
    assert_int_equal(pq_nwriter_num_rows(w), 2);
    pq_shred_free(sh);
    pq_nwriter_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_handmade_table),
        cmocka_unit_test(test_fixture_tables),
        cmocka_unit_test(test_checkpoint_of_checkpoint),
        cmocka_unit_test(test_direct_adds),
        cmocka_unit_test(test_direct_adds_foreign),
        cmocka_unit_test(test_text_rows_match_trees),
        cmocka_unit_test(test_text_rows_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
