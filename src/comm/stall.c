/* What the main thread is blocked in; see hytrain/stall.h. */
#include "hytrain/stall.h"

#include <pthread.h>

#include "hytrain/timer.h"

static struct {
  pthread_mutex_t mu;
  const char *what; /* NULL: not blocked */
  double since;
  unsigned seq;
} ht__mark = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

void ht_stall_enter(const char *what) {
  double now = ht_now();
  pthread_mutex_lock(&ht__mark.mu);
  ht__mark.what = what;
  ht__mark.since = now;
  ht__mark.seq++;
  pthread_mutex_unlock(&ht__mark.mu);
}

void ht_stall_leave(void) {
  pthread_mutex_lock(&ht__mark.mu);
  ht__mark.what = NULL;
  pthread_mutex_unlock(&ht__mark.mu);
}

int ht_stall_current(const char **what, double *since, unsigned *seq) {
  pthread_mutex_lock(&ht__mark.mu);
  int in = ht__mark.what != NULL;
  *what = ht__mark.what;
  *since = ht__mark.since;
  *seq = ht__mark.seq;
  pthread_mutex_unlock(&ht__mark.mu);
  return in;
}
