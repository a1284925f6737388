#ifndef SLUICE_TESTS_TESTUTIL_H
#define SLUICE_TESTS_TESTUTIL_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* A fresh directory under $TMPDIR (or /tmp); removed by tu_rmtree. Caller frees. */
char *tu_mkdtemp(const char *tag);
/* rm -rf path (refuses anything outside /tmp or $TMPDIR). */
void tu_rmtree(const char *path);
/* Writes text to dir/rel, creating parent directories. */
void tu_write_file(const char *dir, const char *rel, const char *text);
/* Reads a whole file; NULL when missing. Caller frees. */
char *tu_read_file(const char *path);
/* ../shared/fixtures (from $SLUICE_FIXTURES); NULL with a printed skip
 * message when absent, so a user's clone without ../shared still passes. */
const char *tu_fixtures_dir(void);
/* Runs a shell command line, returns its exit status (0..255) and, when out
 * is non-NULL, its stdout (caller frees). */
int tu_run(const char *cmdline, char **out);
/* The built sluice binary ($SLUICE_BIN). */
const char *tu_sluice_bin(void);
/* 1 when node is on PATH: the npm interop readers are skipped without it. */
int tu_have_node(void);
/* Installs tests/npm-interop (npm install) into <dir of $SLUICE_BIN>/<subdir>
 * once, again when package.json or the script's text changes (a stamp file
 * remembers both), and returns the installed path of script_name. Each test
 * passes its own subdir so concurrent tests never share an install. Fails
 * the test when npm install fails. Caller frees. */
char *tu_npm_script(const char *subdir, const char *script_name);

#endif
