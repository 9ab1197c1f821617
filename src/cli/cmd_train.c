/*
 * hytrain train CONFIG [--set key=value]... [--run-dir DIR] [--quiet]
 * Rank 0 reads the config and broadcasts it; every rank then runs ht_train.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/config_args.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/train.h"

static const char ht__train_help[] =
    "usage: hytrain train CONFIG [--set key=value]... [--run-dir DIR] [--resume auto|PATH] [--stop-at-step N]\n"
    "                     [--timeline FILE]\n"
    "\n"
    "Trains the experiment described by the YAML file CONFIG on every MPI rank\n"
    "(start it with mpirun -np P; each rank reads 1/P of the data).\n"
    "  --set key=value   override one config key (repeatable), e.g. --set train.epochs=3\n"
    "  --run-dir DIR     write outputs to DIR instead of <run.root>/<experiment>/<run-id>\n"
    "  --resume auto|PATH  continue from a checkpoint: auto = the newest one that verifies in\n"
    "                    DIR (--run-dir) or in the experiment's newest run (none: start fresh);\n"
    "                    PATH = a checkpoint file, a run directory or a checkpoints directory\n"
    "  --stop-at-step N  once step N is done, write a checkpoint and exit 75 (as on SIGTERM)\n"
    "  --timeline FILE   write a Chrome trace JSON of every thread of every rank to FILE\n"
    "                    (open in https://ui.perfetto.dev or chrome://tracing)\n"
    "Outputs: DIR/config.yaml, metrics.jsonl, log.txt, checkpoints/. Keys: hytrain config --list.\n"
    "SIGTERM, SIGINT or SIGUSR1: checkpoint at the next step and exit 75 (resumable).\n"
    "Exit codes: 0 done, 2 bad input, 3 diverged, 75 stopped early (resumable), 1 other failure.\n";

typedef struct train_args {
  const char *config;
  const char *run_dir;
  const char *resume;
  long long stop_at_step;
  const char *timeline;
  char **sets;
  int n_sets;
  int help;
} train_args;

static int parse_args(int argc, char **argv, train_args *a) {
  memset(a, 0, sizeof *a);
  a->sets = calloc((size_t)argc, sizeof(char *));
  if (!a->sets) return ht_error(HT_ENOMEM, "out of memory");
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      a->help = 1;
    } else if (strcmp(arg, "--set") == 0) {
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "--set needs key=value");
      a->sets[a->n_sets++] = argv[++i];
    } else if (strncmp(arg, "--set=", 6) == 0) {
      a->sets[a->n_sets++] = (char *)arg + 6;
    } else if (strcmp(arg, "--run-dir") == 0) {
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "--run-dir needs a directory");
      a->run_dir = argv[++i];
    } else if (strcmp(arg, "--resume") == 0) {
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "--resume needs 'auto' or a checkpoint path");
      a->resume = argv[++i];
    } else if (strncmp(arg, "--resume=", 9) == 0) {
      a->resume = arg + 9;
    } else if (strcmp(arg, "--stop-at-step") == 0) {
      char *end = NULL;
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "--stop-at-step needs a step number");
      a->stop_at_step = strtoll(argv[++i], &end, 10);
      if (!end || *end || a->stop_at_step < 1)
        return ht_error(HT_EUSAGE, "--stop-at-step: '%s' is not a positive step number", argv[i]);
    } else if (strcmp(arg, "--timeline") == 0) {
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "--timeline needs a file name");
      a->timeline = argv[++i];
    } else if (arg[0] == '-') {
      return ht_error(HT_EUSAGE, "unknown option '%s' (see hytrain train --help)", arg);
    } else if (!a->config) {
      a->config = arg;
    } else {
      return ht_error(HT_EUSAGE, "unexpected argument '%s': one CONFIG file is expected", arg);
    }
  }
  if (!a->help && !a->config) return ht_error(HT_EUSAGE, "missing CONFIG (usage: hytrain train CONFIG [--set key=value]...)");
  return 0;
}

int ht_cmd_train(int argc, char **argv) {
  ht_comm comm;
  int rc = ht_comm_init(&comm, &argc, &argv);
  if (rc < 0) {
    int code = comm.rank == 0 ? ht_cli_fail("train", rc) : ht_exit_code(rc);
    ht_comm_finalize(&comm);
    return code;
  }
  train_args a;
  ht_config cfg;
  memset(&cfg, 0, sizeof cfg);
  ht_train_result res;
  /* Arguments are identical on every rank; rank 0 alone reads the file and reports. */
  rc = parse_args(argc, argv, &a);
  if (rc == 0 && a.help) {
    if (comm.rank == 0) fputs(ht__train_help, stdout);
    goto done;
  }
  if (rc == 0 && comm.rank == 0) rc = ht__config_from_args(&cfg, a.config, a.sets, a.n_sets);
  if (comm.rank != 0) ht_error_defer();
  rc = ht_comm_agree(&comm, comm.rank == 0 ? rc : 0);
  if (rc == 0) rc = ht_config_bcast(&cfg, 0, comm.main);
  if (rc == 0 && a.resume && !a.resume[0]) rc = ht_error(HT_EUSAGE, "--resume needs 'auto' or a checkpoint path");
  if (rc == 0) {
    ht_train_opts opts = {.run_dir = a.run_dir, .resume = a.resume, .stop_at_step = a.stop_at_step, .timeline = a.timeline};
    rc = ht_train_ex(&cfg, &comm, &opts, &res);
  }
done:
  free(a.sets);
  int code;
  if (rc == HT_ESTOPPED) {
    /* A planned stop, not a failure: one line from the rank that reports it. */
    if (ht_error_message()[0]) fprintf(stderr, "hytrain train: %s\n", ht_error_message());
    fflush(stderr);
    code = ht_exit_code(rc);
  } else {
    code = rc < 0 ? ht_cli_fail("train", rc) : 0;
  }
  ht_comm_finalize(&comm);
  return code;
}
