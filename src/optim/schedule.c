/*
 * Learning-rate schedules: linear warmup, then constant, step decay or cosine
 * decay (formulas in optim.h and docs/models.md). Pure functions of the step
 * number, so a resumed run gets the same rates.
 */
#include <math.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/optim.h"

int ht_sched_create(ht_sched *s, const char *name, double lr, int64_t warmup, int64_t step_every,
                    double gamma, double min_lr, int64_t total) {
  memset(s, 0, sizeof *s);
  if (strcmp(name, "constant") == 0) {
    s->kind = HT_SCHED_CONSTANT;
  } else if (strcmp(name, "step") == 0) {
    s->kind = HT_SCHED_STEP;
    if (step_every < 1)
      return ht_error(HT_ECONFIG, "schedule.step_every: %lld, need >= 1 for the step schedule", (long long)step_every);
    if (!(gamma > 0.0) || !isfinite(gamma))
      return ht_error(HT_ECONFIG, "schedule.gamma: %g is not a finite number > 0", gamma);
  } else if (strcmp(name, "cosine") == 0) {
    s->kind = HT_SCHED_COSINE;
    if (!(min_lr >= 0.0 && min_lr <= lr))
      return ht_error(HT_ECONFIG, "schedule.min_lr: %g is not in [0, optimizer.lr = %g]", min_lr, lr);
  } else {
    return ht_error(HT_ECONFIG, "schedule.name: unknown schedule '%s' (expected constant|step|cosine)", name);
  }
  if (!(lr >= 0.0) || !isfinite(lr)) return ht_error(HT_ECONFIG, "optimizer.lr: %g is not a finite number >= 0", lr);
  if (warmup < 0) return ht_error(HT_ECONFIG, "schedule.warmup_steps: %lld, need >= 0", (long long)warmup);
  s->lr = lr;
  s->gamma = gamma;
  s->min_lr = min_lr;
  s->warmup = warmup;
  s->step_every = step_every;
  s->total = total;
  return 0;
}

double ht_sched_lr(const ht_sched *s, int64_t step) {
  if (step < 0) step = 0;
  if (step < s->warmup) return s->lr * (double)(step + 1) / (double)s->warmup;
  int64_t after = step - s->warmup;
  switch (s->kind) {
  case HT_SCHED_CONSTANT:
    return s->lr;
  case HT_SCHED_STEP:
    return s->lr * pow(s->gamma, (double)(after / s->step_every));
  case HT_SCHED_COSINE: {
    /* A run no longer than its warmup has no decay phase: go straight to min_lr. */
    int64_t span = s->total - s->warmup;
    double frac = span > 0 ? (double)after / (double)span : 1.0;
    if (frac > 1.0) frac = 1.0;
    return s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * frac));
  }
  }
  return s->lr;
}
