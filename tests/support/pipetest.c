#include "pipetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_rows.h"
#include "backend/pipeline/config.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

static uint64_t next(pt_world *w)
{
    /* xorshift64*: deterministic for a seed, enough for test data */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ULL;
}

static int rnd(pt_world *w, int n)
{
    return (int)(next(w) % (uint64_t)n);
}

void pt_world_init(pt_world *w, const char *tag, uint64_t seed, const char *extra_json)
{
    memset(w, 0, sizeof *w);
    w->rng = seed ? seed : 1;
    w->dir = tu_mkdtemp(tag);
    w->source = paths_join(w->dir, "incoming");
    w->lake = paths_join(w->dir, "lake");
    w->config = paths_join(w->dir, "sluice.json");
    tu_write_file(w->dir, "incoming/.keep", "");
    tu_write_file(w->dir, "lake/.keep", "");
    tu_write_file(
        w->dir, "sluice.json",
        "{\"environment\": \"test\", \"source\": \"incoming\", \"lake\": \"lake\",\n"
        " \"pipelines\": [\"pipelines/orders.json\"]}\n");
    char *p = sl_asprintf(
        "{\n"
        " \"name\": \"orders\",\n"
        " \"source\": {\"url\": \"incoming\", \"layout\": \"epoch\", \"format\": "
        "\"jsonl\",\n"
        "            \"ready_marker\": \"_SUCCESS\", \"settle_seconds\": 0},\n"
        " \"lake\": \"lake\",\n"
        " \"bronze\": {\"table\": \"orders_raw\", \"partition_by\": [\"_ingest_date\"],\n"
        "            \"schema\": {\"order_id\": \"string\", \"customer_id\": "
        "\"string\",\n"
        "                       \"amount\": \"double\", \"qty\": \"int\",\n"
        "                       \"updated_at\": \"timestamp\", \"op\": \"string\"},\n"
        "            \"on_schema_drift\": \"rescue\"},\n"
        " \"silver\": {\"table\": \"orders\", \"keys\": [\"order_id\"], \"sequence_by\": "
        "\"updated_at\",\n"
        "            \"delete_when\": {\"column\": \"op\", \"equals\": \"D\"}},\n"
        " \"gold\": {\"table\": \"orders_by_day\", \"group_by\": [\"day\"], "
        "\"day_from\": "
        "\"updated_at\",\n"
        "          \"aggregates\": {\"orders\": \"count\", \"revenue\": "
        "\"sum(amount)\"}},\n"
        " \"expectations\": [\n"
        "   {\"name\": \"amount_present\", \"column\": \"amount\", \"rule\": "
        "\"not_null\", "
        "\"on_fail\": \"quarantine\"},\n"
        "   {\"name\": \"qty_positive\", \"column\": \"qty\", \"rule\": \">0\", "
        "\"on_fail\": "
        "\"drop\"},\n"
        "   {\"name\": \"has_key\", \"column\": \"order_id\", \"rule\": \"not_null\", "
        "\"on_fail\": \"fail\"}],\n"
        " \"checks\": {\"max_count_mismatch_pct\": 1.0}%s%s\n"
        "}\n",
        extra_json ? ",\n " : "", extra_json ? extra_json : "");
    tu_write_file(w->dir, "pipelines/orders.json", p);
    free(p);
}

void pt_world_free(pt_world *w)
{
    if (!w->dir)
        return;
    if (!getenv("SLUICE_KEEP_WORLD"))
        tu_rmtree(w->dir);
    free(w->dir);
    free(w->source);
    free(w->lake);
    free(w->config);
    free(w->lines);
    memset(w, 0, sizeof *w);
}

pipeline_def *pt_def(pt_world *w)
{
    config *cfg = NULL;
    sl_err err = {0};
    if (config_load(w->config, &cfg, &err) != SL_OK)
        fail_msg("config: %s", err.msg);
    pipeline_def *d = NULL;
    if (config_pipeline_load(cfg, "orders", &d, &err) != SL_OK)
        fail_msg("pipeline: %s", err.msg);
    config_free(cfg);
    return d;
}

static int used(const pt_world *w, const char *key, int64_t ts)
{
    for (size_t i = 0; i + 1 < w->nlines; i++) /* the last line is the one being drawn */
        if (w->lines[i].kind != PT_MALFORMED && w->lines[i].o.updated_s == ts &&
            strcmp(w->lines[i].o.order_id, key) == 0)
            return 1;
    return 0;
}

static pt_line *line_add(pt_world *w)
{
    if (w->nlines == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->lines = realloc(w->lines, w->cap * sizeof *w->lines);
    }
    pt_line *l = &w->lines[w->nlines++];
    memset(l, 0, sizeof *l);
    return l;
}

static void iso(int64_t s, char *out, size_t n)
{
    char full[40];
    time_format_iso(s * 1000, full, sizeof full); /* 2023-11-14T22:13:20.000Z */
    snprintf(out, n, "%.19sZ", full);
}

