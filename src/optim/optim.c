/*
 * Optimizer life cycle: create (validate hyper-parameters, allocate state),
 * begin_step, update (dispatch to sgd.c / adamw.c), destroy.
 *
 * Shape legend: n = number of parameters
 *   m [n] SGD momentum buffer or AdamW first moment; v [n] AdamW second moment
 * State is allocated once here (64-byte aligned, zeroed); updates allocate nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/optim.h"
#include "optim_internal.h"

/* Zeroed 64-byte aligned array of n floats, or NULL. */
static float *alloc_state(size_t n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  float *p = aligned_alloc(64, bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

int ht_optim_create(ht_optim *o, const char *name, double momentum, int nesterov, double weight_decay,
                    double beta1, double beta2, double eps, size_t n) {
  memset(o, 0, sizeof *o);
  if (!(weight_decay >= 0.0) || !isfinite(weight_decay))
    return ht_error(HT_ECONFIG, "optimizer.weight_decay: %g is not a finite number >= 0", weight_decay);
  if (strcmp(name, "sgd") == 0) {
    if (!(momentum >= 0.0 && momentum < 1.0))
      return ht_error(HT_ECONFIG, "optimizer.momentum: %g is not in [0, 1)", momentum);
    if (nesterov && momentum == 0.0)
      return ht_error(HT_ECONFIG, "optimizer.nesterov: Nesterov momentum needs optimizer.momentum > 0");
    o->kind = HT_OPTIM_SGD;
  } else if (strcmp(name, "adamw") == 0) {
    if (!(beta1 >= 0.0 && beta1 < 1.0)) return ht_error(HT_ECONFIG, "optimizer.beta1: %g is not in [0, 1)", beta1);
    if (!(beta2 >= 0.0 && beta2 < 1.0)) return ht_error(HT_ECONFIG, "optimizer.beta2: %g is not in [0, 1)", beta2);
    if (!(eps > 0.0) || !isfinite(eps)) return ht_error(HT_ECONFIG, "optimizer.eps: %g is not a finite number > 0", eps);
    o->kind = HT_OPTIM_ADAMW;
  } else {
    return ht_error(HT_ECONFIG, "optimizer.name: unknown optimizer '%s' (expected sgd|adamw)", name);
  }
  o->momentum = o->kind == HT_OPTIM_SGD ? momentum : 0.0;
  o->nesterov = o->kind == HT_OPTIM_SGD ? nesterov != 0 : 0;
  o->weight_decay = weight_decay;
  o->beta1 = beta1;
  o->beta2 = beta2;
  o->eps = eps;
  o->n = n;
  o->t = 0;
  /* Plain SGD keeps no state; momentum SGD one buffer; AdamW two. */
  int need_m = o->kind == HT_OPTIM_ADAMW || o->momentum > 0.0;
  int need_v = o->kind == HT_OPTIM_ADAMW;
  if (need_m && !(o->m = alloc_state(n))) goto nomem;
  if (need_v && !(o->v = alloc_state(n))) goto nomem;
  return 0;
nomem:
  ht_optim_destroy(o);
  return ht_error(HT_ENOMEM, "optimizer.name %s: cannot allocate state for %zu parameters", name, n);
}

void ht_optim_begin_step(ht_optim *o) { o->t++; }

void ht_optim_update_scaled(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                            float gscale) {
  if (hi > o->n) hi = o->n;
  if (lo >= hi) return;
  if (o->kind == HT_OPTIM_ADAMW)
    ht__adamw_update(o, params, grads, lo, hi, lr, gscale);
  else
    ht__sgd_update(o, params, grads, lo, hi, lr, gscale);
}

void ht_optim_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr) {
  /* x * 1.0f == x exactly, so this is the unscaled update bit for bit. */
  ht_optim_update_scaled(o, params, grads, lo, hi, lr, 1.0f);
}

void ht_optim_destroy(ht_optim *o) {
  free(o->m);
  free(o->v);
  memset(o, 0, sizeof *o);
}
