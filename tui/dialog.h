#ifndef SLUICE_TUI_DIALOG_H
#define SLUICE_TUI_DIALOG_H

#include <stddef.h>

#include "tui/theme.h"
#include "tui/view.h"

/* The confirmation dialog of an intervention: a scrollable preview of what
 * will change, a field where the operator types the target (for destructive
 * actions), a reason field, and Cancel / Confirm buttons. Focus moves with
 * Tab / S-Tab (or Up / Down, Enter in a field); Esc cancels. Enter answers
 * only on a button, Cancel is the default, and Confirm holds until the typed
 * target matches exactly and the reason is not blank. */

typedef struct tui_dialog tui_dialog;

enum { DIALOG_OPEN, DIALOG_CANCEL, DIALOG_CONFIRM };

/* expect: the text to type ("orders@12"), or NULL when only a reason is
 * needed. confirm_label: the Confirm button's word ("Restore"). */
tui_dialog *dialog_new(const char *title, const char *expect, const char *confirm_label);
void dialog_free(tui_dialog *d);
/* One preview line (no newline) in element e. */
void dialog_add_line(tui_dialog *d, theme_elem e, const char *text);
/* One key; DIALOG_OPEN while the dialog stays. */
int dialog_key(tui_dialog *d, int key);
/* The reason typed, trimmed (caller frees). */
char *dialog_reason(const tui_dialog *d);
void dialog_draw(const tui_dialog *d, tui_rect r);

#endif
