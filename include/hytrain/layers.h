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

/* Elementwise activations over n values. Backward uses the forward output. */
void ht_relu_forward(float *out, const float *inp, long n);
void ht_relu_backward(float *dinp, const float *dout, const float *out, long n);
void ht_tanh_forward(float *out, const float *inp, long n);
void ht_tanh_backward(float *dinp, const float *dout, const float *out, long n);
void ht_sigmoid_forward(float *out, const float *inp, long n);
void ht_sigmoid_backward(float *dinp, const float *dout, const float *out, long n);

#endif
