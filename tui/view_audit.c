/* Audit: the audit log newest first. `:where` narrows it by fields on the
 * worker (operator, action, target, phase, time range; '*' wildcards), `/`
 * narrows the rows shown as everywhere; the first line says which filter
 * is active and how many of how many events are shown. Enter opens one
 * event (view_event.c); v verifies the hash chain on the worker and shows
 * the verdict as a line of the view; `:export FILE` writes the events shown
 * as JSON lines, the shape of `sluice audit export`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backend/pipeline/config.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

/* The newest events kept in memory; the header says when more matched. */
#define AUDIT_LIMIT 5000
#define DAY_MS (24LL * 3600 * 1000)

enum { JOB_QUERY = 1, JOB_VERIFY = 2, JOB_EXPORT = 3 };

/* A `:where` filter as parsed: owned copies, so a job can carry one. */
typedef struct where_filter {
    char *operator_name, *action, *target, *phase;
    int64_t since_ms, until_ms; /* inclusive; 0: unbounded */
    char *text;                 /* as typed (normalised spacing), NULL: none */
} where_filter;

/* A configured table's URL and name: targets are shown by name. */
typedef struct table_alias {
    char *url;
    char *name;
} table_alias;

typedef struct audit_state {
    audit_event *events;
    size_t n;
    int64_t total;      /* events in the log */
    int64_t matching;   /* events matching the applied filter (n may be fewer) */
    where_filter want;  /* the filter asked for (loads use it) */
    where_filter shown; /* the filter the events were loaded with */
    table_alias *aliases;
    size_t naliases;
    int wide;     /* layout of the last draw */
    int target_w; /* cells of the target column at the last draw */
    int verified; /* a verdict is shown */
    int verifying;
    audit_verify_result verdict;
    sl_code verdict_code;
    sl_err verdict_err;
} audit_state;

typedef struct audit_job {
    tui_job base;
    where_filter where;
    audit_event *events;
    size_t n;
    int64_t total, matching;
    table_alias *aliases;
    size_t naliases;
    audit_verify_result verdict;
    /* export */
    char *path;
    int64_t *ids;
    size_t nids;
    size_t written;
} audit_job;

/* ---- the filter ------------------------------------------------------- */

static void where_clear(where_filter *w)
{
    free(w->operator_name);
    free(w->action);
    free(w->target);
    free(w->phase);
    free(w->text);
    memset(w, 0, sizeof *w);
}

static char *dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

static void where_copy(where_filter *dst, const where_filter *src)
{
    dst->operator_name = dup_or_null(src->operator_name);
    dst->action = dup_or_null(src->action);
    dst->target = dup_or_null(src->target);
    dst->phase = dup_or_null(src->phase);
    dst->since_ms = src->since_ms;
    dst->until_ms = src->until_ms;
    dst->text = dup_or_null(src->text);
}

static audit_filter where_to_filter(const where_filter *w)
{
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.operator_name = w->operator_name;
    f.action = w->action;
    f.target = w->target;
    f.phase = w->phase;
    f.since_ms = w->since_ms;
    f.until_ms = w->until_ms;
    f.wildcards = 1;
    return f;
}

static int is_date_only(const char *s)
{
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-';
}

/* since/until: a UTC date or date-time; `until` with a date alone means the
 * end of that day, which is what a person typing it means. */
static sl_code parse_bound(const char *key, const char *value, int upper, int64_t *out,
                           sl_err *err)
{
    sl_err terr;
    err_clear(&terr);
    if (time_parse(value, out, &terr) != SL_OK)
        return err_set(err, SL_USAGE,
                       "where: %s=%s is not a UTC date or date-time "
                       "(2023-11-14 or 2023-11-14T06:00)",
                       key, value);
    if (upper && is_date_only(value))
        *out += DAY_MS - 1;
    /* 0 means "no bound" in audit_filter; the epoch itself is no real bound. */
    if (*out == 0)
        *out = upper ? -1 : 1;
    return SL_OK;
}

