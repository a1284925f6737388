/* Encoding of Parquet metadata structures; field ids are those of
 * parquet.thrift. */
#include "backend/parquet/pq_meta.h"

#include "backend/parquet/thrift_compact.h"

static void write_logical(thrift_writer *w, int16_t id, const pq_logical *l)
{
    thrift_field_struct_begin(w, id); /* LogicalType union */
    thrift_field_struct_begin(w, (int16_t)l->kind);
    if (l->kind == PQ_LOGICAL_DECIMAL) {
        thrift_field_i32(w, 1, l->dec_scale);
        thrift_field_i32(w, 2, l->dec_precision);
    } else if (l->kind == PQ_LOGICAL_TIMESTAMP) {
        thrift_field_bool(w, 1, l->ts_adjusted_to_utc);
        thrift_field_struct_begin(w, 2); /* TimeUnit union */
        thrift_field_struct_begin(w, (int16_t)l->ts_unit);
        thrift_struct_end(w);
        thrift_struct_end(w);
    }
    thrift_struct_end(w);
    thrift_struct_end(w);
}

static void write_schema_element(thrift_writer *w, const pq_schema_element *e)
{
    thrift_struct_begin(w);
    if (e->has_type)
        thrift_field_i32(w, 1, (int32_t)e->type);
    if (e->type_length > 0)
        thrift_field_i32(w, 2, e->type_length);
    if (e->has_repetition)
        thrift_field_i32(w, 3, (int32_t)e->repetition);
    thrift_field_string(w, 4, e->name);
    if (e->num_children > 0)
        thrift_field_i32(w, 5, e->num_children);
    if (e->converted != PQ_CONV_NONE)
        thrift_field_i32(w, 6, (int32_t)e->converted);
    if (e->has_decimal) {
        thrift_field_i32(w, 7, e->scale);
        thrift_field_i32(w, 8, e->precision);
    }
    if (e->logical.kind != PQ_LOGICAL_NONE)
        write_logical(w, 10, &e->logical);
    thrift_struct_end(w);
}

static void write_statistics(thrift_writer *w, int16_t id, const pq_statistics *s)
{
    thrift_field_struct_begin(w, id);
    if (s->has_min_max && s->write_legacy) {
        thrift_field_binary(w, 1, s->max_value, s->max_len);
        thrift_field_binary(w, 2, s->min_value, s->min_len);
    }
    if (s->has_null_count)
        thrift_field_i64(w, 3, s->null_count);
    if (s->has_min_max) {
        thrift_field_binary(w, 5, s->max_value, s->max_len);
        thrift_field_binary(w, 6, s->min_value, s->min_len);
    }
    thrift_struct_end(w);
}

static void write_column_meta(thrift_writer *w, int16_t id, const pq_column_meta *m)
{
    thrift_field_struct_begin(w, id);
    thrift_field_i32(w, 1, (int32_t)m->type);
    thrift_field_list_begin(w, 2, THRIFT_I32, m->num_encodings);
    for (size_t i = 0; i < m->num_encodings; i++)
        thrift_elem_i32(w, (int32_t)m->encodings[i]);
    thrift_field_list_begin(w, 3, THRIFT_BINARY, m->path_len);
    for (size_t i = 0; i < m->path_len; i++)
        thrift_elem_string(w, m->path[i]);
    thrift_field_i32(w, 4, (int32_t)m->codec);
    thrift_field_i64(w, 5, m->num_values);
    thrift_field_i64(w, 6, m->total_uncompressed_size);
    thrift_field_i64(w, 7, m->total_compressed_size);
    thrift_field_i64(w, 9, m->data_page_offset);
    if (m->dictionary_page_offset > 0)
        thrift_field_i64(w, 11, m->dictionary_page_offset);
    if (m->has_statistics)
        write_statistics(w, 12, &m->statistics);
    if (m->num_encoding_stats > 0) {
        thrift_field_list_begin(w, 13, THRIFT_STRUCT, m->num_encoding_stats);
        for (size_t i = 0; i < m->num_encoding_stats; i++) {
            const pq_page_encoding_stats *es = &m->encoding_stats[i];
            thrift_struct_begin(w);
            thrift_field_i32(w, 1, (int32_t)es->page_type);
            thrift_field_i32(w, 2, (int32_t)es->encoding);
            thrift_field_i32(w, 3, es->count);
            thrift_struct_end(w);
        }
    }
    thrift_struct_end(w);
}

