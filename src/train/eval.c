/* Evaluation of a model on a dataset shard, with the sums over ranks (hytrain/eval.h). */
#include "hytrain/eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hytrain/ckpt.h"
#include "hytrain/error.h"
#include "train/internal.h"

static const char *labels_name(int regression) { return regression ? "regression" : "class"; }

void ht_data_shape_of_dataset(const ht_dataset *ds, ht_data_shape *s) {
  s->features = ds->d;
  s->regression = ds->task == HT_TASK_REGRESS;
  s->classes = s->regression ? 0 : ds->num_classes;
  s->targets = s->regression ? ds->t : 0;
}

void ht_data_shape_of_spec(const ht_model_spec *spec, ht_data_shape *s) {
  s->features = spec->in;
  s->regression = spec->regression != 0;
  s->classes = s->regression ? 0 : spec->out;
  s->targets = s->regression ? spec->out : 0;
}

int ht_eval_check_features(const ht_dataset *ds, const char *path, const ht_data_shape *want, const char *against) {
  if (ds->d != want->features)
    return ht_error(HT_ESHAPE, "%s: %d features per row, but %s has %d", path, ds->d, against, want->features);
  return 0;
}

int ht_eval_check_data(const ht_dataset *ds, const char *path, const ht_data_shape *want, const char *against) {
  int regression = ds->task == HT_TASK_REGRESS;
  HT_CHECK(ht_eval_check_features(ds, path, want, against));
  if (regression != want->regression)
    return ht_error(HT_EDATA, "%s: %s labels, but %s has %s labels", path, labels_name(regression), against,
                    labels_name(want->regression));
  if (!regression && ds->num_classes > want->classes)
    return ht_error(HT_EDATA, "%s: %d classes%s, but %s has %d", path, ds->num_classes,
                    ds->classes_inferred ? " (inferred from its largest label)" : "", against, want->classes);
  if (regression && ds->t != want->targets)
    return ht_error(HT_ESHAPE, "%s: %d targets per row, but %s has %d", path, ds->t, against, want->targets);
  return 0;
}

int ht_eval_model(ht_model *m, const ht_dataset *ds, const ht_comm *comm, ht_eval_metrics *out) {
  double sums[4] = {0, 0, 0, (double)ds->n}; /* loss, correct, sse, rows */
  int64_t correct = 0;
  int eb = m->max_batch;
  for (int64_t i = 0; i < ds->n; i += eb) {
    int n = (int)(ds->n - i < eb ? ds->n - i : eb);
    ht_model_eval(m, ds->x + (size_t)i * (size_t)ds->d, ds->y ? ds->y + i : NULL,
                  ds->yt ? ds->yt + (size_t)i * (size_t)ds->t : NULL, n, &sums[0], &correct, &sums[2]);
  }
  sums[1] = (double)correct;
  ht_comm_stall_enter(comm, "the evaluation's sums (MPI_Allreduce)");
  int rc = HT_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 4, MPI_DOUBLE, MPI_SUM, comm->main));
  ht_comm_stall_leave(comm);
  if (rc < 0) return rc;
  double rows = sums[3] > 0 ? sums[3] : 1;
  out->rows = (int64_t)sums[3];
  out->loss = sums[0] / rows;
  out->accuracy = ds->task == HT_TASK_CLASSIFY ? sums[1] / rows : -1;
  out->rmse = ds->task == HT_TASK_REGRESS ? sqrt(sums[2] / (rows * (ds->t > 0 ? ds->t : 1))) : -1;
  return 0;
}

int ht__eval_load(const char *ckpt, const char *path, int max_batch, const ht_gemm_opts *gemm, const ht_comm *comm,
                  const ht_model_spec *spec, int labels, ht_dataset *ds, ht_model *m, ht_norm *norm) {
  if (labels)
    HT_CHECK(ht_dataset_read_shard(ds, path, comm->rank, comm->size));
  else
    HT_CHECK(ht_dataset_read_features(ds, path, comm->rank, comm->size));
  ht_data_shape want;
  ht_data_shape_of_spec(spec, &want);
  char against[HT_PATH_MAX + 16];
  snprintf(against, sizeof against, "the model in %s", ckpt);
  if (labels)
    HT_CHECK(ht_eval_check_data(ds, path, &want, against));
  else
    HT_CHECK(ht_eval_check_features(ds, path, &want, against));
  HT_CHECK(ht_model_create(m, spec, max_batch));
  if (gemm) HT_CHECK(ht_model_set_compute(m, gemm));
  HT_CHECK(ht_ckpt_load_params(ckpt, m, norm));
  ht_norm_apply(norm, ds->x, ds->n);
  return 0;
}

int ht_eval_checkpoint(const char *ckpt, const char *data, int max_batch, const ht_gemm_opts *gemm, const ht_comm *comm,
                       ht_eval_metrics *out, char *data_used, ht_task *task) {
  ht_model_spec spec;
  ht_ckpt_info info;
  ht_dataset ds;
  ht_model m;
  ht_norm norm;
  memset(&ds, 0, sizeof ds);
  memset(&m, 0, sizeof m);
  memset(&norm, 0, sizeof norm);
  int rc = ht_ckpt_load_spec(ckpt, &spec, &info);
  const char *path = data && data[0] ? data : info.data_test;
  if (rc == 0 && !path[0]) rc = ht_error(HT_EUSAGE, "%s records no evaluation split; pass --data FILE", ckpt);
  if (rc == 0) rc = ht__eval_load(ckpt, path, max_batch, gemm, comm, &spec, 1, &ds, &m, &norm);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  HT_CHECK_GOTO(ht_eval_model(&m, &ds, comm, out), rc, done);
  snprintf(data_used, HT_PATH_MAX, "%s", path);
  *task = ds.task;
done:
  ht_model_destroy(&m);
  ht_norm_free(&norm);
  ht_dataset_free(&ds);
  return rc;
}
