#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/buf.h"

/* ---- string lists --------------------------------------------------------- */

void dt_strs_push(dt_strs *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = s;
}

int dt_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dt_strs_sort(dt_strs *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, dt_cmp_str);
}

int dt_strs_has(const dt_strs *l, const char *s)
{
    return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, dt_cmp_str) != NULL;
}

void dt_strs_clear(dt_strs *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- directories and fixtures -------------------------------------------- */

char *dt_tree_digest(const char *dir)
{
    /* -r: an empty tree hashes nothing rather than stdin. */
    char *cmd =
        sl_asprintf("cd '%s' && find . -print | LC_ALL=C sort && "
                    "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum",
                    dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    return out;
}

char *dt_copy_fixture(const char *parent, const char *rel)
{
    const char *fixtures = tu_fixtures_dir();
    if (!fixtures)
        return NULL;
    const char *slash = strrchr(rel, '/');
    char *dst = sl_asprintf("%s/copy-%s", parent, slash ? slash + 1 : rel);
    /* The fixtures are read-only; the copy must take writes by any user. */
    char *cmd =
        sl_asprintf("rm -rf '%s' && cp -a '%s/delta/%s' '%s' && chmod -R u+w '%s'", dst,
                    fixtures, rel, dst, dst);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    return dst;
}

/* ---- stores, snapshots, small tables ------------------------------------- */

store *dt_open_store(const char *dir)
{
    store *s = NULL;
    sl_err err = {0};
    if (store_open(dir, &s, &err) != SL_OK)
        fail_msg("store_open %s: %s", dir, err.msg);
    return s;
}

delta_snapshot *dt_snap_latest(store *s, const char *key)
{
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    if (delta_snapshot_open(s, key, &at, &snap, &err) != SL_OK)
        fail_msg("snapshot of '%s': %s", key, err.msg);
    return snap;
}

void dt_create_table(store *s, const char *key, const pq_schema_col *cols, size_t ncols,
                     const char *part)
{
    const char *parts[] = {part};
    delta_table_spec spec = {.cols = cols,
                             .ncols = ncols,
                             .partition_cols = part ? parts : NULL,
                             .npartition_cols = part ? 1 : 0};
    delta_commit_result r;
    sl_err err = {0};
    if (delta_table_create(s, key, &spec, NULL, &r, &err) != SL_OK)
        fail_msg("create '%s': %s", key, err.msg);
}

int64_t dt_append(store *s, const char *key, const pq_value *rows, size_t nrows,
                  size_t ncols)
{
    delta_append_req req = {.rows = rows, .nrows = nrows, .ncols = ncols};
    delta_append_result ar;
    sl_err err = {0};
    if (delta_table_append(s, key, &req, NULL, &ar, &err) != SL_OK)
        fail_msg("append to '%s': %s", key, err.msg);
    return ar.version;
}

/* ---- rows read back ------------------------------------------------------- */

/* The rows of one data file, through the store and our Parquet reader. */
static json_t *file_rows(store *s, const char *table_key, const delta_file *df)
{
    char *key = delta_data_file_key(s, table_key, df->path);
    assert_non_null(key);
    pq_source src;
    pq_reader *r = NULL;
    pq_rows *it = NULL;
    sl_err err = {0};
    if (pq_source_store(s, key, &src, &err) != SL_OK ||
        pq_reader_open(&src, &r, &err) != SL_OK ||
        pq_rows_open(r, NULL, 0, &it, &err) != SL_OK)
        fail_msg("read %s: %s", key, err.msg);
    json_t *rows = json_array();
    json_t *row;
    sl_code c;
    while ((c = pq_rows_next(it, &row, &err)) == SL_OK && row)
        json_array_append_new(rows, row);
    if (c != SL_OK)
        fail_msg("rows of %s: %s", key, err.msg);
    pq_rows_free(it);
    pq_reader_close(r);
    free(key);
    return rows;
}

dt_strs dt_table_rows(store *s, const char *key, dt_file_check check, void *ctx)
{
    delta_snapshot *snap = dt_snap_latest(s, key);
    dt_strs out = {0};
    for (size_t i = 0; i < snap->nfiles; i++) {
        json_t *add = delta_file_add(&snap->files[i]);
        assert_non_null(add);
        char *pv = json_dumps(json_object_get(add, "partitionValues"),
                              JSON_SORT_KEYS | JSON_COMPACT);
        json_t *rows = file_rows(s, key, &snap->files[i]);
        json_t *stats =
            json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
        if (stats)
            assert_int_equal(json_integer_value(json_object_get(stats, "numRecords")),
                             json_array_size(rows));
        json_decref(stats);
        if (check)
            check(add, rows, ctx);
        size_t j;
        json_t *row;
        json_array_foreach(rows, j, row)
        {
            char *t = json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT);
            dt_strs_push(&out, sl_asprintf("%s|%s", t, pv));
            free(t);
        }
        json_decref(rows);
        free(pv);
        json_decref(add);
    }
    delta_snapshot_free(snap);
    dt_strs_sort(&out);
    return out;
}

void dt_assert_rows_equal(const dt_strs *got, const dt_strs *want)
{
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < got->n; i++)
        assert_string_equal(got->v[i], want->v[i]);
}

/* ---- the ops layer -------------------------------------------------------- */

session *dt_session(const char *dir)
{
    char *sd = sl_asprintf("%s/state", dir);
    setenv("SLUICE_STATE_DIR", sd, 1);
    free(sd);
    tu_write_file(dir, "sluice.json", "{\"environment\":\"test\"}");
    char *cfg = sl_asprintf("%s/sluice.json", dir);
    session_opts o = {.config_path = cfg, .operator_name = "alice", .channel = "cli"};
    session *sess = NULL;
    sl_err e = {0};
    if (session_open(&o, &sess, &e) != SL_OK)
        fail_msg("session_open: %s", e.msg);
    free(cfg);
    return sess;
}
