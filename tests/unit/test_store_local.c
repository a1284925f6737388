/* The local store backend: URLs, keys, object operations, atomicity, the
 * put-if-absent race and S3-style listings (pages of any size equal to one
 * whole listing and to a model of S3's). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/store/store.h"
#include "backend/util/buf.h"

typedef struct fx {
    char *dir;
    store *s;
} fx;

static int setup(void **state)
{
    fx *f = sl_calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("store");
    sl_err err = {0};
    assert_int_equal(store_open(f->dir, &f->s, &err), SL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void put_text(store *s, const char *key, const char *text)
{
    sl_err err = {0};
    sl_code c = store_put(s, key, text, strlen(text), &err);
    if (c != SL_OK)
        fail_msg("put %s: %s", key, err.msg);
}

static char *get_text(store *s, const char *key)
{
    sl_buf b = {0};
    sl_err err = {0};
    sl_code c = store_get(s, key, &b, &err);
    if (c != SL_OK)
        fail_msg("get %s: %s", key, err.msg);
    return buf_steal(&b);
}

/* Every listing page concatenated as "key|key/|..." (prefixes keep their '/'). */
static char *list_joined(store *s, const char *prefix, const char *delim, size_t max_keys,
                         int *pages)
{
    sl_buf b = {0};
    char *token = NULL;
    int n = 0;
    for (;;) {
        store_list_req req = {prefix, delim, token, max_keys};
        store_page p;
        sl_err err = {0};
        sl_code c = store_list(s, &req, &p, &err);
        if (c != SL_OK)
            fail_msg("list %s: %s", prefix ? prefix : "", err.msg);
        n++;
        if (max_keys)
            assert_true(p.n <= max_keys);
        for (size_t i = 0; i < p.n; i++) {
            if (b.len)
                buf_append_char(&b, '|');
            buf_append_str(&b, p.items[i].key);
            /* Past the prefix, a delimiter only ever ends a common prefix. */
            size_t pl = prefix ? strlen(prefix) : 0;
            int rolled = delim && strstr(p.items[i].key + pl, delim) != NULL;
            assert_int_equal(p.items[i].is_prefix, rolled);
        }
        free(token);
        token = p.next_token ? sl_strdup(p.next_token) : NULL;
        store_page_free(&p);
        if (!token)
            break;
        assert_true(n < 100000);
    }
    if (pages)
        *pages = n;
    return buf_steal(&b);
}

static int count_tmp_files(const char *dir)
{
    /* The root's lock file is permanent; anything else is a leftover. */
    char *cmd = sl_asprintf(
        "find '%s' -name '.sluice-tmp-*' ! -name '.sluice-tmp-lock' | wc -l", dir);
    char *out = NULL;
    assert_int_equal(tu_run(cmd, &out), 0);
    int n = atoi(out);
    free(out);
    free(cmd);
    return n;
}

/* ---- URLs -------------------------------------------------------------- */

static void test_url_plain_and_file(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    char *expect = sl_asprintf("file://%s", f->dir);
    assert_string_equal(store_url(f->s), expect);

    store *s2 = NULL;
    assert_int_equal(store_open(expect, &s2, &err), SL_OK);
    assert_string_equal(store_url(s2), expect);
    store_close(s2);

    /* A folder with a space, named with %20 in a file:// URL. */
    char *spaced = sl_asprintf("%s/with space", f->dir);
    assert_int_equal(mkdir(spaced, 0755), 0);
    char *url = sl_asprintf("file://%s/with%%20space", f->dir);
    assert_int_equal(store_open(url, &s2, &err), SL_OK);
    char *norm = sl_asprintf("file://%s/with%%20space", f->dir);
    assert_string_equal(store_url(s2), norm);
    put_text(s2, "x.txt", "spaced");
    store_close(s2);
    char *path = sl_asprintf("%s/x.txt", spaced);
    char *got = tu_read_file(path);
    assert_non_null(got);
    assert_string_equal(got, "spaced");
    free(got);
    free(path);

    /* The normalised URL opens the same root again (round trip). */
    assert_int_equal(store_open(norm, &s2, &err), SL_OK);
    got = get_text(s2, "x.txt");
    assert_string_equal(got, "spaced");
    free(got);
    store_close(s2);

    free(norm);
    free(url);
    free(spaced);
    free(expect);
}

static void test_url_relative(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    char *sub = sl_asprintf("%s/rel", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char old[4096];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(f->dir), 0);
    store *s2 = NULL;
    sl_code c = store_open("rel", &s2, &err);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(c, SL_OK);
    char *expect = sl_asprintf("file://%s", sub);
    assert_string_equal(store_url(s2), expect);
    store_close(s2);
    free(expect);
    free(sub);
}

static void test_url_errors(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    store *s2 = (store *)0x1;

    char *missing = sl_asprintf("%s/nope", f->dir);
    assert_int_equal(store_open(missing, &s2, &err), SL_STORE_NOT_FOUND);
    assert_null(s2);
    assert_non_null(strstr(err.msg, missing));

    char *missing_url = sl_asprintf("file://%s/nope", f->dir);
    assert_int_equal(store_open(missing_url, &s2, &err), SL_STORE_NOT_FOUND);

    /* A file is not a store root. */
    tu_write_file(f->dir, "plain.txt", "x");
    char *file = sl_asprintf("%s/plain.txt", f->dir);
    assert_int_equal(store_open(file, &s2, &err), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, file));

    assert_int_equal(store_open("s3://bucket/prefix", &s2, &err),
                     SL_STORE_UNSUPPORTED_SCHEME);
    assert_non_null(strstr(err.msg, "s3"));
    assert_non_null(strstr(err.msg, "later"));
    assert_int_equal(store_open("https://example.com/x", &s2, &err),
                     SL_STORE_UNSUPPORTED_SCHEME);
    assert_int_equal(store_open("", &s2, &err), SL_STORE_BAD_URL);
    assert_int_equal(store_open("file:///tmp/a%00b", &s2, &err), SL_STORE_BAD_URL);
    assert_int_equal(store_open("file:///tmp/a%zz", &s2, &err), SL_STORE_BAD_URL);
    assert_int_equal(store_open("file://otherhost/tmp", &s2, &err), SL_STORE_BAD_URL);
    assert_null(s2);

    free(file);
    free(missing_url);
    free(missing);
}

