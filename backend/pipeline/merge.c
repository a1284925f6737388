#include "backend/pipeline/merge.h"

#include "backend/delta/delta_paths.h"

#include <stdlib.h>
#include <string.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/pipeline/rowcmp.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* New data files are cut at about this many (estimated, uncompressed) bytes. */
#define MERGE_TARGET_BYTES ((size_t)128 << 20)

static const char *const meta_names[] = {"_source_file", "_source_line", "_epoch",
                                         "_batch_id"};
static const pq_type meta_types[] = {PQ_TYPE_STRING, PQ_TYPE_INT64, PQ_TYPE_INT64,
                                     PQ_TYPE_INT64};
#define NMETA (sizeof meta_names / sizeof meta_names[0])

sl_code merge_silver_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                          sl_err *err)
{
    size_t nb = d->bronze.ncols;
    for (size_t i = 0; i < nb; i++)
        for (size_t m = 0; m < NMETA; m++)
            if (strcmp(d->bronze.cols[i].name, meta_names[m]) == 0)
                return err_set(err, SL_PIPELINE_INVALID,
                               "%s: bronze column '%s' collides with silver's own column",
                               d->path ? d->path : d->name, meta_names[m]);
    pq_schema_col *c = sl_calloc(nb + NMETA, sizeof *c);
    for (size_t i = 0; i < nb; i++) {
        c[i] = d->bronze.cols[i];
        c[i].nullable = true;
    }
    for (size_t m = 0; m < NMETA; m++)
        c[nb + m] = (pq_schema_col){meta_names[m], meta_types[m], true};
    *cols = c;
    *n = nb + NMETA;
    return SL_OK;
}

void merge_result_clear(merge_result *r)
{
    delta_rows_free(&r->before);
    delta_rows_free(&r->after);
}

/* ---- shared helpers ---------------------------------------------------- */

/* The files layout's partition column: one directory per source file. */
static const char *const source_part[] = {"_source_file"};

static size_t silver_parts(const pipeline_def *d, const char *const **parts)
{
    *parts = source_part;
    return d->source.layout == PL_LAYOUT_FILES ? 1 : 0;
}

static sl_code table_open(store *lake, const char *key, const pq_schema_col *cols,
                          size_t ncols, const char *const *parts, size_t nparts,
                          delta_snapshot **snap, sl_err *err)
{
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_code c = delta_snapshot_open(lake, key, &at, snap, err);
    if (c != SL_DELTA_NOT_A_TABLE)
        return c;
    delta_table_spec spec = {
        .cols = cols, .ncols = ncols, .partition_cols = parts, .npartition_cols = nparts};
    delta_commit_meta m = {.operation = "CREATE TABLE"};
    delta_commit_result cr = {0};
    c = delta_table_create(lake, key, &spec, &m, &cr, err);
    /* Another writer creating it first is as good. */
    if (c != SL_OK && c != SL_DELTA_TABLE_EXISTS)
        return c;
    return delta_snapshot_open(lake, key, &at, snap, err);
}

sl_code merge_table_open(store *lake, const char *key, const pq_schema_col *cols,
                         size_t ncols, delta_snapshot **snap, sl_err *err)
{
    return table_open(lake, key, cols, ncols, NULL, 0, snap, err);
}

sl_code merge_silver_open(store *lake, const pipeline_def *d, delta_snapshot **snap,
                          sl_err *err)
{
    pq_schema_col *cols;
    size_t ncols;
    sl_code c = merge_silver_cols(d, &cols, &ncols, err);
    if (c != SL_OK)
        return c;
    const char *const *parts;
    size_t nparts = silver_parts(d, &parts);
    c = table_open(lake, d->silver.table, cols, ncols, parts, nparts, snap, err);
    free(cols);
    return c;
}

