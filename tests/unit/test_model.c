/*
 * Model tests: layer layout in the flat buffer, create-time validation,
 * seeded initialisation, the ready callback, forward/eval/predict on
 * hand-computed cases, the L2 term and bitwise determinism.
 * (Gradients are checked in test_gradcheck.c.)
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/error.h"
#include "hytrain/model.h"
#include "hytrain/rng.h"

static ht_model_spec make_spec(const char *type, int in, int out, int regression) {
  ht_model_spec s;
  memset(&s, 0, sizeof s);
  s.type = (ht_model_type)ht_enum_parse(&ht_model_types, type);
  assert_true((int)s.type >= 0);
  s.activation = HT_ACT_RELU;
  s.init = HT_INIT_AUTO;
  s.in = in;
  s.out = out;
  s.regression = regression;
  return s;
}

static void create_ok(ht_model *m, const ht_model_spec *spec, int max_batch) {
  ht_error_clear();
  int rc = ht_model_create(m, spec, max_batch);
  if (rc != 0) fail_msg("ht_model_create(%s) = %d: %s", spec->type, rc, ht_error_message());
}

static void fill_uniform(ht_rng *r, float *x, long n, double lo, double hi) {
  for (long i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * ht_rng_uniform(r));
}

static void layout_mlp(void **state) {
  ht_model_spec s = make_spec("mlp", 5, 3, 0);
  s.n_hidden = 2;
  s.hidden[0] = 7;
  s.hidden[1] = 4;
  ht_model m;
  create_ok(&m, &s, 8);
  assert_int_equal(m.n_layers, 5);
  const char *names[5] = {"dense0", "relu0", "dense1", "relu1", "dense2"};
  const ht_layer_kind kinds[5] = {HT_LAYER_DENSE, HT_LAYER_RELU, HT_LAYER_DENSE, HT_LAYER_RELU, HT_LAYER_DENSE};
  const int ins[5] = {5, 7, 7, 4, 4}, outs[5] = {7, 7, 4, 4, 3};
  for (int i = 0; i < 5; i++) {
    assert_string_equal(m.layers[i].name, names[i]);
    assert_int_equal(m.layers[i].kind, kinds[i]);
    assert_int_equal(m.layers[i].in, ins[i]);
    assert_int_equal(m.layers[i].out, outs[i]);
  }
  /* W0 [7,5] at 0, b0 [7] at 35; W1 [4,7] at 42, b1 at 70; W2 [3,4] at 74, b2 at 86; 89 total. */
  assert_int_equal(m.layers[0].w_off, 0);
  assert_int_equal(m.layers[0].b_off, 35);
  assert_int_equal(m.layers[2].w_off, 42);
  assert_int_equal(m.layers[2].b_off, 70);
  assert_int_equal(m.layers[4].w_off, 74);
  assert_int_equal(m.layers[4].b_off, 86);
  assert_int_equal(m.n_params, 89);
  assert_int_equal(m.n_logits, 3);
  assert_int_equal(m.loss, HT_LOSS_SOFTMAX_CE);
  assert_non_null(m.params);
  assert_non_null(m.grads);
  for (int i = 1; i <= m.n_layers; i++) {
    assert_non_null(m.act[i]);
    assert_non_null(m.dact[i]);
    assert_int_equal((uintptr_t)m.act[i] % 64, 0);
  }
  assert_int_equal((uintptr_t)m.params % 64, 0);
  ht_model_destroy(&m);
  assert_null(m.params);
  ht_model_destroy(&m); /* destroying twice is harmless */
}

