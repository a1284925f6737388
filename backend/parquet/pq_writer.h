#ifndef SLUICE_PARQUET_PQ_WRITER_H
#define SLUICE_PARQUET_PQ_WRITER_H

/* Writes flat Parquet files: rows in, a complete file (and the statistics
 * Delta wants in add.stats) out. Each column chunk is dictionary-encoded
 * (RLE_DICTIONARY pages plus a PLAIN dictionary page) while that is smaller
 * than PLAIN and the dictionary stays under its limit, else PLAIN. Pages are
 * compressed (snappy by default) as they close and kept until their row
 * group closes, so memory is bounded by one row group.
 *
 *   pq_writer *w = pq_writer_new(cols, ncols, NULL, &err);
 *   pq_writer_add_row(w, values, &err);           // once per row
 *   pq_writer_finish(w, &file, &stats, &err);     // file.data/file.len
 *   pq_writer_free(w); pq_file_stats_free(&stats); buf_free(&file);
 *
 * pq_writer_new_sink streams the file to a callback instead (row groups are
 * handed over as they close; the footer at finish). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend/parquet/pq_meta.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

/* Column types as the pipeline sees them; each maps to a physical type plus
 * its converted and logical annotations. The numbering is stable. */
typedef enum pq_type {
    PQ_TYPE_BOOLEAN,
    PQ_TYPE_INT32,
    PQ_TYPE_INT64,
    PQ_TYPE_DOUBLE,
    PQ_TYPE_STRING,        /* BYTE_ARRAY, UTF8 / STRING; values must be UTF-8 */
    PQ_TYPE_TIMESTAMP_US,  /* INT64, TIMESTAMP_MICROS / TIMESTAMP(UTC, MICROS) */
    PQ_TYPE_FLOAT,         /* FLOAT */
    PQ_TYPE_BINARY,        /* BYTE_ARRAY, no annotation */
    PQ_TYPE_DATE,          /* INT32 days since 1970-01-01, DATE / DATE */
    PQ_TYPE_TIMESTAMP_NTZ, /* INT64 micros, TIMESTAMP(isAdjustedToUTC=false,
                            * MICROS); no converted type (it would say UTC) */
    PQ_TYPE_DECIMAL,       /* DECIMAL(precision, scale), both annotations:
                            * INT32 for precision <= 9, INT64 <= 18, else
                            * FIXED_LEN_BYTE_ARRAY of the fewest bytes. Use
                            * PQ_TYPE_DECIMAL_OF(p, s) as the column type. */
} pq_type;

#define PQ_DECIMAL_MAX_PRECISION 38

/* A decimal column's type carries its precision (1..38) and scale
 * (0..precision) above the base type, so a column stays {name, type,
 * nullable}. */
#define PQ_TYPE_DECIMAL_OF(p, s)                                                         \
    ((pq_type)((int)PQ_TYPE_DECIMAL | (int)(p) << 8 | (int)(s) << 16))
static inline pq_type pq_type_base(pq_type t)
{
    return (pq_type)((int)t & 0xFF);
}
static inline int32_t pq_type_precision(pq_type t)
{
    return (int32_t)(((int)t >> 8) & 0xFF);
}
static inline int32_t pq_type_scale(pq_type t)
{
    return (int32_t)(((int)t >> 16) & 0xFF);
}

typedef struct pq_schema_col {
    const char *name;
    pq_type type;
    bool nullable; /* OPTIONAL when true, REQUIRED otherwise */
} pq_schema_col;

/* A 128-bit two's complement integer (a decimal's unscaled value). */
typedef struct pq_int128 {
    uint64_t lo;
    int64_t hi;
} pq_int128;

/* One cell. Strings and binaries are borrowed for the duration of the
 * add_row call only (the writer copies what it keeps). Members by type:
 * BOOLEAN b; INT32 i32; DATE i32 (days); INT64 i64; TIMESTAMP_US and
 * TIMESTAMP_NTZ i64 (microseconds since 1970-01-01T00:00:00); FLOAT f32;
 * DOUBLE f64; STRING and BINARY str; DECIMAL dec (the unscaled value: 123.45
 * in DECIMAL(5,2) is 12345; pq_decimal_parse makes one from text). */
typedef struct pq_value {
    bool is_null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        struct {
            const char *ptr;
            size_t len;
        } str;
        pq_int128 dec;
    };
} pq_value;

static inline pq_value pq_val_null(void)
{
    return (pq_value){.is_null = true};
}
static inline pq_value pq_val_bool(bool v)
{
    return (pq_value){.b = v};
}
static inline pq_value pq_val_i32(int32_t v)
{
    return (pq_value){.i32 = v};
}
static inline pq_value pq_val_i64(int64_t v)
{
    return (pq_value){.i64 = v};
}
static inline pq_value pq_val_f32(float v)
{
    return (pq_value){.f32 = v};
}
static inline pq_value pq_val_f64(double v)
{
    return (pq_value){.f64 = v};
}
static inline pq_value pq_val_date(int32_t days)
{
    return (pq_value){.i32 = days};
}
static inline pq_value pq_val_ts_us(int64_t us)
{
    return (pq_value){.i64 = us};
}
static inline pq_value pq_val_strn(const char *s, size_t n)
{
    return (pq_value){.str = {s, n}};
}
static inline pq_value pq_val_bin(const void *p, size_t n)
{
    return (pq_value){.str = {(const char *)p, n}};
}
/* A decimal whose unscaled value fits in 64 bits. */
static inline pq_value pq_val_dec(int64_t unscaled)
{
    return (pq_value){.dec = {(uint64_t)unscaled, unscaled < 0 ? -1 : 0}};
}
static inline pq_value pq_val_dec128(int64_t hi, uint64_t lo)
{
    return (pq_value){.dec = {lo, hi}};
}
pq_value pq_val_str(const char *s); /* NUL-terminated; NULL gives a null cell */

