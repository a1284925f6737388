/* Creating a Delta table and appending rows to it: Delta type names, the
 * schemaString, Spark-style partition directories and values, data files
 * through the Parquet writer, and the add/txn actions handed to the commit
 * path. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/delta/delta_internal.h"
#include "backend/delta/delta_paths.h"
#include "backend/delta/delta_write.h"
#include "backend/util/ids.h"
#include "backend/util/timeutil.h"

#define NULL_PARTITION "__HIVE_DEFAULT_PARTITION__"

/* ---- types ------------------------------------------------------------- */

int delta_type_name(pq_type t, char *out, size_t outlen)
{
    const char *n = NULL;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        n = "boolean";
        break;
    case PQ_TYPE_INT32:
        n = "integer";
        break;
    case PQ_TYPE_INT64:
        n = "long";
        break;
    case PQ_TYPE_DOUBLE:
        n = "double";
        break;
    case PQ_TYPE_FLOAT:
        n = "float";
        break;
    case PQ_TYPE_STRING:
        n = "string";
        break;
    case PQ_TYPE_BINARY:
        n = "binary";
        break;
    case PQ_TYPE_DATE:
        n = "date";
        break;
    case PQ_TYPE_TIMESTAMP_US:
        n = "timestamp";
        break;
    case PQ_TYPE_TIMESTAMP_NTZ:
        n = "timestamp_ntz";
        break;
    case PQ_TYPE_DECIMAL: {
        int32_t p = pq_type_precision(t), s = pq_type_scale(t);
        if (p < 1 || p > PQ_DECIMAL_MAX_PRECISION || s < 0 || s > p)
            return -1;
        snprintf(out, outlen, "decimal(%d,%d)", (int)p, (int)s);
        return 0;
    }
    }
    if (!n)
        return -1;
    snprintf(out, outlen, "%s", n);
    return 0;
}

static int type_from_name(const char *n, pq_type *out)
{
    static const struct {
        const char *name;
        pq_type t;
    } simple[] = {
        {"boolean", PQ_TYPE_BOOLEAN},
        {"integer", PQ_TYPE_INT32},
        {"long", PQ_TYPE_INT64},
        {"double", PQ_TYPE_DOUBLE},
        {"float", PQ_TYPE_FLOAT},
        {"string", PQ_TYPE_STRING},
        {"binary", PQ_TYPE_BINARY},
        {"date", PQ_TYPE_DATE},
        {"timestamp", PQ_TYPE_TIMESTAMP_US},
        {"timestamp_ntz", PQ_TYPE_TIMESTAMP_NTZ},
    };
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (strcmp(n, simple[i].name) == 0) {
            *out = simple[i].t;
            return 0;
        }
    int p, s, used = 0;
    if (sscanf(n, "decimal(%d,%d)%n", &p, &s, &used) == 2 && n[used] == '\0' && p >= 1 &&
        p <= PQ_DECIMAL_MAX_PRECISION && s >= 0 && s <= p) {
        *out = PQ_TYPE_DECIMAL_OF(p, s);
        return 0;
    }
    return -1;
}

void delta_schema_cols_free(pq_schema_col *cols, size_t ncols)
{
    for (size_t i = 0; cols && i < ncols; i++)
        free((char *)cols[i].name);
    free(cols);
}

