/*
 * CSR round trip through the LIBSVM converter and the shard reader (run at
 * 1, 2 and 4 ranks).
 *
 * Rank 0 writes a LIBSVM text file (1-based, with comments, empty lines and
 * qid tokens, some rows empty) whose non-zero (i, j) has value v(i, j),
 * and converts it to CSR. Every rank reads its shard; each non-zero read
 * adds a hash of (global row, feature, value) to a sum and 1 to a count.
 * The sums over ranks must equal the sums over the file's non-zeros, the
 * shards must be ht_shard_range's, and the labels must come back; a
 * non-zero read twice or missed changes the count or the hash. 7 rows give
 * 4 ranks unequal shards.
 */
#include "hytrain/convert.h"
#include "hytrain/csr.h"
#include "hytrain/error.h"
#include "ht_rank_check.h"

#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 7
#define D 40

#define CHECK(cond, ...) HT_RANK_CHECK(rank, fail, cond, __VA_ARGS__)

/* Row i has feature j (0-based) when (i * 7 + j * 3) % 5 == 0, except row 4 (empty). */
static int has(int i, int j) { return i != 4 && (i * 7 + j * 3) % 5 == 0; }
static float value(int i, int j) { return (float)(i + 1) * 0.5f - (float)j * 0.25f; }
static uint64_t hash(int64_t i, int j, float v) {
  uint64_t h = (uint64_t)i * 1000003u + (uint64_t)j * 7919u + (uint64_t)(int64_t)(v * 4.0f) * 104729u;
  return h * 0x9E3779B97F4A7C15ull;
}

static int write_text(const char *path, uint64_t *sum, int64_t *count) {
  FILE *f = fopen(path, "w");
  if (!f) return HT_EIO;
  fprintf(f, "# a LIBSVM file for test_csr_shard\n\n");
  *sum = 0;
  *count = 0;
  for (int i = 0; i < ROWS; i++) {
    fprintf(f, "%d qid:%d", i % 3 == 0 ? 1 : -1, i / 2);
    for (int j = 0; j < D; j++)
      if (has(i, j)) {
        fprintf(f, " %d:%g", j + 1, (double)value(i, j));
        *sum += hash(i, j, value(i, j));
        (*count)++;
      }
    fprintf(f, i == 2 ? "  # trailing comment\n" : "\n");
  }
  return fclose(f) == 0 ? 0 : HT_EIO;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, fail = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char dir[512] = "", txt[600], h5[600];
  uint64_t want_sum = 0;
  int64_t want_count = 0;
  int rc = 0, wrote_csr = 0;
  if (rank == 0) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hytrain-csr-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir)) rc = HT_EIO;
    snprintf(txt, sizeof txt, "%s/in.svm", dir);
    snprintf(h5, sizeof h5, "%s/out.h5", dir);
    if (rc == 0) rc = write_text(txt, &want_sum, &want_count);
    ht_libsvm_opts o = {.dims = D, .task = HT_TASK_CLASSIFY, .format = HT_LIBSVM_OUT_AUTO};
    if (rc == 0) rc = ht_convert_libsvm_ex(txt, h5, &o, &wrote_csr);
    if (rc != 0) fprintf(stderr, "rank 0: convert failed: %s\n", ht_error_message());
    CHECK(wrote_csr == 1, "auto format chose dense for a sparse file");
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc != 0) {
    MPI_Finalize();
    return 1;
  }
  MPI_Bcast(h5, sizeof h5, MPI_CHAR, 0, MPI_COMM_WORLD);

  ht_csr ds;
  ht_error_clear();
  rc = ht_csr_read_shard(&ds, h5, rank, size);
  CHECK(rc == 0, "read_shard: %s", ht_error_message());
  uint64_t sum = 0;
  int64_t count = 0;
  if (rc == 0) {
    int64_t row0, n;
    ht_shard_range(ROWS, rank, size, &row0, &n);
    CHECK(ds.row0 == row0 && ds.n == n, "shard [%" PRId64 ", +%" PRId64 "), expected [%" PRId64 ", +%" PRId64 ")", ds.row0,
          ds.n, row0, n);
    CHECK(ds.d == D && ds.n_total == ROWS && ds.num_classes == 2, "header d=%d n=%" PRId64 " K=%d", ds.d, ds.n_total,
          ds.num_classes);
    CHECK(ds.indptr[0] == 0, "indptr not rebased");
    for (int64_t r = 0; r < ds.n; r++) {
      int64_t i = ds.row0 + r;
      CHECK(ds.y[r] == (i % 3 == 0 ? 1 : 0), "row %" PRId64 ": label %d", i, ds.y[r]);
      for (int64_t k = ds.indptr[r]; k < ds.indptr[r + 1]; k++) {
        CHECK(has((int)i, ds.indices[k]), "row %" PRId64 ": unexpected feature %d", i, ds.indices[k]);
        CHECK(ds.values[k] == value((int)i, ds.indices[k]), "row %" PRId64 " feature %d: value %g", i, ds.indices[k],
              (double)ds.values[k]);
        sum += hash(i, ds.indices[k], ds.values[k]);
        count++;
      }
    }
  }
  uint64_t all_sum = 0;
  int64_t all_count = 0;
  MPI_Reduce(&sum, &all_sum, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(&count, &all_count, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    CHECK(all_count == want_count, "read %" PRId64 " non-zeros over all ranks, the file has %" PRId64, all_count, want_count);
    CHECK(all_sum == want_sum, "the hash of the non-zeros read differs from the file's (a non-zero read twice or missed)");
  }
  ht_csr_free(&ds);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    unlink(h5);
    unlink(txt);
    rmdir(dir);
  }
  int any = 0;
  MPI_Allreduce(&fail, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}
