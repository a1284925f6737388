/* The byte buffer every module builds text in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "testutil.h"

static void test_reserve_gives_empty_string(void **state)
{
    (void)state;
    sl_buf b = {0};
    buf_reserve(&b, 100);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_append_grow_and_steal(void **state)
{
    (void)state;
    sl_buf b = {0};
    for (int i = 0; i < 1000; i++)
        buf_appendf(&b, "%d,", i);
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    assert_int_equal(b.data[b.len], '\0');
    buf_append(&b, "\0x", 2); /* binary data keeps its length */
    size_t len = b.len;
    assert_int_equal(b.data[len - 2], '\0');
    buf_reset(&b);
    assert_string_equal(b.data, "");
    buf_append_str(&b, "abc");
    buf_append_char(&b, 'd');
    char *s = buf_steal(&b);
    assert_string_equal(s, "abcd");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    s = buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
    char *p = sl_asprintf("%s-%03d", "v", 7);
    assert_string_equal(p, "v-007");
    free(p);
    assert_null(sl_strdup(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_gives_empty_string),
        cmocka_unit_test(test_append_grow_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
