#include "ht_cases.h"

#include <stdio.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/rng.h"

void ht_case_batch(const ht_case *c, uint64_t seed, int step, int G, float *x, int32_t *y, float *t) {
  ht_rng r;
  ht_rng_seed(&r, ht_rng_mix(seed, (uint64_t)step, 0));
  for (int i = 0; i < G * HT_CASE_D; i++) x[i] = (float)ht_rng_normal(&r);
  for (int i = 0; i < G; i++) {
    if (c->regression)
      for (int j = 0; j < c->out; j++) t[i * c->out + j] = (float)ht_rng_normal(&r);
    else
      y[i] = (int32_t)ht_rng_below(&r, (uint64_t)(strcmp(c->type, "logistic") == 0 ? 2 : c->out));
  }
}

int ht_case_build(const ht_case *c, int max_batch, int nesterov, ht_model *m, ht_optim *o) {
  ht_model_spec s;
  memset(&s, 0, sizeof s);
  snprintf(s.type, sizeof s.type, "%s", c->type);
  snprintf(s.activation, sizeof s.activation, "%s", c->activation);
  snprintf(s.init, sizeof s.init, "auto");
  s.in = HT_CASE_D;
  s.out = c->out;
  s.regression = c->regression;
  s.n_hidden = c->n_hidden;
  memcpy(s.hidden, c->hidden, sizeof c->hidden);
  s.l2 = 1e-3;
  HT_CHECK(ht_model_create(m, &s, max_batch));
  ht_model_init(m, 99);
  return ht_optim_create(o, c->optim, 0.9, nesterov, 1e-4, 0.9, 0.999, 1e-8, m->n_params);
}
