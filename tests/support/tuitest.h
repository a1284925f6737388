#ifndef SLUICE_TESTS_TUITEST_H
#define SLUICE_TESTS_TUITEST_H

/* Console tests: run a script on a virtual screen in a world directory and
 * compare its screen dumps with tests/tui/expected/. */

#include "backend/util/err.h"

/* The random part of a world's directory name is replaced by this in dumps
 * (same length as mkdtemp's XXXXXX, so a masked dump lays out exactly like
 * the real one). */
#define TT_WORLD_MASK "WORLD0"

/* Runs script (text where "@/" stands for dir + "/") with the config dir/sluice.json
 * at rows x cols in theme (NULL: the config's). Returns tui_run's code. */
sl_code tt_run_script(const char *dir, const char *script, int rows, int cols,
                      const char *theme, sl_err *err);
/* dir/name with dir's random suffix masked; NULL when absent. Caller frees. */
char *tt_read_dump(const char *dir, const char *name);
/* Fails unless dir/name has `rows` lines, shows no "loading", and equals
 * tests/tui/expected/name (SLUICE_TUI_UPDATE_EXPECTED=1 rewrites it first). */
void tt_expect_dump(const char *dir, const char *name, int rows);

#endif
