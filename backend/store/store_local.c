/* The local filesystem backend.
 *
 * Every path is resolved one component at a time from a descriptor on the
 * root with O_NOFOLLOW, so a key can never leave the root, not even through
 * a symbolic link planted inside it. Symbolic links are not objects: listings
 * skip them, get/stat report them as not found, writes refuse to pass through
 * them. Folders are not objects either; with a delimiter a folder shows as a
 * common prefix even when it is empty (S3 would hide it, but proving a folder
 * empty means reading it, and epoch sources hold tens of thousands). Deleting
 * the last object of a folder removes the folder, as S3 forgets the prefix.
 *
 * Writes go to ".sluice-tmp-*" files beside the target, which listings hide
 * and keys may not name. */
#include "backend/store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_PREFIX ".sluice-tmp-"
#define TMP_PREFIX_LEN (sizeof TMP_PREFIX - 1)

struct dir_ents;

typedef struct local_store {
    char *root; /* absolute, no trailing '/' except for "/" itself */
    int root_fd;
    /* Large folders' sorted entries, kept between listing pages, the most
     * recently used first: a walk holds its folders from the top down and
     * returns them bottom up, so the top of a walk stays first. */
    pthread_mutex_t cache_mu;
    struct dir_ents *cache[4];
} local_store;

static local_store *impl(store *s)
{
    return s->impl;
}

/* root + "/" + rel for messages. Caller frees. */
static char *full_path(const local_store *l, const char *rel, size_t rel_len)
{
    if (rel_len == 0)
        return sl_strdup(l->root);
    const char *sep = strcmp(l->root, "/") == 0 ? "" : "/";
    return sl_asprintf("%s%s%.*s", l->root, sep, (int)rel_len, rel);
}

static sl_code errno_err(const local_store *l, sl_err *err, int e, const char *what,
                         const char *rel, size_t rel_len)
{
    char *p = full_path(l, rel, rel_len);
    sl_code c = err_set(err, err_from_errno(e), "cannot %s %s: %s", what, p, strerror(e));
    free(p);
    return c;
}

static int is_tmp_name(const char *name)
{
    return strncmp(name, TMP_PREFIX, TMP_PREFIX_LEN) == 0;
}

/* Keys naming our temp files would be invisible to listings. */
static sl_code key_reserved_check(const char *key, sl_err *err)
{
    for (const char *seg = key; seg; seg = strchr(seg, '/')) {
        if (*seg == '/')
            seg++;
        if (is_tmp_name(seg))
            return err_set(err, SL_STORE_BAD_KEY,
                           "refused store key \"%s\": names starting with \"" TMP_PREFIX
                           "\" are reserved for the store's temporary files",
                           key);
    }
    return SL_OK;
}

/* Splits key into its folder part (length, without the final '/') and its
 * last segment. */
static void key_split(const char *key, size_t *dir_len, const char **base)
{
    const char *slash = strrchr(key, '/');
    *dir_len = slash ? (size_t)(slash - key) : 0;
    *base = slash ? slash + 1 : key;
}

/* fsync of a folder through any descriptor on it (O_PATH ones cannot sync);
 * makes a new entry in it durable. Best effort: the data itself is synced. */
static void dir_sync(int fd)
{
    int r = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r >= 0) {
        fsync(r);
        close(r);
    }
}

/* Closes a descriptor of dir_open's walk unless it is the root's. */
static void dir_close_walk(const local_store *l, int fd)
{
    if (fd != l->root_fd)
        close(fd);
}

/* Opens the folder rel[0..rel_len) beneath the root without following any
 * symbolic link, creating missing folders when create is set. Folders on the
 * way are opened with O_PATH (search permission suffices); the last one is
 * readable (for listing and fsync) when want_read is set. Returns 0 and a
 * descriptor, or an errno: ENOENT, ENOTDIR (an object is in the way), ELOOP
 * (a symbolic link is in the way), EACCES... */
