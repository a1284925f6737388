#include "backend/pipeline/jsonl.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <strings.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "backend/util/buf.h"
#include "backend/util/text.h"
#include "backend/util/timeutil.h"

/* One cell as parsed: strings are kept as offsets into the row arena
 * because the arena may move while the row is being filled. */
typedef struct cell {
    uint32_t set; /* the line generation that set it (no memset per line) */
    int is_null;
    const char *direct; /* the string inside the line itself, or NULL */
    size_t off, len;    /* else its place in the arena */
    pq_value v;
} cell;

/* A key outside the schema: its name in ukeys, the kind of its value. */
typedef struct unknown_key {
    size_t off, len;
    jsonl_kind kind;
} unknown_key;

/* Flags of one open container inside a captured value. */
enum { CAP_MAP = 1, CAP_ITEMS = 2, CAP_AFTER_KEY = 4 };

struct jsonl_reader {
    pq_schema_col *cols;
    char **names;
    size_t *name_lens;
    unsigned char *any_text; /* per column: any value as its JSON text */
    size_t ncols;
    jsonl_row_fn on_row;
    jsonl_bad_fn on_bad;
    void *ctx;
    yajl_handle h;
    int rescue;      /* drift goes to resc instead of making the line bad */
    int text_values; /* strings cast to other column types */
    /* per line */
    int depth;
    int done; /* the top-level object closed */
    int bad;  /* a type error was found (reason in why) */
    const char *why;
    char why_buf[200];
    long cur;                      /* column of the current key at depth 1, -1 unknown */
    size_t guess;                  /* where the next key is likely to be */
    int fast;                      /* try the plain-line scanner before yajl */
    const char *line_lo, *line_hi; /* the line being parsed */
    cell *cells;
    pq_value *row;
    sl_buf arena;
    sl_buf pending; /* a line cut by a chunk boundary */
    /* Drift of the line: the rescued object text, the unknown keys. */
    sl_buf resc;
    sl_buf ukeys;
    unknown_key *unk;
    size_t nunk, cap_unk;
    size_t key_off, key_len; /* the current unknown key in ukeys */
    /* A nested value being written out as JSON text (into resc or, for an
     * any-as-text column, the arena); cap is NULL when none. */
    sl_buf *cap;
    long cap_col; /* the column whose cell gets the text, or -1 */
    sl_buf stack; /* CAP_* flags per open container */
    uint32_t gen; /* of the line being parsed; cells set by it carry it */
    int64_t line_no;
    sl_code cb_code;
    sl_err *cb_err;
    jsonl_stats st;
};

static void set_bad(jsonl_reader *r, const char *why)
{
    if (!r->bad) {
        r->bad = 1;
        r->why = why;
    }
}

/* A type error of the current column: the reason names it. */
static void set_bad_col(jsonl_reader *r, const char *why)
{
    if (r->bad)
        return;
    snprintf(r->why_buf, sizeof r->why_buf, "column \"%s\": %s", r->names[r->cur], why);
    set_bad(r, r->why_buf);
}

static cell *target(jsonl_reader *r)
{
    if (r->depth != 1 || r->cur < 0)
        return NULL;
    cell *c = &r->cells[r->cur];
    if (c->set == r->gen) {
        set_bad(r, "a key appears twice");
    } else {
        c->set = r->gen;
        c->is_null = 0;
        c->direct = NULL;
    }
    return c;
}

/* ---- capture: values written back out as JSON text ---------------------- */

static void esc_string(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    buf_append_char(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"':
            buf_append(b, "\\\"", 2);
            break;
        case '\\':
            buf_append(b, "\\\\", 2);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            buf_append(b, u, 6);
        }
        }
    }
    buf_append(b, s + run, n - run);
    buf_append_char(b, '"');
}

/* The separator before a value or key inside a captured container. */
static void cap_sep(jsonl_reader *r, int is_key)
{
    if (!r->stack.len)
        return; /* the captured value itself */
    unsigned char *top = (unsigned char *)&r->stack.data[r->stack.len - 1];
    if ((*top & CAP_MAP) && !is_key) {
        *top &= (unsigned char)~CAP_AFTER_KEY;
        return;
    }
    if (*top & CAP_ITEMS)
        buf_append_char(r->cap, ',');
    *top |= CAP_ITEMS;
    if (is_key)
        *top |= CAP_AFTER_KEY;
}

