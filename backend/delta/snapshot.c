/* Opening a snapshot: list the log, pick the target version (latest, a
 * version, or the newest commit at or before a timestamp), plan how to
 * rebuild it (newest usable checkpoint, then the JSON commits after it),
 * replay, check the reader protocol in effect at that version, and fill row
 * counts from Parquet footers for files without stats. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/util/log.h"
#include "backend/util/timeutil.h"

char *delta_table_target(store *s, const char *table_key)
{
    const char *url = store_url(s);
    if (!table_key || !*table_key)
        return sl_strdup(url ? url : "");
    return sl_asprintf("%s/%s", url ? url : "", table_key);
}

/* The newest available commit whose time (commitInfo, else file mtime) is
 * at or before ts_ms. */
static sl_code resolve_timestamp(store *s, const delta_log_listing *l, int64_t ts_ms,
                                 int64_t *version, sl_err *err)
{
    int64_t best = -1;
    int64_t first_ts = -1;
    for (size_t i = 0; i < l->ncommits; i++) {
        const delta_commit_ref *ref = &l->commits[i];
        delta_commit_summary sum;
        sl_code c = delta_commit_summary_load(s, ref->key, &sum, err);
        if (c != SL_OK)
            return c;
        int64_t t = delta_commit_info_timestamp(sum.commit_info);
        json_decref(sum.commit_info);
        if (t < 0)
            t = ref->mtime_ms;
        if (i == 0)
            first_ts = t;
        if (t <= ts_ms)
            best = ref->version;
    }
    if (best < 0) {
        char want[32], first[32];
        time_format_iso(ts_ms, want, sizeof want);
        time_format_iso(first_ts, first, sizeof first);
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND,
                       "no commit of %s at or before %s: the oldest available commit, "
                       "version %lld, is from %s",
                       l->where, want,
                       (long long)(l->ncommits ? l->commits[0].version : -1), first);
    }
    *version = best;
    return SL_OK;
}

typedef struct replay_ctx {
    delta_replay *r;
    const char *key;
} replay_ctx;

static sl_code replay_line(void *vctx, const char *text, size_t n, size_t line,
                           sl_err *err)
{
    replay_ctx *ctx = vctx;
    return delta_replay_line(ctx->r, text, n, ctx->key, line, err);
}

static sl_code commit_replay(store *s, delta_replay *r, const char *key, sl_err *err)
{
    sl_buf b = {0};
    sl_code c = store_get(s, key, &b, err);
    if (c == SL_OK) {
        replay_ctx ctx = {.r = r, .key = key};
        delta_replay_commit_begin(r);
        c = delta_commit_lines(b.data ? b.data : "", b.len, key, replay_line, &ctx, err);
    }
    buf_free(&b);
    return c;
}

/* The commit time of `version`: its commitInfo when its JSON commit is
 * still there, else that file's mtime, else the checkpoint file's. */
static int64_t version_time(store *s, const delta_log_listing *l, int64_t version,
                            const delta_checkpoint_ref *cp)
{
    const delta_commit_ref *ref = delta_log_commit_find(l, version);
    if (!ref)
        return cp ? cp->mtime_ms : -1;
    delta_commit_summary sum;
    sl_err e = {0};
    int64_t t = -1;
    if (delta_commit_summary_load(s, ref->key, &sum, &e) == SL_OK) {
        t = delta_commit_info_timestamp(sum.commit_info);
        json_decref(sum.commit_info);
    }
    return t >= 0 ? t : ref->mtime_ms;
}

/* One way to rebuild: the checkpoint (or nothing) plus the commits after it.
 * *cp_failed tells a checkpoint that could not be read from a later failure. */
static sl_code snapshot_replay(store *s, const delta_log_listing *l, int64_t version,
                               const delta_checkpoint_ref *cp, delta_snapshot **out,
                               int *cp_failed, sl_err *err)
{
    *cp_failed = 0;
    delta_replay *r = delta_replay_new();
    sl_code c = SL_OK;
    int64_t from = 0;
    if (cp) {
        c = delta_checkpoint_replay(s, l, cp, r, err);
        *cp_failed = c != SL_OK;
        from = cp->version + 1;
    }
    for (int64_t v = from; v <= version && c == SL_OK; v++) {
        const delta_commit_ref *ref = delta_log_commit_find(l, v);
        if (!ref) /* the plan said they are all there; the store changed under us */
            c = err_set(err, SL_DELTA_GAP,
                        "commit version %lld vanished from %s while reading",
                        (long long)v, l->where);
        else
            c = commit_replay(s, r, ref->key, err);
    }
    if (c == SL_OK) {
        delta_snapshot *snap = sl_calloc(1, sizeof *snap);
        snap->version = version;
        snap->checkpoint_version = cp ? cp->version : -1;
        int64_t ts = from <= version ? delta_replay_commit_ts(r) : -1;
        if (ts < 0)
            ts = from <= version ? delta_log_commit_find(l, version)->mtime_ms
                                 : version_time(s, l, version, cp);
        snap->timestamp_ms = ts;
        delta_replay_finish(r, snap);
        c = delta_protocol_check(snap->protocol, version, err);
        if (c == SL_OK && !json_is_object(snap->metadata))
            c = err_set(err, SL_DELTA_CORRUPT_LOG,
                        "no metaData action in %s up to version %lld%s", l->where,
                        (long long)version, cp ? " (checkpoint included)" : "");
        if (c == SL_OK)
            *out = snap;
        else
            delta_snapshot_free(snap);
    }
    delta_replay_free(r);
    return c;
}

