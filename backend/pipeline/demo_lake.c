/* The demo lake: two Delta tables built from the demo's own deliveries so
 * the console has real history to show. bronze `orders_raw` takes the first
 * folders one commit each, then a DELETE rewrites one file; gold
 * `orders_by_day` is overwritten twice. Data files are real Parquet; the log
 * is JSON commits only, created only-if-absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_writer.h"
#include "backend/pipeline/demo.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"
#include "version.h"

#define BRONZE "orders_raw"
#define GOLD "orders_by_day"
#define BRONZE_COMMITS 6

typedef struct order_row {
    char order_id[16];
    char customer_id[16];
    double amount;
    int32_t qty;
    int64_t updated_us;
    char op[4];
    char source_file[80];
    int64_t epoch;
    int64_t ingest_us;
} order_row;

typedef struct row_set {
    order_row *rows;
    size_t n, cap;
} row_set;

static const pq_schema_col bronze_cols[] = {
    {"order_id", PQ_TYPE_STRING, true},
    {"customer_id", PQ_TYPE_STRING, true},
    {"amount", PQ_TYPE_DOUBLE, true},
    {"qty", PQ_TYPE_INT32, true},
    {"updated_at", PQ_TYPE_TIMESTAMP_US, true},
    {"op", PQ_TYPE_STRING, true},
    {"_source_file", PQ_TYPE_STRING, true},
    {"_epoch", PQ_TYPE_INT64, true},
    {"_ingest_time", PQ_TYPE_TIMESTAMP_US, true},
};
static const char *const bronze_delta_types[] = {"string",  "string",    "double",
                                                 "integer", "timestamp", "string",
                                                 "string",  "long",      "timestamp"};

static const pq_schema_col gold_cols[] = {
    {"day", PQ_TYPE_STRING, false},
    {"orders", PQ_TYPE_INT64, false},
    {"revenue", PQ_TYPE_DOUBLE, false},
};
static const char *const gold_delta_types[] = {"string", "long", "double"};

static void rows_push(row_set *rs, const order_row *r)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->rows = sl_realloc(rs->rows, rs->cap * sizeof *rs->rows);
    }
    rs->rows[rs->n++] = *r;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Parses one delivery file; malformed lines are skipped here (quarantine
 * is the pipeline's job, not the demo's). */
static sl_code read_delivery(store *src, const char *key, int64_t epoch,
                             int64_t ingest_ms, row_set *out, sl_err *err)
{
    sl_buf b = {0};
    sl_code c = store_get(src, key, &b, err);
    if (c != SL_OK)
        return c;
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        order_row r = {.epoch = epoch, .ingest_us = ingest_ms * 1000};
        snprintf(r.order_id, sizeof r.order_id, "%s", jstr(o, "order_id"));
        snprintf(r.customer_id, sizeof r.customer_id, "%s", jstr(o, "customer_id"));
        snprintf(r.op, sizeof r.op, "%s", jstr(o, "op"));
        snprintf(r.source_file, sizeof r.source_file, "%s", key);
        r.amount = json_number_value(json_object_get(o, "amount"));
        r.qty = (int32_t)json_integer_value(json_object_get(o, "qty"));
        int64_t ms = 0;
        const char *ts = json_string_value(json_object_get(o, "updated_at"));
        if (ts && time_parse(ts, &ms, NULL) == SL_OK)
            r.updated_us = ms * 1000;
        rows_push(out, &r);
        json_decref(o);
    }
    buf_free(&b);
    return SL_OK;
}

static sl_code read_folder(store *src, int64_t epoch, int64_t ingest_ms, row_set *out,
                           sl_err *err)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "incoming/%lld/", (long long)epoch);
    store_page page = {0};
    sl_code c = store_list_all(src, prefix, NULL, &page, err);
    for (size_t i = 0; c == SL_OK && i < page.n; i++) {
        const char *k = page.items[i].key;
        size_t len = strlen(k);
        if (len > 6 && strcmp(k + len - 6, ".jsonl") == 0)
            c = read_delivery(src, k, epoch, ingest_ms, out, err);
    }
    store_page_free(&page);
    return c;
}

static pq_value str_val(const char *s)
{
    return pq_val_strn(s, strlen(s));
}

/* Finishes w into TABLE/part-...parquet (created only if absent) and
 * returns the add action Spark would write for it. */
