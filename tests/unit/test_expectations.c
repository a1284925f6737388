/* Expectations: every rule on its column types, nulls, the row's fate as
 * the strictest failing on_fail, per-expectation counts, the rule texts and
 * binding errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/expectations.h"
#include "testutil.h"

static const pq_schema_col COLS[] = {
    {"s", PQ_TYPE_STRING, true},
    {"i", PQ_TYPE_INT32, true},
    {"l", PQ_TYPE_INT64, true},
    {"d", PQ_TYPE_DOUBLE, true},
    {"m", PQ_TYPE_DECIMAL_OF(9, 2), true},
    {"day", PQ_TYPE_DATE, true},
    {"b", PQ_TYPE_BOOLEAN, true},
};
#define NCOLS (sizeof COLS / sizeof *COLS)

static pl_expectation ex(const char *name, const char *col, pl_rule rule, double n,
                         pl_on_fail f)
{
    pl_expectation e = {0};
    e.name = (char *)name;
    e.column = (char *)col;
    e.rule = rule;
    e.number = n;
    e.on_fail = f;
    return e;
}

static void test_rules(void **state)
{
    (void)state;
    static char *in[] = {"a", "b"};
    pl_expectation es[] = {
        ex("s_nn", "s", PL_RULE_NOT_NULL, 0, PL_FAIL_DROP),
        ex("i_gt", "i", PL_RULE_GT, 0, PL_FAIL_DROP),
        ex("l_ge", "l", PL_RULE_GE, 5, PL_FAIL_DROP),
        ex("d_lt", "d", PL_RULE_LT, 1.5, PL_FAIL_DROP),
        ex("m_le", "m", PL_RULE_LE, 10.25, PL_FAIL_DROP),
        ex("day_eq", "day", PL_RULE_EQ, 20000, PL_FAIL_DROP),
        ex("i_ne", "i", PL_RULE_NE, 7, PL_FAIL_DROP),
        ex("s_in", "s", PL_RULE_IN, 0, PL_FAIL_DROP),
    };
    es[7].in_values = in;
    es[7].nin_values = 2;
    size_t n = sizeof es / sizeof *es;
    expect_set *s;
    sl_err e = {0};
    assert_int_equal(expect_set_new(es, n, COLS, NCOLS, &s, &e), SL_OK);
    /* A row passing everything. */
    pq_value ok[NCOLS] = {pq_val_str("a"),  pq_val_i32(1),    pq_val_i64(5),
                          pq_val_f64(1.25), pq_val_dec(1025), pq_val_date(20000),
                          pq_val_bool(true)};
    assert_int_equal(expect_row(s, ok, NULL), EXPECT_PASS);
    /* A row failing everything. */
    pq_value bad[NCOLS] = {pq_val_str("c"),   pq_val_i32(0),    pq_val_i64(4),
                           pq_val_f64(1.5),   pq_val_dec(1026), pq_val_date(20001),
                           pq_val_bool(false)};
    assert_int_equal(expect_row(s, bad, NULL), EXPECT_DROP);
    bad[1] = pq_val_i32(7); /* fails i_ne, passes nothing else new */
    assert_int_equal(expect_row(s, bad, NULL), EXPECT_DROP);
    /* Nulls pass every rule but not_null. */
    pq_value nulls[NCOLS];
    for (size_t i = 0; i < NCOLS; i++)
        nulls[i] = pq_val_null();
    size_t which = 99;
    assert_int_equal(expect_row(s, nulls, &which), EXPECT_DROP);
    assert_int_equal(which, 0);
    /* A NaN fails comparisons except != */
    ok[3] = pq_val_f64(NAN);
    assert_int_equal(expect_row(s, ok, &which), EXPECT_DROP);
    assert_int_equal(which, 3);
    static const int64_t want[] = {1, 1, 2, 3, 2, 2, 1, 2};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(expect_failed(s, i), want[i]);
    json_t *j = expect_results_json(s);
    char *t = json_dumps(json_array_get(j, 4), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(t, "{\"name\":\"m_le\",\"column\":\"m\",\"rule\":\"<=10.25\","
                           "\"on_fail\":\"drop\",\"failed\":2}");
    free(t);
    t = json_dumps(json_array_get(j, 7), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(strstr(t, "\"rule\":\"in:a,b\""));
    free(t);
    json_decref(j);
    expect_reset(s);
    assert_int_equal(expect_failed(s, 3), 0);
    expect_set_free(s);
}

/* fail > quarantine > drop; which names the first with that fate. */
static void test_verdicts(void **state)
{
    (void)state;
    pl_expectation es[] = {
        ex("d1", "i", PL_RULE_GT, 0, PL_FAIL_DROP),
        ex("q1", "i", PL_RULE_GT, 1, PL_FAIL_QUARANTINE),
        ex("q2", "l", PL_RULE_NOT_NULL, 0, PL_FAIL_QUARANTINE),
        ex("f1", "i", PL_RULE_GT, 2, PL_FAIL_FAIL),
    };
    expect_set *s;
    sl_err e = {0};
    assert_int_equal(expect_set_new(es, 4, COLS, NCOLS, &s, &e), SL_OK);
    pq_value row[NCOLS];
    for (size_t i = 0; i < NCOLS; i++)
        row[i] = pq_val_null();
    size_t which;
    row[1] = pq_val_i32(3);
    assert_int_equal(expect_row(s, row, &which), EXPECT_QUARANTINE);
    assert_int_equal(which, 2);
    row[2] = pq_val_i64(1);
    assert_int_equal(expect_row(s, row, &which), EXPECT_PASS);
    row[1] = pq_val_i32(2);
    assert_int_equal(expect_row(s, row, &which), EXPECT_FAIL);
    assert_int_equal(which, 3);
    row[1] = pq_val_i32(1);
    assert_int_equal(expect_row(s, row, &which), EXPECT_FAIL);
    row[1] = pq_val_i32(0);
    assert_int_equal(expect_row(s, row, &which), EXPECT_FAIL);
    assert_int_equal(expect_failed(s, 0), 1);
    assert_int_equal(expect_failed(s, 1), 2);
    assert_int_equal(expect_failed(s, 2), 1);
    assert_int_equal(expect_failed(s, 3), 3);
    expect_set_free(s);
    /* No expectations: everything passes. */
    assert_int_equal(expect_set_new(NULL, 0, COLS, NCOLS, &s, &e), SL_OK);
    assert_int_equal(expect_row(s, row, NULL), EXPECT_PASS);
    json_t *j = expect_results_json(s);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    expect_set_free(s);
}

static void test_binding_errors(void **state)
{
    (void)state;
    expect_set *s = NULL;
    sl_err e = {0};
    pl_expectation a = ex("nope", "zz", PL_RULE_NOT_NULL, 0, PL_FAIL_DROP);
    assert_int_equal(expect_set_new(&a, 1, COLS, NCOLS, &s, &e), SL_PIPELINE_INVALID);
    assert_non_null(strstr(e.msg, "expectation \"nope\": no column \"zz\""));
    pl_expectation b = ex("cmp_str", "s", PL_RULE_GT, 1, PL_FAIL_DROP);
    assert_int_equal(expect_set_new(&b, 1, COLS, NCOLS, &s, &e), SL_PIPELINE_INVALID);
    assert_non_null(strstr(e.msg, "rule \">1\" does not apply to column \"s\""));
    pl_expectation c = ex("in_int", "i", PL_RULE_IN, 0, PL_FAIL_DROP);
    assert_int_equal(expect_set_new(&c, 1, COLS, NCOLS, &s, &e), SL_PIPELINE_INVALID);
    pl_expectation d = ex("cmp_bool", "b", PL_RULE_LT, 1, PL_FAIL_DROP);
    assert_int_equal(expect_set_new(&d, 1, COLS, NCOLS, &s, &e), SL_PIPELINE_INVALID);
    assert_null(s);
    /* Rule texts as the pipeline file writes them. */
    pl_expectation r = ex("x", "d", PL_RULE_NE, -0.5, PL_FAIL_FAIL);
    char *t = expect_rule_text(&r);
    assert_string_equal(t, "!=-0.5");
    free(t);
    r.rule = PL_RULE_GE;
    r.number = 1e20;
    t = expect_rule_text(&r);
    assert_string_equal(t, ">=1e+20");
    free(t);
    assert_string_equal(expect_on_fail_name(PL_FAIL_QUARANTINE), "quarantine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_binding_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
