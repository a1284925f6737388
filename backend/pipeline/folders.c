#include "backend/pipeline/folders.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

int folders_epoch_of(const char *name, int64_t *out)
{
    if (!*name || strlen(name) > 18)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    *out = strtoll(name, NULL, 10);
    return 1;
}

static int cmp_epoch(const void *a, const void *b)
{
    const source_folder *x = a, *y = b;
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Keys asked for per listing request: S3's page. */
#define FOLDERS_PAGE_KEYS 1000

static void folder_push(source_folder **v, size_t *n, size_t *cap, source_folder *f)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = sl_realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = *f;
    memset(f, 0, sizeof *f);
}

typedef struct folders_acc {
    source_listing *out;
    size_t cap_e, cap_o;
    source_folder cur; /* the folder being totalled; name NULL when none */
} folders_acc;

/* Files the entry being totalled (if any) under epochs or others. */
static void acc_flush(folders_acc *a)
{
    source_folder *f = &a->cur;
    if (!f->name)
        return;
    int64_t ep;
    if (!f->is_file && folders_epoch_of(f->name, &ep)) {
        f->epoch = ep;
        folder_push(&a->out->epochs, &a->out->nepochs, &a->cap_e, f);
    } else {
        folder_push(&a->out->others, &a->out->nothers, &a->cap_o, f);
    }
}

/* One listed object, rel being its key past the prefix. A folder's keys come
 * in one run (they share "name/"), so a new first segment starts the next
 * folder; the order of first appearance is the order a delimiter listing
 * would give ("a-b" < "a/" < "a0"). */
static void acc_object(folders_acc *a, const char *rel, const store_obj *o)
{
    const char *slash = strchr(rel, '/');
    source_folder *f = &a->cur;
    if (!slash) {
        acc_flush(a);
        *f = (source_folder){.name = sl_strdup(rel), .epoch = -1, .is_file = 1};
    } else if (!f->name || f->is_file || strlen(f->name) != (size_t)(slash - rel) ||
               memcmp(f->name, rel, (size_t)(slash - rel)) != 0) {
        acc_flush(a);
        *f = (source_folder){.name = sl_strndup(rel, (size_t)(slash - rel)), .epoch = -1};
    }
    f->files++;
    f->bytes += o->size;
    if (o->mtime_ms > f->newest_mtime_ms)
        f->newest_mtime_ms = o->mtime_ms;
}

/* One pass over every key under the prefix, no delimiter: a request per
 * FOLDERS_PAGE_KEYS objects, not one per folder. */
sl_code folders_list(store *s, const char *prefix, source_listing *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *pfx = prefix ? prefix : "";
    size_t plen = strlen(pfx);
    folders_acc a = {.out = out};
    store_list_req req = {.prefix = pfx, .max_keys = FOLDERS_PAGE_KEYS};
    char *token = NULL;
    sl_code c;
    for (;;) {
        store_page page = {0};
        req.start_token = token;
        c = store_list(s, &req, &page, err);
        free(token);
        token = NULL;
        if (c != SL_OK)
            break;
        for (size_t i = 0; i < page.n; i++)
            if (!page.items[i].is_prefix)
                acc_object(&a, page.items[i].key + plen, &page.items[i]);
        token = page.next_token;
        page.next_token = NULL;
        store_page_free(&page);
        if (!token)
            break;
    }
    acc_flush(&a);
    if (c != SL_OK) {
        folders_free(out);
        return c;
    }
    if (out->nepochs)
        qsort(out->epochs, out->nepochs, sizeof *out->epochs, cmp_epoch);
    return SL_OK;
}

void folders_free(source_listing *l)
{
    for (size_t i = 0; i < l->nepochs; i++)
        free(l->epochs[i].name);
    for (size_t i = 0; i < l->nothers; i++)
        free(l->others[i].name);
    free(l->epochs);
    free(l->others);
    memset(l, 0, sizeof *l);
}

static json_t *folder_json(const source_folder *f, int with_epoch)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    if (with_epoch)
        json_object_set_new(o, "epoch", json_integer(f->epoch));
    else
        json_object_set_new(o, "kind", json_string(f->is_file ? "file" : "folder"));
    json_object_set_new(o, "files", json_integer((json_int_t)f->files));
    json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
    if (f->files) {
        char ts[40];
        time_format_iso(f->newest_mtime_ms, ts, sizeof ts);
        json_object_set_new(o, "newest_mtime", json_string(ts));
    } else {
        json_object_set_new(o, "newest_mtime", json_null());
    }
    return o;
}

json_t *folders_to_json(const source_listing *l, const char *source_url)
{
    json_t *root = json_object();
    json_object_set_new(root, "source", json_string(source_url ? source_url : ""));
    json_t *ep = json_array(), *ot = json_array();
    for (size_t i = 0; i < l->nepochs; i++)
        json_array_append_new(ep, folder_json(&l->epochs[i], 1));
    for (size_t i = 0; i < l->nothers; i++)
        json_array_append_new(ot, folder_json(&l->others[i], 0));
    json_object_set_new(root, "epoch_folders", ep);
    json_object_set_new(root, "other", ot);
    return root;
}

sl_code pipeline_folders_load(const pipeline_def *d, sl_log *log, int64_t now_ms,
                              pipeline_folders *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    store *lake = NULL, *src = NULL;
    sl_code c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK) {
        store_set_log(lake, log);
        c = ckpt_load(lake, d->name, &out->ckpt, err);
    }
    if (c == SL_OK)
        c = store_open(d->source.url, &src, err);
    if (c == SL_OK) {
        store_set_log(src, log);
        /* Whole listing (not done_by_name): every folder's files and bytes. */
        pl_known *known = ckpt_view_known(&out->ckpt);
        pl_discover_opts o = {.now_ms = now_ms, .max_marker_reads = (size_t)-1};
        c = discover_epochs(src, d, known, out->ckpt.n, &o, &out->dsc, err);
        free(known);
    }
    store_close(src);
    store_close(lake);
    if (c != SL_OK)
        pipeline_folders_free(out);
    return c;
}

void pipeline_folders_free(pipeline_folders *pf)
{
    pl_discovery_free(&pf->dsc);
    ckpt_view_free(&pf->ckpt);
    memset(pf, 0, sizeof *pf);
}
