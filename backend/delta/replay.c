/* Action reconciliation (PROTOCOL.md "Action Reconciliation"): the last
 * protocol and metaData win, txn is kept per appId, domainMetadata per
 * domain, and files are keyed by (path, deletion vector unique id); a
 * remove deletes the matching add and stays as a tombstone until the same
 * key is added again. Unknown actions and fields pass through untouched. */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"

typedef struct rfile {
    char *mkey; /* the reconciliation key: the path, or path "\x1f" dv id (arena) */
    delta_file f;
} rfile;

typedef struct rtomb {
    char *mkey;
    delta_tombstone t;
} rtomb;

struct delta_replay {
    json_t *protocol;
    json_t *metadata;
    json_t *txns;
    json_t *domains;
    rfile *files;
    size_t nfiles, capfiles;
    delta_fmap fmap; /* mkey -> index in files */
    rtomb *tombs;
    size_t ntombs, captombs;
    delta_fmap tmap;    /* mkey -> index in tombs */
    int64_t commit_ts;  /* commitInfo time of the commit being applied, -1 if none */
    delta_arena *arena; /* every string of files and tombs; moves to the snapshot */
    delta_cp_batch *last_batch; /* the last batch the arena took a reference to */
    /* files[0, map_upto) are in fmap; the rest are checkpoint adds not yet
     * looked up (see apply_add_fields). */
    size_t map_upto;
};

/* ---- stats and DV helpers ---------------------------------------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p)
{
    p++;
    while (*p && *p != '"') {
        if (*p == '\\') {
            if (!p[1])
                return NULL;
            p += 2;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : NULL;
}

static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = skip_string(p);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *q = p;
    while (*q && *q != ',' && *q != '}' && *q != ']' && !isspace((unsigned char)*q))
        q++;
    return q == p ? NULL : q;
}

/* Stats can carry min/max for hundreds of columns; scanning the top level
 * for numRecords is far cheaper than building a JSON tree per file. */
static int num_records_scan(const char *stats, int64_t *out, const char **num_end)
{
    if (!stats)
        return -1;
    const char *p = skip_ws(stats);
    if (*p != '{')
        return -1;
    p++;
    for (;;) {
        p = skip_ws(p);
        if (*p != '"')
            return -1;
        const char *kstart = p + 1;
        const char *kend = skip_string(p);
        if (!kend)
            return -1;
        size_t klen = (size_t)(kend - 1 - kstart);
        p = skip_ws(kend);
        if (*p != ':')
            return -1;
        p = skip_ws(p + 1);
        if (klen == 10 && memcmp(kstart, "numRecords", 10) == 0) {
            if (*p != '-' && !isdigit((unsigned char)*p))
                return -1;
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (errno || end == p || *end == '.' || *end == 'e' || *end == 'E' || v < 0)
                return -1;
            *out = v;
            *num_end = end;
            return 0;
        }
        p = skip_value(p);
        if (!p)
            return -1;
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        return -1; /* '}' (no numRecords) or garbage */
    }
}

int delta_stats_num_records(const char *stats, int64_t *out)
{
    const char *end;
    return num_records_scan(stats, out, &end);
}

