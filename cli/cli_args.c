#include "cli/cli_args.h"

#include <stdlib.h>
#include <string.h>

/* Looks name up in a spec; returns 0 unknown, 1 flag, 2 takes a value. */
static int spec_kind(const char *spec, const char *name, size_t namelen)
{
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int takes = len && p[len - 1] == '=';
        size_t nlen = takes ? len - 1 : len;
        if (nlen == namelen && strncmp(p, name, namelen) == 0)
            return takes ? 2 : 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

sl_code cli_args_parse(int argc, char **argv, const char *cmd_spec, const char *cmd_name,
                       cli_args *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (out->npos == sizeof out->pos / sizeof out->pos[0])
                return err_set(err, SL_USAGE, "too many arguments");
            out->pos[out->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        const char *name;
        size_t namelen;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            name = a + 2;
            const char *eq = strchr(name, '=');
            namelen = eq ? (size_t)(eq - name) : strlen(name);
            if (eq)
                inline_val = eq + 1;
        } else if (strcmp(a, "-c") == 0) {
            name = "config";
            namelen = 6;
        } else if (strcmp(a, "-h") == 0) {
            name = "help";
            namelen = 4;
        } else {
            return err_set(err, SL_USAGE, "unknown option %s for `sluice %s`", a,
                           cmd_name);
        }
        int kind = spec_kind(cmd_spec, name, namelen);
        if (!kind)
            kind = spec_kind(CLI_GLOBAL_OPTS, name, namelen);
        if (!kind)
            return err_set(err, SL_USAGE, "unknown option --%.*s for `sluice %s`",
                           (int)namelen, name, cmd_name);
        const char *value = "";
        if (kind == 2) {
            if (inline_val)
                value = inline_val;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return err_set(err, SL_USAGE, "option --%.*s needs a value", (int)namelen,
                               name);
        } else if (inline_val) {
            return err_set(err, SL_USAGE, "option --%.*s takes no value", (int)namelen,
                           name);
        }
        if (out->nopts == CLI_MAX_OPTS)
            return err_set(err, SL_USAGE, "too many options");
        /* Names point into argv ("name" or "name=value") or at a literal for
         * short forms; lookups compare up to '=' so no copy is needed. */
        out->opts[out->nopts].name = name;
        out->opts[out->nopts].value = value;
        out->nopts++;
    }
    return SL_OK;
}

static int name_matches(const char *stored, const char *name)
{
    size_t n = strlen(name);
    return strncmp(stored, name, n) == 0 && (stored[n] == '\0' || stored[n] == '=');
}

const char *cli_args_get(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopts; i++)
        if (name_matches(a->opts[i].name, name))
            v = a->opts[i].value; /* the last one wins, as usual for CLIs */
    return v;
}

int cli_args_has(const cli_args *a, const char *name)
{
    return cli_args_get(a, name) != NULL;
}

sl_code cli_args_int(const cli_args *a, const char *name, long long *out, int *present,
                     sl_err *err)
{
    const char *v = cli_args_get(a, name);
    *present = v != NULL;
    if (!v)
        return SL_OK;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < 0)
        return err_set(err, SL_USAGE, "--%s wants a whole number, not \"%s\"", name, v);
    *out = n;
    return SL_OK;
}
