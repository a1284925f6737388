/* RESTORE: on copies of every fixture table, restoring to each earlier
 * version gives that version's files, rows and metaData; unwritable tables
 * are refused untouched; our commit matches Delta Lake's own RESTORE commit;
 * vacuumed files are refused; previews write nothing; the ops door and the
 * CLI flow (--dry-run, unconfirmed, --yes). */

#include "deltatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backend/delta/delta.h"
#include "backend/delta/delta_restore.h"
#include "backend/delta/delta_write.h"
#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

#define OVERWRITE_RESTORE "delta/basic-with-inserts-overwrite-restore"

typedef struct fx {
    char *dir;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("delta-restore");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static sl_code snap_at(store *s, int64_t version, delta_snapshot **out)
{
    delta_at at = {.kind = version < 0 ? DELTA_AT_LATEST : DELTA_AT_VERSION,
                   .version = version};
    sl_err e = {0};
    return delta_snapshot_open(s, "", &at, out, &e);
}

/* "path|dv" lines, sorted: the reconciled file set. */
static char *file_set(const delta_snapshot *s)
{
    char **v = calloc(s->nfiles + 1, sizeof *v);
    for (size_t i = 0; i < s->nfiles; i++)
        v[i] = sl_asprintf("%s|%s", s->files[i].path,
                           s->files[i].dv_id ? s->files[i].dv_id : "");
    qsort(v, s->nfiles, sizeof *v, dt_cmp_str);
    sl_buf b = {0};
    buf_append_str(&b, "");
    for (size_t i = 0; i < s->nfiles; i++) {
        buf_appendf(&b, "%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return buf_steal(&b);
}

static void assert_same_state(const delta_snapshot *got, const delta_snapshot *want,
                              const char *what)
{
    char *a = file_set(got), *b = file_set(want);
    if (strcmp(a, b) != 0)
        fprintf(stderr, "%s: file sets differ\n got:\n%s want:\n%s", what, a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(got->num_rows, want->num_rows);
    assert_int_equal(got->size_bytes, want->size_bytes);
    static const char *const keys[] = {"schemaString", "partitionColumns",
                                       "configuration", "id"};
    for (size_t i = 0; i < 4; i++) {
        json_t *x = json_object_get(got->metadata, keys[i]);
        json_t *y = json_object_get(want->metadata, keys[i]);
        if (!json_equal(x, y) && !(keys[i][0] == 'c' && !x && json_object_size(y) == 0))
            fail_msg("%s: metaData.%s differs", what, keys[i]);
    }
}

static sl_code restore_to(store *s, int64_t version, int64_t now_ms,
                          delta_commit_result *cr, sl_err *e)
{
    delta_at at = {.kind = DELTA_AT_VERSION, .version = version};
    delta_restore_plan *p = NULL;
    sl_code c = delta_restore_plan_build(s, "", &at, now_ms, &p, e);
    if (c == SL_OK) {
        delta_commit_meta m = {.operator_name = "tester"};
        c = delta_restore_commit(s, "", p, &m, cr, e);
    }
    delta_restore_plan_free(p);
    return c;
}

/* The table paths of fixtures/delta/INDEX.md ("## delta/name"). */
static char **index_tables(size_t *n)
{
    char *path = sl_asprintf("%s/delta/INDEX.md", tu_fixtures_dir());
    char *text = tu_read_file(path);
    free(path);
    assert_non_null(text);
    char **v = NULL;
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "## ", 3) != 0)
            continue;
        v = realloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = sl_strdup(line + 3);
    }
    free(text);
    return v;
}

static void restore_every_version(fx *f, const char *rel, size_t *restored,
                                  size_t *refused)
{
    char *orig_dir = sl_asprintf("%s/delta/%s", tu_fixtures_dir(), rel);
    store *orig = dt_open_store(orig_dir);
    char *copy = dt_copy_fixture(f->dir, rel);
    char *before = dt_tree_digest(copy);
    store *s = dt_open_store(copy);
    delta_snapshot *latest = NULL;
    sl_err e = {0};
    int writable =
        snap_at(orig, -1, &latest) == SL_OK &&
        delta_write_protocol_check(latest->protocol, latest->metadata, rel, &e) == SL_OK;
    if (!writable) {
        /* Any restore is refused, and the copy stays byte for byte. */
        int64_t v = latest && latest->version > 0 ? latest->version - 1 : 0;
        delta_commit_result cr = {0};
        assert_int_not_equal(restore_to(s, v, 0, &cr, &e), SL_OK);
        char *after = dt_tree_digest(copy);
        assert_string_equal(before, after);
        free(after);
        (*refused)++;
    } else {
        for (int64_t v = 0; v < latest->version; v++) {
            delta_snapshot *want = NULL, *cur = NULL, *got = NULL;
            if (snap_at(orig, v, &want) != SL_OK)
                continue; /* not reconstructable from what the log keeps */
            assert_int_equal(snap_at(s, -1, &cur), SL_OK);
            delta_commit_result cr = {0};
            sl_code c = restore_to(s, v, 0, &cr, &e);
            if (c == SL_STORE_NOT_FOUND) {
                /* Log-only fixture: the files to re-add are not there. */
                assert_non_null(strstr(e.msg, "no longer exist"));
                assert_int_equal(snap_at(s, -1, &got), SL_OK);
                assert_int_equal(got->version, cur->version);
            } else {
                if (c != SL_OK)
                    fail_msg("%s: restore to %lld: %s", rel, (long long)v, e.msg);
                assert_int_equal(cr.version, cur->version + 1);
                assert_int_equal(snap_at(s, -1, &got), SL_OK);
                assert_int_equal(got->version, cr.version);
                char what[256];
                snprintf(what, sizeof what, "%s restored to v%lld", rel, (long long)v);
                assert_same_state(got, want, what);
                /* Never a protocol downgrade. */
                assert_true(json_integer_value(
                                json_object_get(got->protocol, "minWriterVersion")) >=
                            json_integer_value(
                                json_object_get(cur->protocol, "minWriterVersion")));
                (*restored)++;
            }
            delta_snapshot_free(want);
            delta_snapshot_free(cur);
            delta_snapshot_free(got);
        }
    }
    delta_snapshot_free(latest);
    store_close(s);
    store_close(orig);
    free(before);
    free(copy);
    free(orig_dir);
}

static void test_restore_every_fixture_version(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    size_t n = 0, restored = 0, refused = 0;
    char **tables = index_tables(&n);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        restore_every_version(f, tables[i], &restored, &refused);
        free(tables[i]);
    }
    free(tables);
    fprintf(stderr, "restores checked: %zu; unwritable tables refused: %zu\n", restored,
            refused);
    assert_true(restored >= 20);
    assert_true(refused >= 3);
}

