/*
 * The model: a sequence of layers over one flat parameter buffer and one flat
 * gradient buffer (see model.h and docs/models.md).
 *
 * Shape legend:
 *   B = rows in the batch (1 <= B <= max_batch), D = spec.in features,
 *   K = classes or T = regression targets (spec.out), L = n_layers
 *   layer i maps act[i] [B, layers[i].in] to act[i+1] [B, layers[i].out]
 *   params, grads [n_params]: dense layer i holds W [out, in] at w_off, then
 *   b [out] at b_off = w_off + out*in; layers follow each other without gaps.
 *   act[0] = x [B, D] (borrowed); act[L] = logits [B, n_logits]
 *   dact[i] [B, width of act[i]] for i >= 1; dact[L] = dlogits
 *   l2_rows [widest dense out] (double) scratch for the L2 sum
 *
 * Every buffer is allocated in ht_model_create for max_batch rows; forward,
 * step and eval allocate nothing, except that the oneDNN backend builds (and
 * keeps) a primitive the first time it sees a row count (see gemm.h).
 */
#include "hytrain/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/config.h"
#include "hytrain/error.h"
#include "hytrain/layers.h"
#include "hytrain/rng.h"
#include "hytrain/timer.h"

/* Below this many weights the L2 loop runs on one thread. */
#define HT__L2_OMP_MIN 16384L

/* 64-byte aligned (one cache line, one AVX-512 vector) buffer of `bytes`, or NULL. */
static void *alloc_aligned(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void *p = aligned_alloc(64, rounded);
  if (p) memset(p, 0, rounded);
  return p;
}

/* Checks spec against the rules in model.h; records a message naming the key. */
static int validate(const ht_model_spec *spec, int max_batch) {
  const char *type = ht_enum_name(&ht_model_types, (int)spec->type);
  if (ht_enum_parse(&ht_model_types, type) < 0)
    return ht_error(HT_ECONFIG, "model.type: value %d is not one of %s", (int)spec->type, ht_model_types.choices);
  if (ht_enum_parse(&ht_inits, ht_enum_name(&ht_inits, (int)spec->init)) < 0)
    return ht_error(HT_ECONFIG, "model.init: value %d is not one of %s", (int)spec->init, ht_inits.choices);
  HT_CHECK(ht_config_check_number("model.l2", spec->l2));
  if (spec->in < 1) return ht_error(HT_EINVAL, "model: the data has %d features, need at least 1", spec->in);
  if (max_batch < 1) return ht_error(HT_EINVAL, "model: max_batch %d, need at least 1", max_batch);

  /* What each type needs from the data (model.h). */
  int regression_ok = 0, min_classes = 2, max_classes = 0;
  switch (spec->type) {
  case HT_MODEL_SOFTMAX:
  case HT_MODEL_SVM: break;
  case HT_MODEL_LOGISTIC: max_classes = 2; break;
  case HT_MODEL_LINEAR: regression_ok = 1, min_classes = 0; break;
  case HT_MODEL_MLP: regression_ok = 1; break;
  }
  if (spec->regression) {
    if (!regression_ok)
      return ht_error(HT_ECONFIG,
                      "model.type %s needs class labels, but the data has regression targets (%d per row); "
                      "use linear or mlp",
                      type, spec->out);
    if (spec->out < 1) return ht_error(HT_EINVAL, "model: the data has %d regression targets, need at least 1", spec->out);
  } else {
    if (min_classes == 0)
      return ht_error(HT_ECONFIG,
                      "model.type %s needs regression targets, but the data has %d classes; "
                      "use softmax, logistic, svm or mlp",
                      type, spec->out);
    if (max_classes == 2 && spec->out != 2)
      return ht_error(HT_ECONFIG, "model.type %s needs exactly 2 classes, the data has %d", type, spec->out);
    if (spec->out < min_classes)
      return ht_error(HT_ECONFIG, "model.type %s needs at least 2 classes, the data has %d", type, spec->out);
  }

  if (spec->type == HT_MODEL_MLP) {
    if (spec->n_hidden < 1)
      return ht_error(HT_ECONFIG, "model.type mlp needs at least one hidden layer (model.hidden is empty)");
    if (spec->n_hidden > 16)
      return ht_error(HT_ECONFIG, "model.hidden: %d hidden layers, at most 16", spec->n_hidden);
    for (int h = 0; h < spec->n_hidden; h++)
      if (spec->hidden[h] < 1)
        return ht_error(HT_ECONFIG, "model.hidden[%d] = %d: layer widths must be >= 1", h, spec->hidden[h]);
    if (ht_enum_parse(&ht_activations, ht_enum_name(&ht_activations, (int)spec->activation)) < 0)
      return ht_error(HT_ECONFIG, "model.activation: value %d is not one of %s", (int)spec->activation,
                      ht_activations.choices);
  }
  return 0;
}

