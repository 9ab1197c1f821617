/*
 * Where this rank's threads run: the OpenMP team (one line per thread) and
 * the communication thread, printed by rank 0 at start-up next to the
 * foundation's rank table (src/train/startup.c); and the node-wide check
 * and split of the ranks' cpus (hytrain/binding.h).
 */
#include "hytrain/binding.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- The node's check and split (hytrain/binding.h) ---------------------- */

/* What one rank tells the other ranks of its node. */
typedef struct bind_info {
  cpu_set_t launcher;  /* the mask the launcher gave (OpenMP places' union, or the process mask) */
  cpu_set_t used;      /* union of the OpenMP team's masks */
  int rank;            /* world rank */
  int threads;
  int pinned;          /* OMP_PROC_BIND pins the team threads */
} bind_info;

static int read_int(const char *path, int fallback) {
  FILE *f = fopen(path, "r");
  if (!f) return fallback;
  int v;
  if (fscanf(f, "%d", &v) != 1) v = fallback;
  fclose(f);
  return v;
}

/* The NUMA node: /sys/devices/system/cpu/cpuN holds a link named nodeK. */
static int numa_node_of(int cpu) {
  char path[96];
  snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", cpu);
  DIR *d = opendir(path);
  if (!d) return 0;
  int node = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9') {
      node = atoi(e->d_name + 4);
      break;
    }
  closedir(d);
  return node;
}

static int cmp_topo(const void *pa, const void *pb) {
  const ht_cpu_topo *a = pa, *b = pb;
  if (a->node != b->node) return a->node < b->node ? -1 : 1;
  if (a->package != b->package) return a->package < b->package ? -1 : 1;
  if (a->l3 != b->l3) return a->l3 < b->l3 ? -1 : 1;
  if (a->core != b->core) return a->core < b->core ? -1 : 1;
  return a->cpu < b->cpu ? -1 : a->cpu > b->cpu;
}

int ht_cpu_topology(const cpu_set_t *set, ht_cpu_topo *out, int max) {
  int n = 0;
  char path[160];
  for (int c = 0; c < CPU_SETSIZE && n < max; c++) {
    if (!CPU_ISSET(c, set)) continue;
    ht_cpu_topo t = {.cpu = c};
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
    t.package = read_int(path, 0);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
    t.core = read_int(path, c);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index3/id", c);
    t.l3 = read_int(path, 0);
    t.node = numa_node_of(c);
    out[n++] = t;
  }
  qsort(out, (size_t)n, sizeof *out, cmp_topo);
  return n;
}

static int same_core(const ht_cpu_topo *a, const ht_cpu_topo *b) {
  return a->node == b->node && a->package == b->package && a->core == b->core;
}

/* first[k]: index in topo of core k's first cpu; returns the number of cores. */
static int core_starts(const ht_cpu_topo *topo, int ncpu, int *first) {
  int cores = 0;
  for (int j = 0; j < ncpu; j++)
    if (j == 0 || !same_core(&topo[j], &topo[j - 1])) first[cores++] = j;
  first[cores] = ncpu;
  return cores;
}

int ht_binding_comm_cpu(const ht_cpu_topo *topo, int ncpu, int threads, int pinned) {
  if (ncpu <= 0) return -1;
  int *first = malloc(((size_t)ncpu + 1) * sizeof *first);
  if (!first) return -1;
  int cores = core_starts(topo, ncpu, first);
  int cpu = topo[first[pinned && threads < cores ? threads : cores - 1]].cpu;
  free(first);
  return cpu;
}

int ht_binding_share(const ht_cpu_topo *topo, int ncpu, int i, int n, cpu_set_t *share) {
  CPU_ZERO(share);
  if (ncpu <= 0 || n <= 0) return 0;
  int *first = malloc(((size_t)ncpu + 1) * sizeof *first);
  if (!first) return 0;
  int cores = core_starts(topo, ncpu, first);
  int lo, hi;
  if (cores >= n) {
    lo = (int)((long)i * cores / n);
    hi = (int)((long)(i + 1) * cores / n);
  } else {
    lo = (int)((long)i * cores / n);
    hi = lo + 1;
  }
  for (int j = first[lo]; j < first[hi]; j++) CPU_SET(topo[j].cpu, share);
  free(first);
  return cores;
}

/* The mask the launcher gave this process. libgomp builds its places from the
 * process's mask at start-up and, under OMP_PROC_BIND, pins the main thread to
 * the first place before main() runs, so the process mask alone would show
 * one core; the places' union is the launcher's mask. */
static void launcher_mask(cpu_set_t *set) {
  CPU_ZERO(set);
  int places = omp_get_num_places();
  for (int p = 0; p < places; p++) {
    int k = omp_get_place_num_procs(p);
    int ids[k > 0 ? k : 1];
    omp_get_place_proc_ids(p, ids);
    for (int j = 0; j < k; j++)
      if (ids[j] >= 0 && ids[j] < CPU_SETSIZE) CPU_SET(ids[j], set);
  }
  if (places == 0 || CPU_COUNT(set) == 0) sched_getaffinity(0, sizeof *set, set);
}

