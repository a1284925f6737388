#include "backend/pipeline/aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/merge.h"
#include "backend/pipeline/rowcmp.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define AG_MAX 64
#define US_PER_DAY INT64_C(86400000000)

/* Where gold's columns come from in silver. */
typedef struct ag_spec {
    pq_schema_col *gold; /* gold's columns (names borrowed from the def) */
    size_t ngold, ngroup, nagg;
    int gsrc[AG_MAX]; /* silver column of each group column */
    int gday[AG_MAX]; /* 1: the UTC day of that (timestamp) column */
    int asrc[AG_MAX]; /* silver column of each aggregate; -1 for count */
    pl_agg fn[AG_MAX];
    const pq_type *stypes; /* silver's column types */
} ag_spec;

static int is_day(const pipeline_def *d, const char *g)
{
    return d->gold.day_from && strcmp(g, "day") == 0;
}

static int name_find(const pq_schema_col *cols, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

sl_code aggregate_gold_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                            sl_err *err)
{
    pq_schema_col *s;
    size_t ns;
    sl_code c = merge_silver_cols(d, &s, &ns, err);
    if (c != SL_OK)
        return c;
    size_t ng = d->gold.ngroup_by, na = d->gold.naggregates;
    if (ng + na > AG_MAX || ng + na == 0) {
        free(s);
        return err_set(err, SL_PIPELINE_INVALID,
                       "%s: gold needs 1 to %d group_by columns and aggregates", d->name,
                       AG_MAX);
    }
    pq_schema_col *g = sl_calloc(ng + na, sizeof *g);
    for (size_t i = 0; i < ng && c == SL_OK; i++) {
        const char *name = d->gold.group_by[i];
        int k = name_find(s, ns, is_day(d, name) ? d->gold.day_from : name);
        if (k < 0)
            c = err_set(err, SL_PIPELINE_INVALID, "%s: gold column '%s' is not in silver",
                        d->name, is_day(d, name) ? d->gold.day_from : name);
        else
            g[i] =
                (pq_schema_col){name, is_day(d, name) ? PQ_TYPE_DATE : s[k].type, true};
    }
    for (size_t a = 0; a < na && c == SL_OK; a++) {
        const pl_aggregate *ag = &d->gold.aggregates[a];
        int k = ag->fn == PL_AGG_COUNT ? -1 : name_find(s, ns, ag->column);
        if (ag->fn != PL_AGG_COUNT && k < 0) {
            c = err_set(err, SL_PIPELINE_INVALID,
                        "%s: aggregate '%s' reads '%s', which is not in silver", d->name,
                        ag->name, ag->column ? ag->column : "");
            break;
        }
        pq_type t = PQ_TYPE_INT64;
        if (ag->fn == PL_AGG_SUM) {
            pq_type b = pq_type_base(s[k].type);
            t = b == PQ_TYPE_INT32 || b == PQ_TYPE_INT64 ? PQ_TYPE_INT64 : PQ_TYPE_DOUBLE;
        } else if (ag->fn == PL_AGG_AVG) {
            t = PQ_TYPE_DOUBLE;
        } else if (ag->fn != PL_AGG_COUNT) {
            t = s[k].type;
        }
        g[ng + a] = (pq_schema_col){ag->name, t, true};
    }
    free(s);
    if (c != SL_OK) {
        free(g);
        return c;
    }
    *cols = g;
    *n = ng + na;
    return SL_OK;
}

