/*
 * The CSR stream loader thread ("ht-loader"): this file owns it. Pieces,
 * windows and chunks are defined in hytrain/csr_loader.h.
 *
 * Hand-off points (all under l->mu), as in the dense loader (loader.c):
 *   main -> loader: a job (epoch) tagged with a generation number, and the
 *                   stop flag; signalled on `wake`.
 *   loader -> main: finished slots (ready count) or an error; signalled on
 *                   `ready_cv`. A slot is filled outside the lock: slots are
 *                   used in ring order, and the one being filled is neither
 *                   ready nor held, so nobody else reads it.
 * A new job bumps the generation; the loader drops older work at its next
 * hand-off. The window, the piece order and the reader belong to the loader
 * thread alone.
 */
#include "hytrain/csr_loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/rng.h"
#include "hytrain/timer.h"

/* The window-shuffle stream's purpose tag (a one-window epoch uses memory
 * mode's stream instead, src/train/sparse_run.c). */
#define HT__WINDOW_TAG 0x57494e444f57ULL

typedef struct chunk_slot {
  ht_csr rows;              /* owned arrays, grown as needed */
  int64_t cap_rows, cap_nnz;
  int64_t *file_rows;       /* [cap_rows] */
  int64_t file_rows_cap;
  int64_t epoch, index, pos0, rows_read;
} chunk_slot;

struct ht_csr_loader {
  ht_csr hdr;               /* path, header, shard range (no arrays) */
  ht_csr_loader_opts o;
  int64_t n_pieces, n_windows, n_chunks;
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t wake, ready_cv;

  /* Shared, under mu. */
  uint64_t gen;
  int64_t job_epoch;
  int64_t prod_epoch, prod_chunk; /* the next chunk the loader will publish */
  int stop, ready, held, rd, err;
  uint64_t err_gen;
  char err_msg[1024];
  ht_loader_stats stats;
  ht_track *track;

  /* Main thread only. */
  int64_t epoch, next;

  /* Loader thread only (between hand-offs). */
  int nslots;
  chunk_slot *slots;
  int64_t *piece_order;     /* [n_pieces] */
  ht_csr win;               /* the current window's rows, file order within it */
  int64_t win_cap_rows, win_cap_nnz;
  int64_t *win_perm;        /* [win.n] training order of the window's rows */
  int64_t *win_file_rows;   /* [win.n] */
  int64_t win_rows_cap;     /* capacity of win_perm and win_file_rows */
  ht_csr_reader *reader;
};

int64_t ht_csr_loader_chunks(const ht_csr_loader_opts *o) {
  return o->chunk_rows > 0 ? (o->rows_per_epoch + o->chunk_rows - 1) / o->chunk_rows : 0;
}

static double mean_nnz(const ht_csr *hdr) { return hdr->n_total > 0 ? (double)hdr->nnz_total / (double)hdr->n_total : 0; }

int64_t ht_csr_loader_auto_chunk_rows(const ht_csr *hdr) {
  double row = 8.0 * mean_nnz(hdr) + 8.0; /* index + value per non-zero, indptr */
  int64_t c = (int64_t)((double)(4 << 20) / row);
  return c < 256 ? 256 : c;
}

int64_t ht_csr_loader_memory_bytes(const ht_csr *hdr, const ht_csr_loader_opts *o) {
  /* Per row: non-zeros, indptr, label, file row (window and slots), order. */
  double row = 8.0 * mean_nnz(hdr) + 8 + 4 + 8;
  int64_t win = (int64_t)o->window_chunks * o->chunk_rows;
  if (win > hdr->n) win = hdr->n;
  int64_t pieces = o->chunk_rows > 0 ? hdr->n / o->chunk_rows + 2 : 1;
  double bytes = (double)win * (row + 8) + (double)(o->prefetch + 1) * (double)o->chunk_rows * row + (double)pieces * 8;
  return (int64_t)bytes;
}

/* ---- the loader thread's side ---------------------------------------- */

/* First local row of piece k (k == n_pieces gives n): cut at multiples of C
 * of the file's row numbers. */
static int64_t piece_start(const ht_csr_loader *l, int64_t k) {
  if (k <= 0) return 0;
  if (k >= l->n_pieces) return l->hdr.n;
  const int64_t C = l->o.chunk_rows;
  return (l->hdr.row0 / C + k) * C - l->hdr.row0;
}

