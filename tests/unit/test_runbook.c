/* Runbooks: every shipped runbook parses; malformed ones fail with
 * file:line and say what is wrong; the directory is found the documented
 * way; the runbook.start / runbook.step ops events are audited, allowed in
 * a read-only session, and refuse events that could not be linked. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/runbook.h"

static char *shipped_dir(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    assert_non_null(src);
    return sl_asprintf("%s/docs/runbooks", src);
}

static const runbook *by_id(runbook **rbs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rbs[i]->id, id) == 0)
            return rbs[i];
    fail_msg("runbook %s is not shipped", id);
    return NULL;
}

static void test_shipped_runbooks_parse(void **state)
{
    (void)state;
    char *dir = shipped_dir();
    runbook **rbs = NULL;
    size_t n = 0;
    sl_err err = {0};
    sl_code c = runbook_load_dir(dir, &rbs, &n, &err);
    if (c != SL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 5); /* README.md is not a runbook */
    static const char *const ids[] = {"failed-ingest", "bad-silver-data",
                                      "checkpoint-drift", "stuck-lease", "vacuum-window"};
    for (size_t i = 0; i < 5; i++) {
        const runbook *rb = by_id(rbs, n, ids[i]);
        assert_true(strlen(rb->title) > 0);
        assert_true(strlen(rb->summary) > 0);
        assert_true(rb->nsteps >= 3);
        for (size_t s = 0; s < rb->nsteps; s++) {
            assert_true(strlen(rb->steps[s].title) > 0);
            assert_true(strlen(rb->steps[s].text) > 20);
            assert_true(rb->steps[s].line > 1);
        }
    }
    /* Sorted by file name. */
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(rbs[i - 1]->id, rbs[i]->id) < 0);
    const runbook *fi = by_id(rbs, n, "failed-ingest");
    assert_string_equal(fi->title, "Failed ingest step");
    assert_int_equal(fi->nsteps, 5);
    assert_int_equal(fi->steps[0].show, RB_PANEL_FAILED_FOLDERS);
    assert_int_equal(fi->steps[0].action, RB_ACT_NONE);
    assert_int_equal(fi->steps[1].action, RB_ACT_NOTE);
    assert_int_equal(fi->steps[2].action, RB_ACT_SKIP);
    assert_int_equal(fi->steps[3].action, RB_ACT_RETRY);
    assert_int_equal(fi->steps[4].action, RB_ACT_RUN);
    /* Paragraphs kept, lines of a paragraph joined. */
    assert_non_null(strstr(fi->steps[0].text, "involved.\n\nFolders after"));
    assert_null(strstr(fi->steps[0].text, "show:"));
    /* Each of the five situations shows its own live state. */
    assert_int_equal(by_id(rbs, n, "bad-silver-data")->steps[0].show,
                     RB_PANEL_SILVER_HISTORY);
    assert_int_equal(by_id(rbs, n, "checkpoint-drift")->steps[0].show,
                     RB_PANEL_CONSISTENCY);
    assert_int_equal(by_id(rbs, n, "stuck-lease")->steps[0].show, RB_PANEL_LEASE);
    assert_int_equal(by_id(rbs, n, "vacuum-window")->steps[0].show, RB_PANEL_VACUUM);
    assert_int_equal(by_id(rbs, n, "vacuum-window")->steps[1].action,
                     RB_ACT_VACUUM_CHECK);
    runbooks_free(rbs, n);
    free(dir);
}

/* Every panel and action name the README lists is known to the parser. */
static void test_names_match_readme(void **state)
{
    (void)state;
    char *dir = shipped_dir();
    char *path = sl_asprintf("%s/README.md", dir);
    char *readme = tu_read_file(path);
    assert_non_null(readme);
    for (int p = 0; p < RB_PANEL_COUNT; p++) {
        char *item = sl_asprintf("`%s`", runbook_panel_name((rb_panel)p));
        if (!strstr(readme, item))
            fail_msg("README.md does not describe panel %s", item);
        free(item);
    }
    for (int a = 0; a < RB_ACT_COUNT; a++) {
        char *item = sl_asprintf("`%s`", runbook_action_name((rb_action)a));
        if (!strstr(readme, item))
            fail_msg("README.md does not describe action %s", item);
        free(item);
    }
    assert_non_null(strstr(readme, "SLUICE_RUNBOOKS_DIR"));
    free(readme);
    free(path);
    free(dir);
}

#define HEAD "# T\nsummary: s\n"
#define STEP(title) "## " title "\nshow: none\naction: none\n\nSome text.\n"

