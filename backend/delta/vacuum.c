#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_vacuum.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

/* ---- retention intervals ------------------------------------------------ */

static int64_t unit_ms(const char *u, size_t n, int *micro)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        {"week", 7LL * 86400000}, {"day", 86400000}, {"hour", 3600000},
        {"minute", 60000},        {"second", 1000},  {"millisecond", 1},
    };
    *micro = 0;
    if (n > 1 && (u[n - 1] == 's' || u[n - 1] == 'S'))
        n--; /* plural */
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && strncasecmp(u, units[i].name, n) == 0)
            return units[i].ms;
    if (n == 11 && strncasecmp(u, "microsecond", n) == 0) {
        *micro = 1;
        return 1;
    }
    return -1;
}

sl_code delta_interval_parse(const char *text, int64_t *ms_out, sl_err *err)
{
    const char *p = text ? text : "";
    while (isspace((unsigned char)*p))
        p++;
    if (strncasecmp(p, "interval", 8) == 0 &&
        (p[8] == '\0' || isspace((unsigned char)p[8])))
        p += 8;
    int64_t total_us = 0;
    int terms = 0;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || v > 1000000000000LL)
            goto bad;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        int micro = 0;
        int64_t ms = unit_ms(u, (size_t)(p - u), &micro);
        if (ms < 0)
            goto bad;
        int64_t add = micro ? v : v * ms * 1000;
        if (add / (micro ? 1 : ms * 1000) != v || total_us > INT64_MAX - add)
            goto bad;
        total_us += add;
        terms++;
    }
    if (!terms)
        goto bad;
    *ms_out = total_us / 1000;
    return SL_OK;
bad:
    return err_set(err, SL_USAGE,
                   "cannot read the interval \"%s\"; write it as Delta does, e.g. "
                   "\"interval 7 days\" or \"interval 168 hours\"",
                   text ? text : "");
}

sl_code delta_vacuum_table_retention(const json_t *metadata, int64_t *ms_out, sl_err *err)
{
    json_t *v = json_object_get(json_object_get(metadata, "configuration"),
                                "delta.deletedFileRetentionDuration");
    if (!json_is_string(v)) {
        *ms_out = DELTA_VACUUM_DEFAULT_RETENTION_MS;
        return SL_OK;
    }
    sl_code c = delta_interval_parse(json_string_value(v), ms_out, err);
    if (c != SL_OK)
        err_set(
            err, SL_DELTA_CORRUPT_LOG,
            "the table's delta.deletedFileRetentionDuration \"%s\" is not an interval",
            json_string_value(v));
    return c;
}

/* ---- the protected set: sorted store keys -------------------------------- */

typedef struct key_set {
    char **keys;
    size_t n, cap;
} key_set;

static void key_set_add(key_set *ks, char *key)
{
    if (!key)
        return;
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 64;
        char **k = realloc(ks->keys, ks->cap * sizeof *k);
        if (!k)
            abort();
        ks->keys = k;
    }
    ks->keys[ks->n++] = key;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void key_set_sort(key_set *ks)
{
    if (ks->n)
        qsort(ks->keys, ks->n, sizeof *ks->keys, str_cmp);
}

static int key_set_has(const key_set *ks, const char *key)
{
    return ks->n && bsearch(&key, ks->keys, ks->n, sizeof *ks->keys, str_cmp) != NULL;
}

static void key_set_free(key_set *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->keys[i]);
    free(ks->keys);
    memset(ks, 0, sizeof *ks);
}

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                                "UVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* 20 Z85 characters -> the 16 bytes of a UUID; -1 on a bad character. */
static int z85_uuid(const char *s, unsigned char out[16])
{
    for (int blk = 0; blk < 4; blk++) {
        uint64_t v = 0;
        for (int i = 0; i < 5; i++) {
            const char *c = strchr(z85_chars, s[blk * 5 + i]);
            if (!c || !*c)
                return -1;
            v = v * 85 + (uint64_t)(c - z85_chars);
        }
        if (v > 0xffffffffULL)
            return -1;
        for (int i = 0; i < 4; i++)
            out[blk * 4 + i] = (unsigned char)(v >> (24 - 8 * i));
    }
    return 0;
}

static char *key_join(const char *table_key, const char *rel)
{
    return *table_key ? sl_asprintf("%s/%s", table_key, rel) : sl_strdup(rel);
}

