/* Decoding of one page of a column chunk: decompression, repetition and
 * definition levels, and values by encoding (dictionary pages, DATA_PAGE
 * v1 and DATA_PAGE_V2). Bounds come from the page header and are checked
 * before every read; the decoders of pq_decode.h check their own input. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_decode.h"
#include "backend/parquet/pq_read_int.h"
#include "backend/parquet/pq_rle.h"

static uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void *try_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

static sl_code no_memory(size_t n, sl_err *err)
{
    return err_set(err, SL_PARQUET_UNSUPPORTED, "cannot allocate %zu bytes for the page", n);
}

static bool span_type(const pq_node *l)
{
    return l->type == PQ_PHYS_BYTE_ARRAY || l->type == PQ_PHYS_FIXED_LEN_BYTE_ARRAY;
}

/* The uncompressed bytes of a page body (or part of one). *owned receives a
 * buffer the caller frees or keeps; NULL when out points into src. */
static sl_code inflate_body(pq_col_state *s, bool compressed, const uint8_t *src, size_t n,
                            size_t ulen, const uint8_t **out, uint8_t **owned, sl_err *err)
{
    *owned = NULL;
    if (!compressed || s->codec == PQ_CODEC_UNCOMPRESSED) {
        *out = src;
        return SL_OK;
    }
    if (ulen > PQ_MAX_PAGE_BYTES)
        return err_set(err, SL_PARQUET_CORRUPT, "page claims %zu uncompressed bytes", ulen);
    if (n == 0) {
        /* Nothing is handed to a codec for an empty section. */
        if (ulen != 0)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "empty compressed page claims %zu uncompressed bytes", ulen);
        *out = src;
        return SL_OK;
    }
    uint8_t *dst = try_alloc(ulen);
    if (!dst)
        return no_memory(ulen, err);
    sl_code c = pq_codec_decompress(s->codec, src, n, dst, ulen, err);
    if (c != SL_OK) {
        free(dst);
        return c;
    }
    *out = dst;
    *owned = dst;
    return SL_OK;
}

/* Grows def/rep/values to hold `need` entries (need <= s->total). */
static sl_code ensure_cap(pq_col_state *s, size_t need, sl_err *err)
{
    if (need <= s->cap && s->values)
        return SL_OK;
    size_t cap = s->cap ? s->cap * 2 : 1024;
    if (cap < need)
        cap = need;
    if (cap > s->total)
        cap = s->total;
    if (cap == 0)
        cap = 1; /* never a NULL base pointer, even for an empty chunk */
    if (s->leaf->max_def > 0) {
        int16_t *d = realloc(s->def, cap * sizeof *d);
        if (!d)
            return no_memory(cap * sizeof *d, err);
        s->def = d;
    }
    if (s->leaf->max_rep > 0) {
        int16_t *r = realloc(s->rep, cap * sizeof *r);
        if (!r)
            return no_memory(cap * sizeof *r, err);
        s->rep = r;
    }
    uint8_t *v = realloc(s->values, cap * s->elem_size);
    if (!v)
        return no_memory(cap * s->elem_size, err);
    s->values = v;
    s->cap = cap;
    return SL_OK;
}

static sl_code ensure_scratch(pq_col_state *s, size_t n, sl_err *err)
{
    if (n <= s->scratch_cap)
        return SL_OK;
    uint32_t *p = realloc(s->scratch, n * sizeof *p);
    if (!p)
        return no_memory(n * sizeof *p, err);
    s->scratch = p;
    s->scratch_cap = n;
    return SL_OK;
}

/* ---- values ------------------------------------------------------------ */

static sl_code plain_values(pq_col_state *s, const uint8_t *p, size_t n, size_t count,
                            uint8_t *out, sl_err *err)
{
    switch (s->leaf->type) {
    case PQ_PHYS_BOOLEAN:
        return pq_decode_plain_bool(p, n, count, out, NULL, err);
    case PQ_PHYS_BYTE_ARRAY:
        return pq_decode_plain_bytes(p, n, count, (pq_span *)out, NULL, err);
    case PQ_PHYS_FIXED_LEN_BYTE_ARRAY: {
        size_t w = (size_t)s->leaf->type_length;
        if (count > n / w)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "%zu values of %zu bytes do not fit in %zu bytes", count, w, n);
        pq_span *sp = (pq_span *)out;
        for (size_t i = 0; i < count; i++)
            sp[i] = (pq_span){p + i * w, (uint32_t)w};
        return SL_OK;
    }
    default:
        return pq_decode_plain_fixed(p, n, s->elem_size, count, out, NULL, err);
    }
}

