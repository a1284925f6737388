#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "backend/pipeline/config.h"
#include "backend/util/buf.h"
#include "cli/cli_cmd.h"

static sl_code retain_hours_read(const cli_args *a, json_t *params, sl_err *err)
{
    const char *h = cli_args_get(a, "retain-hours");
    if (!h)
        return SL_OK;
    char *end = NULL;
    double v = strtod(h, &end);
    if (!*h || *end || v < 0 || v > 1e9)
        return err_set(err, SL_USAGE,
                       "--retain-hours needs a number of hours >= 0, not \"%s\"", h);
    json_object_set_new(params, "retain_hours", json_real(v));
    return SL_OK;
}

static void print_text(cli_ctx *ctx, const ops_request *req, const json_t *out)
{
    json_t *files = json_object_get(out, "files");
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
        fprintf(ctx->out, "%s%s\n", req->dry_run ? "would delete " : "deleted ",
                json_string_value(f));
    char size[32];
    cli_human_bytes((uint64_t)json_integer_value(json_object_get(out, "bytes")), size,
                    sizeof size);
    fprintf(ctx->out, "%s %zu files, %s\n",
            req->dry_run ? "dry run: would delete" : "deleted", json_array_size(files),
            size);
}

sl_code cmd_vacuum(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice vacuum TABLE [--retain-hours H] "
                       "[--force-short-retention] [--dry-run] [--yes] --reason R");
    json_t *params = json_object();
    sl_code c = retain_hours_read(a, params, err);
    char *url = NULL;
    if (c == SL_OK)
        c = config_table_url(ctx->sess ? ctx->sess->cfg : NULL, a->pos[0], &url, err);
    if (c != SL_OK) {
        json_decref(params);
        return c;
    }
    /* The audit trail names the table by its normalised URL, not "t2". */
    store *st = NULL;
    if ((c = store_open(url, &st, err)) != SL_OK) {
        json_decref(params);
        free(url);
        return c;
    }
    free(url);
    url = sl_strdup(store_url(st));
    store_close(st);
    if (cli_args_has(a, "force-short-retention"))
        json_object_set_new(params, "force_short_retention", json_true());
    ops_request req = {
        .target = url,
        .reason = cli_args_get(a, "reason"),
        .params = params,
        .dry_run = cli_args_has(a, "dry-run"),
        .confirmed = cli_args_has(a, "yes"),
    };
    ops_result res;
    c = ops_run(&ctx->sess->ops, "vacuum", &req, &res, err);
    if (c == SL_OK) {
        if (ctx->json)
            cli_print_json(ctx, json_incref(res.output));
        else
            print_text(ctx, &req, res.output);
    }
    ops_result_clear(&res);
    json_decref(params);
    free(url);
    return c;
}
