/* The sluice binary as a user runs it: exit codes, --json shapes, errors as
 * {code,message,hint}, the demo, and audit rows for what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend/util/buf.h"
#include "testutil.h"

typedef struct world {
    char *dir;
    char cfg[4096];
} world;

static world W;

/* Runs `sluice ARGS` with a private state dir; returns the exit code. */
static int run(const char *args, json_t **json_out, char **text_out)
{
    char *cmd =
        sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/state' SLUICE_OPERATOR=carol "
                    "'%s' %s 2>/dev/null",
                    W.dir, W.dir, tu_sluice_bin(), args);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    free(cmd);
    if (json_out) {
        json_error_t je;
        *json_out = json_loads(out, 0, &je);
        if (!*json_out)
            fprintf(stderr, "not JSON (%s): %s\n", je.text, out);
    }
    if (text_out)
        *text_out = out;
    else
        free(out);
    return rc;
}

static void assert_error_json(json_t *j, const char *code)
{
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "code")), code);
    assert_true(json_is_string(json_object_get(j, "message")));
    assert_true(strlen(json_string_value(json_object_get(j, "hint"))) > 0);
}

static int setup(void **state)
{
    (void)state;
    W.dir = tu_mkdtemp("cli");
    snprintf(W.cfg, sizeof W.cfg, "%s/demo/sluice.json", W.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(W.dir);
    free(W.dir);
    return 0;
}

static void test_usage_errors(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(run("bogus --json", &j, NULL), 2);
    assert_error_json(j, "SL-USAGE");
    json_decref(j);
    assert_int_equal(run("snapshot --json", &j, NULL), 2);
    json_decref(j);
    assert_int_equal(run("history x --limit abc --json", &j, NULL), 2);
    assert_error_json(j, "SL-USAGE");
    json_decref(j);
    assert_int_equal(run("snapshot x --frobnicate", NULL, NULL), 2);
    char *text = NULL;
    assert_int_equal(run("help", NULL, &text), 0);
    assert_non_null(strstr(text, "snapshot"));
    assert_non_null(strstr(text, "audit.note"));
    free(text);
    assert_int_equal(run("tui --actions", NULL, &text), 0);
    assert_non_null(strstr(text, "quit"));
    assert_non_null(strstr(text, "verify"));
    free(text);
    /* No terminal and no config: clear errors, never a half-drawn screen. */
    assert_int_equal(run("tui --json", &j, NULL), 2);
    assert_error_json(j, "SL-CONFIG-NOT-FOUND");
    json_decref(j);
    assert_int_equal(run("version --json", &j, NULL), 0);
    assert_true(json_is_string(json_object_get(j, "version")));
    json_decref(j);
}

static void test_missing_table(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(run("snapshot /nonexistent/table --json", &j, NULL), 1);
    assert_error_json(j, "SL-STORE-NOT-FOUND");
    json_decref(j);
    /* A folder that is not a Delta table. */
    assert_int_equal(run("snapshot . --json", &j, NULL), 1);
    assert_error_json(j, "SL-DELTA-NOT-A-TABLE");
    json_decref(j);
}

static void test_demo_end_to_end(void **state)
{
    (void)state;
    json_t *j = NULL;
    /* Read-only: refused with exit 3, nothing written, refusal audited. */
    assert_int_equal(run("--read-only demo demo --no-open --json", &j, NULL), 3);
    assert_error_json(j, "SL-OPS-READ-ONLY");
    json_decref(j);
    struct stat st;
    assert_int_not_equal(stat(W.cfg, &st), 0);

    assert_int_equal(run("demo demo --no-open --json", &j, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "epoch_folders")), 36);
    assert_true(json_integer_value(json_object_get(j, "malformed_lines")) >= 2);
    assert_int_equal(json_array_size(json_object_get(j, "late_folders")), 2);
    /* Mid-incident: the pipeline ran up to a folder with a bad file. */
    assert_string_equal(json_string_value(json_object_get(j, "pipeline")), "orders");
    assert_int_equal(json_integer_value(json_object_get(j, "processed")), 26);
    assert_int_equal(json_integer_value(json_object_get(j, "pending")), 8);
    assert_int_equal(json_integer_value(json_object_get(j, "waiting")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "failed_code")),
                        "SL-EXPECTATION-FAILED");
    char *failed_folder =
        sl_strdup(json_string_value(json_object_get(j, "failed_folder")));
    json_decref(j);
    assert_int_equal(stat(W.cfg, &st), 0);

    /* `sluice runs --failed` names that folder and the code. */
    char *args = sl_asprintf("-c '%s' runs --failed --json", W.cfg);
    assert_int_equal(run(args, &j, NULL), 0);
    free(args);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "folder")),
        failed_folder);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "error_code")),
        "SL-EXPECTATION-FAILED");
    json_decref(j);
    free(failed_folder);

    args = sl_asprintf("-c '%s' folders --json", W.cfg);
    assert_int_equal(run(args, &j, NULL), 0);
    free(args);
    json_t *eps = json_object_get(j, "epoch_folders");
    assert_int_equal(json_array_size(eps), 36);
    for (size_t i = 1; i < json_array_size(eps); i++)
        assert_true(
            json_integer_value(json_object_get(json_array_get(eps, i - 1), "epoch")) <
            json_integer_value(json_object_get(json_array_get(eps, i), "epoch")));
    json_t *first = json_array_get(eps, 0);
    const char *keys[] = {"name", "epoch", "files", "bytes", "newest_mtime"};
    for (size_t k = 0; k < 5; k++)
        assert_non_null(json_object_get(first, keys[k]));
    assert_true(json_array_size(json_object_get(j, "other")) >= 2);
    json_decref(j);

    /* Every configured demo table answers snapshot and history. */
    json_t *tables = NULL;
    char *cfgtext = tu_read_file(W.cfg);
    json_t *cfg = json_loads(cfgtext, 0, NULL);
    free(cfgtext);
    tables = json_object_get(cfg, "tables");
    assert_true(json_object_size(tables) >= 1);
    const char *name;
    json_t *v;
    json_object_foreach(tables, name, v)
    {
        args = sl_asprintf("-c '%s' snapshot %s --json", W.cfg, name);
        assert_int_equal(run(args, &j, NULL), 0);
        free(args);
        const char *skeys[] = {
            "table",    "version",           "num_files", "num_rows",    "size_bytes",
            "protocol", "partition_columns", "schema",    "metadata_id", "configuration"};
        for (size_t k = 0; k < 10; k++)
            assert_non_null(json_object_get(j, skeys[k]));
        assert_true(json_integer_value(json_object_get(j, "num_rows")) > 0);
        json_decref(j);
        args = sl_asprintf("-c '%s' history %s --json --limit 3", W.cfg, name);
        assert_int_equal(run(args, &j, NULL), 0);
        free(args);
        assert_true(json_is_array(j) && json_array_size(j) >= 1 &&
                    json_array_size(j) <= 3);
        const char *hkeys[] = {"version",
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
        for (size_t k = 0; k < 11; k++)
            assert_non_null(json_object_get(json_array_get(j, 0), hkeys[k]));
        json_decref(j);
    }
    json_decref(cfg);

    /* Notes need a reason (exit 3), then land; the chain verifies. */
    assert_int_equal(run("audit note --json", &j, NULL), 3);
    assert_error_json(j, "SL-OPS-REASON-REQUIRED");
    json_decref(j);
    assert_int_equal(
        run("audit note --reason 'bronze late, watching' --target orders_raw", NULL,
            NULL),
        0);
    assert_int_equal(run("audit list --json", &j, NULL), 0);
    size_t n = json_array_size(j);
    assert_true(n >= 6);
    int saw_refused_demo = 0, saw_demo_ok = 0, saw_note = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i);
        const char *action = json_string_value(json_object_get(e, "action"));
        const char *phase = json_string_value(json_object_get(e, "phase"));
        assert_string_equal(json_string_value(json_object_get(e, "operator")), "carol");
        saw_refused_demo |= !strcmp(action, "demo.create") && !strcmp(phase, "refused");
        saw_demo_ok |= !strcmp(action, "demo.create") && !strcmp(phase, "succeeded");
        saw_note |= !strcmp(action, "audit.note") && !strcmp(phase, "succeeded");
    }
    assert_true(saw_refused_demo && saw_demo_ok && saw_note);
    json_decref(j);
    assert_int_equal(
        run("audit list --action audit.note --phase succeeded --json", &j, NULL), 0);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "reason")),
        "bronze late, watching");
    json_decref(j);
    assert_int_equal(run("audit verify --json", &j, NULL), 0);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    char *text = NULL;
    assert_int_equal(run("audit export --format csv", NULL, &text), 0);
    assert_non_null(strstr(text, "audit.note"));
    free(text);
    assert_int_equal(run("audit show 1 --json", &j, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
    json_decref(j);
    assert_int_equal(run("audit show 99999 --json", &j, NULL), 1);
    assert_error_json(j, "SL-AUDIT-NOT-FOUND");
    json_decref(j);

    /* The structured log has one line per backend operation. */
    char *logp = sl_asprintf("%s/state/sluice.log", W.dir);
    char *log = tu_read_file(logp);
    free(logp);
    assert_non_null(log);
    assert_non_null(strstr(log, "\"op\":\"delta.snapshot\""));
    assert_non_null(strstr(log, "\"op\":\"delta.history\""));
    assert_non_null(strstr(log, "\"op\":\"folders.list\""));
    assert_non_null(strstr(log, "\"op\":\"audit.note\""));
    assert_non_null(strstr(log, "\"code\":\"SL-OPS-READ-ONLY\""));
    free(log);

    /* Tampering is caught from the CLI: exit 1, the first bad row named. */
    char *cmd =
        sl_asprintf("sqlite3 '%s/state/audit.db' \"DROP TRIGGER IF EXISTS "
                    "audit_no_update; DROP TRIGGER IF EXISTS audit_events_no_update; "
                    "UPDATE audit_events SET reason='nothing happened' WHERE id=3;\" "
                    "2>&1",
                    W.dir);
    char *sq = NULL;
    int sqrc = tu_run(cmd, &sq);
    free(cmd);
    if (sqrc != 0)
        fprintf(stderr, "sqlite3 (a test dependency) failed: %s\n", sq);
    free(sq);
    assert_int_equal(sqrc, 0);
    assert_int_equal(run("audit verify --json", &j, NULL), 1);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "first_bad_id")), 3);
    json_decref(j);
    assert_int_equal(run("audit verify", NULL, &text), 1);
    assert_non_null(strstr(text, "TAMPERED"));
    free(text);
}

