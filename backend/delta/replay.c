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
    char *mkey; /* path "\x1f" dv id: the reconciliation key, owned */
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
    delta_fmap tmap;   /* mkey -> index in tombs */
    int64_t commit_ts; /* commitInfo time of the commit being applied, -1 if none */
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
int delta_stats_num_records(const char *stats, int64_t *out)
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

/* ---- state ---------------------------------------------------------------- */

delta_replay *delta_replay_new(void)
{
    delta_replay *r = sl_calloc(1, sizeof *r);
    r->txns = json_object();
    r->domains = json_object();
    r->commit_ts = -1;
    delta_fmap_init(&r->fmap);
    delta_fmap_init(&r->tmap);
    return r;
}

static void file_clear(delta_file *f)
{
    free(f->path);
    free(f->dv_id);
    free(f->add_json);
    memset(f, 0, sizeof *f);
}

static void tomb_clear(delta_tombstone *t)
{
    free(t->path);
    free(t->dv_id);
    free(t->remove_json);
    memset(t, 0, sizeof *t);
}

void delta_replay_free(delta_replay *r)
{
    if (!r)
        return;
    json_decref(r->protocol);
    json_decref(r->metadata);
    json_decref(r->txns);
    json_decref(r->domains);
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i].mkey);
        file_clear(&r->files[i].f);
    }
    free(r->files);
    for (size_t i = 0; i < r->ntombs; i++) {
        free(r->tombs[i].mkey);
        tomb_clear(&r->tombs[i].t);
    }
    free(r->tombs);
    delta_fmap_free(&r->fmap);
    delta_fmap_free(&r->tmap);
    free(r);
}

/* Swap-remove keeps the arrays dense; the moved entry's map slot is updated
 * (its key string moves with it, so the map's borrowed pointer stays valid). */
static void file_drop(delta_replay *r, size_t i)
{
    delta_fmap_del(&r->fmap, r->files[i].mkey);
    free(r->files[i].mkey);
    file_clear(&r->files[i].f);
    size_t last = --r->nfiles;
    if (i != last) {
        r->files[i] = r->files[last];
        delta_fmap_put(&r->fmap, r->files[i].mkey, i);
    }
}

static void tomb_drop(delta_replay *r, size_t i)
{
    delta_fmap_del(&r->tmap, r->tombs[i].mkey);
    free(r->tombs[i].mkey);
    tomb_clear(&r->tombs[i].t);
    size_t last = --r->ntombs;
    if (i != last) {
        r->tombs[i] = r->tombs[last];
        delta_fmap_put(&r->tmap, r->tombs[i].mkey, i);
    }
}

/* ---- actions ---------------------------------------------------------------- */

/* The fields of an add or remove that replay needs, read from the text. */
typedef struct file_fields {
    char *path;
    char *dv_id;
    int64_t size;
    int64_t modification_time;
    int64_t deletion_timestamp;
    int64_t dv_cardinality;
    int64_t num_records;
} file_fields;

static void file_fields_clear(file_fields *ff)
{
    free(ff->path);
    free(ff->dv_id);
}

static sl_code corrupt(sl_err *err, const char *key, size_t line, const char *what,
                       const char *detail)
{
    return err_set(err, SL_DELTA_CORRUPT_LOG, "%s line %zu: %s %s", key, line, what,
                   detail);
}

/* storageType + pathOrInlineDv (+ "@" + offset): the protocol's unique id of
 * a deletion vector, the second half of a file's reconciliation key. */
static sl_code dv_fields(delta_json_span dv, file_fields *ff, const char *key,
                         size_t line, const char *what, sl_err *err)
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
    else if (has_offset)
        ff->dv_id = sl_asprintf("%s%s@%lld", st, pd, (long long)offset);
    else
        ff->dv_id = sl_asprintf("%s%s", st, pd);
    ff->dv_cardinality = card;
    free(st);
    free(pd);
    return c;
}

static sl_code file_fields_read(delta_json_span body, const char *what, const char *key,
                                size_t line, file_fields *ff, sl_err *err)
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
            free(ff->path);
            ff->path = delta_json_span_str(v);
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
            free(ff->dv_id);
            ff->dv_id = NULL;
            ff->dv_cardinality = 0;
            if (delta_json_span_is(v, '{'))
                c = dv_fields(v, ff, key, line, what, err);
            else if (!delta_json_span_is(v, 'n'))
                c = corrupt(err, key, line, what,
                            "has a deletionVector that is not an object");
        }
    }
    if (c == SL_OK && (!ff->path || !*ff->path))
        c = corrupt(err, key, line, what, "action without a path");
    if (c != SL_OK)
        file_fields_clear(ff);
    return c;
}

static char *reconcile_key(const file_fields *ff)
{
    size_t pl = strlen(ff->path), dl = ff->dv_id ? strlen(ff->dv_id) : 0;
    char *k = sl_calloc(pl + dl + 2, 1);
    memcpy(k, ff->path, pl);
    k[pl] = '\x1f';
    if (dl)
        memcpy(k + pl + 1, ff->dv_id, dl);
    return k;
}

