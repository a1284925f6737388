/* The column writer: values into pages (dictionary indices or PLAIN), pages
 * compressed into the open chunk, the chunk's dictionary page, statistics.
 * One switch on the physical kind per value; no per-value allocation. */
#include "backend/parquet/pq_column.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_rle.h"

static inline void le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void le64(unsigned char *p, uint64_t v)
{
    le32(p, (uint32_t)v);
    le32(p + 4, (uint32_t)(v >> 32));
}

/* Big-endian two's complement in width bytes (the FLBA decimal form). */
static inline void dec_be(unsigned char *p, pq_int128 v, size_t width)
{
    for (size_t i = 0; i < width; i++) {
        size_t shift = 8 * (width - 1 - i);
        uint64_t word = shift >= 64 ? (uint64_t)v.hi : v.lo;
        p[i] = (unsigned char)(word >> (shift % 64));
    }
}

void pq_column_init(pq_column *c, const pq_schema_col *sc, const pq_writer_opts *o,
                    pq_codec codec, pq_page_scratch *scratch)
{
    memset(c, 0, sizeof *c);
    c->t = pq_col_type_get(pq_type_base(sc->type));
    c->name = sl_strdup(sc->name);
    c->path[0] = c->name;
    c->nullable = sc->nullable;
    c->max_def = sc->nullable ? 1 : 0;
    c->physical = c->t->physical;
    if (c->t->type == PQ_TYPE_DECIMAL) {
        c->is_decimal = true;
        c->precision = pq_type_precision(sc->type);
        c->scale = pq_type_scale(sc->type);
        if (c->precision > 18) {
            c->physical = PQ_PHYS_FIXED_LEN_BYTE_ARRAY;
            c->type_length = pq_decimal_flba_length(c->precision);
        } else {
            c->physical = c->precision > 9 ? PQ_PHYS_INT64 : PQ_PHYS_INT32;
        }
    }
    switch (c->physical) {
    case PQ_PHYS_BOOLEAN:
        c->kind = PQ_KIND_BOOL;
        break;
    case PQ_PHYS_INT32:
        c->kind = PQ_KIND_I32, c->width = 4;
        break;
    case PQ_PHYS_INT64:
        c->kind = PQ_KIND_I64, c->width = 8;
        break;
    case PQ_PHYS_FLOAT:
        c->kind = PQ_KIND_FLOAT, c->width = 4;
        break;
    case PQ_PHYS_DOUBLE:
        c->kind = PQ_KIND_DOUBLE, c->width = 8;
        break;
    case PQ_PHYS_FIXED_LEN_BYTE_ARRAY:
        c->kind = PQ_KIND_FLBA, c->width = (size_t)c->type_length;
        break;
    default:
        c->kind = PQ_KIND_BYTES;
        break;
    }
    size_t page_size = o && o->page_size ? o->page_size : PQ_PAGE_DEFAULT_SIZE;
    c->page_size = page_size > PQ_PAGE_HARD_MAX ? PQ_PAGE_HARD_MAX : page_size;
    size_t limit = o && o->dictionary_limit ? o->dictionary_limit : PQ_DICT_DEFAULT_LIMIT;
    c->dict_limit = limit > PQ_PAGE_HARD_MAX ? PQ_PAGE_HARD_MAX : limit;
    c->use_dict = !(o && o->no_dictionary) && c->kind != PQ_KIND_BOOL;
    c->dict_on = c->use_dict;
    c->codec = codec;
    c->level = o ? o->compression_level : 0;
    c->scratch = scratch;
    pq_dict_init(&c->dict, c->kind == PQ_KIND_BYTES ? 0 : c->width);
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
    free(c->levels);
    free(c->reps);
    free(c->idx);
    buf_free(&c->page_values);
    buf_free(&c->chunk);
    buf_free(&c->dict_page);
    pq_dict_free(&c->dict);
    pq_col_stats_free(&c->chunk_stats);
    pq_col_stats_free(&c->file_stats);
    memset(c, 0, sizeof *c);
}

/* ---- statistics ---- */

