/*
 * Optimizer and schedule tests. Each optimizer runs a few steps on a
 * 3-element vector and is compared with (a) literals worked out by hand from
 * the formulas in optim.h (derivations in the comments) and (b) a
 * double-precision reference loop written here. Tolerance: the float code
 * against exact values, |diff| <= 2e-6 on values of order 1.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/bf16.h"
#include "hytrain/error.h"
#include "hytrain/optim.h"
#include "hytrain/rng.h"

/* The constructors with the options spelled out; an unknown name becomes
 * the out-of-table value 99, which only code (never a config) can pass. */
static int optim_create(ht_optim *o, const char *name, double momentum, int nesterov, double weight_decay,
                        double beta1, double beta2, double eps, size_t n) {
  int kind = ht_enum_parse(&ht_optimizers, name);
  ht_optim_opts oo = {.kind = (ht_optim_kind)(kind < 0 ? 99 : kind), .momentum = momentum, .nesterov = nesterov,
                      .weight_decay = weight_decay, .beta1 = beta1, .beta2 = beta2, .eps = eps};
  return ht_optim_create(o, &oo, n);
}

static int sched_create(ht_sched *s, const char *name, double lr, int64_t warmup, int64_t step_every, double gamma,
                        double min_lr, int64_t total) {
  int kind = ht_enum_parse(&ht_schedules, name);
  ht_sched_opts so = {.kind = (ht_sched_kind)(kind < 0 ? 99 : kind), .lr = lr, .warmup = warmup,
                      .step_every = step_every, .gamma = gamma, .min_lr = min_lr};
  return ht_sched_create(s, &so, total);
}

#define OPT_ATOL 2e-6

static const float P0[3] = {1.0f, -2.0f, 0.5f};
static const float G[3] = {0.1f, 0.2f, -0.3f};

/* Double reference: `steps` steps with gradient G * scale[s]; SGD per optim.h. */
static void ref_sgd(double *p, int n, int steps, const double *scale, double lr, double mu, int nesterov, double wd,
                    const float *g) {
  double v[64] = {0};
  for (int s = 0; s < steps; s++)
    for (int i = 0; i < n; i++) {
      double gi = g[i] * scale[s] + wd * p[i];
      v[i] = mu * v[i] + gi;
      p[i] -= lr * (mu == 0 ? gi : nesterov ? gi + mu * v[i] : v[i]);
    }
}

static void ref_adamw(double *p, int n, int steps, const double *scale, double lr, double b1, double b2, double eps,
                      double wd, const float *g) {
  double m[64] = {0}, v[64] = {0};
  for (int s = 0; s < steps; s++) {
    int t = s + 1;
    for (int i = 0; i < n; i++) {
      double gi = g[i] * scale[s];
      p[i] -= lr * wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= lr * (m[i] / (1 - pow(b1, t))) / (sqrt(v[i] / (1 - pow(b2, t))) + eps);
    }
  }
}

/* Runs `steps` full-vector updates of the 3-element problem and checks both references. */
static void run_sgd(double mu, int nesterov, double wd, const double want[3]) {
  ht_optim o;
  assert_int_equal(optim_create(&o, "sgd", mu, nesterov, wd, 0.9, 0.999, 1e-8, 3), 0);
  float p[3], g[3];
  memcpy(p, P0, sizeof p);
  const double scale[3] = {1, 1, 1};
  for (int s = 0; s < 3; s++) {
    ht_optim_begin_step(&o);
    for (int i = 0; i < 3; i++) g[i] = G[i];
    ht_optim_update(&o, p, g, 0, 3, 0.1);
  }
  double ref[3] = {P0[0], P0[1], P0[2]};
  ref_sgd(ref, 3, 3, scale, 0.1, mu, nesterov, wd, G);
  for (int i = 0; i < 3; i++) {
    ht_assert_close(p[i], want[i], 0, OPT_ATOL);
    ht_assert_close(ref[i], want[i], 0, 1e-7); /* G is float: 0.1f != 0.1 */
  }
  ht_optim_destroy(&o);
}

static void sgd_plain(void **state) {
  /* p - 3 * 0.1 * g */
  const double want[3] = {0.97, -2.06, 0.59};
  run_sgd(0, 0, 0, want);
}