/* A commit's actions made comparable: volatile fields dropped, commitInfo
 * reduced to what Delta's RESTORE fixes, each action as sorted-key text. */
static char **normalized_actions(store *s, int64_t version, size_t *n)
{
    json_t *acts = NULL;
    sl_err e = {0};
    assert_int_equal(delta_commit_read(s, "", version, &acts, &e), SL_OK);
    *n = json_array_size(acts);
    char **v = calloc(*n, sizeof *v);
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        json_t *ci = json_object_get(a, "commitInfo");
        json_t *rm = json_object_get(a, "remove");
        if (ci) {
            static const char *const drop[] = {"timestamp", "txnId", "engineInfo",
                                               "userMetadata"};
            for (size_t k = 0; k < 4; k++)
                json_object_del(ci, drop[k]);
        }
        if (rm)
            json_object_del(rm, "deletionTimestamp");
        v[i] = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
    }
    json_decref(acts);
    qsort(v, *n, sizeof *v, dt_cmp_str);
    return v;
}

static void test_same_commit_as_delta_lake(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    char *cmd = sl_asprintf("cd '%s/_delta_log' && rm 00000000000000000003.json "
                            "00000000000000000003.checkpoint.parquet _last_checkpoint",
                            copy);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    store *s = dt_open_store(copy);
    delta_commit_result cr = {0};
    sl_err e = {0};
    assert_int_equal(restore_to(s, 1, 1697588691204LL, &cr, &e), SL_OK);
    assert_int_equal(cr.version, 3);
    char *orig_dir = sl_asprintf("%s/delta/%s", tu_fixtures_dir(), OVERWRITE_RESTORE);
    store *orig = dt_open_store(orig_dir);
    size_t na, nb;
    char **ours = normalized_actions(s, 3, &na);
    char **theirs = normalized_actions(orig, 3, &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (strcmp(ours[i], theirs[i]) != 0)
            fprintf(stderr, "ours:   %s\ntheirs: %s\n", ours[i], theirs[i]);
        assert_string_equal(ours[i], theirs[i]);
        free(ours[i]);
        free(theirs[i]);
    }
    free(ours);
    free(theirs);
    /* userMetadata carries the operator. */
    json_t *acts = NULL;
    assert_int_equal(delta_commit_read(s, "", 3, &acts, &e), SL_OK);
    const char *um = json_string_value(json_object_get(
        json_object_get(json_array_get(acts, 0), "commitInfo"), "userMetadata"));
    assert_non_null(um);
    assert_non_null(strstr(um, "tester"));
    json_decref(acts);
    store_close(orig);
    store_close(s);
    free(orig_dir);
    free(copy);
}

