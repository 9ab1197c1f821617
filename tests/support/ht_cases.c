#include "ht_cases.h"

#include <stdio.h>
#include <stdlib.h>
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
  int type = ht_enum_parse(&ht_model_types, c->type), act = ht_enum_parse(&ht_activations, c->activation);
  int kind = ht_enum_parse(&ht_optimizers, c->optim);
  if (type < 0 || act < 0 || kind < 0) return ht_error(HT_EINVAL, "case %s/%s/%s: unknown name", c->type, c->activation, c->optim);
  s.type = (ht_model_type)type;
  s.activation = (ht_activation)act;
  s.init = HT_INIT_AUTO;
  s.in = HT_CASE_D;
  s.out = c->out;
  s.regression = c->regression;
  s.n_hidden = c->n_hidden;
  memcpy(s.hidden, c->hidden, sizeof c->hidden);
  s.l2 = 1e-3;
  HT_CHECK(ht_model_create(m, &s, max_batch));
  ht_model_init(m, 99);
  ht_optim_opts oo = {.kind = (ht_optim_kind)kind, .momentum = 0.9, .nesterov = nesterov, .weight_decay = 1e-4,
                      .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  return ht_optim_create(o, &oo, m->n_params);
}

int ht_case_train_reference(const ht_case *c, uint64_t seed, int nesterov, int G, int steps, double lr, float *out,
                            size_t *n_params) {
  ht_model m;
  ht_optim o;
  HT_CHECK(ht_case_build(c, G, nesterov, &m, &o));
  float *x = malloc(sizeof(float) * (size_t)G * HT_CASE_D), *t = malloc(sizeof(float) * (size_t)G * (size_t)c->out);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)G);
  for (int s = 0; s < steps; s++) {
    ht_case_batch(c, seed, s, G, x, y, t);
    ht_model_step(&m, x, c->regression ? NULL : y, c->regression ? t : NULL, G, NULL, NULL);
    ht_optim_begin_step(&o);
    ht_optim_update(&o, m.params, m.grads, 0, m.n_params, lr);
  }
  memcpy(out, m.params, sizeof(float) * m.n_params);
  if (n_params) *n_params = m.n_params;
  free(x);
  free(y);
  free(t);
  ht_optim_destroy(&o);
  ht_model_destroy(&m);
  return 0;
}
