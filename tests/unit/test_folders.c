/* Source folder discovery: epoch folders by number, oldest first, with
 * totals; everything else listed apart, never dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_many_folders_paged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