int delta_stats_num_records_n(const char *stats, size_t n, int64_t *out)
{
    /* numRecords leads the stats Delta writers produce, which can run to
     * kilobytes: scan a prefix first. The scan is left to right, so its
     * answer holds for the whole text when the number ends inside the
     * prefix (the byte after it was seen). */
    static const char lead[] = "{\"numRecords\":";
    size_t ll = sizeof lead - 1;
    if (n > ll && memcmp(stats, lead, ll) == 0) {
        /* The usual form, read in place: digits, then a byte that ends the
         * number for strtoll and is none the full scan refuses. */
        size_t i = ll;
        uint64_t v = 0;
        while (i < n && i - ll < 18 && stats[i] >= '0' && stats[i] <= '9')
            v = v * 10 + (uint64_t)(stats[i++] - '0');
        if (i > ll && i < n && !(stats[i] >= '0' && stats[i] <= '9') && stats[i] != '.' &&
            stats[i] != 'e' && stats[i] != 'E' && stats[i] != '\0') {
            *out = (int64_t)v;
            return 0;
        }
    }
    char head[256];
    size_t k = n < sizeof head - 1 ? n : sizeof head - 1;
    memcpy(head, stats, k);
    head[k] = '\0';
    const char *end = NULL;
    int64_t v;
    if (num_records_scan(head, &v, &end) == 0 && (k == n || end < head + k)) {
        *out = v;
        return 0;
    }
    if (k == n)
        return -1;
    char *full = sl_strndup(stats, n);
    int rc = num_records_scan(full, out, &end);
    free(full);
    return rc;
}

/* ---- state ---------------------------------------------------------------- */

delta_replay *delta_replay_new(void)
{
    delta_replay *r = sl_calloc(1, sizeof *r);
    r->txns = json_object();
    r->domains = json_object();
    r->commit_ts = -1;
    r->arena = sl_calloc(1, sizeof *r->arena);
    delta_fmap_init(&r->fmap);
    delta_fmap_init(&r->tmap);
    return r;
}

void delta_replay_free(delta_replay *r)
{
    if (!r)
        return;
    json_decref(r->protocol);
    json_decref(r->metadata);
    json_decref(r->txns);
    json_decref(r->domains);
    free(r->files);
    free(r->tombs);
    delta_fmap_free(&r->fmap);
    delta_fmap_free(&r->tmap);
    delta_arena_free(r->arena);
    free(r->arena);
    free(r);
}

/* Swap-remove keeps the arrays dense; the moved entry's map slot is updated
 * (its key string moves with it, so the map's borrowed pointer stays valid). */
static void file_drop(delta_replay *r, size_t i)
{
    delta_fmap_del(&r->fmap, r->files[i].mkey);
    size_t last = --r->nfiles;
    r->map_upto = r->nfiles; /* callers flush first: every add is mapped */
    if (i != last) {
        r->files[i] = r->files[last];
        delta_fmap_put(&r->fmap, r->files[i].mkey, i);
    }
}

static void tomb_drop(delta_replay *r, size_t i)
{
    delta_fmap_del(&r->tmap, r->tombs[i].mkey);
    size_t last = --r->ntombs;
    if (i != last) {
        r->tombs[i] = r->tombs[last];
        delta_fmap_put(&r->tmap, r->tombs[i].mkey, i);
    }
}

/* ---- actions ---------------------------------------------------------------- */

/* The fields of an add or remove that replay needs, read from the text;
 * the strings are in the replay's arena. */
typedef struct file_fields {
    char *path;
    char *dv_id;
    int64_t size;
    int64_t modification_time;
    int64_t deletion_timestamp;
    int64_t dv_cardinality;
    int64_t num_records;
} file_fields;

static sl_code corrupt(sl_err *err, const char *key, size_t line, const char *what,
                       const char *detail)
{
    return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: %s %s", key, line, what,
                   detail);
}

/* storageType + pathOrInlineDv (+ "@" + offset): the protocol's unique id of
 * a deletion vector, the second half of a file's reconciliation key. */
static char *dv_id_make(delta_replay *r, const char *st, size_t stn, const char *pd,
                        size_t pdn, int has_offset, int64_t offset)
{
    char num[24] = "";
    size_t nn = 0;
    if (has_offset)
        nn = (size_t)snprintf(num, sizeof num, "@%lld", (long long)offset);
    char *id = delta_arena_alloc(r->arena, stn + pdn + nn + 1);
    memcpy(id, st, stn);
    memcpy(id + stn, pd, pdn);
    memcpy(id + stn + pdn, num, nn + 1);
    return id;
}

