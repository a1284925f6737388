#include "backend/util/hoststat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define PROC_TEXT_MAX (1u << 20) /* /proc/stat of a very large host stays far below */

const char *hoststat_fixture_dir(void)
{
    const char *d = getenv("SLUICE_HOSTSTAT_FIXTURE");
    return d && *d ? d : NULL;
}

/* ---- parsers ------------------------------------------------------------- */

sl_code hoststat_parse_cpu(const char *text, hoststat_cpu *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    /* The aggregate line is "cpu " (the per-core ones are "cpu0 "...). */
    while (p && strncmp(p, "cpu ", 4) != 0) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return err_set(err, SL_IO, "no \"cpu\" line in the CPU counters");
    uint64_t v[8] = {0};
    int n = 0;
    char *end = (char *)p + 4;
    for (; n < 8; n++) {
        const char *start = end;
        while (*start == ' ')
            start++;
        if (*start < '0' || *start > '9')
            break;
        errno = 0;
        v[n] = strtoull(start, &end, 10);
        if (errno)
            return err_set(err, SL_IO, "a CPU counter is out of range");
    }
    /* user nice system idle are in every kernel; the rest arrived later. */
    if (n < 4)
        return err_set(err, SL_IO,
                       "the \"cpu\" line has %d counters, expected at least 4", n);
    uint64_t idle = v[3] + v[4]; /* idle + iowait */
    for (int i = 0; i < 8; i++)
        out->total += v[i];
    out->busy = out->total - idle;
    return SL_OK;
}

/* The value in kB of "Name:   123 kB" in meminfo text; 0 when absent. */
static int meminfo_field(const char *text, const char *name, uint64_t *kb)
{
    size_t len = strlen(name);
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, name, len) == 0 && p[len] == ':') {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p + len + 1, &end, 10);
            if (errno || end == p + len + 1)
                return 0;
            *kb = v;
            return 1;
        }
    }
    return 0;
}

sl_code hoststat_parse_meminfo(const char *text, hoststat_mem *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t total, avail, free_kb, buffers = 0, cached = 0;
    if (!meminfo_field(text, "MemTotal", &total))
        return err_set(err, SL_IO, "no \"MemTotal\" in the memory figures");
    if (!meminfo_field(text, "MemAvailable", &avail)) {
        /* Kernels before 3.14: what is free plus the caches it can drop. */
        if (!meminfo_field(text, "MemFree", &free_kb))
            return err_set(
                err, SL_IO,
                "neither \"MemAvailable\" nor \"MemFree\" in the memory figures");
        meminfo_field(text, "Buffers", &buffers);
        meminfo_field(text, "Cached", &cached);
        avail = free_kb + buffers + cached;
    }
    if (avail > total)
        avail = total;
    out->total_bytes = total * 1024;
    out->available_bytes = avail * 1024;
    return SL_OK;
}

sl_code hoststat_parse_statvfs(const char *text, hoststat_disk *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    static const char *const names[4] = {"frsize", "blocks", "bfree", "bavail"};
    uint64_t v[4];
    for (int i = 0; i < 4; i++) {
        const char *p = text;
        size_t len = strlen(names[i]);
        while (p && !(strncmp(p, names[i], len) == 0 && p[len] == ' ')) {
            p = strchr(p, '\n');
            if (p)
                p++;
        }
        char *end = NULL;
        if (p) {
            errno = 0;
            v[i] = strtoull(p + len, &end, 10);
        }
        if (!p || errno || end == p + len)
            return err_set(err, SL_IO, "no \"%s N\" line in the statvfs figures",
                           names[i]);
    }
    if (v[2] > v[1] || v[3] > v[2])
        return err_set(err, SL_IO, "statvfs figures need bavail <= bfree <= blocks");
    out->total_bytes = v[0] * v[1];
    out->used_bytes = v[0] * (v[1] - v[2]);
    out->avail_bytes = v[0] * v[3];
    return SL_OK;
}

/* ---- arithmetic ------------------------------------------------------------ */

