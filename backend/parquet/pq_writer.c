/* The file writer: rows go to the column writers; a row group is written out
 * (to the buffer or the sink) when it reaches its row or byte bound; finish
 * writes the footer. */
#include "backend/parquet/pq_writer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_column.h"
#include "backend/parquet/pq_meta.h"
#include "backend/util/text.h"
#include "version.h"

#define PQ_MAGIC "PAR1"
/* Largest single value accepted; pages must stay below 2 GiB (i32 sizes). */
#define PQ_VALUE_MAX ((size_t)1 << 30)
#define PQ_RG_DEFAULT_ROWS ((int64_t)1 << 20)
#define PQ_RG_DEFAULT_BYTES ((size_t)128 << 20)

struct pq_writer {
    pq_column *cols;
    size_t ncols;
    int64_t rg_max_rows;
    size_t rg_max_bytes;
    pq_page_scratch scratch;
    bool *repeat; /* per column: the row's cell repeats the previous one */
    /* The row group's byte bound without summing every column per row: the
     * bytes that may still come before it can be reached (0: sum now), and
     * the page count when last summed (a closed page changes the sum in
     * ways no per-cell bound covers). */
    size_t slack;
    uint64_t pages_seen;
    pq_sink_fn sink; /* NULL: collect into file */
    void *sink_ctx;
    sl_buf file;
    uint64_t offset; /* bytes written so far */
    int64_t num_rows;
    int64_t rg_rows;
    pq_rg_record *rgs;
    size_t nrgs, cap_rgs;
    bool finished, failed;
};

pq_value pq_val_str(const char *s)
{
    if (!s)
        return pq_val_null();
    return pq_val_strn(s, strlen(s));
}

static bool codec_of(pq_compression c, pq_codec *out)
{
    switch (c) {
    case PQ_COMPRESSION_DEFAULT:
    case PQ_COMPRESSION_SNAPPY:
        *out = PQ_CODEC_SNAPPY;
        return true;
    case PQ_COMPRESSION_NONE:
        *out = PQ_CODEC_UNCOMPRESSED;
        return true;
    case PQ_COMPRESSION_GZIP:
        *out = PQ_CODEC_GZIP;
        return true;
    case PQ_COMPRESSION_ZSTD:
        *out = PQ_CODEC_ZSTD;
        return true;
    case PQ_COMPRESSION_LZ4_RAW:
        *out = PQ_CODEC_LZ4_RAW;
        return true;
    case PQ_COMPRESSION_BROTLI:
        *out = PQ_CODEC_BROTLI;
        return true;
    }
    return false;
}

bool pq_compression_from_name(const char *name, pq_compression *out)
{
    static const struct {
        const char *name;
        pq_compression c;
    } names[] = {
        {"snappy", PQ_COMPRESSION_SNAPPY}, {"gzip", PQ_COMPRESSION_GZIP},
        {"zstd", PQ_COMPRESSION_ZSTD},     {"lz4_raw", PQ_COMPRESSION_LZ4_RAW},
        {"lz4", PQ_COMPRESSION_LZ4_RAW},   {"brotli", PQ_COMPRESSION_BROTLI},
        {"none", PQ_COMPRESSION_NONE},     {"uncompressed", PQ_COMPRESSION_NONE}};
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].c;
            return true;
        }
    return false;
}

bool pq_compression_codec(pq_compression c, pq_codec *out)
{
    return codec_of(c, out);
}

static sl_code check_schema(const pq_schema_col *cols, size_t ncols, sl_err *err)
{
    if (!cols || ncols == 0)
        return err_set(err, SL_PARQUET_SCHEMA,
                       "parquet writer: the schema has no columns");
    for (size_t i = 0; i < ncols; i++) {
        const pq_schema_col *c = &cols[i];
        if (!c->name || !*c->name)
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: column %zu has no name", i + 1);
        pq_type base = pq_type_base(c->type);
        int32_t p = pq_type_precision(c->type), sc = pq_type_scale(c->type);
        if (!pq_col_type_get(base) || (int)c->type >> 24 ||
            (base != PQ_TYPE_DECIMAL && (p || sc)))
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: column '%s' has unknown type %d", c->name,
                           (int)c->type);
        if (base == PQ_TYPE_DECIMAL && (p < 1 || p > PQ_DECIMAL_MAX_PRECISION || sc > p))
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: column '%s': decimal(%d,%d) needs precision "
                           "1..38 and scale 0..precision (use PQ_TYPE_DECIMAL_OF)",
                           c->name, (int)p, (int)sc);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->name, cols[j].name) == 0)
                return err_set(err, SL_PARQUET_SCHEMA,
                               "parquet writer: column name '%s' appears twice", c->name);
    }
    return SL_OK;
}