/* ---- keys -------------------------------------------------------------- */

static void test_key_check(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    const char *bad[] = {"../x", "a/../../x", "/etc/passwd", "a/./b", "a\\..\\b",
                         "..",   ".",         "a/..",        "a//b",  "a/",
                         "",     "a\tb",      "a\x1b[31m"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        if (store_key_check(bad[i], strlen(bad[i]), &err) != SL_STORE_BAD_KEY)
            fail_msg("key \"%s\" was accepted", bad[i]);
        assert_int_equal(err.code, SL_STORE_BAD_KEY);
    }
    /* An embedded NUL is seen when the length is given. */
    assert_int_equal(store_key_check("a\0/../../etc", 12, &err), SL_STORE_BAD_KEY);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_non_null(strstr(err.msg, "\\x00"));
    /* The message names the key, with unprintables escaped. */
    assert_int_equal(store_key_check("x/../y", 6, &err), SL_STORE_BAD_KEY);
    assert_non_null(strstr(err.msg, "x/../y"));
    assert_int_equal(store_key_check("a\x1b[31m", 6, &err), SL_STORE_BAD_KEY);
    assert_null(strchr(err.msg, '\x1b'));

    const char *good[] = {"a",
                          "a/b/c.json",
                          "..a",
                          "a..",
                          "a/...",
                          ".hidden",
                          "a b",
                          "caf\xc3\xa9/\xe2\x82\xac.txt",
                          "_delta_log/00000000000000000000.json"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (store_key_check(good[i], strlen(good[i]), &err) != SL_OK)
            fail_msg("key \"%s\" was refused: %s", good[i], err.msg);

    /* Every operation validates its key and touches nothing outside. */
    sl_buf b = {0};
    store_obj o;
    assert_int_equal(store_get(f->s, "../x", &b, &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_get_range(f->s, "/etc/passwd", 0, 10, &b, &err),
                     SL_STORE_BAD_KEY);
    assert_int_equal(store_stat(f->s, "a/../../x", &o, &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_put(f->s, "../escaped", "x", 1, &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_put_if_absent(f->s, "a/./b", "x", 1, &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_delete(f->s, "../x", &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_put(f->s, "a\\..\\b", "x", 1, &err), SL_STORE_BAD_KEY);
    assert_int_equal(store_put(f->s, "d/.sluice-tmp-abc", "x", 1, &err),
                     SL_STORE_BAD_KEY);
    store_list_req req = {"../", NULL, NULL, 0};
    store_page p;
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_STORE_BAD_KEY);
    assert_int_equal(p.n, 0);
    char *escaped = sl_asprintf("%s/../escaped", f->dir);
    assert_int_equal(access(escaped, F_OK), -1);
    free(escaped);
    buf_free(&b);
}

/* ---- objects ----------------------------------------------------------- */

static void test_put_get_stat_delete(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    put_text(f->s, "deep/er/obj.txt", "hello world");
    char *got = get_text(f->s, "deep/er/obj.txt");
    assert_string_equal(got, "hello world");
    free(got);

    /* Binary data with a NUL survives. */
    const char bin[] = {'a', '\0', 'b', '\xff'};
    assert_int_equal(store_put(f->s, "bin", bin, sizeof bin, &err), SL_OK);
    sl_buf b = {0};
    assert_int_equal(store_get(f->s, "bin", &b, &err), SL_OK);
    assert_int_equal(b.len, sizeof bin);
    assert_memory_equal(b.data, bin, sizeof bin);

    /* Ranges: inside, short at the end, past the end, zero length. */
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 6, 5, &b, &err), SL_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "world", 5);
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 8, 100, &b, &err), SL_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "rld", 3);
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 11, 4, &b, &err), SL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 1000, 4, &b, &err), SL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 0, 0, &b, &err), SL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(
        store_get_range(f->s, "deep/er/obj.txt", UINT64_MAX, UINT64_MAX, &b, &err),
        SL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(store_get_range(f->s, "deep/er/obj.txt", 10, UINT64_MAX, &b, &err),
                     SL_OK);
    assert_int_equal(b.len, 1);
    assert_memory_equal(b.data, "d", 1);

    store_obj o;
    assert_int_equal(store_stat(f->s, "deep/er/obj.txt", &o, &err), SL_OK);
    assert_string_equal(o.key, "deep/er/obj.txt");
    assert_int_equal(o.size, 11);
    assert_int_equal(o.is_prefix, 0);
    assert_true(o.mtime_ms > 1600000000000LL);
    assert_true(strlen(o.etag) > 0);
    char etag1[sizeof o.etag];
    memcpy(etag1, o.etag, sizeof etag1);
    store_obj_clear(&o);

    /* Rewriting changes the etag. */
    put_text(f->s, "deep/er/obj.txt", "hello again!");
    assert_int_equal(store_stat(f->s, "deep/er/obj.txt", &o, &err), SL_OK);
    assert_int_equal(o.size, 12);
    assert_string_not_equal(o.etag, etag1);
    store_obj_clear(&o);

    /* Missing things. */
    assert_int_equal(store_get(f->s, "deep/er/nope", &b, &err), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, "deep/er/nope"));
    assert_non_null(strstr(err.msg, f->dir));
    assert_int_equal(store_get(f->s, "nowhere/at/all", &b, &err), SL_STORE_NOT_FOUND);
    assert_int_equal(store_stat(f->s, "nope", &o, &err), SL_STORE_NOT_FOUND);
    assert_null(o.key);
    /* A folder is not an object. */
    assert_int_equal(store_get(f->s, "deep/er", &b, &err), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, "folder"));
    assert_int_equal(store_stat(f->s, "deep", &o, &err), SL_STORE_NOT_FOUND);
    /* An object cannot also be a folder locally. */
    assert_int_equal(store_put(f->s, "bin/child", "x", 1, &err), SL_STORE_PATH_CONFLICT);
    assert_int_equal(store_get(f->s, "bin/child", &b, &err), SL_STORE_NOT_FOUND);
    assert_int_equal(store_put(f->s, "deep", "x", 1, &err), SL_STORE_PATH_CONFLICT);
    assert_int_equal(store_put_if_absent(f->s, "deep", "x", 1, &err),
                     SL_STORE_PATH_CONFLICT);
    assert_int_equal(store_put_if_absent(f->s, "deep/er", "x", 1, &err),
                     SL_STORE_PATH_CONFLICT);

    /* Delete, twice (the second is still SL_OK), and the empty folders go,
     * but not while they hold something else. */
    put_text(f->s, "deep/keep", "k");
    assert_int_equal(store_delete(f->s, "deep/er/obj.txt", &err), SL_OK);
    char *er = sl_asprintf("%s/deep/er", f->dir);
    assert_int_equal(access(er, F_OK), -1);
    free(er);
    got = get_text(f->s, "deep/keep");
    assert_string_equal(got, "k");
    free(got);
    assert_int_equal(store_delete(f->s, "deep/keep", &err), SL_OK);
    put_text(f->s, "deep/er/obj.txt", "again");
    assert_int_equal(store_delete(f->s, "deep/er/obj.txt", &err), SL_OK);
    assert_int_equal(store_delete(f->s, "deep/er/obj.txt", &err), SL_OK);
    assert_int_equal(store_delete(f->s, "never/existed", &err), SL_OK);
    assert_int_equal(store_get(f->s, "deep/er/obj.txt", &b, &err), SL_STORE_NOT_FOUND);
    char *deep = sl_asprintf("%s/deep", f->dir);
    assert_int_equal(access(deep, F_OK), -1);
    free(deep);
    assert_int_equal(count_tmp_files(f->dir), 0);
    buf_free(&b);
}

