/* Classic checkpoint writer: the snapshot's actions as rows of the nested
 * Parquet writer, then _last_checkpoint. */
#include "backend/delta/checkpoint_write.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_shred.h"
#include "backend/util/buf.h"

#define DEFAULT_INTERVAL 10
#define WEEK_MS (7LL * 24 * 3600 * 1000)

static const char *config_value(const json_t *metadata, const char *key)
{
    const json_t *conf = json_object_get(metadata, "configuration");
    return json_string_value(json_object_get(conf, key));
}

int64_t delta_checkpoint_interval(const json_t *metadata)
{
    const char *v = config_value(metadata, "delta.checkpointInterval");
    if (!v)
        return DEFAULT_INTERVAL;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n <= 0)
        return DEFAULT_INTERVAL;
    return n;
}

bool delta_checkpoint_due(const json_t *metadata, int64_t version)
{
    return version > 0 && version % delta_checkpoint_interval(metadata) == 0;
}

/* Milliseconds per unit name (singular or plural), 0 when unknown. */
static int64_t unit_ms(const char *u, size_t n)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"millisecond", 1}, {"second", 1000},  {"minute", 60000},
                 {"hour", 3600000},  {"day", 86400000}, {"week", WEEK_MS}};
    if (n > 1 && (u[n - 1] == 's' || u[n - 1] == 'S'))
        n--;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && strncasecmp(u, units[i].name, n) == 0)
            return units[i].ms;
    return 0;
}

int64_t delta_deleted_file_retention_ms(const json_t *metadata)
{
    const char *v = config_value(metadata, "delta.deletedFileRetentionDuration");
    if (!v)
        return WEEK_MS;
    const char *p = v;
    while (isspace((unsigned char)*p))
        p++;
    if (strncasecmp(p, "interval", 8) == 0)
        p += 8;
    int64_t total = 0;
    int parts = 0;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *end = NULL;
        long long n = strtoll(p, &end, 10);
        if (end == p || n < 0)
            return -1;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        int64_t ms = unit_ms(u, (size_t)(p - u));
        if (!ms || n > INT64_MAX / ms / 2)
            return -1;
        total += n * ms;
        parts++;
    }
    return parts ? total : -1;
}

/* ---- the schema ---- */

static pq_wnode *opt_leaf(const char *name, pq_type t)
{
    return pq_wnode_leaf(name, t, PQ_REP_OPTIONAL);
}

static pq_wnode *str_map(const char *name)
{
    return pq_wnode_map(name, PQ_REP_OPTIONAL, PQ_TYPE_STRING,
                        opt_leaf("value", PQ_TYPE_STRING));
}

static pq_wnode *str_list(const char *name)
{
    return pq_wnode_list(name, PQ_REP_OPTIONAL, opt_leaf("element", PQ_TYPE_STRING));
}

static pq_wnode *dv_group(void)
{
    pq_wnode *dv = pq_wnode_group("deletionVector", PQ_REP_OPTIONAL);
    pq_wnode_add(dv, opt_leaf("storageType", PQ_TYPE_STRING));
    pq_wnode_add(dv, opt_leaf("pathOrInlineDv", PQ_TYPE_STRING));
    pq_wnode_add(dv, opt_leaf("offset", PQ_TYPE_INT32));
    pq_wnode_add(dv, opt_leaf("sizeInBytes", PQ_TYPE_INT32));
    pq_wnode_add(dv, opt_leaf("cardinality", PQ_TYPE_INT64));
    return dv;
}

/* Spark's column order and field set (the typed stats_parsed copies left
 * out: add.stats carries the JSON text). */
