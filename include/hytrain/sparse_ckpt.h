/*
 * Checkpoints of sparse linear models (docs/checkpoint-format.md, "Sparse
 * models"): the same file format and version attributes as dense
 * checkpoints, with the weights under /sparse instead of /model:
 *   attributes on /: format, format_version, engine ("sparse"), step, epoch,
 *     position (rows of the next epoch already done; 0 at epoch ends),
 *     world_size, threads, config, data_test, created
 *   /sparse/weights float32 [D + 1, k] (row D = bias), fletcher32
 *   attributes on /sparse: type (logistic|svm|linear|softmax), num_features,
 *     num_classes (0 for regression), l2
 */
#ifndef HYTRAIN_SPARSE_CKPT_H
#define HYTRAIN_SPARSE_CKPT_H

#include <stdint.h>

#include "hytrain/config.h"
#include "hytrain/sparse_model.h"

typedef struct ht_sparse_ckpt_info {
  ht_model_type type;
  int d, num_classes;
  double l2;
  int64_t step, epoch, position, world_size, threads;
  char data_test[HT_PATH_MAX];
} ht_sparse_ckpt_info;

/* 1 when path is a checkpoint of a sparse model (quiet; 0 for anything else). */
int ht_sparse_ckpt_is_sparse(const char *path);

/* Writes m's weights and info atomically (path.partial, fsync, rename). Not
 * collective; threads stopped. Returns 0, HT_EIO or HT_EH5 naming the file. */
int ht_sparse_ckpt_write(const char *path, const ht_sparse_model *m, const ht_sparse_ckpt_info *info, const char *config_yaml);

/* Reads the header only. */
int ht_sparse_ckpt_read_info(const char *path, ht_sparse_ckpt_info *info);

/* Reads the weights into m, which must have the checkpoint's shape
 * (HT_EDATA naming both shapes otherwise). */
int ht_sparse_ckpt_read_weights(const char *path, ht_sparse_model *m);

#endif
