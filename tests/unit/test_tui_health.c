/* The Health view and the command log, as a user sees them: scripted
 * sessions on the demo lake (mid-incident: folders pending for hours) with
 * host figures pinned by SLUICE_HOSTSTAT_FIXTURE, an expired lease written
 * as a crashed holder leaves it, and thresholds from the test config; the
 * command log on a world with no pipelines, fed by audit notes.
 *
 * Dumps are compared with tests/tui/expected/ after masking what no test
 * can pin: durations measured by the monotonic clock (store latency, the
 * command log's Took column) and the demo's random run id. Set
 * SLUICE_TUI_UPDATE_EXPECTED=1 to rewrite the expected files. */
#include "testutil.h"
#include "tuitest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define NOW_MS 1700010000000LL
#define NOW_TEXT "1700010000000"

typedef struct world {
    char *dir; /* the demo (or plain) world: sluice.json, dumps, script */
    char *fixture;
} world;

static void env_common(world *w)
{
    char *state = paths_join(w->dir, "state");
    setenv("SLUICE_STATE_DIR", state, 1);
    free(state);
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
}

/* Host figures: CPU 30 % (120 busy ticks of 400), memory 75 %, disk 90 %. */
static void fixture_write(world *w)
{
    w->fixture = tu_mkdtemp("hostfx");
    tu_write_file(w->fixture, "stat.prev", "cpu  1000 50 300 8000 200 10 40 0 0 0\n");
    tu_write_file(w->fixture, "stat", "cpu  1100 50 320 8260 220 10 40 0 0 0\n");
    tu_write_file(w->fixture, "meminfo",
                  "MemTotal:       16777216 kB\nMemAvailable:    4194304 kB\n");
    tu_write_file(w->fixture, "statvfs",
                  "frsize 4096\nblocks 26214400\nbfree 2621440\nbavail 2621440\n");
    setenv("SLUICE_HOSTSTAT_FIXTURE", w->fixture, 1);
}

/* Adds the console thresholds to the demo's sluice.json: CPU over warn,
 * memory over crit, disk under both. */