static void publish_error(ht_csr_loader *l, uint64_t gen, int rc) {
  pthread_mutex_lock(&l->mu);
  if (l->gen == gen && !l->err) {
    l->err = rc;
    l->err_gen = gen;
    snprintf(l->err_msg, sizeof l->err_msg, "%s", ht_error_message()[0] ? ht_error_message() : ht_strerror(rc));
    pthread_cond_broadcast(&l->ready_cv);
  }
  pthread_mutex_unlock(&l->mu);
  ht_error_clear();
}

static int wanted(ht_csr_loader *l, uint64_t gen) {
  pthread_mutex_lock(&l->mu);
  int yes = l->gen == gen && !l->stop;
  pthread_mutex_unlock(&l->mu);
  return yes;
}

static int grow_i64(int64_t **p, int64_t *cap, int64_t need) {
  if (need <= *cap) return 0;
  int64_t c = *cap > 0 ? *cap : 1024;
  while (c < need) c *= 2;
  int64_t *q = realloc(*p, sizeof(int64_t) * (size_t)c);
  if (!q) return ht_error(HT_ENOMEM, "out of memory for %lld row numbers", (long long)need);
  *p = q;
  *cap = c;
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Reads window w of the epoch (its pieces in file order) and shuffles its
 * rows. Adds the rows read to *rows_read. */
static int load_window(ht_csr_loader *l, int64_t epoch, int64_t w, int64_t *rows_read) {
  const int64_t K = l->o.window_chunks, k0 = w * K, k1 = k0 + K < l->n_pieces ? k0 + K : l->n_pieces;
  int64_t pieces[K];
  for (int64_t k = k0; k < k1; k++) pieces[k - k0] = l->piece_order[k];
  qsort(pieces, (size_t)(k1 - k0), sizeof pieces[0], cmp_i64);
  l->win.n = 0;
  for (int64_t j = 0; j < k1 - k0; j++) {
    int64_t a = piece_start(l, pieces[j]), b = piece_start(l, pieces[j] + 1), at = l->win.n;
    double t0 = ht_now();
    HT_CHECK(ht_csr_reader_append(l->reader, l->hdr.row0 + a, b - a, &l->win, &l->win_cap_rows, &l->win_cap_nnz));
    double t1 = ht_now();
    if (l->win.n > l->win_rows_cap) {
      int64_t c1 = l->win_rows_cap, c2 = l->win_rows_cap;
      HT_CHECK(grow_i64(&l->win_file_rows, &c1, l->win.n));
      HT_CHECK(grow_i64(&l->win_perm, &c2, l->win.n));
      l->win_rows_cap = c1 < c2 ? c1 : c2;
    }
    for (int64_t i = 0; i < b - a; i++) l->win_file_rows[at + i] = l->hdr.row0 + a + i;
    int64_t nnz = l->win.indptr[l->win.n] - l->win.indptr[at];
    pthread_mutex_lock(&l->mu);
    ht_track_span(l->track, HT_EV_LOAD_READ, (int)(pieces[j] < INT32_MAX ? pieces[j] : -1), t0, t1);
    l->stats.read_s += t1 - t0;
    l->stats.rows_read += b - a;
    l->stats.bytes_read += nnz * 8 + (b - a) * 12;
    pthread_mutex_unlock(&l->mu);
    *rows_read += b - a;
  }
  for (int64_t i = 0; i < l->win.n; i++) l->win_perm[i] = i;
  if (l->o.shuffle) {
    ht_rng g;
    if (l->n_windows == 1) /* memory mode's order (src/train/sparse_run.c, make_order) */
      ht_rng_seed(&g, ht_rng_mix(l->o.seed, (uint64_t)epoch, (uint64_t)l->o.rank));
    else
      ht_rng_seed(&g, ht_rng_mix(ht_rng_mix(l->o.seed ^ HT__WINDOW_TAG, (uint64_t)epoch, (uint64_t)l->o.rank), (uint64_t)w, 0));
    ht_rng_shuffle_i64(&g, l->win_perm, l->win.n);
  }
  return 0;
}

/* Copies row i of the window to the end of the slot. */
static int append_row(ht_csr_loader *l, chunk_slot *s, int64_t i) {
  const ht_csr *src = &l->win;
  ht_csr *dst = &s->rows;
  int64_t a = src->indptr[i], nnz = src->indptr[i + 1] - a, base = dst->indptr[dst->n];
  if (base + nnz > s->cap_nnz) {
    int64_t c = s->cap_nnz > 0 ? s->cap_nnz : 4096;
    while (c < base + nnz) c *= 2;
    int32_t *idx = realloc(dst->indices, sizeof(int32_t) * (size_t)c);
    if (idx) dst->indices = idx;
    float *val = realloc(dst->values, sizeof(float) * (size_t)c);
    if (val) dst->values = val;
    if (!idx || !val) return ht_error(HT_ENOMEM, "%s: out of memory for a chunk of %lld non-zeros", l->hdr.path, (long long)c);
    s->cap_nnz = c;
  }
  if (nnz > 0) { /* an empty row: no arrays may exist yet (memcpy needs real pointers even for 0 bytes) */
    memcpy(dst->indices + base, src->indices + a, sizeof(int32_t) * (size_t)nnz);
    memcpy(dst->values + base, src->values + a, sizeof(float) * (size_t)nnz);
  }
  if (dst->y) dst->y[dst->n] = src->y[i];
  if (dst->yt) dst->yt[dst->n] = src->yt[i];
  s->file_rows[dst->n] = l->win_file_rows[i];
  dst->n++;
  dst->indptr[dst->n] = base + nnz;
  return 0;
}

/* Waits for a free slot for generation gen; its index, or -1 when the job
 * was replaced or the loader stops. */
static int wait_free_slot(ht_csr_loader *l, uint64_t gen) {
  pthread_mutex_lock(&l->mu);
  while (!l->stop && l->gen == gen && l->ready + l->held >= l->nslots) pthread_cond_wait(&l->wake, &l->mu);
  int w = (!l->stop && l->gen == gen) ? (l->rd + l->held + l->ready) % l->nslots : -1;
  pthread_mutex_unlock(&l->mu);
  return w;
}

/* Produces the chunks of one epoch. 0 when done, 1 when superseded, or an error. */
static int run_epoch(ht_csr_loader *l, uint64_t gen, int64_t epoch) {
  const int64_t C = l->o.chunk_rows, rows = l->o.rows_per_epoch;
  for (int64_t k = 0; k < l->n_pieces; k++) l->piece_order[k] = k;
  if (l->o.shuffle && l->n_windows > 1) {
    ht_rng g;
    ht_rng_seed(&g, ht_rng_mix(l->o.seed ^ HT__WINDOW_TAG, (uint64_t)epoch, (uint64_t)l->o.rank));
    ht_rng_shuffle_i64(&g, l->piece_order, l->n_pieces);
  }
  /* Reopened per epoch: a file replaced mid-run is noticed at the next epoch. */
  ht_csr_reader_close(&l->reader);
  HT_CHECK(ht_csr_reader_open(&l->reader, l->hdr.path, &l->hdr));
  int64_t next_window = 0, wi = 0, pos = 0;
  l->win.n = 0;
  for (int64_t j = 0; j < l->n_chunks; j++) {
    int w = wait_free_slot(l, gen);
    if (w < 0) return 1;
    double ta = ht_now(), read_before = l->stats.read_s; /* read_s is written by this thread only */
    chunk_slot *s = &l->slots[w];
    s->rows.n = 0;
    s->rows.indptr[0] = 0;
    s->rows_read = 0;
    int64_t want = rows - pos < C ? rows - pos : C;
    while (s->rows.n < want) {
      if (wi == l->win.n) {
        if (next_window >= l->n_windows)
          return ht_error(HT_EINTERNAL, "%s: the shard's windows ran out at epoch position %lld", l->hdr.path, (long long)pos);
        if (!wanted(l, gen)) return 1;
        HT_CHECK(load_window(l, epoch, next_window++, &s->rows_read));
        wi = 0;
        continue;
      }
      HT_CHECK(append_row(l, s, l->win_perm[wi++]));
    }
    /* The rows past the epoch's cut are still read once (and validated). */
    while (j + 1 == l->n_chunks && next_window < l->n_windows) HT_CHECK(load_window(l, epoch, next_window++, &s->rows_read));
    s->epoch = epoch;
    s->index = j;
    s->pos0 = pos;
    pos += want;
    double tb = ht_now();
    pthread_mutex_lock(&l->mu);
    ht_track_span(l->track, HT_EV_LOAD_BATCH, (int)(j < INT32_MAX ? j : -1), ta, tb);
    l->stats.assemble_s += (tb - ta) - (l->stats.read_s - read_before);
    int superseded = l->gen != gen || l->stop;
    if (!superseded) {
      l->ready++;
      l->prod_epoch = j + 1 < l->n_chunks ? epoch : epoch + 1;
      l->prod_chunk = j + 1 < l->n_chunks ? j + 1 : 0;
      pthread_cond_broadcast(&l->ready_cv);
    }
    pthread_mutex_unlock(&l->mu);
    if (superseded) return 1;
  }
  return 0;
}

static void *loader_main(void *arg) {
  ht_csr_loader *l = arg;
  pthread_setname_np(pthread_self(), "ht-loader");
  uint64_t done = 0;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    while (!l->stop && l->gen == done) pthread_cond_wait(&l->wake, &l->mu);
    if (l->stop) break;
    uint64_t gen = l->gen;
    int64_t epoch = l->job_epoch;
    pthread_mutex_unlock(&l->mu);
    int rc = 0;
    for (int64_t e = epoch; rc == 0 && e < l->o.epochs; e++) rc = run_epoch(l, gen, e);
    if (rc < 0) publish_error(l, gen, rc);
    pthread_mutex_lock(&l->mu);
    done = gen;
  }
  pthread_mutex_unlock(&l->mu);
  ht_csr_reader_close(&l->reader);
  return NULL;
}

