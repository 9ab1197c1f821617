/*
 * Internal helpers shared by the text converters (convert_csv.c,
 * convert_libsvm.c): growable arrays, strict number parsing and the mapping
 * of raw class labels to 0..K-1.
 */
#ifndef HT_DATA_CONVERT_UTIL_H
#define HT_DATA_CONVERT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hytrain/dataset.h"

/* Makes *buf hold at least `need` elements of `elem` bytes, growing the
 * capacity *cap geometrically. Returns 0 or HT_ENOMEM (buf is unchanged). */
int ht__grow(void **buf, size_t *cap, size_t need, size_t elem);

/* Trims spaces, tabs, CR and LF from both ends, in place; returns the start. */
char *ht__trim(char *s);

/* 1 if all of s (non-empty) is a number strtod accepts, with *out set; else 0.
 * Finiteness is left to the caller, so that it can say "NaN" in its message. */
int ht__parse_number(const char *s, double *out);

/* 1 if v is an integer that fits in int32 (a valid raw class label). */
int ht__is_int_label(double v);

/* Maps raw labels to classes: the K distinct values, sorted ascending, become
 * 0..K-1 (so {-1, +1} -> {0, 1}). Writes y[n] and a malloc'ed *values[K].
 * Fails with HT_EDATA naming `file` when K < 2. */
int ht__labels_encode(const char *file, const double *raw, int64_t n, int32_t *y, double **values, int *k);

/* Classes (classification, with ht__labels_encode, into *y and *values) or
 * float targets (regression, into *yt) from the raw labels; the arrays are
 * allocated into the caller's state, which frees them on every path. */
int ht__convert_labels(const char *file, ht_task task, const double *raw, int64_t rows, int32_t **y, float **yt,
                       double **values, int *num_classes);

/* "<kind>: <file>", malloc'ed (the source attribute), or NULL (HT_ENOMEM recorded). */
char *ht__convert_source(const char *kind, const char *file);

/* The end of a text converter: turns the raw labels into classes
 * (classification, with ht__labels_encode) or float targets (regression), and
 * writes the dataset atomically with the source attribute "<kind>: <file>".
 * *y, *yt and *values are allocated into the caller's state, which frees them
 * on every path. Returns 0, HT_ENOMEM, HT_EDATA or ht_dataset_write's error. */
int ht__convert_finish(const char *kind, const char *file, const char *out, const float *x, int64_t rows, int d,
                       ht_task task, const double *raw, int32_t **y, float **yt, double **values);

#endif
