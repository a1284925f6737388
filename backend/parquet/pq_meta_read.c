/* Decoding of the Parquet footer (FileMetaData) and of page headers; field
 * ids are those of parquet.thrift. Unknown fields and union members are
 * skipped; known fields of the wrong type are SL_PARQUET_CORRUPT. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_read_int.h"
#include "backend/util/buf.h"

/* The field loop every struct reader uses. */
#define FIELDS_BEGIN(r, err)                                                      \
    sl_code c = thrift_struct_enter((r), (err));                                  \
    if (c != SL_OK)                                                               \
        return c;                                                                 \
    int16_t last_id = 0;                                                          \
    thrift_field f;                                                               \
    while ((c = thrift_field_next((r), &last_id, &f, (err))) == SL_OK &&          \
           f.type != THRIFT_STOP) {                                               \
        switch (f.id) {
#define FIELDS_END(r, err)                                                        \
        default:                                                                  \
            c = thrift_skip_field((r), &f, (err));                                \
        }                                                                         \
        if (c != SL_OK)                                                           \
            break;                                                                \
    }                                                                             \
    thrift_struct_leave(r);

static sl_code want_type(const thrift_field *f, thrift_type t, thrift_reader *r, sl_err *err)
{
    if (f->type == t)
        return SL_OK;
    return err_set(err, SL_PARQUET_CORRUPT,
                   "Thrift field %d before byte %zu has type %d, expected %d", f->id,
                   thrift_reader_pos(r), (int)f->type, (int)t);
}

static sl_code fld_i32(thrift_reader *r, const thrift_field *f, int32_t *out, sl_err *err)
{
    int64_t v = 0;
    sl_code c = thrift_read_int_field(r, f, INT32_MIN, INT32_MAX, &v, err);
    *out = (int32_t)v;
    return c;
}

static sl_code fld_i64(thrift_reader *r, const thrift_field *f, int64_t *out, sl_err *err)
{
    return thrift_read_int_field(r, f, INT64_MIN, INT64_MAX, out, err);
}

static sl_code fld_bool(thrift_reader *r, const thrift_field *f, bool *out, sl_err *err)
{
    sl_code c = want_type(f, THRIFT_BOOL_TRUE, r, err);
    if (c == SL_OK)
        *out = f->bool_value;
    return c;
}

static sl_code fld_bin(thrift_reader *r, const thrift_field *f, const uint8_t **p, size_t *n,
                       sl_err *err)
{
    sl_code c = want_type(f, THRIFT_BINARY, r, err);
    if (c == SL_OK)
        c = thrift_read_binary(r, p, n, err);
    return c;
}

static sl_code fld_str(thrift_reader *r, const thrift_field *f, char **out, sl_err *err)
{
    const uint8_t *p;
    size_t n;
    sl_code c = fld_bin(r, f, &p, &n, err);
    if (c == SL_OK) {
        free(*out); /* a repeated field: the last one wins */
        *out = sl_strndup((const char *)p, n);
    }
    return c;
}

/* A list header of struct elements; the count is already bounded by the
 * bytes left, so allocating for it is safe. */
static sl_code fld_struct_list(thrift_reader *r, const thrift_field *f, uint32_t *n,
                               sl_err *err)
{
    sl_code c = want_type(f, THRIFT_LIST, r, err);
    if (c != SL_OK)
        return c;
    thrift_type et;
    if ((c = thrift_list_begin(r, &et, n, err)) != SL_OK)
        return c;
    if (et != THRIFT_STRUCT && *n > 0)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "Thrift field %d: list of type %d where structs belong", f->id, (int)et);
    return SL_OK;
}

/* ---- LogicalType ------------------------------------------------------ */

static sl_code read_time_unit(thrift_reader *r, pq_time_unit *unit, sl_err *err)
{
    FIELDS_BEGIN(r, err)
    case PQ_UNIT_MILLIS:
    case PQ_UNIT_MICROS:
    case PQ_UNIT_NANOS:
        *unit = (pq_time_unit)f.id;
        c = thrift_skip_field(r, &f, err);
        break;
    FIELDS_END(r, err)
    return c;
}

