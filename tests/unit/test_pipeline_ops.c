/* Every pipeline intervention through the CLI: audit rows in order with
 * before/after state; rollback-run restores the exact prior versions (and
 * refuses while a later run depends on the one rolled back, unless
 * --cascade); retry re-runs a failed folder with its batch; skip, reset and
 * mark-processed need a reason and --yes and are refused in read-only mode. */
#include "pipetest.h"
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

typedef struct fx {
    pt_world w;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    pt_world_init(&f->w, "pipe-ops", 11, NULL);
    for (int i = 0; i < 3; i++)
        pt_folder_write(&f->w, 1700000000 + i * 3600, 1, 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    pt_world_free(&f->w);
    free(f);
    return 0;
}

/* Runs `sluice ARGS` in the world; returns the exit code, *out its stdout. */
static int sl(fx *f, char **out, const char *args)
{
    char *cmd =
        sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/state' SLUICE_OPERATOR=oncall "
                    "'%s' %s 2>&1",
                    f->w.dir, f->w.dir, tu_sluice_bin(), args);
    char *o = NULL;
    int rc = tu_run(cmd, &o);
    free(cmd);
    if (out)
        *out = o;
    else
        free(o);
    return rc;
}

static json_t *sl_json(fx *f, int want_rc, const char *args)
{
    char *out = NULL;
    int rc = sl(f, &out, args);
    if (rc != want_rc)
        fail_msg("sluice %s: exit %d, wanted %d:\n%s", args, rc, want_rc, out);
    json_t *j = json_loads(out, 0, NULL);
    if (!j)
        fail_msg("sluice %s: not JSON:\n%s", args, out);
    free(out);
    return j;
}

/* The audit rows of one action, oldest first. */
static json_t *audit_of(fx *f, const char *action)
{
    char *args = sl_asprintf("audit list --action %s --json", action);
    json_t *all = sl_json(f, 0, args);
    free(args);
    json_t *out = all; /* oldest first */
    return out;
}

static const char *phase(json_t *rows, size_t i)
{
    return json_string_value(json_object_get(json_array_get(rows, i), "phase"));
}

static char *silver_now(fx *f)
{
    return pt_actual_silver(&f->w);
}

/* The file set of a table at a version, as text. */
static char *files_at(fx *f, const char *table, int64_t version)
{
    store *s = NULL;
    sl_err err = {0};
    char *dir = paths_join(f->w.lake, table);
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_at at = {.kind = version < 0 ? DELTA_AT_LATEST : DELTA_AT_VERSION,
                   .version = version};
    delta_snapshot *snap = NULL;
    assert_int_equal(delta_snapshot_open(s, "", &at, &snap, &err), SL_OK);
    sl_buf b = {0};
    for (size_t i = 0; i < snap->nfiles; i++)
        buf_appendf(&b, "%s\n", snap->files[i].path);
    delta_snapshot_free(snap);
    store_close(s);
    free(dir);
    return b.data ? buf_steal(&b) : sl_strdup("");
}

