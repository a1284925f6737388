/* The demo lake: built by the demo's own pipeline through the real runner,
 * so the tables, the checkpoint and the runs table are what a production
 * lake would hold after the same deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/checkpoint.h"
#include "backend/pipeline/demo.h"
#include "backend/pipeline/discovery.h"
#include "backend/pipeline/runner.h"
#include "backend/util/buf.h"

/* The example pipeline, on the demo's folders. A small backoff: the
 * demo runs on a local disk, where nothing transient should happen. */
static const char pipeline_text[] =
    "{\n"
    "  \"name\": \"" DEMO_PIPELINE "\",\n"
    "  \"source\": {\"url\": \"incoming/\", \"layout\": \"epoch\", \"format\": "
    "\"jsonl\",\n"
    "             \"ready_marker\": \"_SUCCESS\", \"settle_seconds\": 60},\n"
    "  \"lake\": \"lake/\",\n"
    "  \"bronze\": {\"table\": \"orders_raw\", \"partition_by\": [\"_ingest_date\"],\n"
    "             \"schema\": {\"order_id\": \"string\", \"customer_id\": \"string\", "
    "\"amount\": \"double\",\n"
    "                        \"qty\": \"int\", \"updated_at\": \"timestamp\", \"op\": "
    "\"string\"},\n"
    "             \"on_schema_drift\": \"rescue\"},\n"
    "  \"silver\": {\"table\": \"orders\", \"keys\": [\"order_id\"], \"sequence_by\": "
    "\"updated_at\",\n"
    "             \"delete_when\": {\"column\": \"op\", \"equals\": \"D\"}},\n"
    "  \"gold\":   {\"table\": \"orders_by_day\", \"group_by\": [\"day\"], "
    "\"day_from\": \"updated_at\",\n"
    "             \"aggregates\": {\"orders\": \"count\", \"revenue\": "
    "\"sum(amount)\"}},\n"
    "  \"expectations\": [\n"
    "    {\"name\": \"amount_present\", \"column\": \"amount\", \"rule\": \"not_null\", "
    "\"on_fail\": \"quarantine\"},\n"
    "    {\"name\": \"qty_positive\", \"column\": \"qty\", \"rule\": \">0\", "
    "\"on_fail\": \"drop\"},\n"
    "    {\"name\": \"has_key\", \"column\": \"order_id\", \"rule\": \"not_null\", "
    "\"on_fail\": \"fail\"}],\n"
    "  \"checks\": {\"max_count_mismatch_pct\": 1.0},\n"
    "  \"retries\": {\"max_attempts\": 3, \"backoff_seconds\": 1},\n"
    "  \"optimize\": {\"every_runs\": 20, \"zorder_by\": [\"customer_id\"]},\n"
    "  \"vacuum\": {\"retain_hours\": 168, \"every_runs\": 50}\n"
    "}\n";

sl_code demo_pipeline_write(store *st, sl_err *err)
{
    return store_put(st, "pipelines/" DEMO_PIPELINE ".json", pipeline_text,
                     sizeof pipeline_text - 1, err);
}

/* The folder a stopped run left failed: the last one its report names. */
static const char *failed_in(const json_t *report)
{
    json_t *folders = json_object_get(report, "folders");
    size_t n = json_array_size(folders);
    json_t *last = n ? json_array_get(folders, n - 1) : NULL;
    const char *state = json_string_value(json_object_get(last, "state"));
    if (!state || strcmp(state, "failed") != 0)
        return NULL;
    return json_string_value(json_object_get(last, "folder"));
}

sl_code demo_pipeline_run(const pipeline_def *d, const demo_opts *opts,
                          size_t max_folders, json_t *runs, char **failed_folder_out,
                          sl_code *failed_code_out, sl_err *err)
{
    *failed_folder_out = NULL;
    *failed_code_out = SL_OK;
    runner_opts o = {
        .operator_name = opts->operator_name ? opts->operator_name : "demo",
        .audit_event_id = opts->audit_event_id,
        .max_folders = max_folders,
        .seed = (uint64_t)opts->now_ms,
    };
    runner_result r;
    sl_code c = runner_run(d, &o, &r, err);
    const char *failed = failed_in(r.report);
    json_t *row =
        json_pack("{s:s, s:I}", "run_id", r.run_id, "processed", (json_int_t)r.processed);
    if (c != SL_OK && r.failed && failed) {
        /* A folder failed for good: the incident the demo sets up. */
        json_object_set_new(row, "failed_folder", json_string(failed));
        json_object_set_new(row, "error_code", json_string(err_code_name(c)));
        *failed_folder_out = sl_strdup(failed);
        *failed_code_out = c;
        err_clear(err);
        c = SL_OK;
    }
    json_array_append_new(runs, row);
    runner_result_clear(&r);
    return c;
}

static size_t count_state(const pl_discovery *dsc, const char *state)
{
    size_t n = 0;
    for (size_t i = 0; i < dsc->n; i++)
        n += strcmp(dsc->folders[i].state, state) == 0;
    return n;
}

sl_code demo_pipeline_counts(const pipeline_def *d, int64_t now_ms, json_t *summary,
                             sl_err *err)
{
    store *lake = NULL, *src = NULL;
    ckpt_view v = {0};
    pl_discovery dsc = {0};
    pl_known *known = NULL;
    sl_code c = store_open(d->lake_url, &lake, err);
    if (c == SL_OK)
        c = store_open(d->source.url, &src, err);
    if (c == SL_OK)
        c = ckpt_load(lake, d->name, &v, err);
    if (c == SL_OK) {
        known = sl_calloc(v.n ? v.n : 1, sizeof *known);
        for (size_t i = 0; i < v.n; i++)
            known[i] = (pl_known){v.e[i].folder, v.e[i].state, v.e[i].batch_id, v.e[i].detail};
        pl_discover_opts o = {.now_ms = now_ms, .max_marker_reads = (size_t)-1};
        c = discover_epochs(src, d, known, v.n, &o, &dsc, err);
    }
    if (c == SL_OK) {
        json_object_set_new(summary, "processed",
                            json_integer((json_int_t)count_state(&dsc, "processed")));
        json_object_set_new(summary, "pending", json_integer((json_int_t)dsc.npending));
        json_object_set_new(summary, "waiting", json_integer((json_int_t)dsc.nwaiting));
    }
    pl_discovery_free(&dsc);
    free(known);
    ckpt_view_free(&v);
    store_close(src);
    store_close(lake);
    return c;
}
