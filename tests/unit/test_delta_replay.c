/* Log replay rules on small synthetic tables written into temp dirs. */

#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/log.h"

#define PROTO_1_2 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define META(id)                                                                         \
    "{\"metaData\":{\"id\":\"" id                                                        \
    "\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"                           \
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":"     \
    "\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}"  \
    "\","                                                                                \
    "\"partitionColumns\":[],\"configuration\":{\"k\":\"v\"}}}\n"

/* ---- helpers ------------------------------------------------------------ */

static char *commit_name(int64_t v)
{
    return sl_asprintf("_delta_log/%020lld.json", (long long)v);
}

static void write_commit(const char *dir, int64_t v, const char *text)
{
    char *name = commit_name(v);
    tu_write_file(dir, name, text);
    free(name);
}

/* add line with stats numRecords (nrec < 0: no stats) and optional DV JSON. */
static char *add_line(const char *path, long long nrec, const char *dv)
{
    sl_buf b = {0};
    buf_appendf(&b,
                "{\"add\":{\"path\":\"%s\",\"partitionValues\":{},\"size\":100,"
                "\"modificationTime\":1,\"dataChange\":true",
                path);
    if (nrec >= 0)
        buf_appendf(&b, ",\"stats\":\"{\\\"numRecords\\\":%lld,\\\"minValues\\\":{}}\"",
                    nrec);
    if (dv)
        buf_appendf(&b, ",\"deletionVector\":%s", dv);
    buf_append_str(&b, "}}\n");
    return buf_steal(&b);
}

static char *remove_line(const char *path, const char *dv)
{
    if (dv)
        return sl_asprintf("{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":5,"
                           "\"dataChange\":true,\"deletionVector\":%s}}\n",
                           path, dv);
    return sl_asprintf("{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":5,"
                       "\"dataChange\":true}}\n",
                       path);
}

static char *commit_info(long long ts, const char *op)
{
    return sl_asprintf(
        "{\"commitInfo\":{\"timestamp\":%lld,\"operation\":\"%s\","
        "\"operationParameters\":{\"mode\":\"Append\"},"
        "\"operationMetrics\":{\"numFiles\":\"1\"},\"userName\":\"alice\","
        "\"engineInfo\":\"Spark/3.5\",\"readVersion\":0,\"isBlindAppend\":true}}\n",
        ts, op);
}

/* Concatenates a NULL-terminated list of owned strings, freeing them. */
static char *cat_lines(char *first, ...)
{
    sl_buf b = {0};
    va_list ap;
    va_start(ap, first);
    for (char *s = first; s; s = va_arg(ap, char *)) {
        buf_append_str(&b, s);
        free(s);
    }
    va_end(ap);
    return buf_steal(&b);
}

static sl_code snap_open(const char *dir, const delta_at *at, delta_snapshot **out,
                         sl_err *err)
{
    store *s = NULL;
    sl_code c = store_open(dir, &s, err);
    assert_int_equal(c, SL_OK);
    c = delta_snapshot_open(s, "", at, out, err);
    store_close(s);
    return c;
}

static delta_snapshot *snap_ok(const char *dir, const delta_at *at)
{
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    sl_code c = snap_open(dir, at, &snap, &err);
    if (c != SL_OK)
        fail_msg("snapshot failed: %s %s", err_code_name(c), err.msg);
    return snap;
}

static sl_code snap_fail(const char *dir, const delta_at *at, sl_err *err)
{
    delta_snapshot *snap = NULL;
    sl_code c = snap_open(dir, at, &snap, err);
    assert_null(snap);
    assert_int_not_equal(c, SL_OK);
    return c;
}

static const delta_file *find_file(const delta_snapshot *s, const char *path,
                                   const char *dv)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0 &&
            ((!dv && !s->files[i].dv_id) ||
             (dv && s->files[i].dv_id && strcmp(dv, s->files[i].dv_id) == 0)))
            return &s->files[i];
    return NULL;
}

static const delta_tombstone *find_tomb(const delta_snapshot *s, const char *path)
{
    for (size_t i = 0; i < s->ntombstones; i++)
        if (strcmp(s->tombstones[i].path, path) == 0)
            return &s->tombstones[i];
    return NULL;
}

static void set_mtime(const char *dir, const char *rel, int64_t ms)
{
    char *path = sl_asprintf("%s/%s", dir, rel);
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
    ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1000000;
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    free(path);
}

static const delta_at LATEST = {.kind = DELTA_AT_LATEST};

static delta_at at_version(int64_t v)
{
    return (delta_at){.kind = DELTA_AT_VERSION, .version = v};
}

static delta_at at_time(int64_t ms)
{
    return (delta_at){.kind = DELTA_AT_TIMESTAMP, .timestamp_ms = ms};
}

/* ---- reconciliation ------------------------------------------------------ */

static void test_add_remove_reconcile(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 =
        cat_lines(commit_info(1000, "WRITE"), sl_strdup(PROTO_1_2), sl_strdup(META("m1")),
                  add_line("a.parquet", 10, NULL), add_line("b.parquet", 5, NULL), NULL);
    write_commit(dir, 0, c0);
    char *c1 = cat_lines(commit_info(2000, "DELETE"), remove_line("a.parquet", NULL),
                         add_line("c.parquet", 7, NULL), NULL);
    write_commit(dir, 1, c1);

    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 1);
    assert_int_equal(s->nfiles, 2);
    assert_string_equal(s->files[0].path, "b.parquet"); /* sorted by path */
    assert_string_equal(s->files[1].path, "c.parquet");
    assert_int_equal(s->num_rows, 12);
    assert_int_equal(s->size_bytes, 200);
    assert_int_equal(s->ntombstones, 1);
    assert_string_equal(s->tombstones[0].path, "a.parquet");
    assert_int_equal(s->tombstones[0].deletion_timestamp, 5);
    assert_int_equal(s->timestamp_ms, 2000);
    delta_snapshot_free(s);

    delta_at v0 = at_version(0);
    s = snap_ok(dir, &v0);
    assert_int_equal(s->nfiles, 2);
    assert_non_null(find_file(s, "a.parquet", NULL));
    assert_int_equal(s->num_rows, 15);
    assert_int_equal(s->ntombstones, 0);
    delta_snapshot_free(s);

    free(c0);
    free(c1);
    tu_rmtree(dir);
    free(dir);
}

