/*
 * Sparse linear models (src/model/sparse_linear.c).
 *
 *  - gradient checks: dz of every loss against central finite differences of
 *    the loss in double; the checker itself is shown to catch a flipped sign
 *    and a missing factor;
 *  - the serial update against an eager double-precision reference, step by
 *    step, for every model, with L2 (the lazy catch-up) and a warmup + cosine
 *    schedule (a different rate every step), over 3 epochs with a
 *    catch-up at each epoch end;
 *  - the per-worker bias replica of the Hogwild engine: folded after every
 *    step it is the in-place update bit for bit; folded every 4 steps, the
 *    same up to rounding; the shared bias does not move before a fold;
 *  - errors: a model that does not fit the data, lr * l2 >= 1.
 */
#include "ht_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/sparse_model.h"

/* ---- gradient checks ---------------------------------------------------- */

typedef double (*loss_fn)(ht_model_type type, int k, const float *z, int32_t y, float t, float *dz);

/* The largest |analytic - numeric| / (1 + |numeric|) over the outputs z of
 * one row, with loss f (central differences, step h). */
static double grad_error(loss_fn f, ht_model_type type, int k, const float *z0, int32_t y, float t) {
  float z[8], dz[8], scratch[8];
  memcpy(z, z0, sizeof(float) * (size_t)k);
  f(type, k, z, y, t, dz);
  double worst = 0;
  const float h = 1e-2f;
  for (int c = 0; c < k; c++) {
    float keep = z[c];
    z[c] = keep + h;
    double up = f(type, k, z, y, t, scratch);
    z[c] = keep - h;
    double down = f(type, k, z, y, t, scratch);
    z[c] = keep;
    double num = (up - down) / (2.0 * (double)h);
    double err = fabs((double)dz[c] - num) / (1.0 + fabs(num));
    if (err > worst) worst = err;
  }
  return worst;
}

static void check_loss(ht_model_type type, int k, int regression) {
  uint64_t s = 12345;
  for (int trial = 0; trial < 50; trial++) {
    float z[8];
    for (int c = 0; c < k; c++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      z[c] = (float)((double)(s >> 11) / 9007199254740992.0 * 6.0 - 3.0);
    }
    int32_t y = regression ? 0 : trial % (k == 1 ? 2 : k);
    float t = regression ? 0.5f * (float)(trial % 7) - 1.5f : 0;
    /* The hinge has a kink at margin 1: keep away from it. */
    if (type == HT_MODEL_SVM && fabs(fabs((double)z[0]) - 1.0) < 0.05) continue;
    double err = grad_error(ht_sparse_loss, type, k, z, y, t);
    if (err > 2e-3) fail_msg("%s: trial %d: gradient error %g", ht_enum_name(&ht_model_types, (int)type), trial, err);
  }
}

static void logistic_gradcheck(void **state) {
  (void)state;
  check_loss(HT_MODEL_LOGISTIC, 1, 0);
}
static void svm_gradcheck(void **state) {
  (void)state;
  check_loss(HT_MODEL_SVM, 1, 0);
}
static void linear_gradcheck(void **state) {
  (void)state;
  check_loss(HT_MODEL_LINEAR, 1, 1);
}
static void softmax_gradcheck(void **state) {
  (void)state;
  check_loss(HT_MODEL_SOFTMAX, 5, 0);
}

/* Planted bugs: the checker must see them. */
static double flipped(ht_model_type type, int k, const float *z, int32_t y, float t, float *dz) {
  double l = ht_sparse_loss(type, k, z, y, t, dz);
  dz[0] = -dz[0];
  return l;
}
static double halved(ht_model_type type, int k, const float *z, int32_t y, float t, float *dz) {
  double l = ht_sparse_loss(type, k, z, y, t, dz);
  for (int c = 0; c < k; c++) dz[c] *= 0.5f;
  return l;
}

static void gradcheck_detects_errors(void **state) {
  (void)state;
  const float z[3] = {0.7f, -0.2f, 1.1f};
  assert_true(grad_error(flipped, HT_MODEL_LOGISTIC, 1, z, 1, 0) > 0.1);
  assert_true(grad_error(halved, HT_MODEL_SOFTMAX, 3, z, 2, 0) > 0.05);
  assert_true(grad_error(halved, HT_MODEL_LINEAR, 1, z, 0, 2.0f) > 0.1);
  assert_true(grad_error(ht_sparse_loss, HT_MODEL_SOFTMAX, 3, z, 2, 0) < 2e-3);
}

