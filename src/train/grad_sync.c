/* Gradient averaging per step: bucket plan, modes, per-bucket optimizer. */
#include "train/grad_sync_impl.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hytrain/error.h"
#include "hytrain/timer.h"

#define HT__MIB (1024.0 * 1024.0)

int ht_grad_sync_opts_from_config(const ht_config *cfg, ht_grad_sync_opts *o) {
  memset(o, 0, sizeof *o);
  o->mode = cfg->comm.mode;
  o->transport = cfg->comm.transport;
  o->inter_algo = cfg->comm.inter_algo;
  o->dtype = cfg->comm.dtype;
  o->bucket_mb = cfg->comm.bucket_mb;
  o->slice_mb = cfg->comm.slice_mb;
  o->thread_core = cfg->comm.thread_core;
  o->wait = cfg->comm.wait.kind;
  o->sleep_us = cfg->comm.wait.us;
  o->on_nonfinite = cfg->train.on_nonfinite;
  return 0;
}

static double process_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Packs consecutive slices into buckets of at most `target` floats (a slice
 * larger than that is a bucket of its own). Slices run from the end of the
 * buffer to its start, so a bucket [lo, hi) is contiguous. */
static int plan_buckets(ht_grad_sync *gs, size_t slice, size_t target) {
  ht_model *m = gs->m;
  m->slice_elems = slice;
  int n = ht_model_slices(m, NULL, NULL, 0);
  gs->slice_lo = malloc((size_t)n * sizeof(size_t));
  gs->slice_hi = malloc((size_t)n * sizeof(size_t));
  gs->bucket_end = malloc((size_t)n * sizeof(int));
  gs->buckets = malloc((size_t)n * sizeof(ht_bucket));
  if (!gs->slice_lo || !gs->slice_hi || !gs->bucket_end || !gs->buckets)
    return ht_error(HT_ENOMEM, "out of memory for the bucket plan");
  gs->n_slices = ht_model_slices(m, gs->slice_lo, gs->slice_hi, n);
  gs->n_buckets = 0;
  size_t acc = 0, hi = 0;
  for (int i = 0; i < n; i++) {
    size_t len = gs->slice_hi[i] - gs->slice_lo[i];
    if (acc == 0) hi = gs->slice_hi[i];
    acc += len;
    size_t next = i + 1 < n ? gs->slice_hi[i + 1] - gs->slice_lo[i + 1] : 0;
    if (i + 1 == n || acc + next > target) {
      gs->buckets[gs->n_buckets] = (ht_bucket){gs->slice_lo[i], hi};
      gs->bucket_end[i] = gs->n_buckets++;
      acc = 0;
    } else {
      gs->bucket_end[i] = -1;
    }
  }
  return 0;
}

