/* The fast snapshot path: the path sort, the stats prefix scan, the string
 * arena, and adds kept as checkpoint columns (their text on demand must
 * equal the row reader's). */

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

/* ---- sort --------------------------------------------------------------- */

static int cmp_ref(const void *a, const void *b)
{
    const delta_file *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c)
        return c;
    if (!x->dv_id || !y->dv_id)
        return (x->dv_id != NULL) - (y->dv_id != NULL);
    return strcmp(x->dv_id, y->dv_id);
}

/* Applies adds for paths[i] (with dvs[i] when non-NULL) in the given order
 * and checks the snapshot's files come out in (path, DV id) order. */
static void check_sorted(char **paths, char **dvs, size_t n)
{
    delta_replay *r = delta_replay_new();
    sl_err err = {0};
    for (size_t i = 0; i < n; i++) {
        sl_buf b = {0};
        buf_appendf(&b,
                    "{\"add\":{\"path\":\"%s\",\"size\":%zu,\"modificationTime\":1,"
                    "\"dataChange\":true",
                    paths[i], i);
        if (dvs && dvs[i])
            buf_appendf(&b,
                        ",\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":"
                        "\"%s\",\"sizeInBytes\":1,\"cardinality\":1}",
                        dvs[i]);
        buf_append_str(&b, "}}");
        assert_int_equal(delta_replay_line(r, b.data, b.len, "t", i + 1, &err), SL_OK);
        buf_free(&b);
    }
    delta_snapshot *snap = sl_calloc(1, sizeof *snap);
    delta_replay_finish(r, snap);
    delta_replay_free(r);
    assert_int_equal(snap->nfiles, n);
    delta_file *want = sl_calloc(n ? n : 1, sizeof *want);
    memcpy(want, snap->files, n * sizeof *want);
    qsort(want, n, sizeof *want, cmp_ref);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(want[i].path, snap->files[i].path) != 0 ||
            cmp_ref(&want[i], &snap->files[i]) != 0)
            fail_msg("file %zu: want %s, got %s", i, want[i].path, snap->files[i].path);
        /* the struct moved whole: size still names the input line */
        assert_string_equal(paths[snap->files[i].size], snap->files[i].path);
    }
    free(want);
    delta_snapshot_free(snap);
}

static void test_sort_tricky_paths(void **state)
{
    (void)state;
    /* Prefixes of each other, shared 8-byte chunks that end inside a chunk,
     * bytes above 0x7f, long common prefixes. */
    const char *fixed[] = {"a",
                           "ab",
                           "a/b",
                           "abcdefgh",
                           "abcdefg",
                           "abcdefghi",
                           "abcdefgh0",
                           "abcdefgh/",
                           "b",
                           "%C3%A9t%C3%A9",
                           "\xc3\xa9t\xc3\xa9",
                           "part-00000-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.parquet",
                           "part-00000-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab.parquet",
                           "part-00000-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.parquet0"};
    size_t nf = sizeof fixed / sizeof *fixed;
    size_t n = nf + 600; /* enough for the radix path (>= 64 a run) */
    char **paths = sl_calloc(n, sizeof *paths);
    for (size_t i = 0; i < nf; i++)
        paths[i] = sl_strdup(fixed[i]);
    unsigned seed = 7;
    for (size_t i = nf; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned v = (seed >> 8) % 5000;
        /* date=2026-MM-DD/part-NNNNN-...: long shared prefixes, runs of ties */
        paths[i] = sl_asprintf("date=2026-01-%02u/part-%05u-%s.c000.snappy.parquet",
                               v % 28 + 1, v, (v & 1) ? "x" : "xyzxyzxyzxyz");
    }
    /* Duplicate paths would replace each other; keep them unique. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++)
            dup = strcmp(paths[j], paths[i]) == 0;
        if (dup)
            free(paths[i]);
        else
            paths[m++] = paths[i];
    }
    check_sorted(paths, NULL, m);

    /* Already sorted input takes the one-pass check. */
    char **sorted = sl_calloc(m, sizeof *sorted);
    memcpy(sorted, paths, m * sizeof *sorted);
    for (size_t i = 1; i < m; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) > 0; j--) {
            char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    check_sorted(sorted, NULL, m);
    free(sorted);
    for (size_t i = 0; i < m; i++)
        free(paths[i]);
    free(paths);
}

