#include "backend/pipeline/runner_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_rows.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/delta/delta_write.h"
#include "backend/pipeline/aggregate.h"
#include "backend/pipeline/cancel.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/ingest.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/merge.h"
#include "backend/pipeline/retry.h"
#include "backend/pipeline/runs.h"
#include "backend/pipeline/source_files.h"
#include "backend/store/store_retry.h"
#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/timeutil.h"

#define DEFAULT_LEASE_TTL_MS (60 * 1000)

/* One folder on its way through the steps. */
typedef struct folder_ctx {
    run_ctx *rc;
    const pl_folder *f;
    int64_t batch;
    int recovered;
    json_t *steps;    /* report of the steps */
    json_t *versions; /* table -> version produced */
    ingest_result ing;
    int have_ing;
    merge_result mg;
    int have_merge;
    aggregate_result ag;
    int have_ag;
    /* the step being run (for the per-attempt runs rows) */
    const char *step;
    const char *table;
    int64_t version_before;
    int64_t step_started_ms;
    int64_t rows_in, rows_out, version_after;
    int skipped;
    int attempts;
    json_t *commits;       /* table -> version (or an array of versions, oldest first)
                            * of each commit this attempt made or recovered */
    int64_t expected_rows; /* from the folder's marker; -1 when it says none */
    /* files layout: the batch's manifest (checkpoint detail), the source
     * files whose content it replaces (deleted ones included), and their
     * rows for _sluice/source_files */
    const char *manifest;
    const char *const *changed_files;
    size_t nchanged_files;
    const srcfile *srcrows;
    size_t nsrcrows;
    sl_code (*fn)(struct folder_ctx *fc, sl_err *err);
} folder_ctx;

/* Bookkeeping calls (lease, checkpoint, discovery) get the step's retries
 * too: a store timeout there must not fail a run that a retry would save. */
typedef struct retry_call {
    sl_code (*fn)(void *arg, sl_err *err);
    void *arg;
} retry_call;

static sl_code retry_call_fn(void *ctx, int attempt, sl_err *err)
{
    (void)attempt;
    retry_call *c = ctx;
    return c->fn(c->arg, err);
}

sl_code runner_with_retries(run_ctx *rc, sl_code (*fn)(void *, sl_err *), void *arg,
                            sl_err *err)
{
    retry_call c = {fn, arg};
    return retry_run(&rc->rp, retry_call_fn, &c, NULL, err);
}

static int64_t table_version(store *lake, const char *key)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_err ignored = {0};
    int64_t v = -1;
    if (delta_snapshot_open(lake, key, &latest, &snap, &ignored) == SL_OK)
        v = snap->version;
    delta_snapshot_free(snap);
    return v;
}

/* ---- runs rows -------------------------------------------------------- */

void runner_runs_row(run_ctx *rc, const char *folder, int64_t batch, const char *step,
                     int attempt, const char *state, sl_code c, const sl_err *e,
                     const char *table, int64_t vbefore, int64_t vafter, int64_t rows_in,
                     int64_t rows_out, int64_t started_ms, const char *detail)
{
    run_step s;
    run_step_init(&s);
    s.run_id = rc->run_id;
    s.pipeline = rc->d->name;
    s.folder = (char *)folder;
    s.batch_id = batch;
    s.step = (char *)step;
    s.attempt = attempt;
    s.state = (char *)state;
    s.error_code = c == SL_OK ? NULL : (char *)err_code_name(c);
    s.error_message = c == SL_OK || !e ? NULL : (char *)e->msg;
    s.table_name = (char *)table;
    s.version_before = vbefore;
    s.version_after = vafter;
    s.rows_in = rows_in;
    s.rows_out = rows_out;
    s.started_ms = started_ms;
    s.finished_ms = time_now_ms();
    s.detail = (char *)detail;
    sl_err ignored = {0};
    /* The run table is the record of what happened, not part of the data:
     * a failure to write it is logged, never a reason to undo a step. */
    sl_code rc_append = runs_append(rc->lake, &s, 1, &ignored);
    if (rc_append != SL_OK)
        log_op(rc->o->log, "runs.append", step, rc_append, 0, ignored.msg);
}

/* ---- progress and cancel --------------------------------------------- */

runner_event runner_event_make(runner_event_kind kind)
{
    return (runner_event){.kind = kind,
                          .batch_id = -1,
                          .files_total = -1,
                          .rows_total = -1,
                          .bytes_total = -1,
                          .rows = -1,
                          .bytes = -1,
                          .rows_out = -1,
                          .version = -1};
}

void runner_emit(run_ctx *rc, runner_event *ev)
{
    if (!rc->o->progress)
        return;
    ev->run_id = rc->run_id;
    rc->o->progress(rc->o->progress_ctx, ev);
}

void runner_logf(run_ctx *rc, const char *fmt, ...)
{
    if (!rc->o->progress)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    runner_event ev = runner_event_make(RUNNER_EV_LOG);
    ev.line = line;
    runner_emit(rc, &ev);
}

int runner_cancel_asked(run_ctx *rc)
{
    if (rc->o->cancel && atomic_load(rc->o->cancel) != 0)
        return 1;
    /* From any process: `sluice cancel`, another console (cancel.h). */
    if (rc->lease && cancel_requested(rc->lake, rc->d->name, rc->lease->token)) {
        rc->cancel_from_lake = 1;
        return 1;
    }
    return 0;
}

/* The source seen by the steps when someone watches the run: reads pass
 * through and their bytes are reported as the step's progress (ingest
 * reads its files in chunks, so this is per chunk without touching it). */
typedef struct count_impl {
    store *inner; /* borrowed */
    run_ctx *rc;
} count_impl;

static store *count_inner(store *s)
{
    return ((count_impl *)s->impl)->inner;
}

static sl_code cnt_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    return store_list(count_inner(s), req, out, err);
}

static sl_code cnt_get_range(store *s, const char *key, uint64_t off, uint64_t len,
                             int whole, sl_buf *out, sl_err *err)
{
    count_impl *ci = s->impl;
    sl_code c = whole ? store_get(ci->inner, key, out, err)
                      : store_get_range(ci->inner, key, off, len, out, err);
    run_ctx *rc = ci->rc;
    if (c != SL_OK || !rc->prog.counting)
        return c;
    rc->prog.bytes += (int64_t)out->len;
    runner_event ev = runner_event_make(RUNNER_EV_STEP_PROGRESS);
    ev.folder = rc->prog.folder;
    ev.batch_id = rc->prog.batch;
    ev.step = rc->prog.step;
    ev.attempt = rc->prog.attempt;
    ev.files_total = rc->prog.files_total;
    ev.rows_total = rc->prog.rows_total;
    ev.bytes_total = rc->prog.bytes_total;
    ev.bytes = rc->prog.bytes;
    runner_emit(rc, &ev);
    return c;
}

