/*
 * The CSR stream loader thread ("ht-loader"): this file owns it. Pieces,
 * windows and chunks are defined in hytrain/csr_loader.h.
 *
 * Hand-off points: the slot ring shared with the dense loader (slot_ring.h:
 * jobs (epoch) tagged with a generation number, chunk slots in ring order,
 * errors, stop), whose lock l->ring.mu also guards the fields marked shared
 * below. A new job bumps the generation; the loader drops older work at its
 * next hand-off. The window, the piece order and the reader belong to the
 * loader thread alone.
 */
#include "hytrain/csr_loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/slot_ring.h"
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
  int64_t pos0, rows_read;
} chunk_slot;

struct ht_csr_loader {
  ht_csr hdr;               /* path, header, shard range (no arrays) */
  ht_csr_loader_opts o;
  int64_t n_pieces, n_windows, n_chunks;
  pthread_t thread;
  int started;
  ht__slot_ring ring;       /* the hand-off; its slots' contents are `slots` */

  /* Shared, under ring.mu. */
  ht_loader_stats stats;
  ht_track *track;

  /* Main thread only. */
  int64_t epoch, next;

  /* Loader thread only (between hand-offs). */
  chunk_slot *slots;        /* [ring.nslots] */
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
    pthread_mutex_lock(&l->ring.mu);
    ht_track_span(l->track, HT_EV_LOAD_READ, (int)(pieces[j] < INT32_MAX ? pieces[j] : -1), t0, t1);
    l->stats.read_s += t1 - t0;
    l->stats.rows_read += b - a;
    l->stats.bytes_read += nnz * 8 + (b - a) * 12;
    pthread_mutex_unlock(&l->ring.mu);
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
    int w = ht__ring_wait_free(&l->ring, gen);
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
        if (!ht__ring_wanted(&l->ring, gen)) return 1;
        HT_CHECK(load_window(l, epoch, next_window++, &s->rows_read));
        wi = 0;
        continue;
      }
      HT_CHECK(append_row(l, s, l->win_perm[wi++]));
    }
    /* The rows past the epoch's cut are still read once (and validated). */
    while (j + 1 == l->n_chunks && next_window < l->n_windows) HT_CHECK(load_window(l, epoch, next_window++, &s->rows_read));
    s->pos0 = pos;
    pos += want;
    double tb = ht_now();
    pthread_mutex_lock(&l->ring.mu);
    ht_track_span(l->track, HT_EV_LOAD_BATCH, (int)(j < INT32_MAX ? j : -1), ta, tb);
    l->stats.assemble_s += (tb - ta) - (l->stats.read_s - read_before);
    int superseded = ht__ring_publish_locked(&l->ring, gen, w, epoch, j, l->n_chunks);
    pthread_mutex_unlock(&l->ring.mu);
    if (superseded) return 1;
  }
  return 0;
}

static void *loader_main(void *arg) {
  ht_csr_loader *l = arg;
  pthread_setname_np(pthread_self(), "ht-loader");
  ht__ring_job job = {0};
  while (ht__ring_next_job(&l->ring, job.gen, &job)) {
    int rc = 0;
    for (int64_t e = job.epoch; rc == 0 && e < l->o.epochs; e++) rc = run_epoch(l, job.gen, e);
    if (rc < 0) ht__ring_fail(&l->ring, job.gen, rc);
  }
  ht_csr_reader_close(&l->reader);
  return NULL;
}

/* ---- the main thread's side ------------------------------------------ */

static int alloc_slots(ht_csr_loader *l) {
  const int64_t C = l->o.chunk_rows;
  int cls = l->hdr.task == HT_TASK_CLASSIFY;
  const int nslots = l->ring.nslots;
  l->slots = calloc((size_t)nslots, sizeof *l->slots);
  l->piece_order = malloc(sizeof(int64_t) * (size_t)(l->n_pieces > 0 ? l->n_pieces : 1));
  if (!l->slots || !l->piece_order) return ht_error(HT_ENOMEM, "out of memory for the chunk ring");
  for (int i = 0; i < nslots; i++) {
    chunk_slot *s = &l->slots[i];
    s->rows = l->hdr;
    s->rows.n = 0;
    s->cap_rows = C;
    s->rows.indptr = malloc(sizeof(int64_t) * (size_t)(C + 1));
    s->file_rows = malloc(sizeof(int64_t) * (size_t)C);
    if (cls) s->rows.y = malloc(sizeof(int32_t) * (size_t)C);
    else s->rows.yt = malloc(sizeof(float) * (size_t)C);
    if (!s->rows.indptr || !s->file_rows || (!s->rows.y && !s->rows.yt))
      return ht_error(HT_ENOMEM, "out of memory for %d chunk slots of %lld rows", nslots, (long long)C);
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
  /* Slots: `prefetch` ready ones plus the one the main thread holds. */
  int rc = ht__ring_init(&l->ring, o->prefetch + 1);
  rc = rc == 0 ? alloc_slots(l) : ht_error(HT_ENOMEM, "out of memory for the chunk ring");
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
  ht__ring_start(&l->ring, epoch, 0);
}

int ht_csr_loader_next(ht_csr_loader *l, ht_csr_chunk *c) {
  if (l->next >= l->n_chunks)
    return ht_error(HT_EINVAL, "loader: epoch %lld has no chunk %lld", (long long)l->epoch, (long long)l->next);
  /* Gives back the previous chunk's slot (to be refilled) and takes this one. */
  int w = ht__ring_take(&l->ring, l->epoch, l->next, "chunk", &l->stats);
  if (w < 0) return w;
  const chunk_slot *s = &l->slots[w];
  c->rows = &s->rows;
  c->file_rows = s->file_rows;
  c->epoch = l->epoch; /* what the slot holds: ht__ring_take checked it */
  c->index = l->next++;
  c->pos0 = s->pos0;
  c->rows_read = s->rows_read;
  return 0;
}

void ht_csr_loader_set_track(ht_csr_loader *l, ht_track *track) {
  if (!l) return;
  pthread_mutex_lock(&l->ring.mu);
  l->track = track;
  pthread_mutex_unlock(&l->ring.mu);
}

void ht_csr_loader_get_stats(ht_csr_loader *l, ht_loader_stats *s) {
  pthread_mutex_lock(&l->ring.mu);
  *s = l->stats;
  pthread_mutex_unlock(&l->ring.mu);
}

void ht_csr_loader_destroy(ht_csr_loader **lp) {
  ht_csr_loader *l = *lp;
  if (!l) return;
  if (l->started) {
    ht__ring_stop(&l->ring);
    pthread_join(l->thread, NULL);
  }
  for (int i = 0; l->slots && i < l->ring.nslots; i++) {
    ht_csr_free(&l->slots[i].rows);
    free(l->slots[i].file_rows);
  }
  free(l->slots);
  free(l->piece_order);
  ht_csr_free(&l->win);
  free(l->win_perm);
  free(l->win_file_rows);
  ht_csr_reader_close(&l->reader);
  ht__ring_destroy(&l->ring);
  free(l);
  *lp = NULL;
}
