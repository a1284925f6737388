/* The ingest step: sources -> JSON-lines reader -> drift, expectations ->
 * streaming data files of bronze and quarantine -> two commits with txns. */
#include "backend/pipeline/ingest.h"

#include "backend/delta/delta_paths.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/delta/delta.h"
#include "backend/pipeline/expectations.h"
#include "backend/pipeline/jsonl.h"
#include "backend/pipeline/source_csv.h"
#include "backend/pipeline/source_parquet.h"
#include "backend/util/buf.h"
#include "backend/util/ids.h"
#include "backend/util/text.h"
#include "backend/util/timeutil.h"

#define DEFAULT_FILE_ROWS 1048576
#define MAX_OPEN_PARTS 64 /* open partition files before all are closed */
#define READ_CHUNK (4u << 20)
#define US_PER_DAY 86400000000LL

/* ---- columns ------------------------------------------------------------ */

static const pq_schema_col SYS_COLS[] = {
    {"_source_file", PQ_TYPE_STRING, true},
    {"_source_line", PQ_TYPE_INT64, true},
    {"_epoch", PQ_TYPE_INT64, true},
    {"_batch_id", PQ_TYPE_INT64, true},
    {"_ingest_time", PQ_TYPE_TIMESTAMP_US, true},
    {"_ingest_date", PQ_TYPE_DATE, true},
};
#define NSYS (sizeof SYS_COLS / sizeof *SYS_COLS)

static const pq_schema_col QUAR_COLS[] = {
    {"_source_file", PQ_TYPE_STRING, true}, {"_source_line", PQ_TYPE_INT64, true},
    {"_raw", PQ_TYPE_STRING, true},         {"_reason", PQ_TYPE_STRING, true},
    {"_expectation", PQ_TYPE_STRING, true}, {"_epoch", PQ_TYPE_INT64, true},
    {"_batch_id", PQ_TYPE_INT64, true},     {"_ingest_time", PQ_TYPE_TIMESTAMP_US, true},
};
#define NQUAR (sizeof QUAR_COLS / sizeof *QUAR_COLS)
enum { Q_FILE, Q_LINE, Q_RAW, Q_REASON, Q_EXPECTATION, Q_EPOCH, Q_BATCH, Q_TIME };

static pq_schema_col *cols_dup(const pq_schema_col *src, size_t n, size_t extra)
{
    pq_schema_col *c = sl_calloc(n + extra + 1, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        c[i] = src[i];
        c[i].name = sl_strdup(src[i].name);
    }
    return c;
}

static int is_system_name(const char *name)
{
    if (strcmp(name, "_rescued_data") == 0)
        return 1;
    for (size_t i = 0; i < NSYS; i++)
        if (strcmp(name, SYS_COLS[i].name) == 0)
            return 1;
    return 0;
}

sl_code ingest_bronze_cols(const pipeline_def *d, pq_schema_col **cols, size_t *n,
                           sl_err *err)
{
    size_t nd = d->bronze.ncols;
    int resc = d->bronze.on_schema_drift == PL_DRIFT_RESCUE;
    for (size_t i = 0; i < nd; i++)
        if (is_system_name(d->bronze.cols[i].name))
            return err_set(err, SL_PIPELINE_INVALID,
                           "%s: bronze column \"%s\" takes the name of a column sluice "
                           "adds",
                           d->path ? d->path : d->name, d->bronze.cols[i].name);
    pq_schema_col *c = cols_dup(d->bronze.cols, nd, (size_t)resc + NSYS);
    size_t k = nd;
    for (size_t i = 0; i < nd; i++)
        c[i].nullable = true;
    if (resc)
        c[k++] = (pq_schema_col){sl_strdup("_rescued_data"), PQ_TYPE_STRING, true};
    for (size_t i = 0; i < NSYS; i++) {
        c[k] = SYS_COLS[i];
        c[k++].name = sl_strdup(SYS_COLS[i].name);
    }
    *cols = c;
    *n = k;
    return SL_OK;
}

sl_code ingest_quarantine_cols(pq_schema_col **cols, size_t *n, sl_err *err)
{
    (void)err;
    *cols = cols_dup(QUAR_COLS, NQUAR, 0);
    *n = NQUAR;
    return SL_OK;
}

/* ---- partition values (as Delta writes them in partitionValues) ---------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* ---- streaming data files of one table ---------------------------------- */

/* The open file of one partition value combination. */
typedef struct part_file {
    pq_value *cells; /* the partition columns' values (strings owned) */
    json_t *pv;
    char *dir; /* "col=value/..." or "" */
    pq_writer *w;
} part_file;

typedef struct table_out {
    store *s;
    const char *table_key;
    const pq_schema_col *cols; /* the table's columns (borrowed) */
    size_t ncols;
    size_t *part_idx;
    size_t npart;
    pq_schema_col *data_cols; /* borrowed names */
    size_t *data_idx;
    size_t ndata;
    pq_value *vals;
    part_file *parts;
    size_t nparts;
    size_t last; /* the part of the previous row */
    const pq_writer_opts *opts;
    int64_t file_rows;
    json_t *adds;    /* [{"add":{...}}] */
    json_t *written; /* store keys of the data files, for clean-up */
    int64_t rows, bytes;
    size_t seq;
} table_out;