static pq_writer *writer_new(const pq_schema_col *cols, size_t ncols,
                             const pq_writer_opts *opts, pq_sink_fn sink, void *ctx,
                             sl_err *err)
{
    if (check_schema(cols, ncols, err) != SL_OK)
        return NULL;
    pq_codec codec;
    pq_compression comp = opts ? opts->compression : PQ_COMPRESSION_DEFAULT;
    if (!codec_of(comp, &codec)) {
        err_set(err, SL_PARQUET_UNSUPPORTED, "parquet writer: unknown compression %d",
                (int)comp);
        return NULL;
    }
    if (!pq_codec_supported(codec)) {
        err_set(err, SL_PARQUET_UNSUPPORTED,
                "parquet writer: compression %s is not built into this sluice",
                pq_codec_name(codec));
        return NULL;
    }
    pq_writer *w = sl_calloc(1, sizeof *w);
    w->cols = sl_calloc(ncols, sizeof *w->cols);
    w->ncols = ncols;
    w->repeat = sl_calloc(ncols, sizeof *w->repeat);
    w->rg_max_rows =
        opts && opts->row_group_rows > 0 ? opts->row_group_rows : PQ_RG_DEFAULT_ROWS;
    w->rg_max_bytes =
        opts && opts->row_group_bytes ? opts->row_group_bytes : PQ_RG_DEFAULT_BYTES;
    w->sink = sink;
    w->sink_ctx = ctx;
    for (size_t i = 0; i < ncols; i++)
        pq_column_init(&w->cols[i], &cols[i], opts, codec, &w->scratch);
    if (!sink)
        buf_append(&w->file, PQ_MAGIC, 4);
    return w;
}

pq_writer *pq_writer_new(const pq_schema_col *cols, size_t ncols,
                         const pq_writer_opts *opts, sl_err *err)
{
    pq_writer *w = writer_new(cols, ncols, opts, NULL, NULL, err);
    if (w)
        w->offset = 4;
    return w;
}

pq_writer *pq_writer_new_sink(const pq_schema_col *cols, size_t ncols,
                              const pq_writer_opts *opts, pq_sink_fn sink, void *ctx,
                              sl_err *err)
{
    if (!sink) {
        err_set(err, SL_INTERNAL, "parquet writer: no sink given");
        return NULL;
    }
    pq_writer *w = writer_new(cols, ncols, opts, sink, ctx, err);
    if (!w)
        return NULL;
    /* The magic goes out with the first row group or the footer, so a
     * writer that is dropped before then has written nothing. */
    return w;
}

int64_t pq_writer_num_rows(const pq_writer *w)
{
    return w->num_rows;
}

static sl_code emit(pq_writer *w, const void *p, size_t n, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    if (w->sink) {
        if (w->offset == 0) {
            sl_code rc = w->sink(w->sink_ctx, PQ_MAGIC, 4, err);
            if (rc != SL_OK)
                return rc;
            w->offset = 4;
        }
        sl_code rc = w->sink(w->sink_ctx, p, n, err);
        if (rc != SL_OK)
            return rc;
    } else {
        buf_append(&w->file, p, n);
    }
    w->offset += n;
    return SL_OK;
}

/* Most strings are ASCII: one OR per eight bytes proves them UTF-8 without
 * a call; anything else goes to the exact check. */
static inline bool utf8_valid(const char *s, size_t n)
{
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t acc = 0, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        acc |= x;
    }
    if (n >= 8) {
        memcpy(&x, s + n - 8, 8); /* the tail, overlapping */
        acc |= x;
    } else {
        for (; i < n; i++)
            acc |= (unsigned char)s[i]; /* a byte's high bit is 0x80 of high */
    }
    if (!(acc & high))
        return true;
    return text_utf8_valid((const uint8_t *)s, n);
}

/* Checks every cell before any column takes one, so a refused row leaves
 * the writer unchanged; notes in w->repeat the cells equal to their
 * column's previous value (a string that repeats was checked already). */
