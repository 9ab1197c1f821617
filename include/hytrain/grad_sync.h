/*
 * Gradient averaging for one training step: buckets, the communication
 * thread, and the optimizer applied bucket by bucket.
 *
 * Buckets are formed once, at create time, from the slices backward reports
 * (hytrain/model.h): last layer first, big layers in row blocks of about
 * comm.slice_mb, consecutive slices packed into one bucket while they fit in
 * comm.bucket_mb. The plan depends only on the model and the config, so every
 * rank issues the same buckets in the same order. The slicing changes the
 * GEMM shapes (and so the rounding of dW); the bucketing does not change any
 * number, which is why the two are separate knobs.
 *
 * Modes (comm.mode):
 *   sync     backward, then every bucket is reduced; the optimizer updates each
 *            bucket as soon as it is reduced.
 *   overlap  each bucket is handed to the communication thread the moment
 *            backward has finished it; the reductions run while backward computes
 *            the earlier layers. Same sums, same order as sync: bit-identical.
 *   delayed  the gradient of step t is reduced while step t+1 computes, and
 *            applied after step t+1's backward: step t+1's forward and backward
 *            use weights that do not include step t's update yet (staleness of
 *            one step; w_{t+1} = w_t - opt(avg g(w_{t-1}))). ht_grad_sync_flush
 *            applies the last pending gradient; the trainer calls it at every
 *            epoch end, so evaluation and checkpoints see every update.
 * The average is the sum over ranks times 1/P (P = ranks); with equal batches
 * per rank that is the mean over the global batch.
 *
 * Events on the main thread's track: forward (forward + loss), backward (one
 * span per slice, arg = layer), bucket_enqueue, bucket_wait and optimizer
 * (arg = bucket); the communication thread records allreduce (arg = bucket).
 */
#ifndef HYTRAIN_GRAD_SYNC_H
#define HYTRAIN_GRAD_SYNC_H

#include <stdint.h>
#include <stdio.h>

#include <sched.h>

#include "hytrain/comm.h"
#include "hytrain/config.h"
#include "hytrain/events.h"
#include "hytrain/log.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"

/* comm.mode is ht_sync_mode and comm.transport ht_transport (hytrain/options.h).
 * transport: how buckets are summed. auto: in shared memory when every
 * rank runs on one node (src/comm/shm_grads.h), else hierarchically
 * (src/comm/hier.h), else with MPI messages (src/comm/bucket_reduce.h);
 * shm / hier: that or an error; mpi: messages always (e.g. to measure a
 * network). shm and mpi sums are bit-identical; hier has its own fixed
 * order. inter_algo: hier's exchange between nodes. */

typedef struct ht_grad_sync_opts {
  ht_sync_mode mode;
  double bucket_mb;     /* MiB: slices are packed into buckets up to this size */
  double slice_mb;      /* MiB: big weight gradients are computed in row blocks of this size */
  ht_wait_kind wait;
  int sleep_us;
  int thread_core;      /* -1: the rank's cpuset */
  ht_transport transport;
  ht_inter_algo inter_algo;
  ht_comm_dtype dtype;  /* hierarchical summing's inter-node messages */
  ht_nonfinite_action on_nonfinite; /* train.on_nonfinite: skip_step defers every update until the sums are agreed */
} ht_grad_sync_opts;

/* A NaN or infinite gradient sum, agreed over ranks (ht_grad_sync_nonfinite). */
typedef struct ht_grad_nonfinite {
  int64_t step;       /* the step whose gradient it was (ht_grad_sync_at_step) */
  int rank;           /* first rank whose own gradient held a non-finite value there; P: none did (the sum overflowed) */
  size_t elem;        /* the first such element of that rank (index into the flat gradient) */
  char layer[48];     /* its layer and part, e.g. "dense0 weight" */
} ht_grad_nonfinite;

/* The comm.* keys of cfg (not collective). Returns 0 or HT_ECONFIG. */
int ht_grad_sync_opts_from_config(const ht_config *cfg, ht_grad_sync_opts *o);

/* Buckets, the communication thread and the per-bucket optimizer of one
 * training (opaque; src/train/grad_sync_impl.h). One per training, used by
 * the main thread only. */
typedef struct ht_grad_sync ht_grad_sync;

