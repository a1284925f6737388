/* The fast checkpoint reader: decodes the projected leaf columns of a row
 * group (pq_read_column) and writes each action's JSON text straight from
 * the levels and values, without a JSON tree per row. It covers what Delta
 * writers put in checkpoints: structs at any depth, MAP<string, primitive>
 * and LIST<primitive> one level deep, and boolean, integer, floating point
 * and string leaves. Anything else is left to the row reader. For a
 * snapshot the add column is only walked (the fields replay needs are
 * captured) and kept decoded in a delta_cp_batch, which writes an add's
 * text when asked, or copies its levels and values into a checkpoint
 * writer's add leaves (delta_cp_addw_put). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_nested_writer.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/text.h"

typedef enum cn_kind { CN_LEAF, CN_STRUCT, CN_MAP, CN_LIST } cn_kind;

/* Members whose values are also handed to replay directly (add, remove). */
enum {
    ROLE_NONE,
    ROLE_STATS,
    ROLE_PARSED_NUM,
    ROLE_PATH,
    ROLE_SIZE,
    ROLE_MTIME,
    ROLE_DELTS,
    ROLE_DV,
    ROLE_DV_STORAGE,
    ROLE_DV_PATH,
    ROLE_DV_OFFSET,
    ROLE_DV_CARD
};

typedef struct cnode {
    cn_kind kind;
    char *member; /* "\"name\":" ready to append */
    size_t member_len;
    int16_t def;  /* definition level at which this node is non-null */
    int16_t rdef; /* MAP/LIST: level at which an element exists */
    int role;
    size_t slot;                 /* CN_LEAF: index into the slot array */
    size_t leaf_begin, leaf_end; /* the subtree's slots */
    struct cnode *kids;
    size_t nkids;
} cnode;

typedef struct slot {
    const pq_node *leaf;
    pq_column_data d;
    int loaded;
    size_t lvl; /* next level entry */
    size_t val; /* next value */
} slot;

typedef struct action_col {
    char name[40];
    int is_file; /* add or remove: fields go to replay directly */
    cnode root;  /* CN_STRUCT */
} action_col;

typedef struct cols_reader {
    pq_reader *pr;
    const char *key;
    action_col *acts;
    size_t nacts;
    slot *slots;
    size_t nslots, capslots;
    sl_buf out; /* the action being written */
    int stats_seen;
    int64_t parsed_num;
    delta_cp_file cf; /* add/remove fields of the action being written */
    size_t row;       /* 1-based, across row groups */
} cols_reader;

/* ---- the projected tree --------------------------------------------------- */

static void cnode_clear(cnode *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        cnode_clear(&n->kids[i]);
    free(n->kids);
    free(n->member);
    memset(n, 0, sizeof *n);
}

/* Plain numbers and strings only: dates, times, decimals and unsigned 64-bit
 * values need the row reader's formatting rules. Both annotations are
 * checked, as old writers set only the converted one. */
static int leaf_type_ok(const pq_node *n)
{
    pq_logical_kind lk = n->logical.kind;
    pq_converted cv = n->converted;
    switch (n->type) {
    case PQ_PHYS_BOOLEAN:
    case PQ_PHYS_FLOAT:
    case PQ_PHYS_DOUBLE:
        return lk == PQ_LOGICAL_NONE && cv == PQ_CONV_NONE;
    case PQ_PHYS_INT32:
    case PQ_PHYS_INT64:
        if (lk == PQ_LOGICAL_INTEGER)
            return n->logical.int_signed || n->logical.int_bits < 64;
        if (lk != PQ_LOGICAL_NONE)
            return 0;
        return cv == PQ_CONV_NONE ||
               (cv >= PQ_CONV_UINT_8 && cv <= PQ_CONV_INT_64 && cv != PQ_CONV_UINT_64);
    case PQ_PHYS_BYTE_ARRAY:
        if (lk != PQ_LOGICAL_NONE && lk != PQ_LOGICAL_STRING && lk != PQ_LOGICAL_JSON &&
            lk != PQ_LOGICAL_ENUM)
            return 0;
        return cv == PQ_CONV_NONE || cv == PQ_CONV_UTF8 || cv == PQ_CONV_ENUM ||
               cv == PQ_CONV_JSON;
    default:
        return 0;
    }
}

static size_t slot_add(cols_reader *cr, const pq_node *leaf)
{
    if (cr->nslots == cr->capslots) {
        cr->capslots = cr->capslots ? cr->capslots * 2 : 32;
        cr->slots = sl_realloc(cr->slots, cr->capslots * sizeof *cr->slots);
    }
    memset(&cr->slots[cr->nslots], 0, sizeof *cr->slots);
    cr->slots[cr->nslots].leaf = leaf;
    return cr->nslots++;
}

static void member_set(cnode *n, const char *name)
{
    sl_buf b = {0};
    buf_append_char(&b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_append_char(&b, '\\');
        buf_append_char(&b, *p);
    }
    buf_append_str(&b, "\":");
    n->member_len = b.len;
    n->member = buf_steal(&b);
}

static int build(cols_reader *cr, const pq_node *pn, int16_t parent_def, int depth,
                 cnode *out);

/* A leaf that sits at max_rep 0 or as the one repeated element of a
 * MAP/LIST. */
static int build_leaf(cols_reader *cr, const pq_node *pn, int16_t def, int16_t rep,
                      cnode *out)
{
    if (!leaf_type_ok(pn) || pn->max_def != def || pn->max_rep != rep)
        return 0;
    out->kind = CN_LEAF;
    out->def = def;
    out->slot = slot_add(cr, pn);
    out->leaf_begin = out->slot;
    out->leaf_end = out->slot + 1;
    return 1;
}

static int build_repeated(cols_reader *cr, const pq_node *pn, int16_t def, cnode *out)
{
    const pq_node *r = pn->children[0];
    out->def = def;
    out->rdef = (int16_t)(def + 1);
    out->leaf_begin = cr->nslots;
    if (delta_cp_node_is_map(pn)) {
        const pq_node *k = r->children[0], *v = r->children[1];
        if (!k->is_leaf || !v->is_leaf || k->type != PQ_PHYS_BYTE_ARRAY)
            return 0;
        out->kind = CN_MAP;
        out->nkids = 2;
        out->kids = sl_calloc(2, sizeof *out->kids);
        int16_t kdef = (int16_t)(out->rdef + (k->repetition != PQ_REP_REQUIRED));
        int16_t vdef = (int16_t)(out->rdef + (v->repetition != PQ_REP_REQUIRED));
        if (k->repetition == PQ_REP_REPEATED || v->repetition == PQ_REP_REPEATED ||
            !build_leaf(cr, k, kdef, 1, &out->kids[0]) ||
            !build_leaf(cr, v, vdef, 1, &out->kids[1]))
            return 0;
    } else {
        out->kind = CN_LIST;
        out->nkids = 1;
        out->kids = sl_calloc(1, sizeof *out->kids);
        if (r->is_leaf) { /* legacy two-level list */
            if (!build_leaf(cr, r, out->rdef, 1, &out->kids[0]))
                return 0;
        } else {
            const pq_node *e = r->children[0];
            int16_t edef = (int16_t)(out->rdef + (e->repetition != PQ_REP_REQUIRED));
            if (!e->is_leaf || e->repetition == PQ_REP_REPEATED ||
                !build_leaf(cr, e, edef, 1, &out->kids[0]))
                return 0;
        }
    }
    out->leaf_end = cr->nslots;
    return 1;
}

