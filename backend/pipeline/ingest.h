#ifndef SLUICE_PIPELINE_INGEST_H
#define SLUICE_PIPELINE_INGEST_H
/* The ingest step: one folder's source files (JSON lines, CSV or Parquet)
 * cast to the bronze schema and appended to bronze in one commit, with the
 * rows that cannot go there in <bronze>_quarantine (committed first), each
 * commit carrying the batch's txn so a re-run after a crash does nothing
 * twice (issue 5; /tmp/briefs/issue5.md has the tables' columns).
 *
 * Per row, in order: cast (a line that is not a JSON object, a CSV record
 * with the wrong field count, bad UTF-8 ... is malformed and quarantined
 * with its text and the reason); schema drift by on_schema_drift (rescue:
 * unknown keys and values that do not cast go to _rescued_data as a JSON
 * object text and the column is null; evolve: unknown keys become columns
 * added by a metaData commit before the data, typed from the values;
 * fail: SL_INGEST_SCHEMA_DRIFT naming file, line and key); expectations
 * (drop, quarantine with _expectation, or fail the whole step with
 * SL_EXPECTATION_FAILED); then the "during" count check. Data files are
 * written as rows stream by (one file per partition value, a new one every
 * file_rows rows), so a folder never sits in memory as cells. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta_write.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

typedef struct ingest_req {
    const pipeline_def *def;
    store *source;            /* opened on def->source.url */
    const char *const *files; /* source keys of the folder's data files, sorted */
    size_t nfiles;
    int64_t epoch; /* -1 in the files layout (_epoch is null then) */
    int64_t batch_id;
    int64_t ingest_time_us;            /* _ingest_time; _ingest_date is its UTC day */
    const delta_commit_meta *meta;     /* operator / run id / audit id for commitInfo
                                        * (may be NULL) */
    const pq_writer_opts *writer_opts; /* may be NULL */
    int64_t file_rows;                 /* rows per data file before the next one starts
                                        * (0: 1,048,576) */
} ingest_req;

typedef struct ingest_result {
    int skipped; /* bronze txn for this batch already there: nothing done */
    int64_t bronze_version, quarantine_version; /* -1 when no commit was made (when
                                                 * skipped: the tables' versions) */
    int64_t evolve_version; /* evolve's ADD COLUMNS commit on bronze, -1: none */
    int64_t files, bytes, lines; /* input; lines: non-blank lines, CSV records or
                                  * Parquet rows */
    int64_t rows_read;           /* lines/records that were rows (malformed excluded) */
    int64_t rows_written;        /* to bronze */
    int64_t rows_quarantined;    /* malformed lines + on_fail quarantine */
    int64_t rows_dropped;        /* on_fail drop */
    int64_t rows_rescued;        /* rows with a non-null _rescued_data */
    int64_t malformed;
    json_t *expectations;  /* [{"name","column","rule","on_fail","failed":N}] (owned) */
    json_t *added_columns; /* evolve: names added to bronze, [] otherwise (owned) */
} ingest_result;

/* lake: the store opened on def->lake_url; bronze lives at key
 * def->bronze.table, quarantine at "<bronze.table>_quarantine" (both
 * created when missing). Transient store errors and SL_DELTA_CONFLICT are
 * returned as they are (the runner retries; the retry recomputes from a
 * fresh snapshot, and a commit already made is found by its txn). */
sl_code ingest_run(store *lake, const ingest_req *req, ingest_result *out, sl_err *err);
void ingest_result_clear(ingest_result *r);

/* The bronze / quarantine columns for a def (names owned by the arrays; free
 * with delta_schema_cols_free). Bronze: the declared columns, _rescued_data
 * (rescue only), _source_file, _source_line, _epoch, _batch_id,
 * _ingest_time, _ingest_date; columns added by evolve follow in the table.
 * SL_PIPELINE_INVALID when a declared column takes a system column's name. */
sl_code ingest_bronze_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                           sl_err *err);
sl_code ingest_quarantine_cols(pq_schema_col **cols, size_t *n, sl_err *err);

#endif
