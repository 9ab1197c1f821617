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

#include "hytrain/optim.h"

void ht__sgd_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                    uint16_t *q);
void ht__adamw_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                      uint16_t *q);

/* The threads an update of n elements runs on: 1 below a size where an
 * OpenMP team costs more than the loop (the update then runs on the calling
 * thread with no team at all), else the team size (OMP_NUM_THREADS). */
int ht__optim_threads(long n);

#endif