/* Returns 0 for a shape this reader does not cover. */
static int build(cols_reader *cr, const pq_node *pn, int16_t parent_def, int depth,
                 cnode *out)
{
    if (depth > 32 || pn->repetition == PQ_REP_REPEATED)
        return 0;
    int16_t def = (int16_t)(parent_def + (pn->repetition == PQ_REP_OPTIONAL));
    if (pn->is_leaf)
        return build_leaf(cr, pn, def, 0, out);
    if (delta_cp_node_is_map(pn) || delta_cp_node_is_list(pn))
        return build_repeated(cr, pn, def, out);
    out->kind = CN_STRUCT;
    out->def = def;
    out->leaf_begin = cr->nslots;
    out->kids = sl_calloc(pn->num_children ? pn->num_children : 1, sizeof *out->kids);
    for (size_t i = 0; i < pn->num_children; i++) {
        const pq_node *c = pn->children[i];
        cnode *k = &out->kids[out->nkids];
        if (!build(cr, c, def, depth + 1, k))
            return 0;
        out->nkids++;
        member_set(k, c->name);
    }
    out->leaf_end = cr->nslots;
    return out->nkids > 0;
}

static int is_int(const pq_node *n)
{
    return n->is_leaf && (n->type == PQ_PHYS_INT64 || n->type == PQ_PHYS_INT32);
}

static int is_bytes(const pq_node *n)
{
    return n->is_leaf && n->type == PQ_PHYS_BYTE_ARRAY;
}

/* Marks the members of add/remove (and of their deletionVector) whose values
 * replay needs. */
static void role_set(cnode *k, const pq_node *c, int in_dv)
{
    static const struct {
        const char *name;
        int in_dv, role, want_int;
    } roles[] = {
        {"path", 0, ROLE_PATH, 0},
        {"size", 0, ROLE_SIZE, 1},
        {"modificationTime", 0, ROLE_MTIME, 1},
        {"deletionTimestamp", 0, ROLE_DELTS, 1},
        {"stats", 0, ROLE_STATS, 0},
        {"storageType", 1, ROLE_DV_STORAGE, 0},
        {"pathOrInlineDv", 1, ROLE_DV_PATH, 0},
        {"offset", 1, ROLE_DV_OFFSET, 1},
        {"cardinality", 1, ROLE_DV_CARD, 1},
    };
    if (!in_dv && strcmp(c->name, "deletionVector") == 0 && k->kind == CN_STRUCT) {
        k->role = ROLE_DV;
        for (size_t i = 0; i < k->nkids; i++)
            role_set(&k->kids[i], c->children[i], 1);
        return;
    }
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (roles[i].in_dv == in_dv && strcmp(c->name, roles[i].name) == 0 &&
            (roles[i].want_int ? is_int(c) : is_bytes(c)))
            k->role = roles[i].role;
}

/* One action column: its wanted children, plus add.stats_parsed.numRecords. */
static int build_action(cols_reader *cr, const pq_node *pn, action_col *ac)
{
    snprintf(ac->name, sizeof ac->name, "%s", pn->name);
    cnode *root = &ac->root;
    if (pn->is_leaf || pn->repetition == PQ_REP_REPEATED)
        return 0;
    int16_t def = (int16_t)(pn->repetition == PQ_REP_OPTIONAL);
    if (def == 0)
        return 0; /* an action column must be able to be null */
    int is_add = strcmp(pn->name, "add") == 0;
    ac->is_file = is_add || strcmp(pn->name, "remove") == 0;
    root->kind = CN_STRUCT;
    root->def = def;
    root->leaf_begin = cr->nslots;
    root->kids = sl_calloc(pn->num_children + 1, sizeof *root->kids);
    for (size_t i = 0; i < pn->num_children; i++) {
        const pq_node *c = pn->children[i];
        if (is_add && strcmp(c->name, "stats_parsed") == 0 && !c->is_leaf &&
            c->repetition != PQ_REP_REPEATED) {
            for (size_t j = 0; j < c->num_children; j++) {
                const pq_node *g = c->children[j];
                if (strcmp(g->name, "numRecords") != 0 || !g->is_leaf ||
                    (g->type != PQ_PHYS_INT64 && g->type != PQ_PHYS_INT32))
                    continue;
                /* A struct holding just the leaf: presence follows the levels. */
                cnode *k = &root->kids[root->nkids];
                k->kind = CN_STRUCT;
                k->role = ROLE_PARSED_NUM;
                k->def = (int16_t)(def + (c->repetition == PQ_REP_OPTIONAL));
                k->leaf_begin = cr->nslots;
                k->kids = sl_calloc(1, sizeof *k->kids);
                k->nkids = 1;
                int16_t gdef = (int16_t)(k->def + (g->repetition == PQ_REP_OPTIONAL));
                if (g->repetition == PQ_REP_REPEATED ||
                    !build_leaf(cr, g, gdef, 0, &k->kids[0]))
                    return 0;
                k->leaf_end = cr->nslots;
                root->nkids++;
            }
            continue;
        }
        if (!delta_cp_field_wanted(pn->name, c->name))
            continue;
        cnode *k = &root->kids[root->nkids];
        if (!build(cr, c, def, 1, k))
            return 0;
        root->nkids++;
        member_set(k, c->name);
        if (ac->is_file)
            role_set(k, c, 0);
    }
    root->leaf_end = cr->nslots;
    return root->leaf_end > root->leaf_begin;
}

/* ---- levels ------------------------------------------------------------------ */

static inline int16_t def_at(const slot *s)
{
    return s->d.def ? s->d.def[s->lvl] : s->leaf->max_def;
}

static inline int16_t rep_at(const slot *s)
{
    return s->d.rep ? s->d.rep[s->lvl] : 0;
}

static sl_code corrupt_col(cols_reader *cr, const slot *s, const char *what, sl_err *err)
{
    return err_set(err, SL_PARQUET_CORRUPT, "checkpoint %s: column %s at row %zu: %s",
                   cr->key, s->leaf->path, cr->row, what);
}

/* A null or empty subtree holds exactly one level entry per leaf. */
static void skip_subtree(cols_reader *cr, const cnode *n)
{
    for (size_t i = n->leaf_begin; i < n->leaf_end; i++)
        cr->slots[i].lvl++;
}

/* ---- values -------------------------------------------------------------- */

static void put_i64(sl_buf *b, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    buf_reserve(b, n + 1);
    if (v < 0)
        b->data[b->len++] = '-';
    while (n)
        b->data[b->len++] = tmp[--n];
    b->data[b->len] = '\0';
}

static void put_double(sl_buf *b, double v)
{
    if (isnan(v))
        buf_append_str(b, "\"NaN\"");
    else if (isinf(v))
        buf_append_str(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        buf_appendf(b, "%.17g", v);
}

/* 0: copied as is; 1: escaped; 2: the start of a multi-byte sequence. */
static const uint8_t str_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

/* 1 when any of 8 bytes is a control byte, '"', '\\' or not ASCII: the
 * plain runs between them are copied eight bytes at a time. */
static inline int needs_care8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t ctl = (x - ones * 0x20) & ~x;
    uint64_t eq = ((q - ones) & ~q) | ((bs - ones) & ~bs);
    return ((x | ctl | eq) & high) != 0;
}

/* JSON string from bytes that must be UTF-8; 0 when they are not. A byte
 * becomes at most six ("\u001f"), so one reservation covers the lot. */
static int put_string(sl_buf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n * 6 + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!needs_care8(x)) {
                memcpy(o, p + i, 8);
                o += 8;
                i += 8;
                continue;
            }
        }
        uint8_t cls = str_class[p[i]];
        if (cls == 0) {
            *o++ = (char)p[i++];
            continue;
        }
        if (cls == 2) {
            size_t k = text_utf8_seq_len(p + i, n - i);
            if (k == 0)
                return 0;
            memcpy(o, p + i, k);
            o += k;
            i += k;
            continue;
        }
        unsigned char c = p[i++];
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 1;
}

/* A NULL buffer is a dry walk: levels and values are consumed and checked,
 * nothing is written (adds kept as columns get their text on demand). The
 * strings replay keeps (path, DV) are checked for UTF-8 then; the others
 * (stats, partition values, tags) when their text is written, which the
 * snapshot does not need: reading every byte of 100k stats would cost more
 * than the rest of the walk. */
