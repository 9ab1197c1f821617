/*
 * Running a sweep's trials over MPI groups: the library side of
 * `hytrain sweep` and `hytrain cv` (src/sweep/run.c, src/sweep/cv.c).
 *
 * Under mpirun -np P, MPI_COMM_WORLD is split into P/G groups of G
 * consecutive ranks; each group trains one trial at a time (ht_train on the
 * group's communicators), taking the next trial number from the queue served
 * by world rank 0 (src/sweep/queue.c). Every trial writes its run directory
 * OUT/trial-NNNN/ and its row OUT/trial-NNNN/result.csv; at the end rank 0
 * gathers the rows (ht_sweep_collect).
 */
#ifndef HYTRAIN_SWEEP_RUN_H
#define HYTRAIN_SWEEP_RUN_H

#include <stdio.h>

#include "hytrain/comm.h"
#include "hytrain/sweep.h"

typedef struct ht_sweep_run_opts {
  const char *source; /* sweep: the sweep file; cv: the config file */
  const char *out;    /* output directory, or NULL (ht_sweep_out_dir) */
  char **sets;        /* key=value overrides of the base config, every trial */
  int n_sets;
  int group_size;     /* ranks per trial (must divide the world's size) */
  int trial;          /* >= 0: run only this trial, on all ranks; -1: all */
  int folds;          /* cv: K */
} ht_sweep_run_opts;

/* Builds the sweep (on world rank 0 only; reads files, records errors). */
typedef int (*ht_sweep_builder)(ht_sweep *sw, const ht_sweep_run_opts *o);

/* Builder of `hytrain sweep`: reads the sweep file o->source. */
int ht_sweep_build_file(ht_sweep *sw, const ht_sweep_run_opts *o);

/* Builder of `hytrain cv`: K-fold cross-validation of the config o->source
 * as a sweep over data.fold = 0..K-1 with data.folds = K (and data.test
 * empty); the metric follows the task of data.train. Errors name --folds when
 * K exceeds the limit or the data has too few rows. */
int ht_sweep_build_cv(ht_sweep *sw, const ht_sweep_run_opts *o);

/* OUT: o->out, else <run.root of trial 0's config>/<sweep name>. Not collective. */
int ht_sweep_out_dir(const ht_sweep *sw, const ht_sweep_run_opts *o, char *out, size_t len);

/* Prints one line per trial ("T key=value ...") to f after building and
 * validating every trial's config, so listing also checks the sweep. */
int ht_sweep_list(const ht_sweep *sw, char **sets, int n_sets, FILE *f);

/* Collective on world: rank 0 builds the sweep and every trial's config, all
 * ranks receive them, then either trial o->trial runs on all ranks, or all
 * trials run over world->size / o->group_size groups and rank 0 gathers the
 * results (ht_sweep_collect). out (HT_PATH_MAX bytes, may be NULL) receives
 * the output directory. Returns 0 or an error all ranks agree on (a failed
 * trial: HT_EINTERNAL after every trial ran). */
int ht_sweep_run(const ht_sweep_run_opts *o, const ht_comm *world, ht_sweep_builder build, char *out);

#endif
