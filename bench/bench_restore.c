/* RESTORE of a 100,000-file Delta table to a version 1,000 files away, one
 * thread: usage: bench_restore DATA_DIR
 * The work should follow the difference plus the two snapshots (each from
 * its nearest checkpoint), never the length of the history in between. Each
 * variant is a table of its own under DATA_DIR, built on the first run and
 * kept (a marker file says it is complete):
 *   v0 creates it, v1..v10 add the files (the commit of v10 writes the
 *   checkpoint: delta.checkpointInterval 10), v11 removes diff/2 of them and
 *   adds diff/2 new ones, then `history` small commits (each adds one file
 *   and removes the one the previous one added; a checkpoint every 10).
 * The restore goes back to v10: diff/2 re-adds, diff/2 removes (one more
 * with history). Only the re-added data files exist on disk (empty): restore
 * stats them and reads no data file.
 * Prints one JSON line per variant (medians of BENCH_ROUNDS rounds, default
 * 5, variants interleaved in each round) and the ratios. The real commit of
 * each round is undone afterwards (its commit, its checkpoint and
 * _last_checkpoint put back), outside the timings.
 * BENCH_RESTORE_FILES changes the table size (default 100000). */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_write.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define TARGET_VERSION 10 /* the commits v1..v10 add the files */
#define MAX_ROUNDS 50

typedef struct variant {
    int64_t diff;    /* files the target differs by from v11 on */
    int64_t history; /* small commits after v11 */
} variant;

/* History 0..1000 at a fixed difference; difference 100..10000 at a fixed
 * history; history 8 makes the restore commit version 20, which is due a
 * checkpoint (the others end in 2 and are not). */
static const variant VARIANTS[] = {
    {1000, 0}, {1000, 10}, {1000, 100}, {1000, 1000}, {100, 10}, {10000, 10}, {1000, 8},
};
#define NVARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])

typedef struct sample {
    double snapshot; /* delta_snapshot_open, latest */
    double target;   /* delta_snapshot_open at the target version */
    double plan;     /* delta_restore_plan_build */
    double dry_run;  /* plan + its preview JSON (what --dry-run computes) */
    double restore;  /* plan + delta_restore_commit */
    double commit;   /* delta_restore_commit alone */
} sample;

typedef struct bench_table {
    char *dir;
    char *marker; /* holds _last_checkpoint as built */
    const variant *v;
    int64_t nfiles;
    int64_t latest;
    store *st;
    sl_buf last_checkpoint;
    size_t nreadd, nremove;
    int checkpoint_written;
    sample s[MAX_ROUNDS];
} bench_table;

/* ---- the table's actions --------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Files are spread over 365 date partitions like the checkpoint bench's;
 * kind tells the base files ('b'), the difference ('d') and the history
 * ('h') apart. */
static void file_names(char kind, int64_t i, char *date, size_t dlen, char *path,
                       size_t plen)
{
    time_t t = (time_t)(1767225600 + (i % 365) * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, dlen, "%Y-%m-%d", &tm);
    snprintf(path, plen, "date=%s/part-%c%06lld-%016llx.c000.snappy.parquet", date, kind,
             (long long)i, (unsigned long long)mix((uint64_t)i ^ (uint64_t)kind));
}

static json_t *add_action(char kind, int64_t i)
{
    char date[16], path[128], stats[192];
    file_names(kind, i, date, sizeof date, path, sizeof path);
    snprintf(
        stats, sizeof stats,
        "{\"numRecords\":%lld,\"minValues\":{\"id\":%lld},\"maxValues\":{\"id\":%lld},"
        "\"nullCount\":{\"id\":0}}",
        (long long)(1000 + i % 100), (long long)i * 1000, (long long)i * 1000 + 999);
    return json_pack("{s:{s:s, s:{s:s}, s:I, s:I, s:b, s:s}}", "add", "path", path,
                     "partitionValues", "date", date, "size", (json_int_t)(1000000 + i),
                     "modificationTime", (json_int_t)(1767225600000LL + i), "dataChange",
                     1, "stats", stats);
}

static json_t *remove_action(char kind, int64_t i, int64_t now_ms)
{
    char date[16], path[128];
    file_names(kind, i, date, sizeof date, path, sizeof path);
    return json_pack("{s:{s:s, s:I, s:b, s:b, s:{s:s}, s:I}}", "remove", "path", path,
                     "deletionTimestamp", (json_int_t)now_ms, "dataChange", 1,
                     "extendedFileMetadata", 1, "partitionValues", "date", date, "size",
                     (json_int_t)(1000000 + i));
}

