#ifndef SLUICE_CLI_CMD_H
#define SLUICE_CLI_CMD_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/ops/session.h"
#include "backend/store/store.h"
#include "cli/cli_args.h"

/* What a command handler gets: its parsed arguments, the session (NULL for
 * commands that need none), and where to write. */
typedef struct cli_ctx {
    const cli_args *args;
    session *sess;
    int json;
    FILE *out;
    int reported; /* the handler already reported its failure on out */
} cli_ctx;

enum {
    CLI_NO_SESSION = 1u << 0,      /* needs neither config nor state dir */
    CLI_CONFIG_OPTIONAL = 1u << 1, /* works on a path without sluice.json */
};

/* One command, as data (tmux-style): the dispatcher, `sluice help`, the man
 * page check and the docs test all read the same table. */
typedef struct cli_cmd {
    const char *name;
    const char *usage;   /* "snapshot TABLE [--version N|--timestamp T] [--json]" */
    const char *summary; /* one line */
    const char *options; /* option spec beyond the global ones */
    unsigned flags;
    sl_code (*run)(cli_ctx *ctx, sl_err *err);
} cli_cmd;

const cli_cmd *cli_cmd_table(size_t *n);
const cli_cmd *cli_cmd_find(const char *name);

/* Handlers (one file each). */
sl_code cmd_snapshot(cli_ctx *ctx, sl_err *err);
sl_code cmd_history(cli_ctx *ctx, sl_err *err);
sl_code cmd_folders(cli_ctx *ctx, sl_err *err);
sl_code cmd_audit(cli_ctx *ctx, sl_err *err);
sl_code cmd_parquet(cli_ctx *ctx, sl_err *err);
sl_code cmd_demo(cli_ctx *ctx, sl_err *err);
sl_code cmd_tui(cli_ctx *ctx, sl_err *err);
sl_code cmd_errors(cli_ctx *ctx, sl_err *err);
sl_code cmd_help(cli_ctx *ctx, sl_err *err);
sl_code cmd_version(cli_ctx *ctx, sl_err *err);
sl_code cmd_restore(cli_ctx *ctx, sl_err *err);
sl_code cmd_vacuum(cli_ctx *ctx, sl_err *err);
sl_code cmd_optimize(cli_ctx *ctx, sl_err *err);
sl_code cmd_run(cli_ctx *ctx, sl_err *err);
sl_code cmd_retry(cli_ctx *ctx, sl_err *err);
sl_code cmd_skip(cli_ctx *ctx, sl_err *err);
sl_code cmd_mark_processed(cli_ctx *ctx, sl_err *err);
sl_code cmd_reset(cli_ctx *ctx, sl_err *err);
sl_code cmd_rollback_run(cli_ctx *ctx, sl_err *err);
sl_code cmd_cancel(cli_ctx *ctx, sl_err *err);
sl_code cmd_skip_file(cli_ctx *ctx, sl_err *err);
sl_code cmd_status(cli_ctx *ctx, sl_err *err);
sl_code cmd_runs(cli_ctx *ctx, sl_err *err);
/* `sluice folders PIPELINE`: each folder with its state (cmd_pipeline.c). */
struct pipeline_def;
sl_code cli_pipeline_folders(cli_ctx *ctx, const struct pipeline_def *d, sl_err *err);

/* Output helpers (cli_out.c). */
void cli_print_json(cli_ctx *ctx, json_t *j); /* steals j */
void cli_print_error(FILE *fp, int json, const sl_err *err);
void cli_human_bytes(uint64_t n, char *out, size_t outlen);
/* Opens the store and resolves the table for TABLE arguments. */
sl_code cli_open_table(cli_ctx *ctx, const char *name_or_url, store **st_out,
                       sl_err *err);

#endif
