/* The canonical serialisation of a row, its SHA-256, and the head file that
 * pins the last id and hash outside the database. */
#include "audit/audit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"

/* Version tag first, so a future format can never collide with this one. */
#define AUDIT_HASH_FORMAT "sluice-audit-v1\n"

/* Integers as I<decimal>; NULL as N; text as S<byte length>:<bytes>. Every
 * field is self-delimiting, so no two different rows serialise alike and
 * NULL differs from "". */
static void audit_canon_int(sl_buf *b, int64_t v)
{
    buf_appendf(b, "I%" PRId64 ";", v);
}

static void audit_canon_text(sl_buf *b, const char *s)
{
    if (!s) {
        buf_append_str(b, "N;");
        return;
    }
    size_t n = strlen(s);
    buf_appendf(b, "S%zu:", n);
    buf_append(b, s, n);
    buf_append_char(b, ';');
}

void audit_hash_event(const audit_event *ev, const char *prev_hash,
                      char out[AUDIT_HASH_HEX])
{
    sl_buf b = {0};
    buf_append_str(&b, AUDIT_HASH_FORMAT);
    audit_canon_int(&b, ev->id);
    audit_canon_int(&b, ev->ts_ms);
    audit_canon_text(&b, ev->operator_name);
    audit_canon_text(&b, ev->host);
    audit_canon_text(&b, ev->session_id);
    audit_canon_text(&b, ev->action);
    audit_canon_text(&b, ev->target);
    audit_canon_text(&b, ev->params);
    audit_canon_text(&b, ev->reason);
    audit_canon_text(&b, ev->phase);
    audit_canon_text(&b, ev->before_state);
    audit_canon_text(&b, ev->after_state);
    audit_canon_text(&b, ev->error_code);
    audit_canon_text(&b, prev_hash);

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort(); /* SHA-256 of a memory buffer cannot fail short of a broken libcrypto */
    buf_free(&b);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * mdlen] = '\0';
}

static int audit_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

sl_code audit_head_read(const char *head_path, int *found, int64_t *id,
                        char hash[AUDIT_HASH_HEX], sl_err *err)
{
    *found = 0;
    *id = 0;
    hash[0] = '\0';
    FILE *fp = fopen(head_path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return SL_OK;
        return err_set(err, SL_AUDIT_DB, "audit head %s: %s", head_path, strerror(errno));
    }
    char line[160];
    size_t n = fread(line, 1, sizeof line - 1, fp);
    int more = fgetc(fp) != EOF;
    fclose(fp);
    line[n] = '\0';
    *found = 1;

    /* Exactly "<id> <64 hex>\n": anything else was not written by us. */
    char *end = NULL;
    errno = 0;
    long long v = strtoll(line, &end, 10);
    int ok = !more && n > 0 && line[0] >= '0' && line[0] <= '9' && errno == 0 && v > 0 &&
             *end == ' ' && strlen(end + 1) == 65 && audit_hex64(end + 1) &&
             end[65] == '\n';
    if (!ok)
        return err_set(err, SL_AUDIT_TAMPERED, "audit head %s is malformed", head_path);
    *id = v;
    memcpy(hash, end + 1, 64);
    hash[64] = '\0';
    return SL_OK;
}

static void audit_dir_fsync(const char *path)
{
    char *dir = sl_strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

sl_code audit_head_write(const char *head_path, int64_t id, const char *hash, sl_err *err)
{
    char *tmp = sl_asprintf("%s.tmp.%ld", head_path, (long)getpid());
    char *text = sl_asprintf("%" PRId64 " %s\n", id, hash);
    size_t len = strlen(text);
    sl_code c = SL_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        c = err_set(err, SL_AUDIT_DB, "audit head %s: %s", tmp, strerror(errno));
        goto out;
    }
    ssize_t w = write(fd, text, len);
    int e = errno;
    if (w != (ssize_t)len || fsync(fd) != 0) {
        if (w == (ssize_t)len)
            e = errno;
        close(fd);
        unlink(tmp);
        c = err_set(err, SL_AUDIT_DB, "audit head %s: write: %s", tmp,
                    w >= 0 && w != (ssize_t)len ? "short write" : strerror(e));
        goto out;
    }
    close(fd);
    if (rename(tmp, head_path) != 0) {
        c = err_set(err, SL_AUDIT_DB, "audit head %s: rename: %s", head_path,
                    strerror(errno));
        unlink(tmp);
        goto out;
    }
    audit_dir_fsync(head_path);
out:
    free(tmp);
    free(text);
    return c;
}

void audit_head_restore(const char *head_path, int found, int64_t id, const char *hash)
{
    if (found && id > 0)
        audit_head_write(head_path, id, hash, NULL);
    else
        unlink(head_path);
}