static inline int cmp_bytes(const pq_value *a, const pq_value *b)
{
    size_t n = a->str.len < b->str.len ? a->str.len : b->str.len;
    int r = n ? memcmp(a->str.ptr, b->str.ptr, n) : 0;
    if (r)
        return r;
    return (a->str.len > b->str.len) - (a->str.len < b->str.len);
}

/* <0, 0, >0 in the kind's order (NaN never reaches here). */
static inline int stat_cmp(pq_kind k, const pq_value *a, const pq_value *b)
{
    switch (k) {
    case PQ_KIND_BOOL:
        return (int)a->b - (int)b->b;
    case PQ_KIND_I32:
        return (a->i32 > b->i32) - (a->i32 < b->i32);
    case PQ_KIND_I64:
        return (a->i64 > b->i64) - (a->i64 < b->i64);
    case PQ_KIND_FLOAT:
        return (a->f32 > b->f32) - (a->f32 < b->f32);
    case PQ_KIND_DOUBLE:
        return (a->f64 > b->f64) - (a->f64 < b->f64);
    case PQ_KIND_BYTES:
        return cmp_bytes(a, b);
    case PQ_KIND_FLBA:
        return pq_int128_cmp(a->dec, b->dec);
    }
    return 0;
}

/* Keeps a copy of v as a bound; byte arrays move into the bound's buffer. */
static void stats_keep(pq_kind k, pq_value *dst, sl_buf *store, const pq_value *v)
{
    *dst = *v;
    if (k == PQ_KIND_BYTES) {
        buf_reset(store);
        buf_reserve(store, v->str.len);
        if (v->str.len)
            buf_append(store, v->str.ptr, v->str.len);
        dst->str.ptr = store->data;
    }
}

void pq_col_stats_update(const pq_column *c, pq_col_stats *s, const pq_value *v)
{
    pq_kind k = c->kind;
    if ((k == PQ_KIND_FLOAT && isnan(v->f32)) || (k == PQ_KIND_DOUBLE && isnan(v->f64))) {
        s->has_nan = true;
        return;
    }
    if (!s->has_min_max) {
        stats_keep(k, &s->min, &s->min_buf, v);
        stats_keep(k, &s->max, &s->max_buf, v);
        s->has_min_max = true;
        return;
    }
    /* max first: ascending data (ids, times) then costs one comparison */
    if (stat_cmp(k, v, &s->max) > 0)
        stats_keep(k, &s->max, &s->max_buf, v);
    else if (stat_cmp(k, v, &s->min) < 0)
        stats_keep(k, &s->min, &s->min_buf, v);
}

bool pq_col_stat_encode(const pq_column *c, const pq_value *v, bool is_max, sl_buf *out)
{
    unsigned char b[16];
    switch (c->kind) {
    case PQ_KIND_BOOL:
        b[0] = v->b ? 1 : 0; /* statistics use one byte, not a bit */
        buf_append(out, b, 1);
        return true;
    case PQ_KIND_I32:
        le32(b, (uint32_t)v->i32);
        buf_append(out, b, 4);
        return true;
    case PQ_KIND_I64:
        le64(b, (uint64_t)v->i64);
        buf_append(out, b, 8);
        return true;
    case PQ_KIND_FLOAT: {
        /* A zero bound is -0.0 for a min and +0.0 for a max, so it holds
         * whichever zero the data has (parquet.thrift's rule). */
        float f = v->f32 == 0.0f ? (is_max ? 0.0f : -0.0f) : v->f32;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        le32(b, bits);
        buf_append(out, b, 4);
        return true;
    }
    case PQ_KIND_DOUBLE: {
        double d = v->f64 == 0.0 ? (is_max ? 0.0 : -0.0) : v->f64;
        uint64_t bits;
        memcpy(&bits, &d, 8);
        le64(b, bits);
        buf_append(out, b, 8);
        return true;
    }
    case PQ_KIND_BYTES:
        if (v->str.len > PQ_STAT_MAX_BYTES)
            return false;
        if (v->str.len)
            buf_append(out, v->str.ptr, v->str.len);
        else
            buf_reserve(out, 1); /* an empty bound still has data to point at */
        return true;
    case PQ_KIND_FLBA:
        dec_be(b, v->dec, c->width);
        buf_append(out, b, c->width);
        return true;
    }
    return false;
}

