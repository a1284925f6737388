/* Pipeline files: strict parsing (every unknown key, wrong type, bad enum,
 * bad rule and dangling column reference is an error naming the file and
 * the JSON path of the key), defaults, and the derived locations. */
#include "backend/pipeline/pipeline_def.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/pipeline/config.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

/* The parse state: the file named in messages and the error to fill. */
typedef struct pctx {
    const char *file;
    sl_err *err;
} pctx;

static sl_code bad(pctx *p, const char *jpath, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_code bad(pctx *p, const char *jpath, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->err, SL_PIPELINE_INVALID, "%s: %s: %s", p->file, jpath, msg);
}

/* "parent.key" (or "key" at the top). A path longer than the buffer is cut
 * (only error messages show it), hence the length checks. */
static void jp_key(char *out, size_t n, const char *parent, const char *key)
{
    int w = parent && *parent ? snprintf(out, n, "%s.%s", parent, key)
                              : snprintf(out, n, "%s", key);
    if (w < 0 && n)
        out[0] = '\0';
}

static void jp_index(char *out, size_t n, const char *parent, size_t i)
{
    int w = snprintf(out, n, "%s[%zu]", parent, i);
    if (w < 0 && n)
        out[0] = '\0';
}

#define JP_MAX 512

/* ---- generic getters --------------------------------------------------- */

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static sl_code check_keys(pctx *p, json_t *obj, const char *jpath,
                          const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (in_list(allowed, key))
            continue;
        sl_buf list = {0};
        for (const char *const *a = allowed; *a; a++)
            buf_appendf(&list, "%s%s", list.len ? ", " : "", *a);
        char jp[JP_MAX];
        jp_key(jp, sizeof jp, jpath, key);
        sl_code c = bad(p, jp, "unknown key (accepted here: %s)", list.data);
        buf_free(&list);
        return c;
    }
    return SL_OK;
}

/* An object member that must be an object; *out NULL when absent. */
static sl_code get_obj(pctx *p, json_t *obj, const char *key, const char *jpath,
                       int required, json_t **out)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? bad(p, jp, "missing (required)") : SL_OK;
    if (!json_is_object(v))
        return bad(p, jp, "must be an object");
    *out = v;
    return SL_OK;
}

static sl_code get_str(pctx *p, json_t *obj, const char *key, const char *jpath,
                       int required, char **out)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return required ? bad(p, jp, "missing (required)") : SL_OK;
    if (!json_is_string(v) || !*json_string_value(v))
        return bad(p, jp, "must be a non-empty string");
    free(*out);
    *out = sl_strdup(json_string_value(v));
    return SL_OK;
}

/* A number in [lo, hi]; left unchanged (the default) when absent. */
static sl_code get_num(pctx *p, json_t *obj, const char *key, const char *jpath,
                       double lo, double hi, double *out)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SL_OK;
    if (!json_is_number(v))
        return bad(p, jp, "must be a number");
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return bad(p, jp, "%g is out of range (%g to %g)", x, lo, hi);
    *out = x;
    return SL_OK;
}

static sl_code get_int(pctx *p, json_t *obj, const char *key, const char *jpath,
                       json_int_t lo, json_int_t hi, int *out)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SL_OK;
    if (!json_is_integer(v))
        return bad(p, jp, "must be a whole number");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return bad(p, jp, "%lld is out of range (%lld to %lld)", (long long)x,
                   (long long)lo, (long long)hi);
    *out = (int)x;
    return SL_OK;
}

/* One of names (index into *out); left unchanged when absent. */
static sl_code get_enum(pctx *p, json_t *obj, const char *key, const char *jpath,
                        const char *const *names, int *out)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SL_OK;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    for (int i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return SL_OK;
        }
    sl_buf list = {0};
    for (int i = 0; names[i]; i++)
        buf_appendf(&list, "%s\"%s\"", i ? ", " : "", names[i]);
    sl_code c = s ? bad(p, jp, "\"%s\" is not one of %s", s, list.data)
                  : bad(p, jp, "must be one of %s", list.data);
    buf_free(&list);
    return c;
}

/* An array of distinct non-empty strings. */
static sl_code get_str_array(pctx *p, json_t *obj, const char *key, const char *jpath,
                             int required, char ***out, size_t *n)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, key);
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return required ? bad(p, jp, "missing (required)") : SL_OK;
    if (!json_is_array(v))
        return bad(p, jp, "must be an array of strings");
    if (required && json_array_size(v) == 0)
        return bad(p, jp, "must name at least one column");
    *out = sl_calloc(json_array_size(v) + 1, sizeof **out);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char ji[JP_MAX];
        jp_index(ji, sizeof ji, jp, i);
        if (!json_is_string(item) || !*json_string_value(item))
            return bad(p, ji, "must be a non-empty string");
        const char *s = json_string_value(item);
        for (size_t j = 0; j < *n; j++)
            if (strcmp((*out)[j], s) == 0)
                return bad(p, ji, "\"%s\" is listed twice", s);
        (*out)[(*n)++] = sl_strdup(s);
    }
    return SL_OK;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- names and types --------------------------------------------------- */

