/*
 * Gradient checks for every layer kernel, every loss and every model type.
 *
 * Method: the analytic gradient comes from the float code under test; the
 * numeric gradient is a central difference (J(p+h) - J(p-h)) / 2h with
 * h = 1e-6, where J is evaluated by an independent DOUBLE-precision
 * reimplementation written here. In double that estimate is good to about
 * 1e-9, so the comparison measures only the float code's own error (~1e-6).
 * Tolerance, per element: |analytic - numeric| / max(|numeric|, floor) <= 1e-3,
 * floor = 1e-3 (1e-2 for the one big dense layer, where a 250-term dot
 * product that cancels to ~1e-4 carries ~1e-6 of float rounding).
 * A wrong sign or a missing factor gives an error of 0.5 or more;
 * gradcheck_detects_errors shows that the checker does fail on those.
 *
 * Inputs of the kinked functions (relu, hinge) are kept at least 1e-4 away
 * from their kinks, and the tests assert this distance.
 *
 * Shape legend: B rows, I inputs, O outputs, C logits per row, n elements.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/error.h"
#include "hytrain/layers.h"
#include "hytrain/loss.h"
#include "hytrain/model.h"
#include "hytrain/rng.h"

#define GC_H 1e-6
#define GC_RTOL 1e-3
#define GC_FLOOR 1e-3
#define GC_KINK 1e-4

/* ---- helpers ---------------------------------------------------------- */

static void fill_uniform(ht_rng *r, float *x, long n, double lo, double hi) {
  for (long i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * ht_rng_uniform(r));
}

static double *to_double(const float *x, long n) {
  double *d = calloc((size_t)n, sizeof *d);
  for (long i = 0; i < n; i++) d[i] = x[i];
  return d;
}