static void test_rollback_run(void **state)
{
    fx *f = *state;
    json_t *r1 = sl_json(f, 0, "run --json");
    const char *run1 = json_string_value(json_object_get(r1, "run_id"));
    assert_int_equal(json_integer_value(json_object_get(r1, "processed")), 3);
    char *silver_after_r1 = silver_now(f);
    /* Versions of every table before run 2. */
    static const char *const tables[] = {"orders_raw", "orders_raw_quarantine", "orders",
                                         "_sluice/tombstones/orders", "orders_by_day"};
    char *before[5];
    for (int i = 0; i < 5; i++)
        before[i] = files_at(f, tables[i], -1);

    pt_folder_write(&f->w, 1700020000, 2, 20);
    json_t *r2 = sl_json(f, 0, "run --json");
    const char *run2 = json_string_value(json_object_get(r2, "run_id"));
    assert_int_equal(json_integer_value(json_object_get(r2, "processed")), 1);

    /* Run 1 has a dependant: refused, nothing changes. */
    char *args = sl_asprintf("rollback-run %s --reason 'bad load' --yes --json", run1);
    char *out = NULL;
    assert_int_equal(sl(f, &out, args), 3);
    assert_non_null(strstr(out, "SL-ROLLBACK-DEPENDENT"));
    assert_non_null(strstr(out, run2));
    free(out);
    free(args);
    /* Without --yes: previewed and refused. */
    args = sl_asprintf("rollback-run %s --reason 'bad load'", run2);
    assert_int_equal(sl(f, &out, args), 3);
    assert_non_null(strstr(out, "would roll back"));
    assert_non_null(strstr(out, "folder 1700020000 -> pending"));
    free(out);
    free(args);

    args = sl_asprintf("rollback-run %s --reason 'bad load' --yes --json", run2);
    json_t *rb = sl_json(f, 0, args);
    free(args);
    assert_int_equal(json_object_size(json_object_get(rb, "restored")), 5);
    json_decref(rb);
    /* Each table holds exactly its files of before run 2; silver as after run 1. */
    for (int i = 0; i < 5; i++) {
        char *now = files_at(f, tables[i], -1);
        if (strcmp(now, before[i]))
            fail_msg("%s after the rollback:\n%s\nbefore run 2:\n%s", tables[i], now,
                     before[i]);
        free(now);
        free(before[i]);
    }
    char *silver = silver_now(f);
    assert_string_equal(silver, silver_after_r1);
    free(silver);
    json_t *folders = sl_json(f, 0, "folders orders --json");
    json_t *last = json_array_get(folders, json_array_size(folders) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "state")), "pending");
    json_decref(folders);

    /* Run again: the folder comes back with a new batch; silver is whole. */
    json_t *r3 = sl_json(f, 0, "run --json");
    assert_int_equal(json_integer_value(json_object_get(r3, "processed")), 1);
    json_decref(r3);
    char *want = pt_expected_silver(&f->w);
    silver = silver_now(f);
    assert_string_equal(want, silver);
    free(want);
    free(silver);

    /* Audit: run x3 requested->succeeded; rollback-run: failed (dependant),
     * refused (no --yes), requested->succeeded with before/after. */
    json_t *a = audit_of(f, "run");
    assert_int_equal(json_array_size(a), 6);
    for (size_t i = 0; i < 6; i += 2) {
        assert_string_equal(phase(a, i), "requested");
        assert_string_equal(phase(a, i + 1), "succeeded");
    }
    json_decref(a);
    a = audit_of(f, "rollback-run");
    assert_true(json_array_size(a) >= 5);
    size_t n = json_array_size(a);
    assert_string_equal(phase(a, 0), "requested");
    assert_string_equal(phase(a, 1), "failed");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 1), "error_code")),
        "SL-ROLLBACK-DEPENDENT");
    assert_string_equal(phase(a, n - 2), "requested");
    assert_string_equal(phase(a, n - 1), "succeeded");
    json_t *fin = json_array_get(a, n - 1);
    assert_string_equal(json_string_value(json_object_get(fin, "reason")), "bad load");
    assert_string_equal(json_string_value(json_object_get(fin, "operator")), "oncall");
    assert_non_null(json_object_get(json_object_get(fin, "before_state"), "tables"));
    assert_non_null(json_object_get(json_object_get(fin, "after_state"), "restored"));
    json_decref(a);
    json_decref(r1);
    json_decref(r2);
    free(silver_after_r1);
}

/* bronze's schemaString at a version (latest when < 0). */
static char *schema_at(fx *f, int64_t version)
{
    store *s = NULL;
    sl_err err = {0};
    char *dir = paths_join(f->w.lake, "orders_raw");
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    delta_at at = {.kind = version < 0 ? DELTA_AT_LATEST : DELTA_AT_VERSION,
                   .version = version};
    delta_snapshot *snap = NULL;
    assert_int_equal(delta_snapshot_open(s, "", &at, &snap, &err), SL_OK);
    char *out =
        sl_strdup(json_string_value(json_object_get(snap->metadata, "schemaString")));
    delta_snapshot_free(snap);
    store_close(s);
    free(dir);
    return out;
}

/* A run whose ingest evolved bronze (an ADD COLUMNS commit before the data)
 * is rolled back: bronze's schema and files are those of before the run,
 * not only its data. */