static void test_put_atomic_replace(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    put_text(f->s, "t/obj", "first version, longer than the second");
    char *path = sl_asprintf("%s/t/obj", f->dir);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    put_text(f->s, "t/obj", "second");
    assert_int_equal(stat(path, &st2), 0);
    /* Replaced by rename (a new inode), not rewritten in place. */
    assert_int_not_equal(st1.st_ino, st2.st_ino);
    char *got = tu_read_file(path);
    assert_string_equal(got, "second");
    free(got);
    /* No temp file left behind, and the object mode follows the umask (not 0600). */
    assert_int_equal(count_tmp_files(f->dir), 0);
    mode_t um = umask(022);
    umask(um);
    assert_int_equal(st2.st_mode & 0777, 0666 & ~um);
    /* An empty object is an object. */
    assert_int_equal(store_put(f->s, "t/empty", NULL, 0, &err), SL_OK);
    store_obj o;
    assert_int_equal(store_stat(f->s, "t/empty", &o, &err), SL_OK);
    assert_int_equal(o.size, 0);
    store_obj_clear(&o);
    free(path);
}

static void test_put_if_absent(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    assert_int_equal(store_put_if_absent(f->s, "_delta_log/00.json", "one", 3, &err),
                     SL_OK);
    assert_int_equal(store_put_if_absent(f->s, "_delta_log/00.json", "two", 3, &err),
                     SL_STORE_EXISTS);
    assert_non_null(strstr(err.msg, "_delta_log/00.json"));
    char *got = get_text(f->s, "_delta_log/00.json");
    assert_string_equal(got, "one");
    free(got);
    assert_int_equal(count_tmp_files(f->dir), 0);
}

#define RACERS 8

static void test_put_if_absent_race(void **state)
{
    fx *f = *state;
    int go[2], results[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(results), 0);
    pid_t pids[RACERS];
    for (int i = 0; i < RACERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            close(results[0]);
            char c;
            /* Blocks until the parent closes the write end: all start at once. */
            if (read(go[0], &c, 1) != 0)
                _exit(90);
            char body[32];
            int n = snprintf(body, sizeof body, "writer-%d", i);
            sl_err e = {0};
            sl_code code =
                store_put_if_absent(f->s, "race/commit.json", body, (size_t)n, &e);
            unsigned char rec[2] = {(unsigned char)i, (unsigned char)code};
            if (write(results[1], rec, 2) != 2)
                _exit(91);
            _exit(0);
        }
    }
    close(go[0]);
    close(results[1]);
    close(go[1]);
    int ok = 0, exists = 0, winner = -1;
    unsigned char rec[2];
    for (int i = 0; i < RACERS; i++) {
        assert_int_equal(read(results[0], rec, 2), 2);
        if (rec[1] == SL_OK) {
            ok++;
            winner = rec[0];
        } else if (rec[1] == SL_STORE_EXISTS) {
            exists++;
        } else {
            fail_msg("racer %d got code %d", rec[0], rec[1]);
        }
    }
    close(results[0]);
    for (int i = 0; i < RACERS; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(exists, RACERS - 1);
    char want[32];
    snprintf(want, sizeof want, "writer-%d", winner);
    char *got = get_text(f->s, "race/commit.json");
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(count_tmp_files(f->dir), 0);
}

/* Deleting a folder's last object removes the folder; a writer creating an
 * object in that folder at the same moment must still succeed, every time
 * (writers hold the root's lock shared; pruning only runs when it is free). */
