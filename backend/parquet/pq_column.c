/* The column writer: values into pages (dictionary indices or PLAIN), pages
 * compressed into the open chunk, the chunk's dictionary page, statistics.
 * One switch on the physical kind per value; no per-value allocation. */
#include "backend/parquet/pq_column.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_rle.h"

/* Little-endian stores: one move on a little-endian host. */
static inline void le32(unsigned char *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
#endif
}

static inline void le64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    le32(p, (uint32_t)v);
    le32(p + 4, (uint32_t)(v >> 32));
#endif
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
    if (c->use_dict)
        c->dcache = sl_calloc((size_t)1 << PQ_DCACHE_BITS, sizeof *c->dcache);
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
    free(c->dcache);
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

/* A 4- or 8-byte value: a fixed-size copy, not a library call. */
static inline void values_put_word(pq_column *c, const char *p, size_t n)
{
    sl_buf *b = &c->page_values;
    if (b->cap - b->len <= 8)
        buf_reserve(b, 8);
    if (n == 8)
        memcpy(b->data + b->len, p, 8);
    else
        memcpy(b->data + b->len, p, 4);
    b->len += n;
    b->data[b->len] = '\0';
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

static inline uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Folds a page's bounds into the chunk's, in the order per-value updates
 * would have seen them (ties keep the earlier value). */
static void stats_fold(const pq_column *c, pq_col_stats *s, const pq_value *min,
                       const pq_value *max)
{
    pq_col_stats_update(c, s, min);
    pq_col_stats_update(c, s, max);
}

/* Scans a page of n fixed-width numbers: max first, then min, as
 * pq_col_stats_update does per value, so the bounds come out the same. */
#define PAGE_BOUNDS(T, W, LOAD, MEMBER, SKIP)                                            \
    do {                                                                                 \
        bool any = false;                                                                \
        T lo = 0, hi = 0;                                                                \
        for (size_t i = 0; i + (W) <= n; i += (W)) {                                     \
            T x = LOAD(p + i);                                                           \
            if (SKIP(x)) {                                                               \
                s->has_nan = true;                                                       \
                continue;                                                                \
            }                                                                            \
            if (!any)                                                                    \
                lo = hi = x, any = true;                                                 \
            else if (x > hi)                                                             \
                hi = x;                                                                  \
            else if (x < lo)                                                             \
                lo = x;                                                                  \
        }                                                                                \
        if (any) {                                                                       \
            pq_value a = {.MEMBER = lo}, b = {.MEMBER = hi};                             \
            stats_fold(c, s, &a, &b);                                                    \
        }                                                                                \
    } while (0)

static inline int32_t ld_i32(const unsigned char *p)
{
    return (int32_t)rd32(p);
}
static inline int64_t ld_i64(const unsigned char *p)
{
    return (int64_t)rd64(p);
}
static inline float ld_f32(const unsigned char *p)
{
    uint32_t b = rd32(p);
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline double ld_f64(const unsigned char *p)
{
    uint64_t b = rd64(p);
    double d;
    memcpy(&d, &b, 8);
    return d;
}
#define NEVER(x) ((void)(x), false)
#define IS_NAN(x) ((x) != (x))

/* Byte-array order (unsigned bytes, then length), eight bytes a step. */
static inline int bytes_cmp(const unsigned char *a, size_t na, const unsigned char *b,
                            size_t nb)
{
    size_t n = na < nb ? na : nb, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            x = __builtin_bswap64(x), y = __builtin_bswap64(y);
            return x < y ? -1 : 1;
        }
    }
    for (; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return (na > nb) - (na < nb);
}

/* The bounds of a PLAIN page of byte arrays (4-byte length, bytes). */
static void page_bounds_bytes(const pq_column *c, pq_col_stats *s, const unsigned char *p,
                              size_t n)
{
    const unsigned char *lo = NULL, *hi = NULL;
    size_t lo_n = 0, hi_n = 0;
    for (size_t i = 0; i + 4 <= n;) {
        size_t len = rd32(p + i);
        const unsigned char *x = p + i + 4;
        i += 4 + len;
        if (!lo)
            lo = hi = x, lo_n = hi_n = len;
        else if (bytes_cmp(x, len, hi, hi_n) > 0)
            hi = x, hi_n = len;
        else if (bytes_cmp(x, len, lo, lo_n) < 0)
            lo = x, lo_n = len;
    }
    if (lo) {
        pq_value a = pq_val_bin(lo, lo_n), b = pq_val_bin(hi, hi_n);
        stats_fold(c, s, &a, &b);
    }
}

/* Statistics of a PLAIN page, gathered when it closes: one tight loop
 * instead of a call per value. Bounds are idempotent, so values the
 * statistics already hold (a dictionary page turned PLAIN) do no harm.
 * Booleans and FLBA decimals were counted as they came (plain_put). */
static void page_stats(pq_column *c)
{
    pq_col_stats *s = &c->chunk_stats;
    const unsigned char *p = (const unsigned char *)c->page_values.data;
    size_t n = c->page_values.len;
    switch (c->kind) {
    case PQ_KIND_I32:
        PAGE_BOUNDS(int32_t, 4, ld_i32, i32, NEVER);
        break;
    case PQ_KIND_I64:
        PAGE_BOUNDS(int64_t, 8, ld_i64, i64, NEVER);
        break;
    case PQ_KIND_FLOAT:
        PAGE_BOUNDS(float, 4, ld_f32, f32, IS_NAN);
        break;
    case PQ_KIND_DOUBLE:
        PAGE_BOUNDS(double, 8, ld_f64, f64, IS_NAN);
        break;
    case PQ_KIND_BYTES:
        page_bounds_bytes(c, s, p, n);
        break;
    default:
        break;
    }
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

static void dcache_clear(pq_column *c)
{
    if (c->dcache)
        memset(c->dcache, 0, sizeof *c->dcache << PQ_DCACHE_BITS);
}

static void dict_stop(pq_column *c)
{
    c->dict_on = false;
    c->last_ok = false;
    if (c->dict_data_pages == 0) {
        pq_dict_reset(&c->dict);
        dcache_clear(c);
    }
}

/* Bits of the largest index (at least 1), as pq_rle_bit_width counts them. */
static int index_width(const pq_column *c)
{
    return c->dict.count > 1 ? 32 - __builtin_clz(c->dict.count - 1) : 1;
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
    if (!c->dict_on)
        page_stats(c);
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
    c->scratch->pages++;
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

/* Keeps the value just added for pq_column_repeats while it is in the
 * dictionary. */
static inline void remember_last(pq_column *c, bool in_dict, uint32_t index,
                                 const pq_value *pv, size_t klen)
{
    c->last_ok = in_dict;
    if (!in_dict)
        return;
    c->last_idx = index;
    c->last_plain = c->kind == PQ_KIND_BYTES ? 4 + klen : klen;
    if (c->kind == PQ_KIND_BYTES) {
        c->last_off = c->dict.offsets[index] + 4;
        c->last_len = (uint32_t)klen;
    } else {
        pq_column_bits(c, pv, &c->last_lo, &c->last_hi);
    }
}

/* The value in its physical form: *pv for statistics, the PLAIN bytes at
 * *kp (key holds them for fixed kinds) for the dictionary and the page. */
static inline void value_key(const pq_column *c, const pq_value *v, pq_value *pv,
                             unsigned char *key, const char **kp, size_t *klen)
{
    *pv = *v;
    *kp = (const char *)key;
    *klen = c->width;
    switch (c->kind) {
    case PQ_KIND_BOOL:
        break;
    case PQ_KIND_I32:
        if (c->is_decimal)
            pv->i32 = (int32_t)v->dec.lo;
        le32(key, (uint32_t)pv->i32);
        break;
    case PQ_KIND_I64:
        if (c->is_decimal)
            pv->i64 = (int64_t)v->dec.lo;
        le64(key, (uint64_t)pv->i64);
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
        *kp = v->str.ptr;
        *klen = v->str.len;
        break;
    case PQ_KIND_FLBA:
        dec_be(key, v->dec, c->width);
        break;
    }
}

/* A value into the PLAIN page. Numbers and byte arrays get their statistics
 * when the page closes (page_stats); booleans and FLBA decimals here. */
static inline void plain_put(pq_column *c, const pq_value *pv, const char *kp,
                             size_t klen)
{
    switch (c->kind) {
    case PQ_KIND_BOOL: {
        int64_t bit = c->page_nonnull;
        if (bit % 8 == 0)
            buf_append_char(&c->page_values, 0);
        if (pv->b)
            ((unsigned char *)c->page_values.data)[c->page_values.len - 1] |=
                (unsigned char)(1u << (bit % 8));
        pq_col_stats_update(c, &c->chunk_stats, pv);
        break;
    }
    case PQ_KIND_BYTES:
        values_put_bytes(c, kp, klen);
        break;
    case PQ_KIND_FLBA:
        values_put(c, kp, klen);
        pq_col_stats_update(c, &c->chunk_stats, pv);
        break;
    default:
        values_put_word(c, kp, klen);
        break;
    }
    c->page_nonnull++;
}

/* The cache slot of a value's PLAIN bytes: its first and last eight bytes
 * and its length (enough to spread the values a column repeats). */
static inline size_t dcache_slot(const char *p, size_t n)
{
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++)
            a |= (uint64_t)(unsigned char)p[i] << (8 * i);
    }
    uint64_t h = (a ^ n) * 0x9E3779B97F4A7C15ULL ^ b * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h >> (64 - PQ_DCACHE_BITS));
}

