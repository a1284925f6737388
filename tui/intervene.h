#ifndef SLUICE_TUI_INTERVENE_H
#define SLUICE_TUI_INTERVENE_H

#include <stdint.h>

#include "tui/app.h"

/* The console side of a table intervention (restore, vacuum, optimize):
 * the preview is computed on the worker (reads only, writes nothing), the
 * dialog shows it with Cancel as the default, and the operator's answer
 * goes through the ops layer with the same target and parameters the CLI
 * uses: confirmed (requested -> succeeded | failed) or cancelled
 * (requested -> refused). Either way the audit log has it. */

typedef enum iv_kind { IV_RESTORE, IV_VACUUM, IV_OPTIMIZE } iv_kind;

typedef struct iv_request {
    iv_kind kind;
    const char *table;     /* the configured name ("orders") */
    const char *url;       /* the table's root URL */
    int64_t version;       /* restore: the target version */
    double retain_hours;   /* vacuum: < 0 keeps the table's retention */
    const char *zorder_by; /* optimize: "c1,c2" or NULL */
    const char *runbook_run; /* set when a runbook step asks: put in the params */
} iv_request;

void intervene_start(app *a, const iv_request *r);

/* The restore / vacuum / optimize actions of a view that shows one table
 * (selected_version: the version under the cursor, -1 when none): parses
 * the argument and starts the intervention. REACT_UNHANDLED for any other
 * action. */
unsigned intervene_handle(app *a, action_id id, const char *arg, const char *table,
                          const char *url, int64_t selected_version, sl_err *err);

#endif
