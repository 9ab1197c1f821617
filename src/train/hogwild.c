/*
 * The Hogwild workers (their one owner file) and the averaging of the
 * weights across ranks. Protocol and hand-offs in train/hogwild.h.
 *
 * Why chunks of ticks: the workers take CHUNK consecutive ticks of the
 * epoch's shuffled order at a time from one shared counter, so the ticks of
 * all workers are exactly 0 .. rows-1 (the lazy-L2 clock,
 * hytrain/sparse_model.h, has one entry per row), with T = 1 the hogwild
 * engine performs the serial engine's updates in the serial engine's order,
 * and a worker slowed down (by the other one's cache misses, or by another
 * process on its core) takes fewer chunks instead of making the other wait
 * at the end of the epoch (fixed strided parts, before, left one worker
 * idle for 2-10 % of the epoch). A tick used out of order is exact for the
 * lazy L2: the decay factor exp(L[t] - L[stamp]) is then above 1 and takes
 * the weight back to tick t, so the decays still telescope.
 */
#include "train/hogwild.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comm/comm_thread.h"
#include "hytrain/error.h"
#include "hytrain/timer.h"

/* Updates between two publications of a worker's count (and timeline spans). */
#define PUBLISH_EVERY 4096
/* Updates between two folds of a worker's bias replica into the shared bias:
 * the other workers see its bias steps this much later (a bounded delay, as
 * a lost update in Hogwild!), and the bias cache line moves between cores
 * once per fold instead of at every update. */
#define FOLD_EVERY 256
/* How many of its own updates ahead a worker prefetches a row's place in
 * indptr (the order is shuffled: a miss), then the row's indices and values;
 * the next row's first weights are prefetched one update ahead. */
#define ROW_AHEAD_PTR 4
#define ROW_AHEAD_DATA 2
/* Ticks a worker takes from the shared counter at a time (at most; an
 * epoch of fewer than 16 T CHUNK rows gets 16 chunks per worker): one atomic
 * add (a shared cache line) per chunk, and at most one chunk's time between
 * the workers' ends. */
#define CHUNK 1024
/* Hot-feature replicas (hogwild, T >= 2, k = 1, l2 = 0; docs/sparse.md):
 * features present in at least HOT_MIN_ROWS of every HOT_FOLD_EVERY rows
 * (so a fold saves at least HOT_MIN_ROWS - 1 cache-line moves each), at
 * most HOT_CAP of them, counted on the first HOT_SAMPLE rows of the data at
 * the first epoch; every worker folds its replica every HOT_FOLD_EVERY
 * updates. Measured on the benchmark data: 4 of 256 (about 250 features)
 * beat 2 of 256, 8 of 256 and folds every 1024. */
#define HOT_FOLD_EVERY 256
#define HOT_MIN_ROWS 4
#define HOT_CAP 4096
#define HOT_SAMPLE 262144

/* One worker. The struct is aligned to (and a multiple of) a cache line, so
 * the counter one thread writes never shares a line with another's. */
typedef struct worker {
  _Alignas(64) _Atomic int64_t done; /* updates published so far this epoch (the coordinator reads it) */
  double loss;                       /* sum of row losses, read after join */
  double cpu_s;                      /* the thread's CPU time this epoch, read after join */
  int64_t nnz;                       /* non-zeros processed this epoch, read after join */
  int64_t count;                     /* ticks of this worker this epoch, read after join */
  int index;
  pthread_t thread;
  struct ht__hogwild *h;
  float *scratch;                    /* [2 max_nnz k + 2k] */
  float *bias_delta;                 /* [k] in its own cache lines: the bias replica (hogwild, T >= 2), or NULL */
  _Atomic float *rep;                /* [hot.n + 1] in its own cache lines: the hot-feature replica, or NULL */
  ht_track *track;                   /* its own timeline track, or NULL */
} worker;

