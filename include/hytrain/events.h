/*
 * Named events: what each thread of a rank spent its time on.
 *
 * A recorder holds one track per thread (main, comm, loader, checkpoint...).
 * The main thread records data_wait .. checkpoint, the communication thread
 * allreduce, the loader thread load_read (one HDF5 read of the stream mode,
 * arg = piece) and load_batch (one batch assembled: gathered, augmented,
 * normalised, arg = batch), the checkpoint writer thread ckpt_write (one
 * checkpoint written and committed, arg = step).
 * Each track is written by exactly one thread, so recording takes no lock:
 * ht_track_begin / ht_track_end read the clock, keep a small stack of open
 * spans and, when the span ends, add it to the track's per-kind totals
 * (count, total, max: always exact) and, if the track has room, append it to
 * its fixed-size timeline buffer (allocated at create time; a full buffer
 * keeps the first events and counts the rest as dropped). Nothing on the hot
 * path allocates.
 *
 * At the end of a run (collective on a communicator) the totals become the
 * event table printed by rank 0, and the buffers become one Chrome trace JSON
 * file (pid = rank, tid = track) that loads in Perfetto or chrome://tracing.
 */
#ifndef HYTRAIN_EVENTS_H
#define HYTRAIN_EVENTS_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

/* X(enum suffix, name shown in the table and the trace). Appending is safe;
 * the order is the order of the table. */
#define HT_EVENT_MAP(X)                 \
  X(DATA_WAIT, "data_wait")             \
  X(FORWARD, "forward")                 \
  X(BACKWARD, "backward")               \
  X(BUCKET_ENQUEUE, "bucket_enqueue")   \
  X(ALLREDUCE, "allreduce")             \
  X(BUCKET_WAIT, "bucket_wait")         \
  X(OPTIMIZER, "optimizer")             \
  X(CHECKPOINT, "checkpoint")           \
  X(LOAD_READ, "load_read")             \
  X(LOAD_BATCH, "load_batch")           \
  X(CKPT_WRITE, "ckpt_write")          \
  X(SGD_UPDATES, "sgd_updates")         \
  X(AVERAGE, "weight_average")

typedef enum {
#define HT__EV_ENUM(id, name) HT_EV_##id,
  HT_EVENT_MAP(HT__EV_ENUM)
#undef HT__EV_ENUM
      HT_EV_COUNT
} ht_event_kind;

/* Name of an event kind ("allreduce"). */
const char *ht_event_name(ht_event_kind kind);

#define HT_EV_MAX_TRACKS 8
#define HT_EV_MAX_DEPTH 8

/* One finished span in a timeline buffer. arg: layer or bucket index (-1 none). */
typedef struct ht_event_rec {
  double t0, t1;     /* seconds on ht_now()'s clock */
  int32_t kind;
  int32_t arg;
} ht_event_rec;

typedef struct ht_event_stat {
  int64_t count;
  double total, max; /* seconds */
} ht_event_stat;

typedef struct ht_track {
  char name[16];              /* thread name, e.g. "main", "comm" */
  int used;                   /* claimed by ht_events_track */
  ht_event_rec *buf;          /* [cap] timeline records, NULL if no timeline */
  int64_t cap, n, dropped;
  ht_event_stat stat[HT_EV_COUNT];
  int depth;                  /* open spans */
  double open_t0[HT_EV_MAX_DEPTH];
  int32_t open_kind[HT_EV_MAX_DEPTH], open_arg[HT_EV_MAX_DEPTH];
} ht_track;

typedef struct ht_events {
  ht_track tracks[HT_EV_MAX_TRACKS];
  int64_t cap;                /* timeline records per track (0: totals only) */
  double origin;              /* ht_now() at ht_events_start, the trace's t = 0 */
} ht_events;

/* capacity: timeline records kept per track (0 = totals only, no timeline).
 * Allocates nothing: each track's buffer is allocated by ht_events_track, and
 * a track without memory keeps its totals only. Returns 0. */
int ht_events_create(ht_events *ev, int64_t capacity);

/* Claims track index (0 <= index < HT_EV_MAX_TRACKS) for one thread and names
 * it; by convention 0 = main, 1 = comm, 2 = loader, 3 = checkpoint. Call
 * before the thread starts recording. Returns the track. */
ht_track *ht_events_track(ht_events *ev, int index, const char *name);

/* Collective on comm: aligns the time origin across ranks (a barrier, then
 * every rank reads its clock) and resets every track's totals and buffer. */
int ht_events_start(ht_events *ev, MPI_Comm comm);

/* Opens a span of kind on track t (NULL t: no-op). Spans nest. */
void ht_track_begin(ht_track *t, ht_event_kind kind, int arg);
/* Closes the innermost open span. */
void ht_track_end(ht_track *t);
/* Records a finished span [t0, t1] directly (t1 >= t0); it must nest with the
 * track's other spans. */
void ht_track_span(ht_track *t, ht_event_kind kind, int arg, double t0, double t1);

/* Totals of one kind over every track of this rank. */
ht_event_stat ht_events_total(const ht_events *ev, ht_event_kind kind);

/* Collective on comm: rank 0 prints the event table to out (kinds seen on any
 * rank: count, total, mean, max, and the min/max of the total over ranks). */
int ht_events_print_table(const ht_events *ev, MPI_Comm comm, FILE *out);

/* Collective on comm: rank 0 gathers every rank's timeline and writes path as
 * Chrome trace JSON (written to path.tmp, then renamed). Returns 0, or the
 * HT_EIO/HT_EMPI code on every rank. */
int ht_events_write_trace(const ht_events *ev, MPI_Comm comm, const char *path);

/* Frees the tracks (local; every thread that records must have stopped).
 * Safe on a zeroed ht_events. */
void ht_events_destroy(ht_events *ev);

#endif
