/* All curses calls of sluice live here. */
#include "tui/crt.h"

#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "backend/util/buf.h"

static struct {
    SCREEN *screen;
    FILE *out, *in; /* script mode: /dev/null; interactive: stdout/stdin (not owned) */
    int virtual_screen;
    attr_t attr[EL_COUNT];
    short pair[EL_COUNT];
    int cur_row, cur_col, cur_visible;
    int mouse_kind, mouse_row, mouse_col;
} crt;

/* Wide-character curses needs a UTF-8 LC_CTYPE; a bare C locale (cron,
 * tmux without LANG) would turn every non-ASCII byte into garbage. */
static void crt_locale_init(void)
{
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0))
        return;
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
}

static int map_color(int c, int *bold)
{
    if (c == THEME_COLOR_DEFAULT)
        return -1;
    if (c >= COLORS && c >= 8 && c < 16) {
        *bold = 1; /* 8-colour terminals show bright colours as bold */
        return c - 8;
    }
    if (c >= COLORS)
        return c % 8;
    return c;
}

void crt_set_theme(const theme *t)
{
    int colors = has_colors() && COLORS >= 8;
    for (int i = 0; i < EL_COUNT; i++) {
        const theme_style *st = &t->el[i];
        attr_t a = A_NORMAL;
        if (st->attrs & THEME_BOLD)
            a |= A_BOLD;
        if (st->attrs & THEME_UNDERLINE)
            a |= A_UNDERLINE;
        if (st->attrs & THEME_REVERSE)
            a |= A_REVERSE;
        if (st->attrs & THEME_DIM)
            a |= A_DIM;
        if (st->attrs & THEME_ITALIC)
            a |= A_ITALIC;
        crt.pair[i] = 0;
        if (colors) {
            int bold = 0;
            short fg = (short)map_color(st->fg, &bold);
            short bg = (short)map_color(st->bg, &bold);
            init_pair((short)(i + 1), fg, bg);
            crt.pair[i] = (short)(i + 1);
            if (bold && st->fg >= 8)
                a |= A_BOLD;
        }
        crt.attr[i] = a;
    }
}

static void crt_setup(const theme *t)
{
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    curs_set(0);
    crt.cur_visible = 0;
    crt_set_theme(t);
}

sl_code crt_open_terminal(const theme *t, sl_err *err)
{
    crt_locale_init();
    crt.screen = newterm(NULL, stdout, stdin);
    if (!crt.screen) {
        const char *term = getenv("TERM");
        return err_set(err, SL_TUI_NO_TERMINAL,
                       "cannot start curses on terminal type '%s'",
                       term ? term : "(unset)");
    }
    set_term(crt.screen);
    crt.virtual_screen = 0;
    crt_setup(t);
    return SL_OK;
}

sl_code crt_open_virtual(int rows, int cols, const theme *t, sl_err *err)
{
    static const char *const types[] = {"xterm-256color", "xterm", "vt100"};
    crt_locale_init();
    crt.out = fopen("/dev/null", "w");
    crt.in = fopen("/dev/null", "r");
    if (!crt.out || !crt.in) {
        crt_close();
        return err_set(err, SL_IO, "cannot open /dev/null for the virtual screen");
    }
    /* The size comes from the script, not from LINES/COLUMNS. */
    use_env(FALSE);
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !crt.screen; i++)
        crt.screen = newterm(types[i], crt.out, crt.in);
    if (!crt.screen) {
        crt_close();
        return err_set(err, SL_TUI_NO_TERMINAL,
                       "no terminfo entry for xterm-256color, xterm or vt100");
    }
    set_term(crt.screen);
    crt.virtual_screen = 1;
    crt_setup(t);
    resizeterm(rows, cols);
    return SL_OK;
}

void crt_close(void)
{
    if (crt.screen) {
        endwin();
        delscreen(crt.screen);
        crt.screen = NULL;
    }
    if (crt.out)
        fclose(crt.out);
    if (crt.in)
        fclose(crt.in);
    crt.out = crt.in = NULL;
}

int crt_is_open(void)
{
    return crt.screen != NULL;
}

void crt_size(int *rows, int *cols)
{
    *rows = LINES;
    *cols = COLS;
}

void crt_resize(int rows, int cols)
{
    resizeterm(rows, cols);
}

