/* Dataset files: sharding, probe/read, read errors, atomic write, normalisation. */
#include "ht_test.h"

#include "core/h5num.h"
#include "hytrain/csr.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */


static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Feature (i, j) of the generated datasets: unique per cell, exact in float. */
static float feat(int64_t i, int j) { return (float)(i * 10 + j) + 0.25f; }

/* Writes an N x D classification dataset with label i % k. */
static void write_classify(const char *path, int64_t n, int d, int k) {
  float *x = malloc(sizeof(float) * (size_t)(n * d));
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  double *values = malloc(sizeof(double) * (size_t)k);
  assert_non_null(x);
  assert_non_null(y);
  assert_non_null(values);
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++) x[i * d + j] = feat(i, j);
    y[i] = (int32_t)(i % k);
  }
  for (int c = 0; c < k; c++) values[c] = 100.0 + c;
  ht_error_clear();
  int rc = ht_dataset_write(path, x, n, d, y, k, NULL, 0, "unit test", values);
  if (rc != 0) fail_msg("ht_dataset_write: %s", ht_error_message());
  free(x);
  free(y);
  free(values);
}

static void h5_dset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, hid_t mem_type, const void *buf) {
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dset = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(dset >= 0);
  assert_true(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  H5Dclose(dset);
  H5Sclose(space);
}

static void h5_attr_int(hid_t file, const char *name, int v) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(file, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(attr >= 0);
  assert_true(H5Awrite(attr, H5T_NATIVE_INT, &v) >= 0);
  H5Aclose(attr);
  H5Sclose(space);
}

/* Builds a file by hand: /features float32 [n, d] = feat(i, j) (frank 3 makes
 * it [n, d, 1]; skip_features leaves it out), and /labels of label_type with
 * the given rank and row count (label_rows 0: no /labels). num_classes < 0
 * leaves the attribute out. */
typedef struct hand_file {
  int64_t n;
  int d;
  int frank;
  int skip_features;
  hid_t label_type;
  int label_rank;
  int64_t label_rows;
  int label_cols;
  int num_classes;
} hand_file;

static void write_by_hand(const char *path, const hand_file *h) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(file >= 0);
  if (!h->skip_features) {
    float *x = malloc(sizeof(float) * (size_t)(h->n * h->d));
    for (int64_t i = 0; i < h->n; i++)
      for (int j = 0; j < h->d; j++) x[i * h->d + j] = feat(i, j);
    hsize_t dims[3] = {(hsize_t)h->n, (hsize_t)h->d, 1};
    h5_dset(file, "features", H5T_IEEE_F32LE, h->frank ? h->frank : 2, dims, H5T_NATIVE_FLOAT, x);
    free(x);
  }
  if (h->label_rows > 0) {
    int cols = h->label_cols > 0 ? h->label_cols : 1;
    double *y = malloc(sizeof(double) * (size_t)(h->label_rows * cols));
    for (int64_t i = 0; i < h->label_rows * cols; i++) y[i] = (double)(i % 3) + (H5Tget_class(h->label_type) == H5T_FLOAT ? 0.5 : 0);
    hsize_t dims[2] = {(hsize_t)h->label_rows, (hsize_t)cols};
    h5_dset(file, "labels", h->label_type, h->label_rank, dims, H5T_NATIVE_DOUBLE, y);
    free(y);
  }
  if (h->num_classes >= 0) h5_attr_int(file, "num_classes", h->num_classes);
  H5Fclose(file);
}

static hand_file good_hand(void) {
  return (hand_file){.n = 6, .d = 2, .label_type = H5T_STD_I32LE, .label_rank = 1, .label_rows = 6, .num_classes = 3};
}

/* Asserts that reading path fails with code and exactly the message expect. */
static void expect_read_error(const char *path, int code, const char *expect) {
  ht_dataset ds;
  ht_error_clear();
  int rc = ht_dataset_read_shard(&ds, path, 0, 1);
  if (rc != code || strcmp(ht_error_message(), expect) != 0)
    fail_msg("rc %d (want %d), message '%s'\n  want '%s'", rc, code, ht_error_message(), expect);
  assert_null(ds.x);
  assert_null(ds.y);
}

/* Overwrites one element of a dataset in an existing file. */
static void poke_float(const char *path, const char *name, int64_t row, int col, float v) {
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
  hid_t fspace = H5Dget_space(dset);
  hsize_t start[2] = {(hsize_t)row, (hsize_t)col}, one[2] = {1, 1};
  assert_true(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, one, NULL) >= 0);
  hid_t mspace = H5Screate_simple(2, one, NULL);
  assert_true(H5Dwrite(dset, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, &v) >= 0);
  H5Sclose(mspace);
  H5Sclose(fspace);
  H5Dclose(dset);
  H5Fclose(file);
}

/* ---- sharding ----------------------------------------------------------- */

