/* Runbooks: the guided recovery procedures of docs/runbooks (tui/runbook.h).
 * The tab lists them; Enter starts a runbook run (audited `runbook.start`
 * with a new run id) and opens its steps: the current step's explanation,
 * its live panel (loaded on the worker) and the one action it offers. `a`
 * takes the action through the same preview, dialog and ops path as the
 * other views (its params carry the runbook run id), `n` skips the step
 * with a reason; both leave a `runbook.step` audit event. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/ops/ops.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/consistency.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/dialog.h"
#include "tui/fmt.h"
#include "tui/intervene.h"
#include "tui/pipeact.h"
#include "tui/runbook.h"
#include "tui/view.h"

/* ---- the list of runbooks (the tab) -------------------------------------- */

typedef struct rblist_state {
    runbook **rbs;
    size_t n;
} rblist_state;

typedef struct rblist_job {
    tui_job base;
    runbook **rbs;
    size_t n;
} rblist_job;

static const tui_column list_cols[] = {
    {"Runbook", 26, 1, 0},
    {"Steps", 5, 0, 1},
    {"When to use it", 20, 2, 0},
};

static rblist_state *lst(view *v)
{
    return v->state;
}

static size_t list_count(view *v)
{
    return lst(v) ? lst(v)->n : 0;
}

static void list_row(view *v, size_t i, tui_row *out)
{
    const runbook *rb = lst(v)->rbs[i];
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", rb->title);
    snprintf(out->cell[1], TUI_CELL_MAX, "%zu", rb->nsteps);
    snprintf(out->cell[2], TUI_CELL_MAX, "%s", rb->summary);
}

static const list_ops rblist_list_ops = {list_cols, 3, 0, list_count, list_row};

static void rblist_job_run(tui_job *job, session *sess)
{
    (void)sess;
    rblist_job *j = (rblist_job *)job;
    char *dir = runbook_dir_find();
    if (!dir) {
        job->code = err_set(&job->err, SL_IO,
                            "no runbooks directory found (set SLUICE_RUNBOOKS_DIR to "
                            "a folder of runbooks, e.g. the source's docs/runbooks)");
        return;
    }
    job->code = runbook_load_dir(dir, &j->rbs, &j->n, &job->err);
    free(dir);
}

static void rblist_job_free(tui_job *job)
{
    rblist_job *j = (rblist_job *)job;
    runbooks_free(j->rbs, j->n);
    free(j);
}

static void rblist_load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(rblist_state));
        v->list.ops = &rblist_list_ops;
    }
    rblist_job *j = sl_calloc(1, sizeof *j);
    j->base.run = rblist_job_run;
    j->base.free = rblist_job_free;
    app_post(a, v, &j->base);
}

static void rblist_take(view *v, app *a, tui_job *job)
{
    rblist_job *j = (rblist_job *)job;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        runbooks_free(lst(v)->rbs, lst(v)->n);
        lst(v)->rbs = j->rbs;
        lst(v)->n = j->n;
        j->rbs = NULL;
        j->n = 0;
        v->loaded = 1;
    }
    job->free(job);
}

/* Word-wraps text (paragraphs split by "\n\n") into at most max_rows rows
 * of width cells from row; returns the rows used. */
static int draw_wrapped(int row, int col, int width, int max_rows, theme_elem e,
                        const char *text)
{
    int used = 0;
    sl_buf line = {0};
    const char *p = text;
    while (*p && used < max_rows) {
        if (p[0] == '\n' && p[1] == '\n') {
            if (line.len) {
                buf_append_char(&line, '\0');
                crt_put(row + used++, col, width, e, line.data);
                line.len = 0;
            }
            if (used < max_rows)
                used++; /* the blank line between paragraphs */
            p += 2;
            continue;
        }
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        size_t n = strcspn(p, " \n");
        char *word = sl_asprintf("%.*s", (int)n, p);
        size_t keep = line.len;
        if (line.len)
            buf_append_char(&line, ' ');
        buf_append_str(&line, word);
        buf_append_char(&line, '\0');
        line.len--;
        if (crt_text_width(line.data) > width && keep) {
            line.len = keep;
            buf_append_char(&line, '\0');
            crt_put(row + used++, col, width, e, line.data);
            line.len = 0;
            buf_append_str(&line, word);
        }
        free(word);
        p += n;
    }
    if (line.len && used < max_rows) {
        buf_append_char(&line, '\0');
        crt_put(row + used++, col, width, e, line.data);
    }
    buf_free(&line);
    return used;
}

static void rblist_draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "runbooks"))
        return;
    char *line =
        sl_asprintf("%zu runbooks · Enter starts one (its steps are audited)", lst(v)->n);
    crt_put(r.row, 1, r.cols - 1, EL_DIM, line);
    free(line);
    int list_rows = (int)lst(v)->n + 2;
    if (list_rows > r.rows - 1)
        list_rows = r.rows - 1;
    list_draw(v, a, (tui_rect){r.row + 1, r.col, list_rows, r.cols});
    size_t i;
    int row = r.row + 1 + list_rows;
    int end = r.row + r.rows;
    if (!list_selected(v, &i) || row + 2 > end)
        return;
    const runbook *rb = lst(v)->rbs[i];
    row += draw_wrapped(row, 1, r.cols - 2, end - row - 1, EL_NORMAL, rb->summary) + 1;
    for (size_t s = 0; s < rb->nsteps && row < end; s++) {
        char *t = sl_asprintf("%2zu. %s  (%s · %s)", s + 1, rb->steps[s].title,
                              runbook_panel_name(rb->steps[s].show),
                              runbook_action_name(rb->steps[s].action));
        crt_put(row++, 1, r.cols - 2, EL_DIM, t);
        free(t);
    }
}

static void rblist_done(view *v)
{
    if (!v->state)
        return;
    runbooks_free(lst(v)->rbs, lst(v)->n);
    free(v->state);
}

/* ---- a runbook run (the drill-down) --------------------------------------- */

enum { ST_PENDING, ST_DONE, ST_SKIPPED, ST_ACTION, ST_CHECKED };
static const char *const status_mark[] = {"[ ]", "[x]", "[-]", "[>]", "[x]"};
static const char *const status_word[] = {"pending", "done", "skipped", "action opened",
                                          "checked"};
static const char *const outcome_name[] = {"", "done", "skipped", "action", "checked"};