/* Appends a dense layer in -> out whose parameters start at *off. */
static void add_dense(ht_model *m, int in, int out, int dense_index, size_t *off) {
  ht_layer *l = &m->layers[m->n_layers++];
  l->kind = HT_LAYER_DENSE;
  snprintf(l->name, sizeof l->name, "dense%d", dense_index);
  l->in = in;
  l->out = out;
  l->dense = dense_index;
  l->w_off = *off;
  l->b_off = *off + (size_t)out * (size_t)in;
  *off = l->b_off + (size_t)out;
}

/* Appends an elementwise activation of the given width (no parameters). */
static void add_activation(ht_model *m, ht_activation act, int width, int index) {
  ht_layer *l = &m->layers[m->n_layers++];
  switch (act) {
  case HT_ACT_RELU: l->kind = HT_LAYER_RELU; break;
  case HT_ACT_TANH: l->kind = HT_LAYER_TANH; break;
  case HT_ACT_SIGMOID: l->kind = HT_LAYER_SIGMOID; break;
  }
  /* act was validated, so its name is one of relu|tanh|sigmoid and fits. */
  snprintf(l->name, sizeof l->name, "%.8s%d", ht_enum_name(&ht_activations, (int)act), index);
  l->in = width;
  l->out = width;
  l->w_off = l->b_off = 0;
}

/* Fills layers[], n_layers, loss, n_logits and n_params from a valid spec. */
static void build_layers(ht_model *m) {
  const ht_model_spec *spec = &m->spec;
  size_t off = 0;
  switch (spec->type) {
  case HT_MODEL_MLP: {
    int width = spec->in;
    for (int h = 0; h < spec->n_hidden; h++) {
      add_dense(m, width, spec->hidden[h], h, &off);
      add_activation(m, spec->activation, spec->hidden[h], h);
      width = spec->hidden[h];
    }
    add_dense(m, width, spec->out, spec->n_hidden, &off);
    m->loss = spec->regression ? HT_LOSS_MSE : HT_LOSS_SOFTMAX_CE;
    m->n_logits = spec->out;
    break;
  }
  case HT_MODEL_LOGISTIC:
    add_dense(m, spec->in, 1, 0, &off);
    m->loss = HT_LOSS_SIGMOID_BCE;
    m->n_logits = 1;
    break;
  case HT_MODEL_SOFTMAX:
  case HT_MODEL_LINEAR:
  case HT_MODEL_SVM:
    add_dense(m, spec->in, spec->out, 0, &off);
    m->loss = spec->type == HT_MODEL_LINEAR ? HT_LOSS_MSE : spec->type == HT_MODEL_SVM ? HT_LOSS_HINGE : HT_LOSS_SOFTMAX_CE;
    m->n_logits = spec->out;
    break;
  }
  m->n_params = off;
}