#define DV_X                                                                             \
    "{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab^-aqEH.-t@S}K{vb[*k^\",\"offset\":4," \
    "\"sizeInBytes\":40,\"cardinality\":2}"
#define DV_Y                                                                             \
    "{\"storageType\":\"i\",\"pathOrInlineDv\":\"wi5b=000010000siXQKl0rr91000f55c8Xg0@"  \
    "fTH\",\"sizeInBytes\":40,\"cardinality\":3}"

static void test_deletion_vector_keys(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 = cat_lines(sl_strdup(PROTO_1_2), sl_strdup(META("m1")),
                         add_line("f.parquet", 10, NULL), NULL);
    write_commit(dir, 0, c0);
    /* DELETE with DV: remove the plain file, add it back carrying DV X. */
    char *c1 =
        cat_lines(remove_line("f.parquet", NULL), add_line("f.parquet", 10, DV_X), NULL);
    write_commit(dir, 1, c1);
    /* Same path with a second DV as its own entry (distinct key). */
    char *c2 = cat_lines(add_line("f.parquet", 10, DV_Y), NULL);
    write_commit(dir, 2, c2);
    /* Remove only the DV X entry: key must include the DV id with offset. */
    char *c3 = cat_lines(remove_line("f.parquet", DV_X), NULL);
    write_commit(dir, 3, c3);

    delta_at v1 = at_version(1);
    delta_snapshot *s = snap_ok(dir, &v1);
    assert_int_equal(s->nfiles, 1);
    const delta_file *f = find_file(s, "f.parquet", "uab^-aqEH.-t@S}K{vb[*k^@4");
    assert_non_null(f);
    assert_int_equal(f->dv_cardinality, 2);
    assert_int_equal(f->num_records, 10);
    assert_int_equal(s->num_rows, 8);
    assert_non_null(find_tomb(s, "f.parquet"));
    assert_null(s->tombstones[0].dv_id);
    delta_snapshot_free(s);

    delta_at v2 = at_version(2);
    s = snap_ok(dir, &v2);
    assert_int_equal(s->nfiles, 2);
    assert_non_null(
        find_file(s, "f.parquet", "iwi5b=000010000siXQKl0rr91000f55c8Xg0@fTH"));
    assert_int_equal(s->num_rows, 8 + 7);
    delta_snapshot_free(s);

    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 1);
    assert_null(find_file(s, "f.parquet", "uab^-aqEH.-t@S}K{vb[*k^@4"));
    assert_non_null(
        find_file(s, "f.parquet", "iwi5b=000010000siXQKl0rr91000f55c8Xg0@fTH"));
    assert_int_equal(s->num_rows, 7);
    assert_int_equal(s->ntombstones, 2); /* the plain key and the DV X key */
    delta_snapshot_free(s);

    free(c0);
    free(c1);
    free(c2);
    free(c3);
    tu_rmtree(dir);
    free(dir);
}

static void test_readd_after_remove(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 = cat_lines(sl_strdup(PROTO_1_2), sl_strdup(META("m1")),
                         add_line("a.parquet", 3, NULL), NULL);
    write_commit(dir, 0, c0);
    char *c1 = remove_line("a.parquet", NULL);
    write_commit(dir, 1, c1);
    char *c2 = add_line("a.parquet", 4, NULL);
    write_commit(dir, 2, c2);

    delta_at v1 = at_version(1);
    delta_snapshot *s = snap_ok(dir, &v1);
    assert_int_equal(s->nfiles, 0);
    assert_int_equal(s->num_rows, 0);
    assert_int_equal(s->ntombstones, 1);
    delta_snapshot_free(s);

    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 1);
    assert_int_equal(s->files[0].num_records, 4);
    assert_int_equal(s->ntombstones, 0); /* the re-add cancels the tombstone */
    delta_snapshot_free(s);

    free(c0);
    free(c1);
    free(c2);
    tu_rmtree(dir);
    free(dir);
}

