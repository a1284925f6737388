#ifndef SLUICE_TUI_THEME_H
#define SLUICE_TUI_THEME_H

#include "backend/util/err.h"

/* Semantic colour elements (htop's idea): drawing code names what a thing
 * is, never a colour; a theme file says how each element looks.
 *   X(enum id, name in theme files, what it is for) */
#define THEME_ELEMENTS(X)                                                       \
    X(EL_NORMAL, "normal", "plain text of lists and details")                   \
    X(EL_TITLE, "title", "the title line under the banner")                     \
    X(EL_TAB, "tab", "a view tab in the title line")                            \
    X(EL_TAB_ACTIVE, "tab_active", "the tab of the current view")               \
    X(EL_CRUMB, "crumb", "the breadcrumb of drilled-down views")                \
    X(EL_HEADER, "header", "column headers")                                    \
    X(EL_SELECTION, "selection", "the selected row")                            \
    X(EL_SECTION, "section", "a section line inside a list")                    \
    X(EL_STATUS, "status", "the status line")                                   \
    X(EL_STATUS_RO, "status_readonly", "the read-only flag in the status line") \
    X(EL_STATUS_ERROR, "status_error", "the last error in the status line")     \
    X(EL_MESSAGE, "message", "the message and key bar at the bottom")           \
    X(EL_PROMPT, "prompt", "the : command line and / filter prompt")            \
    X(EL_KEY, "key", "key names in the key bar and help")                       \
    X(EL_OK, "ok", "success: verified chain, succeeded events")                 \
    X(EL_FAILED, "failed", "failure: broken chain, failed events, load errors") \
    X(EL_WARNING, "warning", "warnings: refused events, unknown values")        \
    X(EL_DIM, "dim", "secondary text")                                          \
    X(EL_LOADING, "loading", "the loading spinner")                             \
    X(EL_BANNER_RED, "banner_red", "environment banner, colour red")            \
    X(EL_BANNER_YELLOW, "banner_yellow", "environment banner, colour yellow")   \
    X(EL_BANNER_GREEN, "banner_green", "environment banner, colour green")      \
    X(EL_BANNER_BLUE, "banner_blue", "environment banner, colour blue")         \
    X(EL_BANNER_MAGENTA, "banner_magenta", "environment banner, colour magenta") \
    X(EL_BANNER_CYAN, "banner_cyan", "environment banner, colour cyan")         \
    X(EL_BANNER_WHITE, "banner_white", "environment banner, colour white")

typedef enum theme_elem {
#define THEME_ENUM(id, name, help) id,
    THEME_ELEMENTS(THEME_ENUM)
#undef THEME_ENUM
        EL_COUNT
} theme_elem;

enum {
    THEME_BOLD = 1u << 0,
    THEME_UNDERLINE = 1u << 1,
    THEME_REVERSE = 1u << 2,
    THEME_DIM = 1u << 3,
    THEME_ITALIC = 1u << 4,
};

#define THEME_COLOR_DEFAULT (-1)

/* fg/bg: THEME_COLOR_DEFAULT or 0..255 (0-7 the basic colours, 8-15 bright). */
typedef struct theme_style {
    int fg, bg;
    unsigned attrs;
} theme_style;

typedef struct theme {
    char name[64];
    char path[512];
    theme_style el[EL_COUNT];
} theme;

const char *theme_elem_name(theme_elem e);
/* EL_COUNT when unknown. */
theme_elem theme_elem_from_name(const char *name);
/* The banner element for a config banner colour ("red"...); blue when unknown. */
theme_elem theme_banner_elem(const char *color);

/* Parses "element = fg bg [attrs...]" lines (# comments). Elements a file
 * leaves out look like "normal". Errors: SL_THEME_INVALID naming path:line. */
sl_code theme_parse(const char *text, const char *path, theme *out, sl_err *err);
sl_code theme_load_file(const char *path, theme *out, sl_err *err);

/* The themes directory: $SLUICE_THEMES_DIR, else <exe>/../share/sluice/themes,
 * else $SLUICE_SOURCE_DIR/themes, else <exe>/../themes (a build dir inside
 * the source tree). NULL when none exists. Caller frees. */
char *theme_dir_find(void);

/* Which theme to use: NO_COLOR (non-empty) forces "monochrome"; else the
 * requested name (--theme), else the config's, else "dark". */
const char *theme_choose(const char *requested, const char *config_theme);

/* Loads a theme by name from the themes directory, or by path when the name
 * contains '/' or ends in ".theme". */
sl_code theme_load(const char *name, theme *out, sl_err *err);

#endif
