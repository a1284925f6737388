#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static sl_code build_filter(const cli_args *a, audit_filter *f, sl_err *err)
{
    memset(f, 0, sizeof *f);
    const char *since = cli_args_get(a, "since"), *until = cli_args_get(a, "until");
    sl_code c = SL_OK;
    if (since && (c = time_parse(since, &f->since_ms, err)) != SL_OK)
        return c;
    if (until && (c = time_parse(until, &f->until_ms, err)) != SL_OK)
        return c;
    f->action = cli_args_get(a, "action");
    f->target = cli_args_get(a, "target");
    f->operator_name = cli_args_get(a, "operator");
    f->phase = cli_args_get(a, "phase");
    long long limit = 0;
    int has;
    if ((c = cli_args_int(a, "limit", &limit, &has, err)) != SL_OK)
        return c;
    f->limit = (size_t)limit;
    return SL_OK;
}

static sl_code audit_list_cmd(cli_ctx *ctx, sl_err *err)
{
    audit_filter f;
    sl_code c = build_filter(ctx->args, &f, err);
    if (c != SL_OK)
        return c;
    audit_event *evs = NULL;
    size_t n = 0;
    if ((c = audit_query(ctx->sess->audit, &f, &evs, &n, err)) != SL_OK)
        return c;
    if (ctx->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, audit_event_to_json(&evs[i]));
        cli_print_json(ctx, arr);
    } else {
        fprintf(ctx->out, "%-6s %-24s %-12s %-16s %-10s %-20s %s\n", "ID", "TIME (UTC)",
                "OPERATOR", "ACTION", "PHASE", "TARGET", "CODE / REASON");
        for (size_t i = 0; i < n; i++) {
            const audit_event *e = &evs[i];
            char ts[40];
            time_format_iso(e->ts_ms, ts, sizeof ts);
            fprintf(ctx->out, "%-6lld %-24s %-12.12s %-16.16s %-10s %-20.20s %s%s%s\n",
                    (long long)e->id, ts, e->operator_name ? e->operator_name : "",
                    e->action ? e->action : "", e->phase ? e->phase : "",
                    e->target ? e->target : "-", e->error_code ? e->error_code : "",
                    e->error_code && e->reason ? " " : "", e->reason ? e->reason : "");
        }
    }
    audit_events_free(evs, n);
    return SL_OK;
}

static sl_code audit_show_cmd(cli_ctx *ctx, sl_err *err)
{
    if (ctx->args->npos != 2)
        return err_set(err, SL_USAGE, "usage: sluice audit show ID");
    char *end = NULL;
    long long id = strtoll(ctx->args->pos[1], &end, 10);
    if (*end || id <= 0)
        return err_set(err, SL_USAGE, "audit event ids are positive numbers, not \"%s\"",
                       ctx->args->pos[1]);
    audit_event ev = {0};
    sl_code c = audit_get(ctx->sess->audit, id, &ev, err);
    if (c != SL_OK)
        return c;
    json_t *j = audit_event_to_json(&ev);
    if (ctx->json) {
        cli_print_json(ctx, j);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            char *t =
                json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            fprintf(ctx->out, "%-14s %s\n", k, t ? t : json_string_value(v));
            free(t);
        }
        json_decref(j);
    }
    audit_event_clear(&ev);
    return SL_OK;
}

static sl_code audit_verify_cmd(cli_ctx *ctx, sl_err *err)
{
    audit_verify_result r = {0};
    sl_code c = audit_verify(ctx->sess->audit, &r, err);
    if (c != SL_OK && c != SL_AUDIT_TAMPERED)
        return c;
    if (ctx->json) {
        json_t *j = json_pack("{s:b, s:I, s:s}", "ok", r.ok, "rows", (json_int_t)r.rows,
                              "path", audit_path(ctx->sess->audit));
        if (!r.ok) {
            json_object_set_new(j, "first_bad_id", json_integer(r.first_bad_id));
            json_object_set_new(j, "problem", json_string(r.problem));
            json_object_set_new(j, "code", json_string(err_code_name(c)));
        }
        cli_print_json(ctx, j);
    } else if (r.ok) {
        fprintf(ctx->out, "audit log intact: %lld rows, chain and head match (%s)\n",
                (long long)r.rows, audit_path(ctx->sess->audit));
    } else {
        fprintf(ctx->out, "AUDIT LOG TAMPERED: first bad row %lld: %s\n",
                (long long)r.first_bad_id, r.problem);
    }
    /* The answer above is the report; exit non-zero without a second
     * document on stdout. */
    if (c == SL_AUDIT_TAMPERED)
        ctx->reported = ctx->json;
    return c;
}

static sl_code audit_export_cmd(cli_ctx *ctx, sl_err *err)
{
    const char *fmt = cli_args_get(ctx->args, "format");
    audit_filter f;
    sl_code c = build_filter(ctx->args, &f, err);
    if (c != SL_OK)
        return c;
    return audit_export(ctx->sess->audit, &f, fmt ? fmt : "jsonl", ctx->out, err);
}

static sl_code audit_note_cmd(cli_ctx *ctx, sl_err *err)
{
    ops_request req = {
        .target = cli_args_get(ctx->args, "target"),
        .reason = cli_args_get(ctx->args, "reason"),
    };
    ops_result res;
    sl_code c = ops_run(&ctx->sess->ops, "audit.note", &req, &res, err);
    if (c == SL_OK) {
        if (ctx->json)
            cli_print_json(ctx, json_pack("{s:I, s:s}", "id", (json_int_t)res.final_id,
                                          "note", req.reason));
        else
            fprintf(ctx->out, "noted as audit event %lld\n", (long long)res.final_id);
    }
    ops_result_clear(&res);
    return c;
}

sl_code cmd_audit(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    const char *sub = a->npos ? a->pos[0] : "list";
    if (strcmp(sub, "list") == 0)
        return audit_list_cmd(ctx, err);
    if (strcmp(sub, "show") == 0)
        return audit_show_cmd(ctx, err);
    if (strcmp(sub, "verify") == 0)
        return audit_verify_cmd(ctx, err);
    if (strcmp(sub, "export") == 0)
        return audit_export_cmd(ctx, err);
    if (strcmp(sub, "note") == 0)
        return audit_note_cmd(ctx, err);
    return err_set(err, SL_USAGE,
                   "unknown audit command \"%s\"; use list, show, verify, export or note",
                   sub);
}
