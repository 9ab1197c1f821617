/*
 * Checks of a whole config: every value against its option's rules (a config
 * can be edited in code, not only parsed) and the rules that span keys.
 */
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

/* comm.wait is yield, block or sleep:<us> with 1 <= us <= 1000000. */
static int ht__config_check_comm_wait(const char *w) {
  if (strcmp(w, "yield") == 0 || strcmp(w, "block") == 0) return 0;
  if (strncmp(w, "sleep:", 6) == 0) {
    char *end = NULL;
    long us = strtol(w + 6, &end, 10);
    if (end != w + 6 && *end == '\0' && us >= 1 && us <= 1000000) return 0;
  }
  return ht_error(HT_ECONFIG, "comm.wait: expected yield, block or sleep:<microseconds> (1..1000000), got '%s'", w);
}

int ht_config_validate(const ht_config *cfg) {
  int n;
  const ht_option *opts = ht_config_options(&n);
  ht__config_fail fail;
  for (int i = 0; i < n; i++)
    if (ht__config_check_value(cfg, &opts[i], &fail) < 0) return ht_error(HT_ECONFIG, "%s: %s", opts[i].key, fail.why);

  if (cfg->data.train[0] == '\0') return ht_error(HT_ECONFIG, "data.train: required (path to an HDF5 dataset)");
  if (strcmp(cfg->model.type, "mlp") == 0 && cfg->model.n_hidden == 0)
    return ht_error(HT_ECONFIG, "model.hidden: model.type mlp needs at least one hidden layer, like [256]");
  /* Nesterov's look-ahead is defined through the momentum buffer. */
  if (strcmp(cfg->optimizer.name, "sgd") == 0 && cfg->optimizer.nesterov && cfg->optimizer.momentum == 0)
    return ht_error(HT_ECONFIG, "optimizer.nesterov: needs optimizer.momentum > 0");
  if (strcmp(cfg->schedule.name, "cosine") == 0 && cfg->schedule.min_lr > cfg->optimizer.lr)
    return ht_error(HT_ECONFIG, "schedule.min_lr: %g is above optimizer.lr %g", cfg->schedule.min_lr,
                    cfg->optimizer.lr);
  /* run.name becomes a directory name under run.root. */
  if (strchr(cfg->run.name, '/') || strcmp(cfg->run.name, ".") == 0 || strcmp(cfg->run.name, "..") == 0)
    return ht_error(HT_ECONFIG, "run.name: '%s' cannot be a directory name (no '/', not '.' or '..')",
                    cfg->run.name);
  HT_CHECK(ht__config_check_comm_wait(cfg->comm.wait));
  return 0;
}
