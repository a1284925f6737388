#include "tui/intervene.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_optimize.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/ops/ops.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"
#include "tui/dialog.h"
#include "tui/fmt.h"

/* What the operator confirms or cancels: the ops call, as the CLI makes it. */
typedef struct iv_plan {
    iv_kind kind;
    char *table;
    const char *ops_name;
    char *ops_target;
    json_t *params;
} iv_plan;

static void plan_free(void *p)
{
    iv_plan *pl = p;
    if (!pl)
        return;
    free(pl->table);
    free(pl->ops_target);
    json_decref(pl->params);
    free(pl);
}

static const char *const kind_verb[] = {"restore", "vacuum", "optimize"};

/* ---- the preview, on the worker --------------------------------------- */

typedef struct iv_line {
    theme_elem e;
    char *text;
} iv_line;

typedef struct preview_job {
    tui_job base;
    iv_kind kind;
    char *table, *url, *zorder_by;
    int64_t version;
    double retain_hours;
    char *runbook_run; /* a runbook step asked: linked in the params */
    /* results */
    iv_plan *plan;
    char *title, *expect, *confirm;
    iv_line *lines;
    size_t nlines;
    char *nothing; /* set: nothing to do, said instead of a dialog */
} preview_job;

static void line_add(preview_job *j, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line_add(preview_job *j, theme_elem e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    j->lines = sl_realloc(j->lines, (j->nlines + 1) * sizeof *j->lines);
    j->lines[j->nlines].e = e;
    j->lines[j->nlines].text = text ? text : sl_strdup("?");
    j->nlines++;
}

static iv_plan *plan_new(preview_job *j, const char *target, json_t *params)
{
    iv_plan *p = sl_calloc(1, sizeof *p);
    p->kind = j->kind;
    p->table = sl_strdup(j->table);
    p->ops_name = kind_verb[j->kind];
    p->ops_target = sl_strdup(target);
    if (j->runbook_run) {
        if (!params)
            params = json_object();
        json_object_set_new(params, "runbook_run", json_string(j->runbook_run));
    }
    p->params = params;
    return p;
}

/* "14 files · 1,234 rows · 1.2 MiB" of a preview's before/after object. */
static char *state_text(const json_t *s)
{
    char rows[32] = "unknown", size[32];
    json_t *r = json_object_get(s, "rows");
    if (json_is_integer(r))
        fmt_count(json_integer_value(r), rows, sizeof rows);
    fmt_bytes((uint64_t)json_integer_value(json_object_get(s, "bytes")), size,
              sizeof size);
    return sl_asprintf("%lld files · %s rows · %s",
                       (long long)json_integer_value(json_object_get(s, "files")), rows,
                       size);
}

static void file_lines(preview_job *j, const json_t *files, char mark, const char *verb)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        char size[32], rows[48] = "";
        fmt_bytes((uint64_t)json_integer_value(json_object_get(f, "size")), size,
                  sizeof size);
        json_t *r = json_object_get(f, "rows");
        if (json_is_integer(r))
            snprintf(rows, sizeof rows, " · %lld rows", (long long)json_integer_value(r));
        line_add(j, EL_NORMAL, "%c %s %s · %s%s", mark, verb,
                 json_string_value(json_object_get(f, "path")), size, rows);
    }
}

static sl_code restore_preview(preview_job *j, store *st, sl_err *err)
{
    delta_at at = {.kind = DELTA_AT_VERSION, .version = j->version};
    delta_restore_plan *p = NULL;
    sl_code c = delta_restore_plan_build(st, "", &at, time_now_ms(), &p, err);
    if (c != SL_OK)
        return c;
    json_t *pj = delta_restore_plan_to_json(p, j->table);
    delta_restore_plan_free(p);
    long long cur = (long long)json_integer_value(json_object_get(pj, "read_version"));
    j->title = sl_asprintf("Restore %s to version %lld", j->table, (long long)j->version);
    j->expect = sl_asprintf("%s@%lld", j->table, (long long)j->version);
    j->confirm = sl_strdup("Restore");
    line_add(j, EL_NORMAL,
             "%s is at version %lld; the RESTORE commit becomes version %lld.", j->table,
             cur, cur + 1);
    line_add(j, EL_NORMAL, "Target: version %lld, committed %s.", (long long)j->version,
             json_string_value(json_object_get(pj, "target_timestamp")));
    char radd[32], rrm[32];
    fmt_bytes((uint64_t)json_integer_value(json_object_get(pj, "readd_bytes")), radd,
              sizeof radd);
    fmt_bytes((uint64_t)json_integer_value(json_object_get(pj, "remove_bytes")), rrm,
              sizeof rrm);
    line_add(j, EL_NORMAL, "Files:  re-add %zu (%s), remove %zu (%s)",
             json_array_size(json_object_get(pj, "files_to_readd")), radd,
             json_array_size(json_object_get(pj, "files_to_remove")), rrm);
    char *before = state_text(json_object_get(pj, "before"));
    char *after = state_text(json_object_get(pj, "after"));
    line_add(j, EL_NORMAL, "Before: %s", before);
    line_add(j, EL_NORMAL, "After:  %s", after);
    free(before);
    free(after);
    size_t i;
    json_t *w;
    /* Beyond the vacuum horizon, or files already gone: in red. */
    json_array_foreach(json_object_get(pj, "warnings"), i, w)
        line_add(j, EL_FAILED, "WARNING: %s", json_string_value(w));
    json_array_foreach(json_object_get(pj, "missing_files"), i, w)
        line_add(j, EL_FAILED, "missing (vacuumed): %s", json_string_value(w));
    line_add(j, EL_NORMAL, "%s", "");
    file_lines(j, json_object_get(pj, "files_to_readd"), '+', "re-add");
    file_lines(j, json_object_get(pj, "files_to_remove"), '-', "remove");
    json_decref(pj);
    j->plan = plan_new(
        j, j->table,
        json_pack("{s:s, s:I}", "url", j->url, "version", (json_int_t)j->version));
    return SL_OK;
}

