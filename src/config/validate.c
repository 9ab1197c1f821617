/*
 * Checks of a whole config: every value against its option's row (type,
 * bounds, choices and the row's own check; a config can be edited in code, not
 * only parsed), then the rules that span keys, which no single row can state.
 */
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

int ht_config_validate(const ht_config *cfg) {
  int n;
  const ht_option *opts = ht_config_options(&n);
  ht__config_fail fail;
  for (int i = 0; i < n; i++)
    if (ht__config_check_value(cfg, &opts[i], &fail) < 0) return ht_error(HT_ECONFIG, "%s: %s", opts[i].key, fail.why);

  /* The one key without a default: an empty config file fails here, so name it. */
  if (cfg->data.train[0] == '\0')
    return ht_error(HT_ECONFIG, "%s%sdata.train: required (path to an HDF5 dataset)", cfg->source,
                    cfg->source[0] ? ": " : "");
  if (cfg->model.type == HT_MODEL_MLP && cfg->model.n_hidden == 0)
    return ht_error(HT_ECONFIG, "model.hidden: model.type mlp needs at least one hidden layer, like [256]");
  /* Nesterov's look-ahead is defined through the momentum buffer. */
  if (cfg->optimizer.name == HT_OPTIM_SGD && cfg->optimizer.nesterov && cfg->optimizer.momentum == 0)
    return ht_error(HT_ECONFIG, "optimizer.nesterov: needs optimizer.momentum > 0");
  if (cfg->schedule.name == HT_SCHED_COSINE && cfg->schedule.min_lr > cfg->optimizer.lr)
    return ht_error(HT_ECONFIG, "schedule.min_lr: %g is above optimizer.lr %g", cfg->schedule.min_lr,
                    cfg->optimizer.lr);
  /* K-fold: the validation rows come from data.train, so a test file would be ambiguous. */
  if (cfg->data.folds > 0 && cfg->data.fold >= cfg->data.folds)
    return ht_error(HT_ECONFIG, "data.fold: %d is not a fold of data.folds %d (expected 0..%d)", cfg->data.fold,
                    cfg->data.folds, cfg->data.folds - 1);
  if (cfg->data.folds > 0 && cfg->data.test[0])
    return ht_error(HT_ECONFIG, "data.test: must be empty with data.folds (fold data.fold of data.train is evaluated); "
                                "add --set data.test=");
  return 0;
}
