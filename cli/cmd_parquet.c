/* `sluice parquet schema|meta|cat FILE`: look into a Parquet file (a local
 * path or a store URL) without any other tool. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_reader.h"
#include "backend/util/timeutil.h"
#include "cli/cli_cmd.h"

#define PARQUET_USAGE                                                                    \
    "usage: sluice parquet schema FILE | parquet meta FILE | parquet cat FILE "          \
    "[--columns a,b] [--limit N]"

/* A local path opens directly; a URL (s3://..., file://...) opens its
 * folder as a store and reads the object by range. */
static sl_code open_reader(cli_ctx *ctx, const char *file, store **st_out, pq_reader **out,
                           sl_err *err)
{
    *st_out = NULL;
    const char *scheme = strstr(file, "://");
    if (!scheme)
        return pq_reader_open_file(file, out, err);
    const char *slash = strrchr(file, '/');
    if (slash < scheme + 3 || slash[1] == '\0')
        return err_set(err, SL_USAGE, "%s does not name an object (URL/KEY)", file);
    char *root = sl_strndup(file, (size_t)(slash - file));
    sl_code c = store_open(root, st_out, err);
    free(root);
    if (c != SL_OK)
        return c;
    if (ctx->sess)
        store_set_log(*st_out, ctx->sess->log);
    pq_source src;
    if ((c = pq_source_store(*st_out, slash + 1, &src, err)) != SL_OK)
        return c;
    return pq_reader_open(&src, out, err);
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* One line per node: repetition, type, name, annotations. */
static void print_schema_node(FILE *o, const json_t *n, int indent)
{
    json_t *kids = json_object_get(n, "children");
    size_t i;
    json_t *k;
    json_array_foreach(kids, i, k)
    {
        const char *rep = jstr(k, "repetition"), *lt = jstr(k, "logical"),
                   *ct = jstr(k, "converted");
        fprintf(o, "%*s%s %s %s", indent, "", rep ? rep : "", jstr(k, "type"), jstr(k, "name"));
        if (json_object_get(k, "type_length"))
            fprintf(o, " (length %lld)",
                    (long long)json_integer_value(json_object_get(k, "type_length")));
        if (lt || ct)
            fprintf(o, " [%s%s%s]", lt ? lt : "", lt && ct ? ", " : "", ct ? ct : "");
        fprintf(o, "\n");
        print_schema_node(o, k, indent + 2);
    }
}

static sl_code parquet_schema(cli_ctx *ctx, pq_reader *r)
{
    json_t *j = pq_schema_to_json(r);
    if (ctx->json) {
        cli_print_json(ctx, j);
        return SL_OK;
    }
    print_schema_node(ctx->out, j, 0);
    json_decref(j);
    return SL_OK;
}

static void print_meta_text(FILE *o, const json_t *m)
{
    fprintf(o, "file        %s\n", jstr(m, "file"));
    fprintf(o, "created by  %s\n", jstr(m, "created_by") ? jstr(m, "created_by") : "-");
    fprintf(o, "rows        %lld in %zu row group(s), %lld columns, footer %lld bytes\n",
            (long long)json_integer_value(json_object_get(m, "num_rows")),
            json_array_size(json_object_get(m, "row_groups")),
            (long long)json_integer_value(json_object_get(m, "num_columns")),
            (long long)json_integer_value(json_object_get(m, "footer_length")));
    size_t g;
    json_t *rg;
    json_array_foreach(json_object_get(m, "row_groups"), g, rg)
    {
        fprintf(o, "row group %zu: %lld rows\n", g,
                (long long)json_integer_value(json_object_get(rg, "num_rows")));
        fprintf(o, "  %-40s %-10s %-8s %12s %12s  %s\n", "COLUMN", "TYPE", "CODEC",
                "COMPRESSED", "VALUES", "ENCODINGS / STATISTICS");
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(rg, "columns"), k, c)
        {
            char *encs = json_dumps(json_object_get(c, "encodings"), JSON_COMPACT);
            char *stats = json_object_get(c, "statistics")
                              ? json_dumps(json_object_get(c, "statistics"),
                                           JSON_COMPACT | JSON_PRESERVE_ORDER)
                              : NULL;
            const char *codec = jstr(c, "codec");
            fprintf(o, "  %-40s %-10.10s %-8s %12lld %12lld  %s%s%s\n", jstr(c, "path"),
                    jstr(c, "type"), codec ? codec : "?",
                    (long long)json_integer_value(json_object_get(c, "total_compressed_size")),
                    (long long)json_integer_value(json_object_get(c, "num_values")),
                    encs ? encs : "", stats ? " " : "", stats ? stats : "");
            free(encs);
            free(stats);
        }
    }
}

