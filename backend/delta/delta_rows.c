#include "backend/delta/delta_rows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/util/buf.h"

void delta_rows_init(delta_rows *r, const pq_schema_col *cols, size_t ncols)
{
    memset(r, 0, sizeof *r);
    r->ncols = ncols;
    r->types = sl_calloc(ncols ? ncols : 1, sizeof *r->types);
    for (size_t k = 0; k < ncols; k++)
        r->types[k] = cols[k].type;
}

void delta_rows_free(delta_rows *r)
{
    for (size_t i = 0; i < r->nchunks; i++)
        pq_column_data_free(&r->chunks[i]);
    for (size_t i = 0; i < r->ntexts; i++)
        free(r->texts[i]);
    free(r->texts);
    free(r->chunks);
    free(r->cells);
    free(r->types);
    memset(r, 0, sizeof *r);
}

static void rows_reserve(delta_rows *r, size_t more)
{
    if (r->nrows + more <= r->cap)
        return;
    r->cap = (r->nrows + more) * 2;
    r->cells =
        sl_realloc(r->cells, r->cap * (r->ncols ? r->ncols : 1) * sizeof *r->cells);
}

pq_value *delta_rows_add(delta_rows *r)
{
    rows_reserve(r, 1);
    pq_value *row = &r->cells[r->nrows++ * r->ncols];
    for (size_t k = 0; k < r->ncols; k++)
        row[k] = pq_val_null();
    return row;
}

const char *delta_rows_keep(delta_rows *r, const char *s, size_t n)
{
    if (r->ntexts == r->cap_texts) {
        r->cap_texts = r->cap_texts ? r->cap_texts * 2 : 16;
        r->texts = sl_realloc(r->texts, r->cap_texts * sizeof *r->texts);
    }
    char *copy = sl_strndup(s ? s : "", s ? n : 0);
    r->texts[r->ntexts++] = copy;
    return copy;
}

void delta_rows_copy_row(delta_rows *dst, const delta_rows *src, size_t i)
{
    pq_value *row = delta_rows_add(dst);
    const pq_value *from = &src->cells[i * src->ncols];
    for (size_t k = 0; k < dst->ncols && k < src->ncols; k++) {
        row[k] = from[k];
        /* Strings and binaries move with the row; others are plain values. */
        pq_type t = pq_type_base(dst->types[k]);
        if (!from[k].is_null && (t == PQ_TYPE_STRING || t == PQ_TYPE_BINARY))
            row[k].str.ptr = delta_rows_keep(dst, from[k].str.ptr, from[k].str.len);
    }
}

/* A partition value's text as a cell of the column's type. */
sl_code delta_rows_partition_cell(const pq_schema_col *col, const char *text,
                                  delta_rows *r, pq_value *out, sl_err *err)
{
    if (!text) {
        *out = pq_val_null();
        return SL_OK;
    }
    char *end = NULL;
    errno = 0;
    switch (pq_type_base(col->type)) {
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY: {
        size_t n = strlen(text);
        *out = pq_val_strn(delta_rows_keep(r, text, n), n);
        return SL_OK;
    }
    case PQ_TYPE_BOOLEAN:
        if (strcmp(text, "true") && strcmp(text, "false"))
            break;
        *out = pq_val_bool(text[0] == 't');
        return SL_OK;
    case PQ_TYPE_INT32: {
        long long v = strtoll(text, &end, 10);
        if (errno || !*text || *end || v < INT32_MIN || v > INT32_MAX)
            break;
        *out = pq_val_i32((int32_t)v);
        return SL_OK;
    }
    case PQ_TYPE_INT64: {
        long long v = strtoll(text, &end, 10);
        if (errno || !*text || *end)
            break;
        *out = pq_val_i64(v);
        return SL_OK;
    }
    case PQ_TYPE_DOUBLE:
    case PQ_TYPE_FLOAT: {
        double v = strtod(text, &end);
        if (!*text || *end)
            break;
        *out = pq_type_base(col->type) == PQ_TYPE_DOUBLE ? pq_val_f64(v)
                                                         : pq_val_f32((float)v);
        return SL_OK;
    }
    case PQ_TYPE_DATE: {
        int y, m, d;
        char tail;
        if (sscanf(text, "%d-%d-%d%c", &y, &m, &d, &tail) != 3)
            break;
        /* Days from civil (proleptic Gregorian). */
        y -= m <= 2;
        int era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy =
            (153 * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        *out = pq_val_date((int32_t)(era * 146097 + (int)doe - 719468));
        return SL_OK;
    }
    case PQ_TYPE_DECIMAL:
        return pq_decimal_parse(text, strlen(text), pq_type_precision(col->type),
                                pq_type_scale(col->type), out, err);
    default:
        return err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                       "partition column '%s' has a type whose partition values sluice "
                       "does not read",
                       col->name);
    }
    return err_set(err, SL_DELTA_SCHEMA, "partition column '%s': bad value '%s'",
                   col->name, text);
}

