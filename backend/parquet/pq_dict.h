#ifndef SLUICE_PARQUET_PQ_DICT_H
#define SLUICE_PARQUET_PQ_DICT_H

/* Internal to the Parquet writer: a column chunk's dictionary. Entries are
 * kept in their PLAIN encoding (data is the dictionary page body as it
 * stands) and found through an open-addressing hash table (linear probing,
 * load <= 1/2). Keys compare bitwise, so -0.0/+0.0 and NaN payloads stay
 * distinct and round-trip exactly. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"

typedef struct pq_dict {
    size_t width;      /* fixed-width keys (4, 8, FLBA length); 0: byte arrays */
    uint64_t *slots;   /* (hash >> 32) << 32 | (entry + 1); 0 = empty */
    size_t cap;        /* slots, a power of two (0 before the first put) */
    uint32_t count;    /* entries */
    sl_buf data;       /* PLAIN entries back to back */
    uint32_t *offsets; /* byte arrays: entry i's length prefix is at data[offsets[i]] */
    size_t offsets_cap;
    size_t last_pos; /* slot of the newest entry (for pq_dict_pop_last) */
} pq_dict;

void pq_dict_init(pq_dict *d, size_t width);
/* Empties it, keeping the allocations for the next column chunk. */
void pq_dict_reset(pq_dict *d);
void pq_dict_free(pq_dict *d);

/* The entry index of key; adds it (setting *added) when absent. */
uint32_t pq_dict_put_fixed(pq_dict *d, const void *key, bool *added);
uint32_t pq_dict_put_bytes(pq_dict *d, const char *p, size_t len, bool *added);

/* Removes the entry the last put added (the table stays valid: nothing was
 * probed past it since). */
void pq_dict_pop_last(pq_dict *d);

/* Entry i's PLAIN bytes (with the length prefix for byte arrays). */
static inline const char *pq_dict_entry(const pq_dict *d, uint32_t i, size_t *len)
{
    if (d->width) {
        *len = d->width;
        return d->data.data + (size_t)i * d->width;
    }
    const unsigned char *p = (const unsigned char *)d->data.data + d->offsets[i];
    *len =
        4 + ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24);
    return (const char *)p;
}

#endif
