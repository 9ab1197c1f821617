/*
 * The communication thread (its one owner file). See comm/comm_thread.h
 * for the hand-off protocol.
 *
 * Why non-blocking messages polled with pauses: with 2 ranks x 1 thread on 2
 * cores the thread shares its rank's only core with compute. Blocking in MPI
 * busy-polls inside Open MPI for the whole transfer and takes half of that
 * core; non-blocking messages (comm/bucket_reduce.h) tested between short
 * pauses give the core back to compute at every poll while still
 * progressing the transfer often enough (sleeping >= 2 ms between polls was
 * measured to throttle it). Between steps, when nothing is queued, the thread
 * sleeps on a condition variable and costs nothing.
 */
#include "comm/comm_thread.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comm/stall.h"
#include "hytrain/error.h"
#include "hytrain/timer.h"

struct ht_comm_thread {
  /* Set at create, read-only afterwards. */
  MPI_Comm comm;             /* comm->grad */
  int n_buckets;
  const ht_bucket *buckets;  /* [n_buckets], borrowed */
  ht_wait_kind wait;
  int sleep_us;
  ht_track *track;           /* the thread's event track, or NULL */
  ht_stall *stall;           /* the ht_comm's watchdog (borrowed; may be NULL) */
  pthread_t thread;
  int started;

  /* Shared with the main thread; guarded by mu. */
  pthread_mutex_t mu;
  pthread_cond_t work;       /* signalled on enqueue and stop */
  pthread_cond_t done_cv;    /* broadcast when a bucket completes or fails */
  float *buf;                /* the current round's buffer */
  int round;                 /* current round, starts at 1 */
  atomic_int n_enqueued;     /* buckets enqueued this round (polled without mu) */
  int *done;                 /* [n_buckets]: round in which bucket k was last summed */
  int *nf_rank;              /* [n_buckets]: br.nf_rank of that sum (bucket_reduce.h) */
  size_t *nf_elem;           /* [n_buckets]: br.nf_elem of that sum */
  int stop;
  int err;                   /* first HT_E* error of the thread, then every wait fails */
  char errmsg[512];
  int idle;                  /* the thread sleeps on `work` */
  int wake;                  /* a bucket was enqueued or the main thread began waiting: cut the pause short */
  atomic_int main_waiting;   /* the main thread is blocked in ht_comm_thread_wait */

  /* Owned by the communication thread until join; read by main after join. */
  ht_bucket_reduce br;       /* the summing of every bucket */
  double *t_issue;           /* [n_buckets] */
  int *ready;                /* [n_buckets] buckets completed by one poll */
  int *missing;              /* [P] ranks a stalled bucket waits for */
  double busy_s;             /* time with at least one reduction in flight */
  double cpu_s;              /* CPU time of the thread, at exit */
  long long polls, reductions;
};

/* Records the thread's first failure for the main thread and wakes it. */
/* code is the failed call's HT_E* code; its message was recorded on this
 * thread (HT_MPI), and is handed to the main thread here. */
static void thread_fail(ht_comm_thread *ct, int code, const char *what, int k) {
  const char *text = ht_error_message()[0] ? ht_error_message() : ht_strerror(code);
  pthread_mutex_lock(&ct->mu);
  if (!ct->err) {
    ct->err = code;
    snprintf(ct->errmsg, sizeof ct->errmsg, "communication thread: %s of gradient bucket %d failed: %s", what, k, text);
  }
  pthread_cond_broadcast(&ct->done_cv);
  pthread_mutex_unlock(&ct->mu);
}

static void mark_done(ht_comm_thread *ct, int k, int round) {
  pthread_mutex_lock(&ct->mu);
  ct->done[k] = round;
  ct->nf_rank[k] = ct->br.nf_rank[k];
  ct->nf_elem[k] = ct->br.nf_elem[k];
  pthread_cond_broadcast(&ct->done_cv);
  pthread_mutex_unlock(&ct->mu);
}

/* Sleeps us microseconds, or less if the main thread enqueues a bucket or
 * starts waiting for one meanwhile (both set `wake` and signal `work`): a
 * long pause chosen while the main thread computed never delays the bucket
 * it is now waiting for. */