/* One row of a live panel, with what an action needs to target it. */
typedef struct pn_row {
    char *cell[TUI_MAX_COLS];
    theme_elem elem;
    char *pipeline, *folder, *run_id, *table, *url;
    char *detail, *hint; /* shown under the panel for the selected row */
    int64_t version;
} pn_row;

typedef struct rbrun_state {
    runbook *rb;
    char run_id[33];
    int started;      /* runbook.start is in the audit log */
    int start_failed; /* it could not be written: actions refused */
    size_t cur;       /* the current step; nsteps when finished */
    int *status;      /* ST_* per step */
    int busy;         /* a step event is being written */
    int own_event;    /* the audit change being broadcast is this view's own */
    rb_panel panel;   /* of the rows below */
    unsigned gen;     /* of the latest panel load: older answers are dropped */
    pn_row *rows;
    size_t nrows;
    char *note; /* the panel's one-line summary */
} rbrun_state;

static rbrun_state *rst(view *v)
{
    return v->state;
}

static void rows_free(pn_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < TUI_MAX_COLS; c++)
            free(rows[i].cell[c]);
        free(rows[i].pipeline);
        free(rows[i].folder);
        free(rows[i].run_id);
        free(rows[i].table);
        free(rows[i].url);
        free(rows[i].hint);
        free(rows[i].detail);
    }
    free(rows);
}

/* Columns of each panel (RB_PANEL_NONE has no list). */
static const tui_column failed_cols[] = {
    {"Folder", 10, 0, 0}, {"Pipeline", 8, 0, 0}, {"Failed (UTC)", 16, 0, 0},
    {"Code", 21, 0, 0},   {"Message", 10, 1, 0},
};
static const tui_column history_cols[] = {
    {"Table", 8, 1, 0},           {"Ver", 4, 0, 1},
    {"Time (UTC)", 16, 0, 0},     {"Operation", 9, 0, 0},
    {"+ins ~upd -del", 16, 1, 0}, {"Run", 16, 0, 0},
};
static const tui_column cons_cols[] = {
    {"Pipeline", 8, 0, 0}, {"Check", 8, 0, 0},       {"Folder", 10, 0, 0},
    {"Table", 10, 1, 0},   {"Ckpt batch", 10, 0, 1}, {"In table", 9, 0, 1},
};
static const tui_column lease_cols[] = {
    {"Pipeline", 8, 0, 0}, {"State", 8, 0, 0}, {"Owner", 8, 1, 0},
    {"Host", 8, 1, 0},     {"PID", 7, 0, 1},   {"Expires (UTC)", 26, 0, 0},
};
static const tui_column vacuum_cols[] = {
    {"Table", 10, 1, 0},         {"Ver", 4, 0, 1},      {"Keep", 5, 0, 1},
    {"Horizon (UTC)", 16, 0, 0}, {"Log from", 8, 0, 1}, {"Safe from", 9, 0, 1},
    {"Last vacuum", 11, 0, 0},
};

static size_t panel_count(view *v)
{
    return rst(v) ? rst(v)->nrows : 0;
}

static void panel_row(view *v, size_t i, tui_row *out)
{
    const pn_row *r = &rst(v)->rows[i];
    for (int c = 0; c < TUI_MAX_COLS; c++)
        if (r->cell[c])
            snprintf(out->cell[c], TUI_CELL_MAX, "%s", r->cell[c]);
    out->elem = r->elem;
}

static const list_ops panel_lists[RB_PANEL_COUNT] = {
    [RB_PANEL_FAILED_FOLDERS] = {failed_cols, 5, 0, panel_count, panel_row},
    [RB_PANEL_SILVER_HISTORY] = {history_cols, 6, 0, panel_count, panel_row},
    [RB_PANEL_CONSISTENCY] = {cons_cols, 6, 0, panel_count, panel_row},
    [RB_PANEL_LEASE] = {lease_cols, 6, 0, panel_count, panel_row},
    [RB_PANEL_VACUUM] = {vacuum_cols, 7, 0, panel_count, panel_row},
};

static const char *const panel_title[RB_PANEL_COUNT] = {
    "",
    "failed folders",
    "silver's recent history",
    "checkpoint vs tables",
    "pipeline leases",
    "vacuum horizon per table",
};

/* ---- jobs of a runbook run ------------------------------------------------ */

enum { JOB_PANEL = 1, JOB_EVENT, JOB_VACUUM_CHECK };

typedef struct rb_job {
    tui_job base;
    /* panel */
    rb_panel panel;
    unsigned gen;
    pn_row *rows;
    size_t nrows, cap;
    char *note;
    /* event(s): an optional first action (audit.note) then a runbook event */
    char *first_name, *first_target, *first_reason;
    json_t *first_params;
    char *name, *target, *reason;
    json_t *params;
    size_t step; /* 0-based step the event is about */
    int outcome; /* ST_* the step gets */
    int advance; /* move to the next step once recorded */
    int start;   /* the runbook.start event */
    int64_t event_id;
    /* vacuum check */
    char *url, *table;
    char *result;
} rb_job;

static void rb_job_free(tui_job *job)
{
    rb_job *j = (rb_job *)job;
    rows_free(j->rows, j->nrows);
    free(j->note);
    free(j->first_name);
    free(j->first_target);
    free(j->first_reason);
    json_decref(j->first_params);
    free(j->name);
    free(j->target);
    free(j->reason);
    json_decref(j->params);
    free(j->url);
    free(j->table);
    free(j->result);
    free(j);
}

static pn_row *row_add(rb_job *j)
{
    if (j->nrows == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 16;
        j->rows = sl_realloc(j->rows, j->cap * sizeof *j->rows);
    }
    pn_row *r = &j->rows[j->nrows++];
    memset(r, 0, sizeof *r);
    r->elem = EL_NORMAL;
    r->version = -1;
    return r;
}

static char *dupn(const char *s)
{
    return sl_strdup(s ? s : "-");
}

static char *time_cell(int64_t ms)
{
    char t[32];
    fmt_time_short(ms, t, sizeof t);
    return sl_strdup(t);
}

static sl_code lake_open(session *sess, const pipeline_def *d, store **out, sl_err *err)
{
    sl_code c = store_open(d->lake_url, out, err);
    if (c == SL_OK)
        store_set_log(*out, sess->log);
    return c;
}

