/* The console's parts on their own: theme files, the action table and key
 * names, the line editor, the worker, formatting, and the curses module's
 * clipping of UTF-8 text on a virtual screen. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/actions.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/prompt.h"
#include "tui/theme.h"
#include "tui/worker.h"

static void test_theme_parse_ok(void **state)
{
    (void)state;
    theme t;
    sl_err err;
    assert_int_equal(theme_parse("# comment\n\nnormal = white black\n"
                                 "selection = black bright-cyan bold reverse # trailing\n"
                                 "header=green default underline\n"
                                 "dim = 244 default dim\n",
                                 "/x/mine.theme", &t, &err),
                     SL_OK);
    assert_string_equal(t.name, "mine");
    assert_int_equal(t.el[EL_NORMAL].fg, 7);
    assert_int_equal(t.el[EL_NORMAL].bg, 0);
    assert_int_equal(t.el[EL_SELECTION].bg, 14);
    assert_int_equal(t.el[EL_SELECTION].attrs, THEME_BOLD | THEME_REVERSE);
    assert_int_equal(t.el[EL_HEADER].fg, 2);
    assert_int_equal(t.el[EL_HEADER].bg, THEME_COLOR_DEFAULT);
    assert_int_equal(t.el[EL_DIM].fg, 244);
    /* Elements left out look like normal. */
    assert_int_equal(t.el[EL_STATUS].fg, 7);
    assert_int_equal(t.el[EL_STATUS].attrs, 0);
}

static void expect_theme_error(const char *text, const char *where, const char *what)
{
    theme t;
    sl_err err;
    assert_int_equal(theme_parse(text, "t.theme", &t, &err), SL_THEME_INVALID);
    if (!strstr(err.msg, where) || !strstr(err.msg, what))
        fail_msg("error '%s' should name '%s' and '%s'", err.msg, where, what);
}

static void test_theme_parse_errors(void **state)
{
    (void)state;
    expect_theme_error("normal = default default\nbogus = red blue\n", "t.theme:2",
                       "bogus");
    expect_theme_error("\n\n\nheader = red\n", "t.theme:4", "header");
    expect_theme_error("header = red purple\n", "t.theme:1", "purple");
    expect_theme_error("header = red blue blink\n", "t.theme:1", "blink");
    expect_theme_error("header = 256 blue\n", "t.theme:1", "256");
    expect_theme_error("header red blue\n", "t.theme:1", "element = fg bg");
    expect_theme_error("header = red blue\nheader = red blue\n", "t.theme:2", "twice");
}

static void test_theme_files_of_the_tree(void **state)
{
    (void)state;
    const char *src = getenv("SLUICE_SOURCE_DIR");
    assert_non_null(src);
    char *dir = sl_asprintf("%s/themes", src);
    setenv("SLUICE_THEMES_DIR", dir, 1);
    static const char *const names[] = {"dark", "light", "high-contrast", "monochrome"};
    for (size_t i = 0; i < 4; i++) {
        theme t;
        sl_err err;
        if (theme_load(names[i], &t, &err) != SL_OK)
            fail_msg("theme %s: %s", names[i], err.msg);
        assert_string_equal(t.name, names[i]);
        /* Each shipped theme sets every element explicitly. */
        char *path = sl_asprintf("%s/%s.theme", dir, names[i]);
        char *text = tu_read_file(path);
        assert_non_null(text);
        for (int e = 0; e < EL_COUNT; e++) {
            char *needle = sl_asprintf("\n%s ", theme_elem_name((theme_elem)e));
            if (!strstr(text, needle))
                fail_msg("%s does not set %s", path, theme_elem_name((theme_elem)e));
            free(needle);
        }
        free(text);
        free(path);
    }
    /* Monochrome has no colour at all. */
    theme m;
    sl_err err;
    assert_int_equal(theme_load("monochrome", &m, &err), SL_OK);
    for (int e = 0; e < EL_COUNT; e++) {
        assert_int_equal(m.el[e].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(m.el[e].bg, THEME_COLOR_DEFAULT);
    }
    assert_int_equal(theme_load("../etc", &m, &err), SL_THEME_INVALID);
    assert_int_equal(theme_load("nosuch", &m, &err), SL_THEME_INVALID);
    assert_non_null(strstr(err.msg, "nosuch"));
    unsetenv("SLUICE_THEMES_DIR");
    free(dir);
}

static void test_theme_choose(void **state)
{
    (void)state;
    unsetenv("NO_COLOR");
    assert_string_equal(theme_choose(NULL, NULL), "dark");
    assert_string_equal(theme_choose(NULL, "light"), "light");
    assert_string_equal(theme_choose("high-contrast", "light"), "high-contrast");
    setenv("NO_COLOR", "yes", 1);
    assert_string_equal(theme_choose("high-contrast", "light"), "monochrome");
    setenv("NO_COLOR", "", 1);
    assert_string_equal(theme_choose(NULL, "light"), "light");
    unsetenv("NO_COLOR");
    assert_int_equal(theme_banner_elem("red"), EL_BANNER_RED);
    assert_int_equal(theme_banner_elem("yellow"), EL_BANNER_YELLOW);
    assert_int_equal(theme_banner_elem(NULL), EL_BANNER_BLUE);
}

static void test_action_table(void **state)
{
    (void)state;
    size_t n;
    const action_desc *t = actions_table(&n);
    assert_int_equal(n, ACT_COUNT);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t[i].id, (action_id)i);
        assert_ptr_equal(actions_find(t[i].name), &t[i]);
        assert_true(strlen(t[i].help) > 0);
        /* Every key name parses and no key is bound twice. */
        char keys[64];
        snprintf(keys, sizeof keys, "%s", t[i].keys);
        char *save = NULL;
        for (char *k = strtok_r(keys, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
            int code = actions_key_parse(k);
            if (code < 0)
                fail_msg("action %s: key '%s' does not parse", t[i].name, k);
            assert_int_equal(actions_for_key(code, 0), t[i].id);
        }
        if ((t[i].flags & ACT_ARG) && !*t[i].args)
            fail_msg("action %s takes an argument but says not which", t[i].name);
    }
    assert_null(actions_find("nope"));
    assert_int_equal(actions_for_key('Q', 0), ACT_COUNT);
    /* The actions the brief names exist. */
    static const char *const needed[] = {
        "quit",  "folders", "tables", "audit", "help", "dump", "note", "filter", "verify",
        "theme", "down",    "enter",  "view",  "key",  "type", "wait", "resize"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!actions_find(needed[i]))
            fail_msg("no action '%s'", needed[i]);
}

