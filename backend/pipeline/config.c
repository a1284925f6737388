#include "backend/pipeline/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/pipeline/pipeline_def.h"
#include "backend/util/buf.h"
#include "backend/util/paths.h"

static const char *const config_keys[] = {
    "environment", "banner_color", "source",    "lake",    "tables", "theme",
    "read_only",   "pipelines",    "protected", "console", NULL};
static const char *const banner_colors[] = {"red",     "yellow", "green", "blue",
                                            "magenta", "cyan",   "white", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static int is_url(const char *s)
{
    return strstr(s, "://") != NULL;
}

/* Relative locations are relative to the config file, so a config works
 * from any working directory. */
char *config_resolve_location(const char *base, const char *loc)
{
    if (is_url(loc) || loc[0] == '/' || !base)
        return sl_strdup(loc);
    return paths_join(base, loc);
}

static char *resolve_location(const config *cfg, const char *base_url, const char *loc)
{
    return config_resolve_location(base_url ? base_url : cfg->dir, loc);
}

static sl_code get_string(json_t *root, const char *key, const char *path, char **out,
                          sl_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return SL_OK;
    if (!json_is_string(v))
        return err_set(err, SL_CONFIG_INVALID, "%s: \"%s\" must be a string", path, key);
    *out = sl_strdup(json_string_value(v));
    return SL_OK;
}

/* "pipelines": local paths of pipeline files; they are read when a
 * pipeline is needed, so a command that never runs one never pays for it. */
static sl_code parse_pipelines(config *cfg, json_t *list, sl_err *err)
{
    if (!list || json_is_null(list))
        return SL_OK;
    if (!json_is_array(list))
        return err_set(err, SL_CONFIG_INVALID,
                       "%s: \"pipelines\" must be an array of pipeline file paths",
                       cfg->path);
    cfg->pipelines = sl_calloc(json_array_size(list) + 1, sizeof *cfg->pipelines);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (!s || !*s)
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: pipelines[%zu] must be a file path (a string)", cfg->path,
                           i);
        if (is_url(s))
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: pipelines[%zu] is \"%s\"; pipeline files are local "
                           "paths, not URLs",
                           cfg->path, i, s);
        char *p = resolve_location(cfg, NULL, s);
        for (size_t j = 0; j < cfg->npipelines; j++)
            if (strcmp(cfg->pipelines[j], p) == 0) {
                free(p);
                return err_set(err, SL_CONFIG_INVALID,
                               "%s: pipelines[%zu] lists \"%s\" a second time", cfg->path,
                               i, s);
            }
        cfg->pipelines[cfg->npipelines++] = p;
    }
    return SL_OK;
}

