/* Wall-clock time for measurements, and timed waits on the same clock. */
#ifndef HYTRAIN_TIMER_H
#define HYTRAIN_TIMER_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* Seconds on a monotonic clock (arbitrary origin). */
double ht_now(void);

/* Sorts n measured times ascending, for their median, minimum and maximum. */
void ht_sort_times(double *t, size_t n);

/* CPU seconds used by the calling thread. */
double ht_thread_cpu_seconds(void);

/* Initialises cv for pthread_cond_timedwait against ht_deadline: on the
 * monotonic clock, so a change of the wall clock never stretches or cuts a
 * timed wait. */
void ht_cond_init_monotonic(pthread_cond_t *cv);

/* The monotonic time `seconds` from now, as pthread_cond_timedwait takes it
 * for a condition variable made by ht_cond_init_monotonic. */
struct timespec ht_deadline(double seconds);

#endif
