#ifndef SLUICE_TUI_TUI_H
#define SLUICE_TUI_TUI_H

#include "backend/ops/session.h"
#include "backend/util/err.h"

/* The console. Interactive on a terminal; with script_path it reads
 * actions/keys from a file instead of the keyboard on a virtual screen of
 * rows x cols (no terminal needed), which is how tests drive it. */
typedef struct tui_opts {
    const char *script_path; /* NULL: interactive */
    const char *theme;       /* NULL: config theme, else "dark"; NO_COLOR forces monochrome */
    int rows, cols;          /* script mode screen size; 0: 24x80 */
} tui_opts;

sl_code tui_run(session *sess, const tui_opts *opts, sl_err *err);

/* Lists the action table (name, keys, description) to out, one per line. */
void tui_print_actions(void *file);

#endif