static sl_code spec_resolve(const pipeline_def *d, const pq_schema_col *scols, size_t ns,
                            const pq_type *stypes, ag_spec *sp, sl_err *err)
{
    memset(sp, 0, sizeof *sp);
    sl_code c = aggregate_gold_cols(d, &sp->gold, &sp->ngold, err);
    if (c != SL_OK)
        return c;
    sp->ngroup = d->gold.ngroup_by;
    sp->nagg = d->gold.naggregates;
    sp->stypes = stypes;
    for (size_t g = 0; g < sp->ngroup; g++) {
        const char *name = d->gold.group_by[g];
        sp->gday[g] = is_day(d, name);
        sp->gsrc[g] = name_find(scols, ns, sp->gday[g] ? d->gold.day_from : name);
        if (sp->gsrc[g] < 0)
            return err_set(err, SL_DELTA_SCHEMA, "silver has no column '%s'",
                           sp->gday[g] ? d->gold.day_from : name);
        pq_type b = pq_type_base(scols[sp->gsrc[g]].type);
        if (sp->gday[g] && b != PQ_TYPE_TIMESTAMP_US && b != PQ_TYPE_TIMESTAMP_NTZ &&
            b != PQ_TYPE_DATE)
            return err_set(err, SL_PIPELINE_INVALID,
                           "%s: day_from '%s' is not a timestamp or date", d->name,
                           d->gold.day_from);
    }
    for (size_t a = 0; a < sp->nagg; a++) {
        const pl_aggregate *ag = &d->gold.aggregates[a];
        sp->fn[a] = ag->fn;
        sp->asrc[a] = ag->fn == PL_AGG_COUNT ? -1 : name_find(scols, ns, ag->column);
        if (ag->fn != PL_AGG_COUNT && sp->asrc[a] < 0)
            return err_set(err, SL_DELTA_SCHEMA, "silver has no column '%s'", ag->column);
    }
    return SL_OK;
}

/* The group cells of silver row i of r into g[ngroup]. */
static void group_of(const ag_spec *sp, const delta_rows *r, size_t i, pq_value *g)
{
    for (size_t k = 0; k < sp->ngroup; k++) {
        pq_value v = r->cells[i * r->ncols + (size_t)sp->gsrc[k]];
        if (sp->gday[k] && !v.is_null &&
            pq_type_base(r->types[sp->gsrc[k]]) != PQ_TYPE_DATE)
            v = pq_val_date(rowcmp_day_of_us(v.i64));
        g[k] = v;
    }
}

static int group_cmp_cells(const ag_spec *sp, const pq_value *a, const pq_value *b)
{
    for (size_t k = 0; k < sp->ngroup; k++) {
        int c = rowcmp_value(sp->gold[k].type, &a[k], &b[k]);
        if (c)
            return c;
    }
    return 0;
}

/* A set of groups: rows of the group columns, sorted and unique. */
typedef struct ag_groups {
    delta_rows rows;
    size_t *idx; /* sorted unique row indices */
    size_t n;
} ag_groups;

static int group_idx_cmp(const void *x, const void *y, void *arg)
{
    const ag_spec *sp = arg;
    const pq_value *const *a = x, *const *b = y;
    return group_cmp_cells(sp, *a, *b);
}

static void groups_add_rows(const ag_spec *sp, ag_groups *gs, const delta_rows *r)
{
    pq_value g[AG_MAX];
    for (size_t i = 0; r && i < r->nrows; i++) {
        group_of(sp, r, i, g);
        pq_value *row = delta_rows_add(&gs->rows);
        for (size_t k = 0; k < sp->ngroup; k++) {
            row[k] = g[k];
            pq_type b = pq_type_base(sp->gold[k].type);
            if (!g[k].is_null && (b == PQ_TYPE_STRING || b == PQ_TYPE_BINARY))
                row[k].str.ptr = delta_rows_keep(&gs->rows, g[k].str.ptr, g[k].str.len);
        }
    }
}

