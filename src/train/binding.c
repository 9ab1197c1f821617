/*
 * Where this rank's threads run: the OpenMP team (one line per thread) and
 * the communication thread, printed by rank 0 at start-up next to the
 * foundation's rank table (src/train/startup.c).
 */
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "hytrain/error.h"
#include "train/grad_sync_impl.h"
#include "train/internal.h"

void ht_rank_cpuset(cpu_set_t *set) {
  CPU_ZERO(set);
  /* Every team thread reads its own mask; the union is a shared write, so one
   * thread at a time. */
#pragma omp parallel
  {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    sched_getaffinity(0, sizeof mine, &mine);
#pragma omp critical
    CPU_OR(set, set, &mine);
  }
}

void ht__cpuset_text(const cpu_set_t *set, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, set)) continue;
    int end = c;
    while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set)) end++;
    int n = end > c ? snprintf(out + used, len - used, "%s%d-%d", used ? "," : "", c, end)
                    : snprintf(out + used, len - used, "%s%d", used ? "," : "", c);
    if (n < 0 || (size_t)n >= len - used) break;
    used += (size_t)n;
    c = end;
  }
}

typedef struct rank_binding {
  char omp[192];    /* "t0:cpus 0 t1:cpus 1" */
  char comm[64];    /* the communication thread's cpus */
  int shared;       /* the communication thread may run on a core of the team */
} rank_binding;

int ht_grad_sync_binding_report(const ht_grad_sync *gs, const ht_log *log) {
  rank_binding me;
  memset(&me, 0, sizeof me);
  int n = omp_get_max_threads();
  cpu_set_t team[64];
  int nt = n < 64 ? n : 64;
  /* Thread t writes only team[t]. */
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    CPU_ZERO(&team[t]);
    sched_getaffinity(0, sizeof team[t], &team[t]);
  }
  size_t used = 0;
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int t = 0; t < nt && used < sizeof me.omp; t++) {
    char txt[64];
    ht__cpuset_text(&team[t], txt, sizeof txt);
    int w = snprintf(me.omp + used, sizeof me.omp - used, "%st%d:%s", t ? " " : "", t, txt);
    if (w < 0) break;
    used += (size_t)w;
    CPU_OR(&all, &all, &team[t]);
  }
  cpu_set_t cset;
  CPU_ZERO(&cset);
  if (ht_comm_thread_cpus(gs->ct, &cset) == 0) {
    ht__cpuset_text(&cset, me.comm, sizeof me.comm);
    cpu_set_t both;
    CPU_AND(&both, &cset, &all);
    me.shared = CPU_COUNT(&both) > 0;
  } else {
    snprintf(me.comm, sizeof me.comm, "-");
  }
  rank_binding all_r[gs->comm->rank == 0 ? gs->comm->size : 1];
  ht_comm_stall_enter(gs->comm, "the binding table's gather (MPI_Gather)");
  int mrc = HT_MPI(MPI_Gather(&me, (int)sizeof me, MPI_BYTE, all_r, (int)sizeof me, MPI_BYTE, 0, gs->comm->main));
  ht_comm_stall_leave(gs->comm);
  if (mrc < 0) return mrc;
  if (gs->comm->rank != 0) return 0;
  static const char *const waits[] = {"yield", "sleep", "block", "adaptive", "backoff"};
  ht_log_info(log, "  %-5s %-12s %s", "rank", "comm thread", "OpenMP threads (thread:cpus)");
  int warn = -1;
  for (int r = 0; r < gs->comm->size; r++) {
    ht_log_info(log, "  %-5d %-12s %s", r, all_r[r].comm, all_r[r].omp);
    if (all_r[r].shared && warn < 0) warn = r;
  }
  if (gs->comm->size > 1) {
    if (gs->shm.base)
      ht_log_info(log, "  gradient summing: shared memory (all %d ranks on one node; comm.transport %s)", gs->comm->size,
                  gs->o.transport == HT_TRANSPORT_SHM ? "shm" : "auto");
    else if (gs->o.transport == HT_TRANSPORT_MPI)
      ht_log_info(log, "  gradient summing: MPI messages (comm.transport mpi)");
    else
      ht_log_info(log, "  gradient summing: MPI messages (shared memory not used: %s)", gs->transport_note);
  }
  if (warn >= 0 && gs->o.wait == HT_WAIT_BLOCK && gs->comm->size > 1)
    ht_log_warn(log,
                "rank %d: the communication thread shares a compute core and comm.wait=%s busy-polls MPI "
                "without pausing, taking that core from compute; use comm.wait=backoff (the default), or give it a spare core "
                "(comm.thread_core)",
                warn, waits[gs->o.wait]);
  return 0;
}