static sl_code cnt_put(store *s, const char *key, const void *data, size_t len,
                       int if_absent, sl_err *err)
{
    return if_absent ? store_put_if_absent(count_inner(s), key, data, len, err)
                     : store_put(count_inner(s), key, data, len, err);
}

static sl_code cnt_del(store *s, const char *key, sl_err *err)
{
    return store_delete(count_inner(s), key, err);
}

static sl_code cnt_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    return store_stat(count_inner(s), key, out, err);
}

static void cnt_close(store *s)
{
    free(s->impl);
}

static const store_ops COUNT_OPS = {"progress", cnt_list, cnt_get_range, cnt_put,
                                    cnt_del,    cnt_stat, cnt_close};

static store *count_wrap(store *inner, run_ctx *rc)
{
    count_impl *ci = sl_calloc(1, sizeof *ci);
    ci->inner = inner;
    ci->rc = rc;
    store *s = sl_calloc(1, sizeof *s);
    s->ops = &COUNT_OPS;
    s->url = sl_strdup(store_url(inner));
    s->impl = ci;
    return s;
}

/* ---- the steps ------------------------------------------------------- */

static void commit_note(folder_ctx *fc, const char *table, int64_t version)
{
    if (version < 0)
        return;
    json_t *have = json_object_get(fc->commits, table);
    if (!have) {
        json_object_set_new(fc->commits, table, json_integer(version));
        return;
    }
    json_t *all = json_is_array(have) ? json_incref(have) : json_pack("[O]", have);
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v) if (json_integer_value(v) == version)
    {
        json_decref(all);
        return;
    }
    /* kept ascending: rollback restores to before the first */
    for (i = 0;
         i < json_array_size(all) && json_integer_value(json_array_get(all, i)) < version;
         i++)
        ;
    json_array_insert_new(all, i, json_integer(version));
    json_object_set_new(fc->commits, table, all);
}

/* Whether a runs row already names table@version among its commits. */
static int commit_claimed(const run_step *rows, size_t n, const char *table,
                          int64_t version)
{
    for (size_t i = 0; i < n; i++) {
        json_t *d = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
        json_t *v = json_object_get(json_object_get(d, "commits"), table);
        int hit = json_is_integer(v) && json_integer_value(v) == version;
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e) hit |= json_integer_value(e) == version;
        json_decref(d);
        if (hit)
            return 1;
    }
    return 0;
}

/* The tables a step commits to and the txn app each commit carries. */
typedef struct step_table {
    char *table;
    char *app;
} step_table;

static size_t step_tables(const folder_ctx *fc, step_table out[3])
{
    const pipeline_def *d = fc->rc->d;
    size_t n = 0;
    if (strcmp(fc->step, "ingest") == 0) {
        out[n++] = (step_table){sl_strdup(d->bronze.table), pipeline_app_id(d, "bronze")};
        out[n++] =
            (step_table){sl_strdup(d->bronze.table), pipeline_app_id(d, "bronze-schema")};
        out[n++] = (step_table){sl_asprintf("%s_quarantine", d->bronze.table),
                                pipeline_app_id(d, "quarantine")};
    } else if (strcmp(fc->step, "merge") == 0) {
        out[n++] = (step_table){sl_strdup(d->silver.table), pipeline_app_id(d, "silver")};
        out[n++] = (step_table){sl_asprintf("_sluice/tombstones/%s", d->silver.table),
                                pipeline_app_id(d, "tombstones")};
    } else if (strcmp(fc->step, "aggregate") == 0) {
        out[n++] = (step_table){sl_strdup(d->gold.table), pipeline_app_id(d, "gold")};
    }
    return n;
}

/* Commits of this batch that no runs row names: made by an attempt that
 * failed after committing, or by a run killed before it wrote its row.
 * Found in each table's log by the batch's txn, so rollback-run of the
 * run that finishes the batch undoes them too. Only looked for when an
 * earlier attempt or run may have left one (it costs log reads). */
static void commits_recover(folder_ctx *fc)
{
    step_table st[3];
    size_t n = step_tables(fc, st);
    run_step *rows = NULL;
    size_t nrows = 0;
    int loaded = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v = -1;
        sl_err ignored = {0};
        if (delta_txn_commit_find(fc->rc->lake, st[i].table, st[i].app, fc->batch, 64, &v,
                                  &ignored) != SL_OK ||
            v < 0)
            continue;
        json_t *have = json_object_get(fc->commits, st[i].table);
        int noted = json_is_integer(have) && json_integer_value(have) == v;
        size_t k;
        json_t *e;
        json_array_foreach(have, k, e) noted |= json_integer_value(e) == v;
        if (noted)
            continue;
        if (!loaded) {
            loaded = runs_load(fc->rc->lake, fc->rc->d->name, NULL, &rows, &nrows,
                               &ignored) == SL_OK;
            if (!loaded)
                break; /* unknown who owns it: better unattributed than twice */
        }
        if (!commit_claimed(rows, nrows, st[i].table, v))
            commit_note(fc, st[i].table, v);
    }
    if (loaded)
        run_steps_free(rows, nrows);
    for (size_t i = 0; i < n; i++) {
        free(st[i].table);
        free(st[i].app);
    }
}

