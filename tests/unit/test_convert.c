/* Converters: IDX, CSV and LIBSVM into dataset files, and their error messages. */
#include "ht_test.h"

#include "hytrain/convert.h"
#include "hytrain/error.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- helpers ------------------------------------------------------------ */


typedef struct paths {
  const char *dir;
  char in[600];   /* input file (CSV / LIBSVM / IDX images) */
  char in2[600];  /* second input (IDX labels) */
  char out[600];  /* output .h5 */
  char want[1400];
} paths;

static void make_paths(paths *p, void **state, const char *in_name) {
  p->dir = *state;
  snprintf(p->in, sizeof p->in, "%s/%s", p->dir, in_name);
  snprintf(p->in2, sizeof p->in2, "%s/labels.idx", p->dir);
  snprintf(p->out, sizeof p->out, "%s/out.h5", p->dir);
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* A failed conversion leaves neither the output nor its temporary. */
static void assert_no_output(const char *out) {
  char partial[700];
  snprintf(partial, sizeof partial, "%s.partial", out);
  if (file_exists(out)) fail_msg("%s exists after a failed conversion", out);
  if (file_exists(partial)) fail_msg("%s exists after a failed conversion", partial);
}

/* Reads the whole output file. */
static void read_all(const char *path, ht_dataset *ds) {
  ht_error_clear();
  if (ht_dataset_read_shard(ds, path, 0, 1) != 0) fail_msg("reading %s: %s", path, ht_error_message());
}

/* Reads the label_values attribute ([k] doubles); returns 0 if absent. */
static int read_label_values(const char *path, double *values, int cap) {
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(file >= 0);
  int k = 0;
  if (H5Aexists(file, "label_values") > 0) {
    hid_t attr = H5Aopen(file, "label_values", H5P_DEFAULT);
    hid_t space = H5Aget_space(attr);
    k = (int)H5Sget_simple_extent_npoints(space);
    assert_true(k <= cap);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, values) >= 0);
    H5Sclose(space);
    H5Aclose(attr);
  }
  H5Fclose(file);
  return k;
}

/* Asserts rc == code and the message equals p->want; and no output file. */
static void expect_error(const paths *p, int rc, int code) {
  if (rc != code || strcmp(ht_error_message(), p->want) != 0)
    fail_msg("rc %d (want %d), message '%s'\n  want '%s'", rc, code, ht_error_message(), p->want);
  assert_no_output(p->out);
}

static void put_be32(unsigned char *b, uint32_t v) {
  b[0] = (unsigned char)(v >> 24);
  b[1] = (unsigned char)(v >> 16);
  b[2] = (unsigned char)(v >> 8);
  b[3] = (unsigned char)v;
}

/* Writes an IDX file: magic, ndims sizes, then len payload bytes;
 * gzip-compressed when gz. */
static void write_idx(const char *path, int gz, uint32_t magic, int ndims, const uint32_t *dims, const unsigned char *payload,
                      size_t len) {
  unsigned char head[16];
  put_be32(head, magic);
  for (int i = 0; i < ndims; i++) put_be32(head + 4 + 4 * i, dims[i]);
  size_t hlen = 4 + 4 * (size_t)ndims;
  if (gz) {
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, head, (unsigned)hlen), (int)hlen);
    if (len) assert_int_equal(gzwrite(g, payload, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
  } else {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(head, 1, hlen, f), hlen);
    if (len) assert_int_equal(fwrite(payload, 1, len, f), len);
    fclose(f);
  }
}

/* 5 images of 2 x 3 pixels, pixel (i, k) = 50 * i + k; labels {3,0,1,2,3}. */
static void write_tiny_idx(const paths *p, int gz) {
  unsigned char pix[30], lab[5] = {3, 0, 1, 2, 3};
  for (int i = 0; i < 5; i++)
    for (int k = 0; k < 6; k++) pix[i * 6 + k] = (unsigned char)(50 * i + k);
  write_idx(p->in, gz, 0x00000803, 3, (uint32_t[]){5, 2, 3}, pix, sizeof pix);
  write_idx(p->in2, gz, 0x00000801, 1, (uint32_t[]){5}, lab, sizeof lab);
}