static sl_code dv_fields(delta_replay *r, delta_json_span dv, file_fields *ff,
                         const char *key, size_t line, const char *what, sl_err *err)
{
    delta_json_scan js = {.end = dv.p + dv.n};
    const char *p = dv.p;
    delta_json_span k, v;
    char *st = NULL, *pd = NULL;
    int64_t offset = 0, card = 0;
    int has_offset = 0;
    delta_json_obj_begin(&js, &p);
    while (delta_json_obj_next(&js, &p, &k, &v) == 1) {
        if (delta_json_key_is(k, "storageType") && delta_json_span_is(v, '"')) {
            free(st);
            st = delta_json_span_str(v);
        } else if (delta_json_key_is(k, "pathOrInlineDv") && delta_json_span_is(v, '"')) {
            free(pd);
            pd = delta_json_span_str(v);
        } else if (delta_json_key_is(k, "offset")) {
            has_offset = delta_json_span_int(v, &offset) == 0;
        } else if (delta_json_key_is(k, "cardinality")) {
            if (delta_json_span_int(v, &card) != 0)
                card = 0;
        }
    }
    sl_code c = SL_OK;
    if (!st || !pd)
        c = corrupt(err, key, line, what,
                    "has a deletionVector without storageType and pathOrInlineDv");
    else
        ff->dv_id = dv_id_make(r, st, strlen(st), pd, strlen(pd), has_offset, offset);
    ff->dv_cardinality = card;
    free(st);
    free(pd);
    return c;
}

static sl_code file_fields_read(delta_replay *r, delta_json_span body, const char *what,
                                const char *key, size_t line, file_fields *ff,
                                sl_err *err)
{
    memset(ff, 0, sizeof *ff);
    ff->deletion_timestamp = -1;
    ff->num_records = -1;
    if (!delta_json_span_is(body, '{'))
        return corrupt(err, key, line, what, "is not an object");
    delta_json_scan js = {.end = body.p + body.n};
    const char *p = body.p;
    delta_json_span k, v;
    sl_code c = SL_OK;
    delta_json_obj_begin(&js, &p); /* already validated by the line scan */
    while (c == SL_OK && delta_json_obj_next(&js, &p, &k, &v) == 1) {
        if (delta_json_key_is(k, "path")) {
            char *path = delta_json_span_str(v);
            ff->path = path ? delta_arena_strndup(r->arena, path, strlen(path)) : NULL;
            free(path);
            if (!ff->path)
                c = corrupt(err, key, line, what, "has a path that is not a string");
        } else if (delta_json_key_is(k, "size")) {
            delta_json_span_int(v, &ff->size);
        } else if (delta_json_key_is(k, "modificationTime")) {
            delta_json_span_int(v, &ff->modification_time);
        } else if (delta_json_key_is(k, "deletionTimestamp")) {
            delta_json_span_int(v, &ff->deletion_timestamp);
        } else if (delta_json_key_is(k, "stats") && delta_json_span_is(v, '"')) {
            char *stats = delta_json_span_str(v);
            int64_t nr;
            ff->num_records = delta_stats_num_records(stats, &nr) == 0 ? nr : -1;
            free(stats);
        } else if (delta_json_key_is(k, "deletionVector")) {
            ff->dv_id = NULL;
            ff->dv_cardinality = 0;
            if (delta_json_span_is(v, '{'))
                c = dv_fields(r, v, ff, key, line, what, err);
            else if (!delta_json_span_is(v, 'n'))
                c = corrupt(err, key, line, what,
                            "has a deletionVector that is not an object");
        }
    }
    if (c == SL_OK && (!ff->path || !*ff->path))
        c = corrupt(err, key, line, what, "action without a path");
    return c;
}

/* The path alone for a file without a DV (most files: no copy), else path
 * "\x1f" DV id. */
