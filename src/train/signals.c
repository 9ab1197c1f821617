/*
 * Stop signals: SIGTERM, SIGINT and SIGUSR1 (what SLURM and schedulers send
 * before a time limit or preemption) set a flag; the training loop agrees on
 * it across ranks at the next step boundary, writes a checkpoint and exits
 * with 75 (docs/errors.md). The handler is installed with SA_RESETHAND, so a
 * second signal of the same kind ends the process the default way (a second
 * Ctrl-C really stops it).
 *
 * The flag is the one piece of process-global mutable state in hytrain: a
 * signal handler can reach nothing else. It is a volatile sig_atomic_t written
 * only by the handler and read (never cleared while training) by the main
 * thread, which is async-signal-safe.
 */
#include <signal.h>
#include <string.h>

#include "train/internal.h"

static volatile sig_atomic_t ht__stop_signal;

static void on_signal(int sig) { ht__stop_signal = sig; }

static const int ht__stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};

void ht__signals_install(ht__signals *s) {
  memset(s, 0, sizeof *s);
  ht__stop_signal = 0;
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

int ht__signals_pending(void) { return (int)ht__stop_signal; }

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