/* ---- the main thread's side ------------------------------------------ */

static int alloc_slots(ht_csr_loader *l) {
  const int64_t C = l->o.chunk_rows;
  int cls = l->hdr.task == HT_TASK_CLASSIFY;
  l->nslots = l->o.prefetch + 1;
  l->slots = calloc((size_t)l->nslots, sizeof *l->slots);
  l->piece_order = malloc(sizeof(int64_t) * (size_t)(l->n_pieces > 0 ? l->n_pieces : 1));
  if (!l->slots || !l->piece_order) return ht_error(HT_ENOMEM, "out of memory for the chunk ring");
  for (int i = 0; i < l->nslots; i++) {
    chunk_slot *s = &l->slots[i];
    s->rows = l->hdr;
    s->rows.n = 0;
    s->cap_rows = C;
    s->rows.indptr = malloc(sizeof(int64_t) * (size_t)(C + 1));
    s->file_rows = malloc(sizeof(int64_t) * (size_t)C);
    if (cls) s->rows.y = malloc(sizeof(int32_t) * (size_t)C);
    else s->rows.yt = malloc(sizeof(float) * (size_t)C);
    if (!s->rows.indptr || !s->file_rows || (!s->rows.y && !s->rows.yt))
      return ht_error(HT_ENOMEM, "out of memory for %d chunk slots of %lld rows", l->nslots, (long long)C);
  }
  l->win = l->hdr;
  l->win.n = 0;
  return 0;
}