/* The index the cache holds for these bytes, checked against the entry;
 * UINT32_MAX when it holds none. */
static inline uint32_t dcache_get(const pq_column *c, size_t slot, const char *p,
                                  size_t n)
{
    uint32_t e = c->dcache[slot];
    if (!e || e > c->dict.count)
        return UINT32_MAX;
    size_t len;
    const char *q = pq_dict_entry(&c->dict, e - 1, &len);
    if (c->kind == PQ_KIND_BYTES)
        q += 4, len -= 4;
    return len == n && pq_bytes_equal(q, p, n) ? e - 1 : UINT32_MAX;
}

/* The dictionary index of a non-null value; *in_dict false when the
 * dictionary is off or just overflowed (the value then goes PLAIN). */
static inline sl_code dict_index(pq_column *c, const pq_value *pv,
                                 const unsigned char *key, const char *kp, size_t klen,
                                 uint32_t *index, bool *in_dict, sl_err *err)
{
    *in_dict = false;
    if (!c->dict_on)
        return SL_OK;
    size_t slot = dcache_slot(kp, klen);
    if ((*index = dcache_get(c, slot, kp, klen)) != UINT32_MAX) {
        *in_dict = true;
        return SL_OK;
    }
    bool added;
    *index = c->kind == PQ_KIND_BYTES ? pq_dict_put_bytes(&c->dict, kp, klen, &added)
                                      : pq_dict_put_fixed(&c->dict, key, &added);
    if (added && c->dict.data.len > c->dict_limit)
        return dict_overflow(c, err);
    *in_dict = true;
    c->dcache[slot] = *index + 1;
    if (added) {
        /* a value is counted once, when it enters the chunk's dictionary */
        pq_col_stats_update(c, &c->chunk_stats, pv);
        c->dict_bw = index_width(c);
    }
    return SL_OK;
}

