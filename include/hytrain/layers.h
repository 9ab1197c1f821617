/*
 * Layer kernels, llm.c style: <layer>_forward / <layer>_backward with a fixed
 * argument order (outputs, inputs, parameters, dims). Gradients are named d<x>.
 * Shapes: B = rows in the batch, I = input features, O = output features.
 * All tensors are row-major float32. Backward functions overwrite (not
 * accumulate into) their gradient outputs.
 */
#ifndef HYTRAIN_LAYERS_H
#define HYTRAIN_LAYERS_H

/* out[B,O] = inp[B,I] . w[O,I]^T + b[O]   (cblas_sgemm) */
void ht_dense_forward(float *out, const float *inp, const float *w, const float *b, int B, int I, int O);

/* dw[O,I] = dout^T . inp;  db[O] = sum_B dout;  dinp[B,I] = dout . w (skipped if dinp is NULL). */
void ht_dense_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int B, int I, int O);

/* The parts of ht_dense_backward, so that a weight gradient can be computed
 * (and handed to the allreduce) in row blocks: ht_dense_backward_weights
 * writes dw[o0..o1, :] only (the same sums, in the same order, as the
 * whole-layer call); ht_dense_backward_bias writes db [O];
 * ht_dense_backward_input writes dinp [B, I]. */
void ht_dense_backward_weights(float *dw, const float *dout, const float *inp, int B, int I, int O, int o0, int o1);
void ht_dense_backward_bias(float *db, const float *dout, int B, int O);
void ht_dense_backward_input(float *dinp, const float *dout, const float *w, int B, int I, int O);

/* Elementwise activations over n values. Backward uses the forward output. */
void ht_relu_forward(float *out, const float *inp, long n);
void ht_relu_backward(float *dinp, const float *dout, const float *out, long n);
void ht_tanh_forward(float *out, const float *inp, long n);
void ht_tanh_backward(float *dinp, const float *dout, const float *out, long n);
void ht_sigmoid_forward(float *out, const float *inp, long n);
void ht_sigmoid_backward(float *dinp, const float *dout, const float *out, long n);

#endif