static void test_last_metadata_protocol_win(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(
        dir, 1,
        "{\"protocol\":{\"minReaderVersion\":2,\"minWriterVersion\":5}}\n" META("m2"));
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_string_equal(json_string_value(json_object_get(s->metadata, "id")), "m2");
    assert_int_equal(json_integer_value(json_object_get(s->protocol, "minWriterVersion")),
                     5);
    assert_int_equal(json_integer_value(json_object_get(s->protocol, "minReaderVersion")),
                     2);

    json_t *j = delta_snapshot_to_json(s, "orders");
    assert_string_equal(json_string_value(json_object_get(j, "table")), "orders");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "num_files")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "metadata_id")), "m2");
    json_t *proto = json_object_get(j, "protocol");
    assert_int_equal(json_integer_value(json_object_get(proto, "min_reader_version")), 2);
    assert_true(json_is_null(json_object_get(proto, "reader_features")));
    json_t *schema = json_object_get(j, "schema");
    assert_string_equal(json_string_value(json_object_get(schema, "type")), "struct");
    assert_true(json_is_array(json_object_get(j, "partition_columns")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "configuration"), "k")),
        "v");
    json_decref(j);
    delta_snapshot_free(s);

    delta_at v0 = at_version(0);
    s = snap_ok(dir, &v0);
    assert_string_equal(json_string_value(json_object_get(s->metadata, "id")), "m1");
    assert_int_equal(json_integer_value(json_object_get(s->protocol, "minWriterVersion")),
                     2);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_txn_and_domains(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(
        dir, 0,
        PROTO_1_2 META(
            "m1") "{\"txn\":{\"appId\":\"app1\",\"version\":1,\"lastUpdated\":10}}\n"
                  "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{}\","
                  "\"removed\":false}}\n"
                  "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"{}\","
                  "\"removed\":false}}\n");
    write_commit(dir, 1,
                 "{\"txn\":{\"appId\":\"app1\",\"version\":5}}\n"
                 "{\"txn\":{\"appId\":\"app2\",\"version\":2}}\n"
                 "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{}\","
                 "\"removed\":true}}\n");
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(json_object_size(s->txns), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s->txns, "app1"), "version")),
        5);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s->txns, "app2"), "version")),
        2);
    assert_int_equal(json_object_size(s->domains), 1);
    assert_non_null(json_object_get(s->domains, "d2"));
    assert_null(json_object_get(s->domains, "d1"));
    delta_snapshot_free(s);

    delta_at v0 = at_version(0);
    s = snap_ok(dir, &v0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s->txns, "app1"), "version")),
        1);
    assert_int_equal(json_object_size(s->domains), 2);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_rows_unknown_without_stats(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 =
        cat_lines(sl_strdup(PROTO_1_2), sl_strdup(META("m1")),
                  add_line("a.parquet", 10, NULL), add_line("b.parquet", -1, NULL), NULL);
    write_commit(dir, 0, c0);
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 2);
    assert_int_equal(s->num_rows, -1);
    assert_int_equal(find_file(s, "b.parquet", NULL)->num_records, -1);
    assert_int_equal(find_file(s, "a.parquet", NULL)->num_records, 10);
    json_t *j = delta_snapshot_to_json(s, NULL);
    assert_true(json_is_null(json_object_get(j, "num_rows")));
    json_decref(j);
    delta_snapshot_free(s);

    /* Removing the file without stats makes rows known again. */
    char *c1 = remove_line("b.parquet", NULL);
    write_commit(dir, 1, c1);
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, 10);
    delta_snapshot_free(s);
    free(c0);
    free(c1);
    tu_rmtree(dir);
    free(dir);
}

static void test_stats_scanner(void **state)
{
    (void)state;
    int64_t n = -7;
    assert_int_equal(delta_stats_num_records("{\"numRecords\":42}", &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(
        delta_stats_num_records(
            "{ \"minValues\":{\"s\":\"a\\\"}{,numRecords\",\"n\":[1,{\"x\":2}]},"
            "\"nullCount\":{\"numRecords\":9}, \"numRecords\" : 7 ,\"tightBounds\":true}",
            &n),
        0);
    assert_int_equal(n, 7);
    assert_int_equal(delta_stats_num_records("{\"minValues\":{\"numRecords\":3}}", &n),
                     -1);
    assert_int_equal(delta_stats_num_records("{\"numRecords\":null}", &n), -1);
    assert_int_equal(delta_stats_num_records("{\"numRecords\":1.5}", &n), -1);
    assert_int_equal(delta_stats_num_records("not json", &n), -1);
    assert_int_equal(delta_stats_num_records("{\"a\":\"unterminated", &n), -1);
    assert_int_equal(delta_stats_num_records(NULL, &n), -1);
}

static void test_file_map(void **state)
{
    (void)state;
    enum { N = 5000 };
    char **keys = calloc(N, sizeof *keys);
    delta_fmap m;
    delta_fmap_init(&m);
    for (size_t i = 0; i < N; i++) {
        keys[i] = sl_asprintf("part-%zu.parquet\x1f", i);
        delta_fmap_put(&m, keys[i], i);
    }
    assert_int_equal(m.n, N);
    /* Delete every third key; all others must stay reachable. */
    for (size_t i = 0; i < N; i += 3)
        assert_int_equal(delta_fmap_del(&m, keys[i]), 1);
    for (size_t i = 0; i < N; i++) {
        size_t v = 0;
        int present = delta_fmap_get(&m, keys[i], &v);
        assert_int_equal(present, i % 3 != 0);
        if (present)
            assert_int_equal(v, i);
    }
    assert_int_equal(delta_fmap_del(&m, keys[0]), 0);
    delta_fmap_put(&m, keys[1], 99); /* replace */
    size_t v = 0;
    assert_true(delta_fmap_get(&m, keys[1], &v));
    assert_int_equal(v, 99);
    delta_fmap_free(&m);
    for (size_t i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
}

/* ---- time travel ------------------------------------------------------------ */

static void test_time_travel(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 = cat_lines(commit_info(1000, "CREATE"), sl_strdup(PROTO_1_2),
                         sl_strdup(META("m1")), add_line("a", 1, NULL), NULL);
    char *c1 = cat_lines(commit_info(2000, "WRITE"), add_line("b", 2, NULL), NULL);
    char *c2 = cat_lines(commit_info(3000, "WRITE"), add_line("c", 4, NULL), NULL);
    char *c3 = add_line("d", 8, NULL); /* no commitInfo: file mtime counts */
    write_commit(dir, 0, c0);
    write_commit(dir, 1, c1);
    write_commit(dir, 2, c2);
    write_commit(dir, 3, c3);
    char *n3 = commit_name(3);
    set_mtime(dir, n3, 4000);

    delta_at a = at_version(2);
    delta_snapshot *s = snap_ok(dir, &a);
    assert_int_equal(s->version, 2);
    assert_int_equal(s->num_rows, 7);
    assert_int_equal(s->timestamp_ms, 3000);
    delta_snapshot_free(s);

    a = at_time(2500);
    s = snap_ok(dir, &a);
    assert_int_equal(s->version, 1);
    assert_int_equal(s->num_rows, 3);
    delta_snapshot_free(s);

    a = at_time(3000); /* inclusive */
    s = snap_ok(dir, &a);
    assert_int_equal(s->version, 2);
    delta_snapshot_free(s);

    a = at_time(4500);
    s = snap_ok(dir, &a);
    assert_int_equal(s->version, 3);
    assert_int_equal(s->timestamp_ms, 4000);
    assert_int_equal(s->num_rows, 15);
    delta_snapshot_free(s);

    sl_err err = {0};
    a = at_time(999);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);
    a = at_version(4);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);
    assert_non_null(strstr(err.msg, "latest is 3"));
    a = at_version(-1);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);

    free(n3);
    free(c0);
    free(c1);
    free(c2);
    free(c3);
    tu_rmtree(dir);
    free(dir);
}

