#include "backend/pipeline/config.h"
#include "backend/pipeline/folders.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static void print_row(FILE *o, const source_folder *f)
{
    char size[32], mt[40], ep[40] = "-";
    cli_human_bytes(f->bytes, size, sizeof size);
    if (f->files)
        time_format_iso(f->newest_mtime_ms, mt, sizeof mt);
    else
        snprintf(mt, sizeof mt, "-");
    if (f->epoch >= 0)
        time_format_iso(f->epoch * 1000, ep, sizeof ep);
    fprintf(o, "%-24s %-24s %6llu %10s  %s\n", f->name, ep, (unsigned long long)f->files,
            size, mt);
}

sl_code cmd_folders(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    const char *url = a->npos ? a->pos[0] : NULL;
    if (a->npos > 1)
        return err_set(err, SL_USAGE, "usage: sluice folders [SOURCE]");
    /* A pipeline's name: its folders with their checkpoint states. */
    if (url && ctx->sess->cfg && ctx->sess->cfg->npipelines) {
        pipeline_def *d = NULL;
        sl_err perr = {0};
        if (config_pipeline_load(ctx->sess->cfg, url, &d, &perr) == SL_OK) {
            sl_code c = cli_pipeline_folders(ctx, d, err);
            pipeline_def_free(d);
            return c;
        }
    }
    if (!url && ctx->sess->cfg)
        url = ctx->sess->cfg->source_url;
    if (!url)
        return err_set(err, SL_USAGE,
                       "name a SOURCE folder, or set \"source\" in sluice.json");
    store *st = NULL;
    sl_code c = store_open(url, &st, err);
    if (c == SL_STORE_NOT_FOUND)
        c = err_set(err, SL_SOURCE_NOT_FOUND, "source %s does not exist", url);
    if (c != SL_OK)
        return c;
    store_set_log(st, ctx->sess->log);
    source_listing l;
    double t0 = time_mono_ms();
    c = folders_list(st, "", &l, err);
    log_op(ctx->sess->log, "folders.list", store_url(st), c, time_mono_ms() - t0,
           c == SL_OK ? NULL : err->msg);
    if (c == SL_OK) {
        if (ctx->json) {
            cli_print_json(ctx, folders_to_json(&l, store_url(st)));
        } else {
            fprintf(ctx->out, "%-24s %-24s %6s %10s  %s\n", "FOLDER", "EPOCH (UTC)",
                    "FILES", "BYTES", "NEWEST FILE (UTC)");
            for (size_t i = 0; i < l.nepochs; i++)
                print_row(ctx->out, &l.epochs[i]);
            if (l.nothers) {
                fprintf(ctx->out, "\nnot epoch folders (%zu):\n", l.nothers);
                for (size_t i = 0; i < l.nothers; i++)
                    print_row(ctx->out, &l.others[i]);
            }
        }
        folders_free(&l);
    }
    store_close(st);
    return c;
}