int ht_grad_sync_create(ht_grad_sync **out, const ht_grad_sync_opts *o, const ht_comm *comm, ht_model *m,
                        ht_optim *opt, ht_events *ev, const cpu_set_t *cpus) {
  ht_grad_sync *gs = *out = calloc(1, sizeof *gs);
  if (!gs) return ht_error(HT_ENOMEM, "out of memory for the gradient averaging");
  gs->o = *o;
  gs->comm = comm;
  gs->m = m;
  gs->opt = opt;
  gs->own_grads = m->grads;
  gs->local = comm->size == 1;
  gs->stats.cpus = cpus && CPU_COUNT(cpus) > 0 ? CPU_COUNT(cpus) : 1;
  double elems = o->bucket_mb * HT__MIB / sizeof(float), selems = o->slice_mb * HT__MIB / sizeof(float);
  size_t target = elems < 1 ? 1 : elems > (double)m->n_params ? m->n_params : (size_t)elems;
  size_t slice = selems < 1 ? 1 : selems > (double)m->n_params ? m->n_params : (size_t)selems;
  /* One rank: no transfer to overlap, so the weight gradient is not cut into
   * row blocks (comm.slice_mb): one product per layer instead of several
   * smaller ones, each an OpenMP team's barrier (docs/compute.md). */
  if (gs->local) slice = m->n_params;
  int rc = plan_buckets(gs, slice, target);
  int n_bufs = o->mode == HT_SYNC_DELAYED ? 2 : 1;
  gs->bufs[0] = m->grads;
  /* Collective: every rank gets here, also one whose plan failed. */
  ht_comm_stall_enter(comm, "the set-up of gradient summing (collective on the gradient communicator)");
  int s = ht_grad_transport_create(&gs->tr, comm->grad, o->transport, o->inter_algo, m->n_params, n_bufs,
                                   rc == 0 ? gs->n_buckets : 0, rc);
  gs->tr.hier.bf16 = o->dtype == HT_COMM_BF16;
  ht_comm_stall_leave(comm);
  HT_CHECK(rc);
  HT_CHECK(s);
  if (ht_grad_transport_buf(&gs->tr, comm->rank, 0)) {
    /* The gradient lives in the shared segment from now on. */
    for (int b = 0; b < n_bufs; b++) gs->bufs[b] = ht_grad_transport_buf(&gs->tr, comm->rank, b);
    memcpy(gs->bufs[0], m->grads, m->n_params * sizeof(float));
    if (n_bufs == 2) memset(gs->bufs[1], 0, m->n_params * sizeof(float));
    m->grads = gs->bufs[0];
  }
  if (o->mode == HT_SYNC_DELAYED && gs->bufs[1] == NULL) {
    gs->spare = calloc(m->n_params, sizeof(float));
    if (!gs->spare) return ht_error(HT_ENOMEM, "out of memory for the second gradient buffer of comm.mode delayed");
    gs->bufs[1] = gs->spare;
  }
  gs->track = ev ? ht_events_track(ev, 0, "main") : NULL;
  ht_track *comm_track = ev ? ht_events_track(ev, 1, "comm") : NULL;
  HT_CHECK(ht_comm_thread_create(&gs->ct, comm, gs->buckets, gs->n_buckets, ht_grad_transport_shm(&gs->tr),
                                 ht_grad_transport_hier(&gs->tr), o->wait, o->sleep_us, cpus, o->thread_core,
                                 comm_track));
  return 0;
}

/* Backward's callback: closes the span of the work since the last mark and,
 * in overlap mode, hands over the bucket this slice completes. */
static void on_ready(void *user, int layer, size_t lo, size_t hi) {
  ht_grad_sync *gs = user;
  double now = ht_now();
  if (layer < 0) {
    ht_track_span(gs->track, HT_EV_FORWARD, -1, gs->t_mark, now);
    gs->t_mark = now;
    return;
  }
  ht_track_span(gs->track, HT_EV_BACKWARD, layer, gs->t_mark, now);
  int i = gs->slice++;
  if (i >= gs->n_slices || gs->slice_lo[i] != lo || gs->slice_hi[i] != hi) {
    /* Cannot happen unless the model and the plan disagree; reported by compute. */
    gs->bad_slice = 1;
    return;
  }
  if (gs->o.mode == HT_SYNC_OVERLAP && !gs->local && gs->bucket_end[i] >= 0) {
    ht_comm_thread_enqueue(gs->ct, gs->bucket_end[i]);
    double t1 = ht_now();
    ht_track_span(gs->track, HT_EV_BUCKET_ENQUEUE, gs->bucket_end[i], now, t1);
    now = t1;
  }
  gs->t_mark = now;
}

double ht_grad_sync_compute(ht_grad_sync *gs, const float *x, const int32_t *y, const float *t, int B) {
  if (gs->stats.steps == 0 && gs->t_first == 0) {
    gs->t_first = ht_now();
    gs->cpu_first = process_cpu();
  }
  /* Sync and overlap reduce this step's buffer; every bucket of the last
   * round was waited for in apply, so this returns at once. */
  if (gs->o.mode != HT_SYNC_DELAYED && !gs->local && ht_comm_thread_begin(gs->ct, gs->m->grads) < 0) return NAN;
  gs->slice = 0;
  gs->t_mark = ht_now();
  double loss = ht_model_step(gs->m, x, y, t, B, on_ready, gs);
  if (gs->bad_slice || (isfinite(loss) && gs->slice != gs->n_slices)) {
    ht_error(HT_EINTERNAL, "backward reported %d gradient slices, the bucket plan expects %d in another order",
             gs->slice, gs->n_slices);
    return NAN;
  }
  return loss;
}

/* Below this many floats the check of one rank's bucket runs on one thread. */
#define HT__LOCAL_CHECK_OMP_MIN 65536

/* One rank: the index of the first NaN or infinity in v[0..n), or n. The
 * parts of the OpenMP team are contiguous and in order, so the smallest
 * finding is the first, whatever the thread count. */
