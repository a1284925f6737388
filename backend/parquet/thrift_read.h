#ifndef SLUICE_PARQUET_THRIFT_READ_H
#define SLUICE_PARQUET_THRIFT_READ_H

/* Thrift compact protocol reader (the decoding side of thrift_compact.h).
 * Every read is checked against the bytes left; containers and structs nest
 * at most THRIFT_READER_MAX_DEPTH deep (SL_PARQUET_TOO_DEEP past it); a
 * truncated, overlong or malformed input is SL_PARQUET_CORRUPT. Messages
 * name the byte offset; callers prefix what they were reading. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/thrift_compact.h"
#include "backend/util/err.h"

#define THRIFT_READER_MAX_DEPTH 64

typedef struct thrift_reader {
    const uint8_t *start, *p, *end;
    int depth;
} thrift_reader;

/* One field header. For booleans the value travels in the header. */
typedef struct thrift_field {
    thrift_type type; /* THRIFT_STOP at the end of a struct */
    int16_t id;
    bool bool_value;
} thrift_field;

void thrift_reader_init(thrift_reader *r, const void *data, size_t len);
size_t thrift_reader_pos(const thrift_reader *r);
size_t thrift_reader_left(const thrift_reader *r);

sl_code thrift_read_varint(thrift_reader *r, uint64_t *out, sl_err *err);
sl_code thrift_read_byte(thrift_reader *r, int8_t *out, sl_err *err);
sl_code thrift_read_i16(thrift_reader *r, int16_t *out, sl_err *err);
sl_code thrift_read_i32(thrift_reader *r, int32_t *out, sl_err *err);
sl_code thrift_read_i64(thrift_reader *r, int64_t *out, sl_err *err);
sl_code thrift_read_double(thrift_reader *r, double *out, sl_err *err);
/* A length-prefixed byte string; *data points into the input. */
sl_code thrift_read_binary(thrift_reader *r, const uint8_t **data, size_t *len,
                           sl_err *err);

/* Any integer-typed field value (byte, i16, i32, i64) as int64, checked
 * against [lo, hi]; another type is SL_PARQUET_CORRUPT. */
sl_code thrift_read_int_field(thrift_reader *r, const thrift_field *f, int64_t lo,
                              int64_t hi, int64_t *out, sl_err *err);

/* Structs: enter before the first field (counts depth), then field_next
 * until type THRIFT_STOP, then leave. last_id starts at 0 per struct. */
sl_code thrift_struct_enter(thrift_reader *r, sl_err *err);
void thrift_struct_leave(thrift_reader *r);
sl_code thrift_field_next(thrift_reader *r, int16_t *last_id, thrift_field *f, sl_err *err);

/* List or set header. The size is checked against the bytes left before
 * anyone allocates for it. Boolean elements are one byte each (1 = true). */
sl_code thrift_list_begin(thrift_reader *r, thrift_type *elem, uint32_t *n, sl_err *err);
sl_code thrift_map_begin(thrift_reader *r, thrift_type *key, thrift_type *val, uint32_t *n,
                         sl_err *err);
/* Reads one boolean list element. */
sl_code thrift_read_bool_elem(thrift_reader *r, bool *out, sl_err *err);

/* Skips a value of the given type (from a field header or a container
 * header), nested structs and containers included. */
sl_code thrift_skip(thrift_reader *r, thrift_type type, sl_err *err);
/* Skips the value of a field whose header was just read. */
sl_code thrift_skip_field(thrift_reader *r, const thrift_field *f, sl_err *err);

#endif
