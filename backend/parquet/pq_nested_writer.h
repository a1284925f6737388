#ifndef SLUICE_PARQUET_PQ_NESTED_WRITER_H
#define SLUICE_PARQUET_PQ_NESTED_WRITER_H

/* Writes Parquet files with nested schemas (structs, 3-level LISTs and
 * MAPs) from already-shredded columns: the caller hands each leaf its
 * (definition level, repetition level, value) entries, row by row
 * (pq_shred.h does that for JSON rows). Pages, levels (RLE, rep then def),
 * dictionary or PLAIN, compression and statistics are those of the flat
 * writer (pq_column.c); a page never splits a record.
 *
 *   pq_wnode *root = pq_wnode_group("schema", PQ_REP_REQUIRED);
 *   pq_wnode_add(root, pq_wnode_leaf("id", PQ_TYPE_INT64, PQ_REP_REQUIRED));
 *   pq_wnode_add(root, pq_wnode_list("tags", PQ_REP_OPTIONAL,
 *                                    pq_wnode_leaf("element", PQ_TYPE_STRING,
 *                                                  PQ_REP_OPTIONAL)));
 *   pq_nwriter *w = pq_nwriter_new(root, NULL, &err);   // takes root
 *   pq_nwriter_leaf_put(w, leaf, def, rep, &value_or_NULL, &err); ...
 *   pq_nwriter_end_row(w, &err);
 *   pq_nwriter_finish(w, &file, &stats, &err);
 *   pq_nwriter_free(w); buf_free(&file); */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_meta.h"
#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

typedef enum pq_wnode_kind {
    PQ_WNODE_LEAF,
    PQ_WNODE_GROUP, /* a struct (the root too) */
    PQ_WNODE_LIST,  /* LIST: name (LIST) -> repeated group list -> element */
    PQ_WNODE_MAP,   /* MAP: name (MAP) -> repeated group key_value -> key, value */
} pq_wnode_kind;

/* A schema node to write. LIST and MAP nodes hold their repeated group as
 * their one child, as the file does. */
typedef struct pq_wnode {
    char *name;
    pq_wnode_kind kind;
    pq_repetition repetition;
    pq_type type; /* leaves */
    struct pq_wnode **children;
    size_t num_children;
} pq_wnode;

pq_wnode *pq_wnode_leaf(const char *name, pq_type type, pq_repetition rep);
pq_wnode *pq_wnode_group(const char *name, pq_repetition rep);
/* Adds child (taken) to a group; returns the child. */
pq_wnode *pq_wnode_add(pq_wnode *group, pq_wnode *child);
/* A 3-level list; element (taken) is renamed "element". */
pq_wnode *pq_wnode_list(const char *name, pq_repetition rep, pq_wnode *element);
/* A map with a required key leaf of key_type and value (taken, renamed
 * "value"). */
pq_wnode *pq_wnode_map(const char *name, pq_repetition rep, pq_type key_type,
                       pq_wnode *value);
void pq_wnode_free(pq_wnode *n);

/* A leaf column as the writer numbers them (depth-first order). */
typedef struct pq_nleaf_info {
    const pq_wnode *node;
    const char
        *path; /* dotted, from below the root: "add.partitionValues.key_value.key" */
    int max_def, max_rep;
} pq_nleaf_info;

typedef struct pq_nfile_stats {
    int64_t num_rows;
    int64_t file_size;
} pq_nfile_stats;

typedef struct pq_nwriter pq_nwriter;

/* Takes root (a REQUIRED group), also on failure. Fails with
 * SL-PARQUET-SCHEMA on a malformed tree (no leaves, empty or duplicate
 * sibling names, an unknown type, a LIST/MAP without its repeated group, a
 * REPEATED node outside them, levels deeper than 255) and
 * SL-PARQUET-UNSUPPORTED for a codec this build lacks. opts may be NULL. */
pq_nwriter *pq_nwriter_new(pq_wnode *root, const pq_writer_opts *opts, sl_err *err);
const pq_wnode *pq_nwriter_root(const pq_nwriter *w);
size_t pq_nwriter_num_leaves(const pq_nwriter *w);
const pq_nleaf_info *pq_nwriter_leaf(const pq_nwriter *w, size_t leaf);
/* The leaf with that dotted path, or -1. */
int pq_nwriter_leaf_index(const pq_nwriter *w, const char *path);

/* Whether an entry fits the leaf: levels in range, a value exactly when
 * def == max_def, and the value valid for the type (UTF-8 strings, decimals
 * within precision, sizes under 1 GiB). SL-PARQUET-VALUE otherwise. Does
 * not look at the row's order of entries. */
sl_code pq_nwriter_check(const pq_nwriter *w, size_t leaf, int def, int rep,
                         const pq_value *v, sl_err *err);
/* Appends one entry to the current row: the leaf's first entry of a row has
 * rep 0, later ones rep > 0. A refused entry (SL-PARQUET-VALUE) leaves the
 * writer unchanged; check every entry of a row first to keep rows whole. */
sl_code pq_nwriter_leaf_put(pq_nwriter *w, size_t leaf, int def, int rep,
                            const pq_value *v, sl_err *err);
/* pq_nwriter_leaf_put for an entry pq_nwriter_check has already accepted
 * (a caller that checks a whole row before putting any of it): the same
 * without checking it again. */
sl_code pq_nwriter_leaf_put_checked(pq_nwriter *w, size_t leaf, int def, int rep,
                                    const pq_value *v, sl_err *err);
/* (def 0, rep 0, null) as the row's entry of each leaf in [first, first+n):
 * the row does not hold their top-level field (a checkpoint row holds one
 * action of six). Refused (nothing put) when one of them is required. */
sl_code pq_nwriter_put_nulls(pq_nwriter *w, size_t first, size_t n, sl_err *err);
/* Closes the row: every leaf must have had an entry (else SL-PARQUET-VALUE
 * and the writer fails). May close a row group. */
sl_code pq_nwriter_end_row(pq_nwriter *w, sl_err *err);
int64_t pq_nwriter_num_rows(const pq_nwriter *w);

/* Closes the file: *file_out is replaced by it; stats_out may be NULL. */
sl_code pq_nwriter_finish(pq_nwriter *w, sl_buf *file_out, pq_nfile_stats *stats_out,
                          sl_err *err);
void pq_nwriter_free(pq_nwriter *w);

#endif
