/* The files layout end to end: 200 customer files loaded, then 20 of them
 * overwritten (shorter, longer, one emptied) and one deleted: silver holds
 * exactly the latest content of every file, and the second batch's silver
 * commit touched only the data files of the customers that changed. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/runner.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

enum { CUSTOMERS = 200 };

typedef struct world {
    char *dir, *lake, *config;
    int rows[CUSTOMERS]; /* current rows per customer file; -1: deleted */
    int version[CUSTOMERS];
} world;

static void write_customer(world *w, int c, int rows, int version)
{
    sl_buf b = {0};
    for (int i = 0; i < rows; i++)
        buf_appendf(&b, "{\"customer_id\": \"c%d\", \"item\": \"i%d\", \"qty\": %d}\n", c,
                    i, version * 100 + i);
    char *rel = sl_asprintf("incoming/id-%d.txt", c);
    tu_write_file(w->dir, rel, b.data ? b.data : "");
    free(rel);
    buf_free(&b);
    w->rows[c] = rows;
    w->version[c] = version;
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    w->dir = tu_mkdtemp("pipe-files");
    w->lake = paths_join(w->dir, "lake");
    w->config = paths_join(w->dir, "sluice.json");
    tu_write_file(w->dir, "lake/.keep", "");
    tu_write_file(w->dir, "sluice.json",
                  "{\"source\": \"incoming\", \"lake\": \"lake\", \"pipelines\": "
                  "[\"pipelines/customers.json\"]}\n");
    tu_write_file(
        w->dir, "pipelines/customers.json",
        "{\"name\": \"customers\",\n"
        " \"source\": {\"url\": \"incoming\", \"layout\": \"files\", \"format\": "
        "\"jsonl\",\n"
        "            \"key_from_name\": \"id-(\\\\d+)\\\\.txt\"},\n"
        " \"lake\": \"lake\",\n"
        " \"bronze\": {\"table\": \"items_raw\", \"schema\": {\"customer_id\": "
        "\"string\", "
        "\"item\": \"string\", \"qty\": \"long\"}},\n"
        " \"silver\": {\"table\": \"items\", \"keys\": [\"customer_id\", \"item\"]},\n"
        " \"retries\": {\"max_attempts\": 2, \"backoff_seconds\": 0}}\n");
    for (int c = 0; c < CUSTOMERS; c++)
        write_customer(w, c, 1 + (c * 7) % 30, 1);
}

static void world_free(world *w)
{
    tu_rmtree(w->dir);
    free(w->dir);
    free(w->lake);
    free(w->config);
}

static void no_sleep(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
}

