/*
 * hytrain sweep SWEEP.yaml [--group-size G] [--out DIR] [--set key=value]...
 * hytrain sweep SWEEP.yaml --list | --trial N | --collect
 *
 * Under mpirun -np P, MPI_COMM_WORLD is split into P/G groups of G
 * consecutive ranks; each group trains one trial at a time (ht_train on the
 * group's communicators), taking the next trial number from the queue served
 * by world rank 0 (src/sweep/queue.c). Every trial writes its run directory
 * OUT/trial-NNNN/ and its row OUT/trial-NNNN/result.csv; at the end rank 0
 * gathers the rows into OUT/results.csv and the best trial's config into
 * OUT/best.yaml. --trial N runs one trial on all ranks (a SLURM array task),
 * --collect gathers whatever rows exist, --list prints the trials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/sweep.h"
#include "hytrain/train.h"
#include "cli/sweep_run.h"
#include "sweep/queue.h"

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

static int ht__parse_int(const char *opt, const char *text, int min, int *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (end == text || *end || v < min || v > 1000000)
    return ht_error(HT_EUSAGE, "%s: expected an integer >= %d, got '%s'", opt, min, text);
  *out = (int)v;
  return 0;
}

static int ht__parse(int argc, char **argv, ht__sweep_args *a) {
  memset(a, 0, sizeof *a);
  a->group_size = 1;
  a->trial = -1;
  a->sets = calloc((size_t)argc, sizeof(char *));
  if (!a->sets) return ht_error(HT_ENOMEM, "out of memory");
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int has_next = i + 1 < argc;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) a->help = 1;
    else if (strcmp(arg, "--list") == 0) a->list = 1;
    else if (strcmp(arg, "--collect") == 0) a->collect = 1;
    else if (strcmp(arg, "--set") == 0 && has_next) a->sets[a->n_sets++] = argv[++i];
    else if (strcmp(arg, "--out") == 0 && has_next) a->out = argv[++i];
    else if (strcmp(arg, "--group-size") == 0 && has_next) HT_CHECK(ht__parse_int(arg, argv[++i], 1, &a->group_size));
    else if (strcmp(arg, "--trial") == 0 && has_next) HT_CHECK(ht__parse_int(arg, argv[++i], 0, &a->trial));
    else if (arg[0] == '-') return ht_error(HT_EUSAGE, "unknown option '%s' or missing value (see hytrain sweep --help)", arg);
    else if (!a->sweep) a->sweep = arg;
    else return ht_error(HT_EUSAGE, "unexpected argument '%s': one SWEEP file is expected", arg);
  }
  if (a->help) return 0;
  if (!a->sweep) return ht_error(HT_EUSAGE, "missing SWEEP file (usage: hytrain sweep SWEEP.yaml [--group-size G])");
  if (a->list + a->collect + (a->trial >= 0) > 1) return ht_error(HT_EUSAGE, "--list, --collect and --trial exclude each other");
  return 0;
}

/* OUT: --out, else <run.root of the base config>/<sweep name>. */
int ht__sweep_out_dir(const ht_sweep *sw, const ht__sweep_args *a, char *out, size_t len) {
  if (a->out) {
    if (snprintf(out, len, "%s", a->out) >= (int)len) return ht_error(HT_EUSAGE, "--out: path too long");
    return 0;
  }
  ht_config cfg;
  HT_CHECK(ht_sweep_trial_config(sw, 0, a->sets, a->n_sets, &cfg));
  if (snprintf(out, len, "%s/%s", cfg.run.root[0] ? cfg.run.root : "runs", sw->name) >= (int)len)
    return ht_error(HT_ECONFIG, "run.root: path too long");
  return 0;
}

static int ht__list(const ht_sweep *sw, const ht__sweep_args *a) {
  /* Every trial is built and validated, so --list also checks the sweep. */
  for (int t = 0; t < sw->n_trials; t++) {
    ht_config cfg;
    HT_CHECK(ht_sweep_trial_config(sw, t, a->sets, a->n_sets, &cfg));
    printf("%d", t);
    for (int p = 0; p < sw->n_params; p++) {
      char v[HT_SWEEP_VALUE_MAX];
      ht_sweep_value(sw, t, p, v, sizeof v);
      printf(" %s=%s", sw->params[p].key, v);
    }
    printf("\n");
  }
  return 0;
}