static sl_code publish_file(store *lake, const char *table, pq_writer *w, int64_t mod_ms,
                            json_t **add_out, sl_err *err)
{
    sl_buf file = {0};
    pq_file_stats stats = {0};
    sl_code c = pq_writer_finish(w, &file, &stats, err);
    if (c == SL_OK) {
        char uuid[37];
        ids_uuid4(uuid);
        char *path = sl_asprintf("part-00000-%s-c000.parquet", uuid);
        char *key = sl_asprintf("%s/%s", table, path);
        c = store_put_if_absent(lake, key, file.data, file.len, err);
        char *stats_text =
            json_dumps(stats.delta_stats, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (c == SL_OK)
            *add_out = json_pack("{s:s, s:{}, s:I, s:I, s:b, s:s}", "path", path,
                                 "partitionValues", "size", (json_int_t)file.len,
                                 "modificationTime", (json_int_t)mod_ms, "dataChange", 1,
                                 "stats", stats_text);
        free(stats_text);
        free(key);
        free(path);
    }
    pq_file_stats_free(&stats);
    buf_free(&file);
    return c;
}

/* Writes one bronze Parquet file of rows and returns its add action. */
static sl_code write_bronze_file(store *lake, const order_row *rows, size_t n,
                                 int64_t mod_ms, json_t **add_out, sl_err *err)
{
    size_t ncols = sizeof bronze_cols / sizeof *bronze_cols;
    pq_writer *w = pq_writer_new(bronze_cols, ncols, NULL, err);
    if (!w)
        return err->code;
    sl_code c = SL_OK;
    for (size_t i = 0; c == SL_OK && i < n; i++) {
        const order_row *r = &rows[i];
        pq_value v[] = {str_val(r->order_id),        str_val(r->customer_id),
                        pq_val_f64(r->amount),       pq_val_i32(r->qty),
                        pq_val_ts_us(r->updated_us), str_val(r->op),
                        str_val(r->source_file),     pq_val_i64(r->epoch),
                        pq_val_ts_us(r->ingest_us)};
        c = pq_writer_add_row(w, v, err);
    }
    if (c == SL_OK)
        c = publish_file(lake, BRONZE, w, mod_ms, add_out, err);
    pq_writer_free(w);
    return c;
}

static json_t *schema_string(const pq_schema_col *cols, const char *const *types,
                             size_t n)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            fields, json_pack("{s:s, s:s, s:b, s:{}}", "name", cols[i].name, "type",
                              types[i], "nullable", cols[i].nullable, "metadata"));
    json_t *schema = json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
    char *text = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(schema);
    json_t *s = json_string(text);
    free(text);
    return s;
}

static json_t *metadata_action(const char *name, const pq_schema_col *cols,
                               const char *const *types, size_t n, int64_t created_ms)
{
    char id[37];
    ids_uuid4(id);
    return json_pack("{s:{s:s, s:s, s:{s:s, s:{}}, s:o, s:[], s:{}, s:I}}", "metaData",
                     "id", id, "name", name, "format", "provider", "parquet", "options",
                     "schemaString", schema_string(cols, types, n), "partitionColumns",
                     "configuration", "createdTime", (json_int_t)created_ms);
}

static json_t *commit_info(int64_t ts_ms, const char *op, json_t *params,
                           int64_t read_version, int blind, json_t *metrics)
{
    char txn[37];
    ids_uuid4(txn);
    json_t *ci = json_pack("{s:I, s:s, s:o, s:s, s:b, s:o, s:s, s:s}", "timestamp",
                           (json_int_t)ts_ms, "operation", op, "operationParameters",
                           params, "isolationLevel", "Serializable", "isBlindAppend",
                           blind, "operationMetrics", metrics, "engineInfo",
                           "sluice/" SLUICE_VERSION " (demo)", "txnId", txn);
    if (read_version >= 0)
        json_object_set_new(ci, "readVersion", json_integer(read_version));
    return json_pack("{s:o}", "commitInfo", ci);
}

/* Commits are created only if absent: the demo never overwrites a log entry. */
static sl_code write_commit(store *lake, const char *table, int64_t version,
                            json_t *actions, sl_err *err)
{
    sl_buf b = {0};
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        char *line = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
        buf_append_str(&b, line);
        buf_append_char(&b, '\n');
        free(line);
    }
    char key[128];
    snprintf(key, sizeof key, "%s/_delta_log/%020lld.json", table, (long long)version);
    sl_code c = store_put_if_absent(lake, key, b.data, b.len, err);
    buf_free(&b);
    json_decref(actions);
    return c;
}

static json_t *metrics3(const char *k1, int64_t v1, const char *k2, int64_t v2,
                        const char *k3, int64_t v3)
{
    /* Spark writes operationMetrics values as strings. */
    char a[32], b[32], c[32];
    snprintf(a, sizeof a, "%lld", (long long)v1);
    snprintf(b, sizeof b, "%lld", (long long)v2);
    snprintf(c, sizeof c, "%lld", (long long)v3);
    return json_pack("{s:s, s:s, s:s}", k1, a, k2, b, k3, c);
}

