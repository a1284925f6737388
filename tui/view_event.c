/* One audit event: every field, the request it belongs to (its requested
 * row and the succeeded / failed / refused row that closed it), and the
 * parameters and the state before and after, pretty-printed. Long lines are
 * wrapped to the screen with a "↪" marker, re-wrapped on resize; the page
 * scrolls and filters like any list. Enter on a row of the request opens
 * that event. Everything is read on the worker. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/pipeline/config.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

/* What a continuation line starts with (after the indentation). */
#define WRAP_MARK "↪ "
/* Column of a field's value ("Operator:  tester"). */
#define VALUE_COL 11

view *view_event_new(app *a, int64_t id);

/* One line of the page before wrapping. */
typedef struct ev_line {
    char *text;
    theme_elem elem;
    int64_t ref; /* the event Enter opens from this line; 0: none */
    int indent;  /* where continuation lines start */
} ev_line;

typedef struct ev_state {
    int64_t id;
    ev_line *lines; /* logical */
    size_t n, cap;
    ev_line *wrapped; /* for the width of the last draw (text owned here) */
    size_t nwrapped, capwrapped;
    int wrap_cols;
} ev_state;

typedef struct ev_job {
    tui_job base;
    int64_t id;
    audit_event ev;
    audit_event *request; /* the rows of its request, oldest first */
    size_t nrequest;
    char *channel;    /* of its session, when its session.open row says */
    char *table_name; /* the configured table its target is */
} ev_job;

static ev_state *st(view *v)
{
    return v->state;
}

/* ---- the worker side ---------------------------------------------------- */

static int same_text(const char *x, const char *y)
{
    return x == y || (x && y && strcmp(x, y) == 0);
}

/* ops writes a request's rows from one session for one action and target:
 * requested first, then one closing row (or a refused row alone). Walking
 * that session's rows of the action in order pairs each closing row with
 * the oldest open request of the same target. */
static void request_rows(session *sess, const audit_event *ev, ev_job *j)
{
    if (!ev->session_id || !ev->action)
        return;
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.session_id = ev->session_id;
    f.action = ev->action;
    audit_event *rows = NULL;
    size_t n = 0;
    sl_err e;
    err_clear(&e);
    if (audit_query(sess->audit, &f, &rows, &n, &e) != SL_OK)
        return;
    size_t *partner = sl_calloc(n ? n : 1, sizeof *partner); /* index + 1; 0: none */
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].phase || strcmp(rows[i].phase, "requested") == 0)
            continue;
        for (size_t k = 0; k < i; k++)
            if (!partner[k] && rows[k].phase && strcmp(rows[k].phase, "requested") == 0 &&
                same_text(rows[k].target, rows[i].target)) {
                partner[k] = i + 1;
                partner[i] = k + 1;
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i].id != ev->id)
            continue;
        size_t first = i, second = partner[i] ? partner[i] - 1 : i;
        if (second < first) {
            size_t t = first;
            first = second;
            second = t;
        }
        j->nrequest = first == second ? 1 : 2;
        j->request = sl_calloc(j->nrequest, sizeof *j->request);
        j->request[0] = rows[first];
        memset(&rows[first], 0, sizeof rows[first]);
        if (j->nrequest == 2) {
            j->request[1] = rows[second];
            memset(&rows[second], 0, sizeof rows[second]);
        }
        break;
    }
    free(partner);
    audit_events_free(rows, n);
}

/* The channel (cli, console) its session was opened from. */
static char *session_channel(session *sess, const audit_event *ev)
{
    if (!ev->session_id)
        return NULL;
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.session_id = ev->session_id;
    f.action = "session.open";
    f.phase = "succeeded"; /* the row whose after state describes the session */
    f.limit = 1;
    audit_event *rows = NULL;
    size_t n = 0;
    sl_err e;
    err_clear(&e);
    char *out = NULL;
    if (audit_query(sess->audit, &f, &rows, &n, &e) != SL_OK)
        return NULL;
    for (size_t i = 0; i < n && !out; i++) {
        json_t *after =
            rows[i].after_state ? json_loads(rows[i].after_state, 0, NULL) : NULL;
        const char *ch = json_string_value(json_object_get(after, "channel"));
        if (ch && *ch)
            out = sl_strdup(ch);
        json_decref(after);
    }
    audit_events_free(rows, n);
    return out;
}

static char *table_name_of(session *sess, const char *target)
{
    const config *cfg = sess->cfg;
    for (size_t i = 0; target && cfg && i < cfg->ntables; i++) {
        char *url = NULL;
        sl_err e;
        err_clear(&e);
        if (config_table_url(cfg, cfg->tables[i].name, &url, &e) != SL_OK)
            continue;
        int same = strcmp(url, target) == 0;
        free(url);
        if (same)
            return sl_strdup(cfg->tables[i].name);
    }
    return NULL;
}