static sl_code panel_failed(rb_job *j, session *sess, pipeline_def **defs, size_t nd,
                            sl_err *err)
{
    for (size_t p = 0; p < nd; p++) {
        store *lake = NULL;
        sl_code c = lake_open(sess, defs[p], &lake, err);
        ckpt_view cv = {0};
        if (c == SL_OK)
            c = ckpt_load(lake, defs[p]->name, &cv, err);
        store_close(lake);
        if (c != SL_OK)
            return c;
        for (size_t i = 0; i < cv.n; i++) {
            const ckpt_entry *e = &cv.e[i];
            if (strcmp(e->state, "failed") != 0)
                continue;
            pn_row *r = row_add(j);
            r->cell[0] = dupn(e->folder);
            r->cell[1] = dupn(defs[p]->name);
            r->cell[2] = time_cell(e->finished_ms >= 0 ? e->finished_ms : e->recorded_ms);
            r->cell[3] = dupn(e->error_code);
            r->cell[4] = dupn(e->message);
            r->elem = EL_FAILED;
            r->pipeline = sl_strdup(defs[p]->name);
            r->folder = sl_strdup(e->folder);
            r->run_id = e->run_id ? sl_strdup(e->run_id) : NULL;
            r->detail = dupn(e->message);
            sl_code code = e->error_code ? err_code_from_name(e->error_code) : SL_FAILED;
            r->hint = sl_strdup(err_code_hint(code == SL_CODE_COUNT ? SL_FAILED : code));
        }
        ckpt_view_free(&cv);
    }
    j->note = j->nrows ? sl_asprintf("%zu failed folder%s; the selected one's hint below",
                                     j->nrows, j->nrows == 1 ? "" : "s")
                       : sl_strdup("no folder is failed now");
    return SL_OK;
}

/* runId of a commit made by sluice (its userMetadata), or NULL. */
static char *commit_run_id(const delta_commit_info *ci)
{
    const char *um = json_string_value(json_object_get(ci->commit_info, "userMetadata"));
    json_t *m = um ? json_loads(um, 0, NULL) : NULL;
    const char *run = json_string_value(json_object_get(m, "runId"));
    char *out = run ? sl_strdup(run) : NULL;
    json_decref(m);
    return out;
}

static const char *metric(const delta_commit_info *ci, const char *key)
{
    const char *s = json_string_value(json_object_get(ci->operation_metrics, key));
    return s ? s : "0";
}

static sl_code panel_history(rb_job *j, session *sess, pipeline_def **defs, size_t nd,
                             sl_err *err)
{
    size_t tables = 0;
    for (size_t p = 0; p < nd; p++) {
        if (!defs[p]->silver.table)
            continue;
        tables++;
        char *url = pipeline_table_url(defs[p], defs[p]->silver.table);
        store *st = NULL;
        delta_history h = {0};
        sl_code c = store_open(url, &st, err);
        if (c == SL_OK) {
            store_set_log(st, sess->log);
            c = delta_history_load(st, "", 12, &h, err);
        }
        store_close(st);
        if (c != SL_OK) {
            free(url);
            return c;
        }
        for (size_t i = 0; i < h.n; i++) {
            const delta_commit_info *ci = &h.items[i];
            pn_row *r = row_add(j);
            r->cell[0] = sl_strdup(defs[p]->silver.table);
            r->cell[1] = sl_asprintf("%lld", (long long)ci->version);
            r->cell[2] = time_cell(ci->timestamp_ms);
            r->cell[3] = dupn(ci->operation);
            r->cell[4] = sl_asprintf("+%s ~%s -%s", metric(ci, "numTargetRowsInserted"),
                                     metric(ci, "numTargetRowsUpdated"),
                                     metric(ci, "numTargetRowsDeleted"));
            r->run_id = commit_run_id(ci);
            r->cell[5] = dupn(r->run_id);
            r->pipeline = sl_strdup(defs[p]->name);
            r->table = sl_strdup(defs[p]->silver.table);
            r->url = sl_strdup(url);
            r->version = ci->version;
        }
        delta_history_free(&h);
        free(url);
    }
    j->note = tables ? sl_asprintf("newest first; select a version (j/k)")
                     : sl_strdup("no pipeline has a silver table");
    return SL_OK;
}

static sl_code panel_consistency(rb_job *j, session *sess, pipeline_def **defs, size_t nd,
                                 sl_err *err)
{
    size_t issues = 0;
    for (size_t p = 0; p < nd; p++) {
        store *lake = NULL;
        cons_report rep = {0};
        sl_code c = lake_open(sess, defs[p], &lake, err);
        if (c == SL_OK)
            c = consistency_check(lake, defs[p], &rep, err);
        store_close(lake);
        if (c != SL_OK)
            return c;
        issues += rep.n;
        for (size_t i = 0; i < rep.n; i++) {
            const cons_issue *is = &rep.issues[i];
            pn_row *r = row_add(j);
            r->cell[0] = sl_strdup(defs[p]->name);
            r->cell[1] = sl_strdup(is->kind);
            r->cell[2] = dupn(is->folder);
            r->cell[3] = sl_strdup(is->table);
            int orphan = strcmp(is->kind, "orphan") == 0;
            r->cell[4] = orphan ? sl_asprintf("%lld", (long long)rep.ckpt_max_batch)
                                : sl_asprintf("%lld", (long long)is->batch_id);
            r->cell[5] = sl_asprintf("%lld", (long long)is->table_batch);
            if (strcmp(is->kind, "undone") == 0) {
                free(r->cell[5]);
                r->cell[5] = sl_asprintf("v%lld<v%lld", (long long)is->restored_to,
                                         (long long)is->version);
                r->detail = sl_asprintf(
                    "%s: the folder's commit (version %lld) was undone "
                    "by a RESTORE to version %lld; the checkpoint still "
                    "says processed",
                    is->table, (long long)is->version, (long long)is->restored_to);
            }
            r->elem = EL_FAILED;
            r->pipeline = sl_strdup(defs[p]->name);
            r->folder = is->folder ? sl_strdup(is->folder) : NULL;
        }
        if (rep.n == 0) {
            pn_row *r = row_add(j);
            r->cell[0] = sl_strdup(defs[p]->name);
            r->cell[1] = sl_strdup("in step");
            r->cell[2] = sl_asprintf("%zu folders", rep.folders_checked);
            r->cell[3] = sl_asprintf("%zu tables", rep.tables_checked);
            r->cell[4] = sl_asprintf("%lld", (long long)rep.ckpt_max_batch);
            r->elem = EL_OK;
            r->pipeline = sl_strdup(defs[p]->name);
        }
        cons_report_free(&rep);
    }
    j->note = issues ? sl_asprintf("%zu disagreement%s between checkpoint and tables",
                                   issues, issues == 1 ? "" : "s")
                     : sl_strdup("the checkpoint and the tables agree");
    return SL_OK;
}