static int dir_open(const local_store *l, const char *rel, size_t rel_len, int create,
                    int want_read, int *out_fd)
{
    const int walk_flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    const int read_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    if (rel_len == 0) {
        int fd = openat(l->root_fd, ".", want_read ? read_flags : walk_flags);
        if (fd < 0)
            return errno;
        *out_fd = fd;
        return 0;
    }
    /* The walk starts at the root's own descriptor (never closed here): a
     * copy of it would cost an open and a close on every operation. */
    int fd = l->root_fd;
    size_t i = 0;
    while (i < rel_len) {
        size_t j = i;
        while (j < rel_len && rel[j] != '/')
            j++;
        char name[NAME_MAX + 1];
        if (j - i > NAME_MAX) {
            dir_close_walk(l, fd);
            return ENAMETOOLONG;
        }
        memcpy(name, rel + i, j - i);
        name[j - i] = '\0';
        int flags = j >= rel_len && want_read ? read_flags : walk_flags;
        int next = openat(fd, name, flags);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, name, 0777) == 0) {
                dir_sync(fd); /* the new folder's entry must survive a crash too */
            } else if (errno != EEXIST) {
                int e = errno;
                dir_close_walk(l, fd);
                return e;
            }
            next = openat(fd, name, flags);
        }
        int e = errno;
        if (next < 0 && e == ENOTDIR) {
            struct stat st;
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                e = ELOOP;
        }
        dir_close_walk(l, fd);
        if (next < 0)
            return e;
        fd = next;
        i = j + 1;
    }
    *out_fd = fd;
    return 0;
}

/* Maps a dir_open failure to a code and message naming the folder. */
static sl_code dir_err(const local_store *l, sl_err *err, int e, const char *key,
                       size_t dir_len, int writing)
{
    char *p = full_path(l, key, dir_len);
    sl_code c;
    if (e == ELOOP || e == ENOTDIR) {
        const char *why = e == ELOOP
                              ? "passes through a symbolic link (not followed)"
                              : "passes through an object where a folder is needed";
        c = err_set(err, writing ? SL_STORE_PATH_CONFLICT : SL_STORE_NOT_FOUND,
                    "%s %s: the path %s %s", writing ? "cannot write" : "not found", key,
                    p, why);
    } else {
        c = err_set(err, err_from_errno(e), "cannot open folder %s: %s", p, strerror(e));
    }
    free(p);
    return c;
}

/* ---- stat -------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (i * 8)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A weak etag: changes whenever the file is replaced (inode) or rewritten
 * (size, mtime in nanoseconds). */
static void obj_fill(store_obj *o, const struct stat *st)
{
    o->is_prefix = 0;
    o->size = (uint64_t)st->st_size;
    o->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
    uint64_t ns =
        (uint64_t)st->st_mtim.tv_sec * 1000000000ULL + (uint64_t)st->st_mtim.tv_nsec;
    int n = snprintf(o->etag, sizeof o->etag, "%" PRIx64 "-%" PRIx64 "-%" PRIx64,
                     (uint64_t)st->st_ino, (uint64_t)st->st_size, ns);
    if (n < 0 || (size_t)n >= sizeof o->etag) {
        uint64_t h = 0xcbf29ce484222325ULL;
        h = fnv1a(h, (uint64_t)st->st_ino);
        h = fnv1a(h, (uint64_t)st->st_size);
        h = fnv1a(h, ns);
        snprintf(o->etag, sizeof o->etag, "%016" PRIx64, h);
    }
}

/* Not-found message for something that exists but is not an object. */
static sl_code not_object_err(const local_store *l, sl_err *err, const char *key,
                              mode_t mode)
{
    char *p = full_path(l, key, strlen(key));
    const char *what = S_ISDIR(mode)   ? "a folder"
                       : S_ISLNK(mode) ? "a symbolic link (not followed)"
                                       : "not a regular file";
    sl_code c = err_set(err, SL_STORE_NOT_FOUND, "no object %s: %s is %s", key, p, what);
    free(p);
    return c;
}

static sl_code local_stat(store *s, const char *key, store_obj *out, sl_err *err)
{
    local_store *l = impl(s);
    sl_code c = key_reserved_check(key, err);
    if (c != SL_OK)
        return c;
    size_t dlen;
    const char *base;
    key_split(key, &dlen, &base);
    int dfd = -1;
    int e = dir_open(l, key, dlen, 0, 0, &dfd);
    if (e)
        return dir_err(l, err, e, key, dlen, 0);
    struct stat st;
    int r = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW);
    e = errno;
    close(dfd);
    if (r != 0)
        return errno_err(l, err, e, "stat", key, strlen(key));
    if (!S_ISREG(st.st_mode))
        return not_object_err(l, err, key, st.st_mode);
    out->key = sl_strdup(key);
    obj_fill(out, &st);
    return SL_OK;
}

