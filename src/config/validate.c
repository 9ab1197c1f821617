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
  /* The sparse engines run plain SGD on raw sparse rows (docs/sparse.md). */
  if (cfg->train.engine != HT_ENGINE_SYNC) {
    const char *engine = ht_enum_name(&ht_engines, (int)cfg->train.engine);
    if (cfg->model.type == HT_MODEL_MLP)
      return ht_error(HT_ECONFIG, "model.type: train.engine %s trains sparse linear models: logistic, svm, linear or softmax", engine);
    if (cfg->optimizer.name != HT_OPTIM_SGD || cfg->optimizer.momentum != 0 || cfg->optimizer.weight_decay != 0)
      return ht_error(HT_ECONFIG, "optimizer: train.engine %s runs plain SGD: set optimizer.name sgd, optimizer.momentum 0 "
                                  "and optimizer.weight_decay 0 (use model.l2 for L2)", engine);
    if (cfg->data.normalize != HT_NORMALIZE_NONE)
      return ht_error(HT_ECONFIG, "data.normalize: train.engine %s reads sparse rows as they are: set data.normalize none", engine);
    if (cfg->data.folds > 0) return ht_error(HT_ECONFIG, "data.folds: not available with train.engine %s", engine);
    if (cfg->train.max_steps > 0)
      return ht_error(HT_ECONFIG, "train.max_steps: train.engine %s runs whole epochs; set train.epochs", engine);
    if (cfg->checkpoint.every_steps > 0 || cfg->checkpoint.every_seconds > 0 || cfg->checkpoint.keep_best)
      return ht_error(HT_ECONFIG, "checkpoint: train.engine %s checkpoints at every epoch end; leave checkpoint.every_steps, "
                                  "every_seconds and keep_best off", engine);
    /* The gradient sums are checked only in the sync engine's bucket summing. */
    if (cfg->train.on_nonfinite != HT_NONFINITE_STOP)
      return ht_error(HT_ECONFIG, "train.on_nonfinite: skip_step needs train.engine sync (the sparse engines stop on a "
                                  "non-finite loss)");
  }
  /* K-fold: the validation rows come from data.train, so a test file would be ambiguous. */
  if (cfg->data.folds > 0 && cfg->data.fold >= cfg->data.folds)
    return ht_error(HT_ECONFIG, "data.fold: %d is not a fold of data.folds %d (expected 0..%d)", cfg->data.fold,
                    cfg->data.folds, cfg->data.folds - 1);
  if (cfg->data.folds > 0 && cfg->data.test[0])
    return ht_error(HT_ECONFIG, "data.test: must be empty with data.folds (fold data.fold of data.train is evaluated); "
                                "add --set data.test=");
  return 0;
}
