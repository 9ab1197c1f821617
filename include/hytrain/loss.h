/*
 * Losses. Each returns the MEAN loss over the B rows (double) and writes
 * dlogits = d(mean loss)/d(logits) (so gradients are already divided by B).
 * Shapes: logits [B, C]; class labels y [B]; regression targets t [B, C].
 *   softmax_ce : multiclass cross-entropy of softmax(logits), C >= 2
 *   sigmoid_bce: binary cross-entropy of sigmoid(logits[:,0]), C == 1, y in {0,1}
 *   mse        : 0.5 * sum_c (logit - t)^2 per row, averaged over rows
 *   hinge      : multiclass (Crammer-Singer) hinge max(0, 1 + max_{j!=y} s_j - s_y), C >= 2
 * Stable for large logits (log-sum-exp with max subtraction).
 */
#ifndef HYTRAIN_LOSS_H
#define HYTRAIN_LOSS_H

#include <stdint.h>

typedef enum { HT_LOSS_SOFTMAX_CE, HT_LOSS_SIGMOID_BCE, HT_LOSS_MSE, HT_LOSS_HINGE } ht_loss_kind;

/* Each: the mean loss over the B rows, and dlogits [B, C] written (not
 * accumulated). Not collective; no allocation. */
double ht_softmax_ce(float *dlogits, const float *logits, const int32_t *y, int B, int C);
double ht_sigmoid_bce(float *dlogits, const float *logits, const int32_t *y, int B);
double ht_mse(float *dlogits, const float *logits, const float *t, int B, int C);
double ht_hinge(float *dlogits, const float *logits, const int32_t *y, int B, int C);

#endif