/* ---- get --------------------------------------------------------------- */

static sl_code local_get_range(store *s, const char *key, uint64_t offset, uint64_t len,
                               int whole, sl_buf *out, sl_err *err)
{
    local_store *l = impl(s);
    sl_code c = key_reserved_check(key, err);
    if (c != SL_OK)
        return c;
    size_t dlen;
    const char *base;
    key_split(key, &dlen, &base);
    int dfd = -1;
    int e = dir_open(l, key, dlen, 0, 0, &dfd);
    if (e)
        return dir_err(l, err, e, key, dlen, 0);
    /* O_NONBLOCK: a FIFO planted under the root must not hang the reader. */
    int fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    e = errno;
    close(dfd);
    if (fd < 0) {
        if (e == ELOOP)
            return not_object_err(l, err, key, S_IFLNK);
        return errno_err(l, err, e, "read", key, strlen(key));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        e = errno;
        close(fd);
        return errno_err(l, err, e, "stat", key, strlen(key));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return not_object_err(l, err, key, st.st_mode);
    }
    uint64_t size = (uint64_t)st.st_size;
    /* Reads stop at the size just seen rather than asking again for the
     * end: the object as it was when opened, one read call fewer. */
    uint64_t left = offset < size ? size - offset : 0;
    uint64_t want = whole || len > left ? left : len;
    if (want == 0) {
        close(fd);
        return SL_OK; /* S3 would say 416; an empty read is easier on callers */
    }
    buf_reserve(out, (size_t)want);
    uint64_t got = 0;
    char chunk[65536];
    while (got < want) {
        size_t ask = want - got < sizeof chunk ? (size_t)(want - got) : sizeof chunk;
        ssize_t n = pread(fd, chunk, ask, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            return errno_err(l, err, e, "read", key, strlen(key));
        }
        if (n == 0)
            break;
        buf_append(out, chunk, (size_t)n);
        got += (uint64_t)n;
    }
    close(fd);
    return SL_OK;
}

/* ---- put --------------------------------------------------------------- */

static void tmp_name(char *out, size_t outlen)
{
    unsigned char r[8];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* Entropy is only for spreading names; O_EXCL guarantees uniqueness. */
        static unsigned long counter;
        unsigned long v = (unsigned long)getpid() * 2654435761UL ^
                          (unsigned long)time(NULL) ^
                          __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        memcpy(r, &v, sizeof r < sizeof v ? sizeof r : sizeof v);
    }
    snprintf(out, outlen, TMP_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the data to a fresh temp file in dfd, flushed to disk. Returns 0 or
 * an errno; tmp receives the name. */
static int tmp_write(int dfd, const void *data, size_t len, char *tmp, size_t tmplen)
{
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        tmp_name(tmp, tmplen);
        /* 0666 so the object gets the usual umask-derived mode, unlike mkstemp's 0600. */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            return errno;
    }
    if (fd < 0)
        return EEXIST;
    int e = write_all(fd, data, len);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        unlinkat(dfd, tmp, 0);
    return e;
}

/* Publishes tmp as base: link() fails when base exists, so of two writers
 * exactly one wins; filesystems without hard links get RENAME_NOREPLACE. */
static int publish_if_absent(int dfd, const char *tmp, const char *base)
{
    if (linkat(dfd, tmp, dfd, base, 0) == 0) {
        unlinkat(dfd, tmp, 0);
        return 0;
    }
    int e = errno;
    if (e == EPERM || e == EOPNOTSUPP || e == ENOSYS || e == EMLINK) {
        if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) == 0)
            return 0;
        e = errno;
    }
    unlinkat(dfd, tmp, 0);
    return e;
}

/* Writers hold a shared lock on the root's lock file while they create a
 * folder and fill it; pruning empty folders after a delete takes it
 * exclusively and only when free. So a writer never loses its folder to a
 * concurrent delete, and a busy store merely keeps an empty folder. */
#define LOCAL_LOCK_NAME ".sluice-tmp-lock"

