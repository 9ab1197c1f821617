/*
 * The loader thread ("ht-loader"): this file owns it.
 *
 * Shapes: d = features, t = targets, B = batch rows, S = ring slots
 * (prefetch + 1: `prefetch` ready ones plus the one the main thread holds),
 * cap = rows of the shuffle buffer (stream mode).
 *
 * Hand-off points (all under impl->mu):
 *   main -> loader: a job (epoch, skip) tagged with a generation number, and
 *                   the stop flag; signalled on `wake`.
 *   loader -> main: finished slots (ready count), or an error with its
 *                   message; signalled on `ready_cv`. A slot is filled outside
 *                   the lock: slots are used in ring order, the one being
 *                   filled is neither ready nor held, so nobody else reads it.
 * A new job bumps the generation; the loader drops whatever it was doing for
 * an older generation at its next hand-off, so start_epoch never waits for a
 * full ring to drain.
 *
 * In stream mode the loader holds the shuffle buffer as `cap` row slots: a
 * piece is read into a staging area and its rows are copied into free slots;
 * a row's slot is freed when the row goes into a batch. Which piece is read
 * when comes from the epoch plan (epoch_plan.c), so the buffer's contents are
 * a function of the position alone and a resumed run rebuilds them exactly.
 */
#include "hytrain/loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader_internal.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"
#include "hytrain/timer.h"

#define HT__AUGMENT_TAG 0x4155474dULL

typedef struct ring_slot {
  float *x;      /* [B, d] */
  int32_t *y;    /* [B] */
  float *yt;     /* [B, t] */
  int64_t epoch, batch; /* which batch it holds */
} ring_slot;

struct ht__loader_impl {
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t wake;      /* loader waits: new job, free slot, or stop */
  pthread_cond_t ready_cv;  /* main waits: a ready slot or an error */

  /* Shared, under mu. */
  uint64_t gen;             /* job generation; bumped by start_epoch */
  int64_t job_epoch, job_skip;
  int64_t prod_epoch, prod_batch; /* the next batch the loader will publish */
  int stop;
  int norm_ready;           /* batches may be assembled (see opts.norm_deferred) */
  int ready, held;          /* ready slots; 1 while main holds one */
  int rd;                   /* next slot main takes */
  int err;                  /* loader error for generation err_gen */
  uint64_t err_gen;
  char err_msg[1024];
  ht_loader_stats stats;
  ht_track *track;          /* timeline track, recorded on under mu (NULL: none) */

  /* Owned by the loader thread between hand-offs. */
  int nslots;
  ring_slot *slots;
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

/* Records the thread's error for generation gen and wakes the main thread. */
static void publish_error(struct ht__loader_impl *m, uint64_t gen, int rc) {
  pthread_mutex_lock(&m->mu);
  if (m->gen == gen && !m->err) {
    m->err = rc;
    m->err_gen = gen;
    snprintf(m->err_msg, sizeof m->err_msg, "%s", ht_error_message()[0] ? ht_error_message() : ht_strerror(rc));
    pthread_cond_broadcast(&m->ready_cv);
  }
  pthread_mutex_unlock(&m->mu);
  ht_error_clear();
}

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
  pthread_mutex_lock(&m->mu);
  ht_track_span(m->track, HT_EV_LOAD_READ, (int)(k < INT32_MAX ? k : -1), t0, t1);
  m->stats.read_s += t1 - t0;
  m->stats.rows_read += b - a;
  m->stats.bytes_read += (b - a) * (int64_t)(d + t) * 4;
  pthread_mutex_unlock(&m->mu);
  return 0;
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
    for (size_t j = 0; j < d; j++) x[j] = (src_x[j] - nm->mean[j]) / nm->std[j];
    return;
  }
  memcpy(x, src_x, d * sizeof(float));
  if (augment) ht__augment_image(x, m->aug_tmp, l->opts.image_side, l->opts.flip, l->opts.shift, aug);
  if (norm)
    for (size_t j = 0; j < d; j++) x[j] = (x[j] - nm->mean[j]) / nm->std[j];
}

/* Waits until a slot is free for generation gen; returns its index, or -1
 * when the job was replaced or the loader is stopping. */