/* Starts "key": in the rescued object (the value follows). */
static void resc_key(jsonl_reader *r, const char *key, size_t len)
{
    buf_append_char(&r->resc, r->resc.len ? ',' : '{');
    esc_string(&r->resc, key, len);
    buf_append_char(&r->resc, ':');
}

static void cap_open(jsonl_reader *r, sl_buf *dst, long col)
{
    r->cap = dst;
    r->cap_col = col;
    buf_reset(&r->stack);
}

/* A captured value is complete: an any-as-text cell learns its length. */
static void cap_close(jsonl_reader *r)
{
    if (r->cap_col >= 0) {
        cell *c = &r->cells[r->cap_col];
        c->len = r->arena.len - c->off;
    }
    r->cap = NULL;
    r->cap_col = -1;
}

static void cap_scalar(jsonl_reader *r, const char *s, size_t n, int is_string)
{
    cap_sep(r, 0);
    if (is_string)
        esc_string(r->cap, s, n);
    else
        buf_append(r->cap, s, n);
}

/* A value of a key outside the schema, at depth 1. */
static void unknown_value(jsonl_reader *r, jsonl_kind kind)
{
    if (r->nunk == r->cap_unk) {
        r->cap_unk = r->cap_unk ? r->cap_unk * 2 : 8;
        r->unk = sl_realloc(r->unk, r->cap_unk * sizeof *r->unk);
    }
    r->unk[r->nunk++] = (unknown_key){r->key_off, r->key_len, kind};
    if (r->rescue)
        resc_key(r, r->ukeys.data + r->key_off, r->key_len);
}

static void unknown_scalar(jsonl_reader *r, jsonl_kind kind, const char *s, size_t n,
                           int is_string)
{
    unknown_value(r, kind);
    if (r->rescue) {
        cap_open(r, &r->resc, -1);
        cap_scalar(r, s, n, is_string);
        cap_close(r);
    }
}

/* A scalar that does not fit column cur: rescued, or the line is bad. */
static void mistyped(jsonl_reader *r, cell *c, const char *why, const char *s, size_t n,
                     int is_string)
{
    if (!r->rescue) {
        set_bad_col(r, why);
        return;
    }
    c->is_null = 1;
    resc_key(r, r->names[r->cur], r->name_lens[r->cur]);
    cap_open(r, &r->resc, -1);
    cap_scalar(r, s, n, is_string);
    cap_close(r);
}

/* Text kept as the cell of an any-as-text column: in the line when it is
 * there, else copied to the arena. */
static void cell_text(jsonl_reader *r, cell *c, const char *s, size_t n)
{
    c->len = n;
    uintptr_t at = (uintptr_t)s;
    if (at >= (uintptr_t)r->line_lo && at + n <= (uintptr_t)r->line_hi) {
        c->direct = s;
    } else {
        c->direct = NULL;
        c->off = r->arena.len;
        buf_append(&r->arena, s, n);
    }
}

/* ---- callbacks ------------------------------------------------------------ */

static int cb_null(void *ctx)
{
    jsonl_reader *r = ctx;
    if (r->cap) {
        cap_scalar(r, "null", 4, 0);
        return 1;
    }
    if (r->depth == 1 && r->cur < 0) {
        unknown_scalar(r, JSONL_NULL, "null", 4, 0);
        return 1;
    }
    cell *c = target(r);
    if (c)
        c->is_null = 1;
    return 1;
}

static int cb_bool(void *ctx, int b)
{
    jsonl_reader *r = ctx;
    const char *text = b ? "true" : "false";
    size_t n = b ? 4 : 5;
    if (r->cap) {
        cap_scalar(r, text, n, 0);
        return 1;
    }
    if (r->depth == 1 && r->cur < 0) {
        unknown_scalar(r, JSONL_BOOL, text, n, 0);
        return 1;
    }
    cell *c = target(r);
    if (!c)
        return 1;
    if (r->any_text[r->cur])
        cell_text(r, c, text, n);
    else if (r->cols[r->cur].type != PQ_TYPE_BOOLEAN)
        mistyped(r, c, "a boolean where the schema wants another type", text, n, 0);
    else
        c->v.b = b != 0;
    return 1;
}

static int parse_i64(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 20)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1)
            return -1;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Clinger's fast path: up to 15 significant digits and a power of ten up to
 * 22 are exact doubles, so one division or product rounds correctly. Other
 * forms (exponents, long mantissas) go to strtod. */