static int phase_ok(const char *p)
{
    static const char *const phases[] = {"requested", "succeeded", "failed", "refused"};
    if (strchr(p, '*'))
        return 1;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++)
        if (strcmp(p, phases[i]) == 0)
            return 1;
    return 0;
}

/* One FIELD=VALUE into w; a field given twice is a mistake worth naming. */
static sl_code where_set(where_filter *w, const char *key, const char *value, sl_err *err)
{
    char **slot = NULL;
    if (strcmp(key, "operator") == 0)
        slot = &w->operator_name;
    else if (strcmp(key, "action") == 0)
        slot = &w->action;
    else if (strcmp(key, "target") == 0)
        slot = &w->target;
    else if (strcmp(key, "phase") == 0)
        slot = &w->phase;
    if (slot) {
        if (*slot)
            return err_set(err, SL_USAGE, "where: %s is given twice", key);
        if (slot == &w->phase && !phase_ok(value))
            return err_set(err, SL_USAGE,
                           "where: phase=%s is not a phase "
                           "(requested, succeeded, failed, refused)",
                           value);
        *slot = sl_strdup(value);
        return SL_OK;
    }
    int upper = strcmp(key, "until") == 0;
    if (!upper && strcmp(key, "since") != 0)
        return err_set(
            err, SL_USAGE,
            "where: the audit log has no field '%s' (operator, action, target, "
            "phase, since, until)",
            key);
    int64_t *bound = upper ? &w->until_ms : &w->since_ms;
    if (*bound)
        return err_set(err, SL_USAGE, "where: %s is given twice", key);
    return parse_bound(key, value, upper, bound, err);
}

/* "operator=bob target=\"my table\" since=2023-11-14": space-separated
 * FIELD=VALUE pairs, all of which must hold; a value may be quoted. */
static sl_code where_parse(const char *arg, where_filter *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    sl_buf norm = {0};
    const char *p = arg;
    sl_code c = SL_OK;
    while (c == SL_OK) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t klen = strcspn(p, "= \t");
        if (p[klen] != '=' || klen == 0) {
            c = err_set(err, SL_USAGE, "where: expected FIELD=VALUE, got '%.*s'",
                        (int)strcspn(p, " \t"), p);
            break;
        }
        char *key = sl_strndup(p, klen);
        p += klen + 1;
        char *value;
        if (*p == '"') {
            const char *end = strchr(p + 1, '"');
            if (!end) {
                c = err_set(err, SL_USAGE, "where: %s has an unclosed quote", key);
                free(key);
                break;
            }
            value = sl_strndup(p + 1, (size_t)(end - p - 1));
            p = end + 1;
        } else {
            size_t vlen = strcspn(p, " \t");
            value = sl_strndup(p, vlen);
            p += vlen;
        }
        if (!*value)
            c = err_set(err, SL_USAGE, "where: %s= needs a value", key);
        else
            c = where_set(out, key, value, err);
        if (c == SL_OK)
            buf_appendf(&norm, "%s%s=%s", norm.len ? " " : "", key, value);
        free(key);
        free(value);
    }
    if (c == SL_OK && out->since_ms && out->until_ms && out->since_ms > out->until_ms)
        c = err_set(err, SL_USAGE, "where: since is after until");
    if (c == SL_OK && norm.len)
        out->text = sl_strdup(norm.data);
    buf_free(&norm);
    if (c != SL_OK)
        where_clear(out);
    return c;
}

/* ---- the list ------------------------------------------------------- */

/* 80 columns: short time, target and reason share the last column; from
 * 120: seconds, the age, and target and reason apart. */