static void run(world *w)
{
    config *cfg = NULL;
    sl_err err = {0};
    assert_int_equal(config_load(w->config, &cfg, &err), SL_OK);
    pipeline_def *d = NULL;
    if (config_pipeline_load(cfg, "customers", &d, &err) != SL_OK)
        fail_msg("%s", err.msg);
    runner_opts o = {.operator_name = "t", .sleep_ms = no_sleep};
    runner_result r;
    sl_code c = runner_run(d, &o, &r, &err);
    if (c != SL_OK)
        fail_msg("run: %s %s", err_code_name(c), err.msg);
    assert_int_equal(r.processed, 1);
    runner_result_clear(&r);
    pipeline_def_free(d);
    config_free(cfg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *expected(const world *w)
{
    size_t n = 0;
    for (int c = 0; c < CUSTOMERS; c++)
        n += w->rows[c] > 0 ? (size_t)w->rows[c] : 0;
    char **v = calloc(n + 1, sizeof *v);
    size_t k = 0;
    for (int c = 0; c < CUSTOMERS; c++)
        for (int i = 0; i < w->rows[c]; i++)
            v[k++] =
                sl_asprintf("c%d|i%d|%d|id-%d.txt", c, i, w->version[c] * 100 + i, c);
    qsort(v, k, sizeof *v, cmp_str);
    sl_buf b = {0};
    for (size_t i = 0; i < k; i++) {
        buf_appendf(&b, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return b.data ? buf_steal(&b) : sl_strdup("");
}

static store *silver_open(world *w, delta_snapshot **snap, int64_t version)
{
    char *dir = paths_join(w->lake, "items");
    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    free(dir);
    delta_at at = {.kind = version < 0 ? DELTA_AT_LATEST : DELTA_AT_VERSION,
                   .version = version};
    assert_int_equal(delta_snapshot_open(s, "", &at, snap, &err), SL_OK);
    return s;
}

static char *actual(world *w)
{
    delta_snapshot *snap;
    store *s = silver_open(w, &snap, -1);
    static const pq_schema_col cols[] = {{"customer_id", PQ_TYPE_STRING, true},
                                         {"item", PQ_TYPE_STRING, true},
                                         {"qty", PQ_TYPE_INT64, true},
                                         {"_source_file", PQ_TYPE_STRING, true}};
    delta_rows r;
    delta_rows_init(&r, cols, 4);
    sl_err err = {0};
    for (size_t i = 0; i < snap->nfiles; i++)
        assert_int_equal(delta_rows_read_file(s, "", &snap->files[i], cols, 4, &r, &err),
                         SL_OK);
    char **v = calloc(r.nrows + 1, sizeof *v);
    for (size_t i = 0; i < r.nrows; i++) {
        const pq_value *c = &r.cells[i * 4];
        v[i] = sl_asprintf("%.*s|%.*s|%lld|%.*s", (int)c[0].str.len, c[0].str.ptr,
                           (int)c[1].str.len, c[1].str.ptr, (long long)c[2].i64,
                           (int)c[3].str.len, c[3].str.ptr);
    }
    size_t n = r.nrows;
    qsort(v, n, sizeof *v, cmp_str);
    sl_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        buf_appendf(&b, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    delta_rows_free(&r);
    delta_snapshot_free(snap);
    store_close(s);
    return b.data ? buf_steal(&b) : sl_strdup("");
}

/* The customer (source file) a silver data file holds, from its stats. */
static char *file_customer(const delta_file *f)
{
    json_t *mn, *mx;
    delta_file_col_range(f, "_source_file", &mn, &mx);
    char *out = NULL;
    if (mn && mx && json_equal(mn, mx))
        out = sl_strdup(json_string_value(mn));
    json_decref(mn);
    json_decref(mx);
    return out;
}

static void test_files_layout(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    run(&w);
    char *want = expected(&w), *got = actual(&w);
    assert_string_equal(want, got);
    free(want);
    free(got);

    delta_snapshot *before;
    store *s = silver_open(&w, &before, -1);
    store_close(s);

    /* 20 overwritten: shorter, longer, one emptied; one deleted. */
    int changed[21], nchanged = 0;
    for (int k = 0; k < 20; k++) {
        int c = 3 + k * 9;
        int rows = k == 0  ? 0
                   : k % 2 ? w.rows[c] + 5
                           : (w.rows[c] > 1 ? w.rows[c] / 2 : 1);
        write_customer(&w, c, rows, 2);
        changed[nchanged++] = c;
    }
    char *gone = sl_asprintf("%s/incoming/id-199.txt", w.dir);
    assert_int_equal(remove(gone), 0);
    free(gone);
    w.rows[199] = -1;
    changed[nchanged++] = 199;
    run(&w);
    want = expected(&w);
    got = actual(&w);
    if (strcmp(want, got))
        fail_msg("silver differs after the overwrite\n--- expected\n%s--- got\n%s", want,
                 got);
    free(want);
    free(got);

    /* The silver commit of batch 2 touched only the changed customers. */
    delta_snapshot *after;
    s = silver_open(&w, &after, -1);
    json_t *actions = NULL;
    sl_err err = {0};
    int64_t v = after->version;
    /* the latest data commit (the batch's) */
    assert_int_equal(delta_commit_read(s, "", v, &actions, &err), SL_OK);
    size_t i;
    json_t *a;
    size_t removes = 0, adds = 0;
    json_array_foreach(actions, i, a)
    {
        const char *p =
            json_string_value(json_object_get(json_object_get(a, "remove"), "path"));
        if (p) {
            removes++;
            const delta_file *f = NULL;
            for (size_t k = 0; k < before->nfiles && !f; k++)
                if (strcmp(before->files[k].path, p) == 0)
                    f = &before->files[k];
            assert_non_null(f);
            char *cust = file_customer(f);
            assert_non_null(cust);
            int id = atoi(cust + 3), hit = 0;
            for (int k = 0; k < nchanged; k++)
                hit |= changed[k] == id;
            if (!hit)
                fail_msg("the commit removed %s of unchanged customer %s", p, cust);
            free(cust);
        }
        if (json_object_get(a, "add"))
            adds++;
    }
    assert_int_equal(removes, (size_t)nchanged); /* one file per customer before */
    assert_int_equal(adds,
                     (size_t)nchanged - 2); /* the emptied and the deleted add none */
    for (size_t k = 0; k < after->nfiles; k++) {
        char *cust = file_customer(&after->files[k]);
        assert_non_null(cust); /* still one customer per data file */
        free(cust);
    }
    json_decref(actions);
    delta_snapshot_free(after);
    delta_snapshot_free(before);
    store_close(s);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
