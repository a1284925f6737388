#ifndef SLUICE_DELTA_DELTA_VACUUM_H
#define SLUICE_DELTA_DELTA_VACUUM_H

/* VACUUM: deletes data files no version inside the retention window still
 * references, the way Delta Lake does (PROTOCOL.md, "Vacuum"). */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_write.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* 7 days: Delta's default delta.deletedFileRetentionDuration. */
#define DELTA_VACUUM_DEFAULT_RETENTION_MS (168LL * 3600 * 1000)

/* Parses a Delta interval ("interval 7 days", "interval 168 hours",
 * "1 week 2 days", units week/day/hour/minute/second/millisecond/microsecond,
 * singular or plural, case-insensitive, optional leading "interval") into
 * milliseconds. Months and years are refused (not a fixed length), as Delta
 * refuses them for retention. SL_USAGE naming the text on bad input. */
sl_code delta_interval_parse(const char *text, int64_t *ms_out, sl_err *err);

/* The table's delta.deletedFileRetentionDuration (default 7 days). */
sl_code delta_vacuum_table_retention(const json_t *metadata, int64_t *ms_out,
                                     sl_err *err);

/* The store key of a deletion vector's file (PROTOCOL.md "Deletion Vector
 * Descriptor"): storageType 'u' = optional prefix + 20 Z85 characters of a
 * UUID, stored at <table>/<prefix>/deletion_vector_<uuid>.bin; 'p' = an
 * absolute path (inside the store); 'i' (inline) has no file. NULL when
 * there is none or it lies outside the store. Caller frees. */
char *delta_dv_file_key(store *s, const char *table_key, const json_t *dv);

typedef struct delta_vacuum_opts {
    int64_t retain_ms;         /* < 0: the table's retention */
    int force_short_retention; /* allow retain_ms below the table's retention */
    int dry_run;               /* list only: nothing deleted, nothing committed */
    int64_t now_ms;            /* 0: the current time */
    /* 1: record "VACUUM START"/"VACUUM END" commits; 0: never; -1: only on
     * a local (file://) store, as Delta Lake does on a local lake. */
    int record_commits;
    const delta_commit_meta *meta; /* operator/run/audit ids; may be NULL */
} delta_vacuum_opts;

typedef struct delta_vacuum_result {
    char **files; /* paths relative to the table root, sorted (owned) */
    size_t nfiles;
    int64_t bytes;
    size_t ndirs;             /* directories left empty by the deletes */
    int64_t retain_ms;        /* the retention applied */
    int64_t table_retain_ms;  /* the table's retention */
    int64_t snapshot_version; /* the version vacuumed against */
    int64_t start_version;    /* VACUUM START commit, -1 when none */
    int64_t end_version;      /* VACUUM END commit, -1 when none */
} delta_vacuum_result;

/* Opens the latest snapshot, checks the writer protocol (unsupported
 * features: SL_DELTA_UNSUPPORTED_FEATURE before anything is touched) and
 * the retention (below the table's without force: SL_DELTA_RETENTION),
 * lists the table directory and deletes every file that is neither live
 * (nor a live file's deletion vector) nor removed less than the retention
 * ago, and whose modification time is older than now - retention. Hidden
 * names (starting with '_' or '.') are skipped except _change_data and
 * partition directories; _delta_log is never touched. */
sl_code delta_vacuum(store *s, const char *table_key, const delta_vacuum_opts *opts,
                     delta_vacuum_result *out, sl_err *err);
void delta_vacuum_result_free(delta_vacuum_result *r);
/* {"files": [paths], "bytes": N}; new reference. */
json_t *delta_vacuum_result_json(const delta_vacuum_result *r);

#endif