static sl_code step_ingest(folder_ctx *fc, sl_err *err)
{
    run_ctx *rc = fc->rc;
    if (fc->have_ing)
        ingest_result_clear(&fc->ing);
    ingest_req req = {
        .def = rc->d,
        .source = rc->src,
        .files = (const char *const *)fc->f->data_files,
        .nfiles = fc->f->ndata_files,
        .epoch = fc->f->epoch,
        .batch_id = fc->batch,
        .ingest_time_us = time_now_ms() * 1000,
        .meta = &rc->meta,
    };
    sl_code c = ingest_run(rc->lake, &req, &fc->ing, err);
    fc->have_ing = 1;
    if (c != SL_OK)
        return c;
    fc->skipped = fc->ing.skipped;
    fc->rows_in = fc->ing.skipped ? -1 : fc->ing.rows_read;
    fc->rows_out = fc->ing.skipped ? -1 : fc->ing.rows_written;
    fc->version_after = fc->ing.bronze_version;
    if (!fc->ing.skipped) {
        commit_note(fc, rc->d->bronze.table, fc->ing.evolve_version);
        commit_note(fc, rc->d->bronze.table, fc->ing.bronze_version);
        char *q = sl_asprintf("%s_quarantine", rc->d->bronze.table);
        commit_note(fc, q, fc->ing.quarantine_version);
        free(q);
    }
    /* Before/during checks: the marker's expected rows against what was read. */
    /* The marker counts the whole delivery: with files taken out by an
     * operator (skip-file) it cannot reconcile, so it is not checked. */
    if (!fc->ing.skipped && fc->expected_rows >= 0 && fc->f->nexcluded)
        runner_logf(rc,
                    "folder %s: the marker's row count is not checked (%zu file%s left "
                    "out by skip-file)",
                    fc->f->folder, fc->f->nexcluded, fc->f->nexcluded == 1 ? "" : "s");
    if (!fc->ing.skipped && fc->expected_rows >= 0 && !fc->f->nexcluded) {
        int64_t got = fc->ing.rows_read + fc->ing.malformed;
        int64_t want = fc->expected_rows;
        double pct =
            want ? 100.0 * (double)llabs(got - want) / (double)want : (got ? 100 : 0);
        if (pct > rc->d->checks.max_count_mismatch_pct)
            return err_set(err, SL_CHECK_FAILED,
                           "folder %s: the marker announces %" PRId64 " rows, %" PRId64
                           " were read (%.2f%% off, limit %.2f%%)",
                           fc->f->folder, want, got, pct,
                           rc->d->checks.max_count_mismatch_pct);
    }
    return SL_OK;
}

/* The batch's rows as bronze holds them: files whose _batch_id range can hold
 * the batch (all of them, after an OPTIMIZE mixed batches), rows filtered. */
/* The adds of bronze's commit at version (the batch's): a set of paths, so
 * the batch's files are found without parsing every file's stats. NULL
 * when unknown. */
static json_t *commit_add_paths(run_ctx *rc, int64_t version)
{
    if (version < 0)
        return NULL;
    json_t *actions = NULL;
    sl_err ignored = {0};
    if (delta_commit_read(rc->lake, rc->d->bronze.table, version, &actions, &ignored) !=
        SL_OK)
        return NULL;
    json_t *set = json_object();
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *p =
            json_string_value(json_object_get(json_object_get(a, "add"), "path"));
        if (p)
            json_object_set_new(set, p, json_true());
    }
    json_decref(actions);
    return set;
}

static sl_code batch_rows_read(run_ctx *rc, int64_t batch, int64_t bronze_version,
                               delta_rows *rows, pq_schema_col **cols_out,
                               size_t *ncols_out, sl_err *err)
{
    *cols_out = NULL;
    *ncols_out = 0;
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(rc->lake, rc->d->bronze.table, &latest, &snap, err);
    if (c != SL_OK)
        return c;
    pq_schema_col *cols = NULL;
    size_t ncols = 0;
    c = delta_schema_cols(snap->metadata, &cols, &ncols, err);
    if (c != SL_OK) {
        delta_snapshot_free(snap);
        return c;
    }
    size_t bcol = ncols;
    for (size_t k = 0; k < ncols; k++)
        if (strcmp(cols[k].name, "_batch_id") == 0)
            bcol = k;
    if (bcol == ncols) {
        delta_schema_cols_free(cols, ncols);
        delta_snapshot_free(snap);
        return err_set(err, SL_DELTA_SCHEMA, "bronze table %s has no _batch_id column",
                       rc->d->bronze.table);
    }
    delta_rows all;
    delta_rows_init(&all, cols, ncols);
    delta_rows_init(rows, cols, ncols);
    /* The batch's own commit names its files; after a crash (ingest skipped)
     * the files whose _batch_id range can hold the batch are read instead. */
    json_t *paths = commit_add_paths(rc, bronze_version);
    for (size_t i = 0; c == SL_OK && i < snap->nfiles; i++) {
        int may_hold;
        if (paths) {
            may_hold = json_object_get(paths, snap->files[i].path) != NULL;
        } else {
            json_t *mn, *mx;
            delta_file_col_range(&snap->files[i], "_batch_id", &mn, &mx);
            may_hold =
                !mn || !mx ||
                (json_integer_value(mn) <= batch && batch <= json_integer_value(mx));
            json_decref(mn);
            json_decref(mx);
        }
        if (!may_hold)
            continue;
        size_t first = all.nrows;
        c = delta_rows_read_file(rc->lake, rc->d->bronze.table, &snap->files[i], cols,
                                 ncols, &all, err);
        for (size_t r = first; c == SL_OK && r < all.nrows; r++) {
            const pq_value *v = &all.cells[r * ncols + bcol];
            if (!v->is_null && v->i64 == batch)
                delta_rows_copy_row(rows, &all, r);
        }
    }
    json_decref(paths);
    delta_rows_free(&all);
    delta_snapshot_free(snap);
    if (c != SL_OK) {
        delta_rows_free(rows);
        delta_schema_cols_free(cols, ncols);
        return c;
    }
    *cols_out = cols;
    *ncols_out = ncols;
    return SL_OK;
}

static sl_code step_merge(folder_ctx *fc, sl_err *err)
{
    run_ctx *rc = fc->rc;
    if (fc->have_merge)
        merge_result_clear(&fc->mg);
    fc->have_merge = 0;
    delta_rows batch;
    pq_schema_col *cols;
    size_t ncols;
    int64_t bronze_version =
        fc->have_ing && !fc->ing.skipped ? fc->ing.bronze_version : -1;
    sl_code c =
        batch_rows_read(rc, fc->batch, bronze_version, &batch, &cols, &ncols, err);
    if (c != SL_OK)
        return c;
    merge_req req = {
        .silver_snap = &rc->silver_warm,
        .tomb_snap = &rc->tomb_warm,
        .changed_files = fc->changed_files,
        .nchanged_files = fc->nchanged_files,
        .def = rc->d,
        .batch = &batch,
        .batch_cols = cols,
        .nbatch_cols = ncols,
        .batch_id = fc->batch,
        .meta = &rc->meta,
    };
    c = merge_run(rc->lake, &req, &fc->mg, err);
    fc->have_merge = c == SL_OK;
    if (c == SL_OK) {
        fc->skipped = fc->mg.skipped;
        fc->rows_in = fc->mg.rows_in;
        fc->rows_out = fc->mg.skipped ? -1 : fc->mg.upserts + fc->mg.deletes;
        fc->version_after = fc->mg.silver_version;
        if (!fc->mg.skipped) {
            commit_note(fc, rc->d->silver.table, fc->mg.silver_version);
            char *t = sl_asprintf("_sluice/tombstones/%s", rc->d->silver.table);
            commit_note(fc, t, fc->mg.tombstones_version);
            free(t);
        }
    }
    delta_rows_free(&batch);
    delta_schema_cols_free(cols, ncols);
    return c;
}

