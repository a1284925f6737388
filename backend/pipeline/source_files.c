#include "backend/pipeline/source_files.h"

#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/systable.h"
#include "backend/util/buf.h"

enum { F_PIPELINE, F_FILE, F_KEY, F_ETAG, F_SIZE, F_MTIME, F_BATCH, F_STATE, F_COUNT };

static const pq_schema_col COLS[F_COUNT] = {
    {"pipeline", PQ_TYPE_STRING, false}, {"file", PQ_TYPE_STRING, false},
    {"key", PQ_TYPE_STRING, true},       {"etag", PQ_TYPE_STRING, true},
    {"size", PQ_TYPE_INT64, true},       {"mtime_ms", PQ_TYPE_INT64, true},
    {"batch_id", PQ_TYPE_INT64, false},  {"state", PQ_TYPE_STRING, false},
};

static const systable TABLE = {SRCFILES_TABLE_KEY, "sluice source files", COLS, F_COUNT};

void srcfiles_free(srcfile *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].file);
        free(v[i].key);
        free(v[i].etag);
        free(v[i].state);
    }
    free(v);
}

static int cmp_file_batch(const void *x, const void *y)
{
    const srcfile *a = x, *b = y;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    return (a->batch_id > b->batch_id) - (a->batch_id < b->batch_id);
}

sl_code srcfiles_load(store *lake, const char *pipeline, srcfile **out, size_t *n,
                      sl_err *err)
{
    *out = NULL;
    *n = 0;
    delta_rows r;
    sl_code c = systable_read(lake, &TABLE, &r, NULL, NULL, err);
    if (c != SL_OK) {
        delta_rows_free(&r);
        return c;
    }
    srcfile *all = sl_calloc(r.nrows ? r.nrows : 1, sizeof *all);
    size_t m = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        char *p = systable_strdup(&r, i, F_PIPELINE);
        int mine = p && strcmp(p, pipeline) == 0;
        free(p);
        if (!mine)
            continue;
        srcfile *s = &all[m++];
        s->file = systable_strdup(&r, i, F_FILE);
        s->key = systable_strdup(&r, i, F_KEY);
        s->etag = systable_strdup(&r, i, F_ETAG);
        s->size = systable_i64(&r, i, F_SIZE, 0);
        s->mtime_ms = systable_i64(&r, i, F_MTIME, 0);
        s->batch_id = systable_i64(&r, i, F_BATCH, -1);
        s->state = systable_strdup(&r, i, F_STATE);
    }
    delta_rows_free(&r);
    qsort(all, m, sizeof *all, cmp_file_batch);
    /* keep the last (highest batch) row of each file */
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (i + 1 < m && strcmp(all[i].file, all[i + 1].file) == 0) {
            free(all[i].file);
            free(all[i].key);
            free(all[i].etag);
            free(all[i].state);
            continue;
        }
        all[k++] = all[i];
    }
    *out = all;
    *n = k;
    return SL_OK;
}

pl_known_file *srcfiles_known(const srcfile *v, size_t n, size_t *nknown)
{
    pl_known_file *k = sl_calloc(n ? n : 1, sizeof *k);
    *nknown = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].state, "present") != 0)
            continue;
        k[*nknown] = (pl_known_file){.key = v[i].key,
                                     .file = v[i].file,
                                     .etag = v[i].etag,
                                     .size = (uint64_t)v[i].size,
                                     .mtime_ms = v[i].mtime_ms};
        (*nknown)++;
    }
    return k;
}

sl_code srcfiles_record(store *lake, const char *pipeline, const srcfile *rows, size_t n,
                        int64_t batch_id, const delta_commit_meta *meta, sl_err *err)
{
    pq_value *cells = sl_calloc(n ? n * F_COUNT : 1, sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        pq_value *r = &cells[i * F_COUNT];
        r[F_PIPELINE] = pq_val_str(pipeline);
        r[F_FILE] = pq_val_str(rows[i].file);
        r[F_KEY] = rows[i].key ? pq_val_str(rows[i].key) : pq_val_null();
        r[F_ETAG] = rows[i].etag ? pq_val_str(rows[i].etag) : pq_val_null();
        r[F_SIZE] = pq_val_i64(rows[i].size);
        r[F_MTIME] = pq_val_i64(rows[i].mtime_ms);
        r[F_BATCH] = pq_val_i64(batch_id);
        r[F_STATE] = pq_val_str(rows[i].state);
    }
    char *app = sl_asprintf("sluice:%s:source_files", pipeline);
    systable_append_req req = {
        .rows = cells, .nrows = n, .app_id = app, .txn_version = batch_id, .meta = meta};
    sl_code c = systable_append(lake, &TABLE, &req, NULL, NULL, err);
    free(app);
    free(cells);
    return c;
}