static sl_code tout_init(table_out *t, store *s, const char *table_key,
                         const pq_schema_col *cols, size_t ncols, const json_t *metadata,
                         const ingest_req *req, sl_err *err)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->table_key = table_key;
    t->cols = cols;
    t->ncols = ncols;
    t->opts = req->writer_opts;
    t->file_rows = req->file_rows > 0 ? req->file_rows : DEFAULT_FILE_ROWS;
    t->adds = json_array();
    t->written = json_array();
    int *is_part = sl_calloc(ncols + 1, sizeof *is_part);
    json_t *pcols = json_object_get(metadata, "partitionColumns");
    t->part_idx = sl_calloc(json_array_size(pcols) + 1, sizeof *t->part_idx);
    size_t i;
    json_t *pc;
    json_array_foreach(pcols, i, pc)
    {
        size_t k = 0;
        while (k < ncols &&
               strcmp(cols[k].name, json_string_value(pc) ? json_string_value(pc) : "") !=
                   0)
            k++;
        if (k == ncols) {
            free(is_part);
            return err_set(err, SL_DELTA_CORRUPT_LOG,
                           "%s: partition column %zu is not in the schema", table_key, i);
        }
        is_part[k] = 1;
        t->part_idx[t->npart++] = k;
    }
    t->data_cols = sl_calloc(ncols + 1, sizeof *t->data_cols);
    t->data_idx = sl_calloc(ncols + 1, sizeof *t->data_idx);
    for (size_t k = 0; k < ncols; k++)
        if (!is_part[k]) {
            t->data_cols[t->ndata] = cols[k];
            t->data_idx[t->ndata++] = k;
        }
    free(is_part);
    t->vals = sl_calloc(t->ndata + 1, sizeof *t->vals);
    return SL_OK;
}

static void part_free(table_out *t, part_file *p)
{
    for (size_t i = 0; i < t->npart; i++)
        if (pq_type_base(t->cols[t->part_idx[i]].type) == PQ_TYPE_STRING &&
            !p->cells[i].is_null)
            free((char *)p->cells[i].str.ptr);
    free(p->cells);
    json_decref(p->pv);
    free(p->dir);
    pq_writer_free(p->w);
}

/* Closes a part's open file: the Parquet bytes go to the store, the add
 * action to the list. */
static sl_code part_flush(table_out *t, part_file *p, sl_err *err)
{
    if (!p->w)
        return SL_OK;
    sl_buf file = {0};
    pq_file_stats st = {0};
    sl_code c = pq_writer_finish(p->w, &file, &st, err);
    pq_writer_free(p->w);
    p->w = NULL;
    char uuid[37];
    ids_uuid4(uuid);
    char *rel = sl_asprintf("%spart-%05zu-%s-c000%s.parquet", p->dir, t->seq++, uuid,
                            delta_codec_suffix(t->opts));
    char *key = *t->table_key ? sl_asprintf("%s/%s", t->table_key, rel) : sl_strdup(rel);
    /* A fresh random name: a plain put, so a request retried after a write
     * that landed (or tore) simply rewrites it. */
    if (c == SL_OK)
        c = store_put(t->s, key, file.data, file.len, err);
    if (c == SL_OK) {
        json_array_append_new(t->written, json_string(key));
        char *path = delta_path_uri(rel);
        json_t *add = json_object();
        json_object_set_new(add, "path", json_string(path));
        json_object_set(add, "partitionValues", p->pv);
        json_object_set_new(add, "size", json_integer((json_int_t)file.len));
        json_object_set_new(add, "modificationTime", json_integer(time_now_ms()));
        json_object_set_new(add, "dataChange", json_true());
        json_object_set_new(add, "stats", json_string(st.delta_stats_json));
        json_array_append_new(t->adds, json_pack("{s:o}", "add", add));
        t->bytes += (int64_t)file.len;
        free(path);
    }
    pq_file_stats_free(&st);
    buf_free(&file);
    free(rel);
    free(key);
    return c;
}

static sl_code tout_flush_all(table_out *t, sl_err *err)
{
    sl_code c = SL_OK;
    for (size_t i = 0; i < t->nparts && c == SL_OK; i++)
        c = part_flush(t, &t->parts[i], err);
    return c;
}

static void tout_drop_parts(table_out *t)
{
    for (size_t i = 0; i < t->nparts; i++)
        part_free(t, &t->parts[i]);
    free(t->parts);
    t->parts = NULL;
    t->nparts = 0;
    t->last = 0;
}

/* Deletes the data files written so far (a commit that will not happen)
 * and starts over. */
static void tout_discard(table_out *t)
{
    tout_drop_parts(t);
    size_t i;
    json_t *k;
    json_array_foreach(t->written, i, k)
    {
        sl_err ignored;
        store_delete(t->s, json_string_value(k), &ignored);
    }
    json_array_clear(t->written);
    json_array_clear(t->adds);
    t->rows = t->bytes = 0;
}

