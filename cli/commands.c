#include <string.h>

#include "cli/cli_cmd.h"

static const cli_cmd cli_cmds[] = {
    {"tui",
     "tui [--script FILE] [--size ROWSxCOLS] [--theme NAME] [--read-only] | tui "
     "--actions",
     "Open the operations console (the default when no command is given)",
     "script=,size=,actions", CLI_CONFIG_OPTIONAL, cmd_tui},
    {"folders", "folders [PIPELINE|SOURCE] [--json]",
     "List the source's epoch folders (oldest first); with a pipeline, each folder's "
     "state",
     "", CLI_CONFIG_OPTIONAL, cmd_folders},
    {"snapshot", "snapshot TABLE [--version N | --timestamp T] [--json]",
     "Show a Delta table's state at the latest, a given version or a given time",
     "version=,timestamp=", CLI_CONFIG_OPTIONAL, cmd_snapshot},
    {"history", "history TABLE [--limit N] [--json]",
     "List a Delta table's commits, newest first, from its commitInfo",
     "limit=", CLI_CONFIG_OPTIONAL, cmd_history},
    {"parquet",
     "parquet schema FILE | parquet meta FILE | parquet cat FILE [--columns a,b] "
     "[--limit N]",
     "Show a Parquet file's schema, metadata (row groups, chunks, statistics) or rows as "
     "JSON lines",
     "columns=,limit=", CLI_CONFIG_OPTIONAL, cmd_parquet},
    {"audit",
     "audit list [--since T] [--until T] [--action A] [--target X] [--operator O] "
     "[--phase P] [--limit N] [--json] | audit show ID | audit verify | "
     "audit export --format jsonl|csv | audit note --reason TEXT [--target X]",
     "Read, verify and export the audit log; add an incident note",
     "since=,until=,action=,target=,phase=,limit=,format=,reason=", CLI_CONFIG_OPTIONAL,
     cmd_audit},
    {"demo", "demo DIR [--no-open]",
     "Create a demo source, lake and sluice.json in DIR, then open the console on it",
     "no-open", CLI_CONFIG_OPTIONAL, cmd_demo},
    {"restore",
     "restore TABLE --version N|--timestamp T --reason R [--dry-run] [--yes] [--json]",
     "Restore a Delta table to an earlier version or time (preview with --dry-run)",
     "version=,timestamp=,reason=,dry-run,yes", CLI_CONFIG_OPTIONAL, cmd_restore},
    {"vacuum",
     "vacuum TABLE [--retain-hours H] [--force-short-retention] [--dry-run] [--yes] "
     "--reason R [--json]",
     "Delete data files no version inside the table's retention still references",
     "retain-hours=,force-short-retention,dry-run,yes,reason=", CLI_CONFIG_OPTIONAL,
     cmd_vacuum},
    {"optimize",
     "optimize TABLE [--zorder-by c1,c2] [--target-size BYTES] [--dry-run] --reason R "
     "[--json]",
     "Compact a Delta table's small files per partition, optionally Z-ordered (data "
     "unchanged)",
     "zorder-by=,target-size=,dry-run,reason=", CLI_CONFIG_OPTIONAL, cmd_optimize},
    {"run",
     "run [PIPELINE] [--folder F] [--until-step ingest|merge|aggregate] [--dry-run] "
     "[--json] | run show RUN_ID [--pipeline P] [--json]",
     "Run a pipeline's pending folders through every step (or show one run's steps)",
     "folder=,until-step=,dry-run,pipeline=,reason=", 0, cmd_run},
    {"retry", "retry RUN_ID [--pipeline P] --reason R [--dry-run] [--json]",
     "Run again the folder a failed run left failed; steps already committed are kept",
     "pipeline=,reason=,dry-run", 0, cmd_retry},
    {"skip", "skip FOLDER... [--pipeline P] --reason R [--dry-run] [--yes] [--json]",
     "Mark folders skipped so the runner passes over them",
     "pipeline=,reason=,dry-run,yes", 0, cmd_skip},
    {"mark-processed",
     "mark-processed FOLDER... [--pipeline P] --reason R [--dry-run] [--yes] [--json]",
     "Mark folders processed without running them", "pipeline=,reason=,dry-run,yes", 0,
     cmd_mark_processed},
    {"reset", "reset FOLDER... [--pipeline P] --reason R [--dry-run] [--yes] [--json]",
     "Make folders pending again (checkpoint restore) so the next run reprocesses them",
     "pipeline=,reason=,dry-run,yes", 0, cmd_reset},
    {"rollback-run",
     "rollback-run RUN_ID [--pipeline P] [--cascade] --reason R [--dry-run] [--yes] "
     "[--json]",
     "Restore every table a run changed to its version before the run; its folders "
     "pending",
     "pipeline=,cascade,reason=,dry-run,yes", 0, cmd_rollback_run},
    {"skip-file",
     "skip-file FOLDER/FILE... [--pipeline P] --reason R [--dry-run] [--yes] [--json]",
     "Leave bad source files out of their epoch folder; retry or run loads it without "
     "them",
     "pipeline=,reason=,dry-run,yes", 0, cmd_skip_file},
    {"cancel", "cancel PIPELINE --reason R [--dry-run] [--json]",
     "Stop the pipeline's running run (any process) at its next step boundary",
     "reason=,dry-run", 0, cmd_cancel},
    {"status", "status [--json]",
     "Each pipeline's state: folders by state, lag, lease holder", "", 0, cmd_status},
    {"runs", "runs [PIPELINE] [--failed] [--json]",
     "Every step attempt of a pipeline's runs, newest first (--failed: failed ones)",
     "failed,pipeline=", 0, cmd_runs},
    {"errors", "errors [--markdown] [--json]",
     "List every error code with its exit code and remediation hint", "markdown",
     CLI_NO_SESSION, cmd_errors},
    {"help", "help [COMMAND]", "Show the commands, or one command's usage", "",
     CLI_NO_SESSION, cmd_help},
    {"version", "version [--json]", "Print the version and build", "", CLI_NO_SESSION,
     cmd_version},
};

const cli_cmd *cli_cmd_table(size_t *n)
{
    *n = sizeof cli_cmds / sizeof cli_cmds[0];
    return cli_cmds;
}

const cli_cmd *cli_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
        if (strcmp(cli_cmds[i].name, name) == 0)
            return &cli_cmds[i];
    return NULL;
}
