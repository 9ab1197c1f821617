/*
 * Converters from common formats into the hytrain HDF5 dataset format.
 * Each writes atomically (no partial output on error) and reports malformed
 * input as "file:line: what was expected" (IDX: "file: ..." with the field).
 */
#ifndef HYTRAIN_CONVERT_H
#define HYTRAIN_CONVERT_H

#include "hytrain/dataset.h"

/* IDX (MNIST / Fashion-MNIST), gzipped or not (detected by magic bytes).
 * images: ubyte [N, rows, cols] -> features float32 [N, rows*cols] scaled to
 * [0, 1]; labels: ubyte [N] -> int32; num_classes = max label + 1 (at least 2). */
int ht_convert_idx(const char *images, const char *labels, const char *out);

typedef struct ht_csv_opts {
  int header;         /* -1 auto-detect (first row not numeric), 0 no, 1 yes */
  int label_col;      /* 0-based column of the label; -1 = last column */
  ht_task task;       /* classify: labels integers; regress: float targets */
  char delimiter;     /* ',' by default */
} ht_csv_opts;

/* CSV: every row the same number of columns, all numeric. */
int ht_convert_csv(const char *in, const char *out, const ht_csv_opts *opts);

/* Index base of a LIBSVM file: auto = 0-based when some index is 0, else 1-based. */
typedef enum { HT_LIBSVM_BASE_AUTO = 0, HT_LIBSVM_BASE_0, HT_LIBSVM_BASE_1 } ht_libsvm_base;
/* Output layout: auto = CSR when fewer than a quarter of the N x D entries
 * are non-zero (CSR then takes at most half the bytes), else dense. */
typedef enum { HT_LIBSVM_OUT_AUTO = 0, HT_LIBSVM_OUT_DENSE, HT_LIBSVM_OUT_CSR } ht_libsvm_out;

typedef struct ht_libsvm_opts {
  int dims;           /* number of features; 0 = largest index seen (+1 when 0-based) */
  ht_task task;
  ht_libsvm_base base;
  ht_libsvm_out format;
} ht_libsvm_opts;

/* LIBSVM "label [qid:Q] idx:val idx:val ... [# comment]" (strictly
 * increasing indices; qid tokens are skipped) into a dense or CSR file
 * (hytrain/csr.h). Errors name file:line. *wrote_csr (may be NULL) tells
 * which layout was written. */
int ht_convert_libsvm_ex(const char *in, const char *out, const ht_libsvm_opts *opts, int *wrote_csr);

/* ht_convert_libsvm_ex without the layout report. */
int ht_convert_libsvm(const char *in, const char *out, const ht_libsvm_opts *opts);

#endif