static void shard_range_covers_rows(void **state) {
  const int64_t sizes[] = {0, 1, 5, 7, 100, 103};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int p = 1; p <= 8; p++) {
      int64_t n = sizes[s], next = 0;
      for (int r = 0; r < p; r++) {
        int64_t row0, count;
        ht_shard_range(n, r, p, &row0, &count);
        assert_int_equal(row0, next);                              /* contiguous, in rank order */
        assert_int_equal(count, n / p + (r < n % p ? 1 : 0));      /* remainder to the first ranks */
        next = row0 + count;
      }
      assert_int_equal(next, n); /* every row exactly once */
    }
  int64_t row0, count;
  ht_shard_range(10, 3, 4, &row0, &count);
  assert_int_equal(row0, 8);
  assert_int_equal(count, 2);
}

/* ---- reading ------------------------------------------------------------ */

static void write_then_probe(void **state) {
  const char *dir = *state;
  char path[600], partial[700];
  snprintf(path, sizeof path, "%s/c.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  write_classify(path, 11, 3, 4);
  assert_false(file_exists(partial));

  ht_dataset ds;
  ht_error_clear();
  assert_int_equal(ht_dataset_probe(&ds, path), 0);
  assert_string_equal(ds.path, path);
  assert_int_equal(ds.n_total, 11);
  assert_int_equal(ds.d, 3);
  assert_int_equal(ds.task, HT_TASK_CLASSIFY);
  assert_int_equal(ds.num_classes, 4);
  assert_int_equal(ds.t, 1);
  assert_null(ds.x);
  assert_null(ds.y);

  /* The attributes and chunking promised by docs/data-format.md. */
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(file >= 0);
  double values[4];
  hid_t attr = H5Aopen(file, "label_values", H5P_DEFAULT);
  assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, values) >= 0);
  H5Aclose(attr);
  for (int c = 0; c < 4; c++) ht_assert_close(values[c], 100.0 + c, 0, 0);
  char *source = NULL;
  attr = H5Aopen(file, "source", H5P_DEFAULT);
  hid_t type = H5Aget_type(attr);
  assert_true(H5Tis_variable_str(type) > 0);
  assert_true(H5Aread(attr, type, &source) >= 0);
  assert_string_equal(source, "unit test");
  H5free_memory(source);
  H5Tclose(type);
  H5Aclose(attr);
  hid_t dset = H5Dopen2(file, "features", H5P_DEFAULT);
  hid_t dcpl = H5Dget_create_plist(dset);
  hsize_t chunk[2] = {0, 0};
  assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
  assert_int_equal(H5Pget_chunk(dcpl, 2, chunk), 2);
  assert_int_equal(chunk[0], 11); /* min(N, 1 MiB / row) rows */
  assert_int_equal(chunk[1], 3);
  H5Pclose(dcpl);
  H5Dclose(dset);
  H5Fclose(file);
}

static void read_shards_values(void **state) {
  const char *dir = *state;
  char path[600];
  snprintf(path, sizeof path, "%s/c.h5", dir);
  const int64_t n = 11;
  write_classify(path, n, 3, 4);
  for (int p = 1; p <= 4; p++) {
    int64_t next = 0;
    for (int r = 0; r < p; r++) {
      ht_dataset ds;
      ht_error_clear();
      if (ht_dataset_read_shard(&ds, path, r, p) != 0) fail_msg("%s", ht_error_message());
      int64_t row0, count;
      ht_shard_range(n, r, p, &row0, &count);
      assert_int_equal(ds.row0, row0);
      assert_int_equal(ds.n, count);
      assert_int_equal(ds.row0, next);
      assert_int_equal(ds.n_total, n);
      assert_null(ds.yt);
      for (int64_t i = 0; i < ds.n; i++) {
        for (int j = 0; j < 3; j++) ht_assert_close(ds.x[i * 3 + j], feat(ds.row0 + i, j), 0, 0);
        assert_int_equal(ds.y[i], (ds.row0 + i) % 4);
      }
      next += ds.n;
      ht_dataset_free(&ds);
      assert_null(ds.x);
      assert_int_equal(ds.n, 0);
    }
    assert_int_equal(next, n);
  }
}

static void read_regression_targets(void **state) {
  const char *dir = *state;
  char path[600];
  snprintf(path, sizeof path, "%s/r.h5", dir);
  const int64_t n = 7;
  float x[7 * 2], yt[7 * 2];
  for (int i = 0; i < n * 2; i++) {
    x[i] = (float)i;
    yt[i] = -0.5f * (float)i;
  }
  ht_error_clear();
  assert_int_equal(ht_dataset_write(path, x, n, 2, NULL, 0, yt, 2, "reg", NULL), 0);
  ht_dataset ds;
  assert_int_equal(ht_dataset_read_shard(&ds, path, 1, 2), 0);
  assert_int_equal(ds.task, HT_TASK_REGRESS);
  assert_int_equal(ds.num_classes, 0);
  assert_int_equal(ds.t, 2);
  assert_null(ds.y);
  assert_int_equal(ds.row0, 4);
  assert_int_equal(ds.n, 3);
  for (int i = 0; i < 3 * 2; i++) {
    ht_assert_close(ds.x[i], (float)(8 + i), 0, 0);
    ht_assert_close(ds.yt[i], -0.5f * (float)(8 + i), 0, 0);
  }
  ht_dataset_free(&ds);

  /* A 1-D float /labels is one target; no num_classes attribute needed. */
  hand_file h = good_hand();
  h.label_type = H5T_IEEE_F64LE;
  h.num_classes = -1;
  snprintf(path, sizeof path, "%s/r1.h5", dir);
  write_by_hand(path, &h);
  assert_int_equal(ht_dataset_read_shard(&ds, path, 0, 1), 0);
  assert_int_equal(ds.task, HT_TASK_REGRESS);
  assert_int_equal(ds.t, 1);
  for (int i = 0; i < 6; i++) ht_assert_close(ds.yt[i], (i % 3) + 0.5, 0, 0);
  ht_dataset_free(&ds);
}