struct ht__hogwild {
  _Alignas(64) _Atomic int64_t next; /* the epoch's next unclaimed tick: the one line all workers write */
  char pad_[56];
  ht__hogwild_opts o;
  int T;
  ht_sparse_model *m;
  const ht_csr *data;
  const ht_comm *comm;
  pthread_mutex_t lock;              /* locked engine: one update at a time */
  worker *w;                         /* [T] */
  /* The epoch being run (set before the workers start, read-only while they run). */
  const int64_t *order;
  int64_t rows;
  int64_t chunk;                     /* ticks claimed at a time this epoch, at most CHUNK */
  const ht_sparse_clock *clock;
  /* Averaging across ranks (size > 1). */
  ht_comm_thread *ct;
  ht_bucket *buckets;
  int n_buckets;
  float *snap;                       /* [n] handed to the communication thread, summed in place */
  float *before;                     /* [n] the weights the snapshot was taken from */
  ht_track *main_track;              /* the coordinator's (the caller's) track, or NULL */
  int hot_on;                        /* hot-feature replicas wanted (hogwild, T >= 2, k = 1, l2 = 0) */
  int hot_ready;                     /* hot and the replicas set up (at the first epoch) */
  ht_sparse_hot hot;                 /* the hot features, read-only while the workers run */
};

int ht__hogwild_threads(const ht__hogwild *h) { return h->T; }

/* Asks the cache for what the update at tick t + ROW_AHEAD_PTR,
 * t + ROW_AHEAD_DATA and t + 1 (of the worker's chunk, which ends at end)
 * reads first: the rows are visited in shuffled order, so without this each
 * update starts with misses on indptr, the row's indices and values, and
 * its first weights. Changes nothing. */
static void prefetch_rows(const ht__hogwild *h, int64_t t, int64_t end) {
  const ht_csr *d = h->data;
  if (t + ROW_AHEAD_PTR < end) __builtin_prefetch(&d->indptr[h->order[t + ROW_AHEAD_PTR]], 0);
  if (t + ROW_AHEAD_DATA < end) {
    int64_t r = h->order[t + ROW_AHEAD_DATA], lo = d->indptr[r], hi = d->indptr[r + 1];
    /* 16 four-byte entries per 64-byte line; the last entry's line too. */
    for (int64_t i = lo; i < hi; i += 16) {
      __builtin_prefetch(&d->indices[i], 0);
      __builtin_prefetch(&d->values[i], 0);
    }
    if (hi > lo) {
      __builtin_prefetch(&d->indices[hi - 1], 0);
      __builtin_prefetch(&d->values[hi - 1], 0);
    }
    if (d->y) __builtin_prefetch(&d->y[r], 0);
    if (d->yt) __builtin_prefetch(&d->yt[r], 0);
  }
  if (t + 1 < end) {
    int64_t r = h->order[t + 1], lo = d->indptr[r];
    ht_sparse_prefetch(h->m, d->indices + lo, d->indptr[r + 1] - lo);
  }
}

