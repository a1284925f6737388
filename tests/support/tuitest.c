#include "tuitest.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ops/session.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "tui/tui.h"

sl_code tt_run_script(const char *dir, const char *script, int rows, int cols,
                      const char *theme, sl_err *err)
{
    sl_buf text = {0};
    for (const char *p = script; *p; p++) {
        if (p[0] == '@' && p[1] == '/')
            buf_append_str(&text, dir);
        else
            buf_append_char(&text, *p);
    }
    tu_write_file(dir, "script.txt", text.data);
    buf_free(&text);
    char *cfg = paths_join(dir, "sluice.json");
    char *script_path = paths_join(dir, "script.txt");
    session_opts so = {.config_path = cfg, .channel = "console"};
    session *sess = NULL;
    sl_code rc = session_open(&so, &sess, err);
    assert_int_equal(rc, SL_OK);
    tui_opts o = {.script_path = script_path, .theme = theme, .rows = rows, .cols = cols};
    rc = tui_run(sess, &o, err);
    session_close(sess);
    free(cfg);
    free(script_path);
    return rc;
}

char *tt_read_dump(const char *dir, const char *name)
{
    char *path = sl_asprintf("%s/%s", dir, name);
    char *text = tu_read_file(path);
    free(path);
    if (!text)
        return NULL;
    const char *base = strrchr(dir, '-') + 1; /* the random suffix */
    for (char *p = strstr(text, base); p; p = strstr(p, base))
        memcpy(p, TT_WORLD_MASK, strlen(TT_WORLD_MASK));
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

void tt_expect_dump(const char *dir, const char *name, int rows)
{
    char *got = tt_read_dump(dir, name);
    assert_non_null(got);
    assert_int_equal(count_lines(got), rows);
    assert_null(strstr(got, "loading…"));
    const char *src = getenv("SLUICE_SOURCE_DIR");
    assert_non_null(src);
    char *path = sl_asprintf("%s/tests/tui/expected/%s", src, name);
    const char *update = getenv("SLUICE_TUI_UPDATE_EXPECTED");
    if (update && *update == '1') {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(got, fp);
        fclose(fp);
    }
    char *want = tu_read_file(path);
    if (!want)
        fail_msg("missing expected dump %s", path);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "--- expected %s\n%s--- got\n%s---\n", path, want, got);
        fail_msg("screen dump %s differs from %s", name, path);
    }
    free(want);
    free(path);
    free(got);
}
