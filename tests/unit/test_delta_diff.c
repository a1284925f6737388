/* Diff of two versions and preview of a version (backend/delta/diff.h) on a
 * table with known history: appends, a schema evolution with a property, a
 * restore; files added/removed are checked against the two snapshots' file
 * sets computed here independently, so a missed file fails. */
#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_write.h"
#include "backend/delta/diff.h"
#include "backend/util/buf.h"

typedef struct fx {
    char *dir;
    store *s;
} fx;

#define SCHEMA_V3                                                                        \
    "{\"type\":\"struct\",\"fields\":["                                                  \
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"             \
    "{\"name\":\"qty\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"            \
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"         \
    "{\"name\":\"amount\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}}]}"

/* A metaData commit on the latest snapshot: new schema and properties. */
static void commit_metadata(store *s, const char *schema, const char *prop_key,
                            const char *prop_value, const char *operation)
{
    delta_snapshot *snap = dt_snap_latest(s, "");
    json_t *md = json_deep_copy(snap->metadata);
    if (schema)
        json_object_set_new(md, "schemaString", json_string(schema));
    json_t *conf = json_object();
    if (prop_key)
        json_object_set_new(conf, prop_key, json_string(prop_value));
    json_object_set_new(md, "configuration", conf);
    json_t *actions = json_pack("[{so}]", "metaData", md);
    delta_commit_req req = {.meta = {.operation = operation, .operator_name = "tester"},
                            .read_snap = snap,
                            .actions = actions};
    delta_commit_result r;
    sl_err err = {0};
    if (delta_commit(s, "", &req, &r, &err) != SL_OK)
        fail_msg("metaData commit: %s", err.msg);
    json_decref(actions);
    delta_snapshot_free(snap);
}

static void append_rows(store *s, int64_t first, size_t n, int with_amount,
                        const char *odd_name)
{
    size_t ncols = with_amount ? 4 : 3;
    pq_value *rows = calloc(n * ncols, sizeof *rows);
    char names[8][32];
    for (size_t i = 0; i < n; i++) {
        pq_value *r = &rows[i * ncols];
        snprintf(names[i], sizeof names[i], "item-%lld", (long long)(first + (int64_t)i));
        const char *nm = odd_name && i == 0 ? odd_name : names[i];
        r[0] = pq_val_i64(first + (int64_t)i);
        r[1] = with_amount ? pq_val_i64(10 * (first + (int64_t)i))
                           : pq_val_i32((int32_t)(10 * (first + (int64_t)i)));
        r[2] = pq_val_strn(nm, strlen(nm));
        if (with_amount)
            r[3] =
                i == 1 ? pq_val_null() : pq_val_f64(1.5 * (double)(first + (int64_t)i));
    }
    dt_append(s, "", rows, n, ncols);
    free(rows);
}

/* v0 create (id long, qty int, name string); v1 +3 rows; v2 +2 rows (one name
 * with an escape sequence); v3 qty -> long, + amount, property; v4 +2 rows;
 * v5 restore to 2. */
static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("delta-diff");
    f->s = dt_open_store(f->dir);
    const pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, true},
                                  {"qty", PQ_TYPE_INT32, true},
                                  {"name", PQ_TYPE_STRING, true}};
    dt_create_table(f->s, "", cols, 3, NULL);
    append_rows(f->s, 1, 3, 0, NULL);
    append_rows(f->s, 4, 2, 0, "\x1b[31mred\n");
    commit_metadata(f->s, SCHEMA_V3, "sluice.owner", "data-eng", "ADD COLUMNS");
    append_rows(f->s, 6, 2, 1, NULL);
    delta_at at = {.kind = DELTA_AT_VERSION, .version = 2};
    delta_restore_plan *p = NULL;
    sl_err e = {0};
    if (delta_restore_plan_build(f->s, "", &at, 1700000000000, &p, &e) != SL_OK)
        fail_msg("restore plan: %s", e.msg);
    delta_commit_meta m = {.operator_name = "tester"};
    delta_commit_result cr;
    if (delta_restore_commit(f->s, "", p, &m, &cr, &e) != SL_OK)
        fail_msg("restore: %s", e.msg);
    assert_int_equal(cr.version, 5);
    delta_restore_plan_free(p);
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

