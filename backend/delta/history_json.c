/* The stable `sluice history --json` shape (docs/cli.md): newest first,
 * timestamps as integer epoch milliseconds, null where unknown. */

#include "backend/delta/delta_internal.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *delta_history_to_json(const delta_history *h)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < h->n; i++) {
        const delta_commit_info *ci = &h->items[i];
        json_t *o = json_object();
        json_object_set_new(o, "version", json_integer(ci->version));
        json_object_set_new(o, "timestamp",
                            ci->timestamp_ms >= 0 ? json_integer(ci->timestamp_ms)
                                                  : json_null());
        json_object_set_new(o, "operation", str_or_null(ci->operation));
        json_object_set_new(o, "operation_parameters",
                            ci->operation_parameters
                                ? json_deep_copy(ci->operation_parameters)
                                : json_object());
        json_object_set_new(o, "operation_metrics",
                            ci->operation_metrics ? json_deep_copy(ci->operation_metrics)
                                                  : json_object());
        json_object_set_new(o, "num_add", json_integer((json_int_t)ci->num_add));
        json_object_set_new(o, "num_remove", json_integer((json_int_t)ci->num_remove));
        json_object_set_new(o, "user", str_or_null(ci->user));
        json_object_set_new(o, "engine", str_or_null(ci->engine));
        json_object_set_new(o, "read_version",
                            ci->read_version >= 0 ? json_integer(ci->read_version)
                                                  : json_null());
        json_object_set_new(o, "is_blind_append",
                            ci->is_blind_append < 0 ? json_null()
                                                    : json_boolean(ci->is_blind_append));
        json_array_append_new(arr, o);
    }
    return arr;
}