static char *reconcile_key(delta_replay *r, const file_fields *ff)
{
    if (!ff->dv_id)
        return ff->path;
    size_t pl = strlen(ff->path), dl = strlen(ff->dv_id);
    char *k = delta_arena_alloc(r->arena, pl + dl + 2);
    memcpy(k, ff->path, pl);
    k[pl] = '\x1f';
    memcpy(k + pl + 1, ff->dv_id, dl + 1);
    return k;
}

/* Puts the deferred adds into the map in order; a key seen again replaces
 * the earlier add (the newer wins) and the array is compacted in order. */
static void fmap_flush(delta_replay *r)
{
    if (r->map_upto == r->nfiles)
        return;
    delta_fmap_reserve(&r->fmap, r->nfiles);
    size_t w = r->map_upto;
    for (size_t i = r->map_upto; i < r->nfiles; i++) {
        uint64_t h = delta_fmap_hash(r->files[i].mkey);
        size_t j;
        if (delta_fmap_get_h(&r->fmap, r->files[i].mkey, h, &j)) {
            r->files[j].f = r->files[i].f;
            continue;
        }
        r->files[w] = r->files[i];
        delta_fmap_put_h(&r->fmap, r->files[w].mkey, h, w);
        w++;
    }
    r->nfiles = r->map_upto = w;
}

/* body NULL: the add is record rec of batch (a reference is taken). defer:
 * a checkpoint's add (see below). */
static void apply_add_fields(delta_replay *r, file_fields *ff, const char *body, size_t n,
                             delta_cp_batch *batch, uint32_t rec, int defer)
{
    char *mkey = reconcile_key(r, ff);
    delta_file f = {.path = ff->path,
                    .dv_id = ff->dv_id,
                    .size = ff->size,
                    .modification_time = ff->modification_time,
                    .num_records = ff->num_records,
                    .dv_cardinality = ff->dv_id ? ff->dv_cardinality : 0,
                    .add_text = body ? delta_arena_strndup(r->arena, body, n) : NULL,
                    .add_batch = body ? NULL : batch,
                    .add_rec = body ? 0 : rec};
    if (!body && batch != r->last_batch) {
        /* Batches arrive one checkpoint file at a time: one reference each,
         * and room for the file's rows at once rather than by doubling. */
        delta_cp_batch_ref(batch);
        delta_arena_own(r->arena, batch, delta_cp_batch_unref);
        r->last_batch = batch;
        size_t want = r->nfiles + delta_cp_batch_rows(batch);
        if (want > r->capfiles) {
            r->capfiles = want;
            r->files = sl_realloc(r->files, r->capfiles * sizeof *r->files);
        }
    }

    size_t i;
    if (defer) {
        /* A checkpoint's adds are unique by key in any valid checkpoint:
         * they are appended unchecked, and the map is built only when a
         * later action needs it (fmap_flush); a snapshot straight from a
         * checkpoint never builds it, and finish drops duplicates. */
        if (r->tmap.n && delta_fmap_get(&r->tmap, mkey, &i))
            tomb_drop(r, i);
        if (r->nfiles == r->capfiles) {
            r->capfiles = r->capfiles ? r->capfiles * 2 : 256;
            r->files = sl_realloc(r->files, r->capfiles * sizeof *r->files);
        }
        r->files[r->nfiles++] = (rfile){.mkey = mkey, .f = f};
        return;
    }
    fmap_flush(r);
    uint64_t h = delta_fmap_hash(mkey);
    if (delta_fmap_get_h(&r->tmap, mkey, h, &i))
        tomb_drop(r, i);
    if (delta_fmap_get_h(&r->fmap, mkey, h, &i)) {
        /* The same key added again: the newer add wins. */
        r->files[i].f = f;
        return;
    }
    if (r->nfiles == r->capfiles) {
        r->capfiles = r->capfiles ? r->capfiles * 2 : 256;
        r->files = sl_realloc(r->files, r->capfiles * sizeof *r->files);
    }
    r->files[r->nfiles] = (rfile){.mkey = mkey, .f = f};
    delta_fmap_put_h(&r->fmap, mkey, h, r->nfiles);
    r->nfiles++;
    r->map_upto = r->nfiles;
}

