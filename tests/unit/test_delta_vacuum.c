/* VACUUM: on copies of every fixture table, a zero retention removes
 * exactly the files the latest snapshot does not reference (and never
 * _delta_log); a normal retention keeps recently removed files; tables we
 * may not write are refused untouched; dry runs delete nothing; the ops
 * layer refuses read-only sessions and audits; the CLI prints
 * {"files": [...], "bytes": N}. File ages are set with utimensat and the
 * clock is passed in, so nothing depends on the wall clock. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/util/buf.h"
#include "deltatest.h"

#define FILES_MS 1600000000000LL   /* 2020-09-13: the age every copied file gets */
#define FAR_NOW_MS 4102444800000LL /* 2100-01-01: every tombstone long expired */

typedef struct fx {
    char *dir;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("vacuum");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- file tree helpers --------------------------------------------------- */

static dt_strs *walk_list;
static size_t walk_root_len;
static int64_t walk_mtime_ms = -1;

static int walk_fn(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F)
        return 0;
    if (walk_list)
        dt_strs_push(walk_list, sl_strdup(path + walk_root_len + 1));
    if (walk_mtime_ms >= 0) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = (time_t)(walk_mtime_ms / 1000);
        ts[0].tv_nsec = ts[1].tv_nsec = (long)(walk_mtime_ms % 1000) * 1000000L;
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
    return 0;
}

/* Every regular file under dir (relative paths, sorted). */
static dt_strs files_under(const char *dir)
{
    dt_strs l = {0};
    walk_list = &l;
    walk_root_len = strlen(dir);
    walk_mtime_ms = -1;
    assert_int_equal(nftw(dir, walk_fn, 16, FTW_PHYS), 0);
    walk_list = NULL;
    dt_strs_sort(&l);
    return l;
}

static void files_touch(const char *dir, int64_t ms)
{
    walk_list = NULL;
    walk_root_len = strlen(dir);
    walk_mtime_ms = ms;
    assert_int_equal(nftw(dir, walk_fn, 16, FTW_PHYS), 0);
    walk_mtime_ms = -1;
}

/* Data, not bookkeeping: outside _delta_log, no name starting with '.' or
 * '_' except the _change_data folder (none of the fixtures' partition
 * folders starts with '_'). */
static int is_data(const char *rel)
{
    if (strncmp(rel, "_delta_log/", 11) == 0)
        return 0;
    const char *p = rel;
    for (;;) {
        if ((p[0] == '.' || p[0] == '_') && strncmp(p, "_change_data/", 13) != 0)
            return 0;
        const char *s = strchr(p, '/');
        if (!s)
            return 1;
        p = s + 1;
    }
}

/* The latest snapshot's live paths (decoded), sorted. */
static dt_strs live_paths(const delta_snapshot *snap)
{
    dt_strs l = {0};
    for (size_t i = 0; i < snap->nfiles; i++)
        dt_strs_push(&l, delta_path_decode(snap->files[i].path));
    dt_strs_sort(&l);
    return l;
}

/* ---- INDEX.md: the tables and their "VACUUM view" counts ----------------- */

typedef struct index_row {
    char name[128];
    long unreferenced; /* -1 when the INDEX gives no VACUUM view */
} index_row;

static size_t index_read(index_row *rows, size_t max)
{
    char *path = sl_asprintf("%s/delta/INDEX.md", tu_fixtures_dir());
    char *text = tu_read_file(path);
    free(path);
    assert_non_null(text);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "## ", 3) == 0 && n < max) {
            snprintf(rows[n].name, sizeof rows[n].name, "%s", line + 3);
            rows[n].unreferenced = -1;
            n++;
        } else if (n && strncmp(line, "- VACUUM view at latest: ", 25) == 0) {
            rows[n - 1].unreferenced = strtol(line + 25, NULL, 10);
        }
    }
    free(text);
    return n;
}

