#ifndef SLUICE_PARQUET_PQ_COLUMN_H
#define SLUICE_PARQUET_PQ_COLUMN_H

/* Internal to backend/parquet: the column writer. pq_col_types.c describes
 * each pq_type (annotations, Parquet and Delta statistics forms);
 * pq_column.c does pages, dictionaries and chunks with one switch per value
 * on the column's physical kind. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "backend/parquet/pq_dict.h"
#include "backend/parquet/pq_meta.h"
#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

/* Page limits: a page is closed at the configured byte size or this many
 * rows, and never grows past the hard limit (page sizes are i32). */
#define PQ_PAGE_DEFAULT_SIZE ((size_t)1 << 20)
#define PQ_PAGE_MAX_ROWS 20000
#define PQ_PAGE_HARD_MAX ((size_t)1 << 30)
#define PQ_DICT_DEFAULT_LIMIT ((size_t)1 << 20)
/* Slots (as a power of two) of a column's cache of recent dictionary indices. */
#define PQ_DCACHE_BITS 8
/* Binary min/max longer than this are left out of the Parquet statistics
 * (the footer would carry them once per row group). */
#define PQ_STAT_MAX_BYTES 4096

/* How values are held and compared: one per physical type. Decimals in
 * FIXED_LEN_BYTE_ARRAY compare as 128-bit integers. */
typedef enum pq_kind {
    PQ_KIND_BOOL,
    PQ_KIND_I32,
    PQ_KIND_I64,
    PQ_KIND_FLOAT,
    PQ_KIND_DOUBLE,
    PQ_KIND_BYTES,
    PQ_KIND_FLBA,
} pq_kind;

/* min/max over the values statistics count (not NaN). Byte-array bounds
 * point into min_buf/max_buf, so they outlive the caller's row; FLBA
 * (decimal) bounds are held as dec. */
typedef struct pq_col_stats {
    int64_t null_count;
    bool has_nan; /* a NaN was seen (floats) */
    bool has_min_max;
    pq_value min, max;
    sl_buf min_buf, max_buf;
} pq_col_stats;

/* What a pq_type is on disk (decimals refine physical by precision). */
typedef struct pq_col_type {
    pq_type type;
    const char *label;
    pq_physical physical;
    pq_converted converted;
    pq_logical logical;
    /* The deprecated Statistics.min/max are only right for signed-order types. */
    bool legacy_stats;
} pq_col_type;

/* Buffers shared by the columns of one writer (one page at a time). */
typedef struct pq_page_scratch {
    sl_buf body;
    sl_buf comp;
    sl_buf levels;
    uint64_t pages; /* pages the writer's columns have closed */
} pq_page_scratch;

typedef struct pq_column {
    const pq_col_type *t;
    char *name;
    const char *path[1]; /* path_in_schema of a flat column: its name */
    bool nullable;
    pq_kind kind;
    size_t width; /* fixed value width in bytes (FLBA: type_length) */
    pq_physical physical;
    int32_t type_length;
    bool is_decimal;
    int32_t precision, scale;

    size_t page_size;
    size_t dict_limit;
    bool use_dict; /* dictionary tried for each new chunk */
    pq_codec codec;
    int level;
    pq_page_scratch *scratch; /* borrowed from the writer */

    /* Level maxima: a flat column has max_def 1 when nullable (else 0) and
     * max_rep 0; a nested leaf gets its own from pq_column_set_levels. */
    int max_def, max_rep;
    /* A nested page is full but closes only where a record starts (rep 0),
     * so no record spans two pages. */
    bool page_full;

    /* the open page */
    uint8_t *levels;    /* one definition level per entry (max_def > 0) */
    uint8_t *reps;      /* one repetition level per entry (max_rep > 0) */
    uint32_t *idx;      /* dictionary indices of the non-null values */
    size_t page_cap;    /* capacity of levels and idx */
    sl_buf page_values; /* PLAIN values (when not dictionary-encoded) */
    int64_t page_rows;
    int64_t page_nonnull;
    size_t page_plain_bytes; /* what the page would take PLAIN */

    /* the chunk's dictionary */
    bool dict_on; /* values currently go through the dictionary */
    int dict_bw;  /* bit width of the largest index */
    pq_dict dict;
    int32_t dict_data_pages;  /* data pages written RLE_DICTIONARY */
    int32_t plain_data_pages; /* data pages written PLAIN */
    /* The previous non-null value while it is in the dictionary, so that a
     * repeat (constant and low-cardinality columns) costs one compare: its
     * index repeats and the statistics already hold it. last_ok implies
     * dict_on. */
    bool last_ok;
    uint32_t last_idx;
    uint64_t last_lo, last_hi;   /* fixed kinds: the value's bits (pq_column_bits) */
    uint32_t last_off, last_len; /* byte arrays: its bytes in dict.data */
    size_t last_plain;           /* its PLAIN size (page_plain_bytes) */
    /* Recent values' dictionary indices (+1; 0: empty) by a hash of a few of
     * their bytes, checked against the entry: a low-cardinality column
     * then rarely pays the dictionary's full hash and probe. */
    uint32_t *dcache;

    /* the open column chunk: finished data pages with their headers */
    sl_buf chunk;
    int64_t chunk_uncompressed; /* headers + uncompressed bodies */
    int64_t chunk_rows;
    /* the dictionary page (header + body), built when the chunk closes */
    sl_buf dict_page;
    int64_t dict_page_uncompressed;
    pq_col_stats chunk_stats;
    /* the whole file, for Delta */
    pq_col_stats file_stats;
} pq_column;

