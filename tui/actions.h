#ifndef SLUICE_TUI_ACTIONS_H
#define SLUICE_TUI_ACTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "backend/util/err.h"

/* The action table (actions.def): names, keys, groups, flags and help. */

enum {
    ACT_MUTATES = 1u << 0,
    ACT_ARG = 1u << 1,
    ACT_ARG_OPT = 1u << 2,
    ACT_BAR = 1u << 3,
    ACT_SCRIPT = 1u << 4,
};

typedef enum action_group {
    GROUP_MOVE,
    GROUP_VIEWS,
    GROUP_CONSOLE,
    GROUP_PIPELINE,
    GROUP_TABLE,
    GROUP_AUDIT,
    GROUP_RUNBOOK,
    GROUP_SCRIPT,
    GROUP_COUNT
} action_group;

typedef enum action_id {
#define ACTION(id, name, keys, group, flags, args, help) id,
#include "tui/actions.def"
#undef ACTION
    ACT_COUNT
} action_id;

typedef struct action_desc {
    action_id id;
    const char *name;
    const char *keys; /* space-separated key names, "" when none */
    action_group group;
    unsigned flags;
    const char *args; /* usage of the argument, "" when none */
    const char *help;
} action_desc;

const action_desc *actions_table(size_t *n);
const action_desc *actions_get(action_id id);
/* NULL when no action has that name. */
const action_desc *actions_find(const char *name);
const char *actions_group_name(action_group g);
/* Whether the action is offered (keys, `:`, help) in this mode. */
int actions_available(const action_desc *a, int read_only);

/* Key names: a single character ("j", "?"), "Enter", "Esc", "Tab", "S-Tab",
 * "Up", "Down", "Left", "Right", "PgUp", "PgDn", "Home", "End", "Space",
 * "Backspace", "Delete", "F1", "C-x" (control). -1 when unknown. */
int actions_key_parse(const char *name);
/* The printable name of a key code into out. */
void actions_key_name(int key, char *out, size_t outlen);

/* The action bound to key (read-only mode drops mutating actions), or
 * ACT_COUNT when the key is unbound. */
action_id actions_for_key(int key, int read_only);

/* A console's key map: the table's default keys, then the user's bindings
 * from the config (console.keys), which win: a key a user binds leaves
 * whatever action had it by default. Help and the key bar show the map. */
typedef struct action_keymap action_keymap;
action_keymap *keymap_new(void);
void keymap_free(action_keymap *m);
/* keys: space-separated key names ("" unbinds the action). SL_CONFIG_INVALID
 * naming the action or the key; the map is unchanged then. */
sl_code keymap_bind(action_keymap *m, const char *action, const char *keys, sl_err *err);
/* The keys of an action in this map (m NULL: the table's defaults). */
const char *keymap_keys(const action_keymap *m, action_id id);
/* Like actions_for_key, in this map. */
action_id keymap_lookup(const action_keymap *m, int key, int read_only);

/* "name [ARGS]  keys  help", one per action (sluice tui --actions). */
void actions_print(FILE *out, int read_only);

#endif