static size_t count_parquet_data(const dt_strs *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t len = strlen(l->v[i]);
        if (strncmp(l->v[i], "_change_data/", 13) != 0 && len > 8 &&
            strcmp(l->v[i] + len - 8, ".parquet") == 0)
            n++;
    }
    return n;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_interval_parse(void **state)
{
    (void)state;
    sl_err e = {0};
    int64_t ms;
    assert_int_equal(delta_interval_parse("interval 7 days", &ms, &e), SL_OK);
    assert_int_equal(ms, 7LL * 86400000);
    assert_int_equal(delta_interval_parse("interval 168 hours", &ms, &e), SL_OK);
    assert_int_equal(ms, 168LL * 3600000);
    assert_int_equal(delta_interval_parse("INTERVAL 1 WEEK", &ms, &e), SL_OK);
    assert_int_equal(ms, 7LL * 86400000);
    assert_int_equal(delta_interval_parse("interval 1 day 12 hours", &ms, &e), SL_OK);
    assert_int_equal(ms, 36LL * 3600000);
    assert_int_equal(delta_interval_parse("2 minutes", &ms, &e), SL_OK);
    assert_int_equal(ms, 120000);
    assert_int_equal(delta_interval_parse("interval 0 seconds", &ms, &e), SL_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(delta_interval_parse("interval 1500 microseconds", &ms, &e), SL_OK);
    assert_int_equal(ms, 1);
    assert_int_equal(delta_interval_parse("interval 1 month", &ms, &e), SL_USAGE);
    assert_int_equal(delta_interval_parse("interval", &ms, &e), SL_USAGE);
    assert_int_equal(delta_interval_parse("seven days", &ms, &e), SL_USAGE);
    assert_int_equal(delta_interval_parse("interval -1 days", &ms, &e), SL_USAGE);
    json_t *md = json_pack("{s:{s:s}}", "configuration",
                           "delta.deletedFileRetentionDuration", "interval 2 days");
    assert_int_equal(delta_vacuum_table_retention(md, &ms, &e), SL_OK);
    assert_int_equal(ms, 2LL * 86400000);
    json_object_del(md, "configuration");
    assert_int_equal(delta_vacuum_table_retention(md, &ms, &e), SL_OK);
    assert_int_equal(ms, DELTA_VACUUM_DEFAULT_RETENTION_MS);
    json_decref(md);
}

/* The example of PROTOCOL.md's deletion vector descriptor. */
static void test_dv_file_key(void **state)
{
    fx *f = *state;
    store *s;
    sl_err e = {0};
    assert_int_equal(store_open(f->dir, &s, &e), SL_OK);
    json_t *dv = json_pack("{s:s, s:s}", "storageType", "u", "pathOrInlineDv",
                           "ab^-aqEH.-t@S}K{vb[*k^");
    char *k = delta_dv_file_key(s, "tbl", dv);
    assert_string_equal(
        k, "tbl/ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
    free(k);
    json_object_set_new(dv, "pathOrInlineDv", json_string("^-aqEH.-t@S}K{vb[*k^"));
    k = delta_dv_file_key(s, "", dv);
    assert_string_equal(k, "deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
    free(k);
    json_object_set_new(dv, "storageType", json_string("i"));
    assert_null(delta_dv_file_key(s, "", dv));
    json_object_set_new(dv, "storageType", json_string("p"));
    char *uri = sl_asprintf("file://%s/x/dv.bin", f->dir);
    json_object_set_new(dv, "pathOrInlineDv", json_string(uri));
    k = delta_dv_file_key(s, "", dv);
    assert_string_equal(k, "x/dv.bin");
    free(k);
    free(uri);
    json_object_set_new(dv, "pathOrInlineDv", json_string("file:///elsewhere/dv.bin"));
    assert_null(delta_dv_file_key(s, "", dv));
    json_decref(dv);
    store_close(s);
}

/* Zero retention on every fixture: exactly the unreferenced data files go. */
static void test_zero_retention_on_fixtures(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    index_row rows[64];
    size_t nrows = index_read(rows, 64);
    assert_true(nrows >= 20);
    size_t vacuumed = 0, refused = 0;
    for (size_t r = 0; r < nrows; r++) {
        char *dir = dt_copy_fixture(f->dir, rows[r].name);
        files_touch(dir, FILES_MS);
        char *digest_before = dt_tree_digest(dir);
        char *log_dir = sl_asprintf("%s/_delta_log", dir);
        dt_strs before = files_under(dir);
        store *s;
        sl_err e = {0};
        assert_int_equal(store_open(dir, &s, &e), SL_OK);
        delta_at at = {.kind = DELTA_AT_LATEST};
        delta_snapshot *snap = NULL;
        sl_code sc = delta_snapshot_open(s, "", &at, &snap, &e);
        int writable =
            sc == SL_OK &&
            delta_write_protocol_check(snap->protocol, snap->metadata, dir, &e) == SL_OK;
        delta_vacuum_opts o = {.retain_ms = 0,
                               .force_short_retention = 1,
                               .now_ms = FAR_NOW_MS,
                               .record_commits = 0};
        delta_vacuum_result vr;
        sl_code c = delta_vacuum(s, "", &o, &vr, &e);
        if (!writable) {
            if (c == SL_OK)
                fail_msg("%s: vacuum of a table we may not write succeeded",
                         rows[r].name);
            if (sc == SL_OK)
                assert_int_equal(c, SL_DELTA_UNSUPPORTED_FEATURE);
            char *digest_after = dt_tree_digest(dir);
            assert_string_equal(digest_before, digest_after);
            free(digest_after);
            refused++;
        } else {
            if (c != SL_OK)
                fail_msg("%s: %s %s", rows[r].name, err_code_name(c), e.msg);
            char *log_before = NULL, *log_after = NULL;
            dt_strs after = files_under(dir);
            dt_strs live = live_paths(snap);
            dt_strs expected = {0};
            for (size_t i = 0; i < before.n; i++)
                if (is_data(before.v[i]) && !dt_strs_has(&live, before.v[i]))
                    dt_strs_push(&expected, sl_strdup(before.v[i]));
            /* What went is exactly what was expected to go. */
            dt_strs gone = {0};
            for (size_t i = 0; i < before.n; i++)
                if (!dt_strs_has(&after, before.v[i]))
                    dt_strs_push(&gone, sl_strdup(before.v[i]));
            assert_int_equal(gone.n, expected.n);
            for (size_t i = 0; i < gone.n; i++)
                assert_string_equal(gone.v[i], expected.v[i]);
            assert_int_equal(vr.nfiles, expected.n);
            for (size_t i = 0; i < vr.nfiles; i++)
                assert_string_equal(vr.files[i], expected.v[i]);
            if (rows[r].unreferenced >= 0 &&
                count_parquet_data(&expected) != (size_t)rows[r].unreferenced)
                fail_msg("%s: %zu unreferenced Parquet files, INDEX says %ld",
                         rows[r].name, count_parquet_data(&expected),
                         rows[r].unreferenced);
            /* Every live file is still there; _delta_log is byte-for-byte as it was. */
            for (size_t i = 0; i < live.n; i++)
                if (dt_strs_has(&before, live.v[i]) && !dt_strs_has(&after, live.v[i]))
                    fail_msg("%s: live file %s deleted", rows[r].name, live.v[i]);
            char *cmd = sl_asprintf("cd '%s' && find _delta_log -type f -print0 | "
                                    "LC_ALL=C sort -z | xargs -0 -r sha256sum",
                                    dir);
            assert_int_equal(tu_run(cmd, &log_after), 0);
            free(cmd);
            cmd = sl_asprintf("cd '%s/delta/%s' && find _delta_log -type f -print0 | "
                              "LC_ALL=C sort -z | xargs -0 -r sha256sum",
                              tu_fixtures_dir(), rows[r].name);
            assert_int_equal(tu_run(cmd, &log_before), 0);
            free(cmd);
            assert_string_equal(log_before, log_after);
            free(log_before);
            free(log_after);
            dt_strs_clear(&gone);
            dt_strs_clear(&expected);
            dt_strs_clear(&live);
            dt_strs_clear(&after);
            delta_vacuum_result_free(&vr);
            vacuumed++;
        }
        delta_snapshot_free(snap);
        store_close(s);
        dt_strs_clear(&before);
        free(log_dir);
        free(digest_before);
        free(dir);
    }
    assert_true(vacuumed >= 10);
    assert_true(refused >= 5);
}

/* With the table's retention and tombstones younger than it, only files
 * that no remove names (orphans) may go. */
static void test_normal_retention_keeps_recent_tombstones(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    static const char *tables[] = {"delta-rs/simple_table",
                                   "delta/basic-with-inserts-deletes-checkpoint",
                                   "delta-rs/cdf-table", "delta-rs/delta-0.2.0"};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        char *dir = dt_copy_fixture(f->dir, tables[t]);
        store *s;
        sl_err e = {0};
        assert_int_equal(store_open(dir, &s, &e), SL_OK);
        delta_at at = {.kind = DELTA_AT_LATEST};
        delta_snapshot *snap = NULL;
        assert_int_equal(delta_snapshot_open(s, "", &at, &snap, &e), SL_OK);
        assert_true(snap->ntombstones > 0);
        int64_t newest = 0;
        for (size_t i = 0; i < snap->ntombstones; i++)
            if (snap->tombstones[i].deletion_timestamp > newest)
                newest = snap->tombstones[i].deletion_timestamp;
        int64_t now = newest + 3600000;
        files_touch(dir, now - 30LL * 86400000);
        dt_strs before = files_under(dir);
        dt_strs live = live_paths(snap);
        dt_strs recent = {0};
        for (size_t i = 0; i < snap->ntombstones; i++)
            if (snap->tombstones[i].deletion_timestamp >
                now - DELTA_VACUUM_DEFAULT_RETENTION_MS)
                dt_strs_push(&recent, delta_path_decode(snap->tombstones[i].path));
        dt_strs_sort(&recent);
        assert_true(recent.n > 0);
        dt_strs expected = {0};
        for (size_t i = 0; i < before.n; i++)
            if (is_data(before.v[i]) && !dt_strs_has(&live, before.v[i]) &&
                !dt_strs_has(&recent, before.v[i]))
                dt_strs_push(&expected, sl_strdup(before.v[i]));
        delta_vacuum_opts o = {.retain_ms = -1, .now_ms = now, .record_commits = 0};
        delta_vacuum_result vr;
        assert_int_equal(delta_vacuum(s, "", &o, &vr, &e), SL_OK);
        assert_int_equal(vr.retain_ms, DELTA_VACUUM_DEFAULT_RETENTION_MS);
        assert_int_equal(vr.nfiles, expected.n);
        for (size_t i = 0; i < vr.nfiles; i++)
            assert_string_equal(vr.files[i], expected.v[i]);
        dt_strs after = files_under(dir);
        for (size_t i = 0; i < recent.n; i++)
            if (dt_strs_has(&before, recent.v[i]) && !dt_strs_has(&after, recent.v[i]))
                fail_msg("%s: recently removed %s was deleted", tables[t], recent.v[i]);
        delta_vacuum_result_free(&vr);
        /* A retention below the table's is refused without force, and nothing changes. */
        char *digest = dt_tree_digest(dir);
        o.retain_ms = 3600000;
        assert_int_equal(delta_vacuum(s, "", &o, &vr, &e), SL_DELTA_RETENTION);
        assert_non_null(strstr(e.msg, "168 hours"));
        char *digest2 = dt_tree_digest(dir);
        assert_string_equal(digest, digest2);
        free(digest);
        free(digest2);
        dt_strs_clear(&after);
        dt_strs_clear(&expected);
        dt_strs_clear(&recent);
        dt_strs_clear(&live);
        dt_strs_clear(&before);
        delta_snapshot_free(snap);
        store_close(s);
        free(dir);
    }
}

/* An orphan is kept while younger than the cutoff, whatever the snapshot says. */
static void test_young_orphans_kept_and_dry_run(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/simple_table");
    tu_write_file(dir, "orphan-young.parquet", "young");
    tu_write_file(dir, "sub/orphan-old.parquet", "old");
    tu_write_file(dir, "_hidden/keep.parquet", "hidden");
    tu_write_file(dir, ".keep.crc", "hidden");
    files_touch(dir, FILES_MS);
    int64_t now = FILES_MS + 10LL * 86400000;
    char *young = sl_asprintf("%s/orphan-young.parquet", dir);
    struct timespec ts[2] = {{(time_t)((now - 3600000) / 1000), 0},
                             {(time_t)((now - 3600000) / 1000), 0}};
    assert_int_equal(utimensat(AT_FDCWD, young, ts, 0), 0);
    store *s;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &s, &e), SL_OK);
    char *digest = dt_tree_digest(dir);
    delta_vacuum_opts o = {.retain_ms = 2 * 3600000,
                           .force_short_retention = 1,
                           .now_ms = now,
                           .dry_run = 1,
                           .record_commits = 1};
    delta_vacuum_result dry;
    assert_int_equal(delta_vacuum(s, "", &o, &dry, &e), SL_OK);
    char *digest2 = dt_tree_digest(dir);
    assert_string_equal(digest, digest2); /* a dry run writes nothing, not even commits */
    assert_int_equal(dry.start_version, -1);
    assert_int_equal(dry.nfiles, 33);
    int has_old = 0;
    for (size_t i = 0; i < dry.nfiles; i++) {
        assert_null(strstr(dry.files[i], "young"));
        assert_null(strstr(dry.files[i], "hidden"));
        assert_null(strstr(dry.files[i], "keep"));
        has_old |= strcmp(dry.files[i], "sub/orphan-old.parquet") == 0;
    }
    assert_true(has_old);
    o.dry_run = 0;
    delta_vacuum_result real;
    assert_int_equal(delta_vacuum(s, "", &o, &real, &e), SL_OK);
    assert_int_equal(real.nfiles, dry.nfiles);
    assert_int_equal(real.bytes, dry.bytes);
    for (size_t i = 0; i < real.nfiles; i++)
        assert_string_equal(real.files[i], dry.files[i]);
    assert_int_equal(real.ndirs, 1); /* sub/ */
    assert_int_equal(real.start_version, 5);
    assert_int_equal(real.end_version, 6);
    struct stat st;
    assert_int_equal(stat(young, &st), 0);
    char *p = sl_asprintf("%s/_hidden/keep.parquet", dir);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    p = sl_asprintf("%s/sub", dir);
    assert_int_not_equal(stat(p, &st), 0);
    free(p);
    /* The two commits, as Delta Lake writes them. */
    json_t *acts = NULL;
    assert_int_equal(delta_commit_read(s, "", 5, &acts, &e), SL_OK);
    assert_int_equal(json_array_size(acts), 1);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                        "VACUUM START");
    /* As Delta Lake: no file actions, nothing read -> a blind append. */
    assert_true(json_is_true(json_object_get(ci, "isBlindAppend")));
    assert_string_equal(json_string_value(json_object_get(ci, "isolationLevel")),
                        "SnapshotIsolation");
    json_t *par = json_object_get(ci, "operationParameters");
    assert_true(json_is_false(json_object_get(par, "retentionCheckEnabled")));
    assert_int_equal(json_integer_value(json_object_get(par, "specifiedRetentionMillis")),
                     7200000);
    assert_int_equal(json_integer_value(json_object_get(par, "defaultRetentionMillis")),
                     DELTA_VACUUM_DEFAULT_RETENTION_MS);
    json_t *met = json_object_get(ci, "operationMetrics");
    assert_string_equal(json_string_value(json_object_get(met, "numFilesToDelete")),
                        "33");
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%lld", (long long)real.bytes);
    assert_string_equal(json_string_value(json_object_get(met, "sizeOfDataToDelete")),
                        bytes);
    json_decref(acts);
    assert_int_equal(delta_commit_read(s, "", 6, &acts, &e), SL_OK);
    assert_int_equal(json_array_size(acts), 1);
    ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                        "VACUUM END");
    assert_true(json_is_true(json_object_get(ci, "isBlindAppend")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ci, "operationParameters"), "status")),
                        "COMPLETED");
    met = json_object_get(ci, "operationMetrics");
    assert_string_equal(json_string_value(json_object_get(met, "numDeletedFiles")), "33");
    assert_string_equal(json_string_value(json_object_get(met, "numVacuumedDirectories")),
                        "1");
    json_decref(acts);
    json_t *j = delta_vacuum_result_json(&real);
    assert_int_equal(json_array_size(json_object_get(j, "files")), 33);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), real.bytes);
    json_decref(j);
    delta_vacuum_result_free(&dry);
    delta_vacuum_result_free(&real);
    store_close(s);
    free(young);
    free(digest);
    free(digest2);
    free(dir);
}

