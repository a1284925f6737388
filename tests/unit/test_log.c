/* The structured log and where state lives. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "backend/util/buf.h"
#include "backend/util/log.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"
#include "testutil.h"

static void test_state_dir_precedence(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("paths");
    char *a = paths_join(dir, "explicit"), *x = paths_join(dir, "xdg");
    char *out = NULL;
    sl_err e = {0};
    setenv("SLUICE_STATE_DIR", a, 1);
    setenv("XDG_STATE_HOME", x, 1);
    assert_int_equal(paths_state_dir(&out, &e), SL_OK);
    assert_string_equal(out, a);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(out);
    unsetenv("SLUICE_STATE_DIR");
    assert_int_equal(paths_state_dir(&out, &e), SL_OK);
    char *want = paths_join(x, "sluice");
    assert_string_equal(out, want);
    free(want);
    free(out);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", dir, 1);
    assert_int_equal(paths_state_dir(&out, &e), SL_OK);
    want = paths_join(dir, ".local/state/sluice");
    assert_string_equal(out, want);
    free(want);
    free(out);
    /* A state dir that cannot be created is a clear error. */
    tu_write_file(dir, "file", "x");
    char *bad = paths_join(dir, "file/state");
    setenv("SLUICE_STATE_DIR", bad, 1);
    assert_int_equal(paths_state_dir(&out, &e), SL_STATE_DIR);
    assert_non_null(strstr(e.msg, "file/state"));
    unsetenv("SLUICE_STATE_DIR");
    free(bad);
    free(a);
    free(x);
    tu_rmtree(dir);
    free(dir);
}

typedef struct writer_arg {
    sl_log *log;
    int id;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    for (int i = 0; i < 200; i++) {
        char target[64];
        snprintf(target, sizeof target, "t%d-%d", w->id, i);
        log_op(w->log, "store.get", target, SL_OK, 1.5, NULL);
    }
    return NULL;
}

static void test_lines_are_json_with_fields(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("log");
    sl_log *log = NULL;
    sl_err e = {0};
    assert_int_equal(log_open(dir, &log, &e), SL_OK);
    log_op(log, "delta.snapshot", "file:///lake/orders", SL_DELTA_GAP, 12.25,
           "missing version 3");
    pthread_t th[4];
    writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){log, i};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    log_op(NULL, "ignored", NULL, SL_OK, 0, NULL); /* no log: a no-op */
    char *path = sl_strdup(log_path(log));
    log_close(log);
    char *text = tu_read_file(path);
    assert_non_null(text);
    int lines = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(l, 0, NULL);
        assert_non_null(o); /* concurrent writers never interleave a line */
        const char *keys[] = {"ts", "pid", "op", "target", "code", "ms"};
        for (size_t k = 0; k < 6; k++)
            assert_non_null(json_object_get(o, keys[k]));
        if (lines == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "op")),
                                "delta.snapshot");
            assert_string_equal(json_string_value(json_object_get(o, "code")),
                                "SL-DELTA-GAP");
            assert_true(json_real_value(json_object_get(o, "ms")) == 12.25);
            assert_string_equal(json_string_value(json_object_get(o, "msg")),
                                "missing version 3");
            int64_t ms;
            assert_int_equal(
                time_parse(json_string_value(json_object_get(o, "ts")), &ms, NULL),
                SL_OK);
        }
        json_decref(o);
        lines++;
    }
    assert_int_equal(lines, 1 + 4 * 200);
    free(text);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

static void test_time_parse_forms(void **state)
{
    (void)state;
    int64_t ms = 0;
    sl_err e = {0};
    assert_int_equal(time_parse("2026-01-31", &ms, &e), SL_OK);
    assert_int_equal(ms, 1769817600000LL);
    assert_int_equal(time_parse("2026-01-31T12:00:00Z", &ms, &e), SL_OK);
    assert_int_equal(ms, 1769860800000LL);
    assert_int_equal(time_parse("2026-01-31T12:00:00.250Z", &ms, &e), SL_OK);
    assert_int_equal(ms, 1769860800250LL);
    assert_int_equal(time_parse("2026-01-31T14:00:00+02:00", &ms, &e), SL_OK);
    assert_int_equal(ms, 1769860800000LL);
    assert_int_equal(time_parse("1769860800000", &ms, &e), SL_OK);
    assert_int_equal(ms, 1769860800000LL);
    assert_int_equal(time_parse("yesterday", &ms, &e), SL_TIME_INVALID);
    assert_int_equal(time_parse("2026-13-01", &ms, &e), SL_TIME_INVALID);
    char out[40];
    time_format_iso(1769860800250LL, out, sizeof out);
    assert_string_equal(out, "2026-01-31T12:00:00.250Z");
    time_format_iso(-1, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_dir_precedence),
        cmocka_unit_test(test_lines_are_json_with_fields),
        cmocka_unit_test(test_time_parse_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
