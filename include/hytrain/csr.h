/*
 * Sparse (CSR) datasets: the layout sparse linear models train on.
 *
 * File format (docs/data-format.md, "Sparse datasets"):
 *   /csr/indptr   int64 [N + 1]  row i holds entries indptr[i] .. indptr[i+1]-1;
 *                                indptr[0] = 0, non-decreasing, indptr[N] = nnz
 *   /csr/indices  int32 [nnz]    0-based feature index, strictly increasing
 *                                within a row, in [0, num_features)
 *   /csr/values   float32 [nnz]  finite (float16 and float64 are read too)
 *   /labels       int32 [N] (classes in [0, num_classes)) or float32 [N]
 *                 (one regression target)
 *   attributes on the root group: num_features (int64 D), num_classes,
 *                 source and optionally label_values, as for dense files.
 *
 * Rank r of P reads rows [row0, row0 + n) (ht_shard_range): first indptr
 * [row0, row0 + n] by one hyperslab, then indices and values
 * [indptr[row0], indptr[row0 + n]) by one hyperslab each, so every non-zero
 * is read by exactly one rank.
 */
#ifndef HYTRAIN_CSR_H
#define HYTRAIN_CSR_H

#include <stdint.h>

#include "hytrain/dataset.h"

typedef struct ht_csr {
  char path[1024];
  int64_t n_total;     /* rows in the file */
  int64_t nnz_total;   /* non-zeros in the file */
  int64_t row0;        /* first row of this shard */
  int64_t n;           /* rows in this shard */
  int d;               /* num_features */
  ht_task task;
  int num_classes;     /* classification: K >= 2; regression: 0 */
  int64_t *indptr;     /* [n + 1], rebased so that indptr[0] = 0, owned */
  int32_t *indices;    /* [indptr[n]] feature of each non-zero, owned */
  float *values;       /* [indptr[n]], owned */
  int32_t *y;          /* [n] classes, or NULL, owned */
  float *yt;           /* [n] regression targets, or NULL, owned */
} ht_csr;

/* 1 when path is an HDF5 file with a /csr group, 0 when it is not (missing
 * file, dense layout, not HDF5: the dense reader then explains). Quiet. */
int ht_csr_is_csr(const char *path);

/* Reads the header only (n_total, nnz_total, d, task, num_classes). Errors
 * name the file and what is wrong. Not collective. */
int ht_csr_probe(ht_csr *ds, const char *path);

/* Probes, then reads this rank's shard by hyperslabs and validates it:
 * indptr non-decreasing within [0, nnz], indices in range and increasing
 * within each row, values finite, labels in range. Messages name global
 * (0-based) rows. Not collective. */
int ht_csr_read_shard(ht_csr *ds, const char *path, int rank, int size);

/* Frees the arrays and zeroes the struct. Safe on a zeroed struct. */
void ht_csr_free(ht_csr *ds);

/* ---- reading rows while training (data.mode: stream) ------------------ */

/* An open CSR file from which the stream loader (hytrain/csr_loader.h)
 * reads pieces of rows by hyperslab: indptr first, then the indices and
 * values those entries span. */
typedef struct ht_csr_reader ht_csr_reader;

/* Opens path for reading rows; its header must still match expect (rows,
 * non-zeros, features, labels), else a one-line error saying the file
 * changed. Not collective. */
int ht_csr_reader_open(ht_csr_reader **out, const char *path, const ht_csr *expect);

/* indptr[row0 .. row0 + n] of the file (n + 1 entries, not rebased) into
 * out, checked to be non-decreasing and within [0, nnz]. */
int ht_csr_reader_indptr(ht_csr_reader *r, int64_t row0, int64_t n, int64_t *out);

/* Appends rows [row0, row0 + n) of the file to dst (dst->n grows by n; its
 * indptr continues from dst->indptr[dst->n], so a dst with n = 0 needs
 * indptr[0] = 0). dst's arrays grow as needed: *cap_rows rows (indptr holds
 * cap_rows + 1, y or yt cap_rows) and *cap_nnz non-zeros. The rows are
 * validated as ht_csr_read_shard does; errors name the file and row. */
int ht_csr_reader_append(ht_csr_reader *r, int64_t row0, int64_t n, ht_csr *dst, int64_t *cap_rows, int64_t *cap_nnz);

void ht_csr_reader_close(ht_csr_reader **r);

/* Writes a CSR file atomically ("<path>.partial", then rename). y
 * (num_classes >= 2) or yt (one target) must be given; label_values may be
 * NULL, else num_classes doubles. Refuses what the reader would reject. */
int ht_csr_write(const char *path, int64_t n, int d, const int64_t *indptr, const int32_t *indices, const float *values,
                 const int32_t *y, int num_classes, const float *yt, const char *source, const double *label_values);

#endif
