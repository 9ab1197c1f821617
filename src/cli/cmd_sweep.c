/*
 * hytrain sweep SWEEP.yaml [--group-size G] [--out DIR] [--set key=value]...
 * hytrain sweep SWEEP.yaml --list | --trial N | --collect
 *
 * Parses the arguments and calls the sweep library (hytrain/sweep_run.h):
 * ht_sweep_run trains the trials over groups of ranks, --trial N runs one
 * trial on all ranks (a SLURM array task), --collect gathers whatever rows
 * exist (ht_sweep_collect), --list prints the trials (ht_sweep_list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/sweep_run.h"

static const char ht__sweep_help[] =
    "usage: mpirun -np P hytrain sweep SWEEP.yaml [--group-size G] [--out DIR] [--set key=value]...\n"
    "       hytrain sweep SWEEP.yaml --list [--set key=value]...\n"
    "       hytrain sweep SWEEP.yaml --trial N [--out DIR] [--set key=value]...   (one trial; a SLURM array task)\n"
    "       hytrain sweep SWEEP.yaml --collect [--out DIR]\n"
    "\n"
    "Trains every trial of a sweep file (docs/sweeps.md). The P ranks form P/G groups of G ranks;\n"
    "each group trains one trial at a time, taking the next one from a shared queue.\n"
    "  --group-size G   ranks per trial (default 1; must divide P)\n"
    "  --out DIR        output directory (default <run.root>/<sweep name>)\n"
    "  --set key=value  override a key of the base config in every trial\n"
    "Outputs: DIR/trial-NNNN/ (each trial's run directory and result.csv), DIR/results.csv, DIR/best.yaml.\n"
    "Exit codes: 0 all trials done or diverged, 2 bad input, 1 a trial failed or is missing.\n";

/* What the command line asks for; o is what the library needs. */
typedef struct sweep_args {
  ht_sweep_run_opts o;
  int list, collect, help;
} sweep_args;

static int parse(int argc, char **argv, sweep_args *a) {
  memset(a, 0, sizeof *a);
  a->o.group_size = 1;
  a->o.trial = -1;
  a->o.sets = calloc((size_t)argc, sizeof(char *));
  if (!a->o.sets) return ht_error(HT_ENOMEM, "out of memory");
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int has_next = i + 1 < argc;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) a->help = 1;
    else if (strcmp(arg, "--list") == 0) a->list = 1;
    else if (strcmp(arg, "--collect") == 0) a->collect = 1;
    else if (strcmp(arg, "--set") == 0 && has_next) a->o.sets[a->o.n_sets++] = argv[++i];
    else if (strcmp(arg, "--out") == 0 && has_next) a->o.out = argv[++i];
    else if (strcmp(arg, "--group-size") == 0 && has_next) HT_CHECK(ht_cli_parse_int(arg, argv[++i], 1, 1000000, &a->o.group_size));
    else if (strcmp(arg, "--trial") == 0 && has_next) HT_CHECK(ht_cli_parse_int(arg, argv[++i], 0, 1000000, &a->o.trial));
    else if (arg[0] == '-') return ht_error(HT_EUSAGE, "unknown option '%s' or missing value (see hytrain sweep --help)", arg);
    else if (!a->o.source) a->o.source = arg;
    else return ht_error(HT_EUSAGE, "unexpected argument '%s': one SWEEP file is expected", arg);
  }
  if (a->help) return 0;
  if (!a->o.source) return ht_error(HT_EUSAGE, "missing SWEEP file (usage: hytrain sweep SWEEP.yaml [--group-size G])");
  if (a->list + a->collect + (a->o.trial >= 0) > 1) return ht_error(HT_EUSAGE, "--list, --collect and --trial exclude each other");
  return 0;
}

/* --list and --collect only read files: no MPI. */
static int list_or_collect(const sweep_args *a) {
  ht_sweep *sw = calloc(1, sizeof *sw);
  char out[HT_PATH_MAX];
  int rc = sw ? ht_sweep_load(sw, a->o.source) : ht_error(HT_ENOMEM, "out of memory");
  if (rc == 0 && a->list) rc = ht_sweep_list(sw, a->o.sets, a->o.n_sets, stdout);
  if (rc == 0 && a->collect) rc = ht_sweep_out_dir(sw, &a->o, out, sizeof out);
  if (rc == 0 && a->collect) rc = ht_sweep_collect(sw, out);
  free(sw);
  return rc;
}

int ht_cmd_sweep(int argc, char **argv) {
  sweep_args a;
  int rc = parse(argc, argv, &a);
  if (rc == 0 && a.help) {
    fputs(ht__sweep_help, stdout);
    free(a.o.sets);
    return 0;
  }
  if (rc == 0 && (a.list || a.collect)) {
    rc = list_or_collect(&a);
    free(a.o.sets);
    return rc < 0 ? ht_cli_fail("sweep", rc) : 0;
  }
  ht_comm world;
  int irc = ht_comm_init(&world, &argc, &argv);
  if (irc < 0) {
    int code = world.rank == 0 ? ht_cli_fail("sweep", irc) : ht_exit_code(irc);
    ht_comm_finalize(&world);
    free(a.o.sets);
    return code;
  }
  /* Every rank parsed the same arguments; rank 0 reports a usage error. */
  if (rc < 0 && world.rank != 0) ht_error_defer();
  char out[HT_PATH_MAX];
  if (rc == 0) rc = ht_sweep_run(&a.o, &world, ht_sweep_build_file, out);
  if (rc == 0 && a.o.trial >= 0 && world.rank == 0)
    printf("trial %d: %s/trial-%04d/result.csv; gather all trials with: hytrain sweep %s --collect%s%s\n", a.o.trial, out,
           a.o.trial, a.o.source, a.o.out ? " --out " : "", a.o.out ? a.o.out : "");
  int code = rc < 0 ? ht_cli_fail("sweep", rc) : 0;
  free(a.o.sets);
  ht_comm_finalize(&world);
  return code;
}