/* ---- the update against an eager double reference ---------------------- */

#define D 7
#define ROWS 6
#define EPOCHS 3
#define KMAX 3

/* Row r of the tiny problem: a few features, some rows sharing them, row 4
 * touching a feature nobody else does (so its weight decays for long gaps). */
static const int32_t ridx[ROWS][4] = {{0, 2, 5, -1}, {1, 2, -1, -1}, {0, 3, 6, -1}, {2, 5, -1, -1}, {4, -1, -1, -1}, {0, 1, 3, 6}};
static const float rval[ROWS][4] = {{1.0f, -0.5f, 0.25f}, {0.8f, 1.2f}, {-1.0f, 0.3f, 0.7f}, {0.6f, -0.9f}, {2.0f}, {0.2f, 0.4f, -0.6f, 1.0f}};

static int row_nnz(int r) {
  int n = 0;
  while (n < 4 && ridx[r][n] >= 0) n++;
  return n;
}

/* Eager reference in double: every weight decays every step. */
static double ref_step(ht_model_type type, int k, double *w, double lr, double l2, int r, int32_t y, double t) {
  int nnz = row_nnz(r);
  double z[KMAX] = {0};
  for (int c = 0; c < k; c++) z[c] = w[D * k + c];
  for (int i = 0; i < nnz; i++)
    for (int c = 0; c < k; c++) z[c] += w[ridx[r][i] * k + c] * rval[r][i];
  double dz[KMAX] = {0}, loss = 0;
  switch (type) {
  case HT_MODEL_LOGISTIC: dz[0] = 1.0 / (1.0 + exp(-z[0])) - y; loss = log1p(exp(-(y ? 1 : -1) * z[0])); break;
  case HT_MODEL_SVM: {
    double s = y ? 1 : -1;
    dz[0] = s * z[0] < 1 ? -s : 0;
    loss = s * z[0] < 1 ? 1 - s * z[0] : 0;
    break;
  }
  case HT_MODEL_LINEAR: dz[0] = z[0] - t; loss = 0.5 * (z[0] - t) * (z[0] - t); break;
  case HT_MODEL_MLP: fail_msg("mlp is not a sparse model"); break;
  case HT_MODEL_SOFTMAX: {
    double mx = z[0], sum = 0;
    for (int c = 1; c < k; c++) mx = fmax(mx, z[c]);
    for (int c = 0; c < k; c++) sum += exp(z[c] - mx);
    for (int c = 0; c < k; c++) dz[c] = exp(z[c] - mx) / sum - (c == y);
    loss = log(sum) + mx - z[y];
  }
  }
  double g[(D + 1) * KMAX] = {0};
  for (int i = 0; i < nnz; i++)
    for (int c = 0; c < k; c++) g[ridx[r][i] * k + c] = dz[c] * rval[r][i];
  for (int j = 0; j < D * k; j++) w[j] = (1 - lr * l2) * w[j] - lr * g[j];
  for (int c = 0; c < k; c++) w[D * k + c] -= lr * dz[c];
  return loss;
}

