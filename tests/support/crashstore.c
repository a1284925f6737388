#include "crashstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"

typedef struct crash_impl {
    store *inner;
    uint64_t at_op, ops;
    int after;
    uint64_t pause_op;
    int notify_fd, wait_fd;
} crash_impl;

static crash_impl *impl(store *s)
{
    return s->impl;
}

/* Returns 1 when this op must crash after it ran. SLUICE_CRASH_TRACE=1
 * prints every op with its number (to find what a failing trial hit). */
static int tick_named(store *s, const char *what, const char *key)
{
    crash_impl *c = impl(s);
    c->ops++;
    if (getenv("SLUICE_CRASH_TRACE"))
        fprintf(stderr, "lake op %llu %s %s\n", (unsigned long long)c->ops, what,
                key ? key : "");
    if (c->pause_op && c->ops == c->pause_op) {
        char b = 1;
        if (write(c->notify_fd, &b, 1) != 1 || read(c->wait_fd, &b, 1) != 1)
            _exit(CRASH_EXIT + 1);
    }
    if (c->at_op && c->ops == c->at_op) {
        if (!c->after)
            _exit(CRASH_EXIT);
        return 1;
    }
    return 0;
}

static sl_code c_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    int die = tick_named(s, "list", req->prefix);
    sl_code c = store_list(impl(s)->inner, req, out, err);
    if (die)
        _exit(CRASH_EXIT);
    return c;
}

static sl_code c_get_range(store *s, const char *key, uint64_t off, uint64_t len,
                           int whole, sl_buf *out, sl_err *err)
{
    int die = tick_named(s, "get", key);
    sl_code c = whole ? store_get(impl(s)->inner, key, out, err)
                      : store_get_range(impl(s)->inner, key, off, len, out, err);
    if (die)
        _exit(CRASH_EXIT);
    return c;
}

static sl_code c_put(store *s, const char *key, const void *data, size_t len,
                     int if_absent, sl_err *err)
{
    int die = tick_named(s, if_absent ? "put_if_absent" : "put", key);
    sl_code c = if_absent ? store_put_if_absent(impl(s)->inner, key, data, len, err)
                          : store_put(impl(s)->inner, key, data, len, err);
    if (die)
        _exit(CRASH_EXIT);
    return c;
}

static sl_code c_del(store *s, const char *key, sl_err *err)
{
    int die = tick_named(s, "delete", key);
    sl_code c = store_delete(impl(s)->inner, key, err);
    if (die)
        _exit(CRASH_EXIT);
    return c;
}

static sl_code c_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    int die = tick_named(s, "stat", key);
    sl_code c = store_stat(impl(s)->inner, key, out, err);
    if (die)
        _exit(CRASH_EXIT);
    return c;
}

static void c_close(store *s)
{
    store_close(impl(s)->inner);
    free(s->impl);
}

static const store_ops CRASH_OPS = {"crash", c_list, c_get_range, c_put,
                                    c_del,   c_stat, c_close};

sl_code crashstore_wrap(store *inner, uint64_t at_op, int after, store **out, sl_err *err)
{
    (void)err;
    store *s = sl_calloc(1, sizeof *s);
    crash_impl *c = sl_calloc(1, sizeof *c);
    c->inner = inner;
    c->at_op = at_op;
    c->after = after;
    s->ops = &CRASH_OPS;
    s->url = sl_strdup(store_url(inner));
    s->impl = c;
    *out = s;
    return SL_OK;
}

void crashstore_pause_at(store *s, uint64_t at_op, int notify_fd, int wait_fd)
{
    crash_impl *c = s->impl;
    c->pause_op = at_op;
    c->notify_fd = notify_fd;
    c->wait_fd = wait_fd;
}

uint64_t crashstore_ops(const store *s)
{
    return ((const crash_impl *)s->impl)->ops;
}
