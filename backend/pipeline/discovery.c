/* Discovery (discovery.h): one paginated pass over the source listing,
 * compared with the checkpoint's states (epoch layout) or with the tracked
 * etag/size/mtime of each file (files layout). */
#include "backend/pipeline/discovery.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/folders.h"
#include "backend/util/buf.h"

static const char ST_PENDING[] = "pending", ST_WAITING[] = "waiting",
                  ST_RUNNING[] = "running", ST_PROCESSED[] = "processed",
                  ST_FAILED[] = "failed", ST_SKIPPED[] = "skipped";

/* ---- the listing ------------------------------------------------------- */

/* Yields the source's objects one at a time, fetching a page when the
 * previous one is used up. */
typedef struct lister {
    store *s;
    size_t page_keys;
    const char *prefix;    /* NULL: the whole source */
    const char *delimiter; /* NULL: no roll-up */
    store_page page;
    size_t i;
    int started;
    size_t npages, nlisted;
} lister;

/* *out is the next object (valid until the next call) or NULL at the end. */
static sl_code lister_next(lister *l, const store_obj **out, sl_err *err)
{
    *out = NULL;
    while (l->i >= l->page.n) {
        if (l->started && !l->page.next_token)
            return SL_OK;
        char *token = l->page.next_token;
        l->page.next_token = NULL;
        store_page_free(&l->page);
        store_list_req req = {.prefix = l->prefix,
                              .delimiter = l->delimiter,
                              .start_token = token,
                              .max_keys = l->page_keys};
        sl_code c = store_list(l->s, &req, &l->page, err);
        free(token);
        if (c != SL_OK)
            return c;
        l->started = 1;
        l->i = 0;
        l->npages++;
    }
    *out = &l->page.items[l->i++];
    l->nlisted++;
    return SL_OK;
}

static void lister_free(lister *l)
{
    store_page_free(&l->page);
}

static void strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *v = sl_realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = s;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- epoch layout: accumulating folders -------------------------------- */

typedef struct fold {
    pl_folder f;
    size_t files_cap;
    uint64_t marker_size;
    int candidate; /* no checkpoint state, or reset: pending unless waiting */
    int gone;      /* done_by_name: listed by name, then found holding no object */
    json_t *excluded; /* keys the checkpoint excludes (skip-file), or NULL */
} fold;

typedef struct epoch_acc {
    const pipeline_def *d;
    const pl_known *known;
    size_t nknown;
    fold *v;
    size_t n, cap;
    char *seg; /* the current first path segment (folder name) */
    size_t seglen;
    fold *cur; /* NULL while in a non-epoch folder */
} epoch_acc;

static const pl_known *known_find(const pl_known *k, size_t n, const char *folder)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(k[mid].folder, folder);
        if (c == 0)
            return &k[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The checkpoint state as a static string; NULL for pending/unknown folders
 * (candidates) and *bad for a state we do not recognise. */
static const char *known_state(const pl_known *k, int *bad)
{
    *bad = 0;
    if (!k || !k->state || strcmp(k->state, ST_PENDING) == 0)
        return NULL;
    static const char *const states[] = {ST_RUNNING, ST_PROCESSED, ST_FAILED, ST_SKIPPED};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(k->state, states[i]) == 0)
            return states[i];
    *bad = 1;
    return ST_FAILED;
}

/* A new first segment: an epoch folder gets an entry, anything else none. */
static void acc_start(epoch_acc *a, const char *key, size_t seglen)
{
    free(a->seg);
    a->seg = sl_strndup(key, seglen);
    a->seglen = seglen;
    a->cur = NULL;
    int64_t epoch;
    if (!folders_epoch_of(a->seg, &epoch))
        return;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->v = sl_realloc(a->v, a->cap * sizeof *a->v);
    }
    fold *fo = &a->v[a->n++];
    memset(fo, 0, sizeof *fo);
    pl_folder *f = &fo->f;
    f->folder = sl_strdup(a->seg);
    f->epoch = epoch;
    f->expected_rows = -1;
    const pl_known *k = known_find(a->known, a->nknown, f->folder);
    f->batch_id = k ? k->batch_id : -1;
    int bad;
    f->state = known_state(k, &bad);
    if (bad)
        f->why = sl_asprintf("unknown checkpoint state \"%s\"", k->state);
    fo->candidate = f->state == NULL;
    if (k && k->detail) {
        json_t *d = json_loads(k->detail, 0, NULL);
        json_t *ex = json_object_get(d, "excluded_files");
        if (json_is_array(ex) && json_array_size(ex)) {
            fo->excluded = json_incref(ex);
            f->excluded_detail = sl_strdup(k->detail);
        }
        json_decref(d);
    }
    a->cur = fo;
}

