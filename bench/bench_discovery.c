/* Discovery of 50,000 epoch folders against a 45,000-folder checkpoint, one
 * thread: usage: bench_discovery [DATA_DIR]
 * The source (DATA_DIR/discovery-N/src: N folders, each with two JSON-lines
 * files and a _SUCCESS holding {"rows": 2}) is generated on the first run
 * and kept (DATA_DIR/discovery-N/complete marks it whole). The checkpoint
 * array holds 90% of the folders as processed, a random subset, so most of
 * the remaining 10% are late arrivals (older than the newest processed).
 * Prints a summary line (counts, load average before and after, peak RSS
 * before and after each way's first run: the peak only grows, so each
 * figure covers the ways before it) and one JSON line per way (medians of
 * BENCH_ROUNDS rounds, default 5, interleaved):
 *   list_only                the paged listing alone (S3's 1,000 keys a
 *                            page), nothing kept
 *   discover                 discover_epochs as the runner is meant to
 *                            call it (done_by_name: the folder names, then
 *                            the folders a run may take; DISCOVER_PAGE_KEYS,
 *                            every pending marker read)
 *   discover_no_marker_reads the same without reading the markers
 *   discover_every_object    the same listing every object of the source
 *                            (done_by_name 0: the console's call, and every
 *                            call before done_by_name existed)
 *   discover_one_page        discover asking for 1,000,000 keys a page
 *   folders_list             the console's folders_list (one pass, 1,000
 *                            keys a page)
 *   store_list_all           store_list_all of the whole source (every
 *                            object kept)
 * then, after those rounds, discover_root_changed: discover right after a
 * change to the source's top folder (a hidden folder made and
 * removed), so the local store cannot keep that folder's sorted entries
 * between pages and reads it again for each page: the worst case.
 * BENCH_FOLDERS changes the folder count (default 50000). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/store/store.h"

#include "backend/pipeline/discovery.h"
#include "backend/pipeline/folders.h"
#include "backend/util/buf.h"
#include "backend/util/timeutil.h"

#define MAX_ROUNDS 50
#define EPOCH0 1700000000LL

static void die(const char *what)
{
    fprintf(stderr, "bench_discovery: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(path);
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n)
        die(path);
    close(fd);
}

static void mkdir_ok(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path);
}

/* Folder i is EPOCH0 + 60 * i: a delivery a minute. */
static void generate(const char *base, const char *src, long nfolders)
{
    char *done = sl_asprintf("%s/complete", base);
    if (access(done, F_OK) == 0) {
        free(done);
        return;
    }
    mkdir_ok(base);
    mkdir_ok(src);
    static const char *const files[][2] = {
        {"part-00000.jsonl", "{\"order_id\":\"a\",\"amount\":1.5}\n"},
        {"part-00001.jsonl", "{\"order_id\":\"b\",\"amount\":2.5}\n"},
        {"_SUCCESS", "{\"rows\": 2}"},
    };
    for (long i = 0; i < nfolders; i++) {
        long long ep = EPOCH0 + 60LL * i;
        char *folder = sl_asprintf("%s/%lld", src, ep);
        mkdir_ok(folder);
        for (size_t j = 0; j < 3; j++) {
            char *path = sl_asprintf("%s/%s", folder, files[j][0]);
            write_file(path, files[j][1]);
            free(path);
        }
        free(folder);
    }
    write_file(done, "");
    free(done);
}

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int known_cmp(const void *a, const void *b)
{
    return strcmp(((const pl_known *)a)->folder, ((const pl_known *)b)->folder);
}