/* Largest per-element relative error |a - n| / max(|n|, floor); *worst = its index. */
static double grad_err_floor(const float *analytic, const double *numeric, long n, double floor, long *worst) {
  double max_err = 0.0;
  long at = 0;
  for (long i = 0; i < n; i++) {
    double e = fabs((double)analytic[i] - numeric[i]) / fmax(fabs(numeric[i]), floor);
    if (e > max_err || isnan(e)) {
      max_err = isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  if (worst) *worst = at;
  return max_err;
}

static double grad_err(const float *analytic, const double *numeric, long n, long *worst) {
  return grad_err_floor(analytic, numeric, n, GC_FLOOR, worst);
}

static void assert_grad_floor(const char *what, const float *analytic, const double *numeric, long n, double floor) {
  long worst;
  double e = grad_err_floor(analytic, numeric, n, floor, &worst);
  if (!(e <= GC_RTOL))
    fail_msg("%s: gradient element %ld: analytic %.9g, numeric %.9g, relative error %.3g > %.1g", what, worst,
             (double)analytic[worst], numeric[worst], e, GC_RTOL);
}

static void assert_grad(const char *what, const float *analytic, const double *numeric, long n) {
  assert_grad_floor(what, analytic, numeric, n, GC_FLOOR);
}

/* ---- double-precision reference kernels ------------------------------- */

static void ref_dense(double *out, const double *inp, const double *w, const double *b, int B, int I, int O) {
  for (int r = 0; r < B; r++)
    for (int o = 0; o < O; o++) {
      double s = b[o];
      for (int k = 0; k < I; k++) s += inp[r * I + k] * w[o * I + k];
      out[r * O + o] = s;
    }
}

static double ref_act(ht_layer_kind kind, double x) {
  switch (kind) {
  case HT_LAYER_RELU:
    return x > 0 ? x : 0;
  case HT_LAYER_TANH:
    return tanh(x);
  case HT_LAYER_SIGMOID:
    return 1.0 / (1.0 + exp(-x));
  case HT_LAYER_DENSE:
    break;
  }
  return NAN;
}

/* Mean losses; *kink (if not NULL) is lowered to the distance from the
 * nearest point where the loss is not differentiable. */
static double ref_softmax_ce(const double *z, const int32_t *y, int B, int C) {
  double total = 0;
  for (int r = 0; r < B; r++) {
    double s = 0;
    for (int c = 0; c < C; c++) s += exp(z[r * C + c]);
    total += log(s) - z[r * C + y[r]];
  }
  return total / B;
}

static double ref_sigmoid_bce(const double *z, const int32_t *y, int B) {
  double total = 0;
  for (int r = 0; r < B; r++) {
    double p = 1.0 / (1.0 + exp(-z[r]));
    total += y[r] ? -log(p) : -log(1.0 - p);
  }
  return total / B;
}

static double ref_mse(const double *z, const float *t, int B, int C) {
  double total = 0;
  for (int k = 0; k < B * C; k++) total += 0.5 * (z[k] - t[k]) * (z[k] - t[k]);
  return total / B;
}

static double ref_hinge(const double *z, const int32_t *y, int B, int C, double *kink) {
  double total = 0;
  for (int r = 0; r < B; r++) {
    const double *s = z + r * C;
    double best = -INFINITY, second = -INFINITY;
    for (int c = 0; c < C; c++) {
      if (c == y[r]) continue;
      if (s[c] > best) {
        second = best;
        best = s[c];
      } else if (s[c] > second) {
        second = s[c];
      }
    }
    double margin = 1 + best - s[y[r]];
    if (kink) *kink = fmin(*kink, fmin(fabs(margin), C > 2 ? best - second : INFINITY));
    total += margin > 0 ? margin : 0;
  }
  return total / B;
}

/* Loss + L2 of model m with parameters p (double), evaluated in double from the
 * layer list alone. */
static double ref_model_loss(const ht_model *m, const double *p, const float *x, const int32_t *y, const float *t,
                             int B, double *kink) {
  int width = m->spec.in;
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i].out > width) width = m->layers[i].out;
  double *a = malloc((size_t)B * width * sizeof *a), *b = malloc((size_t)B * width * sizeof *b);
  for (int k = 0; k < B * m->spec.in; k++) a[k] = x[k];
  double l2_sum = 0;
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind == HT_LAYER_DENSE) {
      ref_dense(b, a, p + l->w_off, p + l->b_off, B, l->in, l->out);
      for (size_t k = 0; k < (size_t)l->in * l->out; k++) l2_sum += p[l->w_off + k] * p[l->w_off + k];
    } else {
      for (int k = 0; k < B * l->out; k++) {
        if (l->kind == HT_LAYER_RELU && kink) *kink = fmin(*kink, fabs(a[k]));
        b[k] = ref_act(l->kind, a[k]);
      }
    }
    double *tmp = a;
    a = b;
    b = tmp;
  }
  double loss = NAN;
  int C = m->n_logits;
  switch (m->loss) {
  case HT_LOSS_SOFTMAX_CE:
    loss = ref_softmax_ce(a, y, B, C);
    break;
  case HT_LOSS_SIGMOID_BCE:
    loss = ref_sigmoid_bce(a, y, B);
    break;
  case HT_LOSS_MSE:
    loss = ref_mse(a, t, B, C);
    break;
  case HT_LOSS_HINGE:
    loss = ref_hinge(a, y, B, C, kink);
    break;
  }
  free(a);
  free(b);
  return loss + 0.5 * m->spec.l2 * l2_sum;
}

/* ---- layer kernels ---------------------------------------------------- */

static void dense_forward_by_hand(void **state) {
  /* inp [2,3], w [2,3], b [2] */
  const float inp[6] = {1, 2, 3, -1, 0, 2};
  const float w[6] = {0.5f, -1, 2, 1, 1, 1};
  const float b[2] = {0.25f, -1};
  float out[4];
  ht_dense_forward(out, inp, w, b, 2, 3, 2);
  /* row 0: 0.5 - 2 + 6 + 0.25 = 4.75;   1 + 2 + 3 - 1 = 5
   * row 1: -0.5 + 0 + 4 + 0.25 = 3.75;  -1 + 0 + 2 - 1 = 0 */
  const float want[4] = {4.75f, 5.0f, 3.75f, 0.0f};
  for (int k = 0; k < 4; k++) ht_assert_close(out[k], want[k], 0, 1e-6);

  /* Backward with dout = [[1, 0], [2, -1]]:
   * dw = dout^T inp = [[1*1+2*-1, 1*2+0, 1*3+2*2], [0+1, 0, 0-2]] = [[-1, 2, 7], [1, 0, -2]]
   * db = [3, -1];  dinp = dout w = [[0.5, -1, 2], [0, -3, 3]] */
  const float dout[4] = {1, 0, 2, -1};
  float dw[6], db[2], dinp[6];
  ht_dense_backward(dinp, dw, db, dout, inp, w, 2, 3, 2);
  const float want_dw[6] = {-1, 2, 7, 1, 0, -2}, want_db[2] = {3, -1}, want_dinp[6] = {0.5f, -1, 2, 0, -3, 3};
  for (int k = 0; k < 6; k++) ht_assert_close(dw[k], want_dw[k], 0, 1e-6);
  for (int k = 0; k < 2; k++) ht_assert_close(db[k], want_db[k], 0, 1e-6);
  for (int k = 0; k < 6; k++) ht_assert_close(dinp[k], want_dinp[k], 0, 1e-6);
}

