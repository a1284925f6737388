/* Record assembly: rows as JSON objects from the definition and repetition
 * levels of the projected leaf columns, one row group in memory at a time.
 *
 * The schema is first turned into an assembly tree of three shapes: a leaf
 * value, a struct (object) and a list (array; MAPs are lists of
 * {"key","value"} structs). Each shape knows the definition level at which it
 * is present and, for lists, the level at which it has an element and the
 * repetition level of its repeated node, following the LIST/MAP rules of the
 * format including the legacy 2-level forms. Each level entry of a leaf then
 * walks its path of shapes from the row down, creating or reusing the
 * containers its sibling leaves already built. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_read_int.h"

typedef enum akind { A_LEAF, A_STRUCT, A_LIST } akind;

typedef struct anode {
    akind kind;
    char *name;        /* output key (valid UTF-8) */
    int16_t def;       /* present (non-null) when the level is at least this */
    int16_t def_elem;  /* A_LIST: has an element from this level on */
    int16_t rep;       /* A_LIST: repetition level of its elements */
    struct anode **kids;
    size_t nkids;
    const pq_node *leaf; /* A_LEAF */
} anode;

typedef struct acol {
    const pq_node *leaf;
    const anode **path; /* from the row's field down to the leaf shape */
    size_t depth;
    pq_vfmt fmt;
    pq_column_data data;
    size_t lpos, vpos;
} acol;

struct pq_rows {
    pq_reader *r;
    anode *root;
    acol *cols;
    size_t ncols;
    size_t next_rg;
    int64_t row, rows; /* within the loaded row group */
    bool loaded;
    size_t *listpos; /* per repetition level, reset for every leaf of a row */
    size_t listpos_n;
};

/* ---- the assembly tree -------------------------------------------------- */

static void anode_free(anode *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nkids; i++)
        anode_free(a->kids[i]);
    free(a->kids);
    free(a->name);
    free(a);
}

static anode *anode_new(akind kind, const char *name, int16_t def)
{
    anode *a = sl_calloc(1, sizeof *a);
    a->kind = kind;
    json_t *n = pq_json_bytes((const uint8_t *)name, strlen(name));
    a->name = sl_strdup(json_string_value(n));
    json_decref(n);
    a->def = def;
    return a;
}

static void anode_add(anode *parent, anode *kid)
{
    parent->kids = sl_realloc(parent->kids, (parent->nkids + 1) * sizeof *parent->kids);
    parent->kids[parent->nkids++] = kid;
}

static anode *convert(const pq_node *n, const bool *sel);

/* A node as a required value (a list element): leaf or struct. */
static anode *convert_element(const pq_node *n, const char *name, const bool *sel)
{
    if (n->is_leaf) {
        if (!sel[n->leaf_index])
            return NULL;
        anode *a = anode_new(A_LEAF, name, n->max_def);
        a->leaf = n;
        return a;
    }
    anode *s = anode_new(A_STRUCT, name, n->max_def);
    for (size_t i = 0; i < n->num_children; i++) {
        anode *k = convert(n->children[i], sel);
        if (k)
            anode_add(s, k);
    }
    if (s->nkids == 0) {
        anode_free(s);
        return NULL;
    }
    return s;
}

static anode *make_list(const pq_node *owner, const pq_node *repeated, anode *elem)
{
    if (!elem)
        return NULL;
    anode *l = anode_new(A_LIST, owner->name,
                         owner == repeated ? (int16_t)(repeated->max_def - 1) : owner->max_def);
    l->def_elem = repeated->max_def;
    l->rep = repeated->max_rep;
    anode_add(l, elem);
    return l;
}

static bool is_list_group(const pq_node *n)
{
    return !n->is_leaf && (n->logical.kind == PQ_LOGICAL_LIST || n->converted == PQ_CONV_LIST) &&
           n->num_children == 1 && n->children[0]->repetition == PQ_REP_REPEATED;
}

static bool is_map_group(const pq_node *n)
{
    return !n->is_leaf &&
           (n->logical.kind == PQ_LOGICAL_MAP || n->converted == PQ_CONV_MAP ||
            n->converted == PQ_CONV_MAP_KEY_VALUE) &&
           n->num_children == 1 && n->children[0]->repetition == PQ_REP_REPEATED &&
           !n->children[0]->is_leaf;
}

static anode *convert_list(const pq_node *n, const bool *sel)
{
    const pq_node *rp = n->children[0];
    anode *elem;
    if (rp->is_leaf || rp->num_children > 1) {
        elem = convert_element(rp, "element", sel); /* 2-level: the repeated node is the element */
    } else {
        size_t nl = strlen(n->name);
        bool tuple = strncmp(rp->name, n->name, nl) == 0 && strcmp(rp->name + nl, "_tuple") == 0;
        if (strcmp(rp->name, "array") == 0 || tuple)
            elem = convert_element(rp, "element", sel);
        else
            elem = convert(rp->children[0], sel); /* 3-level */
    }
    return make_list(n, rp, elem);
}