pq_wnode *delta_checkpoint_schema(void)
{
    pq_wnode *root = pq_wnode_group("spark_schema", PQ_REP_REQUIRED);
    pq_wnode *txn = pq_wnode_add(root, pq_wnode_group("txn", PQ_REP_OPTIONAL));
    pq_wnode_add(txn, opt_leaf("appId", PQ_TYPE_STRING));
    pq_wnode_add(txn, opt_leaf("version", PQ_TYPE_INT64));
    pq_wnode_add(txn, opt_leaf("lastUpdated", PQ_TYPE_INT64));

    pq_wnode *add = pq_wnode_add(root, pq_wnode_group("add", PQ_REP_OPTIONAL));
    pq_wnode_add(add, opt_leaf("path", PQ_TYPE_STRING));
    pq_wnode_add(add, str_map("partitionValues"));
    pq_wnode_add(add, opt_leaf("size", PQ_TYPE_INT64));
    pq_wnode_add(add, opt_leaf("modificationTime", PQ_TYPE_INT64));
    pq_wnode_add(add, opt_leaf("dataChange", PQ_TYPE_BOOLEAN));
    pq_wnode_add(add, opt_leaf("stats", PQ_TYPE_STRING));
    pq_wnode_add(add, str_map("tags"));
    pq_wnode_add(add, dv_group());
    pq_wnode_add(add, opt_leaf("baseRowId", PQ_TYPE_INT64));
    pq_wnode_add(add, opt_leaf("defaultRowCommitVersion", PQ_TYPE_INT64));
    pq_wnode_add(add, opt_leaf("clusteringProvider", PQ_TYPE_STRING));

    pq_wnode *rm = pq_wnode_add(root, pq_wnode_group("remove", PQ_REP_OPTIONAL));
    pq_wnode_add(rm, opt_leaf("path", PQ_TYPE_STRING));
    pq_wnode_add(rm, opt_leaf("deletionTimestamp", PQ_TYPE_INT64));
    pq_wnode_add(rm, opt_leaf("dataChange", PQ_TYPE_BOOLEAN));
    pq_wnode_add(rm, opt_leaf("extendedFileMetadata", PQ_TYPE_BOOLEAN));
    pq_wnode_add(rm, str_map("partitionValues"));
    pq_wnode_add(rm, opt_leaf("size", PQ_TYPE_INT64));
    pq_wnode_add(rm, opt_leaf("stats", PQ_TYPE_STRING));
    pq_wnode_add(rm, str_map("tags"));
    pq_wnode_add(rm, dv_group());
    pq_wnode_add(rm, opt_leaf("baseRowId", PQ_TYPE_INT64));
    pq_wnode_add(rm, opt_leaf("defaultRowCommitVersion", PQ_TYPE_INT64));

    pq_wnode *md = pq_wnode_add(root, pq_wnode_group("metaData", PQ_REP_OPTIONAL));
    pq_wnode_add(md, opt_leaf("id", PQ_TYPE_STRING));
    pq_wnode_add(md, opt_leaf("name", PQ_TYPE_STRING));
    pq_wnode_add(md, opt_leaf("description", PQ_TYPE_STRING));
    pq_wnode *fmt = pq_wnode_add(md, pq_wnode_group("format", PQ_REP_OPTIONAL));
    pq_wnode_add(fmt, opt_leaf("provider", PQ_TYPE_STRING));
    pq_wnode_add(fmt, str_map("options"));
    pq_wnode_add(md, opt_leaf("schemaString", PQ_TYPE_STRING));
    pq_wnode_add(md, str_list("partitionColumns"));
    pq_wnode_add(md, str_map("configuration"));
    pq_wnode_add(md, opt_leaf("createdTime", PQ_TYPE_INT64));

    pq_wnode *pr = pq_wnode_add(root, pq_wnode_group("protocol", PQ_REP_OPTIONAL));
    pq_wnode_add(pr, opt_leaf("minReaderVersion", PQ_TYPE_INT32));
    pq_wnode_add(pr, opt_leaf("minWriterVersion", PQ_TYPE_INT32));
    pq_wnode_add(pr, str_list("readerFeatures"));
    pq_wnode_add(pr, str_list("writerFeatures"));

    pq_wnode *dm = pq_wnode_add(root, pq_wnode_group("domainMetadata", PQ_REP_OPTIONAL));
    pq_wnode_add(dm, opt_leaf("domain", PQ_TYPE_STRING));
    pq_wnode_add(dm, opt_leaf("configuration", PQ_TYPE_STRING));
    pq_wnode_add(dm, opt_leaf("removed", PQ_TYPE_BOOLEAN));
    return root;
}

