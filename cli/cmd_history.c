#include <string.h>

#include "backend/delta/delta.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static void print_text(cli_ctx *ctx, const delta_history *h)
{
    FILE *o = ctx->out;
    fprintf(o, "%-8s %-24s %-26s %-22s %6s %6s\n", "VERSION", "TIME (UTC)", "OPERATION",
            "USER/ENGINE", "+ADD", "-REM");
    for (size_t i = 0; i < h->n; i++) {
        const delta_commit_info *ci = &h->items[i];
        char ts[40];
        time_format_iso(ci->timestamp_ms, ts, sizeof ts);
        const char *who = ci->user ? ci->user : ci->engine ? ci->engine : "-";
        fprintf(o, "%-8lld %-24s %-26.26s %-22.22s %6zu %6zu\n", (long long)ci->version,
                ts, ci->operation ? ci->operation : "(no commitInfo)", who, ci->num_add,
                ci->num_remove);
    }
    if (h->oldest_available > 0)
        fprintf(o, "(versions before %lld are no longer in the log)\n",
                (long long)h->oldest_available);
}

sl_code cmd_history(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE, "usage: sluice history TABLE [--limit N]");
    long long limit = 0;
    int has_limit;
    sl_code c = cli_args_int(a, "limit", &limit, &has_limit, err);
    if (c != SL_OK)
        return c;
    store *st = NULL;
    if ((c = cli_open_table(ctx, a->pos[0], &st, err)) != SL_OK)
        return c;
    delta_history h = {0};
    c = delta_history_load(st, "", (size_t)limit, &h, err);
    if (c == SL_OK) {
        if (ctx->json)
            cli_print_json(ctx, delta_history_to_json(&h));
        else
            print_text(ctx, &h);
        delta_history_free(&h);
    }
    store_close(st);
    return c;
}
