/* End to end: a partitioned table of several types (nulls, negative dates and
 * times, 128-bit decimals, escaped partition values, a null partition) is
 * created, appended to 25 times (checkpoints at versions 10 and 20),
 * OPTIMIZEd, RESTOREd to the version after append 18 and VACUUMed with zero
 * retention, all through the real APIs. The rows of appends 1..18 must then
 * read back (a) through our own snapshot and Parquet reader, (b) through an
 * independent replay (tests/npm-interop/delta_replay.mjs: DuckDB reading our
 * checkpoint Parquet plus our JSON commits, cross-checked against a
 * JSON-only replay, then DuckDB reading the live data files) and (c) through
 * arrow-rs (parquet-wasm) reading the same files; the replay's live-file set
 * must be our snapshot's. The npm packages are installed by the test into
 * <build>/npm-roundtrip (FAIL if that fails; SKIP only without node). */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/delta/delta_write.h"
#include "backend/parquet/pq_reader.h"
#include "backend/parquet/pq_writer.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define NAPPENDS 25
#define RESTORE_TO 18              /* the version right after append 18 */
#define NOW_MS 1700000000000LL     /* deletionTimestamp of OPTIMIZE and RESTORE */
#define FAR_NOW_MS 4102444800000LL /* 2100-01-01: every file and tombstone expired */

/* ------------------------------------------------------------------ */
/* The table                                                           */

typedef enum kind { K_LONG, K_STR, K_DBL, K_DATE, K_TS, K_BOOL, K_DEC } kind;

enum { C_ID, C_REGION, C_NAME, C_AMOUNT, C_DAY, C_TS, C_FLAG, C_PRICE, C_BIG, NCOLS };

static const pq_schema_col COLS[NCOLS] = {
    {"id", PQ_TYPE_INT64, false},
    {"region", PQ_TYPE_STRING, true}, /* the partition column */
    {"name", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},
    {"day", PQ_TYPE_DATE, true},
    {"ts", PQ_TYPE_TIMESTAMP_US, true},
    {"flag", PQ_TYPE_BOOLEAN, true},
    {"price", PQ_TYPE_DECIMAL_OF(10, 2), true},
    {"big", PQ_TYPE_DECIMAL_OF(25, 4), true},
};
static const kind KINDS[NCOLS] = {K_LONG, K_STR,  K_STR, K_DBL, K_DATE,
                                  K_TS,   K_BOOL, K_DEC, K_DEC};

/* Directory names need Hive escaping ('=', '/', '%') and add.path URI
 * escaping (space, the escapes' '%'); NULL is __HIVE_DEFAULT_PARTITION__. */
static const char *const REGIONS[] = {"eu", "us east", NULL, "a=b/c%", "z\xc3\xbcrich"};
#define NREGIONS 5

/* Rows of append k (1-based): 3..13, never the same count twice in a row. */
static size_t append_rows(int k)
{
    return 3 + (size_t)(k * 7) % 11;
}

/* Two partitions per append except every third, which writes one. */
static const char *row_region(int k, size_t i, size_t n)
{
    if (k % 3 == 0 || i < n / 2)
        return REGIONS[k % NREGIONS];
    return REGIONS[(k + 2) % NREGIONS];
}

static pq_int128 neg128(pq_int128 v)
{
    pq_int128 r = {~v.lo + 1, ~v.hi};
    if (r.lo == 0)
        r.hi++;
    return r;
}

/* Row g of the table (g counts rows over all appends, so ids are unique).
 * name is the row's string storage (at least 64 bytes). */
