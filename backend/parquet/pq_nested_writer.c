/* The nested writer: a schema tree of pq_wnode, one pq_column per leaf fed
 * with level entries, row groups closed between rows, the schema tree and
 * the chunks' metadata in the footer. */
#include "backend/parquet/pq_nested_writer.h"

#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_codec.h"
#include "backend/parquet/pq_column.h"
#include "backend/util/text.h"
#include "version.h"

#define PQ_MAGIC "PAR1"
#define PQ_VALUE_MAX ((size_t)1 << 30)
#define PQ_RG_DEFAULT_ROWS ((int64_t)1 << 20)
#define PQ_RG_DEFAULT_BYTES ((size_t)128 << 20)
#define PQ_MAX_LEVEL 255

/* ---- schema nodes ---- */

static pq_wnode *node_new(const char *name, pq_wnode_kind kind, pq_repetition rep)
{
    pq_wnode *n = sl_calloc(1, sizeof *n);
    n->name = sl_strdup(name ? name : "");
    n->kind = kind;
    n->repetition = rep;
    return n;
}

pq_wnode *pq_wnode_leaf(const char *name, pq_type type, pq_repetition rep)
{
    pq_wnode *n = node_new(name, PQ_WNODE_LEAF, rep);
    n->type = type;
    return n;
}

pq_wnode *pq_wnode_group(const char *name, pq_repetition rep)
{
    return node_new(name, PQ_WNODE_GROUP, rep);
}

pq_wnode *pq_wnode_add(pq_wnode *group, pq_wnode *child)
{
    group->children =
        sl_realloc(group->children, (group->num_children + 1) * sizeof *group->children);
    group->children[group->num_children++] = child;
    return child;
}

static void node_rename(pq_wnode *n, const char *name)
{
    free(n->name);
    n->name = sl_strdup(name);
}

pq_wnode *pq_wnode_list(const char *name, pq_repetition rep, pq_wnode *element)
{
    pq_wnode *n = node_new(name, PQ_WNODE_LIST, rep);
    pq_wnode *list = pq_wnode_add(n, pq_wnode_group("list", PQ_REP_REPEATED));
    node_rename(element, "element");
    pq_wnode_add(list, element);
    return n;
}

pq_wnode *pq_wnode_map(const char *name, pq_repetition rep, pq_type key_type,
                       pq_wnode *value)
{
    pq_wnode *n = node_new(name, PQ_WNODE_MAP, rep);
    pq_wnode *kv = pq_wnode_add(n, pq_wnode_group("key_value", PQ_REP_REPEATED));
    pq_wnode_add(kv, pq_wnode_leaf("key", key_type, PQ_REP_REQUIRED));
    node_rename(value, "value");
    pq_wnode_add(kv, value);
    return n;
}

void pq_wnode_free(pq_wnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->num_children; i++)
        pq_wnode_free(n->children[i]);
    free(n->children);
    free(n->name);
    free(n);
}

/* ---- the writer ---- */

typedef struct nleaf {
    pq_nleaf_info info;
    int64_t rows; /* rows this leaf has an entry in (the open one included) */
    /* Null runs (pq_nwriter_put_nulls) are counted here and given to the
     * column later, all at once: a checkpoint's add rows leave ~40 leaves
     * null, and a count beats a column entry each. pending: (def 0, rep 0)
     * entries not yet in the column; defer_left: how many more the open
     * page takes without closing (0: look again). */
    uint32_t pending, defer_left;
    const char **path; /* path_in_schema */
    size_t path_len;
    pq_column col;
} nleaf;

struct pq_nwriter {
    pq_wnode *root;
    nleaf *leaves;
    size_t nleaves, cap_leaves;
    size_t num_nodes; /* schema elements, the root included */
    int64_t rg_max_rows;
    size_t rg_max_bytes;
    pq_page_scratch scratch;
    sl_buf file;
    int64_t num_rows;
    int64_t rg_rows;
    pq_rg_record *rgs;
    size_t nrgs, cap_rgs;
    bool finished, failed;
};