static int excluded(const fold *fo, const char *key)
{
    size_t i;
    json_t *v;
    json_array_foreach(fo->excluded, i, v)
    {
        const char *x = json_string_value(v);
        if (x && strcmp(x, key) == 0)
            return 1;
    }
    return 0;
}

/* 1 when a segment of rel (the path below the folder) starts with '_' or
 * '.': Spark's _temporary/, _SUCCESS-like markers, hidden staging files. */
static int hidden_path(const char *rel)
{
    for (const char *p = rel; p; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (*p == '_' || *p == '.')
            return 1;
    }
    return 0;
}

static void acc_object(epoch_acc *a, const store_obj *o)
{
    const char *slash = strchr(o->key, '/');
    if (!slash)
        return; /* a loose file at the top: not a folder */
    size_t seglen = (size_t)(slash - o->key);
    if (!a->seg || seglen != a->seglen || memcmp(o->key, a->seg, seglen) != 0)
        acc_start(a, o->key, seglen);
    fold *fo = a->cur;
    if (!fo)
        return;
    pl_folder *f = &fo->f;
    const char *rel = slash + 1;
    if (o->mtime_ms > f->newest_mtime_ms)
        f->newest_mtime_ms = o->mtime_ms;
    const char *marker = a->d->source.ready_marker;
    if (marker && strcmp(rel, marker) == 0) {
        f->has_marker = 1;
        fo->marker_size = o->size;
        return;
    }
    if (hidden_path(rel))
        return;
    if (fo->excluded && excluded(fo, o->key)) {
        f->nexcluded++;
        return;
    }
    f->files++;
    f->bytes += o->size;
    /* Pending folders, and those a run may resume (running) or retry
     * (failed), keep their file lists; processed ones do not need them. */
    if (fo->candidate || f->state == ST_RUNNING || f->state == ST_FAILED)
        strv_push(&f->data_files, &f->ndata_files, &fo->files_cap, sl_strdup(o->key));
}

static void folder_clear(pl_folder *f)
{
    free(f->folder);
    free(f->why);
    strv_free(f->data_files, f->ndata_files);
    free(f->excluded_detail);
    memset(f, 0, sizeof *f);
}

static int fold_cmp(const void *x, const void *y)
{
    const pl_folder *a = &((const fold *)x)->f, *b = &((const fold *)y)->f;
    if (a->epoch != b->epoch)
        return a->epoch < b->epoch ? -1 : 1;
    return strcmp(a->folder, b->folder);
}

/* Pending, or waiting for the marker or for the folder to settle. */
static void decide_candidate(fold *fo, const pipeline_def *d, int64_t now_ms)
{
    pl_folder *f = &fo->f;
    const char *marker = d->source.ready_marker;
    int64_t age = now_ms - f->newest_mtime_ms;
    if (marker && !f->has_marker)
        f->why = sl_asprintf("no %s marker yet", marker);
    else if (d->source.settle_ms > 0 && age < d->source.settle_ms)
        f->why = sl_asprintf("settling: newest object %lld s old, settle_seconds is %lld",
                             (long long)(age > 0 ? age / 1000 : 0),
                             (long long)(d->source.settle_ms / 1000));
    if (!f->why) {
        f->state = ST_PENDING;
        return;
    }
    f->state = ST_WAITING;
    strv_free(f->data_files, f->ndata_files); /* only pending folders keep them */
    f->data_files = NULL;
    f->ndata_files = 0;
}

sl_code discover_marker_rows(store *src, const pipeline_def *d, const char *folder,
                             int64_t *rows, sl_err *err)
{
    *rows = -1;
    if (!d->source.ready_marker)
        return SL_OK;
    char *key = sl_asprintf("%s/%s", folder, d->source.ready_marker);
    sl_buf b = {0};
    sl_code c = store_get(src, key, &b, err);
    free(key);
    if (c != SL_OK) {
        buf_free(&b);
        return c;
    }
    json_t *j = b.len ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    json_t *r = json_is_object(j) ? json_object_get(j, "rows") : NULL;
    if (json_is_integer(r) && json_integer_value(r) >= 0)
        *rows = (int64_t)json_integer_value(r);
    json_decref(j);
    buf_free(&b);
    return SL_OK;
}