static void job_run(tui_job *job, session *sess)
{
    ev_job *j = (ev_job *)job;
    if (!sess->audit) {
        job->code =
            err_set(&job->err, SL_AUDIT_DB, "no audit log is open in this session");
        return;
    }
    job->code = audit_get(sess->audit, j->id, &j->ev, &job->err);
    if (job->code != SL_OK)
        return;
    request_rows(sess, &j->ev, j);
    j->channel = session_channel(sess, &j->ev);
    j->table_name = table_name_of(sess, j->ev.target);
}

static void job_free(tui_job *job)
{
    ev_job *j = (ev_job *)job;
    audit_event_clear(&j->ev);
    audit_events_free(j->request, j->nrequest);
    free(j->channel);
    free(j->table_name);
    free(j);
}

/* ---- the page ------------------------------------------------------------- */

static void lines_free(ev_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
    free(l);
}

static void push(ev_line **arr, size_t *n, size_t *cap, char *text, theme_elem e,
                 int64_t ref, int indent)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = sl_realloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = (ev_line){text, e, ref, indent};
}

static void add(ev_state *s, theme_elem e, int64_t ref, int indent, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(ev_state *s, theme_elem e, int64_t ref, int indent, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = sl_calloc((size_t)(len > 0 ? len : 0) + 1, 1);
    if (len > 0)
        vsnprintf(text, (size_t)len + 1, fmt, again);
    va_end(again);
    push(&s->lines, &s->n, &s->cap, text, e, ref, indent);
}

/* A field line; values are added whole (never cut by vsnprintf). */
static void field(ev_state *s, const char *label, const char *value, theme_elem e)
{
    char *text = sl_asprintf("%-10s %s", label, value && *value ? value : "-");
    push(&s->lines, &s->n, &s->cap, text, e, 0, VALUE_COL);
}

static theme_elem phase_elem(const char *phase)
{
    if (!phase)
        return EL_NORMAL;
    if (strcmp(phase, "failed") == 0)
        return EL_FAILED;
    if (strcmp(phase, "refused") == 0)
        return EL_WARNING;
    if (strcmp(phase, "succeeded") == 0)
        return EL_OK;
    return EL_NORMAL;
}

/* A JSON column as an indented block: pretty-printed when it parses (keys
 * in the order written), verbatim otherwise. */
static void json_block(ev_state *s, const char *title, const char *text)
{
    add(s, EL_HEADER, 0, 0, "%s:", title);
    if (!text) {
        add(s, EL_DIM, 0, 2, "  (none)");
        return;
    }
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    char *pretty =
        j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    const char *p = pretty ? pretty : text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        size_t lead = strspn(p, " ");
        char *line = sl_asprintf("  %.*s", (int)len, p);
        push(&s->lines, &s->n, &s->cap, line, EL_NORMAL, 0,
             2 + (int)(lead < len ? lead : 0));
        p += len;
        if (*p)
            p++;
    }
    free(pretty);
    json_decref(j);
}

static void request_block(ev_state *s, const ev_job *j)
{
    add(s, EL_HEADER, 0, 0, "Request:");
    if (j->nrequest == 0) {
        add(s, EL_DIM, 0, 2, "  (no rows of this session and action)");
        return;
    }
    for (size_t i = 0; i < j->nrequest; i++) {
        const audit_event *r = &j->request[i];
        char when[32];
        fmt_time(r->ts_ms, when, sizeof when);
        int self = r->id == j->ev.id;
        add(s, phase_elem(r->phase), self ? 0 : r->id, 2,
            "  %s #%lld %-9s %s UTC%s%s  %s", i ? "→" : " ", (long long)r->id,
            r->phase ? r->phase : "-", when, r->error_code ? "  " : "",
            r->error_code ? r->error_code : "", self ? "(this event)" : "(Enter opens)");
    }
    if (j->nrequest == 1 && j->ev.phase && strcmp(j->ev.phase, "requested") == 0)
        add(s, EL_WARNING, 0, 2,
            "  no closing row yet: still running, or the process died");
}

static void build(ev_state *s, const ev_job *j)
{
    lines_free(s->lines, s->n);
    s->lines = NULL;
    s->n = s->cap = 0;
    const audit_event *e = &j->ev;
    char when[32], age[32], id[32];
    fmt_time(e->ts_ms, when, sizeof when);
    fmt_age(e->ts_ms, time_now_ms(), age, sizeof age);
    snprintf(id, sizeof id, "%lld", (long long)e->id);
    char *time = sl_asprintf("%s UTC (%s)", when, age);
    field(s, "Id:", id, EL_NORMAL);
    field(s, "Time:", time, EL_NORMAL);
    free(time);
    field(s, "Operator:", e->operator_name, EL_NORMAL);
    field(s, "Host:", e->host, EL_NORMAL);
    field(s, "Session:", e->session_id, EL_NORMAL);
    /* Only the console audits opening a session; the CLI's commands do not. */
    field(s, "Channel:", j->channel ? j->channel : "cli (inferred: no session.open row)",
          EL_NORMAL);
    field(s, "Action:", e->action, EL_NORMAL);
    char *target =
        j->table_name ? sl_asprintf("%s (%s)", j->table_name, e->target) : NULL;
    field(s, "Target:", target ? target : e->target, EL_NORMAL);
    free(target);
    field(s, "Phase:", e->phase, phase_elem(e->phase));
    field(s, "Reason:", e->reason, EL_NORMAL);
    if (e->error_code) {
        /* The log keeps the code; its meaning comes from the error table. */
        sl_code code = err_code_from_name(e->error_code);
        char *text = sl_asprintf("%s: %s", e->error_code, err_code_hint(code));
        field(s, "Error:", text, EL_FAILED);
        free(text);
    } else {
        field(s, "Error:", NULL, EL_NORMAL);
    }
    field(s, "Prev hash:", e->prev_hash, EL_DIM);
    field(s, "Hash:", e->hash, EL_DIM);
    add(s, EL_NORMAL, 0, 0, "%s", "");
    request_block(s, j);
    add(s, EL_NORMAL, 0, 0, "%s", "");
    json_block(s, "Parameters", e->params);
    json_block(s, "Before", e->before_state);
    json_block(s, "After", e->after_state);
    s->wrap_cols = 0; /* wrapped again at the next draw */
}

