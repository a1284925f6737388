/* The pipeline lease as a chain of generations (see lease.h).
 *
 * Why it is safe. The store gives atomic put_if_absent and nothing like
 * compare-and-swap; "delete the stale lease, then put_if_absent" lets two
 * takers that both saw the stale lease each delete and one re-create, so a
 * taker can delete a lease someone else just took. Here nothing that is
 * the lease is ever replaced or deleted to make way: every change creates
 * generation g+1 with put_if_absent, decided by having read generation g
 * (the head) and found it free (absent, released or expired), or by being
 * g's holder (renew, release). So:
 *   1. Each generation has one creator: of any number of racing takers (or
 *      a taker and a late renewal) exactly one creates g+1; the others get
 *      SL_STORE_EXISTS, re-read, and see the winner.
 *   2. A creator holds only if, after creating g+1, no higher generation
 *      exists. Older generations are deleted once superseded, so a slow
 *      process that read an old head may re-create a deleted generation
 *      below the head; that check makes it a stray, which it deletes.
 *   3. The highest generation never goes down: only superseded generations
 *      and a creator's own unverified claim are deleted.
 * Hence a holder of g is superseded only by the creator of g+1, who read
 * g's record and found it expired (or released) by its clock: two runners
 * never hold at once unless clocks disagree by more than the renewal
 * margin (ttl - renew interval), which is the usual lease assumption.
 *
 * A store call that fails after it acted (a timeout after the write) is
 * settled by reading the object back: our token there means it happened. */
#include "backend/pipeline/lease.h"

#include <inttypes.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/timeutil.h"

/* Bounds on re-reads while others race; each round means another process
 * made progress, so a handful is plenty. */
#define LEASE_ROUNDS 16

char *lease_key_prefix(const char *pipeline)
{
    return sl_asprintf("_sluice/locks/%s.", pipeline);
}

static char *gen_key(const char *pipeline, int64_t gen)
{
    return sl_asprintf("_sluice/locks/%s.%020" PRId64, pipeline, gen);
}

/* The generation a listed key names, or -1 for anything else. */
static int64_t key_gen(const char *key, size_t prefix_len)
{
    const char *s = key + prefix_len;
    if (strlen(s) != 20)
        return -1;
    int64_t g = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || g > (INT64_MAX - 9) / 10)
            return -1;
        g = g * 10 + (*s - '0');
    }
    return g;
}

/* The generations that exist (in listing order) and the highest. */
typedef struct gens {
    int64_t *v;
    size_t n;
    int64_t max; /* 0 when none */
} gens;

static sl_code list_gens(store *s, const char *pipeline, gens *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    char *prefix = lease_key_prefix(pipeline);
    store_page page;
    sl_code c = store_list_all(s, prefix, NULL, &page, err);
    if (c == SL_OK) {
        out->v = sl_calloc(page.n + 1, sizeof *out->v);
        for (size_t i = 0; i < page.n; i++) {
            int64_t g =
                page.items[i].is_prefix ? -1 : key_gen(page.items[i].key, strlen(prefix));
            if (g <= 0)
                continue;
            out->v[out->n++] = g;
            if (g > out->max)
                out->max = g;
        }
        store_page_free(&page);
    }
    free(prefix);
    return c;
}

/* ---- records ----------------------------------------------------------- */

/* released_ms is informational (for people reading the object); only
 * "released" and the expiry decide anything. */