static int lock_take(const local_store *l, int op)
{
    int fd = openat(l->root_fd, LOCAL_LOCK_NAME,
                    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    int r;
    do
        r = flock(fd, op);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void lock_drop(int fd)
{
    if (fd >= 0)
        close(fd); /* closing releases the flock */
}

static sl_code local_put_locked(store *s, const char *key, const void *data, size_t len,
                                int if_absent, sl_err *err);

static sl_code local_put(store *s, const char *key, const void *data, size_t len,
                         int if_absent, sl_err *err)
{
    /* Without a lock file (read-only root) the write fails on its own below. */
    int lk = lock_take(impl(s), LOCK_SH);
    sl_code c = local_put_locked(s, key, data, len, if_absent, err);
    lock_drop(lk);
    return c;
}

static sl_code local_put_locked(store *s, const char *key, const void *data, size_t len,
                                int if_absent, sl_err *err)
{
    local_store *l = impl(s);
    sl_code c = key_reserved_check(key, err);
    if (c != SL_OK)
        return c;
    size_t dlen;
    const char *base;
    key_split(key, &dlen, &base);
    char tmp[64];
    int dfd = -1;
    int e = 0;
    /* A concurrent delete may remove a folder we just created (it was empty);
     * creating it again is the answer. */
    for (int attempt = 0; attempt < 8; attempt++) {
        e = dir_open(l, key, dlen, 1, 0, &dfd);
        if (e == ENOENT && attempt < 7)
            continue;
        if (e)
            return dir_err(l, err, e, key, dlen, 1);
        e = tmp_write(dfd, data, len, tmp, sizeof tmp);
        if (e != ENOENT)
            break;
        close(dfd);
        dfd = -1;
    }
    if (e) {
        if (dfd >= 0)
            close(dfd);
        char *p = full_path(l, key, dlen);
        c = err_set(err, err_from_errno(e), "cannot write a temporary file in %s: %s", p,
                    strerror(e));
        free(p);
        return c;
    }
    if (if_absent) {
        e = publish_if_absent(dfd, tmp, base);
    } else {
        e = renameat(dfd, tmp, dfd, base) == 0 ? 0 : errno;
        if (e)
            unlinkat(dfd, tmp, 0);
    }
    if (!e)
        dir_sync(dfd); /* the rename or link itself must be durable */
    struct stat st;
    int taken_by_folder = e == EEXIST &&
                          fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                          S_ISDIR(st.st_mode);
    close(dfd);
    if (!e)
        return SL_OK;
    char *p = full_path(l, key, strlen(key));
    if (e == EEXIST && if_absent && !taken_by_folder)
        c = err_set(err, SL_STORE_EXISTS, "object %s already exists (%s)", key, p);
    else if (e == EISDIR || e == ENOTEMPTY || e == EEXIST)
        c = err_set(err, SL_STORE_PATH_CONFLICT, "cannot write %s: %s is a folder", key,
                    p);
    else
        c = err_set(err, err_from_errno(e), "cannot write %s: %s", p, strerror(e));
    free(p);
    return c;
}

/* ---- delete ------------------------------------------------------------ */

/* Removes the now-empty folders above a deleted object, deepest first,
 * stopping at the first that still holds something (S3 has no empty
 * prefixes). */
static void prune_empty_dirs(const local_store *l, const char *key, size_t dlen)
{
    int lk = lock_take(l, LOCK_EX | LOCK_NB);
    if (lk < 0)
        return; /* a writer is busy: leave the empty folder */
    size_t n = dlen;
    while (n > 0) {
        size_t parent = n;
        while (parent > 0 && key[parent - 1] != '/')
            parent--;
        /* Through dir_open, so a link swapped in meanwhile is not followed. */
        int pfd;
        if (dir_open(l, key, parent ? parent - 1 : 0, 0, 0, &pfd) != 0)
            break;
        char name[NAME_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)(n - parent), key + parent);
        int r = unlinkat(pfd, name, AT_REMOVEDIR);
        close(pfd);
        if (r != 0)
            break;
        n = parent ? parent - 1 : 0;
    }
    lock_drop(lk);
}

static sl_code local_del(store *s, const char *key, sl_err *err)
{
    local_store *l = impl(s);
    sl_code c = key_reserved_check(key, err);
    if (c != SL_OK)
        return c;
    size_t dlen;
    const char *base;
    key_split(key, &dlen, &base);
    int dfd = -1;
    int e = dir_open(l, key, dlen, 0, 0, &dfd);
    if (e == ENOENT || e == ENOTDIR || e == ELOOP)
        return SL_OK; /* no such object; S3 deletes are idempotent */
    if (e)
        return dir_err(l, err, e, key, dlen, 1);
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        /* Missing, or a folder or link: not an object, so nothing to delete. */
        close(dfd);
        return SL_OK;
    }
    if (unlinkat(dfd, base, 0) != 0 && errno != ENOENT) {
        e = errno;
        close(dfd);
        return errno_err(l, err, e, "delete", key, strlen(key));
    }
    dir_sync(dfd);
    close(dfd);
    prune_empty_dirs(l, key, dlen);
    return SL_OK;
}