int ht_csr_loader_create(ht_csr_loader **out, const ht_csr *hdr, const ht_csr_loader_opts *o) {
  *out = NULL;
  if (o->chunk_rows < 1 || o->window_chunks < 1 || o->prefetch < 1 || o->rows_per_epoch < 1 || o->rows_per_epoch > hdr->n)
    return ht_error(HT_EINVAL, "csr loader: chunk_rows %lld, window %d, prefetch %d must be >= 1 and rows per epoch %lld in [1, %lld]",
                    (long long)o->chunk_rows, o->window_chunks, o->prefetch, (long long)o->rows_per_epoch, (long long)hdr->n);
  ht_csr_loader *l = calloc(1, sizeof *l);
  if (!l) return ht_error(HT_ENOMEM, "out of memory for the loader");
  l->hdr = *hdr;
  l->hdr.indptr = NULL, l->hdr.indices = NULL, l->hdr.values = NULL, l->hdr.y = NULL, l->hdr.yt = NULL;
  l->o = *o;
  const int64_t C = o->chunk_rows;
  l->n_pieces = (hdr->row0 + hdr->n - 1) / C - hdr->row0 / C + 1;
  l->n_windows = (l->n_pieces + o->window_chunks - 1) / o->window_chunks;
  l->n_chunks = ht_csr_loader_chunks(o);
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->wake, NULL);
  pthread_cond_init(&l->ready_cv, NULL);
  int rc = alloc_slots(l);
  if (rc == 0 && pthread_create(&l->thread, NULL, loader_main, l) != 0)
    rc = ht_error(HT_ENOMEM, "loader: cannot start the loader thread");
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_csr_loader_destroy(&l);
    return rc;
  }
  l->started = 1;
  *out = l;
  return 0;
}