char *delta_dv_file_key(store *s, const char *table_key, const json_t *dv)
{
    const char *st = json_string_value(json_object_get(dv, "storageType"));
    const char *p = json_string_value(json_object_get(dv, "pathOrInlineDv"));
    if (!st || !p)
        return NULL;
    if (strcmp(st, "p") == 0)
        return delta_data_file_key(s, table_key, p);
    if (strcmp(st, "u") != 0)
        return NULL;
    size_t n = strlen(p);
    unsigned char u[16];
    if (n < 20 || z85_uuid(p + n - 20, u) != 0)
        return NULL;
    char rel[160];
    int prefix = (int)(n - 20);
    snprintf(rel, sizeof rel,
             "%.*s%sdeletion_vector_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x.bin",
             prefix, p, prefix ? "/" : "", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
             u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return key_join(table_key, rel);
}

/* Protects a file (and its deletion vector). A path that cannot be decoded
 * could name any listed file: refuse rather than guess. */
static sl_code protect_action(store *s, const char *table_key, const char *path,
                              json_t *action, key_set *ks, sl_err *err)
{
    char *decoded = delta_path_decode(path);
    sl_code c = SL_OK;
    if (!decoded) {
        c = err_set(err, SL_DELTA_CORRUPT_LOG,
                    "vacuum refused: the log names a file whose path does not decode: %s",
                    path);
        goto out;
    }
    free(decoded);
    key_set_add(ks, delta_data_file_key(s, table_key, path));
    json_t *dv = action ? json_object_get(action, "deletionVector") : NULL;
    if (json_is_object(dv)) {
        char *k = delta_dv_file_key(s, table_key, dv);
        const char *st = json_string_value(json_object_get(dv, "storageType"));
        if (!k && st && strcmp(st, "u") == 0)
            c = err_set(err, SL_DELTA_CORRUPT_LOG,
                        "vacuum refused: the deletion vector of %s has an unreadable "
                        "pathOrInlineDv",
                        path);
        key_set_add(ks, k);
    }
out:
    json_decref(action);
    return c;
}

static sl_code protected_build(store *s, const char *table_key,
                               const delta_snapshot *snap, int64_t cutoff_ms, key_set *ks,
                               sl_err *err)
{
    sl_code c = SL_OK;
    for (size_t i = 0; i < snap->nfiles && c == SL_OK; i++) {
        const delta_file *f = &snap->files[i];
        c = protect_action(s, table_key, f->path, f->dv_id ? delta_file_add(f) : NULL, ks,
                           err);
    }
    for (size_t i = 0; i < snap->ntombstones && c == SL_OK; i++) {
        const delta_tombstone *t = &snap->tombstones[i];
        /* A remove without deletionTimestamp counts as removed at 0 (expired). */
        if (t->deletion_timestamp <= cutoff_ms)
            continue;
        c = protect_action(s, table_key, t->path,
                           t->dv_id ? delta_tombstone_remove(t) : NULL, ks, err);
    }
    key_set_sort(ks);
    return c;
}

/* ---- listing ---------------------------------------------------------------- */

/* Delta's hidden-name rule: names starting with '_' or '.' are not data,
 * except _change_data, _delta_index and partition directories (col=...). */
static int name_hidden(const char *name, size_t n, const json_t *part_cols)
{
    if (n == 0 || (name[0] != '_' && name[0] != '.'))
        return 0;
    if ((n >= 12 && strncmp(name, "_change_data", 12) == 0) ||
        (n >= 12 && strncmp(name, "_delta_index", 12) == 0))
        return 0;
    size_t i;
    json_t *c;
    json_array_foreach(part_cols, i, c)
    {
        const char *col = json_string_value(c);
        size_t cl = col ? strlen(col) : 0;
        if (col && cl < n && strncmp(name, col, cl) == 0 && name[cl] == '=')
            return 0;
    }
    return 1;
}

static int rel_hidden(const char *rel, const json_t *part_cols)
{
    if (strncmp(rel, "_delta_log/", 11) == 0 || strcmp(rel, "_delta_log") == 0)
        return 1; /* never, whatever else the rule says */
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (name_hidden(p, n, part_cols))
            return 1;
        if (!slash)
            return 0;
        p = slash + 1;
    }
}

/* ---- VACUUM START / END commits ------------------------------------------- */

static sl_code record_commit(store *s, const char *table_key, const delta_snapshot *snap,
                             const delta_vacuum_opts *o, const char *operation,
                             json_t *params, json_t *metrics, int64_t *version_out,
                             sl_err *err)
{
    delta_commit_meta m = {0};
    if (o->meta)
        m = *o->meta;
    m.operation = operation;
    m.operation_parameters = params;
    m.operation_metrics = metrics;
    m.isolation_level = "SnapshotIsolation";
    json_t *actions = json_array();
    delta_commit_req req = {.meta = m, .read_snap = snap, .actions = actions};
    delta_commit_result res;
    memset(&res, 0, sizeof res);
    sl_code c = delta_commit(s, table_key, &req, &res, err);
    if (c == SL_OK)
        *version_out = res.version;
    json_decref(actions);
    json_decref(params);
    json_decref(metrics);
    return c;
}

