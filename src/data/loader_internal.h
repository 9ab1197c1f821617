/* Internal pieces of the loader: the epoch plan (epoch_plan.c) and the
 * augmentation of one image row (augment.c). */
#ifndef HT_DATA_LOADER_INTERNAL_H
#define HT_DATA_LOADER_INTERNAL_H

#include <stdint.h>

#include "hytrain/rng.h"

/*
 * What one epoch visits and when each piece of the shard must be read.
 * Rows are local to the shard (0..n); piece k covers local rows
 * [piece_start(k), piece_start(k + 1)), cut at multiples of chunk_rows of the
 * FILE's row numbers so that reads follow the file's chunk grid.
 */
typedef struct ht__epoch_plan {
  int64_t n;            /* rows in the shard */
  int64_t row0;         /* the shard's first row in the file */
  int64_t chunk_rows;   /* C */
  int64_t n_pieces;     /* m */
  int64_t cap;          /* rows the shuffle buffer holds (stream), >= every piece */
  int full;             /* the buffer holds the whole shard: one uniform shuffle */
  int64_t *order;       /* [n] local rows in visiting order */
  int64_t *load_piece;  /* [m] pieces in the order they are read */
  int64_t *load_pos;    /* [m] position in order before which load_piece[j] is read */
  int64_t *pool;        /* [cap] scratch of the streaming shuffle */
} ht__epoch_plan;

/* Sizes the plan for a shard [row0, row0 + n) read in pieces of chunk_rows
 * (chunk_rows <= 0: memory mode, no pieces) with a buffer of buffer_chunks
 * pieces. Allocates everything; HT_ENOMEM on failure. */
int ht__plan_create(ht__epoch_plan *p, int64_t n, int64_t row0, int64_t chunk_rows, int buffer_chunks);

/* First local row of piece k (k == n_pieces gives n). */
int64_t ht__plan_piece_start(const ht__epoch_plan *p, int64_t k);

/* Fills order, load_piece and load_pos for epoch. Deterministic in
 * (seed, epoch, rank); allocates nothing. */
void ht__plan_epoch(ht__epoch_plan *p, int shuffle, uint64_t seed, int64_t epoch, int rank);

void ht__plan_free(ht__epoch_plan *p);

/* Draws this row's augmentation from r and applies it in place to one
 * side x side image (raw values; uncovered pixels become 0). tmp holds
 * side*side floats. */
void ht__augment_image(float *img, float *tmp, int side, int flip, int shift, ht_rng *r);

#endif