static const tui_column narrow_cols[] = {
    {"Id", 5, 0, 1},      {"Time (UTC)", 16, 0, 0}, {"Operator", 8, 0, 0},
    {"Action", 13, 0, 0}, {"Phase", 9, 0, 0},       {"Target / reason", 10, 1, 0},
};
static const tui_column wide_cols[] = {
    {"Id", 6, 0, 1},        {"Time (UTC)", 19, 0, 0}, {"Age", 10, 0, 1},
    {"Operator", 10, 0, 0}, {"Action", 16, 0, 0},     {"Phase", 9, 0, 0},
    {"Target", 16, 1, 0},   {"Reason", 10, 1, 0},
};
/* The cells before the flex columns (margin, widths, one blank each). */
#define NARROW_FIXED (1 + 5 + 1 + 16 + 1 + 8 + 1 + 13 + 1 + 9 + 1)
/* Every column of the wide layout at its minimum (the flex ones share the
 * rest evenly). */
#define WIDE_MIN_TOTAL                                                                   \
    (1 + 6 + 1 + 19 + 1 + 10 + 1 + 10 + 1 + 16 + 1 + 9 + 1 + 16 + 1 + 10)
#define WIDE_MIN_COLS 120

static audit_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->n;
}

/* A target by its configured table name when it is one, else shortened in
 * the middle (both ends of a path matter). */
static void target_text(const audit_state *s, const char *target, int width, char *out,
                        size_t outlen)
{
    if (!target) {
        snprintf(out, outlen, "-");
        return;
    }
    for (size_t i = 0; i < s->naliases; i++)
        if (strcmp(s->aliases[i].url, target) == 0) {
            snprintf(out, outlen, "%s", s->aliases[i].name);
            return;
        }
    fmt_middle(target, width > 4 ? (size_t)width : 4, out, outlen);
}

static theme_elem phase_elem(const audit_state *s, const audit_event *e)
{
    if (s->verified && s->verdict_code == SL_AUDIT_TAMPERED &&
        e->id == s->verdict.first_bad_id)
        return EL_FAILED;
    if (e->phase && strcmp(e->phase, "failed") == 0)
        return EL_FAILED;
    if (e->phase && strcmp(e->phase, "refused") == 0)
        return EL_WARNING;
    return EL_NORMAL;
}

static void row(view *v, size_t i, tui_row *out)
{
    const audit_state *s = st(v);
    const audit_event *e = &s->events[i];
    int bad = s->verified && s->verdict_code == SL_AUDIT_TAMPERED &&
              e->id == s->verdict.first_bad_id;
    char target[TUI_CELL_MAX];
    int c = 0;
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s%lld", bad ? "✗" : "", (long long)e->id);
    if (s->wide) {
        fmt_time(e->ts_ms, out->cell[c++], TUI_CELL_MAX);
        fmt_age(e->ts_ms, time_now_ms(), out->cell[c++], TUI_CELL_MAX);
    } else {
        fmt_time_short(e->ts_ms, out->cell[c++], TUI_CELL_MAX);
    }
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s",
             e->operator_name ? e->operator_name : "-");
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s", e->action ? e->action : "-");
    snprintf(out->cell[c++], TUI_CELL_MAX, "%s", e->phase ? e->phase : "-");
    if (s->wide) {
        target_text(s, e->target, s->target_w, out->cell[c++], TUI_CELL_MAX);
        snprintf(out->cell[c++], TUI_CELL_MAX, "%s", e->reason ? e->reason : "");
    } else if (e->target) {
        target_text(s, e->target, e->reason ? s->target_w / 2 : s->target_w, target,
                    sizeof target);
        /* a cell longer than the column is clipped on screen anyway */
        if (snprintf(out->cell[c++], TUI_CELL_MAX, "%s%s%s", target,
                     e->reason ? ": " : "", e->reason ? e->reason : "") < 0)
            out->cell[c - 1][0] = '\0';
    } else {
        snprintf(out->cell[c++], TUI_CELL_MAX, "%s", e->reason ? e->reason : "");
    }
    out->elem = phase_elem(s, e);
}

