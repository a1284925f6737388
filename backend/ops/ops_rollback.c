/* rollback-run: every table a run committed to goes back to its version
 * before the run (a RESTORE commit each, the way `sluice restore` writes
 * it), and the run's folders become pending again. A later run that built
 * on those tables is a dependency: refused (SL_ROLLBACK_DEPENDENT, listing
 * them) unless params.cascade, which rolls them back too and says so.
 * target = run id, params {"pipeline", "cascade"}. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_restore.h"
#include "backend/ops/ops_actions.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* table -> the lowest and highest version each run set committed. */
typedef struct rb_plan {
    json_t *runs;    /* array of run ids undone, the requested one first */
    json_t *low;     /* table -> lowest version committed by those runs */
    json_t *high;    /* table -> highest */
    json_t *folders; /* array of folder names to reset */
} rb_plan;

static void plan_free(rb_plan *p)
{
    json_decref(p->runs);
    json_decref(p->low);
    json_decref(p->high);
    json_decref(p->folders);
}

static int in_array(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)a, i,
                       v) if (strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

/* The lowest and highest version of a commits entry: a version, or an
 * array of them (a step that committed twice to one table, e.g. evolve's
 * ADD COLUMNS and then the data). 0 when it holds none. */
static int commit_range(const json_t *v, json_int_t *lo, json_int_t *hi)
{
    if (json_is_integer(v)) {
        *lo = *hi = json_integer_value(v);
        return 1;
    }
    int any = 0;
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)v, i, e)
    {
        if (!json_is_integer(e))
            continue;
        json_int_t x = json_integer_value(e);
        if (!any || x < *lo)
            *lo = x;
        if (!any || x > *hi)
            *hi = x;
        any = 1;
    }
    return any;
}

/* Adds the commits and folders of run id to the plan. */
static void plan_add_run(rb_plan *p, const run_step *rows, size_t n, const char *id)
{
    if (!in_array(p->runs, id))
        json_array_append_new(p->runs, json_string(id));
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].run_id, id) != 0)
            continue;
        if (rows[i].folder && rows[i].batch_id >= 0 &&
            !in_array(p->folders, rows[i].folder))
            json_array_append_new(p->folders, json_string(rows[i].folder));
        json_t *d = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
        const char *table;
        json_t *v;
        json_object_foreach(json_object_get(d, "commits"), table, v)
        {
            json_int_t vlo, vhi;
            if (!commit_range(v, &vlo, &vhi))
                continue;
            json_t *lo = json_object_get(p->low, table),
                   *hi = json_object_get(p->high, table);
            if (!lo || json_integer_value(lo) > vlo)
                json_object_set_new(p->low, table, json_integer(vlo));
            if (!hi || json_integer_value(hi) < vhi)
                json_object_set_new(p->high, table, json_integer(vhi));
        }
        json_decref(d);
    }
}

/* Runs (not yet in the plan) that committed to a planned table after the
 * plan's first version there. */
static json_t *dependents(const rb_plan *p, const run_step *rows, size_t n)
{
    json_t *deps = json_array();
    for (size_t i = 0; i < n; i++) {
        if (in_array(p->runs, rows[i].run_id) || in_array(deps, rows[i].run_id))
            continue;
        json_t *d = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
        const char *table;
        json_t *v;
        json_object_foreach(json_object_get(d, "commits"), table, v)
        {
            json_t *lo = json_object_get(p->low, table);
            json_int_t vlo, vhi;
            if (lo && commit_range(v, &vlo, &vhi) && vhi > json_integer_value(lo) &&
                !in_array(deps, rows[i].run_id))
                json_array_append_new(deps, json_string(rows[i].run_id));
        }
        json_decref(d);
    }
    return deps;
}

static int64_t latest_version(store *lake, const char *table, sl_err *err, sl_code *c)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    *c = delta_snapshot_open(lake, table, &latest, &snap, err);
    int64_t v = *c == SL_OK ? snap->version : -1;
    delta_snapshot_free(snap);
    return v;
}