static void test_sort_same_path_dvs(void **state)
{
    (void)state;
    /* One path with several DVs and none, among 100 others: ties on the
     * whole path are ordered by DV id, no DV first. */
    size_t n = 105;
    char **paths = sl_calloc(n, sizeof *paths);
    char **dvs = sl_calloc(n, sizeof *dvs);
    for (size_t i = 0; i < 100; i++)
        paths[i] = sl_asprintf("f-%03zu.parquet", (i * 37) % 100);
    const char *ids[] = {NULL, "zz", "ab", "a", "b"};
    for (size_t i = 100; i < n; i++) {
        paths[i] = sl_strdup("f-050.parquet");
        dvs[i] = ids[i - 100] ? sl_strdup(ids[i - 100]) : NULL;
    }
    /* f-050.parquet without DV appears twice: once among the 100, once
     * here; the later add replaces the earlier, so drop the first. */
    for (size_t i = 0; i < 100; i++)
        if (strcmp(paths[i], "f-050.parquet") == 0) {
            free(paths[i]);
            paths[i] = sl_strdup("g.parquet");
        }
    check_sorted(paths, dvs, n);
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
        free(dvs[i]);
    }
    free(paths);
    free(dvs);
}

/* ---- stats prefix scan --------------------------------------------------- */

static void test_stats_prefix(void **state)
{
    (void)state;
    int64_t v = -1;
    const char *s1 = "{\"numRecords\":42,\"minValues\":{}}";
    assert_int_equal(delta_stats_num_records_n(s1, strlen(s1), &v), 0);
    assert_int_equal(v, 42);
    /* Not NUL-terminated: the length decides. */
    char raw[] = {'{', '"', 'n', 'u', 'm', 'R', 'e', 'c', 'o',
                  'r', 'd', 's', '"', ':', '7', '}', '9', '9'};
    assert_int_equal(delta_stats_num_records_n(raw, 16, &v), 0);
    assert_int_equal(v, 7);
    /* The number straddles the 255-byte prefix: the full text decides. */
    for (size_t pad = 225; pad < 250; pad++) {
        sl_buf b = {0};
        buf_append_str(&b, "{\"a\":\"");
        for (size_t i = 0; i < pad; i++)
            buf_append_char(&b, 'x');
        buf_append_str(&b, "\",\"numRecords\":123456789,\"b\":1}");
        v = -1;
        assert_int_equal(delta_stats_num_records_n(b.data, b.len, &v), 0);
        assert_int_equal(v, 123456789);
        /* a float after the prefix is refused, as in the full scan */
        char *f = sl_strdup(b.data);
        char *p = strstr(f, "123456789");
        p[9] = '.';
        int64_t w = -1;
        assert_int_equal(delta_stats_num_records_n(f, strlen(f), &w),
                         delta_stats_num_records(f, &w));
        assert_int_equal(delta_stats_num_records_n(f, strlen(f), &w), -1);
        free(f);
        buf_free(&b);
    }
    /* Long stats with numRecords last (kilobytes in): the fallback. */
    sl_buf b = {0};
    buf_append_str(&b, "{\"minValues\":{");
    for (int i = 0; i < 200; i++)
        buf_appendf(&b, "%s\"c%d\":\"value %d\"", i ? "," : "", i, i);
    buf_append_str(&b, "},\"numRecords\":5}");
    assert_int_equal(delta_stats_num_records_n(b.data, b.len, &v), 0);
    assert_int_equal(v, 5);
    buf_free(&b);
    /* The in-place form agrees with the full scan on its edges. */
    const char *cases[] = {"{\"numRecords\":12",
                           "{\"numRecords\":12}",
                           "{\"numRecords\":12.5}",
                           "{\"numRecords\":1e3}",
                           "{\"numRecords\":-1}",
                           "{\"numRecords\":}",
                           "{\"numRecords\":12x",
                           "{\"numRecords\":007,\"a\":1}",
                           "{\"numRecords\":1234567890123456789}",
                           "{\"numRecords\":99999999999999999999}",
                           "{\"numRecords\": 5}",
                           "{\"numRecords\":123456789012345678,\"b\":2}"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t x = -7, y = -7;
        int rx = delta_stats_num_records_n(cases[i], strlen(cases[i]), &x);
        int ry = delta_stats_num_records(cases[i], &y);
        if (rx != ry || (rx == 0 && x != y))
            fail_msg("%s: in place %d/%lld, full %d/%lld", cases[i], rx, (long long)x, ry,
                     (long long)y);
    }
    const char *none = "{\"minValues\":{\"a\":1}}";
    assert_int_equal(delta_stats_num_records_n(none, strlen(none), &v), -1);
    assert_int_equal(delta_stats_num_records_n("", 0, &v), -1);
}