static void sgd_momentum(void **state) {
  /* v1 = g, v2 = 1.9 g, v3 = 2.71 g: p - 0.1 * 5.61 g */
  const double want[3] = {0.9439, -2.1122, 0.6683};
  run_sgd(0.9, 0, 0, want);
}

static void sgd_nesterov(void **state) {
  /* steps use g + 0.9 v: 1.9 g, 2.71 g, 3.439 g: p - 0.1 * 8.049 g */
  const double want[3] = {0.91951, -2.16098, 0.74147};
  run_sgd(0.9, 1, 0, want);
}

static void sgd_weight_decay(void **state) {
  /* lr 0.1, wd 0.2: p' = p - 0.1 (g + 0.2 p) = 0.98 p - 0.1 g, three times:
   * 0.941192 p - 0.1 (1 + 0.98 + 0.9604) g = 0.941192 p - 0.29404 g */
  const double want[3] = {0.911788, -1.941192, 0.558808};
  run_sgd(0, 0, 0.2, want);
}

static void sgd_nesterov_weight_decay(void **state) {
  /* mu 0.9, wd 0.05, element 0 by hand: g' = 0.15, v = 0.15, p = 1 - 0.1 * 0.285 = 0.9715;
   * g' = 0.148575, v = 0.283575, p = 0.93112075; g' = 0.1465560375, v = 0.4017735375,
   * p = 0.880305527875. Elements 1 and 2 the same way. */
  const double want[3] = {0.8803055279, -2.0797963148, 0.7194398656};
  run_sgd(0.9, 1, 0.05, want);
}

static void adamw_steps(void **state) {
  /* lr 0.01, wd 0.1, b1 0.9, b2 0.999, eps 1e-8; gradients g, 2g, -g.
   * Step 1, element 0: p = 1 * (1 - 0.001) = 0.999; m^ = 0.1, v^ = 0.01:
   *   p = 0.999 - 0.01 * 0.1 / (0.1 + 1e-8) = 0.9890000010.
   * Step 2: p = 0.98801100099 after decay; m = 0.029, m^ = 0.029 / 0.19 = 0.15263158;
   *   v = 4.999e-5, v^ = 4.999e-5 / 0.001999 = 0.02500750; p = 0.9783591814. */
  const double want[3][3] = {{0.9890000010, -2.0079999995, 0.5094999997},
                             {0.9783591814, -2.0156438195, 0.5186423197},
                             {0.9731799294, -2.0178290685, 0.5223245703}};
  const double scale[3] = {1, 2, -1};
  ht_optim o;
  assert_int_equal(optim_create(&o, "adamw", 0, 0, 0.1, 0.9, 0.999, 1e-8, 3), 0);
  float p[3], g[3];
  memcpy(p, P0, sizeof p);
  for (int s = 0; s < 3; s++) {
    ht_optim_begin_step(&o);
    assert_int_equal(o.t, s + 1);
    for (int i = 0; i < 3; i++) g[i] = (float)(G[i] * scale[s]);
    ht_optim_update(&o, p, g, 0, 3, 0.01);
    double ref[3] = {P0[0], P0[1], P0[2]};
    ref_adamw(ref, 3, s + 1, scale, 0.01, 0.9, 0.999, 1e-8, 0.1, G);
    for (int i = 0; i < 3; i++) {
      ht_assert_close(p[i], want[s][i], 0, OPT_ATOL);
      ht_assert_close(ref[i], want[s][i], 0, 1e-7);
    }
  }
  ht_optim_destroy(&o);
}

/* Twenty steps with random gradients against double loops, for SGD plain,
 * momentum, Nesterov (all with weight decay) and AdamW. */
