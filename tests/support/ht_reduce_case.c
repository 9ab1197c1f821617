#include "ht_reduce_case.h"

#include <mpi.h>
#include <stdio.h>

const size_t ht_reduce_sizes[HT_REDUCE_NB] = {1, 2, 3, 1001, 16, 4096 + 5, 7};

void ht_reduce_mpi_init(int *argc, char ***argv, int *rank, int *size) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
  *rank = 0;
  *size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
}

float ht_reduce_value(int r, size_t i, int round) {
  unsigned h = (unsigned)(i * 2654435761u) ^ (unsigned)(r * 40503 + round * 977);
  float mag = (h & 1) ? 1e7f : 1e-3f;
  return mag * (float)((int)(h % 2001) - 1000) / 1000.0f + (float)r * 0.1f;
}

size_t ht_reduce_layout(const size_t *sizes, int nb, ht_bucket *b) {
  size_t n = 0;
  for (int k = 0; k < nb; k++) {
    b[k].lo = n;
    n += sizes[k];
    b[k].hi = n;
  }
  return n;
}

int ht_reduce_all_at_once(ht_bucket_reduce *br, float *buf, int nb, int rank) {
  int bad = 0, reported[nb], n_reported = 0, done[nb], n_done = 0;
  for (int k = 0; k < nb; k++) {
    reported[k] = 0;
    if (ht_bucket_reduce_start(br, buf, k) != MPI_SUCCESS) bad = 1;
    if (br->phase[k] == HT_BR_DONE) reported[k] = 1, n_reported++; /* one rank: nothing to send */
  }
  while (n_reported < nb && !bad) {
    if (ht_bucket_reduce_progress(br, buf, done, &n_done) != MPI_SUCCESS) bad = 1;
    for (int i = 0; i < n_done; i++, n_reported++)
      if (reported[done[i]]++) {
        fprintf(stderr, "[rank %d] bucket %d reported done twice\n", rank, done[i]);
        bad = 1;
      }
  }
  return bad;
}

int ht_reduce_one_by_one(ht_bucket_reduce *br, float *buf, int nb, int rank, int size) {
  int bad = 0;
  for (int k = 0; k < nb && !bad; k++) {
    int done[nb], n_done = 0, missing[64];
    if (ht_bucket_reduce_start(br, buf, k) != MPI_SUCCESS) bad = 1;
    int n_missing = size <= 64 ? ht_bucket_reduce_missing(br, k, missing) : 0;
    for (int i = 0; i < n_missing; i++)
      if (missing[i] == rank || missing[i] < 0 || missing[i] >= size || (i > 0 && missing[i] <= missing[i - 1]))
        bad = 1;
    while (br->phase[k] != HT_BR_DONE && !bad)
      if (ht_bucket_reduce_progress(br, buf, done, &n_done) != MPI_SUCCESS) bad = 1;
    if (ht_bucket_reduce_missing(br, k, missing) != 0) bad = 1;
  }
  return bad;
}