static void read_uint8_labels(void **state) {
  const char *dir = *state;
  char path[600];
  snprintf(path, sizeof path, "%s/u8.h5", dir);
  hand_file h = good_hand();
  h.label_type = H5T_STD_U8LE;
  write_by_hand(path, &h);
  ht_dataset ds;
  ht_error_clear();
  if (ht_dataset_read_shard(&ds, path, 0, 1) != 0) fail_msg("%s", ht_error_message());
  assert_int_equal(ds.task, HT_TASK_CLASSIFY);
  assert_int_equal(ds.num_classes, 3);
  for (int i = 0; i < 6; i++) assert_int_equal(ds.y[i], i % 3);
  ht_dataset_free(&ds);
}

/* Writes /features [n, d] = feat(i, j) stored as ftype and /labels [n] = i % 3
 * stored as ltype, num_classes 3, by hand. */
static void write_typed(const char *path, int64_t n, int d, hid_t ftype, hid_t ltype) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(file >= 0);
  double *x = malloc(sizeof(double) * (size_t)(n * d));
  int64_t *y = malloc(sizeof(int64_t) * (size_t)n);
  assert_non_null(x);
  assert_non_null(y);
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++) x[i * d + j] = feat(i, j);
    y[i] = i % 3;
  }
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
  h5_dset(file, "features", ftype, 2, dims, H5T_NATIVE_DOUBLE, x);
  h5_dset(file, "labels", ltype, 1, dims, H5T_NATIVE_INT64, y);
  h5_attr_int(file, "num_classes", 3);
  H5Fclose(file);
  free(x);
  free(y);
}

/* The documented wider types (any IEEE float features, any integer labels,
 * either byte order) are read in the file's type and converted by hytrain,
 * also across the 4 MiB conversion pieces (case 0: 300000 rows of 2 float64
 * read as one shard, two pieces; the others as either half of 2 ranks). */
static void read_converted_types(void **state) {
  const char *dir = *state;
  char path[600];
  struct {
    hid_t ftype, ltype;
    int64_t n;
  } cases[] = {{H5T_IEEE_F64LE, H5T_STD_I64LE, 300000},
               {H5T_IEEE_F64BE, H5T_STD_I64BE, 7},
               {H5T_IEEE_F32BE, H5T_STD_U16BE, 7},
               {H5T_IEEE_F32LE, H5T_STD_I8LE, 7}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    snprintf(path, sizeof path, "%s/t%zu.h5", dir, c);
    write_typed(path, cases[c].n, 2, cases[c].ftype, cases[c].ltype);
    ht_dataset ds;
    ht_error_clear();
    if (ht_dataset_read_shard(&ds, path, (int)(c % 2), 2 - (int)(c == 0)) != 0) fail_msg("case %zu: %s", c, ht_error_message());
    assert_int_equal(ds.task, HT_TASK_CLASSIFY);
    assert_int_equal(ds.num_classes, 3);
    for (int64_t i = 0; i < ds.n; i++) {
      int64_t row = ds.row0 + i;
      if (ds.x[i * 2] != feat(row, 0) || ds.x[i * 2 + 1] != feat(row, 1) || ds.y[i] != row % 3)
        fail_msg("case %zu, row %lld: %g %g %d", c, (long long)row, ds.x[i * 2], ds.x[i * 2 + 1], (int)ds.y[i]);
    }
    ht_dataset_free(&ds);
  }
}

/* A 2-byte float with exactly the properties of IEEE half except those
 * changed by the arguments (h5py's numpy float16 is (127 - 112, 10)). */
static hid_t half_like(int big_endian, size_t ebias, size_t msize) {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  assert_true(t >= 0);
  assert_true(H5Tset_fields(t, 15, msize, 15 - msize, 0, msize) >= 0);
  assert_true(H5Tset_precision(t, 16) >= 0);
  assert_true(H5Tset_size(t, 2) >= 0);
  assert_true(H5Tset_ebias(t, ebias) >= 0);
  if (big_endian) assert_true(H5Tset_order(t, H5T_ORDER_BE) >= 0);
  return t;
}

/* A float or integer of a non-standard layout is refused before any read:
 * HDF5 1.10's own conversion of such types overflowed its buffers on a
 * damaged file (tests/fuzz/crashes/h5/h5dread_tconv_overflow). IEEE half is
 * read (read_half_*), but not a 2-byte float of another layout. */