/* A table inside a larger store (table_key set): paths stay table-relative
 * and nothing outside the table is listed or touched. */
static void test_table_key_inside_store(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/simple_table");
    tu_write_file(f->dir, "outside/orphan.parquet", "not ours");
    tu_write_file(f->dir, "copy-simple_table-sibling.parquet", "not ours either");
    files_touch(f->dir, FILES_MS);
    store *s;
    sl_err e = {0};
    assert_int_equal(store_open(f->dir, &s, &e), SL_OK);
    delta_vacuum_opts o = {.retain_ms = 0,
                           .force_short_retention = 1,
                           .now_ms = FAR_NOW_MS,
                           .record_commits = 1};
    delta_vacuum_result vr;
    assert_int_equal(delta_vacuum(s, "copy-simple_table", &o, &vr, &e), SL_OK);
    assert_int_equal(vr.nfiles, 32);
    for (size_t i = 0; i < vr.nfiles; i++)
        assert_true(strncmp(vr.files[i], "part-", 5) == 0);
    assert_int_equal(vr.start_version, 5);
    assert_int_equal(vr.end_version, 6);
    struct stat st;
    char *p = sl_asprintf("%s/outside/orphan.parquet", f->dir);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    p = sl_asprintf("%s/copy-simple_table-sibling.parquet", f->dir);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    p = sl_asprintf("%s/_delta_log/00000000000000000006.json", dir);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    delta_vacuum_result_free(&vr);
    store_close(s);
    free(dir);
}

