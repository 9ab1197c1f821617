/*
 * The GEMM backend (see hytrain/gemm.h and docs/compute.md): the dense
 * layer's three products on OpenBLAS or oneDNN, in fp32 or bf16.
 *
 * Shape legend (dense layer d): B rows, I = in[d], O = out[d]
 *   x [B, I]  w [O, I]  b [O]  y, dy [B, O]  dx [B, I]  dw [O, I]
 * bf16 buffers of layer d (allocated at create for max_batch rows):
 *   xq [max_batch, I]  wq [O, I]  dyq [max_batch, O]
 * holding the bf16 patterns (oneDNN) or the bf16-rounded floats (OpenBLAS).
 * forward fills xq and wq, backward_begin fills dyq; backward reuses all
 * three, so each input is rounded once per step.
 */
#include "hytrain/gemm.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hytrain/clones.h"
#include "hytrain/error.h"
#include "hytrain/layers.h"
#include "hytrain/timer.h"
#include "model/gemm_internal.h"

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__GEMM_OMP_MIN 32768L

typedef struct gemm_layer {
  int in, out;
  void *xq, *wq, *dyq; /* bf16 only: see the legend */
  long wq_fresh;       /* elements of wq rounded by ht_gemm_weights_updated since the last forward */
} gemm_layer;

struct ht_gemm {
  ht_gemm_opts o;
  int n, max_batch;
  gemm_layer *layers; /* [n] */
  ht__onednn *dnn;        /* oneDNN backend only */
};

const char *ht_gemm_backend_name(ht_gemm_backend b) { return ht_enum_name(&ht_gemm_backends, (int)b); }

const char *ht_precision_name(ht_precision p) { return ht_enum_name(&ht_precisions, (int)p); }

int ht_gemm_have_onednn(void) {
#ifdef HT_HAVE_ONEDNN
  return 1;
#else
  return 0;
#endif
}

/* The loops below are multi-versioned (HT_CLONES, hytrain/clones.h): the
 * x86-64-v4 version (AVX-512 with word operations) narrows 16 floats per
 * instruction; rounding 1.86M floats took 0.27 ms with it against 0.31 ms
 * with an AVX-512F build that has to narrow in 256-bit halves. */
HT_CLONES static void bf16_patterns(unsigned short *dst, const float *src, long lo, long hi) {
  for (long i = lo; i < hi; i++) dst[i] = ht_bf16_bits(src[i]);
}

HT_CLONES static void bf16_floats(float *dst, const float *src, long lo, long hi) {
  for (long i = lo; i < hi; i++) {
    uint32_t u = (uint32_t)ht_bf16_bits(src[i]) << 16;
    memcpy(&dst[i], &u, sizeof u);
  }
}

void ht_bf16_from_f32(unsigned short *dst, const float *src, long n) {
  /* Thread t of nt converts its own contiguous part [n t / nt, n (t + 1) / nt). */
#pragma omp parallel if (n >= HT__GEMM_OMP_MIN)
  {
    long t = omp_get_thread_num(), nt = omp_get_num_threads();
    bf16_patterns(dst, src, n * t / nt, n * (t + 1) / nt);
  }
}

void ht_bf16_round_f32(float *dst, const float *src, long n) {
  /* Thread t of nt rounds its own contiguous part, as ht_bf16_from_f32. */
#pragma omp parallel if (n >= HT__GEMM_OMP_MIN)
  {
    long t = omp_get_thread_num(), nt = omp_get_num_threads();
    bf16_floats(dst, src, n * t / nt, n * (t + 1) / nt);
  }
}

/* Rounds n floats into the bf16 buffer of this backend (patterns or floats). */
static void quantize(const ht_gemm *g, void *dst, const float *src, long n) {
  if (g->o.backend == HT_GEMM_ONEDNN)
    ht_bf16_from_f32(dst, src, n);
  else
    ht_bf16_round_f32(dst, src, n);
}

static void *alloc_aligned(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, rounded ? rounded : 64);
}

void ht_gemm_destroy(ht_gemm **pg) {
  ht_gemm *g = *pg;
  if (!g) return;
  for (int d = 0; g->layers && d < g->n; d++) {
    free(g->layers[d].xq);
    free(g->layers[d].wq);
    free(g->layers[d].dyq);
  }
  free(g->layers);
  ht__onednn_destroy(&g->dnn);
  free(g);
  *pg = NULL;
}

