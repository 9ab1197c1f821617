/*
 * Internal: the per-kind update kernels behind ht_optim_update (optim.c).
 * Each updates params[lo, hi) and its optimizer state in place and, when q
 * is not NULL, writes ht_bf16_bits of each new parameter i to q[i - lo]; see
 * optim.h for the formulas.
 */
#ifndef HYTRAIN_OPTIM_INTERNAL_H
#define HYTRAIN_OPTIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hytrain/optim.h"

/* check: also test every grads[i] for NaN or infinity in the same pass and
 * return 1 when one is (else 0; always 0 without check). */
int ht__sgd_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                   uint16_t *q, int check);
int ht__adamw_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                     uint16_t *q, int check);

/* Whether a float is NaN or infinite (its exponent bits all set): an integer
 * test on the bits, which vectorises inside the update loops. */
static inline unsigned ht__nonfinite_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7f800000u) == 0x7f800000u;
}

/* The threads an update of n elements runs on: 1 below a size where an
 * OpenMP team costs more than the loop (the update then runs on the calling
 * thread with no team at all), else the team size (OMP_NUM_THREADS). */
int ht__optim_threads(long n);

#endif
