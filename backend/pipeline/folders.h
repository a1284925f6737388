#ifndef SLUICE_PIPELINE_FOLDERS_H
#define SLUICE_PIPELINE_FOLDERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/log.h"

/* The source's delivery folders. Epoch folders have all-digit names and are
 * ordered oldest first by their number; anything else is listed apart as
 * "other" so nothing is dropped silently. */
typedef struct source_folder {
    char *name;    /* folder name without the trailing '/' */
    int64_t epoch; /* seconds; -1 for non-epoch entries */
    uint64_t files;
    uint64_t bytes;
    int64_t newest_mtime_ms;
    int is_file; /* a loose file at the top level (other only) */
} source_folder;

typedef struct source_listing {
    source_folder *epochs;
    size_t nepochs;
    source_folder *others;
    size_t nothers;
} source_listing;

/* 1 and the number when name is an epoch folder's (1 to 18 digits, so it
 * fits an int64), else 0. Shared with discovery. */
int folders_epoch_of(const char *name, int64_t *out);

/* Lists the folders directly under prefix ("" for the store root), totalled
 * in one listing pass over every key beneath it (no delimiter, pages of
 * 1,000). A folder holding no object has no key, so it is not listed: S3 has
 * no such folders, and a local one is skipped as discovery skips it. */
sl_code folders_list(store *s, const char *prefix, source_listing *out, sl_err *err);
void folders_free(source_listing *l);
/* {"source","epoch_folders":[{"name","epoch","files","bytes","newest_mtime"}],
 *  "other":[{"name","kind","files","bytes","newest_mtime"}]} */
json_t *folders_to_json(const source_listing *l, const char *source_url);

/* A pipeline's epoch folders in their states: the source listed against
 * the checkpoint, as `sluice folders PIPELINE` and the console's Folders
 * view show them. Every object is listed (files, bytes and times for every
 * folder); markers are not read (expected_rows stays -1). */
typedef struct pipeline_folders {
    ckpt_view ckpt;   /* the latest checkpoint row of every folder */
    pl_discovery dsc; /* every epoch folder with its state, oldest first */
} pipeline_folders;

/* log may be NULL. now_ms: the clock for settle_seconds. */
sl_code pipeline_folders_load(const pipeline_def *d, sl_log *log, int64_t now_ms,
                              pipeline_folders *out, sl_err *err);
void pipeline_folders_free(pipeline_folders *pf);

#endif