static void test_rollback_evolve(void **state)
{
    fx *f = *state;
    /* The pipeline evolves: unknown keys become columns. */
    char *def_path = paths_join(f->w.dir, "pipelines/orders.json");
    char *def = tu_read_file(def_path);
    free(def_path);
    char *at = strstr(def, "\"rescue\"");
    assert_non_null(at);
    char *evolved = sl_asprintf("%.*s\"evolve\"%s", (int)(at - def), def, at + 8);
    tu_write_file(f->w.dir, "pipelines/orders.json", evolved);
    free(def);
    free(evolved);
    json_t *r1 = sl_json(f, 0, "run --json");
    json_decref(r1);
    char *schema_before = schema_at(f, -1), *files_before = files_at(f, "orders_raw", -1);
    assert_null(strstr(schema_before, "channel"));
    /* A delivery with a key bronze has never seen. */
    tu_write_file(f->w.dir, "incoming/1700020000/part-0.jsonl",
                  "{\"order_id\": \"n1\", \"customer_id\": \"c1\", \"amount\": 5.5, "
                  "\"qty\": 1, \"updated_at\": \"2023-11-20T00:00:00Z\", \"op\": \"U\", "
                  "\"channel\": \"web\"}\n");
    tu_write_file(f->w.dir, "incoming/1700020000/_SUCCESS", "");
    json_t *r2 = sl_json(f, 0, "run --json");
    const char *run2 = json_string_value(json_object_get(r2, "run_id"));
    char *schema_mid = schema_at(f, -1);
    if (!strstr(schema_mid, "channel"))
        fail_msg("the run did not evolve bronze: %s", schema_mid);
    free(schema_mid);

    char *args =
        sl_asprintf("rollback-run %s --reason 'evolved by mistake' --yes --json", run2);
    json_t *rb = sl_json(f, 0, args);
    free(args);
    json_decref(rb);
    char *schema_after = schema_at(f, -1), *files_after = files_at(f, "orders_raw", -1);
    assert_string_equal(schema_after, schema_before);
    assert_string_equal(files_after, files_before);
    free(schema_after);
    free(files_after);
    free(schema_before);
    free(files_before);
    json_decref(r2);
}

/* One bad file among good ones: skip-file leaves it out of its folder, a
 * retry of the failed run loads the rest (the marker's count, which covers
 * the whole delivery, is not held against it), the exclusion stays with
 * the folder, and the audit has who, why, before and after. */