/* Sorts and de-duplicates the groups added so far. */
static void groups_seal(const ag_spec *sp, ag_groups *gs)
{
    size_t n = gs->rows.nrows, nc = gs->rows.ncols;
    const pq_value **p = sl_calloc(n ? n : 1, sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = &gs->rows.cells[i * nc];
    qsort_r(p, n, sizeof *p, group_idx_cmp, (void *)sp);
    free(gs->idx);
    gs->idx = sl_calloc(n ? n : 1, sizeof *gs->idx);
    gs->n = 0;
    for (size_t i = 0; i < n; i++)
        if (gs->n == 0 || group_cmp_cells(sp, p[i - 1], p[i]) != 0)
            gs->idx[gs->n++] = (size_t)(p[i] - gs->rows.cells) / (nc ? nc : 1);
    free(p);
}

/* Position of group g in the sealed set, or -1. */
static long groups_find(const ag_spec *sp, const ag_groups *gs, const pq_value *g)
{
    size_t lo = 0, hi = gs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = group_cmp_cells(sp, &gs->rows.cells[gs->idx[mid] * gs->rows.ncols], g);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const pq_value *groups_cells(const ag_groups *gs, size_t pos)
{
    return &gs->rows.cells[gs->idx[pos] * gs->rows.ncols];
}

/* Sorted unique non-null values of group column k (*has_null when one is
 * null: nothing can be pruned then). */
typedef struct ag_probe_ctx {
    pq_type t;
} ag_probe_ctx;

static int probe_cmp(const void *x, const void *y, void *arg)
{
    const ag_probe_ctx *c = arg;
    return rowcmp_value(c->t, x, y);
}

static pq_value *group_probes(const ag_spec *sp, const ag_groups *gs, size_t k, size_t *n,
                              int *has_null)
{
    pq_value *v = sl_calloc(gs->n ? gs->n : 1, sizeof *v);
    *n = 0;
    *has_null = 0;
    for (size_t i = 0; i < gs->n; i++) {
        const pq_value *x = &groups_cells(gs, i)[k];
        if (x->is_null)
            *has_null = 1;
        else
            v[(*n)++] = *x;
    }
    ag_probe_ctx c = {sp->gold[k].type};
    qsort_r(v, *n, sizeof *v, probe_cmp, &c);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++)
        if (u == 0 || rowcmp_value(c.t, &v[u - 1], &v[i]) != 0)
            v[u++] = v[i];
    *n = u;
    return v;
}

/* Whether a file whose timestamp range is [min, max] may hold a row of one
 * of the sorted days. */
static int days_may_hit(pq_type t, const pq_value *days, size_t n, const json_t *min,
                        const json_t *max)
{
    if (pq_type_base(t) == PQ_TYPE_DATE)
        return rowcmp_any_in_range(t, days, n, min, max);
    if (!min || !max)
        return 1;
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first day ending at or after min */
        size_t mid = lo + (hi - lo) / 2;
        pq_value end = pq_val_ts_us(((int64_t)days[mid].i32 + 1) * US_PER_DAY - 1);
        int c = rowcmp_bound(t, &end, min, 0);
        if (c == 2)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n)
        return 0;
    pq_value start = pq_val_ts_us((int64_t)days[lo].i32 * US_PER_DAY);
    int c = rowcmp_bound(t, &start, max, 1);
    return c == 2 || c <= 0;
}

/* The silver files that may hold one of the groups (all when gs is NULL). */
static sl_code silver_read(store *lake, const char *key, const delta_snapshot *snap,
                           const pq_schema_col *scols, size_t ns, const ag_spec *sp,
                           const ag_groups *gs, delta_rows *rows, size_t *nread,
                           sl_err *err)
{
    /* Prune by the day when grouped by it (silver is rarely sorted by the
     * other group columns), else by the first group column. */
    size_t k = 0;
    for (size_t g = 0; g < sp->ngroup; g++)
        if (sp->gday[g]) {
            k = g;
            break;
        }
    size_t np = 0;
    int has_null = 1;
    pq_value *probes = gs && sp->ngroup ? group_probes(sp, gs, k, &np, &has_null) : NULL;
    int all = !gs || sp->ngroup == 0 || has_null;
    sl_code c = SL_OK;
    for (size_t i = 0; i < snap->nfiles && c == SL_OK; i++) {
        const delta_file *f = &snap->files[i];
        int hit = all;
        if (!hit) {
            json_t *mn, *mx;
            pq_type t = scols[sp->gsrc[k]].type;
            delta_file_col_range(f, scols[sp->gsrc[k]].name, &mn, &mx);
            hit = sp->gday[k] ? days_may_hit(t, probes, np, mn, mx)
                              : rowcmp_any_in_range(t, probes, np, mn, mx);
            json_decref(mn);
            json_decref(mx);
        }
        if (hit) {
            c = delta_rows_read_file(lake, key, f, scols, ns, rows, err);
            (*nread)++;
        }
    }
    free(probes);
    return c;
}

