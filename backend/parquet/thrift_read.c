#include "backend/parquet/thrift_read.h"

#include <string.h>

void thrift_reader_init(thrift_reader *r, const void *data, size_t len)
{
    r->start = data;
    r->p = r->start;
    r->end = r->start + len;
    r->depth = 0;
}

size_t thrift_reader_pos(const thrift_reader *r)
{
    return (size_t)(r->p - r->start);
}

size_t thrift_reader_left(const thrift_reader *r)
{
    return (size_t)(r->end - r->p);
}

static sl_code truncated(thrift_reader *r, sl_err *err)
{
    return err_set(err, SL_PARQUET_CORRUPT, "Thrift data truncated at byte %zu",
                   thrift_reader_pos(r));
}

sl_code thrift_read_varint(thrift_reader *r, uint64_t *out, sl_err *err)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return truncated(r, err);
        uint8_t b = *r->p++;
        /* The tenth byte may carry only the 64th bit. */
        if (i == 9 && (b & 0x7E))
            return err_set(err, SL_PARQUET_CORRUPT, "Thrift varint overflows 64 bits at byte %zu",
                           thrift_reader_pos(r) - 1);
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return SL_OK;
        }
    }
    return err_set(err, SL_PARQUET_CORRUPT, "Thrift varint longer than 10 bytes at byte %zu",
                   thrift_reader_pos(r));
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

sl_code thrift_read_byte(thrift_reader *r, int8_t *out, sl_err *err)
{
    if (r->p >= r->end)
        return truncated(r, err);
    *out = (int8_t)*r->p++;
    return SL_OK;
}

static sl_code read_zigzag(thrift_reader *r, int64_t lo, int64_t hi, int64_t *out,
                           sl_err *err)
{
    size_t at = thrift_reader_pos(r);
    uint64_t u = 0;
    sl_code c = thrift_read_varint(r, &u, err);
    if (c != SL_OK)
        return c;
    int64_t v = unzigzag(u);
    if (v < lo || v > hi)
        return err_set(err, SL_PARQUET_CORRUPT, "Thrift integer %lld out of range at byte %zu",
                       (long long)v, at);
    *out = v;
    return SL_OK;
}

sl_code thrift_read_i16(thrift_reader *r, int16_t *out, sl_err *err)
{
    int64_t v = 0;
    sl_code c = read_zigzag(r, INT16_MIN, INT16_MAX, &v, err);
    *out = (int16_t)v;
    return c;
}

sl_code thrift_read_i32(thrift_reader *r, int32_t *out, sl_err *err)
{
    int64_t v = 0;
    sl_code c = read_zigzag(r, INT32_MIN, INT32_MAX, &v, err);
    *out = (int32_t)v;
    return c;
}

sl_code thrift_read_i64(thrift_reader *r, int64_t *out, sl_err *err)
{
    return read_zigzag(r, INT64_MIN, INT64_MAX, out, err);
}

sl_code thrift_read_double(thrift_reader *r, double *out, sl_err *err)
{
    if (thrift_reader_left(r) < 8)
        return truncated(r, err);
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | r->p[i];
    memcpy(out, &bits, sizeof *out);
    r->p += 8;
    return SL_OK;
}

sl_code thrift_read_binary(thrift_reader *r, const uint8_t **data, size_t *len, sl_err *err)
{
    size_t at = thrift_reader_pos(r);
    uint64_t n = 0;
    sl_code c = thrift_read_varint(r, &n, err);
    if (c != SL_OK)
        return c;
    if (n > thrift_reader_left(r))
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift string of %llu bytes at byte %zu runs past the end (%zu left)",
                       (unsigned long long)n, at, thrift_reader_left(r));
    *data = r->p;
    *len = (size_t)n;
    r->p += n;
    return SL_OK;
}

