/*
 * The GEMM backend (hytrain/gemm.h): bf16 rounding, oneDNN against OpenBLAS
 * in fp32, bf16 against its emulation and against fp32 within the bound of
 * bf16 rounding, determinism of repeated runs, and whole-model steps.
 *
 * Reference for every product: a double-precision loop written here.
 * Tolerances, per element of C = A . B (K terms):
 *   fp32:  |c - ref| <= 1e-5 * sum_k |a_k b_k| + 1e-30 (float rounding of a
 *          K-term sum is below K * 2^-24 of that sum; K <= 300 here)
 *   bf16:  |c - ref| <= 2^-7 * sum_k |a_k b_k| (each input carries at most
 *          2^-9 relative rounding, so each product at most ~2^-8, plus the
 *          fp32 sum's own rounding)
 * A product that ignored bf16 (plain fp32) would pass the bf16 bound but fail
 * bf16_matches_emulation, which asserts the inputs really were rounded.
 * Shape legend: B rows, I in, O out (dense layer); x [B,I] w [O,I] y [B,O].
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/error.h"
#include "hytrain/gemm.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/rng.h"

static float bits_to_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ---- bf16 rounding -------------------------------------------------- */

static void bf16_rounding(void **state) {
  static const struct {
    uint32_t in;
    uint16_t out;
  } cases[] = {
      {0x3f800000u, 0x3f80}, /* 1.0 exact */
      {0x3f808000u, 0x3f80}, /* 1 + 2^-8: a tie, rounds to the even 0x3f80 */
      {0x3f818000u, 0x3f82}, /* tie between 0x3f81 and 0x3f82: to even, up */
      {0x3f808001u, 0x3f81}, /* just above the tie: up */
      {0x3f807fffu, 0x3f80}, /* just below the tie: down */
      {0xbf808001u, 0xbf81}, /* negative: magnitude rounds the same way */
      {0x7f7fffffu, 0x7f80}, /* FLT_MAX rounds to +Inf */
      {0x7f800000u, 0x7f80}, /* +Inf stays */
      {0xff800000u, 0xff80}, /* -Inf stays */
      {0x00000001u, 0x0000}, /* the smallest subnormal rounds to 0 */
      {0x80000000u, 0x8000}, /* -0 keeps its sign */
  };
  int n = (int)(sizeof cases / sizeof *cases);
  for (int i = 0; i < n; i++) {
    float f = bits_to_f32(cases[i].in);
    unsigned short got;
    ht_bf16_from_f32(&got, &f, 1);
    if (got != cases[i].out) fail_msg("bf16 of 0x%08x: got 0x%04x, expected 0x%04x", cases[i].in, got, cases[i].out);
    float r;
    ht_bf16_round_f32(&r, &f, 1);
    uint32_t rb;
    memcpy(&rb, &r, sizeof rb);
    if (rb != (uint32_t)cases[i].out << 16) fail_msg("rounded float of 0x%08x: 0x%08x", cases[i].in, rb);
  }
  /* NaN stays NaN (a naive rounding bias would carry 0x7fffffff into -0 / Inf). */
  float nan_in[2] = {bits_to_f32(0x7fffffffu), bits_to_f32(0x7f800001u)};
  unsigned short nb[2];
  ht_bf16_from_f32(nb, nan_in, 2);
  for (int i = 0; i < 2; i++) assert_true(isnan(bits_to_f32((uint32_t)nb[i] << 16)));
}

/* ---- one dense layer, backend against a double reference ------------- */

typedef struct layer_case {
  int B, I, O;
  float *x, *w, *b, *dy;
} layer_case;

static void fill(ht_rng *r, float *p, long n) {
  for (long i = 0; i < n; i++) p[i] = (float)(ht_rng_uniform(r) * 2 - 1);
}

static layer_case make_case(int B, int I, int O, uint64_t seed) {
  layer_case c = {B, I, O, malloc(sizeof(float) * B * I), malloc(sizeof(float) * O * I), malloc(sizeof(float) * O),
                  malloc(sizeof(float) * B * O)};
  ht_rng r;
  ht_rng_seed(&r, seed);
  fill(&r, c.x, (long)B * I);
  fill(&r, c.w, (long)O * I);
  fill(&r, c.b, O);
  fill(&r, c.dy, (long)B * O);
  return c;
}