/* ---- the open page ---- */

static void page_grow(pq_column *c)
{
    size_t cap = c->page_cap ? c->page_cap * 2 : 1024;
    /* a nested page may run past the row bound to the end of its record */
    if (cap > PQ_PAGE_MAX_ROWS && c->max_rep == 0)
        cap = PQ_PAGE_MAX_ROWS;
    if (c->max_def > 0)
        c->levels = sl_realloc(c->levels, cap);
    if (c->max_rep > 0)
        c->reps = sl_realloc(c->reps, cap);
    if (c->use_dict)
        c->idx = sl_realloc(c->idx, cap * sizeof *c->idx);
    c->page_cap = cap;
}

static inline void values_put(pq_column *c, const void *p, size_t n)
{
    sl_buf *b = &c->page_values;
    if (b->cap - b->len <= n)
        buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0'; /* sl_buf's invariant */
}

static inline void values_put_bytes(pq_column *c, const char *p, size_t n)
{
    sl_buf *b = &c->page_values;
    if (b->cap - b->len <= n + 4)
        buf_reserve(b, n + 4);
    le32((unsigned char *)b->data + b->len, (uint32_t)n);
    if (n)
        memcpy(b->data + b->len + 4, p, n);
    b->len += n + 4;
    b->data[b->len] = '\0';
}

/* The page's dictionary indices rewritten as PLAIN values. */
static void page_to_plain(pq_column *c)
{
    for (int64_t i = 0; i < c->page_nonnull; i++) {
        size_t n;
        const char *e = pq_dict_entry(&c->dict, c->idx[i], &n);
        values_put(c, e, n);
    }
}

static void dict_stop(pq_column *c)
{
    c->dict_on = false;
    if (c->dict_data_pages == 0)
        pq_dict_reset(&c->dict);
}

static int index_width(const pq_column *c)
{
    int bw = c->dict.count > 1 ? pq_rle_bit_width(c->dict.count - 1) : 1;
    return bw;
}

/* One level run of a DATA_PAGE v1 body: 4-byte length, then RLE. */
static void levels_put(sl_buf *body, sl_buf *tmp, const uint8_t *levels, size_t n, int bw,
                       size_t values_len)
{
    buf_reset(tmp);
    pq_rle_encode_u8(tmp, levels, n, bw);
    unsigned char len[4];
    le32(len, (uint32_t)tmp->len);
    buf_reserve(body, 4 + tmp->len + values_len);
    buf_append(body, len, 4);
    buf_append(body, tmp->data, tmp->len);
}

/* Compresses body into the chunk behind its page header; returns the header
 * plus uncompressed size through *uncompressed. */
static sl_code emit_page(pq_column *c, sl_buf *dst, pq_page_header *h, const sl_buf *body,
                         int64_t *uncompressed, sl_err *err)
{
    const sl_buf *payload = body;
    if (c->codec != PQ_CODEC_UNCOMPRESSED) {
        buf_reset(&c->scratch->comp);
        sl_code rc = pq_codec_compress(c->codec, (const uint8_t *)body->data, body->len,
                                       c->level, &c->scratch->comp, err);
        if (rc != SL_OK)
            return err_wrap(err, "parquet writer: column '%s'", c->name);
        payload = &c->scratch->comp;
    }
    if (payload->len > (size_t)INT32_MAX)
        return err_set(err, SL_PARQUET_VALUE,
                       "parquet writer: column '%s': a page of %zu bytes is over 2 GiB",
                       c->name, payload->len);
    h->uncompressed_page_size = (int32_t)body->len;
    h->compressed_page_size = (int32_t)payload->len;
    size_t before = dst->len;
    pq_meta_write_page_header(dst, h);
    size_t hdr = dst->len - before;
    buf_append(dst, payload->data, payload->len);
    *uncompressed = (int64_t)(hdr + body->len);
    return SL_OK;
}

