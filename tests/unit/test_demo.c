/* `sluice demo`: the demo world in its mid-incident state, checked against
 * the generated deliveries read back independently: folder states in the
 * checkpoint and as discovery sees them, the failed folder's error in
 * `_sluice/runs`, silver, gold and quarantine equal to what the processed
 * folders' lines must give, the CLI's status and folders on it; the same
 * data for the same clock; then the incident resolved through the ops layer
 * (skip the bad folder with a reason, run): everything processed but the
 * folder still waiting for its marker.
 *
 * One demo is built by the group setup (with a pinned clock) and shared:
 * test_skip_then_run changes it, so it runs last. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backend/ops/ops.h"
#include "backend/ops/session.h"
#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/config.h"
#include "backend/pipeline/demo.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/runs.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"
#include "pipetest.h"
#include "testutil.h"

#define NOW_MS 1700010000000LL
#define NOW_TEXT "1700010000000"

typedef struct world {
    char *tmp;  /* everything the test writes */
    char *dir;  /* tmp/demo */
    char *cfg;  /* tmp/demo/sluice.json */
    char *lake; /* tmp/demo/lake */
    json_t *summary;
} world;

static world W;

/* Phases of the shared demo: as built, and after skip + run. */
enum { MID_INCIDENT, RESOLVED };

static int64_t epoch_of(int i)
{
    return demo_first_epoch(NOW_MS) + (int64_t)i * 3600;
}

static const char *want_state(int i, int phase)
{
    if (i == DEMO_FOLDERS - 1)
        return "waiting"; /* no _SUCCESS yet, in both phases */
    if (i == DEMO_BAD_FOLDER)
        return phase == MID_INCIDENT ? "failed" : "skipped";
    if (phase == MID_INCIDENT && (i == DEMO_LATE_PENDING || i > DEMO_BAD_FOLDER))
        return "pending";
    return "processed";
}