static void optim_reference_loops(void **state) {
  enum { N = 40, STEPS = 20 };
  const double lr = 0.05, wd = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8;
  ht_rng r;
  ht_rng_seed(&r, 8);
  float g[STEPS][N], p0[N];
  for (int i = 0; i < N; i++) p0[i] = (float)(2 * ht_rng_uniform(&r) - 1);
  for (int s = 0; s < STEPS; s++)
    for (int i = 0; i < N; i++) g[s][i] = (float)(2 * ht_rng_uniform(&r) - 1);
  for (int kind = 0; kind < 4; kind++) {
    int adam = kind == 3, nesterov = kind == 2;
    double mu = kind == 0 || adam ? 0 : 0.8;
    ht_optim o;
    assert_int_equal(optim_create(&o, adam ? "adamw" : "sgd", mu, nesterov, wd, b1, b2, eps, N), 0);
    float p[N];
    double ref[N], m[N] = {0}, v[N] = {0};
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < N; i++) ref[i] = p0[i];
    for (int s = 0; s < STEPS; s++) {
      ht_optim_begin_step(&o);
      ht_optim_update(&o, p, g[s], 0, N, lr);
      for (int i = 0; i < N; i++) {
        double gi = g[s][i];
        if (adam) {
          ref[i] -= lr * wd * ref[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          ref[i] -= lr * (m[i] / (1 - pow(b1, s + 1))) / (sqrt(v[i] / (1 - pow(b2, s + 1))) + eps);
        } else {
          gi += wd * ref[i];
          m[i] = mu * m[i] + gi;
          ref[i] -= lr * (mu == 0 ? gi : nesterov ? gi + mu * m[i] : m[i]);
        }
      }
    }
    for (int i = 0; i < N; i++) ht_assert_close(p[i], ref[i], 0, 1e-5);
    ht_optim_destroy(&o);
  }
}

/* An update on [lo, hi) touches only that slice of params and state. */
static void update_slice_only(void **state) {
  const char *names[2] = {"sgd", "adamw"};
  for (int k = 0; k < 2; k++) {
    ht_optim o;
    /* wd 0.05: with 0.1, g[1] + wd * p[1] would be exactly 0 for SGD. */
    assert_int_equal(optim_create(&o, names[k], 0.9, 0, 0.05, 0.9, 0.999, 1e-8, 3), 0);
    float p[3], g[3];
    memcpy(p, P0, sizeof p);
    memcpy(g, G, sizeof g);
    ht_optim_begin_step(&o);
    ht_optim_update(&o, p, g, 1, 2, 0.1);
    assert_memory_equal(&p[0], &P0[0], sizeof(float));
    assert_memory_equal(&p[2], &P0[2], sizeof(float));
    assert_true(p[1] != P0[1]);
    assert_true(o.m[0] == 0 && o.m[2] == 0 && o.m[1] != 0);
    if (o.v) assert_true(o.v[0] == 0 && o.v[2] == 0 && o.v[1] != 0);
    /* The other slices later give the same result as one full update. */
    ht_optim_update(&o, p, g, 0, 1, 0.1);
    ht_optim_update(&o, p, g, 2, 3, 0.1);
    ht_optim full;
    float q[3];
    memcpy(q, P0, sizeof q);
    assert_int_equal(optim_create(&full, names[k], 0.9, 0, 0.05, 0.9, 0.999, 1e-8, 3), 0);
    ht_optim_begin_step(&full);
    ht_optim_update(&full, q, g, 0, 3, 0.1);
    assert_memory_equal(p, q, sizeof p);
    ht_optim_destroy(&full);
    ht_optim_destroy(&o);
  }
}

/* The OpenMP path (>= 16384 elements) with 2 threads: same result as 1 thread, bit for bit. */
static void update_threads_bitwise(void **state) {
  enum { N = 50000 };
  float *p1 = malloc(N * sizeof *p1), *p2 = malloc(N * sizeof *p2), *g = malloc(N * sizeof *g);
  ht_rng r;
  ht_rng_seed(&r, 9);
  for (int i = 0; i < N; i++) g[i] = (float)(ht_rng_uniform(&r) - 0.5);
  const char *names[2] = {"sgd", "adamw"};
  for (int k = 0; k < 2; k++) {
    float *ps[2] = {p1, p2};
    for (int run = 0; run < 2; run++) {
      omp_set_num_threads(run + 1);
      for (int i = 0; i < N; i++) ps[run][i] = (float)i / N;
      ht_optim o;
      assert_int_equal(optim_create(&o, names[k], 0.9, 1, 0.01, 0.9, 0.999, 1e-8, N), 0);
      for (int s = 0; s < 3; s++) {
        ht_optim_begin_step(&o);
        ht_optim_update(&o, ps[run], g, 0, N, 0.01);
      }
      ht_optim_destroy(&o);
    }
    assert_memory_equal(p1, p2, N * sizeof *p1);
  }
  omp_set_num_threads(1);
  free(p1), free(p2), free(g);
}

