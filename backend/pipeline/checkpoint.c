#include "backend/pipeline/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

enum {
    C_PIPELINE,
    C_FOLDER,
    C_EPOCH,
    C_STATE,
    C_BATCH,
    C_RUN,
    C_SEQ,
    C_FILES,
    C_BYTES,
    C_ROWS_READ,
    C_ROWS_BRONZE,
    C_ROWS_QUAR,
    C_ROWS_DROPPED,
    C_ROWS_SILVER,
    C_ROWS_GOLD,
    C_VERSIONS,
    C_ERROR,
    C_MESSAGE,
    C_OPERATOR,
    C_STARTED,
    C_FINISHED,
    C_RECORDED,
    C_DETAIL,
    C_COUNT
};

static const pq_schema_col COLS[C_COUNT] = {
    {"pipeline", PQ_TYPE_STRING, false},
    {"folder", PQ_TYPE_STRING, false},
    {"epoch", PQ_TYPE_INT64, true},
    {"state", PQ_TYPE_STRING, false},
    {"batch_id", PQ_TYPE_INT64, true},
    {"run_id", PQ_TYPE_STRING, true},
    {"seq", PQ_TYPE_INT64, false},
    {"files", PQ_TYPE_INT64, true},
    {"bytes", PQ_TYPE_INT64, true},
    {"rows_read", PQ_TYPE_INT64, true},
    {"rows_bronze", PQ_TYPE_INT64, true},
    {"rows_quarantined", PQ_TYPE_INT64, true},
    {"rows_dropped", PQ_TYPE_INT64, true},
    {"rows_silver", PQ_TYPE_INT64, true},
    {"rows_gold", PQ_TYPE_INT64, true},
    {"versions", PQ_TYPE_STRING, true},
    {"error_code", PQ_TYPE_STRING, true},
    {"message", PQ_TYPE_STRING, true},
    {"operator", PQ_TYPE_STRING, true},
    {"started_at", PQ_TYPE_TIMESTAMP_US, true},
    {"finished_at", PQ_TYPE_TIMESTAMP_US, true},
    {"recorded_at", PQ_TYPE_TIMESTAMP_US, true},
    {"detail", PQ_TYPE_STRING, true},
};

static const systable TABLE = {CKPT_TABLE_KEY, "sluice processed folders", COLS, C_COUNT};

const systable *ckpt_table(void)
{
    return &TABLE;
}

void ckpt_entry_init(ckpt_entry *e)
{
    memset(e, 0, sizeof *e);
    e->epoch = e->batch_id = e->seq = -1;
    e->files = e->bytes = e->rows_read = e->rows_bronze = e->rows_quarantined = -1;
    e->rows_dropped = e->rows_silver = e->rows_gold = -1;
    e->started_ms = e->finished_ms = e->recorded_ms = -1;
}

void ckpt_entry_clear(ckpt_entry *e)
{
    free(e->folder);
    free(e->state);
    free(e->run_id);
    free(e->versions);
    free(e->error_code);
    free(e->message);
    free(e->operator_name);
    free(e->detail);
    ckpt_entry_init(e);
}

void ckpt_entries_free(ckpt_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ckpt_entry_clear(&e[i]);
    free(e);
}

void ckpt_view_free(ckpt_view *v)
{
    ckpt_entries_free(v->e, v->n);
    memset(v, 0, sizeof *v);
}

static void entry_from_row(const delta_rows *r, size_t i, ckpt_entry *e)
{
    ckpt_entry_init(e);
    e->folder = systable_strdup(r, i, C_FOLDER);
    e->epoch = systable_i64(r, i, C_EPOCH, -1);
    e->state = systable_strdup(r, i, C_STATE);
    e->batch_id = systable_i64(r, i, C_BATCH, -1);
    e->run_id = systable_strdup(r, i, C_RUN);
    e->seq = systable_i64(r, i, C_SEQ, -1);
    e->files = systable_i64(r, i, C_FILES, -1);
    e->bytes = systable_i64(r, i, C_BYTES, -1);
    e->rows_read = systable_i64(r, i, C_ROWS_READ, -1);
    e->rows_bronze = systable_i64(r, i, C_ROWS_BRONZE, -1);
    e->rows_quarantined = systable_i64(r, i, C_ROWS_QUAR, -1);
    e->rows_dropped = systable_i64(r, i, C_ROWS_DROPPED, -1);
    e->rows_silver = systable_i64(r, i, C_ROWS_SILVER, -1);
    e->rows_gold = systable_i64(r, i, C_ROWS_GOLD, -1);
    e->versions = systable_strdup(r, i, C_VERSIONS);
    e->error_code = systable_strdup(r, i, C_ERROR);
    e->message = systable_strdup(r, i, C_MESSAGE);
    e->operator_name = systable_strdup(r, i, C_OPERATOR);
    e->started_ms = systable_ms(r, i, C_STARTED);
    e->finished_ms = systable_ms(r, i, C_FINISHED);
    e->recorded_ms = systable_ms(r, i, C_RECORDED);
    e->detail = systable_strdup(r, i, C_DETAIL);
}