static sl_code parquet_meta(cli_ctx *ctx, pq_reader *r)
{
    json_t *j = pq_meta_to_json(r);
    if (ctx->json) {
        cli_print_json(ctx, j);
        return SL_OK;
    }
    print_meta_text(ctx->out, j);
    json_decref(j);
    return SL_OK;
}

/* "a,b" into a list of names (the copy in *buf owns the strings). */
static size_t split_columns(const char *spec, char **buf, const char ***names)
{
    *buf = sl_strdup(spec);
    size_t n = 0, cap = 8;
    *names = sl_calloc(cap, sizeof **names);
    for (char *save = NULL, *t = strtok_r(*buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        if (n == cap) {
            cap *= 2;
            *names = sl_realloc(*names, cap * sizeof **names);
        }
        (*names)[n++] = t;
    }
    return n;
}

static sl_code parquet_cat(cli_ctx *ctx, pq_reader *r, sl_err *err)
{
    long long limit = 0;
    int has_limit = 0;
    sl_code c = cli_args_int(ctx->args, "limit", &limit, &has_limit, err);
    if (c != SL_OK)
        return c;
    const char *spec = cli_args_get(ctx->args, "columns");
    char *buf = NULL;
    const char **names = NULL;
    size_t ncols = spec ? split_columns(spec, &buf, &names) : 0;
    if (spec && ncols == 0)
        c = err_set(err, SL_USAGE, "--columns needs at least one column name");
    pq_rows *rows = NULL;
    if (c == SL_OK)
        c = pq_rows_open(r, names, ncols, &rows, err);
    long long printed = 0;
    while (c == SL_OK && (!has_limit || printed < limit)) {
        json_t *row = NULL;
        if ((c = pq_rows_next(rows, &row, err)) != SL_OK || !row)
            break;
        char *text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fprintf(ctx->out, "%s\n", text ? text : "{}");
        free(text);
        json_decref(row);
        printed++;
    }
    pq_rows_free(rows);
    free(names);
    free(buf);
    return c;
}

sl_code cmd_parquet(cli_ctx *ctx, sl_err *err)
{
    const cli_args *a = ctx->args;
    if (a->npos != 2)
        return err_set(err, SL_USAGE, PARQUET_USAGE);
    const char *sub = a->pos[0], *file = a->pos[1];
    if (strcmp(sub, "schema") != 0 && strcmp(sub, "meta") != 0 && strcmp(sub, "cat") != 0)
        return err_set(err, SL_USAGE,
                       "unknown parquet command \"%s\"; use schema, meta or cat", sub);
    double t0 = time_mono_ms();
    store *st = NULL;
    pq_reader *r = NULL;
    sl_code c = open_reader(ctx, file, &st, &r, err);
    if (c == SL_OK) {
        if (strcmp(sub, "schema") == 0)
            c = parquet_schema(ctx, r);
        else if (strcmp(sub, "meta") == 0)
            c = parquet_meta(ctx, r);
        else
            c = parquet_cat(ctx, r, err);
    }
    pq_reader_close(r);
    store_close(st);
    if (ctx->sess) {
        char op[32];
        snprintf(op, sizeof op, "parquet.%s", sub);
        log_op(ctx->sess->log, op, file, c, time_mono_ms() - t0, c == SL_OK ? NULL : err->msg);
    }
    return c;
}
