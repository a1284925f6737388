/* One table: its snapshot summary and its history, newest first. Enter on
 * a version opens that commit's actions and metrics; Space marks a version
 * and `d` diffs the marked one with the selected one (without a mark: the
 * selected one with its predecessor; `:diff V1 V2` any two); `p` previews
 * the rows of the selected version (`:preview V`). Restore, vacuum and
 * optimize go through intervene.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/intervene.h"
#include "tui/tablesum.h"
#include "tui/view.h"

typedef struct history_state {
    char *name;
    char *url;
    table_summary sum;
    delta_history hist;
    int have_hist;
    int64_t marked; /* version marked with Space for a diff; -1 none */
} history_state;

typedef struct history_job {
    tui_job base;
    char *url;
    table_summary sum;
    delta_history hist;
} history_job;

static const tui_column cols[] = {
    {"Version", 7, 0, 1},    {"Time (UTC)", 16, 0, 0},
    {"Operation", 10, 1, 0}, {"Operator / engine", 10, 1, 0},
    {"+Add", 5, 0, 1},       {"-Rm", 5, 0, 1},
    {"Rows", 7, 0, 1},
};

static history_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->have_hist ? st(v)->hist.n : 0;
}

/* The operator sluice records in userMetadata (a JSON string), else NULL;
 * caller frees. */
static char *commit_operator(const delta_commit_info *c)
{
    const char *um = json_string_value(json_object_get(c->commit_info, "userMetadata"));
    json_t *j = um ? json_loads(um, 0, NULL) : NULL;
    const char *op = json_string_value(json_object_get(j, "operator"));
    char *out = op ? sl_strdup(op) : NULL;
    json_decref(j);
    return out;
}

/* Who made the commit: the operator (or Spark's userName), then the
 * engine. */
static void who_text(const delta_commit_info *c, char *out, size_t outlen)
{
    char *op = commit_operator(c);
    const char *user = op ? op : c->user;
    char raw[TUI_CELL_MAX];
    if (user && c->engine)
        snprintf(raw, sizeof raw, "%s · %s", user, c->engine);
    else
        snprintf(raw, sizeof raw, "%s", user ? user : c->engine ? c->engine : "-");
    tbl_escape(raw, out, outlen);
    free(op);
}

static int64_t metric(const json_t *metrics, const char *name)
{
    const json_t *v = json_object_get(metrics, name);
    if (json_is_integer(v))
        return json_integer_value(v);
    const char *t = json_string_value(v);
    char *end = NULL;
    long long n = t ? strtoll(t, &end, 10) : -1;
    return t && end != t && *end == '\0' ? n : -1;
}

/* The rows a commit wrote or deleted, from its metrics (Delta's names):
 * "+10", "-3", "+2 -1"; "" when the commit does not say. */
static void rows_text(const delta_commit_info *c, char *out, size_t outlen)
{
    const json_t *m = c->operation_metrics;
    static const char *const added[] = {"numOutputRows", "numTargetRowsInserted",
                                        "numRestoredRows"};
    static const char *const removed[] = {"numDeletedRows", "numTargetRowsDeleted",
                                          "numRemovedRows"};
    int64_t plus = -1, minus = -1;
    for (size_t k = 0; k < 3 && plus < 0; k++)
        plus = metric(m, added[k]);
    for (size_t k = 0; k < 3 && minus < 0; k++)
        minus = metric(m, removed[k]);
    char p[32] = "", n[32] = "";
    if (plus >= 0)
        fmt_human(plus, p, sizeof p);
    if (minus >= 0)
        fmt_human(minus, n, sizeof n);
    snprintf(out, outlen, "%s%s%s%s%s", plus >= 0 ? "+" : "", p,
             plus >= 0 && minus > 0 ? " " : "", minus > 0 ? "-" : "", minus > 0 ? n : "");
}