/* J = sum out * R through one dense layer, numeric gradient for w, b, inp. */
static void check_dense(int B, int I, int O, int threads, double floor) {
  omp_set_num_threads(threads);
  ht_rng r;
  ht_rng_seed(&r, 11);
  long n_in = (long)B * I, n_w = (long)O * I, n_out = (long)B * O;
  float *inp = malloc(n_in * sizeof *inp), *w = malloc(n_w * sizeof *w), *b = malloc(O * sizeof *b);
  float *R = malloc(n_out * sizeof *R), *dinp = malloc(n_in * sizeof *dinp), *dw = malloc(n_w * sizeof *dw);
  float *db = malloc(O * sizeof *db);
  fill_uniform(&r, inp, n_in, -1, 1);
  fill_uniform(&r, w, n_w, -1, 1);
  fill_uniform(&r, b, O, -1, 1);
  fill_uniform(&r, R, n_out, -1, 1);
  ht_dense_backward(dinp, dw, db, R, inp, w, B, I, O);

  double *din = to_double(inp, n_in), *dwt = to_double(w, n_w), *dbt = to_double(b, O);
  double *out = malloc(n_out * sizeof *out);
  double *num_w = malloc(n_w * sizeof *num_w), *num_b = malloc(O * sizeof *num_b), *num_in = malloc(n_in * sizeof *num_in);
  /* Objective in double; perturbs one entry of one of the three tensors. */
  double *targets[3] = {dwt, dbt, din};
  double *nums[3] = {num_w, num_b, num_in};
  long counts[3] = {n_w, O, n_in};
  for (int which = 0; which < 3; which++) {
    for (long k = 0; k < counts[which]; k++) {
      double keep = targets[which][k], J[2];
      for (int s = 0; s < 2; s++) {
        targets[which][k] = keep + (s ? -GC_H : GC_H);
        ref_dense(out, din, dwt, dbt, B, I, O);
        J[s] = 0;
        for (long q = 0; q < n_out; q++) J[s] += out[q] * R[q];
      }
      targets[which][k] = keep;
      nums[which][k] = (J[0] - J[1]) / (2 * GC_H);
    }
  }
  assert_grad_floor("dense dw", dw, num_w, n_w, floor);
  assert_grad_floor("dense db", db, num_b, O, floor);
  assert_grad_floor("dense dinp", dinp, num_in, n_in, floor);

  /* Forward against the double reference too. */
  float *fout = malloc(n_out * sizeof *fout);
  ht_dense_forward(fout, inp, w, b, B, I, O);
  ref_dense(out, din, dwt, dbt, B, I, O);
  for (long q = 0; q < n_out; q++) ht_assert_close(fout[q], out[q], 1e-5, 1e-5);

  free(inp), free(w), free(b), free(R), free(dinp), free(dw), free(db), free(din), free(dwt), free(dbt);
  free(out), free(num_w), free(num_b), free(num_in), free(fout);
  omp_set_num_threads(1);
}

static void dense_gradcheck(void **state) { check_dense(3, 4, 5, 1, GC_FLOOR); }

/* Big enough (B*O >= 16384, several 16-column blocks) for the OpenMP bias loop. */
static void dense_gradcheck_threads(void **state) { check_dense(70, 3, 250, 2, 1e-2); }

