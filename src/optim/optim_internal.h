/*
 * Internal: the per-kind update kernels behind ht_optim_update (optim.c).
 * Each updates params[lo, hi) and its optimizer state in place; see optim.h
 * for the formulas.
 */
#ifndef HYTRAIN_OPTIM_INTERNAL_H
#define HYTRAIN_OPTIM_INTERNAL_H

#include <stddef.h>

#include "hytrain/optim.h"

void ht__sgd_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale);
void ht__adamw_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale);

#endif
