/* Applying a checkpoint to a replay: a classic file, every part of a
 * multi-part checkpoint, or a v2 checkpoint (a JSON or Parquet top-level file
 * with the non-file actions and `sidecar` actions naming Parquet files in
 * _delta_log/_sidecars/ that hold the adds and removes). A classic-named
 * file that carries sidecar actions is a v2 checkpoint too. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"

int delta_checkpoint_force_rows = 0;

sl_code delta_checkpoint_parquet_read_ex(store *s, const char *key, int lazy_adds,
                                         delta_cp_action_fn fn, void *ctx, sl_err *err)
{
    pq_source src;
    sl_code c = pq_source_store(s, key, &src, err);
    if (c != SL_OK)
        return err_wrap(err, "checkpoint %s", key);
    pq_reader *pr = NULL;
    c = pq_reader_open(&src, &pr, err); /* owns src from here */
    if (c != SL_OK)
        return err_wrap(err, "checkpoint %s", key);
    int other_shape = 1;
    delta_cp_batch *batch = NULL;
    if (!delta_checkpoint_force_rows) {
        /* The batch owns pr from here; whoever keeps an add keeps it. */
        batch = lazy_adds ? delta_cp_batch_new(pr, key) : NULL;
        c = delta_checkpoint_cols_read(pr, key, batch, fn, ctx, &other_shape, err);
    }
    if (c == SL_OK && other_shape)
        c = delta_checkpoint_rows_read(pr, key, fn, ctx, err);
    if (batch)
        delta_cp_batch_unref(batch);
    else
        pq_reader_close(pr);
    return c;
}

sl_code delta_checkpoint_parquet_read(store *s, const char *key, delta_cp_action_fn fn,
                                      void *ctx, sl_err *err)
{
    return delta_checkpoint_parquet_read_ex(s, key, 0, fn, ctx, err);
}

typedef struct cp_ctx {
    delta_replay *r;
    store *s;
    const delta_log_listing *l;
    const char *key; /* the file being read */
    int in_sidecar;
    char **sidecars; /* store keys, owned */
    size_t nsidecars;
    int has_metadata_action; /* checkpointMetadata */
    int has_protocol, has_metadata;
} cp_ctx;

/* _delta_log/_sidecars/<name>, or an absolute URI inside the store. */
static char *sidecar_key(cp_ctx *ctx, const char *path)
{
    char *dec = delta_path_decode(path);
    if (!dec)
        return NULL;
    char *key = NULL;
    if (strstr(dec, "://") || strncmp(dec, "file:", 5) == 0 || dec[0] == '/')
        key = delta_uri_to_key(ctx->s, dec);
    else if (*dec && !strstr(dec, ".."))
        key = sl_asprintf("%s_sidecars/%s", ctx->l->log_prefix, dec);
    free(dec);
    return key;
}

static sl_code sidecar_note(cp_ctx *ctx, const char *body, size_t n, size_t row,
                            sl_err *err)
{
    if (ctx->in_sidecar)
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "sidecar %s row %zu names another sidecar; only a checkpoint's "
                       "top-level file may",
                       ctx->key, row);
    json_t *v = json_loadb(body, n, 0, NULL);
    const char *path = json_string_value(json_object_get(v, "path"));
    char *key = path ? sidecar_key(ctx, path) : NULL;
    sl_code c = SL_OK;
    if (!key)
        c = err_set(err, SL_DELTA_CORRUPT_LOG,
                    "checkpoint %s row %zu: sidecar action without a usable path (%s)",
                    ctx->key, row, path ? path : "none");
    json_decref(v);
    if (c != SL_OK)
        return c;
    ctx->sidecars =
        sl_realloc(ctx->sidecars, (ctx->nsidecars + 1) * sizeof *ctx->sidecars);
    ctx->sidecars[ctx->nsidecars++] = key;
    return SL_OK;
}