static void check_tiny_idx(const paths *p) {
  ht_dataset ds;
  read_all(p->out, &ds);
  assert_int_equal(ds.n_total, 5);
  assert_int_equal(ds.d, 6);
  assert_int_equal(ds.task, HT_TASK_CLASSIFY);
  assert_int_equal(ds.num_classes, 4);
  const int32_t lab[5] = {3, 0, 1, 2, 3};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(ds.y[i], lab[i]);
    for (int k = 0; k < 6; k++) ht_assert_close(ds.x[i * 6 + k], (50 * i + k) / 255.0, 1e-6, 0);
  }
  ht_dataset_free(&ds);
}

/* ---- IDX ---------------------------------------------------------------- */

static void idx_roundtrip_plain(void **state) {
  paths p;
  make_paths(&p, state, "images.idx");
  write_tiny_idx(&p, 0);
  ht_error_clear();
  if (ht_convert_idx(p.in, p.in2, p.out) != 0) fail_msg("%s", ht_error_message());
  check_tiny_idx(&p);
}

static void idx_roundtrip_gzip(void **state) {
  paths p;
  make_paths(&p, state, "images.idx.gz");
  write_tiny_idx(&p, 1);
  ht_error_clear();
  if (ht_convert_idx(p.in, p.in2, p.out) != 0) fail_msg("%s", ht_error_message());
  check_tiny_idx(&p);

  /* All labels 0 still give 2 classes. */
  write_idx(p.in2, 1, 0x00000801, 1, (uint32_t[]){5}, (const unsigned char[5]){0}, 5);
  assert_int_equal(ht_convert_idx(p.in, p.in2, p.out), 0);
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.num_classes, 2);
  ht_dataset_free(&ds);
}

static void idx_err_bad_magic(void **state) {
  paths p;
  make_paths(&p, state, "images.idx");
  write_tiny_idx(&p, 0);
  /* Images and labels swapped on the command line. */
  ht_error_clear();
  int rc = ht_convert_idx(p.in2, p.in, p.out);
  snprintf(p.want, sizeof p.want, "%s: bad magic 0x00000801, expected 0x00000803 (IDX ubyte images)", p.in2);
  expect_error(&p, rc, HT_EDATA);

  write_idx(p.in2, 0, 0x00000803, 1, (uint32_t[]){5}, (const unsigned char[5]){0}, 5);
  ht_error_clear();
  rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s: bad magic 0x00000803, expected 0x00000801 (IDX ubyte labels)", p.in2);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "this is not IDX at all");
  ht_error_clear();
  rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s: bad magic 0x74686973, expected 0x00000803 (IDX ubyte images)", p.in);
  expect_error(&p, rc, HT_EDATA);
}

static void idx_err_truncated(void **state) {
  paths p;
  make_paths(&p, state, "images.idx.gz");
  write_tiny_idx(&p, 1);
  unsigned char pix[10] = {0};
  write_idx(p.in, 1, 0x00000803, 3, (uint32_t[]){5, 2, 3}, pix, sizeof pix);
  ht_error_clear();
  int rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s: truncated: expected 30 bytes of pixel data, got 10", p.in);
  expect_error(&p, rc, HT_EDATA);

  /* A header cut short. */
  FILE *f = fopen(p.in2, "wb");
  fwrite("\0\0\x08\x01\0\0", 1, 6, f);
  fclose(f);
  ht_error_clear();
  rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s: truncated: expected 8 bytes of IDX header, got 6", p.in2);
  expect_error(&p, rc, HT_EDATA);
}