static sl_code dict_values(pq_col_state *s, const uint8_t *p, size_t n, size_t count,
                           uint8_t *out, sl_err *err)
{
    if (!s->has_dict)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "dictionary-encoded page but the chunk has no dictionary page");
    if (count == 0)
        return SL_OK;
    if (n < 1)
        return err_set(err, SL_PARQUET_CORRUPT, "dictionary page data lacks its bit width");
    int bw = p[0];
    if (bw > 32)
        return err_set(err, SL_PARQUET_CORRUPT, "dictionary index bit width %d", bw);
    sl_code c = ensure_scratch(s, count, err);
    if (c != SL_OK)
        return c;
    if ((c = pq_decode_rle(p + 1, n - 1, bw, s->scratch, count, NULL, err)) != SL_OK)
        return c;
    const uint32_t *idx = s->scratch;
    size_t dn = s->dict_n;
    for (size_t i = 0; i < count; i++)
        if (idx[i] >= dn)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "dictionary index %u out of range (%zu entries)", idx[i], dn);
    /* One loop per width so the copy is a plain load/store. */
    switch (s->elem_size) {
    case 1:
        for (size_t i = 0; i < count; i++)
            out[i] = s->dict[idx[i]];
        break;
    case 4: {
        uint32_t *o = (uint32_t *)out;
        const uint32_t *d = (const uint32_t *)s->dict;
        for (size_t i = 0; i < count; i++)
            o[i] = d[idx[i]];
        break;
    }
    case 8: {
        uint64_t *o = (uint64_t *)out;
        const uint64_t *d = (const uint64_t *)s->dict;
        for (size_t i = 0; i < count; i++)
            o[i] = d[idx[i]];
        break;
    }
    case sizeof(pq_span): {
        pq_span *o = (pq_span *)out;
        const pq_span *d = (const pq_span *)s->dict;
        for (size_t i = 0; i < count; i++)
            o[i] = d[idx[i]];
        break;
    }
    default:
        for (size_t i = 0; i < count; i++)
            memcpy(out + i * s->elem_size, s->dict + (size_t)idx[i] * s->elem_size,
                   s->elem_size);
    }
    return SL_OK;
}

static sl_code rle_bool_values(pq_col_state *s, const uint8_t *p, size_t n, size_t count,
                               uint8_t *out, sl_err *err)
{
    if (n < 4)
        return err_set(err, SL_PARQUET_CORRUPT, "RLE boolean data lacks its length prefix");
    size_t len = rd_le32(p);
    if (len > n - 4)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "RLE boolean data of %zu bytes in a %zu-byte page", len, n - 4);
    sl_code c = ensure_scratch(s, count, err);
    if (c == SL_OK)
        c = pq_decode_rle(p + 4, len, 1, s->scratch, count, NULL, err);
    for (size_t i = 0; c == SL_OK && i < count; i++)
        out[i] = (uint8_t)s->scratch[i];
    return c;
}

static sl_code delta_bytes_values(pq_col_state *s, const uint8_t *p, size_t n, size_t count,
                                  uint8_t *out, sl_err *err)
{
    uint32_t *off = malloc((count + 1) * sizeof *off);
    if (!off)
        return no_memory((count + 1) * sizeof *off, err);
    sl_buf arena = {0};
    sl_code c = pq_decode_delta_bytes(p, n, count, &arena, off, NULL, err);
    if (c == SL_OK) {
        uint8_t *data = (uint8_t *)buf_steal(&arena);
        pq_col_keep(s, data);
        pq_span *sp = (pq_span *)out;
        bool fixed = s->leaf->type == PQ_PHYS_FIXED_LEN_BYTE_ARRAY;
        for (size_t i = 0; i < count && c == SL_OK; i++) {
            if (off[i + 1] < off[i])
                c = err_set(err, SL_PARQUET_CORRUPT, "DELTA_BYTE_ARRAY offsets go backwards");
            else if (fixed && off[i + 1] - off[i] != (uint32_t)s->leaf->type_length)
                c = err_set(err, SL_PARQUET_CORRUPT,
                            "DELTA_BYTE_ARRAY value of %u bytes in a FIXED_LEN_BYTE_ARRAY(%d)",
                            off[i + 1] - off[i], s->leaf->type_length);
            else
                sp[i] = (pq_span){data + off[i], off[i + 1] - off[i]};
        }
    }
    buf_free(&arena);
    free(off);
    return c;
}

