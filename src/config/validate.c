/*
 * Checks of a whole config: every value against its option's rules (a config
 * can be edited in code, not only parsed) and the rules that span keys.
 */
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/loader.h"

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
  int flip, shift;
  if (ht_loader_parse_augment(cfg->data.augment, &flip, &shift) < 0)
    return ht_error(HT_ECONFIG, "data.augment: expected none, flip, shift:<px> or flip,shift:<px> (px 1..64), got '%s'",
                    cfg->data.augment);
  /* K-fold: the validation rows come from data.train, so a test file would be ambiguous. */
  if (cfg->data.folds == 1) return ht_error(HT_ECONFIG, "data.folds: 1 fold leaves nothing to train on; use 0 (off) or >= 2");
  if (cfg->data.folds > 0 && cfg->data.fold >= cfg->data.folds)
    return ht_error(HT_ECONFIG, "data.fold: %d is not a fold of data.folds %d (expected 0..%d)", cfg->data.fold,
                    cfg->data.folds, cfg->data.folds - 1);
  if (cfg->data.folds > 0 && cfg->data.test[0])
    return ht_error(HT_ECONFIG, "data.test: must be empty with data.folds (fold data.fold of data.train is evaluated); "
                                "add --set data.test=");
  /* run.name becomes a directory name under run.root. */
  if (strchr(cfg->run.name, '/') || strcmp(cfg->run.name, ".") == 0 || strcmp(cfg->run.name, "..") == 0)
    return ht_error(HT_ECONFIG, "run.name: '%s' cannot be a directory name (no '/', not '.' or '..')",
                    cfg->run.name);
  /* comm.wait's syntax belongs to the communication thread, which parses it. */
  ht_wait_kind kind;
  int us;
  HT_CHECK(ht_comm_wait_parse(cfg->comm.wait, &kind, &us));
  return 0;
}