/* Sorts, classifies the candidates, counts, reads markers; moves the
 * folders into out. */
static sl_code epochs_finish(store *src, const pipeline_def *d, epoch_acc *a,
                             const pl_discover_opts *o, pl_discovery *out, sl_err *err)
{
    if (a->n > 1)
        qsort(a->v, a->n, sizeof *a->v, fold_cmp);
    out->newest_processed_epoch = -1;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].f.state == ST_PROCESSED &&
            a->v[i].f.epoch > out->newest_processed_epoch)
            out->newest_processed_epoch = a->v[i].f.epoch;
    size_t reads = 0, max_reads = o->max_marker_reads;
    sl_code c = SL_OK;
    out->folders = sl_calloc(a->n ? a->n : 1, sizeof *out->folders);
    for (size_t i = 0; i < a->n; i++) {
        fold *fo = &a->v[i];
        pl_folder *f = &fo->f;
        if (fo->gone)
            continue; /* emptied since the names were listed, as if never seen */
        if (fo->candidate)
            decide_candidate(fo, d, o->now_ms);
        if (f->state == ST_WAITING)
            out->nwaiting++;
        if (f->state == ST_PENDING) {
            out->npending++;
            f->late = out->newest_processed_epoch >= 0 &&
                      f->epoch < out->newest_processed_epoch;
            out->nlate += (size_t)f->late;
            if (!d->source.ready_marker || fo->marker_size == 0) {
                f->marker_checked = 1; /* no marker, or an empty one: nothing to read */
            } else if (c == SL_OK && f->has_marker && max_reads != SIZE_MAX &&
                       (max_reads == 0 || reads < max_reads)) {
                reads++;
                c = discover_marker_rows(src, d, f->folder, &f->expected_rows, err);
                if (c == SL_STORE_NOT_FOUND)
                    c = SL_OK; /* deleted since the listing: no count, not an error */
                f->marker_checked = c == SL_OK;
            }
        }
        out->folders[out->n++] = *f;
        memset(f, 0, sizeof *f);
    }
    return c;
}

/* Every object of the source in one paged pass. */
static sl_code epochs_list_all(lister *l, epoch_acc *a, sl_err *err)
{
    for (;;) {
        const store_obj *obj;
        sl_code c = lister_next(l, &obj, err);
        if (c != SL_OK || !obj)
            return c;
        if (!obj->is_prefix)
            acc_object(a, obj);
    }
}

/* The folders a run may take (pending or waiting candidates, running,
 * failed) need their objects; processed and skipped ones only their name. */
static int fold_needs_objects(const fold *fo)
{
    return fo->candidate || fo->f.state == ST_RUNNING || fo->f.state == ST_FAILED;
}

/* done_by_name, first pass: the top level's folder names (one roll-up
 * listing, so no folder is opened); loose objects at the top are no
 * folders. */
static sl_code epochs_list_names(lister *l, epoch_acc *a, sl_err *err)
{
    for (;;) {
        const store_obj *obj;
        sl_code c = lister_next(l, &obj, err);
        if (c != SL_OK || !obj)
            return c;
        size_t len = strlen(obj->key);
        if (obj->is_prefix && len > 1)
            acc_start(a, obj->key, len - 1); /* without the '/' */
    }
}

/* done_by_name, second pass: one folder's objects, with their sizes and
 * times, from a listing of its prefix; its counts come from this listing
 * alone, the newer look at it. */
static sl_code epochs_list_folder(lister *l, epoch_acc *a, fold *fo, sl_err *err)
{
    free(a->seg);
    a->seg = sl_strdup(fo->f.folder);
    a->seglen = strlen(a->seg);
    a->cur = fo;
    char *prefix = sl_asprintf("%s/", fo->f.folder);
    lister fl = {.s = l->s, .page_keys = l->page_keys, .prefix = prefix};
    size_t objects = 0;
    sl_code c;
    for (;;) {
        const store_obj *obj;
        c = lister_next(&fl, &obj, err);
        if (c != SL_OK || !obj)
            break;
        if (!obj->is_prefix) {
            acc_object(a, obj);
            objects++;
        }
    }
    fo->gone = c == SL_OK && objects == 0;
    l->npages += fl.npages;
    l->nlisted += fl.nlisted;
    lister_free(&fl);
    free(prefix);
    return c;
}

