/*
 * Dense (fully connected) layer: out = inp . w^T + b, on top of cblas_sgemm.
 *
 * Shape legend:
 *   B = rows in the batch, I = input features, O = output features
 *   inp, dinp [B, I]   w, dw [O, I]   b, db [O]   out, dout [B, O]
 * All tensors are row-major float32; backward overwrites its outputs.
 *
 * Determinism: OpenBLAS splits a GEMM over output blocks (never over the inner
 * dimension), so for a fixed thread count every output element is summed in the
 * same order on every call. The bias gradient is our own loop and follows the
 * same rule: one thread owns each output column and sums the rows in order.
 */
#include "hytrain/layers.h"

#include <cblas.h>
#include <omp.h>

#include "hytrain/clones.h"

/* OpenBLAS's cblas.h includes <complex.h>, whose macro I (the imaginary unit)
 * would replace the shape name I below. Nothing here uses complex numbers. */
#undef I

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__DENSE_OMP_MIN 16384L

/* Columns per unit of work in the bias gradient (threads own whole blocks):
 * 16 floats = one 64-byte line. */
#define HT__DB_BLOCK 16

void ht_dense_forward(float *out, const float *inp, const float *w, const float *b, int B, int I, int O) {
  long total = (long)B * O;
  /* Start every row of out from the bias, then let the GEMM accumulate into it
   * (beta = 1). Parallel over rows r: each thread writes only out[r, :]. */
#pragma omp parallel for schedule(static) if (total >= HT__DENSE_OMP_MIN)
  for (int r = 0; r < B; r++) {
    float *row = out + (long)r * O;
    for (int o = 0; o < O; o++) row[o] = b[o];
  }
  /* out[B,O] += inp[B,I] . w[O,I]^T */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, I, 1.0f, inp, I, w, I, 1.0f, out, O);
}

void ht_dense_backward_weights(float *dw, const float *dout, const float *inp, int B, int I, int O, int o0, int o1) {
  int rows = o1 - o0;
  if (rows <= 0) return;
  /* dw[o0..o1, I] = dout[B, o0..o1]^T . inp[B,I]: the column block of dout is
   * addressed with leading dimension O. Each dw element is still one dot
   * product over the B rows, summed in the same order as the whole layer. */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, I, B, 1.0f, dout + o0, O, inp, I, 0.0f,
              dw + (long)o0 * I, I);
}

/* db[o0..o1) = sum over rows r = 0, 1, ..., B-1 (in that order) of
 * dout[r, o]. Row by row over the whole column range: the adds of one row
 * are independent (whole vectors at a time) and db[o0..o1) stays in L1. The
 * loop it replaces walked 16 columns down all rows with db in memory, a chain
 * of dependent load-add-stores; it took 2% of a bf16 step. Each element is
 * the same sum in the same order as before (0.0f + row 0 + row 1 + ...). */
HT_CLONES static void bias_columns(float *restrict db, const float *restrict dout, int B, int O, int o0, int o1) {
  for (int o = o0; o < o1; o++) db[o] = 0.0f;
  for (int r = 0; r < B; r++) {
    const float *restrict row = dout + (long)r * O;
    for (int o = o0; o < o1; o++) db[o] += row[o];
  }
}

void ht_dense_backward_bias(float *db, const float *dout, int B, int O) {
  /* Parallel over column blocks: thread t of nt owns the blocks
   * [n_blocks t / nt, n_blocks (t + 1) / nt) of db and reads only those
   * columns of dout, so no two threads write the same db element and each
   * sum's order does not depend on the thread count. */
  int n_blocks = (O + HT__DB_BLOCK - 1) / HT__DB_BLOCK;
  long total = (long)B * O;
  if (total < HT__DENSE_OMP_MIN || n_blocks < 2 || omp_get_max_threads() == 1) {
    bias_columns(db, dout, B, O, 0, O);
    return;
  }
#pragma omp parallel
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int o0 = n_blocks * t / nt * HT__DB_BLOCK, o1 = n_blocks * (t + 1) / nt * HT__DB_BLOCK;
    bias_columns(db, dout, B, O, o0, o1 < O ? o1 : O);
  }
}

void ht_dense_backward_input(float *dinp, const float *dout, const float *w, int B, int I, int O) {
  /* dinp[B,I] = dout[B,O] . w[O,I] */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, I, O, 1.0f, dout, O, w, I, 0.0f, dinp, I);
}

void ht_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int B, int I, int O) {
  ht_dense_backward_weights(dw, dout, inp, B, I, O, 0, O);
  ht_dense_backward_bias(db, dout, B, O);
  /* The first layer of a model has no use for dinp. */
  if (dinp) ht_dense_backward_input(dinp, dout, w, B, I, O);
}