static inline void out_char(sl_buf *b, char c)
{
    if (b)
        buf_append_char(b, c);
}

static inline void out_str(sl_buf *b, const char *str)
{
    if (b)
        buf_append_str(b, str);
}

static inline void out_mem(sl_buf *b, const char *p, size_t n)
{
    if (b)
        buf_append(b, p, n);
}

/* The dry walk's check of a string put_string would write: valid UTF-8. */
static int string_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!(x & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = text_utf8_seq_len(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* Writes the value at the slot's position (present: def == max_def) and
 * consumes it. */
static sl_code put_value(cols_reader *cr, slot *s, sl_buf *b, sl_err *err)
{
    if (s->val >= s->d.num_values)
        return corrupt_col(cr, s, "more defined levels than values", err);
    size_t i = s->val++;
    const pq_node *leaf = s->leaf;
    if (!b)
        return SL_OK; /* what the walk keeps is checked in capture() */
    switch (leaf->type) {
    case PQ_PHYS_BOOLEAN:
        out_str(b, ((const uint8_t *)s->d.values)[i] ? "true" : "false");
        break;
    case PQ_PHYS_INT32: {
        int32_t v = ((const int32_t *)s->d.values)[i];
        if (leaf->converted == PQ_CONV_UINT_32 || leaf->converted == PQ_CONV_UINT_16 ||
            leaf->converted == PQ_CONV_UINT_8 ||
            (leaf->logical.kind == PQ_LOGICAL_INTEGER && !leaf->logical.int_signed))
            put_i64(b, (int64_t)(uint32_t)v);
        else
            put_i64(b, v);
        break;
    }
    case PQ_PHYS_INT64:
        put_i64(b, ((const int64_t *)s->d.values)[i]);
        break;
    case PQ_PHYS_FLOAT:
        put_double(b, ((const float *)s->d.values)[i]);
        break;
    case PQ_PHYS_DOUBLE:
        put_double(b, ((const double *)s->d.values)[i]);
        break;
    default: {
        const pq_span *sp = &((const pq_span *)s->d.values)[i];
        if (!put_string(b, sp->ptr, sp->len))
            return corrupt_col(cr, s, "string is not valid UTF-8", err);
    }
    }
    return SL_OK;
}

/* ---- assembly -------------------------------------------------------------- */

static sl_code put_node(cols_reader *cr, const cnode *n, sl_buf *b, sl_err *err);

static int64_t int_at(const slot *s, size_t i)
{
    return s->leaf->type == PQ_PHYS_INT64 ? ((const int64_t *)s->d.values)[i]
                                          : ((const int32_t *)s->d.values)[i];
}

/* Keeps the value a role leaf has just written (the previous value). */
static sl_code capture(cols_reader *cr, const cnode *k, int dry, sl_err *err)
{
    const slot *s = &cr->slots[k->slot];
    size_t i = s->val - 1;
    const pq_span *sp =
        s->leaf->type == PQ_PHYS_BYTE_ARRAY ? &((const pq_span *)s->d.values)[i] : NULL;
    delta_cp_file *cf = &cr->cf;
    if (dry && sp && k->role != ROLE_STATS && !string_ok(sp->ptr, sp->len))
        return corrupt_col(cr, s, "string is not valid UTF-8", err);
    switch (k->role) {
    case ROLE_PATH:
        cf->path = (const char *)sp->ptr;
        cf->path_len = sp->len;
        break;
    case ROLE_SIZE:
        cf->size = int_at(s, i);
        break;
    case ROLE_MTIME:
        cf->modification_time = int_at(s, i);
        break;
    case ROLE_DELTS:
        cf->deletion_timestamp = int_at(s, i);
        break;
    case ROLE_STATS: {
        cr->stats_seen = 1;
        int64_t nr;
        cf->num_records =
            delta_stats_num_records_n((const char *)sp->ptr, sp->len, &nr) == 0 ? nr : -1;
        break;
    }
    case ROLE_DV_STORAGE:
        cf->dv_storage = (const char *)sp->ptr;
        cf->dv_storage_len = sp->len;
        break;
    case ROLE_DV_PATH:
        cf->dv_path = (const char *)sp->ptr;
        cf->dv_path_len = sp->len;
        break;
    case ROLE_DV_OFFSET:
        cf->has_dv_offset = 1;
        cf->dv_offset = int_at(s, i);
        break;
    case ROLE_DV_CARD:
        cf->dv_cardinality = int_at(s, i);
        break;
    }
    return SL_OK;
}

static sl_code put_elements(cols_reader *cr, const cnode *n, sl_buf *b, sl_err *err)
{
    int is_map = n->kind == CN_MAP;
    slot *first = &cr->slots[n->kids[0].slot];
    out_char(b, is_map ? '{' : '[');
    for (size_t e = 0;; e++) {
        if (e)
            out_char(b, ',');
        for (size_t k = 0; k < n->nkids; k++) {
            slot *s = &cr->slots[n->kids[k].slot];
            if (s->lvl >= s->d.num_levels || (e > 0 && rep_at(s) != 1))
                return corrupt_col(cr, s, "map or list entries out of step", err);
            int present = def_at(s) == s->leaf->max_def;
            if (is_map && k == 0 && !present)
                return corrupt_col(cr, s, "null map key", err);
            sl_code c = present ? put_value(cr, s, b, err) : SL_OK;
            if (c != SL_OK)
                return c;
            if (!present)
                out_str(b, "null");
            if (is_map && k == 0)
                out_char(b, ':');
            s->lvl++;
        }
        if (first->lvl >= first->d.num_levels || rep_at(first) != 1)
            break;
    }
    out_char(b, is_map ? '}' : ']');
    return SL_OK;
}

/* add.stats_parsed.numRecords of the row (k has ROLE_PARSED_NUM) into
 * cr->parsed_num. */
static sl_code take_parsed_num(cols_reader *cr, const cnode *k, sl_err *err)
{
    slot *s = &cr->slots[k->kids[0].slot];
    if (def_at(s) == s->leaf->max_def) {
        if (s->val >= s->d.num_values)
            return corrupt_col(cr, s, "more defined levels than values", err);
        cr->parsed_num = s->leaf->type == PQ_PHYS_INT64
                             ? ((const int64_t *)s->d.values)[s->val]
                             : ((const int32_t *)s->d.values)[s->val];
        s->val++;
    }
    s->lvl++;
    return SL_OK;
}

static sl_code put_struct(cols_reader *cr, const cnode *n, sl_buf *b, sl_err *err)
{
    out_char(b, '{');
    int any = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        const cnode *k = &n->kids[i];
        slot *s0 = &cr->slots[k->leaf_begin];
        if (k->role == ROLE_PARSED_NUM) {
            sl_code c = take_parsed_num(cr, k, err);
            if (c != SL_OK)
                return c;
            continue;
        }
        /* Null members are left out, as JSON commits do. */
        if (def_at(s0) < k->def) {
            skip_subtree(cr, k);
            continue;
        }
        if (any)
            out_char(b, ',');
        any = 1;
        out_mem(b, k->member, k->member_len);
        if (k->role == ROLE_DV)
            cr->cf.has_dv = 1;
        sl_code c = put_node(cr, k, b, err);
        if (c != SL_OK)
            return c;
        if (k->role != ROLE_NONE && k->role != ROLE_PARSED_NUM && k->role != ROLE_DV)
            c = capture(cr, k, b == NULL, err);
        if (c != SL_OK)
            return c;
    }
    out_char(b, '}');
    return SL_OK;
}

/* The node is known to be non-null here. */
static sl_code put_node(cols_reader *cr, const cnode *n, sl_buf *b, sl_err *err)
{
    switch (n->kind) {
    case CN_LEAF: {
        slot *s = &cr->slots[n->slot];
        sl_code c = put_value(cr, s, b, err);
        s->lvl++;
        return c;
    }
    case CN_STRUCT:
        return put_struct(cr, n, b, err);
    default: {
        slot *s0 = &cr->slots[n->leaf_begin];
        if (def_at(s0) < n->rdef) { /* empty map or list */
            out_str(b, n->kind == CN_MAP ? "{}" : "[]");
            skip_subtree(cr, n);
            return SL_OK;
        }
        return put_elements(cr, n, b, err);
    }
    }
}

/* ---- row groups ------------------------------------------------------------ */

static sl_code slot_check(cols_reader *cr, slot *s, int64_t nrows, sl_err *err)
{
    const pq_column_data *d = &s->d;
    size_t defined = 0;
    if (d->def) {
        for (size_t i = 0; i < d->num_levels; i++)
            defined += d->def[i] == s->leaf->max_def;
    } else {
        defined = d->num_levels;
    }
    size_t starts = d->num_levels;
    if (d->rep) {
        starts = 0;
        for (size_t i = 0; i < d->num_levels; i++)
            starts += d->rep[i] == 0;
    }
    if (defined != d->num_values || (int64_t)starts != nrows ||
        (d->num_levels && d->rep && d->rep[0] != 0))
        return err_set(err, SL_PARQUET_CORRUPT,
                       "checkpoint %s: column %s: %zu level entries, %zu values and %zu "
                       "rows do not agree with the row group's %lld rows",
                       cr->key, s->leaf->path, d->num_levels, d->num_values, starts,
                       (long long)nrows);
    return SL_OK;
}

static void slots_release(cols_reader *cr)
{
    for (size_t i = 0; i < cr->nslots; i++) {
        if (cr->slots[i].loaded)
            pq_column_data_free(&cr->slots[i].d);
        memset(&cr->slots[i].d, 0, sizeof cr->slots[i].d);
        cr->slots[i].loaded = 0;
        cr->slots[i].lvl = cr->slots[i].val = 0;
    }
}

/* ---- adds kept as columns -------------------------------------------------- */

/* The add column's decoded row groups stay in memory, and each add row is a
 * record of its row, so its text is written only when someone asks
 * (delta_file_add): most snapshot readers never do. Every SEEK_EVERY-th
 * record (and each row group's first) also keeps where every add leaf's
 * levels and values start; a text walks forward from the nearest such
 * record, which keeps the records small (a position per leaf per add would
 * be more memory than the rest of the snapshot). */
enum { SEEK_EVERY = 16 };

typedef struct add_rec {
    uint32_t rg, row; /* row within the row group */
    uint32_t seek;    /* seek records: index into seek[] (in records) */
} add_rec;

struct delta_cp_batch {
    int refs;
    cols_reader cr;       /* the projected tree; cr.pr stays open (it owns the leaves) */
    char *key;            /* for messages */
    size_t add_act;       /* index of the add column in cr.acts */
    size_t kbegin, kn;    /* the add column's slots */
    pq_column_data **rgs; /* per row group: cr.nslots columns, NULL when none kept */
    size_t nrgs;
    add_rec *recs;
    size_t nrec, caprec;
    uint32_t *seek; /* per seek record: (lvl, val) per add slot */
    size_t nseek, capseek;
    int rg_used; /* the row group being read has records */
};

static int rec_is_seek(const delta_cp_batch *b, size_t rec)
{
    return rec % SEEK_EVERY == 0 || b->recs[rec].rg != b->recs[rec - 1].rg;
}

delta_cp_batch *delta_cp_batch_new(pq_reader *pr, const char *key)
{
    delta_cp_batch *b = sl_calloc(1, sizeof *b);
    b->refs = 1;
    b->cr.pr = pr;
    b->key = sl_strdup(key);
    b->cr.key = b->key;
    return b;
}

void delta_cp_batch_ref(delta_cp_batch *b)
{
    b->refs++;
}

size_t delta_cp_batch_rows(const delta_cp_batch *b)
{
    int64_t n = pq_reader_info(b->cr.pr)->num_rows;
    return n > 0 ? (size_t)n : 0;
}

static void cols_reader_clear(cols_reader *cr)
{
    for (size_t i = 0; i < cr->nacts; i++)
        cnode_clear(&cr->acts[i].root);
    free(cr->acts);
    slots_release(cr);
    free(cr->slots);
    buf_free(&cr->out);
}

void delta_cp_batch_unref(void *vb)
{
    delta_cp_batch *b = vb;
    if (!b || --b->refs > 0)
        return;
    for (size_t rg = 0; rg < b->nrgs; rg++) {
        if (!b->rgs[rg])
            continue;
        for (size_t i = 0; i < b->cr.nslots; i++)
            pq_column_data_free(&b->rgs[rg][i]);
        free(b->rgs[rg]);
    }
    free(b->rgs);
    free(b->recs);
    free(b->seek);
    cols_reader_clear(&b->cr);
    pq_reader_close(b->cr.pr);
    free(b->key);
    free(b);
}

static uint32_t batch_record(delta_cp_batch *b, size_t rg, size_t row_in_rg)
{
    if (b->nrec == b->caprec) {
        b->caprec = b->caprec ? b->caprec * 2 : 1024;
        b->recs = sl_realloc(b->recs, b->caprec * sizeof *b->recs);
    }
    size_t rec = b->nrec++;
    b->recs[rec] = (add_rec){.rg = (uint32_t)rg, .row = (uint32_t)row_in_rg};
    if (rec_is_seek(b, rec)) {
        size_t w = 2 * b->kn;
        if (b->nseek == b->capseek) {
            b->capseek = b->capseek ? b->capseek * 2 : 64;
            b->seek = sl_realloc(b->seek, b->capseek * (w ? w : 1) * sizeof *b->seek);
        }
        uint32_t *p = b->seek + b->nseek * w;
        for (size_t i = 0; i < b->kn; i++) {
            const slot *s = &b->cr.slots[b->kbegin + i];
            p[2 * i] = (uint32_t)s->lvl;
            p[2 * i + 1] = (uint32_t)s->val;
        }
        b->recs[rec].seek = (uint32_t)b->nseek++;
    }
    b->rg_used = 1;
    return (uint32_t)rec;
}

/* After a row group: its columns move into the batch when records point
 * into them, else they are freed. */
static void batch_rg_keep(delta_cp_batch *b, size_t rg, size_t nrgs)
{
    if (!b->rgs) {
        b->nrgs = nrgs;
        b->rgs = sl_calloc(nrgs ? nrgs : 1, sizeof *b->rgs);
    }
    if (!b->rg_used)
        return;
    b->rg_used = 0;
    b->rgs[rg] = sl_calloc(b->cr.nslots, sizeof **b->rgs);
    for (size_t i = 0; i < b->cr.nslots; i++) {
        slot *s = &b->cr.slots[i];
        if (!s->loaded)
            continue;
        b->rgs[rg][i] = s->d;
        memset(&s->d, 0, sizeof s->d);
        s->loaded = 0;
    }
}

/* An add without the stats string but with stats_parsed.numRecords: the row
 * count goes into the JSON form every reader of the add's text understands
 * (b NULL: only into cf). */
static void stats_from_parsed(cols_reader *cr, sl_buf *b)
{
    if (cr->stats_seen || cr->parsed_num < 0)
        return;
    if (b) {
        b->len--; /* the closing brace */
        buf_appendf(b, "%s\"stats\":\"{\\\"numRecords\\\":%lld}\"}",
                    b->len > 1 ? "," : "", (long long)cr->parsed_num);
    }
    cr->cf.num_records = cr->parsed_num;
}

static void action_begin(cols_reader *cr)
{
    cr->stats_seen = 0;
    cr->parsed_num = -1;
    memset(&cr->cf, 0, sizeof cr->cf);
    cr->cf.deletion_timestamp = -1;
    cr->cf.num_records = -1;
}

sl_code delta_cp_batch_add_text(const delta_cp_batch *b, uint32_t rec, sl_buf *out,
                                sl_err *err)
{
    if (rec >= b->nrec)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "checkpoint %s: no add record %u",
                       b->key, (unsigned)rec);
    size_t from = rec;
    while (!rec_is_seek(b, from))
        from--;
    const add_rec *want = &b->recs[rec], *at = &b->recs[from];
    const uint32_t *p = b->seek + (size_t)at->seek * 2 * b->kn;
    const pq_column_data *cols = b->rgs[want->rg];
    /* A private copy of the walking state: readers on several threads may
     * ask for texts of one snapshot at once. */
    cols_reader cr = {.pr = b->cr.pr, .key = b->key, .nslots = b->cr.nslots};
    cr.slots = sl_calloc(cr.nslots ? cr.nslots : 1, sizeof *cr.slots);
    for (size_t i = 0; i < b->kn; i++) {
        slot *s = &cr.slots[b->kbegin + i];
        s->leaf = b->cr.slots[b->kbegin + i].leaf;
        s->d = cols[b->kbegin + i];
        s->lvl = p[2 * i];
        s->val = p[2 * i + 1];
    }
    size_t row0 = 1;
    for (size_t rg = 0; rg < want->rg; rg++)
        row0 += (size_t)pq_reader_info(b->cr.pr)->row_groups[rg].num_rows;
    const cnode *root = &b->cr.acts[b->add_act].root;
    sl_code c = SL_OK;
    /* The rows between (null adds included) are walked without writing. */
    for (uint32_t r = at->row; r < want->row && c == SL_OK; r++) {
        cr.row = row0 + r;
        action_begin(&cr);
        if (def_at(&cr.slots[root->leaf_begin]) < root->def)
            skip_subtree(&cr, root);
        else
            c = put_struct(&cr, root, NULL, err);
    }
    if (c == SL_OK) {
        cr.row = row0 + want->row;
        action_begin(&cr);
        buf_reset(out);
        c = put_struct(&cr, root, out, err);
    }
    if (c == SL_OK)
        stats_from_parsed(&cr, out);
    free(cr.slots);
    return c;
}