static void test_put_delete_churn(void **state)
{
    fx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 300; i++) {
            sl_err e = {0};
            if (store_put(f->s, "churn/deep/a", "a", 1, &e) != SL_OK)
                _exit(1);
            if (store_delete(f->s, "churn/deep/a", &e) != SL_OK)
                _exit(2);
        }
        _exit(0);
    }
    int failures = 0;
    for (int i = 0; i < 300; i++) {
        sl_err e = {0};
        if (store_put(f->s, "churn/deep/b", "b", 1, &e) != SL_OK) {
            print_error("put failed: %s\n", e.msg);
            failures++;
        }
        if (store_delete(f->s, "churn/deep/b", &e) != SL_OK)
            failures++;
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(failures, 0);
    /* Under contention pruning may leave an empty folder; uncontended, the
     * last delete takes it away. */
    sl_err e = {0};
    assert_int_equal(store_put(f->s, "churn/deep/b", "b", 1, &e), SL_OK);
    assert_int_equal(store_delete(f->s, "churn/deep/b", &e), SL_OK);
    char *churn = sl_asprintf("%s/churn", f->dir);
    assert_int_equal(access(churn, F_OK), -1); /* everything deleted, folders gone */
    free(churn);
    assert_int_equal(count_tmp_files(f->dir), 0);
}

/* ---- listing ----------------------------------------------------------- */

static void make_tricky(store *s)
{
    const char *keys[] = {"a/b",
                          "a-b",
                          "a0",
                          "A",
                          "a b",
                          "a/c/d",
                          "caf\xc3\xa9",
                          "cafe",
                          "z\xe2\x82\xac",
                          "incoming/1/part-0.jsonl",
                          "incoming/2/part-0.jsonl",
                          "inc.txt"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put_text(s, keys[i], keys[i]);
}

static void test_list_byte_order(void **state)
{
    fx *f = *state;
    make_tricky(f->s);
    char *all = list_joined(f->s, NULL, NULL, 0, NULL);
    /* Byte order of the full key: ' ' < '-' < '/' < '0' < 'A' < 'a' < 0xc3 < 0xe2. */
    assert_string_equal(all,
                        "A|a b|a-b|a/b|a/c/d|a0|cafe|caf\xc3\xa9|inc.txt|"
                        "incoming/1/part-0.jsonl|incoming/2/part-0.jsonl|z\xe2\x82\xac");
    free(all);

    /* Each item is reported with its size. */
    store_page p;
    sl_err err = {0};
    assert_int_equal(store_list_all(f->s, "a/c", NULL, &p, &err), SL_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].key, "a/c/d");
    assert_int_equal(p.items[0].size, 5);
    assert_true(p.items[0].mtime_ms > 0);
    assert_true(p.items[0].etag[0] != '\0');
    assert_null(p.next_token);
    store_page_free(&p);
}

static void test_list_prefix_and_delimiter(void **state)
{
    fx *f = *state;
    make_tricky(f->s);
    /* A string prefix, not only a folder boundary. */
    char *got = list_joined(f->s, "inc", NULL, 0, NULL);
    assert_string_equal(got, "inc.txt|incoming/1/part-0.jsonl|incoming/2/part-0.jsonl");
    free(got);
    got = list_joined(f->s, "a", NULL, 0, NULL);
    assert_string_equal(got, "a b|a-b|a/b|a/c/d|a0");
    free(got);
    got = list_joined(f->s, "incoming/", NULL, 0, NULL);
    assert_string_equal(got, "incoming/1/part-0.jsonl|incoming/2/part-0.jsonl");
    free(got);
    got = list_joined(f->s, "nothing/here/", NULL, 0, NULL);
    assert_string_equal(got, "");
    free(got);
    got = list_joined(f->s, "a/b/", NULL, 0, NULL); /* a/b is an object, not a folder */
    assert_string_equal(got, "");
    free(got);

    /* Delimiter roll-up. */
    got = list_joined(f->s, NULL, "/", 0, NULL);
    assert_string_equal(
        got, "A|a b|a-b|a/|a0|cafe|caf\xc3\xa9|inc.txt|incoming/|z\xe2\x82\xac");
    free(got);
    got = list_joined(f->s, "inc", "/", 0, NULL);
    assert_string_equal(got, "inc.txt|incoming/");
    free(got);
    got = list_joined(f->s, "incoming/", "/", 0, NULL);
    assert_string_equal(got, "incoming/1/|incoming/2/");
    free(got);
    got = list_joined(f->s, "a/", "/", 0, NULL);
    assert_string_equal(got, "a/b|a/c/");
    free(got);
    /* A delimiter other than '/' rolls up on the full key. */
    got = list_joined(f->s, "incoming/", "-", 0, NULL);
    assert_string_equal(got, "incoming/1/part-|incoming/2/part-");
    free(got);
    got = list_joined(f->s, "a", "-", 0, NULL);
    assert_string_equal(got, "a b|a-|a/b|a/c/d|a0");
    free(got);
}

static void test_list_pagination(void **state)
{
    fx *f = *state;
    make_tricky(f->s);
    char *all = list_joined(f->s, NULL, NULL, 0, NULL);
    char *rolled = list_joined(f->s, NULL, "/", 0, NULL);
    for (size_t mk = 1; mk <= 3; mk++) {
        int pages = 0;
        char *paged = list_joined(f->s, NULL, NULL, mk, &pages);
        assert_string_equal(paged, all);
        assert_int_equal(pages, (12 + (int)mk - 1) / (int)mk);
        free(paged);
        paged = list_joined(f->s, NULL, "/", mk, NULL);
        assert_string_equal(paged, rolled);
        free(paged);
        paged = list_joined(f->s, "a", "-", mk, NULL);
        assert_string_equal(paged, "a b|a-|a/b|a/c/d|a0");
        free(paged);
    }
    free(rolled);
    free(all);

    /* A token continues strictly after the given key. */
    store_list_req req = {NULL, NULL, "a/b", 2};
    store_page p;
    sl_err err = {0};
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].key, "a/c/d");
    assert_string_equal(p.items[1].key, "a0");
    assert_string_equal(p.next_token, "a0");
    store_page_free(&p);
    /* The last key as token: an empty, final page ("z\xe2\x82\xac" > "zzzz" in bytes). */
    req.start_token = "z\xe2\x82\xac";
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
    assert_int_equal(p.n, 0);
    assert_null(p.next_token);
    store_page_free(&p);
}

