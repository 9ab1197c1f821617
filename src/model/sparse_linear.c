/*
 * Sparse linear models and their SGD update (formulas and the lazy L2 in
 * hytrain/sparse_model.h and docs/sparse.md).
 *
 * Shape legend:
 *   D = m->d features, k = m->k columns, nnz = non-zeros of the row
 *   w [D + 1, k] (row D = bias), stamp [D], scratch [nnz * k] caught-up
 *   weights of the row's features, then z [k] and dz [k]
 *
 * Every access to w and stamp is a relaxed atomic load or store: the same
 * code runs on one thread (serial, locked) and on many (Hogwild!). On x86
 * a relaxed float load or store is a plain move, so the serial engine pays
 * nothing for it. Arithmetic is in float, except the decay factors (double).
 */
#include "hytrain/sparse_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

#define RELAXED memory_order_relaxed
/* Features ahead of the current one whose weight is prefetched. */
#define PREFETCH_AHEAD 12

static inline float ld(const _Atomic float *p) { return atomic_load_explicit(p, RELAXED); }
static inline void st(_Atomic float *p, float v) { atomic_store_explicit(p, v, RELAXED); }

int ht_sparse_model_create(ht_sparse_model *m, ht_model_type type, int d, int num_classes, double l2) {
  memset(m, 0, sizeof *m);
  int k = 0;
  switch (type) {
  case HT_MODEL_LOGISTIC:
  case HT_MODEL_SVM:
    if (num_classes != 2)
      return ht_error(HT_ECONFIG, "model.type: %s on sparse data is a binary model, the data has %s (use softmax)",
                      ht_enum_name(&ht_model_types, (int)type), num_classes ? "more than 2 classes" : "regression targets");
    k = 1;
    break;
  case HT_MODEL_LINEAR:
    if (num_classes != 0) return ht_error(HT_ECONFIG, "model.type: linear needs regression targets, the data has %d classes", num_classes);
    k = 1;
    break;
  case HT_MODEL_SOFTMAX:
    if (num_classes < 2) return ht_error(HT_ECONFIG, "model.type: softmax needs class labels, the data has regression targets");
    k = num_classes;
    break;
  case HT_MODEL_MLP:
    return ht_error(HT_ECONFIG, "model.type: mlp is not a sparse linear model (sparse engines take logistic, svm, linear or softmax)");
  }
  if (d < 1 || k < 1) return ht_error(HT_EINVAL, "sparse model: %d features x %d columns", d, k);
  m->type = type;
  m->d = d;
  m->k = k;
  m->l2 = l2;
  m->w = calloc((size_t)(d + 1) * (size_t)k, sizeof *m->w);
  m->stamp = calloc((size_t)d, sizeof *m->stamp);
  if (!m->w || !m->stamp) {
    ht_sparse_model_destroy(m);
    return ht_error(HT_ENOMEM, "out of memory for a sparse model of %d features x %d columns", d, k);
  }
  return 0;
}

void ht_sparse_model_destroy(ht_sparse_model *m) {
  free(m->w);
  free(m->stamp);
  memset(m, 0, sizeof *m);
}

size_t ht_sparse_model_size(const ht_sparse_model *m) { return (size_t)(m->d + 1) * (size_t)m->k; }

void ht_sparse_model_get(const ht_sparse_model *m, float *out) {
  size_t n = ht_sparse_model_size(m);
  for (size_t i = 0; i < n; i++) out[i] = ld(&m->w[i]);
}

void ht_sparse_model_set(ht_sparse_model *m, const float *in) {
  size_t n = ht_sparse_model_size(m);
  for (size_t i = 0; i < n; i++) st(&m->w[i], in[i]);
}

int ht_sparse_clock_create(ht_sparse_clock *c, int64_t cap) {
  memset(c, 0, sizeof *c);
  if (cap < 1) cap = 1;
  c->cap = cap;
  c->lr = malloc(sizeof(float) * (size_t)cap);
  c->logdecay = malloc(sizeof(double) * (size_t)(cap + 1));
  if (!c->lr || !c->logdecay) {
    ht_sparse_clock_destroy(c);
    return ht_error(HT_ENOMEM, "out of memory for a clock of %lld ticks", (long long)cap);
  }
  return 0;
}

void ht_sparse_clock_destroy(ht_sparse_clock *c) {
  free(c->lr);
  free(c->logdecay);
  memset(c, 0, sizeof *c);
}