/* ---- gaps and checkpoints ---------------------------------------------------- */

static void test_gap_names_version(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(dir, 2,
                 "{\"add\":{\"path\":\"x\",\"size\":1,\"modificationTime\":1,"
                 "\"dataChange\":true}}\n");
    sl_err err = {0};
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_GAP);
    assert_non_null(strstr(err.msg, "version 1"));
    /* Version 0 alone is still readable. */
    delta_at v0 = at_version(0);
    delta_snapshot *s = snap_ok(dir, &v0);
    assert_int_equal(s->version, 0);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_checkpoint_rules(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    /* Log cleaned before checkpoint 2: versions 0 and 1 only exist in it. */
    tu_write_file(dir, "_delta_log/00000000000000000002.checkpoint.parquet", "PAR1");
    write_commit(dir, 2,
                 "{\"add\":{\"path\":\"x\",\"size\":1,\"modificationTime\":1,"
                 "\"dataChange\":true}}\n");
    write_commit(dir, 3,
                 "{\"add\":{\"path\":\"y\",\"size\":1,\"modificationTime\":1,"
                 "\"dataChange\":true}}\n");
    tu_write_file(dir, "_delta_log/_last_checkpoint", "{\"version\":2,\"size\":3}");
    sl_err err = {0};
    /* The checkpoint is the only way to versions 2 and 3, and it is not
     * Parquet: a Parquet error naming the file, never numbers. */
    sl_code c = snap_fail(dir, &LATEST, &err);
    assert_true(c == SL_PARQUET_NOT_PARQUET || c == SL_PARQUET_CORRUPT);
    assert_non_null(strstr(err.msg, "00000000000000000002.checkpoint.parquet"));
    delta_at a = at_version(2);
    c = snap_fail(dir, &a, &err);
    assert_true(c == SL_PARQUET_NOT_PARQUET || c == SL_PARQUET_CORRUPT);
    a = at_version(1);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);
    /* A gap after the checkpoint is a gap, not a checkpoint question. */
    write_commit(dir, 5,
                 "{\"add\":{\"path\":\"z\",\"size\":1,\"modificationTime\":1,"
                 "\"dataChange\":true}}\n");
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_GAP);
    assert_non_null(strstr(err.msg, "version 4"));
    tu_rmtree(dir);
    free(dir);

    /* Only complete multi-part checkpoints count. */
    dir = tu_mkdtemp("delta");
    tu_write_file(
        dir, "_delta_log/00000000000000000001.checkpoint.0000000001.0000000002.parquet",
        "PAR1");
    write_commit(dir, 1, "{\"commitInfo\":{}}\n");
    write_commit(dir, 2, "{\"commitInfo\":{}}\n");
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_GAP);
    assert_non_null(strstr(err.msg, "version 0"));
    tu_write_file(
        dir, "_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet",
        "PAR1");
    /* Now complete, so it is read: its first part is named as not Parquet. */
    c = snap_fail(dir, &LATEST, &err);
    assert_true(c == SL_PARQUET_NOT_PARQUET || c == SL_PARQUET_CORRUPT);
    assert_non_null(
        strstr(err.msg, "00000000000000000001.checkpoint.0000000001.0000000002.parquet"));
    tu_rmtree(dir);
    free(dir);

    /* All JSON commits present: an unreadable checkpoint gives way to them. */
    dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(dir, 1,
                 "{\"add\":{\"path\":\"x\",\"size\":1,\"modificationTime\":1,"
                 "\"dataChange\":true}}\n");
    tu_write_file(dir, "_delta_log/00000000000000000001.checkpoint.parquet",
                  "not parquet");
    tu_write_file(dir, "_delta_log/_last_checkpoint", "{\"version\":1,\"size\":3}");
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 1);
    assert_int_equal(s->nfiles, 1);
    assert_int_equal(s->checkpoint_version, -1);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_protocol_checks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(dir, 1,
                 "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                 "\"readerFeatures\":[\"deletionVectors\",\"fancyNewThing\"],"
                 "\"writerFeatures\":[\"deletionVectors\"]}}\n");
    write_commit(
        dir, 2,
        "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
        "\"readerFeatures\":[\"deletionVectors\",\"columnMapping\",\"v2Checkpoint\","
        "\"timestampNtz\",\"typeWidening\",\"variantType-preview\"],"
        "\"writerFeatures\":[\"deletionVectors\"]}}\n");
    write_commit(dir, 3,
                 "{\"protocol\":{\"minReaderVersion\":4,\"minWriterVersion\":7}}\n");

    delta_at a = at_version(0);
    delta_snapshot *s = snap_ok(dir, &a);
    delta_snapshot_free(s);
    sl_err err = {0};
    a = at_version(1);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "fancyNewThing"));
    a = at_version(2); /* the protocol in effect at the requested version decides */
    s = snap_ok(dir, &a);
    json_t *j = delta_snapshot_to_json(s, "t");
    json_t *rf = json_object_get(json_object_get(j, "protocol"), "reader_features");
    assert_int_equal(json_array_size(rf), 6);
    json_decref(j);
    delta_snapshot_free(s);
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "reader version 4"));

    assert_true(delta_reader_feature_supported("vacuumProtocolCheck"));
    assert_false(delta_reader_feature_supported("catalogOwned"));
    tu_rmtree(dir);
    free(dir);
}

