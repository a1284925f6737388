/* The Tables views by script on a virtual screen: the table list, a
 * table's history (operator, rows), Enter on a version, `d` diffs (marked
 * vs selected, selected vs predecessor, `:diff V1 V2`), `p` previews of
 * old versions (time travel) and the record view, at 80x24 and 132x43.
 * The table has a known history: appends, a schema evolution with a
 * property, a restore. Data file names hold random UUIDs: dumps mask them
 * before comparing. */
#include "deltatest.h"
#include "tuitest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_write.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

#define FAKE_NOW "1700010000000"

typedef struct world {
    char *dir; /* /tmp/sltui-XXXXXX: tuitest masks the suffix */
} world;

#define SCHEMA_V3                                                                        \
    "{\"type\":\"struct\",\"fields\":["                                                  \
    "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"             \
    "{\"name\":\"qty\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"            \
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"         \
    "{\"name\":\"amount\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}}]}"

/* Commits 6 minutes apart from 2023-11-14 22:13:20 UTC. */
static void clock_at(int version)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", 1700000000000LL + 360000LL * version);
    setenv("SLUICE_FAKE_NOW_MS", ms, 1);
}

static void evolve(store *s)
{
    delta_snapshot *snap = dt_snap_latest(s, "");
    json_t *md = json_deep_copy(snap->metadata);
    json_object_set_new(md, "schemaString", json_string(SCHEMA_V3));
    json_object_set_new(md, "configuration",
                        json_pack("{ss}", "sluice.owner", "data-eng"));
    json_t *actions = json_pack("[{so}]", "metaData", md);
    delta_commit_req req = {
        .meta = {.operation = "ADD COLUMNS", .operator_name = "carol"},
        .read_snap = snap,
        .actions = actions};
    delta_commit_result r;
    sl_err err = {0};
    if (delta_commit(s, "", &req, &r, &err) != SL_OK)
        fail_msg("evolve: %s", err.msg);
    json_decref(actions);
    delta_snapshot_free(snap);
}

static void append_rows(store *s, int64_t first, size_t n, int with_amount,
                        const char *odd_name)
{
    size_t ncols = with_amount ? 4 : 3;
    pq_value *rows = calloc(n * ncols, sizeof *rows);
    char names[8][32];
    for (size_t i = 0; i < n; i++) {
        pq_value *r = &rows[i * ncols];
        int64_t id = first + (int64_t)i;
        snprintf(names[i], sizeof names[i], "item-%lld", (long long)id);
        const char *nm = odd_name && i == 0 ? odd_name : names[i];
        r[0] = pq_val_i64(id);
        r[1] = with_amount ? pq_val_i64(10 * id) : pq_val_i32((int32_t)(10 * id));
        r[2] = pq_val_strn(nm, strlen(nm));
        if (with_amount)
            r[3] = i == 1 ? pq_val_null() : pq_val_f64(1.5 * (double)id);
    }
    dt_append(s, "", rows, n, ncols);
    free(rows);
}

/* orders: v0 create; v1 +3 rows; v2 +2 rows (a name holding an escape
 * sequence); v3 qty -> long, + amount, property; v4 +2 rows; v5 restore 2. */
static void build_table(const char *root)
{
    store *s = dt_open_store(root);
    const pq_schema_col cols[] = {{"id", PQ_TYPE_INT64, true},
                                  {"qty", PQ_TYPE_INT32, true},
                                  {"name", PQ_TYPE_STRING, true}};
    clock_at(0);
    dt_create_table(s, "", cols, 3, NULL);
    clock_at(1);
    append_rows(s, 1, 3, 0, NULL);
    clock_at(2);
    append_rows(s, 4, 2, 0, "\x1b[31mred\n");
    clock_at(3);
    evolve(s);
    clock_at(4);
    append_rows(s, 6, 2, 1, NULL);
    clock_at(5);
    delta_at at = {.kind = DELTA_AT_VERSION, .version = 2};
    delta_restore_plan *p = NULL;
    sl_err e = {0};
    if (delta_restore_plan_build(s, "", &at, 1700010000000, &p, &e) != SL_OK)
        fail_msg("restore plan: %s", e.msg);
    delta_commit_meta m = {.operator_name = "tester"};
    delta_commit_result cr;
    if (delta_restore_commit(s, "", p, &m, &cr, &e) != SL_OK)
        fail_msg("restore: %s", e.msg);
    delta_restore_plan_free(p);
    store_close(s);
}

