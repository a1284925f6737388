#include "backend/pipeline/demo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

/* Folders from this one on carry {"rows": N} in their marker (the producer
 * started announcing counts), so the runner's count check has work to do. */
#define COUNTED_FROM 12

/* Small deterministic generator, state owned by the caller. */
static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

int64_t demo_first_epoch(int64_t now_ms)
{
    return (now_ms / 1000 / 3600) * 3600 - DEMO_FOLDERS * 3600;
}

/* Writing the source: where, when, and the running totals. */
typedef struct demo_src {
    store *st;       /* rooted at DIR */
    const char *dir; /* DIR, for file times */
    int64_t base_epoch, now_s;
    int64_t files, rows, malformed;
    json_t *late; /* epochs of the late arrivals */
} demo_src;

/* Arrival time of folder i: two minutes after its epoch; the late ones
 * land after newer folders (the pending one after the failure). */
static int64_t arrival_s(const demo_src *s, int64_t epoch, int i)
{
    if (i == DEMO_LATE_PENDING)
        return s->now_s - 20 * 60;
    if (i == DEMO_LATE_PROCESSED)
        return epoch + 5 * 3600 + 600;
    return epoch + 120;
}

static sl_code set_mtime(const char *dir, const char *key, int64_t secs, sl_err *err)
{
    char *path = paths_join(dir, key);
    struct timespec ts[2] = {{.tv_sec = (time_t)secs}, {.tv_sec = (time_t)secs}};
    int rc = utimensat(AT_FDCWD, path, ts, 0);
    sl_code c = rc == 0 ? SL_OK : err_set(err, SL_IO, "cannot set the time of %s", path);
    free(path);
    return c;
}

/* What is wrong with one order line (the pipeline must catch each). */
typedef struct quirks {
    int no_key;      /* order_id null: has_key fails the folder */
    int amount_null; /* quarantined by amount_present */
    int qty_zero;    /* dropped by qty_positive */
    int coupon;      /* an unknown key: rescued into _rescued_data */
} quirks;

static quirks quirks_of(int folder, int part, int nparts, int row, int nrows)
{
    quirks q = {0};
    q.no_key = folder == DEMO_BAD_FOLDER && part == nparts - 1 && row == nrows / 2;
    q.amount_null = folder == 13 && row % 25 == 7;
    q.qty_zero = folder == 19 && row % 30 == 11;
    q.coupon = (folder == 15 || folder == 31) && row % 20 == 5;
    return q;
}

/* One order event. Orders are created in the folder of their hour and
 * updated or cancelled (op D) over the next two hours, as a shop's change
 * feed is: keys stay near their folder, so a merge rewrites only the recent
 * silver files. updated_at is unique across the demo (seq is unique in its
 * folder, folders are an hour apart), so no two events of a key tie. */
static void order_line(sl_buf *b, uint32_t *rng, int folder, int64_t epoch, int seq,
                       const quirks *q)
{
    unsigned age = rng_next(rng) % 10; /* 0..5 this hour, 6..8 one back, 9 two back */
    unsigned back = age < 6 ? 0 : age < 9 ? 1 : 2;
    unsigned block = (unsigned)folder >= back ? (unsigned)folder - back : 0;
    unsigned order = block * 1000 + rng_next(rng) % 600;
    unsigned cust = rng_next(rng) % 300;
    double amount = (double)(rng_next(rng) % 50000) / 100.0;
    int qty = 1 + (int)(rng_next(rng) % 9);
    unsigned pick = rng_next(rng) % 4;
    const char *op = back == 0 ? (pick ? "I" : "U") : (pick ? "U" : "D");
    char ts[40], id[24], amt[24];
    time_format_iso((epoch - 3600 + seq * 5) * 1000, ts, sizeof ts);
    snprintf(id, sizeof id, q->no_key ? "null" : "\"o-%05u\"", order);
    if (q->amount_null)
        snprintf(amt, sizeof amt, "null");
    else
        snprintf(amt, sizeof amt, "%.2f", amount);
    buf_appendf(b,
                "{\"order_id\":%s,\"customer_id\":\"c-%03u\",\"amount\":%s,\"qty\":%d,"
                "\"updated_at\":\"%s\",\"op\":\"%s\"%s}\n",
                id, cust, amt, q->qty_zero ? 0 : qty, ts, op,
                q->coupon ? ",\"coupon\":\"SPRING\"" : "");
}

/* A producer bug the pipeline must quarantine: a line cut short (folder 22:
 * the last line of each file, without its newline). */
static int malformed_line(sl_buf *b, int folder, int part, int row, int nrows)
{
    if (folder == 9 && part == 0 && row == 3) {
        buf_appendf(b, "{\"order_id\":\"o-9%04d\",\"amount\":\n", row);
        return 1;
    }
    if (folder == 22 && row == nrows - 1) {
        buf_appendf(b, "{\"order_id\":\"o-9%04d\",\"qty\":2,", row);
        return 1;
    }
    return 0;
}