static void *worker_main(void *arg) {
  worker *wk = arg;
  ht__hogwild *h = wk->h;
  char name[16];
  snprintf(name, sizeof name, "ht-hogwild-%d", wk->index);
  pthread_setname_np(pthread_self(), name);
  const ht_csr *d = h->data;
  const int locked = h->o.engine == HT_ENGINE_LOCKED;
  double loss = 0, cpu0 = ht_thread_cpu_seconds();
  int64_t nnz_sum = 0, k = 0; /* k: this worker's updates so far */
  ht_track_begin(wk->track, HT_EV_SGD_UPDATES, wk->index);
  for (;;) {
    int64_t t = atomic_fetch_add_explicit(&h->next, h->chunk, memory_order_relaxed);
    if (t >= h->rows) break;
    const int64_t end = t + h->chunk < h->rows ? t + h->chunk : h->rows;
    /* Prefetch within the chunk; a lone worker gets every chunk, so it
     * looks across their borders too. */
    const int64_t ahead_end = h->T == 1 ? h->rows : end;
    for (; t < end; t++, k++) {
      int64_t r = h->order[t];
      int64_t k0 = d->indptr[r], nnz = d->indptr[r + 1] - k0;
      nnz_sum += nnz;
      int32_t y = d->y ? d->y[r] : 0;
      float yt = d->yt ? d->yt[r] : 0;
      prefetch_rows(h, t, ahead_end);
      if (locked) pthread_mutex_lock(&h->lock);
      if (wk->rep)
        loss += ht_sparse_step_hot(h->m, h->clock, t, d->indices + k0, d->values + k0, nnz, y, yt, wk->scratch,
                                   wk->bias_delta, &h->hot, wk->rep);
      else
        loss += ht_sparse_step_replica(h->m, h->clock, t, d->indices + k0, d->values + k0, nnz, y, yt, wk->scratch,
                                       wk->bias_delta);
      if (locked) pthread_mutex_unlock(&h->lock);
      if (wk->bias_delta && (k + 1) % FOLD_EVERY == 0) ht_sparse_fold_bias(h->m, wk->bias_delta);
      /* Worker i folds at its own phase: folds of the same features at once would contend. */
      if (wk->rep && (k + 1 + wk->index * HOT_FOLD_EVERY / h->T) % HOT_FOLD_EVERY == 0) ht_sparse_fold_hot(h->m, &h->hot, wk->rep);
      if ((k + 1) % PUBLISH_EVERY == 0) {
        atomic_store_explicit(&wk->done, k + 1, memory_order_relaxed);
        if ((k + 1) % (16 * PUBLISH_EVERY) == 0) {
          /* One timeline span per 64 Ki updates: enough to see the threads, few enough to keep. */
          ht_track_end(wk->track);
          ht_track_begin(wk->track, HT_EV_SGD_UPDATES, wk->index);
        }
      }
    }
  }
  /* Every bias and hot-feature step is in the shared weights before the
   * catch-up and the average. */
  if (wk->bias_delta) ht_sparse_fold_bias(h->m, wk->bias_delta);
  if (wk->rep) ht_sparse_fold_hot(h->m, &h->hot, wk->rep);
  ht_track_end(wk->track);
  wk->loss = loss;
  wk->nnz = nnz_sum;
  wk->count = k;
  wk->cpu_s = ht_thread_cpu_seconds() - cpu0;
  atomic_store_explicit(&wk->done, k, memory_order_relaxed);
  return NULL;
}

static int64_t updates_done(const ht__hogwild *h) {
  int64_t s = 0;
  for (int i = 0; i < h->T; i++) s += atomic_load_explicit(&h->w[i].done, memory_order_relaxed);
  return s;
}

/* Sums h->snap over ranks on the communication thread, bucket by bucket. */
static int sum_snapshot(ht__hogwild *h) {
  HT_CHECK(ht_comm_thread_begin(h->ct, h->snap));
  for (int k = 0; k < h->n_buckets; k++) ht_comm_thread_enqueue(h->ct, k);
  for (int k = 0; k < h->n_buckets; k++) HT_CHECK(ht_comm_thread_wait(h->ct, k));
  return 0;
}

/* While the workers run: snapshot, sum across ranks, add the correction
 * (mean - snapshot) to the live weights. A worker's store racing with the
 * correction may overwrite it or be overwritten, like any racing update. */
static int average_live(ht__hogwild *h) {
  ht_track_begin(h->main_track, HT_EV_AVERAGE, 0);
  size_t n = ht_sparse_model_size(h->m);
  _Atomic float *w = h->m->w;
  for (size_t i = 0; i < n; i++) h->snap[i] = h->before[i] = atomic_load_explicit(&w[i], memory_order_relaxed);
  int rc = sum_snapshot(h);
  if (rc < 0) {
    ht_track_end(h->main_track);
    return rc;
  }
  const float inv = 1.0f / (float)h->comm->size;
  for (size_t i = 0; i < n; i++) {
    float delta = h->snap[i] * inv - h->before[i];
    atomic_store_explicit(&w[i], atomic_load_explicit(&w[i], memory_order_relaxed) + delta, memory_order_relaxed);
  }
  ht_track_end(h->main_track);
  return 0;
}

/* Workers stopped: every rank ends with the same mean weights. */
static int average_exact(ht__hogwild *h) {
  ht_track_begin(h->main_track, HT_EV_AVERAGE, 1);
  size_t n = ht_sparse_model_size(h->m);
  ht_sparse_model_get(h->m, h->snap);
  int rc = sum_snapshot(h);
  if (rc < 0) {
    ht_track_end(h->main_track);
    return rc;
  }
  const float inv = 1.0f / (float)h->comm->size;
  for (size_t i = 0; i < n; i++) h->snap[i] *= inv;
  ht_sparse_model_set(h->m, h->snap);
  ht_track_end(h->main_track);
  return 0;
}