/* Accumulators of the groups, flat: [group * nagg + a]. */
typedef struct ag_acc {
    int64_t *rows, *n, *si;
    double *sd;
    pq_value *mn, *mx;
} ag_acc;

static double num_of(pq_type t, const pq_value *v)
{
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
        return v->i32;
    case PQ_TYPE_INT64:
        return (double)v->i64;
    case PQ_TYPE_FLOAT:
        return v->f32;
    case PQ_TYPE_DECIMAL:
        return ((double)v->dec.hi * 18446744073709551616.0 + (double)v->dec.lo) /
               pow(10, pq_type_scale(t));
    default:
        return v->f64;
    }
}

static void acc_row(const ag_spec *sp, ag_acc *ac, size_t g, const delta_rows *r,
                    size_t i)
{
    ac->rows[g]++;
    for (size_t a = 0; a < sp->nagg; a++) {
        if (sp->asrc[a] < 0)
            continue;
        pq_type t = r->types[sp->asrc[a]];
        const pq_value *v = &r->cells[i * r->ncols + (size_t)sp->asrc[a]];
        if (v->is_null)
            continue;
        size_t s = g * sp->nagg + a;
        pq_type b = pq_type_base(t);
        if (b == PQ_TYPE_INT32 || b == PQ_TYPE_INT64)
            ac->si[s] += b == PQ_TYPE_INT32 ? v->i32 : v->i64;
        else
            ac->sd[s] += num_of(t, v);
        if (ac->n[s] == 0 || rowcmp_value(t, v, &ac->mn[s]) < 0)
            ac->mn[s] = *v;
        if (ac->n[s] == 0 || rowcmp_value(t, v, &ac->mx[s]) > 0)
            ac->mx[s] = *v;
        ac->n[s]++;
    }
}

static pq_value agg_value(const ag_spec *sp, const ag_acc *ac, size_t g, size_t a)
{
    size_t s = g * sp->nagg + a;
    if (sp->fn[a] == PL_AGG_COUNT)
        return pq_val_i64(ac->rows[g]);
    if (ac->n[s] == 0)
        return pq_val_null();
    pq_type b = pq_type_base(sp->stypes[sp->asrc[a]]);
    int ints = b == PQ_TYPE_INT32 || b == PQ_TYPE_INT64;
    switch (sp->fn[a]) {
    case PL_AGG_SUM:
        return ints ? pq_val_i64(ac->si[s]) : pq_val_f64(ac->sd[s]);
    case PL_AGG_AVG:
        return pq_val_f64((ints ? (double)ac->si[s] : ac->sd[s]) / (double)ac->n[s]);
    case PL_AGG_MIN:
        return ac->mn[s];
    case PL_AGG_MAX:
        return ac->mx[s];
    default:
        return pq_val_null();
    }
}

static void keep_strings(delta_rows *r, pq_value *row)
{
    for (size_t k = 0; k < r->ncols; k++) {
        pq_type b = pq_type_base(r->types[k]);
        if (!row[k].is_null && (b == PQ_TYPE_STRING || b == PQ_TYPE_BINARY))
            row[k].str.ptr = delta_rows_keep(r, row[k].str.ptr, row[k].str.len);
    }
}

/* Gold rows (gold's columns) of the groups in gs recomputed from silver's
 * rows; groups without rows are left out. */
static void compute(const ag_spec *sp, const ag_groups *gs, const delta_rows *silver,
                    delta_rows *fresh)
{
    size_t ng = gs->n ? gs->n : 1, ns = ng * (sp->nagg ? sp->nagg : 1);
    ag_acc ac = {sl_calloc(ng, sizeof(int64_t)),  sl_calloc(ns, sizeof(int64_t)),
                 sl_calloc(ns, sizeof(int64_t)),  sl_calloc(ns, sizeof(double)),
                 sl_calloc(ns, sizeof(pq_value)), sl_calloc(ns, sizeof(pq_value))};
    pq_value g[AG_MAX];
    for (size_t i = 0; i < silver->nrows; i++) {
        group_of(sp, silver, i, g);
        long pos = groups_find(sp, gs, g);
        if (pos >= 0)
            acc_row(sp, &ac, (size_t)pos, silver, i);
    }
    for (size_t p = 0; p < gs->n; p++) {
        if (ac.rows[p] == 0)
            continue;
        pq_value *row = delta_rows_add(fresh);
        memcpy(row, groups_cells(gs, p), sp->ngroup * sizeof *row);
        for (size_t a = 0; a < sp->nagg; a++)
            row[sp->ngroup + a] = agg_value(sp, &ac, p, a);
        keep_strings(fresh, row);
    }
    free(ac.rows);
    free(ac.n);
    free(ac.si);
    free(ac.sd);
    free(ac.mn);
    free(ac.mx);
}

