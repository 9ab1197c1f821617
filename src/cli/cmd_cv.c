/*
 * hytrain cv CONFIG --folds K [--group-size G] [--out DIR] [--set key=value]...
 *
 * K-fold cross-validation as a sweep over data.fold = 0..K-1 with
 * data.folds = K (and data.test empty): fold k trains on the other folds of
 * data.train and evaluates on fold k. The folds run in parallel like sweep
 * trials (P/G groups of G ranks, dynamic queue); OUT/results.csv has one row
 * per fold and OUT/summary.yaml the mean and std of the metric.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/sweep_run.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"

static const char ht__cv_help[] =
    "usage: mpirun -np P hytrain cv CONFIG --folds K [--group-size G] [--out DIR] [--set key=value]...\n"
    "\n"
    "K-fold cross-validation of CONFIG on its data.train: fold k (rows [k*N/K, (k+1)*N/K)) is\n"
    "evaluated after training on the other folds. Folds run in parallel on P/G groups of G ranks.\n"
    "  --folds K        number of folds (>= 2)\n"
    "  --group-size G   ranks per fold (default 1; must divide P)\n"
    "  --out DIR        output directory (default <run.root>/<config name>-cv<K>)\n"
    "  --set key=value  override a config key in every fold\n"
    "Outputs: DIR/trial-NNNN/ (fold NNNN's run directory), DIR/results.csv, DIR/summary.yaml\n"
    "(mean and std of test_accuracy, or test_rmse for regression, over the folds).\n";

/* The sweep over data.fold; the metric follows the task of data.train. */
static int ht__cv_build(ht_sweep *sw, const ht__sweep_args *a) {
  memset(sw, 0, sizeof *sw);
  snprintf(sw->path, sizeof sw->path, "%s", a->sweep);
  snprintf(sw->config, sizeof sw->config, "%s", a->sweep);
  const char *base = strrchr(a->sweep, '/');
  char stem[HT_NAME_MAX];
  snprintf(stem, sizeof stem, "%s", base ? base + 1 : a->sweep);
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem) *dot = '\0';
  snprintf(sw->name, sizeof sw->name, "%.40s-cv%d", stem, a->folds);
  sw->cv = 1;
  sw->n_sets = 2;
  snprintf(sw->sets[0], sizeof sw->sets[0], "data.folds=%d", a->folds);
  snprintf(sw->sets[1], sizeof sw->sets[1], "data.test=");
  sw->n_params = 1;
  ht_sweep_param *p = &sw->params[0];
  snprintf(p->key, sizeof p->key, "data.fold");
  if (a->folds > HT_SWEEP_MAX_VALUES) return ht_error(HT_EUSAGE, "--folds %d: at most %d folds", a->folds, HT_SWEEP_MAX_VALUES);
  p->n_values = a->folds;
  for (int k = 0; k < a->folds; k++) snprintf(p->values[k], sizeof p->values[k], "%d", k);
  sw->n_trials = a->folds;
  /* Fold 0's config names the data; its task decides the metric. */
  ht_config cfg;
  HT_CHECK(ht_sweep_trial_config(sw, 0, a->sets, a->n_sets, &cfg));
  ht_dataset head;
  HT_CHECK(ht_dataset_probe(&head, cfg.data.train));
  sw->metric = head.task == HT_TASK_CLASSIFY ? HT_METRIC_TEST_ACCURACY : HT_METRIC_TEST_RMSE;
  int64_t r0, n;
  ht_shard_range(head.n_total, a->folds - 1, a->folds, &r0, &n);
  if (n == 0) return ht_error(HT_EUSAGE, "--folds %d: %s has only %lld rows", a->folds, cfg.data.train, (long long)head.n_total);
  return 0;
}

int ht_cmd_cv(int argc, char **argv) {
  ht__sweep_args a;
  memset(&a, 0, sizeof a);
  a.group_size = 1;
  a.trial = -1;
  a.sets = calloc((size_t)argc, sizeof(char *));
  int rc = a.sets ? 0 : ht_error(HT_ENOMEM, "out of memory");
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *arg = argv[i];
    int has_next = i + 1 < argc;
    char *end = NULL;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      a.help = 1;
    } else if (strcmp(arg, "--set") == 0 && has_next) {
      a.sets[a.n_sets++] = argv[++i];
    } else if (strcmp(arg, "--out") == 0 && has_next) {
      a.out = argv[++i];
    } else if ((strcmp(arg, "--folds") == 0 || strcmp(arg, "--group-size") == 0) && has_next) {
      long v = strtol(argv[++i], &end, 10);
      int min = arg[2] == 'f' ? 2 : 1;
      if (end == argv[i] || *end || v < min || v > 100000) rc = ht_error(HT_EUSAGE, "%s: expected an integer >= %d, got '%s'", arg, min, argv[i]);
      else if (arg[2] == 'f') a.folds = (int)v;
      else a.group_size = (int)v;
    } else if (arg[0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s' or missing value (see hytrain cv --help)", arg);
    } else if (!a.sweep) {
      a.sweep = arg;
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s': one CONFIG file is expected", arg);
    }
  }
  if (rc == 0 && a.help) {
    fputs(ht__cv_help, stdout);
    free(a.sets);
    return 0;
  }
  if (rc == 0 && !a.sweep) rc = ht_error(HT_EUSAGE, "missing CONFIG (usage: hytrain cv CONFIG --folds K)");
  if (rc == 0 && a.folds == 0) rc = ht_error(HT_EUSAGE, "missing --folds K (the number of folds, >= 2)");
  ht_comm world;
  int irc = ht_comm_init(&world, &argc, &argv);
  if (irc < 0) {
    int code = world.rank == 0 ? ht_cli_fail("cv", irc) : ht_exit_code(irc);
    ht_comm_finalize(&world);
    free(a.sets);
    return code;
  }
  if (rc < 0 && world.rank != 0) ht_error_clear();
  if (rc == 0) rc = ht__sweep_run(&a, &world, ht__cv_build);
  int code = rc < 0 ? ht_cli_fail("cv", rc) : 0;
  free(a.sets);
  ht_comm_finalize(&world);
  return code;
}
