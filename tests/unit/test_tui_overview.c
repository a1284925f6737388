/* The Overview on the demo lake (`sluice demo`: 26 folders processed, 1
 * failed, 8 pending, 1 waiting; pinned clock): screen dumps at 80x24 and
 * 132x43, the failure named in the first line, the numbers the backend
 * computes (pl_overview_load) against the checkpoint read through the CLI,
 * `sluice status` unchanged by the move of its computation into
 * backend/pipeline/status.c, and Enter opening the pipeline's runs.
 * Run ids are random: dumps show them as RUNID00000000001... (oldest run
 * first). SLUICE_TUI_UPDATE_EXPECTED=1 rewrites the expected dumps. */
#include "testutil.h"
#include "tuitest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/ops/session.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/demo.h"
#include "backend/pipeline/status.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define NOW_MS 1700010000000LL
#define NOW_TEXT "1700010000000"

typedef struct world {
    char *tmp; /* tu_mkdtemp */
    char *dir; /* tmp/demo: the config and the dumps */
    char *cfg;
    json_t *summary;
} world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    W.tmp = tu_mkdtemp("tuiov");
    char *sd = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", sd, 1);
    free(sd);
    W.dir = paths_join(W.tmp, "demo");
    W.cfg = paths_join(W.dir, "sluice.json");
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    sl_err err = {0};
    if (demo_create(&o, &W.summary, &err) != SL_OK) {
        fprintf(stderr, "demo_create: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(W.summary);
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(W.tmp);
    free(W.tmp);
    free(W.dir);
    free(W.cfg);
    return 0;
}

static void run_ok(const char *script)
{
    sl_err err = {0};
    sl_code c = tt_run_script(W.dir, script, 24, 80, "dark", &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

/* Rewrites dir/name with the demo's random run ids replaced by stable ones. */
static void mask_run_ids(const char *name)
{
    char *path = paths_join(W.dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(W.summary, "runs"), i, r)
    {
        const char *id = json_string_value(json_object_get(r, "run_id"));
        char mask[32];
        snprintf(mask, sizeof mask, "RUNID%011zu", i + 1);
        assert_int_equal(strlen(id), strlen(mask));
        for (char *p = strstr(text, id); p; p = strstr(p, id))
            memcpy(p, mask, strlen(mask));
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    free(path);
}

static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

/* The n-th line (0-based) of a dump; caller frees. */
static char *line_of(const char *text, int n)
{
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    return sl_asprintf("%.*s", (int)strcspn(p, "\n"), p);
}

static void test_dumps(void **state)
{
    (void)state;
    run_ok("view overview\n"
           "wait\n"
           "dump @/overview-80x24.txt\n"
           "resize 43 132\n"
           "wait\n"
           "dump @/overview-132x43.txt\n");
    mask_run_ids("overview-80x24.txt");
    mask_run_ids("overview-132x43.txt");
    tt_expect_dump(W.dir, "overview-80x24.txt", 24);
    tt_expect_dump(W.dir, "overview-132x43.txt", 43);
    /* The failure is the first line under the tabs, naming the folder. */
    char *d = tt_read_dump(W.dir, "overview-132x43.txt");
    char *first = line_of(d, 2);
    const char *bad = json_string_value(json_object_get(W.summary, "failed_folder"));
    expect_in(first, "✗ 1 of 1 pipeline failed");
    expect_in(first, bad);
    expect_in(first, "SL-EXPECTATION-FAILED");
    expect_in(d, "orders FAILED  8 pending · 1 waiting · 26 processed · 1 failed");
    expect_in(d, "Lag       12h00m  oldest pending");
    free(first);
    free(d);
}

/* The backend's numbers against the checkpoint as `sluice folders --json`
 * shows it: today's counts and rows, the sparkline, lag, alerts. */
static void test_overview_numbers(void **state)
{
    (void)state;
    config *cfg = NULL;
    sl_err err = {0};
    assert_int_equal(config_load(W.cfg, &cfg, &err), SL_OK);
    pipeline_def *d = NULL;
    assert_int_equal(config_pipeline_load(cfg, DEMO_PIPELINE, &d, &err), SL_OK);
    pl_overview o;
    assert_int_equal(pl_overview_load(d, NULL, NOW_MS, 24, &o, &err), SL_OK);

    char *cmd =
        sl_asprintf("%s -c %s folders %s --json", tu_sluice_bin(), W.cfg, DEMO_PIPELINE);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *folders = json_loads(out, 0, NULL);
    assert_non_null(folders);
    int64_t rows[64], sum = 0;
    size_t nproc = 0, i;
    json_t *f;
    json_array_foreach(folders, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "state")), "processed"))
            continue;
        int64_t r = json_integer_value(json_object_get(f, "rows"));
        sum += r;
        if (nproc < 64)
            rows[nproc] = r;
        nproc++;
    }
    assert_int_equal(nproc, 26);
    /* Everything was processed at the pinned "now", so all of it is today. */
    assert_int_equal(o.today_processed, 26);
    assert_int_equal(o.today_failed, 1);
    assert_int_equal(o.today_rows, sum);
    assert_int_equal(o.nspark, 24);
    for (size_t k = 0; k < 24; k++)
        assert_int_equal(o.spark[k], rows[nproc - 24 + k]);
    assert_string_equal(o.state, "failed");
    assert_int_equal(o.st.counts[PL_PENDING], 8);
    assert_int_equal(o.st.counts[PL_FAILED], 1);
    assert_int_equal(o.st.lag_seconds, 12 * 3600);
    assert_true(o.has_last_run);
    assert_string_equal(o.last_run.state, "failed");
    assert_string_equal(o.last_run.error_code, "SL-EXPECTATION-FAILED");
    /* One alert: the failed folder (its failed step is the same news). */
    assert_int_equal(o.nalerts, 1);
    assert_true(o.alerts[0].critical);
    assert_non_null(strstr(o.alerts[0].text, json_string_value(json_object_get(
                                                 W.summary, "failed_folder"))));
    pl_overview_free(&o);
    json_decref(folders);
    free(out);
    free(cmd);
    pipeline_def_free(d);
    config_free(cfg);
}