static void make_row(int64_t g, const char *region, pq_value *v, char *name)
{
    v[C_ID] = pq_val_i64(g % 10 == 0 ? (1LL << 53) + 1 + g : g); /* beyond a double */
    v[C_REGION] = pq_val_str(region);
    if (g % 7 == 3)
        v[C_NAME] = pq_val_null();
    else if (g % 11 == 5)
        v[C_NAME] = pq_val_str("");
    else {
        if (g % 13 == 2)
            snprintf(name, 64, "na\xc3\xafve \"%" PRId64 "\" \xe6\x97\xa5\\", g);
        else
            snprintf(name, 64, "n%" PRId64, g);
        v[C_NAME] = pq_val_str(name);
    }
    v[C_AMOUNT] =
        g % 6 == 4 ? pq_val_null() : pq_val_f64((double)g * 1.5 - 40.125 + (g % 3) * 0.1);
    v[C_DAY] = g % 9 == 8    ? pq_val_null()
               : g % 17 == 1 ? pq_val_date(-365 - (int32_t)g)
                             : pq_val_date(19000 + 3 * (int32_t)g);
    v[C_TS] = g % 5 == 2    ? pq_val_null()
              : g % 19 == 7 ? pq_val_ts_us(-86400000000LL - g * 1000001LL)
                            : pq_val_ts_us(1700000000000000LL + g * 1234567891LL);
    v[C_FLAG] = g % 4 == 3 ? pq_val_null() : pq_val_bool(g % 2);
    v[C_PRICE] = g % 8 == 6 ? pq_val_null() : pq_val_dec(g * 137 - 5000);
    if (g % 10 == 9) {
        v[C_BIG] = pq_val_null();
    } else {
        pq_int128 d = {(uint64_t)g * 12345u, g}; /* g * 2^64 + g * 12345: 128-bit */
        v[C_BIG] = (pq_value){.dec = g % 3 == 1 ? neg128(d) : d};
    }
}

/* ------------------------------------------------------------------ */
/* Canonical rows: a JSON array in schema order; longs, timestamps        */
/* (microseconds), doubles (%.17g) and decimals ("-12.30") as strings,   */
/* dates "YYYY-MM-DD", booleans, strings, null. Compared as text.        */

typedef struct rowset {
    char **v;
    size_t n;
} rowset;

static void rs_add_json(rowset *rs, json_t *row)
{
    rs->v = realloc(rs->v, (rs->n + 1) * sizeof *rs->v);
    rs->v[rs->n++] = json_dumps(row, JSON_COMPACT);
    json_decref(row);
}

static void rs_free(rowset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i]);
    free(rs->v);
    *rs = (rowset){0};
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Multiset equality; names the first row that differs. */
static void assert_rowsets_equal(rowset *got, rowset *want, const char *who)
{
    if (got->n)
        qsort(got->v, got->n, sizeof *got->v, cmp_str);
    if (want->n)
        qsort(want->v, want->n, sizeof *want->v, cmp_str);
    for (size_t i = 0; i < got->n && i < want->n; i++)
        if (strcmp(got->v[i], want->v[i]) != 0)
            fail_msg("%s: sorted row %zu is\n  %s\nwant\n  %s", who, i, got->v[i],
                     want->v[i]);
    if (got->n != want->n)
        fail_msg("%s: %zu rows, want %zu", who, got->n, want->n);
}

static json_t *jstr_i64(int64_t x)
{
    char b[32];
    snprintf(b, sizeof b, "%" PRId64, x);
    return json_string(b);
}

static json_t *jstr_dbl(double x)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", x);
    return json_string(b);
}

/* Days since 1970-01-01 to "YYYY-MM-DD" (proleptic Gregorian), computed here
 * rather than by the code under test. */
static json_t *jstr_date(int32_t days)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    char b[80];
    snprintf(b, sizeof b, "%04" PRId64 "-%02" PRId64 "-%02" PRId64, y, m, d);
    return json_string(b);
}

static json_t *canon_value(int c, const pq_value *v)
{
    if (v->is_null)
        return json_null();
    char b[64];
    switch (KINDS[c]) {
    case K_LONG:
    case K_TS:
        return jstr_i64(v->i64);
    case K_STR:
        return json_stringn(v->str.ptr, v->str.len);
    case K_DBL:
        return jstr_dbl(v->f64);
    case K_DATE:
        return jstr_date(v->i32);
    case K_BOOL:
        return json_boolean(v->b);
    case K_DEC:
        pq_decimal_format(v->dec, pq_type_scale(COLS[c].type), b, sizeof b);
        return json_string(b);
    }
    return NULL;
}

static json_t *canon_expected(const pq_value *row)
{
    json_t *a = json_array();
    for (int c = 0; c < NCOLS; c++)
        json_array_append_new(a, canon_value(c, &row[c]));
    return a;
}

/* A row of delta_replay.mjs: already canonical except doubles (JSON numbers,
 * printed here so both sides go through one formatter). */
