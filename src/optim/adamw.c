/*
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019):
 *   p -= lr*wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * t is the 1-based step number advanced by ht_optim_begin_step.
 *
 * Shape legend: n = number of parameters; the update touches only [lo, hi)
 *   params, grads, o->m (first moment), o->v (second moment) [n];  q [hi - lo] (optional)
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>

#include "hytrain/bf16.h"
#include "hytrain/optim.h"
#include "optim_internal.h"

/* The constants of one update, in float as the loop uses them. */
typedef struct adamw_k {
  float inv_bc1, inv_bc2, decay, lr, b1, b2, eps, one_b1, one_b2, gscale;
} adamw_k;

/* One part [0, n) of an update (pointers already offset); round is a
 * compile-time constant at both calls. */
static inline __attribute__((always_inline)) unsigned adamw_body(float *restrict p, const float *restrict g,
                                                                 float *restrict m, float *restrict v,
                                                                 uint16_t *restrict q, long n, adamw_k k, int round,
                                                                 int check) {
  unsigned bad = 0;
  for (long i = 0; i < n; i++) {
    if (check) bad |= ht__nonfinite_bits(g[i]);
    float gi = g[i] * k.gscale;
    float mi = k.b1 * m[i] + k.one_b1 * gi;
    float vi = k.b2 * v[i] + k.one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float pi = p[i] * k.decay;
    pi = pi - k.lr * (mi * k.inv_bc1) / (sqrtf(vi * k.inv_bc2) + k.eps);
    p[i] = pi;
    if (round) q[i] = ht_bf16_bits(pi);
  }
  return bad;
}

static unsigned adamw_part(float *p, const float *g, float *m, float *v, uint16_t *q, long n, adamw_k k, int check) {
  if (check) return q ? adamw_body(p, g, m, v, q, n, k, 1, 1) : adamw_body(p, g, m, v, q, n, k, 0, 1);
  return q ? adamw_body(p, g, m, v, q, n, k, 1, 0) : adamw_body(p, g, m, v, q, n, k, 0, 0);
}

int ht__adamw_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                     uint16_t *q, int check) {
  /* Bias corrections in double, once per call. A caller that forgot
   * ht_optim_begin_step (t = 0) is treated as being at step 1, not divided by 0. */
  double t = o->t > 0 ? (double)o->t : 1.0;
  adamw_k k = {.inv_bc1 = (float)(1.0 / (1.0 - pow(o->beta1, t))),
               .inv_bc2 = (float)(1.0 / (1.0 - pow(o->beta2, t))),
               .decay = (float)(1.0 - lr * o->weight_decay),
               .lr = (float)lr,
               .b1 = (float)o->beta1,
               .b2 = (float)o->beta2,
               .eps = (float)o->eps,
               .one_b1 = (float)(1.0 - o->beta1),
               .one_b2 = (float)(1.0 - o->beta2),
               .gscale = gscale};
  long n = (long)(hi - lo);
  float *p = params + lo, *m = o->m + lo, *v = o->v + lo;
  const float *g = grads + lo;
  int nt = ht__optim_threads(n);
  if (nt == 1) return adamw_part(p, g, m, v, q, n, k, check) != 0;
  unsigned bad = 0;
  /* Thread t of nt updates its own contiguous part [n t / nt, n (t + 1) / nt). */
#pragma omp parallel num_threads(nt) reduction(| : bad)
  {
    long th = omp_get_thread_num(), nth = omp_get_num_threads(), a = n * th / nth, b = n * (th + 1) / nth;
    bad |= adamw_part(p + a, g + a, m + a, v + a, q ? q + a : NULL, b - a, k, check);
  }
  return bad != 0;
}
