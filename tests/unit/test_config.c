/* sluice.json: accepted keys, unknown keys named, defaults, resolution of
 * relative locations, table lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
#include "backend/pipeline/pipeline_def.h"
#include "testutil.h"

static void test_full_config(void **state)
{
    (void)state;
    config *c = NULL;
    sl_err e = {0};
    const char *text =
        "{\"environment\":\"prod\",\"source\":\"in\",\"lake\":\"/data/lake\","
        "\"tables\":{\"orders\":\"silver/orders\",\"raw\":\"file:///x/raw\"},"
        "\"theme\":\"light\",\"read_only\":true}";
    assert_int_equal(config_parse(text, "/etc/sl/sluice.json", &c, &e), SL_OK);
    assert_string_equal(c->environment, "prod");
    assert_string_equal(c->banner_color, "red"); /* prod defaults to red */
    assert_string_equal(c->source_url, "/etc/sl/in");
    assert_string_equal(c->lake_url, "/data/lake");
    assert_int_equal(c->ntables, 2);
    assert_string_equal(c->theme, "light");
    assert_true(c->read_only);
    char *url = NULL;
    assert_int_equal(config_table_url(c, "orders", &url, &e), SL_OK);
    assert_string_equal(url, "/data/lake/silver/orders");
    free(url);
    assert_int_equal(config_table_url(c, "raw", &url, &e), SL_OK);
    assert_string_equal(url, "file:///x/raw");
    free(url);
    assert_int_equal(config_table_url(c, "nope", &url, &e), SL_TABLE_UNKNOWN);
    assert_non_null(strstr(e.msg, "nope"));
    assert_int_equal(config_table_url(c, "/some/path", &url, &e), SL_OK);
    free(url);
    config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(config_parse("{}", "/a/sluice.json", &c, &e), SL_OK);
    assert_string_equal(c->environment, "dev");
    assert_string_equal(c->banner_color, "blue");
    assert_string_equal(c->theme, "dark");
    assert_false(c->read_only);
    assert_null(c->source_url);
    config_free(c);
}

static void expect_invalid(const char *text, const char *needle)
{
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(config_parse(text, "/a/sluice.json", &c, &e), SL_CONFIG_INVALID);
    assert_null(c);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, needle);
    assert_non_null(strstr(e.msg, needle));
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("{\"enviroment\":\"prod\"}", "\"enviroment\"");
    expect_invalid("{\"banner_color\":\"pink\"}", "pink");
    expect_invalid("{\"read_only\":\"yes\"}", "read_only");
    expect_invalid("{\"tables\":[\"a\"]}", "tables");
    expect_invalid("{\"tables\":{\"a\":3}}", "\"a\"");
    expect_invalid("{\"source\":5}", "source");
    expect_invalid("{\n\"a\":\n}", "sluice.json:3");
    expect_invalid("[1]", "object");
    expect_invalid("{\"theme\":\"dark\",\"theme\":\"light\"}", "theme");
    expect_invalid("{\"pipelines\":\"p.json\"}", "\"pipelines\" must be an array");
    expect_invalid("{\"pipelines\":[\"a.json\",3]}", "pipelines[1]");
    expect_invalid("{\"pipelines\":[\"\"]}", "pipelines[0]");
    expect_invalid("{\"pipelines\":[\"s3://b/p.json\"]}", "not URLs");
    expect_invalid("{\"pipelines\":[\"p/a.json\",\"/a/p/a.json\"]}",
                   "pipelines[1] lists \"/a/p/a.json\" a second time");
}

/* The console block: refresh, mouse, user bindings, health thresholds;
 * "protected" environments; every mistake named. */
