/*
 * The communication thread: sums gradient buckets over ranks while the main
 * thread computes.
 *
 * One thread per rank (named "ht-comm", owned by src/comm/comm_thread.c) does
 * every gradient collective, on comm->grad only. The hand-off with the main
 * thread is a round per step:
 *   main: ht_comm_thread_begin(buf)      a new round over the flat buffer buf
 *   main: ht_comm_thread_enqueue(k)      bucket k is final (k = 0, 1, 2 ... in order)
 *   comm: reduces the enqueued buckets in that order, the same on every rank
 *   main: ht_comm_thread_wait(k)         blocks until bucket k alone is summed
 * buf[b.lo, b.hi) of an enqueued bucket belongs to the communication thread
 * until ht_comm_thread_wait(k) returns; the main thread must not touch it.
 * The mutex + condition variables in ht_comm_thread are the only shared
 * state; the thread sleeps on a condition variable while no bucket is queued.
 *
 * Waiting policy while reductions are in flight (comm.wait):
 * (every policy sums as hytrain/bucket_reduce.h does, with messages or in
 * shared memory, so all give bit-identical sums):
 *   yield     non-blocking messages tested in turn, sched_yield() between polls
 *   sleep:us  the same, sleeping us microseconds between polls
 *   block     each bucket in turn, polled without pausing until it is summed
 *   adaptive:us  non-blocking messages; while the main thread is
 *             blocked in ht_comm_thread_wait (its core is idle) poll without
 *             pausing, otherwise sleep us microseconds between polls
 *   backoff:us   sleep us between polls while the main thread waits for a
 *             bucket; while it computes, double the pause after every poll
 *             that completes nothing, up to HT_WAIT_BACKOFF_MAX_US
 * On a rank with no spare core the blocking variant steals the core from
 * compute; see docs/comm.md for the measurements behind the default.
 */
#ifndef HYTRAIN_COMM_THREAD_H
#define HYTRAIN_COMM_THREAD_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

#include "hytrain/bucket_reduce.h"
#include "hytrain/comm.h"
#include "hytrain/events.h"

#include "hytrain/options.h" /* ht_wait_kind */

typedef struct ht_comm_thread {
  /* Set at create, read-only afterwards. */
  MPI_Comm comm;             /* comm->grad */
  int n_buckets;
  const ht_bucket *buckets;  /* [n_buckets], borrowed */
  ht_wait_kind wait;
  int sleep_us;
  ht_track *track;           /* the thread's event track, or NULL */
  pthread_t thread;
  int started;

  /* Shared with the main thread; guarded by mu. */
  pthread_mutex_t mu;
  pthread_cond_t work;       /* signalled on enqueue and stop */
  pthread_cond_t done_cv;    /* broadcast when a bucket completes or fails */
  float *buf;                /* the current round's buffer */
  int round;                 /* current round, starts at 1 */
  atomic_int n_enqueued;     /* buckets enqueued this round (polled without mu) */
  int *done;                 /* [n_buckets]: round in which bucket k was last summed */
  int stop;
  int err;                   /* first HT_E* error of the thread, then every wait fails */
  char errmsg[512];
  int idle;                  /* the thread sleeps on `work` */
  int wake;                  /* a bucket was enqueued or the main thread began waiting: cut the pause short */
  double stall_warn_s;       /* watchdog (ht_comm_thread_set_watchdog); 0 = off */
  double stall_timeout_s;
  atomic_int main_waiting;   /* the main thread is blocked in ht_comm_thread_wait */

  /* Owned by the communication thread until join; read by main after join. */
  ht_bucket_reduce br;       /* the summing of every bucket */
  double *t_issue;           /* [n_buckets] */
  int *ready;                /* [n_buckets] buckets completed by one poll */
  int *missing;              /* [P] ranks a stalled bucket waits for */
  double busy_s;             /* time with at least one reduction in flight */
  double cpu_s;              /* CPU time of the thread, at exit */
  long long polls, reductions;
} ht_comm_thread;

/* The pause of adaptive and backoff without ":<us>" (comm.wait is parsed by
 * the config registry, ht_config_parse_wait). */
#define HT_WAIT_ADAPTIVE_US HT_WAIT_DEFAULT_US
/* The longest pause of the backoff policy: pauses of 2 ms or more were
 * measured to throttle a 1 Gbit/s link (docs/comm.md). */
#define HT_WAIT_BACKOFF_MAX_US 1000

/* Starts the thread (not collective). buckets must outlive it. shm: the
 * ranks' shared gradient buffers (hytrain/shm_grads.h; every buffer handed to
 * ht_comm_thread_begin must then be one of them), or NULL to sum with
 * messages; it must outlive the thread. cpus: where it may run (the rank's
 * cpuset; NULL = inherit the creator's mask, which under OMP_PROC_BIND is one
 * core); core >= 0 overrides cpus with that one core.
 * Returns 0, HT_ENOMEM or HT_EINTERNAL (thread creation / affinity failed). */
int ht_comm_thread_create(ht_comm_thread *ct, const ht_comm *comm, const ht_bucket *buckets, int n_buckets,
                          const ht_shm_grads *shm, ht_wait_kind wait, int sleep_us, const cpu_set_t *cpus, int core,
                          ht_track *track);

/* The stall watchdog (any thread, at any time). When the oldest bucket in
 * flight has waited warn_s seconds, the thread prints one warning naming the
 * bucket and the ranks it still waits for; at timeout_s it prints the error
 * and ends the whole job with MPI_Abort (a stalled rank would otherwise hang
 * every other rank forever). 0 turns either off. */
void ht_comm_thread_set_watchdog(ht_comm_thread *ct, double warn_s, double timeout_s);

/* Main thread: starts a round over buf after every bucket of the previous
 * round has been waited for (it waits for stragglers itself). */
int ht_comm_thread_begin(ht_comm_thread *ct, float *buf);

/* Main thread: bucket k of the current round is final. Buckets must be
 * enqueued in order 0, 1, ..., n_buckets-1. */
void ht_comm_thread_enqueue(ht_comm_thread *ct, int k);

/* Main thread: blocks (sleeping) until bucket k of the current round holds the
 * SUM over ranks. Returns 0, or the thread's error (HT_EMPI) with its message
 * recorded on the calling thread. */
int ht_comm_thread_wait(ht_comm_thread *ct, int k);

/* Stops the thread after the reductions already enqueued have completed (all
 * ranks enqueued the same buckets, so this cannot hang), joins it and frees
 * everything. Safe on a zeroed struct. */
void ht_comm_thread_destroy(ht_comm_thread *ct);

#endif
