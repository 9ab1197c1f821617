/*
 * HDF5 checkpoints (layout, with an h5py example, in docs/checkpoint-format.md).
 *
 *   attributes on /: format = "hytrain-checkpoint", format_version = 2,
 *                    step, epoch, samples_seen, world_size, batch_size,
 *                    created, config (effective YAML), data_test,
 *                    compute_backend (openblas|onednn: the GEMM backend the
 *                    run computed on; absent in older files)
 *   /model/<layer>/weight  float32 [out, in]     /model/<layer>/bias  float32 [out]
 *   /optimizer             attribute name (sgd|adamw); dataset t int64 [1]
 *   /optimizer/momentum/<layer>/weight|bias      (sgd with momentum > 0)
 *   /optimizer/m/<layer>/..., /optimizer/v/<layer>/...   (adamw)
 *   /data/<rank>  int64 [3]  {epoch, position, shuffle seed}
 *   /rng/<rank>   uint64 [3] {seed, epoch, rank}: the key of the rank's shuffle stream
 *   /metrics/best float64 [2] {value, step}; /metrics/progress float64 [5]
 *   /preprocess/mean, /preprocess/std  float32 [D]; attribute normalize
 * Every dataset is chunked with HDF5's fletcher32 checksum; the file uses the
 * newest format HDF5 1.10 writes (metadata checksums). A file is written as
 * "<path>.partial", flushed, fsync'ed, closed and renamed, and its directory is
 * fsync'ed, so a crash leaves either the old file or the complete new one.
 */
#ifndef HYTRAIN_CKPT_H
#define HYTRAIN_CKPT_H

#include <stdint.h>
#include <stdio.h>

#include "hytrain/dataset.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"

#define HT_CKPT_FORMAT "hytrain-checkpoint"
#define HT_CKPT_VERSION 2

/* Where one rank stood in its data: /data/<rank>. */
typedef struct ht_ckpt_rank {
  int64_t epoch;     /* 0-based epoch in progress */
  int64_t position;  /* batches of that epoch already consumed */
  int64_t seed;      /* shuffle seed (train.seed) */
} ht_ckpt_rank;

/* Training progress that metrics.jsonl continues from: /metrics/progress. */
typedef struct ht_ckpt_progress {
  double epoch_loss_sum;   /* sum of step losses in the epoch in progress */
  int64_t epoch_steps;     /* steps taken in the epoch in progress */
  double window_loss_sum;  /* sum of step losses since the last step record */
  int64_t window_steps;
  double wall_s;           /* training wall time so far (wall_s of the records) */
} ht_ckpt_progress;

typedef struct ht_ckpt_info {
  int64_t step;          /* optimizer steps taken */
  int64_t epoch;         /* 0-based epoch in progress (== epochs when training finished) */
  int64_t samples_seen;  /* global training samples consumed */
  int64_t batch_size;    /* per-rank batch of the run that wrote it */
  int world_size;        /* ranks of the run that wrote it */
  char data_test[1024];  /* the evaluation split the run used (attribute data_test) */
  char compute_backend[16]; /* the backend the run computed on; "" when the file does not say */
  char best_name[32];    /* /metrics/best attribute metric: test_accuracy | test_rmse | none */
  double best_value;     /* best evaluation metric so far (NaN if none) */
  int64_t best_step;     /* step of that evaluation (-1 if none) */
  ht_ckpt_progress progress;
} ht_ckpt_info;

/* Everything a checkpoint holds. Buffers are borrowed: the writer reads them,
 * the reader fills them (they must be sized for the model and optimizer). */
typedef struct ht_ckpt_state {
  ht_ckpt_info info;
  const ht_model *model;       /* layer names, shapes and offsets */
  float *params;               /* [model->n_params] */
  ht_optim_kind optim;
  float *opt_m, *opt_v;        /* [n_params] each, or NULL when the optimizer keeps none */
  int64_t opt_t;               /* optimizer step count */
  ht_ckpt_rank *ranks;         /* [info.world_size] */
  ht_norm *norm;
  const char *config_yaml;
} ht_ckpt_state;

/* Writes the whole state to path atomically (path.partial, fsync, rename,
 * fsync dir). stall_ms > 0 sleeps that long after the model is written (the
 * HT_TEST_CKPT_STALL_MS test hook, so a test can kill a half-written file).
 * Not collective. Errors name the file and dataset. */
int ht_ckpt_write(const char *path, const ht_ckpt_state *s, int stall_ms);

/* Reads and verifies a whole checkpoint into s (model, optimizer kind and
 * buffers must already be set up; s->ranks is allocated here with
 * info.world_size entries, s->norm filled with ht_norm-allocated arrays).
 * Every dataset is read (fletcher32 verified) and its shape checked against
 * s->model; errors name the file and the dataset. Not collective. */
int ht_ckpt_read(const char *path, ht_ckpt_state *s);

/* Reads the model description and metadata (no weights). */
int ht_ckpt_load_spec(const char *path, ht_model_spec *spec, ht_ckpt_info *info);

/* Reads every weight into m (built from the same spec) and the normalisation
 * statistics into norm (allocated here); checks every shape and the
 * fletcher32 checksums. Errors name the file and the dataset. */
int ht_ckpt_load_params(const char *path, ht_model *m, ht_norm *norm);

/* Prints the attributes, every dataset's shape and checksum status and the
 * config to out. Returns 0 if everything verified, else the first error
 * (reported as one line naming the file and dataset). */
int ht_ckpt_inspect(const char *path, FILE *out);

/* ---- the checkpoint directory (rotate.c) ---- */

/* Steps of the complete checkpoints ckpt-<step>.h5 in dir, newest first;
 * *steps is malloc'ed (free it), *n their count. .partial files are ignored. */
int ht_ckpt_list(const char *dir, int64_t **steps, int *n);

/* Deletes all but the newest `keep` checkpoints in dir (keep 0: none deleted);
 * the file named in dir/best is kept too. Not collective. */
int ht_ckpt_rotate(const char *dir, int keep);

/* Removes leftover *.partial files (a crashed write); returns how many. */
int ht_ckpt_clean_partials(const char *dir);

#endif
