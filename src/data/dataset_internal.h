/* Pieces of dataset.c shared with reader.c (chunked reads while training). */
#ifndef HT_DATA_DATASET_INTERNAL_H
#define HT_DATA_DATASET_INTERNAL_H

#include <hdf5.h>
#include <stdint.h>

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

/* Rows [row0, row0 + n) of a 1-D or 2-D dataset with `cols` columns into buf
 * (n x cols, row-major), one hyperslab; errors name `what`. */
int ht__dataset_read_rows(hid_t dset, int ndims, int64_t row0, int64_t n, int cols, hid_t mem_type, void *buf,
                          const char *what);

/* Validation of a block whose first row is row0 of the file (errors name the row). */
int ht__dataset_check_finite(const char *path, const float *v, int64_t n, int cols, int64_t row0, const char *kind);
int ht__dataset_check_labels(const char *path, const int32_t *y, int64_t n, int num_classes, int64_t row0);

#endif
