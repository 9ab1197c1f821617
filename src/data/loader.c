/*
 * The loader thread ("ht-loader"): this file owns it.
 *
 * Shapes: d = features, t = targets, B = batch rows, S = ring slots
 * (prefetch + 1: `prefetch` ready ones plus the one the main thread holds),
 * cap = rows of the shuffle buffer (stream mode).
 *
 * Hand-off points: the slot ring (slot_ring.h: jobs tagged with a generation
 * number, slots in ring order, errors, stop), whose lock impl->ring.mu also
 * guards the fields marked shared below. A new job bumps the generation; the
 * loader drops whatever it was doing for an older generation at its next
 * hand-off, so start_epoch never waits for a full ring to drain.
 *
 * In stream mode the loader holds the shuffle buffer as `cap` row slots: a
 * piece is read into a staging area and its rows are copied into free slots;
 * a row's slot is freed when the row goes into a batch. Which piece is read
 * when comes from the epoch plan (epoch_plan.c), so the buffer's contents are
 * a function of the position alone and a resumed run rebuilds them exactly.
 */
#include "hytrain/loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader_internal.h"
#include "data/slot_ring.h"
#include "hytrain/clones.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"
#include "hytrain/timer.h"

#define HT__AUGMENT_TAG 0x4155474dULL

typedef struct ring_slot {
  float *x;      /* [B, d] */
  int32_t *y;    /* [B] */
  float *yt;     /* [B, t] */
} ring_slot;

struct ht__loader_impl {
  pthread_t thread;
  int started;
  ht__slot_ring ring;       /* the hand-off; its slots' contents are `slots` */

  /* Shared, under ring.mu. */
  int norm_ready;           /* batches may be assembled (see opts.norm_deferred) */
  ht_loader_stats stats;
  ht_track *track;          /* timeline track, recorded on under ring.mu (NULL: none) */

  /* Owned by the loader thread between hand-offs. */
  ring_slot *slots;         /* [ring.nslots] */
  ht__epoch_plan plan;
  int64_t cap;              /* stream: buffer rows */
  float *buf_x;             /* [cap, d] */
  int32_t *buf_y;           /* [cap] */
  float *buf_yt;            /* [cap, t] */
  int32_t *slot_of_row;     /* [n] buffer slot of a resident row */
  int32_t *free_slots;      /* [cap] stack of free buffer slots */
  int64_t n_free;
  uint8_t *done_bits;       /* [n/8] rows taken before the resume position */
  float *stage_x;           /* [C, d] one piece as read */
  int32_t *stage_y;         /* [C] */
  float *stage_yt;          /* [C, t] */
  float *aug_tmp;           /* [d] */
  ht_dataset_reader *reader;
};

void ht_loader_opts_default(ht_loader_opts *o) {
  memset(o, 0, sizeof *o);
  o->mode = HT_LOADER_MEMORY;
  o->shuffle_buffer_chunks = 4;
  o->prefetch = 3;
}

int64_t ht_loader_auto_chunk_rows(int64_t file_chunk_rows, int d) {
  const int64_t target = (int64_t)4 << 20;
  int64_t f = file_chunk_rows > 0 ? file_chunk_rows : 1;
  int64_t bytes = f * (int64_t)d * (int64_t)sizeof(float);
  int64_t k = bytes >= target ? 1 : (target + bytes - 1) / bytes;
  return k * f;
}

/* Rows of the shuffle buffer: K pieces, or the whole shard if that is less. */
static int64_t buffer_rows(const ht_dataset *ds, const ht_loader_opts *o) {
  int64_t cap = (int64_t)o->shuffle_buffer_chunks * o->chunk_rows;
  return cap < ds->n ? cap : ds->n;
}