/* J = sum f(x) * R for one activation; numeric gradient of each x. */
static void check_activation(ht_layer_kind kind, long n, int threads) {
  omp_set_num_threads(threads);
  ht_rng r;
  ht_rng_seed(&r, 12 + kind);
  float *x = malloc(n * sizeof *x), *out = malloc(n * sizeof *out), *R = malloc(n * sizeof *R);
  float *dx = malloc(n * sizeof *dx);
  double *num = malloc(n * sizeof *num);
  fill_uniform(&r, x, n, -4, 4);
  /* Keep relu inputs away from its kink at 0. */
  for (long i = 0; i < n; i++)
    if (fabsf(x[i]) < 0.05f) x[i] = x[i] < 0 ? -0.05f - x[i] : 0.05f + x[i];
  fill_uniform(&r, R, n, -1, 1);
  switch (kind) {
  case HT_LAYER_RELU:
    ht_relu_forward(out, x, n);
    ht_relu_backward(dx, R, out, n);
    break;
  case HT_LAYER_TANH:
    ht_tanh_forward(out, x, n);
    ht_tanh_backward(dx, R, out, n);
    break;
  case HT_LAYER_DENSE:
    fail_msg("dense is not an elementwise activation");
    break;
  case HT_LAYER_SIGMOID:
    ht_sigmoid_forward(out, x, n);
    ht_sigmoid_backward(dx, R, out, n);
    break;
  }
  for (long i = 0; i < n; i++) {
    ht_assert_close(out[i], ref_act(kind, x[i]), 1e-6, 1e-7);
    /* Elementwise: J depends on x_i only through term i. */
    num[i] = (ref_act(kind, (double)x[i] + GC_H) - ref_act(kind, (double)x[i] - GC_H)) / (2 * GC_H) * R[i];
  }
  assert_grad(kind == HT_LAYER_RELU ? "relu" : kind == HT_LAYER_TANH ? "tanh" : "sigmoid", dx, num, n);
  free(x), free(out), free(R), free(dx), free(num);
  omp_set_num_threads(1);
}

static void relu_gradcheck(void **state) {
  check_activation(HT_LAYER_RELU, 257, 1);
  check_activation(HT_LAYER_RELU, 20000, 2);
}

static void tanh_gradcheck(void **state) {
  check_activation(HT_LAYER_TANH, 257, 1);
  check_activation(HT_LAYER_TANH, 20000, 2);
}

static void sigmoid_gradcheck(void **state) {
  check_activation(HT_LAYER_SIGMOID, 257, 1);
  check_activation(HT_LAYER_SIGMOID, 20000, 2);
  /* Saturation does not overflow. */
  const float big[4] = {-200.0f, -90.0f, 90.0f, 200.0f};
  float out[4];
  ht_sigmoid_forward(out, big, 4);
  ht_assert_close(out[0], 0.0, 0, 1e-30);
  ht_assert_close(out[3], 1.0, 0, 1e-7);
  for (int i = 0; i < 4; i++) assert_true(isfinite(out[i]));
}

/* ---- losses ----------------------------------------------------------- */

static void softmax_ce_by_hand(void **state) {
  /* softmax([1,2,3]) = [0.0900305732, 0.2447284711, 0.6652409558]
   * loss (y = 2) = log(e^1 + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2) = 0.4076059644 */
  const float z[3] = {1, 2, 3};
  const int32_t y[1] = {2};
  float dz[3];
  ht_assert_close(ht_softmax_ce(dz, z, y, 1, 3), 0.4076059644, 1e-9, 0);
  ht_assert_close(dz[0], 0.0900305732, 1e-6, 0);
  ht_assert_close(dz[1], 0.2447284711, 1e-6, 0);
  ht_assert_close(dz[2], 0.6652409558 - 1.0, 1e-6, 0);
  /* Two rows: the mean, and each gradient row divided by B = 2. Row 1 has huge
   * logits: log-sum-exp must not overflow. loss = 1000 + log(1 + 2 e^-1000) - 0 ... y = 1:
   * log(e^1000 + 1 + 1) - 0 = 1000. */
  const float z2[6] = {1, 2, 3, 1000, 0, 0};
  const int32_t y2[2] = {2, 1};
  float dz2[6];
  ht_assert_close(ht_softmax_ce(dz2, z2, y2, 2, 3), (0.4076059644 + 1000.0) / 2, 1e-9, 0);
  ht_assert_close(dz2[0], 0.0900305732 / 2, 1e-6, 0);
  ht_assert_close(dz2[3], 0.5, 1e-6, 0);
  ht_assert_close(dz2[4], -0.5, 1e-6, 0);
  ht_assert_close(dz2[5], 0.0, 0, 1e-30);
}

