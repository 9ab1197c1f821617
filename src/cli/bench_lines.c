/*
 * hytrain bench lines [--cpus A,B] [--trips N]
 * The time a cache line takes to go from one core to another and back: two
 * threads, pinned to CPUs A and B (default: the first two CPUs this process
 * may run on), take turns writing one counter in a line of its own, N round
 * trips per batch (default 20000), 7 batches. It is the price the Hogwild
 * engine pays each time two workers write the same weights' line
 * (docs/sparse.md, "Performance"); on a virtual machine it depends on where
 * the host puts the two vCPUs, so scripts/bench-hogwild prints it beside
 * each round. Prints every batch, then, for scripts:
 *   line_round_trip_ns=<median batch's ns per round trip>
 * One process, no MPI.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/error.h"
#include "hytrain/timer.h"

#define BATCHES 7

typedef struct {
  _Alignas(64) _Atomic long turn; /* odd: B's turn to answer, even: A's */
  char pad_[64 - sizeof(long)];
  long trips;
  int cpu_b;
  int pinned; /* B's pinning result, read after join */
} pingpong;

/* Waits until *turn == want. A spinning thread on a CPU shared with another
 * runnable thread would hold it for a whole time slice: yield now and then. */
static void wait_for(_Atomic long *turn, long want) {
  for (unsigned spins = 1; atomic_load_explicit(turn, memory_order_acquire) != want; spins++)
    if ((spins & 0xffff) == 0) sched_yield();
}

static int pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *answer(void *arg) {
  pingpong *p = arg;
  p->pinned = pin(p->cpu_b) == 0;
  long total = (BATCHES + 1) * p->trips; /* a warm-up batch, then BATCHES */
  for (long i = 0; i < total; i++) {
    wait_for(&p->turn, 2 * i + 1);
    atomic_store_explicit(&p->turn, 2 * i + 2, memory_order_release);
  }
  return NULL;
}

/* The first two CPUs of the process's affinity mask, or an error. */
static int default_cpus(int *a, int *b) {
  cpu_set_t s;
  if (sched_getaffinity(0, sizeof s, &s) != 0) return ht_error(HT_EINTERNAL, "bench lines: sched_getaffinity failed");
  *a = *b = -1;
  for (int c = 0; c < CPU_SETSIZE && *b < 0; c++)
    if (CPU_ISSET(c, &s)) {
      if (*a < 0) *a = c;
      else *b = c;
    }
  if (*b < 0)
    return ht_error(HT_EUSAGE, "bench lines: needs 2 CPUs, this process may run on %d (see taskset, cgroups)", CPU_COUNT(&s));
  return 0;
}

static int parse_cpus(const char *s, int *a, int *b) {
  char tail;
  if (sscanf(s, "%d,%d%c", a, b, &tail) != 2 || *a < 0 || *b < 0 || *a >= CPU_SETSIZE || *b >= CPU_SETSIZE || *a == *b)
    return ht_error(HT_EUSAGE, "--cpus '%s': expected two different CPU numbers A,B, e.g. 0,1", s);
  return 0;
}

static int run(int cpu_a, int cpu_b, long trips) {
  pingpong *p = aligned_alloc(64, sizeof *p);
  if (!p) return ht_error(HT_ENOMEM, "bench lines: out of memory");
  memset(p, 0, sizeof *p);
  atomic_init(&p->turn, 0);
  p->trips = trips;
  p->cpu_b = cpu_b;
  cpu_set_t old;
  sched_getaffinity(0, sizeof old, &old);
  if (pin(cpu_a) != 0) {
    free(p);
    return ht_error(HT_EUSAGE, "bench lines: cannot run on CPU %d (not in this process's affinity mask)", cpu_a);
  }
  pthread_t t;
  if (pthread_create(&t, NULL, answer, p) != 0) {
    free(p);
    return ht_error(HT_EINTERNAL, "bench lines: cannot start the second thread");
  }
  double ns[BATCHES];
  long i = 0;
  for (int b = -1; b < BATCHES; b++) {
    double t0 = ht_now();
    for (long end = i + trips; i < end; i++) {
      atomic_store_explicit(&p->turn, 2 * i + 1, memory_order_release);
      wait_for(&p->turn, 2 * i + 2);
    }
    if (b >= 0) ns[b] = (ht_now() - t0) * 1e9 / (double)trips;
  }
  pthread_join(t, NULL);
  int pinned = p->pinned;
  free(p);
  sched_setaffinity(0, sizeof old, &old);
  if (!pinned) return ht_error(HT_EUSAGE, "bench lines: cannot run on CPU %d (not in this process's affinity mask)", cpu_b);
  for (int b = 0; b < BATCHES; b++) printf("batch %d: %.1f ns per round trip (CPU %d <-> CPU %d)\n", b, ns[b], cpu_a, cpu_b);
  ht_sort_times(ns, BATCHES);
  printf("line_round_trip_ns=%.1f\n", ns[BATCHES / 2]);
  return 0;
}

void ht__bench_lines_usage(FILE *f) {
  fputs("usage: hytrain bench lines [--cpus A,B] [--trips N]\n"
        "  ns for a cache line to go from CPU A to CPU B and back (default: the first two CPUs\n"
        "  this process may use; N round trips per batch, default 20000; median of 7 batches)\n",
        f);
}

int ht__bench_lines(int argc, char **argv) {
  int a = -1, b = -1, trips = 20000, rc = 0;
  for (int i = 2; rc == 0 && i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      ht__bench_lines_usage(stdout);
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--cpus") == 0) rc = parse_cpus(argv[++i], &a, &b);
    else if (i + 1 < argc && strcmp(argv[i], "--trips") == 0) rc = ht_cli_parse_int("--trips", argv[++i], 1, 100000000, &trips);
    else rc = ht_error(HT_EUSAGE, "bench lines: unknown option '%s' (expected --cpus, --trips)", argv[i]);
  }
  if (rc == 0 && a < 0) rc = default_cpus(&a, &b);
  if (rc == 0) rc = run(a, b, trips);
  return rc < 0 ? ht_cli_fail("bench", rc) : 0;
}
