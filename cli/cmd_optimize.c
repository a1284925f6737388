#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "backend/pipeline/config.h"
#include "backend/util/buf.h"
#include "cli/cli_cmd.h"

static sl_code target_size_read(const cli_args *a, json_t *params, sl_err *err)
{
    const char *t = cli_args_get(a, "target-size");
    if (!t)
        return SL_OK;
    char *end = NULL;
    long long v = strtoll(t, &end, 10);
    if (!*t || *end || v <= 0)
        return err_set(err, SL_USAGE,
                       "--target-size needs a number of bytes > 0, not \"%s\"", t);
    json_object_set_new(params, "target_size", json_integer(v));
    return SL_OK;
}

/* --zorder-by a,b,c as a list; empty names are refused. */
static sl_code zorder_read(const cli_args *a, json_t *params, sl_err *err)
{
    const char *z = cli_args_get(a, "zorder-by");
    if (!z)
        return SL_OK;
    json_t *list = json_array();
    const char *p = z;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0) {
            json_decref(list);
            return err_set(
                err, SL_USAGE,
                "--zorder-by needs column names separated by commas, not \"%s\"", z);
        }
        json_array_append_new(list, json_stringn(p, n));
        if (!comma)
            break;
        p = comma + 1;
    }
    json_object_set_new(params, "zorder_by", list);
    return SL_OK;
}

static void print_text(cli_ctx *ctx, const json_t *out)
{
    char removed[32], added[32];
    cli_human_bytes((uint64_t)json_integer_value(json_object_get(out, "removed_bytes")),
                    removed, sizeof removed);
    cli_human_bytes((uint64_t)json_integer_value(json_object_get(out, "added_bytes")),
                    added, sizeof added);
    if (json_is_true(json_object_get(out, "dry_run"))) {
        json_t *rows = json_object_get(out, "rows");
        char nrows[32] = "unknown";
        if (json_is_integer(rows))
            snprintf(nrows, sizeof nrows, "%lld", (long long)json_integer_value(rows));
        fprintf(ctx->out,
                "would compact %lld files (%s, %s rows) in %lld bins; dry run: nothing "
                "written\n",
                (long long)json_integer_value(json_object_get(out, "removed_files")),
                removed, nrows,
                (long long)json_integer_value(json_object_get(out, "bins")));
        return;
    }
    if (!json_is_true(json_object_get(out, "committed"))) {
        fprintf(ctx->out,
                "nothing to compact: no partition has two files below the target "
                "size\n");
        return;
    }
    fprintf(ctx->out,
            "optimized into version %lld: %lld files (%s) compacted into %lld (%s)\n",
            (long long)json_integer_value(json_object_get(out, "version")),
            (long long)json_integer_value(json_object_get(out, "removed_files")), removed,
            (long long)json_integer_value(json_object_get(out, "added_files")), added);
}

sl_code cmd_optimize(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice optimize TABLE [--zorder-by c1,c2] "
                       "[--target-size BYTES] [--dry-run] --reason R");
    json_t *params = json_object();
    sl_code c = target_size_read(a, params, err);
    if (c == SL_OK)
        c = zorder_read(a, params, err);
    char *url = NULL;
    if (c == SL_OK)
        c = config_table_url(ctx->sess ? ctx->sess->cfg : NULL, a->pos[0], &url, err);
    if (c != SL_OK) {
        json_decref(params);
        return c;
    }
    /* The audit trail names the table by its normalised URL. */
    store *st = NULL;
    if ((c = store_open(url, &st, err)) != SL_OK) {
        json_decref(params);
        free(url);
        return c;
    }
    free(url);
    url = sl_strdup(store_url(st));
    store_close(st);
    ops_request req = {
        .target = url,
        .reason = cli_args_get(a, "reason"),
        .params = params,
        .dry_run = cli_args_has(a, "dry-run"),
    };
    ops_result res;
    c = ops_run(&ctx->sess->ops, "optimize", &req, &res, err);
    if (c == SL_OK) {
        if (ctx->json)
            cli_print_json(ctx, json_incref(res.output));
        else
            print_text(ctx, res.output);
    }
    ops_result_clear(&res);
    json_decref(params);
    free(url);
    return c;
}
