/*
 * The CSR stream loader (src/data/csr_loader.c, data.mode: stream for the
 * sparse engines). One process plays every rank: each case writes a CSR file
 * whose row i is a known function of i, and runs loaders on the shards of
 * 1, 2 and 3 ranks.
 *
 *  - every_row_once: for several chunk sizes, window sizes, with and without
 *    shuffling, over two epochs: the chunks have the promised sizes and
 *    positions, every row of the epoch's positions comes exactly once and
 *    from the rank's shard, with its own non-zeros and label, and the loader
 *    reads every shard row exactly once per epoch (rows_read); file order
 *    without shuffling, a different order each epoch with it;
 *  - full_window_is_memory_order: a window holding the whole shard visits
 *    the rows in memory mode's order (src/train/sparse_run.c);
 *  - restart_mid_epoch: start_epoch while chunks of an epoch are pending
 *    starts it over with the same chunks;
 *  - err_bad_value: a NaN in the file ends the epoch with one line naming
 *    the file, row and feature; err_file_changed: a file replaced by one of
 *    another size is refused at the next epoch.
 */
#include "ht_test.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/csr_loader.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"

#define D 52

static int nnz_of(int64_t i) { return (int)((i * 7) % 13); }
static int32_t feature_of(int64_t i, int k) { return (int32_t)(k * 4 + i % 4); }
static float value_of(int64_t i, int k) { return (float)i + 0.5f * (float)k; }

/* Writes n rows (3 classes, label i % 3) to dir/name. */
static void write_rows(const char *path, int64_t n) {
  int64_t *indptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
  int32_t *idx = malloc(sizeof(int32_t) * (size_t)n * 13), *y = malloc(sizeof(int32_t) * (size_t)n);
  float *val = malloc(sizeof(float) * (size_t)n * 13);
  indptr[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t at = indptr[i];
    for (int k = 0; k < nnz_of(i); k++) idx[at + k] = feature_of(i, k), val[at + k] = value_of(i, k);
    indptr[i + 1] = at + nnz_of(i);
    y[i] = (int32_t)(i % 3);
  }
  assert_int_equal(ht_csr_write(path, n, D, indptr, idx, val, y, 3, NULL, "test_csr_stream", NULL), 0);
  free(indptr);
  free(idx);
  free(val);
  free(y);
}

/* The loader of rank r of p on path. */
static ht_csr_loader *open_loader(const char *path, int r, int p, int64_t C, int K, int shuffle, int64_t epochs) {
  ht_csr hdr;
  assert_int_equal(ht_csr_probe(&hdr, path), 0);
  ht_shard_range(hdr.n_total, r, p, &hdr.row0, &hdr.n);
  ht_csr_loader_opts o = {.chunk_rows = C,
                          .window_chunks = K,
                          .prefetch = 2,
                          .shuffle = shuffle,
                          .seed = 42,
                          .rank = r,
                          .rows_per_epoch = hdr.n_total / p,
                          .epochs = epochs};
  ht_csr_loader *l = NULL;
  assert_int_equal(ht_csr_loader_create(&l, &hdr, &o), 0);
  return l;
}

/* Checks the chunk's rows against the file's rows. */
static void check_rows(const ht_csr_chunk *c) {
  const ht_csr *s = c->rows;
  for (int64_t i = 0; i < s->n; i++) {
    int64_t f = c->file_rows[i];
    assert_int_equal(s->indptr[i + 1] - s->indptr[i], nnz_of(f));
    for (int k = 0; k < nnz_of(f); k++) {
      assert_int_equal(s->indices[s->indptr[i] + k], feature_of(f, k));
      assert_true(s->values[s->indptr[i] + k] == value_of(f, k));
    }
    assert_int_equal(s->y[i], f % 3);
  }
}

/* Runs one epoch; order[pos] = file row at position pos (rows_per_epoch of them). */
static void run_epoch(ht_csr_loader *l, int64_t epoch, int64_t C, int64_t rows, int64_t row0, int64_t n, int64_t *order) {
  ht_csr_loader_start_epoch(l, epoch);
  int64_t chunks = (rows + C - 1) / C, pos = 0, read = 0;
  for (int64_t j = 0; j < chunks; j++) {
    ht_csr_chunk c;
    assert_int_equal(ht_csr_loader_next(l, &c), 0);
    assert_int_equal(c.epoch, epoch);
    assert_int_equal(c.index, j);
    assert_int_equal(c.pos0, pos);
    assert_int_equal(c.rows->n, j + 1 < chunks ? C : rows - pos);
    check_rows(&c);
    for (int64_t i = 0; i < c.rows->n; i++) {
      assert_true(c.file_rows[i] >= row0 && c.file_rows[i] < row0 + n);
      order[pos + i] = c.file_rows[i];
    }
    pos += c.rows->n;
    read += c.rows_read;
  }
  assert_int_equal(pos, rows);
  assert_int_equal(read, n); /* every row of the shard read once, also one past the cut */
  ht_csr_chunk extra;
  assert_int_equal(ht_csr_loader_next(l, &extra), HT_EINVAL);
  ht_error_clear();
}

