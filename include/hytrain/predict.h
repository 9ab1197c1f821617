/*
 * Predictions of a checkpoint's model for the rows of a dataset
 * (src/train/predict.c, `hytrain predict`; docs/predict.md).
 *
 * Each rank reads its shard of /features (ht_shard_range; /labels is not
 * needed), normalises it with the checkpoint's statistics and runs the
 * OpenMP-threaded forward pass in batches. Rank 0 writes every rank's rows
 * in input order (rank r's shard follows rank r-1's) to one file,
 * atomically (hytrain/fileio.h): OUT.partial, fsync, rename. Output per row:
 *   classifiers (softmax, mlp): the class and K probabilities (softmax)
 *   logistic:                   the class and 2 probabilities, 1 - P(1), P(1)
 *   svm:                        the class and K scores (the raw outputs)
 *   regression:                 T predicted values
 */
#ifndef HYTRAIN_PREDICT_H
#define HYTRAIN_PREDICT_H

#include <stdint.h>

#include "hytrain/comm.h"
#include "hytrain/config.h"

/* The output file's format, from its name: .h5 / .hdf5 or .csv. */
typedef enum { HT_PREDICT_H5, HT_PREDICT_CSV } ht_predict_format;

/* What the columns after the class hold (HDF5: the dataset's name). */
typedef enum {
  HT_PREDICT_PROBABILITIES, /* /classes int32 [N] and /probabilities float32 [N, K] */
  HT_PREDICT_SCORES,        /* /classes int32 [N] and /scores float32 [N, K] (svm) */
  HT_PREDICT_VALUES         /* /predictions float32 [N, T] (regression) */
} ht_predict_kind;

typedef struct ht_predict_opts {
  const char *ckpt;  /* checkpoint file */
  const char *data;  /* HDF5 dataset; NULL or "": the evaluation split recorded in ckpt */
  const char *out;   /* OUT.h5 | OUT.hdf5 | OUT.csv */
  int max_batch;     /* rows per forward pass */
} ht_predict_opts;

typedef struct ht_predict_result {
  int64_t rows;                /* rows written (all ranks) */
  ht_predict_kind kind;
  int cols;                    /* K or T */
  double forward_s;            /* slowest rank's normalised-rows-to-outputs time */
  double total_s;              /* rank 0: from the start to the committed file */
  char data_used[HT_PATH_MAX]; /* the dataset predicted */
} ht_predict_result;

/* The format of out from its extension; HT_EUSAGE naming out otherwise. */
int ht_predict_format_of(const char *out, ht_predict_format *fmt);

/* Collective on comm->main: predicts every row of o->data with the model in
 * o->ckpt and writes o->out on rank 0 (nothing is left at o->out, or its old
 * contents stay, when anything fails). Returns 0 or an error every rank
 * agrees on; res is filled on every rank (total_s on rank 0). */
int ht_predict_checkpoint(const ht_predict_opts *o, const ht_comm *comm, ht_predict_result *res);

#endif