/* The update that also writes the bf16 copy (ht_optim_update_bf16): the
 * parameters and state are bit for bit those of ht_optim_update_scaled, the
 * copy holds ht_bf16_bits of every new parameter (a NaN one included) and
 * nothing outside [lo, hi); for every kind and SGD variant, 1 and 2 threads,
 * on an odd slice so the vector loops have tails at both ends. The SGD
 * parameters also equal a scalar loop of the formula written here, bit for
 * bit: the multi-versioned (vectorised) loop is the same IEEE arithmetic. */
static void update_bf16_copy(void **state) {
  enum { N = 40009, LO = 3, HI = 40001 };
  struct {
    const char *name;
    double mu, wd;
    int nesterov;
  } kinds[] = {{"sgd", 0, 0.01, 0}, {"sgd", 0.9, 0, 0}, {"sgd", 0.9, 0.01, 1}, {"adamw", 0, 0.01, 0}};
  float *g = malloc(N * sizeof *g), *pa = malloc(N * sizeof *pa), *pb = malloc(N * sizeof *pb);
  float *ref = malloc(N * sizeof *ref), *vref = calloc(N, sizeof *vref);
  uint16_t *q = malloc(N * sizeof *q);
  ht_rng r;
  ht_rng_seed(&r, 5);
  for (int i = 0; i < N; i++) g[i] = (float)(ht_rng_uniform(&r) - 0.5);
  g[LO + 17] = NAN;
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    for (int k = 0; k < 4; k++) {
      ht_optim a, b;
      assert_int_equal(optim_create(&a, kinds[k].name, kinds[k].mu, kinds[k].nesterov, kinds[k].wd, 0.9, 0.999, 1e-8, N), 0);
      assert_int_equal(optim_create(&b, kinds[k].name, kinds[k].mu, kinds[k].nesterov, kinds[k].wd, 0.9, 0.999, 1e-8, N), 0);
      for (int i = 0; i < N; i++) pa[i] = pb[i] = ref[i] = (float)i / N - 0.25f;
      memset(vref, 0, N * sizeof *vref);
      float lr = 0.01f, gs = 0.5f, mu = (float)kinds[k].mu, wd = (float)kinds[k].wd;
      for (int s = 0; s < 3; s++) {
        for (int i = 0; i < N; i++) q[i] = 0xabcd;
        ht_optim_begin_step(&a);
        ht_optim_begin_step(&b);
        ht_optim_update_scaled(&a, pa, g, LO, HI, lr, gs);
        ht_optim_update_bf16(&b, pb, g, LO, HI, lr, gs, q + LO);
        assert_memory_equal(pa, pb, N * sizeof *pa);
        assert_memory_equal(a.m ? a.m : pa, b.m ? b.m : pb, N * sizeof *pa);
        if (a.v) assert_memory_equal(a.v, b.v, N * sizeof *pa);
        for (int i = 0; i < N; i++) {
          uint16_t want = i >= LO && i < HI ? ht_bf16_bits(pb[i]) : 0xabcd;
          if (q[i] != want) fail_msg("%s k=%d step %d: q[%d] = 0x%04x, expected 0x%04x", kinds[k].name, k, s, i, q[i], want);
        }
        assert_true(isnan(pb[LO + 17]));
        if (kinds[k].name[0] != 's') continue;
        for (int i = LO; i < HI; i++) {
          float gi = g[i] * gs + wd * ref[i], step = gi;
          if (mu != 0.0f) {
            vref[i] = mu * vref[i] + gi;
            step = kinds[k].nesterov ? gi + mu * vref[i] : vref[i];
          }
          ref[i] = ref[i] - lr * step;
        }
        assert_memory_equal(ref, pb, N * sizeof *pb);
      }
      ht_optim_destroy(&a);
      ht_optim_destroy(&b);
    }
  }
  omp_set_num_threads(1);
  free(g), free(pa), free(pb), free(ref), free(vref), free(q);
}

/* ht_optim_update_check: with check, 1 exactly when some g[i] in [lo, hi)
 * is NaN or infinite (one at either end of the slice, one in the part of the
 * second thread only, one just outside the slice: not seen), 0 otherwise and
 * without check; the parameters, state and bf16 copy are bit for bit those
 * of ht_optim_update_bf16; every kind, 1 and 2 threads. */