static void thresholds_write(world *w)
{
    char *path = paths_join(w->dir, "sluice.json");
    json_error_t jerr;
    json_t *cfg = json_load_file(path, 0, &jerr);
    assert_non_null(cfg);
    json_t *th = json_pack("{s:[i,i], s:[i,i], s:[i,i]}", "cpu_pct", 20, 50, "mem_pct",
                           50, 70, "disk_pct", 95, 99);
    json_object_set_new(cfg, "console", json_pack("{s:o}", "thresholds", th));
    assert_int_equal(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
    json_decref(cfg);
    free(path);
}

static int setup_demo(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    w->dir = tu_mkdtemp("tuihealth");
    env_common(w);
    demo_opts o = {.dir = w->dir, .now_ms = NOW_MS, .operator_name = "tester"};
    json_t *summary = NULL;
    sl_err err = {0};
    sl_code c = demo_create(&o, &summary, &err);
    if (c != SL_OK)
        fail_msg("demo_create: %s %s", err_code_name(c), err.msg);
    json_decref(summary);
    /* A holder that crashed five minutes ago: its lease expired at now - 5 min. */
    tu_write_file(w->dir, "lake/_sluice/locks/orders.00000000000000999999",
                  "{\"owner\":\"bob\",\"host\":\"etl-7\",\"pid\":4242,"
                  "\"token\":\"t0k3n\",\"acquired_ms\":1700009640000,"
                  "\"expires_ms\":1700009700000,\"generation\":999999}");
    thresholds_write(w);
    fixture_write(w);
    *state = w;
    return 0;
}

static int setup_plain(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    w->dir = tu_mkdtemp("tuicmdlog");
    env_common(w);
    tu_write_file(w->dir, "incoming/README.txt", "drop folders here\n");
    tu_write_file(w->dir, "lake/README.txt", "tables live here\n");
    tu_write_file(
        w->dir, "sluice.json",
        "{\"environment\": \"dev\", \"source\": \"incoming\", \"lake\": \"lake\"}\n");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (!getenv("SLUICE_KEEP_WORLD")) {
        tu_rmtree(w->dir);
        if (w->fixture)
            tu_rmtree(w->fixture);
    }
    unsetenv("SLUICE_HOSTSTAT_FIXTURE");
    free(w->dir);
    free(w->fixture);
    free(w);
    return 0;
}

static void run_ok(world *w, const char *script, int rows, int cols)
{
    sl_err err = {0};
    sl_code c = tt_run_script(w->dir, script, rows, cols, NULL, &err);
    if (c != SL_OK)
        fail_msg("script failed: %s %s", err_code_name(c), err.msg);
}

static char *dump(world *w, const char *name)
{
    char *text = tt_read_dump(w->dir, name);
    if (!text)
        fail_msg("no dump %s", name);
    return text;
}

static void expect_in(const char *screen, const char *needle)
{
    if (!strstr(screen, needle))
        fail_msg("'%s' is not on the screen:\n%s", needle, screen);
}

/* Rewrites dir/name with every line containing one of `after` cut right after
 * it and ended with "<measured>": what follows is clock-dependent. */
static void mask_after(world *w, const char *name, const char *const *after, size_t n)
{
    char *path = paths_join(w->dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    sl_buf out = {0};
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t keep = len;
        for (size_t k = 0; k < n; k++) {
            char *hit = strstr(line, after[k]);
            if (hit && hit < line + len) {
                keep = (size_t)(hit - line) + strlen(after[k]);
                break;
            }
        }
        buf_append(&out, line, keep);
        if (keep < len)
            buf_append_str(&out, "<measured>");
        buf_append_char(&out, '\n');
        line += len + (nl ? 1 : 0);
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fwrite(out.data, 1, out.len, fp);
    fclose(fp);
    buf_free(&out);
    free(text);
    free(path);
}

/* The demo's runs all finish at the pinned now and have random ids, so
 * which one is "last" (and its folder count) is not fixed. */
static const char *const health_masks[] = {"last 1 min  ", "last 5 min  ",
                                           "01:00 (0s ago) · "};

static void test_health_dumps(void **state)
{
    world *w = *state;
    run_ok(w, "view health\nwait\ndump @/health-80x24.txt\n", 24, 80);
    char *screen = dump(w, "health-80x24.txt");
    /* Thresholds of the test config, as markers next to the values. */
    expect_in(screen, "figures from SLUICE_HOSTSTAT_FIXTURE, not this host");
    expect_in(screen, "CPU       30.0 % ▲\n");
    expect_in(screen, "Memory    75.0 % ▲▲");
    expect_in(screen, "Disk      90.0 %    90.0 GiB of 100.0 GiB used");
    /* The demo: 8 folders pending since 12 hours (default lag 60/240 min). */
    expect_in(screen, "lag 12h00m ▲▲");
    expect_in(screen, "8 pending, oldest 1699966800");
    expect_in(screen, "lease bob@etl-7:4242 ▲ expired 2023-11-15 00:55 (5m ago)");
    expect_in(screen, "last good run 2023-11-15 01:00 (0s ago)");
    free(screen);
    mask_after(w, "health-80x24.txt", health_masks, 3);
    tt_expect_dump(w->dir, "health-80x24.txt", 24);

    run_ok(w, "view health\nwait\ndump @/health-132x43.txt\n", 43, 132);
    mask_after(w, "health-132x43.txt", health_masks, 3);
    tt_expect_dump(w->dir, "health-132x43.txt", 43);
}

/* The command log lists the store calls the Health view's load made, and
 * Enter shows one in full. */
static void test_cmdlog_lists_the_view_load(void **state)
{
    world *w = *state;
    run_ok(w,
           "view health\nwait\nlog\nfilter _sluice/locks/orders.\n"
           "dump @/locks.txt\nenter\ndump @/one.txt\n",
           43, 132);
    char *screen = dump(w, "locks.txt");
    expect_in(screen, "› Command log");
    expect_in(screen, "store.list");
    expect_in(screen, "/lake/_sluice/locks/orders.");
    free(screen);
    screen = dump(w, "one.txt");
    expect_in(screen, "Op:       store.list");
    expect_in(screen, "Target:   file:///tmp/");
    expect_in(screen, "lake/_sluice/locks/orders.");
    expect_in(screen, "Outcome:  ok");
    expect_in(screen, "Time:     2023-11-15T01:00:00.000Z");
    free(screen);
}

/* The Took column holds measured durations: masked in place (same width). */
static void mask_took(world *w, const char *name)
{
    char *path = paths_join(w->dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    char *hdr = strstr(text, "Took");
    assert_non_null(hdr);
    char *line0 = hdr;
    while (line0 > text && line0[-1] != '\n')
        line0--;
    size_t end = (size_t)(hdr - line0) + 4; /* right-aligned: the column ends here */
    size_t width = strstr(line0, "Time (UTC)") ? 8 : 7;
    for (char *line = strchr(hdr, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char *nl = strchr(line, '\n');
        if ((size_t)(nl - line) >= end &&
            strspn(line + end - width, "0123456789.ms ") >= width) {
            memset(line + end - width, ' ', width);
            memcpy(line + end - 2, "ms", 2);
            line[end - 3] = '#';
        }
    }
    tu_write_file(w->dir, name, text);
    free(text);
    free(path);
}

static void test_cmdlog_dumps(void **state)
{
    world *w = *state;
    run_ok(w,
           "note checked the disk alarm\nnote paged the storage team\nlog\n"
           "dump @/cmdlog-80x24.txt\nfirst\nenter\ndump @/cmdlog-entry-80x24.txt\n",
           24, 80);
    char *screen = dump(w, "cmdlog-80x24.txt");
    expect_in(screen, "audit.note");
    expect_in(screen, "session.open");
    expect_in(screen, "following");
    free(screen);
    screen = dump(w, "cmdlog-entry-80x24.txt");
    expect_in(screen, "Op:       session.open");
    free(screen);
    mask_took(w, "cmdlog-80x24.txt");
    tt_expect_dump(w->dir, "cmdlog-80x24.txt", 24);
    static const char *const took[] = {"Took:     "};
    mask_after(w, "cmdlog-entry-80x24.txt", took, 1);
    tt_expect_dump(w->dir, "cmdlog-entry-80x24.txt", 24);

    run_ok(
        w,
        "note checked the disk alarm\nlog\nfilter audit.note\ndump @/cmdlog-132x43.txt\n",
        43, 132);
    screen = dump(w, "cmdlog-132x43.txt");
    expect_in(screen, "/audit.note (1 of");
    free(screen);
    mask_took(w, "cmdlog-132x43.txt");
    tt_expect_dump(w->dir, "cmdlog-132x43.txt", 43);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_dumps, setup_demo, teardown),
        cmocka_unit_test_setup_teardown(test_cmdlog_lists_the_view_load, setup_demo,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cmdlog_dumps, setup_plain, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