/* ---- listing ------------------------------------------------------------------ */

static void test_name_patterns(void **state)
{
    (void)state;
    delta_log_name n;
    assert_true(delta_log_name_parse("00000000000000000007.json", &n));
    assert_int_equal(n.kind, DELTA_LOG_COMMIT);
    assert_int_equal(n.version, 7);
    assert_true(delta_log_name_parse("00000000000000000010.checkpoint.parquet", &n));
    assert_int_equal(n.kind, DELTA_LOG_CHECKPOINT);
    assert_int_equal(n.version, 10);
    assert_true(delta_log_name_parse(
        "00000000000000000001.checkpoint.0000000002.0000000003.parquet", &n));
    assert_int_equal(n.kind, DELTA_LOG_CHECKPOINT_PART);
    assert_int_equal(n.part, 2);
    assert_int_equal(n.parts, 3);
    assert_true(delta_log_name_parse(
        "00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json", &n));
    assert_int_equal(n.kind, DELTA_LOG_CHECKPOINT_V2);
    assert_true(delta_log_name_parse(
        "00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.parquet",
        &n));

    static const char *const ignored[] = {
        "0000000000000000001.json",   /* 19 digits */
        "000000000000000000001.json", /* 21 digits */
        "00000000000000000000.json.tmp",
        ".00000000000000000000.json.crc",
        "00000000000000000000.crc",
        "00000000000000000000.00000000000000000003.compacted.json",
        "_last_checkpoint",
        ".s3-optimization-0",
        "00000000000000000001.checkpoint.0000000003.0000000002.parquet", /* part > parts
                                                                          */
        "00000000000000000001.checkpoint.000000001.0000000002.parquet",  /* 9 digits */
        "00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c55013.json",
        "00000000000000000002.checkpoint.parquet.crc",
        "9999999999999999999a.json",
        "99999999999999999999.json", /* beyond int64 */
        "0000000000000000000-.json",
        "",
    };
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (delta_log_name_parse(ignored[i], &n))
            fail_msg("name should be ignored: %s", ignored[i]);
}

static void test_ignored_entries(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    tu_write_file(dir, "_delta_log/.tmp/00000000000000000001.json", "garbage");
    tu_write_file(dir, "_delta_log/.00000000000000000000.json.crc", "crc");
    tu_write_file(dir, "_delta_log/00000000000000000000.crc", "{}");
    tu_write_file(dir, "_delta_log/.s3-optimization-0", "");
    tu_write_file(dir, "_delta_log/00000000000000000001.json.tmp", "garbage");
    tu_write_file(dir, "_delta_log/0000000000000000001.json", "garbage");
    tu_write_file(dir, "_delta_log/0000000000000000000.json", "garbage"); /* 19 digits */
    tu_write_file(dir, "_delta_log/00000000000000000000.json.tmp", "garbage");
    tu_write_file(dir, "_delta_log/.tmp/00000000000000000000.json", "garbage");
    tu_write_file(dir, "_delta_log/00000000000000000001.crc", "{}");
    tu_write_file(dir, "_delta_log/_sidecars/00000000000000000001.json", "garbage");
    tu_write_file(dir, "_delta_log/_last_checkpoint", ""); /* 0 bytes */
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 0);
    delta_snapshot_free(s);

    tu_write_file(dir, "_delta_log/_last_checkpoint",
                  "{\"version\":99,\"size\":1}"); /* stale */
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 0);
    delta_snapshot_free(s);

    tu_write_file(dir, "_delta_log/_last_checkpoint", "{not json"); /* garbage hint */
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 0);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_not_a_table(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    sl_err err = {0};
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_NOT_A_TABLE);
    tu_write_file(dir, "_delta_log/_last_checkpoint", "{\"version\":3}");
    tu_write_file(dir, "_delta_log/.tmp/00000000000000000000.json", PROTO_1_2);
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_NOT_A_TABLE);
    store *s = NULL;
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_history h;
    assert_int_equal(delta_history_load(s, "", 0, &h, &err), SL_DELTA_NOT_A_TABLE);
    assert_int_equal(h.n, 0);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_table_under_prefix(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 = cat_lines(sl_strdup(PROTO_1_2), sl_strdup(META("m1")),
                         add_line("a", 5, NULL), NULL);
    tu_write_file(dir, "lake/bronze/_delta_log/00000000000000000000.json", c0);
    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_snapshot *snap = NULL;
    assert_int_equal(delta_snapshot_open(s, "lake/bronze", &LATEST, &snap, &err), SL_OK);
    assert_int_equal(snap->num_rows, 5);
    delta_snapshot_free(snap);
    assert_int_equal(delta_snapshot_open(s, "lake", &LATEST, &snap, &err),
                     SL_DELTA_NOT_A_TABLE);
    json_t *actions = NULL;
    assert_int_equal(delta_commit_read(s, "lake/bronze/", 0, &actions, &err), SL_OK);
    assert_int_equal(json_array_size(actions), 3);
    json_decref(actions);
    store_close(s);
    free(c0);
    tu_rmtree(dir);
    free(dir);
}

/* ---- corrupt logs -------------------------------------------------------------- */