const pq_col_type *pq_col_type_get(pq_type type);
/* Bytes of the smallest two's complement that holds every value of a
 * decimal precision (1..38). */
int32_t pq_decimal_flba_length(int32_t precision);

/* sc must be valid (the writer checked it). */
void pq_column_init(pq_column *c, const pq_schema_col *sc, const pq_writer_opts *o,
                    pq_codec codec, pq_page_scratch *scratch);
void pq_column_free(pq_column *c);
/* Appends one cell of a flat column (already validated against the schema).
 * repeat: pq_column_repeats(c, v) said true (the caller asked it first, for
 * the validation it lets skip). May close a page. pq_column_add does the
 * commonest cells (a null, a repeat) inline when the page has room. */
sl_code pq_column_add_cell(pq_column *c, const pq_value *v, bool repeat, sl_err *err);
/* Closes the open page into c->chunk (no-op when empty). */
sl_code pq_column_flush_page(pq_column *c, sl_err *err);
static inline sl_code pq_column_add(pq_column *c, const pq_value *v, bool repeat,
                                    sl_err *err)
{
    int64_t r = c->page_rows;
    if (!(repeat || v->is_null) || r >= (int64_t)c->page_cap || r + 1 >= PQ_PAGE_MAX_ROWS)
        return pq_column_add_cell(c, v, repeat, err);
    c->page_rows = r + 1;
    c->chunk_rows++;
    if (repeat) {
        if (c->max_def > 0)
            c->levels[r] = (uint8_t)c->max_def;
        c->idx[c->page_nonnull++] = c->last_idx;
        c->page_plain_bytes += c->last_plain;
        if ((size_t)c->page_nonnull * (size_t)c->dict_bw >= c->page_size * 8)
            return pq_column_flush_page(c, err);
        return SL_OK;
    }
    c->levels[r] = 0; /* a null: the column is nullable (the writer checked) */
    c->chunk_stats.null_count++;
    return SL_OK;
}
/* Gives a nested leaf its level maxima (max_def, max_rep <= 255); call
 * right after pq_column_init. */
void pq_column_set_levels(pq_column *c, int max_def, int max_rep);
/* Fills cc (and es, stat_min, stat_max, which must outlive the footer) for
 * the chunk c has just finished, written at dict_off (0: none) / data_off. */
void pq_column_fill_meta(const pq_column *c, const char *const *path, size_t path_len,
                         int64_t dict_off, int64_t data_off, pq_column_chunk *cc,
                         pq_page_encoding_stats *es, sl_buf *stat_min, sl_buf *stat_max);
/* Appends one level entry of a nested leaf (already validated): v is the
 * value when def == max_def, else NULL. With max_rep > 0 pages close only
 * before an entry with rep 0. */
sl_code pq_column_add_leveled(pq_column *c, int def, int rep, const pq_value *v,
                              sl_err *err);
/* Closes the open page and, when data pages use the dictionary, builds the
 * dictionary page into c->dict_page. */
sl_code pq_column_finish_chunk(pq_column *c, sl_err *err);
/* After the chunk was written out: folds its statistics into the file's and
 * starts an empty chunk. */
void pq_column_next_chunk(pq_column *c);

/* Bytes the open chunk holds or will hold: compressed pages, the open page
 * as encoded so far, the dictionary. Between two page closes one cell adds
 * at most PQ_CELL_GROWTH bytes plus its PLAIN value (its length prefix
 * included); a null or a repeat at most PQ_REPEAT_GROWTH. (A new dictionary
 * entry can widen every index on the page by a bit: PQ_PAGE_MAX_ROWS / 8.) */