int64_t merge_txn_version(const delta_snapshot *snap, const char *app_id)
{
    json_t *v = json_object_get(json_object_get(snap->txns, app_id), "version");
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* The remove of f from its add action's body (borrowed, may be NULL). */
static json_t *remove_from_add(const delta_file *f, const json_t *add, int64_t now_ms)
{
    json_t *r = json_object();
    json_object_set_new(r, "path", json_string(f->path));
    json_object_set_new(r, "deletionTimestamp", json_integer(now_ms));
    json_object_set_new(r, "dataChange", json_true());
    json_object_set_new(r, "extendedFileMetadata", json_true());
    static const char *const keep[] = {"partitionValues", "size", "tags", "stats"};
    for (size_t i = 0; add && i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(add, keep[i]);
        if (v && !json_is_null(v))
            json_object_set(r, keep[i], v);
    }
    if (!json_object_get(r, "partitionValues"))
        json_object_set_new(r, "partitionValues", json_object());
    return json_pack("{s:o}", "remove", r);
}

json_t *merge_remove_action(const delta_file *f, int64_t now_ms)
{
    json_t *add = delta_file_add(f);
    json_t *r = remove_from_add(f, add, now_ms);
    json_decref(add);
    return r;
}

static size_t row_bytes(const delta_rows *r, size_t i)
{
    size_t n = 0;
    for (size_t k = 0; k < r->ncols; k++) {
        const pq_value *v = &r->cells[i * r->ncols + k];
        pq_type t = pq_type_base(r->types[k]);
        n += (!v->is_null && (t == PQ_TYPE_STRING || t == PQ_TYPE_BINARY))
                 ? v->str.len + 4
                 : 8;
    }
    return n;
}

sl_code merge_write_rows(store *lake, const char *key, const delta_snapshot *snap,
                         const delta_rows *r, const size_t *idx, size_t n,
                         const pq_writer_opts *opts, json_t *adds, sl_err *err)
{
    size_t nc = r->ncols;
    pq_value *cells = sl_calloc(n && nc ? n * nc : 1, sizeof *cells);
    sl_code c = SL_OK;
    for (size_t lo = 0; lo < n && c == SL_OK;) {
        size_t hi = lo, bytes = 0;
        while (hi < n && (hi == lo || bytes < MERGE_TARGET_BYTES)) {
            size_t i = idx ? idx[hi] : hi;
            memcpy(&cells[(hi - lo) * nc], &r->cells[i * nc], nc * sizeof *cells);
            bytes += row_bytes(r, i);
            hi++;
        }
        json_t *add = NULL;
        c = delta_data_file_write(lake, key, snap->metadata, cells, hi - lo, opts, 1,
                                  &add, err);
        if (c == SL_OK)
            json_array_append_new(adds, json_pack("{s:o}", "add", add));
        lo = hi;
    }
    free(cells);
    return c;
}

/* Data files this commit added, deleted after a failed commit (their paths
 * are plain file names under the table: nothing to decode). */
sl_code merge_commit(store *lake, const char *key, const delta_snapshot *snap,
                     const merge_commit_spec *spec, int64_t *version, sl_err *err)
{
    json_t *actions = json_array();
    json_array_extend(actions, spec->removes);
    json_array_extend(actions, spec->adds);
    json_array_append_new(actions,
                          json_pack("{s:{s:s, s:I, s:I}}", "txn", "appId", spec->app_id,
                                    "version", (json_int_t)spec->txn_version,
                                    "lastUpdated", (json_int_t)time_now_ms()));
    delta_commit_req req = {0};
    if (spec->meta)
        req.meta = *spec->meta;
    req.meta.operation = spec->operation;
    req.meta.operation_parameters = spec->parameters;
    req.meta.operation_metrics = spec->metrics;
    req.read_snap = snap;
    req.actions = actions;
    req.read_paths = spec->read_paths;
    req.nread_paths = spec->nread_paths;
    /* A race is the runner's to retry from a fresh snapshot. */
    req.max_attempts = 1;
    req.no_checkpoint = spec->no_checkpoint;
    delta_commit_result cr = {0};
    sl_code c = delta_commit(lake, key, &req, &cr, err);
    if (c == SL_OK)
        *version = cr.version;
    else if (c != SL_DELTA_COMMIT_UNKNOWN) /* that commit may exist: keep its files */
        delta_adds_delete(lake, key, spec->adds);
    json_decref(actions);
    return c;
}

/* ---- one table's rows from pruned files -------------------------------- */

/* Where the columns the merge needs sit in a table (or in the batch). */
typedef struct mg_shape {
    size_t keys[16];
    size_t nkeys;
    int seq, batch, line, file; /* -1: absent */
} mg_shape;

static int col_find(const pq_schema_col *cols, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

static sl_code shape_resolve(const pipeline_def *d, const pq_schema_col *cols, size_t n,
                             const char *where, mg_shape *sh, sl_err *err)
{
    memset(sh, 0, sizeof *sh);
    if (d->silver.nkeys > sizeof sh->keys / sizeof sh->keys[0])
        return err_set(err, SL_PIPELINE_INVALID, "%s: more than 16 silver keys", d->name);
    for (size_t i = 0; i < d->silver.nkeys; i++) {
        int k = col_find(cols, n, d->silver.keys[i]);
        if (k < 0)
            return err_set(err, SL_DELTA_SCHEMA, "%s has no key column '%s'", where,
                           d->silver.keys[i]);
        sh->keys[sh->nkeys++] = (size_t)k;
    }
    sh->seq = col_find(cols, n, d->silver.sequence_by);
    if (d->silver.sequence_by && sh->seq < 0)
        return err_set(err, SL_DELTA_SCHEMA, "%s has no sequence_by column '%s'", where,
                       d->silver.sequence_by);
    sh->batch = col_find(cols, n, "_batch_id");
    sh->line = col_find(cols, n, "_source_line");
    sh->file = col_find(cols, n, "_source_file");
    return SL_OK;
}

static const pq_value *cell(const delta_rows *r, size_t i, int k)
{
    return &r->cells[i * r->ncols + (size_t)k];
}

/* The ordering rule: sequence_by (null oldest), then _batch_id, then
 * _source_line, then _source_file (two files of one folder). */
static int order_cmp(const delta_rows *a, size_t i, const mg_shape *sa,
                     const delta_rows *b, size_t j, const mg_shape *sb)
{
    int pa[4] = {sa->seq, sa->batch, sa->line, sa->file};
    int pb[4] = {sb->seq, sb->batch, sb->line, sb->file};
    for (int k = 0; k < 4; k++) {
        if (pa[k] < 0 || pb[k] < 0)
            continue;
        int c = rowcmp_value(a->types[pa[k]], cell(a, i, pa[k]), cell(b, j, pb[k]));
        if (c)
            return c;
    }
    return 0;
}

static int key_cmp(const delta_rows *a, size_t i, const mg_shape *sa, const delta_rows *b,
                   size_t j, const mg_shape *sb)
{
    return rowcmp_cols(a, i, sa->keys, b, j, sb->keys, sa->nkeys);
}

typedef struct mg_sort_ctx {
    const delta_rows *r;
    const mg_shape *sh;
    int by_file; /* files layout: _source_file first */
} mg_sort_ctx;

static int sort_cmp(const void *x, const void *y, void *arg)
{
    const mg_sort_ctx *s = arg;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = 0;
    if (s->by_file && s->sh->file >= 0)
        c = rowcmp_value(PQ_TYPE_STRING, cell(s->r, i, s->sh->file),
                         cell(s->r, j, s->sh->file));
    if (!c)
        c = key_cmp(s->r, i, s->sh, s->r, j, s->sh);
    if (!c)
        c = order_cmp(s->r, i, s->sh, s->r, j, s->sh);
    return c ? c : (i > j) - (i < j);
}

static size_t *sorted_rows(const delta_rows *r, const mg_shape *sh, int by_file)
{
    size_t *idx = sl_calloc(r->nrows ? r->nrows : 1, sizeof *idx);
    for (size_t i = 0; i < r->nrows; i++)
        idx[i] = i;
    mg_sort_ctx ctx = {r, sh, by_file};
    qsort_r(idx, r->nrows, sizeof *idx, sort_cmp, &ctx);
    return idx;
}

typedef struct mg_side {
    char *key;
    delta_snapshot *snap;
    delta_snapshot **warm; /* the caller's (then snap is *warm, not ours) */
    pq_schema_col *cols;
    size_t ncols;
    mg_shape sh;
    delta_rows rows;
    const delta_file **read; /* files read, in snapshot order */
    size_t nread;
    size_t *start; /* nread + 1: first row of each file read */
    unsigned char *gone;
    size_t *sorted;
} mg_side;

static void side_free(mg_side *s)
{
    free(s->key);
    if (!s->warm)
        delta_snapshot_free(s->snap);
    delta_schema_cols_free(s->cols, s->ncols);
    delta_rows_free(&s->rows);
    free(s->read);
    free(s->start);
    free(s->gone);
    free(s->sorted);
    memset(s, 0, sizeof *s);
}

/* The table's latest snapshot: the caller's warm one brought up to date,
 * else opened (and created when absent, with want and parts). */
static sl_code side_snapshot(store *lake, const char *key, const pq_schema_col *want,
                             size_t nwant, const char *const *parts, size_t nparts,
                             mg_side *s, sl_err *err)
{
    if (!s->warm)
        return table_open(lake, key, want, nwant, parts, nparts, &s->snap, err);
    sl_code c = *s->warm
                    ? delta_snapshot_update(lake, key, s->warm, err)
                    : table_open(lake, key, want, nwant, parts, nparts, s->warm, err);
    s->snap = *s->warm;
    return c;
}

static sl_code side_open(store *lake, const pipeline_def *d, const char *key,
                         const pq_schema_col *want, size_t nwant,
                         const char *const *parts, size_t nparts, delta_snapshot **warm,
                         mg_side *s, sl_err *err)
{
    s->key = sl_strdup(key);
    s->warm = warm;
    sl_code c = side_snapshot(lake, key, want, nwant, parts, nparts, s, err);
    if (c == SL_OK)
        c = delta_schema_cols(s->snap->metadata, &s->cols, &s->ncols, err);
    if (c == SL_OK)
        c = shape_resolve(d, s->cols, s->ncols, key, &s->sh, err);
    if (c == SL_OK)
        delta_rows_init(&s->rows, s->cols, s->ncols);
    s->read = sl_calloc(s->snap ? s->snap->nfiles + 1 : 1, sizeof *s->read);
    s->start = sl_calloc(s->snap ? s->snap->nfiles + 2 : 2, sizeof *s->start);
    return c;
}

static sl_code side_read_file(store *lake, mg_side *s, const delta_file *f, sl_err *err)
{
    s->read[s->nread] = f;
    s->start[s->nread] = s->rows.nrows;
    sl_code c = delta_rows_read_file(lake, s->key, f, s->cols, s->ncols, &s->rows, err);
    s->nread++;
    s->start[s->nread] = s->rows.nrows;
    return c;
}

/* Reads the files whose range of column col can hold one of vals (sorted,
 * non-null); all files when all is set. */
static sl_code side_read_pruned(store *lake, mg_side *s, int col, const pq_value *vals,
                                size_t nvals, int all, sl_err *err)
{
    sl_code c = SL_OK;
    for (size_t i = 0; i < s->snap->nfiles && c == SL_OK; i++) {
        const delta_file *f = &s->snap->files[i];
        int hit = all;
        if (!hit) {
            json_t *mn, *mx;
            delta_file_col_range(f, s->cols[col].name, &mn, &mx);
            hit = rowcmp_any_in_range(s->cols[col].type, vals, nvals, mn, mx);
            json_decref(mn);
            json_decref(mx);
        }
        if (hit)
            c = side_read_file(lake, s, f, err);
    }
    s->gone = sl_calloc(s->rows.nrows ? s->rows.nrows : 1, 1);
    s->sorted = sorted_rows(&s->rows, &s->sh, 0);
    return c;
}

/* [*lo, *hi) of s->sorted: the rows whose key equals row i of r. */
static void side_find(const mg_side *s, const delta_rows *r, size_t i, const mg_shape *sh,
                      size_t *lo_out, size_t *hi_out)
{
    size_t lo = 0, hi = s->rows.nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&s->rows, s->sorted[mid], &s->sh, r, i, sh) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < s->rows.nrows &&
           key_cmp(&s->rows, s->sorted[end], &s->sh, r, i, sh) == 0)
        end++;
    *lo_out = lo;
    *hi_out = end;
}

