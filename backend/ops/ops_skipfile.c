/* skip-file: take source files out of an epoch folder, so the folder loads
 * without them (a delivery with one bad file among good ones). The files
 * stay in the source; the folder's checkpoint row records them in its
 * detail, {"excluded_files": [...]}, with the reason, and discovery leaves
 * them out of every later run of that folder until a reset. The folder
 * keeps its state and batch: a failed folder is then retried (or run) as
 * the same batch without them. target = "<folder>/<file>" (comma-separated
 * for several, all of one folder); params {"pipeline", "files": [...]}. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops_actions.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/timeutil.h"

#define SKIPFILE_LEASE_TTL_MS 60000

static sl_code def_of(ops_ctx *ctx, const ops_request *req, pipeline_def **d, sl_err *err)
{
    *d = NULL;
    if (!ctx->cfg)
        return err_set(err, SL_CONFIG_NOT_FOUND, "skip-file needs a sluice.json");
    const char *name = json_string_value(json_object_get(req->params, "pipeline"));
    if (!name && ctx->cfg->npipelines == 1) {
        pipeline_def **all = NULL;
        size_t n = 0;
        sl_code c = config_pipelines_load_all(ctx->cfg, &all, &n, err);
        if (c != SL_OK)
            return c;
        *d = all[0];
        all[0] = NULL;
        config_pipelines_free(all, n);
        return SL_OK;
    }
    if (!name)
        return err_set(err, SL_PIPELINE_UNKNOWN,
                       "name the pipeline: the config lists %zu", ctx->cfg->npipelines);
    return config_pipeline_load(ctx->cfg, name, d, err);
}

/* The files asked for, all "<folder>/<...>" of one folder (*folder). */
static sl_code files_of(const ops_request *req, json_t **files, char **folder,
                        sl_err *err)
{
    *files = json_array();
    *folder = NULL;
    json_t *f = json_object_get(req->params, "files");
    size_t i;
    json_t *v;
    json_array_foreach(f, i, v) if (json_is_string(v)) json_array_append(*files, v);
    if (json_array_size(*files) == 0)
        return err_set(err, SL_USAGE, "name the source files to skip (FOLDER/FILE)");
    json_array_foreach(*files, i, v)
    {
        const char *key = json_string_value(v);
        const char *slash = strchr(key, '/');
        if (!slash || slash == key || !slash[1])
            return err_set(err, SL_USAGE,
                           "\"%s\" is not a file of an epoch folder (FOLDER/FILE)", key);
        if (!*folder)
            *folder = sl_strndup(key, (size_t)(slash - key));
        else if (strncmp(key, *folder, strlen(*folder)) != 0 ||
                 key[strlen(*folder)] != '/')
            return err_set(err, SL_USAGE,
                           "skip-file takes files of one folder at a time (%s and %s)",
                           *folder, key);
    }
    return SL_OK;
}

