/* Bringing an open snapshot to the latest version by replaying only the
 * commits after it: a long-running runner keeps its snapshots between
 * batches, and reopening a table of 10,000 files to see one new commit
 * costs a full replay. The new commits are replayed on their own (a fresh
 * delta_replay), and their net effect is applied to the snapshot's sorted
 * arrays as a handful of edits: the answer is the one a fresh open would
 * give. Whenever that cannot be guaranteed cheaply (a commit missing from
 * the log, a long history replayed in memory) the snapshot is opened anew. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"

/* Commits past the checkpoint a snapshot was built from (all of them when
 * none) before it is rebuilt from the log: strings of removed files stay in
 * its arena until then, so this bounds the memory a warm snapshot wastes. */
#define UPDATE_MAX_REPLAYED 1000

typedef struct new_commit {
    int64_t version;
    char *key;
    int64_t mtime_ms;
} new_commit;

typedef struct new_commits {
    new_commit *v;
    size_t n, cap;
    int newer_checkpoint; /* a checkpoint above the snapshot's version is listed */
} new_commits;

static void new_commits_free(new_commits *nc)
{
    for (size_t i = 0; i < nc->n; i++)
        free(nc->v[i].key);
    free(nc->v);
    memset(nc, 0, sizeof *nc);
}

static int cmp_new_commit(const void *a, const void *b)
{
    const new_commit *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* The log entries after `version`, listed from its commit's name on (an
 * S3 start-after listing: the cost follows what is new, not the history). */
static sl_code list_after(store *s, const char *table_key, int64_t version,
                          new_commits *out, sl_err *err)
{
    char *prefix = delta_log_prefix(table_key);
    size_t plen = strlen(prefix);
    char *start = sl_asprintf("%s%020lld.json", prefix, (long long)version);
    char *token = NULL;
    sl_code c = SL_OK;
    for (;;) {
        store_list_req req = {prefix, "/", token ? token : start, 1000};
        store_page page;
        c = store_list(s, &req, &page, err);
        if (c != SL_OK)
            break;
        for (size_t i = 0; i < page.n; i++) {
            const store_obj *o = &page.items[i];
            delta_log_name nm;
            if (o->is_prefix || strncmp(o->key, prefix, plen) != 0 ||
                strchr(o->key + plen, '/') || !delta_log_name_parse(o->key + plen, &nm) ||
                nm.version <= version)
                continue;
            if (nm.kind != DELTA_LOG_COMMIT) {
                out->newer_checkpoint = 1;
                continue;
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 8;
                out->v = sl_realloc(out->v, out->cap * sizeof *out->v);
            }
            out->v[out->n++] = (new_commit){nm.version, sl_strdup(o->key), o->mtime_ms};
        }
        free(token);
        token = page.next_token ? sl_strdup(page.next_token) : NULL;
        store_page_free(&page);
        if (!token)
            break;
    }
    free(token);
    free(start);
    free(prefix);
    if (c == SL_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_new_commit);
    return c;
}

/* 1 when the listed commits are exactly version+1 .. version+n. */
static int contiguous(const new_commits *nc, int64_t version)
{
    for (size_t i = 0; i < nc->n; i++)
        if (nc->v[i].version != version + 1 + (int64_t)i)
            return 0;
    return 1;
}

typedef struct line_ctx {
    delta_replay *r;
    const char *key;
} line_ctx;

static sl_code replay_line(void *vctx, const char *text, size_t n, size_t line,
                           sl_err *err)
{
    line_ctx *ctx = vctx;
    return delta_replay_line(ctx->r, text, n, ctx->key, line, err);
}

/* Domains are the one piece whose removal a replay of the new commits
 * alone cannot see (it drops the domain from its own, empty, map): the
 * replay starts from the snapshot's. */
static sl_code seed_domains(delta_replay *r, const delta_snapshot *snap, sl_err *err)
{
    const char *name;
    json_t *body;
    sl_code c = SL_OK;
    json_object_foreach(snap->domains, name, body)
    {
        char *text = json_dumps(body, JSON_COMPACT);
        c = delta_replay_action(r, "domainMetadata", text, strlen(text), "snapshot", 0,
                                err);
        free(text);
        if (c != SL_OK)
            break;
    }
    return c;
}

/* The net effect of the new commits, as a snapshot of its own: the files
 * they leave added, the removes they leave standing, the last protocol and
 * metaData they carry (NULL when none), their txns, and the domains. */