/* Removes for the files read that lost rows, and their surviving rows
 * written anew. */
static sl_code side_rewrite(store *lake, mg_side *s, const pq_writer_opts *opts,
                            int64_t now_ms, json_t *removes, json_t *adds,
                            size_t *nremoved, sl_err *err)
{
    sl_code c = SL_OK;
    size_t *keep = sl_calloc(s->rows.nrows ? s->rows.nrows : 1, sizeof *keep);
    for (size_t f = 0; f < s->nread && c == SL_OK; f++) {
        size_t nkeep = 0, ngone = 0;
        for (size_t i = s->start[f]; i < s->start[f + 1]; i++) {
            if (s->gone[i])
                ngone++;
            else
                keep[nkeep++] = i;
        }
        if (ngone == 0)
            continue;
        json_array_append_new(removes, merge_remove_action(s->read[f], now_ms));
        (*nremoved)++;
        if (nkeep)
            c = merge_write_rows(lake, s->key, s->snap, &s->rows, keep, nkeep, opts, adds,
                                 err);
    }
    free(keep);
    return c;
}

static const char **side_read_paths(const mg_side *s)
{
    const char **p = sl_calloc(s->nread ? s->nread : 1, sizeof *p);
    for (size_t i = 0; i < s->nread; i++)
        p[i] = s->read[i]->path;
    return p;
}

