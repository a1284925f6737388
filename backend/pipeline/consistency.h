#ifndef SLUICE_PIPELINE_CONSISTENCY_H
#define SLUICE_PIPELINE_CONSISTENCY_H
/* Is the checkpoint in step with the tables? Every step commits with a txn
 * (appId "sluice:<pipeline>:<bronze|silver|gold>", version = batch id), and
 * txn versions only grow, so a table's txn version is the newest batch it
 * holds. Three kinds of disagreement are reported:
 *   - "missing": a processed folder's batch is newer than a table's txn
 *     (the table lost commits behind the checkpoint's back);
 *   - "orphan": a table's txn is newer than every batch of the checkpoint
 *     (the checkpoint was restored while the table kept the data);
 *   - "undone": a RESTORE commit of a table went back behind the version a
 *     processed folder's step produced (a RESTORE keeps the txns, so only
 *     the table's history shows it).
 * Read only. */
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct cons_issue {
    const char *kind;    /* "missing" | "orphan" | "undone" (static) */
    char *folder;        /* missing, undone: the folder; orphan: NULL */
    char *table;         /* the table under the lake ("orders") */
    int64_t batch_id;    /* the checkpoint's batch (missing, undone) or the table's */
    int64_t table_batch; /* the table's txn version; -1 when it has none */
    int64_t version;     /* undone: the version the folder's step produced */
    int64_t restored_to; /* undone: the RESTORE's target version */
} cons_issue;

typedef struct cons_report {
    cons_issue *issues;
    size_t n;
    size_t folders_checked; /* processed folders with a batch */
    size_t tables_checked;
    int64_t ckpt_max_batch; /* -1 when the checkpoint has no batch */
} cons_report;

/* lake: the pipeline's lake store. Tables that do not exist yet hold no
 * batch. Store and log errors pass through. */
sl_code consistency_check(store *lake, const pipeline_def *d, cons_report *out,
                          sl_err *err);
void cons_report_free(cons_report *r);

#endif
