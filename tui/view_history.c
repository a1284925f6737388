/* One table: its snapshot summary and its history, newest first. Enter on
 * a version opens that commit's actions and metrics. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
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
} history_state;

typedef struct history_job {
    tui_job base;
    char *url;
    table_summary sum;
    delta_history hist;
} history_job;

static const tui_column cols[] = {
    {"Version", 7, 0, 1},        {"Time (UTC)", 19, 0, 0}, {"Operation", 10, 1, 0},
    {"User / engine", 10, 1, 0}, {"+Add", 5, 0, 1},        {"-Rm", 5, 0, 1},
};

static history_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->have_hist ? st(v)->hist.n : 0;
}

static void row(view *v, size_t i, tui_row *out)
{
    const delta_commit_info *c = &st(v)->hist.items[i];
    snprintf(out->cell[0], TUI_CELL_MAX, "%lld", (long long)c->version);
    fmt_time(c->timestamp_ms, out->cell[1], TUI_CELL_MAX);
    snprintf(out->cell[2], TUI_CELL_MAX, "%s",
             c->operation ? c->operation : "(no commitInfo)");
    if (c->user && c->engine)
        snprintf(out->cell[3], TUI_CELL_MAX, "%s · %s", c->user, c->engine);
    else
        snprintf(out->cell[3], TUI_CELL_MAX, "%s",
                 c->user     ? c->user
                 : c->engine ? c->engine
                             : "-");
    snprintf(out->cell[4], TUI_CELL_MAX, "+%zu", c->num_add);
    snprintf(out->cell[5], TUI_CELL_MAX, "-%zu", c->num_remove);
    if (!c->operation)
        out->elem = EL_DIM;
}

static const list_ops history_list_ops = {cols, 6, 0, count, row};

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
    char rows[32], size[32], when[32];
    fmt_count(s->rows, rows, sizeof rows);
    fmt_bytes(s->bytes, size, sizeof size);
    fmt_time_short(s->timestamp_ms, when, sizeof when);
    line = sl_asprintf("version %lld (%s) · %llu files · %s rows · %s · protocol %s",
                       (long long)s->version, when, (unsigned long long)s->files, rows,
                       size, s->protocol);
    crt_put(r.row + 1, 1, r.cols - 1, s->rows < 0 ? EL_WARNING : EL_NORMAL, line);
    free(line);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "history"))
        return;
    if (r.rows < 3)
        return;
    draw_summary(v, r);
    list_draw(v, a, (tui_rect){r.row + 2, r.col, r.rows - 2, r.cols});
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
            buf_appendf(out, "  %s: %s\n", k, json_string_value(val));
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
            buf_appendf(out, "  %c %-7s %s  %s%s\n", kind[0] == 'a' ? '+' : '-', kind,
                        path ? path : "?", sz, rows);
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
        const char *op = json_string_value(json_object_get(ci, "operation"));
        const char *user = json_string_value(json_object_get(ci, "userName"));
        const char *engine = json_string_value(json_object_get(ci, "engineInfo"));
        buf_appendf(out, "Time:      %s UTC\n", when);
        buf_appendf(out, "Operation: %s\n", op ? op : "-");
        buf_appendf(out, "User:      %s\n", user ? user : "-");
        buf_appendf(out, "Engine:    %s\n", engine ? engine : "-");
        buf_append_str(out, "\nParameters:\n");
        append_object(out, json_object_get(ci, "operationParameters"));
        buf_append_str(out, "\nMetrics:\n");
        append_object(out, json_object_get(ci, "operationMetrics"));
    } else {
        buf_append_str(out, "(this commit has no commitInfo)\n");
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

/* Restore goes to the version under the cursor unless one is given. */
static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    size_t i;
    int64_t selected = -1;
    if (v->loaded && list_selected(v, &i))
        selected = st(v)->hist.items[i].version;
    return intervene_handle(a, id, arg, st(v)->name, st(v)->url, selected, err);
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
    view *v = app_view_new(a, &view_history_ops, table_name, s);
    v->list.ops = &history_list_ops;
    return v;
}