/* Base file removed by the difference's j-th remove: spread over the table. */
static int64_t removed_base(const bench_table *t, int64_t j)
{
    return j * (t->nfiles / (t->v->diff / 2));
}

/* ---- building a table -------------------------------------------------------- */

typedef struct writer {
    store *st;
    int64_t version; /* latest written, -1 before v0 */
    json_t *protocol, *metadata;
} writer;

/* delta_commit reads only the version, commit time, protocol and metaData
 * of the snapshot the actions were computed from; the setup knows them, and
 * opening a real 100k-file snapshot before each of 1,000 commits would take
 * minutes. The commit path is the real one (checkpoints included). Takes
 * acts. */
static sl_code commit_actions(writer *w, json_t *acts, sl_err *err)
{
    delta_snapshot read = {
        .version = w->version, .protocol = w->protocol, .metadata = w->metadata};
    delta_commit_req req = {
        .meta = {.operation = w->version < 0 ? "CREATE TABLE" : "WRITE",
                 .operator_name = "bench"},
        .read_snap = w->version < 0 ? NULL : &read,
        .actions = acts,
    };
    delta_commit_result r = {0};
    sl_code c = delta_commit(w->st, "", &req, &r, err);
    json_decref(acts);
    if (c == SL_OK && r.checkpoint_err.code != SL_OK) {
        *err = r.checkpoint_err;
        c = err->code;
    }
    if (c == SL_OK)
        w->version = r.version;
    return c;
}

static sl_code build_base(writer *w, int64_t nfiles, sl_err *err)
{
    w->protocol = json_pack("{s:i, s:i}", "minReaderVersion", 1, "minWriterVersion", 2);
    w->metadata = json_pack(
        "{s:s, s:{s:s, s:{}}, s:s, s:[s], s:{}, s:I}", "id", "bench-restore", "format",
        "provider", "parquet", "options", "schemaString",
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\","
        "\"nullable\":"
        "true,\"metadata\":{}},{\"name\":\"date\",\"type\":\"string\",\"nullable\":true,"
        "\"metadata\":{}}]}",
        "partitionColumns", "date", "configuration", "createdTime",
        (json_int_t)1767225600000LL);
    sl_code c = commit_actions(
        w, json_pack("[{s:O}, {s:O}]", "protocol", w->protocol, "metaData", w->metadata),
        err);
    for (int64_t k = 0; c == SL_OK && k < TARGET_VERSION; k++) {
        json_t *acts = json_array();
        for (int64_t i = nfiles * k / TARGET_VERSION;
             i < nfiles * (k + 1) / TARGET_VERSION; i++)
            json_array_append_new(acts, add_action('b', i));
        c = commit_actions(w, acts, err);
    }
    return c;
}

/* v11: diff/2 base files out (their data files exist: restore re-adds
 * them), diff/2 new ones in. */
static sl_code build_diff(writer *w, const bench_table *t, sl_err *err)
{
    json_t *acts = json_array();
    int64_t now = time_now_ms();
    sl_code c = SL_OK;
    for (int64_t j = 0; c == SL_OK && j < t->v->diff / 2; j++) {
        char date[16], path[128];
        file_names('b', removed_base(t, j), date, sizeof date, path, sizeof path);
        c = store_put(w->st, path, "", 0, err);
        json_array_append_new(acts, remove_action('b', removed_base(t, j), now));
        json_array_append_new(acts, add_action('d', j));
    }
    if (c != SL_OK) {
        json_decref(acts);
        return c;
    }
    return commit_actions(w, acts, err);
}

