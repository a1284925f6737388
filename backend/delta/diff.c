/* Two versions of a table side by side, and the first rows of one version
 * (diff.h). Everything here reads; nothing is written. */
#include "backend/delta/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/buf.h"

/* ---- schema texts ---------------------------------------------------------- */

/* A Delta type (string or nested object) as one short text. */
static void type_text(const json_t *t, sl_buf *b)
{
    if (json_is_string(t)) {
        buf_append_str(b, json_string_value(t));
        return;
    }
    const char *kind = json_string_value(json_object_get(t, "type"));
    if (kind && strcmp(kind, "struct") == 0) {
        buf_append_str(b, "struct<");
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(t, "fields"), i, f)
        {
            const char *name = json_string_value(json_object_get(f, "name"));
            buf_appendf(b, "%s%s:", i ? "," : "", name ? name : "?");
            type_text(json_object_get(f, "type"), b);
        }
        buf_append_char(b, '>');
    } else if (kind && strcmp(kind, "array") == 0) {
        buf_append_str(b, "array<");
        type_text(json_object_get(t, "elementType"), b);
        buf_append_char(b, '>');
    } else if (kind && strcmp(kind, "map") == 0) {
        buf_append_str(b, "map<");
        type_text(json_object_get(t, "keyType"), b);
        buf_append_char(b, ',');
        type_text(json_object_get(t, "valueType"), b);
        buf_append_char(b, '>');
    } else {
        char *txt = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        buf_append_str(b, txt ? txt : "?");
        free(txt);
    }
}

static char *type_string(const json_t *t)
{
    sl_buf b = {0};
    type_text(t, &b);
    return buf_steal(&b);
}

/* The fields array of metaData.schemaString (new reference in *fields,
 * an empty array when the metaData has no schema). */
static sl_code schema_fields(const json_t *metadata, json_t **fields, sl_err *err)
{
    const char *txt = json_string_value(json_object_get(metadata, "schemaString"));
    json_t *schema = txt ? json_loads(txt, 0, NULL) : NULL;
    if (txt && !schema)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "metaData.schemaString is not JSON");
    json_t *f = json_object_get(schema, "fields");
    *fields = json_is_array(f) ? json_incref(f) : json_array();
    json_decref(schema);
    return SL_OK;
}

static const json_t *field_named(const json_t *fields, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

static int field_nullable(const json_t *f)
{
    const json_t *n = json_object_get(f, "nullable");
    return !json_is_boolean(n) || json_is_true(n);
}

/* ---- sides ----------------------------------------------------------------- */

static char *partitioning_text(const json_t *metadata)
{
    sl_buf b = {0};
    buf_append_str(&b, "");
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(metadata, "partitionColumns"), i, c) buf_appendf(
        &b, "%s%s", i ? ", " : "", json_string_value(c) ? json_string_value(c) : "?");
    return buf_steal(&b);
}

static char *protocol_string(const json_t *p)
{
    sl_buf b = {0};
    buf_appendf(&b, "%lld/%lld",
                (long long)json_integer_value(json_object_get(p, "minReaderVersion")),
                (long long)json_integer_value(json_object_get(p, "minWriterVersion")));
    /* Reader and writer features together, each once. */
    json_t *seen = json_object();
    static const char *const lists[] = {"readerFeatures", "writerFeatures"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(p, lists[l]), i, f)
        {
            const char *name = json_string_value(f);
            if (!name || json_object_get(seen, name))
                continue;
            buf_appendf(&b, "%s%s", json_object_size(seen) ? "," : " ", name);
            json_object_set_new(seen, name, json_true());
        }
    }
    json_decref(seen);
    return buf_steal(&b);
}

static void side_fill(const delta_snapshot *s, delta_side *out)
{
    out->version = s->version;
    out->timestamp_ms = s->timestamp_ms;
    out->files = (int64_t)s->nfiles;
    out->rows = s->num_rows;
    out->bytes = s->size_bytes;
    out->partitioning = partitioning_text(s->metadata);
    out->protocol = protocol_string(s->protocol);
}

static void side_free(delta_side *s)
{
    free(s->partitioning);
    free(s->protocol);
}

/* ---- files ----------------------------------------------------------------- */

/* The reconciliation key of replay: path, then deletion vector id (a file
 * whose DV changed is one removed and one added). */
static int file_cmp(const void *pa, const void *pb)
{
    const delta_file *a = *(const delta_file *const *)pa;
    const delta_file *b = *(const delta_file *const *)pb;
    int c = strcmp(a->path, b->path);
    if (c)
        return c;
    if (!a->dv_id || !b->dv_id)
        return (a->dv_id != NULL) - (b->dv_id != NULL);
    return strcmp(a->dv_id, b->dv_id);
}

