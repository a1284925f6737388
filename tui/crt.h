#ifndef SLUICE_TUI_CRT_H
#define SLUICE_TUI_CRT_H

#include "backend/util/err.h"
#include "tui/theme.h"

/* The only module that talks to curses (as htop's CRT.c). Everything else
 * draws through these functions with semantic elements and UTF-8 text.
 * Coordinates are (row, col) from the top-left corner, 0-based. */

/* Keys: a Unicode code point for text, or one of these above it. */
enum {
    CRT_KEY_NONE = -1, /* timeout, nothing read */
    CRT_KEY_ESC = 27,
    CRT_KEY_TAB = 9,
    CRT_KEY_ENTER = 10,
    CRT_KEY_BASE = 0x110000,
    CRT_KEY_UP,
    CRT_KEY_DOWN,
    CRT_KEY_LEFT,
    CRT_KEY_RIGHT,
    CRT_KEY_PGUP,
    CRT_KEY_PGDN,
    CRT_KEY_HOME,
    CRT_KEY_END,
    CRT_KEY_BACKSPACE,
    CRT_KEY_DELETE,
    CRT_KEY_BTAB,
    CRT_KEY_RESIZE,
    CRT_KEY_F1,
    CRT_KEY_MOUSE, /* crt_mouse_last says what and where */
};

/* Mouse events (only when crt_mouse(1) turned reporting on). */
enum { CRT_MOUSE_CLICK = 1, CRT_MOUSE_DOUBLE, CRT_MOUSE_WHEEL_UP, CRT_MOUSE_WHEEL_DOWN };
#define CRT_CTRL(c) ((c)&0x1f)

/* Mouse reporting on or off (off by default: a terminal's own selection
 * keeps working). */
void crt_mouse(int on);
/* The event of the last CRT_KEY_MOUSE: kind, screen row and column. */
int crt_mouse_last(int *row, int *col);
/* Scripts: the next CRT_KEY_MOUSE reports this event (the `click` action). */
void crt_mouse_inject(int kind, int row, int col);

/* Interactive: the real terminal (stdin/stdout must be ttys). */
sl_code crt_open_terminal(const theme *t, sl_err *err);
/* Script mode: a virtual screen of rows x cols writing to /dev/null on a
 * pinned terminal type, so no terminal is needed and dumps are stable. */
sl_code crt_open_virtual(int rows, int cols, const theme *t, sl_err *err);
void crt_close(void);
int crt_is_open(void);

void crt_set_theme(const theme *t);
void crt_size(int *rows, int *cols);
/* Script mode resize (interactive resizes arrive as CRT_KEY_RESIZE). */
void crt_resize(int rows, int cols);

/* Drawing into the off-screen buffer; crt_flush shows it. */
void crt_erase(void);
/* Fills width cells from (row, col) with blanks in element e. */
void crt_fill(int row, int col, int width, theme_elem e);
/* Writes UTF-8 text clipped to width display cells; text that does not fit
 * ends in "…". Returns the cells used. Wide characters count double. */
int crt_put(int row, int col, int width, theme_elem e, const char *text);
/* As crt_put, right-aligned inside [col, col+width). */
int crt_put_right(int row, int col, int width, theme_elem e, const char *text);
/* Where the terminal cursor should sit (prompt editing); visible 0 hides it. */
void crt_cursor(int row, int col, int visible);
void crt_flush(void);
/* Forget what the terminal shows and repaint everything (Ctrl-L). */
void crt_repaint(void);

/* Reads one key, waiting up to timeout_ms (-1 forever). CRT_KEY_NONE on timeout. */
int crt_key_read(int timeout_ms);
/* Waits up to timeout_ms for a key or for wake_fd to become readable
 * (then returns CRT_KEY_NONE); wake_fd < 0 waits for keys only. */
int crt_key_wait(int timeout_ms, int wake_fd);

/* Display width of UTF-8 text (invalid bytes count as one cell). */
int crt_text_width(const char *text);
/* The screen as text: rows lines of up to cols cells, trailing blanks trimmed,
 * each ending in '\n'. Caller frees. */
char *crt_dump_text(void);
sl_code crt_dump_file(const char *path, sl_err *err);
/* The screen's look: per row, runs of cells with the same colours and
 * attributes ("3: 0-11 fg=15 bg=4 bold; 12-79 fg=- bg=- ;"), what a theme
 * changes; the text dump cannot show it. */
char *crt_dump_styles(void);
sl_code crt_dump_styles_file(const char *path, sl_err *err);

#endif