static void layout_simple_models(void **state) {
  struct {
    const char *type;
    int out, regression, n_logits;
    ht_loss_kind loss;
  } cases[] = {
      {"softmax", 4, 0, 4, HT_LOSS_SOFTMAX_CE},
      {"logistic", 2, 0, 1, HT_LOSS_SIGMOID_BCE},
      {"linear", 2, 1, 2, HT_LOSS_MSE},
      {"svm", 4, 0, 4, HT_LOSS_HINGE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ht_model_spec s = make_spec(cases[i].type, 6, cases[i].out, cases[i].regression);
    s.n_hidden = 3; /* ignored by the single-layer models */
    s.hidden[0] = s.hidden[1] = s.hidden[2] = 9;
    ht_model m;
    create_ok(&m, &s, 4);
    assert_int_equal(m.n_layers, 1);
    assert_string_equal(m.layers[0].name, "dense0");
    assert_int_equal(m.n_logits, cases[i].n_logits);
    assert_int_equal(m.loss, cases[i].loss);
    assert_int_equal(m.n_params, (size_t)(6 + 1) * cases[i].n_logits);
    ht_model_destroy(&m);
  }
  /* mlp on regression data ends in mse over T targets. */
  ht_model_spec s = make_spec("mlp", 6, 3, 1);
  s.n_hidden = 1;
  s.hidden[0] = 5;
  s.activation = HT_ACT_TANH;
  ht_model m;
  create_ok(&m, &s, 4);
  assert_int_equal(m.loss, HT_LOSS_MSE);
  assert_string_equal(m.layers[1].name, "tanh0");
  assert_int_equal(m.layers[1].kind, HT_LAYER_TANH);
  assert_int_equal(m.n_logits, 3);
  ht_model_destroy(&m);
}

static void expect_error(const ht_model_spec *s, int max_batch, int code, const char *message) {
  ht_model m;
  ht_error_clear();
  int rc = ht_model_create(&m, s, max_batch);
  if (rc != code) fail_msg("ht_model_create(%s): rc %d, expected %d (%s)", ht_enum_name(&ht_model_types, (int)s->type), rc, code, ht_error_message());
  if (!strstr(ht_error_message(), message))
    fail_msg("message '%s' does not contain '%s'", ht_error_message(), message);
  assert_null(m.params);
  ht_model_destroy(&m); /* a failed create leaves a destroyable model */
}

static void create_errors(void **state) {
  ht_model_spec s = make_spec("logistic", 4, 3, 0);
  expect_error(&s, 8, HT_ECONFIG, "model.type logistic needs exactly 2 classes, the data has 3");
  s = make_spec("softmax", 4, 3, 0);
  s.type = (ht_model_type)99; /* only code can get there: the config and checkpoints parse names */
  expect_error(&s, 8, HT_ECONFIG, "model.type: value 99 is not one of softmax|logistic|linear|svm|mlp");
  s = make_spec("mlp", 4, 3, 0);
  expect_error(&s, 8, HT_ECONFIG, "model.type mlp needs at least one hidden layer");
  s.n_hidden = 2;
  s.hidden[0] = 5;
  s.hidden[1] = 0;
  expect_error(&s, 8, HT_ECONFIG, "model.hidden[1] = 0");
  s.hidden[1] = 5;
  s.activation = (ht_activation)7;
  expect_error(&s, 8, HT_ECONFIG, "model.activation: value 7 is not one of relu|tanh|sigmoid");
  const char *cls[3] = {"softmax", "logistic", "svm"};
  for (int i = 0; i < 3; i++) {
    s = make_spec(cls[i], 4, 2, 1);
    char want[128];
    snprintf(want, sizeof want, "model.type %s needs class labels, but the data has regression targets", cls[i]);
    expect_error(&s, 8, HT_ECONFIG, want);
  }
  s = make_spec("linear", 4, 3, 0);
  expect_error(&s, 8, HT_ECONFIG, "model.type linear needs regression targets, but the data has 3 classes");
  s = make_spec("softmax", 4, 1, 0);
  expect_error(&s, 8, HT_ECONFIG, "model.type softmax needs at least 2 classes, the data has 1");
  s = make_spec("softmax", 4, 3, 0);
  s.init = (ht_init)-1;
  expect_error(&s, 8, HT_ECONFIG, "model.init: value -1 is not one of auto|he|xavier");
  s = make_spec("softmax", 4, 3, 0);
  s.l2 = -1;
  expect_error(&s, 8, HT_ECONFIG, "model.l2");
  s = make_spec("softmax", 4, 3, 0);
  expect_error(&s, 0, HT_EINVAL, "max_batch 0");
  s = make_spec("softmax", 0, 3, 0);
  expect_error(&s, 8, HT_EINVAL, "the data has 0 features");
}

static ht_model make_mlp(int in, int h0, int h1, int out, const char *act, int max_batch) {
  ht_model_spec s = make_spec("mlp", in, out, 0);
  s.n_hidden = h1 > 0 ? 2 : 1;
  s.hidden[0] = h0;
  s.hidden[1] = h1;
  s.activation = (ht_activation)ht_enum_parse(&ht_activations, act);
  assert_true((int)s.activation >= 0);
  ht_model m;
  create_ok(&m, &s, max_batch);
  return m;
}

static void init_seeded(void **state) {
  ht_model a = make_mlp(20, 16, 8, 3, "relu", 4), b = make_mlp(20, 16, 8, 3, "relu", 4);
  ht_model_init(&a, 42);
  ht_model_init(&b, 42);
  assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));
  ht_model_init(&b, 43);
  assert_memory_not_equal(a.params, b.params, a.layers[0].b_off * sizeof(float));
  /* Every dense layer differs under another seed, and biases are 0. */
  for (int i = 0; i < a.n_layers; i++) {
    const ht_layer *l = &a.layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    assert_memory_not_equal(a.params + l->w_off, b.params + l->w_off, (size_t)l->in * l->out * sizeof(float));
    for (int o = 0; o < l->out; o++) assert_true(a.params[l->b_off + o] == 0.0f);
  }
  /* The documented stream: dense layer i draws W row-major from
   * ht_rng_seed(ht_rng_mix(seed, i, 0)) scaled by He's sqrt(2 / in) (relu). */
  for (int i = 0; i < a.n_layers; i++) {
    const ht_layer *l = &a.layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    ht_rng r;
    ht_rng_seed(&r, ht_rng_mix(42, (uint64_t)i, 0));
    for (int k = 0; k < 10; k++) {
      float want = (float)(sqrt(2.0 / l->in) * ht_rng_normal(&r));
      assert_memory_equal(&a.params[l->w_off + k], &want, sizeof want);
    }
  }
  /* Adding a layer leaves the earlier layers' initial weights unchanged. */
  ht_model c = make_mlp(20, 16, 0, 3, "relu", 4);
  ht_model_init(&c, 42);
  assert_memory_equal(a.params, c.params, (a.layers[0].b_off + 16) * sizeof(float));
  ht_model_destroy(&a);
  ht_model_destroy(&b);
  ht_model_destroy(&c);
}