static void against_reference(ht_model_type type, int num_classes) {
  const double l2 = 0.05;
  ht_sparse_model m;
  assert_int_equal(ht_sparse_model_create(&m, type, D, num_classes, l2), 0);
  const int k = m.k;
  ht_sched_opts so = {.kind = HT_SCHED_COSINE, .lr = 0.5, .warmup = 4, .min_lr = 0.05};
  ht_sched s;
  assert_int_equal(ht_sched_create(&s, &so, ROWS * EPOCHS), 0);
  ht_sparse_clock c;
  assert_int_equal(ht_sparse_clock_create(&c, ROWS), 0);
  /* Start from non-zero weights so the decay has something to act on. */
  double ref[(D + 1) * KMAX];
  float init[(D + 1) * KMAX];
  for (int j = 0; j < (D + 1) * k; j++) init[j] = (float)(0.3 * sin(1.7 * j + 0.4)), ref[j] = init[j];
  ht_sparse_model_set(&m, init);
  float scratch[4 * KMAX + 2 * KMAX];
  for (int e = 0; e < EPOCHS; e++) {
    assert_int_equal(ht_sparse_clock_fill(&c, &s, (int64_t)e * ROWS, ROWS, l2), 0);
    for (int t = 0; t < ROWS; t++) {
      int r = (t * 5 + e) % ROWS; /* a different order each epoch */
      int32_t y = num_classes ? (r * 7 + 1) % num_classes : 0;
      float tgt = num_classes ? 0 : (float)r * 0.3f - 0.5f;
      double want = ref_step(type, k, ref, ht_sched_lr(&s, (int64_t)e * ROWS + t), l2, r, y, tgt);
      double got = ht_sparse_step(&m, &c, t, ridx[r], rval[r], row_nnz(r), y, tgt, scratch);
      ht_assert_close(got, want, 1e-5, 1e-6);
      /* The lazy weights, brought to tick t + 1 by hand, equal the eager ones. */
      for (int j = 0; j <= D; j++) {
        int32_t st = j < D ? atomic_load(&m.stamp[j]) : t + 1;
        double f = exp(c.logdecay[t + 1] - c.logdecay[st]);
        for (int cl = 0; cl < k; cl++) {
          double wl = atomic_load(&m.w[j * k + cl]) * (j < D ? f : 1.0);
          if (fabs(wl - ref[j * k + cl]) > 1e-5 + 1e-5 * fabs(ref[j * k + cl]))
            fail_msg("%s epoch %d tick %d: w[%d,%d] = %.8g, reference %.8g", ht_enum_name(&ht_model_types, (int)type), e, t,
                     j, cl, wl, ref[j * k + cl]);
        }
      }
    }
    ht_sparse_catch_up(&m, &c);
    float out[(D + 1) * KMAX];
    ht_sparse_model_get(&m, out);
    for (int j = 0; j < (D + 1) * k; j++) ht_assert_close(out[j], ref[j], 1e-5, 1e-5);
    for (int j = 0; j < D; j++) assert_int_equal(atomic_load(&m.stamp[j]), 0);
  }
  ht_sparse_clock_destroy(&c);
  ht_sparse_model_destroy(&m);
}

static void logistic_reference(void **state) {
  (void)state;
  against_reference(HT_MODEL_LOGISTIC, 2);
}
static void svm_reference(void **state) {
  (void)state;
  against_reference(HT_MODEL_SVM, 2);
}
static void linear_reference(void **state) {
  (void)state;
  against_reference(HT_MODEL_LINEAR, 0);
}
static void softmax_reference(void **state) {
  (void)state;
  against_reference(HT_MODEL_SOFTMAX, 3);
}

/* The bias replica of a Hogwild worker (ht_sparse_step_replica,
 * ht_sparse_fold_bias) on one thread: the steps stay out of the shared bias
 * until a fold; folding after every step gives the in-place update bit for
 * bit, folding every 4 steps the same weights up to rounding. */
static void replica_run(ht_model_type type, int num_classes) {
  const double l2 = 0.05;
  ht_sparse_model m[3];
  for (int v = 0; v < 3; v++) assert_int_equal(ht_sparse_model_create(&m[v], type, D, num_classes, l2), 0);
  const int k = m[0].k;
  ht_sched_opts so = {.kind = HT_SCHED_COSINE, .lr = 0.5, .warmup = 4, .min_lr = 0.05};
  ht_sched s;
  assert_int_equal(ht_sched_create(&s, &so, ROWS * EPOCHS), 0);
  ht_sparse_clock c;
  assert_int_equal(ht_sparse_clock_create(&c, ROWS), 0);
  float init[(D + 1) * KMAX];
  for (int j = 0; j < (D + 1) * k; j++) init[j] = (float)(0.3 * sin(1.7 * j + 0.4));
  for (int v = 0; v < 3; v++) ht_sparse_model_set(&m[v], init);
  float scratch[4 * KMAX + 2 * KMAX], delta[2][KMAX] = {{0}};
  for (int e = 0; e < EPOCHS; e++) {
    assert_int_equal(ht_sparse_clock_fill(&c, &s, (int64_t)e * ROWS, ROWS, l2), 0);
    for (int t = 0; t < ROWS; t++) {
      int r = (t * 5 + e) % ROWS;
      int32_t y = num_classes ? (r * 7 + 1) % num_classes : 0;
      float tgt = num_classes ? 0 : (float)r * 0.3f - 0.5f;
      double want = ht_sparse_step(&m[0], &c, t, ridx[r], rval[r], row_nnz(r), y, tgt, scratch);
      float b_before[KMAX];
      for (int cl = 0; cl < k; cl++) b_before[cl] = atomic_load(&m[1].w[D * k + cl]);
      double got = ht_sparse_step_replica(&m[1], &c, t, ridx[r], rval[r], row_nnz(r), y, tgt, scratch, delta[0]);
      assert_true(got == want);
      int moved = 0;
      for (int cl = 0; cl < k; cl++) {
        assert_true(atomic_load(&m[1].w[D * k + cl]) == b_before[cl]); /* the shared bias waits for the fold */
        moved |= delta[0][cl] != 0.0f;
      }
      assert_true(moved);
      ht_sparse_fold_bias(&m[1], delta[0]);
      for (int cl = 0; cl < k; cl++) assert_true(delta[0][cl] == 0.0f);
      ht_sparse_step_replica(&m[2], &c, t, ridx[r], rval[r], row_nnz(r), y, tgt, scratch, delta[1]);
      if ((t + 1) % 4 == 0) ht_sparse_fold_bias(&m[2], delta[1]);
    }
    ht_sparse_fold_bias(&m[2], delta[1]);
    for (int v = 0; v < 3; v++) ht_sparse_catch_up(&m[v], &c);
    float w0[(D + 1) * KMAX], w1[(D + 1) * KMAX], w2[(D + 1) * KMAX];
    ht_sparse_model_get(&m[0], w0);
    ht_sparse_model_get(&m[1], w1);
    ht_sparse_model_get(&m[2], w2);
    assert_memory_equal(w0, w1, sizeof(float) * (size_t)((D + 1) * k));
    for (int j = 0; j < (D + 1) * k; j++) ht_assert_close(w2[j], w0[j], 1e-5, 1e-5);
  }
  ht_sparse_clock_destroy(&c);
  for (int v = 0; v < 3; v++) ht_sparse_model_destroy(&m[v]);
}