static json_t *canon_js(const json_t *row, const char *who)
{
    if (json_array_size(row) != NCOLS)
        fail_msg("%s: a row has %zu cells, want %d", who, json_array_size(row), NCOLS);
    json_t *a = json_array();
    for (int c = 0; c < NCOLS; c++) {
        json_t *x = json_array_get(row, (size_t)c);
        if (KINDS[c] == K_DBL && json_is_number(x))
            json_array_append_new(a, jstr_dbl(json_number_value(x)));
        else
            json_array_append_new(a, json_deep_copy(x));
    }
    return a;
}

/* A row of our reader (pq_rows JSON forms) plus the file's partition value. */
static json_t *canon_ours(const json_t *row, const json_t *part_values)
{
    json_t *a = json_array();
    for (int c = 0; c < NCOLS; c++) {
        json_t *x = c == C_REGION ? json_object_get(part_values, COLS[c].name)
                                  : json_object_get(row, COLS[c].name);
        if (!x)
            fail_msg("our reader: no column %s", COLS[c].name);
        if (json_is_null(x)) {
            json_array_append_new(a, json_null());
            continue;
        }
        int64_t us;
        const char *s = json_string_value(x);
        switch (KINDS[c]) {
        case K_LONG:
            assert_true(json_is_integer(x));
            json_array_append_new(a, jstr_i64(json_integer_value(x)));
            break;
        case K_DBL:
            assert_true(json_is_number(x));
            json_array_append_new(a, jstr_dbl(json_number_value(x)));
            break;
        case K_TS:
            if (!s || time_parse_iso_us(s, strlen(s), &us) != 0 ||
                s[strlen(s) - 1] != 'Z')
                fail_msg("our reader: ts reads as %s", s ? s : "a non-string");
            json_array_append_new(a, jstr_i64(us));
            break;
        default:
            json_array_append_new(a, json_deep_copy(x));
        }
    }
    return a;
}

/* ------------------------------------------------------------------ */
/* Building the table                                                  */

typedef struct fx {
    char *dir;
    store *s;
    rowset appended[NAPPENDS + 1]; /* canonical rows of each append, 1-based */
    size_t files_of[NAPPENDS + 1]; /* data files each append wrote */
    int64_t next_row;
} fx;

static void create_table(fx *f)
{
    const char *parts[] = {"region"};
    delta_table_spec spec = {.cols = COLS,
                             .ncols = NCOLS,
                             .partition_cols = parts,
                             .npartition_cols = 1,
                             .name = "roundtrip"};
    delta_commit_result r;
    sl_err err = {0};
    if (delta_table_create(f->s, "", &spec, NULL, &r, &err) != SL_OK)
        fail_msg("create: %s", err.msg);
    assert_int_equal(r.version, 0);
}

static void append(fx *f, int k)
{
    size_t n = append_rows(k);
    pq_value *rows = calloc(n * NCOLS, sizeof *rows);
    char(*names)[64] = calloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        make_row(f->next_row++, row_region(k, i, n), &rows[i * NCOLS], names[i]);
        rs_add_json(&f->appended[k], canon_expected(&rows[i * NCOLS]));
    }
    delta_append_req req = {.rows = rows, .nrows = n, .ncols = NCOLS};
    delta_append_result ar;
    sl_err err = {0};
    if (delta_table_append(f->s, "", &req, NULL, &ar, &err) != SL_OK)
        fail_msg("append %d: %s", k, err.msg);
    assert_int_equal(ar.version, k);
    assert_int_equal(ar.nrows, (int64_t)n);
    assert_int_equal(ar.nfiles, k % 3 == 0 ? 1 : 2);
    f->files_of[k] = ar.nfiles;
    free(rows);
    free(names);
}

/* The rows of appends 1..k. */
static rowset rows_upto(const fx *f, int k)
{
    rowset rs = {0};
    for (int j = 1; j <= k; j++)
        for (size_t i = 0; i < f->appended[j].n; i++) {
            rs.v = realloc(rs.v, (rs.n + 1) * sizeof *rs.v);
            rs.v[rs.n++] = sl_strdup(f->appended[j].v[i]);
        }
    return rs;
}

static delta_snapshot *snap_latest(fx *f)
{
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_err err = {0};
    if (delta_snapshot_open(f->s, "", &at, &snap, &err) != SL_OK)
        fail_msg("snapshot: %s", err.msg);
    return snap;
}