/* Everything both aggregate_run and aggregate_check need: silver, the
 * spec, the touched groups and their recomputed gold rows. */
typedef struct ag_work {
    delta_snapshot *silver;
    pq_schema_col *scols;
    size_t nscols;
    ag_spec sp;
    ag_groups gs;
    delta_rows srows, fresh;
    int all; /* every group */
    size_t silver_files_read;
} ag_work;

static void work_free(ag_work *w)
{
    delta_snapshot_free(w->silver);
    delta_schema_cols_free(w->scols, w->nscols);
    free(w->sp.gold);
    delta_rows_free(&w->gs.rows);
    free(w->gs.idx);
    delta_rows_free(&w->srows);
    delta_rows_free(&w->fresh);
}

static sl_code work_build(store *lake, const pipeline_def *d, const delta_rows *before,
                          const delta_rows *after, ag_work *w, sl_err *err)
{
    memset(w, 0, sizeof *w);
    w->all = !before && !after;
    sl_code c = merge_silver_open(lake, d, &w->silver, err);
    if (c == SL_OK)
        c = delta_schema_cols(w->silver->metadata, &w->scols, &w->nscols, err);
    pq_type *stypes = NULL;
    if (c == SL_OK) {
        delta_rows_init(&w->srows, w->scols, w->nscols);
        stypes = w->srows.types;
        c = spec_resolve(d, w->scols, w->nscols, stypes, &w->sp, err);
    }
    if (c != SL_OK)
        return c;
    delta_rows_init(&w->gs.rows, w->sp.gold, w->sp.ngroup);
    delta_rows_init(&w->fresh, w->sp.gold, w->sp.ngold);
    if (!w->all) {
        groups_add_rows(&w->sp, &w->gs, before);
        groups_add_rows(&w->sp, &w->gs, after);
        groups_seal(&w->sp, &w->gs);
    }
    c = silver_read(lake, d->silver.table, w->silver, w->scols, w->nscols, &w->sp,
                    w->all ? NULL : &w->gs, &w->srows, &w->silver_files_read, err);
    if (c == SL_OK && w->all) {
        groups_add_rows(&w->sp, &w->gs, &w->srows);
        groups_seal(&w->sp, &w->gs);
    }
    if (c == SL_OK)
        compute(&w->sp, &w->gs, &w->srows, &w->fresh);
    return c;
}

/* Gold's files that may hold a touched group (all in all mode), their rows
 * and, per row, whether its group is touched. */
typedef struct ag_gold {
    delta_snapshot *snap;
    pq_schema_col *cols;
    size_t ncols;
    delta_rows rows;
    const delta_file **read;
    size_t nread;
    size_t *start;
} ag_gold;

static void gold_free(ag_gold *g)
{
    delta_snapshot_free(g->snap);
    delta_schema_cols_free(g->cols, g->ncols);
    delta_rows_free(&g->rows);
    free(g->read);
    free(g->start);
}

