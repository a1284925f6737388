#ifndef SLUICE_TUI_FMT_H
#define SLUICE_TUI_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Console formatting of numbers and times (UTC, deterministic). */

/* "2023-11-14 22:13:20" (19 cells); "-" for negative ms. */
void fmt_time(int64_t ms, char *out, size_t outlen);
/* "2023-11-14 22:13" (16 cells); "-" for negative ms. */
void fmt_time_short(int64_t ms, char *out, size_t outlen);
/* "1,234,567"; "unknown" for negative values. */
void fmt_count(int64_t n, char *out, size_t outlen);
/* "512 B", "4.0 KiB", "1.2 MiB"... */
void fmt_bytes(uint64_t n, char *out, size_t outlen);
/* Humanised counts: "999", "1.2 k", "34 k", "3.4 M"; "?" for negative. */
void fmt_human(int64_t n, char *out, size_t outlen);
/* Relative age of then against now: "42s ago", "5m ago", "3h07m ago",
 * "2d04h ago"; "never" for negative then. */
void fmt_age(int64_t then_ms, int64_t now_ms, char *out, size_t outlen);
/* Durations: "850ms", "4.2s", "3m05s", "2h10m"; "-" for negative. */
void fmt_duration(int64_t ms, char *out, size_t outlen);
/* text shortened to max_chars characters with "…" in the middle (names
 * whose both ends matter: folders, file keys, tables). */
void fmt_middle(const char *text, size_t max_chars, char *out, size_t outlen);
/* Encodes one code point as UTF-8 into out (at least 5 bytes); returns its length. */
size_t fmt_utf8(int cp, char *out);

#endif