int ht_model_create(ht_model *m, const ht_model_spec *spec, int max_batch) {
  memset(m, 0, sizeof *m);
  HT_CHECK(validate(spec, max_batch));
  m->spec = *spec;
  m->max_batch = max_batch;
  build_layers(m);

  int widest_dense = 1;
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i].kind == HT_LAYER_DENSE && m->layers[i].out > widest_dense) widest_dense = m->layers[i].out;

  m->params = alloc_aligned(m->n_params * sizeof(float));
  m->grads = alloc_aligned(m->n_params * sizeof(float));
  m->l2_rows = alloc_aligned((size_t)widest_dense * sizeof(double));
  int ok = m->params && m->grads && m->l2_rows;
  for (int i = 0; ok && i < m->n_layers; i++) {
    /* act[i+1] holds layer i's output; dact[i+1] the gradient w.r.t. it. */
    size_t bytes = (size_t)max_batch * (size_t)m->layers[i].out * sizeof(float);
    m->act[i + 1] = alloc_aligned(bytes);
    m->dact[i + 1] = alloc_aligned(bytes);
    ok = m->act[i + 1] && m->dact[i + 1];
  }
  if (!ok) {
    size_t n_params = m->n_params;
    ht_model_destroy(m);
    return ht_error(HT_ENOMEM, "model.type %s: cannot allocate buffers for %zu parameters and %d rows",
                    ht_enum_name(&ht_model_types, (int)spec->type),
                    n_params, max_batch);
  }
  ht_gemm_opts reference = {.backend = HT_GEMM_OPENBLAS, .precision = HT_PREC_FP32};
  int rc = ht_model_set_compute(m, &reference);
  if (rc < 0) ht_model_destroy(m);
  return rc;
}

int ht_model_set_compute(ht_model *m, const ht_gemm_opts *opts) {
  int in[HT_MAX_LAYERS], out[HT_MAX_LAYERS], n = 0;
  for (int i = 0; i < m->n_layers; i++)
    if (m->layers[i].kind == HT_LAYER_DENSE) {
      in[n] = m->layers[i].in;
      out[n] = m->layers[i].out;
      n++;
    }
  ht_gemm *g;
  HT_CHECK(ht_gemm_create(&g, opts, n, in, out, m->max_batch));
  ht_gemm_destroy(&m->gemm);
  m->gemm = g;
  m->fuse_relu = ht_gemm_fuses_relu(g);
  return 0;
}

double ht_model_gemm_flops(const ht_model *m, int B) {
  double flops = 0;
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    flops += 2.0 * B * (double)l->in * (double)l->out * (i == 0 ? 2 : 3);
  }
  return flops;
}

int ht_model_time_steps(ht_model *m, int B, int warmup, int steps, double *best) {
  *best = 0;
  if (B < 1 || B > m->max_batch) return ht_error(HT_EINVAL, "model timing: %d rows, 1..%d", B, m->max_batch);
  float *x = calloc((size_t)B * (size_t)m->spec.in, sizeof(float));
  float *t = calloc((size_t)B * (size_t)(m->n_logits > 0 ? m->n_logits : 1), sizeof(float));
  int32_t *y = calloc((size_t)B, sizeof(int32_t));
  int rc = 0;
  if (!x || !t || !y) {
    rc = ht_error(HT_ENOMEM, "model timing: out of memory for %d rows", B);
    goto out;
  }
  double fastest = HUGE_VAL;
  for (int k = 0; k < warmup + steps; k++) {
    double t0 = ht_now();
    double loss = ht_model_step(m, x, m->spec.regression ? NULL : y, m->spec.regression ? t : NULL, B, NULL, NULL);
    double dt = ht_now() - t0;
    if (isnan(loss)) {
      rc = ht_error(HT_EINTERNAL, "model timing: a step on zeros failed: %s", ht_error_message());
      goto out;
    }
    if (k >= warmup && dt < fastest) fastest = dt;
  }
  *best = fastest;
out:
  free(x), free(t), free(y);
  return rc;
}

void ht_model_init(ht_model *m, uint64_t seed) {
  const ht_model_spec *spec = &m->spec;
  int relu_mlp = spec->type == HT_MODEL_MLP && spec->activation == HT_ACT_RELU;
  int he = 0;
  switch (spec->init) {
  case HT_INIT_HE: he = 1; break;
  case HT_INIT_XAVIER: he = 0; break;
  case HT_INIT_AUTO: he = relu_mlp; break;
  }
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    /* One stream per layer index: earlier layers do not see later ones. */
    ht_rng r;
    ht_rng_seed(&r, ht_rng_mix(seed, (uint64_t)i, 0));
    double s = he ? sqrt(2.0 / l->in) : sqrt(2.0 / ((double)l->in + l->out));
    float *w = m->params + l->w_off;
    size_t n_w = (size_t)l->out * (size_t)l->in;
    for (size_t k = 0; k < n_w; k++) w[k] = (float)(s * ht_rng_normal(&r));
    memset(m->params + l->b_off, 0, (size_t)l->out * sizeof(float));
  }
}

