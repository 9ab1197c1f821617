/*
 * Batches from this rank's shard, produced by a loader thread.
 *
 * Each rank owns one loader thread (src/data/loader.c, named "ht-loader")
 * that reads, shuffles, normalises and optionally augments the next batches
 * into a ring of `prefetch` ready slots while the main thread trains. The main
 * thread only takes finished batches (ht_loader_next); the hand-off is a mutex
 * and two condition variables, so neither side spins.
 *
 * Two modes behind one interface:
 *   memory - the shard is in memory (ht_dataset_read_shard, raw values); the
 *            loader gathers rows from it.
 *   stream - the loader reads the shard from its file in pieces of chunk_rows
 *            rows (aligned to the file's chunk grid) into a shuffle buffer of
 *            shuffle_buffer_chunks pieces and draws rows from it at random.
 *
 * The epoch order is a pure function of (seed, epoch, rank) and the options,
 * so a run resumed at (epoch, batch) continues the exact order in both modes.
 * In memory mode, and in stream mode whose buffer holds the whole shard, the
 * order is one uniform shuffle of the shard; both modes then give the same
 * order (docs/data-format.md, "Streaming shuffle", describes the trade-off of
 * a smaller buffer). An epoch has a fixed number of full batches (the trainer
 * passes the same count on every rank); rows past the last full batch of an
 * epoch's order are not used in that epoch (PyTorch's drop_last).
 */
#ifndef HYTRAIN_LOADER_H
#define HYTRAIN_LOADER_H

#include <stdint.h>

#include "hytrain/dataset.h"
#include "hytrain/events.h"

typedef struct ht_batch {
  int n;               /* rows */
  const float *x;      /* [n, d], normalised (and augmented) */
  const int32_t *y;    /* [n] or NULL (regression) */
  const float *yt;     /* [n, t] or NULL (classification) */
} ht_batch;

typedef enum { HT_LOADER_MEMORY = 0, HT_LOADER_STREAM = 1 } ht_loader_mode;

typedef struct ht_loader_opts {
  ht_loader_mode mode;
  int64_t batches_per_epoch;  /* 0: every full batch of the shard */
  int64_t epochs;             /* epochs in the run (the loader prefetches into the next one); 0 = no end */
  int64_t chunk_rows;         /* stream: rows per read; 0 = auto (ht_loader_auto_chunk_rows) */
  int shuffle_buffer_chunks;  /* stream: pieces the shuffle buffer holds (>= 1) */
  int prefetch;               /* ready batch slots ahead of the consumer (>= 1) */
  const ht_norm *norm;        /* borrowed; NULL or disabled: no normalisation */
  int norm_deferred;          /* 1: *norm is fitted later; batches wait for ht_loader_norm_ready */
  int flip;                   /* augment: mirror left-right with probability 1/2 */
  int shift;                  /* augment: translate by up to shift pixels in x and y */
  int image_side;             /* augment: rows are image_side x image_side images */
} ht_loader_opts;

/* Fills the defaults: memory mode, prefetch 3, 4 buffer chunks, no augment. */
void ht_loader_opts_default(ht_loader_opts *o);

/* Times and counts of the loader, for the log and the event table. read_s and
 * assemble_s are the loader thread's busy time (HDF5 reads; gather, normalise,
 * augment); wait_s is the time the main thread spent blocked in
 * ht_loader_next, i.e. the data wait that compute saw. */
typedef struct ht_loader_stats {
  double read_s;
  double assemble_s;
  double wait_s;
  int64_t rows_read;      /* stream: rows read from the file */
  int64_t bytes_read;     /* stream: feature + label bytes read */
  int64_t batches;        /* batches handed to the main thread */
  int64_t waits;          /* ht_loader_next calls that found no batch ready */
  double max_wait_s;      /* longest single wait */
} ht_loader_stats;

struct ht__loader_impl;

typedef struct ht_loader {
  const ht_dataset *ds; /* borrowed: header + shard range (stream) or the shard (memory) */
  int batch;            /* rows per batch */
  int shuffle;          /* 0: shard order */
  uint64_t seed;
  int rank;
  int64_t epoch;        /* current epoch */
  int64_t next;         /* next batch index within the epoch (what the main thread takes next) */
  int64_t batches;      /* batches per epoch */
  ht_loader_opts opts;
  struct ht__loader_impl *impl; /* thread, ring, buffers */
} ht_loader;


/* Memory mode with default options (the foundation's interface). */
int ht_loader_create(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank);

/* Allocates every buffer and starts the loader thread (idle until the first
 * ht_loader_start_epoch). Stream mode needs ds->path, the header and the shard
 * range (row0, n); memory mode needs ds->x and labels. Errors: HT_ENOMEM,
 * HT_EINVAL (bad options, augment on non-square rows). */
int ht_loader_create_opts(ht_loader *l, const ht_dataset *ds, int batch, int shuffle, uint64_t seed, int rank,
                          const ht_loader_opts *opts);

/* Rows per stream read when chunk_rows is 0: the smallest multiple of the
 * file's chunk rows that holds at least 4 MiB of features. */
int64_t ht_loader_auto_chunk_rows(int64_t file_chunk_rows, int d);

/* Bytes the loader allocates for these options (buffers, ring, order), so the
 * trainer can hold it against data.memory_budget_mb. */
int64_t ht_loader_memory_bytes(const ht_dataset *ds, int batch, const ht_loader_opts *opts);

/* Positions the loader at batch `skip` of epoch (a resumed run passes the
 * batch position it stopped at). The loader thread runs on from one epoch
 * into the next, so when it is already at exactly that batch (the usual
 * start of the next epoch) its prefetched work is kept; otherwise it is
 * discarded and production restarts there. */
void ht_loader_start_epoch(ht_loader *l, int64_t epoch, int64_t skip);

/* Fills b with the next batch, waiting for the loader thread if it is not
 * ready. The batch stays valid until the next call or start_epoch. Returns
 * HT_EINVAL past the epoch's last batch, or the loader thread's error (its
 * message names the file and row range) when it failed. */
int ht_loader_next(ht_loader *l, ht_batch *b);

/* Tells a loader created with norm_deferred that *opts.norm now holds the
 * statistics: until then it may read (fill its shuffle buffer) but assembles
 * no batch, so reading overlaps the statistics pass. */
void ht_loader_norm_ready(ht_loader *l);

/* Hands the loader thread the events track it records its load_read and
 * load_batch spans on (NULL: stop recording). Under the loader's mutex: once
 * it returns, the thread records on the new track only, so the main thread
 * may read an old track's totals. */
void ht_loader_set_track(ht_loader *l, ht_track *track);

/* A consistent copy of the counters (any thread). */
void ht_loader_get_stats(ht_loader *l, ht_loader_stats *s);

/* Stops and joins the thread and frees everything. Safe on a zeroed loader. */
void ht_loader_destroy(ht_loader *l);

#endif
