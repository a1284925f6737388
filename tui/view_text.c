/* A scrollable, filterable page of text: drill-down details (a commit's
 * actions, an audit event, a folder's files, the last error). The text is
 * produced on the worker by the creator's function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/app.h"
#include "tui/view.h"

/* The producer's argument is shared by the view (for reloads) and its
 * running jobs (the view may be closed while one runs), so it is counted. */
typedef struct shared_arg {
    int refs;
    void *arg;
    void (*arg_free)(void *);
} shared_arg;

static shared_arg *arg_ref(shared_arg *sa)
{
    __atomic_add_fetch(&sa->refs, 1, __ATOMIC_SEQ_CST);
    return sa;
}

static void arg_unref(shared_arg *sa)
{
    if (!sa || __atomic_sub_fetch(&sa->refs, 1, __ATOMIC_SEQ_CST) > 0)
        return;
    if (sa->arg_free)
        sa->arg_free(sa->arg);
    free(sa);
}

typedef struct text_state {
    char **lines;
    size_t n;
    text_producer fn;
    shared_arg *arg;
} text_state;

typedef struct text_job {
    tui_job base;
    text_producer fn;
    shared_arg *arg;
    sl_buf out;
} text_job;

static const tui_column cols[] = {{"", 10, 1, 0}};

static text_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    return st(v)->n;
}

static void row(view *v, size_t i, tui_row *out)
{
    const char *line = st(v)->lines[i];
    snprintf(out->cell[0], TUI_CELL_MAX, "%s", line);
    /* Section titles ("Actions:", "Before:") stand out. */
    size_t len = strlen(line);
    if (len > 1 && line[len - 1] == ':' && line[0] != ' ' && !strchr(line, ' '))
        out->elem = EL_HEADER;
}

static const list_ops text_list_ops = {cols, 1, 1, count, row};

static void set_text(text_state *s, const char *text)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->lines[i]);
    free(s->lines);
    s->lines = NULL;
    s->n = 0;
    size_t cap = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        if (s->n == cap) {
            cap = cap ? cap * 2 : 64;
            s->lines = sl_realloc(s->lines, cap * sizeof *s->lines);
        }
        s->lines[s->n++] = sl_strndup(p, len);
        p += len;
        if (*p == '\n')
            p++;
    }
}

static void job_run(tui_job *job, session *sess)
{
    text_job *j = (text_job *)job;
    job->code = j->fn(sess, j->arg->arg, &j->out, &job->err);
}

static void job_free(tui_job *job)
{
    text_job *j = (text_job *)job;
    buf_free(&j->out);
    arg_unref(j->arg);
    free(j);
}

static void load(view *v, app *a)
{
    if (!st(v)->fn)
        return;
    text_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->fn = st(v)->fn;
    j->arg = arg_ref(st(v)->arg);
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    text_job *j = (text_job *)job;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        set_text(st(v), j->out.data ? j->out.data : "");
        v->loaded = 1;
    }
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "details"))
        return;
    list_draw(v, a, r);
}

static void done(view *v)
{
    text_state *s = st(v);
    set_text(s, "");
    arg_unref(s->arg);
    free(s);
}

const view_ops view_text_ops = {
    .name = "text",
    .title = "Details",
    .load = load,
    .take = take,
    .draw = draw,
    .done = done,
};

view *view_text_new(app *a, const char *crumb, text_producer fn, void *arg,
                    void (*arg_free)(void *))
{
    text_state *s = sl_calloc(1, sizeof *s);
    s->fn = fn;
    s->arg = sl_calloc(1, sizeof *s->arg);
    s->arg->refs = 1;
    s->arg->arg = arg;
    s->arg->arg_free = arg_free;
    view *v = app_view_new(a, &view_text_ops, crumb, s);
    v->list.ops = &text_list_ops;
    return v;
}

view *view_text_new_static(app *a, const char *crumb, const char *text)
{
    text_state *s = sl_calloc(1, sizeof *s);
    set_text(s, text);
    view *v = app_view_new(a, &view_text_ops, crumb, s);
    v->list.ops = &text_list_ops;
    v->loaded = 1;
    return v;
}
