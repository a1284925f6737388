/* Opening a Parquet file: magic numbers, footer, metadata and schema, with
 * every size checked against the file; and the schema / metadata as JSON. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_read_int.h"

const pq_file_info *pq_reader_info(const pq_reader *r)
{
    return &r->info;
}

void pq_reader_close(pq_reader *r)
{
    if (!r)
        return;
    if (r->src.close)
        r->src.close(r->src.ctx);
    pq_file_info_clear(&r->info);
    free(r);
}

static void stat_take_legacy(pq_chunk_info *ci, const pq_chunk_extra *ex)
{
    if (!ci->has_min && ex->has_legacy_min) {
        ci->min_value = malloc(ex->legacy_min_len ? ex->legacy_min_len : 1);
        if (!ci->min_value)
            abort();
        memcpy(ci->min_value, ex->legacy_min, ex->legacy_min_len);
        ci->min_len = ex->legacy_min_len;
        ci->has_min = true;
    }
    if (!ci->has_max && ex->has_legacy_max) {
        ci->max_value = malloc(ex->legacy_max_len ? ex->legacy_max_len : 1);
        if (!ci->max_value)
            abort();
        memcpy(ci->max_value, ex->legacy_max, ex->legacy_max_len);
        ci->max_len = ex->legacy_max_len;
        ci->has_max = true;
    }
}

/* Row groups against the schema: one chunk per leaf, of the leaf's type,
 * inside this file. */
static sl_code check_row_groups(pq_file_info *info, pq_meta_parsed *pm, sl_err *err)
{
    for (size_t g = 0; g < info->num_row_groups; g++) {
        pq_rowgroup_info *rg = &info->row_groups[g];
        if (rg->num_chunks != info->num_leaves)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "row group %zu has %zu column chunks for %zu columns", g,
                           rg->num_chunks, info->num_leaves);
        for (size_t k = 0; k < rg->num_chunks; k++) {
            const pq_chunk_extra *ex = &pm->extra[g][k];
            const pq_node *leaf = info->leaves[k];
            if (ex->external)
                return err_set(err, SL_PARQUET_UNSUPPORTED,
                               "row group %zu, column %s lives in another file or is encrypted",
                               g, leaf->path);
            if (!ex->has_meta)
                return err_set(err, SL_PARQUET_CORRUPT,
                               "row group %zu, column %s has no column metadata", g,
                               leaf->path);
            if (ex->type != (int32_t)leaf->type)
                return err_set(err, SL_PARQUET_CORRUPT,
                               "row group %zu, column %s: chunk type %s but schema type %s", g,
                               leaf->path, pq_physical_name(ex->type),
                               pq_physical_name(leaf->type));
            if (pq_legacy_stats_usable(leaf))
                stat_take_legacy(&rg->chunks[k], ex);
        }
    }
    return SL_OK;
}

static uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static sl_code open_footer(pq_reader *r, sl_err *err)
{
    const char *name = r->src.name;
    uint64_t size = r->src.size;
    if (size < 12)
        return err_set(err, SL_PARQUET_NOT_PARQUET,
                       "%s is %llu bytes: too short for Parquet (no PAR1 header and footer)",
                       name, (unsigned long long)size);
    uint8_t head[4], tail[8];
    sl_code c = r->src.read(r->src.ctx, 0, 4, head, err);
    if (c == SL_OK)
        c = r->src.read(r->src.ctx, size - 8, 8, tail, err);
    if (c != SL_OK)
        return err_wrap(err, "%s", name);
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return err_set(err, SL_PARQUET_UNSUPPORTED,
                       "%s has an encrypted footer (PARE); encrypted Parquet is not supported",
                       name);
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return err_set(err, SL_PARQUET_NOT_PARQUET,
                       "%s lacks the PAR1 magic at its %s (truncated or not Parquet)", name,
                       memcmp(head, "PAR1", 4) != 0 ? "start" : "end");
    uint32_t flen = rd_le32(tail);
    if (flen > size - 12)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "%s: footer length %u is larger than the file (%llu bytes)", name, flen,
                       (unsigned long long)size);
    r->info.file_size = size;
    r->info.footer_len = flen;
    uint8_t *footer = malloc(flen ? flen : 1);
    if (!footer)
        return err_set(err, SL_PARQUET_CORRUPT, "%s: cannot allocate the %u-byte footer", name,
                       flen);
    if ((c = r->src.read(r->src.ctx, size - 8 - flen, flen, footer, err)) != SL_OK) {
        free(footer);
        return err_wrap(err, "%s", name);
    }
    pq_meta_parsed pm;
    if ((c = pq_meta_read_file(footer, flen, &r->info, &pm, err)) != SL_OK) {
        free(footer);
        return err_wrap(err, "%s: footer", name);
    }
    r->info.file_size = size;
    r->info.footer_len = flen;
    c = pq_schema_build(pm.schema, pm.nschema, &r->info, err);
    if (c == SL_OK)
        c = check_row_groups(&r->info, &pm, err);
    pq_meta_parsed_free(&pm, r->info.num_row_groups);
    free(footer);
    if (c != SL_OK)
        return err_wrap(err, "%s: footer", name);
    return SL_OK;
}