static void test_list_2000_keys(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    char key[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "big/%d/f%d.json", i % 37, i);
        assert_int_equal(store_put(f->s, key, "x", 1, &err), SL_OK);
    }
    /* Default page size (1000): two full pages and one more request. */
    size_t total = 0;
    int pages = 0;
    char *token = NULL;
    char *prev = sl_strdup("");
    for (;;) {
        store_list_req req = {"big/", NULL, token, 0};
        store_page p;
        assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
        pages++;
        assert_true(p.n <= 1000);
        for (size_t i = 0; i < p.n; i++) {
            assert_true(strcmp(prev, p.items[i].key) < 0); /* sorted, no repeats */
            free(prev);
            prev = sl_strdup(p.items[i].key);
        }
        total += p.n;
        free(token);
        token = p.next_token ? sl_strdup(p.next_token) : NULL;
        store_page_free(&p);
        if (!token)
            break;
    }
    free(prev);
    assert_int_equal(total, 2000);
    assert_true(pages >= 2 && pages <= 3);

    store_page all;
    assert_int_equal(store_list_all(f->s, "big/", NULL, &all, &err), SL_OK);
    assert_int_equal(all.n, 2000);
    store_page_free(&all);
    assert_int_equal(store_list_all(f->s, "big/", "/", &all, &err), SL_OK);
    assert_int_equal(all.n, 37);
    assert_string_equal(all.items[0].key, "big/0/");
    assert_string_equal(all.items[1].key, "big/1/");
    assert_string_equal(all.items[2].key, "big/10/");
    assert_int_equal(all.items[0].is_prefix, 1);
    store_page_free(&all);
}