sl_code config_parse(const char *text, const char *path, config **out, sl_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(err, SL_CONFIG_INVALID, "%s:%d:%d: %s", path, jerr.line,
                       jerr.column, jerr.text);
    sl_code c = SL_OK;
    config *cfg = sl_calloc(1, sizeof *cfg);
    cfg->path = sl_strdup(path);
    const char *slash = strrchr(path, '/');
    if (slash)
        cfg->dir = sl_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    else {
        char cwd[4096];
        cfg->dir = sl_strdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
    }
    if (!json_is_object(root)) {
        c = err_set(err, SL_CONFIG_INVALID, "%s: the top level must be an object", path);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (!in_list(config_keys, key)) {
            c = err_set(err, SL_CONFIG_INVALID, "%s: unknown key \"%s\"", path, key);
            goto done;
        }
    }
    char *source = NULL, *lake = NULL;
    if ((c = get_string(root, "environment", path, &cfg->environment, err)) ||
        (c = get_string(root, "banner_color", path, &cfg->banner_color, err)) ||
        (c = get_string(root, "theme", path, &cfg->theme, err)) ||
        (c = get_string(root, "source", path, &source, err)) ||
        (c = get_string(root, "lake", path, &lake, err))) {
        free(source);
        free(lake);
        goto done;
    }
    if (source)
        cfg->source_url = resolve_location(cfg, NULL, source);
    if (lake)
        cfg->lake_url = resolve_location(cfg, NULL, lake);
    free(source);
    free(lake);
    if (!cfg->environment)
        cfg->environment = sl_strdup("dev");
    if (!cfg->theme)
        cfg->theme = sl_strdup("dark");
    if (!cfg->banner_color)
        cfg->banner_color =
            sl_strdup(strcmp(cfg->environment, "prod") == 0 ? "red" : "blue");
    if (!in_list(banner_colors, cfg->banner_color)) {
        c = err_set(
            err, SL_CONFIG_INVALID,
            "%s: \"banner_color\" is \"%s\"; use red, yellow, green, blue, magenta, "
            "cyan or white",
            path, cfg->banner_color);
        goto done;
    }
    json_t *ro = json_object_get(root, "read_only");
    if (ro && !json_is_boolean(ro)) {
        c = err_set(err, SL_CONFIG_INVALID, "%s: \"read_only\" must be true or false",
                    path);
        goto done;
    }
    cfg->read_only = ro ? json_is_true(ro) : 0;
    json_t *prot = json_object_get(root, "protected");
    if (prot && !json_is_boolean(prot)) {
        c = err_set(err, SL_CONFIG_INVALID, "%s: \"protected\" must be true or false",
                    path);
        goto done;
    }
    cfg->protected_env = prot ? json_is_true(prot) : 0;
    if ((c = config_console_parse(json_object_get(root, "console"), path, &cfg->console,
                                  err)) != SL_OK)
        goto done;
    json_t *tables = json_object_get(root, "tables");
    if (tables && !json_is_object(tables)) {
        c = err_set(err, SL_CONFIG_INVALID,
                    "%s: \"tables\" must be an object of name -> location", path);
        goto done;
    }
    if (tables) {
        cfg->tables = sl_calloc(json_object_size(tables), sizeof *cfg->tables);
        json_object_foreach(tables, key, val)
        {
            if (!json_is_string(val) || !*json_string_value(val)) {
                c = err_set(err, SL_CONFIG_INVALID,
                            "%s: table \"%s\" must name a location (a string)", path,
                            key);
                goto done;
            }
            config_table *t = &cfg->tables[cfg->ntables++];
            t->name = sl_strdup(key);
            t->url = resolve_location(cfg, cfg->lake_url, json_string_value(val));
        }
    }
    c = parse_pipelines(cfg, json_object_get(root, "pipelines"), err);
done:
    json_decref(root);
    if (c != SL_OK) {
        config_free(cfg);
        return c;
    }
    *out = cfg;
    return SL_OK;
}

sl_code config_load(const char *path, config **out, sl_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return err_set(err, SL_CONFIG_NOT_FOUND, "no config at %s", path);
        return err_set(err, SL_CONFIG_INVALID, "cannot read %s: %s", path,
                       strerror(errno));
    }
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    char *abs = realpath(path, NULL);
    sl_code c = config_parse(b.data ? b.data : "", abs ? abs : path, out, err);
    free(abs);
    buf_free(&b);
    return c;
}

sl_code config_load_default(const char *explicit_path, config **out, sl_err *err)
{
    if (explicit_path && *explicit_path)
        return config_load(explicit_path, out, err);
    const char *env = getenv("SLUICE_CONFIG");
    if (env && *env)
        return config_load(env, out, err);
    if (access("sluice.json", F_OK) == 0)
        return config_load("sluice.json", out, err);
    return err_set(
        err, SL_CONFIG_NOT_FOUND,
        "no sluice.json in the current directory, no -c FILE, no $SLUICE_CONFIG");
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->ntables; i++) {
        free(cfg->tables[i].name);
        free(cfg->tables[i].url);
    }
    free(cfg->tables);
    for (size_t i = 0; i < cfg->npipelines; i++)
        free(cfg->pipelines[i]);
    free(cfg->pipelines);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->environment);
    free(cfg->banner_color);
    free(cfg->source_url);
    free(cfg->lake_url);
    free(cfg->theme);
    config_console_free(&cfg->console);
    free(cfg);
}

