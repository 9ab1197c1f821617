/*
 * Model cases shared by the multi-rank tests (data parallelism, overlap):
 * a small model of each type, a seeded global batch per step, and a builder.
 * Shapes: D features, K classes; G rows in a global batch.
 */
#ifndef HT_CASES_H
#define HT_CASES_H

#include <stdint.h>

#include "hytrain/model.h"
#include "hytrain/optim.h"

#define HT_CASE_D 12
#define HT_CASE_K 4

typedef struct ht_case {
  const char *type, *activation, *optim;
  int regression, out, n_hidden, hidden[2];
} ht_case;

/* The global batch of `step`: x [G, D] standard normal, class labels y [G]
 * (logistic: 0/1) or regression targets t [G, out], from (seed, step). */
void ht_case_batch(const ht_case *c, uint64_t seed, int step, int G, float *x, int32_t *y, float *t);

/* Builds the case's model (l2 1e-3, init seed 99) for max_batch rows and its
 * optimizer (momentum 0.9, weight decay 1e-4; AdamW betas 0.9/0.999). */
int ht_case_build(const ht_case *c, int max_batch, int nesterov, ht_model *m, ht_optim *o);

/* The 1-process reference: `steps` optimizer steps (lr) on the whole global
 * batch of G rows of each step (ht_case_batch with seed), from the model and
 * optimizer of ht_case_build. Final parameters into out; their count into
 * *n_params (may be NULL). */
int ht_case_train_reference(const ht_case *c, uint64_t seed, int nesterov, int G, int steps, double lr, float *out,
                            size_t *n_params);

#endif