/* ---- the batch in silver's columns ------------------------------------- */

typedef struct mg_run {
    store *lake;
    const merge_req *req;
    const pipeline_def *d;
    int64_t now_ms;
    mg_side silver, tomb;
    int skip_tomb;
    delta_rows in;         /* the batch in silver's columns */
    unsigned char *in_del; /* per row: a delete */
    size_t *in_sorted;
    size_t *winners;
    size_t nwinners;
    delta_rows tomb_new;
} mg_run;

static sl_code batch_to_silver(mg_run *m, sl_err *err)
{
    const merge_req *q = m->req;
    const mg_side *s = &m->silver;
    int *map = sl_calloc(s->ncols, sizeof *map);
    sl_code c = SL_OK;
    for (size_t k = 0; k < s->ncols && c == SL_OK; k++) {
        map[k] = col_find(q->batch_cols, q->nbatch_cols, s->cols[k].name);
        if (map[k] >= 0 && q->batch_cols[map[k]].type != s->cols[k].type)
            c = err_set(err, SL_DELTA_SCHEMA,
                        "batch column '%s' has another type than silver's (%s)",
                        s->cols[k].name, s->key);
    }
    int del = col_find(q->batch_cols, q->nbatch_cols, m->d->silver.delete_column);
    if (c == SL_OK && m->d->silver.delete_column && del < 0)
        c = err_set(err, SL_PIPELINE_INVALID,
                    "%s: delete_when column '%s' is not a column", m->d->name,
                    m->d->silver.delete_column);
    delta_rows_init(&m->in, s->cols, s->ncols);
    size_t nb = q->batch ? q->batch->nrows : 0;
    m->in_del = sl_calloc(nb ? nb : 1, 1);
    sl_buf text = {0};
    for (size_t i = 0; i < nb && c == SL_OK; i++) {
        const pq_value *src = &q->batch->cells[i * q->batch->ncols];
        pq_value *row = delta_rows_add(&m->in);
        /* Strings stay in the batch, which outlives the merge. */
        for (size_t k = 0; k < s->ncols; k++)
            if (map[k] >= 0)
                row[k] = src[map[k]];
        if (s->sh.batch >= 0 && row[s->sh.batch].is_null)
            row[s->sh.batch] = pq_val_i64(q->batch_id);
        if (del >= 0) {
            buf_reset(&text);
            m->in_del[i] =
                rowcmp_text(q->batch_cols[del].type, &src[del], &text) &&
                strcmp(text.data ? text.data : "",
                       m->d->silver.delete_equals ? m->d->silver.delete_equals : "") == 0;
        }
    }
    buf_free(&text);
    free(map);
    return c;
}

/* Whether rows i and j of r agree on every declared (non-underscore)
 * column: an exact duplicate delivered twice. */
static int same_content(const delta_rows *r, const pq_schema_col *cols, size_t i,
                        size_t j)
{
    for (size_t k = 0; k < r->ncols; k++) {
        if (cols[k].name[0] == '_')
            continue;
        if (rowcmp_value(r->types[k], cell(r, i, (int)k), cell(r, j, (int)k)))
            return 0;
    }
    return 1;
}

/* Groups of equal key (and, by_file, equal _source_file) among the sorted
 * batch rows: the newest of each is the winner; rows repeating an earlier
 * row of the group are counted as collapsed duplicates. */
static void pick_winners(mg_run *m, int by_file, merge_result *out)
{
    const delta_rows *r = &m->in;
    const mg_shape *sh = &m->silver.sh;
    size_t n = r->nrows;
    m->in_sorted = sorted_rows(r, sh, by_file);
    m->winners = sl_calloc(n ? n : 1, sizeof *m->winners);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        /* Without keys (files layout) every row stays. */
        while (hi < n && sh->nkeys > 0 &&
               key_cmp(r, m->in_sorted[lo], sh, r, m->in_sorted[hi], sh) == 0 &&
               (!by_file || sh->file < 0 ||
                rowcmp_value(PQ_TYPE_STRING, cell(r, m->in_sorted[lo], sh->file),
                             cell(r, m->in_sorted[hi], sh->file)) == 0))
            hi++;
        for (size_t a = lo + 1; a < hi; a++)
            for (size_t b = lo; b < a; b++)
                if (same_content(r, m->silver.cols, m->in_sorted[a], m->in_sorted[b])) {
                    out->duplicates_collapsed++;
                    break;
                }
        m->winners[m->nwinners++] = m->in_sorted[hi - 1];
        lo = hi;
    }
}

/* The winners' first key values, sorted and unique, nulls left out (*has_null). */
static pq_value *winner_probes(const mg_run *m, size_t *n, int *has_null)
{
    const mg_shape *sh = &m->silver.sh;
    pq_type t = m->silver.cols[sh->keys[0]].type;
    pq_value *v = sl_calloc(m->nwinners ? m->nwinners : 1, sizeof *v);
    *n = 0;
    *has_null = 0;
    for (size_t w = 0; w < m->nwinners; w++) {
        const pq_value *x = cell(&m->in, m->winners[w], (int)sh->keys[0]);
        if (x->is_null)
            *has_null = 1;
        else if (*n == 0 || rowcmp_value(t, &v[*n - 1], x) != 0)
            v[(*n)++] = *x;
    }
    return v;
}

