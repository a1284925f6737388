#ifndef SLUICE_STORE_STORE_FAULT_H
#define SLUICE_STORE_STORE_FAULT_H

/* A fault-injecting store for tests: wraps another store and, per kind of
 * operation, makes calls fail with SL_STORE_TIMEOUT or SL_STORE_UNAVAILABLE
 * (a transient fault, as S3 gives under load), tears plain puts of
 * non-commit objects (a prefix lands, the caller sees an error), or fails a
 * call after the inner store carried it out (the write happened but the
 * caller saw a timeout: the hard case for exactly-once).
 *
 * Every decision comes from a PRNG seeded by opts.seed and advanced by one
 * shared atomic counter, so a single-threaded run with the same seed and the
 * same sequence of calls injects the same faults; concurrent callers are
 * safe (the interleaving then decides who gets which draw).
 *
 * What is never torn: objects created with put_if_absent (commit JSON files,
 * leases: conditional creates are atomic on every store we target) and
 * commit files `<table>/_delta_log/<digits>.json` whatever the call.
 * Checkpoint Parquet files, _last_checkpoint, data files and everything else
 * written by plain put may be torn: Delta readers skip an unreadable
 * checkpoint and _last_checkpoint is only a hint. */

#include <stdint.h>

#include "backend/store/store.h"

typedef enum store_fault_op {
    SF_OP_LIST,
    SF_OP_GET, /* get and get_range */
    SF_OP_PUT,
    SF_OP_PUT_IF_ABSENT,
    SF_OP_DELETE,
    SF_OP_STAT,
    SF_OP_COUNT
} store_fault_op;

typedef struct store_fault_opts {
    uint64_t seed;
    /* Probability that a call fails before reaching the inner store. */
    double fail_rate[SF_OP_COUNT];
    /* Probability that a call the inner store carried out successfully is
     * reported as failed anyway (drawn only for calls not failed before). */
    double fail_after_rate[SF_OP_COUNT];
    /* Probability that a tearable put (see above) writes a strict prefix of
     * its bytes with store_put and then fails (drawn only for puts not
     * failed before). Empty objects cannot be torn. */
    double torn_rate;
    /* 1: closing the wrapper leaves the inner store open (the caller owns
     * it); 0: the wrapper owns the inner store and closes it. */
    int keep_inner;
} store_fault_opts;

/* Sets every fail_rate to rate and torn_rate to rate; fail_after_rate to 0. */
void store_fault_opts_uniform(store_fault_opts *o, double rate, uint64_t seed);

typedef struct store_fault_counts {
    uint64_t calls[SF_OP_COUNT];        /* calls seen (faulty or not) */
    uint64_t failed[SF_OP_COUNT];       /* failed before the inner call */
    uint64_t failed_after[SF_OP_COUNT]; /* failed after a successful inner call */
    uint64_t torn;                      /* puts that left a prefix behind */
    uint64_t timeouts;                  /* injected SL_STORE_TIMEOUT (any kind) */
    uint64_t unavailable;               /* injected SL_STORE_UNAVAILABLE */
} store_fault_counts;

/* Wraps inner. The new store reports inner's URL; logs attached to it with
 * store_set_log see the injected errors. On failure inner is left alone
 * (not closed, whatever keep_inner says). */
sl_code store_fault_wrap(store *inner, const store_fault_opts *o, store **out,
                         sl_err *err);

/* 1 when s was made by store_fault_wrap. */
int store_is_fault(const store *s);
/* The counters so far (zeros for a store that is not a fault wrapper). */
void store_fault_counts_get(const store *s, store_fault_counts *out);
/* Pauses (0) or resumes (1) injection without changing the options, so a
 * test can set up its fixture through the wrapper first. Calls made while
 * paused are counted but draw nothing. */
void store_fault_set_enabled(store *s, int enabled);
/* The operation kind's name ("list", "get", "put", "put_if_absent",
 * "delete", "stat"). */
const char *store_fault_op_name(store_fault_op op);

#endif
