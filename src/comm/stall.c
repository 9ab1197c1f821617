/*
 * The stall watchdog and its timer thread "ht-stall" (this is the thread's
 * one owner file); see comm/stall.h for what is timed and why a thread.
 *
 * Hand-off: the main thread writes the mark (what, since, seq) under mu; the
 * timer thread reads it under mu on each look. Limits are written under mu
 * by any thread. The timer thread sleeps on cv without a timeout while both
 * limits are off, and with a timeout of HT_STALL_PERIOD_S while one is on;
 * ht_stall_set_limits and ht_stall_destroy signal cv.
 */
#include "comm/stall.h"

#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hytrain/error.h"
#include "hytrain/timer.h"

struct ht_stall {
  int rank;                  /* set at create, read-only */
  pthread_mutex_t mu;
  pthread_cond_t cv;         /* on CLOCK_MONOTONIC: limits changed, or quit */
  pthread_t thread;
  int started, quit;         /* under mu */
  double warn_s, timeout_s;  /* under mu; 0 = off */
  const char *what;          /* under mu: the main thread's mark; NULL = not blocked */
  double since;              /* under mu: ht_now() at enter */
  unsigned seq;              /* under mu: changes with every enter */
  atomic_int aborting;       /* a verdict 2 was reported: the job is ending */
};

int ht_stall_create(ht_stall **out, int rank) {
  *out = NULL;
  ht_stall *s = calloc(1, sizeof *s);
  if (!s) return ht_error(HT_ENOMEM, "out of memory for the stall watchdog");
  s->rank = rank;
  pthread_mutex_init(&s->mu, NULL);
  ht_cond_init_monotonic(&s->cv); /* waited on with timeouts (the period) */
  atomic_init(&s->aborting, 0);
  *out = s;
  return 0;
}

int ht_stall_tick(ht_stall_watch *w, long long key, double start, double now, double gap_shift, double warn_s,
                  double timeout_s, double *waited) {
  if (key != w->key) *w = (ht_stall_watch){.key = key, .since = start};
  w->since += gap_shift;
  *waited = now - w->since;
  if (timeout_s > 0 && *waited >= timeout_s) return 2;
  if (warn_s > 0 && *waited >= warn_s && !w->warned) return w->warned = 1;
  return 0;
}

void ht_stall_report(ht_stall *s, int verdict, const char *what) {
  double warn_s, timeout_s;
  ht_stall_limits(s, &warn_s, &timeout_s);
  int rank = s ? s->rank : -1;
  if (verdict == 2) {
    /* One error line per process: the other reporter stays silent. */
    if (s && atomic_exchange(&s->aborting, 1)) return;
    fprintf(stderr, "hytrain: error: [rank %d] communication stalled: %s; stopping the job (comm.stall_timeout_s = %g)\n",
            rank, what, timeout_s);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, ht_exit_code(HT_EMPI));
    return;
  }
  if (s && atomic_load(&s->aborting)) return;
  fprintf(stderr, "hytrain: warning: [rank %d] %s; still waiting%s\n", rank, what,
          timeout_s > 0 ? " (the job stops at comm.stall_timeout_s)" : "");
  fflush(stderr);
}

/* The timer thread: looks at the main thread's mark every HT_STALL_PERIOD_S
 * while a limit is on. Time this process itself did not run (a look much
 * later than the period) is not counted, so a rank resumed after a freeze
 * does not blame the others for its own absence. */
static void *stall_main(void *arg) {
  ht_stall *s = arg;
  pthread_setname_np(pthread_self(), "ht-stall");
  ht_stall_watch w = {0};
  double last = 0;
  pthread_mutex_lock(&s->mu);
  while (!s->quit) {
    if (s->warn_s <= 0 && s->timeout_s <= 0) {
      last = 0;
      pthread_cond_wait(&s->cv, &s->mu);
      continue;
    }
    struct timespec until = ht_deadline(HT_STALL_PERIOD_S);
    pthread_cond_timedwait(&s->cv, &s->mu, &until);
    if (s->quit) break;
    double now = ht_now();
    double gap = last > 0 ? now - last : 0;
    double shift = gap > HT_STALL_GAP_S + HT_STALL_PERIOD_S ? gap : 0;
    last = now;
    if (!s->what) continue;
    const char *what = s->what;
    double waited;
    int v = ht_stall_tick(&w, (long long)s->seq + 1, s->since, now, shift, s->warn_s, s->timeout_s, &waited);
    if (!v) continue;
    pthread_mutex_unlock(&s->mu);
    char text[512];
    snprintf(text, sizeof text, "the main thread has waited %.0f s in %s, which every rank must join", waited, what);
    ht_stall_report(s, v, text);
    pthread_mutex_lock(&s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int ht_stall_set_limits(ht_stall *s, double warn_s, double timeout_s) {
  if (!s) return 0;
  pthread_mutex_lock(&s->mu);
  s->warn_s = warn_s > 0 ? warn_s : 0;
  s->timeout_s = timeout_s > 0 ? timeout_s : 0;
  int start = !s->started && (s->warn_s > 0 || s->timeout_s > 0);
  int rc = 0;
  if (start) {
    rc = pthread_create(&s->thread, NULL, stall_main, s);
    s->started = rc == 0;
  }
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (rc != 0) return ht_error(HT_EINTERNAL, "cannot start the stall watchdog's thread: %s", strerror(rc));
  return 0;
}

void ht_stall_limits(ht_stall *s, double *warn_s, double *timeout_s) {
  *warn_s = *timeout_s = 0;
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  *warn_s = s->warn_s;
  *timeout_s = s->timeout_s;
  pthread_mutex_unlock(&s->mu);
}

void ht_stall_enter(ht_stall *s, const char *what) {
  if (!s) return;
  double now = ht_now();
  pthread_mutex_lock(&s->mu);
  s->what = what;
  s->since = now;
  s->seq++;
  pthread_mutex_unlock(&s->mu);
}

void ht_stall_leave(ht_stall *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->what = NULL;
  pthread_mutex_unlock(&s->mu);
}

void ht_stall_destroy(ht_stall **sp) {
  ht_stall *s = *sp;
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->quit = 1;
  pthread_cond_signal(&s->cv);
  int started = s->started;
  pthread_mutex_unlock(&s->mu);
  if (started) pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
  *sp = NULL;
}
