#ifndef SLUICE_PARQUET_PQ_READ_INT_H
#define SLUICE_PARQUET_PQ_READ_INT_H

/* Private to the reader's files (pq_reader.c, pq_meta_read.c, pq_schema.c,
 * pq_page_read.c, pq_column_read.c, pq_assemble.c, pq_value_json.c). */

#include "backend/parquet/pq_reader.h"
#include "backend/parquet/thrift_read.h"

/* Limits against damaged or hostile files. */
#define PQ_SCHEMA_MAX_DEPTH 64
#define PQ_MAX_CHUNK_LEVELS ((size_t)1 << 28) /* level entries in one column chunk */
#define PQ_MAX_PAGE_BYTES ((size_t)1 << 30)   /* one page, compressed or not */

struct pq_reader {
    pq_source src;
    pq_file_info info;
};

/* A SchemaElement as read (name owned). */
typedef struct pq_selem {
    char *name;
    bool has_type;
    int32_t type;
    int32_t type_length;
    bool has_repetition;
    int32_t repetition;
    int32_t num_children;
    int32_t converted; /* PQ_CONV_NONE when absent */
    pq_logical logical;
    bool has_scale, has_precision;
    int32_t scale, precision;
    int32_t field_id; /* -1 when absent */
} pq_selem;

/* What the footer says about a chunk beyond pq_chunk_info, checked once the
 * schema is known. Pointers borrow the footer buffer. */
typedef struct pq_chunk_extra {
    bool has_meta;  /* ColumnMetaData present */
    bool external;  /* file_path set: the chunk lives in another file */
    int32_t type;
    const uint8_t *legacy_min, *legacy_max;
    size_t legacy_min_len, legacy_max_len;
    bool has_legacy_min, has_legacy_max;
} pq_chunk_extra;

typedef struct pq_meta_parsed {
    pq_selem *schema;
    size_t nschema;
    pq_chunk_extra **extra; /* [row group][chunk] */
} pq_meta_parsed;

/* FileMetaData into info (version, num_rows, created_by, row_groups,
 * key_value_metadata) and parsed (schema elements, chunk extras). On
 * failure everything allocated is released. */
sl_code pq_meta_read_file(const uint8_t *buf, size_t len, pq_file_info *info,
                          pq_meta_parsed *parsed, sl_err *err);
void pq_meta_parsed_free(pq_meta_parsed *p, size_t num_row_groups);
/* Frees what pq_meta_read_file and pq_schema_build put into info. */
void pq_file_info_clear(pq_file_info *info);

typedef struct pq_page_hdr {
    int32_t type; /* pq_page_type, or a value this build does not know */
    int32_t uncompressed_size, compressed_size;
    bool has_data, has_data_v2, has_dict;
    struct {
        int32_t num_values;
        int32_t encoding, def_encoding, rep_encoding;
    } v1;
    struct {
        int32_t num_values, num_nulls, num_rows;
        int32_t encoding;
        int32_t def_len, rep_len;
        bool is_compressed;
    } v2;
    struct {
        int32_t num_values;
        int32_t encoding;
    } dict;
} pq_page_hdr;

/* Parses one PageHeader from buf; *consumed receives its length. */
sl_code pq_meta_read_page_header(const uint8_t *buf, size_t len, pq_page_hdr *h,
                                 size_t *consumed, sl_err *err);

/* The state of one column chunk being decoded (pq_column_read.c drives the
 * pages, pq_page_read.c decodes each). It is also the storage behind a
 * pq_column_data: spans point into its chunk, page and arena buffers. */
typedef struct pq_col_state {
    const pq_node *leaf;
    pq_codec codec;
    size_t elem_size;   /* bytes per entry of values */
    size_t total;       /* level entries the chunk holds */
    size_t nlevels;     /* level entries decoded so far */
    size_t nvalues;     /* values decoded so far */
    size_t cap;         /* entries allocated in def, rep and values */
    int16_t *def, *rep;
    uint8_t *values;
    bool has_dict;
    uint8_t *dict;      /* dictionary values, elem_size each */
    size_t dict_n;
    uint32_t *scratch;  /* dictionary indices / RLE booleans of one page */
    size_t scratch_cap;
    uint8_t **bufs;     /* buffers that spans point into */
    size_t nbufs, bufs_cap;
} pq_col_state;

/* Keeps buf (malloc'd) alive as long as the column data. */
void pq_col_keep(pq_col_state *s, uint8_t *buf);
/* One page whose header was read: raw holds its compressed_size bytes,
 * which stay alive as long as the column data. */
sl_code pq_page_decode(pq_col_state *s, const pq_page_hdr *h, const uint8_t *raw,
                       sl_err *err);

/* Builds info->root / leaves from the flat schema (names are moved out of
 * elems). SL_PARQUET_TOO_DEEP past PQ_SCHEMA_MAX_DEPTH levels. */
sl_code pq_schema_build(pq_selem *elems, size_t n, pq_file_info *info, sl_err *err);
void pq_schema_free(pq_node *root);
json_t *pq_schema_node_json(const pq_node *n);
/* "INT32", "OPTIONAL", "UTF8", "STRING", ... for JSON output. */
const char *pq_physical_name(int32_t t);
const char *pq_repetition_name(int32_t r);
const char *pq_converted_name(int32_t c);
const char *pq_encoding_name(int32_t e);
const char *pq_page_type_name(int32_t t);

/* How a leaf's values print as JSON (chosen once per leaf). */
typedef enum pq_vfmt {
    PQ_VF_BOOL,
    PQ_VF_I32,
    PQ_VF_U32,
    PQ_VF_I64,
    PQ_VF_U64,
    PQ_VF_FLOAT,
    PQ_VF_DOUBLE,
    PQ_VF_STRING,    /* byte strings: UTF-8 text or base64 */
    PQ_VF_DECIMAL,   /* any physical type */
    PQ_VF_DATE,
    PQ_VF_TS_MILLIS,
    PQ_VF_TS_MICROS,
    PQ_VF_TS_NANOS,
    PQ_VF_TIME_MILLIS,
    PQ_VF_TIME_MICROS,
    PQ_VF_TIME_NANOS,
    PQ_VF_INT96,
    PQ_VF_UUID,
    PQ_VF_FLOAT16,
    PQ_VF_NULL,      /* the UNKNOWN (always null) logical type */
} pq_vfmt;

pq_vfmt pq_value_format(const pq_node *leaf);
/* Value i of a decoded column (values as described for pq_column_data). */
json_t *pq_value_json(pq_vfmt f, const pq_node *leaf, const void *values, size_t i);
/* A PLAIN-encoded statistics value (no length prefix) as JSON; NULL when
 * its length does not fit the type. */
json_t *pq_stat_value_json(const pq_node *leaf, const uint8_t *v, size_t len);
/* Bytes as a JSON string when valid UTF-8, else "base64:...". */
json_t *pq_json_bytes(const uint8_t *p, size_t n);
/* INT96 (nanoseconds of day, julian day; little endian) to epoch
 * microseconds, in 64-bit wrapping arithmetic as Spark computes it (which
 * gives back the instants Spark wrote, even past year 2262). */
int64_t pq_int96_to_micros(const uint8_t v[12]);
/* Whether the deprecated min/max statistics sort the way this leaf does. */
bool pq_legacy_stats_usable(const pq_node *leaf);

#endif