static int wait_free_slot(struct ht__loader_impl *m, uint64_t gen) {
  pthread_mutex_lock(&m->mu);
  while (!m->stop && m->gen == gen && m->ready + m->held >= m->nslots) pthread_cond_wait(&m->wake, &m->mu);
  /* Slots in ring order: [held one at rd], then the ready ones, then free. */
  int w = (!m->stop && m->gen == gen) ? (m->rd + m->held + m->ready) % m->nslots : -1;
  pthread_mutex_unlock(&m->mu);
  return w;
}

/* 1 while generation gen is still wanted. */
static int wanted(struct ht__loader_impl *m, uint64_t gen) {
  pthread_mutex_lock(&m->mu);
  int yes = m->gen == gen && !m->stop;
  pthread_mutex_unlock(&m->mu);
  return yes;
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
    if (!wanted(m, gen)) return 1;
    HT_CHECK(load_piece(l, p->load_piece[jnext++]));
  }
  pthread_mutex_lock(&m->mu);
  while (!m->norm_ready && m->gen == gen && !m->stop) pthread_cond_wait(&m->wake, &m->mu);
  int go = m->gen == gen && !m->stop;
  pthread_mutex_unlock(&m->mu);
  if (!go) return 1;
  ht_rng base;
  ht_rng_seed(&base, ht_rng_mix(l->seed ^ HT__AUGMENT_TAG, (uint64_t)epoch, (uint64_t)l->rank));
  uint64_t aug_root = ht_rng_next(&base);
  for (int64_t bi = skip; bi < l->batches; bi++) {
    int w = wait_free_slot(m, gen);
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
          if (!wanted(m, gen)) return 1;
          HT_CHECK(load_piece(l, p->load_piece[jnext++]));
        }
      assemble_row(l, slot, i, p->order[pos], &aug);
    }
    double tb = ht_now();
    pthread_mutex_lock(&m->mu);
    ht_track_span(m->track, HT_EV_LOAD_BATCH, (int)(bi < INT32_MAX ? bi : -1), ta, tb);
    /* Time spent reading is counted by load_piece; the rest of it is assembly. */
    m->stats.assemble_s += (tb - ta) - (m->stats.read_s - read_before) + t_plan;
    t_plan = 0;
    slot->epoch = epoch;
    slot->batch = bi;
    if (m->gen == gen) {
      m->ready++;
      m->prod_epoch = bi + 1 < l->batches ? epoch : epoch + 1;
      m->prod_batch = bi + 1 < l->batches ? bi + 1 : 0;
      pthread_cond_broadcast(&m->ready_cv);
    }
    int superseded = m->gen != gen || m->stop;
    pthread_mutex_unlock(&m->mu);
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
  uint64_t done = 0;
  pthread_mutex_lock(&m->mu);
  for (;;) {
    while (!m->stop && m->gen == done) pthread_cond_wait(&m->wake, &m->mu);
    if (m->stop) break;
    uint64_t gen = m->gen;
    int64_t epoch = m->job_epoch, skip = m->job_skip;
    pthread_mutex_unlock(&m->mu);
    int rc = run_job(l, gen, epoch, skip);
    if (rc < 0) publish_error(m, gen, rc);
    pthread_mutex_lock(&m->mu);
    done = gen;
  }
  pthread_mutex_unlock(&m->mu);
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
  m->nslots = o->prefetch + 1;
  m->slots = calloc((size_t)m->nslots, sizeof *m->slots);
  if (!m->slots) return ht_error(HT_ENOMEM, "out of memory for the batch ring");
  for (int s = 0; s < m->nslots; s++) {
    m->slots[s].x = malloc(sizeof(float) * B * d);
    if (cls) m->slots[s].y = malloc(sizeof(int32_t) * B);
    else m->slots[s].yt = malloc(sizeof(float) * B * t);
    if (!m->slots[s].x || (!m->slots[s].y && !m->slots[s].yt))
      return ht_error(HT_ENOMEM, "out of memory for %d batch slots of %zu rows x %zu features", m->nslots, B, d);
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
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->wake, NULL);
  pthread_cond_init(&m->ready_cv, NULL);
  m->norm_ready = !opts->norm_deferred;
  int rc = alloc_buffers(l);
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
  struct ht__loader_impl *m = l->impl;
  l->epoch = epoch;
  l->next = skip;
  pthread_mutex_lock(&m->mu);
  if (m->held) {
    m->held = 0;
    m->rd = (m->rd + 1) % m->nslots;
  }
  /* The loader runs on into the next epoch: keep its work when it is at
   * exactly the batch asked for (the usual epoch-to-epoch case). */
  int keep = m->gen > 0 && !(m->err && m->err_gen == m->gen) &&
             (m->ready > 0 ? m->slots[m->rd].epoch == epoch && m->slots[m->rd].batch == skip
                           : m->prod_epoch == epoch && m->prod_batch == skip);
  if (!keep) {
    m->gen++;
    m->job_epoch = m->prod_epoch = epoch;
    m->job_skip = m->prod_batch = skip;
    m->ready = m->rd = 0;
    m->err = 0;
  }
  pthread_cond_broadcast(&m->wake);
  pthread_mutex_unlock(&m->mu);
}

