/*
 * MPI set-up, the collectives the trainer needs, and the stall watchdog.
 *
 * Two communicators, both duplicated from MPI_COMM_WORLD, so collectives from
 * two threads can never interleave on one communicator:
 *   main  - the main thread's own collectives (config broadcast, initial
 *           weights, metrics, agreement on errors and stop flags);
 *   grad  - gradient traffic only (owned by the communication thread,
 *           src/comm/comm_thread.h, reached through hytrain/grad_sync.h).
 *
 * Stall watchdog: every ht_comm owns one (comm.stall_warn_s,
 * comm.stall_timeout_s; off until ht_comm_set_watchdog). The main thread
 * marks each blocking collective on c->main that every rank must join with
 * ht_comm_stall_enter / ht_comm_stall_leave (ht_comm_agree and
 * ht_comm_bcast_floats mark their own); a wait that lasts warn_s gets one
 * warning naming it, one that lasts timeout_s ends the whole job with one
 * error line, so a rank that never joins cannot hang the others forever.
 * Gradient buckets in flight are watched the same way. docs/comm.md.
 */
#ifndef HYTRAIN_COMM_H
#define HYTRAIN_COMM_H

#include <mpi.h>
#include <stddef.h>

#include "hytrain/options.h"

/* The ranks of a job or of a group of it. The fields are read-only after
 * ht_comm_init / ht_comm_split: callers read rank, size and the two
 * communicators, and pass the whole struct to the functions below. */
typedef struct ht_comm {
  int rank, size;
  int provided;          /* thread level MPI granted */
  MPI_Comm main;
  MPI_Comm grad;
  struct ht_stall *stall; /* the watchdog (opaque, owned; NULL if set-up failed) */
} ht_comm;

/* MPI_Init_thread asking for MPI_THREAD_MULTIPLE; refuses (HT_EMPI, with the
 * level that was provided) if less is granted. Duplicates the communicators
 * and creates the watchdog (limits off). Returns 0, HT_EMPI or HT_ENOMEM;
 * call ht_comm_finalize whatever it returned. */
int ht_comm_init(ht_comm *c, int *argc, char ***argv);

/* Collective on parent->main: an ht_comm over the ranks of parent that pass
 * the same color (MPI_Comm_split; ranks ordered by key, then parent rank),
 * with its own main and grad communicators and its own watchdog (limits
 * off). rank/size are within the group. Free it with ht_comm_free
 * (src/comm/group.c). Returns 0, HT_EMPI or HT_ENOMEM. */
int ht_comm_split(const ht_comm *parent, int color, int key, ht_comm *out);

/* Frees the communicators and the watchdog of an ht_comm made by
 * ht_comm_split (not collective; MPI stays up). */
void ht_comm_free(ht_comm *c);

/* Frees the communicators and the watchdog, and finalizes MPI. */
void ht_comm_finalize(ht_comm *c);

/* Not collective: sets c's watchdog limits in seconds (comm.stall_warn_s,
 * comm.stall_timeout_s; 0 = that limit off). From the first call with a
 * limit on, marked waits and gradient buckets are timed. Returns 0 or
 * HT_EINTERNAL (the watchdog's timer thread could not start). */
int ht_comm_set_watchdog(const ht_comm *c, double warn_s, double timeout_s);

/* Main thread, not collective: it is about to block in `what` (a string
 * literal naming a collective on c->main that every rank must join, e.g.
 * "the step agreement (MPI_Wait)"); ht_comm_stall_leave when the call has
 * returned. Waits do not nest. Cheap (two uncontended mutex pairs). */
void ht_comm_stall_enter(const ht_comm *c, const char *what);
void ht_comm_stall_leave(const ht_comm *c);

/* Collective on c->main: every rank passes its own rc (0 or HT_E*); returns 0
 * if all were 0, else the most negative code. The lowest rank holding that
 * code keeps its error message and reports it; every other rank's message is
 * cleared (ht_error_message() == ""), so the user sees one line. Use this at
 * the end of each phase so that a failure on one rank ends the job on all of
 * them cleanly (no rank left waiting in a collective). */
int ht_comm_agree(const ht_comm *c, int rc);

/* comm.wait's policy is ht_wait_kind (hytrain/options.h), parsed once by the
 * config registry (ht_config_parse_wait); docs/comm.md has the table and the
 * measurements. The pause of adaptive and backoff when none is given: */
#define HT_WAIT_ADAPTIVE_US HT_WAIT_DEFAULT_US
/* The longest pause of the backoff policy: pauses of 2 ms or more were
 * measured to throttle a 1 Gbit/s link (docs/comm.md). */
#define HT_WAIT_BACKOFF_MAX_US 1000

/* What ht_comm_bench_allreduce measured (seconds per step, over the steps). */
typedef struct ht_comm_bench_result {
  int buckets;
  ht_transport used;      /* mpi, shm or hier */
  char how[160];          /* e.g. "hierarchical, 2 nodes x 2 ranks, ring" */
  double median_s, min_s, max_s;
} ht_comm_bench_result;

/* Work for the main thread while the buckets are in flight (`hytrain bench
 * allreduce --compute-ms`): fn(seconds, arg) computes for about that long. */
typedef struct ht_bench_compute {
  void (*fn)(double seconds, void *arg);
  void *arg;
  double seconds;
} ht_bench_compute;

/* Collective on c->main and c->grad (`hytrain bench allreduce`): sums n
 * floats over all ranks with a communication thread, in buckets of about
 * bucket_mb MiB, steps + 1 times (the first warms up and is not counted),
 * each step after a barrier, summing as comm.transport `transport` does
 * (mpi: messages; shm: memory shared by the ranks of one node; hier:
 * hierarchical with inter-node algorithm `inter`; auto: as training would).
 * With compute (may be NULL) the main thread runs compute->fn after handing
 * every bucket over and waits afterwards, as a training step overlaps
 * backward with the summing; a step's time then includes that work.
 * *out holds the rank's own clock and the transport used. Returns 0,
 * HT_ENOMEM, HT_ECONFIG (shm or hier not available here) or HT_EMPI. */
int ht_comm_bench_allreduce(const ht_comm *c, size_t n, double bucket_mb, int steps, ht_wait_kind wait, int sleep_us,
                            ht_transport transport, ht_inter_algo inter, const ht_bench_compute *compute,
                            ht_comm_bench_result *out);

/* Collective on c->grad: buf[0..n) = mean over ranks (sum, then * 1/size).
 * Plain synchronous MPI_Allreduce from the calling thread. Training does not
 * use it (the communication thread owns c->grad there, see
 * hytrain/grad_sync.h); it is the simple reference the tests compare with.
 * Never call it while a communication thread is running on c. Returns 0 or
 * HT_EMPI. */
int ht_comm_allreduce_mean(const ht_comm *c, float *buf, size_t n);

/* Collective on c->main (a marked wait): broadcasts n floats from rank 0.
 * Returns 0 or HT_EMPI. */
int ht_comm_bcast_floats(const ht_comm *c, float *buf, size_t n);

/* Ends the whole job now from any rank: prints "hytrain: error: [rank r] msg"
 * to stderr and calls MPI_Abort with ht_exit_code(code). For failures where
 * the other ranks may already be inside a collective. Does not return. */
_Noreturn void ht_comm_abort(const ht_comm *c, int code, const char *msg);

#endif
