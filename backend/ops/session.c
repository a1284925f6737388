#include "backend/ops/session.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/paths.h"

static void pick_operator(const char *given, char *out, size_t outlen)
{
    const char *env = getenv("SLUICE_OPERATOR");
    const char *name = NULL;
    if (given && *given)
        name = given;
    else if (env && *env)
        name = env;
    else {
        struct passwd *pw = getpwuid(geteuid());
        name = pw && pw->pw_name ? pw->pw_name : getenv("USER");
    }
    snprintf(out, outlen, "%s", name && *name ? name : "unknown");
}

/* The console shows every backend request it made (the command log, L), so
 * its log keeps the last ones in memory; the CLI has no use for that. */
static void attach_command_ring(session *s, const char *channel)
{
    if (channel && strcmp(channel, "console") == 0)
        log_ring_enable(s->log, LOG_RING_DEFAULT);
}

sl_code session_open(const session_opts *opts, session **out, sl_err *err)
{
    session *s = sl_calloc(1, sizeof *s);
    sl_code c = config_load_default(opts->config_path, &s->cfg, err);
    if (c == SL_CONFIG_NOT_FOUND && opts->config_optional && !opts->config_path) {
        err_clear(err);
        c = SL_OK;
    }
    if (c == SL_OK)
        c = paths_state_dir(&s->state_dir, err);
    if (c == SL_OK)
        c = log_open(s->state_dir, &s->log, err);
    if (c == SL_OK) {
        char *db = paths_join(s->state_dir, "audit.db");
        c = audit_open(db, &s->audit, err);
        free(db);
    }
    if (c != SL_OK) {
        session_close(s);
        return c;
    }
    attach_command_ring(s, opts->channel);
    pick_operator(opts->operator_name, s->operator_name, sizeof s->operator_name);
    if (gethostname(s->host, sizeof s->host - 1) != 0)
        snprintf(s->host, sizeof s->host, "unknown");
    ids_random_hex(s->session_id, 16);
    s->ops.cfg = s->cfg;
    s->ops.audit = s->audit;
    s->ops.log = s->log;
    s->ops.operator_name = s->operator_name;
    s->ops.host = s->host;
    s->ops.session_id = s->session_id;
    s->ops.channel = opts->channel ? opts->channel : "cli";
    /* A protected environment is read-only unless this session says --write. */
    s->ops.read_only = opts->read_only || (s->cfg && s->cfg->read_only) ||
                       (s->cfg && s->cfg->protected_env && !opts->write_protected);
    *out = s;
    return SL_OK;
}

void session_close(session *s)
{
    if (!s)
        return;
    audit_close(s->audit);
    log_close(s->log);
    config_free(s->cfg);
    free(s->state_dir);
    free(s);
}
