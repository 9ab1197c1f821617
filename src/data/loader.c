/*
 * Batch assembly from an in-memory shard.
 * Shapes: d = features, t = targets, B = batch rows.
 */
#include "hytrain/loader.h"

#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/rng.h"

/* Purpose tag so the shuffle stream never coincides with the init stream. */
#define HT__SHUFFLE_TAG 0x5348554646ULL

int ht_loader_create(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank) {
  memset(l, 0, sizeof *l);
  l->ds = ds;
  l->batch = batch;
  l->shuffle = shuffle;
  l->seed = seed;
  l->rank = rank;
  l->order = malloc(sizeof(int64_t) * (size_t)(ds->n > 0 ? ds->n : 1));
  l->x = malloc(sizeof(float) * (size_t)batch * (size_t)ds->d);
  if (ds->y) l->y = malloc(sizeof(int32_t) * (size_t)batch);
  if (ds->yt) l->yt = malloc(sizeof(float) * (size_t)batch * (size_t)ds->t);
  if (!l->order || !l->x || (ds->y && !l->y) || (ds->yt && !l->yt)) {
    ht_loader_destroy(l);
    return ht_error(HT_ENOMEM, "out of memory allocating a batch of %d rows x %d features", batch, ds->d);
  }
  return 0;
}

void ht_loader_start_epoch(ht_loader *l, int64_t epoch, int64_t skip) {
  l->epoch = epoch;
  l->next = skip;
  for (int64_t i = 0; i < l->ds->n; i++) l->order[i] = i;
  if (l->shuffle) {
    ht_rng r;
    ht_rng_seed(&r, ht_rng_mix(l->seed ^ HT__SHUFFLE_TAG, (uint64_t)epoch, (uint64_t)l->rank));
    ht_rng_shuffle_i64(&r, l->order, l->ds->n);
  }
}

int ht_loader_next(ht_loader *l, ht_batch *b) {
  const ht_dataset *ds = l->ds;
  int64_t first = l->next * l->batch;
  if (first + l->batch > ds->n) return ht_error(HT_EINVAL, "loader: epoch %lld has no batch %lld", (long long)l->epoch, (long long)l->next);
  const size_t d = (size_t)ds->d;
  /* i is parallel: each batch row is copied from one source row into its own slot. */
#pragma omp parallel for schedule(static)
  for (int i = 0; i < l->batch; i++) {
    int64_t row = l->order[first + i];
    memcpy(l->x + (size_t)i * d, ds->x + (size_t)row * d, d * sizeof(float));
    if (l->y) l->y[i] = ds->y[row];
    if (l->yt) memcpy(l->yt + (size_t)i * ds->t, ds->yt + (size_t)row * ds->t, (size_t)ds->t * sizeof(float));
  }
  l->next++;
  b->n = l->batch;
  b->x = l->x;
  b->y = l->y;
  b->yt = l->yt;
  return 0;
}

void ht_loader_destroy(ht_loader *l) {
  free(l->order);
  free(l->x);
  free(l->y);
  free(l->yt);
  memset(l, 0, sizeof *l);
}