/* ---- list -------------------------------------------------------------- */

/* A listing is a depth-first walk in key order that starts at the
 * continuation token and stops once the page is full, so a page costs its
 * own keys plus one folder read per level on the token's path, never the
 * keys before it. Each folder's entries are sorted as their keys sort: a
 * sub-folder carries its '/' ("a/" sorts between "a-b" and "a0", as every
 * key under it does), so the walk yields keys in S3's byte order. */

/* Folders this large are worth keeping between pages: an epoch source's top
 * folder is read and sorted once, not once per page. */
#define LIST_CACHE_MIN_ENTRIES 512
/* Unchanged stamps prove a folder unchanged only when it was last changed
 * this long before it was read: a change within the same timestamp tick as
 * the read would leave them as they were (ext4 ticks in jiffies, older
 * filesystems in seconds, FAT in two). A folder changed more recently is
 * read again for each page; its sort is kept while the read gives the same
 * bytes. */
#define LIST_CACHE_RACY_MS 2000

typedef struct dir_ents {
    char **name; /* sorted (strcmp); sub-folders end in '/' */
    size_t n;
    char *blob; /* the names in the folder read's order, each NUL-terminated */
    size_t blob_len;
    char *rel; /* the folder's key prefix ("" or ending in '/'); set when kept */
    /* The folder as read: a fresh fstat must match for the cache to serve it. */
    dev_t dev;
    ino_t ino;
    nlink_t nlink;
    off_t size;
    struct timespec mtime, ctime;
    int trusted; /* stamps older than the read by LIST_CACHE_RACY_MS */
} dir_ents;

static void dir_ents_free(dir_ents *de)
{
    if (!de)
        return;
    free(de->name);
    free(de->blob);
    free(de->rel);
    free(de);
}