static void test_corrupt_commits(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(dir, 1, "{\"commitInfo\":{}}\n{\"add\":{\"path\":\"x\",\n");
    sl_err err = {0};
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "00000000000000000001.json"));
    assert_non_null(strstr(err.msg, "line 2"));

    write_commit(dir, 1, ""); /* 0 bytes */
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "00000000000000000001.json"));
    assert_non_null(strstr(err.msg, "line 1"));
    assert_non_null(strstr(err.msg, "empty"));

    write_commit(dir, 1, "\n\n");
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);

    write_commit(dir, 1, "{\"commitInfo\":{}}\n\n[1,2]\n");
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "line 3"));

    write_commit(dir, 1, "{\"add\":{\"size\":3}}\n");
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "without a path"));

    /* History reports the same corruption instead of skipping it. */
    store *s = NULL;
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    write_commit(dir, 1, "{\"commitInfo\":{}}\n{oops}\n");
    delta_history h;
    assert_int_equal(delta_history_load(s, "", 0, &h, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "line 2"));
    store_close(s);

    /* Blank lines (and CRLF) between actions are fine; the version before the bad one
     * too. */
    write_commit(
        dir, 1,
        "\n{\"commitInfo\":{}}\r\n\n   \n{\"add\":{\"path\":\"x\",\"size\":1}}\n\n");
    delta_snapshot *snap = snap_ok(dir, &LATEST);
    assert_int_equal(snap->nfiles, 1);
    delta_snapshot_free(snap);
    tu_rmtree(dir);
    free(dir);
}

static void test_unknown_actions_kept(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0,
                 "{\"commitInfo\":{\"timestamp\":5,\"futureInfo\":[1]}}\n" PROTO_1_2 META(
                     "m1") "{\"someFutureAction\":{\"x\":1}}\n"
                           "{\"cdc\":{\"path\":\"_change_data/c.parquet\",\"size\":3}}\n"
                           "{\"add\":{\"path\":\"a\",\"size\":9,\"modificationTime\":1,"
                           "\"dataChange\":true,"
                           "\"futureField\":{\"deep\":true},\"stats\":\"{"
                           "\\\"numRecords\\\":2}\"}}\n");
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 1);
    assert_int_equal(s->num_rows, 2);
    json_t *add = delta_file_add(&s->files[0]);
    json_t *ff = json_object_get(add, "futureField");
    assert_true(json_is_true(json_object_get(ff, "deep")));
    json_decref(add);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_json_scanner(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "{}",
        "{\"a\":[1,-2.5e+3,true,false,null,{\"b\":\"\\u00e9\\ud83d\\ude00\\n\"}]}",
        "  {\"a\" : 0 }  ",
        "\"caf\xc3\xa9\"",
        "[[[]]]",
        "-0",
        "1E5",
    };
    static const char *const invalid[] = {
        "{",
        "{\"a\":}",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1,]",
        "{a:1}",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\xc3\"",
        "\"\xed\xa0\x80\"",
        "01",
        "1.",
        "-",
        "tru",
        "\"a\tb\"",
        "[1 2]",
        "\"\\u12g4\"",
    };
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        delta_json_scan js = {.end = valid[i] + strlen(valid[i])};
        const char *q = delta_json_value(&js, delta_json_ws(valid[i], js.end));
        if (!q || delta_json_ws(q, js.end) != js.end)
            fail_msg("should be valid JSON: %s (%s)", valid[i], js.err_msg);
        /* jansson agrees */
        json_t *j = json_loads(valid[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        delta_json_scan js = {.end = invalid[i] + strlen(invalid[i])};
        const char *q = delta_json_value(&js, delta_json_ws(invalid[i], js.end));
        if (q && delta_json_ws(q, js.end) == js.end)
            fail_msg("should be invalid JSON: %s", invalid[i]);
        json_t *j = json_loads(invalid[i], JSON_DECODE_ANY, NULL);
        assert_null(j);
    }
    /* Deep nesting is refused, not a stack overflow. */
    sl_buf b = {0};
    for (int i = 0; i < 100000; i++)
        buf_append_char(&b, '[');
    delta_json_scan js = {.end = b.data + b.len};
    assert_null(delta_json_value(&js, b.data));
    assert_non_null(js.err_msg);
    buf_free(&b);

    delta_json_span sp = {.p = "\"a\\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\"", .n = 0};
    sp.n = strlen(sp.p);
    char *str = delta_json_span_str(sp);
    assert_string_equal(str, "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80");
    free(str);
    delta_json_span nul = {.p = "\"a\\u0000b\"", .n = 10};
    assert_null(delta_json_span_str(nul));
    int64_t v = 0;
    delta_json_span num = {.p = "-9223372036854775808", .n = 20};
    assert_int_equal(delta_json_span_int(num, &v), 0);
    assert_true(v == INT64_MIN);
    delta_json_span big = {.p = "9223372036854775808", .n = 19};
    assert_int_equal(delta_json_span_int(big, &v), -1);
    delta_json_span num2 = {.p = "9223372036854775807", .n = 19};
    assert_int_equal(delta_json_span_int(num2, &v), 0);
    assert_true(v == INT64_MAX);
    delta_json_span frac = {.p = "1.0", .n = 3};
    assert_int_equal(delta_json_span_int(frac, &v), -1);
}

