/* Listing _delta_log and the protocol's exact file name rules. Anything that
 * does not match a pattern exactly is ignored: Hadoop .crc files, .tmp/
 * directories, .s3-optimization-* markers, _last_checkpoint (a hint only),
 * version-checksum NNN.crc, compacted logs, _sidecars/ and strays. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"

#define VERSION_DIGITS 20
#define PART_DIGITS 10

/* Parses exactly n ASCII digits at s into *out; 0 on any other byte or an
 * int64 overflow (a 20-digit number may exceed INT64_MAX). */
static int digits_parse(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits, exactly 36 characters. */
static int is_uuid(const char *s, size_t n)
{
    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return 0;
    }
    return 1;
}

int delta_log_name_parse(const char *name, delta_log_name *out)
{
    size_t len = strlen(name);
    int64_t version;
    if (len < VERSION_DIGITS + 1 || !digits_parse(name, VERSION_DIGITS, &version) ||
        name[VERSION_DIGITS] != '.')
        return 0;
    const char *rest = name + VERSION_DIGITS + 1;
    size_t rlen = len - VERSION_DIGITS - 1;
    memset(out, 0, sizeof *out);
    out->version = version;

    if (strcmp(rest, "json") == 0) {
        out->kind = DELTA_LOG_COMMIT;
        return 1;
    }
    static const char cp[] = "checkpoint.";
    if (rlen <= sizeof cp - 1 || memcmp(rest, cp, sizeof cp - 1) != 0)
        return 0;
    rest += sizeof cp - 1;
    rlen -= sizeof cp - 1;

    if (strcmp(rest, "parquet") == 0) {
        out->kind = DELTA_LOG_CHECKPOINT;
        return 1;
    }
    /* PPPPPPPPPP.TTTTTTTTTT.parquet */
    if (rlen == 2 * PART_DIGITS + 1 + 8 && rest[PART_DIGITS] == '.' &&
        strcmp(rest + 2 * PART_DIGITS + 1, ".parquet") == 0) {
        int64_t part, parts;
        if (!digits_parse(rest, PART_DIGITS, &part) ||
            !digits_parse(rest + PART_DIGITS + 1, PART_DIGITS, &parts))
            return 0;
        if (part < 1 || parts < 1 || part > parts)
            return 0;
        out->kind = DELTA_LOG_CHECKPOINT_PART;
        out->part = part;
        out->parts = parts;
        return 1;
    }
    /* UUID.json or UUID.parquet */
    if ((rlen == 36 + 5 && strcmp(rest + 36, ".json") == 0) ||
        (rlen == 36 + 8 && strcmp(rest + 36, ".parquet") == 0)) {
        if (!is_uuid(rest, 36))
            return 0;
        out->kind = DELTA_LOG_CHECKPOINT_V2;
        return 1;
    }
    return 0;
}

char *delta_log_prefix(const char *table_key)
{
    if (!table_key || !*table_key)
        return sl_strdup("_delta_log/");
    size_t n = strlen(table_key);
    while (n > 0 && table_key[n - 1] == '/')
        n--;
    if (n == 0)
        return sl_strdup("_delta_log/");
    return sl_asprintf("%.*s/_delta_log/", (int)n, table_key);
}

/* One multi-part checkpoint being assembled: counts distinct parts for a
 * given (version, total). */
typedef struct part_set {
    int64_t version;
    int64_t parts;
    char **keys; /* [1..parts], owned; NULL where a part is not seen */
    int64_t nseen;
    int64_t mtime_ms;
} part_set;