static void test_vacuumed_files_refused(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    /* v3 restored v1; then v1's files are "vacuumed" after restoring v2. */
    store *s = dt_open_store(copy);
    delta_commit_result cr = {0};
    sl_err e = {0};
    assert_int_equal(restore_to(s, 2, 0, &cr, &e), SL_OK);
    assert_int_equal(cr.version, 4);
    char *cmd = sl_asprintf("rm '%s/part-00000-5e752668-638c-4e95-9521-5e88926e3169-c000."
                            "snappy.parquet'",
                            copy);
    assert_int_equal(tu_run(cmd, NULL), 0);
    free(cmd);
    char *before = dt_tree_digest(copy);
    delta_at at = {.kind = DELTA_AT_VERSION, .version = 1};
    delta_restore_plan *p = NULL;
    assert_int_equal(delta_restore_plan_build(s, "", &at, 0, &p, &e), SL_OK);
    assert_int_equal(p->nmissing, 1);
    json_t *j = delta_restore_plan_to_json(p, "t");
    assert_int_equal(json_array_size(json_object_get(j, "missing_files")), 1);
    json_decref(j);
    delta_commit_meta m = {0};
    assert_int_equal(delta_restore_commit(s, "", p, &m, &cr, &e), SL_STORE_NOT_FOUND);
    assert_non_null(strstr(e.msg, "part-00000-5e752668-638c-4e95-9521-5e88926e3169"));
    delta_restore_plan_free(p);
    char *after = dt_tree_digest(copy);
    assert_string_equal(before, after);
    free(before);
    free(after);
    store_close(s);
    free(copy);
}

static void test_preview_writes_nothing(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    char *before = dt_tree_digest(copy);
    store *s = dt_open_store(copy);
    delta_at at = {.kind = DELTA_AT_TIMESTAMP, .timestamp_ms = 1697588676444LL + 10};
    delta_restore_plan *p = NULL;
    sl_err e = {0};
    /* Within the retention: no warning; far later: the warning. */
    assert_int_equal(delta_restore_plan_build(s, "", &at, 1697588691204LL, &p, &e),
                     SL_OK);
    assert_int_equal(p->target->version, 1);
    assert_false(p->retention_warning);
    json_t *j = delta_restore_plan_to_json(p, "t");
    assert_int_equal(json_integer_value(json_object_get(j, "read_version")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "target_version")), 1);
    /* v3 already restored v1: nothing to change, 4 files, 200 rows. */
    assert_int_equal(json_array_size(json_object_get(j, "files_to_readd")), 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "after"), "rows")), 200);
    json_t *params = delta_restore_parameters(p);
    assert_true(json_is_null(json_object_get(params, "version")));
    assert_string_equal(json_string_value(json_object_get(params, "timestamp")),
                        "2023-10-18T00:24:36.454Z");
    json_decref(params);
    json_decref(j);
    delta_restore_plan_free(p);
    at = (delta_at){.kind = DELTA_AT_VERSION, .version = 2};
    assert_int_equal(
        delta_restore_plan_build(s, "", &at, 1697588691204LL + 30LL * 86400000, &p, &e),
        SL_OK);
    assert_true(p->retention_warning);
    assert_int_equal(p->nreadd, 2);
    assert_int_equal(p->nremove, 4);
    assert_int_equal(p->readd_bytes, 1496 + 1499);
    j = delta_restore_plan_to_json(p, "t");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "before"), "rows")), 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "after"), "rows")), 500);
    assert_true(json_array_size(json_object_get(j, "warnings")) >= 1);
    json_decref(j);
    delta_restore_plan_free(p);
    /* The latest version itself is no restore target. */
    at.version = 3;
    assert_int_equal(delta_restore_plan_build(s, "", &at, 0, &p, &e), SL_USAGE);
    assert_null(p);
    char *after = dt_tree_digest(copy);
    assert_string_equal(before, after);
    free(before);
    free(after);
    store_close(s);
    free(copy);
}

/* RESTORE reads the whole table: a data change committed after its plan
 * is a conflict, and nothing of the losing restore is written. */
