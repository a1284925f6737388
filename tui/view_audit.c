/* Audit: the audit log newest first, filterable; Enter shows one event
 * with its before/after state; v verifies the hash chain and shows the
 * verdict at the top of the view. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

#define AUDIT_LIMIT 5000

enum { JOB_QUERY = 1, JOB_VERIFY = 2 };

typedef struct audit_state {
    audit_event *events;
    size_t n;
    int verified;       /* a verdict is shown */
    int verifying;
    audit_verify_result verdict;
    sl_code verdict_code;
    sl_err verdict_err;
} audit_state;

typedef struct audit_job {
    tui_job base;
    audit_event *events;
    size_t n;
    audit_verify_result verdict;
} audit_job;

static const tui_column cols[] = {
    {"Id", 5, 0, 1},      {"Time (UTC)", 19, 0, 0}, {"Operator", 8, 0, 0},
    {"Action", 13, 0, 0}, {"Phase", 9, 0, 0},       {"Target / reason", 10, 1, 0},
};

static audit_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->n;
}

static void row(view *v, size_t i, tui_row *out)
{
    const audit_event *e = &st(v)->events[i];
    snprintf(out->cell[0], TUI_CELL_MAX, "%lld", (long long)e->id);
    fmt_time(e->ts_ms, out->cell[1], TUI_CELL_MAX);
    snprintf(out->cell[2], TUI_CELL_MAX, "%s", e->operator_name ? e->operator_name : "-");
    snprintf(out->cell[3], TUI_CELL_MAX, "%s", e->action ? e->action : "-");
    snprintf(out->cell[4], TUI_CELL_MAX, "%s", e->phase ? e->phase : "-");
    if (e->target && e->reason)
        snprintf(out->cell[5], TUI_CELL_MAX, "%s: %s", e->target, e->reason);
    else
        snprintf(out->cell[5], TUI_CELL_MAX, "%s",
                 e->target ? e->target : e->reason ? e->reason : "");
    if (e->phase && strcmp(e->phase, "failed") == 0)
        out->elem = EL_FAILED;
    else if (e->phase && strcmp(e->phase, "refused") == 0)
        out->elem = EL_WARNING;
}

static const list_ops audit_list_ops = {cols, 6, 0, count, row};

static void query_run(tui_job *job, session *sess)
{
    audit_job *j = (audit_job *)job;
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.newest_first = 1;
    f.limit = AUDIT_LIMIT;
    job->code = audit_query(sess->audit, &f, &j->events, &j->n, &job->err);
}

static void verify_run(tui_job *job, session *sess)
{
    audit_job *j = (audit_job *)job;
    job->code = audit_verify(sess->audit, &j->verdict, &job->err);
}

static void job_free(tui_job *job)
{
    audit_job *j = (audit_job *)job;
    if (j->events)
        audit_events_free(j->events, j->n);
    free(j);
}

static void post(view *v, app *a, int kind)
{
    audit_job *j = sl_calloc(1, sizeof *j);
    j->base.kind = kind;
    j->base.run = kind == JOB_QUERY ? query_run : verify_run;
    j->base.free = job_free;
    app_post(a, v, &j->base);
}

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(audit_state));
        v->list.ops = &audit_list_ops;
    }
    if (!app_session(a)->audit) {
        err_set(&v->error, SL_AUDIT_DB, "no audit log is open in this session");
        return;
    }
    post(v, a, JOB_QUERY);
}

static void take(view *v, app *a, tui_job *job)
{
    audit_job *j = (audit_job *)job;
    audit_state *s = st(v);
    if (job->kind == JOB_VERIFY) {
        s->verifying = 0;
        s->verified = 1;
        s->verdict = j->verdict;
        s->verdict_code = job->code;
        s->verdict_err = job->err;
        if (job->code != SL_OK)
            app_error(a, &job->err);
    } else if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        if (s->events)
            audit_events_free(s->events, s->n);
        s->events = j->events;
        s->n = j->n;
        j->events = NULL;
        j->n = 0;
        v->loaded = 1;
    }
    job->free(job);
}