static void my_info(bind_info *me, int rank) {
  memset(me, 0, sizeof *me);
  me->rank = rank;
  launcher_mask(&me->launcher);
  ht_rank_cpuset(&me->used);
  me->threads = omp_get_max_threads();
  me->pinned = omp_get_proc_bind() != omp_proc_bind_false;
}

/* Pins the team: under OMP_PROC_BIND thread t to core t (mod the share's
 * cores), as OMP_PLACES=cores would within the share; otherwise every thread
 * may use the whole share. Returns the errno of a failed call, or 0. */
static int apply_share(const cpu_set_t *share, int pinned) {
  ht_cpu_topo topo[CPU_SETSIZE];
  int ncpu = ht_cpu_topology(share, topo, CPU_SETSIZE);
  int first[CPU_SETSIZE + 1];
  int cores = core_starts(topo, ncpu, first);
  if (cores == 0) return EINVAL;
  int err = 0;
  /* Each thread sets only its own mask; err is written in a critical section. */
#pragma omp parallel
  {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (pinned) {
      int k = omp_get_thread_num() % cores;
      for (int j = first[k]; j < first[k + 1]; j++) CPU_SET(topo[j].cpu, &mine);
    } else {
      CPU_OR(&mine, &mine, share);
    }
    if (sched_setaffinity(0, sizeof mine, &mine) != 0) {
#pragma omp critical
      err = errno;
    }
  }
  return err;
}

/* Ranks a and b's threads run on the same cpus as a binding choice (two
 * ranks that nobody bound, with the same mask, are left to the kernel). */
static int overlap(const bind_info *a, const bind_info *b, cpu_set_t *shared) {
  int a_free = !a->pinned && CPU_EQUAL(&a->used, &a->launcher);
  int b_free = !b->pinned && CPU_EQUAL(&b->used, &b->launcher);
  if (a_free && b_free && CPU_EQUAL(&a->launcher, &b->launcher)) return 0;
  CPU_AND(shared, &a->used, &b->used);
  return CPU_COUNT(shared) > 0;
}

static void fix_text(int threads, int pinned, char *out, size_t len) {
  char how[320];
  if (getenv("SLURM_STEP_ID") || getenv("SLURM_STEPID"))
    snprintf(how, sizeof how,
             "launch with srun --cpu-bind=cores --cpus-per-task=%d (srun binds only where the cluster's TaskPlugin "
             "includes task/affinity or task/cgroup)",
             threads);
  else if (getenv("OMPI_COMM_WORLD_SIZE"))
    snprintf(how, sizeof how, "launch with mpirun --bind-to core --map-by slot:PE=%d", threads);
  else
    snprintf(how, sizeof how, "give each rank its own cores with OMP_PLACES (e.g. OMP_PLACES='{0},{1}' for one rank, "
                              "'{2},{3}' for the next)");
  snprintf(out, len, "Fix: %s, or set compute.binding=auto (hytrain splits the cores itself)%s", how,
           pinned ? ". Cause: OMP_PROC_BIND pins thread t of every rank to place t of OpenMP places built from the "
                    "same node-wide mask"
                  : "");
}