static void bias_replica(void **state) {
  (void)state;
  replica_run(HT_MODEL_LOGISTIC, 2);
  replica_run(HT_MODEL_LINEAR, 0);
  replica_run(HT_MODEL_SOFTMAX, 3);
}

/* The hot-feature replica of a Hogwild worker (ht_sparse_hot_create,
 * ht_sparse_step_hot, ht_sparse_fold_hot; binary logistic, l2 = 0) on one
 * thread: the frequent features are picked, their steps stay out of the
 * shared weights until a fold, folding after every step gives the plain
 * update bit for bit, folding every 4 steps the same weights up to
 * rounding. */
static void hot_replica(void **state) {
  (void)state;
  int64_t indptr[ROWS + 1] = {0};
  int32_t indices[ROWS * 4];
  for (int r = 0; r < ROWS; r++) {
    indptr[r + 1] = indptr[r] + row_nnz(r);
    memcpy(indices + indptr[r], ridx[r], sizeof(int32_t) * (size_t)row_nnz(r));
  }
  /* Features 0 and 2 are in 3 rows of 6, the others in 2 or fewer. */
  ht_sparse_hot hot;
  assert_int_equal(ht_sparse_hot_create(&hot, D, indptr, indices, ROWS, 0.5, 100), 0);
  assert_int_equal(hot.count, 2);
  int seen[D] = {0};
  for (int s = 0; s < hot.n; s++)
    if (hot.tag[s] >= 0) seen[hot.tag[s]] = 1;
  for (int j = 0; j < D; j++) assert_int_equal(seen[j], j == 0 || j == 2);
  ht_sparse_hot none;
  assert_int_equal(ht_sparse_hot_create(&none, D, indptr, indices, ROWS, 0.5, 1), 0); /* the cap: neither of the two */
  assert_int_equal(none.count, 0);
  ht_sparse_hot_destroy(&none);

  ht_sparse_model m[3];
  for (int v = 0; v < 3; v++) assert_int_equal(ht_sparse_model_create(&m[v], HT_MODEL_LOGISTIC, D, 2, 0), 0);
  ht_sched_opts so = {.kind = HT_SCHED_COSINE, .lr = 0.5, .warmup = 4, .min_lr = 0.05};
  ht_sched s;
  assert_int_equal(ht_sched_create(&s, &so, ROWS * EPOCHS), 0);
  ht_sparse_clock c;
  assert_int_equal(ht_sparse_clock_create(&c, ROWS), 0);
  float init[D + 1];
  for (int j = 0; j < D + 1; j++) init[j] = (float)(0.3 * sin(1.7 * j + 0.4));
  for (int v = 0; v < 3; v++) ht_sparse_model_set(&m[v], init);
  _Atomic float *rep[2];
  for (int v = 0; v < 2; v++) {
    rep[v] = malloc(sizeof(_Atomic float) * (size_t)(hot.n + 1));
    for (int i = 0; i <= hot.n; i++) atomic_init(&rep[v][i], 0.0f);
  }
  float scratch[2 * 4 + 2], delta[3] = {0};
  for (int e = 0; e < EPOCHS; e++) {
    assert_int_equal(ht_sparse_clock_fill(&c, &s, (int64_t)e * ROWS, ROWS, 0), 0);
    for (int t = 0; t < ROWS; t++) {
      int r = (t * 5 + e) % ROWS;
      int32_t y = (r * 7 + 1) % 2;
      double want = ht_sparse_step_replica(&m[0], &c, t, ridx[r], rval[r], row_nnz(r), y, 0, scratch, &delta[0]);
      float w_before[D + 1];
      ht_sparse_model_get(&m[1], w_before);
      double got = ht_sparse_step_hot(&m[1], &c, t, ridx[r], rval[r], row_nnz(r), y, 0, scratch, &delta[1], &hot, rep[0]);
      assert_true(got == want);
      /* The hot features wait for the fold, the others are stored. */
      for (int i = 0; i < row_nnz(r); i++) {
        int j = ridx[r][i];
        float now = atomic_load(&m[1].w[j]);
        if (j == 0 || j == 2)
          assert_true(now == w_before[j]);
        else
          assert_true(now != w_before[j]);
      }
      assert_true(atomic_load(&rep[0][hot.n]) == 0.0f); /* the spare slot stays zero */
      ht_sparse_fold_hot(&m[1], &hot, rep[0]);
      ht_sparse_fold_bias(&m[1], &delta[1]);
      ht_sparse_fold_bias(&m[0], &delta[0]);
      for (int i = 0; i < hot.n; i++) assert_true(atomic_load(&rep[0][i]) == 0.0f);
      ht_sparse_step_hot(&m[2], &c, t, ridx[r], rval[r], row_nnz(r), y, 0, scratch, &delta[2], &hot, rep[1]);
      if ((t + 1) % 4 == 0) {
        ht_sparse_fold_hot(&m[2], &hot, rep[1]);
        ht_sparse_fold_bias(&m[2], &delta[2]);
      }
    }
    ht_sparse_fold_hot(&m[2], &hot, rep[1]);
    ht_sparse_fold_bias(&m[2], &delta[2]);
    float w0[D + 1], w1[D + 1], w2[D + 1];
    ht_sparse_model_get(&m[0], w0);
    ht_sparse_model_get(&m[1], w1);
    ht_sparse_model_get(&m[2], w2);
    assert_memory_equal(w0, w1, sizeof w0);
    for (int j = 0; j < D + 1; j++) ht_assert_close(w2[j], w0[j], 1e-5, 1e-5);
  }
  for (int v = 0; v < 2; v++) free((void *)rep[v]);
  ht_sparse_hot_destroy(&hot);
  ht_sparse_clock_destroy(&c);
  for (int v = 0; v < 3; v++) ht_sparse_model_destroy(&m[v]);
}