/* The newest row of s->sorted[lo, hi), skipping rows with _batch_id >=
 * skip_from (a tombstone this batch already committed); SIZE_MAX if none. */
static size_t newest_of(const mg_side *s, size_t lo, size_t hi, int64_t skip_from)
{
    size_t best = SIZE_MAX;
    for (size_t k = lo; k < hi; k++) {
        size_t i = s->sorted[k];
        if (skip_from >= 0 && s->sh.batch >= 0) {
            const pq_value *b = cell(&s->rows, i, s->sh.batch);
            if (!b->is_null && b->i64 >= skip_from)
                continue;
        }
        if (best == SIZE_MAX ||
            order_cmp(&s->rows, i, &s->sh, &s->rows, best, &s->sh) > 0)
            best = i;
    }
    return best;
}

/* A tombstone row for winner w (keys, sequence, _batch_id, _source_line). */
static void tomb_add(mg_run *m, size_t w)
{
    const mg_side *t = &m->tomb;
    pq_value *row = delta_rows_add(&m->tomb_new);
    for (size_t k = 0; k < t->ncols; k++) {
        int from = col_find(m->silver.cols, m->silver.ncols, t->cols[k].name);
        if (from < 0)
            continue;
        row[k] = *cell(&m->in, w, from);
        pq_type b = pq_type_base(t->cols[k].type);
        if (!row[k].is_null && (b == PQ_TYPE_STRING || b == PQ_TYPE_BINARY))
            row[k].str.ptr =
                delta_rows_keep(&m->tomb_new, row[k].str.ptr, row[k].str.len);
    }
}

static void side_take(mg_side *s, size_t lo, size_t hi, delta_rows *before)
{
    for (size_t k = lo; k < hi; k++) {
        size_t i = s->sorted[k];
        if (s->gone[i])
            continue;
        s->gone[i] = 1;
        if (before)
            delta_rows_copy_row(before, &s->rows, i);
    }
}

/* Each winner against silver's row and the key's tombstone. */
static void apply_winners(mg_run *m, merge_result *out)
{
    int64_t skip_from = m->req->batch_id;
    for (size_t w = 0; w < m->nwinners; w++) {
        size_t i = m->winners[w];
        size_t elo, ehi, tlo, thi;
        side_find(&m->silver, &m->in, i, &m->silver.sh, &elo, &ehi);
        side_find(&m->tomb, &m->in, i, &m->silver.sh, &tlo, &thi);
        size_t e = newest_of(&m->silver, elo, ehi, -1);
        size_t t = newest_of(&m->tomb, tlo, thi, skip_from);
        int stale = (e != SIZE_MAX && order_cmp(&m->in, i, &m->silver.sh, &m->silver.rows,
                                                e, &m->silver.sh) <= 0) ||
                    (t != SIZE_MAX && order_cmp(&m->in, i, &m->silver.sh, &m->tomb.rows,
                                                t, &m->tomb.sh) <= 0);
        if (stale) {
            out->stale_ignored++;
            continue;
        }
        if (e != SIZE_MAX)
            side_take(&m->silver, elo, ehi, &out->before);
        side_take(&m->tomb, tlo, thi, NULL);
        if (m->in_del[i]) {
            out->deletes += e != SIZE_MAX;
            tomb_add(m, i);
        } else {
            out->upserts++;
            if (e != SIZE_MAX)
                out->updates++;
            else
                out->inserts++;
            delta_rows_copy_row(&out->after, &m->in, i);
        }
    }
}

static json_t *merge_metrics(const merge_result *r)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "numSourceRows", (json_int_t)r->rows_in,
        "numTargetRowsInserted", (json_int_t)r->inserts, "numTargetRowsUpdated",
        (json_int_t)r->updates, "numTargetRowsDeleted", (json_int_t)r->deletes,
        "numTargetFilesAdded", (json_int_t)r->files_added, "numTargetFilesRemoved",
        (json_int_t)r->files_removed, "numTargetFilesRead", (json_int_t)r->files_read);
}

static json_t *merge_params(const pipeline_def *d)
{
    sl_buf b = {0};
    for (size_t k = 0; k < d->silver.nkeys; k++)
        buf_appendf(&b, "%s%s", k ? ", " : "", d->silver.keys[k]);
    json_t *p = json_pack("{s:s, s:s}", "predicate", b.data ? b.data : "", "layout",
                          d->source.layout == PL_LAYOUT_FILES ? "files" : "epoch");
    buf_free(&b);
    return p;
}

static sl_code commit_tombstones(mg_run *m, merge_result *out, sl_err *err)
{
    json_t *removes = json_array(), *adds = json_array();
    size_t nremoved = 0;
    sl_code c = side_rewrite(m->lake, &m->tomb, m->req->writer_opts, m->now_ms, removes,
                             adds, &nremoved, err);
    if (c == SL_OK && m->tomb_new.nrows)
        c = merge_write_rows(m->lake, m->tomb.key, m->tomb.snap, &m->tomb_new, NULL,
                             m->tomb_new.nrows, m->req->writer_opts, adds, err);
    char *app = pipeline_app_id(m->d, "tombstones");
    const char **paths = side_read_paths(&m->tomb);
    merge_commit_spec spec = {.meta = m->req->meta,
                              .operation = "MERGE",
                              .removes = removes,
                              .adds = adds,
                              .read_paths = paths,
                              .nread_paths = m->tomb.nread,
                              .app_id = app,
                              .txn_version = m->req->batch_id,
                              .no_checkpoint = m->tomb.warm != NULL};
    if (c == SL_OK)
        c = merge_commit(m->lake, m->tomb.key, m->tomb.snap, &spec,
                         &out->tombstones_version, err);
    else
        delta_adds_delete(m->lake, m->tomb.key, adds);
    free(paths);
    free(app);
    json_decref(removes);
    json_decref(adds);
    return c;
}