int64_t ht_loader_memory_bytes(const ht_dataset *ds, int batch, const ht_loader_opts *o) {
  int64_t row = (int64_t)ds->d * 4 + (ds->task == HT_TASK_CLASSIFY ? 4 : (int64_t)ds->t * 4);
  int64_t bytes = (int64_t)(o->prefetch + 1) * batch * row + ds->n * 8 /* order */;
  if (o->mode == HT_LOADER_STREAM) {
    int64_t pieces = o->chunk_rows > 0 ? ds->n / o->chunk_rows + 2 : 1;
    bytes += (buffer_rows(ds, o) + o->chunk_rows) * row + ds->n * 4 + ds->n / 8 + pieces * 16;
    if (buffer_rows(ds, o) < ds->n) bytes += buffer_rows(ds, o) * 8; /* plan pool */
  }
  return bytes;
}

/* ---- the loader thread's side ---------------------------------------- */

/* Reads piece k (stream) and copies into free buffer slots those of its rows
 * that are still to come in this epoch. */
static int load_piece(ht_loader *l, int64_t k) {
  struct ht__loader_impl *m = l->impl;
  const ht_dataset *ds = l->ds;
  const ht__epoch_plan *p = &m->plan;
  int64_t a = ht__plan_piece_start(p, k), b = ht__plan_piece_start(p, k + 1);
  int needed = 0;
  for (int64_t r = a; r < b && !needed; r++) needed = !(m->done_bits[r >> 3] & (1u << (r & 7)));
  if (!needed) return 0; /* resume: every row of it was taken before the resume point */
  const size_t d = (size_t)ds->d, t = (size_t)ds->t;
  /* When the next free slots are consecutive (always so while an epoch's
   * buffer first fills), read straight into them and skip the copy. */
  int64_t len = b - a, s0 = m->n_free >= len ? m->free_slots[m->n_free - 1] : -1;
  int direct = s0 >= 0 && !m->done_bits[a >> 3] && !m->done_bits[(b - 1) >> 3];
  for (int64_t i = 0; direct && i < len; i++)
    direct = m->free_slots[m->n_free - 1 - i] == s0 + i && !(m->done_bits[(a + i) >> 3] & (1u << ((a + i) & 7)));
  double t0 = ht_now();
  if (direct) {
    HT_CHECK(ht_dataset_reader_read(m->reader, ds->row0 + a, len, m->buf_x + (size_t)s0 * d,
                                    m->buf_y ? m->buf_y + s0 : NULL, m->buf_yt ? m->buf_yt + (size_t)s0 * t : NULL));
    for (int64_t i = 0; i < len; i++) m->slot_of_row[a + i] = (int32_t)(s0 + i);
    m->n_free -= len;
  } else {
    HT_CHECK(ht_dataset_reader_read(m->reader, ds->row0 + a, len, m->stage_x, m->stage_y, m->stage_yt));
  }
  double t1 = ht_now();
  for (int64_t r = a; r < b && !direct; r++) {
    if (m->done_bits[r >> 3] & (1u << (r & 7))) continue;
    if (m->n_free == 0)
      return ht_error(HT_EINTERNAL, "loader: shuffle buffer overflow at row %lld", (long long)(ds->row0 + r));
    int32_t s = m->free_slots[--m->n_free];
    m->slot_of_row[r] = s;
    memcpy(m->buf_x + (size_t)s * d, m->stage_x + (size_t)(r - a) * d, d * sizeof(float));
    if (m->buf_y) m->buf_y[s] = m->stage_y[r - a];
    if (m->buf_yt) memcpy(m->buf_yt + (size_t)s * t, m->stage_yt + (size_t)(r - a) * t, t * sizeof(float));
  }
  pthread_mutex_lock(&m->ring.mu);
  ht_track_span(m->track, HT_EV_LOAD_READ, (int)(k < INT32_MAX ? k : -1), t0, t1);
  m->stats.read_s += t1 - t0;
  m->stats.rows_read += b - a;
  m->stats.bytes_read += (b - a) * (int64_t)(d + t) * 4;
  pthread_mutex_unlock(&m->ring.mu);
  return 0;
}

/* x[j] = (src[j] - mean[j]) / std[j], the expression of ht_norm_apply (one
 * IEEE subtraction and division per element: the same bits in every clone;
 * x may be src). */
