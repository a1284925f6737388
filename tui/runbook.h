#ifndef SLUICE_TUI_RUNBOOK_H
#define SLUICE_TUI_RUNBOOK_H

#include <stddef.h>

#include "backend/util/err.h"

/* Runbooks: guided recovery procedures shipped as Markdown files in
 * docs/runbooks (the format is described in docs/runbooks/README.md). A
 * runbook is a title, a one-line summary and numbered steps; each step has
 * a title, the live panel it shows, the one action it offers and the text
 * that explains it. The parser is strict: anything it does not expect is an
 * error naming file:line, so a broken runbook fails its test, not an
 * engineer at night. */

/* The live state a step shows (loaded on the worker by the Runbooks view). */
typedef enum rb_panel {
    RB_PANEL_NONE,
    RB_PANEL_FAILED_FOLDERS, /* failed folders with their error code and hint */
    RB_PANEL_SILVER_HISTORY, /* recent commits of each pipeline's silver table */
    RB_PANEL_CONSISTENCY,    /* checkpoint rows vs the tables' txn batches */
    RB_PANEL_LEASE,          /* each pipeline's lease holder and expiry */
    RB_PANEL_VACUUM,         /* each table's vacuum horizon vs its history */
    RB_PANEL_COUNT
} rb_panel;

/* The one action a step offers (`a` in the console). */
typedef enum rb_action {
    RB_ACT_NONE,         /* read and acknowledge */
    RB_ACT_NOTE,         /* an incident note (audit.note) */
    RB_ACT_RETRY,        /* retry the selected failed folder */
    RB_ACT_SKIP,         /* skip the selected folder */
    RB_ACT_RESET,        /* make the selected folder pending again */
    RB_ACT_MARK,         /* mark the selected folder processed */
    RB_ACT_RUN,          /* run the selected pipeline */
    RB_ACT_ROLLBACK,     /* roll back the run of the selected commit */
    RB_ACT_RESTORE,      /* restore the selected table to the selected version */
    RB_ACT_VACUUM_CHECK, /* dry-run vacuum of the selected table (deletes nothing) */
    RB_ACT_COUNT
} rb_action;

typedef struct rb_step {
    char *title;
    rb_panel show;
    rb_action action;
    char *text; /* the explanation: paragraphs separated by "\n\n" */
    int line;   /* where the step starts in its file */
} rb_step;

typedef struct runbook {
    char *id;   /* the file name without ".md": "failed-ingest" */
    char *path; /* the file read */
    char *title;
    char *summary;
    rb_step *steps;
    size_t nsteps;
} runbook;

#define RB_MAX_STEPS 20

/* Parses one runbook; path names it in errors ("path:line: ..."), and its
 * base name without ".md" becomes the id. SL_CONFIG_INVALID on any error. */
sl_code runbook_parse(const char *text, const char *path, runbook **out, sl_err *err);
sl_code runbook_load(const char *path, runbook **out, sl_err *err);
void runbook_free(runbook *rb);

/* Every *.md of dir except README.md, sorted by file name; the first broken
 * file fails the whole load (its error names it). */
sl_code runbook_load_dir(const char *dir, runbook ***out, size_t *n, sl_err *err);
void runbooks_free(runbook **rbs, size_t n);

/* The runbooks directory: $SLUICE_RUNBOOKS_DIR, else
 * <exe>/../share/sluice/runbooks, else $SLUICE_SOURCE_DIR/docs/runbooks,
 * else <exe>/../docs/runbooks (a build dir inside the source tree), else the
 * source tree the binary was built from. NULL when none exists. Caller
 * frees. */
char *runbook_dir_find(void);

const char *runbook_panel_name(rb_panel p);
const char *runbook_action_name(rb_action a);

#endif
