/* Snapshots from checkpoints: which checkpoint is used, what is ignored, how
 * failures are named, v2 checkpoints with sidecars, the two checkpoint
 * readers agreeing, and row counts from Parquet footers. Fixture tables are
 * copied into temp dirs before anything is removed or changed; the fixtures
 * themselves are only read. */

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_writer.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define LOG "_delta_log/"

static const delta_at LATEST = {.kind = DELTA_AT_LATEST};

static delta_at at_version(int64_t v)
{
    return (delta_at){.kind = DELTA_AT_VERSION, .version = v};
}

/* ---- files ---------------------------------------------------------------- */

static char *fixture_table(const char *rel)
{
    const char *fx = tu_fixtures_dir();
    return fx ? sl_asprintf("%s/delta/%s", fx, rel) : NULL;
}

/* A writable copy of a fixture table. */
static char *copy_table(const char *rel)
{
    char *src = fixture_table(rel);
    char *dir = tu_mkdtemp("cp");
    char *cmd = sl_asprintf("cp -r --no-preserve=mode '%s/.' '%s/'", src, dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    free(src);
    return dir;
}

static void rm_rel(const char *dir, const char *rel)
{
    char *p = sl_asprintf("%s/%s", dir, rel);
    if (unlink(p) != 0)
        fail_msg("cannot remove %s", p);
    free(p);
}

static void rm_commits(const char *dir, int64_t from, int64_t to)
{
    for (int64_t v = from; v <= to; v++) {
        char *rel = sl_asprintf(LOG "%020lld.json", (long long)v);
        rm_rel(dir, rel);
        free(rel);
    }
}

static void write_bytes(const char *dir, const char *rel, const void *data, size_t n)
{
    tu_write_file(dir, rel, ""); /* creates the parent folders */
    char *p = sl_asprintf("%s/%s", dir, rel);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
    free(p);
}

static char *read_bytes(const char *dir, const char *rel, size_t *n)
{
    char *p = sl_asprintf("%s/%s", dir, rel);
    FILE *fp = fopen(p, "rb");
    if (!fp)
        fail_msg("cannot read %s", p);
    sl_buf b = {0};
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, fp)) > 0)
        buf_append(&b, tmp, k);
    fclose(fp);
    free(p);
    *n = b.len;
    return buf_steal(&b);
}

/* Keeps the first half of a file: a truncated upload. */
static void truncate_half(const char *dir, const char *rel)
{
    size_t n;
    char *data = read_bytes(dir, rel, &n);
    write_bytes(dir, rel, data, n / 2);
    free(data);
}

/* A small flat Parquet file of `rows` rows (our own writer). */
static void write_parquet(const char *dir, const char *rel, int rows)
{
    pq_schema_col cols[] = {{.name = "id", .type = PQ_TYPE_INT64, .nullable = false},
                            {.name = "name", .type = PQ_TYPE_STRING, .nullable = true}};
    sl_err err = {0};
    pq_writer *w = pq_writer_new(cols, 2, NULL, &err);
    assert_non_null(w);
    for (int i = 0; i < rows; i++) {
        pq_value v[2] = {pq_val_i64(i), pq_val_str(i % 2 ? "odd" : NULL)};
        assert_int_equal(pq_writer_add_row(w, v, &err), SL_OK);
    }
    sl_buf file = {0};
    assert_int_equal(pq_writer_finish(w, &file, NULL, &err), SL_OK);
    write_bytes(dir, rel, file.data, file.len);
    buf_free(&file);
    pq_writer_free(w);
}

/* ---- snapshots -------------------------------------------------------------- */

static sl_code snap_open_ex(const char *dir, const delta_at *at, int use_cp,
                            delta_snapshot **out, sl_err *err)
{
    store *s = NULL;
    assert_int_equal(store_open(dir, &s, err), SL_OK);
    sl_code c = delta_snapshot_open_ex(s, "", at, use_cp, out, err);
    store_close(s);
    return c;
}

static delta_snapshot *snap_ok(const char *dir, const delta_at *at)
{
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    sl_code c = snap_open_ex(dir, at, 1, &snap, &err);
    if (c != SL_OK)
        fail_msg("snapshot of %s failed: %s %s", dir, err_code_name(c), err.msg);
    return snap;
}