static void tout_free(table_out *t)
{
    tout_drop_parts(t);
    json_decref(t->adds);
    json_decref(t->written);
    free(t->part_idx);
    free(t->data_cols);
    free(t->data_idx);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static int cell_equal(pq_type t, const pq_value *a, const pq_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null == b->is_null;
    switch (pq_type_base(t)) {
    case PQ_TYPE_STRING:
        return a->str.len == b->str.len &&
               memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0;
    case PQ_TYPE_BOOLEAN:
        return a->b == b->b;
    case PQ_TYPE_INT32:
    case PQ_TYPE_DATE:
        return a->i32 == b->i32;
    case PQ_TYPE_FLOAT:
        return memcmp(&a->f32, &b->f32, sizeof a->f32) == 0;
    case PQ_TYPE_DECIMAL:
        return a->dec.lo == b->dec.lo && a->dec.hi == b->dec.hi;
    default:
        return memcmp(&a->i64, &b->i64, sizeof a->i64) == 0;
    }
}

static int part_matches(const table_out *t, const part_file *p, const pq_value *row)
{
    for (size_t i = 0; i < t->npart; i++) {
        size_t k = t->part_idx[i];
        if (!cell_equal(t->cols[k].type, &p->cells[i], &row[k]))
            return 0;
    }
    return 1;
}

static sl_code part_new(table_out *t, const pq_value *row, size_t *idx, sl_err *err)
{
    if (t->nparts == MAX_OPEN_PARTS) {
        /* Many partition values: close every open file rather than hold
         * a row group per value. */
        sl_code c = tout_flush_all(t, err);
        if (c != SL_OK)
            return c;
        tout_drop_parts(t);
    }
    t->parts = sl_realloc(t->parts, (t->nparts + 1) * sizeof *t->parts);
    part_file *p = &t->parts[t->nparts];
    memset(p, 0, sizeof *p);
    p->cells = sl_calloc(t->npart + 1, sizeof *p->cells);
    p->pv = json_object();
    sl_buf dir = {0};
    for (size_t i = 0; i < t->npart; i++) {
        const pq_schema_col *col = &t->cols[t->part_idx[i]];
        const pq_value *v = &row[t->part_idx[i]];
        p->cells[i] = *v;
        if (pq_type_base(col->type) == PQ_TYPE_STRING && !v->is_null)
            p->cells[i].str.ptr = sl_strndup(v->str.ptr, v->str.len);
        char *text = NULL;
        sl_err ignored = {0}; /* a binary partition column: written as null */
        delta_partition_text(col, v, &text, &ignored);
        json_object_set_new(p->pv, col->name, text ? json_string(text) : json_null());
        delta_dir_escape(&dir, col->name, strlen(col->name));
        buf_append_char(&dir, '=');
        if (text)
            delta_dir_escape(&dir, text, strlen(text));
        else
            buf_append_str(&dir, "__HIVE_DEFAULT_PARTITION__");
        buf_append_char(&dir, '/');
        free(text);
    }
    buf_append_str(&dir, "");
    p->dir = buf_steal(&dir);
    *idx = t->nparts++;
    return SL_OK;
}

/* One row of the table's columns into the file of its partition. */
static sl_code tout_add(table_out *t, const pq_value *row, sl_err *err)
{
    size_t idx = t->last;
    if (idx >= t->nparts || !part_matches(t, &t->parts[idx], row)) {
        idx = t->nparts;
        for (size_t i = 0; i < t->nparts; i++)
            if (part_matches(t, &t->parts[i], row)) {
                idx = i;
                break;
            }
        if (idx == t->nparts) {
            sl_code c = part_new(t, row, &idx, err);
            if (c != SL_OK)
                return c;
        }
        t->last = idx;
    }
    part_file *p = &t->parts[idx];
    if (!p->w) {
        p->w = pq_writer_new(t->data_cols, t->ndata, t->opts, err);
        if (!p->w)
            return err && err->code != SL_OK ? err->code : SL_PARQUET_SCHEMA;
    }
    for (size_t k = 0; k < t->ndata; k++)
        t->vals[k] = row[t->data_idx[k]];
    sl_code c = pq_writer_add_row(p->w, t->vals, err);
    if (c != SL_OK)
        return c;
    t->rows++;
    if (pq_writer_num_rows(p->w) >= t->file_rows)
        c = part_flush(t, p, err);
    return c;
}

/* ---- tables: create, check, evolve --------------------------------------- */

static delta_commit_meta meta_for(const ingest_req *req, const char *operation)
{
    delta_commit_meta m = {0};
    if (req->meta) {
        m.operator_name = req->meta->operator_name;
        m.run_id = req->meta->run_id;
        m.audit_event_id = req->meta->audit_event_id;
        m.isolation_level = req->meta->isolation_level;
    }
    m.operation = operation;
    return m;
}

/* The latest snapshot of the table at key, created first when missing. */
static sl_code table_open(store *lake, const char *key, const pq_schema_col *cols,
                          size_t ncols, const char *const *part, size_t npart,
                          const ingest_req *req, delta_snapshot **snap, sl_err *err)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    sl_code c = delta_snapshot_open(lake, key, &latest, snap, err);
    if (c != SL_DELTA_NOT_A_TABLE)
        return c;
    delta_table_spec spec = {
        .cols = cols,
        .ncols = ncols,
        .partition_cols = part,
        .npartition_cols = npart,
        .name = key,
    };
    delta_commit_meta m = meta_for(req, NULL);
    delta_commit_result res;
    c = delta_table_create(lake, key, &spec, &m, &res, err);
    if (c != SL_OK && c != SL_DELTA_TABLE_EXISTS) /* a racing creator is fine */
        return c;
    return delta_snapshot_open(lake, key, &latest, snap, err);
}

static const char *type_name(pq_type t, char *buf, size_t n)
{
    if (delta_type_name(t, buf, n) != 0)
        snprintf(buf, n, "?");
    return buf;
}

/* The table's columns must start with the expected ones, same names and
 * types; columns after them (added by evolve) are allowed. */
static sl_code schema_check(const char *key, const pq_schema_col *have, size_t nhave,
                            const pq_schema_col *want, size_t nwant, sl_err *err)
{
    for (size_t i = 0; i < nwant; i++) {
        char a[32], b[32];
        if (i >= nhave)
            return err_set(err, SL_DELTA_SCHEMA,
                           "table %s has %zu columns; the pipeline wants \"%s\" (%s) as "
                           "column %zu",
                           key, nhave, want[i].name, type_name(want[i].type, b, sizeof b),
                           i + 1);
        if (strcmp(have[i].name, want[i].name) != 0 || have[i].type != want[i].type)
            return err_set(err, SL_DELTA_SCHEMA,
                           "table %s: column %zu is \"%s\" (%s) where the pipeline wants "
                           "\"%s\" (%s); change the pipeline back, or move the table "
                           "away",
                           key, i + 1, have[i].name, type_name(have[i].type, a, sizeof a),
                           want[i].name, type_name(want[i].type, b, sizeof b));
    }
    return SL_OK;
}

/* Appends columns to the table's schema with a metaData commit of their
 * own. Adding a column that is already there is skipped, so a repeat is
 * harmless; the commit carries txn(<pipeline>:bronze-schema, batch) so that
 * a run resumed after a crash can still find it and attribute it to the
 * batch (rollback-run undoes it with the data). *version: the commit, or -1. */
