#ifndef SLUICE_PARQUET_PQ_META_H
#define SLUICE_PARQUET_PQ_META_H

/* Parquet metadata (parquet.thrift) as C structures, and their encoding.
 * Enum values are the wire values of parquet.thrift. Pointers inside these
 * structures are borrowed from whoever fills them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"

typedef enum pq_physical {
    PQ_PHYS_BOOLEAN = 0,
    PQ_PHYS_INT32 = 1,
    PQ_PHYS_INT64 = 2,
    PQ_PHYS_INT96 = 3,
    PQ_PHYS_FLOAT = 4,
    PQ_PHYS_DOUBLE = 5,
    PQ_PHYS_BYTE_ARRAY = 6,
    PQ_PHYS_FIXED_LEN_BYTE_ARRAY = 7,
} pq_physical;

typedef enum pq_repetition {
    PQ_REP_REQUIRED = 0,
    PQ_REP_OPTIONAL = 1,
    PQ_REP_REPEATED = 2,
} pq_repetition;

/* ConvertedType; PQ_CONV_NONE means the field is absent. */
typedef enum pq_converted {
    PQ_CONV_NONE = -1,
    PQ_CONV_UTF8 = 0,
    PQ_CONV_MAP = 1,
    PQ_CONV_MAP_KEY_VALUE = 2,
    PQ_CONV_LIST = 3,
    PQ_CONV_ENUM = 4,
    PQ_CONV_DECIMAL = 5,
    PQ_CONV_DATE = 6,
    PQ_CONV_TIME_MILLIS = 7,
    PQ_CONV_TIME_MICROS = 8,
    PQ_CONV_TIMESTAMP_MILLIS = 9,
    PQ_CONV_TIMESTAMP_MICROS = 10,
    PQ_CONV_UINT_8 = 11,
    PQ_CONV_UINT_16 = 12,
    PQ_CONV_UINT_32 = 13,
    PQ_CONV_UINT_64 = 14,
    PQ_CONV_INT_8 = 15,
    PQ_CONV_INT_16 = 16,
    PQ_CONV_INT_32 = 17,
    PQ_CONV_INT_64 = 18,
    PQ_CONV_JSON = 19,
    PQ_CONV_BSON = 20,
    PQ_CONV_INTERVAL = 21,
} pq_converted;

/* LogicalType union members; the value is the union's field id. */
typedef enum pq_logical_kind {
    PQ_LOGICAL_NONE = 0,
    PQ_LOGICAL_STRING = 1,
    PQ_LOGICAL_MAP = 2,
    PQ_LOGICAL_LIST = 3,
    PQ_LOGICAL_ENUM = 4,
    PQ_LOGICAL_DECIMAL = 5,
    PQ_LOGICAL_DATE = 6,
    PQ_LOGICAL_TIME = 7,
    PQ_LOGICAL_TIMESTAMP = 8,
    PQ_LOGICAL_INTEGER = 10,
    PQ_LOGICAL_UNKNOWN = 11, /* the NullType member ("always null") */
    PQ_LOGICAL_JSON = 12,
    PQ_LOGICAL_BSON = 13,
    PQ_LOGICAL_UUID = 14,
    PQ_LOGICAL_FLOAT16 = 15,
    PQ_LOGICAL_OTHER = 1000, /* a member this build does not know: skipped */
} pq_logical_kind;

/* TimeUnit union members; the value is the union's field id. */
typedef enum pq_time_unit {
    PQ_UNIT_MILLIS = 1,
    PQ_UNIT_MICROS = 2,
    PQ_UNIT_NANOS = 3,
} pq_time_unit;

typedef struct pq_logical {
    pq_logical_kind kind;
    bool ts_adjusted_to_utc; /* TIMESTAMP, TIME */
    pq_time_unit ts_unit;    /* TIMESTAMP, TIME */
    int32_t dec_scale;       /* DECIMAL */
    int32_t dec_precision;   /* DECIMAL */
    int8_t int_bits;         /* INTEGER: 8, 16, 32, 64 */
    bool int_signed;         /* INTEGER */
} pq_logical;

