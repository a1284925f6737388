#include <stdlib.h>
#include <string.h>

#include "backend/store/store.h"
#include "cli/cli_cmd.h"

void cli_print_json(cli_ctx *ctx, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    fprintf(ctx->out, "%s\n", text ? text : "null");
    free(text);
    json_decref(j);
}

void cli_print_error(FILE *fp, int json, const sl_err *err)
{
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "code", err_code_name(err->code),
                              "message", err->msg, "hint", err_code_hint(err->code));
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fprintf(fp, "%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
        return;
    }
    fprintf(fp, "sluice: %s: %s\n  hint: %s\n", err_code_name(err->code), err->msg,
            err_code_hint(err->code));
}

void cli_human_bytes(uint64_t n, char *out, size_t outlen)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, outlen, "%llu B", (unsigned long long)n);
    else
        snprintf(out, outlen, "%.1f %s", v, units[u]);
}

sl_code cli_open_table(cli_ctx *ctx, const char *name_or_url, store **st_out, sl_err *err)
{
    char *url = NULL;
    sl_code c =
        config_table_url(ctx->sess ? ctx->sess->cfg : NULL, name_or_url, &url, err);
    if (c != SL_OK)
        return c;
    c = store_open(url, st_out, err);
    free(url);
    if (c == SL_OK && ctx->sess)
        store_set_log(*st_out, ctx->sess->log);
    return c;
}