const float *ht_model_forward(ht_model *m, const float *x, int B) {
  if (B < 1 || B > m->max_batch) {
    ht_error(HT_EINVAL, "model forward: a batch of %d rows, the model was created for 1..%d", B, m->max_batch);
    return NULL;
  }
  /* Borrowed: layer 0 only reads its input. */
  m->act[0] = (float *)x;
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    long n = (long)B * l->out;
    switch (l->kind) {
    case HT_LAYER_DENSE: {
      /* A relu right after this layer runs inside the GEMM when the backend
       * fuses it: the GEMM writes the relu's output act[i+2] and act[i+1]
       * (which nothing reads: relu backward uses its output) is skipped. */
      int fuse = m->fuse_relu && i + 1 < m->n_layers && m->layers[i + 1].kind == HT_LAYER_RELU;
      int rc = ht_gemm_forward(m->gemm, l->dense, m->act[i + 1 + fuse], m->act[i], m->params + l->w_off,
                               m->params + l->b_off, B, fuse);
      if (rc < 0) return NULL;
      i += fuse;
      break;
    }
    case HT_LAYER_RELU:
      ht_relu_forward(m->act[i + 1], m->act[i], n);
      break;
    case HT_LAYER_TANH:
      ht_tanh_forward(m->act[i + 1], m->act[i], n);
      break;
    case HT_LAYER_SIGMOID:
      ht_sigmoid_forward(m->act[i + 1], m->act[i], n);
      break;
    }
  }
  return m->act[m->n_layers];
}

/* Mean loss of the last forward; writes dlogits = dact[L]. */
static double model_loss(ht_model *m, const int32_t *y, const float *t, int B) {
  const float *logits = m->act[m->n_layers];
  float *dlogits = m->dact[m->n_layers];
  switch (m->loss) {
  case HT_LOSS_SOFTMAX_CE:
    return ht_softmax_ce(dlogits, logits, y, B, m->n_logits);
  case HT_LOSS_SIGMOID_BCE:
    return ht_sigmoid_bce(dlogits, logits, y, B);
  case HT_LOSS_MSE:
    return ht_mse(dlogits, logits, t, B, m->n_logits);
  case HT_LOSS_HINGE:
    return ht_hinge(dlogits, logits, y, B, m->n_logits);
  }
  return NAN;
}

/* Adds l2 * W to rows [o0, o1) of dense layer l's weight gradient and stores
 * each row's sum of W^2 in m->l2_rows[o]. */
static void apply_l2_rows(ht_model *m, const ht_layer *l, int o0, int o1) {
  const float *w = m->params + l->w_off;
  float *dw = m->grads + l->w_off;
  double *rows = m->l2_rows;
  float l2 = (float)m->spec.l2;
  int in = l->in;
  /* One pass that reads W and dW and writes dW: memory-bound (~1.5 ms for 1.9M
   * weights on one core), so the per-row double sum costs nothing extra. */
  /* Parallel over weight rows o: a thread writes only dw[o, :] and rows[o]. */
#pragma omp parallel for schedule(static) if ((long)(o1 - o0) * in >= HT__L2_OMP_MIN)
  for (int o = o0; o < o1; o++) {
    const float *wr = w + (size_t)o * in;
    float *dwr = dw + (size_t)o * in;
    double s = 0.0;
    for (int k = 0; k < in; k++) {
      s += (double)wr[k] * wr[k];
      dwr[k] += l2 * wr[k];
    }
    rows[o] = s;
  }
}

/* 0.5*l2*sum(W^2) of dense layer l from the row sums apply_l2_rows left. */
static double l2_term(const ht_model *m, const ht_layer *l) {
  /* Row sums added in row order on one thread: independent of the thread
   * count and of the row blocks. */
  double sum = 0.0;
  for (int o = 0; o < l->out; o++) sum += m->l2_rows[o];
  return 0.5 * m->spec.l2 * sum;
}

