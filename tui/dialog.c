#include "tui/dialog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "tui/crt.h"
#include "tui/prompt.h"

enum { F_TARGET, F_REASON, F_CANCEL, F_CONFIRM, F_COUNT };

typedef struct dialog_line {
    theme_elem e;
    char *text;
} dialog_line;

struct tui_dialog {
    char *title;
    char *expect; /* NULL: no typed target */
    char *confirm_label;
    dialog_line *lines;
    size_t nlines;
    size_t top; /* first preview line shown */
    int page;   /* preview lines at the last draw (for PgUp/PgDn) */
    tui_prompt target, reason;
    int focus;
    char note[160]; /* why Confirm did not go through */
};

tui_dialog *dialog_new(const char *title, const char *expect, const char *confirm_label)
{
    tui_dialog *d = sl_calloc(1, sizeof *d);
    d->title = sl_strdup(title);
    d->expect = expect ? sl_strdup(expect) : NULL;
    d->confirm_label = sl_strdup(confirm_label ? confirm_label : "Confirm");
    prompt_start(&d->target, "", "");
    prompt_start(&d->reason, "", "");
    d->focus = d->expect ? F_TARGET : F_REASON;
    d->page = 1;
    return d;
}

void dialog_free(tui_dialog *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nlines; i++)
        free(d->lines[i].text);
    free(d->lines);
    prompt_free(&d->target);
    prompt_free(&d->reason);
    free(d->title);
    free(d->expect);
    free(d->confirm_label);
    free(d);
}

void dialog_add_line(tui_dialog *d, theme_elem e, const char *text)
{
    d->lines = sl_realloc(d->lines, (d->nlines + 1) * sizeof *d->lines);
    d->lines[d->nlines].e = e;
    d->lines[d->nlines].text = sl_strdup(text ? text : "");
    d->nlines++;
}

static char *field_text(const tui_prompt *p)
{
    char buf[PROMPT_MAX * 4];
    prompt_text(p, buf, sizeof buf);
    return sl_strdup(buf);
}

char *dialog_reason(const tui_dialog *d)
{
    char *r = field_text(&d->reason);
    char *s = r;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    char *out = sl_asprintf("%.*s", (int)n, s);
    free(r);
    return out;
}

/* Confirm goes through only with the exact target and a reason. */
static int ready(tui_dialog *d)
{
    if (d->expect) {
        char *t = field_text(&d->target);
        int same = strcmp(t, d->expect) == 0;
        free(t);
        if (!same) {
            snprintf(d->note, sizeof d->note, "type %s exactly to confirm", d->expect);
            d->focus = F_TARGET;
            return 0;
        }
    }
    char *r = dialog_reason(d);
    int has = r[0] != '\0';
    free(r);
    if (!has) {
        snprintf(d->note, sizeof d->note,
                 "a reason is required (it goes to the audit log)");
        d->focus = F_REASON;
        return 0;
    }
    return 1;
}

static void focus_move(tui_dialog *d, int step)
{
    do
        d->focus = (d->focus + step + F_COUNT) % F_COUNT;
    while (d->focus == F_TARGET && !d->expect);
}

static void scroll(tui_dialog *d, long by)
{
    long max = (long)d->nlines - d->page;
    long top = (long)d->top + by;
    if (top > max)
        top = max;
    if (top < 0)
        top = 0;
    d->top = (size_t)top;
}

int dialog_key(tui_dialog *d, int key)
{
    switch (key) {
    case CRT_KEY_ESC:
        return DIALOG_CANCEL;
    case CRT_KEY_TAB:
    case CRT_KEY_DOWN:
        focus_move(d, 1);
        return DIALOG_OPEN;
    case CRT_KEY_BTAB:
    case CRT_KEY_UP:
        focus_move(d, -1);
        return DIALOG_OPEN;
    case CRT_KEY_PGDN:
        scroll(d, d->page > 1 ? d->page - 1 : 1);
        return DIALOG_OPEN;
    case CRT_KEY_PGUP:
        scroll(d, -(d->page > 1 ? d->page - 1 : 1));
        return DIALOG_OPEN;
    default:
        break;
    }
    if (d->focus == F_CANCEL || d->focus == F_CONFIRM) {
        if (key == CRT_KEY_LEFT || key == CRT_KEY_RIGHT || key == 'h' || key == 'l')
            d->focus = d->focus == F_CANCEL ? F_CONFIRM : F_CANCEL;
        else if (key == CRT_KEY_ENTER && d->focus == F_CANCEL)
            return DIALOG_CANCEL;
        else if (key == CRT_KEY_ENTER && ready(d))
            return DIALOG_CONFIRM;
        return DIALOG_OPEN;
    }
    if (key == CRT_KEY_ENTER) {
        focus_move(d, 1); /* from the reason this lands on Cancel: the default */
        return DIALOG_OPEN;
    }
    d->note[0] = '\0';
    prompt_key(d->focus == F_TARGET ? &d->target : &d->reason, key);
    return DIALOG_OPEN;
}

