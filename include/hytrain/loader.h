/*
 * Batches from this rank's shard.
 *
 * Each epoch visits the shard in an order shuffled with a generator seeded
 * from (train.seed, epoch, rank), so the order is reproducible and differs per
 * epoch and per rank. An epoch has a fixed number of full batches (the
 * trainer passes the same count on every rank); rows left over at the end of
 * an epoch's order are not used in that epoch (PyTorch's drop_last), and
 * because the order changes every epoch, different rows are left over each time.
 *
 * Today batches are gathered on the calling thread; the loader-thread issue
 * moves this behind a producer thread with the same interface.
 */
#ifndef HYTRAIN_LOADER_H
#define HYTRAIN_LOADER_H

#include <stdint.h>

#include "hytrain/dataset.h"

typedef struct ht_batch {
  int n;               /* rows */
  const float *x;      /* [n, d] */
  const int32_t *y;    /* [n] or NULL (regression) */
  const float *yt;     /* [n, t] or NULL (classification) */
} ht_batch;

typedef struct ht_loader {
  const ht_dataset *ds; /* borrowed; features already normalised */
  int batch;            /* rows per batch */
  int shuffle;          /* 0: shard order */
  uint64_t seed;
  int rank;
  int64_t epoch;        /* current epoch */
  int64_t next;         /* next batch index within the epoch */
  int64_t *order;       /* [ds->n] row order of the current epoch */
  float *x;             /* [batch, d] gathered features */
  int32_t *y;           /* [batch] */
  float *yt;            /* [batch, t] */
} ht_loader;

int ht_loader_create(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank);

/* Prepares epoch's order and positions the loader at batch `skip` of it. */
void ht_loader_start_epoch(ht_loader *l, int64_t epoch, int64_t skip);

/* Fills b with the next batch; HT_EINVAL when the epoch's order is exhausted. */
int ht_loader_next(ht_loader *l, ht_batch *b);

void ht_loader_destroy(ht_loader *l);

#endif