void pt_folder_write(pt_world *w, int64_t epoch, int files, int rows_per_file)
{
    char folder[24];
    snprintf(folder, sizeof folder, "%lld", (long long)epoch);
    const pt_line *prev = NULL;
    for (int f = 0; f < files; f++) {
        sl_buf text = {0};
        char file[64];
        snprintf(file, sizeof file, "%s/part-%d.jsonl", folder, f);
        for (int i = 0; i < rows_per_file; i++) {
            int draw = rnd(w, 100);
            size_t prev_idx = prev ? (size_t)(prev - w->lines) : 0;
            pt_line *l = line_add(w);
            if (prev)
                prev = &w->lines[prev_idx]; /* the array may have moved */
            snprintf(l->folder, sizeof l->folder, "%s", folder);
            snprintf(l->file, sizeof l->file, "%s", file);
            l->line = i + 1;
            if (draw < 5) {
                static const char *const bad[] = {"{not json", "[1,2,3]",
                                                  "{\"order_id\": \"o1\", \"amount\": }"};
                l->kind = PT_MALFORMED;
                buf_appendf(&text, "%s\n", bad[rnd(w, 3)]);
                continue;
            }
            if (draw < 10 && prev) { /* an exact duplicate of the previous row */
                l->kind = prev->kind;
                l->o = prev->o;
            } else {
                pt_order *o = &l->o;
                int k = rnd(w, 80);
                snprintf(o->order_id, sizeof o->order_id, "o%d", k);
                snprintf(o->customer_id, sizeof o->customer_id, "c%d", rnd(w, 10));
                o->amount = (double)(100 + rnd(w, 99900)) / 100.0;
                o->qty = 1 + rnd(w, 5);
                o->op = rnd(w, 10) == 0 ? 'D' : 'U';
                do /* spread over ~4 months, out of order across folders */
                    o->updated_s = 1699000000 + (int64_t)rnd(w, 10000000);
                while (used(w, o->order_id, o->updated_s));
                l->kind = PT_VALID;
                if (draw >= 10 && draw < 13) {
                    o->qty = 0;
                    l->kind = PT_DROP;
                } else if (draw >= 13 && draw < 16) {
                    o->amount_null = 1;
                    l->kind = PT_QUARANTINE;
                }
            }
            const pt_order *o = &l->o;
            char ts[32], amount[32];
            iso(o->updated_s, ts, sizeof ts);
            if (o->amount_null)
                snprintf(amount, sizeof amount, "null");
            else
                snprintf(amount, sizeof amount, "%.2f", o->amount);
            buf_appendf(&text,
                        "{\"order_id\": \"%s\", \"customer_id\": \"%s\", \"amount\": %s, "
                        "\"qty\": %d, \"updated_at\": \"%s\", \"op\": \"%c\"%s}\n",
                        o->order_id, o->customer_id, amount, o->qty, ts, o->op,
                        rnd(w, 10) == 0 ? ", \"coupon\": \"SPRING\"" : "");
            prev = l;
        }
        char *rel = sl_asprintf("incoming/%s", file);
        tu_write_file(w->dir, rel, text.data ? text.data : "");
        free(rel);
        buf_free(&text);
    }
    char *marker = sl_asprintf("incoming/%s/_SUCCESS", folder);
    tu_write_file(w->dir, marker, "");
    free(marker);
}

size_t pt_count(const pt_world *w, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nlines; i++)
        n += w->lines[i].kind == kind;
    return n;
}

/* ---- expected ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_sorted(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    sl_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        buf_appendf(&b, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return b.data ? buf_steal(&b) : sl_strdup("");
}

/* The newest valid row of every key (updated_s unique per key). */
static const pt_order **winners(const pt_world *w, size_t *n)
{
    const pt_order **win = calloc(w->nlines + 1, sizeof *win);
    *n = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        if (w->lines[i].kind != PT_VALID)
            continue;
        const pt_order *o = &w->lines[i].o;
        size_t k = 0;
        while (k < *n && strcmp(win[k]->order_id, o->order_id))
            k++;
        if (k == *n)
            win[(*n)++] = o;
        else if (o->updated_s > win[k]->updated_s)
            win[k] = o;
    }
    return win;
}

static char *order_text(const char *id, const char *cust, double amount, int qty,
                        int64_t ts)
{
    return sl_asprintf("%s|%s|%.2f|%d|%lld", id, cust, amount, qty, (long long)ts);
}

