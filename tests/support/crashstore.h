#ifndef SLUICE_TESTS_CRASHSTORE_H
#define SLUICE_TESTS_CRASHSTORE_H
/* A store that kills its process (_exit(77), like SIGKILL: no cleanup, no
 * flush) at its n-th operation, either before or after carrying it out, so
 * crash tests hit every step at a chosen, reproducible moment. */
#include <stdint.h>

#include "backend/store/store.h"

#define CRASH_EXIT 77

/* Wraps inner (which the wrapper then owns). at_op: 1-based op that crashes
 * (0: never); after: 1 to crash right after the op succeeded. */
sl_code crashstore_wrap(store *inner, uint64_t at_op, int after, store **out, sl_err *err);
/* Instead of dying at op at_op: write one byte to notify_fd, then block
 * until one byte can be read from wait_fd (a second process can act while
 * this one is parked in the middle of its run). */
void crashstore_pause_at(store *s, uint64_t at_op, int notify_fd, int wait_fd);
/* Operations seen so far. */
uint64_t crashstore_ops(const store *s);

#endif