static sl_code replay_new(store *s, const char *table_key, const delta_snapshot *snap,
                          const new_commits *nc, delta_snapshot *t, sl_err *err)
{
    delta_replay *r = delta_replay_new();
    sl_code c = seed_domains(r, snap, err);
    for (size_t i = 0; i < nc->n && c == SL_OK; i++) {
        sl_buf b = {0};
        c = store_get(s, nc->v[i].key, &b, err);
        if (c == SL_STORE_NOT_FOUND) /* cleaned up since the listing */
            c = err_set(err, SL_DELTA_GAP, "commit version %lld vanished while reading",
                        (long long)nc->v[i].version);
        if (c == SL_OK) {
            line_ctx ctx = {r, nc->v[i].key};
            delta_replay_commit_begin(r);
            c = delta_commit_lines(b.data ? b.data : "", b.len, nc->v[i].key, replay_line,
                                   &ctx, err);
        }
        buf_free(&b);
    }
    if (c == SL_OK) {
        int64_t ts = delta_replay_commit_ts(r);
        t->timestamp_ms = ts >= 0 ? ts : nc->v[nc->n - 1].mtime_ms;
        t->version = nc->v[nc->n - 1].version;
        delta_replay_finish(r, t);
        delta_footer_rows_fill(s, table_key, t);
    }
    delta_replay_free(r);
    return c;
}

/* ---- applying the net effect ------------------------------------------- */

static int cmp_opt(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* The snapshot's order: path, then DV id (none first). */
static int key_cmp(const char *pa, const char *da, const char *pb, const char *db)
{
    int c = strcmp(pa, pb);
    return c ? c : cmp_opt(da, db);
}

/* First index of files[0, n) whose key is not below (path, dv). */
static size_t file_lower(const delta_file *files, size_t n, const char *path,
                         const char *dv)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(files[mid].path, files[mid].dv_id, path, dv) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t tomb_lower(const delta_tombstone *t, size_t n, const char *path,
                         const char *dv)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(t[mid].path, t[mid].dv_id, path, dv) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static char *arena_dup(delta_arena *a, const char *s)
{
    return s ? delta_arena_strndup(a, s, strlen(s)) : NULL;
}

/* One change to a sorted array: the key, and what takes its place (an
 * entry of the net effect), or nothing (a removal). */
typedef struct edit {
    const char *path, *dv;
    const void *with; /* delta_file or delta_tombstone of t; NULL: drop */
} edit;

static int cmp_edit(const void *a, const void *b)
{
    const edit *x = a, *y = b;
    return key_cmp(x->path, x->dv, y->path, y->dv);
}

/* Keys of the new commits' files and removes, sorted; `files_with` and
 * `tombs_with` say which side replaces an entry (the other side drops it). */
static edit *edits_build(const delta_snapshot *t, int files_with, int tombs_with,
                         size_t *n)
{
    edit *e = sl_calloc(t->nfiles + t->ntombstones + 1, sizeof *e);
    size_t k = 0;
    for (size_t i = 0; i < t->nfiles; i++)
        e[k++] =
            (edit){t->files[i].path, t->files[i].dv_id, files_with ? &t->files[i] : NULL};
    for (size_t i = 0; i < t->ntombstones; i++)
        e[k++] = (edit){t->tombstones[i].path, t->tombstones[i].dv_id,
                        tombs_with ? &t->tombstones[i] : NULL};
    /* A key is a live file or a tombstone of t, never both. */
    qsort(e, k, sizeof *e, cmp_edit);
    *n = k;
    return e;
}

/* Whether a live file's row count came from its Parquet footer (its stats
 * have no numRecords): what rows_from_footers counts. */
static int counted_from_footer(const delta_file *f)
{
    if (f->num_records < 0)
        return 0;
    json_t *add = delta_file_add(f);
    const char *stats = json_string_value(json_object_get(add, "stats"));
    int64_t n;
    int from_footer = !stats || delta_stats_num_records(stats, &n) != 0;
    json_decref(add);
    return from_footer;
}

static void files_apply(delta_snapshot *snap, const delta_snapshot *t)
{
    size_t ne;
    edit *e = edits_build(t, 1, 0, &ne);
    delta_file *out = sl_calloc(snap->nfiles + t->nfiles + 1, sizeof *out);
    size_t m = 0, cur = 0;
    for (size_t k = 0; k < ne; k++) {
        size_t pos = file_lower(snap->files, snap->nfiles, e[k].path, e[k].dv);
        /* Unchanged files up to the edit keep their place as a block. */
        memcpy(out + m, snap->files + cur, (pos - cur) * sizeof *out);
        m += pos - cur;
        cur = pos;
        if (cur < snap->nfiles && key_cmp(snap->files[cur].path, snap->files[cur].dv_id,
                                          e[k].path, e[k].dv) == 0) {
            const delta_file *gone = &snap->files[cur];
            if (gone->num_records < 0)
                snap->rows_unknown_files--;
            else if (counted_from_footer(gone))
                snap->rows_from_footers--;
            cur++;
        }
        if (e[k].with) {
            delta_file f = *(const delta_file *)e[k].with;
            f.path = arena_dup(snap->arena, f.path);
            f.dv_id = arena_dup(snap->arena, f.dv_id);
            f.add_text = arena_dup(snap->arena, f.add_text);
            out[m++] = f;
        }
    }
    memcpy(out + m, snap->files + cur, (snap->nfiles - cur) * sizeof *out);
    m += snap->nfiles - cur;
    free(e);
    free(snap->files);
    snap->files = out;
    snap->nfiles = m;
    snap->rows_from_footers += t->rows_from_footers;
    snap->rows_unknown_files += t->rows_unknown_files;
}

static void tombs_apply(delta_snapshot *snap, const delta_snapshot *t)
{
    size_t ne;
    edit *e = edits_build(t, 0, 1, &ne);
    delta_tombstone *out = sl_calloc(snap->ntombstones + t->ntombstones + 1, sizeof *out);
    size_t m = 0, cur = 0;
    for (size_t k = 0; k < ne; k++) {
        size_t pos = tomb_lower(snap->tombstones, snap->ntombstones, e[k].path, e[k].dv);
        memcpy(out + m, snap->tombstones + cur, (pos - cur) * sizeof *out);
        m += pos - cur;
        cur = pos;
        if (cur < snap->ntombstones &&
            key_cmp(snap->tombstones[cur].path, snap->tombstones[cur].dv_id, e[k].path,
                    e[k].dv) == 0)
            cur++;
        if (e[k].with) {
            delta_tombstone x = *(const delta_tombstone *)e[k].with;
            x.path = arena_dup(snap->arena, x.path);
            x.dv_id = arena_dup(snap->arena, x.dv_id);
            x.remove_json = arena_dup(snap->arena, x.remove_json);
            out[m++] = x;
        }
    }
    memcpy(out + m, snap->tombstones + cur, (snap->ntombstones - cur) * sizeof *out);
    m += snap->ntombstones - cur;
    free(e);
    free(snap->tombstones);
    snap->tombstones = out;
    snap->ntombstones = m;
}

static void totals_recompute(delta_snapshot *snap)
{
    int64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        const delta_file *f = &snap->files[i];
        bytes += f->size;
        if (f->num_records >= 0)
            rows += f->num_records - f->dv_cardinality;
    }
    snap->size_bytes = bytes;
    snap->num_rows = snap->rows_unknown_files ? -1 : rows;
}

