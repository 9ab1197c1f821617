/* Evaluation of sparse linear models (hytrain/sparse_train.h). */
#include "hytrain/sparse_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/sparse_ckpt.h"

int ht_sparse_eval(const ht_sparse_model *m, const ht_csr *ds, const ht_comm *comm, ht_eval_metrics *out) {
  /* sums[0] loss, [1] correct, [2] squared error, [3] rows; in double, each
   * rank in row order, then MPI_SUM (the same order on every rank). */
  double sums[4] = {0, 0, 0, 0}, all[4];
  float z[64], dz[64], *zb = z, *dzb = dz;
  float *heap = NULL;
  if (m->k > 64) {
    heap = malloc(sizeof(float) * 2 * (size_t)m->k);
    if (!heap) return ht_error(HT_ENOMEM, "out of memory for %d outputs", m->k);
    zb = heap;
    dzb = heap + m->k;
  }
  for (int64_t r = 0; r < ds->n; r++) {
    int64_t k0 = ds->indptr[r], nnz = ds->indptr[r + 1] - k0;
    ht_sparse_predict(m, ds->indices + k0, ds->values + k0, nnz, zb);
    int32_t y = ds->y ? ds->y[r] : 0;
    float t = ds->yt ? ds->yt[r] : 0;
    sums[0] += ht_sparse_loss(m->type, m->k, zb, y, t, dzb);
    if (m->type == HT_MODEL_LINEAR) {
      sums[2] += ((double)zb[0] - t) * ((double)zb[0] - t);
    } else if (m->k == 1) {
      sums[1] += (zb[0] > 0) == (y == 1);
    } else {
      int best = 0;
      for (int c = 1; c < m->k; c++)
        if (zb[c] > zb[best]) best = c;
      sums[1] += best == y;
    }
    sums[3] += 1;
  }
  free(heap);
  ht_comm_stall_enter(comm, "the sparse evaluation's sums (MPI_Allreduce)");
  int rc = HT_MPI(MPI_Allreduce(sums, all, 4, MPI_DOUBLE, MPI_SUM, comm->main));
  ht_comm_stall_leave(comm);
  HT_CHECK(rc);
  double n = all[3] > 0 ? all[3] : 1;
  out->rows = (int64_t)all[3];
  out->loss = all[0] / n;
  out->accuracy = m->type == HT_MODEL_LINEAR ? -1 : all[1] / n;
  out->rmse = m->type == HT_MODEL_LINEAR ? sqrt(all[2] / n) : -1;
  return 0;
}

/* This rank's part of ht_sparse_eval_checkpoint (no collectives). */
static int load(const char *ckpt, const char *data, const ht_comm *comm, ht_sparse_model *m, ht_csr *ds, char *used,
                size_t len) {
  ht_sparse_ckpt_info in;
  HT_CHECK(ht_sparse_ckpt_read_info(ckpt, &in));
  const char *path = data && data[0] ? data : in.data_test;
  if (!path[0]) return ht_error(HT_EUSAGE, "%s: the checkpoint names no test set; give --data FILE", ckpt);
  snprintf(used, len, "%s", path);
  HT_CHECK(ht_csr_read_shard(ds, path, comm->rank, comm->size));
  if (ds->d != in.d) return ht_error(HT_ESHAPE, "%s: %d features per row, but the model %s has %d", path, ds->d, ckpt, in.d);
  if ((ds->task == HT_TASK_REGRESS) != (in.num_classes == 0) || (in.num_classes && ds->num_classes > in.num_classes))
    return ht_error(HT_EDATA, "%s: labels do not fit the model %s (%d classes; 0 = regression)", path, ckpt, in.num_classes);
  HT_CHECK(ht_sparse_model_create(m, in.type, in.d, in.num_classes, in.l2));
  HT_CHECK(ht_sparse_ckpt_read_weights(ckpt, m));
  return 0;
}

int ht_sparse_eval_checkpoint(const char *ckpt, const char *data, const ht_comm *comm, ht_eval_metrics *out, char *used,
                              size_t len) {
  ht_sparse_model m;
  ht_csr ds;
  memset(&m, 0, sizeof m);
  memset(&ds, 0, sizeof ds);
  int rc = ht_comm_agree(comm, load(ckpt, data, comm, &m, &ds, used, len));
  if (rc == 0) rc = ht_sparse_eval(&m, &ds, comm, out);
  ht_sparse_model_destroy(&m);
  ht_csr_free(&ds);
  return rc;
}
