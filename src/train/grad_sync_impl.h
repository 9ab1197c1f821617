/*
 * Inside ht_grad_sync (hytrain/grad_sync.h): for src/train/grad_sync.c,
 * src/train/binding.c and the tests of the module, never for its callers.
 */
#ifndef HT_TRAIN_GRAD_SYNC_IMPL_H
#define HT_TRAIN_GRAD_SYNC_IMPL_H

#include "comm/bucket_reduce.h"
#include "comm/comm_thread.h"
#include "comm/shm_grads.h"
#include "comm/transport.h"
#include "hytrain/grad_sync.h"

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

struct ht_grad_sync {
  ht_grad_sync_opts o;
  const ht_comm *comm;
  ht_model *m;
  ht_optim *opt;
  int n_slices, n_buckets;
  size_t *slice_lo, *slice_hi;  /* [n_slices] as ht_model_slices reports them */
  int *bucket_end;              /* [n_slices]: bucket that slice i completes, or -1 */
  ht_bucket *buckets;           /* [n_buckets] */
  ht_comm_thread *ct;           /* the communication thread (NULL until started) */
  int local;                    /* one rank: no summing; buckets are checked on the main thread */
  int slice;                    /* next slice expected from backward this step */
  int bad_slice;                /* backward reported a slice the plan did not expect */
  float *own_grads;             /* the model's gradient buffer (restored at destroy) */
  float *spare;                 /* delayed with messages: the second gradient buffer (allocated) */
  float *bufs[2];               /* the gradient buffers in use: [0] the model's (or its shared
                                 * copy), [1] delayed mode's second one */
  ht_grad_transport tr;         /* how buckets are summed (comm.transport) */
  int pending;                  /* delayed: a gradient is being reduced */
  float *pending_buf;
  double pending_lr;
  int64_t step, pending_step;   /* ht_grad_sync_at_step; delayed: the step of the pending gradient */
  int nf_found;                 /* the last reduced gradient had a non-finite sum (nf says where) */
  ht_grad_nonfinite nf;
  ht_track *track;              /* main thread's track (may be NULL) */
  double t_mark;
  double t_first, cpu_first;    /* first step: wall and process CPU clocks */
  ht_grad_sync_stats stats;
};

#endif