static void test_skip_file(void **state)
{
    fx *f = *state;
    json_t *r1 = sl_json(f, 0, "run --json");
    json_decref(r1);
    const char *good =
        "{\"order_id\": \"keep-1\", \"customer_id\": \"c1\", \"amount\": 1.5, "
        "\"qty\": 1, \"updated_at\": \"2023-11-20T00:00:00Z\", \"op\": \"U\"}\n";
    const char *bad =
        "{\"order_id\": null, \"customer_id\": \"c1\", \"amount\": 2.5, "
        "\"qty\": 1, \"updated_at\": \"2023-11-20T00:00:00Z\", \"op\": \"U\"}\n"
        "{\"order_id\": \"lost-1\", \"customer_id\": \"c2\", \"amount\": 3.5, "
        "\"qty\": 1, \"updated_at\": \"2023-11-20T00:00:00Z\", \"op\": \"U\"}\n";
    tu_write_file(f->w.dir, "incoming/1700030000/part-0.jsonl", good);
    tu_write_file(f->w.dir, "incoming/1700030000/part-1.jsonl", bad);
    tu_write_file(f->w.dir, "incoming/1700030000/_SUCCESS", "{\"rows\": 3}");
    char *out = NULL;
    assert_int_equal(sl(f, &out, "run --json"), 1); /* has_key fails the folder */
    assert_non_null(strstr(out, "SL-EXPECTATION-FAILED"));
    assert_non_null(strstr(out, "1700030000/part-1.jsonl"));
    free(out);
    json_t *folders = sl_json(f, 0, "folders orders --json");
    json_t *last = json_array_get(folders, json_array_size(folders) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "state")), "failed");
    char *run = sl_strdup(json_string_value(json_object_get(last, "run_id")));
    json_decref(folders);

    /* Refused without --yes (a preview), a file of the wrong folder, a
     * missing file; then done. */
    assert_int_equal(sl(f, &out, "skip-file 1700030000/part-1.jsonl --reason 'null key'"),
                     3);
    assert_non_null(strstr(out, "1700030000/part-1.jsonl"));
    free(out);
    assert_int_equal(
        sl(f, NULL, "skip-file 1700030000/nope.jsonl --reason 'null key' --yes"), 2);
    json_t *sk = sl_json(
        f, 0, "skip-file 1700030000/part-1.jsonl --reason 'null key' --yes --json");
    assert_string_equal(json_string_value(json_object_get(sk, "state")), "failed");
    json_decref(sk);
    char *args = sl_asprintf("retry %s --reason 'without the bad file' --json", run);
    json_t *rr = sl_json(f, 0, args);
    free(args);
    free(run);
    assert_int_equal(json_integer_value(json_object_get(rr, "processed")), 1);
    json_decref(rr);
    char *silver = silver_now(f);
    assert_non_null(strstr(silver, "keep-1|"));
    assert_null(strstr(silver, "lost-1|")); /* the skipped file's rows are not loaded */
    free(silver);
    /* The exclusion stays on the folder's rows. */
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(f->w.lake, &lake, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, "orders", &v, &err), SL_OK);
    const ckpt_entry *e = ckpt_find(&v, "1700030000");
    assert_non_null(e);
    assert_string_equal(e->state, "processed");
    assert_non_null(e->detail);
    assert_non_null(strstr(e->detail, "1700030000/part-1.jsonl"));
    ckpt_view_free(&v);
    store_close(lake);
    json_t *a = audit_of(f, "skip-file");
    size_t n = json_array_size(a);
    assert_true(n >= 2);
    assert_string_equal(phase(a, n - 2), "requested");
    assert_string_equal(phase(a, n - 1), "succeeded");
    json_t *fin = json_array_get(a, n - 1);
    assert_string_equal(json_string_value(json_object_get(fin, "reason")), "null key");
    assert_string_equal(json_string_value(json_object_get(fin, "operator")), "oncall");
    /* before: nothing excluded yet; after: the file */
    assert_int_equal(json_array_size(json_object_get(json_object_get(fin, "before_state"),
                                                     "excluded_files")),
                     0);
    assert_non_null(
        json_object_get(json_object_get(fin, "after_state"), "excluded_files"));
    json_decref(a);
}

static void test_cascade(void **state)
{
    fx *f = *state;
    json_t *r1 = sl_json(f, 0, "run --json");
    char *silver_before = NULL;
    (void)silver_before;
    pt_folder_write(&f->w, 1700020000, 1, 20);
    json_t *r2 = sl_json(f, 0, "run --json");
    char *args =
        sl_asprintf("rollback-run %s --cascade --reason 'start over' --yes --json",
                    json_string_value(json_object_get(r1, "run_id")));
    json_t *rb = sl_json(f, 0, args);
    free(args);
    assert_int_equal(json_array_size(json_object_get(rb, "runs")), 2);
    assert_int_equal(json_array_size(json_object_get(rb, "folders")), 4);
    json_decref(rb);
    /* Everything pending again; silver empty; a run rebuilds it all. */
    char *silver = silver_now(f);
    assert_string_equal(silver, "");
    free(silver);
    json_t *r3 = sl_json(f, 0, "run --json");
    assert_int_equal(json_integer_value(json_object_get(r3, "processed")), 4);
    json_decref(r3);
    char *want = pt_expected_silver(&f->w);
    silver = silver_now(f);
    assert_string_equal(want, silver);
    free(want);
    free(silver);
    json_decref(r1);
    json_decref(r2);
}