static delta_snapshot *snap_v(store *s, int64_t v)
{
    delta_at at = {.kind = DELTA_AT_VERSION, .version = v};
    delta_snapshot *snap = NULL;
    sl_err e = {0};
    if (delta_snapshot_open(s, "", &at, &snap, &e) != SL_OK)
        fail_msg("snapshot %lld: %s", (long long)v, e.msg);
    return snap;
}

/* Paths of a not in b, sorted, newline-separated (independent of diff.c). */
static char *only_in(const delta_snapshot *a, const delta_snapshot *b)
{
    dt_strs l = {0};
    for (size_t i = 0; i < a->nfiles; i++) {
        int found = 0;
        for (size_t j = 0; j < b->nfiles && !found; j++)
            found = strcmp(a->files[i].path, b->files[j].path) == 0;
        if (!found)
            dt_strs_push(&l, sl_strdup(a->files[i].path));
    }
    dt_strs_sort(&l);
    sl_buf out = {0};
    buf_append_str(&out, "");
    for (size_t i = 0; i < l.n; i++)
        buf_appendf(&out, "%s\n", l.v[i]);
    dt_strs_clear(&l);
    return buf_steal(&out);
}

/* The diff's paths, sorted (the diff lists them in write order). */
static char *diff_paths(const delta_diff_file *f, size_t n)
{
    dt_strs l = {0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && f[i].modification_time < f[i - 1].modification_time)
            fail_msg("diff files are not in write order at %s", f[i].path);
        dt_strs_push(&l, sl_strdup(f[i].path));
    }
    dt_strs_sort(&l);
    sl_buf out = {0};
    buf_append_str(&out, "");
    for (size_t i = 0; i < l.n; i++)
        buf_appendf(&out, "%s\n", l.v[i]);
    dt_strs_clear(&l);
    return buf_steal(&out);
}

/* The diff's file lists equal the snapshots' set differences. */
static void assert_files_match(store *s, const delta_diff *d)
{
    delta_snapshot *a = snap_v(s, d->from.version), *b = snap_v(s, d->to.version);
    char *want_add = only_in(b, a), *want_rm = only_in(a, b);
    char *got_add = diff_paths(d->added, d->nadded),
         *got_rm = diff_paths(d->removed, d->nremoved);
    assert_string_equal(got_add, want_add);
    assert_string_equal(got_rm, want_rm);
    assert_int_equal(d->from.files, (int64_t)a->nfiles);
    assert_int_equal(d->to.files, (int64_t)b->nfiles);
    assert_int_equal(d->from.rows, a->num_rows);
    assert_int_equal(d->to.rows, b->num_rows);
    assert_int_equal(d->from.bytes, a->size_bytes);
    assert_int_equal(d->to.bytes, b->size_bytes);
    /* The totals move exactly by what was added and removed. */
    assert_int_equal(d->to.bytes - d->from.bytes, d->added_bytes - d->removed_bytes);
    assert_int_equal(d->to.rows - d->from.rows, d->added_rows - d->removed_rows);
    free(want_add);
    free(want_rm);
    free(got_add);
    free(got_rm);
    delta_snapshot_free(a);
    delta_snapshot_free(b);
}

static const delta_diff_col *col_named(const delta_diff *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].name, name) == 0)
            return &d->cols[i];
    return NULL;
}

static void diff_v(fx *f, int64_t v1, int64_t v2, delta_diff *d)
{
    sl_err e = {0};
    if (delta_diff_versions(f->s, "", v1, v2, d, &e) != SL_OK)
        fail_msg("diff %lld %lld: %s", (long long)v1, (long long)v2, e.msg);
}

