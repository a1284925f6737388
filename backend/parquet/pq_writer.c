/* The file writer: rows go to the column writers; row groups are copied into
 * the file as they close; finish writes the footer. */
#include "backend/parquet/pq_writer.h"

#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_column.h"
#include "backend/parquet/pq_meta.h"
#include "version.h"

#define PQ_MAGIC "PAR1"
/* Largest single value accepted; pages must stay below 2 GiB (i32 sizes). */
#define PQ_VALUE_MAX ((size_t)1 << 30)

/* A closed row group: its metadata plus the statistics bytes it points to. */
typedef struct rg_record {
    pq_row_group rg;
    pq_column_chunk *chunks;
    sl_buf *stat_min, *stat_max;
} rg_record;

struct pq_writer {
    pq_column *cols;
    size_t ncols;
    int64_t row_group_rows; /* 0: unlimited */
    sl_buf file;
    int64_t num_rows;
    int64_t rg_rows;
    rg_record *rgs;
    size_t nrgs, cap_rgs;
    bool finished;
};

pq_value pq_val_str(const char *s)
{
    if (!s)
        return pq_val_null();
    return pq_val_strn(s, strlen(s));
}

pq_writer *pq_writer_new(const pq_schema_col *cols, size_t ncols,
                         const pq_writer_opts *opts, sl_err *err)
{
    if (!cols || ncols == 0) {
        err_set(err, SL_PARQUET_SCHEMA, "parquet writer: the schema has no columns");
        return NULL;
    }
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i].name || !*cols[i].name) {
            err_set(err, SL_PARQUET_SCHEMA, "parquet writer: column %zu has no name",
                    i + 1);
            return NULL;
        }
        if (!pq_col_type_get(cols[i].type)) {
            err_set(err, SL_PARQUET_SCHEMA,
                    "parquet writer: column '%s' has unknown type %d", cols[i].name,
                    (int)cols[i].type);
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[i].name, cols[j].name) == 0) {
                err_set(err, SL_PARQUET_SCHEMA,
                        "parquet writer: column name '%s' appears twice", cols[i].name);
                return NULL;
            }
    }
    pq_writer *w = sl_calloc(1, sizeof *w);
    w->cols = sl_calloc(ncols, sizeof *w->cols);
    w->ncols = ncols;
    size_t page_size = opts ? opts->page_size : 0;
    w->row_group_rows = opts && opts->row_group_rows > 0 ? opts->row_group_rows : 0;
    for (size_t i = 0; i < ncols; i++)
        pq_column_init(&w->cols[i], &cols[i], pq_col_type_get(cols[i].type), page_size);
    buf_append(&w->file, PQ_MAGIC, 4);
    return w;
}

int64_t pq_writer_num_rows(const pq_writer *w)
{
    return w->num_rows;
}

static sl_code check_row(const pq_writer *w, const pq_value *values, sl_err *err)
{
    int64_t row = w->num_rows + 1;
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_column *c = &w->cols[i];
        const pq_value *v = &values[i];
        if (v->is_null) {
            if (!c->nullable)
                return err_set(
                    err, SL_PARQUET_VALUE,
                    "parquet writer: row %lld: column '%s' is required but got null",
                    (long long)row, c->name);
            continue;
        }
        if (c->t->physical == PQ_PHYS_BYTE_ARRAY) {
            if (v->str.len > PQ_VALUE_MAX)
                return err_set(
                    err, SL_PARQUET_VALUE,
                    "parquet writer: row %lld: column '%s' value of %zu bytes is "
                    "over the 1 GiB limit",
                    (long long)row, c->name, v->str.len);
            if (!v->str.ptr && v->str.len)
                return err_set(
                    err, SL_PARQUET_VALUE,
                    "parquet writer: row %lld: column '%s' has a NULL string pointer",
                    (long long)row, c->name);
        }
    }
    return SL_OK;
}

