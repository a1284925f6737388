#ifndef SLUICE_PIPELINE_CONFIG_H
#define SLUICE_PIPELINE_CONFIG_H

#include <stddef.h>

#include "backend/util/err.h"

/* sluice.json. Unknown keys are errors naming the key. Relative locations
 * are resolved against the directory holding the file.
 * {
 *   "environment": "prod", "banner_color": "red",
 *   "source": "incoming/", "lake": "lake/",
 *   "tables": {"orders": "silver/orders", "raw": "/abs/or/file:///url"},
 *   "theme": "dark", "read_only": false, "protected": false,
 *   "pipelines": ["pipelines/orders.json"],
 *   "console": {"refresh_seconds": 10, "mouse": false,
 *               "keys": {"retry": "T", "skip": "S C-s"},
 *               "thresholds": {"cpu_pct": [75, 90], "lag_minutes": [60, 240]}}
 * }
 * "protected": true marks an environment where the console and the CLI are
 * read-only (as with read_only) unless a session explicitly asks to write. */
typedef struct config_table {
    char *name;
    char *url; /* resolved: local absolute path or URL */
} config_table;

/* A user key binding: the action's name and its space-separated key names
 * (they replace the action's defaults; checked against the action table by
 * the console, which owns it). */
typedef struct config_binding {
    char *action;
    char *keys;
} config_binding;

/* A health threshold: at or above warn the value shows as a warning, at or
 * above crit as an error. Metrics: cpu_pct, mem_pct, disk_pct, store_ms
 * (mean latency), store_errors (per 5 minutes), lag_minutes. */
typedef struct config_threshold {
    char *metric;
    double warn, crit;
} config_threshold;

typedef struct config_console {
    int refresh_seconds; /* automatic refresh of the views; default 10, 0: off */
    int mouse;           /* default 0 (off) */
    config_binding *keys;
    size_t nkeys;
    config_threshold *thresholds; /* only the ones set; see config_threshold_get */
    size_t nthresholds;
} config_console;

typedef struct config {
    char *path;         /* the file read */
    char *dir;          /* its directory */
    char *environment;  /* default "dev" */
    char *banner_color; /* red|yellow|green|blue|magenta|cyan|white; default: red for
                           prod, else blue */
    char *source_url;   /* resolved, may be NULL */
    char *lake_url;     /* resolved, may be NULL */
    config_table *tables;
    size_t ntables;
    char *theme; /* default "dark" */
    int read_only;
    int protected_env; /* "protected": true */
    config_console console;
    char **pipelines; /* resolved local paths of the pipeline files, in order */
    size_t npipelines;
} config;

typedef struct pipeline_def pipeline_def;

/* explicit_path: -c FILE, else $SLUICE_CONFIG, else ./sluice.json. */
sl_code config_load_default(const char *explicit_path, config **out, sl_err *err);
sl_code config_load(const char *path, config **out, sl_err *err);
sl_code config_parse(const char *text, const char *path, config **out, sl_err *err);
void config_free(config *cfg);

/* The thresholds of a health metric: the config's, else the defaults
 * (cpu_pct 75/90, mem_pct 80/95, disk_pct 80/90, store_ms 250/1000,
 * store_errors 1/10, lag_minutes 60/240). 0 when the metric is unknown. cfg
 * may be NULL. */
int config_threshold_get(const config *cfg, const char *metric, double *warn,
                         double *crit);
/* Parses the "console" block into out (config_console_parse) and frees it. */
sl_code config_console_parse(const void *json_console, const char *path,
                             config_console *out, sl_err *err);
void config_console_free(config_console *c);

/* A configured table name, else a path/URL taken as it is; resolved to a
 * URL of the table root. Caller frees. */
sl_code config_table_url(const config *cfg, const char *name_or_url, char **url_out,
                         sl_err *err);

/* A location as written in a config file, resolved: a URL or absolute path
 * stays as it is, anything else is joined to base (a directory or URL; when
 * NULL the location is returned unchanged). Caller frees. */
char *config_resolve_location(const char *base, const char *loc);

/* Reads the listed pipeline files and returns the one whose "name" is name
 * (relative URLs in it resolve against the config's directory; its lake
 * defaults to the config's). SL_PIPELINE_UNKNOWN names the pipelines there
 * are; SL_PIPELINE_INVALID when the file is broken or two files define the
 * name. Free with pipeline_def_free. */
sl_code config_pipeline_load(const config *cfg, const char *name, pipeline_def **out,
                             sl_err *err);
/* Every listed pipeline, in list order (*n of them); any broken file or
 * duplicate name fails the whole load. Free with config_pipelines_free. */
sl_code config_pipelines_load_all(const config *cfg, pipeline_def ***out, size_t *n,
                                  sl_err *err);
void config_pipelines_free(pipeline_def **defs, size_t n);

#endif