/* Trains trial t on comm (all its ranks) and, on comm rank 0, writes its row.
 * Returns 0 when the trial ran (done or diverged), 1 when it failed (its
 * message printed), or an error that ends the sweep (the row not written). */
static int ht__run_trial(const ht_sweep *sw, const char *out, const ht_config *cfg, int t, const ht_comm *comm) {
  char dir[HT_PATH_MAX];
  ht_sweep_trial_dir(out, t, dir, sizeof dir);
  ht_train_result res;
  int rc = ht_train(cfg, comm, dir, &res);
  ht_trial_result r = {.trial = t, .steps = res.steps, .train_loss = res.train_loss,
                       .test_accuracy = res.test_accuracy, .test_rmse = res.test_rmse};
  snprintf(r.status, sizeof r.status, "%s", rc == 0 ? "done" : rc == HT_EDIVERGED ? "diverged" : "failed");
  if (rc < 0) {
    r.steps = 0;
    r.train_loss = r.test_accuracy = r.test_rmse = -1;
    /* The rank that holds the message (ht_comm_agree) reports it. */
    if (ht_error_message()[0]) fprintf(stderr, "hytrain sweep: trial %d %s: %s\n", t, r.status, ht_error_message());
    ht_error_clear();
  }
  int wrc = comm->rank == 0 ? ht_sweep_write_result(sw, out, &r) : 0;
  HT_CHECK(ht_comm_agree(comm, wrc));
  return rc < 0 && rc != HT_EDIVERGED ? 1 : 0;
}

/* The whole sweep over the world's groups. Returns the number of failed trials
 * (>= 0) or an error. */
static int ht__run_groups(const ht_sweep *sw, const char *out, const ht_config *cfgs, int group_size, const ht_comm *world) {
  ht_comm group;
  HT_CHECK(ht_comm_split(world, world->rank / group_size, world->rank, &group));
  ht_trial_queue q;
  int rc = ht_trial_queue_open(&q, world, sw->n_trials, world->size / group_size);
  int failed = 0;
  while (rc == 0) {
    int t = -1;
    if (group.rank == 0) rc = ht_trial_queue_next(&q, &t);
    /* A queue failure on a leader is reported by the queue thread's abort. */
    if (rc < 0) ht_comm_abort(world, rc, ht_error_message());
    if (MPI_Bcast(&t, 1, MPI_INT, 0, group.main) != MPI_SUCCESS) ht_comm_abort(world, HT_EMPI, "MPI_Bcast of a trial number failed");
    if (t < 0) break;
    if (group.rank == 0) printf("hytrain sweep: trial %d of %d on ranks %d-%d\n", t, sw->n_trials, world->rank, world->rank + group.size - 1);
    fflush(stdout);
    int r = ht__run_trial(sw, out, &cfgs[t], t, &group);
    /* Writing a row failed inside one group only: end the whole sweep. */
    if (r < 0) ht_comm_abort(world, r, ht_error_message());
    failed += group.rank == 0 ? r : 0;
  }
  int crc = ht_trial_queue_close(&q);
  if (rc == 0) rc = crc;
  ht_comm_free(&group);
  HT_CHECK(rc);
  HT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_SUM, world->main));
  return failed;
}

