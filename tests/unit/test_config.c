/* sluice.json: accepted keys, unknown keys named, defaults, resolution of
 * relative locations, table lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
