#ifndef SLUICE_UTIL_HOSTSTAT_H
#define SLUICE_UTIL_HOSTSTAT_H
/* Host figures for the console's Health view: CPU use from two readings of
 * /proc/stat, memory from /proc/meminfo, disk use of the filesystem holding
 * a path (statvfs). Errors are returned, never printed. The parsers take
 * text so tests feed them known content.
 *
 * Test hook, explicit: SLUICE_HOSTSTAT_FIXTURE=DIR makes the readers take
 * DIR/stat, DIR/meminfo and DIR/statvfs instead of /proc and statvfs(2)'s
 * numbers (DIR/statvfs: "frsize N", "blocks N", "bfree N", "bavail N" lines);
 * hoststat_cpu_first reads DIR/stat.prev as its first reading, without
 * waiting. A missing or malformed fixture file is an error like a missing
 * /proc file, and the disk reader still calls statvfs(2) on the path, so a
 * lake that is not there fails in tests too. hoststat_fixture_dir says when
 * the hook is on, so the console can say its figures are not the host's. */
#include <stdint.h>

#include "backend/util/err.h"

/* The aggregate "cpu" line of /proc/stat, in clock ticks since boot. */
typedef struct hoststat_cpu {
    uint64_t busy;  /* everything but idle and iowait */
    uint64_t total; /* user nice system idle iowait irq softirq steal */
} hoststat_cpu;

typedef struct hoststat_mem {
    uint64_t total_bytes;
    uint64_t available_bytes; /* MemAvailable, else MemFree + Buffers + Cached */
} hoststat_mem;

typedef struct hoststat_disk {
    uint64_t total_bytes;
    uint64_t used_bytes;  /* total - free */
    uint64_t avail_bytes; /* free to unprivileged users (what df shows) */
} hoststat_disk;

sl_code hoststat_parse_cpu(const char *text, hoststat_cpu *out, sl_err *err);
sl_code hoststat_parse_meminfo(const char *text, hoststat_mem *out, sl_err *err);
/* The fixture form of a statvfs result (see above). */
sl_code hoststat_parse_statvfs(const char *text, hoststat_disk *out, sl_err *err);

/* Busy share of the time between two readings, 0..100; -1 when no tick
 * passed or the counters went backwards (a reboot between readings). */
double hoststat_cpu_pct(const hoststat_cpu *before, const hoststat_cpu *after);
/* Used share, 0..100 (memory: total - available; disk as df: used over
 * used + avail); -1 when the totals are 0. */
double hoststat_mem_pct(const hoststat_mem *m);
double hoststat_disk_pct(const hoststat_disk *d);

sl_code hoststat_read_cpu(hoststat_cpu *out, sl_err *err);
/* Two readings wait_ms apart, for a first percentage (with the fixture:
 * DIR/stat.prev then DIR/stat, no wait). */
sl_code hoststat_cpu_first(hoststat_cpu *before, hoststat_cpu *after, int wait_ms,
                           sl_err *err);
sl_code hoststat_read_mem(hoststat_mem *out, sl_err *err);
/* The filesystem holding path (a local directory or file). */
sl_code hoststat_read_disk(const char *path, hoststat_disk *out, sl_err *err);

/* The fixture directory when SLUICE_HOSTSTAT_FIXTURE is set, else NULL. */
const char *hoststat_fixture_dir(void);

#endif