static int fast_double(const char *s, size_t n, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t m = 0;
    int digits = 0, frac = 0, seen_dot = 0;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') {
            if (++digits > 15)
                return 0;
            m = m * 10 + (uint64_t)(ch - '0');
            frac += seen_dot;
        } else if (ch == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            return 0; /* exponent or anything unusual */
        }
    }
    if (!digits)
        return 0;
    double v = (double)m / p10[frac];
    *out = neg ? -v : v;
    return 1;
}

/* A JSON number's text (already checked by the grammar) as a double; NULL
 * or the reason it does not fit. */
static const char *number_double(const char *s, size_t n, double *out)
{
    if (fast_double(s, n, out))
        return NULL;
    char tmp[64];
    if (n >= sizeof tmp)
        return "a number too long to read";
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || (errno == ERANGE && isinf(d)))
        return "a number out of the double range";
    *out = d;
    return NULL;
}

/* A number's text into column cur's type; NULL or the reason it does not
 * fit. */
static const char *number_cell(jsonl_reader *r, const char *s, size_t n, pq_value *v)
{
    int64_t iv;
    pq_type t = r->cols[r->cur].type;
    switch (pq_type_base(t)) {
    case PQ_TYPE_INT32:
        if (parse_i64(s, n, &iv) || iv < INT32_MIN || iv > INT32_MAX)
            return "a number that is not a 32-bit integer";
        v->i32 = (int32_t)iv;
        return NULL;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
        if (parse_i64(s, n, &iv))
            return "a number that is not a 64-bit integer";
        v->i64 = iv;
        return NULL;
    case PQ_TYPE_DOUBLE:
        return number_double(s, n, &v->f64);
    case PQ_TYPE_FLOAT: {
        double d;
        const char *why = number_double(s, n, &d);
        if (why)
            return why;
        if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
            return "a number out of the float range";
        v->f32 = (float)d;
        return NULL;
    }
    case PQ_TYPE_DECIMAL: {
        pq_value dv;
        if (pq_decimal_parse(s, n, pq_type_precision(t), pq_type_scale(t), &dv, NULL) !=
            SL_OK)
            return "a number that does not fit the decimal's precision and scale";
        v->dec = dv.dec;
        return NULL;
    }
    default:
        return "a number where the schema wants another type";
    }
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    jsonl_reader *r = ctx;
    if (r->cap) {
        cap_scalar(r, s, n, 0);
        return 1;
    }
    if (r->depth == 1 && r->cur < 0) {
        int real = memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n);
        unknown_scalar(r, real ? JSONL_REAL : JSONL_INT, s, n, 0);
        return 1;
    }
    cell *c = target(r);
    if (!c)
        return 1;
    if (r->any_text[r->cur]) {
        cell_text(r, c, s, n);
        return 1;
    }
    const char *why = number_cell(r, s, n, &c->v);
    if (why)
        mistyped(r, c, why, s, n, 0);
    return 1;
}

/* The strict JSON number grammar over a whole text (for text values). */
static const char *scan_number(const char *p, const char *end);

/* A string's text into column cur's (non-string) type; NULL or the reason. */
static const char *string_cell(jsonl_reader *r, const char *s, size_t n, pq_value *v)
{
    pq_type t = r->cols[r->cur].type;
    switch (pq_type_base(t)) {
    case PQ_TYPE_TIMESTAMP_US:
        if (time_parse_iso_us(s, n, &v->i64) != 0)
            return "a timestamp that is not ISO 8601";
        return NULL;
    case PQ_TYPE_DATE: {
        int64_t us;
        if (n != 10 || time_parse_iso_us(s, n, &us) != 0)
            return "a date that is not YYYY-MM-DD";
        v->i32 = (int32_t)(us / 86400000000LL - (us % 86400000000LL < 0));
        return NULL;
    }
    case PQ_TYPE_DECIMAL: {
        pq_value dv;
        if (pq_decimal_parse(s, n, pq_type_precision(t), pq_type_scale(t), &dv, NULL) !=
            SL_OK)
            return "a string that is not a decimal of the column's precision and scale";
        v->dec = dv.dec;
        return NULL;
    }
    default:
        break;
    }
    if (!r->text_values)
        return "a string where the schema wants another type";
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        if (n == 4 && strncasecmp(s, "true", 4) == 0)
            v->b = true;
        else if (n == 5 && strncasecmp(s, "false", 5) == 0)
            v->b = false;
        else
            return "a text that is not true or false";
        return NULL;
    case PQ_TYPE_DOUBLE:
    case PQ_TYPE_FLOAT:
        if (n == 3 && memcmp(s, "NaN", 3) == 0) {
            v->f64 = NAN;
        } else if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
            v->f64 = INFINITY;
        } else if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
            v->f64 = -INFINITY;
        } else {
            if (scan_number(s, s + n) != s + n)
                return "a text that is not a number";
            return number_cell(r, s, n, v);
        }
        if (pq_type_base(t) == PQ_TYPE_FLOAT)
            v->f32 = (float)v->f64;
        return NULL;
    case PQ_TYPE_INT32:
    case PQ_TYPE_INT64:
        if (scan_number(s, s + n) != s + n)
            return "a text that is not an integer";
        return number_cell(r, s, n, v);
    default:
        return "a string where the schema wants another type";
    }
}

