/*
 * Learning-rate schedules: linear warmup, then constant, step decay or cosine
 * decay (formulas in optim.h and docs/models.md). Pure functions of the step
 * number, so a resumed run gets the same rates.
 */
#include <math.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/optim.h"

void ht_sched_opts_from_config(const ht_config *cfg, ht_sched_opts *o) {
  memset(o, 0, sizeof *o);
  o->kind = cfg->schedule.name;
  o->lr = cfg->optimizer.lr;
  o->warmup = cfg->schedule.warmup_steps;
  o->step_every = cfg->schedule.step_every;
  o->gamma = cfg->schedule.gamma;
  o->min_lr = cfg->schedule.min_lr;
}

/* The bounds of the options kind uses, as their registry rows state them. */
static int check_opts(const ht_sched_opts *p) {
  HT_CHECK(ht_config_check_number("optimizer.lr", p->lr));
  HT_CHECK(ht_config_check_number("schedule.warmup_steps", (double)p->warmup));
  switch (p->kind) {
  case HT_SCHED_CONSTANT: return 0;
  case HT_SCHED_STEP:
    HT_CHECK(ht_config_check_number("schedule.step_every", (double)p->step_every));
    HT_CHECK(ht_config_check_number("schedule.gamma", p->gamma));
    return 0;
  case HT_SCHED_COSINE:
    HT_CHECK(ht_config_check_number("schedule.min_lr", p->min_lr));
    if (p->min_lr > p->lr) return ht_error(HT_ECONFIG, "schedule.min_lr: %g is above optimizer.lr %g", p->min_lr, p->lr);
    return 0;
  }
  return ht_error(HT_ECONFIG, "schedule.name: value %d is not one of %s", (int)p->kind, ht_schedules.choices);
}

int ht_sched_create(ht_sched *s, const ht_sched_opts *p, int64_t total) {
  memset(s, 0, sizeof *s);
  HT_CHECK(check_opts(p));
  s->kind = p->kind;
  s->lr = p->lr;
  s->gamma = p->gamma;
  s->min_lr = p->min_lr;
  s->warmup = p->warmup;
  s->step_every = p->step_every;
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
