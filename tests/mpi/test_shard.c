/*
 * Sharded reading and normalisation across ranks (run at 1, 2 and 4 ranks).
 *
 * Rank 0 writes a dataset whose feature 0 is the row index; every rank reads
 * its shard; rank 0 gathers the row indices and checks that each row was read
 * exactly once. ht_norm_fit over the shards must match a direct computation
 * over all rows (within 1e-6 relative) and be bitwise identical on every
 * rank. A 3-row file gives some ranks an empty shard. Every rank returns the
 * same exit code (a failure flag is allreduced).
 */
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "ht_rank_check.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define D 3

/* Reports a failed check with the rank (a `rank` variable in scope) and
 * counts it in *fail. */
#define CHECK(cond, ...) HT_RANK_CHECK(rank, *fail, cond, __VA_ARGS__)

static float feature(int64_t i, int j) {
  switch (j) {
  case 0: return (float)i;
  case 1: return 3.0f + 2.0f * (float)sin((double)i);
  default: return 7.0f; /* constant: its std must come out as 1 */
  }
}

static int write_file(const char *path, int64_t n) {
  float *x = malloc(sizeof(float) * (size_t)n * D);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  if (!x || !y) return HT_ENOMEM;
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < D; j++) x[i * D + j] = feature(i, j);
    y[i] = (int32_t)(i % 4);
  }
  int rc = ht_dataset_write(path, x, n, D, y, 4, NULL, 0, "test_shard", NULL);
  free(x);
  free(y);
  return rc;
}

/* Reads this rank's shard and checks its rows against ht_shard_range and the
 * generated values; rank 0 checks that the gathered rows cover 0..n-1 once. */
static void check_shards(const char *path, int64_t n, int rank, int size, ht_dataset *ds, int *fail) {
  ht_error_clear();
  int rc = ht_dataset_read_shard(ds, path, rank, size);
  CHECK(rc == 0, "read_shard: %s", ht_error_message());
  int64_t row0, count;
  ht_shard_range(n, rank, size, &row0, &count);
  CHECK(ds->row0 == row0 && ds->n == count, "shard rows [%lld, +%lld), expected [%lld, +%lld)", (long long)ds->row0,
        (long long)ds->n, (long long)row0, (long long)count);
  CHECK(ds->n_total == n, "n_total %lld", (long long)ds->n_total);
  int64_t *rows = malloc(sizeof(int64_t) * (size_t)(ds->n > 0 ? ds->n : 1));
  for (int64_t i = 0; i < ds->n; i++) {
    rows[i] = (int64_t)ds->x[i * D];
    CHECK(ds->y[i] == (ds->row0 + i) % 4, "row %lld: label %d", (long long)(ds->row0 + i), ds->y[i]);
    CHECK(ds->x[i * D + 1] == feature(ds->row0 + i, 1), "row %lld: feature 1", (long long)(ds->row0 + i));
  }

  int my_n = (int)ds->n, *counts = NULL, *displs = NULL;
  int64_t *all = NULL;
  if (rank == 0) {
    counts = malloc(sizeof(int) * (size_t)size);
    displs = malloc(sizeof(int) * (size_t)size);
  }
  MPI_Gather(&my_n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  if (rank == 0) {
    for (int r = 0; r < size; r++) {
      displs[r] = total;
      total += counts[r];
    }
    all = malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
  }
  MPI_Gatherv(rows, my_n, MPI_INT64_T, all, counts, displs, MPI_INT64_T, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    CHECK(total == n, "gathered %d rows, expected %lld", total, (long long)n);
    int *seen = calloc((size_t)n, sizeof(int));
    for (int k = 0; k < total; k++) {
      CHECK(all[k] >= 0 && all[k] < n, "row index %lld out of range", (long long)all[k]);
      if (all[k] >= 0 && all[k] < n) seen[all[k]]++;
    }
    for (int64_t i = 0; i < n; i++) CHECK(seen[i] == 1, "row %lld read %d times", (long long)i, seen[i]);
    free(seen);
  }
  free(all);
  free(counts);
  free(displs);
  free(rows);
}

/* Fits over the shards of all ranks and compares with a direct two-pass
 * computation in double over all n rows, and across ranks. */
static void check_norm(const ht_dataset *ds, int64_t n, int rank, int *fail) {
  ht_norm norm;
  ht_error_clear();
  int rc = ht_norm_fit(&norm, ds, 1, MPI_COMM_WORLD);
  CHECK(rc == 0, "norm_fit: %s", ht_error_message());
  if (rc != 0) return;
  for (int j = 0; j < D; j++) {
    double mean = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) mean += feature(i, j);
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) ss += (feature(i, j) - mean) * (feature(i, j) - mean);
    double sd = sqrt(ss / (double)n);
    if (sd < 1e-6) sd = 1;
    CHECK(fabs(norm.mean[j] - mean) <= 1e-6 * fabs(mean) + 1e-7, "n=%lld feature %d: mean %.9g, expected %.9g", (long long)n,
          j, norm.mean[j], mean);
    CHECK(fabs(norm.std[j] - sd) <= 1e-6 * sd, "n=%lld feature %d: std %.9g, expected %.9g", (long long)n, j, norm.std[j], sd);
  }
  /* Bitwise identical on every rank: max and min over ranks agree. */
  float stats[2 * D], hi[2 * D], lo[2 * D];
  memcpy(stats, norm.mean, sizeof(float) * D);
  memcpy(stats + D, norm.std, sizeof(float) * D);
  MPI_Allreduce(stats, hi, 2 * D, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(stats, lo, 2 * D, MPI_FLOAT, MPI_MIN, MPI_COMM_WORLD);
  CHECK(memcmp(hi, lo, sizeof hi) == 0, "normalisation statistics differ between ranks");
  ht_norm_free(&norm);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, failures = 0, *fail = &failures;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  char dir[512] = "", big[600], small[600];
  int rc = 0;
  if (rank == 0) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hytrain-shard-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir)) rc = HT_EIO;
    snprintf(big, sizeof big, "%s/big.h5", dir);
    snprintf(small, sizeof small, "%s/small.h5", dir);
    if (rc == 0) rc = write_file(big, 103);
    if (rc == 0) rc = write_file(small, 3);
    if (rc != 0) fprintf(stderr, "rank 0: cannot write the test datasets: %s\n", ht_error_message());
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc != 0) {
    MPI_Finalize();
    return 1;
  }
  MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  snprintf(big, sizeof big, "%s/big.h5", dir);
  snprintf(small, sizeof small, "%s/small.h5", dir);

  const int64_t sizes[2] = {103, 3};
  const char *files[2] = {big, small};
  for (int f = 0; f < 2; f++) {
    ht_dataset ds;
    check_shards(files[f], sizes[f], rank, size, &ds, fail);
    check_norm(&ds, sizes[f], rank, fail);
    ht_dataset_free(&ds);
  }

  int any = 0;
  MPI_Allreduce(&failures, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) {
    unlink(big);
    unlink(small);
    rmdir(dir);
    printf("mpi.shard: %d ranks: %s\n", size, any ? "FAILED" : "ok");
  }
  MPI_Finalize();
  return any ? 1 : 0;
}
