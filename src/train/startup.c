/*
 * The start-up table: where every rank runs and how many threads it uses.
 * Users debugging a slow run look here first (a rank bound to one core with
 * OMP_NUM_THREADS=2 runs about 2x slower), so the table prints the facts and
 * the warnings name the fix.
 */
#include <cblas.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/error.h"
#include "hytrain/grad_sync.h"
#include "train/internal.h"

typedef struct rank_info {
  char host[64];
  char cpus[128];
  char blas[32];
  int threads;
  int ncpus;
  int blas_parallel;   /* openblas_get_parallel(): 0 single, 1 pthreads, 2 OpenMP */
  ht_binding_outcome binding; /* filled on the first rank of each node */
} rank_info;

int ht__startup_report(const ht_comm *comm, const ht_log *log, const ht_binding_outcome *binding) {
  rank_info me;
  memset(&me, 0, sizeof me);
  if (binding) me.binding = *binding;
  gethostname(me.host, sizeof me.host - 1);
  /* With OMP_PROC_BIND set, libgomp pins each team thread (the main thread
   * included) to its own place, so one thread's mask is not the rank's
   * cpuset: report the union over the whole team. */
  cpu_set_t set;
  ht_rank_cpuset(&set);
  me.ncpus = CPU_COUNT(&set);
  ht__cpuset_text(&set, me.cpus, sizeof me.cpus);
  snprintf(me.blas, sizeof me.blas, "%s", openblas_get_corename());
  me.threads = omp_get_max_threads();
  me.blas_parallel = openblas_get_parallel();

  /* On the heap: a rank's record holds its node's binding text (~1.4 kB). */
  rank_info *all = comm->rank == 0 ? calloc((size_t)comm->size, sizeof *all) : NULL;
  int rc = comm->rank == 0 && !all ? ht_error(HT_ENOMEM, "out of memory for the start-up table") : 0;
  HT_CHECK(ht_comm_agree(comm, rc));
  ht_comm_stall_enter(comm, "the start-up table's gather (MPI_Gather)");
  int mrc = HT_MPI(MPI_Gather(&me, (int)sizeof me, MPI_BYTE, all, (int)sizeof me, MPI_BYTE, 0, comm->main));
  ht_comm_stall_leave(comm);
  if (mrc < 0) {
    free(all);
    return mrc;
  }
  if (comm->rank != 0) return 0;

  ht_log_info(log, "hytrain: %d rank%s x %d thread%s, OpenBLAS core %s (%s build)", comm->size,
              comm->size == 1 ? "" : "s", me.threads, me.threads == 1 ? "" : "s", me.blas,
              me.blas_parallel == 2 ? "OpenMP" : me.blas_parallel == 1 ? "pthreads" : "single-threaded");
  ht_log_info(log, "  %-5s %-20s %-8s %-12s %s", "rank", "host", "threads", "cpus", "blas");
  for (int r = 0; r < comm->size; r++)
    ht_log_info(log, "  %-5d %-20s %-8d %-12s %s", r, all[r].host, all[r].threads, all[r].cpus, all[r].blas);

  for (int r = 0; r < comm->size; r++)
    if (all[r].binding.note[0]) ht_log_info(log, "  %s", all[r].binding.note);
  for (int r = 0; r < comm->size; r++)
    if (all[r].binding.warn[0]) ht_log_warn(log, "%s", all[r].binding.warn);
  for (int r = 0; r < comm->size; r++) {
    if (all[r].threads > all[r].ncpus) {
      ht_log_warn(log,
                  "rank %d runs %d threads on %d cpu%s (%s): they will time-share and run slower. "
                  "Give each rank its cores (mpirun --map-by slot:PE=%d, or --bind-to none) or lower OMP_NUM_THREADS.",
                  r, all[r].threads, all[r].ncpus, all[r].ncpus == 1 ? "" : "s", all[r].cpus, all[r].threads);
      break;
    }
  }
  if (me.blas_parallel != 2)
    ht_log_warn(log, "OpenBLAS is not the OpenMP build; BLAS threads will not follow OMP_NUM_THREADS "
                     "(install libopenblas-openmp-dev and select it with update-alternatives)");
  /* Oversubscription of one node: ranks x threads on the same host versus its cores. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int on_host = 0;
  for (int r = 0; r < comm->size; r++)
    if (strcmp(all[r].host, me.host) == 0) on_host += all[r].threads;
  if (cores > 0 && on_host > cores)
    ht_log_warn(log, "host %s runs %d compute threads on %ld cores: ranks x OMP_NUM_THREADS oversubscribes it",
                me.host, on_host, cores);
  free(all);
  return 0;
}
