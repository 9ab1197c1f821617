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

#include <stdint.h>

#include "hytrain/ckpt.h"
#include "hytrain/events.h"

/* One writer per run, rank 0 only (opaque: the staging buffers, the thread
 * and its hand-off live in src/ckpt/writer.c). */
typedef struct ht_ckpt_writer ht_ckpt_writer;

/* Completed writes so far (for the end-of-run report). */
typedef struct ht_ckpt_writer_stats {
  int64_t n_written;
  double write_s_total, write_s_max; /* seconds per write: sum and longest */
  double bytes_total;                /* tensor bytes written */
} ht_ckpt_writer_stats;

/* Hands the writer thread the events track it records one ckpt_write span
 * on per checkpoint written (NULL: stop recording). Under the writer's mutex:
 * once it returns the thread records on the new track only, so the caller may
 * read an old track's totals. No-op for a synchronous writer. */
void ht_ckpt_writer_set_track(ht_ckpt_writer *w, ht_track *track);

/* 1 when the writer has its own thread (checkpoint.async). */
int ht_ckpt_writer_is_async(const ht_ckpt_writer *w);

/* Sets up a writer into *out for checkpoints of model m (and its optimizer
 * buffers: has_m / has_v say which exist) in dir, for up to max_ranks ranks'
 * data cursors. async: allocate the staging buffers and start the thread.
 * keep: checkpoint.keep. stall_ms: test hook (the writer sleeps mid-file).
 * Not collective. Returns 0, HT_ENOMEM or HT_EINTERNAL (*out NULL then). */
int ht_ckpt_writer_create(ht_ckpt_writer **out, const char *dir, const ht_model *m, int has_m, int has_v,
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

/* The completed writes so far (any time; consistent with each other). */
void ht_ckpt_writer_get_stats(ht_ckpt_writer *w, ht_ckpt_writer_stats *out);

/* Waits for the write in flight, stops the thread, frees the staging buffers
 * and the writer; *w = NULL. Safe on NULL. */
void ht_ckpt_writer_destroy(ht_ckpt_writer **w);

#endif
