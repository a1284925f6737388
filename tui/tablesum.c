#include "tui/tablesum.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/log.h"

static void protocol_text(const json_t *p, char *out, size_t outlen)
{
    json_int_t r = json_integer_value(json_object_get(p, "minReaderVersion"));
    json_int_t w = json_integer_value(json_object_get(p, "minWriterVersion"));
    int k = snprintf(out, outlen, "%lld/%lld", (long long)r, (long long)w);
    const json_t *features = json_object_get(p, "readerFeatures");
    size_t i;
    const json_t *f;
    int first = 1;
    json_array_foreach(features, i, f)
    {
        if (k < 0 || (size_t)k >= outlen)
            return;
        k += snprintf(out + k, outlen - (size_t)k, "%s%s", first ? " " : ",",
                      json_string_value(f) ? json_string_value(f) : "?");
        first = 0;
    }
}

void tablesum_load(const char *url, sl_log *log, table_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->rows = -1;
    store *s = NULL;
    sum->code = store_open(url, &s, &sum->err);
    if (sum->code != SL_OK)
        return;
    store_set_log(s, log);
    delta_at at = {DELTA_AT_LATEST, 0, 0};
    delta_snapshot *snap = NULL;
    sum->code = delta_snapshot_open(s, "", &at, &snap, &sum->err);
    if (sum->code == SL_OK) {
        sum->version = snap->version;
        sum->timestamp_ms = snap->timestamp_ms;
        sum->files = snap->nfiles;
        sum->rows = snap->num_rows;
        sum->bytes = (uint64_t)snap->size_bytes;
        protocol_text(snap->protocol, sum->protocol, sizeof sum->protocol);
        delta_snapshot_free(snap);
    }
    store_close(s);
}

/* Code points drawn as escapes: C0, DEL, C1, and the bidi embedding,
 * override and isolate controls (they reorder what follows them). */
static int must_escape(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f;
}

/* Decodes one UTF-8 sequence at p; returns its length, 0 when invalid. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
    size_t len = p[0] < 0x80             ? 1
                 : (p[0] & 0xe0) == 0xc0 ? 2
                 : (p[0] & 0xf0) == 0xe0 ? 3
                 : (p[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0)
        return 0;
    uint32_t v = len == 1 ? p[0] : p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

void tbl_escape(const char *in, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    while (*p) {
        char tmp[16];
        uint32_t cp = 0;
        size_t len = utf8_next(p, &cp);
        if (len == 0)
            snprintf(tmp, sizeof tmp, "\\x%02x", p[0]);
        else if (cp == '\n')
            snprintf(tmp, sizeof tmp, "\\n");
        else if (cp == '\t')
            snprintf(tmp, sizeof tmp, "\\t");
        else if (cp == '\r')
            snprintf(tmp, sizeof tmp, "\\r");
        else if (must_escape(cp))
            snprintf(tmp, sizeof tmp, cp < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
        else {
            memcpy(tmp, p, len);
            tmp[len] = '\0';
        }
        size_t n = strlen(tmp);
        if (o + n >= outlen)
            break; /* never a cut sequence */
        memcpy(out + o, tmp, n);
        o += n;
        p += len ? len : 1;
    }
    out[o] = '\0';
}
