/* One audit event as a JSON object (CLI --json, jsonl export, console). */
#include "audit/audit_internal.h"

#include <string.h>

#include "backend/util/buf.h"
#include "backend/util/text.h"
#include "backend/util/timeutil.h"

/* A JSON string for any bytes: a row edited outside sluice may hold invalid
 * UTF-8, which is shown with U+FFFD rather than dropped. */
static json_t *audit_json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    sl_buf b = {0};
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    while (p < end) {
        size_t n = text_utf8_seq_len(p, (size_t)(end - p));
        if (n) {
            buf_append(&b, p, n);
            p += n;
        } else {
            buf_append_str(&b, "\xEF\xBF\xBD");
            p++;
        }
    }
    v = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    return v;
}

/* Stored JSON columns are embedded as values; anything that does not parse
 * (or is not valid UTF-8 for jansson) is kept as a string, never lost. */
static json_t *audit_json_embed(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    if (v)
        return v;
    return audit_json_text(s);
}

json_t *audit_event_to_json(const audit_event *ev)
{
    char iso[40];
    time_format_iso(ev->ts_ms, iso, sizeof iso);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(ev->id));
    json_object_set_new(o, "ts_ms", json_integer(ev->ts_ms));
    json_object_set_new(o, "time", json_string(iso));
    json_object_set_new(o, "operator", audit_json_text(ev->operator_name));
    json_object_set_new(o, "host", audit_json_text(ev->host));
    json_object_set_new(o, "session_id", audit_json_text(ev->session_id));
    json_object_set_new(o, "action", audit_json_text(ev->action));
    json_object_set_new(o, "target", audit_json_text(ev->target));
    json_object_set_new(o, "params", audit_json_embed(ev->params));
    json_object_set_new(o, "reason", audit_json_text(ev->reason));
    json_object_set_new(o, "phase", audit_json_text(ev->phase));
    json_object_set_new(o, "before_state", audit_json_embed(ev->before_state));
    json_object_set_new(o, "after_state", audit_json_embed(ev->after_state));
    json_object_set_new(o, "error_code", audit_json_text(ev->error_code));
    json_object_set_new(o, "prev_hash", audit_json_text(ev->prev_hash));
    json_object_set_new(o, "hash", audit_json_text(ev->hash));
    return o;
}
