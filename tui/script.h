#ifndef SLUICE_TUI_SCRIPT_H
#define SLUICE_TUI_SCRIPT_H

#include <stddef.h>

#include "backend/util/err.h"
#include "tui/app.h"

/* Script mode: one action per line ("down", "view tables", ":dump FILE",
 * "key j", "type text", "wait", "resize 40 120", "quit"); # starts a
 * comment. The whole file is checked before anything runs, so a bad line
 * fails with SL_TUI_SCRIPT naming it and nothing half-happens. */
typedef struct tui_script {
    char *path;
    char **lines; /* raw lines, index = line number - 1 */
    size_t n;
} tui_script;

sl_code script_load(const char *path, tui_script *out, sl_err *err);
/* Runs every line; after each one waits for the worker and draws, so dumps
 * never show "loading". Stops at quit. */
sl_code script_run(const tui_script *s, app *a, sl_err *err);
void script_free(tui_script *s);

#endif