/* Plans the buckets (sets m->slice_elems), sets up the transport, starts the
 * communication thread on cpus (the rank's cpuset, may be NULL) and, for
 * delayed mode, allocates the second gradient buffer; *out receives the
 * object (also on failure, when it may be partly set up: destroy it). With
 * shared memory the model's gradient buffer is moved into the segment
 * (m->grads points there until destroy). ev may be NULL (no events);
 * otherwise tracks 0 ("main") and 1 ("comm") are claimed. Collective on
 * comm->grad (every rank must call it) unless transport is mpi or there is
 * one rank. Returns 0, HT_ENOMEM, HT_ECONFIG, HT_EMPI or HT_EINTERNAL. */
int ht_grad_sync_create(ht_grad_sync **out, const ht_grad_sync_opts *o, const ht_comm *comm, ht_model *m,
                        ht_optim *opt, ht_events *ev, const cpu_set_t *cpus);

/* Forward + loss + backward on this rank's batch (ht_model_step), handing each
 * finished bucket to the communication thread in overlap mode. Returns the
 * local mean loss (NaN on a bad batch, like ht_model_step). */
double ht_grad_sync_compute(ht_grad_sync *gs, const float *x, const int32_t *y, const float *t, int B);

/* The step number of the next ht_grad_sync_compute (for ht_grad_nonfinite). */
void ht_grad_sync_at_step(ht_grad_sync *gs, int64_t step);

/* After ht_grad_sync_apply / _flush: 1 when the gradient they reduced had a
 * NaN or infinite sum somewhere (the same answer on every rank: the owners of
 * the chunks check their sums on the communication thread, then the ranks
 * agree, one MPI_Allreduce of 8 bytes per applied gradient), with *out
 * saying where; 0 otherwise. With on_nonfinite skip_step that gradient was
 * not applied (no optimizer step); with stop it was. Each finding is
 * returned once. */
int ht_grad_sync_nonfinite(ht_grad_sync *gs, ht_grad_nonfinite *out);

/* After ht_grad_sync_compute on every rank: averages and applies the step's
 * gradient (sync, overlap: waits for bucket k, scales it by 1/P, updates that
 * slice of the parameters, next bucket; delayed: applies the previous step's
 * gradient and starts reducing this one). One optimizer step (ht_optim_begin_step)
 * per applied gradient. Returns 0 or HT_EMPI (abort the job: the other ranks
 * may be inside a collective). */
int ht_grad_sync_apply(ht_grad_sync *gs, double lr);

/* Delayed mode: waits for and applies the pending gradient; no-op otherwise.
 * Returns 0 or HT_EMPI. */
int ht_grad_sync_flush(ht_grad_sync *gs);

/* Flushes, then stops and joins the communication thread (its reductions are
 * all complete) and records the run's figures for ht_grad_sync_report.
 * Call once, after the last step. Returns 0 or HT_EMPI. */
int ht_grad_sync_finish(ht_grad_sync *gs);

/* The main thread's event track (NULL without events), for the trainer's
 * own spans (data wait, checkpoint). */
ht_track *ht_grad_sync_track(const ht_grad_sync *gs);

/* Collective on comm->main, after ht_grad_sync_finish: rank 0 prints the
 * event table and the communication summary (time in flight and waited for,
 * the part hidden behind compute, the communication thread's CPU time), to
 * stdout and, as one {"kind": "comm", ...} record, to metrics (may be NULL).
 * Returns 0 or HT_EMPI. */
int ht_grad_sync_report(const ht_grad_sync *gs, const ht_events *ev, const ht_log *log, FILE *metrics);

/* Collective on comm->main: each rank's OpenMP threads (cpu each runs on) and
 * the communication thread's cpus; rank 0 prints them and warns when the
 * communication thread shares a compute core with comm.wait=block. Returns
 * 0 or HT_EMPI. */
int ht_grad_sync_binding_report(const ht_grad_sync *gs, const ht_log *log);

/* The cpus this rank may use: the union of the masks of its OpenMP team
 * (under OMP_PROC_BIND each team thread, the main one included, is pinned to
 * one place, so the main thread's own mask is not the rank's cpuset). */
void ht_rank_cpuset(cpu_set_t *set);

/* Stops the thread if still running, restores the model's gradient buffer
 * and frees everything; *gs = NULL. Safe on NULL. */
void ht_grad_sync_destroy(ht_grad_sync **gs);

#endif