static sl_code step_aggregate(folder_ctx *fc, sl_err *err)
{
    run_ctx *rc = fc->rc;
    /* After a crash between silver and gold, merge is skipped and does not
     * know which groups it touched: gold is then recomputed whole. */
    int whole = !fc->have_merge || fc->mg.skipped;
    aggregate_req req = {
        .def = rc->d,
        .before = whole ? NULL : &fc->mg.before,
        .after = whole ? NULL : &fc->mg.after,
        .batch_id = fc->batch,
        .meta = &rc->meta,
    };
    sl_code c = aggregate_run(rc->lake, &req, &fc->ag, err);
    fc->have_ag = c == SL_OK;
    if (c != SL_OK)
        return c;
    fc->skipped = fc->ag.skipped;
    fc->rows_out = (int64_t)fc->ag.groups_touched;
    fc->version_after = fc->ag.gold_version;
    if (!fc->ag.skipped)
        commit_note(fc, rc->d->gold.table, fc->ag.gold_version);
    /* The after check: gold for the touched groups equals silver's truth. */
    return aggregate_check(rc->lake, rc->d, whole ? NULL : &req, err);
}

/* What a step expects to go through, for progress bars: ingest the
 * folder's files, bytes and the marker's rows; merge the rows ingest wrote. */
static void step_totals(const folder_ctx *fc, runner_event *ev)
{
    if (strcmp(fc->step, "ingest") == 0) {
        ev->files_total = (int64_t)fc->f->ndata_files;
        ev->bytes_total = (int64_t)fc->f->bytes;
        ev->rows_total = fc->expected_rows;
    } else if (strcmp(fc->step, "merge") == 0 && fc->have_ing && !fc->ing.skipped) {
        ev->rows_total = fc->ing.rows_written;
    }
}

static void step_started_event(folder_ctx *fc, int attempt)
{
    run_ctx *rc = fc->rc;
    if (!rc->o->progress)
        return;
    runner_event ev = runner_event_make(RUNNER_EV_STEP_STARTED);
    ev.folder = fc->f->folder;
    ev.batch_id = fc->batch;
    ev.step = fc->step;
    ev.table = fc->table;
    ev.attempt = attempt;
    step_totals(fc, &ev);
    char line[256];
    if (attempt > 1)
        snprintf(line, sizeof line, "%s: %s started (attempt %d)", fc->f->folder,
                 fc->step, attempt);
    else
        snprintf(line, sizeof line, "%s: %s started", fc->f->folder, fc->step);
    ev.line = line;
    /* ingest's source reads are its progress */
    rc->prog.folder = fc->f->folder;
    rc->prog.step = fc->step;
    rc->prog.batch = fc->batch;
    rc->prog.attempt = attempt;
    rc->prog.files_total = ev.files_total;
    rc->prog.rows_total = ev.rows_total;
    rc->prog.bytes_total = ev.bytes_total;
    rc->prog.bytes = 0;
    rc->prog.counting = strcmp(fc->step, "ingest") == 0;
    runner_emit(rc, &ev);
}

static void step_finished_event(folder_ctx *fc, int attempt, const char *state, sl_code c,
                                const sl_err *e, int64_t delay_ms)
{
    run_ctx *rc = fc->rc;
    rc->prog.counting = 0;
    if (!rc->o->progress)
        return;
    runner_event ev = runner_event_make(RUNNER_EV_STEP_FINISHED);
    ev.folder = fc->f->folder;
    ev.batch_id = fc->batch;
    ev.step = fc->step;
    ev.table = fc->table;
    ev.attempt = attempt;
    ev.state = state;
    step_totals(fc, &ev);
    ev.code = c;
    ev.message = c != SL_OK && e ? e->msg : NULL;
    if (c == SL_OK) {
        ev.rows = fc->rows_in;
        ev.rows_out = fc->rows_out;
        ev.version = fc->version_after;
    }
    if (strcmp(fc->step, "ingest") == 0)
        ev.bytes = rc->prog.bytes;
    char line[768];
    if (c == SL_OK && fc->skipped)
        snprintf(line, sizeof line, "%s: %s skipped (batch %lld already in %s)",
                 fc->f->folder, fc->step, (long long)fc->batch, fc->table);
    else if (c == SL_OK && fc->rows_in >= 0)
        snprintf(line, sizeof line, "%s: %s succeeded: %lld rows in, %lld out, %s v%lld",
                 fc->f->folder, fc->step, (long long)fc->rows_in, (long long)fc->rows_out,
                 fc->table, (long long)fc->version_after);
    else if (c == SL_OK)
        snprintf(line, sizeof line, "%s: %s succeeded: %lld rows out, %s v%lld",
                 fc->f->folder, fc->step, (long long)fc->rows_out, fc->table,
                 (long long)fc->version_after);
    else if (delay_ms >= 0)
        snprintf(line, sizeof line,
                 "%s: %s attempt %d failed (%s: %.400s); retrying in %lld ms",
                 fc->f->folder, fc->step, attempt, err_code_name(c), e ? e->msg : "",
                 (long long)delay_ms);
    else
        snprintf(line, sizeof line, "%s: %s failed after %d attempt%s: %s: %.400s",
                 fc->f->folder, fc->step, attempt, attempt == 1 ? "" : "s",
                 err_code_name(c), e ? e->msg : "");
    ev.line = line;
    runner_emit(rc, &ev);
}

static void on_attempt(void *ctx, int attempt, sl_code c, const sl_err *e,
                       int64_t delay_ms)
{
    folder_ctx *fc = ctx;
    run_ctx *rc = fc->rc;
    fc->attempts = attempt;
    const char *state = c == SL_OK      ? (fc->skipped ? "skipped" : "succeeded")
                        : delay_ms >= 0 ? "retrying"
                                        : "failed";
    /* The detail says what to undo (rollback-run) or when the next try is. */
    json_t *d = json_object();
    if (delay_ms >= 0)
        json_object_set_new(d, "retry_in_ms", json_integer(delay_ms));
    if (c != SL_OK || attempt > 1 || fc->recovered)
        commits_recover(fc);
    if (json_object_size(fc->commits))
        json_object_set(d, "commits", fc->commits);
    char *detail =
        json_object_size(d) ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    runner_runs_row(rc, fc->f->folder, fc->batch, fc->step, attempt, state, c, e,
                    fc->table, fc->version_before, c == SL_OK ? fc->version_after : -1,
                    c == SL_OK ? fc->rows_in : -1, c == SL_OK ? fc->rows_out : -1,
                    fc->step_started_ms, detail);
    free(detail);
    step_finished_event(fc, attempt, state, c, e, delay_ms);
    fc->step_started_ms = time_now_ms();
}