static json_t *protocol_action(void)
{
    return json_pack("{s:{s:i, s:i}}", "protocol", "minReaderVersion", 1,
                     "minWriterVersion", 2);
}

static json_t *remove_action(const json_t *add, int64_t ts_ms)
{
    return json_pack("{s:{s:O, s:I, s:b, s:b, s:{}, s:O}}", "remove", "path",
                     json_object_get(add, "path"), "deletionTimestamp", (json_int_t)ts_ms,
                     "dataChange", 1, "extendedFileMetadata", 1, "partitionValues",
                     "size", json_object_get(add, "size"));
}

static int64_t stat_rows(const json_t *add)
{
    json_t *st = json_loads(json_string_value(json_object_get(add, "stats")), 0, NULL);
    int64_t n = json_integer_value(json_object_get(st, "numRecords"));
    json_decref(st);
    return n;
}

/* bronze: v0 creates the table with folder 0, v1..v4 append folders 1..4,
 * v5 deletes the op='D' rows of v2's file (a remove and a rewritten add). */
static sl_code write_bronze(store *src, store *lake, int64_t base_epoch, row_set *all,
                            sl_err *err)
{
    json_t *adds[BRONZE_COMMITS] = {0};
    sl_code c = SL_OK;
    int64_t version = 0;
    size_t ncols = sizeof bronze_cols / sizeof *bronze_cols;
    for (int i = 0; c == SL_OK && i < BRONZE_COMMITS - 1; i++, version++) {
        int64_t epoch = base_epoch + (int64_t)i * 3600;
        int64_t commit_ms = (epoch + 900) * 1000;
        size_t first = all->n;
        c = read_folder(src, epoch, commit_ms, all, err);
        if (c == SL_OK)
            c = write_bronze_file(lake, all->rows + first, all->n - first, commit_ms,
                                  &adds[i], err);
        if (c != SL_OK)
            break;
        json_t *actions = json_array();
        int64_t nrows = stat_rows(adds[i]);
        json_array_append_new(
            actions,
            commit_info(commit_ms, "WRITE",
                        json_pack("{s:s, s:s}", "mode", i ? "Append" : "ErrorIfExists",
                                  "partitionBy", "[]"),
                        i ? version - 1 : -1, i != 0,
                        metrics3("numFiles", 1, "numOutputRows", nrows, "numOutputBytes",
                                 json_integer_value(json_object_get(adds[i], "size")))));
        if (i == 0) {
            json_array_append_new(actions, protocol_action());
            json_array_append_new(actions,
                                  metadata_action(BRONZE, bronze_cols, bronze_delta_types,
                                                  ncols, commit_ms));
        }
        json_array_append_new(actions, json_pack("{s:O}", "add", adds[i]));
        c = write_commit(lake, BRONZE, version, actions, err);
    }
    if (c == SL_OK) {
        /* DELETE WHERE op = 'D' on the file written by v2. */
        int64_t epoch2 = base_epoch + 2 * 3600;
        int64_t commit_ms = (base_epoch + 5 * 3600 + 300) * 1000;
        row_set keep = {0};
        size_t deleted = 0;
        for (size_t i = 0; i < all->n; i++) {
            if (all->rows[i].epoch != epoch2)
                continue;
            if (strcmp(all->rows[i].op, "D") == 0)
                deleted++;
            else
                rows_push(&keep, &all->rows[i]);
        }
        json_t *add = NULL;
        c = write_bronze_file(lake, keep.rows, keep.n, commit_ms, &add, err);
        if (c == SL_OK) {
            json_t *actions = json_array();
            json_t *m = metrics3("numRemovedFiles", 1, "numAddedFiles", 1,
                                 "numDeletedRows", (int64_t)deleted);
            json_object_set_new(m, "numCopiedRows", json_sprintf("%zu", keep.n));
            json_array_append_new(
                actions, commit_info(commit_ms, "DELETE",
                                     json_pack("{s:s}", "predicate", "[\"(op#12 = D)\"]"),
                                     version - 1, 0, m));
            json_array_append_new(actions, remove_action(adds[2], commit_ms));
            json_array_append_new(actions, json_pack("{s:o}", "add", add));
            c = write_commit(lake, BRONZE, version, actions, err);
        }
        free(keep.rows);
    }
    for (int i = 0; i < BRONZE_COMMITS; i++)
        json_decref(adds[i]);
    return c;
}