static pq_int128 be_int128(const uint8_t *p, size_t n)
{
    pq_int128 v = {0, n && (p[0] & 0x80) ? -1 : 0};
    uint64_t hi = (uint64_t)v.hi, lo = v.hi ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++) {
        hi = hi << 8 | lo >> 56;
        lo = lo << 8 | p[i];
    }
    v.lo = lo;
    v.hi = (int64_t)hi;
    return v;
}

/* May a file's leaf be read as a cell of the table's type t? Files written
 * before a type widening (int -> long, float -> double) or by Spark with
 * INT96/millisecond timestamps are; anything else would be misread. */
static int leaf_fits(const pq_node *leaf, pq_type t)
{
    pq_physical ph = leaf->type;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        return ph == PQ_PHYS_BOOLEAN;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return ph == PQ_PHYS_INT32;
    case PQ_TYPE_INT64:
        return ph == PQ_PHYS_INT32 || ph == PQ_PHYS_INT64;
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ:
        return ph == PQ_PHYS_INT64 || ph == PQ_PHYS_INT96;
    case PQ_TYPE_FLOAT:
        return ph == PQ_PHYS_FLOAT;
    case PQ_TYPE_DOUBLE:
        return ph == PQ_PHYS_FLOAT || ph == PQ_PHYS_DOUBLE;
    case PQ_TYPE_DECIMAL:
        return ph != PQ_PHYS_BOOLEAN && ph != PQ_PHYS_INT96 && ph != PQ_PHYS_FLOAT &&
               ph != PQ_PHYS_DOUBLE && leaf->scale == pq_type_scale(t);
    default: /* STRING, BINARY */
        return ph == PQ_PHYS_BYTE_ARRAY || ph == PQ_PHYS_FIXED_LEN_BYTE_ARRAY;
    }
}

/* Microseconds of an INT64 timestamp leaf's value in its unit. */
static int64_t ts_micros(const pq_node *leaf, int64_t x)
{
    int millis = leaf->logical.kind == PQ_LOGICAL_TIMESTAMP
                     ? leaf->logical.ts_unit == PQ_UNIT_MILLIS
                     : leaf->converted == PQ_CONV_TIMESTAMP_MILLIS;
    int nanos = leaf->logical.kind == PQ_LOGICAL_TIMESTAMP &&
                leaf->logical.ts_unit == PQ_UNIT_NANOS;
    if (millis)
        return x * 1000;
    if (nanos)
        return x / 1000 - (x % 1000 < 0);
    return x;
}

/* The k-th non-null value of a decoded column as a cell of type t (the
 * leaf fits t: leaf_fits). */
static pq_value column_cell(const pq_column_data *d, size_t k, pq_type t)
{
    pq_value v = {0};
    pq_type base = pq_type_base(t);
    int dec = base == PQ_TYPE_DECIMAL;
    switch (d->leaf->type) {
    case PQ_PHYS_BOOLEAN:
        v.b = ((const uint8_t *)d->values)[k] != 0;
        break;
    case PQ_PHYS_INT32: {
        int32_t x = ((const int32_t *)d->values)[k];
        v = dec ? pq_val_dec(x) : base == PQ_TYPE_INT64 ? pq_val_i64(x) : pq_val_i32(x);
        break;
    }
    case PQ_PHYS_INT64: {
        int64_t x = ((const int64_t *)d->values)[k];
        if (base == PQ_TYPE_TIMESTAMP_US || base == PQ_TYPE_TIMESTAMP_NTZ)
            x = ts_micros(d->leaf, x);
        v = dec ? pq_val_dec(x) : pq_val_i64(x);
        break;
    }
    case PQ_PHYS_INT96: {
        /* 8 bytes nanoseconds of the day, 4 bytes Julian day, little-endian. */
        const uint8_t *p = (const uint8_t *)d->values + 12 * k;
        uint64_t ns = 0;
        uint32_t jd = 0;
        for (int i = 7; i >= 0; i--)
            ns = ns << 8 | p[i];
        for (int i = 11; i >= 8; i--)
            jd = jd << 8 | p[i];
        v.i64 = ((int64_t)jd - 2440588) * 86400000000LL + (int64_t)(ns / 1000);
        break;
    }
    case PQ_PHYS_FLOAT: {
        float x = ((const float *)d->values)[k];
        v = base == PQ_TYPE_DOUBLE ? pq_val_f64((double)x) : pq_val_f32(x);
        break;
    }
    case PQ_PHYS_DOUBLE:
        v.f64 = ((const double *)d->values)[k];
        break;
    default: {
        const pq_span *sp = &((const pq_span *)d->values)[k];
        if (dec)
            v.dec = be_int128(sp->ptr, sp->len);
        else
            v = pq_val_bin(sp->ptr, sp->len);
        break;
    }
    }
    return v;
}

static const pq_node *leaf_named(const pq_file_info *fi, const char *name)
{
    for (size_t i = 0; i < fi->root->num_children; i++) {
        const pq_node *n = fi->root->children[i];
        if (n->is_leaf && strcmp(n->name, name) == 0)
            return n;
    }
    return NULL;
}

