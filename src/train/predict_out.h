/* The output file of `hytrain predict` (predict_out.c), written by rank 0 in
 * row order and committed atomically (hytrain/fileio.h). */
#ifndef HT_TRAIN_PREDICT_OUT_H
#define HT_TRAIN_PREDICT_OUT_H

#include <stdint.h>

#include "hytrain/predict.h"

typedef struct ht__predict_out ht__predict_out;

/* Creates out.partial for rows rows of kind with cols values each (the
 * HDF5 datasets are created at full size here). ckpt and data are recorded
 * as attributes (HDF5). Errors name out; nothing is left behind. */
int ht__predict_out_open(ht__predict_out **w, const char *out, ht_predict_format fmt, ht_predict_kind kind,
                         int64_t rows, int cols, const char *ckpt, const char *data);

/* Writes rows [row0, row0 + n): cls [n] (ignored for HT_PREDICT_VALUES) and
 * v [n, cols]. Rows must come in order, without gaps (CSV appends). */
int ht__predict_out_write(ht__predict_out *w, int64_t row0, int64_t n, const int32_t *cls, const float *v);

/* Closes, fsyncs and renames out.partial to out; frees *w (NULL after).
 * On failure the .partial file is removed. */
int ht__predict_out_commit(ht__predict_out **w);

/* Closes and removes out.partial; frees *w. Safe on NULL. */
void ht__predict_out_discard(ht__predict_out **w);

#endif