/* A store whose deletes fail for one key: the local backend's operations
 * with del replaced (the backend interface is a table of functions). */
static store_ops failing_ops;
static const store_ops *real_ops;

static sl_code failing_del(store *s, const char *key, sl_err *err)
{
    if (strstr(key, "part-00045"))
        return err_set(err, SL_IO, "injected delete failure for %s", key);
    return real_ops->del(s, key, err);
}

static void test_delete_failure_closes_with_failed(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/simple_table");
    files_touch(dir, FILES_MS);
    store *s;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &s, &e), SL_OK);
    real_ops = s->ops;
    failing_ops = *s->ops;
    failing_ops.del = failing_del;
    s->ops = &failing_ops;
    delta_vacuum_opts o = {.retain_ms = 0,
                           .force_short_retention = 1,
                           .now_ms = FAR_NOW_MS,
                           .record_commits = 1};
    delta_vacuum_result vr;
    assert_int_equal(delta_vacuum(s, "", &o, &vr, &e), SL_IO);
    assert_non_null(strstr(e.msg, "part-00045"));
    json_t *acts = NULL;
    assert_int_equal(delta_commit_read(s, "", 6, &acts, &e), SL_OK);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                        "VACUUM END");
    assert_true(json_is_true(json_object_get(ci, "isBlindAppend")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ci, "operationParameters"), "status")),
                        "FAILED");
    /* Files sort before part-00045 went; it and the rest stayed. */
    const char *n = json_string_value(
        json_object_get(json_object_get(ci, "operationMetrics"), "numDeletedFiles"));
    assert_true(n && atoi(n) > 0 && atoi(n) < 32);
    json_decref(acts);
    s->ops = real_ops;
    store_close(s);
    free(dir);
}