static void free_case(layer_case *c) { free(c->x), free(c->w), free(c->b), free(c->dy); }

/* The layer's three outputs on one backend/precision; dW in row blocks of
 * `block` rows (0: whole). relu: fused relu in forward. */
typedef struct outputs {
  float *y, *dw, *dx;
} outputs;

static outputs run_layer(const layer_case *c, ht_gemm_backend be, ht_precision prec, int relu, int block) {
  ht_gemm_opts o = {.backend = be, .precision = prec, .fuse_relu = relu};
  ht_gemm *g;
  if (ht_gemm_create(&g, &o, 1, &c->I, &c->O, c->B) < 0) fail_msg("ht_gemm_create: %s", ht_error_message());
  outputs out = {calloc((size_t)c->B * c->O, sizeof(float)), calloc((size_t)c->O * c->I, sizeof(float)),
                 calloc((size_t)c->B * c->I, sizeof(float))};
  assert_int_equal(ht_gemm_forward(g, 0, out.y, c->x, c->w, c->b, c->B, relu), 0);
  assert_int_equal(ht_gemm_backward_begin(g, 0, c->dy, c->B), 0);
  int rows = block > 0 ? block : c->O;
  for (int o1 = c->O; o1 > 0; o1 -= rows) {
    int o0 = o1 - rows > 0 ? o1 - rows : 0;
    assert_int_equal(ht_gemm_backward_weights(g, 0, out.dw, c->dy, c->x, c->B, o0, o1), 0);
  }
  assert_int_equal(ht_gemm_backward_input(g, 0, out.dx, c->dy, c->w, c->B), 0);
  ht_gemm_destroy(&g);
  assert_null(g);
  return out;
}

static void free_outputs(outputs *o) { free(o->y), free(o->dw), free(o->dx); }

/* y of one forward of c's layer on a new context with weights w. */
static float *fresh_forward(const layer_case *c, ht_gemm_backend be, const float *w) {
  ht_gemm_opts o = {.backend = be, .precision = HT_PREC_BF16};
  ht_gemm *g;
  if (ht_gemm_create(&g, &o, 1, &c->I, &c->O, c->B) < 0) fail_msg("ht_gemm_create: %s", ht_error_message());
  float *y = calloc((size_t)c->B * c->O, sizeof(float));
  assert_int_equal(ht_gemm_forward(g, 0, y, c->x, w, c->b, c->B, 0), 0);
  ht_gemm_destroy(&g);
  return y;
}

/* bf16 weights rounded as the optimizer reports them (ht_gemm_weights_updated)
 * give the forward of the new weights bit for bit; a layer reported only in
 * part is rounded whole by forward; and forward does skip its own rounding
 * when every weight was reported (shown by an unreported change that it then
 * does not see, which the contract forbids). */
static void weights_reported(ht_gemm_backend be) {
  layer_case c = make_case(8, 40, 24, 11);
  long n = (long)c.O * c.I, half = n / 2 + 3;
  float *w2 = malloc(sizeof(float) * n), *w3 = malloc(sizeof(float) * n);
  for (long i = 0; i < n; i++) w2[i] = c.w[i] * 0.5f + 0.01f, w3[i] = -c.w[i];
  float *want2 = fresh_forward(&c, be, w2), *want3 = fresh_forward(&c, be, w3), *want1 = fresh_forward(&c, be, c.w);
  ht_gemm_opts o = {.backend = be, .precision = HT_PREC_BF16};
  ht_gemm *g;
  assert_int_equal(ht_gemm_create(&g, &o, 1, &c.I, &c.O, c.B), 0);
  float *y = calloc((size_t)c.B * c.O, sizeof(float));
  size_t bytes = sizeof(float) * (size_t)c.B * c.O;
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, c.w, c.b, c.B, 0), 0);
  assert_memory_equal(y, want1, bytes);
  /* Every weight reported, in two buckets. */
  ht_gemm_weights_updated(g, 0, w2, half, n);
  ht_gemm_weights_updated(g, 0, w2, 0, half);
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w2, c.b, c.B, 0), 0);
  assert_memory_equal(y, want2, bytes);
  /* Half reported: forward rounds the whole layer itself. */
  ht_gemm_weights_updated(g, 0, w3, 0, half);
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w3, c.b, c.B, 0), 0);
  assert_memory_equal(y, want3, bytes);
  /* All reported as w2, then w3 passed without a report: the skip is real. */
  ht_gemm_weights_updated(g, 0, w2, 0, n);
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w3, c.b, c.B, 0), 0);
  assert_memory_equal(y, want2, bytes);
  /* The skip lasts one forward: the next one rounds w3 again. */
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w3, c.b, c.B, 0), 0);
  assert_memory_equal(y, want3, bytes);
  ht_gemm_destroy(&g);
  free(y), free(want1), free(want2), free(want3), free(w2), free(w3);
  free_case(&c);
}

