#ifndef SLUICE_UTIL_TIMEUTIL_H
#define SLUICE_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util/err.h"

/* Wall clock in UTC milliseconds since the epoch. SLUICE_FAKE_NOW_MS pins it
 * (screen-dump tests need a fixed clock). */
int64_t time_now_ms(void);
/* Monotonic milliseconds, for durations. */
double time_mono_ms(void);

/* "2026-01-31T12:00:00.123Z" into out (at least 32 bytes). */
void time_format_iso(int64_t ms, char *out, size_t outlen);
/* "2026-01-31 12:00" (console columns) into out (at least 20 bytes). */
void time_format_short(int64_t ms, char *out, size_t outlen);

/* Accepts ISO 8601 (date, date+time, optional fraction, Z or +hh:mm),
 * or an integer of epoch milliseconds. */
sl_code time_parse(const char *text, int64_t *ms_out, sl_err *err);

#endif