int ht_gemm_create(ht_gemm **out, const ht_gemm_opts *opts, int n, const int *in, const int *outs, int max_batch) {
  *out = NULL;
  if (opts->backend != HT_GEMM_OPENBLAS && opts->backend != HT_GEMM_ONEDNN)
    return ht_error(HT_EINVAL, "compute.backend %s: resolve auto to a backend before creating the GEMM context",
                    ht_gemm_backend_name(opts->backend));
  if (opts->precision != HT_PREC_FP32 && opts->precision != HT_PREC_BF16)
    return ht_error(HT_EINVAL, "compute.precision: unknown value %d", (int)opts->precision);
  ht_gemm *g = calloc(1, sizeof *g);
  if (!g) return ht_error(HT_ENOMEM, "out of memory for the GEMM context");
  g->o = *opts;
  if (g->o.backend != HT_GEMM_ONEDNN) g->o.fuse_relu = 0;
  g->n = n;
  g->max_batch = max_batch;
  g->layers = calloc((size_t)(n > 0 ? n : 1), sizeof *g->layers);
  int ok = g->layers != NULL;
  size_t elem = g->o.backend == HT_GEMM_ONEDNN ? sizeof(uint16_t) : sizeof(float);
  for (int d = 0; ok && d < n; d++) {
    gemm_layer *l = &g->layers[d];
    l->in = in[d];
    l->out = outs[d];
    if (g->o.precision != HT_PREC_BF16) continue;
    l->xq = alloc_aligned((size_t)max_batch * (size_t)l->in * elem);
    l->wq = alloc_aligned((size_t)l->out * (size_t)l->in * elem);
    l->dyq = alloc_aligned((size_t)max_batch * (size_t)l->out * elem);
    ok = l->xq && l->wq && l->dyq;
  }
  if (!ok) {
    ht_gemm_destroy(&g);
    return ht_error(HT_ENOMEM, "out of memory for the GEMM buffers (%d layers, %d rows)", n, max_batch);
  }
  if (g->o.backend == HT_GEMM_ONEDNN) {
    int rc = ht__onednn_create(&g->dnn);
    if (rc < 0) {
      ht_gemm_destroy(&g);
      return rc;
    }
  }
  *out = g;
  return 0;
}

const ht_gemm_opts *ht_gemm_options(const ht_gemm *g) { return &g->o; }

int ht_gemm_fuses_relu(const ht_gemm *g) { return g->o.backend == HT_GEMM_ONEDNN && g->o.fuse_relu; }

static int check_layer(const ht_gemm *g, int d, int B, const char *what) {
  if (d < 0 || d >= g->n || B < 1 || B > g->max_batch)
    return ht_error(HT_EINVAL, "gemm %s: layer %d of %d, %d rows (1..%d)", what, d, g->n, B, g->max_batch);
  return 0;
}

int ht_gemm_forward(ht_gemm *g, int d, float *y, const float *x, const float *w, const float *b, int B, int relu) {
  HT_CHECK(check_layer(g, d, B, "forward"));
  gemm_layer *l = &g->layers[d];
  int I = l->in, O = l->out;
  if (relu && !ht_gemm_fuses_relu(g)) return ht_error(HT_EINVAL, "gemm forward: this backend does not fuse relu");
  const void *xa = x, *wa = w;
  if (g->o.precision == HT_PREC_BF16) {
    quantize(g, l->xq, x, (long)B * I);
    /* Weights the optimizer's buckets already rounded (all of them, once
     * each) need no second pass; anything less and forward rounds them all. */
    if (l->wq_fresh != (long)O * I) quantize(g, l->wq, w, (long)O * I);
    l->wq_fresh = 0;
    xa = l->xq;
    wa = l->wq;
  }
  if (g->o.backend == HT_GEMM_OPENBLAS) {
    ht_dense_forward(y, xa, wa, b, B, I, O);
    return 0;
  }
  /* y[B,O] = x[B,I] . (w^T)[I,O]: w^T is w read with strides (1, I). */
  ht__mm_shape s = {.M = B, .N = O, .K = I, .as0 = I, .as1 = 1, .bs0 = 1, .bs1 = I, .ldc = O,
                    .bf16 = g->o.precision == HT_PREC_BF16, .bias = 1, .relu = relu != 0};
  return ht__onednn_matmul(g->dnn, &s, xa, wa, b, y);
}