static sl_code snap_fail(const char *dir, const delta_at *at, sl_err *err)
{
    delta_snapshot *snap = NULL;
    sl_code c = snap_open_ex(dir, at, 1, &snap, err);
    if (c == SL_OK)
        fail_msg("snapshot of %s v%lld gave numbers where it must fail", dir,
                 (long long)snap->version);
    assert_null(snap);
    return c;
}

static void expect(const char *dir, const delta_at *at, int64_t version, size_t files,
                   int64_t rows, int64_t cp)
{
    delta_snapshot *s = snap_ok(dir, at);
    if (s->version != version || s->nfiles != files || s->num_rows != rows ||
        s->checkpoint_version != cp)
        fail_msg("%s: got v%lld %zu files %lld rows from checkpoint %lld; want v%lld %zu "
                 "files %lld rows from checkpoint %lld",
                 dir, (long long)s->version, s->nfiles, (long long)s->num_rows,
                 (long long)s->checkpoint_version, (long long)version, files,
                 (long long)rows, (long long)cp);
    delta_snapshot_free(s);
}

static int is_parquet_code(sl_code c)
{
    return strncmp(err_code_name(c), "SL-PARQUET-", 11) == 0;
}

/* Same live files (path, DV, size, rows, add action), same protocol,
 * metadata, txns and domains. */
static void snapshots_equal(const char *what, const delta_snapshot *a,
                            const delta_snapshot *b, int compare_add_json)
{
    if (a->nfiles != b->nfiles)
        fail_msg("%s: %zu files vs %zu", what, a->nfiles, b->nfiles);
    for (size_t i = 0; i < a->nfiles; i++) {
        const delta_file *x = &a->files[i], *y = &b->files[i];
        assert_string_equal(x->path, y->path);
        assert_true((!x->dv_id && !y->dv_id) ||
                    (x->dv_id && y->dv_id && strcmp(x->dv_id, y->dv_id) == 0));
        if (x->size != y->size || x->num_records != y->num_records ||
            x->dv_cardinality != y->dv_cardinality)
            fail_msg("%s: %s differs (size %lld/%lld rows %lld/%lld)", what, x->path,
                     (long long)x->size, (long long)y->size, (long long)x->num_records,
                     (long long)y->num_records);
        json_t *ja = delta_file_add(x), *jb = delta_file_add(y);
        assert_non_null(ja);
        assert_non_null(jb);
        assert_true(json_equal(json_object_get(ja, "partitionValues"),
                               json_object_get(jb, "partitionValues")));
        if (compare_add_json && !json_equal(ja, jb)) {
            char *ta = json_dumps(ja, JSON_COMPACT), *tb = json_dumps(jb, JSON_COMPACT);
            fail_msg("%s: add of %s differs:\n%s\n%s", what, x->path, ta, tb);
        }
        json_decref(ja);
        json_decref(jb);
    }
    assert_int_equal(a->num_rows, b->num_rows);
    assert_int_equal(a->size_bytes, b->size_bytes);
    assert_true(json_equal(a->protocol, b->protocol));
    assert_true(json_equal(a->metadata, b->metadata));
    assert_true(json_equal(a->txns, b->txns));
    assert_true(json_equal(a->domains, b->domains));
}

/* ---- which checkpoint ------------------------------------------------------- */