/* Sleeps about 200 us (the coordinator's poll of the workers' counters). */
static void nap(void) {
  struct timespec ts = {0, 200000};
  nanosleep(&ts, NULL);
}

/* Picks the hot features from the first rows of the data and gives every
 * worker a zeroed replica (before the first epoch's workers start). */
static int setup_hot(ht__hogwild *h) {
  const ht_csr *d = h->data;
  int64_t n = d->n < HOT_SAMPLE ? d->n : HOT_SAMPLE;
  if (n > 0)
    HT_CHECK(ht_sparse_hot_create(&h->hot, h->m->d, d->indptr, d->indices, n, (double)HOT_MIN_ROWS / HOT_FOLD_EVERY, HOT_CAP));
  h->hot_ready = 1;
  if (h->hot.n == 0) return 0;
  for (int i = 0; i < h->T; i++) {
    size_t bytes = (sizeof(float) * (size_t)(h->hot.n + 1) + 63) / 64 * 64;
    h->w[i].rep = aligned_alloc(64, bytes);
    if (!h->w[i].rep) return ht_error(HT_ENOMEM, "out of memory for worker %d's hot-feature replica", i);
    for (size_t s = 0; s < bytes / sizeof(float); s++) atomic_init(&h->w[i].rep[s], 0.0f);
  }
  return 0;
}

int ht__hogwild_hot_features(const ht__hogwild *h) { return h->hot.count; }

int ht__hogwild_epoch(ht__hogwild *h, const int64_t *order, int64_t rows, const ht_sparse_clock *c, ht__epoch_stats *st) {
  memset(st, 0, sizeof *st);
  if (c->len != rows) return ht_error(HT_EINTERNAL, "hogwild: clock of %lld ticks for %lld rows", (long long)c->len, (long long)rows);
  h->order = order;
  h->rows = rows;
  h->clock = c;
  /* Small epochs (tests, stream chunks) get smaller chunks: at least 16 per worker. */
  h->chunk = rows / (16 * h->T);
  if (h->chunk > CHUNK) h->chunk = CHUNK;
  if (h->chunk < 1) h->chunk = 1;
  atomic_store_explicit(&h->next, 0, memory_order_relaxed);
  if (h->hot_on && !h->hot_ready) HT_CHECK(setup_hot(h));
  double t0 = ht_now();
  int started = 0, rc = 0;
  for (int i = 0; i < h->T; i++) {
    worker *wk = &h->w[i];
    atomic_store_explicit(&wk->done, 0, memory_order_relaxed);
    wk->loss = 0;
    if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) {
      rc = ht_error(HT_EINTERNAL, "hogwild: cannot start worker thread %d", i);
      break;
    }
    started++;
  }
  /* The averages of this epoch: the same count on every rank. */
  int64_t rounds = h->ct && h->o.average_every > 0 ? (rows - 1) / h->o.average_every : 0;
  for (int64_t a = 1; a <= rounds && rc == 0 && started == h->T; a++) {
    while (updates_done(h) < a * h->o.average_every) nap();
    double ta = ht_now();
    rc = average_live(h);
    st->average_s += ht_now() - ta;
    st->averages++;
  }
  for (int i = 0; i < started; i++) pthread_join(h->w[i].thread, NULL);
  if (rc < 0) return rc;
  st->seconds = ht_now() - t0;
  for (int i = 0; i < h->T; i++) {
    st->loss_sum += h->w[i].loss;
    st->updates += h->w[i].count;
    st->nnz += h->w[i].nnz;
    st->cpu_s += h->w[i].cpu_s;
  }
  ht_sparse_catch_up(h->m, c);
  if (h->ct) {
    double ta = ht_now();
    HT_CHECK(average_exact(h));
    st->average_s += ht_now() - ta;
    st->averages++;
  }
  return 0;
}