static sl_code attempt_fn(void *ctx, int attempt, sl_err *err)
{
    folder_ctx *fc = ctx;
    fc->skipped = 0;
    fc->rows_in = fc->rows_out = fc->version_after = -1;
    json_object_clear(fc->commits);
    step_started_event(fc, attempt);
    sl_code c = fc->fn(fc, err);
    fc->rc->prog.counting = 0;
    return c;
}

static sl_code lease_renew_once(void *arg, sl_err *err)
{
    run_ctx *rc = arg;
    return lease_renew(rc->lake, rc->lease, time_now_ms(), rc->ttl_ms, err);
}

sl_code runner_lease_keep(run_ctx *rc, sl_err *err)
{
    if (!rc->lease)
        return SL_OK;
    return runner_with_retries(rc, lease_renew_once, rc, err);
}

/* Runs one step with retries; records it in the report. */
/* The operator asked to stop: this step does not start. The folder keeps
 * its "running" state and batch id (resumable), the step gets a runs row
 * "cancelled" (attempt 0: none was made). */
static sl_code step_cancelled(folder_ctx *fc, const char *step, const char *table,
                              sl_err *err)
{
    run_ctx *rc = fc->rc;
    int64_t now = time_now_ms();
    sl_code c = err_set(err, SL_RUN_CANCELLED,
                        "run %s stopped by the operator before %s of folder %s; the "
                        "folder stays running (batch %lld) and the next run resumes it",
                        rc->run_id, step, fc->f->folder, (long long)fc->batch);
    runner_runs_row(rc, fc->f->folder, fc->batch, step, 0, "cancelled", c, err, table, -1,
                    -1, -1, -1, now, NULL);
    json_array_append_new(fc->steps,
                          json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:s}", "step", step,
                                    "state", "cancelled", "attempts", 0, "version",
                                    (json_int_t)-1, "rows_in", (json_int_t)-1, "rows_out",
                                    (json_int_t)-1, "error_code", err_code_name(c)));
    runner_event ev = runner_event_make(RUNNER_EV_STEP_FINISHED);
    ev.folder = fc->f->folder;
    ev.batch_id = fc->batch;
    ev.step = step;
    ev.table = table;
    ev.state = "cancelled";
    ev.code = c;
    ev.message = err->msg;
    char line[256];
    snprintf(line, sizeof line, "%s: %s cancelled before it started", fc->f->folder,
             step);
    ev.line = line;
    runner_emit(rc, &ev);
    return c;
}

static sl_code step_run(folder_ctx *fc, const char *step, const char *table,
                        sl_code (*fn)(folder_ctx *, sl_err *), sl_err *err)
{
    run_ctx *rc = fc->rc;
    if (runner_cancel_asked(rc))
        return step_cancelled(fc, step, table, err);
    sl_code c = runner_lease_keep(rc, err);
    if (c != SL_OK)
        return c;
    fc->step = step;
    fc->table = table;
    fc->fn = fn;
    fc->version_before = table ? table_version(rc->lake, table) : -1;
    fc->step_started_ms = time_now_ms();
    c = retry_run(&rc->rp, attempt_fn, fc, on_attempt, err);
    json_t *s = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "step", step, "state",
                          c != SL_OK    ? "failed"
                          : fc->skipped ? "skipped"
                                        : "succeeded",
                          "attempts", fc->attempts, "version",
                          (json_int_t)(c == SL_OK ? fc->version_after : -1), "rows_in",
                          (json_int_t)fc->rows_in, "rows_out", (json_int_t)fc->rows_out);
    if (c != SL_OK)
        json_object_set_new(s, "error_code", json_string(err_code_name(c)));
    json_array_append_new(fc->steps, s);
    if (c == SL_OK && table && fc->version_after >= 0)
        json_object_set_new(fc->versions, step, json_integer(fc->version_after));
    return c;
}

/* ---- one folder ------------------------------------------------------ */

typedef struct record_call {
    run_ctx *rc;
    const ckpt_entry *row;
    const char *app_step;
    int64_t batch;
} record_call;

static sl_code record_once(void *arg, sl_err *err)
{
    record_call *c = arg;
    return ckpt_record(c->rc->lake, c->rc->d->name, c->row, 1, c->app_step, c->batch,
                       &c->rc->meta, NULL, NULL, err);
}

static sl_code record_state(run_ctx *rc, folder_ctx *fc, const char *state, sl_code code,
                            const sl_err *e, const char *app_step, sl_err *err)
{
    ckpt_entry row;
    ckpt_entry_init(&row);
    row.folder = fc->f->folder;
    row.epoch = fc->f->epoch;
    row.state = (char *)state;
    row.batch_id = fc->batch;
    row.run_id = rc->run_id;
    row.files = (int64_t)fc->f->files;
    row.bytes = (int64_t)fc->f->bytes;
    if (fc->have_ing && !fc->ing.skipped) {
        row.rows_read = fc->ing.rows_read;
        row.rows_bronze = fc->ing.rows_written;
        row.rows_quarantined = fc->ing.rows_quarantined;
        row.rows_dropped = fc->ing.rows_dropped;
    }
    if (fc->have_merge && !fc->mg.skipped)
        row.rows_silver = fc->mg.upserts + fc->mg.deletes;
    if (fc->have_ag && !fc->ag.skipped)
        row.rows_gold = (int64_t)fc->ag.groups_touched;
    char *versions = json_dumps(fc->versions, JSON_COMPACT | JSON_SORT_KEYS);
    row.versions = versions;
    row.error_code = code == SL_OK ? NULL : (char *)err_code_name(code);
    row.message = code == SL_OK || !e ? NULL : (char *)e->msg;
    row.operator_name = (char *)rc->meta.operator_name;
    row.detail = (char *)fc->manifest;
    row.finished_ms = strcmp(state, "running") ? time_now_ms() : -1;
    record_call call = {rc, &row, app_step, fc->batch};
    sl_code c = runner_with_retries(rc, record_once, &call, err);
    free(versions);
    return c;
}