static void test_list_hides_tmp_and_links(void **state)
{
    fx *f = *state;
    put_text(f->s, "d/real", "r");
    tu_write_file(f->dir, "d/.sluice-tmp-deadbeef", "half-written");
    char *link = sl_asprintf("%s/d/escape", f->dir);
    assert_int_equal(symlink("/etc", link), 0);
    char *flink = sl_asprintf("%s/d/passwd", f->dir);
    assert_int_equal(symlink("/etc/passwd", flink), 0);
    char *got = list_joined(f->s, NULL, NULL, 0, NULL);
    assert_string_equal(got, "d/real");
    free(got);
    got = list_joined(f->s, "d/", "/", 0, NULL);
    assert_string_equal(got, "d/real");
    free(got);
    /* Links are not objects and never lead out of the root. */
    sl_err err = {0};
    sl_buf b = {0};
    assert_int_equal(store_get(f->s, "d/passwd", &b, &err), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(store_get(f->s, "d/escape/passwd", &b, &err), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(store_put(f->s, "d/escape/sluice-test", "x", 1, &err),
                     SL_STORE_PATH_CONFLICT);
    got = list_joined(f->s, "d/escape/", NULL, 0, NULL);
    assert_string_equal(got, "");
    free(got);
    buf_free(&b);
    free(flink);
    free(link);
}

/* ---- listing: pages against a model ------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct keyset {
    char **v;
    size_t n, cap;
} keyset;

static void keyset_add(keyset *k, char *key)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->v = sl_realloc(k->v, k->cap * sizeof *k->v);
    }
    k->v[k->n++] = key;
}

static void keyset_free(keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names from bytes that sort just around '/' (' ' '-' '.' < '/' < '0' 'A'
 * 'a' < 0xc3), so siblings, files and folders interleave at every level. */
static void random_name(char *out, size_t len)
{
    static const char alpha[] = " -.0Aab\xc3";
    do {
        for (size_t i = 0; i < len; i++)
            out[i] = alpha[rnd() % (sizeof alpha - 1)];
        out[len] = '\0';
    } while (strcmp(out, ".") == 0 || strcmp(out, "..") == 0);
}

/* A random tree under dir/rel: up to `width` entries a folder, each a file or
 * (above max depth) a folder; file keys go to keys. */
static void random_tree(const char *dir, const char *rel, int depth, int width,
                        keyset *keys)
{
    int n = 1 + (int)(rnd() % (uint64_t)width);
    char name[8];
    for (int i = 0; i < n; i++) {
        random_name(name, 1 + rnd() % 3);
        char *key = sl_asprintf("%s%s", rel, name);
        char *path = sl_asprintf("%s/%s", dir, key);
        struct stat st;
        if (lstat(path, &st) == 0) { /* the name is taken in this folder */
            free(path);
            free(key);
            continue;
        }
        if (depth > 0 && rnd() % 3 == 0) {
            char *sub = sl_asprintf("%s/", key);
            random_tree(dir, sub, depth - 1, width, keys);
            free(sub);
            free(key);
        } else {
            tu_write_file(dir, key, "x");
            keyset_add(keys, key);
        }
        free(path);
    }
}

/* The listing S3 would give: sorted keys with the prefix, past the token,
 * rolled up at the first delimiter after the prefix, joined with '|'. */
static char *model_list(const keyset *sorted, const char *prefix, const char *delim,
                        const char *token)
{
    size_t plen = strlen(prefix);
    sl_buf b = {0};
    char *last = NULL;
    for (size_t i = 0; i < sorted->n; i++) {
        const char *k = sorted->v[i];
        if (strncmp(k, prefix, plen) != 0)
            continue;
        const char *hit = delim ? strstr(k + plen, delim) : NULL;
        char *item =
            hit ? sl_strndup(k, (size_t)(hit - k) + strlen(delim)) : sl_strdup(k);
        if ((token && strcmp(item, token) <= 0) || (last && strcmp(item, last) == 0)) {
            free(item);
            continue;
        }
        if (b.len)
            buf_append_char(&b, '|');
        buf_append_str(&b, item);
        free(last);
        last = item;
    }
    free(last);
    if (!b.data)
        return sl_strdup("");
    return buf_steal(&b);
}

/* One page from token on, joined like list_joined. */
static char *list_from(store *s, const char *prefix, const char *delim, const char *token,
                       size_t max_keys)
{
    store_list_req req = {prefix, delim, token, max_keys};
    store_page p;
    sl_err err = {0};
    if (store_list(s, &req, &p, &err) != SL_OK)
        fail_msg("list %s: %s", prefix, err.msg);
    sl_buf b = {0};
    for (size_t i = 0; i < p.n; i++) {
        if (b.len)
            buf_append_char(&b, '|');
        buf_append_str(&b, p.items[i].key);
    }
    store_page_free(&p);
    if (!b.data)
        return sl_strdup("");
    return buf_steal(&b);
}

/* Checks every prefix/delimiter/page size combination against the model. */
static void check_against_model(store *s, const keyset *sorted, const char *prefix)
{
    static const char *const delims[] = {NULL, "/", "-"};
    static const size_t sizes[] = {1, 7, 1000};
    for (size_t d = 0; d < sizeof delims / sizeof delims[0]; d++) {
        char *want = model_list(sorted, prefix, delims[d], NULL);
        char *whole = list_joined(s, prefix, delims[d], 1000000, NULL);
        if (strcmp(whole, want) != 0)
            fail_msg("prefix \"%s\" delimiter %s:\n got  %s\n want %s", prefix,
                     delims[d] ? delims[d] : "none", whole, want);
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            char *paged = list_joined(s, prefix, delims[d], sizes[z], NULL);
            if (strcmp(paged, want) != 0)
                fail_msg("prefix \"%s\" delimiter %s pages of %zu:\n got  %s\n want %s",
                         prefix, delims[d] ? delims[d] : "none", sizes[z], paged, want);
            free(paged);
        }
        free(whole);
        free(want);
    }
}

static void test_list_pages_match_model(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    for (uint64_t seed = 1; seed <= 6; seed++) {
        rng_state = seed;
        char *dir = tu_mkdtemp("store-model");
        store *s = NULL;
        assert_int_equal(store_open(dir, &s, &err), SL_OK);
        keyset keys = {0};
        random_tree(dir, "", 4, 6 + (int)seed, &keys);
        assert_true(keys.n > 0);
        qsort(keys.v, keys.n, sizeof *keys.v, str_cmp);

        check_against_model(s, &keys, "");
        /* Prefixes cut from real keys at every kind of place: mid-name, at a
         * '/', past it, and one that matches nothing. */
        for (int i = 0; i < 6; i++) {
            const char *k = keys.v[rnd() % keys.n];
            char *pfx = sl_strndup(k, (size_t)(rnd() % (strlen(k) + 1)));
            /* A prefix may not end in a "." or ".." segment: cut it shorter. */
            for (;;) {
                const char *seg = strrchr(pfx, '/');
                seg = seg ? seg + 1 : pfx;
                if (strcmp(seg, ".") != 0 && strcmp(seg, "..") != 0)
                    break;
                pfx[strlen(pfx) - 1] = '\0';
            }
            check_against_model(s, &keys, pfx);
            free(pfx);
        }
        check_against_model(s, &keys, "zz/");
        /* Tokens that are no key (as a caller may hold after deletes). */
        for (int i = 0; i < 20; i++) {
            char tok[16];
            random_name(tok, 1 + rnd() % 6);
            for (char *p = tok; *p; p++)
                if (rnd() % 3 == 0)
                    *p = '/';
            char *want = model_list(&keys, "", NULL, tok);
            char *got = list_from(s, "", NULL, tok, 1000000);
            if (strcmp(got, want) != 0)
                fail_msg("token \"%s\":\n got  %s\n want %s", tok, got, want);
            free(got);
            free(want);
        }
        keyset_free(&keys);
        store_close(s);
        tu_rmtree(dir);
        free(dir);
    }
    (void)f;
}

static void test_list_around_slash(void **state)
{
    fx *f = *state;
    const char *keys[] = {"a/b",  "a-b",   "a0",    "a.b",    "a/b.c/x", "a/b-c",
                          "a/b0", "a/b/c", "a/a/z", "a/b/c0", "b"};
    /* "a/b" is a file and "a/b/c" would need it as a folder: only one fits. */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        sl_err err = {0};
        sl_code c = store_put(f->s, keys[i], "x", 1, &err);
        assert_int_equal(c, strncmp(keys[i], "a/b/", 4) == 0 ? SL_STORE_PATH_CONFLICT
                                                             : SL_OK);
    }
    char *all = list_joined(f->s, NULL, NULL, 0, NULL);
    assert_string_equal(all, "a-b|a.b|a/a/z|a/b|a/b-c|a/b.c/x|a/b0|a0|b");
    for (size_t mk = 1; mk <= 4; mk++) {
        char *paged = list_joined(f->s, NULL, NULL, mk, NULL);
        assert_string_equal(paged, all);
        free(paged);
    }
    free(all);
    char *got = list_joined(f->s, "a", "/", 1, NULL);
    assert_string_equal(got, "a-b|a.b|a/|a0");
    free(got);
    got = list_joined(f->s, "a/", "/", 1, NULL);
    assert_string_equal(got, "a/a/|a/b|a/b-c|a/b.c/|a/b0");
    free(got);
    got = list_joined(f->s, "a/b", NULL, 2, NULL);
    assert_string_equal(got, "a/b|a/b-c|a/b.c/x|a/b0");
    free(got);
    /* Tokens that fall between the folder "a/" and its neighbours. */
    got = list_from(f->s, "", NULL, "a.b", 2);
    assert_string_equal(got, "a/a/z|a/b");
    free(got);
    got = list_from(f->s, "", NULL, "a/", 1);
    assert_string_equal(got, "a/a/z");
    free(got);
    got = list_from(f->s, "", "/", "a/", 5);
    assert_string_equal(got, "a0|b");
    free(got);
    got = list_from(f->s, "", NULL, "a/b.c/", 2);
    assert_string_equal(got, "a/b.c/x|a/b0");
    free(got);
    got = list_from(f->s, "", NULL, "a/b.c/x", 5);
    assert_string_equal(got, "a/b0|a0|b");
    free(got);
    got = list_from(f->s, "a/", NULL, "a", 1);
    assert_string_equal(got, "a/a/z");
    free(got);
    got = list_from(f->s, "a/", NULL, "a0", 5);
    assert_string_equal(got, "");
    free(got);
}

