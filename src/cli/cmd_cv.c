/*
 * hytrain cv CONFIG --folds K [--group-size G] [--out DIR] [--set key=value]...
 *
 * K-fold cross-validation as a sweep over data.fold = 0..K-1 with
 * data.folds = K (and data.test empty): fold k trains on the other folds of
 * data.train and evaluates on fold k. The folds run in parallel like sweep
 * trials (P/G groups of G ranks, dynamic queue); OUT/results.csv has one row
 * per fold and OUT/summary.yaml the mean and std of the metric. The command
 * parses its arguments; the library builds the folds (ht_sweep_build_cv) and
 * runs them (ht_sweep_run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/error.h"
#include "hytrain/sweep_run.h"

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

int ht_cmd_cv(int argc, char **argv) {
  ht_sweep_run_opts o;
  memset(&o, 0, sizeof o);
  o.group_size = 1;
  o.trial = -1;
  o.sets = calloc((size_t)argc, sizeof(char *));
  int help = 0;
  int rc = o.sets ? 0 : ht_error(HT_ENOMEM, "out of memory");
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *arg = argv[i];
    int has_next = i + 1 < argc;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      help = 1;
    } else if (strcmp(arg, "--set") == 0 && has_next) {
      o.sets[o.n_sets++] = argv[++i];
    } else if (strcmp(arg, "--out") == 0 && has_next) {
      o.out = argv[++i];
    } else if (strcmp(arg, "--folds") == 0 && has_next) {
      rc = ht_cli_parse_int(arg, argv[++i], 2, 100000, &o.folds);
    } else if (strcmp(arg, "--group-size") == 0 && has_next) {
      rc = ht_cli_parse_int(arg, argv[++i], 1, 100000, &o.group_size);
    } else if (arg[0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s' or missing value (see hytrain cv --help)", arg);
    } else if (!o.source) {
      o.source = arg;
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s': one CONFIG file is expected", arg);
    }
  }
  if (rc == 0 && help) {
    fputs(ht__cv_help, stdout);
    free(o.sets);
    return 0;
  }
  if (rc == 0 && !o.source) rc = ht_error(HT_EUSAGE, "missing CONFIG (usage: hytrain cv CONFIG --folds K)");
  if (rc == 0 && o.folds == 0) rc = ht_error(HT_EUSAGE, "missing --folds K (the number of folds, >= 2)");
  ht_comm world;
  int irc = ht_comm_init(&world, &argc, &argv);
  if (irc < 0) {
    int code = world.rank == 0 ? ht_cli_fail("cv", irc) : ht_exit_code(irc);
    ht_comm_finalize(&world);
    free(o.sets);
    return code;
  }
  /* Every rank parsed the same arguments; rank 0 reports a usage error. */
  if (rc < 0 && world.rank != 0) ht_error_defer();
  if (rc == 0) rc = ht_sweep_run(&o, &world, ht_sweep_build_cv, NULL);
  int code = rc < 0 ? ht_cli_fail("cv", rc) : 0;
  free(o.sets);
  ht_comm_finalize(&world);
  return code;
}
