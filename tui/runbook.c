/* The runbook format's parser (docs/runbooks/README.md): a line-by-line
 * state machine, strict on purpose so that every shipped runbook is checked
 * by its test and a typo is reported with its file and line. */
#include "tui/runbook.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/buf.h"

static const char *const panel_names[RB_PANEL_COUNT] = {
    "none", "failed-folders", "silver-history", "consistency", "lease", "vacuum-horizon",
};

static const char *const action_names[RB_ACT_COUNT] = {
    "none",           "note", "retry",        "skip",    "reset",
    "mark-processed", "run",  "rollback-run", "restore", "vacuum-check",
};

const char *runbook_panel_name(rb_panel p)
{
    return p < RB_PANEL_COUNT ? panel_names[p] : "?";
}

const char *runbook_action_name(rb_action a)
{
    return a < RB_ACT_COUNT ? action_names[a] : "?";
}

static int name_index(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static void names_list(const char *const *names, int n, char *out, size_t outlen)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", names[i]);
    }
}

void runbook_free(runbook *rb)
{
    if (!rb)
        return;
    for (size_t i = 0; i < rb->nsteps; i++) {
        free(rb->steps[i].title);
        free(rb->steps[i].text);
    }
    free(rb->steps);
    free(rb->id);
    free(rb->path);
    free(rb->title);
    free(rb->summary);
    free(rb);
}

/* ---- the parser ------------------------------------------------------- */

typedef enum {
    P_TITLE,   /* line 1: "# Title" */
    P_SUMMARY, /* next non-blank: "summary: ..." */
    P_STEPS,   /* blank lines until the first "## " */
    P_SHOW,    /* right after "## ": "show: PANEL" */
    P_ACTION,  /* then "action: ACTION" */
    P_BLANK,   /* then one blank line */
    P_TEXT,    /* then the explanation, until the next "## " or the end */
} p_state;

typedef struct parser {
    const char *path;
    int line;
    p_state st;
    runbook *rb;
    sl_buf text; /* the current step's explanation */
    int blank_run;
    sl_err *err;
} parser;

static sl_code fail(parser *p, const char *fmt, const char *arg)
{
    char msg[600];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    return err_set(p->err, SL_RUNBOOK_INVALID, "%s:%d: %s", p->path, p->line, msg);
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *out = sl_calloc(1, n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* "key: value" with this exact key: the value (trimmed, caller frees), or
 * NULL when the line is something else. */
static char *directive(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || line[n] != ':')
        return NULL;
    return trimmed(line + n + 1);
}

static int looks_like_directive(const char *line)
{
    static const char *const keys[] = {"show", "action", "summary"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i]);
        if (strncmp(line, keys[i], n) == 0 && line[n] == ':')
            return 1;
    }
    return 0;
}

/* Closes the step being read: it must have explanation text. */
static sl_code step_finish(parser *p)
{
    if (p->rb->nsteps == 0)
        return SL_OK;
    rb_step *s = &p->rb->steps[p->rb->nsteps - 1];
    if (p->st != P_TEXT || p->text.len == 0) {
        p->line = s->line;
        return fail(p,
                    "step \"%s\" has no explanation text (show:, action:, a blank "
                    "line, then the text)",
                    s->title);
    }
    char *t = sl_calloc(1, p->text.len + 1);
    memcpy(t, p->text.data, p->text.len);
    t[p->text.len] = '\0';
    size_t n = p->text.len;
    while (n && t[n - 1] == '\n')
        t[--n] = '\0';
    s->text = t;
    p->text.len = 0;
    return SL_OK;
}

static sl_code step_start(parser *p, const char *line)
{
    sl_code c = step_finish(p);
    if (c != SL_OK)
        return c;
    char *title = trimmed(line + 3);
    if (!*title) {
        free(title);
        return fail(p, "a step needs a title after \"## \"", NULL);
    }
    if (p->rb->nsteps == RB_MAX_STEPS) {
        free(title);
        char max[16];
        snprintf(max, sizeof max, "%d", RB_MAX_STEPS);
        return fail(p, "more than %s steps: split the runbook", max);
    }
    p->rb->steps = sl_realloc(p->rb->steps, (p->rb->nsteps + 1) * sizeof *p->rb->steps);
    rb_step *s = &p->rb->steps[p->rb->nsteps++];
    memset(s, 0, sizeof *s);
    s->title = title;
    s->line = p->line;
    p->st = P_SHOW;
    return SL_OK;
}

