#include "backend/parquet/thrift_compact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Misuse (a field outside a struct, nesting past the limit) is a programming
 * error in the metadata code, never a data condition: stop loudly. */
static void thrift_misuse(const char *what)
{
    fprintf(stderr, "sluice: thrift writer misuse: %s\n", what);
    abort();
}

void thrift_writer_init(thrift_writer *w, sl_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

void thrift_varint_write(sl_buf *out, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    buf_append(out, tmp, n);
}

uint64_t thrift_zigzag(int64_t v)
{
    /* Shift as unsigned: left-shifting a negative value is undefined in C. */
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void thrift_struct_begin(thrift_writer *w)
{
    if (w->depth >= THRIFT_WRITER_MAX_DEPTH)
        thrift_misuse("struct nesting too deep");
    w->last_id[w->depth++] = 0;
}

void thrift_struct_end(thrift_writer *w)
{
    if (w->depth <= 0)
        thrift_misuse("struct end without begin");
    buf_append_char(w->out, (char)THRIFT_STOP);
    w->depth--;
}

static void field_header(thrift_writer *w, int16_t id, thrift_type type)
{
    if (w->depth <= 0)
        thrift_misuse("field outside a struct");
    int16_t *last = &w->last_id[w->depth - 1];
    int delta = (int)id - (int)*last;
    if (delta > 0 && delta <= 15) {
        buf_append_char(w->out, (char)((delta << 4) | (int)type));
    } else {
        buf_append_char(w->out, (char)type);
        thrift_varint_write(w->out, thrift_zigzag(id));
    }
    *last = id;
}

void thrift_field_bool(thrift_writer *w, int16_t id, bool v)
{
    /* Compact booleans live in the type nibble; there is no value byte. */
    field_header(w, id, v ? THRIFT_BOOL_TRUE : THRIFT_BOOL_FALSE);
}

void thrift_field_i16(thrift_writer *w, int16_t id, int16_t v)
{
    field_header(w, id, THRIFT_I16);
    thrift_varint_write(w->out, thrift_zigzag(v));
}

void thrift_field_i32(thrift_writer *w, int16_t id, int32_t v)
{
    field_header(w, id, THRIFT_I32);
    thrift_varint_write(w->out, thrift_zigzag(v));
}

void thrift_field_i64(thrift_writer *w, int16_t id, int64_t v)
{
    field_header(w, id, THRIFT_I64);
    thrift_varint_write(w->out, thrift_zigzag(v));
}

void thrift_field_double(thrift_writer *w, int16_t id, double v)
{
    field_header(w, id, THRIFT_DOUBLE);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(bits >> (8 * i));
    buf_append(w->out, le, sizeof le);
}

void thrift_field_binary(thrift_writer *w, int16_t id, const void *data, size_t len)
{
    field_header(w, id, THRIFT_BINARY);
    thrift_elem_binary(w, data, len);
}

void thrift_field_string(thrift_writer *w, int16_t id, const char *s)
{
    thrift_field_binary(w, id, s, strlen(s));
}

void thrift_field_struct_begin(thrift_writer *w, int16_t id)
{
    field_header(w, id, THRIFT_STRUCT);
    thrift_struct_begin(w);
}

void thrift_field_list_begin(thrift_writer *w, int16_t id, thrift_type elem, size_t n)
{
    field_header(w, id, THRIFT_LIST);
    if (n < 15) {
        buf_append_char(w->out, (char)((n << 4) | (size_t)elem));
    } else {
        buf_append_char(w->out, (char)(0xF0 | (int)elem));
        thrift_varint_write(w->out, n);
    }
}

void thrift_elem_bool(thrift_writer *w, bool v)
{
    /* Current spec: true 1, false 2 (readers accept 0 for false too). */
    buf_append_char(w->out, (char)(v ? THRIFT_BOOL_TRUE : THRIFT_BOOL_FALSE));
}

void thrift_elem_i32(thrift_writer *w, int32_t v)
{
    thrift_varint_write(w->out, thrift_zigzag(v));
}

void thrift_elem_i64(thrift_writer *w, int64_t v)
{
    thrift_varint_write(w->out, thrift_zigzag(v));
}

void thrift_elem_binary(thrift_writer *w, const void *data, size_t len)
{
    thrift_varint_write(w->out, len);
    if (len)
        buf_append(w->out, data, len);
}

void thrift_elem_string(thrift_writer *w, const char *s)
{
    thrift_elem_binary(w, s, strlen(s));
}
