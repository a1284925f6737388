#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_rows.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/buf.h"

/* One live file that may be compacted, with its partition key (the
 * partitionValues object as canonical text). */
typedef struct opt_file {
    const delta_file *f;
    json_t *add;
    char *part_key;
} opt_file;

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
    delta_rows r;
    delta_rows_init(&r, cols, ncols);
    sl_code c = SL_OK;
    int64_t in_bytes = 0;
    for (size_t i = lo; i < hi && c == SL_OK; i++) {
        c = delta_rows_read_file(s, table_key, files[i].f, cols, ncols, &r, err);
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
    delta_rows_free(&r);
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
    /* When the commit's fate is unknown its files stay (orphans at worst). */
    if (c != SL_OK && c != SL_DELTA_COMMIT_UNKNOWN)
        delta_adds_delete(s, table_key, adds);
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
