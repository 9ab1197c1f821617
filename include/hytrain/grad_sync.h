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

#include "hytrain/comm.h"
#include "hytrain/comm_thread.h"
#include "hytrain/config.h"
#include "hytrain/events.h"
#include "hytrain/log.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/shm_grads.h"

/* comm.mode is ht_sync_mode and comm.transport ht_transport (hytrain/options.h).
 * transport: how buckets are summed. auto: in shared memory when every
 * rank runs on one node (hytrain/shm_grads.h), else with MPI messages
 * (hytrain/bucket_reduce.h); shm: shared memory or an error; mpi: messages
 * always (e.g. to measure a network). The sums are bit-identical. */

typedef struct ht_grad_sync_opts {
  ht_sync_mode mode;
  double bucket_mb;     /* MiB: slices are packed into buckets up to this size */
  double slice_mb;      /* MiB: big weight gradients are computed in row blocks of this size */
  ht_wait_kind wait;
  int sleep_us;
  int thread_core;      /* -1: the rank's cpuset */
  double stall_warn_s;  /* the communication thread's watchdog; 0 = off */
  double stall_timeout_s;
  ht_transport transport;
} ht_grad_sync_opts;

/* The comm.* keys of cfg. Returns 0 or HT_ECONFIG. */
int ht_grad_sync_opts_from_config(const ht_config *cfg, ht_grad_sync_opts *o);

/* End-of-run figures of this rank (see ht_grad_sync_report). */
typedef struct ht_grad_sync_stats {
  int64_t steps;
  double inflight_s;    /* time with a reduction in flight (communication thread) */
  double wait_s;        /* main thread waiting for buckets */
  double comm_cpu_s;    /* CPU time of the communication thread */
  double process_cpu_s; /* CPU time of the whole process over the same period */
  double wall_s;        /* wall time from the first step to finish */
  int cpus;             /* cores in the rank's cpuset */
} ht_grad_sync_stats;

typedef struct ht_grad_sync {
  ht_grad_sync_opts o;
  const ht_comm *comm;
  ht_model *m;
  ht_optim *opt;
  int n_slices, n_buckets;
  size_t *slice_lo, *slice_hi;  /* [n_slices] as ht_model_slices reports them */
  int *bucket_end;              /* [n_slices]: bucket that slice i completes, or -1 */
  ht_bucket *buckets;           /* [n_buckets] */
  ht_comm_thread ct;
  int slice;                    /* next slice expected from backward this step */
  int bad_slice;                /* backward reported a slice the plan did not expect */
  float *own_grads;             /* the model's gradient buffer (restored at destroy) */
  float *spare;                 /* delayed with messages: the second gradient buffer (allocated) */
  float *bufs[2];               /* the gradient buffers in use: [0] the model's (or its shared
                                 * copy), [1] delayed mode's second one */
  ht_shm_grads shm;             /* shared-memory summing; shm.base == NULL: MPI messages */
  char transport_note[256];     /* why shared memory is not used, "" if it is or was not asked */
  int pending;                  /* delayed: a gradient is being reduced */
  float *pending_buf;
  double pending_lr;
  ht_track *track;              /* main thread's track (may be NULL) */
  double t_mark;
  double t_first, cpu_first;    /* first step: wall and process CPU clocks */
  ht_grad_sync_stats stats;
} ht_grad_sync;

/* Plans the buckets (sets m->slice_elems), sets up the transport, starts the
 * communication thread on cpus (the rank's cpuset, may be NULL) and, for
 * delayed mode, allocates the second gradient buffer. With shared memory the
 * model's gradient buffer is moved into the segment (m->grads points there
 * until destroy). ev may be NULL (no events); otherwise tracks 0 ("main") and
 * 1 ("comm") are claimed. Collective on comm->grad (every rank must call
 * it) unless transport is mpi or there is one rank. */
int ht_grad_sync_create(ht_grad_sync *gs, const ht_grad_sync_opts *o, const ht_comm *comm, ht_model *m,
                        ht_optim *opt, ht_events *ev, const cpu_set_t *cpus);

/* Forward + loss + backward on this rank's batch (ht_model_step), handing each
 * finished bucket to the communication thread in overlap mode. Returns the
 * local mean loss (NaN on a bad batch, like ht_model_step). */
double ht_grad_sync_compute(ht_grad_sync *gs, const float *x, const int32_t *y, const float *t, int B);

/* After ht_grad_sync_compute on every rank: averages and applies the step's
 * gradient (sync, overlap: waits for bucket k, scales it by 1/P, updates that
 * slice of the parameters, next bucket; delayed: applies the previous step's
 * gradient and starts reducing this one). One optimizer step (ht_optim_begin_step)
 * per applied gradient. Returns 0 or HT_EMPI (abort the job: the other ranks
 * may be inside a collective). */
int ht_grad_sync_apply(ht_grad_sync *gs, double lr);

/* Delayed mode: waits for and applies the pending gradient; no-op otherwise. */
int ht_grad_sync_flush(ht_grad_sync *gs);

/* Flushes, then stops and joins the communication thread (its reductions are
 * all complete) and fills gs->stats. Call once, after the last step. */
int ht_grad_sync_finish(ht_grad_sync *gs);

/* Collective on comm->main, after ht_grad_sync_finish: rank 0 prints the
 * event table and the communication summary (time in flight and waited for,
 * the part hidden behind compute, the communication thread's CPU time), to
 * stdout and, as one {"kind": "comm", ...} record, to metrics (may be NULL). */
int ht_grad_sync_report(const ht_grad_sync *gs, const ht_events *ev, const ht_log *log, FILE *metrics);

/* Collective on comm->main: each rank's OpenMP threads (cpu each runs on) and
 * the communication thread's cpus; rank 0 prints them and warns when the
 * communication thread shares a compute core with comm.wait=block. */
int ht_grad_sync_binding_report(const ht_grad_sync *gs, const ht_log *log);

/* The cpus this rank may use: the union of the masks of its OpenMP team
 * (under OMP_PROC_BIND each team thread, the main one included, is pinned to
 * one place, so the main thread's own mask is not the rank's cpuset). */
void ht_rank_cpuset(cpu_set_t *set);

/* Stops the thread if still running, restores the model's gradient buffer
 * and frees everything. Safe on a zeroed struct. */
void ht_grad_sync_destroy(ht_grad_sync *gs);

#endif
