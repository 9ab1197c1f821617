/*
 * Evaluating a model on a dataset (src/train/eval.c), shared by the training
 * run (after each epoch), `hytrain eval` and `hytrain predict` (predict.h).
 *
 * Each rank holds a shard of the rows; ht_eval_model adds up its rows' loss,
 * correct predictions and squared errors and sums them over the ranks, so
 * every rank gets the metrics of the whole dataset.
 */
#ifndef HYTRAIN_EVAL_H
#define HYTRAIN_EVAL_H

#include <stdint.h>

#include "hytrain/comm.h"
#include "hytrain/config.h"
#include "hytrain/dataset.h"
#include "hytrain/model.h"

/* Metrics over every rank's rows. */
typedef struct ht_eval_metrics {
  int64_t rows;     /* rows evaluated, all ranks */
  double loss;      /* mean per-row loss (no L2) */
  double accuracy;  /* classification: fraction correct; -1 for regression */
  double rmse;      /* regression: over all targets; -1 for classification */
} ht_eval_metrics;

/* What a dataset must look like to be evaluated: taken from the training data
 * or from a model's spec. */
typedef struct ht_data_shape {
  int features;     /* D */
  int regression;   /* 1: float targets, 0: class labels */
  int classes;      /* classification: most classes allowed */
  int targets;      /* regression: T */
} ht_data_shape;

void ht_data_shape_of_dataset(const ht_dataset *ds, ht_data_shape *s);
void ht_data_shape_of_spec(const ht_model_spec *spec, ht_data_shape *s);

/* Checks only that ds (read from path) has want's features per row (data
 * without labels, for prediction). Returns 0 or HT_ESHAPE. Not collective. */
int ht_eval_check_features(const ht_dataset *ds, const char *path, const ht_data_shape *want, const char *against);

/* Checks that ds (read from path) fits want: the same features, the same kind
 * of labels, no more classes, the same targets. against names what want came
 * from in the message ("the training data x.h5", "the model in ckpt.h5").
 * Returns 0, HT_ESHAPE or HT_EDATA. Not collective. */
int ht_eval_check_data(const ht_dataset *ds, const char *path, const ht_data_shape *want, const char *against);

/* Collective on comm->main: evaluates m on this rank's rows of ds (already
 * normalised, shape checked) in batches of m->max_batch and sums over the
 * ranks. Allocates nothing. Returns 0 or HT_EMPI. */
int ht_eval_model(ht_model *m, const ht_dataset *ds, const ht_comm *comm, ht_eval_metrics *out);

/* Collective on comm->main: rebuilds the model stored in checkpoint ckpt
 * (batches of max_batch rows; GEMM backend and precision gemm, NULL for the
 * reference openblas fp32), reads this rank's shard of data (NULL or "":
 * the evaluation split recorded in the checkpoint), applies the checkpoint's
 * normalisation, checks the data against the model and evaluates it. The
 * path evaluated is written to data_used (HT_PATH_MAX bytes) and task to the
 * data's task. Returns 0 or an error every rank agrees on. */
int ht_eval_checkpoint(const char *ckpt, const char *data, int max_batch, const ht_gemm_opts *gemm, const ht_comm *comm,
                       ht_eval_metrics *out, char *data_used, ht_task *task);

#endif
