#include "tui/theme.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"

static const char *const elem_names[EL_COUNT] = {
#define THEME_NAME(id, name, help) name,
    THEME_ELEMENTS(THEME_NAME)
#undef THEME_NAME
};

static const char *const color_names[8] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

const char *theme_elem_name(theme_elem e)
{
    return (e >= 0 && e < EL_COUNT) ? elem_names[e] : "?";
}

theme_elem theme_elem_from_name(const char *name)
{
    for (int i = 0; i < EL_COUNT; i++)
        if (strcmp(elem_names[i], name) == 0)
            return (theme_elem)i;
    return EL_COUNT;
}

theme_elem theme_banner_elem(const char *color)
{
    static const theme_elem banners[8] = {
        EL_BANNER_WHITE, EL_BANNER_RED,     EL_BANNER_GREEN, EL_BANNER_YELLOW,
        EL_BANNER_BLUE,  EL_BANNER_MAGENTA, EL_BANNER_CYAN,  EL_BANNER_WHITE};
    for (int i = 0; color && i < 8; i++)
        if (strcmp(color, color_names[i]) == 0)
            return banners[i];
    return EL_BANNER_BLUE;
}

/* "default", a colour name, "bright-NAME", or a number 0..255. */
static int parse_color(const char *w, int *out)
{
    if (strcmp(w, "default") == 0) {
        *out = THEME_COLOR_DEFAULT;
        return 1;
    }
    int bright = 0;
    if (strncmp(w, "bright-", 7) == 0) {
        bright = 8;
        w += 7;
    }
    for (int i = 0; i < 8; i++)
        if (strcmp(w, color_names[i]) == 0) {
            *out = i + bright;
            return 1;
        }
    if (bright || !*w)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(w, &end, 10);
    if (*end || errno || v < 0 || v > 255)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_attr(const char *w, unsigned *attrs)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"bold", THEME_BOLD},       {"underline", THEME_UNDERLINE},
                 {"reverse", THEME_REVERSE}, {"dim", THEME_DIM},
                 {"italic", THEME_ITALIC},   {"none", 0}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(w, names[i].name) == 0) {
            *attrs |= names[i].bit;
            return 1;
        }
    return 0;
}

/* Splits s in place on blanks; returns the number of words (at most max). */
static int split_words(char *s, char **words, int max)
{
    int n = 0;
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            *s++ = '\0';
        if (!*s)
            break;
        if (n == max)
            return max + 1;
        words[n++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
    }
    return n;
}

static sl_code parse_line(char *line, const char *path, int lineno, theme *t, int *seen,
                          sl_err *err)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(line, '=');
    char *words[8];
    if (!eq) {
        if (split_words(line, words, 8) == 0)
            return SL_OK;
        return err_set(err, SL_THEME_INVALID,
                       "%s:%d: expected \"element = fg bg [attrs]\"", path, lineno);
    }
    *eq = '\0';
    char *lhs[2];
    if (split_words(line, lhs, 1) != 1)
        return err_set(err, SL_THEME_INVALID,
                       "%s:%d: expected one element name before '='", path, lineno);
    theme_elem e = theme_elem_from_name(lhs[0]);
    if (e == EL_COUNT)
        return err_set(err, SL_THEME_INVALID, "%s:%d: unknown element '%s'", path, lineno,
                       lhs[0]);
    int n = split_words(eq + 1, words, 7);
    if (n < 2 || n > 7)
        return err_set(err, SL_THEME_INVALID,
                       "%s:%d: element '%s' needs a foreground and a background colour",
                       path, lineno, lhs[0]);
    theme_style st = {0, 0, 0};
    if (!parse_color(words[0], &st.fg))
        return err_set(err, SL_THEME_INVALID, "%s:%d: unknown colour '%s'", path, lineno,
                       words[0]);
    if (!parse_color(words[1], &st.bg))
        return err_set(err, SL_THEME_INVALID, "%s:%d: unknown colour '%s'", path, lineno,
                       words[1]);
    for (int i = 2; i < n; i++)
        if (!parse_attr(words[i], &st.attrs))
            return err_set(err, SL_THEME_INVALID, "%s:%d: unknown attribute '%s'", path,
                           lineno, words[i]);
    if (seen[e])
        return err_set(err, SL_THEME_INVALID, "%s:%d: element '%s' is set twice", path,
                       lineno, lhs[0]);
    seen[e] = 1;
    t->el[e] = st;
    return SL_OK;
}