static sl_code bss_values(pq_col_state *s, const uint8_t *p, size_t n, size_t count,
                          uint8_t *out, sl_err *err)
{
    const pq_node *l = s->leaf;
    if (l->type != PQ_PHYS_FIXED_LEN_BYTE_ARRAY)
        return pq_decode_byte_stream_split(p, n, s->elem_size, count, out, err);
    size_t w = (size_t)l->type_length;
    if (count > n / w)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "BYTE_STREAM_SPLIT: %zu values of %zu bytes in %zu bytes", count, w, n);
    uint8_t *buf = try_alloc(count * w);
    if (!buf)
        return no_memory(count * w, err);
    sl_code c = pq_decode_byte_stream_split(p, n, w, count, buf, err);
    pq_col_keep(s, buf);
    pq_span *sp = (pq_span *)out;
    for (size_t i = 0; c == SL_OK && i < count; i++)
        sp[i] = (pq_span){buf + i * w, (uint32_t)w};
    return c;
}

static sl_code decode_values(pq_col_state *s, int32_t enc, const uint8_t *p, size_t n,
                             size_t count, uint8_t *out, sl_err *err)
{
    pq_physical t = s->leaf->type;
    switch (enc) {
    case PQ_ENC_PLAIN:
        return plain_values(s, p, n, count, out, err);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        return dict_values(s, p, n, count, out, err);
    case PQ_ENC_RLE:
        if (t == PQ_PHYS_BOOLEAN)
            return rle_bool_values(s, p, n, count, out, err);
        break;
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (t == PQ_PHYS_INT32)
            return pq_decode_delta_i32(p, n, (int32_t *)out, count, NULL, err);
        if (t == PQ_PHYS_INT64)
            return pq_decode_delta_i64(p, n, (int64_t *)out, count, NULL, err);
        break;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (t == PQ_PHYS_BYTE_ARRAY)
            return pq_decode_delta_length(p, n, (pq_span *)out, count, NULL, err);
        break;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        if (t == PQ_PHYS_BYTE_ARRAY || t == PQ_PHYS_FIXED_LEN_BYTE_ARRAY)
            return delta_bytes_values(s, p, n, count, out, err);
        break;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (t != PQ_PHYS_BOOLEAN && t != PQ_PHYS_BYTE_ARRAY && t != PQ_PHYS_INT96)
            return bss_values(s, p, n, count, out, err);
        break;
    default:
        return err_set(err, SL_PARQUET_UNSUPPORTED, "value encoding %d (%s) is not supported",
                       enc, pq_encoding_name(enc));
    }
    return err_set(err, SL_PARQUET_UNSUPPORTED, "encoding %s is not supported for %s values",
                   pq_encoding_name(enc), pq_physical_name(t));
}

/* ---- levels ------------------------------------------------------------ */

/* DATA_PAGE v1 levels: RLE with a 4-byte length prefix, or BIT_PACKED. */
static sl_code levels_v1(int32_t enc, int16_t max, const uint8_t **p, size_t *n, size_t count,
                         int16_t *out, sl_err *err)
{
    int bw = pq_rle_bit_width((uint32_t)max);
    sl_code c;
    if (enc == PQ_ENC_RLE) {
        if (*n < 4)
            return err_set(err, SL_PARQUET_CORRUPT, "levels lack their 4-byte length");
        size_t len = rd_le32(*p);
        if (len > *n - 4)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "levels of %zu bytes in a page of %zu bytes", len, *n - 4);
        if ((c = pq_decode_rle_levels(*p + 4, len, bw, out, count, NULL, err)) != SL_OK)
            return c;
        *p += 4 + len;
        *n -= 4 + len;
        return SL_OK;
    }
    if (enc == PQ_ENC_BIT_PACKED) {
        size_t used = 0;
        if ((c = pq_decode_bit_packed_levels(*p, *n, bw, out, count, &used, err)) != SL_OK)
            return c;
        if (used > *n)
            return err_set(err, SL_PARQUET_CORRUPT, "bit-packed levels overrun the page");
        *p += used;
        *n -= used;
        return SL_OK;
    }
    return err_set(err, SL_PARQUET_UNSUPPORTED, "level encoding %d (%s) is not supported", enc,
                   pq_encoding_name(enc));
}

