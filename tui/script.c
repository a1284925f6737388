#include "tui/script.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "tui/actions.h"

/* The command part of a line: comments, blanks and a leading ':' removed.
 * Writes into out; returns 0 for an empty line. */
static int line_command(const char *raw, char *out, size_t outlen)
{
    const char *p = raw;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '#' || !*p)
        return 0;
    if (*p == ':')
        p++;
    snprintf(out, outlen, "%s", p);
    size_t len = strlen(out);
    while (len > 0 && isspace((unsigned char)out[len - 1]))
        out[--len] = '\0';
    return len > 0;
}

static sl_code check_line(const char *path, size_t lineno, const char *cmd, sl_err *err)
{
    size_t n = strcspn(cmd, " \t");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), cmd);
    const char *arg = cmd + n;
    while (isspace((unsigned char)*arg))
        arg++;
    const action_desc *d = actions_find(name);
    if (!d)
        return err_set(err, SL_TUI_SCRIPT, "%s line %zu: unknown action '%s'", path, lineno,
                       name);
    if ((d->flags & ACT_ARG) && !*arg)
        return err_set(err, SL_TUI_SCRIPT, "%s line %zu: '%s' needs %s", path, lineno, name,
                       d->args);
    if (!(d->flags & (ACT_ARG | ACT_ARG_OPT)) && *arg)
        return err_set(err, SL_TUI_SCRIPT, "%s line %zu: '%s' takes no argument", path,
                       lineno, name);
    if (d->id == ACT_KEY && actions_key_parse(arg) < 0)
        return err_set(err, SL_TUI_SCRIPT, "%s line %zu: unknown key name '%s'", path, lineno,
                       arg);
    if (d->id == ACT_RESIZE) {
        int r, c;
        char extra;
        if (sscanf(arg, "%d %d %c", &r, &c, &extra) != 2 || r < 2 || c < 2 || r > 1000 ||
            c > 1000)
            return err_set(err, SL_TUI_SCRIPT, "%s line %zu: resize needs ROWS COLS, got '%s'",
                           path, lineno, arg);
    }
    return SL_OK;
}

sl_code script_load(const char *path, tui_script *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, SL_TUI_SCRIPT, "cannot read script %s: %s", path, strerror(errno));
    out->path = sl_strdup(path);
    size_t cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, fp)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (out->n == cap) {
            cap = cap ? cap * 2 : 32;
            out->lines = sl_realloc(out->lines, cap * sizeof *out->lines);
        }
        out->lines[out->n++] = sl_strdup(line);
    }
    free(line);
    fclose(fp);
    for (size_t i = 0; i < out->n; i++) {
        char cmd[4096];
        if (!line_command(out->lines[i], cmd, sizeof cmd))
            continue;
        sl_code rc = check_line(path, i + 1, cmd, err);
        if (rc != SL_OK) {
            script_free(out);
            return rc;
        }
    }
    return SL_OK;
}

sl_code script_run(const tui_script *s, app *a, sl_err *err)
{
    app_settle(a);
    app_draw(a);
    for (size_t i = 0; i < s->n && !app_quitting(a); i++) {
        char cmd[4096];
        if (!line_command(s->lines[i], cmd, sizeof cmd))
            continue;
        sl_code rc = app_command(a, cmd, SRC_SCRIPT, err);
        if (rc != SL_OK) {
            sl_err inner = *err;
            app_settle(a); /* what the line started (an audited refusal) still lands */
            return err_set(err, rc == SL_USAGE ? SL_TUI_SCRIPT : rc, "%s line %zu: %s",
                           s->path, i + 1, inner.msg);
        }
        app_settle(a);
        app_take_reactions(a);
        app_draw(a);
    }
    return SL_OK;
}

void script_free(tui_script *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->lines[i]);
    free(s->lines);
    free(s->path);
    memset(s, 0, sizeof *s);
}