static void err_nonstandard_types(void **state) {
  const char *dir = *state;
  char path[600], want[1400];
  /* bfloat16 (8 exponent bits), and a half whose exponent bias is not 15. */
  hid_t odd[2] = {half_like(0, 127, 7), half_like(0, 14, 10)};
  for (int k = 0; k < 2; k++) {
    snprintf(path, sizeof path, "%s/half%d.h5", dir, k);
    write_typed(path, 4, 2, odd[k], H5T_STD_I32LE);
    snprintf(want, sizeof want,
             "%s: /features must be 2-D float32 [N, D], found 2-D float of 2 bytes (not IEEE float16/float32/float64)", path);
    expect_read_error(path, HT_EDATA, want);
    H5Tclose(odd[k]);
  }
  /* A 24-bit integer for the labels. */
  hid_t i24 = H5Tcopy(H5T_STD_I32LE);
  assert_true(H5Tset_precision(i24, 24) >= 0);
  assert_true(H5Tset_size(i24, 3) >= 0);
  snprintf(path, sizeof path, "%s/i24.h5", dir);
  write_typed(path, 4, 2, H5T_IEEE_F32LE, i24);
  snprintf(want, sizeof want,
           "%s: /labels must be int32 [N] (classes) or float32 [N] or [N, T] (targets), found 1-D integer of 3 bytes "
           "(not a standard 8- to 64-bit integer)", path);
  expect_read_error(path, HT_EDATA, want);
  H5Tclose(i24);
}

/* ---- IEEE half (float16) ------------------------------------------------ */

/* Halves and the floats they stand for, written out independently of the
 * reader's conversion: both zeros, subnormals (the smallest, the largest,
 * a negative one), the smallest normal, ordinary values and +-65504, the
 * largest finite half. */
static const struct {
  uint16_t h;
  float f;
} halves[] = {{0x0000, 0.0f},   {0x8000, -0.0f},       {0x0001, 0x1p-24f}, {0x8200, -0x1p-15f},
              {0x03ff, 0x1.ff8p-15f}, {0x0400, 0x1p-14f}, {0x3c00, 1.0f},    {0xc000, -2.0f},
              {0x3555, 0x1.554p-2f},  {0x3e00, 1.5f},     {0x7bff, 65504.0f}, {0xfbff, -65504.0f}};
#define NHALVES (sizeof halves / sizeof halves[0])

/* Writes n x d half features x (values, in row-major order) and either int32
 * labels i % 3 or, when t (n x 1 halves) is given, half regression targets.
 * The bytes are laid out in the file's order here and written with the
 * file's own type, so HDF5 converts nothing on the way in either. */
static void write_half(const char *path, int big_endian, int64_t n, int d, const uint16_t *x, const uint16_t *t) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(file >= 0);
  hid_t half = half_like(big_endian, 15, 10);
  unsigned char *bytes = malloc(2 * (size_t)(n * d));
  assert_non_null(bytes);
  for (int pass = 0; pass < (t ? 2 : 1); pass++) {
    const uint16_t *v = pass ? t : x;
    int64_t count = pass ? n : n * d;
    for (int64_t k = 0; k < count; k++) {
      bytes[2 * k + (big_endian ? 1 : 0)] = (unsigned char)(v[k] & 0xff);
      bytes[2 * k + (big_endian ? 0 : 1)] = (unsigned char)(v[k] >> 8);
    }
    hsize_t dims[2] = {(hsize_t)n, pass ? 1 : (hsize_t)d};
    h5_dset(file, pass ? "labels" : "features", half, 2, dims, half, bytes);
  }
  if (!t) {
    int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
    assert_non_null(y);
    for (int64_t i = 0; i < n; i++) y[i] = (int32_t)(i % 3);
    hsize_t dims[1] = {(hsize_t)n};
    h5_dset(file, "labels", H5T_STD_I32LE, 1, dims, H5T_NATIVE_INT32, y);
    h5_attr_int(file, "num_classes", 3);
    free(y);
  }
  free(bytes);
  H5Tclose(half);
  H5Fclose(file);
}

/* Asserts that got[k] is bit for bit want (so -0 differs from +0). */
static void expect_bits(const char *what, int64_t k, float got, float want) {
  if (memcmp(&got, &want, sizeof got) != 0) fail_msg("%s %lld: got %a, want %a", what, (long long)k, got, want);
}

/* Half features (and half targets) in either byte order read as the exact
 * floats, for a whole file and for each half of 2 ranks. */
