/*
 * The checkpoint writer thread and the commit sequence (hytrain/ckpt_writer.h).
 *
 * Thread hand-off, all under w->mu: the main thread sets pending = 1 after
 * filling the staging buffers and signals cv; the writer thread commits,
 * records the result and sets pending = 0 and signals cv. The main thread
 * never touches the staging buffers while pending is 1, the writer thread
 * never touches them while it is 0.
 */
#include "hytrain/ckpt_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "hytrain/timer.h"

struct ht_ckpt_writer {
  char dir[4096];
  int async, keep, stall_ms;
  int max_ranks;
  /* staging copy (async only): the writer thread reads it while a job is pending */
  ht_ckpt_state staged;
  float *params, *opt_m, *opt_v;   /* [n_params] each */
  ht_ckpt_rank *ranks;              /* [max_ranks] */
  int staged_best;                  /* the staged checkpoint is the best so far */
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int pending;                      /* a staged job is not finished yet */
  int quit;
  int err_code;                     /* first failure of a write (0: none) */
  char err_msg[1024];
  /* statistics (under mu): completed writes */
  int64_t n_written;
  double write_s_total, write_s_max, bytes_total;
  ht_track *track;                  /* timeline track of the writer thread (under mu), or NULL */
};


/* A staging array, touched once here so that its pages are mapped at set-up
 * and the first checkpoint's copy does not pay the page faults. */
static float *stage_alloc(size_t n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  float *p = aligned_alloc(64, bytes ? bytes : 64);
  if (!p) return NULL;
  const size_t chunk = 1u << 20;
  long nchunks = (long)((bytes + chunk - 1) / chunk);
  char *c = (char *)p;
  /* Parallel over chunks: each thread zeroes (and so maps) disjoint pages. */
#pragma omp parallel for schedule(static)
  for (long k = 0; k < nchunks; k++) {
    size_t lo = (size_t)k * chunk;
    memset(c + lo, 0, bytes - lo < chunk ? bytes - lo : chunk);
  }
  return p;
}

/* Copies n floats with the OpenMP team: the copy is the main thread's stall. */
static void copy_snapshot(float *dst, const float *src, size_t n) {
  const size_t chunk = 1u << 18;
  long nchunks = (long)((n + chunk - 1) / chunk);
  /* Parallel over chunks: each thread copies disjoint ranges of dst. Small
   * states are copied by one thread: a team whose other thread shares its core
   * with the writer thread would wait at the barrier longer than the copy. */
#pragma omp parallel for schedule(static) if (n >= (1u << 22))
  for (long c = 0; c < nchunks; c++) {
    size_t lo = (size_t)c * chunk, len = n - lo < chunk ? n - lo : chunk;
    memcpy(dst + lo, src + lo, len * sizeof(float));
  }
}

static double state_bytes(const ht_ckpt_state *s) {
  double n = (double)s->model->n_params;
  return 4.0 * n * (1 + (s->opt_m != NULL) + (s->opt_v != NULL));
}

/* Writes the checkpoint file, then `latest` (and `best`), then rotates. */
static int commit_snapshot(ht_ckpt_writer *w, const ht_ckpt_state *s, int is_best) {
  char name[64], path[4200], text[80];
  snprintf(name, sizeof name, "ckpt-%lld.h5", (long long)s->info.step);
  snprintf(path, sizeof path, "%s/%s", w->dir, name);
  HT_CHECK(ht_ckpt_write(path, s, w->stall_ms));
  snprintf(text, sizeof text, "%s\n", name);
  HT_CHECK(ht_write_file_atomic(w->dir, "latest", text));
  if (is_best) HT_CHECK(ht_write_file_atomic(w->dir, "best", text));
  HT_CHECK(ht_ckpt_rotate(w->dir, w->keep));
  return 0;
}

static void record(ht_ckpt_writer *w, int rc, double secs, double bytes) {
  if (rc < 0 && w->err_code == 0) {
    w->err_code = rc;
    snprintf(w->err_msg, sizeof w->err_msg, "%s", ht_error_message()[0] ? ht_error_message() : ht_strerror(rc));
  }
  if (rc == 0) {
    w->n_written++;
    w->write_s_total += secs;
    if (secs > w->write_s_max) w->write_s_max = secs;
    w->bytes_total += bytes;
  }
}

