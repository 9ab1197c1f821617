/* K-fold row selections of a dataset (include/hytrain/dataset.h). */
#include "hytrain/dataset.h"
#include "hytrain/error.h"

int ht_dataset_read_fold(ht_dataset *ds, const char *path, int folds, int fold, int validation, int rank, int size) {
  if (folds < 2 || fold < 0 || fold >= folds) {
    ds->x = NULL, ds->y = NULL, ds->yt = NULL;
    return ht_error(HT_EINVAL, "%s: fold %d of %d folds does not exist", path, fold, folds);
  }
  ht_dataset head;
  HT_CHECK(ht_dataset_probe(&head, path));
  int64_t n_rows = head.n_total, f0, flen;
  ht_shard_range(n_rows, fold, folds, &f0, &flen);
  if (n_rows < folds)
    return ht_error(HT_EDATA, "%s: %lld rows cannot be split into %d folds (every fold needs a row, and rows to train on)",
                    path, (long long)n_rows, folds);
  if (validation) {
    int64_t r0, n;
    ht_shard_range(flen, rank, size, &r0, &n);
    int64_t row0[1] = {f0 + r0}, count[1] = {n};
    return ht_dataset_read_ranges(ds, path, 1, row0, count, flen);
  }
  /* The other rows as one sequence of n_rows - flen rows: sequence index v is
   * file row v before the fold and v + flen after it. */
  int64_t m = n_rows - flen, v0, n;
  ht_shard_range(m, rank, size, &v0, &n);
  int64_t row0[2], count[2];
  int k = 0;
  if (v0 < f0) {
    row0[k] = v0;
    count[k++] = (v0 + n <= f0 ? n : f0 - v0);
  }
  int64_t done = k ? count[0] : 0;
  if (n - done > 0) {
    row0[k] = v0 + done + flen;
    count[k++] = n - done;
  }
  return ht_dataset_read_ranges(ds, path, k, row0, count, m);
}