/* Moves t's effect into snap; t keeps only what it did not give away. */
static void apply(delta_snapshot *snap, delta_snapshot *t)
{
    files_apply(snap, t);
    tombs_apply(snap, t);
    totals_recompute(snap);
    if (t->protocol) {
        json_decref(snap->protocol);
        snap->protocol = t->protocol;
        t->protocol = NULL;
    }
    if (t->metadata) {
        json_decref(snap->metadata);
        snap->metadata = t->metadata;
        t->metadata = NULL;
    }
    json_object_update(snap->txns, t->txns);
    json_decref(snap->domains);
    snap->domains = t->domains;
    t->domains = NULL;
    snap->version = t->version;
    snap->timestamp_ms = t->timestamp_ms;
}

static sl_code reopen(store *s, const char *table_key, delta_snapshot **snap, sl_err *err)
{
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *fresh = NULL;
    sl_code c = delta_snapshot_open(s, table_key, &at, &fresh, err);
    if (c != SL_OK)
        return c;
    delta_snapshot_free(*snap);
    *snap = fresh;
    return SL_OK;
}

sl_code delta_snapshot_update(store *s, const char *table_key, delta_snapshot **snap,
                              sl_err *err)
{
    if (!*snap)
        return reopen(s, table_key, snap, err);
    delta_snapshot *cur = *snap;
    new_commits nc = {0};
    sl_code c = list_after(s, table_key, cur->version, &nc, err);
    if (c != SL_OK || nc.n == 0) {
        /* A checkpoint above the version without a commit after it means
         * the commits were cleaned up: only a fresh open can say. */
        int stale = c == SL_OK && nc.newer_checkpoint;
        new_commits_free(&nc);
        return stale ? reopen(s, table_key, snap, err) : c;
    }
    int64_t replayed = nc.v[nc.n - 1].version - cur->checkpoint_version;
    if (!contiguous(&nc, cur->version) || replayed > UPDATE_MAX_REPLAYED) {
        new_commits_free(&nc);
        return reopen(s, table_key, snap, err);
    }
    delta_snapshot t = {0};
    c = replay_new(s, table_key, cur, &nc, &t, err);
    if (c == SL_OK)
        c = delta_protocol_check(t.protocol ? t.protocol : cur->protocol, t.version, err);
    if (c == SL_OK && t.metadata && !json_is_object(t.metadata))
        c = err_set(err, SL_DELTA_CORRUPT_LOG,
                    "metaData of version %lld is not an object", (long long)t.version);
    if (c == SL_OK)
        apply(cur, &t);
    /* t's strings were copied into cur's arena; the rest goes. */
    json_decref(t.protocol);
    json_decref(t.metadata);
    json_decref(t.txns);
    json_decref(t.domains);
    free(t.files);
    free(t.tombstones);
    delta_arena_free(t.arena);
    free(t.arena);
    new_commits_free(&nc);
    return c;
}