sl_code ops_skip_file_run(ops_ctx *ctx, const ops_request *req, ops_result *res,
                          sl_err *err)
{
    pipeline_def *d = NULL;
    json_t *files = NULL, *excluded = NULL;
    char *folder = NULL;
    store *lake = NULL, *src = NULL;
    lease *l = NULL;
    ckpt_view view = {0};
    sl_code c = def_of(ctx, req, &d, err);
    if (c == SL_OK)
        c = files_of(req, &files, &folder, err);
    if (c == SL_OK)
        c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK)
        c = store_open(d->source.url, &src, err);
    size_t i;
    json_t *v;
    json_array_foreach(c == SL_OK ? files : NULL, i, v)
    {
        store_obj o;
        memset(&o, 0, sizeof o);
        sl_err e = {0};
        sl_code hc = store_stat(src, json_string_value(v), &o, &e);
        if (hc == SL_STORE_NOT_FOUND)
            c = err_set(err, SL_FOLDER_NOT_FOUND, "no source file %s in %s",
                        json_string_value(v), d->source.url);
        else if (hc != SL_OK)
            c = hc, *err = e;
        store_obj_clear(&o);
        if (c != SL_OK)
            break;
    }
    if (c == SL_OK && !req->dry_run) {
        char owner[200];
        snprintf(owner, sizeof owner, "%s (skip-file)",
                 ctx->operator_name ? ctx->operator_name : "?");
        c = lease_acquire(lake, d->name, owner, time_now_ms(), SKIPFILE_LEASE_TTL_MS, &l,
                          NULL, err);
    }
    if (c == SL_OK)
        c = ckpt_load(lake, d->name, &view, err);
    const ckpt_entry *e = c == SL_OK ? ckpt_find(&view, folder) : NULL;
    const char *state = e ? e->state : "pending";
    if (c == SL_OK && (strcmp(state, "processed") == 0 || strcmp(state, "skipped") == 0))
        c = err_set(err, SL_USAGE,
                    "folder %s is %s: reset it first, then skip the file and run it",
                    folder, state);
    if (c == SL_OK) {
        /* The exclusions already there, then the new ones, each once. */
        json_t *old = e && e->detail ? json_loads(e->detail, 0, NULL) : NULL;
        excluded = json_array();
        json_t *prev = json_object_get(old, "excluded_files");
        if (json_is_array(prev))
            json_array_extend(excluded, prev);
        /* a copy: the list grows below */
        res->before = json_pack("{s:s, s:s, s:I, s:o}", "folder", folder, "state", state,
                                "batch_id", (json_int_t)(e ? e->batch_id : -1),
                                "excluded_files", json_deep_copy(excluded));
        json_array_foreach(files, i, v)
        {
            int have = 0;
            size_t k;
            json_t *x;
            json_array_foreach(excluded, k, x) have |= json_equal(x, v);
            if (!have)
                json_array_append(excluded, v);
        }
        json_decref(old);
    }
    if (c == SL_OK && req->dry_run) {
        res->output = json_pack("{s:s, s:s, s:O, s:b}", "pipeline", d->name, "folder",
                                folder, "excluded_files", excluded, "dry_run", 1);
    } else if (c == SL_OK) {
        json_t *detail =
            json_pack("{s:O, s:s?, s:s?}", "excluded_files", excluded, "excluded_by",
                      ctx->operator_name, "reason", req->reason);
        char *text = json_dumps(detail, JSON_COMPACT);
        json_decref(detail);
        ckpt_entry row;
        ckpt_entry_init(&row);
        row.folder = folder;
        row.state = (char *)state;
        row.epoch = e ? e->epoch : strtoll(folder, NULL, 10);
        row.batch_id = e ? e->batch_id : -1;
        /* The folder's failure stays what it was (code, message, the run to
         * retry); what changed is its inputs, in the detail. */
        row.run_id = e && e->run_id ? e->run_id : (char *)ctx->session_id;
        row.error_code = e ? e->error_code : NULL;
        row.message = e && e->message ? e->message : (char *)req->reason;
        row.operator_name = (char *)ctx->operator_name;
        row.detail = text;
        int64_t version = -1;
        c = ckpt_record(lake, d->name, &row, 1, NULL, 0, NULL, &version, NULL, err);
        free(text);
        if (c == SL_OK) {
            res->after = json_pack("{s:s, s:O, s:I}", "state", state, "excluded_files",
                                   excluded, "checkpoint_version", (json_int_t)version);
            res->output = json_pack("{s:s, s:s, s:s, s:O, s:I}", "pipeline", d->name,
                                    "folder", folder, "state", state, "excluded_files",
                                    excluded, "checkpoint_version", (json_int_t)version);
        }
    }
    if (l) {
        sl_err ignored = {0};
        lease_release(lake, l, &ignored);
        lease_free(l);
    }
    ckpt_view_free(&view);
    json_decref(excluded);
    json_decref(files);
    free(folder);
    store_close(src);
    store_close(lake);
    pipeline_def_free(d);
    return c;
}
