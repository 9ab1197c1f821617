/*
 * The checkpoint writer: commits checkpoints to <run>/checkpoints/ on its own
 * thread ("ht-ckpt", owned by src/ckpt/writer.c) while training continues.
 *
 * Hand-off: ht_ckpt_writer_save copies the state into a staging buffer on the
 * calling (main) thread -- that copy is the only stall -- and wakes the
 * writer thread, which writes ckpt-<step>.h5.partial, fsyncs, renames, fsyncs
 * the directory, replaces `latest` (and `best`) the same way and removes
 * checkpoints beyond checkpoint.keep. At most one write is in flight: a save
 * while one is running first waits for it. With async off the same steps run
 * on the calling thread. A failed write is kept and returned by the next
 * save, wait or poll; earlier checkpoints and `latest` stay valid.
 * Not collective: only the rank that writes (rank 0) has a writer.
 */
#ifndef HYTRAIN_CKPT_WRITER_H
#define HYTRAIN_CKPT_WRITER_H

#include <pthread.h>
#include <stdint.h>

#include "hytrain/ckpt.h"
#include "hytrain/events.h"

typedef struct ht_ckpt_writer {
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
} ht_ckpt_writer;

/* Hands the writer thread the events track it records a ckpt_write span on
 * per checkpoint (NULL: stop). Under the writer's mutex, as for the loader. */
void ht_ckpt_writer_set_track(ht_ckpt_writer *w, ht_track *track);

/* Sets up a writer for checkpoints of model m (and its optimizer buffers:
 * has_m / has_v say which exist) in dir. async: allocate the staging buffers
 * and start the thread. keep: checkpoint.keep. stall_ms: test hook. */
int ht_ckpt_writer_create(ht_ckpt_writer *w, const char *dir, const ht_model *m, int has_m, int has_v,
                          int max_ranks, int async, int keep, int stall_ms);

/* Saves s as ckpt-<s->info.step>.h5 (see above). *stall_s receives the time
 * the caller was held (waiting for the previous write plus the copy, or the
 * whole write when synchronous), *waited_s the part spent waiting for the
 * previous write. Returns 0 or the error of this or the previous write. */
int ht_ckpt_writer_save(ht_ckpt_writer *w, const ht_ckpt_state *s, int is_best, double *stall_s, double *waited_s);

/* Waits until no write is in flight; returns the first write error, if any. */
int ht_ckpt_writer_wait(ht_ckpt_writer *w);

/* Non-blocking: the first write error so far (0 if none). */
int ht_ckpt_writer_poll(ht_ckpt_writer *w);

/* Waits for the write in flight, stops the thread, frees the staging buffers. */
void ht_ckpt_writer_destroy(ht_ckpt_writer *w);

#endif
