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
 * Besides the buffer, the thread and its caller share only the round's
 * bookkeeping (the enqueued count, which buckets are done, the first error,
 * the pause flags), all inside the opaque ht_comm_thread and guarded by its
 * mutex (the enqueued count and "the main thread waits" are also read
 * without it, as atomics); the thread sleeps on a condition variable while
 * no bucket is queued. Stalled buckets are reported through the watchdog of
 * the ht_comm it was created on (comm/stall.h).
 *
 * Waiting policy while reductions are in flight (comm.wait):
 * (every policy sums as comm/bucket_reduce.h does, with messages or in
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
#ifndef HT_COMM_COMM_THREAD_H
#define HT_COMM_COMM_THREAD_H

#include <sched.h>

#include "comm/bucket_reduce.h"
#include "comm/shm_grads.h"
#include "hytrain/comm.h"
#include "hytrain/events.h"

typedef struct ht_comm_thread ht_comm_thread;

/* Starts the thread (not collective) into *out. buckets must outlive it.
 * shm: the ranks' shared gradient buffers (comm/shm_grads.h; every buffer
 * handed to ht_comm_thread_begin must then be one of them), or NULL to sum
 * with messages; it must outlive the thread. hier: sum hierarchically
 * across nodes (comm/hier.h; shm must then be NULL, and with several ranks
 * per node every buffer must be one of hier->shm's), or NULL; it must
 * outlive the thread. cpus: where it may run (the
 * rank's cpuset; NULL = inherit the creator's mask, which under
 * OMP_PROC_BIND is one core); core >= 0 overrides cpus with that one core.
 * Buckets in flight are timed against comm->stall's limits (comm.stall_*).
 * Returns 0, HT_EINVAL, HT_ENOMEM, HT_ECONFIG (comm.thread_core) or
 * HT_EINTERNAL (thread creation failed); *out is NULL on failure. */
int ht_comm_thread_create(ht_comm_thread **out, const ht_comm *comm, const ht_bucket *buckets, int n_buckets,
                          const ht_shm_grads *shm, const ht_hier *hier, ht_wait_kind wait, int sleep_us,
                          const cpu_set_t *cpus, int core, ht_track *track);

/* Main thread: starts a round over buf after every bucket of the previous
 * round has been waited for (it waits for stragglers itself). Returns 0 or
 * the thread's error. */
int ht_comm_thread_begin(ht_comm_thread *ct, float *buf);

/* Main thread: bucket k of the current round is final. Buckets must be
 * enqueued in order 0, 1, ..., n_buckets-1. */
void ht_comm_thread_enqueue(ht_comm_thread *ct, int k);

/* Main thread: blocks (sleeping) until bucket k of the current round holds the
 * SUM over ranks. Returns 0, or the thread's error (HT_EMPI) with its message
 * recorded on the calling thread. */
int ht_comm_thread_wait(ht_comm_thread *ct, int k);

/* Main thread, after ht_comm_thread_wait(k) returned 0: whether this rank,
 * as the owner of a chunk of bucket k, found a NaN or infinite sum in it
 * (comm/bucket_reduce.h): -1 if not; else the first rank whose gradient held
 * a non-finite value there (P: none did, the sum overflowed), with *elem
 * the element (an index into the flat gradient). */
int ht_comm_thread_nonfinite(ht_comm_thread *ct, int k, size_t *elem);

/* The cpus the thread may run on, into *set. Returns 0, or -1 when the
 * thread is not running (set is then empty). */
int ht_comm_thread_cpus(const ht_comm_thread *ct, cpu_set_t *set);

/* Stops the thread after the reductions already enqueued have completed (all
 * ranks enqueued the same buckets, so this cannot hang) and joins it; its
 * figures stay readable (ht_comm_thread_stats) until destroy. Idempotent. */
void ht_comm_thread_stop(ht_comm_thread *ct);

/* After ht_comm_thread_stop: the time with at least one reduction in flight
 * and the thread's CPU time, in seconds. */
void ht_comm_thread_stats(const ht_comm_thread *ct, double *busy_s, double *cpu_s);

/* Stops the thread if still running, frees everything, *ct = NULL. Safe on
 * NULL. */
void ht_comm_thread_destroy(ht_comm_thread **ct);

#endif