static void openblas_weights_reported(void **state) {
  (void)state;
  weights_reported(HT_GEMM_OPENBLAS);
}

/* Checks c[M,N] against sum_k a(m,k) b(k,n) in double; tol = rel * sum |a b|. */
#define CHECK_PRODUCT(what, cval, M, N, K, A, Bv, rel, post)                                            \
  do {                                                                                                  \
    for (int m_ = 0; m_ < (M); m_++)                                                                    \
      for (int n_ = 0; n_ < (N); n_++) {                                                                \
        double s_ = 0, abs_ = 0;                                                                        \
        for (int k_ = 0; k_ < (K); k_++) {                                                              \
          double t_ = (double)(A) * (double)(Bv);                                                       \
          s_ += t_;                                                                                     \
          abs_ += fabs(t_);                                                                             \
        }                                                                                               \
        s_ = post;                                                                                      \
        double got_ = (cval);                                                                           \
        if (!(fabs(got_ - s_) <= (rel) * abs_ + 1e-30))                                                 \
          fail_msg("%s[%d,%d] = %.9g, reference %.9g (bound %.3g)", what, m_, n_, got_, s_, (rel) * abs_); \
      }                                                                                                 \
  } while (0)

static void check_layer(const layer_case *c, const outputs *o, int relu, double rel) {
  int B = c->B, I = c->I, O = c->O;
  /* y[r,o] = relu?(sum_i x[r,i] w[o,i] + b[o]) */
  CHECK_PRODUCT("y", o->y[m_ * O + n_], B, O, I, c->x[m_ * I + k_], c->w[n_ * I + k_], rel,
                relu ? fmax(s_ + c->b[n_], 0.0) : s_ + c->b[n_]);
  /* dw[o,i] = sum_r dy[r,o] x[r,i] */
  CHECK_PRODUCT("dw", o->dw[m_ * I + n_], O, I, B, c->dy[k_ * O + m_], c->x[k_ * I + n_], rel, s_);
  /* dx[r,i] = sum_o dy[r,o] w[o,i] */
  CHECK_PRODUCT("dx", o->dx[m_ * I + n_], B, I, O, c->dy[m_ * O + k_], c->w[k_ * I + n_], rel, s_);
}

static void openblas_fp32_reference(void **state) {
  layer_case c = make_case(13, 37, 21, 1);
  outputs o = run_layer(&c, HT_GEMM_OPENBLAS, HT_PREC_FP32, 0, 0);
  check_layer(&c, &o, 0, 1e-5);
  free_outputs(&o);
  free_case(&c);
}

static void openblas_bf16_reference(void **state) {
  layer_case c = make_case(16, 300, 40, 3);
  outputs o = run_layer(&c, HT_GEMM_OPENBLAS, HT_PREC_BF16, 0, 0);
  check_layer(&c, &o, 0, 1.0 / 128);
  free_outputs(&o);
  free_case(&c);
}

#ifdef HT_HAVE_ONEDNN
/* Odd sizes (no multiple of a vector or block), relu fused and not, dW whole
 * and in blocks of 5 rows (the last block shorter). */
static void onednn_fp32_reference(void **state) {
  layer_case c = make_case(13, 37, 21, 2);
  for (int relu = 0; relu <= 1; relu++)
    for (int block = 0; block <= 5; block += 5) {
      outputs o = run_layer(&c, HT_GEMM_ONEDNN, HT_PREC_FP32, relu, block);
      check_layer(&c, &o, relu, 1e-5);
      free_outputs(&o);
    }
  free_case(&c);
}

