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