sl_code delta_schema_cols(const json_t *metadata, pq_schema_col **cols_out,
                          size_t *ncols_out, sl_err *err)
{
    const char *text = json_string_value(json_object_get(metadata, "schemaString"));
    if (!text)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "metaData has no schemaString");
    json_error_t je;
    json_t *schema = json_loads(text, 0, &je);
    json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields)) {
        json_decref(schema);
        return err_set(err, SL_DELTA_CORRUPT_LOG,
                       "metaData.schemaString is not a struct with fields");
    }
    size_t n = json_array_size(fields);
    pq_schema_col *cols = sl_calloc(n ? n : 1, sizeof *cols);
    size_t i;
    json_t *f;
    sl_code c = SL_OK;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *tn = json_string_value(json_object_get(f, "type"));
        if (!name) {
            c = err_set(err, SL_DELTA_CORRUPT_LOG, "schema field %zu has no name", i);
            break;
        }
        cols[i].name = sl_strdup(name);
        if (!tn || type_from_name(tn, &cols[i].type) != 0) {
            c = err_set(err, SL_DELTA_UNSUPPORTED_FEATURE,
                        "column '%s' has type %s; sluice writes only the primitive types "
                        "string, long, integer, double, float, boolean, binary, date, "
                        "timestamp, timestamp_ntz and decimal",
                        name, tn ? tn : "(nested)");
            break;
        }
        cols[i].nullable = !json_is_false(json_object_get(f, "nullable"));
    }
    json_decref(schema);
    if (c != SL_OK) {
        delta_schema_cols_free(cols, n);
        return c;
    }
    *cols_out = cols;
    *ncols_out = n;
    return SL_OK;
}

/* ---- one data file ---------------------------------------------------- */

typedef struct table_shape {
    pq_schema_col *cols;
    size_t ncols;
    int *is_part;     /* per column */
    size_t *part_idx; /* column index of each partition column, in metaData order */
    size_t npart;
    pq_schema_col *data_cols; /* borrowed names */
    size_t *data_idx;
    size_t ndata;
} table_shape;

static void shape_free(table_shape *sh)
{
    delta_schema_cols_free(sh->cols, sh->ncols);
    free(sh->is_part);
    free(sh->part_idx);
    free(sh->data_cols);
    free(sh->data_idx);
    memset(sh, 0, sizeof *sh);
}

static sl_code shape_load(const json_t *metadata, table_shape *sh, sl_err *err)
{
    memset(sh, 0, sizeof *sh);
    sl_code c = delta_schema_cols(metadata, &sh->cols, &sh->ncols, err);
    if (c != SL_OK)
        return c;
    sh->is_part = sl_calloc(sh->ncols + 1, sizeof *sh->is_part);
    json_t *pcols = json_object_get(metadata, "partitionColumns");
    sh->part_idx = sl_calloc(json_array_size(pcols) + 1, sizeof *sh->part_idx);
    size_t i;
    json_t *pc;
    json_array_foreach(pcols, i, pc)
    {
        const char *name = json_string_value(pc);
        size_t k = 0;
        while (k < sh->ncols && (!name || strcmp(sh->cols[k].name, name) != 0))
            k++;
        if (k == sh->ncols) {
            c = err_set(err, SL_DELTA_CORRUPT_LOG,
                        "partition column %zu (%s) is not in the schema", i,
                        name ? name : "not a string");
            shape_free(sh);
            return c;
        }
        sh->is_part[k] = 1;
        sh->part_idx[sh->npart++] = k;
    }
    sh->data_cols = sl_calloc(sh->ncols + 1, sizeof *sh->data_cols);
    sh->data_idx = sl_calloc(sh->ncols + 1, sizeof *sh->data_idx);
    for (size_t k = 0; k < sh->ncols; k++)
        if (!sh->is_part[k]) {
            sh->data_cols[sh->ndata] = sh->cols[k];
            sh->data_idx[sh->ndata++] = k;
        }
    if (sh->ndata == 0) {
        shape_free(sh);
        return err_set(err, SL_DELTA_SCHEMA, "every column is a partition column");
    }
    return SL_OK;
}

/* partitionValues of a row, and the Hive directory ("a=1/b=x/") into dir. */
static sl_code row_partition(const table_shape *sh, const pq_value *row, json_t **pv_out,
                             sl_buf *dir, sl_err *err)
{
    json_t *pv = json_object();
    for (size_t i = 0; i < sh->npart; i++) {
        const pq_schema_col *col = &sh->cols[sh->part_idx[i]];
        char *text;
        sl_code c = delta_partition_text(col, &row[sh->part_idx[i]], &text, err);
        if (c != SL_OK) {
            json_decref(pv);
            return c;
        }
        json_t *jv = text ? json_string(text) : json_null();
        if (!jv) {
            free(text);
            json_decref(pv);
            return err_set(err, SL_DELTA_SCHEMA,
                           "partition column '%s': the value is not valid UTF-8",
                           col->name);
        }
        json_object_set_new(pv, col->name, jv);
        if (dir) {
            delta_dir_escape(dir, col->name, strlen(col->name));
            buf_append_char(dir, '=');
            if (text)
                delta_dir_escape(dir, text, strlen(text));
            else
                buf_append_str(dir, NULL_PARTITION);
            buf_append_char(dir, '/');
        }
        free(text);
    }
    *pv_out = pv;
    return SL_OK;
}

