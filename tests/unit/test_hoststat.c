/* Host figures: the /proc parsers on known text with exact numbers, the
 * percentages, the fixture hook (SLUICE_HOSTSTAT_FIXTURE) and its failures,
 * and the real readers on this host (sane ranges only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/hoststat.h"
#include "testutil.h"

static const char *const stat_a = "cpu  1000 50 300 8000 200 10 40 0 0 0\n"
                                  "cpu0 500 25 150 4000 100 5 20 0 0 0\n"
                                  "intr 12345 0 0\n"
                                  "ctxt 99\n";
/* 400 ticks later: 100 user, 20 system, 260 idle, 20 iowait. */
static const char *const stat_b = "cpu  1100 50 320 8260 220 10 40 0 0 0\n"
                                  "cpu0 550 25 160 4130 110 5 20 0 0 0\n";

static void test_parse_cpu(void **state)
{
    (void)state;
    hoststat_cpu a, b;
    sl_err err = {0};
    assert_int_equal(hoststat_parse_cpu(stat_a, &a, &err), SL_OK);
    assert_int_equal(a.total, 1000 + 50 + 300 + 8000 + 200 + 10 + 40);
    assert_int_equal(a.busy, 1000 + 50 + 300 + 10 + 40);
    assert_int_equal(hoststat_parse_cpu(stat_b, &b, &err), SL_OK);
    assert_true(hoststat_cpu_pct(&a, &b) == 30.0); /* 120 busy of 400 */
    assert_true(hoststat_cpu_pct(&a, &a) == -1);   /* no tick passed */
    assert_true(hoststat_cpu_pct(&b, &a) == -1);   /* backwards: a reboot */
    /* An old kernel's four counters. */
    assert_int_equal(hoststat_parse_cpu("cpu 1 2 3 4\n", &a, &err), SL_OK);
    assert_int_equal(a.total, 10);
    assert_int_equal(a.busy, 6);
    /* "cpu0" alone is not the aggregate line. */
    assert_int_equal(hoststat_parse_cpu("cpu0 1 2 3 4\n", &a, &err), SL_IO);
    assert_non_null(strstr(err.msg, "no \"cpu\" line"));
    assert_int_equal(hoststat_parse_cpu("cpu  1 2\n", &a, &err), SL_IO);
    assert_non_null(strstr(err.msg, "2 counters"));
}

static void test_parse_meminfo(void **state)
{
    (void)state;
    hoststat_mem m;
    sl_err err = {0};
    const char *text = "MemTotal:       16000000 kB\n"
                       "MemFree:         1000000 kB\n"
                       "MemAvailable:    4000000 kB\n"
                       "Buffers:          200000 kB\n"
                       "Cached:          2000000 kB\n";
    assert_int_equal(hoststat_parse_meminfo(text, &m, &err), SL_OK);
    assert_int_equal(m.total_bytes, 16000000ULL * 1024);
    assert_int_equal(m.available_bytes, 4000000ULL * 1024);
    assert_true(hoststat_mem_pct(&m) == 75.0);
    /* Without MemAvailable: free + buffers + cached. */
    const char *old =
        "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 350 kB\n";
    assert_int_equal(hoststat_parse_meminfo(old, &m, &err), SL_OK);
    assert_int_equal(m.available_bytes, 500ULL * 1024);
    assert_true(hoststat_mem_pct(&m) == 50.0);
    assert_int_equal(hoststat_parse_meminfo("MemFree: 1 kB\n", &m, &err), SL_IO);
    assert_non_null(strstr(err.msg, "MemTotal"));
    assert_int_equal(hoststat_parse_meminfo("MemTotal: 10 kB\n", &m, &err), SL_IO);
    m.total_bytes = 0;
    assert_true(hoststat_mem_pct(&m) == -1);
}