static sl_code panel_lease(rb_job *j, session *sess, pipeline_def **defs, size_t nd,
                           sl_err *err)
{
    int64_t now = time_now_ms();
    for (size_t p = 0; p < nd; p++) {
        store *lake = NULL;
        lease_holder h;
        memset(&h, 0, sizeof h);
        int exists = 0;
        sl_code c = lake_open(sess, defs[p], &lake, err);
        if (c == SL_OK)
            c = lease_read(lake, defs[p]->name, &h, &exists, err);
        store_close(lake);
        if (c != SL_OK)
            return c;
        pn_row *r = row_add(j);
        r->cell[0] = sl_strdup(defs[p]->name);
        r->pipeline = sl_strdup(defs[p]->name);
        if (!exists) {
            r->cell[1] = sl_strdup("free");
            r->elem = EL_OK;
            continue;
        }
        int expired = h.expires_ms <= now;
        r->cell[1] = sl_strdup(h.unreadable ? "unreadable"
                               : expired    ? "expired"
                                            : "held");
        r->cell[2] = dupn(h.owner);
        r->cell[3] = dupn(h.host);
        r->cell[4] = sl_asprintf("%lld", (long long)h.pid);
        char t[32], age[32];
        fmt_time_short(h.expires_ms, t, sizeof t);
        if (expired)
            fmt_age(h.expires_ms, now, age, sizeof age);
        else
            fmt_duration(h.expires_ms - now, age, sizeof age);
        r->cell[5] = sl_asprintf("%s (%s%s)", t, expired ? "" : "in ", age);
        r->elem = expired || h.unreadable ? EL_FAILED : EL_WARNING;
    }
    j->note = sl_strdup("a live runner renews its lease every 20 s for 60 s");
    return SL_OK;
}

/* One table's horizon row. */
static sl_code vacuum_row(rb_job *j, session *sess, const config_table *t, int64_t now,
                          sl_err *err)
{
    store *st = NULL;
    sl_code c = store_open(t->url, &st, err);
    if (c != SL_OK)
        return c;
    store_set_log(st, sess->log);
    pn_row *r = row_add(j);
    r->cell[0] = sl_strdup(t->name);
    r->table = sl_strdup(t->name);
    r->url = sl_strdup(t->url);
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    c = delta_snapshot_open(st, "", &latest, &snap, err);
    if (c == SL_DELTA_NOT_A_TABLE) {
        err_clear(err);
        r->cell[1] = sl_strdup("-");
        r->cell[3] = sl_strdup("not a table yet");
        r->elem = EL_DIM;
        store_close(st);
        return SL_OK;
    }
    int64_t keep = DELTA_VACUUM_DEFAULT_RETENTION_MS;
    delta_history h = {0};
    if (c == SL_OK)
        c = delta_vacuum_table_retention(snap->metadata, &keep, err);
    if (c == SL_OK)
        c = delta_history_load(st, "", 0, &h, err);
    store_close(st);
    if (c != SL_OK) {
        delta_snapshot_free(snap);
        return c;
    }
    int64_t horizon = now - keep, safe = -1, last_vacuum = -1;
    for (size_t i = 0; i < h.n; i++) { /* newest first */
        if (h.items[i].timestamp_ms >= horizon)
            safe = h.items[i].version;
        if (last_vacuum < 0 && h.items[i].operation &&
            strncmp(h.items[i].operation, "VACUUM", 6) == 0)
            last_vacuum = h.items[i].timestamp_ms;
    }
    r->cell[1] = sl_asprintf("%lld", (long long)snap->version);
    r->cell[2] = sl_asprintf("%lldh", (long long)(keep / 3600000));
    r->cell[3] = time_cell(horizon);
    r->cell[4] = sl_asprintf("%lld", (long long)h.oldest_available);
    r->cell[5] = safe >= 0 ? sl_asprintf("%lld", (long long)safe) : sl_strdup("none");
    r->cell[6] = last_vacuum >= 0 ? time_cell(last_vacuum) : sl_strdup("never");
    r->version = snap->version;
    /* Vacuumed, and the log still names versions beyond the horizon: those
     * may have lost files. */
    if (last_vacuum >= 0 && (safe < 0 || h.oldest_available < safe))
        r->elem = EL_WARNING;
    delta_history_free(&h);
    delta_snapshot_free(snap);
    return SL_OK;
}

static sl_code panel_vacuum(rb_job *j, session *sess, sl_err *err)
{
    const config *cfg = sess->cfg;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < cfg->ntables; i++) {
        sl_code c = vacuum_row(j, sess, &cfg->tables[i], now, err);
        if (c != SL_OK)
            return c;
    }
    j->note = sl_strdup("versions from \"Safe from\" on restore whatever a vacuum does");
    return SL_OK;
}

static void panel_job_run(rb_job *j, session *sess)
{
    tui_job *job = &j->base;
    if (!sess->cfg) {
        job->code = err_set(&job->err, SL_CONFIG_NOT_FOUND, "no config: nothing to show");
        return;
    }
    if (j->panel == RB_PANEL_VACUUM) {
        job->code = panel_vacuum(j, sess, &job->err);
        return;
    }
    /* The worker reads its own copy of the pipelines (the app's belong to
     * the UI thread). */
    pipeline_def **defs = NULL;
    size_t nd = 0;
    job->code = config_pipelines_load_all(sess->cfg, &defs, &nd, &job->err);
    if (job->code != SL_OK)
        return;
    switch (j->panel) {
    case RB_PANEL_FAILED_FOLDERS:
        job->code = panel_failed(j, sess, defs, nd, &job->err);
        break;
    case RB_PANEL_SILVER_HISTORY:
        job->code = panel_history(j, sess, defs, nd, &job->err);
        break;
    case RB_PANEL_CONSISTENCY:
        job->code = panel_consistency(j, sess, defs, nd, &job->err);
        break;
    case RB_PANEL_LEASE:
        job->code = panel_lease(j, sess, defs, nd, &job->err);
        break;
    default:
        break;
    }
    if (nd == 0 && job->code == SL_OK) {
        free(j->note);
        j->note = sl_strdup("the config lists no pipelines");
    }
    config_pipelines_free(defs, nd);
}

