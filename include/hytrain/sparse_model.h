/*
 * Sparse linear models: one SGD update per row, costing O(nnz(row) x k).
 *
 * Shape legend:
 *   D = features, k = weight columns (1 for binary and regression models,
 *   K for the multinomial one), nnz = non-zeros of the row
 *   w      [D + 1, k]  row j < D holds feature j's weights; row D is the bias
 *   stamp  [D]         clock at which feature j's weights were last brought
 *                      up to date (lazy L2)
 *
 * Models (model.type on a CSR dataset; docs/sparse.md has the formulas):
 *   logistic  binary logistic regression, y in {0, 1}, z = x.w + b,
 *             loss log(1 + exp(-s z)) with s = 2y - 1
 *   svm       linear SVM, hinge loss max(0, 1 - s z)
 *   linear    least squares, loss 0.5 (z - t)^2
 *   softmax   multinomial logistic regression over K classes, z [K],
 *             loss -log softmax(z)_y
 *
 * Lazy L2 (model.l2 = lambda): an update at clock t with rate lr_t is, for
 * EVERY weight of a feature, w <- (1 - lr_t lambda) w - lr_t g (g = 0 for
 * features the row does not touch; the bias is not decayed). Only the
 * touched features are written: before a feature is read at clock t its
 * weights are multiplied by the product of (1 - lr_u lambda) over the clock
 * ticks u in [stamp, t) it missed, taken from the clock's cumulative
 * log-decay table (exp(L[t] - L[stamp])), so the result equals the eager
 * update up to rounding. ht_sparse_catch_up brings every feature to the end
 * of a segment (epoch) and restarts the stamps.
 *
 * Threads: the weights and stamps are C11 atomics read and written with
 * relaxed loads and stores, so several threads may run ht_sparse_step on one
 * model at once (Hogwild!): an update may be lost to a racing one, a value
 * is never torn, and there is no data race in the C sense (ThreadSanitizer
 * stays quiet). ht_sparse_step_replica and ht_sparse_fold_bias keep a
 * thread's bias steps apart and add them to the shared bias later (the bias
 * is in every row, so storing it at every update would make its cache line
 * move between the cores at every update). The other functions need the
 * model to themselves.
 */
#ifndef HYTRAIN_SPARSE_MODEL_H
#define HYTRAIN_SPARSE_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hytrain/optim.h"
#include "hytrain/options.h"

typedef struct ht_sparse_model {
  ht_model_type type;   /* logistic | svm | linear | softmax */
  int d;                /* features */
  int k;                /* weight columns */
  double l2;            /* lambda */
  _Atomic float *w;     /* [(d + 1) * k], owned */
  _Atomic int32_t *stamp; /* [d], owned */
} ht_sparse_model;

/* The learning rate and the cumulative log-decay of each clock tick of one
 * segment: lr[t] = the schedule's rate at step step0 + t, and
 * L[t] = sum over u < t of log(1 - lr[u] lambda). */
typedef struct ht_sparse_clock {
  int64_t len;          /* ticks in the segment */
  int64_t cap;
  float *lr;            /* [cap] */
  double *logdecay;     /* [cap + 1] */
} ht_sparse_clock;

/* Creates a model with zero weights. num_classes: K >= 2 (logistic and svm
 * need K = 2), 0 for regression (linear only). Returns 0, HT_ECONFIG (a type
 * that does not fit the data, naming model.type) or HT_ENOMEM. */
int ht_sparse_model_create(ht_sparse_model *m, ht_model_type type, int d, int num_classes, double l2);
void ht_sparse_model_destroy(ht_sparse_model *m);

/* Number of weights, (d + 1) * k. */
size_t ht_sparse_model_size(const ht_sparse_model *m);

/* Copies the weights out / in (threads stopped; stamps are not touched). */
void ht_sparse_model_get(const ht_sparse_model *m, float *out);
void ht_sparse_model_set(ht_sparse_model *m, const float *in);

/* Sizes a clock for segments of up to cap ticks. Returns 0 or HT_ENOMEM. */
int ht_sparse_clock_create(ht_sparse_clock *c, int64_t cap);
void ht_sparse_clock_destroy(ht_sparse_clock *c);

/* Fills ticks [0, len) (len <= cap) from the schedule, starting at step
 * step0. Returns 0, or HT_ECONFIG when some lr * lambda >= 1 (the decay
 * factor would not be positive). */
int ht_sparse_clock_fill(ht_sparse_clock *c, const ht_sched *s, int64_t step0, int64_t len, double l2);

/* The loss of one row from its outputs z[k], and dz[k] = d loss / d z.
 * y: class (classification), t: target (regression). */