static void row(view *v, size_t i, tui_row *out)
{
    const delta_commit_info *c = &st(v)->hist.items[i];
    int marked = st(v)->marked == c->version;
    snprintf(out->cell[0], TUI_CELL_MAX, "%s%lld", marked ? "* " : "",
             (long long)c->version);
    fmt_time_short(c->timestamp_ms, out->cell[1], TUI_CELL_MAX);
    tbl_escape(c->operation ? c->operation : "(no commitInfo)", out->cell[2],
               TUI_CELL_MAX);
    who_text(c, out->cell[3], TUI_CELL_MAX);
    snprintf(out->cell[4], TUI_CELL_MAX, "+%zu", c->num_add);
    snprintf(out->cell[5], TUI_CELL_MAX, "-%zu", c->num_remove);
    rows_text(c, out->cell[6], TUI_CELL_MAX);
    if (marked)
        out->elem = EL_SECTION;
    else if (!c->operation)
        out->elem = EL_DIM;
}

static const list_ops history_list_ops = {cols, 7, 0, count, row};

static void job_run(tui_job *job, session *sess)
{
    history_job *j = (history_job *)job;
    tablesum_load(j->url, sess->log, &j->sum);
    store *s = NULL;
    job->code = store_open(j->url, &s, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(s, sess->log);
    job->code = delta_history_load(s, "", 0, &j->hist, &job->err);
    store_close(s);
}

static void job_free(tui_job *job)
{
    history_job *j = (history_job *)job;
    delta_history_free(&j->hist);
    free(j->url);
    free(j);
}

static void load(view *v, app *a)
{
    history_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->url = sl_strdup(st(v)->url);
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    history_job *j = (history_job *)job;
    st(v)->sum = j->sum;
    if (st(v)->have_hist)
        delta_history_free(&st(v)->hist);
    st(v)->have_hist = 0;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        st(v)->hist = j->hist;
        memset(&j->hist, 0, sizeof j->hist);
        st(v)->have_hist = 1;
        v->loaded = 1;
        if (j->sum.code != SL_OK)
            app_error(a, &j->sum.err);
    }
    job->free(job);
}

static void draw_summary(view *v, tui_rect r)
{
    const table_summary *s = &st(v)->sum;
    char *line;
    line = sl_asprintf("%s · %s", st(v)->name, st(v)->url);
    crt_put(r.row, 1, r.cols - 1, EL_DIM, line);
    free(line);
    if (s->code != SL_OK) {
        line = sl_asprintf("snapshot: %s %s", err_code_name(s->code), s->err.msg);
        crt_put(r.row + 1, 1, r.cols - 1, EL_FAILED, line);
        free(line);
        return;
    }
    char rows[32], size[32], when[32], age[32];
    fmt_count(s->rows, rows, sizeof rows);
    fmt_bytes(s->bytes, size, sizeof size);
    fmt_time_short(s->timestamp_ms, when, sizeof when);
    fmt_age(s->timestamp_ms, time_now_ms(), age, sizeof age);
    line = sl_asprintf("version %lld (%s, %s) · %llu files · %s rows · %s · protocol %s",
                       (long long)s->version, when, age, (unsigned long long)s->files,
                       rows, size, s->protocol);
    crt_put(r.row + 1, 1, r.cols - 1, s->rows < 0 ? EL_WARNING : EL_NORMAL, line);
    free(line);
    if (st(v)->marked >= 0) {
        line = sl_asprintf("* version %lld marked: d diffs it with the selected version",
                           (long long)st(v)->marked);
        crt_put(r.row + 2, 1, r.cols - 1, EL_SECTION, line);
        free(line);
    }
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "history"))
        return;
    if (r.rows < 4)
        return;
    draw_summary(v, r);
    int top = st(v)->marked >= 0 ? 3 : 2;
    list_draw(v, a, (tui_rect){r.row + top, r.col, r.rows - top, r.cols});
}

/* ---- one commit, produced on the worker ---- */

typedef struct commit_arg {
    char *name;
    char *url;
    int64_t version;
} commit_arg;

static void commit_arg_free(void *p)
{
    commit_arg *c = p;
    free(c->name);
    free(c->url);
    free(c);
}

