/* Which rows of a dataset each rank owns. */
#include "hytrain/dataset.h"

/* Rank r gets floor(N/P) rows plus one more if r < N % P, and the blocks are
 * laid out in rank order, so the ranks cover rows 0..N-1 exactly once and the
 * shard sizes differ by at most one. Invalid arguments give an empty shard. */
void ht_shard_range(int64_t n_rows, int rank, int size, int64_t *row0, int64_t *count) {
  if (n_rows <= 0 || size < 1 || rank < 0 || rank >= size) {
    *row0 = 0;
    *count = 0;
    return;
  }
  int64_t base = n_rows / size, extra = n_rows % size;
  *count = base + (rank < extra ? 1 : 0);
  *row0 = (int64_t)rank * base + (rank < extra ? rank : extra);
}
