/*
 * Losses: softmax cross-entropy, sigmoid binary cross-entropy, mean squared
 * error and the multiclass (Crammer-Singer) hinge. Formulas are in loss.h and
 * docs/models.md.
 *
 * Shape legend:
 *   B = rows in the batch, C = logits per row
 *   logits, dlogits [B, C]   y [B] class labels   t [B, C] regression targets
 *
 * Each function returns the MEAN loss over the B rows as a double and writes
 * dlogits = d(mean loss)/d(logits). Per-row work is done in double and the row
 * losses are added in row order 0..B-1 on one thread, so the result never
 * depends on the thread count (C is small: this is not where the time goes).
 *
 * Labels must lie in [0, C) (the dataset reader checks them). A label outside
 * that range is not read past: its row's loss is NaN, which the training loop
 * reports as divergence, and its dlogits row is zero.
 */
#include "hytrain/loss.h"

#include <math.h>

/* log(1 + exp(z)) without overflow for large |z|. */
static double softplus(double z) { return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

double ht_softmax_ce(float *dlogits, const float *logits, const int32_t *y, int B, int C) {
  double inv_b = 1.0 / B;
  double total = 0.0;
  for (int r = 0; r < B; r++) {
    const float *z = logits + (long)r * C;
    float *dz = dlogits + (long)r * C;
    int label = y[r];
    if (label < 0 || label >= C) {
      for (int c = 0; c < C; c++) dz[c] = 0.0f;
      total += NAN;
      continue;
    }
    /* Log-sum-exp with the max subtracted: every exp argument is <= 0. */
    double zmax = z[0];
    for (int c = 1; c < C; c++)
      if (z[c] > zmax) zmax = z[c];
    double sum = 0.0;
    for (int c = 0; c < C; c++) sum += exp((double)z[c] - zmax);
    double log_sum = log(sum);
    /* loss_r = log(sum_c exp z_c) - z_y;  d/dz_c = softmax_c - [c == y] */
    total += log_sum + zmax - (double)z[label];
    for (int c = 0; c < C; c++) {
      double p = exp((double)z[c] - zmax - log_sum);
      dz[c] = (float)((p - (c == label ? 1.0 : 0.0)) * inv_b);
    }
  }
  return total * inv_b;
}

double ht_sigmoid_bce(float *dlogits, const float *logits, const int32_t *y, int B) {
  double inv_b = 1.0 / B;
  double total = 0.0;
  for (int r = 0; r < B; r++) {
    if (y[r] != 0 && y[r] != 1) {
      dlogits[r] = 0.0f;
      total += NAN;
      continue;
    }
    double z = logits[r];
    double label = y[r];
    /* loss_r = -[y log s + (1-y) log(1-s)] with s = sigmoid(z)
     *        = softplus(z) - y z;  d/dz = s - y */
    total += softplus(z) - label * z;
    double s = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    dlogits[r] = (float)((s - label) * inv_b);
  }
  return total * inv_b;
}

double ht_mse(float *dlogits, const float *logits, const float *t, int B, int C) {
  double inv_b = 1.0 / B;
  double total = 0.0;
  for (int r = 0; r < B; r++) {
    const float *z = logits + (long)r * C;
    const float *target = t + (long)r * C;
    float *dz = dlogits + (long)r * C;
    /* loss_r = 0.5 sum_c (z_c - t_c)^2;  d/dz_c = z_c - t_c */
    double row = 0.0;
    for (int c = 0; c < C; c++) {
      double e = (double)z[c] - (double)target[c];
      row += e * e;
      dz[c] = (float)(e * inv_b);
    }
    total += 0.5 * row;
  }
  return total * inv_b;
}

double ht_hinge(float *dlogits, const float *logits, const int32_t *y, int B, int C) {
  double inv_b = 1.0 / B;
  double total = 0.0;
  for (int r = 0; r < B; r++) {
    const float *z = logits + (long)r * C;
    float *dz = dlogits + (long)r * C;
    int label = y[r];
    for (int c = 0; c < C; c++) dz[c] = 0.0f;
    if (label < 0 || label >= C) {
      total += NAN;
      continue;
    }
    /* The strongest wrong class j (ties -> lowest index). */
    int j = label == 0 ? 1 : 0;
    for (int c = j + 1; c < C; c++)
      if (c != label && z[c] > z[j]) j = c;
    /* loss_r = max(0, 1 + z_j - z_y); when positive, d/dz_j = +1, d/dz_y = -1.
     * At exactly 0 the subgradient 0 is used. */
    double margin = 1.0 + (double)z[j] - (double)z[label];
    if (margin > 0.0) {
      total += margin;
      dz[j] = (float)inv_b;
      dz[label] = (float)-inv_b;
    }
  }
  return total * inv_b;
}