static const struct {
    const char *text;
    const char *want; /* the message starts with "bad.md:" + this */
} malformed[] = {
    {"", "1: the file ends before its title"},
    {"Title without hash\n", "1: a runbook starts with its title"},
    {"# \n", "1: a runbook starts with its title"},
    {"# T\n", "2: the file ends before its summary line"},
    {"# T\n\nnot a summary\n", "3: expected \"summary: one line"},
    {"# T\nsummary:   \n", "2: expected \"summary: one line"},
    {HEAD, "3: a runbook needs at least one step"},
    {HEAD "stray text\n" STEP("A"), "3: text outside a step"},
    {"# T\n## A\n", "2: the summary line (\"summary: ...\") comes before the steps"},
    {HEAD "## \n", "3: a step needs a title"},
    {HEAD "## A\naction: none\n", "4: expected \"show: ...\" here"},
    {HEAD "## A\nshow: weather\n",
     "4: unknown show 'weather' (one of: none, failed-folders"},
    {HEAD "## A\nshow: lease\naction: delete-all\n",
     "5: unknown action 'delete-all' (one of: none, note, retry"},
    {HEAD "## A\nshow: lease\n## B\n",
     "5: expected \"action: ...\" before the next step"},
    {HEAD "## A\nshow: none\naction: none\nText at once.\n",
     "6: a blank line separates the directives from the text"},
    {HEAD "## A\nshow: none\naction: none\n\n" STEP("B"),
     "3: step \"A\" has no explanation text"},
    {HEAD STEP("A") "## B\nshow: none\naction: none\n",
     "8: step \"B\" has no explanation"},
    {HEAD STEP("A") "\naction: note\n", "9: a directive inside the explanation"},
    {HEAD STEP("A") "### Sub heading\n", "8: only the first line is a \"# \" title"},
    {HEAD STEP("A") "# Another title\n", "8: only the first line is a \"# \" title"},
    {HEAD "## A\nshow:none\naction: none\n\nx\n", NULL}, /* spaces are optional: valid */
};

static void test_malformed_fail_with_file_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        runbook *rb = (runbook *)1;
        sl_err err = {0};
        sl_code c = runbook_parse(malformed[i].text, "docs/bad.md", &rb, &err);
        if (!malformed[i].want) {
            assert_int_equal(c, SL_OK);
            runbook_free(rb);
            continue;
        }
        char *want = sl_asprintf("docs/bad.md:%s", malformed[i].want);
        if (c != SL_RUNBOOK_INVALID || strncmp(err.msg, want, strlen(want)) != 0)
            fail_msg("case %zu: got %s \"%s\", want \"%s...\"", i, err_code_name(c),
                     err.msg, want);
        assert_null(rb);
        free(want);
    }
}

static void test_too_many_steps(void **state)
{
    (void)state;
    sl_buf b = {0};
    buf_append_str(&b, HEAD);
    for (int i = 0; i <= RB_MAX_STEPS; i++)
        buf_append_str(&b, STEP("S"));
    buf_append_char(&b, '\0');
    runbook *rb = NULL;
    sl_err err = {0};
    assert_int_equal(runbook_parse(b.data, "many.md", &rb, &err), SL_RUNBOOK_INVALID);
    /* The 21st step starts after the header (2 lines) and 20 steps of 5. */
    assert_non_null(strstr(err.msg, "many.md:103: more than 20 steps"));
    buf_free(&b);
}

static void test_valid_runbook_fields(void **state)
{
    (void)state;
    const char *text = "# Fix it\r\n"
                       "summary: when it broke\n"
                       "\n"
                       "## First\n"
                       "show: consistency\n"
                       "action: reset\n"
                       "\n"
                       "Line one\n"
                       "line two.\n"
                       "\n"
                       "\n"
                       "Second paragraph.\n"
                       "\n"
                       "## Second\n"
                       "show: vacuum-horizon\n"
                       "action: vacuum-check\n"
                       "\n"
                       "Only text.";
    runbook *rb = NULL;
    sl_err err = {0};
    assert_int_equal(runbook_parse(text, "/x/y/fix-it.md", &rb, &err), SL_OK);
    assert_string_equal(rb->id, "fix-it");
    assert_string_equal(rb->title, "Fix it");
    assert_string_equal(rb->summary, "when it broke");
    assert_int_equal(rb->nsteps, 2);
    assert_string_equal(rb->steps[0].title, "First");
    assert_int_equal(rb->steps[0].line, 4);
    assert_int_equal(rb->steps[0].show, RB_PANEL_CONSISTENCY);
    assert_int_equal(rb->steps[0].action, RB_ACT_RESET);
    assert_string_equal(rb->steps[0].text, "Line one\nline two.\n\nSecond paragraph.");
    assert_int_equal(rb->steps[1].action, RB_ACT_VACUUM_CHECK);
    assert_string_equal(rb->steps[1].text, "Only text.");
    runbook_free(rb);
}