static sl_code gold_read(store *lake, const pipeline_def *d, const ag_work *w, int create,
                         ag_gold *g, sl_err *err)
{
    memset(g, 0, sizeof *g);
    delta_at at = {.kind = DELTA_AT_LATEST};
    sl_code c = create ? merge_table_open(lake, d->gold.table, w->sp.gold, w->sp.ngold,
                                          &g->snap, err)
                       : delta_snapshot_open(lake, d->gold.table, &at, &g->snap, err);
    if (c == SL_OK)
        c = delta_schema_cols(g->snap->metadata, &g->cols, &g->ncols, err);
    if (c == SL_OK && g->ncols != w->sp.ngold)
        c = err_set(err, SL_DELTA_SCHEMA,
                    "%s has %zu columns where the pipeline gives %zu; recreate gold",
                    d->gold.table, g->ncols, w->sp.ngold);
    for (size_t k = 0; c == SL_OK && k < g->ncols; k++)
        if (strcmp(g->cols[k].name, w->sp.gold[k].name) ||
            g->cols[k].type != w->sp.gold[k].type)
            c = err_set(err, SL_DELTA_SCHEMA,
                        "%s: column %zu is '%s' where the pipeline gives '%s'",
                        d->gold.table, k + 1, g->cols[k].name, w->sp.gold[k].name);
    if (c != SL_OK)
        return c;
    delta_rows_init(&g->rows, g->cols, g->ncols);
    g->read = sl_calloc(g->snap->nfiles + 1, sizeof *g->read);
    g->start = sl_calloc(g->snap->nfiles + 2, sizeof *g->start);
    size_t np = 0;
    int has_null = 1;
    pq_value *probes =
        !w->all && w->sp.ngroup ? group_probes(&w->sp, &w->gs, 0, &np, &has_null) : NULL;
    int all = w->all || w->sp.ngroup == 0 || has_null;
    for (size_t i = 0; i < g->snap->nfiles && c == SL_OK; i++) {
        const delta_file *f = &g->snap->files[i];
        int hit = all;
        if (!hit) {
            json_t *mn, *mx;
            delta_file_col_range(f, g->cols[0].name, &mn, &mx);
            hit = rowcmp_any_in_range(g->cols[0].type, probes, np, mn, mx);
            json_decref(mn);
            json_decref(mx);
        }
        if (!hit)
            continue;
        g->read[g->nread] = f;
        g->start[g->nread] = g->rows.nrows;
        c = delta_rows_read_file(lake, d->gold.table, f, g->cols, g->ncols, &g->rows,
                                 err);
        g->start[++g->nread] = g->rows.nrows;
    }
    free(probes);
    return c;
}

static int touched(const ag_work *w, const delta_rows *r, size_t i)
{
    return w->all || groups_find(&w->sp, &w->gs, &r->cells[i * r->ncols]) >= 0;
}

typedef struct ag_row_ctx {
    const ag_spec *sp;
    const delta_rows *r;
} ag_row_ctx;

static int row_group_cmp(const void *x, const void *y, void *arg)
{
    const ag_row_ctx *c = arg;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    return group_cmp_cells(c->sp, &c->r->cells[i * c->r->ncols],
                           &c->r->cells[j * c->r->ncols]);
}

/* Gold rewritten: files holding touched groups removed, their other groups
 * and the recomputed ones written in group order. */