static void append_object(sl_buf *out, const json_t *obj)
{
    const char *k;
    const json_t *val;
    if (!json_is_object(obj) || json_object_size(obj) == 0) {
        buf_append_str(out, "  (none)\n");
        return;
    }
    json_object_foreach((json_t *)obj, k, val)
    {
        if (json_is_string(val)) {
            char esc[TUI_CELL_MAX];
            tbl_escape(json_string_value(val), esc, sizeof esc);
            buf_appendf(out, "  %s: %s\n", k, esc);
        } else {
            char *txt = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            buf_appendf(out, "  %s: %s\n", k, txt ? txt : "?");
            free(txt);
        }
    }
}

static void append_action_line(sl_buf *out, const json_t *action)
{
    const char *kind;
    const json_t *body;
    json_object_foreach((json_t *)action, kind, body)
    {
        if (strcmp(kind, "add") == 0 || strcmp(kind, "remove") == 0) {
            const char *path = json_string_value(json_object_get(body, "path"));
            json_int_t size = json_integer_value(json_object_get(body, "size"));
            char sz[32], rows[48] = "";
            fmt_bytes((uint64_t)(size > 0 ? size : 0), sz, sizeof sz);
            /* stats is a JSON string inside the action (PROTOCOL.md). */
            const char *stats = json_string_value(json_object_get(body, "stats"));
            json_t *sj = stats ? json_loads(stats, 0, NULL) : NULL;
            json_t *nr = sj ? json_object_get(sj, "numRecords") : NULL;
            if (json_is_integer(nr))
                snprintf(rows, sizeof rows, "  %lld rows",
                         (long long)json_integer_value(nr));
            json_decref(sj);
            char esc[TUI_CELL_MAX];
            tbl_escape(path ? path : "?", esc, sizeof esc);
            buf_appendf(out, "  %c %-7s %s  %s%s\n", kind[0] == 'a' ? '+' : '-', kind,
                        esc, sz, rows);
        } else if (strcmp(kind, "protocol") == 0) {
            buf_appendf(
                out, "  protocol  reader %lld, writer %lld\n",
                (long long)json_integer_value(json_object_get(body, "minReaderVersion")),
                (long long)json_integer_value(json_object_get(body, "minWriterVersion")));
        } else if (strcmp(kind, "metaData") == 0) {
            const char *id = json_string_value(json_object_get(body, "id"));
            buf_appendf(out, "  metaData  id %s\n", id ? id : "?");
        } else {
            buf_appendf(out, "  %s\n", kind);
        }
        break; /* one key per action line */
    }
}

/* "Label: value" with the value escaped; "-" when absent. */
static void append_field(sl_buf *out, const char *label, const char *value)
{
    char esc[TUI_CELL_MAX];
    tbl_escape(value ? value : "-", esc, sizeof esc);
    buf_appendf(out, "%s %s\n", label, esc);
}

/* One line adding up the commit's data files: how many, bytes, rows. */
static void append_changes(sl_buf *out, const json_t *actions)
{
    size_t n[2] = {0, 0};
    int64_t bytes[2] = {0, 0}, rows[2] = {0, 0};
    int rows_known[2] = {1, 1};
    size_t i;
    const json_t *a;
    json_array_foreach(actions, i, a)
    {
        int k = json_object_get(a, "add") ? 0 : json_object_get(a, "remove") ? 1 : -1;
        if (k < 0)
            continue;
        const json_t *body = json_object_get(a, k ? "remove" : "add");
        n[k]++;
        bytes[k] += json_integer_value(json_object_get(body, "size"));
        const char *stats = json_string_value(json_object_get(body, "stats"));
        json_t *sj = stats ? json_loads(stats, 0, NULL) : NULL;
        const json_t *nr = json_object_get(sj, "numRecords");
        if (json_is_integer(nr))
            rows[k] += json_integer_value(nr);
        else
            rows_known[k] = 0;
        json_decref(sj);
    }
    sl_buf line = {0};
    for (int k = 0; k < 2; k++) {
        char b[32], r[32];
        fmt_bytes((uint64_t)(bytes[k] > 0 ? bytes[k] : 0), b, sizeof b);
        fmt_human(rows_known[k] ? rows[k] : -1, r, sizeof r);
        buf_appendf(&line, "%s%c%zu file%s", k ? " · " : "", k ? '-' : '+', n[k],
                    n[k] == 1 ? "" : "s");
        if (n[k])
            buf_appendf(&line, " (%s, %s rows)", b, r);
    }
    buf_appendf(out, "Changes:   %s\n", line.data);
    buf_free(&line);
}