static int group_setup(void **state)
{
    (void)state;
    setenv("SLUICE_FAKE_NOW_MS", NOW_TEXT, 1);
    W.tmp = tu_mkdtemp("demo");
    char *sd = paths_join(W.tmp, "state");
    setenv("SLUICE_STATE_DIR", sd, 1);
    free(sd);
    W.dir = paths_join(W.tmp, "demo");
    W.cfg = paths_join(W.dir, "sluice.json");
    W.lake = paths_join(W.dir, "lake");
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS, .operator_name = "tester"};
    sl_err err = {0};
    sl_code c = demo_create(&o, &W.summary, &err);
    if (c != SL_OK) {
        fprintf(stderr, "demo_create: %s %s\n", err_code_name(c), err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    json_decref(W.summary);
    tu_rmtree(W.tmp);
    free(W.tmp);
    free(W.dir);
    free(W.cfg);
    free(W.lake);
    unsetenv("SLUICE_FAKE_NOW_MS");
    return 0;
}

/* ---- the deliveries, read back without the pipeline's code -------------- */

static pt_line *line_add(pt_world *w)
{
    if (w->nlines == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->lines = realloc(w->lines, w->cap * sizeof *w->lines);
        assert_non_null(w->lines);
    }
    pt_line *l = &w->lines[w->nlines++];
    memset(l, 0, sizeof *l);
    return l;
}

/* One line of a delivery as the pipeline must classify it. */
static void classify(pt_line *l, const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!json_is_object(o)) {
        l->kind = PT_MALFORMED;
        json_decref(o);
        return;
    }
    const char *id = json_string_value(json_object_get(o, "order_id"));
    const char *ts = json_string_value(json_object_get(o, "updated_at"));
    const char *op = json_string_value(json_object_get(o, "op"));
    json_t *amount = json_object_get(o, "amount");
    assert_non_null(id); /* a null key only in the bad folder, never processed */
    assert_non_null(ts);
    assert_non_null(op);
    snprintf(l->o.order_id, sizeof l->o.order_id, "%s", id);
    snprintf(l->o.customer_id, sizeof l->o.customer_id, "%s",
             json_string_value(json_object_get(o, "customer_id")));
    l->o.amount_null = json_is_null(amount);
    l->o.amount = json_number_value(amount);
    l->o.qty = (int)json_integer_value(json_object_get(o, "qty"));
    l->o.op = op[0];
    int64_t ms = 0;
    assert_int_equal(time_parse(ts, &ms, NULL), SL_OK);
    l->o.updated_s = ms / 1000;
    l->kind = l->o.amount_null ? PT_QUARANTINE : l->o.qty <= 0 ? PT_DROP : PT_VALID;
    json_decref(o);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every line of folder i's data files (in name order) to w;
 * returns the folder's lines that are not malformed. */
static int64_t folder_read(pt_world *w, int i)
{
    char folder[24];
    snprintf(folder, sizeof folder, "%lld", (long long)epoch_of(i));
    char *path = sl_asprintf("%s/incoming/%s", W.dir, folder);
    DIR *dh = opendir(path);
    assert_non_null(dh);
    char *names[16];
    size_t n = 0;
    for (struct dirent *de; (de = readdir(dh)) != NULL;)
        if (strstr(de->d_name, ".jsonl") && n < 16)
            names[n++] = strdup(de->d_name);
    closedir(dh);
    qsort(names, n, sizeof *names, name_cmp);
    int64_t rows = 0;
    for (size_t f = 0; f < n; f++) {
        char *fp = sl_asprintf("%s/%s", path, names[f]);
        char *text = tu_read_file(fp);
        assert_non_null(text);
        int64_t line = 0;
        for (char *p = text; *p;) {
            size_t len = strcspn(p, "\n");
            char *one = strndup(p, len);
            pt_line *l = line_add(w);
            snprintf(l->folder, sizeof l->folder, "%s", folder);
            snprintf(l->file, sizeof l->file, "%s/%s", folder, names[f]);
            l->line = ++line;
            classify(l, one);
            rows += l->kind != PT_MALFORMED;
            free(one);
            p += len + (p[len] == '\n');
        }
        free(text);
        free(fp);
        free(names[f]);
    }
    free(path);
    return rows;
}

/* The lines of every folder in state "processed" for phase; rows_out[i]
 * gets each folder's well-formed lines. */
static void processed_lines(pt_world *w, int phase, int64_t *rows_out)
{
    memset(w, 0, sizeof *w);
    w->lake = W.lake;
    for (int i = 0; i < DEMO_FOLDERS; i++)
        if (strcmp(want_state(i, phase), "processed") == 0)
            rows_out[i] = folder_read(w, i);
        else
            rows_out[i] = -1;
}

/* silver, gold and quarantine equal what the processed lines must give. */
static void check_tables(int phase)
{
    pt_world w;
    int64_t rows[DEMO_FOLDERS];
    processed_lines(&w, phase, rows);
    assert_true(pt_count(&w, PT_VALID) > 1000);
    assert_true(pt_count(&w, PT_MALFORMED) >= 2);
    assert_true(pt_count(&w, PT_QUARANTINE) >= 2);
    assert_true(pt_count(&w, PT_DROP) >= 2);
    char *want = pt_expected_silver(&w), *got = pt_actual_silver(&w);
    assert_true(strlen(want) > 0);
    assert_string_equal(got, want);
    free(want);
    free(got);
    want = pt_expected_gold(&w);
    got = pt_actual_gold(&w);
    assert_string_equal(got, want);
    free(want);
    free(got);
    want = pt_expected_quarantine(&w);
    got = pt_actual_quarantine(&w);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(w.lines);
}

/* ---- states ------------------------------------------------------------ */

static pipeline_def *demo_def(void)
{
    config *cfg = NULL;
    sl_err err = {0};
    assert_int_equal(config_load(W.cfg, &cfg, &err), SL_OK);
    pipeline_def *d = NULL;
    assert_int_equal(config_pipeline_load(cfg, DEMO_PIPELINE, &d, &err), SL_OK);
    config_free(cfg);
    return d;
}

/* Every folder's state in the checkpoint and as discovery sees it now. */
static void check_states(int phase)
{
    pipeline_def *d = demo_def();
    store *lake = NULL, *src = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(d->lake_url, &lake, &err), SL_OK);
    assert_int_equal(store_open(d->source.url, &src, &err), SL_OK);
    ckpt_view v;
    assert_int_equal(ckpt_load(lake, DEMO_PIPELINE, &v, &err), SL_OK);
    pl_known *known = calloc(v.n + 1, sizeof *known);
    for (size_t k = 0; k < v.n; k++)
        known[k] = (pl_known){v.e[k].folder, v.e[k].state, v.e[k].batch_id, v.e[k].detail};
    pl_discovery dsc;
    pl_discover_opts o = {.now_ms = NOW_MS, .max_marker_reads = (size_t)-1};
    assert_int_equal(discover_epochs(src, d, known, v.n, &o, &dsc, &err), SL_OK);
    assert_int_equal(dsc.n, DEMO_FOLDERS);
    for (int i = 0; i < DEMO_FOLDERS; i++) {
        char folder[24];
        snprintf(folder, sizeof folder, "%lld", (long long)epoch_of(i));
        const char *want = want_state(i, phase);
        assert_string_equal(dsc.folders[i].folder, folder);
        if (strcmp(dsc.folders[i].state, want) != 0)
            fail_msg("folder %d (%s): %s, want %s", i, folder, dsc.folders[i].state,
                     want);
        /* The checkpoint knows exactly the folders a run or an operator took. */
        const ckpt_entry *e = ckpt_find(&v, folder);
        if (strcmp(want, "pending") == 0 || strcmp(want, "waiting") == 0) {
            assert_null(e);
            continue;
        }
        assert_non_null(e);
        assert_string_equal(e->state, want);
        if (strcmp(want, "failed") == 0) {
            assert_string_equal(e->error_code, "SL-EXPECTATION-FAILED");
            assert_non_null(strstr(e->message, "has_key"));
        }
    }
    /* The late arrival after the failure is pending and known as late. */
    assert_int_equal(dsc.folders[DEMO_LATE_PENDING].late, phase == MID_INCIDENT);
    assert_int_equal(dsc.nlate, phase == MID_INCIDENT ? 1 : 0);
    pl_discovery_free(&dsc);
    free(known);
    ckpt_view_free(&v);
    store_close(src);
    store_close(lake);
    pipeline_def_free(d);
}