sl_code thrift_read_int_field(thrift_reader *r, const thrift_field *f, int64_t lo, int64_t hi,
                              int64_t *out, sl_err *err)
{
    int64_t v = 0;
    sl_code c;
    size_t at = thrift_reader_pos(r);
    switch (f->type) {
    case THRIFT_BYTE: {
        int8_t b = 0;
        c = thrift_read_byte(r, &b, err);
        v = b;
        break;
    }
    case THRIFT_I16:
    case THRIFT_I32:
    case THRIFT_I64:
        c = read_zigzag(r, INT64_MIN, INT64_MAX, &v, err);
        break;
    default:
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift field %d at byte %zu has type %d where an integer belongs",
                       f->id, at, (int)f->type);
    }
    if (c != SL_OK)
        return c;
    if (v < lo || v > hi)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift field %d at byte %zu: value %lld out of range [%lld, %lld]",
                       f->id, at, (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return SL_OK;
}

sl_code thrift_struct_enter(thrift_reader *r, sl_err *err)
{
    if (r->depth >= THRIFT_READER_MAX_DEPTH)
        return err_set(err, SL_PARQUET_TOO_DEEP,
                       "Thrift structures nest deeper than %d at byte %zu",
                       THRIFT_READER_MAX_DEPTH, thrift_reader_pos(r));
    r->depth++;
    return SL_OK;
}

void thrift_struct_leave(thrift_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

static bool valid_type(int t)
{
    return t >= THRIFT_BOOL_TRUE && t <= THRIFT_STRUCT;
}

sl_code thrift_field_next(thrift_reader *r, int16_t *last_id, thrift_field *f, sl_err *err)
{
    size_t at = thrift_reader_pos(r);
    int8_t hb = 0;
    sl_code c = thrift_read_byte(r, &hb, err);
    if (c != SL_OK)
        return c;
    uint8_t h = (uint8_t)hb;
    memset(f, 0, sizeof *f);
    if (h == THRIFT_STOP) {
        f->type = THRIFT_STOP;
        return SL_OK;
    }
    int type = h & 0x0F, delta = h >> 4;
    if (!valid_type(type))
        return err_set(err, SL_PARQUET_CORRUPT, "Thrift field of unknown type %d at byte %zu",
                       type, at);
    if (delta == 0) {
        /* Long form: the id follows as a zigzag i16. */
        if ((c = thrift_read_i16(r, &f->id, err)) != SL_OK)
            return c;
    } else {
        int id = *last_id + delta;
        if (id > INT16_MAX)
            return err_set(err, SL_PARQUET_CORRUPT, "Thrift field id overflows at byte %zu",
                           at);
        f->id = (int16_t)id;
    }
    *last_id = f->id;
    f->type = (thrift_type)type;
    if (type == THRIFT_BOOL_TRUE || type == THRIFT_BOOL_FALSE) {
        f->bool_value = type == THRIFT_BOOL_TRUE;
        f->type = THRIFT_BOOL_TRUE; /* one code for "a boolean" */
    }
    return SL_OK;
}

sl_code thrift_list_begin(thrift_reader *r, thrift_type *elem, uint32_t *n, sl_err *err)
{
    size_t at = thrift_reader_pos(r);
    int8_t hb = 0;
    sl_code c = thrift_read_byte(r, &hb, err);
    if (c != SL_OK)
        return c;
    uint8_t h = (uint8_t)hb;
    uint64_t size = h >> 4;
    if (size == 15 && (c = thrift_read_varint(r, &size, err)) != SL_OK)
        return c;
    int type = h & 0x0F;
    if (!valid_type(type))
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift list at byte %zu has unknown element type %d", at, type);
    /* Every element takes at least one byte (doubles eight). */
    uint64_t min_bytes = type == THRIFT_DOUBLE ? 8 : 1;
    if (size > thrift_reader_left(r) / min_bytes)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift list at byte %zu claims %llu elements but only %zu bytes remain",
                       at, (unsigned long long)size, thrift_reader_left(r));
    *elem = type == THRIFT_BOOL_FALSE ? THRIFT_BOOL_TRUE : (thrift_type)type;
    *n = (uint32_t)size;
    return SL_OK;
}