static void draw_verdict(view *v, app *a, int row, int cols)
{
    audit_state *s = st(v);
    char *line;
    theme_elem e;
    if (s->verifying) {
        line = sl_asprintf("%s verifying the hash chain…", app_spinner(a));
        e = EL_LOADING;
    } else if (!s->verified) {
        line = sl_asprintf("%zu events · v verifies the hash chain", s->n);
        e = EL_DIM;
    } else if (s->verdict_code == SL_OK) {
        line = sl_asprintf("✓ chain OK: %lld rows verified", (long long)s->verdict.rows);
        e = EL_OK;
    } else if (s->verdict_code == SL_AUDIT_TAMPERED) {
        line = sl_asprintf("✗ chain BROKEN at row %lld: %s", (long long)s->verdict.first_bad_id,
                           s->verdict.problem[0] ? s->verdict.problem : s->verdict_err.msg);
        e = EL_FAILED;
    } else {
        line = sl_asprintf("✗ verify failed: %s %s", err_code_name(s->verdict_code),
                           s->verdict_err.msg);
        e = EL_FAILED;
    }
    crt_fill(row, 0, cols, e == EL_DIM ? EL_NORMAL : e);
    crt_put(row, 1, cols - 1, e, line);
    free(line);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the audit log"))
        return;
    draw_verdict(v, a, r.row, r.cols);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)arg;
    (void)err;
    if (id != ACT_VERIFY)
        return REACT_UNHANDLED;
    if (!app_session(a)->audit)
        return REACT_NONE;
    st(v)->verifying = 1;
    post(v, a, JOB_VERIFY);
    return REACT_REDRAW;
}

/* ---- one event, produced on the worker ---- */

static void append_json_text(sl_buf *out, const char *title, const char *text)
{
    buf_appendf(out, "\n%s:\n", title);
    if (!text) {
        buf_append_str(out, "  (none)\n");
        return;
    }
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                     : NULL;
    const char *body = pretty ? pretty : text;
    const char *p = body;
    while (*p) {
        size_t len = strcspn(p, "\n");
        buf_appendf(out, "  %.*s\n", (int)len, p);
        p += len;
        if (*p)
            p++;
    }
    free(pretty);
    json_decref(j);
}

static sl_code event_text(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    int64_t id = *(int64_t *)arg;
    audit_event ev;
    memset(&ev, 0, sizeof ev);
    sl_code rc = audit_get(sess->audit, id, &ev, err);
    if (rc != SL_OK)
        return rc;
    char when[32];
    fmt_time(ev.ts_ms, when, sizeof when);
#define F(label, value) buf_appendf(out, "%-10s %s\n", label, (value) ? (value) : "-")
    buf_appendf(out, "%-10s %lld\n", "Id:", (long long)ev.id);
    buf_appendf(out, "%-10s %s UTC\n", "Time:", when);
    F("Operator:", ev.operator_name);
    F("Host:", ev.host);
    F("Session:", ev.session_id);
    F("Action:", ev.action);
    F("Phase:", ev.phase);
    F("Target:", ev.target);
    F("Reason:", ev.reason);
    F("Error:", ev.error_code);
    F("Prev hash:", ev.prev_hash);
    F("Hash:", ev.hash);
#undef F
    append_json_text(out, "Parameters", ev.params);
    append_json_text(out, "Before", ev.before_state);
    append_json_text(out, "After", ev.after_state);
    audit_event_clear(&ev);
    return SL_OK;
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    int64_t *id = sl_calloc(1, sizeof *id);
    *id = st(v)->events[i].id;
    char crumb[32];
    snprintf(crumb, sizeof crumb, "event %lld", (long long)*id);
    app_push(a, view_text_new(a, crumb, event_text, id, free));
    return REACT_REDRAW;
}

static void notify(view *v, app *a, int event)
{
    if (event != VIEW_EVENT_AUDIT_CHANGED || !v->state)
        return;
    st(v)->verified = 0; /* the verdict was about fewer rows */
    load(v, a);
}

static void done(view *v)
{
    if (!v->state)
        return;
    if (st(v)->events)
        audit_events_free(st(v)->events, st(v)->n);
    free(v->state);
}

const view_ops view_audit_ops = {
    .name = "audit",
    .title = "Audit",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};
