/* Pipeline status: folder states, lease, lag, runs per run, and the
 * Overview's today counts, sparkline and alerts (see status.h). */
#include "backend/pipeline/status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define DAY_MS (24LL * 3600 * 1000)

const char *const pl_state_names[PL_NSTATES] = {"pending",   "waiting", "running",
                                                "processed", "failed",  "skipped"};

/* ---- folder states ---------------------------------------------------- */

void pl_states_free(pl_states *ps)
{
    free(ps->known);
    pl_discovery_free(&ps->dsc);
    ckpt_view_free(&ps->v);
    store_close(ps->src);
    store_close(ps->lake);
    memset(ps, 0, sizeof *ps);
}

sl_code pl_states_load(const pipeline_def *d, sl_log *log, int64_t now_ms, pl_states *ps,
                       sl_err *err)
{
    memset(ps, 0, sizeof *ps);
    sl_code c = store_open(d->lake_url, &ps->lake, err);
    if (c == SL_OK) {
        store_set_log(ps->lake, log);
        c = store_open(d->source.url, &ps->src, err);
    }
    if (c == SL_OK)
        c = ckpt_load(ps->lake, d->name, &ps->v, err);
    if (c == SL_OK) {
        ps->known = ckpt_view_known(&ps->v);
        pl_discover_opts o = {.now_ms = now_ms, .max_marker_reads = (size_t)-1};
        c = discover_epochs(ps->src, d, ps->known, ps->v.n, &o, &ps->dsc, err);
    }
    return c;
}

/* ---- sluice status ---------------------------------------------------- */

void pl_status_compute(const pipeline_def *d, const pl_states *ps, int64_t now_ms,
                       pl_status *out)
{
    memset(out, 0, sizeof *out);
    out->pipeline = d->name;
    out->oldest_pending_epoch = -1;
    const pl_discovery *dsc = &ps->dsc;
    for (size_t k = 0; k < dsc->n; k++)
        for (int s = 0; s < PL_NSTATES; s++)
            if (strcmp(dsc->folders[k].state, pl_state_names[s]) == 0) {
                out->counts[s]++;
                if (s == PL_PENDING && out->oldest_pending_epoch < 0)
                    out->oldest_pending_epoch = dsc->folders[k].epoch;
            }
    out->lag_seconds =
        out->oldest_pending_epoch >= 0 ? now_ms / 1000 - out->oldest_pending_epoch : 0;
    int exists = 0;
    sl_err lerr = {0};
    if (lease_read(ps->lake, d->name, &out->lease, &exists, &lerr) != SL_OK)
        exists = 0;
    /* A released lease, or one its (crashed) holder let expire, is free. */
    if (exists && !out->lease.released) {
        if (out->lease.expires_ms <= now_ms)
            out->lease_stale = 1;
        else
            out->lease_held = 1;
    }
    out->health = out->counts[PL_FAILED] ? "failed"
                  : out->lease_held      ? "running"
                                         : "healthy";
}

json_t *pl_status_json(const pl_status *s)
{
    const size_t *n = s->counts;
    json_t *o = json_pack(
        "{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:I}", "pipeline", s->pipeline,
        "state", s->health, "folders", pl_state_names[0], (json_int_t)n[0],
        pl_state_names[1], (json_int_t)n[1], pl_state_names[2], (json_int_t)n[2],
        pl_state_names[3], (json_int_t)n[3], pl_state_names[4], (json_int_t)n[4],
        pl_state_names[5], (json_int_t)n[5], "lag_seconds", (json_int_t)s->lag_seconds);
    json_object_set_new(o, "lease",
                        s->lease_held ? lease_holder_json(&s->lease) : json_null());
    return o;
}

/* ---- runs -------------------------------------------------------------- */

