/* Conformance of log replay, checkpoints and history against the Delta tables
 * written by Spark, Databricks and delta-rs in $SLUICE_FIXTURES/delta. The
 * expected facts are read from INDEX.md at test time (its "EXPECT latest:"
 * lines and per-version history lines), never copied into this file. Every
 * listed version is opened by time travel; versions reached through a
 * checkpoint must come from that checkpoint, and where the JSON commits are
 * all there too, both ways must give the same snapshot. The fixture folders
 * are read-only: nothing here writes to them. */

#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/delta/delta.h"
#include "backend/delta/delta_internal.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"

/* One "- vN ..." history line of INDEX.md. */
typedef struct vexp {
    long long version;
    int no_json;        /* "(no JSON)": the commit file is gone */
    int no_commit_info; /* "(no commitInfo)" */
    char op[128];
    char mode[64]; /* "mode=X" when given */
    long long adds, removes;
    int has_counts;
    int has_metadata, has_protocol;
    int state; /* 0: files/rows given, 1: rows unknown ('?'/'f'), 2: 'x' not constructible
                */
    long long files, rows;
    int via_checkpoint;
    long long checkpoint; /* N of "(via checkpoint N" */
    int cp_eq_json;       /* "cp==json": the JSON commits give the same state */
} vexp;

typedef struct texp {
    char name[256];
    long long latest;
    int must_fail;
    long long missing; /* the commit named by "(missing commit N)" */
    int have_expect;
    long long files;
    int rows_known;
    int rows_footer; /* "(footer; no stats)": counted from Parquet footers */
    long long rows;
    int have_dv;
    long long dv_deleted;
    long long reader_version;
    vexp *v;
    size_t nv;
} texp;

/* ---- INDEX.md parsing --------------------------------------------------- */

static const char *after(const char *s, const char *needle)
{
    const char *p = strstr(s, needle);
    return p ? p + strlen(needle) : NULL;
}

static void parse_expect(texp *t, const char *line)
{
    t->have_expect = 1;
    const char *p = after(line, "version ");
    assert_non_null(p);
    t->latest = strtoll(p, NULL, 10);
    if (strstr(line, "must FAIL")) {
        t->must_fail = 1;
        p = after(line, "missing commit ");
        assert_non_null(p);
        t->missing = strtoll(p, NULL, 10);
        return;
    }
    p = after(line, "active files ");
    assert_non_null(p);
    t->files = strtoll(p, NULL, 10);
    p = after(line, ", rows ");
    assert_non_null(p);
    /* "rows 3 (footer; no stats)" counts Parquet footers: the log has no
     * stats, so the count must come from the data files' footers. */
    t->rows_known = isdigit((unsigned char)*p);
    t->rows_footer = strstr(p, "(footer") != NULL;
    t->rows = strtoll(p, NULL, 10);
    p = after(line, "DV-deleted rows ");
    if (p) {
        t->have_dv = 1;
        t->dv_deleted = strtoll(p, NULL, 10);
    }
}

static void parse_version(texp *t, const char *line)
{
    t->v = realloc(t->v, (t->nv + 1) * sizeof *t->v);
    vexp *v = &t->v[t->nv++];
    memset(v, 0, sizeof *v);
    const char *p = strstr(line, "- v") + 3;
    char *end;
    v->version = strtoll(p, &end, 10);
    p = end;
    while (*p == ' ')
        p++;
    if (strncmp(p, "(no JSON)", 9) == 0) {
        v->no_json = 1;
        v->state = 2;
        return;
    }
    if (strncmp(p, "(no commitInfo)", 15) == 0) {
        v->no_commit_info = 1;
    } else {
        /* The operation runs up to " mode=", " {" (parameters) or " [" (counts). */
        size_t n = strlen(p);
        const char *stops[] = {" mode=", " {", " ["};
        for (size_t i = 0; i < 3; i++) {
            const char *s = strstr(p, stops[i]);
            if (s && (size_t)(s - p) < n)
                n = (size_t)(s - p);
        }
        assert_true(n < sizeof v->op);
        memcpy(v->op, p, n);
        v->op[n] = '\0';
        const char *m = after(p, " mode=");
        if (m) {
            size_t k = strcspn(m, " [");
            assert_true(k < sizeof v->mode);
            memcpy(v->mode, m, k);
            v->mode[k] = '\0';
        }
    }
    const char *br = strstr(p, " [+");
    if (br) {
        v->has_counts = 1;
        v->adds = strtoll(br + 3, &end, 10);
        assert_true(*end == '/' && end[1] == '-');
        v->removes = strtoll(end + 2, NULL, 10);
        const char *close = strchr(br, ']');
        assert_non_null(close);
        char bracket[256];
        size_t bl = (size_t)(close - br);
        assert_true(bl < sizeof bracket);
        memcpy(bracket, br, bl);
        bracket[bl] = '\0';
        v->has_metadata = strstr(bracket, "metaData") != NULL;
        v->has_protocol = strstr(bracket, "protocol") != NULL;
    }
    const char *arrow = after(p, "-> ");
    assert_non_null(arrow);
    const char *via = after(arrow, "via checkpoint ");
    v->via_checkpoint = via != NULL;
    v->checkpoint = via ? strtoll(via, NULL, 10) : -1;
    v->cp_eq_json = strstr(arrow, "cp==json") != NULL;
    if (*arrow == 'x') {
        v->state = 2;
        return;
    }
    v->files = strtoll(arrow, &end, 10);
    assert_true(*end == '/');
    end++;
    if (isdigit((unsigned char)*end)) {
        v->rows = strtoll(end, &end, 10);
        v->state = 0; /* 'f' after the number: counted from footers, known all the same */
    } else {
        v->state = 1; /* '?' */
    }
}

