#ifndef SLUICE_PIPELINE_SOURCE_FILES_H
#define SLUICE_PIPELINE_SOURCE_FILES_H
/* `_sluice/source_files`: for the files layout, what each source file was
 * when it was last loaded (key, etag, size, mtime, the batch, present or
 * deleted), so a file overwritten since is pending again. Append-only; a
 * file's latest row is the one of its highest batch. */
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_write.h"
#include "backend/pipeline/discovery.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

#define SRCFILES_TABLE_KEY "_sluice/source_files"

typedef struct srcfile {
    char *file; /* source key */
    char *key;  /* key_from_name's capture */
    char *etag;
    int64_t size, mtime_ms, batch_id;
    char *state; /* "present" | "deleted" */
} srcfile;

/* The latest row of every file of the pipeline, sorted by file. */
sl_code srcfiles_load(store *lake, const char *pipeline, srcfile **out, size_t *n, sl_err *err);
void srcfiles_free(srcfile *v, size_t n);
/* The present ones as discovery's known files (borrowing v's strings). */
pl_known_file *srcfiles_known(const srcfile *v, size_t n, size_t *nknown);
/* One commit of rows with txn(sluice:<pipeline>:source_files, batch_id),
 * skipped when already applied. */
sl_code srcfiles_record(store *lake, const char *pipeline, const srcfile *rows, size_t n,
                        int64_t batch_id, const delta_commit_meta *meta, sl_err *err);

#endif
