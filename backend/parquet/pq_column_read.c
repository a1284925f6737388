/* Reading one column chunk: its bytes in one read, then page after page
 * (header, body) until the chunk's value count is reached. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_read_int.h"

void pq_col_keep(pq_col_state *s, uint8_t *buf)
{
    if (s->nbufs == s->bufs_cap) {
        s->bufs_cap = s->bufs_cap ? 2 * s->bufs_cap : 8;
        s->bufs = sl_realloc(s->bufs, s->bufs_cap * sizeof *s->bufs);
    }
    s->bufs[s->nbufs++] = buf;
}

static void col_state_free(pq_col_state *s)
{
    if (!s)
        return;
    free(s->def);
    free(s->rep);
    free(s->values);
    free(s->dict);
    free(s->scratch);
    for (size_t i = 0; i < s->nbufs; i++)
        free(s->bufs[i]);
    free(s->bufs);
    free(s);
}

void pq_column_data_free(pq_column_data *d)
{
    if (!d)
        return;
    col_state_free(d->storage);
    memset(d, 0, sizeof *d);
}

static size_t elem_size(const pq_node *l)
{
    switch (l->type) {
    case PQ_PHYS_BOOLEAN: return 1;
    case PQ_PHYS_INT32:
    case PQ_PHYS_FLOAT: return 4;
    case PQ_PHYS_INT64:
    case PQ_PHYS_DOUBLE: return 8;
    case PQ_PHYS_INT96: return 12;
    default: return sizeof(pq_span);
    }
}

/* Where the chunk's first page starts: the dictionary page when there is
 * one (a zero offset means none), else the first data page. */
static int64_t chunk_start(const pq_chunk_info *ci)
{
    if (ci->dictionary_page_offset > 0 && ci->dictionary_page_offset < ci->data_page_offset)
        return ci->dictionary_page_offset;
    return ci->data_page_offset;
}

static sl_code read_pages(pq_col_state *s, const uint8_t *chunk, size_t len, size_t *page_no,
                          size_t *page_at, sl_err *err)
{
    size_t pos = 0;
    while (s->nlevels < s->total) {
        *page_at = pos;
        if (pos >= len)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "the chunk ends after %zu of its %zu values", s->nlevels, s->total);
        pq_page_hdr h;
        size_t used = 0;
        sl_code c = pq_meta_read_page_header(chunk + pos, len - pos, &h, &used, err);
        if (c != SL_OK)
            return c;
        pos += used;
        if ((size_t)h.compressed_size > len - pos)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "page of %d bytes runs past the chunk end (%zu bytes left)",
                           h.compressed_size, len - pos);
        if ((c = pq_page_decode(s, &h, chunk + pos, err)) != SL_OK)
            return c;
        pos += (size_t)h.compressed_size;
        ++*page_no;
    }
    return SL_OK;
}

/* Level entries that start a row must match the row group's row count. */
static sl_code check_rows(const pq_col_state *s, int64_t num_rows, sl_err *err)
{
    size_t rows = s->nlevels;
    if (s->leaf->max_rep > 0) {
        rows = 0;
        for (size_t i = 0; i < s->nlevels; i++)
            rows += s->rep[i] == 0;
        if (s->nlevels > 0 && s->rep[0] != 0)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "the first repetition level is %d, not 0", s->rep[0]);
    }
    if ((int64_t)rows != num_rows)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "the chunk holds %zu rows but its row group %lld", rows,
                       (long long)num_rows);
    return SL_OK;
}

sl_code pq_read_column(pq_reader *r, size_t row_group, size_t leaf, pq_column_data *out,
                       sl_err *err)
{
    memset(out, 0, sizeof *out);
    const pq_file_info *info = &r->info;
    if (row_group >= info->num_row_groups || leaf >= info->num_leaves)
        return err_set(err, SL_PARQUET_NO_COLUMN,
                       "%s has no row group %zu / column %zu (%zu row groups, %zu columns)",
                       r->src.name, row_group, leaf, info->num_row_groups, info->num_leaves);
    const pq_rowgroup_info *rg = &info->row_groups[row_group];
    const pq_chunk_info *ci = &rg->chunks[leaf];
    const pq_node *node = info->leaves[leaf];
    pq_col_state *s = sl_calloc(1, sizeof *s);
    s->leaf = node;
    s->codec = ci->codec;
    s->elem_size = elem_size(node);
    s->total = (size_t)ci->num_values;
    size_t page_no = 0, page_at = 0;
    int64_t start = chunk_start(ci);
    uint64_t data_end = info->file_size - info->footer_len - 8;
    sl_code c = SL_OK;
    uint8_t *chunk = NULL;
    size_t len = (size_t)ci->total_compressed_size;
    if (ci->num_values == 0) {
        /* Nothing to read (some writers leave the offsets of empty chunks
         * unset); the arrays still exist so callers never see NULL. */
        s->values = sl_calloc(1, s->elem_size);
        s->def = node->max_def > 0 ? sl_calloc(1, sizeof *s->def) : NULL;
        s->rep = node->max_rep > 0 ? sl_calloc(1, sizeof *s->rep) : NULL;
        c = check_rows(s, rg->num_rows, err);
    } else if ((uint64_t)ci->num_values > PQ_MAX_CHUNK_LEVELS)
        c = err_set(err, SL_PARQUET_UNSUPPORTED, "the chunk holds %lld values (limit %zu)",
                    (long long)ci->num_values, PQ_MAX_CHUNK_LEVELS);
    else if (start < 4 || (uint64_t)start > data_end ||
             (uint64_t)ci->total_compressed_size > data_end - (uint64_t)start)
        c = err_set(err, SL_PARQUET_CORRUPT,
                    "the chunk at byte %lld of %lld bytes lies outside the data (ends at %llu)",
                    (long long)start, (long long)ci->total_compressed_size,
                    (unsigned long long)data_end);
    else if (!(chunk = malloc(len ? len : 1)))
        c = err_set(err, SL_PARQUET_UNSUPPORTED, "cannot allocate %zu bytes for the chunk", len);
    else if ((c = r->src.read(r->src.ctx, (uint64_t)start, len, chunk, err)) == SL_OK) {
        pq_col_keep(s, chunk);
        c = read_pages(s, chunk, len, &page_no, &page_at, err);
        if (c == SL_OK)
            c = check_rows(s, rg->num_rows, err);
    } else {
        free(chunk);
    }
    if (c != SL_OK) {
        err_wrap(err, "%s: row group %zu, column %s, page %zu at byte %llu", r->src.name,
                 row_group, node->path, page_no,
                 (unsigned long long)((uint64_t)start + page_at));
        col_state_free(s);
        return c;
    }
    out->leaf = node;
    out->num_levels = s->nlevels;
    out->def = node->max_def > 0 ? s->def : NULL;
    out->rep = node->max_rep > 0 ? s->rep : NULL;
    out->num_values = s->nvalues;
    out->values = s->values;
    out->storage = s;
    return SL_OK;
}
