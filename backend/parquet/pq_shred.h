#ifndef SLUICE_PARQUET_PQ_SHRED_H
#define SLUICE_PARQUET_PQ_SHRED_H

/* Dremel striping of JSON rows into a nested writer: each row (an object)
 * becomes (definition, repetition, value) entries for every leaf of the
 * writer's schema. Structs are objects, LISTs arrays, MAPs objects
 * ({"k": v}) or arrays of {"key": k, "value": v}; a missing member or JSON
 * null is a null. A null or empty list or map stays distinct: null at the
 * list's own level, empty one level deeper.
 *
 * Leaf values: BOOLEAN true/false; INT32/INT64 integers in range; FLOAT and
 * DOUBLE numbers or "NaN"/"Infinity"/"-Infinity"; STRING and BINARY
 * strings (embedded NULs kept); DATE integer days or "YYYY-MM-DD";
 * TIMESTAMP integer microseconds or ISO 8601 text; DECIMAL decimal text or
 * an integer. These are the forms pq_rows_* reads back, so rows round-trip.
 *
 *   pq_shredder *s = pq_shred_new(w, true);
 *   pq_shred_row(s, row, &err);   // once per row; the writer gets the row
 *   pq_shred_free(s);
 *
 * Rows may also come as JSON text (pq_shred_row_text, pq_shred_member_text):
 * the text is read straight onto the shredder's reusable tape, never into a
 * tree, and gives the entries json_loads + pq_shred_row would (the last of
 * a repeated key wins; \u0000, integers beyond int64 and malformed text are
 * refused with SL-PARQUET-VALUE). Bytes of strings are not checked for
 * UTF-8 here: pq_nwriter_check does that for every STRING value. */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "backend/parquet/pq_nested_writer.h"
#include "backend/util/err.h"

typedef struct pq_shredder pq_shredder;

/* w is borrowed. strict: an object member the schema does not have is an
 * error; otherwise it is skipped. */
pq_shredder *pq_shred_new(pq_nwriter *w, bool strict);
/* Writes row as one row. A row that does not fit the schema is refused
 * with SL-PARQUET-VALUE naming the field and leaves the writer unchanged. */
sl_code pq_shred_row(pq_shredder *s, const json_t *row, sl_err *err);
/* pq_shred_row for the JSON text of a row (an object); text need not be
 * NUL-terminated. */
sl_code pq_shred_row_text(pq_shredder *s, const char *text, size_t n, sl_err *err);

/* A member to set on a body: name and the JSON text of its value. */
typedef struct pq_shred_set {
    const char *name;
    const char *json;
} pq_shred_set;

/* pq_shred_row for the row {name: body}, body the JSON text of an object,
 * with each member of set[0..nset) put in (replacing one of that name):
 * the shape of a row holding one action or record, without building it. */
sl_code pq_shred_member_text(pq_shredder *s, const char *name, const char *body, size_t n,
                             const pq_shred_set *set, size_t nset, sl_err *err);
void pq_shred_free(pq_shredder *s);

#endif
