/*
 * The output file of `hytrain predict` (layout in docs/predict.md):
 *   HDF5: /classes int32 [N] (classifiers), and /probabilities, /scores or
 *         /predictions float32 [N, C]; root attributes format, checkpoint, data.
 *   CSV:  a header line (class,p0,...  class,score0,...  prediction or
 *         prediction0,...), then one line per row; floats with 9 significant
 *         digits, so they read back as the exact float32 values.
 * Both are written to OUT.partial and committed with ht_file_commit.
 */
#include "train/predict_out.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"

struct ht__predict_out {
  ht_predict_format fmt;
  ht_predict_kind kind;
  int cols;
  int64_t next_row; /* rows must arrive in order */
  char path[HT_FILE_PATH_MAX];
  char partial[HT_FILE_PATH_MAX];
  ht_file_out csv;  /* HT_PREDICT_CSV */
  hid_t file;       /* HT_PREDICT_H5 */
  hid_t classes;    /* /classes, or H5I_INVALID_HID for regression */
  hid_t values;     /* /probabilities, /scores or /predictions */
};

static const char *values_name(ht_predict_kind kind) {
  switch (kind) {
  case HT_PREDICT_PROBABILITIES: return "probabilities";
  case HT_PREDICT_SCORES: return "scores";
  case HT_PREDICT_VALUES: return "predictions";
  }
  return "?";
}

static int write_string_attr(hid_t obj, const char *name, const char *text, const char *path) {
  hid_t str = HT_H5(H5Tcopy(H5T_C_S1), path), space = HT_H5(H5Screate(H5S_SCALAR), path), attr = H5I_INVALID_HID;
  int rc = 0;
  if (str < 0 || space < 0 || HT_H5(H5Tset_size(str, H5T_VARIABLE), path) < 0 ||
      HT_H5(H5Tset_cset(str, H5T_CSET_UTF8), path) < 0 ||
      (attr = HT_H5(H5Acreate2(obj, name, str, space, H5P_DEFAULT, H5P_DEFAULT), path)) < 0 ||
      HT_H5(H5Awrite(attr, str, &text), path) < 0)
    rc = HT_EIO;
  if (attr >= 0) H5Aclose(attr);
  if (space >= 0) H5Sclose(space);
  if (str >= 0) H5Tclose(str);
  return rc;
}

/* Creates /name [rows] or [rows, cols] of file_type, contiguous (it is
 * written once, front to back). */
static int create_dataset(hid_t file, const char *name, int ndims, int64_t rows, int cols, hid_t file_type,
                          const char *path, hid_t *out) {
  hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
  hid_t space = HT_H5(H5Screate_simple(ndims, dims, NULL), path);
  *out = space >= 0 ? HT_H5(H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path)
                    : H5I_INVALID_HID;
  if (space >= 0) H5Sclose(space);
  if (*out < 0) return HT_EIO;
  return 0;
}

static int open_h5(ht__predict_out *w, int64_t rows, const char *ckpt, const char *data) {
  /* open() first gives the system's reason ("Permission denied") rather
   * than HDF5's generic one. */
  int fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot create: %s", w->path, strerror(errno));
  close(fd);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  w->file = HT_H5(H5Fcreate(w->partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), w->path);
  if (w->file < 0) return HT_EIO;
  HT_CHECK(write_string_attr(w->file, "format", "hytrain-predictions", w->path));
  HT_CHECK(write_string_attr(w->file, "checkpoint", ckpt, w->path));
  HT_CHECK(write_string_attr(w->file, "data", data, w->path));
  if (w->kind != HT_PREDICT_VALUES)
    HT_CHECK(create_dataset(w->file, "classes", 1, rows, 1, H5T_STD_I32LE, w->path, &w->classes));
  HT_CHECK(create_dataset(w->file, values_name(w->kind), 2, rows, w->cols, H5T_IEEE_F32LE, w->path, &w->values));
  return 0;
}

static int open_csv(ht__predict_out *w) {
  HT_CHECK(ht_file_open(&w->csv, w->path));
  FILE *f = w->csv.f;
  const char *prefix = w->kind == HT_PREDICT_PROBABILITIES ? "p" : w->kind == HT_PREDICT_SCORES ? "score" : "prediction";
  if (w->kind != HT_PREDICT_VALUES) fputs("class", f);
  for (int c = 0; c < w->cols; c++) {
    if (c > 0 || w->kind != HT_PREDICT_VALUES) fputc(',', f);
    if (w->kind == HT_PREDICT_VALUES && w->cols == 1)
      fputs(prefix, f);
    else
      fprintf(f, "%s%d", prefix, c);
  }
  fputc('\n', f);
  return 0;
}