static void nap(ht_comm_thread *ct, int us) {
  struct timespec until = ht_deadline(1e-6 * us);
  pthread_mutex_lock(&ct->mu);
  while (!ct->wake && !ct->stop && pthread_cond_timedwait(&ct->work, &ct->mu, &until) != ETIMEDOUT) {
  }
  ct->wake = 0;
  pthread_mutex_unlock(&ct->mu);
}

/* Pauses after a poll that completed nothing. *pause_us is the backoff
 * policy's current pause (reset to sleep_us whenever a bucket completes). */
static void pause_for(ht_comm_thread *ct, int *pause_us) {
  int main_waiting = atomic_load_explicit(&ct->main_waiting, memory_order_relaxed);
  /* adaptive: the main thread is blocked waiting for us, so its core is ours:
   * poll again at once (yielding would hand the core to other processes). */
  if (ct->wait == HT_WAIT_ADAPTIVE && main_waiting) return;
  if (ct->wait == HT_WAIT_YIELD) {
    sched_yield();
    return;
  }
  int us = ct->sleep_us;
  if (ct->wait == HT_WAIT_BACKOFF) {
    /* While the main thread computes, each poll that finds nothing doubles
     * the pause up to HT_WAIT_BACKOFF_MAX_US: fewer wake-ups interrupt its
     * GEMMs on a slow link. While it waits for a bucket, poll every
     * sleep_us so the bucket is handed back promptly. */
    if (main_waiting) *pause_us = ct->sleep_us;
    us = *pause_us;
    if (!main_waiting) *pause_us = *pause_us * 2 > HT_WAIT_BACKOFF_MAX_US ? HT_WAIT_BACKOFF_MAX_US : *pause_us * 2;
    if (*pause_us < ct->sleep_us) *pause_us = ct->sleep_us;
  }
  nap(ct, us);
}

/* Formats ranks[0 .. n) as "rank 3" / "ranks 1, 3" into out. */
static void rank_list(const int *ranks, int n, char *out, size_t cap) {
  size_t len = (size_t)snprintf(out, cap, n == 1 ? "rank" : "ranks");
  for (int i = 0; i < n && len < cap; i++) len += (size_t)snprintf(out + len, cap - len, "%s %d", i ? "," : "", ranks[i]);
  if (n == 0) snprintf(out, cap, "no rank (its messages completed; the bucket is being summed)");
}

/* The watchdog's view of the buckets (communication thread only). */
typedef struct stall_marks {
  double last_check;     /* the previous check, to see this process's own freezes */
  ht_stall_watch bucket; /* the oldest gradient bucket in flight */
} stall_marks;

/* The stall watchdog's bucket side (comm/stall.h), run on every pass of the
 * loop while buckets are in flight: times the oldest one. The main thread's
 * own collectives are timed by the watchdog's timer thread. Time this
 * process itself did not run is not counted, so a rank resumed after a
 * freeze does not blame the others for its own absence. */
static void check_stalls(ht_comm_thread *ct, stall_marks *st, int round, int issued, double warn_s,
                             double timeout_s) {
  if (warn_s <= 0 && timeout_s <= 0) return;
  int k = 0;
  while (k < issued && ct->br.phase[k] == HT_BR_DONE) k++;
  if (k == issued) {
    st->last_check = 0; /* idle from here (sleeping is not a freeze) */
    return;
  }
  /* The first check after idling measures from the bucket's issue: the
   * thread ran then, so a freeze since counts as one. */
  double now = ht_now();
  double gap = now - (st->last_check > 0 ? st->last_check : ct->t_issue[k]);
  double max_pause = 1e-6 * (ct->sleep_us > HT_WAIT_BACKOFF_MAX_US ? ct->sleep_us : HT_WAIT_BACKOFF_MAX_US);
  double shift = gap > HT_STALL_GAP_S + HT_STALL_PERIOD_S + max_pause ? gap : 0;
  st->last_check = now;
  long long key = (long long)round * ct->n_buckets + k + 1;
  double waited;
  int v = ht_stall_tick(&st->bucket, key, ct->t_issue[k], now, shift, warn_s, timeout_s, &waited);
  if (!v) return;
  char who[256], what[512];
  rank_list(ct->missing, ht_bucket_reduce_missing(&ct->br, k, ct->missing), who, sizeof who);
  const char *why = ct->br.phase[k] != HT_BR_GATHER ? "the summed chunks"
                    : ct->br.hier && ct->br.step[k] >= 0 ? "partial sums from another node"
                    : ct->br.shm || ct->br.hier      ? "gradient not final there yet"
                                                     : "its chunk's copies";
  snprintf(what, sizeof what, "gradient bucket %d of %d has waited %.0f s for %s (%s)", k, ct->n_buckets, waited, who,
           why);
  ht_stall_report(ct->stall, v, what);
}

