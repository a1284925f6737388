/* libFuzzer target for the Parquet reader: the input is a whole file read
 * from memory. On a successful open it prints the schema and metadata JSON,
 * decodes every column chunk of every row group, assembles rows (all
 * columns, then a projection) and frees everything. Any crash, leak,
 * sanitizer report or timeout is a bug in the reader; errors are the
 * expected outcome for most inputs.
 *
 * Work per input is capped so one input cannot take seconds: chunks and row
 * groups that claim more than FUZZ_MAX_VALUES entries are not decoded (the
 * reader accepts them; only the harness declines the cost), and row
 * assembly stops after FUZZ_MAX_ROWS rows. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "backend/parquet/pq_reader.h"

enum { FUZZ_MAX_VALUES = 1 << 16, FUZZ_MAX_ROWS = 10000, FUZZ_MAX_CELLS = 1 << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dump_json(json_t *j)
{
    if (!j)
        return;
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        abort(); /* every value the reader builds must print */
    free(text);
    json_decref(j);
}

/* True when decoding the row group stays inside the harness's budget. */
static bool row_group_affordable(const pq_file_info *info, size_t g)
{
    const pq_rowgroup_info *rg = &info->row_groups[g];
    if (rg->num_rows < 0 || rg->num_rows > FUZZ_MAX_VALUES)
        return false;
    uint64_t cells = 0;
    for (size_t k = 0; k < rg->num_chunks; k++) {
        int64_t n = rg->chunks[k].num_values;
        if (n < 0 || n > FUZZ_MAX_VALUES)
            return false;
        cells += (uint64_t)n;
    }
    return cells <= FUZZ_MAX_CELLS;
}

static void read_columns(pq_reader *r, const pq_file_info *info)
{
    for (size_t g = 0; g < info->num_row_groups; g++) {
        if (!row_group_affordable(info, g))
            continue;
        for (size_t k = 0; k < info->num_leaves; k++) {
            pq_column_data d;
            sl_err err = {0};
            if (pq_read_column(r, g, k, &d, &err) != SL_OK)
                continue;
            /* Every level must lie within the leaf's maxima. */
            for (size_t i = 0; d.def && i < d.num_levels; i++)
                if (d.def[i] < 0 || d.def[i] > d.leaf->max_def)
                    abort();
            for (size_t i = 0; d.rep && i < d.num_levels; i++)
                if (d.rep[i] < 0 || d.rep[i] > d.leaf->max_rep)
                    abort();
            if (d.num_values > d.num_levels && (d.def || d.rep))
                abort();
            pq_column_data_free(&d);
        }
    }
}

/* All columns (ncols 0), or the projection given. */
static void read_rows(pq_reader *r, const pq_file_info *info, const char *const *cols,
                      size_t ncols)
{
    for (size_t g = 0; g < info->num_row_groups; g++)
        if (!row_group_affordable(info, g))
            return;
    pq_rows *rows = NULL;
    sl_err err = {0};
    if (pq_rows_open(r, ncols ? cols : NULL, ncols, &rows, &err) != SL_OK)
        return;
    for (size_t n = 0; n < FUZZ_MAX_ROWS; n++) {
        json_t *row = NULL;
        if (pq_rows_next(rows, &row, &err) != SL_OK || !row)
            break;
        dump_json(row);
    }
    pq_rows_free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pq_source src;
    pq_source_memory(data, size, "fuzz.parquet", &src);
    pq_reader *r = NULL;
    sl_err err = {0};
    if (pq_reader_open(&src, &r, &err) != SL_OK)
        return 0;
    const pq_file_info *info = pq_reader_info(r);
    dump_json(pq_schema_to_json(r));
    dump_json(pq_meta_to_json(r));
    read_columns(r, info);
    read_rows(r, info, NULL, 0);
    /* A projection: the last leaf by its dotted path, and the first
     * top-level field by name (structure above a leaf is kept). */
    if (info->num_leaves > 0 && info->root->num_children > 0) {
        const char *cols[] = {info->leaves[info->num_leaves - 1]->path,
                              info->root->children[0]->name};
        read_rows(r, info, cols, 2);
    }
    pq_reader_close(r);
    return 0;
}
