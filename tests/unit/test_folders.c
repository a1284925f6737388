/* Source folder discovery: epoch folders by number, oldest first, with
 * totals; everything else listed apart, never dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/pipeline/folders.h"
#include "testutil.h"

static void test_listing(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("folders");
    /* Byte order would put "1000" before "999": numbers must win. */
    tu_write_file(dir, "999/a.jsonl", "{}\n");
    tu_write_file(dir, "1000/a.jsonl", "{\"x\":1}\n");
    tu_write_file(dir, "1000/b.jsonl", "{\"x\":2}\n");
    tu_write_file(dir, "1000/sub/c.jsonl", "12345");
    tu_write_file(dir, "1700000000/_SUCCESS", "");
    tu_write_file(dir, "manual_fix/x.csv", "a\n");
    tu_write_file(dir, "17000x/y", "b");
    tu_write_file(dir, "README.txt", "hello");
    store *st = NULL;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &st, &e), SL_OK);
    source_listing l;
    assert_int_equal(folders_list(st, "", &l, &e), SL_OK);
    assert_int_equal(l.nepochs, 3);
    assert_string_equal(l.epochs[0].name, "999");
    assert_int_equal(l.epochs[0].epoch, 999);
    assert_string_equal(l.epochs[1].name, "1000");
    assert_int_equal(l.epochs[1].files, 3);
    assert_int_equal(l.epochs[1].bytes, 8 + 8 + 5);
    assert_true(l.epochs[1].newest_mtime_ms > 0);
    assert_string_equal(l.epochs[2].name, "1700000000");
    assert_int_equal(l.epochs[2].files, 1);
    assert_int_equal(l.epochs[2].bytes, 0);
    assert_int_equal(l.nothers, 3);
    int saw_fix = 0, saw_readme = 0, saw_mixed = 0;
    for (size_t i = 0; i < l.nothers; i++) {
        saw_fix |= strcmp(l.others[i].name, "manual_fix") == 0 && !l.others[i].is_file;
        saw_readme |= strcmp(l.others[i].name, "README.txt") == 0 && l.others[i].is_file;
        saw_mixed |= strcmp(l.others[i].name, "17000x") == 0;
    }
    assert_true(saw_fix && saw_readme && saw_mixed);
    json_t *j = folders_to_json(&l, store_url(st));
    assert_int_equal(json_array_size(json_object_get(j, "epoch_folders")), 3);
    json_t *first = json_array_get(json_object_get(j, "epoch_folders"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "999");
    assert_int_equal(json_integer_value(json_object_get(first, "files")), 1);
    assert_true(json_is_string(json_object_get(first, "newest_mtime")));
    assert_int_equal(json_array_size(json_object_get(j, "other")), 3);
    json_decref(j);
    folders_free(&l);
    store_close(st);
    tu_rmtree(dir);
    free(dir);
}

static void test_many_folders_paged(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("folders-many");
    char rel[64];
    for (int i = 0; i < 2500; i++) {
        snprintf(rel, sizeof rel, "%d/p.jsonl", 1700000000 + i * 60);
        tu_write_file(dir, rel, "{}\n");
    }
    store *st = NULL;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &st, &e), SL_OK);
    source_listing l;
    assert_int_equal(folders_list(st, "", &l, &e), SL_OK);
    assert_int_equal(l.nepochs, 2500);
    for (size_t i = 1; i < l.nepochs; i++)
        assert_true(l.epochs[i - 1].epoch < l.epochs[i].epoch);
    folders_free(&l);
    store_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* The listing the console gave before the one-pass walk: a delimiter
 * listing of the top, then every folder's keys totalled, as JSON. */