static anode *convert_map(const pq_node *n, const bool *sel)
{
    const pq_node *kv = n->children[0];
    anode *s = anode_new(A_STRUCT, kv->name, kv->max_def);
    for (size_t i = 0; i < kv->num_children; i++) {
        anode *k = convert(kv->children[i], sel);
        if (!k)
            continue;
        if (kv->num_children <= 2) {
            free(k->name);
            k->name = sl_strdup(i == 0 ? "key" : "value");
        }
        anode_add(s, k);
    }
    if (s->nkids == 0) {
        anode_free(s);
        s = NULL;
    }
    return make_list(n, kv, s);
}

static anode *convert(const pq_node *n, const bool *sel)
{
    if (n->repetition == PQ_REP_REPEATED) /* a repeated field without LIST annotation */
        return make_list(n, n, convert_element(n, n->name, sel));
    if (is_list_group(n))
        return convert_list(n, sel);
    if (is_map_group(n))
        return convert_map(n, sel);
    if (n->is_leaf) {
        if (!sel[n->leaf_index])
            return NULL;
        anode *a = anode_new(A_LEAF, n->name, n->max_def);
        a->leaf = n;
        return a;
    }
    anode *s = anode_new(A_STRUCT, n->name, n->max_def);
    for (size_t i = 0; i < n->num_children; i++) {
        anode *k = convert(n->children[i], sel);
        if (k)
            anode_add(s, k);
    }
    if (s->nkids == 0) {
        anode_free(s);
        return NULL;
    }
    return s;
}

/* Collects the leaf shapes in schema order with their paths. */
static void collect(pq_rows *rows, const anode *a, const anode **stack, size_t depth)
{
    stack[depth] = a;
    if (a->kind == A_LEAF) {
        acol *c = &rows->cols[rows->ncols++];
        c->leaf = a->leaf;
        c->depth = depth + 1;
        c->path = sl_calloc(depth + 1, sizeof *c->path);
        memcpy(c->path, stack, (depth + 1) * sizeof *stack);
        c->fmt = pq_value_format(a->leaf);
        if ((size_t)a->leaf->max_rep + 1 > rows->listpos_n)
            rows->listpos_n = (size_t)a->leaf->max_rep + 1;
        return;
    }
    for (size_t i = 0; i < a->nkids; i++)
        collect(rows, a->kids[i], stack, depth + 1);
}

static bool path_selects(const char *leaf_path, const char *col)
{
    size_t n = strlen(col);
    return strncmp(leaf_path, col, n) == 0 && (leaf_path[n] == '\0' || leaf_path[n] == '.');
}

static void rows_unload(pq_rows *rows)
{
    for (size_t i = 0; i < rows->ncols; i++) {
        pq_column_data_free(&rows->cols[i].data);
        rows->cols[i].lpos = rows->cols[i].vpos = 0;
    }
    rows->loaded = false;
}

void pq_rows_free(pq_rows *rows)
{
    if (!rows)
        return;
    rows_unload(rows);
    for (size_t i = 0; i < rows->ncols; i++)
        free(rows->cols[i].path);
    free(rows->cols);
    free(rows->listpos);
    anode_free(rows->root);
    free(rows);
}

sl_code pq_rows_open(pq_reader *r, const char *const *columns, size_t ncols, pq_rows **out,
                     sl_err *err)
{
    *out = NULL;
    const pq_file_info *info = &r->info;
    bool *sel = sl_calloc(info->num_leaves ? info->num_leaves : 1, sizeof *sel);
    if (!columns || ncols == 0) {
        for (size_t i = 0; i < info->num_leaves; i++)
            sel[i] = true;
    }
    for (size_t k = 0; columns && k < ncols; k++) {
        bool any = false;
        for (size_t i = 0; i < info->num_leaves; i++)
            if (path_selects(info->leaves[i]->path, columns[k]))
                sel[i] = any = true;
        if (!any) {
            free(sel);
            return err_set(err, SL_PARQUET_NO_COLUMN, "%s has no column \"%s\"", r->src.name,
                           columns[k]);
        }
    }
    pq_rows *rows = sl_calloc(1, sizeof *rows);
    rows->r = r;
    rows->root = anode_new(A_STRUCT, "", 0);
    for (size_t i = 0; i < info->root->num_children; i++) {
        anode *k = convert(info->root->children[i], sel);
        if (k)
            anode_add(rows->root, k);
    }
    free(sel);
    rows->cols = sl_calloc(info->num_leaves ? info->num_leaves : 1, sizeof *rows->cols);
    /* A repeated group without a LIST annotation is two shapes (list and
     * element), so shapes nest up to twice as deep as the schema. */
    const anode *stack[2 * PQ_SCHEMA_MAX_DEPTH + 2];
    for (size_t i = 0; i < rows->root->nkids; i++)
        collect(rows, rows->root->kids[i], stack, 0);
    rows->listpos = sl_calloc(rows->listpos_n + 1, sizeof *rows->listpos);
    *out = rows;
    return SL_OK;
}