static void test_classic_cleaned_log(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    const char *rel = "delta/basic-with-inserts-deletes-checkpoint";
    char *dir = copy_table(rel);
    rm_commits(dir, 0, 9); /* versions 0..9 now live only in checkpoint 10 */
    expect(dir, &LATEST, 13, 7, 41, 10);
    delta_at a = at_version(10);
    expect(dir, &a, 10, 6, 35, 10);
    a = at_version(12);
    expect(dir, &a, 12, 8, 55, 10);
    sl_err err = {0};
    a = at_version(9);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);
    a = at_version(0);
    assert_int_equal(snap_fail(dir, &a, &err), SL_DELTA_VERSION_NOT_FOUND);

    /* The same answers as the full log replayed from JSON, add actions and
     * commit times included. */
    char *full = fixture_table(rel);
    for (int64_t v = 10; v <= 13; v++) {
        a = at_version(v);
        delta_snapshot *cp = snap_ok(dir, &a), *js = NULL;
        assert_int_equal(snap_open_ex(full, &a, 0, &js, &err), SL_OK);
        assert_int_equal(js->checkpoint_version, -1);
        snapshots_equal("cleaned log vs JSON", cp, js, 0);
        assert_int_equal(cp->timestamp_ms, js->timestamp_ms);
        for (size_t i = 0; i < cp->nfiles; i++) {
            json_t *add = delta_file_add(&cp->files[i]);
            assert_string_equal(json_string_value(json_object_get(add, "path")),
                                cp->files[i].path);
            assert_true(json_is_object(json_object_get(add, "partitionValues")));
            assert_true(json_is_string(json_object_get(add, "stats")));
            json_decref(add);
        }
        delta_snapshot_free(cp);
        delta_snapshot_free(js);
    }
    free(full);

    /* History lists the JSON commits that exist. */
    store *s = NULL;
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_history h;
    assert_int_equal(delta_history_load(s, "", 0, &h, &err), SL_OK);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.latest_version, 13);
    assert_int_equal(h.oldest_available, 10);
    delta_history_free(&h);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_last_checkpoint_ignored(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    char *dir = copy_table("delta/basic-with-inserts-deletes-checkpoint");
    rm_commits(dir, 0, 9);
    const char *contents[] = {"",
                              "garbage{",
                              "{\"version\":3,\"size\":1}",
                              "{\"version\":99,\"size\":1,\"parts\":5}",
                              "{\"version\":13,\"size\":7}",
                              "[1,2,3]"};
    for (size_t i = 0; i < sizeof contents / sizeof *contents; i++) {
        tu_write_file(dir, LOG "_last_checkpoint", contents[i]);
        expect(dir, &LATEST, 13, 7, 41, 10);
    }
    rm_rel(dir, LOG "_last_checkpoint");
    expect(dir, &LATEST, 13, 7, 41, 10);
    tu_rmtree(dir);
    free(dir);
}

static void test_newer_checkpoint_not_used(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    char *dir = fixture_table("delta/basic-with-inserts-deletes-checkpoint");
    /* Versions below the checkpoint come from JSON alone. */
    for (int64_t v = 0; v < 10; v++) {
        delta_at a = at_version(v);
        delta_snapshot *s = snap_ok(dir, &a);
        assert_int_equal(s->checkpoint_version, -1);
        assert_int_equal(s->version, v);
        delta_snapshot_free(s);
    }
    delta_at a = at_version(5);
    expect(dir, &a, 5, 5, 45, -1);
    a = at_version(11);
    expect(dir, &a, 11, 7, 45, 10);
    free(dir);

    /* With two checkpoints, the newest at or below the version. */
    dir = fixture_table("delta-rs/table_with_deletion_logs");
    a = at_version(15);
    expect(dir, &a, 15, 1, 98, 10);
    a = at_version(19);
    expect(dir, &a, 19, 1, 98, 10);
    expect(dir, &LATEST, 20, 1, 98, 20);
    a = at_version(9);
    expect(dir, &a, 9, 1, 98, -1);
    free(dir);
}

static void test_incomplete_multipart(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    const char *part1 =
        LOG "00000000000000000001.checkpoint.0000000001.0000000002.parquet";
    const char *part2 =
        LOG "00000000000000000001.checkpoint.0000000002.0000000002.parquet";
    char *dir = copy_table("delta/multi-part-checkpoint");
    expect(dir, &LATEST, 1, 10, 31, 1);
    size_t n;
    char *saved = read_bytes(dir, part2, &n);
    rm_rel(dir, part2); /* an incomplete set does not count */
    expect(dir, &LATEST, 1, 10, 31, -1);
    rm_commits(dir, 0, 0);
    sl_err err = {0};
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_GAP);
    assert_non_null(strstr(err.msg, "version 0"));
    write_bytes(dir, part2, saved, n); /* complete again: serves without commit 0 */
    free(saved);
    expect(dir, &LATEST, 1, 10, 31, 1);
    /* A part that is not Parquet fails, naming that part. */
    truncate_half(dir, part1);
    sl_code c = snap_fail(dir, &LATEST, &err);
    assert_true(is_parquet_code(c));
    assert_non_null(strstr(err.msg, "checkpoint.0000000001.0000000002.parquet"));
    tu_rmtree(dir);
    free(dir);

    /* An incomplete newer set falls back to the older complete checkpoint. */
    dir = copy_table("delta/basic-with-inserts-deletes-checkpoint");
    rm_commits(dir, 0, 9);
    tu_write_file(dir,
                  LOG "00000000000000000012.checkpoint.0000000001.0000000002.parquet",
                  "PAR1 not really PAR1");
    expect(dir, &LATEST, 13, 7, 41, 10);
    tu_rmtree(dir);
    free(dir);
}

