/*
 * The GEMM backend: the three products of every dense layer run here, on
 * OpenBLAS (cblas_sgemm, the reference and the fallback) or oneDNN (the
 * matmul primitive), in fp32 or bf16 mixed precision. See docs/compute.md.
 *
 * Shape legend (dense layer d, row-major):
 *   B = rows in the batch, I = in features, O = out features
 *   x, dx [B, I]   w, dw [O, I]   b [O]   y, dy [B, O]
 *   forward        y = x . w^T + b       (optionally relu(y), fused)
 *   backward dW    dw[o0..o1, :] = dy[:, o0..o1]^T . x
 *   backward dX    dx = dy . w
 *
 * bf16: the GEMM inputs (x, w, dy) are rounded to bf16 (round to nearest
 * even) into buffers owned by the context, the products accumulate in fp32
 * and the outputs are fp32. Master weights, gradients, biases and
 * activations stay fp32. On OpenBLAS bf16 is emulated (the rounded values
 * are kept as floats; a product of two bf16 numbers is exact in fp32), which
 * gives the same rounding of the inputs without the speed.
 *
 * Life cycle: ht_gemm_create (allocates every buffer for max_batch rows and
 * opens the oneDNN engine), use, ht_gemm_destroy. A oneDNN primitive is
 * created at the first call with a new shape (row count B, dW block height)
 * and cached; later calls with that shape allocate nothing. The calls use the
 * calling thread's OpenMP team; one context is used by one thread at a time.
 *
 * Determinism: for a fixed backend, precision and thread count every output
 * element is summed in the same order on every call (OpenBLAS and oneDNN's
 * brgemm matmul split over output blocks; see docs/compute.md for the check).
 */
#ifndef HYTRAIN_GEMM_H
#define HYTRAIN_GEMM_H

/* ht_gemm_backend (compute.backend) and ht_precision (compute.precision)
 * are the X-macro enums of hytrain/options.h. */
#include <stdint.h>

#include "hytrain/bf16.h"
#include "hytrain/options.h"

/* Spellings of the enums ("openblas", "bf16"); "?" for a value out of range. */
const char *ht_gemm_backend_name(ht_gemm_backend b);
const char *ht_precision_name(ht_precision p);

/* 1 if this build has the oneDNN backend (HT_HAVE_ONEDNN), else 0. */
int ht_gemm_have_onednn(void);

typedef struct ht_gemm_opts {
  ht_gemm_backend backend;  /* HT_GEMM_OPENBLAS or HT_GEMM_ONEDNN (auto is resolved by the caller) */
  ht_precision precision;
  int fuse_relu;            /* oneDNN: apply a following relu in the GEMM (post-op) */
} ht_gemm_opts;

typedef struct ht_gemm ht_gemm;

/* Creates a context for n dense layers with in[d] -> out[d] features and up
 * to max_batch rows. Errors: HT_ECONFIG (oneDNN asked for in a build without
 * it), HT_ENOMEM, HT_EINTERNAL (oneDNN failed; the message names the call). */
int ht_gemm_create(ht_gemm **g, const ht_gemm_opts *opts, int n, const int *in, const int *out, int max_batch);

/* Frees everything; *g becomes NULL. Accepts NULL. */
void ht_gemm_destroy(ht_gemm **g);

/* The options the context was created with. */
const ht_gemm_opts *ht_gemm_options(const ht_gemm *g);

/* 1 if forward can apply a relu in the GEMM itself (oneDNN with fuse_relu). */
int ht_gemm_fuses_relu(const ht_gemm *g);

/* y[B,O] = x[B,I] . w[O,I]^T + b[O], then relu if relu != 0 (only when
 * ht_gemm_fuses_relu). Overwrites y. */
int ht_gemm_forward(ht_gemm *g, int d, float *y, const float *x, const float *w, const float *b, int B, int relu);

