/*
 * The stall watchdog (src/comm/stall.h) on marked waits of the main thread.
 *
 * Without arguments (1 rank), in-process, comm.stall_warn_s = 1 and no
 * timeout; checks, from the real stderr output:
 *  - start-up: no communication thread exists (as during the start-up
 *    agreements): a wait marked for 1.6 s gives exactly one warning naming
 *    it; a wait marked for 0.2 s, and an unmarked 1.6 s pause, give none;
 *  - the same with a communication thread running (as during training):
 *    still exactly one warning (the thread does not report it a second time);
 *  - with the watchdog off (0, 0) a 1.6 s marked wait gives none.
 * With the argument "agree" (2 ranks, watchdog 1 s / 3 s): rank 1 stops
 * itself with SIGSTOP before the first error agreement, as a rank frozen
 * during start-up would; rank 0 must warn and then end the job
 * (tests/e2e/comm_stall_startup.sh checks the lines and the exit code).
 * (The timeout path during training: e2e.comm_stall with a frozen rank.)
 * Usage: mpitest_stall [agree]   (exit code 0 = pass)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comm/comm_thread.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"

static void pause_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static int count(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Runs the marks with the watchdog set to (warn_s, timeout_s), with or
 * without a communication thread, and returns what the process wrote to
 * stderr meanwhile (malloc'd). */
static char *run(const ht_comm *comm, double warn_s, double timeout_s, int with_thread) {
  static const ht_bucket b[1] = {{0, 4}};
  char path[] = "/tmp/hytrain-stall-XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  fflush(stderr);
  dup2(fd, 2);
  if (ht_comm_set_watchdog(comm, warn_s, timeout_s) < 0) {
    dup2(saved, 2);
    fprintf(stderr, "watchdog: %s\n", ht_error_message());
    exit(1);
  }
  ht_comm_thread *ct = NULL;
  if (with_thread && ht_comm_thread_create(&ct, comm, b, 1, NULL, NULL, HT_WAIT_BACKOFF, 100, NULL, -1, NULL) < 0) {
    dup2(saved, 2);
    fprintf(stderr, "create: %s\n", ht_error_message());
    exit(1);
  }
  ht_comm_stall_enter(comm, "the long test wait");
  pause_s(1.6);
  ht_comm_stall_leave(comm);
  pause_s(1.6); /* unmarked: nothing to report */
  ht_comm_stall_enter(comm, "the short test wait");
  pause_s(0.2);
  ht_comm_stall_leave(comm);
  ht_comm_thread_destroy(&ct);
  ht_comm_set_watchdog(comm, 0, 0);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  long len = lseek(fd, 0, SEEK_END);
  char *text = calloc((size_t)len + 1, 1);
  if (len > 0 && pread(fd, text, (size_t)len, 0) != len) text[0] = '\0';
  close(fd);
  unlink(path);
  return text;
}

/* One run with the watchdog on: exactly the one warning. */
static int expect_one_warning(const ht_comm *comm, int with_thread, const char *label) {
  char *on = run(comm, 1.0, 0, with_thread);
  const char *want = "hytrain: warning: [rank 0] the main thread has waited 1 s in the long test wait, which every "
                     "rank must join; still waiting\n";
  int failed = 0;
  if (count(on, want) != 1 || count(on, "hytrain:") != 1) {
    fprintf(stderr, "FAIL: %s: expected exactly the line\n  %sgot:\n%s", label, want, on);
    failed = 1;
  } else {
    printf("ok: %s: one warning for the 1.6 s wait, none for the 0.2 s wait or the unmarked pause\n", label);
  }
  free(on);
  return failed;
}

/* Rank 1 freezes before the agreement; rank 0 waits in it until the
 * watchdog ends the job. Returning is a failure, unless the job is already
 * ending: mpirun continues the frozen rank (SIGCONT) while it kills the job,
 * so both may still complete the agreement; the script checks the stall was
 * reported first and the exit code. */
static int agree_with_frozen_rank(const ht_comm *comm) {
  if (comm->size != 2) {
    fprintf(stderr, "FAIL: agree needs 2 ranks, got %d\n", comm->size);
    return 1;
  }
  if (ht_comm_set_watchdog(comm, 1.0, 3.0) < 0) {
    fprintf(stderr, "watchdog: %s\n", ht_error_message());
    return 1;
  }
  if (comm->rank == 1) raise(SIGSTOP);
  int rc = ht_comm_agree(comm, 0);
  fprintf(stderr, "[rank %d] the agreement returned %d\n", comm->rank, rc);
  return 1;
}

int main(int argc, char **argv) {
  ht_comm comm;
  if (ht_comm_init(&comm, &argc, &argv) < 0) {
    fprintf(stderr, "init failed: %s\n", ht_error_message());
    return 1;
  }
  int failed = 0;
  if (argc > 1 && strcmp(argv[1], "agree") == 0) {
    failed = agree_with_frozen_rank(&comm);
  } else {
    failed |= expect_one_warning(&comm, 0, "start-up (no communication thread)");
    failed |= expect_one_warning(&comm, 1, "training (communication thread running)");
    char *off = run(&comm, 0, 0, 1);
    if (off[0] != '\0') {
      fprintf(stderr, "FAIL: watchdog off, yet it wrote:\n%s", off);
      failed = 1;
    } else {
      printf("ok: nothing with comm.stall_warn_s = comm.stall_timeout_s = 0\n");
    }
    free(off);
  }
  ht_comm_finalize(&comm);
  return failed;
}