/* ---- row groups ------------------------------------------------------------ */

static sl_code row_group_read(cols_reader *cr, delta_cp_batch *batch, size_t rg,
                              int64_t nrows, delta_cp_action_fn fn, void *ctx,
                              sl_err *err)
{
    sl_code c = SL_OK;
    for (size_t i = 0; i < cr->nslots && c == SL_OK; i++) {
        slot *s = &cr->slots[i];
        c = pq_read_column(cr->pr, rg, (size_t)s->leaf->leaf_index, &s->d, err);
        if (c == SL_OK) {
            s->loaded = 1;
            c = slot_check(cr, s, nrows, err);
        }
    }
    for (int64_t r = 0; r < nrows && c == SL_OK; r++) {
        cr->row++;
        for (size_t a = 0; a < cr->nacts && c == SL_OK; a++) {
            const cnode *root = &cr->acts[a].root;
            if (def_at(&cr->slots[root->leaf_begin]) < root->def) {
                skip_subtree(cr, root);
                continue;
            }
            action_begin(cr);
            if (batch && a == batch->add_act) {
                uint32_t rec = batch_record(batch, rg, (size_t)r);
                c = put_struct(cr, root, NULL, err);
                if (c != SL_OK)
                    break;
                stats_from_parsed(cr, NULL);
                cr->cf.batch = batch;
                cr->cf.batch_rec = rec;
                c = fn(ctx, cr->acts[a].name, NULL, 0, &cr->cf, cr->row, err);
                continue;
            }
            buf_reset(&cr->out);
            c = put_struct(cr, root, &cr->out, err);
            if (c != SL_OK)
                break;
            stats_from_parsed(cr, &cr->out);
            c = fn(ctx, cr->acts[a].name, cr->out.data, cr->out.len,
                   cr->acts[a].is_file ? &cr->cf : NULL, cr->row, err);
        }
        /* Every leaf now starts the next row. */
        for (size_t i = 0; i < cr->nslots && c == SL_OK; i++) {
            slot *s = &cr->slots[i];
            if (s->lvl < s->d.num_levels && rep_at(s) != 0)
                c = corrupt_col(cr, s, "entries out of step with the row", err);
        }
    }
    if (batch)
        batch_rg_keep(batch, rg, pq_reader_info(cr->pr)->num_row_groups);
    slots_release(cr);
    return c;
}