static int name_chars_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

int pipeline_name_ok(const char *name)
{
    return name && strlen(name) <= 128 && name_chars_ok(name, strlen(name));
}

/* A table name is a key under the lake: '/'-separated segments of
 * [A-Za-z0-9_-]; a leading '_' is reserved (_sluice/, _delta_log). */
static int table_name_ok(const char *s)
{
    if (s[0] == '_' || strlen(s) > 256)
        return 0;
    const char *seg = s;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (!name_chars_ok(seg, n))
            return 0;
        if (!slash)
            return 1;
        seg = slash + 1;
    }
}

/* Columns sluice adds to its tables; a declared column may not take them. */
static const char *const added_columns[] = {"_rescued_data",
                                            "_source_file",
                                            "_source_line",
                                            "_epoch",
                                            "_batch_id",
                                            "_ingest_time",
                                            "_ingest_date",
                                            "_raw",
                                            "_reason",
                                            "_expectation",
                                            NULL};

static int parse_uint(const char **s, int *out)
{
    if (!isdigit((unsigned char)**s))
        return -1;
    long v = 0;
    while (isdigit((unsigned char)**s) && v < 1000)
        v = v * 10 + (*(*s)++ - '0');
    *out = (int)v;
    return 0;
}

static void skip_spaces(const char **s)
{
    while (**s == ' ')
        (*s)++;
}

/* "decimal(P,S)" with optional spaces. */
static int parse_decimal(const char *s, pq_type *out)
{
    if (strncmp(s, "decimal(", 8) != 0)
        return -1;
    s += 8;
    int prec, scale;
    skip_spaces(&s);
    if (parse_uint(&s, &prec))
        return -1;
    skip_spaces(&s);
    if (*s++ != ',')
        return -1;
    skip_spaces(&s);
    if (parse_uint(&s, &scale))
        return -1;
    skip_spaces(&s);
    if (strcmp(s, ")") != 0)
        return -1;
    if (prec < 1 || prec > PQ_DECIMAL_MAX_PRECISION || scale > prec)
        return -2;
    *out = PQ_TYPE_DECIMAL_OF(prec, scale);
    return 0;
}

static const struct {
    const char *name;
    pq_type type;
} type_names[] = {
    {"string", PQ_TYPE_STRING}, {"int", PQ_TYPE_INT32},
    {"long", PQ_TYPE_INT64},    {"double", PQ_TYPE_DOUBLE},
    {"float", PQ_TYPE_FLOAT},   {"boolean", PQ_TYPE_BOOLEAN},
    {"date", PQ_TYPE_DATE},     {"timestamp", PQ_TYPE_TIMESTAMP_US},
};

static sl_code parse_type(pctx *p, const char *jp, json_t *v, pq_type *out)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s)
        return bad(p, jp, "a column type must be a string");
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(s, type_names[i].name) == 0) {
            *out = type_names[i].type;
            return SL_OK;
        }
    int r = parse_decimal(s, out);
    if (r == 0)
        return SL_OK;
    if (r == -2)
        return bad(p, jp,
                   "\"%s\": a decimal's precision is 1 to %d and its scale 0 to "
                   "the precision",
                   s, PQ_DECIMAL_MAX_PRECISION);
    return bad(p, jp,
               "unknown type \"%s\" (string, int, long, double, float, boolean, date, "
               "timestamp, decimal(P,S))",
               s);
}

static int type_is_numeric(pq_type t)
{
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64:
    case PQ_TYPE_DOUBLE:
    case PQ_TYPE_FLOAT:
    case PQ_TYPE_DECIMAL:
        return 1;
    default:
        return 0;
    }
}