static sl_code put_text(store *st, const char *key, const sl_buf *b, sl_err *err)
{
    return store_put(st, key, b->data ? b->data : "", b->len, err);
}

/* Writes folder i (its data files, then its marker unless it is the newest,
 * still landing), each file dated by its arrival. The content depends only
 * on i and the first epoch, whenever it is written. */
static sl_code write_folder(demo_src *s, int i, sl_err *err)
{
    uint32_t rng = 20261121u ^ ((uint32_t)i * 2654435761u);
    int64_t epoch = s->base_epoch + (int64_t)i * 3600;
    int64_t arrival = arrival_s(s, epoch, i);
    int nparts = 1 + (int)(rng_next(&rng) % 3);
    int64_t lines = 0;
    sl_code c = SL_OK;
    for (int p = 0; p < nparts && c == SL_OK; p++) {
        sl_buf b = {0};
        int nrows = 40 + (int)(rng_next(&rng) % 120);
        for (int r = 0; r < nrows; r++) {
            if (malformed_line(&b, i, p, r, nrows)) {
                s->malformed++;
                continue;
            }
            quirks q = quirks_of(i, p, nparts, r, nrows);
            order_line(&b, &rng, i, epoch, p * 200 + r, &q);
            s->rows++;
        }
        lines += nrows;
        char key[96];
        snprintf(key, sizeof key, "incoming/%lld/part-%05d.jsonl", (long long)epoch, p);
        c = put_text(s->st, key, &b, err);
        if (c == SL_OK)
            c = set_mtime(s->dir, key, arrival, err);
        buf_free(&b);
        s->files++;
    }
    if (c == SL_OK && i != DEMO_FOLDERS - 1) {
        char key[96];
        snprintf(key, sizeof key, "incoming/%lld/_SUCCESS", (long long)epoch);
        sl_buf m = {0};
        if (i >= COUNTED_FROM)
            buf_appendf(&m, "{\"rows\": %lld}\n", (long long)lines);
        c = put_text(s->st, key, &m, err);
        buf_free(&m);
        if (c == SL_OK)
            c = set_mtime(s->dir, key, arrival + 5, err);
        s->files++;
    }
    if (i == DEMO_LATE_PROCESSED || i == DEMO_LATE_PENDING)
        json_array_append_new(s->late, json_integer(epoch));
    return c;
}

/* Every folder but the late ones, plus what is not an epoch folder. */
static sl_code write_on_time(demo_src *s, sl_err *err)
{
    sl_code c = SL_OK;
    for (int i = 0; i < DEMO_FOLDERS && c == SL_OK; i++)
        if (i != DEMO_LATE_PROCESSED && i != DEMO_LATE_PENDING)
            c = write_folder(s, i, err);
    if (c == SL_OK) {
        sl_buf b = {0};
        buf_append_str(&b, "order_id,amount\no-00001,12.50\n");
        c = put_text(s->st, "incoming/manual_backfill/orders-fix.csv", &b, err);
        buf_reset(&b);
        buf_append_str(&b, "Deliveries land here as one folder per epoch.\n");
        if (c == SL_OK)
            c = put_text(s->st, "incoming/README.txt", &b, err);
        buf_free(&b);
    }
    return c;
}

/* The pipeline's tables and its checkpoint, as the console's Tables view
 * lists them (name -> location under the lake). */
static const char *const demo_tables[] = {"orders_raw", "orders_raw_quarantine", "orders",
                                          "orders_by_day", "_sluice/processed_folders"};

static sl_code write_config(store *st, sl_err *err)
{
    json_t *tables = json_object();
    for (size_t i = 0; i < sizeof demo_tables / sizeof *demo_tables; i++)
        json_object_set_new(tables, demo_tables[i], json_string(demo_tables[i]));
    json_t *cfg = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:[s], s:s, s:b}", "environment", "demo",
        "banner_color", "yellow", "source", "incoming", "lake", "lake", "tables", tables,
        "pipelines", "pipelines/" DEMO_PIPELINE ".json", "theme", "dark", "read_only", 0);
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(cfg);
    sl_code c = store_put(st, "sluice.json", text, strlen(text), err);
    free(text);
    return c;
}

/* A run that must process folders without stopping. */
static sl_code run_clean(const pipeline_def *d, const demo_opts *opts, size_t max,
                         json_t *runs, sl_err *err)
{
    char *failed = NULL;
    sl_code code = SL_OK;
    sl_code c = demo_pipeline_run(d, opts, max, runs, &failed, &code, err);
    if (c == SL_OK && failed)
        c = err_set(err, SL_INTERNAL, "the demo's folder %s failed early: %s", failed,
                    err_code_name(code));
    free(failed);
    return c;
}