static void *comm_main(void *arg) {
  ht_comm_thread *ct = arg;
  pthread_setname_np(pthread_self(), "ht-comm");
  int issued = 0, active = 0, round = 0, failed = 0, pause_us = ct->sleep_us;
  stall_marks stalls = {0};
  double warn_s = 0, timeout_s = 0;
  float *buf = NULL;
  double busy_since = 0, t_last_done = 0;
  pthread_mutex_lock(&ct->mu);
  for (;;) {
    /* Sleep while there is nothing to start and nothing in flight. */
    while (!ct->stop && !ct->err && active == 0 &&
           (ct->round == round ? issued == atomic_load(&ct->n_enqueued) : atomic_load(&ct->n_enqueued) == 0)) {
      ct->idle = 1;
      pthread_cond_wait(&ct->work, &ct->mu);
      ct->idle = 0;
      ct->wake = 0;
    }
    ht_stall_limits(ct->stall, &warn_s, &timeout_s);
    if (ct->round != round && active == 0) {
      /* The main thread began a new round (it only does so once every bucket
       * of the previous one is done, so nothing of ours is in flight). */
      round = ct->round;
      buf = ct->buf;
      issued = 0;
    }
    /* Read under mu together with the round, so a count of the next round is
     * never applied to this one. */
    int upto = ct->round == round ? atomic_load(&ct->n_enqueued) : issued;
    int quit = (ct->stop && active == 0 && issued == upto) || ct->err;
    pthread_mutex_unlock(&ct->mu);
    if (quit) break;
    check_stalls(ct, &stalls, round, issued, warn_s, timeout_s);

    /* Start everything enqueued since the last look, in bucket order. */
    for (; issued < upto; issued++) {
      double t0 = ht_now();
      int rc = ht_bucket_reduce_start(&ct->br, buf, issued);
      /* block: finish this bucket before the next, polling without pause
       * (as MPI_Waitall would) but with the watchdog looking on. */
      ct->t_issue[issued] = t0;
      for (int n_done = 0; rc == 0 && ct->wait == HT_WAIT_BLOCK && ct->br.phase[issued] != HT_BR_DONE;) {
        rc = ht_bucket_reduce_progress(&ct->br, buf, ct->ready, &n_done);
        check_stalls(ct, &stalls, round, issued + 1, warn_s, timeout_s);
      }
      if (rc < 0) {
        thread_fail(ct, rc, "summing", issued);
        failed = 1;
        break;
      }
      if (ct->br.phase[issued] == HT_BR_DONE) {
        /* Blocking policy, or a single rank: summed already. */
        double t1 = ht_now();
        ct->busy_s += t1 - t0;
        ct->reductions++;
        if (ct->br.size > 1) ht_track_span(ct->track, HT_EV_ALLREDUCE, issued, t0, t1);
        mark_done(ct, issued, round);
        continue;
      }
      if (active++ == 0) busy_since = t0;
    }
    if (failed) break;

    if (active > 0) {
      int n_done = 0;
      ct->polls++;
      int rc = ht_bucket_reduce_progress(&ct->br, buf, ct->ready, &n_done);
      if (rc < 0) {
        /* Requests still in flight cannot be abandoned safely; the main
         * thread aborts the job on this error. */
        thread_fail(ct, rc, "summing", -1);
        break;
      }
      double now = ht_now();
      for (int i = 0; i < n_done; i++) {
        int k = ct->ready[i];
        /* Several reductions are in flight at once and share the link; each
         * bucket's span starts when it was issued or when the previous
         * bucket completed, whichever is later, so the spans of the thread
         * never overlap and add up to the time in flight. */
        double t0 = ct->t_issue[k] > t_last_done ? ct->t_issue[k] : t_last_done;
        ht_track_span(ct->track, HT_EV_ALLREDUCE, k, t0, now);
        t_last_done = now;
        ct->reductions++;
        mark_done(ct, k, round);
      }
      active -= n_done;
      if (active == 0) ct->busy_s += now - busy_since;
      if (n_done > 0) pause_us = ct->sleep_us;
      else pause_for(ct, &pause_us);
    }
    pthread_mutex_lock(&ct->mu);
  }
  ct->cpu_s = ht_thread_cpu_seconds();
  return NULL;
}