static sl_code plan_build(store *lake, const pipeline_def *d, const char *run_id,
                          int cascade, rb_plan *p, json_t **tables_out, sl_err *err)
{
    memset(p, 0, sizeof *p);
    p->runs = json_array();
    p->low = json_object();
    p->high = json_object();
    p->folders = json_array();
    *tables_out = NULL;
    run_step *rows = NULL;
    size_t n = 0;
    sl_code c = runs_load(lake, d->name, NULL, &rows, &n, err);
    if (c != SL_OK)
        return c;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(rows[i].run_id, run_id) == 0;
    if (!found) {
        run_steps_free(rows, n);
        return err_set(err, SL_RUN_NOT_FOUND, "no run %s in pipeline %s", run_id,
                       d->name);
    }
    plan_add_run(p, rows, n, run_id);
    for (;;) { /* cascade: the closure of runs that built on what is undone */
        json_t *deps = dependents(p, rows, n);
        if (json_array_size(deps) == 0) {
            json_decref(deps);
            break;
        }
        if (!cascade) {
            char *list = json_dumps(deps, JSON_COMPACT);
            c = err_set(err, SL_ROLLBACK_DEPENDENT,
                        "later runs committed on top of run %s: %s", run_id,
                        list ? list : "?");
            free(list);
            json_decref(deps);
            run_steps_free(rows, n);
            return c;
        }
        size_t i;
        json_t *id;
        json_array_foreach(deps, i, id) plan_add_run(p, rows, n, json_string_value(id));
        json_decref(deps);
    }
    run_steps_free(rows, n);
    /* Anything else on those tables since (a manual restore, another writer)
     * would be undone silently: refuse instead. */
    json_t *tables = json_array();
    const char *table;
    json_t *lo;
    json_object_foreach(p->low, table, lo)
    {
        int64_t cur = latest_version(lake, table, err, &c);
        if (c != SL_OK)
            break;
        int64_t hi = json_integer_value(json_object_get(p->high, table));
        if (cur > hi) {
            c = err_set(
                err, SL_ROLLBACK_DEPENDENT,
                "table %s has commits after the run's last (version %lld, now %lld) "
                "that are not from a run of %s; restore it by hand",
                table, (long long)hi, (long long)cur, d->name);
            break;
        }
        int64_t target = json_integer_value(lo) - 1;
        json_array_append_new(tables, json_pack("{s:s, s:I, s:I}", "table", table,
                                                "version", (json_int_t)cur, "restore_to",
                                                (json_int_t)(target < 0 ? 0 : target)));
    }
    if (c != SL_OK) {
        json_decref(tables);
        return c;
    }
    *tables_out = tables;
    return SL_OK;
}

