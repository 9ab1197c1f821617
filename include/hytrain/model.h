/*
 * A model is a sequence of layers over ONE flat parameter buffer and ONE flat
 * gradient buffer, ordered layer by layer (dense i: weight [O,I] then bias [O]).
 * Buckets for the allreduce are contiguous slices of `grads`; the last layer's
 * parameters sit at the end, which is the order backward produces them.
 *
 * Model types (config model.type) and what they build:
 *   softmax : dense(D->K)                  + softmax_ce
 *   logistic: dense(D->1)                  + sigmoid_bce   (K must be 2)
 *   linear  : dense(D->T)                  + mse           (regression)
 *   svm     : dense(D->K)                  + hinge
 *   mlp     : [dense -> act] x hidden, dense(->K or T) + softmax_ce (classes) or mse (regression)
 * Initialisation (seeded): weights ~ N(0, s^2) with s = sqrt(2/I) (He, for relu)
 * or s = sqrt(2/(I+O)) (Xavier/Glorot normal, for tanh/sigmoid and the linear
 * models); biases 0. "auto" picks He for relu MLPs and Xavier otherwise.
 *
 * All activation buffers are allocated at create time for max_batch rows; a
 * training step allocates nothing.
 */
#ifndef HYTRAIN_MODEL_H
#define HYTRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "hytrain/gemm.h"
#include "hytrain/loss.h"
#include "hytrain/optim.h"
#include "hytrain/options.h"

#define HT_MAX_LAYERS 40

typedef enum { HT_LAYER_DENSE, HT_LAYER_RELU, HT_LAYER_TANH, HT_LAYER_SIGMOID } ht_layer_kind;

typedef struct ht_layer {
  ht_layer_kind kind;
  char name[32];     /* dense layers: "dense0", "dense1", ...; activations "relu0" ... */
  int in, out;       /* features in / out */
  size_t w_off;      /* dense: offset of weight [out, in] in params/grads */
  size_t b_off;      /* dense: offset of bias [out] */
  int dense;         /* dense: index among the dense layers (the GEMM context's layer) */
} ht_layer;

typedef struct ht_model_spec {
  ht_model_type type; /* softmax | logistic | linear | svm | mlp */
  int in;            /* D, features */
  int out;           /* K classes, or T targets (regression) */
  int regression;    /* 1: targets are floats (mse) */
  int hidden[16];
  int n_hidden;
  ht_activation activation; /* relu | tanh | sigmoid (mlp) */
  ht_init init;             /* auto | he | xavier */
  double l2;
} ht_model_spec;

typedef struct ht_model {
  ht_model_spec spec;
  int n_layers;
  ht_layer layers[HT_MAX_LAYERS];
  ht_loss_kind loss;
  int n_logits;         /* width of the last layer (1 for logistic) */
  size_t n_params;
  float *params;        /* [n_params] */
  float *grads;         /* [n_params] */
  int max_batch;
  float *act[HT_MAX_LAYERS + 1];  /* act[0] = current input (borrowed); act[i+1] = output of layer i [max_batch, out] */
  float *dact[HT_MAX_LAYERS + 1]; /* gradient w.r.t. act[i]; dact[0] unused (input layer computes no input gradient) */
  double *l2_rows;      /* [widest dense out] scratch: per-row sums of W^2 for the L2 term */
  size_t slice_elems;   /* backward splits a dense weight gradient into row blocks of about this many
                           elements (0 = whole layers); see ht_model_slices */
  ht_gemm *gemm;        /* the dense layers' products (openblas fp32 unless ht_model_set_compute) */
  int fuse_relu;        /* forward applies a relu that follows a dense layer inside its GEMM */
} ht_model;

/* Called by backward after dense layer `layer` (an index into m->layers) has
 * written a slice of its dW (and db), plus the L2 gradient, i.e. grads[lo, hi)
 * is final for this step. Slices are reported from the end of the buffer to
 * its start without gaps: last layer first, and within a layer whose weight
 * gradient exceeds m->slice_elems, in row blocks from the last rows (with the
 * bias) to the first, each block's dW computed just before it is reported.
 * Together the slices cover [0, n_params) exactly. Once per step, before any
 * slice, backward calls ready(user, -1, 0, 0): forward and loss are done. */