/* A live path that does not decode could name any file: refused, nothing
 * deleted. */
static void test_undecodable_live_path_refused(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/simple_table");
    tu_write_file(dir, "_delta_log/00000000000000000005.json",
                  "{\"add\":{\"path\":\"bad%zz.parquet\",\"partitionValues\":{},"
                  "\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n");
    files_touch(dir, FILES_MS);
    char *digest = dt_tree_digest(dir);
    store *s;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &s, &e), SL_OK);
    delta_vacuum_opts o = {.retain_ms = 0,
                           .force_short_retention = 1,
                           .now_ms = FAR_NOW_MS,
                           .record_commits = 1};
    delta_vacuum_result vr;
    sl_code c = delta_vacuum(s, "", &o, &vr, &e);
    assert_int_equal(c, SL_DELTA_CORRUPT_LOG);
    assert_non_null(strstr(e.msg, "bad%zz"));
    char *digest2 = dt_tree_digest(dir);
    assert_string_equal(digest, digest2);
    free(digest);
    free(digest2);
    store_close(s);
    free(dir);
}

/* ---- ops and CLI ----------------------------------------------------------- */

static void test_ops_vacuum(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta-rs/simple_table");
    files_touch(dir, FILES_MS);
    session *sess = dt_session(f->dir);
    char *digest = dt_tree_digest(dir);
    json_t *params =
        json_pack("{s:i, s:b}", "retain_hours", 0, "force_short_retention", 1);
    ops_request req = {
        .target = dir, .reason = "free space", .params = params, .confirmed = 1};
    ops_result res;
    sl_err e = {0};
    /* Read-only: refused, audited, nothing touched. */
    sess->ops.read_only = 1;
    assert_int_equal(ops_run(&sess->ops, "vacuum", &req, &res, &e), SL_OPS_READ_ONLY);
    ops_result_clear(&res);
    sess->ops.read_only = 0;
    /* Without confirmation: refused. */
    req.confirmed = 0;
    assert_int_equal(ops_run(&sess->ops, "vacuum", &req, &res, &e), SL_OPS_NOT_CONFIRMED);
    ops_result_clear(&res);
    char *digest2 = dt_tree_digest(dir);
    assert_string_equal(digest, digest2);
    free(digest2);
    /* A dry run needs no confirmation and deletes nothing. */
    req.dry_run = 1;
    assert_int_equal(ops_run(&sess->ops, "vacuum", &req, &res, &e), SL_OK);
    assert_int_equal(json_array_size(json_object_get(res.output, "files")), 32);
    json_int_t dry_bytes = json_integer_value(json_object_get(res.output, "bytes"));
    assert_true(dry_bytes > 0);
    ops_result_clear(&res);
    digest2 = dt_tree_digest(dir);
    assert_string_equal(digest, digest2);
    free(digest2);
    /* Without force a zero retention is refused by the table's retention. */
    req.dry_run = 0;
    req.confirmed = 1;
    json_object_set_new(params, "force_short_retention", json_false());
    assert_int_equal(ops_run(&sess->ops, "vacuum", &req, &res, &e), SL_DELTA_RETENTION);
    ops_result_clear(&res);
    json_object_set_new(params, "force_short_retention", json_true());
    assert_int_equal(ops_run(&sess->ops, "vacuum", &req, &res, &e), SL_OK);
    assert_int_equal(json_array_size(json_object_get(res.output, "files")), 32);
    assert_int_equal(json_integer_value(json_object_get(res.output, "bytes")), dry_bytes);
    int64_t req_id = res.requested_id;
    ops_result_clear(&res);
    /* The audit trail: refused, refused, dry run pair, failed pair, real pair. */
    audit_filter af = {0};
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(sess->audit, &af, &evs, &n, &e), SL_OK);
    size_t vac = 0, refused = 0, forced = 0, succeeded = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i].action, "vacuum") != 0)
            continue;
        vac++;
        refused += strcmp(evs[i].phase, "refused") == 0;
        succeeded += strcmp(evs[i].phase, "succeeded") == 0;
        failed += strcmp(evs[i].phase, "failed") == 0;
        if (strstr(evs[i].params, "\"force_short_retention\": true") ||
            strstr(evs[i].params, "\"force_short_retention\":true"))
            forced++;
        if (strcmp(evs[i].phase, "failed") == 0)
            assert_string_equal(evs[i].error_code, "SL-DELTA-RETENTION");
    }
    assert_int_equal(vac, 8);
    assert_int_equal(refused, 2);
    assert_int_equal(succeeded, 2);
    assert_int_equal(failed, 1);
    assert_int_equal(forced, 6);
    audit_events_free(evs, n);
    /* The Delta commits link back to the audit event. */
    store *s;
    assert_int_equal(store_open(dir, &s, &e), SL_OK);
    json_t *acts = NULL;
    assert_int_equal(delta_commit_read(s, "", 5, &acts, &e), SL_OK);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")),
                        "VACUUM START");
    char idtxt[32];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)req_id);
    assert_non_null(
        strstr(json_string_value(json_object_get(ci, "userMetadata")), idtxt));
    json_decref(acts);
    store_close(s);
    session_close(sess);
    json_decref(params);
    free(digest);
    free(dir);
}