/* oneDNN bf16 equals the OpenBLAS emulation (the same rounded inputs, exact
 * products, fp32 sums in another order) to fp32 accuracy, and both differ
 * from fp32 by clearly more than that: the inputs were rounded. */
static void bf16_matches_emulation(void **state) {
  layer_case c = make_case(16, 300, 40, 4);
  outputs emu = run_layer(&c, HT_GEMM_OPENBLAS, HT_PREC_BF16, 0, 0);
  outputs dnn = run_layer(&c, HT_GEMM_ONEDNN, HT_PREC_BF16, 0, 0);
  outputs f32 = run_layer(&c, HT_GEMM_OPENBLAS, HT_PREC_FP32, 0, 0);
  check_layer(&c, &dnn, 0, 1.0 / 128);
  double max_emu = 0, max_f32 = 0;
  long n = (long)c.B * c.O;
  for (long i = 0; i < n; i++) {
    max_emu = fmax(max_emu, fabs((double)dnn.y[i] - emu.y[i]));
    max_f32 = fmax(max_f32, fabs((double)dnn.y[i] - f32.y[i]));
  }
  /* |y| ~ sqrt(300)/3 ~ 6: fp32 order differences ~1e-6, bf16 rounding ~1e-2. */
  if (!(max_emu <= 2e-5)) fail_msg("oneDNN bf16 vs emulation: max difference %.3g > 2e-5", max_emu);
  if (!(max_f32 >= 1e-3)) fail_msg("bf16 vs fp32: max difference %.3g, the inputs were not rounded", max_f32);
  for (long i = 0; i < (long)c.O * c.I; i++)
    if (!(fabs((double)dnn.dw[i] - emu.dw[i]) <= 2e-5)) fail_msg("dw[%ld]: %.9g vs %.9g", i, dnn.dw[i], emu.dw[i]);
  for (long i = 0; i < (long)c.B * c.I; i++)
    if (!(fabs((double)dnn.dx[i] - emu.dx[i]) <= 2e-5)) fail_msg("dx[%ld]: %.9g vs %.9g", i, dnn.dx[i], emu.dx[i]);
  free_outputs(&emu), free_outputs(&dnn), free_outputs(&f32);
  free_case(&c);
}

/* Repeated runs give bit-identical outputs, for 1 and 2 threads, fp32 and
 * bf16, at a size where oneDNN uses its blocked (brgemm) kernels. */
static void onednn_deterministic(void **state) {
  layer_case c = make_case(128, 784, 256, 5);
  int saved = omp_get_max_threads();
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    for (int p = 0; p < 2; p++) {
      ht_precision prec = p ? HT_PREC_BF16 : HT_PREC_FP32;
      outputs first = run_layer(&c, HT_GEMM_ONEDNN, prec, 1, 64);
      for (int rep = 0; rep < 3; rep++) {
        outputs again = run_layer(&c, HT_GEMM_ONEDNN, prec, 1, 64);
        if (memcmp(first.y, again.y, sizeof(float) * c.B * c.O) != 0 ||
            memcmp(first.dw, again.dw, sizeof(float) * c.O * c.I) != 0 ||
            memcmp(first.dx, again.dx, sizeof(float) * c.B * c.I) != 0)
          fail_msg("oneDNN %s, %d threads: run %d differs from run 0", ht_precision_name(prec), threads, rep + 1);
        free_outputs(&again);
      }
      free_outputs(&first);
    }
  }
  omp_set_num_threads(saved);
  free_case(&c);
}

#endif

