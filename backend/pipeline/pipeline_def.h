#ifndef SLUICE_PIPELINE_PIPELINE_DEF_H
#define SLUICE_PIPELINE_PIPELINE_DEF_H
/* A pipeline definition (pipelines/NAME.json, listed in sluice.json's
 * "pipelines"): where deliveries land, the bronze/silver/gold tables, keys,
 * expectations, checks, retries and the optimize/vacuum cadence. Unknown
 * keys are errors naming the key; docs/pipelines.md describes every key. */
#include <stddef.h>
#include <stdint.h>

#include "backend/parquet/pq_writer.h"
#include "backend/util/err.h"

typedef enum pl_layout { PL_LAYOUT_EPOCH, PL_LAYOUT_FILES } pl_layout;
typedef enum pl_format { PL_FORMAT_JSONL, PL_FORMAT_CSV, PL_FORMAT_PARQUET } pl_format;
typedef enum pl_drift { PL_DRIFT_RESCUE, PL_DRIFT_EVOLVE, PL_DRIFT_FAIL } pl_drift;
typedef enum pl_on_fail { PL_FAIL_DROP, PL_FAIL_QUARANTINE, PL_FAIL_FAIL } pl_on_fail;
typedef enum pl_rule {
    PL_RULE_NOT_NULL, /* "not_null" */
    PL_RULE_GT,       /* ">N" */
    PL_RULE_GE,       /* ">=N" */
    PL_RULE_LT,       /* "<N" */
    PL_RULE_LE,       /* "<=N" */
    PL_RULE_EQ,       /* "==N" */
    PL_RULE_NE,       /* "!=N" */
    PL_RULE_IN,       /* "in:a,b,c" (strings) */
} pl_rule;
typedef enum pl_agg {
    PL_AGG_COUNT,
    PL_AGG_SUM,
    PL_AGG_MIN,
    PL_AGG_MAX,
    PL_AGG_AVG
} pl_agg;

typedef struct pl_expectation {
    char *name;
    char *column;
    pl_rule rule;
    double number;    /* the N of comparison rules */
    char **in_values; /* PL_RULE_IN */
    size_t nin_values;
    pl_on_fail on_fail; /* default quarantine */
} pl_expectation;

typedef struct pl_aggregate {
    char *name; /* output column: "revenue" */
    pl_agg fn;
    char *column; /* NULL for count */
} pl_aggregate;

typedef struct pipeline_def {
    char *name;
    char *path; /* the file it was read from */
    struct {
        char *url; /* resolved like sluice.json's locations */
        pl_layout layout;
        pl_format format;
        char *ready_marker;  /* NULL: none needed; default "_SUCCESS" for epoch */
        int64_t settle_ms;   /* default 0 */
        char *key_from_name; /* files layout: POSIX extended regex, group 1 = key */
    } source;
    char *lake_url; /* resolved; default: sluice.json's lake */
    struct {
        char *table;         /* name under the lake ("orders_raw") */
        pq_schema_col *cols; /* the declared columns, in file order (names owned) */
        size_t ncols;
        char **partition_by; /* may name _ingest_date (added column) */
        size_t npartition_by;
        pl_drift on_schema_drift; /* default rescue */
    } bronze;
    struct {
        char *table; /* NULL: no silver step */
        char **keys;
        size_t nkeys;
        char *sequence_by;   /* NULL: arrival order (batch, then line) */
        char *delete_column; /* NULL: no deletes */
        char *delete_equals; /* as text: a JSON string as is, an integer in
                              * decimal, a boolean as "true"/"false" */
    } silver;
    struct {
        char *table;     /* NULL: no gold step */
        char **group_by; /* may name "day" when day_from is set */
        size_t ngroup_by;
        char *day_from; /* a timestamp column of silver; gives the "day" column */
        pl_aggregate *aggregates;
        size_t naggregates;
    } gold;
    pl_expectation *expectations;
    size_t nexpectations;
    struct {
        double max_count_mismatch_pct; /* default 1.0 */
    } checks;
    struct {
        int max_attempts;   /* default 3 */
        int64_t backoff_ms; /* default 5000: the first wait; doubles, with jitter */
    } retries;
    struct {
        int every_runs; /* 0: never */
        char **zorder_by;
        size_t nzorder_by;
    } optimize;
    struct {
        double retain_hours; /* default 168 */
        int every_runs;      /* 0: never */
    } vacuum;
    struct {
        int64_t every_ms; /* "schedule": {"every_minutes": N}; 0: not scheduled */
    } schedule;
} pipeline_def;

/* Parses text (the file at path; relative URLs resolve against base_dir,
 * default lake: default_lake_url, may be NULL). SL_PIPELINE_INVALID names
 * the file and the key (or line and column for bad JSON). Types: "string",
 * "int", "long", "double", "float", "boolean", "date", "timestamp",
 * "decimal(P,S)". */
sl_code pipeline_def_parse(const char *text, const char *path, const char *base_dir,
                           const char *default_lake_url, pipeline_def **out, sl_err *err);
sl_code pipeline_def_load(const char *path, const char *base_dir,
                          const char *default_lake_url, pipeline_def **out, sl_err *err);
void pipeline_def_free(pipeline_def *d);

/* 1 when name is a valid pipeline name: [A-Za-z0-9_-]+, at most 128 bytes. */
int pipeline_name_ok(const char *name);

/* Index of a bronze column by name, or -1. */
int pipeline_def_col(const pipeline_def *d, const char *name);

/* Locations under the lake (caller frees): the table's URL ("<lake>/<name>").
 * System tables: "_sluice/processed_folders", "_sluice/runs",
 * "_sluice/source_files", "_sluice/tombstones/<silver>", the lock
 * "_sluice/locks/<pipeline>.<generation>" (lease.h) and "<bronze>_quarantine". */
char *pipeline_table_url(const pipeline_def *d, const char *name);

/* The appId of a step's txn actions: "sluice:<pipeline>:<step>". Caller frees. */
char *pipeline_app_id(const pipeline_def *d, const char *step);

#endif