static void test_read_only_filter(void **state)
{
    (void)state;
    action_desc fake = {ACT_COUNT, "restore", "R", GROUP_CONSOLE, ACT_MUTATES, "", "x"};
    assert_false(actions_available(&fake, 1));
    assert_true(actions_available(&fake, 0));
    /* note only writes the audit log: offered in read-only mode. */
    assert_true(actions_available(actions_find("note"), 1));
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    actions_print(mem, 1);
    fclose(mem);
    size_t n;
    const action_desc *t = actions_table(&n);
    for (size_t i = 0; i < n; i++)
        if (actions_available(&t[i], 1))
            assert_non_null(strstr(buf, t[i].name));
    free(buf);
}

static void test_key_names(void **state)
{
    (void)state;
    assert_int_equal(actions_key_parse("j"), 'j');
    assert_int_equal(actions_key_parse("Enter"), CRT_KEY_ENTER);
    assert_int_equal(actions_key_parse("Esc"), CRT_KEY_ESC);
    assert_int_equal(actions_key_parse("S-Tab"), CRT_KEY_BTAB);
    assert_int_equal(actions_key_parse("C-l"), 12);
    assert_int_equal(actions_key_parse("é"), 0xE9);
    assert_int_equal(actions_key_parse("jj"), -1);
    assert_int_equal(actions_key_parse("C-"), -1);
    assert_int_equal(actions_key_parse(""), -1);
    static const char *const names[] = {"j",    "Enter", "Esc", "Tab", "S-Tab",
                                        "PgDn", "C-l",   "?",   "F1",  "é"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char out[16];
        actions_key_name(actions_key_parse(names[i]), out, sizeof out);
        assert_string_equal(out, names[i]);
    }
}

static void type_into(tui_prompt *p, const char *text)
{
    for (const char *c = text; *c; c++)
        prompt_key(p, (unsigned char)*c);
}