static void idx_err_count_mismatch(void **state) {
  paths p;
  make_paths(&p, state, "images.idx");
  write_tiny_idx(&p, 0);
  write_idx(p.in2, 0, 0x00000801, 1, (uint32_t[]){4}, (const unsigned char[4]){0, 1, 0, 1}, 4);
  ht_error_clear();
  int rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s has 5 images but %s has 4 labels", p.in, p.in2);
  expect_error(&p, rc, HT_ESHAPE);

  snprintf(p.in2, sizeof p.in2, "%s/missing.idx", p.dir);
  ht_error_clear();
  rc = ht_convert_idx(p.in, p.in2, p.out);
  snprintf(p.want, sizeof p.want, "%s: cannot open: No such file or directory", p.in2);
  expect_error(&p, rc, HT_ENOENT);
}

/* The real Fashion-MNIST test split; installed by scripts/install-deps, so
 * its absence is a failure, not a reason to skip. */
static void idx_fashion_mnist_t10k(void **state) {
  paths p;
  make_paths(&p, state, "unused");
  const char *images = FASHION_DIR "/t10k-images-idx3-ubyte.gz", *labels = FASHION_DIR "/t10k-labels-idx1-ubyte.gz";
  if (!file_exists(images) || !file_exists(labels))
    fail_msg("%s is missing: install the Debian package dataset-fashion-mnist (scripts/install-deps)", images);
  ht_error_clear();
  if (ht_convert_idx(images, labels, p.out) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 10000);
  assert_int_equal(ds.d, 784);
  assert_int_equal(ds.num_classes, 10);
  /* Known facts of the file: 1000 images per class, first labels 9 2 1 1 6,
   * first image pixel sum 33456 / 255, all pixels sum 573469082 / 255. */
  int count[10] = {0};
  for (int64_t i = 0; i < ds.n; i++) count[ds.y[i]]++;
  for (int c = 0; c < 10; c++) assert_int_equal(count[c], 1000);
  const int32_t first[5] = {9, 2, 1, 1, 6};
  for (int i = 0; i < 5; i++) assert_int_equal(ds.y[i], first[i]);
  double row0 = 0, all = 0, lo = 1, hi = 0;
  for (int k = 0; k < 784; k++) row0 += ds.x[k];
  for (int64_t i = 0; i < ds.n * ds.d; i++) {
    all += ds.x[i];
    if (ds.x[i] < lo) lo = ds.x[i];
    if (ds.x[i] > hi) hi = ds.x[i];
  }
  ht_assert_close(row0, 33456.0 / 255.0, 1e-6, 0);
  ht_assert_close(all, 2248898.3607843136, 1e-6, 0);
  ht_assert_close(lo, 0.0, 0, 0);
  ht_assert_close(hi, 1.0, 0, 0);
  ht_dataset_free(&ds);
}

/* ---- CSV ---------------------------------------------------------------- */

static ht_csv_opts csv_opts(int header, int label_col, ht_task task) {
  return (ht_csv_opts){.header = header, .label_col = label_col, .task = task, .delimiter = ','};
}

