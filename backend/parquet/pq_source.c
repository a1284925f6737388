/* Byte sources for the reader: a local file (pread), memory, or an object
 * in the store (range GETs). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/parquet/pq_reader.h"
#include "backend/util/buf.h"

typedef struct file_src {
    int fd;
    char *path;
} file_src;

static sl_code file_read(void *ctx, uint64_t offset, size_t len, uint8_t *dst, sl_err *err)
{
    file_src *f = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, dst + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, err_from_errno(errno), "cannot read %s at byte %llu: %s",
                           f->path, (unsigned long long)(offset + done), strerror(errno));
        if (n == 0)
            return err_set(err, SL_PARQUET_CORRUPT,
                           "%s ends at byte %llu, before the %zu bytes wanted at %llu",
                           f->path, (unsigned long long)(offset + done), len,
                           (unsigned long long)offset);
        done += (size_t)n;
    }
    return SL_OK;
}

static void file_close(void *ctx)
{
    file_src *f = ctx;
    close(f->fd);
    free(f->path);
    free(f);
}

sl_code pq_source_file(const char *path, pq_source *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, err_from_errno(errno), "cannot open %s: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_set(err, err_from_errno(e), "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, SL_PARQUET_NOT_PARQUET, "%s is not a regular file", path);
    }
    file_src *f = sl_calloc(1, sizeof *f);
    f->fd = fd;
    f->path = sl_strdup(path);
    out->ctx = f;
    out->size = (uint64_t)st.st_size;
    out->name = f->path;
    out->read = file_read;
    out->close = file_close;
    return SL_OK;
}

typedef struct mem_src {
    const uint8_t *data;
    size_t len;
} mem_src;

static sl_code mem_read(void *ctx, uint64_t offset, size_t len, uint8_t *dst, sl_err *err)
{
    mem_src *m = ctx;
    if (offset > m->len || len > m->len - offset)
        return err_set(err, SL_PARQUET_CORRUPT, "read of %zu bytes at %llu past the end (%zu)",
                       len, (unsigned long long)offset, m->len);
    memcpy(dst, m->data + offset, len);
    return SL_OK;
}

void pq_source_memory(const void *data, size_t len, const char *name, pq_source *out)
{
    mem_src *m = sl_calloc(1, sizeof *m);
    m->data = data;
    m->len = len;
    *out = (pq_source){.ctx = m,
                       .size = len,
                       .name = name ? name : "(memory)",
                       .read = mem_read,
                       .close = free};
}

typedef struct store_src {
    store *s;
    char *key;
    sl_buf tmp;
} store_src;

static sl_code store_src_read(void *ctx, uint64_t offset, size_t len, uint8_t *dst,
                              sl_err *err)
{
    store_src *ss = ctx;
    buf_reset(&ss->tmp);
    sl_code c = store_get_range(ss->s, ss->key, offset, len, &ss->tmp, err);
    if (c != SL_OK)
        return c;
    if (ss->tmp.len != len)
        return err_set(err, SL_PARQUET_CORRUPT,
                       "%s: got %zu bytes at %llu where %zu were wanted (object changed?)",
                       ss->key, ss->tmp.len, (unsigned long long)offset, len);
    memcpy(dst, ss->tmp.data, len);
    /* Large chunk reads should not pin memory after they are copied. */
    if (ss->tmp.cap > ((size_t)1 << 20))
        buf_free(&ss->tmp);
    return SL_OK;
}

static void store_src_close(void *ctx)
{
    store_src *ss = ctx;
    buf_free(&ss->tmp);
    free(ss->key);
    free(ss);
}

sl_code pq_source_store(store *s, const char *key, pq_source *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    store_obj o = {0};
    sl_code c = store_stat(s, key, &o, err);
    if (c != SL_OK)
        return c;
    store_src *ss = sl_calloc(1, sizeof *ss);
    ss->s = s;
    ss->key = sl_strdup(key);
    out->ctx = ss;
    out->size = o.size;
    out->name = ss->key;
    out->read = store_src_read;
    out->close = store_src_close;
    store_obj_clear(&o);
    return SL_OK;
}
