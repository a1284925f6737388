/* Every view of the console on the demo lake, at 80x24 and 132x43, in the
 * dark and the monochrome theme: the text of the screen (the same in both
 * themes) and its look (colours and attributes, run by run, which is what
 * a theme changes) against tests/tui/expected/views/. The clock is pinned
 * (SLUICE_FAKE_NOW_MS) and the host figures of Health come from fixture
 * files, so every dump is stable. SLUICE_TUI_UPDATE_EXPECTED=1 rewrites
 * the expected files (review the diff). */
#include "testutil.h"
#include "tuitest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/demo.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define NOW_MS 1700300000000LL
#define NOW_TEXT "1700300000000"

typedef struct world {
    char *tmp, *dir, *state;
} world;

static world W;

/* How a view is reached: a tab by `view NAME`, the others by their action. */
static const struct {
    const char *name;
    const char *open;
} views[] = {
    {"overview", "view overview"},   {"folders", "view folders"},
    {"runs", "view runs"},           {"tables", "view tables"},
    {"audit", "view audit"},         {"health", "view health"},
    {"runbooks", "view runbooks"},   {"help", "view help"},
    {"cmdlog", "view folders\nlog"}, {"live", "view overview\nlive"},
    {"keys", "view folders\nhelp"},
};

static const struct {
    int rows, cols;
} sizes[] = {{24, 80}, {43, 132}};

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    W.tmp = tu_mkdtemp("tuiviews");
    W.state = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", W.state, 1);
    W.dir = paths_join(W.tmp, "demo");
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    sl_err err = {0};
    json_t *summary = NULL;
    if (demo_create(&o, &summary, &err) != SL_OK) {
        fprintf(stderr, "demo_create: %s\n", err.msg);
        return -1;
    }
    json_decref(summary);
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char *themes = sl_asprintf("%s/themes", src);
    setenv("SLUICE_THEMES_DIR", themes, 1);
    free(themes);
    /* Host figures of Health: CPU 30 %, memory 75 %, disk 90 % of the lake's
     * filesystem (the default thresholds mark memory and disk). */
    char *host = paths_join(W.tmp, "hostfx");
    tu_write_file(host, "stat.prev", "cpu  1000 50 300 8000 200 10 40 0 0 0\n");
    tu_write_file(host, "stat", "cpu  1100 50 320 8260 220 10 40 0 0 0\n");
    tu_write_file(host, "meminfo",
                  "MemTotal:       16777216 kB\nMemAvailable:    4194304 kB\n");
    tu_write_file(host, "statvfs",
                  "frsize 4096\nblocks 26214400\nbfree 2621440\nbavail 2621440\n");
    setenv("SLUICE_HOSTSTAT_FIXTURE", host, 1);
    free(host);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(W.tmp);
    free(W.tmp);
    free(W.dir);
    free(W.state);
    unsetenv("SLUICE_FAKE_NOW_MS");
    unsetenv("SLUICE_THEMES_DIR");
    unsetenv("SLUICE_HOSTSTAT_FIXTURE");
    return 0;
}

