/*
 * hytrain: command dispatch (the shared CLI helpers are in cli_util.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/version.h"
#include "hytrain/error.h"

static const char ht__usage[] =
    "usage: hytrain <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG [--set key=value]... [--run-dir DIR]   train a model (run under mpirun)\n"
    "  train CONFIG --resume auto|PATH                      continue from a checkpoint\n"
    "  eval --checkpoint CKPT [--data FILE]                 evaluate a checkpoint on a dataset\n"
    "  inspect CKPT                                         verify a checkpoint; print attributes, datasets, config\n"
    "  convert idx|csv|libsvm ...                           convert data into hytrain's HDF5 format\n"
    "  config --list | config CONFIG [--set key=value]...  list options / print an effective config\n"
    "  bench sgemm [--m M --n N --k K]                      measure cblas_sgemm GFLOP/s on every rank\n"
    "  sweep SWEEP.yaml [--group-size G] [--list|--trial N|--collect]  hyper-parameter sweep (run under mpirun)\n"
    "  cv CONFIG --folds K [--group-size G]                 K-fold cross-validation (run under mpirun)\n"
    "  runs list DIR                                        table of runs: status, best metric, steps, wall time\n"
    "\n"
    "Run 'hytrain <command> --help' for a command's options. Documentation: README.md and docs/.\n";

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(ht__usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("hytrain %s\n", HT_VERSION);
    return 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "train") == 0) return ht_cmd_train(argc - 1, argv + 1);
  if (strcmp(cmd, "eval") == 0) return ht_cmd_eval(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0) return ht_cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "convert") == 0) return ht_cmd_convert(argc - 1, argv + 1);
  if (strcmp(cmd, "config") == 0) return ht_cmd_config(argc - 1, argv + 1);
  if (strcmp(cmd, "bench") == 0) return ht_cmd_bench(argc - 1, argv + 1);
  if (strcmp(cmd, "sweep") == 0) return ht_cmd_sweep(argc - 1, argv + 1);
  if (strcmp(cmd, "cv") == 0) return ht_cmd_cv(argc - 1, argv + 1);
  if (strcmp(cmd, "runs") == 0) return ht_cmd_runs(argc - 1, argv + 1);
  fprintf(stderr, "hytrain: error: unknown command '%s' (expected train, eval, inspect, convert, config, bench, sweep, cv or runs)\n", cmd);
  return 2;
}