static texp *index_parse(const char *text, size_t *ntables)
{
    texp *tables = NULL;
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = sl_strndup(p, len);
        if (strncmp(line, "## ", 3) == 0) {
            tables = realloc(tables, (n + 1) * sizeof *tables);
            texp *t = &tables[n++];
            memset(t, 0, sizeof *t);
            t->reader_version = -1;
            snprintf(t->name, sizeof t->name, "%s", line + 3);
        } else if (n > 0) {
            texp *t = &tables[n - 1];
            const char *q;
            if ((q = after(line, "- EXPECT latest: ")) != NULL)
                parse_expect(t, q);
            else if (strncmp(line, "    - v", 7) == 0)
                parse_version(t, line);
            else if ((q = after(line, "- protocol (latest): ")) != NULL &&
                     isdigit((unsigned char)*q))
                t->reader_version = strtoll(q, NULL, 10);
        }
        free(line);
        p = nl ? nl + 1 : p + len;
    }
    *ntables = n;
    return tables;
}

/* ---- checks -------------------------------------------------------------- */

static const delta_commit_info *history_find(const delta_history *h, long long version)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].version == version)
            return &h->items[i];
    return NULL;
}

static int64_t dv_deleted(const delta_snapshot *s)
{
    int64_t n = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        n += s->files[i].dv_cardinality;
    return n;
}

static void check_history(store *st, const texp *t)
{
    delta_history h;
    sl_err err = {0};
    sl_code c = delta_history_load(st, "", 0, &h, &err);
    if (c != SL_OK)
        fail_msg("%s: history failed: %s %s", t->name, err_code_name(c), err.msg);
    if (h.latest_version != t->latest)
        fail_msg("%s: latest version %lld, INDEX says %lld", t->name,
                 (long long)h.latest_version, t->latest);
    for (size_t i = 1; i < h.n; i++)
        assert_true(h.items[i - 1].version > h.items[i].version); /* newest first */
    for (size_t i = 0; i < t->nv; i++) {
        const vexp *v = &t->v[i];
        const delta_commit_info *ci = history_find(&h, v->version);
        if (v->no_json) {
            if (ci)
                fail_msg("%s: v%lld has no JSON commit but appears in history", t->name,
                         v->version);
            continue;
        }
        if (!ci)
            fail_msg("%s: v%lld missing from history", t->name, v->version);
        if (v->no_commit_info) {
            if (ci->operation)
                fail_msg("%s: v%lld has no commitInfo, got operation %s", t->name,
                         v->version, ci->operation);
        } else if (!ci->operation || strcmp(ci->operation, v->op) != 0) {
            fail_msg("%s: v%lld operation '%s', INDEX says '%s'", t->name, v->version,
                     ci->operation ? ci->operation : "(null)", v->op);
        }
        if (v->mode[0]) {
            const char *mode =
                json_string_value(json_object_get(ci->operation_parameters, "mode"));
            if (!mode || strcmp(mode, v->mode) != 0)
                fail_msg("%s: v%lld mode '%s', INDEX says '%s'", t->name, v->version,
                         mode ? mode : "(null)", v->mode);
        }
        if (v->has_counts && ((long long)ci->num_add != v->adds ||
                              (long long)ci->num_remove != v->removes))
            fail_msg("%s: v%lld +%zu/-%zu, INDEX says +%lld/-%lld", t->name, v->version,
                     ci->num_add, ci->num_remove, v->adds, v->removes);
        if (v->has_counts && (!!ci->has_metadata != v->has_metadata ||
                              !!ci->has_protocol != v->has_protocol))
            fail_msg("%s: v%lld metaData/protocol presence differs from INDEX", t->name,
                     v->version);
    }
    json_t *j = delta_history_to_json(&h);
    assert_int_equal(json_array_size(j), h.n);
    json_decref(j);
    delta_history_free(&h);
}