static size_t first_nonfinite_team(const float *v, size_t n) {
  size_t first = n, at = 0;
  if (n < HT__LOCAL_CHECK_OMP_MIN || omp_get_max_threads() == 1)
    return ht__first_nonfinite(v, n, &at) == 0 ? at : n;
#pragma omp parallel reduction(min : first) private(at)
  {
    size_t t = (size_t)omp_get_thread_num(), m = (size_t)omp_get_num_threads(), a = n * t / m, b = n * (t + 1) / m;
    if (ht__first_nonfinite(v + a, b - a, &at) == 0) first = a + at;
  }
  return first;
}

/* Waits for bucket k of buf; *key becomes the smaller of itself and this
 * rank's non-finite finding in the bucket (rank * (n_params + 1) + element).
 * One rank: nothing to sum, and the check the communication thread would
 * make (the same one: first non-finite element of the bucket) runs here,
 * split over the OpenMP team (docs/compute.md, "The work around the GEMMs"). */
static int wait_bucket(ht_grad_sync *gs, const float *buf, int k, int64_t *key) {
  ht_track_begin(gs->track, HT_EV_BUCKET_WAIT, k);
  double t0 = ht_now();
  if (gs->local) {
    const ht_bucket *b = &gs->buckets[k];
    size_t at = first_nonfinite_team(buf + b->lo, b->hi - b->lo);
    gs->stats.wait_s += ht_now() - t0;
    ht_track_end(gs->track);
    if (at < b->hi - b->lo && (int64_t)(b->lo + at) < *key) *key = (int64_t)(b->lo + at);
    return 0;
  }
  int rc = ht_comm_thread_wait(gs->ct, k);
  gs->stats.wait_s += ht_now() - t0;
  ht_track_end(gs->track);
  HT_CHECK(rc);
  size_t elem;
  int who = ht_comm_thread_nonfinite(gs->ct, k, &elem);
  if (who >= 0) {
    int64_t mine = (int64_t)who * (int64_t)(gs->m->n_params + 1) + (int64_t)elem;
    if (mine < *key) *key = mine;
  }
  return 0;
}

/* Scales bucket k of buf (the sum over ranks) to the mean and updates its
 * parameters. check: the update also tests the bucket for NaN or infinity in
 * the same pass (one rank, train.on_nonfinite stop); *key as in wait_bucket. */
static void update_bucket(ht_grad_sync *gs, float *buf, int k, double lr, int check, int64_t *key) {
  const ht_bucket *b = &gs->buckets[k];
  ht_track_begin(gs->track, HT_EV_OPTIMIZER, k);
  /* The optimizer reads the sum times 1/P (the mean), which rounds exactly
   * as scaling it in place would; under bf16 it also rounds the weights for
   * the next forward as it writes them. */
  int bad = ht_model_update_params(gs->m, gs->opt, buf, b->lo, b->hi, lr, 1.0f / (float)gs->comm->size, check);
  ht_track_end(gs->track);
  if (bad) {
    /* Where: the bucket is unchanged by the update. */
    size_t at = first_nonfinite_team(buf + b->lo, b->hi - b->lo);
    if (at < b->hi - b->lo && (int64_t)(b->lo + at) < *key) *key = (int64_t)(b->lo + at);
  }
}

/* The layer and part holding element elem of the flat gradient. */
static void name_element(const ht_model *m, size_t elem, char *out, size_t cap) {
  snprintf(out, cap, "element %zu", elem);
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *l = &m->layers[i];
    if (l->kind != HT_LAYER_DENSE) continue;
    size_t nw = (size_t)l->in * (size_t)l->out;
    if (elem >= l->w_off && elem < l->w_off + nw) snprintf(out, cap, "%s weight", l->name);
    if (elem >= l->b_off && elem < l->b_off + (size_t)l->out) snprintf(out, cap, "%s bias", l->name);
  }
}

/* Every bucket of buf: wait, and update as it arrives (stop) or only once
 * every rank agreed that no sum is non-finite (skip_step: otherwise no
 * update at all). Records the agreed finding for ht_grad_sync_nonfinite. */