static int ts_eq(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int dir_ents_match(const dir_ents *de, const struct stat *st)
{
    return de->dev == st->st_dev && de->ino == st->st_ino && de->nlink == st->st_nlink &&
           de->size == st->st_size && ts_eq(&de->mtime, &st->st_mtim) &&
           ts_eq(&de->ctime, &st->st_ctim);
}

static int64_t ts_ceil_ms(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000 + (t->tv_nsec + 999999) / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Takes the cached entries of folder rel (open as dfd), NULL when there are
 * none; *usable when the folder provably has not changed since they were
 * read (else they only spare a sort). Taking empties the slot, so two
 * concurrent listings never share one. */
static dir_ents *cache_take(local_store *l, const char *rel, int dfd, int *usable)
{
    dir_ents *de = NULL;
    const size_t slots = sizeof l->cache / sizeof l->cache[0];
    pthread_mutex_lock(&l->cache_mu);
    for (size_t i = 0; i < slots && l->cache[i] && !de; i++) {
        if (strcmp(l->cache[i]->rel, rel) != 0)
            continue;
        de = l->cache[i];
        memmove(&l->cache[i], &l->cache[i + 1], (slots - 1 - i) * sizeof *l->cache);
        l->cache[slots - 1] = NULL;
    }
    pthread_mutex_unlock(&l->cache_mu);
    struct stat st;
    *usable = de && de->trusted && fstat(dfd, &st) == 0 && dir_ents_match(de, &st);
    return de;
}

/* Keeps large folders' entries for later pages, frees the rest. */
static void cache_give(local_store *l, dir_ents *de)
{
    if (!de || !de->rel) {
        dir_ents_free(de);
        return;
    }
    const size_t slots = sizeof l->cache / sizeof l->cache[0];
    pthread_mutex_lock(&l->cache_mu);
    dir_ents *old = NULL;
    for (size_t i = 0; i < slots && l->cache[i] && !old; i++)
        if (strcmp(l->cache[i]->rel, de->rel) == 0) { /* a concurrent listing's */
            old = l->cache[i];
            memmove(&l->cache[i], &l->cache[i + 1], (slots - 1 - i) * sizeof *l->cache);
            l->cache[slots - 1] = NULL;
        }
    if (!old)
        old = l->cache[slots - 1];
    memmove(&l->cache[1], &l->cache[0], (slots - 1) * sizeof *l->cache);
    l->cache[0] = de;
    pthread_mutex_unlock(&l->cache_mu);
    dir_ents_free(old);
}

typedef struct lwalk {
    local_store *l;
    const char *token; /* NULL or the last key already returned */
    const char *delim; /* a roll-up delimiter other than "/", or NULL */
    size_t dlen;       /* strlen(delim) */
    size_t plen;       /* the prefix's length: roll-up looks past it */
    int one_level;     /* delimiter "/": read only the prefix's folder */
    size_t max_keys;
    int64_t started_ms; /* wall clock when the page began (cache racing) */
    sl_buf key;         /* the current folder's key prefix */
    store_page *out;
    size_t cap;
    int full; /* the page is complete and more follows */
    sl_err *err;
} lwalk;

/* Entry type without a stat when the folder read already tells it. */
static int ent_type(int dfd, const char *name, int d_type)
{
    if (d_type != DT_UNKNOWN)
        return d_type;
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return DT_UNKNOWN;
    if (S_ISDIR(st.st_mode))
        return DT_DIR;
    if (S_ISREG(st.st_mode))
        return DT_REG;
    return DT_UNKNOWN; /* links, FIFOs, sockets, devices: not objects */
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b); /* bytes, unsigned */
}

/* Stamps taken after the read are safe: a change during or after the read
 * is stamped near or after started_ms, so the entries are not trusted. */
static void dir_ents_stamp(lwalk *w, dir_ents *de, int fd)
{
    struct stat st;
    de->trusted = 0;
    if (fstat(fd, &st) != 0)
        return;
    de->dev = st.st_dev;
    de->ino = st.st_ino;
    de->nlink = st.st_nlink;
    de->size = st.st_size;
    de->mtime = st.st_mtim;
    de->ctime = st.st_ctim;
    int64_t newest = ts_ceil_ms(&st.st_mtim);
    if (ts_ceil_ms(&st.st_ctim) > newest)
        newest = ts_ceil_ms(&st.st_ctim);
    de->trusted = newest <= w->started_ms - LIST_CACHE_RACY_MS;
    if (!de->rel)
        de->rel = sl_strndup(w->key.data ? w->key.data : "", w->key.len);
}

/* Appends folder dfd's objects and sub-folders (sub-folders with their '/')
 * to blob, each NUL-terminated, recording where each starts in *off; temp
 * files and anything but files and folders are left out. getdents64 rather
 * than readdir: fdopendir costs an fstat and two fcntl calls a folder, a
 * third of the system calls of a walk over an epoch source. Returns 0 or an
 * errno. */
static int dir_read_names(int dfd, sl_buf *blob, size_t **off, size_t *n)
{
    _Alignas(struct dirent64) char buf[32768];
    size_t cap = 0;
    for (;;) {
        ssize_t got = getdents64(dfd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno;
        if (got == 0)
            return 0;
        for (ssize_t pos = 0; pos < got;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + pos);
            pos += d->d_reclen;
            const char *name = d->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || is_tmp_name(name))
                continue;
            int type = ent_type(dfd, name, d->d_type);
            if (type != DT_REG && type != DT_DIR)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                *off = sl_realloc(*off, cap * sizeof **off);
            }
            (*off)[(*n)++] = blob->len;
            buf_append_str(blob, name);
            if (type == DT_DIR)
                buf_append_char(blob, '/');
            buf_append(blob, "", 1); /* the name's terminator */
        }
    }
}

/* Reads the objects and sub-folders of folder dfd (whose keys start with
 * w->key), sorted. prev (taken, may be NULL) is the folder's earlier read:
 * when this read gives the same bytes, its sort stands. */
static sl_code dir_ents_read(lwalk *w, int dfd, dir_ents *prev, dir_ents **out)
{
    sl_buf blob = {0};
    size_t *off = NULL, n = 0;
    int e = dir_read_names(dfd, &blob, &off, &n);
    if (e) {
        free(off);
        buf_free(&blob);
        dir_ents_free(prev);
        return errno_err(w->l, w->err, e, "list", w->key.data, w->key.len);
    }
    dir_ents *de = prev;
    if (prev && prev->n == n && prev->blob_len == blob.len &&
        (n == 0 || memcmp(prev->blob, blob.data, blob.len) == 0)) {
        buf_free(&blob); /* the same folder read the same way: same order */
    } else {
        dir_ents_free(prev);
        de = sl_calloc(1, sizeof *de);
        de->blob_len = blob.len;
        de->blob = buf_steal(&blob);
        de->name = sl_calloc(n ? n : 1, sizeof *de->name);
        for (size_t i = 0; i < n; i++)
            de->name[i] = de->blob + off[i];
        de->n = n;
        if (n > 1)
            qsort(de->name, n, sizeof *de->name, name_cmp);
    }
    free(off);
    if (n >= LIST_CACHE_MIN_ENTRIES)
        dir_ents_stamp(w, de, dfd);
    *out = de;
    return SL_OK;
}

