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