static sl_code write_file_shaped(store *s, const char *table_key, const table_shape *sh,
                                 const pq_value *rows, size_t nrows,
                                 const pq_writer_opts *opts, int data_change,
                                 json_t **add_out, sl_err *err)
{
    if (nrows == 0)
        return err_set(err, SL_INTERNAL, "delta_data_file_write: no rows");
    json_t *pv = NULL;
    sl_buf dir = {0};
    sl_code c = row_partition(sh, rows, &pv, &dir, err);
    if (c != SL_OK) {
        buf_free(&dir);
        return c;
    }
    /* Every row must belong to this file's partition. */
    for (size_t r = 1; r < nrows && c == SL_OK; r++) {
        json_t *other = NULL;
        c = row_partition(sh, rows + r * sh->ncols, &other, NULL, err);
        if (c == SL_OK && !json_equal(pv, other))
            c = err_set(err, SL_INTERNAL,
                        "delta_data_file_write: row %zu has other partition values", r);
        json_decref(other);
    }
    pq_writer *w = c == SL_OK ? pq_writer_new(sh->data_cols, sh->ndata, opts, err) : NULL;
    if (c == SL_OK && !w)
        c = err ? err->code : SL_PARQUET_SCHEMA;
    pq_value *vals = sl_calloc(sh->ndata, sizeof *vals);
    for (size_t r = 0; c == SL_OK && r < nrows; r++) {
        for (size_t k = 0; k < sh->ndata; k++)
            vals[k] = rows[r * sh->ncols + sh->data_idx[k]];
        c = pq_writer_add_row(w, vals, err);
        if (c != SL_OK)
            err_wrap(err, "row %zu", r + 1);
    }
    free(vals);
    sl_buf file = {0};
    pq_file_stats st = {0};
    if (c == SL_OK)
        c = pq_writer_finish(w, &file, &st, err);
    pq_writer_free(w);
    char *rel = NULL, *key = NULL;
    if (c == SL_OK) {
        char uuid[37];
        ids_uuid4(uuid);
        rel = sl_asprintf("%.*spart-00000-%s-c000%s.parquet", (int)dir.len,
                          dir.data ? dir.data : "", uuid, delta_codec_suffix(opts));
        key = table_key && *table_key ? sl_asprintf("%s/%s", table_key, rel)
                                      : sl_strdup(rel);
        /* A fresh random name: a plain put, so a request retried after a
         * write that landed (or tore) simply rewrites it. */
        c = store_put(s, key, file.data, file.len, err);
    }
    if (c == SL_OK) {
        char *path = delta_path_uri(rel);
        json_t *add = json_object();
        json_object_set_new(add, "path", json_string(path));
        json_object_set_new(add, "partitionValues", pv);
        pv = NULL;
        json_object_set_new(add, "size", json_integer((json_int_t)file.len));
        json_object_set_new(add, "modificationTime", json_integer(time_now_ms()));
        json_object_set_new(add, "dataChange", json_boolean(data_change));
        json_object_set_new(add, "stats", json_string(st.delta_stats_json));
        free(path);
        *add_out = add;
    }
    json_decref(pv);
    pq_file_stats_free(&st);
    buf_free(&file);
    buf_free(&dir);
    free(rel);
    free(key);
    return c;
}

sl_code delta_data_file_write(store *s, const char *table_key, const json_t *metadata,
                              const pq_value *rows, size_t nrows,
                              const pq_writer_opts *opts, int data_change,
                              json_t **add_out, sl_err *err)
{
    table_shape sh;
    sl_code c = shape_load(metadata, &sh, err);
    if (c != SL_OK)
        return c;
    c = write_file_shaped(s, table_key, &sh, rows, nrows, opts, data_change, add_out,
                          err);
    shape_free(&sh);
    return c;
}