/* "VACUUM END" in a new transaction, as Delta's: it reads the table after
 * START. err may be NULL (closing a vacuum that already failed). */
static sl_code record_end(store *s, const char *table_key, const delta_vacuum_opts *o,
                          const char *status, size_t deleted, size_t ndirs,
                          int64_t *version_out, sl_err *err)
{
    sl_err local = {0};
    if (!err)
        err = &local;
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(s, table_key, &at, &snap, err);
    if (c == SL_OK)
        c = record_commit(s, table_key, snap, o, "VACUUM END",
                          json_pack("{s:s}", "status", status),
                          json_pack("{s:I, s:I}", "numDeletedFiles", (json_int_t)deleted,
                                    "numVacuumedDirectories", (json_int_t)ndirs),
                          version_out, err);
    delta_snapshot_free(snap);
    return c;
}

static int want_commits(store *s, const delta_vacuum_opts *o)
{
    if (o->record_commits >= 0)
        return o->record_commits;
    return strncmp(store_url(s), "file:", 5) == 0;
}

/* ---- the operation ------------------------------------------------------- */

typedef struct candidate {
    char *rel; /* owned */
    uint64_t size;
} candidate;

static sl_code vacuum_plan(store *s, const char *table_key, const delta_snapshot *snap,
                           int64_t cutoff_ms, candidate **out, size_t *nout,
                           int64_t *bytes, store_page *listing, sl_err *err)
{
    key_set prot = {0};
    sl_code c = protected_build(s, table_key, snap, cutoff_ms, &prot, err);
    if (c != SL_OK) {
        key_set_free(&prot);
        return c;
    }
    char *prefix = *table_key ? sl_asprintf("%s/", table_key) : sl_strdup("");
    size_t plen = strlen(prefix);
    c = store_list_all(s, prefix, NULL, listing, err);
    if (c != SL_OK)
        goto done;
    const json_t *part_cols = json_object_get(snap->metadata, "partitionColumns");
    candidate *cands = NULL;
    size_t n = 0;
    int64_t total = 0;
    for (size_t i = 0; i < listing->n; i++) {
        const store_obj *o = &listing->items[i];
        if (o->is_prefix || strlen(o->key) <= plen)
            continue;
        const char *rel = o->key + plen;
        if (rel_hidden(rel, part_cols) || key_set_has(&prot, o->key))
            continue;
        if (o->mtime_ms >= cutoff_ms)
            continue; /* maybe a concurrent writer's file not yet committed */
        if (!cands || (n & (n - 1)) == 0) {
            candidate *nc = realloc(cands, (n ? n * 2 : 1) * sizeof *nc);
            if (!nc)
                abort();
            cands = nc;
        }
        cands[n].rel = sl_strdup(rel);
        cands[n].size = o->size;
        total += (int64_t)o->size;
        n++;
    }
    *out = cands;
    *nout = n;
    *bytes = total;
done:
    free(prefix);
    key_set_free(&prot);
    return c;
}

/* Directories (relative) holding deleted files and no listed file that
 * stays: the local store drops them with their last object. The listing is
 * sorted, so each directory's keys are one run found by binary search. */
static size_t empty_dirs(const store_page *listing, const char *table_key,
                         const candidate *c, size_t n)
{
    key_set dirs = {0}, gone = {0};
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(c[i].rel, '/');
        if (slash)
            key_set_add(&dirs, sl_asprintf("%.*s", (int)(slash - c[i].rel), c[i].rel));
        key_set_add(&gone, key_join(table_key, c[i].rel));
    }
    key_set_sort(&dirs);
    key_set_sort(&gone);
    size_t count = 0;
    for (size_t d = 0; d < dirs.n; d++) {
        if (d > 0 && strcmp(dirs.keys[d], dirs.keys[d - 1]) == 0)
            continue;
        char *rel = sl_asprintf("%s/", dirs.keys[d]);
        char *full = key_join(table_key, rel);
        size_t fl = strlen(full), lo = 0, hi = listing->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(listing->items[mid].key, full) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        int kept = 0;
        for (size_t i = lo; i < listing->n && !kept; i++) {
            const store_obj *o = &listing->items[i];
            if (strncmp(o->key, full, fl) != 0)
                break;
            kept = !o->is_prefix && !key_set_has(&gone, o->key);
        }
        count += !kept;
        free(rel);
        free(full);
    }
    key_set_free(&dirs);
    key_set_free(&gone);
    return count;
}