static sl_code ops_event(session *sess, const char *name, const char *target,
                         const char *reason, json_t *params, int64_t *id, sl_err *err)
{
    ops_request req = {.target = target, .reason = reason, .params = params};
    ops_result res;
    sl_code c = ops_run(&sess->ops, name, &req, &res, err);
    *id = res.final_id ? res.final_id : res.requested_id;
    ops_result_clear(&res);
    return c;
}

static void vacuum_check_run(rb_job *j, session *sess)
{
    tui_job *job = &j->base;
    store *st = NULL;
    job->code = store_open(j->url, &st, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(st, sess->log);
    delta_vacuum_opts o = {.retain_ms = -1, .dry_run = 1, .record_commits = 0};
    delta_vacuum_result vr;
    job->code = delta_vacuum(st, "", &o, &vr, &job->err);
    store_close(st);
    if (job->code != SL_OK)
        return;
    char size[32];
    fmt_bytes((uint64_t)vr.bytes, size, sizeof size);
    j->result =
        sl_asprintf("vacuum of %s would delete %zu files (%s) with its %lldh "
                    "retention; nothing was deleted",
                    j->table, vr.nfiles, size, (long long)(vr.retain_ms / 3600000));
    json_object_set_new(j->params, "table", json_string(j->table));
    json_object_set_new(j->params, "would_delete_files",
                        json_integer((json_int_t)vr.nfiles));
    json_object_set_new(j->params, "would_delete_bytes", json_integer(vr.bytes));
    json_object_set_new(j->params, "retain_hours",
                        json_integer((json_int_t)(vr.retain_ms / 3600000)));
    delta_vacuum_result_free(&vr);
}

static void rb_job_run(tui_job *job, session *sess)
{
    rb_job *j = (rb_job *)job;
    if (job->kind == JOB_PANEL) {
        panel_job_run(j, sess);
        return;
    }
    if (job->kind == JOB_VACUUM_CHECK) {
        vacuum_check_run(j, sess);
        if (job->code != SL_OK)
            return;
    }
    if (j->first_name) {
        int64_t id;
        job->code = ops_event(sess, j->first_name, j->first_target, j->first_reason,
                              j->first_params, &id, &job->err);
        if (job->code != SL_OK)
            return;
    }
    job->code = ops_event(sess, j->name, j->target, j->reason, j->params, &j->event_id,
                          &job->err);
}

static rb_job *job_new(int kind)
{
    rb_job *j = sl_calloc(1, sizeof *j);
    j->base.kind = kind;
    j->base.run = rb_job_run;
    j->base.free = rb_job_free;
    return j;
}

/* ---- the run's view -------------------------------------------------------- */

static const rb_step *cur_step(view *v)
{
    rbrun_state *s = rst(v);
    return s->cur < s->rb->nsteps ? &s->rb->steps[s->cur] : NULL;
}

static void rbrun_load(view *v, app *a)
{
    rbrun_state *s = rst(v);
    const rb_step *step = cur_step(v);
    rb_panel want = step ? step->show : RB_PANEL_NONE;
    s->gen++;
    err_clear(&v->error);
    if (want != s->panel || !v->list.ops) {
        /* A new panel: forget the old rows and selection. A reload of the
         * same panel keeps them on screen until the fresh rows arrive. */
        rows_free(s->rows, s->nrows);
        s->rows = NULL;
        s->nrows = 0;
        free(s->note);
        s->note = NULL;
        s->panel = want;
        v->list.ops = want != RB_PANEL_NONE ? &panel_lists[want] : NULL;
        v->list.cursor = v->list.top = 0;
        list_free(&v->list);
        v->loaded = 0;
    }
    if (want == RB_PANEL_NONE) {
        v->loaded = 1;
        return;
    }
    rb_job *j = job_new(JOB_PANEL);
    j->panel = want;
    j->gen = s->gen;
    app_post(a, v, &j->base);
}

/* The params every event of this run carries. */
static json_t *run_params(view *v, size_t step)
{
    rbrun_state *s = rst(v);
    json_t *p = json_pack("{s:s}", "runbook_run", s->run_id);
    if (step < s->rb->nsteps) {
        json_object_set_new(p, "step", json_integer((json_int_t)step + 1));
        json_object_set_new(p, "title", json_string(s->rb->steps[step].title));
        json_object_set_new(p, "action",
                            json_string(runbook_action_name(s->rb->steps[step].action)));
    }
    return p;
}

/* Posts the runbook.step event of the current step (outcome ST_*). */
static rb_job *step_event(view *v, int outcome, const char *reason)
{
    rbrun_state *s = rst(v);
    rb_job *j = job_new(JOB_EVENT);
    j->name = sl_strdup("runbook.step");
    j->target = sl_strdup(s->rb->id);
    j->reason = reason && *reason ? sl_strdup(reason) : NULL;
    j->params = run_params(v, s->cur);
    json_object_set_new(j->params, "outcome", json_string(outcome_name[outcome]));
    j->step = s->cur;
    j->outcome = outcome;
    j->advance = 1;
    return j;
}

static void post_event(view *v, app *a, rb_job *j)
{
    rst(v)->busy = 1;
    app_post(a, v, &j->base);
}

static void advance(view *v, app *a)
{
    rbrun_state *s = rst(v);
    if (s->cur < s->rb->nsteps)
        s->cur++;
    rbrun_load(v, a);
    if (s->cur == s->rb->nsteps) {
        size_t done = 0, skipped = 0;
        for (size_t i = 0; i < s->rb->nsteps; i++)
            s->status[i] == ST_SKIPPED ? skipped++ : done++;
        app_message(a, EL_OK, "runbook finished: %zu steps taken, %zu skipped", done,
                    skipped);
    }
}

static void rbrun_take(view *v, app *a, tui_job *job)
{
    rb_job *j = (rb_job *)job;
    rbrun_state *s = rst(v);
    if (job->kind == JOB_PANEL) {
        if (j->gen != s->gen) { /* the step moved on, or a newer load is coming */
            job->free(job);
            return;
        }
        if (job->code != SL_OK) {
            v->error = job->err;
            app_error(a, &job->err);
        } else {
            rows_free(s->rows, s->nrows);
            free(s->note);
            s->rows = j->rows;
            s->nrows = j->nrows;
            s->note = j->note;
            j->rows = NULL;
            j->nrows = 0;
            j->note = NULL;
            v->loaded = 1;
        }
        job->free(job);
        return;
    }
    s->busy = 0;
    if (job->code != SL_OK) {
        if (j->start)
            s->start_failed = 1;
        app_error(a, &job->err);
    } else if (j->start) {
        s->started = 1;
        app_message(a, EL_OK,
                    "runbook run started (audit #%lld): a takes a step's "
                    "action, n skips it",
                    (long long)j->event_id);
    } else {
        s->status[j->step] = j->outcome;
        if (j->result)
            app_message(a, EL_OK, "%s (audit #%lld)", j->result, (long long)j->event_id);
        else
            app_message(a, EL_OK, "step %zu %s (audit #%lld)", j->step + 1,
                        status_word[j->outcome], (long long)j->event_id);
        if (j->advance && j->step == s->cur)
            advance(v, a);
    }
    s->own_event = 1; /* the panel was just (re)loaded by advance */
    app_broadcast(a, VIEW_EVENT_AUDIT_CHANGED);
    s->own_event = 0;
    job->free(job);
}

/* An action taken elsewhere (or the one a step opened, once confirmed)
 * changed the lake or the audit: the live panel shows the state after it. */
static void rbrun_notify(view *v, app *a, int event)
{
    (void)event;
    if (!rst(v)->own_event)
        rbrun_load(v, a);
}

/* ---- dialogs: a note, a skip reason ---------------------------------------- */

typedef struct ask_ctx {
    view *v; /* alive: the dialog is modal, the view cannot close under it */
    int skip;
} ask_ctx;

static void on_ask(app *a, void *ctx, int answer, const char *reason)
{
    ask_ctx *c = ctx;
    view *v = c->v;
    rbrun_state *s = rst(v);
    if (answer != DIALOG_CONFIRM) {
        app_message(a, EL_MESSAGE, "%s cancelled: the step stays open",
                    c->skip ? "skip" : "note");
        free(c);
        return;
    }
    rb_job *j = step_event(v, c->skip ? ST_SKIPPED : ST_DONE, c->skip ? reason : NULL);
    if (!c->skip) {
        /* The note itself, linked to this run, then the step. */
        j->first_name = sl_strdup("audit.note");
        j->first_target = sl_strdup(s->rb->id);
        j->first_reason = sl_strdup(reason);
        j->first_params = json_pack("{s:s, s:I}", "runbook_run", s->run_id,
                                    "runbook_step", (json_int_t)s->cur + 1);
    }
    post_event(v, a, j);
    app_message(a, EL_MESSAGE, "recording…");
    free(c);
}

static void ask(view *v, app *a, int skip)
{
    const rb_step *step = cur_step(v);
    char *title = sl_asprintf("%s step %zu: %s", skip ? "Skip" : "Note for",
                              rst(v)->cur + 1, step->title);
    tui_dialog *d = dialog_new(title, NULL, skip ? "Skip step" : "Record note");
    free(title);
    if (skip) {
        dialog_add_line(d, EL_NORMAL,
                        "The step is recorded as skipped, with your reason,");
        dialog_add_line(d, EL_NORMAL, "in the audit log of this runbook run.");
    } else {
        dialog_add_line(d, EL_NORMAL,
                        "Type the note in the reason field: it goes to the");
        dialog_add_line(d, EL_NORMAL, "audit log, linked to this runbook run.");
    }
    ask_ctx *c = sl_calloc(1, sizeof *c);
    c->v = v;
    c->skip = skip;
    app_dialog_open(a, d, on_ask, c, free);
}

/* ---- taking a step's action ------------------------------------------------ */

static const pn_row *selected_row(view *v)
{
    size_t i;
    if (!v->list.ops || !list_selected(v, &i) || i >= rst(v)->nrows)
        return NULL;
    return &rst(v)->rows[i];
}

static unsigned need(sl_err *err, const char *what)
{
    err_set(err, SL_USAGE, "select %s in the panel first (j/k), then a", what);
    return REACT_REDRAW;
}

/* An action of the pipeline interventions (tui/pipeact.h). */
static unsigned take_pipeact(view *v, app *a, action_id id, const pn_row *r, sl_err *err)
{
    rbrun_state *s = rst(v);
    const char *folders[1] = {r ? r->folder : NULL};
    pipeact_target t = {.pipeline = r ? r->pipeline : NULL, .runbook_run = s->run_id};
    if (id == ACT_ROLLBACK) {
        if (!r || !r->run_id)
            return need(err, "a commit made by a run");
        t.run_id = r->run_id;
    } else if (id != ACT_RUN) {
        if (!r || !r->folder)
            return need(err, "a folder");
        t.folders = folders;
        t.nfolders = 1;
        if (id == ACT_RETRY)
            t.run_id = r->run_id; /* the run that failed the folder */
    } else if (!r || !r->pipeline) {
        /* An empty panel (the failure was just skipped) still leaves the
         * pipeline to run when the config has only one. */
        size_t n = 0;
        pipeline_def *const *defs = app_pipelines(a, &n);
        if (n != 1)
            return need(err, "a pipeline's row");
        t.pipeline = defs[0]->name;
    }
    if (pipeact_open(a, id, &t, err) != SL_OK)
        return REACT_REDRAW;
    rb_job *j = step_event(v, ST_ACTION, NULL);
    post_event(v, a, j);
    return REACT_REDRAW;
}

/* The ops action behind a step's action; NULL when it changes nothing. */
static const char *mutating_ops_name(rb_action act)
{
    switch (act) {
    case RB_ACT_RETRY:
        return "retry";
    case RB_ACT_SKIP:
        return "skip";
    case RB_ACT_RESET:
        return "reset";
    case RB_ACT_MARK:
        return "mark-processed";
    case RB_ACT_RUN:
        return "run";
    case RB_ACT_ROLLBACK:
        return "rollback-run";
    case RB_ACT_RESTORE:
        return "restore";
    default:
        return NULL;
    }
}

/* A read-only console follows a runbook, but the mutating action of a step
 * goes to ops only to be refused there and audited with this run's id. */
static unsigned refuse_read_only(view *v, app *a, const char *ops_name, const pn_row *r)
{
    rb_job *j = job_new(JOB_EVENT);
    j->name = sl_strdup(ops_name);
    j->target = r && r->folder  ? sl_strdup(r->folder)
                : r && r->table ? sl_strdup(r->table)
                                : NULL;
    j->params = run_params(v, rst(v)->cur);
    j->step = rst(v)->cur;
    post_event(v, a, j);
    return REACT_REDRAW;
}

static unsigned take_action(view *v, app *a, sl_err *err)
{
    rbrun_state *s = rst(v);
    const rb_step *step = cur_step(v);
    const pn_row *r = selected_row(v);
    const char *mut = mutating_ops_name(step->action);
    if (mut && app_read_only(a))
        return refuse_read_only(v, a, mut, r);
    switch (step->action) {
    case RB_ACT_NONE:
        post_event(v, a, step_event(v, ST_DONE, NULL));
        return REACT_REDRAW;
    case RB_ACT_NOTE:
        ask(v, a, 0);
        return REACT_REDRAW;
    case RB_ACT_RETRY:
        return take_pipeact(v, a, ACT_RETRY, r, err);
    case RB_ACT_SKIP:
        return take_pipeact(v, a, ACT_SKIP, r, err);
    case RB_ACT_RESET:
        return take_pipeact(v, a, ACT_RESET, r, err);
    case RB_ACT_MARK:
        return take_pipeact(v, a, ACT_MARK, r, err);
    case RB_ACT_RUN:
        return take_pipeact(v, a, ACT_RUN, r, err);
    case RB_ACT_ROLLBACK:
        return take_pipeact(v, a, ACT_ROLLBACK, r, err);
    case RB_ACT_RESTORE: {
        if (!r || !r->table || r->version < 0)
            return need(err, "a table's version");
        iv_request iv = {.kind = IV_RESTORE,
                         .table = r->table,
                         .url = r->url,
                         .version = r->version,
                         .retain_hours = -1,
                         .runbook_run = rst(v)->run_id};
        intervene_start(a, &iv);
        rb_job *j = step_event(v, ST_ACTION, NULL);
        json_object_set_new(j->params, "table", json_string(r->table));
        json_object_set_new(j->params, "version", json_integer(r->version));
        post_event(v, a, j);
        return REACT_REDRAW;
    }
    case RB_ACT_VACUUM_CHECK: {
        if (!r || !r->url || r->version < 0)
            return need(err, "a table");
        rb_job *j = step_event(v, ST_CHECKED, NULL);
        j->base.kind = JOB_VACUUM_CHECK;
        j->url = sl_strdup(r->url);
        j->table = sl_strdup(r->table);
        post_event(v, a, j);
        app_message(a, EL_MESSAGE, "dry-run vacuum of %s…", r->table);
        return REACT_REDRAW;
    }
    case RB_ACT_COUNT:
        break;
    }
    (void)s;
    return REACT_REDRAW;
}

static unsigned rbrun_handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)arg;
    rbrun_state *s = rst(v);
    if (id != ACT_STEP_DO && id != ACT_STEP_SKIP)
        return REACT_UNHANDLED;
    if (s->cur >= s->rb->nsteps) {
        app_message(a, EL_MESSAGE, "this runbook is finished: Esc goes back to the list");
        return REACT_REDRAW;
    }
    if (s->start_failed) {
        err_set(err, SL_AUDIT_DB,
                "this runbook run could not be recorded; leave it (Esc) and start again");
        return REACT_REDRAW;
    }
    if (s->busy || !s->started) {
        app_message(a, EL_MESSAGE, "still recording the previous step…");
        return REACT_REDRAW;
    }
    if (id == ACT_STEP_SKIP) {
        ask(v, a, 1);
        return REACT_REDRAW;
    }
    return take_action(v, a, err);
}

