#ifndef SLUICE_PIPELINE_RUNS_H
#define SLUICE_PIPELINE_RUNS_H
/* `_sluice/runs`: every step attempt of every run (run id, pipeline, folder,
 * batch, step, attempt, state, error code and message, rows, the table
 * version produced, timings, check details), append-only. `sluice runs`,
 * `sluice run show` and the console read it; rollback-run finds the versions
 * a run produced here. */
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/systable.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

#define RUNS_TABLE_KEY "_sluice/runs"

typedef struct run_step {
    char *run_id;
    char *pipeline;
    char *folder;     /* NULL for pipeline-wide steps (optimize, vacuum) */
    int64_t batch_id; /* -1 when none */
    char *step;  /* discover, ingest, merge, aggregate, mark, optimize, vacuum, ... */
    int attempt; /* 1-based */
    char *state; /* succeeded | failed | retrying | skipped (already done) */
    char *error_code;
    char *error_message;
    int64_t rows_in, rows_out; /* -1 when not counted */
    char *table_name;          /* the table the step committed to, or NULL */
    int64_t version_before;    /* the table's version before the step; -1: none */
    int64_t version_after;     /* the version it produced; -1: none */
    int64_t started_ms, finished_ms;
    char *detail; /* JSON text: checks, expectations, counts */
} run_step;

void run_step_init(run_step *s);
void run_step_clear(run_step *s);
void run_steps_free(run_step *s, size_t n);

/* One blind-append commit of n rows (order among rows: started_ms, attempt). */
sl_code runs_append(store *lake, const run_step *rows, size_t n, sl_err *err);

/* Rows of one pipeline (NULL: all) and one run (NULL: all), ordered by
 * (started_ms, run_id, attempt). */
sl_code runs_load(store *lake, const char *pipeline, const char *run_id, run_step **out,
                  size_t *n, sl_err *err);

const systable *runs_table(void);

#endif
