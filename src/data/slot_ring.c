/*
 * The slot ring between a loader thread and the main thread: the protocol is
 * in slot_ring.h. Used by loader.c and csr_loader.c, which own the threads.
 */
#include "data/slot_ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/timer.h"

int ht__ring_init(ht__slot_ring *r, int nslots) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->wake, NULL);
  pthread_cond_init(&r->ready_cv, NULL);
  r->nslots = nslots;
  r->tag = calloc((size_t)nslots, sizeof *r->tag);
  return r->tag ? 0 : HT_ENOMEM;
}

void ht__ring_destroy(ht__slot_ring *r) {
  free(r->tag);
  r->tag = NULL;
  pthread_cond_destroy(&r->wake);
  pthread_cond_destroy(&r->ready_cv);
  pthread_mutex_destroy(&r->mu);
}

/* ---- the loader thread's side ---------------------------------------- */

int ht__ring_next_job(ht__slot_ring *r, uint64_t done, ht__ring_job *job) {
  pthread_mutex_lock(&r->mu);
  while (!r->stop && r->gen == done) pthread_cond_wait(&r->wake, &r->mu);
  int go = !r->stop;
  if (go) {
    job->gen = r->gen;
    job->epoch = r->job_epoch;
    job->skip = r->job_skip;
  }
  pthread_mutex_unlock(&r->mu);
  return go;
}

int ht__ring_wanted(ht__slot_ring *r, uint64_t gen) {
  pthread_mutex_lock(&r->mu);
  int yes = r->gen == gen && !r->stop;
  pthread_mutex_unlock(&r->mu);
  return yes;
}

int ht__ring_wait_flag(ht__slot_ring *r, uint64_t gen, const int *flag) {
  pthread_mutex_lock(&r->mu);
  while (!*flag && r->gen == gen && !r->stop) pthread_cond_wait(&r->wake, &r->mu);
  int go = r->gen == gen && !r->stop;
  pthread_mutex_unlock(&r->mu);
  return go;
}

int ht__ring_wait_free(ht__slot_ring *r, uint64_t gen) {
  pthread_mutex_lock(&r->mu);
  while (!r->stop && r->gen == gen && r->ready + r->held >= r->nslots) pthread_cond_wait(&r->wake, &r->mu);
  /* Slots in ring order: [held one at rd], then the ready ones, then free. */
  int w = (!r->stop && r->gen == gen) ? (r->rd + r->held + r->ready) % r->nslots : -1;
  pthread_mutex_unlock(&r->mu);
  return w;
}

int ht__ring_publish_locked(ht__slot_ring *r, uint64_t gen, int w, int64_t epoch, int64_t index, int64_t per_epoch) {
  if (r->gen != gen || r->stop) return 1;
  r->tag[w].epoch = epoch;
  r->tag[w].index = index;
  r->ready++;
  r->prod_epoch = index + 1 < per_epoch ? epoch : epoch + 1;
  r->prod_index = index + 1 < per_epoch ? index + 1 : 0;
  pthread_cond_broadcast(&r->ready_cv);
  return 0;
}

void ht__ring_fail(ht__slot_ring *r, uint64_t gen, int rc) {
  pthread_mutex_lock(&r->mu);
  if (r->gen == gen && !r->err) {
    r->err = rc;
    r->err_gen = gen;
    snprintf(r->err_msg, sizeof r->err_msg, "%s", ht_error_message()[0] ? ht_error_message() : ht_strerror(rc));
    pthread_cond_broadcast(&r->ready_cv);
  }
  pthread_mutex_unlock(&r->mu);
  ht_error_clear();
}

/* ---- the main thread's side ------------------------------------------ */

/* Under mu: the held slot is done with and may be refilled. 1 if one was held. */
static int release_held(ht__slot_ring *r) {
  if (!r->held) return 0;
  r->held = 0;
  r->rd = (r->rd + 1) % r->nslots;
  return 1;
}

void ht__ring_start(ht__slot_ring *r, int64_t epoch, int64_t skip) {
  pthread_mutex_lock(&r->mu);
  release_held(r);
  /* The loader runs on into the next epoch: keep its work when it is at
   * exactly the slot asked for (the usual epoch-to-epoch case). */
  int keep = r->gen > 0 && !(r->err && r->err_gen == r->gen) &&
             (r->ready > 0 ? r->tag[r->rd].epoch == epoch && r->tag[r->rd].index == skip
                           : r->prod_epoch == epoch && r->prod_index == skip);
  if (!keep) {
    r->gen++;
    r->job_epoch = r->prod_epoch = epoch;
    r->job_skip = r->prod_index = skip;
    r->ready = r->rd = 0;
    r->err = 0;
  }
  pthread_cond_broadcast(&r->wake);
  pthread_mutex_unlock(&r->mu);
}

int ht__ring_take(ht__slot_ring *r, int64_t epoch, int64_t index, const char *what, ht_loader_stats *stats) {
  double t0 = ht_now();
  pthread_mutex_lock(&r->mu);
  int released = release_held(r);
  int blocked = r->ready == 0;
  if (blocked && released) pthread_cond_signal(&r->wake);
  while (r->ready == 0 && !(r->err && r->err_gen == r->gen)) pthread_cond_wait(&r->ready_cv, &r->mu);
  int rc = r->rd;
  const ht__ring_tag *t = &r->tag[r->rd];
  if (r->ready == 0) {
    rc = ht_error(r->err, "%s", r->err_msg);
  } else if (t->epoch != epoch || t->index != index) {
    rc = ht_error(HT_EINTERNAL, "loader: expected %s %lld of epoch %lld, the ring holds %s %lld of epoch %lld", what,
                  (long long)index, (long long)epoch, what, (long long)t->index, (long long)t->epoch);
  } else {
    r->ready--;
    r->held = 1;
    double waited = ht_now() - t0;
    stats->wait_s += waited;
    stats->batches++;
    stats->waits += blocked;
    if (waited > stats->max_wait_s) stats->max_wait_s = waited;
  }
  pthread_mutex_unlock(&r->mu);
  /* Woken after the unlock (and after the wait was measured): on a shared
   * core the loader may preempt this thread right away to refill the slot,
   * which is CPU sharing, not waiting for data. */
  if (released && !blocked) pthread_cond_signal(&r->wake);
  return rc;
}

void ht__ring_stop(ht__slot_ring *r) {
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_cond_broadcast(&r->wake);
  pthread_mutex_unlock(&r->mu);
}
