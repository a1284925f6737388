/* The stable `sluice snapshot --json` shape (docs/cli.md). Unknown values
 * are null, never guessed. */

#include "backend/delta/delta_internal.h"

static json_t *int_or_null(const json_t *v)
{
    return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static json_t *array_or_null(json_t *v)
{
    return json_is_array(v) ? json_deep_copy(v) : json_null();
}

static json_t *protocol_json(const json_t *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "min_reader_version",
                        int_or_null(json_object_get(p, "minReaderVersion")));
    json_object_set_new(o, "min_writer_version",
                        int_or_null(json_object_get(p, "minWriterVersion")));
    json_object_set_new(o, "reader_features",
                        array_or_null(json_object_get(p, "readerFeatures")));
    json_object_set_new(o, "writer_features",
                        array_or_null(json_object_get(p, "writerFeatures")));
    return o;
}

/* schemaString is JSON text inside a string; the shape carries it parsed. */
static json_t *schema_json(const json_t *metadata)
{
    const char *text = json_string_value(json_object_get(metadata, "schemaString"));
    json_t *schema = text ? json_loads(text, 0, NULL) : NULL;
    return schema ? schema : json_null();
}

json_t *delta_snapshot_to_json(const delta_snapshot *snap, const char *table_name)
{
    json_t *o = json_object();
    json_object_set_new(o, "table", table_name ? json_string(table_name) : json_null());
    json_object_set_new(o, "version", json_integer(snap->version));
    json_object_set_new(o, "num_files", json_integer((json_int_t)snap->nfiles));
    json_object_set_new(o, "num_rows",
                        snap->num_rows >= 0 ? json_integer(snap->num_rows) : json_null());
    json_object_set_new(o, "size_bytes", json_integer(snap->size_bytes));
    json_object_set_new(o, "protocol", protocol_json(snap->protocol));
    json_t *pc = json_object_get(snap->metadata, "partitionColumns");
    json_object_set_new(o, "partition_columns",
                        json_is_array(pc) ? json_deep_copy(pc) : json_array());
    json_object_set_new(o, "schema", schema_json(snap->metadata));
    const char *id = json_string_value(json_object_get(snap->metadata, "id"));
    json_object_set_new(o, "metadata_id", id ? json_string(id) : json_null());
    json_t *conf = json_object_get(snap->metadata, "configuration");
    json_object_set_new(o, "configuration",
                        json_is_object(conf) ? json_deep_copy(conf) : json_object());
    return o;
}
