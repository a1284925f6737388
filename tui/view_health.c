/* Health (tab 6): the host (CPU, memory, disk of the lake's filesystem), the
 * store requests of this console (calls, errors, mean and max latency over
 * the last 1 and 5 minutes, from the command log's ring), and per pipeline
 * its watermark lag (age of the oldest pending folder, as `sluice status`
 * counts it), its last successful run and its lease holder. Every value is
 * compared with the config's thresholds (config_threshold_get): at or over
 * warn it shows in the warning element with "▲", at or over crit in the
 * failed element with "▲▲", so monochrome screens and dumps show it too.
 *
 * Everything is sampled on the worker. CPU use needs two readings: the view
 * keeps the last one and the next load measures from it; a first load takes
 * two readings a quarter second apart. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/lease.h"
#include "backend/pipeline/pipeline_def.h"
#include "backend/pipeline/runs.h"
#include "backend/store/store.h"
#include "backend/util/hoststat.h"
#include "backend/util/log.h"
#include "backend/util/timeutil.h"
#include "tui/app.h"
#include "tui/crt.h"
#include "tui/fmt.h"
#include "tui/view.h"

#define CPU_FIRST_WAIT_MS 250
#define MINUTE_MS 60000

/* A value's standing against its thresholds. */
typedef enum level { LV_NORMAL, LV_WARN, LV_CRIT } level;

typedef struct pipe_health {
    char *name;
    sl_code code; /* opening the lake failed: nothing below is known */
    sl_err err;
    sl_code lease_code;
    sl_err lease_err;
    int lease_exists;
    lease_holder lease;
    sl_code runs_code;
    sl_err runs_err;
    int have_good;
    int64_t good_ms;    /* when the last successful run finished */
    int64_t good_batch; /* its highest batch id (orders runs of one instant) */
    char good_run[64];
    size_t good_folders;
    sl_code lag_code;
    sl_err lag_err;
    int64_t oldest_pending; /* epoch seconds; -1: nothing pending */
    size_t npending;
} pipe_health;

typedef struct health_data {
    int64_t sampled_ms;
    sl_code cpu_code, mem_code, disk_code;
    sl_err cpu_err, mem_err, disk_err;
    hoststat_cpu cpu_now;
    double cpu_pct;
    hoststat_mem mem;
    hoststat_disk disk;
    char *disk_path;   /* the lake's local directory */
    char *disk_remote; /* a lake URL that is no local filesystem */
    int have_ring;
    log_ring_stats store1, store5;
    pipe_health *pipes;
    size_t npipes;
} health_data;

typedef struct health_state {
    health_data *d;
    hoststat_cpu prev_cpu; /* the last reading, for the next CPU percentage */
    int have_prev;
    int top; /* first body line shown */
    int nlines;
    int page;
} health_state;

typedef struct health_job {
    tui_job base;
    hoststat_cpu prev_cpu;
    int have_prev;
    char *lake_url;
    pipeline_def **defs; /* borrowed from the app, which outlives the worker */
    size_t ndefs;
    health_data *d;
} health_job;

static health_state *st(view *v)
{
    return v->state;
}

static void data_free(health_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->npipes; i++)
        free(d->pipes[i].name);
    free(d->pipes);
    free(d->disk_path);
    free(d->disk_remote);
    free(d);
}

/* ---- sampling (worker) ------------------------------------------------------ */

/* The local directory of a lake location; NULL (and *remote set) when it is
 * a URL of another kind (s3://...). */
static char *local_dir(const char *url, int *remote)
{
    *remote = 0;
    if (strncmp(url, "file://", 7) == 0) {
        const char *p = url + 7;
        if (strncmp(p, "localhost/", 10) == 0)
            p += 9;
        sl_buf b = {0};
        for (; *p; p++) { /* the few %XX escapes store URLs use */
            unsigned hi, lo;
            if (p[0] == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
                buf_append_char(&b, (char)(hi * 16 + lo));
                p += 2;
            } else {
                buf_append_char(&b, *p);
            }
        }
        return buf_steal(&b);
    }
    if (strstr(url, "://")) {
        *remote = 1;
        return NULL;
    }
    return sl_strdup(url);
}