static const char *action_label(const rb_step *step)
{
    switch (step->action) {
    case RB_ACT_NONE:
        return "mark this step done";
    case RB_ACT_NOTE:
        return "write a note";
    case RB_ACT_RETRY:
        return "retry the selected folder";
    case RB_ACT_SKIP:
        return "skip the selected folder";
    case RB_ACT_RESET:
        return "reset the selected folder";
    case RB_ACT_MARK:
        return "mark the selected folder processed";
    case RB_ACT_RUN:
        return "run the selected pipeline";
    case RB_ACT_ROLLBACK:
        return "roll back the selected commit's run";
    case RB_ACT_RESTORE:
        return "restore the table to the selected version";
    case RB_ACT_VACUUM_CHECK:
        return "dry-run vacuum of the selected table";
    case RB_ACT_COUNT:
        break;
    }
    return "?";
}

static theme_elem step_elem(const rbrun_state *s, size_t i)
{
    if (i == s->cur)
        return EL_TITLE;
    if (s->status[i] == ST_SKIPPED)
        return EL_DIM;
    return s->status[i] == ST_PENDING ? EL_NORMAL : EL_OK;
}

static const char *step_mark(const rbrun_state *s, size_t i)
{
    return i == s->cur && s->status[i] == ST_PENDING ? "[*]" : status_mark[s->status[i]];
}