static sl_code named_value(parser *p, const char *line, const char *key,
                           const char *const *names, int n, int *out)
{
    char *v = directive(line, key);
    if (!v) {
        char want[64];
        snprintf(want, sizeof want, "\"%s: ...\"", key);
        return fail(p, "expected %s here", want);
    }
    *out = name_index(names, n, v);
    if (*out < 0) {
        char list[400], msg[600];
        names_list(names, n, list, sizeof list);
        snprintf(msg, sizeof msg, "unknown %s '%.100s' (one of: %s)", key, v, list);
        free(v);
        return fail(p, "%s", msg);
    }
    free(v);
    return SL_OK;
}

static sl_code text_line(parser *p, const char *line)
{
    if (looks_like_directive(line))
        return fail(p,
                    "a directive inside the explanation (show: and action: come "
                    "right after the step's \"## \" line, once)",
                    NULL);
    if (blank(line)) {
        p->blank_run++;
        return SL_OK;
    }
    if (p->text.len)
        buf_append_str(&p->text, p->blank_run ? "\n\n" : "\n");
    p->blank_run = 0;
    char *t = trimmed(line);
    buf_append_str(&p->text, t);
    free(t);
    return SL_OK;
}

static sl_code parse_line(parser *p, const char *line)
{
    if (p->st == P_TITLE) {
        if (strncmp(line, "# ", 2) != 0 || blank(line + 2))
            return fail(p, "a runbook starts with its title: \"# Title\"", NULL);
        p->rb->title = trimmed(line + 2);
        p->st = P_SUMMARY;
        return SL_OK;
    }
    if (line[0] == '#' && strncmp(line, "## ", 3) != 0)
        return fail(p,
                    "only the first line is a \"# \" title and steps are \"## \" "
                    "headings; '%.60s' is neither",
                    line);
    if (strncmp(line, "## ", 3) == 0) {
        if (p->st == P_SUMMARY)
            return fail(p, "the summary line (\"summary: ...\") comes before the steps",
                        NULL);
        if (p->st == P_SHOW || p->st == P_ACTION)
            return fail(p, "expected \"%s: ...\" before the next step",
                        p->st == P_SHOW ? "show" : "action");
        return step_start(p, line);
    }
    int v;
    sl_code c;
    switch (p->st) {
    case P_SUMMARY:
        if (blank(line))
            return SL_OK;
        p->rb->summary = directive(line, "summary");
        if (!p->rb->summary || !*p->rb->summary)
            return fail(p, "expected \"summary: one line saying when to use it\"", NULL);
        p->st = P_STEPS;
        return SL_OK;
    case P_STEPS:
        if (blank(line))
            return SL_OK;
        return fail(p, "text outside a step (steps start with \"## \")", NULL);
    case P_SHOW:
        c = named_value(p, line, "show", panel_names, RB_PANEL_COUNT, &v);
        if (c == SL_OK) {
            p->rb->steps[p->rb->nsteps - 1].show = (rb_panel)v;
            p->st = P_ACTION;
        }
        return c;
    case P_ACTION:
        c = named_value(p, line, "action", action_names, RB_ACT_COUNT, &v);
        if (c == SL_OK) {
            p->rb->steps[p->rb->nsteps - 1].action = (rb_action)v;
            p->st = P_BLANK;
        }
        return c;
    case P_BLANK:
        if (!blank(line))
            return fail(p, "a blank line separates the directives from the text", NULL);
        p->st = P_TEXT;
        p->blank_run = 0;
        return SL_OK;
    case P_TEXT:
        return text_line(p, line);
    case P_TITLE:
        break;
    }
    return SL_OK;
}

