#ifndef SLUICE_TESTS_DELTATEST_H
#define SLUICE_TESTS_DELTATEST_H

/* Helpers shared by the Delta tests (test_delta_*.c): copies of fixture
 * tables, a digest of a directory tree, opening stores and snapshots, small
 * tables built through the write path, and a table's live rows read back
 * through our snapshot and Parquet reader. Every helper fails the running
 * cmocka test on an unexpected error, so the tests stay free of plumbing. */

#include "testutil.h"

#include <jansson.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_write.h"
#include "backend/ops/session.h"
#include "backend/store/store.h"

/* A growable list of owned strings. */
typedef struct dt_strs {
    char **v;
    size_t n, cap;
} dt_strs;

/* Appends s (the list takes ownership). */
void dt_strs_push(dt_strs *l, char *s);
/* Byte order (strcmp). */
void dt_strs_sort(dt_strs *l);
/* 1 when l (sorted) holds s. */
int dt_strs_has(const dt_strs *l, const char *s);
void dt_strs_clear(dt_strs *l);
/* qsort/bsearch comparator over char * elements. */
int dt_cmp_str(const void *a, const void *b);

/* Every entry's path under dir, then a sha256 of every regular file, as one
 * text: equal digests mean nothing was written, added or removed. Caller
 * frees. */
char *dt_tree_digest(const char *dir);

/* Copies the fixture table fixtures/delta/<rel> to <parent>/copy-<last part
 * of rel> (mtimes kept, made writable) and returns that path; NULL when the
 * fixtures are absent. Caller frees. */
char *dt_copy_fixture(const char *parent, const char *rel);

/* A store on a local directory. */
store *dt_open_store(const char *dir);

/* The latest snapshot of the table at key. */
delta_snapshot *dt_snap_latest(store *s, const char *key);

/* Creates a table at key; part: the one partition column, or NULL. */
void dt_create_table(store *s, const char *key, const pq_schema_col *cols, size_t ncols,
                     const char *part);

/* Appends nrows rows of ncols cells; returns the version committed. */
int64_t dt_append(store *s, const char *key, const pq_value *rows, size_t nrows,
                  size_t ncols);

/* Called for each live file with its add action and the rows read from it
 * (an array of row objects). */
typedef void (*dt_file_check)(const json_t *add, const json_t *rows, void *ctx);

/* Every live row of the latest snapshot as "row-json|partitionValues-json"
 * (sorted keys, compact), sorted: a multiset comparable with another. Each
 * file's stats numRecords must match the rows read; check (may be NULL) sees
 * each file too. */
dt_strs dt_table_rows(store *s, const char *key, dt_file_check check, void *ctx);

/* Asserts two sorted row lists are the same multiset. */
void dt_assert_rows_equal(const dt_strs *got, const dt_strs *want);

/* A session for the ops layer: state under <dir>/state, a minimal config
 * <dir>/sluice.json (environment "test"), operator "alice", channel cli. */
session *dt_session(const char *dir);

#endif