static void csv_header_label_last(void **state) {
  paths p;
  make_paths(&p, state, "in.csv");
  ht_test_write_file(p.in, "a,b,class\n1.5,2,7\n-3,4e1,5\n0,0,7\n");
  ht_csv_opts o = csv_opts(-1, -1, HT_TASK_CLASSIFY);
  ht_error_clear();
  if (ht_convert_csv(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 3);
  assert_int_equal(ds.d, 2);
  assert_int_equal(ds.num_classes, 2);
  const float x[6] = {1.5f, 2, -3, 40, 0, 0};
  for (int i = 0; i < 6; i++) ht_assert_close(ds.x[i], x[i], 0, 0);
  assert_int_equal(ds.y[0], 1); /* 7 -> 1 */
  assert_int_equal(ds.y[1], 0); /* 5 -> 0 */
  assert_int_equal(ds.y[2], 1);
  double values[4];
  assert_int_equal(read_label_values(p.out, values, 4), 2);
  ht_assert_close(values[0], 5, 0, 0);
  ht_assert_close(values[1], 7, 0, 0);
  ht_dataset_free(&ds);
}

static void csv_no_header_label_first(void **state) {
  paths p;
  make_paths(&p, state, "in.csv");
  ht_test_write_file(p.in, "-1,0.5,0.25\n1,1,2\n\n  \n1, 3 ,\"4\"\n-1,5,6\n");
  ht_csv_opts o = csv_opts(0, 0, HT_TASK_CLASSIFY);
  ht_error_clear();
  if (ht_convert_csv(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 4); /* blank lines skipped */
  assert_int_equal(ds.d, 2);
  const float x[8] = {0.5f, 0.25f, 1, 2, 3, 4, 5, 6};
  for (int i = 0; i < 8; i++) ht_assert_close(ds.x[i], x[i], 0, 0);
  const int32_t y[4] = {0, 1, 1, 0}; /* {-1, 1} -> {0, 1} */
  for (int i = 0; i < 4; i++) assert_int_equal(ds.y[i], y[i]);
  double values[4];
  assert_int_equal(read_label_values(p.out, values, 4), 2);
  ht_assert_close(values[0], -1, 0, 0);
  ht_assert_close(values[1], 1, 0, 0);
  ht_dataset_free(&ds);

  /* header auto with a numeric first row: that row is data. */
  o = csv_opts(-1, 0, HT_TASK_CLASSIFY);
  assert_int_equal(ht_convert_csv(p.in, p.out, &o), 0);
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 4);
  ht_dataset_free(&ds);

  /* header yes drops the first row even though it is numeric. */
  o = csv_opts(1, 0, HT_TASK_CLASSIFY);
  assert_int_equal(ht_convert_csv(p.in, p.out, &o), 0);
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 3);
  ht_assert_close(ds.x[0], 1, 0, 0);
  ht_dataset_free(&ds);
}

static void csv_regress_tab_crlf(void **state) {
  paths p;
  make_paths(&p, state, "in.tsv");
  ht_test_write_file(p.in, "x1\ty\tx2\r\n1\t0.125\t2\r\n3\t-7.5\t4\r\n");
  ht_csv_opts o = {.header = -1, .label_col = 1, .task = HT_TASK_REGRESS, .delimiter = '\t'};
  ht_error_clear();
  if (ht_convert_csv(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.task, HT_TASK_REGRESS);
  assert_int_equal(ds.num_classes, 0);
  assert_int_equal(ds.t, 1);
  assert_int_equal(ds.n_total, 2);
  assert_int_equal(ds.d, 2);
  const float x[4] = {1, 2, 3, 4};
  for (int i = 0; i < 4; i++) ht_assert_close(ds.x[i], x[i], 0, 0);
  ht_assert_close(ds.yt[0], 0.125, 0, 0);
  ht_assert_close(ds.yt[1], -7.5, 0, 0);
  ht_dataset_free(&ds);
}

static void csv_long_lines(void **state) {
  paths p;
  make_paths(&p, state, "wide.csv");
  enum { COLS = 20000, ROWS = 3 };
  size_t cap = (size_t)COLS * 16 * ROWS + 64, used = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  for (int i = 0; i < ROWS; i++) {
    for (int j = 0; j < COLS; j++) used += (size_t)snprintf(text + used, cap - used, "%d.5,", i * COLS + j);
    used += (size_t)snprintf(text + used, cap - used, "%d\n", i % 2);
  }
  ht_test_write_file(p.in, text);
  free(text);
  ht_csv_opts o = csv_opts(-1, -1, HT_TASK_CLASSIFY);
  ht_error_clear();
  if (ht_convert_csv(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.d, COLS);
  assert_int_equal(ds.n_total, ROWS);
  ht_assert_close(ds.x[(int64_t)2 * COLS + 19999], 2 * COLS + 19999 + 0.5, 0, 0);
  assert_int_equal(ds.y[2], 0);
  ht_dataset_free(&ds);
}

static void csv_err_columns(void **state) {
  paths p;
  make_paths(&p, state, "in.csv");
  ht_test_write_file(p.in, "a,b,c,d,e\n1,2,3,4,0\n\n1,2,3,4,1\n1,2,3,4,0\n1,2,3,4,1\n1,2,3,4\n");
  ht_csv_opts o = csv_opts(-1, -1, HT_TASK_CLASSIFY);
  ht_error_clear();
  int rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:7: expected 5 columns, found 4", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "5\n6\n");
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:1: expected at least 2 columns (features and a label), found 1", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1,2,3\n");
  o.label_col = 3;
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:1: label column 4 is beyond the 3 columns of the file", p.in);
  expect_error(&p, rc, HT_EDATA);
}

static void csv_err_number(void **state) {
  paths p;
  make_paths(&p, state, "in.csv");
  ht_test_write_file(p.in, "a,b,c,y\n1,2,3,0\n1,2,3,1\n1,2,3,0\n1,2,3,1\n1,2,3,0\n1,2,3,1\n1,2,3,0\n1,2,x,1\n");
  ht_csv_opts o = csv_opts(-1, -1, HT_TASK_CLASSIFY);
  ht_error_clear();
  int rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:9: column 3: expected a number, got 'x'", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1,2,0\n1,nan,1\n");
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: column 2: expected a finite float32 number, got 'nan'", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1,2,0\n1,,1\n");
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: column 2: expected a number, got ''", p.in);
  expect_error(&p, rc, HT_EDATA);
}

