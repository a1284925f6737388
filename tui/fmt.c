#include "tui/fmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void split(int64_t ms, struct tm *tm)
{
    time_t t = (time_t)(ms / 1000);
    gmtime_r(&t, tm);
}

void fmt_time(int64_t ms, char *out, size_t outlen)
{
    if (ms < 0) {
        snprintf(out, outlen, "-");
        return;
    }
    struct tm tm;
    split(ms, &tm);
    snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void fmt_time_short(int64_t ms, char *out, size_t outlen)
{
    if (ms < 0) {
        snprintf(out, outlen, "-");
        return;
    }
    struct tm tm;
    split(ms, &tm);
    snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min);
}

void fmt_count(int64_t n, char *out, size_t outlen)
{
    if (n < 0) {
        snprintf(out, outlen, "unknown");
        return;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)n);
    size_t len = strlen(digits), k = 0;
    char tmp[48];
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = '\0';
    snprintf(out, outlen, "%s", tmp);
}

void fmt_bytes(uint64_t n, char *out, size_t outlen)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n < 1024) {
        snprintf(out, outlen, "%llu B", (unsigned long long)n);
        return;
    }
    double v = (double)n / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, outlen, "%.1f %s", v, units[u]);
}

size_t fmt_utf8(int cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = '\0';
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = '\0';
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        out[3] = '\0';
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    out[4] = '\0';
    return 4;
}

void fmt_human(int64_t n, char *out, size_t outlen)
{
    if (n < 0) {
        snprintf(out, outlen, "?");
        return;
    }
    static const char *const units[] = {"k", "M", "G", "T"};
    if (n < 1000) {
        snprintf(out, outlen, "%lld", (long long)n);
        return;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    snprintf(out, outlen, v < 9.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void fmt_age(int64_t then_ms, int64_t now_ms, char *out, size_t outlen)
{
    if (then_ms < 0) {
        snprintf(out, outlen, "never");
        return;
    }
    int64_t s = (now_ms - then_ms) / 1000;
    const char *sfx = " ago";
    if (s < 0) {
        s = -s;
        sfx = " ahead";
    }
    if (s < 60)
        snprintf(out, outlen, "%llds%s", (long long)s, sfx);
    else if (s < 3600)
        snprintf(out, outlen, "%lldm%s", (long long)(s / 60), sfx);
    else if (s < 86400)
        snprintf(out, outlen, "%lldh%02lldm%s", (long long)(s / 3600),
                 (long long)(s % 3600 / 60), sfx);
    else
        snprintf(out, outlen, "%lldd%02lldh%s", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600), sfx);
}

void fmt_duration(int64_t ms, char *out, size_t outlen)
{
    if (ms < 0) {
        snprintf(out, outlen, "-");
        return;
    }
    if (ms < 1000)
        snprintf(out, outlen, "%lldms", (long long)ms);
    else if (ms < 60000)
        snprintf(out, outlen, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(out, outlen, "%lldm%02llds", (long long)(ms / 60000),
                 (long long)(ms % 60000 / 1000));
    else
        snprintf(out, outlen, "%lldh%02lldm", (long long)(ms / 3600000),
                 (long long)(ms % 3600000 / 60000));
}

/* Byte length of the UTF-8 character at s (1 for a stray byte). */
static size_t u8len(const unsigned char *s)
{
    if (*s < 0x80)
        return 1;
    size_t n = (*s & 0xE0) == 0xC0   ? 2
               : (*s & 0xF0) == 0xE0 ? 3
               : (*s & 0xF8) == 0xF0 ? 4
                                     : 1;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

void fmt_middle(const char *text, size_t max_chars, char *out, size_t outlen)
{
    /* Counted in characters (UTF-8 sequences), which is what a name column
     * holds; wide characters are the crt's business when it clips. */
    size_t nchars = 0, len = strlen(text);
    for (size_t i = 0; i < len; i += u8len((const unsigned char *)text + i))
        nchars++;
    if (nchars <= max_chars || max_chars < 3) {
        snprintf(out, outlen, "%s", text);
        return;
    }
    size_t keep = max_chars - 1, head = (keep + 1) / 2, tail = keep - head;
    size_t i = 0, c = 0;
    while (c < head) {
        i += u8len((const unsigned char *)text + i);
        c++;
    }
    size_t j = i, skip = nchars - head - tail;
    for (c = 0; c < skip; c++)
        j += u8len((const unsigned char *)text + j);
    snprintf(out, outlen, "%.*s…%s", (int)i, text, text + j);
}
