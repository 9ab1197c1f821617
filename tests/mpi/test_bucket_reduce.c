/*
 * comm/bucket_reduce.h on its own: every rank fills a buffer with values
 * whose float sum depends on the order of the additions, sums a set of
 * buckets (sizes 1, 2 and 3, smaller than the rank count, up to uneven large
 * ones) and checks, bit for bit and on every rank, that each element equals
 * ((x0 + x1) + x2) + ... computed locally in rank order. Round 0 has every
 * bucket in flight at once, completed by polling; round 1 reuses the same
 * state one bucket at a time (as comm.wait=block does), checking the list of
 * ranks a bucket waits for.
 * Everything runs twice: with messages, and in shared memory
 * (comm/shm_grads.h) with two buffers used in turn as comm.mode delayed
 * does (round 0 in buffer 0, round 1 in buffer 1).
 * Usage: mpitest_bucket_reduce   (any number of ranks; exit code 0 = pass)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/bucket_reduce.h"
#include "comm/shm_grads.h"

/* Rank r's value for element i: large and small magnitudes mixed, so that a
 * different summation order changes the last bits. */
static float value(int r, size_t i, int round) {
  unsigned h = (unsigned)(i * 2654435761u) ^ (unsigned)(r * 40503 + round * 977);
  float mag = (h & 1) ? 1e7f : 1e-3f;
  return mag * (float)((int)(h % 2001) - 1000) / 1000.0f + (float)r * 0.1f;
}

/* One pass of both rounds; shm NULL: messages. Returns 1 on failure. */
static int check(const ht_shm_grads *shm, int rank, int size, int *order_matters) {
  const size_t sizes[] = {1, 2, 3, 1001, 16, 4096 + 5, 7};
  enum { NB = (int)(sizeof sizes / sizeof sizes[0]) };
  ht_bucket b[NB];
  size_t n = 0;
  for (int k = 0; k < NB; k++) {
    b[k].lo = n;
    n += sizes[k];
    b[k].hi = n;
  }
  float *own = malloc(n * sizeof *own), *want = malloc(n * sizeof *want);
  ht_bucket_reduce br;
  if (!own || !want || ht_bucket_reduce_init(&br, MPI_COMM_WORLD, b, NB, shm, NULL) != 0) {
    fprintf(stderr, "[rank %d] setup failed\n", rank);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int bad = 0;
  for (int round = 0; round < 2; round++) {
    float *buf = shm ? ht_shm_grads_buf(shm, rank, round) : own;
    for (size_t i = 0; i < n; i++) {
      buf[i] = value(rank, i, round);
      float acc = value(0, i, round);
      for (int r = 1; r < size; r++) acc += value(r, i, round);
      want[i] = acc;
      if (size > 2) {
        float rev = value(size - 1, i, round);
        for (int r = size - 2; r >= 0; r--) rev += value(r, i, round);
        if (rev != acc) *order_matters = 1;
      }
    }
    /* Round 0: all buckets in flight at once, completed by polling; each
     * must be reported done exactly once. Round 1: each bucket started and
     * completed by blocking, in bucket order (as every rank does). */
    if (round == 0) {
      int reported[NB] = {0}, n_reported = 0, done[NB], n_done = 0;
      for (int k = 0; k < NB; k++) {
        if (ht_bucket_reduce_start(&br, buf, k) != MPI_SUCCESS) bad = 1;
        if (br.phase[k] == HT_BR_DONE) reported[k] = 1, n_reported++; /* one rank: nothing to send */
      }
      while (n_reported < NB && !bad) {
        if (ht_bucket_reduce_progress(&br, buf, done, &n_done) != MPI_SUCCESS) bad = 1;
        for (int i = 0; i < n_done; i++, n_reported++)
          if (reported[done[i]]++) {
            fprintf(stderr, "[rank %d] bucket %d reported done twice\n", rank, done[i]);
            bad = 1;
          }
      }
    } else {
      for (int k = 0; k < NB && !bad; k++) {
        int done[NB], n_done = 0, missing[64];
        if (ht_bucket_reduce_start(&br, buf, k) != MPI_SUCCESS) bad = 1;
        /* While in flight it waits for some of the other ranks, never itself. */
        int n_missing = size <= 64 ? ht_bucket_reduce_missing(&br, k, missing) : 0;
        for (int i = 0; i < n_missing; i++)
          if (missing[i] == rank || missing[i] < 0 || missing[i] >= size) bad = 1;
        while (br.phase[k] != HT_BR_DONE && !bad)
          if (ht_bucket_reduce_progress(&br, buf, done, &n_done) != MPI_SUCCESS) bad = 1;
        if (ht_bucket_reduce_missing(&br, k, missing) != 0) bad = 1;
      }
    }
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
      if (memcmp(&buf[i], &want[i], sizeof(float)) != 0) wrong++;
    if (wrong) {
      fprintf(stderr, "[rank %d] %s, round %d: %zu of %zu elements differ from the rank-order sum\n", rank,
              shm ? "shared memory" : "messages", round, wrong, n);
      bad = 1;
    }
  }
  ht_bucket_reduce_free(&br);
  free(own);
  free(want);
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("P=%d, %s: %d buckets, %zu floats: %s\n", size, shm ? "shared memory" : "messages", NB, n,
           bad ? "FAIL" : "every element is the rank-order sum, bit for bit");
  return bad;
}

int main(int argc, char **argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int order_matters = 0;
  int bad = check(NULL, rank, size, &order_matters);
  /* The test's ranks all run on this machine: shared memory must be available. */
  ht_shm_grads shm;
  char why[256];
  int rc = ht_shm_grads_create(&shm, MPI_COMM_WORLD, 1001 + 4096 + 5 + 16 + 7 + 6, 2, 7, 0, why, sizeof why);
  if (rc != 0) {
    if (rank == 0) fprintf(stderr, "shared memory not available (%d): %s\n", rc, why);
    bad = 1;
  } else {
    bad |= check(&shm, rank, size, &order_matters);
    ht_shm_grads_free(&shm);
  }
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &order_matters, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("P=%d: %s (the test data %s on the summation order)\n", size, bad ? "FAIL" : "pass",
           size > 2 ? (order_matters ? "depends" : "does NOT depend") : "cannot depend");
  if (size > 2 && !order_matters) bad = 1; /* the check would prove nothing */
  MPI_Finalize();
  return bad;
}