static void sigmoid_bce_by_hand(void **state) {
  /* z = 0 (either label): log 2 = 0.6931471806; z = 2, y = 1: log(1 + e^-2) = 0.1269280110;
   * z = -30, y = 1: 30 + log(1 + e^-30) = 30.0000000000000936 (stable for large |z|);
   * z = 2, y = 0: 2 + log(1 + e^-2) = 2.1269280110 */
  const float z[4] = {0, 2, -30, 2};
  const int32_t y[4] = {1, 1, 1, 0};
  float dz[4];
  double want = (0.6931471806 + 0.1269280110 + 30.0 + 2.1269280110) / 4;
  ht_assert_close(ht_sigmoid_bce(dz, z, y, 4), want, 1e-9, 0);
  /* d/dz = (sigmoid(z) - y) / B: sigmoid(2) = 0.8807970780 */
  ht_assert_close(dz[0], (0.5 - 1) / 4, 1e-6, 0);
  ht_assert_close(dz[1], (0.8807970780 - 1) / 4, 1e-6, 0);
  ht_assert_close(dz[2], -1.0 / 4, 1e-6, 0);
  ht_assert_close(dz[3], 0.8807970780 / 4, 1e-6, 0);
}

static void mse_by_hand(void **state) {
  /* Row 0: 0.5 ((1-0)^2 + (2-4)^2) = 2.5; row 1: 0.5 (0.5^2 + 0) = 0.125; mean 1.3125 */
  const float z[4] = {1, 2, 3.5f, -1}, t[4] = {0, 4, 3, -1};
  float dz[4];
  ht_assert_close(ht_mse(dz, z, t, 2, 2), 1.3125, 1e-12, 0);
  const float want[4] = {0.5f, -1.0f, 0.25f, 0.0f};
  for (int k = 0; k < 4; k++) ht_assert_close(dz[k], want[k], 1e-7, 0);
}

static void hinge_by_hand(void **state) {
  /* Row 0: y = 0, best wrong = 0.5: margin 1 + 0.5 - 1 = 0.5 > 0: grad [-1, +1, 0] / 2.
   * Row 1: y = 0, best wrong = 1: margin 1 + 1 - 3 = -1: loss 0, grad 0. Mean 0.25. */
  const float z[6] = {1, 0.5f, 0.2f, 3, 0, 1};
  const int32_t y[2] = {0, 0};
  float dz[6];
  ht_assert_close(ht_hinge(dz, z, y, 2, 3), 0.25, 1e-12, 0);
  const float want[6] = {-0.5f, 0.5f, 0, 0, 0, 0};
  for (int k = 0; k < 6; k++) ht_assert_close(dz[k], want[k], 0, 1e-12);
}

typedef enum { LOSS_CE, LOSS_BCE, LOSS_MSE, LOSS_HINGE } loss_case;

static void check_loss(loss_case which) {
  enum { B = 6, C = 4 };
  ht_rng r;
  ht_rng_seed(&r, 21 + which);
  int cols = which == LOSS_BCE ? 1 : C;
  float z[B * C], t[B * C], dz[B * C];
  int32_t y[B];
  fill_uniform(&r, z, B * cols, -3, 3);
  fill_uniform(&r, t, B * cols, -2, 2);
  for (int i = 0; i < B; i++) y[i] = (int32_t)ht_rng_below(&r, which == LOSS_BCE ? 2 : C);
  if (which == LOSS_HINGE) {
    /* Clear of the kinks: the wrong class (y+1)%C at 0.5 leads the others
     * (<= 0) by 0.5; even rows margin 1.7 (active), odd rows -0.5 (inactive). */
    for (int i = 0; i < B; i++) {
      for (int c = 0; c < C; c++) z[i * C + c] = -(float)ht_rng_uniform(&r);
      z[i * C + (y[i] + 1) % C] = 0.5f;
      z[i * C + y[i]] = i % 2 ? 2.0f : -0.2f;
    }
  }
  double loss = which == LOSS_CE    ? ht_softmax_ce(dz, z, y, B, C)
                : which == LOSS_BCE ? ht_sigmoid_bce(dz, z, y, B)
                : which == LOSS_MSE ? ht_mse(dz, z, t, B, C)
                                    : ht_hinge(dz, z, y, B, C);
  double zd[B * C], num[B * C], kink = INFINITY;
  for (int k = 0; k < B * cols; k++) zd[k] = z[k];
#define REF_LOSS()                                                       \
  (which == LOSS_CE    ? ref_softmax_ce(zd, y, B, C)                     \
   : which == LOSS_BCE ? ref_sigmoid_bce(zd, y, B)                       \
   : which == LOSS_MSE ? ref_mse(zd, t, B, C)                            \
                       : ref_hinge(zd, y, B, C, &kink))
  ht_assert_close(loss, REF_LOSS(), 1e-12, 1e-12);
  if (which == LOSS_HINGE) assert_true(kink >= 0.4);
  for (int k = 0; k < B * cols; k++) {
    double keep = zd[k];
    zd[k] = keep + GC_H;
    double up = REF_LOSS();
    zd[k] = keep - GC_H;
    double down = REF_LOSS();
    zd[k] = keep;
    num[k] = (up - down) / (2 * GC_H);
  }
#undef REF_LOSS
  assert_grad("loss dlogits", dz, num, B * cols);
}

