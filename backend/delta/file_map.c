/* A small open-addressing hash map (linear probing, backward-shift deletion)
 * from borrowed string keys to indexes: log replay looks up every add and
 * remove by (path, DV id), so this must stay O(1) per action. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"

/* Eight bytes per step: replay hashes every add's path, and byte-wise
 * hashing showed up in profiles of 100k-file checkpoints. */
static uint64_t hash_str(const char *s)
{
    const uint64_t k = 0xff51afd7ed558ccdULL;
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    uint64_t w;
    for (; n >= 8; n -= 8, s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * k;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 32);
}

uint64_t delta_fmap_hash(const char *key)
{
    return hash_str(key);
}

void delta_fmap_init(delta_fmap *m)
{
    memset(m, 0, sizeof *m);
}

void delta_fmap_free(delta_fmap *m)
{
    free(m->keys);
    free(m->hashes);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot_find(const delta_fmap *m, const char *key, uint64_t h, int *found)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->keys[i]) {
        if (m->hashes[i] == h && strcmp(m->keys[i], key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return i;
}

static void grow(delta_fmap *m)
{
    size_t old_cap = m->cap;
    char **old_keys = m->keys;
    uint64_t *old_hashes = m->hashes;
    size_t *old_vals = m->vals;
    m->cap = old_cap ? old_cap * 2 : 64;
    m->keys = sl_calloc(m->cap, sizeof *m->keys);
    m->hashes = sl_calloc(m->cap, sizeof *m->hashes);
    m->vals = sl_calloc(m->cap, sizeof *m->vals);
    size_t mask = m->cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old_keys[i])
            continue;
        size_t j = (size_t)old_hashes[i] & mask; /* keys are unique: first free slot */
        while (m->keys[j])
            j = (j + 1) & mask;
        m->keys[j] = old_keys[i];
        m->hashes[j] = old_hashes[i];
        m->vals[j] = old_vals[i];
    }
    free(old_keys);
    free(old_hashes);
    free(old_vals);
}

int delta_fmap_get_h(const delta_fmap *m, const char *key, uint64_t h, size_t *val)
{
    if (m->n == 0)
        return 0;
    int found;
    size_t i = slot_find(m, key, h, &found);
    if (found && val)
        *val = m->vals[i];
    return found;
}

int delta_fmap_get(const delta_fmap *m, const char *key, size_t *val)
{
    return m->n ? delta_fmap_get_h(m, key, hash_str(key), val) : 0;
}

void delta_fmap_put(delta_fmap *m, char *key, size_t val)
{
    delta_fmap_put_h(m, key, hash_str(key), val);
}

void delta_fmap_put_h(delta_fmap *m, char *key, uint64_t h, size_t val)
{
    /* Load factor at most 1/2 keeps probe runs short. */
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    int found;
    size_t i = slot_find(m, key, h, &found);
    if (!found)
        m->n++;
    m->keys[i] = key;
    m->hashes[i] = h;
    m->vals[i] = val;
}

int delta_fmap_del(delta_fmap *m, const char *key)
{
    if (m->n == 0)
        return 0;
    int found;
    size_t i = slot_find(m, key, hash_str(key), &found);
    if (!found)
        return 0;
    size_t mask = m->cap - 1;
    m->keys[i] = NULL;
    m->n--;
    /* Shift back later members of the probe run so lookups never stop early. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->keys[j])
            break;
        size_t home = (size_t)m->hashes[j] & mask;
        /* Leave j where it is when its home lies cyclically in (i, j]. */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (in_range)
            continue;
        m->keys[i] = m->keys[j];
        m->hashes[i] = m->hashes[j];
        m->vals[i] = m->vals[j];
        m->keys[j] = NULL;
        i = j;
    }
    return 1;
}
