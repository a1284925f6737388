/* One commit file (NNN.json): newline-delimited JSON objects, one action
 * each. A commit must hold at least one action; blank lines are tolerated. */

#include <string.h>

#include "backend/delta/delta_internal.h"

static int line_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

sl_code delta_commit_lines(const char *data, size_t len, const char *key, delta_line_fn fn,
                           void *ctx, sl_err *err)
{
    if (len == 0)
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "%s line 1: empty commit file (a commit holds at least one action)",
                       key);
    size_t line = 0, nactions = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (!line_blank(p, n)) {
            nactions++;
            sl_code c = fn(ctx, p, n, line, err);
            if (c != SL_OK)
                return c;
        }
        p = nl ? nl + 1 : end;
    }
    if (nactions == 0)
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "%s line %zu: commit file holds no action (only blank lines)", key,
                       line);
    return SL_OK;
}

typedef struct parse_ctx {
    const char *key;
    delta_action_fn fn;
    void *ctx;
} parse_ctx;

static sl_code parse_line(void *vctx, const char *text, size_t n, size_t line, sl_err *err)
{
    parse_ctx *pc = vctx;
    json_error_t jerr;
    json_t *action = json_loadb(text, n, 0, &jerr);
    if (!action)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: malformed JSON at column %d: %s",
                       pc->key, line, jerr.column, jerr.text);
    if (!json_is_object(action)) {
        json_decref(action);
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: an action must be a JSON object",
                       pc->key, line);
    }
    sl_code c = pc->fn ? pc->fn(pc->ctx, action, line, err) : SL_OK;
    json_decref(action);
    return c;
}

sl_code delta_commit_parse(const char *data, size_t len, const char *key,
                           delta_action_fn fn, void *ctx, sl_err *err)
{
    parse_ctx pc = {.key = key, .fn = fn, .ctx = ctx};
    return delta_commit_lines(data, len, key, parse_line, &pc, err);
}

sl_code delta_commit_load(store *s, const char *key, delta_action_fn fn, void *ctx,
                          sl_err *err)
{
    sl_buf b = {0};
    sl_code c = store_get(s, key, &b, err);
    if (c == SL_OK)
        c = delta_commit_parse(b.data ? b.data : "", b.len, key, fn, ctx, err);
    buf_free(&b);
    return c;
}

int64_t delta_commit_info_timestamp(const json_t *commit_info)
{
    /* With in-commit timestamps enabled this is the authoritative time. */
    json_t *t = json_object_get(commit_info, "inCommitTimestamp");
    if (!json_is_integer(t))
        t = json_object_get(commit_info, "timestamp");
    return json_is_integer(t) ? (int64_t)json_integer_value(t) : -1;
}

typedef struct find_info_ctx {
    json_t *info;
} find_info_ctx;

static sl_code find_info_action(void *vctx, json_t *action, size_t line, sl_err *err)
{
    (void)line;
    (void)err;
    find_info_ctx *ctx = vctx;
    json_t *ci = json_object_get(action, "commitInfo");
    if (json_is_object(ci) && !ctx->info)
        ctx->info = json_incref(ci);
    return SL_OK;
}

sl_code delta_commit_find_info(const char *data, size_t len, const char *key,
                               json_t **out, sl_err *err)
{
    *out = NULL;
    /* Writers put commitInfo first; parse just that line when they did. */
    const char *p = data, *end = data + len;
    size_t line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (!line_blank(p, n)) {
            static const char head[] = "{\"commitInfo\"";
            if (n >= sizeof head - 1 && memcmp(p, head, sizeof head - 1) == 0) {
                json_error_t jerr;
                json_t *action = json_loadb(p, n, 0, &jerr);
                if (action) {
                    json_t *ci = json_object_get(action, "commitInfo");
                    if (json_is_object(ci))
                        *out = json_incref(ci);
                    json_decref(action);
                    if (*out)
                        return SL_OK;
                }
            }
            break;
        }
        p = nl ? nl + 1 : end;
    }
    /* Anywhere else: parse the whole file (also validating it). */
    find_info_ctx ctx = {0};
    sl_code c = delta_commit_parse(data, len, key, find_info_action, &ctx, err);
    if (c != SL_OK) {
        json_decref(ctx.info);
        return c;
    }
    *out = ctx.info;
    return SL_OK;
}