sl_code pq_column_flush_page(pq_column *c, sl_err *err)
{
    if (c->page_rows == 0)
        return SL_OK;
    if (c->dict_on && c->dict_data_pages == 0) {
        /* The chunk's first page decides: a dictionary that is not smaller
         * than PLAIN is dropped. */
        size_t enc = c->dict.data.len + 1 +
                     ((size_t)c->page_nonnull * (size_t)index_width(c) + 7) / 8;
        if (enc >= c->page_plain_bytes) {
            page_to_plain(c);
            dict_stop(c);
        }
    }
    /* DATA_PAGE v1 body: [repetition levels][definition levels] values,
     * each level run as a 4-byte length + RLE. Flat columns have no
     * repetition levels. */
    pq_page_scratch *s = c->scratch;
    sl_buf *body = &s->body;
    buf_reset(body);
    if (c->max_rep > 0)
        levels_put(body, &s->levels, c->reps, (size_t)c->page_rows,
                   pq_rle_bit_width((uint32_t)c->max_rep), c->page_values.len);
    if (c->max_def > 0)
        levels_put(body, &s->levels, c->levels, (size_t)c->page_rows,
                   pq_rle_bit_width((uint32_t)c->max_def), c->page_values.len);
    if (c->dict_on) {
        int bw = index_width(c);
        buf_append_char(body, (char)bw);
        pq_rle_encode_u32(body, c->idx, (size_t)c->page_nonnull, bw);
    } else if (c->max_def > 0 || c->max_rep > 0) {
        buf_append(body, c->page_values.data, c->page_values.len);
    } else {
        body = &c->page_values; /* the values are the whole body */
    }
    pq_page_header h = {
        .type = PQ_PAGE_DATA,
        .data = {.num_values = (int32_t)c->page_rows,
                 .encoding = c->dict_on ? PQ_ENC_RLE_DICTIONARY : PQ_ENC_PLAIN,
                 .definition_level_encoding = PQ_ENC_RLE,
                 .repetition_level_encoding = PQ_ENC_RLE},
    };
    int64_t unc = 0;
    sl_code rc = emit_page(c, &c->chunk, &h, body, &unc, err);
    if (rc != SL_OK)
        return rc;
    c->chunk_uncompressed += unc;
    if (c->dict_on)
        c->dict_data_pages++;
    else
        c->plain_data_pages++;
    buf_reset(&c->page_values);
    c->page_rows = 0;
    c->page_nonnull = 0;
    c->page_plain_bytes = 0;
    c->page_full = false;
    return SL_OK;
}

/* The dictionary is about to pass its limit with the entry just added:
 * drop that entry, close the page as it stands and go on PLAIN. */
static sl_code dict_overflow(pq_column *c, sl_err *err)
{
    pq_dict_pop_last(&c->dict);
    if (c->max_rep > 0) {
        /* a nested page cannot close inside a record: it goes PLAIN as it
         * stands (earlier pages keep the dictionary) */
        page_to_plain(c);
        dict_stop(c);
        return SL_OK;
    }
    sl_code rc = pq_column_flush_page(c, err);
    if (rc != SL_OK)
        return rc;
    if (c->dict_on)
        dict_stop(c);
    return SL_OK;
}