static void test_parse_statvfs(void **state)
{
    (void)state;
    hoststat_disk d;
    sl_err err = {0};
    assert_int_equal(hoststat_parse_statvfs(
                         "frsize 4096\nblocks 1000\nbfree 300\nbavail 200\n", &d, &err),
                     SL_OK);
    assert_int_equal(d.total_bytes, 4096ULL * 1000);
    assert_int_equal(d.used_bytes, 4096ULL * 700);
    assert_int_equal(d.avail_bytes, 4096ULL * 200);
    assert_true(hoststat_disk_pct(&d) ==
                700.0 * 100 / 900); /* as df: used / (used + avail) */
    assert_int_equal(
        hoststat_parse_statvfs("frsize 4096\nblocks 10\nbfree 3\n", &d, &err), SL_IO);
    assert_non_null(strstr(err.msg, "bavail"));
    assert_int_equal(
        hoststat_parse_statvfs("frsize 1\nblocks 10\nbfree 30\nbavail 3\n", &d, &err),
        SL_IO);
    memset(&d, 0, sizeof d);
    assert_true(hoststat_disk_pct(&d) == -1);
}

static void test_fixture_readers(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("hoststat");
    tu_write_file(dir, "stat.prev", stat_a);
    tu_write_file(dir, "stat", stat_b);
    tu_write_file(dir, "meminfo", "MemTotal: 2000 kB\nMemAvailable: 500 kB\n");
    tu_write_file(dir, "statvfs", "frsize 1024\nblocks 100\nbfree 10\nbavail 10\n");
    setenv("SLUICE_HOSTSTAT_FIXTURE", dir, 1);
    assert_string_equal(hoststat_fixture_dir(), dir);
    sl_err err = {0};
    hoststat_cpu a, b;
    assert_int_equal(hoststat_cpu_first(&a, &b, 60000, &err), SL_OK); /* no wait */
    assert_true(hoststat_cpu_pct(&a, &b) == 30.0);
    assert_int_equal(hoststat_read_cpu(&b, &err), SL_OK);
    assert_int_equal(b.total, 1100 + 50 + 320 + 8260 + 220 + 10 + 40);
    hoststat_mem m;
    assert_int_equal(hoststat_read_mem(&m, &err), SL_OK);
    assert_true(hoststat_mem_pct(&m) == 75.0);
    hoststat_disk d;
    assert_int_equal(hoststat_read_disk(dir, &d, &err), SL_OK);
    assert_int_equal(d.used_bytes, 90 * 1024);
    assert_true(hoststat_disk_pct(&d) == 90.0);
    /* The hook hides no real failure: a missing path still fails... */
    char *gone = sl_asprintf("%s/no-such-lake", dir);
    assert_int_equal(hoststat_read_disk(gone, &d, &err), SL_IO);
    assert_non_null(strstr(err.msg, "no-such-lake"));
    free(gone);
    /* ...and so does a missing or broken fixture file, naming it. */
    tu_write_file(dir, "meminfo", "nothing useful\n");
    assert_int_equal(hoststat_read_mem(&m, &err), SL_IO);
    assert_non_null(strstr(err.msg, "meminfo"));
    char *prev = sl_asprintf("%s/stat.prev", dir);
    remove(prev);
    free(prev);
    assert_int_equal(hoststat_cpu_first(&a, &b, 0, &err), SL_IO);
    assert_non_null(strstr(err.msg, "stat.prev"));
    unsetenv("SLUICE_HOSTSTAT_FIXTURE");
    assert_null(hoststat_fixture_dir());
    tu_rmtree(dir);
    free(dir);
}

static void test_real_host(void **state)
{
    (void)state;
    unsetenv("SLUICE_HOSTSTAT_FIXTURE");
    sl_err err = {0};
    hoststat_cpu a, b;
    assert_int_equal(hoststat_cpu_first(&a, &b, 20, &err), SL_OK);
    assert_true(b.total >= a.total);
    double pct = hoststat_cpu_pct(&a, &b);
    assert_true(pct == -1 || (pct >= 0 && pct <= 100));
    hoststat_mem m;
    assert_int_equal(hoststat_read_mem(&m, &err), SL_OK);
    assert_true(m.total_bytes > 0 && m.available_bytes <= m.total_bytes);
    hoststat_disk d;
    assert_int_equal(hoststat_read_disk("/", &d, &err), SL_OK);
    assert_true(d.total_bytes > 0 && d.used_bytes <= d.total_bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cpu),     cmocka_unit_test(test_parse_meminfo),
        cmocka_unit_test(test_parse_statvfs), cmocka_unit_test(test_fixture_readers),
        cmocka_unit_test(test_real_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