void crt_erase(void)
{
    werase(stdscr);
}

static void set_elem(theme_elem e)
{
    if (e < 0 || e >= EL_COUNT)
        e = EL_NORMAL;
    wattr_set(stdscr, crt.attr[e], crt.pair[e], NULL);
}

void crt_fill(int row, int col, int width, theme_elem e)
{
    if (row < 0 || row >= LINES || col < 0 || col >= COLS)
        return;
    if (width > COLS - col)
        width = COLS - col;
    set_elem(e);
    for (int i = 0; i < width; i++)
        mvwaddch(stdscr, row, col + i, ' ');
    wattr_set(stdscr, A_NORMAL, 0, NULL);
}

/* UTF-8 -> wide characters a terminal can show. Control characters are
 * shown escaped, never sent (a file named with an ESC sequence must not
 * drive the terminal): C0 and DEL in caret notation (^[, ^?), C1 as \x9b;
 * undecodable bytes U+FFFD. Returns a malloc'd array; *n its length. */
static wchar_t *decode(const char *text, size_t *n)
{
    size_t len = strlen(text);
    wchar_t *w = sl_calloc(4 * len + 1, sizeof *w);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t k = 0;
    const char *p = text;
    while (*p) {
        wchar_t wc;
        size_t r = mbrtowc(&wc, p, strlen(p), &st);
        if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
            memset(&st, 0, sizeof st);
            wc = 0xFFFD;
            r = 1;
        }
        p += r;
        if (wc < 0x20 || wc == 0x7f) {
            w[k++] = L'^';
            w[k++] = wc == 0x7f ? L'?' : (wchar_t)(wc + 0x40);
            continue;
        }
        if (wc >= 0x80 && wc < 0xa0) {
            static const char hex[] = "0123456789abcdef";
            w[k++] = L'\\';
            w[k++] = L'x';
            w[k++] = (wchar_t)hex[(wc >> 4) & 0xf];
            w[k++] = (wchar_t)hex[wc & 0xf];
            continue;
        }
        w[k++] = wc;
    }
    *n = k;
    return w;
}

static int wc_cells(wchar_t wc)
{
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

int crt_text_width(const char *text)
{
    size_t n;
    wchar_t *w = decode(text ? text : "", &n);
    int cells = 0;
    for (size_t i = 0; i < n; i++)
        cells += wc_cells(w[i]);
    free(w);
    return cells;
}

/* Clips w[0..n) to width cells with a trailing ellipsis; returns the
 * number of characters kept (w is rewritten in place) and the cells. */
static size_t clip(wchar_t *w, size_t n, int width, int *cells_out)
{
    int total = 0;
    for (size_t i = 0; i < n; i++)
        total += wc_cells(w[i]);
    if (total <= width) {
        *cells_out = total;
        return n;
    }
    int cells = 0;
    size_t k = 0;
    while (k < n && cells + wc_cells(w[k]) <= width - 1) {
        cells += wc_cells(w[k]);
        k++;
    }
    if (width >= 1) {
        w[k++] = 0x2026; /* … */
        cells += 1;
    }
    *cells_out = cells;
    return k;
}

static int put_clipped(int row, int col, int width, theme_elem e, const char *text,
                       int right)
{
    if (row < 0 || row >= LINES || col < 0 || col >= COLS || width <= 0)
        return 0;
    if (width > COLS - col)
        width = COLS - col;
    size_t n;
    wchar_t *w = decode(text ? text : "", &n);
    int cells;
    size_t k = clip(w, n, width, &cells);
    int at = right ? col + width - cells : col;
    set_elem(e);
    for (size_t i = 0; i < k; i++) {
        cchar_t cc;
        wchar_t one[2] = {w[i], 0};
        if (wcwidth(w[i]) < 0)
            one[0] = L'?';
        setcchar(&cc, one, crt.attr[e < EL_COUNT ? e : EL_NORMAL],
                 crt.pair[e < EL_COUNT ? e : EL_NORMAL], NULL);
        mvwadd_wch(stdscr, row, at, &cc);
        at += wc_cells(w[i]);
    }
    wattr_set(stdscr, A_NORMAL, 0, NULL);
    free(w);
    return cells;
}

int crt_put(int row, int col, int width, theme_elem e, const char *text)
{
    return put_clipped(row, col, width, e, text, 0);
}

int crt_put_right(int row, int col, int width, theme_elem e, const char *text)
{
    return put_clipped(row, col, width, e, text, 1);
}

void crt_cursor(int row, int col, int visible)
{
    crt.cur_row = row;
    crt.cur_col = col;
    crt.cur_visible = visible;
}

void crt_flush(void)
{
    curs_set(crt.cur_visible ? 1 : 0);
    if (crt.cur_visible)
        wmove(stdscr, crt.cur_row, crt.cur_col);
    wnoutrefresh(stdscr);
    doupdate();
}

void crt_repaint(void)
{
    clearok(curscr, TRUE);
}

int crt_key_wait(int timeout_ms, int wake_fd)
{
    /* Keys ncurses already buffered first; then sleep on the terminal and
     * the wake fd together so finished background work shows at once. */
    int key = crt_key_read(0);
    if (key != CRT_KEY_NONE || wake_fd < 0)
        return key;
    struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                            {.fd = wake_fd, .events = POLLIN}};
    if (poll(fds, 2, timeout_ms) > 0 && (fds[0].revents & (POLLIN | POLLHUP)))
        return crt_key_read(0);
    return CRT_KEY_NONE;
}