/* Bad calls are errors, not crashes. */
static void gemm_errors(void **state) {
  int in = 4, out = 3;
  ht_gemm *g = NULL;
  ht_gemm_opts o = {.backend = HT_GEMM_AUTO, .precision = HT_PREC_FP32};
  assert_int_equal(ht_gemm_create(&g, &o, 1, &in, &out, 2), HT_EINVAL);
  assert_null(g);
  ht_error_clear();
  o.backend = HT_GEMM_OPENBLAS;
  assert_int_equal(ht_gemm_create(&g, &o, 1, &in, &out, 2), 0);
  float x[8] = {0}, w[12] = {0}, b[3] = {0}, y[6];
  assert_int_equal(ht_gemm_forward(g, 1, y, x, w, b, 2, 0), HT_EINVAL); /* no layer 1 */
  assert_int_equal(ht_gemm_forward(g, 0, y, x, w, b, 3, 0), HT_EINVAL); /* 3 rows > max 2 */
  assert_int_equal(ht_gemm_forward(g, 0, y, x, w, b, 2, 1), HT_EINVAL); /* openblas does not fuse */
  ht_error_clear();
  ht_gemm_destroy(&g);
  /* Without oneDNN the backend is refused with a message that names the fix. */
  o.backend = HT_GEMM_ONEDNN;
  int rc = ht_gemm_create(&g, &o, 1, &in, &out, 2);
  if (ht_gemm_have_onednn()) {
    assert_int_equal(rc, 0);
    ht_gemm_destroy(&g);
  } else {
    assert_int_equal(rc, HT_ECONFIG);
    assert_non_null(strstr(ht_error_message(), "libdnnl-dev"));
    ht_error_clear();
  }
  assert_string_equal(ht_gemm_backend_name(HT_GEMM_ONEDNN), "onednn");
  assert_string_equal(ht_precision_name(HT_PREC_BF16), "bf16");
  assert_string_equal(ht_openblas_core_isa("Haswell"), "avx2");
  assert_string_equal(ht_openblas_core_isa("SkylakeX"), "avx512");
  assert_true(ht_isa_rank("avx2") < ht_isa_rank("avx512"));
}

/* ---- whole models --------------------------------------------------- */
#ifdef HT_HAVE_ONEDNN

static void make_mlp(ht_model *m, int B, ht_gemm_backend be, ht_precision prec) {
  ht_model_spec s;
  memset(&s, 0, sizeof s);
  s.type = HT_MODEL_MLP;
  s.activation = HT_ACT_RELU;
  s.init = HT_INIT_AUTO;
  s.in = 64, s.out = 10, s.n_hidden = 2, s.hidden[0] = 96, s.hidden[1] = 48;
  assert_int_equal(ht_model_create(m, &s, B), 0);
  ht_model_init(m, 7);
  ht_gemm_opts o = {.backend = be, .precision = prec, .fuse_relu = 1};
  if (ht_model_set_compute(m, &o) < 0) fail_msg("ht_model_set_compute: %s", ht_error_message());
}

static void batch(int B, float *x, int32_t *y) {
  ht_rng r;
  ht_rng_seed(&r, 11);
  for (int i = 0; i < B * 64; i++) x[i] = (float)ht_rng_normal(&r);
  for (int i = 0; i < B; i++) y[i] = (int32_t)ht_rng_below(&r, 10);
}

/* Relative L2 distance of two gradient vectors. */
static double rel_dist(const float *a, const float *b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    s += (double)b[i] * b[i];
  }
  return sqrt(d / s);
}

/* The whole step on each backend/precision against openblas fp32: fp32 to
 * float rounding, bf16 within 2% (and not identical: it is bf16). */
static void model_step_backends(void **state) {
  enum { B = 32 };
  float x[B * 64];
  int32_t y[B];
  batch(B, x, y);
  ht_model ref, m;
  make_mlp(&ref, B, HT_GEMM_OPENBLAS, HT_PREC_FP32);
  double ref_loss = ht_model_step(&ref, x, y, NULL, B, NULL, NULL);
  struct {
    ht_gemm_backend be;
    ht_precision prec;
    double tol;
  } runs[] = {{HT_GEMM_ONEDNN, HT_PREC_FP32, 1e-5}, {HT_GEMM_ONEDNN, HT_PREC_BF16, 2e-2}, {HT_GEMM_OPENBLAS, HT_PREC_BF16, 2e-2}};
  for (int k = 0; k < 3; k++) {
    make_mlp(&m, B, runs[k].be, runs[k].prec);
    double loss = ht_model_step(&m, x, y, NULL, B, NULL, NULL);
    ht_assert_close(loss, ref_loss, runs[k].tol, 0);
    double d = rel_dist(m.grads, ref.grads, m.n_params);
    if (!(d <= runs[k].tol))
      fail_msg("%s %s: gradient differs from openblas fp32 by %.3g (relative L2) > %.1g",
               ht_gemm_backend_name(runs[k].be), ht_precision_name(runs[k].prec), d, runs[k].tol);
    if (runs[k].prec == HT_PREC_BF16 && !(d > 1e-5)) fail_msg("bf16 gradient equals fp32 (%.3g): not rounded", d);
    ht_model_destroy(&m);
  }
  ht_model_destroy(&ref);
}

