#ifndef SLUICE_AUDIT_AUDIT_H
#define SLUICE_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/util/err.h"

/* The tamper-evident audit log: one SQLite database (WAL), append-only by
 * triggers, every row hash-chained with SHA-256 over a canonical
 * serialisation of the row plus the previous row's hash. The head (last id
 * and hash) is also kept in PATH.head so that truncating the tail is seen.
 *
 * Only backend/ops calls audit_append; everything else reads. */
typedef struct audit_log audit_log;

typedef struct audit_event {
    int64_t id;
    int64_t ts_ms; /* UTC milliseconds */
    char *operator_name;
    char *host;
    char *session_id;
    char *action;       /* "audit.note", "session.open", "restore", ... */
    char *target;       /* may be NULL */
    char *params;       /* JSON text, "{}" when none */
    char *reason;       /* may be NULL */
    char *phase;        /* requested | succeeded | failed | refused */
    char *before_state; /* JSON text or NULL */
    char *after_state;  /* JSON text or NULL */
    char *error_code;   /* "SL-..." or NULL */
    char *prev_hash;    /* hex */
    char *hash;         /* hex */
} audit_event;

/* Opens (creating when missing) the database at path; PATH.head beside it. */
sl_code audit_open(const char *path, audit_log **out, sl_err *err);
void audit_close(audit_log *a);
const char *audit_path(const audit_log *a);

/* Appends one event in its own transaction, chained to the current head even
 * when another process appends concurrently. id, ts_ms (when 0), prev_hash
 * and hash are filled in; *id_out receives the new id (may be NULL). */
sl_code audit_append(audit_log *a, const audit_event *ev, int64_t *id_out, sl_err *err);

typedef struct audit_filter {
    int64_t since_ms;          /* 0: no lower bound */
    int64_t until_ms;          /* 0: no upper bound */
    const char *action;        /* exact match, NULL for any */
    const char *target;        /* substring match, NULL for any */
    const char *operator_name; /* exact match */
    const char *phase;         /* exact match */
    const char *text;          /* substring over action/target/reason/operator */
    const char *session_id;    /* exact match */
    /* When set, '*' in action, operator_name, phase and target matches any
     * run of characters (the console's `:where target=ord*s`); target stays
     * a match anywhere in the value. Off: '*' is an ordinary character. */
    int wildcards;
    /* Only rows whose id is in ids[0..nids) (ascending): the rows a console
     * shows after its own text filter. NULL: any id. */
    const int64_t *ids;
    size_t nids;
    size_t limit; /* 0: no limit */
    int newest_first;
} audit_filter;

sl_code audit_query(audit_log *a, const audit_filter *f, audit_event **out, size_t *n,
                    sl_err *err);
/* How many rows match f (NULL: all); f->limit is ignored. */
sl_code audit_count(audit_log *a, const audit_filter *f, int64_t *n, sl_err *err);
sl_code audit_get(audit_log *a, int64_t id, audit_event *out, sl_err *err);
void audit_event_clear(audit_event *ev);
void audit_events_free(audit_event *evs, size_t n);

/* Object with every column; params/before/after embedded as JSON values. */
json_t *audit_event_to_json(const audit_event *ev);

typedef struct audit_verify_result {
    int ok;
    int64_t rows;         /* rows checked */
    int64_t first_bad_id; /* 0 when ok */
    char problem[256];    /* "row 7 was edited", "row 4 is missing", ... */
    /* When ok: the last row, whose hash the head file vouches for (0 and
     * "" for an empty log). */
    int64_t head_id;
    char head_hash[65];
} audit_verify_result;

/* SL_OK when intact; SL_AUDIT_TAMPERED with the result filled otherwise. */
sl_code audit_verify(audit_log *a, audit_verify_result *res, sl_err *err);

/* format "jsonl" or "csv"; all rows matching f (NULL: all), oldest first. */
sl_code audit_export(audit_log *a, const audit_filter *f, const char *format, FILE *out,
                     sl_err *err);
/* As audit_export; *rows (may be NULL) receives the number of rows written. */
sl_code audit_export_rows(audit_log *a, const audit_filter *f, const char *format,
                          FILE *out, size_t *rows, sl_err *err);

#endif