/* Sample std and mean of dense layer i's weights. */
static void weight_stats(const ht_model *m, int i, double *mean, double *std) {
  const ht_layer *l = &m->layers[i];
  size_t n = (size_t)l->in * l->out;
  double s = 0, ss = 0;
  for (size_t k = 0; k < n; k++) s += m->params[l->w_off + k];
  *mean = s / n;
  for (size_t k = 0; k < n; k++) ss += (m->params[l->w_off + k] - *mean) * (m->params[l->w_off + k] - *mean);
  *std = sqrt(ss / (n - 1));
}

static void init_scale(void **state) {
  double mean, std;
  /* relu + auto = He: s = sqrt(2 / I) */
  ht_model m = make_mlp(1000, 600, 0, 10, "relu", 1);
  ht_model_init(&m, 7);
  weight_stats(&m, 0, &mean, &std);
  ht_assert_close(std, sqrt(2.0 / 1000), 0.05, 0);
  ht_assert_close(mean, 0, 0, 0.05 * sqrt(2.0 / 1000));
  weight_stats(&m, 2, &mean, &std); /* output layer 600 -> 10, He too */
  ht_assert_close(std, sqrt(2.0 / 600), 0.05, 0);
  ht_model_destroy(&m);

  /* tanh + auto = Xavier normal: s = sqrt(2 / (I + O)) */
  m = make_mlp(1000, 600, 0, 10, "tanh", 1);
  ht_model_init(&m, 7);
  weight_stats(&m, 0, &mean, &std);
  ht_assert_close(std, sqrt(2.0 / 1600), 0.05, 0);
  ht_model_destroy(&m);

  /* init: he forces He on a tanh net. */
  ht_model_spec s = make_spec("mlp", 1000, 10, 0);
  s.n_hidden = 1;
  s.hidden[0] = 600;
  s.activation = HT_ACT_TANH;
  s.init = HT_INIT_HE;
  create_ok(&m, &s, 1);
  ht_model_init(&m, 7);
  weight_stats(&m, 0, &mean, &std);
  ht_assert_close(std, sqrt(2.0 / 1000), 0.05, 0);
  ht_model_destroy(&m);

  /* softmax + auto = Xavier */
  s = make_spec("softmax", 2000, 300, 0);
  create_ok(&m, &s, 1);
  ht_model_init(&m, 7);
  weight_stats(&m, 0, &mean, &std);
  ht_assert_close(std, sqrt(2.0 / 2300), 0.05, 0);
  ht_model_destroy(&m);
}

