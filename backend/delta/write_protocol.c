/* Writer-side protocol checks: sluice writes only to tables whose every
 * writer feature it honours or can prove inactive; anything else is refused
 * before a byte is written, never silently corrupted. */

#include <string.h>

#include "backend/delta/delta_write.h"

static const char *config_str(const json_t *metadata, const char *key)
{
    const json_t *conf = json_object_get(metadata, "configuration");
    return json_string_value(json_object_get(conf, key));
}

static int column_mapping_off(const json_t *metadata)
{
    const char *mode = config_str(metadata, "delta.columnMapping.mode");
    return !mode || strcmp(mode, "none") == 0;
}

/* 1 when any field of the schema (nested included) carries metadata key. */
static int field_meta_has(const json_t *type, const char *key)
{
    if (!json_is_object(type))
        return 0;
    const json_t *fields = json_object_get(type, "fields");
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const json_t *md = json_object_get(f, "metadata");
        if (json_is_object(md)) {
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)md, k, v)
            {
                if (strncmp(k, key, strlen(key)) == 0)
                    return 1;
            }
        }
        if (field_meta_has(json_object_get(f, "type"), key))
            return 1;
    }
    /* array and map element types */
    if (field_meta_has(json_object_get(type, "elementType"), key) ||
        field_meta_has(json_object_get(type, "keyType"), key) ||
        field_meta_has(json_object_get(type, "valueType"), key))
        return 1;
    return 0;
}

static int schema_has(const json_t *metadata, const char *key)
{
    const char *text = json_string_value(json_object_get(metadata, "schemaString"));
    if (!text)
        return 0;
    json_t *schema = json_loads(text, 0, NULL);
    if (!schema)
        return 1; /* unreadable schema: cannot prove anything inactive */
    int r = field_meta_has(schema, key);
    json_decref(schema);
    return r;
}

static int config_prefix(const json_t *metadata, const char *prefix)
{
    json_t *conf = json_object_get(metadata, "configuration");
    const char *k;
    json_t *v;
    json_object_foreach(conf, k, v)
    {
        if (strncmp(k, prefix, strlen(prefix)) == 0)
            return 1;
    }
    return 0;
}

static sl_code refuse(sl_err *err, const char *where, const char *feature,
                      const char *why)
{
    return err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                   "refusing to write %s: it uses writer feature '%s' (%s)", where,
                   feature, why);
}

/* One writer feature: SL_OK when honoured or provably inactive. */
static sl_code feature_check(const char *name, const json_t *metadata, const char *where,
                             sl_err *err)
{
    if (strcmp(name, "appendOnly") == 0 || strcmp(name, "changeDataFeed") == 0 ||
        strcmp(name, "timestampNtz") == 0)
        return SL_OK; /* appendOnly enforced by delta_commit; CDF: whole-file changes */
    if (strcmp(name, "invariants") == 0)
        return schema_has(metadata, "delta.invariants")
                   ? refuse(err, where, name,
                            "a column has an invariant sluice cannot check")
                   : SL_OK;
    if (strcmp(name, "checkConstraints") == 0)
        return config_prefix(metadata, "delta.constraints.")
                   ? refuse(err, where, name, "CHECK constraints are set")
                   : SL_OK;
    if (strcmp(name, "generatedColumns") == 0)
        return schema_has(metadata, "delta.generationExpression")
                   ? refuse(err, where, name, "a column is generated")
                   : SL_OK;
    if (strcmp(name, "identityColumns") == 0)
        return schema_has(metadata, "delta.identity.")
                   ? refuse(err, where, name, "a column is an identity column")
                   : SL_OK;
    if (strcmp(name, "columnMapping") == 0)
        return column_mapping_off(metadata)
                   ? SL_OK
                   : refuse(err, where, name, "column mapping is active");
    if (strcmp(name, "domainMetadata") == 0)
        return config_str(metadata, "delta.liquid.clusteringColumns") ||
                       config_prefix(metadata, "delta.clustering")
                   ? refuse(err, where, name, "the table is clustered")
                   : SL_OK;
    if (strcmp(name, "deletionVectors") == 0 || strcmp(name, "rowTracking") == 0 ||
        strcmp(name, "clustering") == 0 || strcmp(name, "liquid") == 0 ||
        strcmp(name, "v2Checkpoint") == 0)
        return refuse(err, where, name, "not supported by sluice's writer");
    return refuse(err, where, name, "unknown to sluice");
}