typedef struct srcfiles_call {
    run_ctx *rc;
    const files_batch *fb;
    int64_t batch;
} srcfiles_call;

static sl_code srcfiles_once(void *arg, sl_err *err)
{
    srcfiles_call *c = arg;
    return srcfiles_record(c->rc->lake, c->rc->d->name, c->fb->rows, c->fb->nrows,
                           c->batch, &c->rc->meta, err);
}

static void folder_started_event(folder_ctx *fc)
{
    runner_event ev = runner_event_make(RUNNER_EV_FOLDER_STARTED);
    ev.folder = fc->f->folder;
    ev.batch_id = fc->batch;
    ev.files_total = (int64_t)fc->f->ndata_files;
    ev.bytes_total = (int64_t)fc->f->bytes;
    ev.rows_total = fc->expected_rows;
    char line[256];
    snprintf(line, sizeof line, "%s: %s batch %lld, %zu files, %llu bytes", fc->f->folder,
             fc->recovered ? "resuming" : "starting", (long long)fc->batch,
             fc->f->ndata_files, (unsigned long long)fc->f->bytes);
    ev.line = line;
    runner_emit(fc->rc, &ev);
}

static void folder_finished_event(folder_ctx *fc, const char *state, sl_code c,
                                  const sl_err *e)
{
    runner_event ev = runner_event_make(RUNNER_EV_FOLDER_FINISHED);
    ev.folder = fc->f->folder;
    ev.batch_id = fc->batch;
    ev.state = state;
    ev.code = c;
    ev.message = c != SL_OK ? e->msg : NULL;
    char line[256];
    if (c == SL_RUN_CANCELLED)
        snprintf(line, sizeof line, "%s: stopped, left running (batch %lld, resumable)",
                 fc->f->folder, (long long)fc->batch);
    else
        snprintf(line, sizeof line, "%s: %s", fc->f->folder, state);
    ev.line = line;
    runner_emit(fc->rc, &ev);
}

sl_code runner_folder_run(run_ctx *rc, const pl_folder *f, int64_t batch, int recovered,
                          const files_batch *fb, json_t **report_out, sl_err *err)
{
    folder_ctx fc = {.rc = rc, .f = f, .batch = batch, .recovered = recovered};
    /* The marker's row count is read for the folders a run takes, not for
     * every pending one at discovery (a GET each on S3). */
    fc.expected_rows = f->expected_rows;
    if (!f->marker_checked && f->has_marker && rc->d->source.ready_marker) {
        sl_err ignored = {0};
        if (discover_marker_rows(rc->src, rc->d, f->folder, &fc.expected_rows,
                                 &ignored) != SL_OK)
            fc.expected_rows = -1;
    }
    /* An epoch folder's exclusions (skip-file) go on with its rows, so a
     * resumed run leaves the same files out. */
    fc.manifest = f->excluded_detail;
    if (fb) {
        fc.manifest = fb->manifest;
        fc.changed_files = fb->changed;
        fc.nchanged_files = fb->nchanged;
    }
    fc.steps = json_array();
    fc.versions = json_object();
    fc.commits = json_object();
    folder_started_event(&fc);
    const char *until = rc->o->until_step;
    sl_code c = SL_OK;
    if (!recovered)
        c = record_state(rc, &fc, "running", SL_OK, NULL, NULL, err);
    if (c == SL_OK)
        c = step_run(&fc, "ingest", rc->d->bronze.table, step_ingest, err);
    int stop = until && strcmp(until, "ingest") == 0;
    if (c == SL_OK && !stop && rc->d->silver.table) {
        c = step_run(&fc, "merge", rc->d->silver.table, step_merge, err);
        stop = until && strcmp(until, "merge") == 0;
        if (c == SL_OK && !stop && rc->d->gold.table) {
            c = step_run(&fc, "aggregate", rc->d->gold.table, step_aggregate, err);
            stop = until && strcmp(until, "aggregate") == 0;
        }
    }
    /* A cancelled folder stays as it stands: running, resumable. */
    int cancelled = c == SL_RUN_CANCELLED;
    const char *state = cancelled    ? "running"
                        : c != SL_OK ? "failed"
                        : stop       ? "running"
                                     : "processed";
    if (c != SL_OK && !cancelled) {
        sl_err rec = {0};
        sl_err failure = *err;
        sl_code rc2 = record_state(rc, &fc, "failed", c, &failure, NULL, &rec);
        if (rc2 != SL_OK)
            log_op(rc->o->log, "checkpoint.record", f->folder, rc2, 0, rec.msg);
    } else if (!stop && !cancelled) {
        int64_t started = time_now_ms();
        c = runner_lease_keep(rc, err);
        /* Files layout: what was loaded is remembered before the batch is
         * marked done (its own txn makes it once-only). */
        srcfiles_call sc = {rc, fb, batch};
        if (c == SL_OK && fb)
            c = runner_with_retries(rc, srcfiles_once, &sc, err);
        if (c == SL_OK)
            c = record_state(rc, &fc, "processed", SL_OK, NULL, "done", err);
        runner_runs_row(rc, f->folder, batch, "mark", 1,
                        c == SL_OK ? "succeeded" : "failed", c, err, CKPT_TABLE_KEY, -1,
                        -1, -1, -1, started, NULL);
        if (c != SL_OK)
            state = "failed";
    }
    json_t *rep = json_pack("{s:s, s:I, s:s, s:b, s:o, s:O}", "folder", f->folder,
                            "batch_id", (json_int_t)batch, "state", state, "recovered",
                            recovered, "steps", fc.steps, "versions", fc.versions);
    if (c != SL_OK)
        json_object_set_new(rep, "error",
                            json_pack("{s:s, s:s, s:s}", "code", err_code_name(c),
                                      "message", err->msg, "hint", err_code_hint(c)));
    *report_out = rep;
    folder_finished_event(&fc, state, c, err);
    json_decref(fc.versions);
    json_decref(fc.commits);
    if (fc.have_ing)
        ingest_result_clear(&fc.ing);
    if (fc.have_merge)
        merge_result_clear(&fc.mg);
    return c;
}

/* ---- the run --------------------------------------------------------- */