static void read_half_features(void **state) {
  const char *dir = *state;
  char path[600];
  const int64_t n = 6;
  const int d = (int)(NHALVES / 6);
  uint16_t x[NHALVES], t[6];
  for (size_t k = 0; k < NHALVES; k++) x[k] = halves[k].h;
  for (int64_t i = 0; i < n; i++) t[i] = halves[NHALVES - 1 - (size_t)i].h;
  for (int be = 0; be < 2; be++)
    for (int regress = 0; regress < 2; regress++) {
      snprintf(path, sizeof path, "%s/half_%s_%d.h5", dir, be ? "be" : "le", regress);
      write_half(path, be, n, d, x, regress ? t : NULL);
      for (int size = 1; size <= 2; size++)
        for (int rank = 0; rank < size; rank++) {
          ht_dataset ds;
          ht_error_clear();
          if (ht_dataset_read_shard(&ds, path, rank, size) != 0) fail_msg("%s: %s", path, ht_error_message());
          assert_int_equal(ds.d, d);
          assert_int_equal(ds.task, regress ? HT_TASK_REGRESS : HT_TASK_CLASSIFY);
          for (int64_t k = 0; k < ds.n * d; k++) expect_bits(path, ds.row0 * d + k, ds.x[k], halves[ds.row0 * d + k].f);
          for (int64_t i = 0; i < ds.n; i++) {
            if (regress)
              expect_bits("target", ds.row0 + i, ds.yt[i], halves[NHALVES - 1 - (size_t)(ds.row0 + i)].f);
            else
              assert_int_equal(ds.y[i], (ds.row0 + i) % 3);
          }
          ht_dataset_free(&ds);
        }
    }
}

/* Half infinities and NaNs become float ones, which the finite checks
 * catch with the row and column, as for float32 files. */
static void err_half_nonfinite(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/h.h5", dir);
  uint16_t x[12], t[6];
  for (int k = 0; k < 12; k++) x[k] = 0x3c00; /* 1.0 */
  for (int k = 0; k < 6; k++) t[k] = 0x3c00;
  const struct {
    int be, col;
    int64_t row;
    uint16_t h;
    const char *name;
  } cases[] = {{0, 1, 4, 0x7e00, "NaN"}, {1, 0, 2, 0xfc00, "-inf"}, {0, 0, 5, 0x7c01, "NaN"}, {1, 1, 0, 0x7c00, "inf"}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    x[cases[c].row * 2 + cases[c].col] = cases[c].h;
    write_half(path, cases[c].be, 6, 2, x, NULL);
    snprintf(want, sizeof want, "%s: row %lld, column %d: feature is %s", path, (long long)cases[c].row, cases[c].col,
             cases[c].name);
    expect_read_error(path, HT_EDATA, want);
    x[cases[c].row * 2 + cases[c].col] = 0x3c00;
  }
  t[3] = 0xfe00; /* a negative NaN */
  write_half(path, 1, 6, 2, x, t);
  snprintf(want, sizeof want, "%s: row 3, column 0: target is NaN", path);
  expect_read_error(path, HT_EDATA, want);
}

/* Checkpoints keep their exact types: where float32 is expected, a half
 * is refused by name, as float64 is. */
static void err_half_exact(void **state) {
  (void)state;
  hid_t half = half_like(0, 15, 10);
  ht_h5num src;
  ht_error_clear();
  assert_int_equal(ht__h5num_check(half, HT_H5NUM_FLOAT, HT_H5NUM_EXACT, &src, "ck.h5:/preprocess/mean"), HT_EDATA);
  assert_string_equal(ht_error_message(), "ck.h5:/preprocess/mean: stored as float16, expected float32");
  assert_int_equal(ht__h5num_identify(half, &src), -1);
  assert_int_equal(ht__h5num_identify_data(half, &src), 0);
  assert_int_equal(src.size, 2);
  ht_error_clear();
  assert_int_equal(ht__h5num_check(half, HT_H5NUM_FLOAT, HT_H5NUM_SAME_CLASS, &src, "x"), 0);
  assert_int_equal(ht__h5num_check(half, HT_H5NUM_INT64, HT_H5NUM_SAME_CLASS, &src, "x.h5: num_features"), HT_EDATA);
  assert_string_equal(ht_error_message(), "x.h5: num_features: stored as float16, expected an integer type (8 to 64 bits)");
  H5Tclose(half);
}

/* Files written by h5py from numpy float16 arrays (either byte order),
 * dense and CSR, read as the exact floats. */
