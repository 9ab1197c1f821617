/*
 * Hyper-parameter sweeps: a sweep file names a base config and, for some of
 * its keys, the values to try (a grid) or ranges to draw from (random search
 * with a count and a seed). Trial t of a sweep is always the same list of
 * "key=value" overrides, however the sweep is run (one mpirun with groups of
 * ranks, a SLURM array with one trial per task, or --list), because it is a
 * pure function of the file and t.
 *
 * File format (docs/sweeps.md):
 *   name: lr_search                 # optional; default: the file's stem
 *   config: configs/x.yaml          # base config (resolved like data paths)
 *   set: {train.epochs: 2}          # optional fixed overrides for every trial
 *   method: grid                    # grid | random
 *   count: 8                        # random: number of trials
 *   seed: 1                         # random: seed of the draws
 *   metric: test_accuracy           # test_accuracy (max) | test_rmse | train_loss (min)
 *   params:
 *     optimizer.lr: [0.01, 0.1]                      # a list: these values
 *     train.batch_size: {min: 32, max: 256, int: true, log: true}  # random only
 */
#ifndef HYTRAIN_SWEEP_H
#define HYTRAIN_SWEEP_H

#include <stdint.h>

#include "hytrain/config.h"

#define HT_SWEEP_MAX_PARAMS 16
#define HT_SWEEP_MAX_VALUES 64
#define HT_SWEEP_MAX_TRIALS 10000
#define HT_SWEEP_VALUE_MAX 128

typedef struct ht_sweep_param {
  char key[HT_NAME_MAX * 2];
  int n_values;                                    /* > 0: a list of values */
  char values[HT_SWEEP_MAX_VALUES][HT_SWEEP_VALUE_MAX];
  double min, max;                                 /* n_values == 0: a range */
  int log, is_int;
} ht_sweep_param;

typedef struct ht_sweep {
  char path[HT_PATH_MAX];        /* the sweep file */
  char name[HT_NAME_MAX];
  char config[HT_PATH_MAX];      /* base config, resolved */
  int n_sets;
  char sets[HT_SWEEP_MAX_PARAMS][HT_SWEEP_VALUE_MAX * 2]; /* "key=value" */
  ht_sweep_method method;        /* grid | random */
  long long seed;
  int n_trials;
  ht_sweep_metric metric;        /* test_accuracy | test_rmse | train_loss */
  int cv;                        /* 1: K-fold cross-validation (hytrain cv): the
                                    summary is mean and std, not a best trial */
  int n_params;
  ht_sweep_param params[HT_SWEEP_MAX_PARAMS];
} ht_sweep;

/* Reads and checks a sweep file. Errors name "file:line:column" and the key
 * (unknown top-level key, a param that is not a config key, a range in a grid,
 * min > max, log with min <= 0, too many trials, ...). Not collective. */
int ht_sweep_load(ht_sweep *sw, const char *path);

/* Trial t's value of param p, as text in --set syntax. */
void ht_sweep_value(const ht_sweep *sw, int t, int p, char *buf, size_t len);

/* The effective config of trial t: defaults, the base config file, the
 * sweep's `set`, the extra overrides (command line), then the trial's params;
 * validated. Errors name the trial and the override. Not collective. */
int ht_sweep_trial_config(const ht_sweep *sw, int t, char **extra_sets, int n_extra, ht_config *cfg);

/* What one trial produced (one row of results.csv). */
typedef struct ht_trial_result {
  int trial;
  char status[16];       /* done | diverged | failed */
  int64_t steps;
  double train_loss, test_accuracy, test_rmse; /* -1 when not measured */
} ht_trial_result;

/* Writes OUT/trial-NNN/result.csv (header + one row) atomically. */
int ht_sweep_write_result(const ht_sweep *sw, const char *out, const ht_trial_result *r);

/* Gathers every trial's result.csv into OUT/results.csv (in trial order) and
 * copies the best done trial's config.yaml to OUT/best.yaml; prints the best
 * trial to stdout. For cross-validation (sw->cv) it writes OUT/summary.yaml
 * (metric, folds, done, mean, std over the done folds; std is the population
 * deviation, like numpy.std) and prints "mean ± std" instead. Missing trials are listed in the error (results.csv is
 * still written with the trials present). Returns 0, HT_ENOENT (trials
 * missing), or HT_EIO. Not collective. */
int ht_sweep_collect(const ht_sweep *sw, const char *out);

/* The directory of trial t under out: OUT/trial-NNN. */
void ht_sweep_trial_dir(const char *out, int t, char *buf, size_t len);

#endif
