/* JSON rows to level entries (Dremel striping). A row, a jansson tree or
 * JSON text, is first put on a flat tape of nodes (reused from row to row:
 * text never becomes a tree, and nothing is allocated per row once the
 * buffers have grown), then shredded into per-leaf entry lists, checked,
 * and only then handed to the writer, so a refused row leaves the file as
 * it was. */
#include "backend/parquet/pq_shred.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
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
    int max_def, max_rep; /* the leaf's */
} tvec;

/* ---- the tape ---------------------------------------------------------------- */

typedef enum tkind { T_NULL, T_FALSE, T_TRUE, T_INT, T_REAL, T_STR, T_OBJ, T_ARR } tkind;

/* One JSON value. Node 0 is never used: index 0 means "none" (a missing
 * member, the end of a sibling chain). Strings point into the row's text,
 * the jansson tree, or (unescaped copies) the shredder's string buffer. */
typedef struct tnode {
    uint8_t kind;
    uint8_t key_esc, str_esc; /* offsets into sbuf until the tape is complete */
    uint32_t next;            /* next member or element */
    uint32_t first, count;    /* containers */
    const char *key;          /* object members */
    size_t key_len, key_off;
    union {
        int64_t i;
        double d;
        struct {
            const char *p;
            size_t n, off;
        } s;
    } u;
} tnode;

struct pq_shredder {
    pq_nwriter *w;
    bool strict;
    tvec *leaves;
    size_t nleaves;
    tnode *tape;
    size_t ntape, captape;
    sl_buf sbuf;
    /* Objects from text may repeat a key (the last one wins, as jansson
     * reads it); trees from jansson never do. */
    bool dup_keys;
};

#define NAME_CSTR SIZE_MAX

/* The field path for messages: a chain up the recursion. */
typedef struct where {
    const char *name;
    size_t len; /* NAME_CSTR: a C string (its strlen is only needed for a message) */
    const struct where *up;
} where;

static void where_text(const where *w, sl_buf *out)
{
    if (!w)
        return;
    where_text(w->up, out);
    if (out->len)
        buf_append_char(out, '.');
    if (w->len == NAME_CSTR)
        buf_append_str(out, w->name);
    else
        buf_append(out, w->name, w->len);
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
    for (size_t i = 0; i < s->nleaves; i++) {
        s->leaves[i].max_def = pq_nwriter_leaf(w, i)->max_def;
        s->leaves[i].max_rep = pq_nwriter_leaf(w, i)->max_rep;
    }
    return s;
}

void pq_shred_free(pq_shredder *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nleaves; i++)
        free(s->leaves[i].t);
    free(s->leaves);
    free(s->tape);
    buf_free(&s->sbuf);
    free(s);
}

static void tape_reset(pq_shredder *s)
{
    s->ntape = 1; /* node 0: "none" */
    if (!s->captape) {
        s->captape = 64;
        s->tape = sl_calloc(s->captape, sizeof *s->tape);
    }
    buf_reset(&s->sbuf);
}

static uint32_t tape_node(pq_shredder *s, tkind kind)
{
    if (s->ntape == s->captape) {
        s->captape *= 2;
        s->tape = sl_realloc(s->tape, s->captape * sizeof *s->tape);
    }
    tnode *n = &s->tape[s->ntape];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    return (uint32_t)s->ntape++;
}

/* Appends child to container c (last is the container's last child so
 * far, 0 for none); returns child. */
static uint32_t tape_link(pq_shredder *s, uint32_t c, uint32_t *last, uint32_t child)
{
    if (*last)
        s->tape[*last].next = child;
    else
        s->tape[c].first = child;
    s->tape[c].count++;
    *last = child;
    return child;
}

/* Escaped strings were decoded into sbuf, which may have moved while the
 * tape grew: their pointers are set once it is complete. */
static void tape_fix(pq_shredder *s)
{
    for (size_t i = 1; i < s->ntape; i++) {
        tnode *n = &s->tape[i];
        if (n->key_esc)
            n->key = s->sbuf.data + n->key_off;
        if (n->str_esc)
            n->u.s.p = s->sbuf.data + n->u.s.off;
    }
}