sl_code pq_reader_open(pq_source *src, pq_reader **out, sl_err *err)
{
    *out = NULL;
    pq_reader *r = sl_calloc(1, sizeof *r);
    r->src = *src;
    memset(src, 0, sizeof *src);
    sl_code c = open_footer(r, err);
    if (c != SL_OK) {
        pq_reader_close(r);
        return c;
    }
    *out = r;
    return SL_OK;
}

sl_code pq_reader_open_file(const char *path, pq_reader **out, sl_err *err)
{
    *out = NULL;
    pq_source src;
    sl_code c = pq_source_file(path, &src, err);
    if (c != SL_OK)
        return c;
    return pq_reader_open(&src, out, err);
}

/* ---- JSON -------------------------------------------------------------- */

json_t *pq_schema_to_json(const pq_reader *r)
{
    return pq_schema_node_json(r->info.root);
}

static json_t *stats_json(const pq_node *leaf, const pq_chunk_info *ci)
{
    if (!ci->has_null_count && !ci->has_min && !ci->has_max)
        return NULL;
    json_t *s = json_object();
    if (ci->has_null_count)
        json_object_set_new(s, "null_count", json_integer(ci->null_count));
    if (ci->has_min) {
        json_t *v = pq_stat_value_json(leaf, ci->min_value, ci->min_len);
        json_object_set_new(s, "min", v ? v : pq_json_bytes(ci->min_value, ci->min_len));
    }
    if (ci->has_max) {
        json_t *v = pq_stat_value_json(leaf, ci->max_value, ci->max_len);
        json_object_set_new(s, "max", v ? v : pq_json_bytes(ci->max_value, ci->max_len));
    }
    return s;
}

static json_t *chunk_json(const pq_node *leaf, const pq_chunk_info *ci)
{
    json_t *j = json_object();
    json_object_set_new(j, "path", pq_json_bytes((const uint8_t *)leaf->path, strlen(leaf->path)));
    json_object_set_new(j, "type", json_string(pq_physical_name(leaf->type)));
    const char *codec = pq_codec_name(ci->codec);
    json_object_set_new(j, "codec", codec ? json_string(codec) : json_integer(ci->codec));
    json_t *encs = json_array();
    for (size_t i = 0; i < ci->num_encodings; i++)
        json_array_append_new(encs, json_string(pq_encoding_name(ci->encodings[i])));
    json_object_set_new(j, "encodings", encs);
    json_object_set_new(j, "num_values", json_integer(ci->num_values));
    json_object_set_new(j, "total_compressed_size", json_integer(ci->total_compressed_size));
    json_object_set_new(j, "total_uncompressed_size",
                        json_integer(ci->total_uncompressed_size));
    json_object_set_new(j, "data_page_offset", json_integer(ci->data_page_offset));
    if (ci->dictionary_page_offset > 0)
        json_object_set_new(j, "dictionary_page_offset",
                            json_integer(ci->dictionary_page_offset));
    json_t *st = stats_json(leaf, ci);
    if (st)
        json_object_set_new(j, "statistics", st);
    return j;
}

json_t *pq_meta_to_json(const pq_reader *r)
{
    const pq_file_info *info = &r->info;
    json_t *j = json_object();
    json_object_set_new(j, "file", pq_json_bytes((const uint8_t *)r->src.name,
                                                 r->src.name ? strlen(r->src.name) : 0));
    json_object_set_new(j, "file_size", json_integer((json_int_t)info->file_size));
    json_object_set_new(j, "footer_length", json_integer(info->footer_len));
    json_object_set_new(j, "version", json_integer(info->version));
    json_object_set_new(j, "num_rows", json_integer(info->num_rows));
    json_object_set_new(j, "created_by",
                        info->created_by ? pq_json_bytes((const uint8_t *)info->created_by,
                                                         strlen(info->created_by))
                                         : json_null());
    json_object_set_new(j, "num_columns", json_integer((json_int_t)info->num_leaves));
    json_object_set(j, "key_value_metadata", info->key_value_metadata);
    json_t *rgs = json_array();
    for (size_t g = 0; g < info->num_row_groups; g++) {
        const pq_rowgroup_info *rg = &info->row_groups[g];
        json_t *jg = json_object();
        json_object_set_new(jg, "num_rows", json_integer(rg->num_rows));
        json_object_set_new(jg, "total_byte_size", json_integer(rg->total_byte_size));
        json_t *cols = json_array();
        for (size_t k = 0; k < rg->num_chunks; k++)
            json_array_append_new(cols, chunk_json(info->leaves[k], &rg->chunks[k]));
        json_object_set_new(jg, "columns", cols);
        json_array_append_new(rgs, jg);
    }
    json_object_set_new(j, "row_groups", rgs);
    return j;
}