/* ---- failures ------------------------------------------------------------------ */

static void test_corrupt_checkpoint(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    const char *cp10 = LOG "00000000000000000010.checkpoint.parquet";
    char *dir = copy_table("delta/basic-with-inserts-deletes-checkpoint");
    rm_commits(dir, 0, 9);
    truncate_half(dir, cp10);
    sl_err err = {0};
    sl_code c = snap_fail(dir, &LATEST, &err);
    if (!is_parquet_code(c))
        fail_msg("truncated checkpoint gave %s %s", err_code_name(c), err.msg);
    assert_non_null(strstr(err.msg, "00000000000000000010.checkpoint.parquet"));

    /* Valid Parquet, but no Delta actions in it. */
    rm_rel(dir, cp10);
    write_parquet(dir, cp10, 4);
    c = snap_fail(dir, &LATEST, &err);
    assert_int_equal(c, SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "00000000000000000010.checkpoint.parquet"));

    /* Not there at all: versions before 10 cannot be rebuilt. */
    rm_rel(dir, cp10);
    c = snap_fail(dir, &LATEST, &err);
    assert_true(c == SL_DELTA_GAP || c == SL_DELTA_VERSION_NOT_FOUND);
    tu_rmtree(dir);
    free(dir);

    /* An unreadable newest checkpoint gives way to an older one... */
    const char *cp20 = LOG "00000000000000000020.checkpoint.parquet";
    dir = copy_table("delta-rs/table_with_deletion_logs");
    truncate_half(dir, cp20);
    expect(dir, &LATEST, 20, 1, 98, 10);
    /* ...but when it is the only way, its error is the answer. */
    rm_commits(dir, 0, 19);
    c = snap_fail(dir, &LATEST, &err);
    assert_true(is_parquet_code(c));
    assert_non_null(strstr(err.msg, "00000000000000000020.checkpoint.parquet"));
    tu_rmtree(dir);
    free(dir);
}

/* ---- v2 checkpoints ------------------------------------------------------------- */

static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    assert_non_null(p);
    return sl_asprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static void test_v2_checkpoint(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    const char *top = LOG "00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-"
                          "c9c550132b49.json";
    char *dir = copy_table("delta/v2-checkpoint-json");
    rm_commits(dir, 0, 1);
    expect(dir, &LATEST, 2, 4, 10, 2);
    delta_snapshot *s = snap_ok(dir, &LATEST);
    json_t *rf = json_object_get(s->protocol, "readerFeatures");
    assert_string_equal(json_string_value(json_array_get(rf, 0)), "v2Checkpoint");
    assert_string_equal(json_string_value(json_object_get(s->metadata, "id")),
                        "8a390218-e4ee-4341-b6de-4920e27d3f78");
    delta_snapshot_free(s);

    size_t n;
    char *orig = read_bytes(dir, top, &n);
    sl_err err = {0};

    /* The protocol check applies to a protocol read from a checkpoint. */
    char *t = replace(orig, "\"readerFeatures\":[\"v2Checkpoint\"]",
                      "\"readerFeatures\":[\"v2Checkpoint\",\"fancyFeature\"]");
    tu_write_file(dir, top, t);
    free(t);
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_UNSUPPORTED_FEATURE);
    assert_non_null(strstr(err.msg, "fancyFeature"));

    /* A top-level file without checkpointMetadata is not a v2 checkpoint. */
    t = replace(orig, "{\"checkpointMetadata\":{\"version\":2}}\n", "");
    tu_write_file(dir, top, t);
    free(t);
    assert_int_equal(snap_fail(dir, &LATEST, &err), SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(err.msg, "6374b053-df23-479b-b2cf-c9c550132b49.json"));

    /* A sidecar that is gone: named, never a partial answer. */
    tu_write_file(dir, top, orig);
    expect(dir, &LATEST, 2, 4, 10, 2);
    rm_rel(dir, LOG "_sidecars/00000000000000000002.checkpoint.0000000001.0000000002."
                    "bd1885fd-6ec0-4370-b0f5-43b5162fd4de.parquet");
    sl_code c = snap_fail(dir, &LATEST, &err);
    assert_true(c == SL_STORE_NOT_FOUND || is_parquet_code(c));
    assert_non_null(strstr(err.msg, "bd1885fd-6ec0-4370-b0f5-43b5162fd4de"));
    free(orig);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the two readers ------------------------------------------------------------ */