int ht_binding_setup(const ht_binding_opts *o, const ht_comm *comm, ht_binding_outcome *out) {
  memset(out, 0, sizeof *out);
  out->comm_cpu = -1;
  if (o->mode == HT_BINDING_NONE) return 0;
  MPI_Comm node;
  HT_CHECK_MPI(MPI_Comm_split_type(comm->main, MPI_COMM_TYPE_SHARED, comm->rank, MPI_INFO_NULL, &node));
  int li = 0, n = 1;
  int rc = HT_MPI(MPI_Comm_rank(node, &li));
  if (rc == 0) rc = HT_MPI(MPI_Comm_size(node, &n));
  if (rc < 0) {
    MPI_Comm_free(&node);
    return rc;
  }
  bind_info *all = calloc((size_t)n, sizeof *all);
  rc = all ? 0 : ht_error(HT_ENOMEM, "out of memory for the binding check of %d ranks", n);
  bind_info me;
  my_info(&me, comm->rank);
  if (rc == 0) rc = HT_MPI(MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, all, (int)sizeof me, MPI_BYTE, node));
  char host[64] = "?";
  gethostname(host, sizeof host - 1);
  int all_same = 1, any_pinned = 0, total_threads = 0;
  for (int r = 0; rc == 0 && r < n; r++) {
    if (!CPU_EQUAL(&all[r].launcher, &all[0].launcher)) all_same = 0;
    any_pinned |= all[r].pinned;
    total_threads += all[r].threads;
  }
  char launcher_txt[128];
  if (rc == 0) ht__cpuset_text(&all[0].launcher, launcher_txt, sizeof launcher_txt);
  if (rc == 0 && n > 1 && all_same) {
    ht_cpu_topo topo[CPU_SETSIZE];
    int ncpu = ht_cpu_topology(&all[0].launcher, topo, CPU_SETSIZE);
    cpu_set_t share;
    int cores = ht_binding_share(topo, ncpu, li, n, &share);
    /* Unpinned ranks with more threads than cpus time-share whatever we do:
     * the kernel balances them better than a split would. Pinned ones would
     * all start on the first cores: a split at least spreads them. */
    int fits = cores >= n && total_threads <= ncpu;
    if (o->mode == HT_BINDING_AUTO && (fits || any_pinned)) {
      int e = apply_share(&share, me.pinned);
      int bad = e != 0, any_bad = 0;
      rc = HT_MPI(MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, node));
      my_info(&me, comm->rank);
      if (rc == 0) rc = HT_MPI(MPI_Allgather(&me, (int)sizeof me, MPI_BYTE, all, (int)sizeof me, MPI_BYTE, node));
      out->split = !any_bad;
      if (!any_bad) {
        ht_cpu_topo mine[CPU_SETSIZE];
        out->comm_cpu = ht_binding_comm_cpu(mine, ht_cpu_topology(&share, mine, CPU_SETSIZE), me.threads, me.pinned);
      }
      if (any_bad && li == 0)
        snprintf(out->warn, sizeof out->warn,
                 "compute.binding auto: could not bind the ranks on host %s to their own cores (sched_setaffinity: "
                 "%s)", host, strerror(e ? e : EPERM));
      if (!any_bad && li == 0) {
        size_t used = (size_t)snprintf(out->note, sizeof out->note,
                                       "binding: compute.binding auto split the %d core%s of host %s (cpus %s, the same "
                                       "for every rank) among its %d ranks:",
                                       cores, cores == 1 ? "" : "s", host, launcher_txt, n);
        for (int r = 0; r < n && used < sizeof out->note; r++) {
          char t[64];
          ht__cpuset_text(&all[r].used, t, sizeof t);
          int w = snprintf(out->note + used, sizeof out->note - used, " rank %d cpus %s%s", all[r].rank, t,
                           r + 1 < n ? "," : "");
          if (w < 0) break;
          used += (size_t)w;
        }
      }
    } else if (li == 0 && !any_pinned) {
      snprintf(out->note, sizeof out->note, "binding: the %d ranks on host %s are not bound (each may run on cpus %s)%s",
               n, host, launcher_txt,
               o->mode == HT_BINDING_AUTO ? "; not split: more threads than cpus, the kernel balances them"
                                          : "; compute.binding=auto would give each rank its own cores");
    }
  }
  /* The check, on what the ranks run on now. */
  if (rc == 0 && li == 0) {
    cpu_set_t shared_all, avail, used_all;
    CPU_ZERO(&shared_all);
    CPU_ZERO(&avail);
    CPU_ZERO(&used_all);
    int involved[64], n_inv = 0;
    for (int a = 0; a < n; a++) {
      CPU_OR(&avail, &avail, &all[a].launcher);
      CPU_OR(&used_all, &used_all, &all[a].used);
      for (int b = a + 1; b < n; b++) {
        cpu_set_t s;
        if (!overlap(&all[a], &all[b], &s)) continue;
        CPU_OR(&shared_all, &shared_all, &s);
        int ra = 0, rb = 0;
        for (int k = 0; k < n_inv; k++) ra |= involved[k] == a, rb |= involved[k] == b;
        if (!ra && n_inv < 64) involved[n_inv++] = a;
        if (!rb && n_inv < 64) involved[n_inv++] = b;
      }
    }
    int n_avail = CPU_COUNT(&avail), n_used = CPU_COUNT(&used_all);
    int could = total_threads < n_avail ? total_threads : n_avail;
    /* Overlap is unavoidable with more threads than cpus (start-up warns
     * about that); then only cpus left idle are worth a warning. */
    if (n_inv > 0 && (total_threads <= n_avail || n_used < could)) {
      char ranks[256] = "", cpus[128], fix[512];
      size_t used = 0;
      for (int k = 0; k < n_inv && used < sizeof ranks; k++) {
        /* involved[] is in discovery order; names are world ranks. */
        int w = snprintf(ranks + used, sizeof ranks - used, "%s%d", k ? ", " : "", all[involved[k]].rank);
        if (w < 0) break;
        used += (size_t)w;
      }
      ht__cpuset_text(&shared_all, cpus, sizeof cpus);
      fix_text(all[0].threads, any_pinned, fix, sizeof fix);
      snprintf(out->warn, sizeof out->warn,
               "binding: ranks %s on host %s run threads on the same cpus (%s) and time-share them; %d of the %d "
               "cpus given to the node's ranks %s idle. %s",
               ranks, host, cpus, n_avail - n_used, n_avail, n_avail - n_used == 1 ? "is" : "are", fix);
    }
  }
  free(all);
  MPI_Comm_free(&node);
  return rc;
}