/* 90% of the folders, a random subset (Fisher-Yates), sorted by name. */
static pl_known *known_build(long nfolders, size_t *n_out, char ***names_out)
{
    long *idx = malloc((size_t)nfolders * sizeof *idx);
    for (long i = 0; i < nfolders; i++)
        idx[i] = i;
    for (long i = nfolders - 1; i > 0; i--) {
        long j = (long)(rnd() % (uint64_t)(i + 1));
        long t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    size_t n = (size_t)(nfolders * 9 / 10);
    pl_known *k = calloc(n, sizeof *k);
    char **names = calloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        names[i] = sl_asprintf("%lld", EPOCH0 + 60LL * idx[i]);
        k[i] = (pl_known){names[i], "processed", (int64_t)i + 1};
    }
    qsort(k, n, sizeof *k, known_cmp);
    free(idx);
    *n_out = n;
    *names_out = names;
    return k;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef enum way_kind { W_DISCOVER, W_LIST_ONLY, W_FOLDERS, W_LIST_ALL } way_kind;

typedef struct way {
    const char *name;
    way_kind kind;
    size_t page_keys;  /* keys a page asked for */
    int no_markers;    /* 1: no marker read (max_marker_reads SIZE_MAX) */
    int every_object;  /* 1: done_by_name 0 */
    long rss_after_kb; /* peak RSS after its first run */
    double ms[MAX_ROUNDS];
    double
        cpu_ms[MAX_ROUNDS]; /* user + system: steadier than wall time on a shared host */
    int n;
} way;

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void fail(const sl_err *e)
{
    fprintf(stderr, "bench_discovery: %s\n", e->msg);
    exit(1);
}

/* The raw listing alone, pages of page_keys, nothing kept. */
static size_t list_only(store *st, size_t page_keys)
{
    sl_err e = {0};
    char *token = NULL;
    size_t n = 0;
    do {
        store_list_req req = {.prefix = "", .start_token = token, .max_keys = page_keys};
        store_page p;
        if (store_list(st, &req, &p, &e) != SL_OK)
            fail(&e);
        free(token);
        token = p.next_token;
        p.next_token = NULL;
        n += p.n;
        store_page_free(&p);
    } while (token);
    return n;
}

/* Makes and removes a hidden folder in src, so its change stamps are new. */
static void touch_root(const char *src)
{
    char *tmp = sl_asprintf("%s/.sluice-tmp-bench", src);
    if (mkdir(tmp, 0755) != 0 || rmdir(tmp) != 0)
        die(tmp);
    free(tmp);
}

/* Runs one way once, adding its wall and CPU time; *last keeps the latest
 * discovery's counts (its folders are freed at once, so the next run's peak
 * RSS is its own). */
static void run_way(way *x, store *st, const pipeline_def *d, const pl_known *known,
                    size_t nknown, pl_discovery *last, size_t *listed_raw)
{
    sl_err e = {0};
    double t0 = time_mono_ms();
    double c0 = cpu_ms();
    if (x->kind == W_DISCOVER) {
        /* The runner's call: defaults but the page size and the mode. */
        pl_discover_opts o = {.now_ms = time_now_ms(),
                              .page_keys = x->page_keys,
                              .max_marker_reads = x->no_markers ? SIZE_MAX : 0,
                              .done_by_name = !x->every_object};
        pl_discovery dsc;
        if (discover_epochs(st, d, known, nknown, &o, &dsc, &e) != SL_OK)
            fail(&e);
        x->ms[x->n] = time_mono_ms() - t0;
        x->cpu_ms[x->n] = cpu_ms() - c0;
        *last = dsc;
        last->folders = NULL;
        last->n = 0;
        pl_discovery_free(&dsc);
    } else if (x->kind == W_LIST_ONLY) {
        *listed_raw = list_only(st, x->page_keys);
        x->ms[x->n] = time_mono_ms() - t0;
        x->cpu_ms[x->n] = cpu_ms() - c0;
    } else if (x->kind == W_FOLDERS) {
        source_listing sl;
        if (folders_list(st, "", &sl, &e) != SL_OK)
            fail(&e);
        x->ms[x->n] = time_mono_ms() - t0;
        x->cpu_ms[x->n] = cpu_ms() - c0;
        folders_free(&sl);
    } else {
        store_page all;
        if (store_list_all(st, "", NULL, &all, &e) != SL_OK)
            fail(&e);
        x->ms[x->n] = time_mono_ms() - t0;
        x->cpu_ms[x->n] = cpu_ms() - c0;
        store_page_free(&all);
    }
    if (x->n++ == 0)
        x->rss_after_kb = peak_rss_kb();
}

static void print_way(const way *x)
{
    double ms[MAX_ROUNDS], cpu[MAX_ROUNDS];
    memcpy(ms, x->ms, sizeof ms);
    memcpy(cpu, x->cpu_ms, sizeof cpu);
    double med = median(ms, x->n); /* sorts ms: min and max follow */
    double med_cpu = median(cpu, x->n);
    printf("{\"way\":\"%s\",\"page_keys\":%zu,\"samples\":%d,\"median_ms\":%.1f,"
           "\"min_ms\":%.1f,\"max_ms\":%.1f,\"median_cpu_ms\":%.1f,"
           "\"peak_rss_kb_after_first\":%ld}\n",
           x->name, x->page_keys, x->n, med, ms[0], ms[x->n - 1], med_cpu,
           x->rss_after_kb);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    long nfolders = getenv("BENCH_FOLDERS") ? atol(getenv("BENCH_FOLDERS")) : 50000;
    int rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5;
    if (rounds < 1 || rounds > MAX_ROUNDS || nfolders < 10) {
        fprintf(stderr, "bench_discovery: BENCH_ROUNDS 1..%d, BENCH_FOLDERS >= 10\n",
                MAX_ROUNDS);
        return 2;
    }
    double load0[3] = {0};
    getloadavg(load0, 3);
    char *base = sl_asprintf("%s/discovery-%ld", data, nfolders);
    char *src = sl_asprintf("%s/src", base);
    double t0 = time_mono_ms();
    generate(base, src, nfolders);
    double gen_ms = time_mono_ms() - t0;

    size_t nknown;
    char **names;
    pl_known *known = known_build(nfolders, &nknown, &names);
    pipeline_def d = {0};
    d.name = "bench";
    d.source.layout = PL_LAYOUT_EPOCH;
    d.source.ready_marker = "_SUCCESS";
    store *st = NULL;
    sl_err e = {0};
    if (store_open(src, &st, &e) != SL_OK)
        fail(&e);
    /* Lightest first, so each way's peak RSS after its first run is its own
     * when it is the largest so far. */
    way ways[] = {
        {.name = "list_only", .kind = W_LIST_ONLY, .page_keys = 1000},
        {.name = "discover", .kind = W_DISCOVER, .page_keys = DISCOVER_PAGE_KEYS},
        {.name = "discover_no_marker_reads",
         .kind = W_DISCOVER,
         .page_keys = DISCOVER_PAGE_KEYS,
         .no_markers = 1},
        {.name = "discover_every_object",
         .kind = W_DISCOVER,
         .page_keys = DISCOVER_PAGE_KEYS,
         .every_object = 1},
        {.name = "discover_one_page", .kind = W_DISCOVER, .page_keys = 1000000},
        {.name = "folders_list", .kind = W_FOLDERS, .page_keys = 1000},
        {.name = "store_list_all", .kind = W_LIST_ALL, .page_keys = 100000},
    };
    const size_t nways = sizeof ways / sizeof ways[0];
    way changed = {.name = "discover_root_changed",
                   .kind = W_DISCOVER,
                   .page_keys = DISCOVER_PAGE_KEYS};
    long rss_before = peak_rss_kb();
    pl_discovery last = {0};
    size_t listed_raw = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t w = 0; w < nways; w++)
            run_way(&ways[w], st, &d, known, nknown, &last, &listed_raw);
    for (int r = 0; r < rounds; r++) {
        touch_root(src);
        run_way(&changed, st, &d, known, nknown, &last, &listed_raw);
    }
    double load1[3] = {0};
    getloadavg(load1, 3);
    printf("{\"folders\":%ld,\"objects\":%zu,\"known_processed\":%zu,\"rounds\":%d,"
           "\"generate_ms\":%.0f,\"pending\":%zu,\"late\":%zu,\"waiting\":%zu,"
           "\"newest_processed_epoch\":%lld,\"discover_pages\":%zu,"
           "\"load_before\":[%.2f,%.2f,%.2f],\"load_after\":[%.2f,%.2f,%.2f],"
           "\"peak_rss_kb_before\":%ld}\n",
           nfolders, listed_raw, nknown, rounds, gen_ms, last.npending, last.nlate,
           last.nwaiting, (long long)last.newest_processed_epoch, last.npages, load0[0],
           load0[1], load0[2], load1[0], load1[1], load1[2], rss_before);
    for (size_t w = 0; w < nways; w++)
        print_way(&ways[w]);
    print_way(&changed);
    printf("{\"peak_rss_kb_end\":%ld}\n", peak_rss_kb());
    store_close(st);
    for (size_t i = 0; i < nknown; i++)
        free(names[i]);
    free(names);
    free(known);
    free(src);
    free(base);
    return 0;
}