static int pipeline_is(const delta_rows *r, size_t i, const char *pipeline)
{
    size_t n;
    const char *p = systable_str(r, i, C_PIPELINE, &n);
    return p && strlen(pipeline) == n && memcmp(p, pipeline, n) == 0;
}

/* A row's sort key: qsort gets no context, so the keys carry what they need. */
typedef struct row_key {
    const char *folder;
    size_t folder_len;
    int64_t seq;
    size_t row;
} row_key;

static int folder_cmp(const row_key *a, const row_key *b)
{
    int c = memcmp(a->folder, b->folder,
                   a->folder_len < b->folder_len ? a->folder_len : b->folder_len);
    if (c == 0 && a->folder_len != b->folder_len)
        c = a->folder_len < b->folder_len ? -1 : 1;
    return c;
}

static int cmp_folder_seq(const void *x, const void *y)
{
    const row_key *a = x, *b = y;
    int c = folder_cmp(a, b);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_seq(const void *x, const void *y)
{
    const row_key *a = x, *b = y;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Keys of the pipeline's rows (of one folder when folder is not NULL). */
static row_key *pipeline_rows(const delta_rows *r, const char *pipeline,
                              const char *folder, size_t *n)
{
    row_key *keys = sl_calloc(r->nrows ? r->nrows : 1, sizeof *keys);
    *n = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        if (!pipeline_is(r, i, pipeline))
            continue;
        row_key k = {.row = i, .seq = systable_i64(r, i, C_SEQ, 0)};
        k.folder = systable_str(r, i, C_FOLDER, &k.folder_len);
        if (!k.folder)
            continue;
        if (folder &&
            (k.folder_len != strlen(folder) || memcmp(k.folder, folder, k.folder_len)))
            continue;
        keys[(*n)++] = k;
    }
    return keys;
}

static sl_code load_rows(store *lake, const char *pipeline, ckpt_view *out,
                         delta_snapshot **snap_out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->max_batch_id = -1;
    delta_rows r;
    sl_code c = systable_read(lake, &TABLE, &r, &out->version, snap_out, err);
    if (c != SL_OK) {
        delta_rows_free(&r);
        return c;
    }
    for (size_t i = 0; i < r.nrows; i++) {
        int64_t s = systable_i64(&r, i, C_SEQ, 0);
        if (s > out->max_seq)
            out->max_seq = s;
    }
    size_t n;
    row_key *keys = pipeline_rows(&r, pipeline, NULL, &n);
    qsort(keys, n, sizeof *keys, cmp_folder_seq);
    out->e = sl_calloc(n ? n : 1, sizeof *out->e);
    for (size_t k = 0; k < n; k++) {
        int64_t b = systable_i64(&r, keys[k].row, C_BATCH, -1);
        if (b > out->max_batch_id)
            out->max_batch_id = b;
        /* A folder's last row (highest seq) is its state. */
        if (k + 1 < n && folder_cmp(&keys[k], &keys[k + 1]) == 0)
            continue;
        entry_from_row(&r, keys[k].row, &out->e[out->n++]);
    }
    free(keys);
    delta_rows_free(&r);
    return SL_OK;
}

sl_code ckpt_load(store *lake, const char *pipeline, ckpt_view *out, sl_err *err)
{
    return load_rows(lake, pipeline, out, NULL, err);
}

const ckpt_entry *ckpt_find(const ckpt_view *v, const char *folder)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v->e[mid].folder, folder);
        if (c == 0)
            return &v->e[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

pl_known *ckpt_view_known(const ckpt_view *v)
{
    pl_known *k = sl_calloc(v->n ? v->n : 1, sizeof *k);
    for (size_t i = 0; i < v->n; i++)
        k[i] = (pl_known){v->e[i].folder, v->e[i].state, v->e[i].batch_id, v->e[i].detail};
    return k;
}

static void row_cells(const char *pipeline, const ckpt_entry *e, int64_t seq,
                      int64_t now_ms, pq_value *row)
{
    row[C_PIPELINE] = pq_val_str(pipeline);
    row[C_FOLDER] = pq_val_str(e->folder);
    row[C_EPOCH] = e->epoch < 0 ? pq_val_null() : pq_val_i64(e->epoch);
    row[C_STATE] = pq_val_str(e->state);
    row[C_BATCH] = systable_cell_i64(e->batch_id);
    row[C_RUN] = systable_cell_str(e->run_id);
    row[C_SEQ] = pq_val_i64(seq);
    row[C_FILES] = systable_cell_i64(e->files);
    row[C_BYTES] = systable_cell_i64(e->bytes);
    row[C_ROWS_READ] = systable_cell_i64(e->rows_read);
    row[C_ROWS_BRONZE] = systable_cell_i64(e->rows_bronze);
    row[C_ROWS_QUAR] = systable_cell_i64(e->rows_quarantined);
    row[C_ROWS_DROPPED] = systable_cell_i64(e->rows_dropped);
    row[C_ROWS_SILVER] = systable_cell_i64(e->rows_silver);
    row[C_ROWS_GOLD] = systable_cell_i64(e->rows_gold);
    row[C_VERSIONS] = systable_cell_str(e->versions);
    row[C_ERROR] = systable_cell_str(e->error_code);
    row[C_MESSAGE] = systable_cell_str(e->message);
    row[C_OPERATOR] = systable_cell_str(e->operator_name);
    row[C_STARTED] = systable_cell_ts_ms(e->started_ms);
    row[C_FINISHED] = systable_cell_ts_ms(e->finished_ms);
    row[C_RECORDED] = systable_cell_ts_ms(e->recorded_ms >= 0 ? e->recorded_ms : now_ms);
    row[C_DETAIL] = systable_cell_str(e->detail);
}

sl_code ckpt_record(store *lake, const char *pipeline, const ckpt_entry *rows, size_t n,
                    const char *app_step, int64_t txn_version,
                    const delta_commit_meta *meta, int64_t *version_out, int *skipped_out,
                    sl_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!rows[i].folder || !rows[i].state)
            return err_set(err, SL_INTERNAL, "checkpoint row %zu has no folder or state",
                           i);
    sl_code c = systable_ensure(lake, &TABLE, err);
    if (c != SL_OK)
        return c;
    char *app_id = app_step ? sl_asprintf("sluice:%s:%s", pipeline, app_step) : NULL;
    pq_value *cells = sl_calloc(n ? n * C_COUNT : 1, sizeof *cells);
    /* seq must exceed every row's: read, number, commit against what was
     * read; a concurrent checkpoint commit is a conflict and we renumber. */
    for (int attempt = 0; attempt < 20; attempt++) {
        ckpt_view v;
        delta_snapshot *snap = NULL;
        c = load_rows(lake, pipeline, &v, &snap, err);
        if (c != SL_OK)
            break;
        int64_t now = time_now_ms();
        for (size_t i = 0; i < n; i++)
            row_cells(pipeline, &rows[i], v.max_seq + 1 + (int64_t)i, now,
                      &cells[i * C_COUNT]);
        systable_append_req req = {.rows = cells,
                                   .nrows = n,
                                   .app_id = app_id,
                                   .txn_version = txn_version,
                                   .read_snap = snap,
                                   .meta = meta};
        c = systable_append(lake, &TABLE, &req, version_out, skipped_out, err);
        delta_snapshot_free(snap);
        ckpt_view_free(&v);
        if (c != SL_DELTA_CONFLICT)
            break;
        err_clear(err);
    }
    free(cells);
    free(app_id);
    return c;
}

sl_code ckpt_history(store *lake, const char *pipeline, const char *folder,
                     ckpt_entry **out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    delta_rows r;
    sl_code c = systable_read(lake, &TABLE, &r, NULL, NULL, err);
    if (c == SL_OK) {
        row_key *keys = pipeline_rows(&r, pipeline, folder, n);
        qsort(keys, *n, sizeof *keys, cmp_seq);
        *out = sl_calloc(*n ? *n : 1, sizeof **out);
        for (size_t k = 0; k < *n; k++)
            entry_from_row(&r, keys[k].row, &(*out)[k]);
        free(keys);
    }
    delta_rows_free(&r);
    return c;
}