/* `sluice status` prints what it printed before status.c took its code. */
static void test_cli_status_unchanged(void **state)
{
    (void)state;
    char *cmd = sl_asprintf("%s -c %s status", tu_sluice_bin(), W.cfg);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_string_equal(out,
                        "orders           failed   pending 8, waiting 1, processed 26, "
                        "failed 1, skipped 0\n");
    free(out);
    free(cmd);
    cmd = sl_asprintf("%s -c %s status --json", tu_sluice_bin(), W.cfg);
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    char *compact = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(
        compact, "[{\"pipeline\":\"orders\",\"state\":\"failed\",\"folders\":{"
                 "\"pending\":8,\"waiting\":1,\"running\":0,\"processed\":26,"
                 "\"failed\":1,\"skipped\":0},\"lag_seconds\":43200,\"lease\":null}]");
    free(compact);
    json_decref(j);
    free(out);
    free(cmd);
}

/* Enter on a pipeline pushes the Runs view filtered to it. */
static void test_enter_opens_runs(void **state)
{
    (void)state;
    run_ok("view overview\n"
           "wait\n"
           "enter\n"
           "wait\n"
           "resize 43 132\n"
           "dump @/ov-enter.txt\n");
    mask_run_ids("ov-enter.txt");
    char *d = tt_read_dump(W.dir, "ov-enter.txt");
    expect_in(d, "Runs of orders");
    expect_in(d, "3 runs · 1 failed");
    expect_in(d, "where pipeline=orders");
    expect_in(d, "RUNID00000000003 orders");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dumps),
        cmocka_unit_test(test_overview_numbers),
        cmocka_unit_test(test_cli_status_unchanged),
        cmocka_unit_test(test_enter_opens_runs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