/* ---- create ------------------------------------------------------------ */

static const char bad_name_chars[] = " ,;{}()\n\t=";

static sl_code spec_check(const delta_table_spec *spec, int *needs_ntz, sl_err *err)
{
    *needs_ntz = 0;
    if (spec->ncols == 0)
        return err_set(err, SL_DELTA_SCHEMA, "a table needs at least one column");
    for (size_t i = 0; i < spec->ncols; i++) {
        const char *n = spec->cols[i].name;
        char tn[32];
        if (!n || !*n || strpbrk(n, bad_name_chars))
            return err_set(
                err, SL_DELTA_SCHEMA,
                "column %zu name '%s' is empty or holds one of \" ,;{}()\\n\\t=\" "
                "(needs column mapping, which sluice does not write)",
                i + 1, n ? n : "");
        if (delta_type_name(spec->cols[i].type, tn, sizeof tn) != 0)
            return err_set(err, SL_DELTA_SCHEMA, "column '%s' has an unknown type", n);
        if (pq_type_base(spec->cols[i].type) == PQ_TYPE_TIMESTAMP_NTZ)
            *needs_ntz = 1;
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(spec->cols[k].name, n) == 0)
                return err_set(err, SL_DELTA_SCHEMA,
                               "column names '%s' and '%s' collide (Delta compares "
                               "names without case)",
                               spec->cols[k].name, n);
    }
    size_t npart_data = 0;
    for (size_t p = 0; p < spec->npartition_cols; p++) {
        size_t k = 0;
        while (k < spec->ncols &&
               strcmp(spec->cols[k].name, spec->partition_cols[p]) != 0)
            k++;
        if (k == spec->ncols)
            return err_set(err, SL_DELTA_SCHEMA, "partition column '%s' is not a column",
                           spec->partition_cols[p]);
        if (pq_type_base(spec->cols[k].type) == PQ_TYPE_BINARY)
            return err_set(err, SL_DELTA_SCHEMA,
                           "partition column '%s' is binary, which Delta does not allow",
                           spec->partition_cols[p]);
        npart_data++;
    }
    if (npart_data >= spec->ncols)
        return err_set(err, SL_DELTA_SCHEMA, "every column is a partition column");
    if (spec->configuration) {
        const char *k;
        json_t *v;
        json_object_foreach(spec->configuration, k, v)
        {
            if (!json_is_string(v))
                return err_set(err, SL_DELTA_SCHEMA,
                               "configuration value of '%s' is not a string", k);
        }
    }
    return SL_OK;
}

static char *schema_string(const delta_table_spec *spec)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < spec->ncols; i++) {
        char tn[32];
        delta_type_name(spec->cols[i].type, tn, sizeof tn);
        json_t *f = json_object();
        json_object_set_new(f, "name", json_string(spec->cols[i].name));
        json_object_set_new(f, "type", json_string(tn));
        json_object_set_new(f, "nullable", json_boolean(spec->cols[i].nullable));
        json_object_set_new(f, "metadata", json_object());
        json_array_append_new(fields, f);
    }
    json_t *st = json_object();
    json_object_set_new(st, "type", json_string("struct"));
    json_object_set_new(st, "fields", fields);
    char *t = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(st);
    return t;
}

static json_t *json_text_string(json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_t *r = json_string(t ? t : "");
    free(t);
    return r;
}