static int str_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int i64_cmp(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int by_run(const void *x, const void *y)
{
    const run_step *a = *(const run_step *const *)x, *b = *(const run_step *const *)y;
    int c = str_cmp(a->pipeline, b->pipeline);
    if (!c)
        c = str_cmp(a->run_id, b->run_id);
    return c;
}

static int newest_first(const void *x, const void *y)
{
    const pl_run_summary *a = x, *b = y;
    int c = i64_cmp(b->started_ms, a->started_ms);
    if (!c)
        c = i64_cmp(b->max_batch, a->max_batch);
    if (!c)
        c = str_cmp(a->pipeline, b->pipeline);
    if (!c)
        c = str_cmp(a->run_id, b->run_id);
    return c;
}

/* Where a step sits in a run: 0 before the folders, 1 a folder's, 2 after. */
static int step_phase(const run_step *s)
{
    if (s->folder)
        return 1;
    return strcmp(s->step, "discover") == 0 ? 0 : 2;
}

static int step_rank(const char *step)
{
    static const char *const order[] = {"discover",  "ingest",        "merge",
                                        "aggregate", "mark",          "optimize",
                                        "vacuum",    "schedule-check"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (strcmp(step, order[i]) == 0)
            return (int)i;
    return (int)(sizeof order / sizeof order[0]);
}

static int step_cmp(const void *x, const void *y)
{
    const run_step *a = x, *b = y;
    int c = step_phase(a) - step_phase(b);
    if (!c)
        c = i64_cmp(a->batch_id, b->batch_id);
    if (!c)
        c = str_cmp(a->folder, b->folder);
    if (!c)
        c = step_rank(a->step) - step_rank(b->step);
    if (!c)
        c = str_cmp(a->step, b->step);
    if (!c)
        c = a->attempt - b->attempt;
    if (!c)
        c = i64_cmp(a->started_ms, b->started_ms);
    if (!c)
        c = str_cmp(a->table_name, b->table_name);
    if (!c)
        c = i64_cmp(a->version_after, b->version_after);
    if (!c)
        c = str_cmp(a->state, b->state);
    if (!c)
        c = str_cmp(a->detail, b->detail);
    return c;
}

static int folder_seen(const run_step *const *rows, size_t from, size_t k)
{
    for (size_t j = from; j < k; j++)
        if (rows[j]->folder && strcmp(rows[j]->folder, rows[k]->folder) == 0)
            return 1;
    return 0;
}

/* One run from its rows rows[from..to). */
static void summarize_one(const run_step *const *rows, size_t from, size_t to,
                          pl_run_summary *r)
{
    const run_step *first = rows[from];
    memset(r, 0, sizeof *r);
    r->run_id = sl_strdup(first->run_id);
    r->pipeline = sl_strdup(first->pipeline);
    r->started_ms = r->finished_ms = r->max_batch = -1;
    r->state = "succeeded";
    const run_step *failed = NULL;
    int warned = 0;
    for (size_t k = from; k < to; k++) {
        const run_step *s = rows[k];
        r->steps++;
        if (s->started_ms >= 0 && (r->started_ms < 0 || s->started_ms < r->started_ms))
            r->started_ms = s->started_ms;
        if (s->finished_ms > r->finished_ms)
            r->finished_ms = s->finished_ms;
        if (s->batch_id > r->max_batch)
            r->max_batch = s->batch_id;
        if (s->folder && !folder_seen(rows, from, k))
            r->folders++;
        if (strcmp(s->state, "failed") == 0 && (!failed || step_cmp(s, failed) < 0))
            failed = s;
        warned |= strcmp(s->state, "warning") == 0;
    }
    if (failed) {
        r->state = "failed";
        r->error_code = failed->error_code ? sl_strdup(failed->error_code) : NULL;
        r->error_folder = failed->folder ? sl_strdup(failed->folder) : NULL;
        r->error_step = sl_strdup(failed->step);
    } else if (warned) {
        r->state = "warning";
    }
}

void pl_runs_summarize(const run_step *rows, size_t n, pl_run_summary **out, size_t *nout)
{
    const run_step **by = sl_calloc(n ? n : 1, sizeof *by);
    for (size_t i = 0; i < n; i++)
        by[i] = &rows[i];
    qsort(by, n, sizeof *by, by_run);
    pl_run_summary *r = sl_calloc(n ? n : 1, sizeof *r);
    size_t nr = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && by_run(&by[i], &by[j]) == 0)
            j++;
        summarize_one(by, i, j, &r[nr++]);
        i = j;
    }
    free(by);
    qsort(r, nr, sizeof *r, newest_first);
    *out = r;
    *nout = nr;
}