/* Moves every column's open chunk into the file and records the row group. */
static void flush_row_group(pq_writer *w)
{
    if (w->rg_rows == 0)
        return;
    if (w->nrgs == w->cap_rgs) {
        w->cap_rgs = w->cap_rgs ? w->cap_rgs * 2 : 4;
        w->rgs = sl_realloc(w->rgs, w->cap_rgs * sizeof *w->rgs);
    }
    rg_record *rec = &w->rgs[w->nrgs];
    memset(rec, 0, sizeof *rec);
    rec->chunks = sl_calloc(w->ncols, sizeof *rec->chunks);
    rec->stat_min = sl_calloc(w->ncols, sizeof *rec->stat_min);
    rec->stat_max = sl_calloc(w->ncols, sizeof *rec->stat_max);

    int64_t total = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_column *c = &w->cols[i];
        pq_column_flush_page(c);
        pq_column_chunk *cc = &rec->chunks[i];
        int64_t offset = (int64_t)w->file.len;
        buf_append(&w->file, c->chunk.data, c->chunk.len);

        pq_column_meta *m = &cc->meta;
        cc->file_offset = offset;
        m->type = c->t->physical;
        m->encodings[0] = PQ_ENC_PLAIN;
        m->encodings[1] = PQ_ENC_RLE;
        m->num_encodings = 2;
        m->path = c->path;
        m->path_len = 1;
        m->codec = PQ_CODEC_UNCOMPRESSED;
        m->num_values = c->chunk_rows;
        m->total_uncompressed_size = (int64_t)c->chunk.len;
        m->total_compressed_size = (int64_t)c->chunk.len;
        m->data_page_offset = offset;
        m->has_statistics = true;
        m->statistics.has_null_count = true;
        m->statistics.null_count = c->chunk_stats.null_count;
        if (c->chunk_stats.has_min_max) {
            c->t->stat_encode(&c->chunk_stats.min, false, &rec->stat_min[i]);
            c->t->stat_encode(&c->chunk_stats.max, true, &rec->stat_max[i]);
            m->statistics.has_min_max = true;
            m->statistics.min_value = rec->stat_min[i].data;
            m->statistics.min_len = rec->stat_min[i].len;
            m->statistics.max_value = rec->stat_max[i].data;
            m->statistics.max_len = rec->stat_max[i].len;
            m->statistics.write_legacy = c->t->legacy_stats;
        }
        total += (int64_t)c->chunk.len;
        pq_column_next_chunk(c);
    }
    rec->rg.columns = rec->chunks;
    rec->rg.num_columns = w->ncols;
    rec->rg.total_byte_size = total;
    rec->rg.total_compressed_size = total;
    rec->rg.num_rows = w->rg_rows;
    rec->rg.file_offset = rec->chunks[0].file_offset;
    rec->rg.ordinal = w->nrgs <= INT16_MAX ? (int16_t)w->nrgs : -1;
    w->nrgs++;
    w->rg_rows = 0;
}

sl_code pq_writer_add_row(pq_writer *w, const pq_value *values, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: add_row after finish");
    sl_code rc = check_row(w, values, err);
    if (rc != SL_OK)
        return rc;
    for (size_t i = 0; i < w->ncols; i++)
        pq_column_add(&w->cols[i], &values[i]);
    w->num_rows++;
    w->rg_rows++;
    if (w->row_group_rows > 0 && w->rg_rows >= w->row_group_rows)
        flush_row_group(w);
    return SL_OK;
}

static void fill_schema(const pq_writer *w, pq_schema_element *schema)
{
    schema[0] = (pq_schema_element){
        .name = "schema",
        .num_children = (int32_t)w->ncols,
        .converted = PQ_CONV_NONE,
    };
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_column *c = &w->cols[i];
        schema[i + 1] = (pq_schema_element){
            .name = c->name,
            .has_type = true,
            .type = c->t->physical,
            .has_repetition = true,
            .repetition = c->nullable ? PQ_REP_OPTIONAL : PQ_REP_REQUIRED,
            .converted = c->t->converted,
            .logical = c->t->logical,
        };
    }
}

sl_code pq_writer_finish(pq_writer *w, sl_buf *file_out, pq_file_stats *stats_out,
                         sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: finish called twice");
    flush_row_group(w);
    w->finished = true;

    pq_schema_element *schema = sl_calloc(w->ncols + 1, sizeof *schema);
    fill_schema(w, schema);
    pq_row_group *rgs = sl_calloc(w->nrgs, sizeof *rgs);
    for (size_t i = 0; i < w->nrgs; i++)
        rgs[i] = w->rgs[i].rg;
    char *created_by =
        sl_asprintf("sluice version %s (build %s)", SLUICE_VERSION, SLUICE_BUILD_ID);
    pq_file_meta fm = {
        .version = 1,
        .schema = schema,
        .num_schema = w->ncols + 1,
        .num_rows = w->num_rows,
        .row_groups = rgs,
        .num_row_groups = w->nrgs,
        .created_by = created_by,
        .type_defined_order = true,
        .num_leaves = w->ncols,
    };
    size_t footer_start = w->file.len;
    pq_meta_write_file_meta(&w->file, &fm);
    uint32_t footer_len = (uint32_t)(w->file.len - footer_start);
    unsigned char le[4] = {(unsigned char)footer_len, (unsigned char)(footer_len >> 8),
                           (unsigned char)(footer_len >> 16),
                           (unsigned char)(footer_len >> 24)};
    buf_append(&w->file, le, sizeof le);
    buf_append(&w->file, PQ_MAGIC, 4);
    free(created_by);
    free(rgs);
    free(schema);

    if (stats_out) {
        stats_out->num_rows = w->num_rows;
        stats_out->delta_stats = pq_delta_stats_build(w->cols, w->ncols, w->num_rows);
    }
    buf_free(file_out);
    *file_out = w->file;
    memset(&w->file, 0, sizeof w->file);
    return SL_OK;
}

void pq_writer_free(pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++)
        pq_column_free(&w->cols[i]);
    free(w->cols);
    for (size_t i = 0; i < w->nrgs; i++) {
        for (size_t j = 0; j < w->ncols; j++) {
            buf_free(&w->rgs[i].stat_min[j]);
            buf_free(&w->rgs[i].stat_max[j]);
        }
        free(w->rgs[i].stat_min);
        free(w->rgs[i].stat_max);
        free(w->rgs[i].chunks);
    }
    free(w->rgs);
    buf_free(&w->file);
    free(w);
}

void pq_file_stats_free(pq_file_stats *s)
{
    if (!s)
        return;
    json_decref(s->delta_stats);
    s->delta_stats = NULL;
    s->num_rows = 0;
}