/* ---- arena --------------------------------------------------------------- */

static int dropped;

static void drop_count(void *p)
{
    dropped++;
    free(p);
}

static void test_arena(void **state)
{
    (void)state;
    delta_arena a = {0};
    char *small[2000];
    for (int i = 0; i < 2000; i++) {
        char tmp[32];
        int n = snprintf(tmp, sizeof tmp, "s%d", i);
        small[i] = delta_arena_strndup(&a, tmp, (size_t)n);
        assert_int_equal(((uintptr_t)small[i]) % 8, 0);
    }
    /* A string larger than a quarter chunk gets its own chunk and leaves the
     * current one in use. */
    size_t big_n = 3u << 20;
    char *src = malloc(big_n);
    memset(src, 'q', big_n);
    char *big = delta_arena_strndup(&a, src, big_n);
    char *after = delta_arena_strndup(&a, "after", 5);
    assert_int_equal(strlen(big), big_n);
    assert_memory_equal(big, src, big_n);
    assert_string_equal(after, "after");
    for (int i = 0; i < 2000; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "s%d", i);
        assert_string_equal(small[i], tmp);
    }
    free(src);
    dropped = 0;
    delta_arena_own(&a, malloc(4), drop_count);
    delta_arena_own(&a, malloc(4), drop_count);
    delta_arena_free(&a);
    assert_int_equal(dropped, 2);
    assert_null(a.head);
}

/* ---- adds kept as columns ------------------------------------------------ */

/* Every fixture table with a checkpoint: the snapshot's adds (kept as
 * columns, text on demand) equal those of the row reader, text and fields. */
static void test_lazy_adds_match_rows(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    char *cmd = sl_asprintf("find '%s/delta' -name '*.checkpoint*.parquet' | "
                            "sed 's|/_delta_log/.*||' | sort -u",
                            fx);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    free(cmd);
    size_t tables = 0, lazy_seen = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        store *s = NULL;
        sl_err err = {0};
        char *url = sl_asprintf("file://%s", line);
        assert_int_equal(store_open(url, &s, &err), SL_OK);
        free(url);
        delta_at at = {.kind = DELTA_AT_LATEST};
        delta_snapshot *a = NULL, *b = NULL;
        sl_code ca = delta_snapshot_open(s, "", &at, &a, &err);
        delta_checkpoint_force_rows = 1;
        sl_code cb = delta_snapshot_open(s, "", &at, &b, &err);
        delta_checkpoint_force_rows = 0;
        assert_int_equal(ca, cb);
        if (ca == SL_OK) {
            tables++;
            assert_int_equal(a->nfiles, b->nfiles);
            for (size_t i = 0; i < a->nfiles; i++) {
                const delta_file *x = &a->files[i], *y = &b->files[i];
                assert_string_equal(x->path, y->path);
                assert_int_equal(x->num_records, y->num_records);
                assert_int_equal(x->size, y->size);
                assert_null(y->add_batch); /* the row reader writes text */
                lazy_seen += x->add_batch != NULL;
                json_t *jx = delta_file_add(x), *jy = delta_file_add(y);
                assert_non_null(jx);
                if (!json_equal(jx, jy)) {
                    char *tx = delta_file_add_text(x), *ty = delta_file_add_text(y);
                    fail_msg("%s: %s:\n columns %s\n rows    %s", line, x->path, tx, ty);
                }
                char *tx = delta_file_add_text(x);
                json_t *back = json_loads(tx, 0, NULL);
                assert_true(json_equal(back, jx));
                json_decref(back);
                free(tx);
                json_decref(jx);
                json_decref(jy);
            }
            delta_snapshot_free(a);
            delta_snapshot_free(b);
        }
        store_close(s);
    }
    free(out);
    assert_true(tables >= 4);
    assert_true(lazy_seen > 0);
}

