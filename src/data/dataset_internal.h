/* Pieces of dataset.c shared with reader.c (chunked reads while training). */
#ifndef HT_DATA_DATASET_INTERNAL_H
#define HT_DATA_DATASET_INTERNAL_H

#include <hdf5.h>
#include <stdint.h>

#include "core/h5num.h"
#include "hytrain/dataset.h"

/* The open objects of a dataset file while it is probed or read. */
typedef struct ht__dataset_file {
  hid_t file;
  hid_t features;
  hid_t labels;
  int labels_ndims; /* 1 or 2 */
} ht__dataset_file;

/* Opens path and fills the header fields of ds (n_total, d, task, ...). On
 * failure f may hold open identifiers; close them with ht__dataset_close_file. */
int ht__dataset_open_and_probe(ht_dataset *ds, const char *path, ht__dataset_file *f);
void ht__dataset_close_file(ht__dataset_file *f);

/* The first part of ht__dataset_open_and_probe: checks that path is a
 * readable HDF5 file, opens it into f->file and records the path in ds
 * (zeroing the rest). */
int ht__dataset_open_file(ht_dataset *ds, const char *path, ht__dataset_file *f);

/* The last part: opens /labels into f->labels and fills task, t and
 * num_classes; ds->n_total must already hold the number of rows. */
int ht__dataset_probe_labels(ht_dataset *ds, const char *path, ht__dataset_file *f);

/* Rows [row0, row0 + n) of a 1-D or 2-D dataset with `cols` columns into buf
 * (n x cols, row-major) as `want`; errors name `what`. The dataset's rank
 * and dimensions must hold those rows, and its type must be a standard one
 * of want's class (core/h5num.h): HDF5 reads it in the file's own type and
 * hytrain converts (float64 to float32, int64 to int32, byte order), a
 * piece of rows at a time. */
int ht__dataset_read_rows(hid_t dset, int ndims, int64_t row0, int64_t n, int cols, ht_h5num_want want, void *buf,
                          const char *what);

/* Validation of a block whose first row is row0 of the file (errors name the row). */
int ht__dataset_check_finite(const char *path, const float *v, int64_t n, int cols, int64_t row0, const char *kind);
int ht__dataset_check_labels(const char *path, const int32_t *y, int64_t n, int num_classes, int64_t row0);

/* Closes any HDF5 identifier by its kind and marks it closed (safe on a
 * negative id). */
void ht__h5_close_id(hid_t *id);

/* 1 when path is an HDF5 file with a link `name` at its root, else 0 (a
 * missing or foreign file too). Quiet: records no error. */
int ht__h5_file_has(const char *path, const char *name);

/* Opens /name as a dataset, or explains why it cannot be (HT_EDATA naming
 * path and name). */
int ht__dataset_open(hid_t file, const char *path, const char *name, hid_t *out);

/* Writing (shared by the dense and CSR layouts). */

/* Rows per chunk aim at about this many bytes, so that a shard read touches
 * few chunks and a chunk is small enough to cache. */
#define HT__CHUNK_BYTES ((int64_t)1 << 20)

/* Creates /name as a chunked [n] (ndims 1) or [n, cols] dataset of file_type
 * and writes all of buf. */
int ht__dataset_write_rows(hid_t file, const char *name, int ndims, int64_t n, int cols, hid_t file_type, hid_t mem_type,
                           const void *buf, const char *path);

/* Writes attribute `name` on obj: n values of file_type from buf, scalar when n == 0. */
int ht__dataset_write_attr(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, hsize_t n, const void *buf,
                           const char *path);

/* The root attributes every layout has: num_classes (k, 0 for regression),
 * source, and label_values[k] when given. */
int ht__dataset_write_meta(hid_t file, const char *path, int k, const char *source, const double *label_values);

/* Creates "<path>.partial", runs body on it, closes, fsyncs and renames it to
 * path; on any failure removes the partial file. Returns 0 or body's error. */
int ht__dataset_write_atomic(const char *path, int (*body)(hid_t file, const char *path, const void *ctx), const void *ctx);

#endif