static void csv_err_labels(void **state) {
  paths p;
  make_paths(&p, state, "in.csv");
  ht_test_write_file(p.in, "1,2,0\n1,2,1.5\n");
  ht_csv_opts o = csv_opts(-1, -1, HT_TASK_CLASSIFY);
  ht_error_clear();
  int rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want,
           "%s:2: column 3: class label must be an integer, got '1.5' (use --task regress for a numeric target)", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1,2,4\n1,2,4\n");
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want,
           "%s: every row has label 4; classification needs at least 2 classes (use --task regress for a numeric target)", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "a,b,c\n\n");
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s: no data rows", p.in);
  expect_error(&p, rc, HT_EDATA);

  snprintf(p.in, sizeof p.in, "%s/missing.csv", p.dir);
  ht_error_clear();
  rc = ht_convert_csv(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s: cannot open: No such file or directory", p.in);
  expect_error(&p, rc, HT_ENOENT);
}

/* ---- LIBSVM ------------------------------------------------------------- */

static void libsvm_roundtrip(void **state) {
  paths p;
  make_paths(&p, state, "in.svm");
  ht_test_write_file(p.in, "+1 1:0.5 3:-2\n-1 2:4   # a comment\n\n# only a comment\n+1\t4:1e-1\n");
  ht_libsvm_opts o = {.dims = 0, .task = HT_TASK_CLASSIFY};
  ht_error_clear();
  if (ht_convert_libsvm(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.n_total, 3);
  assert_int_equal(ds.d, 4); /* the largest index */
  assert_int_equal(ds.num_classes, 2);
  const float x[12] = {0.5f, 0, -2, 0, 0, 4, 0, 0, 0, 0, 0, 0.1f};
  for (int i = 0; i < 12; i++) ht_assert_close(ds.x[i], x[i], 0, 0);
  const int32_t y[3] = {1, 0, 1}; /* {-1, +1} -> {0, 1} */
  for (int i = 0; i < 3; i++) assert_int_equal(ds.y[i], y[i]);
  double values[4];
  assert_int_equal(read_label_values(p.out, values, 4), 2);
  ht_assert_close(values[0], -1, 0, 0);
  ht_assert_close(values[1], 1, 0, 0);
  ht_dataset_free(&ds);
}

static void libsvm_dims_regress(void **state) {
  paths p;
  make_paths(&p, state, "in.svm");
  ht_test_write_file(p.in, "0.25 2:1\n-3.5\n10 1:1 6:2\n");
  ht_libsvm_opts o = {.dims = 8, .task = HT_TASK_REGRESS, .format = HT_LIBSVM_OUT_DENSE};
  ht_error_clear();
  if (ht_convert_libsvm(p.in, p.out, &o) != 0) fail_msg("%s", ht_error_message());
  ht_dataset ds;
  read_all(p.out, &ds);
  assert_int_equal(ds.d, 8);
  assert_int_equal(ds.task, HT_TASK_REGRESS);
  const float yt[3] = {0.25f, -3.5f, 10};
  for (int i = 0; i < 3; i++) ht_assert_close(ds.yt[i], yt[i], 0, 0);
  ht_assert_close(ds.x[1], 1, 0, 0);
  ht_assert_close(ds.x[2 * 8 + 5], 2, 0, 0);
  ht_assert_close(ds.x[2 * 8 + 7], 0, 0, 0);
  ht_dataset_free(&ds);

  /* Three classes 2 < 5 < 9 map in sorted order. */
  ht_test_write_file(p.in, "9 1:1\n2 1:2\n5 1:3\n2 1:4\n");
  o = (ht_libsvm_opts){.dims = 0, .task = HT_TASK_CLASSIFY};
  assert_int_equal(ht_convert_libsvm(p.in, p.out, &o), 0);
  read_all(p.out, &ds);
  assert_int_equal(ds.num_classes, 3);
  const int32_t y[4] = {2, 0, 1, 0};
  for (int i = 0; i < 4; i++) assert_int_equal(ds.y[i], y[i]);
  ht_dataset_free(&ds);
}

static void libsvm_err_format(void **state) {
  paths p;
  make_paths(&p, state, "in.svm");
  ht_libsvm_opts o = {.dims = 0, .task = HT_TASK_CLASSIFY};
  ht_test_write_file(p.in, "1 1:1\n0 2:1\n1 abc\n");
  ht_error_clear();
  int rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:3: expected idx:value, got 'abc'", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1 1:1\n0 2:x\n");
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: expected idx:value, got '2:x'", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1 1:1\nyes 2:1\n");
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: expected a numeric label, got 'yes'", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1 1:1\n0.5 2:1\n");
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: class label must be an integer, got '0.5' (use --task regress for a numeric target)",
           p.in);
  expect_error(&p, rc, HT_EDATA);
}