static void test_escaped_paths_and_bad_lines(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    /* The same file named with and without JSON escapes is one key. */
    write_commit(
        dir, 0,
        PROTO_1_2 META(
            "m1") "{\"add\":{\"path\":\"x=A%252F\\u00e9\\/"
                  "p.parquet\",\"size\":1,\"stats\":\"{\\\"numRecords\\\":4}\"}}\n");
    write_commit(dir, 1, "{\"remove\":{\"path\":\"x=A%252F\xc3\xa9/p.parquet\"}}\n");
    delta_at v0 = at_version(0);
    delta_snapshot *s = snap_ok(dir, &v0);
    assert_int_equal(s->nfiles, 1);
    assert_string_equal(s->files[0].path, "x=A%252F\xc3\xa9/p.parquet");
    assert_int_equal(s->num_rows, 4);
    delta_snapshot_free(s);
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 0);
    assert_int_equal(s->ntombstones, 1);
    json_t *rm = delta_tombstone_remove(&s->tombstones[0]);
    assert_string_equal(json_string_value(json_object_get(rm, "path")),
                        "x=A%252F\xc3\xa9/p.parquet");
    json_decref(rm);
    delta_snapshot_free(s);

    static const char *const bad[] = {
        "{\"add\":{\"path\":\"a\",\"size\":1}} trailing\n",
        "{\"add\":{\"path\":\"a\",\"size\":1}\n",
        "{\"add\":{\"path\":\"a\xff\"}}\n",
        "{\"add\":[1]}\n",
        "{\"add\":{\"path\":7}}\n",
        "{\"remove\":{\"path\":\"a\",\"deletionVector\":{\"cardinality\":1}}}\n",
        "{\"metaData\":\"text\"}\n",
        "{\"protocol\":{\"minReaderVersion\":1,}}\n",
        "\"just a string\"\n",
        "{\"txn\":{\"version\":1}}\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = sl_asprintf("{\"commitInfo\":{}}\n%s", bad[i]);
        write_commit(dir, 1, text);
        free(text);
        sl_err err = {0};
        sl_code c = snap_fail(dir, &LATEST, &err);
        if (c != SL_DELTA_CORRUPT_LOG || !strstr(err.msg, "line 2") ||
            !strstr(err.msg, "00000000000000000001.json"))
            fail_msg("case %zu: %s %s", i, err_code_name(c), err.msg);
    }
    tu_rmtree(dir);
    free(dir);
}

/* ---- history ---------------------------------------------------------------------- */

static void test_history(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    char *c0 = cat_lines(commit_info(1000, "CREATE TABLE"), sl_strdup(PROTO_1_2),
                         sl_strdup(META("m1")), add_line("a", 1, NULL),
                         add_line("b", 1, NULL), NULL);
    char *c1 = cat_lines(commit_info(2000, "DELETE"), remove_line("a", NULL),
                         remove_line("b", NULL), add_line("c", 1, NULL), NULL);
    char *c2 = add_line("d", 1, NULL); /* no commitInfo */
    char *c3 = sl_strdup("{\"commitInfo\":{\"timestamp\":4000,\"operation\":\"OPTIMIZE\","
                         "\"userId\":\"42\",\"clientVersion\":\"delta-rs.0.17\"}}\n");
    write_commit(dir, 0, c0);
    write_commit(dir, 1, c1);
    write_commit(dir, 2, c2);
    write_commit(dir, 3, c3);
    char *n2 = commit_name(2);
    set_mtime(dir, n2, 3000);

    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    char *logpath = sl_asprintf("%s/sluice.log", dir);
    sl_log *log = NULL;
    assert_int_equal(log_open_file(logpath, &log, &err), SL_OK);
    store_set_log(s, log);

    delta_history h;
    assert_int_equal(delta_history_load(s, "", 0, &h, &err), SL_OK);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.latest_version, 3);
    assert_int_equal(h.oldest_available, 0);
    assert_int_equal(h.items[0].version, 3);
    assert_string_equal(h.items[0].operation, "OPTIMIZE");
    assert_string_equal(h.items[0].user, "42");
    assert_string_equal(h.items[0].engine, "delta-rs.0.17");
    assert_int_equal(h.items[0].read_version, -1);
    assert_int_equal(h.items[0].is_blind_append, -1);
    assert_int_equal(h.items[1].version, 2);
    assert_null(h.items[1].operation);
    assert_null(h.items[1].commit_info);
    assert_int_equal(h.items[1].timestamp_ms, 3000);
    assert_int_equal(h.items[1].num_add, 1);
    assert_int_equal(h.items[2].version, 1);
    assert_string_equal(h.items[2].operation, "DELETE");
    assert_int_equal(h.items[2].num_add, 1);
    assert_int_equal(h.items[2].num_remove, 2);
    assert_int_equal(h.items[2].timestamp_ms, 2000);
    assert_int_equal(h.items[3].version, 0);
    assert_int_equal(h.items[3].num_add, 2);
    assert_true(h.items[3].has_metadata);
    assert_true(h.items[3].has_protocol);
    assert_string_equal(h.items[3].user, "alice");
    assert_string_equal(h.items[3].engine, "Spark/3.5");
    assert_int_equal(h.items[3].read_version, 0);
    assert_int_equal(h.items[3].is_blind_append, 1);

    json_t *j = delta_history_to_json(&h);
    assert_int_equal(json_array_size(j), 4);
    json_t *e0 = json_array_get(j, 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "timestamp")), 4000);
    assert_true(json_is_null(json_object_get(e0, "read_version")));
    assert_true(json_is_null(json_object_get(e0, "is_blind_append")));
    assert_true(json_is_object(json_object_get(e0, "operation_parameters")));
    json_t *e1 = json_array_get(j, 1);
    assert_true(json_is_null(json_object_get(e1, "operation")));
    assert_true(json_is_null(json_object_get(e1, "user")));
    json_t *e3 = json_array_get(j, 3);
    assert_string_equal(json_string_value(json_object_get(e3, "operation")),
                        "CREATE TABLE");
    assert_int_equal(json_integer_value(json_object_get(e3, "num_add")), 2);
    assert_true(json_is_true(json_object_get(e3, "is_blind_append")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e3, "operation_parameters"), "mode")),
                        "Append");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e3, "operation_metrics"), "numFiles")),
                        "1");
    static const char *const keys[] = {"version",
                                       "timestamp",
                                       "operation",
                                       "operation_parameters",
                                       "operation_metrics",
                                       "num_add",
                                       "num_remove",
                                       "user",
                                       "engine",
                                       "read_version",
                                       "is_blind_append"};
    assert_int_equal(json_object_size(e3), sizeof keys / sizeof *keys);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_non_null(json_object_get(e3, keys[i]));
    json_decref(j);
    delta_history_free(&h);

    assert_int_equal(delta_history_load(s, "", 2, &h, &err), SL_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.items[0].version, 3);
    assert_int_equal(h.items[1].version, 2);
    delta_history_free(&h);

    json_t *actions = NULL;
    assert_int_equal(delta_commit_read(s, "", 1, &actions, &err), SL_OK);
    assert_int_equal(json_array_size(actions), 4);
    assert_non_null(json_object_get(json_array_get(actions, 0), "commitInfo"));
    assert_non_null(json_object_get(json_array_get(actions, 3), "add"));
    json_decref(actions);
    assert_int_equal(delta_commit_read(s, "", 9, &actions, &err),
                     SL_DELTA_VERSION_NOT_FOUND);
    assert_null(actions);

    delta_snapshot *snap = NULL;
    assert_int_equal(delta_snapshot_open(s, "", &LATEST, &snap, &err), SL_OK);
    delta_snapshot_free(snap);
    log_close(log);
    store_close(s);

    char *text = tu_read_file(logpath);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"delta.history\""));
    assert_non_null(strstr(text, "\"delta.snapshot\""));
    assert_non_null(strstr(text, "\"delta.commit\""));
    free(text);
    free(logpath);
    free(n2);
    free(c0);
    free(c1);
    free(c2);
    free(c3);
    tu_rmtree(dir);
    free(dir);
}

