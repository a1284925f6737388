#include "backend/util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void)
{
    const char *fake = getenv("SLUICE_FAKE_NOW_MS");
    if (fake && *fake)
        return strtoll(fake, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double time_mono_ms(void)
{
    /* A pinned clock stands still for durations too (every use measures
     * how long a request took, for the logs and the command log), so a
     * test's screens and logs are the same on every run. */
    const char *fake = getenv("SLUICE_FAKE_NOW_MS");
    if (fake && *fake)
        return (double)strtoll(fake, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void split_ms(int64_t ms, struct tm *tm, int *frac)
{
    int64_t secs = ms / 1000;
    int64_t rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    gmtime_r(&t, tm);
    *frac = (int)rem;
}

void time_format_iso(int64_t ms, char *out, size_t outlen)
{
    struct tm tm;
    int frac;
    split_ms(ms, &tm, &frac);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void time_format_short(int64_t ms, char *out, size_t outlen)
{
    struct tm tm;
    int frac;
    split_ms(ms, &tm, &frac);
    snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

sl_code time_parse(const char *text, int64_t *ms_out, sl_err *err)
{
    if (!text || !*text)
        return err_set(err, SL_TIME_INVALID, "empty time");
    const char *p = text;
    int all_digits = 1;
    for (const char *q = text; *q; q++)
        if (!isdigit((unsigned char)*q) && !(q == text && *q == '-'))
            all_digits = 0;
    if (all_digits && strlen(text) != 10 && strlen(text) > 4) {
        *ms_out = strtoll(text, NULL, 10);
        return SL_OK;
    }
    int y, mo, d, h = 0, mi = 0, s = 0, frac_ms = 0;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
        read_digits(&p, 2, &d))
        goto bad;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (read_digits(&p, 2, &s))
                goto bad;
            if (*p == '.') {
                p++;
                int scale = 100, got = 0;
                while (isdigit((unsigned char)*p)) {
                    if (scale >= 1)
                        frac_ms += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                    got++;
                }
                if (!got)
                    goto bad;
            }
        }
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (read_digits(&p, 2, &oh))
            goto bad;
        if (*p == ':')
            p++;
        if (*p && read_digits(&p, 2, &om))
            goto bad;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p)
        goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        goto bad;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    int64_t secs = (int64_t)timegm(&tm) - (int64_t)offset_min * 60;
    *ms_out = secs * 1000 + frac_ms;
    return SL_OK;
bad:
    return err_set(err, SL_TIME_INVALID, "cannot read time '%s'", text);
}

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: exact for every proleptic Gregorian date. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned c = (unsigned char)s[at + i] - '0';
        if (c > 9)
            return -1;
        v = v * 10 + (int)c;
    }
    *out = v;
    return 0;
}

int time_parse_iso_us(const char *s, size_t n, int64_t *us_out)
{
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || digits(s, n, 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    size_t p = 10;
    int64_t frac_us = 0;
    if (p < n && (s[p] == 'T' || s[p] == ' ')) {
        if (digits(s, n, p + 1, 2, &h) || p + 3 >= n || s[p + 3] != ':' ||
            digits(s, n, p + 4, 2, &mi))
            return -1;
        p += 6;
        if (p < n && s[p] == ':') {
            if (digits(s, n, p + 1, 2, &sec))
                return -1;
            p += 3;
            if (p < n && s[p] == '.') {
                p++;
                size_t start = p;
                int64_t scale = 100000;
                while (p < n && (unsigned)(s[p] - '0') <= 9) {
                    frac_us += (s[p] - '0') * scale;
                    scale /= 10;
                    p++;
                }
                if (p == start || p - start > 9)
                    return -1;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
    }
    int64_t offset_s = 0;
    if (p < n && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < n && (s[p] == '+' || s[p] == '-')) {
        int sign = s[p] == '-' ? -1 : 1, oh, om = 0;
        if (digits(s, n, p + 1, 2, &oh))
            return -1;
        p += 3;
        if (p < n && s[p] == ':')
            p++;
        if (p < n) {
            if (digits(s, n, p, 2, &om))
                return -1;
            p += 2;
        }
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (p != n)
        return -1;
    int64_t days = time_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *us_out = secs * 1000000 + frac_us;
    return 0;
}
