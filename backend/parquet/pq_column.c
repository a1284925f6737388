/* Page and chunk mechanics shared by every column type. */
#include "backend/parquet/pq_column.h"

#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_rle.h"

void pq_column_init(pq_column *c, const pq_schema_col *sc, const pq_col_type *t,
                    size_t page_size)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->name = sl_strdup(sc->name);
    c->path[0] = c->name;
    c->nullable = sc->nullable;
    c->page_size = page_size ? page_size : PQ_PAGE_DEFAULT_SIZE;
    if (c->page_size > PQ_PAGE_HARD_MAX)
        c->page_size = PQ_PAGE_HARD_MAX;
}

void pq_col_stats_free(pq_col_stats *s)
{
    buf_free(&s->min_buf);
    buf_free(&s->max_buf);
    memset(s, 0, sizeof *s);
}

void pq_column_free(pq_column *c)
{
    free(c->name);
    buf_free(&c->page_values);
    buf_free(&c->page_levels);
    buf_free(&c->chunk);
    pq_col_stats_free(&c->chunk_stats);
    pq_col_stats_free(&c->file_stats);
    memset(c, 0, sizeof *c);
}

/* Keeps a copy of v as a bound; strings move into the bound's own buffer. */
static void stats_keep(const pq_col_type *t, pq_value *dst, sl_buf *store,
                       const pq_value *v)
{
    *dst = *v;
    if (t->physical == PQ_PHYS_BYTE_ARRAY) {
        buf_reset(store);
        buf_reserve(store, v->str.len);
        if (v->str.len)
            buf_append(store, v->str.ptr, v->str.len);
        dst->str.ptr = store->data;
    }
}

void pq_col_stats_update(const pq_col_type *t, pq_col_stats *s, const pq_value *v)
{
    if (!t->stat_eligible(v))
        return;
    if (!s->has_min_max) {
        stats_keep(t, &s->min, &s->min_buf, v);
        stats_keep(t, &s->max, &s->max_buf, v);
        s->has_min_max = true;
        return;
    }
    if (t->compare(v, &s->min) < 0)
        stats_keep(t, &s->min, &s->min_buf, v);
    if (t->compare(v, &s->max) > 0)
        stats_keep(t, &s->max, &s->max_buf, v);
}

void pq_column_add(pq_column *c, const pq_value *v)
{
    size_t size = v->is_null ? 0 : c->t->plain_size(v);
    if (c->page_rows > 0 && c->page_values.len + size > PQ_PAGE_HARD_MAX)
        pq_column_flush_page(c);
    if (c->nullable)
        buf_append_char(&c->page_levels, v->is_null ? 0 : 1);
    if (v->is_null) {
        c->chunk_stats.null_count++;
    } else {
        c->t->put_plain(c, v);
        c->page_nonnull++;
        pq_col_stats_update(c->t, &c->chunk_stats, v);
    }
    c->page_rows++;
    c->chunk_rows++;
    if (c->page_values.len >= c->page_size || c->page_rows >= PQ_PAGE_MAX_ROWS)
        pq_column_flush_page(c);
}

void pq_column_flush_page(pq_column *c)
{
    if (c->page_rows == 0)
        return;
    /* DATA_PAGE v1 body: [definition levels: 4-byte length + RLE] values.
     * Flat columns have no repetition levels. */
    sl_buf levels = {0};
    if (c->nullable)
        pq_rle_encode_u8(&levels, (const uint8_t *)c->page_levels.data,
                         c->page_levels.len, 1);
    size_t body = c->page_values.len + (c->nullable ? 4 + levels.len : 0);

    pq_page_header h = {
        .type = PQ_PAGE_DATA,
        .uncompressed_page_size = (int32_t)body,
        .compressed_page_size = (int32_t)body,
        .data = {.num_values = (int32_t)c->page_rows,
                 .encoding = PQ_ENC_PLAIN,
                 .definition_level_encoding = PQ_ENC_RLE,
                 .repetition_level_encoding = PQ_ENC_RLE},
    };
    pq_meta_write_page_header(&c->chunk, &h);
    if (c->nullable) {
        uint32_t n = (uint32_t)levels.len;
        unsigned char le[4] = {(unsigned char)n, (unsigned char)(n >> 8),
                               (unsigned char)(n >> 16), (unsigned char)(n >> 24)};
        buf_append(&c->chunk, le, sizeof le);
        buf_append(&c->chunk, levels.data, levels.len);
    }
    buf_append(&c->chunk, c->page_values.data, c->page_values.len);
    buf_free(&levels);

    buf_reset(&c->page_values);
    buf_reset(&c->page_levels);
    c->page_rows = 0;
    c->page_nonnull = 0;
}

void pq_column_next_chunk(pq_column *c)
{
    pq_col_stats *cs = &c->chunk_stats, *fs = &c->file_stats;
    fs->null_count += cs->null_count;
    if (cs->has_min_max) {
        pq_col_stats_update(c->t, fs, &cs->min);
        pq_col_stats_update(c->t, fs, &cs->max);
    }
    pq_col_stats_free(cs);
    buf_reset(&c->chunk);
    c->chunk_rows = 0;
}