static sl_code read_logical_member(thrift_reader *r, pq_logical *l, sl_err *err)
{
    FIELDS_BEGIN(r, err)
    case 1:
        if (l->kind == PQ_LOGICAL_DECIMAL)
            c = fld_i32(r, &f, &l->dec_scale, err);
        else if (l->kind == PQ_LOGICAL_TIME || l->kind == PQ_LOGICAL_TIMESTAMP)
            c = fld_bool(r, &f, &l->ts_adjusted_to_utc, err);
        else if (l->kind == PQ_LOGICAL_INTEGER) {
            int64_t v = 0;
            c = thrift_read_int_field(r, &f, 0, 64, &v, err);
            l->int_bits = (int8_t)v;
        } else
            c = thrift_skip_field(r, &f, err);
        break;
    case 2:
        if (l->kind == PQ_LOGICAL_DECIMAL)
            c = fld_i32(r, &f, &l->dec_precision, err);
        else if (l->kind == PQ_LOGICAL_TIME || l->kind == PQ_LOGICAL_TIMESTAMP) {
            if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
                c = read_time_unit(r, &l->ts_unit, err);
        } else if (l->kind == PQ_LOGICAL_INTEGER)
            c = fld_bool(r, &f, &l->int_signed, err);
        else
            c = thrift_skip_field(r, &f, err);
        break;
    FIELDS_END(r, err)
    return c;
}

static bool logical_known(int id)
{
    return (id >= PQ_LOGICAL_STRING && id <= PQ_LOGICAL_TIMESTAMP) ||
           (id >= PQ_LOGICAL_INTEGER && id <= PQ_LOGICAL_FLOAT16);
}

static sl_code read_logical(thrift_reader *r, pq_logical *l, sl_err *err)
{
    memset(l, 0, sizeof *l);
    l->ts_unit = PQ_UNIT_MILLIS;
    FIELDS_BEGIN(r, err)
    default:
        if (logical_known(f.id) && f.type == THRIFT_STRUCT) {
            l->kind = (pq_logical_kind)f.id;
            c = read_logical_member(r, l, err);
        } else {
            /* A member this build does not know (or malformed): skip it. */
            l->kind = PQ_LOGICAL_OTHER;
            c = thrift_skip_field(r, &f, err);
        }
        }
        if (c != SL_OK)
            break;
    }
    thrift_struct_leave(r);
    return c;
}

/* ---- SchemaElement ---------------------------------------------------- */

static sl_code read_schema_element(thrift_reader *r, pq_selem *e, sl_err *err)
{
    memset(e, 0, sizeof *e);
    e->converted = PQ_CONV_NONE;
    e->field_id = -1;
    FIELDS_BEGIN(r, err)
    case 1:
        e->has_type = true;
        c = fld_i32(r, &f, &e->type, err);
        break;
    case 2:
        c = fld_i32(r, &f, &e->type_length, err);
        break;
    case 3:
        e->has_repetition = true;
        c = fld_i32(r, &f, &e->repetition, err);
        break;
    case 4:
        c = fld_str(r, &f, &e->name, err);
        break;
    case 5:
        c = fld_i32(r, &f, &e->num_children, err);
        break;
    case 6:
        c = fld_i32(r, &f, &e->converted, err);
        break;
    case 7:
        e->has_scale = true;
        c = fld_i32(r, &f, &e->scale, err);
        break;
    case 8:
        e->has_precision = true;
        c = fld_i32(r, &f, &e->precision, err);
        break;
    case 9:
        c = fld_i32(r, &f, &e->field_id, err);
        break;
    case 10:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_logical(r, &e->logical, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && !e->name)
        c = err_set(err, SL_PARQUET_CORRUPT, "a schema element has no name");
    return c;
}

/* ---- Statistics, ColumnMetaData, ColumnChunk, RowGroup ---------------- */

static void stat_copy(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t n)
{
    free(*dst);
    *dst = malloc(n ? n : 1);
    if (!*dst)
        abort();
    memcpy(*dst, p, n);
    *dst_len = n;
}