/* The demo's history: a scheduled run takes the first ten folders; a late
 * folder lands; the next run takes it and eleven more (its batches cross the
 * optimize cadence, so the tables get an OPTIMIZE); the last run stops on
 * the bad folder; one more late folder lands after the failure. */
static sl_code unfold(demo_src *s, const pipeline_def *d, const demo_opts *opts,
                      json_t *summary, sl_err *err)
{
    json_t *runs = json_array();
    json_object_set_new(summary, "runs", runs);
    sl_code c = run_clean(d, opts, 10, runs, err);
    if (c == SL_OK)
        c = write_folder(s, DEMO_LATE_PROCESSED, err);
    if (c == SL_OK)
        c = run_clean(d, opts, 12, runs, err);
    char *failed = NULL;
    sl_code code = SL_OK;
    if (c == SL_OK)
        c = demo_pipeline_run(d, opts, 0, runs, &failed, &code, err);
    char want[24];
    snprintf(want, sizeof want, "%lld",
             (long long)(s->base_epoch + DEMO_BAD_FOLDER * 3600));
    if (c == SL_OK && (!failed || strcmp(failed, want) != 0))
        c = err_set(err, SL_INTERNAL, "the demo's last run did not stop on folder %s",
                    want);
    if (c == SL_OK) {
        json_object_set_new(summary, "failed_folder", json_string(failed));
        json_object_set_new(summary, "failed_code", json_string(err_code_name(code)));
        c = write_folder(s, DEMO_LATE_PENDING, err);
    }
    free(failed);
    return c;
}

static sl_code build(store *st, const char *abs, const demo_opts *opts, json_t *summary,
                     sl_err *err)
{
    char *lake = paths_join(abs, "lake");
    char *src = paths_join(abs, "incoming");
    char *pfile = paths_join(abs, "pipelines/" DEMO_PIPELINE ".json");
    json_object_set_new(summary, "source", json_string(src));
    json_object_set_new(summary, "lake", json_string(lake));
    json_object_set_new(summary, "pipeline", json_string(DEMO_PIPELINE));
    json_object_set_new(summary, "pipeline_file", json_string(pfile));
    json_t *tables = json_array();
    for (size_t i = 0; i < sizeof demo_tables / sizeof *demo_tables; i++)
        json_array_append_new(tables, json_string(demo_tables[i]));
    json_object_set_new(summary, "tables", tables);
    demo_src s = {.st = st,
                  .dir = abs,
                  .base_epoch = demo_first_epoch(opts->now_ms),
                  .now_s = opts->now_ms / 1000,
                  .late = json_array()};
    pipeline_def *d = NULL;
    sl_code c = paths_mkdirs(lake, 0755, err);
    if (c == SL_OK)
        c = write_on_time(&s, err);
    if (c == SL_OK)
        c = demo_pipeline_write(st, err);
    if (c == SL_OK)
        c = pipeline_def_load(pfile, abs, lake, &d, err);
    if (c == SL_OK)
        c = unfold(&s, d, opts, summary, err);
    if (c == SL_OK)
        c = demo_pipeline_counts(d, opts->now_ms, summary, err);
    json_object_set_new(summary, "epoch_folders", json_integer(DEMO_FOLDERS));
    json_object_set_new(summary, "files", json_integer(s.files));
    json_object_set_new(summary, "rows", json_integer(s.rows));
    json_object_set_new(summary, "malformed_lines", json_integer(s.malformed));
    json_object_set_new(summary, "late_folders", s.late);
    /* Last: a sluice.json marks a finished demo (a re-run refuses the DIR). */
    if (c == SL_OK)
        c = write_config(st, err);
    pipeline_def_free(d);
    free(pfile);
    free(src);
    free(lake);
    return c;
}

sl_code demo_create(const demo_opts *opts, json_t **summary_out, sl_err *err)
{
    sl_code c = paths_mkdirs(opts->dir, 0755, err);
    if (c != SL_OK)
        return c;
    char *abs = realpath(opts->dir, NULL);
    if (!abs)
        return err_set(err, SL_IO, "cannot resolve %s", opts->dir);
    char *cfg = paths_join(abs, "sluice.json");
    if (access(cfg, F_OK) == 0) {
        c = err_set(
            err, SL_USAGE,
            "%s already holds a sluice.json; open it with `sluice -c %s/sluice.json` "
            "or pick an empty folder",
            abs, abs);
        free(cfg);
        free(abs);
        return c;
    }
    store *st = NULL;
    c = store_open(abs, &st, err);
    json_t *summary = json_pack("{s:s, s:s}", "dir", abs, "config", cfg);
    if (c == SL_OK)
        c = build(st, abs, opts, summary, err);
    store_close(st);
    free(cfg);
    free(abs);
    if (c != SL_OK) {
        json_decref(summary);
        return c;
    }
    *summary_out = summary;
    return SL_OK;
}