static int setup(void **state)
{
    world *w = sl_calloc(1, sizeof *w);
    char tmpl[] = "/tmp/sltui-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    w->dir = sl_strdup(tmpl);
    char *state_dir = paths_join(w->dir, "state");
    setenv("SLUICE_STATE_DIR", state_dir, 1);
    free(state_dir);
    setenv("SLUICE_OPERATOR", "tester", 1);
    unsetenv("NO_COLOR");
    unsetenv("SLUICE_THEMES_DIR");
    tu_write_file(w->dir, "incoming/README.txt", "drop folders here\n");
    char *root = sl_asprintf("%s/lake/silver/orders", w->dir);
    assert_int_equal(paths_mkdirs(root, 0755, NULL), SL_OK);
    build_table(root);
    free(root);
    setenv("SLUICE_FAKE_NOW_MS", FAKE_NOW, 1);
    tu_write_file(w->dir, "sluice.json",
                  "{\"environment\": \"prod\", \"banner_color\": \"red\",\n"
                  " \"source\": \"incoming\", \"lake\": \"lake\",\n"
                  " \"tables\": {\"orders\": \"silver/orders\"},\n"
                  " \"theme\": \"dark\"}\n");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    tu_rmtree(w->dir);
    free(w->dir);
    free(w);
    return 0;
}

/* 1 when p starts a UUID (8-4-4-4-12 hex digits). */
static int uuid_at(const char *p)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == '-' ? p[i] != '-' : !isxdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

/* Data file names are part-NNNNN-<uuid>-c000...: their hex digits (also
 * when the middle is elided) become x, as every other UUID (metaData id,
 * txnId), so dumps are stable. */
static void mask_uuids(world *w, const char *name)
{
    char *path = paths_join(w->dir, name);
    char *text = tu_read_file(path);
    assert_non_null(text);
    for (char *p = text; *p; p++)
        if (uuid_at(p))
            memcpy(p, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", 36);
    for (char *p = strstr(text, "part-"); p; p = strstr(p + 1, "part-")) {
        char *q = p + 5;
        while (*q && (isxdigit((unsigned char)*q) || *q == '-')) {
            if (isxdigit((unsigned char)*q) && q > p + 10)
                *q = 'x';
            q++;
        }
    }
    /* The tail of an elided name: "…<hex>-c000". */
    for (char *p = strstr(text, "-c000"); p; p = strstr(p + 1, "-c000"))
        for (char *q = p - 1; q > text && (isxdigit((unsigned char)*q) || *q == '-'); q--)
            if (isxdigit((unsigned char)*q))
                *q = 'x';
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    free(path);
}

static void expect(world *w, const char *name, int rows)
{
    mask_uuids(w, name);
    tt_expect_dump(w->dir, name, rows);
}

static char *dump(world *w, const char *name)
{
    char *d = tt_read_dump(w->dir, name);
    assert_non_null(d);
    return d;
}

static void run(world *w, const char *script, int rows, int cols)
{
    sl_err err = {0};
    if (tt_run_script(w->dir, script, rows, cols, NULL, &err) != SL_OK)
        fail_msg("script: %s", err.msg);
}

static const char *const walk =
    "view tables\n"
    "dump @/tables-list-%s.txt\n"
    "enter\n"
    "dump @/tables-history-%s.txt\n"
    "# d on the newest version: the restore against its predecessor\n"
    "diff\n"
    "dump @/tables-diff-restore-%s.txt\n"
    "back\n"
    "# mark version 4, select version 1, d: the two compared\n"
    "down\n"
    "select\n"
    "dump @/tables-marked-%s.txt\n"
    "down\n"
    "down\n"
    "down\n"
    "diff\n"
    "dump @/tables-diff-%s.txt\n"
    "back\n"
    "diff 2 5\n"
    "dump @/tables-diff-same-%s.txt\n"
    "back\n"
    "# time travel: the rows of version 1, then of version 4\n"
    "preview 1\n"
    "dump @/tables-preview-v1-%s.txt\n"
    "back\n"
    "preview 4\n"
    "dump @/tables-preview-%s.txt\n"
    "down\n"
    "down\n"
    "down\n"
    "enter\n"
    "dump @/tables-record-%s.txt\n"
    "back\n"
    "back\n"
    "first\n"
    "enter\n"
    "dump @/tables-version-%s.txt\n";

static char *walk_script(const char *size)
{
    sl_buf b = {0};
    for (const char *p = walk; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            buf_append_str(&b, size);
            p++;
        } else {
            buf_append_char(&b, *p);
        }
    }
    return buf_steal(&b);
}

static void walk_at(world *w, int rows, int cols, const char *size)
{
    char *script = walk_script(size);
    run(w, script, rows, cols);
    free(script);
    static const char *const names[] = {"list",   "history",   "diff-restore", "marked",
                                        "diff",   "diff-same", "preview-v1",   "preview",
                                        "record", "version"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "tables-%s-%s.txt", names[i], size);
        expect(w, name, rows);
    }
}

