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

/* Builds "SELECT ... WHERE ... ORDER BY ... LIMIT ?" for f and binds it. */
static sl_code audit_filter_prepare(audit_log *a, const audit_filter *f,
                                    sqlite3_stmt **out, sl_err *err)
{
    sl_buf sql = {0};
    buf_append_str(&sql, "SELECT " AUDIT_COLUMNS " FROM audit_events WHERE 1=1");
    if (f && f->since_ms)
        buf_append_str(&sql, " AND ts_ms >= :since");
    if (f && f->until_ms)
        buf_append_str(&sql, " AND ts_ms <= :until");
    if (f && f->action)
        buf_append_str(&sql, " AND action = :action");
    if (f && f->operator_name)
        buf_append_str(&sql, " AND operator = :operator");
    if (f && f->phase)
        buf_append_str(&sql, " AND phase = :phase");
    if (f && f->target)
        buf_append_str(&sql, " AND instr(target, :target) > 0");
    /* Free text is what a person types in the console: ASCII case-blind. */
    if (f && f->text)
        buf_append_str(&sql,
                       " AND (instr(lower(action), lower(:text)) > 0"
                       " OR instr(lower(coalesce(target, '')), lower(:text)) > 0"
                       " OR instr(lower(coalesce(reason, '')), lower(:text)) > 0"
                       " OR instr(lower(coalesce(operator, '')), lower(:text)) > 0)");
    buf_append_str(&sql, f && f->newest_first ? " ORDER BY id DESC" : " ORDER BY id ASC");
    if (f && f->limit)
        buf_append_str(&sql, " LIMIT :limit");

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db, sql.data, -1, &st, NULL);
    buf_free(&sql);
    if (rc != SQLITE_OK)
        return audit_db_error(a, SL_AUDIT_DB, "preparing the query", err);
    if (f) {
        if (f->since_ms)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"),
                               f->since_ms);
        if (f->until_ms)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":until"),
                               f->until_ms);
        const struct {
            const char *name;
            const char *value;
        } texts[] = {{":action", f->action},
                     {":operator", f->operator_name},
                     {":phase", f->phase},
                     {":target", f->target},
                     {":text", f->text}};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            if (texts[i].value)
                sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, texts[i].name),
                                  texts[i].value, -1, SQLITE_TRANSIENT);
        if (f->limit)
            sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
                               f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit);
    }
    *out = st;
    return SL_OK;
}

sl_code audit_query_each(audit_log *a, const audit_filter *f,
                         sl_code (*fn)(audit_event *ev, void *ctx, sl_err *err),
                         void *ctx, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->lock);
    sl_code c = audit_filter_prepare(a, f, &st, err);
    if (c != SL_OK) {
        pthread_mutex_unlock(&a->lock);
        return c;
    }
    int rc = SQLITE_DONE;
    while (c == SL_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_event ev;
        audit_event_from_row(st, &ev);
        c = fn(&ev, ctx, err);
        audit_event_clear(&ev);
    }
    if (c == SL_OK && rc != SQLITE_DONE)
        c = audit_db_error(a, SL_AUDIT_DB, "reading events", err);
    sqlite3_finalize(st);
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