/* The features a legacy writer version (3..6) implies. */
static const char *const legacy_features[] = {
    "appendOnly",       "invariants",       /* 2 */
    "checkConstraints",                     /* 3 */
    "changeDataFeed",   "generatedColumns", /* 4 */
    "columnMapping",                        /* 5 */
    "identityColumns",                      /* 6 */
};
static const int legacy_since[] = {2, 2, 3, 4, 4, 5, 6};

static sl_code reader_check(json_int_t reader, const json_t *protocol,
                            const json_t *metadata, const char *where, sl_err *err)
{
    if (reader <= 1)
        return SL_OK;
    if (reader == 2) {
        if (column_mapping_off(metadata))
            return SL_OK;
        return refuse(err, where, "columnMapping", "column mapping is active");
    }
    if (reader != 3)
        return err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                       "refusing to write %s: it needs reader version %lld", where,
                       (long long)reader);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(protocol, "readerFeatures"), i, f)
    {
        const char *name = json_string_value(f);
        if (!name)
            return err_set(err, SL_DELTA_CORRUPT_LOG,
                           "%s: protocol readerFeatures[%zu] is not a string", where, i);
        /* Every reader feature is also a writer feature; the writer list is
         * checked next, but a reader-only name we do not know is refused. */
        if (strcmp(name, "timestampNtz") != 0 && strcmp(name, "columnMapping") != 0) {
            sl_code c = feature_check(name, metadata, where, err);
            return c != SL_OK ? c
                              : refuse(err, where, name,
                                       "reader feature not supported by the writer");
        }
        if (strcmp(name, "columnMapping") == 0 && !column_mapping_off(metadata))
            return refuse(err, where, name, "column mapping is active");
    }
    return SL_OK;
}

sl_code delta_write_protocol_check(const json_t *protocol, const json_t *metadata,
                                   const char *where, sl_err *err)
{
    if (!json_is_object(protocol))
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s: no protocol action", where);
    json_t *rv = json_object_get(protocol, "minReaderVersion");
    json_t *wv = json_object_get(protocol, "minWriterVersion");
    if (!json_is_integer(rv) || !json_is_integer(wv))
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "%s: protocol without integer minReaderVersion/minWriterVersion",
                       where);
    json_int_t reader = json_integer_value(rv);
    json_int_t writer = json_integer_value(wv);
    if (writer < 1 || writer > 7)
        return err_set(
            err, SL_DELTA_UNSUPPORTED_FEATURE,
            "refusing to write %s: it needs writer version %lld; sluice writes "
            "versions 1 to 7 (with supported features)",
            where, (long long)writer);
    sl_code c = reader_check(reader, protocol, metadata, where, err);
    if (c != SL_OK)
        return c;
    if (writer < 7) {
        for (size_t i = 0; i < sizeof legacy_features / sizeof *legacy_features; i++) {
            if (writer < legacy_since[i])
                continue;
            c = feature_check(legacy_features[i], metadata, where, err);
            if (c != SL_OK)
                return c;
        }
        return SL_OK;
    }
    json_t *features = json_object_get(protocol, "writerFeatures");
    if (features && !json_is_array(features) && !json_is_null(features))
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s: writerFeatures is not an array",
                       where);
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f)
    {
        const char *name = json_string_value(f);
        if (!name)
            return err_set(err, SL_DELTA_CORRUPT_LOG,
                           "%s: protocol writerFeatures[%zu] is not a string", where, i);
        c = feature_check(name, metadata, where, err);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}