static void test_fixture_errors(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    json_t *j = NULL;
    char *args =
        sl_asprintf("snapshot '%s/delta/delta/versions-not-contiguous' --json", fx);
    assert_int_equal(run(args, &j, NULL), 1);
    free(args);
    assert_error_json(j, "SL-DELTA-GAP");
    json_decref(j);
    args = sl_asprintf(
        "snapshot '%s/delta/delta/deltalog-invalid-protocol-version' --json", fx);
    assert_int_equal(run(args, &j, NULL), 3);
    free(args);
    assert_error_json(j, "SL-DELTA-UNSUPPORTED-FEATURE");
    json_decref(j);
    args = sl_asprintf("history '%s/delta/delta-rs/simple_table' --json", fx);
    assert_int_equal(run(args, &j, NULL), 0);
    free(args);
    assert_int_equal(json_array_size(j), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "version")),
                     4);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "operation")), "DELETE");
    json_decref(j);
    args = sl_asprintf("snapshot '%s/delta/delta/basic-with-inserts-deletes-checkpoint' "
                       "--version 9 --json",
                       fx);
    assert_int_equal(run(args, &j, NULL), 0);
    free(args);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 9);
    assert_int_equal(json_integer_value(json_object_get(j, "num_files")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "num_rows")), 25);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_missing_table),
        cmocka_unit_test(test_demo_end_to_end),
        cmocka_unit_test(test_fixture_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