void ht_gemm_weights_updated(ht_gemm *g, int d, const float *w, long lo, long hi) {
  if (g->o.precision != HT_PREC_BF16 || d < 0 || d >= g->n || lo >= hi) return;
  gemm_layer *l = &g->layers[d];
  void *dst = g->o.backend == HT_GEMM_ONEDNN ? (void *)((unsigned short *)l->wq + lo) : (void *)((float *)l->wq + lo);
  quantize(g, dst, w + lo, hi - lo);
  l->wq_fresh += hi - lo;
}

uint16_t *ht_gemm_weights_bf16(ht_gemm *g, int d, long lo) {
  if (g->o.precision != HT_PREC_BF16 || g->o.backend != HT_GEMM_ONEDNN || d < 0 || d >= g->n) return NULL;
  return (uint16_t *)g->layers[d].wq + lo;
}

void ht_gemm_weights_rounded(ht_gemm *g, int d, long lo, long hi) {
  if (g->o.precision != HT_PREC_BF16 || d < 0 || d >= g->n || lo >= hi) return;
  g->layers[d].wq_fresh += hi - lo;
}

int ht_gemm_backward_begin(ht_gemm *g, int d, const float *dy, int B) {
  HT_CHECK(check_layer(g, d, B, "backward"));
  gemm_layer *l = &g->layers[d];
  if (g->o.precision == HT_PREC_BF16) quantize(g, l->dyq, dy, (long)B * l->out);
  return 0;
}

int ht_gemm_backward_weights(ht_gemm *g, int d, float *dw, const float *dy, const float *x, int B, int o0, int o1) {
  HT_CHECK(check_layer(g, d, B, "backward weights"));
  gemm_layer *l = &g->layers[d];
  int I = l->in, O = l->out, rows = o1 - o0;
  if (o0 < 0 || o1 > O) return ht_error(HT_EINVAL, "gemm backward weights: rows %d..%d of %d", o0, o1, O);
  if (rows <= 0) return 0;
  int bf16 = g->o.precision == HT_PREC_BF16;
  const void *dya = bf16 ? l->dyq : (const void *)dy, *xa = bf16 ? l->xq : (const void *)x;
  if (g->o.backend == HT_GEMM_OPENBLAS) {
    ht_dense_backward_weights(dw, dya, xa, B, I, O, o0, o1);
    return 0;
  }
  /* dw[o0..o1, I] = (dy[:, o0..o1])^T [rows, B] . x [B, I]: the transposed
   * column block of dy is read with strides (1, O) from column o0. */
  size_t esz = bf16 ? sizeof(uint16_t) : sizeof(float);
  ht__mm_shape s = {.M = rows, .N = I, .K = B, .as0 = 1, .as1 = O, .bs0 = I, .bs1 = 1, .ldc = I, .bf16 = bf16};
  return ht__onednn_matmul(g->dnn, &s, (const char *)dya + (size_t)o0 * esz, xa, NULL, dw + (size_t)o0 * I);
}

int ht_gemm_backward_input(ht_gemm *g, int d, float *dx, const float *dy, const float *w, int B) {
  HT_CHECK(check_layer(g, d, B, "backward input"));
  gemm_layer *l = &g->layers[d];
  int I = l->in, O = l->out;
  int bf16 = g->o.precision == HT_PREC_BF16;
  const void *dya = bf16 ? l->dyq : (const void *)dy, *wa = bf16 ? l->wq : (const void *)w;
  if (g->o.backend == HT_GEMM_OPENBLAS) {
    ht_dense_backward_input(dx, dya, wa, B, I, O);
    return 0;
  }
  /* dx[B,I] = dy[B,O] . w[O,I] */
  ht__mm_shape s = {.M = B, .N = I, .K = O, .as0 = O, .as1 = 1, .bs0 = I, .bs1 = 1, .ldc = I, .bf16 = bf16};
  return ht__onednn_matmul(g->dnn, &s, dya, wa, NULL, dx);
}

const char *ht_cpu_isa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16")) return "avx512_bf16";
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  if (__builtin_cpu_supports("avx")) return "avx";
  return "sse";
}

const char *ht_gemm_onednn_isa(void) { return ht__onednn_isa(); }