static sl_code vacuum_preview(preview_job *j, store *st, sl_err *err)
{
    delta_vacuum_opts o = {.retain_ms = -1, .dry_run = 1, .record_commits = -1};
    if (j->retain_hours >= 0)
        o.retain_ms = (int64_t)(j->retain_hours * 3600000.0);
    delta_vacuum_result vr;
    sl_code c = delta_vacuum(st, "", &o, &vr, err);
    if (c != SL_OK)
        return c;
    if (vr.nfiles == 0) {
        j->nothing =
            sl_asprintf("vacuum %s: no file is old and unreferenced enough to delete "
                        "(retention %lld h)",
                        j->table, (long long)(vr.retain_ms / 3600000));
        delta_vacuum_result_free(&vr);
        return SL_OK;
    }
    char size[32];
    fmt_bytes((uint64_t)vr.bytes, size, sizeof size);
    j->title = sl_asprintf("Vacuum %s: delete %zu files (%s)", j->table, vr.nfiles, size);
    j->expect = sl_strdup(j->table);
    j->confirm = sl_strdup("Vacuum");
    line_add(j, EL_NORMAL,
             "Deletes %zu data files (%s) that no version within the retention",
             vr.nfiles, size);
    line_add(j, EL_NORMAL, "still references; version %lld and _delta_log are untouched.",
             (long long)vr.snapshot_version);
    line_add(j, EL_NORMAL, "Retention: %lld h (the table's: %lld h).",
             (long long)(vr.retain_ms / 3600000),
             (long long)(vr.table_retain_ms / 3600000));
    line_add(
        j, EL_WARNING, "%s",
        "Time travel and restore to versions older than the retention stop working.");
    line_add(j, EL_NORMAL, "%s", "");
    for (size_t i = 0; i < vr.nfiles; i++)
        line_add(j, EL_NORMAL, "- delete %s", vr.files[i]);
    delta_vacuum_result_free(&vr);
    json_t *params = json_object();
    if (j->retain_hours >= 0)
        json_object_set_new(params, "retain_hours", json_real(j->retain_hours));
    /* The CLI names a vacuum by its normalised URL; so does the console. */
    j->plan = plan_new(j, store_url(st), params);
    return SL_OK;
}

static json_t *zorder_list(const char *text)
{
    json_t *list = json_array();
    if (!text)
        return list;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n)
            json_array_append_new(list, json_stringn(p, n));
        p += n;
        p += strspn(p, ", ");
    }
    return list;
}