static void test_concurrent_change_conflicts(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    store *s = dt_open_store(copy);
    delta_at at = {.kind = DELTA_AT_VERSION, .version = 2};
    delta_restore_plan *p = NULL;
    sl_err e = {0};
    assert_int_equal(delta_restore_plan_build(s, "", &at, 0, &p, &e), SL_OK);
    delta_commit_result cr = {0};
    assert_int_equal(restore_to(s, 0, 0, &cr, &e), SL_OK);
    assert_int_equal(cr.version, 4);
    char *before = dt_tree_digest(copy);
    delta_commit_meta m = {0};
    assert_int_equal(delta_restore_commit(s, "", p, &m, &cr, &e), SL_DELTA_CONFLICT);
    delta_restore_plan_free(p);
    char *after = dt_tree_digest(copy);
    assert_string_equal(before, after);
    free(before);
    free(after);
    store_close(s);
    free(copy);
}

/* The protocol of a restore is the higher of both, legacy features kept. */
static json_t *restored_protocol(const char *cur, const char *tgt)
{
    delta_snapshot c = {.protocol = json_loads(cur, 0, NULL), .metadata = json_object()};
    delta_snapshot t = {.protocol = json_loads(tgt, 0, NULL), .metadata = json_object()};
    delta_restore_plan p = {.current = &c, .target = &t};
    json_t *acts = delta_restore_actions(&p);
    assert_int_equal(json_array_size(acts), 2);
    json_t *proto = json_incref(json_object_get(json_array_get(acts, 1), "protocol"));
    json_decref(acts);
    json_decref(c.protocol);
    json_decref(c.metadata);
    json_decref(t.protocol);
    json_decref(t.metadata);
    return proto;
}

static int has_feature(const json_t *proto, const char *list, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(proto, list), i,
                       v) if (strcmp(json_string_value(v), name) == 0) return 1;
    return 0;
}

static void test_protocol_never_downgraded(void **state)
{
    (void)state;
    json_t *p = restored_protocol("{\"minReaderVersion\":1,\"minWriterVersion\":2}",
                                  "{\"minReaderVersion\":1,\"minWriterVersion\":1}");
    assert_int_equal(json_integer_value(json_object_get(p, "minWriterVersion")), 2);
    assert_null(json_object_get(p, "writerFeatures"));
    json_decref(p);
    p = restored_protocol("{\"minReaderVersion\":1,\"minWriterVersion\":4}",
                          "{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                          "\"readerFeatures\":[\"v2Checkpoint\"],"
                          "\"writerFeatures\":[\"v2Checkpoint\"]}");
    assert_int_equal(json_integer_value(json_object_get(p, "minReaderVersion")), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "minWriterVersion")), 7);
    assert_true(has_feature(p, "readerFeatures", "v2Checkpoint"));
    assert_false(has_feature(p, "readerFeatures", "columnMapping"));
    static const char *const w[] = {"v2Checkpoint",   "appendOnly",
                                    "invariants",     "checkConstraints",
                                    "changeDataFeed", "generatedColumns"};
    for (size_t i = 0; i < 6; i++)
        assert_true(has_feature(p, "writerFeatures", w[i]));
    assert_false(has_feature(p, "writerFeatures", "identityColumns"));
    json_decref(p);
}

/* ---- the ops door and the CLI ---------------------------------------- */

static session *open_session(const fx *f, int read_only)
{
    char *sd = sl_asprintf("%s/state", f->dir);
    setenv("SLUICE_STATE_DIR", sd, 1);
    free(sd);
    session_opts o = {.config_optional = 1,
                      .operator_name = "alice",
                      .channel = "cli",
                      .read_only = read_only};
    session *sess = NULL;
    sl_err e = {0};
    if (session_open(&o, &sess, &e) != SL_OK)
        fail_msg("session_open: %s", e.msg);
    return sess;
}

static audit_event *restore_events(session *sess, size_t *n)
{
    audit_filter af = {0};
    af.action = "restore";
    audit_event *evs = NULL;
    sl_err e = {0};
    assert_int_equal(audit_query(sess->audit, &af, &evs, n, &e), SL_OK);
    return evs;
}