void pl_run_summaries_free(pl_run_summary *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].run_id);
        free(r[i].pipeline);
        free(r[i].error_code);
        free(r[i].error_folder);
        free(r[i].error_step);
    }
    free(r);
}

void pl_run_steps_order(run_step *rows, size_t n)
{
    qsort(rows, n, sizeof *rows, step_cmp);
}

/* ---- the Overview ------------------------------------------------------ */

static void alert_add(pl_overview *o, int critical, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void alert_add(pl_overview *o, int critical, const char *fmt, ...)
{
    o->alerts = sl_realloc(o->alerts, (o->nalerts + 1) * sizeof *o->alerts);
    pl_alert *a = &o->alerts[o->nalerts++];
    a->critical = critical;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
}

static int64_t entry_when(const ckpt_entry *e)
{
    return e->finished_ms >= 0 ? e->finished_ms : e->recorded_ms;
}

static int64_t entry_order(const ckpt_entry *e)
{
    return e->epoch >= 0 ? e->epoch : entry_when(e);
}

static int processed_cmp(const void *x, const void *y)
{
    const ckpt_entry *a = *(const ckpt_entry *const *)x,
                     *b = *(const ckpt_entry *const *)y;
    int c = i64_cmp(entry_order(a), entry_order(b));
    return c ? c : str_cmp(a->folder, b->folder);
}

/* Today's counts, the sparkline and the failed-folder alerts. */
static void overview_folders(const ckpt_view *v, int64_t now_ms, size_t spark_n,
                             pl_overview *o)
{
    o->today_start_ms = now_ms - ((now_ms % DAY_MS) + DAY_MS) % DAY_MS;
    const ckpt_entry **done = sl_calloc(v->n ? v->n : 1, sizeof *done);
    size_t ndone = 0;
    for (size_t i = 0; i < v->n; i++) {
        const ckpt_entry *e = &v->e[i];
        int64_t when = entry_when(e);
        int today = when >= o->today_start_ms && when < o->today_start_ms + DAY_MS;
        if (strcmp(e->state, "processed") == 0) {
            done[ndone++] = e;
            if (today) {
                o->today_processed++;
                o->today_rows += e->rows_read > 0 ? e->rows_read : 0;
            }
        } else if (strcmp(e->state, "failed") == 0) {
            o->today_failed += today;
            alert_add(o, 1, "folder %s failed: %s", e->folder,
                      e->error_code ? e->error_code : "no error code");
        }
    }
    qsort(done, ndone, sizeof *done, processed_cmp);
    if (spark_n > PL_SPARK_MAX)
        spark_n = PL_SPARK_MAX;
    size_t from = ndone > spark_n ? ndone - spark_n : 0;
    for (size_t i = from; i < ndone; i++)
        o->spark[o->nspark++] = done[i]->rows_read > 0 ? done[i]->rows_read : 0;
    free(done);
}

static int folder_alerted(const ckpt_view *v, const char *folder)
{
    const ckpt_entry *e = folder ? ckpt_find(v, folder) : NULL;
    return e && strcmp(e->state, "failed") == 0;
}

/* Failed steps and warnings of the newest run, and missed scheduled runs. */
static void overview_runs(const pipeline_def *d, const ckpt_view *v, const run_step *rows,
                          size_t n, int64_t now_ms, pl_overview *o)
{
    pl_run_summary *runs = NULL;
    size_t nruns = 0;
    pl_runs_summarize(rows, n, &runs, &nruns);
    o->nruns = nruns;
    o->schedule_every_ms = d->schedule.every_ms;
    if (nruns) {
        o->has_last_run = 1;
        o->last_run = runs[0];
        memset(&runs[0], 0, sizeof runs[0]);
        /* its rows in step order, so the alerts read the same every time */
        run_step *last = sl_calloc(n ? n : 1, sizeof *last);
        size_t nlast = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].run_id, o->last_run.run_id) == 0)
                last[nlast++] = rows[i]; /* shallow: the strings stay rows' */
        pl_run_steps_order(last, nlast);
        for (size_t i = 0; i < nlast; i++) {
            const run_step *s = &last[i];
            if (strcmp(s->state, "failed") == 0 && !folder_alerted(v, s->folder))
                alert_add(o, 1, "last run: %s%s%s failed: %s", s->step,
                          s->folder ? " of " : "", s->folder ? s->folder : "",
                          s->error_code ? s->error_code : "no error code");
            else if (strcmp(s->state, "warning") == 0)
                alert_add(o, 0, "last run: %s warned (rows out %" PRId64 ")", s->step,
                          s->rows_out);
        }
        free(last);
    }
    int64_t every = o->schedule_every_ms;
    if (every > 0 && o->has_last_run && o->last_run.started_ms >= 0) {
        int64_t gap = now_ms - o->last_run.started_ms;
        if (gap * 2 > every * 3)
            o->missed_runs = (gap + every / 2) / every - 1;
        if (o->missed_runs > 0)
            alert_add(o, 0,
                      "%" PRId64 " scheduled runs missed (every %" PRId64
                      " min, none since the last run)",
                      o->missed_runs, every / 60000);
    } else if (every > 0 && !o->has_last_run) {
        alert_add(o, 0, "scheduled every %" PRId64 " min but no run is recorded",
                  every / 60000);
    }
    pl_run_summaries_free(runs, nruns);
}

