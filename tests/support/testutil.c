#include "testutil.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"

char *tu_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char *tmpl = sl_asprintf("%s/sluice-%s-XXXXXX", base, tag);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpl, strerror(errno));
        abort();
    }
    return tmpl;
}

void tu_rmtree(const char *path)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if (!path ||
        (strncmp(path, base, strlen(base)) != 0 && strncmp(path, "/tmp/", 5) != 0))
        return;
    char *cmd = sl_asprintf("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
    free(cmd);
}

void tu_write_file(const char *dir, const char *rel, const char *text)
{
    char *path = paths_join(dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    paths_mkdirs(path, 0755, NULL);
    *slash = '/';
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        fprintf(stderr, "write %s: %s\n", path, strerror(errno));
        abort();
    }
    fputs(text, fp);
    fclose(fp);
    free(path);
}

char *tu_read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    sl_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    return buf_steal(&b);
}

const char *tu_fixtures_dir(void)
{
    const char *d = getenv("SLUICE_FIXTURES");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: ../shared/fixtures is absent; fixture tests are skipped\n");
        return NULL;
    }
    return d;
}

int tu_run(const char *cmdline, char **out)
{
    FILE *p = popen(cmdline, "r");
    if (!p)
        return -1;
    sl_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&b, chunk, n);
    int st = pclose(p);
    if (out)
        *out = buf_steal(&b);
    else
        buf_free(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

const char *tu_sluice_bin(void)
{
    const char *b = getenv("SLUICE_BIN");
    return b && *b ? b : "sluice";
}

int tu_have_node(void)
{
    return tu_run("command -v node >/dev/null 2>&1", NULL) == 0;
}

/* Runs npm install of the package into dir and writes the stamp once the
 * script is there. */
static void npm_install(const char *src, const char *dir, const char *script,
                        const char *stamp_path, const char *stamp)
{
    char *cmd = sl_asprintf("mkdir -p '%s' && npm install --prefix '%s' --install-links "
                            "--no-audit --no-fund --loglevel=error "
                            "'%s/tests/npm-interop' 1>&2",
                            dir, dir, src);
    int rc = tu_run(cmd, NULL);
    free(cmd);
    if (rc != 0)
        fail_msg("npm install of tests/npm-interop into %s failed (exit %d)", dir, rc);
    struct stat st;
    if (stat(script, &st) != 0)
        fail_msg("npm install into %s did not install %s", dir, script);
    FILE *fp = fopen(stamp_path, "wb");
    assert_non_null(fp);
    fputs(stamp, fp);
    fclose(fp);
}

char *tu_npm_script(const char *subdir, const char *script_name)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    const char *bin = getenv("SLUICE_BIN");
    assert_non_null(src);
    assert_non_null(bin);
    char *bin_copy = sl_strdup(bin);
    char *dir = sl_asprintf("%s/%s", dirname(bin_copy), subdir);
    free(bin_copy);
    char *pkg_path = sl_asprintf("%s/tests/npm-interop/package.json", src);
    char *js_path = sl_asprintf("%s/tests/npm-interop/%s", src, script_name);
    char *pkg = tu_read_file(pkg_path);
    char *js = tu_read_file(js_path);
    if (!pkg || !js)
        fail_msg("cannot read %s or %s", pkg_path, js_path);
    /* npm copies the package: a changed script needs a new install too. */
    char *want = sl_asprintf("%s\n%s", pkg, js);
    char *stamp_path = sl_asprintf("%s/.sluice-stamp", dir);
    char *stamp = tu_read_file(stamp_path);
    char *script =
        sl_asprintf("%s/node_modules/sluice-interop-readers/%s", dir, script_name);
    struct stat st;
    if (!stamp || strcmp(stamp, want) != 0 || stat(script, &st) != 0)
        npm_install(src, dir, script, stamp_path, want);
    free(stamp);
    free(stamp_path);
    free(want);
    free(pkg);
    free(js);
    free(pkg_path);
    free(js_path);
    free(dir);
    return script;
}
