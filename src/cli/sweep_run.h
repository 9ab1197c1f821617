/* Running a sweep's trials over MPI groups, shared by `sweep` and `cv`. */
#ifndef HT_CLI_SWEEP_RUN_H
#define HT_CLI_SWEEP_RUN_H

#include "hytrain/comm.h"
#include "hytrain/sweep.h"

typedef struct ht__sweep_args {
  const char *sweep;  /* sweep: the sweep file; cv: the config file */
  const char *out;    /* --out, or NULL */
  char **sets;        /* --set key=value, applied to the base config */
  int n_sets, group_size, trial, list, collect, help;
  int folds;          /* cv: K */
} ht__sweep_args;

/* Builds the sweep on world rank 0 (reads files; errors are reported there). */
typedef int (*ht__sweep_builder)(ht_sweep *sw, const ht__sweep_args *a);

/* Collective on world: rank 0 builds the sweep and every trial's config, all
 * ranks receive them, then either trial a->trial runs on all ranks, or all
 * trials run over world->size / a->group_size groups and rank 0 gathers the
 * results (ht_sweep_collect). Returns 0 or an error all ranks agree on. */
int ht__sweep_run(const ht__sweep_args *a, const ht_comm *world, ht__sweep_builder build);

/* OUT: --out, else <run.root of trial 0's config>/<sweep name>. */
int ht__sweep_out_dir(const ht_sweep *sw, const ht__sweep_args *a, char *out, size_t len);

#endif
