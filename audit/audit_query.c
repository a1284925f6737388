/* Reading the log: filtered listing and lookup by id. Filter values are
 * always bound parameters; only fixed clause text is concatenated. */
#include "audit/audit_internal.h"

#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"

static char *audit_col_dup(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const char *s = (const char *)sqlite3_column_text(st, col);
    return sl_strndup(s ? s : "", (size_t)sqlite3_column_bytes(st, col));
}

void audit_event_from_row(sqlite3_stmt *st, audit_event *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, AUDIT_COL_ID);
    out->ts_ms = sqlite3_column_int64(st, AUDIT_COL_TS);
    out->operator_name = audit_col_dup(st, AUDIT_COL_OPERATOR);
    out->host = audit_col_dup(st, AUDIT_COL_HOST);
    out->session_id = audit_col_dup(st, AUDIT_COL_SESSION);
    out->action = audit_col_dup(st, AUDIT_COL_ACTION);
    out->target = audit_col_dup(st, AUDIT_COL_TARGET);
    out->params = audit_col_dup(st, AUDIT_COL_PARAMS);
    out->reason = audit_col_dup(st, AUDIT_COL_REASON);
    out->phase = audit_col_dup(st, AUDIT_COL_PHASE);
    out->before_state = audit_col_dup(st, AUDIT_COL_BEFORE);
    out->after_state = audit_col_dup(st, AUDIT_COL_AFTER);
    out->error_code = audit_col_dup(st, AUDIT_COL_ERROR);
    out->prev_hash = audit_col_dup(st, AUDIT_COL_PREV_HASH);
    out->hash = audit_col_dup(st, AUDIT_COL_HASH);
}

void audit_event_clear(audit_event *ev)
{
    if (!ev)
        return;
    free(ev->operator_name);
    free(ev->host);
    free(ev->session_id);
    free(ev->action);
    free(ev->target);
    free(ev->params);
    free(ev->reason);
    free(ev->phase);
    free(ev->before_state);
    free(ev->after_state);
    free(ev->error_code);
    free(ev->prev_hash);
    free(ev->hash);
    memset(ev, 0, sizeof *ev);
}

void audit_events_free(audit_event *evs, size_t n)
{
    if (!evs)
        return;
    for (size_t i = 0; i < n; i++)
        audit_event_clear(&evs[i]);
    free(evs);
}

/* A value with '*' as a GLOB pattern: '*' stays the wildcard, GLOB's other
 * special characters ('?', '[') are bracketed so they match themselves;
 * anywhere adds a '*' at both ends (target matches anywhere). Caller frees. */
static char *audit_glob_pattern(const char *value, int anywhere)
{
    sl_buf b = {0};
    if (anywhere)
        buf_append_char(&b, '*');
    for (const char *p = value; *p; p++) {
        if (*p == '?')
            buf_append_str(&b, "[?]");
        else if (*p == '[')
            buf_append_str(&b, "[[]");
        else
            buf_append_char(&b, *p);
    }
    if (anywhere)
        buf_append_char(&b, '*');
    return b.data ? b.data : sl_strdup("");
}

/* One field condition of a filter: its clause and the value bound to it. */
struct audit_cond {
    const char *name; /* ":action" */
    char *value;      /* owned */
};

#define AUDIT_MAX_CONDS 8

/* Appends the clause for a text field: exact (or anywhere) match, or GLOB
 * when wildcards are on and the value has a '*'. */
static void audit_cond_text(sl_buf *sql, struct audit_cond *conds, size_t *n,
                            const char *column, const char *name, const char *value,
                            int anywhere, int wildcards)
{
    if (!value)
        return;
    if (wildcards && strchr(value, '*')) {
        buf_appendf(sql, " AND %s GLOB %s", column, name);
        conds[*n] = (struct audit_cond){name, audit_glob_pattern(value, anywhere)};
    } else {
        if (anywhere)
            buf_appendf(sql, " AND instr(%s, %s) > 0", column, name);
        else
            buf_appendf(sql, " AND %s = %s", column, name);
        conds[*n] = (struct audit_cond){name, sl_strdup(value)};
    }
    (*n)++;
}

