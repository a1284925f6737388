/* Folders: the source's epoch folders (oldest first) and, apart, anything
 * else found at the top of the source. Enter lists a folder's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/folders.h"
#include "backend/store/store.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

typedef struct folders_state {
    char *url;
    source_listing listing;
} folders_state;

typedef struct folders_job {
    tui_job base;
    char *url;
    source_listing listing;
} folders_job;

static const tui_column cols[] = {
    {"Folder", 12, 1, 0},      {"Epoch time (UTC)", 16, 0, 0}, {"Files", 6, 0, 1},
    {"Bytes", 10, 0, 1},       {"Newest file (UTC)", 17, 0, 0},
};

static folders_state *st(view *v)
{
    return v->state;
}

static size_t count(view *v)
{
    const source_listing *l = &st(v)->listing;
    return l->nepochs + (l->nothers ? 1 + l->nothers : 0);
}

static void folder_cells(const source_folder *f, int epoch, tui_row *out)
{
    snprintf(out->cell[0], TUI_CELL_MAX, "%s%s", f->name, f->is_file ? "" : "/");
    if (epoch)
        fmt_time_short(f->epoch * 1000, out->cell[1], TUI_CELL_MAX);
    else
        snprintf(out->cell[1], TUI_CELL_MAX, "%s", f->is_file ? "(loose file)" : "(not an epoch)");
    snprintf(out->cell[2], TUI_CELL_MAX, "%llu", (unsigned long long)f->files);
    fmt_bytes(f->bytes, out->cell[3], TUI_CELL_MAX);
    fmt_time_short(f->newest_mtime_ms, out->cell[4], TUI_CELL_MAX);
}

static void row(view *v, size_t i, tui_row *out)
{
    const source_listing *l = &st(v)->listing;
    if (i < l->nepochs) {
        folder_cells(&l->epochs[i], 1, out);
        return;
    }
    if (i == l->nepochs) {
        out->span = 1;
        out->elem = EL_SECTION;
        snprintf(out->cell[0], TUI_CELL_MAX, "Other entries, not epoch folders (%zu):",
                 l->nothers);
        return;
    }
    folder_cells(&l->others[i - l->nepochs - 1], 0, out);
    out->elem = EL_WARNING;
}

static const list_ops folders_list_ops = {cols, 5, 0, count, row};

static void job_run(tui_job *job, session *sess)
{
    folders_job *j = (folders_job *)job;
    store *s = NULL;
    job->code = store_open(j->url, &s, &job->err);
    if (job->code != SL_OK)
        return;
    store_set_log(s, sess->log);
    job->code = folders_list(s, "", &j->listing, &job->err);
    store_close(s);
}

static void job_free(tui_job *job)
{
    folders_job *j = (folders_job *)job;
    folders_free(&j->listing);
    free(j->url);
    free(j);
}

static void load(view *v, app *a)
{
    if (!v->state) {
        v->state = sl_calloc(1, sizeof(folders_state));
        v->list.ops = &folders_list_ops;
    }
    const config *cfg = app_session(a)->cfg;
    if (!cfg || !cfg->source_url) {
        err_set(&v->error, SL_CONFIG_INVALID, "no \"source\" in the config: nothing to list");
        return;
    }
    free(st(v)->url);
    st(v)->url = sl_strdup(cfg->source_url);
    folders_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->url = sl_strdup(cfg->source_url);
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    folders_job *j = (folders_job *)job;
    if (job->code != SL_OK) {
        v->error = job->err;
        app_error(a, &job->err);
    } else {
        err_clear(&v->error);
        folders_free(&st(v)->listing);
        st(v)->listing = j->listing;
        memset(&j->listing, 0, sizeof j->listing);
        v->loaded = 1;
    }
    job->free(job);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "folders"))
        return;
    const source_listing *l = &st(v)->listing;
    char *line = sl_asprintf("%s · %zu epoch folders · %zu other", st(v)->url, l->nepochs,
                             l->nothers);
    crt_put(r.row, 1, r.cols - 1, EL_DIM, line);
    free(line);
    list_draw(v, a, (tui_rect){r.row + 1, r.col, r.rows - 1, r.cols});
}

/* The files of one folder, listed on the worker. */
typedef struct files_arg {
    char *url;
    char *prefix;
} files_arg;

static void files_arg_free(void *p)
{
    files_arg *f = p;
    free(f->url);
    free(f->prefix);
    free(f);
}

static sl_code files_text(session *sess, void *arg, sl_buf *out, sl_err *err)
{
    files_arg *f = arg;
    store *s = NULL;
    sl_code rc = store_open(f->url, &s, err);
    if (rc != SL_OK)
        return rc;
    store_set_log(s, sess->log);
    store_page page = {0};
    rc = store_list_all(s, f->prefix, NULL, &page, err);
    if (rc == SL_OK) {
        const char *root = store_url(s);
        size_t rl = strlen(root);
        buf_appendf(out, "%s%s%s — %zu objects\n\n", root,
                    rl && root[rl - 1] == '/' ? "" : "/", f->prefix, page.n);
        for (size_t i = 0; i < page.n; i++) {
            char size[32], when[32];
            fmt_bytes(page.items[i].size, size, sizeof size);
            fmt_time(page.items[i].mtime_ms, when, sizeof when);
            buf_appendf(out, "%10s  %s  %s\n", size, when, page.items[i].key + strlen(f->prefix));
        }
    }
    store_page_free(&page);
    store_close(s);
    return rc;
}

static unsigned enter(view *v, app *a, sl_err *err)
{
    (void)err;
    size_t i;
    if (!v->loaded || !list_selected(v, &i))
        return REACT_NONE;
    const source_listing *l = &st(v)->listing;
    const source_folder *f = NULL;
    if (i < l->nepochs)
        f = &l->epochs[i];
    else if (i > l->nepochs)
        f = &l->others[i - l->nepochs - 1];
    if (!f || f->is_file)
        return REACT_NONE;
    files_arg *arg = sl_calloc(1, sizeof *arg);
    arg->url = sl_strdup(st(v)->url);
    arg->prefix = sl_asprintf("%s/", f->name);
    app_push(a, view_text_new(a, f->name, files_text, arg, files_arg_free));
    return REACT_REDRAW;
}

static void done(view *v)
{
    if (!v->state)
        return;
    folders_free(&st(v)->listing);
    free(st(v)->url);
    free(v->state);
}

const view_ops view_folders_ops = {
    .name = "folders",
    .title = "Folders",
    .load = load,
    .take = take,
    .draw = draw,
    .enter = enter,
    .done = done,
};
