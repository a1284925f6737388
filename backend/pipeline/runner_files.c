/* The runner in the files layout: every new, changed or deleted source file
 * since the last batch goes through the steps as one batch. */
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/runner_internal.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* ---- the files layout -------------------------------------------------- */

#define FILES_FOLDER "files"

typedef struct files_state {
    ckpt_view view;
    srcfile *known_rows;
    size_t nknown_rows;
    pl_known_file *known;
    size_t nknown;
    pl_file_discovery fd;
} files_state;

static void files_state_free(files_state *fs)
{
    ckpt_view_free(&fs->view);
    srcfiles_free(fs->known_rows, fs->nknown_rows);
    free(fs->known);
    pl_file_discovery_free(&fs->fd);
    memset(fs, 0, sizeof *fs);
}

typedef struct files_discover_call {
    run_ctx *rc;
    files_state *fs;
} files_discover_call;

static sl_code files_discover_once(void *arg, sl_err *err)
{
    files_discover_call *a = arg;
    files_state_free(a->fs);
    sl_code c = ckpt_load(a->rc->lake, a->rc->d->name, &a->fs->view, err);
    if (c == SL_OK)
        c = srcfiles_load(a->rc->lake, a->rc->d->name, &a->fs->known_rows,
                          &a->fs->nknown_rows, err);
    if (c == SL_OK) {
        a->fs->known =
            srcfiles_known(a->fs->known_rows, a->fs->nknown_rows, &a->fs->nknown);
        c = discover_files(a->rc->src, a->rc->d, a->fs->known, a->fs->nknown, &a->fs->fd,
                           err);
    }
    return c;
}

/* The batch's manifest: every new, changed or deleted source file, with
 * what it was when listed (recorded before any step, so a resumed batch
 * remembers the versions it loaded even if a file changed again since). */
static json_t *manifest_build(const pl_file_discovery *fd)
{
    json_t *m = json_array();
    for (size_t i = 0; i < fd->n; i++) {
        const pl_file *f = &fd->files[i];
        if (strcmp(f->state, "unchanged") == 0)
            continue;
        json_array_append_new(
            m, json_pack("{s:s, s:s?, s:s, s:I, s:I, s:s}", "file", f->file, "key",
                         f->key, "etag", f->etag, "size", (json_int_t)f->size, "mtime_ms",
                         (json_int_t)f->mtime_ms, "state",
                         strcmp(f->state, "deleted") ? "present" : "deleted"));
    }
    return m;
}

/* Every source file new, changed or deleted since the last batch goes
 * through the steps as one batch; the folder of its checkpoint rows is
 * "files". *batch_out: the batch processed, -1 when none. */
sl_code runner_files_run(run_ctx *rc, runner_result *out, int64_t *batch_out, sl_err *err)
{
    *batch_out = -1;
    files_state fs = {0};
    files_discover_call arg = {rc, &fs};
    int64_t t0 = time_now_ms();
    sl_code c = runner_with_retries(rc, files_discover_once, &arg, err);
    if (!rc->o->dry_run)
        runner_runs_row(
            rc, NULL, -1, "discover", 1, c == SL_OK ? "succeeded" : "failed", c, err,
            NULL, -1, -1, c == SL_OK ? (int64_t)fs.fd.n : -1,
            c == SL_OK ? (int64_t)(fs.fd.nnew + fs.fd.nchanged + fs.fd.ndeleted) : -1, t0,
            NULL);
    if (c == SL_OK)
        runner_logf(rc,
                    "run %s: %zu source files listed, %zu new, %zu changed, %zu deleted",
                    rc->run_id, fs.fd.n, fs.fd.nnew, fs.fd.nchanged, fs.fd.ndeleted);
    const ckpt_entry *e = c == SL_OK ? ckpt_find(&fs.view, FILES_FOLDER) : NULL;
    int resumable = e && e->batch_id >= 0 && e->detail &&
                    (strcmp(e->state, "running") == 0 || strcmp(e->state, "failed") == 0);
    if (e && strcmp(e->state, "failed") == 0 && !rc->o->folder) {
        c = err_set(
            err, SL_CHECK_FAILED,
            "the files batch %lld failed earlier (run %s); retry it before new files run",
            (long long)e->batch_id, e->run_id ? e->run_id : "?");
        json_object_set_new(out->report, "blocked_by", json_string(FILES_FOLDER));
    }
    json_t *man = NULL;
    if (c == SL_OK)
        man = resumable ? json_loads(e->detail, 0, NULL) : manifest_build(&fs.fd);
    size_t n = json_array_size(man);
    if (c == SL_OK && n > 0) {
        int64_t batch = resumable ? e->batch_id : fs.view.max_batch_id + 1;
        const char **changed = sl_calloc(n, sizeof *changed);
        char **data = sl_calloc(n, sizeof *data);
        srcfile *rows = sl_calloc(n, sizeof *rows);
        size_t ndata = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get(man, i);
            changed[i] = json_string_value(json_object_get(m, "file"));
            rows[i].file = (char *)changed[i];
            rows[i].key = (char *)json_string_value(json_object_get(m, "key"));
            rows[i].etag = (char *)json_string_value(json_object_get(m, "etag"));
            rows[i].size = json_integer_value(json_object_get(m, "size"));
            rows[i].mtime_ms = json_integer_value(json_object_get(m, "mtime_ms"));
            rows[i].state = (char *)json_string_value(json_object_get(m, "state"));
            if (strcmp(rows[i].state, "present") == 0) {
                data[ndata++] = (char *)changed[i];
                bytes += (uint64_t)rows[i].size;
            }
        }
        char *text = json_dumps(man, JSON_COMPACT);
        pl_folder f = {.folder = (char *)FILES_FOLDER,
                       .epoch = -1,
                       .state = "pending",
                       .files = ndata,
                       .bytes = bytes,
                       .expected_rows = -1,
                       .data_files = data,
                       .ndata_files = ndata,
                       .batch_id = batch};
        files_batch fb = {text, changed, n, rows, n};
        int recovered = resumable && strcmp(e->state, "running") == 0;
        if (rc->o->dry_run) {
            json_array_append_new(rc->folders,
                                  json_pack("{s:s, s:I, s:s, s:b, s:I}", "folder",
                                            FILES_FOLDER, "batch_id", (json_int_t)batch,
                                            "state", "planned", "recovered", recovered,
                                            "files", (json_int_t)n));
        } else {
            json_t *rep = NULL;
            c = runner_folder_run(rc, &f, batch, resumable, &fb, &rep, err);
            json_object_set_new(rep, "source_files", json_incref(man));
            json_array_append_new(rc->folders, rep);
            if (c == SL_OK) {
                out->processed = 1;
                out->recovered = (size_t)recovered;
                *batch_out = batch;
            } else if (c != SL_RUN_CANCELLED) {
                out->failed = 1; /* a cancelled batch stays running, resumable */
            }
        }
        free(text);
        free(changed);
        free(data);
        free(rows);
    }
    json_decref(man);
    files_state_free(&fs);
    return c;
}