static void sample_host(health_job *j, health_data *d)
{
    hoststat_cpu before = j->prev_cpu;
    if (j->have_prev)
        d->cpu_code = hoststat_read_cpu(&d->cpu_now, &d->cpu_err);
    else
        d->cpu_code =
            hoststat_cpu_first(&before, &d->cpu_now, CPU_FIRST_WAIT_MS, &d->cpu_err);
    d->cpu_pct = d->cpu_code == SL_OK ? hoststat_cpu_pct(&before, &d->cpu_now) : -1;
    d->mem_code = hoststat_read_mem(&d->mem, &d->mem_err);
    if (!j->lake_url) {
        d->disk_code =
            err_set(&d->disk_err, SL_CONFIG_INVALID, "no \"lake\" in the config");
        return;
    }
    int remote;
    d->disk_path = local_dir(j->lake_url, &remote);
    if (remote) {
        d->disk_remote = sl_strdup(j->lake_url);
        return;
    }
    d->disk_code = hoststat_read_disk(d->disk_path, &d->disk, &d->disk_err);
}

/* The latest run none of whose step attempts failed for good. */
static void last_good_run(const run_step *s, size_t n, pipe_health *p)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i].run_id)
            continue;
        int failed = 0, seen_before = 0;
        int64_t finished = -1, batch = -1;
        size_t folders = 0;
        for (size_t k = 0; k < n && !seen_before; k++) {
            if (!s[k].run_id || strcmp(s[k].run_id, s[i].run_id) != 0)
                continue;
            if (k < i) {
                seen_before = 1; /* this run was judged at its first row */
                break;
            }
            failed |= s[k].state && strcmp(s[k].state, "failed") == 0;
            if (s[k].finished_ms > finished)
                finished = s[k].finished_ms;
            if (s[k].batch_id > batch)
                batch = s[k].batch_id;
            folders += s[k].step && strcmp(s[k].step, "mark") == 0 && s[k].state &&
                       strcmp(s[k].state, "succeeded") == 0;
        }
        if (seen_before || failed || finished < 0)
            continue;
        /* Runs finished in the same millisecond: the later batch is later. */
        if (!p->have_good || finished > p->good_ms ||
            (finished == p->good_ms && batch > p->good_batch)) {
            p->have_good = 1;
            p->good_ms = finished;
            p->good_batch = batch;
            p->good_folders = folders;
            snprintf(p->good_run, sizeof p->good_run, "%s", s[i].run_id);
        }
    }
}

static void sample_pipeline(session *sess, const pipeline_def *def, pipe_health *p)
{
    p->name = sl_strdup(def->name);
    p->oldest_pending = -1;
    store *lake = NULL;
    p->code = store_open(def->lake_url, &lake, &p->err);
    if (p->code != SL_OK)
        return;
    store_set_log(lake, sess->log);
    p->lease_code =
        lease_read(lake, def->name, &p->lease, &p->lease_exists, &p->lease_err);
    run_step *rows = NULL;
    size_t n = 0;
    p->runs_code = runs_load(lake, def->name, NULL, &rows, &n, &p->runs_err);
    if (p->runs_code == SL_OK)
        last_good_run(rows, n, p);
    run_steps_free(rows, n);

    ckpt_view cv;
    memset(&cv, 0, sizeof cv);
    store *src = NULL;
    p->lag_code = ckpt_load(lake, def->name, &cv, &p->lag_err);
    if (p->lag_code == SL_OK)
        p->lag_code = store_open(def->source.url, &src, &p->lag_err);
    if (p->lag_code == SL_OK) {
        store_set_log(src, sess->log);
        pl_known *known = ckpt_view_known(&cv);
        /* Only the folders a run may take are listed one by one. */
        pl_discover_opts o = {
            .now_ms = time_now_ms(), .max_marker_reads = (size_t)-1, .done_by_name = 1};
        pl_discovery dsc;
        memset(&dsc, 0, sizeof dsc);
        p->lag_code = discover_epochs(src, def, known, cv.n, &o, &dsc, &p->lag_err);
        for (size_t i = 0; p->lag_code == SL_OK && i < dsc.n; i++)
            if (strcmp(dsc.folders[i].state, "pending") == 0) {
                if (p->oldest_pending < 0)
                    p->oldest_pending = dsc.folders[i].epoch;
                p->npending++;
            }
        pl_discovery_free(&dsc);
        free(known);
    }
    store_close(src);
    ckpt_view_free(&cv);
    store_close(lake);
}