static sl_code build_history(writer *w, const bench_table *t, sl_err *err)
{
    sl_code c = SL_OK;
    for (int64_t k = 0; c == SL_OK && k < t->v->history; k++) {
        json_t *acts = json_array();
        json_array_append_new(acts, add_action('h', k));
        if (k > 0)
            json_array_append_new(acts, remove_action('h', k - 1, time_now_ms()));
        c = commit_actions(w, acts, err);
    }
    return c;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static sl_code build_table(bench_table *t, sl_err *err)
{
    fprintf(stderr, "building %s (first run only)...\n", t->dir);
    if (nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return err_set(err, SL_IO, "%s: cannot remove: %s", t->dir, strerror(errno));
    if (mkdir(t->dir, 0777) != 0)
        return err_set(err, SL_IO, "%s: %s", t->dir, strerror(errno));
    writer w = {.version = -1};
    sl_code c = store_open(t->dir, &w.st, err);
    if (c == SL_OK)
        c = build_base(&w, t->nfiles, err);
    if (c == SL_OK)
        c = build_diff(&w, t, err);
    if (c == SL_OK)
        c = build_history(&w, t, err);
    sl_buf lc = {0};
    if (c == SL_OK)
        c = store_get(w.st, "_delta_log/_last_checkpoint", &lc, err);
    json_decref(w.protocol);
    json_decref(w.metadata);
    store_close(w.st);
    if (c != SL_OK) {
        buf_free(&lc);
        return c;
    }
    FILE *f = fopen(t->marker, "wb");
    if (!f || fwrite(lc.data, 1, lc.len, f) != lc.len || fclose(f) != 0)
        c = err_set(err, SL_IO, "%s: cannot write", t->marker);
    buf_free(&lc);
    return c;
}

/* ---- measuring ---------------------------------------------------------------- */

static sl_code load_marker(bench_table *t, sl_err *err)
{
    FILE *f = fopen(t->marker, "rb");
    if (!f)
        return err_set(err, SL_STORE_NOT_FOUND, "%s: missing", t->marker);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&t->last_checkpoint, chunk, n);
    fclose(f);
    return SL_OK;
}

/* Puts the table back as built: the restore's commit (and checkpoint) go,
 * _last_checkpoint comes back. Also clears what an interrupted run left. */
static sl_code table_reset(bench_table *t, sl_err *err)
{
    char key[96];
    snprintf(key, sizeof key, "_delta_log/%020lld.json", (long long)t->latest + 1);
    sl_code c = store_delete(t->st, key, err);
    snprintf(key, sizeof key, "_delta_log/%020lld.checkpoint.parquet",
             (long long)t->latest + 1);
    if (c == SL_OK)
        c = store_delete(t->st, key, err);
    if (c == SL_OK)
        c = store_put(t->st, "_delta_log/_last_checkpoint", t->last_checkpoint.data,
                      t->last_checkpoint.len, err);
    return c;
}

static sl_code table_open(bench_table *t, const char *data, int64_t nfiles,
                          const variant *v, sl_err *err)
{
    t->v = v;
    t->nfiles = nfiles;
    t->latest = TARGET_VERSION + 1 + v->history;
    t->dir = sl_asprintf("%s/restore-f%lld-d%lld-h%lld", data, (long long)nfiles,
                         (long long)v->diff, (long long)v->history);
    t->marker = sl_asprintf("%s.ready", t->dir);
    struct stat sb;
    sl_code c = SL_OK;
    if (stat(t->marker, &sb) != 0)
        c = build_table(t, err);
    if (c == SL_OK)
        c = load_marker(t, err);
    if (c == SL_OK)
        c = store_open(t->dir, &t->st, err);
    if (c == SL_OK)
        c = table_reset(t, err);
    return c;
}

static void table_close(bench_table *t)
{
    store_close(t->st);
    buf_free(&t->last_checkpoint);
    free(t->dir);
    free(t->marker);
}

static sl_code time_snapshot(bench_table *t, const delta_at *at, double *secs,
                             sl_err *err)
{
    delta_snapshot *snap = NULL;
    double t0 = time_mono_ms();
    sl_code c = delta_snapshot_open(t->st, "", at, &snap, err);
    *secs = (time_mono_ms() - t0) / 1000.0;
    if (c == SL_OK && snap->nfiles < (size_t)t->nfiles)
        c = err_set(err, SL_INTERNAL, "%s: version %lld has %zu files, expected %lld",
                    t->dir, (long long)snap->version, snap->nfiles, (long long)t->nfiles);
    delta_snapshot_free(snap);
    return c;
}

/* The restored table must hold the target's files at latest + 1. */
static sl_code check_restored(bench_table *t, const delta_restore_plan *p, sl_err *err)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_snapshot *snap = NULL;
    sl_code c = delta_snapshot_open(t->st, "", &latest, &snap, err);
    if (c == SL_OK &&
        (snap->version != t->latest + 1 || snap->nfiles != p->target->nfiles ||
         snap->size_bytes != p->target->size_bytes))
        c = err_set(
            err, SL_INTERNAL,
            "%s: after the restore: version %lld, %zu files, %lld bytes; expected "
            "%lld, %zu, %lld",
            t->dir, (long long)snap->version, snap->nfiles, (long long)snap->size_bytes,
            (long long)t->latest + 1, p->target->nfiles,
            (long long)p->target->size_bytes);
    delta_snapshot_free(snap);
    return c;
}