sl_code delta_checkpoint_cols_read(pq_reader *pr, const char *key, delta_cp_batch *batch,
                                   delta_cp_action_fn fn, void *ctx, int *other_shape,
                                   sl_err *err)
{
    *other_shape = 0;
    const pq_file_info *info = pq_reader_info(pr);
    cols_reader local = {.pr = pr, .key = key};
    cols_reader *cr = batch ? &batch->cr : &local;
    cr->acts = sl_calloc(info->root->num_children ? info->root->num_children : 1,
                         sizeof *cr->acts);
    int ok = 1;
    for (size_t i = 0; i < info->root->num_children && ok; i++) {
        const pq_node *c = info->root->children[i];
        if (!delta_cp_action_wanted(c->name))
            continue;
        ok = build_action(cr, c, &cr->acts[cr->nacts]);
        cr->nacts++;
    }
    if (batch) {
        batch->add_act = cr->nacts; /* none until found */
        for (size_t a = 0; a < cr->nacts; a++) {
            if (strcmp(cr->acts[a].name, "add") != 0)
                continue;
            batch->add_act = a;
            batch->kbegin = cr->acts[a].root.leaf_begin;
            batch->kn = cr->acts[a].root.leaf_end - batch->kbegin;
        }
    }
    sl_code c = SL_OK;
    if (!ok) {
        *other_shape = 1;
    } else {
        for (size_t rg = 0; rg < info->num_row_groups && c == SL_OK; rg++)
            c = row_group_read(cr, batch && batch->add_act < cr->nacts ? batch : NULL, rg,
                               info->row_groups[rg].num_rows, fn, ctx, err);
    }
    if (!batch)
        cols_reader_clear(cr);
    else
        slots_release(cr);
    return c;
}

/* ---- adds copied into a checkpoint writer ---------------------------------- */

/* A checkpoint of a snapshot read from a checkpoint writes the adds it read:
 * instead of writing each add's JSON text and parsing it again into the
 * writer's leaves, the kept columns' levels and values go to the writer's
 * add leaves directly. The writer's add fields are matched to the batch's
 * by name, once per batch; a batch whose shapes or types do not match goes
 * the text way, and so does a row that holds something the text way would
 * write differently or refuse (a duplicate map key, a NUL in a string, a
 * value out of range, corrupt levels): the text way writes it, or reports
 * the error it always did. The output is the text way's, entry for entry. */

enum { WT_PLAIN, WT_STATS, WT_DATA_CHANGE };

struct wgroup;

/* One field of a writer group and the writer leaves under it. */
typedef struct wtarget {
    const pq_wnode *wn;
    size_t leaf0, nleaves;
    int special;        /* WT_STATS, WT_DATA_CHANGE: written after the walk */
    struct wgroup *sub; /* a struct: its own match */
} wtarget;

/* A writer group matched to a batch struct. */
typedef struct wgroup {
    wtarget *w;
    size_t nw;
    int *to_w; /* per batch kid: index into w, -1 when the writer lacks it */
} wgroup;

typedef struct addw_batch {
    const delta_cp_batch *b;
    int ok; /* the batch's add columns match the writer's */
    wgroup plan;
    cols_reader cr; /* private walking state over the add slots */
    int valid;      /* the slots stand at the start of row `row` of row group `rg` */
    uint32_t rg, row;
    size_t row0; /* 1-based file row of the row group's first row (messages) */
} addw_batch;