static void softmax_ce_gradcheck(void **state) { check_loss(LOSS_CE); }
static void sigmoid_bce_gradcheck(void **state) { check_loss(LOSS_BCE); }
static void mse_gradcheck(void **state) { check_loss(LOSS_MSE); }
static void hinge_gradcheck(void **state) { check_loss(LOSS_HINGE); }

/* ---- whole models ----------------------------------------------------- */

enum { GM_B = 7, GM_D = 5, GM_K = 3 };

/* Builds the model, random data and the analytic gradient; returns the numeric one. */
typedef struct gm_case {
  ht_model m;
  float x[GM_B * GM_D];
  int32_t y[GM_B];
  float t[GM_B * GM_K];
  double loss;    /* from ht_model_step */
  double *num;    /* [n_params] numeric gradient */
} gm_case;

static void gm_setup(gm_case *c, const char *type, const char *act, int regression, int classes) {
  ht_model_spec spec = {0};
  spec.type = (ht_model_type)ht_enum_parse(&ht_model_types, type);
  spec.activation = (ht_activation)ht_enum_parse(&ht_activations, act);
  spec.init = HT_INIT_AUTO;
  assert_true((int)spec.type >= 0 && (int)spec.activation >= 0);
  spec.in = GM_D;
  spec.out = classes;
  spec.regression = regression;
  spec.n_hidden = 2;
  spec.hidden[0] = 6;
  spec.hidden[1] = 4;
  spec.l2 = 0.05;
  int rc = ht_model_create(&c->m, &spec, GM_B);
  if (rc < 0) fail_msg("ht_model_create(%s): %s", type, ht_error_message());
  ht_model_init(&c->m, 1234);
  ht_rng r;
  ht_rng_seed(&r, 99);
  /* Non-zero biases, so a bias wrongly included in L2 would show. */
  for (int i = 0; i < c->m.n_layers; i++)
    if (c->m.layers[i].kind == HT_LAYER_DENSE) fill_uniform(&r, c->m.params + c->m.layers[i].b_off, c->m.layers[i].out, -0.5, 0.5);
  fill_uniform(&r, c->x, GM_B * GM_D, -1.5, 1.5);
  fill_uniform(&r, c->t, GM_B * GM_K, -1, 1);
  for (int i = 0; i < GM_B; i++) c->y[i] = (int32_t)ht_rng_below(&r, classes);

  c->loss = ht_model_step(&c->m, c->x, regression ? NULL : c->y, regression ? c->t : NULL, GM_B, NULL, NULL);

  size_t n = c->m.n_params;
  double *p = to_double(c->m.params, (long)n);
  double kink = INFINITY;
  double ref = ref_model_loss(&c->m, p, c->x, c->y, c->t, GM_B, &kink);
  ht_assert_close(c->loss, ref, 1e-5, 1e-7);
  if (!(kink > GC_KINK)) fail_msg("%s: a relu or hinge input is %.3g from its kink; pick other seeds", type, kink);
  c->num = malloc(n * sizeof *c->num);
  for (size_t k = 0; k < n; k++) {
    double keep = p[k];
    p[k] = keep + GC_H;
    double up = ref_model_loss(&c->m, p, c->x, c->y, c->t, GM_B, NULL);
    p[k] = keep - GC_H;
    double down = ref_model_loss(&c->m, p, c->x, c->y, c->t, GM_B, NULL);
    p[k] = keep;
    c->num[k] = (up - down) / (2 * GC_H);
  }
  free(p);
}