/* Decimal text to an unscaled value for DECIMAL(precision, scale):
 * [+-]digits[.digits][(e|E)[+-]digits] (".5" and "5." too). Fractional
 * digits beyond the scale must be zeros (nothing is rounded away), and the
 * value must have at most precision - scale integer digits; otherwise
 * SL_PARQUET_VALUE. */
sl_code pq_decimal_parse(const char *s, size_t len, int32_t precision, int32_t scale,
                         pq_value *out, sl_err *err);
/* The exact text of an unscaled value at scale ("-123.45", "0.05", "7"):
 * at most 41 characters plus NUL; returns the length. */
size_t pq_decimal_format(pq_int128 v, int32_t scale, char *out, size_t outlen);

typedef enum pq_compression {
    PQ_COMPRESSION_DEFAULT = 0, /* snappy */
    PQ_COMPRESSION_NONE,
    PQ_COMPRESSION_SNAPPY,
    PQ_COMPRESSION_GZIP,
    PQ_COMPRESSION_ZSTD,
    PQ_COMPRESSION_LZ4_RAW,
    PQ_COMPRESSION_BROTLI,
} pq_compression;

/* "snappy", "gzip", "zstd", "lz4_raw" (or "lz4"), "brotli", "none" or
 * "uncompressed" (any case) to a compression; false when unknown. */
bool pq_compression_from_name(const char *name, pq_compression *out);
/* The page codec a compression writes (PQ_COMPRESSION_DEFAULT: snappy);
 * pq_codec_name() names it. false for a value outside the enum. */
bool pq_compression_codec(pq_compression c, pq_codec *out);

/* Zero-initialised options are the defaults. */
typedef struct pq_writer_opts {
    /* A data page closes once its encoded values reach this many bytes
     * (0: 1 MiB) or 20,000 rows. */
    size_t page_size;
    /* A row group closes after this many rows (0: 1,048,576) ... */
    int64_t row_group_rows;
    /* ... or once the bytes it holds (compressed pages, open pages,
     * dictionaries) reach this (0: 128 MiB). */
    size_t row_group_bytes;
    pq_compression compression;
    int compression_level; /* 0: the codec's default */
    /* PLAIN only (no dictionary pages). */
    bool no_dictionary;
    /* A column chunk falls back to PLAIN when its dictionary would grow past
     * this many bytes (0: 1 MiB). */
    size_t dictionary_limit;
} pq_writer_opts;

/* Per-file statistics for Delta's add.stats. */
typedef struct pq_file_stats {
    int64_t num_rows;
    int64_t file_size; /* bytes of the complete file */
    /* Owned: the add.stats text, {"numRecords":N,"minValues":{..},
     * "maxValues":{..},"nullCount":{..}} the way Delta writers produce it.
     * Bounds: numbers for integers and floats ("NaN", "Infinity",
     * "-Infinity" as Delta spells them; a NaN makes the max "NaN"), strings
     * cut to 32 UTF-16 units as Spark does, dates "YYYY-MM-DD", timestamps
     * "YYYY-MM-DDTHH:MM:SS.mmmZ" (no Z for NTZ) truncated to milliseconds,
     * decimals as exact JSON numbers (123.45). No bounds for booleans and
     * binaries. Use this text for add.stats: jansson cannot print every
     * decimal exactly. */
    char *delta_stats_json;
    /* Owned: the same parsed by jansson (decimals become the nearest double). */
    json_t *delta_stats;
} pq_file_stats;

typedef struct pq_writer pq_writer;

/* Receives the file's bytes in order; a failure stops the writer (the call
 * that triggered it returns the sink's code, later calls SL_INTERNAL). */
typedef sl_code (*pq_sink_fn)(void *ctx, const void *data, size_t len, sl_err *err);

/* Copies the schema. Fails (NULL, SL-PARQUET-SCHEMA) on no columns, empty or
 * duplicate names, an unknown type or a decimal precision/scale out of
 * range; SL-PARQUET-UNSUPPORTED for a codec this build lacks. opts may be
 * NULL. */
pq_writer *pq_writer_new(const pq_schema_col *cols, size_t ncols,
                         const pq_writer_opts *opts, sl_err *err);
/* The same, streaming: the file goes to sink(ctx, ...) as row groups close
 * instead of into the buffer pq_writer_finish returns. */
pq_writer *pq_writer_new_sink(const pq_schema_col *cols, size_t ncols,
                              const pq_writer_opts *opts, pq_sink_fn sink, void *ctx,
                              sl_err *err);

/* values[i] is column i. A row that does not fit (null in a required column,
 * a string over 1 GiB or not UTF-8, a decimal beyond its precision) is
 * refused with SL-PARQUET-VALUE and leaves the writer unchanged. May close
 * a row group (and so return a sink's error). */
sl_code pq_writer_add_row(pq_writer *w, const pq_value *values, sl_err *err);

/* Rows added so far. */
int64_t pq_writer_num_rows(const pq_writer *w);

/* Closes the file. Buffer mode: *file_out is replaced by the complete
 * Parquet file (its previous content is freed). Sink mode: file_out may be
 * NULL (else it is emptied). *stats_out (may be NULL) receives the Delta
 * statistics, to be released with pq_file_stats_free. The writer accepts no
 * rows afterwards. */
sl_code pq_writer_finish(pq_writer *w, sl_buf *file_out, pq_file_stats *stats_out,
                         sl_err *err);

void pq_writer_free(pq_writer *w);
void pq_file_stats_free(pq_file_stats *s);

#endif