/* Reader (a): our snapshot's live files through our Parquet reader. */
static rowset read_ours(fx *f, const delta_snapshot *snap)
{
    rowset rs = {0};
    for (size_t i = 0; i < snap->nfiles; i++) {
        json_t *add = delta_file_add(&snap->files[i]);
        assert_non_null(add);
        char *key = delta_data_file_key(f->s, "", snap->files[i].path);
        char *path = sl_asprintf("%s/%s", f->dir, key);
        pq_reader *r = NULL;
        pq_rows *rows = NULL;
        sl_err err = {0};
        if (pq_reader_open_file(path, &r, &err) != SL_OK ||
            pq_rows_open(r, NULL, 0, &rows, &err) != SL_OK)
            fail_msg("our reader: %s: %s", path, err.msg);
        json_t *row = NULL;
        while (pq_rows_next(rows, &row, &err) == SL_OK && row) {
            rs_add_json(&rs, canon_ours(row, json_object_get(add, "partitionValues")));
            json_decref(row);
        }
        assert_int_equal(err.code, SL_OK);
        pq_rows_free(rows);
        pq_reader_close(r);
        free(path);
        free(key);
        json_decref(add);
    }
    return rs;
}

static void assert_ours_reads(fx *f, int upto, const char *when)
{
    delta_snapshot *snap = snap_latest(f);
    rowset got = read_ours(f, snap);
    rowset want = rows_upto(f, upto);
    assert_rowsets_equal(&got, &want, when);
    assert_int_equal(snap->num_rows, (int64_t)want.n);
    rs_free(&got);
    rs_free(&want);
    delta_snapshot_free(snap);
}

