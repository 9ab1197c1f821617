/* Loading CONFIG + --set overrides, shared by `train` and `config`. */
#ifndef HT_CLI_CONFIG_ARGS_H
#define HT_CLI_CONFIG_ARGS_H

#include "hytrain/config.h"

/* Defaults, then the file, then each "key=value" in order, then validation. */
int ht__config_from_args(ht_config *cfg, const char *path, char **sets, int n_sets);

#endif
