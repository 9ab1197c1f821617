/*
 * What the main thread is blocked in, for the stall watchdog.
 *
 * The main thread marks each blocking collective on comm->main that every
 * rank must join (the per-step agreement, the checkpoint gather, the error
 * agreement, the epoch's evaluation sums):
 *   ht_stall_enter("the step agreement");  MPI_Wait(...);  ht_stall_leave();
 * The communication thread's watchdog (hytrain/comm_thread.h) reads the mark
 * and warns, then ends the job, when one wait lasts too long: a rank that
 * never joins would otherwise leave the others blocked forever. The mark is
 * process-wide (one main thread per rank), guarded by a mutex; marking costs
 * two uncontended lock/unlock pairs.
 */
#ifndef HYTRAIN_STALL_H
#define HYTRAIN_STALL_H

/* Main thread: it is about to block in `what` (a string literal naming the
 * collective). Waits do not nest; a new enter replaces the mark. */
void ht_stall_enter(const char *what);

/* Main thread: the blocking call returned. */
void ht_stall_leave(void);

/* Watchdog: 1 and the current mark (what, since = ht_now() at enter, seq =
 * a number that changes with every enter) while the main thread is blocked,
 * else 0. */
int ht_stall_current(const char **what, double *since, unsigned *seq);

#endif
