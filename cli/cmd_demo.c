#include <string.h>
#include <unistd.h>

#include "backend/ops/ops.h"
#include "cli/cli_cmd.h"
#include "tui/tui.h"

sl_code cmd_demo(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE, "usage: sluice demo DIR [--no-open]");
    ops_request req = {.target = a->pos[0]};
    ops_result res;
    sl_code c = ops_run(&ctx->sess->ops, "demo.create", &req, &res, err);
    if (c != SL_OK) {
        ops_result_clear(&res);
        return c;
    }
    json_t *summary = res.output;
    const char *cfg = json_string_value(json_object_get(summary, "config"));
    if (ctx->json) {
        cli_print_json(ctx, json_incref(summary));
    } else {
        fprintf(
            ctx->out,
            "demo ready in %s\n  source    %s (%lld epoch folders, %lld rows, %lld "
            "malformed lines)\n  lake      %s\n  pipeline  %s: %lld folders processed, "
            "%s failed (%s), %lld pending, %lld waiting\n  config    %s\nopen it with: "
            "sluice -c %s\n",
            json_string_value(json_object_get(summary, "dir")),
            json_string_value(json_object_get(summary, "source")),
            (long long)json_integer_value(json_object_get(summary, "epoch_folders")),
            (long long)json_integer_value(json_object_get(summary, "rows")),
            (long long)json_integer_value(json_object_get(summary, "malformed_lines")),
            json_string_value(json_object_get(summary, "lake")),
            json_string_value(json_object_get(summary, "pipeline")),
            (long long)json_integer_value(json_object_get(summary, "processed")),
            json_string_value(json_object_get(summary, "failed_folder")),
            json_string_value(json_object_get(summary, "failed_code")),
            (long long)json_integer_value(json_object_get(summary, "pending")),
            (long long)json_integer_value(json_object_get(summary, "waiting")), cfg, cfg);
    }
    int open_console =
        !cli_args_has(a, "no-open") && !ctx->json && isatty(0) && isatty(1);
    if (open_console) {
        session_opts so = {.config_path = cfg,
                           .channel = "console",
                           .operator_name = ctx->sess->operator_name,
                           .read_only = ctx->sess->ops.read_only};
        session *s2 = NULL;
        c = session_open(&so, &s2, err);
        if (c == SL_OK) {
            tui_opts to = {.theme = cli_args_get(a, "theme")};
            c = tui_run(s2, &to, err);
        }
        session_close(s2);
    }
    ops_result_clear(&res);
    return c;
}