static sl_code read_statistics(thrift_reader *r, pq_chunk_info *ci, pq_chunk_extra *ex,
                               sl_err *err)
{
    const uint8_t *p;
    size_t n;
    FIELDS_BEGIN(r, err)
    case 1:
        if ((c = fld_bin(r, &f, &ex->legacy_max, &ex->legacy_max_len, err)) == SL_OK)
            ex->has_legacy_max = true;
        break;
    case 2:
        if ((c = fld_bin(r, &f, &ex->legacy_min, &ex->legacy_min_len, err)) == SL_OK)
            ex->has_legacy_min = true;
        break;
    case 3:
        ci->has_null_count = true;
        c = fld_i64(r, &f, &ci->null_count, err);
        break;
    case 5:
        if ((c = fld_bin(r, &f, &p, &n, err)) == SL_OK) {
            stat_copy(&ci->max_value, &ci->max_len, p, n);
            ci->has_max = true;
        }
        break;
    case 6:
        if ((c = fld_bin(r, &f, &p, &n, err)) == SL_OK) {
            stat_copy(&ci->min_value, &ci->min_len, p, n);
            ci->has_min = true;
        }
        break;
    FIELDS_END(r, err)
    return c;
}

static sl_code read_encodings(thrift_reader *r, const thrift_field *f, pq_chunk_info *ci,
                              sl_err *err)
{
    sl_code c = want_type(f, THRIFT_LIST, r, err);
    if (c != SL_OK)
        return c;
    thrift_type et;
    uint32_t n;
    if ((c = thrift_list_begin(r, &et, &n, err)) != SL_OK)
        return c;
    ci->num_encodings = 0;
    for (uint32_t i = 0; i < n; i++) {
        thrift_field ef = {.type = et, .id = f->id};
        int32_t e;
        if ((c = fld_i32(r, &ef, &e, err)) != SL_OK)
            return c;
        bool seen = false;
        for (size_t k = 0; k < ci->num_encodings; k++)
            seen |= ci->encodings[k] == (pq_encoding)e;
        if (!seen && ci->num_encodings < sizeof ci->encodings / sizeof ci->encodings[0])
            ci->encodings[ci->num_encodings++] = (pq_encoding)e;
    }
    return SL_OK;
}

static sl_code read_column_meta(thrift_reader *r, pq_chunk_info *ci, pq_chunk_extra *ex,
                                sl_err *err)
{
    int32_t codec = 0;
    bool has_type = false, has_codec = false, has_values = false, has_data = false;
    FIELDS_BEGIN(r, err)
    case 1:
        has_type = true;
        c = fld_i32(r, &f, &ex->type, err);
        break;
    case 2:
        c = read_encodings(r, &f, ci, err);
        break;
    case 4:
        has_codec = true;
        c = fld_i32(r, &f, &codec, err);
        ci->codec = (pq_codec)codec;
        break;
    case 5:
        has_values = true;
        c = fld_i64(r, &f, &ci->num_values, err);
        break;
    case 6:
        c = fld_i64(r, &f, &ci->total_uncompressed_size, err);
        break;
    case 7:
        c = fld_i64(r, &f, &ci->total_compressed_size, err);
        break;
    case 9:
        has_data = true;
        c = fld_i64(r, &f, &ci->data_page_offset, err);
        break;
    case 11:
        c = fld_i64(r, &f, &ci->dictionary_page_offset, err);
        break;
    case 12:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_statistics(r, ci, ex, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && !(has_type && has_codec && has_values && has_data))
        c = err_set(err, SL_PARQUET_CORRUPT,
                    "column metadata lacks its type, codec, value count or data page offset");
    if (c == SL_OK && (ci->num_values < 0 || ci->total_compressed_size < 0 ||
                       ci->total_uncompressed_size < 0 || ci->data_page_offset < 0 ||
                       ci->dictionary_page_offset < 0))
        c = err_set(err, SL_PARQUET_CORRUPT, "column metadata holds a negative size or offset");
    ex->has_meta = c == SL_OK;
    return c;
}