static sl_code add_columns(store *lake, const char *key, const delta_snapshot *snap,
                           const pq_schema_col *add, size_t nadd, const ingest_req *req,
                           int64_t *version, sl_err *err)
{
    *version = -1;
    json_error_t je;
    const char *ss = json_string_value(json_object_get(snap->metadata, "schemaString"));
    json_t *schema = ss ? json_loads(ss, 0, &je) : NULL;
    json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields)) {
        json_decref(schema);
        return err_set(err, SL_DELTA_CORRUPT_LOG, "%s: metaData has no schema", key);
    }
    json_t *added = json_array();
    for (size_t i = 0; i < nadd; i++) {
        size_t j;
        json_t *f;
        int have = 0;
        json_array_foreach(fields, j, f)
        {
            const char *n = json_string_value(json_object_get(f, "name"));
            have |= n && strcasecmp(n, add[i].name) == 0;
        }
        if (have)
            continue;
        char tn[32];
        type_name(add[i].type, tn, sizeof tn);
        json_t *nf = json_pack("{s:s,s:s,s:b,s:{}}", "name", add[i].name, "type", tn,
                               "nullable", 1, "metadata");
        json_array_append(fields, nf);
        json_array_append_new(added, json_pack("{s:o}", "column", nf));
    }
    sl_code c = SL_OK;
    if (json_array_size(added)) {
        json_t *md = json_deep_copy(snap->metadata);
        char *text = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_object_set_new(md, "schemaString", json_string(text));
        free(text);
        char *app = pipeline_app_id(req->def, "bronze-schema");
        json_t *actions = json_pack("[{s:o},{s:{s:s,s:I,s:I}}]", "metaData", md, "txn",
                                    "appId", app, "version", (json_int_t)req->batch_id,
                                    "lastUpdated", (json_int_t)time_now_ms());
        free(app);
        char *cols_text = json_dumps(added, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_t *params = json_pack("{s:s}", "columns", cols_text);
        free(cols_text);
        delta_commit_req creq = {0};
        creq.meta = meta_for(req, "ADD COLUMNS");
        creq.meta.operation_parameters = params;
        creq.read_snap = snap;
        creq.actions = actions;
        delta_commit_result res;
        c = delta_commit(lake, key, &creq, &res, err);
        if (c == SL_OK)
            *version = res.version;
        json_decref(params);
        json_decref(actions);
    }
    json_decref(added);
    json_decref(schema);
    return c;
}

/* ---- the pass over the source files -------------------------------------- */

/* Kinds seen for a key outside the schema (evolve). */
typedef struct new_col {
    char *name;
    unsigned kinds; /* 1 << jsonl_kind */
} new_col;

typedef struct ingest_ctx {
    store *lake;
    const ingest_req *req;
    const pipeline_def *d;
    char *bronze_key, *quar_key;
    delta_snapshot *bsnap, *qsnap;
    pq_schema_col *bcols; /* bronze's columns as the table has them */
    size_t nbcols;
    pq_schema_col *qcols;
    size_t nqcols;
    /* The reader's columns: declared ones, then columns evolve added. */
    pq_schema_col *rcols; /* borrowed names */
    size_t *ridx;         /* reader column -> bronze column */
    size_t nr;
    size_t ndeclared;
    long i_resc, i_file, i_line, i_epoch, i_batch, i_time, i_date;
    pq_value *brow, qrow[NQUAR];
    expect_set *ex;
    table_out bout, qout;
    int quar_done;          /* quarantine's txn already holds this batch (a re-run) */
    int64_t evolve_version; /* evolve's ADD COLUMNS commit, -1: none */
    /* per file */
    const char *file;
    jsonl_reader *jr;
    /* counts */
    int64_t lines, rows_read, q_exp, malformed, dropped, rescued, bytes;
    /* evolve: keys outside the schema */
    new_col *newc;
    size_t nnew;
    /* an expectation with on_fail fail broke: where first */
    int64_t fail_line;
    char *fail_file;
    size_t fail_which;
    int discard;      /* rows are no longer written (the step will not commit) */
    sl_code deferred; /* an error inside a callback that cannot return one */
    sl_err deferred_err;
    sl_buf tmp;
} ingest_ctx;

static int64_t ingest_day(const ingest_req *req)
{
    return floor_div(req->ingest_time_us, US_PER_DAY);
}

static sl_code quarantine(ingest_ctx *x, int64_t line_no, const char *raw, size_t len,
                          const char *reason, const char *expectation, sl_err *err)
{
    if (x->quar_done || x->discard)
        return SL_OK;
    pq_value *q = x->qrow;
    q[Q_FILE] = pq_val_str(x->file);
    q[Q_LINE] = pq_val_i64(line_no);
    q[Q_RAW] = pq_val_strn(raw, len);
    q[Q_REASON] = pq_val_str(reason);
    q[Q_EXPECTATION] = pq_val_str(expectation);
    q[Q_EPOCH] = x->req->epoch >= 0 ? pq_val_i64(x->req->epoch) : pq_val_null();
    q[Q_BATCH] = pq_val_i64(x->req->batch_id);
    q[Q_TIME] = pq_val_ts_us(x->req->ingest_time_us);
    /* Raw text that is not UTF-8 cannot be a Parquet string: keep it
     * readable, with the bad bytes as \xNN, rather than lose the line. */
    sl_buf fixed = {0};
    if (!text_utf8_valid((const uint8_t *)raw, len)) {
        for (size_t i = 0; i < len;) {
            size_t n = text_utf8_seq_len((const unsigned char *)raw + i, len - i);
            if (n) {
                buf_append(&fixed, raw + i, n);
                i += n;
            } else {
                buf_appendf(&fixed, "\\x%02X", (unsigned char)raw[i++]);
            }
        }
        q[Q_RAW] = pq_val_strn(fixed.data, fixed.len);
    }
    sl_code c = tout_add(&x->qout, q, err);
    buf_free(&fixed);
    return c;
}

static void on_bad(void *ctx, int64_t line_no, const char *line, size_t len,
                   const char *why)
{
    ingest_ctx *x = ctx;
    x->malformed++;
    if (x->deferred != SL_OK)
        return;
    x->deferred = quarantine(x, line_no, line, len, why, NULL, &x->deferred_err);
}

static sl_code csv_bad(void *ctx, const char *raw, size_t len, int64_t record_no,
                       const char *why, sl_err *err)
{
    ingest_ctx *x = ctx;
    x->malformed++;
    x->lines++;
    return quarantine(x, record_no, raw, len, why, NULL, err);
}