static int cb_string(void *ctx, const unsigned char *us, size_t n)
{
    jsonl_reader *r = ctx;
    const char *s = (const char *)us;
    if (r->cap) {
        cap_scalar(r, s, n, 1);
        return 1;
    }
    if (r->depth == 1 && r->cur < 0) {
        unknown_scalar(r, JSONL_STRING, s, n, 1);
        return 1;
    }
    cell *c = target(r);
    if (!c)
        return 1;
    if (r->cols[r->cur].type == PQ_TYPE_STRING) {
        /* yajl hands out unescaped strings in place: no copy needed then;
         * escaped ones live in its scratch buffer and are copied. */
        cell_text(r, c, s, n);
        return 1;
    }
    const char *why = string_cell(r, s, n, &c->v);
    if (why)
        mistyped(r, c, why, s, n, 1);
    return 1;
}

/* Keys are short: two overlapping word compares (n >= 4) beat a call to
 * memcmp. */
static inline int same_key(const char *name, const unsigned char *k, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b, c, d;
        memcpy(&a, name, 8);
        memcpy(&b, k, 8);
        memcpy(&c, name + n - 8, 8);
        memcpy(&d, k + n - 8, 8);
        return a == b && c == d;
    }
    if (n >= 4 && n < 8) {
        uint32_t a, b, c, d;
        memcpy(&a, name, 4);
        memcpy(&b, k, 4);
        memcpy(&c, name + n - 4, 4);
        memcpy(&d, k + n - 4, 4);
        return a == b && c == d;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)name[i] != k[i])
                return 0;
        return 1;
    }
    return memcmp(name, k, n) == 0;
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
    jsonl_reader *r = ctx;
    if (r->cap) {
        cap_sep(r, 1);
        esc_string(r->cap, (const char *)k, n);
        buf_append_char(r->cap, ':');
        return 1;
    }
    if (r->depth != 1)
        return 1;
    /* Producers write keys in a steady order: try the column after the
     * previous key first. */
    size_t g = r->guess < r->ncols ? r->guess : 0;
    for (size_t j = 0; j < r->ncols; j++) {
        size_t i = g + j < r->ncols ? g + j : g + j - r->ncols;
        if (r->name_lens[i] == n && same_key(r->names[i], k, n)) {
            r->cur = (long)i;
            r->guess = i + 1;
            return 1;
        }
    }
    r->cur = -1;
    r->st.unknown_keys++;
    r->key_off = r->ukeys.len;
    r->key_len = n;
    buf_append(&r->ukeys, k, n);
    return 1;
}

/* An object or array opens at depth 1: as the value of an unknown key, of
 * an any-as-text column, or where the column wants a scalar. */
static void nested_at_top(jsonl_reader *r, int is_map)
{
    if (r->cur < 0) {
        unknown_value(r, is_map ? JSONL_OBJECT : JSONL_ARRAY);
        if (r->rescue)
            cap_open(r, &r->resc, -1);
        return;
    }
    cell *c = target(r);
    if (r->any_text[r->cur]) {
        c->direct = NULL;
        c->off = r->arena.len;
        cap_open(r, &r->arena, r->cur);
    } else if (r->rescue) {
        c->is_null = 1;
        resc_key(r, r->names[r->cur], r->name_lens[r->cur]);
        cap_open(r, &r->resc, -1);
    } else {
        set_bad_col(r, is_map ? "an object where the schema wants a value"
                              : "an array where the schema wants a value");
    }
}