sl_code thrift_map_begin(thrift_reader *r, thrift_type *key, thrift_type *val, uint32_t *n,
                         sl_err *err)
{
    size_t at = thrift_reader_pos(r);
    uint64_t size = 0;
    sl_code c = thrift_read_varint(r, &size, err);
    if (c != SL_OK)
        return c;
    *n = 0;
    *key = *val = THRIFT_STOP;
    if (size == 0)
        return SL_OK;
    int8_t hb = 0;
    if ((c = thrift_read_byte(r, &hb, err)) != SL_OK)
        return c;
    uint8_t h = (uint8_t)hb;
    int kt = h >> 4, vt = h & 0x0F;
    if (!valid_type(kt) || !valid_type(vt))
        return err_set(err, SL_PARQUET_CORRUPT, "Thrift map at byte %zu has unknown types",
                       at);
    if (size > thrift_reader_left(r) / 2)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift map at byte %zu claims %llu entries but only %zu bytes remain",
                       at, (unsigned long long)size, thrift_reader_left(r));
    *key = kt == THRIFT_BOOL_FALSE ? THRIFT_BOOL_TRUE : (thrift_type)kt;
    *val = vt == THRIFT_BOOL_FALSE ? THRIFT_BOOL_TRUE : (thrift_type)vt;
    *n = (uint32_t)size;
    return SL_OK;
}

sl_code thrift_read_bool_elem(thrift_reader *r, bool *out, sl_err *err)
{
    int8_t b = 0;
    sl_code c = thrift_read_byte(r, &b, err);
    *out = b == 1;
    return c;
}

static sl_code skip_container(thrift_reader *r, thrift_type type, sl_err *err)
{
    sl_code c = thrift_struct_enter(r, err); /* containers count as nesting */
    if (c != SL_OK)
        return c;
    if (type == THRIFT_MAP) {
        thrift_type kt = THRIFT_STOP, vt = THRIFT_STOP;
        uint32_t n = 0;
        if ((c = thrift_map_begin(r, &kt, &vt, &n, err)) == SL_OK)
            for (uint32_t i = 0; i < n && c == SL_OK; i++)
                if ((c = thrift_skip(r, kt, err)) == SL_OK)
                    c = thrift_skip(r, vt, err);
    } else {
        thrift_type et = THRIFT_STOP;
        uint32_t n = 0;
        if ((c = thrift_list_begin(r, &et, &n, err)) == SL_OK)
            for (uint32_t i = 0; i < n && c == SL_OK; i++)
                c = thrift_skip(r, et, err);
    }
    thrift_struct_leave(r);
    return c;
}

sl_code thrift_skip(thrift_reader *r, thrift_type type, sl_err *err)
{
    sl_code c;
    switch (type) {
    case THRIFT_BOOL_TRUE:
    case THRIFT_BOOL_FALSE:
    case THRIFT_BYTE: {
        /* A boolean here is a container element: one byte. */
        int8_t b = 0;
        return thrift_read_byte(r, &b, err);
    }
    case THRIFT_I16:
    case THRIFT_I32:
    case THRIFT_I64: {
        uint64_t v = 0;
        return thrift_read_varint(r, &v, err);
    }
    case THRIFT_DOUBLE:
        if (thrift_reader_left(r) < 8)
            return truncated(r, err);
        r->p += 8;
        return SL_OK;
    case THRIFT_BINARY: {
        const uint8_t *d = NULL;
        size_t n = 0;
        return thrift_read_binary(r, &d, &n, err);
    }
    case THRIFT_LIST:
    case THRIFT_SET:
    case THRIFT_MAP:
        return skip_container(r, type, err);
    case THRIFT_STRUCT: {
        if ((c = thrift_struct_enter(r, err)) != SL_OK)
            return c;
        int16_t last = 0;
        for (;;) {
            thrift_field f;
            if ((c = thrift_field_next(r, &last, &f, err)) != SL_OK)
                break;
            if (f.type == THRIFT_STOP)
                break;
            if ((c = thrift_skip_field(r, &f, err)) != SL_OK)
                break;
        }
        thrift_struct_leave(r);
        return c;
    }
    default:
        return err_set(err, SL_PARQUET_CORRUPT, "cannot skip Thrift type %d at byte %zu",
                       (int)type, thrift_reader_pos(r));
    }
}

sl_code thrift_skip_field(thrift_reader *r, const thrift_field *f, sl_err *err)
{
    if (f->type == THRIFT_BOOL_TRUE)
        return SL_OK; /* the value was in the header */
    return thrift_skip(r, f->type, err);
}
