/*
 * The stall watchdog's main-thread side (hytrain/stall.h), in-process: a
 * communication thread with comm.stall_warn_s = 1 and no timeout watches
 * while the main thread marks a blocking wait. Checks, from the thread's real
 * stderr output:
 *  - a wait marked for 1.6 s gives exactly one warning naming it;
 *  - a wait marked for 0.2 s, and an unmarked 1.6 s pause, give none;
 *  - with the watchdog off (0, 0) a 1.6 s marked wait gives none.
 * (The timeout path ends the job; e2e.comm_stall checks it with a frozen rank.)
 * Usage: mpitest_stall   (1 rank; exit code 0 = pass)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hytrain/comm.h"
#include "hytrain/comm_thread.h"
#include "hytrain/error.h"
#include "hytrain/stall.h"

static void pause_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static int count(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Runs the marks with the watchdog set to (warn_s, timeout_s) and returns
 * what the communication thread wrote to stderr (malloc'd). */
static char *run(const ht_comm *comm, double warn_s, double timeout_s) {
  static const ht_bucket b[1] = {{0, 4}};
  char path[] = "/tmp/hytrain-stall-XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  fflush(stderr);
  dup2(fd, 2);
  ht_comm_thread ct;
  if (ht_comm_thread_create(&ct, comm, b, 1, NULL, HT_WAIT_BACKOFF, 100, NULL, -1, NULL) < 0) {
    dup2(saved, 2);
    fprintf(stderr, "create: %s\n", ht_error_message());
    exit(1);
  }
  ht_comm_thread_set_watchdog(&ct, warn_s, timeout_s);
  ht_stall_enter("the long test wait");
  pause_s(1.6);
  ht_stall_leave();
  pause_s(1.6); /* unmarked: nothing to report */
  ht_stall_enter("the short test wait");
  pause_s(0.2);
  ht_stall_leave();
  ht_comm_thread_destroy(&ct);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  long len = lseek(fd, 0, SEEK_END);
  char *text = calloc((size_t)len + 1, 1);
  if (len > 0) pread(fd, text, (size_t)len, 0);
  close(fd);
  unlink(path);
  return text;
}

int main(int argc, char **argv) {
  ht_comm comm;
  if (ht_comm_init(&comm, &argc, &argv) < 0) {
    fprintf(stderr, "init failed: %s\n", ht_error_message());
    return 1;
  }
  int failed = 0;
  char *on = run(&comm, 1.0, 0);
  const char *want = "hytrain: warning: [rank 0] the main thread has waited 1 s in the long test wait, which every "
                     "rank must join; still waiting\n";
  if (count(on, want) != 1 || count(on, "hytrain:") != 1) {
    fprintf(stderr, "FAIL: watchdog on: expected exactly the line\n  %sgot:\n%s", want, on);
    failed = 1;
  } else {
    printf("ok: one warning for the 1.6 s wait, none for the 0.2 s wait or the unmarked pause\n");
  }
  char *off = run(&comm, 0, 0);
  if (off[0] != '\0') {
    fprintf(stderr, "FAIL: watchdog off, yet it wrote:\n%s", off);
    failed = 1;
  } else {
    printf("ok: nothing with comm.stall_warn_s = comm.stall_timeout_s = 0\n");
  }
  free(on);
  free(off);
  ht_comm_finalize(&comm);
  return failed;
}