typedef struct ready_log {
  int n, marks;
  int layer[8];
  size_t lo[8], hi[8];
  float *snapshot; /* grads[lo, hi) copied at call time */
  const ht_model *m;
} ready_log;

static void on_ready(void *user, int layer, size_t lo, size_t hi) {
  ready_log *log = user;
  /* The "forward done" mark comes once, before any slice. */
  if (layer < 0) {
    log->marks += log->n == 0 && lo == 0 && hi == 0;
    return;
  }
  if (log->n < 8) {
    log->layer[log->n] = layer;
    log->lo[log->n] = lo;
    log->hi[log->n] = hi;
  }
  log->n++;
  memcpy(log->snapshot + lo, log->m->grads + lo, (hi - lo) * sizeof(float));
}

static void ready_callback(void **state) {
  enum { B = 5 };
  ht_model m = make_mlp(6, 8, 4, 3, "tanh", B);
  m.spec.l2 = 0.1; /* the L2 gradient must be in place before the callback too */
  ht_model_init(&m, 1);
  ht_rng r;
  ht_rng_seed(&r, 2);
  float x[B * 6];
  int32_t y[B] = {0, 1, 2, 1, 0};
  fill_uniform(&r, x, B * 6, -1, 1);
  ready_log log = {0};
  log.snapshot = calloc(m.n_params, sizeof(float));
  log.m = &m;
  ht_model_step(&m, x, y, NULL, B, on_ready, &log);
  /* Once per dense layer, last to first, with that layer's slice. */
  assert_int_equal(log.marks, 1);
  assert_int_equal(log.n, 3);
  const int want_layers[3] = {4, 2, 0};
  for (int k = 0; k < 3; k++) {
    const ht_layer *l = &m.layers[want_layers[k]];
    assert_int_equal(log.layer[k], want_layers[k]);
    assert_int_equal(log.lo[k], l->w_off);
    assert_int_equal(log.hi[k], l->b_off + l->out);
  }
  /* Slices tile [0, n_params): contiguous, no gap, no overlap. */
  assert_int_equal(log.hi[0], m.n_params);
  assert_int_equal(log.hi[1], log.lo[0]);
  assert_int_equal(log.hi[2], log.lo[1]);
  assert_int_equal(log.lo[2], 0);
  /* What the callback saw was final. */
  assert_memory_equal(log.snapshot, m.grads, m.n_params * sizeof(float));
  free(log.snapshot);
  ht_model_destroy(&m);
}