static void test_cli_json_shape(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        skip();
    char *dir = dt_copy_fixture(f->dir, "delta/basic-with-inserts-deletes-checkpoint");
    files_touch(dir, FILES_MS);
    char *base = sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/clistate' '%s' vacuum '%s' "
                             "--retain-hours 0 --force-short-retention --reason cleanup "
                             "--json",
                             f->dir, f->dir, tu_sluice_bin(), dir);
    char *out = NULL;
    char *cmd = sl_asprintf("%s --dry-run", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    json_error_t je;
    json_t *dry = json_loads(out, 0, &je);
    assert_non_null(dry);
    free(out);
    assert_int_equal(json_object_size(dry), 2);
    assert_int_equal(json_array_size(json_object_get(dry, "files")), 7);
    assert_true(json_is_integer(json_object_get(dry, "bytes")));
    /* Not confirmed: refused with a non-zero exit; nothing deleted. */
    assert_int_not_equal(tu_run(base, &out), 0);
    free(out);
    cmd = sl_asprintf("%s --yes", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    json_t *real = json_loads(out, 0, &je);
    assert_non_null(real);
    free(out);
    assert_true(json_equal(dry, real));
    /* Everything is gone now: a second run finds nothing. */
    cmd = sl_asprintf("%s --yes", base);
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    json_t *again = json_loads(out, 0, &je);
    free(out);
    assert_int_equal(json_array_size(json_object_get(again, "files")), 0);
    assert_int_equal(json_integer_value(json_object_get(again, "bytes")), 0);
    json_decref(again);
    json_decref(dry);
    json_decref(real);
    free(base);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval_parse),
        cmocka_unit_test_setup_teardown(test_dv_file_key, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_zero_retention_on_fixtures, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_normal_retention_keeps_recent_tombstones,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_young_orphans_kept_and_dry_run, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_table_key_inside_store, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_delete_failure_closes_with_failed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_live_path_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_vacuum, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cli_json_shape, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