/* Checks levels against their maximum; returns the count of entries equal
 * to max (the non-null values) through *full. */
static sl_code check_levels(const int16_t *lv, size_t n, int16_t max, const char *what,
                            size_t *full, sl_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (lv[i] < 0 || lv[i] > max)
            return err_set(err, SL_PARQUET_CORRUPT, "%s level %d above the maximum %d", what,
                           lv[i], max);
        k += lv[i] == max;
    }
    if (full)
        *full = k;
    return SL_OK;
}

/* ---- pages ------------------------------------------------------------- */

static sl_code dictionary_page(pq_col_state *s, const pq_page_hdr *h, const uint8_t *raw,
                               sl_err *err)
{
    if (s->has_dict)
        return err_set(err, SL_PARQUET_CORRUPT, "a second dictionary page in one chunk");
    if (!h->has_dict)
        return err_set(err, SL_PARQUET_CORRUPT, "dictionary page without its header");
    if (h->dict.encoding != PQ_ENC_PLAIN && h->dict.encoding != PQ_ENC_PLAIN_DICTIONARY)
        return err_set(err, SL_PARQUET_UNSUPPORTED, "dictionary encoding %s",
                       pq_encoding_name(h->dict.encoding));
    const uint8_t *body;
    uint8_t *owned;
    sl_code c = inflate_body(s, true, raw, (size_t)h->compressed_size,
                             (size_t)h->uncompressed_size, &body, &owned, err);
    if (c != SL_OK)
        return c;
    size_t len = owned || s->codec != PQ_CODEC_UNCOMPRESSED ? (size_t)h->uncompressed_size
                                                           : (size_t)h->compressed_size;
    size_t n = (size_t)h->dict.num_values;
    /* Every dictionary entry takes at least a byte (a length prefix or the
     * value itself), booleans a bit: refuse counts the page cannot hold. */
    if (s->leaf->type == PQ_PHYS_BOOLEAN ? n / 8 > len : n > len) {
        free(owned);
        return err_set(err, SL_PARQUET_CORRUPT, "dictionary of %zu entries in %zu bytes", n,
                       len);
    }
    s->dict = try_alloc(n * s->elem_size);
    if (!s->dict) {
        free(owned);
        return no_memory(n * s->elem_size, err);
    }
    c = plain_values(s, body, len, n, s->dict, err);
    if (owned) {
        if (span_type(s->leaf))
            pq_col_keep(s, owned);
        else
            free(owned);
    }
    if (c == SL_OK) {
        s->dict_n = n;
        s->has_dict = true;
    }
    return c;
}

static sl_code data_page_v1(pq_col_state *s, const pq_page_hdr *h, const uint8_t *raw,
                            sl_err *err)
{
    if (!h->has_data)
        return err_set(err, SL_PARQUET_CORRUPT, "data page without its header");
    size_t count = (size_t)h->v1.num_values;
    if (count > s->total - s->nlevels)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "pages hold more than the chunk's %zu values", s->total);
    const uint8_t *p;
    uint8_t *owned;
    sl_code c = inflate_body(s, true, raw, (size_t)h->compressed_size,
                             (size_t)h->uncompressed_size, &p, &owned, err);
    if (c != SL_OK)
        return c;
    size_t n = owned || s->codec != PQ_CODEC_UNCOMPRESSED ? (size_t)h->uncompressed_size
                                                         : (size_t)h->compressed_size;
    const pq_node *l = s->leaf;
    size_t nonnull = count;
    if ((c = ensure_cap(s, s->nlevels + count, err)) != SL_OK)
        goto out;
    if (l->max_rep > 0) {
        int16_t *rep = s->rep + s->nlevels;
        if ((c = levels_v1(h->v1.rep_encoding, l->max_rep, &p, &n, count, rep, err)) != SL_OK ||
            (c = check_levels(rep, count, l->max_rep, "repetition", NULL, err)) != SL_OK)
            goto out;
    }
    if (l->max_def > 0) {
        int16_t *def = s->def + s->nlevels;
        if ((c = levels_v1(h->v1.def_encoding, l->max_def, &p, &n, count, def, err)) != SL_OK ||
            (c = check_levels(def, count, l->max_def, "definition", &nonnull, err)) != SL_OK)
            goto out;
    }
    c = decode_values(s, h->v1.encoding, p, n, nonnull, s->values + s->nvalues * s->elem_size,
                      err);
    if (c == SL_OK) {
        s->nlevels += count;
        s->nvalues += nonnull;
    }