/* ---- rows ---- */

/* One row {name: body}; body is taken. */
static sl_code put_action(pq_shredder *sh, const char *name, json_t *body, int64_t *rows,
                          sl_err *err)
{
    if (!body)
        return err_set(err, SL_INTERNAL, "checkpoint: a %s action could not be rebuilt",
                       name);
    json_t *row = json_object();
    json_object_set_new(row, name, body);
    sl_code rc = pq_shred_row(sh, row, err);
    json_decref(row);
    if (rc == SL_OK)
        (*rows)++;
    return rc;
}

/* The body text of f's add: as written, or its checkpoint record's text
 * written into buf. NULL when there is none. */
static const char *add_text(const delta_file *f, sl_buf *buf)
{
    if (f->add_text)
        return f->add_text;
    if (!f->add_batch ||
        delta_cp_batch_add_text(f->add_batch, f->add_rec, buf, NULL) != SL_OK)
        return NULL;
    return buf->data;
}

/* One row {name: body} from the body's text. A checkpoint holds state, not
 * changes: dataChange is false, as Delta Lake writes it. */
static sl_code put_file_text(pq_shredder *sh, const char *name, const char *body,
                             int64_t *rows, sl_err *err)
{
    static const pq_shred_set data_change = {"dataChange", "false"};
    if (!body)
        return err_set(err, SL_INTERNAL, "checkpoint: a %s action could not be rebuilt",
                       name);
    sl_code rc = pq_shred_member_text(sh, name, body, strlen(body), &data_change, 1, err);
    if (rc == SL_OK)
        (*rows)++;
    return rc;
}

int delta_checkpoint_text_adds = 0;

/* One add row: copied from its checkpoint columns when it has them and
 * they fit, else from its text. */
static sl_code put_add(pq_shredder *sh, delta_cp_addw *aw, const delta_file *f,
                       sl_buf *text, delta_checkpoint_result *res, sl_err *err)
{
    if (!f->add_text && f->add_batch && !delta_checkpoint_text_adds) {
        int done = 0;
        sl_code rc = delta_cp_addw_put(aw, f->add_batch, f->add_rec, &done, err);
        if (rc != SL_OK || done) {
            if (rc == SL_OK) {
                res->rows++;
                res->num_adds_direct++;
            }
            return rc;
        }
    }
    return put_file_text(sh, "add", add_text(f, text), &res->rows, err);
}

static sl_code put_all(pq_shredder *sh, delta_cp_addw *aw, const delta_snapshot *snap,
                       int64_t now_ms, delta_checkpoint_result *res, sl_err *err)
{
    sl_code rc = SL_OK;
    if (snap->protocol)
        rc = put_action(sh, "protocol", json_deep_copy(snap->protocol), &res->rows, err);
    if (rc == SL_OK && snap->metadata)
        rc = put_action(sh, "metaData", json_deep_copy(snap->metadata), &res->rows, err);
    const char *k;
    json_t *v;
    json_object_foreach(snap->txns, k, v)
    {
        if (rc != SL_OK)
            break;
        rc = put_action(sh, "txn", json_deep_copy(v), &res->rows, err);
    }
    json_object_foreach(snap->domains, k, v)
    {
        if (rc != SL_OK)
            break;
        rc = put_action(sh, "domainMetadata", json_deep_copy(v), &res->rows, err);
    }
    /* Adds and removes, nearly every row, go to the columns with no tree in
     * between: adds read from a checkpoint straight from its columns, the
     * others from their JSON text (add texts of checkpoint records the
     * direct way leaves are written into one reused buffer). */
    sl_buf text = {0};
    for (size_t i = 0; rc == SL_OK && i < snap->nfiles; i++) {
        rc = put_add(sh, aw, &snap->files[i], &text, res, err);
        if (rc == SL_OK)
            res->num_adds++;
    }
    buf_free(&text);
    int64_t retention = delta_deleted_file_retention_ms(snap->metadata);
    for (size_t i = 0; rc == SL_OK && i < snap->ntombstones; i++) {
        const delta_tombstone *t = &snap->tombstones[i];
        /* expired: deleted before the retention window (a remove without a
         * deletionTimestamp counts as deleted at 0, as Delta reads it) */
        int64_t ts = t->deletion_timestamp < 0 ? 0 : t->deletion_timestamp;
        if (retention >= 0 && ts <= now_ms - retention)
            continue;
        rc = put_file_text(sh, "remove", t->remove_json, &res->rows, err);
        if (rc == SL_OK)
            res->num_removes++;
    }
    return rc;
}