static sl_code apply_add(delta_replay *r, delta_json_span body, const char *key,
                         size_t line, sl_err *err)
{
    file_fields ff;
    sl_code c = file_fields_read(r, body, "add", key, line, &ff, err);
    if (c == SL_OK)
        apply_add_fields(r, &ff, body.p, body.n, NULL, 0, 0);
    return c;
}

static void apply_remove_fields(delta_replay *r, file_fields *ff, const char *body,
                                size_t n)
{
    char *mkey = reconcile_key(r, ff);
    size_t i;
    fmap_flush(r); /* file_drop needs every add in the map */
    uint64_t h = delta_fmap_hash(mkey);
    if (delta_fmap_get_h(&r->fmap, mkey, h, &i))
        file_drop(r, i);

    delta_tombstone t = {.path = ff->path,
                         .dv_id = ff->dv_id,
                         .deletion_timestamp = ff->deletion_timestamp,
                         .remove_json = delta_arena_strndup(r->arena, body, n)};
    if (delta_fmap_get_h(&r->tmap, mkey, h, &i)) {
        r->tombs[i].t = t;
        return;
    }
    if (r->ntombs == r->captombs) {
        r->captombs = r->captombs ? r->captombs * 2 : 64;
        r->tombs = sl_realloc(r->tombs, r->captombs * sizeof *r->tombs);
    }
    r->tombs[r->ntombs] = (rtomb){.mkey = mkey, .t = t};
    delta_fmap_put_h(&r->tmap, mkey, h, r->ntombs);
    r->ntombs++;
}

static sl_code apply_remove(delta_replay *r, delta_json_span body, const char *key,
                            size_t line, sl_err *err)
{
    file_fields ff;
    sl_code c = file_fields_read(r, body, "remove", key, line, &ff, err);
    if (c == SL_OK)
        apply_remove_fields(r, &ff, body.p, body.n);
    return c;
}

static sl_code replace_object(json_t **slot, json_t *body, const char *what,
                              const char *key, size_t line, sl_err *err)
{
    if (!json_is_object(body))
        return corrupt(err, key, line, what, "is not an object");
    json_decref(*slot);
    *slot = json_incref(body);
    return SL_OK;
}

static sl_code apply_txn(delta_replay *r, json_t *body, const char *key, size_t line,
                         sl_err *err)
{
    const char *app = json_string_value(json_object_get(body, "appId"));
    if (!app)
        return corrupt(err, key, line, "txn", "action without an appId");
    json_object_set(r->txns, app, body);
    return SL_OK;
}

static sl_code apply_domain(delta_replay *r, json_t *body, const char *key, size_t line,
                            sl_err *err)
{
    const char *domain = json_string_value(json_object_get(body, "domain"));
    if (!domain)
        return corrupt(err, key, line, "domainMetadata", "action without a domain");
    if (json_is_true(json_object_get(body, "removed")))
        json_object_del(r->domains, domain);
    else
        json_object_set(r->domains, domain, body);
    return SL_OK;
}