static void draw_border(int top, int left, int h, int w)
{
    sl_buf line = {0};
    for (int i = 0; i < w - 2; i++)
        buf_append_str(&line, "─");
    char *t = sl_asprintf("┌%s┐", line.data ? line.data : "");
    char *b = sl_asprintf("└%s┘", line.data ? line.data : "");
    crt_put(top, left, w, EL_NORMAL, t);
    crt_put(top + h - 1, left, w, EL_NORMAL, b);
    for (int r = top + 1; r < top + h - 1; r++) {
        crt_put(r, left, 1, EL_NORMAL, "│");
        crt_put(r, left + w - 1, 1, EL_NORMAL, "│");
    }
    free(t);
    free(b);
    buf_free(&line);
}

static void draw_button(int row, int col, int width, const char *label, int focused,
                        theme_elem e)
{
    /* Angle marks show the focus without colour (monochrome, screen dumps). */
    char *txt = sl_asprintf(focused ? "> %s <" : "[ %s ]", label);
    crt_put(row, col, width, focused ? EL_SELECTION : e, txt);
    free(txt);
}

void dialog_draw(const tui_dialog *dc, tui_rect r)
{
    tui_dialog *d = (tui_dialog *)dc; /* the page size is remembered for scrolling */
    int w = r.cols > 100 ? 100 : r.cols;
    int left = r.col + (r.cols - w) / 2;
    int h = r.rows;
    if (w < 24 || h < 8) {
        crt_put(r.row, r.col, r.cols, EL_WARNING, "terminal too small for the dialog");
        return;
    }
    for (int i = 0; i < h; i++)
        crt_fill(r.row + i, left, w, EL_NORMAL);
    draw_border(r.row, left, h, w);
    int x = left + 2, iw = w - 4, row = r.row + 1;
    crt_fill(row, left + 1, w - 2, EL_HEADER);
    crt_put(row, x, iw, EL_HEADER, d->title);
    row++;

    int fixed = 4 + (d->expect ? 1 : 0); /* note, target?, reason, blank, buttons */
    int page = (r.row + h - 1) - row - fixed;
    d->page = page > 1 ? page : 1;
    if (d->top + (size_t)d->page > d->nlines)
        d->top = d->nlines > (size_t)d->page ? d->nlines - (size_t)d->page : 0;
    for (int i = 0; i < page; i++) {
        size_t k = d->top + (size_t)i;
        int last = i == page - 1;
        if (last && k + 1 < d->nlines) {
            char *more = sl_asprintf("… %zu more lines (PgDn)", d->nlines - k);
            crt_put(row + i, x, iw, EL_DIM, more);
            free(more);
        } else if (k < d->nlines) {
            crt_put(row + i, x, iw, d->lines[k].e, d->lines[k].text);
        }
    }
    row += page;

    if (d->note[0])
        crt_put(row, x, iw, EL_WARNING, d->note);
    else
        crt_put(row, x, iw, EL_DIM,
                "Tab moves between fields · Esc cancels · Cancel is the default");
    row++;

    int cursor_row = -1;
    const tui_prompt *cursor_field = NULL;
    char label[160];
    if (d->expect) {
        snprintf(label, sizeof label, "Type %s to confirm: ", d->expect);
        int lw = crt_put(row, x, iw, EL_NORMAL, label);
        prompt_draw(&d->target, row, x + lw, iw - lw,
                    d->focus == F_TARGET ? EL_PROMPT : EL_NORMAL);
        if (d->focus == F_TARGET) {
            cursor_row = row;
            cursor_field = &d->target;
        }
        row++;
    }
    int lw = crt_put(row, x, iw, EL_NORMAL, "Reason: ");
    prompt_draw(&d->reason, row, x + lw, iw - lw,
                d->focus == F_REASON ? EL_PROMPT : EL_NORMAL);
    if (d->focus == F_REASON) {
        cursor_row = row;
        cursor_field = &d->reason;
    }
    row += 2;

    int bw = crt_text_width(d->confirm_label) + 4;
    draw_button(row, x, 10, "Cancel", d->focus == F_CANCEL, EL_NORMAL);
    draw_button(row, x + 12, bw, d->confirm_label, d->focus == F_CONFIRM, EL_WARNING);
    /* The last prompt_draw placed the cursor; put it back on the focused
     * field, or hide it on the buttons. */
    if (cursor_field) {
        int flw = cursor_field == &d->target ? crt_text_width(label)
                                             : crt_text_width("Reason: ");
        prompt_draw(cursor_field, cursor_row, x + flw, iw - flw, EL_PROMPT);
    } else {
        crt_cursor(0, 0, 0);
    }
}
