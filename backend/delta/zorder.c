#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_optimize.h"
#include "backend/util/buf.h"

#define SIGN64 ((uint64_t)1 << 63)

uint64_t delta_zorder_key(const pq_value *v, pq_type t)
{
    if (v->is_null)
        return 0;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        return v->b ? 1 : 0;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return (uint64_t)(int64_t)v->i32 ^ SIGN64;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return (uint64_t)v->i64 ^ SIGN64;
    case PQ_TYPE_FLOAT:
    case PQ_TYPE_DOUBLE: {
        double d = pq_type_base(t) == PQ_TYPE_FLOAT ? (double)v->f32 : v->f64;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        /* IEEE total order: negatives reversed below positives. */
        return bits & SIGN64 ? ~bits : bits | SIGN64;
    }
    case PQ_TYPE_DECIMAL: {
        /* Saturate 128-bit values outside int64 (order is kept). */
        int64_t x;
        if (v->dec.hi == ((int64_t)v->dec.lo < 0 ? -1 : 0))
            x = (int64_t)v->dec.lo;
        else
            x = v->dec.hi < 0 ? INT64_MIN : INT64_MAX;
        return (uint64_t)x ^ SIGN64;
    }
    default: { /* STRING, BINARY: the first 8 bytes, big-endian */
        uint64_t k = 0;
        for (size_t i = 0; i < 8; i++)
            k = k << 8 | (i < v->str.len ? (uint8_t)v->str.ptr[i] : 0);
        return k;
    }
    }
}

typedef struct zrow {
    uint64_t z;
    size_t idx;
} zrow;

static int zrow_cmp(const void *x, const void *y)
{
    const zrow *a = x, *b = y;
    if (a->z != b->z)
        return a->z < b->z ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* slot * 2^64 / m for slot < m, by long division one bit at a time (no
 * 128-bit type in C11). */
static uint64_t slot_scale(uint64_t slot, uint64_t m)
{
    uint64_t q = 0, rem = slot;
    for (int i = 0; i < 64; i++) {
        /* rem < m; rem * 2 may overflow 64 bits: compare before doubling. */
        int carry = rem >= m - rem;
        rem = carry ? rem - (m - rem) : rem * 2;
        q = q << 1 | (uint64_t)carry;
    }
    return q;
}

void delta_zorder_sort(const pq_value *cells, size_t nrows, size_t ncols,
                       const size_t *key_cols, const pq_type *key_types, size_t nkeys,
                       size_t *perm)
{
    if (nkeys == 0 || nrows == 0) {
        for (size_t i = 0; i < nrows; i++)
            perm[i] = i;
        return;
    }
    uint64_t *keys = sl_calloc(nrows * nkeys, sizeof *keys);
    uint64_t *distinct = sl_calloc(nrows, sizeof *distinct);
    for (size_t k = 0; k < nkeys; k++) {
        /* Each key becomes its rank among the bin's distinct values (nulls
         * 0), stretched to the top bits: interleaving raw keys would split
         * on whatever bits happen to differ (a double's exponent, a shared
         * string prefix), not near the column's median. */
        size_t nd = 0;
        for (size_t r = 0; r < nrows; r++) {
            const pq_value *v = &cells[r * ncols + key_cols[k]];
            keys[r * nkeys + k] = delta_zorder_key(v, key_types[k]);
            if (!v->is_null)
                distinct[nd++] = keys[r * nkeys + k];
        }
        qsort(distinct, nd, sizeof *distinct, u64_cmp);
        size_t nu = 0;
        for (size_t i = 0; i < nd; i++)
            if (nu == 0 || distinct[nu - 1] != distinct[i])
                distinct[nu++] = distinct[i];
        /* Slots: nulls (when any) first, then the distinct values in order;
         * slot i of m maps to i * 2^64 / m. */
        size_t has_null = nd < nrows, m = nu + has_null;
        for (size_t r = 0; r < nrows; r++) {
            const pq_value *v = &cells[r * ncols + key_cols[k]];
            uint64_t *key = &keys[r * nkeys + k];
            size_t slot = 0;
            if (!v->is_null) {
                size_t lo = 0, hi = nu;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (distinct[mid] < *key)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                slot = lo + has_null;
            }
            *key = slot_scale(slot, m);
        }
    }
    free(distinct);
    size_t bits = 64 / nkeys;
    zrow *z = sl_calloc(nrows, sizeof *z);
    for (size_t r = 0; r < nrows; r++) {
        uint64_t out = 0;
        for (size_t b = 0; b < bits; b++)
            for (size_t k = 0; k < nkeys; k++)
                out = out << 1 | (keys[r * nkeys + k] >> (63 - b) & 1);
        z[r].z = out;
        z[r].idx = r;
    }
    qsort(z, nrows, sizeof *z, zrow_cmp);
    for (size_t r = 0; r < nrows; r++)
        perm[r] = z[r].idx;
    free(z);
    free(keys);
}
