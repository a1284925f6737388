#include "backend/util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"

struct err_row {
    const char *name;
    int exit_code;
    const char *hint;
};

static const struct err_row err_rows[SL_CODE_COUNT] = {
#define ERR(id, name, exit_code, hint) [id] = {name, exit_code, hint},
#include "backend/util/errors.def"
#undef ERR
};

sl_code err_set(sl_err *e, sl_code code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

sl_code err_wrap(sl_err *e, const char *fmt, ...)
{
    if (!e)
        return SL_FAILED;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Built by hand: the joined text is cut to fit on purpose. */
    sl_buf b = {0};
    buf_append_str(&b, prefix);
    buf_append_str(&b, ": ");
    buf_append_str(&b, e->msg);
    size_t n = b.len < sizeof e->msg - 1 ? b.len : sizeof e->msg - 1;
    memcpy(e->msg, b.data, n);
    e->msg[n] = '\0';
    buf_free(&b);
    return e->code;
}

void err_clear(sl_err *e)
{
    if (e) {
        e->code = SL_OK;
        e->msg[0] = '\0';
    }
}

const char *err_code_name(sl_code code)
{
    return (unsigned)code < SL_CODE_COUNT ? err_rows[code].name : "SL-INTERNAL";
}

const char *err_code_hint(sl_code code)
{
    return (unsigned)code < SL_CODE_COUNT ? err_rows[code].hint : "";
}

int err_code_exit(sl_code code)
{
    return (unsigned)code < SL_CODE_COUNT ? err_rows[code].exit_code : 1;
}

sl_code err_code_from_name(const char *name)
{
    for (int i = 0; i < SL_CODE_COUNT; i++)
        if (name && strcmp(err_rows[i].name, name) == 0)
            return (sl_code)i;
    return SL_CODE_COUNT;
}

sl_code err_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        return SL_STORE_NOT_FOUND;
    case EEXIST:
        return SL_STORE_EXISTS;
    case EACCES:
    case EPERM:
    case EROFS:
        return SL_STORE_PERMISSION;
    case ENOMEM:
        return SL_NOMEM;
    default:
        return SL_STORE_IO;
    }
}

char *err_table_markdown(void)
{
    sl_buf b = {0};
    buf_appendf(&b, "# Error codes\n\n"
                    "Generated from `backend/util/errors.def` by `sluice errors "
                    "--markdown`; a unit test keeps the two in step.\n"
                    "Every error sluice reports carries one of these codes, the "
                    "same in the CLI, the console, the structured log and the run "
                    "table.\n\n"
                    "Exit codes: 0 ok, 1 failed, 2 usage, 3 refused, 4 conflict.\n\n"
                    "| code | exit | what to do |\n|---|---|---|\n");
    for (int i = 0; i < SL_CODE_COUNT; i++)
        buf_appendf(&b, "| `%s` | %d | %s |\n", err_rows[i].name, err_rows[i].exit_code,
                    err_rows[i].hint);
    return buf_steal(&b);
}