static sl_code time_restore(bench_table *t, int round, sl_err *err)
{
    sample *s = &t->s[round];
    delta_at at = {.kind = DELTA_AT_VERSION, .version = TARGET_VERSION};
    delta_restore_plan *p = NULL;
    double t0 = time_mono_ms();
    sl_code c = delta_restore_plan_build(t->st, "", &at, time_now_ms(), &p, err);
    s->plan = (time_mono_ms() - t0) / 1000.0;
    delta_restore_plan_free(p);
    p = NULL;
    if (c != SL_OK)
        return c;

    json_t *preview = NULL;
    t0 = time_mono_ms();
    c = delta_restore_plan_build(t->st, "", &at, time_now_ms(), &p, err);
    if (c == SL_OK)
        preview = delta_restore_plan_to_json(p, "bench");
    s->dry_run = (time_mono_ms() - t0) / 1000.0;
    json_decref(preview);
    delta_restore_plan_free(p);
    p = NULL;
    if (c != SL_OK)
        return c;

    delta_commit_meta meta = {.operation = "RESTORE", .operator_name = "bench"};
    delta_commit_result r = {0};
    t0 = time_mono_ms();
    c = delta_restore_plan_build(t->st, "", &at, time_now_ms(), &p, err);
    double t1 = time_mono_ms();
    if (c == SL_OK)
        c = delta_restore_commit(t->st, "", p, &meta, &r, err);
    double t2 = time_mono_ms();
    s->restore = (t2 - t0) / 1000.0;
    s->commit = (t2 - t1) / 1000.0;
    if (c == SL_OK && r.checkpoint_err.code != SL_OK) {
        *err = r.checkpoint_err;
        c = err->code;
    }
    if (c == SL_OK) {
        t->nreadd = p->nreadd;
        t->nremove = p->nremove;
        t->checkpoint_written = r.checkpoint_written;
    }
    if (c == SL_OK && round == 0)
        c = check_restored(t, p, err);
    delta_restore_plan_free(p);
    sl_err rerr = {0};
    sl_code rc = table_reset(t, &rerr);
    if (c == SL_OK && rc != SL_OK) {
        *err = rerr;
        c = rc;
    }
    return c;
}

static sl_code time_round(bench_table *t, int round, sl_err *err)
{
    delta_at latest = {.kind = DELTA_AT_LATEST};
    delta_at target = {.kind = DELTA_AT_VERSION, .version = TARGET_VERSION};
    sl_code c = time_snapshot(t, &latest, &t->s[round].snapshot, err);
    if (c == SL_OK)
        c = time_snapshot(t, &target, &t->s[round].target, err);
    if (c == SL_OK)
        c = time_restore(t, round, err);
    return c;
}