typedef void (*ht_grad_ready_fn)(void *user, int layer, size_t lo, size_t hi);

/* The slices backward will report, in order, for the current slice_elems:
 * writes up to max pairs into lo[i], hi[i] and returns how many there are. */
int ht_model_slices(const ht_model *m, size_t *lo, size_t *hi, int max);

/* Builds the layer list from spec and allocates every buffer for max_batch rows.
 * Errors: unknown type/activation, logistic with out != 2, etc. */
int ht_model_create(ht_model *m, const ht_model_spec *spec, int max_batch);

/* Switches the GEMM backend and precision of the dense layers (the model is
 * created with openblas fp32). opts->backend must be openblas or onednn.
 * Parameters and gradients are untouched. Errors: those of ht_gemm_create;
 * the model keeps its previous backend then. */
int ht_model_set_compute(ht_model *m, const ht_gemm_opts *opts);

/* Times ht_model_step on B rows of zeros (labels 0, targets 0) with the
 * current backend: `warmup` untimed steps, then `steps` timed ones. Writes
 * the fastest step's seconds to *best. Overwrites grads, not params. */
int ht_model_time_steps(ht_model *m, int B, int warmup, int steps, double *best);

/* FLOPs of the dense layers' GEMMs in one training step on B rows
 * (forward, dW and dX; layer 0 computes no dX). */
double ht_model_gemm_flops(const ht_model *m, int B);

/* Seeded initialisation as documented above. Same seed => same weights. Each
 * dense layer draws from its own stream, ht_rng_mix(seed, layer index, 0), so
 * adding a layer at the end leaves the earlier layers' weights unchanged. */
void ht_model_init(ht_model *m, uint64_t seed);

/* Forward pass on x [B, in]; returns the logits act[n_layers] [B, n_logits].
 * x is borrowed (never written) until the next forward. Returns NULL (with a
 * recorded HT_EINVAL message) unless 1 <= B <= max_batch. */
const float *ht_model_forward(ht_model *m, const float *x, int B);

/* Forward + loss + backward. Returns the mean loss over B rows plus the L2
 * term 0.5*l2*sum(W^2) (weights only, not biases); grads hold d(that)/d(params)
 * (every element is overwritten). y: class labels (classification) or NULL;
 * t: targets (regression) or NULL. ready (may be NULL) is called as each dense
 * layer's gradient slice becomes final. Allocates nothing. Returns NaN (with a
 * recorded HT_EINVAL message) if B is out of range or y/t is missing. */
double ht_model_step(ht_model *m, const float *x, const int32_t *y, const float *t, int B,
                     ht_grad_ready_fn ready, void *user);

/* Reports that params[lo..hi) were just updated (by the optimizer) to the
 * GEMM backend, which under bf16 rounds the weights among them at once
 * (ht_gemm_weights_updated). */
void ht_model_params_updated(ht_model *m, size_t lo, size_t hi);

/* The optimizer's update of params[lo..hi) with the gradient grads * gscale
 * (ht_optim_update_scaled), keeping the GEMMs' bf16 weights current: where
 * the backend allows it (oneDNN), a dense layer's weights are rounded in the
 * same pass that updates them (ht_optim_update_bf16), the rest is updated
 * and then reported (ht_model_params_updated). Parameters and optimizer
 * state are bit for bit those of ht_optim_update_scaled. check != 0: the
 * same pass also tests grads[lo..hi) for NaN or infinity
 * (ht_optim_update_check); returns 1 when one is, else 0. */
int ht_model_update_params(ht_model *m, ht_optim *o, const float *grads, size_t lo, size_t hi, double lr,
                           float gscale, int check);

/* Evaluation on B rows: adds to *loss_sum the SUM of per-row losses (no L2),
 * to *correct the number of correct predictions (classification), and to *sse
 * the sum of squared errors over all targets (regression). */
void ht_model_eval(ht_model *m, const float *x, const int32_t *y, const float *t, int B,
                   double *loss_sum, int64_t *correct, double *sse);

/* Predicted class of each row from the last forward (classification). */
void ht_model_predict(const ht_model *m, int B, int32_t *pred);

void ht_model_destroy(ht_model *m);

#endif