static sl_code check_row(pq_writer *w, const pq_value *values, size_t *growth,
                         sl_err *err)
{
    int64_t row = w->num_rows + 1;
    size_t g = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_column *c = &w->cols[i];
        const pq_value *v = &values[i];
        w->repeat[i] = false;
        g += PQ_CELL_GROWTH;
        if (v->is_null) {
            g -= PQ_CELL_GROWTH - PQ_REPEAT_GROWTH;
            if (!c->nullable)
                return err_set(
                    err, SL_PARQUET_VALUE,
                    "parquet writer: row %lld: column '%s' is required but got null",
                    (long long)row, c->name);
            continue;
        }
        if (c->kind == PQ_KIND_BYTES) {
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
            if ((w->repeat[i] = pq_column_repeats(c, v))) {
                g -= PQ_CELL_GROWTH - PQ_REPEAT_GROWTH;
                continue;
            }
            g += v->str.len + 4;
            if (c->t->type == PQ_TYPE_STRING && !utf8_valid(v->str.ptr, v->str.len))
                return err_set(err, SL_PARQUET_VALUE,
                               "parquet writer: row %lld: column '%s' is not valid UTF-8",
                               (long long)row, c->name);
        } else if (c->is_decimal && !pq_int128_fits_precision(v->dec, c->precision)) {
            char text[48];
            pq_decimal_format(v->dec, c->scale, text, sizeof text);
            return err_set(err, SL_PARQUET_VALUE,
                           "parquet writer: row %lld: column '%s': %s does not fit "
                           "decimal(%d,%d)",
                           (long long)row, c->name, text, (int)c->precision,
                           (int)c->scale);
        } else {
            w->repeat[i] = pq_column_repeats(c, v);
        }
        g += 16; /* the widest fixed value (FLBA) */
    }
    *growth = g;
    return SL_OK;
}

/* Writes every column's open chunk out and records the row group. */
static sl_code flush_row_group(pq_writer *w, sl_err *err)
{
    if (w->rg_rows == 0)
        return SL_OK;
    /* owned by the writer from here, even on failure */
    pq_rg_record *rec = pq_rg_records_add(&w->rgs, &w->nrgs, &w->cap_rgs, w->ncols);

    int64_t total_unc = 0, total_comp = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_column *c = &w->cols[i];
        sl_code rc = pq_column_finish_chunk(c, err);
        if (rc != SL_OK)
            return rc;
        int64_t dict_off = 0;
        if (c->dict_page.len) {
            dict_off = (int64_t)(w->offset ? w->offset : 4);
            if ((rc = emit(w, c->dict_page.data, c->dict_page.len, err)) != SL_OK)
                return rc;
        }
        int64_t data_off = (int64_t)(w->offset ? w->offset : 4);
        if ((rc = emit(w, c->chunk.data, c->chunk.len, err)) != SL_OK)
            return rc;
        pq_column_fill_meta(c, c->path, 1, dict_off, data_off, &rec->chunks[i],
                            rec->enc_stats[i], &rec->stat_min[i], &rec->stat_max[i]);
        total_unc += rec->chunks[i].meta.total_uncompressed_size;
        total_comp += rec->chunks[i].meta.total_compressed_size;
        pq_column_next_chunk(c);
    }
    rec->rg.columns = rec->chunks;
    rec->rg.num_columns = w->ncols;
    rec->rg.total_byte_size = total_unc;
    rec->rg.total_compressed_size = total_comp;
    rec->rg.num_rows = w->rg_rows;
    rec->rg.file_offset = rec->chunks[0].file_offset;
    rec->rg.ordinal = w->nrgs - 1 <= INT16_MAX ? (int16_t)(w->nrgs - 1) : -1;
    w->rg_rows = 0;
    return SL_OK;
}

static sl_code failed(pq_writer *w, sl_err *err)
{
    (void)w;
    return err_set(err, SL_INTERNAL, "parquet writer: the writer failed earlier");
}

/* Whether the row group holds rg_max_bytes after a row that added at most
 * growth bytes. The columns are summed only when a page closed or the
 * bound could have been reached; otherwise the row's growth comes off the
 * slack, so the group still closes on the first row that reaches it. */
