#include "backend/store/store_retry.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "backend/util/buf.h"

typedef struct retry_impl {
    store *inner;
    store_retry_opts o;
    int keep_inner;
    atomic_uint_fast64_t rng;
    atomic_uint_fast64_t retries;
} retry_impl;

int store_code_transient(sl_code c)
{
    return c == SL_STORE_TIMEOUT || c == SL_STORE_UNAVAILABLE || c == SL_STORE_IO;
}

static retry_impl *impl(store *s)
{
    return s->impl;
}

static void wait_ms(retry_impl *r, int attempt)
{
    int64_t d = r->o.base_ms;
    for (int i = 1; i < attempt && d < r->o.max_ms; i++)
        d *= 2;
    if (d > r->o.max_ms)
        d = r->o.max_ms;
    /* equal jitter: half fixed, half random (never a burst of instant retries) */
    uint64_t x = atomic_fetch_add(&r->rng, 0x9E3779B97F4A7C15ULL) + 0x9E3779B97F4A7C15ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    int64_t ms = d / 2 + (d > 1 ? (int64_t)(x % (uint64_t)(d / 2 + 1)) : 0);
    atomic_fetch_add(&r->retries, 1);
    if (r->o.sleep_ms) {
        r->o.sleep_ms(r->o.sleep_ctx, ms);
    } else {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

#define RETRYING(call)                                                                   \
    do {                                                                                 \
        retry_impl *r = impl(s);                                                         \
        sl_code c = SL_OK;                                                               \
        for (int attempt = 1;; attempt++) {                                              \
            c = (call);                                                                  \
            if (!store_code_transient(c) || attempt >= r->o.max_attempts)                \
                return c;                                                                \
            err_clear(err);                                                              \
            wait_ms(r, attempt);                                                         \
        }                                                                                \
    } while (0)

static sl_code r_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    RETRYING(store_list(impl(s)->inner, req, out, err));
}

static sl_code r_get_range(store *s, const char *key, uint64_t off, uint64_t len,
                           int whole, sl_buf *out, sl_err *err)
{
    /* A failed attempt may have appended part of the object: start over. */
    size_t keep = out->len;
    RETRYING((out->len = keep,
              whole ? store_get(impl(s)->inner, key, out, err)
                    : store_get_range(impl(s)->inner, key, off, len, out, err)));
}

static sl_code r_put(store *s, const char *key, const void *data, size_t len,
                     int if_absent, sl_err *err)
{
    RETRYING(if_absent ? store_put_if_absent(impl(s)->inner, key, data, len, err)
                       : store_put(impl(s)->inner, key, data, len, err));
}

static sl_code r_del(store *s, const char *key, sl_err *err)
{
    RETRYING(store_delete(impl(s)->inner, key, err));
}

static sl_code r_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    RETRYING(store_stat(impl(s)->inner, key, out, err));
}

static void r_close(store *s)
{
    retry_impl *r = impl(s);
    if (!r->keep_inner)
        store_close(r->inner);
    free(r);
}

static const store_ops RETRY_OPS = {"retry", r_list, r_get_range, r_put,
                                    r_del,   r_stat, r_close};

sl_code store_retry_wrap(store *inner, const store_retry_opts *o, int keep_inner,
                         store **out, sl_err *err)
{
    (void)err;
    retry_impl *r = sl_calloc(1, sizeof *r);
    r->inner = inner;
    r->o = o ? *o : (store_retry_opts){0};
    if (r->o.max_attempts < 1)
        r->o.max_attempts = 5;
    if (r->o.base_ms <= 0)
        r->o.base_ms = 50;
    if (r->o.max_ms <= 0)
        r->o.max_ms = 2000;
    r->keep_inner = keep_inner;
    atomic_init(&r->rng, r->o.seed);
    atomic_init(&r->retries, 0);
    store *s = sl_calloc(1, sizeof *s);
    s->ops = &RETRY_OPS;
    s->url = sl_strdup(store_url(inner));
    s->impl = r;
    *out = s;
    return SL_OK;
}

uint64_t store_retry_count(const store *s)
{
    return atomic_load(&((retry_impl *)s->impl)->retries);
}