static int reduce_and_update(ht_grad_sync *gs, float *buf, double lr, int64_t step) {
  int defer = gs->o.on_nonfinite == HT_NONFINITE_SKIP_STEP;
  int64_t key = INT64_MAX;
  if (!defer) ht_optim_begin_step(gs->opt);
  for (int k = 0; k < gs->n_buckets; k++) {
    if (gs->local && !defer) {
      /* One rank, stop: nothing to wait for, and the update checks the
       * bucket as it reads it (a separate pass cost ~5% of a 1 x 2 step). */
      update_bucket(gs, buf, k, lr, 1, &key);
      continue;
    }
    HT_CHECK(wait_bucket(gs, buf, k, &key));
    if (!defer) update_bucket(gs, buf, k, lr, 0, &key);
  }
  if (gs->comm->size > 1) {
    ht_comm_stall_enter(gs->comm, "the agreement on non-finite gradient sums (MPI_Allreduce)");
    int rc = HT_MPI(MPI_Allreduce(MPI_IN_PLACE, &key, 1, MPI_INT64_T, MPI_MIN, gs->comm->main));
    ht_comm_stall_leave(gs->comm);
    if (rc < 0) return rc;
  }
  if (key != INT64_MAX) {
    gs->nf_found = 1;
    gs->nf.step = step;
    gs->nf.rank = (int)(key / (int64_t)(gs->m->n_params + 1));
    gs->nf.elem = (size_t)(key % (int64_t)(gs->m->n_params + 1));
    name_element(gs->m, gs->nf.elem, gs->nf.layer, sizeof gs->nf.layer);
    return 0;
  }
  if (defer) {
    ht_optim_begin_step(gs->opt);
    for (int k = 0; k < gs->n_buckets; k++) update_bucket(gs, buf, k, lr, 0, &key);
  }
  return 0;
}

void ht_grad_sync_at_step(ht_grad_sync *gs, int64_t step) { gs->step = step; }

int ht_grad_sync_nonfinite(ht_grad_sync *gs, ht_grad_nonfinite *out) {
  if (!gs->nf_found) return 0;
  gs->nf_found = 0;
  *out = gs->nf;
  return 1;
}

/* Sends every bucket of the current round that backward did not already send. */
static void enqueue_all(ht_grad_sync *gs) {
  if (gs->local) return;
  ht_track_begin(gs->track, HT_EV_BUCKET_ENQUEUE, -1);
  for (int k = 0; k < gs->n_buckets; k++) ht_comm_thread_enqueue(gs->ct, k);
  ht_track_end(gs->track);
}

int ht_grad_sync_apply(ht_grad_sync *gs, double lr) {
  gs->stats.steps++;
  if (gs->o.mode != HT_SYNC_DELAYED) {
    if (gs->o.mode == HT_SYNC_SYNC) enqueue_all(gs);
    return reduce_and_update(gs, gs->m->grads, lr, gs->step);
  }
  /* Delayed: the previous gradient was reduced during this step's compute. */
  HT_CHECK(ht_grad_sync_flush(gs));
  float *fresh = gs->m->grads;
  if (!gs->local) HT_CHECK(ht_comm_thread_begin(gs->ct, fresh));
  enqueue_all(gs);
  gs->pending = 1;
  gs->pending_buf = fresh;
  gs->pending_lr = lr;
  gs->pending_step = gs->step;
  /* The next backward writes the other buffer while this one travels. */
  gs->m->grads = fresh == gs->bufs[0] ? gs->bufs[1] : gs->bufs[0];
  return 0;
}

int ht_grad_sync_flush(ht_grad_sync *gs) {
  if (!gs->pending) return 0;
  gs->pending = 0;
  return reduce_and_update(gs, gs->pending_buf, gs->pending_lr, gs->pending_step);
}

int ht_grad_sync_finish(ht_grad_sync *gs) {
  int rc = ht_grad_sync_flush(gs);
  double cpu_now = process_cpu();
  ht_comm_thread_stop(gs->ct);
  ht_comm_thread_stats(gs->ct, &gs->stats.inflight_s, &gs->stats.comm_cpu_s);
  gs->stats.process_cpu_s = gs->t_first > 0 ? cpu_now - gs->cpu_first : 0;
  gs->stats.wall_s = gs->t_first > 0 ? ht_now() - gs->t_first : 0;
  return rc;
}

