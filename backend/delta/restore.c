#include <stdlib.h>
#include <string.h>

#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_restore.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define RESTORE_DEFAULT_RETENTION_MS (7LL * 24 * 3600 * 1000)

/* Reconciliation key order: path, then DV id (none first). */
static int file_cmp(const delta_file *a, const delta_file *b)
{
    int c = strcmp(a->path, b->path);
    if (c)
        return c;
    if (!a->dv_id || !b->dv_id)
        return (a->dv_id != NULL) - (b->dv_id != NULL);
    return strcmp(a->dv_id, b->dv_id);
}

static int file_ptr_cmp(const void *x, const void *y)
{
    return file_cmp(*(const delta_file *const *)x, *(const delta_file *const *)y);
}

static const delta_file **sorted_files(const delta_snapshot *s)
{
    const delta_file **v = sl_calloc(s->nfiles ? s->nfiles : 1, sizeof *v);
    for (size_t i = 0; i < s->nfiles; i++)
        v[i] = &s->files[i];
    /* Replay already orders files this way; sort only what is not. */
    size_t k = 1;
    while (k < s->nfiles && file_cmp(v[k - 1], v[k]) <= 0)
        k++;
    if (k < s->nfiles)
        qsort(v, s->nfiles, sizeof *v, file_ptr_cmp);
    return v;
}

/* One merge over both sorted file sets: work is the two snapshots. */
static void plan_diff(delta_restore_plan *p)
{
    const delta_file **cur = sorted_files(p->current);
    const delta_file **tgt = sorted_files(p->target);
    size_t nc = p->current->nfiles, nt = p->target->nfiles, i = 0, j = 0;
    p->readd = sl_calloc(nt ? nt : 1, sizeof *p->readd);
    p->remove = sl_calloc(nc ? nc : 1, sizeof *p->remove);
    while (i < nc || j < nt) {
        int c = i == nc ? 1 : j == nt ? -1 : file_cmp(cur[i], tgt[j]);
        if (c < 0) {
            p->remove[p->nremove++] = cur[i];
            p->remove_bytes += cur[i++]->size;
        } else if (c > 0) {
            p->readd[p->nreadd++] = tgt[j];
            p->readd_bytes += tgt[j++]->size;
        } else {
            i++;
            j++;
        }
    }
    free(cur);
    free(tgt);
}

static void plan_check_files(store *s, const char *table_key, delta_restore_plan *p)
{
    p->missing = sl_calloc(p->nreadd ? p->nreadd : 1, sizeof *p->missing);
    for (size_t i = 0; i < p->nreadd; i++) {
        char *key = delta_data_file_key(s, table_key, p->readd[i]->path);
        store_obj o = {0};
        sl_err e = {0};
        if (!key || store_stat(s, key, &o, &e) != SL_OK)
            p->missing[p->nmissing++] = sl_strdup(p->readd[i]->path);
        store_obj_clear(&o);
        free(key);
    }
}

sl_code delta_restore_plan_build(store *s, const char *table_key, const delta_at *at,
                                 int64_t now_ms, delta_restore_plan **out, sl_err *err)
{
    *out = NULL;
    delta_restore_plan *p = sl_calloc(1, sizeof *p);
    p->at = *at;
    p->now_ms = now_ms;
    delta_at latest = {.kind = DELTA_AT_LATEST};
    sl_code c = delta_snapshot_open(s, table_key, &latest, &p->current, err);
    if (c == SL_OK && at->kind == DELTA_AT_LATEST)
        c = err_set(err, SL_USAGE, "restore needs a target version or timestamp");
    if (c == SL_OK)
        c = delta_snapshot_open(s, table_key, at, &p->target, err);
    if (c == SL_OK && p->target->version >= p->current->version) {
        char *where = delta_table_target(s, table_key);
        c = err_set(err, SL_USAGE,
                    "%s: restore target version %lld is not older than the latest "
                    "version %lld",
                    where, (long long)p->target->version, (long long)p->current->version);
        free(where);
    }
    if (c != SL_OK) {
        delta_restore_plan_free(p);
        return c;
    }
    plan_diff(p);
    plan_check_files(s, table_key, p);
    p->retention_ms = delta_deleted_file_retention_ms(p->current->metadata);
    if (p->retention_ms < 0)
        p->retention_ms = RESTORE_DEFAULT_RETENTION_MS;
    p->retention_warning = p->target->timestamp_ms < now_ms - p->retention_ms;
    *out = p;
    return SL_OK;
}

void delta_restore_plan_free(delta_restore_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nmissing; i++)
        free(p->missing[i]);
    free(p->missing);
    free(p->readd);
    free(p->remove);
    delta_snapshot_free(p->current);
    delta_snapshot_free(p->target);
    free(p);
}

static json_t *rows_json(int64_t rows)
{
    return rows < 0 ? json_null() : json_integer(rows);
}

static int64_t file_rows(const delta_file *f)
{
    return f->num_records < 0 ? -1 : f->num_records - f->dv_cardinality;
}