/* One level entry: v is the value, or NULL for def < max_def. flat (a
 * constant where inlined): the column has no repetition levels, so the
 * record-boundary rules fall away. */
static inline __attribute__((always_inline)) sl_code
column_put(pq_column *c, int def, int rep, const pq_value *v, bool flat, sl_err *err)
{
    bool nested = !flat && c->max_rep > 0;
    if (nested && rep == 0 && c->page_full && c->page_rows > 0) {
        sl_code rc = pq_column_flush_page(c, err);
        if (rc != SL_OK)
            return rc;
    }
    pq_value pv;
    unsigned char key[16];
    const char *kp = NULL;
    size_t klen = 0;
    bool in_dict = false;
    uint32_t index = 0;
    if (v) {
        value_key(c, v, &pv, key, &kp, &klen);
        sl_code rc = dict_index(c, &pv, key, kp, klen, &index, &in_dict, err);
        if (rc != SL_OK)
            return rc;
        if (!in_dict && c->kind != PQ_KIND_BOOL && c->page_rows > 0 &&
            (!nested || rep == 0) && c->page_values.len + klen + 4 > PQ_PAGE_HARD_MAX) {
            rc = pq_column_flush_page(c, err);
            if (rc != SL_OK)
                return rc;
        }
    }

    if (c->page_rows == (int64_t)c->page_cap)
        page_grow(c);
    if (c->max_def > 0)
        c->levels[c->page_rows] = (uint8_t)def;
    if (nested)
        c->reps[c->page_rows] = (uint8_t)rep;
    c->page_rows++;
    c->chunk_rows++;
    if (!v) {
        c->chunk_stats.null_count++;
    } else {
        remember_last(c, in_dict, index, &pv, klen);
        if (in_dict) {
            c->idx[c->page_nonnull++] = index;
            c->page_plain_bytes += c->kind == PQ_KIND_BYTES ? 4 + klen : klen;
        } else {
            plain_put(c, &pv, kp, klen);
        }
    }
    bool full = c->dict_on
                    ? (size_t)c->page_nonnull * (size_t)c->dict_bw >= c->page_size * 8
                    : c->page_values.len >= c->page_size;
    if (full || c->page_rows >= PQ_PAGE_MAX_ROWS) {
        if (nested) {
            c->page_full = true;
            return SL_OK;
        }
        return pq_column_flush_page(c, err);
    }
    return SL_OK;
}

/* The general path of a flat cell, out of line so that the short paths
 * below do not pay its register saves. */
static __attribute__((noinline)) sl_code column_put_flat(pq_column *c, const pq_value *v,
                                                         sl_err *err)
{
    return column_put(c, c->max_def, 0, v, true, err);
}