int pipeline_def_col(const pipeline_def *d, const char *name)
{
    for (size_t i = 0; i < d->bronze.ncols; i++)
        if (strcmp(d->bronze.cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A reference to a declared column (extra: one more accepted name). */
static sl_code need_col(pctx *p, const pipeline_def *d, const char *jp, const char *name,
                        const char *extra)
{
    if (pipeline_def_col(d, name) >= 0 || (extra && strcmp(name, extra) == 0))
        return SL_OK;
    if (extra)
        return bad(p, jp, "no column \"%s\" in bronze.schema (nor is it %s)", name,
                   extra);
    return bad(p, jp, "no column \"%s\" in bronze.schema", name);
}

static sl_code need_cols(pctx *p, const pipeline_def *d, const char *jpath, char **names,
                         size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        char jp[JP_MAX];
        jp_index(jp, sizeof jp, jpath, i);
        sl_code c = need_col(p, d, jp, names[i], extra);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}

static sl_code table_name(pctx *p, const char *jpath, const char *name)
{
    char jp[JP_MAX];
    jp_key(jp, sizeof jp, jpath, "table");
    if (!table_name_ok(name))
        return bad(p, jp,
                   "\"%s\" is not a table name: use letters, digits, '_' and '-' in "
                   "'/'-separated parts, not starting with '_'",
                   name);
    return SL_OK;
}

/* ---- sections ---------------------------------------------------------- */

static const char *const top_keys[] = {
    "name",   "source",  "lake",     "bronze", "silver",   "gold", "expectations",
    "checks", "retries", "optimize", "vacuum", "schedule", NULL};
static const char *const source_keys[] = {
    "url", "layout", "format", "ready_marker", "settle_seconds", "key_from_name", NULL};
static const char *const bronze_keys[] = {"table", "schema", "partition_by",
                                          "on_schema_drift", NULL};
static const char *const silver_keys[] = {"table", "keys", "sequence_by", "delete_when",
                                          NULL};
static const char *const delete_keys[] = {"column", "equals", NULL};
static const char *const gold_keys[] = {"table", "group_by", "day_from", "aggregates",
                                        NULL};
static const char *const expect_keys[] = {"name", "column", "rule", "on_fail", NULL};
static const char *const checks_keys[] = {"max_count_mismatch_pct", NULL};
static const char *const retries_keys[] = {"max_attempts", "backoff_seconds", NULL};
static const char *const optimize_keys[] = {"every_runs", "zorder_by", NULL};
static const char *const vacuum_keys[] = {"retain_hours", "every_runs", NULL};
static const char *const schedule_keys[] = {"every_minutes", NULL};

static const char *const layout_names[] = {"epoch", "files", NULL};
static const char *const format_names[] = {"jsonl", "csv", "parquet", NULL};
static const char *const drift_names[] = {"rescue", "evolve", "fail", NULL};
static const char *const on_fail_names[] = {"drop", "quarantine", "fail", NULL};

typedef struct pargs {
    const char *base_dir;
    const char *default_lake;
} pargs;

/* key_from_name must compile as an extended regex with one capture group:
 * the key. */
static sl_code check_key_regex(pctx *p, const char *re)
{
    regex_t rx;
    int r = regcomp(&rx, re, REG_EXTENDED);
    if (r != 0) {
        char why[256];
        regerror(r, &rx, why, sizeof why);
        return bad(p, "source.key_from_name", "\"%s\" is not a POSIX extended regex: %s",
                   re, why);
    }
    size_t groups = rx.re_nsub;
    regfree(&rx);
    if (groups != 1)
        return bad(p, "source.key_from_name",
                   "\"%s\" has %zu capture groups; it needs exactly one (the key)", re,
                   groups);
    return SL_OK;
}

static sl_code parse_source(pctx *p, json_t *root, const pargs *a, pipeline_def *d)
{
    json_t *src;
    sl_code c = get_obj(p, root, "source", "", 1, &src);
    if (c != SL_OK)
        return c;
    char *url = NULL;
    int layout = PL_LAYOUT_EPOCH, format = PL_FORMAT_JSONL;
    double settle = 0;
    if ((c = check_keys(p, src, "source", source_keys)) ||
        (c = get_str(p, src, "url", "source", 1, &url)) ||
        (c = get_enum(p, src, "layout", "source", layout_names, &layout)) ||
        (c = get_enum(p, src, "format", "source", format_names, &format)) ||
        (c = get_num(p, src, "settle_seconds", "source", 0, 1e9, &settle)) ||
        (c = get_str(p, src, "key_from_name", "source", 0, &d->source.key_from_name)))
        goto out;
    d->source.url = config_resolve_location(a->base_dir, url);
    d->source.layout = (pl_layout)layout;
    d->source.format = (pl_format)format;
    d->source.settle_ms = llround(settle * 1000.0);
    json_t *marker = json_object_get(src, "ready_marker");
    if (marker && layout == PL_LAYOUT_FILES) {
        c = bad(p, "source.ready_marker", "applies to the epoch layout only");
        goto out;
    }
    if (marker && !json_is_null(marker)) {
        if ((c = get_str(p, src, "ready_marker", "source", 0, &d->source.ready_marker)))
            goto out;
        if (strchr(d->source.ready_marker, '/')) {
            c = bad(p, "source.ready_marker", "names a file in the folder (no '/')");
            goto out;
        }
    } else if (!marker && layout == PL_LAYOUT_EPOCH) {
        d->source.ready_marker = sl_strdup("_SUCCESS");
    }
    if (layout == PL_LAYOUT_FILES && !d->source.key_from_name)
        c = bad(
            p, "source.key_from_name",
            "missing (required by the files layout: a regex whose group 1 is the key)");
    else if (layout == PL_LAYOUT_EPOCH && d->source.key_from_name)
        c = bad(p, "source.key_from_name", "applies to the files layout only");
    else if (d->source.key_from_name)
        c = check_key_regex(p, d->source.key_from_name);
out:
    free(url);
    return c;
}

static sl_code parse_schema(pctx *p, json_t *bronze, pipeline_def *d)
{
    json_t *schema;
    sl_code c = get_obj(p, bronze, "schema", "bronze", 1, &schema);
    if (c != SL_OK)
        return c;
    if (json_object_size(schema) == 0)
        return bad(p, "bronze.schema", "must declare at least one column");
    d->bronze.cols = sl_calloc(json_object_size(schema), sizeof *d->bronze.cols);
    const char *key;
    json_t *v;
    json_object_foreach(schema, key, v)
    {
        char jp[JP_MAX];
        jp_key(jp, sizeof jp, "bronze.schema", key);
        if (!*key)
            return bad(p, "bronze.schema", "a column name may not be empty");
        if (in_list(added_columns, key))
            return bad(p, jp, "\"%s\" is a column sluice adds; rename the column", key);
        pq_schema_col *col = &d->bronze.cols[d->bronze.ncols];
        if ((c = parse_type(p, jp, v, &col->type)))
            return c;
        col->name = sl_strdup(key);
        col->nullable = true;
        d->bronze.ncols++;
    }
    return SL_OK;
}

static sl_code parse_bronze(pctx *p, json_t *root, pipeline_def *d)
{
    json_t *b;
    sl_code c = get_obj(p, root, "bronze", "", 1, &b);
    int drift = PL_DRIFT_RESCUE;
    if (c || (c = check_keys(p, b, "bronze", bronze_keys)) ||
        (c = get_str(p, b, "table", "bronze", 1, &d->bronze.table)) ||
        (c = table_name(p, "bronze", d->bronze.table)) || (c = parse_schema(p, b, d)) ||
        (c = get_str_array(p, b, "partition_by", "bronze", 0, &d->bronze.partition_by,
                           &d->bronze.npartition_by)) ||
        (c = get_enum(p, b, "on_schema_drift", "bronze", drift_names, &drift)))
        return c;
    d->bronze.on_schema_drift = (pl_drift)drift;
    return need_cols(p, d, "bronze.partition_by", d->bronze.partition_by,
                     d->bronze.npartition_by, "_ingest_date");
}

/* delete_when.equals is kept as text: a string as it is, an integer in
 * decimal, a boolean as true/false. */
static sl_code parse_delete_when(pctx *p, json_t *silver, pipeline_def *d)
{
    json_t *dw;
    sl_code c = get_obj(p, silver, "delete_when", "silver", 0, &dw);
    if (c || !dw)
        return c;
    if ((c = check_keys(p, dw, "silver.delete_when", delete_keys)) ||
        (c = get_str(p, dw, "column", "silver.delete_when", 1,
                     &d->silver.delete_column)) ||
        (c = need_col(p, d, "silver.delete_when.column", d->silver.delete_column, NULL)))
        return c;
    json_t *eq = json_object_get(dw, "equals");
    if (!eq || json_is_null(eq))
        return bad(p, "silver.delete_when.equals", "missing (required)");
    if (json_is_string(eq))
        d->silver.delete_equals = sl_strdup(json_string_value(eq));
    else if (json_is_integer(eq))
        d->silver.delete_equals = sl_asprintf("%lld", (long long)json_integer_value(eq));
    else if (json_is_boolean(eq))
        d->silver.delete_equals = sl_strdup(json_is_true(eq) ? "true" : "false");
    else
        return bad(p, "silver.delete_when.equals",
                   "must be a string, integer or boolean");
    return SL_OK;
}

static sl_code parse_silver(pctx *p, json_t *root, pipeline_def *d)
{
    json_t *s;
    sl_code c = get_obj(p, root, "silver", "", 0, &s);
    if (c || !s)
        return c;
    if ((c = check_keys(p, s, "silver", silver_keys)) ||
        (c = get_str(p, s, "table", "silver", 1, &d->silver.table)) ||
        (c = table_name(p, "silver", d->silver.table)) ||
        (c = get_str_array(p, s, "keys", "silver", 1, &d->silver.keys,
                           &d->silver.nkeys)) ||
        (c = need_cols(p, d, "silver.keys", d->silver.keys, d->silver.nkeys, NULL)) ||
        (c = get_str(p, s, "sequence_by", "silver", 0, &d->silver.sequence_by)))
        return c;
    if (d->silver.sequence_by &&
        (c = need_col(p, d, "silver.sequence_by", d->silver.sequence_by, NULL)))
        return c;
    return parse_delete_when(p, s, d);
}

/* "count", "sum(col)", "min(col)", "max(col)", "avg(col)". */
static sl_code parse_aggregate(pctx *p, const pipeline_def *d, const char *jp,
                               const char *text, pl_aggregate *out)
{
    static const char *const fns[] = {"count", "sum", "min", "max", "avg", NULL};
    if (strcmp(text, "count") == 0 || strcmp(text, "count(*)") == 0) {
        out->fn = PL_AGG_COUNT;
        return SL_OK;
    }
    const char *open = strchr(text, '(');
    size_t tl = strlen(text);
    int fn = -1;
    for (int i = 1; open && fns[i]; i++)
        if ((size_t)(open - text) == strlen(fns[i]) &&
            strncmp(text, fns[i], strlen(fns[i])) == 0)
            fn = i;
    if (fn < 0 || text[tl - 1] != ')')
        return bad(p, jp,
                   "\"%s\" is not an aggregate (count, sum(col), min(col), max(col), "
                   "avg(col))",
                   text);
    const char *a = open + 1, *b = text + tl - 1;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    out->fn = (pl_agg)fn;
    out->column = sl_strndup(a, (size_t)(b - a));
    int col = pipeline_def_col(d, out->column);
    if (col < 0)
        return bad(p, jp, "\"%s\": no column \"%s\" in bronze.schema", text, out->column);
    pq_type t = d->bronze.cols[col].type;
    if ((out->fn == PL_AGG_SUM || out->fn == PL_AGG_AVG) && !type_is_numeric(t))
        return bad(p, jp, "\"%s\": %s needs a numeric column", text, fns[fn]);
    if (pq_type_base(t) == PQ_TYPE_BOOLEAN)
        return bad(p, jp, "\"%s\": %s of a boolean column is not supported", text,
                   fns[fn]);
    return SL_OK;
}

static sl_code parse_group_by(pctx *p, pipeline_def *d)
{
    int uses_day = 0;
    for (size_t i = 0; i < d->gold.ngroup_by; i++) {
        char jp[JP_MAX];
        jp_index(jp, sizeof jp, "gold.group_by", i);
        const char *g = d->gold.group_by[i];
        if (strcmp(g, "day") == 0 && d->gold.day_from && pipeline_def_col(d, "day") < 0) {
            uses_day = 1;
            continue;
        }
        if (pipeline_def_col(d, g) >= 0)
            continue;
        if (strcmp(g, "day") == 0)
            return bad(p, jp,
                       "\"day\" needs gold.day_from (the timestamp column it "
                       "comes from)");
        return bad(p, jp, "no column \"%s\" in bronze.schema", g);
    }
    if (d->gold.day_from && !uses_day)
        return bad(p, "gold.day_from",
                   pipeline_def_col(d, "day") >= 0
                       ? "a declared column is named \"day\", so gold.group_by's \"day\" "
                         "means that column; rename it to group by the day"
                       : "is set but gold.group_by does not list \"day\"");
    return SL_OK;
}

static sl_code parse_aggregates(pctx *p, json_t *g, pipeline_def *d)
{
    json_t *aggs;
    sl_code c = get_obj(p, g, "aggregates", "gold", 1, &aggs);
    if (c != SL_OK)
        return c;
    if (json_object_size(aggs) == 0)
        return bad(p, "gold.aggregates", "must define at least one aggregate");
    d->gold.aggregates = sl_calloc(json_object_size(aggs), sizeof *d->gold.aggregates);
    const char *key;
    json_t *v;
    json_object_foreach(aggs, key, v)
    {
        char jp[JP_MAX];
        jp_key(jp, sizeof jp, "gold.aggregates", key);
        if (!name_chars_ok(key, strlen(key)))
            return bad(p, jp, "an output column name uses letters, digits, '_' and '-'");
        for (size_t i = 0; i < d->gold.ngroup_by; i++)
            if (strcmp(d->gold.group_by[i], key) == 0)
                return bad(p, jp, "\"%s\" is also a group_by column", key);
        if (!json_is_string(v))
            return bad(p, jp, "must be a string such as \"count\" or \"sum(col)\"");
        pl_aggregate *a = &d->gold.aggregates[d->gold.naggregates++];
        a->name = sl_strdup(key);
        if ((c = parse_aggregate(p, d, jp, json_string_value(v), a)))
            return c;
    }
    return SL_OK;
}

static sl_code parse_gold(pctx *p, json_t *root, pipeline_def *d)
{
    json_t *g;
    sl_code c = get_obj(p, root, "gold", "", 0, &g);
    if (c || !g)
        return c;
    if ((c = check_keys(p, g, "gold", gold_keys)) ||
        (c = get_str(p, g, "table", "gold", 1, &d->gold.table)) ||
        (c = table_name(p, "gold", d->gold.table)))
        return c;
    if (!d->silver.table)
        return bad(p, "gold", "needs a silver section (gold is computed from silver)");
    if ((c = get_str_array(p, g, "group_by", "gold", 1, &d->gold.group_by,
                           &d->gold.ngroup_by)) ||
        (c = get_str(p, g, "day_from", "gold", 0, &d->gold.day_from)))
        return c;
    if (d->gold.day_from) {
        int col = pipeline_def_col(d, d->gold.day_from);
        if (col < 0)
            return bad(p, "gold.day_from", "no column \"%s\" in bronze.schema",
                       d->gold.day_from);
        if (d->bronze.cols[col].type != PQ_TYPE_TIMESTAMP_US)
            return bad(p, "gold.day_from", "\"%s\" is not a timestamp column",
                       d->gold.day_from);
    }
    if ((c = parse_group_by(p, d)))
        return c;
    return parse_aggregates(p, g, d);
}

/* The N of a comparison rule: a finite number, spaces allowed around. */
static int parse_rule_number(const char *s, double *out)
{
    while (*s == ' ')
        s++;
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || errno || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

static sl_code parse_in_values(pctx *p, const char *jp, const char *list,
                               pl_expectation *e)
{
    size_t cap = 1;
    for (const char *s = list; *s; s++)
        cap += *s == ',';
    e->in_values = sl_calloc(cap, sizeof *e->in_values);
    const char *s = list;
    for (;;) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        const char *a = s;
        while (a < end && *a == ' ')
            a++;
        while (end > a && end[-1] == ' ')
            end--;
        if (end == a)
            return bad(p, jp, "\"in:%s\" has an empty value", list);
        e->in_values[e->nin_values++] = sl_strndup(a, (size_t)(end - a));
        if (!comma)
            return SL_OK;
        s = comma + 1;
    }
}

static sl_code parse_rule(pctx *p, const pipeline_def *d, const char *jp,
                          const char *rule, pl_expectation *e)
{
    static const struct {
        const char *op;
        pl_rule rule;
    } ops[] = {{">=", PL_RULE_GE}, {"<=", PL_RULE_LE}, {"==", PL_RULE_EQ},
               {"!=", PL_RULE_NE}, {">", PL_RULE_GT},  {"<", PL_RULE_LT}};
    if (strcmp(rule, "not_null") == 0) {
        e->rule = PL_RULE_NOT_NULL;
        return SL_OK;
    }
    if (strncmp(rule, "in:", 3) == 0) {
        e->rule = PL_RULE_IN;
        return parse_in_values(p, jp, rule + 3, e);
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].op);
        if (strncmp(rule, ops[i].op, n) != 0)
            continue;
        if (parse_rule_number(rule + n, &e->number))
            return bad(p, jp, "\"%s\": %s needs a number after it", rule, ops[i].op);
        e->rule = ops[i].rule;
        int col = pipeline_def_col(d, e->column);
        if (!type_is_numeric(d->bronze.cols[col].type))
            return bad(p, jp, "\"%s\" compares numbers but column \"%s\" is not numeric",
                       rule, e->column);
        return SL_OK;
    }
    return bad(p, jp,
               "\"%s\" is not a rule (not_null, >N, >=N, <N, <=N, ==N, !=N, in:a,b,c)",
               rule);
}

static sl_code parse_expectation(pctx *p, const pipeline_def *d, json_t *v,
                                 const char *jpath, pl_expectation *e)
{
    char jp[JP_MAX];
    if (!json_is_object(v))
        return bad(p, jpath, "must be an object {name, column, rule, on_fail}");
    char *rule = NULL;
    int on_fail = PL_FAIL_QUARANTINE;
    sl_code c;
    if ((c = check_keys(p, v, jpath, expect_keys)) ||
        (c = get_str(p, v, "name", jpath, 1, &e->name)) ||
        (c = get_str(p, v, "column", jpath, 1, &e->column)) ||
        (c = get_str(p, v, "rule", jpath, 1, &rule)) ||
        (c = get_enum(p, v, "on_fail", jpath, on_fail_names, &on_fail)))
        goto out;
    e->on_fail = (pl_on_fail)on_fail;
    jp_key(jp, sizeof jp, jpath, "column");
    if ((c = need_col(p, d, jp, e->column, NULL)))
        goto out;
    jp_key(jp, sizeof jp, jpath, "rule");
    c = parse_rule(p, d, jp, rule, e);
out:
    free(rule);
    return c;
}

static sl_code parse_expectations(pctx *p, json_t *root, pipeline_def *d)
{
    json_t *list = json_object_get(root, "expectations");
    if (!list || json_is_null(list))
        return SL_OK;
    if (!json_is_array(list))
        return bad(p, "expectations", "must be an array of objects");
    d->expectations = sl_calloc(json_array_size(list) + 1, sizeof *d->expectations);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char jp[JP_MAX];
        jp_index(jp, sizeof jp, "expectations", i);
        pl_expectation *e = &d->expectations[d->nexpectations++];
        sl_code c = parse_expectation(p, d, v, jp, e);
        if (c != SL_OK)
            return c;
        for (size_t j = 0; j + 1 < d->nexpectations; j++)
            if (strcmp(d->expectations[j].name, e->name) == 0) {
                char jn[JP_MAX];
                jp_key(jn, sizeof jn, jp, "name");
                return bad(p, jn, "\"%s\" is used by expectations[%zu] too", e->name, j);
            }
    }
    return SL_OK;
}