/* Silver's commit: touched files rewritten without their replaced rows,
 * new rows (after, in key order) in new files. */
static sl_code commit_silver(mg_run *m, json_t *removes, json_t *adds, merge_result *out,
                             sl_err *err)
{
    sl_code c = side_rewrite(m->lake, &m->silver, m->req->writer_opts, m->now_ms, removes,
                             adds, &out->files_removed, err);
    if (c == SL_OK && m->d->source.layout != PL_LAYOUT_FILES && out->after.nrows)
        c = merge_write_rows(m->lake, m->silver.key, m->silver.snap, &out->after, NULL,
                             out->after.nrows, m->req->writer_opts, adds, err);
    out->files_added = json_array_size(adds);
    char *app = pipeline_app_id(m->d, "silver");
    const char **paths = side_read_paths(&m->silver);
    json_t *params = merge_params(m->d), *metrics = merge_metrics(out);
    merge_commit_spec spec = {.meta = m->req->meta,
                              .operation = "MERGE",
                              .parameters = params,
                              .metrics = metrics,
                              .removes = removes,
                              .adds = adds,
                              .read_paths = paths,
                              .nread_paths = m->silver.nread,
                              .app_id = app,
                              .txn_version = m->req->batch_id,
                              .no_checkpoint = m->silver.warm != NULL};
    if (c == SL_OK)
        c = merge_commit(m->lake, m->silver.key, m->silver.snap, &spec,
                         &out->silver_version, err);
    else
        delta_adds_delete(m->lake, m->silver.key, adds);
    json_decref(params);
    json_decref(metrics);
    free(paths);
    free(app);
    return c;
}

static sl_code merge_epoch(mg_run *m, merge_result *out, sl_err *err)
{
    const pipeline_def *d = m->d;
    if (d->silver.nkeys == 0)
        return err_set(err, SL_PIPELINE_INVALID, "%s: silver needs keys", d->name);
    /* Tombstones: keys, sequence, _batch_id, _source_line, typed as silver. */
    pq_schema_col tcols[16 + 3];
    size_t nt = 0;
    const mg_shape *sh = &m->silver.sh;
    for (size_t k = 0; k < sh->nkeys; k++)
        tcols[nt++] = m->silver.cols[sh->keys[k]];
    if (sh->seq >= 0)
        tcols[nt++] = m->silver.cols[sh->seq];
    tcols[nt++] = (pq_schema_col){"_batch_id", PQ_TYPE_INT64, true};
    tcols[nt++] = (pq_schema_col){"_source_line", PQ_TYPE_INT64, true};
    char *tkey = sl_asprintf("_sluice/tombstones/%s", d->silver.table);
    sl_code c =
        side_open(m->lake, d, tkey, tcols, nt, NULL, 0, m->req->tomb_snap, &m->tomb, err);
    free(tkey);
    if (c != SL_OK)
        return c;
    char *app = pipeline_app_id(d, "tombstones");
    m->skip_tomb = merge_txn_version(m->tomb.snap, app) >= m->req->batch_id;
    free(app);
    delta_rows_init(&m->tomb_new, m->tomb.cols, m->tomb.ncols);

    pick_winners(m, 0, out);
    size_t np;
    int has_null;
    pq_value *probes = winner_probes(m, &np, &has_null);
    c = side_read_pruned(m->lake, &m->silver, (int)sh->keys[0], probes, np, has_null,
                         err);
    if (c == SL_OK)
        c = side_read_pruned(m->lake, &m->tomb, (int)m->tomb.sh.keys[0], probes, np,
                             has_null, err);
    free(probes);
    out->files_considered = m->silver.snap->nfiles;
    out->files_read = m->silver.nread;
    if (c != SL_OK)
        return c;
    apply_winners(m, out);
    if (!m->skip_tomb)
        c = commit_tombstones(m, out, err);
    json_t *removes = json_array(), *adds = json_array();
    if (c == SL_OK)
        c = commit_silver(m, removes, adds, out, err);
    json_decref(removes);
    json_decref(adds);
    return c;
}

/* ---- files layout ------------------------------------------------------ */

static int str_cmp(const void *x, const void *y)
{
    const pq_value *a = x, *b = y;
    return rowcmp_value(PQ_TYPE_STRING, a, b);
}

/* The changed source files: the request's list plus the batch's
 * _source_file values, sorted and unique. */
static pq_value *changed_set(const mg_run *m, size_t *n)
{
    const merge_req *q = m->req;
    int f = m->silver.sh.file;
    size_t cap = q->nchanged_files + m->in.nrows + 1, k = 0;
    pq_value *v = sl_calloc(cap, sizeof *v);
    for (size_t i = 0; i < q->nchanged_files; i++)
        v[k++] = pq_val_str(q->changed_files[i]);
    for (size_t i = 0; f >= 0 && i < m->in.nrows; i++)
        if (!cell(&m->in, i, f)->is_null)
            v[k++] = *cell(&m->in, i, f);
    qsort(v, k, sizeof *v, str_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || str_cmp(&v[u - 1], &v[i]) != 0)
            v[u++] = v[i];
    *n = u;
    return v;
}

static int in_set(const pq_value *set, size_t n, const pq_value *v)
{
    if (v->is_null)
        return 0;
    return bsearch(v, set, n, sizeof *set, str_cmp) != NULL;
}

/* A file written by this layout holds one source file: its _source_file
 * range is that file's name (equal bounds: a truncated stats prefix would
 * make the max differ from the min). */
static int single_source(const json_t *mn, const json_t *mx, const pq_value *set,
                         size_t n)
{
    if (!json_is_string(mn) || !json_equal(mn, mx))
        return 0;
    pq_value v = pq_val_strn(json_string_value(mn), json_string_length(mn));
    return in_set(set, n, &v);
}