sl_code delta_checkpoint_write(store *s, const char *table_key,
                               const delta_snapshot *snap, int64_t now_ms,
                               delta_checkpoint_result *out, sl_err *err)
{
    delta_checkpoint_result res = {.version = snap->version};
    pq_writer_opts opts = {.compression = PQ_COMPRESSION_SNAPPY};
    pq_nwriter *w = pq_nwriter_new(delta_checkpoint_schema(), &opts, err);
    if (!w)
        return err_wrap(err, "checkpoint of version %lld", (long long)snap->version);
    /* lenient: fields the schema lacks are left out rather than refused */
    pq_shredder *sh = pq_shred_new(w, false);
    delta_cp_addw *aw = delta_cp_addw_new(w);
    sl_buf file = {0};
    pq_nfile_stats st = {0};
    sl_code rc = put_all(sh, aw, snap, now_ms, &res, err);
    if (rc == SL_OK)
        rc = pq_nwriter_finish(w, &file, &st, err);
    delta_cp_addw_free(aw);
    pq_shred_free(sh);
    pq_nwriter_free(w);
    char *prefix = delta_log_prefix(table_key);
    char *key =
        sl_asprintf("%s%020lld.checkpoint.parquet", prefix, (long long)snap->version);
    char *last_key = sl_asprintf("%s_last_checkpoint", prefix);
    if (rc != SL_OK)
        err_wrap(err, "checkpoint %s", key);
    else
        rc = store_put(s, key, file.data, file.len, err);
    if (rc == SL_OK) {
        res.size_bytes = st.file_size;
        json_t *last = json_pack("{s:I, s:I, s:I, s:I}", "version",
                                 (json_int_t)snap->version, "size", (json_int_t)res.rows,
                                 "sizeInBytes", (json_int_t)st.file_size, "numOfAddFiles",
                                 (json_int_t)res.num_adds);
        char *text = json_dumps(last, JSON_COMPACT);
        rc = store_put(s, last_key, text, strlen(text), err);
        free(text);
        json_decref(last);
    }
    if (rc == SL_OK && out)
        *out = res;
    free(last_key);
    free(key);
    free(prefix);
    buf_free(&file);
    return rc;
}

sl_code delta_checkpoint_after_commit(store *s, const char *table_key, int64_t version,
                                      int64_t now_ms, bool *written, sl_err *err)
{
    if (written)
        *written = false;
    delta_at at = {.kind = DELTA_AT_VERSION, .version = version};
    delta_snapshot *snap = NULL;
    sl_code rc = delta_snapshot_open(s, table_key, &at, &snap, err);
    if (rc != SL_OK)
        return rc;
    if (delta_checkpoint_due(snap->metadata, version)) {
        rc = delta_checkpoint_write(s, table_key, snap, now_ms, NULL, err);
        if (rc == SL_OK && written)
            *written = true;
    }
    delta_snapshot_free(snap);
    return rc;
}