/* A snapshot that must not produce numbers: returns the code. */
static sl_code snapshot_refused(store *st, const texp *t, const delta_at *at, sl_err *err)
{
    delta_snapshot *s = NULL;
    sl_code c = delta_snapshot_open(st, "", at, &s, err);
    if (c == SL_OK) {
        long long v = s->version;
        delta_snapshot_free(s);
        fail_msg("%s: snapshot of v%lld returned numbers where INDEX says it cannot",
                 t->name, v);
    }
    return c;
}

/* A copy without null members at any depth: a checkpoint cannot tell an
 * absent field from a null one, so both ways are compared without them. */
static json_t *strip_nulls(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!json_is_null(x))
                json_object_set_new(o, k, strip_nulls(x));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            json_array_append_new(a, strip_nulls(x));
        }
        return a;
    }
    return json_deep_copy(v);
}

static void same_json(const char *table, long long version, const char *what,
                      const json_t *a, const json_t *b)
{
    json_t *x = a ? strip_nulls(a) : NULL, *y = b ? strip_nulls(b) : NULL;
    if ((x || y) && !json_equal(x, y)) {
        char *ta = json_dumps(x, JSON_COMPACT), *tb = json_dumps(y, JSON_COMPACT);
        fail_msg(
            "%s: v%lld %s from the checkpoint differs from the JSON commits:\n%s\n%s",
            table, version, what, ta, tb);
    }
    json_decref(x);
    json_decref(y);
}

/* The checkpoint way and the JSON-only way give the same state: files (path,
 * deletion vector, size, rows, partition values, stats), rows, protocol,
 * metadata, app transactions and domains. Tombstones may differ (checkpoint
 * writers drop expired ones), so only the checkpoint's must be among the
 * JSON replay's. */
static void check_cp_equals_json(store *st, const texp *t, const delta_snapshot *cp,
                                 const delta_at *at)
{
    delta_snapshot *js = NULL;
    sl_err err = {0};
    sl_code c = delta_snapshot_open_ex(st, "", at, 0, &js, &err);
    if (c != SL_OK)
        fail_msg("%s: v%lld from JSON commits alone failed: %s %s", t->name,
                 (long long)cp->version, err_code_name(c), err.msg);
    assert_int_equal(js->checkpoint_version, -1);
    if (js->nfiles != cp->nfiles || js->num_rows != cp->num_rows ||
        js->size_bytes != cp->size_bytes)
        fail_msg("%s: v%lld checkpoint gives %zu files/%lld rows/%lld bytes, JSON gives "
                 "%zu/%lld/%lld",
                 t->name, (long long)cp->version, cp->nfiles, (long long)cp->num_rows,
                 (long long)cp->size_bytes, js->nfiles, (long long)js->num_rows,
                 (long long)js->size_bytes);
    for (size_t i = 0; i < cp->nfiles; i++) {
        const delta_file *a = &cp->files[i], *b = &js->files[i];
        if (strcmp(a->path, b->path) != 0 || a->size != b->size ||
            a->num_records != b->num_records || a->dv_cardinality != b->dv_cardinality ||
            (!a->dv_id) != (!b->dv_id) || (a->dv_id && strcmp(a->dv_id, b->dv_id) != 0))
            fail_msg("%s: v%lld file %zu differs: %s vs %s", t->name,
                     (long long)cp->version, i, a->path, b->path);
        json_t *ja = delta_file_add(a), *jb = delta_file_add(b);
        assert_non_null(ja);
        assert_non_null(jb);
        same_json(t->name, cp->version, "add.partitionValues",
                  json_object_get(ja, "partitionValues"),
                  json_object_get(jb, "partitionValues"));
        same_json(t->name, cp->version, "add.deletionVector",
                  json_object_get(ja, "deletionVector"),
                  json_object_get(jb, "deletionVector"));
        json_t *sa = json_object_get(ja, "stats");
        if (json_is_string(sa)) /* a checkpoint may keep only the typed stats */
            same_json(t->name, cp->version, "add.stats", sa,
                      json_object_get(jb, "stats"));
        json_decref(ja);
        json_decref(jb);
    }
    same_json(t->name, cp->version, "protocol", cp->protocol, js->protocol);
    same_json(t->name, cp->version, "metaData", cp->metadata, js->metadata);
    same_json(t->name, cp->version, "txns", cp->txns, js->txns);
    same_json(t->name, cp->version, "domains", cp->domains, js->domains);
    for (size_t i = 0; i < cp->ntombstones; i++) {
        int found = 0;
        for (size_t k = 0; k < js->ntombstones && !found; k++)
            found = strcmp(cp->tombstones[i].path, js->tombstones[k].path) == 0;
        if (!found)
            fail_msg("%s: v%lld tombstone %s is not in the JSON replay", t->name,
                     (long long)cp->version, cp->tombstones[i].path);
    }
    assert_int_equal(cp->timestamp_ms, js->timestamp_ms);
    delta_snapshot_free(js);
}

