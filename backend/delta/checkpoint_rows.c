/* The general checkpoint reader: rows as JSON from the Parquet reader with a
 * projection, each non-null action normalised to the JSON-commit form (MAP
 * columns as objects, null members left out) and serialised. Slower than the
 * columnar reader, but it handles every shape the Parquet reader does. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"

static const pq_node *child_named(const pq_node *g, const char *name)
{
    for (size_t i = 0; i < g->num_children; i++)
        if (strcmp(g->children[i]->name, name) == 0)
            return g->children[i];
    return NULL;
}

/* [{"key":k,"value":v}, ...] -> {k: v, ...}; NULL when a key is not a string. */
static json_t *map_to_object(const json_t *arr)
{
    json_t *o = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *k = json_string_value(json_object_get(e, "key"));
        if (!k) {
            json_decref(o);
            return NULL;
        }
        json_t *v = json_object_get(e, "value");
        json_object_set(o, k, v ? v : json_null());
    }
    return o;
}

/* In place: drops null members, turns maps into objects, recurses into
 * structs. -1 on a map with a non-string key. */
static int normalise(json_t *obj, const pq_node *g)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        const pq_node *c = child_named(g, k);
        if (json_is_null(v)) {
            json_object_del(obj, k);
        } else if (c && !c->is_leaf && delta_cp_node_is_map(c) && json_is_array(v)) {
            json_t *m = map_to_object(v);
            if (!m)
                return -1;
            json_object_set_new(obj, k, m);
        } else if (c && !c->is_leaf && !delta_cp_node_is_list(c) && json_is_object(v)) {
            if (normalise(v, c) != 0)
                return -1;
        }
    }
    return 0;
}

/* add.stats_parsed.numRecords as a number, -1 when absent. */
static int64_t parsed_num_records(const json_t *add)
{
    const json_t *n = json_object_get(json_object_get(add, "stats_parsed"), "numRecords");
    if (json_is_integer(n))
        return json_integer_value(n);
    const char *s = json_string_value(n); /* UINT_64-style text */
    if (s) {
        char *end;
        long long x = strtoll(s, &end, 10);
        if (end != s && !*end && x >= 0)
            return x;
    }
    return -1;
}

static void projection_add(const char ***cols, size_t *n, size_t *cap, char *path)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *cols = sl_realloc(*cols, *cap * sizeof **cols);
    }
    (*cols)[(*n)++] = path;
}

static void projection_build(const pq_node *root, const char ***cols, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < root->num_children; i++) {
        const pq_node *a = root->children[i];
        if (!delta_cp_action_wanted(a->name) || a->is_leaf)
            continue;
        for (size_t j = 0; j < a->num_children; j++) {
            const pq_node *f = a->children[j];
            if (delta_cp_field_wanted(a->name, f->name))
                projection_add(cols, n, &cap, sl_asprintf("%s.%s", a->name, f->name));
            else if (strcmp(a->name, "add") == 0 &&
                     strcmp(f->name, "stats_parsed") == 0 && !f->is_leaf &&
                     child_named(f, "numRecords"))
                projection_add(cols, n, &cap, sl_strdup("add.stats_parsed.numRecords"));
        }
    }
}

static sl_code row_apply(const pq_node *root, json_t *row, const char *key, size_t rowno,
                         delta_cp_action_fn fn, void *ctx, sl_err *err)
{
    sl_code c = SL_OK;
    for (size_t i = 0; i < root->num_children && c == SL_OK; i++) {
        const pq_node *a = root->children[i];
        if (!delta_cp_action_wanted(a->name) || a->is_leaf)
            continue;
        json_t *v = json_object_get(row, a->name);
        if (!json_is_object(v))
            continue;
        int is_add = strcmp(a->name, "add") == 0;
        int64_t parsed = is_add ? parsed_num_records(v) : -1;
        if (normalise(v, a) != 0) {
            c = err_set(err, SL_DELTA_CORRUPT_LOG,
                        "checkpoint %s row %zu: %s holds a map whose key is not a string",
                        key, rowno, a->name);
            break;
        }
        if (is_add) {
            json_object_del(v, "stats_parsed");
            if (parsed >= 0 && !json_object_get(v, "stats")) {
                char *st = sl_asprintf("{\"numRecords\":%lld}", (long long)parsed);
                json_object_set_new(v, "stats", json_string(st));
                free(st);
            }
        }
        char *text = json_dumps(v, JSON_COMPACT);
        if (!text) {
            c = err_set(err, SL_DELTA_CORRUPT_LOG,
                        "checkpoint %s row %zu: %s cannot be written as JSON", key, rowno,
                        a->name);
            break;
        }
        c = fn(ctx, a->name, text, strlen(text), NULL, rowno, err);
        free(text);
    }
    return c;
}

sl_code delta_checkpoint_rows_read(pq_reader *pr, const char *key, delta_cp_action_fn fn,
                                   void *ctx, sl_err *err)
{
    const pq_node *root = pq_reader_info(pr)->root;
    const char **cols = NULL;
    size_t ncols = 0;
    projection_build(root, &cols, &ncols);
    sl_code c = SL_OK;
    if (ncols > 0) {
        pq_rows *rows = NULL;
        c = pq_rows_open(pr, cols, ncols, &rows, err);
        size_t rowno = 0;
        while (c == SL_OK) {
            json_t *row = NULL;
            c = pq_rows_next(rows, &row, err);
            if (c != SL_OK || !row)
                break;
            c = row_apply(root, row, key, ++rowno, fn, ctx, err);
            json_decref(row);
        }
        if (rows)
            pq_rows_free(rows);
    }
    for (size_t i = 0; i < ncols; i++)
        free((char *)cols[i]);
    free(cols);
    return c;
}