char *pt_expected_silver(const pt_world *w)
{
    size_t n;
    const pt_order **win = winners(w, &n);
    char **v = calloc(n + 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (win[i]->op != 'D')
            v[m++] = order_text(win[i]->order_id, win[i]->customer_id, win[i]->amount,
                                win[i]->qty, win[i]->updated_s);
    free(win);
    return join_sorted(v, m);
}

char *pt_expected_gold(const pt_world *w)
{
    size_t n;
    const pt_order **win = winners(w, &n);
    int64_t *days = calloc(n + 1, sizeof *days);
    int64_t *count = calloc(n + 1, sizeof *count);
    double *sum = calloc(n + 1, sizeof *sum);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (win[i]->op == 'D')
            continue;
        int64_t day = win[i]->updated_s / 86400;
        size_t k = 0;
        while (k < nd && days[k] != day)
            k++;
        if (k == nd)
            days[nd++] = day;
        count[k]++;
        sum[k] += win[i]->amount;
    }
    char **v = calloc(nd + 1, sizeof *v);
    for (size_t k = 0; k < nd; k++)
        v[k] = sl_asprintf("%lld|%lld|%.2f", (long long)days[k], (long long)count[k],
                           sum[k]);
    free(days);
    free(count);
    free(sum);
    free(win);
    return join_sorted(v, nd);
}

char *pt_expected_quarantine(const pt_world *w)
{
    char **v = calloc(w->nlines + 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < w->nlines; i++)
        if (w->lines[i].kind == PT_MALFORMED || w->lines[i].kind == PT_QUARANTINE)
            v[m++] =
                sl_asprintf("%s|%lld", w->lines[i].file, (long long)w->lines[i].line);
    return join_sorted(v, m);
}

/* ---- actual ------------------------------------------------------------ */

/* Rows of table `name` under the lake, columns by name. */
static void table_rows(const pt_world *w, const char *name, const pq_schema_col *cols,
                       size_t ncols, delta_rows *out)
{
    store *s = NULL;
    sl_err err = {0};
    char *dir = paths_join(w->lake, name);
    if (store_open(dir, &s, &err) != SL_OK)
        fail_msg("open %s: %s", dir, err.msg);
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    if (delta_snapshot_open(s, "", &latest, &snap, &err) != SL_OK)
        fail_msg("snapshot %s: %s", dir, err.msg);
    delta_rows_init(out, cols, ncols);
    for (size_t i = 0; i < snap->nfiles; i++)
        if (delta_rows_read_file(s, "", &snap->files[i], cols, ncols, out, &err) != SL_OK)
            fail_msg("read %s: %s", snap->files[i].path, err.msg);
    delta_snapshot_free(snap);
    store_close(s);
    free(dir);
}

static char *cell_str(const pq_value *v)
{
    return v->is_null ? sl_strdup("null") : sl_strndup(v->str.ptr, v->str.len);
}

char *pt_actual_silver(const pt_world *w)
{
    static const pq_schema_col cols[] = {{"order_id", PQ_TYPE_STRING, true},
                                         {"customer_id", PQ_TYPE_STRING, true},
                                         {"amount", PQ_TYPE_DOUBLE, true},
                                         {"qty", PQ_TYPE_INT32, true},
                                         {"updated_at", PQ_TYPE_TIMESTAMP_US, true}};
    delta_rows r;
    table_rows(w, "orders", cols, 5, &r);
    char **v = calloc(r.nrows + 1, sizeof *v);
    for (size_t i = 0; i < r.nrows; i++) {
        const pq_value *c = &r.cells[i * 5];
        char *id = cell_str(&c[0]), *cust = cell_str(&c[1]);
        v[i] = order_text(id, cust, c[2].f64, c[3].i32, c[4].i64 / 1000000);
        free(id);
        free(cust);
    }
    size_t n = r.nrows;
    delta_rows_free(&r);
    return join_sorted(v, n);
}

char *pt_actual_gold(const pt_world *w)
{
    static const pq_schema_col cols[] = {{"day", PQ_TYPE_DATE, true},
                                         {"orders", PQ_TYPE_INT64, true},
                                         {"revenue", PQ_TYPE_DOUBLE, true}};
    delta_rows r;
    table_rows(w, "orders_by_day", cols, 3, &r);
    char **v = calloc(r.nrows + 1, sizeof *v);
    for (size_t i = 0; i < r.nrows; i++) {
        const pq_value *c = &r.cells[i * 3];
        v[i] = sl_asprintf("%lld|%lld|%.2f", (long long)c[0].i32, (long long)c[1].i64,
                           c[2].f64);
    }
    size_t n = r.nrows;
    delta_rows_free(&r);
    return join_sorted(v, n);
}

char *pt_actual_quarantine(const pt_world *w)
{
    static const pq_schema_col cols[] = {{"_source_file", PQ_TYPE_STRING, true},
                                         {"_source_line", PQ_TYPE_INT64, true}};
    delta_rows r;
    table_rows(w, "orders_raw_quarantine", cols, 2, &r);
    char **v = calloc(r.nrows + 1, sizeof *v);
    for (size_t i = 0; i < r.nrows; i++) {
        char *f = cell_str(&r.cells[i * 2]);
        v[i] = sl_asprintf("%s|%lld", f, (long long)r.cells[i * 2 + 1].i64);
        free(f);
    }
    size_t n = r.nrows;
    delta_rows_free(&r);
    return join_sorted(v, n);
}