static void test_list_deep(void **state)
{
    fx *f = *state;
    /* 60 levels, with a file just before and just after each folder in key
     * order ("d-07" < "d/..." < "d007"). */
    sl_buf path = {0};
    keyset keys = {0};
    for (int d = 0; d < 60; d++) {
        char *before = sl_asprintf("%sd-%02d", path.data ? path.data : "", d);
        char *after = sl_asprintf("%sd0%02d", path.data ? path.data : "", d);
        tu_write_file(f->dir, before, "b");
        tu_write_file(f->dir, after, "a");
        keyset_add(&keys, before);
        keyset_add(&keys, after);
        buf_append_str(&path, "d/");
    }
    char *leaf = sl_asprintf("%sleaf", path.data);
    tu_write_file(f->dir, leaf, "l");
    keyset_add(&keys, leaf);
    qsort(keys.v, keys.n, sizeof *keys.v, str_cmp);
    char *want = model_list(&keys, "", NULL, NULL);
    int pages = 0;
    char *got = list_joined(f->s, NULL, NULL, 1, &pages);
    assert_string_equal(got, want);
    assert_int_equal(pages, (int)keys.n);
    free(got);
    free(want);
    /* Resuming at the deepest key goes down 60 folders and back up. */
    want = model_list(&keys, "", NULL, leaf);
    got = list_from(f->s, "", NULL, leaf, 1000);
    assert_string_equal(got, want);
    size_t bars = 0;
    for (const char *p = got; *p; p++)
        bars += *p == '|';
    assert_int_equal(bars, 59); /* the 60 "d0NN" files, deepest first */
    free(got);
    free(want);
    char *pfx = sl_asprintf("%.*s", (int)(path.len / 2), path.data);
    char *rolled = list_joined(f->s, pfx, "/", 1, NULL);
    assert_non_null(strstr(rolled, "d/|"));
    free(rolled);
    free(pfx);
    buf_free(&path);
    keyset_free(&keys);
}

/* A folder large enough for the listing cache, left alone past the racing
 * window, then changed between pages: the next page must see the change. */
static void test_list_cached_folder_changes(void **state)
{
    fx *f = *state;
    char key[64];
    for (int i = 0; i < 700; i++) {
        snprintf(key, sizeof key, "big/%04d/f", i * 2);
        tu_write_file(f->dir, key, "x");
    }
    tu_write_file(f->dir, "big/1000/g", "x");
    sleep(3); /* past LIST_CACHE_RACY_MS: the folder may now be cached */

    store_list_req req = {"big/", NULL, NULL, 10};
    store_page p;
    sl_err err = {0};
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
    assert_int_equal(p.n, 10);
    assert_string_equal(p.next_token, "big/0018/f");
    char *token = sl_strdup(p.next_token);
    store_page_free(&p);
    /* Unchanged: the next page continues where the first stopped. */
    req.start_token = token;
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
    assert_int_equal(p.n, 10);
    assert_string_equal(p.items[0].key, "big/0020/f");
    assert_string_equal(p.next_token, "big/0038/f");
    free(token);
    token = sl_strdup(p.next_token);
    store_page_free(&p);
    /* A new folder right after the token, one removed further on. */
    put_text(f->s, "big/0039/new", "n");
    assert_int_equal(store_delete(f->s, "big/0040/f", &err), SL_OK);
    req.start_token = token;
    req.max_keys = 3;
    assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.items[0].key, "big/0039/new");
    assert_string_equal(p.items[1].key, "big/0042/f");
    assert_string_equal(p.items[2].key, "big/0044/f");
    store_page_free(&p);
    /* Unchanged since: later pages agree with a fresh store's whole listing. */
    char *paged = list_joined(f->s, "big/", NULL, 50, NULL);
    store *fresh = NULL;
    assert_int_equal(store_open(f->dir, &fresh, &err), SL_OK);
    char *whole = list_joined(fresh, "big/", NULL, 1000000, NULL);
    assert_string_equal(paged, whole);
    assert_non_null(strstr(whole, "big/0038/f|big/0039/new|big/0042/f"));
    assert_non_null(strstr(whole, "big/1000/g|big/1002/f"));
    /* The folder replaced by one of the same name: not served from the cache. */
    char *cmd =
        sl_asprintf("mv '%s/big' '%s/old' && mkdir -p '%s/big/only' && "
                    "touch -d '2020-01-01' '%s/big/only/k' '%s/big/only' '%s/big'",
                    f->dir, f->dir, f->dir, f->dir, f->dir, f->dir);
    assert_int_equal(tu_run(cmd, NULL), 0);
    char *after = list_joined(f->s, "big/", NULL, 5, NULL);
    assert_string_equal(after, "big/only/k");
    free(after);
    free(cmd);
    free(whole);
    free(paged);
    store_close(fresh);
    free(token);
}