int crt_key_read(int timeout_ms)
{
    wtimeout(stdscr, timeout_ms);
    wint_t wch;
    int r = wget_wch(stdscr, &wch);
    if (r == ERR)
        return CRT_KEY_NONE;
    if (r == KEY_CODE_YES) {
        switch (wch) {
        case KEY_UP:
            return CRT_KEY_UP;
        case KEY_DOWN:
            return CRT_KEY_DOWN;
        case KEY_LEFT:
            return CRT_KEY_LEFT;
        case KEY_RIGHT:
            return CRT_KEY_RIGHT;
        case KEY_PPAGE:
            return CRT_KEY_PGUP;
        case KEY_NPAGE:
            return CRT_KEY_PGDN;
        case KEY_HOME:
            return CRT_KEY_HOME;
        case KEY_END:
            return CRT_KEY_END;
        case KEY_BACKSPACE:
            return CRT_KEY_BACKSPACE;
        case KEY_DC:
            return CRT_KEY_DELETE;
        case KEY_BTAB:
            return CRT_KEY_BTAB;
        case KEY_RESIZE:
            return CRT_KEY_RESIZE;
        case KEY_ENTER:
            return CRT_KEY_ENTER;
        case KEY_F(1):
            return CRT_KEY_F1;
        case KEY_MOUSE: {
            MEVENT ev;
            if (getmouse(&ev) != OK)
                return CRT_KEY_NONE;
            crt.mouse_row = ev.y;
            crt.mouse_col = ev.x;
            crt.mouse_kind = (ev.bstate & BUTTON1_DOUBLE_CLICKED) ? CRT_MOUSE_DOUBLE
                             : (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))
                                 ? CRT_MOUSE_CLICK
                             : (ev.bstate & BUTTON4_PRESSED) ? CRT_MOUSE_WHEEL_UP
#ifdef BUTTON5_PRESSED
                             : (ev.bstate & BUTTON5_PRESSED) ? CRT_MOUSE_WHEEL_DOWN
#endif
                                                             : 0;
            return crt.mouse_kind ? CRT_KEY_MOUSE : CRT_KEY_NONE;
        }
        default:
            return CRT_KEY_NONE;
        }
    }
    if (wch == '\r')
        return CRT_KEY_ENTER;
    if (wch == 127 || wch == 8)
        return CRT_KEY_BACKSPACE;
    return (int)wch;
}

void crt_mouse(int on)
{
    mmask_t want = BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    want |= BUTTON5_PRESSED;
#endif
    mousemask(on ? want : 0, NULL);
    mouseinterval(on ? 250 : 0);
}

void crt_mouse_inject(int kind, int row, int col)
{
    crt.mouse_kind = kind;
    crt.mouse_row = row;
    crt.mouse_col = col;
}

int crt_mouse_last(int *row, int *col)
{
    *row = crt.mouse_row;
    *col = crt.mouse_col;
    return crt.mouse_kind;
}