sl_code delta_vacuum(store *s, const char *table_key, const delta_vacuum_opts *opts,
                     delta_vacuum_result *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->start_version = out->end_version = -1;
    if (!table_key)
        table_key = "";
    delta_at at = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(s, table_key, &at, &snap, err);
    if (c != SL_OK)
        return c;
    char *where = delta_table_target(s, table_key);
    candidate *cands = NULL;
    size_t ncands = 0;
    int64_t bytes = 0;
    store_page listing = {0};
    if ((c = delta_write_protocol_check(snap->protocol, snap->metadata, where, err)) !=
        SL_OK)
        goto done;
    int64_t table_ms;
    if ((c = delta_vacuum_table_retention(snap->metadata, &table_ms, err)) != SL_OK)
        goto done;
    int64_t retain = opts->retain_ms >= 0 ? opts->retain_ms : table_ms;
    out->retain_ms = retain;
    out->table_retain_ms = table_ms;
    out->snapshot_version = snap->version;
    if (retain < table_ms && !opts->force_short_retention) {
        c = err_set(err, SL_DELTA_RETENTION,
                    "%s: a retention of %lld hours is shorter than the table's "
                    "delta.deletedFileRetentionDuration (%lld hours); refused without "
                    "--force-short-retention",
                    where, (long long)(retain / 3600000),
                    (long long)(table_ms / 3600000));
        goto done;
    }
    int64_t now = opts->now_ms ? opts->now_ms : time_now_ms();
    int64_t cutoff = now - retain;
    if ((c = vacuum_plan(s, table_key, snap, cutoff, &cands, &ncands, &bytes, &listing,
                         err)) != SL_OK)
        goto done;
    int commits = !opts->dry_run && want_commits(s, opts);
    if (commits) {
        json_t *params =
            json_pack("{s:b}", "retentionCheckEnabled", !opts->force_short_retention);
        if (opts->retain_ms >= 0)
            json_object_set_new(params, "specifiedRetentionMillis",
                                json_integer(opts->retain_ms));
        json_object_set_new(params, "defaultRetentionMillis", json_integer(table_ms));
        json_t *metrics = json_pack("{s:I, s:I}", "numFilesToDelete", (json_int_t)ncands,
                                    "sizeOfDataToDelete", (json_int_t)bytes);
        if ((c = record_commit(s, table_key, snap, opts, "VACUUM START", params, metrics,
                               &out->start_version, err)) != SL_OK)
            goto done;
    }
    size_t deleted = 0;
    sl_code del_c = SL_OK;
    if (!opts->dry_run) {
        for (; deleted < ncands; deleted++) {
            char *key = key_join(table_key, cands[deleted].rel);
            del_c = store_delete(s, key, err);
            free(key);
            if (del_c != SL_OK)
                break;
        }
        out->ndirs = empty_dirs(&listing, table_key, cands, deleted);
    }
    if (commits) {
        /* Delta closes a failed vacuum with status FAILED too. */
        c = record_end(s, table_key, opts, del_c == SL_OK ? "COMPLETED" : "FAILED",
                       deleted, out->ndirs, &out->end_version,
                       del_c == SL_OK ? err : NULL);
        if (del_c == SL_OK && c != SL_OK)
            goto done;
    }
    if ((c = del_c) != SL_OK)
        goto done;
    out->files = calloc(ncands ? ncands : 1, sizeof *out->files);
    if (!out->files)
        abort();
    for (size_t i = 0; i < ncands; i++) {
        out->files[i] = cands[i].rel;
        cands[i].rel = NULL;
    }
    out->nfiles = ncands;
    out->bytes = bytes;
    if (out->nfiles)
        qsort(out->files, out->nfiles, sizeof *out->files, str_cmp);
done:
    for (size_t i = 0; i < ncands; i++)
        free(cands[i].rel);
    free(cands);
    store_page_free(&listing);
    free(where);
    delta_snapshot_free(snap);
    return c;
}

void delta_vacuum_result_free(delta_vacuum_result *r)
{
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    memset(r, 0, sizeof *r);
    r->start_version = r->end_version = -1;
}

json_t *delta_vacuum_result_json(const delta_vacuum_result *r)
{
    json_t *files = json_array();
    for (size_t i = 0; i < r->nfiles; i++)
        json_array_append_new(files, json_string(r->files[i]));
    return json_pack("{s:o, s:I}", "files", files, "bytes", (json_int_t)r->bytes);
}
