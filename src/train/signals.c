/*
 * Stop signals: SIGTERM, SIGINT and SIGUSR1 (what SLURM and schedulers send
 * before a time limit or preemption) set a flag; the training loop agrees on
 * it across ranks at the next step boundary, writes a checkpoint and exits
 * with 75 (docs/errors.md). The handler is installed with SA_RESETHAND, so a
 * second signal of the same kind ends the process the default way (a second
 * Ctrl-C really stops it).
 *
 * The flag is the one piece of process-global mutable state in hytrain: a
 * signal handler can reach nothing else. The kernel runs the handler on any
 * thread that does not block the signal (the communication, loader or
 * checkpoint thread as well as the main one), so the flag is a lock-free C11
 * atomic, which is both async-signal-safe and race-free between threads; a
 * volatile sig_atomic_t is only the former (ThreadSanitizer reported the
 * race). Written only by the handler, read by the main thread.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "train/internal.h"

static atomic_int ht__stop_signal;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free to be set in a signal handler");

static void on_signal(int sig) { atomic_store(&ht__stop_signal, sig); }

static const int ht__stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};

void ht__signals_install(ht__signals *s) {
  memset(s, 0, sizeof *s);
  atomic_store(&ht__stop_signal, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  for (int i = 0; i < 3; i++) sigaction(ht__stop_signals[i], &sa, &s->old[i]);
  /* A file-size limit (ulimit -f) must fail the write with EFBIG and be
   * reported, not kill the process in the middle of a checkpoint. */
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ign, &s->old[3]);
  s->installed = 1;
}

int ht__signals_pending(void) { return atomic_load(&ht__stop_signal); }

const char *ht__signal_name(int sig) {
  switch (sig) {
  case SIGTERM:
    return "SIGTERM";
  case SIGINT:
    return "SIGINT";
  case SIGUSR1:
    return "SIGUSR1";
  }
  return "a stop signal";
}

void ht__signals_restore(ht__signals *s) {
  if (!s->installed) return;
  for (int i = 0; i < 3; i++) sigaction(ht__stop_signals[i], &s->old[i], NULL);
  sigaction(SIGXFSZ, &s->old[3], NULL);
  s->installed = 0;
}
