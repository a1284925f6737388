/* Discovery of 50,000 epoch folders against a 45,000-folder checkpoint, one
 * thread: usage: bench_discovery [DATA_DIR]
 * The source (DATA_DIR/discovery-N/src: N folders, each with two JSON-lines
 * files and a _SUCCESS holding {"rows": 2}) is generated on the first run
 * and kept (DATA_DIR/discovery-N/complete marks it whole). The checkpoint
 * array holds 90% of the folders as processed, a random subset, so most of
 * the remaining 10% are late arrivals (older than the newest processed).
 * Prints a summary line (counts, peak RSS before and right after the first
 * discovery) and one JSON line per way (medians of BENCH_ROUNDS rounds,
 * default 5, interleaved):
 *   discover                 discover_epochs as the runner calls it (default
 *                            page size, every pending folder's marker read)
 *   discover_no_marker_reads the same without reading the markers
 *   discover_100k_pages      the same asking for 100,000 keys a page
 *   list_only                the paged listing alone, nothing kept
 *   folders_list_per_folder  the console's folders_list: a delimiter listing
 *                            of the top level, then one listing per folder
 *   discover_1k_pages        discover_epochs asking for S3's 1,000 keys a
 *                            page; only with BENCH_SMALL_PAGES=1, one round
 *                            (the local store re-walks the tree per page)
 * BENCH_FOLDERS changes the folder count (default 50000). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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

typedef struct way {
    const char *name;
    size_t page_keys; /* 0 for the ways that are not discover_epochs */
    int only_if_slow; /* 1: only with BENCH_SMALL_PAGES=1, one round */
    int no_markers;   /* 1: no marker read (max_marker_reads SIZE_MAX) */
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

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    long nfolders = getenv("BENCH_FOLDERS") ? atol(getenv("BENCH_FOLDERS")) : 50000;
    int rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5;
    int slow = getenv("BENCH_SMALL_PAGES") && atoi(getenv("BENCH_SMALL_PAGES")) == 1;
    if (rounds < 1 || rounds > MAX_ROUNDS || nfolders < 10) {
        fprintf(stderr, "bench_discovery: BENCH_ROUNDS 1..%d, BENCH_FOLDERS >= 10\n",
                MAX_ROUNDS);
        return 2;
    }
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
    way ways[] = {
        {"discover", DISCOVER_PAGE_KEYS, 0, 0, {0}, {0}, 0},
        {"discover_no_marker_reads", DISCOVER_PAGE_KEYS, 0, 1, {0}, {0}, 0},
        {"discover_100k_pages", 100000, 0, 0, {0}, {0}, 0},
        {"list_only", 0, 0, 0, {0}, {0}, 0},
        {"folders_list_per_folder", 0, 0, 0, {0}, {0}, 0},
        {"discover_1k_pages", 1000, 1, 0, {0}, {0}, 0},
    };
    const size_t nways = sizeof ways / sizeof ways[0];
    long rss_before = peak_rss_kb(), rss_discover = 0;
    pl_discovery last = {0};
    size_t listed_raw = 0;
    for (int r = 0; r < rounds; r++) {
        for (size_t w = 0; w < nways; w++) {
            way *x = &ways[w];
            if (x->only_if_slow && (!slow || r > 0))
                continue;
            t0 = time_mono_ms();
            double c0 = cpu_ms();
            if (x->page_keys) {
                /* The runner's call: defaults but the page size. */
                pl_discover_opts o = {.now_ms = time_now_ms(),
                                      .page_keys = x->page_keys,
                                      .max_marker_reads = x->no_markers ? SIZE_MAX : 0};
                pl_discovery dsc;
                if (discover_epochs(st, &d, known, nknown, &o, &dsc, &e) != SL_OK)
                    fail(&e);
                x->ms[x->n] = time_mono_ms() - t0;
                x->cpu_ms[x->n++] = cpu_ms() - c0;
                if (w == 0 && r == 0)
                    rss_discover = peak_rss_kb(); /* before the other ways run */
                pl_discovery_free(&last);
                last = dsc;
            } else if (strcmp(x->name, "list_only") == 0) {
                listed_raw = list_only(st, DISCOVER_PAGE_KEYS);
                x->ms[x->n] = time_mono_ms() - t0;
                x->cpu_ms[x->n++] = cpu_ms() - c0;
            } else {
                source_listing sl;
                if (folders_list(st, "", &sl, &e) != SL_OK)
                    fail(&e);
                x->ms[x->n] = time_mono_ms() - t0;
                x->cpu_ms[x->n++] = cpu_ms() - c0;
                folders_free(&sl);
            }
        }
    }
    printf("{\"folders\":%ld,\"objects\":%zu,\"known_processed\":%zu,\"rounds\":%d,"
           "\"generate_ms\":%.0f,\"pending\":%zu,\"late\":%zu,\"waiting\":%zu,"
           "\"newest_processed_epoch\":%lld,\"peak_rss_kb_before\":%ld,"
           "\"peak_rss_kb_after_discover\":%ld}\n",
           nfolders, listed_raw, nknown, rounds, gen_ms, last.npending, last.nlate,
           last.nwaiting, (long long)last.newest_processed_epoch, rss_before,
           rss_discover);
    for (size_t w = 0; w < nways; w++) {
        if (!ways[w].n)
            continue;
        printf("{\"way\":\"%s\",\"page_keys\":%zu,\"samples\":%d,\"median_ms\":%.1f,"
               "\"median_cpu_ms\":%.1f}\n",
               ways[w].name, ways[w].page_keys, ways[w].n, median(ways[w].ms, ways[w].n),
               median(ways[w].cpu_ms, ways[w].n));
    }
    printf("{\"peak_rss_kb_end\":%ld}\n", peak_rss_kb());
    pl_discovery_free(&last);
    store_close(st);
    for (size_t i = 0; i < nknown; i++)
        free(names[i]);
    free(names);
    free(known);
    free(src);
    free(base);
    return 0;
}
