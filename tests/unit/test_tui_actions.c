/* The action table against the audit log, enumerated so that a new
 * mutating action without its audit trail fails here: in a read-only
 * console (read_only in the config, or a "protected" environment) every
 * ACT_MUTATES action is refused by the dispatcher and the refusal is an
 * audit row of the ops action of the same name; and the action table and
 * the ops descriptors agree (every mutating console action has an ops
 * descriptor that mutates). */
#include "testutil.h"
#include "tuitest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/actions.h"

#define NOW_MS 1700300000000LL
#define NOW_TEXT "1700300000000"

typedef struct world {
    char *tmp, *dir, *state;
} world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    W.tmp = tu_mkdtemp("tuiact");
    W.state = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", W.state, 1);
    W.dir = paths_join(W.tmp, "demo");
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    sl_err err = {0};
    json_t *summary = NULL;
    if (demo_create(&o, &summary, &err) != SL_OK) {
        fprintf(stderr, "demo_create: %s\n", err.msg);
        return -1;
    }
    json_decref(summary);
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char *themes = sl_asprintf("%s/themes", src);
    setenv("SLUICE_THEMES_DIR", themes, 1);
    free(themes);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(W.tmp);
    free(W.tmp);
    free(W.dir);
    free(W.state);
    unsetenv("SLUICE_FAKE_NOW_MS");
    unsetenv("SLUICE_THEMES_DIR");
    return 0;
}

/* The demo's sluice.json with key set to true (NULL: as the demo wrote it). */
static void config_with(const char *key)
{
    char *path = paths_join(W.dir, "sluice.json");
    char *orig_path = paths_join(W.dir, "sluice.json.orig");
    char *orig = tu_read_file(orig_path);
    if (!orig) { /* keep the demo's own once */
        orig = tu_read_file(path);
        assert_non_null(orig);
        tu_write_file(W.dir, "sluice.json.orig", orig);
    }
    json_t *cfg = json_loads(orig, 0, NULL);
    assert_non_null(cfg);
    if (key)
        json_object_set_new(cfg, key, json_true());
    char *out = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    tu_write_file(W.dir, "sluice.json", out);
    free(out);
    json_decref(cfg);
    free(orig);
    free(orig_path);
    free(path);
}

/* Rows of the audit log for action in phase. */
static size_t audit_rows(const char *action, const char *phase)
{
    char *db = paths_join(W.state, "audit.db");
    if (access(db, F_OK) != 0) { /* no console has run yet */
        free(db);
        return 0;
    }
    audit_log *log = NULL;
    sl_err err = {0};
    if (audit_open(db, &log, &err) != SL_OK)
        fail_msg("%s: %s", db, err.msg);
    audit_filter f = {.action = action, .phase = phase};
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(log, &f, &evs, &n, &err), SL_OK);
    audit_events_free(evs, n);
    audit_close(log);
    free(db);
    return n;
}

/* An argument the action accepts, so that only the read-only guard can
 * refuse it. */
static const char *arg_for(const action_desc *d)
{
    if (d->flags & ACT_ARG)
        return strcmp(d->name, "run") == 0 ? "ingest" : "1";
    return "";
}

static void refused_everywhere(const char *mode_json)
{
    config_with(mode_json);
    size_t n;
    const action_desc *t = actions_table(&n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & ACT_MUTATES))
            continue;
        size_t before = audit_rows(t[i].name, "refused");
        char *script = sl_asprintf("%s %s\n", t[i].name, arg_for(&t[i]));
        sl_err err = {0};
        sl_code rc = tt_run_script(W.dir, script, 24, 80, NULL, &err);
        free(script);
        if (rc != SL_OPS_READ_ONLY)
            fail_msg("%s: '%s' in a read-only console gave %s (%s), not SL-OPS-READ-ONLY",
                     mode_json, t[i].name, err_code_name(rc), err.msg);
        size_t after = audit_rows(t[i].name, "refused");
        if (after != before + 1)
            fail_msg("%s: the refusal of '%s' is not in the audit log (%zu refused rows "
                     "before, %zu after)",
                     mode_json, t[i].name, before, after);
        checked++;
    }
    /* The enumeration saw the table's destructive actions. */
    assert_true(checked >= 10);
    config_with(NULL);
}