/* Takes ownership of ff's strings. */
static void apply_add_fields(delta_replay *r, file_fields *ff, const char *body, size_t n)
{
    char *mkey = reconcile_key(ff);
    delta_file f = {.path = ff->path,
                    .dv_id = ff->dv_id,
                    .size = ff->size,
                    .modification_time = ff->modification_time,
                    .num_records = ff->num_records,
                    .dv_cardinality = ff->dv_id ? ff->dv_cardinality : 0,
                    .add_json = sl_strndup(body, n)};

    size_t i;
    uint64_t h = delta_fmap_hash(mkey);
    if (delta_fmap_get_h(&r->tmap, mkey, h, &i))
        tomb_drop(r, i);
    if (delta_fmap_get_h(&r->fmap, mkey, h, &i)) {
        /* The same key added again: the newer add wins. */
        file_clear(&r->files[i].f);
        r->files[i].f = f;
        free(mkey);
        return;
    }
    if (r->nfiles == r->capfiles) {
        r->capfiles = r->capfiles ? r->capfiles * 2 : 256;
        r->files = sl_realloc(r->files, r->capfiles * sizeof *r->files);
    }
    r->files[r->nfiles] = (rfile){.mkey = mkey, .f = f};
    delta_fmap_put_h(&r->fmap, mkey, h, r->nfiles);
    r->nfiles++;
}

static sl_code apply_add(delta_replay *r, delta_json_span body, const char *key,
                         size_t line, sl_err *err)
{
    file_fields ff;
    sl_code c = file_fields_read(body, "add", key, line, &ff, err);
    if (c == SL_OK)
        apply_add_fields(r, &ff, body.p, body.n);
    return c;
}

/* Takes ownership of ff's strings. */
static void apply_remove_fields(delta_replay *r, file_fields *ff, const char *body,
                                size_t n)
{
    char *mkey = reconcile_key(ff);
    size_t i;
    uint64_t h = delta_fmap_hash(mkey);
    if (delta_fmap_get_h(&r->fmap, mkey, h, &i))
        file_drop(r, i);

    delta_tombstone t = {.path = ff->path,
                         .dv_id = ff->dv_id,
                         .deletion_timestamp = ff->deletion_timestamp,
                         .remove_json = sl_strndup(body, n)};
    if (delta_fmap_get_h(&r->tmap, mkey, h, &i)) {
        tomb_clear(&r->tombs[i].t);
        r->tombs[i].t = t;
        free(mkey);
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
    sl_code c = file_fields_read(body, "remove", key, line, &ff, err);
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
    file_fields ff = {.path = sl_strndup(cf->path, cf->path_len),
                      .size = cf->size,
                      .modification_time = cf->modification_time,
                      .deletion_timestamp = cf->deletion_timestamp,
                      .dv_cardinality = cf->has_dv ? cf->dv_cardinality : 0,
                      .num_records = cf->num_records};
    if (cf->has_dv) {
        if (cf->has_dv_offset)
            ff.dv_id =
                sl_asprintf("%.*s%.*s@%lld", (int)cf->dv_storage_len, cf->dv_storage,
                            (int)cf->dv_path_len, cf->dv_path, (long long)cf->dv_offset);
        else
            ff.dv_id = sl_asprintf("%.*s%.*s", (int)cf->dv_storage_len, cf->dv_storage,
                                   (int)cf->dv_path_len, cf->dv_path);
    }
    if (is_add)
        apply_add_fields(r, &ff, body, n);
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

json_t *delta_file_add(const delta_file *f)
{
    return f && f->add_json ? json_loads(f->add_json, 0, NULL) : NULL;
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

/* Sorting 100k paths with strcmp is dominated by their long common prefix
 * ("part-00000-", "date=2026-"). Each entry carries the 8 bytes after the
 * prefix all paths share, big-endian, so most comparisons are one integer
 * compare; ties fall back to the full order. */
typedef struct sort_ent {
    uint64_t key;
    const delta_file *f;
} sort_ent;

static int cmp_sort_ent(const void *a, const void *b)
{
    const sort_ent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return cmp_file(x->f, y->f);
}

static void files_sort(const delta_file **order, size_t n)
{
    if (n < 2)
        return;
    size_t lcp = strlen(order[0]->path);
    for (size_t i = 1; i < n && lcp; i++) {
        const char *a = order[0]->path, *b = order[i]->path;
        size_t k = 0;
        while (k < lcp && a[k] == b[k])
            k++;
        lcp = k;
    }
    sort_ent *e = sl_calloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)order[i]->path + lcp;
        uint64_t key = 0;
        for (size_t k = 0; k < 8; k++) {
            key = key << 8 | p[0];
            if (*p) /* zero-pad past the end: a shorter path sorts first */
                p++;
        }
        e[i] = (sort_ent){.key = key, .f = order[i]};
    }
    qsort(e, n, sizeof *e, cmp_sort_ent);
    for (size_t i = 0; i < n; i++)
        order[i] = e[i].f;
    free(e);
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
    snap->nfiles = r->nfiles;
    snap->files = sl_calloc(r->nfiles ? r->nfiles : 1, sizeof *snap->files);
    const delta_file **order = sl_calloc(r->nfiles ? r->nfiles : 1, sizeof *order);
    int64_t rows = 0, bytes = 0;
    int rows_known = 1;
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i].mkey);
        const delta_file *f = &r->files[i].f;
        order[i] = f;
        bytes += f->size;
        if (f->num_records < 0)
            rows_known = 0;
        else
            rows += f->num_records - f->dv_cardinality;
    }
    files_sort(order, r->nfiles);
    for (size_t i = 0; i < r->nfiles; i++)
        snap->files[i] = *order[i];
    free(order);
    snap->num_rows = rows_known ? rows : -1;
    snap->size_bytes = bytes;

    snap->ntombstones = r->ntombs;
    snap->tombstones = sl_calloc(r->ntombs ? r->ntombs : 1, sizeof *snap->tombstones);
    for (size_t i = 0; i < r->ntombs; i++) {
        snap->tombstones[i] = r->tombs[i].t;
        free(r->tombs[i].mkey);
    }
    qsort(snap->tombstones, snap->ntombstones, sizeof *snap->tombstones, cmp_tomb);

    r->nfiles = r->ntombs = 0;
    delta_fmap_free(&r->fmap);
    delta_fmap_free(&r->tmap);
}