static void test_summary(void **state)
{
    (void)state;
    json_t *s = W.summary;
    char bad[24];
    snprintf(bad, sizeof bad, "%lld", (long long)epoch_of(DEMO_BAD_FOLDER));
    assert_string_equal(json_string_value(json_object_get(s, "pipeline")), "orders");
    assert_int_equal(json_integer_value(json_object_get(s, "epoch_folders")), 36);
    assert_int_equal(json_integer_value(json_object_get(s, "processed")), 26);
    assert_int_equal(json_integer_value(json_object_get(s, "pending")), 8);
    assert_int_equal(json_integer_value(json_object_get(s, "waiting")), 1);
    assert_string_equal(json_string_value(json_object_get(s, "failed_folder")), bad);
    assert_string_equal(json_string_value(json_object_get(s, "failed_code")),
                        "SL-EXPECTATION-FAILED");
    json_t *late = json_object_get(s, "late_folders");
    assert_int_equal(json_array_size(late), 2);
    assert_int_equal(json_integer_value(json_array_get(late, 0)),
                     epoch_of(DEMO_LATE_PROCESSED));
    assert_int_equal(json_integer_value(json_array_get(late, 1)),
                     epoch_of(DEMO_LATE_PENDING));
    /* Three scheduled runs, the last stopped by the bad folder. */
    json_t *runs = json_object_get(s, "runs");
    assert_int_equal(json_array_size(runs), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(runs, 2), "failed_folder")),
        bad);
    int64_t total = 0;
    for (size_t i = 0; i < 3; i++)
        total +=
            json_integer_value(json_object_get(json_array_get(runs, i), "processed"));
    assert_int_equal(total, 26);
    /* The config lists the pipeline and shows its tables and checkpoint. */
    char *text = tu_read_file(W.cfg);
    json_t *cfg = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(cfg, "pipelines"), 0)),
        "pipelines/orders.json");
    json_t *tables = json_object_get(cfg, "tables");
    const char *names[] = {"orders_raw", "orders_raw_quarantine", "orders",
                           "orders_by_day", "_sluice/processed_folders"};
    assert_int_equal(json_object_size(tables), 5);
    for (size_t i = 0; i < 5; i++)
        assert_non_null(json_object_get(tables, names[i]));
    json_decref(cfg);
    /* A second demo into the same folder is refused, nothing overwritten. */
    demo_opts o = {.dir = W.dir, .now_ms = NOW_MS};
    json_t *again = NULL;
    sl_err err = {0};
    assert_int_equal(demo_create(&o, &again, &err), SL_USAGE);
    assert_null(again);
}