static void test_read_only_config(void **state)
{
    (void)state;
    refused_everywhere("read_only");
}

static void test_protected_environment(void **state)
{
    (void)state;
    refused_everywhere("protected");
}

/* The CLI honours "protected" too, and --write lifts it for one session
 * (the audit row says which channel and operator did it). */
static void test_protected_cli(void **state)
{
    (void)state;
    config_with("protected");
    char *cmd = sl_asprintf("cd '%s' && '%s' cancel orders --reason test 2>&1", W.dir,
                            tu_sluice_bin());
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    if (rc != 3 || !strstr(out, "SL-OPS-READ-ONLY"))
        fail_msg("protected, no --write: exit %d\n%s", rc, out);
    free(out);
    free(cmd);
    /* With --write the guard lets it through: cancel then answers that no
     * run is in progress (exit 1), not that the console is read-only. */
    cmd = sl_asprintf("cd '%s' && '%s' --write cancel orders --reason test 2>&1", W.dir,
                      tu_sluice_bin());
    rc = tu_run(cmd, &out);
    if (rc == 3 || !strstr(out, "SL-RUN-NOT-FOUND"))
        fail_msg("protected, --write: exit %d\n%s", rc, out);
    free(out);
    free(cmd);
    config_with(NULL);
}

/* Every mutating console action is an ops action that mutates: the ops
 * layer refuses it again in read-only mode and audits it whoever calls. */
static void test_actions_have_ops(void **state)
{
    (void)state;
    size_t n;
    const action_desc *t = actions_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & ACT_MUTATES))
            continue;
        const ops_desc *o = ops_find(t[i].name);
        if (!o)
            fail_msg("console action '%s' mutates but no ops action has its name",
                     t[i].name);
        if (!(o->flags & OPS_MUTATES))
            fail_msg("ops action '%s' is not marked mutating", t[i].name);
    }
}

/* ---- every mutating action, invoked normally ----------------------------- */

/* `sluice ARGS --json` in the demo, parsed. */
static json_t *cli_json(const char *args)
{
    char *cmd = sl_asprintf("cd '%s' && '%s' %s --json 2>/dev/null", W.dir,
                            tu_sluice_bin(), args);
    char *out = NULL;
    tu_run(cmd, &out);
    json_t *j = json_loads(out ? out : "", 0, NULL);
    if (!j)
        fail_msg("sluice %s: not JSON: %s", args, out ? out : "");
    free(out);
    free(cmd);
    return j;
}

/* The demo's failed folder and the run that failed it. */
static void failed_folder(char *folder, size_t fl, char *run, size_t rl)
{
    json_t *all = cli_json("folders orders");
    size_t i;
    json_t *f;
    folder[0] = run[0] = '\0';
    json_array_foreach(all, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "state")), "failed") == 0) {
            snprintf(folder, fl, "%s", json_string_value(json_object_get(f, "folder")));
            snprintf(run, rl, "%s", json_string_value(json_object_get(f, "run_id")));
        }
    }
    json_decref(all);
    if (!folder[0])
        fail_msg("the demo has no failed folder");
}

/* The run the console's last `run` made (its audit row's after state). */
static void last_console_run(char *run, size_t rl)
{
    json_t *rows = cli_json("audit list --action run");
    json_t *last = json_array_get(rows, json_array_size(rows) - 1);
    const char *id = json_string_value(
        json_object_get(json_object_get(last, "after_state"), "run_id"));
    if (!id)
        fail_msg("no run id in the last run's audit row");
    snprintf(run, rl, "%s", id);
    json_decref(rows);
}

/* The dialog's answer: the typed target (NULL: none asked), a reason,
 * then Right to the confirm button and Enter. */
static char *confirm_keys(const char *target)
{
    return sl_asprintf("%s%s%stype action enumeration\nkey Enter\nkey Right\nkey "
                       "Enter\nwait\n",
                       target ? "type " : "", target ? target : "",
                       target ? "\nkey Enter\n" : "");
}

/* The user's bindings from console.keys win in the console: the help shows
 * them and the key does the action, and the action's default key is free. */