sl_code config_table_url(const config *cfg, const char *name_or_url, char **url_out,
                         sl_err *err)
{
    if (cfg)
        for (size_t i = 0; i < cfg->ntables; i++)
            if (strcmp(cfg->tables[i].name, name_or_url) == 0) {
                *url_out = sl_strdup(cfg->tables[i].url);
                return SL_OK;
            }
    if (is_url(name_or_url) || strchr(name_or_url, '/') ||
        access(name_or_url, F_OK) == 0) {
        *url_out = sl_strdup(name_or_url);
        return SL_OK;
    }
    return err_set(err, SL_TABLE_UNKNOWN, "no table named \"%s\" in %s", name_or_url,
                   cfg ? cfg->path : "the config (none loaded)");
}

/* ---- pipelines --------------------------------------------------------- */

void config_pipelines_free(pipeline_def **defs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pipeline_def_free(defs[i]);
    free(defs);
}

static pipeline_def *find_def(pipeline_def **defs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (defs[i] && strcmp(defs[i]->name, name) == 0)
            return defs[i];
    return NULL;
}

/* Reads every listed file; broken files leave a NULL slot and the first
 * error in *first_err (code returned through *first_code). */
static pipeline_def **load_listed(const config *cfg, sl_code *first_code,
                                  sl_err *first_err)
{
    pipeline_def **defs = sl_calloc(cfg->npipelines + 1, sizeof *defs);
    *first_code = SL_OK;
    for (size_t i = 0; i < cfg->npipelines; i++) {
        sl_err e = {0};
        sl_code c =
            pipeline_def_load(cfg->pipelines[i], cfg->dir, cfg->lake_url, &defs[i], &e);
        if (c != SL_OK && *first_code == SL_OK) {
            *first_code = c;
            if (first_err)
                *first_err = e;
        }
    }
    return defs;
}

/* Two files defining one name would make "run orders" ambiguous. */
static sl_code check_unique(const config *cfg, pipeline_def **defs, const char *only,
                            sl_err *err)
{
    for (size_t i = 0; i < cfg->npipelines; i++)
        for (size_t j = i + 1; defs[i] && j < cfg->npipelines; j++)
            if (defs[j] && strcmp(defs[i]->name, defs[j]->name) == 0 &&
                (!only || strcmp(only, defs[i]->name) == 0))
                return err_set(err, SL_PIPELINE_INVALID,
                               "%s: pipeline \"%s\" is defined twice, in %s and %s",
                               cfg->path, defs[i]->name, cfg->pipelines[i],
                               cfg->pipelines[j]);
    return SL_OK;
}

sl_code config_pipelines_load_all(const config *cfg, pipeline_def ***out, size_t *n,
                                  sl_err *err)
{
    *out = NULL;
    *n = 0;
    sl_code c;
    pipeline_def **defs = load_listed(cfg, &c, err);
    if (c == SL_OK)
        c = check_unique(cfg, defs, NULL, err);
    if (c != SL_OK) {
        config_pipelines_free(defs, cfg->npipelines);
        return c;
    }
    *out = defs;
    *n = cfg->npipelines;
    return SL_OK;
}

/* A broken file does not hide the others: the wanted pipeline loads when
 * its own file is sound; the broken file's error is reported only when the
 * name is found nowhere (it may be the file that was meant). */
sl_code config_pipeline_load(const config *cfg, const char *name, pipeline_def **out,
                             sl_err *err)
{
    *out = NULL;
    sl_code broken;
    sl_err broken_err = {0};
    pipeline_def **defs = load_listed(cfg, &broken, &broken_err);
    pipeline_def *d = find_def(defs, cfg->npipelines, name);
    sl_code c = check_unique(cfg, defs, name, err);
    if (c == SL_OK && !d && broken != SL_OK) {
        c = broken;
        if (err)
            *err = broken_err;
    } else if (c == SL_OK && !d) {
        sl_buf names = {0};
        for (size_t i = 0; i < cfg->npipelines; i++)
            if (defs[i])
                buf_appendf(&names, "%s%s", names.len ? ", " : "", defs[i]->name);
        c = err_set(err, SL_PIPELINE_UNKNOWN, "no pipeline named \"%s\" in %s (%s)", name,
                    cfg->path, names.len ? names.data : "it lists none");
        buf_free(&names);
    }
    for (size_t i = 0; i < cfg->npipelines; i++)
        if (defs[i] != d || c != SL_OK)
            pipeline_def_free(defs[i]);
    free(defs);
    if (c == SL_OK)
        *out = d;
    return c;
}
