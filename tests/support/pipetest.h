#ifndef SLUICE_TESTS_PIPETEST_H
#define SLUICE_TESTS_PIPETEST_H
/* A generated world for pipeline tests: epoch folders of JSON-lines order
 * events (inserts, updates, deletes, exact duplicates, out-of-order updates,
 * malformed lines, unknown keys, rows failing expectations) and the
 * independent computation of what silver, gold and quarantine must hold. */

#include "testutil.h"

#include <stddef.h>
#include <stdint.h>

#include "backend/pipeline/pipeline_def.h"

typedef struct pt_order {
    char order_id[16];
    char customer_id[16];
    double amount;
    int amount_null;
    int qty;
    int64_t updated_s; /* unique per key: no ties to break */
    char op;           /* 'U' or 'D' */
} pt_order;

typedef struct pt_line {
    char folder[24];
    char file[64]; /* source key "1700000000/part-0.jsonl" */
    int64_t line;  /* 1-based */
    int kind; /* PT_VALID, PT_MALFORMED, PT_DROP (qty <= 0), PT_QUARANTINE (amount null)
               */
    pt_order o;
} pt_line;

enum { PT_VALID, PT_MALFORMED, PT_DROP, PT_QUARANTINE };

typedef struct pt_world {
    char *dir;      /* the world: sluice.json, pipelines/orders.json, incoming/, lake/ */
    char *source;   /* dir/incoming */
    char *lake;     /* dir/lake */
    char *config;   /* dir/sluice.json */
    pt_line *lines; /* every line written, in folder then file then line order */
    size_t nlines, cap;
    uint64_t rng;
} pt_world;

/* Creates the world with the orders pipeline (bronze orders_raw, silver
 * orders, gold orders_by_day; expectations qty>0 drop, amount not_null
 * quarantine, order_id not_null fail; rescue). extra_json: more pipeline
 * keys (e.g. "\"retries\": {...}"), or NULL. */
void pt_world_init(pt_world *w, const char *tag, uint64_t seed, const char *extra_json);
void pt_world_free(pt_world *w);
/* Writes one epoch folder (files x rows_per_file lines, with _SUCCESS). */
void pt_folder_write(pt_world *w, int64_t epoch, int files, int rows_per_file);
/* The loaded pipeline definition (free with pipeline_def_free). */
pipeline_def *pt_def(pt_world *w);

/* Expected silver: one row per live key, sorted by order_id, as canonical
 * text lines "order_id|customer_id|amount|qty|updated_s". */
char *pt_expected_silver(const pt_world *w);
/* Silver as the table holds it, same text. */
char *pt_actual_silver(const pt_world *w);
/* Expected gold "day|orders|revenue(2 decimals)" lines sorted by day. */
char *pt_expected_gold(const pt_world *w);
char *pt_actual_gold(const pt_world *w);
/* Expected quarantine "file|line" lines sorted; and the table's. */
char *pt_expected_quarantine(const pt_world *w);
char *pt_actual_quarantine(const pt_world *w);
/* Counts by kind. */
size_t pt_count(const pt_world *w, int kind);

#endif
