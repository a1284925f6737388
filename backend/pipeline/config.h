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
 *   "theme": "dark", "read_only": false
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
} config;

/* explicit_path: -c FILE, else $SLUICE_CONFIG, else ./sluice.json. */
sl_code config_load_default(const char *explicit_path, config **out, sl_err *err);
sl_code config_load(const char *path, config **out, sl_err *err);
sl_code config_parse(const char *text, const char *path, config **out, sl_err *err);
void config_free(config *cfg);

/* A configured table name, else a path/URL taken as it is; resolved to a
 * URL of the table root. Caller frees. */
sl_code config_table_url(const config *cfg, const char *name_or_url, char **url_out,
                         sl_err *err);

#endif
