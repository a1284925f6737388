#include "backend/pipeline/demo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

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

static int is_late(int i)
{
    return i == 5 || i == 17;
}

/* Arrival time of folder i: two minutes after its epoch, or hours later for
 * the late ones (they land after newer folders). */
static int64_t arrival_s(int64_t epoch, int i)
{
    return epoch + (is_late(i) ? 5 * 3600 + 600 : 120);
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

static void order_line(sl_buf *b, uint32_t *rng, int64_t epoch, int seq)
{
    static const char *const ops[] = {"I", "I", "I", "U", "U", "D"};
    unsigned order = rng_next(rng) % 5000;
    unsigned cust = rng_next(rng) % 300;
    double amount = (double)(rng_next(rng) % 50000) / 100.0;
    int qty = 1 + (int)(rng_next(rng) % 9);
    char ts[40];
    time_format_iso((epoch - 3600 + seq * 7) * 1000, ts, sizeof ts);
    buf_appendf(b,
                "{\"order_id\":\"o-%05u\",\"customer_id\":\"c-%03u\",\"amount\":%.2f,"
                "\"qty\":%d,\"updated_at\":\"%s\",\"op\":\"%s\"}\n",
                order, cust, amount, qty, ts, ops[rng_next(rng) % 6]);
}

static sl_code put_text(store *st, const char *key, const sl_buf *b, sl_err *err)
{
    return store_put(st, key, b->data ? b->data : "", b->len, err);
}

static sl_code write_source(store *st, const char *dir, int64_t now_ms, json_t *summary,
                            sl_err *err)
{
    uint32_t rng = 20261121u;
    int64_t base = demo_first_epoch(now_ms);
    int64_t files = 0, rows = 0, malformed = 0;
    json_t *late = json_array();
    sl_code c = SL_OK;
    for (int i = 0; i < DEMO_FOLDERS && c == SL_OK; i++) {
        int64_t epoch = base + (int64_t)i * 3600;
        int nparts = 1 + (int)(rng_next(&rng) % 3);
        for (int p = 0; p < nparts && c == SL_OK; p++) {
            sl_buf b = {0};
            int nrows = 40 + (int)(rng_next(&rng) % 120);
            for (int r = 0; r < nrows; r++) {
                /* A few producer bugs the pipeline must quarantine. */
                if ((i == 9 && p == 0 && r == 3) || (i == 22 && r == nrows - 1)) {
                    buf_appendf(&b,
                                i == 9 ? "{\"order_id\":\"o-9%04d\",\"amount\":\n"
                                       : "{\"order_id\":\"o-9%04d\",\"qty\":2,",
                                r);
                    malformed++;
                    continue;
                }
                order_line(&b, &rng, epoch, r);
                rows++;
            }
            char key[96];
            snprintf(key, sizeof key, "incoming/%lld/part-%05d.jsonl", (long long)epoch,
                     p);
            c = put_text(st, key, &b, err);
            if (c == SL_OK)
                c = set_mtime(dir, key, arrival_s(epoch, i), err);
            buf_free(&b);
            files++;
        }
        /* The newest folder is still landing: no ready marker yet. */
        if (c == SL_OK && i != DEMO_FOLDERS - 1) {
            char key[96];
            snprintf(key, sizeof key, "incoming/%lld/_SUCCESS", (long long)epoch);
            sl_buf empty = {0};
            c = put_text(st, key, &empty, err);
            if (c == SL_OK)
                c = set_mtime(dir, key, arrival_s(epoch, i) + 5, err);
            files++;
        }
        if (is_late(i))
            json_array_append_new(late, json_integer(epoch));
    }
    if (c == SL_OK) {
        sl_buf b = {0};
        buf_append_str(&b, "order_id,amount\no-00001,12.50\n");
        c = put_text(st, "incoming/manual_backfill/orders-fix.csv", &b, err);
        buf_reset(&b);
        buf_append_str(&b, "Deliveries land here as one folder per epoch.\n");
        if (c == SL_OK)
            c = put_text(st, "incoming/README.txt", &b, err);
        buf_free(&b);
    }
    json_object_set_new(summary, "epoch_folders", json_integer(DEMO_FOLDERS));
    json_object_set_new(summary, "files", json_integer(files));
    json_object_set_new(summary, "rows", json_integer(rows));
    json_object_set_new(summary, "malformed_lines", json_integer(malformed));
    json_object_set_new(summary, "late_folders", late);
    return c;
}

static sl_code write_config(store *st, json_t *summary, sl_err *err)
{
    json_t *tables = json_object();
    json_t *names = json_object_get(summary, "tables");
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) json_object_set(tables, json_string_value(v), v);
    json_t *cfg = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:b}", "environment", "demo",
                            "banner_color", "yellow", "source", "incoming", "lake",
                            "lake", "tables", tables, "theme", "dark", "read_only", 0);
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(cfg);
    sl_code c = store_put(st, "sluice.json", text, strlen(text), err);
    free(text);
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
    int exists = access(cfg, F_OK) == 0;
    free(cfg);
    if (exists) {
        c = err_set(
            err, SL_USAGE,
            "%s already holds a sluice.json; open it with `sluice -c %s/sluice.json` "
            "or pick an empty folder",
            abs, abs);
        free(abs);
        return c;
    }
    store *st = NULL;
    c = store_open(abs, &st, err);
    json_t *summary = json_pack("{s:s}", "dir", abs);
    if (c == SL_OK) {
        char *src = paths_join(abs, "incoming");
        char *lake = paths_join(abs, "lake");
        char *cpath = paths_join(abs, "sluice.json");
        json_object_set_new(summary, "config", json_string(cpath));
        json_object_set_new(summary, "source", json_string(src));
        json_object_set_new(summary, "lake", json_string(lake));
        json_object_set_new(summary, "tables", json_array());
        c = write_source(st, abs, opts->now_ms, summary, err);
        if (c == SL_OK)
            c = demo_lake_create(lake, opts->now_ms, summary, err);
        if (c == SL_OK)
            c = write_config(st, summary, err);
        free(src);
        free(lake);
        free(cpath);
    }
    store_close(st);
    free(abs);
    if (c != SL_OK) {
        json_decref(summary);
        return c;
    }
    *summary_out = summary;
    return SL_OK;
}