static sl_code read_column_chunk(thrift_reader *r, pq_chunk_info *ci, pq_chunk_extra *ex,
                                 sl_err *err)
{
    FIELDS_BEGIN(r, err)
    case 1:
        ex->external = true;
        c = thrift_skip_field(r, &f, err);
        break;
    case 2:
        c = fld_i64(r, &f, &ci->file_offset, err);
        break;
    case 3:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_column_meta(r, ci, ex, err);
        break;
    case 8: /* crypto_metadata */
    case 9: /* encrypted_column_metadata */
        ex->external = true;
        c = thrift_skip_field(r, &f, err);
        break;
    FIELDS_END(r, err)
    return c;
}

static void chunk_info_clear(pq_chunk_info *ci)
{
    free(ci->min_value);
    free(ci->max_value);
}

static sl_code read_row_group(thrift_reader *r, pq_rowgroup_info *rg, pq_chunk_extra **extra,
                              sl_err *err)
{
    bool has_cols = false, has_rows = false;
    FIELDS_BEGIN(r, err)
    case 1: {
        uint32_t n;
        if (has_cols) {
            c = err_set(err, SL_PARQUET_CORRUPT, "a row group lists its columns twice");
            break;
        }
        if ((c = fld_struct_list(r, &f, &n, err)) != SL_OK)
            break;
        has_cols = true;
        rg->chunks = sl_calloc(n ? n : 1, sizeof *rg->chunks);
        *extra = sl_calloc(n ? n : 1, sizeof **extra);
        for (uint32_t i = 0; i < n && c == SL_OK; i++) {
            rg->num_chunks = i + 1;
            c = read_column_chunk(r, &rg->chunks[i], &(*extra)[i], err);
            if (c != SL_OK)
                err_wrap(err, "column chunk %u", i);
        }
        break;
    }
    case 2:
        c = fld_i64(r, &f, &rg->total_byte_size, err);
        break;
    case 3:
        has_rows = true;
        c = fld_i64(r, &f, &rg->num_rows, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && (!has_cols || !has_rows))
        c = err_set(err, SL_PARQUET_CORRUPT, "a row group lacks its columns or row count");
    if (c == SL_OK && rg->num_rows < 0)
        c = err_set(err, SL_PARQUET_CORRUPT, "a row group has %lld rows",
                    (long long)rg->num_rows);
    return c;
}

static sl_code read_key_value(thrift_reader *r, json_t *obj, sl_err *err)
{
    const uint8_t *k = NULL, *v = NULL;
    size_t kn = 0, vn = 0;
    bool has_v = false;
    FIELDS_BEGIN(r, err)
    case 1:
        c = fld_bin(r, &f, &k, &kn, err);
        break;
    case 2:
        if ((c = fld_bin(r, &f, &v, &vn, err)) == SL_OK)
            has_v = true;
        break;
    FIELDS_END(r, err)
    if (c != SL_OK)
        return c;
    if (!k)
        return err_set(err, SL_PARQUET_CORRUPT, "a key/value metadata entry has no key");
    json_t *key = pq_json_bytes(k, kn);
    json_object_set_new(obj, json_string_value(key), has_v ? pq_json_bytes(v, vn) : json_null());
    json_decref(key);
    return SL_OK;
}

static sl_code read_key_values(thrift_reader *r, const thrift_field *lf, json_t *obj,
                               sl_err *err)
{
    uint32_t n;
    sl_code c = fld_struct_list(r, lf, &n, err);
    for (uint32_t i = 0; i < n && c == SL_OK; i++)
        c = read_key_value(r, obj, err);
    return c;
}

void pq_meta_parsed_free(pq_meta_parsed *p, size_t num_row_groups)
{
    for (size_t i = 0; i < p->nschema; i++)
        free(p->schema[i].name);
    free(p->schema);
    if (p->extra)
        for (size_t i = 0; i < num_row_groups; i++)
            free(p->extra[i]);
    free(p->extra);
    memset(p, 0, sizeof *p);
}

