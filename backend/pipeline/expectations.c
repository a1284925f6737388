/* Expectations evaluated per row: rules bound to column indexes and types
 * once, so a row costs a switch and a compare per expectation. */
#include "backend/pipeline/expectations.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"

typedef struct bound {
    const pl_expectation *e;
    size_t col;
    pq_type type;
    size_t *in_lens; /* PL_RULE_IN */
    int64_t failed;
} bound;

struct expect_set {
    bound *b;
    size_t n;
};

static int is_numeric(pq_type t)
{
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64:
    case PQ_TYPE_DOUBLE:
    case PQ_TYPE_FLOAT:
    case PQ_TYPE_DECIMAL:
    case PQ_TYPE_DATE:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return 1;
    default:
        return 0;
    }
}

sl_code expect_set_new(const pl_expectation *ex, size_t n, const pq_schema_col *cols,
                       size_t ncols, expect_set **out, sl_err *err)
{
    expect_set *s = sl_calloc(1, sizeof *s);
    s->b = sl_calloc(n ? n : 1, sizeof *s->b);
    for (size_t i = 0; i < n; i++) {
        const pl_expectation *e = &ex[i];
        size_t k = 0;
        while (k < ncols && strcmp(cols[k].name, e->column) != 0)
            k++;
        if (k == ncols) {
            expect_set_free(s);
            return err_set(err, SL_PIPELINE_INVALID,
                           "expectation \"%s\": no column \"%s\" in the bronze schema",
                           e->name, e->column);
        }
        pq_type t = cols[k].type;
        int ok =
            e->rule == PL_RULE_NOT_NULL ||
            (e->rule == PL_RULE_IN ? pq_type_base(t) == PQ_TYPE_STRING : is_numeric(t));
        if (!ok) {
            char *rt = expect_rule_text(e);
            sl_code c =
                err_set(err, SL_PIPELINE_INVALID,
                        "expectation \"%s\": rule \"%s\" does not apply to column "
                        "\"%s\" (%s)",
                        e->name, rt, e->column,
                        e->rule == PL_RULE_IN ? "in: needs a string column"
                                              : "comparisons need a number, "
                                                "date or timestamp column");
            free(rt);
            expect_set_free(s);
            return c;
        }
        bound *b = &s->b[s->n++];
        b->e = e;
        b->col = k;
        b->type = t;
        if (e->rule == PL_RULE_IN) {
            b->in_lens = sl_calloc(e->nin_values + 1, sizeof *b->in_lens);
            for (size_t j = 0; j < e->nin_values; j++)
                b->in_lens[j] = strlen(e->in_values[j]);
        }
    }
    *out = s;
    return SL_OK;
}

void expect_set_free(expect_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->b[i].in_lens);
    free(s->b);
    free(s);
}

/* A numeric cell as a double (decimals through their unscaled value). */
static double as_double(pq_type t, const pq_value *v)
{
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return v->i32;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return (double)v->i64;
    case PQ_TYPE_DOUBLE:
        return v->f64;
    case PQ_TYPE_FLOAT:
        return v->f32;
    case PQ_TYPE_DECIMAL: {
        double u = (double)v->dec.hi * 18446744073709551616.0 + (double)v->dec.lo;
        return u / pow(10, pq_type_scale(t));
    }
    default:
        return NAN;
    }
}

static int passes(const bound *b, const pq_value *v)
{
    const pl_expectation *e = b->e;
    if (v->is_null)
        return e->rule != PL_RULE_NOT_NULL;
    if (e->rule == PL_RULE_NOT_NULL)
        return 1;
    if (e->rule == PL_RULE_IN) {
        for (size_t j = 0; j < e->nin_values; j++)
            if (b->in_lens[j] == v->str.len &&
                memcmp(e->in_values[j], v->str.ptr, v->str.len) == 0)
                return 1;
        return 0;
    }
    double x = as_double(b->type, v), n = e->number;
    switch (e->rule) {
    case PL_RULE_GT:
        return x > n;
    case PL_RULE_GE:
        return x >= n;
    case PL_RULE_LT:
        return x < n;
    case PL_RULE_LE:
        return x <= n;
    case PL_RULE_EQ:
        return x == n;
    case PL_RULE_NE:
        return x != n; /* NaN != N holds */
    default:
        return 1;
    }
}

static expect_verdict verdict_of(pl_on_fail f)
{
    switch (f) {
    case PL_FAIL_FAIL:
        return EXPECT_FAIL;
    case PL_FAIL_QUARANTINE:
        return EXPECT_QUARANTINE;
    default:
        return EXPECT_DROP;
    }
}

expect_verdict expect_row(expect_set *s, const pq_value *row, size_t *which)
{
    expect_verdict worst = EXPECT_PASS;
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        bound *b = &s->b[i];
        if (passes(b, &row[b->col]))
            continue;
        b->failed++;
        expect_verdict v = verdict_of(b->e->on_fail);
        if (v > worst) {
            worst = v;
            w = i;
        }
    }
    if (which)
        *which = w;
    return worst;
}

size_t expect_count(const expect_set *s)
{
    return s->n;
}

const pl_expectation *expect_get(const expect_set *s, size_t i)
{
    return s->b[i].e;
}

int64_t expect_failed(const expect_set *s, size_t i)
{
    return s->b[i].failed;
}

void expect_reset(expect_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->b[i].failed = 0;
}

char *expect_rule_text(const pl_expectation *e)
{
    static const char *const ops[] = {
        [PL_RULE_GT] = ">",  [PL_RULE_GE] = ">=", [PL_RULE_LT] = "<",
        [PL_RULE_LE] = "<=", [PL_RULE_EQ] = "==", [PL_RULE_NE] = "!=",
    };
    if (e->rule == PL_RULE_NOT_NULL)
        return sl_strdup("not_null");
    if (e->rule == PL_RULE_IN) {
        sl_buf b = {0};
        buf_append_str(&b, "in:");
        for (size_t j = 0; j < e->nin_values; j++)
            buf_appendf(&b, "%s%s", j ? "," : "", e->in_values[j]);
        return buf_steal(&b);
    }
    /* The shortest text that reads back as the same number. */
    char num[40];
    if (e->number == floor(e->number) && fabs(e->number) < 1e15)
        snprintf(num, sizeof num, "%.0f", e->number);
    else
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, e->number);
            if (strtod(num, NULL) == e->number)
                break;
        }
    return sl_asprintf("%s%s", ops[e->rule], num);
}

const char *expect_on_fail_name(pl_on_fail f)
{
    switch (f) {
    case PL_FAIL_FAIL:
        return "fail";
    case PL_FAIL_QUARANTINE:
        return "quarantine";
    default:
        return "drop";
    }
}

json_t *expect_results_json(const expect_set *s)
{
    json_t *a = json_array();
    for (size_t i = 0; s && i < s->n; i++) {
        const pl_expectation *e = s->b[i].e;
        char *rt = expect_rule_text(e);
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", e->name,
                                           "column", e->column, "rule", rt, "on_fail",
                                           expect_on_fail_name(e->on_fail), "failed",
                                           (json_int_t)s->b[i].failed));
        free(rt);
    }
    return a;
}
