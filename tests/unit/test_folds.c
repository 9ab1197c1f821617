/* K-fold row selections (src/data/folds.c): for every K and rank count, the
 * validation shards of fold k cover exactly fold k's rows, every row is in
 * exactly one validation fold, and the training shards of fold k cover every
 * other row exactly once, with the right values and labels. */
#include "ht_test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hytrain/dataset.h"
#include "hytrain/error.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}
static int tmp_setup(void **state) {
  char *dir = malloc(512);
  if (!dir) return -1;
  ht_test_tmpdir(dir, 512);
  *state = dir;
  return 0;
}
static int tmp_teardown(void **state) {
  nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(*state);
  return 0;
}

/* N rows; feature 0 of row i is i (exact in float), label i % 3. */
static void write_rows(const char *path, int64_t n) {
  float *x = malloc(sizeof(float) * (size_t)n * 2);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  assert_non_null(x);
  assert_non_null(y);
  for (int64_t i = 0; i < n; i++) {
    x[2 * i] = (float)i;
    x[2 * i + 1] = -1.0f;
    y[i] = (int32_t)(i % 3);
  }
  ht_error_clear();
  if (ht_dataset_write(path, x, n, 2, y, 3, NULL, 0, "folds test", NULL) != 0) fail_msg("%s", ht_error_message());
  free(x);
  free(y);
}

/* Adds 1 to seen[row] for every row of every rank's shard; checks labels. */
static void gather(const char *path, int folds, int fold, int validation, int size, int64_t n, int *seen, int64_t *selected) {
  for (int r = 0; r < size; r++) {
    ht_dataset ds;
    ht_error_clear();
    if (ht_dataset_read_fold(&ds, path, folds, fold, validation, r, size) != 0) fail_msg("%s", ht_error_message());
    *selected = ds.n_total;
    for (int64_t i = 0; i < ds.n; i++) {
      int64_t row = (int64_t)ds.x[2 * i];
      assert_true(row >= 0 && row < n);
      assert_int_equal(ds.y[i], row % 3);
      seen[row]++;
    }
    ht_dataset_free(&ds);
  }
}

static void every_row_in_one_validation_fold(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/rows.h5", (const char *)*state);
  const int64_t n = 23;
  write_rows(path, n);
  int folds_list[] = {2, 3, 5, 7, 23};
  for (size_t fi = 0; fi < sizeof folds_list / sizeof folds_list[0]; fi++) {
    int K = folds_list[fi];
    for (int size = 1; size <= 4; size++) {
      int in_val[23] = {0};
      for (int k = 0; k < K; k++) {
        int val[23] = {0}, train[23] = {0};
        int64_t n_val = 0, n_train = 0, f0, flen;
        gather(path, K, k, 1, size, n, val, &n_val);
        gather(path, K, k, 0, size, n, train, &n_train);
        ht_shard_range(n, k, K, &f0, &flen);
        assert_int_equal(n_val, flen);
        assert_int_equal(n_train, n - flen);
        for (int64_t i = 0; i < n; i++) {
          int in_fold = i >= f0 && i < f0 + flen;
          /* Fold k's rows are validated once and never trained on. */
          if (val[i] != in_fold || train[i] != !in_fold)
            fail_msg("K=%d fold %d, %d ranks: row %lld validated %d times, trained %d times", K, k, size, (long long)i,
                     val[i], train[i]);
          in_val[i] += val[i];
        }
      }
      for (int64_t i = 0; i < n; i++)
        if (in_val[i] != 1) fail_msg("K=%d, %d ranks: row %lld is in %d validation folds", K, size, (long long)i, in_val[i]);
    }
  }
}

static void err_bad_folds(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/rows.h5", (const char *)*state);
  write_rows(path, 5);
  ht_dataset ds;
  memset(&ds, 0, sizeof ds);
  ht_error_clear();
  assert_int_equal(ht_dataset_read_fold(&ds, path, 6, 0, 1, 0, 1), HT_EDATA);
  assert_non_null(strstr(ht_error_message(), "5 rows cannot be split into 6 folds"));
  ht_error_clear();
  assert_int_equal(ht_dataset_read_fold(&ds, path, 3, 3, 1, 0, 1), HT_EINVAL);
  assert_non_null(strstr(ht_error_message(), "fold 3 of 3 folds does not exist"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(every_row_in_one_validation_fold, tmp_setup, tmp_teardown),
    cmocka_unit_test_setup_teardown(err_bad_folds, tmp_setup, tmp_teardown),
};
HT_TEST_MAIN("folds", tests)