/* rows < 0: the INDEX says the count cannot be known (log-only, no stats). */
static void check_snapshot_ok(store *st, const texp *t, const delta_at *at,
                              long long version, long long files, long long rows,
                              const vexp *v)
{
    delta_snapshot *s = NULL;
    sl_err err = {0};
    sl_code c = delta_snapshot_open(st, "", at, &s, &err);
    if (c != SL_OK)
        fail_msg("%s: snapshot v%lld failed: %s %s", t->name, version, err_code_name(c),
                 err.msg);
    if (s->version != version || (long long)s->nfiles != files)
        fail_msg("%s: v%lld has %zu files at version %lld, INDEX says %lld", t->name,
                 version, s->nfiles, (long long)s->version, files);
    if (s->num_rows != (rows >= 0 ? rows : -1))
        fail_msg("%s: v%lld rows %lld, INDEX says %lld", t->name, version,
                 (long long)s->num_rows, rows);
    if (v && v->via_checkpoint && s->checkpoint_version != v->checkpoint)
        fail_msg("%s: v%lld built from checkpoint %lld, INDEX says via checkpoint %lld",
                 t->name, version, (long long)s->checkpoint_version, v->checkpoint);
    if (v && !v->via_checkpoint && s->checkpoint_version >= 0)
        fail_msg("%s: v%lld used checkpoint %lld, INDEX lists none at or below it",
                 t->name, version, (long long)s->checkpoint_version);
    if (v && v->cp_eq_json)
        check_cp_equals_json(st, t, s, at);
    json_t *j = delta_snapshot_to_json(s, t->name);
    assert_int_equal(json_integer_value(json_object_get(j, "num_files")),
                     (json_int_t)files);
    if (rows >= 0)
        assert_int_equal(json_integer_value(json_object_get(j, "num_rows")), rows);
    else
        assert_true(json_is_null(json_object_get(j, "num_rows")));
    json_decref(j);
    delta_snapshot_free(s);
}

/* Oldest version with a JSON commit. */
static long long first_json(const texp *t)
{
    for (size_t i = 0; i < t->nv; i++)
        if (!t->v[i].no_json)
            return t->v[i].version;
    return -1;
}

/* Every version line: time travel by version gives the INDEX's files and
 * rows, or fails with a gap / not-found code, never numbers. */
static size_t check_versions(store *st, const texp *t)
{
    size_t checked = 0;
    for (size_t i = 0; i < t->nv; i++) {
        const vexp *v = &t->v[i];
        delta_at at = {.kind = DELTA_AT_VERSION, .version = v->version};
        sl_err err = {0};
        if (v->state == 2) {
            /* Cleaned before every checkpoint: not found; a hole in the middle
             * (or a commit after one): a gap. */
            sl_code want = v->no_json && v->version < first_json(t)
                               ? SL_DELTA_VERSION_NOT_FOUND
                               : SL_DELTA_GAP;
            sl_code c = snapshot_refused(st, t, &at, &err);
            if (c != want)
                fail_msg("%s: v%lld gave %s (%s), expected %s", t->name, v->version,
                         err_code_name(c), err.msg, err_code_name(want));
        } else {
            check_snapshot_ok(st, t, &at, v->version, v->files,
                              v->state == 0 ? v->rows : -1, v);
        }
        checked++;
    }
    return checked;
}

