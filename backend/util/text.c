#include "backend/util/text.h"

#include <string.h>

size_t text_utf8_seq_len(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    size_t len;
    unsigned min, cp;
    if ((p[0] & 0xE0) == 0xC0) {
        len = 2, cp = p[0] & 0x1F, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3, cp = p[0] & 0x0F, min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4, cp = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int text_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Eight and sixteen ASCII bytes at a time: most data is ASCII. */
bool text_utf8_valid(const uint8_t *s, size_t n)
{
    const uint64_t high = 0x8080808080808080ULL;
    const uint8_t *p = s;
    size_t i = 0;
    while (i < n) {
        uint64_t a, b;
        if (n - i >= 16) {
            memcpy(&a, p + i, 8);
            memcpy(&b, p + i + 8, 8);
            if (!((a | b) & high)) {
                i += 16;
                continue;
            }
        } else if (n - i >= 8) {
            memcpy(&a, p + i, 8);
            if (!(a & high)) {
                i += 8;
                continue;
            }
        } else {
            a = 0;
            memcpy(&a, p + i, n - i);
            if (!(a & high))
                return true;
        }
        /* a non-ASCII byte within the next 16: step through them */
        size_t stop = n - i > 16 ? i + 16 : n;
        while (i < stop) {
            if (p[i] < 0x80) {
                i++;
                continue;
            }
            size_t k = text_utf8_seq_len(p + i, n - i);
            if (k == 0)
                return false;
            i += k;
        }
    }
    return true;
}
