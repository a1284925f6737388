#include "backend/pipeline/runs.h"

#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"

enum {
    R_RUN,
    R_PIPELINE,
    R_FOLDER,
    R_BATCH,
    R_STEP,
    R_ATTEMPT,
    R_STATE,
    R_ERROR,
    R_MESSAGE,
    R_ROWS_IN,
    R_ROWS_OUT,
    R_TABLE,
    R_VBEFORE,
    R_VAFTER,
    R_STARTED,
    R_FINISHED,
    R_DURATION,
    R_DETAIL,
    R_COUNT
};

static const pq_schema_col COLS[R_COUNT] = {
    {"run_id", PQ_TYPE_STRING, false},
    {"pipeline", PQ_TYPE_STRING, false},
    {"folder", PQ_TYPE_STRING, true},
    {"batch_id", PQ_TYPE_INT64, true},
    {"step", PQ_TYPE_STRING, false},
    {"attempt", PQ_TYPE_INT32, false},
    {"state", PQ_TYPE_STRING, false},
    {"error_code", PQ_TYPE_STRING, true},
    {"error_message", PQ_TYPE_STRING, true},
    {"rows_in", PQ_TYPE_INT64, true},
    {"rows_out", PQ_TYPE_INT64, true},
    {"table_name", PQ_TYPE_STRING, true},
    {"version_before", PQ_TYPE_INT64, true},
    {"version_after", PQ_TYPE_INT64, true},
    {"started_at", PQ_TYPE_TIMESTAMP_US, true},
    {"finished_at", PQ_TYPE_TIMESTAMP_US, true},
    {"duration_ms", PQ_TYPE_INT64, true},
    {"detail", PQ_TYPE_STRING, true},
};

static const systable TABLE = {RUNS_TABLE_KEY, "sluice runs", COLS, R_COUNT};

const systable *runs_table(void)
{
    return &TABLE;
}

void run_step_init(run_step *s)
{
    memset(s, 0, sizeof *s);
    s->batch_id = s->rows_in = s->rows_out = -1;
    s->version_before = s->version_after = -1;
    s->started_ms = s->finished_ms = -1;
    s->attempt = 1;
}

void run_step_clear(run_step *s)
{
    free(s->run_id);
    free(s->pipeline);
    free(s->folder);
    free(s->step);
    free(s->state);
    free(s->error_code);
    free(s->error_message);
    free(s->table_name);
    free(s->detail);
    run_step_init(s);
}

void run_steps_free(run_step *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_step_clear(&s[i]);
    free(s);
}

sl_code runs_append(store *lake, const run_step *rows, size_t n, sl_err *err)
{
    pq_value *cells = sl_calloc(n ? n * R_COUNT : 1, sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        const run_step *s = &rows[i];
        if (!s->run_id || !s->pipeline || !s->step || !s->state) {
            free(cells);
            return err_set(err, SL_INTERNAL,
                           "run row %zu lacks run id, pipeline, step or state", i);
        }
        pq_value *r = &cells[i * R_COUNT];
        r[R_RUN] = pq_val_str(s->run_id);
        r[R_PIPELINE] = pq_val_str(s->pipeline);
        r[R_FOLDER] = systable_cell_str(s->folder);
        r[R_BATCH] = systable_cell_i64(s->batch_id);
        r[R_STEP] = pq_val_str(s->step);
        r[R_ATTEMPT] = pq_val_i32(s->attempt);
        r[R_STATE] = pq_val_str(s->state);
        r[R_ERROR] = systable_cell_str(s->error_code);
        r[R_MESSAGE] = systable_cell_str(s->error_message);
        r[R_ROWS_IN] = systable_cell_i64(s->rows_in);
        r[R_ROWS_OUT] = systable_cell_i64(s->rows_out);
        r[R_TABLE] = systable_cell_str(s->table_name);
        r[R_VBEFORE] = systable_cell_i64(s->version_before);
        r[R_VAFTER] = systable_cell_i64(s->version_after);
        r[R_STARTED] = systable_cell_ts_ms(s->started_ms);
        r[R_FINISHED] = systable_cell_ts_ms(s->finished_ms);
        r[R_DURATION] = s->started_ms >= 0 && s->finished_ms >= s->started_ms
                            ? pq_val_i64(s->finished_ms - s->started_ms)
                            : pq_val_null();
        r[R_DETAIL] = systable_cell_str(s->detail);
    }
    systable_append_req req = {.rows = cells, .nrows = n};
    sl_code c = systable_append(lake, &TABLE, &req, NULL, NULL, err);
    free(cells);
    return c;
}

static int matches(const delta_rows *r, size_t i, size_t col, const char *want)
{
    if (!want)
        return 1;
    size_t n;
    const char *s = systable_str(r, i, col, &n);
    return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

static int step_cmp(const void *x, const void *y)
{
    const run_step *a = x, *b = y;
    if (a->started_ms != b->started_ms)
        return a->started_ms < b->started_ms ? -1 : 1;
    int c = strcmp(a->run_id, b->run_id);
    if (c)
        return c;
    return (a->attempt > b->attempt) - (a->attempt < b->attempt);
}

sl_code runs_load(store *lake, const char *pipeline, const char *run_id, run_step **out,
                  size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    delta_rows r;
    sl_code c = systable_read(lake, &TABLE, &r, NULL, NULL, err);
    if (c == SL_OK) {
        *out = sl_calloc(r.nrows ? r.nrows : 1, sizeof **out);
        for (size_t i = 0; i < r.nrows; i++) {
            if (!matches(&r, i, R_PIPELINE, pipeline) || !matches(&r, i, R_RUN, run_id))
                continue;
            run_step *s = &(*out)[(*n)++];
            run_step_init(s);
            s->run_id = systable_strdup(&r, i, R_RUN);
            s->pipeline = systable_strdup(&r, i, R_PIPELINE);
            s->folder = systable_strdup(&r, i, R_FOLDER);
            s->batch_id = systable_i64(&r, i, R_BATCH, -1);
            s->step = systable_strdup(&r, i, R_STEP);
            s->attempt = (int)systable_i64(&r, i, R_ATTEMPT, 1);
            s->state = systable_strdup(&r, i, R_STATE);
            s->error_code = systable_strdup(&r, i, R_ERROR);
            s->error_message = systable_strdup(&r, i, R_MESSAGE);
            s->rows_in = systable_i64(&r, i, R_ROWS_IN, -1);
            s->rows_out = systable_i64(&r, i, R_ROWS_OUT, -1);
            s->table_name = systable_strdup(&r, i, R_TABLE);
            s->version_before = systable_i64(&r, i, R_VBEFORE, -1);
            s->version_after = systable_i64(&r, i, R_VAFTER, -1);
            s->started_ms = systable_ms(&r, i, R_STARTED);
            s->finished_ms = systable_ms(&r, i, R_FINISHED);
            s->detail = systable_strdup(&r, i, R_DETAIL);
        }
        qsort(*out, *n, sizeof **out, step_cmp);
    }
    delta_rows_free(&r);
    return c;
}
