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
/* Encodes one code point as UTF-8 into out (at least 5 bytes); returns its length. */
size_t fmt_utf8(int cp, char *out);

#endif
