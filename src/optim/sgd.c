/*
 * SGD with optional momentum, Nesterov momentum and (coupled) weight decay,
 * with PyTorch's semantics (dampening 0):
 *   g' = g + wd*p;  v = mu*v + g';  p -= lr * (nesterov ? g' + mu*v : v)
 * With mu = 0 this is p -= lr * g' and no state is kept.
 *
 * Shape legend: n = number of parameters; the update touches only [lo, hi)
 *   params, grads, o->m (momentum buffer v) [n];  q [hi - lo] (optional)
 * The buffer starts at zero, so the first step gives v = g' as in PyTorch.
 *
 * Speed: the update streams three arrays in and two out (plus q), about
 * 37 MB a step for the MLP 784-1024-1024-10, so it runs at the memory's
 * speed only if every load and store is a full vector: the loops are
 * multi-versioned (HT_CLONES), see no aliasing (restrict), and are
 * specialised for each combination of the flags (always_inline bodies with
 * constant flags) instead of testing them per element.
 */
#include <omp.h>
#include <stdint.h>

#include "hytrain/bf16.h"
#include "hytrain/clones.h"
#include "hytrain/optim.h"
#include "optim_internal.h"

/* The constants of one update, in float as the loops use them. */
typedef struct sgd_k {
  float lr, wd, mu, gscale;
} sgd_k;

/* One part [0, n) of an update (pointers already offset). The flags are
 * compile-time constants at every call, so each combination is its own loop. */
static inline __attribute__((always_inline)) unsigned sgd_body(float *restrict p, const float *restrict g,
                                                               float *restrict v, uint16_t *restrict q, long n,
                                                               sgd_k k, int momentum, int nesterov, int round,
                                                               int check) {
  unsigned bad = 0;
  for (long i = 0; i < n; i++) {
    if (check) bad |= ht__nonfinite_bits(g[i]);
    float gi = g[i] * k.gscale + k.wd * p[i];
    float step = gi;
    if (momentum) {
      float vi = k.mu * v[i] + gi;
      v[i] = vi;
      step = nesterov ? gi + k.mu * vi : vi;
    }
    float pi = p[i] - k.lr * step;
    p[i] = pi;
    if (round) q[i] = ht_bf16_bits(pi);
  }
  return bad;
}

/* The flags of one update as constants: 12 loops (momentum, Nesterov, bf16
 * copy, check). */
static inline __attribute__((always_inline)) unsigned sgd_flags(float *p, const float *g, float *v, uint16_t *q,
                                                                long n, sgd_k k, int nesterov, int check) {
  if (!v) {
    if (q) return sgd_body(p, g, v, q, n, k, 0, 0, 1, check);
    return sgd_body(p, g, v, q, n, k, 0, 0, 0, check);
  }
  if (nesterov) {
    if (q) return sgd_body(p, g, v, q, n, k, 1, 1, 1, check);
    return sgd_body(p, g, v, q, n, k, 1, 1, 0, check);
  }
  if (q) return sgd_body(p, g, v, q, n, k, 1, 0, 1, check);
  return sgd_body(p, g, v, q, n, k, 1, 0, 0, check);
}

HT_CLONES static unsigned sgd_part(float *p, const float *g, float *v, uint16_t *q, long n, sgd_k k, int nesterov,
                                   int check) {
  return check ? sgd_flags(p, g, v, q, n, k, nesterov, 1) : sgd_flags(p, g, v, q, n, k, nesterov, 0);
}

int ht__sgd_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale,
                   uint16_t *q, int check) {
  sgd_k k = {(float)lr, (float)o->weight_decay, (float)o->momentum, gscale};
  long n = (long)(hi - lo);
  float *p = params + lo;
  const float *g = grads + lo;
  float *v = o->momentum == 0.0 ? NULL : o->m + lo;
  int nesterov = o->nesterov, nt = ht__optim_threads(n);
  if (nt == 1) return sgd_part(p, g, v, q, n, k, nesterov, check) != 0;
  unsigned bad = 0;
  /* Thread t of nt updates its own contiguous part [n t / nt, n (t + 1) / nt). */
#pragma omp parallel num_threads(nt) reduction(| : bad)
  {
    long t = omp_get_thread_num(), m = omp_get_num_threads(), a = n * t / m, b = n * (t + 1) / m;
    bad |= sgd_part(p + a, g + a, v ? v + a : NULL, q ? q + a : NULL, b - a, k, nesterov, check);
  }
  return bad != 0;
}
