#ifndef SLUICE_PARQUET_PQ_COLUMN_H
#define SLUICE_PARQUET_PQ_COLUMN_H

/* Internal to backend/parquet: the column writer. Each type is a table of
 * functions (pq_col_type, in pq_col_types.c); the page and chunk mechanics
 * around it are shared (pq_column.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend/parquet/pq_meta.h"
#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"

/* Page limits: a page is closed at the configured byte size or this many
 * rows, and never grows past the hard limit (page sizes are i32). */
#define PQ_PAGE_DEFAULT_SIZE ((size_t)1 << 20)
#define PQ_PAGE_MAX_ROWS 20000
#define PQ_PAGE_HARD_MAX ((size_t)1 << 30)

/* min/max over the values statistics count (not NaN); string values point
 * into min_buf/max_buf, so they outlive the caller's row. */
typedef struct pq_col_stats {
    int64_t null_count;
    bool has_min_max;
    pq_value min, max;
    sl_buf min_buf, max_buf;
} pq_col_stats;

typedef struct pq_column pq_column;

typedef struct pq_col_type {
    pq_type type;
    const char *label;
    pq_physical physical;
    pq_converted converted;
    pq_logical logical;
    /* The deprecated Statistics.min/max are only right for signed-order types. */
    bool legacy_stats;
    /* Upper bound of the bytes put_plain appends for v. */
    size_t (*plain_size)(const pq_value *v);
    /* Appends v's PLAIN encoding to c->page_values. */
    void (*put_plain)(pq_column *c, const pq_value *v);
    /* Whether v takes part in min/max (false for NaN). */
    bool (*stat_eligible)(const pq_value *v);
    /* <0, 0, >0 in the type's sort order. */
    int (*compare)(const pq_value *a, const pq_value *b);
    /* PLAIN bytes of a min (is_max false) or max, without a length prefix. */
    void (*stat_encode)(const pq_value *v, bool is_max, sl_buf *out);
    /* The Delta add.stats value, or NULL when Delta keeps no bound. */
    json_t *(*stat_json)(const pq_value *v, bool is_max);
} pq_col_type;

struct pq_column {
    const pq_col_type *t;
    char *name;
    const char *path[1]; /* path_in_schema of a flat column: its name */
    bool nullable;
    size_t page_size;
    /* the open page */
    sl_buf page_values;
    sl_buf page_levels; /* one definition level per row (0 null, 1 value) */
    int64_t page_rows;
    int64_t page_nonnull;
    /* the open column chunk: finished pages with their headers */
    sl_buf chunk;
    int64_t chunk_rows;
    pq_col_stats chunk_stats;
    /* the whole file, for Delta */
    pq_col_stats file_stats;
};

const pq_col_type *pq_col_type_get(pq_type type);

void pq_column_init(pq_column *c, const pq_schema_col *sc, const pq_col_type *t,
                    size_t page_size);
void pq_column_free(pq_column *c);
/* Appends one cell (already validated against the schema). */
void pq_column_add(pq_column *c, const pq_value *v);
/* Closes the open page into c->chunk (no-op when empty). */
void pq_column_flush_page(pq_column *c);
/* After the chunk was copied out: folds its statistics into the file's and
 * starts an empty chunk. */
void pq_column_next_chunk(pq_column *c);

void pq_col_stats_update(const pq_col_type *t, pq_col_stats *s, const pq_value *v);
void pq_col_stats_free(pq_col_stats *s);

/* Delta's string bounds: a prefix of at most prefix_len UTF-16 units for a
 * minimum; for a maximum a prefix plus a tie-breaker character that keeps it
 * an upper bound. NULL when no bound can be given (invalid UTF-8, or a max
 * that cannot be bounded within twice the prefix). The result may hold NUL
 * bytes: its length goes to *out_len. Caller frees. */
char *pq_delta_string_min(const char *s, size_t len, size_t prefix_len, size_t *out_len);
char *pq_delta_string_max(const char *s, size_t len, size_t prefix_len, size_t *out_len);

/* Builds add.stats for the file's columns. */
json_t *pq_delta_stats_build(const pq_column *cols, size_t ncols, int64_t num_rows);

#endif