static void sparse_errors(void **state) {
  (void)state;
  ht_sparse_model m;
  ht_error_clear();
  assert_int_equal(ht_sparse_model_create(&m, HT_MODEL_LOGISTIC, 10, 5, 0), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "binary model"));
  ht_error_clear();
  assert_int_equal(ht_sparse_model_create(&m, HT_MODEL_LINEAR, 10, 3, 0), HT_ECONFIG);
  ht_error_clear();
  assert_int_equal(ht_sparse_model_create(&m, HT_MODEL_MLP, 10, 3, 0), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "mlp is not a sparse linear model"));
  ht_sparse_clock c;
  assert_int_equal(ht_sparse_clock_create(&c, 4), 0);
  ht_sched_opts so = {.kind = HT_SCHED_CONSTANT, .lr = 2.0};
  ht_sched s;
  assert_int_equal(ht_sched_create(&s, &so, 4), 0);
  ht_error_clear();
  assert_int_equal(ht_sparse_clock_fill(&c, &s, 0, 4, 0.5), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "model.l2"));
  ht_sparse_clock_destroy(&c);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(logistic_gradcheck), cmocka_unit_test(svm_gradcheck),      cmocka_unit_test(linear_gradcheck),
    cmocka_unit_test(softmax_gradcheck),  cmocka_unit_test(gradcheck_detects_errors), cmocka_unit_test(logistic_reference),
    cmocka_unit_test(svm_reference),      cmocka_unit_test(linear_reference),   cmocka_unit_test(softmax_reference),
    cmocka_unit_test(sparse_errors),      cmocka_unit_test(bias_replica),       cmocka_unit_test(hot_replica),
};

HT_TEST_MAIN("sparse", tests)