static void update_check(void **state) {
  enum { N = 40009, LO = 3, HI = 40001 };
  const char *kinds[] = {"sgd", "adamw"};
  int bad_at[] = {-1, LO, HI - 1, HI - 20, HI, LO - 1};
  float *g = malloc(N * sizeof *g), *pa = malloc(N * sizeof *pa), *pb = malloc(N * sizeof *pb);
  uint16_t *qa = malloc(N * sizeof *qa), *qb = malloc(N * sizeof *qb);
  ht_rng r;
  ht_rng_seed(&r, 9);
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    for (int k = 0; k < 2; k++)
      for (int c = 0; c < (int)(sizeof bad_at / sizeof *bad_at); c++) {
        for (int i = 0; i < N; i++) g[i] = (float)(ht_rng_uniform(&r) - 0.5);
        if (bad_at[c] >= 0) g[bad_at[c]] = c % 2 ? INFINITY : -NAN;
        int inside = bad_at[c] >= LO && bad_at[c] < HI;
        ht_optim a, b;
        assert_int_equal(optim_create(&a, kinds[k], 0.9, 0, 0.01, 0.9, 0.999, 1e-8, N), 0);
        assert_int_equal(optim_create(&b, kinds[k], 0.9, 0, 0.01, 0.9, 0.999, 1e-8, N), 0);
        for (int i = 0; i < N; i++) pa[i] = pb[i] = (float)i / N - 0.25f;
        for (int s = 0; s < 2; s++) {
          ht_optim_begin_step(&a);
          ht_optim_begin_step(&b);
          ht_optim_update_bf16(&a, pa, g, LO, HI, 0.01, 0.5f, qa + LO);
          int got = ht_optim_update_check(&b, pb, g, LO, HI, 0.01, 0.5f, qb + LO, 1);
          if (got != inside) fail_msg("%s, %d threads, bad at %d: check gave %d", kinds[k], threads, bad_at[c], got);
          assert_int_equal(ht_optim_update_check(&b, pb, g, HI, HI, 0.01, 0.5f, NULL, 1), 0);
          assert_memory_equal(pa + LO, pb + LO, (HI - LO) * sizeof *pa);
          assert_memory_equal(qa + LO, qb + LO, (HI - LO) * sizeof *qa);
          assert_memory_equal(a.m, b.m, N * sizeof *pa);
          if (a.v) assert_memory_equal(a.v, b.v, N * sizeof *pa);
        }
        ht_optim_begin_step(&b);
        assert_int_equal(ht_optim_update_check(&b, pb, g, LO, HI, 0.01, 0.5f, NULL, 0), 0);
        ht_optim_destroy(&a);
        ht_optim_destroy(&b);
      }
  }
  omp_set_num_threads(1);
  free(g), free(pa), free(pb), free(qa), free(qb);
}

static void expect_optim_error(const char *name, double mu, int nesterov, double wd, double b1, double eps,
                               const char *message) {
  ht_optim o;
  ht_error_clear();
  assert_int_equal(optim_create(&o, name, mu, nesterov, wd, b1, 0.999, eps, 3), HT_ECONFIG);
  if (!strstr(ht_error_message(), message)) fail_msg("message '%s' lacks '%s'", ht_error_message(), message);
  assert_null(o.m);
}

static void optim_errors(void **state) {
  expect_optim_error("adam", 0, 0, 0, 0.9, 1e-8, "optimizer.name: value 99 is not one of sgd|adamw");
  expect_optim_error("sgd", 1.0, 0, 0, 0.9, 1e-8, "optimizer.momentum");
  expect_optim_error("sgd", 0, 1, 0, 0.9, 1e-8, "optimizer.nesterov");
  expect_optim_error("sgd", 0, 0, -1, 0.9, 1e-8, "optimizer.weight_decay");
  expect_optim_error("adamw", 0, 0, 0, 1.0, 1e-8, "optimizer.beta1");
  expect_optim_error("adamw", 0, 0, 0, 0.9, 0, "optimizer.eps");
  /* Plain SGD keeps no state. */
  ht_optim o;
  assert_int_equal(optim_create(&o, "sgd", 0, 0, 0, 0.9, 0.999, 1e-8, 3), 0);
  assert_null(o.m);
  assert_null(o.v);
  ht_optim_destroy(&o);
}

/* ---- schedules -------------------------------------------------------- */

static ht_sched sched(const char *name, double lr, int64_t warmup, int64_t every, double gamma, double min_lr,
                      int64_t total) {
  ht_sched s;
  ht_error_clear();
  int rc = sched_create(&s, name, lr, warmup, every, gamma, min_lr, total);
  if (rc != 0) fail_msg("ht_sched_create(%s): %s", name, ht_error_message());
  return s;
}

