#ifndef SLUICE_UTIL_PATHS_H
#define SLUICE_UTIL_PATHS_H

#include "backend/util/err.h"

/* $SLUICE_STATE_DIR, else $XDG_STATE_HOME/sluice, else
 * ~/.local/state/sluice; created (0700) when missing. Caller frees. */
sl_code paths_state_dir(char **out, sl_err *err);
/* $XDG_CONFIG_HOME/sluice, else ~/.config/sluice (not created). */
char *paths_config_dir(void);
/* mkdir -p with the given mode. */
sl_code paths_mkdirs(const char *path, int mode, sl_err *err);
/* dir + "/" + name, without doubling the slash. Caller frees. */
char *paths_join(const char *dir, const char *name);

#endif
