/* commitInfo in the shape Spark's Delta writes, so Delta's own DESCRIBE
 * HISTORY shows our commits like any other, plus userMetadata that links a
 * version back to sluice's audit log. */

#include <stdio.h>
#include <stdlib.h>

#include "backend/delta/delta_write.h"
#include "version.h"

/* Spark writes every metric as a string ("numFiles":"1"). */
static json_t *metric_string(const json_t *v)
{
    if (json_is_string(v))
        return json_string(json_string_value(v));
    if (json_is_integer(v)) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
        return json_string(b);
    }
    if (json_is_true(v))
        return json_string("true");
    if (json_is_false(v))
        return json_string("false");
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    json_t *r = json_string(t ? t : "null");
    free(t);
    return r;
}

static const char *default_operator(void)
{
    const char *op = getenv("SLUICE_OPERATOR");
    if (op && *op)
        return op;
    op = getenv("USER");
    return op && *op ? op : "unknown";
}

json_t *delta_commit_info_build(const delta_commit_meta *m, int64_t timestamp_ms,
                                int64_t read_version, int is_blind_append,
                                const char *txn_id)
{
    json_t *ci = json_object();
    json_object_set_new(ci, "timestamp", json_integer(timestamp_ms));
    json_object_set_new(ci, "operation",
                        json_string(m->operation ? m->operation : "WRITE"));
    json_object_set_new(ci, "operationParameters",
                        json_is_object(m->operation_parameters)
                            ? json_deep_copy(m->operation_parameters)
                            : json_object());
    if (read_version >= 0)
        json_object_set_new(ci, "readVersion", json_integer(read_version));
    json_object_set_new(
        ci, "isolationLevel",
        json_string(m->isolation_level ? m->isolation_level : "Serializable"));
    json_object_set_new(ci, "isBlindAppend", json_boolean(is_blind_append));
    json_t *metrics = json_object();
    if (json_is_object(m->operation_metrics)) {
        const char *k;
        json_t *v;
        json_object_foreach(m->operation_metrics, k, v)
        {
            json_object_set_new(metrics, k, metric_string(v));
        }
    }
    json_object_set_new(ci, "operationMetrics", metrics);

    json_t *um = json_object();
    json_object_set_new(
        um, "operator",
        json_string(m->operator_name ? m->operator_name : default_operator()));
    if (m->run_id)
        json_object_set_new(um, "runId", json_string(m->run_id));
    if (m->audit_event_id)
        json_object_set_new(um, "auditEventId", json_string(m->audit_event_id));
    char *umtext = json_dumps(um, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(um);
    json_object_set_new(ci, "userMetadata", json_string(umtext ? umtext : "{}"));
    free(umtext);

    json_object_set_new(ci, "engineInfo", json_string("sluice/" SLUICE_VERSION));
    json_object_set_new(ci, "txnId", json_string(txn_id));
    return ci;
}
