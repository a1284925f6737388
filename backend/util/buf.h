#ifndef SLUICE_UTIL_BUF_H
#define SLUICE_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte buffer; always NUL-terminated after data[len] so text can
 * be used as a C string. Zero-initialise ({0}) to start; buf_free releases. */
typedef struct sl_buf {
    char *data;
    size_t len;
    size_t cap;
} sl_buf;

/* All appenders abort() on allocation failure: out-of-memory is not a state
 * the console can recover from meaningfully, and it keeps callers simple. */
void buf_reserve(sl_buf *b, size_t extra);
void buf_append(sl_buf *b, const void *data, size_t len);
void buf_append_str(sl_buf *b, const char *s);
void buf_append_char(sl_buf *b, char c);
void buf_appendf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vappendf(sl_buf *b, const char *fmt, va_list ap);
void buf_reset(sl_buf *b);
void buf_free(sl_buf *b);
/* Hands the data to the caller (free() it) and empties the buffer. */
char *buf_steal(sl_buf *b);

/* strdup that aborts on failure; NULL in, NULL out. */
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
char *sl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t size);

#endif