HT_CLONES static void norm_row(float *x, const float *src, const float *restrict mean,
                               const float *restrict std, size_t d) {
  for (size_t j = 0; j < d; j++) x[j] = (src[j] - mean[j]) / std[j];
}

/* Copies row r of the order's position into batch row i of slot, then
 * augments and normalises it there. */
static void assemble_row(ht_loader *l, ring_slot *slot, int i, int64_t r, ht_rng *aug) {
  struct ht__loader_impl *m = l->impl;
  const ht_dataset *ds = l->ds;
  const size_t d = (size_t)ds->d, t = (size_t)ds->t;
  const float *src_x;
  const int32_t *src_y = NULL;
  const float *src_yt = NULL;
  if (l->opts.mode == HT_LOADER_MEMORY) {
    src_x = ds->x + (size_t)r * d;
    if (ds->y) src_y = ds->y + r;
    if (ds->yt) src_yt = ds->yt + (size_t)r * t;
  } else {
    int32_t s = m->slot_of_row[r];
    src_x = m->buf_x + (size_t)s * d;
    if (m->buf_y) src_y = m->buf_y + s;
    if (m->buf_yt) src_yt = m->buf_yt + (size_t)s * t;
    m->free_slots[m->n_free++] = s;
  }
  float *x = slot->x + (size_t)i * d;
  if (slot->y) slot->y[i] = *src_y;
  if (slot->yt) memcpy(slot->yt + (size_t)i * t, src_yt, t * sizeof(float));
  const ht_norm *nm = l->opts.norm;
  int augment = l->opts.flip || l->opts.shift, norm = nm && nm->enabled;
  /* The same float expression as ht_norm_apply, so both give the same bits.
   * Without augmentation the row is normalised on its way from the source
   * (one pass over it instead of a copy and a second pass). */
  if (norm && !augment) {
    norm_row(x, src_x, nm->mean, nm->std, d);
    return;
  }
  memcpy(x, src_x, d * sizeof(float));
  if (augment) ht__augment_image(x, m->aug_tmp, l->opts.image_side, l->opts.flip, l->opts.shift, aug);
  if (norm) norm_row(x, x, nm->mean, nm->std, d);
}

/* Asks the CPU to start loading row r of an in-memory dataset (its features
 * and label): the rows of a batch are scattered over the dataset, so each
 * one is a run of cache misses, and fetching the next row while this one is
 * assembled hides most of them (the loader thread shares a core with compute
 * under 2 ranks x 1 thread; docs/compute.md). No effect on any value. */
static void prefetch_row(const ht_dataset *ds, int64_t r) {
  const char *x = (const char *)(ds->x + (size_t)r * (size_t)ds->d);
  size_t bytes = (size_t)ds->d * sizeof(float);
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(x + o, 0, 0);
  if (ds->y) __builtin_prefetch(ds->y + r, 0, 0);
}

/* Produces the batches of one epoch from batch skip on. Returns 0 when done,
 * 1 when superseded, or an error. */