/* Walks the tree: checks it, numbers the leaves and their levels. */
static sl_code collect(pq_nwriter *w, pq_wnode *n, const char **stack, size_t depth,
                       int def, int rep, const pq_writer_opts *opts, pq_codec codec,
                       sl_err *err)
{
    w->num_nodes++;
    if (depth > 0) {
        if (n->repetition != PQ_REP_REQUIRED)
            def++;
        if (n->repetition == PQ_REP_REPEATED)
            rep++;
    }
    if (def > PQ_MAX_LEVEL || rep > PQ_MAX_LEVEL || depth >= 256)
        return err_set(err, SL_PARQUET_SCHEMA,
                       "parquet writer: schema node '%s' is nested too deeply", n->name);
    if (depth > 0)
        stack[depth - 1] = n->name;
    if (n->kind == PQ_WNODE_LEAF) {
        if (n->num_children)
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: leaf '%s' has children", n->name);
        pq_type base = pq_type_base(n->type);
        int32_t p = pq_type_precision(n->type), sc = pq_type_scale(n->type);
        if (!pq_col_type_get(base) || (int)n->type >> 24 ||
            (base != PQ_TYPE_DECIMAL && (p || sc)) ||
            (base == PQ_TYPE_DECIMAL &&
             (p < 1 || p > PQ_DECIMAL_MAX_PRECISION || sc > p)))
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: leaf '%s' has unknown type %d", n->name,
                           (int)n->type);
        if (depth == 0)
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: the schema root must be a group");
        if (w->nleaves == w->cap_leaves) {
            w->cap_leaves = w->cap_leaves ? w->cap_leaves * 2 : 16;
            w->leaves = sl_realloc(w->leaves, w->cap_leaves * sizeof *w->leaves);
        }
        nleaf *l = &w->leaves[w->nleaves];
        memset(l, 0, sizeof *l);
        l->path_len = depth;
        l->path = sl_calloc(depth, sizeof *l->path);
        sl_buf dotted = {0};
        for (size_t i = 0; i < depth; i++) {
            l->path[i] = stack[i];
            if (i)
                buf_append_char(&dotted, '.');
            buf_append(&dotted, stack[i], strlen(stack[i]));
        }
        l->info.node = n;
        l->info.path = dotted.data;
        l->info.max_def = def;
        l->info.max_rep = rep;
        w->nleaves++;
        pq_schema_col sc_col = {dotted.data, n->type, def > 0};
        pq_column_init(&l->col, &sc_col, opts, codec, &w->scratch);
        pq_column_set_levels(&l->col, def, rep);
        return SL_OK;
    }
    if (n->num_children == 0)
        return err_set(err, SL_PARQUET_SCHEMA, "parquet writer: group '%s' has no fields",
                       n->name);
    if (n->kind == PQ_WNODE_LIST || n->kind == PQ_WNODE_MAP) {
        const pq_wnode *g = n->children[0];
        size_t want = n->kind == PQ_WNODE_LIST ? 1 : 2;
        if (n->num_children != 1 || g->kind != PQ_WNODE_GROUP ||
            g->repetition != PQ_REP_REPEATED || g->num_children != want ||
            (n->kind == PQ_WNODE_MAP && (g->children[0]->kind != PQ_WNODE_LEAF ||
                                         g->children[0]->repetition != PQ_REP_REQUIRED)))
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: %s '%s' needs one repeated group with %s",
                           n->kind == PQ_WNODE_LIST ? "list" : "map", n->name,
                           n->kind == PQ_WNODE_LIST ? "one element"
                                                    : "a required key and a value");
    }
    for (size_t i = 0; i < n->num_children; i++) {
        pq_wnode *c = n->children[i];
        if (!c->name || !*c->name)
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: a field of '%s' has no name", n->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->name, n->children[j]->name) == 0)
                return err_set(err, SL_PARQUET_SCHEMA,
                               "parquet writer: field '%s' appears twice in '%s'",
                               c->name, n->name);
        bool in_container = n->kind == PQ_WNODE_LIST || n->kind == PQ_WNODE_MAP;
        if (c->repetition == PQ_REP_REPEATED && !in_container)
            return err_set(err, SL_PARQUET_SCHEMA,
                           "parquet writer: '%s' is repeated outside a list or map "
                           "(use pq_wnode_list)",
                           c->name);
        sl_code rc = collect(w, c, stack, depth + 1, def, rep, opts, codec, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

pq_nwriter *pq_nwriter_new(pq_wnode *root, const pq_writer_opts *opts, sl_err *err)
{
    if (!root) {
        err_set(err, SL_PARQUET_SCHEMA, "parquet writer: no schema given");
        return NULL;
    }
    pq_codec codec;
    pq_compression comp = opts ? opts->compression : PQ_COMPRESSION_DEFAULT;
    if (!pq_compression_codec(comp, &codec)) {
        pq_wnode_free(root);
        err_set(err, SL_PARQUET_UNSUPPORTED, "parquet writer: unknown compression %d",
                (int)comp);
        return NULL;
    }
    if (!pq_codec_supported(codec)) {
        pq_wnode_free(root);
        err_set(err, SL_PARQUET_UNSUPPORTED,
                "parquet writer: compression %s is not built into this sluice",
                pq_codec_name(codec));
        return NULL;
    }
    pq_nwriter *w = sl_calloc(1, sizeof *w);
    w->root = root;
    w->rg_max_rows =
        opts && opts->row_group_rows > 0 ? opts->row_group_rows : PQ_RG_DEFAULT_ROWS;
    w->rg_max_bytes =
        opts && opts->row_group_bytes ? opts->row_group_bytes : PQ_RG_DEFAULT_BYTES;
    const char *stack[256];
    sl_code rc = root->kind == PQ_WNODE_GROUP
                     ? collect(w, root, stack, 0, 0, 0, opts, codec, err)
                     : err_set(err, SL_PARQUET_SCHEMA,
                               "parquet writer: the schema root must be a plain group");
    if (rc == SL_OK && w->nleaves == 0)
        rc = err_set(err, SL_PARQUET_SCHEMA, "parquet writer: the schema has no columns");
    if (rc != SL_OK) {
        pq_nwriter_free(w);
        return NULL;
    }
    buf_append(&w->file, PQ_MAGIC, 4);
    return w;
}

const pq_wnode *pq_nwriter_root(const pq_nwriter *w)
{
    return w->root;
}

size_t pq_nwriter_num_leaves(const pq_nwriter *w)
{
    return w->nleaves;
}

const pq_nleaf_info *pq_nwriter_leaf(const pq_nwriter *w, size_t leaf)
{
    return leaf < w->nleaves ? &w->leaves[leaf].info : NULL;
}

int pq_nwriter_leaf_index(const pq_nwriter *w, const char *path)
{
    for (size_t i = 0; i < w->nleaves; i++)
        if (strcmp(w->leaves[i].info.path, path) == 0)
            return (int)i;
    return -1;
}

int64_t pq_nwriter_num_rows(const pq_nwriter *w)
{
    return w->num_rows;
}

sl_code pq_nwriter_check(const pq_nwriter *w, size_t leaf, int def, int rep,
                         const pq_value *v, sl_err *err)
{
    if (leaf >= w->nleaves)
        return err_set(err, SL_PARQUET_VALUE, "parquet writer: no leaf column %zu", leaf);
    const nleaf *l = &w->leaves[leaf];
    const pq_column *c = &l->col;
    long long row = (long long)w->num_rows + 1;
    if (def < 0 || def > l->info.max_def || rep < 0 || rep > l->info.max_rep)
        return err_set(err, SL_PARQUET_VALUE,
                       "parquet writer: row %lld: column '%s': levels def %d rep %d out "
                       "of range (max %d, %d)",
                       row, l->info.path, def, rep, l->info.max_def, l->info.max_rep);
    bool want_value = def == l->info.max_def;
    if (want_value != (v != NULL && !v->is_null))
        return err_set(err, SL_PARQUET_VALUE,
                       "parquet writer: row %lld: column '%s': %s at def %d", row,
                       l->info.path,
                       want_value ? "a null in a required place" : "a value", def);
    if (!want_value)
        return SL_OK;
    if (c->kind == PQ_KIND_BYTES) {
        if (v->str.len > PQ_VALUE_MAX)
            return err_set(err, SL_PARQUET_VALUE,
                           "parquet writer: row %lld: column '%s' value of %zu bytes is "
                           "over the 1 GiB limit",
                           row, l->info.path, v->str.len);
        if (!v->str.ptr && v->str.len)
            return err_set(
                err, SL_PARQUET_VALUE,
                "parquet writer: row %lld: column '%s' has a NULL string pointer", row,
                l->info.path);
        if (c->t->type == PQ_TYPE_STRING &&
            !text_utf8_valid((const uint8_t *)v->str.ptr, v->str.len))
            return err_set(err, SL_PARQUET_VALUE,
                           "parquet writer: row %lld: column '%s' is not valid UTF-8",
                           row, l->info.path);
    } else if (c->is_decimal && !pq_int128_fits_precision(v->dec, c->precision)) {
        char text[48];
        pq_decimal_format(v->dec, c->scale, text, sizeof text);
        return err_set(err, SL_PARQUET_VALUE,
                       "parquet writer: row %lld: column '%s': %s does not fit "
                       "decimal(%d,%d)",
                       row, l->info.path, text, (int)c->precision, (int)c->scale);
    }
    return SL_OK;
}

static sl_code failed(sl_err *err)
{
    return err_set(err, SL_INTERNAL, "parquet writer: the writer failed earlier");
}

/* A null entry (def below the maximum) that starts a record, as
 * pq_column_add_leveled would append it, when the open page has room and
 * is not waiting to close: the levels and the null count. Most entries of
 * a checkpoint row are those (the actions it does not hold), so they skip
 * the general path. Returns false when the general path must take it. */
static inline bool null_fast(pq_column *c, int def)
{
    /* every field read before the byte stores, which may alias them */
    int64_t r = c->page_rows;
    bool nested = c->max_rep > 0;
    uint8_t *levels = c->levels, *reps = c->reps;
    if ((nested && c->page_full) || r >= (int64_t)c->page_cap ||
        r + 1 >= PQ_PAGE_MAX_ROWS)
        return false;
    c->page_rows = r + 1;
    levels[r] = (uint8_t)def;
    if (nested)
        reps[r] = 0;
    c->chunk_rows++;
    c->chunk_stats.null_count++;
    return true;
}

/* How many (def 0, rep 0) nulls the open page takes as null_fast would
 * append them: none while it waits to close, else up to its capacity and
 * the row bound. */
static uint32_t defer_room(const pq_column *c)
{
    if (c->max_rep > 0 && c->page_full)
        return 0;
    int64_t cap = (int64_t)c->page_cap - c->page_rows;
    int64_t lim = PQ_PAGE_MAX_ROWS - 1 - c->page_rows;
    int64_t k = cap < lim ? cap : lim;
    return k > 0 ? (uint32_t)(k < UINT32_MAX ? k : UINT32_MAX) : 0;
}

/* The counted nulls into the column: what null_fast would have done for
 * each (defer_room guaranteed the room). */
static void materialize(nleaf *l)
{
    l->defer_left = 0;
    if (!l->pending)
        return;
    pq_column *c = &l->col;
    memset(c->levels + c->page_rows, 0, l->pending);
    if (c->max_rep > 0)
        memset(c->reps + c->page_rows, 0, l->pending);
    c->page_rows += l->pending;
    c->chunk_rows += l->pending;
    c->chunk_stats.null_count += l->pending;
    l->pending = 0;
}

/* fast: nulls that start a record may take null_fast (pq_nwriter_leaf_put
 * keeps the general path: tests compare the two). */
static sl_code put_entry(pq_nwriter *w, nleaf *l, int def, int rep, const pq_value *v,
                         bool fast, sl_err *err)
{
    materialize(l);
    bool started = l->rows > w->num_rows;
    if (started != (rep > 0))
        return err_set(err, SL_PARQUET_VALUE, "parquet writer: row %lld: column '%s': %s",
                       (long long)w->num_rows + 1, l->info.path,
                       started ? "a second entry with rep 0 in one row"
                               : "the row's first entry needs rep 0");
    if (fast && rep == 0 && def < l->info.max_def && null_fast(&l->col, def)) {
        l->rows++;
        return SL_OK;
    }
    sl_code rc = pq_column_add_leveled(&l->col, def, rep, v, err);
    if (rc != SL_OK) {
        w->failed = true;
        return rc;
    }
    if (!started)
        l->rows++;
    return SL_OK;
}

sl_code pq_nwriter_leaf_put_checked(pq_nwriter *w, size_t leaf, int def, int rep,
                                    const pq_value *v, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: leaf_put after finish");
    if (w->failed)
        return failed(err);
    if (leaf >= w->nleaves)
        return err_set(err, SL_PARQUET_VALUE, "parquet writer: no leaf column %zu", leaf);
    return put_entry(w, &w->leaves[leaf], def, rep, v, true, err);
}

sl_code pq_nwriter_put_nulls(pq_nwriter *w, size_t first, size_t n, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: leaf_put after finish");
    if (w->failed)
        return failed(err);
    if (first > w->nleaves || n > w->nleaves - first)
        return err_set(err, SL_PARQUET_VALUE, "parquet writer: no leaf column %zu",
                       first + n - 1);
    for (size_t i = first; i < first + n; i++) {
        nleaf *l = &w->leaves[i];
        if (l->info.max_def == 0)
            return pq_nwriter_check(w, i, 0, 0, NULL, err);
    }
    for (size_t i = first; i < first + n; i++) {
        nleaf *l = &w->leaves[i];
        if (l->rows > w->num_rows)
            return put_entry(w, l, 0, 0, NULL, true, err); /* its error */
        if (!l->defer_left) {
            materialize(l);
            l->defer_left = defer_room(&l->col);
        }
        if (l->defer_left) {
            l->defer_left--;
            l->pending++;
            l->rows++;
            continue;
        }
        sl_code rc = put_entry(w, l, 0, 0, NULL, true, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

sl_code pq_nwriter_leaf_put(pq_nwriter *w, size_t leaf, int def, int rep,
                            const pq_value *v, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: leaf_put after finish");
    if (w->failed)
        return failed(err);
    sl_code rc = pq_nwriter_check(w, leaf, def, rep, v, err);
    if (rc != SL_OK)
        return rc;
    return put_entry(w, &w->leaves[leaf], def, rep, v, false, err);
}

static sl_code flush_row_group(pq_nwriter *w, sl_err *err)
{
    if (w->rg_rows == 0)
        return SL_OK;
    /* owned by the writer from here, even on failure */
    pq_rg_record *rec = pq_rg_records_add(&w->rgs, &w->nrgs, &w->cap_rgs, w->nleaves);

    int64_t total_unc = 0, total_comp = 0;
    for (size_t i = 0; i < w->nleaves; i++) {
        nleaf *l = &w->leaves[i];
        pq_column *c = &l->col;
        materialize(l);
        sl_code rc = pq_column_finish_chunk(c, err);
        if (rc != SL_OK)
            return rc;
        int64_t dict_off = 0;
        if (c->dict_page.len) {
            dict_off = (int64_t)w->file.len;
            buf_append(&w->file, c->dict_page.data, c->dict_page.len);
        }
        int64_t data_off = (int64_t)w->file.len;
        buf_append(&w->file, c->chunk.data, c->chunk.len);
        pq_column_fill_meta(c, l->path, l->path_len, dict_off, data_off, &rec->chunks[i],
                            rec->enc_stats[i], &rec->stat_min[i], &rec->stat_max[i]);
        total_unc += rec->chunks[i].meta.total_uncompressed_size;
        total_comp += rec->chunks[i].meta.total_compressed_size;
        pq_column_next_chunk(c);
    }
    rec->rg.columns = rec->chunks;
    rec->rg.num_columns = w->nleaves;
    rec->rg.total_byte_size = total_unc;
    rec->rg.total_compressed_size = total_comp;
    rec->rg.num_rows = w->rg_rows;
    rec->rg.file_offset = rec->chunks[0].file_offset;
    rec->rg.ordinal = w->nrgs - 1 <= INT16_MAX ? (int16_t)(w->nrgs - 1) : -1;
    w->rg_rows = 0;
    return SL_OK;
}

sl_code pq_nwriter_end_row(pq_nwriter *w, sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: end_row after finish");
    if (w->failed)
        return failed(err);
    size_t buffered = 0;
    for (size_t i = 0; i < w->nleaves; i++) {
        nleaf *l = &w->leaves[i];
        if (l->rows <= w->num_rows) {
            w->failed = true;
            return err_set(err, SL_PARQUET_VALUE,
                           "parquet writer: row %lld: column '%s' has no entry",
                           (long long)w->num_rows + 1, l->info.path);
        }
        /* the counted nulls as the column would count them (they close
         * no page: defer_room saw to that) */
        const pq_column *c = &l->col;
        buffered += pq_column_buffered(c) + (size_t)(c->page_rows + l->pending) / 8 -
                    (size_t)c->page_rows / 8;
    }
    w->num_rows++;
    w->rg_rows++;
    if (w->rg_rows >= w->rg_max_rows || buffered >= w->rg_max_bytes) {
        sl_code rc = flush_row_group(w, err);
        if (rc != SL_OK) {
            w->failed = true;
            return rc;
        }
    }
    return SL_OK;
}

/* The schema elements depth-first from n. */
static void fill_schema(const pq_wnode *n, bool is_root, pq_schema_element *out,
                        size_t *k)
{
    pq_schema_element *e = &out[(*k)++];
    *e = (pq_schema_element){
        .name = n->name,
        .has_repetition = !is_root,
        .repetition = n->repetition,
        .num_children = (int32_t)n->num_children,
        .converted = PQ_CONV_NONE,
    };
    if (n->kind == PQ_WNODE_LEAF) {
        const pq_col_type *t = pq_col_type_get(pq_type_base(n->type));
        e->has_type = true;
        e->type = t->physical;
        e->converted = t->converted;
        e->logical = t->logical;
        if (t->type == PQ_TYPE_DECIMAL) {
            int32_t p = pq_type_precision(n->type), sc = pq_type_scale(n->type);
            if (p > 18) {
                e->type = PQ_PHYS_FIXED_LEN_BYTE_ARRAY;
                e->type_length = pq_decimal_flba_length(p);
            } else {
                e->type = p > 9 ? PQ_PHYS_INT64 : PQ_PHYS_INT32;
            }
            e->has_decimal = true;
            e->scale = sc;
            e->precision = p;
            e->logical.dec_scale = sc;
            e->logical.dec_precision = p;
        }
        return;
    }
    if (n->kind == PQ_WNODE_LIST) {
        e->converted = PQ_CONV_LIST;
        e->logical.kind = PQ_LOGICAL_LIST;
    } else if (n->kind == PQ_WNODE_MAP) {
        e->converted = PQ_CONV_MAP;
        e->logical.kind = PQ_LOGICAL_MAP;
    }
    for (size_t i = 0; i < n->num_children; i++)
        fill_schema(n->children[i], false, out, k);
}

static void write_footer(pq_nwriter *w)
{
    pq_schema_element *schema = sl_calloc(w->num_nodes, sizeof *schema);
    size_t k = 0;
    fill_schema(w->root, true, schema, &k);
    pq_row_group *rgs = sl_calloc(w->nrgs ? w->nrgs : 1, sizeof *rgs);
    for (size_t i = 0; i < w->nrgs; i++)
        rgs[i] = w->rgs[i].rg;
    char *created_by =
        sl_asprintf("sluice version %s (build %s)", SLUICE_VERSION, SLUICE_BUILD_ID);
    pq_file_meta fm = {
        .version = 1,
        .schema = schema,
        .num_schema = k,
        .num_rows = w->num_rows,
        .row_groups = rgs,
        .num_row_groups = w->nrgs,
        .created_by = created_by,
        .type_defined_order = true,
        .num_leaves = w->nleaves,
    };
    size_t start = w->file.len;
    pq_meta_write_file_meta(&w->file, &fm);
    uint32_t footer_len = (uint32_t)(w->file.len - start);
    unsigned char tail[8] = {(unsigned char)footer_len,
                             (unsigned char)(footer_len >> 8),
                             (unsigned char)(footer_len >> 16),
                             (unsigned char)(footer_len >> 24),
                             'P',
                             'A',
                             'R',
                             '1'};
    buf_append(&w->file, tail, sizeof tail);
    free(created_by);
    free(rgs);
    free(schema);
}

sl_code pq_nwriter_finish(pq_nwriter *w, sl_buf *file_out, pq_nfile_stats *stats_out,
                          sl_err *err)
{
    if (w->finished)
        return err_set(err, SL_INTERNAL, "parquet writer: finish called twice");
    if (w->failed)
        return failed(err);
    for (size_t i = 0; i < w->nleaves; i++)
        if (w->leaves[i].rows > w->num_rows) {
            w->failed = true;
            return err_set(err, SL_PARQUET_VALUE,
                           "parquet writer: finish inside row %lld (no end_row)",
                           (long long)w->num_rows + 1);
        }
    sl_code rc = flush_row_group(w, err);
    if (rc != SL_OK) {
        w->failed = true;
        return rc;
    }
    write_footer(w);
    w->finished = true;
    if (stats_out) {
        stats_out->num_rows = w->num_rows;
        stats_out->file_size = (int64_t)w->file.len;
    }
    buf_free(file_out);
    *file_out = w->file;
    memset(&w->file, 0, sizeof w->file);
    return SL_OK;
}

void pq_nwriter_free(pq_nwriter *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nleaves; i++) {
        pq_column_free(&w->leaves[i].col);
        free((void *)w->leaves[i].path);
        free((char *)w->leaves[i].info.path);
    }
    free(w->leaves);
    pq_rg_records_free(w->rgs, w->nrgs, w->nleaves);
    buf_free(&w->scratch.body);
    buf_free(&w->scratch.comp);
    buf_free(&w->scratch.levels);
    buf_free(&w->file);
    pq_wnode_free(w->root);
    free(w);
}
