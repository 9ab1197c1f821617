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

typedef enum { HT_OPTIM_SGD, HT_OPTIM_ADAMW } ht_optim_kind;

typedef struct ht_optim {
  ht_optim_kind kind;
  double momentum, weight_decay, beta1, beta2, eps;
  int nesterov;
  size_t n;
  float *m;        /* SGD: momentum buffer v; AdamW: first moment [n] (NULL if unused) */
  float *v;        /* AdamW: second moment [n], else NULL */
  int64_t t;       /* completed steps (AdamW bias correction) */
} ht_optim;

/* name: "sgd" or "adamw". */
int ht_optim_create(ht_optim *o, const char *name, double momentum, int nesterov, double weight_decay,
                    double beta1, double beta2, double eps, size_t n);
void ht_optim_begin_step(ht_optim *o);
void ht_optim_update(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr);

/* ht_optim_update with g = grads[i] * gscale, rounded to float as it is read:
 * bit-identical to scaling the gradient in place first and then updating,
 * without that extra pass over memory (the trainer passes 1/P to turn the
 * summed gradient of P ranks into their mean). */
void ht_optim_update_scaled(ht_optim *o, float *params, const float *grads, size_t lo, size_t hi, double lr,
                            float gscale);
void ht_optim_destroy(ht_optim *o);

typedef enum { HT_SCHED_CONSTANT, HT_SCHED_STEP, HT_SCHED_COSINE } ht_sched_kind;

typedef struct ht_sched {
  ht_sched_kind kind;
  double lr, gamma, min_lr;
  int64_t warmup, step_every, total;  /* total: steps in the whole run (cosine) */
} ht_sched;

/* name: constant | step | cosine. */
int ht_sched_create(ht_sched *s, const char *name, double lr, int64_t warmup, int64_t step_every,
                    double gamma, double min_lr, int64_t total);

/* Learning rate for 0-based step:
 *   step < warmup: lr * (step + 1) / warmup
 *   constant: lr;  step: lr * gamma^floor((step - warmup) / step_every)
 *   cosine: min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * min(1, (step - warmup) / (total - warmup)))) */
double ht_sched_lr(const ht_sched *s, int64_t step);

#endif
