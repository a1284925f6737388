/* Discovery: epoch folders against the checkpoint's states (pending,
 * waiting for the marker or to settle, late arrivals, failed staying
 * failed, resets pending again), expected rows from the marker, the data
 * files of a folder, numeric order, pagination across folders; and the
 * files layout (new, changed, unchanged, deleted). */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/pipeline/discovery.h"
#include "backend/store/store_fault.h"

#define T0_S 1000000LL /* every object's mtime, in seconds, unless set otherwise */

static void set_mtime(const char *dir, const char *rel, int64_t sec)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct timespec ts[2] = {{.tv_sec = (time_t)sec}, {.tv_sec = (time_t)sec}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void put(const char *dir, const char *rel, const char *text)
{
    tu_write_file(dir, rel, text);
    set_mtime(dir, rel, T0_S);
}

static store *open_store(const char *dir)
{
    store *s = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &s, &err), SL_OK);
    return s;
}

static pipeline_def epoch_def(int64_t settle_ms)
{
    pipeline_def d = {0};
    d.name = "orders";
    d.source.layout = PL_LAYOUT_EPOCH;
    d.source.ready_marker = "_SUCCESS";
    d.source.settle_ms = settle_ms;
    return d;
}

static const pl_folder *find(const pl_discovery *dsc, const char *name)
{
    for (size_t i = 0; i < dsc->n; i++)
        if (strcmp(dsc->folders[i].folder, name) == 0)
            return &dsc->folders[i];
    fail_msg("folder %s not discovered", name);
    return NULL;
}

/* ---- epoch layout: states -------------------------------------------------- */

static void build_states_source(const char *dir)
{
    put(dir, "1000/a.jsonl", "{}\n");
    put(dir, "1000/_SUCCESS", "");
    put(dir, "999/a.jsonl", "{}\n{}\n");
    put(dir, "999/_SUCCESS", "{\"rows\": 5}");
    put(dir, "1100/a.jsonl", "{}\n"); /* no marker yet */
    put(dir, "1200/a.jsonl", "{}\n");
    put(dir, "1200/_SUCCESS", "");
    put(dir, "1300/a.jsonl", "{}\n");
    put(dir, "1300/_SUCCESS", "");
    put(dir, "1400/a.jsonl", "{}\n");
    put(dir, "1400/_SUCCESS", "");
    put(dir, "1500/a.jsonl", "{}\n");
    put(dir, "1500/_SUCCESS", "");
    put(dir, "1600/b.jsonl", "{}\n{}\n");
    put(dir, "1600/a.jsonl", "{}\n");
    put(dir, "1600/_temporary/0/part", "x");
    put(dir, "1600/.staging", "x");
    put(dir, "1600/sub/c.jsonl", "{}\n{}\n{}\n");
    put(dir, "1600/sub/_meta", "x");
    put(dir, "1600/_SUCCESS", "{\"rows\": 3, \"note\": \"ok\"}");
    put(dir, "1700/a.jsonl", "{}\n");
    put(dir, "1700/_SUCCESS", "not json");
    set_mtime(dir, "1700/a.jsonl", T0_S + 100); /* written 30 s before "now" */
    put(dir, "1800/a.jsonl", "{}\n");
    put(dir, "1800/_SUCCESS", "");
    put(dir, "1900/a.jsonl", "{}\n");
    put(dir, "1900/_SUCCESS", "{\"rows\": -4}");
    /* Not epoch folders: left to `sluice folders`. */
    put(dir, "manual_fix/x.csv", "a\n");
    put(dir, "17000x/y", "b");
    put(dir, "README.txt", "hello");
}

/* Sorted by folder in byte order, as the checkpoint reader gives them. */
static const pl_known KNOWN[] = {
    {"0500", "processed", 1, NULL}, /* no longer in the source: ignored */
    {"1000", "processed", 7, NULL},
    {"1200", "failed", 8, NULL},
    {"1300", "pending", 9, NULL}, /* reset */
    {"1400", "skipped", -1, NULL},
    {"1500", "running", 10, NULL},
    {"1800", "weird", 11, NULL},
};
#define NKNOWN (sizeof KNOWN / sizeof KNOWN[0])