/* One level entry: v is the value, or NULL for def < max_def. */
static sl_code column_put(pq_column *c, int def, int rep, const pq_value *v, sl_err *err)
{
    bool is_null = v == NULL;
    if (c->max_rep > 0 && rep == 0 && c->page_full && c->page_rows > 0) {
        sl_code rc = pq_column_flush_page(c, err);
        if (rc != SL_OK)
            return rc;
    }
    /* the value in its physical form: pv for statistics, key for the bytes */
    pq_value pv;
    unsigned char key[16];
    const char *kp = (const char *)key;
    size_t klen = c->width;
    if (!is_null) {
        pv = *v;
        switch (c->kind) {
        case PQ_KIND_BOOL:
            break;
        case PQ_KIND_I32:
            if (c->is_decimal)
                pv.i32 = (int32_t)v->dec.lo;
            le32(key, (uint32_t)pv.i32);
            break;
        case PQ_KIND_I64:
            if (c->is_decimal)
                pv.i64 = (int64_t)v->dec.lo;
            le64(key, (uint64_t)pv.i64);
            break;
        case PQ_KIND_FLOAT: {
            uint32_t bits;
            memcpy(&bits, &v->f32, 4);
            le32(key, bits);
            break;
        }
        case PQ_KIND_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, &v->f64, 8);
            le64(key, bits);
            break;
        }
        case PQ_KIND_BYTES:
            kp = v->str.ptr;
            klen = v->str.len;
            break;
        case PQ_KIND_FLBA:
            dec_be(key, v->dec, c->width);
            break;
        }
    }

    bool in_dict = false, added = false;
    uint32_t index = 0;
    if (!is_null && c->dict_on) {
        index = c->kind == PQ_KIND_BYTES ? pq_dict_put_bytes(&c->dict, kp, klen, &added)
                                         : pq_dict_put_fixed(&c->dict, key, &added);
        in_dict = true;
        if (added && c->dict.data.len > c->dict_limit) {
            sl_code rc = dict_overflow(c, err);
            if (rc != SL_OK)
                return rc;
            in_dict = added = false;
        }
    }
    if (!is_null && !in_dict && c->kind != PQ_KIND_BOOL && c->page_rows > 0 &&
        (c->max_rep == 0 || rep == 0) &&
        c->page_values.len + klen + 4 > PQ_PAGE_HARD_MAX) {
        sl_code rc = pq_column_flush_page(c, err);
        if (rc != SL_OK)
            return rc;
    }

    if (c->page_rows == (int64_t)c->page_cap)
        page_grow(c);
    if (c->max_def > 0)
        c->levels[c->page_rows] = (uint8_t)def;
    if (c->max_rep > 0)
        c->reps[c->page_rows] = (uint8_t)rep;
    c->page_rows++;
    c->chunk_rows++;
    if (is_null) {
        c->chunk_stats.null_count++;
    } else if (in_dict) {
        c->idx[c->page_nonnull++] = index;
        c->page_plain_bytes += c->kind == PQ_KIND_BYTES ? 4 + klen : klen;
        if (added) {
            pq_col_stats_update(c, &c->chunk_stats, &pv);
            c->dict_bw = index_width(c);
        }
    } else {
        if (c->kind == PQ_KIND_BOOL) {
            int64_t bit = c->page_nonnull;
            if (bit % 8 == 0)
                buf_append_char(&c->page_values, 0);
            if (v->b)
                ((unsigned char *)c->page_values.data)[c->page_values.len - 1] |=
                    (unsigned char)(1u << (bit % 8));
        } else if (c->kind == PQ_KIND_BYTES) {
            values_put_bytes(c, kp, klen);
        } else {
            values_put(c, key, klen);
        }
        c->page_nonnull++;
        pq_col_stats_update(c, &c->chunk_stats, &pv);
    }
    bool full = c->dict_on
                    ? (size_t)c->page_nonnull * (size_t)c->dict_bw >= c->page_size * 8
                    : c->page_values.len >= c->page_size;
    if (full || c->page_rows >= PQ_PAGE_MAX_ROWS) {
        if (c->max_rep > 0) {
            c->page_full = true;
            return SL_OK;
        }
        return pq_column_flush_page(c, err);
    }
    return SL_OK;
}

sl_code pq_column_add(pq_column *c, const pq_value *v, sl_err *err)
{
    return column_put(c, v->is_null ? 0 : c->max_def, 0, v->is_null ? NULL : v, err);
}

void pq_column_set_levels(pq_column *c, int max_def, int max_rep)
{
    c->max_def = max_def;
    c->max_rep = max_rep;
    c->nullable = max_def > 0;
}

sl_code pq_column_add_leveled(pq_column *c, int def, int rep, const pq_value *v,
                              sl_err *err)
{
    return column_put(c, def, rep, def == c->max_def ? v : NULL, err);
}

