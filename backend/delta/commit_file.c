/* One commit file (NNN.json): newline-delimited JSON objects, one action
 * each. A commit must hold at least one action; blank lines are tolerated.
 * Every reader of commit files goes through here, so all of them report a
 * corrupt file the same way: SL_DELTA_CORRUPT_LOG naming the key and line. */

#include <string.h>

#include "backend/delta/delta_internal.h"

static int line_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

sl_code delta_commit_lines(const char *data, size_t len, const char *key,
                           delta_line_fn fn, void *ctx, sl_err *err)
{
    if (len == 0)
        return err_set(
            err, SL_DELTA_CORRUPT_LOG,
            "%s line 1: empty commit file (a commit holds at least one action)", key);
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

static sl_code malformed(sl_err *err, const char *key, size_t line, const char *text,
                         const delta_json_scan *js)
{
    long col = js->err_at ? (long)(js->err_at - text) + 1 : 1;
    return err_set(err, SL_DELTA_CORRUPT_LOG,
                   "%s line %zu: malformed JSON at column %ld: %s", key, line, col,
                   js->err_msg ? js->err_msg : "invalid text");
}

sl_code delta_action_members(const char *text, size_t n, const char *key, size_t line,
                             delta_member_fn fn, void *ctx, sl_err *err)
{
    delta_json_scan js = {.end = text + n};
    const char *p = delta_json_ws(text, js.end);
    if (p < js.end && *p != '{') {
        const char *q = delta_json_value(&js, p);
        if (q && delta_json_ws(q, js.end) == js.end)
            return err_set(err, SL_DELTA_CORRUPT_LOG,
                           "%s line %zu: an action must be a JSON object", key, line);
        return malformed(err, key, line, text, &js);
    }
    if (delta_json_obj_begin(&js, &p) < 0)
        return malformed(err, key, line, text, &js);
    delta_json_span name, value;
    int rc;
    while ((rc = delta_json_obj_next(&js, &p, &name, &value)) == 1) {
        sl_code c = fn(ctx, name, value, line, err);
        if (c != SL_OK)
            return c;
    }
    if (rc < 0)
        return malformed(err, key, line, text, &js);
    p = delta_json_ws(p, js.end);
    if (p != js.end) {
        js.err_at = p;
        js.err_msg = "text after the action's closing brace";
        return malformed(err, key, line, text, &js);
    }
    return SL_OK;
}

typedef struct parse_ctx {
    const char *key;
    delta_action_fn fn;
    void *ctx;
} parse_ctx;

static sl_code parse_line(void *vctx, const char *text, size_t n, size_t line,
                          sl_err *err)
{
    parse_ctx *pc = vctx;
    json_error_t jerr;
    json_t *action = json_loadb(text, n, 0, &jerr);
    if (!action)
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "%s line %zu: malformed JSON at column %d: %s", pc->key, line,
                       jerr.column, jerr.text);
    if (!json_is_object(action)) {
        json_decref(action);
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "%s line %zu: an action must be a JSON object", pc->key, line);
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

int64_t delta_commit_info_timestamp(const json_t *commit_info)
{
    /* With in-commit timestamps enabled this is the authoritative time. */
    json_t *t = json_object_get(commit_info, "inCommitTimestamp");
    if (!json_is_integer(t))
        t = json_object_get(commit_info, "timestamp");
    return json_is_integer(t) ? (int64_t)json_integer_value(t) : -1;
}

typedef struct summary_ctx {
    const char *key;
    delta_commit_summary *sum;
} summary_ctx;

static sl_code summary_member(void *vctx, delta_json_span name, delta_json_span value,
                              size_t line, sl_err *err)
{
    summary_ctx *ctx = vctx;
    delta_commit_summary *sum = ctx->sum;
    if (delta_json_key_is(name, "add"))
        sum->num_add++;
    else if (delta_json_key_is(name, "remove"))
        sum->num_remove++;
    else if (delta_json_key_is(name, "metaData"))
        sum->has_metadata = 1;
    else if (delta_json_key_is(name, "protocol"))
        sum->has_protocol = 1;
    else if (delta_json_key_is(name, "commitInfo") && !sum->commit_info &&
             delta_json_span_is(value, '{')) {
        json_error_t jerr;
        sum->commit_info = json_loadb(value.p, value.n, 0, &jerr);
        if (!sum->commit_info) /* valid JSON jansson still refuses, e.g. \u0000 */
            return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: commitInfo: %s",
                           ctx->key, line, jerr.text);
    }
    return SL_OK;
}

static sl_code summary_line(void *vctx, const char *text, size_t n, size_t line,
                            sl_err *err)
{
    summary_ctx *ctx = vctx;
    return delta_action_members(text, n, ctx->key, line, summary_member, ctx, err);
}

sl_code delta_commit_summarize(const char *data, size_t len, const char *key,
                               delta_commit_summary *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    summary_ctx ctx = {.key = key, .sum = out};
    sl_code c = delta_commit_lines(data, len, key, summary_line, &ctx, err);
    if (c != SL_OK) {
        json_decref(out->commit_info);
        memset(out, 0, sizeof *out);
    }
    return c;
}

sl_code delta_commit_summary_load(store *s, const char *key, delta_commit_summary *out,
                                  sl_err *err)
{
    memset(out, 0, sizeof *out);
    sl_buf b = {0};
    sl_code c = store_get(s, key, &b, err);
    if (c == SL_OK)
        c = delta_commit_summarize(b.data ? b.data : "", b.len, key, out, err);
    buf_free(&b);
    return c;
}