static sl_code stores_open(run_ctx *rc, sl_err *err)
{
    const runner_opts *o = rc->o;
    rc->lake = o->lake;
    rc->src = o->source;
    sl_code c = SL_OK;
    if (!rc->lake) {
        if (!rc->d->lake_url)
            return err_set(err, SL_PIPELINE_INVALID, "pipeline %s has no lake",
                           rc->d->name);
        c = store_open(rc->d->lake_url, &rc->own_lake, err);
        rc->lake = rc->own_lake;
    }
    if (c == SL_OK && !rc->src) {
        c = store_open(rc->d->source.url, &rc->own_src, err);
        rc->src = rc->own_src;
    }
    if (c == SL_OK && o->log) {
        store_set_log(rc->lake, o->log);
        store_set_log(rc->src, o->log);
    }
    /* Every request is retried on transient faults before a step sees it
     * (as S3 clients do); the step-level retries come on top. */
    store_retry_opts ro = {
        .seed = o->seed, .sleep_ms = o->sleep_ms, .sleep_ctx = o->sleep_ctx};
    if (c == SL_OK)
        c = store_retry_wrap(rc->lake, &ro, rc->own_lake == NULL, &rc->retry_lake, err);
    if (c == SL_OK) {
        rc->own_lake = NULL; /* the wrapper owns it now, when we did */
        rc->lake = rc->retry_lake;
        c = store_retry_wrap(rc->src, &ro, rc->own_src == NULL, &rc->retry_src, err);
    }
    if (c == SL_OK) {
        rc->own_src = NULL;
        rc->src = rc->retry_src;
        if (o->progress)
            rc->src = rc->count_src = count_wrap(rc->retry_src, rc);
    }
    return c;
}

/* The operator asked to stop between folders: folder f does not start (a
 * runs row "cancelled" for its first step says so; batch -1 unless it was
 * already running). */
static sl_code folder_cancelled(run_ctx *rc, const pl_folder *f, int64_t batch,
                                sl_err *err)
{
    sl_code c =
        err_set(err, SL_RUN_CANCELLED, "run %s stopped by the operator before folder %s",
                rc->run_id, f->folder);
    runner_runs_row(rc, f->folder, batch, "ingest", 0, "cancelled", c, err,
                    rc->d->bronze.table, -1, -1, -1, -1, time_now_ms(), NULL);
    runner_event ev = runner_event_make(RUNNER_EV_STEP_FINISHED);
    ev.folder = f->folder;
    ev.batch_id = batch;
    ev.step = "ingest";
    ev.table = rc->d->bronze.table;
    ev.state = "cancelled";
    ev.code = c;
    ev.message = err->msg;
    char line[256];
    snprintf(line, sizeof line, "%s: not started (run cancelled)", f->folder);
    ev.line = line;
    runner_emit(rc, &ev);
    return c;
}

/* The checkpoint and the source's listing, read together (retried as one). */
typedef struct discover_call {
    run_ctx *rc;
    ckpt_view *view;
    pl_discovery *dsc;
    pl_known **known;
} discover_call;

static sl_code discover_once(void *arg, sl_err *err)
{
    discover_call *c = arg;
    ckpt_view_free(c->view);
    pl_discovery_free(c->dsc);
    free(*c->known);
    *c->known = NULL;
    sl_code rc = ckpt_load(c->rc->lake, c->rc->d->name, c->view, err);
    if (rc != SL_OK)
        return rc;
    *c->known = ckpt_view_known(c->view);
    /* Processed folders are known by name alone (discovery.h): the runner
     * needs the objects of the folders it may take, not of every folder. */
    pl_discover_opts dopt = {
        .now_ms = time_now_ms(), .max_marker_reads = (size_t)-1, .done_by_name = 1};
    return discover_epochs(c->rc->src, c->rc->d, *c->known, c->view->n, &dopt, c->dsc,
                           err);
}

static sl_code acquire(run_ctx *rc, runner_result *out, sl_err *err)
{
    char owner[160];
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(owner, sizeof owner, "%s@%s run %s",
             rc->meta.operator_name ? rc->meta.operator_name : "?", host, rc->run_id);
    lease_holder holder;
    memset(&holder, 0, sizeof holder);
    sl_code c = SL_OK;
    for (int attempt = 1;; attempt++) { /* a store fault here is retried like a step's */
        c = lease_acquire(rc->lake, rc->d->name, owner, time_now_ms(), rc->ttl_ms,
                          &rc->lease, &holder, err);
        if (!err_is_transient(c) || attempt >= rc->rp.max_attempts)
            break;
        if (rc->rp.sleep_ms)
            rc->rp.sleep_ms(rc->rp.sleep_ctx, retry_delay_ms(&rc->rp, attempt, NULL));
    }
    if (c == SL_LEASE_HELD)
        json_object_set_new(out->report, "lease", lease_holder_json(&holder));
    /* Taking over an expired lease is reported, so the audit row of the run
     * says whose lease it was. */
    if (c == SL_OK && rc->lease->took_over)
        json_object_set_new(out->report, "lease_taken_over",
                            lease_holder_json(&rc->lease->previous));
    return c;
}

void runner_result_clear(runner_result *r)
{
    json_decref(r->report);
    memset(r, 0, sizeof *r);
}

