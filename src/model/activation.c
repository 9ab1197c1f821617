/*
 * Elementwise activations: relu, tanh, sigmoid.
 *
 * Shape legend: n = number of values (B rows x width, flattened)
 *   inp, out, dinp, dout [n]
 * Backward takes the forward OUTPUT (not the input): every derivative here can
 * be written from it (relu: out > 0; tanh: 1 - out^2; sigmoid: out (1 - out)),
 * so the model keeps one buffer per layer output and nothing else.
 * Each element is computed independently, so results do not depend on the
 * number of threads.
 */
#include "hytrain/layers.h"

#include <math.h>
#include <omp.h>

#include "hytrain/clones.h"

/* Below this many elements an OpenMP team costs more than the loop itself. */
#define HT__ACT_OMP_MIN 16384L

void ht_relu_forward(float *out, const float *inp, long n) {
  /* Parallel over i: each thread writes only its own out[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__ACT_OMP_MIN)
  for (long i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

/* dinp[i] = out[i] > 0 ? dout[i] : 0 on [lo, hi). The derivative at exactly
 * 0 is taken as 0 (out == 0 there). dout[i] is loaded whatever the sign, so
 * the select compiles to a vector blend: the branch it replaces mispredicted
 * on half the elements and cost 30x more (1.4 ms against 0.04 ms for
 * 128 x 1024 values). */
HT_CLONES static void relu_backward_part(float *restrict dinp, const float *restrict dout, const float *restrict out,
                                         long lo, long hi) {
  for (long i = lo; i < hi; i++) {
    float g = dout[i];
    dinp[i] = out[i] > 0.0f ? g : 0.0f;
  }
}

void ht_relu_backward(float *dinp, const float *dout, const float *out, long n) {
  if (n < HT__ACT_OMP_MIN || omp_get_max_threads() == 1) {
    relu_backward_part(dinp, dout, out, 0, n);
    return;
  }
  /* Thread t of nt writes only its own contiguous part of dinp. */
#pragma omp parallel
  {
    long t = omp_get_thread_num(), nt = omp_get_num_threads();
    relu_backward_part(dinp, dout, out, n * t / nt, n * (t + 1) / nt);
  }
}

void ht_tanh_forward(float *out, const float *inp, long n) {
  /* Parallel over i: each thread writes only its own out[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__ACT_OMP_MIN)
  for (long i = 0; i < n; i++) out[i] = tanhf(inp[i]);
}

void ht_tanh_backward(float *dinp, const float *dout, const float *out, long n) {
  /* Parallel over i: each thread writes only its own dinp[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__ACT_OMP_MIN)
  for (long i = 0; i < n; i++) dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

void ht_sigmoid_forward(float *out, const float *inp, long n) {
  /* exp of a non-positive number only, so large |x| cannot overflow. */
  /* Parallel over i: each thread writes only its own out[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__ACT_OMP_MIN)
  for (long i = 0; i < n; i++) {
    float x = inp[i];
    if (x >= 0.0f) {
      out[i] = 1.0f / (1.0f + expf(-x));
    } else {
      float e = expf(x);
      out[i] = e / (1.0f + e);
    }
  }
}

void ht_sigmoid_backward(float *dinp, const float *dout, const float *out, long n) {
  /* Parallel over i: each thread writes only its own dinp[i]. */
#pragma omp parallel for schedule(static) if (n >= HT__ACT_OMP_MIN)
  for (long i = 0; i < n; i++) dinp[i] = dout[i] * out[i] * (1.0f - out[i]);
}
