/* The fault-injecting store wrapper (store_fault.h). The wrapper's ops call
 * the inner backend's ops directly: the front door (store.c) has already
 * checked keys and normalised requests for the outer store, and going
 * through it again would log every call twice. */
#include "backend/store/store_fault.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct fault_store {
    store *inner;
    store_fault_opts o;
    uint64_t draws; /* atomic: the PRNG position */
    int enabled;    /* atomic */
    uint64_t calls[SF_OP_COUNT], failed[SF_OP_COUNT], failed_after[SF_OP_COUNT];
    uint64_t torn, timeouts, unavailable; /* atomic */
} fault_store;

static const store_ops fault_ops;

static fault_store *fimpl(const store *s)
{
    return s->impl;
}

const char *store_fault_op_name(store_fault_op op)
{
    static const char *const names[SF_OP_COUNT] = {"list",          "get",    "put",
                                                   "put_if_absent", "delete", "stat"};
    return op >= 0 && op < SF_OP_COUNT ? names[op] : "?";
}

void store_fault_opts_uniform(store_fault_opts *o, double rate, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    o->seed = seed;
    for (int i = 0; i < SF_OP_COUNT; i++)
        o->fail_rate[i] = rate;
    o->torn_rate = rate;
}

/* ---- decisions --------------------------------------------------------- */

