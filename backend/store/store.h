#ifndef SLUICE_STORE_STORE_H
#define SLUICE_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

/* The object store interface. A store is opened on a root URL (a local path,
 * file:///abs/path, later s3://bucket/prefix); keys are '/'-separated and
 * relative to that root, like S3 keys. Listing follows S3 semantics:
 * byte-order sorted, prefix is a string prefix, a delimiter rolls keys up
 * into common prefixes, results come in pages. */
typedef struct store store;

typedef struct store_obj {
    char *key;        /* full key relative to the root; common prefixes end in the delimiter */
    int is_prefix;    /* 1 for a common prefix (size/mtime/etag unset) */
    uint64_t size;
    int64_t mtime_ms;
    char etag[48];
} store_obj;

typedef struct store_page {
    store_obj *items;
    size_t n;
    char *next_token; /* NULL when this was the last page; else pass to the next call */
} store_page;

/* One listing request. max_keys 0 means 1000 (S3's default). */
typedef struct store_list_req {
    const char *prefix;      /* may be NULL or "" */
    const char *delimiter;   /* may be NULL: no roll-up */
    const char *start_token; /* from the previous page's next_token, or NULL */
    size_t max_keys;
} store_list_req;

sl_code store_open(const char *url, store **out, sl_err *err);
void store_close(store *s);
/* The root URL as normalised ("file:///abs/path"). */
const char *store_url(const store *s);
/* Operations are logged as store.* lines when a log is attached. */
void store_set_log(store *s, sl_log *log);

sl_code store_list(store *s, const store_list_req *req, store_page *out, sl_err *err);
/* All pages concatenated (the convenience for small listings). */
sl_code store_list_all(store *s, const char *prefix, const char *delimiter,
                       store_page *out, sl_err *err);
void store_page_free(store_page *p);

sl_code store_get(store *s, const char *key, sl_buf *out, sl_err *err);
/* Bytes [offset, offset+len) or to the end when fewer remain. */
sl_code store_get_range(store *s, const char *key, uint64_t offset, uint64_t len,
                        sl_buf *out, sl_err *err);
/* Atomic replace: readers see the old or the new object, never a part. */
sl_code store_put(store *s, const char *key, const void *data, size_t len, sl_err *err);
/* Creates the object only if no object has the key: of two racing writers
 * exactly one gets SL_OK, the other SL_STORE_EXISTS. */
sl_code store_put_if_absent(store *s, const char *key, const void *data, size_t len,
                            sl_err *err);
/* Deleting a missing key is SL_OK (S3 semantics). */
sl_code store_delete(store *s, const char *key, sl_err *err);
sl_code store_stat(store *s, const char *key, store_obj *out, sl_err *err);
void store_obj_clear(store_obj *o);

/* Validates a key given with its length (so an embedded NUL is seen):
 * refuses '..' and '.' segments, absolute keys, NUL and control bytes. */
sl_code store_key_check(const char *key, size_t len, sl_err *err);

/* Backend interface: each backend fills one of these (tmux-style data). */
typedef struct store_ops {
    const char *scheme;
    sl_code (*list)(store *s, const store_list_req *req, store_page *out, sl_err *err);
    sl_code (*get_range)(store *s, const char *key, uint64_t offset, uint64_t len,
                         int whole, sl_buf *out, sl_err *err);
    sl_code (*put)(store *s, const char *key, const void *data, size_t len,
                   int if_absent, sl_err *err);
    sl_code (*del)(store *s, const char *key, sl_err *err);
    sl_code (*stat)(store *s, const char *key, store_obj *out, sl_err *err);
    void (*close)(store *s);
} store_ops;

struct store {
    const store_ops *ops;
    char *url;
    sl_log *log;
    void *impl;
};

/* Local backend constructor (store_local.c). Local specifics: symbolic links
 * are not objects (listings skip them, reads report SL_STORE_NOT_FOUND,
 * writes through them SL_STORE_PATH_CONFLICT), so no key leaves the root; a
 * key cannot be both an object and a folder ("a" and "a/b":
 * SL_STORE_PATH_CONFLICT); an empty folder still lists as a common prefix;
 * deleting a folder's last object removes the folder unless a writer is busy
 * in the store at that moment; names starting with ".sluice-tmp-" are the
 * backend's temp and lock files (hidden, refused as keys). */
sl_code store_local_open(const char *root_path, store *s, sl_err *err);

#endif
