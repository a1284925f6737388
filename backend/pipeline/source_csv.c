/* The CSV tokenizer: one state machine over the bytes, so a quote only
 * opens a field at the field's start and a newline inside quotes never ends
 * a record, whatever the chunking. */
#include "backend/pipeline/source_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/text.h"

typedef enum csv_state {
    ST_START,      /* at a field's first byte */
    ST_UNQUOTED,   /* inside an unquoted field */
    ST_QUOTED,     /* inside quotes */
    ST_QUOTE_SEEN, /* a quote inside quotes: doubled, or the closing one */
    ST_AFTER_CR,   /* a CR after the closing quote: LF must follow */
    ST_BAD,        /* the record is bad: skip to its end */
} csv_state;

typedef struct field {
    size_t off, len;
    int quoted;
} field;

struct csv_source {
    char *name;
    csv_line_fn on_line;
    csv_bad_fn on_bad;
    void *ctx;
    csv_state st;
    int at_file_start; /* a UTF-8 byte order mark may come first */
    size_t bom_seen;
    sl_buf raw;    /* the record as read */
    sl_buf text;   /* field bytes, unquoted */
    field *fields; /* of the current record */
    size_t nfields, cap_fields;
    size_t field_off;
    int field_quoted;
    const char *why; /* why the record is bad */
    char **header;
    size_t *header_lens;
    size_t nheader;
    int have_header;
    int64_t records;
    sl_buf json;
};

csv_source *csv_source_new(const char *name, csv_line_fn on_line, csv_bad_fn on_bad,
                           void *ctx)
{
    csv_source *c = sl_calloc(1, sizeof *c);
    c->name = sl_strdup(name ? name : "(csv)");
    c->on_line = on_line;
    c->on_bad = on_bad;
    c->ctx = ctx;
    c->at_file_start = 1;
    return c;
}

void csv_source_free(csv_source *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nheader; i++)
        free(c->header[i]);
    free(c->header);
    free(c->header_lens);
    free(c->fields);
    buf_free(&c->raw);
    buf_free(&c->text);
    buf_free(&c->json);
    free(c->name);
    free(c);
}

int64_t csv_source_records(const csv_source *c)
{
    return c->records;
}

static void end_field(csv_source *c, int at_eol)
{
    if (c->nfields == c->cap_fields) {
        c->cap_fields = c->cap_fields ? c->cap_fields * 2 : 16;
        c->fields = sl_realloc(c->fields, c->cap_fields * sizeof *c->fields);
    }
    size_t len = c->text.len - c->field_off;
    /* An unquoted field ends before the CR of a CRLF. */
    if (at_eol && !c->field_quoted && len && c->text.data[c->text.len - 1] == '\r')
        len--;
    c->fields[c->nfields++] = (field){c->field_off, len, c->field_quoted};
    c->field_off = c->text.len;
    c->field_quoted = 0;
}

static void bad(csv_source *c, const char *why)
{
    if (!c->why)
        c->why = why;
    c->st = ST_BAD;
}

static void reset_record(csv_source *c)
{
    buf_reset(&c->raw);
    buf_reset(&c->text);
    c->nfields = 0;
    c->field_off = 0;
    c->field_quoted = 0;
    c->why = NULL;
    c->st = ST_START;
}

static sl_code take_header(csv_source *c, sl_err *err)
{
    if (c->why)
        return err_set(err, SL_INGEST_FORMAT, "%s: the header line is not valid CSV (%s)",
                       c->name, c->why);
    c->header = sl_calloc(c->nfields, sizeof *c->header);
    c->header_lens = sl_calloc(c->nfields, sizeof *c->header_lens);
    for (size_t i = 0; i < c->nfields; i++) {
        const field *f = &c->fields[i];
        const char *s = c->text.data + f->off;
        if (f->len == 0)
            return err_set(err, SL_INGEST_FORMAT, "%s: header column %zu has no name",
                           c->name, i + 1);
        if (!text_utf8_valid((const uint8_t *)s, f->len))
            return err_set(err, SL_INGEST_FORMAT,
                           "%s: header column %zu is not valid UTF-8", c->name, i + 1);
        for (size_t k = 0; k < c->nheader; k++)
            if (c->header_lens[k] == f->len && memcmp(c->header[k], s, f->len) == 0)
                return err_set(err, SL_INGEST_FORMAT,
                               "%s: the header names column \"%.*s\" twice", c->name,
                               (int)f->len, s);
        c->header[c->nheader] = sl_strndup(s, f->len);
        c->header_lens[c->nheader++] = f->len;
    }
    c->have_header = 1;
    return SL_OK;
}

static void json_string(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_append_char(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            buf_append(b, e, 2);
        } else if (ch == '\n') {
            buf_append(b, "\\n", 2);
        } else if (ch == '\r') {
            buf_append(b, "\\r", 2);
        } else if (ch == '\t') {
            buf_append(b, "\\t", 2);
        } else {
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            buf_append(b, u, 6);
        }
    }
    buf_append(b, s + run, n - run);
    buf_append_char(b, '"');
}