static const char *overview_state(const pl_overview *o)
{
    const pl_status *s = &o->st;
    if (s->counts[PL_FAILED])
        return "failed";
    if (s->lease_held)
        return "running";
    if (s->lease_stale)
        return "stuck";
    if (s->counts[PL_PENDING] && o->schedule_every_ms <= 0)
        return "paused";
    return "healthy";
}

sl_code pl_overview_load(const pipeline_def *d, sl_log *log, int64_t now_ms,
                         size_t spark_n, pl_overview *o, sl_err *err)
{
    memset(o, 0, sizeof *o);
    pl_states ps;
    sl_code c = pl_states_load(d, log, now_ms, &ps, err);
    run_step *rows = NULL;
    size_t n = 0;
    if (c == SL_OK)
        c = runs_load(ps.lake, d->name, NULL, &rows, &n, err);
    if (c == SL_OK) {
        pl_status_compute(d, &ps, now_ms, &o->st);
        overview_folders(&ps.v, now_ms, spark_n, o);
        overview_runs(d, &ps.v, rows, n, now_ms, o);
        if (o->st.lease_stale) {
            char when[40];
            time_format_short(o->st.lease.expires_ms, when, sizeof when);
            alert_add(o, 0, "lease of %s@%s pid %" PRId64 " expired %s without release",
                      o->st.lease.owner, o->st.lease.host, o->st.lease.pid, when);
        }
        o->state = overview_state(o);
    }
    run_steps_free(rows, n);
    pl_states_free(&ps);
    return c;
}

void pl_overview_free(pl_overview *o)
{
    free(o->alerts);
    if (o->has_last_run) {
        free(o->last_run.run_id);
        free(o->last_run.pipeline);
        free(o->last_run.error_code);
        free(o->last_run.error_folder);
        free(o->last_run.error_step);
    }
    memset(o, 0, sizeof *o);
}
