#include "backend/delta/delta_paths.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (timestamp_ntz), or with utc set the
 * protocol's unambiguous ISO 8601 form "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
static char *format_ts(int64_t us, int utc)
{
    int64_t days =
        us >= 0 ? us / 86400000000LL : -((-us + 86399999999LL) / 86400000000LL);
    int64_t rem = us - days * 86400000000LL;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / 1000000, frac = rem % 1000000;
    char *base =
        sl_asprintf("%04" PRId64 "-%02u-%02u%c%02d:%02d:%02d", y, m, d, utc ? 'T' : ' ',
                    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (utc) {
        char *r = sl_asprintf("%s.%06dZ", base, (int)frac);
        free(base);
        return r;
    }
    if (!frac)
        return base;
    char *r = sl_asprintf("%s.%06d", base, (int)frac);
    free(base);
    return r;
}

/* Shortest text that reads back as the same double, with ".0" on integral
 * values as Java prints them. */
static char *format_double(double v)
{
    if (isnan(v))
        return sl_strdup("NaN");
    if (isinf(v))
        return sl_strdup(v > 0 ? "Infinity" : "-Infinity");
    char b[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    if (!strpbrk(b, ".eEn"))
        strcat(b, ".0");
    return sl_strdup(b);
}

sl_code delta_partition_text(const pq_schema_col *col, const pq_value *v, char **out,
                             sl_err *err)
{
    *out = NULL;
    if (v->is_null)
        return SL_OK;
    pq_type t = col->type;
    switch (pq_type_base(t)) {
    case PQ_TYPE_BOOLEAN:
        *out = sl_strdup(v->b ? "true" : "false");
        break;
    case PQ_TYPE_INT32:
        *out = sl_asprintf("%" PRId32, v->i32);
        break;
    case PQ_TYPE_INT64:
        *out = sl_asprintf("%" PRId64, v->i64);
        break;
    case PQ_TYPE_DOUBLE:
        *out = format_double(v->f64);
        break;
    case PQ_TYPE_FLOAT:
        *out = format_double((double)v->f32);
        break;
    case PQ_TYPE_STRING:
        /* Spark stores an empty partition string as null. */
        if (v->str.len > 0)
            *out = sl_strndup(v->str.ptr, v->str.len);
        break;
    case PQ_TYPE_DATE: {
        int64_t y;
        unsigned m, d;
        civil_from_days(v->i32, &y, &m, &d);
        *out = sl_asprintf("%04" PRId64 "-%02u-%02u", y, m, d);
        break;
    }
    case PQ_TYPE_TIMESTAMP_US:
        *out = format_ts(v->i64, 1);
        break;
    case PQ_TYPE_TIMESTAMP_NTZ:
        *out = format_ts(v->i64, 0);
        break;
    case PQ_TYPE_DECIMAL: {
        char b[48];
        pq_decimal_format(v->dec, pq_type_scale(t), b, sizeof b);
        *out = sl_strdup(b);
        break;
    }
    default:
        return err_set(err, SL_DELTA_SCHEMA,
                       "column '%s' cannot be a partition column (binary)", col->name);
    }
    return SL_OK;
}

void delta_dir_escape(sl_buf *b, const char *s, size_t n)
{
    static const char special[] = "\"#%'*/:=?\\{[]^";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || strchr(special, ch))
            buf_appendf(b, "%%%02X", ch);
        else
            buf_append_char(b, (char)ch);
    }
}

char *delta_path_uri(const char *s)
{
    static const char keep[] = "-_.!~*'(),;:$&+=@/";
    sl_buf b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p >= 0x80 || strchr(keep, *p))
            buf_append_char(&b, (char)*p);
        else
            buf_appendf(&b, "%%%02X", *p);
    }
    if (!b.data)
        buf_append_str(&b, "");
    return buf_steal(&b);
}

const char *delta_codec_suffix(const pq_writer_opts *opts)
{
    pq_compression c = opts ? opts->compression : PQ_COMPRESSION_DEFAULT;
    switch (c) {
    case PQ_COMPRESSION_DEFAULT:
    case PQ_COMPRESSION_SNAPPY:
        return ".snappy";
    case PQ_COMPRESSION_GZIP:
        return ".gz";
    case PQ_COMPRESSION_ZSTD:
        return ".zstd";
    case PQ_COMPRESSION_LZ4_RAW:
        return ".lz4raw";
    case PQ_COMPRESSION_BROTLI:
        return ".brotli";
    case PQ_COMPRESSION_NONE:
        return "";
    }
    return "";
}