static void test_prompt_editing(void **state)
{
    (void)state;
    tui_prompt p;
    memset(&p, 0, sizeof p);
    char out[256];
    prompt_start(&p, ":", "");
    type_into(&p, "note hello");
    prompt_key(&p, CRT_KEY_LEFT);
    prompt_key(&p, CRT_KEY_LEFT);
    prompt_key(&p, CRT_KEY_BACKSPACE);
    prompt_key(&p, 'L');
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "note heLlo");
    prompt_key(&p, CRT_KEY_HOME);
    prompt_key(&p, CRT_KEY_DELETE);
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "ote heLlo");
    prompt_key(&p, CRT_KEY_END);
    prompt_key(&p, CRT_CTRL('w'));
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "ote ");
    prompt_key(&p, 0x65E5); /* 日 */
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "ote 日");
    assert_int_equal(prompt_key(&p, CRT_KEY_ENTER), PROMPT_ACCEPT);
    prompt_history_add(&p, out);
    prompt_start(&p, ":", "");
    assert_int_equal(prompt_key(&p, CRT_KEY_UP), PROMPT_EDITED);
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "ote 日");
    prompt_key(&p, CRT_CTRL('u'));
    prompt_text(&p, out, sizeof out);
    assert_string_equal(out, "");
    assert_int_equal(prompt_key(&p, CRT_KEY_ESC), PROMPT_CANCEL);
    prompt_free(&p);
}

typedef struct count_job {
    tui_job base;
    int *counter;
    int value;
} count_job;

static void count_run(tui_job *job, session *sess)
{
    (void)sess;
    count_job *j = (count_job *)job;
    j->value = ++*j->counter; /* only the worker thread touches it */
}

static void count_free(tui_job *job)
{
    free(job);
}

static void test_worker_runs_in_order(void **state)
{
    (void)state;
    tui_worker *w = NULL;
    sl_err err;
    assert_int_equal(worker_start(NULL, &w, &err), SL_OK);
    int counter = 0;
    for (int i = 0; i < 20; i++) {
        count_job *j = sl_calloc(1, sizeof *j);
        j->base.run = count_run;
        j->base.free = count_free;
        j->base.kind = i;
        j->counter = &counter;
        worker_post(w, &j->base);
    }
    worker_wait_idle(w);
    assert_int_equal(worker_busy(w), 0);
    int seen = 0;
    for (tui_job *job = worker_take_done(w); job;) {
        tui_job *next = job->next;
        count_job *j = (count_job *)job;
        assert_int_equal(job->kind, seen);
        assert_int_equal(j->value, seen + 1);
        seen++;
        job->free(job);
        job = next;
    }
    assert_int_equal(seen, 20);
    assert_null(worker_take_done(w));
    /* Jobs still queued or finished but not taken are freed by stop. */
    for (int i = 0; i < 5; i++) {
        count_job *j = sl_calloc(1, sizeof *j);
        j->base.run = count_run;
        j->base.free = count_free;
        j->counter = &counter;
        worker_post(w, &j->base);
    }
    worker_stop(w);
}

static void test_fmt(void **state)
{
    (void)state;
    char out[64];
    fmt_count(1234567, out, sizeof out);
    assert_string_equal(out, "1,234,567");
    fmt_count(12, out, sizeof out);
    assert_string_equal(out, "12");
    fmt_count(-1, out, sizeof out);
    assert_string_equal(out, "unknown");
    fmt_bytes(512, out, sizeof out);
    assert_string_equal(out, "512 B");
    fmt_bytes(2560, out, sizeof out);
    assert_string_equal(out, "2.5 KiB");
    fmt_bytes(3u * 1024 * 1024, out, sizeof out);
    assert_string_equal(out, "3.0 MiB");
    fmt_time(1700000000000, out, sizeof out);
    assert_string_equal(out, "2023-11-14 22:13:20");
    fmt_time_short(1700000000000, out, sizeof out);
    assert_string_equal(out, "2023-11-14 22:13");
    fmt_human(999, out, sizeof out);
    assert_string_equal(out, "999");
    fmt_human(1234, out, sizeof out);
    assert_string_equal(out, "1.2 k");
    fmt_human(34600, out, sizeof out);
    assert_string_equal(out, "35 k");
    fmt_human(3400000, out, sizeof out);
    assert_string_equal(out, "3.4 M");
    fmt_human(999999, out, sizeof out);
    assert_string_equal(out, "1.0 M");
    fmt_age(1000, 43000, out, sizeof out);
    assert_string_equal(out, "42s ago");
    fmt_age(0, 3 * 3600000 + 7 * 60000, out, sizeof out);
    assert_string_equal(out, "3h07m ago");
    fmt_age(0, 2 * 86400000LL + 4 * 3600000, out, sizeof out);
    assert_string_equal(out, "2d04h ago");
    fmt_age(-1, 0, out, sizeof out);
    assert_string_equal(out, "never");
    fmt_duration(850, out, sizeof out);
    assert_string_equal(out, "850ms");
    fmt_duration(185000, out, sizeof out);
    assert_string_equal(out, "3m05s");
    /* Middle ellipsis keeps both ends; counted in characters, not bytes. */
    fmt_middle("incoming/1700000000/part-0.jsonl", 16, out, sizeof out);
    assert_string_equal(out, "incoming…0.jsonl");
    fmt_middle("zürich-東京-lake", 9, out, sizeof out);
    assert_string_equal(out, "züri…lake");
    fmt_middle("short", 16, out, sizeof out);
    assert_string_equal(out, "short");
}