static void note_new_key(ingest_ctx *x, const char *key, size_t klen, jsonl_kind kind)
{
    size_t i = 0;
    while (i < x->nnew &&
           !(strlen(x->newc[i].name) == klen && memcmp(x->newc[i].name, key, klen) == 0))
        i++;
    if (i == x->nnew) {
        x->newc = sl_realloc(x->newc, (x->nnew + 1) * sizeof *x->newc);
        x->newc[x->nnew++] = (new_col){sl_strndup(key, klen), 0};
    }
    x->newc[i].kinds |= 1u << kind;
}

/* Schema drift of the row under on_schema_drift; 1 when the row is not to
 * be written (evolve found new keys: the pass restarts). */
static sl_code row_drift(ingest_ctx *x, int64_t line_no, int *skip, sl_err *err)
{
    *skip = 0;
    size_t n = jsonl_reader_unknown_count(x->jr);
    if (!n)
        return SL_OK;
    const char *k;
    size_t kl;
    jsonl_kind kind;
    switch (x->d->bronze.on_schema_drift) {
    case PL_DRIFT_FAIL:
        jsonl_reader_unknown(x->jr, 0, &k, &kl, &kind);
        return err_set(err, SL_INGEST_SCHEMA_DRIFT,
                       "%s line %" PRId64 ": key \"%.*s\" is not in the schema of bronze "
                       "table %s (on_schema_drift is \"fail\")",
                       x->file, line_no, (int)kl, k, x->bronze_key);
    case PL_DRIFT_EVOLVE:
        for (size_t i = 0; i < n; i++) {
            jsonl_reader_unknown(x->jr, i, &k, &kl, &kind);
            note_new_key(x, k, kl, kind);
        }
        x->discard = 1;
        *skip = 1;
        return SL_OK;
    default:
        return SL_OK; /* rescue: the reader has the rescued text */
    }
}

static sl_code on_row(void *ctx, const pq_value *row, int64_t line_no, sl_err *err)
{
    ingest_ctx *x = ctx;
    x->rows_read++;
    int skip;
    sl_code c = row_drift(x, line_no, &skip, err);
    if (c != SL_OK || skip || x->nnew)
        return c; /* an evolve pass that will restart counts nothing more */
    pq_value *b = x->brow;
    for (size_t i = 0; i < x->nr; i++)
        b[x->ridx[i]] = row[i];
    int rescued = 0;
    if (x->i_resc >= 0) {
        size_t rl;
        const char *resc = jsonl_reader_rescued(x->jr, &rl);
        b[x->i_resc] = resc ? pq_val_strn(resc, rl) : pq_val_null();
        rescued = resc != NULL;
    }
    b[x->i_line] = pq_val_i64(line_no);
    size_t which;
    switch (expect_row(x->ex, b, &which)) {
    case EXPECT_PASS:
        x->rescued += rescued;
        return x->discard ? SL_OK : tout_add(&x->bout, b, err);
    case EXPECT_DROP:
        x->dropped++;
        return SL_OK;
    case EXPECT_QUARANTINE: {
        x->q_exp++;
        const pl_expectation *e = expect_get(x->ex, which);
        char *rule = expect_rule_text(e);
        buf_reset(&x->tmp);
        buf_appendf(&x->tmp, "expectation \"%s\" failed: %s %s", e->name, e->column,
                    rule);
        free(rule);
        size_t ll;
        const char *line = jsonl_reader_line(x->jr, &ll);
        return quarantine(x, line_no, line, ll, x->tmp.data, e->name, err);
    }
    case EXPECT_FAIL:
        if (!x->fail_file) {
            x->fail_file = sl_strdup(x->file);
            x->fail_line = line_no;
            x->fail_which = which;
        }
        x->discard = 1; /* keep counting, write nothing */
        return SL_OK;
    }
    return SL_OK;
}

static sl_code csv_line(void *ctx, const char *json, size_t len, int64_t record_no,
                        sl_err *err)
{
    ingest_ctx *x = ctx;
    return jsonl_reader_parse_line(x->jr, json, len, record_no, err);
}

static sl_code pq_row(void *ctx, const char *json, size_t len, int64_t row_no,
                      sl_err *err)
{
    ingest_ctx *x = ctx;
    return jsonl_reader_parse_line(x->jr, json, len, row_no, err);
}

/* Reads the file in chunks, handing each to feed. */
static sl_code read_chunks(ingest_ctx *x, const char *key,
                           sl_code (*feed)(void *h, const char *data, size_t len,
                                           sl_err *err),
                           void *h, sl_err *err)
{
    sl_buf chunk = {0};
    uint64_t off = 0;
    sl_code c = SL_OK;
    for (;;) {
        buf_reset(&chunk);
        c = store_get_range(x->req->source, key, off, READ_CHUNK, &chunk, err);
        if (c != SL_OK)
            break;
        x->bytes += (int64_t)chunk.len;
        off += chunk.len;
        if (chunk.len)
            c = feed(h, chunk.data, chunk.len, err);
        if (c != SL_OK || chunk.len < READ_CHUNK)
            break;
        if (x->deferred != SL_OK)
            break;
    }
    buf_free(&chunk);
    return c;
}

static sl_code feed_jsonl(void *h, const char *data, size_t len, sl_err *err)
{
    return jsonl_reader_feed(h, data, len, err);
}

static sl_code feed_csv(void *h, const char *data, size_t len, sl_err *err)
{
    return csv_source_feed(h, data, len, err);
}