static void read_h5py_float16(void **state) {
  const char *dir = *state;
  char script[600], cmd[1400], path[600];
  snprintf(script, sizeof script, "%s/mk.py", dir);
  ht_test_write_file(script,
                     "import sys, h5py, numpy as np\n"
                     "d = sys.argv[1]\n"
                     "v = [0.25, -1.5, 2.0**-24, -0.0, 65504.0, 0.333251953125, -2.0**-14, 1023 * 2.0**-24]\n"
                     "for order in '<>':\n"
                     "    with h5py.File(d + '/np%s.h5' % ('le' if order == '<' else 'be'), 'w') as f:\n"
                     "        f['features'] = np.array(v, dtype=order + 'f2').reshape(4, 2)\n"
                     "        f['labels'] = np.array([1.0, -0.5, 3.0, 2.0**-20], dtype=order + 'f2')\n"
                     "with h5py.File(d + '/npcsr.h5', 'w') as f:\n"
                     "    f['csr/indptr'] = np.array([0, 3, 3, 5, 8], dtype=np.int64)\n"
                     "    f['csr/indices'] = np.array([0, 2, 5, 1, 4, 0, 3, 6], dtype=np.int32)\n"
                     "    f['csr/values'] = np.array(v, dtype='<f2')\n"
                     "    f['labels'] = np.array([0, 1, 1, 0], dtype=np.int32)\n"
                     "    f.attrs['num_features'] = np.int64(7)\n"
                     "    f.attrs['num_classes'] = np.int32(2)\n");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", script, dir);
  assert_int_equal(system(cmd), 0);
  const float v[8] = {0.25f, -1.5f, 0x1p-24f, -0.0f, 65504.0f, 0x1.554p-2f, -0x1p-14f, 0x1.ff8p-15f};
  const float t[4] = {1.0f, -0.5f, 3.0f, 0x1p-20f};
  for (int be = 0; be < 2; be++) {
    snprintf(path, sizeof path, "%s/np%s.h5", dir, be ? "be" : "le");
    ht_dataset ds;
    ht_error_clear();
    if (ht_dataset_read_shard(&ds, path, 0, 1) != 0) fail_msg("%s: %s", path, ht_error_message());
    assert_int_equal(ds.n, 4);
    assert_int_equal(ds.d, 2);
    assert_int_equal(ds.task, HT_TASK_REGRESS);
    for (int k = 0; k < 8; k++) expect_bits(path, k, ds.x[k], v[k]);
    for (int i = 0; i < 4; i++) expect_bits("target", i, ds.yt[i], t[i]);
    ht_dataset_free(&ds);
  }
  snprintf(path, sizeof path, "%s/npcsr.h5", dir);
  for (int rank = 0; rank < 2; rank++) {
    ht_csr c;
    ht_error_clear();
    if (ht_csr_read_shard(&c, path, rank, 2) != 0) fail_msg("%s: %s", path, ht_error_message());
    int64_t base = rank ? 3 : 0; /* rows 0-1 hold entries 0..2, rows 2-3 entries 3..7 */
    for (int64_t k = 0; k < c.indptr[c.n]; k++) expect_bits("csr value", base + k, c.values[k], v[base + k]);
    assert_int_equal(c.indptr[c.n], rank ? 5 : 3);
    ht_csr_free(&c);
  }
}

static void read_empty_shard(void **state) {
  const char *dir = *state;
  char path[600];
  snprintf(path, sizeof path, "%s/c.h5", dir);
  write_classify(path, 3, 2, 2);
  int64_t total = 0;
  for (int r = 0; r < 5; r++) {
    ht_dataset ds;
    assert_int_equal(ht_dataset_read_shard(&ds, path, r, 5), 0);
    assert_int_equal(ds.n, r < 3 ? 1 : 0);
    assert_int_equal(ds.row0, r < 3 ? r : 3);
    assert_non_null(ds.x); /* buffers exist even for an empty shard */
    total += ds.n;
    ht_dataset_free(&ds);
  }
  assert_int_equal(total, 3);
  ht_dataset ds;
  ht_error_clear();
  assert_int_equal(ht_dataset_read_shard(&ds, path, 5, 5), HT_EINVAL);
}

/* ---- read errors -------------------------------------------------------- */

static void err_missing_file(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/nope.h5", dir);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
  expect_read_error(path, HT_ENOENT, want);
  ht_dataset ds;
  ht_error_clear();
  assert_int_equal(ht_dataset_probe(&ds, path), HT_ENOENT);
  assert_string_equal(ht_error_message(), want);
}

static void err_not_hdf5(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  ht_test_write_file(path, "1,2,3\n4,5,6\n");
  snprintf(want, sizeof want, "%s: not an HDF5 file", path);
  expect_read_error(path, HT_EDATA, want);
}

static void err_features_missing(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.skip_features = 1;
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: /features is missing", path);
  expect_read_error(path, HT_EDATA, want);
}

static void err_features_3d(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.frank = 3;
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: /features must be 2-D float32 [N, D], found 3-D float32", path);
  expect_read_error(path, HT_ESHAPE, want);
}

static void err_labels_missing_and_bad(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.label_rows = 0;
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: /labels is missing", path);
  expect_read_error(path, HT_EDATA, want);

  h = good_hand();
  h.label_rank = 2;
  h.label_cols = 2;
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: /labels must be int32 [N] (classes) or float32 [N] or [N, T] (targets), found 2-D int32", path);
  expect_read_error(path, HT_EDATA, want);
}

static void err_rows_mismatch(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.n = 99;
  h.label_rows = 100;
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: /labels has 100 rows but /features has 99", path);
  expect_read_error(path, HT_ESHAPE, want);
}

/* No num_classes attribute: the classes are the largest label of the whole
 * file + 1, also on a rank whose shard lacks that label; a negative label is
 * an error naming its row. */
