#ifndef SLUICE_CLI_CLI_H
#define SLUICE_CLI_CLI_H

/* Entry point of the sluice program: parses global options, dispatches to
 * the command table, prints errors (text or --json) and returns the exit
 * code. */
int cli_main(int argc, char **argv);

#endif