/* Tries the plan's ways in order. A checkpoint that cannot be read gives way
 * to the next one (as Delta readers do) with a log line; when none is left
 * its error is the answer, naming the file. */
static sl_code snapshot_build(store *s, const delta_log_listing *l, int64_t version,
                              const delta_plan *plan, delta_snapshot **out, sl_err *err)
{
    sl_err first = {0};
    sl_code first_c = SL_OK;
    size_t ways = plan->ncps + (plan->json_only ? 1 : 0);
    for (size_t i = 0; i < ways; i++) {
        const delta_checkpoint_ref *cp = i < plan->ncps ? plan->cps[i] : NULL;
        sl_err e = {0};
        int cp_failed = 0;
        sl_code c = snapshot_replay(s, l, version, cp, out, &cp_failed, &e);
        if (c == SL_OK)
            return SL_OK;
        if (!cp_failed) {
            if (err)
                *err = e;
            return c;
        }
        if (first_c == SL_OK) {
            first_c = c;
            first = e;
        }
        if (s->log && i + 1 < ways)
            log_op(s->log, "delta.checkpoint", cp->keys[0], c, 0,
                   "unreadable checkpoint skipped; trying an older way to rebuild");
    }
    if (err)
        *err = first;
    return first_c;
}

sl_code delta_snapshot_open_ex(store *s, const char *table_key, const delta_at *at,
                               int use_checkpoints, delta_snapshot **out, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err le = {0};
    *out = NULL;
    delta_log_listing l;
    delta_plan plan = {0};
    int64_t version = -1;
    sl_code c = delta_log_list(s, table_key, &l, &le);
    if (c == SL_OK) {
        delta_at_kind kind = at ? at->kind : DELTA_AT_LATEST;
        if (kind == DELTA_AT_VERSION)
            version = at->version;
        else if (kind == DELTA_AT_TIMESTAMP)
            c = resolve_timestamp(s, &l, at->timestamp_ms, &version, &le);
        else
            version = l.latest;
    }
    if (c == SL_OK)
        c = delta_log_plan(&l, version, use_checkpoints, &plan, &le);
    if (c == SL_OK)
        c = snapshot_build(s, &l, version, &plan, out, &le);
    delta_plan_free(&plan);
    delta_log_listing_free(&l);
    if (c == SL_OK)
        delta_footer_rows_fill(s, table_key, *out);

    if (s->log) {
        char *target = delta_table_target(s, table_key);
        char *msg = NULL;
        if (c == SL_OK) {
            const delta_snapshot *sn = *out;
            sl_buf b = {0};
            buf_appendf(&b, "version %lld, %zu files", (long long)version, sn->nfiles);
            if (sn->checkpoint_version >= 0)
                buf_appendf(&b, ", from checkpoint %lld",
                            (long long)sn->checkpoint_version);
            if (sn->rows_from_footers)
                buf_appendf(&b, ", %zu row counts from Parquet footers",
                            sn->rows_from_footers);
            if (sn->rows_unknown_files)
                buf_appendf(&b,
                            ", %zu files without stats and no readable data file "
                            "(rows unknown)",
                            sn->rows_unknown_files);
            msg = buf_steal(&b);
        } else {
            msg = sl_strdup(le.msg);
        }
        log_op(s->log, "delta.snapshot", target, c, time_mono_ms() - t0, msg);
        free(msg);
        free(target);
    }
    if (c != SL_OK && err)
        *err = le;
    return c;
}

sl_code delta_snapshot_open(store *s, const char *table_key, const delta_at *at,
                            delta_snapshot **out, sl_err *err)
{
    return delta_snapshot_open_ex(s, table_key, at, 1, out, err);
}

void delta_snapshot_free(delta_snapshot *snap)
{
    if (!snap)
        return;
    json_decref(snap->protocol);
    json_decref(snap->metadata);
    json_decref(snap->txns);
    json_decref(snap->domains);
    free(snap->files);
    free(snap->tombstones);
    delta_arena_free(snap->arena);
    free(snap->arena);
    free(snap);
}