static void num_classes_inferred(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.num_classes = -1;
  h.n = h.label_rows = 4; /* labels 0 1 2 0: rank 0 of 2 holds 0 1 */
  write_by_hand(path, &h);
  ht_dataset ds;
  assert_int_equal(ht_dataset_read_shard(&ds, path, 0, 2), 0);
  assert_int_equal(ds.n, 2);
  assert_int_equal(ds.num_classes, 3);
  assert_int_equal(ds.classes_inferred, 1);
  ht_dataset_free(&ds);
  assert_int_equal(ht_dataset_probe(&ds, path), 0);
  assert_int_equal(ds.num_classes, 3);
  /* With the attribute nothing is inferred. */
  h.num_classes = 7;
  write_by_hand(path, &h);
  assert_int_equal(ht_dataset_probe(&ds, path), 0);
  assert_int_equal(ds.num_classes, 7);
  assert_int_equal(ds.classes_inferred, 0);
  h.num_classes = -1;
  write_by_hand(path, &h);
  poke_float(path, "labels", 2, 0, -1.0f);
  snprintf(want, sizeof want,
           "%s: row 2: label -1 is negative (classes are 0, 1, ...; the file has no num_classes attribute, so hytrain "
           "infers the classes from the labels)",
           path);
  expect_read_error(path, HT_EDATA, want);
}

static void err_label_out_of_range(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.n = h.label_rows = 30; /* labels i % 3 */
  h.num_classes = 2;       /* so row 2 (label 2) is the first bad one */
  write_by_hand(path, &h);
  snprintf(want, sizeof want, "%s: row 2: label 2 out of range [0, 2)", path);
  expect_read_error(path, HT_EDATA, want);

  /* Row numbers are global: the shard of rank 1 of 2 starts at row 15,
   * whose label is 0; its first bad row is 17. */
  ht_dataset ds;
  ht_error_clear();
  assert_int_equal(ht_dataset_read_shard(&ds, path, 1, 2), HT_EDATA);
  snprintf(want, sizeof want, "%s: row 17: label 2 out of range [0, 2)", path);
  assert_string_equal(ht_error_message(), want);
}

static void err_feature_nan_inf(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  hand_file h = good_hand();
  h.d = 7;
  write_by_hand(path, &h);
  poke_float(path, "features", 3, 5, NAN);
  snprintf(want, sizeof want, "%s: row 3, column 5: feature is NaN", path);
  expect_read_error(path, HT_EDATA, want);

  write_by_hand(path, &h);
  poke_float(path, "features", 4, 0, -INFINITY);
  snprintf(want, sizeof want, "%s: row 4, column 0: feature is -inf", path);
  expect_read_error(path, HT_EDATA, want);

  /* Rank 0 of 2 reads rows 0..2 only, so row 4 does not concern it. */
  ht_dataset ds;
  assert_int_equal(ht_dataset_read_shard(&ds, path, 0, 2), 0);
  ht_dataset_free(&ds);
}

static void err_target_nan(void **state) {
  const char *dir = *state;
  char path[600], want[800];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  float x[4] = {1, 2, 3, 4}, yt[4] = {1, 2, 3, 4};
  assert_int_equal(ht_dataset_write(path, x, 4, 1, NULL, 0, yt, 1, "t", NULL), 0);
  poke_float(path, "labels", 2, 0, INFINITY);
  snprintf(want, sizeof want, "%s: row 2, column 0: target is inf", path);
  expect_read_error(path, HT_EDATA, want);
}

/* ---- writing ------------------------------------------------------------ */