/* checks, retries, optimize, vacuum: small objects of numbers. */
static sl_code parse_cadence(pctx *p, json_t *root, pipeline_def *d)
{
    json_t *ck, *rt, *op, *vc, *sc;
    double backoff = 5.0, every_minutes = 0;
    sl_code c;
    if ((c = get_obj(p, root, "checks", "", 0, &ck)) ||
        (c = get_obj(p, root, "retries", "", 0, &rt)) ||
        (c = get_obj(p, root, "optimize", "", 0, &op)) ||
        (c = get_obj(p, root, "vacuum", "", 0, &vc)) ||
        (c = get_obj(p, root, "schedule", "", 0, &sc)))
        return c;
    if (sc &&
        ((c = check_keys(p, sc, "schedule", schedule_keys)) ||
         (c = get_num(p, sc, "every_minutes", "schedule", 0, 525600, &every_minutes))))
        return c;
    d->schedule.every_ms = llround(every_minutes * 60000.0);
    if (ck && ((c = check_keys(p, ck, "checks", checks_keys)) ||
               (c = get_num(p, ck, "max_count_mismatch_pct", "checks", 0, 100,
                            &d->checks.max_count_mismatch_pct))))
        return c;
    if (rt && ((c = check_keys(p, rt, "retries", retries_keys)) ||
               (c = get_int(p, rt, "max_attempts", "retries", 1, 100,
                            &d->retries.max_attempts)) ||
               (c = get_num(p, rt, "backoff_seconds", "retries", 0, 86400, &backoff))))
        return c;
    d->retries.backoff_ms = llround(backoff * 1000.0);
    if (op && ((c = check_keys(p, op, "optimize", optimize_keys)) ||
               (c = get_int(p, op, "every_runs", "optimize", 0, 1000000,
                            &d->optimize.every_runs)) ||
               (c = get_str_array(p, op, "zorder_by", "optimize", 0,
                                  &d->optimize.zorder_by, &d->optimize.nzorder_by)) ||
               (c = need_cols(p, d, "optimize.zorder_by", d->optimize.zorder_by,
                              d->optimize.nzorder_by, NULL))))
        return c;
    if (vc &&
        ((c = check_keys(p, vc, "vacuum", vacuum_keys)) ||
         (c = get_num(p, vc, "retain_hours", "vacuum", 0, 1e6,
                      &d->vacuum.retain_hours)) ||
         (c = get_int(p, vc, "every_runs", "vacuum", 0, 1000000, &d->vacuum.every_runs))))
        return c;
    return SL_OK;
}