static void every_row_once(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/x.h5", (const char *)*state);
  const int64_t N = 1003;
  write_rows(path, N);
  const int64_t sizes[][2] = {{7, 3}, {64, 1}, {100, 2}, {1000, 4}};
  for (int p = 1; p <= 3; p++)
    for (int r = 0; r < p; r++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shuffle = 0; shuffle <= 1; shuffle++) {
          int64_t row0, n, rows = N / p, C = sizes[s][0];
          ht_shard_range(N, r, p, &row0, &n);
          ht_csr_loader *l = open_loader(path, r, p, C, (int)sizes[s][1], shuffle, 2);
          int64_t *order[2];
          for (int e = 0; e < 2; e++) {
            order[e] = malloc(sizeof(int64_t) * (size_t)rows);
            run_epoch(l, e, C, rows, row0, n, order[e]);
            char *seen = calloc((size_t)n, 1);
            for (int64_t i = 0; i < rows; i++) assert_int_equal(seen[order[e][i] - row0]++, 0);
            free(seen);
            if (!shuffle)
              for (int64_t i = 0; i < rows; i++) assert_int_equal(order[e][i], row0 + i);
          }
          if (shuffle) assert_memory_not_equal(order[0], order[1], sizeof(int64_t) * (size_t)rows);
          free(order[0]);
          free(order[1]);
          ht_csr_loader_destroy(&l);
          assert_null(l);
        }
}

static void full_window_is_memory_order(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/x.h5", (const char *)*state);
  const int64_t N = 500;
  write_rows(path, N);
  for (int r = 0; r < 2; r++) {
    int64_t row0, n, rows = N / 2;
    ht_shard_range(N, r, 2, &row0, &n);
    ht_csr_loader *l = open_loader(path, r, 2, 30, 9, 1, 2); /* 9 x 30 >= 250 rows */
    int64_t *got = malloc(sizeof(int64_t) * (size_t)rows), *want = malloc(sizeof(int64_t) * (size_t)n);
    for (int e = 0; e < 2; e++) {
      run_epoch(l, e, 30, rows, row0, n, got);
      for (int64_t i = 0; i < n; i++) want[i] = i;
      ht_rng g;
      ht_rng_seed(&g, ht_rng_mix(42, (uint64_t)e, (uint64_t)r));
      ht_rng_shuffle_i64(&g, want, n);
      for (int64_t i = 0; i < rows; i++) assert_int_equal(got[i], row0 + want[i]);
    }
    free(got);
    free(want);
    ht_csr_loader_destroy(&l);
  }
}

static void restart_mid_epoch(void **state) {
  char path[600];
  snprintf(path, sizeof path, "%s/x.h5", (const char *)*state);
  write_rows(path, 400);
  ht_csr_loader *l = open_loader(path, 0, 1, 25, 2, 1, 3);
  int64_t first[50];
  ht_csr_loader_start_epoch(l, 1);
  for (int j = 0; j < 2; j++) {
    ht_csr_chunk c;
    assert_int_equal(ht_csr_loader_next(l, &c), 0);
    memcpy(first + 25 * j, c.file_rows, sizeof(int64_t) * 25);
  }
  int64_t order[400];
  run_epoch(l, 1, 25, 400, 0, 400, order); /* starts epoch 1 over */
  assert_memory_equal(order, first, sizeof first);
  run_epoch(l, 0, 25, 400, 0, 400, order); /* back to an earlier epoch */
  run_epoch(l, 2, 25, 400, 0, 400, order);
  ht_csr_loader_destroy(&l);
}

static void err_bad_value(void **state) {
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", (const char *)*state);
  write_rows(path, 300);
  /* Row 201 (7 * 201 % 13 = 3 non-zeros): its second value becomes NaN. */
  int64_t at = 0;
  for (int64_t i = 0; i < 201; i++) at += nnz_of(i);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), ds = H5Dopen2(f, "csr/values", H5P_DEFAULT);
  hid_t fs = H5Dget_space(ds);
  hsize_t start = (hsize_t)at + 1, one = 1;
  hid_t ms = H5Screate_simple(1, &one, NULL);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL);
  float nan = NAN;
  assert_true(H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, &nan) >= 0);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(ds);
  H5Fclose(f);
  ht_csr_loader *l = open_loader(path, 0, 1, 50, 1, 0, 1);
  ht_csr_loader_start_epoch(l, 0);
  ht_csr_chunk c;
  for (int j = 0; j < 4; j++) assert_int_equal(ht_csr_loader_next(l, &c), 0); /* rows 0 .. 199 */
  assert_int_equal(ht_csr_loader_next(l, &c), HT_EDATA);
  snprintf(want, sizeof want, "%s: row 201, feature %d: value is NaN", path, (int)feature_of(201, 1));
  assert_string_equal(ht_error_message(), want);
  ht_csr_loader_destroy(&l);
}

static void err_file_changed(void **state) {
  char path[600], want[900];
  snprintf(path, sizeof path, "%s/x.h5", (const char *)*state);
  write_rows(path, 300);
  ht_csr_loader *l = open_loader(path, 0, 1, 100, 1, 0, 2);
  int64_t order[300];
  run_epoch(l, 0, 100, 300, 0, 300, order);
  /* The loader may already be reading epoch 1: restart it after the swap. */
  write_rows(path, 299);
  ht_csr_loader_start_epoch(l, 0);
  ht_csr_loader_start_epoch(l, 1);
  ht_csr_chunk c;
  assert_int_equal(ht_csr_loader_next(l, &c), HT_EDATA);
  snprintf(want, sizeof want, "%s: the file changed while training: now 299 rows", path);
  assert_memory_equal(ht_error_message(), want, strlen(want));
  ht_csr_loader_destroy(&l);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(every_row_once, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(full_window_is_memory_order, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(restart_mid_epoch, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_bad_value, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_file_changed, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
};

HT_TEST_MAIN("csr_stream", tests)
