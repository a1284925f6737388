/* The schema tree: built from the footer's depth-first element list, with
 * the maximum definition and repetition level of every node, leaf indices
 * and dotted paths; and its JSON form for `sluice parquet schema`. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_read_int.h"
#include "backend/util/buf.h"

typedef struct builder {
    pq_selem *elems;
    size_t n, next;
    pq_node **leaves;
    size_t nleaves, leaves_cap;
} builder;

void pq_schema_free(pq_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->num_children; i++)
        pq_schema_free(n->children[i]);
    free(n->children);
    free(n->name);
    free(n->path);
    free(n);
}

static void node_fill(pq_node *node, pq_selem *e)
{
    node->name = e->name;
    e->name = NULL;
    node->type = (pq_physical)e->type;
    node->type_length = e->type_length;
    node->converted = (pq_converted)e->converted;
    node->logical = e->logical;
    node->field_id = e->field_id;
    if (e->logical.kind == PQ_LOGICAL_DECIMAL) {
        node->scale = e->logical.dec_scale;
        node->precision = e->logical.dec_precision;
    } else {
        node->scale = e->scale;
        node->precision = e->precision;
    }
    node->leaf_index = -1;
}

static sl_code build_node(builder *b, pq_node *parent, int depth, pq_node **out, sl_err *err)
{
    if (depth > PQ_SCHEMA_MAX_DEPTH)
        return err_set(err, SL_PARQUET_TOO_DEEP, "the schema nests deeper than %d levels",
                       PQ_SCHEMA_MAX_DEPTH);
    if (b->next >= b->n)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "schema element %zu is missing: a num_children points past the list of %zu",
                       b->next, b->n);
    size_t idx = b->next++;
    pq_selem *e = &b->elems[idx];
    pq_node *node = sl_calloc(1, sizeof *node);
    *out = node;
    node_fill(node, e);
    node->parent = parent;
    if (parent) {
        if (e->has_repetition && (e->repetition < 0 || e->repetition > 2))
            return err_set(err, SL_PARQUET_CORRUPT, "schema element \"%s\" has repetition %d",
                           node->name, e->repetition);
        node->repetition = e->has_repetition ? (pq_repetition)e->repetition : PQ_REP_REQUIRED;
        node->max_def = (int16_t)(parent->max_def + (node->repetition != PQ_REP_REQUIRED));
        node->max_rep = (int16_t)(parent->max_rep + (node->repetition == PQ_REP_REPEATED));
        node->path = parent->parent ? sl_asprintf("%s.%s", parent->path, node->name)
                                    : sl_strdup(node->name);
    } else {
        node->repetition = PQ_REP_REQUIRED;
        node->path = sl_strdup("");
    }
    if (e->num_children < 0)
        return err_set(err, SL_PARQUET_CORRUPT, "schema element \"%s\" has %d children",
                       node->name, e->num_children);
    bool group = e->num_children > 0 || !parent || !e->has_type;
    if (!group) {
        node->is_leaf = true;
        if (e->type < PQ_PHYS_BOOLEAN || e->type > PQ_PHYS_FIXED_LEN_BYTE_ARRAY)
            return err_set(err, SL_PARQUET_UNSUPPORTED, "column \"%s\" has physical type %d",
                           node->path, e->type);
        if (e->type == PQ_PHYS_FIXED_LEN_BYTE_ARRAY &&
            (e->type_length <= 0 || e->type_length > (1 << 24)))
            return err_set(err, SL_PARQUET_CORRUPT,
                           "FIXED_LEN_BYTE_ARRAY column \"%s\" has length %d", node->path,
                           e->type_length);
        if (b->nleaves == b->leaves_cap) {
            b->leaves_cap = b->leaves_cap ? 2 * b->leaves_cap : 16;
            b->leaves = sl_realloc(b->leaves, b->leaves_cap * sizeof *b->leaves);
        }
        node->leaf_index = (int)b->nleaves;
        b->leaves[b->nleaves++] = node;
        return SL_OK;
    }
    if ((size_t)e->num_children > b->n - b->next)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "schema element \"%s\" claims %d children but only %zu elements follow",
                       node->name, e->num_children, b->n - b->next);
    if (e->num_children == 0)
        return err_set(err, SL_PARQUET_CORRUPT, "group \"%s\" has no children", node->name);
    node->children = sl_calloc((size_t)e->num_children, sizeof *node->children);
    for (int32_t i = 0; i < e->num_children; i++) {
        node->num_children = (size_t)i + 1;
        sl_code c = build_node(b, node, depth + 1, &node->children[i], err);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}

sl_code pq_schema_build(pq_selem *elems, size_t n, pq_file_info *info, sl_err *err)
{
    if (n == 0)
        return err_set(err, SL_PARQUET_CORRUPT, "the schema is empty");
    builder b = {.elems = elems, .n = n};
    pq_node *root = NULL;
    sl_code c = build_node(&b, NULL, 0, &root, err);
    if (c == SL_OK && b.next != n)
        c = err_set(err, SL_PARQUET_CORRUPT,
                    "the schema lists %zu elements but its tree holds %zu", n, b.next);
    if (c != SL_OK) {
        pq_schema_free(root);
        free(b.leaves);
        return c;
    }
    info->root = root;
    info->leaves = b.leaves;
    info->num_leaves = b.nleaves;
    return SL_OK;
}

/* ---- names and JSON ---------------------------------------------------- */

