/*
 * The stall watchdog: one object per ht_comm (created by ht_comm_init and
 * ht_comm_split, reached through c->stall), used by src/comm only; other
 * modules mark their waits with ht_comm_stall_enter / ht_comm_stall_leave
 * (hytrain/comm.h).
 *
 * Two kinds of waits are timed, both against the same limits
 * (comm.stall_warn_s, comm.stall_timeout_s; 0 = off):
 *  - the main thread's blocking collectives that every rank must join (the
 *    start-up agreements and broadcasts, resume, the per-step agreement, the
 *    checkpoint gather, the evaluation's sums, the end-of-run reports): the
 *    main thread marks each one (ht_stall_enter / ht_stall_leave) and the
 *    watchdog's own timer thread ("ht-stall", owned by src/comm/stall.c)
 *    looks at the mark every HT_STALL_PERIOD_S;
 *  - the gradient buckets in flight: the communication thread times them
 *    itself with ht_stall_tick (it polls them anyway and alone knows which
 *    ranks a bucket still waits for) and reports through ht_stall_report.
 * Past warn_s one warning names the wait; past timeout_s the error is
 * printed once and the whole job ends with MPI_Abort (a rank that never
 * joins would otherwise leave every other rank blocked forever).
 *
 * Why a timer thread of its own rather than waits that poll with a
 * deadline: a marked wait can be any blocking MPI call (an MPI_Allreduce, a
 * broadcast inside another module), and turning each into a non-blocking
 * call polled against a clock would either spin (taking the core from
 * compute, docs/comm.md) or add a pause to every collective. A thread that
 * sleeps on a condition variable costs nothing while the limits are off,
 * one wake-up per HT_STALL_PERIOD_S while they are on, and it exists from
 * the moment the limits are set: start-up agreements are timed before the
 * communication thread exists, and after it has stopped.
 */
#ifndef HT_COMM_STALL_H
#define HT_COMM_STALL_H

typedef struct ht_stall ht_stall;

/* How often the timer thread looks at the main thread's mark. */
#define HT_STALL_PERIOD_S 0.25
/* A gap between two looks this much longer than the period means this
 * process did not run (it was stopped or descheduled): the time is not
 * blamed on the other ranks. */
#define HT_STALL_GAP_S 0.5

/* A new watchdog with the limits off; rank names this process in its
 * messages. No thread is started yet. Returns 0 or HT_ENOMEM. */
int ht_stall_create(ht_stall **out, int rank);

/* Sets the limits (seconds, 0 = off); starts the timer thread the first
 * time one of them is on. Any thread. Returns 0 or HT_EINTERNAL (thread
 * creation failed). s may be NULL (then nothing happens). */
int ht_stall_set_limits(ht_stall *s, double warn_s, double timeout_s);

/* The current limits (0, 0 for s == NULL). Any thread. */
void ht_stall_limits(ht_stall *s, double *warn_s, double *timeout_s);

/* Main thread: it is about to block in `what` (a string literal naming the
 * collective), and the blocking call returned. Waits do not nest; a new
 * enter replaces the mark. Two uncontended lock/unlock pairs; no-ops for
 * s == NULL. */
void ht_stall_enter(ht_stall *s, const char *what);
void ht_stall_leave(ht_stall *s);

/* One timed wait, for a thread that times its own waits (the
 * communication thread's oldest bucket). Zero-initialised = none. */
typedef struct ht_stall_watch {
  long long key; /* which wait; 0 = none */
  int warned;    /* a warning was printed for it */
  double since;  /* when it began, moved on by this process's own freezes */
} ht_stall_watch;

/* Times the wait `key` (begun at start; now = ht_now()): 0 = nothing to
 * say, 1 = warn now, 2 = past the timeout; *waited = the time so far. A new
 * key starts a new wait; gap_shift > 0 (a freeze of this process) moves its
 * start on. */
int ht_stall_tick(ht_stall_watch *w, long long key, double start, double now, double gap_shift, double warn_s,
                  double timeout_s, double *waited);

/* Prints the warning (verdict 1) "hytrain: warning: [rank r] <what>; still
 * waiting ...", or (verdict 2) the error "hytrain: error: [rank r]
 * communication stalled: <what>; stopping the job ..." and ends the job with
 * MPI_Abort. Only the first verdict 2 of the process prints (the timer
 * thread and the communication thread may both see a stall). */
void ht_stall_report(ht_stall *s, int verdict, const char *what);

/* Stops and joins the timer thread and frees s; *s = NULL. Safe on NULL. */
void ht_stall_destroy(ht_stall **s);

#endif