/* Checks the plan, allocates the thread's memory and starts it. */
static int start_thread(ht_comm_thread *ct, const ht_comm *comm, const ht_shm_grads *shm, const ht_hier *hier,
                        const cpu_set_t *cpus, int core) {
  int n_buckets = ct->n_buckets;
  const ht_bucket *buckets = ct->buckets;
  if (n_buckets < 1) return ht_error(HT_EINVAL, "the communication thread needs at least one bucket, got %d", n_buckets);
  for (int k = 0; k < n_buckets; k++)
    if (buckets[k].hi - buckets[k].lo > (size_t)INT_MAX)
      return ht_error(HT_EINVAL, "gradient bucket %d has %zu floats; MPI counts stop at %d (lower comm.bucket_mb)", k,
                      buckets[k].hi - buckets[k].lo, INT_MAX);
  ct->done = calloc((size_t)n_buckets, sizeof *ct->done);
  ct->nf_rank = calloc((size_t)n_buckets, sizeof *ct->nf_rank);
  ct->nf_elem = calloc((size_t)n_buckets, sizeof *ct->nf_elem);
  ct->t_issue = calloc((size_t)n_buckets, sizeof *ct->t_issue);
  ct->ready = calloc((size_t)n_buckets, sizeof *ct->ready);
  ct->missing = calloc((size_t)comm->size, sizeof *ct->missing);
  if (!ct->done || !ct->nf_rank || !ct->nf_elem || !ct->t_issue || !ct->ready || !ct->missing)
    return ht_error(HT_ENOMEM, "out of memory for %d gradient buckets", n_buckets);
  HT_CHECK(ht_bucket_reduce_init(&ct->br, ct->comm, buckets, n_buckets, shm, hier));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  cpu_set_t one;
  if (core >= 0) {
    if (core >= CPU_SETSIZE) {
      pthread_attr_destroy(&attr);
      return ht_error(HT_ECONFIG, "comm.thread_core: %d is beyond the %d cpus this build can address", core, CPU_SETSIZE);
    }
    CPU_ZERO(&one);
    CPU_SET(core, &one);
    cpus = &one;
  }
  /* Its own mask: under OMP_PROC_BIND the creator is pinned to one core and
   * the thread would otherwise inherit that single core. */
  if (cpus) pthread_attr_setaffinity_np(&attr, sizeof *cpus, cpus);
  int rc = pthread_create(&ct->thread, &attr, comm_main, ct);
  pthread_attr_destroy(&attr);
  if (rc != 0 && core >= 0)
    return ht_error(HT_ECONFIG, "comm.thread_core: cannot run the communication thread on core %d (%s)", core,
                    strerror(rc));
  if (rc != 0) return ht_error(HT_EINTERNAL, "cannot start the communication thread: %s", strerror(rc));
  ct->started = 1;
  return 0;
}