typedef struct day_agg {
    char day[16];
    int64_t orders;
    double revenue;
} day_agg;

static sl_code write_gold_file(store *lake, const row_set *rows, size_t upto_epoch_count,
                               int64_t base_epoch, int64_t mod_ms, json_t **add_out,
                               sl_err *err)
{
    day_agg days[64];
    size_t ndays = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const order_row *r = &rows->rows[i];
        if (r->epoch >= base_epoch + (int64_t)upto_epoch_count * 3600 ||
            strcmp(r->op, "D") == 0)
            continue;
        char iso[40];
        time_format_iso(r->updated_us / 1000, iso, sizeof iso);
        iso[10] = '\0';
        size_t d = 0;
        while (d < ndays && strcmp(days[d].day, iso) != 0)
            d++;
        if (d == ndays) {
            if (ndays == 64)
                continue;
            memcpy(days[ndays].day, iso, 11); /* "YYYY-MM-DD" + NUL */
            days[ndays].orders = 0;
            days[ndays].revenue = 0;
            ndays++;
        }
        days[d].orders++;
        days[d].revenue += r->amount;
    }
    pq_writer *w =
        pq_writer_new(gold_cols, sizeof gold_cols / sizeof *gold_cols, NULL, err);
    if (!w)
        return err->code;
    sl_code c = SL_OK;
    for (size_t d = 0; c == SL_OK && d < ndays; d++) {
        pq_value v[] = {str_val(days[d].day), pq_val_i64(days[d].orders),
                        pq_val_f64(days[d].revenue)};
        c = pq_writer_add_row(w, v, err);
    }
    if (c == SL_OK)
        c = publish_file(lake, GOLD, w, mod_ms, add_out, err);
    pq_writer_free(w);
    return c;
}

/* gold: v0 aggregates folders 0..2, v1 overwrites it with folders 0..4. */
static sl_code write_gold(store *lake, const row_set *rows, int64_t base_epoch,
                          sl_err *err)
{
    json_t *prev = NULL;
    sl_code c = SL_OK;
    size_t ncols = sizeof gold_cols / sizeof *gold_cols;
    for (int v = 0; c == SL_OK && v < 2; v++) {
        size_t upto = v == 0 ? 3 : 5;
        int64_t commit_ms = (base_epoch + (int64_t)upto * 3600 + 1200) * 1000;
        json_t *add = NULL;
        c = write_gold_file(lake, rows, upto, base_epoch, commit_ms, &add, err);
        if (c != SL_OK)
            break;
        json_t *actions = json_array();
        json_array_append_new(
            actions,
            commit_info(commit_ms, "WRITE",
                        json_pack("{s:s, s:s}", "mode", "Overwrite", "partitionBy", "[]"),
                        v ? v - 1 : -1, 0,
                        metrics3("numFiles", 1, "numOutputRows", stat_rows(add),
                                 "numOutputBytes",
                                 json_integer_value(json_object_get(add, "size")))));
        if (v == 0) {
            json_array_append_new(actions, protocol_action());
            json_array_append_new(
                actions,
                metadata_action(GOLD, gold_cols, gold_delta_types, ncols, commit_ms));
        } else {
            json_array_append_new(actions, remove_action(prev, commit_ms));
        }
        json_array_append_new(actions, json_pack("{s:O}", "add", add));
        c = write_commit(lake, GOLD, v, actions, err);
        json_decref(prev);
        prev = add;
    }
    json_decref(prev);
    return c;
}

sl_code demo_lake_create(const char *lake_dir, int64_t now_ms, json_t *summary,
                         sl_err *err)
{
    const char *src_dir = json_string_value(json_object_get(summary, "dir"));
    sl_code c = paths_mkdirs(lake_dir, 0755, err);
    if (c != SL_OK)
        return c;
    store *src = NULL, *lake = NULL;
    if ((c = store_open(src_dir, &src, err)) != SL_OK)
        return c;
    if ((c = store_open(lake_dir, &lake, err)) != SL_OK) {
        store_close(src);
        return c;
    }
    int64_t base_epoch = demo_first_epoch(now_ms);
    row_set rows = {0};
    c = write_bronze(src, lake, base_epoch, &rows, err);
    if (c == SL_OK)
        c = write_gold(lake, &rows, base_epoch, err);
    free(rows.rows);
    json_t *tables = json_object_get(summary, "tables");
    json_array_append_new(tables, json_string(BRONZE));
    json_array_append_new(tables, json_string(GOLD));
    store_close(src);
    store_close(lake);
    return c;
}