static void test_console_block(void **state)
{
    (void)state;
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(
        config_parse("{\"protected\": true, \"console\": {\"refresh_seconds\": 0, "
                     "\"mouse\": true, \"keys\": {\"retry\": \"T\", \"skip\": \"\"}, "
                     "\"thresholds\": {\"cpu_pct\": [50, 60.5]}}}",
                     "/a/sluice.json", &c, &e),
        SL_OK);
    assert_true(c->protected_env);
    assert_int_equal(c->console.refresh_seconds, 0);
    assert_true(c->console.mouse);
    assert_int_equal(c->console.nkeys, 2);
    assert_string_equal(c->console.keys[0].action, "retry");
    assert_string_equal(c->console.keys[0].keys, "T");
    assert_string_equal(c->console.keys[1].keys, "");
    double w, k;
    assert_true(config_threshold_get(c, "cpu_pct", &w, &k));
    assert_true(w == 50 && k == 60.5);
    /* Not set: the defaults. */
    assert_true(config_threshold_get(c, "lag_minutes", &w, &k));
    assert_true(w == 60 && k == 240);
    assert_false(config_threshold_get(c, "nope", &w, &k));
    config_free(c);
    assert_int_equal(config_parse("{}", "/a/sluice.json", &c, &e), SL_OK);
    assert_int_equal(c->console.refresh_seconds, 10);
    assert_false(c->console.mouse);
    assert_false(c->protected_env);
    config_free(c);
    expect_invalid("{\"console\": {\"colour\": 1}}", "console.colour");
    expect_invalid("{\"console\": {\"refresh_seconds\": -1}}", "refresh_seconds");
    expect_invalid("{\"console\": {\"refresh_seconds\": 2.5}}", "refresh_seconds");
    expect_invalid("{\"console\": {\"mouse\": 1}}", "console.mouse");
    expect_invalid("{\"console\": {\"keys\": {\"retry\": 5}}}", "console.keys.retry");
    expect_invalid("{\"console\": {\"thresholds\": {\"gpu_pct\": [1, 2]}}}", "gpu_pct");
    expect_invalid("{\"console\": {\"thresholds\": {\"cpu_pct\": [90, 80]}}}",
                   "warn <= crit");
    expect_invalid("{\"console\": {\"thresholds\": {\"cpu_pct\": [90]}}}",
                   "[warn, crit]");
    expect_invalid("{\"protected\": \"yes\"}", "protected");
    expect_invalid("{\"console\": []}", "\"console\" must be an object");
}

static void test_pipelines_list(void **state)
{
    (void)state;
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(config_parse("{\"pipelines\":[\"pipelines/orders.json\","
                                  "\"/abs/c.json\"]}",
                                  "/etc/sl/sluice.json", &c, &e),
                     SL_OK);
    assert_int_equal(c->npipelines, 2);
    assert_string_equal(c->pipelines[0], "/etc/sl/pipelines/orders.json");
    assert_string_equal(c->pipelines[1], "/abs/c.json");
    config_free(c);
    assert_int_equal(config_parse("{}", "/etc/sl/sluice.json", &c, &e), SL_OK);
    assert_int_equal(c->npipelines, 0);
    config_free(c);
    char *r = config_resolve_location("/base", "x/y");
    assert_string_equal(r, "/base/x/y");
    free(r);
    r = config_resolve_location("/base", "file:///z");
    assert_string_equal(r, "file:///z");
    free(r);
    r = config_resolve_location(NULL, "rel");
    assert_string_equal(r, "rel");
    free(r);
}

#define PIPELINE(name, extra)                                                            \
    "{\"name\": \"" name "\", \"source\": {\"url\": \"in/" name "\"}, "                  \
    "\"bronze\": {\"table\": \"" name "_raw\", \"schema\": {\"id\": \"long\"}}" extra    \
    "}"

static config *write_setup(const char *dir, const char *pipelines_json)
{
    char *text = NULL;
    size_t n = strlen(pipelines_json) + 64;
    text = malloc(n);
    snprintf(text, n, "{\"lake\": \"lake\", \"pipelines\": %s}", pipelines_json);
    tu_write_file(dir, "sluice.json", text);
    free(text);
    char path[4096];
    snprintf(path, sizeof path, "%s/sluice.json", dir);
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(config_load(path, &c, &e), SL_OK);
    return c;
}