/* First index whose name compares >= s (after: > s). */
static size_t ents_bound(const dir_ents *de, const char *s, int after)
{
    size_t lo = 0, hi = de->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(de->name[mid], s);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void key_truncate(sl_buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

/* Puts w->key + tail on the page (rolled up to the delimiter when one
 * applies); tail is an entry of dfd, an object's name or, with is_prefix, a
 * sub-folder's name and '/'. Once the page is full, one more distinct item
 * marks it truncated. */
static void offer(lwalk *w, int dfd, const char *tail, int is_prefix)
{
    size_t base = w->key.len;
    buf_append_str(&w->key, tail);
    char *k = w->key.data;
    if (w->delim) {
        char *hit = strstr(k + w->plen, w->delim);
        if (hit) {
            key_truncate(&w->key, (size_t)(hit - k) + w->dlen);
            is_prefix = 1;
        }
    }
    store_page *p = w->out;
    if ((w->token && strcmp(k, w->token) <= 0) ||
        (p->n > 0 && strcmp(k, p->items[p->n - 1].key) == 0)) {
        key_truncate(&w->key, base); /* returned earlier, or rolled into the last */
        return;
    }
    if (p->n == w->max_keys) {
        p->next_token = sl_strdup(p->items[p->n - 1].key);
        w->full = 1;
        key_truncate(&w->key, base);
        return;
    }
    struct stat st;
    if (!is_prefix &&
        (fstatat(dfd, tail, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))) {
        key_truncate(&w->key, base); /* deleted or replaced since the folder was read */
        return;
    }
    if (p->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        if (w->cap > w->max_keys)
            w->cap = w->max_keys;
        p->items = sl_realloc(p->items, w->cap * sizeof *p->items);
    }
    store_obj *o = &p->items[p->n++];
    memset(o, 0, sizeof *o);
    if (is_prefix)
        o->is_prefix = 1;
    else
        obj_fill(o, &st);
    o->key = sl_strndup(k, w->key.len);
    key_truncate(&w->key, base);
}

static sl_code walk_dir(lwalk *w, int dfd, const char *filter, const char *rest);

/* Walks sub-folder sub (an entry of dfd ending in '/'); rest is the token
 * past the sub-folder's key prefix when the token lies inside it. */
static sl_code walk_sub(lwalk *w, int dfd, const char *sub, const char *rest)
{
    char name[NAME_MAX + 1];
    size_t n = strlen(sub) - 1;
    if (n > NAME_MAX)
        return SL_OK; /* a folder read never yields such a name */
    memcpy(name, sub, n);
    name[n] = '\0';
    int sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    size_t base = w->key.len;
    buf_append_str(&w->key, sub);
    sl_code c = SL_OK;
    if (sfd < 0) {
        int e = errno;
        /* ENOENT, ELOOP, ENOTDIR: removed or replaced since the read. */
        if (e != ENOENT && e != ELOOP && e != ENOTDIR)
            c = errno_err(w->l, w->err, e, "list", w->key.data, w->key.len - 1);
    } else {
        c = walk_dir(w, sfd, "", rest);
    }
    key_truncate(&w->key, base);
    return c;
}

/* Walks folder dfd (whose keys start with w->key) from the first entry past
 * rest (NULL: from the start), keeping entries that start with filter, until
 * the page is full. Takes dfd. */
static sl_code walk_dir(lwalk *w, int dfd, const char *filter, const char *rest)
{
    int usable;
    dir_ents *de = cache_take(w->l, w->key.data ? w->key.data : "", dfd, &usable);
    sl_code c = SL_OK;
    if (!usable) {
        c = dir_ents_read(w, dfd, de, &de);
        if (c != SL_OK) {
            close(dfd);
            return c;
        }
    }
    size_t flen = strlen(filter);
    size_t i = ents_bound(de, filter, 0);
    if (rest) {
        size_t j = ents_bound(de, rest, 1);
        /* The greatest name <= rest: the sub-folder holding the token, if any,
         * continues first. */
        const char *holder = j > 0 ? de->name[j - 1] : "";
        size_t hl = strlen(holder);
        if (!w->one_level && hl > 0 && holder[hl - 1] == '/' &&
            strncmp(rest, holder, hl) == 0 && strncmp(holder, filter, flen) == 0)
            c = walk_sub(w, dfd, holder, rest + hl);
        if (j > i)
            i = j;
    }
    for (; i < de->n && c == SL_OK && !w->full; i++) {
        const char *nm = de->name[i];
        if (strncmp(nm, filter, flen) != 0)
            break; /* names with the filter are one run */
        size_t nl = strlen(nm);
        if (nm[nl - 1] != '/')
            offer(w, dfd, nm, 0);
        else if (w->one_level)
            offer(w, dfd, nm, 1);
        else
            c = walk_sub(w, dfd, nm, NULL);
    }
    cache_give(w->l, de);
    close(dfd);
    return c;
}

static sl_code local_list(store *s, const store_list_req *req, store_page *out,
                          sl_err *err)
{
    local_store *l = impl(s);
    const char *prefix = req->prefix;
    const char *slash = strrchr(prefix, '/');
    size_t dlen = slash ? (size_t)(slash - prefix) : 0;
    size_t klen = slash ? dlen + 1 : 0; /* the folder's key prefix */
    const char *filter = slash ? slash + 1 : prefix;

    lwalk w = {.l = l,
               .token = req->start_token,
               .plen = strlen(prefix),
               .out = out,
               .max_keys = req->max_keys,
               .err = err,
               .started_ms = wall_ms()};
    w.one_level = req->delimiter && strcmp(req->delimiter, "/") == 0;
    if (req->delimiter && !w.one_level) {
        w.delim = req->delimiter;
        w.dlen = strlen(w.delim);
    }
    /* The token places the walk: before the folder, everything; past it,
     * nothing; inside it, the rest of the token leads the way down. */
    const char *rest = NULL;
    if (w.token && strncmp(w.token, prefix, klen) == 0)
        rest = w.token + klen;
    else if (w.token && strncmp(w.token, prefix, klen) > 0)
        return SL_OK;
    int dfd = -1;
    int e = dir_open(l, prefix, dlen, 0, 1, &dfd);
    if (e == ENOENT || e == ENOTDIR || e == ELOOP)
        return SL_OK; /* no folder, so no keys with this prefix */
    if (e)
        return errno_err(l, err, e, "list", prefix, dlen);
    buf_append(&w.key, prefix, klen);
    sl_code c = walk_dir(&w, dfd, filter, rest);
    buf_free(&w.key);
    return c;
}

/* ---- open / close ------------------------------------------------------ */

static void local_close(store *s)
{
    local_store *l = impl(s);
    if (!l)
        return;
    if (l->root_fd >= 0)
        close(l->root_fd);
    for (size_t i = 0; i < sizeof l->cache / sizeof l->cache[0]; i++)
        dir_ents_free(l->cache[i]);
    pthread_mutex_destroy(&l->cache_mu);
    free(l->root);
    free(l);
    s->impl = NULL;
}

static const store_ops local_ops = {
    .scheme = "file",
    .list = local_list,
    .get_range = local_get_range,
    .put = local_put,
    .del = local_del,
    .stat = local_stat,
    .close = local_close,
};

sl_code store_local_open(const char *root_path, store *s, sl_err *err)
{
    /* O_PATH needs only search permission on the root; reads and listings
     * still report a permission error naming the folder when it is unreadable. */
    int fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOTDIR)
            return err_set(err, SL_STORE_NOT_FOUND, "store root %s is not a folder",
                           root_path);
        return err_set(err, err_from_errno(e), "cannot open store root %s: %s", root_path,
                       strerror(e));
    }
    local_store *l = sl_calloc(1, sizeof *l);
    l->root = sl_strdup(root_path);
    size_t n = strlen(l->root);
    while (n > 1 && l->root[n - 1] == '/')
        l->root[--n] = '\0';
    l->root_fd = fd;
    pthread_mutex_init(&l->cache_mu, NULL);
    s->ops = &local_ops;
    s->impl = l;
    return SL_OK;
}