#define PQ_CELL_GROWTH ((size_t)PQ_PAGE_MAX_ROWS / 8 + 64)
#define PQ_REPEAT_GROWTH ((size_t)8)
static inline size_t pq_column_buffered(const pq_column *c)
{
    size_t open = c->dict_on ? (size_t)c->page_nonnull * (size_t)c->dict_bw / 8
                             : c->page_values.len;
    size_t dict = c->dict_on || c->dict_data_pages ? c->dict.data.len : 0;
    return c->chunk.len + open + dict + (size_t)c->page_rows / 8;
}

/* A fixed-width value's bits as the dictionary compares them (bitwise: -0.0
 * and +0.0, NaN payloads stay distinct); decimals in their physical width. */
static inline void pq_column_bits(const pq_column *c, const pq_value *v, uint64_t *lo,
                                  uint64_t *hi)
{
    *hi = 0;
    switch (c->kind) {
    case PQ_KIND_I32:
        *lo = (uint32_t)(c->is_decimal ? (int32_t)v->dec.lo : v->i32);
        break;
    case PQ_KIND_I64:
        *lo = c->is_decimal ? v->dec.lo : (uint64_t)v->i64;
        break;
    case PQ_KIND_FLOAT: {
        uint32_t b;
        memcpy(&b, &v->f32, 4);
        *lo = b;
        break;
    }
    case PQ_KIND_DOUBLE:
        memcpy(lo, &v->f64, 8);
        break;
    case PQ_KIND_FLBA:
        *lo = v->dec.lo;
        *hi = (uint64_t)v->dec.hi;
        break;
    default:
        *lo = v->b;
        break;
    }
}

/* Byte equality without a library call for the short values a repeat
 * check mostly sees. */
static inline bool pq_bytes_equal(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return a0 == b0 && a1 == b1;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, b0, a1, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* Whether the non-null cell v equals the previous value of a flat column
 * whose chunk still has that value in its dictionary: then v needs no hash,
 * no statistics and (strings) no second UTF-8 check. */
static inline bool pq_column_repeats(const pq_column *c, const pq_value *v)
{
    if (!c->last_ok)
        return false;
    if (c->kind == PQ_KIND_BYTES)
        return v->str.len == c->last_len &&
               pq_bytes_equal(c->dict.data.data + c->last_off, v->str.ptr, v->str.len);
    uint64_t lo, hi;
    pq_column_bits(c, v, &lo, &hi);
    return lo == c->last_lo && hi == c->last_hi;
}

/* Statistics in the column's kind. */
void pq_col_stats_update(const pq_column *c, pq_col_stats *s, const pq_value *v);
void pq_col_stats_free(pq_col_stats *s);
/* The Parquet statistics bytes of a bound (PLAIN, no length prefix): zero
 * float bounds as -0.0 (min) / +0.0 (max), decimals in their physical form.
 * false when the bound is too long to record. */
bool pq_col_stat_encode(const pq_column *c, const pq_value *v, bool is_max, sl_buf *out);

/* Delta's string bounds: a prefix of at most prefix_len UTF-16 units for a
 * minimum; for a maximum a prefix plus a tie-breaker character that keeps it
 * an upper bound. NULL when no bound can be given (invalid UTF-8, or a max
 * that cannot be bounded within twice the prefix). The result may hold NUL
 * bytes: its length goes to *out_len. Caller frees. */
char *pq_delta_string_min(const char *s, size_t len, size_t prefix_len, size_t *out_len);
char *pq_delta_string_max(const char *s, size_t len, size_t prefix_len, size_t *out_len);

/* add.stats for the file's columns as exact JSON text (caller frees), and
 * that text as jansson values. */
char *pq_delta_stats_text(const pq_column *cols, size_t ncols, int64_t num_rows);
json_t *pq_delta_stats_build(const char *text);

/* 128-bit helpers shared by the decimal code. */
int pq_int128_cmp(pq_int128 a, pq_int128 b);
/* Whether |v| < 10^precision. */
bool pq_int128_fits_precision(pq_int128 v, int32_t precision);

/* ---- closed row groups (both writers) ------------------------------- */

/* page encoding stats per chunk: dictionary page, PLAIN and RLE_DICTIONARY data */
#define PQ_MAX_ENC_STATS 3

/* A closed row group: its metadata plus the bytes its statistics point to. */
typedef struct pq_rg_record {
    pq_row_group rg;
    pq_column_chunk *chunks;
    pq_page_encoding_stats (*enc_stats)[PQ_MAX_ENC_STATS];
    sl_buf *stat_min, *stat_max;
} pq_rg_record;

/* A new zeroed record of ncols chunks at the end of *v (grown as needed);
 * owned by the array from here, even when the flush then fails. */
pq_rg_record *pq_rg_records_add(pq_rg_record **v, size_t *n, size_t *cap, size_t ncols);
void pq_rg_records_free(pq_rg_record *v, size_t n, size_t ncols);

#endif
