/* The console as a user sees it: script mode on a virtual screen of a
 * pinned size and clock, screen dumps compared with tests/tui/expected/.
 * Set SLUICE_TUI_UPDATE_EXPECTED=1 to rewrite the expected files after a
 * deliberate change of the layout (then review the diff). */
#include "testutil.h"
#include "tuitest.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/ops/session.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/actions.h"
#include "tui/theme.h"
#include "tui/tui.h"

#define FAKE_NOW "1700010000000"

typedef struct world {
    char *dir;   /* /tmp/sltui-XXXXXX */
    char *state; /* dir/state */
} world;

static void set_mtime(const char *dir, const char *rel, time_t when)
{
    char *path = paths_join(dir, rel);
    struct timespec ts[2] = {{when, 0}, {when, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    free(path);
}

static void write_at(const char *dir, const char *rel, const char *text, time_t when)
{
    tu_write_file(dir, rel, text);
    set_mtime(dir, rel, when);
}

static const char *const commit0 =
    "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"CREATE TABLE\","
    "\"operationParameters\":{\"isManaged\":\"false\"},\"engineInfo\":\"hand-written/"
    "1.0\"}}\n"
    "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
    "{\"metaData\":{\"id\":\"0b5e-orders\",\"format\":{\"provider\":\"parquet\","
    "\"options\":{}},"
    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":"
    "\\\"id\\\","
    "\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\","
    "\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1700000000000}}\n";

static const char *const commit1 =
    "{\"commitInfo\":{\"timestamp\":1700000360000,\"operation\":\"WRITE\","
    "\"operationParameters\":{\"mode\":\"Append\"},\"userName\":\"alice\","
    "\"engineInfo\":\"hand-written/1.0\","
    "\"operationMetrics\":{\"numFiles\":\"1\",\"numOutputRows\":\"10\"}}}\n"
    "{\"add\":{\"path\":\"part-0001.parquet\",\"partitionValues\":{},\"size\":1024,"
    "\"modificationTime\":1700000360000,\"dataChange\":true,\"stats\":\"{"
    "\\\"numRecords\\\":10}\"}}\n";

static const char *const commit2 =
    "{\"commitInfo\":{\"timestamp\":1700000720000,\"operation\":\"WRITE\","
    "\"operationParameters\":{\"mode\":\"Append\"},\"userName\":\"alice\","
    "\"operationMetrics\":{\"numFiles\":\"1\",\"numOutputRows\":\"5\"}}}\n"
    "{\"add\":{\"path\":\"part-0002.parquet\",\"partitionValues\":{},\"size\":2048,"
    "\"modificationTime\":1700000720000,\"dataChange\":true,\"stats\":\"{"
    "\\\"numRecords\\\":5}\"}}\n";

static const char *const commit3 =
    "{\"commitInfo\":{\"timestamp\":1700001080000,\"operation\":\"DELETE\","
    "\"operationParameters\":{\"predicate\":\"[\\\"(id = 3)\\\"]\"},\"userName\":\"bob\","
    "\"operationMetrics\":{\"numRemovedFiles\":\"1\",\"numAddedFiles\":\"1\","
    "\"numDeletedRows\":\"3\"}}}\n"
    "{\"remove\":{\"path\":\"part-0001.parquet\",\"deletionTimestamp\":1700001080000,"
    "\"dataChange\":true,\"size\":1024}}\n"
    "{\"add\":{\"path\":\"part-0003.parquet\",\"partitionValues\":{},\"size\":512,"
    "\"modificationTime\":1700001080000,\"dataChange\":true,\"stats\":\"{"
    "\\\"numRecords\\\":7}\"}}\n";

static void world_build(world *w, int read_only)
{
    char tmpl[] = "/tmp/sltui-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    w->dir = sl_strdup(tmpl);
    w->state = paths_join(w->dir, "state");
    /* Source: three epoch folders, one non-epoch folder with a wide-char
     * name and a loose file; fixed mtimes keep the dumps stable. */
    write_at(w->dir, "incoming/1700000000/part-0.jsonl", "{\"id\":1}\n{\"id\":2}\n",
             1700000100);
    write_at(w->dir, "incoming/1700003600/part-0.jsonl", "{\"id\":3}\n", 1700003700);
    write_at(w->dir, "incoming/1700003600/part-1.jsonl", "{\"id\":4}\n{\"id\":5}\n",
             1700003800);
    write_at(w->dir, "incoming/1700007200/part-0.jsonl", "{\"id\":6}\n", 1700007300);
    write_at(w->dir, "incoming/日本-notes/readme.txt", "not a delivery\n", 1700000500);
    write_at(w->dir, "incoming/README.txt", "drop folders here\n", 1700000400);
    tu_write_file(w->dir, "lake/silver/orders/_delta_log/00000000000000000000.json",
                  commit0);
    tu_write_file(w->dir, "lake/silver/orders/_delta_log/00000000000000000001.json",
                  commit1);
    tu_write_file(w->dir, "lake/silver/orders/_delta_log/00000000000000000002.json",
                  commit2);
    tu_write_file(w->dir, "lake/silver/orders/_delta_log/00000000000000000003.json",
                  commit3);
    char *cfg = sl_asprintf("{\"environment\": \"prod\", \"banner_color\": \"red\",\n"
                            " \"source\": \"incoming\", \"lake\": \"lake\",\n"
                            " \"tables\": {\"orders\": \"silver/orders\",\n"
                            "            \"missing\": \"silver/missing\"},\n"
                            " \"theme\": \"dark\", \"read_only\": %s}\n",
                            read_only ? "true" : "false");
    tu_write_file(w->dir, "sluice.json", cfg);
    free(cfg);
    setenv("SLUICE_STATE_DIR", w->state, 1);
    setenv("SLUICE_FAKE_NOW_MS", FAKE_NOW, 1);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
}

static void world_free(world *w)
{
    tu_rmtree(w->dir);
    free(w->dir);
    free(w->state);
}

static int setup(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    world_build(w, 0);
    *state = w;
    return 0;
}

static int setup_ro(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    world_build(w, 1);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    world_free(w);
    free(w);
    return 0;
}

static sl_code run_script(world *w, const char *script, int rows, int cols,
                          const char *theme, sl_err *err)
{
    return tt_run_script(w->dir, script, rows, cols, theme, err);
}

static char *read_dump(world *w, const char *name)
{
    return tt_read_dump(w->dir, name);
}

static void expect_dump(world *w, const char *name, int rows)
{
    tt_expect_dump(w->dir, name, rows);
}

static void test_folders_80x24(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "# Folders is the second tab\n"
                                ":view folders\n"
                                ":dump @/folders-80x24.txt\n"
                                "down\n"
                                "enter\n"
                                "dump @/folder-files.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "folders-80x24.txt", 24);
    char *d = read_dump(w, "folders-80x24.txt");
    assert_non_null(strstr(d, "1700003600/"));
    assert_non_null(strstr(d, "日本-notes/"));
    assert_non_null(strstr(d, " PROD "));
    free(d);
    /* Enter on an epoch folder lists its files. */
    d = read_dump(w, "folder-files.txt");
    assert_non_null(strstr(d, "› 1700003600"));
    assert_non_null(strstr(d, "2 objects"));
    assert_non_null(strstr(d, "part-0.jsonl"));
    assert_non_null(strstr(d, "part-1.jsonl"));
    free(d);
}

static void test_tables_history_drilldown(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "view tables\n"
                                "dump @/tables-80x24.txt\n"
                                "enter\n"
                                "dump @/history-80x24.txt\n"
                                "down\n"
                                "enter\n"
                                "dump @/commit-80x24.txt\n"
                                "back\n"
                                "dump @/back.txt\n"
                                "key Esc\n"
                                "dump @/back2.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "tables-80x24.txt", 24);
    expect_dump(w, "history-80x24.txt", 24);
    expect_dump(w, "commit-80x24.txt", 24);
    char *d = read_dump(w, "tables-80x24.txt");
    assert_non_null(strstr(d, "SL-STORE-NOT-FOUND"));
    free(d);
    d = read_dump(w, "commit-80x24.txt");
    assert_non_null(strstr(d, "Tables › orders › version 2") ||
                    strstr(d, "› orders › version 2"));
    assert_non_null(strstr(d, "part-0002.parquet"));
    assert_non_null(strstr(d, "numOutputRows: 5"));
    free(d);
    /* Esc goes back one level at a time. */
    d = read_dump(w, "back.txt");
    assert_non_null(strstr(d, "› orders"));
    assert_null(strstr(d, "version 2 —"));
    assert_non_null(strstr(d, "DELETE"));
    free(d);
    d = read_dump(w, "back2.txt");
    assert_null(strstr(d, "› orders"));
    assert_non_null(strstr(d, "missing"));
    free(d);
}

static void test_audit_note_and_event(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                ":note disk full on node 3\n"
                                "view audit\n"
                                ":dump @/audit-80x24.txt\n"
                                "enter\n"
                                "dump @/event.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "audit-80x24.txt", 24);
    char *d = read_dump(w, "audit-80x24.txt");
    assert_non_null(strstr(d, "audit.note"));
    assert_non_null(strstr(d, "disk full on node 3"));
    assert_non_null(strstr(d, "session.open"));
    free(d);
    /* The newest event (the note's final row) in detail. */
    d = read_dump(w, "event.txt");
    assert_non_null(strstr(d, "Reason:    disk full on node 3"));
    assert_non_null(strstr(d, "Operator:  tester"));
    assert_non_null(strstr(d, "Id:        4"));
    free(d);
}

static void test_verify_ok_then_tampered(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                ":note first\nview audit\nverify\ndump @/verify-ok.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    char *d = read_dump(w, "verify-ok.txt");
    assert_non_null(strstr(d, "✓ chain verified: "));
    assert_non_null(strstr(d, "events, head #"));
    free(d);

    /* Edit row 2 behind the triggers' back; verify must name it, in red. */
    char *db_path = paths_join(w->state, "audit.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TRIGGER audit_events_no_update;"
                     "UPDATE audit_events SET reason = 'forged' WHERE id = 2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    free(db_path);
    assert_int_equal(run_script(w, "verify\ndump @/verify-bad.txt\n", 24, 80, NULL, &err),
                     SL_OK);
    d = read_dump(w, "verify-bad.txt");
    assert_non_null(strstr(d, "✗ chain BROKEN at event #2"));
    assert_non_null(strstr(d, "SL-AUDIT-TAMPERED"));
    free(d);
}

static void test_help_lists_every_action(void **state)
{
    world *w = *state;
    sl_err err;
    /* The Help tab lists the whole table (? lists a view's own first). */
    assert_int_equal(run_script(w, "resize 100 132\nview help\ndump @/help-100x132.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "help-100x132.txt", 100);
    char *d = read_dump(w, "help-100x132.txt");
    size_t n;
    const action_desc *t = actions_table(&n);
    for (size_t i = 0; i < n; i++) {
        char needle[80];
        snprintf(needle, sizeof needle, " %s ", t[i].name);
        if (!strstr(d, needle))
            fail_msg("help does not list action '%s'", t[i].name);
        if (!strstr(d, t[i].help))
            fail_msg("help does not show the description of '%s'", t[i].name);
    }
    free(d);
}

static void test_filter_live_and_clear(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "view folders\n"
                                "key /\n"
                                "type 17000036\n"
                                "dump @/filter-typing.txt\n"
                                "key Enter\n"
                                "dump @/filter-kept.txt\n"
                                "key Esc\n"
                                "dump @/filter-cleared.txt\n"
                                "filter README\n"
                                "dump @/filter-cmd.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "filter-typing.txt", 24);
    char *d = read_dump(w, "filter-typing.txt");
    assert_non_null(strstr(d, "1700003600/"));
    assert_null(strstr(d, "1700000000/"));
    assert_null(strstr(d, "1700007200/"));
    assert_non_null(strstr(d, "(1 of 6)"));
    free(d);
    d = read_dump(w, "filter-kept.txt");
    assert_null(strstr(d, "1700007200/"));
    free(d);
    d = read_dump(w, "filter-cleared.txt");
    assert_non_null(strstr(d, "1700000000/"));
    assert_non_null(strstr(d, "1700007200/"));
    free(d);
    d = read_dump(w, "filter-cmd.txt");
    assert_non_null(strstr(d, "README.txt"));
    assert_null(strstr(d, "1700000000/"));
    free(d);
}

static int count_action(world *w, const char *action)
{
    char *db_path = paths_join(w->state, "audit.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_events WHERE action = ?", -1,
                           &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(db_path);
    return n;
}

static void test_quit_confirmation(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "key q\n"
                                "dump @/asking.txt\n"
                                "key n\n"
                                "dump @/kept.txt\n"
                                "key q\n"
                                "key y\n"
                                "dump @/after-quit.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    char *d = read_dump(w, "asking.txt");
    assert_non_null(strstr(d, "Quit sluice? [y/N]"));
    free(d);
    d = read_dump(w, "kept.txt");
    assert_non_null(strstr(d, "quit cancelled"));
    free(d);
    /* q y quit: the lines after it never ran. */
    char *path = paths_join(w->dir, "after-quit.txt");
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    assert_true(count_action(w, "session.open") >= 1);
    assert_true(count_action(w, "session.close") >= 1);
}

static void test_resize_relayout(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "view folders\n"
                                "dump @/before.txt\n"
                                "resize 40 120\n"
                                "dump @/folders-40x120.txt\n"
                                "view tables\n"
                                "enter\n"
                                "dump @/history-40x120.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    expect_dump(w, "folders-40x120.txt", 40);
    expect_dump(w, "history-40x120.txt", 40);
    char *d = read_dump(w, "folders-40x120.txt");
    /* The status line moved to row 39 of 40. */
    char *line = d;
    for (int i = 0; i < 38; i++)
        line = strchr(line, '\n') + 1;
    assert_non_null(strstr(line, "tester"));
    free(d);
}

static void test_bad_script_line(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w, "down\n# fine\nfrobnicate now\n", 24, 80, NULL, &err),
                     SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "frobnicate"));
    /* Checked before anything ran: no session was audited. */
    assert_int_equal(count_action(w, "session.open"), 0);

    assert_int_equal(run_script(w, "key NoSuchKey\n", 24, 80, NULL, &err), SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_int_equal(run_script(w, "down\ndump\n", 24, 80, NULL, &err), SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(run_script(w, "\nresize 40\n", 24, 80, NULL, &err), SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "line 2"));
    /* A runtime failure names its line too, and keeps its own code. */
    assert_int_equal(
        run_script(w, "down\ndump /nonexistent-dir/x.txt\n", 24, 80, NULL, &err), SL_IO);
    assert_non_null(strstr(err.msg, "line 2"));
}

static void test_no_color_forces_monochrome(void **state)
{
    world *w = *state;
    sl_err err;
    setenv("NO_COLOR", "1", 1);
    assert_string_equal(theme_choose("light", "dark"), "monochrome");
    assert_int_equal(run_script(w, "help\ndump @/nocolor.txt\n", 24, 80, "light", &err),
                     SL_OK);
    char *d = read_dump(w, "nocolor.txt");
    assert_non_null(strstr(d, "theme monochrome"));
    free(d);
    /* Empty NO_COLOR does not count (no-color.org). */
    setenv("NO_COLOR", "", 1);
    assert_string_equal(theme_choose("light", "dark"), "light");
    assert_int_equal(run_script(w, "help\ndump @/color.txt\n", 24, 80, "light", &err),
                     SL_OK);
    d = read_dump(w, "color.txt");
    assert_non_null(strstr(d, "theme light"));
    free(d);
    unsetenv("NO_COLOR");
}

static void test_theme_parse_error_names_line(void **state)
{
    world *w = *state;
    sl_err err;
    tu_write_file(
        w->dir, "themes/broken.theme",
        "# a theme with a typo\nnormal = default default\nheader = green purple\n");
    char *dir = paths_join(w->dir, "themes");
    setenv("SLUICE_THEMES_DIR", dir, 1);
    assert_int_equal(run_script(w, "quit\n", 24, 80, "broken", &err), SL_THEME_INVALID);
    assert_non_null(strstr(err.msg, "broken.theme:3"));
    assert_non_null(strstr(err.msg, "purple"));
    assert_int_equal(run_script(w, "quit\n", 24, 80, "absent", &err), SL_THEME_INVALID);
    assert_non_null(strstr(err.msg, "absent"));
    unsetenv("SLUICE_THEMES_DIR");
    free(dir);
    /* Switching at run time to a broken theme is an error of that line. */
    char *path = paths_join(w->dir, "themes/broken.theme");
    char *script = sl_asprintf("down\ntheme %s\n", path);
    assert_int_equal(run_script(w, script, 24, 80, NULL, &err), SL_THEME_INVALID);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_non_null(strstr(err.msg, "broken.theme:3"));
    free(script);
    free(path);
}

static void test_read_only_status(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                ":note ro note ok\nview audit\n"
                                "dump @/ro.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    char *d = read_dump(w, "ro.txt");
    assert_non_null(strstr(d, " RO "));
    assert_non_null(strstr(d, "ro note ok"));
    free(d);
}

static void test_error_detail_and_unknown_command(void **state)
{
    world *w = *state;
    sl_err err;
    assert_int_equal(run_script(w,
                                "view tables\n"
                                "down\n"
                                "enter\n"
                                "dump @/broken-table.txt\n"
                                "error\n"
                                "dump @/error.txt\n",
                                24, 80, NULL, &err),
                     SL_OK);
    char *d = read_dump(w, "broken-table.txt");
    assert_non_null(strstr(d, "SL-STORE-NOT-FOUND"));
    assert_non_null(strstr(d, "hint: "));
    free(d);
    d = read_dump(w, "error.txt");
    assert_non_null(strstr(d, "Code:    SL-STORE-NOT-FOUND"));
    assert_non_null(strstr(d, "Hint:"));
    free(d);
    /* An unknown `:` command is a usage error (SL_TUI_SCRIPT in a script). */
    assert_int_equal(
        run_script(w, "key :\ntype nonsense\nkey Enter\n", 24, 80, NULL, &err),
        SL_TUI_SCRIPT);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "nonsense"));
}

static void test_no_terminal(void **state)
{
    world *w = *state;
    char *cfg = paths_join(w->dir, "sluice.json");
    session_opts so = {.config_path = cfg, .channel = "console"};
    session *sess = NULL;
    sl_err err;
    assert_int_equal(session_open(&so, &sess, &err), SL_OK);
    int saved = dup(STDIN_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    tui_opts o = {0};
    sl_code rc = tui_run(sess, &o, &err);
    dup2(saved, STDIN_FILENO);
    close(saved);
    close(devnull);
    assert_int_equal(rc, SL_TUI_NO_TERMINAL);
    session_close(sess);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_folders_80x24, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_history_drilldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_note_and_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_ok_then_tampered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_live_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quit_confirmation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_relayout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_script_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_color_forces_monochrome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_theme_parse_error_names_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_only_status, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_error_detail_and_unknown_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_terminal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
