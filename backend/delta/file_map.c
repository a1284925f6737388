/* A small open-addressing hash map (linear probing, backward-shift deletion)
 * from borrowed string keys to indexes: log replay looks up every add and
 * remove by (path, DV id), so this must stay O(1) per action. The arena at
 * the end holds those keys and the other strings of a snapshot. */

#include <stddef.h>
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
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static size_t slot_find(const delta_fmap *m, const char *key, uint64_t h, int *found)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slots[i].key) {
        if (m->slots[i].hash == (uint32_t)h && strcmp(m->slots[i].key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return i;
}

static void rehash(delta_fmap *m, size_t cap)
{
    size_t old_cap = m->cap;
    delta_fmap_slot *old = m->slots;
    m->cap = cap;
    m->slots = sl_calloc(m->cap, sizeof *m->slots);
    size_t mask = m->cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key)
            continue;
        size_t j = (size_t)old[i].hash & mask; /* keys are unique: first free slot */
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

void delta_fmap_reserve(delta_fmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 64;
    /* Load factor at most 1/2 keeps probe runs short. */
    while (n * 2 > cap)
        cap *= 2;
    if (cap != m->cap)
        rehash(m, cap);
}

int delta_fmap_get_h(const delta_fmap *m, const char *key, uint64_t h, size_t *val)
{
    if (m->n == 0)
        return 0;
    int found;
    size_t i = slot_find(m, key, h, &found);
    if (found && val)
        *val = m->slots[i].val;
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
    if ((m->n + 1) * 2 > m->cap)
        delta_fmap_reserve(m, m->n + 1);
    int found;
    size_t i = slot_find(m, key, h, &found);
    if (!found)
        m->n++;
    m->slots[i] =
        (delta_fmap_slot){.key = key, .hash = (uint32_t)h, .val = (uint32_t)val};
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
    m->slots[i].key = NULL;
    m->n--;
    /* Shift back later members of the probe run so lookups never stop early. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        size_t home = (size_t)m->slots[j].hash & mask;
        /* Leave j where it is when its home lies cyclically in (i, j]. */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (in_range)
            continue;
        m->slots[i] = m->slots[j];
        m->slots[j].key = NULL;
        i = j;
    }
    return 1;
}

/* ---- the string arena ------------------------------------------------------ */

typedef struct delta_arena_chunk {
    struct delta_arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} delta_arena_chunk;

enum { ARENA_CHUNK = 1 << 20 };

void *delta_arena_alloc(delta_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    delta_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
        delta_arena_chunk *nc = sl_calloc(1, sizeof *nc + cap);
        nc->cap = cap;
        if (c && cap != ARENA_CHUNK) {
            /* A big string gets its own chunk behind the current one, which
             * keeps its free space. */
            nc->next = c->next;
            c->next = nc;
            nc->used = n;
            return (char *)nc->data;
        }
        nc->next = c;
        a->head = c = nc;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

char *delta_arena_strndup(delta_arena *a, const char *s, size_t n)
{
    char *p = delta_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

typedef struct delta_arena_owned {
    struct delta_arena_owned *next;
    void *obj;
    void (*drop)(void *);
} delta_arena_owned;

void delta_arena_own(delta_arena *a, void *obj, void (*drop)(void *))
{
    delta_arena_owned *o = sl_calloc(1, sizeof *o);
    *o = (delta_arena_owned){.next = a->owned, .obj = obj, .drop = drop};
    a->owned = o;
}

void delta_arena_free(delta_arena *a)
{
    if (!a)
        return;
    for (delta_arena_owned *o = a->owned, *next; o; o = next) {
        next = o->next;
        o->drop(o->obj);
        free(o);
    }
    a->owned = NULL;
    for (delta_arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}