/* -- from a jansson tree -- */

static uint32_t tape_json(pq_shredder *s, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        uint32_t c = tape_node(s, T_OBJ), last = 0;
        const char *k;
        json_t *item;
        json_object_foreach((json_t *)v, k, item)
        {
            uint32_t m = tape_link(s, c, &last, tape_json(s, item));
            s->tape[m].key = k;
            s->tape[m].key_len = strlen(k);
        }
        return c;
    }
    case JSON_ARRAY: {
        uint32_t c = tape_node(s, T_ARR), last = 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            tape_link(s, c, &last, tape_json(s, json_array_get(v, i)));
        return c;
    }
    case JSON_STRING: {
        uint32_t n = tape_node(s, T_STR);
        s->tape[n].u.s.p = json_string_value(v);
        s->tape[n].u.s.n = json_string_length(v);
        return n;
    }
    case JSON_INTEGER: {
        uint32_t n = tape_node(s, T_INT);
        s->tape[n].u.i = (int64_t)json_integer_value(v);
        return n;
    }
    case JSON_REAL: {
        uint32_t n = tape_node(s, T_REAL);
        s->tape[n].u.d = json_real_value(v);
        return n;
    }
    case JSON_TRUE:
        return tape_node(s, T_TRUE);
    case JSON_FALSE:
        return tape_node(s, T_FALSE);
    default:
        return tape_node(s, T_NULL);
    }
}

/* -- from text: what json_loads accepts (objects and arrays at the top,
 * no \u0000, integers in int64 range), without the tree -- */

enum { MAX_DEPTH = 512 };

typedef struct tparse {
    pq_shredder *s;
    const char *p, *end, *start;
    const char *msg; /* first error */
} tparse;

static void ws(tparse *tp)
{
    while (tp->p < tp->end &&
           (*tp->p == ' ' || *tp->p == '\t' || *tp->p == '\n' || *tp->p == '\r'))
        tp->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* cp as UTF-8 at o; returns the byte after it. */
static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The escape at p (after the backslash), decoded at *o (advanced); returns
 * the byte after it, or NULL. A decoded escape is never longer than the
 * escape itself. */
static const char *unescape(const char *p, const char *end, char **o)
{
    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
    case '\\':
    case '/':
        *(*o)++ = *p;
        return p + 1;
    case 'b':
        *(*o)++ = '\b';
        return p + 1;
    case 'f':
        *(*o)++ = '\f';
        return p + 1;
    case 'n':
        *(*o)++ = '\n';
        return p + 1;
    case 'r':
        *(*o)++ = '\r';
        return p + 1;
    case 't':
        *(*o)++ = '\t';
        return p + 1;
    case 'u':
        break;
    default:
        return NULL;
    }
    unsigned cp, lo;
    if (end - p < 5 || hex4(p + 1, &cp) != 0)
        return NULL;
    p += 5;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return NULL;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
        return NULL; /* a lone low surrogate, or a NUL json_loads refuses */
    }
    *o = put_utf8(*o, cp);
    return p;
}

/* A string literal at tp->p ('"'): *ptr and *len point into the text when
 * it has no escapes, else *esc is set and *off is its copy's offset in
 * sbuf. */
static int parse_str(tparse *tp, const char **ptr, size_t *len, size_t *off, uint8_t *esc)
{
    const char *p = ++tp->p, *end = tp->end;
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    if (p < end && *p == '"') {
        *esc = 0;
        *ptr = tp->p;
        *len = (size_t)(p - tp->p);
        tp->p = p + 1;
        return 0;
    }
    /* escapes: the copy is at most as long as the rest of the text, so it
     * is written without a bounds check per byte */
    sl_buf *sb = &tp->s->sbuf;
    *esc = 1;
    *off = sb->len;
    buf_reserve(sb, (size_t)(end - tp->p) + 1);
    char *o = sb->data + sb->len;
    memcpy(o, tp->p, (size_t)(p - tp->p));
    o += p - tp->p;
    while (p < end && *p != '"') {
        if ((unsigned char)*p < 0x20) {
            p = end;
            break;
        }
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p = unescape(p + 1, end, &o);
        if (!p) {
            tp->msg = "invalid escape in a string";
            return -1;
        }
    }
    if (p >= end) {
        tp->msg = "unterminated string or control character in a string";
        return -1;
    }
    *o = '\0';
    *len = (size_t)(o - (sb->data + *off));
    sb->len = (size_t)(o - sb->data) + 1;
    sb->data[sb->len] = '\0';
    tp->p = p + 1;
    return 0;
}