static void test_appends_and_evolution(void **state)
{
    fx *f = *state;
    delta_diff d;
    diff_v(f, 1, 4, &d);
    assert_int_equal(d.from.version, 1);
    assert_int_equal(d.to.version, 4);
    assert_int_equal(d.nadded, 2); /* the files of v2 and v4 */
    assert_int_equal(d.nremoved, 0);
    assert_int_equal(d.from.rows, 3);
    assert_int_equal(d.to.rows, 7);
    assert_int_equal(d.added_rows, 4);
    assert_files_match(f->s, &d);
    /* qty widened, amount added, nothing else. */
    assert_int_equal(d.ncols, 2);
    const delta_diff_col *c = col_named(&d, "qty");
    assert_non_null(c);
    assert_int_equal(c->change, DELTA_COL_RETYPED);
    assert_string_equal(c->old_type, "integer");
    assert_string_equal(c->new_type, "long");
    c = col_named(&d, "amount");
    assert_non_null(c);
    assert_int_equal(c->change, DELTA_COL_ADDED);
    assert_null(c->old_type);
    assert_string_equal(c->new_type, "double");
    assert_int_equal(d.nprops, 1);
    assert_string_equal(d.props[0].key, "sluice.owner");
    assert_null(d.props[0].old_value);
    assert_string_equal(d.props[0].new_value, "data-eng");
    assert_false(d.partitioning_changed);
    assert_false(d.metadata_id_changed);
    delta_diff_free(&d);
}

static void test_restore_undoes(void **state)
{
    fx *f = *state;
    delta_diff d;
    /* The restore (v4 -> v5): v4's file removed, the schema and the property
     * back as they were. Given newest first, the older is still `from`. */
    diff_v(f, 5, 4, &d);
    assert_int_equal(d.from.version, 4);
    assert_int_equal(d.to.version, 5);
    assert_int_equal(d.nadded, 0);
    assert_int_equal(d.nremoved, 1);
    assert_int_equal(d.removed_rows, 2);
    assert_int_equal(d.from.rows, 7);
    assert_int_equal(d.to.rows, 5);
    assert_files_match(f->s, &d);
    assert_int_equal(d.ncols, 2);
    assert_int_equal(col_named(&d, "amount")->change, DELTA_COL_REMOVED);
    assert_string_equal(col_named(&d, "amount")->old_type, "double");
    assert_int_equal(col_named(&d, "qty")->change, DELTA_COL_RETYPED);
    assert_string_equal(col_named(&d, "qty")->new_type, "integer");
    assert_int_equal(d.nprops, 1);
    assert_string_equal(d.props[0].old_value, "data-eng");
    assert_null(d.props[0].new_value);
    json_t *j = delta_diff_to_json(&d);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "to"), "rows")), 5);
    assert_int_equal(json_array_size(json_object_get(j, "removed")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "columns"), 0), "change")),
                        "retyped");
    json_decref(j);
    delta_diff_free(&d);

    /* v2 and v5 hold the same state: an empty diff. */
    diff_v(f, 2, 5, &d);
    assert_int_equal(d.nadded + d.nremoved + d.ncols + d.nprops, 0);
    assert_int_equal(d.from.rows, d.to.rows);
    assert_files_match(f->s, &d);
    delta_diff_free(&d);

    /* 0 -> 5: every live file added. */
    diff_v(f, 0, 5, &d);
    assert_int_equal(d.nadded, 2);
    assert_files_match(f->s, &d);
    delta_diff_free(&d);
}

