/*
 * The sparse engines' epoch: T worker threads update one shared sparse
 * model (src/train/hogwild.c owns them), and the communication thread
 * averages the weights across ranks.
 *
 * Threads and hand-offs:
 *   workers "ht-hogwild-<i>" (one epoch each, started and joined by the
 *     caller's thread in ht__hogwild_epoch): the workers claim chunks of
 *     up to CHUNK consecutive ticks of the epoch's order from one shared counter
 *     (a relaxed atomic add; every tick 0 .. rows-1 once, by one worker)
 *     and run ht_sparse_step at each tick t of their chunk.
 *     hogwild: no lock (relaxed atomics, hytrain/sparse_model.h); locked: one
 *     mutex around each update; serial: T = 1. With hogwild and T >= 2 each
 *     worker keeps a bias replica (its own bias steps, own cache lines) and
 *     folds it into the shared bias every FOLD_EVERY updates and before it
 *     ends; with k = 1 and l2 = 0 also a replica of the hot features'
 *     steps (ht_sparse_step_hot), folded every HOT_FOLD_EVERY updates and
 *     before it ends. Each worker publishes its count of updates (relaxed
 *     atomic, in its own cache line) every few thousand rows, and owns its
 *     loss sum, scratch and replicas until it is joined.
 *   the caller's thread (the coordinator) watches the counters; every
 *     average_every updates of the rank it copies the weights into the
 *     snapshot buffer and hands it to the communication thread ("ht-comm",
 *     comm/comm_thread.h, on comm->grad), which sums it across ranks while
 *     the workers keep updating; then it adds (sum / P - snapshot) to the
 *     live weights, a correction that keeps the updates made meanwhile.
 *   at the end of the epoch (workers joined): lazy L2 catch-up, then an
 *     exact average (the weights themselves are summed), so every rank holds
 *     the same weights bit for bit.
 * Every rank runs the same number of averages per epoch (rows is the same on
 * every rank), so the collectives always match.
 */
#ifndef HT_TRAIN_HOGWILD_H
#define HT_TRAIN_HOGWILD_H

#include <stdint.h>

#include "hytrain/comm.h"
#include "hytrain/csr.h"
#include "hytrain/events.h"
#include "hytrain/options.h"
#include "hytrain/sparse_model.h"

typedef struct ht__hogwild ht__hogwild;

typedef struct ht__hogwild_opts {
  ht_engine engine;       /* hogwild | locked | serial */
  int threads;            /* workers; serial uses 1 */
  int64_t average_every;  /* updates of a rank between averages; 0 = at epoch ends only */
  ht_wait_kind wait;      /* the communication thread's policy (comm.wait) */
  int wait_us;
  double bucket_mb;       /* pieces of the snapshot summed one after the other */
  int first_track;        /* event track of worker 0 (workers take the next ones) */
} ht__hogwild_opts;

/* What one epoch did on this rank. */
typedef struct ht__epoch_stats {
  double loss_sum;        /* sum of the row losses before each update */
  int64_t updates;
  int64_t nnz;            /* non-zeros of the rows updated */
  double cpu_s;           /* the workers' CPU time, summed */
  int64_t averages;       /* averages across ranks, the epoch-end one included */
  double seconds;         /* workers' wall time, start to join */
  double average_s;       /* coordinator time in averaging (snapshot, wait, correction) */
} ht__epoch_stats;

/* Sets up workers' buffers (rows of at most max_nnz non-zeros) and, with
 * more than one rank, the communication thread. Not collective. Returns 0,
 * HT_ENOMEM or the communication thread's error. */
int ht__hogwild_create(ht__hogwild **out, const ht__hogwild_opts *o, ht_sparse_model *m, const ht_csr *data,
                       const ht_comm *comm, ht_events *ev, int64_t max_nnz);

/* Collective on comm->grad (through the communication thread): one epoch
 * over order[0, rows) (shard rows) at clock c (c->len == rows), then the
 * catch-up and the exact average. Returns 0 or HT_EMPI. */
int ht__hogwild_epoch(ht__hogwild *h, const int64_t *order, int64_t rows, const ht_sparse_clock *c, ht__epoch_stats *st);

/* Number of workers. */
int ht__hogwild_threads(const ht__hogwild *h);

/* Number of hot features with per-worker replicas (0 before the first epoch,
 * and for every engine but hogwild with T >= 2, k = 1, l2 = 0). */
int ht__hogwild_hot_features(const ht__hogwild *h);

/* Stops the communication thread and frees everything; *h = NULL. */
void ht__hogwild_destroy(ht__hogwild **h);

#endif