/* softmax over D = 2, K = 3 with hand-set weights: W = [[1,0],[0,1],[0,0]], b = 0. */
static void forward_eval_predict_softmax(void **state) {
  ht_model_spec s = make_spec("softmax", 2, 3, 0);
  ht_model m;
  create_ok(&m, &s, 4);
  const float p[9] = {1, 0, 0, 1, 0, 0, 0.5f, -0.5f, 0};
  memcpy(m.params, p, sizeof p);
  /* logits: [2,1,0]+b, [1,3,0]+b, [-1,-2,0]+b, [1,1,0]+b with b = [0.5,-0.5,0]
   *       = [2.5,0.5,0], [1.5,2.5,0], [-0.5,-2.5,0], [1.5,0.5,0] -> 0, 1, 2, 0
   * Tie case: row 4 below. */
  const float x[8] = {2, 1, 1, 3, -1, -2, 1, 1};
  const float *z = ht_model_forward(&m, x, 4);
  const float want[12] = {2.5f, 0.5f, 0, 1.5f, 2.5f, 0, -0.5f, -2.5f, 0, 1.5f, 0.5f, 0};
  for (int k = 0; k < 12; k++) ht_assert_close(z[k], want[k], 0, 1e-6);
  int32_t pred[4];
  ht_model_predict(&m, 4, pred);
  const int32_t want_pred[4] = {0, 1, 2, 0};
  assert_memory_equal(pred, want_pred, sizeof pred);

  const int32_t y[4] = {0, 1, 2, 1};
  double loss_sum = 0, sse = 0;
  int64_t correct = 0;
  ht_model_eval(&m, x, y, NULL, 4, &loss_sum, &correct, &sse);
  assert_int_equal(correct, 3);
  double want_loss = 0;
  for (int r = 0; r < 4; r++) {
    double s = 0;
    for (int c = 0; c < 3; c++) s += exp(want[r * 3 + c]);
    want_loss += log(s) - want[r * 3 + y[r]];
  }
  ht_assert_close(loss_sum, want_loss, 1e-9, 0);
  assert_true(sse == 0);

  /* Ties go to the lowest index: with b = 0, x = [1,1] gives [1,1,0] -> 0. */
  m.params[6] = m.params[7] = 0;
  const float xt[2] = {1, 1};
  const int32_t yt[1] = {1};
  correct = 0;
  ht_model_eval(&m, xt, yt, NULL, 1, &loss_sum, &correct, &sse);
  ht_model_predict(&m, 1, pred);
  assert_int_equal(pred[0], 0);
  assert_int_equal(correct, 0);
  ht_model_destroy(&m);
}

static void eval_logistic(void **state) {
  ht_model_spec s = make_spec("logistic", 1, 2, 0);
  ht_model m;
  create_ok(&m, &s, 4);
  m.params[0] = 1;
  m.params[1] = 0;
  /* logit = x: 0.5 -> 1, -0.5 -> 0, 0 -> 0 (not > 0), 2 -> 1 */
  const float x[4] = {0.5f, -0.5f, 0, 2};
  const int32_t y[4] = {1, 1, 0, 0};
  double loss_sum = 0, sse = 0;
  int64_t correct = 0;
  ht_model_eval(&m, x, y, NULL, 4, &loss_sum, &correct, &sse);
  assert_int_equal(correct, 2);
  /* -log s(0.5) - log s(-0.5) - log(1 - s(0)) - log(1 - s(2)) */
  double want = log1p(exp(-0.5)) + log1p(exp(0.5)) + log(2.0) + log1p(exp(2.0));
  ht_assert_close(loss_sum, want, 1e-9, 0);
  int32_t pred[4];
  ht_model_predict(&m, 4, pred);
  const int32_t want_pred[4] = {1, 0, 0, 1};
  assert_memory_equal(pred, want_pred, sizeof pred);
  ht_model_destroy(&m);
}

static void eval_regression(void **state) {
  ht_model_spec s = make_spec("linear", 1, 2, 1);
  ht_model m;
  create_ok(&m, &s, 2);
  const float p[4] = {1, 2, 0, 1}; /* W = [[1],[2]], b = [0, 1] */
  memcpy(m.params, p, sizeof p);
  /* outputs [[1,3],[2,5]], targets [[0,3],[2,2]]: errors 1, 0, 0, 3 */
  const float x[2] = {1, 2}, t[4] = {0, 3, 2, 2};
  double loss_sum = 0, sse = 0;
  int64_t correct = 0;
  ht_model_eval(&m, x, NULL, t, 2, &loss_sum, &correct, &sse);
  ht_assert_close(sse, 10.0, 1e-12, 0);
  ht_assert_close(loss_sum, 5.0, 1e-12, 0);
  assert_int_equal(correct, 0);
  ht_model_destroy(&m);
}