/* Tables sharing a name would write into one another (the quarantine
 * table's name is derived from bronze's). */
static sl_code check_table_names(pctx *p, const pipeline_def *d)
{
    char *quarantine = sl_asprintf("%s_quarantine", d->bronze.table);
    const char *names[4] = {quarantine, d->bronze.table, d->silver.table, d->gold.table};
    const char *where[4] = {"the quarantine table", "bronze.table", "silver.table",
                            "gold.table"};
    sl_code c = SL_OK;
    for (int i = 0; i < 4 && c == SL_OK; i++)
        for (int j = i + 1; j < 4 && c == SL_OK; j++)
            if (names[i] && names[j] && strcmp(names[i], names[j]) == 0)
                c = bad(p, where[j], "\"%s\" is also %s", names[j], where[i]);
    free(quarantine);
    return c;
}

static sl_code parse_root(pctx *p, json_t *root, const pargs *a, pipeline_def *d)
{
    if (!json_is_object(root))
        return err_set(p->err, SL_PIPELINE_INVALID, "%s: the top level must be an object",
                       p->file);
    sl_code c;
    char *lake = NULL;
    if ((c = check_keys(p, root, "", top_keys)) ||
        (c = get_str(p, root, "name", "", 1, &d->name)))
        return c;
    if (!pipeline_name_ok(d->name))
        return bad(p, "name", "\"%s\": use letters, digits, '_' and '-' (at most 128)",
                   d->name);
    if ((c = parse_source(p, root, a, d)) || (c = get_str(p, root, "lake", "", 0, &lake)))
        return c;
    if (lake)
        d->lake_url = config_resolve_location(a->base_dir, lake);
    else if (a->default_lake)
        d->lake_url = sl_strdup(a->default_lake);
    free(lake);
    if (!d->lake_url)
        return bad(p, "lake", "missing: set it here or as \"lake\" in sluice.json");
    if ((c = parse_bronze(p, root, d)) || (c = parse_silver(p, root, d)) ||
        (c = parse_gold(p, root, d)) || (c = check_table_names(p, d)) ||
        (c = parse_expectations(p, root, d)))
        return c;
    return parse_cadence(p, root, d);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        return sl_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    char cwd[4096];
    return sl_strdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
}

