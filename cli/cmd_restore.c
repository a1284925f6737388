#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_restore.h"
#include "backend/ops/ops.h"
#include "backend/pipeline/config.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static sl_code target_read(const cli_args *a, json_t *params, sl_err *err)
{
    long long v = 0;
    int has_v = 0;
    sl_code c = cli_args_int(a, "version", &v, &has_v, err);
    if (c != SL_OK)
        return c;
    const char *ts = cli_args_get(a, "timestamp");
    if (has_v == !!ts)
        return err_set(err, SL_USAGE, "restore needs --version N or --timestamp T (one)");
    if (has_v) {
        json_object_set_new(params, "version", json_integer(v));
        return SL_OK;
    }
    int64_t ms = 0;
    if ((c = time_parse(ts, &ms, err)) != SL_OK)
        return c;
    json_object_set_new(params, "timestamp_ms", json_integer(ms));
    json_object_set_new(params, "timestamp", json_string(ts));
    return SL_OK;
}

static void print_files(FILE *o, const char *verb, json_t *files)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        fprintf(o, "  %s %s (%lld bytes)\n", verb,
                json_string_value(json_object_get(f, "path")),
                (long long)json_integer_value(json_object_get(f, "size")));
    }
}

static void print_rows(FILE *o, const char *label, json_t *state)
{
    json_t *rows = json_object_get(state, "rows");
    char size[32];
    cli_human_bytes((uint64_t)json_integer_value(json_object_get(state, "bytes")), size,
                    sizeof size);
    fprintf(o, "%-7s %lld files, ", label,
            (long long)json_integer_value(json_object_get(state, "files")));
    if (json_is_integer(rows))
        fprintf(o, "%lld rows, ", (long long)json_integer_value(rows));
    else
        fputs("unknown rows, ", o);
    fprintf(o, "%s\n", size);
}

static void print_preview(FILE *o, json_t *p)
{
    fprintf(o, "restore %s from version %lld to version %lld (%s)\n",
            json_string_value(json_object_get(p, "table")),
            (long long)json_integer_value(json_object_get(p, "read_version")),
            (long long)json_integer_value(json_object_get(p, "target_version")),
            json_string_value(json_object_get(p, "target_timestamp")));
    print_files(o, "re-add", json_object_get(p, "files_to_readd"));
    print_files(o, "remove", json_object_get(p, "files_to_remove"));
    print_rows(o, "before", json_object_get(p, "before"));
    print_rows(o, "after", json_object_get(p, "after"));
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(p, "missing_files"), i, w)
        fprintf(o, "missing %s\n", json_string_value(w));
    json_array_foreach(json_object_get(p, "warnings"), i, w)
        fprintf(o, "warning: %s\n", json_string_value(w));
}

/* The preview shown before refusing an unconfirmed restore (reads only). */
static sl_code preview_show(cli_ctx *ctx, const char *url, const char *name,
                            json_t *params, sl_err *err)
{
    delta_at at = {.kind = DELTA_AT_VERSION};
    if (json_is_integer(json_object_get(params, "version"))) {
        at.version = json_integer_value(json_object_get(params, "version"));
    } else {
        at.kind = DELTA_AT_TIMESTAMP;
        at.timestamp_ms = json_integer_value(json_object_get(params, "timestamp_ms"));
    }
    store *st = NULL;
    delta_restore_plan *p = NULL;
    sl_code c = store_open(url, &st, err);
    if (c == SL_OK)
        c = delta_restore_plan_build(st, "", &at, time_now_ms(), &p, err);
    if (c == SL_OK) {
        json_t *j = delta_restore_plan_to_json(p, name);
        if (ctx->json) {
            cli_print_json(ctx, j);
        } else {
            print_preview(ctx->out, j);
            fputs("not restored: pass --yes to commit this restore\n", ctx->out);
            json_decref(j);
        }
    }
    delta_restore_plan_free(p);
    store_close(st);
    return c;
}

sl_code cmd_restore(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice restore TABLE --version N|--timestamp T --reason R "
                       "[--dry-run] [--yes]");
    json_t *params = json_object();
    char *url = NULL;
    sl_code c = target_read(a, params, err);
    if (c == SL_OK)
        c = config_table_url(ctx->sess ? ctx->sess->cfg : NULL, a->pos[0], &url, err);
    if (c != SL_OK) {
        json_decref(params);
        return c;
    }
    json_object_set_new(params, "url", json_string(url));
    ops_request req = {
        .target = a->pos[0],
        .reason = cli_args_get(a, "reason"),
        .params = params,
        .dry_run = cli_args_has(a, "dry-run"),
        .confirmed = cli_args_has(a, "yes"),
    };
    /* Unconfirmed: show what would change, then let ops refuse (and audit). */
    if (!req.dry_run && !req.confirmed) {
        sl_err perr = {0};
        if (preview_show(ctx, url, a->pos[0], params, &perr) == SL_OK && ctx->json)
            ctx->reported = 1;
    }
    ops_result res;
    c = ops_run(&ctx->sess->ops, "restore", &req, &res, err);
    if (c == SL_OK) {
        if (ctx->json)
            cli_print_json(ctx, json_incref(res.output));
        else {
            print_preview(ctx->out, res.output);
            if (req.dry_run)
                fputs("dry run: nothing written\n", ctx->out);
            else
                fprintf(ctx->out, "restored: committed version %lld\n",
                        (long long)json_integer_value(
                            json_object_get(res.output, "version")));
        }
    }
    ops_result_clear(&res);
    json_decref(params);
    free(url);
    return c;
}