/* The WHERE clause of f (after "WHERE 1=1") with its text parameters; the
 * numeric ones (:since, :until, :idlo, :idhi) are bound by the caller. */
static size_t audit_filter_where(const audit_filter *f, sl_buf *sql,
                                 struct audit_cond conds[AUDIT_MAX_CONDS])
{
    size_t n = 0;
    if (!f)
        return 0;
    if (f->since_ms)
        buf_append_str(sql, " AND ts_ms >= :since");
    if (f->until_ms)
        buf_append_str(sql, " AND ts_ms <= :until");
    /* The id set's range narrows the scan; membership is checked per row. */
    if (f->ids && f->nids)
        buf_append_str(sql, " AND id BETWEEN :idlo AND :idhi");
    audit_cond_text(sql, conds, &n, "action", ":action", f->action, 0, f->wildcards);
    audit_cond_text(sql, conds, &n, "operator", ":operator", f->operator_name, 0,
                    f->wildcards);
    audit_cond_text(sql, conds, &n, "phase", ":phase", f->phase, 0, f->wildcards);
    audit_cond_text(sql, conds, &n, "target", ":target", f->target, 1, f->wildcards);
    audit_cond_text(sql, conds, &n, "session_id", ":session", f->session_id, 0, 0);
    /* Free text is what a person types in the console: ASCII case-blind. */
    if (f->text) {
        buf_append_str(sql,
                       " AND (instr(lower(action), lower(:text)) > 0"
                       " OR instr(lower(coalesce(target, '')), lower(:text)) > 0"
                       " OR instr(lower(coalesce(reason, '')), lower(:text)) > 0"
                       " OR instr(lower(coalesce(operator, '')), lower(:text)) > 0)");
        conds[n++] = (struct audit_cond){":text", sl_strdup(f->text)};
    }
    return n;
}

static int64_t audit_limit_value(size_t limit)
{
    return limit > INT64_MAX ? INT64_MAX : (int64_t)limit;
}

/* Prepares "SELECT <what> FROM audit_events WHERE <f> <tail>" and binds f's
 * values. With an id set the LIMIT is applied by the caller (per row). */
static sl_code audit_filter_prepare_sql(audit_log *a, const audit_filter *f,
                                        const char *what, int ordered, sqlite3_stmt **out,
                                        sl_err *err)
{
    sl_buf sql = {0};
    struct audit_cond conds[AUDIT_MAX_CONDS];
    buf_appendf(&sql, "SELECT %s FROM audit_events WHERE 1=1", what);
    size_t nconds = audit_filter_where(f, &sql, conds);
    int sql_limit = ordered && f && f->limit && !f->ids;
    if (ordered)
        buf_append_str(&sql,
                       f && f->newest_first ? " ORDER BY id DESC" : " ORDER BY id ASC");
    if (sql_limit)
        buf_append_str(&sql, " LIMIT :limit");

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db, sql.data, -1, &st, NULL);
    buf_free(&sql);
    sl_code c = SL_OK;
    if (rc != SQLITE_OK) {
        c = audit_db_error(a, SL_AUDIT_DB, "preparing the query", err);
    } else if (f) {
        if (f->since_ms)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"),
                               f->since_ms);
        if (f->until_ms)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"),
                               f->until_ms);
        if (f->ids && f->nids) {
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":idlo"), f->ids[0]);
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":idhi"),
                               f->ids[f->nids - 1]);
        }
        for (size_t i = 0; i < nconds; i++)
            sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, conds[i].name),
                              conds[i].value, -1, SQLITE_TRANSIENT);
        if (sql_limit)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
                               audit_limit_value(f->limit));
    }
    for (size_t i = 0; i < nconds; i++)
        free(conds[i].value);
    *out = rc == SQLITE_OK ? st : NULL;
    return c;
}