static const list_ops narrow_ops = {narrow_cols, 6, 0, count, row};
static const list_ops wide_ops = {wide_cols, 8, 0, count, row};

/* ---- jobs --------------------------------------------------------------- */

static void aliases_free(table_alias *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].url);
        free(t[i].name);
    }
    free(t);
}

/* The configured tables by URL, as ops writes targets. */
static void aliases_load(session *sess, table_alias **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const config *cfg = sess->cfg;
    if (!cfg || !cfg->ntables)
        return;
    *out = sl_calloc(cfg->ntables, sizeof **out);
    for (size_t i = 0; i < cfg->ntables; i++) {
        char *url = NULL;
        sl_err e;
        err_clear(&e);
        if (config_table_url(cfg, cfg->tables[i].name, &url, &e) != SL_OK)
            continue;
        (*out)[*n].url = url;
        (*out)[*n].name = sl_strdup(cfg->tables[i].name);
        (*n)++;
    }
}

static void query_run(tui_job *job, session *sess)
{
    audit_job *j = (audit_job *)job;
    audit_filter f = where_to_filter(&j->where);
    f.newest_first = 1;
    f.limit = AUDIT_LIMIT;
    job->code = audit_query(sess->audit, &f, &j->events, &j->n, &job->err);
    if (job->code == SL_OK)
        job->code = audit_count(sess->audit, NULL, &j->total, &job->err);
    if (job->code == SL_OK)
        job->code = audit_count(sess->audit, &f, &j->matching, &job->err);
    if (job->code == SL_OK)
        aliases_load(sess, &j->aliases, &j->naliases);
}

static void verify_run(tui_job *job, session *sess)
{
    audit_job *j = (audit_job *)job;
    job->code = audit_verify(sess->audit, &j->verdict, &job->err);
}

/* A new file only (an earlier export is never overwritten), private like
 * the audit database, complete on disk before it is reported. */
static void export_run(tui_job *job, session *sess)
{
    audit_job *j = (audit_job *)job;
    int fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        job->code = err_set(&job->err, SL_IO, "export to %s: %s%s", j->path, strerror(e),
                            e == EEXIST ? " (choose a new file name)" : "");
        return;
    }
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        unlink(j->path);
        job->code =
            err_set(&job->err, SL_IO, "export to %s: %s", j->path, strerror(errno));
        return;
    }
    audit_filter f;
    memset(&f, 0, sizeof f);
    f.ids = j->ids;
    f.nids = j->nids;
    job->code = audit_export_rows(sess->audit, &f, "jsonl", fp, &j->written, &job->err);
    if (job->code == SL_OK && fsync(fileno(fp)) != 0)
        job->code = err_set(&job->err, SL_IO, "export to %s: fsync: %s", j->path,
                            strerror(errno));
    if (fclose(fp) != 0 && job->code == SL_OK)
        job->code =
            err_set(&job->err, SL_IO, "export to %s: %s", j->path, strerror(errno));
    if (job->code != SL_OK)
        unlink(j->path); /* half an export would read as a complete one */
}

static void job_free(tui_job *job)
{
    audit_job *j = (audit_job *)job;
    if (j->events)
        audit_events_free(j->events, j->n);
    where_clear(&j->where);
    aliases_free(j->aliases, j->naliases);
    free(j->path);
    free(j->ids);
    free(j);
}

static audit_job *job_new(int kind)
{
    audit_job *j = sl_calloc(1, sizeof *j);
    j->base.kind = kind;
    j->base.run = kind == JOB_QUERY    ? query_run
                  : kind == JOB_VERIFY ? verify_run
                                       : export_run;
    j->base.free = job_free;
    return j;
}

