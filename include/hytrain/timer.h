/* Wall-clock time for measurements. */
#ifndef HYTRAIN_TIMER_H
#define HYTRAIN_TIMER_H

/* Seconds on a monotonic clock (arbitrary origin). */
double ht_now(void);

/* CPU seconds used by the calling thread. */
double ht_thread_cpu_seconds(void);

#endif
