#include "backend/pipeline/systable.h"

#include <string.h>

#include "backend/util/buf.h"

static int table_exists(store *lake, const systable *t, sl_err *err, sl_code *c)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    *c = delta_snapshot_open(lake, t->key, &latest, &snap, err);
    delta_snapshot_free(snap);
    if (*c == SL_DELTA_NOT_A_TABLE) {
        err_clear(err);
        *c = SL_OK;
        return 0;
    }
    return *c == SL_OK;
}

sl_code systable_ensure(store *lake, const systable *t, sl_err *err)
{
    sl_code c;
    if (table_exists(lake, t, err, &c) || c != SL_OK)
        return c;
    delta_table_spec spec = {.cols = t->cols, .ncols = t->ncols, .name = t->name};
    delta_commit_meta meta = {.operation = "CREATE TABLE"};
    delta_commit_result cr;
    c = delta_table_create(lake, t->key, &spec, &meta, &cr, err);
    if (c == SL_DELTA_TABLE_EXISTS) { /* another runner or console won the race */
        err_clear(err);
        c = SL_OK;
    }
    return c;
}

sl_code systable_read(store *lake, const systable *t, delta_rows *out,
                      int64_t *version_out, delta_snapshot **snap_out, sl_err *err)
{
    delta_rows_init(out, t->cols, t->ncols);
    if (snap_out)
        *snap_out = NULL;
    if (version_out)
        *version_out = -1;
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(lake, t->key, &latest, &snap, err);
    if (c == SL_DELTA_NOT_A_TABLE) {
        err_clear(err);
        return SL_OK;
    }
    for (size_t i = 0; c == SL_OK && i < snap->nfiles; i++)
        c = delta_rows_read_file(lake, t->key, &snap->files[i], t->cols, t->ncols, out,
                                 err);
    if (c == SL_OK && version_out)
        *version_out = snap->version;
    if (c == SL_OK && snap_out)
        *snap_out = snap;
    else
        delta_snapshot_free(snap);
    return c;
}

sl_code systable_append(store *lake, const systable *t, const systable_append_req *req,
                        int64_t *version_out, int *skipped_out, sl_err *err)
{
    if (skipped_out)
        *skipped_out = 0;
    sl_code c = req->read_snap ? SL_OK : systable_ensure(lake, t, err);
    if (c != SL_OK)
        return c;
    delta_append_req ar = {
        .rows = req->rows,
        .nrows = req->nrows,
        .ncols = t->ncols,
        .app_id = req->app_id,
        .txn_version = req->txn_version,
        .read_snap = req->read_snap,
        .read_all = req->read_snap != NULL,
    };
    delta_append_result res;
    c = delta_table_append(lake, t->key, &ar, req->meta, &res, err);
    if (c == SL_OK) {
        if (version_out)
            *version_out = res.version;
        if (skipped_out)
            *skipped_out = res.skipped;
    }
    return c;
}

const char *systable_str(const delta_rows *r, size_t row, size_t col, size_t *len)
{
    const pq_value *v = &r->cells[row * r->ncols + col];
    if (v->is_null) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->str.len;
    return v->str.ptr;
}

char *systable_strdup(const delta_rows *r, size_t row, size_t col)
{
    size_t n;
    const char *s = systable_str(r, row, col, &n);
    return s ? sl_strndup(s, n) : NULL;
}

int64_t systable_i64(const delta_rows *r, size_t row, size_t col, int64_t if_null)
{
    const pq_value *v = &r->cells[row * r->ncols + col];
    if (v->is_null)
        return if_null;
    pq_type t = pq_type_base(r->types[col]);
    return t == PQ_TYPE_INT32 || t == PQ_TYPE_DATE ? v->i32 : v->i64;
}

int64_t systable_ms(const delta_rows *r, size_t row, size_t col)
{
    int64_t us = systable_i64(r, row, col, INT64_MIN);
    return us == INT64_MIN ? -1 : us / 1000;
}

pq_value systable_cell_str(const char *s)
{
    return s ? pq_val_str(s) : pq_val_null();
}

pq_value systable_cell_i64(int64_t v)
{
    return v < 0 ? pq_val_null() : pq_val_i64(v);
}

pq_value systable_cell_ts_ms(int64_t ms)
{
    return ms < 0 ? pq_val_null() : pq_val_ts_us(ms * 1000);
}