sl_code pq_column_finish_chunk(pq_column *c, sl_err *err)
{
    sl_code rc = pq_column_flush_page(c, err);
    if (rc != SL_OK)
        return rc;
    buf_reset(&c->dict_page);
    c->dict_page_uncompressed = 0;
    if (c->dict_data_pages == 0)
        return SL_OK;
    pq_page_header h = {
        .type = PQ_PAGE_DICTIONARY,
        .dict = {.num_values = (int32_t)c->dict.count, .encoding = PQ_ENC_PLAIN},
    };
    return emit_page(c, &c->dict_page, &h, &c->dict.data, &c->dict_page_uncompressed,
                     err);
}

void pq_column_next_chunk(pq_column *c)
{
    pq_col_stats *cs = &c->chunk_stats, *fs = &c->file_stats;
    fs->null_count += cs->null_count;
    fs->has_nan |= cs->has_nan;
    if (cs->has_min_max) {
        pq_col_stats_update(c, fs, &cs->min);
        pq_col_stats_update(c, fs, &cs->max);
    }
    pq_col_stats_free(cs);
    buf_reset(&c->chunk);
    buf_reset(&c->dict_page);
    c->chunk_uncompressed = 0;
    c->dict_page_uncompressed = 0;
    c->chunk_rows = 0;
    c->dict_data_pages = 0;
    c->plain_data_pages = 0;
    pq_dict_reset(&c->dict);
    c->dict_on = c->use_dict;
    c->dict_bw = 0;
}

/* The ColumnMetaData of a finished chunk (both writers): encodings used,
 * page encoding counts, sizes, offsets and statistics. es, stat_min and
 * stat_max are the caller's storage that must live until the footer is written. */
void pq_column_fill_meta(const pq_column *c, const char *const *path, size_t path_len,
                         int64_t dict_off, int64_t data_off, pq_column_chunk *cc,
                         pq_page_encoding_stats *es, sl_buf *stat_min, sl_buf *stat_max)
{
    pq_column_meta *m = &cc->meta;
    cc->file_offset = dict_off ? dict_off : data_off;
    m->type = c->physical;
    size_t ne = 0;
    if (c->dict_page.len || c->plain_data_pages)
        m->encodings[ne++] = PQ_ENC_PLAIN;
    if (c->max_def > 0 || c->max_rep > 0)
        m->encodings[ne++] = PQ_ENC_RLE;
    if (c->dict_data_pages)
        m->encodings[ne++] = PQ_ENC_RLE_DICTIONARY;
    m->num_encodings = ne;
    size_t nes = 0;
    if (c->dict_page.len)
        es[nes++] = (pq_page_encoding_stats){PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 1};
    if (c->plain_data_pages)
        es[nes++] =
            (pq_page_encoding_stats){PQ_PAGE_DATA, PQ_ENC_PLAIN, c->plain_data_pages};
    if (c->dict_data_pages)
        es[nes++] = (pq_page_encoding_stats){PQ_PAGE_DATA, PQ_ENC_RLE_DICTIONARY,
                                             c->dict_data_pages};
    m->encoding_stats = es;
    m->num_encoding_stats = nes;
    m->path = path;
    m->path_len = path_len;
    m->codec = c->codec;
    m->num_values = c->chunk_rows;
    m->total_uncompressed_size = c->dict_page_uncompressed + c->chunk_uncompressed;
    m->total_compressed_size = (int64_t)(c->dict_page.len + c->chunk.len);
    m->data_page_offset = data_off;
    m->dictionary_page_offset = dict_off;
    m->has_statistics = true;
    m->statistics.has_null_count = true;
    m->statistics.null_count = c->chunk_stats.null_count;
    const pq_col_stats *st = &c->chunk_stats;
    if (st->has_min_max && pq_col_stat_encode(c, &st->min, false, stat_min) &&
        pq_col_stat_encode(c, &st->max, true, stat_max)) {
        m->statistics.has_min_max = true;
        m->statistics.min_value = stat_min->data;
        m->statistics.min_len = stat_min->len;
        m->statistics.max_value = stat_max->data;
        m->statistics.max_len = stat_max->len;
        /* FLBA's legacy order is unsigned bytes, wrong for signed decimals */
        m->statistics.write_legacy = c->t->legacy_stats && c->kind != PQ_KIND_FLBA;
    }
}