/* One row per step with its state. */
static int draw_steps(view *v, tui_rect r)
{
    rbrun_state *s = rst(v);
    int row = r.row;
    for (size_t i = 0; i < s->rb->nsteps && row < r.row + r.rows; i++, row++) {
        theme_elem e = step_elem(s, i);
        char *t =
            sl_asprintf("%s %zu. %s", step_mark(s, i), i + 1, s->rb->steps[i].title);
        crt_fill(row, r.col, r.cols, e);
        crt_put(row, 1, r.cols - 18, e, t);
        crt_put_right(row, r.cols - 16, 15, e,
                      i == s->cur && s->status[i] == ST_PENDING
                          ? "current"
                          : status_word[s->status[i]]);
        free(t);
    }
    return row - r.row;
}

/* Small screens: every step's mark on one line, then the current title. */
static int draw_steps_compact(view *v, tui_rect r)
{
    rbrun_state *s = rst(v);
    int col = 1;
    for (size_t i = 0; i < s->rb->nsteps && col < r.cols - 6; i++) {
        char *t = sl_asprintf("%s%zu", step_mark(s, i), i + 1);
        col += crt_put(r.row, col, r.cols - col, step_elem(s, i), t) + 1;
        free(t);
    }
    if (s->cur < s->rb->nsteps && col < r.cols - 4)
        crt_put(r.row, col + 1, r.cols - col - 2, EL_TITLE, s->rb->steps[s->cur].title);
    return 1;
}

/* Rows the selected panel row's details take (message, hint). */
static int detail_rows(const pn_row *sel)
{
    return sel ? (sel->detail ? 2 : 0) + (sel->hint ? 1 : 0) : 0;
}