static sl_code read_file(ingest_ctx *x, const char *key, sl_err *err)
{
    x->file = key;
    x->jr = jsonl_reader_new(x->rcols, x->nr, on_row, on_bad, x);
    jsonl_reader_set_rescue(x->jr, x->d->bronze.on_schema_drift == PL_DRIFT_RESCUE);
    for (size_t i = x->ndeclared; i < x->nr; i++)
        jsonl_reader_set_any_as_text(x->jr, i, 1);
    x->brow[x->i_file] = pq_val_str(key);
    sl_code c;
    switch (x->d->source.format) {
    case PL_FORMAT_CSV: {
        jsonl_reader_set_text_values(x->jr, 1);
        csv_source *cs = csv_source_new(key, csv_line, csv_bad, x);
        c = read_chunks(x, key, feed_csv, cs, err);
        if (c == SL_OK && x->deferred == SL_OK)
            c = csv_source_finish(cs, err);
        csv_source_free(cs);
        break;
    }
    case PL_FORMAT_PARQUET: {
        jsonl_reader_set_text_values(x->jr, 1);
        store_obj st = {0};
        c = store_stat(x->req->source, key, &st, err);
        if (c == SL_OK) {
            x->bytes += (int64_t)st.size;
            c = source_parquet_read(x->req->source, key, pq_row, x, NULL, err);
        }
        store_obj_clear(&st);
        break;
    }
    default:
        c = read_chunks(x, key, feed_jsonl, x->jr, err);
        if (c == SL_OK && x->deferred == SL_OK)
            c = jsonl_reader_finish(x->jr, err);
    }
    x->lines += jsonl_reader_stats(x->jr)->lines;
    jsonl_reader_free(x->jr);
    x->jr = NULL;
    if (c == SL_OK && x->deferred != SL_OK) {
        c = x->deferred;
        if (err)
            *err = x->deferred_err;
    }
    return c;
}

/* ---- setup ------------------------------------------------------------- */