static void test_mid_incident_states(void **state)
{
    (void)state;
    check_states(MID_INCIDENT);
}

/* The failed folder's ingest attempt is in the runs table with its code,
 * and nothing else failed. */
static void test_failed_run_recorded(void **state)
{
    (void)state;
    store *lake = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(W.lake, &lake, &err), SL_OK);
    run_step *rows = NULL;
    size_t n = 0;
    assert_int_equal(runs_load(lake, DEMO_PIPELINE, NULL, &rows, &n, &err), SL_OK);
    const char *bad = json_string_value(json_object_get(W.summary, "failed_folder"));
    const char *last_run = json_string_value(
        json_object_get(json_array_get(json_object_get(W.summary, "runs"), 2), "run_id"));
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].state, "failed") != 0)
            continue;
        failed++;
        assert_non_null(rows[i].folder);
        assert_string_equal(rows[i].folder, bad);
        assert_string_equal(rows[i].step, "ingest");
        assert_string_equal(rows[i].error_code, "SL-EXPECTATION-FAILED");
        assert_string_equal(rows[i].run_id, last_run);
        assert_int_equal(rows[i].attempt, 1); /* not transient: never retried */
    }
    assert_int_equal(failed, 1);
    run_steps_free(rows, n);
    store_close(lake);
}

static void test_mid_incident_tables(void **state)
{
    (void)state;
    check_tables(MID_INCIDENT);
}

/* The CLI on the demo: status and the pipeline's folders. */
static json_t *cli_json(const char *args, int want_rc)
{
    char *cmd =
        sl_asprintf("'%s' -c '%s' %s --json 2>/dev/null", tu_sluice_bin(), W.cfg, args);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    free(cmd);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j || rc != want_rc)
        fail_msg("sluice %s: exit %d, %s", args, rc, out);
    free(out);
    return j;
}

static void test_cli_status_and_folders(void **state)
{
    (void)state;
    json_t *j = cli_json("status", 0);
    json_t *p = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(p, "pipeline")), "orders");
    assert_string_equal(json_string_value(json_object_get(p, "state")), "failed");
    json_t *f = json_object_get(p, "folders");
    assert_int_equal(json_integer_value(json_object_get(f, "processed")), 26);
    assert_int_equal(json_integer_value(json_object_get(f, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "pending")), 8);
    assert_int_equal(json_integer_value(json_object_get(f, "waiting")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "skipped")), 0);
    assert_true(json_is_null(json_object_get(p, "lease"))); /* the runs let go */
    json_decref(j);

    pt_world w;
    int64_t rows[DEMO_FOLDERS];
    processed_lines(&w, MID_INCIDENT, rows);
    free(w.lines);
    j = cli_json("folders orders", 0);
    assert_int_equal(json_array_size(j), DEMO_FOLDERS);
    const char *last_run = json_string_value(
        json_object_get(json_array_get(json_object_get(W.summary, "runs"), 2), "run_id"));
    for (int i = 0; i < DEMO_FOLDERS; i++) {
        json_t *e = json_array_get(j, (size_t)i);
        assert_int_equal(json_integer_value(json_object_get(e, "epoch")), epoch_of(i));
        const char *st = json_string_value(json_object_get(e, "state"));
        assert_string_equal(st, want_state(i, MID_INCIDENT));
        assert_true(json_integer_value(json_object_get(e, "files")) >= 1);
        json_t *r = json_object_get(e, "rows");
        if (rows[i] >= 0) /* rows read: every well-formed line */
            assert_int_equal(json_integer_value(r), rows[i]);
        else if (strcmp(st, "failed") != 0)
            assert_true(json_is_null(r));
        if (i == DEMO_BAD_FOLDER)
            assert_string_equal(json_string_value(json_object_get(e, "run_id")),
                                last_run);
    }
    json_decref(j);
}