static void open_container(jsonl_reader *r, int is_map)
{
    if (r->depth == 1)
        nested_at_top(r, is_map);
    else if (r->cap)
        cap_sep(r, 0);
    if (r->cap) {
        buf_append_char(r->cap, is_map ? '{' : '[');
        buf_append_char(&r->stack, (char)(is_map ? CAP_MAP : 0));
    }
    r->depth++;
}

static void close_container(jsonl_reader *r, int is_map)
{
    if (r->cap) {
        buf_append_char(r->cap, is_map ? '}' : ']');
        r->stack.len--;
        if (!r->stack.len)
            cap_close(r);
    }
    if (--r->depth == 0)
        r->done = 1;
}

static int cb_start_map(void *ctx)
{
    jsonl_reader *r = ctx;
    if (r->depth == 0 && r->done)
        set_bad(r, "two values on one line");
    open_container(r, 1);
    return 1;
}

static int cb_end_map(void *ctx)
{
    close_container(ctx, 1);
    return 1;
}

static int cb_start_array(void *ctx)
{
    jsonl_reader *r = ctx;
    if (r->depth == 0)
        set_bad(r, "a line that is not an object");
    open_container(r, 0);
    return 1;
}

static int cb_end_array(void *ctx)
{
    close_container(ctx, 0);
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,      cb_bool,    NULL,       NULL,           cb_number,    cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

static yajl_handle new_handle(jsonl_reader *r)
{
    yajl_handle h = yajl_alloc(&callbacks, NULL, r);
    yajl_config(h, yajl_allow_multiple_values, 1);
    yajl_config(h, yajl_dont_validate_strings, 0);
    return h;
}

jsonl_reader *jsonl_reader_new(const pq_schema_col *cols, size_t ncols,
                               jsonl_row_fn on_row, jsonl_bad_fn on_bad, void *ctx)
{
    jsonl_reader *r = sl_calloc(1, sizeof *r);
    r->ncols = ncols;
    r->cols = sl_calloc(ncols, sizeof *r->cols);
    r->names = sl_calloc(ncols, sizeof *r->names);
    r->any_text = sl_calloc(ncols ? ncols : 1, 1);
    r->name_lens = sl_calloc(ncols, sizeof *r->name_lens);
    for (size_t i = 0; i < ncols; i++) {
        r->cols[i] = cols[i];
        r->names[i] = sl_strdup(cols[i].name);
        r->cols[i].name = r->names[i];
        r->name_lens[i] = strlen(cols[i].name);
    }
    r->cells = sl_calloc(ncols, sizeof *r->cells);
    r->row = sl_calloc(ncols, sizeof *r->row);
    r->on_row = on_row;
    r->on_bad = on_bad;
    r->ctx = ctx;
    r->h = new_handle(r);
    r->fast = 1;
    r->cap_col = -1;
    return r;
}

void jsonl_reader_free(jsonl_reader *r)
{
    if (!r)
        return;
    if (r->h)
        yajl_free(r->h);
    for (size_t i = 0; i < r->ncols; i++)
        free(r->names[i]);
    free(r->names);
    free(r->name_lens);
    free(r->any_text);
    free(r->unk);
    buf_free(&r->resc);
    buf_free(&r->ukeys);
    buf_free(&r->stack);
    free(r->cols);
    free(r->cells);
    free(r->row);
    buf_free(&r->arena);
    buf_free(&r->pending);
    free(r);
}

static void report_bad(jsonl_reader *r, const char *line, size_t len, const char *why)
{
    r->st.malformed++;
    if (r->on_bad)
        r->on_bad(r->ctx, r->line_no, line, len, why);
}

static void reset_line(jsonl_reader *r, const char *line, size_t len)
{
    r->depth = 0;
    r->done = 0;
    r->bad = 0;
    r->why = NULL;
    r->cur = -1;
    buf_reset(&r->arena);
    buf_reset(&r->resc);
    buf_reset(&r->ukeys);
    buf_reset(&r->stack);
    r->nunk = 0;
    r->cap = NULL;
    r->cap_col = -1;
    if (++r->gen == 0) { /* wrapped: old marks could look current */
        memset(r->cells, 0, r->ncols * sizeof *r->cells);
        r->gen = 1;
    }
    r->line_lo = line;
    r->line_hi = line + len;
}

/* ---- the fast path ------------------------------------------------------
 * Most lines are a flat object of plain scalars: no escapes, no nesting.
 * This scanner accepts exactly that subset of JSON (strict number grammar,
 * no raw control bytes, valid UTF-8) and feeds the same callbacks yajl
 * would; on anything else it gives up and yajl parses the line, so yajl
 * stays the judge of every unusual line. */

static inline const char *skip_ws(const char *p, const char *end)
{
    /* Compact JSON has no blanks: one compare decides most calls. */
    if (p < end && (unsigned char)*p > ' ')
        return p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* Bytes a plain string scan must stop at: the quote, a backslash, raw
 * control bytes and the first byte of a multi-byte sequence. */
static const unsigned char string_stop[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 1,
};

/* The high bit of each byte of x (little-endian load) that is a stop byte:
 * a quote, a backslash, below 0x20 or from 0x80. Borrows may flag bytes
 * after a true hit, never before one, so the lowest flag is exact. */
static inline uint64_t swar_stop(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x;
    return t & high;
}

/* A JSON string without escapes; returns the closing quote or NULL. */
static inline __attribute__((always_inline)) const char *
scan_plain_string(const char *p, const char *end, int *ascii)
{
    *ascii = 1;
    for (;;) {
        /* Eight bytes at a time while none of them is a stop byte. */
        while (end - p >= 8) {
            uint64_t x, hit;
            memcpy(&x, p, 8);
            if ((hit = swar_stop(x)) != 0) {
                /* The lowest flagged byte is a true stop byte. */
                p += __builtin_ctzll(hit) / 8;
                break;
            }
            p += 8;
        }
        while (p < end && !string_stop[(unsigned char)*p])
            p++;
        if (p >= end)
            return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x80)
            return NULL; /* an escape or a raw control byte: yajl decides */
        *ascii = 0;
        p++;
    }
}

static const char *scan_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        const char *d = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static int lit(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* 1 when the line was fully handled (good row or a type error noted). */
static int fast_line(jsonl_reader *r, const char *line, size_t len)
{
    const char *p = skip_ws(line, line + len), *end = line + len;
    if (p >= end || *p != '{')
        return 0;
    r->depth = 1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto close;
    }
    for (;;) {
        int ascii;
        if (p >= end || *p != '"')
            return 0;
        const char *k = p + 1, *kq = scan_plain_string(k, end, &ascii);
        if (!kq || !ascii)
            return 0;
        cb_map_key(r, (const unsigned char *)k, (size_t)(kq - k));
        p = skip_ws(kq + 1, end);
        if (p >= end || *p != ':')
            return 0;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return 0;
        if (*p == '"') {
            const char *v = p + 1, *q = scan_plain_string(v, end, &ascii);
            if (!q || (!ascii && !text_utf8_valid((const uint8_t *)v, (size_t)(q - v))))
                return 0;
            cb_string(r, (const unsigned char *)v, (size_t)(q - v));
            p = q + 1;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *q = scan_number(p, end);
            if (!q)
                return 0;
            cb_number(r, p, (size_t)(q - p));
            p = q;
        } else if (lit(p, end, "true", 4)) {
            cb_bool(r, 1);
            p += 4;
        } else if (lit(p, end, "false", 5)) {
            cb_bool(r, 0);
            p += 5;
        } else if (lit(p, end, "null", 4)) {
            cb_null(r);
            p += 4;
        } else {
            return 0; /* nested values and anything else: yajl */
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        return 0;
    }
close:
    if (skip_ws(p, end) != end)
        return 0;
    r->depth = 0;
    r->done = 1;
    return 1;
}

void jsonl_reader_set_fast_path(jsonl_reader *r, int on)
{
    r->fast = on != 0;
}

/* Parses one complete line (without its newline). */
static sl_code parse_line(jsonl_reader *r, const char *line, size_t len, sl_err *err)
{
    r->line_no++;
    size_t a = 0;
    while (a < len && (line[a] == ' ' || line[a] == '\t' || line[a] == '\r'))
        a++;
    if (a == len)
        return SL_OK; /* blank lines carry no row */
    r->st.lines++;
    int64_t unknown_before = r->st.unknown_keys;
    reset_line(r, line, len);
    int slow = 0;
    if (!r->fast || !fast_line(r, line, len)) {
        slow = 1;
        /* Anything the fast path does not vouch for goes through yajl. */
        r->st.unknown_keys = unknown_before;
        reset_line(r, line, len);
        yajl_status s = yajl_parse(r->h, (const unsigned char *)line, len);
        if (s != yajl_status_ok || !r->done || r->depth != 0) {
            /* A failed or unfinished handle would swallow the next line:
             * start a fresh one. */
            yajl_free(r->h);
            r->h = new_handle(r);
            report_bad(r, line, len,
                       s != yajl_status_ok ? "not valid JSON"
                                           : "not one complete JSON object on the line");
            return SL_OK;
        }
    }
    if (r->bad) {
        report_bad(r, line, len, r->why);
        return SL_OK;
    }
    for (size_t i = 0; i < r->ncols; i++) {
        cell *c = &r->cells[i];
        if (c->set != r->gen || c->is_null) {
            r->row[i] = pq_val_null();
        } else if (r->cols[i].type == PQ_TYPE_STRING) {
            r->row[i] =
                pq_val_strn(c->direct ? c->direct : r->arena.data + c->off, c->len);
            /* yajl turns a lone \uD800-\uDFFF escape into bytes that are not
             * UTF-8: such a line is malformed, never a failed step. */
            if (slow && !text_utf8_valid((const uint8_t *)r->row[i].str.ptr, c->len)) {
                report_bad(r, line, len,
                           "a string is not valid UTF-8 (a lone \\u surrogate escape)");
                return SL_OK;
            }
        } else {
            r->row[i] = c->v;
            r->row[i].is_null = false;
        }
    }
    if (r->resc.len)
        buf_append_char(&r->resc, '}');
    if (slow && r->resc.len &&
        !text_utf8_valid((const uint8_t *)r->resc.data, r->resc.len)) {
        report_bad(r, line, len,
                   "a string is not valid UTF-8 (a lone \\u surrogate escape)");
        return SL_OK;
    }
    r->st.rows++;
    return r->on_row(r->ctx, r->row, r->line_no, err);
}

sl_code jsonl_reader_feed(jsonl_reader *r, const char *data, size_t len, sl_err *err)
{
    r->st.bytes += (int64_t)len;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            buf_append(&r->pending, p, (size_t)(end - p));
            break;
        }
        sl_code c;
        if (r->pending.len) {
            buf_append(&r->pending, p, (size_t)(nl - p));
            c = parse_line(r, r->pending.data, r->pending.len, err);
            buf_reset(&r->pending);
        } else {
            c = parse_line(r, p, (size_t)(nl - p), err);
        }
        if (c != SL_OK)
            return c;
        p = nl + 1;
    }
    return SL_OK;
}

