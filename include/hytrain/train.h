/*
 * The training run: data, model, optimizer, data-parallel steps, evaluation,
 * metrics and the run directory.
 */
#ifndef HYTRAIN_TRAIN_H
#define HYTRAIN_TRAIN_H

#include <stdint.h>

#include "hytrain/comm.h"
#include "hytrain/config.h"

typedef struct ht_train_result {
  int64_t steps;           /* optimizer steps taken */
  double train_loss;       /* mean loss of the last epoch (or partial epoch) */
  double test_accuracy;    /* classification, last evaluation (-1 if none) */
  double test_rmse;        /* regression, last evaluation (-1 if none) */
  char run_dir[HT_PATH_MAX];
} ht_train_result;

/* Collective on comm->main and comm->grad: runs a whole training job as
 * configured. Validates every input (datasets, shapes, labels, model/config
 * fit) on all ranks before the run directory is created, so bad input leaves
 * no output behind. run_dir: "" derives runs/<experiment>/<run-id>. Returns 0
 * or an HT_E* code that every rank agrees on; failures that happen on one rank
 * mid-step end the job with ht_comm_abort. */
int ht_train(const ht_config *cfg, const ht_comm *comm, const char *run_dir, ht_train_result *res);

/* Options of one run that are not part of the experiment's config. */
typedef struct ht_train_opts {
  const char *run_dir;    /* NULL or "": derive <run.root>/<experiment>/<run-id> */
  const char *resume;     /* NULL: fresh start; "auto", a checkpoint file, or a run/checkpoint directory */
  int64_t stop_at_step;   /* > 0: once this step is reached, checkpoint and return HT_ESTOPPED */
  const char *timeline;   /* write a Chrome trace JSON here at the end (NULL: none) */
} ht_train_opts;

/* ht_train with options: resume (docs/checkpoint-format.md), a planned stop
 * and a timeline. Collective likewise. Returns HT_ESTOPPED (exit code 75)
 * after a stop signal or stop_at_step, once the checkpoint is committed. */
int ht_train_ex(const ht_config *cfg, const ht_comm *comm, const ht_train_opts *opts, ht_train_result *res);

/* Builds a model spec from the config and the dataset's shape. */
struct ht_model_spec;
struct ht_dataset;
int ht_train_model_spec(const ht_config *cfg, const struct ht_dataset *ds, struct ht_model_spec *spec);

#endif