sl_code ops_rollback_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                         sl_err *err)
{
    const char *pipeline = json_string_value(json_object_get(req->params, "pipeline"));
    int cascade = json_is_true(json_object_get(req->params, "cascade"));
    if (!ctx->cfg)
        return err_set(err, SL_CONFIG_NOT_FOUND, "rollback-run needs a sluice.json");
    if (!req->target || !*req->target)
        return err_set(err, SL_USAGE, "rollback-run needs a run id");
    pipeline_def *d = NULL;
    sl_code c = config_pipeline_load(ctx->cfg, pipeline, &d, err);
    if (c != SL_OK)
        return c;
    store *lake = NULL;
    lease *l = NULL;
    rb_plan p = {0};
    json_t *tables = NULL;
    c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK && !req->dry_run) {
        lease_holder holder;
        char owner[200];
        snprintf(owner, sizeof owner, "%s (rollback-run %s)",
                 ctx->operator_name ? ctx->operator_name : "?", req->target);
        c = lease_acquire(lake, d->name, owner, time_now_ms(), LEASE_TTL_MS, &l, &holder,
                          err);
    }
    if (c == SL_OK)
        c = plan_build(lake, d, req->target, cascade, &p, &tables, err);
    if (c == SL_OK) {
        res->before = json_pack("{s:O, s:O, s:O}", "runs", p.runs, "tables", tables,
                                "folders", p.folders);
        res->output = json_pack("{s:s, s:s, s:b, s:O, s:O, s:O}", "pipeline", d->name,
                                "run_id", req->target, "dry_run", req->dry_run, "runs",
                                p.runs, "tables", tables, "folders", p.folders);
    }
    char event[32];
    snprintf(event, sizeof event, "%lld", (long long)res->requested_id);
    json_t *restored = json_object();
    size_t i, nt = json_array_size(tables);
    json_t *t;
    /* Every table's plan first: a rollback that cannot restore one table
     * (files vacuumed since) restores none. */
    delta_restore_plan **plans = sl_calloc(nt ? nt : 1, sizeof *plans);
    json_array_foreach(tables, i, t)
    {
        if (c != SL_OK)
            break;
        const char *table = json_string_value(json_object_get(t, "table"));
        delta_at at = {.kind = DELTA_AT_VERSION,
                       .version = json_integer_value(json_object_get(t, "restore_to"))};
        c = delta_restore_plan_build(lake, table, &at, time_now_ms(), &plans[i], err);
        if (c == SL_OK && plans[i]->nmissing)
            c = err_set(
                err, SL_STORE_NOT_FOUND,
                "rollback of run %s: %s cannot go back to version %lld, %zu of its "
                "files were vacuumed (first: %s); nothing was restored",
                req->target, table, (long long)at.version, plans[i]->nmissing,
                plans[i]->missing[0]);
    }
    json_array_foreach(tables, i, t)
    {
        if (c != SL_OK || req->dry_run)
            break;
        const char *table = json_string_value(json_object_get(t, "table"));
        delta_restore_plan *rp = plans[i];
        if (rp->nreadd + rp->nremove == 0 &&
            json_equal(rp->current->metadata, rp->target->metadata))
            continue; /* nothing to undo in this table */
        delta_commit_meta meta = {.operator_name = ctx->operator_name,
                                  .run_id = ctx->session_id,
                                  .audit_event_id = res->requested_id ? event : NULL};
        delta_commit_result cr;
        c = delta_restore_commit(lake, table, rp, &meta, &cr, err);
        if (c == SL_OK)
            json_object_set_new(restored, table, json_integer(cr.version));
        else
            err_wrap(err, "rollback of run %s: restoring %s", req->target, table);
    }
    for (i = 0; i < nt; i++)
        delta_restore_plan_free(plans[i]);
    free(plans);
    if (c == SL_OK && !req->dry_run && json_array_size(p.folders)) {
        size_t nf = json_array_size(p.folders);
        ckpt_entry *rows = sl_calloc(nf, sizeof *rows);
        json_t *f;
        json_array_foreach(p.folders, i, f)
        {
            ckpt_entry_init(&rows[i]);
            rows[i].folder = (char *)json_string_value(f);
            rows[i].state = (char *)"pending";
            rows[i].epoch = strtoll(rows[i].folder, NULL, 10);
            rows[i].message = (char *)req->reason;
            rows[i].operator_name = (char *)ctx->operator_name;
            rows[i].run_id = (char *)ctx->session_id;
        }
        c = ckpt_record(lake, d->name, rows, nf, NULL, 0, NULL, NULL, NULL, err);
        free(rows);
    }
    if (c == SL_OK && !req->dry_run) {
        res->after = json_pack("{s:O, s:s}", "restored", restored, "folders", "pending");
        json_object_set(res->output, "restored", restored);
    }
    json_decref(restored);
    if (l) {
        sl_err ignored = {0};
        lease_release(lake, l, &ignored);
        lease_free(l);
    }
    json_decref(tables);
    plan_free(&p);
    store_close(lake);
    pipeline_def_free(d);
    return c;
}