sl_code pipeline_def_parse(const char *text, const char *path, const char *base_dir,
                           const char *default_lake_url, pipeline_def **out, sl_err *err)
{
    *out = NULL;
    if (!path)
        path = "(pipeline)";
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(err, SL_PIPELINE_INVALID, "%s:%d:%d: %s", path, jerr.line,
                       jerr.column, jerr.text);
    pipeline_def *d = sl_calloc(1, sizeof *d);
    d->path = sl_strdup(path);
    d->checks.max_count_mismatch_pct = 1.0;
    d->retries.max_attempts = 3;
    d->vacuum.retain_hours = 168;
    char *own_base = base_dir ? NULL : dir_of(path);
    pctx p = {path, err};
    pargs a = {base_dir ? base_dir : own_base, default_lake_url};
    sl_code c = parse_root(&p, root, &a, d);
    free(own_base);
    json_decref(root);
    if (c != SL_OK) {
        pipeline_def_free(d);
        return c;
    }
    *out = d;
    return SL_OK;
}

sl_code pipeline_def_load(const char *path, const char *base_dir,
                          const char *default_lake_url, pipeline_def **out, sl_err *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, SL_PIPELINE_INVALID, "cannot read pipeline file %s: %s", path,
                       strerror(errno));
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    int failed = ferror(fp);
    fclose(fp);
    sl_code c =
        failed ? err_set(err, SL_PIPELINE_INVALID, "cannot read pipeline file %s", path)
               : pipeline_def_parse(b.data ? b.data : "", path, base_dir,
                                    default_lake_url, out, err);
    buf_free(&b);
    return c;
}