static json_t *files_json(const delta_file *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:I, s:o}", "path", v[i]->path, "size",
                              (json_int_t)v[i]->size, "rows", rows_json(file_rows(v[i])));
        if (v[i]->dv_id)
            json_object_set_new(o, "deletion_vector", json_string(v[i]->dv_id));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *delta_restore_plan_to_json(const delta_restore_plan *p, const char *table_name)
{
    const delta_snapshot *c = p->current, *t = p->target;
    char ts[40];
    time_format_iso(t->timestamp_ms, ts, sizeof ts);
    json_t *missing = json_array();
    for (size_t i = 0; i < p->nmissing; i++)
        json_array_append_new(missing, json_string(p->missing[i]));
    json_t *warnings = json_array();
    if (p->retention_warning)
        json_array_append_new(
            warnings,
            json_sprintf(
                "target version %lld (%s) is older than the table's deleted-file "
                "retention (%lld hours): its files may have been vacuumed",
                (long long)t->version, ts, (long long)(p->retention_ms / 3600000)));
    if (p->nmissing)
        json_array_append_new(
            warnings, json_sprintf("%zu file(s) to re-add no longer exist; restore will "
                                   "be refused",
                                   p->nmissing));
    return json_pack(
        "{s:s?, s:I, s:I, s:s, s:o, s:o, s:I, s:I, s:{s:I, s:I, s:o, s:I}, "
        "s:{s:I, s:o, s:I}, s:o, s:I, s:o}",
        "table", table_name, "read_version", (json_int_t)c->version, "target_version",
        (json_int_t)t->version, "target_timestamp", ts, "files_to_readd",
        files_json(p->readd, p->nreadd), "files_to_remove",
        files_json(p->remove, p->nremove), "readd_bytes", (json_int_t)p->readd_bytes,
        "remove_bytes", (json_int_t)p->remove_bytes, "before", "version",
        (json_int_t)c->version, "files", (json_int_t)c->nfiles, "rows",
        rows_json(c->num_rows), "bytes", (json_int_t)c->size_bytes, "after", "files",
        (json_int_t)t->nfiles, "rows", rows_json(t->num_rows), "bytes",
        (json_int_t)t->size_bytes, "missing_files", missing, "retention_hours",
        (json_int_t)(p->retention_ms / 3600000), "warnings", warnings);
}

/* Union of two string arrays (features), first one's order first. */
static json_t *features_union(const json_t *a, const json_t *b)
{
    if (!json_is_array(a) && !json_is_array(b))
        return NULL;
    json_t *out = json_array();
    const json_t *src[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        if (!json_is_array(src[k]))
            continue;
        json_array_foreach(src[k], i, v)
        {
            int seen = 0;
            size_t m;
            json_t *w;
            json_array_foreach(out, m, w) seen |= json_equal(v, w);
            if (!seen)
                json_array_append(out, v);
        }
    }
    return out;
}

static json_int_t proto_int(const json_t *p, const char *k)
{
    return json_integer_value(json_object_get(p, k));
}

/* The features a legacy protocol (writer < 7 / reader < 3) implies, so that
 * merging it into a table-features protocol keeps them. */
static json_t *legacy_features(const json_t *p, int reader)
{
    json_int_t v = proto_int(p, reader ? "minReaderVersion" : "minWriterVersion");
    json_t *list = json_object_get(p, reader ? "readerFeatures" : "writerFeatures");
    if (json_is_array(list) || v >= (reader ? 3 : 7))
        return json_incref(list);
    static const struct {
        int reader, version;
        const char *name;
    } implied[] = {
        {0, 2, "appendOnly"},      {0, 2, "invariants"},       {0, 3, "checkConstraints"},
        {0, 4, "changeDataFeed"},  {0, 4, "generatedColumns"}, {0, 5, "columnMapping"},
        {0, 6, "identityColumns"}, {1, 2, "columnMapping"},
    };
    json_t *out = json_array();
    for (size_t i = 0; i < sizeof implied / sizeof implied[0]; i++)
        if (implied[i].reader == reader && v >= implied[i].version)
            json_array_append_new(out, json_string(implied[i].name));
    return out;
}

/* Never a downgrade: the higher versions and every feature of either. */
static json_t *protocol_max(const json_t *cur, const json_t *tgt)
{
    json_int_t r = proto_int(cur, "minReaderVersion"),
               w = proto_int(cur, "minWriterVersion");
    if (proto_int(tgt, "minReaderVersion") > r)
        r = proto_int(tgt, "minReaderVersion");
    if (proto_int(tgt, "minWriterVersion") > w)
        w = proto_int(tgt, "minWriterVersion");
    json_t *p = json_pack("{s:I, s:I}", "minReaderVersion", r, "minWriterVersion", w);
    json_t *rf = NULL, *wf = NULL;
    /* Only a table-features result lists features; each legacy side then
     * contributes the features its versions implied. */
    if (r >= 3) {
        json_t *a = legacy_features(tgt, 1), *b = legacy_features(cur, 1);
        rf = features_union(a, b);
        json_decref(a);
        json_decref(b);
    }
    if (w >= 7) {
        json_t *a = legacy_features(tgt, 0), *b = legacy_features(cur, 0);
        wf = features_union(a, b);
        json_decref(a);
        json_decref(b);
    }
    if (rf)
        json_object_set_new(p, "readerFeatures", rf);
    if (wf)
        json_object_set_new(p, "writerFeatures", wf);
    return p;
}