/* Whether silver is partitioned by _source_file alone (tables this layout
 * created before it was partitioned are not: they are searched by stats). */
static int by_source(const delta_snapshot *snap)
{
    json_t *pc = json_object_get(snap->metadata, "partitionColumns");
    const char *p0 = json_string_value(json_array_get(pc, 0));
    return json_array_size(pc) == 1 && p0 && strcmp(p0, source_part[0]) == 0;
}

/* A source file's partition directory as the start of its data files'
 * paths (delta_data_file_write names them the same way). */
static char *source_dir_prefix(const pq_value *v)
{
    sl_buf dir = {0};
    delta_dir_escape(&dir, source_part[0], strlen(source_part[0]));
    buf_append_char(&dir, '=');
    if (v->is_null || v->str.len == 0) /* Spark: an empty string is null */
        buf_append_str(&dir, "__HIVE_DEFAULT_PARTITION__");
    else
        delta_dir_escape(&dir, v->str.ptr, v->str.len);
    buf_append_char(&dir, '/');
    char *uri = delta_path_uri(dir.data);
    buf_free(&dir);
    return uri;
}

/* First file whose path is not below prefix (files are sorted by path). */
static size_t path_lower(const delta_snapshot *snap, const char *prefix)
{
    size_t lo = 0, hi = snap->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(snap->files[mid].path, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 1 when the add's partition value is the source file v: the directory
 * said so, and only a file of that source is ever removed. */
static int add_of_source(const json_t *add, const pq_value *v)
{
    json_t *pv = json_object_get(json_object_get(add, "partitionValues"), source_part[0]);
    return json_is_string(pv) && json_string_length(pv) == v->str.len &&
           memcmp(json_string_value(pv), v->str.ptr, v->str.len) == 0;
}

/* Partitioned silver: each changed source file's data files are those
 * under its directory, found by binary search; each is removed whole. */
static sl_code files_find_by_dir(mg_run *m, const pq_value *set, size_t nset,
                                 json_t *removes, merge_result *out, sl_err *err)
{
    mg_side *s = &m->silver;
    const delta_snapshot *snap = s->snap;
    sl_code c = SL_OK;
    for (size_t k = 0; k < nset && c == SL_OK; k++) {
        char *prefix = source_dir_prefix(&set[k]);
        size_t plen = strlen(prefix);
        for (size_t i = path_lower(snap, prefix);
             i < snap->nfiles && c == SL_OK &&
             strncmp(snap->files[i].path, prefix, plen) == 0;
             i++) {
            const delta_file *f = &snap->files[i];
            json_t *add = delta_file_add(f);
            if (add_of_source(add, &set[k])) {
                json_array_append_new(removes, remove_from_add(f, add, m->now_ms));
                out->files_removed++;
                /* Read only when gold needs the old rows. */
                if (m->d->gold.table) {
                    c = delta_rows_read_file(m->lake, s->key, f, s->cols, s->ncols,
                                             &out->before, err);
                    out->files_read++;
                }
            }
            json_decref(add);
        }
        free(prefix);
    }
    s->gone = sl_calloc(1, 1);
    s->sorted = sl_calloc(1, sizeof *s->sorted);
    return c;
}

static sl_code files_read_silver(mg_run *m, const pq_value *set, size_t nset,
                                 json_t *removes, merge_result *out, sl_err *err)
{
    mg_side *s = &m->silver;
    int fcol = s->sh.file;
    int need_before = m->d->gold.table != NULL;
    if (by_source(s->snap))
        return files_find_by_dir(m, set, nset, removes, out, err);
    sl_code c = SL_OK;
    for (size_t i = 0; i < s->snap->nfiles && c == SL_OK; i++) {
        const delta_file *f = &s->snap->files[i];
        json_t *mn, *mx;
        /* One stats parse per file: it is the per-file cost of a replace. */
        delta_file_col_range(f, "_source_file", &mn, &mx);
        int whole = single_source(mn, mx, set, nset);
        int hit = !whole && rowcmp_any_in_range(PQ_TYPE_STRING, set, nset, mn, mx);
        json_decref(mn);
        json_decref(mx);
        if (whole) {
            /* Removed whole; read only when gold needs the old rows. */
            json_array_append_new(removes, merge_remove_action(f, m->now_ms));
            out->files_removed++;
            if (need_before) {
                c = delta_rows_read_file(m->lake, s->key, f, s->cols, s->ncols,
                                         &out->before, err);
                out->files_read++;
            }
            continue;
        }
        if (hit) {
            c = side_read_file(m->lake, s, f, err);
            out->files_read++;
        }
    }
    s->gone = sl_calloc(s->rows.nrows ? s->rows.nrows : 1, 1);
    s->sorted = sl_calloc(s->rows.nrows ? s->rows.nrows : 1, sizeof *s->sorted);
    for (size_t i = 0; i < s->rows.nrows; i++) {
        s->sorted[i] = i;
        if (fcol >= 0 && in_set(set, nset, cell(&s->rows, i, fcol))) {
            s->gone[i] = 1;
            delta_rows_copy_row(&out->before, &s->rows, i);
        }
    }
    return c;
}

/* One data file per changed source file with its winning rows. */
static sl_code files_write_new(mg_run *m, json_t *adds, merge_result *out, sl_err *err)
{
    size_t *rows = sl_calloc(m->nwinners ? m->nwinners : 1, sizeof *rows);
    int fcol = m->silver.sh.file;
    sl_code c = SL_OK;
    size_t base = out->after.nrows;
    for (size_t w = 0; w < m->nwinners; w++) {
        size_t i = m->winners[w];
        if (m->in_del[i])
            continue;
        delta_rows_copy_row(&out->after, &m->in, i);
        out->inserts++;
    }
    /* Winners are sorted by _source_file: cut at each change. */
    size_t n = out->after.nrows - base;
    for (size_t lo = 0; lo < n && c == SL_OK;) {
        size_t hi = lo + 1;
        while (hi < n && rowcmp_value(PQ_TYPE_STRING, cell(&out->after, base + lo, fcol),
                                      cell(&out->after, base + hi, fcol)) == 0)
            hi++;
        for (size_t k = lo; k < hi; k++)
            rows[k - lo] = base + k;
        c = merge_write_rows(m->lake, m->silver.key, m->silver.snap, &out->after, rows,
                             hi - lo, m->req->writer_opts, adds, err);
        lo = hi;
    }
    free(rows);
    return c;
}

static sl_code merge_files(mg_run *m, merge_result *out, sl_err *err)
{
    if (m->silver.sh.file < 0)
        return err_set(err, SL_DELTA_SCHEMA, "%s has no _source_file column",
                       m->silver.key);
    size_t nset;
    pq_value *set = changed_set(m, &nset);
    json_t *removes = json_array(), *adds = json_array();
    pick_winners(m, 1, out);
    sl_code c = files_read_silver(m, set, nset, removes, out, err);
    out->files_considered = m->silver.snap->nfiles;
    if (c == SL_OK)
        c = files_write_new(m, adds, out, err);
    out->upserts = out->inserts;
    out->deletes = (int64_t)out->before.nrows;
    out->stale_ignored = 0;
    if (c == SL_OK)
        c = commit_silver(m, removes, adds, out, err);
    else
        delta_adds_delete(m->lake, m->silver.key, adds);
    json_decref(removes);
    json_decref(adds);
    free(set);
    return c;
}

static void run_free(mg_run *m)
{
    side_free(&m->silver);
    side_free(&m->tomb);
    delta_rows_free(&m->in);
    delta_rows_free(&m->tomb_new);
    free(m->in_del);
    free(m->in_sorted);
    free(m->winners);
}

/* A warm snapshot after the step: brought past the commit this call made,
 * and the checkpoint that commit may be due is written from it (the commit
 * skipped it, as writing it there would reopen the table). A failure here
 * only costs the warmth: the commit stands and the next call opens anew. */
static void warm_follow(store *lake, const char *key, delta_snapshot **warm,
                        int64_t committed)
{
    if (!warm || !*warm)
        return;
    sl_err e = {0};
    if (delta_snapshot_update(lake, key, warm, &e) != SL_OK) {
        delta_snapshot_free(*warm);
        *warm = NULL;
        return;
    }
    const delta_snapshot *snap = *warm;
    if (committed < 0 || snap->version != committed ||
        !delta_checkpoint_due_sized(snap->metadata, committed, snap->checkpoint_version,
                                    snap->nfiles))
        return;
    if (delta_checkpoint_write(lake, key, snap, time_now_ms(), NULL, &e) != SL_OK)
        return;
    /* Rebuilt from the checkpoint just written: its tail starts again there
     * (the cadence counts from it) and the strings of removed files the
     * update kept are let go. Costs less than the write did. */
    delta_snapshot *fresh = NULL;
    delta_at at = {.kind = DELTA_AT_VERSION, .version = committed};
    if (delta_snapshot_open(lake, key, &at, &fresh, &e) == SL_OK) {
        delta_snapshot_free(*warm);
        *warm = fresh;
    }
}

static void warm_drop(delta_snapshot **warm)
{
    if (warm) {
        delta_snapshot_free(*warm);
        *warm = NULL;
    }
}

static void warm_finish(store *lake, const merge_req *req, const merge_result *out,
                        sl_code c)
{
    if (c != SL_OK) {
        warm_drop(req->silver_snap);
        warm_drop(req->tomb_snap);
        return;
    }
    if (out->skipped)
        return;
    warm_follow(lake, req->def->silver.table, req->silver_snap, out->silver_version);
    char *tkey = sl_asprintf("_sluice/tombstones/%s", req->def->silver.table);
    warm_follow(lake, tkey, req->tomb_snap, out->tombstones_version);
    free(tkey);
}

sl_code merge_run(store *lake, const merge_req *req, merge_result *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->silver_version = out->tombstones_version = -1;
    const pipeline_def *d = req->def;
    if (!d->silver.table)
        return err_set(err, SL_PIPELINE_INVALID, "%s has no silver table", d->name);
    pq_schema_col *want;
    size_t nwant;
    sl_code c = merge_silver_cols(d, &want, &nwant, err);
    if (c != SL_OK) {
        warm_finish(lake, req, out, c);
        return c;
    }
    mg_run m = {.lake = lake, .req = req, .d = d, .now_ms = time_now_ms()};
    const char *const *parts;
    size_t nparts = silver_parts(d, &parts);
    c = side_open(lake, d, d->silver.table, want, nwant, parts, nparts, req->silver_snap,
                  &m.silver, err);
    free(want);
    if (c == SL_OK) {
        delta_rows_init(&out->before, m.silver.cols, m.silver.ncols);
        delta_rows_init(&out->after, m.silver.cols, m.silver.ncols);
        char *app = pipeline_app_id(d, "silver");
        out->skipped = merge_txn_version(m.silver.snap, app) >= req->batch_id;
        free(app);
    }
    if (c == SL_OK && !out->skipped) {
        out->rows_in = req->batch ? (int64_t)req->batch->nrows : 0;
        c = batch_to_silver(&m, err);
        if (c == SL_OK)
            c = d->source.layout == PL_LAYOUT_FILES ? merge_files(&m, out, err)
                                                    : merge_epoch(&m, out, err);
    }
    run_free(&m);
    warm_finish(lake, req, out, c);
    if (c != SL_OK)
        err_wrap(err, "merge into %s", d->silver.table);
    return c;
}