static sl_code commit_text(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    commit_arg *c = arg;
    store *s = NULL;
    sl_code rc = store_open(c->url, &s, err);
    if (rc != SL_OK)
        return rc;
    store_set_log(s, sess->log);
    json_t *actions = NULL;
    rc = delta_commit_read(s, "", c->version, &actions, err);
    store_close(s);
    if (rc != SL_OK)
        return rc;
    const json_t *ci = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) if (json_object_get(a, "commitInfo")) ci =
        json_object_get(a, "commitInfo");
    buf_appendf(out, "%s version %lld — %zu actions\n", c->name, (long long)c->version,
                json_array_size(actions));
    if (ci) {
        char when[32];
        json_int_t ts = json_integer_value(json_object_get(ci, "timestamp"));
        fmt_time(ts, when, sizeof when);
        char *t = sl_asprintf("%s UTC", when);
        append_field(out, "Time:     ", t);
        free(t);
        append_field(out,
                     "Operation:", json_string_value(json_object_get(ci, "operation")));
        const char *um = json_string_value(json_object_get(ci, "userMetadata"));
        json_t *umj = um ? json_loads(um, 0, NULL) : NULL;
        append_field(out,
                     "Operator: ", json_string_value(json_object_get(umj, "operator")));
        json_decref(umj);
        append_field(out,
                     "User:     ", json_string_value(json_object_get(ci, "userName")));
        append_field(out,
                     "Engine:   ", json_string_value(json_object_get(ci, "engineInfo")));
    } else {
        buf_append_str(out, "(this commit has no commitInfo)\n");
    }
    append_changes(out, actions);
    if (ci) {
        buf_append_str(out, "\nParameters:\n");
        append_object(out, json_object_get(ci, "operationParameters"));
        buf_append_str(out, "\nMetrics:\n");
        append_object(out, json_object_get(ci, "operationMetrics"));
    }
    buf_append_str(out, "\nActions:\n");
    json_array_foreach(actions, i, a) append_action_line(out, a);
    buf_append_str(out, "\nLog entries:\n");
    json_array_foreach(actions, i, a)
    {
        char *txt = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (txt) {
            char *save = NULL;
            for (char *line = strtok_r(txt, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save))
                buf_appendf(out, "  %s\n", line);
            free(txt);
        }
    }
    json_decref(actions);
    return SL_OK;
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    commit_arg *c = sl_calloc(1, sizeof *c);
    c->name = sl_strdup(st(v)->name);
    c->url = sl_strdup(st(v)->url);
    c->version = st(v)->hist.items[i].version;
    char crumb[48];
    snprintf(crumb, sizeof crumb, "version %lld", (long long)c->version);
    app_push(a, view_text_new(a, crumb, commit_text, c, commit_arg_free));
    return REACT_REDRAW;
}

static int has_version(view *v, int64_t version)
{
    for (size_t i = 0; i < st(v)->hist.n; i++)
        if (st(v)->hist.items[i].version == version)
            return 1;
    return 0;
}

static sl_code parse_version(const char *text, int64_t *out, sl_err *err)
{
    char *end = NULL;
    long long n = strtoll(text, &end, 10);
    if (end == text || *end || n < 0)
        return err_set(err, SL_USAGE, "'%s' is not a version number", text);
    *out = n;
    return SL_OK;
}

