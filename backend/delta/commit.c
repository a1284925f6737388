/* The one commit path. Every write to a Delta table ends here: the writer
 * protocol is checked, NNN.json is created only if absent, and a lost race
 * reads just the winners' commits to decide between retrying at the next
 * version and reporting a conflict (the optimistic concurrency of
 * PROTOCOL.md; the checks follow Delta's ConflictChecker). A log entry is
 * never overwritten. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_write.h"
#include "backend/util/ids.h"
#include "backend/util/timeutil.h"

/* Only lost races between compatible commits retry (a real conflict stops at
 * once), and each retry reads just the winners' commits: a generous bound that
 * only guards against livelock. */
#define DEFAULT_MAX_ATTEMPTS 1000

char *delta_commit_key(const char *table_key, int64_t version)
{
    char *prefix = delta_log_prefix(table_key);
    char *k = sl_asprintf("%s%020lld.json", prefix, (long long)version);
    free(prefix);
    return k;
}

/* What our commit touches, for judging the winners'. */
typedef struct commit_scope {
    char **paths; /* decoded paths we read or remove (owned) */
    size_t npaths;
    delta_fmap path_set; /* keys borrowed from paths */
    json_t *app_ids;     /* object appId -> true */
    int read_all;
    int has_remove_data; /* a remove with dataChange true */
    int has_remove;
    int has_cdc;
    int has_meta;                        /* metaData or protocol */
    json_t *new_protocol, *new_metadata; /* borrowed from the actions */
} commit_scope;

static void scope_free(commit_scope *sc)
{
    delta_fmap_free(&sc->path_set);
    for (size_t i = 0; i < sc->npaths; i++)
        free(sc->paths[i]);
    free(sc->paths);
    json_decref(sc->app_ids);
}

static void scope_add_path(commit_scope *sc, const char *raw)
{
    char *p = delta_path_decode(raw);
    if (!p)
        p = sl_strdup(raw);
    sc->paths = sl_realloc(sc->paths, (sc->npaths + 1) * sizeof *sc->paths);
    sc->paths[sc->npaths++] = p;
    delta_fmap_put(&sc->path_set, p, 0);
}

static int data_change(const json_t *body)
{
    return !json_is_false(json_object_get(body, "dataChange"));
}

static sl_code scope_build(const delta_commit_req *req, commit_scope *sc, sl_err *err)
{
    memset(sc, 0, sizeof *sc);
    delta_fmap_init(&sc->path_set);
    sc->app_ids = json_object();
    if (!json_is_array(req->actions))
        return err_set(err, SL_INTERNAL, "delta_commit: actions is not an array");
    size_t i;
    json_t *a;
    json_array_foreach(req->actions, i, a)
    {
        if (!json_is_object(a) || json_object_size(a) != 1)
            return err_set(err, SL_INTERNAL,
                           "delta_commit: action %zu is not an object with one member",
                           i);
        const char *name = json_object_iter_key(json_object_iter(a));
        json_t *body = json_object_get(a, name);
        if (strcmp(name, "commitInfo") == 0)
            return err_set(err, SL_INTERNAL,
                           "delta_commit: action %zu is a commitInfo; the commit path "
                           "writes its own",
                           i);
        if (strcmp(name, "remove") == 0) {
            const char *p = json_string_value(json_object_get(body, "path"));
            if (!p)
                return err_set(err, SL_INTERNAL, "delta_commit: remove %zu has no path",
                               i);
            scope_add_path(sc, p);
            sc->has_remove = 1;
            if (data_change(body))
                sc->has_remove_data = 1;
        } else if (strcmp(name, "add") == 0) {
            if (!json_string_value(json_object_get(body, "path")))
                return err_set(err, SL_INTERNAL, "delta_commit: add %zu has no path", i);
        } else if (strcmp(name, "cdc") == 0) {
            sc->has_cdc = 1;
        } else if (strcmp(name, "txn") == 0) {
            const char *app = json_string_value(json_object_get(body, "appId"));
            if (!app)
                return err_set(err, SL_INTERNAL, "delta_commit: txn %zu has no appId", i);
            json_object_set_new(sc->app_ids, app, json_true());
        } else if (strcmp(name, "metaData") == 0) {
            sc->has_meta = 1;
            sc->new_metadata = body;
        } else if (strcmp(name, "protocol") == 0) {
            sc->has_meta = 1;
            sc->new_protocol = body;
        }
    }
    for (size_t k = 0; k < req->nread_paths; k++)
        scope_add_path(sc, req->read_paths[k]);
    sc->read_all = req->read_all || (sc->has_meta && req->read_snap);
    return SL_OK;
}

