#include "tui/tablesum.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/log.h"

static void protocol_text(const json_t *p, char *out, size_t outlen)
{
    json_int_t r = json_integer_value(json_object_get(p, "minReaderVersion"));
    json_int_t w = json_integer_value(json_object_get(p, "minWriterVersion"));
    int k = snprintf(out, outlen, "%lld/%lld", (long long)r, (long long)w);
    const json_t *features = json_object_get(p, "readerFeatures");
    size_t i;
    const json_t *f;
    int first = 1;
    json_array_foreach(features, i, f)
    {
        if (k < 0 || (size_t)k >= outlen)
            return;
        k += snprintf(out + k, outlen - (size_t)k, "%s%s", first ? " " : ",",
                      json_string_value(f) ? json_string_value(f) : "?");
        first = 0;
    }
}

void tablesum_load(const char *url, sl_log *log, table_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->rows = -1;
    store *s = NULL;
    sum->code = store_open(url, &s, &sum->err);
    if (sum->code != SL_OK)
        return;
    store_set_log(s, log);
    delta_at at = {DELTA_AT_LATEST, 0, 0};
    delta_snapshot *snap = NULL;
    sum->code = delta_snapshot_open(s, "", &at, &snap, &sum->err);
    if (sum->code == SL_OK) {
        sum->version = snap->version;
        sum->timestamp_ms = snap->timestamp_ms;
        sum->files = snap->nfiles;
        sum->rows = snap->num_rows;
        sum->bytes = (uint64_t)snap->size_bytes;
        protocol_text(snap->protocol, sum->protocol, sizeof sum->protocol);
        delta_snapshot_free(snap);
    }
    store_close(s);
}
