/* The store front door: URL parsing, key validation, dispatch through the
 * backend's store_ops and one structured log line per operation. */
#include "backend/store/store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/util/text.h"
#include "backend/util/timeutil.h"

/* S3's limit on key length; keeping it locally means a lake written here
 * can be copied to S3 unchanged. */
#define STORE_KEY_MAX 1024

/* ---- messages ---------------------------------------------------------- */

/* A key made printable for messages and logs: control bytes, backslash and
 * invalid UTF-8 become \xNN escapes (so a message never carries a raw NUL or
 * terminal escape, and stays valid JSON text). Caller frees. */
static char *key_printable(const char *key, size_t len)
{
    sl_buf b = {0};
    const unsigned char *p = (const unsigned char *)key;
    size_t i = 0;
    buf_reserve(&b, len);
    while (i < len) {
        size_t n = text_utf8_seq_len(p + i, len - i);
        if (n == 1 && p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\') {
            buf_append_char(&b, (char)p[i]);
        } else if (n > 1) {
            buf_append(&b, p + i, n);
        } else {
            buf_appendf(&b, "\\x%02x", p[i]);
            n = 1;
        }
        i += n;
    }
    return buf_steal(&b);
}

/* ---- keys -------------------------------------------------------------- */

/* Shared by keys and listing prefixes; a prefix may be empty and may end in
 * '/' (it names a folder boundary), a key may not. */
static sl_code key_check_as(const char *key, size_t len, int is_prefix, sl_err *err)
{
    const char *what = is_prefix ? "prefix" : "key";
    if (!key)
        return is_prefix ? SL_OK : err_set(err, SL_STORE_BAD_KEY, "missing store key");
    if (len == 0) {
        if (is_prefix)
            return SL_OK;
        return err_set(err, SL_STORE_BAD_KEY, "empty store key");
    }
    const char *reason = NULL;
    if (len > STORE_KEY_MAX)
        reason = "is longer than 1024 bytes";
    else if (key[0] == '/')
        reason = "is absolute (starts with '/')";
    for (size_t i = 0; !reason && i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '\0')
            reason = "contains a NUL byte";
        else if (c < 0x20 || c == 0x7f)
            reason = "contains a control character";
        else if (c == '\\')
            reason = "contains a backslash (a Windows path separator)";
    }
    /* Segment rules: no '.', '..' or empty segment anywhere. */
    size_t start = 0;
    for (size_t i = 0; !reason && i <= len; i++) {
        if (i < len && key[i] != '/')
            continue;
        size_t seg = i - start;
        if (seg == 0 && !(is_prefix && i == len))
            reason = "has an empty path segment ('//' or a trailing '/')";
        else if (seg == 1 && key[start] == '.')
            reason = "has a '.' segment";
        else if (seg == 2 && key[start] == '.' && key[start + 1] == '.')
            reason = "has a '..' segment (it would leave the store root)";
        start = i + 1;
    }
    if (!reason)
        return SL_OK;
    char *shown = key_printable(key, len);
    sl_code c = err_set(err, SL_STORE_BAD_KEY, "refused store %s \"%s\": it %s", what,
                        shown, reason);
    free(shown);
    return c;
}

sl_code store_key_check(const char *key, size_t len, sl_err *err)
{
    return key_check_as(key, len, 0, err);
}

/* ---- URLs -------------------------------------------------------------- */

/* Percent-decodes a file:// path; a decoded NUL would silently cut the path
 * short, so it is refused. */
static sl_code url_decode(const char *url, const char *in, char **out, sl_err *err)
{
    sl_buf b = {0};
    for (const char *p = in; *p; p++) {
        if (*p != '%') {
            buf_append_char(&b, *p);
            continue;
        }
        int hi = text_hex_value((unsigned char)p[1]);
        int lo = hi < 0 ? -1 : text_hex_value((unsigned char)p[2]);
        if (hi < 0 || lo < 0) {
            buf_free(&b);
            return err_set(err, SL_STORE_BAD_URL,
                           "bad percent-escape at \"%.3s\" in URL %s", p, url);
        }
        char c = (char)(hi * 16 + lo);
        if (c == '\0') {
            buf_free(&b);
            return err_set(err, SL_STORE_BAD_URL, "URL %s decodes to a NUL byte (%%00)",
                           url);
        }
        buf_append_char(&b, c);
        p += 2;
    }
    *out = buf_steal(&b);
    return SL_OK;
}