/* User bindings win: a key bound in the config leaves its default action;
 * bad names change nothing. */
static void test_keymap(void **state)
{
    (void)state;
    action_keymap *m = keymap_new();
    sl_err err = {0};
    assert_int_equal(keymap_lookup(m, 'x', 0), ACT_RUN);
    assert_int_equal(keymap_bind(m, "skip", "x C-s", &err), SL_OK);
    assert_int_equal(keymap_lookup(m, 'x', 0), ACT_SKIP);
    assert_int_equal(keymap_lookup(m, CRT_CTRL('s'), 0), ACT_SKIP);
    assert_int_equal(keymap_lookup(m, 'S', 0), ACT_COUNT); /* skip's default is gone */
    assert_string_equal(keymap_keys(m, ACT_RUN), "");
    assert_string_equal(keymap_keys(m, ACT_SKIP), "x C-s");
    /* Read-only drops mutating actions, user-bound or not. */
    assert_int_equal(keymap_lookup(m, 'x', 1), ACT_COUNT);
    assert_int_equal(keymap_bind(m, "nope", "y", &err), SL_CONFIG_INVALID);
    assert_non_null(strstr(err.msg, "nope"));
    assert_int_equal(keymap_bind(m, "retry", "t NotAKey", &err), SL_CONFIG_INVALID);
    assert_non_null(strstr(err.msg, "NotAKey"));
    assert_int_equal(keymap_lookup(m, 't', 0), ACT_RETRY); /* unchanged */
    assert_int_equal(keymap_bind(m, "resize", "y", &err), SL_CONFIG_INVALID);
    assert_int_equal(keymap_bind(m, "retry", "", &err), SL_OK);
    assert_int_equal(keymap_lookup(m, 't', 0), ACT_COUNT);
    keymap_free(m);
    /* Without a map: the table's defaults. */
    assert_string_equal(keymap_keys(NULL, ACT_SKIP), "S");
}

static void test_crt_clip_and_dump(void **state)
{
    (void)state;
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char *dir = sl_asprintf("%s/themes", src);
    setenv("SLUICE_THEMES_DIR", dir, 1);
    theme t;
    sl_err err;
    assert_int_equal(theme_load("dark", &t, &err), SL_OK);
    assert_int_equal(crt_open_virtual(5, 20, &t, &err), SL_OK);
    int rows, cols;
    crt_size(&rows, &cols);
    assert_int_equal(rows, 5);
    assert_int_equal(cols, 20);
    crt_erase();
    assert_int_equal(crt_put(0, 0, 20, EL_NORMAL, "short"), 5);
    /* Too long: cut with an ellipsis in the last cell. */
    assert_int_equal(crt_put(1, 0, 10, EL_NORMAL, "abcdefghijklmnop"), 10);
    /* Wide characters take two cells and are never split. */
    assert_int_equal(crt_text_width("日本語"), 6);
    assert_int_equal(crt_put(2, 0, 6, EL_NORMAL, "日本語x"), 5);
    assert_int_equal(crt_put_right(3, 0, 20, EL_NORMAL, "right"), 5);
    /* Control characters are shown escaped, never sent to the terminal. */
    crt_put(4, 0, 20, EL_NORMAL, "t\there\x1b[2J\x7f\xc2\x9b");
    char *dump = crt_dump_text();
    assert_string_equal(dump, "short\n"
                              "abcdefghi…\n"
                              "日本…\n"
                              "               right\n"
                              "t^Ihere^[[2J^?\\x9b\n");
    free(dump);
    assert_int_equal(crt_text_width("a\x1b"), 3);
    crt_resize(3, 30);
    crt_size(&rows, &cols);
    assert_int_equal(rows, 3);
    assert_int_equal(cols, 30);
    crt_close();
    unsetenv("SLUICE_THEMES_DIR");
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theme_parse_ok),
        cmocka_unit_test(test_theme_parse_errors),
        cmocka_unit_test(test_theme_files_of_the_tree),
        cmocka_unit_test(test_theme_choose),
        cmocka_unit_test(test_action_table),
        cmocka_unit_test(test_read_only_filter),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_prompt_editing),
        cmocka_unit_test(test_worker_runs_in_order),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test(test_keymap),
        cmocka_unit_test(test_crt_clip_and_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
