#ifndef SLUICE_TUI_PROMPT_H
#define SLUICE_TUI_PROMPT_H

#include <stddef.h>

#include "tui/theme.h"

/* The one-line editor of the `:` command line and the `/` filter:
 * Left/Right, Home/End (C-a/C-e), Backspace/Delete, C-u, C-k, C-w, and
 * Up/Down through the history of accepted lines. */
#define PROMPT_MAX 512
#define PROMPT_HISTORY 32

typedef struct tui_prompt {
    int cp[PROMPT_MAX];    /* code points */
    size_t len, pos;
    char prefix[8];        /* ":" or "/" */
    char *history[PROMPT_HISTORY];
    int nhistory, browse;  /* browse: position while walking the history */
} tui_prompt;

enum { PROMPT_IGNORED, PROMPT_MOVED, PROMPT_EDITED, PROMPT_ACCEPT, PROMPT_CANCEL };

void prompt_start(tui_prompt *p, const char *prefix, const char *initial);
void prompt_set(tui_prompt *p, const char *text);
int prompt_key(tui_prompt *p, int key);
/* The text as UTF-8 into out. */
void prompt_text(const tui_prompt *p, char *out, size_t outlen);
void prompt_history_add(tui_prompt *p, const char *line);
/* Draws prefix + text in cols cells from (row, col), scrolled so the cursor
 * shows, and places the cursor. */
void prompt_draw(const tui_prompt *p, int row, int col, int cols, theme_elem e);
void prompt_free(tui_prompt *p);

#endif