/* Runs the unreadable-folder check; returns 0 when it behaved. */
static int check_unreadable(store *s, const char *dir)
{
    sl_err err = {0};
    store_page p;
    store_list_req req = {"locked/", NULL, NULL, 0};
    if (store_list(s, &req, &p, &err) != SL_STORE_PERMISSION)
        return 1;
    if (p.n != 0 || p.items)
        return 8;
    if (!strstr(err.msg, dir) || !strstr(err.msg, "locked"))
        return 2;
    /* A recursive walk from the top meets it too. */
    if (store_list_all(s, "", NULL, &p, &err) != SL_STORE_PERMISSION)
        return 3;
    sl_buf b = {0};
    if (store_get(s, "locked/inner/f", &b, &err) != SL_STORE_PERMISSION)
        return 4;
    buf_free(&b);
    /* With delimiter '/' only the top folder is read, so the locked one is
     * merely a common prefix: proof that no recursive walk happened. */
    store_list_req top = {"", "/", NULL, 0};
    if (store_list(s, &top, &p, &err) != SL_OK)
        return 5;
    int ok = p.n == 2 && strcmp(p.items[0].key, "locked/") == 0 &&
             strcmp(p.items[1].key, "open/") == 0;
    store_page_free(&p);
    if (!ok)
        return 6;
    /* Writing into it is refused the same way. */
    if (store_put(s, "locked/new", "x", 1, &err) != SL_STORE_PERMISSION)
        return 7;
    return 0;
}

static void test_unreadable_dir(void **state)
{
    fx *f = *state;
    put_text(f->s, "locked/inner/f", "secret");
    put_text(f->s, "open/f", "x");
    char *locked = sl_asprintf("%s/locked", f->dir);
    assert_int_equal(chmod(locked, 0), 0);
    if (geteuid() != 0) {
        assert_int_equal(check_unreadable(f->s, f->dir), 0);
    } else {
        /* Root bypasses permissions: check as an unprivileged user in a child. */
        assert_int_equal(chmod(f->dir, 0755), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(77);
            _exit(check_unreadable(f->s, f->dir));
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77)
            printf("SKIP: cannot drop root privileges; permission check not run\n");
        else
            assert_int_equal(WEXITSTATUS(st), 0);
    }
    assert_int_equal(chmod(locked, 0755), 0);
    free(locked);
}

static void test_log_lines(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    char *path = sl_asprintf("%s.log", f->dir);
    sl_log *log = NULL;
    assert_int_equal(log_open_file(path, &log, &err), SL_OK);
    store_set_log(f->s, log);
    put_text(f->s, "logged/k", "v");
    sl_buf b = {0};
    assert_int_equal(store_get(f->s, "logged/missing", &b, &err), SL_STORE_NOT_FOUND);
    store_set_log(f->s, NULL);
    log_close(log);
    char *text = tu_read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"op\":\"store.put\""));
    assert_non_null(strstr(text, "\"op\":\"store.get\""));
    assert_non_null(strstr(text, "SL-STORE-NOT-FOUND"));
    assert_non_null(strstr(text, "logged/missing"));
    free(text);
    unlink(path);
    free(path);
    buf_free(&b);
}

/* Open descriptors of this process (/proc/self/fd), the listing's own
 * included: the same figure before and after shows no descriptor left open. */
static int open_fds(void)
{
    int n = 0;
    char path[64];
    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        struct stat st;
        n += lstat(path, &st) == 0;
    }
    return n;
}

/* Operations walk from the root's own descriptor: none may close it or leave
 * one open, on success or on any failure part way down a path. */
static void test_descriptors_kept(void **state)
{
    fx *f = *state;
    sl_err err = {0};
    put_text(f->s, "a/b/c/obj", "v");
    put_text(f->s, "top", "t");
    char *link = sl_asprintf("%s/a/link", f->dir);
    char *target = sl_asprintf("%s/a/b", f->dir);
    assert_int_equal(symlink(target, link), 0);
    int before = open_fds();
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char *longkey = sl_asprintf("a/%s/k", longname);
    for (int round = 0; round < 50; round++) {
        store_obj o = {0};
        assert_int_equal(store_stat(f->s, "a/b/c/obj", &o, &err), SL_OK);
        store_obj_clear(&o);
        assert_int_equal(store_stat(f->s, "top", &o, &err), SL_OK);
        store_obj_clear(&o);
        assert_int_equal(store_stat(f->s, "a/missing/x/y", &o, &err), SL_STORE_NOT_FOUND);
        assert_int_equal(store_stat(f->s, "top/under", &o, &err), SL_STORE_NOT_FOUND);
        assert_int_equal(store_stat(f->s, "a/link/c/obj", &o, &err), SL_STORE_NOT_FOUND);
        assert_int_not_equal(store_stat(f->s, longkey, &o, &err), SL_OK);
        assert_int_equal(store_put(f->s, "top/under", "x", 1, &err),
                         SL_STORE_PATH_CONFLICT);
        assert_int_equal(store_put(f->s, "a/link/new", "x", 1, &err),
                         SL_STORE_PATH_CONFLICT);
        put_text(f->s, "a/n/m/tmp", "x");
        assert_int_equal(store_delete(f->s, "a/n/m/tmp", &err), SL_OK);
        assert_int_equal(store_delete(f->s, "a/missing/x", &err), SL_OK);
        char *text = get_text(f->s, "a/b/c/obj");
        assert_string_equal(text, "v");
        free(text);
        store_list_req req = {.prefix = "a/b/", .max_keys = 1};
        store_page p;
        assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
        assert_int_equal(p.n, 1);
        assert_string_equal(p.items[0].key, "a/b/c/obj");
        store_page_free(&p);
        req.prefix = "nowhere/";
        assert_int_equal(store_list(f->s, &req, &p, &err), SL_OK);
        assert_int_equal(p.n, 0);
        store_page_free(&p);
    }
    assert_int_equal(open_fds(), before);
    store_page all;
    assert_int_equal(store_list_all(f->s, "", NULL, &all, &err), SL_OK);
    assert_int_equal(all.n, 2); /* a/b/c/obj, top: the root still serves */
    store_page_free(&all);
    free(longkey);
    free(link);
    free(target);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_url_plain_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_relative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_stat_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_atomic_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_if_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_if_absent_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_delete_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_byte_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_prefix_and_delimiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_2000_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_hides_tmp_and_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages_match_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_around_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_cached_folder_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptors_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