static void test_retry_skip_reset_mark(void **state)
{
    fx *f = *state;
    /* A bad file in the second folder: order_id null breaks "has_key" (fail). */
    tu_write_file(f->w.dir, "incoming/1700003600/part-9.jsonl",
                  "{\"order_id\": null, \"amount\": 1.0, \"qty\": 1, \"updated_at\": "
                  "\"2023-11-14T22:13:20Z\", \"op\": \"U\"}\n");
    json_t *r1 = sl_json(f, 1, "run --json");
    const char *run1 = json_string_value(json_object_get(r1, "run_id"));
    assert_int_equal(json_integer_value(json_object_get(r1, "processed")), 1);
    json_t *fold = json_array_get(json_object_get(r1, "folders"), 1);
    assert_string_equal(json_string_value(json_object_get(fold, "state")), "failed");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(fold, "error"), "code")),
        "SL-EXPECTATION-FAILED");
    /* Strict sequencing: a plain run does not pass the failed folder. */
    json_t *r2 = sl_json(f, 1, "run --json");
    assert_int_equal(json_integer_value(json_object_get(r2, "processed")), 0);
    json_decref(r2);
    /* retry without a reason is refused; with one it fails again (same data). */
    char *args = sl_asprintf("retry %s", run1);
    assert_int_equal(sl(f, NULL, args), 3);
    free(args);
    args = sl_asprintf("retry %s --reason 'try again' --json", run1);
    char *out = NULL;
    assert_int_equal(sl(f, &out, args), 1);
    free(out);
    free(args);
    /* Fix the file, retry: processed with the same batch; the rest follows. */
    tu_write_file(f->w.dir, "incoming/1700003600/part-9.jsonl", "");
    args = sl_asprintf("retry %s --reason 'file fixed' --json", run1);
    json_t *rt = sl_json(f, 0, args);
    free(args);
    json_t *rf = json_array_get(json_object_get(rt, "folders"), 0);
    assert_int_equal(json_integer_value(json_object_get(rf, "batch_id")),
                     json_integer_value(json_object_get(fold, "batch_id")));
    json_decref(rt);
    json_decref(r1);
    json_t *r3 = sl_json(f, 0, "run --json");
    assert_int_equal(json_integer_value(json_object_get(r3, "processed")), 1);
    json_decref(r3);

    /* skip / reset / mark-processed: reason and --yes, read-only refused. */
    assert_int_equal(sl(f, NULL, "skip 1700000000 --yes"), 3); /* no reason */
    assert_int_equal(sl(f, &out, "skip 1700000000 --reason 'late dup'"),
                     3); /* no --yes */
    assert_non_null(strstr(out, "would set 1700000000: processed -> skipped"));
    free(out);
    assert_int_equal(sl(f, NULL, "--read-only skip 1700000000 --reason x --yes"), 3);
    assert_int_equal(sl(f, NULL, "skip 1799999999 --reason x --yes"), 2); /* unknown */
    assert_int_equal(sl(f, NULL, "reset 1700000000 --reason 'reload it' --yes"), 0);
    json_t *folders = sl_json(f, 0, "folders orders --json");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(folders, 0), "state")),
        "pending");
    json_decref(folders);
    assert_int_equal(
        sl(f, NULL, "mark-processed 1700000000 --reason 'loaded by hand' --yes"), 0);
    folders = sl_json(f, 0, "folders orders --json");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(folders, 0), "state")),
        "processed");
    json_decref(folders);

    /* skip: no reason (refused), no --yes (previewed unaudited, refused),
     * read-only (refused), unknown folder (requested, failed). */
    json_t *a = audit_of(f, "skip");
    static const char *const want[] = {"refused", "refused", "refused", "requested",
                                       "failed"};
    assert_int_equal(json_array_size(a), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(phase(a, i), want[i]);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 0), "error_code")),
        "SL-OPS-REASON-REQUIRED");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 1), "error_code")),
        "SL-OPS-NOT-CONFIRMED");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 2), "error_code")),
        "SL-OPS-READ-ONLY");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 4), "error_code")),
        "SL-FOLDER-NOT-FOUND");
    json_decref(a);
    a = audit_of(f, "reset");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(phase(a, 1), "succeeded");
    json_t *before = json_object_get(json_array_get(a, 1), "before_state");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(before, 0), "state")),
        "processed");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(a, 1), "after_state"), "state")),
        "pending");
    json_decref(a);
    a = audit_of(f, "retry");
    assert_int_equal(json_array_size(a),
                     5); /* refused, requested+failed, requested+succeeded */
    assert_string_equal(phase(a, 4), "succeeded");
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_evolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_skip_reset_mark, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
