/*
 * The epoch order: which row comes when, and when each piece of the shard is
 * read (the streaming shuffle).
 *
 * Memory mode, and stream mode whose buffer holds the whole shard, use one
 * Fisher-Yates shuffle of the shard seeded from (seed, epoch, rank): the
 * foundation's order, unchanged, so results stay bit-identical to it.
 *
 * Stream mode with a smaller buffer (cap = buffer_chunks * C rows):
 *   1. the pieces are shuffled (own stream, same seed words);
 *   2. pieces are appended to a pool while the whole piece fits in cap;
 *   3. repeat: draw a pool entry uniformly, emit it, move the last entry into
 *      its place; then append further pieces while they fit.
 * Every row is emitted exactly once, and at most cap rows are ever held. The
 * plan is computed on row numbers only, before any data is read; the loader
 * then reads piece load_piece[j] just before position load_pos[j], which
 * reproduces the pool's contents exactly, also when a run resumes mid-epoch.
 */
#include <stdlib.h>
#include <string.h>

#include "data/loader_internal.h"
#include "hytrain/error.h"

/* Purpose tags so the shuffle streams never coincide with the init stream.
 * SHUFFLE is the foundation's tag: keep it, or memory-mode orders change. */
#define HT__SHUFFLE_TAG 0x5348554646ULL
#define HT__PIECES_TAG 0x5049454345ULL
#define HT__POOL_TAG 0x504f4f4cULL

int ht__plan_create(ht__epoch_plan *p, int64_t n, int64_t row0, int64_t chunk_rows, int buffer_chunks) {
  memset(p, 0, sizeof *p);
  p->n = n;
  p->row0 = row0;
  p->chunk_rows = chunk_rows;
  if (chunk_rows > 0 && n > 0) {
    p->n_pieces = (row0 + n - 1) / chunk_rows - row0 / chunk_rows + 1;
    int64_t cap = (int64_t)buffer_chunks * chunk_rows;
    p->full = cap >= n;
    p->cap = p->full ? n : cap;
  } else {
    p->full = 1;
  }
  size_t m = (size_t)(p->n_pieces > 0 ? p->n_pieces : 1);
  p->order = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
  p->load_piece = malloc(sizeof(int64_t) * m);
  p->load_pos = malloc(sizeof(int64_t) * m);
  p->pool = p->full ? NULL : malloc(sizeof(int64_t) * (size_t)p->cap);
  if (!p->order || !p->load_piece || !p->load_pos || (!p->full && !p->pool)) {
    ht__plan_free(p);
    return ht_error(HT_ENOMEM, "out of memory for the epoch order of %lld rows", (long long)n);
  }
  return 0;
}

int64_t ht__plan_piece_start(const ht__epoch_plan *p, int64_t k) {
  if (k <= 0) return 0;
  if (k >= p->n_pieces) return p->n;
  return (p->row0 / p->chunk_rows + k) * p->chunk_rows - p->row0;
}

/* The streaming shuffle (steps 1-3 above). */
static void plan_stream(ht__epoch_plan *p, ht_rng *pieces_rng, ht_rng *pool_rng) {
  const int64_t m = p->n_pieces;
  for (int64_t k = 0; k < m; k++) p->load_piece[k] = k;
  ht_rng_shuffle_i64(pieces_rng, p->load_piece, m);
  int64_t pool_n = 0, next = 0, pos = 0;
  while (pos < p->n) {
    while (next < m) {
      int64_t k = p->load_piece[next];
      int64_t a = ht__plan_piece_start(p, k), b = ht__plan_piece_start(p, k + 1);
      if (pool_n + (b - a) > p->cap) break;
      for (int64_t r = a; r < b; r++) p->pool[pool_n++] = r;
      p->load_pos[next++] = pos;
    }
    int64_t i = (int64_t)ht_rng_below(pool_rng, (uint64_t)pool_n);
    p->order[pos++] = p->pool[i];
    p->pool[i] = p->pool[--pool_n];
  }
}

void ht__plan_epoch(ht__epoch_plan *p, int shuffle, uint64_t seed, int64_t epoch, int rank) {
  for (int64_t i = 0; i < p->n; i++) p->order[i] = i;
  if (p->full) {
    if (shuffle) {
      ht_rng r;
      ht_rng_seed(&r, ht_rng_mix(seed ^ HT__SHUFFLE_TAG, (uint64_t)epoch, (uint64_t)rank));
      ht_rng_shuffle_i64(&r, p->order, p->n);
    }
    /* The whole shard is read before the first row (in file order). */
    for (int64_t k = 0; k < p->n_pieces; k++) p->load_piece[k] = k, p->load_pos[k] = 0;
  } else if (!shuffle) {
    /* File order: each piece is read when its first row is due. */
    for (int64_t k = 0; k < p->n_pieces; k++) p->load_piece[k] = k, p->load_pos[k] = ht__plan_piece_start(p, k);
  } else {
    ht_rng pieces, pool;
    ht_rng_seed(&pieces, ht_rng_mix(seed ^ HT__PIECES_TAG, (uint64_t)epoch, (uint64_t)rank));
    ht_rng_seed(&pool, ht_rng_mix(seed ^ HT__POOL_TAG, (uint64_t)epoch, (uint64_t)rank));
    plan_stream(p, &pieces, &pool);
  }
}

void ht__plan_free(ht__epoch_plan *p) {
  free(p->order);
  free(p->load_piece);
  free(p->load_pos);
  free(p->pool);
  memset(p, 0, sizeof *p);
}