/* Two models, same weights and data: bit-identical gradients on oneDNN, and
 * the model times steps without error. */
static void onednn_weights_reported(void **state) {
  (void)state;
  weights_reported(HT_GEMM_ONEDNN);
}

/* The pass-through copy of the bf16 weights (ht_gemm_weights_bf16): only
 * oneDNN bf16 offers one; patterns written there and reported with
 * ht_gemm_weights_rounded give the forward of the new weights bit for bit
 * (forward does not round them again: an unreported change is not seen), and
 * a layer reported in part is rounded whole by forward. */
static void onednn_weights_bf16_copy(void **state) {
  layer_case c = make_case(8, 40, 24, 12);
  long n = (long)c.O * c.I, half = n / 2 + 5;
  ht_gemm *g;
  ht_gemm_opts fp = {.backend = HT_GEMM_ONEDNN, .precision = HT_PREC_FP32};
  ht_gemm_opts emu = {.backend = HT_GEMM_OPENBLAS, .precision = HT_PREC_BF16};
  ht_gemm_opts *none[2] = {&fp, &emu};
  for (int k = 0; k < 2; k++) {
    assert_int_equal(ht_gemm_create(&g, none[k], 1, &c.I, &c.O, c.B), 0);
    assert_null(ht_gemm_weights_bf16(g, 0, 0));
    ht_gemm_destroy(&g);
  }
  float *w2 = malloc(sizeof(float) * n), *w3 = malloc(sizeof(float) * n);
  for (long i = 0; i < n; i++) w2[i] = c.w[i] * 0.5f + 0.01f, w3[i] = -c.w[i];
  float *want2 = fresh_forward(&c, HT_GEMM_ONEDNN, w2), *want3 = fresh_forward(&c, HT_GEMM_ONEDNN, w3);
  ht_gemm_opts o = {.backend = HT_GEMM_ONEDNN, .precision = HT_PREC_BF16};
  assert_int_equal(ht_gemm_create(&g, &o, 1, &c.I, &c.O, c.B), 0);
  assert_null(ht_gemm_weights_bf16(g, 1, 0));
  float *y = calloc((size_t)c.B * c.O, sizeof(float));
  size_t bytes = sizeof(float) * (size_t)c.B * c.O;
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, c.w, c.b, c.B, 0), 0);
  /* w2 written through the copy in two pieces; forward is passed w3 and
   * must use the reported w2. */
  uint16_t *q = ht_gemm_weights_bf16(g, 0, half);
  assert_non_null(q);
  for (long i = half; i < n; i++) q[i - half] = ht_bf16_bits(w2[i]);
  ht_gemm_weights_rounded(g, 0, half, n);
  q = ht_gemm_weights_bf16(g, 0, 0);
  for (long i = 0; i < half; i++) q[i] = ht_bf16_bits(w2[i]);
  ht_gemm_weights_rounded(g, 0, 0, half);
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w3, c.b, c.B, 0), 0);
  assert_memory_equal(y, want2, bytes);
  /* Half reported: forward rounds w3 whole. */
  ht_gemm_weights_rounded(g, 0, 0, half);
  assert_int_equal(ht_gemm_forward(g, 0, y, c.x, w3, c.b, c.B, 0), 0);
  assert_memory_equal(y, want3, bytes);
  ht_gemm_destroy(&g);
  free(y), free(want2), free(want3), free(w2), free(w3);
  free_case(&c);
}

/* ht_model_update_params (the optimizer writing the bf16 weights as it
 * updates them) against the plain update followed by
 * ht_model_params_updated: the same parameters, momentum, losses and
 * gradients over several steps, bit for bit, with buckets that cut through
 * layers' weights and biases at odd places; under fp32 as well. */