static json_t *per_folder_json(store *st, const char *prefix)
{
    sl_err e = {0};
    store_page top;
    assert_int_equal(store_list_all(st, prefix, "/", &top, &e), SL_OK);
    json_t *ep = json_array(), *ot = json_array();
    for (size_t i = 0; i < top.n; i++) {
        const store_obj *o = &top.items[i];
        const char *rel = o->key + strlen(prefix);
        source_folder f = {.epoch = -1, .is_file = !o->is_prefix};
        if (o->is_prefix) {
            f.name = sl_strndup(rel, strlen(rel) - 1);
            store_page sub;
            assert_int_equal(store_list_all(st, o->key, NULL, &sub, &e), SL_OK);
            for (size_t j = 0; j < sub.n; j++) {
                f.files++;
                f.bytes += sub.items[j].size;
                if (sub.items[j].mtime_ms > f.newest_mtime_ms)
                    f.newest_mtime_ms = sub.items[j].mtime_ms;
            }
            store_page_free(&sub);
        } else {
            f.name = sl_strdup(rel);
            f.files = 1;
            f.bytes = o->size;
            f.newest_mtime_ms = o->mtime_ms;
        }
        int64_t epoch;
        source_listing one = {0};
        if (!f.is_file && folders_epoch_of(f.name, &epoch)) {
            f.epoch = epoch;
            one.epochs = &f;
            one.nepochs = 1;
        } else {
            one.others = &f;
            one.nothers = 1;
        }
        json_t *j = folders_to_json(&one, "");
        json_array_extend(f.is_file || f.epoch < 0 ? ot : ep,
                          json_object_get(j, f.epoch < 0 ? "other" : "epoch_folders"));
        json_decref(j);
        free(f.name);
    }
    store_page_free(&top);
    /* Epoch folders by number, as folders_list sorts them. */
    size_t n = json_array_size(ep);
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            json_t *a = json_array_get(ep, k - 1), *b = json_array_get(ep, k);
            if (json_integer_value(json_object_get(a, "epoch")) <=
                json_integer_value(json_object_get(b, "epoch")))
                break;
            json_incref(a);
            json_array_set(ep, k - 1, b);
            json_array_set_new(ep, k, a);
        }
    json_t *root = json_object();
    json_object_set_new(root, "source", json_string(""));
    json_object_set_new(root, "epoch_folders", ep);
    json_object_set_new(root, "other", ot);
    return root;
}

static void expect_same_as_per_folder(store *st, const char *prefix)
{
    source_listing l;
    sl_err e = {0};
    assert_int_equal(folders_list(st, prefix, &l, &e), SL_OK);
    json_t *got = folders_to_json(&l, "");
    json_t *want = per_folder_json(st, prefix);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
        fail_msg("prefix \"%s\":\n got  %s\n want %s", prefix, g, w);
    }
    json_decref(got);
    json_decref(want);
    folders_free(&l);
}

/* Names that sort around '/', loose files beside folders of the same stem, a
 * folder spanning several 1,000-key pages: the one-pass grouping gives what
 * the delimiter listing and per-folder totals gave. */
static void test_same_as_per_folder_listing(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("folders-same");
    const char *files[] = {"a-b",         "a.b",         "a/x.jsonl",   "a/y/z",
                           "a0/k",        "a0.txt",      "17/_SUCCESS", "17-x/f",
                           "170/f",       "0017/f",      "1700000000",  "in/1/p.jsonl",
                           "in/1-/q",     "in/10/r",     "in/1.x",      "in/2/s/t/u",
                           "in/manual/m", "z\xc3\xa9/w", "b/c/d/e/f",   "b-c"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        tu_write_file(dir, files[i], files[i]);
    char rel[64];
    for (int i = 0; i < 2600; i++) {
        snprintf(rel, sizeof rel, "1800000000/part-%05d.jsonl", i);
        tu_write_file(dir, rel, i % 2 ? "odd" : "even!");
    }
    for (int i = 0; i < 700; i++) {
        snprintf(rel, sizeof rel, "%d/p", 1700000060 + i * 60);
        tu_write_file(dir, rel, "{}\n");
    }
    store *st = NULL;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &st, &e), SL_OK);
    expect_same_as_per_folder(st, "");
    expect_same_as_per_folder(st, "in/");
    expect_same_as_per_folder(st, "in/1");
    expect_same_as_per_folder(st, "nothing/");

    source_listing l;
    assert_int_equal(folders_list(st, "", &l, &e), SL_OK);
    const source_folder *big = &l.epochs[l.nepochs - 1];
    assert_string_equal(big->name, "1800000000");
    assert_int_equal(big->files, 2600);
    assert_int_equal(big->bytes, 1300 * 3 + 1300 * 5);
    /* "1700000000" is a loose file: not an epoch folder. */
    for (size_t i = 0; i < l.nepochs; i++)
        assert_string_not_equal(l.epochs[i].name, "1700000000");
    folders_free(&l);
    store_close(st);
    tu_rmtree(dir);
    free(dir);
}

/* A folder without objects has no key: S3 never shows one, and the
 * one-pass listing does not either (discovery skips it the same way). */
static void test_empty_folder_not_listed(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("folders-empty");
    tu_write_file(dir, "1700000000/a.jsonl", "{}\n");
    char *empty = sl_asprintf("%s/1700000060", dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    store *st = NULL;
    sl_err e = {0};
    assert_int_equal(store_open(dir, &st, &e), SL_OK);
    source_listing l;
    assert_int_equal(folders_list(st, "", &l, &e), SL_OK);
    assert_int_equal(l.nepochs, 1);
    assert_string_equal(l.epochs[0].name, "1700000000");
    assert_int_equal(l.nothers, 0);
    folders_free(&l);
    store_close(st);
    tu_rmtree(dir);
    free(empty);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_many_folders_paged),
        cmocka_unit_test(test_same_as_per_folder_listing),
        cmocka_unit_test(test_empty_folder_not_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