/* Space: marks the selected version (again: unmarks it). */
static unsigned do_mark(view *v, app *a, int64_t selected)
{
    history_state *s = st(v);
    if (selected < 0)
        return REACT_NONE;
    s->marked = s->marked == selected ? -1 : selected;
    if (s->marked >= 0)
        app_message(a, EL_MESSAGE, "version %lld marked: select another and press d",
                    (long long)selected);
    else
        app_message(a, EL_MESSAGE, "mark cleared");
    return REACT_REDRAW;
}

/* d: "V1 V2" given, else the marked and the selected version, else the
 * selected one and its predecessor. */
static unsigned do_diff(view *v, app *a, const char *arg, int64_t selected, sl_err *err)
{
    int64_t v1 = -1, v2 = -1;
    if (arg) {
        char one[32], two[32], extra;
        if (sscanf(arg, "%31s %31s %c", one, two, &extra) != 2) {
            err_set(err, SL_USAGE, "diff takes two versions: diff V1 V2 (got '%s')", arg);
            return REACT_REDRAW;
        }
        if (parse_version(one, &v1, err) != SL_OK ||
            parse_version(two, &v2, err) != SL_OK)
            return REACT_REDRAW;
    } else if (selected < 0) {
        err_set(err, SL_USAGE, "no version selected");
        return REACT_REDRAW;
    } else if (st(v)->marked >= 0 && st(v)->marked != selected) {
        v1 = st(v)->marked;
        v2 = selected;
    } else if (selected == 0) {
        app_message(
            a, EL_WARNING,
            "version 0 has no predecessor: Space marks a version to compare with");
        return REACT_REDRAW;
    } else {
        v1 = selected - 1;
        v2 = selected;
    }
    if (v1 == v2) {
        err_set(err, SL_USAGE, "diff needs two different versions (got %lld twice)",
                (long long)v1);
        return REACT_REDRAW;
    }
    app_push(a, view_diff_new(a, st(v)->name, st(v)->url, v1, v2));
    return REACT_REDRAW;
}

/* p: the version given, else the selected one. */
static unsigned do_preview(view *v, app *a, const char *arg, int64_t selected,
                           sl_err *err)
{
    int64_t version = selected;
    if (arg && parse_version(arg, &version, err) != SL_OK)
        return REACT_REDRAW;
    if (version < 0) {
        err_set(err, SL_USAGE, "no version selected");
        return REACT_REDRAW;
    }
    if (v->loaded && !has_version(v, version))
        app_message(a, EL_WARNING, "version %lld is not in the history shown: trying it",
                    (long long)version);
    app_push(a, view_preview_new(a, st(v)->name, st(v)->url, version));
    return REACT_REDRAW;
}

/* Restore goes to the version under the cursor unless one is given. */
static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    size_t i;
    int64_t selected = -1;
    if (v->loaded && list_selected(v, &i))
        selected = st(v)->hist.items[i].version;
    switch (id) {
    case ACT_SELECT:
        return do_mark(v, a, selected);
    case ACT_DIFF:
        return do_diff(v, a, arg, selected, err);
    case ACT_PREVIEW:
        return do_preview(v, a, arg, selected, err);
    default:
        return intervene_handle(a, id, arg, st(v)->name, st(v)->url, selected, err);
    }
}

static void notify(view *v, app *a, int event)
{
    if (event == VIEW_EVENT_TABLE_CHANGED)
        load(v, a);
}

static void done(view *v)
{
    history_state *s = st(v);
    if (s->have_hist)
        delta_history_free(&s->hist);
    free(s->name);
    free(s->url);
    free(s);
}

const view_ops view_history_ops = {
    .name = "history",
    .title = "History",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .enter = enter,
    .notify = notify,
    .done = done,
};

view *view_history_new(app *a, const char *table_name, const char *url)
{
    history_state *s = sl_calloc(1, sizeof *s);
    s->name = sl_strdup(table_name);
    s->url = sl_strdup(url);
    s->sum.rows = -1;
    s->marked = -1;
    view *v = app_view_new(a, &view_history_ops, table_name, s);
    v->list.ops = &history_list_ops;
    return v;
}
