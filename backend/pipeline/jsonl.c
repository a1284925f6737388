#include "backend/pipeline/jsonl.h"

#include <errno.h>
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
    int set;
    int is_null;
    const char *direct; /* the string inside the line itself, or NULL */
    size_t off, len;    /* else its place in the arena */
    pq_value v;
} cell;

struct jsonl_reader {
    pq_schema_col *cols;
    char **names;
    size_t *name_lens;
    size_t ncols;
    jsonl_row_fn on_row;
    jsonl_bad_fn on_bad;
    void *ctx;
    yajl_handle h;
    /* per line */
    int depth;
    int done; /* the top-level object closed */
    int bad;  /* a type error was found (reason in why) */
    const char *why;
    long cur;                      /* column of the current key at depth 1, -1 unknown */
    size_t guess;                  /* where the next key is likely to be */
    int fast;                      /* try the plain-line scanner before yajl */
    const char *line_lo, *line_hi; /* the line being parsed */
    cell *cells;
    pq_value *row;
    sl_buf arena;
    sl_buf pending; /* a line cut by a chunk boundary */
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

static cell *target(jsonl_reader *r)
{
    if (r->depth != 1 || r->cur < 0)
        return NULL;
    cell *c = &r->cells[r->cur];
    if (c->set)
        set_bad(r, "a key appears twice");
    c->set = 1;
    return c;
}

static int cb_null(void *ctx)
{
    jsonl_reader *r = ctx;
    cell *c = target(r);
    if (c)
        c->is_null = 1;
    return 1;
}

static int cb_bool(void *ctx, int b)
{
    jsonl_reader *r = ctx;
    cell *c = target(r);
    if (!c)
        return 1;
    if (r->cols[r->cur].type != PQ_TYPE_BOOLEAN)
        set_bad(r, "a boolean where the schema wants another type");
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

static int cb_number(void *ctx, const char *s, size_t n)
{
    jsonl_reader *r = ctx;
    cell *c = target(r);
    if (!c)
        return 1;
    int64_t iv;
    switch (r->cols[r->cur].type) {
    case PQ_TYPE_INT32:
        if (parse_i64(s, n, &iv) || iv < INT32_MIN || iv > INT32_MAX)
            set_bad(r, "a number that is not a 32-bit integer");
        else
            c->v.i32 = (int32_t)iv;
        break;
    case PQ_TYPE_INT64:
    case PQ_TYPE_TIMESTAMP_US:
        if (parse_i64(s, n, &iv))
            set_bad(r, "a number that is not a 64-bit integer");
        else
            c->v.i64 = iv;
        break;
    case PQ_TYPE_DOUBLE: {
        if (fast_double(s, n, &c->v.f64))
            break;
        char tmp[64];
        if (n >= sizeof tmp) {
            set_bad(r, "a number too long to read");
            break;
        }
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end;
        errno = 0;
        double d = strtod(tmp, &end);
        if (*end || (errno == ERANGE && isinf(d)))
            set_bad(r, "a number out of the double range");
        c->v.f64 = d;
        break;
    }
    default:
        set_bad(r, "a number where the schema wants another type");
    }
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    jsonl_reader *r = ctx;
    cell *c = target(r);
    if (!c)
        return 1;
    switch (r->cols[r->cur].type) {
    case PQ_TYPE_STRING:
        c->len = n;
        /* yajl hands out unescaped strings in place: no copy needed then;
         * escaped ones live in its scratch buffer and are copied. */
        uintptr_t at = (uintptr_t)s;
        if (at >= (uintptr_t)r->line_lo && at + n <= (uintptr_t)r->line_hi) {
            c->direct = (const char *)s;
        } else {
            c->direct = NULL;
            c->off = r->arena.len;
            buf_append(&r->arena, s, n);
        }
        break;
    case PQ_TYPE_TIMESTAMP_US:
        if (time_parse_iso_us((const char *)s, n, &c->v.i64) != 0)
            set_bad(r, "a timestamp that is not ISO 8601");
        break;
    default:
        set_bad(r, "a string where the schema wants another type");
    }
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
    jsonl_reader *r = ctx;
    if (r->depth != 1)
        return 1;
    /* Producers write keys in a steady order: try the column after the
     * previous key first. */
    size_t g = r->guess < r->ncols ? r->guess : 0;
    for (size_t j = 0; j < r->ncols; j++) {
        size_t i = g + j < r->ncols ? g + j : g + j - r->ncols;
        if (r->name_lens[i] == n && memcmp(r->names[i], k, n) == 0) {
            r->cur = (long)i;
            r->guess = i + 1;
            return 1;
        }
    }
    r->cur = -1;
    r->st.unknown_keys++;
    return 1;
}

static int cb_start_map(void *ctx)
{
    jsonl_reader *r = ctx;
    if (r->depth == 0 && r->done)
        set_bad(r, "two values on one line");
    if (r->depth == 1 && r->cur >= 0) {
        target(r);
        set_bad(r, "an object where the schema wants a value");
    }
    r->depth++;
    return 1;
}

static int cb_end_map(void *ctx)
{
    jsonl_reader *r = ctx;
    if (--r->depth == 0)
        r->done = 1;
    return 1;
}

static int cb_start_array(void *ctx)
{
    jsonl_reader *r = ctx;
    if (r->depth == 0)
        set_bad(r, "a line that is not an object");
    else if (r->depth == 1 && r->cur >= 0) {
        target(r);
        set_bad(r, "an array where the schema wants a value");
    }
    r->depth++;
    return 1;
}

static int cb_end_array(void *ctx)
{
    jsonl_reader *r = ctx;
    if (--r->depth == 0)
        r->done = 1;
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
    memset(r->cells, 0, r->ncols * sizeof *r->cells);
    r->line_lo = line;
    r->line_hi = line + len;
}

/* ---- the fast path ------------------------------------------------------
 * Most lines are a flat object of plain scalars: no escapes, no nesting.
 * This scanner accepts exactly that subset of JSON (strict number grammar,
 * no raw control bytes, valid UTF-8) and feeds the same callbacks yajl
 * would; on anything else it gives up and yajl parses the line, so yajl
 * stays the judge of every unusual line. */

static const char *skip_ws(const char *p, const char *end)
{
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

/* A JSON string without escapes; returns the closing quote or NULL. */
static const char *scan_plain_string(const char *p, const char *end, int *ascii)
{
    *ascii = 1;
    for (;;) {
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
    if (!r->fast || !fast_line(r, line, len)) {
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
        if (!c->set || c->is_null) {
            r->row[i] = pq_val_null();
        } else if (r->cols[i].type == PQ_TYPE_STRING) {
            r->row[i] =
                pq_val_strn(c->direct ? c->direct : r->arena.data + c->off, c->len);
        } else {
            r->row[i] = c->v;
            r->row[i].is_null = false;
        }
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