/* The rare, small actions go through jansson; add and remove never do. */
static sl_code apply_tree_action(delta_replay *r, delta_json_span k, delta_json_span v,
                                 const char *key, size_t line, sl_err *err)
{
    static const char *const names[] = {"metaData", "protocol", "txn", "domainMetadata",
                                        "commitInfo"};
    size_t which = sizeof names / sizeof *names;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (delta_json_key_is(k, names[i]))
            which = i;
    if (which == sizeof names / sizeof *names)
        return SL_OK; /* unknown action (cdc, sidecar, a future one): not ours to judge */
    json_error_t jerr;
    json_t *body = json_loadb(v.p, v.n, JSON_DECODE_ANY, &jerr);
    if (!body)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: %s: %s", key, line,
                       names[which], jerr.text);
    sl_code c = SL_OK;
    if (which != 4 && !json_is_object(body))
        c = corrupt(err, key, line, names[which], "is not an object");
    else if (which == 0)
        c = replace_object(&r->metadata, body, "metaData", key, line, err);
    else if (which == 1)
        c = replace_object(&r->protocol, body, "protocol", key, line, err);
    else if (which == 2)
        c = apply_txn(r, body, key, line, err);
    else if (which == 3)
        c = apply_domain(r, body, key, line, err);
    else if (json_is_object(body))
        r->commit_ts = delta_commit_info_timestamp(body);
    json_decref(body);
    return c;
}

typedef struct member_ctx {
    delta_replay *r;
    const char *key;
} member_ctx;

static sl_code replay_member(void *vctx, delta_json_span name, delta_json_span value,
                             size_t line, sl_err *err)
{
    member_ctx *ctx = vctx;
    if (delta_json_key_is(name, "add"))
        return apply_add(ctx->r, value, ctx->key, line, err);
    if (delta_json_key_is(name, "remove"))
        return apply_remove(ctx->r, value, ctx->key, line, err);
    return apply_tree_action(ctx->r, name, value, ctx->key, line, err);
}

sl_code delta_replay_line(delta_replay *r, const char *text, size_t n, const char *key,
                          size_t line, sl_err *err)
{
    member_ctx ctx = {.r = r, .key = key};
    return delta_action_members(text, n, key, line, replay_member, &ctx, err);
}

sl_code delta_replay_action(delta_replay *r, const char *name, const char *body, size_t n,
                            const char *key, size_t row, sl_err *err)
{
    /* Member names are matched as scanned spans, quotes included. Action
     * names are short identifiers (no escapes needed). */
    char quoted[64];
    size_t nl = strlen(name);
    if (nl + 2 >= sizeof quoted)
        return SL_OK; /* no action we handle has such a name */
    quoted[0] = '"';
    memcpy(quoted + 1, name, nl);
    quoted[nl + 1] = '"';
    quoted[nl + 2] = '\0';
    delta_json_span k = {.p = quoted, .n = nl + 2};
    delta_json_span v = {.p = body, .n = n};
    member_ctx ctx = {.r = r, .key = key};
    return replay_member(&ctx, k, v, row, err);
}

sl_code delta_replay_file(delta_replay *r, int is_add, const delta_cp_file *cf,
                          const char *body, size_t n, const char *key, size_t row,
                          sl_err *err)
{
    const char *what = is_add ? "add" : "remove";
    if (!cf->path || cf->path_len == 0 || memchr(cf->path, '\0', cf->path_len))
        return corrupt(err, key, row, what, "action without a path");
    if (cf->has_dv && (!cf->dv_storage || !cf->dv_path))
        return corrupt(err, key, row, what,
                       "has a deletionVector without storageType and pathOrInlineDv");
    file_fields ff = {.path = delta_arena_strndup(r->arena, cf->path, cf->path_len),
                      .size = cf->size,
                      .modification_time = cf->modification_time,
                      .deletion_timestamp = cf->deletion_timestamp,
                      .dv_cardinality = cf->has_dv ? cf->dv_cardinality : 0,
                      .num_records = cf->num_records};
    if (cf->has_dv)
        ff.dv_id = dv_id_make(r, cf->dv_storage, cf->dv_storage_len, cf->dv_path,
                              cf->dv_path_len, cf->has_dv_offset, cf->dv_offset);
    if (is_add && !body && !cf->batch)
        return corrupt(err, key, row, what, "has neither text nor columns");
    if (is_add)
        apply_add_fields(r, &ff, body, n, cf->batch, cf->batch_rec, 1);
    else
        apply_remove_fields(r, &ff, body, n);
    return SL_OK;
}

