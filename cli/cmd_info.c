#include <stdlib.h>
#include <string.h>

#include "backend/ops/ops.h"
#include "cli/cli_cmd.h"
#include "version.h"

sl_code cmd_errors(cli_ctx *ctx, sl_err *err)
{
    (void)err;
    if (cli_args_has(ctx->args, "markdown")) {
        char *md = err_table_markdown();
        fputs(md, ctx->out);
        free(md);
        return SL_OK;
    }
    if (ctx->json) {
        json_t *arr = json_array();
        for (int i = 0; i < SL_CODE_COUNT; i++)
            json_array_append_new(arr, json_pack("{s:s, s:i, s:s}", "code",
                                                 err_code_name((sl_code)i), "exit",
                                                 err_code_exit((sl_code)i), "hint",
                                                 err_code_hint((sl_code)i)));
        cli_print_json(ctx, arr);
        return SL_OK;
    }
    for (int i = 0; i < SL_CODE_COUNT; i++)
        fprintf(ctx->out, "%-30s %d  %s\n", err_code_name((sl_code)i),
                err_code_exit((sl_code)i), err_code_hint((sl_code)i));
    return SL_OK;
}

sl_code cmd_help(cli_ctx *ctx, sl_err *err)
{
    size_t n;
    const cli_cmd *t = cli_cmd_table(&n);
    if (ctx->args->npos == 1) {
        const cli_cmd *c = cli_cmd_find(ctx->args->pos[0]);
        if (!c)
            return err_set(err, SL_USAGE, "no command named \"%s\"", ctx->args->pos[0]);
        fprintf(ctx->out, "usage: sluice %s\n  %s\n", c->usage, c->summary);
        return SL_OK;
    }
    fprintf(
        ctx->out,
        "sluice: operations console for incremental loads into Delta Lake\n\n"
        "usage: sluice [-c FILE] [--operator NAME] [--read-only] [--write] [--json] COMMAND ...\n\n"
        "commands:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(ctx->out, "  %-10s %s\n", t[i].name, t[i].summary);
    fprintf(ctx->out, "\ninterventions (all audited through the operations layer):\n");
    const ops_desc *o = ops_table(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(ctx->out, "  %-14s %s%s\n", o[i].name, o[i].summary,
                (o[i].flags & OPS_MUTATES) ? " [refused when read-only]" : "");
    fprintf(ctx->out,
            "\nexit codes: 0 ok, 1 failed, 2 usage, 3 refused, 4 conflict\n"
            "`sluice help COMMAND` shows one command; `man sluice` has the rest.\n");
    return SL_OK;
}

sl_code cmd_version(cli_ctx *ctx, sl_err *err)
{
    (void)err;
    if (ctx->json)
        cli_print_json(ctx, json_pack("{s:s, s:s}", "version", SLUICE_VERSION, "build",
                                      SLUICE_BUILD_ID));
    else
        fprintf(ctx->out, "sluice %s (build %s)\n", SLUICE_VERSION, SLUICE_BUILD_ID);
    return SL_OK;
}
