/* Reader-side protocol checks: a table that needs a reader capability we do
 * not have is refused, never silently misread. */

#include <string.h>

#include "backend/delta/delta_internal.h"

/* Highest reader version we understand: 3 introduced table features. */
#define READER_VERSION_MAX 3

/* Reader features that do not change what log/metadata reading returns, or
 * that we honour: deletion vectors through their cardinality in the log,
 * column mapping and type features only affect data files, v2 checkpoints
 * (top-level file plus sidecars) are read by checkpoint_read.c. The check
 * runs on the protocol in effect, whether it came from a commit or a
 * checkpoint. */
static const char *const supported_reader_features[] = {
    "deletionVectors",      "columnMapping",       "timestampNtz",
    "v2Checkpoint",         "vacuumProtocolCheck", "typeWidening",
    "typeWidening-preview", "variantType",         "variantType-preview",
};

int delta_reader_feature_supported(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0;
         i < sizeof supported_reader_features / sizeof *supported_reader_features; i++)
        if (strcmp(name, supported_reader_features[i]) == 0)
            return 1;
    return 0;
}

sl_code delta_protocol_check(const json_t *protocol, int64_t version, sl_err *err)
{
    if (!json_is_object(protocol))
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "no protocol action in the log up to version %lld",
                       (long long)version);
    json_t *rv = json_object_get(protocol, "minReaderVersion");
    if (!json_is_integer(rv))
        return err_set(
            err, SL_DELTA_CORRUPT_LOG,
            "protocol in effect at version %lld has no integer minReaderVersion",
            (long long)version);
    json_int_t reader = json_integer_value(rv);
    if (reader < 1 || reader > READER_VERSION_MAX)
        return err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                       "table needs reader version %lld (at version %lld); sluice reads "
                       "reader versions 1 to %d",
                       (long long)reader, (long long)version, READER_VERSION_MAX);
    if (reader < 3)
        return SL_OK;

    json_t *features = json_object_get(protocol, "readerFeatures");
    if (features && !json_is_array(features) && !json_is_null(features))
        return err_set(
            err, SL_DELTA_CORRUPT_LOG,
            "protocol in effect at version %lld: readerFeatures is not an array",
            (long long)version);
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f)
    {
        const char *name = json_string_value(f);
        if (!name)
            return err_set(
                err, SL_DELTA_CORRUPT_LOG,
                "protocol in effect at version %lld: readerFeatures[%zu] is not "
                "a string",
                (long long)version, i);
        if (!delta_reader_feature_supported(name))
            return err_set(
                err, SL_DELTA_UNSUPPORTED_FEATURE,
                "table needs reader feature '%s' (at version %lld), which sluice "
                "does not support",
                name, (long long)version);
    }
    return SL_OK;
}
