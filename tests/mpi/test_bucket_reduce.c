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
#include "ht_reduce_case.h"

/* One pass of both rounds; shm NULL: messages. Returns 1 on failure. */
static int check(const ht_shm_grads *shm, int rank, int size, int *order_matters) {
  enum { NB = HT_REDUCE_NB };
  ht_bucket b[NB];
  size_t n = ht_reduce_layout(ht_reduce_sizes, NB, b);
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
      buf[i] = ht_reduce_value(rank, i, round);
      float acc = ht_reduce_value(0, i, round);
      for (int r = 1; r < size; r++) acc += ht_reduce_value(r, i, round);
      want[i] = acc;
      if (size > 2) {
        float rev = ht_reduce_value(size - 1, i, round);
        for (int r = size - 2; r >= 0; r--) rev += ht_reduce_value(r, i, round);
        if (rev != acc) *order_matters = 1;
      }
    }
    /* Round 0: all buckets in flight at once, completed by polling. Round
     * 1: each bucket started and completed by blocking, in bucket order. */
    if (!bad)
      bad = round == 0 ? ht_reduce_all_at_once(&br, buf, NB, rank) : ht_reduce_one_by_one(&br, buf, NB, rank, size);
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
  int rank, size;
  ht_reduce_mpi_init(&argc, &argv, &rank, &size);
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