static int run_epoch(ht_loader *l, uint64_t gen, int64_t epoch, int64_t skip) {
  struct ht__loader_impl *m = l->impl;
  const ht_dataset *ds = l->ds;
  ht__epoch_plan *p = &m->plan;
  const int B = l->batch;
  double t0 = ht_now();
  ht__plan_epoch(p, l->shuffle, l->seed, epoch, l->rank);
  int64_t jnext = 0, pos = skip * B;
  if (l->opts.mode == HT_LOADER_STREAM) {
    /* The file is opened per epoch: one removed or replaced mid-run is
     * noticed at the next epoch instead of read forever through an old handle. */
    ht_dataset_reader_close(&m->reader);
    HT_CHECK(ht_dataset_reader_open(&m->reader, ds->path, ds));
    m->n_free = 0;
    for (int64_t s = m->cap - 1; s >= 0; s--) m->free_slots[m->n_free++] = (int32_t)s;
    memset(m->done_bits, 0, (size_t)(ds->n / 8 + 1));
    for (int64_t q = 0; q < pos && q < ds->n; q++) m->done_bits[p->order[q] >> 3] |= (uint8_t)(1u << (p->order[q] & 7));
  }
  double t_plan = ht_now() - t0;
  /* Fill the buffer up to the start position first: with norm_deferred this
   * overlaps the main thread's statistics pass. */
  while (l->opts.mode == HT_LOADER_STREAM && jnext < p->n_pieces && p->load_pos[jnext] <= pos) {
    if (!ht__ring_wanted(&m->ring, gen)) return 1;
    HT_CHECK(load_piece(l, p->load_piece[jnext++]));
  }
  if (!ht__ring_wait_flag(&m->ring, gen, &m->norm_ready)) return 1;
  ht_rng base;
  ht_rng_seed(&base, ht_rng_mix(l->seed ^ HT__AUGMENT_TAG, (uint64_t)epoch, (uint64_t)l->rank));
  uint64_t aug_root = ht_rng_next(&base);
  for (int64_t bi = skip; bi < l->batches; bi++) {
    int w = ht__ring_wait_free(&m->ring, gen);
    if (w < 0) return 1;
    double read_before = m->stats.read_s, ta = ht_now();
    ring_slot *slot = &m->slots[w];
    ht_rng aug;
    /* One stream per batch: a resumed run draws the same augmentation. */
    ht_rng_seed(&aug, ht_rng_mix(aug_root, (uint64_t)bi, 0));
    for (int i = 0; i < B; i++, pos++) {
      if (l->opts.mode == HT_LOADER_STREAM)
        while (jnext < p->n_pieces && p->load_pos[jnext] <= pos) {
          /* Filling a large buffer takes a while: stop early when not wanted. */
          if (!ht__ring_wanted(&m->ring, gen)) return 1;
          HT_CHECK(load_piece(l, p->load_piece[jnext++]));
        }
      if (l->opts.mode == HT_LOADER_MEMORY && pos + 1 < p->n) prefetch_row(ds, p->order[pos + 1]);
      assemble_row(l, slot, i, p->order[pos], &aug);
    }
    double tb = ht_now();
    pthread_mutex_lock(&m->ring.mu);
    ht_track_span(m->track, HT_EV_LOAD_BATCH, (int)(bi < INT32_MAX ? bi : -1), ta, tb);
    /* Time spent reading is counted by load_piece; the rest of it is assembly. */
    m->stats.assemble_s += (tb - ta) - (m->stats.read_s - read_before) + t_plan;
    t_plan = 0;
    int superseded = ht__ring_publish_locked(&m->ring, gen, w, epoch, bi, l->batches);
    pthread_mutex_unlock(&m->ring.mu);
    if (superseded) return 1;
  }
  return 0;
}

/* Produces from (epoch, skip) on, running into the following epochs (while
 * the run has any) so that the next epoch's buffer fills while the main
 * thread still trains on this one's last batches. Returns 0 when done or
 * superseded. */
static int run_job(ht_loader *l, uint64_t gen, int64_t epoch, int64_t skip) {
  if (l->batches < 1) return 0; /* nothing to produce (a shard smaller than a batch) */
  for (int64_t e = epoch; l->opts.epochs <= 0 || e < l->opts.epochs; e++, skip = 0) {
    int rc = run_epoch(l, gen, e, skip);
    if (rc != 0) return rc < 0 ? rc : 0;
  }
  return 0;
}

static void *loader_main(void *arg) {
  ht_loader *l = arg;
  struct ht__loader_impl *m = l->impl;
  pthread_setname_np(pthread_self(), "ht-loader");
  ht__ring_job job = {0};
  while (ht__ring_next_job(&m->ring, job.gen, &job)) {
    int rc = run_job(l, job.gen, job.epoch, job.skip);
    if (rc < 0) ht__ring_fail(&m->ring, job.gen, rc);
  }
  ht_dataset_reader_close(&m->reader);
  return NULL;
}

/* ---- the main thread's side ------------------------------------------ */