static void bump(uint64_t *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* splitmix64 of the seed and the draw's position: every draw is independent
 * of the others given its position, and the position is one atomic add. */
static uint64_t draw_u64(fault_store *f)
{
    uint64_t n = __atomic_fetch_add(&f->draws, 1, __ATOMIC_RELAXED);
    uint64_t z = f->o.seed + (n + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* 1 with probability p; draws nothing when p cannot fire, so an operation
 * kind left at rate 0 does not shift the other kinds' faults. */
static int chance(fault_store *f, double p)
{
    if (!(p > 0))
        return 0;
    double u = (double)(draw_u64(f) >> 11) * 0x1.0p-53;
    return u < p;
}

static int enabled(fault_store *f)
{
    return __atomic_load_n(&f->enabled, __ATOMIC_RELAXED);
}

/* The injected error: a timeout or a 5xx/throttle, chosen by a second draw. */
static sl_code inject(fault_store *f, store_fault_op op, const char *key,
                      const char *when, sl_err *err)
{
    int timeout = draw_u64(f) & 1;
    bump(timeout ? &f->timeouts : &f->unavailable);
    sl_code c = timeout ? SL_STORE_TIMEOUT : SL_STORE_UNAVAILABLE;
    return err_set(err, c, "injected fault: %s %s %s (%s)", store_fault_op_name(op),
                   key && *key ? key : "(root)", timeout ? "timed out" : "got a 503",
                   when);
}

/* Before the inner call: counts the call and may fail it. */
static sl_code fault_before(fault_store *f, store_fault_op op, const char *key,
                            sl_err *err)
{
    bump(&f->calls[op]);
    if (!enabled(f) || !chance(f, f->o.fail_rate[op]))
        return SL_OK;
    bump(&f->failed[op]);
    return inject(f, op, key, "before reaching the store", err);
}

/* After a successful inner call: may report it as failed anyway. */
static sl_code fault_after(fault_store *f, store_fault_op op, const char *key,
                           sl_err *err)
{
    if (!enabled(f) || !chance(f, f->o.fail_after_rate[op]))
        return SL_OK;
    bump(&f->failed_after[op]);
    return inject(f, op, key, "after the store carried it out", err);
}

/* "<anything>/_delta_log/<digits>.json" or "_delta_log/<digits>.json". */
static int is_commit_key(const char *key)
{
    const char *slash = strrchr(key, '/');
    if (!slash)
        return 0;
    const char *base = slash + 1;
    size_t dlen = (size_t)(slash - key);
    static const char log_dir[] = "_delta_log";
    size_t ll = sizeof log_dir - 1;
    if (dlen < ll || memcmp(slash - ll, log_dir, ll) != 0 ||
        (dlen > ll && slash[-(long)ll - 1] != '/'))
        return 0;
    const char *p = base;
    while (isdigit((unsigned char)*p))
        p++;
    return p > base && strcmp(p, ".json") == 0;
}

/* ---- ops --------------------------------------------------------------- */

static sl_code fault_list(store *s, const store_list_req *req, store_page *out,
                          sl_err *err)
{
    fault_store *f = fimpl(s);
    sl_code c = fault_before(f, SF_OP_LIST, req->prefix, err);
    if (c == SL_OK)
        c = f->inner->ops->list(f->inner, req, out, err);
    if (c == SL_OK)
        c = fault_after(f, SF_OP_LIST, req->prefix, err);
    return c; /* the front door frees the page on failure */
}

static sl_code fault_get_range(store *s, const char *key, uint64_t offset, uint64_t len,
                               int whole, sl_buf *out, sl_err *err)
{
    fault_store *f = fimpl(s);
    sl_code c = fault_before(f, SF_OP_GET, key, err);
    if (c == SL_OK)
        c = f->inner->ops->get_range(f->inner, key, offset, len, whole, out, err);
    if (c == SL_OK)
        c = fault_after(f, SF_OP_GET, key, err);
    return c;
}

/* Writes a strict prefix of the bytes, then fails as an interrupted upload. */
static sl_code tear(fault_store *f, const char *key, const void *data, size_t len,
                    sl_err *err)
{
    size_t keep = (size_t)(draw_u64(f) % len);
    sl_code c = f->inner->ops->put(f->inner, key, data, keep, 0, err);
    if (c != SL_OK)
        return c;
    bump(&f->torn);
    sl_code code = inject(f, SF_OP_PUT, key, "mid-upload", err);
    err_wrap(err, "torn write (%zu of %zu bytes landed)", keep, len);
    return code;
}

static sl_code fault_put(store *s, const char *key, const void *data, size_t len,
                         int if_absent, sl_err *err)
{
    fault_store *f = fimpl(s);
    store_fault_op op = if_absent ? SF_OP_PUT_IF_ABSENT : SF_OP_PUT;
    sl_code c = fault_before(f, op, key, err);
    if (c != SL_OK)
        return c;
    if (!if_absent && len > 0 && enabled(f) && !is_commit_key(key) &&
        chance(f, f->o.torn_rate))
        return tear(f, key, data, len, err);
    c = f->inner->ops->put(f->inner, key, data, len, if_absent, err);
    if (c == SL_OK)
        c = fault_after(f, op, key, err);
    return c;
}

static sl_code fault_del(store *s, const char *key, sl_err *err)
{
    fault_store *f = fimpl(s);
    sl_code c = fault_before(f, SF_OP_DELETE, key, err);
    if (c == SL_OK)
        c = f->inner->ops->del(f->inner, key, err);
    if (c == SL_OK)
        c = fault_after(f, SF_OP_DELETE, key, err);
    return c;
}

static sl_code fault_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    fault_store *f = fimpl(s);
    sl_code c = fault_before(f, SF_OP_STAT, key, err);
    if (c == SL_OK)
        c = f->inner->ops->stat(f->inner, key, out, err);
    if (c == SL_OK)
        c = fault_after(f, SF_OP_STAT, key, err);
    return c;
}

static void fault_close(store *s)
{
    fault_store *f = fimpl(s);
    if (!f)
        return;
    if (!f->o.keep_inner)
        store_close(f->inner);
    free(f);
    s->impl = NULL;
}

static const store_ops fault_ops = {
    .scheme = "fault",
    .list = fault_list,
    .get_range = fault_get_range,
    .put = fault_put,
    .del = fault_del,
    .stat = fault_stat,
    .close = fault_close,
};

/* ---- public ------------------------------------------------------------ */

static int rate_ok(double r)
{
    return r >= 0 && r <= 1; /* also refuses NaN */
}

sl_code store_fault_wrap(store *inner, const store_fault_opts *o, store **out,
                         sl_err *err)
{
    *out = NULL;
    if (!inner || !o)
        return err_set(err, SL_INTERNAL, "store_fault_wrap needs a store and options");
    int ok = rate_ok(o->torn_rate);
    for (int i = 0; i < SF_OP_COUNT; i++)
        ok = ok && rate_ok(o->fail_rate[i]) && rate_ok(o->fail_after_rate[i]);
    if (!ok)
        return err_set(err, SL_INTERNAL, "fault rates must lie in [0, 1]");
    fault_store *f = sl_calloc(1, sizeof *f);
    f->inner = inner;
    f->o = *o;
    f->enabled = 1;
    store *s = sl_calloc(1, sizeof *s);
    s->ops = &fault_ops;
    s->url = sl_strdup(store_url(inner));
    s->impl = f;
    *out = s;
    return SL_OK;
}

int store_is_fault(const store *s)
{
    return s && s->ops == &fault_ops;
}

void store_fault_counts_get(const store *s, store_fault_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!store_is_fault(s))
        return;
    fault_store *f = fimpl(s);
    for (int i = 0; i < SF_OP_COUNT; i++) {
        out->calls[i] = __atomic_load_n(&f->calls[i], __ATOMIC_RELAXED);
        out->failed[i] = __atomic_load_n(&f->failed[i], __ATOMIC_RELAXED);
        out->failed_after[i] = __atomic_load_n(&f->failed_after[i], __ATOMIC_RELAXED);
    }
    out->torn = __atomic_load_n(&f->torn, __ATOMIC_RELAXED);
    out->timeouts = __atomic_load_n(&f->timeouts, __ATOMIC_RELAXED);
    out->unavailable = __atomic_load_n(&f->unavailable, __ATOMIC_RELAXED);
}

void store_fault_set_enabled(store *s, int on)
{
    if (store_is_fault(s))
        __atomic_store_n(&fimpl(s)->enabled, on ? 1 : 0, __ATOMIC_RELAXED);
}
