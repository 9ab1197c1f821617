/*
 * hytrain: command dispatch (the shared CLI helpers are in cli_util.c).
 * One table names every command, the function that runs it and its lines in
 * `hytrain --help`, so the help, the dispatch and the "unknown command"
 * message cannot disagree (tests/e2e/cli_commands.sh reads this table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/version.h"
#include "hytrain/error.h"

/* One line of `hytrain --help`: the command with its arguments, and what it does. */
typedef struct usage_line {
  const char *synopsis;
  const char *what;
} usage_line;

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  usage_line lines[5]; /* ends at the first empty synopsis, or at the array's end */
} command;

static const command commands[] = {
    {"train", ht_cmd_train,
     {{"train CONFIG [--set key=value]... [--run-dir DIR]", "train a model (run under mpirun)"},
      {"train CONFIG --resume auto|PATH", "continue from a checkpoint"}}},
    {"eval", ht_cmd_eval, {{"eval --checkpoint CKPT [--data FILE]", "evaluate a checkpoint on a dataset"}}},
    {"predict", ht_cmd_predict,
     {{"predict CKPT --out OUT.h5|OUT.csv [--data FILE]", "write predictions for every row (labels not needed)"}}},
    {"inspect", ht_cmd_inspect, {{"inspect CKPT", "verify a checkpoint; print attributes, datasets, config"}}},
    {"convert", ht_cmd_convert, {{"convert idx|csv|libsvm ...", "convert data into hytrain's HDF5 format"}}},
    {"config", ht_cmd_config,
     {{"config --list | config CONFIG [--set key=value]...", "list options / print an effective config"}}},
    {"bench", ht_cmd_bench,
     {{"bench sgemm [--m M --n N --k K]", "measure cblas_sgemm GFLOP/s on every rank"},
      {"bench gemm [--layers W,W,... --batch B]", "GFLOP/s of an MLP's products per backend/precision"},
      {"bench allreduce [--floats N] [--wait W]", "time the gradient allreduce alone (run under mpirun)"},
      {"bench lines [--cpus A,B]", "ns for a cache line to go between two cores and back"}}},
    {"sweep", ht_cmd_sweep,
     {{"sweep SWEEP.yaml [--group-size G] [--list|--trial N|--collect]", "hyper-parameter sweep (run under mpirun)"}}},
    {"cv", ht_cmd_cv, {{"cv CONFIG --folds K [--group-size G]", "K-fold cross-validation (run under mpirun)"}}},
    {"runs", ht_cmd_runs, {{"runs list DIR", "table of runs: status, best metric, steps, wall time"}}},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void print_usage(FILE *f) {
  fputs("usage: hytrain <command> [options]\n\ncommands:\n", f);
  for (int i = 0; i < N_COMMANDS; i++)
    for (int j = 0; j < (int)(sizeof commands[i].lines / sizeof commands[i].lines[0]) && commands[i].lines[j].synopsis; j++)
      fprintf(f, "  %-64s %s\n", commands[i].lines[j].synopsis, commands[i].lines[j].what);
  fputs("\nRun 'hytrain <command> --help' for a command's options. Documentation: README.md and docs/.\n", f);
}

/* "train, eval, ... or runs" for the unknown-command message. */
static void command_list(char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  for (int i = 0; i < N_COMMANDS && at < len; i++) {
    const char *sep = i == 0 ? "" : i == N_COMMANDS - 1 ? " or " : ", ";
    int k = snprintf(buf + at, len - at, "%s%s", sep, commands[i].name);
    at += k > 0 ? (size_t)k : 0;
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("hytrain %s\n", HT_VERSION);
    return 0;
  }
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  char list[256];
  command_list(list, sizeof list);
  fprintf(stderr, "hytrain: error: unknown command '%s' (expected %s)\n", argv[1], list);
  return 2;
}