static void model_update_params(void **state) {
  enum { B = 32 };
  float x[B * 64];
  int32_t y[B];
  batch(B, x, y);
  for (int p = 0; p < 2; p++) {
    ht_model a, b;
    make_mlp(&a, B, HT_GEMM_ONEDNN, p ? HT_PREC_BF16 : HT_PREC_FP32);
    make_mlp(&b, B, HT_GEMM_ONEDNN, p ? HT_PREC_BF16 : HT_PREC_FP32);
    ht_optim_opts oo = {.kind = HT_OPTIM_SGD, .momentum = 0.9, .weight_decay = 1e-3};
    ht_optim oa, ob;
    assert_int_equal(ht_optim_create(&oa, &oo, a.n_params), 0);
    assert_int_equal(ht_optim_create(&ob, &oo, b.n_params), 0);
    /* Bucket ends: inside dense0's weights, at its bias, inside dense1's
     * bias, the end. */
    size_t cuts[] = {a.n_params, a.layers[2].b_off + 7, a.layers[0].b_off, 1001, 0};
    for (int s = 0; s < 4; s++) {
      double la = ht_model_step(&a, x, y, NULL, B, NULL, NULL), lb = ht_model_step(&b, x, y, NULL, B, NULL, NULL);
      assert_true(la == lb);
      assert_memory_equal(a.grads, b.grads, a.n_params * sizeof(float));
      ht_optim_begin_step(&oa);
      ht_optim_begin_step(&ob);
      for (int k = 0; k + 1 < (int)(sizeof cuts / sizeof *cuts); k++) {
        size_t lo = cuts[k + 1], hi = cuts[k];
        ht_optim_update_scaled(&oa, a.params, a.grads, lo, hi, 0.05, 0.5f);
        ht_model_params_updated(&a, lo, hi);
        assert_int_equal(ht_model_update_params(&b, &ob, b.grads, lo, hi, 0.05, 0.5f, 0), 0);
      }
      assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));
      assert_memory_equal(oa.m, ob.m, a.n_params * sizeof(float));
    }
    ht_optim_destroy(&oa);
    ht_optim_destroy(&ob);
    ht_model_destroy(&a);
    ht_model_destroy(&b);
  }
}

static void model_step_deterministic(void **state) {
  enum { B = 32 };
  float x[B * 64];
  int32_t y[B];
  batch(B, x, y);
  for (int p = 0; p < 2; p++) {
    ht_model a, b;
    make_mlp(&a, B, HT_GEMM_ONEDNN, p ? HT_PREC_BF16 : HT_PREC_FP32);
    make_mlp(&b, B, HT_GEMM_ONEDNN, p ? HT_PREC_BF16 : HT_PREC_FP32);
    for (int s = 0; s < 3; s++) {
      double la = ht_model_step(&a, x, y, NULL, B, NULL, NULL), lb = ht_model_step(&b, x, y, NULL, B, NULL, NULL);
      assert_true(la == lb);
      assert_memory_equal(a.grads, b.grads, a.n_params * sizeof(float));
    }
    double best = 0;
    assert_int_equal(ht_model_time_steps(&a, B, 1, 2, &best), 0);
    assert_true(best > 0);
    ht_model_destroy(&a);
    ht_model_destroy(&b);
  }
}

#endif

/* The oneDNN cases exist (and are listed in tests/model.cmake) only in a
 * build with oneDNN. */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(bf16_rounding),
    cmocka_unit_test(openblas_fp32_reference),
    cmocka_unit_test(openblas_bf16_reference),
    cmocka_unit_test(gemm_errors),
    cmocka_unit_test(openblas_weights_reported),
#ifdef HT_HAVE_ONEDNN
    cmocka_unit_test(onednn_weights_reported),
    cmocka_unit_test(onednn_fp32_reference),
    cmocka_unit_test(bf16_matches_emulation),
    cmocka_unit_test(onednn_deterministic),
    cmocka_unit_test(model_step_backends),
    cmocka_unit_test(model_step_deterministic),
    cmocka_unit_test(onednn_weights_bf16_copy),
    cmocka_unit_test(model_update_params),
#endif
};

HT_TEST_MAIN("gemm", tests)