/* Delta Lake's AddFile.removeWithTimestamp: the add's identity and stats. */
static json_t *remove_from_add(const json_t *add, int64_t now_ms)
{
    json_t *r = json_object();
    json_object_set(r, "path", json_object_get(add, "path"));
    json_object_set_new(r, "deletionTimestamp", json_integer(now_ms));
    json_object_set_new(r, "dataChange", json_true());
    json_object_set_new(r, "extendedFileMetadata", json_true());
    static const char *const keep[] = {
        "partitionValues",         "size", "tags", "deletionVector", "baseRowId",
        "defaultRowCommitVersion", "stats"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(add, keep[i]);
        if (v && !json_is_null(v))
            json_object_set(r, keep[i], v);
    }
    if (!json_object_get(r, "partitionValues"))
        json_object_set_new(r, "partitionValues", json_object());
    return r;
}

json_t *delta_restore_actions(const delta_restore_plan *p)
{
    json_t *acts = json_array();
    json_array_append_new(acts, json_pack("{s:O}", "metaData", p->target->metadata));
    json_array_append_new(
        acts, json_pack("{s:o}", "protocol",
                        protocol_max(p->current->protocol, p->target->protocol)));
    for (size_t i = 0; i < p->nreadd; i++) {
        json_t *add = delta_file_add(p->readd[i]);
        json_object_set_new(add, "dataChange", json_true());
        json_array_append_new(acts, json_pack("{s:o}", "add", add));
    }
    for (size_t i = 0; i < p->nremove; i++) {
        json_t *add = delta_file_add(p->remove[i]);
        json_array_append_new(
            acts, json_pack("{s:o}", "remove", remove_from_add(add, p->now_ms)));
        json_decref(add);
    }
    return acts;
}

json_t *delta_restore_parameters(const delta_restore_plan *p)
{
    if (p->at.kind == DELTA_AT_TIMESTAMP) {
        char ts[40];
        time_format_iso(p->at.timestamp_ms, ts, sizeof ts);
        return json_pack("{s:n, s:s}", "version", "timestamp", ts);
    }
    return json_pack("{s:I, s:n}", "version", (json_int_t)p->target->version,
                     "timestamp");
}

static sl_code refuse_missing(store *s, const char *table_key,
                              const delta_restore_plan *p, sl_err *err)
{
    sl_buf b = {0};
    for (size_t i = 0; i < p->nmissing && i < 20; i++)
        buf_appendf(&b, "%s%s", i ? ", " : "", p->missing[i]);
    if (p->nmissing > 20)
        buf_appendf(&b, ", ... (%zu more)", p->nmissing - 20);
    char *where = delta_table_target(s, table_key);
    sl_code c =
        err_set(err, SL_STORE_NOT_FOUND,
                "%s: cannot restore to version %lld: %zu data file(s) to re-add "
                "no longer exist (vacuumed?): %s",
                where, (long long)p->target->version, p->nmissing, b.data ? b.data : "");
    free(where);
    buf_free(&b);
    return c;
}

sl_code delta_restore_commit(store *s, const char *table_key, const delta_restore_plan *p,
                             const delta_commit_meta *meta, delta_commit_result *out,
                             sl_err *err)
{
    char *where = delta_table_target(s, table_key);
    sl_code c = delta_write_protocol_check(p->current->protocol, p->current->metadata,
                                           where, err);
    if (c == SL_OK)
        c = delta_write_protocol_check(p->target->protocol, p->target->metadata, where,
                                       err);
    free(where);
    if (c != SL_OK)
        return c;
    if (p->nmissing)
        return refuse_missing(s, table_key, p, err);
    json_t *params = delta_restore_parameters(p);
    json_t *metrics = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I}", "numRestoredFiles", (json_int_t)p->nreadd,
        "removedFilesSize", (json_int_t)p->remove_bytes, "numRemovedFiles",
        (json_int_t)p->nremove, "restoredFilesSize", (json_int_t)p->readd_bytes,
        "numOfFilesAfterRestore", (json_int_t)p->target->nfiles, "tableSizeAfterRestore",
        (json_int_t)p->target->size_bytes);
    json_t *acts = delta_restore_actions(p);
    delta_commit_req req = {
        .meta = meta ? *meta : (delta_commit_meta){0},
        .read_snap = p->current,
        .actions = acts,
        .read_all = 1,
    };
    req.meta.operation = "RESTORE";
    req.meta.operation_parameters = params;
    req.meta.operation_metrics = metrics;
    c = delta_commit(s, table_key, &req, out, err);
    json_decref(acts);
    json_decref(params);
    json_decref(metrics);
    return c;
}
