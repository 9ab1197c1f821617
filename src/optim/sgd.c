/*
 * SGD with optional momentum, Nesterov momentum and (coupled) weight decay,
 * with PyTorch's semantics (dampening 0):
 *   g' = g + wd*p;  v = mu*v + g';  p -= lr * (nesterov ? g' + mu*v : v)
 * With mu = 0 this is p -= lr * g' and no state is kept.
 *
 * Shape legend: n = number of parameters; the update touches only [lo, hi)
 *   params, grads, o->m (momentum buffer v) [n]
 * The buffer starts at zero, so the first step gives v = g' as in PyTorch.
 */
#include "hytrain/optim.h"
#include "optim_internal.h"

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__OPTIM_OMP_MIN 16384L

void ht__sgd_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr, float gscale) {
  float lr_f = (float)lr, wd = (float)o->weight_decay, mu = (float)o->momentum;
  long n = (long)(hi - lo);
  float *p = params + lo;
  const float *g = grads + lo;
  if (o->momentum == 0.0) {
    /* Parallel over i: each thread reads and writes only p[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__OPTIM_OMP_MIN)
    for (long i = 0; i < n; i++) p[i] -= lr_f * (g[i] * gscale + wd * p[i]);
    return;
  }
  float *v = o->m + lo;
  int nesterov = o->nesterov;
  /* Parallel over i: each thread reads and writes only p[i] and v[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__OPTIM_OMP_MIN)
  for (long i = 0; i < n; i++) {
    float gi = g[i] * gscale + wd * p[i];
    float vi = mu * v[i] + gi;
    v[i] = vi;
    p[i] -= lr_f * (nesterov ? gi + mu * vi : vi);
  }
}