static sl_code gold_rewrite(store *lake, const aggregate_req *req, ag_work *w, ag_gold *g,
                            aggregate_result *out, sl_err *err)
{
    const pipeline_def *d = req->def;
    int64_t now = time_now_ms();
    json_t *removes = json_array(), *adds = json_array();
    delta_rows outr;
    delta_rows_init(&outr, g->cols, g->ncols);
    for (size_t f = 0; f < g->nread; f++) {
        int hit = 0;
        for (size_t i = g->start[f]; i < g->start[f + 1] && !hit; i++)
            hit = touched(w, &g->rows, i);
        if (!hit)
            continue;
        json_array_append_new(removes, merge_remove_action(g->read[f], now));
        out->files_removed++;
        for (size_t i = g->start[f]; i < g->start[f + 1]; i++)
            if (!touched(w, &g->rows, i))
                delta_rows_copy_row(&outr, &g->rows, i);
    }
    for (size_t i = 0; i < w->fresh.nrows; i++)
        delta_rows_copy_row(&outr, &w->fresh, i);
    size_t *idx = sl_calloc(outr.nrows ? outr.nrows : 1, sizeof *idx);
    for (size_t i = 0; i < outr.nrows; i++)
        idx[i] = i;
    ag_row_ctx rc = {&w->sp, &outr};
    qsort_r(idx, outr.nrows, sizeof *idx, row_group_cmp, &rc);
    sl_code c = merge_write_rows(lake, d->gold.table, g->snap, &outr, idx, outr.nrows,
                                 req->writer_opts, adds, err);
    out->files_added = json_array_size(adds);
    const char **paths = sl_calloc(g->nread ? g->nread : 1, sizeof *paths);
    for (size_t f = 0; f < g->nread; f++)
        paths[f] = g->read[f]->path;
    char *app = pipeline_app_id(d, "gold");
    json_t *params = json_pack("{s:I}", "groupsTouched", (json_int_t)out->groups_touched);
    json_t *metrics = json_pack(
        "{s:I, s:I, s:I, s:I}", "numTargetFilesAdded", (json_int_t)out->files_added,
        "numTargetFilesRemoved", (json_int_t)out->files_removed, "numOutputRows",
        (json_int_t)outr.nrows, "numSilverFilesRead", (json_int_t)out->silver_files_read);
    merge_commit_spec spec = {.meta = req->meta,
                              .operation = "MERGE",
                              .parameters = params,
                              .metrics = metrics,
                              .removes = removes,
                              .adds = adds,
                              .read_paths = paths,
                              .nread_paths = g->nread,
                              .app_id = app,
                              .txn_version = req->batch_id};
    if (c == SL_OK)
        c = merge_commit(lake, d->gold.table, g->snap, &spec, &out->gold_version, err);
    json_decref(params);
    json_decref(metrics);
    free(app);
    free(paths);
    free(idx);
    delta_rows_free(&outr);
    json_decref(removes);
    json_decref(adds);
    return c;
}

sl_code aggregate_run(store *lake, const aggregate_req *req, aggregate_result *out,
                      sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->gold_version = -1;
    const pipeline_def *d = req->def;
    if (!d->gold.table || !d->silver.table)
        return err_set(err, SL_PIPELINE_INVALID, "%s has no gold (or silver) table",
                       d->name);
    ag_work w;
    ag_gold g = {0};
    /* The txn check first: a finished step reads no silver. */
    sl_code c = SL_OK;
    {
        pq_schema_col *gc;
        size_t ngc;
        c = aggregate_gold_cols(d, &gc, &ngc, err);
        delta_snapshot *snap = NULL;
        if (c == SL_OK)
            c = merge_table_open(lake, d->gold.table, gc, ngc, &snap, err);
        if (c == SL_OK) {
            char *app = pipeline_app_id(d, "gold");
            out->skipped = merge_txn_version(snap, app) >= req->batch_id;
            free(app);
        }
        delta_snapshot_free(snap);
        if (c == SL_OK)
            free(gc);
        if (c != SL_OK || out->skipped)
            return c;
    }
    c = work_build(lake, d, req->before, req->after, &w, err);
    out->groups_touched = w.gs.n;
    out->silver_files_read = w.silver_files_read;
    if (c == SL_OK)
        c = gold_read(lake, d, &w, 1, &g, err);
    out->files_read = g.nread;
    if (c == SL_OK)
        c = gold_rewrite(lake, req, &w, &g, out, err);
    gold_free(&g);
    work_free(&w);
    if (c != SL_OK)
        err_wrap(err, "aggregate into %s", d->gold.table);
    return c;
}

/* ---- the "after" check ------------------------------------------------- */

static void group_text(const ag_spec *sp, const pq_value *row, sl_buf *b)
{
    for (size_t k = 0; k < sp->ngroup; k++) {
        buf_appendf(b, "%s%s=", k ? ", " : "", sp->gold[k].name);
        if (!rowcmp_text(sp->gold[k].type, &row[k], b))
            buf_append_str(b, "null");
    }
    if (sp->ngroup == 0)
        buf_append_str(b, "(all rows)");
}

static int same_value(pq_type t, const pq_value *a, const pq_value *b)
{
    pq_type base = pq_type_base(t);
    if (!a->is_null && !b->is_null && (base == PQ_TYPE_DOUBLE || base == PQ_TYPE_FLOAT)) {
        double x = base == PQ_TYPE_DOUBLE ? a->f64 : a->f32;
        double y = base == PQ_TYPE_DOUBLE ? b->f64 : b->f32;
        /* Sums in another row order differ in the last bits. */
        return fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
    }
    return rowcmp_value(t, a, b) == 0;
}