static int log_file_exists(const fx *f, const char *name)
{
    char *p = sl_asprintf("%s/_delta_log/%s", f->dir, name);
    struct stat st;
    int ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static int64_t last_checkpoint_version(const fx *f)
{
    char *p = sl_asprintf("%s/_delta_log/_last_checkpoint", f->dir);
    json_t *j = json_load_file(p, 0, NULL);
    free(p);
    if (!j)
        fail_msg("_last_checkpoint is missing or not JSON");
    int64_t v = json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    return v;
}

static void assert_checkpoints_10_20(const fx *f)
{
    assert_true(log_file_exists(f, "00000000000000000010.checkpoint.parquet"));
    assert_true(log_file_exists(f, "00000000000000000020.checkpoint.parquet"));
    assert_false(log_file_exists(f, "00000000000000000030.checkpoint.parquet"));
    assert_int_equal(last_checkpoint_version(f), 20);
}

static void optimize(fx *f, size_t *added_files)
{
    delta_snapshot *snap = snap_latest(f);
    size_t before = snap->nfiles;
    delta_optimize_opts o = {.now_ms = NOW_MS};
    delta_commit_meta m = {.operator_name = "tester"};
    delta_optimize_result res;
    sl_err err = {0};
    if (delta_optimize_run(f->s, "", snap, &o, &m, &res, &err) != SL_OK)
        fail_msg("optimize: %s", err.msg);
    assert_true(res.committed);
    assert_int_equal(res.version, NAPPENDS + 1);
    assert_int_equal(res.removed_files, before);
    assert_int_equal(res.added_files, NREGIONS); /* one file per partition */
    assert_int_equal(res.rows, snap->num_rows);
    *added_files = res.added_files;
    delta_snapshot_free(snap);
}

static void restore(fx *f)
{
    delta_at at = {.kind = DELTA_AT_VERSION, .version = RESTORE_TO};
    delta_restore_plan *p = NULL;
    sl_err err = {0};
    if (delta_restore_plan_build(f->s, "", &at, NOW_MS, &p, &err) != SL_OK)
        fail_msg("restore plan: %s", err.msg);
    assert_int_equal(p->nmissing, 0);
    assert_int_equal(p->nremove, NREGIONS); /* the OPTIMIZE output */
    delta_commit_meta m = {.operator_name = "tester"};
    delta_commit_result cr;
    if (delta_restore_commit(f->s, "", p, &m, &cr, &err) != SL_OK)
        fail_msg("restore: %s", err.msg);
    assert_int_equal(cr.version, NAPPENDS + 2);
    delta_restore_plan_free(p);
}

/* Zero retention, forced, at a "now" past every file's mtime and every
 * tombstone: exactly the files no live version references go. */
static void vacuum(fx *f, size_t optimize_files)
{
    delta_vacuum_opts o = {.retain_ms = 0,
                           .force_short_retention = 1,
                           .now_ms = FAR_NOW_MS,
                           .record_commits = -1};
    delta_vacuum_result vr;
    sl_err err = {0};
    if (delta_vacuum(f->s, "", &o, &vr, &err) != SL_OK)
        fail_msg("vacuum: %s", err.msg);
    size_t dead = optimize_files;
    for (int k = RESTORE_TO + 1; k <= NAPPENDS; k++)
        dead += f->files_of[k];
    assert_int_equal(vr.nfiles, dead);
    assert_int_equal(vr.start_version, NAPPENDS + 3);
    assert_int_equal(vr.end_version, NAPPENDS + 4);
    delta_vacuum_result_free(&vr);
}

/* ------------------------------------------------------------------ */
/* The independent readers                                             */

static json_t *run_replay(const char *dir)
{
    char *script = tu_npm_script("npm-roundtrip", "delta_replay.mjs");
    char *cmd = sl_asprintf("node '%s' '%s'", script, dir);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    if (rc != 0)
        fail_msg("delta_replay.mjs failed (exit %d)", rc);
    json_error_t je;
    json_t *res = json_loads(out, 0, &je);
    if (!res)
        fail_msg("delta_replay.mjs printed no JSON: %s", je.text);
    free(out);
    free(cmd);
    free(script);
    return res;
}

static void assert_js_rows(const json_t *rows, rowset *want, const char *who)
{
    if (!json_is_array(rows))
        fail_msg("%s: no rows", who);
    rowset got = {0};
    for (size_t i = 0; i < json_array_size(rows); i++)
        rs_add_json(&got, canon_js(json_array_get(rows, i), who));
    assert_rowsets_equal(&got, want, who);
    rs_free(&got);
}

static void check_independent(fx *f)
{
    json_t *res = run_replay(f->dir);
    /* The replay started from our checkpoint 20, not from the JSON alone. */
    assert_int_equal(json_integer_value(json_object_get(res, "latest_version")),
                     NAPPENDS + 4);
    assert_int_equal(json_integer_value(json_object_get(res, "checkpoint_version")), 20);
    assert_int_equal(json_integer_value(json_object_get(res, "json_commits_replayed")),
                     NAPPENDS + 4 - 20);
    json_t *cols = json_object_get(res, "columns");
    assert_int_equal(json_array_size(cols), NCOLS);
    for (int c = 0; c < NCOLS; c++)
        assert_string_equal(json_string_value(json_array_get(cols, (size_t)c)),
                            COLS[c].name);

    delta_snapshot *snap = snap_latest(f);
    assert_int_equal(snap->checkpoint_version, 20);
    json_t *live = json_object_get(res, "live_files");
    assert_int_equal(json_array_size(live), snap->nfiles);
    for (size_t i = 0; i < snap->nfiles; i++) /* both sorted by path */
        assert_string_equal(json_string_value(json_array_get(live, i)),
                            snap->files[i].path);
    delta_snapshot_free(snap);

    rowset want = rows_upto(f, RESTORE_TO);
    assert_js_rows(json_object_get(res, "duckdb"), &want, "DuckDB");
    assert_js_rows(json_object_get(res, "arrow"), &want, "arrow-rs");
    rs_free(&want);
    json_decref(res);
}

/* ------------------------------------------------------------------ */

static void test_roundtrip(void **state)
{
    (void)state;
    fx f = {.dir = tu_mkdtemp("delta-roundtrip")};
    sl_err err = {0};
    assert_int_equal(store_open(f.dir, &f.s, &err), SL_OK);

    create_table(&f);
    for (int k = 1; k <= NAPPENDS; k++)
        append(&f, k);
    assert_checkpoints_10_20(&f);
    assert_ours_reads(&f, NAPPENDS, "ours after the appends");

    size_t optimize_files = 0;
    optimize(&f, &optimize_files);
    assert_ours_reads(&f, NAPPENDS, "ours after OPTIMIZE");
    restore(&f);
    assert_ours_reads(&f, RESTORE_TO, "ours after RESTORE");
    vacuum(&f, optimize_files);
    assert_ours_reads(&f, RESTORE_TO, "ours after VACUUM");
    assert_checkpoints_10_20(&f);

    if (!tu_have_node())
        printf("SKIP: node is not installed; the DuckDB replay and arrow-rs reads are "
               "skipped\n");
    else
        check_independent(&f);

    for (int k = 0; k <= NAPPENDS; k++)
        rs_free(&f.appended[k]);
    store_close(f.s);
    tu_rmtree(f.dir);
    free(f.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