sl_code discover_epochs(store *src, const pipeline_def *d, const pl_known *known,
                        size_t nknown, const pl_discover_opts *opts, pl_discovery *out,
                        sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->newest_processed_epoch = -1;
    pl_discover_opts o = opts ? *opts : (pl_discover_opts){0};
    epoch_acc a = {.d = d, .known = known, .nknown = known ? nknown : 0};
    lister l = {.s = src, .page_keys = o.page_keys ? o.page_keys : DISCOVER_PAGE_KEYS};
    sl_code c;
    if (!o.done_by_name) {
        c = epochs_list_all(&l, &a, err);
    } else {
        l.delimiter = "/";
        c = epochs_list_names(&l, &a, err);
        for (size_t i = 0; c == SL_OK && i < a.n; i++)
            if (fold_needs_objects(&a.v[i]))
                c = epochs_list_folder(&l, &a, &a.v[i], err);
    }
    lister_free(&l);
    free(a.seg);
    if (c == SL_OK)
        c = epochs_finish(src, d, &a, &o, out, err);
    for (size_t i = 0; i < a.n; i++) {
        folder_clear(&a.v[i].f);
        json_decref(a.v[i].excluded);
    }
    free(a.v);
    out->nlisted = l.nlisted;
    out->npages = l.npages;
    if (c != SL_OK)
        pl_discovery_free(out);
    return c;
}

void pl_discovery_free(pl_discovery *dsc)
{
    if (!dsc)
        return;
    for (size_t i = 0; i < dsc->n; i++)
        folder_clear(&dsc->folders[i]);
    free(dsc->folders);
    memset(dsc, 0, sizeof *dsc);
    dsc->newest_processed_epoch = -1;
}

/* ---- files layout ------------------------------------------------------ */

/* Appends the bracket expression starting at p[0] == '[' to b, with \d as
 * 0-9; returns the position after its closing ']' (or the end). */
static const char *regex_bracket(const char *p, sl_buf *b)
{
    buf_append_char(b, *p++);
    if (*p == '^')
        buf_append_char(b, *p++);
    if (*p == ']')
        buf_append_char(b, *p++); /* a leading ']' is a member */
    while (*p && *p != ']') {
        if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char close[3] = {p[1], ']', '\0'};
            const char *end = strstr(p + 2, close);
            size_t n = end ? (size_t)(end - p) + 2 : strlen(p);
            buf_append(b, p, n);
            p += n;
        } else if (p[0] == '\\' && p[1] == 'd') {
            buf_append_str(b, "0-9");
            p += 2;
        } else {
            buf_append_char(b, *p++);
        }
    }
    if (*p == ']')
        buf_append_char(b, *p++);
    return p;
}

/* POSIX ERE plus \d and \D, anchored as a whole: "^(" pattern ")$". */
static sl_code regex_compile(const char *pattern, regex_t *re, sl_err *err)
{
    sl_buf b = {0};
    buf_append_str(&b, "^(");
    for (const char *p = pattern; *p;) {
        if (p[0] == '\\' && p[1] == 'd') {
            buf_append_str(&b, "[0-9]");
            p += 2;
        } else if (p[0] == '\\' && p[1] == 'D') {
            buf_append_str(&b, "[^0-9]");
            p += 2;
        } else if (p[0] == '\\' && p[1]) {
            buf_append(&b, p, 2);
            p += 2;
        } else if (p[0] == '[') {
            p = regex_bracket(p, &b);
        } else {
            buf_append_char(&b, *p++);
        }
    }
    buf_append_str(&b, ")$");
    int rc = regcomp(re, b.data, REG_EXTENDED);
    buf_free(&b);
    if (rc == 0)
        return SL_OK;
    char why[256];
    regerror(rc, re, why, sizeof why);
    return err_set(err, SL_PIPELINE_INVALID,
                   "source.key_from_name \"%s\" is not a valid regex: %s", pattern, why);
}

