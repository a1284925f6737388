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
 *   "theme": "dark", "read_only": false,
 *   "pipelines": ["pipelines/orders.json"]
 * } */
typedef struct config_table {
    char *name;
    char *url; /* resolved: local absolute path or URL */
} config_table;

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
    char **pipelines; /* resolved local paths of the pipeline files, in order */
    size_t npipelines;
} config;

typedef struct pipeline_def pipeline_def;

/* explicit_path: -c FILE, else $SLUICE_CONFIG, else ./sluice.json. */
sl_code config_load_default(const char *explicit_path, config **out, sl_err *err);
sl_code config_load(const char *path, config **out, sl_err *err);
sl_code config_parse(const char *text, const char *path, config **out, sl_err *err);
void config_free(config *cfg);

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
