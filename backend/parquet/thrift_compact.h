#ifndef SLUICE_PARQUET_THRIFT_COMPACT_H
#define SLUICE_PARQUET_THRIFT_COMPACT_H

/* Thrift compact protocol (the encoding of every Parquet metadata structure).
 * All Thrift encoding of the Parquet codec lives here; the metadata module
 * maps Parquet structures onto these calls. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/util/buf.h"

/* Compact type codes, as they appear in field headers and list headers. In a
 * list header the element type of booleans is THRIFT_BOOL_TRUE. */
typedef enum thrift_type {
    THRIFT_STOP = 0,
    THRIFT_BOOL_TRUE = 1,
    THRIFT_BOOL_FALSE = 2,
    THRIFT_BYTE = 3,
    THRIFT_I16 = 4,
    THRIFT_I32 = 5,
    THRIFT_I64 = 6,
    THRIFT_DOUBLE = 7,
    THRIFT_BINARY = 8,
    THRIFT_LIST = 9,
    THRIFT_SET = 10,
    THRIFT_MAP = 11,
    THRIFT_STRUCT = 12,
} thrift_type;

/* Nesting deeper than this is a bug in the caller (Parquet needs about 6). */
#define THRIFT_WRITER_MAX_DEPTH 32

/* Writes into *out (borrowed). Field ids are delta-encoded against the
 * previous field of the same struct, so the writer keeps one "last id" per
 * open struct. */
typedef struct thrift_writer {
    sl_buf *out;
    int depth;
    int16_t last_id[THRIFT_WRITER_MAX_DEPTH];
} thrift_writer;

void thrift_writer_init(thrift_writer *w, sl_buf *out);

/* Raw primitives (also used by the level and value encoders). */
void thrift_varint_write(sl_buf *out, uint64_t v);
uint64_t thrift_zigzag(int64_t v);

/* A struct: begin opens a fresh field-id context, end writes STOP and closes
 * it. Use begin/end directly for the top-level struct and list elements. */
void thrift_struct_begin(thrift_writer *w);
void thrift_struct_end(thrift_writer *w);

/* Fields of the innermost open struct; ids must increase within a struct. */
void thrift_field_bool(thrift_writer *w, int16_t id, bool v);
void thrift_field_i16(thrift_writer *w, int16_t id, int16_t v);
void thrift_field_i32(thrift_writer *w, int16_t id, int32_t v);
void thrift_field_i64(thrift_writer *w, int16_t id, int64_t v);
void thrift_field_double(thrift_writer *w, int16_t id, double v);
void thrift_field_binary(thrift_writer *w, int16_t id, const void *data, size_t len);
void thrift_field_string(thrift_writer *w, int16_t id, const char *s);
/* Field header of a struct-valued field, then opens it; close with
 * thrift_struct_end. */
void thrift_field_struct_begin(thrift_writer *w, int16_t id);
/* Field header plus list header; the caller then writes n elements. */
void thrift_field_list_begin(thrift_writer *w, int16_t id, thrift_type elem, size_t n);

/* List elements (no field header). Struct elements use thrift_struct_begin/end. */
void thrift_elem_bool(thrift_writer *w, bool v);
void thrift_elem_i32(thrift_writer *w, int32_t v);
void thrift_elem_i64(thrift_writer *w, int64_t v);
void thrift_elem_binary(thrift_writer *w, const void *data, size_t len);
void thrift_elem_string(thrift_writer *w, const char *s);

#endif