static int cmp_commit(const void *a, const void *b)
{
    const delta_commit_ref *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static int kind_rank(delta_log_kind k)
{
    return k == DELTA_LOG_CHECKPOINT ? 0 : k == DELTA_LOG_CHECKPOINT_V2 ? 1 : 2;
}

static int cmp_cpref(const void *a, const void *b)
{
    const delta_checkpoint_ref *x = a, *y = b;
    if (x->version != y->version)
        return (x->version > y->version) - (x->version < y->version);
    if (kind_rank(x->kind) != kind_rank(y->kind))
        return kind_rank(x->kind) - kind_rank(y->kind);
    return strcmp(x->keys[0], y->keys[0]);
}

/* Takes ownership of keys. */
static void checkpoint_add(delta_log_listing *l, size_t *cap, int64_t version,
                           delta_log_kind kind, char **keys, size_t nkeys,
                           int64_t mtime_ms)
{
    if (l->ncprefs == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        l->cprefs = sl_realloc(l->cprefs, *cap * sizeof *l->cprefs);
    }
    l->cprefs[l->ncprefs++] = (delta_checkpoint_ref){.version = version,
                                                     .kind = kind,
                                                     .keys = keys,
                                                     .nkeys = nkeys,
                                                     .mtime_ms = mtime_ms};
}

static void checkpoint_add_one(delta_log_listing *l, size_t *cap,
                               const delta_log_name *nm, const store_obj *o)
{
    char **keys = sl_calloc(1, sizeof *keys);
    keys[0] = sl_strdup(o->key);
    checkpoint_add(l, cap, nm->version, nm->kind, keys, 1, o->mtime_ms);
}

/* Multi-part checkpoints only count once every part 1..T is present. */
static void part_note(part_set **sets, size_t *nsets, const delta_log_name *nm,
                      const store_obj *o)
{
    part_set *ps = NULL;
    for (size_t i = 0; i < *nsets; i++)
        if ((*sets)[i].version == nm->version && (*sets)[i].parts == nm->parts)
            ps = &(*sets)[i];
    if (!ps) {
        *sets = sl_realloc(*sets, (*nsets + 1) * sizeof **sets);
        ps = &(*sets)[(*nsets)++];
        ps->version = nm->version;
        ps->parts = nm->parts;
        ps->keys = NULL;
        ps->nseen = 0;
        ps->mtime_ms = 0;
    }
    /* Bounded: a set of more parts than any listing holds can never be
     * complete, so a huge T costs nothing. */
    if (nm->parts > 100000)
        return;
    if (!ps->keys)
        ps->keys = sl_calloc((size_t)nm->parts + 1, sizeof *ps->keys);
    if (!ps->keys[nm->part]) {
        ps->keys[nm->part] = sl_strdup(o->key);
        ps->nseen++;
        if (o->mtime_ms > ps->mtime_ms)
            ps->mtime_ms = o->mtime_ms;
    }
}

static void part_set_finish(delta_log_listing *l, size_t *cap, part_set *ps)
{
    if (ps->keys && ps->nseen == ps->parts) {
        char **keys = sl_calloc((size_t)ps->parts, sizeof *keys);
        for (int64_t p = 1; p <= ps->parts; p++)
            keys[p - 1] = ps->keys[p];
        checkpoint_add(l, cap, ps->version, DELTA_LOG_CHECKPOINT_PART, keys,
                       (size_t)ps->parts, ps->mtime_ms);
    } else if (ps->keys) {
        for (int64_t p = 1; p <= ps->parts; p++)
            free(ps->keys[p]);
    }
    free(ps->keys);
}

/* The unique versions of cprefs (sorted), for callers that only ask which. */
static void checkpoint_versions(delta_log_listing *l)
{
    l->checkpoints = sl_calloc(l->ncprefs ? l->ncprefs : 1, sizeof *l->checkpoints);
    for (size_t i = 0; i < l->ncprefs; i++)
        if (l->ncheckpoints == 0 ||
            l->checkpoints[l->ncheckpoints - 1] != l->cprefs[i].version)
            l->checkpoints[l->ncheckpoints++] = l->cprefs[i].version;
}

sl_code delta_log_list(store *s, const char *table_key, delta_log_listing *out,
                       sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->latest = -1;
    out->log_prefix = delta_log_prefix(table_key);
    out->where = sl_asprintf("%s/%s", store_url(s) ? store_url(s) : "", out->log_prefix);
    size_t plen = strlen(out->log_prefix);

    store_page page = {0};
    sl_code c = store_list_all(s, out->log_prefix, "/", &page, err);
    if (c != SL_OK) {
        err_wrap(err, "listing %s", out->log_prefix);
        delta_log_listing_free(out);
        return c;
    }

    size_t commit_cap = 0, cp_cap = 0, nsets = 0;
    part_set *sets = NULL;
    for (size_t i = 0; i < page.n; i++) {
        const store_obj *o = &page.items[i];
        if (o->is_prefix || strncmp(o->key, out->log_prefix, plen) != 0)
            continue;
        const char *name = o->key + plen;
        if (strchr(name, '/'))
            continue; /* a file inside .tmp/, _sidecars/ ... */
        delta_log_name nm;
        if (!delta_log_name_parse(name, &nm))
            continue;
        switch (nm.kind) {
        case DELTA_LOG_COMMIT:
            if (out->ncommits == commit_cap) {
                commit_cap = commit_cap ? commit_cap * 2 : 64;
                out->commits =
                    sl_realloc(out->commits, commit_cap * sizeof *out->commits);
            }
            out->commits[out->ncommits++] = (delta_commit_ref){.version = nm.version,
                                                               .key = sl_strdup(o->key),
                                                               .mtime_ms = o->mtime_ms,
                                                               .size = o->size};
            break;
        case DELTA_LOG_CHECKPOINT:
        case DELTA_LOG_CHECKPOINT_V2:
            checkpoint_add_one(out, &cp_cap, &nm, o);
            break;
        case DELTA_LOG_CHECKPOINT_PART:
            part_note(&sets, &nsets, &nm, o);
            break;
        }
    }
    store_page_free(&page);

    for (size_t i = 0; i < nsets; i++)
        part_set_finish(out, &cp_cap, &sets[i]);
    free(sets);

    /* The store lists in byte order, which for fixed-width names is version
     * order; sorting anyway keeps this independent of the backend. */
    if (out->ncommits)
        qsort(out->commits, out->ncommits, sizeof *out->commits, cmp_commit);
    if (out->ncprefs)
        qsort(out->cprefs, out->ncprefs, sizeof *out->cprefs, cmp_cpref);
    checkpoint_versions(out);
    if (out->ncommits)
        out->latest = out->commits[out->ncommits - 1].version;
    if (out->ncheckpoints && out->checkpoints[out->ncheckpoints - 1] > out->latest)
        out->latest = out->checkpoints[out->ncheckpoints - 1];

    if (out->latest < 0) {
        c = err_set(err, SL_DELTA_NOT_A_TABLE,
                    "no Delta table here: %s holds no commit or checkpoint file",
                    out->where);
        delta_log_listing_free(out);
        return c;
    }
    return SL_OK;
}

void delta_log_listing_free(delta_log_listing *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->ncommits; i++)
        free(l->commits[i].key);
    free(l->commits);
    free(l->checkpoints);
    for (size_t i = 0; i < l->ncprefs; i++) {
        for (size_t k = 0; k < l->cprefs[i].nkeys; k++)
            free(l->cprefs[i].keys[k]);
        free(l->cprefs[i].keys);
    }
    free(l->cprefs);
    free(l->log_prefix);
    free(l->where);
    memset(l, 0, sizeof *l);
    l->latest = -1;
}

const delta_commit_ref *delta_log_commit_find(const delta_log_listing *l, int64_t version)
{
    size_t lo = 0, hi = l->ncommits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = l->commits[mid].version;
        if (v == version)
            return &l->commits[mid];
        if (v < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