typedef struct collected {
    json_t *actions; /* array of {name: body} */
} collected;

static sl_code collect(void *vctx, const char *name, const char *body, size_t n,
                       const delta_cp_file *cf, size_t row, sl_err *err)
{
    (void)row;
    (void)err;
    /* The direct fields agree with the text they came with. */
    if (cf) {
        json_t *v = json_loadb(body, n, 0, NULL);
        const char *path = json_string_value(json_object_get(v, "path"));
        assert_non_null(path);
        assert_true(strlen(path) == cf->path_len &&
                    memcmp(path, cf->path, cf->path_len) == 0);
        assert_int_equal(json_integer_value(json_object_get(v, "size")), cf->size);
        int64_t nr = -1;
        const char *stats = json_string_value(json_object_get(v, "stats"));
        if (stats && delta_stats_num_records(stats, &nr) != 0)
            nr = -1;
        assert_int_equal(nr, cf->num_records);
        assert_int_equal(!!json_object_get(v, "deletionVector"), cf->has_dv);
        json_decref(v);
    }
    collected *c = vctx;
    json_error_t jerr;
    json_t *v = json_loadb(body, n, 0, &jerr);
    if (!v)
        fail_msg("%s body is not JSON (%s): %.*s", name, jerr.text, (int)n, body);
    json_t *o = json_object();
    json_object_set_new(o, name, v);
    json_array_append_new(c->actions, o);
    return SL_OK;
}

static json_t *read_actions(store *s, const char *key, int force_rows)
{
    collected col = {.actions = json_array()};
    sl_err err = {0};
    delta_checkpoint_force_rows = force_rows;
    sl_code c = delta_checkpoint_parquet_read(s, key, collect, &col, &err);
    delta_checkpoint_force_rows = 0;
    if (c != SL_OK)
        fail_msg("%s: %s %s", key, err_code_name(c), err.msg);
    return col.actions;
}

static void test_readers_agree(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    /* Real checkpoints from Spark, Databricks and delta-rs, action by action. */
    static const char *const files[] = {
        "simple_table_with_checkpoint__00000000000000000010.checkpoint.parquet",
        "delta-1.2.1-only-struct-stats__00000000000000000010.checkpoint.parquet",
        "table_with_deletion_logs__00000000000000000020.checkpoint.parquet",
        "checkpoint-v2-table__sidecar_00000000000000000008.parquet",
        "checkpoint_with_partitions__00000000000000000002.checkpoint.parquet",
        "table-with-domain-metadata__00000000000000000108.checkpoint.parquet"};
    static const size_t rows[] = {13, 12, 5, 7, 4, 114};
    static const int has_stats[] = {0, 1, 1, 1, 0, 1};
    char *root = sl_asprintf("%s/parquet/delta-checkpoints", fx);
    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(root, &s, &err), SL_OK);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        json_t *cols = read_actions(s, files[i], 0);
        json_t *rws = read_actions(s, files[i], 1);
        if (!json_equal(cols, rws)) {
            for (size_t k = 0; k < json_array_size(cols) || k < json_array_size(rws); k++)
                if (!json_equal(json_array_get(cols, k), json_array_get(rws, k))) {
                    char *a = json_dumps(json_array_get(cols, k), JSON_COMPACT);
                    char *b = json_dumps(json_array_get(rws, k), JSON_COMPACT);
                    fail_msg("%s action %zu differs:\ncolumns %s\nrows    %s", files[i],
                             k, a ? a : "(none)", b ? b : "(none)");
                }
        }
        /* One action per row, every add with a path and (when the file has
         * stats at all) a numRecords. */
        assert_int_equal(json_array_size(cols), rows[i]);
        size_t j;
        json_t *a;
        json_array_foreach(cols, j, a)
        {
            json_t *add = json_object_get(a, "add");
            if (!add)
                continue;
            assert_true(json_is_string(json_object_get(add, "path")));
            assert_true(json_is_object(json_object_get(add, "partitionValues")));
            const char *stats = json_string_value(json_object_get(add, "stats"));
            int64_t nr;
            if (has_stats[i])
                assert_int_equal(delta_stats_num_records(stats, &nr), 0);
            else
                assert_null(stats);
        }
        json_decref(cols);
        json_decref(rws);
    }
    store_close(s);
    free(root);

    /* Whole snapshots, through both readers. */
    static const char *const tables[] = {"delta/basic-with-inserts-deletes-checkpoint",
                                         "delta/multi-part-checkpoint",
                                         "delta/v2-checkpoint-json",
                                         "delta/basic-with-inserts-overwrite-restore",
                                         "delta-rs/table_with_deletion_logs",
                                         "delta-rs/delta-0.2.0",
                                         "delta-rs/checkpoints_vacuumed",
                                         "delta-rs/simple_table_with_checkpoint"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char *dir = fixture_table(tables[i]);
        delta_snapshot *a = snap_ok(dir, &LATEST);
        delta_checkpoint_force_rows = 1;
        delta_snapshot *b = snap_ok(dir, &LATEST);
        delta_checkpoint_force_rows = 0;
        assert_true(a->checkpoint_version >= 0);
        snapshots_equal(tables[i], a, b, 1);
        assert_int_equal(a->ntombstones, b->ntombstones);
        delta_snapshot_free(a);
        delta_snapshot_free(b);
        free(dir);
    }
}