static void post_query(view *v, app *a)
{
    audit_job *j = job_new(JOB_QUERY);
    where_copy(&j->where, &st(v)->want);
    app_post(a, v, &j->base);
}

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(audit_state));
        v->list.ops = &narrow_ops;
    }
    if (!app_session(a)->audit) {
        err_set(&v->error, SL_AUDIT_DB, "no audit log is open in this session");
        return;
    }
    post_query(v, a);
}

static void take_query(view *v, app *a, audit_job *j)
{
    audit_state *s = st(v);
    if (j->base.code != SL_OK) {
        v->error = j->base.err;
        app_error(a, &j->base.err);
        return;
    }
    err_clear(&v->error);
    if (s->events)
        audit_events_free(s->events, s->n);
    s->events = j->events;
    s->n = j->n;
    j->events = NULL;
    j->n = 0;
    s->total = j->total;
    s->matching = j->matching;
    where_clear(&s->shown);
    s->shown = j->where;
    memset(&j->where, 0, sizeof j->where);
    aliases_free(s->aliases, s->naliases);
    s->aliases = j->aliases;
    s->naliases = j->naliases;
    j->aliases = NULL;
    j->naliases = 0;
    v->loaded = 1;
}

static void take_export(app *a, audit_job *j)
{
    if (j->base.code != SL_OK) {
        app_error(a, &j->base.err);
        app_message(a, EL_FAILED, "export failed: %s", j->base.err.msg);
        return;
    }
    app_message(a, EL_OK, "exported %zu event%s as JSON lines to %s", j->written,
                j->written == 1 ? "" : "s", j->path);
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
    } else if (job->kind == JOB_EXPORT) {
        take_export(a, j);
    } else {
        take_query(v, a, j);
    }
    job->free(job);
}

/* ---- drawing ------------------------------------------------------------ */

/* "3 of 120 events · where operator=bob · / restore": what is shown, out
 * of what, and why. */
static void draw_summary(view *v, app *a, int row, int cols)
{
    audit_state *s = st(v);
    char shown[32], total[32], matching[32];
    fmt_count((int64_t)v->list.nvis, shown, sizeof shown);
    fmt_count(s->total, total, sizeof total);
    fmt_count(s->matching, matching, sizeof matching);
    sl_buf b = {0};
    int filtered = s->shown.text || v->list.filter[0];
    if (filtered)
        buf_appendf(&b, "%s of %s events", shown, total);
    else
        buf_appendf(&b, "%s events", total);
    if ((int64_t)s->n < s->matching)
        buf_appendf(&b, " (newest %zu of %s matching loaded)", s->n, matching);
    if (s->shown.text)
        buf_appendf(&b, " · where %s", s->shown.text);
    if (v->list.filter[0])
        buf_appendf(&b, " · / %s", v->list.filter);
    if (v->pending && !s->verifying)
        buf_appendf(&b, " · %s loading…", app_spinner(a));
    else if (!filtered)
        buf_append_str(&b, " · :where filters · v verifies the chain");
    crt_fill(row, 0, cols, EL_NORMAL);
    crt_put(row, 1, cols - 1, filtered ? EL_HEADER : EL_DIM, b.data);
    buf_free(&b);
}

