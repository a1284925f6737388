#ifndef SLUICE_CLI_ARGS_H
#define SLUICE_CLI_ARGS_H

#include <stddef.h>

#include "backend/util/err.h"

/* Parsed command line: positionals and --options in any order. An option
 * spec is a comma-separated list of names; "name=" takes a value. */
#define CLI_MAX_OPTS 32

typedef struct cli_opt {
    const char *name;
    const char *value; /* "" for flags */
} cli_opt;

typedef struct cli_args {
    const char *pos[32];
    size_t npos;
    cli_opt opts[CLI_MAX_OPTS];
    size_t nopts;
} cli_args;

/* Options every command accepts. */
#define CLI_GLOBAL_OPTS "json,config=,operator=,read-only,write,help,theme="

/* Parses argv[0..argc) against the global spec plus cmd_spec. */
sl_code cli_args_parse(int argc, char **argv, const char *cmd_spec, const char *cmd_name,
                       cli_args *out, sl_err *err);
/* The value of --name (flags give ""), or NULL when absent. */
const char *cli_args_get(const cli_args *a, const char *name);
int cli_args_has(const cli_args *a, const char *name);
/* --name as a non-negative integer; SL_USAGE when not one. */
sl_code cli_args_int(const cli_args *a, const char *name, long long *out, int *present,
                     sl_err *err);

#endif