static void l2_term(void **state) {
  enum { B = 4 };
  ht_model m = make_mlp(5, 6, 0, 3, "sigmoid", B);
  ht_model_init(&m, 3);
  ht_rng r;
  ht_rng_seed(&r, 4);
  for (int i = 0; i < m.n_layers; i++)
    if (m.layers[i].kind == HT_LAYER_DENSE) fill_uniform(&r, m.params + m.layers[i].b_off, m.layers[i].out, -1, 1);
  float x[B * 5];
  fill_uniform(&r, x, B * 5, -1, 1);
  const int32_t y[B] = {2, 0, 1, 1};
  float *g0 = malloc(m.n_params * sizeof *g0);
  double loss0 = ht_model_step(&m, x, y, NULL, B, NULL, NULL);
  memcpy(g0, m.grads, m.n_params * sizeof *g0);
  const double l2 = 0.3;
  m.spec.l2 = l2;
  double loss1 = ht_model_step(&m, x, y, NULL, B, NULL, NULL);
  double w2 = 0;
  for (int i = 0; i < m.n_layers; i++) {
    const ht_layer *l = &m.layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    for (size_t k = l->w_off; k < l->b_off; k++) {
      w2 += (double)m.params[k] * m.params[k];
      ht_assert_close(m.grads[k] - g0[k], l2 * m.params[k], 1e-5, 1e-7);
    }
    /* Biases carry no L2. */
    assert_memory_equal(m.grads + l->b_off, g0 + l->b_off, (size_t)l->out * sizeof(float));
  }
  ht_assert_close(loss1 - loss0, 0.5 * l2 * w2, 1e-9, 1e-12);
  free(g0);
  ht_model_destroy(&m);
}

/* Same inputs and thread count => bit-identical loss and gradients. */
static void step_deterministic(void **state) {
  enum { B = 64, D = 100 };
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    ht_model a = make_mlp(D, 300, 200, 10, "relu", B), b = make_mlp(D, 300, 200, 10, "relu", B);
    ht_model_init(&a, 5);
    ht_model_init(&b, 5);
    a.spec.l2 = b.spec.l2 = 1e-3;
    ht_rng r;
    ht_rng_seed(&r, 6);
    float *x = malloc(B * D * sizeof *x);
    int32_t y[B];
    fill_uniform(&r, x, B * D, -1, 1);
    for (int i = 0; i < B; i++) y[i] = (int32_t)ht_rng_below(&r, 10);
    double la = ht_model_step(&a, x, y, NULL, B, NULL, NULL);
    float *first = malloc(a.n_params * sizeof *first);
    memcpy(first, a.grads, a.n_params * sizeof *first);
    double la2 = ht_model_step(&a, x, y, NULL, B, NULL, NULL);
    double lb = ht_model_step(&b, x, y, NULL, B, NULL, NULL);
    assert_true(isfinite(la));
    assert_memory_equal(&la, &la2, sizeof la);
    assert_memory_equal(&la, &lb, sizeof la);
    assert_memory_equal(first, a.grads, a.n_params * sizeof *first);
    assert_memory_equal(a.grads, b.grads, a.n_params * sizeof *first);
    free(first);
    free(x);
    ht_model_destroy(&a);
    ht_model_destroy(&b);
  }
  omp_set_num_threads(1);
}

static void bad_batch(void **state) {
  ht_model m = make_mlp(3, 4, 0, 2, "relu", 2);
  const float x[9] = {0};
  const int32_t y[3] = {0, 1, 0};
  ht_error_clear();
  assert_null(ht_model_forward(&m, x, 3));
  assert_non_null(strstr(ht_error_message(), "a batch of 3 rows, the model was created for 1..2"));
  ht_error_clear();
  assert_true(isnan(ht_model_step(&m, x, y, NULL, 3, NULL, NULL)));
  assert_non_null(strstr(ht_error_message(), "a batch of 3 rows"));
  ht_error_clear();
  assert_true(isnan(ht_model_step(&m, x, NULL, NULL, 2, NULL, NULL)));
  assert_non_null(strstr(ht_error_message(), "classifier given no labels"));
  ht_model_destroy(&m);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(layout_mlp),
    cmocka_unit_test(layout_simple_models),
    cmocka_unit_test(create_errors),
    cmocka_unit_test(init_seeded),
    cmocka_unit_test(init_scale),
    cmocka_unit_test(ready_callback),
    cmocka_unit_test(forward_eval_predict_softmax),
    cmocka_unit_test(eval_logistic),
    cmocka_unit_test(eval_regression),
    cmocka_unit_test(l2_term),
    cmocka_unit_test(step_deterministic),
    cmocka_unit_test(bad_batch),
};

HT_TEST_MAIN("model", tests)