static const delta_file **sorted_files(const delta_snapshot *s)
{
    const delta_file **v = sl_calloc(s->nfiles ? s->nfiles : 1, sizeof *v);
    for (size_t i = 0; i < s->nfiles; i++)
        v[i] = &s->files[i];
    qsort(v, s->nfiles, sizeof *v, file_cmp);
    return v;
}

static int64_t file_rows(const delta_file *f)
{
    return f->num_records < 0 ? -1 : f->num_records - f->dv_cardinality;
}

static void file_push(delta_diff_file **list, size_t *n, int64_t *bytes, int64_t *rows,
                      const delta_file *f)
{
    *list = sl_realloc(*list, (*n + 1) * sizeof **list);
    delta_diff_file *d = &(*list)[(*n)++];
    d->path = sl_strdup(f->path);
    d->dv_id = sl_strdup(f->dv_id);
    d->size = f->size;
    d->rows = file_rows(f);
    d->modification_time = f->modification_time;
    *bytes += f->size;
    if (*rows >= 0)
        *rows = d->rows < 0 ? -1 : *rows + d->rows;
}

/* Oldest written first: the order the data arrived in. */
static int written_cmp(const void *pa, const void *pb)
{
    const delta_diff_file *a = pa, *b = pb;
    if (a->modification_time != b->modification_time)
        return a->modification_time < b->modification_time ? -1 : 1;
    return strcmp(a->path, b->path);
}

static int written_file_cmp(const void *pa, const void *pb)
{
    const delta_file *a = *(const delta_file *const *)pa;
    const delta_file *b = *(const delta_file *const *)pb;
    if (a->modification_time != b->modification_time)
        return a->modification_time < b->modification_time ? -1 : 1;
    return file_cmp(pa, pb);
}

/* Merges the two sorted file sets: what only `to` has was added, what only
 * `from` has was removed. */
static void diff_files(const delta_snapshot *from, const delta_snapshot *to,
                       delta_diff *d)
{
    const delta_file **a = sorted_files(from), **b = sorted_files(to);
    size_t i = 0, j = 0;
    while (i < from->nfiles || j < to->nfiles) {
        int c = i == from->nfiles ? 1 : j == to->nfiles ? -1 : file_cmp(&a[i], &b[j]);
        if (c < 0)
            file_push(&d->removed, &d->nremoved, &d->removed_bytes, &d->removed_rows,
                      a[i++]);
        else if (c > 0)
            file_push(&d->added, &d->nadded, &d->added_bytes, &d->added_rows, b[j++]);
        else
            i++, j++;
    }
    free(a);
    free(b);
    if (d->nadded)
        qsort(d->added, d->nadded, sizeof *d->added, written_cmp);
    if (d->nremoved)
        qsort(d->removed, d->nremoved, sizeof *d->removed, written_cmp);
}

/* ---- schema, partitioning, properties -------------------------------------- */

static void col_push(delta_diff *d, delta_col_change change, const char *name,
                     const json_t *old_f, const json_t *new_f)
{
    d->cols = sl_realloc(d->cols, (d->ncols + 1) * sizeof *d->cols);
    delta_diff_col *c = &d->cols[d->ncols++];
    c->change = change;
    c->name = sl_strdup(name);
    c->old_type = old_f ? type_string(json_object_get(old_f, "type")) : NULL;
    c->new_type = new_f ? type_string(json_object_get(new_f, "type")) : NULL;
    c->old_nullable = old_f ? field_nullable(old_f) : 0;
    c->new_nullable = new_f ? field_nullable(new_f) : 0;
}

static sl_code diff_schema(const delta_snapshot *from, const delta_snapshot *to,
                           delta_diff *d, sl_err *err)
{
    json_t *of = NULL, *nf = NULL;
    sl_code c = schema_fields(from->metadata, &of, err);
    if (c == SL_OK)
        c = schema_fields(to->metadata, &nf, err);
    size_t i;
    const json_t *f;
    json_array_foreach(c == SL_OK ? nf : NULL, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name)
            continue;
        const json_t *old = field_named(of, name);
        if (!old) {
            col_push(d, DELTA_COL_ADDED, name, NULL, f);
            continue;
        }
        char *ot = type_string(json_object_get(old, "type"));
        char *nt = type_string(json_object_get(f, "type"));
        if (strcmp(ot, nt) != 0)
            col_push(d, DELTA_COL_RETYPED, name, old, f);
        else if (field_nullable(old) != field_nullable(f))
            col_push(d, DELTA_COL_NULLABLE, name, old, f);
        free(ot);
        free(nt);
    }
    json_array_foreach(c == SL_OK ? of : NULL, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (name && !field_named(nf, name))
            col_push(d, DELTA_COL_REMOVED, name, f, NULL);
    }
    json_decref(of);
    json_decref(nf);
    return c;
}

