/* sluice skip-file FOLDER/FILE... --reason R: leave bad source files out of
 * their epoch folder, then `sluice retry` (or run) loads it without them. */
#include <stdio.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "backend/util/buf.h"
#include "cli/cli_cmd.h"

static void print_skip_file(FILE *o, const json_t *out)
{
    int dry = json_is_true(json_object_get(out, "dry_run"));
    fprintf(o, "%s folder %s without:\n", dry ? "would load" : "loads",
            json_string_value(json_object_get(out, "folder")));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(out, "excluded_files"), i, f)
        fprintf(o, "  %s\n", json_string_value(f));
    if (dry)
        fputs("dry run: nothing written\n", o);
    else
        fputs("retry the folder's run (or run the pipeline) to load it\n", o);
}

sl_code cmd_skip_file(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos < 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice skip-file FOLDER/FILE... [--pipeline P] --reason R "
                       "[--dry-run] [--yes]");
    json_t *files = json_array();
    sl_buf target = {0};
    for (size_t i = 0; i < a->npos; i++) {
        json_array_append_new(files, json_string(a->pos[i]));
        buf_appendf(&target, "%s%s", i ? "," : "", a->pos[i]);
    }
    json_t *params = json_pack("{s:o}", "files", files);
    if (cli_args_get(a, "pipeline"))
        json_object_set_new(params, "pipeline", json_string(cli_args_get(a, "pipeline")));
    ops_request req = {.target = target.data,
                       .reason = cli_args_get(a, "reason"),
                       .params = params,
                       .dry_run = cli_args_has(a, "dry-run"),
                       .confirmed = cli_args_has(a, "yes")};
    /* Unconfirmed: show what would change, then let ops refuse (and audit). */
    if (!req.dry_run && !req.confirmed && !ctx->json) {
        sl_err perr = {0};
        ops_result pres;
        if (ops_preview(&ctx->sess->ops, "skip-file", &req, &pres, &perr) == SL_OK &&
            pres.output) {
            print_skip_file(ctx->out, pres.output);
            fputs("not changed: pass --yes to leave these files out\n", ctx->out);
        }
        ops_result_clear(&pres);
    }
    ops_result res;
    sl_code c = ops_run(&ctx->sess->ops, "skip-file", &req, &res, err);
    if (res.output) {
        if (ctx->json) {
            cli_print_json(ctx, json_incref(res.output));
            if (c != SL_OK)
                ctx->reported = 1;
        } else {
            print_skip_file(ctx->out, res.output);
        }
    }
    ops_result_clear(&res);
    json_decref(params);
    buf_free(&target);
    return c;
}