static int parse_num(tparse *tp, uint32_t *out)
{
    const char *p = tp->p, *b = p;
    bool real = false;
    if (p < tp->end && *p == '-')
        p++;
    if (p < tp->end && *p == '0')
        p++;
    else if (p < tp->end && *p >= '1' && *p <= '9')
        while (p < tp->end && *p >= '0' && *p <= '9')
            p++;
    else
        goto invalid;
    if (p < tp->end && *p == '.') {
        real = true;
        if (++p >= tp->end || *p < '0' || *p > '9')
            goto invalid;
        while (p < tp->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < tp->end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < tp->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= tp->end || *p < '0' || *p > '9')
            goto invalid;
        while (p < tp->end && *p >= '0' && *p <= '9')
            p++;
    }
    /* most numbers are integers of up to 18 digits: no strtoll */
    size_t digits = (size_t)(p - b) - (*b == '-');
    if (!real && digits <= 18) {
        int64_t i = 0;
        for (const char *d = b + (*b == '-'); d < p; d++)
            i = i * 10 + (*d - '0');
        *out = tape_node(tp->s, T_INT);
        tp->s->tape[*out].u.i = *b == '-' ? -i : i;
        tp->p = p;
        return 0;
    }
    char tmp[64];
    size_t n = (size_t)(p - b);
    char *num = n < sizeof tmp ? tmp : sl_strndup(b, n);
    if (num == tmp) {
        memcpy(tmp, b, n);
        tmp[n] = '\0';
    }
    errno = 0;
    uint32_t node = tape_node(tp->s, real ? T_REAL : T_INT);
    if (real)
        tp->s->tape[node].u.d = strtod(num, NULL);
    else
        tp->s->tape[node].u.i = strtoll(num, NULL, 10);
    if (num != tmp)
        free(num);
    if (errno == ERANGE && (!real || isinf(tp->s->tape[node].u.d))) {
        tp->msg = real ? "real number overflow" : "integer out of the 64-bit range";
        return -1;
    }
    tp->p = p;
    *out = node;
    return 0;
invalid:
    tp->msg = "invalid number";
    return -1;
}

static int parse_value(tparse *tp, int depth, uint32_t *out);

static int parse_object(tparse *tp, int depth, uint32_t *out)
{
    uint32_t c = tape_node(tp->s, T_OBJ), last = 0;
    tp->p++;
    ws(tp);
    if (tp->p < tp->end && *tp->p == '}') {
        tp->p++;
        *out = c;
        return 0;
    }
    for (;;) {
        const char *k = NULL;
        size_t klen = 0, koff = 0;
        uint8_t kesc;
        uint32_t v;
        ws(tp);
        if (tp->p >= tp->end || *tp->p != '"') {
            tp->msg = "expected a string key";
            return -1;
        }
        if (parse_str(tp, &k, &klen, &koff, &kesc) != 0)
            return -1;
        ws(tp);
        if (tp->p >= tp->end || *tp->p != ':') {
            tp->msg = "expected ':'";
            return -1;
        }
        tp->p++;
        if (parse_value(tp, depth + 1, &v) != 0)
            return -1;
        tnode *m = &tp->s->tape[tape_link(tp->s, c, &last, v)];
        m->key = k;
        m->key_len = klen;
        m->key_off = koff;
        m->key_esc = kesc;
        ws(tp);
        if (tp->p < tp->end && *tp->p == ',') {
            tp->p++;
            continue;
        }
        if (tp->p < tp->end && *tp->p == '}') {
            tp->p++;
            *out = c;
            return 0;
        }
        tp->msg = "expected ',' or '}'";
        return -1;
    }
}