static sl_code check_fail(const ag_spec *sp, const pq_value *row, const char *what,
                          sl_err *err)
{
    sl_buf b = {0};
    group_text(sp, row, &b);
    sl_code c = err_set(err, SL_CHECK_FAILED, "gold group (%s) %s", b.data, what);
    buf_free(&b);
    return c;
}

static sl_code compare_rows(const ag_spec *sp, const delta_rows *want, const size_t *wi,
                            size_t nw, const delta_rows *have, const size_t *hi,
                            size_t nh, sl_err *err)
{
    size_t a = 0, b = 0;
    while (a < nw || b < nh) {
        const pq_value *x = a < nw ? &want->cells[wi[a] * want->ncols] : NULL;
        const pq_value *y = b < nh ? &have->cells[hi[b] * have->ncols] : NULL;
        int c = !x ? 1 : !y ? -1 : group_cmp_cells(sp, x, y);
        if (c < 0)
            return check_fail(sp, x, "is missing from gold but silver has rows for it",
                              err);
        if (c > 0)
            return check_fail(sp, y, "is in gold but silver has no row for it", err);
        if (b + 1 < nh &&
            group_cmp_cells(sp, y, &have->cells[hi[b + 1] * have->ncols]) == 0)
            return check_fail(sp, y, "appears more than once in gold", err);
        for (size_t k = sp->ngroup; k < sp->ngold; k++) {
            if (same_value(sp->gold[k].type, &x[k], &y[k]))
                continue;
            sl_buf t = {0};
            buf_appendf(&t, "differs: %s is ", sp->gold[k].name);
            if (!rowcmp_text(sp->gold[k].type, &y[k], &t))
                buf_append_str(&t, "null");
            buf_append_str(&t, " in gold, ");
            if (!rowcmp_text(sp->gold[k].type, &x[k], &t))
                buf_append_str(&t, "null");
            buf_append_str(&t, " recomputed from silver");
            sl_code rc = check_fail(sp, x, t.data, err);
            buf_free(&t);
            return rc;
        }
        a++;
        b++;
    }
    return SL_OK;
}

static size_t *sorted_groups(const ag_spec *sp, const delta_rows *r, const ag_work *w,
                             size_t *n)
{
    size_t *idx = sl_calloc(r->nrows ? r->nrows : 1, sizeof *idx);
    *n = 0;
    for (size_t i = 0; i < r->nrows; i++)
        if (!w || touched(w, r, i))
            idx[(*n)++] = i;
    ag_row_ctx rc = {sp, r};
    qsort_r(idx, *n, sizeof *idx, row_group_cmp, &rc);
    return idx;
}

sl_code aggregate_check(store *lake, const pipeline_def *def, const aggregate_req *t,
                        sl_err *err)
{
    if (!def->gold.table || !def->silver.table)
        return SL_OK;
    ag_work w;
    ag_gold g = {0};
    sl_code c = work_build(lake, def, t ? t->before : NULL, t ? t->after : NULL, &w, err);
    if (c == SL_OK)
        c = gold_read(lake, def, &w, 0, &g, err);
    if (c == SL_DELTA_NOT_A_TABLE && w.fresh.nrows == 0) {
        gold_free(&g);
        work_free(&w);
        err_clear(err);
        return SL_OK; /* no gold yet, and nothing it should hold */
    }
    if (c == SL_OK) {
        size_t nw, nh;
        size_t *wi = sorted_groups(&w.sp, &w.fresh, NULL, &nw);
        size_t *hi = sorted_groups(&w.sp, &g.rows, &w, &nh);
        c = compare_rows(&w.sp, &w.fresh, wi, nw, &g.rows, hi, nh, err);
        free(wi);
        free(hi);
    }
    gold_free(&g);
    work_free(&w);
    if (c != SL_OK && c != SL_CHECK_FAILED)
        err_wrap(err, "checking %s", def->gold.table);
    return c;
}