out:
    if (owned) {
        if (c == SL_OK && span_type(l))
            pq_col_keep(s, owned);
        else
            free(owned);
    }
    return c;
}

static sl_code data_page_v2(pq_col_state *s, const pq_page_hdr *h, const uint8_t *raw,
                            sl_err *err)
{
    if (!h->has_data_v2)
        return err_set(err, SL_PARQUET_CORRUPT, "DATA_PAGE_V2 without its header");
    size_t count = (size_t)h->v2.num_values;
    if (count > s->total - s->nlevels)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "pages hold more than the chunk's %zu values", s->total);
    size_t rl = (size_t)h->v2.rep_len, dl = (size_t)h->v2.def_len;
    size_t csize = (size_t)h->compressed_size, usize = (size_t)h->uncompressed_size;
    if (rl > csize || dl > csize - rl || rl + dl > usize)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "level lengths %zu + %zu exceed the page (%zu / %zu bytes)", rl, dl,
                       csize, usize);
    const pq_node *l = s->leaf;
    sl_code c = ensure_cap(s, s->nlevels + count, err);
    if (c != SL_OK)
        return c;
    size_t nonnull = count;
    /* Levels are never compressed in v2 and carry no length prefix. */
    if (l->max_rep > 0) {
        int16_t *rep = s->rep + s->nlevels;
        int bw = pq_rle_bit_width((uint32_t)l->max_rep);
        if ((c = pq_decode_rle_levels(raw, rl, bw, rep, count, NULL, err)) != SL_OK ||
            (c = check_levels(rep, count, l->max_rep, "repetition", NULL, err)) != SL_OK)
            return c;
    }
    if (l->max_def > 0) {
        int16_t *def = s->def + s->nlevels;
        int bw = pq_rle_bit_width((uint32_t)l->max_def);
        if ((c = pq_decode_rle_levels(raw + rl, dl, bw, def, count, NULL, err)) != SL_OK ||
            (c = check_levels(def, count, l->max_def, "definition", &nonnull, err)) != SL_OK)
            return c;
    }
    const uint8_t *p;
    uint8_t *owned;
    size_t clen = csize - rl - dl, ulen = usize - rl - dl;
    if ((c = inflate_body(s, h->v2.is_compressed, raw + rl + dl, clen, ulen, &p, &owned,
                          err)) != SL_OK)
        return c;
    size_t n = owned ? ulen : clen;
    c = decode_values(s, h->v2.encoding, p, n, nonnull, s->values + s->nvalues * s->elem_size,
                      err);
    if (c == SL_OK) {
        s->nlevels += count;
        s->nvalues += nonnull;
    }
    if (owned) {
        if (c == SL_OK && span_type(l))
            pq_col_keep(s, owned);
        else
            free(owned);
    }
    return c;
}

sl_code pq_page_decode(pq_col_state *s, const pq_page_hdr *h, const uint8_t *raw, sl_err *err)
{
    switch (h->type) {
    case PQ_PAGE_DICTIONARY:
        return dictionary_page(s, h, raw, err);
    case PQ_PAGE_DATA:
        return data_page_v1(s, h, raw, err);
    case PQ_PAGE_DATA_V2:
        return data_page_v2(s, h, raw, err);
    default:
        return SL_OK; /* index pages and page types this build does not know */
    }
}
