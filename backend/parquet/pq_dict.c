/* The writer's dictionary: an open-addressing hash table over entries kept
 * in their PLAIN encoding. */
#include "backend/parquet/pq_dict.h"

#include <stdlib.h>
#include <string.h>

#define DICT_MIN_CAP 64

void pq_dict_init(pq_dict *d, size_t width)
{
    memset(d, 0, sizeof *d);
    d->width = width;
}

void pq_dict_reset(pq_dict *d)
{
    if (d->slots)
        memset(d->slots, 0, d->cap * sizeof *d->slots);
    d->count = 0;
    buf_reset(&d->data);
}

void pq_dict_free(pq_dict *d)
{
    free(d->slots);
    free(d->offsets);
    buf_free(&d->data);
    memset(d, 0, sizeof *d);
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Eight bytes at a time; the length is mixed in so prefixes differ. */
static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    while (n >= 8) {
        h = (h ^ load64(p)) * 0x100000001B3ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    return mix64(h ^ tail);
}

static void grow(pq_dict *d)
{
    size_t ncap = d->cap ? d->cap * 2 : DICT_MIN_CAP;
    uint64_t *ns = sl_calloc(ncap, sizeof *ns);
    for (size_t i = 0; i < d->cap; i++) {
        uint64_t s = d->slots[i];
        if (!s)
            continue;
        size_t pos = (size_t)(s >> 32) & (ncap - 1);
        while (ns[pos])
            pos = (pos + 1) & (ncap - 1);
        ns[pos] = s;
    }
    free(d->slots);
    d->slots = ns;
    d->cap = ncap;
}

/* The slot position that holds hash's key or the empty slot where it goes;
 * eq(entry) says whether an entry is the key. */
#define DICT_PROBE(d, h32, EQ)                                                           \
    size_t mask = (d)->cap - 1;                                                          \
    size_t pos = (size_t)(h32)&mask;                                                     \
    for (;;) {                                                                           \
        uint64_t s = (d)->slots[pos];                                                    \
        if (!s)                                                                          \
            break;                                                                       \
        if ((uint32_t)(s >> 32) == (h32)) {                                              \
            uint32_t e = (uint32_t)s - 1;                                                \
            if (EQ)                                                                      \
                return e;                                                                \
        }                                                                                \
        pos = (pos + 1) & mask;                                                          \
    }

uint32_t pq_dict_put_fixed(pq_dict *d, const void *key, bool *added)
{
    if (2 * ((size_t)d->count + 1) > d->cap)
        grow(d);
    size_t w = d->width;
    uint64_t h;
    if (w == 4) {
        uint32_t k;
        memcpy(&k, key, 4);
        h = mix64(k);
    } else if (w == 8) {
        h = mix64(load64(key));
    } else {
        h = hash_bytes(key, w);
    }
    uint32_t h32 = (uint32_t)(h >> 32);
    *added = false;
    DICT_PROBE(d, h32, memcmp(d->data.data + (size_t)e * w, key, w) == 0)
    uint32_t idx = d->count++;
    d->slots[pos] = (uint64_t)h32 << 32 | ((uint64_t)idx + 1);
    d->last_pos = pos;
    buf_append(&d->data, key, w);
    *added = true;
    return idx;
}

static inline size_t entry_len(const pq_dict *d, uint32_t e)
{
    const unsigned char *q = (const unsigned char *)d->data.data + d->offsets[e];
    return (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
}

uint32_t pq_dict_put_bytes(pq_dict *d, const char *p, size_t len, bool *added)
{
    if (2 * ((size_t)d->count + 1) > d->cap)
        grow(d);
    uint32_t h32 = (uint32_t)(hash_bytes((const unsigned char *)p, len) >> 32);
    *added = false;
    DICT_PROBE(d, h32,
               entry_len(d, e) == len &&
                   (len == 0 || memcmp(d->data.data + d->offsets[e] + 4, p, len) == 0))
    if (d->count == d->offsets_cap) {
        d->offsets_cap = d->offsets_cap ? d->offsets_cap * 2 : DICT_MIN_CAP;
        d->offsets = sl_realloc(d->offsets, d->offsets_cap * sizeof *d->offsets);
    }
    uint32_t idx = d->count++;
    d->slots[pos] = (uint64_t)h32 << 32 | ((uint64_t)idx + 1);
    d->last_pos = pos;
    d->offsets[idx] = (uint32_t)d->data.len;
    unsigned char le[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    buf_reserve(&d->data, 4 + len);
    buf_append(&d->data, le, 4);
    if (len)
        buf_append(&d->data, p, len);
    *added = true;
    return idx;
}

void pq_dict_pop_last(pq_dict *d)
{
    if (d->count == 0)
        return;
    d->count--;
    d->slots[d->last_pos] = 0;
    d->data.len = d->width ? (size_t)d->count * d->width : d->offsets[d->count];
    d->data.data[d->data.len] = '\0';
}