static void test_pipeline_load(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("config_pl");
    char *real = realpath(dir, NULL);
    tu_write_file(dir, "pipelines/orders.json", PIPELINE("orders", ""));
    tu_write_file(dir, "pipelines/customers.json",
                  PIPELINE("customers", ", \"lake\": \"/other/lake\""));
    tu_write_file(dir, "pipelines/broken.json", PIPELINE("broken", ", \"sideways\": 1"));
    tu_write_file(dir, "pipelines/dup.json", PIPELINE("orders", ""));
    sl_err e = {0};
    pipeline_def *d = NULL;

    config *c =
        write_setup(dir, "[\"pipelines/orders.json\", \"pipelines/customers.json\"]");
    assert_int_equal(config_pipeline_load(c, "orders", &d, &e), SL_OK);
    assert_string_equal(d->name, "orders");
    char want[4200];
    snprintf(want, sizeof want, "%s/in/orders", real); /* against sluice.json's dir */
    assert_string_equal(d->source.url, want);
    snprintf(want, sizeof want, "%s/lake", real); /* sluice.json's lake */
    assert_string_equal(d->lake_url, want);
    pipeline_def_free(d);
    assert_int_equal(config_pipeline_load(c, "customers", &d, &e), SL_OK);
    assert_string_equal(d->lake_url, "/other/lake");
    pipeline_def_free(d);
    assert_int_equal(config_pipeline_load(c, "nope", &d, &e), SL_PIPELINE_UNKNOWN);
    assert_null(d);
    assert_non_null(strstr(e.msg, "\"nope\""));
    assert_non_null(strstr(e.msg, "orders, customers"));
    pipeline_def **all = NULL;
    size_t n = 0;
    assert_int_equal(config_pipelines_load_all(c, &all, &n, &e), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(all[0]->name, "orders");
    assert_string_equal(all[1]->name, "customers");
    config_pipelines_free(all, n);
    config_free(c);

    /* A broken file does not hide a sound one, but is reported when the name
     * is found nowhere, and fails load_all. */
    c = write_setup(dir, "[\"pipelines/broken.json\", \"pipelines/orders.json\"]");
    assert_int_equal(config_pipeline_load(c, "orders", &d, &e), SL_OK);
    assert_string_equal(d->name, "orders");
    pipeline_def_free(d);
    assert_int_equal(config_pipeline_load(c, "broken", &d, &e), SL_PIPELINE_INVALID);
    assert_null(d);
    assert_non_null(strstr(e.msg, "broken.json: sideways: unknown key"));
    assert_int_equal(config_pipelines_load_all(c, &all, &n, &e), SL_PIPELINE_INVALID);
    assert_null(all);
    assert_int_equal(n, 0);
    assert_non_null(strstr(e.msg, "sideways"));
    config_free(c);

    /* Two files with one name; a missing file. */
    c = write_setup(dir, "[\"pipelines/orders.json\", \"pipelines/dup.json\"]");
    assert_int_equal(config_pipeline_load(c, "orders", &d, &e), SL_PIPELINE_INVALID);
    assert_non_null(strstr(e.msg, "\"orders\" is defined twice"));
    assert_int_equal(config_pipelines_load_all(c, &all, &n, &e), SL_PIPELINE_INVALID);
    config_free(c);
    c = write_setup(dir, "[\"pipelines/gone.json\"]");
    assert_int_equal(config_pipeline_load(c, "gone", &d, &e), SL_PIPELINE_INVALID);
    assert_non_null(strstr(e.msg, "gone.json"));
    config_free(c);
    c = write_setup(dir, "[]");
    assert_int_equal(config_pipeline_load(c, "orders", &d, &e), SL_PIPELINE_UNKNOWN);
    assert_non_null(strstr(e.msg, "it lists none"));
    config_free(c);
    tu_rmtree(dir);
    free(real);
    free(dir);
}

static void test_load_default_and_env(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("config");
    tu_write_file(dir, "sub/sluice.json",
                  "{\"environment\":\"staging\",\"source\":\"../in\"}");
    char path[4096];
    snprintf(path, sizeof path, "%s/sub/sluice.json", dir);
    config *c = NULL;
    sl_err e = {0};
    assert_int_equal(config_load_default(path, &c, &e), SL_OK);
    assert_string_equal(c->environment, "staging");
    char want[4200];
    snprintf(want, sizeof want, "%s/sub/../in", dir);
    assert_string_equal(c->source_url, want);
    config_free(c);
    setenv("SLUICE_CONFIG", path, 1);
    assert_int_equal(config_load_default(NULL, &c, &e), SL_OK);
    config_free(c);
    unsetenv("SLUICE_CONFIG");
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(config_load_default(path, &c, &e), SL_CONFIG_NOT_FOUND);
    assert_non_null(strstr(e.msg, "missing.json"));
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_load_default_and_env),
        cmocka_unit_test(test_pipelines_list),
        cmocka_unit_test(test_console_block),
        cmocka_unit_test(test_pipeline_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