/* ---- footers ---------------------------------------------------------------- */

#define PROTO "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define META                                                                             \
    "{\"metaData\":{\"id\":\"m\",\"format\":{\"provider\":\"parquet\",\"options\":{}},"  \
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","              \
    "\"partitionColumns\":[\"x\"],\"configuration\":{}}}\n"

static char *add_nostats(const char *path)
{
    return sl_asprintf("{\"add\":{\"path\":\"%s\",\"partitionValues\":{},\"size\":1,"
                       "\"modificationTime\":1,\"dataChange\":true}}\n",
                       path);
}

static void test_footer_rows(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("cpfoot");
    write_parquet(dir, "a.parquet", 3);
    write_parquet(dir, "x=A B/b.parquet", 5);
    write_parquet(dir, "abs.parquet", 2);
    char *abs_uri = sl_asprintf("file://%s/abs.parquet", dir);
    char *a1 = add_nostats("a.parquet"), *a2 = add_nostats("x=A%20B/b.parquet"),
         *a3 = add_nostats(abs_uri);
    char *c0 = sl_asprintf("%s%s%s%s%s", PROTO, META, a1, a2, a3);
    tu_write_file(dir, LOG "00000000000000000000.json", c0);
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, 10);
    assert_int_equal(s->rows_from_footers, 3);
    assert_int_equal(s->rows_unknown_files, 0);
    for (size_t i = 0; i < s->nfiles; i++)
        assert_true(s->files[i].num_records == 3 || s->files[i].num_records == 5 ||
                    s->files[i].num_records == 2);
    delta_snapshot_free(s);

    /* A file with stats keeps them; only the others are read. */
    tu_write_file(dir, LOG "00000000000000000001.json",
                  "{\"add\":{\"path\":\"s.parquet\",\"partitionValues\":{},\"size\":1,"
                  "\"modificationTime\":1,\"dataChange\":true,"
                  "\"stats\":\"{\\\"numRecords\\\":7}\"}}\n");
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, 17);
    assert_int_equal(s->rows_from_footers, 3);
    delta_snapshot_free(s);

    /* A missing data file: rows unknown, and the snapshot says which count. */
    char *p = sl_asprintf("%s/x=A B/b.parquet", dir);
    assert_int_equal(unlink(p), 0);
    free(p);
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, -1);
    assert_int_equal(s->rows_unknown_files, 1);
    assert_int_equal(s->rows_from_footers, 2);
    json_t *j = delta_snapshot_to_json(s, "t");
    assert_true(json_is_null(json_object_get(j, "num_rows")));
    json_decref(j);
    delta_snapshot_free(s);

    /* A data file that is not Parquet counts as unknown too, never as 0. */
    write_bytes(dir, "x=A B/b.parquet", "garbage", 7);
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, -1);
    assert_int_equal(s->rows_unknown_files, 1);
    delta_snapshot_free(s);

    /* Keys from add.path. */
    store *st = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &st, &err), SL_OK);
    char *k = delta_data_file_key(st, "", "x=A%252FA/p%20q.parquet");
    assert_string_equal(k, "x=A%2FA/p q.parquet");
    free(k);
    k = delta_data_file_key(st, "tbl/", "a.parquet");
    assert_string_equal(k, "tbl/a.parquet");
    free(k);
    char *uri = sl_asprintf("file:%s/d/e.parquet", dir);
    k = delta_data_file_key(st, "", uri);
    assert_string_equal(k, "d/e.parquet");
    free(k);
    free(uri);
    assert_null(delta_data_file_key(st, "", "file:///elsewhere/e.parquet"));
    assert_null(delta_data_file_key(st, "", "bad%zzescape"));
    assert_null(delta_data_file_key(st, "", "nul%00byte"));
    store_close(st);

    free(a1);
    free(a2);
    free(a3);
    free(c0);
    free(abs_uri);
    tu_rmtree(dir);
    free(dir);
}

