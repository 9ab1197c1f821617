/*
 * Optimizers and learning-rate schedules.
 *
 * SGD (PyTorch semantics): g' = g + wd*p;  v = mu*v + g';
 *   p -= lr * (nesterov ? g' + mu*v : v)       (mu = 0: plain SGD, v unused)
 * AdamW (decoupled weight decay, Loshchilov & Hutter):
 *   p -= lr*wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 * An update works on any slice [lo, hi) of the flat buffers, so the optimizer
 * can update each gradient bucket as soon as it has been reduced; call
 * ht_optim_begin_step once per step first (it advances t).
 */
#ifndef HYTRAIN_OPTIM_H
#define HYTRAIN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "hytrain/config.h"

/* The optimizer's options, filled once from the config (optimizer.*). */
typedef struct ht_optim_opts {
  ht_optim_kind kind;       /* optimizer.name */
  double momentum;          /* sgd */
  int nesterov;             /* sgd, bool */
  double weight_decay;
  double beta1, beta2, eps; /* adamw */
} ht_optim_opts;

void ht_optim_opts_from_config(const ht_config *cfg, ht_optim_opts *o);

typedef struct ht_optim {
  ht_optim_kind kind;
  double momentum, weight_decay, beta1, beta2, eps;
  int nesterov;
  size_t n;
  float *m;        /* SGD: momentum buffer v; AdamW: first moment [n] (NULL if unused) */
  float *v;        /* AdamW: second moment [n], else NULL */
  int64_t t;       /* completed steps (AdamW bias correction) */
} ht_optim;

/* Checks the options the kind uses against the bounds of their config keys
 * (ht_config_check_number) and allocates the state for n parameters.
 * Returns 0, HT_ECONFIG or HT_ENOMEM (recorded). */
int ht_optim_create(ht_optim *o, const ht_optim_opts *opts, size_t n);
void ht_optim_begin_step(ht_optim *o);
void ht_optim_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr);

/* ht_optim_update with g = grads[i] * gscale, rounded to float as it is read:
 * bit-identical to scaling the gradient in place first and then updating,
 * without that extra pass over memory (the trainer passes 1/P to turn the
 * summed gradient of P ranks into their mean). */
void ht_optim_update_scaled(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                            float gscale);

/* ht_optim_update_scaled that also writes ht_bf16_bits (hytrain/bf16.h) of
 * every new parameter i to q[i - lo] in the same pass over memory (q NULL:
 * no copy). The parameters and the state are bit for bit those of
 * ht_optim_update_scaled; the copy saves the bf16 GEMMs a second pass over
 * the weights to round them (see ht_gemm_weights_bf16). */
void ht_optim_update_bf16(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                          float gscale, uint16_t *q);

/* ht_optim_update_bf16 that, with check != 0, also tests every grads[i]
 * (before scaling) for NaN or infinity in the same pass over memory: returns
 * 1 when one is, else 0 (always 0 without check). The update itself is the
 * same either way (a non-finite gradient is applied like any other); the
 * caller finds the element afterwards if it needs it (grads is not written).
 * One rank's trainer uses it instead of a separate pass over the gradient
 * (docs/compute.md). */
int ht_optim_update_check(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                          float gscale, uint16_t *q, int check);
void ht_optim_destroy(ht_optim *o);

typedef struct ht_sched {
  ht_sched_kind kind;
  double lr, gamma, min_lr;
  int64_t warmup, step_every, total;  /* total: steps in the whole run (cosine) */
} ht_sched;

/* The schedule's options, filled once from the config (schedule.*, plus
 * optimizer.lr, the peak rate). */
typedef struct ht_sched_opts {
  ht_sched_kind kind;  /* schedule.name */
  double lr;           /* optimizer.lr */
  int64_t warmup;      /* schedule.warmup_steps */
  int64_t step_every;  /* step */
  double gamma;        /* step */
  double min_lr;       /* cosine */
} ht_sched_opts;

void ht_sched_opts_from_config(const ht_config *cfg, ht_sched_opts *o);

/* A schedule over a run of total steps (cosine decays until then). Checks
 * the options the kind uses against their config keys' bounds; cosine needs
 * min_lr <= lr. Returns 0 or HT_ECONFIG (recorded). */
int ht_sched_create(ht_sched *s, const ht_sched_opts *opts, int64_t total);

/* Learning rate for 0-based step:
 *   step < warmup: lr * (step + 1) / warmup
 *   constant: lr;  step: lr * gamma^floor((step - warmup) / step_every)
 *   cosine: min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * min(1, (step - warmup) / (total - warmup)))) */
double ht_sched_lr(const ht_sched *s, int64_t step);

#endif