static sl_code cp_action(void *vctx, const char *name, const char *body, size_t n,
                         const delta_cp_file *cf, size_t row, sl_err *err)
{
    cp_ctx *ctx = vctx;
    if (strcmp(name, "sidecar") == 0)
        return sidecar_note(ctx, body, n, row, err);
    if (strcmp(name, "checkpointMetadata") == 0) {
        ctx->has_metadata_action = 1;
        return SL_OK;
    }
    if (strcmp(name, "protocol") == 0)
        ctx->has_protocol = 1;
    else if (strcmp(name, "metaData") == 0)
        ctx->has_metadata = 1;
    if (cf)
        return delta_replay_file(ctx->r, strcmp(name, "add") == 0, cf, body, n, ctx->key,
                                 row, err);
    return delta_replay_action(ctx->r, name, body, n, ctx->key, row, err);
}

/* ---- a v2 top-level file in JSON ------------------------------------------ */

static sl_code json_member(void *vctx, delta_json_span name, delta_json_span value,
                           size_t line, sl_err *err)
{
    cp_ctx *ctx = vctx;
    char *nm = delta_json_span_str(name);
    sl_code c = nm ? cp_action(ctx, nm, value.p, value.n, NULL, line, err) : SL_OK;
    free(nm);
    return c;
}

static sl_code json_line(void *vctx, const char *text, size_t n, size_t line, sl_err *err)
{
    cp_ctx *ctx = vctx;
    return delta_action_members(text, n, ctx->key, line, json_member, ctx, err);
}

static sl_code json_top_read(cp_ctx *ctx, sl_err *err)
{
    sl_buf b = {0};
    sl_code c = store_get(ctx->s, ctx->key, &b, err);
    if (c == SL_OK)
        c = delta_commit_lines(b.data ? b.data : "", b.len, ctx->key, json_line, ctx,
                               err);
    else
        err_wrap(err, "checkpoint %s", ctx->key);
    buf_free(&b);
    return c;
}

/* ---- the whole checkpoint --------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

sl_code delta_checkpoint_replay(store *s, const delta_log_listing *l,
                                const delta_checkpoint_ref *cp, delta_replay *r,
                                sl_err *err)
{
    cp_ctx ctx = {.r = r, .s = s, .l = l};
    sl_code c = SL_OK;
    for (size_t i = 0; i < cp->nkeys && c == SL_OK; i++) {
        ctx.key = cp->keys[i];
        if (cp->kind == DELTA_LOG_CHECKPOINT_V2 && ends_with(ctx.key, ".json"))
            c = json_top_read(&ctx, err);
        else
            c = delta_checkpoint_parquet_read_ex(s, ctx.key, 1, cp_action, &ctx, err);
    }
    if (c == SL_OK && cp->kind == DELTA_LOG_CHECKPOINT_V2 && !ctx.has_metadata_action)
        c = err_set(err, SL_DELTA_CORRUPT_LOG,
                    "v2 checkpoint %s has no checkpointMetadata action", cp->keys[0]);
    /* Every checkpoint carries the table's protocol and metadata; without
     * them the file is not a checkpoint whatever its name. */
    if (c == SL_OK && (!ctx.has_protocol || !ctx.has_metadata))
        c = err_set(err, SL_DELTA_CORRUPT_LOG, "checkpoint %s%s holds no %s action",
                    cp->keys[0], cp->nkeys > 1 ? " (and its other parts)" : "",
                    !ctx.has_protocol ? "protocol" : "metaData");
    ctx.in_sidecar = 1;
    for (size_t i = 0; i < ctx.nsidecars && c == SL_OK; i++) {
        ctx.key = ctx.sidecars[i];
        c = delta_checkpoint_parquet_read_ex(s, ctx.key, 1, cp_action, &ctx, err);
    }
    for (size_t i = 0; i < ctx.nsidecars; i++)
        free(ctx.sidecars[i]);
    free(ctx.sidecars);
    return c;
}