static char *config_value(const json_t *conf, const char *key)
{
    const json_t *v = json_object_get(conf, key);
    if (!v)
        return NULL;
    if (json_is_string(v))
        return sl_strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void diff_props(const json_t *old_conf, const json_t *new_conf, delta_diff *d)
{
    /* The union of keys, sorted, each compared once. */
    size_t cap = json_object_size(old_conf) + json_object_size(new_conf), n = 0;
    const char **keys = sl_calloc(cap ? cap : 1, sizeof *keys);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)old_conf, k, v) keys[n++] = k;
    json_object_foreach((json_t *)new_conf, k, v) if (!json_object_get(old_conf, k))
        keys[n++] = k;
    qsort(keys, n, sizeof *keys, str_cmp);
    for (size_t i = 0; i < n; i++) {
        char *o = config_value(old_conf, keys[i]), *nv = config_value(new_conf, keys[i]);
        if ((o == NULL) != (nv == NULL) || (o && strcmp(o, nv) != 0)) {
            d->props = sl_realloc(d->props, (d->nprops + 1) * sizeof *d->props);
            d->props[d->nprops++] = (delta_diff_prop){sl_strdup(keys[i]), o, nv};
        } else {
            free(o);
            free(nv);
        }
    }
    free(keys);
}

sl_code delta_diff_snapshots(const delta_snapshot *a, const delta_snapshot *b,
                             delta_diff *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const delta_snapshot *from = a->version <= b->version ? a : b;
    const delta_snapshot *to = from == a ? b : a;
    side_fill(from, &out->from);
    side_fill(to, &out->to);
    diff_files(from, to, out);
    sl_code c = diff_schema(from, to, out, err);
    if (c != SL_OK) {
        delta_diff_free(out);
        return c;
    }
    out->partitioning_changed = strcmp(out->from.partitioning, out->to.partitioning) != 0;
    diff_props(json_object_get(from->metadata, "configuration"),
               json_object_get(to->metadata, "configuration"), out);
    out->protocol_changed = !json_equal(from->protocol, to->protocol);
    out->metadata_id_changed = !json_equal(json_object_get(from->metadata, "id"),
                                           json_object_get(to->metadata, "id"));
    return SL_OK;
}

static sl_code snap_at(store *s, const char *table_key, int64_t version,
                       delta_snapshot **out, sl_err *err)
{
    delta_at at = {version < 0 ? DELTA_AT_LATEST : DELTA_AT_VERSION, version, 0};
    return delta_snapshot_open(s, table_key, &at, out, err);
}

sl_code delta_diff_versions(store *s, const char *table_key, int64_t v1, int64_t v2,
                            delta_diff *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    delta_snapshot *a = NULL, *b = NULL;
    sl_code c = snap_at(s, table_key, v1, &a, err);
    if (c == SL_OK)
        c = snap_at(s, table_key, v2, &b, err);
    if (c == SL_OK)
        c = delta_diff_snapshots(a, b, out, err);
    delta_snapshot_free(a);
    delta_snapshot_free(b);
    return c;
}

void delta_diff_free(delta_diff *d)
{
    side_free(&d->from);
    side_free(&d->to);
    for (size_t i = 0; i < d->nadded; i++) {
        free(d->added[i].path);
        free(d->added[i].dv_id);
    }
    for (size_t i = 0; i < d->nremoved; i++) {
        free(d->removed[i].path);
        free(d->removed[i].dv_id);
    }
    for (size_t i = 0; i < d->ncols; i++) {
        free(d->cols[i].name);
        free(d->cols[i].old_type);
        free(d->cols[i].new_type);
    }
    for (size_t i = 0; i < d->nprops; i++) {
        free(d->props[i].key);
        free(d->props[i].old_value);
        free(d->props[i].new_value);
    }
    free(d->added);
    free(d->removed);
    free(d->cols);
    free(d->props);
    memset(d, 0, sizeof *d);
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *count_json(int64_t n)
{
    return n < 0 ? json_null() : json_integer(n);
}

static json_t *str_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *side_json(const delta_side *s)
{
    return json_pack("{sI sI sI so sI ss ss}", "version", (json_int_t)s->version,
                     "timestamp", (json_int_t)s->timestamp_ms, "files",
                     (json_int_t)s->files, "rows", count_json(s->rows), "bytes",
                     (json_int_t)s->bytes, "partitioning", s->partitioning, "protocol",
                     s->protocol);
}

static json_t *files_json(const delta_diff_file *f, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{ss so sI so}", "path", f[i].path, "dv", str_json(f[i].dv_id),
                         "size", (json_int_t)f[i].size, "rows", count_json(f[i].rows)));
    return a;
}

