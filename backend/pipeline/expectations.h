#ifndef SLUICE_PIPELINE_EXPECTATIONS_H
#define SLUICE_PIPELINE_EXPECTATIONS_H
/* A pipeline's expectations (pipeline_def.h) bound to the columns of a row
 * and evaluated row by row after casting. Every failing expectation is
 * counted; the row's fate is the strictest on_fail among those that failed
 * (fail > quarantine > drop). Rules: not_null fails on null; comparisons
 * (>N, >=N, <N, <=N, ==N, !=N) apply to numeric, date and timestamp
 * columns (dates as days, timestamps as epoch microseconds) and in:a,b,c to
 * string columns; a null passes every rule except not_null (pair them to
 * forbid nulls). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_writer.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/err.h"

typedef enum expect_verdict {
    EXPECT_PASS,
    EXPECT_DROP,
    EXPECT_QUARANTINE,
    EXPECT_FAIL,
} expect_verdict;

typedef struct expect_set expect_set;

/* Binds ex[0..n) to cols (the row's columns, by name). SL_PIPELINE_INVALID
 * names the expectation when its column is missing or the rule does not
 * apply to the column's type. */
sl_code expect_set_new(const pl_expectation *ex, size_t n, const pq_schema_col *cols,
                       size_t ncols, expect_set **out, sl_err *err);
void expect_set_free(expect_set *s);

/* Evaluates one row, counts the failures, and returns the row's fate;
 * *which (may be NULL) is the index of the first expectation with that
 * fate. */
expect_verdict expect_row(expect_set *s, const pq_value *row, size_t *which);

size_t expect_count(const expect_set *s);
const pl_expectation *expect_get(const expect_set *s, size_t i);
int64_t expect_failed(const expect_set *s, size_t i);
/* Clears the counts (a second pass over the same input). */
void expect_reset(expect_set *s);

/* The rule as written in the pipeline file: "not_null", ">0", "in:a,b". */
char *expect_rule_text(const pl_expectation *e);
/* "fail", "quarantine" or "drop". */
const char *expect_on_fail_name(pl_on_fail f);

/* [{"name","column","rule","on_fail","failed":N}] in definition order (new
 * reference). */
json_t *expect_results_json(const expect_set *s);

#endif