static char *record_json(const lease *l, int released, int64_t released_ms)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "owner", l->owner, "host", l->host, "pid",
        (json_int_t)l->pid, "token", l->token, "acquired_ms", (json_int_t)l->acquired_ms,
        "expires_ms", (json_int_t)l->expires_ms, "generation", (json_int_t)l->generation);
    if (released) {
        json_object_set_new(o, "released", json_true());
        json_object_set_new(o, "released_ms", json_integer(released_ms));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void copy_str(char *dst, size_t cap, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int64_t get_i64(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* 0 when text is a lease record; the holder is filled either way. */
static int record_parse(const char *text, size_t len, lease_holder *h)
{
    memset(h, 0, sizeof *h);
    json_t *o = json_loadb(text, len, 0, NULL);
    json_t *token = o ? json_object_get(o, "token") : NULL;
    if (!json_is_object(o) || !json_is_string(token) ||
        !json_is_integer(json_object_get(o, "expires_ms"))) {
        json_decref(o);
        snprintf(h->owner, sizeof h->owner, "(unreadable lease object)");
        h->unreadable = 1;
        return -1;
    }
    copy_str(h->owner, sizeof h->owner, o, "owner");
    copy_str(h->host, sizeof h->host, o, "host");
    copy_str(h->token, sizeof h->token, o, "token");
    h->pid = get_i64(o, "pid");
    h->acquired_ms = get_i64(o, "acquired_ms");
    h->expires_ms = get_i64(o, "expires_ms");
    h->generation = get_i64(o, "generation");
    h->released = json_is_true(json_object_get(o, "released"));
    json_decref(o);
    return 0;
}

/* The head: the highest generation's record. A head deleted between the
 * listing and the read was superseded: list again. */
typedef struct head {
    int64_t gen; /* 0: no lease object at all */
    lease_holder h;
    int64_t mtime_ms; /* the object's, for an unreadable record */
} head;

static sl_code read_head(store *s, const char *pipeline, head *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    for (int round = 0; round < LEASE_ROUNDS; round++) {
        gens g;
        sl_code c = list_gens(s, pipeline, &g, err);
        free(g.v);
        if (c != SL_OK)
            return c;
        if (g.max == 0)
            return SL_OK;
        char *key = gen_key(pipeline, g.max);
        sl_buf b = {0};
        store_obj st = {0};
        c = store_get(s, key, &b, err);
        if (c == SL_OK && store_stat(s, key, &st, NULL) == SL_OK)
            out->mtime_ms = st.mtime_ms;
        store_obj_clear(&st);
        free(key);
        if (c == SL_OK) {
            out->gen = g.max;
            record_parse(b.data ? b.data : "", b.len, &out->h);
            out->h.generation = g.max;
        }
        buf_free(&b);
        if (c != SL_STORE_NOT_FOUND)
            return c;
    }
    return err_set(err, SL_STORE_UNAVAILABLE,
                   "the lease of pipeline %s kept changing while it was read; retry",
                   pipeline);
}

/* The holder ran on this host and its process is gone (a runner killed
 * with SIGKILL): nobody will renew the lease, so the next runner need not
 * wait out the ttl. A reused pid looks alive: then the ttl decides. */
static int holder_dead_here(const lease_holder *h)
{
    char host[256] = "";
    if (h->unreadable || h->pid <= 0 || gethostname(host, sizeof host - 1) != 0 ||
        strcmp(host, h->host) != 0)
        return 0;
    return kill((pid_t)h->pid, 0) != 0 && errno == ESRCH;
}

/* Free at now_ms: no lease, released, expired, or its holder died on this
 * host. An unreadable record (a torn write) counts as expired ttl_ms after
 * it was written. */
static int head_free(const head *hd, int64_t now_ms, int64_t ttl_ms, int64_t *expires)
{
    if (hd->gen == 0 || hd->h.released)
        return 1;
    *expires = hd->h.unreadable ? hd->mtime_ms + ttl_ms : hd->h.expires_ms;
    return now_ms >= *expires || holder_dead_here(&hd->h);
}

static int object_has_token(store *s, const char *key, const char *token)
{
    sl_buf b = {0};
    lease_holder h;
    int ours = store_get(s, key, &b, NULL) == SL_OK &&
               record_parse(b.data ? b.data : "", b.len, &h) == 0 &&
               strcmp(h.token, token) == 0;
    buf_free(&b);
    return ours;
}

/* Creates generation gen holding text. SL_OK only when it was created by
 * us and is the head; SL_STORE_EXISTS when another creator has it or a
 * higher generation exists (our stray object is then deleted). On success
 * the older generations are deleted (best effort: the next claim retries). */
static sl_code claim(store *s, const char *pipeline, int64_t gen, const char *text,
                     const char *token, sl_err *err)
{
    char *key = gen_key(pipeline, gen);
    sl_err e = {0};
    sl_code c = store_put_if_absent(s, key, text, strlen(text), &e);
    if (c != SL_OK && c != SL_STORE_EXISTS && object_has_token(s, key, token))
        c = SL_OK;
    if (c != SL_OK) {
        free(key);
        if (c != SL_STORE_EXISTS && err)
            *err = e;
        return c;
    }
    gens g;
    c = list_gens(s, pipeline, &g, err);
    if (c != SL_OK || g.max > gen) {
        /* Unverified or below the head: not ours to hold. */
        store_delete(s, key, NULL);
        free(g.v);
        free(key);
        return c != SL_OK ? c : SL_STORE_EXISTS;
    }
    for (size_t i = 0; i < g.n; i++)
        if (g.v[i] < gen) {
            char *old = gen_key(pipeline, g.v[i]);
            store_delete(s, old, NULL);
            free(old);
        }
    free(g.v);
    free(key);
    return SL_OK;
}

/* ---- messages ---------------------------------------------------------- */

static void describe(const lease_holder *h, char *out, size_t n)
{
    char exp[40];
    time_format_iso(h->expires_ms, exp, sizeof exp);
    if (h->unreadable)
        snprintf(out, n, "an unreadable lease object (generation %" PRId64 ")",
                 h->generation);
    else
        snprintf(out, n, "%s on %s (pid %" PRId64 "), lease expiring %s UTC", h->owner,
                 h->host, h->pid, exp);
}

static sl_code held_error(sl_err *err, const char *pipeline, const lease_holder *h,
                          lease_holder *holder_out)
{
    if (holder_out)
        *holder_out = *h;
    char who[700];
    describe(h, who, sizeof who);
    return err_set(err, SL_LEASE_HELD, "pipeline %s is held by %s", pipeline, who);
}

/* ---- API --------------------------------------------------------------- */

static lease *lease_new(const char *pipeline, const char *owner, int64_t now_ms,
                        int64_t ttl_ms)
{
    lease *l = sl_calloc(1, sizeof *l);
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    char token[37];
    ids_uuid4(token);
    l->pipeline = sl_strdup(pipeline);
    l->owner = sl_strdup(owner && *owner ? owner : "unknown");
    l->host = sl_strdup(host);
    l->pid = (int64_t)getpid();
    l->token = sl_strdup(token);
    l->acquired_ms = now_ms;
    l->expires_ms = now_ms + ttl_ms;
    return l;
}

void lease_free(lease *l)
{
    if (!l)
        return;
    free(l->key);
    free(l->token);
    free(l->owner);
    free(l->pipeline);
    free(l->host);
    free(l);
}

static sl_code check_args(const char *pipeline, int64_t ttl_ms, sl_err *err)
{
    if (!pipeline_name_ok(pipeline))
        return err_set(err, SL_PIPELINE_INVALID, "\"%s\" is not a pipeline name",
                       pipeline ? pipeline : "(null)");
    if (ttl_ms <= 0)
        return err_set(err, SL_INTERNAL, "lease ttl must be positive (got %" PRId64 ")",
                       ttl_ms);
    return SL_OK;
}

sl_code lease_acquire(store *lake, const char *pipeline, const char *owner,
                      int64_t now_ms, int64_t ttl_ms, lease **out,
                      lease_holder *holder_out, sl_err *err)
{
    *out = NULL;
    sl_code c = check_args(pipeline, ttl_ms, err);
    if (c != SL_OK)
        return c;
    lease *l = lease_new(pipeline, owner, now_ms, ttl_ms);
    for (int round = 0; round < LEASE_ROUNDS; round++) {
        head hd;
        int64_t expires = 0;
        if ((c = read_head(lake, pipeline, &hd, err)) != SL_OK)
            break;
        if (!head_free(&hd, now_ms, ttl_ms, &expires)) {
            hd.h.expires_ms = expires;
            c = held_error(err, pipeline, &hd.h, holder_out);
            break;
        }
        l->generation = hd.gen + 1;
        l->took_over = hd.gen > 0 && !hd.h.released;
        if (l->took_over)
            l->previous = hd.h;
        char *text = record_json(l, 0, 0);
        c = claim(lake, pipeline, l->generation, text, l->token, err);
        free(text);
        if (c == SL_OK) {
            l->key = gen_key(pipeline, l->generation);
            *out = l;
            return SL_OK;
        }
        if (c != SL_STORE_EXISTS)
            break;
        /* Someone else moved first: read again; they hold it or let it go. */
    }
    if (c == SL_STORE_EXISTS)
        c = err_set(err, SL_STORE_UNAVAILABLE,
                    "the lease of pipeline %s kept changing while it was taken; retry",
                    pipeline);
    lease_free(l);
    return c;
}

/* After a lost claim: the head tells whether we are still the holder (an
 * earlier attempt of ours landed) or who took over. */
static sl_code settle_lost(store *lake, lease *l, int want_released, sl_err *err)
{
    head hd;
    sl_code c = read_head(lake, l->pipeline, &hd, err);
    if (c != SL_OK)
        return c;
    if (hd.gen > l->generation && !hd.h.unreadable && strcmp(hd.h.token, l->token) == 0 &&
        hd.h.released == want_released) {
        l->generation = hd.gen;
        l->expires_ms = hd.h.expires_ms;
        free(l->key);
        l->key = gen_key(l->pipeline, hd.gen);
        return SL_OK;
    }
    char who[800];
    if (hd.gen == 0 || hd.h.released)
        snprintf(who, sizeof who, "its lease was released by %s",
                 hd.gen ? hd.h.owner : "someone");
    else {
        char d[700];
        describe(&hd.h, d, sizeof d);
        snprintf(who, sizeof who, "it is now held by %s", d);
    }
    return err_set(err, SL_LEASE_LOST, "pipeline %s: lease lost (%s); stop", l->pipeline,
                   who);
}

sl_code lease_renew(store *lake, lease *l, int64_t now_ms, int64_t ttl_ms, sl_err *err)
{
    sl_code c = check_args(l->pipeline, ttl_ms, err);
    if (c != SL_OK)
        return c;
    lease next = *l;
    next.generation = l->generation + 1;
    next.expires_ms = now_ms + ttl_ms;
    char *text = record_json(&next, 0, 0);
    c = claim(lake, l->pipeline, next.generation, text, l->token, err);
    free(text);
    if (c == SL_STORE_EXISTS)
        return settle_lost(lake, l, 0, err);
    if (c != SL_OK)
        return c;
    l->generation = next.generation;
    l->expires_ms = next.expires_ms;
    free(l->key);
    l->key = gen_key(l->pipeline, l->generation);
    return SL_OK;
}

sl_code lease_release(store *lake, lease *l, sl_err *err)
{
    lease next = *l;
    next.generation = l->generation + 1;
    char *text = record_json(&next, 1, time_now_ms());
    sl_code c = claim(lake, l->pipeline, next.generation, text, l->token, err);
    free(text);
    if (c == SL_STORE_EXISTS)
        c = settle_lost(lake, l, 1, err);
    else if (c == SL_OK) {
        l->generation = next.generation;
        free(l->key);
        l->key = gen_key(l->pipeline, l->generation);
    }
    return c;
}

sl_code lease_read(store *lake, const char *pipeline, lease_holder *out, int *exists,
                   sl_err *err)
{
    memset(out, 0, sizeof *out);
    *exists = 0;
    if (!pipeline_name_ok(pipeline))
        return err_set(err, SL_PIPELINE_INVALID, "\"%s\" is not a pipeline name",
                       pipeline ? pipeline : "(null)");
    head hd;
    sl_code c = read_head(lake, pipeline, &hd, err);
    if (c != SL_OK)
        return c;
    if (hd.gen > 0)
        *out = hd.h;
    *exists = hd.gen > 0 && !hd.h.released;
    return SL_OK;
}

json_t *lease_holder_json(const lease_holder *h)
{
    char exp[40];
    time_format_iso(h->expires_ms, exp, sizeof exp);
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "owner", h->owner, "host",
                  h->host, "pid", (json_int_t)h->pid, "acquired_ms",
                  (json_int_t)h->acquired_ms, "expires_ms", (json_int_t)h->expires_ms,
                  "expires", exp, "generation", (json_int_t)h->generation);
    if (h->released)
        json_object_set_new(o, "released", json_true());
    if (h->unreadable)
        json_object_set_new(o, "unreadable", json_true());
    return o;
}
