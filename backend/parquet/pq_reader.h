#ifndef SLUICE_PARQUET_PQ_READER_H
#define SLUICE_PARQUET_PQ_READER_H

/* Reading Parquet files: footer and Thrift metadata, the schema tree with
 * levels, column chunks page by page (dictionary, DATA_PAGE v1 and v2, every
 * encoding of pq_decode.h, every codec of pq_codec.h), and record assembly
 * of nested columns into JSON rows with column projection. Memory stays
 * bounded by the row group being read. Errors: SL_PARQUET_* codes naming the
 * file, row group, column and page. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_decode.h"
#include "backend/parquet/pq_meta.h"
#include "backend/store/store.h"
#include "backend/util/err.h"

/* Where the bytes come from. read fills exactly len bytes or fails. */
typedef struct pq_source {
    void *ctx;
    uint64_t size;
    const char *name; /* for messages (path or URL/key) */
    sl_code (*read)(void *ctx, uint64_t offset, size_t len, uint8_t *dst, sl_err *err);
    void (*close)(void *ctx);
} pq_source;

sl_code pq_source_file(const char *path, pq_source *out, sl_err *err);
/* data is borrowed and must outlive the reader. */
void pq_source_memory(const void *data, size_t len, const char *name, pq_source *out);
/* Range reads through the object store (s is borrowed). */
sl_code pq_source_store(store *s, const char *key, pq_source *out, sl_err *err);

/* The schema tree. Leaves carry their column index and max levels. */
typedef struct pq_node {
    char *name;
    bool is_leaf;
    pq_physical type;      /* leaves */
    int32_t type_length;   /* FIXED_LEN_BYTE_ARRAY */
    pq_repetition repetition; /* the root is REQUIRED */
    pq_converted converted;
    pq_logical logical;
    int32_t scale, precision; /* DECIMAL (from either annotation) */
    int32_t field_id;      /* -1 when absent */
    struct pq_node *parent;
    struct pq_node **children;
    size_t num_children;
    int16_t max_def, max_rep;
    int leaf_index;        /* column index for leaves, -1 for groups */
    char *path;            /* dotted path from below the root: "add.partitionValues.key_value.key" */
} pq_node;

typedef struct pq_chunk_info {
    pq_codec codec;
    pq_encoding encodings[16];
    size_t num_encodings;
    int64_t num_values;
    int64_t total_compressed_size;
    int64_t total_uncompressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* 0: absent (a zero offset means absent) */
    int64_t file_offset;
    bool has_null_count;
    int64_t null_count;
    bool has_min, has_max;
    uint8_t *min_value, *max_value; /* PLAIN-encoded, owned */
    size_t min_len, max_len;
} pq_chunk_info;

typedef struct pq_rowgroup_info {
    int64_t num_rows;
    int64_t total_byte_size;
    pq_chunk_info *chunks; /* one per leaf, in leaf order */
    size_t num_chunks;
} pq_rowgroup_info;

typedef struct pq_file_info {
    int32_t version;
    int64_t num_rows;
    char *created_by;          /* NULL when absent */
    pq_rowgroup_info *row_groups;
    size_t num_row_groups;
    pq_node *root;
    pq_node **leaves;
    size_t num_leaves;
    json_t *key_value_metadata; /* object key -> string (or null), owned */
    uint64_t file_size;
    uint32_t footer_len;
} pq_file_info;

typedef struct pq_reader pq_reader;

/* Takes ownership of src (closed by pq_reader_close, also on failure). */
sl_code pq_reader_open(pq_source *src, pq_reader **out, sl_err *err);
sl_code pq_reader_open_file(const char *path, pq_reader **out, sl_err *err);
void pq_reader_close(pq_reader *r);
const pq_file_info *pq_reader_info(const pq_reader *r);

/* One column chunk decoded (columnar). values by physical type: int32_t,
 * int64_t, float, double, uint8_t (BOOLEAN), 12-byte records (INT96),
 * pq_span (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY; pointing into storage the
 * column data owns). def/rep are NULL when the leaf's max level is 0. */
typedef struct pq_column_data {
    const pq_node *leaf;
    size_t num_levels;  /* level entries (null and empty slots included) */
    int16_t *def;
    int16_t *rep;
    size_t num_values;  /* non-null values */
    void *values;
    void *storage;      /* private */
} pq_column_data;

sl_code pq_read_column(pq_reader *r, size_t row_group, size_t leaf, pq_column_data *out,
                       sl_err *err);
void pq_column_data_free(pq_column_data *d);

/* Rows as JSON objects, streaming one row group at a time.
 * columns: top-level names or dotted paths ("add.path", "add.partitionValues");
 * NULL/0: all. A projected path keeps the structure above it
 * ({"add":{"path":...}}); a null parent stays null.
 * Values: BOOLEAN true/false; integers as JSON integers (UINT_64 above
 * INT64_MAX as a string); FLOAT/DOUBLE as numbers, NaN/Infinity/-Infinity as
 * strings; strings (UTF8/STRING/ENUM/JSON) as strings; other BYTE_ARRAY/FLBA
 * as strings when valid UTF-8, else "base64:..."; DECIMAL as a string
 * "-123.45"; DATE "YYYY-MM-DD"; TIMESTAMP (and INT96) "YYYY-MM-DDTHH:MM:SS[.ffffff]"
 * with a trailing "Z" when adjusted to UTC (INT96 is; the fraction only when
 * non-zero, 9 digits when NANOS has sub-microsecond digits); TIME
 * "HH:MM:SS[.ffffff]"; UUID canonical "xxxxxxxx-xxxx-...";
 * LIST -> array; MAP -> array of {"key","value"}; struct -> object. */
typedef struct pq_rows pq_rows;
sl_code pq_rows_open(pq_reader *r, const char *const *columns, size_t ncols, pq_rows **out,
                     sl_err *err);
/* *row receives a new reference, or NULL at the end. */
sl_code pq_rows_next(pq_rows *rows, json_t **row, sl_err *err);
void pq_rows_free(pq_rows *rows);

/* The schema as JSON ({"name","type","repetition","logical",...,"children"}),
 * and the metadata as JSON (row groups, chunks, encodings, codecs,
 * statistics decoded per type): what `sluice parquet schema|meta` print. */
json_t *pq_schema_to_json(const pq_reader *r);
json_t *pq_meta_to_json(const pq_reader *r);

#endif