/* Runs in a child that dropped root (root reads through mode 000). */
static int unreadable_check(const char *dir, const char *want_in_msg)
{
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    store *s = NULL;
    if (store_open(dir, &s, &err) != SL_OK)
        return 4; /* the temp dir itself is out of reach for nobody */
    sl_code c = delta_snapshot_open(s, "", &LATEST, &snap, &err);
    delta_snapshot_free(snap);
    store_close(s);
    if (c != SL_STORE_PERMISSION || !strstr(err.msg, want_in_msg)) {
        fprintf(stderr, "got %s: %s\n", err_code_name(c), err.msg);
        return 1;
    }
    return 0;
}

static void run_unprivileged(const char *dir, const char *want_in_msg)
{
    if (geteuid() != 0) {
        assert_int_equal(unreadable_check(dir, want_in_msg), 0);
        return;
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0)
            _exit(3);
        _exit(unreadable_check(dir, want_in_msg));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 3 || WEXITSTATUS(status) == 4) {
        printf("SKIP: cannot check as an unprivileged user under %s\n", dir);
        return;
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_unreadable_log_dir(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("delta");
    write_commit(dir, 0, PROTO_1_2 META("m1"));
    write_commit(dir, 1, "{\"commitInfo\":{}}\n");
    assert_int_equal(chmod(dir, 0755), 0);
    char *logdir = sl_asprintf("%s/_delta_log", dir);
    assert_int_equal(chmod(logdir, 0), 0);
    run_unprivileged(dir, "_delta_log");
    assert_int_equal(chmod(logdir, 0755), 0);
    /* One unreadable commit file: the store's code, naming that file. */
    char *c1 = sl_asprintf("%s/00000000000000000001.json", logdir);
    assert_int_equal(chmod(c1, 0), 0);
    run_unprivileged(dir, "00000000000000000001.json");
    free(c1);
    free(logdir);
    tu_rmtree(dir);
    free(dir);
}

/* ---- scale ------------------------------------------------------------------------ */

static void test_many_files(void **state)
{
    (void)state;
    enum { N = 100000 };
    char *dir = tu_mkdtemp("delta");
    sl_buf b = {0};
    buf_append_str(&b, PROTO_1_2 META("m1"));
    for (int i = 0; i < N; i++)
        buf_appendf(
            &b,
            "{\"add\":{\"path\":\"part-%06d.parquet\",\"partitionValues\":{},\"size\":10,"
            "\"modificationTime\":1,\"dataChange\":true,"
            "\"stats\":\"{\\\"numRecords\\\":3,\\\"minValues\\\":{\\\"id\\\":1}}\"}}\n",
            i);
    write_commit(dir, 0, b.data);
    buf_reset(&b);
    for (int i = 0; i < N; i += 2)
        buf_appendf(
            &b, "{\"remove\":{\"path\":\"part-%06d.parquet\",\"dataChange\":true}}\n", i);
    write_commit(dir, 1, b.data);
    buf_free(&b);

    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, N / 2);
    assert_int_equal(s->ntombstones, N / 2);
    assert_int_equal(s->num_rows, 3 * (N / 2));
    assert_int_equal(s->size_bytes, 10 * (N / 2));
    assert_string_equal(s->files[0].path, "part-000001.parquet");
    for (size_t i = 1; i < s->nfiles; i++)
        assert_true(strcmp(s->files[i - 1].path, s->files[i].path) < 0);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove_reconcile),
        cmocka_unit_test(test_deletion_vector_keys),
        cmocka_unit_test(test_readd_after_remove),
        cmocka_unit_test(test_last_metadata_protocol_win),
        cmocka_unit_test(test_txn_and_domains),
        cmocka_unit_test(test_rows_unknown_without_stats),
        cmocka_unit_test(test_stats_scanner),
        cmocka_unit_test(test_file_map),
        cmocka_unit_test(test_time_travel),
        cmocka_unit_test(test_gap_names_version),
        cmocka_unit_test(test_checkpoint_rules),
        cmocka_unit_test(test_protocol_checks),
        cmocka_unit_test(test_name_patterns),
        cmocka_unit_test(test_ignored_entries),
        cmocka_unit_test(test_not_a_table),
        cmocka_unit_test(test_table_under_prefix),
        cmocka_unit_test(test_corrupt_commits),
        cmocka_unit_test(test_unknown_actions_kept),
        cmocka_unit_test(test_json_scanner),
        cmocka_unit_test(test_escaped_paths_and_bad_lines),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_unreadable_log_dir),
        cmocka_unit_test(test_many_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
