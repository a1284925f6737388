#ifndef SLUICE_PIPELINE_CHECKPOINT_H
#define SLUICE_PIPELINE_CHECKPOINT_H
/* The checkpoint: `_sluice/processed_folders`, an append-only Delta table of
 * folder state rows (pipeline, folder, state, batch, run, counts, versions,
 * times). A folder's state is its row with the highest seq; the history of
 * rows is what an engineer reads after an incident, and "checkpoint
 * restore" is a RESTORE of this table (or a reset row). States: running,
 * processed, failed, skipped, pending (reset). */
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_write.h"
#include "backend/pipeline/systable.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

#define CKPT_TABLE_KEY "_sluice/processed_folders"

typedef struct ckpt_entry {
    char *folder;  /* epoch folder name, or the source file (files layout) */
    int64_t epoch; /* -1 when none */
    char *state;
    int64_t batch_id; /* -1 when none (skip / mark before any batch) */
    char *run_id;
    int64_t seq; /* assigned by ckpt_record */
    int64_t files, bytes, rows_read, rows_bronze, rows_quarantined, rows_dropped;
    int64_t rows_silver, rows_gold; /* -1 when unknown */
    char *versions;                 /* JSON object text {"bronze": N, ...} or NULL */
    char *error_code;               /* SL-... or NULL */
    char *message;                  /* error message, or the operator's reason */
    char *operator_name;
    int64_t started_ms, finished_ms, recorded_ms; /* -1 when unset */
    char *detail; /* JSON text: the files layout's batch manifest; NULL */
} ckpt_entry;

#include "backend/pipeline/discovery.h"

/* The latest entry of every folder of one pipeline, sorted by folder. */
typedef struct ckpt_view {
    ckpt_entry *e;
    size_t n;
    int64_t max_batch_id; /* over every row of the pipeline; -1 when none */
    int64_t max_seq;      /* over every row of the table; 0 when none */
    int64_t version;      /* table version read; -1 when the table does not exist */
} ckpt_view;

/* An entry with every number -1 and every string NULL. */
void ckpt_entry_init(ckpt_entry *e);
void ckpt_entry_clear(ckpt_entry *e);

sl_code ckpt_load(store *lake, const char *pipeline, ckpt_view *out, sl_err *err);
void ckpt_view_free(ckpt_view *v);
/* The folder's latest entry, or NULL. */
const ckpt_entry *ckpt_find(const ckpt_view *v, const char *folder);
/* The view as discovery's known folders (v->n of them, borrowing v's
 * strings). Caller frees the array. */
pl_known *ckpt_view_known(const ckpt_view *v);

/* Appends rows (seq numbered after the table's highest; recorded_ms set
 * when -1) in one commit. With app_step, the commit carries the txn
 * (pipeline_app_id-style "sluice:<pipeline>:<app_step>", txn_version) and is
 * skipped when already applied (*skipped_out 1). A concurrent checkpoint
 * commit makes it re-read and renumber (bounded). */
sl_code ckpt_record(store *lake, const char *pipeline, const ckpt_entry *rows, size_t n,
                    const char *app_step, int64_t txn_version,
                    const delta_commit_meta *meta, int64_t *version_out, int *skipped_out,
                    sl_err *err);

/* Every row of one folder (NULL: of the pipeline), oldest first (by seq). */
sl_code ckpt_history(store *lake, const char *pipeline, const char *folder,
                     ckpt_entry **out, size_t *n, sl_err *err);
void ckpt_entries_free(ckpt_entry *e, size_t n);

/* The table's columns (for tests and readers). */
const systable *ckpt_table(void);

#endif