static sl_code optimize_preview(preview_job *j, store *st, sl_err *err)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(st, "", &latest, &snap, err);
    if (c != SL_OK)
        return c;
    json_t *zl = zorder_list(j->zorder_by);
    size_t nz = json_array_size(zl);
    const char **names = sl_calloc(nz ? nz : 1, sizeof *names);
    for (size_t i = 0; i < nz; i++)
        names[i] = json_string_value(json_array_get(zl, i));
    delta_optimize_opts o = {
        .now_ms = time_now_ms(), .zorder_by = names, .nzorder_by = nz, .dry_run = 1};
    delta_optimize_result r;
    c = delta_optimize_run(st, "", snap, &o, NULL, &r, err);
    free(names);
    if (c != SL_OK || r.removed_files == 0) {
        if (c == SL_OK)
            j->nothing =
                sl_asprintf("optimize %s: nothing to compact (no partition has two "
                            "files below the target size)",
                            j->table);
        json_decref(zl);
        delta_snapshot_free(snap);
        return c;
    }
    char size[32], target[32], rows[32] = "unknown";
    fmt_bytes((uint64_t)r.removed_bytes, size, sizeof size);
    fmt_bytes((uint64_t)DELTA_OPTIMIZE_DEFAULT_TARGET, target, sizeof target);
    if (r.rows >= 0)
        fmt_count(r.rows, rows, sizeof rows);
    j->title = sl_asprintf("Optimize %s: compact %zu files", j->table, r.removed_files);
    j->confirm = sl_strdup("Optimize");
    line_add(j, EL_NORMAL, "Compacts %zu files (%s) in %zu bins into files near %s.",
             r.removed_files, size, r.bins, target);
    line_add(j, EL_NORMAL,
             "Rows unchanged (%s); the commit has dataChange=false, so readers", rows);
    line_add(j, EL_NORMAL, "%s",
             "and streams see the same data. Version after: the next one.");
    if (nz) {
        char *zt = json_dumps(zl, JSON_COMPACT);
        line_add(j, EL_NORMAL, "Z-order by %s: every file of a partition is rewritten.",
                 zt ? zt : "?");
        free(zt);
    }
    line_add(j, EL_NORMAL, "Table now: version %lld · %zu files.",
             (long long)snap->version, snap->nfiles);
    json_t *params = json_pack("{s:s}", "url", store_url(st));
    if (nz)
        json_object_set(params, "zorder_by", zl);
    j->plan = plan_new(j, store_url(st), params);
    json_decref(zl);
    delta_snapshot_free(snap);
    return SL_OK;
}

