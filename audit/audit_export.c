/* Export of the log for reviewers: JSON lines or CSV (RFC 4180), oldest
 * first, streamed row by row. */
#include "audit/audit_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/timeutil.h"

struct audit_export_ctx {
    audit_log *a;
    FILE *out;
    size_t rows;
};

static sl_code audit_export_io(struct audit_export_ctx *x, sl_err *err)
{
    return err_set(err, SL_IO, "audit export of %s: write failed: %s", x->a->path,
                   strerror(errno));
}

static sl_code audit_export_jsonl_row(audit_event *ev, void *ctx, sl_err *err)
{
    struct audit_export_ctx *x = ctx;
    json_t *o = audit_event_to_json(ev);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!line)
        return err_set(err, SL_INTERNAL,
                       "audit export of %s: row %" PRId64 " did not encode", x->a->path,
                       ev->id);
    int bad = fputs(line, x->out) < 0 || fputc('\n', x->out) == EOF;
    free(line);
    if (bad)
        return audit_export_io(x, err);
    x->rows++;
    return SL_OK;
}

/* RFC 4180: a field with a comma, quote, CR or LF is quoted and its quotes
 * doubled; NULL is the empty field. */
static void audit_csv_field(FILE *out, const char *s, int last)
{
    if (s && strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else if (s) {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

static const char *const audit_csv_header[] = {
    "id",          "ts_ms",      "time",      "operator", "host",  "session_id",
    "action",      "target",     "params",    "reason",   "phase", "before_state",
    "after_state", "error_code", "prev_hash", "hash"};
#define AUDIT_CSV_NCOLS (sizeof audit_csv_header / sizeof audit_csv_header[0])

static sl_code audit_export_csv_row(audit_event *ev, void *ctx, sl_err *err)
{
    struct audit_export_ctx *x = ctx;
    char id[32], ts[32], iso[40];
    snprintf(id, sizeof id, "%" PRId64, ev->id);
    snprintf(ts, sizeof ts, "%" PRId64, ev->ts_ms);
    time_format_iso(ev->ts_ms, iso, sizeof iso);
    const char *fields[AUDIT_CSV_NCOLS] = {id,
                                           ts,
                                           iso,
                                           ev->operator_name,
                                           ev->host,
                                           ev->session_id,
                                           ev->action,
                                           ev->target,
                                           ev->params,
                                           ev->reason,
                                           ev->phase,
                                           ev->before_state,
                                           ev->after_state,
                                           ev->error_code,
                                           ev->prev_hash,
                                           ev->hash};
    for (size_t i = 0; i < AUDIT_CSV_NCOLS; i++)
        audit_csv_field(x->out, fields[i], i + 1 == AUDIT_CSV_NCOLS);
    if (ferror(x->out))
        return audit_export_io(x, err);
    x->rows++;
    return SL_OK;
}

sl_code audit_export(audit_log *a, const audit_filter *f, const char *format, FILE *out,
                     sl_err *err)
{
    return audit_export_rows(a, f, format, out, NULL, err);
}

sl_code audit_export_rows(audit_log *a, const audit_filter *f, const char *format,
                          FILE *out, size_t *rows, sl_err *err)
{
    if (rows)
        *rows = 0;
    int csv;
    if (format && strcmp(format, "jsonl") == 0)
        csv = 0;
    else if (format && strcmp(format, "csv") == 0)
        csv = 1;
    else
        return err_set(err, SL_USAGE,
                       "audit export: unknown format '%s' (use jsonl or csv)",
                       format ? format : "");

    audit_filter oldest_first = {0};
    if (f)
        oldest_first = *f;
    oldest_first.newest_first = 0;
    struct audit_export_ctx x = {a, out, 0};
    if (csv) {
        for (size_t i = 0; i < AUDIT_CSV_NCOLS; i++)
            audit_csv_field(out, audit_csv_header[i], i + 1 == AUDIT_CSV_NCOLS);
        if (ferror(out))
            return audit_export_io(&x, err);
    }
    sl_code c = audit_query_each(
        a, &oldest_first, csv ? audit_export_csv_row : audit_export_jsonl_row, &x, err);
    if (c == SL_OK && fflush(out) != 0)
        c = audit_export_io(&x, err);
    if (rows)
        *rows = x.rows;
    return c;
}