/* One level entry of the row being copied. */
typedef struct staged {
    uint32_t leaf;
    int16_t def, rep;
    int has; /* a value (then def must be the leaf's maximum) */
    pq_value v;
} staged;

struct delta_cp_addw {
    pq_nwriter *w;
    const pq_wnode *add; /* the writer's add group, NULL when it has none */
    size_t add_leaf0, add_nleaves;
    /* The row's entries in the order they were made (each leaf's in its
     * order): all checked before any is put, so that a row the writer
     * refuses can still go the text way. */
    staged *st;
    size_t nst, capst;
    uint8_t *max_def, *max_rep; /* per writer leaf */
    int add_def;                /* definition level of a present add */
    addw_batch *bs;
    size_t nbs;
    sl_buf scratch;     /* texts of fields the writer lacks (checked, dropped) */
    char stats_tmp[48]; /* stats written from stats_parsed.numRecords */
    pq_span *keys;      /* a map's keys so far (duplicates go the text way) */
    size_t nkeys, capkeys;
    int has_stats;
    pq_span stats;
};

static size_t wn_leaves(const pq_wnode *n)
{
    if (n->kind == PQ_WNODE_LEAF)
        return 1;
    size_t k = 0;
    for (size_t i = 0; i < n->num_children; i++)
        k += wn_leaves(n->children[i]);
    return k;
}

delta_cp_addw *delta_cp_addw_new(pq_nwriter *w)
{
    delta_cp_addw *a = sl_calloc(1, sizeof *a);
    a->w = w;
    const pq_wnode *root = pq_nwriter_root(w);
    size_t leaf0 = 0;
    for (size_t i = 0; i < root->num_children; i++) {
        const pq_wnode *c = root->children[i];
        if (strcmp(c->name, "add") == 0 && c->kind == PQ_WNODE_GROUP) {
            a->add = c;
            a->add_leaf0 = leaf0;
            a->add_nleaves = wn_leaves(c);
            a->add_def = c->repetition != PQ_REP_REQUIRED;
            break;
        }
        leaf0 += wn_leaves(c);
    }
    size_t n = pq_nwriter_num_leaves(w);
    a->max_def = sl_calloc(n ? n : 1, 1);
    a->max_rep = sl_calloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++) {
        a->max_def[i] = (uint8_t)pq_nwriter_leaf(w, i)->max_def;
        a->max_rep[i] = (uint8_t)pq_nwriter_leaf(w, i)->max_rep;
    }
    return a;
}

static void wgroup_clear(wgroup *g)
{
    for (size_t i = 0; i < g->nw; i++) {
        if (g->w[i].sub) {
            wgroup_clear(g->w[i].sub);
            free(g->w[i].sub);
        }
    }
    free(g->w);
    free(g->to_w);
    memset(g, 0, sizeof *g);
}

void delta_cp_addw_free(delta_cp_addw *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nbs; i++) {
        wgroup_clear(&a->bs[i].plan);
        free(a->bs[i].cr.slots);
    }
    free(a->bs);
    free(a->st);
    free(a->max_def);
    free(a->max_rep);
    free(a->keys);
    buf_free(&a->scratch);
    free(a);
}

/* ---- matching ---- */

/* Whether a batch leaf's values become the writer leaf's as the text way
 * would turn them (ranges are checked per value). */
static int leaf_fits(const pq_node *pn, const pq_wnode *wn)
{
    if (wn->kind != PQ_WNODE_LEAF)
        return 0;
    switch (pq_type_base(wn->type)) {
    case PQ_TYPE_STRING:
        return pn->type == PQ_PHYS_BYTE_ARRAY;
    case PQ_TYPE_INT64:
    case PQ_TYPE_INT32:
        return pn->type == PQ_PHYS_INT32 || pn->type == PQ_PHYS_INT64;
    case PQ_TYPE_BOOLEAN:
        return pn->type == PQ_PHYS_BOOLEAN;
    default:
        return 0;
    }
}

static int member_is(const cnode *k, const char *name)
{
    size_t n = strlen(name);
    return k->member && k->member_len == n + 3 && memcmp(k->member + 1, name, n) == 0;
}

static int match_group(const cols_reader *cr, const cnode *src, const pq_wnode *wg,
                       size_t leaf0, int top, wgroup *out);

static int match_field(const cols_reader *cr, const cnode *k, wtarget *t)
{
    const pq_wnode *wn = t->wn;
    switch (wn->kind) {
    case PQ_WNODE_LEAF:
        return k->kind == CN_LEAF && leaf_fits(cr->slots[k->slot].leaf, wn);
    case PQ_WNODE_MAP: {
        const pq_wnode *kv = wn->children[0];
        return k->kind == CN_MAP &&
               pq_type_base(kv->children[0]->type) == PQ_TYPE_STRING &&
               cr->slots[k->kids[0].slot].leaf->type == PQ_PHYS_BYTE_ARRAY &&
               leaf_fits(cr->slots[k->kids[1].slot].leaf, kv->children[1]);
    }
    case PQ_WNODE_GROUP:
        if (k->kind != CN_STRUCT || k->role == ROLE_PARSED_NUM)
            return 0;
        t->sub = sl_calloc(1, sizeof *t->sub);
        return match_group(cr, k, wn, t->leaf0, 0, t->sub);
    default:
        return 0;
    }
}

/* Matches the writer group wg (leaves from leaf0) to the batch struct src;
 * top: the add group itself (stats and dataChange are written after the
 * walk). 0 when they do not match. */
static int match_group(const cols_reader *cr, const cnode *src, const pq_wnode *wg,
                       size_t leaf0, int top, wgroup *out)
{
    if (wg->num_children > 64)
        return 0; /* fields seen in a row are a 64-bit mask */
    out->nw = wg->num_children;
    out->w = sl_calloc(out->nw ? out->nw : 1, sizeof *out->w);
    out->to_w = sl_calloc(src->nkids ? src->nkids : 1, sizeof *out->to_w);
    for (size_t i = 0; i < out->nw; i++) {
        wtarget *t = &out->w[i];
        t->wn = wg->children[i];
        t->leaf0 = leaf0;
        t->nleaves = wn_leaves(t->wn);
        leaf0 += t->nleaves;
        if (top && t->wn->kind == PQ_WNODE_LEAF && strcmp(t->wn->name, "stats") == 0 &&
            pq_type_base(t->wn->type) == PQ_TYPE_STRING)
            t->special = WT_STATS;
        if (top && t->wn->kind == PQ_WNODE_LEAF &&
            strcmp(t->wn->name, "dataChange") == 0 &&
            pq_type_base(t->wn->type) == PQ_TYPE_BOOLEAN)
            t->special = WT_DATA_CHANGE;
    }
    uint64_t taken = 0;
    for (size_t j = 0; j < src->nkids; j++) {
        const cnode *k = &src->kids[j];
        out->to_w[j] = -1;
        if (k->role == ROLE_PARSED_NUM)
            continue;
        size_t i = 0;
        while (i < out->nw && !member_is(k, out->w[i].wn->name))
            i++;
        if (i == out->nw)
            continue; /* the writer lacks it: its text is checked and dropped */
        wtarget *t = &out->w[i];
        if (taken & (1ULL << i))
            return 0; /* two batch fields of one name: the last would win */
        taken |= 1ULL << i;
        if (t->special == WT_DATA_CHANGE)
            continue; /* a checkpoint writes false */
        if (t->special == WT_STATS) {
            if (k->kind != CN_LEAF || k->role != ROLE_STATS)
                return 0;
        } else if (!match_field(cr, k, t)) {
            return 0;
        }
        out->to_w[j] = (int)i;
    }
    return 1;
}