void ht_csr_loader_start_epoch(ht_csr_loader *l, int64_t epoch) {
  l->epoch = epoch;
  l->next = 0;
  pthread_mutex_lock(&l->mu);
  if (l->held) {
    l->held = 0;
    l->rd = (l->rd + 1) % l->nslots;
  }
  int keep = l->gen > 0 && !(l->err && l->err_gen == l->gen) &&
             (l->ready > 0 ? l->slots[l->rd].epoch == epoch && l->slots[l->rd].index == 0
                           : l->prod_epoch == epoch && l->prod_chunk == 0);
  if (!keep) {
    l->gen++;
    l->job_epoch = l->prod_epoch = epoch;
    l->prod_chunk = 0;
    l->ready = l->rd = 0;
    l->err = 0;
  }
  pthread_cond_broadcast(&l->wake);
  pthread_mutex_unlock(&l->mu);
}

int ht_csr_loader_next(ht_csr_loader *l, ht_csr_chunk *c) {
  if (l->next >= l->n_chunks)
    return ht_error(HT_EINVAL, "loader: epoch %lld has no chunk %lld", (long long)l->epoch, (long long)l->next);
  double t0 = ht_now();
  pthread_mutex_lock(&l->mu);
  int released = l->held;
  if (released) {
    l->held = 0;
    l->rd = (l->rd + 1) % l->nslots;
  }
  int blocked = l->ready == 0;
  if (released) pthread_cond_signal(&l->wake);
  while (l->ready == 0 && !(l->err && l->err_gen == l->gen)) pthread_cond_wait(&l->ready_cv, &l->mu);
  int rc = 0;
  chunk_slot *s = &l->slots[l->rd];
  if (l->ready == 0) {
    rc = ht_error(l->err, "%s", l->err_msg);
  } else if (s->epoch != l->epoch || s->index != l->next) {
    rc = ht_error(HT_EINTERNAL, "loader: expected chunk %lld of epoch %lld, the ring holds chunk %lld of epoch %lld",
                  (long long)l->next, (long long)l->epoch, (long long)s->index, (long long)s->epoch);
  } else {
    l->ready--;
    l->held = 1;
    double waited = ht_now() - t0;
    l->stats.wait_s += waited;
    l->stats.batches++;
    l->stats.waits += blocked;
    if (waited > l->stats.max_wait_s) l->stats.max_wait_s = waited;
  }
  pthread_mutex_unlock(&l->mu);
  if (rc < 0) return rc;
  l->next++;
  c->rows = &s->rows;
  c->file_rows = s->file_rows;
  c->epoch = s->epoch;
  c->index = s->index;
  c->pos0 = s->pos0;
  c->rows_read = s->rows_read;
  return 0;
}

void ht_csr_loader_set_track(ht_csr_loader *l, ht_track *track) {
  if (!l) return;
  pthread_mutex_lock(&l->mu);
  l->track = track;
  pthread_mutex_unlock(&l->mu);
}

void ht_csr_loader_get_stats(ht_csr_loader *l, ht_loader_stats *s) {
  pthread_mutex_lock(&l->mu);
  *s = l->stats;
  pthread_mutex_unlock(&l->mu);
}

void ht_csr_loader_destroy(ht_csr_loader **lp) {
  ht_csr_loader *l = *lp;
  if (!l) return;
  if (l->started) {
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
  }
  for (int i = 0; l->slots && i < l->nslots; i++) {
    ht_csr_free(&l->slots[i].rows);
    free(l->slots[i].file_rows);
  }
  free(l->slots);
  free(l->piece_order);
  ht_csr_free(&l->win);
  free(l->win_perm);
  free(l->win_file_rows);
  ht_csr_reader_close(&l->reader);
  pthread_cond_destroy(&l->wake);
  pthread_cond_destroy(&l->ready_cv);
  pthread_mutex_destroy(&l->mu);
  free(l);
  *lp = NULL;
}