static int parse_array(tparse *tp, int depth, uint32_t *out)
{
    uint32_t c = tape_node(tp->s, T_ARR), last = 0;
    tp->p++;
    ws(tp);
    if (tp->p < tp->end && *tp->p == ']') {
        tp->p++;
        *out = c;
        return 0;
    }
    for (;;) {
        uint32_t v;
        if (parse_value(tp, depth + 1, &v) != 0)
            return -1;
        tape_link(tp->s, c, &last, v);
        ws(tp);
        if (tp->p < tp->end && *tp->p == ',') {
            tp->p++;
            continue;
        }
        if (tp->p < tp->end && *tp->p == ']') {
            tp->p++;
            *out = c;
            return 0;
        }
        tp->msg = "expected ',' or ']'";
        return -1;
    }
}

static int parse_word(tparse *tp, const char *word, tkind kind, uint32_t *out)
{
    size_t n = strlen(word);
    if ((size_t)(tp->end - tp->p) < n || memcmp(tp->p, word, n) != 0) {
        tp->msg = "invalid literal";
        return -1;
    }
    tp->p += n;
    *out = tape_node(tp->s, kind);
    return 0;
}

static int parse_value(tparse *tp, int depth, uint32_t *out)
{
    if (depth > MAX_DEPTH) {
        tp->msg = "nested too deeply";
        return -1;
    }
    ws(tp);
    if (tp->p >= tp->end) {
        tp->msg = "unexpected end of text";
        return -1;
    }
    switch (*tp->p) {
    case '{':
        return parse_object(tp, depth, out);
    case '[':
        return parse_array(tp, depth, out);
    case '"': {
        uint32_t n = tape_node(tp->s, T_STR);
        tnode t = {0};
        if (parse_str(tp, &t.u.s.p, &t.u.s.n, &t.u.s.off, &t.str_esc) != 0)
            return -1;
        tnode *d = &tp->s->tape[n];
        d->u.s = t.u.s;
        d->str_esc = t.str_esc;
        *out = n;
        return 0;
    }
    case 't':
        return parse_word(tp, "true", T_TRUE, out);
    case 'f':
        return parse_word(tp, "false", T_FALSE, out);
    case 'n':
        return parse_word(tp, "null", T_NULL, out);
    default:
        return parse_num(tp, out);
    }
}

/* One value filling text[0..n) (whitespace around it allowed). */
static sl_code parse_text(pq_shredder *s, const char *text, size_t n, const char *what,
                          uint32_t *out, sl_err *err)
{
    tparse tp = {.s = s, .p = text, .end = text + n, .start = text};
    if (parse_value(&tp, 0, out) == 0) {
        ws(&tp);
        if (tp.p != tp.end)
            tp.msg = "text after the value";
    }
    if (!tp.msg)
        return SL_OK;
    return err_set(err, SL_PARQUET_VALUE,
                   "parquet shred: row %lld: %s: invalid JSON at byte %zu: %s",
                   (long long)pq_nwriter_num_rows(s->w) + 1, what,
                   (size_t)(tp.p - tp.start), tp.msg);
}

/* ---- shredding the tape -------------------------------------------------------- */

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

static bool str_is(const tnode *v, const char *lit)
{
    size_t n = strlen(lit);
    return v->u.s.n == n && memcmp(v->u.s.p, lit, n) == 0;
}

static bool special_float(const tnode *v, double *out)
{
    if (v->kind != T_STR)
        return false;
    if (str_is(v, "NaN"))
        *out = NAN;
    else if (str_is(v, "Infinity"))
        *out = INFINITY;
    else if (str_is(v, "-Infinity"))
        *out = -INFINITY;
    else
        return false;
    return true;
}

