/* sluice cancel PIPELINE --reason R: ask the run holding the pipeline's
 * lease, wherever it runs, to stop at its next step boundary. */
#include <stdio.h>

#include "backend/ops/ops.h"
#include "cli/cli_cmd.h"

sl_code cmd_cancel(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice cancel PIPELINE --reason R [--dry-run]");
    ops_request req = {.target = a->pos[0],
                       .reason = cli_args_get(a, "reason"),
                       .dry_run = cli_args_has(a, "dry-run")};
    ops_result res;
    sl_code c = ops_run(&ctx->sess->ops, "cancel", &req, &res, err);
    if (c == SL_OK && res.output) {
        if (ctx->json) {
            cli_print_json(ctx, json_incref(res.output));
        } else {
            const char *who =
                json_string_value(json_object_get(res.output, "requested_for"));
            fprintf(ctx->out, "%s: the run of %s stops at its next step boundary\n",
                    req.dry_run ? "dry run (nothing written)" : "cancel requested",
                    who && *who ? who : "?");
        }
    }
    ops_result_clear(&res);
    return c;
}