/* Appends every row of one data file to r. */
sl_code delta_rows_read_file(store *s, const char *table_key, const delta_file *f,
                             const pq_schema_col *cols, size_t ncols, delta_rows *r,
                             sl_err *err)
{
    if (f->dv_id)
        return err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                       "%s has a deletion vector: its rows cannot be read without it",
                       f->path);
    json_t *add = delta_file_add(f);
    if (!add)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "the add action of %s cannot be read",
                       f->path);
    pq_value *pcells = sl_calloc(ncols, sizeof *pcells);
    const json_t *pv = json_object_get(add, "partitionValues");
    int *is_part = sl_calloc(ncols, sizeof *is_part);
    sl_code c = SL_OK;
    for (size_t k = 0; k < ncols && c == SL_OK; k++) {
        json_t *v = json_object_get(pv, cols[k].name);
        if (!v)
            continue;
        is_part[k] = 1;
        c = delta_rows_partition_cell(&cols[k], json_string_value(v), r, &pcells[k], err);
    }
    char *key = c == SL_OK ? delta_data_file_key(s, table_key, f->path) : NULL;
    if (c == SL_OK && !key)
        c = err_set(err, SL_DELTA_CORRUPT_LOG, "bad data file path '%s'", f->path);
    pq_source src;
    pq_reader *rd = NULL;
    if (c == SL_OK)
        c = pq_source_store(s, key, &src, err);
    if (c == SL_OK)
        c = pq_reader_open(&src, &rd, err);
    const pq_file_info *fi = rd ? pq_reader_info(rd) : NULL;
    const pq_node **leaves = sl_calloc(ncols, sizeof *leaves);
    for (size_t k = 0; fi && c == SL_OK && k < ncols; k++) {
        if (is_part[k])
            continue;
        leaves[k] = leaf_named(fi, cols[k].name);
        if (leaves[k] && (leaves[k]->max_rep > 0 || !leaf_fits(leaves[k], cols[k].type)))
            c = err_set(err, SL_DELTA_SCHEMA,
                        "%s: column '%s' is stored with a Parquet type that "
                        "does not fit the table's type",
                        f->path, cols[k].name);
    }
    for (size_t g = 0; fi && c == SL_OK && g < fi->num_row_groups; g++) {
        size_t n = (size_t)fi->row_groups[g].num_rows, base = r->nrows;
        rows_reserve(r, n);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < ncols; k++)
                r->cells[(base + i) * ncols + k] = is_part[k] ? pcells[k] : pq_val_null();
        for (size_t k = 0; c == SL_OK && k < ncols; k++) {
            if (!leaves[k])
                continue; /* partition column, or absent from this file: nulls */
            if (r->nchunks == r->cap_chunks) {
                r->cap_chunks = r->cap_chunks ? r->cap_chunks * 2 : 8;
                r->chunks = sl_realloc(r->chunks, r->cap_chunks * sizeof *r->chunks);
            }
            pq_column_data *d = &r->chunks[r->nchunks];
            memset(d, 0, sizeof *d);
            c = pq_read_column(rd, g, (size_t)leaves[k]->leaf_index, d, err);
            if (c != SL_OK)
                break;
            r->nchunks++;
            if (d->num_levels != n && !(d->num_levels == 0 && n == 0)) {
                c = err_set(err, SL_PARQUET_CORRUPT,
                            "%s: column '%s' has %zu values for %zu rows", f->path,
                            cols[k].name, d->num_levels, n);
                break;
            }
            for (size_t i = 0, nv = 0; i < n; i++) {
                if (d->def && d->def[i] < d->leaf->max_def)
                    continue;
                r->cells[(base + i) * ncols + k] = column_cell(d, nv++, cols[k].type);
            }
        }
        r->nrows += n;
    }
    free(leaves);
    pq_reader_close(rd);
    free(key);
    free(is_part);
    free(pcells);
    json_decref(add);
    if (c != SL_OK)
        err_wrap(err, "reading %s", f->path);
    return c;
}

void delta_file_col_range(const delta_file *f, const char *col, json_t **min,
                          json_t **max)
{
    *min = *max = NULL;
    json_t *add = delta_file_add(f);
    if (!add)
        return;
    json_t *pv = json_object_get(json_object_get(add, "partitionValues"), col);
    if (pv) { /* one value for the whole file */
        *min = json_incref(pv);
        *max = json_incref(pv);
        json_decref(add);
        return;
    }
    const char *stats = json_string_value(json_object_get(add, "stats"));
    json_t *st = stats ? json_loads(stats, 0, NULL) : NULL;
    json_t *mn = json_object_get(json_object_get(st, "minValues"), col);
    json_t *mx = json_object_get(json_object_get(st, "maxValues"), col);
    if (mn && mx) {
        *min = json_incref(mn);
        *max = json_incref(mx);
    }
    json_decref(st);
    json_decref(add);
}