double ht_sparse_loss(ht_model_type type, int k, const float *z, int32_t y, float t, float *dz);

/* One SGD update of m on the row (idx[nnz], val[nnz]) at clock tick t of c,
 * with the rate c->lr[t]. scratch holds nnz * k + 2 k floats. Returns the
 * row's loss before the update. Thread-safe in the Hogwild sense above. */
double ht_sparse_step(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx, const float *val,
                      int64_t nnz, int32_t y, float yt, float *scratch);

/* ht_sparse_step with a per-thread bias replica (Hogwild with several
 * threads): the bias is read as the shared bias plus bias_delta[k], and the
 * update adds to bias_delta instead of storing to the shared bias, so no
 * thread writes a shared cache line at every update (the bias is in every
 * row). ht_sparse_fold_bias adds the delta to the shared bias and zeroes it;
 * the caller folds every few hundred updates and before the threads stop.
 * bias_delta NULL: exactly ht_sparse_step. */
double ht_sparse_step_replica(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx,
                              const float *val, int64_t nnz, int32_t y, float yt, float *scratch, float *bias_delta);

/* The frequent ("hot") features of a Hogwild run: each worker keeps a
 * replica of their weights' steps, like the bias replica (docs/sparse.md,
 * "Hot-feature replicas"). A hot feature j has the slot
 * s = hash(j) = (j * 2654435761) mod 2^32 >> (32 - bits) with tag[s] = j;
 * every other slot's tag is -1 (a feature whose slot is taken by a more
 * frequent one is not hot). Slot n is a spare that always reads zero. */
typedef struct ht_sparse_hot {
  int n;                        /* slots, 2^bits (0: no hot features) */
  int bits;
  int count;                    /* hot features */
  int32_t *tag;                 /* [n], owned */
} ht_sparse_hot;

/* Picks the features present in at least min_share of the rows
 * [0, rows) of (indptr, indices) (at most cap of them, the most frequent
 * first) for a model of d features; none is possible (hot->n = 0).
 * Returns 0 or HT_ENOMEM. */
int ht_sparse_hot_create(ht_sparse_hot *hot, int d, const int64_t *indptr, const int32_t *indices, int64_t rows,
                         double min_share, int cap);
void ht_sparse_hot_destroy(ht_sparse_hot *hot);

/* ht_sparse_step_replica with hot-feature replicas (k = 1, l2 = 0 only):
 * a hot feature's weight is read as the shared weight plus rep[slot] and
 * its step is added to rep[slot] (rep [hot->n + 1], the worker's own,
 * rep[hot->n] = 0 stays zero) instead of being stored to the shared
 * weight. No branch on hotness. bias_delta is required (the bias replica
 * of ht_sparse_step_replica). scratch holds 2 nnz + 2 floats. */
double ht_sparse_step_hot(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx, const float *val,
                          int64_t nnz, int32_t y, float yt, float *scratch, float *bias_delta, const ht_sparse_hot *hot,
                          _Atomic float *rep);

/* Adds each non-zero rep[s] to the shared weight of feature hot->tag[s]
 * and zeroes it. The add is a relaxed load and store, like any Hogwild
 * update: a hot feature's shared weight is written only by folds, so an add
 * is lost only when two threads fold the same feature within the few
 * nanoseconds between its load and its store (the callers fold at
 * different phases; compare-and-swap, locked instructions that run one at a
 * time, each waiting for its miss, made the whole scheme lose its gain).
 * Thread-safe in the Hogwild sense. */
void ht_sparse_fold_hot(ht_sparse_model *m, const ht_sparse_hot *hot, _Atomic float *rep);

/* Adds bias_delta[k] to the shared bias with compare-and-swap (no other
 * thread's fold or store between the load and the store is lost) and zeroes
 * bias_delta. Thread-safe. */
void ht_sparse_fold_bias(ht_sparse_model *m, float *bias_delta);

/* Asks the cache for the weights of the first few features of a row (the
 * next one: its weights are then on their way while the current row is
 * updated). Changes nothing. */
void ht_sparse_prefetch(const ht_sparse_model *m, const int32_t *idx, int64_t nnz);

/* Brings every feature's weights to the end of c's segment (tick c->len)
 * and sets every stamp to 0 for the next segment. Threads stopped. */
void ht_sparse_catch_up(ht_sparse_model *m, const ht_sparse_clock *c);

/* Outputs z[k] of a row with the current weights (every stamp caught up). */
void ht_sparse_predict(const ht_sparse_model *m, const int32_t *idx, const float *val, int64_t nnz, float *z);

#endif
