/* The error table: codes are stable and well-formed, exit codes are the
 * documented five, and docs/errors.md is exactly what the table generates. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/err.h"
#include "testutil.h"

static void test_codes_well_formed_and_unique(void **state)
{
    (void)state;
    for (int i = 0; i < SL_CODE_COUNT; i++) {
        const char *name = err_code_name((sl_code)i);
        assert_true(strncmp(name, "SL-", 3) == 0);
        for (const char *p = name; *p; p++)
            assert_true(isupper((unsigned char)*p) || isdigit((unsigned char)*p) ||
                        *p == '-');
        assert_true(strlen(err_code_hint((sl_code)i)) > 5);
        int ex = err_code_exit((sl_code)i);
        assert_true(ex >= 0 && ex <= 4);
        assert_int_equal(err_code_from_name(name), i);
        for (int j = i + 1; j < SL_CODE_COUNT; j++)
            assert_string_not_equal(name, err_code_name((sl_code)j));
    }
    assert_int_equal(err_code_exit(SL_OK), 0);
    assert_int_equal(err_code_exit(SL_USAGE), 2);
    assert_int_equal(err_code_exit(SL_OPS_READ_ONLY), 3);
    assert_int_equal(err_code_exit(SL_DELTA_UNSUPPORTED_FEATURE), 3);
    assert_int_equal(err_code_exit(SL_STORE_EXISTS), 4);
    assert_int_equal(err_code_from_name("SL-NO-SUCH-THING"), SL_CODE_COUNT);
}

static void test_issue_codes_present(void **state)
{
    (void)state;
    const char *required[] = {"SL-STORE-NOT-FOUND",           "SL-DELTA-GAP",
                              "SL-DELTA-UNSUPPORTED-FEATURE", "SL-AUDIT-TAMPERED",
                              "SL-DELTA-NEEDS-CHECKPOINT",    "SL-STORE-BAD-KEY"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        assert_int_not_equal(err_code_from_name(required[i]), SL_CODE_COUNT);
}

static void test_docs_match_table(void **state)
{
    (void)state;
    const char *src = getenv("SLUICE_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/errors.md", src);
    char *doc = tu_read_file(path);
    assert_non_null(doc);
    char *gen = err_table_markdown();
    if (strcmp(doc, gen) != 0)
        fprintf(stderr, "docs/errors.md is stale: regenerate with `make docs`\n");
    assert_string_equal(doc, gen);
    free(doc);
    free(gen);
}

static void test_err_set_and_wrap(void **state)
{
    (void)state;
    sl_err e = {0};
    assert_int_equal(err_set(&e, SL_DELTA_GAP, "missing version %d", 12), SL_DELTA_GAP);
    assert_string_equal(e.msg, "missing version 12");
    err_wrap(&e, "table %s", "orders");
    assert_string_equal(e.msg, "table orders: missing version 12");
    assert_int_equal(e.code, SL_DELTA_GAP);
    assert_int_equal(err_set(NULL, SL_IO, "x"), SL_IO);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, SL_IO, "%s", big);
    err_wrap(&e, "prefix");
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_well_formed_and_unique),
        cmocka_unit_test(test_issue_codes_present),
        cmocka_unit_test(test_docs_match_table),
        cmocka_unit_test(test_err_set_and_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