static int alloc_buffers(ht_loader *l) {
  struct ht__loader_impl *m = l->impl;
  const ht_dataset *ds = l->ds;
  const ht_loader_opts *o = &l->opts;
  const size_t d = (size_t)ds->d, t = (size_t)ds->t, B = (size_t)l->batch;
  int cls = ds->task == HT_TASK_CLASSIFY;
  const int nslots = m->ring.nslots;
  m->slots = calloc((size_t)nslots, sizeof *m->slots);
  if (!m->slots) return ht_error(HT_ENOMEM, "out of memory for the batch ring");
  for (int s = 0; s < nslots; s++) {
    m->slots[s].x = malloc(sizeof(float) * B * d);
    if (cls) m->slots[s].y = malloc(sizeof(int32_t) * B);
    else m->slots[s].yt = malloc(sizeof(float) * B * t);
    if (!m->slots[s].x || (!m->slots[s].y && !m->slots[s].yt))
      return ht_error(HT_ENOMEM, "out of memory for %d batch slots of %zu rows x %zu features", nslots, B, d);
  }
  m->aug_tmp = malloc(sizeof(float) * d);
  if (!m->aug_tmp) return ht_error(HT_ENOMEM, "out of memory");
  HT_CHECK(ht__plan_create(&m->plan, ds->n, ds->row0, o->mode == HT_LOADER_STREAM ? o->chunk_rows : 0,
                           o->shuffle_buffer_chunks));
  if (o->mode != HT_LOADER_STREAM) return 0;
  size_t cap = (size_t)buffer_rows(ds, o), C = (size_t)o->chunk_rows, n = (size_t)ds->n;
  if (cap > INT32_MAX) return ht_error(HT_EINVAL, "data.shuffle_buffer_chunks x data.chunk_rows: %zu rows is too many", cap);
  m->cap = (int64_t)cap;
  m->buf_x = malloc(sizeof(float) * (cap ? cap : 1) * d);
  m->stage_x = malloc(sizeof(float) * C * d);
  if (cls) {
    m->buf_y = malloc(sizeof(int32_t) * (cap ? cap : 1));
    m->stage_y = malloc(sizeof(int32_t) * C);
  } else {
    m->buf_yt = malloc(sizeof(float) * (cap ? cap : 1) * t);
    m->stage_yt = malloc(sizeof(float) * C * t);
  }
  m->slot_of_row = malloc(sizeof(int32_t) * (n ? n : 1));
  m->free_slots = malloc(sizeof(int32_t) * (cap ? cap : 1));
  m->done_bits = malloc(n / 8 + 1);
  if (!m->buf_x || !m->stage_x || (cls ? (!m->buf_y || !m->stage_y) : (!m->buf_yt || !m->stage_yt)) ||
      !m->slot_of_row || !m->free_slots || !m->done_bits)
    return ht_error(HT_ENOMEM, "%s: out of memory for a shuffle buffer of %zu rows x %zu features", ds->path, cap, d);
  return 0;
}

int ht_loader_create_opts(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank,
                          const ht_loader_opts *opts) {
  memset(l, 0, sizeof *l);
  l->ds = ds;
  l->batch = batch;
  l->shuffle = shuffle;
  l->seed = seed;
  l->rank = rank;
  l->opts = *opts;
  if (batch < 1 || opts->prefetch < 1 || opts->shuffle_buffer_chunks < 1)
    return ht_error(HT_EINVAL, "loader: batch %d, prefetch %d and shuffle_buffer_chunks %d must be at least 1", batch,
                    opts->prefetch, opts->shuffle_buffer_chunks);
  if (opts->mode == HT_LOADER_STREAM && opts->chunk_rows < 1)
    return ht_error(HT_EINVAL, "loader: stream mode needs chunk_rows >= 1, got %lld", (long long)opts->chunk_rows);
  if ((opts->flip || opts->shift) &&
      (opts->image_side < 1 || (int64_t)opts->image_side * opts->image_side != ds->d || opts->shift >= opts->image_side))
    return ht_error(HT_ECONFIG,
                    "data.augment: %s has %d features per row, not a square image of side %d that can shift by %d "
                    "pixels",
                    ds->path, ds->d, opts->image_side, opts->shift);
  int64_t full = ds->n / batch;
  l->batches = opts->batches_per_epoch > 0 && opts->batches_per_epoch < full ? opts->batches_per_epoch : full;
  l->impl = calloc(1, sizeof *l->impl);
  if (!l->impl) return ht_error(HT_ENOMEM, "out of memory for the loader");
  struct ht__loader_impl *m = l->impl;
  /* Slots: `prefetch` ready ones plus the one the main thread holds. */
  int rc = ht__ring_init(&m->ring, opts->prefetch + 1);
  m->norm_ready = !opts->norm_deferred;
  rc = rc == 0 ? alloc_buffers(l) : ht_error(HT_ENOMEM, "out of memory for the batch ring");
  if (rc == 0 && pthread_create(&m->thread, NULL, loader_main, l) != 0)
    rc = ht_error(HT_ENOMEM, "loader: cannot start the loader thread");
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_loader_destroy(l);
    return rc;
  }
  m->started = 1;
  return 0;
}