/* ---- checkpoint adds looked up late ---------------------------------------- */

/* One add or remove as the checkpoint reader hands it to replay. */
static void cp_file(delta_replay *r, int is_add, const char *path, int64_t size)
{
    char *body = sl_asprintf("{\"path\":\"%s\",\"size\":%lld}", path, (long long)size);
    delta_cp_file cf = {.path = path,
                        .path_len = strlen(path),
                        .size = size,
                        .deletion_timestamp = is_add ? -1 : 5,
                        .num_records = 1};
    sl_err err = {0};
    assert_int_equal(delta_replay_file(r, is_add, &cf, body, strlen(body), "cp", 1, &err),
                     SL_OK);
    free(body);
}

static delta_snapshot *finish(delta_replay *r)
{
    delta_snapshot *snap = sl_calloc(1, sizeof *snap);
    delta_replay_finish(r, snap);
    delta_replay_free(r);
    return snap;
}

static int64_t size_of(const delta_snapshot *s, const char *path)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return s->files[i].size;
    return -1;
}

static void test_deferred_checkpoint_adds(void **state)
{
    (void)state;
    /* Repeated keys within a checkpoint: the newest add wins, at finish... */
    delta_replay *r = delta_replay_new();
    cp_file(r, 1, "k", 1);
    cp_file(r, 1, "k", 2);
    cp_file(r, 1, "z", 3);
    cp_file(r, 1, "z", 4);
    cp_file(r, 1, "a", 9);
    delta_snapshot *s = finish(r);
    assert_int_equal(s->nfiles, 3);
    assert_int_equal(size_of(s, "k"), 2);
    assert_int_equal(size_of(s, "z"), 4);
    assert_int_equal(s->size_bytes, 2 + 4 + 9);
    assert_int_equal(s->num_rows, 3);
    delta_snapshot_free(s);

    /* ...and when a remove makes the map be built first. */
    r = delta_replay_new();
    cp_file(r, 1, "k", 1);
    cp_file(r, 1, "k", 2);
    cp_file(r, 1, "z", 3);
    cp_file(r, 1, "z", 4);
    cp_file(r, 0, "gone", 0);
    cp_file(r, 1, "z", 5);
    s = finish(r);
    assert_int_equal(s->nfiles, 2);
    assert_int_equal(size_of(s, "k"), 2);
    assert_int_equal(size_of(s, "z"), 5);
    assert_int_equal(s->ntombstones, 1);
    delta_snapshot_free(s);

    /* add, remove, add again; a remove of a deferred add; a JSON remove. */
    r = delta_replay_new();
    cp_file(r, 1, "a", 1);
    cp_file(r, 0, "a", 0);
    cp_file(r, 1, "a", 7);
    cp_file(r, 1, "b", 1);
    cp_file(r, 1, "c", 1);
    cp_file(r, 0, "b", 0);
    const char *rm = "{\"remove\":{\"path\":\"c\",\"deletionTimestamp\":9}}";
    sl_err err = {0};
    assert_int_equal(delta_replay_line(r, rm, strlen(rm), "j", 1, &err), SL_OK);
    s = finish(r);
    assert_int_equal(s->nfiles, 1);
    assert_int_equal(size_of(s, "a"), 7);
    assert_int_equal(s->ntombstones, 2); /* b and c; a's went when it came back */
    assert_string_equal(s->tombstones[0].path, "b");
    assert_string_equal(s->tombstones[1].path, "c");
    json_t *add = delta_file_add(&s->files[0]);
    assert_int_equal(json_integer_value(json_object_get(add, "size")), 7);
    json_decref(add);
    delta_snapshot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_tricky_paths),
        cmocka_unit_test(test_sort_same_path_dvs),
        cmocka_unit_test(test_stats_prefix),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_lazy_adds_match_rows),
        cmocka_unit_test(test_deferred_checkpoint_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