/* Rows per weight-gradient block of dense layer l (l->out: one block). */
static int slice_rows(const ht_model *m, const ht_layer *l) {
  if (m->slice_elems == 0 || (size_t)l->out * (size_t)l->in <= m->slice_elems) return l->out;
  size_t rows = m->slice_elems / (size_t)l->in;
  if (rows < 1) rows = 1;
  /* Equal blocks: ceil(out / rows) blocks, spread evenly. */
  size_t nb = ((size_t)l->out + rows - 1) / rows;
  return (int)(((size_t)l->out + nb - 1) / nb);
}

int ht_model_slices(const ht_model *m, size_t *lo, size_t *hi, int max) {
  int n = 0;
  for (int i = m->n_layers - 1; i >= 0; i--) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    int rows = slice_rows(m, l);
    /* Blocks from the last rows (reported with the bias) to the first. */
    for (int o1 = l->out; o1 > 0; o1 -= rows) {
      int o0 = o1 - rows > 0 ? o1 - rows : 0;
      if (n < max) {
        lo[n] = l->w_off + (size_t)o0 * (size_t)l->in;
        hi[n] = o1 == l->out ? l->b_off + (size_t)l->out : l->w_off + (size_t)o1 * (size_t)l->in;
      }
      n++;
    }
  }
  return n;
}

void ht_model_params_updated(ht_model *m, size_t lo, size_t hi) {
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    size_t w0 = l->w_off, w1 = l->w_off + (size_t)l->out * (size_t)l->in;
    size_t a = lo > w0 ? lo : w0, b = hi < w1 ? hi : w1;
    if (a < b) ht_gemm_weights_updated(m->gemm, l->dense, m->params + w0, (long)(a - w0), (long)(b - w0));
  }
}

int ht_model_update_params(ht_model *m, ht_optim *o, const float *grads, size_t lo, size_t hi, double lr,
                           float gscale, int check) {
  int bad = 0;
  /* [lo, hi) in pieces: each dense layer's weights among them with the
   * pointer to their bf16 copy when the backend lets the update write it
   * (then counted as rounded), everything else (biases, fp32, OpenBLAS) plain
   * and reported afterwards as before. Pieces are contiguous and in order, so
   * every parameter is updated exactly once. */
  size_t at = lo;
  for (int i = 0; i < m->n_layers && at < hi; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    size_t w0 = l->w_off, w1 = l->w_off + (size_t)l->out * (size_t)l->in;
    size_t a = at > w0 ? at : w0, b = hi < w1 ? hi : w1;
    if (a >= b) continue;
    uint16_t *q = ht_gemm_weights_bf16(m->gemm, l->dense, (long)(a - w0));
    if (!q) continue;
    if (at < a) {
      bad |= ht_optim_update_check(o, m->params, grads, at, a, lr, gscale, NULL, check);
      ht_model_params_updated(m, at, a);
    }
    bad |= ht_optim_update_check(o, m->params, grads, a, b, lr, gscale, q, check);
    ht_gemm_weights_rounded(m->gemm, l->dense, (long)(a - w0), (long)(b - w0));
    at = b;
  }
  if (at < hi) {
    bad |= ht_optim_update_check(o, m->params, grads, at, hi, lr, gscale, NULL, check);
    ht_model_params_updated(m, at, hi);
  }
  return bad;
}

/* Checks B and that the labels or targets the loss needs are there. */
static int check_batch(const ht_model *m, const int32_t *y, const float *t, int B, const char *what) {
  if (B < 1 || B > m->max_batch)
    return ht_error(HT_EINVAL, "model %s: a batch of %d rows, the model was created for 1..%d", what, B, m->max_batch);
  if (m->spec.regression && !t) return ht_error(HT_EINVAL, "model %s: regression model given no targets", what);
  if (!m->spec.regression && !y) return ht_error(HT_EINVAL, "model %s: classifier given no labels", what);
  return 0;
}

