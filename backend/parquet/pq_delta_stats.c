/* Delta add.stats from the writer's statistics, with Spark's string bounds:
 * lengths count UTF-16 units (as Java strings do), a minimum is a prefix, a
 * maximum is a prefix plus a tie-breaker (DEL, or U+10FFFF) that keeps it
 * above every value it stands for. */
#include <stdlib.h>
#include <string.h>

#include "backend/parquet/pq_column.h"

/* Decodes one well-formed UTF-8 scalar at s[*pos]; -1 when malformed. */
static long utf8_next(const unsigned char *s, size_t len, size_t *pos)
{
    size_t i = *pos;
    unsigned c = s[i];
    int n;
    long cp, min;
    if (c < 0x80) {
        *pos = i + 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - i <= (size_t)n)
        return -1;
    for (int k = 1; k <= n; k++) {
        unsigned cc = s[i + (size_t)k];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *pos = i + (size_t)n + 1;
    return cp;
}

static size_t utf16_units(long cp)
{
    return cp >= 0x10000 ? 2 : 1;
}

/* Total UTF-16 length of s, or (size_t)-1 when s is not valid UTF-8. */
static size_t utf16_length(const char *s, size_t len)
{
    size_t pos = 0, units = 0;
    while (pos < len) {
        long cp = utf8_next((const unsigned char *)s, len, &pos);
        if (cp < 0)
            return (size_t)-1;
        units += utf16_units(cp);
    }
    return units;
}

/* Byte length of the shortest prefix holding prefix_len units; a character
 * that straddles the limit is kept whole. *units_out gets its unit count. */
static size_t prefix_bytes(const char *s, size_t len, size_t prefix_len,
                           size_t *units_out)
{
    size_t pos = 0, units = 0;
    while (pos < len && units < prefix_len) {
        long cp = utf8_next((const unsigned char *)s, len, &pos);
        units += utf16_units(cp);
    }
    *units_out = units;
    return pos;
}

static char *dup_bytes(const char *s, size_t n, const char *tail, size_t tail_len,
                       size_t *out_len)
{
    char *r = sl_calloc(n + tail_len + 1, 1);
    if (n)
        memcpy(r, s, n);
    if (tail_len)
        memcpy(r + n, tail, tail_len);
    *out_len = n + tail_len;
    return r;
}

char *pq_delta_string_min(const char *s, size_t len, size_t prefix_len, size_t *out_len)
{
    size_t total = utf16_length(s, len);
    if (total == (size_t)-1)
        return NULL;
    if (total <= prefix_len)
        return dup_bytes(s, len, NULL, 0, out_len);
    if (prefix_len == 0)
        return NULL;
    size_t units;
    size_t n = prefix_bytes(s, len, prefix_len, &units);
    return dup_bytes(s, n, NULL, 0, out_len);
}

char *pq_delta_string_max(const char *s, size_t len, size_t prefix_len, size_t *out_len)
{
    static const char max_char[] = "\xF4\x8F\xBF\xBF"; /* U+10FFFF */
    size_t total = utf16_length(s, len);
    if (total == (size_t)-1)
        return NULL;
    if (total <= prefix_len)
        return dup_bytes(s, len, NULL, 0, out_len);
    if (prefix_len == 0)
        return NULL;
    size_t units;
    size_t pos = prefix_bytes(s, len, prefix_len, &units);
    /* The tie-breaker must exceed the first character cut off; U+10FFFF
     * cannot be exceeded, so such characters are kept and the search goes
     * on, up to twice the prefix. */
    while (units <= 2 * prefix_len) {
        if (pos >= len)
            return dup_bytes(s, len, NULL, 0, out_len);
        size_t next = pos;
        long cp = utf8_next((const unsigned char *)s, len, &next);
        if (cp == 0x10FFFF) {
            pos = next;
            units += 2;
        } else if (cp < 0x7F) {
            return dup_bytes(s, pos, "\x7F", 1, out_len);
        } else {
            return dup_bytes(s, pos, max_char, 4, out_len);
        }
    }
    return NULL;
}

json_t *pq_delta_stats_build(const pq_column *cols, size_t ncols, int64_t num_rows)
{
    json_t *mins = json_object(), *maxs = json_object(), *nulls = json_object();
    for (size_t i = 0; i < ncols; i++) {
        const pq_column *c = &cols[i];
        const pq_col_stats *fs = &c->file_stats;
        json_object_set_new(nulls, c->name, json_integer(fs->null_count));
        if (!fs->has_min_max)
            continue;
        /* Each bound is independent: a missing one only means "unknown". */
        json_t *lo = c->t->stat_json(&fs->min, false);
        json_t *hi = c->t->stat_json(&fs->max, true);
        if (lo)
            json_object_set_new(mins, c->name, lo);
        if (hi)
            json_object_set_new(maxs, c->name, hi);
    }
    json_t *stats = json_object();
    json_object_set_new(stats, "numRecords", json_integer(num_rows));
    json_object_set_new(stats, "minValues", mins);
    json_object_set_new(stats, "maxValues", maxs);
    json_object_set_new(stats, "nullCount", nulls);
    return stats;
}