int ht__hogwild_create(ht__hogwild **out, const ht__hogwild_opts *o, ht_sparse_model *m, const ht_csr *data,
                       const ht_comm *comm, ht_events *ev, int64_t max_nnz) {
  *out = NULL;
  /* Aligned: the shared tick counter has its cache line to itself. */
  ht__hogwild *h = aligned_alloc(64, (sizeof *h + 63) / 64 * 64);
  if (!h) return ht_error(HT_ENOMEM, "out of memory for the hogwild engine");
  memset(h, 0, sizeof *h);
  h->o = *o;
  h->T = o->engine == HT_ENGINE_SERIAL || o->threads < 1 ? 1 : o->threads;
  h->m = m;
  h->data = data;
  h->comm = comm;
  pthread_mutex_init(&h->lock, NULL);
  h->hot_on = o->engine == HT_ENGINE_HOGWILD && h->T > 1 && m->k == 1 && m->l2 == 0;
  *out = h;
  h->main_track = ev ? ht_events_track(ev, 0, "main") : NULL;
  h->w = aligned_alloc(64, sizeof(worker) * (size_t)h->T);
  if (!h->w) return ht_error(HT_ENOMEM, "out of memory for %d workers", h->T);
  memset(h->w, 0, sizeof(worker) * (size_t)h->T);
  size_t scratch = (size_t)(2 * max_nnz + 2) * (size_t)m->k; /* ht_sparse_step_hot needs 2 nnz + 2 */
  for (int i = 0; i < h->T; i++) {
    worker *wk = &h->w[i];
    wk->index = i;
    wk->h = h;
    /* Whole cache lines of its own: two workers' buffers never share one. */
    wk->scratch = aligned_alloc(64, (sizeof(float) * scratch + 63) / 64 * 64);
    if (!wk->scratch) return ht_error(HT_ENOMEM, "out of memory for worker %d's buffer", i);
    /* With one worker (serial, hogwild T = 1) the bias is updated in place,
     * so hogwild performs the serial updates bit for bit; the locked engine
     * holds a lock anyway. */
    if (o->engine == HT_ENGINE_HOGWILD && h->T > 1) {
      size_t bytes = (sizeof(float) * (size_t)m->k + 63) / 64 * 64;
      wk->bias_delta = aligned_alloc(64, bytes);
      if (!wk->bias_delta) return ht_error(HT_ENOMEM, "out of memory for worker %d's bias replica", i);
      memset(wk->bias_delta, 0, bytes);
    }
    int track = o->first_track + i;
    if (ev && track < HT_EV_MAX_TRACKS) {
      char name[32];
      snprintf(name, sizeof name, "hogwild-%d", i);
      wk->track = ht_events_track(ev, track, name);
    }
  }
  if (comm->size > 1) {
    size_t n = ht_sparse_model_size(m);
    size_t per = (size_t)(o->bucket_mb * 1048576.0 / sizeof(float));
    if (per < 1024) per = 1024;
    h->n_buckets = (int)((n + per - 1) / per);
    h->buckets = calloc((size_t)h->n_buckets, sizeof *h->buckets);
    h->snap = malloc(sizeof(float) * n);
    h->before = malloc(sizeof(float) * n);
    if (!h->buckets || !h->snap || !h->before) return ht_error(HT_ENOMEM, "out of memory for the averaging buffers (%zu weights)", n);
    /* Buckets from the end backwards, like gradient buckets; any fixed order works. */
    for (int k = 0; k < h->n_buckets; k++) {
      size_t hi = n - (size_t)k * per;
      h->buckets[k].hi = hi;
      h->buckets[k].lo = hi > per ? hi - per : 0;
    }
    ht_track *comm_track = ev ? ht_events_track(ev, 1, "comm") : NULL;
    HT_CHECK(ht_comm_thread_create(&h->ct, comm, h->buckets, h->n_buckets, NULL, NULL, o->wait, o->wait_us, NULL, -1,
                                   comm_track));
  }
  return 0;
}

void ht__hogwild_destroy(ht__hogwild **hp) {
  ht__hogwild *h = *hp;
  if (!h) return;
  ht_comm_thread_destroy(&h->ct);
  if (h->w)
    for (int i = 0; i < h->T; i++) {
      free(h->w[i].scratch);
      free(h->w[i].bias_delta);
      free((void *)h->w[i].rep);
    }
  free(h->w);
  free(h->buckets);
  free(h->snap);
  free(h->before);
  ht_sparse_hot_destroy(&h->hot);
  pthread_mutex_destroy(&h->lock);
  free(h);
  *hp = NULL;
}