static void *writer_main(void *arg) {
  ht_ckpt_writer *w = arg;
  pthread_setname_np(pthread_self(), "ht-ckpt");
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->pending && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
    if (!w->pending && w->quit) break;
    pthread_mutex_unlock(&w->mu);
    double t0 = ht_now();
    ht_error_clear();
    int rc = commit_snapshot(w, &w->staged, w->staged_best);
    double t1 = ht_now(), secs = t1 - t0;
    pthread_mutex_lock(&w->mu);
    int64_t step = w->staged.info.step;
    ht_track_span(w->track, HT_EV_CKPT_WRITE, (int)(step < INT32_MAX ? step : -1), t0, t1);
    record(w, rc, secs, state_bytes(&w->staged));
    w->pending = 0;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int ht_ckpt_writer_create(ht_ckpt_writer **out, const char *dir, const ht_model *m, int has_m, int has_v,
                          int max_ranks, int async, int keep, int stall_ms) {
  ht_ckpt_writer *w = *out = calloc(1, sizeof *w);
  if (!w) return ht_error(HT_ENOMEM, "out of memory for the checkpoint writer");
  snprintf(w->dir, sizeof w->dir, "%s", dir);
  w->async = async;
  w->keep = keep;
  w->stall_ms = stall_ms;
  w->max_ranks = max_ranks;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if (!async) return 0;
  /* Staging buffers are sized once here, so a checkpoint step allocates nothing. */
  w->params = stage_alloc(m->n_params);
  if (has_m) w->opt_m = stage_alloc(m->n_params);
  if (has_v) w->opt_v = stage_alloc(m->n_params);
  w->ranks = calloc((size_t)max_ranks, sizeof *w->ranks);
  if (!w->params || (has_m && !w->opt_m) || (has_v && !w->opt_v) || !w->ranks) {
    ht_ckpt_writer_destroy(out);
    return ht_error(HT_ENOMEM,
                    "checkpoint.async: cannot allocate the %.0f MiB staging buffer; set checkpoint.async: false",
                    4.0 * (double)m->n_params * (1 + has_m + has_v) / 1048576.0);
  }
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    ht_ckpt_writer_destroy(out);
    return ht_error(HT_EINTERNAL, "cannot start the checkpoint writer thread");
  }
  w->started = 1;
  return 0;
}

/* Waits for the job in flight; caller holds mu. */
static void wait_locked(ht_ckpt_writer *w) {
  while (w->pending) pthread_cond_wait(&w->cv, &w->mu);
}

static int error_locked(ht_ckpt_writer *w) {
  if (w->err_code < 0) return ht_error(w->err_code, "%s", w->err_msg);
  return 0;
}

int ht_ckpt_writer_save(ht_ckpt_writer *w, const ht_ckpt_state *s, int is_best, double *stall_s, double *waited_s) {
  double t0 = ht_now();
  pthread_mutex_lock(&w->mu);
  wait_locked(w);
  double t1 = ht_now();
  if (waited_s) *waited_s = t1 - t0;
  int rc = error_locked(w);
  pthread_mutex_unlock(&w->mu);
  if (rc < 0) return rc;
  if (!w->async) {
    rc = commit_snapshot(w, s, is_best);
    double secs = ht_now() - t1;
    pthread_mutex_lock(&w->mu);
    record(w, rc, secs, state_bytes(s));
    pthread_mutex_unlock(&w->mu);
    if (stall_s) *stall_s = ht_now() - t0;
    return rc;
  }
  if (s->info.world_size > w->max_ranks)
    return ht_error(HT_EINTERNAL, "checkpoint of %d ranks, staging sized for %d", s->info.world_size, w->max_ranks);
  /* No job is pending, so the writer thread does not read the staging buffers. */
  size_t n = s->model->n_params;
  w->staged = *s;
  copy_snapshot(w->params, s->params, n);
  w->staged.params = w->params;
  w->staged.opt_m = s->opt_m ? w->opt_m : NULL;
  w->staged.opt_v = s->opt_v ? w->opt_v : NULL;
  if (s->opt_m) copy_snapshot(w->opt_m, s->opt_m, n);
  if (s->opt_v) copy_snapshot(w->opt_v, s->opt_v, n);
  memcpy(w->ranks, s->ranks, sizeof *w->ranks * (size_t)s->info.world_size);
  w->staged.ranks = w->ranks;
  w->staged_best = is_best;
  pthread_mutex_lock(&w->mu);
  w->pending = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (stall_s) *stall_s = ht_now() - t0;
  return 0;
}

int ht_ckpt_writer_wait(ht_ckpt_writer *w) {
  pthread_mutex_lock(&w->mu);
  wait_locked(w);
  int rc = error_locked(w);
  pthread_mutex_unlock(&w->mu);
  return rc;
}

int ht_ckpt_writer_poll(ht_ckpt_writer *w) {
  pthread_mutex_lock(&w->mu);
  int rc = error_locked(w);
  pthread_mutex_unlock(&w->mu);
  return rc;
}

void ht_ckpt_writer_set_track(ht_ckpt_writer *w, ht_track *track) {
  if (!w || !w->started) return;
  pthread_mutex_lock(&w->mu);
  w->track = track;
  pthread_mutex_unlock(&w->mu);
}

int ht_ckpt_writer_is_async(const ht_ckpt_writer *w) { return w && w->async; }

void ht_ckpt_writer_get_stats(ht_ckpt_writer *w, ht_ckpt_writer_stats *out) {
  pthread_mutex_lock(&w->mu);
  *out = (ht_ckpt_writer_stats){.n_written = w->n_written, .write_s_total = w->write_s_total,
                                .write_s_max = w->write_s_max, .bytes_total = w->bytes_total};
  pthread_mutex_unlock(&w->mu);
}

void ht_ckpt_writer_destroy(ht_ckpt_writer **wp) {
  ht_ckpt_writer *w = *wp;
  if (!w) return;
  if (w->started) {
    pthread_mutex_lock(&w->mu);
    wait_locked(w);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = 0;
  }
  free(w->params);
  free(w->opt_m);
  free(w->opt_v);
  free(w->ranks);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
  *wp = NULL;
}