static const char *const change_names[] = {"added", "removed", "retyped", "nullable"};

json_t *delta_diff_to_json(const delta_diff *d)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < d->ncols; i++)
        json_array_append_new(cols, json_pack("{ss ss so so}", "change",
                                              change_names[d->cols[i].change], "name",
                                              d->cols[i].name, "old_type",
                                              str_json(d->cols[i].old_type), "new_type",
                                              str_json(d->cols[i].new_type)));
    json_t *props = json_array();
    for (size_t i = 0; i < d->nprops; i++)
        json_array_append_new(props, json_pack("{ss so so}", "key", d->props[i].key,
                                               "old", str_json(d->props[i].old_value),
                                               "new", str_json(d->props[i].new_value)));
    return json_pack("{so so so so sI so sI so so sb so sb sb}", "from",
                     side_json(&d->from), "to", side_json(&d->to), "added",
                     files_json(d->added, d->nadded), "removed",
                     files_json(d->removed, d->nremoved), "added_bytes",
                     (json_int_t)d->added_bytes, "added_rows", count_json(d->added_rows),
                     "removed_bytes", (json_int_t)d->removed_bytes, "removed_rows",
                     count_json(d->removed_rows), "columns", cols, "partitioning_changed",
                     d->partitioning_changed, "properties", props, "protocol_changed",
                     d->protocol_changed, "metadata_id_changed", d->metadata_id_changed);
}

/* ---- preview --------------------------------------------------------------- */

/* Where a column's values come from in the data files. */
typedef struct preview_src {
    char *physical; /* name in the Parquet files (column mapping) */
} preview_src;

static sl_code preview_cols(const json_t *metadata, delta_preview *p, preview_src **srcs,
                            sl_err *err)
{
    json_t *fields = NULL;
    sl_code c = schema_fields(metadata, &fields, err);
    if (c != SL_OK)
        return c;
    size_t n = json_array_size(fields);
    p->cols = sl_calloc(n ? n : 1, sizeof *p->cols);
    *srcs = sl_calloc(n ? n : 1, sizeof **srcs);
    const json_t *parts = json_object_get(metadata, "partitionColumns");
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *phys = json_string_value(json_object_get(
            json_object_get(f, "metadata"), "delta.columnMapping.physicalName"));
        delta_preview_col *col = &p->cols[p->ncols];
        col->name = sl_strdup(name ? name : "?");
        col->type = type_string(json_object_get(f, "type"));
        size_t k;
        const json_t *pc;
        json_array_foreach(parts, k, pc) if (name && json_string_value(pc) &&
                                             strcmp(json_string_value(pc), name) == 0)
            col->partition = 1;
        (*srcs)[p->ncols].physical = sl_strdup(phys ? phys : col->name);
        p->ncols++;
    }
    json_decref(fields);
    return SL_OK;
}

/* A value as text, cut to DELTA_PREVIEW_CELL_MAX bytes on a UTF-8 boundary;
 * NULL for JSON null. */