void pipeline_def_free(pipeline_def *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->path);
    free(d->source.url);
    free(d->source.ready_marker);
    free(d->source.key_from_name);
    free(d->lake_url);
    free(d->bronze.table);
    for (size_t i = 0; i < d->bronze.ncols; i++)
        free((char *)d->bronze.cols[i].name);
    free(d->bronze.cols);
    free_strv(d->bronze.partition_by, d->bronze.npartition_by);
    free(d->silver.table);
    free_strv(d->silver.keys, d->silver.nkeys);
    free(d->silver.sequence_by);
    free(d->silver.delete_column);
    free(d->silver.delete_equals);
    free(d->gold.table);
    free_strv(d->gold.group_by, d->gold.ngroup_by);
    free(d->gold.day_from);
    for (size_t i = 0; i < d->gold.naggregates; i++) {
        free(d->gold.aggregates[i].name);
        free(d->gold.aggregates[i].column);
    }
    free(d->gold.aggregates);
    for (size_t i = 0; i < d->nexpectations; i++) {
        pl_expectation *e = &d->expectations[i];
        free(e->name);
        free(e->column);
        free_strv(e->in_values, e->nin_values);
    }
    free(d->expectations);
    free_strv(d->optimize.zorder_by, d->optimize.nzorder_by);
    free(d);
}

char *pipeline_table_url(const pipeline_def *d, const char *name)
{
    return paths_join(d->lake_url, name);
}

char *pipeline_app_id(const pipeline_def *d, const char *step)
{
    return sl_asprintf("sluice:%s:%s", d->name, step);
}
