/*
 * K-fold cross-validation as a sweep (hytrain cv): fold k trains on the other
 * folds of data.train and evaluates on fold k; OUT/results.csv has one row
 * per fold and OUT/summary.yaml the mean and std of the metric.
 */
#include <stdio.h>
#include <string.h>

#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/sweep_run.h"

int ht_sweep_build_cv(ht_sweep *sw, const ht_sweep_run_opts *o) {
  memset(sw, 0, sizeof *sw);
  snprintf(sw->path, sizeof sw->path, "%s", o->source);
  snprintf(sw->config, sizeof sw->config, "%s", o->source);
  const char *base = strrchr(o->source, '/');
  char stem[HT_NAME_MAX];
  snprintf(stem, sizeof stem, "%s", base ? base + 1 : o->source);
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem) *dot = '\0';
  snprintf(sw->name, sizeof sw->name, "%.40s-cv%d", stem, o->folds);
  sw->cv = 1;
  sw->n_sets = 2;
  snprintf(sw->sets[0], sizeof sw->sets[0], "data.folds=%d", o->folds);
  snprintf(sw->sets[1], sizeof sw->sets[1], "data.test=");
  sw->n_params = 1;
  ht_sweep_param *p = &sw->params[0];
  snprintf(p->key, sizeof p->key, "data.fold");
  if (o->folds > HT_SWEEP_MAX_VALUES) return ht_error(HT_EUSAGE, "--folds %d: at most %d folds", o->folds, HT_SWEEP_MAX_VALUES);
  p->n_values = o->folds;
  for (int k = 0; k < o->folds; k++) snprintf(p->values[k], sizeof p->values[k], "%d", k);
  sw->n_trials = o->folds;
  /* Fold 0's config names the data; its task decides the metric. */
  ht_config cfg;
  HT_CHECK(ht_sweep_trial_config(sw, 0, o->sets, o->n_sets, &cfg));
  ht_dataset head;
  HT_CHECK(ht_dataset_probe(&head, cfg.data.train));
  sw->metric = head.task == HT_TASK_CLASSIFY ? HT_METRIC_TEST_ACCURACY : HT_METRIC_TEST_RMSE;
  int64_t r0, n;
  ht_shard_range(head.n_total, o->folds - 1, o->folds, &r0, &n);
  if (n == 0) return ht_error(HT_EUSAGE, "--folds %d: %s has only %lld rows", o->folds, cfg.data.train, (long long)head.n_total);
  return 0;
}