double ht_model_step(ht_model *m, const float *x, const int32_t *y, const float *t, int B,
                     ht_grad_ready_fn ready, void *user) {
  if (check_batch(m, y, t, B, "step") < 0) return NAN;
  if (!ht_model_forward(m, x, B)) return NAN;
  double loss = model_loss(m, y, t, B);
  if (ready) ready(user, -1, 0, 0);
  for (int i = m->n_layers - 1; i >= 0; i--) {
    const ht_layer *l = &m->layers[i];
    long n = (long)B * l->out;
    switch (l->kind) {
    case HT_LAYER_DENSE: {
      int rows = slice_rows(m, l);
      float *dw = m->grads + l->w_off, *db = m->grads + l->b_off;
      /* The bias gradient first (it travels with the last rows), then row
       * blocks of dW from the last to the first, each reported as soon as it
       * is final, so the allreduce of one block runs while the next is
       * computed. */
      ht_dense_backward_bias(db, m->dact[i + 1], B, l->out);
      if (ht_gemm_backward_begin(m->gemm, l->dense, m->dact[i + 1], B) < 0) return NAN;
      for (int o1 = l->out; o1 > 0; o1 -= rows) {
        int o0 = o1 - rows > 0 ? o1 - rows : 0;
        if (ht_gemm_backward_weights(m->gemm, l->dense, dw, m->dact[i + 1], m->act[i], B, o0, o1) < 0) return NAN;
        if (m->spec.l2 > 0.0) apply_l2_rows(m, l, o0, o1);
        size_t lo = l->w_off + (size_t)o0 * (size_t)l->in;
        size_t hi = o1 == l->out ? l->b_off + (size_t)l->out : l->w_off + (size_t)o1 * (size_t)l->in;
        if (ready) ready(user, i, lo, hi);
      }
      if (m->spec.l2 > 0.0) loss += l2_term(m, l);
      /* Layer 0's input is the data: no gradient needed there. */
      if (i > 0 && ht_gemm_backward_input(m->gemm, l->dense, m->dact[i], m->dact[i + 1], m->params + l->w_off, B) < 0)
        return NAN;
      break;
    }
    case HT_LAYER_RELU:
      ht_relu_backward(m->dact[i], m->dact[i + 1], m->act[i + 1], n);
      break;
    case HT_LAYER_TANH:
      ht_tanh_backward(m->dact[i], m->dact[i + 1], m->act[i + 1], n);
      break;
    case HT_LAYER_SIGMOID:
      ht_sigmoid_backward(m->dact[i], m->dact[i + 1], m->act[i + 1], n);
      break;
    }
  }
  return loss;
}

/* Predicted class of one row of logits: argmax (ties -> lowest index), or
 * logit > 0 for the single-logit logistic model. */
static int32_t row_class(const ht_model *m, const float *z) {
  if (m->n_logits == 1) return z[0] > 0.0f ? 1 : 0;
  int32_t best = 0;
  for (int c = 1; c < m->n_logits; c++)
    if (z[c] > z[best]) best = c;
  return best;
}

void ht_model_eval(ht_model *m, const float *x, const int32_t *y, const float *t, int B,
                   double *loss_sum, int64_t *correct, double *sse) {
  if (check_batch(m, y, t, B, "eval") < 0) return;
  const float *logits = ht_model_forward(m, x, B);
  if (!logits) {
    /* The GEMM failed (its message is recorded): make the sums say so. */
    if (loss_sum) *loss_sum = NAN;
    if (sse) *sse = NAN;
    return;
  }
  int C = m->n_logits;
  /* The loss returns a mean; dact[L] is only scratch here. */
  double mean = model_loss(m, y, t, B);
  if (loss_sum) *loss_sum += mean * B;
  if (m->spec.regression) {
    double s = 0.0;
    for (long k = 0; k < (long)B * C; k++) {
      double e = (double)logits[k] - (double)t[k];
      s += e * e;
    }
    if (sse) *sse += s;
  } else if (correct) {
    int64_t hits = 0;
    for (int r = 0; r < B; r++) hits += row_class(m, logits + (long)r * C) == y[r];
    *correct += hits;
  }
}

void ht_model_predict(const ht_model *m, int B, int32_t *pred) {
  const float *logits = m->act[m->n_layers];
  for (int r = 0; r < B; r++) pred[r] = row_class(m, logits + (long)r * m->n_logits);
}

void ht_model_destroy(ht_model *m) {
  free(m->params);
  free(m->grads);
  free(m->l2_rows);
  ht_gemm_destroy(&m->gemm);
  /* act[0] is the caller's input, not ours. */
  for (int i = 1; i <= HT_MAX_LAYERS; i++) {
    free(m->act[i]);
    free(m->dact[i]);
  }
  memset(m, 0, sizeof *m);
}