static void test_partitioning_and_bad_version(void **state)
{
    fx *f = *state;
    char *dir = sl_asprintf("%s/parted", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    store *s = dt_open_store(dir);
    const pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, true},
                                  {"region", PQ_TYPE_STRING, true}};
    dt_create_table(s, "", cols, 2, "region");
    commit_metadata(s, NULL, NULL, NULL, "SET TBLPROPERTIES");
    delta_snapshot *a = snap_v(s, 0);
    delta_snapshot *b = snap_v(s, 1);
    /* Replace the partitioning in b's metaData (the diff reads no log). */
    json_object_set_new(b->metadata, "partitionColumns", json_array());
    delta_diff d;
    sl_err e = {0};
    assert_int_equal(delta_diff_snapshots(a, b, &d, &e), SL_OK);
    assert_true(d.partitioning_changed);
    assert_string_equal(d.from.partitioning, "region");
    assert_string_equal(d.to.partitioning, "");
    delta_diff_free(&d);
    delta_snapshot_free(a);
    delta_snapshot_free(b);
    store_close(s);
    free(dir);

    assert_int_equal(delta_diff_versions(f->s, "", 1, 42, &d, &e),
                     SL_DELTA_VERSION_NOT_FOUND);
}

static const char *cell(const delta_preview *p, size_t row, const char *col)
{
    for (size_t k = 0; k < p->ncols; k++)
        if (strcmp(p->cols[k].name, col) == 0)
            return p->cells[row * p->ncols + k];
    fail_msg("no column %s", col);
    return NULL;
}

static void test_preview_time_travel(void **state)
{
    fx *f = *state;
    delta_preview p;
    sl_err e = {0};
    /* Version 1: the first append only. */
    assert_int_equal(delta_preview_read(f->s, "", 1, 200, &p, &e), SL_OK);
    assert_int_equal(p.version, 1);
    assert_int_equal(p.ncols, 3);
    assert_int_equal(p.nrows, 3);
    assert_false(p.more);
    assert_string_equal(cell(&p, 0, "id"), "1");
    assert_string_equal(cell(&p, 2, "name"), "item-3");
    delta_preview_free(&p);

    /* Version 4: four columns, the null amount is NULL, the control
     * characters are kept as stored (the console escapes them). */
    assert_int_equal(delta_preview_read(f->s, "", 4, 200, &p, &e), SL_OK);
    assert_int_equal(p.ncols, 4);
    assert_int_equal(p.nrows, 7);
    assert_string_equal(p.cols[3].type, "double");
    int saw_null = 0, saw_esc = 0, saw_old_null_amount = 0;
    for (size_t r = 0; r < p.nrows; r++) {
        const char *id = cell(&p, r, "id");
        const char *amount = cell(&p, r, "amount");
        if (strcmp(id, "7") == 0)
            saw_null = amount == NULL;
        if (strcmp(id, "6") == 0)
            assert_string_equal(amount, "9");
        if (strcmp(id, "2") == 0)
            saw_old_null_amount = amount == NULL; /* file written before the column */
        if (cell(&p, r, "name") && strcmp(cell(&p, r, "name"), "\x1b[31mred\n") == 0)
            saw_esc = 1;
    }
    assert_true(saw_null);
    assert_true(saw_esc);
    assert_true(saw_old_null_amount);
    delta_preview_free(&p);

    /* Latest (the restore to 2): five rows, three columns. */
    assert_int_equal(delta_preview_read(f->s, "", -1, 200, &p, &e), SL_OK);
    assert_int_equal(p.version, 5);
    assert_int_equal(p.ncols, 3);
    assert_int_equal(p.nrows, 5);
    assert_int_equal(p.table_rows, 5);
    delta_preview_free(&p);

    /* The limit stops the read and says more rows exist. */
    assert_int_equal(delta_preview_read(f->s, "", 4, 2, &p, &e), SL_OK);
    assert_int_equal(p.nrows, 2);
    assert_true(p.more);
    assert_true(p.files_read < p.files_total);
    delta_preview_free(&p);

    assert_int_equal(delta_preview_read(f->s, "", 9, 10, &p, &e),
                     SL_DELTA_VERSION_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_and_evolution),
        cmocka_unit_test(test_restore_undoes),
        cmocka_unit_test(test_partitioning_and_bad_version),
        cmocka_unit_test(test_preview_time_travel),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