static void test_epoch_states(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-states");
    build_states_source(dir);
    store *s = open_store(dir);
    pipeline_def d = epoch_def(60000);
    pl_discover_opts o = {.now_ms = (T0_S + 130) * 1000};
    pl_discovery dsc;
    sl_err err = {0};
    assert_int_equal(discover_epochs(s, &d, KNOWN, NKNOWN, &o, &dsc, &err), SL_OK);

    /* Numeric order, oldest first: 999 before 1000; non-epoch names gone. */
    const char *order[] = {"999",  "1000", "1100", "1200", "1300", "1400",
                           "1500", "1600", "1700", "1800", "1900"};
    assert_int_equal(dsc.n, 11);
    for (size_t i = 0; i < dsc.n; i++)
        assert_string_equal(dsc.folders[i].folder, order[i]);
    assert_int_equal(dsc.folders[0].epoch, 999);

    const pl_folder *f = find(&dsc, "999");
    assert_string_equal(f->state, "pending");
    assert_true(f->late); /* older than 1000, which is processed */
    assert_int_equal(f->expected_rows, 5);
    assert_int_equal(f->batch_id, -1);
    assert_int_equal(f->ndata_files, 1);
    assert_string_equal(f->data_files[0], "999/a.jsonl");
    assert_int_equal(f->files, 1);
    assert_int_equal(f->bytes, 6);
    assert_int_equal(f->newest_mtime_ms, T0_S * 1000);
    assert_null(f->why);

    assert_true(f->marker_checked);
    f = find(&dsc, "1000");
    assert_string_equal(f->state, "processed");
    assert_false(f->marker_checked);
    assert_int_equal(f->batch_id, 7);
    assert_null(f->data_files); /* only pending folders list their files */
    assert_int_equal(f->files, 1);
    assert_int_equal(f->expected_rows, -1);

    f = find(&dsc, "1100");
    assert_string_equal(f->state, "waiting");
    assert_false(f->has_marker);
    assert_non_null(strstr(f->why, "no _SUCCESS marker"));
    assert_null(f->data_files);

    f = find(&dsc, "1200");
    assert_string_equal(f->state, "failed"); /* stays failed until retried */
    assert_int_equal(f->batch_id, 8);
    assert_int_equal(f->ndata_files, 1); /* a retry reads them */
    assert_string_equal(f->data_files[0], "1200/a.jsonl");

    f = find(&dsc, "1300");
    assert_string_equal(f->state, "pending"); /* reset: pending again */
    assert_false(f->late);
    assert_int_equal(f->batch_id, 9);
    assert_int_equal(f->expected_rows, -1); /* empty marker */
    assert_true(f->marker_checked);
    assert_int_equal(f->ndata_files, 1);

    f = find(&dsc, "1400");
    assert_string_equal(f->state, "skipped");
    assert_null(f->data_files);
    f = find(&dsc, "1500");
    assert_string_equal(f->state, "running");
    assert_int_equal(f->ndata_files, 1); /* a resumed run reads them */
    assert_false(f->marker_checked);

    f = find(&dsc, "1600");
    assert_string_equal(f->state, "pending");
    assert_true(f->has_marker);
    assert_int_equal(f->expected_rows, 3);
    const char *files[] = {"1600/a.jsonl", "1600/b.jsonl", "1600/sub/c.jsonl"};
    assert_int_equal(f->ndata_files, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(f->data_files[i], files[i]);
    assert_int_equal(f->files, 3);
    assert_int_equal(f->bytes, 3 + 6 + 9);

    f = find(&dsc, "1700");
    assert_string_equal(f->state, "waiting"); /* 30 s old, settle is 60 s */
    assert_non_null(strstr(f->why, "settling"));
    assert_int_equal(f->newest_mtime_ms, (T0_S + 100) * 1000);
    assert_null(f->data_files);

    f = find(&dsc, "1800");
    assert_string_equal(f->state, "failed");
    assert_non_null(strstr(f->why, "weird"));

    f = find(&dsc, "1900");
    assert_string_equal(f->state, "pending");
    assert_int_equal(f->expected_rows, -1); /* negative rows are no count */

    assert_int_equal(dsc.npending, 4); /* 999, 1300, 1600, 1900 */
    assert_int_equal(dsc.nwaiting, 2);
    assert_int_equal(dsc.nlate, 1);
    assert_int_equal(dsc.newest_processed_epoch, 1000);
    assert_int_equal(dsc.npages, 1);
    assert_int_equal(dsc.nlisted, 29);
    pl_discovery_free(&dsc);

    /* Once settled (now later), 1700 is pending; its marker is not JSON. */
    o.now_ms = (T0_S + 200) * 1000;
    assert_int_equal(discover_epochs(s, &d, KNOWN, NKNOWN, &o, &dsc, &err), SL_OK);
    f = find(&dsc, "1700");
    assert_string_equal(f->state, "pending");
    assert_int_equal(f->expected_rows, -1);
    assert_int_equal(dsc.npending, 5);
    assert_int_equal(dsc.nwaiting, 1);
    pl_discovery_free(&dsc);

    /* No marker required: 1100 is pending too. Nothing known: all pending,
     * none late. */
    d.source.ready_marker = NULL;
    assert_int_equal(discover_epochs(s, &d, NULL, 0, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.npending, 11);
    assert_int_equal(dsc.nlate, 0);
    assert_int_equal(dsc.newest_processed_epoch, -1);
    /* Without a marker name, _SUCCESS is just a hidden name: not data. */
    assert_int_equal(find(&dsc, "1600")->ndata_files, 3);
    pl_discovery_free(&dsc);

    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* Markers are read for the first max_marker_reads pending folders only. */
static void test_marker_reads_limited(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-markers");
    put(dir, "10/a", "x");
    put(dir, "10/_SUCCESS", "{\"rows\": 1}");
    put(dir, "20/a", "x");
    put(dir, "20/_SUCCESS", "{\"rows\": 2}");
    store *s = open_store(dir);
    pipeline_def d = epoch_def(0);
    pl_discover_opts o = {.now_ms = T0_S * 1000, .max_marker_reads = 1};
    pl_discovery dsc;
    sl_err err = {0};
    assert_int_equal(discover_epochs(s, &d, NULL, 0, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.folders[0].expected_rows, 1);
    assert_true(dsc.folders[0].marker_checked);
    assert_int_equal(dsc.folders[1].expected_rows, -1);
    assert_false(dsc.folders[1].marker_checked); /* not read: ask separately */
    int64_t rows;
    assert_int_equal(discover_marker_rows(s, &d, "20", &rows, &err), SL_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(discover_marker_rows(s, &d, "30", &rows, &err), SL_STORE_NOT_FOUND);
    assert_int_equal(rows, -1);
    pl_discovery_free(&dsc);
    o.max_marker_reads = SIZE_MAX;
    assert_int_equal(discover_epochs(s, &d, NULL, 0, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.folders[0].expected_rows, -1);
    pl_discovery_free(&dsc);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* More than a page of objects; a folder whose keys straddle pages. */
static void test_pagination(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-pages");
    char rel[64];
    for (int i = 0; i < 700; i++) {
        snprintf(rel, sizeof rel, "%d/part-0.jsonl", 5000 + i);
        tu_write_file(dir, rel, "{}\n");
        snprintf(rel, sizeof rel, "%d/part-1.jsonl", 5000 + i);
        tu_write_file(dir, rel, "{}\n");
        snprintf(rel, sizeof rel, "%d/_SUCCESS", 5000 + i);
        tu_write_file(dir, rel, "");
    }
    store *s = open_store(dir);
    pipeline_def d = epoch_def(0);
    pl_known known[350];
    char names[350][16];
    for (int i = 0; i < 350; i++) { /* every other folder processed */
        snprintf(names[i], sizeof names[i], "%d", 5000 + 2 * i);
        known[i] = (pl_known){names[i], "processed", i, NULL};
    }
    /* S3's 1,000 keys a page. */
    pl_discover_opts o = {
        .now_ms = INT64_MAX / 2, .page_keys = 1000, .max_marker_reads = SIZE_MAX};
    pl_discovery dsc;
    sl_err err = {0};
    assert_int_equal(discover_epochs(s, &d, known, 350, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.nlisted, 2100);
    assert_int_equal(dsc.npages, 3);
    assert_int_equal(dsc.n, 700);
    assert_int_equal(dsc.npending, 350);
    assert_int_equal(dsc.nlate, 349); /* all but the newest, 5699 */
    for (size_t i = 0; i < dsc.n; i++) {
        assert_int_equal(dsc.folders[i].epoch, 5000 + (int64_t)i);
        assert_int_equal(dsc.folders[i].files, 2);
        assert_true(dsc.folders[i].has_marker);
        if (i % 2)
            assert_int_equal(dsc.folders[i].ndata_files, 2);
    }
    pl_discovery_free(&dsc);

    /* Tiny pages: every folder's keys straddle a page boundary somewhere. */
    o.page_keys = 7;
    assert_int_equal(discover_epochs(s, &d, known, 350, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.npages, 300);
    assert_int_equal(dsc.n, 700);
    for (size_t i = 0; i < dsc.n; i++) {
        assert_int_equal(dsc.folders[i].files, 2);
        assert_true(dsc.folders[i].has_marker);
    }
    assert_int_equal(dsc.npending, 350);
    pl_discovery_free(&dsc);

    /* A listing that fails part way is an error, not a short answer. */
    store_fault_opts fo = {.seed = 1, .keep_inner = 1};
    fo.fail_rate[SF_OP_LIST] = 0.5;
    store *fs = NULL;
    assert_int_equal(store_fault_wrap(s, &fo, &fs, &err), SL_OK);
    o.page_keys = 100;
    sl_code c = discover_epochs(fs, &d, known, 350, &o, &dsc, &err);
    assert_true(c == SL_STORE_TIMEOUT || c == SL_STORE_UNAVAILABLE);
    assert_int_equal(dsc.n, 0);
    assert_null(dsc.folders);
    store_close(fs);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* ---- epoch layout: processed folders known by name ------------------------ */

/* The pending folders' results of done_by_name equal those of the full
 * pass: states, byte totals, files, markers, times. */
static void assert_same_takers(const pl_discovery *full, const pl_discovery *named)
{
    assert_int_equal(named->n, full->n);
    assert_int_equal(named->npending, full->npending);
    assert_int_equal(named->nwaiting, full->nwaiting);
    assert_int_equal(named->nlate, full->nlate);
    assert_int_equal(named->newest_processed_epoch, full->newest_processed_epoch);
    for (size_t i = 0; i < full->n; i++) {
        const pl_folder *a = &full->folders[i], *b = &named->folders[i];
        assert_string_equal(b->folder, a->folder);
        assert_string_equal(b->state, a->state);
        assert_int_equal(b->epoch, a->epoch);
        assert_int_equal(b->batch_id, a->batch_id);
        assert_int_equal(b->late, a->late);
        assert_int_equal(b->expected_rows, a->expected_rows);
        assert_int_equal(b->marker_checked, a->marker_checked);
        assert_true((a->why == NULL) == (b->why == NULL));
        if (a->why)
            assert_string_equal(b->why, a->why);
        int done = strcmp(a->state, "processed") == 0 || strcmp(a->state, "skipped") == 0;
        if (done) { /* known by name: no counts */
            assert_int_equal(b->files, 0);
            assert_int_equal(b->bytes, 0);
            assert_null(b->data_files);
            continue;
        }
        assert_int_equal(b->files, a->files);
        assert_int_equal(b->bytes, a->bytes);
        assert_int_equal(b->newest_mtime_ms, a->newest_mtime_ms);
        assert_int_equal(b->has_marker, a->has_marker);
        assert_int_equal(b->ndata_files, a->ndata_files);
        for (size_t k = 0; k < a->ndata_files; k++)
            assert_string_equal(b->data_files[k], a->data_files[k]);
    }
}

static void test_done_by_name(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-by-name");
    build_states_source(dir);
    char *empty = sl_asprintf("%s/2000", dir); /* a folder holding no object */
    assert_int_equal(mkdir(empty, 0755), 0);
    store *s = open_store(dir);
    pipeline_def d = epoch_def(60000);
    pl_discover_opts o = {.now_ms = (T0_S + 130) * 1000};
    pl_discovery full, named;
    sl_err err = {0};
    assert_int_equal(discover_epochs(s, &d, KNOWN, NKNOWN, &o, &full, &err), SL_OK);
    o.done_by_name = 1;
    assert_int_equal(discover_epochs(s, &d, KNOWN, NKNOWN, &o, &named, &err), SL_OK);
    assert_same_takers(&full, &named);
    /* The pending folders' byte totals, spelled out. */
    assert_int_equal(find(&named, "999")->bytes, 6);
    assert_int_equal(find(&named, "1300")->bytes, 3);
    assert_int_equal(find(&named, "1600")->bytes, 3 + 6 + 9);
    assert_int_equal(find(&named, "1600")->files, 3);
    assert_int_equal(find(&named, "1900")->bytes, 3);
    assert_int_equal(find(&named, "1700")->newest_mtime_ms, (T0_S + 100) * 1000);
    /* One page of the 15 top-level names, then one listing for each of the
     * nine folders a run may take (999 1100 1200 1300 1500 1600 1700 1800
     * 1900, and 2000 found empty): the processed 1000 and the skipped 1400
     * are never opened: 15 names and those folders' 22 objects. */
    assert_int_equal(named.npages, 1 + 10);
    assert_int_equal(named.nlisted, 15 + 22);
    pl_discovery_free(&named);
    pl_discovery_free(&full);

    /* Nothing known: every folder is listed by its prefix, still the same. */
    d.source.ready_marker = NULL;
    o.done_by_name = 0;
    assert_int_equal(discover_epochs(s, &d, NULL, 0, &o, &full, &err), SL_OK);
    o.done_by_name = 1;
    assert_int_equal(discover_epochs(s, &d, NULL, 0, &o, &named, &err), SL_OK);
    assert_same_takers(&full, &named);
    assert_int_equal(named.npending, 10); /* 1700 is settling */
    pl_discovery_free(&named);
    pl_discovery_free(&full);

    /* A processed folder holding no object is known by its name alone. */
    const pl_known k2000[] = {{"2000", "processed", 3, NULL}};
    assert_int_equal(discover_epochs(s, &d, k2000, 1, &o, &named, &err), SL_OK);
    assert_int_equal(named.n, 12);
    assert_string_equal(find(&named, "2000")->state, "processed");
    assert_int_equal(named.newest_processed_epoch, 2000);
    pl_discovery_free(&named);
    store_close(s);
    tu_rmtree(dir);
    free(empty);
    free(dir);
}

/* Pages of any size, folders straddling them, the fault-injecting store. */
static void test_done_by_name_pages(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-by-name-pages");
    char rel[64];
    for (int i = 0; i < 300; i++) {
        snprintf(rel, sizeof rel, "%d/part-0.jsonl", 7000 + i);
        tu_write_file(dir, rel, "{}\n");
        snprintf(rel, sizeof rel, "%d/part-1.jsonl", 7000 + i);
        tu_write_file(dir, rel, i % 3 ? "{}\n{}\n" : "");
        snprintf(rel, sizeof rel, "%d/_SUCCESS", 7000 + i);
        tu_write_file(dir, rel, "{\"rows\": 3}");
    }
    store *s = open_store(dir);
    pipeline_def d = epoch_def(0);
    pl_known known[100];
    char names[100][16];
    for (int i = 0; i < 100; i++) { /* every third folder processed */
        snprintf(names[i], sizeof names[i], "%d", 7000 + 3 * i);
        known[i] = (pl_known){names[i], "processed", i, NULL};
    }
    const size_t sizes[] = {1, 2, 7, 1000};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        pl_discover_opts o = {.now_ms = INT64_MAX / 2, .page_keys = sizes[z]};
        pl_discovery full, named;
        sl_err err = {0};
        assert_int_equal(discover_epochs(s, &d, known, 100, &o, &full, &err), SL_OK);
        o.done_by_name = 1;
        assert_int_equal(discover_epochs(s, &d, known, 100, &o, &named, &err), SL_OK);
        assert_same_takers(&full, &named);
        assert_int_equal(named.npending, 200);
        for (size_t i = 0; i < named.n; i++)
            if (strcmp(named.folders[i].state, "pending") == 0) {
                assert_int_equal(named.folders[i].bytes, 3 + 6);
                assert_int_equal(named.folders[i].expected_rows, 3);
            }
        /* Names in pages of page_keys, then 200 folders of 3 keys. */
        size_t per_folder = (3 + sizes[z] - 1) / sizes[z];
        assert_int_equal(named.npages,
                         (300 + sizes[z] - 1) / sizes[z] + 200 * per_folder);
        pl_discovery_free(&named);
        pl_discovery_free(&full);
    }

    /* A listing that fails part way is an error, not a short answer. */
    store_fault_opts fo = {.seed = 3, .keep_inner = 1};
    fo.fail_rate[SF_OP_LIST] = 0.2;
    store *fs = NULL;
    sl_err err = {0};
    assert_int_equal(store_fault_wrap(s, &fo, &fs, &err), SL_OK);
    pl_discover_opts o = {.now_ms = INT64_MAX / 2, .page_keys = 100, .done_by_name = 1};
    pl_discovery dsc;
    sl_code c = discover_epochs(fs, &d, known, 100, &o, &dsc, &err);
    assert_true(c == SL_STORE_TIMEOUT || c == SL_STORE_UNAVAILABLE);
    assert_int_equal(dsc.n, 0);
    assert_null(dsc.folders);
    store_close(fs);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* ---- files layout ------------------------------------------------------------ */

static void test_files_layout(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-files");
    put(dir, "id-1.txt", "one\n");
    put(dir, "id-2.txt", "two, rewritten\n");
    put(dir, "id-3.txt", "three\n");
    put(dir, "sub/id-4.txt", "four\n");
    put(dir, "id-5.txt", "five\n");
    put(dir, "notes.md", "ignore me");
    put(dir, "id-x.txt", "not digits");
    put(dir, "xid-6.txt", "anchored at the start");
    put(dir, "id-7.txt.bak", "anchored at the end");
    store *s = open_store(dir);
    sl_err err = {0};
    store_obj o1, o5;
    assert_int_equal(store_stat(s, "id-1.txt", &o1, &err), SL_OK);
    assert_int_equal(store_stat(s, "id-5.txt", &o5, &err), SL_OK);

    pipeline_def d = {0};
    d.name = "customers";
    d.source.layout = PL_LAYOUT_FILES;
    d.source.key_from_name = "id-(\\d+)\\.txt";
    const pl_known_file known[] = {
        {"1", "id-1.txt", o1.etag, o1.size, o1.mtime_ms},  /* unchanged */
        {"2", "id-2.txt", "old-etag", 4, T0_S * 1000},     /* rewritten */
        {"5", "id-5.txt", NULL, o5.size, o5.mtime_ms - 1}, /* touched, same size */
        {"9", "id-9.txt", "e9", 9, 99},                    /* gone */
    };
    pl_file_discovery fd;
    assert_int_equal(discover_files(s, &d, known, 4, &fd, &err), SL_OK);
    const char *want_file[] = {"id-1.txt", "id-2.txt", "id-3.txt",
                               "id-5.txt", "id-9.txt", "sub/id-4.txt"};
    const char *want_key[] = {"1", "2", "3", "5", "9", "4"};
    const char *want_state[] = {"unchanged", "changed", "new",
                                "changed",   "deleted", "new"};
    assert_int_equal(fd.n, 6);
    for (size_t i = 0; i < fd.n; i++) {
        assert_string_equal(fd.files[i].file, want_file[i]);
        assert_string_equal(fd.files[i].key, want_key[i]);
        assert_string_equal(fd.files[i].state, want_state[i]);
    }
    assert_string_equal(fd.files[0].etag, o1.etag);
    assert_int_equal(fd.files[1].size, 15);      /* the listed size, not the known one */
    assert_string_equal(fd.files[4].etag, "e9"); /* deleted: what was known */
    assert_int_equal(fd.files[4].size, 9);
    assert_int_equal(fd.nnew, 2);
    assert_int_equal(fd.nchanged, 2);
    assert_int_equal(fd.nunchanged, 1);
    assert_int_equal(fd.ndeleted, 1);
    assert_int_equal(fd.nignored, 4);
    assert_int_equal(fd.nlisted, 9);
    pl_file_discovery_free(&fd);

    /* A pattern without a group: the whole name is the key. */
    d.source.key_from_name = "[[:alpha:]]+-[\\d]+\\.txt";
    assert_int_equal(discover_files(s, &d, NULL, 0, &fd, &err), SL_OK);
    assert_int_equal(fd.n, 6); /* xid-6.txt matches this one */
    assert_string_equal(fd.files[0].key, "id-1.txt");
    assert_string_equal(fd.files[5].key, "xid-6.txt");
    assert_int_equal(fd.nnew, 6);
    pl_file_discovery_free(&fd);

    d.source.key_from_name = "id-(\\d+";
    assert_int_equal(discover_files(s, &d, NULL, 0, &fd, &err), SL_PIPELINE_INVALID);
    assert_non_null(strstr(err.msg, "key_from_name"));
    d.source.key_from_name = NULL;
    assert_int_equal(discover_files(s, &d, NULL, 0, &fd, &err), SL_PIPELINE_INVALID);
    store_obj_clear(&o1);
    store_obj_clear(&o5);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

static void test_files_paged(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-files-many");
    char rel[64];
    for (int i = 0; i < 1500; i++) {
        snprintf(rel, sizeof rel, "id-%d.txt", i);
        tu_write_file(dir, rel, "x\n");
    }
    store *s = open_store(dir);
    pipeline_def d = {0};
    d.source.layout = PL_LAYOUT_FILES;
    d.source.key_from_name = "id-(\\d+)\\.txt";
    pl_file_discovery fd;
    sl_err err = {0};
    assert_int_equal(discover_files(s, &d, NULL, 0, &fd, &err), SL_OK);
    assert_int_equal(fd.n, 1500);
    assert_int_equal(fd.npages, 2); /* 1,500 keys at DISCOVER_PAGE_KEYS (1,000) a page */
    assert_int_equal(fd.nnew, 1500);
    for (size_t i = 1; i < fd.n; i++)
        assert_true(strcmp(fd.files[i - 1].file, fd.files[i].file) < 0);
    pl_file_discovery_free(&fd);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* The default page is S3's 1,000 keys: 1,200 keys take two requests. */
static void test_default_page(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("discovery-default-page");
    char rel[64];
    for (int i = 0; i < 1200; i++) {
        snprintf(rel, sizeof rel, "%d/a", 100 + i);
        tu_write_file(dir, rel, "x");
    }
    store *s = open_store(dir);
    pipeline_def d = epoch_def(0);
    d.source.ready_marker = NULL;
    pl_discovery dsc;
    sl_err err = {0};
    assert_int_equal(discover_epochs(s, &d, NULL, 0, NULL, &dsc, &err), SL_OK);
    assert_int_equal(dsc.npages, 2);
    assert_int_equal(dsc.n, 1200);
    assert_int_equal(dsc.npending, 1200);
    pl_discovery_free(&dsc);
    store_close(s);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_states), cmocka_unit_test(test_marker_reads_limited),
        cmocka_unit_test(test_pagination),   cmocka_unit_test(test_files_layout),
        cmocka_unit_test(test_files_paged),  cmocka_unit_test(test_default_page),
        cmocka_unit_test(test_done_by_name), cmocka_unit_test(test_done_by_name_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