static long col_index(const pq_schema_col *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* The reader's columns, system cells and expectations from bronze's
 * current schema (again after evolve added columns). */
static sl_code bind_bronze(ingest_ctx *x, sl_err *err)
{
    delta_schema_cols_free(x->bcols, x->nbcols);
    x->bcols = NULL;
    free(x->rcols);
    free(x->ridx);
    free(x->brow);
    expect_set_free(x->ex);
    x->ex = NULL;
    sl_code c = delta_schema_cols(x->bsnap->metadata, &x->bcols, &x->nbcols, err);
    if (c != SL_OK)
        return c;
    pq_schema_col *want;
    size_t nwant;
    c = ingest_bronze_cols(x->d, &want, &nwant, err);
    if (c != SL_OK)
        return c;
    c = schema_check(x->bronze_key, x->bcols, x->nbcols, want, nwant, err);
    delta_schema_cols_free(want, nwant);
    if (c != SL_OK)
        return c;
    x->ndeclared = x->d->bronze.ncols;
    x->nr = x->ndeclared + (x->nbcols - nwant);
    x->rcols = sl_calloc(x->nr + 1, sizeof *x->rcols);
    x->ridx = sl_calloc(x->nr + 1, sizeof *x->ridx);
    for (size_t i = 0; i < x->ndeclared; i++) {
        x->rcols[i] = x->bcols[i];
        x->ridx[i] = i;
    }
    for (size_t i = x->ndeclared, k = nwant; k < x->nbcols; i++, k++) {
        x->rcols[i] = x->bcols[k];
        x->ridx[i] = k;
    }
    x->i_resc = col_index(x->bcols, x->nbcols, "_rescued_data");
    x->i_file = col_index(x->bcols, x->nbcols, "_source_file");
    x->i_line = col_index(x->bcols, x->nbcols, "_source_line");
    x->i_epoch = col_index(x->bcols, x->nbcols, "_epoch");
    x->i_batch = col_index(x->bcols, x->nbcols, "_batch_id");
    x->i_time = col_index(x->bcols, x->nbcols, "_ingest_time");
    x->i_date = col_index(x->bcols, x->nbcols, "_ingest_date");
    x->brow = sl_calloc(x->nbcols, sizeof *x->brow);
    for (size_t i = 0; i < x->nbcols; i++)
        x->brow[i] = pq_val_null();
    const ingest_req *req = x->req;
    x->brow[x->i_epoch] = req->epoch >= 0 ? pq_val_i64(req->epoch) : pq_val_null();
    x->brow[x->i_batch] = pq_val_i64(req->batch_id);
    x->brow[x->i_time] = pq_val_ts_us(req->ingest_time_us);
    x->brow[x->i_date] = pq_val_date((int32_t)ingest_day(req));
    c = expect_set_new(x->d->expectations, x->d->nexpectations, x->bcols, x->nbcols,
                       &x->ex, err);
    if (c != SL_OK)
        return c;
    tout_free(&x->bout);
    return tout_init(&x->bout, x->lake, x->bronze_key, x->bcols, x->nbcols,
                     x->bsnap->metadata, req, err);
}

static sl_code open_tables(ingest_ctx *x, sl_err *err)
{
    const pipeline_def *d = x->d;
    pq_schema_col *cols;
    size_t n;
    sl_code c = ingest_bronze_cols(d, &cols, &n, err);
    if (c != SL_OK)
        return c;
    c = table_open(x->lake, x->bronze_key, cols, n,
                   (const char *const *)d->bronze.partition_by, d->bronze.npartition_by,
                   x->req, &x->bsnap, err);
    delta_schema_cols_free(cols, n);
    if (c != SL_OK)
        return c;
    c = ingest_quarantine_cols(&x->qcols, &x->nqcols, err);
    if (c == SL_OK)
        c = table_open(x->lake, x->quar_key, x->qcols, x->nqcols, NULL, 0, x->req,
                       &x->qsnap, err);
    if (c != SL_OK)
        return c;
    pq_schema_col *have;
    size_t nhave;
    c = delta_schema_cols(x->qsnap->metadata, &have, &nhave, err);
    if (c != SL_OK)
        return c;
    c = schema_check(x->quar_key, have, nhave, x->qcols, x->nqcols, err);
    if (c == SL_OK && nhave != x->nqcols)
        c = err_set(err, SL_DELTA_SCHEMA,
                    "table %s has %zu columns; quarantine tables have %zu", x->quar_key,
                    nhave, x->nqcols);
    delta_schema_cols_free(have, nhave);
    if (c != SL_OK)
        return c;
    return tout_init(&x->qout, x->lake, x->quar_key, x->qcols, x->nqcols,
                     x->qsnap->metadata, x->req, err);
}

static int64_t txn_version(const delta_snapshot *snap, const char *app_id)
{
    json_t *v = json_object_get(json_object_get(snap->txns, app_id), "version");
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void ctx_free(ingest_ctx *x)
{
    tout_free(&x->bout);
    tout_free(&x->qout);
    delta_snapshot_free(x->bsnap);
    delta_snapshot_free(x->qsnap);
    delta_schema_cols_free(x->bcols, x->nbcols);
    delta_schema_cols_free(x->qcols, x->nqcols);
    free(x->rcols);
    free(x->ridx);
    free(x->brow);
    expect_set_free(x->ex);
    for (size_t i = 0; i < x->nnew; i++)
        free(x->newc[i].name);
    free(x->newc);
    free(x->fail_file);
    free(x->bronze_key);
    free(x->quar_key);
    buf_free(&x->tmp);
}

static void reset_counts(ingest_ctx *x)
{
    x->lines = x->rows_read = x->q_exp = x->malformed = 0;
    x->dropped = x->rescued = x->bytes = 0;
    x->discard = 0;
    x->deferred = SL_OK;
    free(x->fail_file);
    x->fail_file = NULL;
    expect_reset(x->ex);
}

/* ---- evolve ------------------------------------------------------------ */

/* An added column's type from the kinds its values had: integers -> long,
 * numbers (integers among them) -> double, booleans -> boolean; strings,
 * objects, arrays, nulls only, and any other mix -> string (the values'
 * JSON text). */
static pq_type evolved_type(unsigned kinds)
{
    kinds &= ~(1u << JSONL_NULL);
    unsigned num = (1u << JSONL_INT) | (1u << JSONL_REAL);
    if (kinds == (1u << JSONL_INT))
        return PQ_TYPE_INT64;
    if (kinds && !(kinds & ~num))
        return PQ_TYPE_DOUBLE;
    if (kinds == (1u << JSONL_BOOL))
        return PQ_TYPE_BOOLEAN;
    return PQ_TYPE_STRING;
}

static sl_code evolve(ingest_ctx *x, json_t *added, sl_err *err)
{
    static const char bad_chars[] = " ,;{}()\n\t=";
    pq_schema_col *add = sl_calloc(x->nnew + 1, sizeof *add);
    sl_code c = SL_OK;
    for (size_t i = 0; i < x->nnew && c == SL_OK; i++) {
        const char *n = x->newc[i].name;
        if (!*n || strpbrk(n, bad_chars) ||
            !text_utf8_valid((const uint8_t *)n, strlen(n)))
            c = err_set(err, SL_INGEST_SCHEMA_DRIFT,
                        "key \"%s\" cannot become a column of %s: Delta column names "
                        "without column mapping hold none of \" ,;{}()\\n\\t=\"; rename "
                        "it at the source, or use on_schema_drift \"rescue\"",
                        n, x->bronze_key);
        for (size_t k = 0; c == SL_OK && k < x->nbcols; k++)
            if (strcasecmp(x->bcols[k].name, n) == 0)
                c = err_set(err, SL_INGEST_SCHEMA_DRIFT,
                            "key \"%s\" differs from column \"%s\" of %s only in case "
                            "(Delta compares names without case)",
                            n, x->bcols[k].name, x->bronze_key);
        add[i] = (pq_schema_col){n, evolved_type(x->newc[i].kinds), true};
    }
    if (c == SL_OK)
        c = add_columns(x->lake, x->bronze_key, x->bsnap, add, x->nnew, x->req,
                        &x->evolve_version, err);
    free(add);
    if (c != SL_OK)
        return c;
    for (size_t i = 0; i < x->nnew; i++) {
        json_array_append_new(added, json_string(x->newc[i].name));
        free(x->newc[i].name);
    }
    x->nnew = 0;
    delta_snapshot_free(x->bsnap);
    x->bsnap = NULL;
    delta_at latest = {.kind = DELTA_AT_LATEST};
    c = delta_snapshot_open(x->lake, x->bronze_key, &latest, &x->bsnap, err);
    return c == SL_OK ? bind_bronze(x, err) : c;
}

/* ---- the step ------------------------------------------------------------ */

static sl_code one_pass(ingest_ctx *x, sl_err *err)
{
    reset_counts(x);
    for (size_t i = 0; i < x->req->nfiles; i++) {
        sl_code c = read_file(x, x->req->files[i], err);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}

/* The "during" check: every row read is written, quarantined or dropped,
 * and every line is a row or malformed, as counted by the reader on one
 * side and the writers on the other. */
static sl_code count_check(ingest_ctx *x, int64_t written, int64_t quarantined,
                           sl_err *err)
{
    int64_t m1 = x->rows_read - (written + (quarantined - x->malformed) + x->dropped);
    int64_t m2 = x->lines - (x->rows_read + x->malformed);
    int64_t off = llabs(m1) + llabs(m2);
    if (!off)
        return SL_OK;
    double pct = x->rows_read ? 100.0 * (double)off / (double)x->rows_read : 100.0;
    if (pct <= x->d->checks.max_count_mismatch_pct)
        return SL_OK;
    return err_set(
        err, SL_CHECK_FAILED,
        "ingest of batch %" PRId64 " into %s: %" PRId64 " lines, %" PRId64
        " rows read, %" PRId64 " malformed, %" PRId64 " written, %" PRId64
        " quarantined, %" PRId64 " dropped do not reconcile (%.2f%% off, limit "
        "%.2f%%)",
        x->req->batch_id, x->bronze_key, x->lines, x->rows_read, x->malformed, written,
        quarantined, x->dropped, pct, x->d->checks.max_count_mismatch_pct);
}

static json_t *text_json(json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *r = json_string(t ? t : "");
    free(t);
    return r;
}

/* One commit of the table's new files with the batch's txn. */
static sl_code commit_table(ingest_ctx *x, const char *key, const delta_snapshot *snap,
                            table_out *t, const char *app_id, int64_t *version,
                            sl_err *err)
{
    json_t *actions = json_array();
    json_array_extend(actions, t->adds);
    json_array_append_new(actions, json_pack("{s:{s:s,s:I,s:I}}", "txn", "appId", app_id,
                                             "version", (json_int_t)x->req->batch_id,
                                             "lastUpdated", (json_int_t)time_now_ms()));
    json_t *pcols = json_object_get(snap->metadata, "partitionColumns");
    json_t *params = json_object();
    json_object_set_new(params, "mode", json_string("Append"));
    json_object_set_new(params, "partitionBy", text_json(pcols ? pcols : json_array()));
    json_t *metrics = json_pack(
        "{s:I,s:I,s:I}", "numFiles", (json_int_t)json_array_size(t->adds),
        "numOutputRows", (json_int_t)t->rows, "numOutputBytes", (json_int_t)t->bytes);
    delta_commit_req creq = {0};
    creq.meta = meta_for(x->req, "WRITE");
    creq.meta.operation_parameters = params;
    creq.meta.operation_metrics = metrics;
    creq.read_snap = snap;
    creq.actions = actions;
    delta_commit_result res;
    sl_code c = delta_commit(x->lake, key, &creq, &res, err);
    if (c == SL_OK)
        *version = res.version;
    json_decref(actions);
    json_decref(params);
    json_decref(metrics);
    return c;
}

static sl_code check_req(const ingest_req *req, sl_err *err)
{
    if (!req || !req->def || !req->def->bronze.table || !req->def->name)
        return err_set(err, SL_INTERNAL, "ingest_run: no pipeline definition");
    if (req->nfiles && (!req->files || !req->source))
        return err_set(err, SL_INTERNAL, "ingest_run: files without a source store");
    return SL_OK;
}

/* Reads, checks, writes and commits; x is set up with both tables open. */
static sl_code ingest_batch(ingest_ctx *x, ingest_result *out, const char *bronze_app,
                            const char *quar_app, sl_err *err)
{
    sl_code c = bind_bronze(x, err);
    for (int pass = 0; c == SL_OK; pass++) {
        c = one_pass(x, err);
        if (c != SL_OK || !x->nnew)
            break;
        tout_discard(&x->bout);
        tout_discard(&x->qout);
        if (pass > 0) /* every key was added before this pass */
            return err_set(err, SL_INTERNAL, "%s: evolve found new keys twice",
                           x->bronze_key);
        c = evolve(x, out->added_columns, err);
    }
    if (c == SL_OK && x->fail_file) {
        const pl_expectation *e = expect_get(x->ex, x->fail_which);
        char *rule = expect_rule_text(e);
        c = err_set(err, SL_EXPECTATION_FAILED,
                    "expectation \"%s\" (%s %s, on_fail fail) failed on %" PRId64
                    " rows of batch %" PRId64 ", the first at %s line %" PRId64
                    "; nothing was committed",
                    e->name, e->column, rule, expect_failed(x->ex, x->fail_which),
                    x->req->batch_id, x->fail_file, x->fail_line);
        free(rule);
    }
    if (c == SL_OK)
        c = tout_flush_all(&x->bout, err);
    if (c == SL_OK)
        c = tout_flush_all(&x->qout, err);
    int64_t quarantined = x->quar_done ? x->malformed + x->q_exp : x->qout.rows;
    if (c == SL_OK)
        c = count_check(x, x->bout.rows, quarantined, err);
    if (c == SL_OK && !x->quar_done && json_array_size(x->qout.adds))
        c = commit_table(x, x->quar_key, x->qsnap, &x->qout, quar_app,
                         &out->quarantine_version, err);
    if (c != SL_OK) {
        if (c != SL_DELTA_COMMIT_UNKNOWN)
            tout_discard(&x->qout);
        tout_discard(&x->bout);
        return c;
    }
    c = commit_table(x, x->bronze_key, x->bsnap, &x->bout, bronze_app,
                     &out->bronze_version, err);
    if (c != SL_OK) {
        /* Quarantine's commit (if made) stays: its txn marks it done. A commit
         * whose fate is unknown keeps its files (orphans at worst). */
        if (c != SL_DELTA_COMMIT_UNKNOWN)
            tout_discard(&x->bout);
        return c;
    }
    out->bytes = x->bytes;
    out->lines = x->lines;
    out->rows_read = x->rows_read;
    out->rows_written = x->bout.rows;
    out->rows_quarantined = quarantined;
    out->rows_dropped = x->dropped;
    out->rows_rescued = x->rescued;
    out->malformed = x->malformed;
    return SL_OK;
}

sl_code ingest_run(store *lake, const ingest_req *req, ingest_result *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->bronze_version = out->quarantine_version = out->evolve_version = -1;
    out->expectations = json_array();
    out->added_columns = json_array();
    sl_code c = check_req(req, err);
    if (c != SL_OK)
        return c;
    const pipeline_def *d = req->def;
    out->files = (int64_t)req->nfiles;
    ingest_ctx x;
    memset(&x, 0, sizeof x);
    x.lake = lake;
    x.req = req;
    x.d = d;
    x.bronze_key = sl_strdup(d->bronze.table);
    x.quar_key = sl_asprintf("%s_quarantine", d->bronze.table);
    x.evolve_version = -1;
    char *bronze_app = pipeline_app_id(d, "bronze");
    char *quar_app = pipeline_app_id(d, "quarantine");
    c = open_tables(&x, err);
    if (c == SL_OK && txn_version(x.bsnap, bronze_app) >= req->batch_id) {
        /* Done before (a re-run after a crash): nothing is read. */
        out->skipped = 1;
        out->bronze_version = x.bsnap->version;
        out->quarantine_version = x.qsnap->version;
    } else if (c == SL_OK) {
        x.quar_done = txn_version(x.qsnap, quar_app) >= req->batch_id;
        c = ingest_batch(&x, out, bronze_app, quar_app, err);
        if (x.ex) {
            json_decref(out->expectations);
            out->expectations = expect_results_json(x.ex);
        }
    }
    out->evolve_version = x.evolve_version;
    free(bronze_app);
    free(quar_app);
    ctx_free(&x);
    return c;
}

void ingest_result_clear(ingest_result *r)
{
    if (!r)
        return;
    json_decref(r->expectations);
    json_decref(r->added_columns);
    memset(r, 0, sizeof *r);
    r->bronze_version = r->quarantine_version = r->evolve_version = -1;
}