sl_code theme_parse(const char *text, const char *path, theme *out, sl_err *err)
{
    theme t;
    memset(&t, 0, sizeof t);
    int seen[EL_COUNT] = {0};
    char *copy = sl_strdup(text);
    char *save = NULL;
    int lineno = 0;
    sl_code rc = SL_OK;
    /* strtok_r would merge empty lines and break the numbering. */
    for (char *line = copy; line && rc == SL_OK; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        rc = parse_line(line, path, lineno, &t, seen, err);
    }
    free(copy);
    if (rc != SL_OK)
        return rc;
    if (!seen[EL_NORMAL])
        t.el[EL_NORMAL] = (theme_style){THEME_COLOR_DEFAULT, THEME_COLOR_DEFAULT, 0};
    for (int i = 0; i < EL_COUNT; i++)
        if (!seen[i])
            t.el[i] = t.el[EL_NORMAL];
    snprintf(t.path, sizeof t.path, "%s", path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(t.name, sizeof t.name, "%s", base);
    char *dot = strstr(t.name, ".theme");
    if (dot && dot[6] == '\0')
        *dot = '\0';
    *out = t;
    return SL_OK;
}

sl_code theme_load_file(const char *path, theme *out, sl_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, SL_THEME_INVALID, "theme file %s: %s", path, strerror(errno));
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        buf_free(&b);
        return err_set(err, SL_THEME_INVALID, "theme file %s: read error", path);
    }
    buf_append_char(&b, '\0');
    sl_code rc = theme_parse(b.data, path, out, err);
    buf_free(&b);
    return rc;
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return sl_strdup(buf);
}

char *theme_dir_find(void)
{
    const char *env = getenv("SLUICE_THEMES_DIR");
    if (env && *env)
        return sl_strdup(env);
    char *exe = exe_dir();
    char *cand = exe ? sl_asprintf("%s/../share/sluice/themes", exe) : NULL;
    if (is_dir(cand)) {
        free(exe);
        return cand;
    }
    free(cand);
    const char *src = getenv("SLUICE_SOURCE_DIR");
    cand = (src && *src) ? sl_asprintf("%s/themes", src) : NULL;
    if (is_dir(cand)) {
        free(exe);
        return cand;
    }
    free(cand);
    cand = exe ? sl_asprintf("%s/../themes", exe) : NULL;
    free(exe);
    if (is_dir(cand))
        return cand;
    free(cand);
#ifdef SLUICE_THEMES_SOURCE_DIR
    /* A build outside the source tree still finds the tree it came from. */
    if (is_dir(SLUICE_THEMES_SOURCE_DIR))
        return sl_strdup(SLUICE_THEMES_SOURCE_DIR);
#endif
    return NULL;
}

const char *theme_choose(const char *requested, const char *config_theme)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return "monochrome";
    if (requested && *requested)
        return requested;
    if (config_theme && *config_theme)
        return config_theme;
    return "dark";
}

sl_code theme_load(const char *name, theme *out, sl_err *err)
{
    size_t len = strlen(name);
    if (strchr(name, '/') || (len > 6 && strcmp(name + len - 6, ".theme") == 0))
        return theme_load_file(name, out, err);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return err_set(err, SL_THEME_INVALID, "theme name '%s' is not a plain name",
                           name);
    char *dir = theme_dir_find();
    if (!dir)
        return err_set(err, SL_THEME_INVALID,
                       "theme '%s': no themes directory found (set SLUICE_THEMES_DIR)",
                       name);
    char *path = sl_asprintf("%s/%s.theme", dir, name);
    sl_code rc;
    if (access(path, R_OK) != 0)
        rc = err_set(err, SL_THEME_INVALID, "theme '%s' not found: %s does not exist",
                     name, path);
    else
        rc = theme_load_file(path, out, err);
    free(path);
    free(dir);
    return rc;
}
