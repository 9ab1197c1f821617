/*
 * The slot ring between a loader thread and the main thread, shared by the
 * dense loader (loader.c: batches) and the CSR stream loader (csr_loader.c:
 * chunks). Each of those files owns its thread and what its slots hold; this
 * module is only the hand-off state and the waits on it. It starts no thread.
 *
 * Protocol (every field under mu):
 *   main -> loader: a job (epoch, skip) tagged with a generation number, and
 *                   the stop flag; signalled on `wake`.
 *   loader -> main: finished slots (ready count), or an error with its
 *                   message; signalled on `ready_cv`.
 * Slots are used in ring order: the one main holds (at rd), then the ready
 * ones, then the free ones. The loader fills a slot outside the lock: the
 * one being filled is neither ready nor held, so nobody else reads it. A
 * published slot carries the (epoch, index) it holds; main checks it when it
 * takes the slot.
 * A new job bumps the generation and empties the ring; every loader-side
 * call takes the generation it works for and reports when that one is no
 * longer wanted, so the loader drops older work at its next hand-off and a
 * new job never waits for a full ring to drain.
 *
 * The owner keeps its own shared fields (statistics, timeline track, ...)
 * under the same mu, and may wait on `wake` for conditions of its own
 * (ht__ring_wait_flag).
 */
#ifndef HT_DATA_SLOT_RING_H
#define HT_DATA_SLOT_RING_H

#include <pthread.h>
#include <stdint.h>

#include "hytrain/loader.h"

typedef struct ht__ring_tag {
  int64_t epoch, index;     /* what a published slot holds */
} ht__ring_tag;

typedef struct ht__slot_ring {
  pthread_mutex_t mu;
  pthread_cond_t wake;      /* loader waits: new job, free slot, or stop */
  pthread_cond_t ready_cv;  /* main waits: a ready slot or an error */

  /* Under mu. */
  int nslots;
  uint64_t gen;             /* job generation; bumped by ht__ring_start */
  int64_t job_epoch, job_skip;
  int64_t prod_epoch, prod_index; /* the next slot the loader will publish */
  int stop;
  int ready, held;          /* ready slots; 1 while main holds one */
  int rd;                   /* next slot main takes */
  int err;                  /* loader error for generation err_gen */
  uint64_t err_gen;
  char err_msg[1024];
  ht__ring_tag *tag;        /* [nslots] */
} ht__slot_ring;

/* A job as the loader thread takes it. */
typedef struct ht__ring_job {
  uint64_t gen;
  int64_t epoch, skip;
} ht__ring_job;

/* Initialises the lock and condition variables (always, so that
 * ht__ring_destroy may follow) and the tags of nslots slots. HT_ENOMEM,
 * with no message recorded, when they cannot be allocated: the owner names
 * its ring in its own message. */
int ht__ring_init(ht__slot_ring *r, int nslots);
void ht__ring_destroy(ht__slot_ring *r);

/* ---- loader thread ---- */

/* Waits for a job of a generation after `done`: 1 with *job filled, 0 once
 * stopping. */
int ht__ring_next_job(ht__slot_ring *r, uint64_t done, ht__ring_job *job);

/* 1 while generation gen is still wanted (not replaced, not stopping). */
int ht__ring_wanted(ht__slot_ring *r, uint64_t gen);

/* Waits until *flag (a field of the owner's, set under mu with a broadcast
 * on wake) is nonzero; 1 when gen is still wanted then, 0 otherwise. */
int ht__ring_wait_flag(ht__slot_ring *r, uint64_t gen, const int *flag);

/* Waits until a slot is free for generation gen; returns its index, or -1
 * when the job was replaced or the loader is stopping. */
int ht__ring_wait_free(ht__slot_ring *r, uint64_t gen);

/* With mu held (so the owner updates its counters in the same section):
 * publishes slot w as holding (epoch, index) of an epoch of per_epoch slots,
 * if gen is still wanted, and wakes the main thread. Returns 1 when gen is
 * no longer wanted (the slot is dropped), 0 otherwise. */
int ht__ring_publish_locked(ht__slot_ring *r, uint64_t gen, int w, int64_t epoch, int64_t index, int64_t per_epoch);

/* Records error rc of generation gen with the thread's error message (or
 * rc's name), wakes the main thread, and clears the thread's error. */
void ht__ring_fail(ht__slot_ring *r, uint64_t gen, int rc);

/* ---- main thread ---- */

/* Releases the held slot and asks for slots from (epoch, skip) on: the
 * loader's work is kept when it is at exactly that position (it runs on
 * into the next epoch), otherwise a new generation starts. */
void ht__ring_start(ht__slot_ring *r, int64_t epoch, int64_t skip);

/* Releases the held slot and waits for the next one, which must hold
 * (epoch, index): its index, held until the next call, or the loader's
 * error. `what` names a slot's contents in the error ("batch", "chunk").
 * Counts the wait in stats (guarded by mu). */
int ht__ring_take(ht__slot_ring *r, int64_t epoch, int64_t index, const char *what, ht_loader_stats *stats);

/* Tells the loader thread to stop; the owner joins it. */
void ht__ring_stop(ht__slot_ring *r);

#endif