static void libsvm_err_indices(void **state) {
  paths p;
  make_paths(&p, state, "in.svm");
  ht_libsvm_opts o = {.dims = 0, .task = HT_TASK_CLASSIFY};
  ht_test_write_file(p.in, "1 1:1\n0 2:1\n1 7:1 5:2\n");
  ht_error_clear();
  int rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:3: index 5 is not greater than previous index 7", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1 1:1 1:2\n");
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:1: index 1 is not greater than previous index 1", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1 1:1\n0 0:1\n");
  o.base = HT_LIBSVM_BASE_1;
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: index 0 is less than 1 (indices start at 1; --base 0 reads 0-based files)", p.in);
  expect_error(&p, rc, HT_EDATA);
  o.base = HT_LIBSVM_BASE_AUTO;

  ht_test_write_file(p.in, "1 1:1\n0 2:1 9:1\n");
  o.dims = 8;
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s:2: index 9 is greater than --dims 8", p.in);
  expect_error(&p, rc, HT_EDATA);

  ht_test_write_file(p.in, "1\n0\n");
  o.dims = 0;
  ht_error_clear();
  rc = ht_convert_libsvm(p.in, p.out, &o);
  snprintf(p.want, sizeof p.want, "%s: no features: every line has only a label", p.in);
  expect_error(&p, rc, HT_EDATA);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(idx_roundtrip_plain, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(idx_roundtrip_gzip, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(idx_err_bad_magic, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(idx_err_truncated, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(idx_err_count_mismatch, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(idx_fashion_mnist_t10k, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_header_label_last, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_no_header_label_first, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_regress_tab_crlf, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_long_lines, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_err_columns, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_err_number, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(csv_err_labels, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(libsvm_roundtrip, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(libsvm_dims_regress, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(libsvm_err_format, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(libsvm_err_indices, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
};

HT_TEST_MAIN("convert", tests)