typedef enum pq_encoding {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9,
} pq_encoding;

typedef enum pq_codec {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_LZO = 3,
    PQ_CODEC_BROTLI = 4,
    PQ_CODEC_LZ4 = 5,
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7,
} pq_codec;

typedef enum pq_page_type {
    PQ_PAGE_DATA = 0,
    PQ_PAGE_INDEX = 1,
    PQ_PAGE_DICTIONARY = 2,
    PQ_PAGE_DATA_V2 = 3,
} pq_page_type;

typedef struct pq_schema_element {
    const char *name;
    bool has_type; /* leaves only */
    pq_physical type;
    bool has_repetition; /* absent on the root */
    pq_repetition repetition;
    int32_t num_children; /* > 0 on groups (the root) */
    pq_converted converted;
    pq_logical logical;
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY (> 0) */
    bool has_decimal;    /* scale/precision fields (with converted DECIMAL) */
    int32_t scale, precision;
} pq_schema_element;

/* min/max are PLAIN-encoded values without a length prefix. */
typedef struct pq_statistics {
    bool has_null_count;
    int64_t null_count;
    bool has_min_max;
    const void *min_value;
    size_t min_len;
    const void *max_value;
    size_t max_len;
    /* Also write the deprecated min/max fields; only right for types whose
     * legacy (signed) order equals the type's order. */
    bool write_legacy;
} pq_statistics;

/* PageEncodingStats: how many pages of a type used an encoding. */
typedef struct pq_page_encoding_stats {
    pq_page_type page_type;
    pq_encoding encoding;
    int32_t count;
} pq_page_encoding_stats;

#define PQ_META_MAX_ENCODINGS 8

typedef struct pq_column_meta {
    pq_physical type;
    pq_encoding encodings[PQ_META_MAX_ENCODINGS];
    size_t num_encodings;
    const char *const *path;
    size_t path_len;
    pq_codec codec;
    int64_t num_values;
    int64_t total_uncompressed_size; /* pages including their headers */
    int64_t total_compressed_size;   /* pages including their headers */
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* 0: no dictionary page */
    bool has_statistics;
    pq_statistics statistics;
    const pq_page_encoding_stats *encoding_stats; /* field 13, when n > 0 */
    size_t num_encoding_stats;
} pq_column_meta;

typedef struct pq_column_chunk {
    int64_t file_offset;
    pq_column_meta meta;
} pq_column_chunk;

typedef struct pq_row_group {
    const pq_column_chunk *columns;
    size_t num_columns;
    int64_t total_byte_size; /* uncompressed bytes of all chunks */
    int64_t num_rows;
    int64_t file_offset; /* first page of the first chunk */
    int64_t total_compressed_size;
    int16_t ordinal; /* < 0: not written */
} pq_row_group;

typedef struct pq_file_meta {
    int32_t version;
    const pq_schema_element *schema; /* depth-first, root first */
    size_t num_schema;
    int64_t num_rows;
    const pq_row_group *row_groups;
    size_t num_row_groups;
    const char *created_by;
    /* TypeDefinedOrder for each leaf column when true. */
    bool type_defined_order;
    size_t num_leaves;
} pq_file_meta;

typedef struct pq_data_page_header {
    int32_t num_values;
    pq_encoding encoding;
    pq_encoding definition_level_encoding;
    pq_encoding repetition_level_encoding;
} pq_data_page_header;

typedef struct pq_dictionary_page_header {
    int32_t num_values;
    pq_encoding encoding;
} pq_dictionary_page_header;

typedef struct pq_page_header {
    pq_page_type type;
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    pq_data_page_header data;       /* type == PQ_PAGE_DATA */
    pq_dictionary_page_header dict; /* type == PQ_PAGE_DICTIONARY */
} pq_page_header;

/* Append the Thrift compact encoding to out. */
void pq_meta_write_page_header(sl_buf *out, const pq_page_header *h);
void pq_meta_write_file_meta(sl_buf *out, const pq_file_meta *m);

#endif