/* The key of a listed name, or NULL when it does not match. */
static char *regex_key(const regex_t *re, const char *name)
{
    regmatch_t m[3];
    if (regexec(re, name, 3, m, 0) != 0)
        return NULL;
    int g = re->re_nsub >= 2 && m[2].rm_so >= 0 ? 2 : 1;
    return sl_strndup(name + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
}

typedef struct file_vec {
    pl_file *v;
    size_t n, cap;
} file_vec;

static pl_file *files_push(file_vec *fv)
{
    if (fv->n == fv->cap) {
        fv->cap = fv->cap ? fv->cap * 2 : 256;
        fv->v = sl_realloc(fv->v, fv->cap * sizeof *fv->v);
    }
    pl_file *f = &fv->v[fv->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static void file_set_known(pl_file *f, const pl_known_file *k)
{
    snprintf(f->etag, sizeof f->etag, "%s", k->etag ? k->etag : "");
    f->size = k->size;
    f->mtime_ms = k->mtime_ms;
}

static int file_changed(const pl_file *f, const pl_known_file *k)
{
    if (k->etag && *k->etag && strcmp(k->etag, f->etag) != 0)
        return 1;
    return k->size != f->size || k->mtime_ms != f->mtime_ms;
}

/* Merges the listed files (sorted) with the known ones (sorted) into out. */
static void files_merge(file_vec *listed, const pl_known_file *known, size_t nknown,
                        pl_file_discovery *out)
{
    file_vec res = {0};
    size_t i = 0, j = 0;
    while (i < listed->n || j < nknown) {
        int c = i >= listed->n ? 1
                : j >= nknown  ? -1
                               : strcmp(listed->v[i].file, known[j].file);
        pl_file *f = files_push(&res);
        if (c > 0) {
            f->file = sl_strdup(known[j].file);
            f->key = sl_strdup(known[j].key ? known[j].key : "");
            file_set_known(f, &known[j++]);
            f->state = "deleted";
            out->ndeleted++;
            continue;
        }
        *f = listed->v[i++];
        if (c < 0) {
            f->state = "new";
            out->nnew++;
        } else if (file_changed(f, &known[j++])) {
            f->state = "changed";
            out->nchanged++;
        } else {
            f->state = "unchanged";
            out->nunchanged++;
        }
    }
    free(listed->v);
    memset(listed, 0, sizeof *listed);
    out->files = res.v;
    out->n = res.n;
}

sl_code discover_files(store *src, const pipeline_def *d, const pl_known_file *known,
                       size_t nknown, pl_file_discovery *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!d->source.key_from_name)
        return err_set(err, SL_PIPELINE_INVALID,
                       "pipeline %s: the files layout needs source.key_from_name",
                       d->name ? d->name : "?");
    regex_t re;
    sl_code c = regex_compile(d->source.key_from_name, &re, err);
    if (c != SL_OK)
        return c;
    lister l = {.s = src, .page_keys = DISCOVER_PAGE_KEYS};
    file_vec listed = {0};
    for (;;) {
        const store_obj *o;
        c = lister_next(&l, &o, err);
        if (c != SL_OK || !o)
            break;
        if (o->is_prefix)
            continue;
        const char *slash = strrchr(o->key, '/');
        char *key = regex_key(&re, slash ? slash + 1 : o->key);
        if (!key) {
            out->nignored++;
            continue;
        }
        pl_file *f = files_push(&listed);
        f->file = sl_strdup(o->key);
        f->key = key;
        snprintf(f->etag, sizeof f->etag, "%s", o->etag);
        f->size = o->size;
        f->mtime_ms = o->mtime_ms;
    }
    regfree(&re);
    out->nlisted = l.nlisted;
    out->npages = l.npages;
    lister_free(&l);
    if (c != SL_OK) {
        for (size_t i = 0; i < listed.n; i++) {
            free(listed.v[i].file);
            free(listed.v[i].key);
        }
        free(listed.v);
        pl_file_discovery_free(out);
        return c;
    }
    files_merge(&listed, known, known ? nknown : 0, out);
    return SL_OK;
}

void pl_file_discovery_free(pl_file_discovery *fd)
{
    if (!fd)
        return;
    for (size_t i = 0; i < fd->n; i++) {
        free(fd->files[i].file);
        free(fd->files[i].key);
    }
    free(fd->files);
    memset(fd, 0, sizeof *fd);
}