int ht_comm_thread_create(ht_comm_thread **out, const ht_comm *comm, const ht_bucket *buckets, int n_buckets,
                          const ht_shm_grads *shm, const ht_hier *hier, ht_wait_kind wait, int sleep_us,
                          const cpu_set_t *cpus, int core, ht_track *track) {
  *out = NULL;
  ht_comm_thread *ct = calloc(1, sizeof *ct);
  if (!ct) return ht_error(HT_ENOMEM, "out of memory for the communication thread");
  ct->comm = comm->grad;
  ct->stall = comm->stall;
  ct->buckets = buckets;
  ct->n_buckets = n_buckets;
  ct->wait = wait;
  ct->sleep_us = sleep_us;
  ct->track = track;
  atomic_init(&ct->n_enqueued, 0);
  atomic_init(&ct->main_waiting, 0);
  pthread_mutex_init(&ct->mu, NULL);
  ht_cond_init_monotonic(&ct->work); /* waited on with timeouts (the pauses) */
  pthread_cond_init(&ct->done_cv, NULL);
  int rc = start_thread(ct, comm, shm, hier, cpus, core);
  if (rc < 0) {
    ht_comm_thread_destroy(&ct);
    return rc;
  }
  *out = ct;
  return 0;
}

int ht_comm_thread_begin(ht_comm_thread *ct, float *buf) {
  for (int k = 0; k < atomic_load(&ct->n_enqueued); k++) HT_CHECK(ht_comm_thread_wait(ct, k));
  pthread_mutex_lock(&ct->mu);
  ct->round++;
  ct->buf = buf;
  atomic_store(&ct->n_enqueued, 0);
  pthread_mutex_unlock(&ct->mu);
  return 0;
}

void ht_comm_thread_enqueue(ht_comm_thread *ct, int k) {
  pthread_mutex_lock(&ct->mu);
  /* In order: the thread starts buckets [issued, n_enqueued). */
  if (k == atomic_load(&ct->n_enqueued)) atomic_store_explicit(&ct->n_enqueued, k + 1, memory_order_release);
  ct->wake = 1;
  pthread_cond_signal(&ct->work);
  pthread_mutex_unlock(&ct->mu);
}

int ht_comm_thread_wait(ht_comm_thread *ct, int k) {
  pthread_mutex_lock(&ct->mu);
  if (ct->done[k] != ct->round && !ct->err) {
    atomic_store_explicit(&ct->main_waiting, 1, memory_order_relaxed);
    /* The thread may be in a long pause chosen while we computed. */
    ct->wake = 1;
    pthread_cond_signal(&ct->work);
    while (ct->done[k] != ct->round && !ct->err) pthread_cond_wait(&ct->done_cv, &ct->mu);
    atomic_store_explicit(&ct->main_waiting, 0, memory_order_relaxed);
  }
  int rc = ct->err;
  pthread_mutex_unlock(&ct->mu);
  if (rc < 0) return ht_error(rc, "%s", ct->errmsg);
  return 0;
}

int ht_comm_thread_nonfinite(ht_comm_thread *ct, int k, size_t *elem) {
  pthread_mutex_lock(&ct->mu);
  int rank = ct->nf_rank[k];
  *elem = ct->nf_elem[k];
  pthread_mutex_unlock(&ct->mu);
  return rank;
}

int ht_comm_thread_cpus(const ht_comm_thread *ct, cpu_set_t *set) {
  CPU_ZERO(set);
  if (!ct || !ct->started) return -1;
  return pthread_getaffinity_np(ct->thread, sizeof *set, set) == 0 ? 0 : -1;
}

void ht_comm_thread_stop(ht_comm_thread *ct) {
  if (!ct || !ct->started) return;
  pthread_mutex_lock(&ct->mu);
  ct->stop = 1;
  pthread_cond_signal(&ct->work);
  pthread_mutex_unlock(&ct->mu);
  pthread_join(ct->thread, NULL);
  ct->started = 0;
}

void ht_comm_thread_stats(const ht_comm_thread *ct, double *busy_s, double *cpu_s) {
  *busy_s = ct ? ct->busy_s : 0;
  *cpu_s = ct ? ct->cpu_s : 0;
}

void ht_comm_thread_destroy(ht_comm_thread **ctp) {
  ht_comm_thread *ct = *ctp;
  if (!ct) return;
  ht_comm_thread_stop(ct);
  pthread_cond_destroy(&ct->work);
  pthread_cond_destroy(&ct->done_cv);
  pthread_mutex_destroy(&ct->mu);
  free(ct->done);
  free(ct->nf_rank);
  free(ct->nf_elem);
  free(ct->t_issue);
  free(ct->ready);
  free(ct->missing);
  ht_bucket_reduce_free(&ct->br);
  free(ct);
  *ctp = NULL;
}