int ht_grad_sync_report(const ht_grad_sync *gs, const ht_events *ev, const ht_log *log, FILE *metrics) {
  if (ev) {
    ht_comm_stall_enter(gs->comm, "the event table's gather (MPI_Gather)");
    int erc = ht_events_print_table(ev, gs->comm->main, stdout);
    ht_comm_stall_leave(gs->comm);
    HT_CHECK(erc);
  }
  const ht_grad_sync_stats *s = &gs->stats;
  /* capacity: the CPU time the rank's cores offered over the run. */
  double mine[6] = {s->inflight_s, s->wait_s, s->comm_cpu_s, s->process_cpu_s, (double)s->steps, s->wall_s * s->cpus},
         sum[6];
  ht_comm_stall_enter(gs->comm, "the communication summary's sums (MPI_Reduce)");
  int mrc = HT_MPI(MPI_Reduce(mine, sum, 6, MPI_DOUBLE, MPI_SUM, 0, gs->comm->main));
  ht_comm_stall_leave(gs->comm);
  if (mrc < 0) return mrc;
  if (gs->comm->rank != 0) return 0;
  double P = gs->comm->size, steps = sum[4] / P > 0 ? sum[4] / P : 1;
  double inflight = sum[0] / P / steps, wait = sum[1] / P / steps, cpu = sum[2] / P / steps,
         pcpu = sum[3] / P / steps;
  double hidden = inflight > wait ? inflight - wait : 0;
  double hidden_frac = inflight > 0 ? hidden / inflight : 0;
  double capacity = sum[5] / P / steps;
  /* Share of the step's CPU time: of the rank's cores over the step's wall
   * time (idle time counts: it is CPU the communication thread could take). */
  double share = capacity > 0 ? cpu / capacity : 0, pshare = pcpu > 0 ? cpu / pcpu : 0;
  /* The last bucket can only travel after backward has ended: the part of
   * the communication overlap mode can never hide. */
  const ht_bucket *last = &gs->buckets[gs->n_buckets - 1];
  double last_frac = (double)(last->hi - last->lo) / (double)gs->m->n_params;
  if (gs->comm->size == 1)
    ht_log_info(log, "communication: none (1 rank; the buckets are applied as backward produces them)");
  else
    ht_log_info(log,
              "communication (%s, %d buckets, mean over ranks, per step): in flight %.2f ms, waited %.2f ms, "
              "hidden %.2f ms (%.0f%%); comm thread CPU %.2f ms (%.1f%% of the step's CPU time, %.1f%% of the CPU used)",
              ht_enum_name(&ht_sync_modes, (int)gs->o.mode), gs->n_buckets, 1e3 * inflight, 1e3 * wait, 1e3 * hidden, 100 * hidden_frac,
              1e3 * cpu, 100 * share, 100 * pshare);
  if (metrics) {
    fprintf(metrics,
            "{\"kind\": \"comm\", \"mode\": \"%s\", \"transport\": \"%s\", \"buckets\": %d, \"steps\": %.0f, \"inflight_ms\": %.6g, "
            "\"wait_ms\": %.6g, \"hidden_ms\": %.6g, \"hidden_fraction\": %.6g, \"comm_cpu_ms\": %.6g, "
            "\"process_cpu_ms\": %.6g, \"comm_cpu_share\": %.6g, \"comm_cpu_share_of_used\": %.6g, \"last_bucket_fraction\": %.6g}\n",
            ht_enum_name(&ht_sync_modes, (int)gs->o.mode), gs->comm->size == 1 ? "none" : ht_enum_name(&ht_transports, (int)gs->tr.used), gs->n_buckets, steps, 1e3 * inflight, 1e3 * wait, 1e3 * hidden, hidden_frac,
            1e3 * cpu, 1e3 * pcpu, share, pshare, last_frac);
    fflush(metrics);
  }
  return 0;
}

ht_track *ht_grad_sync_track(const ht_grad_sync *gs) { return gs ? gs->track : NULL; }

void ht_grad_sync_destroy(ht_grad_sync **gsp) {
  ht_grad_sync *gs = *gsp;
  if (!gs) return;
  ht_comm_thread_destroy(&gs->ct);
  if (gs->m && gs->own_grads) gs->m->grads = gs->own_grads;
  /* After the thread: it reads the segment until joined. */
  ht_grad_transport_free(&gs->tr);
  free(gs->spare);
  free(gs->slice_lo);
  free(gs->slice_hi);
  free(gs->bucket_end);
  free(gs->buckets);
  free(gs);
  *gsp = NULL;
}