static void test_dir_find_and_broken_dir(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("rbdir");
    tu_write_file(dir, "README.md", "not a runbook at all\n");
    tu_write_file(dir, "a-good.md", HEAD STEP("A"));
    tu_write_file(dir, "notes.txt", "ignored\n");
    setenv("SLUICE_RUNBOOKS_DIR", dir, 1);
    char *found = runbook_dir_find();
    assert_string_equal(found, dir);
    runbook **rbs = NULL;
    size_t n = 0;
    sl_err err = {0};
    assert_int_equal(runbook_load_dir(found, &rbs, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rbs[0]->id, "a-good");
    runbooks_free(rbs, n);
    tu_write_file(dir, "b-broken.md", HEAD "## A\nshow: nowhere\n");
    assert_int_equal(runbook_load_dir(found, &rbs, &n, &err), SL_RUNBOOK_INVALID);
    assert_non_null(strstr(err.msg, "b-broken.md:4: unknown show 'nowhere'"));
    assert_null(rbs);
    unsetenv("SLUICE_RUNBOOKS_DIR");
    free(found);
    /* Without the variable, the source tree's folder (as for a build-tree binary). */
    found = runbook_dir_find();
    assert_non_null(found);
    char *shipped = shipped_dir();
    assert_string_equal(found, shipped);
    free(shipped);
    free(found);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the audit events -------------------------------------------------- */

typedef struct ops_world {
    char *dir;
    audit_log *audit;
    ops_ctx ctx;
} ops_world;

static void ops_world_open(ops_world *w, int read_only)
{
    w->dir = tu_mkdtemp("rbops");
    char *db = paths_join(w->dir, "audit.db");
    sl_err err = {0};
    assert_int_equal(audit_open(db, &w->audit, &err), SL_OK);
    free(db);
    w->ctx = (ops_ctx){.audit = w->audit,
                       .operator_name = "tester",
                       .host = "testhost",
                       .session_id = "s1",
                       .channel = "console",
                       .read_only = read_only};
}

static void ops_world_close(ops_world *w)
{
    audit_close(w->audit);
    tu_rmtree(w->dir);
    free(w->dir);
}

static sl_code event(ops_world *w, const char *name, const char *target,
                     const char *reason, const char *params_text, sl_err *err)
{
    json_t *params = json_loads(params_text, 0, NULL);
    assert_non_null(params);
    ops_request req = {.target = target, .reason = reason, .params = params};
    ops_result res;
    sl_code c = ops_run(&w->ctx, name, &req, &res, err);
    ops_result_clear(&res);
    json_decref(params);
    return c;
}

static void test_ops_events_read_only(void **state)
{
    (void)state;
    ops_world w;
    ops_world_open(&w, 1);
    sl_err err = {0};
    assert_int_equal(event(&w, "runbook.start", "failed-ingest", NULL,
                           "{\"runbook_run\":\"ab12\",\"steps\":5}", &err),
                     SL_OK);
    assert_int_equal(
        event(&w, "runbook.step", "failed-ingest", "not needed tonight",
              "{\"runbook_run\":\"ab12\",\"step\":1,\"outcome\":\"skipped\"}", &err),
        SL_OK);
    /* Unlinked or unknown outcomes are refused by the handler (failed row). */
    assert_int_equal(event(&w, "runbook.step", "failed-ingest", NULL,
                           "{\"step\":1,\"outcome\":\"done\"}", &err),
                     SL_USAGE);
    assert_non_null(strstr(err.msg, "runbook_run"));
    assert_int_equal(event(&w, "runbook.step", "failed-ingest", NULL,
                           "{\"runbook_run\":\"ab12\",\"step\":0,\"outcome\":\"done\"}",
                           &err),
                     SL_USAGE);
    assert_int_equal(event(&w, "runbook.step", "failed-ingest", NULL,
                           "{\"runbook_run\":\"ab12\",\"step\":2,\"outcome\":\"maybe\"}",
                           &err),
                     SL_USAGE);
    /* The mutating action a step offers is refused in this session. */
    assert_int_equal(event(&w, "skip", "1699977600", "bad rows",
                           "{\"runbook_run\":\"ab12\",\"pipeline\":\"orders\"}", &err),
                     SL_OPS_READ_ONLY);
    audit_filter f = {0};
    audit_event *evs = NULL;
    size_t n = 0;
    assert_int_equal(audit_query(w.audit, &f, &evs, &n, &err), SL_OK);
    /* start: 2, step ok: 2, three failed steps: 6, skip refused: 1 */
    assert_int_equal(n, 11);
    size_t linked = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(evs[i].params, "\"runbook_run\":\"ab12\""))
            linked++;
    assert_int_equal(linked, 9);
    int saw_refused = 0, saw_skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i].action, "skip") == 0) {
            assert_string_equal(evs[i].phase, "refused");
            assert_string_equal(evs[i].error_code, "SL-OPS-READ-ONLY");
            saw_refused = 1;
        }
        if (strcmp(evs[i].action, "runbook.step") == 0 &&
            strcmp(evs[i].phase, "succeeded") == 0) {
            assert_string_equal(evs[i].reason, "not needed tonight");
            assert_string_equal(evs[i].target, "failed-ingest");
            assert_non_null(strstr(evs[i].params, "\"outcome\":\"skipped\""));
            saw_skipped = 1;
        }
    }
    assert_true(saw_refused && saw_skipped);
    audit_events_free(evs, n);
    ops_world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_runbooks_parse),
        cmocka_unit_test(test_names_match_readme),
        cmocka_unit_test(test_malformed_fail_with_file_line),
        cmocka_unit_test(test_too_many_steps),
        cmocka_unit_test(test_valid_runbook_fields),
        cmocka_unit_test(test_dir_find_and_broken_dir),
        cmocka_unit_test(test_ops_events_read_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