static void check_table(const char *root, const texp *t)
{
    char *dir = sl_asprintf("%s/%s", root, t->name);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        fail_msg("%s: listed in INDEX.md but %s is missing", t->name, dir);
    assert_true(t->have_expect);
    assert_true(t->nv > 0);
    store *st = NULL;
    sl_err err = {0};
    assert_int_equal(store_open(dir, &st, &err), SL_OK);

    check_history(st, t);

    delta_at latest = {.kind = DELTA_AT_LATEST};
    const char *what;
    char detail[256];
    size_t versions = 0, via_cp = 0;
    for (size_t i = 0; i < t->nv; i++)
        via_cp += t->v[i].via_checkpoint;
    if (t->reader_version > 3) {
        sl_code c = snapshot_refused(st, t, &latest, &err);
        char num[32];
        snprintf(num, sizeof num, "%lld", t->reader_version);
        if (c != SL_DELTA_UNSUPPORTED_FEATURE || !strstr(err.msg, num))
            fail_msg("%s: expected SL-DELTA-UNSUPPORTED-FEATURE naming reader version "
                     "%s, got %s %s",
                     t->name, num, err_code_name(c), err.msg);
        what = "refused";
        snprintf(detail, sizeof detail, "reader version %lld -> %s", t->reader_version,
                 err_code_name(c));
    } else if (t->must_fail) {
        sl_code c = snapshot_refused(st, t, &latest, &err);
        char num[64];
        snprintf(num, sizeof num, "version %lld", t->missing);
        if (c != SL_DELTA_GAP || !strstr(err.msg, num))
            fail_msg("%s: expected SL-DELTA-GAP naming %s, got %s %s", t->name, num,
                     err_code_name(c), err.msg);
        versions = check_versions(st, t);
        what = "gap";
        snprintf(detail, sizeof detail, "latest v%lld -> SL-DELTA-GAP at %s", t->latest,
                 num);
    } else {
        const vexp *lv = NULL;
        for (size_t i = 0; i < t->nv; i++)
            if (t->v[i].version == t->latest)
                lv = &t->v[i];
        check_snapshot_ok(st, t, &latest, t->latest, t->files,
                          t->rows_known ? t->rows : -1, lv);
        if (t->have_dv) {
            delta_snapshot *s = NULL;
            assert_int_equal(delta_snapshot_open(st, "", &latest, &s, &err), SL_OK);
            if (dv_deleted(s) != t->dv_deleted)
                fail_msg("%s: DV-deleted rows %lld, INDEX says %lld", t->name,
                         (long long)dv_deleted(s), t->dv_deleted);
            delta_snapshot_free(s);
        }
        if (t->rows_footer) {
            delta_snapshot *s = NULL;
            assert_int_equal(delta_snapshot_open(st, "", &latest, &s, &err), SL_OK);
            assert_int_equal(s->rows_from_footers, s->nfiles);
            assert_int_equal(s->rows_unknown_files, 0);
            delta_snapshot_free(s);
        }
        versions = check_versions(st, t);
        what = via_cp ? "checkpoint" : "JSON-only";
        if (t->rows_known)
            snprintf(detail, sizeof detail, "latest v%lld, %lld files, %lld rows%s%s",
                     t->latest, t->files, t->rows,
                     t->rows_footer ? " (from footers)" : "",
                     t->have_dv ? " (DV-deleted matched)" : "");
        else
            snprintf(detail, sizeof detail,
                     "latest v%lld, %lld files, rows unknown (no stats, no data)",
                     t->latest, t->files);
    }
    printf("  %-48s %-10s %s; history of %zu versions; %zu version snapshots, %zu via "
           "checkpoint\n",
           t->name, what, detail, t->nv, versions, via_cp);
    store_close(st);
    free(dir);
}

static void test_delta_fixtures(void **state)
{
    (void)state;
    const char *fx = tu_fixtures_dir();
    if (!fx)
        return;
    char *root = sl_asprintf("%s/delta", fx);
    char *index_path = sl_asprintf("%s/INDEX.md", root);
    char *text = tu_read_file(index_path);
    if (!text)
        fail_msg("cannot read %s", index_path);
    size_t n = 0;
    texp *tables = index_parse(text, &n);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++)
        check_table(root, &tables[i]);
    printf("  %zu tables checked against %s\n", n, index_path);
    for (size_t i = 0; i < n; i++)
        free(tables[i].v);
    free(tables);
    free(text);
    free(index_path);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