static void close_h5(ht__predict_out *w) {
  if (w->classes >= 0) H5Dclose(w->classes);
  if (w->values >= 0) H5Dclose(w->values);
  w->classes = w->values = H5I_INVALID_HID;
}

int ht__predict_out_open(ht__predict_out **wp, const char *out, ht_predict_format fmt, ht_predict_kind kind,
                         int64_t rows, int cols, const char *ckpt, const char *data) {
  *wp = NULL;
  ht__predict_out *w = calloc(1, sizeof *w);
  if (!w) return ht_error(HT_ENOMEM, "%s: out of memory", out);
  w->fmt = fmt;
  w->kind = kind;
  w->cols = cols;
  w->file = w->classes = w->values = H5I_INVALID_HID;
  snprintf(w->path, sizeof w->path, "%s", out);
  int rc = ht_file_partial_name(out, w->partial, sizeof w->partial);
  if (rc == 0) rc = fmt == HT_PREDICT_H5 ? open_h5(w, rows, ckpt, data) : open_csv(w);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht__predict_out_discard(&w);
    return rc;
  }
  *wp = w;
  return 0;
}

static int write_h5_rows(hid_t dset, int ndims, int64_t row0, int64_t n, int cols, hid_t mem_type, const void *buf,
                         const char *path) {
  hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)n, (hsize_t)cols};
  hid_t fspace = HT_H5(H5Dget_space(dset), path), mspace = HT_H5(H5Screate_simple(ndims, count, NULL), path);
  int rc = 0;
  if (fspace < 0 || mspace < 0 || HT_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), path) < 0 ||
      HT_H5(H5Dwrite(dset, mem_type, mspace, fspace, H5P_DEFAULT, buf), path) < 0)
    rc = HT_EIO;
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  return rc;
}

int ht__predict_out_write(ht__predict_out *w, int64_t row0, int64_t n, const int32_t *cls, const float *v) {
  if (row0 != w->next_row)
    return ht_error(HT_EINTERNAL, "%s: rows from %lld written after row %lld", w->path, (long long)row0,
                    (long long)w->next_row);
  if (n == 0) return 0;
  if (w->fmt == HT_PREDICT_H5) {
    if (w->kind != HT_PREDICT_VALUES)
      HT_CHECK(write_h5_rows(w->classes, 1, row0, n, 1, H5T_NATIVE_INT32, cls, w->path));
    HT_CHECK(write_h5_rows(w->values, 2, row0, n, w->cols, H5T_NATIVE_FLOAT, v, w->path));
  } else {
    FILE *f = w->csv.f;
    for (int64_t i = 0; i < n; i++) {
      const float *r = v + (size_t)i * (size_t)w->cols;
      if (w->kind != HT_PREDICT_VALUES) fprintf(f, "%d", (int)cls[i]);
      for (int c = 0; c < w->cols; c++)
        fprintf(f, c > 0 || w->kind != HT_PREDICT_VALUES ? ",%.9g" : "%.9g", (double)r[c]);
      fputc('\n', f);
    }
    /* A full disk shows here already, not only at the final flush. */
    if (ferror(f)) return ht_error(HT_EIO, "%s: write failed: %s", w->path, strerror(errno));
  }
  w->next_row += n;
  return 0;
}

int ht__predict_out_commit(ht__predict_out **wp) {
  ht__predict_out *w = *wp;
  int rc = 0;
  if (w->fmt == HT_PREDICT_H5) {
    close_h5(w);
    herr_t e = H5Fclose(w->file);
    w->file = H5I_INVALID_HID;
    if (e < 0) {
      rc = ht__h5_error(w->path, "H5Fclose", __FILE__, __LINE__);
      unlink(w->partial);
    } else {
      rc = ht_file_commit(w->partial, w->path);
    }
  } else {
    rc = ht_file_close_commit(&w->csv);
  }
  free(w);
  *wp = NULL;
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}

void ht__predict_out_discard(ht__predict_out **wp) {
  ht__predict_out *w = *wp;
  if (!w) return;
  if (w->fmt == HT_PREDICT_H5) {
    close_h5(w);
    if (w->file >= 0) H5Fclose(w->file);
    if (w->partial[0]) unlink(w->partial);
  } else if (w->csv.f) {
    ht_file_discard(&w->csv);
  }
  free(w);
  *wp = NULL;
}