/* Delta Lake's rule: every file action is an add (vacuously true without
 * any) and the transaction read no files. So CREATE TABLE, SET TBLPROPERTIES
 * and VACUUM START/END are blind appends as well; a metaData change alone
 * does not make a commit depend on the files. */
static int scope_is_blind_append(const commit_scope *sc, const delta_commit_req *req)
{
    return !sc->has_remove && !sc->has_cdc && !req->read_all && req->nread_paths == 0;
}

/* Protocol and appendOnly checks on the table as read and as it will be. */
static sl_code scope_check_write(const commit_scope *sc, const delta_commit_req *req,
                                 const char *where, sl_err *err)
{
    const json_t *proto = req->read_snap ? req->read_snap->protocol : NULL;
    const json_t *meta = req->read_snap ? req->read_snap->metadata : NULL;
    sl_code c;
    if (req->read_snap) {
        c = delta_write_protocol_check(proto, meta, where, err);
        if (c != SL_OK)
            return c;
    } else if (!sc->new_protocol || !sc->new_metadata) {
        return err_set(err, SL_INTERNAL,
                       "creating %s needs both a protocol and a metaData action", where);
    }
    if (sc->new_protocol || sc->new_metadata) {
        c = delta_write_protocol_check(sc->new_protocol ? sc->new_protocol : proto,
                                       sc->new_metadata ? sc->new_metadata : meta, where,
                                       err);
        if (c != SL_OK)
            return c;
    }
    const char *ao = json_string_value(
        json_object_get(json_object_get(meta, "configuration"), "delta.appendOnly"));
    if (sc->has_remove_data && ao && strcmp(ao, "true") == 0)
        return err_set(err, SL_DELTA_APPEND_ONLY,
                       "refusing to remove files from %s: delta.appendOnly is true",
                       where);
    return SL_OK;
}

/* ---- judging one winner commit ------------------------------------------- */

typedef struct judge_ctx {
    const commit_scope *sc;
    const char *key;
    int64_t version;
    const char *where;
    int64_t *max_ts; /* newest commit time seen */
} judge_ctx;

static sl_code conflict(judge_ctx *j, sl_err *err, const char *what, const char *detail)
{
    return err_set(err, SL_DELTA_CONFLICT,
                   "commit lost to a concurrent writer on %s: version %lld (%s) %s%s%s",
                   j->where, (long long)j->version, j->key, what, detail ? " " : "",
                   detail ? detail : "");
}

static sl_code judge_action(void *ctx, json_t *action, size_t line, sl_err *err)
{
    (void)line;
    judge_ctx *j = ctx;
    const commit_scope *sc = j->sc;
    json_t *body;
    if ((body = json_object_get(action, "commitInfo"))) {
        int64_t ts = delta_commit_info_timestamp(body);
        if (ts > *j->max_ts)
            *j->max_ts = ts;
        return SL_OK;
    }
    if ((body = json_object_get(action, "metaData")))
        return conflict(j, err, "changed the table's metaData", NULL);
    if ((body = json_object_get(action, "protocol")))
        return conflict(j, err, "changed the table's protocol", NULL);
    if ((body = json_object_get(action, "txn"))) {
        const char *app = json_string_value(json_object_get(body, "appId"));
        if (app && json_object_get(sc->app_ids, app))
            return conflict(j, err, "committed a txn for the same appId", app);
        return SL_OK;
    }
    int is_remove = (body = json_object_get(action, "remove")) != NULL;
    if (!is_remove)
        body = json_object_get(action, "add");
    if (!body)
        return SL_OK; /* commitInfo, cdc, domainMetadata of others: no effect on us */
    if (is_remove) {
        const char *raw = json_string_value(json_object_get(body, "path"));
        char *p = raw ? delta_path_decode(raw) : NULL;
        size_t dummy;
        int hit = p && delta_fmap_get(&sc->path_set, p, &dummy);
        free(p);
        if (hit)
            return conflict(j, err, "removed a file this commit read or removes:", raw);
    }
    if (sc->read_all && data_change(body))
        return conflict(j, err,
                        is_remove ? "removed data this commit depends on:"
                                  : "added data this commit depends on:",
                        json_string_value(json_object_get(body, "path")));
    return SL_OK;
}