sl_code jsonl_reader_finish(jsonl_reader *r, sl_err *err)
{
    if (!r->pending.len)
        return SL_OK;
    sl_code c = parse_line(r, r->pending.data, r->pending.len, err);
    buf_reset(&r->pending);
    return c;
}

const jsonl_stats *jsonl_reader_stats(const jsonl_reader *r)
{
    return &r->st;
}

sl_code jsonl_reader_parse_line(jsonl_reader *r, const char *line, size_t len,
                                int64_t line_no, sl_err *err)
{
    r->st.bytes += (int64_t)len;
    r->line_no = line_no - 1;
    return parse_line(r, line, len, err);
}

void jsonl_reader_set_rescue(jsonl_reader *r, int on)
{
    r->rescue = on != 0;
}

void jsonl_reader_set_text_values(jsonl_reader *r, int on)
{
    r->text_values = on != 0;
}

void jsonl_reader_set_any_as_text(jsonl_reader *r, size_t col, int on)
{
    if (col < r->ncols && r->cols[col].type == PQ_TYPE_STRING)
        r->any_text[col] = on != 0;
}

const char *jsonl_reader_line(const jsonl_reader *r, size_t *len)
{
    *len = (size_t)(r->line_hi - r->line_lo);
    return r->line_lo;
}

const char *jsonl_reader_rescued(const jsonl_reader *r, size_t *len)
{
    *len = r->resc.len;
    return r->resc.len ? r->resc.data : NULL;
}

size_t jsonl_reader_unknown_count(const jsonl_reader *r)
{
    return r->nunk;
}

void jsonl_reader_unknown(const jsonl_reader *r, size_t i, const char **key,
                          size_t *key_len, jsonl_kind *kind)
{
    *key = r->ukeys.data + r->unk[i].off;
    *key_len = r->unk[i].len;
    *kind = r->unk[i].kind;
}
