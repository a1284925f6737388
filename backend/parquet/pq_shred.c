/* JSON rows to level entries (Dremel striping). A row is shredded into
 * per-leaf entry lists first, checked, and only then handed to the writer,
 * so a refused row leaves the file as it was. */
#include "backend/parquet/pq_shred.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

typedef struct trip {
    int16_t def, rep;
    bool has;
    pq_value v;
} trip;

typedef struct tvec {
    trip *t;
    size_t n, cap;
} tvec;

struct pq_shredder {
    pq_nwriter *w;
    bool strict;
    tvec *leaves;
    size_t nleaves;
};

/* The field path for messages: a chain up the recursion. */
typedef struct where {
    const char *name;
    const struct where *up;
} where;

static void where_text(const where *w, sl_buf *out)
{
    if (!w)
        return;
    where_text(w->up, out);
    if (out->len)
        buf_append_char(out, '.');
    buf_append_str(out, w->name);
}

static sl_code bad(const pq_shredder *s, const where *at, sl_err *err, const char *what)
{
    sl_buf path = {0};
    where_text(at, &path);
    sl_code rc = err_set(err, SL_PARQUET_VALUE, "parquet shred: row %lld: field '%s': %s",
                         (long long)pq_nwriter_num_rows(s->w) + 1,
                         path.len ? path.data : "(row)", what);
    buf_free(&path);
    return rc;
}

pq_shredder *pq_shred_new(pq_nwriter *w, bool strict)
{
    pq_shredder *s = sl_calloc(1, sizeof *s);
    s->w = w;
    s->strict = strict;
    s->nleaves = pq_nwriter_num_leaves(w);
    s->leaves = sl_calloc(s->nleaves, sizeof *s->leaves);
    return s;
}

void pq_shred_free(pq_shredder *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nleaves; i++)
        free(s->leaves[i].t);
    free(s->leaves);
    free(s);
}

static void push(pq_shredder *s, size_t leaf, int def, int rep, const pq_value *v)
{
    tvec *t = &s->leaves[leaf];
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->t = sl_realloc(t->t, t->cap * sizeof *t->t);
    }
    trip *e = &t->t[t->n++];
    e->def = (int16_t)def;
    e->rep = (int16_t)rep;
    e->has = v != NULL;
    if (v)
        e->v = *v;
}

/* Every leaf under n gets (def, rep) and no value. */
static void nulls(pq_shredder *s, const pq_wnode *n, int def, int rep, size_t *cur)
{
    if (n->kind == PQ_WNODE_LEAF) {
        push(s, (*cur)++, def, rep, NULL);
        return;
    }
    for (size_t i = 0; i < n->num_children; i++)
        nulls(s, n->children[i], def, rep, cur);
}

