#include "tui/actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/util/buf.h"
#include "tui/crt.h"
#include "tui/fmt.h"

static const action_desc table[ACT_COUNT] = {
#define ACTION(id, name, keys, group, flags, args, help)                                 \
    {id, name, keys, group, flags, args, help},
#include "tui/actions.def"
#undef ACTION
};

static const struct {
    const char *name;
    int key;
} key_names[] = {
    {"Enter", CRT_KEY_ENTER},
    {"Esc", CRT_KEY_ESC},
    {"Tab", CRT_KEY_TAB},
    {"S-Tab", CRT_KEY_BTAB},
    {"Up", CRT_KEY_UP},
    {"Down", CRT_KEY_DOWN},
    {"Left", CRT_KEY_LEFT},
    {"Right", CRT_KEY_RIGHT},
    {"PgUp", CRT_KEY_PGUP},
    {"PgDn", CRT_KEY_PGDN},
    {"Home", CRT_KEY_HOME},
    {"End", CRT_KEY_END},
    {"Space", ' '},
    {"Backspace", CRT_KEY_BACKSPACE},
    {"Delete", CRT_KEY_DELETE},
    {"F1", CRT_KEY_F1},
    {"Resize", CRT_KEY_RESIZE},
};

const action_desc *actions_table(size_t *n)
{
    *n = ACT_COUNT;
    return table;
}

const action_desc *actions_get(action_id id)
{
    return (id >= 0 && id < ACT_COUNT) ? &table[id] : NULL;
}

const action_desc *actions_find(const char *name)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const char *actions_group_name(action_group g)
{
    static const char *const names[GROUP_COUNT] = {
        "Move", "Views", "Console", "Pipeline", "Tables", "Audit", "Runbooks", "Scripts"};
    return (g >= 0 && g < GROUP_COUNT) ? names[g] : "?";
}

int actions_available(const action_desc *a, int read_only)
{
    return !(read_only && (a->flags & ACT_MUTATES));
}

/* Decodes one UTF-8 character; -1 unless name is exactly one character. */
static int single_char(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int len, cp;
    if (p[0] < 0x80) {
        len = 1;
        cp = p[0];
    } else if ((p[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return -1;
    }
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    return p[len] == '\0' && cp > 0 ? cp : -1;
}

int actions_key_parse(const char *name)
{
    if (!name || !*name)
        return -1;
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (strcmp(key_names[i].name, name) == 0)
            return key_names[i].key;
    if (strncmp(name, "C-", 2) == 0 && name[2] && !name[3]) {
        char c = name[2];
        if ((c >= 'a' && c <= 'z') || (c >= '@' && c <= '_'))
            return CRT_CTRL(c);
        return -1;
    }
    return single_char(name);
}

void actions_key_name(int key, char *out, size_t outlen)
{
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (key_names[i].key == key) {
            snprintf(out, outlen, "%s", key_names[i].name);
            return;
        }
    if (key > 0 && key < 32) {
        snprintf(out, outlen, "C-%c", key + 'a' - 1);
        return;
    }
    if (key > 0 && key < 0x110000) {
        char b[5];
        fmt_utf8(key, b);
        snprintf(out, outlen, "%s", b);
        return;
    }
    snprintf(out, outlen, "?");
}

static int keys_contain(const char *keys, int key)
{
    char word[32];
    const char *p = keys;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        if (n < sizeof word) {
            memcpy(word, p, n);
            word[n] = '\0';
            if (actions_key_parse(word) == key)
                return 1;
        }
        p += n;
    }
    return 0;
}

action_id actions_for_key(int key, int read_only)
{
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (actions_available(&table[i], read_only) && keys_contain(table[i].keys, key))
            return table[i].id;
    return ACT_COUNT;
}

void actions_print(FILE *out, int read_only)
{
    for (size_t i = 0; i < ACT_COUNT; i++) {
        const action_desc *a = &table[i];
        if (!actions_available(a, read_only))
            continue;
        char usage[64];
        snprintf(usage, sizeof usage, "%s%s%s", a->name, *a->args ? " " : "", a->args);
        fprintf(out, "%-18s %-12s %-8s %s\n", usage, *a->keys ? a->keys : "-",
                actions_group_name(a->group), a->help);
    }
}

/* ---- key maps: the table's defaults, then the user's bindings ------------- */

struct action_keymap {
    char *keys[ACT_COUNT]; /* space-separated key names per action */
};

action_keymap *keymap_new(void)
{
    action_keymap *m = sl_calloc(1, sizeof *m);
    for (size_t i = 0; i < ACT_COUNT; i++)
        m->keys[i] = sl_strdup(table[i].keys);
    return m;
}

void keymap_free(action_keymap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < ACT_COUNT; i++)
        free(m->keys[i]);
    free(m);
}

/* keys without every key that parses to `key`. */
static char *keys_without(const char *keys, int key)
{
    sl_buf b = {0};
    const char *p = keys;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        if (actions_key_parse(word) != key)
            buf_appendf(&b, "%s%s", b.len ? " " : "", word);
        p += n;
    }
    return b.data ? buf_steal(&b) : sl_strdup("");
}

sl_code keymap_bind(action_keymap *m, const char *action, const char *keys, sl_err *err)
{
    const action_desc *d = actions_find(action);
    if (!d)
        return err_set(err, SL_CONFIG_INVALID,
                       "console.keys: no action named \"%s\" (`sluice tui --actions` "
                       "lists them)",
                       action);
    if (d->flags & ACT_SCRIPT)
        return err_set(err, SL_CONFIG_INVALID,
                       "console.keys: \"%s\" works in scripts only and takes no key",
                       action);
    /* Check every key first: a bad binding changes nothing. */
    const char *p = keys;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        int key = actions_key_parse(word);
        if (n >= sizeof word || key < 0 || key == CRT_KEY_RESIZE)
            return err_set(err, SL_CONFIG_INVALID,
                           "console.keys.%s: \"%.*s\" is not a key name (a character, "
                           "Enter, Esc, Tab, S-Tab, Up, PgDn, Space, F1, C-x...)",
                           action, (int)n, p);
        p += n;
    }
    /* The user's binding wins: its keys leave whatever action had them. */
    p = keys;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        int key = actions_key_parse(word);
        for (size_t i = 0; i < ACT_COUNT; i++) {
            char *rest = keys_without(m->keys[i], key);
            free(m->keys[i]);
            m->keys[i] = rest;
        }
        p += n;
    }
    free(m->keys[d->id]);
    m->keys[d->id] = sl_strdup(keys);
    return SL_OK;
}

const char *keymap_keys(const action_keymap *m, action_id id)
{
    if (id < 0 || id >= ACT_COUNT)
        return "";
    return m ? m->keys[id] : table[id].keys;
}

action_id keymap_lookup(const action_keymap *m, int key, int read_only)
{
    if (!m)
        return actions_for_key(key, read_only);
    for (size_t i = 0; i < ACT_COUNT; i++)
        if (actions_available(&table[i], read_only) && keys_contain(m->keys[i], key))
            return table[i].id;
    return ACT_COUNT;
}
