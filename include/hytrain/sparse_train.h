/*
 * Evaluating sparse linear models (the training run itself is ht_train_ex
 * with train.engine hogwild | locked | serial; docs/sparse.md).
 */
#ifndef HYTRAIN_SPARSE_TRAIN_H
#define HYTRAIN_SPARSE_TRAIN_H

#include <stddef.h>

#include "hytrain/comm.h"
#include "hytrain/csr.h"
#include "hytrain/eval.h"
#include "hytrain/sparse_model.h"

/* Collective on comm->main: the mean row loss (no L2) and the accuracy
 * (classification) or RMSE (regression) of m over every rank's shard of ds.
 * Returns 0 or HT_EMPI. */
int ht_sparse_eval(const ht_sparse_model *m, const ht_csr *ds, const ht_comm *comm, ht_eval_metrics *out);

/* Collective on comm->main (`hytrain eval` of a sparse checkpoint): loads
 * the checkpoint, reads every rank's shard of data (NULL: the checkpoint's
 * data_test; the file used is written to used[len]), checks that it fits
 * the model, evaluates. Errors are agreed across ranks. */
int ht_sparse_eval_checkpoint(const char *ckpt, const char *data, const ht_comm *comm, ht_eval_metrics *out, char *used,
                              size_t len);

#endif