sl_code delta_table_create(store *s, const char *table_key, const delta_table_spec *spec,
                           const delta_commit_meta *meta, delta_commit_result *out,
                           sl_err *err)
{
    int needs_ntz;
    sl_code c = spec_check(spec, &needs_ntz, err);
    if (c != SL_OK)
        return c;
    json_t *proto = json_object();
    if (needs_ntz) {
        json_object_set_new(proto, "minReaderVersion", json_integer(3));
        json_object_set_new(proto, "minWriterVersion", json_integer(7));
        json_object_set_new(proto, "readerFeatures", json_pack("[s]", "timestampNtz"));
        json_object_set_new(proto, "writerFeatures", json_pack("[s]", "timestampNtz"));
    } else {
        json_object_set_new(proto, "minReaderVersion", json_integer(1));
        json_object_set_new(proto, "minWriterVersion", json_integer(2));
    }
    char id[37];
    ids_uuid4(id);
    json_t *md = json_object();
    json_object_set_new(md, "id", json_string(id));
    if (spec->name)
        json_object_set_new(md, "name", json_string(spec->name));
    if (spec->description)
        json_object_set_new(md, "description", json_string(spec->description));
    json_object_set_new(md, "format",
                        json_pack("{s:s,s:{}}", "provider", "parquet", "options"));
    char *ss = schema_string(spec);
    json_object_set_new(md, "schemaString", json_string(ss));
    free(ss);
    json_t *pcols = json_array();
    for (size_t i = 0; i < spec->npartition_cols; i++)
        json_array_append_new(pcols, json_string(spec->partition_cols[i]));
    json_object_set_new(md, "partitionColumns", pcols);
    json_t *conf =
        spec->configuration ? json_deep_copy(spec->configuration) : json_object();
    json_object_set_new(md, "configuration", conf);
    json_object_set_new(md, "createdTime", json_integer(time_now_ms()));

    json_t *actions = json_array();
    json_array_append_new(actions, json_pack("{s:o}", "protocol", proto));
    json_array_append_new(actions, json_pack("{s:o}", "metaData", md));

    json_t *params = json_object();
    json_object_set_new(params, "isManaged", json_string("false"));
    if (spec->description)
        json_object_set_new(params, "description", json_string(spec->description));
    json_object_set_new(params, "partitionBy", json_text_string(pcols));
    json_object_set_new(params, "properties", json_text_string(conf));

    delta_commit_req req = {0};
    if (meta)
        req.meta = *meta;
    if (!req.meta.operation)
        req.meta.operation = "CREATE TABLE";
    if (!req.meta.operation_parameters)
        req.meta.operation_parameters = params;
    req.actions = actions;
    c = delta_commit(s, table_key, &req, out, err);
    json_decref(params);
    json_decref(actions);
    return c;
}

/* ---- append ------------------------------------------------------------ */

typedef struct row_key {
    char *key;
    size_t row;
} row_key;

static int row_key_cmp(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->row < y->row ? -1 : x->row > y->row;
}

void delta_adds_delete(store *s, const char *table_key, const json_t *adds)
{
    size_t i;
    json_t *a;
    json_array_foreach((json_t *)adds, i, a)
    {
        const char *p =
            json_string_value(json_object_get(json_object_get(a, "add"), "path"));
        char *key = p ? delta_data_file_key(s, table_key, p) : NULL;
        if (key) {
            sl_err ignored;
            store_delete(s, key, &ignored);
        }
        free(key);
    }
}

static sl_code append_files(store *s, const char *table_key, const table_shape *sh,
                            const delta_append_req *req, json_t *actions,
                            int64_t *bytes_out, sl_err *err)
{
    size_t n = req->nrows;
    row_key *keys = sl_calloc(n ? n : 1, sizeof *keys);
    sl_code c = SL_OK;
    for (size_t r = 0; r < n && c == SL_OK; r++) {
        json_t *pv = NULL;
        c = row_partition(sh, req->rows + r * sh->ncols, &pv, NULL, err);
        if (c == SL_OK) {
            keys[r].key = json_dumps(pv, JSON_COMPACT | JSON_SORT_KEYS);
            keys[r].row = r;
        }
        json_decref(pv);
    }
    if (c == SL_OK)
        qsort(keys, n, sizeof *keys, row_key_cmp);
    pq_value *group = sl_calloc(n ? n * sh->ncols : 1, sizeof *group);
    for (size_t i = 0; c == SL_OK && i < n;) {
        size_t j = i;
        while (j < n && strcmp(keys[j].key, keys[i].key) == 0) {
            memcpy(group + (j - i) * sh->ncols, req->rows + keys[j].row * sh->ncols,
                   sh->ncols * sizeof *group);
            j++;
        }
        json_t *add = NULL;
        c = write_file_shaped(s, table_key, sh, group, j - i, req->writer_opts, 1, &add,
                              err);
        if (c == SL_OK) {
            *bytes_out += json_integer_value(json_object_get(add, "size"));
            json_array_append_new(actions, json_pack("{s:o}", "add", add));
        }
        i = j;
    }
    free(group);
    for (size_t r = 0; r < n; r++)
        free(keys[r].key);
    free(keys);
    return c;
}