void pq_file_info_clear(pq_file_info *info)
{
    free(info->created_by);
    for (size_t i = 0; i < info->num_row_groups; i++) {
        pq_rowgroup_info *rg = &info->row_groups[i];
        for (size_t k = 0; k < rg->num_chunks; k++)
            chunk_info_clear(&rg->chunks[k]);
        free(rg->chunks);
    }
    free(info->row_groups);
    pq_schema_free(info->root);
    free(info->leaves);
    json_decref(info->key_value_metadata);
    memset(info, 0, sizeof *info);
}

static sl_code read_file_meta(thrift_reader *r, pq_file_info *info, pq_meta_parsed *pm,
                              sl_err *err)
{
    bool has_schema = false, has_rows = false, has_rgs = false;
    uint32_t n;
    FIELDS_BEGIN(r, err)
    case 1:
        c = fld_i32(r, &f, &info->version, err);
        break;
    case 2:
        if (has_schema) {
            c = err_set(err, SL_PARQUET_CORRUPT, "the footer lists the schema twice");
            break;
        }
        if ((c = fld_struct_list(r, &f, &n, err)) != SL_OK)
            break;
        has_schema = true;
        pm->schema = sl_calloc(n ? n : 1, sizeof *pm->schema);
        for (uint32_t i = 0; i < n && c == SL_OK; i++) {
            pm->nschema = i + 1;
            if ((c = read_schema_element(r, &pm->schema[i], err)) != SL_OK)
                err_wrap(err, "schema element %u", i);
        }
        break;
    case 3:
        has_rows = true;
        c = fld_i64(r, &f, &info->num_rows, err);
        break;
    case 4:
        if (has_rgs) {
            c = err_set(err, SL_PARQUET_CORRUPT, "the footer lists the row groups twice");
            break;
        }
        if ((c = fld_struct_list(r, &f, &n, err)) != SL_OK)
            break;
        has_rgs = true;
        info->row_groups = sl_calloc(n ? n : 1, sizeof *info->row_groups);
        pm->extra = sl_calloc(n ? n : 1, sizeof *pm->extra);
        for (uint32_t i = 0; i < n && c == SL_OK; i++) {
            info->num_row_groups = i + 1;
            if ((c = read_row_group(r, &info->row_groups[i], &pm->extra[i], err)) != SL_OK)
                err_wrap(err, "row group %u", i);
        }
        break;
    case 5:
        c = read_key_values(r, &f, info->key_value_metadata, err);
        break;
    case 6:
        c = fld_str(r, &f, &info->created_by, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && !(has_schema && has_rows && has_rgs))
        c = err_set(err, SL_PARQUET_CORRUPT,
                    "the footer lacks its schema, row count or row group list");
    if (c == SL_OK && info->num_rows < 0)
        c = err_set(err, SL_PARQUET_CORRUPT, "the footer says the file has %lld rows",
                    (long long)info->num_rows);
    return c;
}

sl_code pq_meta_read_file(const uint8_t *buf, size_t len, pq_file_info *info,
                          pq_meta_parsed *parsed, sl_err *err)
{
    memset(parsed, 0, sizeof *parsed);
    info->key_value_metadata = json_object();
    thrift_reader r;
    thrift_reader_init(&r, buf, len);
    sl_code c = read_file_meta(&r, info, parsed, err);
    if (c != SL_OK) {
        pq_meta_parsed_free(parsed, info->num_row_groups);
        pq_file_info_clear(info);
    }
    return c;
}

/* ---- PageHeader ------------------------------------------------------- */

static sl_code read_data_page_v1(thrift_reader *r, pq_page_hdr *h, sl_err *err)
{
    bool has_n = false, has_enc = false;
    FIELDS_BEGIN(r, err)
    case 1:
        has_n = true;
        c = fld_i32(r, &f, &h->v1.num_values, err);
        break;
    case 2:
        has_enc = true;
        c = fld_i32(r, &f, &h->v1.encoding, err);
        break;
    case 3:
        c = fld_i32(r, &f, &h->v1.def_encoding, err);
        break;
    case 4:
        c = fld_i32(r, &f, &h->v1.rep_encoding, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && (!has_n || !has_enc || h->v1.num_values < 0))
        c = err_set(err, SL_PARQUET_CORRUPT, "a data page header lacks a valid value count or encoding");
    return c;
}