void delta_replay_commit_begin(delta_replay *r)
{
    r->commit_ts = -1;
}

int64_t delta_replay_commit_ts(const delta_replay *r)
{
    return r->commit_ts;
}

char *delta_file_add_text(const delta_file *f)
{
    if (!f)
        return NULL;
    if (f->add_text)
        return sl_strdup(f->add_text);
    if (!f->add_batch)
        return NULL;
    sl_buf b = {0};
    if (delta_cp_batch_add_text(f->add_batch, f->add_rec, &b, NULL) != SL_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

json_t *delta_file_add(const delta_file *f)
{
    if (f && f->add_text)
        return json_loads(f->add_text, 0, NULL);
    char *text = delta_file_add_text(f);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return j;
}

json_t *delta_tombstone_remove(const delta_tombstone *t)
{
    return t && t->remove_json ? json_loads(t->remove_json, 0, NULL) : NULL;
}

/* ---- result ------------------------------------------------------------------ */

static int cmp_opt_str(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_file(const void *a, const void *b)
{
    const delta_file *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : cmp_opt_str(x->dv_id, y->dv_id);
}

/* Sorting 100k paths with strcmp is dominated by their long common prefixes
 * ("part-00000-", "date=2026-"). This is a most-significant-digit sort on
 * 8-byte chunks: entries are radix-sorted by the big-endian chunk at
 * `depth`, and each run of equal chunks is sorted by the next chunk after
 * the run's own common prefix. Paths hold no NUL, so a chunk ending in a
 * zero byte means the path ended inside it: such a run holds equal paths,
 * ordered by DV id. */
typedef struct sort_ent {
    uint64_t key;
    const delta_file *f;
} sort_ent;

/* The 8 bytes of p from depth on, zero-padded past its end; len is the
 * path's length. */
static inline uint64_t chunk_at(const char *p, size_t len, size_t depth)
{
    if (depth + 8 <= len) {
        uint64_t w;
        memcpy(&w, p + depth, 8);
        return __builtin_bswap64(w);
    }
    uint64_t key = 0;
    for (size_t k = 0; k < 8; k++)
        key = key << 8 | (depth + k < len ? (unsigned char)p[depth + k] : 0);
    return key;
}

static int cmp_sort_ent(const void *a, const void *b)
{
    const sort_ent *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_sort_dv(const void *a, const void *b)
{
    const sort_ent *x = a, *y = b;
    return cmp_opt_str(x->f->dv_id, y->f->dv_id);
}

/* LSD radix sort on the 64-bit keys, one byte a pass, skipping the bytes
 * every key shares (paths are ASCII, so several are constant). */
static void radix_sort(sort_ent *e, sort_ent *tmp, size_t n)
{
    size_t(*cnt)[256] = sl_calloc(8, sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++)
            cnt[d][(e[i].key >> (8 * d)) & 0xff]++;
    sort_ent *src = e, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        if (cnt[d][(e[0].key >> (8 * d)) & 0xff] == n)
            continue; /* the same byte in every key */
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[d][(src[i].key >> (8 * d)) & 0xff]++] = src[i];
        sort_ent *t = src;
        src = dst;
        dst = t;
    }
    if (src != e)
        memcpy(e, src, n * sizeof *e);
    free(cnt);
}

/* Sorts e[0..n) whose paths agree on their first `depth` bytes. */
static void sort_run(sort_ent *e, sort_ent *tmp, size_t n, size_t depth)
{
    /* Skip the run's own common prefix: one chunk compare per entry. */
    for (;;) {
        const char *p0 = e[0].f->path;
        size_t len0 = strlen(p0 + depth) + depth;
        uint64_t k0 = chunk_at(p0, len0, depth);
        if ((k0 & 0xff) == 0)
            break; /* the first path ends in this chunk */
        size_t i = 1;
        while (i < n && strncmp(e[i].f->path + depth, p0 + depth, 8) == 0)
            i++;
        if (i < n)
            break;
        depth += 8;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = e[i].f->path;
        e[i].key = chunk_at(p, strnlen(p + depth, 8) + depth, depth);
    }
    if (n < 64)
        qsort(e, n, sizeof *e, cmp_sort_ent);
    else
        radix_sort(e, tmp, n);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && e[j].key == e[i].key)
            j++;
        if (j - i > 1) {
            if ((e[i].key & 0xff) == 0)
                qsort(e + i, j - i, sizeof *e, cmp_sort_dv);
            else
                sort_run(e + i, tmp, j - i, depth + 8);
        }
        i = j;
    }
}