static bool special_float(const json_t *v, double *out)
{
    const char *t = json_string_value(v);
    if (!t)
        return false;
    if (strcmp(t, "NaN") == 0)
        *out = NAN;
    else if (strcmp(t, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(t, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return false;
    return true;
}

static sl_code to_value(const pq_shredder *s, const pq_wnode *n, const json_t *v,
                        const where *at, pq_value *out, sl_err *err)
{
    pq_type base = pq_type_base(n->type);
    switch (base) {
    case PQ_TYPE_BOOLEAN:
        if (!json_is_boolean(v))
            return bad(s, at, err, "expected true or false");
        *out = pq_val_bool(json_is_true(v));
        return SL_OK;
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64: {
        if (!json_is_integer(v))
            return bad(s, at, err, "expected an integer");
        json_int_t i = json_integer_value(v);
        if (base == PQ_TYPE_INT64) {
            *out = pq_val_i64((int64_t)i);
            return SL_OK;
        }
        if (i < INT32_MIN || i > INT32_MAX)
            return bad(s, at, err, "integer out of the 32-bit range");
        *out = pq_val_i32((int32_t)i);
        return SL_OK;
    }
    case PQ_TYPE_FLOAT:
    case PQ_TYPE_DOUBLE: {
        double d;
        if (json_is_number(v))
            d = json_number_value(v);
        else if (!special_float(v, &d))
            return bad(s, at, err, "expected a number");
        *out = base == PQ_TYPE_FLOAT ? pq_val_f32((float)d) : pq_val_f64(d);
        return SL_OK;
    }
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY:
        if (!json_is_string(v))
            return bad(s, at, err, "expected a string");
        *out = pq_val_strn(json_string_value(v), json_string_length(v));
        return SL_OK;
    case PQ_TYPE_DATE:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ: {
        int64_t us;
        if (json_is_integer(v)) {
            json_int_t i = json_integer_value(v);
            if (base == PQ_TYPE_DATE && (i < INT32_MIN || i > INT32_MAX))
                return bad(s, at, err, "date out of range");
            *out = base == PQ_TYPE_DATE ? pq_val_date((int32_t)i) : pq_val_ts_us(i);
            return SL_OK;
        }
        if (!json_is_string(v) ||
            time_parse_iso_us(json_string_value(v), json_string_length(v), &us) != 0)
            return bad(s, at, err,
                       base == PQ_TYPE_DATE ? "expected a date (YYYY-MM-DD or days)"
                                            : "expected a timestamp (ISO 8601 or "
                                              "microseconds)");
        if (base == PQ_TYPE_DATE) {
            int64_t day = 86400LL * 1000000;
            int64_t days = us / day - (us % day < 0);
            *out = pq_val_date((int32_t)days);
        } else {
            *out = pq_val_ts_us(us);
        }
        return SL_OK;
    }
    case PQ_TYPE_DECIMAL: {
        char text[32];
        const char *p;
        size_t len;
        if (json_is_integer(v)) {
            len = (size_t)snprintf(text, sizeof text, "%" PRId64,
                                   (int64_t)json_integer_value(v));
            p = text;
        } else if (json_is_string(v)) {
            p = json_string_value(v);
            len = json_string_length(v);
        } else {
            return bad(s, at, err, "expected a decimal as text or an integer");
        }
        sl_err perr = {0};
        if (pq_decimal_parse(p, len, pq_type_precision(n->type), pq_type_scale(n->type),
                             out, &perr) != SL_OK)
            return bad(s, at, err, perr.msg);
        return SL_OK;
    }
    default:
        break;
    }
    return bad(s, at, err, "unsupported leaf type");
}

static sl_code shred(pq_shredder *s, const pq_wnode *n, const json_t *v, int def, int rep,
                     int nrep, size_t *cur, const where *at, sl_err *err);

/* The members of a group or the entries of a map, at one repetition. */
static sl_code shred_group(pq_shredder *s, const pq_wnode *n, const json_t *v, int def,
                           int rep, int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (!json_is_object(v))
        return bad(s, at, err, "expected an object");
    for (size_t i = 0; i < n->num_children; i++) {
        const pq_wnode *c = n->children[i];
        where here = {c->name, at};
        sl_code rc =
            shred(s, c, json_object_get(v, c->name), def, rep, nrep, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    if (s->strict) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            bool known = false;
            for (size_t i = 0; i < n->num_children && !known; i++)
                known = strcmp(n->children[i]->name, key) == 0;
            if (!known) {
                where here = {key, at};
                return bad(s, &here, err, "not in the schema");
            }
        }
    }
    return SL_OK;
}

static sl_code shred_list(pq_shredder *s, const pq_wnode *n, const json_t *v, int def,
                          int rep, int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (!json_is_array(v))
        return bad(s, at, err, "expected an array");
    const pq_wnode *g = n->children[0], *elem = g->children[0];
    if (json_array_size(v) == 0) {
        nulls(s, g, def, rep, cur);
        return SL_OK;
    }
    size_t start = *cur;
    for (size_t i = 0; i < json_array_size(v); i++) {
        *cur = start;
        where here = {elem->name, at};
        sl_code rc = shred(s, elem, json_array_get(v, i), def + 1, i ? nrep + 1 : rep,
                           nrep + 1, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_code shred_map(pq_shredder *s, const pq_wnode *n, const json_t *v, int def,
                         int rep, int nrep, size_t *cur, const where *at, sl_err *err)
{
    const pq_wnode *g = n->children[0], *key = g->children[0], *val = g->children[1];
    size_t count = json_is_object(v) ? json_object_size(v) : json_array_size(v);
    if (!json_is_object(v) && !json_is_array(v))
        return bad(s, at, err, "expected an object or an array of {key, value}");
    if (count == 0) {
        nulls(s, g, def, rep, cur);
        return SL_OK;
    }
    size_t start = *cur;
    if (json_is_array(v)) {
        /* entries as {"key","value"}: the key_value group itself */
        for (size_t i = 0; i < count; i++) {
            *cur = start;
            where here = {g->name, at};
            sl_code rc = shred_group(s, g, json_array_get(v, i), def + 1,
                                     i ? nrep + 1 : rep, nrep + 1, cur, &here, err);
            if (rc != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    pq_type kt = pq_type_base(key->type);
    if (kt != PQ_TYPE_STRING && kt != PQ_TYPE_BINARY)
        return bad(s, at, err,
                   "a map with non-string keys must be an array of {key, value}");
    size_t i = 0;
    const char *k;
    json_t *item;
    json_object_foreach((json_t *)v, k, item)
    {
        *cur = start;
        int r = i++ ? nrep + 1 : rep;
        pq_value kv = pq_val_strn(k, strlen(k));
        push(s, (*cur)++, def + 1, r, &kv); /* the key is REQUIRED: def stays */
        where here = {k, at};
        sl_code rc = shred(s, val, item, def + 1, r, nrep + 1, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_code shred(pq_shredder *s, const pq_wnode *n, const json_t *v, int def, int rep,
                     int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (!v || json_is_null(v)) {
        if (n->repetition == PQ_REP_REQUIRED)
            return bad(s, at, err, "required but missing or null");
        nulls(s, n, def, rep, cur);
        return SL_OK;
    }
    if (n->repetition == PQ_REP_OPTIONAL)
        def++;
    switch (n->kind) {
    case PQ_WNODE_LEAF: {
        pq_value pv;
        sl_code rc = to_value(s, n, v, at, &pv, err);
        if (rc != SL_OK)
            return rc;
        push(s, (*cur)++, def, rep, &pv);
        return SL_OK;
    }
    case PQ_WNODE_GROUP:
        return shred_group(s, n, v, def, rep, nrep, cur, at, err);
    case PQ_WNODE_LIST:
        return shred_list(s, n, v, def, rep, nrep, cur, at, err);
    case PQ_WNODE_MAP:
        return shred_map(s, n, v, def, rep, nrep, cur, at, err);
    }
    return bad(s, at, err, "unknown schema node");
}

sl_code pq_shred_row(pq_shredder *s, const json_t *row, sl_err *err)
{
    for (size_t i = 0; i < s->nleaves; i++)
        s->leaves[i].n = 0;
    size_t cur = 0;
    const pq_wnode *root = pq_nwriter_root(s->w);
    sl_code rc = json_is_object(row) ? shred_group(s, root, row, 0, 0, 0, &cur, NULL, err)
                                     : bad(s, NULL, err, "a row must be a JSON object");
    if (rc != SL_OK)
        return rc;
    for (size_t i = 0; i < s->nleaves; i++) {
        const tvec *t = &s->leaves[i];
        for (size_t j = 0; j < t->n; j++) {
            const trip *e = &t->t[j];
            rc = pq_nwriter_check(s->w, i, e->def, e->rep, e->has ? &e->v : NULL, err);
            if (rc != SL_OK)
                return rc;
        }
    }
    for (size_t i = 0; i < s->nleaves; i++) {
        const tvec *t = &s->leaves[i];
        for (size_t j = 0; j < t->n; j++) {
            const trip *e = &t->t[j];
            rc = pq_nwriter_leaf_put(s->w, i, e->def, e->rep, e->has ? &e->v : NULL, err);
            if (rc != SL_OK)
                return rc;
        }
    }
    return pq_nwriter_end_row(s->w, err);
}
