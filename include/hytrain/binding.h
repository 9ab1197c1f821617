/*
 * Where the ranks of one node run: the check of their CPU bindings and, under
 * compute.binding auto, the split of the node's cores among them.
 *
 * Every rank knows two masks: the one its launcher gave it (the union of the
 * OpenMP places when OMP_PLACES / OMP_PROC_BIND are set, since libgomp builds
 * the places from the process's mask at start-up and then pins the main thread
 * to the first place; the process's mask otherwise) and the one its threads
 * use (the union of the OpenMP team's masks). Ranks on one node compare them:
 *   - threads of two ranks pinned to the same cpus is an overlap: a warning
 *     names the ranks, the cpus and the launcher's fix;
 *   - every local rank given the same mask (srun under TaskPlugin=task/none,
 *     mpirun --bind-to none) means nobody bound the ranks. `auto` then gives
 *     local rank i of n its own block of the mask's cores (cores of one NUMA
 *     node, package and L3 cache stay together), pinning each team thread to
 *     one core of that block under OMP_PROC_BIND and letting it float over the
 *     block otherwise. The loader and checkpoint threads start later and
 *     inherit the block; the communication thread goes to a spare core of
 *     the block (one no pinned team thread uses) or else to the block's last
 *     core (ht_binding_comm_cpu); comm.thread_core, when set, overrides it.
 * Modes: auto (the above), launcher (trust the launcher: check and warn only),
 * none (no check, no change).
 */
#ifndef HYTRAIN_BINDING_H
#define HYTRAIN_BINDING_H

#include <sched.h>

#include "hytrain/comm.h"
#include "hytrain/options.h"

/* The module's options (compute.binding; ht_binding_mode is in
 * hytrain/options.h). */
typedef struct ht_binding_opts {
  ht_binding_mode mode;
} ht_binding_opts;

/* What the check found, for rank 0's start-up table. Filled on the first rank
 * of each node; empty strings elsewhere. */
typedef struct ht_binding_outcome {
  int split;          /* 1: this node's cores were split among its ranks */
  int comm_cpu;       /* every rank, after a split: the communication thread's cpu; -1 otherwise */
  char note[320];     /* one information line, "" if none */
  char warn[1024];     /* the overlap warning with its fix, "" if none */
} ht_binding_outcome;

/* Collective on comm->main (it splits a node communicator off it). Checks,
 * and under auto fixes, the binding of this node's ranks; call before any
 * thread but the OpenMP team starts, so later threads inherit the new mask.
 * Returns 0 (a failed sched_setaffinity becomes a warning), or HT_EMPI. */
int ht_binding_setup(const ht_binding_opts *o, const ht_comm *comm, ht_binding_outcome *out);

/* One cpu's place in the machine, the sort key of the split. */
typedef struct ht_cpu_topo {
  int cpu, node, package, l3, core;
} ht_cpu_topo;

/* The cpus of set, from /sys (missing entries count as 0 / the cpu number),
 * sorted so that cpus of one NUMA node, package, L3 cache and core are
 * adjacent. Returns the count written (at most max). */
int ht_cpu_topology(const cpu_set_t *set, ht_cpu_topo *out, int max);

/* The share of local rank i of n: the cores of topo (cpus with equal node,
 * package and core form one core) cut into n contiguous blocks, block i into
 * share. With fewer cores than ranks, rank i gets core i * cores / n (ranks
 * share). Returns the number of cores in topo. */
int ht_binding_share(const ht_cpu_topo *topo, int ncpu, int i, int n, cpu_set_t *share);

/* The communication thread's core in a rank's share (topo: the share's cpus,
 * as ht_cpu_topology orders them): with `threads` team threads pinned one per
 * core, the first core after theirs if the share has one to spare, otherwise
 * the share's last core (where the team's last thread runs, or the whole share
 * for an unpinned team). Returns that core's first cpu, or -1 for an empty
 * share. */
int ht_binding_comm_cpu(const ht_cpu_topo *topo, int ncpu, int threads, int pinned);

#endif
