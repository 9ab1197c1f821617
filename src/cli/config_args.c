#include "cli/config_args.h"

#include "hytrain/error.h"

int ht__config_from_args(ht_config *cfg, const char *path, char **sets, int n_sets) {
  ht_config_defaults(cfg);
  HT_CHECK(ht_config_load_file(cfg, path));
  for (int i = 0; i < n_sets; i++) HT_CHECK(ht_config_set(cfg, sets[i]));
  HT_CHECK(ht_config_validate(cfg));
  return 0;
}
