#ifndef SLUICE_PIPELINE_DISCOVERY_H
#define SLUICE_PIPELINE_DISCOVERY_H
/* Discovery: what the source holds compared with what the checkpoint knows.
 *
 * The source store is rooted at the pipeline's source URL. It is listed in
 * one pass, without a delimiter, page after page (S3 style: one request per
 * page, never one per folder), and keys are grouped by their first path
 * segment; the listing is in byte order, so every folder's keys arrive
 * together and each folder is finished as soon as the next one starts.
 * pl_discover_opts.done_by_name lists the folder names instead and then
 * only the folders a run may take. */

#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* Keys asked for per listing request: S3's page. The local store resumes a
 * page at the continuation token without walking the keys before it, so
 * small pages cost no more there than one large one (bench_discovery). */
#define DISCOVER_PAGE_KEYS 1000

/* ---- epoch layout ------------------------------------------------------ */

/* The checkpoint's latest state of a folder (borrowed strings). Arrays of
 * these are sorted by folder in byte order (strcmp). state is one of
 * "running", "processed", "failed", "skipped", "pending" (a reset). */
typedef struct pl_known {
    const char *folder;
    const char *state;
    int64_t batch_id;
    /* The checkpoint row's detail (JSON text) or NULL; an epoch folder's
     * {"excluded_files": ["<folder>/<file>", ...]} lists source files an
     * operator took out of the folder (skip-file): they are not loaded. */
    const char *detail;
} pl_known;

typedef struct pl_folder {
    char *folder;  /* "1700000000" (no slash) */
    int64_t epoch; /* the folder name's number */
    /* "pending" | "waiting" (no marker yet, or settling; see why) |
     * "running" | "processed" | "failed" | "skipped" (static strings) */
    const char *state;
    char *why;      /* for waiting (and an unknown checkpoint state); else NULL */
    uint64_t files; /* data files (see data_files) and their bytes */
    uint64_t bytes;
    int64_t newest_mtime_ms; /* of every object in the folder, marker included */
    int has_marker;
    /* From the marker when it is JSON {"rows": N} (read for pending folders
     * only, see pl_discover_opts); else -1. */
    int64_t expected_rows;
    /* For pending folders: 1 when expected_rows is final (the marker was
     * read, is empty, or no marker is configured); 0 when the marker was
     * not read (past max_marker_reads): then discover_marker_rows tells.
     * 0 for every other state. */
    int marker_checked;
    /* Keys (relative to the source root, "1700000000/part-0.jsonl") of the
     * folder's objects except the marker and any whose path below the folder
     * has a segment starting with '_' or '.' (_temporary/, .staging/);
     * sorted in byte order. Filled for pending, running and failed folders
     * (those a run takes, resumes or retries). */
    char **data_files;
    /* Objects left out because the checkpoint excludes them (skip-file),
     * and the exclusion as the checkpoint holds it (JSON text, to carry
     * into the folder's next rows), else NULL. */
    size_t nexcluded;
    char *excluded_detail;
    size_t ndata_files;
    int64_t batch_id; /* from the checkpoint; -1 when unknown */
    int late;         /* pending and older than the newest processed epoch */
} pl_folder;

typedef struct pl_discovery {
    pl_folder *folders; /* all epoch folders, oldest epoch first (ties by name) */
    size_t n;
    size_t npending, nwaiting;
    int64_t newest_processed_epoch; /* -1 when nothing is processed */
    size_t nlate;                   /* pending folders older than it */
    size_t nlisted; /* objects listed (all, epoch or not; see done_by_name) */
    size_t npages;  /* listing requests made */
} pl_discovery;