static void test_user_key_bindings(void **state)
{
    (void)state;
    config_with(NULL);
    char *path = paths_join(W.dir, "sluice.json");
    char *text = tu_read_file(path);
    json_t *cfg = json_loads(text, 0, NULL);
    json_object_set_new(cfg, "console", json_pack("{s:{s:s}}", "keys", "skip", "K C-k"));
    char *out = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    tu_write_file(W.dir, "sluice.json", out);
    free(out);
    json_decref(cfg);
    free(text);
    free(path);
    char folder[32], run[40];
    failed_folder(folder, sizeof folder, run, sizeof run);
    char *script =
        sl_asprintf("view folders\nhelp\ndump @/keys.txt\nback\nfilter %s\n"
                    "key K\nwait\ndump @/skip.txt\nkey Esc\nkey S\ndump @/s.txt\n",
                    folder);
    sl_err err = {0};
    sl_code rc = tt_run_script(W.dir, script, 43, 132, NULL, &err);
    free(script);
    if (rc != SL_OK)
        fail_msg("script: %s", err.msg);
    char *keys = tt_read_dump(W.dir, "keys.txt");
    assert_non_null(keys);
    if (!strstr(keys, " K C-k      skip "))
        fail_msg("the help does not show the user's keys for skip:\n%s", keys);
    char *skip = tt_read_dump(W.dir, "skip.txt");
    char *want = sl_asprintf("Type %s to confirm", folder);
    if (!strstr(skip, want))
        fail_msg("K did not open the skip dialog:\n%s", skip);
    char *s = tt_read_dump(W.dir, "s.txt");
    if (!strstr(s, "key S does nothing here"))
        fail_msg("S still does something:\n%s", s);
    free(want);
    free(keys);
    free(skip);
    free(s);
    config_with(NULL);
}

/* The mouse (console.mouse): a click on a tab switches to it, a double
 * click on a row opens it, the wheel moves the selection. */
static void test_mouse(void **state)
{
    (void)state;
    config_with(NULL);
    /* At 80 columns the tabs are "[Overview] 2 3 ...": " 3 " spans 16-18. */
    const char *script = "view overview\nclick 1 17\nwait\ndump @/m1.txt\n"
                         "click 5 3 double\nwait\ndump @/m2.txt\nback\n"
                         "click 4 3\nenter\nwait\ndump @/m3.txt\nback\n"
                         "click 4 3\nclick 4 3 down\nenter\nwait\ndump @/m4.txt\n";
    sl_err err = {0};
    sl_code rc = tt_run_script(W.dir, script, 24, 80, NULL, &err);
    if (rc != SL_OK)
        fail_msg("script: %s", err.msg);
    char *m1 = tt_read_dump(W.dir, "m1.txt");
    if (!strstr(m1, "[Runs]"))
        fail_msg("a click on tab 3 did not open Runs:\n%s", m1);
    char *m2 = tt_read_dump(W.dir, "m2.txt");
    if (!strstr(m2, "Steps ("))
        fail_msg("a double click on a run did not open it:\n%s", m2);
    /* The wheel moved the selection: another run opens. */
    char *m3 = tt_read_dump(W.dir, "m3.txt"), *m4 = tt_read_dump(W.dir, "m4.txt");
    assert_non_null(strstr(m3, "Steps ("));
    assert_non_null(strstr(m4, "Steps ("));
    if (strcmp(m3, m4) == 0)
        fail_msg("the wheel did not move the selection:\n%s", m4);
    free(m4);
    assert_int_equal(tt_run_script(W.dir, "click 1 x\n", 24, 80, NULL, &err),
                     SL_TUI_SCRIPT);
    free(m1);
    free(m2);
    free(m3);
}

