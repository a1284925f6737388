/* Row counts for data files whose add action carries no stats (old Spark and
 * delta-rs writers): the Parquet footer's FileMetaData.num_rows is exact and
 * costs one or two range reads per file. A file that is missing or not
 * readable keeps its count unknown, and so does the snapshot's total: a
 * number is never guessed. */

#include <stdlib.h>
#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"
#include "backend/util/text.h"

char *delta_path_decode(const char *p)
{
    size_t n = strlen(p);
    char *out = sl_calloc(n + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            out[o++] = p[i];
            continue;
        }
        int hi = i + 2 < n ? text_hex_value((unsigned char)p[i + 1]) : -1;
        int lo = i + 2 < n ? text_hex_value((unsigned char)p[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

char *delta_uri_to_key(store *s, const char *uri)
{
    const char *root = store_url(s);
    if (!root || !*root)
        return NULL;
    /* Spark writes "file:/abs/path"; stores normalise to "file:///abs/path". */
    char *norm = NULL;
    if (strncmp(uri, "file:/", 6) == 0 && strncmp(uri, "file://", 7) != 0)
        norm = sl_asprintf("file://%s", uri + 5);
    else if (uri[0] == '/')
        norm = sl_asprintf("file://%s", uri);
    else
        norm = sl_strdup(uri);
    size_t rl = strlen(root);
    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    char *key = NULL;
    if (strncmp(norm, root, rl) == 0 && norm[rl] == '/' && norm[rl + 1] &&
        !strstr(norm + rl, "/../"))
        key = sl_strdup(norm + rl + 1);
    free(norm);
    return key;
}

char *delta_data_file_key(store *s, const char *table_key, const char *path)
{
    char *dec = delta_path_decode(path);
    if (!dec || !*dec) {
        free(dec);
        return NULL;
    }
    char *key;
    if (strstr(dec, "://") || strncmp(dec, "file:", 5) == 0 || dec[0] == '/') {
        key = delta_uri_to_key(s, dec);
    } else {
        size_t tl = table_key ? strlen(table_key) : 0;
        while (tl > 0 && table_key[tl - 1] == '/')
            tl--;
        key = tl ? sl_asprintf("%.*s/%s", (int)tl, table_key, dec) : sl_strdup(dec);
    }
    free(dec);
    return key;
}

/* num_rows of one data file's footer; -1 when it cannot be read. */
static int64_t footer_num_rows(store *s, const char *key)
{
    sl_err e = {0};
    pq_source src;
    if (pq_source_store(s, key, &src, &e) != SL_OK)
        return -1;
    pq_reader *pr = NULL;
    if (pq_reader_open(&src, &pr, &e) != SL_OK)
        return -1;
    int64_t n = pq_reader_info(pr)->num_rows;
    pq_reader_close(pr);
    return n >= 0 ? n : -1;
}

void delta_footer_rows_fill(store *s, const char *table_key, delta_snapshot *snap)
{
    snap->rows_from_footers = 0;
    snap->rows_unknown_files = 0;
    int64_t rows = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        delta_file *f = &snap->files[i];
        if (f->num_records < 0) {
            char *key = delta_data_file_key(s, table_key, f->path);
            int64_t n = key ? footer_num_rows(s, key) : -1;
            free(key);
            if (n >= 0) {
                f->num_records = n;
                snap->rows_from_footers++;
            } else {
                snap->rows_unknown_files++;
            }
        }
        if (f->num_records >= 0)
            rows += f->num_records - f->dv_cardinality;
    }
    snap->num_rows = snap->rows_unknown_files ? -1 : rows;
}