/* Reads winners from *version on until a version is free; SL_OK leaves
 * *version at the first free one. */
static sl_code winners_judge(store *s, const char *table_key, const commit_scope *sc,
                             const char *where, int64_t *version, int64_t *max_ts,
                             sl_err *err)
{
    for (;;) {
        char *key = delta_commit_key(table_key, *version);
        sl_buf data = {0};
        sl_err gerr;
        sl_code c = store_get(s, key, &data, &gerr);
        if (c == SL_STORE_NOT_FOUND) {
            free(key);
            buf_free(&data);
            return SL_OK;
        }
        if (c != SL_OK) {
            free(key);
            buf_free(&data);
            if (err)
                *err = gerr;
            return c;
        }
        judge_ctx j = {sc, key, *version, where, max_ts};
        c = delta_commit_parse(data.data, data.len, key, judge_action, &j, err);
        free(key);
        buf_free(&data);
        if (c != SL_OK)
            return c;
        (*version)++;
    }
}

/* A short random pause after a lost race spreads out writers that would
 * otherwise collide again on the next version. */
static void backoff(int attempt)
{
    char hex[5];
    ids_random_hex(hex, 2);
    unsigned r = (unsigned)strtoul(hex, NULL, 16);
    long cap_us = 100L * (attempt < 20 ? attempt : 20);
    struct timespec ts = {0, (long)(r % (unsigned)(cap_us + 1)) * 1000L};
    nanosleep(&ts, NULL);
}

/* Commit times never go backwards along the versions (timestamp-based time
 * travel relies on it), even when this clock is behind the winners'. */
static char *commit_text(const delta_commit_req *req, const commit_scope *sc,
                         const char *txn_id, int64_t prev_ts)
{
    int64_t read_version = req->read_snap ? req->read_snap->version : -1;
    int64_t now = time_now_ms();
    if (now <= prev_ts)
        now = prev_ts + 1;
    json_t *ci = delta_commit_info_build(&req->meta, now, read_version,
                                         scope_is_blind_append(sc, req), txn_id);
    json_t *line = json_object();
    json_object_set_new(line, "commitInfo", ci);
    sl_buf b = {0};
    char *t = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    buf_append_str(&b, t);
    buf_append_char(&b, '\n');
    free(t);
    size_t i;
    json_t *a;
    json_array_foreach(req->actions, i, a)
    {
        t = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
        buf_append_str(&b, t);
        buf_append_char(&b, '\n');
        free(t);
    }
    return buf_steal(&b);
}

/* The metaData in effect at the new version is ours or the one read: a
 * winner that changed it would have been a conflict. Checking due-ness here
 * saves a snapshot per commit. */
static void checkpoint_after(store *s, const char *table_key, const delta_commit_req *req,
                             const commit_scope *sc, int64_t version,
                             delta_commit_result *out)
{
    const json_t *md = sc->new_metadata ? sc->new_metadata
                       : req->read_snap ? req->read_snap->metadata
                                        : NULL;
    if (!md)
        return;
    /* With the table's snapshot in hand its size sets the cadence too. */
    const delta_snapshot *rs = req->read_snap;
    if (rs ? !delta_checkpoint_due_sized(md, version, rs->checkpoint_version, rs->nfiles)
           : !delta_checkpoint_due(md, version))
        return;
    sl_err cerr = {0};
    bool written = false;
    sl_code cc = delta_checkpoint_after_commit(s, table_key, version, time_now_ms(),
                                               &written, &cerr);
    if (cc != SL_OK && s->log)
        log_op(s->log, "delta.checkpoint", table_key, cc, 0, cerr.msg);
    if (out) {
        out->checkpoint_written = written;
        out->checkpoint_err = cc == SL_OK ? (sl_err){0} : cerr;
    }
}

/* Whose is the commit file at version? 1: ours (its commitInfo carries our
 * txnId), 0: someone else's, -1: none there; SL_* when it cannot be read. A
 * create that failed may have landed (the store wrote it, then the answer
 * was lost), and a retried request then sees its own file as taken: only
 * the file itself can say, and deleting the data files of a commit that
 * landed would break the table. */