/* Footers through a checkpoint: a table without stats whose log was cleaned
 * still counts its rows when the data files are there. */
static void test_footer_rows_after_checkpoint(void **state)
{
    (void)state;
    if (!tu_fixtures_dir())
        return;
    char *dir = copy_table("delta-rs/simple_table_with_checkpoint");
    rm_commits(dir, 0, 9);
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->version, 10);
    assert_int_equal(s->checkpoint_version, 10);
    assert_int_equal(s->nfiles, 11);
    assert_int_equal(s->num_rows, 11);
    assert_int_equal(s->rows_from_footers, 11);
    char *victim = sl_asprintf("%s/%s", dir, s->files[0].path);
    delta_snapshot_free(s);
    assert_int_equal(unlink(victim), 0);
    free(victim);
    s = snap_ok(dir, &LATEST);
    assert_int_equal(s->num_rows, -1);
    assert_int_equal(s->rows_unknown_files, 1);
    assert_int_equal(s->rows_from_footers, 10);
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

/* Files come out sorted by path (then DV id) whatever their common prefix
 * and lengths: the snapshot sorts on the bytes after the shared prefix. */
static void test_files_sorted(void **state)
{
    (void)state;
    static const char *const paths[] = {"part-0001/b",
                                        "part-0001",
                                        "part-0001/a",
                                        "part-00010",
                                        "part-0001/aaaaaaaaaaaaaaaaaa",
                                        "part-0001/aaaaaaaaaaaaaaaaab",
                                        "part-0002",
                                        "part-00",
                                        "part-0001/aaaaaaaaaaaaaaaaa"};
    char *dir = tu_mkdtemp("cpsort");
    sl_buf b = {0};
    buf_append_str(&b, PROTO META);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char *a = add_nostats(paths[i]);
        buf_append_str(&b, a);
        free(a);
    }
    /* The same path with a deletion vector sorts right after it. */
    buf_append_str(&b, "{\"add\":{\"path\":\"part-0001\",\"partitionValues\":{},"
                       "\"size\":1,\"modificationTime\":1,\"dataChange\":true,"
                       "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":"
                       "\"ab\",\"offset\":1,\"sizeInBytes\":4,\"cardinality\":1}}}\n");
    tu_write_file(dir, LOG "00000000000000000000.json", b.data);
    buf_free(&b);
    delta_snapshot *s = snap_ok(dir, &LATEST);
    assert_int_equal(s->nfiles, 10);
    for (size_t i = 1; i < s->nfiles; i++) {
        int c = strcmp(s->files[i - 1].path, s->files[i].path);
        if (c > 0 || (c == 0 && !(s->files[i - 1].dv_id == NULL && s->files[i].dv_id)))
            fail_msg("files out of order at %zu: %s / %s", i, s->files[i - 1].path,
                     s->files[i].path);
    }
    delta_snapshot_free(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_cleaned_log),
        cmocka_unit_test(test_last_checkpoint_ignored),
        cmocka_unit_test(test_newer_checkpoint_not_used),
        cmocka_unit_test(test_incomplete_multipart),
        cmocka_unit_test(test_corrupt_checkpoint),
        cmocka_unit_test(test_v2_checkpoint),
        cmocka_unit_test(test_readers_agree),
        cmocka_unit_test(test_footer_rows),
        cmocka_unit_test(test_footer_rows_after_checkpoint),
        cmocka_unit_test(test_files_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
