#ifndef SLUICE_UTIL_TIMEUTIL_H
#define SLUICE_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/util/err.h"

/* Wall clock in UTC milliseconds since the epoch. SLUICE_FAKE_NOW_MS pins it
 * (screen-dump tests need a fixed clock). */
int64_t time_now_ms(void);
/* Monotonic milliseconds, for durations. */
/* Monotonic milliseconds, for durations; constant under SLUICE_FAKE_NOW_MS
 * (a pinned clock measures every duration as 0). */
double time_mono_ms(void);

/* "2026-01-31T12:00:00.123Z" into out (at least 32 bytes). */
void time_format_iso(int64_t ms, char *out, size_t outlen);
/* "2026-01-31 12:00" (console columns) into out (at least 20 bytes). */
void time_format_short(int64_t ms, char *out, size_t outlen);

/* Accepts ISO 8601 (date, date+time, optional fraction, Z or +hh:mm),
 * or an integer of epoch milliseconds. */
sl_code time_parse(const char *text, int64_t *ms_out, sl_err *err);

/* The hot-path parser for data values: "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]]"
 * with an optional "Z" or "+hh[:mm]"/"-hh[:mm]", to microseconds since the
 * epoch (fractions beyond microseconds truncated). No allocation, no libc
 * time calls. Returns 0 on success, -1 when the text is not such a time. */
int time_parse_iso_us(const char *s, size_t n, int64_t *us_out);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