typedef struct pl_discover_opts {
    int64_t now_ms;   /* the clock for settle_seconds */
    size_t page_keys; /* keys per listing request; 0: DISCOVER_PAGE_KEYS */
    /* Markers read for expected_rows: those of the first max_marker_reads
     * pending folders (oldest first) that are not empty; 0: every pending
     * folder's, -1 (SIZE_MAX): none. Each read is one GET. */
    size_t max_marker_reads;
    /* 0: every object of the source is listed (one paged pass), so every
     * folder reports files, bytes, newest_mtime_ms and has_marker (the
     * console's folder table needs that).
     * 1 (meant for the runner): the folder names come from one listing with
     * the delimiter '/' (pages of names: locally no folder is opened), then
     * only the folders a run may take (no checkpoint state or reset, running,
     * failed) are listed, each by its prefix, with their objects' sizes and
     * times. A processed or skipped folder is known by its name alone: files,
     * bytes, newest_mtime_ms and has_marker are 0 (the checkpoint holds its
     * counts), and an empty local folder counts as one. Every other folder's
     * results equal those of 0. Locally a fifth of 0's time on 50,000 folders
     * with 5,000 pending (bench_discovery); but a folder listed by prefix is
     * one request more, so with few folders known (or on S3, where sizes
     * come with every listing, during a backlog of thousands of folders) 0
     * makes fewer requests. nlisted and npages then count every listing:
     * the names, then each folder's objects. */
    int done_by_name;
} pl_discover_opts;

/* Lists the source (d->source: ready_marker, settle_ms) and classifies every
 * epoch folder (all-digit names of up to 18 digits; anything else is left to
 * folders_list). A folder is reported in its checkpoint state when it has
 * one ("failed" stays failed until retried), except "pending" (a reset):
 * such folders and unknown ones are pending, or waiting when the marker is
 * required and missing, or when the newest object is younger than
 * settle_ms. An unrecognised checkpoint state is reported as failed with
 * why saying so (never silently reprocessed). known may be NULL when
 * nknown is 0; it must be sorted by folder. */
sl_code discover_epochs(store *src, const pipeline_def *d, const pl_known *known,
                        size_t nknown, const pl_discover_opts *opts, pl_discovery *out,
                        sl_err *err);
void pl_discovery_free(pl_discovery *dsc);

/* Reads a folder's marker and returns its {"rows": N} as *rows, or -1 when
 * the marker is empty, not JSON or has no non-negative integer "rows". A
 * missing marker is SL_STORE_NOT_FOUND. */
sl_code discover_marker_rows(store *src, const pipeline_def *d, const char *folder,
                             int64_t *rows, sl_err *err);

/* ---- files layout ------------------------------------------------------ */

/* What _sluice/source_files remembers of a source file (borrowed strings),
 * sorted by file (strcmp). */
typedef struct pl_known_file {
    const char *key;  /* from key_from_name */
    const char *file; /* source key relative to the source root */
    const char *etag; /* may be NULL or "": then size and mtime decide */
    uint64_t size;
    int64_t mtime_ms;
} pl_known_file;

typedef struct pl_file {
    char *file; /* source key */
    char *key;  /* key_from_name's group 1 (the whole match without a group) */
    /* "new" | "changed" (etag, size or mtime differ) | "unchanged" |
     * "deleted" (known, no longer listed) (static strings) */
    const char *state;
    char etag[48]; /* listed values; the known ones for "deleted" */
    uint64_t size;
    int64_t mtime_ms;
} pl_file;

typedef struct pl_file_discovery {
    pl_file *files; /* sorted by file */
    size_t n;
    size_t nnew, nchanged, nunchanged, ndeleted;
    size_t nignored; /* listed objects whose name does not match */
    size_t nlisted, npages;
} pl_file_discovery;

/* Lists every object under the source root (paginated as above)
 * and keeps those whose base name (after the last '/') matches
 * d->source.key_from_name as a whole (the regex is anchored at both ends),
 * comparing them with known. The regex is POSIX extended with \d and \D
 * accepted (as [0-9] and [^0-9]); a bad one is SL_PIPELINE_INVALID. */
sl_code discover_files(store *src, const pipeline_def *d, const pl_known_file *known,
                       size_t nknown, pl_file_discovery *out, sl_err *err);
void pl_file_discovery_free(pl_file_discovery *fd);

#endif