static void job_run(tui_job *job, session *sess)
{
    health_job *j = (health_job *)job;
    health_data *d = sl_calloc(1, sizeof *d);
    j->d = d;
    sample_host(j, d);
    log_ring *ring = log_ring_get(sess->log);
    d->have_ring = ring != NULL;
    int64_t now = time_now_ms();
    log_ring_stats_since(ring, "store.", now - MINUTE_MS, &d->store1);
    log_ring_stats_since(ring, "store.", now - 5 * MINUTE_MS, &d->store5);
    d->npipes = j->ndefs;
    d->pipes = sl_calloc(j->ndefs ? j->ndefs : 1, sizeof *d->pipes);
    for (size_t i = 0; i < j->ndefs; i++)
        sample_pipeline(sess, j->defs[i], &d->pipes[i]);
    d->sampled_ms = time_now_ms();
    job->code = SL_OK; /* failures are per value, shown where the value would be */
}

static void job_free(tui_job *job)
{
    health_job *j = (health_job *)job;
    data_free(j->d);
    free(j->defs);
    free(j->lake_url);
    free(j);
}

static void load(view *v, app *a)
{
    if (!v->state)
        v->state = sl_calloc(1, sizeof(health_state));
    health_job *j = sl_calloc(1, sizeof *j);
    j->base.run = job_run;
    j->base.free = job_free;
    j->prev_cpu = st(v)->prev_cpu;
    j->have_prev = st(v)->have_prev;
    const config *cfg = app_session(a)->cfg;
    j->lake_url = cfg && cfg->lake_url ? sl_strdup(cfg->lake_url) : NULL;
    size_t n = 0;
    pipeline_def *const *defs = app_pipelines(a, &n);
    j->defs = sl_calloc(n ? n : 1, sizeof *j->defs);
    for (size_t i = 0; i < n; i++)
        j->defs[i] = defs[i];
    j->ndefs = n;
    app_post(a, v, &j->base);
}

static void take(view *v, app *a, tui_job *job)
{
    (void)a;
    health_job *j = (health_job *)job;
    health_state *s = st(v);
    if (j->d->cpu_code == SL_OK) {
        s->prev_cpu = j->d->cpu_now;
        s->have_prev = 1;
    }
    data_free(s->d);
    s->d = j->d;
    j->d = NULL;
    err_clear(&v->error);
    v->loaded = 1;
    job->free(job);
}

/* ---- drawing ------------------------------------------------------------------- */

#define SEG_MAX 6

typedef struct seg {
    char text[300];
    theme_elem e;
} seg;

typedef struct hline {
    seg s[SEG_MAX];
    int n;
} hline;

typedef struct lines {
    hline *l;
    int n, cap;
} lines;

static hline *line_new(lines *ls)
{
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 32;
        ls->l = sl_realloc(ls->l, (size_t)ls->cap * sizeof *ls->l);
    }
    hline *h = &ls->l[ls->n++];
    memset(h, 0, sizeof *h);
    return h;
}

