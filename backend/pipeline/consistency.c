#include "backend/pipeline/consistency.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/util/buf.h"

void cons_report_free(cons_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->issues[i].folder);
        free(r->issues[i].table);
    }
    free(r->issues);
    memset(r, 0, sizeof *r);
}

static cons_issue *issue_add(cons_report *r, const char *kind, const char *folder,
                             const char *table, int64_t batch, int64_t table_batch)
{
    r->issues = sl_realloc(r->issues, (r->n + 1) * sizeof *r->issues);
    cons_issue *is = &r->issues[r->n++];
    is->version = is->restored_to = -1;
    is->kind = kind;
    is->folder = folder ? sl_strdup(folder) : NULL;
    is->table = sl_strdup(table);
    is->batch_id = batch;
    is->table_batch = table_batch;
    return is;
}

/* A RESTORE commit: made at `at`, back to version `to`. */
typedef struct restore_mark {
    int64_t at, to;
} restore_mark;

static int64_t param_version(const json_t *params)
{
    const json_t *v = json_object_get(params, "version");
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v)) {
        char *end = NULL;
        long long n = strtoll(json_string_value(v), &end, 10);
        if (end && !*end && end != json_string_value(v))
            return n;
    }
    return -1;
}

/* Every RESTORE to a version in a table's history (oldest kept commit on). */
static sl_code table_restores(store *lake, const char *table, restore_mark **out,
                              size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    delta_history h = {0};
    sl_code c = delta_history_load(lake, table, 0, &h, err);
    if (c == SL_DELTA_NOT_A_TABLE) {
        err_clear(err);
        return SL_OK;
    }
    if (c != SL_OK)
        return c;
    for (size_t i = 0; i < h.n; i++) {
        const delta_commit_info *ci = &h.items[i];
        int64_t to = param_version(ci->operation_parameters);
        if (!ci->operation || strcmp(ci->operation, "RESTORE") != 0 || to < 0)
            continue;
        *out = sl_realloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = (restore_mark){ci->version, to};
    }
    delta_history_free(&h);
    return SL_OK;
}

/* The version a folder's step produced, from its checkpoint row; -1. */
static int64_t step_version(const ckpt_entry *e, const char *step)
{
    json_t *v = e->versions ? json_loads(e->versions, 0, NULL) : NULL;
    json_t *x = json_object_get(v, step);
    int64_t out = json_is_integer(x) ? json_integer_value(x) : -1;
    json_decref(v);
    return out;
}

/* Folders whose step's commit a later RESTORE went back behind. */
static void undone_check(cons_report *out, const ckpt_view *cv, const char *table,
                         const char *step, const restore_mark *rm, size_t nrm)
{
    for (size_t i = 0; i < cv->n; i++) {
        const ckpt_entry *e = &cv->e[i];
        if (strcmp(e->state, "processed") != 0)
            continue;
        int64_t made = step_version(e, step);
        for (size_t k = 0; made >= 0 && k < nrm; k++) {
            if (rm[k].at > made && rm[k].to < made) {
                cons_issue *is =
                    issue_add(out, "undone", e->folder, table, e->batch_id, -1);
                is->version = made;
                is->restored_to = rm[k].to;
                break;
            }
        }
    }
}

/* The newest batch a table holds for one step's appId; -1 when none (or
 * no table yet). */
static sl_code table_batch(store *lake, const pipeline_def *d, const char *table,
                           const char *step, int64_t *out, sl_err *err)
{
    *out = -1;
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(lake, table, &latest, &snap, err);
    if (c == SL_DELTA_NOT_A_TABLE) {
        err_clear(err);
        return SL_OK;
    }
    if (c != SL_OK)
        return c;
    char *app = pipeline_app_id(d, step);
    json_t *txn = json_object_get(snap->txns, app);
    if (json_is_integer(json_object_get(txn, "version")))
        *out = json_integer_value(json_object_get(txn, "version"));
    free(app);
    delta_snapshot_free(snap);
    return SL_OK;
}

sl_code consistency_check(store *lake, const pipeline_def *d, cons_report *out,
                          sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->ckpt_max_batch = -1;
    ckpt_view cv = {0};
    sl_code c = ckpt_load(lake, d->name, &cv, err);
    if (c != SL_OK)
        return c;
    out->ckpt_max_batch = cv.max_batch_id;
    for (size_t i = 0; i < cv.n; i++)
        if (cv.e[i].batch_id >= 0 && strcmp(cv.e[i].state, "processed") == 0)
            out->folders_checked++;
    const struct {
        const char *table, *app_step, *step;
    } tables[] = {{d->bronze.table, "bronze", "ingest"},
                  {d->silver.table, "silver", "merge"},
                  {d->gold.table, "gold", "aggregate"}};
    for (size_t t = 0; c == SL_OK && t < sizeof tables / sizeof tables[0]; t++) {
        if (!tables[t].table)
            continue;
        int64_t tb;
        c = table_batch(lake, d, tables[t].table, tables[t].app_step, &tb, err);
        restore_mark *rm = NULL;
        size_t nrm = 0;
        if (c == SL_OK)
            c = table_restores(lake, tables[t].table, &rm, &nrm, err);
        if (c != SL_OK)
            break;
        undone_check(out, &cv, tables[t].table, tables[t].step, rm, nrm);
        free(rm);
        out->tables_checked++;
        for (size_t i = 0; i < cv.n; i++) {
            const ckpt_entry *e = &cv.e[i];
            if (e->batch_id >= 0 && strcmp(e->state, "processed") == 0 &&
                e->batch_id > tb)
                issue_add(out, "missing", e->folder, tables[t].table, e->batch_id, tb);
        }
        if (tb > cv.max_batch_id)
            issue_add(out, "orphan", NULL, tables[t].table, tb, tb);
    }
    ckpt_view_free(&cv);
    if (c != SL_OK)
        cons_report_free(out);
    return c;
}