/* A flat null: only the definition level and the count. */
static inline sl_code column_null(pq_column *c, sl_err *err)
{
    if (c->page_rows == (int64_t)c->page_cap)
        page_grow(c);
    c->levels[c->page_rows] = 0; /* a null cell means the column is nullable */
    c->page_rows++;
    c->chunk_rows++;
    c->chunk_stats.null_count++;
    /* nulls add no value bytes: only the row bound can close the page */
    if (c->page_rows >= PQ_PAGE_MAX_ROWS)
        return pq_column_flush_page(c, err);
    return SL_OK;
}

/* A flat number or byte array while the chunk is PLAIN: the value's bytes
 * go straight into the page (statistics come when it closes); booleans
 * and FLBA decimals take the general path. */
static inline sl_code column_plain(pq_column *c, const pq_value *v, sl_err *err)
{
    unsigned char key[8];
    size_t n = c->width;
    switch (c->kind) {
    case PQ_KIND_I32:
        le32(key, (uint32_t)(c->is_decimal ? (int32_t)v->dec.lo : v->i32));
        break;
    case PQ_KIND_I64:
        le64(key, c->is_decimal ? v->dec.lo : (uint64_t)v->i64);
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
        n = v->str.len;
        break;
    default:
        return column_put_flat(c, v, err);
    }
    if (c->page_rows > 0 && c->page_values.len + n + 4 > PQ_PAGE_HARD_MAX) {
        sl_code rc = pq_column_flush_page(c, err);
        if (rc != SL_OK)
            return rc;
    }
    if (c->page_rows == (int64_t)c->page_cap)
        page_grow(c);
    if (c->max_def > 0)
        c->levels[c->page_rows] = (uint8_t)c->max_def;
    c->page_rows++;
    c->chunk_rows++;
    if (c->kind == PQ_KIND_BYTES)
        values_put_bytes(c, v->str.ptr, n);
    else
        values_put_word(c, (const char *)key, n);
    c->page_nonnull++;
    if (c->page_values.len >= c->page_size || c->page_rows >= PQ_PAGE_MAX_ROWS)
        return pq_column_flush_page(c, err);
    return SL_OK;
}

/* A flat cell equal to the previous one: its dictionary index again. The
 * statistics already count the value (it entered the dictionary in this
 * chunk), so only the page grows. */
static inline sl_code column_repeat(pq_column *c, sl_err *err)
{
    if (c->page_rows == (int64_t)c->page_cap)
        page_grow(c);
    if (c->max_def > 0)
        c->levels[c->page_rows] = (uint8_t)c->max_def;
    c->page_rows++;
    c->chunk_rows++;
    c->idx[c->page_nonnull++] = c->last_idx;
    c->page_plain_bytes += c->last_plain;
    if ((size_t)c->page_nonnull * (size_t)c->dict_bw >= c->page_size * 8 ||
        c->page_rows >= PQ_PAGE_MAX_ROWS)
        return pq_column_flush_page(c, err);
    return SL_OK;
}

sl_code pq_column_add_cell(pq_column *c, const pq_value *v, bool repeat, sl_err *err)
{
    if (repeat)
        return column_repeat(c, err);
    if (v->is_null)
        return column_null(c, err);
    if (!c->dict_on)
        return column_plain(c, v, err);
    return column_put_flat(c, v, err);
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
    return column_put(c, def, rep, def == c->max_def ? v : NULL, false, err);
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
    c->last_ok = false;
    dcache_clear(c);
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

pq_rg_record *pq_rg_records_add(pq_rg_record **v, size_t *n, size_t *cap, size_t ncols)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *v = sl_realloc(*v, *cap * sizeof **v);
    }
    pq_rg_record *rec = &(*v)[*n];
    memset(rec, 0, sizeof *rec);
    rec->chunks = sl_calloc(ncols ? ncols : 1, sizeof *rec->chunks);
    rec->enc_stats = sl_calloc(ncols ? ncols : 1, sizeof *rec->enc_stats);
    rec->stat_min = sl_calloc(ncols ? ncols : 1, sizeof *rec->stat_min);
    rec->stat_max = sl_calloc(ncols ? ncols : 1, sizeof *rec->stat_max);
    (*n)++;
    return rec;
}

void pq_rg_records_free(pq_rg_record *v, size_t n, size_t ncols)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < ncols; j++) {
            buf_free(&v[i].stat_min[j]);
            buf_free(&v[i].stat_max[j]);
        }
        free(v[i].stat_min);
        free(v[i].stat_max);
        free(v[i].enc_stats);
        free(v[i].chunks);
    }
    free(v);
}
