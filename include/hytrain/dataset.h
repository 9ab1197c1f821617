/*
 * HDF5 datasets and sharding.
 *
 * File format (docs/data-format.md):
 *   /features  float32 [N, D]
 *   /labels    int32 [N] (classification, values in [0, num_classes))
 *              or float32 [N, T] (regression targets; a 1-D float32 [N] is T = 1)
 *   attributes on the root group: num_classes (int, 0 for regression; when
 *              missing on a classification file, inferred as its largest
 *              label + 1 by reading the whole /labels column),
 *              source (string), and optionally label_values (the original
 *              labels that 0..K-1 stand for, written by converters).
 *   That is what hytrain writes; the reader also takes float16 and float64
 *   floats and any standard integer labels (docs/data-format.md).
 *
 * Rank r of P reads only rows [row0, row0 + n) with one HDF5 hyperslab, where
 * the first N % P ranks get one extra row (ht_shard_range), so every row is
 * read by exactly one rank.
 */
#ifndef HYTRAIN_DATASET_H
#define HYTRAIN_DATASET_H

#include <mpi.h>
#include <stdint.h>

typedef enum { HT_TASK_CLASSIFY = 0, HT_TASK_REGRESS = 1 } ht_task;

typedef struct ht_dataset {
  char path[1024];
  int64_t n_total;     /* rows in the file */
  int64_t row0;        /* first row of this shard */
  int64_t n;           /* rows in this shard */
  int d;               /* features per row */
  ht_task task;
  int num_classes;     /* classification: K >= 2; regression: 0 */
  int classes_inferred; /* 1: the file has no num_classes attribute; K is its largest label + 1 */
  int t;               /* regression: targets per row; classification: 1 */
  float *x;            /* [n, d] row-major, owned */
  int32_t *y;          /* [n] class labels (classification) or NULL, owned */
  float *yt;           /* [n, t] targets (regression) or NULL, owned */
} ht_dataset;

/* Rows [*row0, *row0 + *count) of n_rows for rank of size ranks. */
void ht_shard_range(int64_t n_rows, int rank, int size, int64_t *row0, int64_t *count);

/* Reads the header only (n_total, d, task, num_classes, t); x/y/yt stay NULL.
 * Errors name the file and what is wrong (missing dataset, wrong rank/type). */
int ht_dataset_probe(ht_dataset *ds, const char *path);

/* Probes, then reads this rank's shard with hyperslabs and validates it:
 * every feature finite ("file: row R, column C: feature is NaN"), labels in
 * [0, num_classes) ("file: row R: label 12 out of range [0, 10)"), targets
 * finite. Row numbers in messages are global (0-based). Not collective. */
int ht_dataset_read_shard(ht_dataset *ds, const char *path, int rank, int size);

/* Like ht_dataset_read_shard for /features alone (prediction): /labels is
 * neither required nor read, so y and yt stay NULL, num_classes and t are 0
 * and task is meaningless. Features are validated as there. Not collective. */
int ht_dataset_read_features(ht_dataset *ds, const char *path, int rank, int size);

#define HT_DATASET_MAX_RANGES 4

/* Reads the rows [row0[i], row0[i] + count[i]) for i < n_ranges, one range
 * after the other, validated like ht_dataset_read_shard (row numbers in
 * messages are the file's). n_total becomes n_selected, the number of rows
 * the selection has over all ranks (so steps per epoch count the selection).
 * Not collective. Used for K-fold selections (src/data/folds.c); ordinary
 * training reads with ht_dataset_read_shard. */
int ht_dataset_read_ranges(ht_dataset *ds, const char *path, int n_ranges, const int64_t *row0, const int64_t *count,
                           int64_t n_selected);

/* K-fold: fold k of K is rows ht_shard_range(N, k, K) of the file (K
 * contiguous blocks). validation = 1 reads this rank's shard of fold k;
 * validation = 0 reads this rank's shard of the other rows, which are
 * sharded as one sequence (rows before fold k, then rows after it), so every
 * selected row is read by exactly one rank. Not collective. */
int ht_dataset_read_fold(ht_dataset *ds, const char *path, int folds, int fold, int validation, int rank, int size);

/* Frees the arrays and zeroes the struct. */
void ht_dataset_free(ht_dataset *ds);

/* Writes a dataset file atomically: "<path>.partial" then rename, so a failed
 * write leaves no file behind. y (classification, num_classes >= 2) or
 * yt (regression, t >= 1) must be given. label_values may be NULL, else
 * num_classes doubles. Chunked along rows. */
int ht_dataset_write(const char *path, const float *x, int64_t n, int d, const int32_t *y,
                     int num_classes, const float *yt, int t, const char *source,
                     const double *label_values);

/*
 * Reading a shard piece by piece while training runs (data.mode: stream).
 * A reader keeps one file open with a chunk cache sized for the dataset's
 * chunking; it is used by one thread at a time (the loader thread during
 * training, the main thread for the statistics pass before it).
 */
typedef struct ht_dataset_reader ht_dataset_reader;

/* Opens path, checks that it still has the header of `expect` (rows, features,
 * label kind; NULL skips the check) and sizes the chunk cache to hold two of
 * the file's chunks. Errors name the file. */
int ht_dataset_reader_open(ht_dataset_reader **r, const char *path, const ht_dataset *expect);

/* Rows of the file's chunks along dimension 0 (the whole row count for a
 * contiguous dataset). */
int64_t ht_dataset_reader_file_chunk_rows(const ht_dataset_reader *r);

/* Reads and validates rows [row0, row0 + n) of the file into x [n, d] and
 * y [n] or yt [n, t] (whichever the task uses). Errors name the file and the
 * row range ("f.h5: rows [4096, 8192): ..."), or the row for bad values. */
int ht_dataset_reader_read(ht_dataset_reader *r, int64_t row0, int64_t n, float *x, int32_t *y, float *yt);

/* Closes the file; *r becomes NULL. Safe on NULL. */
void ht_dataset_reader_close(ht_dataset_reader **r);

/* Feature normalisation statistics (per feature). */
typedef struct ht_norm {
  int d;
  int enabled;         /* 0: "none" (mean 0, std 1) */
  float *mean;         /* [d] */
  float *std;          /* [d]; features with std < 1e-6 get std 1 */
} ht_norm;

/* Collective on comm: computes mean and std over all ranks' shards (all rows
 * of the training split), in double precision, identical on every rank. */
int ht_norm_fit(ht_norm *norm, const ht_dataset *ds, int enabled, MPI_Comm comm);

/* x[i,j] = (x[i,j] - mean[j]) / std[j] for n rows. */
void ht_norm_apply(const ht_norm *norm, float *x, int64_t n);

/* Frees mean and std (local); safe on a zeroed ht_norm. */
void ht_norm_free(ht_norm *norm);

/* Like ht_norm_fit, for a shard that is not in memory (ds holds the header
 * and the shard range only): reads the shard in pieces of chunk_rows rows,
 * validating every value as ht_dataset_read_shard does, and sums in the same
 * row order, so the statistics are bit-identical to ht_norm_fit's on the same
 * rows. Two passes over the shard when enabled, one (validation) otherwise.
 * Collective on comm; a bad row on one rank fails every rank with that
 * rank's message. */
int ht_norm_fit_stream(ht_norm *norm, const ht_dataset *ds, int enabled, int64_t chunk_rows, MPI_Comm comm);

#endif