char *crt_dump_text(void)
{
    sl_buf b = {0};
    int rows = LINES, cols = COLS;
    for (int y = 0; y < rows; y++) {
        size_t keep = b.len; /* length without trailing blanks */
        for (int x = 0; x < cols;) {
            cchar_t cc;
            wchar_t ws[CCHARW_MAX + 1];
            attr_t attrs;
            short pair;
            int w = 1;
            if (mvwin_wch(stdscr, y, x, &cc) == ERR ||
                getcchar(&cc, ws, &attrs, &pair, NULL) == ERR || ws[0] == 0) {
                ws[0] = L' ';
                ws[1] = 0;
            }
            w = wc_cells(ws[0]);
            if (w < 1)
                w = 1;
            for (int i = 0; ws[i] && i < CCHARW_MAX; i++) {
                char mb[MB_LEN_MAX];
                mbstate_t st;
                memset(&st, 0, sizeof st);
                size_t r = wcrtomb(mb, ws[i], &st);
                if (r == (size_t)-1) {
                    mb[0] = '?';
                    r = 1;
                }
                buf_append(&b, mb, r);
            }
            if (!(ws[0] == L' ' && ws[1] == 0))
                keep = b.len;
            x += w;
        }
        b.len = keep;
        buf_append_char(&b, '\n');
    }
    return buf_steal(&b);
}

/* One cell's look as words: "fg=N bg=N bold reverse ..." (N: colour number,
 * "-" the terminal's default). */
static void style_words(attr_t attrs, short pair, char *out, size_t outlen)
{
    short fg = -1, bg = -1;
    if (pair > 0)
        pair_content(pair, &fg, &bg);
    char f[8], g[8];
    snprintf(f, sizeof f, fg < 0 ? "-" : "%d", fg);
    snprintf(g, sizeof g, bg < 0 ? "-" : "%d", bg);
    snprintf(out, outlen, "fg=%s bg=%s%s%s%s%s%s", f, g, (attrs & A_BOLD) ? " bold" : "",
             (attrs & A_UNDERLINE) ? " underline" : "",
             (attrs & A_REVERSE) ? " reverse" : "", (attrs & A_DIM) ? " dim" : "",
             (attrs & A_ITALIC) ? " italic" : "");
}

char *crt_dump_styles(void)
{
    sl_buf b = {0};
    for (int y = 0; y < LINES; y++) {
        char prev[96] = "";
        int start = 0;
        buf_appendf(&b, "%d:", y);
        for (int x = 0; x <= COLS; x++) {
            char cur[96] = "";
            if (x < COLS) {
                cchar_t cc;
                wchar_t ws[CCHARW_MAX + 1];
                attr_t attrs = A_NORMAL;
                short pair = 0;
                if (mvwin_wch(stdscr, y, x, &cc) != ERR)
                    getcchar(&cc, ws, &attrs, &pair, NULL);
                style_words(attrs & (A_BOLD | A_UNDERLINE | A_REVERSE | A_DIM | A_ITALIC),
                            pair, cur, sizeof cur);
            }
            if (x == COLS || (x > 0 && strcmp(cur, prev) != 0)) {
                buf_appendf(&b, " %d-%d %s;", start, x - 1, prev);
                start = x;
            }
            memcpy(prev, cur, sizeof prev);
        }
        buf_append_char(&b, '\n');
    }
    return buf_steal(&b);
}

static sl_code write_text(const char *path, char *text, sl_err *err)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(text);
        return err_set(err, SL_IO, "cannot write screen dump %s", path);
    }
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, fp) != len;
    bad |= fclose(fp) != 0;
    free(text);
    if (bad)
        return err_set(err, SL_IO, "cannot write screen dump %s", path);
    return SL_OK;
}

sl_code crt_dump_styles_file(const char *path, sl_err *err)
{
    return write_text(path, crt_dump_styles(), err);
}

sl_code crt_dump_file(const char *path, sl_err *err)
{
    char *text = crt_dump_text();
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(text);
        return err_set(err, SL_IO, "cannot write screen dump %s", path);
    }
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, fp) != len;
    bad |= fclose(fp) != 0;
    free(text);
    if (bad)
        return err_set(err, SL_IO, "cannot write screen dump %s", path);
    return SL_OK;
}