static void test_each_mutating_action_audited(void **state)
{
    (void)state;
    config_with(NULL);
    char folder[32], failed_run[40], run[40];
    failed_folder(folder, sizeof folder, failed_run, sizeof failed_run);
    /* The order matters: each leaves what the next needs. */
    static const char *const order[] = {
        "skip-file",    "retry",    "skip",   "reset",   "mark-processed", "run",
        "rollback-run", "optimize", "vacuum", "restore", "cancel"};
    size_t n;
    const action_desc *t = actions_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (!(t[i].flags & ACT_MUTATES))
            continue;
        size_t k = 0;
        while (k < sizeof order / sizeof order[0] && strcmp(order[k], t[i].name) != 0)
            k++;
        if (k == sizeof order / sizeof order[0])
            fail_msg(
                "mutating action '%s' has no scripted invocation here: add one, with "
                "its audit check",
                t[i].name);
    }
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        const char *a = order[k];
        char *open = NULL, *answer = NULL;
        if (strcmp(a, "optimize") == 0) {
            open = sl_strdup("view tables\nfilter orders_raw\nenter\noptimize\nwait\n");
            answer = confirm_keys(NULL);
        } else if (strcmp(a, "vacuum") == 0) {
            open = sl_strdup("view tables\nfilter orders_raw\nenter\nvacuum\nwait\n");
            answer = confirm_keys("orders_raw");
        } else if (strcmp(a, "restore") == 0) {
            open = sl_strdup("view tables\nfilter orders_raw\nenter\nrestore 1\nwait\n");
            answer = confirm_keys("orders_raw@1");
        } else if (strcmp(a, "skip-file") == 0) {
            char *key = sl_asprintf("%s/part-00000.jsonl", folder);
            open = sl_asprintf(
                "view folders\nfilter %s\nskip-file part-00000.jsonl\nwait\n", folder);
            answer = confirm_keys(key);
            free(key);
        } else if (strcmp(a, "retry") == 0) {
            open = sl_asprintf("view folders\nfilter %s\nretry\nwait\n", folder);
            answer = confirm_keys(failed_run);
        } else if (strcmp(a, "skip") == 0 || strcmp(a, "reset") == 0 ||
                   strcmp(a, "mark-processed") == 0) {
            open = sl_asprintf("view folders\nfilter %s\n%s\nwait\n", folder, a);
            answer = confirm_keys(folder);
        } else if (strcmp(a, "run") == 0) {
            open = sl_asprintf("view folders\nfilter %s\nrun\nwait\n", folder);
            answer = confirm_keys("orders");
        } else if (strcmp(a, "rollback-run") == 0) {
            last_console_run(run, sizeof run);
            open = sl_asprintf("view runs\nfilter %s\nrollback-run\nwait\n", run);
            answer = confirm_keys(run);
        } else { /* cancel: no run of this console; the lake's request */
            open = sl_strdup("view overview\ncancel\nwait\n");
            answer = confirm_keys(NULL);
        }
        size_t req0 = audit_rows(a, "requested");
        size_t end0 = audit_rows(a, "succeeded") + audit_rows(a, "failed");
        char *script = sl_asprintf("%s%s", open, answer);
        sl_err err = {0};
        /* Vacuum deletes what OPTIMIZE removed once the retention (7 days)
         * has passed, by the commit's time and the file's (real) mtime: the
         * clock is eight days past the real one for it. */
        if (strcmp(a, "vacuum") == 0) {
            char later[32];
            snprintf(later, sizeof later, "%lld",
                     (long long)time(NULL) * 1000 + 8LL * 24 * 3600 * 1000);
            setenv("SLUICE_FAKE_NOW_MS", later, 1);
        }
        sl_code rc = tt_run_script(W.dir, script, 24, 80, NULL, &err);
        setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
        if (rc != SL_OK)
            fail_msg("'%s': the script failed: %s %s\n%s", a, err_code_name(rc), err.msg,
                     script);
        size_t req1 = audit_rows(a, "requested");
        size_t end1 = audit_rows(a, "succeeded") + audit_rows(a, "failed");
        if (req1 != req0 + 1 || end1 != end0 + 1)
            fail_msg(
                "'%s' invoked from the console: %zu requested and %zu succeeded/failed "
                "rows were added (1 and 1 expected)\n%s",
                a, req1 - req0, end1 - end0, script);
        free(script);
        free(open);
        free(answer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions_have_ops),
        cmocka_unit_test(test_read_only_config),
        cmocka_unit_test(test_protected_environment),
        cmocka_unit_test(test_protected_cli),
        cmocka_unit_test(test_user_key_bindings),
        cmocka_unit_test(test_mouse),
        cmocka_unit_test(test_each_mutating_action_audited),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