static void draw_verdict(view *v, app *a, int row, int cols)
{
    audit_state *s = st(v);
    char *line;
    theme_elem e;
    if (s->verifying) {
        line = sl_asprintf("%s verifying the hash chain…", app_spinner(a));
        e = EL_LOADING;
    } else if (s->verdict_code == SL_OK) {
        char n[32];
        fmt_count(s->verdict.rows, n, sizeof n);
        if (s->verdict.head_id > 0)
            line = sl_asprintf("✓ chain verified: %s events, head #%lld %.16s…", n,
                               (long long)s->verdict.head_id, s->verdict.head_hash);
        else
            line = sl_asprintf("✓ chain verified: the log is empty");
        e = EL_OK;
    } else if (s->verdict_code == SL_AUDIT_TAMPERED) {
        line = sl_asprintf(
            "✗ chain BROKEN at event #%lld: %s", (long long)s->verdict.first_bad_id,
            s->verdict.problem[0] ? s->verdict.problem : s->verdict_err.msg);
        e = EL_FAILED;
    } else {
        line = sl_asprintf("✗ verify failed: %s %s", err_code_name(s->verdict_code),
                           s->verdict_err.msg);
        e = EL_FAILED;
    }
    crt_fill(row, 0, cols, e);
    crt_put(row, 1, cols - 1, e, line);
    free(line);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "the audit log"))
        return;
    audit_state *s = st(v);
    s->wide = r.cols >= WIDE_MIN_COLS;
    v->list.ops = s->wide ? &wide_ops : &narrow_ops;
    /* The target column's cells, for shortening names to fit. */
    s->target_w = s->wide ? 16 + (r.cols - WIDE_MIN_TOTAL) / 2 : r.cols - NARROW_FIXED;
    int top = r.row;
    draw_summary(v, a, top++, r.cols);
    if (s->verifying || s->verified)
        draw_verdict(v, a, top++, r.cols);
    list_draw(v, a, (tui_rect){top, r.col, r.rows - (top - r.row), r.cols});
}

/* ---- actions ------------------------------------------------------------- */

static unsigned do_where(view *v, app *a, const char *arg, sl_err *err)
{
    where_filter w;
    memset(&w, 0, sizeof w);
    if (arg && where_parse(arg, &w, err) != SL_OK)
        return REACT_NONE;
    where_clear(&st(v)->want);
    st(v)->want = w;
    post_query(v, a);
    if (w.text)
        app_message(a, EL_MESSAGE, "audit events where %s (:where alone clears)", w.text);
    else
        app_message(a, EL_MESSAGE, "audit filter cleared");
    return REACT_REDRAW;
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* The rows shown (both filters) by id: exactly what the operator sees. */
static unsigned do_export(view *v, app *a, const char *arg, sl_err *err)
{
    if (!v->loaded) {
        err_set(err, SL_USAGE, "export: the audit log is not loaded yet");
        return REACT_NONE;
    }
    audit_job *j = job_new(JOB_EXPORT);
    j->nids = v->list.nvis;
    j->ids = sl_calloc(j->nids ? j->nids : 1, sizeof *j->ids);
    for (size_t k = 0; k < v->list.nvis; k++)
        j->ids[k] = st(v)->events[v->list.vis[k]].id;
    qsort(j->ids, j->nids, sizeof *j->ids, cmp_id);
    if (arg[0] == '/') {
        j->path = sl_strdup(arg);
    } else {
        char cwd[4096];
        j->path =
            getcwd(cwd, sizeof cwd) ? sl_asprintf("%s/%s", cwd, arg) : sl_strdup(arg);
    }
    app_message(a, EL_MESSAGE, "exporting %zu events to %s…", j->nids, j->path);
    app_post(a, v, &j->base);
    return REACT_REDRAW;
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    if (id != ACT_VERIFY && id != ACT_WHERE && id != ACT_EXPORT)
        return REACT_UNHANDLED;
    if (!app_session(a)->audit) {
        err_set(err, SL_AUDIT_DB, "no audit log is open in this session");
        return REACT_NONE;
    }
    if (id == ACT_WHERE)
        return do_where(v, a, arg, err);
    if (id == ACT_EXPORT)
        return do_export(v, a, arg, err);
    st(v)->verifying = 1;
    app_post(a, v, &job_new(JOB_VERIFY)->base);
    return REACT_REDRAW;
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    app_push(a, view_event_new(a, st(v)->events[i].id));
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
    audit_state *s = st(v);
    if (!s)
        return;
    if (s->events)
        audit_events_free(s->events, s->n);
    where_clear(&s->want);
    where_clear(&s->shown);
    aliases_free(s->aliases, s->naliases);
    free(s);
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