/* out[] = the files in path order; returns how many. may_dup: deferred
 * checkpoint adds may repeat a key, and of equal keys the one latest in
 * files[] (the newest add) is kept. */
static size_t files_sort(const rfile *files, size_t n, int may_dup, delta_file *out)
{
    sort_ent *e = sl_calloc(n ? n : 1, sizeof *e);
    for (size_t k = 0; k < n; k++)
        e[k].f = &files[k].f;
    size_t i = 1;
    while (i < n && cmp_file(&files[i - 1].f, &files[i].f) <= 0)
        i++;
    if (i < n) { /* else already in order, as checkpoints we write are */
        sort_ent *tmp = sl_calloc(n, sizeof *tmp);
        sort_run(e, tmp, n, 0);
        free(tmp);
    }
    size_t m = 0;
    for (size_t k = 0; k < n;) {
        const delta_file *keep = e[k].f;
        size_t j = k + 1;
        while (may_dup && j < n && cmp_file(e[j].f, keep) == 0) {
            if (e[j].f > keep)
                keep = e[j].f;
            j++;
        }
        out[m++] = *keep;
        k = j;
    }
    free(e);
    return m;
}

static int cmp_tomb(const void *a, const void *b)
{
    const delta_tombstone *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : cmp_opt_str(x->dv_id, y->dv_id);
}

void delta_replay_finish(delta_replay *r, delta_snapshot *snap)
{
    snap->protocol = r->protocol;
    snap->metadata = r->metadata;
    snap->txns = r->txns;
    snap->domains = r->domains;
    r->protocol = r->metadata = NULL;
    r->txns = json_object();
    r->domains = json_object();

    /* Sorting pointers and copying once beats qsort moving the structs. */
    snap->files = sl_calloc(r->nfiles ? r->nfiles : 1, sizeof *snap->files);
    /* The map goes first: its memory is reused by the sort. */
    delta_fmap_free(&r->fmap);
    snap->nfiles = files_sort(r->files, r->nfiles, r->map_upto < r->nfiles, snap->files);
    int64_t rows = 0, bytes = 0;
    int rows_known = 1;
    for (size_t i = 0; i < snap->nfiles; i++) {
        const delta_file *f = &snap->files[i];
        bytes += f->size;
        if (f->num_records < 0)
            rows_known = 0;
        else
            rows += f->num_records - f->dv_cardinality;
    }
    snap->num_rows = rows_known ? rows : -1;
    snap->size_bytes = bytes;

    snap->ntombstones = r->ntombs;
    snap->tombstones = sl_calloc(r->ntombs ? r->ntombs : 1, sizeof *snap->tombstones);
    for (size_t i = 0; i < r->ntombs; i++)
        snap->tombstones[i] = r->tombs[i].t;
    qsort(snap->tombstones, snap->ntombstones, sizeof *snap->tombstones, cmp_tomb);

    r->nfiles = r->ntombs = r->map_upto = 0;
    delta_fmap_free(&r->fmap);
    delta_fmap_free(&r->tmap);
    snap->arena = r->arena; /* the strings go with the files */
    r->arena = sl_calloc(1, sizeof *r->arena);
    r->last_batch = NULL;
}
