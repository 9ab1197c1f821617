/*
 * Optimizer life cycle: create (validate hyper-parameters, allocate state),
 * begin_step, update (dispatch to sgd.c / adamw.c), destroy.
 *
 * Shape legend: n = number of parameters
 *   m [n] SGD momentum buffer or AdamW first moment; v [n] AdamW second moment
 * State is allocated once here (64-byte aligned, zeroed); updates allocate nothing.
 */
#include <math.h>
#include <omp.h>
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

void ht_optim_opts_from_config(const ht_config *cfg, ht_optim_opts *o) {
  memset(o, 0, sizeof *o);
  o->kind = cfg->optimizer.name;
  o->momentum = cfg->optimizer.momentum;
  o->nesterov = cfg->optimizer.nesterov;
  o->weight_decay = cfg->optimizer.weight_decay;
  o->beta1 = cfg->optimizer.beta1;
  o->beta2 = cfg->optimizer.beta2;
  o->eps = cfg->optimizer.eps;
}

/* The bounds of the options kind uses, as their registry rows state them. */
static int check_opts(const ht_optim_opts *p) {
  HT_CHECK(ht_config_check_number("optimizer.weight_decay", p->weight_decay));
  switch (p->kind) {
  case HT_OPTIM_SGD:
    HT_CHECK(ht_config_check_number("optimizer.momentum", p->momentum));
    if (p->nesterov && p->momentum == 0.0)
      return ht_error(HT_ECONFIG, "optimizer.nesterov: Nesterov momentum needs optimizer.momentum > 0");
    return 0;
  case HT_OPTIM_ADAMW:
    HT_CHECK(ht_config_check_number("optimizer.beta1", p->beta1));
    HT_CHECK(ht_config_check_number("optimizer.beta2", p->beta2));
    HT_CHECK(ht_config_check_number("optimizer.eps", p->eps));
    return 0;
  }
  return ht_error(HT_ECONFIG, "optimizer.name: value %d is not one of %s", (int)p->kind, ht_optimizers.choices);
}

int ht_optim_create(ht_optim *o, const ht_optim_opts *p, size_t n) {
  memset(o, 0, sizeof *o);
  HT_CHECK(check_opts(p));
  o->kind = p->kind;
  o->momentum = o->kind == HT_OPTIM_SGD ? p->momentum : 0.0;
  o->nesterov = o->kind == HT_OPTIM_SGD ? p->nesterov != 0 : 0;
  o->weight_decay = p->weight_decay;
  o->beta1 = p->beta1;
  o->beta2 = p->beta2;
  o->eps = p->eps;
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
  return ht_error(HT_ENOMEM, "optimizer.name %s: cannot allocate state for %zu parameters",
                  ht_enum_name(&ht_optimizers, (int)p->kind), n);
}

void ht_optim_begin_step(ht_optim *o) { o->t++; }

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__OPTIM_OMP_MIN 16384L

int ht__optim_threads(long n) {
  if (n < HT__OPTIM_OMP_MIN) return 1;
  int nt = omp_get_max_threads();
  return nt > 1 ? nt : 1;
}

int ht_optim_update_check(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                          float gscale, uint16_t *q, int check) {
  if (hi > o->n) hi = o->n;
  if (lo >= hi) return 0;
  switch (o->kind) {
  case HT_OPTIM_ADAMW: return ht__adamw_update(o, params, grads, lo, hi, lr, gscale, q, check);
  case HT_OPTIM_SGD: return ht__sgd_update(o, params, grads, lo, hi, lr, gscale, q, check);
  }
  return 0;
}

void ht_optim_update_bf16(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                          float gscale, uint16_t *q) {
  (void)ht_optim_update_check(o, params, grads, lo, hi, lr, gscale, q, 0);
}

void ht_optim_update_scaled(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                            float gscale) {
  ht_optim_update_bf16(o, params, grads, lo, hi, lr, gscale, NULL);
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
