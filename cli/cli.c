#include "cli/cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_cmd.h"

/* argv without the command word: global options may come before it. */
static const char *find_command(int argc, char **argv, int *cmd_index)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strcmp(a, "--operator") == 0 || strcmp(a, "--theme") == 0) {
            i++;
            continue;
        }
        if (a[0] == '-')
            continue;
        *cmd_index = i;
        return a;
    }
    *cmd_index = -1;
    return "tui";
}

static int wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            return 1;
    return 0;
}

int cli_main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    sl_err err = {0};
    int json = wants_json(argc, argv);
    int cmd_index;
    const char *name = find_command(argc, argv, &cmd_index);
    const cli_cmd *cmd = cli_cmd_find(name);
    if (!cmd) {
        err_set(&err, SL_USAGE, "unknown command \"%s\"; `sluice help` lists them", name);
        cli_print_error(json ? stdout : stderr, json, &err);
        return err_code_exit(err.code);
    }
    /* Rebuild argv without the program name and the command word. */
    char *rest[64];
    int nrest = 0;
    for (int i = 1; i < argc && nrest < 64; i++)
        if (i != cmd_index)
            rest[nrest++] = argv[i];
    cli_args args;
    sl_code c = cli_args_parse(nrest, rest, cmd->options, cmd->name, &args, &err);
    if (c == SL_OK && cli_args_has(&args, "help")) {
        printf("usage: sluice %s\n  %s\n", cmd->usage, cmd->summary);
        return 0;
    }
    cli_ctx ctx = {.args = &args, .json = json, .out = stdout};
    if (c == SL_OK && !(cmd->flags & CLI_NO_SESSION)) {
        session_opts so = {
            .config_path = cli_args_get(&args, "config"),
            .config_optional = (cmd->flags & CLI_CONFIG_OPTIONAL) != 0,
            .operator_name = cli_args_get(&args, "operator"),
            .channel = strcmp(cmd->name, "tui") == 0 ? "console" : "cli",
            .read_only = cli_args_has(&args, "read-only"),
            .write_protected = cli_args_has(&args, "write"),
        };
        c = session_open(&so, &ctx.sess, &err);
    }
    if (c == SL_OK)
        c = cmd->run(&ctx, &err);
    if (c != SL_OK) {
        if (ctx.sess)
            log_op(ctx.sess->log, cmd->name, NULL, c, 0, err.msg);
        if (!ctx.reported)
            cli_print_error(json ? stdout : stderr, json, &err);
    }
    session_close(ctx.sess);
    return err_code_exit(c);
}
