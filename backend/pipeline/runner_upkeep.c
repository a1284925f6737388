/* The runner's upkeep after its folders: optimize and vacuum on their
 * cadence, and the check of missed scheduled runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/pipeline/runner_internal.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

static int i64_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The "after" check of a scheduled pipeline: runs missing from the runs
 * table (a gap of more than one and a half periods between two runs' starts
 * counts the periods nothing started in). Reported with the run and
 * recorded as a step; it does not fail the run (the data are fine). */
void runner_schedule_check(run_ctx *rc, runner_result *out, int64_t started_ms)
{
    int64_t every = rc->d->schedule.every_ms;
    if (every <= 0)
        return;
    run_step *rows = NULL;
    size_t n = 0;
    sl_err e = {0};
    if (runs_load(rc->lake, rc->d->name, NULL, &rows, &n, &e) != SL_OK)
        return;
    /* each run's start: its first row (rows come ordered by start) */
    int64_t *starts = sl_calloc(n + 1, sizeof *starts);
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(rows[k].run_id, rows[i].run_id) == 0;
        if (!seen && rows[i].started_ms >= 0 && strcmp(rows[i].run_id, rc->run_id) != 0)
            starts[ns++] = rows[i].started_ms;
    }
    starts[ns++] = started_ms;
    qsort(starts, ns, sizeof *starts, i64_cmp);
    int64_t missed = 0, longest = 0;
    for (size_t i = 1; i < ns; i++) {
        int64_t gap = starts[i] - starts[i - 1];
        if (gap > longest)
            longest = gap;
        if (gap * 2 > every * 3)
            missed += (gap + every / 2) / every - 1;
    }
    json_t *chk =
        json_pack("{s:I, s:I, s:I, s:I}", "every_minutes", (json_int_t)(every / 60000),
                  "runs_considered", (json_int_t)ns, "missed_runs", (json_int_t)missed,
                  "longest_gap_minutes", (json_int_t)(longest / 60000));
    char *detail = json_dumps(chk, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(out->report, "checks_after", chk);
    runner_runs_row(rc, NULL, -1, "schedule-check", 1, missed ? "warning" : "succeeded",
                    SL_OK, NULL, NULL, -1, -1, (int64_t)ns, missed, started_ms, detail);
    free(detail);
    free(starts);
    run_steps_free(rows, n);
}

/* ---- optimize / vacuum on their cadence ------------------------------- */

/* Did batches (first..last] cross a multiple of every? */
static int due(int every, int64_t first, int64_t last)
{
    if (every <= 0)
        return 0;
    return (last + 1) / every > first / every || (first + 1) % every == 0;
}

static void maintain_table(run_ctx *rc, const char *table, int optimize, int vacuum)
{
    int64_t started = time_now_ms();
    sl_err e = {0};
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(rc->lake, table, &latest, &snap, &e);
    if (c == SL_OK && optimize) {
        delta_optimize_opts oo = {
            .now_ms = time_now_ms(),
            .zorder_by = (const char *const *)rc->d->optimize.zorder_by,
            .nzorder_by = table == rc->d->silver.table ? rc->d->optimize.nzorder_by : 0};
        delta_optimize_result r;
        c = delta_optimize_run(rc->lake, table, snap, &oo, &rc->meta, &r, &e);
        char *detail =
            c == SL_OK && r.committed
                ? sl_asprintf("{\"commits\":{\"%s\":%lld}}", table, (long long)r.version)
                : NULL;
        runner_runs_row(
            rc, NULL, -1, "optimize", 1, c == SL_OK ? "succeeded" : "failed", c, &e,
            table, snap->version, c == SL_OK && r.committed ? r.version : -1,
            (int64_t)r.removed_files, (int64_t)r.added_files, started, detail);
        free(detail);
    }
    if (c == SL_OK && vacuum) {
        started = time_now_ms();
        delta_vacuum_opts vo = {.retain_ms =
                                    (int64_t)(rc->d->vacuum.retain_hours * 3600000.0),
                                .record_commits = -1,
                                .meta = &rc->meta};
        delta_vacuum_result vr;
        c = delta_vacuum(rc->lake, table, &vo, &vr, &e);
        char *detail = c == SL_OK && vr.start_version >= 0
                           ? sl_asprintf("{\"commits\":{\"%s\":%lld}}", table,
                                         (long long)vr.start_version)
                           : NULL;
        runner_runs_row(rc, NULL, -1, "vacuum", 1, c == SL_OK ? "succeeded" : "failed", c,
                        &e, table, -1, c == SL_OK ? vr.end_version : -1, -1,
                        c == SL_OK ? (int64_t)vr.nfiles : -1, started, detail);
        free(detail);
        if (c == SL_OK)
            delta_vacuum_result_free(&vr);
    }
    delta_snapshot_free(snap);
}

void runner_maintenance(run_ctx *rc, int64_t first_batch, int64_t last_batch)
{
    int opt = due(rc->d->optimize.every_runs, first_batch, last_batch);
    int vac = due(rc->d->vacuum.every_runs, first_batch, last_batch);
    if (!opt && !vac)
        return;
    const char *tables[] = {rc->d->bronze.table, rc->d->silver.table, rc->d->gold.table};
    for (size_t i = 0; i < 3; i++)
        if (tables[i] && runner_lease_keep(rc, &(sl_err){0}) == SL_OK)
            maintain_table(rc, tables[i], opt, vac);
}