sl_code delta_table_append(store *s, const char *table_key, const delta_append_req *req,
                           const delta_commit_meta *meta, delta_append_result *out,
                           sl_err *err)
{
    delta_append_result res = {0};
    delta_snapshot *owned = NULL;
    const delta_snapshot *snap = req->read_snap;
    sl_code c = SL_OK;
    if (!snap) {
        delta_at latest = {.kind = DELTA_AT_LATEST};
        c = delta_snapshot_open(s, table_key, &latest, &owned, err);
        if (c != SL_OK)
            return c;
        snap = owned;
    }
    char *where = delta_table_target(s, table_key);
    c = delta_write_protocol_check(snap->protocol, snap->metadata, where, err);
    if (c == SL_OK && req->app_id) {
        json_t *txn = json_object_get(snap->txns, req->app_id);
        json_t *tv = json_object_get(txn, "version");
        if (json_is_integer(tv) && json_integer_value(tv) >= req->txn_version) {
            res.skipped = 1;
            res.version = snap->version;
        }
    }
    table_shape sh = {0};
    if (c == SL_OK && !res.skipped) {
        c = shape_load(snap->metadata, &sh, err);
        if (c == SL_OK && req->ncols != sh.ncols)
            c = err_set(err, SL_DELTA_SCHEMA,
                        "rows for %s have %zu columns; the table has %zu", where,
                        req->ncols, sh.ncols);
    }
    json_t *actions = json_array();
    if (c == SL_OK && !res.skipped)
        c = append_files(s, table_key, &sh, req, actions, &res.nbytes, err);
    if (c == SL_OK && !res.skipped) {
        res.nfiles = json_array_size(actions);
        res.nrows = (int64_t)req->nrows;
        if (req->app_id)
            json_array_append_new(
                actions, json_pack("{s:{s:s,s:I,s:I}}", "txn", "appId", req->app_id,
                                   "version", (json_int_t)req->txn_version, "lastUpdated",
                                   (json_int_t)time_now_ms()));
        json_t *pcols = json_object_get(snap->metadata, "partitionColumns");
        json_t *params = json_object();
        json_object_set_new(params, "mode", json_string("Append"));
        json_object_set_new(params, "partitionBy",
                            json_text_string(pcols ? pcols : json_array()));
        json_t *metrics = json_pack("{s:I,s:I,s:I}", "numFiles", (json_int_t)res.nfiles,
                                    "numOutputRows", (json_int_t)res.nrows,
                                    "numOutputBytes", (json_int_t)res.nbytes);
        delta_commit_req creq = {0};
        if (meta)
            creq.meta = *meta;
        if (!creq.meta.operation)
            creq.meta.operation = "WRITE";
        if (!creq.meta.operation_parameters)
            creq.meta.operation_parameters = params;
        if (!creq.meta.operation_metrics)
            creq.meta.operation_metrics = metrics;
        creq.read_snap = snap;
        creq.actions = actions;
        creq.max_attempts = req->max_attempts;
        creq.read_all = req->read_all;
        delta_commit_result cr = {0};
        c = delta_commit(s, table_key, &creq, &cr, err);
        if (c == SL_OK) {
            res.version = cr.version;
            res.attempts = cr.attempts;
        }
        json_decref(params);
        json_decref(metrics);
    }
    /* When the commit's fate is unknown its files stay (orphans at worst). */
    if (c != SL_OK && c != SL_DELTA_COMMIT_UNKNOWN)
        delta_adds_delete(s, table_key, actions);
    json_decref(actions);
    shape_free(&sh);
    free(where);
    delta_snapshot_free(owned);
    if (c == SL_OK && out)
        *out = res;
    return c;
}