double hoststat_cpu_pct(const hoststat_cpu *before, const hoststat_cpu *after)
{
    if (after->total <= before->total || after->busy < before->busy)
        return -1;
    uint64_t dt = after->total - before->total;
    uint64_t db = after->busy - before->busy;
    if (db > dt)
        return -1;
    return 100.0 * (double)db / (double)dt;
}

double hoststat_mem_pct(const hoststat_mem *m)
{
    if (!m->total_bytes)
        return -1;
    return 100.0 * (double)(m->total_bytes - m->available_bytes) / (double)m->total_bytes;
}

double hoststat_disk_pct(const hoststat_disk *d)
{
    uint64_t base = d->used_bytes + d->avail_bytes;
    if (!base)
        return -1;
    return 100.0 * (double)d->used_bytes / (double)base;
}

/* ---- readers --------------------------------------------------------------- */

/* Reads a whole /proc (or fixture) file; /proc files report size 0, so read
 * until EOF, bounded. */
static sl_code read_text(const char *path, char **out, sl_err *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, SL_IO, "cannot read %s: %s", path, strerror(errno));
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 && b.len < PROC_TEXT_MAX)
        buf_append(&b, chunk, n);
    int failed = ferror(fp);
    fclose(fp);
    if (failed) {
        buf_free(&b);
        return err_set(err, SL_IO, "cannot read %s", path);
    }
    buf_append_char(&b, '\0');
    *out = buf_steal(&b);
    return SL_OK;
}

/* /proc/NAME, or the fixture's file of that name. */
static char *source_path(const char *name)
{
    const char *fx = hoststat_fixture_dir();
    return fx ? paths_join(fx, name) : sl_asprintf("/proc/%s", name);
}

static sl_code read_cpu_file(const char *name, hoststat_cpu *out, sl_err *err)
{
    char *path = source_path(name);
    char *text = NULL;
    sl_code c = read_text(path, &text, err);
    if (c == SL_OK && (c = hoststat_parse_cpu(text, out, err)) != SL_OK)
        err_wrap(err, "%s", path);
    free(text);
    free(path);
    return c;
}

sl_code hoststat_read_cpu(hoststat_cpu *out, sl_err *err)
{
    return read_cpu_file("stat", out, err);
}

sl_code hoststat_cpu_first(hoststat_cpu *before, hoststat_cpu *after, int wait_ms,
                           sl_err *err)
{
    if (hoststat_fixture_dir()) {
        sl_code c = read_cpu_file("stat.prev", before, err);
        return c == SL_OK ? read_cpu_file("stat", after, err) : c;
    }
    sl_code c = hoststat_read_cpu(before, err);
    if (c != SL_OK)
        return c;
    if (wait_ms > 0) {
        struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    return hoststat_read_cpu(after, err);
}

sl_code hoststat_read_mem(hoststat_mem *out, sl_err *err)
{
    char *path = source_path("meminfo");
    char *text = NULL;
    sl_code c = read_text(path, &text, err);
    if (c == SL_OK && (c = hoststat_parse_meminfo(text, out, err)) != SL_OK)
        err_wrap(err, "%s", path);
    free(text);
    free(path);
    return c;
}

sl_code hoststat_read_disk(const char *path, hoststat_disk *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    struct statvfs sv;
    /* Called even with the fixture: a path that is not there must fail. */
    if (statvfs(path, &sv) != 0)
        return err_set(err, SL_IO, "cannot read the filesystem of %s: %s", path,
                       strerror(errno));
    const char *fx = hoststat_fixture_dir();
    if (fx) {
        char *fpath = paths_join(fx, "statvfs");
        char *text = NULL;
        sl_code c = read_text(fpath, &text, err);
        if (c == SL_OK && (c = hoststat_parse_statvfs(text, out, err)) != SL_OK)
            err_wrap(err, "%s", fpath);
        free(text);
        free(fpath);
        return c;
    }
    uint64_t unit = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    out->total_bytes = (uint64_t)sv.f_blocks * unit;
    out->used_bytes = (uint64_t)(sv.f_blocks - sv.f_bfree) * unit;
    out->avail_bytes = (uint64_t)sv.f_bavail * unit;
    return SL_OK;
}