static addw_batch *addw_batch_get(delta_cp_addw *a, const delta_cp_batch *b)
{
    for (size_t i = 0; i < a->nbs; i++)
        if (a->bs[i].b == b)
            return &a->bs[i];
    a->bs = sl_realloc(a->bs, (a->nbs + 1) * sizeof *a->bs);
    addw_batch *ab = &a->bs[a->nbs++];
    memset(ab, 0, sizeof *ab);
    ab->b = b;
    if (!a->add || b->add_act >= b->cr.nacts || b->kn == 0)
        return ab;
    ab->cr = (cols_reader){.pr = b->cr.pr, .key = b->key, .nslots = b->cr.nslots};
    ab->cr.slots = sl_calloc(b->cr.nslots ? b->cr.nslots : 1, sizeof *ab->cr.slots);
    for (size_t i = 0; i < b->kn; i++)
        ab->cr.slots[b->kbegin + i].leaf = b->cr.slots[b->kbegin + i].leaf;
    ab->ok = match_group(&ab->cr, &b->cr.acts[b->add_act].root, a->add, a->add_leaf0, 1,
                         &ab->plan);
    return ab;
}

/* ---- the walk ---- */

/* The unsigned annotations put_value honours. */
static int leaf_unsigned32(const pq_node *leaf)
{
    return leaf->converted == PQ_CONV_UINT_32 || leaf->converted == PQ_CONV_UINT_16 ||
           leaf->converted == PQ_CONV_UINT_8 ||
           (leaf->logical.kind == PQ_LOGICAL_INTEGER && !leaf->logical.int_signed);
}

/* Whether n bytes hold a NUL; strings here are short (paths, stats), where
 * eight bytes at a time beat a call to memchr. */
static inline int has_nul(const uint8_t *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if ((x - ones) & ~x & high)
            return 1;
    }
    for (; i < n; i++)
        if (!p[i])
            return 1;
    return 0;
}

/* The value at the slot as the writer leaf's, consumed (lvl too). 0 when
 * the text way must decide: a missing value, a NUL in a string (the text
 * way refuses \u0000), an integer out of the leaf's range. */
static int take_value(slot *s, const pq_wnode *wn, pq_value *out)
{
    if (s->val >= s->d.num_values)
        return 0;
    size_t i = s->val++;
    s->lvl++;
    const pq_node *leaf = s->leaf;
    switch (pq_type_base(wn->type)) {
    case PQ_TYPE_STRING: {
        const pq_span *sp = &((const pq_span *)s->d.values)[i];
        if (has_nul(sp->ptr, sp->len))
            return 0;
        *out = pq_val_strn((const char *)sp->ptr, sp->len);
        return 1;
    }
    case PQ_TYPE_BOOLEAN:
        *out = pq_val_bool(((const uint8_t *)s->d.values)[i] != 0);
        return 1;
    default: {
        int64_t v;
        if (leaf->type == PQ_PHYS_INT64)
            v = ((const int64_t *)s->d.values)[i];
        else if (leaf_unsigned32(leaf))
            v = (int64_t)(uint32_t)((const int32_t *)s->d.values)[i];
        else
            v = ((const int32_t *)s->d.values)[i];
        if (pq_type_base(wn->type) == PQ_TYPE_INT64) {
            *out = pq_val_i64(v);
            return 1;
        }
        if (v < INT32_MIN || v > INT32_MAX)
            return 0;
        *out = pq_val_i32((int32_t)v);
        return 1;
    }
    }
}

/* A sentinel for "the text way decides"; never reported. */
static sl_code not_direct(sl_err *err)
{
    return err_set(err, SL_PARQUET_VALUE, "checkpoint: add left to the text way");
}

static void stage(delta_cp_addw *a, size_t leaf, int def, int rep, const pq_value *v)
{
    if (a->nst == a->capst) {
        a->capst = a->capst ? a->capst * 2 : 64;
        a->st = sl_realloc(a->st, a->capst * sizeof *a->st);
    }
    staged *e = &a->st[a->nst++];
    e->leaf = (uint32_t)leaf;
    e->def = (int16_t)def;
    e->rep = (int16_t)rep;
    e->has = v != NULL;
    if (v)
        e->v = *v;
}

/* The staged row to the writer: every entry checked first (a refusal,
 * told in *refused with its message in *why, puts nothing), then put, the
 * leaves outside add given their nulls, the row ended. */
static sl_code write_staged(delta_cp_addw *a, int *refused, sl_err *why, sl_err *err)
{
    pq_nwriter *w = a->w;
    *refused = 1;
    size_t nleaves = pq_nwriter_num_leaves(w);
    for (size_t i = 0; i < a->nst; i++) {
        const staged *e = &a->st[i];
        /* a null below the leaf's definition cannot be refused */
        if (!e->has && e->leaf < nleaves && e->def >= 0 && e->def < a->max_def[e->leaf] &&
            e->rep >= 0 && e->rep <= a->max_rep[e->leaf])
            continue;
        sl_code c =
            pq_nwriter_check(w, e->leaf, e->def, e->rep, e->has ? &e->v : NULL, why);
        if (c != SL_OK)
            return c;
    }
    *refused = 0;
    size_t end = a->add_leaf0 + a->add_nleaves;
    sl_code c = pq_nwriter_put_nulls(w, 0, a->add_leaf0, err);
    for (size_t i = 0; i < a->nst && c == SL_OK; i++) {
        const staged *e = &a->st[i];
        c = pq_nwriter_leaf_put_checked(w, e->leaf, e->def, e->rep, e->has ? &e->v : NULL,
                                        err);
    }
    if (c == SL_OK)
        c = pq_nwriter_put_nulls(w, end, pq_nwriter_num_leaves(w) - end, err);
    return c == SL_OK ? pq_nwriter_end_row(w, err) : c;
}

static void put_nulls(delta_cp_addw *a, const wtarget *t, int def)
{
    for (size_t l = t->leaf0; l < t->leaf0 + t->nleaves; l++)
        stage(a, l, def, 0, NULL);
}

static int key_seen(delta_cp_addw *a, const pq_span *k)
{
    for (size_t i = 0; i < a->nkeys; i++)
        if (a->keys[i].len == k->len && memcmp(a->keys[i].ptr, k->ptr, k->len) == 0)
            return 1;
    if (a->nkeys == a->capkeys) {
        a->capkeys = a->capkeys ? a->capkeys * 2 : 16;
        a->keys = sl_realloc(a->keys, a->capkeys * sizeof *a->keys);
    }
    a->keys[a->nkeys++] = *k;
    return 0;
}

/* A non-null, non-empty map (as put_elements walks it) into the writer's
 * key and value leaves; mdef: the writer map's definition when present. */
static sl_code emit_entries(delta_cp_addw *a, cols_reader *cr, const wtarget *t,
                            const cnode *n, int mdef, sl_err *err)
{
    const pq_wnode *vn = t->wn->children[0]->children[1];
    int vdef = mdef + 1 + (vn->repetition != PQ_REP_REQUIRED);
    slot *ks = &cr->slots[n->kids[0].slot], *vs = &cr->slots[n->kids[1].slot];
    a->nkeys = 0;
    for (size_t e = 0;; e++) {
        for (int k = 0; k < 2; k++) {
            slot *s = k ? vs : ks;
            if (s->lvl >= s->d.num_levels || (e > 0 && rep_at(s) != 1))
                return not_direct(err);
        }
        if (def_at(ks) != ks->leaf->max_def || ks->val >= ks->d.num_values)
            return not_direct(err);
        int rep = e ? 1 : 0;
        pq_value kv, vv;
        if (!take_value(ks, t->wn->children[0]->children[0], &kv) ||
            key_seen(a, &((const pq_span *)ks->d.values)[ks->val - 1]))
            return not_direct(err);
        stage(a, t->leaf0, mdef + 1, rep, &kv);
        if (def_at(vs) == vs->leaf->max_def) {
            if (!take_value(vs, vn, &vv))
                return not_direct(err);
            stage(a, t->leaf0 + 1, vdef, rep, &vv);
        } else {
            vs->lvl++;
            stage(a, t->leaf0 + 1, mdef + 1, rep, NULL);
        }
        if (ks->lvl >= ks->d.num_levels || rep_at(ks) != 1)
            return SL_OK;
    }
}

