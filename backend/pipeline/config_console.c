/* The "console" block of sluice.json: refresh, mouse, user key bindings and
 * the health thresholds. Unknown keys are errors, as everywhere in the file. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pipeline/config.h"
#include "backend/util/buf.h"

static const struct {
    const char *metric;
    double warn, crit;
} defaults[] = {
    {"cpu_pct", 75, 90},     {"mem_pct", 80, 95},     {"disk_pct", 80, 90},
    {"store_ms", 250, 1000}, {"store_errors", 1, 10}, {"lag_minutes", 60, 240},
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

int config_threshold_get(const config *cfg, const char *metric, double *warn,
                         double *crit)
{
    if (cfg)
        for (size_t i = 0; i < cfg->console.nthresholds; i++)
            if (strcmp(cfg->console.thresholds[i].metric, metric) == 0) {
                *warn = cfg->console.thresholds[i].warn;
                *crit = cfg->console.thresholds[i].crit;
                return 1;
            }
    for (size_t i = 0; i < NDEFAULTS; i++)
        if (strcmp(defaults[i].metric, metric) == 0) {
            *warn = defaults[i].warn;
            *crit = defaults[i].crit;
            return 1;
        }
    return 0;
}

static sl_code parse_keys(const json_t *keys, const char *path, config_console *out,
                          sl_err *err)
{
    if (!json_is_object(keys))
        return err_set(err, SL_CONFIG_INVALID,
                       "%s: \"console.keys\" must be an object of action -> \"keys\"",
                       path);
    out->keys = sl_calloc(json_object_size(keys) + 1, sizeof *out->keys);
    const char *action;
    json_t *v;
    json_object_foreach((json_t *)keys, action, v)
    {
        if (!json_is_string(v))
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: \"console.keys.%s\" must be a string of key names "
                           "(\"T\", \"C-r F5\"; \"\" unbinds)",
                           path, action);
        config_binding *b = &out->keys[out->nkeys++];
        b->action = sl_strdup(action);
        b->keys = sl_strdup(json_string_value(v));
    }
    return SL_OK;
}

static sl_code parse_thresholds(const json_t *th, const char *path, config_console *out,
                                sl_err *err)
{
    if (!json_is_object(th))
        return err_set(err, SL_CONFIG_INVALID,
                       "%s: \"console.thresholds\" must be an object of metric -> "
                       "[warn, crit]",
                       path);
    out->thresholds = sl_calloc(json_object_size(th) + 1, sizeof *out->thresholds);
    const char *metric;
    json_t *v;
    json_object_foreach((json_t *)th, metric, v)
    {
        double w, c;
        if (!config_threshold_get(NULL, metric, &w, &c))
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: unknown threshold \"console.thresholds.%s\" (cpu_pct, "
                           "mem_pct, disk_pct, store_ms, store_errors, lag_minutes)",
                           path, metric);
        if (!json_is_array(v) || json_array_size(v) != 2 ||
            !json_is_number(json_array_get(v, 0)) ||
            !json_is_number(json_array_get(v, 1)))
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: \"console.thresholds.%s\" must be [warn, crit] numbers",
                           path, metric);
        w = json_number_value(json_array_get(v, 0));
        c = json_number_value(json_array_get(v, 1));
        if (w < 0 || c < w)
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: \"console.thresholds.%s\" needs 0 <= warn <= crit", path,
                           metric);
        config_threshold *t = &out->thresholds[out->nthresholds++];
        t->metric = sl_strdup(metric);
        t->warn = w;
        t->crit = c;
    }
    return SL_OK;
}

sl_code config_console_parse(const void *json_console, const char *path,
                             config_console *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    out->refresh_seconds = 10;
    const json_t *c = json_console;
    if (!c)
        return SL_OK;
    if (!json_is_object(c))
        return err_set(err, SL_CONFIG_INVALID, "%s: \"console\" must be an object", path);
    static const char *const known[] = {"refresh_seconds", "mouse", "keys", "thresholds"};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)c, key, v)
    {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(known[i], key) != 0)
            i++;
        if (i == sizeof known / sizeof known[0])
            return err_set(err, SL_CONFIG_INVALID, "%s: unknown key \"console.%s\"", path,
                           key);
    }
    const json_t *r = json_object_get(c, "refresh_seconds");
    if (r) {
        if (!json_is_integer(r) || json_integer_value(r) < 0 ||
            json_integer_value(r) > 86400)
            return err_set(err, SL_CONFIG_INVALID,
                           "%s: \"console.refresh_seconds\" must be a whole number of "
                           "seconds from 0 (off) to 86400",
                           path);
        out->refresh_seconds = (int)json_integer_value(r);
    }
    const json_t *m = json_object_get(c, "mouse");
    if (m && !json_is_boolean(m))
        return err_set(err, SL_CONFIG_INVALID,
                       "%s: \"console.mouse\" must be true or false", path);
    out->mouse = m && json_is_true(m);
    sl_code rc = SL_OK;
    const json_t *k = json_object_get(c, "keys");
    if (k)
        rc = parse_keys(k, path, out, err);
    const json_t *t = json_object_get(c, "thresholds");
    if (rc == SL_OK && t)
        rc = parse_thresholds(t, path, out, err);
    return rc;
}

void config_console_free(config_console *c)
{
    for (size_t i = 0; i < c->nkeys; i++) {
        free(c->keys[i].action);
        free(c->keys[i].keys);
    }
    free(c->keys);
    for (size_t i = 0; i < c->nthresholds; i++)
        free(c->thresholds[i].metric);
    free(c->thresholds);
    memset(c, 0, sizeof *c);
}