static void gm_teardown(gm_case *c) {
  free(c->num);
  ht_model_destroy(&c->m);
}

static void check_model(const char *type, const char *act, int regression, int classes) {
  gm_case c;
  gm_setup(&c, type, act, regression, classes);
  char what[64];
  snprintf(what, sizeof what, "model %s/%s", type, act);
  assert_grad(what, c.m.grads, c.num, (long)c.m.n_params);
  gm_teardown(&c);
}

static void model_softmax_gradcheck(void **state) { check_model("softmax", "relu", 0, GM_K); }
static void model_logistic_gradcheck(void **state) { check_model("logistic", "relu", 0, 2); }
static void model_linear_gradcheck(void **state) { check_model("linear", "relu", 1, GM_K); }
static void model_svm_gradcheck(void **state) { check_model("svm", "relu", 0, GM_K); }
static void model_mlp_relu_gradcheck(void **state) { check_model("mlp", "relu", 0, GM_K); }
static void model_mlp_tanh_gradcheck(void **state) { check_model("mlp", "tanh", 0, GM_K); }
static void model_mlp_sigmoid_gradcheck(void **state) { check_model("mlp", "sigmoid", 0, GM_K); }
static void model_mlp_regression_gradcheck(void **state) { check_model("mlp", "tanh", 1, GM_K); }

/* The checker itself must fail on the classic mistakes. */
static void gradcheck_detects_errors(void **state) {
  gm_case c;
  gm_setup(&c, "mlp", "tanh", 0, GM_K);
  size_t n = c.m.n_params;
  float *bad = calloc(n, sizeof *bad);
  assert_true(grad_err(c.m.grads, c.num, (long)n, NULL) <= GC_RTOL);

  /* A flipped sign on one element that matters. */
  size_t k = 0;
  while (k < n && fabs(c.num[k]) < 1e-2) k++;
  assert_true(k < n);
  memcpy(bad, c.m.grads, n * sizeof *bad);
  bad[k] = -bad[k];
  assert_true(grad_err(bad, c.num, (long)n, NULL) > 100 * GC_RTOL);

  /* A missing 1/B or 1/2 factor. */
  for (size_t i = 0; i < n; i++) bad[i] = 2 * c.m.grads[i];
  assert_true(grad_err(bad, c.num, (long)n, NULL) > 100 * GC_RTOL);

  /* L2 applied to the biases too. */
  memcpy(bad, c.m.grads, n * sizeof *bad);
  const ht_layer *last = &c.m.layers[c.m.n_layers - 1];
  for (int o = 0; o < last->out; o++) bad[last->b_off + o] += (float)(c.m.spec.l2 * c.m.params[last->b_off + o]);
  assert_true(grad_err(bad, c.num, (long)n, NULL) > 10 * GC_RTOL);

  free(bad);
  gm_teardown(&c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(dense_forward_by_hand),
    cmocka_unit_test(dense_gradcheck),
    cmocka_unit_test(dense_gradcheck_threads),
    cmocka_unit_test(relu_gradcheck),
    cmocka_unit_test(tanh_gradcheck),
    cmocka_unit_test(sigmoid_gradcheck),
    cmocka_unit_test(softmax_ce_by_hand),
    cmocka_unit_test(sigmoid_bce_by_hand),
    cmocka_unit_test(mse_by_hand),
    cmocka_unit_test(hinge_by_hand),
    cmocka_unit_test(softmax_ce_gradcheck),
    cmocka_unit_test(sigmoid_bce_gradcheck),
    cmocka_unit_test(mse_gradcheck),
    cmocka_unit_test(hinge_gradcheck),
    cmocka_unit_test(model_softmax_gradcheck),
    cmocka_unit_test(model_logistic_gradcheck),
    cmocka_unit_test(model_linear_gradcheck),
    cmocka_unit_test(model_svm_gradcheck),
    cmocka_unit_test(model_mlp_relu_gradcheck),
    cmocka_unit_test(model_mlp_tanh_gradcheck),
    cmocka_unit_test(model_mlp_sigmoid_gradcheck),
    cmocka_unit_test(model_mlp_regression_gradcheck),
    cmocka_unit_test(gradcheck_detects_errors),
};

HT_TEST_MAIN("gradcheck", tests)