static sl_code read_data_page_v2(thrift_reader *r, pq_page_hdr *h, sl_err *err)
{
    h->v2.is_compressed = true;
    bool has_n = false, has_enc = false, has_d = false, has_r = false;
    FIELDS_BEGIN(r, err)
    case 1:
        has_n = true;
        c = fld_i32(r, &f, &h->v2.num_values, err);
        break;
    case 2:
        c = fld_i32(r, &f, &h->v2.num_nulls, err);
        break;
    case 3:
        c = fld_i32(r, &f, &h->v2.num_rows, err);
        break;
    case 4:
        has_enc = true;
        c = fld_i32(r, &f, &h->v2.encoding, err);
        break;
    case 5:
        has_d = true;
        c = fld_i32(r, &f, &h->v2.def_len, err);
        break;
    case 6:
        has_r = true;
        c = fld_i32(r, &f, &h->v2.rep_len, err);
        break;
    case 7:
        c = fld_bool(r, &f, &h->v2.is_compressed, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && (!has_n || !has_enc || !has_d || !has_r || h->v2.num_values < 0 ||
                       h->v2.def_len < 0 || h->v2.rep_len < 0))
        c = err_set(err, SL_PARQUET_CORRUPT,
                    "a DATA_PAGE_V2 header lacks valid counts, encoding or level lengths");
    return c;
}

static sl_code read_dict_page(thrift_reader *r, pq_page_hdr *h, sl_err *err)
{
    bool has_n = false;
    h->dict.encoding = PQ_ENC_PLAIN;
    FIELDS_BEGIN(r, err)
    case 1:
        has_n = true;
        c = fld_i32(r, &f, &h->dict.num_values, err);
        break;
    case 2:
        c = fld_i32(r, &f, &h->dict.encoding, err);
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && (!has_n || h->dict.num_values < 0))
        c = err_set(err, SL_PARQUET_CORRUPT, "a dictionary page header lacks a valid value count");
    return c;
}

static sl_code read_page_header(thrift_reader *r, pq_page_hdr *h, sl_err *err)
{
    bool has_type = false, has_u = false, has_c = false;
    FIELDS_BEGIN(r, err)
    case 1:
        has_type = true;
        c = fld_i32(r, &f, &h->type, err);
        break;
    case 2:
        has_u = true;
        c = fld_i32(r, &f, &h->uncompressed_size, err);
        break;
    case 3:
        has_c = true;
        c = fld_i32(r, &f, &h->compressed_size, err);
        break;
    case 5:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_data_page_v1(r, h, err);
        h->has_data = c == SL_OK;
        break;
    case 7:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_dict_page(r, h, err);
        h->has_dict = c == SL_OK;
        break;
    case 8:
        if ((c = want_type(&f, THRIFT_STRUCT, r, err)) == SL_OK)
            c = read_data_page_v2(r, h, err);
        h->has_data_v2 = c == SL_OK;
        break;
    FIELDS_END(r, err)
    if (c == SL_OK && !(has_type && has_u && has_c))
        c = err_set(err, SL_PARQUET_CORRUPT, "a page header lacks its type or sizes");
    if (c == SL_OK && (h->uncompressed_size < 0 || h->compressed_size < 0))
        c = err_set(err, SL_PARQUET_CORRUPT, "a page header has a negative size (%d, %d)",
                    h->compressed_size, h->uncompressed_size);
    return c;
}

sl_code pq_meta_read_page_header(const uint8_t *buf, size_t len, pq_page_hdr *h,
                                 size_t *consumed, sl_err *err)
{
    memset(h, 0, sizeof *h);
    thrift_reader r;
    thrift_reader_init(&r, buf, len);
    sl_code c = read_page_header(&r, h, err);
    if (c == SL_OK)
        *consumed = thrift_reader_pos(&r);
    return c;
}
