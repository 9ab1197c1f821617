/*
 * Chunks of a rank's CSR shard read while the sparse engines train
 * (data.mode: stream on a CSR file; docs/sparse.md, "Stream mode").
 *
 * One loader thread per rank ("ht-loader", src/data/csr_loader.c owns it)
 * reads the shard from its file and hands the main thread chunks of rows in
 * training order through a ring of `prefetch` ready slots, so the engines
 * train on one chunk while the next ones are read. The shard is never held
 * whole: the loader holds one shuffle window and the ring.
 *
 * Pieces, windows, chunks (C = chunk_rows, K = window_chunks):
 *   - piece: the shard's rows cut at multiples of C of the FILE's row
 *     numbers, read with one hyperslab of indptr and then one of indices and
 *     of values (the first and last piece of a shard may be shorter);
 *   - window: K pieces, read together, whose rows are shuffled together.
 *     Each epoch the pieces are shuffled (seed, epoch, rank) and taken K at a
 *     time; within a window the pieces are laid out in file order and the
 *     rows shuffled. When one window holds the whole shard its shuffle is
 *     the one of memory mode (src/train/sparse_run.c), so both modes visit
 *     the rows in the same order;
 *   - chunk: the next C positions of the epoch's order (the last one
 *     shorter), copied out of the window(s) into a ring slot. Every rank has
 *     the same chunk sizes (C and the epoch's row count are the same on every
 *     rank), which the engines' collective averages need.
 * Every row of the shard is read exactly once per epoch; rows past the
 * epoch's `rows_per_epoch` positions (the cut to the smallest shard) are read
 * and validated but not handed over.
 *
 * Hand-offs (under one mutex, two condition variables; neither side spins):
 * main -> loader: start_epoch (a job tagged with a generation) and stop;
 * loader -> main: ready slots, or an error whose message names the file and
 * row. The loader runs on into the next epoch while the main thread trains.
 */
#ifndef HYTRAIN_CSR_LOADER_H
#define HYTRAIN_CSR_LOADER_H

#include <stdint.h>

#include "hytrain/csr.h"
#include "hytrain/events.h"
#include "hytrain/loader.h"

typedef struct ht_csr_loader ht_csr_loader;

typedef struct ht_csr_loader_opts {
  int64_t chunk_rows;      /* C >= 1: rows per piece read and per chunk handed over */
  int window_chunks;       /* K >= 1: pieces per shuffle window */
  int prefetch;            /* >= 1: ready chunks ahead of the main thread */
  int shuffle;             /* 0: file order */
  uint64_t seed;
  int rank;
  int64_t rows_per_epoch;  /* positions handed over per epoch, 1 .. shard rows */
  int64_t epochs;          /* epochs in the run (the loader prefetches into the next one) */
} ht_csr_loader_opts;

/* One chunk, valid until the next ht_csr_loader_next or start_epoch. */
typedef struct ht_csr_chunk {
  const ht_csr *rows;       /* rows->n rows in training order; indptr rebased, labels */
  const int64_t *file_rows; /* [rows->n] the file row of each */
  int64_t epoch, index;     /* chunk `index` of the epoch */
  int64_t pos0;             /* epoch position of its first row */
  int64_t rows_read;        /* rows read from the file while it was assembled */
} ht_csr_chunk;

/* Chunks per epoch: ceil(rows_per_epoch / chunk_rows), the same on every rank. */
int64_t ht_csr_loader_chunks(const ht_csr_loader_opts *o);

/* Rows per chunk when data.chunk_rows is 0: about 4 MiB of non-zeros
 * (indices and values) at the file's mean non-zeros per row, so the same on
 * every rank. */
int64_t ht_csr_loader_auto_chunk_rows(const ht_csr *hdr);

/* Bytes the loader is expected to hold (window, ring, piece order) at the
 * file's mean non-zeros per row, for data.memory_budget_mb. */
int64_t ht_csr_loader_memory_bytes(const ht_csr *hdr, const ht_csr_loader_opts *o);

/* hdr: the probed file (path, header) with this rank's shard range (row0,
 * n); copied. Starts the thread, idle until the first start_epoch. Errors:
 * HT_EINVAL (bad options), HT_ENOMEM. */
int ht_csr_loader_create(ht_csr_loader **out, const ht_csr *hdr, const ht_csr_loader_opts *o);

/* Positions the loader at chunk 0 of epoch; keeps its prefetched work when
 * it is already there (the usual epoch-to-epoch case). */
void ht_csr_loader_start_epoch(ht_csr_loader *l, int64_t epoch);

/* The next chunk of the epoch, waiting for the loader if none is ready.
 * Returns 0, HT_EINVAL past the epoch's last chunk, or the loader thread's
 * error (one line naming the file and row). */
int ht_csr_loader_next(ht_csr_loader *l, ht_csr_chunk *c);

/* The track the loader records its load_read (one per piece) and load_batch
 * (one per chunk) spans on; NULL stops recording. Under the mutex. */
void ht_csr_loader_set_track(ht_csr_loader *l, ht_track *track);

/* A consistent copy of the counters (batches counts chunks). */
void ht_csr_loader_get_stats(ht_csr_loader *l, ht_loader_stats *s);

/* Stops and joins the thread, frees everything; *l = NULL. */
void ht_csr_loader_destroy(ht_csr_loader **l);

#endif