static void draw_panel(view *v, app *a, tui_rect r)
{
    rbrun_state *s = rst(v);
    if (r.rows <= 0)
        return;
    char *head = sl_asprintf("Live: %s%s%s", panel_title[s->panel], s->note ? " · " : "",
                             s->note ? s->note : "");
    crt_fill(r.row, r.col, r.cols, EL_SECTION);
    crt_put(r.row, 1, r.cols - 1, EL_SECTION, head);
    free(head);
    tui_rect body = {r.row + 1, r.col, r.rows - 1, r.cols};
    if (view_draw_state(v, a, body, panel_title[s->panel]))
        return;
    const pn_row *sel = selected_row(v);
    int extra = detail_rows(sel);
    if (extra > body.rows - 2)
        extra = body.rows - 2 > 0 ? body.rows - 2 : 0;
    /* The details follow the rows, not the bottom of a tall screen. */
    int list_rows = body.rows - extra;
    int want = 1 + (int)(s->nrows ? s->nrows : 1);
    if (want < list_rows)
        list_rows = want;
    list_draw(v, a, (tui_rect){body.row, body.col, list_rows, body.cols});
    int row = body.row + list_rows;
    if (sel && sel->detail && extra >= 2 + (sel->hint ? 1 : 0))
        row += draw_wrapped(row, 1, body.cols - 2, 2, EL_NORMAL, sel->detail);
    if (sel && sel->hint && extra > 0) {
        char *h = sl_asprintf("hint: %s", sel->hint);
        crt_put(row, 1, body.cols - 2, EL_WARNING, h);
        free(h);
    }
}

/* Rows the panel would like: its line, the column titles, its rows (at
 * least one line for "nothing here" or loading), the details. */
static int panel_want(view *v)
{
    rbrun_state *s = rst(v);
    if (s->panel == RB_PANEL_NONE)
        return 0;
    size_t n = s->nrows ? s->nrows : 1;
    return 2 + (int)(n > 12 ? 12 : n) + detail_rows(selected_row(v));
}

static void rbrun_draw(view *v, app *a, tui_rect r)
{
    rbrun_state *s = rst(v);
    const rb_step *step = cur_step(v);
    int end = r.row + r.rows;
    char *head = step ? sl_asprintf("%s · step %zu of %zu", s->rb->title, s->cur + 1,
                                    s->rb->nsteps)
                      : sl_asprintf("%s · finished", s->rb->title);
    crt_put(r.row, 1, r.cols - 1, EL_HEADER, head);
    free(head);
    int row = r.row + 1;
    tui_rect steps = {row, r.col, end - row, r.cols};
    row += r.rows >= 30 || !step ? draw_steps(v, steps) : draw_steps_compact(v, steps);
    if (!step) {
        if (row + 1 < end)
            crt_put(row + 1, 1, r.cols - 2, EL_DIM,
                    "Every step is in the audit log (5: audit). Esc: back to the list.");
        return;
    }
    row++;
    /* The explanation gets what the panel leaves, but at least 3 rows. */
    int keys_row = end - 1;
    int panel = panel_want(v);
    int text_rows = keys_row - row - (panel ? panel + 1 : 0);
    if (text_rows < 3)
        text_rows = 3;
    if (text_rows > keys_row - row)
        text_rows = keys_row - row;
    if (text_rows > 0)
        row += draw_wrapped(row, 1, r.cols - 2, text_rows, EL_NORMAL, step->text);
    if (panel && row + 3 <= keys_row) {
        int top = row + 4 <= keys_row ? row + 1 : row; /* a blank line when it fits */
        draw_panel(v, a, (tui_rect){top, r.col, keys_row - top, r.cols});
    }
    int refused = app_read_only(a) && mutating_ops_name(step->action);
    char *keys = sl_asprintf("a: %s%s · n: skip this step · Esc: leave",
                             action_label(step), refused ? " (refused: read-only)" : "");
    crt_put(keys_row, 1, r.cols - 2, EL_KEY, keys);
    free(keys);
}

static void rbrun_done(view *v)
{
    rbrun_state *s = rst(v);
    if (!s)
        return;
    runbook_free(s->rb);
    free(s->status);
    rows_free(s->rows, s->nrows);
    free(s->note);
    free(s);
}

static const view_ops view_rbrun_ops = {
    .name = "runbooks",
    .title = "Runbooks",
    .load = rbrun_load,
    .take = rbrun_take,
    .draw = rbrun_draw,
    .handle = rbrun_handle,
    .notify = rbrun_notify,
    .done = rbrun_done,
};

static runbook *rb_dup(const runbook *src)
{
    runbook *rb = sl_calloc(1, sizeof *rb);
    rb->id = sl_strdup(src->id);
    rb->path = sl_strdup(src->path);
    rb->title = sl_strdup(src->title);
    rb->summary = sl_strdup(src->summary);
    rb->nsteps = src->nsteps;
    rb->steps = sl_calloc(src->nsteps ? src->nsteps : 1, sizeof *rb->steps);
    for (size_t i = 0; i < src->nsteps; i++) {
        rb->steps[i] = src->steps[i];
        rb->steps[i].title = sl_strdup(src->steps[i].title);
        rb->steps[i].text = sl_strdup(src->steps[i].text);
    }
    return rb;
}

static unsigned rblist_enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    rbrun_state *s = sl_calloc(1, sizeof *s);
    s->rb = rb_dup(lst(v)->rbs[i]);
    s->status = sl_calloc(s->rb->nsteps ? s->rb->nsteps : 1, sizeof *s->status);
    ids_random_hex(s->run_id, 8);
    char crumb[64];
    fmt_middle(s->rb->title, 40, crumb, sizeof crumb);
    view *child = app_view_new(a, &view_rbrun_ops, crumb, s);
    app_push(a, child);
    rb_job *j = job_new(JOB_EVENT);
    j->name = sl_strdup("runbook.start");
    j->target = sl_strdup(s->rb->id);
    j->params = json_pack("{s:s, s:s, s:I}", "runbook_run", s->run_id, "title",
                          s->rb->title, "steps", (json_int_t)s->rb->nsteps);
    j->start = 1;
    post_event(child, a, j);
    return REACT_REDRAW;
}

static unsigned rblist_handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)v;
    (void)arg;
    (void)err;
    if (id == ACT_STEP_DO || id == ACT_STEP_SKIP) {
        app_message(a, EL_MESSAGE, "start a runbook first: select one and press Enter");
        return REACT_REDRAW;
    }
    return REACT_UNHANDLED;
}

const view_ops view_runbooks_ops = {
    .name = "runbooks",
    .title = "Runbooks",
    .load = rblist_load,
    .take = rblist_take,
    .draw = rblist_draw,
    .handle = rblist_handle,
    .enter = rblist_enter,
    .done = rblist_done,
};
