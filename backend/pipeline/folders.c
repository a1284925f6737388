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

/* Totals every object under one folder (all pages, no delimiter). */
static sl_code folder_totals(store *s, const char *key_prefix, source_folder *f,
                             sl_err *err)
{
    store_list_req req = {.prefix = key_prefix, .max_keys = 1000};
    char *token = NULL;
    sl_code c = SL_OK;
    for (;;) {
        store_page page = {0};
        req.start_token = token;
        c = store_list(s, &req, &page, err);
        free(token);
        token = NULL;
        if (c != SL_OK)
            break;
        for (size_t i = 0; i < page.n; i++) {
            if (page.items[i].is_prefix)
                continue;
            f->files++;
            f->bytes += page.items[i].size;
            if (page.items[i].mtime_ms > f->newest_mtime_ms)
                f->newest_mtime_ms = page.items[i].mtime_ms;
        }
        token = page.next_token ? sl_strdup(page.next_token) : NULL;
        store_page_free(&page);
        if (!token)
            break;
    }
    return c;
}

sl_code folders_list(store *s, const char *prefix, source_listing *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *pfx = prefix ? prefix : "";
    store_page top = {0};
    sl_code c = store_list_all(s, pfx, "/", &top, err);
    if (c != SL_OK)
        return c;
    size_t cap_e = 0, cap_o = 0;
    for (size_t i = 0; i < top.n && c == SL_OK; i++) {
        store_obj *o = &top.items[i];
        const char *rel = o->key + strlen(pfx);
        source_folder f = {.epoch = -1};
        if (o->is_prefix) {
            size_t len = strlen(rel);
            f.name = sl_strndup(rel, len && rel[len - 1] == '/' ? len - 1 : len);
            c = folder_totals(s, o->key, &f, err);
        } else {
            f.name = sl_strdup(rel);
            f.is_file = 1;
            f.files = 1;
            f.bytes = o->size;
            f.newest_mtime_ms = o->mtime_ms;
        }
        int64_t ep;
        if (!f.is_file && folders_epoch_of(f.name, &ep)) {
            f.epoch = ep;
            if (out->nepochs == cap_e) {
                cap_e = cap_e ? cap_e * 2 : 64;
                out->epochs = sl_realloc(out->epochs, cap_e * sizeof *out->epochs);
            }
            out->epochs[out->nepochs++] = f;
        } else {
            if (out->nothers == cap_o) {
                cap_o = cap_o ? cap_o * 2 : 16;
                out->others = sl_realloc(out->others, cap_o * sizeof *out->others);
            }
            out->others[out->nothers++] = f;
        }
    }
    store_page_free(&top);
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