static void write_failures_leave_nothing(void **state) {
  const char *dir = *state;
  char path[600], partial[700], want[800];
  float x[6] = {1, 2, 3, 4, 5, 6};
  int32_t y[3] = {0, 1, 5};

  /* Missing directory. */
  snprintf(path, sizeof path, "%s/no/such/dir/x.h5", dir);
  ht_error_clear();
  assert_int_equal(ht_dataset_write(path, x, 3, 2, y, 6, NULL, 0, "t", NULL), HT_ENOENT);
  snprintf(want, sizeof want, "%s: cannot create: No such file or directory", path);
  assert_string_equal(ht_error_message(), want);

  /* Label out of range: refused before anything is created. */
  snprintf(path, sizeof path, "%s/x.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  ht_error_clear();
  assert_int_equal(ht_dataset_write(path, x, 3, 2, y, 2, NULL, 0, "t", NULL), HT_EDATA);
  snprintf(want, sizeof want, "%s: row 2: label 5 out of range [0, 2)", path);
  assert_string_equal(ht_error_message(), want);
  assert_false(file_exists(path));
  assert_false(file_exists(partial));

  /* NaN feature. */
  x[3] = NAN;
  ht_error_clear();
  assert_int_equal(ht_dataset_write(path, x, 3, 2, y, 6, NULL, 0, "t", NULL), HT_EDATA);
  snprintf(want, sizeof want, "%s: row 1, column 1: feature is NaN", path);
  assert_string_equal(ht_error_message(), want);
  assert_false(file_exists(path));
  assert_false(file_exists(partial));

  /* Neither labels nor targets. */
  x[3] = 4;
  ht_error_clear();
  assert_int_equal(ht_dataset_write(path, x, 3, 2, NULL, 0, NULL, 0, "t", NULL), HT_EINVAL);
  assert_false(file_exists(path));
}

static void write_replaces_existing(void **state) {
  const char *dir = *state;
  char path[600], partial[700];
  snprintf(path, sizeof path, "%s/x.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  write_classify(path, 5, 2, 2);
  ht_test_write_file(partial, "stale partial from a crashed run");
  write_classify(path, 9, 4, 3);
  assert_false(file_exists(partial));
  ht_dataset ds;
  assert_int_equal(ht_dataset_probe(&ds, path), 0);
  assert_int_equal(ds.n_total, 9);
  assert_int_equal(ds.d, 4);
  assert_int_equal(ds.num_classes, 3);
}

/* ---- normalisation ------------------------------------------------------ */

static void mpi_down(void) {
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
}

static void mpi_up(void) {
  int up = 0;
  MPI_Initialized(&up);
  if (!up) {
    assert_int_equal(MPI_Init(NULL, NULL), MPI_SUCCESS);
    atexit(mpi_down);
  }
}

/* 4 rows x 3 features: a ramp, a constant and a ramp on a large offset. */
static ht_dataset norm_data(float *x) {
  const float v[12] = {1, 10, 10001, 2, 10, 10002, 3, 10, 10003, 4, 10, 10004};
  memcpy(x, v, sizeof v);
  return (ht_dataset){.n_total = 4, .n = 4, .d = 3, .x = x, .path = "norm"};
}

static void norm_known_stats(void **state) {
  mpi_up();
  float x[12];
  ht_dataset ds = norm_data(x);
  ht_norm norm;
  ht_error_clear();
  assert_int_equal(ht_norm_fit(&norm, &ds, 1, MPI_COMM_SELF), 0);
  assert_int_equal(norm.d, 3);
  assert_int_equal(norm.enabled, 1);
  /* mean 2.5; population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25. */
  ht_assert_close(norm.mean[0], 2.5, 1e-7, 0);
  ht_assert_close(norm.std[0], sqrt(1.25), 1e-6, 0);
  ht_assert_close(norm.mean[2], 10002.5, 1e-7, 0);
  ht_assert_close(norm.std[2], sqrt(1.25), 1e-6, 0); /* two passes keep the offset from cancelling */
  ht_norm_free(&norm);
  assert_null(norm.mean);
}

static void norm_constant_feature(void **state) {
  mpi_up();
  float x[12];
  ht_dataset ds = norm_data(x);
  ht_norm norm;
  assert_int_equal(ht_norm_fit(&norm, &ds, 1, MPI_COMM_SELF), 0);
  ht_assert_close(norm.mean[1], 10.0, 0, 0);
  ht_assert_close(norm.std[1], 1.0, 0, 0);
  ht_norm_free(&norm);
}

static void norm_apply_standardises(void **state) {
  mpi_up();
  float x[12];
  ht_dataset ds = norm_data(x);
  ht_norm norm;
  assert_int_equal(ht_norm_fit(&norm, &ds, 1, MPI_COMM_SELF), 0);
  ht_norm_apply(&norm, x, 4);
  const double z[4] = {-1.5 / sqrt(1.25), -0.5 / sqrt(1.25), 0.5 / sqrt(1.25), 1.5 / sqrt(1.25)};
  for (int i = 0; i < 4; i++) {
    ht_assert_close(x[i * 3 + 0], z[i], 1e-5, 1e-6);
    ht_assert_close(x[i * 3 + 1], 0.0, 0, 0);
    ht_assert_close(x[i * 3 + 2], z[i], 1e-4, 1e-5);
  }
  ht_norm_free(&norm);
}

static void norm_disabled_is_identity(void **state) {
  mpi_up();
  float x[12];
  ht_dataset ds = norm_data(x);
  ht_norm norm;
  assert_int_equal(ht_norm_fit(&norm, &ds, 0, MPI_COMM_SELF), 0);
  assert_int_equal(norm.enabled, 0);
  for (int j = 0; j < 3; j++) {
    ht_assert_close(norm.mean[j], 0.0, 0, 0);
    ht_assert_close(norm.std[j], 1.0, 0, 0);
  }
  ht_norm_apply(&norm, x, 4);
  ht_assert_close(x[2], 10001.0, 0, 0);
  ht_norm_free(&norm);

  /* Fitting on no rows at all is an error, not a division by zero. */
  ht_dataset empty = {.d = 3, .path = "empty.h5"};
  ht_error_clear();
  assert_int_equal(ht_norm_fit(&norm, &empty, 1, MPI_COMM_SELF), HT_EDATA);
  assert_string_equal(ht_error_message(), "empty.h5: no rows to compute normalisation statistics from");
  assert_null(norm.mean);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(shard_range_covers_rows, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(write_then_probe, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_shards_values, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_regression_targets, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_uint8_labels, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_converted_types, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_nonstandard_types, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_half_features, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_half_nonfinite, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_half_exact, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_h5py_float16, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(read_empty_shard, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_missing_file, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_not_hdf5, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_features_missing, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_features_3d, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_labels_missing_and_bad, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_rows_mismatch, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(num_classes_inferred, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_label_out_of_range, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_feature_nan_inf, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(err_target_nan, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(write_failures_leave_nothing, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(write_replaces_existing, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(norm_known_stats, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(norm_constant_feature, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(norm_apply_standardises, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(norm_disabled_is_identity, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
};

HT_TEST_MAIN("dataset", tests)