static void write_row_group(thrift_writer *w, const pq_row_group *rg)
{
    thrift_struct_begin(w);
    thrift_field_list_begin(w, 1, THRIFT_STRUCT, rg->num_columns);
    for (size_t i = 0; i < rg->num_columns; i++) {
        const pq_column_chunk *cc = &rg->columns[i];
        thrift_struct_begin(w);
        thrift_field_i64(w, 2, cc->file_offset);
        write_column_meta(w, 3, &cc->meta);
        thrift_struct_end(w);
    }
    thrift_field_i64(w, 2, rg->total_byte_size);
    thrift_field_i64(w, 3, rg->num_rows);
    thrift_field_i64(w, 5, rg->file_offset);
    thrift_field_i64(w, 6, rg->total_compressed_size);
    if (rg->ordinal >= 0)
        thrift_field_i16(w, 7, rg->ordinal);
    thrift_struct_end(w);
}

void pq_meta_write_file_meta(sl_buf *out, const pq_file_meta *m)
{
    thrift_writer w;
    thrift_writer_init(&w, out);
    thrift_struct_begin(&w);
    thrift_field_i32(&w, 1, m->version);
    thrift_field_list_begin(&w, 2, THRIFT_STRUCT, m->num_schema);
    for (size_t i = 0; i < m->num_schema; i++)
        write_schema_element(&w, &m->schema[i]);
    thrift_field_i64(&w, 3, m->num_rows);
    thrift_field_list_begin(&w, 4, THRIFT_STRUCT, m->num_row_groups);
    for (size_t i = 0; i < m->num_row_groups; i++)
        write_row_group(&w, &m->row_groups[i]);
    if (m->created_by)
        thrift_field_string(&w, 6, m->created_by);
    if (m->type_defined_order) {
        thrift_field_list_begin(&w, 7, THRIFT_STRUCT, m->num_leaves);
        for (size_t i = 0; i < m->num_leaves; i++) {
            thrift_struct_begin(&w);          /* ColumnOrder union */
            thrift_field_struct_begin(&w, 1); /* TYPE_ORDER: empty struct */
            thrift_struct_end(&w);
            thrift_struct_end(&w);
        }
    }
    thrift_struct_end(&w);
}

void pq_meta_write_page_header(sl_buf *out, const pq_page_header *h)
{
    thrift_writer w;
    thrift_writer_init(&w, out);
    thrift_struct_begin(&w);
    thrift_field_i32(&w, 1, (int32_t)h->type);
    thrift_field_i32(&w, 2, h->uncompressed_page_size);
    thrift_field_i32(&w, 3, h->compressed_page_size);
    if (h->type == PQ_PAGE_DATA) {
        thrift_field_struct_begin(&w, 5);
        thrift_field_i32(&w, 1, h->data.num_values);
        thrift_field_i32(&w, 2, (int32_t)h->data.encoding);
        thrift_field_i32(&w, 3, (int32_t)h->data.definition_level_encoding);
        thrift_field_i32(&w, 4, (int32_t)h->data.repetition_level_encoding);
        thrift_struct_end(&w);
    } else if (h->type == PQ_PAGE_DICTIONARY) {
        thrift_field_struct_begin(&w, 7);
        thrift_field_i32(&w, 1, h->dict.num_values);
        thrift_field_i32(&w, 2, (int32_t)h->dict.encoding);
        thrift_struct_end(&w);
    }
    thrift_struct_end(&w);
}
