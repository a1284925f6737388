#include "backend/util/paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/buf.h"

char *paths_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    while (*name == '/')
        name++;
    return sl_asprintf("%.*s/%s", (int)n, dir, name);
}

static const char *home_dir(void)
{
    const char *h = getenv("HOME");
    if (h && *h)
        return h;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_dir : "/tmp";
}

sl_code paths_mkdirs(const char *path, int mode, sl_err *err)
{
    char *p = sl_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            sl_code c =
                err_set(err, SL_STATE_DIR, "cannot create %s: %s", p, strerror(errno));
            free(p);
            return c;
        }
        *s = '/';
    }
    if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
        sl_code c =
            err_set(err, SL_STATE_DIR, "cannot create %s: %s", p, strerror(errno));
        free(p);
        return c;
    }
    free(p);
    return SL_OK;
}

sl_code paths_state_dir(char **out, sl_err *err)
{
    const char *s = getenv("SLUICE_STATE_DIR");
    char *dir;
    if (s && *s) {
        dir = sl_strdup(s);
    } else if ((s = getenv("XDG_STATE_HOME")) && *s) {
        dir = paths_join(s, "sluice");
    } else {
        char *base = paths_join(home_dir(), ".local/state");
        dir = paths_join(base, "sluice");
        free(base);
    }
    sl_code c = paths_mkdirs(dir, 0700, err);
    if (c != SL_OK) {
        free(dir);
        return c;
    }
    *out = dir;
    return SL_OK;
}

char *paths_config_dir(void)
{
    const char *s = getenv("XDG_CONFIG_HOME");
    if (s && *s)
        return paths_join(s, "sluice");
    char *base = paths_join(home_dir(), ".config");
    char *dir = paths_join(base, "sluice");
    free(base);
    return dir;
}