static int hexc(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int wordc(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Run ids are random: a word of 16 hex digits, or a hex piece of one cut
 * by the middle ellipsis ("2a88…db96"), becomes x's of the same length. */
static void mask_run_ids(char *t)
{
    static const char ell[] = "…";
    size_t el = strlen(ell);
    for (char *p = t; *p;) {
        if (!hexc(*p) || (p > t && wordc(p[-1]))) {
            p++;
            continue;
        }
        char *q = p;
        while (hexc(*q))
            q++;
        size_t n = (size_t)(q - p);
        int word_end = !wordc(*q);
        int cut =
            (strncmp(q, ell, el) == 0) || (p >= t + el && strncmp(p - el, ell, el) == 0);
        if (word_end && (n == 16 || (cut && n >= 3)))
            memset(p, 'x', n);
        p = q;
    }
}

/* The world's random folder suffix, also where a path is cut short. */
static void mask_world(char *t)
{
    static const char tag[] = "tuiviews-";
    for (char *p = strstr(t, tag); p; p = strstr(p + 1, tag)) {
        char *q = p + strlen(tag);
        for (int i = 0; i < 6 && wordc(q[i]); i++)
            q[i] = '#';
    }
}

/* text with every theme name as "THEME" (the screen may name the theme). */
static char *theme_blind(const char *text)
{
    static const char *const names[] = {"monochrome", "dark"};
    sl_buf b = {0};
    for (const char *p = text; *p;) {
        size_t i = 0;
        while (i < 2 && strncmp(p, names[i], strlen(names[i])) != 0)
            i++;
        if (i < 2) {
            buf_append_str(&b, "THEME");
            p += strlen(names[i]);
        } else {
            buf_append_char(&b, *p++);
        }
    }
    return b.data ? buf_steal(&b) : sl_strdup("");
}

/* dir/name compared with the expected file views/name (rewritten first
 * under SLUICE_TUI_UPDATE_EXPECTED=1). */
static void expect_file(const char *name, const char *got)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char *path = sl_asprintf("%s/tests/tui/expected/views/%s", src, name);
    const char *update = getenv("SLUICE_TUI_UPDATE_EXPECTED");
    if (update && *update == '1') {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(got, fp);
        fclose(fp);
    }
    char *want = tu_read_file(path);
    if (!want)
        fail_msg("missing expected file %s (SLUICE_TUI_UPDATE_EXPECTED=1 writes it)",
                 path);
    if (strcmp(want, got) != 0) {
        tu_write_file("/tmp", "sluice-view-got.txt", got);
        char *cmd = sl_asprintf("diff '%s' /tmp/sluice-view-got.txt", path);
        char *out = NULL;
        tu_run(cmd, &out);
        fprintf(stderr, "%s", out ? out : "");
        free(out);
        free(cmd);
        fail_msg("%s differs from %s (diff above)", name, path);
    }
    free(want);
    free(path);
}

static void test_every_view(void **state)
{
    (void)state;
    static const char *const themes[] = {"dark", "monochrome"};
    for (size_t v = 0; v < sizeof views / sizeof views[0]; v++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            char *text_dark = NULL;
            for (size_t t = 0; t < 2; t++) {
                char *script = sl_asprintf(
                    "%s\nwait\ndump @/screen.txt\ndump-style @/screen.style\n",
                    views[v].open);
                /* A fresh audit log per screen: the Audit view shows this
                 * session's own rows only, the same in both themes. */
                tu_rmtree(W.state);
                sl_err err = {0};
                sl_code rc = tt_run_script(W.dir, script, sizes[z].rows, sizes[z].cols,
                                           themes[t], &err);
                free(script);
                if (rc != SL_OK)
                    fail_msg("%s at %dx%d in %s: %s", views[v].name, sizes[z].cols,
                             sizes[z].rows, themes[t], err.msg);
                char *text = tt_read_dump(W.dir, "screen.txt");
                char *style = tt_read_dump(W.dir, "screen.style");
                assert_non_null(text);
                assert_non_null(style);
                mask_run_ids(text);
                mask_world(text);
                assert_null(strstr(text, "loading…"));
                assert_null(strstr(text, "being built"));
                char name[96];
                if (t == 0) {
                    snprintf(name, sizeof name, "%s-%dx%d.txt", views[v].name,
                             sizes[z].cols, sizes[z].rows);
                    expect_file(name, text);
                    text_dark = sl_strdup(text);
                } else {
                    /* Nothing may change with the theme but the look (and
                     * the theme's name where the screen shows it). */
                    char *a = theme_blind(text_dark), *b = theme_blind(text);
                    int same = strcmp(a, b) == 0;
                    free(a);
                    free(b);
                    if (!same)
                        fail_msg("%s %dx%d: the text differs between themes beyond the "
                                 "theme's name",
                                 views[v].name, sizes[z].cols, sizes[z].rows);
                }
                snprintf(name, sizeof name, "%s-%dx%d-%s.style", views[v].name,
                         sizes[z].cols, sizes[z].rows, themes[t]);
                expect_file(name, style);
                free(text);
                free(style);
            }
            free(text_dark);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_view),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