/* Bytes of text that fit in width cells (at least one character). */
static size_t fit(const char *text, int width)
{
    size_t len = strlen(text), used = 0;
    int cells = 0;
    while (used < len) {
        size_t n = 1;
        while (used + n < len && ((unsigned char)text[used + n] & 0xC0) == 0x80)
            n++;
        char one[8];
        memcpy(one, text + used, n < sizeof one ? n : sizeof one - 1);
        one[n < sizeof one ? n : sizeof one - 1] = '\0';
        int w = crt_text_width(one);
        if (cells + w > width && used > 0)
            break;
        cells += w;
        used += n;
    }
    return used;
}

/* Breaks after the last blank of the piece when that keeps most of it. */
static size_t break_at(const char *text, size_t max)
{
    if (text[max] == '\0')
        return max;
    for (size_t k = max; k > max * 2 / 3; k--)
        if (text[k - 1] == ' ')
            return k;
    return max;
}

static void wrap(ev_state *s, int cols)
{
    lines_free(s->wrapped, s->nwrapped);
    s->wrapped = NULL;
    s->nwrapped = s->capwrapped = 0;
    int mark = crt_text_width(WRAP_MARK);
    for (size_t i = 0; i < s->n; i++) {
        const ev_line *l = &s->lines[i];
        const char *p = l->text;
        int indent = l->indent + mark + 10 < cols ? l->indent : 0;
        int first = 1;
        do {
            int width = first ? cols : cols - indent - mark;
            size_t take = break_at(p, fit(p, width > 1 ? width : 1));
            char *piece =
                first ? sl_strndup(p, take)
                      : sl_asprintf("%*s%s%.*s", indent, "", WRAP_MARK, (int)take, p);
            push(&s->wrapped, &s->nwrapped, &s->capwrapped, piece, l->elem, l->ref, 0);
            p += take;
            first = 0;
        } while (*p);
    }
    s->wrap_cols = cols;
}

/* ---- the view --------------------------------------------------------- */

static const tui_column cols[] = {{"", 10, 1, 0}};

static size_t count(view *v)
{
    return st(v)->nwrapped;
}

static void row(view *v, size_t i, tui_row *out)
{
    const ev_line *l = &st(v)->wrapped[i];
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", l->text);
    out->elem = l->elem;
}

static const list_ops event_list_ops = {cols, 1, 1, count, row};

static void load(view *v, app *a)
{
    ev_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->id = st(v)->id;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    ev_job *j = (ev_job *)job;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        build(st(v), j);
        v->loaded = 1;
    }
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the event"))
        return;
    ev_state *s = st(v);
    /* The list draws its one column from the margin to the edge. */
    int width = r.cols - 1;
    if (width != s->wrap_cols) {
        wrap(s, width > 1 ? width : 1);
        list_refilter(v);
    }
    list_draw(v, a, r);
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i) || !st(v)->wrapped[i].ref) {
        app_message(a, EL_MESSAGE,
                    "Enter opens a row of the request (the lines with #id)");
        return REACT_NONE;
    }
    app_push(a, view_event_new(a, st(v)->wrapped[i].ref));
    return REACT_REDRAW;
}

static void done(view *v)
{
    ev_state *s = st(v);
    lines_free(s->lines, s->n);
    lines_free(s->wrapped, s->nwrapped);
    free(s);
}

static const view_ops view_event_ops = {
    .name = "event",
    .title = "Event",
    .load = load,
    .take = take,
    .draw = draw,
    .enter = enter,
    .done = done,
};

view *view_event_new(app *a, int64_t id)
{
    ev_state *s = sl_calloc(1, sizeof *s);
    s->id = id;
    char crumb[32];
    snprintf(crumb, sizeof crumb, "event %lld", (long long)id);
    view *v = app_view_new(a, &view_event_ops, crumb, s);
    v->list.ops = &event_list_ops;
    return v;
}