/* A complete record: the header, a data record as a JSON line, or a bad
 * record with its text. */
static sl_code end_record(csv_source *c, sl_err *err)
{
    size_t rl = c->raw.len;
    if (rl && c->raw.data[rl - 1] == '\r')
        rl--;
    if (rl == 0) { /* a blank line */
        reset_record(c);
        return SL_OK;
    }
    sl_code code = SL_OK;
    if (!c->have_header) {
        code = take_header(c, err);
        reset_record(c);
        return code;
    }
    c->records++;
    const char *why = c->why;
    char msg[120];
    if (!why && c->nfields != c->nheader) {
        snprintf(msg, sizeof msg, "a record with %zu fields where the header has %zu",
                 c->nfields, c->nheader);
        why = msg;
    }
    if (!why && !text_utf8_valid((const uint8_t *)c->text.data, c->text.len))
        why = "not valid UTF-8";
    if (why) {
        code = c->on_bad(c->ctx, c->raw.data, rl, c->records, why, err);
    } else {
        buf_reset(&c->json);
        buf_append_char(&c->json, '{');
        for (size_t i = 0; i < c->nfields; i++) {
            const field *f = &c->fields[i];
            if (i)
                buf_append_char(&c->json, ',');
            json_string(&c->json, c->header[i], c->header_lens[i]);
            buf_append_char(&c->json, ':');
            if (f->len == 0 && !f->quoted)
                buf_append(&c->json, "null", 4);
            else
                json_string(&c->json, c->text.data + f->off, f->len);
        }
        buf_append_char(&c->json, '}');
        code = c->on_line(c->ctx, c->json.data, c->json.len, c->records, err);
    }
    reset_record(c);
    return code;
}

sl_code csv_source_feed(csv_source *c, const char *data, size_t len, sl_err *err)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    size_t i = 0;
    /* Skips a byte order mark at the start of the file (it may be cut). */
    while (c->at_file_start && i < len) {
        if ((unsigned char)data[i] != bom[c->bom_seen]) {
            /* Not a BOM after all: replay the bytes taken so far. */
            c->at_file_start = 0;
            if (c->bom_seen) {
                size_t n = c->bom_seen;
                c->bom_seen = 0;
                sl_code code = csv_source_feed(c, (const char *)bom, n, err);
                if (code != SL_OK)
                    return code;
            }
            break;
        }
        i++;
        if (++c->bom_seen == 3)
            c->at_file_start = 0;
    }
    for (; i < len; i++) {
        char ch = data[i];
        if (ch == '\n' && c->st != ST_QUOTED) {
            if (c->st != ST_BAD)
                end_field(c, 1);
            sl_code code = end_record(c, err);
            if (code != SL_OK)
                return code;
            continue;
        }
        buf_append_char(&c->raw, ch);
        switch (c->st) {
        case ST_START:
            if (ch == '"') {
                c->field_quoted = 1;
                c->st = ST_QUOTED;
            } else if (ch == ',') {
                end_field(c, 0);
            } else {
                buf_append_char(&c->text, ch);
                c->st = ST_UNQUOTED;
            }
            break;
        case ST_UNQUOTED:
            if (ch == ',') {
                end_field(c, 0);
                c->st = ST_START;
            } else if (ch == '"') {
                bad(c, "a quote inside an unquoted field");
            } else {
                buf_append_char(&c->text, ch);
            }
            break;
        case ST_QUOTED:
            if (ch == '"')
                c->st = ST_QUOTE_SEEN;
            else
                buf_append_char(&c->text, ch);
            break;
        case ST_QUOTE_SEEN:
            if (ch == '"') {
                buf_append_char(&c->text, '"');
                c->st = ST_QUOTED;
            } else if (ch == ',') {
                end_field(c, 0);
                c->st = ST_START;
            } else if (ch == '\r') {
                c->st = ST_AFTER_CR;
            } else {
                bad(c, "text after a closing quote");
            }
            break;
        case ST_AFTER_CR:
            bad(c, "a CR inside a record");
            break;
        case ST_BAD:
            break;
        }
    }
    return SL_OK;
}

sl_code csv_source_finish(csv_source *c, sl_err *err)
{
    if (c->at_file_start && c->bom_seen) {
        c->at_file_start = 0; /* a file of one or two BOM bytes */
        size_t n = c->bom_seen;
        c->bom_seen = 0;
        sl_code code = csv_source_feed(c, "\xEF\xBB", n, err);
        if (code != SL_OK)
            return code;
    }
    if (!c->raw.len)
        return SL_OK;
    if (c->st == ST_QUOTED)
        bad(c, "a quoted field is not closed at the end of the file");
    else if (c->st != ST_BAD)
        end_field(c, 1);
    return end_record(c, err);
}
