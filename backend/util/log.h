#ifndef SLUICE_UTIL_LOG_H
#define SLUICE_UTIL_LOG_H

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

#endif