int ht_loader_next(ht_loader *l, ht_batch *b) {
  struct ht__loader_impl *m = l->impl;
  if (l->next >= l->batches)
    return ht_error(HT_EINVAL, "loader: epoch %lld has no batch %lld", (long long)l->epoch, (long long)l->next);
  double t0 = ht_now();
  pthread_mutex_lock(&m->mu);
  int released = m->held;
  if (released) {
    /* The previous batch is done with: its slot can be refilled. */
    m->held = 0;
    m->rd = (m->rd + 1) % m->nslots;
  }
  int blocked = m->ready == 0;
  if (blocked && released) pthread_cond_signal(&m->wake);
  while (m->ready == 0 && !(m->err && m->err_gen == m->gen)) pthread_cond_wait(&m->ready_cv, &m->mu);
  int rc = 0;
  ring_slot *s = &m->slots[m->rd];
  if (m->ready == 0) {
    rc = ht_error(m->err, "%s", m->err_msg);
  } else if (s->epoch != l->epoch || s->batch != l->next) {
    rc = ht_error(HT_EINTERNAL, "loader: expected batch %lld of epoch %lld, the ring holds batch %lld of epoch %lld",
                  (long long)l->next, (long long)l->epoch, (long long)s->batch, (long long)s->epoch);
  } else {
    m->ready--;
    m->held = 1;
    double waited = ht_now() - t0;
    m->stats.wait_s += waited;
    m->stats.batches++;
    m->stats.waits += blocked;
    if (waited > m->stats.max_wait_s) m->stats.max_wait_s = waited;
  }
  pthread_mutex_unlock(&m->mu);
  /* Woken after the unlock (and after the wait was measured): on a shared
   * core the loader may preempt this thread right away to refill the slot,
   * which is CPU sharing, not waiting for data. */
  if (released && !blocked) pthread_cond_signal(&m->wake);
  if (rc < 0) return rc;
  l->next++;
  b->n = l->batch;
  b->x = s->x;
  b->y = s->y;
  b->yt = s->yt;
  return 0;
}

void ht_loader_norm_ready(ht_loader *l) {
  struct ht__loader_impl *m = l->impl;
  pthread_mutex_lock(&m->mu);
  m->norm_ready = 1;
  pthread_cond_broadcast(&m->wake);
  pthread_mutex_unlock(&m->mu);
}

void ht_loader_set_track(ht_loader *l, ht_track *track) {
  struct ht__loader_impl *m = l->impl;
  if (!m) return;
  pthread_mutex_lock(&m->mu);
  m->track = track;
  pthread_mutex_unlock(&m->mu);
}

void ht_loader_get_stats(ht_loader *l, ht_loader_stats *s) {
  if (!l->impl) {
    memset(s, 0, sizeof *s);
    return;
  }
  pthread_mutex_lock(&l->impl->mu);
  *s = l->impl->stats;
  pthread_mutex_unlock(&l->impl->mu);
}

void ht_loader_destroy(ht_loader *l) {
  struct ht__loader_impl *m = l->impl;
  if (m) {
    if (m->started) {
      pthread_mutex_lock(&m->mu);
      m->stop = 1;
      pthread_cond_broadcast(&m->wake);
      pthread_mutex_unlock(&m->mu);
      pthread_join(m->thread, NULL);
    }
    for (int s = 0; m->slots && s < m->nslots; s++) {
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
    pthread_cond_destroy(&m->wake);
    pthread_cond_destroy(&m->ready_cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
  }
  memset(l, 0, sizeof *l);
}
