/*
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019):
 *   p -= lr*wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * t is the 1-based step number advanced by ht_optim_begin_step.
 *
 * Shape legend: n = number of parameters; the update touches only [lo, hi)
 *   params, grads, o->m (first moment), o->v (second moment) [n]
 */
#include <math.h>

#include "hytrain/optim.h"
#include "optim_internal.h"

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__OPTIM_OMP_MIN 16384L

void ht__adamw_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale) {
  /* Bias corrections in double, once per call. A caller that forgot
   * ht_optim_begin_step (t = 0) is treated as being at step 1, not divided by 0. */
  double t = o->t > 0 ? (double)o->t : 1.0;
  float inv_bc1 = (float)(1.0 / (1.0 - pow(o->beta1, t)));
  float inv_bc2 = (float)(1.0 / (1.0 - pow(o->beta2, t)));
  float decay = (float)(1.0 - lr * o->weight_decay);
  float lr_f = (float)lr, b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
  float one_b1 = (float)(1.0 - o->beta1), one_b2 = (float)(1.0 - o->beta2);
  long n = (long)(hi - lo);
  float *p = params + lo, *m = o->m + lo, *v = o->v + lo;
  const float *g = grads + lo;
  /* Parallel over i: each thread reads and writes only p[i], m[i] and v[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__OPTIM_OMP_MIN)
  for (long i = 0; i < n; i++) {
    float gi = g[i] * gscale;
    float mi = b1 * m[i] + one_b1 * gi;
    float vi = b2 * v[i] + one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float pi = p[i] * decay;
    p[i] = pi - lr_f * (mi * inv_bc1) / (sqrtf(vi * inv_bc2) + eps);
  }
}