static void preview_run(tui_job *job, session *sess)
{
    preview_job *j = (preview_job *)job;
    store *st = NULL;
    job->code = store_open(j->url, &st, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(st, sess->log);
    switch (j->kind) {
    case IV_RESTORE:
        job->code = restore_preview(j, st, &job->err);
        break;
    case IV_VACUUM:
        job->code = vacuum_preview(j, st, &job->err);
        break;
    case IV_OPTIMIZE:
        job->code = optimize_preview(j, st, &job->err);
        break;
    }
    store_close(st);
}

static void preview_free(tui_job *job)
{
    preview_job *j = (preview_job *)job;
    free(j->table);
    free(j->url);
    free(j->zorder_by);
    free(j->runbook_run);
    plan_free(j->plan);
    free(j->title);
    free(j->expect);
    free(j->confirm);
    for (size_t i = 0; i < j->nlines; i++)
        free(j->lines[i].text);
    free(j->lines);
    free(j->nothing);
    free(j);
}

/* ---- the answer, through ops on the worker ------------------------------ */

typedef struct answer_job {
    tui_job base;
    iv_plan *plan;
    char *reason;
    int confirmed;
    json_t *output;
    int64_t event_id;
} answer_job;

static void answer_run(tui_job *job, session *sess)
{
    answer_job *j = (answer_job *)job;
    ops_request req = {
        .target = j->plan->ops_target,
        .reason = j->reason,
        .params = j->plan->params,
        .confirmed = j->confirmed,
        .cancelled = !j->confirmed,
    };
    ops_result res;
    job->code = ops_run(&sess->ops, j->plan->ops_name, &req, &res, &job->err);
    j->event_id = res.final_id ? res.final_id : res.requested_id;
    j->output = res.output;
    res.output = NULL;
    ops_result_clear(&res);
}

static void answer_free(tui_job *job)
{
    answer_job *j = (answer_job *)job;
    plan_free(j->plan);
    free(j->reason);
    json_decref(j->output);
    free(j);
}

static void done_message(app *a, const answer_job *j)
{
    const json_t *o = j->output;
    const char *t = j->plan->table;
    long long ev = (long long)j->event_id;
    char size[32];
    switch (j->plan->kind) {
    case IV_RESTORE:
        app_message(
            a, EL_OK, "restored %s to version %lld: committed version %lld (audit #%lld)",
            t, (long long)json_integer_value(json_object_get(o, "target_version")),
            (long long)json_integer_value(json_object_get(o, "version")), ev);
        return;
    case IV_VACUUM:
        fmt_bytes((uint64_t)json_integer_value(json_object_get(o, "bytes")), size,
                  sizeof size);
        app_message(a, EL_OK, "vacuumed %s: deleted %zu files (%s) (audit #%lld)", t,
                    json_array_size(json_object_get(o, "files")), size, ev);
        return;
    case IV_OPTIMIZE:
        app_message(
            a, EL_OK,
            "optimized %s: %lld files compacted into %lld, version %lld (audit #%lld)", t,
            (long long)json_integer_value(json_object_get(o, "removed_files")),
            (long long)json_integer_value(json_object_get(o, "added_files")),
            (long long)json_integer_value(json_object_get(o, "version")), ev);
        return;
    }
}

static void answer_deliver(tui_job *job, app *a)
{
    answer_job *j = (answer_job *)job;
    if (job->code == SL_OPS_CANCELLED) {
        app_message(a, EL_MESSAGE, "%s of %s cancelled: nothing changed (audit #%lld)",
                    j->plan->ops_name, j->plan->table, (long long)j->event_id);
    } else if (job->code != SL_OK) {
        app_error(a, &job->err);
    } else {
        done_message(a, j);
        app_broadcast(a, VIEW_EVENT_TABLE_CHANGED);
    }
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    job->free(job);
}

static void on_answer(app *a, void *ctx, int answer, const char *reason)
{
    answer_job *j = sl_calloc(1, sizeof *j);
    j->base.run = answer_run;
    j->base.free = answer_free;
    j->base.deliver = answer_deliver;
    j->plan = ctx;
    j->reason = reason && *reason ? sl_strdup(reason) : NULL;
    j->confirmed = answer == DIALOG_CONFIRM;
    app_post(a, NULL, &j->base);
    app_message(a, EL_MESSAGE,
                j->confirmed ? "%s of %s running…" : "%s of %s: recording the cancel…",
                j->plan->ops_name, j->plan->table);
}

static void preview_deliver(tui_job *job, app *a)
{
    preview_job *j = (preview_job *)job;
    if (job->code != SL_OK) {
        app_error(a, &job->err);
    } else if (j->nothing) {
        app_message(a, EL_MESSAGE, "%s", j->nothing);
    } else {
        tui_dialog *d = dialog_new(j->title, j->expect, j->confirm);
        for (size_t i = 0; i < j->nlines; i++)
            dialog_add_line(d, j->lines[i].e, j->lines[i].text);
        app_dialog_open(a, d, on_answer, j->plan, plan_free);
        j->plan = NULL;
    }
    job->free(job);
}

void intervene_start(app *a, const iv_request *r)
{
    if (app_read_only(a)) {
        app_message(a, EL_WARNING, "%s refused: this console is read-only",
                    kind_verb[r->kind]);
        return;
    }
    preview_job *j = sl_calloc(1, sizeof *j);
    j->base.run = preview_run;
    j->base.free = preview_free;
    j->base.deliver = preview_deliver;
    j->kind = r->kind;
    j->table = sl_strdup(r->table);
    j->url = sl_strdup(r->url);
    j->zorder_by = r->zorder_by ? sl_strdup(r->zorder_by) : NULL;
    j->runbook_run = r->runbook_run ? sl_strdup(r->runbook_run) : NULL;
    j->version = r->version;
    j->retain_hours = r->retain_hours;
    app_post(a, NULL, &j->base);
    app_message(a, EL_MESSAGE, "preparing the %s preview of %s…", kind_verb[r->kind],
                r->table);
}

unsigned intervene_handle(app *a, action_id id, const char *arg, const char *table,
                          const char *url, int64_t selected_version, sl_err *err)
{
    iv_request r = {.table = table, .url = url, .version = -1, .retain_hours = -1};
    char *end = NULL;
    switch (id) {
    case ACT_RESTORE:
        r.kind = IV_RESTORE;
        r.version = selected_version;
        if (arg) {
            long long v = strtoll(arg, &end, 10);
            if (!*arg || *end || v < 0) {
                err_set(err, SL_USAGE, "restore needs a version number, not '%s'", arg);
                return REACT_REDRAW;
            }
            r.version = v;
        }
        if (r.version < 0) {
            err_set(err, SL_USAGE,
                    "restore %s to which version? Select one in its history (Enter) or "
                    "type :restore VERSION",
                    table);
            return REACT_REDRAW;
        }
        break;
    case ACT_VACUUM:
        r.kind = IV_VACUUM;
        if (arg) {
            double h = strtod(arg, &end);
            if (!*arg || *end || !(h >= 0)) {
                err_set(err, SL_USAGE, "vacuum takes retention HOURS >= 0, not '%s'",
                        arg);
                return REACT_REDRAW;
            }
            r.retain_hours = h;
        }
        break;
    case ACT_OPTIMIZE:
        r.kind = IV_OPTIMIZE;
        r.zorder_by = arg;
        break;
    default:
        return REACT_UNHANDLED;
    }
    intervene_start(a, &r);
    return REACT_REDRAW;
}