/* The same clock gives the same deliveries and the same tables. */
static void test_deterministic(void **state)
{
    (void)state;
    char *dir2 = paths_join(W.tmp, "demo2");
    demo_opts o = {.dir = dir2, .now_ms = NOW_MS, .operator_name = "tester"};
    json_t *s2 = NULL;
    sl_err err = {0};
    assert_int_equal(demo_create(&o, &s2, &err), SL_OK);
    const char *same[] = {"files",         "rows",    "malformed_lines", "processed",
                          "pending",       "waiting", "failed_folder",   "late_folders",
                          "epoch_folders", "tables"};
    for (size_t k = 0; k < sizeof same / sizeof *same; k++)
        if (!json_equal(json_object_get(W.summary, same[k]),
                        json_object_get(s2, same[k])))
            fail_msg("summary key %s differs", same[k]);
    /* Byte for byte, every delivery file. */
    for (int i = 0; i < DEMO_FOLDERS; i++) {
        for (int p = 0; p < 4; p++) {
            char rel[96];
            snprintf(rel, sizeof rel, "incoming/%lld/part-%05d.jsonl",
                     (long long)epoch_of(i), p);
            char *a = sl_asprintf("%s/%s", W.dir, rel),
                 *b = sl_asprintf("%s/%s", dir2, rel);
            char *ta = tu_read_file(a), *tb = tu_read_file(b);
            assert_true((ta == NULL) == (tb == NULL));
            assert_true(p > 0 || ta != NULL); /* every folder has a first file */
            if (ta)
                assert_string_equal(ta, tb);
            free(ta);
            free(tb);
            free(a);
            free(b);
        }
    }
    /* The same silver. */
    pt_world w1 = {.lake = W.lake};
    char *lake2 = paths_join(dir2, "lake");
    pt_world w2 = {.lake = lake2};
    char *t1 = pt_actual_silver(&w1), *t2 = pt_actual_silver(&w2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    free(lake2);
    json_decref(s2);
    free(dir2);
}

/* The incident resolved as an operator would: skip the bad folder with a
 * reason (confirmed), run again; every folder but the waiting one ends
 * processed, and the tables hold exactly those folders' data. */
static void test_skip_then_run(void **state)
{
    (void)state;
    session_opts so = {.config_path = W.cfg, .operator_name = "tester", .channel = "cli"};
    session *s = NULL;
    sl_err err = {0};
    assert_int_equal(session_open(&so, &s, &err), SL_OK);
    const char *bad = json_string_value(json_object_get(W.summary, "failed_folder"));
    json_t *params = json_pack("{s:s}", "pipeline", DEMO_PIPELINE);
    ops_request skip = {.target = bad,
                        .reason = "order without an order_id; producer re-sends it",
                        .params = params,
                        .confirmed = 1};
    ops_result res;
    sl_code c = ops_run(&s->ops, "skip", &skip, &res, &err);
    if (c != SL_OK)
        fail_msg("skip: %s %s", err_code_name(c), err.msg);
    ops_result_clear(&res);
    ops_request run = {.target = DEMO_PIPELINE, .params = params};
    c = ops_run(&s->ops, "run", &run, &res, &err);
    if (c != SL_OK)
        fail_msg("run: %s %s", err_code_name(c), err.msg);
    /* The late folder and the seven after the bad one. */
    assert_int_equal(json_integer_value(json_object_get(res.after, "processed")), 8);
    assert_int_equal(json_integer_value(json_object_get(res.after, "failed")), 0);
    ops_result_clear(&res);
    json_decref(params);
    session_close(s);
    check_states(RESOLVED);
    check_tables(RESOLVED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_mid_incident_states),
        cmocka_unit_test(test_failed_run_recorded),
        cmocka_unit_test(test_mid_incident_tables),
        cmocka_unit_test(test_cli_status_and_folders),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_skip_then_run), /* last: it changes the demo */
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
