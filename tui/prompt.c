#include "tui/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "tui/crt.h"
#include "tui/fmt.h"

/* Decodes UTF-8 into code points (invalid bytes become U+FFFD). */
static size_t decode(const char *s, int *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p && n < max) {
        int len = 1, cp = *p;
        if (*p >= 0xF0 && *p < 0xF8) {
            len = 4;
            cp = *p & 0x07;
        } else if (*p >= 0xE0) {
            len = 3;
            cp = *p & 0x0F;
        } else if (*p >= 0xC0) {
            len = 2;
            cp = *p & 0x1F;
        } else if (*p >= 0x80) {
            len = 0;
        }
        int ok = len > 0;
        for (int i = 1; ok && i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                ok = 0;
            else
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (!ok) {
            out[n++] = 0xFFFD;
            p++;
            continue;
        }
        out[n++] = cp;
        p += len;
    }
    return n;
}

void prompt_set(tui_prompt *p, const char *text)
{
    p->len = decode(text ? text : "", p->cp, PROMPT_MAX);
    p->pos = p->len;
}

void prompt_start(tui_prompt *p, const char *prefix, const char *initial)
{
    snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
    prompt_set(p, initial);
    p->browse = p->nhistory;
}

void prompt_text(const tui_prompt *p, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < p->len; i++) {
        char b[5];
        size_t n = fmt_utf8(p->cp[i], b);
        if (k + n >= outlen)
            break;
        memcpy(out + k, b, n);
        k += n;
    }
    out[k] = '\0';
}

void prompt_history_add(tui_prompt *p, const char *line)
{
    if (!line || !*line)
        return;
    if (p->nhistory > 0 && strcmp(p->history[p->nhistory - 1], line) == 0)
        return;
    if (p->nhistory == PROMPT_HISTORY) {
        free(p->history[0]);
        memmove(p->history, p->history + 1, (PROMPT_HISTORY - 1) * sizeof p->history[0]);
        p->nhistory--;
    }
    p->history[p->nhistory++] = sl_strdup(line);
}

static void delete_range(tui_prompt *p, size_t from, size_t to)
{
    memmove(p->cp + from, p->cp + to, (p->len - to) * sizeof p->cp[0]);
    p->len -= to - from;
    p->pos = from;
}

int prompt_key(tui_prompt *p, int key)
{
    switch (key) {
    case CRT_KEY_ENTER:
        return PROMPT_ACCEPT;
    case CRT_KEY_ESC:
        return PROMPT_CANCEL;
    case CRT_KEY_LEFT:
        if (p->pos > 0)
            p->pos--;
        return PROMPT_MOVED;
    case CRT_KEY_RIGHT:
        if (p->pos < p->len)
            p->pos++;
        return PROMPT_MOVED;
    case CRT_KEY_HOME:
    case CRT_CTRL('a'):
        p->pos = 0;
        return PROMPT_MOVED;
    case CRT_KEY_END:
    case CRT_CTRL('e'):
        p->pos = p->len;
        return PROMPT_MOVED;
    case CRT_KEY_BACKSPACE:
        if (p->pos == 0)
            return PROMPT_IGNORED;
        delete_range(p, p->pos - 1, p->pos);
        return PROMPT_EDITED;
    case CRT_KEY_DELETE:
    case CRT_CTRL('d'):
        if (p->pos == p->len)
            return PROMPT_IGNORED;
        delete_range(p, p->pos, p->pos + 1);
        return PROMPT_EDITED;
    case CRT_CTRL('u'):
        delete_range(p, 0, p->pos);
        return PROMPT_EDITED;
    case CRT_CTRL('k'):
        p->len = p->pos;
        return PROMPT_EDITED;
    case CRT_CTRL('w'): {
        size_t from = p->pos;
        while (from > 0 && p->cp[from - 1] == ' ')
            from--;
        while (from > 0 && p->cp[from - 1] != ' ')
            from--;
        delete_range(p, from, p->pos);
        return PROMPT_EDITED;
    }
    case CRT_KEY_UP:
        if (p->browse > 0) {
            p->browse--;
            prompt_set(p, p->history[p->browse]);
            return PROMPT_EDITED;
        }
        return PROMPT_IGNORED;
    case CRT_KEY_DOWN:
        if (p->browse < p->nhistory) {
            p->browse++;
            prompt_set(p, p->browse < p->nhistory ? p->history[p->browse] : "");
            return PROMPT_EDITED;
        }
        return PROMPT_IGNORED;
    default:
        break;
    }
    if (key < 0x20 || key >= CRT_KEY_BASE || key == 0x7f || p->len >= PROMPT_MAX - 1)
        return PROMPT_IGNORED;
    memmove(p->cp + p->pos + 1, p->cp + p->pos, (p->len - p->pos) * sizeof p->cp[0]);
    p->cp[p->pos++] = key;
    p->len++;
    return PROMPT_EDITED;
}

void prompt_draw(const tui_prompt *p, int row, int col, int cols, theme_elem e)
{
    crt_fill(row, col, cols, e);
    int used = crt_put(row, col, cols, e, p->prefix);
    /* Scroll horizontally: drop characters from the left until the
     * cursor fits on the line. */
    size_t start = 0;
    for (;;) {
        int w = 0;
        for (size_t i = start; i < p->pos; i++) {
            char b[5];
            fmt_utf8(p->cp[i], b);
            w += crt_text_width(b);
        }
        if (used + w < cols || start >= p->pos)
            break;
        start++;
    }
    sl_buf text = {0};
    int cursor = used;
    for (size_t i = start; i < p->len; i++) {
        char b[5];
        fmt_utf8(p->cp[i], b);
        if (i < p->pos)
            cursor += crt_text_width(b);
        buf_append_str(&text, b);
    }
    crt_put(row, col + used, cols - used, e, text.data ? text.data : "");
    buf_free(&text);
    crt_cursor(row, col + (cursor < cols ? cursor : cols - 1), 1);
}

void prompt_free(tui_prompt *p)
{
    for (int i = 0; i < p->nhistory; i++)
        free(p->history[i]);
    p->nhistory = 0;
}