static sl_code commit_owner(store *s, const char *table_key, int64_t version,
                            const char *txn_id, int *owner, sl_err *err)
{
    char *key = delta_commit_key(table_key, version);
    sl_buf b = {0};
    sl_code c = store_get(s, key, &b, err);
    free(key);
    if (c == SL_STORE_NOT_FOUND) {
        err_clear(err);
        *owner = -1;
        buf_free(&b);
        return SL_OK;
    }
    if (c != SL_OK) {
        buf_free(&b);
        return c;
    }
    /* commitInfo is our first line; another writer's first line differs. */
    size_t first = 0;
    while (first < b.len && b.data[first] != '\n')
        first++;
    json_t *j = json_loadb(b.data, first, 0, NULL);
    const char *t =
        json_string_value(json_object_get(json_object_get(j, "commitInfo"), "txnId"));
    *owner = t && strcmp(t, txn_id) == 0;
    json_decref(j);
    buf_free(&b);
    return SL_OK;
}

sl_code delta_commit(store *s, const char *table_key, const delta_commit_req *req,
                     delta_commit_result *out, sl_err *err)
{
    char *where = delta_table_target(s, table_key);
    commit_scope sc;
    sl_code c = scope_build(req, &sc, err);
    if (c == SL_OK)
        c = scope_check_write(&sc, req, where, err);
    if (c != SL_OK) {
        scope_free(&sc);
        free(where);
        return c;
    }
    char txn_id[37];
    ids_uuid4(txn_id);
    int max = req->max_attempts > 0 ? req->max_attempts : DEFAULT_MAX_ATTEMPTS;
    int64_t version = req->read_snap ? req->read_snap->version + 1 : 0;
    int64_t prev_ts = req->read_snap ? req->read_snap->timestamp_ms : -1;
    c = SL_DELTA_CONFLICT;
    int attempt;
    for (attempt = 1; attempt <= max; attempt++) {
        char *key = delta_commit_key(table_key, version);
        char *text = commit_text(req, &sc, txn_id, prev_ts);
        sl_err perr;
        c = store_put_if_absent(s, key, text, strlen(text), &perr);
        free(text);
        free(key);
        if (c == SL_OK)
            break;
        /* Whose file is at this version now? Ours when a lost answer or a
         * retried request hides our own success. */
        int owner = 0;
        sl_err oerr = {0};
        sl_code oc = commit_owner(s, table_key, version, txn_id, &owner, &oerr);
        if (oc == SL_OK && owner == 1) {
            c = SL_OK;
            break;
        }
        if (c != SL_STORE_EXISTS) {
            if (oc != SL_OK) { /* cannot tell: keep the data files */
                c = err_set(
                    err, SL_DELTA_COMMIT_UNKNOWN,
                    "%s: creating version %lld failed (%s) and the commit cannot be "
                    "read back (%s)",
                    where, (long long)version, perr.msg, oerr.msg);
                break;
            }
            if (owner == -1) { /* not there: a plain failure, safe to clean up */
                if (err)
                    *err = perr;
                break;
            }
            /* someone else's: a lost race like any other */
        }
        if (!req->read_snap) {
            c = err_set(err, SL_DELTA_TABLE_EXISTS,
                        "cannot create %s: version 0 of a table already exists there",
                        where);
            break;
        }
        c = winners_judge(s, table_key, &sc, where, &version, &prev_ts, err);
        if (c != SL_OK)
            break;
        c = SL_DELTA_CONFLICT;
        backoff(attempt);
    }
    if (c == SL_DELTA_CONFLICT && attempt > max)
        err_set(err, SL_DELTA_CONFLICT,
                "gave up committing to %s after %d attempts: other writers kept taking "
                "the next version (last tried %lld)",
                where, max, (long long)version);
    if (c == SL_OK && out) {
        memset(out, 0, sizeof *out);
        out->version = version;
        out->attempts = attempt;
        memcpy(out->txn_id, txn_id, sizeof txn_id);
    }
    if (c == SL_OK && !req->no_checkpoint)
        checkpoint_after(s, table_key, req, &sc, version, out);
    scope_free(&sc);
    free(where);
    return c;
}
