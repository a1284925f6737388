#ifndef SLUICE_UTIL_TEXT_H
#define SLUICE_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at p, reading at most n bytes;
 * 0 when it is invalid (overlong, surrogate, above U+10FFFF, truncated). */
size_t text_utf8_seq_len(const unsigned char *p, size_t n);
/* Whether s[0..n) is valid UTF-8 (fast on ASCII). */
bool text_utf8_valid(const uint8_t *s, size_t n);
/* Value of a hex digit, -1 when c is not one. */
int text_hex_value(int c);

#endif