static sl_code to_value(const pq_shredder *s, const pq_wnode *n, const tnode *v,
                        const where *at, pq_value *out, sl_err *err)
{
    pq_type base = pq_type_base(n->type);
    switch (base) {
    case PQ_TYPE_BOOLEAN:
        if (v->kind != T_TRUE && v->kind != T_FALSE)
            return bad(s, at, err, "expected true or false");
        *out = pq_val_bool(v->kind == T_TRUE);
        return SL_OK;
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64: {
        if (v->kind != T_INT)
            return bad(s, at, err, "expected an integer");
        int64_t i = v->u.i;
        if (base == PQ_TYPE_INT64) {
            *out = pq_val_i64(i);
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
        if (v->kind == T_INT)
            d = (double)v->u.i;
        else if (v->kind == T_REAL)
            d = v->u.d;
        else if (!special_float(v, &d))
            return bad(s, at, err, "expected a number");
        *out = base == PQ_TYPE_FLOAT ? pq_val_f32((float)d) : pq_val_f64(d);
        return SL_OK;
    }
    case PQ_TYPE_STRING:
    case PQ_TYPE_BINARY:
        if (v->kind != T_STR)
            return bad(s, at, err, "expected a string");
        *out = pq_val_strn(v->u.s.p, v->u.s.n);
        return SL_OK;
    case PQ_TYPE_DATE:
    case PQ_TYPE_TIMESTAMP_US:
    case PQ_TYPE_TIMESTAMP_NTZ: {
        int64_t us;
        if (v->kind == T_INT) {
            int64_t i = v->u.i;
            if (base == PQ_TYPE_DATE && (i < INT32_MIN || i > INT32_MAX))
                return bad(s, at, err, "date out of range");
            *out = base == PQ_TYPE_DATE ? pq_val_date((int32_t)i) : pq_val_ts_us(i);
            return SL_OK;
        }
        if (v->kind != T_STR || time_parse_iso_us(v->u.s.p, v->u.s.n, &us) != 0)
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
        if (v->kind == T_INT) {
            len = (size_t)snprintf(text, sizeof text, "%" PRId64, v->u.i);
            p = text;
        } else if (v->kind == T_STR) {
            p = v->u.s.p;
            len = v->u.s.n;
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

/* Keys hold no NUL (jansson keys are C strings, text refuses \u0000):
 * strncmp stops at name's end, no strlen per schema field and row. */
static bool key_eq(const tnode *m, const char *name)
{
    return m->key_len && m->key[0] == name[0] && strncmp(m->key, name, m->key_len) == 0 &&
           name[m->key_len] == '\0';
}

static bool key_same(const tnode *a, const tnode *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* The member of object o named name (the last one with that key), or 0. */
static uint32_t member(const pq_shredder *s, const tnode *o, const char *name)
{
    uint32_t found = 0;
    for (uint32_t m = o->first; m; m = s->tape[m].next)
        if (key_eq(&s->tape[m], name)) {
            found = m;
            if (!s->dup_keys)
                break;
        }
    return found;
}

static sl_code shred(pq_shredder *s, const pq_wnode *n, uint32_t v, int def, int rep,
                     int nrep, size_t *cur, const where *at, sl_err *err);

/* The members of a group or the entries of a map, at one repetition. */
static sl_code shred_group(pq_shredder *s, const pq_wnode *n, uint32_t v, int def,
                           int rep, int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (s->tape[v].kind != T_OBJ)
        return bad(s, at, err, "expected an object");
    for (size_t i = 0; i < n->num_children; i++) {
        const pq_wnode *c = n->children[i];
        where here = {c->name, NAME_CSTR, at};
        sl_code rc =
            shred(s, c, member(s, &s->tape[v], c->name), def, rep, nrep, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    if (s->strict) {
        for (uint32_t m = s->tape[v].first; m; m = s->tape[m].next) {
            const tnode *mn = &s->tape[m];
            bool known = false;
            for (size_t i = 0; i < n->num_children && !known; i++)
                known = key_eq(mn, n->children[i]->name);
            if (!known) {
                where here = {mn->key, mn->key_len, at};
                return bad(s, &here, err, "not in the schema");
            }
        }
    }
    return SL_OK;
}

static sl_code shred_list(pq_shredder *s, const pq_wnode *n, uint32_t v, int def, int rep,
                          int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (s->tape[v].kind != T_ARR)
        return bad(s, at, err, "expected an array");
    const pq_wnode *g = n->children[0], *elem = g->children[0];
    if (s->tape[v].count == 0) {
        nulls(s, g, def, rep, cur);
        return SL_OK;
    }
    size_t start = *cur;
    size_t i = 0;
    for (uint32_t e = s->tape[v].first; e; e = s->tape[e].next, i++) {
        *cur = start;
        where here = {elem->name, NAME_CSTR, at};
        sl_code rc =
            shred(s, elem, e, def + 1, i ? nrep + 1 : rep, nrep + 1, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* Whether member m of an object repeats an earlier key (then the entry was
 * written at the earlier one's place, with the last value, as jansson
 * keeps it). */
static bool repeated_key(const pq_shredder *s, const tnode *o, uint32_t m)
{
    if (!s->dup_keys)
        return false;
    for (uint32_t e = o->first; e != m; e = s->tape[e].next)
        if (key_same(&s->tape[e], &s->tape[m]))
            return true;
    return false;
}

static uint32_t last_with_key(const pq_shredder *s, uint32_t m)
{
    uint32_t found = m;
    if (s->dup_keys)
        for (uint32_t e = s->tape[m].next; e; e = s->tape[e].next)
            if (key_same(&s->tape[e], &s->tape[m]))
                found = e;
    return found;
}

static sl_code shred_map(pq_shredder *s, const pq_wnode *n, uint32_t v, int def, int rep,
                         int nrep, size_t *cur, const where *at, sl_err *err)
{
    const pq_wnode *g = n->children[0], *key = g->children[0], *val = g->children[1];
    const tnode *o = &s->tape[v];
    if (o->kind != T_OBJ && o->kind != T_ARR)
        return bad(s, at, err, "expected an object or an array of {key, value}");
    if (o->count == 0) {
        nulls(s, g, def, rep, cur);
        return SL_OK;
    }
    size_t start = *cur;
    size_t i = 0;
    if (o->kind == T_ARR) {
        /* entries as {"key","value"}: the key_value group itself */
        for (uint32_t e = o->first; e; e = s->tape[e].next, i++) {
            *cur = start;
            where here = {g->name, NAME_CSTR, at};
            sl_code rc = shred_group(s, g, e, def + 1, i ? nrep + 1 : rep, nrep + 1, cur,
                                     &here, err);
            if (rc != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    pq_type kt = pq_type_base(key->type);
    if (kt != PQ_TYPE_STRING && kt != PQ_TYPE_BINARY)
        return bad(s, at, err,
                   "a map with non-string keys must be an array of {key, value}");
    for (uint32_t m = o->first; m; m = s->tape[m].next) {
        if (repeated_key(s, o, m))
            continue;
        const tnode *mn = &s->tape[m];
        *cur = start;
        int r = i++ ? nrep + 1 : rep;
        /* a key stops at an embedded NUL, as a C string key did */
        pq_value kv = pq_val_strn(mn->key, strnlen(mn->key, mn->key_len));
        push(s, (*cur)++, def + 1, r, &kv); /* the key is REQUIRED: def stays */
        where here = {mn->key, mn->key_len, at};
        sl_code rc =
            shred(s, val, last_with_key(s, m), def + 1, r, nrep + 1, cur, &here, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_code shred(pq_shredder *s, const pq_wnode *n, uint32_t v, int def, int rep,
                     int nrep, size_t *cur, const where *at, sl_err *err)
{
    if (!v || s->tape[v].kind == T_NULL) {
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
        sl_code rc = to_value(s, n, &s->tape[v], at, &pv, err);
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

/* Checks every staged entry, before anything is put, to keep the row whole.
 * A null below the leaf's full definition, levels in range, cannot be
 * refused: most entries of a row are those (the actions it does not hold). */
static sl_code check_entries(pq_shredder *s, sl_err *err)
{
    for (size_t i = 0; i < s->nleaves; i++) {
        const tvec *t = &s->leaves[i];
        for (size_t j = 0; j < t->n; j++) {
            const trip *e = &t->t[j];
            if (!e->has && e->def >= 0 && e->def < t->max_def && e->rep >= 0 &&
                e->rep <= t->max_rep)
                continue;
            sl_code rc =
                pq_nwriter_check(s->w, i, e->def, e->rep, e->has ? &e->v : NULL, err);
            if (rc != SL_OK)
                return rc;
        }
    }
    return SL_OK;
}

/* A leaf whose one entry is (def 0, rep 0, null): the row does not hold
 * its action. */
static bool plain_null(const tvec *t)
{
    return t->n == 1 && !t->t[0].has && t->t[0].def == 0 && t->t[0].rep == 0;
}

/* Puts the staged entries (check_entries accepted them) and ends the row;
 * runs of leaves of actions the row does not hold go in one call. */
static sl_code write_entries(pq_shredder *s, sl_err *err)
{
    for (size_t i = 0; i < s->nleaves;) {
        const tvec *t = &s->leaves[i];
        sl_code rc = SL_OK;
        if (plain_null(t)) {
            size_t end = i + 1;
            while (end < s->nleaves && plain_null(&s->leaves[end]))
                end++;
            rc = pq_nwriter_put_nulls(s->w, i, end - i, err);
            i = end;
        } else {
            for (size_t j = 0; j < t->n && rc == SL_OK; j++) {
                const trip *e = &t->t[j];
                rc = pq_nwriter_leaf_put_checked(s->w, i, e->def, e->rep,
                                                 e->has ? &e->v : NULL, err);
            }
            i++;
        }
        if (rc != SL_OK)
            return rc;
    }
    return pq_nwriter_end_row(s->w, err);
}

/* Shreds the tape's root (node `root`), checks every entry, then writes. */
static sl_code shred_tape(pq_shredder *s, uint32_t root, sl_err *err)
{
    for (size_t i = 0; i < s->nleaves; i++)
        s->leaves[i].n = 0;
    size_t cur = 0;
    sl_code rc =
        s->tape[root].kind == T_OBJ
            ? shred_group(s, pq_nwriter_root(s->w), root, 0, 0, 0, &cur, NULL, err)
            : bad(s, NULL, err, "a row must be a JSON object");
    if (rc == SL_OK)
        rc = check_entries(s, err);
    return rc == SL_OK ? write_entries(s, err) : rc;
}

sl_code pq_shred_row(pq_shredder *s, const json_t *row, sl_err *err)
{
    tape_reset(s);
    s->dup_keys = false;
    uint32_t root = row ? tape_json(s, row) : tape_node(s, T_NULL);
    return shred_tape(s, root, err);
}

sl_code pq_shred_row_text(pq_shredder *s, const char *text, size_t n, sl_err *err)
{
    tape_reset(s);
    s->dup_keys = true;
    uint32_t root = 0;
    sl_code rc = parse_text(s, text, n, "the row", &root, err);
    if (rc != SL_OK)
        return rc;
    tape_fix(s);
    return shred_tape(s, root, err);
}

sl_code pq_shred_member_text(pq_shredder *s, const char *name, const char *body, size_t n,
                             const pq_shred_set *set, size_t nset, sl_err *err)
{
    tape_reset(s);
    s->dup_keys = true;
    uint32_t root = tape_node(s, T_OBJ), last = 0, v = 0;
    sl_code rc = parse_text(s, body, n, name, &v, err);
    if (rc != SL_OK)
        return rc;
    tnode *m = &s->tape[tape_link(s, root, &last, v)];
    m->key = name;
    m->key_len = strlen(name);
    if (nset && s->tape[v].kind != T_OBJ)
        return err_set(err, SL_PARQUET_VALUE,
                       "parquet shred: row %lld: field '%s': expected an object",
                       (long long)pq_nwriter_num_rows(s->w) + 1, name);
    /* appended after the body's own members: the last of a key wins */
    uint32_t tail = 0;
    for (uint32_t e = s->tape[v].first; e; e = s->tape[e].next)
        tail = e;
    for (size_t i = 0; i < nset; i++) {
        uint32_t sv = 0;
        rc = parse_text(s, set[i].json, strlen(set[i].json), set[i].name, &sv, err);
        if (rc != SL_OK)
            return rc;
        tnode *sm = &s->tape[tape_link(s, v, &tail, sv)];
        sm->key = set[i].name;
        sm->key_len = strlen(set[i].name);
    }
    tape_fix(s);
    return shred_tape(s, root, err);
}
