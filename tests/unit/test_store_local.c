/* The local store backend: URLs, keys, object operations, atomicity, the
 * put-if-absent race and S3-style listings. */
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
            size_t kl = strlen(p.items[i].key);
            int ends_in_delim = delim && kl >= strlen(delim) &&
                                strcmp(p.items[i].key + kl - strlen(delim), delim) == 0;
            assert_int_equal(p.items[i].is_prefix, ends_in_delim);
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
        cmocka_unit_test_setup_teardown(test_unreadable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