const char *pq_physical_name(int32_t t)
{
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : "UNKNOWN";
}

const char *pq_repetition_name(int32_t r)
{
    static const char *const names[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
    return r >= 0 && r < 3 ? names[r] : "UNKNOWN";
}

const char *pq_converted_name(int32_t c)
{
    static const char *const names[] = {
        "UTF8",         "MAP",        "MAP_KEY_VALUE", "LIST",      "ENUM",       "DECIMAL",
        "DATE",         "TIME_MILLIS", "TIME_MICROS",  "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
        "UINT_8",       "UINT_16",    "UINT_32",       "UINT_64",   "INT_8",      "INT_16",
        "INT_32",       "INT_64",     "JSON",          "BSON",      "INTERVAL"};
    return c >= 0 && c < (int32_t)(sizeof names / sizeof names[0]) ? names[c] : "UNKNOWN";
}

const char *pq_encoding_name(int32_t e)
{
    switch (e) {
    case PQ_ENC_PLAIN: return "PLAIN";
    case PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case PQ_ENC_RLE: return "RLE";
    case PQ_ENC_BIT_PACKED: return "BIT_PACKED";
    case PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case PQ_ENC_DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
    case PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
    default: return "UNKNOWN";
    }
}

const char *pq_page_type_name(int32_t t)
{
    switch (t) {
    case PQ_PAGE_DATA: return "DATA_PAGE";
    case PQ_PAGE_INDEX: return "INDEX_PAGE";
    case PQ_PAGE_DICTIONARY: return "DICTIONARY_PAGE";
    case PQ_PAGE_DATA_V2: return "DATA_PAGE_V2";
    default: return "UNKNOWN";
    }
}

static const char *unit_name(pq_time_unit u)
{
    return u == PQ_UNIT_NANOS ? "NANOS" : u == PQ_UNIT_MICROS ? "MICROS" : "MILLIS";
}

static char *logical_text(const pq_logical *l)
{
    switch (l->kind) {
    case PQ_LOGICAL_NONE: return NULL;
    case PQ_LOGICAL_STRING: return sl_strdup("STRING");
    case PQ_LOGICAL_MAP: return sl_strdup("MAP");
    case PQ_LOGICAL_LIST: return sl_strdup("LIST");
    case PQ_LOGICAL_ENUM: return sl_strdup("ENUM");
    case PQ_LOGICAL_DECIMAL:
        return sl_asprintf("DECIMAL(%d,%d)", l->dec_precision, l->dec_scale);
    case PQ_LOGICAL_DATE: return sl_strdup("DATE");
    case PQ_LOGICAL_TIME:
    case PQ_LOGICAL_TIMESTAMP:
        return sl_asprintf("%s(%s,%s)", l->kind == PQ_LOGICAL_TIME ? "TIME" : "TIMESTAMP",
                           unit_name(l->ts_unit), l->ts_adjusted_to_utc ? "UTC" : "local");
    case PQ_LOGICAL_INTEGER:
        return sl_asprintf("INTEGER(%d,%s)", l->int_bits, l->int_signed ? "signed" : "unsigned");
    case PQ_LOGICAL_UNKNOWN: return sl_strdup("UNKNOWN");
    case PQ_LOGICAL_JSON: return sl_strdup("JSON");
    case PQ_LOGICAL_BSON: return sl_strdup("BSON");
    case PQ_LOGICAL_UUID: return sl_strdup("UUID");
    case PQ_LOGICAL_FLOAT16: return sl_strdup("FLOAT16");
    default: return sl_strdup("OTHER");
    }
}

json_t *pq_schema_node_json(const pq_node *n)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", pq_json_bytes((const uint8_t *)n->name, strlen(n->name)));
    json_object_set_new(j, "type", json_string(n->is_leaf ? pq_physical_name(n->type) : "group"));
    if (n->is_leaf && n->type == PQ_PHYS_FIXED_LEN_BYTE_ARRAY)
        json_object_set_new(j, "type_length", json_integer(n->type_length));
    json_object_set_new(j, "repetition", json_string(pq_repetition_name(n->repetition)));
    char *lt = logical_text(&n->logical);
    if (lt)
        json_object_set_new(j, "logical", json_string(lt));
    free(lt);
    if (n->converted != PQ_CONV_NONE)
        json_object_set_new(j, "converted", json_string(pq_converted_name(n->converted)));
    if (n->converted == PQ_CONV_DECIMAL || n->logical.kind == PQ_LOGICAL_DECIMAL) {
        json_object_set_new(j, "precision", json_integer(n->precision));
        json_object_set_new(j, "scale", json_integer(n->scale));
    }
    if (n->field_id >= 0)
        json_object_set_new(j, "field_id", json_integer(n->field_id));
    if (n->parent)
        json_object_set_new(j, "path", pq_json_bytes((const uint8_t *)n->path, strlen(n->path)));
    json_object_set_new(j, "max_def", json_integer(n->max_def));
    json_object_set_new(j, "max_rep", json_integer(n->max_rep));
    if (n->is_leaf) {
        json_object_set_new(j, "column", json_integer(n->leaf_index));
    } else {
        json_t *kids = json_array();
        for (size_t i = 0; i < n->num_children; i++)
            json_array_append_new(kids, pq_schema_node_json(n->children[i]));
        json_object_set_new(j, "children", kids);
    }
    return j;
}