static sl_code emit_group(delta_cp_addw *a, cols_reader *cr, const wgroup *g,
                          const cnode *n, int wdef, int top, sl_err *err);

/* The non-null batch node k into writer field t of a group present at
 * definition wdef. */
static sl_code emit_field(delta_cp_addw *a, cols_reader *cr, const wtarget *t,
                          const cnode *k, int wdef, sl_err *err)
{
    int def = wdef + (t->wn->repetition != PQ_REP_REQUIRED);
    switch (t->wn->kind) {
    case PQ_WNODE_LEAF: {
        pq_value v;
        if (!take_value(&cr->slots[k->slot], t->wn, &v))
            return not_direct(err);
        stage(a, t->leaf0, def, 0, &v);
        return SL_OK;
    }
    case PQ_WNODE_MAP:
        if (def_at(&cr->slots[k->leaf_begin]) < k->rdef) { /* empty */
            put_nulls(a, t, def);
            skip_subtree(cr, k);
            return SL_OK;
        }
        return emit_entries(a, cr, t, k, def, err);
    default:
        return emit_group(a, cr, t->sub, k, def, 0, err);
    }
}

static sl_code emit_group(delta_cp_addw *a, cols_reader *cr, const wgroup *g,
                          const cnode *n, int wdef, int top, sl_err *err)
{
    uint64_t seen = 0;
    sl_code c = SL_OK;
    for (size_t i = 0; i < n->nkids && c == SL_OK; i++) {
        const cnode *k = &n->kids[i];
        if (k->role == ROLE_PARSED_NUM) {
            c = take_parsed_num(cr, k, err);
            continue;
        }
        if (def_at(&cr->slots[k->leaf_begin]) < k->def) {
            skip_subtree(cr, k);
            continue;
        }
        int ti = g->to_w[i];
        if (ti < 0 && k->kind == CN_LEAF &&
            cr->slots[k->slot].leaf->type != PQ_PHYS_BYTE_ARRAY) {
            /* a number or boolean the writer lacks (dataChange): nothing
             * in it can be refused, it is only consumed */
            slot *s = &cr->slots[k->slot];
            if (s->val >= s->d.num_values)
                return not_direct(err);
            s->val++;
            s->lvl++;
            continue;
        }
        if (ti < 0) {
            /* written as text, which checks it as the text way would */
            buf_reset(&a->scratch);
            c = put_node(cr, k, &a->scratch, err);
            continue;
        }
        const wtarget *t = &g->w[ti];
        if (t->special == WT_STATS) {
            slot *s = &cr->slots[k->slot];
            if (s->val >= s->d.num_values)
                return not_direct(err);
            a->stats = ((const pq_span *)s->d.values)[s->val++];
            s->lvl++;
            if (has_nul(a->stats.ptr, a->stats.len))
                return not_direct(err);
            a->has_stats = 1;
            continue;
        }
        seen |= 1ULL << ti;
        c = emit_field(a, cr, t, k, wdef, err);
    }
    for (size_t i = 0; i < g->nw && c == SL_OK; i++)
        if (!(seen & (1ULL << i)) && !(top && g->w[i].special != WT_PLAIN))
            put_nulls(a, &g->w[i], wdef);
    return c;
}

/* stats and dataChange of the add just walked (as the text way sets them:
 * dataChange false, stats from stats_parsed.numRecords when the string is
 * absent). */
static void emit_specials(delta_cp_addw *a, cols_reader *cr, const wgroup *g, int wdef)
{
    for (size_t i = 0; i < g->nw; i++) {
        const wtarget *t = &g->w[i];
        int def = wdef + (t->wn->repetition != PQ_REP_REQUIRED);
        if (t->special == WT_DATA_CHANGE) {
            pq_value f = pq_val_bool(false);
            stage(a, t->leaf0, def, 0, &f);
        } else if (t->special == WT_STATS) {
            if (!a->has_stats && cr->parsed_num >= 0) {
                int n = snprintf(a->stats_tmp, sizeof a->stats_tmp,
                                 "{\"numRecords\":%lld}", (long long)cr->parsed_num);
                a->stats = (pq_span){(const uint8_t *)a->stats_tmp, (size_t)n};
                a->has_stats = 1;
            }
            pq_value v = pq_val_strn((const char *)a->stats.ptr, a->stats.len);
            stage(a, t->leaf0, a->has_stats ? def : wdef, 0, a->has_stats ? &v : NULL);
        }
    }
}

/* Sets the slots at the start of record rec's row: from where they stand
 * when that is on the way (records in file order, the common case: the
 * snapshot's files are sorted by path, and so is a checkpoint we wrote),
 * else from the nearest seek record. */
static sl_code cursor_to(addw_batch *ab, uint32_t rec, sl_err *err)
{
    const delta_cp_batch *b = ab->b;
    const add_rec *want = &b->recs[rec];
    size_t from = rec;
    while (!rec_is_seek(b, from))
        from--;
    const add_rec *at = &b->recs[from];
    cols_reader *cr = &ab->cr;
    if (!ab->valid || ab->rg != want->rg || ab->row > want->row || ab->row < at->row) {
        const uint32_t *p = b->seek + (size_t)at->seek * 2 * b->kn;
        const pq_column_data *cols = b->rgs[want->rg];
        for (size_t i = 0; i < b->kn; i++) {
            slot *s = &cr->slots[b->kbegin + i];
            s->d = cols[b->kbegin + i];
            s->lvl = p[2 * i];
            s->val = p[2 * i + 1];
        }
        ab->row0 = 1;
        for (size_t rg = 0; rg < want->rg; rg++)
            ab->row0 += (size_t)pq_reader_info(b->cr.pr)->row_groups[rg].num_rows;
        ab->rg = want->rg;
        ab->row = at->row;
        ab->valid = 1;
    }
    const cnode *root = &b->cr.acts[b->add_act].root;
    sl_code c = SL_OK;
    for (; ab->row < want->row && c == SL_OK; ab->row++) {
        cr->row = ab->row0 + ab->row;
        action_begin(cr);
        if (def_at(&cr->slots[root->leaf_begin]) < root->def)
            skip_subtree(cr, root);
        else
            c = put_struct(cr, root, NULL, err);
    }
    return c;
}

sl_code delta_cp_addw_put(delta_cp_addw *a, const delta_cp_batch *b, uint32_t rec,
                          int *done, sl_err *err)
{
    *done = 0;
    addw_batch *ab = addw_batch_get(a, b);
    if (!ab->ok || rec >= b->nrec)
        return SL_OK;
    /* Whatever stops the direct way here is left to the text way, which
     * writes the row or reports what is wrong with it as it always did. */
    sl_err quiet = {0};
    cols_reader *cr = &ab->cr;
    const cnode *root = &b->cr.acts[b->add_act].root;
    a->nst = 0;
    sl_code c = cursor_to(ab, rec, &quiet);
    if (c == SL_OK) {
        cr->row = ab->row0 + ab->row;
        action_begin(cr);
        a->has_stats = 0;
        c = emit_group(a, cr, &ab->plan, root, a->add_def, 1, &quiet);
    }
    if (c == SL_OK)
        emit_specials(a, cr, &ab->plan, a->add_def);
    int refused = 1;
    if (c == SL_OK)
        c = write_staged(a, &refused, &quiet, err);
    if (c != SL_OK) {
        ab->valid = 0;
        return refused ? SL_OK : c;
    }
    ab->row++;
    *done = 1;
    return SL_OK;
}
