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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions_have_ops),
        cmocka_unit_test(test_read_only_config),
        cmocka_unit_test(test_protected_environment),
        cmocka_unit_test(test_protected_cli),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