int ht_sparse_clock_fill(ht_sparse_clock *c, const ht_sched *s, int64_t step0, int64_t len, double l2) {
  if (len > c->cap) return ht_error(HT_EINTERNAL, "sparse clock: %lld ticks, room for %lld", (long long)len, (long long)c->cap);
  c->len = len;
  c->logdecay[0] = 0;
  for (int64_t t = 0; t < len; t++) {
    double lr = ht_sched_lr(s, step0 + t);
    if (lr * l2 >= 1.0)
      return ht_error(HT_ECONFIG, "model.l2: %g times the learning rate %g is >= 1, so the L2 decay factor 1 - lr*l2 is not positive",
                      l2, lr);
    c->lr[t] = (float)lr;
    c->logdecay[t + 1] = c->logdecay[t] + log1p(-lr * l2);
  }
  return 0;
}

/* log(1 + exp(z)) without overflow for large |z|. */
static double softplus(double z) { return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

double ht_sparse_loss(ht_model_type type, int k, const float *z, int32_t y, float t, float *dz) {
  switch (type) {
  case HT_MODEL_LOGISTIC: {
    double s = y ? 1.0 : -1.0;
    dz[0] = (float)(1.0 / (1.0 + exp(-(double)z[0])) - (y ? 1.0 : 0.0));
    return softplus(-s * z[0]);
  }
  case HT_MODEL_SVM: {
    double s = y ? 1.0 : -1.0, margin = s * z[0];
    dz[0] = margin < 1.0 ? (float)-s : 0.0f;
    return margin < 1.0 ? 1.0 - margin : 0.0;
  }
  case HT_MODEL_LINEAR: {
    double r = (double)z[0] - (double)t;
    dz[0] = (float)r;
    return 0.5 * r * r;
  }
  case HT_MODEL_SOFTMAX: {
    double zmax = z[0], sum = 0;
    for (int c = 1; c < k; c++)
      if (z[c] > zmax) zmax = z[c];
    for (int c = 0; c < k; c++) sum += exp((double)z[c] - zmax);
    for (int c = 0; c < k; c++) dz[c] = (float)(exp((double)z[c] - zmax) / sum - (c == y ? 1.0 : 0.0));
    return log(sum) + zmax - (double)z[y];
  }
  case HT_MODEL_MLP: break;
  }
  return NAN;
}

/* Rare features miss the cache: asks for the weights of the feature
 * PREFETCH_AHEAD places after i (one or two cache lines for k weights),
 * with write intent, as the update stores to them. always_inline: GCC 12
 * judges a void function holding only prefetches side-effect free when it
 * does not inline it early, and then deletes its calls (the prefetches were
 * silently gone while this was plain static inline). */
__attribute__((always_inline)) static inline void prefetch_ahead(const ht_sparse_model *m, const int32_t *idx, int64_t i, int64_t nnz) {
  if (i + PREFETCH_AHEAD >= nnz) return;
  const _Atomic float *ahead = m->w + (size_t)idx[i + PREFETCH_AHEAD] * m->k;
  __builtin_prefetch((const void *)ahead, 1);
  if (m->k > 1) __builtin_prefetch((const void *)(ahead + m->k - 1), 1);
}

/* The factor that brings a feature stamped at tick s to tick t. */
static inline float decay(const ht_sparse_clock *c, int32_t s, int64_t t) {
  return (int64_t)s == t ? 1.0f : (float)exp(c->logdecay[t] - c->logdecay[s]);
}

/* k = 1: the binary and regression models, the hot loop of the benchmark. */
static double step_1(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx, const float *val,
                     int64_t nnz, int32_t y, float yt, float *wc, float *bias_delta) {
  const int lazy = m->l2 > 0;
  const float lr = c->lr[t];
  float z = ld(&m->w[m->d]);
  if (bias_delta) z += bias_delta[0];
  for (int64_t i = 0; i < nnz; i++) {
    prefetch_ahead(m, idx, i, nnz);
    int32_t j = idx[i];
    float wj = ld(&m->w[j]);
    if (lazy) wj *= decay(c, atomic_load_explicit(&m->stamp[j], RELAXED), t);
    wc[i] = wj;
    z += wj * val[i];
  }
  float dz = 0;
  double loss = ht_sparse_loss(m->type, 1, &z, y, yt, &dz);
  const float keep = lazy ? (float)(1.0 - (double)lr * m->l2) : 1.0f, step = lr * dz;
  for (int64_t i = 0; i < nnz; i++) {
    int32_t j = idx[i];
    st(&m->w[j], wc[i] * keep - step * val[i]);
    if (lazy) atomic_store_explicit(&m->stamp[j], (int32_t)(t + 1), RELAXED);
  }
  if (bias_delta)
    bias_delta[0] -= step;
  else
    st(&m->w[m->d], ld(&m->w[m->d]) - step);
  return loss;
}

double ht_sparse_step(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx, const float *val,
                      int64_t nnz, int32_t y, float yt, float *scratch) {
  return ht_sparse_step_replica(m, c, t, idx, val, nnz, y, yt, scratch, NULL);
}

double ht_sparse_step_replica(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx,
                              const float *val, int64_t nnz, int32_t y, float yt, float *scratch, float *bias_delta) {
  if (m->k == 1) return step_1(m, c, t, idx, val, nnz, y, yt, scratch, bias_delta);
  const int k = m->k, lazy = m->l2 > 0;
  const float lr = c->lr[t];
  float *wc = scratch, *z = scratch + nnz * k, *dz = z + k;
  for (int cl = 0; cl < k; cl++) z[cl] = ld(&m->w[(size_t)m->d * k + cl]) + (bias_delta ? bias_delta[cl] : 0.0f);
  for (int64_t i = 0; i < nnz; i++) {
    prefetch_ahead(m, idx, i, nnz);
    const _Atomic float *wj = m->w + (size_t)idx[i] * k;
    float f = lazy ? decay(c, atomic_load_explicit(&m->stamp[idx[i]], RELAXED), t) : 1.0f, v = val[i];
    float *wci = wc + i * k;
    for (int cl = 0; cl < k; cl++) {
      wci[cl] = ld(&wj[cl]) * f;
      z[cl] += wci[cl] * v;
    }
  }
  double loss = ht_sparse_loss(m->type, k, z, y, yt, dz);
  const float keep = lazy ? (float)(1.0 - (double)lr * m->l2) : 1.0f;
  for (int cl = 0; cl < k; cl++) dz[cl] *= lr;
  for (int64_t i = 0; i < nnz; i++) {
    _Atomic float *wj = m->w + (size_t)idx[i] * k;
    const float *wci = wc + i * k;
    float v = val[i];
    for (int cl = 0; cl < k; cl++) st(&wj[cl], wci[cl] * keep - dz[cl] * v);
    if (lazy) atomic_store_explicit(&m->stamp[idx[i]], (int32_t)(t + 1), RELAXED);
  }
  _Atomic float *b = m->w + (size_t)m->d * k;
  if (bias_delta)
    for (int cl = 0; cl < k; cl++) bias_delta[cl] -= dz[cl];
  else
    for (int cl = 0; cl < k; cl++) st(&b[cl], ld(&b[cl]) - dz[cl]);
  return loss;
}

void ht_sparse_fold_bias(ht_sparse_model *m, float *bias_delta) {
  _Atomic float *b = m->w + (size_t)m->d * m->k;
  for (int cl = 0; cl < m->k; cl++) {
    float old = ld(&b[cl]);
    while (!atomic_compare_exchange_weak_explicit(&b[cl], &old, old + bias_delta[cl], RELAXED, RELAXED)) {
    }
    bias_delta[cl] = 0;
  }
}

static inline uint32_t hot_hash(uint32_t j, int bits) { return (j * 2654435761u) >> (32 - bits); }

int ht_sparse_hot_create(ht_sparse_hot *hot, int d, const int64_t *indptr, const int32_t *indices, int64_t rows,
                         double min_share, int cap) {
  memset(hot, 0, sizeof *hot);
  int32_t *count = calloc((size_t)d, sizeof *count);
  if (!count) return ht_error(HT_ENOMEM, "out of memory for the hot features of %d features", d);
  for (int64_t i = indptr[0]; i < indptr[rows]; i++)
    if (indices[i] >= 0 && indices[i] < d) count[indices[i]]++;
  /* The threshold: present in min_share of the rows, raised until at most
   * cap features pass it. */
  int64_t bar = (int64_t)ceil(min_share * (double)rows), n = 0;
  if (bar < 1) bar = 1;
  for (;;) {
    n = 0;
    for (int j = 0; j < d; j++) n += count[j] >= bar;
    if (n <= cap) break;
    bar += bar / 8 + 1;
  }
  if (n == 0) {
    free(count);
    return 0;
  }
  /* At least 4 slots per hot feature: few collisions. */
  hot->bits = 2;
  while ((1ll << hot->bits) < 4 * n) hot->bits++;
  hot->n = 1 << hot->bits;
  hot->tag = malloc(sizeof(int32_t) * (size_t)hot->n);
  if (!hot->tag) {
    free(count);
    hot->n = 0;
    return ht_error(HT_ENOMEM, "out of memory for %lld hot features", (long long)n);
  }
  for (int s = 0; s < hot->n; s++) hot->tag[s] = -1;
  for (int j = 0; j < d; j++) {
    if (count[j] < bar) continue;
    int32_t *t = &hot->tag[hot_hash((uint32_t)j, hot->bits)];
    if (*t < 0 || count[*t] < count[j]) *t = j;
  }
  for (int s = 0; s < hot->n; s++) hot->count += hot->tag[s] >= 0;
  free(count);
  return 0;
}

void ht_sparse_hot_destroy(ht_sparse_hot *hot) {
  free(hot->tag);
  memset(hot, 0, sizeof *hot);
}

double ht_sparse_step_hot(ht_sparse_model *m, const ht_sparse_clock *c, int64_t t, const int32_t *idx, const float *val,
                          int64_t nnz, int32_t y, float yt, float *scratch, float *bias_delta, const ht_sparse_hot *hot,
                          _Atomic float *rep) {
  const float lr = c->lr[t];
  const uint32_t spare = (uint32_t)hot->n;
  const int bits = hot->bits;
  const int32_t *tag = hot->tag;
  float *wc = scratch, *slot = scratch + nnz; /* slot[i]: a uint32_t in a float's bytes (memcpy, no aliasing) */
  float z = ld(&m->w[m->d]) + bias_delta[0];
  for (int64_t i = 0; i < nnz; i++) {
    prefetch_ahead(m, idx, i, nnz);
    int32_t j = idx[i];
    uint32_t h = hot_hash((uint32_t)j, bits);
    /* all ones when j is hot: the slot, else the spare (no branch) */
    uint32_t mask = -(uint32_t)(tag[h] == j);
    uint32_t s = spare ^ ((h ^ spare) & mask);
    memcpy(&slot[i], &s, sizeof s);
    float wj = ld(&m->w[j]) + ld(&rep[s]);
    wc[i] = wj;
    z += wj * val[i];
  }
  float dz = 0;
  double loss = ht_sparse_loss(m->type, 1, &z, y, yt, &dz);
  const float step = lr * dz;
  for (int64_t i = 0; i < nnz; i++) {
    uint32_t s;
    memcpy(&s, &slot[i], sizeof s);
    uintptr_t mask = (uintptr_t)0 - (uintptr_t)(s != spare);
    /* hot: the replica (its value alone), cold: the shared weight (the value
     * read, as the plain step); selected without a branch */
    uintptr_t a = (uintptr_t)(m->w + idx[i]), b = (uintptr_t)(rep + s);
    _Atomic float *dst = (_Atomic float *)(a ^ ((a ^ b) & mask));
    uint32_t wbits;
    memcpy(&wbits, &wc[i], sizeof wbits);
    wbits &= ~(uint32_t)mask; /* cold: wc[i], hot: +0 */
    float wcold;
    memcpy(&wcold, &wbits, sizeof wcold);
    float base = ld(&rep[s]) + wcold;
    st(dst, base - step * val[i]);
  }
  bias_delta[0] -= step;
  return loss;
}

void ht_sparse_fold_hot(ht_sparse_model *m, const ht_sparse_hot *hot, _Atomic float *rep) {
  for (int s = 0; s < hot->n; s++) {
    float v = ld(&rep[s]);
    if (v == 0.0f) continue;
    _Atomic float *w = m->w + hot->tag[s];
    st(w, ld(w) + v);
    st(&rep[s], 0.0f);
  }
}

void ht_sparse_prefetch(const ht_sparse_model *m, const int32_t *idx, int64_t nnz) {
  if (nnz > PREFETCH_AHEAD) nnz = PREFETCH_AHEAD;
  for (int64_t i = 0; i < nnz; i++) {
    const _Atomic float *wj = m->w + (size_t)idx[i] * m->k;
    __builtin_prefetch((const void *)wj, 1);
    if (m->k > 1) __builtin_prefetch((const void *)(wj + m->k - 1), 1);
  }
}

void ht_sparse_catch_up(ht_sparse_model *m, const ht_sparse_clock *c) {
  if (m->l2 > 0)
    for (int j = 0; j < m->d; j++) {
      float f = decay(c, atomic_load_explicit(&m->stamp[j], RELAXED), c->len);
      _Atomic float *wj = m->w + (size_t)j * m->k;
      for (int cl = 0; cl < m->k; cl++) st(&wj[cl], ld(&wj[cl]) * f);
    }
  for (int j = 0; j < m->d; j++) atomic_store_explicit(&m->stamp[j], 0, RELAXED);
}

void ht_sparse_predict(const ht_sparse_model *m, const int32_t *idx, const float *val, int64_t nnz, float *z) {
  const int k = m->k;
  for (int cl = 0; cl < k; cl++) z[cl] = ld(&m->w[(size_t)m->d * k + cl]);
  for (int64_t i = 0; i < nnz; i++) {
    prefetch_ahead(m, idx, i, nnz);
    const _Atomic float *wj = m->w + (size_t)idx[i] * k;
    for (int cl = 0; cl < k; cl++) z[cl] += ld(&wj[cl]) * val[i];
  }
}
