#include <stdio.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "tui/tui.h"

sl_code cmd_tui(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (cli_args_has(a, "actions")) {
        tui_print_actions(ctx->out);
        return SL_OK;
    }
    if (a->npos)
        return err_set(err, SL_USAGE,
                       "usage: sluice tui [--script FILE] [--size ROWSxCOLS]");
    tui_opts o = {.script_path = cli_args_get(a, "script"),
                  .theme = cli_args_get(a, "theme")};
    const char *size = cli_args_get(a, "size");
    if (size &&
        (sscanf(size, "%dx%d", &o.rows, &o.cols) != 2 || o.rows < 10 || o.cols < 40))
        return err_set(err, SL_USAGE,
                       "--size wants ROWSxCOLS (at least 10x40), not \"%s\"", size);
    if (!ctx->sess->cfg)
        return err_set(
            err, SL_CONFIG_NOT_FOUND,
            "the console needs a sluice.json (try `sluice demo DIR`), -c FILE or "
            "$SLUICE_CONFIG");
    return tui_run(ctx->sess, &o, err);
}