static void test_walk_80x24(void **state)
{
    world *w = *state;
    walk_at(w, 24, 80, "80x24");

    char *d = dump(w, "tables-list-80x24.txt");
    assert_non_null(strstr(d, "orders"));
    assert_non_null(strstr(d, "2h16m ago")); /* the fake now is 2h16m after v5 */
    assert_non_null(strstr(d, "1 table in"));
    free(d);

    /* History: operator from userMetadata, rows from the metrics. */
    d = dump(w, "tables-history-80x24.txt");
    assert_non_null(strstr(d, "RESTORE"));
    assert_non_null(strstr(d, "ADD COLUMNS"));
    assert_non_null(strstr(d, "carol · sluice/"));
    assert_non_null(strstr(d, "+3"));
    free(d);
    d = dump(w, "tables-marked-80x24.txt");
    assert_non_null(strstr(d, "* 4"));
    assert_non_null(strstr(d, "version 4 marked"));
    free(d);

    /* 4 -> 5 (the restore): one file removed, the evolution undone. */
    d = dump(w, "tables-diff-restore-80x24.txt");
    assert_non_null(
        strstr(d, "orders: version 4 (2023-11-14 22:37) → version 5 (2023-11-14 22:43)"));
    assert_non_null(strstr(d, "Files removed (1, "));
    assert_non_null(strstr(d, "Files added (0, "));
    assert_non_null(strstr(d, "- amount"));
    assert_non_null(strstr(d, "(dropped)"));
    assert_non_null(strstr(d, "~ qty                  long → integer"));
    assert_non_null(strstr(d, "- sluice.owner (was data-eng)"));
    free(d);

    /* Marked 4 vs selected 1: two files added, the evolution. */
    d = dump(w, "tables-diff-80x24.txt");
    assert_non_null(strstr(d, "orders: version 1 (2023-11-14 22:19) → version 4"));
    assert_non_null(strstr(d, "Files added (2, "));
    assert_non_null(strstr(d, "Files removed (0, "));
    assert_non_null(strstr(d, "+ amount"));
    assert_non_null(strstr(d, "integer → long"));
    assert_non_null(strstr(d, "+ sluice.owner = data-eng"));
    free(d);
    d = dump(w, "tables-diff-same-80x24.txt");
    assert_non_null(strstr(d, "the two versions hold the same files"));
    free(d);

    /* Version 1 holds the first three rows only, without amount. */
    d = dump(w, "tables-preview-v1-80x24.txt");
    assert_non_null(strstr(d, "orders @ version 1"));
    assert_non_null(strstr(d, "first 3 of 3 rows"));
    assert_non_null(strstr(d, "item-3"));
    assert_null(strstr(d, "item-4"));
    assert_null(strstr(d, "amount"));
    free(d);
    /* Version 4: seven rows, nulls marked, the escape sequence shown as text. */
    d = dump(w, "tables-preview-80x24.txt");
    assert_non_null(strstr(d, "first 7 of 7 rows"));
    assert_non_null(strstr(d, "amount"));
    assert_non_null(strstr(d, "∅"));
    assert_non_null(strstr(d, "\\x1b[31mred\\n"));
    assert_null(strchr(d, '\x1b'));
    free(d);
    d = dump(w, "tables-record-80x24.txt");
    assert_non_null(strstr(d, "row 4 of the preview"));
    assert_non_null(strstr(d, " amount "));
    free(d);

    /* Enter on the newest version: the restore's actions and metrics. */
    d = dump(w, "tables-version-80x24.txt");
    assert_non_null(strstr(d, "Operation: RESTORE"));
    assert_non_null(strstr(d, "Operator:  tester"));
    assert_non_null(strstr(d, "Changes:   +0 files · -1 file ("));
    free(d);
}

static void test_walk_132x43(void **state)
{
    world *w = *state;
    walk_at(w, 43, 132, "132x43");
    char *d = dump(w, "tables-preview-132x43.txt");
    assert_non_null(strstr(d, "4 columns"));
    assert_non_null(strstr(d, "› orders › rows @ 4"));
    free(d);
    d = dump(w, "tables-diff-132x43.txt");
    assert_non_null(strstr(d, "› orders › diff 1..4"));
    free(d);
}

/* Narrow screens show the columns that fit and say so; `p` in Tables
 * previews the latest version (the restore: five rows). */
static void test_narrow_and_latest(void **state)
{
    world *w = *state;
    run(w,
        "view tables\n"
        "preview\n"
        "dump @/latest.txt\n"
        "resize 24 20\n"
        "dump @/narrow.txt\n",
        24, 80);
    char *d = dump(w, "latest.txt");
    assert_non_null(strstr(d, "orders @ version 5"));
    assert_non_null(strstr(d, "first 5 of 5 rows"));
    assert_null(strstr(d, "amount"));
    free(d);
    d = dump(w, "narrow.txt");
    assert_non_null(strstr(d, "cols 1-2/3 (Enter"));
    free(d);
    /* Bad arguments are usage errors, never a crash. */
    sl_err err = {0};
    assert_int_not_equal(
        tt_run_script(w->dir, "view tables\nenter\ndiff 3\n", 24, 80, NULL, &err), SL_OK);
    assert_non_null(strstr(err.msg, "two versions"));
    assert_int_not_equal(
        tt_run_script(w->dir, "view tables\nenter\npreview x\n", 24, 80, NULL, &err),
        SL_OK);
    assert_non_null(strstr(err.msg, "not a version"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walk_80x24, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_132x43, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_and_latest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