static void sched_constant_warmup(void **state) {
  ht_sched s = sched("constant", 0.1, 4, 0, 0, 0, 0);
  /* lr * (step + 1) / 4 during warmup */
  ht_assert_close(ht_sched_lr(&s, 0), 0.025, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 1), 0.05, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 3), 0.1, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 4), 0.1, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 100000), 0.1, 1e-12, 0);
  s = sched("constant", 0.1, 0, 0, 0, 0, 0);
  ht_assert_close(ht_sched_lr(&s, 0), 0.1, 1e-12, 0);
}

static void sched_step_boundaries(void **state) {
  /* warmup 2, then x0.5 every 3 steps: steps 2-4 -> 0.1, 5-7 -> 0.05, 8 -> 0.025 */
  ht_sched s = sched("step", 0.1, 2, 3, 0.5, 0, 0);
  ht_assert_close(ht_sched_lr(&s, 0), 0.05, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 1), 0.1, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 2), 0.1, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 4), 0.1, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 5), 0.05, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 7), 0.05, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 8), 0.025, 1e-12, 0);
  ht_assert_close(ht_sched_lr(&s, 11), 0.0125, 1e-12, 0);
}

static void sched_cosine(void **state) {
  /* lr 0.1 -> min 0.01 over steps 10..110 after 10 warmup steps. */
  ht_sched s = sched("cosine", 0.1, 10, 0, 0, 0.01, 110);
  ht_assert_close(ht_sched_lr(&s, 0), 0.01, 1e-12, 0);   /* warmup 0.1 * 1/10 */
  ht_assert_close(ht_sched_lr(&s, 9), 0.1, 1e-12, 0);    /* warmup end */
  ht_assert_close(ht_sched_lr(&s, 10), 0.1, 1e-12, 0);   /* start: cos 0 = 1 */
  ht_assert_close(ht_sched_lr(&s, 35), 0.0868198052, 1e-9, 0); /* 0.01 + 0.045 (1 + cos(pi/4)) */
  ht_assert_close(ht_sched_lr(&s, 60), 0.055, 1e-12, 0); /* middle: cos(pi/2) = 0 */
  ht_assert_close(ht_sched_lr(&s, 110), 0.01, 1e-12, 0); /* end: cos(pi) = -1 */
  ht_assert_close(ht_sched_lr(&s, 500), 0.01, 1e-12, 0); /* clamped after the end */
  /* A run no longer than its warmup goes to min_lr after the warmup. */
  s = sched("cosine", 0.1, 10, 0, 0, 0.02, 5);
  ht_assert_close(ht_sched_lr(&s, 12), 0.02, 1e-12, 0);
}

static void sched_errors(void **state) {
  ht_sched s;
  ht_error_clear();
  assert_int_equal(sched_create(&s, "linear", 0.1, 0, 1, 0.5, 0, 10), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "schedule.name: value 99 is not one of constant|step|cosine"));
  ht_error_clear();
  assert_int_equal(sched_create(&s, "step", 0.1, 0, 0, 0.5, 0, 10), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "schedule.step_every"));
  ht_error_clear();
  assert_int_equal(sched_create(&s, "cosine", 0.1, 0, 0, 0.5, 0.2, 10), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "schedule.min_lr"));
  ht_error_clear();
  assert_int_equal(sched_create(&s, "constant", 0.1, -1, 0, 0.5, 0, 10), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "schedule.warmup_steps"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(sgd_plain),
    cmocka_unit_test(sgd_momentum),
    cmocka_unit_test(sgd_nesterov),
    cmocka_unit_test(sgd_weight_decay),
    cmocka_unit_test(sgd_nesterov_weight_decay),
    cmocka_unit_test(adamw_steps),
    cmocka_unit_test(optim_reference_loops),
    cmocka_unit_test(update_slice_only),
    cmocka_unit_test(update_threads_bitwise),
    cmocka_unit_test(update_bf16_copy),
    cmocka_unit_test(update_check),
    cmocka_unit_test(optim_errors),
    cmocka_unit_test(sched_constant_warmup),
    cmocka_unit_test(sched_step_boundaries),
    cmocka_unit_test(sched_cosine),
    cmocka_unit_test(sched_errors),
};

HT_TEST_MAIN("optim", tests)