sl_code runner_run(const pipeline_def *d, const runner_opts *o, runner_result *out,
                   sl_err *err)
{
    memset(out, 0, sizeof *out);
    run_ctx rc = {.d = d, .o = o};
    if (o->run_id)
        snprintf(rc.run_id, sizeof rc.run_id, "%s", o->run_id);
    else
        ids_random_hex(rc.run_id, 8);
    snprintf(out->run_id, sizeof out->run_id, "%s", rc.run_id);
    rc.ttl_ms = o->lease_ttl_ms > 0 ? o->lease_ttl_ms : DEFAULT_LEASE_TTL_MS;
    retry_policy_from_def(&rc.rp, d, o->seed);
    rc.rp.sleep_ms = o->sleep_ms;
    rc.rp.sleep_ctx = o->sleep_ctx;
    rc.meta.operator_name = o->operator_name;
    rc.meta.run_id = rc.run_id;
    rc.meta.audit_event_id = o->audit_event_id;
    rc.folders = json_array();
    out->report = json_pack("{s:s, s:s, s:b, s:O}", "run_id", rc.run_id, "pipeline",
                            d->name, "dry_run", o->dry_run, "folders", rc.folders);

    ckpt_view view = {0};
    pl_discovery dsc = {0};
    pl_known *known = NULL;
    int64_t next_batch = -1, first_batch = -1, last_batch = -1;
    size_t done = 0;
    int64_t run_started_ms = time_now_ms();
    sl_code c = stores_open(&rc, err);
    if (c == SL_OK && !o->dry_run)
        c = acquire(&rc, out, err);
    if (c == SL_OK && d->source.layout == PL_LAYOUT_FILES) {
        c = runner_files_run(&rc, out, &first_batch, err);
        last_batch = first_batch;
        goto finish;
    }

    int64_t t0 = time_now_ms();
    discover_call dc = {&rc, &view, &dsc, &known};
    if (c == SL_OK)
        c = runner_with_retries(&rc, discover_once, &dc, err);
    /* The "before" checks: how far behind the checkpoint is, late folders,
     * folders skipped over by an operator; recorded with the run. */
    char *before = NULL;
    if (c == SL_OK) {
        int64_t oldest_pending = -1, newest = -1;
        size_t skipped = 0;
        for (size_t i = 0; i < dsc.n; i++) {
            if (dsc.folders[i].epoch > newest)
                newest = dsc.folders[i].epoch;
            if (strcmp(dsc.folders[i].state, "pending") == 0 && oldest_pending < 0)
                oldest_pending = dsc.folders[i].epoch;
            skipped += strcmp(dsc.folders[i].state, "skipped") == 0;
        }
        json_t *checks = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I}", "newest_epoch", (json_int_t)newest,
            "newest_processed_epoch", (json_int_t)dsc.newest_processed_epoch,
            "lag_seconds",
            (json_int_t)(oldest_pending >= 0 ? time_now_ms() / 1000 - oldest_pending : 0),
            "pending", (json_int_t)dsc.npending, "late", (json_int_t)dsc.nlate,
            "skipped_over", (json_int_t)skipped);
        before = json_dumps(checks, JSON_COMPACT | JSON_SORT_KEYS);
        json_object_set_new(out->report, "checks_before", checks);
    }
    if (c == SL_OK)
        runner_logf(&rc, "run %s: %zu folders listed, %zu pending, %zu late", rc.run_id,
                    dsc.n, dsc.npending, dsc.nlate);
    if (!o->dry_run && c != SL_LEASE_HELD)
        runner_runs_row(&rc, NULL, -1, "discover", 1, c == SL_OK ? "succeeded" : "failed",
                        c, err, NULL, -1, -1, c == SL_OK ? (int64_t)dsc.n : -1,
                        c == SL_OK ? (int64_t)dsc.npending : -1, t0, before);
    free(before);

    next_batch = view.max_batch_id + 1;
    for (size_t i = 0; c == SL_OK && i < dsc.n; i++) {
        const pl_folder *f = &dsc.folders[i];
        if (strcmp(f->state, "waiting") == 0) {
            out->waiting++;
            continue;
        }
        if (o->folder && strcmp(o->folder, f->folder) != 0)
            continue;
        const ckpt_entry *e = ckpt_find(&view, f->folder);
        int resumable =
            e && e->batch_id >= 0 &&
            (strcmp(e->state, "running") == 0 || strcmp(e->state, "failed") == 0);
        int runnable = strcmp(f->state, "pending") == 0 ||
                       strcmp(f->state, "running") == 0 ||
                       (o->folder && strcmp(f->state, "failed") == 0);
        if (!runnable) {
            /* Strict sequencing: a failed folder holds back every later one. */
            if (strcmp(f->state, "failed") == 0) {
                c = err_set(err, SL_CHECK_FAILED,
                            "folder %s failed earlier (run %s); retry or skip it before "
                            "later folders run",
                            f->folder, e && e->run_id ? e->run_id : "?");
                json_object_set_new(out->report, "blocked_by", json_string(f->folder));
            }
            continue;
        }
        if (o->max_folders && done >= o->max_folders) {
            out->pending_left++;
            continue;
        }
        int64_t batch = resumable ? e->batch_id : next_batch++;
        int recovered = resumable && strcmp(e->state, "running") == 0;
        if (o->dry_run) {
            json_array_append_new(rc.folders,
                                  json_pack("{s:s, s:I, s:s, s:b, s:I}", "folder",
                                            f->folder, "batch_id", (json_int_t)batch,
                                            "state", "planned", "recovered", recovered,
                                            "files", (json_int_t)f->ndata_files));
            done++;
            continue;
        }
        if (runner_cancel_asked(&rc)) {
            c = folder_cancelled(&rc, f, resumable ? batch : -1, err);
            break;
        }
        json_t *rep = NULL;
        c = runner_folder_run(&rc, f, batch, recovered || (resumable && !recovered), NULL,
                              &rep, err);
        json_array_append_new(rc.folders, rep);
        if (c == SL_OK) {
            out->processed++;
            out->recovered += recovered;
            if (first_batch < 0)
                first_batch = batch;
            last_batch = batch;
        } else if (c != SL_RUN_CANCELLED) {
            out->failed = 1;
        }
        done++;
    }
    /* Pending folders left behind by a stop. */
    for (size_t i = 0; c != SL_OK && i < dsc.n; i++)
        if (strcmp(dsc.folders[i].state, "pending") == 0)
            out->pending_left++;
finish:
    out->cancelled = c == SL_RUN_CANCELLED;
    if (rc.cancel_from_lake)
        cancel_clear(rc.lake, rc.d->name); /* honoured: the next run must not see it */
    if (out->cancelled) {
        json_object_set_new(out->report, "cancelled", json_true());
        runner_logf(&rc, "run %s stopped by the operator: %zu folders processed",
                    rc.run_id, out->processed);
    } else if (!o->dry_run && c == SL_OK) {
        runner_logf(&rc, "run %s finished: %zu folders processed", rc.run_id,
                    out->processed);
    } else if (!o->dry_run) {
        runner_logf(&rc, "run %s stopped: %s", rc.run_id, err_code_name(c));
    }
    if (c == SL_OK && !o->dry_run && last_batch >= 0)
        runner_maintenance(&rc, first_batch, last_batch);
    if (c == SL_OK && !o->dry_run)
        runner_schedule_check(&rc, out, run_started_ms);
    json_object_set_new(out->report, "processed",
                        json_integer((json_int_t)out->processed));
    json_object_set_new(out->report, "waiting", json_integer((json_int_t)out->waiting));
    json_object_set_new(out->report, "pending_left",
                        json_integer((json_int_t)out->pending_left));
    if (rc.lease) {
        sl_err ignored = {0};
        lease_release(rc.lake, rc.lease, &ignored);
        lease_free(rc.lease);
    }
    free(known);
    pl_discovery_free(&dsc);
    ckpt_view_free(&view);
    json_decref(rc.folders);
    delta_snapshot_free(rc.silver_warm);
    delta_snapshot_free(rc.tomb_warm);
    store_close(rc.count_src);
    store_close(rc.retry_lake);
    store_close(rc.retry_src);
    store_close(rc.own_lake);
    store_close(rc.own_src);
    return c;
}