static void seg_add(hline *h, theme_elem e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seg_add(hline *h, theme_elem e, const char *fmt, ...)
{
    if (h->n == SEG_MAX)
        return;
    seg *s = &h->s[h->n++];
    s->e = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
}

static level level_of(app *a, const char *metric, double value)
{
    double warn, crit;
    if (value < 0 || !config_threshold_get(app_session(a)->cfg, metric, &warn, &crit))
        return LV_NORMAL;
    return value >= crit ? LV_CRIT : value >= warn ? LV_WARN : LV_NORMAL;
}

static theme_elem level_elem(level lv)
{
    return lv == LV_CRIT ? EL_FAILED : lv == LV_WARN ? EL_WARNING : EL_NORMAL;
}

/* The value in its level's element, then the marker in a fixed 3 cells. */
static void value_add(hline *h, level lv, const char *text)
{
    seg_add(h, level_elem(lv), "%s", text);
    seg_add(h, level_elem(lv), "%s",
            lv == LV_CRIT   ? " ▲▲"
            : lv == LV_WARN ? " ▲ "
                            : "   ");
}

static void error_add(hline *h, sl_code code, const sl_err *e)
{
    seg_add(h, EL_FAILED, "%s %s", err_code_name(code), e->msg);
}

static void pct_line(lines *ls, app *a, const char *label, const char *metric, double pct,
                     const char *detail)
{
    hline *h = line_new(ls);
    seg_add(h, EL_NORMAL, "  %-8s ", label);
    char v[32];
    if (pct < 0)
        snprintf(v, sizeof v, "%7s", "-");
    else
        snprintf(v, sizeof v, "%5.1f %%", pct);
    value_add(h, level_of(a, metric, pct), v);
    if (detail)
        seg_add(h, EL_DIM, " %s", detail);
}

static void host_lines(lines *ls, app *a, const health_data *d)
{
    hline *h = line_new(ls);
    seg_add(h, EL_SECTION, "Host");
    if (hoststat_fixture_dir())
        seg_add(h, EL_WARNING, "  figures from SLUICE_HOSTSTAT_FIXTURE, not this host");
    if (d->cpu_code != SL_OK) {
        h = line_new(ls);
        seg_add(h, EL_NORMAL, "  %-8s ", "CPU");
        error_add(h, d->cpu_code, &d->cpu_err);
    } else {
        pct_line(ls, a, "CPU", "cpu_pct", d->cpu_pct,
                 d->cpu_pct < 0 ? "no time passed between two readings; r measures again"
                                : NULL);
    }
    if (d->mem_code != SL_OK) {
        h = line_new(ls);
        seg_add(h, EL_NORMAL, "  %-8s ", "Memory");
        error_add(h, d->mem_code, &d->mem_err);
    } else {
        char used[32], total[32], detail[96];
        fmt_bytes(d->mem.total_bytes - d->mem.available_bytes, used, sizeof used);
        fmt_bytes(d->mem.total_bytes, total, sizeof total);
        snprintf(detail, sizeof detail, "%s of %s used", used, total);
        pct_line(ls, a, "Memory", "mem_pct", hoststat_mem_pct(&d->mem), detail);
    }
    h = line_new(ls);
    if (d->disk_remote) {
        seg_add(h, EL_NORMAL, "  %-8s ", "Disk");
        seg_add(h, EL_DIM, "lake %s: not a local filesystem", d->disk_remote);
    } else if (d->disk_code != SL_OK) {
        seg_add(h, EL_NORMAL, "  %-8s ", "Disk");
        error_add(h, d->disk_code, &d->disk_err);
    } else {
        ls->n--; /* pct_line makes its own */
        char used[32], total[32], detail[600];
        fmt_bytes(d->disk.used_bytes, used, sizeof used);
        fmt_bytes(d->disk.used_bytes + d->disk.avail_bytes, total, sizeof total);
        snprintf(detail, sizeof detail, "%s of %s used · lake %s", used, total,
                 d->disk_path);
        pct_line(ls, a, "Disk", "disk_pct", hoststat_disk_pct(&d->disk), detail);
    }
}

static void ms_text(double ms, char *out, size_t outlen)
{
    if (ms < 10)
        snprintf(out, outlen, "%.2f ms", ms);
    else if (ms < 1000)
        snprintf(out, outlen, "%.0f ms", ms);
    else
        snprintf(out, outlen, "%.1f s", ms / 1000);
}

static void store_line(lines *ls, app *a, const char *label, const log_ring_stats *s)
{
    hline *h = line_new(ls);
    seg_add(h, EL_NORMAL, "  %-11s ", label);
    if (!s->calls) {
        seg_add(h, EL_DIM, "no store calls");
        return;
    }
    char mean[32], max[32];
    ms_text(s->mean_ms, mean, sizeof mean);
    ms_text(s->max_ms, max, sizeof max);
    level le = level_of(a, "store_errors", (double)s->errors);
    level lm = level_of(a, "store_ms", s->mean_ms);
    seg_add(h, EL_NORMAL, "%zu calls, ", s->calls);
    seg_add(h, level_elem(le), "%zu errors%s", s->errors,
            le == LV_CRIT   ? " ▲▲"
            : le == LV_WARN ? " ▲"
                            : "");
    seg_add(h, EL_NORMAL, ", mean ");
    seg_add(h, level_elem(lm), "%s%s", mean,
            lm == LV_CRIT   ? " ▲▲"
            : lm == LV_WARN ? " ▲"
                            : "");
    seg_add(h, EL_NORMAL, ", max %s", max);
    if (s->partial)
        seg_add(h, EL_DIM, " (of the last %zu requests kept)", s->kept);
}

static void store_lines(lines *ls, app *a, const health_data *d)
{
    hline *h = line_new(ls);
    seg_add(h, EL_SECTION, "Store requests of this console");
    if (!d->have_ring) {
        h = line_new(ls);
        seg_add(h, EL_DIM, "  not recorded in this session");
        return;
    }
    store_line(ls, a, "last 1 min", &d->store1);
    store_line(ls, a, "last 5 min", &d->store5);
}

static void lag_line(lines *ls, app *a, const pipe_health *p, int64_t now)
{
    hline *h = line_new(ls);
    seg_add(h, EL_NORMAL, "  %-10s ", p->name);
    if (p->lag_code != SL_OK) {
        seg_add(h, EL_NORMAL, "lag ");
        error_add(h, p->lag_code, &p->lag_err);
        return;
    }
    if (p->oldest_pending < 0) {
        seg_add(h, EL_OK, "lag none: nothing pending");
        return;
    }
    int64_t lag_ms = now - p->oldest_pending * 1000;
    char dur[32], when[32];
    fmt_duration(lag_ms < 0 ? 0 : lag_ms, dur, sizeof dur);
    fmt_time_short(p->oldest_pending * 1000, when, sizeof when);
    seg_add(h, EL_NORMAL, "lag ");
    level lv = level_of(a, "lag_minutes", (double)lag_ms / MINUTE_MS);
    seg_add(h, level_elem(lv), "%s%s", dur,
            lv == LV_CRIT   ? " ▲▲"
            : lv == LV_WARN ? " ▲"
                            : "");
    seg_add(h, EL_DIM, " · %zu pending, oldest %lld (%s)", p->npending,
            (long long)p->oldest_pending, when);
}

static void run_line(lines *ls, const pipe_health *p, int64_t now)
{
    hline *h = line_new(ls);
    seg_add(h, EL_NORMAL, "  %-10s last good run ", "");
    if (p->runs_code != SL_OK) {
        error_add(h, p->runs_code, &p->runs_err);
        return;
    }
    if (!p->have_good) {
        seg_add(h, EL_WARNING, "none recorded");
        return;
    }
    char when[32], age[32];
    fmt_time_short(p->good_ms, when, sizeof when);
    fmt_age(p->good_ms, now, age, sizeof age);
    char id[16];
    fmt_middle(p->good_run, 12, id, sizeof id);
    seg_add(h, EL_NORMAL, "%s (%s)", when, age);
    seg_add(h, EL_DIM, " · %zu folder%s · run %s", p->good_folders,
            p->good_folders == 1 ? "" : "s", id);
}

static void lease_line(lines *ls, const pipe_health *p, int64_t now)
{
    hline *h = line_new(ls);
    seg_add(h, EL_NORMAL, "  %-10s lease ", "");
    if (p->lease_code != SL_OK) {
        error_add(h, p->lease_code, &p->lease_err);
        return;
    }
    const lease_holder *l = &p->lease;
    if (!p->lease_exists) {
        seg_add(h, EL_DIM, "free");
        return;
    }
    if (l->unreadable) {
        seg_add(h, EL_WARNING, "▲ unreadable lease object (%s)", l->owner);
        return;
    }
    char when[32], age[32];
    fmt_time_short(l->expires_ms, when, sizeof when);
    fmt_age(l->expires_ms, now, age, sizeof age);
    seg_add(h, EL_NORMAL, "%s@%s:%lld", l->owner, l->host, (long long)l->pid);
    if (l->expires_ms <= now) /* a crashed holder: the next run takes it over */
        seg_add(h, EL_WARNING, " ▲ expired %s (%s)", when, age);
    else
        seg_add(h, EL_NORMAL, ", expires %s", when);
}

static void pipeline_lines(lines *ls, app *a, const health_data *d)
{
    hline *h = line_new(ls);
    seg_add(h, EL_SECTION, "Pipelines");
    const sl_err *pe = app_pipelines_error(a);
    if (pe->code != SL_OK) {
        h = line_new(ls);
        seg_add(h, EL_NORMAL, "  ");
        error_add(h, pe->code, pe);
        return;
    }
    if (!d->npipes) {
        h = line_new(ls);
        seg_add(h, EL_DIM, "  none in the config");
        return;
    }
    int64_t now = d->sampled_ms;
    for (size_t i = 0; i < d->npipes; i++) {
        const pipe_health *p = &d->pipes[i];
        if (p->code != SL_OK) {
            h = line_new(ls);
            seg_add(h, EL_NORMAL, "  %-10s ", p->name);
            error_add(h, p->code, &p->err);
            continue;
        }
        lag_line(ls, a, p, now);
        run_line(ls, p, now);
        lease_line(ls, p, now);
    }
}

static void build(app *a, const health_data *d, lines *ls)
{
    hline *h = line_new(ls);
    char when[32], age[32];
    fmt_time(d->sampled_ms, when, sizeof when);
    fmt_age(d->sampled_ms, time_now_ms(), age, sizeof age);
    seg_add(h, EL_DIM, "sampled %s UTC (%s) · ▲ at warn, ▲▲ at crit", when, age);
    host_lines(ls, a, d);
    store_lines(ls, a, d);
    pipeline_lines(ls, a, d);
}

static void draw(view *v, app *a, tui_rect r)
{
    if (view_draw_state(v, a, r, "health"))
        return;
    health_state *s = st(v);
    lines ls = {0};
    build(a, s->d, &ls);
    s->nlines = ls.n;
    s->page = r.rows;
    if (s->top > ls.n - r.rows)
        s->top = ls.n - r.rows;
    if (s->top < 0)
        s->top = 0;
    for (int i = 0; i < r.rows && s->top + i < ls.n; i++) {
        const hline *h = &ls.l[s->top + i];
        int x = r.col + 1;
        for (int k = 0; k < h->n && x < r.col + r.cols; k++)
            x += crt_put(r.row + i, x, r.col + r.cols - x, h->s[k].e, h->s[k].text);
    }
    free(ls.l);
}

static unsigned handle(view *v, app *a, action_id id, const char *arg, sl_err *err)
{
    (void)a;
    (void)arg;
    (void)err;
    health_state *s = st(v);
    if (!s)
        return REACT_UNHANDLED;
    int page = s->page > 1 ? s->page - 1 : 1;
    switch (id) {
    case ACT_DOWN:
        s->top++;
        break;
    case ACT_UP:
        s->top--;
        break;
    case ACT_PAGE_DOWN:
        s->top += page;
        break;
    case ACT_PAGE_UP:
        s->top -= page;
        break;
    case ACT_FIRST:
        s->top = 0;
        break;
    case ACT_LAST:
        s->top = s->nlines;
        break;
    default:
        return REACT_UNHANDLED;
    }
    if (s->top < 0)
        s->top = 0; /* draw clamps the other end */
    return REACT_REDRAW;
}

static void done(view *v)
{
    if (!v->state)
        return;
    data_free(st(v)->d);
    free(v->state);
}

const view_ops view_health_ops = {
    .name = "health",
    .title = "Health",
    .load = load,
    .take = take,
    .draw = draw,
    .handle = handle,
    .done = done,
};