static void test_ops_restore(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    char *before = dt_tree_digest(copy);
    json_t *params = json_pack("{s:s, s:i}", "url", copy, "version", 2);
    ops_request req = {
        .target = "orders", .reason = "bad load", .params = params, .confirmed = 1};
    ops_result res;
    sl_err e = {0};

    session *ro = open_session(f, 1);
    assert_int_equal(ops_run(&ro->ops, "restore", &req, &res, &e), SL_OPS_READ_ONLY);
    ops_result_clear(&res);
    size_t n;
    audit_event *evs = restore_events(ro, &n);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].phase, "refused");
    audit_events_free(evs, n);
    session_close(ro);

    session *sess = open_session(f, 0);
    req.confirmed = 0;
    req.dry_run = 1;
    assert_int_equal(ops_run(&sess->ops, "restore", &req, &res, &e), SL_OK);
    assert_true(json_is_true(json_object_get(res.output, "dry_run")));
    assert_int_equal(json_array_size(json_object_get(res.output, "files_to_readd")), 2);
    ops_result_clear(&res);
    char *mid = dt_tree_digest(copy);
    assert_string_equal(before, mid);
    free(mid);

    req.dry_run = 0;
    assert_int_equal(ops_run(&sess->ops, "restore", &req, &res, &e),
                     SL_OPS_NOT_CONFIRMED);
    ops_result_clear(&res);
    req.confirmed = 1;
    assert_int_equal(ops_run(&sess->ops, "restore", &req, &res, &e), SL_OK);
    assert_int_equal(json_integer_value(json_object_get(res.output, "version")), 4);
    assert_int_equal(json_integer_value(json_object_get(res.before, "version")), 3);
    int64_t requested = res.requested_id;
    assert_true(requested > 0);
    ops_result_clear(&res);

    store *s = dt_open_store(copy);
    json_t *acts = NULL;
    assert_int_equal(delta_commit_read(s, "", 4, &acts, &e), SL_OK);
    json_t *ci = json_object_get(json_array_get(acts, 0), "commitInfo");
    assert_string_equal(json_string_value(json_object_get(ci, "operation")), "RESTORE");
    json_t *um =
        json_loads(json_string_value(json_object_get(ci, "userMetadata")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(um, "operator")), "alice");
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)requested);
    assert_string_equal(json_string_value(json_object_get(um, "auditEventId")), idtext);
    json_decref(um);
    json_decref(acts);
    store_close(s);

    evs = restore_events(sess, &n);
    /* refused (read-only), requested+succeeded (dry run), refused
     * (unconfirmed), requested+succeeded. */
    assert_int_equal(n, 6);
    audit_events_free(evs, n);
    session_close(sess);
    json_decref(params);
    free(before);
    free(copy);
}

static int run_cli(const fx *f, const char *args, char **out)
{
    char *cmd =
        sl_asprintf("cd '%s' && SLUICE_STATE_DIR='%s/clistate' SLUICE_OPERATOR=carol "
                    "'%s' %s 2>/dev/null",
                    f->dir, f->dir, tu_sluice_bin(), args);
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

static int64_t latest_version(const char *dir)
{
    store *s = dt_open_store(dir);
    delta_snapshot *snap = NULL;
    assert_int_equal(snap_at(s, -1, &snap), SL_OK);
    int64_t v = snap->version;
    delta_snapshot_free(snap);
    store_close(s);
    return v;
}

static void test_cli_flow(void **state)
{
    fx *f = *state;
    if (!tu_fixtures_dir())
        return;
    char *copy = dt_copy_fixture(f->dir, OVERWRITE_RESTORE);
    char *out = NULL;
    char *args = sl_asprintf(
        "restore '%s' --version 2 --reason 'bad load' --dry-run --json", copy);
    assert_int_equal(run_cli(f, args, &out), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "target_version")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "files_to_remove")), 4);
    json_decref(j);
    free(out);
    free(args);
    assert_int_equal(latest_version(copy), 3);

    args = sl_asprintf("restore '%s' --version 2 --reason 'bad load'", copy);
    assert_int_equal(run_cli(f, args, &out), 3);
    assert_non_null(strstr(out, "re-add part-00000-79fa68ed"));
    assert_non_null(strstr(out, "--yes"));
    free(out);
    free(args);
    assert_int_equal(latest_version(copy), 3);

    args = sl_asprintf("restore '%s' --version 2 --reason 'bad load' --yes", copy);
    assert_int_equal(run_cli(f, args, &out), 0);
    assert_non_null(strstr(out, "committed version 4"));
    free(out);
    free(args);
    assert_int_equal(latest_version(copy), 4);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restore_every_fixture_version, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_same_commit_as_delta_lake, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_vacuumed_files_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_preview_writes_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_change_conflicts, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_protocol_never_downgraded),
        cmocka_unit_test_setup_teardown(test_ops_restore, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cli_flow, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