/* Whether a row passes f's id set (binary search; ids ascending). */
static int audit_id_wanted(const audit_filter *f, int64_t id)
{
    if (!f || !f->ids)
        return 1;
    size_t lo = 0, hi = f->nids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->ids[mid] == id)
            return 1;
        if (f->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

sl_code audit_query_each(audit_log *a, const audit_filter *f,
                         sl_code (*fn)(audit_event *ev, void *ctx, sl_err *err),
                         void *ctx, sl_err *err)
{
    /* An empty id set matches nothing (not "any id"). */
    if (f && f->ids && f->nids == 0)
        return SL_OK;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->lock);
    sl_code c = audit_filter_prepare_sql(a, f, AUDIT_COLUMNS, 1, &st, err);
    if (c != SL_OK) {
        pthread_mutex_unlock(&a->lock);
        return c;
    }
    int rc = SQLITE_DONE;
    size_t taken = 0;
    while (c == SL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!audit_id_wanted(f, sqlite3_column_int64(st, AUDIT_COL_ID)))
            continue;
        audit_event ev;
        audit_event_from_row(st, &ev);
        c = fn(&ev, ctx, err);
        audit_event_clear(&ev);
        if (f && f->ids && f->limit && ++taken >= f->limit) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (c == SL_OK && rc != SQLITE_DONE)
        c = audit_db_error(a, SL_AUDIT_DB, "reading events", err);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return c;
}

static sl_code audit_count_one(audit_event *ev, void *ctx, sl_err *err)
{
    (void)ev;
    (void)err;
    (*(int64_t *)ctx)++;
    return SL_OK;
}

sl_code audit_count(audit_log *a, const audit_filter *f, int64_t *n, sl_err *err)
{
    *n = 0;
    audit_filter all = {0};
    if (f)
        all = *f;
    all.limit = 0;
    /* An id set is checked row by row, as the listing does. */
    if (all.ids)
        return audit_query_each(a, &all, audit_count_one, n, err);
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->lock);
    sl_code c = audit_filter_prepare_sql(a, &all, "count(*)", 0, &st, err);
    if (c == SL_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            *n = sqlite3_column_int64(st, 0);
        else
            c = audit_db_error(a, SL_AUDIT_DB, "counting events", err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&a->lock);
    return c;
}

struct audit_collect {
    audit_event *evs;
    size_t n, cap;
};

static sl_code audit_collect_one(audit_event *ev, void *ctx, sl_err *err)
{
    (void)err;
    struct audit_collect *col = ctx;
    if (col->n == col->cap) {
        col->cap = col->cap ? col->cap * 2 : 16;
        col->evs = sl_realloc(col->evs, col->cap * sizeof *col->evs);
    }
    /* Take the strings over: the iterator's copy is cleared after us. */
    col->evs[col->n++] = *ev;
    memset(ev, 0, sizeof *ev);
    return SL_OK;
}

sl_code audit_query(audit_log *a, const audit_filter *f, audit_event **out, size_t *n,
                    sl_err *err)
{
    *out = NULL;
    *n = 0;
    struct audit_collect col = {0};
    sl_code c = audit_query_each(a, f, audit_collect_one, &col, err);
    if (c != SL_OK) {
        audit_events_free(col.evs, col.n);
        return c;
    }
    *out = col.evs;
    *n = col.n;
    return SL_OK;
}

sl_code audit_get(audit_log *a, int64_t id, audit_event *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->lock);
    if (sqlite3_prepare_v2(a->db,
                           "SELECT " AUDIT_COLUMNS " FROM audit_events WHERE id = ?1", -1,
                           &st, NULL) != SQLITE_OK) {
        sl_code c = audit_db_error(a, SL_AUDIT_DB, "preparing the lookup", err);
        pthread_mutex_unlock(&a->lock);
        return c;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sl_code c = SL_OK;
    if (rc == SQLITE_ROW)
        audit_event_from_row(st, out);
    else if (rc == SQLITE_DONE)
        c = err_set(err, SL_AUDIT_NOT_FOUND, "audit log %s: no event with id %lld",
                    a->path, (long long)id);
    else
        c = audit_db_error(a, SL_AUDIT_DB, "looking up an event", err);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->lock);
    return c;
}