static char *cell_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    char *txt;
    if (json_is_string(v))
        txt = sl_strdup(json_string_value(v));
    else if (json_is_real(v))
        txt = sl_asprintf("%.15g", json_real_value(v));
    else
        txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt)
        return sl_strdup("?");
    size_t len = strlen(txt);
    if (len > DELTA_PREVIEW_CELL_MAX) {
        size_t cut = DELTA_PREVIEW_CELL_MAX - 3;
        while (cut > 0 && ((unsigned char)txt[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(txt + cut, "…", 4); /* 3 bytes and the NUL */
    }
    return txt;
}

static void preview_row_add(delta_preview *p, char **cells)
{
    p->cells = sl_realloc(p->cells,
                          (p->nrows + 1) * (p->ncols ? p->ncols : 1) * sizeof *p->cells);
    memcpy(&p->cells[p->nrows * p->ncols], cells, p->ncols * sizeof *cells);
    p->nrows++;
}

/* The file's top-level names among the wanted physical names. */
static const char **file_projection(const pq_file_info *fi, const delta_preview *p,
                                    const preview_src *srcs, size_t *n)
{
    const char **names = sl_calloc(p->ncols ? p->ncols : 1, sizeof *names);
    *n = 0;
    for (size_t k = 0; k < p->ncols; k++) {
        if (p->cols[k].partition)
            continue;
        for (size_t i = 0; i < fi->root->num_children; i++)
            if (strcmp(fi->root->children[i]->name, srcs[k].physical) == 0) {
                names[(*n)++] = srcs[k].physical;
                break;
            }
    }
    return names;
}

/* Appends rows of one data file until the preview holds limit rows. */
static sl_code preview_file(store *s, const char *table_key, const delta_file *f,
                            const preview_src *srcs, size_t limit, delta_preview *p,
                            sl_err *err)
{
    char *key = delta_data_file_key(s, table_key, f->path);
    if (!key)
        return err_set(err, SL_DELTA_CORRUPT_LOG, "bad data file path '%s'", f->path);
    json_t *add = delta_file_add(f);
    const json_t *pv = json_object_get(add, "partitionValues");
    pq_source src;
    pq_reader *rd = NULL;
    pq_rows *rows = NULL;
    sl_code c = pq_source_store(s, key, &src, err);
    if (c == SL_OK)
        c = pq_reader_open(&src, &rd, err);
    size_t nproj = 0;
    const char **proj = rd ? file_projection(pq_reader_info(rd), p, srcs, &nproj) : NULL;
    /* No data column in the file (all partition columns): any one column
     * still gives the row count. */
    if (c == SL_OK)
        c = pq_rows_open(rd, nproj ? proj : NULL, nproj, &rows, err);
    char **cells = sl_calloc(p->ncols ? p->ncols : 1, sizeof *cells);
    while (c == SL_OK && p->nrows < limit) {
        json_t *row = NULL;
        c = pq_rows_next(rows, &row, err);
        if (c != SL_OK || !row)
            break;
        for (size_t k = 0; k < p->ncols; k++)
            cells[k] = p->cols[k].partition
                           ? cell_text(json_object_get(pv, srcs[k].physical))
                           : cell_text(json_object_get(row, srcs[k].physical));
        preview_row_add(p, cells);
        json_decref(row);
    }
    if (c == SL_OK && p->nrows >= limit) {
        json_t *extra = NULL;
        /* One more row tells "more" without reading the rest. */
        if (pq_rows_next(rows, &extra, err) == SL_OK && extra)
            p->more = 1;
        json_decref(extra);
        err_clear(err);
    }
    free(cells);
    free(proj);
    pq_rows_free(rows);
    pq_reader_close(rd);
    json_decref(add);
    free(key);
    if (c != SL_OK)
        err_wrap(err, "reading %s", f->path);
    return c;
}

sl_code delta_preview_read(store *s, const char *table_key, int64_t version, size_t limit,
                           delta_preview *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    delta_snapshot *snap = NULL;
    sl_code c = snap_at(s, table_key, version, &snap, err);
    if (c != SL_OK)
        return c;
    out->version = snap->version;
    out->timestamp_ms = snap->timestamp_ms;
    out->table_rows = snap->num_rows;
    out->files_total = snap->nfiles;
    preview_src *srcs = NULL;
    c = preview_cols(snap->metadata, out, &srcs, err);
    const delta_file **files = sorted_files(snap);
    qsort(files, snap->nfiles, sizeof *files, written_file_cmp);
    for (size_t i = 0; c == SL_OK && i < snap->nfiles; i++) {
        if (out->nrows >= limit) {
            out->more = out->more || files[i]->num_records != 0;
            break;
        }
        if (files[i]->dv_id) {
            out->files_skipped++;
            continue;
        }
        out->files_read++;
        c = preview_file(s, table_key, files[i], srcs, limit, out, err);
    }
    free(files);
    for (size_t k = 0; srcs && k < out->ncols; k++)
        free(srcs[k].physical);
    free(srcs);
    delta_snapshot_free(snap);
    if (c != SL_OK)
        delta_preview_free(out);
    return c;
}

void delta_preview_free(delta_preview *p)
{
    for (size_t i = 0; i < p->nrows * p->ncols; i++)
        free(p->cells[i]);
    for (size_t k = 0; k < p->ncols; k++) {
        free(p->cols[k].name);
        free(p->cols[k].type);
    }
    free(p->cells);
    free(p->cols);
    memset(p, 0, sizeof *p);
}
