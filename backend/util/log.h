#ifndef SLUICE_UTIL_LOG_H
#define SLUICE_UTIL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util/err.h"

/* The structured log: one JSON line per backend operation
 * ({"ts","pid","op","target","code","ms","msg"}) appended to
 * STATE_DIR/sluice.log. Thread-safe; every function accepts NULL (no log). */
typedef struct sl_log sl_log;

sl_code log_open(const char *state_dir, sl_log **out, sl_err *err);
/* A log that writes to an already-open file path (tests). */
sl_code log_open_file(const char *path, sl_log **out, sl_err *err);
void log_close(sl_log *log);
const char *log_path(const sl_log *log);

void log_op(sl_log *log, const char *op, const char *target, sl_code code,
            double duration_ms, const char *msg);

/* ---- the ring: the last operations in memory (the console's command log) ----
 * A fixed number of entries, the oldest overwritten first; fed by log_op
 * from any thread (the console's worker and live-run threads) and read by
 * the UI thread, so every access takes the ring's lock and entries are
 * copied whole (never torn). Targets and messages are stored as log_op gets
 * them: callers already keep credentials out of both (store URLs carry
 * none), and the ring adds nothing else. Strings longer than a field are
 * cut at a character boundary and end in "…". */
#define LOG_RING_DEFAULT 8192
#define LOG_RING_OP_MAX 64
#define LOG_RING_TEXT_MAX 512

typedef struct log_entry {
    uint64_t seq;  /* 1, 2, ... in the order the ring received them */
    int64_t ts_ms; /* UTC wall clock when recorded (time_now_ms) */
    char op[LOG_RING_OP_MAX];
    char target[LOG_RING_TEXT_MAX];
    sl_code code;
    double duration_ms;
    char msg[LOG_RING_TEXT_MAX]; /* "" when none */
} log_entry;

typedef struct log_ring log_ring;

log_ring *log_ring_new(size_t capacity); /* capacity 0: LOG_RING_DEFAULT */
void log_ring_free(log_ring *r);
size_t log_ring_capacity(const log_ring *r);
/* Records one operation (stamped with the next seq and time_now_ms). */
void log_ring_add(log_ring *r, const char *op, const char *target, sl_code code,
                  double duration_ms, const char *msg);
/* The seq of the newest entry; 0 when none was ever added. */
uint64_t log_ring_last_seq(log_ring *r);
/* Copies the entries with seq > after_seq still held, oldest first, into a
 * new array (*out, caller frees; NULL when none). Returns how many. */
size_t log_ring_copy(log_ring *r, uint64_t after_seq, log_entry **out);

/* Whether an outcome is a failure of the operation, as opposed to an
 * answer: SL_STORE_NOT_FOUND (probing for an object) and SL_STORE_EXISTS
 * (a conditional write that lost) are answers. */
int log_code_is_failure(sl_code code);

/* Counts, errors and latency of the ring's entries whose op starts with
 * op_prefix ("store."; NULL or "": all) recorded at or after since_ms. */
typedef struct log_ring_stats {
    size_t calls;
    size_t errors;          /* log_code_is_failure */
    double mean_ms, max_ms; /* 0 when no calls */
    /* 1: the ring dropped entries that may fall in the window, so the
     * figures cover only the last `kept` entries. */
    int partial;
    size_t kept;
} log_ring_stats;
void log_ring_stats_since(log_ring *r, const char *op_prefix, int64_t since_ms,
                          log_ring_stats *out);

/* Gives the log a ring of capacity entries (0: LOG_RING_DEFAULT) that every
 * later log_op also feeds; the log owns and frees it. Call before other
 * threads use the log (session_open does it for the console). Returns it;
 * a second call returns the ring already there. NULL log: NULL. */
log_ring *log_ring_enable(sl_log *log, size_t capacity);
/* The log's ring, or NULL (no log, or none enabled). */
log_ring *log_ring_get(const sl_log *log);

#endif