const char *ht_openblas_core_isa(const char *core) {
  static const struct {
    const char *core, *isa;
  } map[] = {{"cooperlake", "avx512_bf16"}, {"sapphirerapids", "avx512_bf16"}, {"skylakex", "avx512"},
             {"haswell", "avx2"},           {"zen", "avx2"},                    {"sandybridge", "avx"},
             {"nehalem", "sse"},            {"core2", "sse"},                   {"penryn", "sse"},
             {"prescott", "sse"},           {"atom", "sse"},                    {"barcelona", "sse"},
             {"bulldozer", "avx"},          {"piledriver", "avx"},              {"steamroller", "avx"},
             {"excavator", "avx2"}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strcasecmp(core, map[i].core) == 0) return map[i].isa;
  return "";
}

int ht_isa_rank(const char *isa) {
  static const char *const order[] = {"sse", "avx", "avx2", "avx512", "avx512_bf16"};
  for (int i = 0; i < 5; i++)
    if (strcmp(isa, order[i]) == 0) return i + 1;
  return 0;
}

/* One call of product `kind` of dense layer 0 of g. */
static int bench_call(ht_gemm *g, ht_gemm_product kind, float *x, float *w, float *b, float *y, float *dy, float *dw,
                      float *dx, int B) {
  switch (kind) {
  case HT_GEMM_FWD:
    /* In training the optimizer's update writes the bf16 copy of the
     * weights (docs/compute.md), so the forward rounds only x. The copy made
     * by the bench's first forward stays valid (w does not change): say so,
     * or every call would round all O x I weights again, 20% of a bf16
     * forward that training does not pay. */
    ht_gemm_weights_rounded(g, 0, 0, (long)g->layers[0].out * g->layers[0].in);
    return ht_gemm_forward(g, 0, y, x, w, b, B, 0);
  case HT_GEMM_DW:
    /* The rounding of dy belongs to the backward products: counted here. */
    HT_CHECK(ht_gemm_backward_begin(g, 0, dy, B));
    return ht_gemm_backward_weights(g, 0, dw, dy, x, B, 0, g->layers[0].out);
  case HT_GEMM_DX:
    return ht_gemm_backward_input(g, 0, dx, dy, w, B);
  }
  return ht_error(HT_EINVAL, "gemm bench: unknown product %d", (int)kind);
}

int ht_gemm_bench(ht_gemm_backend backend, ht_precision precision, int B, int I, int O, ht_gemm_product kind,
                  double seconds, double *gflops) {
  *gflops = 0;
  ht_gemm_opts o = {.backend = backend, .precision = precision};
  ht_gemm *g;
  HT_CHECK(ht_gemm_create(&g, &o, 1, &I, &O, B));
  size_t nx = (size_t)B * I, nw = (size_t)O * I, ny = (size_t)B * O;
  float *x = alloc_aligned(sizeof(float) * nx), *w = alloc_aligned(sizeof(float) * nw);
  float *b = alloc_aligned(sizeof(float) * O), *y = alloc_aligned(sizeof(float) * ny);
  float *dy = alloc_aligned(sizeof(float) * ny), *dw = alloc_aligned(sizeof(float) * nw);
  float *dx = alloc_aligned(sizeof(float) * nx);
  int rc = 0;
  if (!x || !w || !b || !y || !dy || !dw || !dx) {
    rc = ht_error(HT_ENOMEM, "out of memory for a %dx%dx%d GEMM", B, I, O);
    goto out;
  }
  /* Values in [-0.5, 0.5) from a fixed pattern; the rate does not depend on them. */
  for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < nw; i++) w[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < ny; i++) dy[i] = (float)((i * 97u) % 1000) / 1000.0f - 0.5f;
  memset(b, 0, sizeof(float) * (size_t)O);
  /* The forward first: the backward products of bf16 reuse its rounded x and w. */
  HT_CHECK_GOTO(ht_gemm_forward(g, 0, y, x, w, b, B, 0), rc, out);
  HT_CHECK_GOTO(bench_call(g, kind, x, w, b, y, dy, dw, dx, B), rc, out); /* warm-up, creates the primitive */
  double t0 = ht_now(), t = 0;
  long reps = 0;
  do {
    HT_CHECK_GOTO(bench_call(g, kind, x, w, b, y, dy, dw, dx, B), rc, out);
    reps++;
    t = ht_now() - t0;
  } while (t < seconds);
  *gflops = 2.0 * B * (double)I * (double)O * (double)reps / t / 1e9;
out:
  free(x), free(w), free(b), free(y), free(dy), free(dw), free(dx);
  ht_gemm_destroy(&g);
  return rc;
}