static char *id_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".md") == 0)
        n -= 3;
    char *id = sl_calloc(1, n + 1);
    memcpy(id, base, n);
    id[n] = '\0';
    return id;
}

sl_code runbook_parse(const char *text, const char *path, runbook **out, sl_err *err)
{
    *out = NULL;
    parser p = {.path = path, .st = P_TITLE, .err = err};
    p.rb = sl_calloc(1, sizeof *p.rb);
    p.rb->path = sl_strdup(path);
    p.rb->id = id_of(path);
    sl_code c = SL_OK;
    const char *s = text;
    while (c == SL_OK && *s) {
        p.line++;
        size_t n = strcspn(s, "\n");
        char *line = sl_calloc(1, n + 1);
        memcpy(line, s, n);
        line[n] = '\0';
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        c = parse_line(&p, line);
        free(line);
        s += n;
        if (*s == '\n')
            s++;
    }
    if (c == SL_OK) {
        p.line++;
        if (p.st == P_TITLE || p.st == P_SUMMARY)
            c = fail(&p, "the file ends before its %s",
                     p.st == P_TITLE ? "title" : "summary line");
        else if (p.rb->nsteps == 0)
            c = fail(&p, "a runbook needs at least one step (\"## Title\")", NULL);
        else
            c = step_finish(&p);
    }
    buf_free(&p.text);
    if (c != SL_OK) {
        runbook_free(p.rb);
        return c;
    }
    *out = p.rb;
    return SL_OK;
}

sl_code runbook_load(const char *path, runbook **out, sl_err *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, SL_IO, "runbook %s cannot be opened", path);
    sl_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        buf_free(&b);
        return err_set(err, SL_IO, "runbook %s: read error", path);
    }
    buf_append_char(&b, '\0');
    sl_code c = runbook_parse(b.data, path, out, err);
    buf_free(&b);
    return c;
}

void runbooks_free(runbook **rbs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        runbook_free(rbs[i]);
    free(rbs);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_runbook_file(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && strcmp(name + n - 3, ".md") == 0 &&
           strcmp(name, "README.md") != 0;
}

sl_code runbook_load_dir(const char *dir, runbook ***out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, SL_IO, "runbooks directory %s cannot be read", dir);
    char **names = NULL;
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_runbook_file(de->d_name))
            continue;
        names = sl_realloc(names, (nn + 1) * sizeof *names);
        names[nn++] = sl_strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    runbook **rbs = sl_calloc(nn ? nn : 1, sizeof *rbs);
    sl_code c = SL_OK;
    size_t got = 0;
    for (size_t i = 0; i < nn; i++) {
        char *path = sl_asprintf("%s/%s", dir, names[i]);
        if (c == SL_OK && (c = runbook_load(path, &rbs[got], err)) == SL_OK)
            got++;
        free(path);
        free(names[i]);
    }
    free(names);
    if (c != SL_OK) {
        runbooks_free(rbs, got);
        return c;
    }
    *out = rbs;
    *n = got;
    return SL_OK;
}

/* ---- where the runbooks are ------------------------------------------- */

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

/* cand if it is a directory (then owned by the caller), else NULL. */
static char *dir_or_null(char *cand)
{
    if (is_dir(cand))
        return cand;
    free(cand);
    return NULL;
}

char *runbook_dir_find(void)
{
    const char *env = getenv("SLUICE_RUNBOOKS_DIR");
    if (env && *env)
        return sl_strdup(env);
    char *exe = exe_dir();
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char *found =
        exe ? dir_or_null(sl_asprintf("%s/../share/sluice/runbooks", exe)) : NULL;
    if (!found && src && *src)
        found = dir_or_null(sl_asprintf("%s/docs/runbooks", src));
    if (!found && exe)
        found = dir_or_null(sl_asprintf("%s/../docs/runbooks", exe));
    free(exe);
#ifdef SLUICE_THEMES_SOURCE_DIR
    /* A build outside the source tree still finds the tree it came from
     * (themes/ and docs/ are siblings there). */
    if (!found)
        found = dir_or_null(sl_strdup(SLUICE_THEMES_SOURCE_DIR "/../docs/runbooks"));
#endif
    return found;
}