/* ---- slots: where a value goes (an object's key or an array's index) ---- */

typedef struct slot {
    json_t *cont;
    const char *key; /* object slot when non-NULL */
    size_t idx;
} slot;

static json_t *slot_get(const slot *s)
{
    return s->key ? json_object_get(s->cont, s->key) : json_array_get(s->cont, s->idx);
}

static void slot_put(const slot *s, json_t *v)
{
    if (s->key)
        json_object_set_new_nocheck(s->cont, s->key, v); /* keys are checked UTF-8 */
    else if (s->idx < json_array_size(s->cont))
        json_array_set_new(s->cont, s->idx, v);
    else
        json_array_append_new(s->cont, v);
}

static void slot_null(const slot *s)
{
    if (!slot_get(s))
        slot_put(s, json_null());
}

static json_t *slot_container(const slot *s, bool object)
{
    json_t *v = slot_get(s);
    if (v && (object ? json_is_object(v) : json_is_array(v)))
        return v;
    v = object ? json_object() : json_array();
    slot_put(s, v);
    return v;
}

/* Places one level entry of column c into row. */
static sl_code place(pq_rows *rows, acol *c, json_t *row, int16_t d, int16_t r, sl_err *err)
{
    slot s = {.cont = row};
    for (size_t i = 0; i < c->depth; i++) {
        const anode *a = c->path[i];
        if (s.key || i == 0)
            s.key = a->name;
        switch (a->kind) {
        case A_LEAF:
            if (d < a->def) {
                slot_null(&s);
                return SL_OK;
            }
            if (c->vpos >= c->data.num_values)
                return err_set(err, SL_PARQUET_CORRUPT,
                               "column %s: more defined levels than values", c->leaf->path);
            slot_put(&s, pq_value_json(c->fmt, c->leaf, c->data.values, c->vpos++));
            return SL_OK;
        case A_STRUCT: {
            if (d < a->def) {
                slot_null(&s);
                return SL_OK;
            }
            s.cont = slot_container(&s, true);
            s.key = ""; /* the next shape names its key */
            break;
        }
        case A_LIST: {
            if (d < a->def) {
                slot_null(&s);
                return SL_OK;
            }
            json_t *arr = slot_container(&s, false);
            if (d < a->def_elem)
                return SL_OK; /* present but empty */
            size_t *pos = &rows->listpos[a->rep];
            size_t idx = r < a->rep ? 0 : r == a->rep ? *pos + 1 : *pos;
            size_t size = json_array_size(arr);
            if (idx > size)
                idx = size;
            *pos = idx;
            s.cont = arr;
            s.key = NULL;
            s.idx = idx;
            break;
        }
        }
    }
    return SL_OK;
}

static sl_code load_row_group(pq_rows *rows, sl_err *err)
{
    const pq_file_info *info = &rows->r->info;
    size_t g = rows->next_rg++;
    for (size_t i = 0; i < rows->ncols; i++) {
        sl_code c = pq_read_column(rows->r, g, (size_t)rows->cols[i].leaf->leaf_index,
                                   &rows->cols[i].data, err);
        if (c != SL_OK) {
            rows_unload(rows);
            return c;
        }
    }
    rows->row = 0;
    rows->rows = info->row_groups[g].num_rows;
    rows->loaded = true;
    return SL_OK;
}

sl_code pq_rows_next(pq_rows *rows, json_t **row_out, sl_err *err)
{
    *row_out = NULL;
    while (!rows->loaded || rows->row >= rows->rows) {
        rows_unload(rows);
        if (rows->next_rg >= rows->r->info.num_row_groups)
            return SL_OK;
        sl_code c = load_row_group(rows, err);
        if (c != SL_OK)
            return c;
    }
    json_t *row = json_object();
    for (size_t i = 0; i < rows->ncols; i++) {
        acol *c = &rows->cols[i];
        const pq_column_data *d = &c->data;
        if (c->lpos >= d->num_levels) {
            json_decref(row);
            return err_set(err, SL_PARQUET_CORRUPT, "%s: column %s ends before row %lld",
                           rows->r->src.name, c->leaf->path, (long long)rows->row);
        }
        do {
            int16_t dl = d->def ? d->def[c->lpos] : 0;
            int16_t rl = d->rep ? d->rep[c->lpos] : 0;
            sl_code e = place(rows, c, row, dl, rl, err);
            if (e != SL_OK) {
                json_decref(row);
                return err_wrap(err, "%s", rows->r->src.name);
            }
            c->lpos++;
        } while (c->lpos < d->num_levels && d->rep && d->rep[c->lpos] != 0);
    }
    rows->row++;
    *row_out = row;
    return SL_OK;
}
