#ifndef SLUICE_UTIL_ERR_H
#define SLUICE_UTIL_ERR_H

#include <stddef.h>

/* Stable error codes; the table lives in errors.def. */
typedef enum sl_code {
#define ERR(id, name, exit_code, hint) id,
#include "backend/util/errors.def"
#undef ERR
    SL_CODE_COUNT
} sl_code;

/* An error travels up the stack as a code plus a message; the hint comes
 * from the table. Printing happens only at the top (CLI, console, log). */
typedef struct sl_err {
    sl_code code;
    char msg[1024];
} sl_err;

/* Records code and message in *e (which may be NULL) and returns code, so
 * callers can write `return err_set(e, SL_IO, "...", ...);`. */
sl_code err_set(sl_err *e, sl_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes context to an existing message, keeping its code. */
sl_code err_wrap(sl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(sl_err *e);

const char *err_code_name(sl_code code); /* "SL-DELTA-GAP" */
const char *err_code_hint(sl_code code);
int err_code_exit(sl_code code); /* process exit code */
/* Looks up a printed code; returns SL_CODE_COUNT when unknown. */
sl_code err_code_from_name(const char *name);

/* errno -> store-flavoured code (ENOENT -> SL_STORE_NOT_FOUND, ...). */
sl_code err_from_errno(int errnum);

/* Writes the whole table as Markdown (the content of docs/errors.md). */
char *err_table_markdown(void);

#endif
