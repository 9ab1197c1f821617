/*
 * HDF5 model checkpoints (layout in docs/checkpoint-format.md).
 *
 *   attributes on /: format = "hytrain-checkpoint", format_version = 1,
 *                    step, epoch, samples_seen, world_size, created, config,
 *                    data_test (the evaluation split used by the run)
 *   /model           attributes: type, in, out, regression, hidden, activation,
 *                    init, l2 (enough to rebuild the model without the config)
 *   /model/<layer>/weight  float32 [out, in]
 *   /model/<layer>/bias    float32 [out]
 *   /preprocess/mean, /preprocess/std  float32 [D]; attribute normalize
 * Every dataset is chunked with HDF5's fletcher32 checksum; the file uses the
 * newest format HDF5 1.10 writes (metadata checksums). A file is written as
 * "<path>.partial", flushed, fsync'ed, closed and renamed, and its directory is
 * fsync'ed, so a crash leaves either the old file or the complete new one.
 */
#ifndef HYTRAIN_CKPT_H
#define HYTRAIN_CKPT_H

#include <stdint.h>

#include "hytrain/dataset.h"
#include "hytrain/model.h"

#define HT_CKPT_FORMAT "hytrain-checkpoint"
#define HT_CKPT_VERSION 1

typedef struct ht_ckpt_info {
  int64_t step, epoch, samples_seen;
  int world_size;
  char data_test[1024];  /* the evaluation split the run used (attribute data_test) */
} ht_ckpt_info;

/* Writes model weights, normalisation and metadata atomically to path. Not collective. */
int ht_ckpt_save_model(const char *path, const ht_model *m, const ht_norm *norm, const ht_ckpt_info *info,
                       const char *config_yaml);

/* Reads the model description and metadata (no weights). */
int ht_ckpt_load_spec(const char *path, ht_model_spec *spec, ht_ckpt_info *info);

/* Reads every weight into m (built from the same spec) and the normalisation
 * statistics into norm (allocated here); checks every shape and the
 * fletcher32 checksums. Errors name the file and the dataset. */
int ht_ckpt_load_params(const char *path, ht_model *m, ht_norm *norm);

/* Writes `text` to dir/name atomically (temp file, fsync, rename, fsync dir). */
int ht_write_file_atomic(const char *dir, const char *name, const char *text);

#endif
