#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_optimize.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/buf.h"

/* One live file that may be compacted, with its partition key (the
 * partitionValues object as canonical text). */
typedef struct opt_file {
    const delta_file *f;
    json_t *add;
    char *part_key;
} opt_file;

/* Rows of one bin: nrows x ncols cells; string cells point into the
 * decoded column chunks kept in cols until the file is written. */
typedef struct opt_rows {
    pq_value *cells;
    size_t nrows, cap, ncols;
    pq_column_data *cols;
    size_t ncols_data, cap_cols;
    char **texts; /* partition value strings the cells borrow */
    size_t ntexts;
} opt_rows;

static void rows_free(opt_rows *r)
{
    for (size_t i = 0; i < r->ncols_data; i++)
        pq_column_data_free(&r->cols[i]);
    for (size_t i = 0; i < r->ntexts; i++)
        free(r->texts[i]);
    free(r->texts);
    free(r->cols);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

static int opt_file_cmp(const void *x, const void *y)
{
    const opt_file *a = x, *b = y;
    int c = strcmp(a->part_key, b->part_key);
    if (c)
        return c;
    if (a->f->size != b->f->size)
        return a->f->size < b->f->size ? -1 : 1;
    return strcmp(a->f->path, b->f->path);
}

/* A partition value's text as a cell of the column's type. */
static sl_code partition_cell(const pq_schema_col *col, const char *text, opt_rows *r,
                              pq_value *out, sl_err *err)
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
        char *copy = sl_strdup(text);
        r->texts = realloc(r->texts, (r->ntexts + 1) * sizeof *r->texts);
        r->texts[r->ntexts++] = copy;
        *out = pq_val_strn(copy, strlen(copy));
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
                       "optimize: partition column '%s' has a type whose partition "
                       "values sluice does not rewrite",
                       col->name);
    }
    return err_set(err, SL_DELTA_SCHEMA,
                   "optimize: partition column '%s': bad value '%s'", col->name, text);
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
static sl_code rows_read_file(store *s, const char *table_key, const opt_file *of,
                              const pq_schema_col *cols, size_t ncols, opt_rows *r,
                              sl_err *err)
{
    pq_value *pcells = sl_calloc(ncols, sizeof *pcells);
    const json_t *pv = json_object_get(of->add, "partitionValues");
    int *is_part = sl_calloc(ncols, sizeof *is_part);
    sl_code c = SL_OK;
    for (size_t k = 0; k < ncols && c == SL_OK; k++) {
        json_t *v = json_object_get(pv, cols[k].name);
        if (!v)
            continue;
        is_part[k] = 1;
        c = partition_cell(&cols[k], json_string_value(v), r, &pcells[k], err);
    }
    char *key = c == SL_OK ? delta_data_file_key(s, table_key, of->f->path) : NULL;
    if (c == SL_OK && !key)
        c = err_set(err, SL_DELTA_CORRUPT_LOG, "optimize: bad data file path '%s'",
                    of->f->path);
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
                        "optimize: %s: column '%s' is stored with a Parquet type that "
                        "does not fit the table's type",
                        of->f->path, cols[k].name);
    }
    for (size_t g = 0; fi && c == SL_OK && g < fi->num_row_groups; g++) {
        size_t n = (size_t)fi->row_groups[g].num_rows, base = r->nrows;
        if (r->nrows + n > r->cap) {
            r->cap = (r->nrows + n) * 2;
            r->cells = realloc(r->cells, r->cap * ncols * sizeof *r->cells);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < ncols; k++)
                r->cells[(base + i) * ncols + k] = is_part[k] ? pcells[k] : pq_val_null();
        for (size_t k = 0; c == SL_OK && k < ncols; k++) {
            if (!leaves[k])
                continue; /* partition column, or absent from this file: nulls */
            if (r->ncols_data == r->cap_cols) {
                r->cap_cols = r->cap_cols ? r->cap_cols * 2 : 8;
                r->cols = realloc(r->cols, r->cap_cols * sizeof *r->cols);
            }
            pq_column_data *d = &r->cols[r->ncols_data];
            memset(d, 0, sizeof *d);
            c = pq_read_column(rd, g, (size_t)leaves[k]->leaf_index, d, err);
            if (c != SL_OK)
                break;
            r->ncols_data++;
            if (d->num_levels != n && !(d->num_levels == 0 && n == 0)) {
                c = err_set(err, SL_PARQUET_CORRUPT,
                            "optimize: %s: column '%s' has %zu values for %zu rows",
                            of->f->path, cols[k].name, d->num_levels, n);
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
    if (c != SL_OK)
        err_wrap(err, "optimize: reading %s", of->f->path);
    return c;
}

static json_t *remove_from_add(const json_t *add, int64_t now_ms)
{
    json_t *r = json_object();
    json_object_set(r, "path", json_object_get(add, "path"));
    json_object_set_new(r, "deletionTimestamp", json_integer(now_ms));
    json_object_set_new(r, "dataChange", json_false());
    json_object_set_new(r, "extendedFileMetadata", json_true());
    static const char *const keep[] = {"partitionValues", "size", "tags", "stats"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(add, keep[i]);
        if (v && !json_is_null(v))
            json_object_set(r, keep[i], v);
    }
    if (!json_object_get(r, "partitionValues"))
        json_object_set_new(r, "partitionValues", json_object());
    return r;
}

static int i64_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Percentile of sorted sizes as Delta Lake reports it: the element at index
 * floor(n * pct / 100), not the nearest rank (two files: p50 is the larger). */
static int64_t percentile(const int64_t *v, size_t n, int pct)
{
    return v[n * (size_t)pct / 100];
}

static json_t *metrics_json(const delta_optimize_result *res, json_t *adds)
{
    size_t n = json_array_size(adds);
    int64_t *sizes = sl_calloc(n ? n : 1, sizeof *sizes);
    for (size_t i = 0; i < n; i++)
        sizes[i] = json_integer_value(
            json_object_get(json_object_get(json_array_get(adds, i), "add"), "size"));
    qsort(sizes, n, sizeof *sizes, i64_cmp);
    json_t *m = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "numRemovedFiles",
        (json_int_t)res->removed_files, "numAddedFiles", (json_int_t)res->added_files,
        "numRemovedBytes", (json_int_t)res->removed_bytes, "numAddedBytes",
        (json_int_t)res->added_bytes, "minFileSize", (json_int_t)(n ? sizes[0] : 0),
        "p25FileSize", (json_int_t)(n ? percentile(sizes, n, 25) : 0), "p50FileSize",
        (json_int_t)(n ? percentile(sizes, n, 50) : 0), "p75FileSize",
        (json_int_t)(n ? percentile(sizes, n, 75) : 0), "maxFileSize",
        (json_int_t)(n ? sizes[n - 1] : 0), "numDeletionVectorsRemoved", (json_int_t)0);
    /* 0: files with deletion vectors are never compacted here. */
    free(sizes);
    return m;
}

static void adds_delete(store *s, const char *table_key, json_t *adds)
{
    size_t i;
    json_t *a;
    json_array_foreach(adds, i, a)
    {
        const char *p =
            json_string_value(json_object_get(json_object_get(a, "add"), "path"));
        char *key = p ? delta_data_file_key(s, table_key, p) : NULL;
        if (key) {
            sl_err ignored = {0};
            store_delete(s, key, &ignored);
        }
        free(key);
    }
}

/* The Z-order columns: indices into cols and their types. */
typedef struct opt_zorder {
    size_t *idx;
    pq_type *types;
    size_t n;
} opt_zorder;

static sl_code zorder_resolve(const delta_optimize_opts *opts, const json_t *metadata,
                              const pq_schema_col *cols, size_t ncols, opt_zorder *z,
                              sl_err *err)
{
    memset(z, 0, sizeof *z);
    if (opts->nzorder_by == 0)
        return SL_OK;
    z->idx = sl_calloc(opts->nzorder_by, sizeof *z->idx);
    z->types = sl_calloc(opts->nzorder_by, sizeof *z->types);
    const json_t *parts = json_object_get(metadata, "partitionColumns");
    for (size_t i = 0; i < opts->nzorder_by; i++) {
        const char *name = opts->zorder_by[i];
        size_t k = 0;
        while (k < ncols && strcmp(cols[k].name, name) != 0)
            k++;
        if (k == ncols)
            return err_set(err, SL_USAGE,
                           "optimize: z-order column '%s' is not in the table", name);
        size_t j;
        json_t *pc;
        json_array_foreach(parts, j, pc)
        {
            if (strcmp(json_string_value(pc) ? json_string_value(pc) : "", name) == 0)
                return err_set(err, SL_USAGE,
                               "optimize: '%s' is a partition column; z-order by data "
                               "columns only",
                               name);
        }
        for (size_t m = 0; m < z->n; m++)
            if (z->idx[m] == k)
                return err_set(err, SL_USAGE, "optimize: z-order column '%s' given twice",
                               name);
        z->idx[z->n] = k;
        z->types[z->n++] = cols[k].type;
    }
    return SL_OK;
}

static void zorder_free(opt_zorder *z)
{
    free(z->idx);
    free(z->types);
}

static sl_code file_write(store *s, const char *table_key, const delta_snapshot *snap,
                          const pq_value *cells, size_t nrows,
                          const delta_optimize_opts *opts, json_t *adds,
                          delta_optimize_result *res, sl_err *err)
{
    json_t *add = NULL;
    sl_code c = delta_data_file_write(s, table_key, snap->metadata, cells, nrows,
                                      opts->writer_opts, 0, &add, err);
    if (c == SL_OK) {
        res->added_files++;
        res->added_bytes += json_integer_value(json_object_get(add, "size"));
        json_array_append_new(adds, json_pack("{s:o}", "add", add));
    }
    return c;
}

/* Rewrites bin [lo, hi) of files: one new file, or with Z-order the rows in
 * curve order split into files of about the target size. */
static sl_code bin_rewrite(store *s, const char *table_key, const delta_snapshot *snap,
                           const pq_schema_col *cols, size_t ncols, const opt_zorder *z,
                           const opt_file *files, size_t lo, size_t hi, int64_t target,
                           const delta_optimize_opts *opts, json_t *adds,
                           delta_optimize_result *res, sl_err *err)
{
    opt_rows r = {.ncols = ncols};
    sl_code c = SL_OK;
    int64_t in_bytes = 0;
    for (size_t i = lo; i < hi && c == SL_OK; i++) {
        c = rows_read_file(s, table_key, &files[i], cols, ncols, &r, err);
        in_bytes += files[i].f->size;
    }
    if (c == SL_OK && r.nrows > 0 && z->n == 0)
        c = file_write(s, table_key, snap, r.cells, r.nrows, opts, adds, res, err);
    if (c == SL_OK && r.nrows > 0 && z->n > 0) {
        size_t *perm = sl_calloc(r.nrows, sizeof *perm);
        delta_zorder_sort(r.cells, r.nrows, ncols, z->idx, z->types, z->n, perm);
        pq_value *sorted = sl_calloc(r.nrows * ncols, sizeof *sorted);
        for (size_t i = 0; i < r.nrows; i++)
            memcpy(&sorted[i * ncols], &r.cells[perm[i] * ncols], ncols * sizeof *sorted);
        size_t nout = (size_t)((in_bytes + target - 1) / target);
        nout = nout < 1 ? 1 : nout > r.nrows ? r.nrows : nout;
        for (size_t k = 0; k < nout && c == SL_OK; k++) {
            size_t a = r.nrows * k / nout, b = r.nrows * (k + 1) / nout;
            c = file_write(s, table_key, snap, &sorted[a * ncols], b - a, opts, adds, res,
                           err);
        }
        free(sorted);
        free(perm);
    }
    res->rows += (int64_t)r.nrows;
    rows_free(&r);
    return c;
}

sl_code delta_optimize_run(store *s, const char *table_key, const delta_snapshot *snap,
                           const delta_optimize_opts *opts, const delta_commit_meta *meta,
                           delta_optimize_result *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->version = snap->version;
    int64_t target =
        opts->target_size > 0 ? opts->target_size : DELTA_OPTIMIZE_DEFAULT_TARGET;
    char *where = delta_table_target(s, table_key);
    sl_code c = delta_write_protocol_check(snap->protocol, snap->metadata, where, err);
    free(where);
    if (c != SL_OK)
        return c;
    pq_schema_col *cols = NULL;
    size_t ncols = 0;
    c = delta_schema_cols(snap->metadata, &cols, &ncols, err);
    if (c != SL_OK)
        return c;
    opt_zorder z;
    c = zorder_resolve(opts, snap->metadata, cols, ncols, &z, err);
    if (c != SL_OK) {
        zorder_free(&z);
        delta_schema_cols_free(cols, ncols);
        return c;
    }

    opt_file *files = sl_calloc(snap->nfiles ? snap->nfiles : 1, sizeof *files);
    size_t nf = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        const delta_file *f = &snap->files[i];
        if (f->dv_id || (z.n == 0 && f->size >= target))
            continue;
        json_t *add = delta_file_add(f);
        if (!add)
            continue;
        files[nf].f = f;
        files[nf].add = add;
        json_t *pv = json_object_get(add, "partitionValues");
        files[nf].part_key = pv ? json_dumps(pv, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
        if (!files[nf].part_key)
            files[nf].part_key = sl_strdup("{}");
        nf++;
    }
    qsort(files, nf, sizeof *files, opt_file_cmp);

    /* Bins: consecutive small files of one partition (smallest first) while
     * the total stays within the target; a bin of one file is left alone.
     * Z-order takes each whole partition as one bin. */
    json_t *adds = json_array(), *removes = json_array();
    const char **read_paths = sl_calloc(nf ? nf : 1, sizeof *read_paths);
    size_t nread = 0;
    for (size_t lo = 0; lo < nf && c == SL_OK;) {
        size_t hi = lo + 1;
        int64_t total = files[lo].f->size;
        while (hi < nf && strcmp(files[hi].part_key, files[lo].part_key) == 0 &&
               (z.n > 0 || total + files[hi].f->size <= target))
            total += files[hi++].f->size;
        if ((hi - lo >= 2 || z.n > 0) && opts->dry_run) {
            out->bins++;
            for (size_t i = lo; i < hi; i++) {
                out->removed_files++;
                out->removed_bytes += files[i].f->size;
                int64_t nr = files[i].f->num_records;
                out->rows = out->rows < 0 || nr < 0 ? -1 : out->rows + nr;
            }
        } else if (hi - lo >= 2 || z.n > 0) {
            c = bin_rewrite(s, table_key, snap, cols, ncols, &z, files, lo, hi, target,
                            opts, adds, out, err);
            out->bins++;
            for (size_t i = lo; i < hi && c == SL_OK; i++) {
                json_array_append_new(
                    removes, json_pack("{s:o}", "remove",
                                       remove_from_add(files[i].add, opts->now_ms)));
                read_paths[nread++] = files[i].f->path;
                out->removed_files++;
                out->removed_bytes += files[i].f->size;
            }
        }
        lo = hi;
    }

    if (c == SL_OK && out->removed_files > 0 && !opts->dry_run) {
        json_t *actions = json_array();
        json_array_extend(actions, adds);
        json_array_extend(actions, removes);
        delta_commit_req req = {0};
        if (meta)
            req.meta = *meta;
        req.meta.operation = "OPTIMIZE";
        /* Delta Lake commits changes without dataChange at snapshot isolation. */
        req.meta.isolation_level = "SnapshotIsolation";
        json_t *zcols = json_array();
        for (size_t i = 0; i < opts->nzorder_by; i++)
            json_array_append_new(zcols, json_string(opts->zorder_by[i]));
        char *ztext = json_dumps(zcols, JSON_COMPACT);
        json_decref(zcols);
        req.meta.operation_parameters =
            json_pack("{s:s, s:s}", "predicate", "[]", "zOrderBy", ztext ? ztext : "[]");
        free(ztext);
        req.meta.operation_metrics = metrics_json(out, adds);
        req.read_snap = snap;
        req.actions = actions;
        req.read_paths = read_paths;
        req.nread_paths = nread;
        req.max_attempts = opts->max_attempts;
        delta_commit_result cr = {0};
        c = delta_commit(s, table_key, &req, &cr, err);
        if (c == SL_OK) {
            out->committed = 1;
            out->version = cr.version;
        }
        json_decref(req.meta.operation_parameters);
        json_decref(req.meta.operation_metrics);
        json_decref(actions);
    }
    if (c != SL_OK)
        adds_delete(s, table_key, adds);
    json_decref(adds);
    json_decref(removes);
    free(read_paths);
    for (size_t i = 0; i < nf; i++) {
        json_decref(files[i].add);
        free(files[i].part_key);
    }
    free(files);
    zorder_free(&z);
    delta_schema_cols_free(cols, ncols);
    return c;
}