/* Tells layer d that its weights w[lo..hi) (flat [O, I] indices) have just
 * changed (the optimizer's update of a bucket): under bf16 they are rounded
 * now, while they are in cache, and the next forward skips its own rounding
 * if every weight of the layer was rounded so since the last forward (a
 * layer reported only in part is rounded whole by forward, as without this
 * call). Contract: a weight changed after its report must be reported again
 * before the next forward. No-op under fp32. */
void ht_gemm_weights_updated(ht_gemm *g, int d, const float *w, long lo, long hi);

/* The same without a second pass over w. Under bf16 on oneDNN,
 * ht_gemm_weights_bf16 returns the address of flat weight lo in layer d's
 * bf16 copy (16-bit patterns, [O, I] like w), so that the code writing new
 * weights w[lo..hi) (the optimizer) can store ht_bf16_bits of each new value
 * at [i - lo] as it writes it; it then reports them with
 * ht_gemm_weights_rounded (same contract as ht_gemm_weights_updated). NULL
 * under fp32 and on OpenBLAS (whose emulated bf16 keeps rounded floats):
 * call ht_gemm_weights_updated there. */
uint16_t *ht_gemm_weights_bf16(ht_gemm *g, int d, long lo);
void ht_gemm_weights_rounded(ht_gemm *g, int d, long lo, long hi);

/* Prepares dy [B, O] of layer d for the two backward products (bf16: rounds
 * it once). Call after dy is final and before backward_weights/input. */
int ht_gemm_backward_begin(ht_gemm *g, int d, const float *dy, int B);

/* dw[o0..o1, :] = dy[:, o0..o1]^T . x: the x of the last forward of layer d
 * (bf16 reuses its rounded copy). Writes only rows o0..o1 of dw; each element
 * is the same sum, in the same order, whatever the block. */
int ht_gemm_backward_weights(ht_gemm *g, int d, float *dw, const float *dy, const float *x, int B, int o0, int o1);

/* dx[B,I] = dy[B,O] . w[O,I], w as in the last forward of layer d. */
int ht_gemm_backward_input(ht_gemm *g, int d, float *dx, const float *dy, const float *w, int B);

/* Rounds n floats to bf16 (round to nearest even; NaN stays NaN) and writes
 * the 16-bit patterns to dst. */
void ht_bf16_from_f32(unsigned short *dst, const float *src, long n);

/* Rounds n floats to the nearest bf16 value, kept as floats (dst may be src). */
void ht_bf16_round_f32(float *dst, const float *src, long n);

/* Isa of the CPU and of the kernels: "avx512_bf16", "avx512", "avx2", "avx",
 * "sse" (the best this CPU runs) and the oneDNN kernel ISA in use ("" when
 * the build has no oneDNN). */
const char *ht_cpu_isa(void);
const char *ht_gemm_onednn_isa(void);

/* The ISA of an OpenBLAS core name ("Haswell" -> "avx2", "SkylakeX" ->
 * "avx512", "Cooperlake" -> "avx512_bf16"), "" for names it does not know. */
const char *ht_openblas_core_isa(const char *core);

/* Rank of an ISA name above (sse 1 .. avx512_bf16 5), 0 for "" or unknown. */
int ht_isa_rank(const char *isa);

/* The three products of a dense layer. */
typedef enum { HT_GEMM_FWD, HT_GEMM_DW, HT_GEMM_DX } ht_gemm_product;

/* Measures one product of a dense layer B x in -> out on this rank, through the
 * same calls training makes (bf16 includes rounding that product's inputs
 * x and dy; the weights' bf16 copy is written by the optimizer in training,
 * so the forward's figure does not include rounding them),
 * repeated for about `seconds`; writes GFLOP/s (2*B*in*out per call) to *gflops. */
int ht_gemm_bench(ht_gemm_backend backend, ht_precision precision, int B, int in, int out, ht_gemm_product kind,
                  double seconds, double *gflops);

#endif
