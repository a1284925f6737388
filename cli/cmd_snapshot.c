#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

static void print_list(FILE *out, json_t *arr)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        fputs("-", out);
        return;
    }
    json_array_foreach(arr, i, v) fprintf(out, "%s%s", i ? ", " : "",
                                          json_is_string(v) ? json_string_value(v) : "?");
}

static void print_text(cli_ctx *ctx, const delta_snapshot *snap, json_t *j)
{
    FILE *o = ctx->out;
    char ts[40], size[32];
    time_format_iso(snap->timestamp_ms, ts, sizeof ts);
    cli_human_bytes((uint64_t)snap->size_bytes, size, sizeof size);
    json_t *proto = json_object_get(j, "protocol");
    fprintf(o, "table       %s\n", json_string_value(json_object_get(j, "table")));
    fprintf(o, "version     %lld  (%s)\n", (long long)snap->version, ts);
    fprintf(o, "files       %zu\n", snap->nfiles);
    if (snap->num_rows < 0)
        fprintf(o, "rows        unknown (some files have no stats)\n");
    else
        fprintf(o, "rows        %lld\n", (long long)snap->num_rows);
    fprintf(o, "size        %s (%lld bytes)\n", size, (long long)snap->size_bytes);
    fprintf(o, "protocol    reader %lld, writer %lld; reader features: ",
            (long long)json_integer_value(json_object_get(proto, "min_reader_version")),
            (long long)json_integer_value(json_object_get(proto, "min_writer_version")));
    print_list(o, json_object_get(proto, "reader_features"));
    fputs("; writer features: ", o);
    print_list(o, json_object_get(proto, "writer_features"));
    fputs("\npartitions  ", o);
    print_list(o, json_object_get(j, "partition_columns"));
    json_t *id = json_object_get(j, "metadata_id");
    fprintf(o, "\nmetadata    %s\n", json_is_string(id) ? json_string_value(id) : "-");
    json_t *fields = json_object_get(json_object_get(j, "schema"), "fields");
    size_t i;
    json_t *f;
    fputs("schema\n", o);
    json_array_foreach(fields, i, f)
    {
        json_t *type = json_object_get(f, "type");
        char *tt = json_is_string(type) ? NULL : json_dumps(type, JSON_COMPACT);
        fprintf(o, "  %-24s %s%s\n", json_string_value(json_object_get(f, "name")),
                tt ? tt : json_string_value(type),
                json_is_false(json_object_get(f, "nullable")) ? " not null" : "");
        free(tt);
    }
    json_t *conf = json_object_get(j, "configuration");
    const char *k;
    json_t *v;
    if (json_object_size(conf))
        fputs("configuration\n", o);
    json_object_foreach(conf, k, v)
        fprintf(o, "  %s = %s\n", k, json_is_string(v) ? json_string_value(v) : "?");
}

sl_code cmd_snapshot(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 1)
        return err_set(err, SL_USAGE,
                       "usage: sluice snapshot TABLE [--version N | --timestamp T]");
    delta_at at = {.kind = DELTA_AT_LATEST};
    long long v = 0;
    int has_v = 0;
    sl_code c = cli_args_int(a, "version", &v, &has_v, err);
    if (c != SL_OK)
        return c;
    const char *ts = cli_args_get(a, "timestamp");
    if (has_v && ts)
        return err_set(err, SL_USAGE, "give --version or --timestamp, not both");
    if (has_v) {
        at.kind = DELTA_AT_VERSION;
        at.version = v;
    } else if (ts) {
        at.kind = DELTA_AT_TIMESTAMP;
        if ((c = time_parse(ts, &at.timestamp_ms, err)) != SL_OK)
            return c;
    }
    store *st = NULL;
    if ((c = cli_open_table(ctx, a->pos[0], &st, err)) != SL_OK)
        return c;
    delta_snapshot *snap = NULL;
    c = delta_snapshot_open(st, "", &at, &snap, err);
    if (c == SL_OK) {
        json_t *j = delta_snapshot_to_json(snap, a->pos[0]);
        if (ctx->json) {
            cli_print_json(ctx, j);
        } else {
            print_text(ctx, snap, j);
            json_decref(j);
        }
        delta_snapshot_free(snap);
    }
    store_close(st);
    return c;
}