static bool rg_bytes_reached(pq_writer *w, size_t growth)
{
    if (growth < w->slack && w->scratch.pages == w->pages_seen) {
        w->slack -= growth;
        return false;
    }
    size_t buffered = 0;
    for (size_t i = 0; i < w->ncols; i++)
        buffered += pq_column_buffered(&w->cols[i]);
    w->pages_seen = w->scratch.pages;
    w->slack = buffered < w->rg_max_bytes ? w->rg_max_bytes - buffered : 0;
    return buffered >= w->rg_max_bytes;
}

sl_code pq_writer_add_row(pq_writer *w, const pq_value *values, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: add_row after finish");
    if (w->failed)
        return failed(w, err);
    size_t growth = 0;
    sl_code rc = check_row(w, values, &growth, err);
    if (rc != SL_OK)
        return rc;
    for (size_t i = 0; i < w->ncols; i++) {
        if ((rc = pq_column_add(&w->cols[i], &values[i], w->repeat[i], err)) != SL_OK) {
            w->failed = true;
            return rc;
        }
    }
    w->num_rows++;
    w->rg_rows++;
    if (w->rg_rows >= w->rg_max_rows || rg_bytes_reached(w, growth)) {
        if ((rc = flush_row_group(w, err)) != SL_OK) {
            w->failed = true;
            return rc;
        }
    }
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
        pq_schema_element *e = &schema[i + 1];
        *e = (pq_schema_element){
            .name = c->name,
            .has_type = true,
            .type = c->physical,
            .type_length = c->type_length,
            .has_repetition = true,
            .repetition = c->nullable ? PQ_REP_OPTIONAL : PQ_REP_REQUIRED,
            .converted = c->t->converted,
            .logical = c->t->logical,
        };
        if (c->is_decimal) {
            e->has_decimal = true;
            e->scale = c->scale;
            e->precision = c->precision;
            e->logical.dec_scale = c->scale;
            e->logical.dec_precision = c->precision;
        }
    }
}

static sl_code write_footer(pq_writer *w, sl_err *err)
{
    pq_schema_element *schema = sl_calloc(w->ncols + 1, sizeof *schema);
    fill_schema(w, schema);
    pq_row_group *rgs = sl_calloc(w->nrgs ? w->nrgs : 1, sizeof *rgs);
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
    sl_buf footer = {0};
    pq_meta_write_file_meta(&footer, &fm);
    uint32_t footer_len = (uint32_t)footer.len;
    unsigned char tail[8] = {(unsigned char)footer_len,
                             (unsigned char)(footer_len >> 8),
                             (unsigned char)(footer_len >> 16),
                             (unsigned char)(footer_len >> 24),
                             'P',
                             'A',
                             'R',
                             '1'};
    buf_append(&footer, tail, sizeof tail);
    sl_code rc = emit(w, footer.data, footer.len, err);
    buf_free(&footer);
    free(created_by);
    free(rgs);
    free(schema);
    return rc;
}

sl_code pq_writer_finish(pq_writer *w, sl_buf *file_out, pq_file_stats *stats_out,
                         sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: finish called twice");
    if (w->failed)
        return failed(w, err);
    sl_code rc = flush_row_group(w, err);
    if (rc == SL_OK)
        rc = write_footer(w, err);
    if (rc != SL_OK) {
        w->failed = true;
        return rc;
    }
    w->finished = true;
    if (stats_out) {
        stats_out->num_rows = w->num_rows;
        stats_out->file_size = (int64_t)w->offset;
        stats_out->delta_stats_json = pq_delta_stats_text(w->cols, w->ncols, w->num_rows);
        stats_out->delta_stats = pq_delta_stats_build(stats_out->delta_stats_json);
    }
    if (file_out) {
        buf_free(file_out);
        if (!w->sink) {
            *file_out = w->file;
            memset(&w->file, 0, sizeof w->file);
        }
    }
    return SL_OK;
}

void pq_writer_free(pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++)
        pq_column_free(&w->cols[i]);
    free(w->cols);
    free(w->repeat);
    pq_rg_records_free(w->rgs, w->nrgs, w->ncols);
    buf_free(&w->scratch.body);
    buf_free(&w->scratch.comp);
    buf_free(&w->scratch.levels);
    buf_free(&w->file);
    free(w);
}

void pq_file_stats_free(pq_file_stats *s)
{
    if (!s)
        return;
    json_decref(s->delta_stats);
    s->delta_stats = NULL;
    free(s->delta_stats_json);
    s->delta_stats_json = NULL;
    s->num_rows = 0;
    s->file_size = 0;
}