/* Length of "scheme" when url starts with "scheme://", else 0. */
static size_t url_scheme_len(const char *url)
{
    if (!isalpha((unsigned char)url[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' ||
           url[i] == '.')
        i++;
    return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

/* The local path a URL names (absolute, symlinks resolved). */
static sl_code url_local_path(const char *url, char **out, sl_err *err)
{
    size_t slen = url_scheme_len(url);
    char *path = NULL;
    if (slen == 4 && strncasecmp(url, "file", 4) == 0) {
        const char *rest = url + 7;
        /* file:///abs or file://localhost/abs; any other host is remote. */
        if (strncasecmp(rest, "localhost/", 10) == 0)
            rest += 9;
        if (rest[0] != '/')
            return err_set(err, SL_STORE_BAD_URL,
                           "URL %s names a remote host; use file:///absolute/path", url);
        sl_code c = url_decode(url, rest, &path, err);
        if (c != SL_OK)
            return c;
    } else if (slen > 0) {
        if (slen == 2 && strncasecmp(url, "s3", 2) == 0)
            return err_set(err, SL_STORE_UNSUPPORTED_SCHEME,
                           "cannot open %s: s3:// arrives with the S3 backend in a later "
                           "release; this build reads local paths and file:// URLs",
                           url);
        return err_set(err, SL_STORE_UNSUPPORTED_SCHEME,
                       "cannot open %s: the %.*s:// scheme is not supported; use a local "
                       "path or file:///abs/path",
                       url, (int)slen, url);
    } else {
        path = sl_strdup(url);
    }
    char *real = realpath(path, NULL);
    if (!real) {
        int e = errno;
        sl_code c = err_from_errno(e);
        err_set(err, c, "store root %s does not exist or is not reachable: %s", path,
                strerror(e));
        free(path);
        return c;
    }
    free(path);
    *out = real;
    return SL_OK;
}

/* "file://" + the path with the bytes a URL reader would misparse escaped,
 * so store_open(store_url(s)) names the same root. */
static char *url_from_path(const char *path)
{
    sl_buf b = {0};
    buf_append_str(&b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '%' || *p == '#' || *p == '?')
            buf_appendf(&b, "%%%02X", *p);
        else
            buf_append_char(&b, (char)*p);
    }
    return buf_steal(&b);
}

/* ---- logging ----------------------------------------------------------- */

static void store_log(store *s, const char *op, const char *key, sl_code code, double t0,
                      const sl_err *e)
{
    if (!s->log)
        return;
    char *shown = key ? key_printable(key, strlen(key)) : NULL;
    char *target = shown ? sl_asprintf("%s/%s", s->url, shown) : sl_strdup(s->url);
    log_op(s->log, op, target, code, time_mono_ms() - t0, code == SL_OK ? NULL : e->msg);
    free(target);
    free(shown);
}

/* Copies a local error to the caller's (which may be NULL). */
static sl_code pass_err(sl_err *dst, const sl_err *src, sl_code code)
{
    if (dst && code != SL_OK)
        *dst = *src;
    return code;
}

/* ---- open / close ------------------------------------------------------ */

sl_code store_open(const char *url, store **out, sl_err *err)
{
    *out = NULL;
    if (!url || !*url)
        return err_set(err, SL_STORE_BAD_URL, "empty store URL");
    char *path = NULL;
    sl_code c = url_local_path(url, &path, err);
    if (c != SL_OK)
        return c;
    store *s = sl_calloc(1, sizeof *s);
    c = store_local_open(path, s, err);
    if (c != SL_OK) {
        free(path);
        free(s);
        return c;
    }
    s->url = url_from_path(path);
    free(path);
    *out = s;
    return SL_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->close)
        s->ops->close(s);
    free(s->url);
    free(s);
}

const char *store_url(const store *s)
{
    return s ? s->url : NULL;
}

void store_set_log(store *s, sl_log *log)
{
    if (s)
        s->log = log;
}

/* ---- operations -------------------------------------------------------- */

sl_code store_list(store *s, const store_list_req *req, store_page *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = time_mono_ms();
    sl_err e = {0};
    const char *prefix = req && req->prefix ? req->prefix : "";
    sl_code c = key_check_as(prefix, strlen(prefix), 1, &e);
    if (c == SL_OK) {
        store_list_req r = {0};
        if (req)
            r = *req;
        r.prefix = prefix;
        if (r.delimiter && !*r.delimiter)
            r.delimiter = NULL;
        if (r.start_token && !*r.start_token)
            r.start_token = NULL;
        if (r.max_keys == 0)
            r.max_keys = 1000;
        c = s->ops->list(s, &r, out, &e);
        if (c != SL_OK)
            store_page_free(out);
    }
    store_log(s, "store.list", prefix, c, t0, &e);
    return pass_err(err, &e, c);
}

sl_code store_list_all(store *s, const char *prefix, const char *delimiter,
                       store_page *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    char *token = NULL;
    for (;;) {
        /* Large pages mean fewer requests where a backend allows them; S3
         * caps a page at 1,000 keys itself. */
        store_list_req req = {prefix, delimiter, token, 100000};
        store_page page;
        sl_code c = store_list(s, &req, &page, err);
        free(token);
        token = NULL;
        if (c != SL_OK) {
            store_page_free(out);
            return c;
        }
        if (out->n + page.n > cap) {
            cap = (out->n + page.n) * 2;
            out->items = sl_realloc(out->items, cap * sizeof *out->items);
        }
        if (page.n)
            memcpy(out->items + out->n, page.items, page.n * sizeof *page.items);
        out->n += page.n;
        free(page.items);
        token = page.next_token;
        if (!token)
            return SL_OK;
    }
}

void store_obj_clear(store_obj *o)
{
    if (!o)
        return;
    free(o->key);
    memset(o, 0, sizeof *o);
}

void store_page_free(store_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        store_obj_clear(&p->items[i]);
    free(p->items);
    free(p->next_token);
    memset(p, 0, sizeof *p);
}

static sl_code get_common(store *s, const char *op, const char *key, uint64_t offset,
                          uint64_t len, int whole, sl_buf *out, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err e = {0};
    buf_reset(out);
    sl_code c = key ? store_key_check(key, strlen(key), &e)
                    : err_set(&e, SL_STORE_BAD_KEY, "missing store key");
    if (c == SL_OK)
        c = s->ops->get_range(s, key, offset, len, whole, out, &e);
    if (c != SL_OK)
        buf_reset(out);
    store_log(s, op, key, c, t0, &e);
    return pass_err(err, &e, c);
}

sl_code store_get(store *s, const char *key, sl_buf *out, sl_err *err)
{
    return get_common(s, "store.get", key, 0, 0, 1, out, err);
}

sl_code store_get_range(store *s, const char *key, uint64_t offset, uint64_t len,
                        sl_buf *out, sl_err *err)
{
    return get_common(s, "store.get_range", key, offset, len, 0, out, err);
}

static sl_code put_common(store *s, const char *op, const char *key, const void *data,
                          size_t len, int if_absent, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err e = {0};
    sl_code c = key ? store_key_check(key, strlen(key), &e)
                    : err_set(&e, SL_STORE_BAD_KEY, "missing store key");
    if (c == SL_OK)
        c = s->ops->put(s, key, data ? data : "", data ? len : 0, if_absent, &e);
    store_log(s, op, key, c, t0, &e);
    return pass_err(err, &e, c);
}

sl_code store_put(store *s, const char *key, const void *data, size_t len, sl_err *err)
{
    return put_common(s, "store.put", key, data, len, 0, err);
}

sl_code store_put_if_absent(store *s, const char *key, const void *data, size_t len,
                            sl_err *err)
{
    return put_common(s, "store.put_if_absent", key, data, len, 1, err);
}

sl_code store_delete(store *s, const char *key, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err e = {0};
    sl_code c = key ? store_key_check(key, strlen(key), &e)
                    : err_set(&e, SL_STORE_BAD_KEY, "missing store key");
    if (c == SL_OK)
        c = s->ops->del(s, key, &e);
    store_log(s, "store.delete", key, c, t0, &e);
    return pass_err(err, &e, c);
}

sl_code store_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    double t0 = time_mono_ms();
    sl_err e = {0};
    memset(out, 0, sizeof *out);
    sl_code c = key ? store_key_check(key, strlen(key), &e)
                    : err_set(&e, SL_STORE_BAD_KEY, "missing store key");
    if (c == SL_OK)
        c = s->ops->stat(s, key, out, &e);
    if (c == SL_OK && !out->key)
        out->key = sl_strdup(key);
    if (c != SL_OK)
        store_obj_clear(out);
    store_log(s, "store.stat", key, c, t0, &e);
    return pass_err(err, &e, c);
}
