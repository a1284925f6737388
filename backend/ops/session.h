#ifndef SLUICE_OPS_SESSION_H
#define SLUICE_OPS_SESSION_H

#include "audit/audit.h"
#include "backend/ops/ops.h"
#include "backend/pipeline/config.h"
#include "backend/util/err.h"
#include "backend/util/log.h"

/* What a CLI command or a console needs from the backend: the config, the
 * state dir with its structured log and audit log, who is operating, and the
 * ops context built from them. */
typedef struct session_opts {
    const char *config_path; /* -c FILE; NULL: $SLUICE_CONFIG, ./sluice.json */
    int config_optional; /* commands that work without a config (snapshot PATH, ...) */
    const char *operator_name; /* --operator; NULL: $SLUICE_OPERATOR, login name */
    const char *channel;       /* "cli" | "console" */
    int read_only;             /* --read-only (config may also force it) */
    int write_protected; /* --write: allowed to change a "protected" environment */
} session_opts;

typedef struct session {
    config *cfg; /* NULL when optional and absent */
    char *state_dir;
    sl_log *log;
    audit_log *audit;
    char operator_name[128];
    char host[256];
    char session_id[33]; /* random hex */
    ops_ctx ops;
} session;

sl_code session_open(const session_opts *opts, session **out, sl_err *err);
void session_close(session *s);

#endif
