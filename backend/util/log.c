#include "backend/util/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

struct log_ring {
    pthread_mutex_t mu;
    log_entry *slots; /* the entry of seq s lives in slots[(s - 1) % cap] */
    size_t cap;
    uint64_t last_seq;
};

struct sl_log {
    FILE *fp;
    char *path;
    pthread_mutex_t mu;
    log_ring *ring; /* set once before other threads log; owned */
};

sl_code log_open_file(const char *path, sl_log **out, sl_err *err)
{
    FILE *fp = fopen(path, "a");
    if (!fp)
        return err_set(err, SL_STATE_DIR, "cannot open log %s: %s", path,
                       strerror(errno));
    sl_log *log = sl_calloc(1, sizeof *log);
    log->fp = fp;
    log->path = sl_strdup(path);
    pthread_mutex_init(&log->mu, NULL);
    *out = log;
    return SL_OK;
}

sl_code log_open(const char *state_dir, sl_log **out, sl_err *err)
{
    char *path = paths_join(state_dir, "sluice.log");
    sl_code c = log_open_file(path, out, err);
    free(path);
    return c;
}

void log_close(sl_log *log)
{
    if (!log)
        return;
    fclose(log->fp);
    log_ring_free(log->ring);
    pthread_mutex_destroy(&log->mu);
    free(log->path);
    free(log);
}

const char *log_path(const sl_log *log)
{
    return log ? log->path : NULL;
}

void log_op(sl_log *log, const char *op, const char *target, sl_code code,
            double duration_ms, const char *msg)
{
    if (!log)
        return;
    log_ring_add(log->ring, op, target, code, duration_ms, msg);
    char ts[40];
    time_format_iso(time_now_ms(), ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "op", json_string(op ? op : ""));
    json_object_set_new(o, "target", json_string(target ? target : ""));
    json_object_set_new(o, "code", json_string(err_code_name(code)));
    json_object_set_new(o, "ms", json_real(duration_ms));
    if (msg && *msg)
        json_object_set_new(o, "msg", json_string(msg));
    char *line =
        json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!line)
        return;
    pthread_mutex_lock(&log->mu);
    fprintf(log->fp, "%s\n", line);
    fflush(log->fp);
    pthread_mutex_unlock(&log->mu);
    free(line);
}

/* ---- the ring ------------------------------------------------------------ */

log_ring *log_ring_new(size_t capacity)
{
    log_ring *r = sl_calloc(1, sizeof *r);
    r->cap = capacity ? capacity : LOG_RING_DEFAULT;
    r->slots = sl_calloc(r->cap, sizeof *r->slots);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void log_ring_free(log_ring *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->slots);
    free(r);
}

size_t log_ring_capacity(const log_ring *r)
{
    return r ? r->cap : 0;
}

/* Copies text into a field of size n; what does not fit is cut at a UTF-8
 * character boundary and marked with "…", so the console never shows half
 * a character. */
static void field_copy(char *dst, size_t n, const char *text)
{
    if (!text)
        text = "";
    size_t len = strlen(text);
    if (len < n) {
        memcpy(dst, text, len + 1);
        return;
    }
    static const char ellipsis[] = "…";
    size_t keep = n - sizeof ellipsis; /* room for "…" and the NUL */
    while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
        keep--; /* text[keep] would start the cut: back off a continuation byte */
    memcpy(dst, text, keep);
    memcpy(dst + keep, ellipsis, sizeof ellipsis);
}

void log_ring_add(log_ring *r, const char *op, const char *target, sl_code code,
                  double duration_ms, const char *msg)
{
    if (!r)
        return;
    /* Filled outside the lock; the lock only covers the seq and the copy. */
    log_entry e;
    e.ts_ms = time_now_ms();
    field_copy(e.op, sizeof e.op, op);
    field_copy(e.target, sizeof e.target, target);
    field_copy(e.msg, sizeof e.msg, msg);
    e.code = code;
    e.duration_ms = duration_ms;
    pthread_mutex_lock(&r->mu);
    e.seq = ++r->last_seq;
    r->slots[(e.seq - 1) % r->cap] = e;
    pthread_mutex_unlock(&r->mu);
}

uint64_t log_ring_last_seq(log_ring *r)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    uint64_t s = r->last_seq;
    pthread_mutex_unlock(&r->mu);
    return s;
}

size_t log_ring_copy(log_ring *r, uint64_t after_seq, log_entry **out)
{
    *out = NULL;
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    uint64_t last = r->last_seq;
    uint64_t first = last > r->cap ? last - r->cap + 1 : 1;
    if (after_seq + 1 > first)
        first = after_seq + 1;
    size_t n = last >= first ? (size_t)(last - first + 1) : 0;
    if (n) {
        *out = sl_calloc(n, sizeof **out);
        for (size_t i = 0; i < n; i++)
            (*out)[i] = r->slots[(first + i - 1) % r->cap];
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

int log_code_is_failure(sl_code code)
{
    return code != SL_OK && code != SL_STORE_NOT_FOUND && code != SL_STORE_EXISTS;
}

void log_ring_stats_since(log_ring *r, const char *op_prefix, int64_t since_ms,
                          log_ring_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    size_t plen = op_prefix ? strlen(op_prefix) : 0;
    double sum = 0;
    pthread_mutex_lock(&r->mu);
    uint64_t last = r->last_seq;
    uint64_t first = last > r->cap ? last - r->cap + 1 : 1;
    out->kept = (size_t)(last - first + 1);
    out->partial = first > 1 && r->slots[(first - 1) % r->cap].ts_ms >= since_ms;
    for (uint64_t s = first; s <= last; s++) {
        const log_entry *e = &r->slots[(s - 1) % r->cap];
        if (e->ts_ms < since_ms || (plen && strncmp(e->op, op_prefix, plen) != 0))
            continue;
        out->calls++;
        out->errors += log_code_is_failure(e->code) != 0;
        sum += e->duration_ms;
        if (e->duration_ms > out->max_ms)
            out->max_ms = e->duration_ms;
    }
    pthread_mutex_unlock(&r->mu);
    out->mean_ms = out->calls ? sum / (double)out->calls : 0;
}

log_ring *log_ring_enable(sl_log *log, size_t capacity)
{
    if (!log)
        return NULL;
    if (!log->ring)
        log->ring = log_ring_new(capacity);
    return log->ring;
}

log_ring *log_ring_get(const sl_log *log)
{
    return log ? log->ring : NULL;
}