int ht__sweep_run(const ht__sweep_args *a, const ht_comm *world, ht__sweep_builder build) {
  ht_sweep *sw = calloc(1, sizeof *sw);
  ht_config *cfgs = NULL;
  char out[HT_PATH_MAX];
  int rc = sw ? 0 : ht_error(HT_ENOMEM, "out of memory"), n = 0;
  /* Rank 0 reads and checks everything; the others receive it. */
  if (rc == 0 && world->rank == 0) {
    rc = build(sw, a);
    if (rc == 0) rc = ht__sweep_out_dir(sw, a, out, sizeof out);
    if (rc == 0 && a->trial >= sw->n_trials)
      rc = ht_error(HT_EUSAGE, "--trial %d: %s has trials 0..%d", a->trial, a->sweep, sw->n_trials - 1);
    if (rc == 0 && a->trial < 0 && world->size % a->group_size != 0)
      rc = ht_error(HT_EUSAGE, "--group-size %d does not divide the %d MPI ranks", a->group_size, world->size);
    n = a->trial >= 0 ? 1 : sw->n_trials;
    if (rc == 0 && !(cfgs = calloc((size_t)n, sizeof *cfgs))) rc = ht_error(HT_ENOMEM, "out of memory for %d trial configs", n);
    for (int i = 0; rc == 0 && i < n; i++) rc = ht_sweep_trial_config(sw, a->trial >= 0 ? a->trial : i, a->sets, a->n_sets, &cfgs[i]);
  }
  if (world->rank != 0) ht_error_clear();
  rc = ht_comm_agree(world, world->rank == 0 ? rc : 0);
  if (rc < 0) goto done;
  HT_CHECK_GOTO(MPI_Bcast(&n, 1, MPI_INT, 0, world->main) == MPI_SUCCESS ? 0 : HT_EMPI, rc, done);
  if (world->rank != 0 && !(cfgs = calloc((size_t)n, sizeof *cfgs))) ht_comm_abort(world, HT_ENOMEM, "out of memory for the trial configs");
  HT_CHECK_GOTO(MPI_Bcast(sw, (int)sizeof *sw, MPI_BYTE, 0, world->main) == MPI_SUCCESS ? 0 : HT_EMPI, rc, done);
  HT_CHECK_GOTO(MPI_Bcast(out, (int)sizeof out, MPI_CHAR, 0, world->main) == MPI_SUCCESS ? 0 : HT_EMPI, rc, done);
  for (int i = 0; i < n; i++) HT_CHECK_GOTO(ht_config_bcast(&cfgs[i], 0, world->main), rc, done);

  int failed;
  if (a->trial >= 0) {
    failed = ht__run_trial(sw, out, &cfgs[0], a->trial, world);
    if (failed < 0) rc = failed;
    if (rc == 0 && world->rank == 0)
      printf("trial %d: %s/trial-%04d/result.csv; gather all trials with: hytrain sweep %s --collect%s%s\n", a->trial, out,
             a->trial, a->sweep, a->out ? " --out " : "", a->out ? a->out : "");
  } else {
    failed = ht__run_groups(sw, out, cfgs, a->group_size, world);
    if (failed < 0) rc = failed;
    int crc = rc == 0 && world->rank == 0 ? ht_sweep_collect(sw, out) : 0;
    rc = rc == 0 ? ht_comm_agree(world, crc) : rc;
  }
  if (rc == 0 && failed > 0)
    rc = world->rank == 0 ? ht_error(HT_EINTERNAL, "%d trial(s) failed (status 'failed' in the results; messages above)", failed)
                          : HT_EINTERNAL;
done:
  free(cfgs);
  free(sw);
  return rc;
}

static int ht__sweep_load_file(ht_sweep *sw, const ht__sweep_args *a) { return ht_sweep_load(sw, a->sweep); }

int ht_cmd_sweep(int argc, char **argv) {
  ht__sweep_args a;
  int rc = ht__parse(argc, argv, &a);
  if (rc == 0 && a.help) {
    fputs(ht__sweep_help, stdout);
    free(a.sets);
    return 0;
  }
  /* --list and --collect only read files: no MPI. */
  if (rc == 0 && (a.list || a.collect)) {
    ht_sweep *sw = calloc(1, sizeof *sw);
    char out[HT_PATH_MAX];
    rc = sw ? ht_sweep_load(sw, a.sweep) : ht_error(HT_ENOMEM, "out of memory");
    if (rc == 0 && a.list) rc = ht__list(sw, &a);
    if (rc == 0 && a.collect) rc = ht__sweep_out_dir(sw, &a, out, sizeof out);
    if (rc == 0 && a.collect) rc = ht_sweep_collect(sw, out);
    free(sw);
    free(a.sets);
    return rc < 0 ? ht_cli_fail("sweep", rc) : 0;
  }
  ht_comm world;
  int irc = ht_comm_init(&world, &argc, &argv);
  if (irc < 0) {
    int code = world.rank == 0 ? ht_cli_fail("sweep", irc) : ht_exit_code(irc);
    ht_comm_finalize(&world);
    free(a.sets);
    return code;
  }
  /* Every rank parsed the same arguments; rank 0 reports a usage error. */
  if (rc < 0 && world.rank != 0) ht_error_clear();
  if (rc == 0) rc = ht__sweep_run(&a, &world, ht__sweep_load_file);
  int code = rc < 0 ? ht_cli_fail("sweep", rc) : 0;
  free(a.sets);
  ht_comm_finalize(&world);
  return code;
}