/* ---- reporting ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over the rounds of the field at byte offset `off` of a sample. */
static double median(const bench_table *t, int rounds, size_t off)
{
    double v[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        memcpy(&v[r], (const char *)&t->s[r] + off, sizeof v[r]);
    qsort(v, (size_t)rounds, sizeof v[0], cmp_double);
    return rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}

#define MED(t, field) median((t), rounds, offsetof(sample, field))

static void print_variant(const bench_table *t, int rounds)
{
    printf("{\"op\":\"restore\",\"files\":%lld,\"target\":%d,\"latest\":%lld,\"history\":"
           "%lld,"
           "\"diff\":%lld,\"readd\":%zu,\"remove\":%zu,\"checkpoint_written\":%s,"
           "\"snapshot_s\":%.4f,\"target_snapshot_s\":%.4f,\"plan_s\":%.4f,"
           "\"dry_run_s\":%.4f,\"restore_s\":%.4f,\"commit_s\":%.4f,"
           "\"restore_over_snapshot\":%.2f}\n",
           (long long)t->nfiles, TARGET_VERSION, (long long)t->latest,
           (long long)t->v->history, (long long)t->v->diff, t->nreadd, t->nremove,
           t->checkpoint_written ? "true" : "false", MED(t, snapshot), MED(t, target),
           MED(t, plan), MED(t, dry_run), MED(t, restore), MED(t, commit),
           MED(t, restore) / MED(t, snapshot));
}

static const bench_table *find(const bench_table *ts, int64_t diff, int64_t history)
{
    for (size_t i = 0; i < NVARIANTS; i++)
        if (ts[i].v->diff == diff && ts[i].v->history == history)
            return &ts[i];
    return NULL;
}

static void print_summary(const bench_table *ts, int rounds)
{
    const bench_table *h0 = find(ts, 1000, 0), *h10 = find(ts, 1000, 10),
                      *h100 = find(ts, 1000, 100), *h1000 = find(ts, 1000, 1000),
                      *d100 = find(ts, 100, 10), *d10k = find(ts, 10000, 10),
                      *h8 = find(ts, 1000, 8);
    printf("restore (plan + commit) vs history, diff 1000: H=0 %.3f s, H=10 %.3f s, "
           "H=100 %.3f s, H=1000 %.3f s; H=1000/H=0 %.2fx (target ~1.0: no history "
           "walk)\n",
           MED(h0, restore), MED(h10, restore), MED(h100, restore), MED(h1000, restore),
           MED(h1000, restore) / MED(h0, restore));
    printf("restore vs difference, history 10: D=100 %.3f s, D=1000 %.3f s, D=10000 %.3f "
           "s; %.1f us a differing file (commit alone: D=100 %.4f s, D=10000 %.4f s)\n",
           MED(d100, restore), MED(h10, restore), MED(d10k, restore),
           (MED(d10k, restore) - MED(d100, restore)) * 1e6 / (double)(10000 - 100),
           MED(d100, commit), MED(d10k, commit));
    printf("restore / one snapshot of the latest version (diff 1000, history 10): plan "
           "%.2fx, dry run %.2fx, plan + commit %.2fx (the plan opens two snapshots: "
           "latest %.3f s, target %.3f s)\n",
           MED(h10, plan) / MED(h10, snapshot), MED(h10, dry_run) / MED(h10, snapshot),
           MED(h10, restore) / MED(h10, snapshot), MED(h10, snapshot), MED(h10, target));
    printf("checkpoint due on the restore commit (history 8, version %lld, written: %s): "
           "commit %.3f s vs %.3f s without (history 10): +%.3f s\n",
           (long long)h8->latest + 1, h8->checkpoint_written ? "yes" : "no",
           MED(h8, commit), MED(h10, commit), MED(h8, commit) - MED(h10, commit));
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    long n = v && *v ? strtol(v, NULL, 10) : dflt;
    return n < lo ? lo : n > hi ? hi : n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_restore DATA_DIR\n");
        return 2;
    }
    int rounds = (int)env_long("BENCH_ROUNDS", 5, 1, MAX_ROUNDS);
    int64_t nfiles = env_long("BENCH_RESTORE_FILES", 100000, 20000, 10000000);
    bench_table ts[NVARIANTS];
    memset(ts, 0, sizeof ts);
    sl_err err = {0};
    sl_code c = SL_OK;
    for (size_t i = 0; c == SL_OK && i < NVARIANTS; i++)
        c = table_open(&ts[i], argv[1], nfiles, &VARIANTS[i], &err);
    /* Interleaved so that a noisy neighbour hits every variant alike. */
    for (int r = 0; c == SL_OK && r < rounds; r++)
        for (size_t i = 0; c == SL_OK && i < NVARIANTS; i++)
            c = time_round(&ts[i], r, &err);
    if (c == SL_OK) {
        for (size_t i = 0; i < NVARIANTS; i++)
            print_variant(&ts[i], rounds);
        print_summary(ts, rounds);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("rounds: %d (medians, interleaved); peak RSS %.1f MB\n", rounds,
               (double)ru.ru_maxrss / 1024.0);
    } else {
        fprintf(stderr, "%s: %s\n", err_code_name(c), err.msg);
    }
    for (size_t i = 0; i < NVARIANTS; i++)
        table_close(&ts[i]);
    return c == SL_OK ? 0 : 1;
}