int ht_loader_create(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank) {
  ht_loader_opts o;
  ht_loader_opts_default(&o);
  return ht_loader_create_opts(l, ds, batch, shuffle, seed, rank, &o);
}

void ht_loader_start_epoch(ht_loader *l, int64_t epoch, int64_t skip) {
  l->epoch = epoch;
  l->next = skip;
  ht__ring_start(&l->impl->ring, epoch, skip);
}

int ht_loader_next(ht_loader *l, ht_batch *b) {
  struct ht__loader_impl *m = l->impl;
  if (l->next >= l->batches)
    return ht_error(HT_EINVAL, "loader: epoch %lld has no batch %lld", (long long)l->epoch, (long long)l->next);
  /* Gives back the previous batch's slot (to be refilled) and takes this one. */
  int w = ht__ring_take(&m->ring, l->epoch, l->next, "batch", &m->stats);
  if (w < 0) return w;
  const ring_slot *s = &m->slots[w];
  l->next++;
  b->n = l->batch;
  b->x = s->x;
  b->y = s->y;
  b->yt = s->yt;
  return 0;
}

void ht_loader_norm_ready(ht_loader *l) {
  struct ht__loader_impl *m = l->impl;
  pthread_mutex_lock(&m->ring.mu);
  m->norm_ready = 1;
  pthread_cond_broadcast(&m->ring.wake);
  pthread_mutex_unlock(&m->ring.mu);
}

void ht_loader_set_track(ht_loader *l, ht_track *track) {
  struct ht__loader_impl *m = l->impl;
  if (!m) return;
  pthread_mutex_lock(&m->ring.mu);
  m->track = track;
  pthread_mutex_unlock(&m->ring.mu);
}

void ht_loader_get_stats(ht_loader *l, ht_loader_stats *s) {
  if (!l->impl) {
    memset(s, 0, sizeof *s);
    return;
  }
  pthread_mutex_lock(&l->impl->ring.mu);
  *s = l->impl->stats;
  pthread_mutex_unlock(&l->impl->ring.mu);
}

void ht_loader_destroy(ht_loader *l) {
  struct ht__loader_impl *m = l->impl;
  if (m) {
    if (m->started) {
      ht__ring_stop(&m->ring);
      pthread_join(m->thread, NULL);
    }
    for (int s = 0; m->slots && s < m->ring.nslots; s++) {
      free(m->slots[s].x);
      free(m->slots[s].y);
      free(m->slots[s].yt);
    }
    free(m->slots);
    ht__plan_free(&m->plan);
    free(m->buf_x);
    free(m->buf_y);
    free(m->buf_yt);
    free(m->slot_of_row);
    free(m->free_slots);
    free(m->done_bits);
    free(m->stage_x);
    free(m->stage_y);
    free(m->stage_yt);
    free(m->aug_tmp);
    ht_dataset_reader_close(&m->reader);
    ht__ring_destroy(&m->ring);
    free(m);
  }
  memset(l, 0, sizeof *l);
}
