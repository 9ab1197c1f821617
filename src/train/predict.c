/*
 * Predictions of a checkpoint's model (hytrain/predict.h): every rank runs
 * the forward pass over its shard, rank 0 receives the other shards in rank
 * order and writes them after its own, so the file's rows are the input's.
 *
 * Shapes: x [n, D] (this rank's normalised shard), cls [n], vals [n, C]
 * with C = K (classes) or T (regression targets).
 */
#include "hytrain/predict.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>

#include "hytrain/ckpt.h"
#include "hytrain/convert.h"
#include "hytrain/csr.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/eval.h"
#include "hytrain/model.h"
#include "hytrain/sparse_ckpt.h"
#include "hytrain/sparse_model.h"
#include "hytrain/timer.h"
#include "train/internal.h"
#include "train/predict_out.h"

/* Rows per message of the gather: bounded so a message's element count fits
 * MPI's int and rank 0's receive buffer stays small. */
#define GATHER_ROWS 65536
enum { TAG_CLASSES = 1601, TAG_VALUES = 1602 };

int ht_predict_format_of(const char *out, ht_predict_format *fmt) {
  const char *dot = out ? strrchr(out, '.') : NULL;
  if (dot && (strcasecmp(dot, ".h5") == 0 || strcasecmp(dot, ".hdf5") == 0)) {
    *fmt = HT_PREDICT_H5;
    return 0;
  }
  if (dot && strcasecmp(dot, ".csv") == 0) {
    *fmt = HT_PREDICT_CSV;
    return 0;
  }
  return ht_error(HT_EUSAGE, "--out %s: expected a file name ending in .h5, .hdf5 or .csv", out ? out : "(none)");
}

static ht_predict_kind kind_of(const ht_model *m) {
  switch (m->loss) {
  case HT_LOSS_SOFTMAX_CE:
  case HT_LOSS_SIGMOID_BCE: return HT_PREDICT_PROBABILITIES;
  case HT_LOSS_HINGE: return HT_PREDICT_SCORES;
  case HT_LOSS_MSE: return HT_PREDICT_VALUES;
  }
  return HT_PREDICT_VALUES;
}

/* Columns after the class: K (a logistic model's single logit gives 2). */
static int cols_of(const ht_model *m) { return m->loss == HT_LOSS_SIGMOID_BCE ? 2 : m->n_logits; }

/* Turns B rows of logits [B, n_logits] into vals [B, cols]: softmax
 * probabilities (computed in double, as exp(z - max) / sum), the logistic
 * pair 1 - s, s with s = 1 / (1 + exp(-z)), or the logits themselves. */
static void outputs(const ht_model *m, ht_predict_kind kind, const float *logits, int B, float *vals) {
  int C = m->n_logits;
  for (int r = 0; r < B; r++) {
    const float *z = logits + (size_t)r * (size_t)C;
    if (kind != HT_PREDICT_PROBABILITIES) {
      memcpy(vals + (size_t)r * (size_t)C, z, sizeof(float) * (size_t)C);
    } else if (m->loss == HT_LOSS_SIGMOID_BCE) {
      double s = 1.0 / (1.0 + exp(-(double)z[0]));
      vals[2 * (size_t)r] = (float)(1.0 - s);
      vals[2 * (size_t)r + 1] = (float)s;
    } else {
      double zmax = z[0], sum = 0;
      for (int c = 1; c < C; c++) zmax = z[c] > zmax ? z[c] : zmax;
      for (int c = 0; c < C; c++) sum += exp((double)z[c] - zmax);
      for (int c = 0; c < C; c++) vals[(size_t)r * C + c] = (float)(exp((double)z[c] - zmax) / sum);
    }
  }
}

/* This rank's predictions for its n normalised rows, in batches of
 * m->max_batch (the forward pass is the OpenMP-threaded one of training). */
static void predict_shard(ht_model *m, ht_predict_kind kind, int cols, const ht_dataset *ds, int32_t *cls, float *vals) {
  for (int64_t i = 0; i < ds->n; i += m->max_batch) {
    int B = (int)(ds->n - i < m->max_batch ? ds->n - i : m->max_batch);
    const float *logits = ht_model_forward(m, ds->x + (size_t)i * (size_t)ds->d, B);
    if (kind != HT_PREDICT_VALUES) ht_model_predict(m, B, cls + i);
    outputs(m, kind, logits, B, vals + (size_t)i * (size_t)cols);
  }
}

/* Rank r > 0: sends its rows to rank 0 in pieces of at most `piece` rows. */
static int send_rows(const ht_comm *comm, int64_t n, int cols, int piece, int with_classes, const int32_t *cls,
                     const float *vals) {
  for (int64_t i = 0; i < n; i += piece) {
    int k = (int)(n - i < piece ? n - i : piece);
    int rc = with_classes ? HT_MPI(MPI_Send(cls + i, k, MPI_INT32_T, 0, TAG_CLASSES, comm->main)) : 0;
    if (rc == 0) rc = HT_MPI(MPI_Send(vals + (size_t)i * (size_t)cols, k * cols, MPI_FLOAT, 0, TAG_VALUES, comm->main));
    if (rc < 0) return rc;
  }
  return 0;
}

/* Rank 0: writes its own rows, then receives every other rank's shard in
 * rank order and writes it. A write error stops the writing but not the
 * receiving, so no sender is left blocked; the first error is returned. */
static int gather_write(const ht_comm *comm, ht__predict_out *w, int64_t n_total, int cols, int piece,
                        int with_classes, const ht_dataset *ds, const int32_t *cls, const float *vals) {
  int rc = ht__predict_out_write(w, 0, ds->n, cls, vals);
  if (comm->size == 1) return rc;
  int32_t *rcls = malloc(sizeof(int32_t) * (size_t)piece);
  float *rvals = malloc(sizeof(float) * (size_t)piece * (size_t)cols);
  if (!rcls || !rvals) {
    /* Without buffers the others' rows cannot be taken; MPI_Abort is the only
     * way not to leave them blocked in MPI_Send. */
    free(rcls), free(rvals);
    ht_error(HT_ENOMEM, "out of memory for the gather of %d rows", piece);
    MPI_Abort(comm->main, ht_exit_code(HT_ENOMEM));
    return HT_ENOMEM;
  }
  for (int r = 1; r < comm->size; r++) {
    int64_t row0, n;
    ht_shard_range(n_total, r, comm->size, &row0, &n);
    for (int64_t i = 0; i < n; i += piece) {
      int k = (int)(n - i < piece ? n - i : piece);
      int mrc = with_classes ? HT_MPI(MPI_Recv(rcls, k, MPI_INT32_T, r, TAG_CLASSES, comm->main, MPI_STATUS_IGNORE)) : 0;
      if (mrc == 0) mrc = HT_MPI(MPI_Recv(rvals, k * cols, MPI_FLOAT, r, TAG_VALUES, comm->main, MPI_STATUS_IGNORE));
      if (mrc < 0 && rc == 0) rc = mrc;
      if (rc == 0) rc = ht__predict_out_write(w, row0 + i, k, rcls, rvals);
    }
  }
  free(rcls);
  free(rvals);
  return rc;
}

/* Refuses an output that is the input data or the checkpoint itself: the
 * rename would replace it. */
static int check_out_is_new(const char *out, const char *data, const char *ckpt) {
  struct stat so, si;
  if (stat(out, &so) != 0) return 0;
  const char *inputs[2] = {data, ckpt};
  for (int i = 0; i < 2; i++)
    if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
      return ht_error(HT_EUSAGE, "--out %s is the %s itself; choose another output file", out,
                      i == 0 ? "input data" : "checkpoint");
  return 0;
}

/* This rank's class and output columns for n rows (freed by the caller,
 * also when this fails). */
static int alloc_outputs(int64_t n, int cols, int32_t **cls, float **vals) {
  size_t rows = (size_t)(n > 0 ? n : 1);
  *cls = malloc(sizeof(int32_t) * rows);
  *vals = malloc(sizeof(float) * rows * (size_t)cols);
  if (!*cls || !*vals) return ht_error(HT_ENOMEM, "out of memory for the predictions of %lld rows", (long long)n);
  return 0;
}

/* The input the predictions are for: --data, else the checkpoint's
 * evaluation split (data.test, as the run recorded it). */
static int input_path(const ht_predict_opts *o, const char *recorded, ht_predict_result *res, const char **path) {
  *path = o->data && o->data[0] ? o->data : recorded;
  if (!(*path)[0]) return ht_error(HT_EUSAGE, "%s records no evaluation split; pass --data FILE", o->ckpt);
  snprintf(res->data_used, sizeof res->data_used, "%s", *path);
  return 0;
}

/* Rank 0 opens the output for rows x cols values of this kind. */
static int open_output(const ht_predict_opts *o, const ht_comm *comm, ht_predict_format fmt, const char *path,
                       int64_t rows, ht_predict_kind kind, int cols, ht__predict_out **w, ht_predict_result *res) {
  res->rows = rows;
  res->kind = kind;
  res->cols = cols;
  if (comm->rank != 0) return 0;
  HT_CHECK(check_out_is_new(o->out, path, o->ckpt));
  return ht__predict_out_open(w, o->out, fmt, kind, rows, cols, o->ckpt, path);
}

/* Everything up to the forward pass, on this rank (no collectives): the
 * model, the shard, and on rank 0 the open output file. */
static int prepare(const ht_predict_opts *o, const ht_comm *comm, ht_predict_format fmt, ht_dataset *ds, ht_model *m,
                   ht_norm *norm, ht__predict_out **w, ht_predict_result *res) {
  ht_model_spec spec;
  ht_ckpt_info info;
  HT_CHECK(ht_ckpt_load_spec(o->ckpt, &spec, &info));
  const char *path;
  HT_CHECK(input_path(o, info.data_test, res, &path));
  HT_CHECK(ht__eval_load(o->ckpt, path, o->max_batch, NULL, comm, &spec, 0, ds, m, norm));
  return open_output(o, comm, fmt, path, ds->n_total, kind_of(m), cols_of(m), w, res);
}

/* ---- sparse linear models (hytrain/sparse_ckpt.h) ---------------------- */

/* Output columns: logistic 1 - P(1), P(1); softmax K probabilities; svm its
 * one score z; linear its prediction. */
static ht_predict_kind sparse_kind(const ht_sparse_model *m) {
  return m->type == HT_MODEL_SVM ? HT_PREDICT_SCORES : m->type == HT_MODEL_LINEAR ? HT_PREDICT_VALUES : HT_PREDICT_PROBABILITIES;
}
static int sparse_cols(const ht_sparse_model *m) { return m->type == HT_MODEL_LOGISTIC ? 2 : m->k; }

/* A LIBSVM text file: every rank converts it (`hytrain convert libsvm` with
 * --dims of the model, any numeric labels) into a private temporary CSR file
 * and reads its shard from there, so no shared directory is needed. */
static int libsvm_rows(const char *path, const char *ckpt, int d, const ht_comm *comm, ht_csr *rows) {
  const char *base = getenv("TMPDIR");
  char dir[600], tmp[700];
  snprintf(dir, sizeof dir, "%s/hytrain-predict-XXXXXX", base && base[0] ? base : "/tmp");
  if (!mkdtemp(dir)) return ht_error(HT_EIO, "%s: cannot create a temporary directory to convert %s: %s", dir, path, strerror(errno));
  snprintf(tmp, sizeof tmp, "%s/rows.h5", dir);
  ht_libsvm_opts lo = {.dims = d, .task = HT_TASK_REGRESS, .base = HT_LIBSVM_BASE_AUTO, .format = HT_LIBSVM_OUT_CSR};
  int rc = ht_convert_libsvm(path, tmp, &lo);
  if (rc < 0) {
    char msg[1200];
    snprintf(msg, sizeof msg, "%s", ht_error_message());
    ht_error_clear(); /* the first message of a thread wins: restate it with the model's size */
    rc = ht_error(rc, "%s (the sparse model %s has %d features)", msg, ckpt, d);
  }
  if (rc == 0) rc = ht_csr_read_shard(rows, tmp, comm->rank, comm->size);
  if (rc == 0) snprintf(rows->path, sizeof rows->path, "%s", path);
  unlink(tmp);
  rmdir(dir);
  return rc;
}

/* This rank's rows of path for a model of d features: a CSR file's shard as
 * it is, a dense file's (/features only) shard with its zeros dropped, or a
 * LIBSVM text file's (any file that is not HDF5). */
static int sparse_rows(const char *path, const char *ckpt, int d, const ht_comm *comm, ht_csr *rows) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && HT_H5_QUIET(H5Fis_hdf5(path)) <= 0)
    return libsvm_rows(path, ckpt, d, comm, rows);
  if (ht_csr_is_csr(path)) {
    HT_CHECK(ht_csr_read_shard(rows, path, comm->rank, comm->size));
    if (rows->d != d) return ht_error(HT_ESHAPE, "%s: %d features per row, but the sparse model %s has %d", path, rows->d, ckpt, d);
    return 0;
  }
  ht_dataset ds;
  memset(&ds, 0, sizeof ds);
  int rc = ht_dataset_read_features(&ds, path, comm->rank, comm->size);
  if (rc == 0 && ds.d != d)
    rc = ht_error(HT_ESHAPE, "%s: a dense file of %d features per row, but the sparse model %s has %d", path, ds.d, ckpt, d);
  int64_t nnz = 0;
  for (int64_t i = 0; rc == 0 && i < ds.n * (int64_t)ds.d; i++) nnz += ds.x[i] != 0.0f;
  if (rc == 0) {
    memset(rows, 0, sizeof *rows);
    snprintf(rows->path, sizeof rows->path, "%s", path);
    rows->n_total = ds.n_total, rows->row0 = ds.row0, rows->n = ds.n, rows->d = ds.d;
    rows->indptr = malloc(sizeof(int64_t) * (size_t)(ds.n + 1));
    rows->indices = malloc(sizeof(int32_t) * (size_t)(nnz ? nnz : 1));
    rows->values = malloc(sizeof(float) * (size_t)(nnz ? nnz : 1));
    if (!rows->indptr || !rows->indices || !rows->values) rc = ht_error(HT_ENOMEM, "%s: out of memory for %lld non-zeros", path, (long long)nnz);
  }
  for (int64_t i = 0, k = 0; rc == 0 && i <= ds.n; i++) {
    rows->indptr[i] = k;
    for (int j = 0; i < ds.n && j < ds.d; j++) {
      float v = ds.x[(size_t)i * (size_t)ds.d + (size_t)j];
      if (v != 0.0f) rows->indices[k] = j, rows->values[k++] = v;
    }
  }
  ht_dataset_free(&ds);
  return rc;
}

/* Everything up to the outputs, on this rank (no collectives). */
static int sparse_prepare(const ht_predict_opts *o, const ht_comm *comm, ht_predict_format fmt, ht_sparse_model *m,
                          ht_csr *rows, ht__predict_out **w, ht_predict_result *res) {
  ht_sparse_ckpt_info in;
  HT_CHECK(ht_sparse_ckpt_read_info(o->ckpt, &in));
  const char *path;
  HT_CHECK(input_path(o, in.data_test, res, &path));
  HT_CHECK(ht_sparse_model_create(m, in.type, in.d, in.num_classes, in.l2));
  HT_CHECK(ht_sparse_ckpt_read_weights(o->ckpt, m));
  HT_CHECK(sparse_rows(path, o->ckpt, in.d, comm, rows));
  return open_output(o, comm, fmt, path, rows->n_total, sparse_kind(m), sparse_cols(m), w, res);
}

/* Class and output columns of every row, the formulas of the dense models. */
static void sparse_outputs(const ht_sparse_model *m, const ht_csr *rows, int cols, int32_t *cls, float *vals) {
  float z[m->k];
  for (int64_t i = 0; i < rows->n; i++) {
    int64_t a = rows->indptr[i];
    ht_sparse_predict(m, rows->indices + a, rows->values + a, rows->indptr[i + 1] - a, z);
    float *v = vals + (size_t)i * (size_t)cols;
    if (m->type == HT_MODEL_LOGISTIC) {
      double p = 1.0 / (1.0 + exp(-(double)z[0]));
      v[0] = (float)(1.0 - p), v[1] = (float)p, cls[i] = z[0] > 0;
    } else if (m->type == HT_MODEL_SVM) {
      v[0] = z[0], cls[i] = z[0] > 0;
    } else if (m->type == HT_MODEL_LINEAR) {
      v[0] = z[0];
    } else {
      double zmax = z[0], sum = 0;
      int best = 0;
      for (int c = 1; c < m->k; c++)
        if (z[c] > z[best]) best = c;
      zmax = z[best];
      for (int c = 0; c < m->k; c++) sum += exp((double)z[c] - zmax);
      for (int c = 0; c < m->k; c++) v[c] = (float)(exp((double)z[c] - zmax) / sum);
      cls[i] = best;
    }
  }
}

static int predict_sparse(const ht_predict_opts *o, const ht_comm *comm, ht_predict_format fmt, ht_predict_result *res,
                          double t0) {
  ht_sparse_model m;
  ht_csr rows;
  memset(&m, 0, sizeof m);
  memset(&rows, 0, sizeof rows);
  ht__predict_out *w = NULL;
  int32_t *cls = NULL;
  float *vals = NULL;
  int rc = sparse_prepare(o, comm, fmt, &m, &rows, &w, res);
  if (rc == 0) rc = alloc_outputs(rows.n, res->cols, &cls, &vals);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  double tf = ht_now();
  sparse_outputs(&m, &rows, res->cols, cls, vals);
  double forward_s = ht_now() - tf;
  HT_CHECK_MPI_GOTO(MPI_Allreduce(&forward_s, &res->forward_s, 1, MPI_DOUBLE, MPI_MAX, comm->main), rc, done);
  int piece = GATHER_ROWS;
  if (piece > INT_MAX / res->cols) piece = INT_MAX / res->cols;
  ht_dataset mine; /* gather_write needs this rank's row count only */
  memset(&mine, 0, sizeof mine);
  mine.n = rows.n;
  ht_comm_stall_enter(comm, "the gather of the predictions (MPI_Send/MPI_Recv)");
  if (comm->rank == 0)
    rc = gather_write(comm, w, rows.n_total, res->cols, piece, res->kind != HT_PREDICT_VALUES, &mine, cls, vals);
  else
    rc = send_rows(comm, rows.n, res->cols, piece, res->kind != HT_PREDICT_VALUES, cls, vals);
  ht_comm_stall_leave(comm);
  if (rc == 0 && w) rc = ht__predict_out_commit(&w);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  res->total_s = ht_now() - t0;
done:
  ht__predict_out_discard(&w);
  free(cls);
  free(vals);
  ht_sparse_model_destroy(&m);
  ht_csr_free(&rows);
  return rc;
}

int ht_predict_checkpoint(const ht_predict_opts *o, const ht_comm *comm, ht_predict_result *res) {
  double t0 = ht_now();
  memset(res, 0, sizeof *res);
  if (o->ckpt && ht_sparse_ckpt_is_sparse(o->ckpt)) {
    ht_predict_format fmt = HT_PREDICT_H5;
    int rc = ht_predict_format_of(o->out, &fmt);
    if (rc == 0) rc = predict_sparse(o, comm, fmt, res, t0);
    return rc;
  }
  ht_dataset ds;
  ht_model m;
  ht_norm norm;
  memset(&ds, 0, sizeof ds);
  memset(&m, 0, sizeof m);
  memset(&norm, 0, sizeof norm);
  ht__predict_out *w = NULL;
  int32_t *cls = NULL;
  float *vals = NULL;
  ht_predict_format fmt = HT_PREDICT_H5;
  int rc = ht_predict_format_of(o->out, &fmt);
  if (rc == 0 && o->max_batch < 1) rc = ht_error(HT_EUSAGE, "--batch must be a positive integer");
  if (rc == 0) rc = prepare(o, comm, fmt, &ds, &m, &norm, &w, res);
  if (rc == 0) rc = alloc_outputs(ds.n, res->cols, &cls, &vals);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);

  double tf = ht_now();
  predict_shard(&m, res->kind, res->cols, &ds, cls, vals);
  double forward_s = ht_now() - tf;
  /* The slowest rank sets the rate; every rank learns it. */
  HT_CHECK_MPI_GOTO(MPI_Allreduce(&forward_s, &res->forward_s, 1, MPI_DOUBLE, MPI_MAX, comm->main), rc, done);

  int piece = GATHER_ROWS;
  if (piece > INT_MAX / res->cols) piece = INT_MAX / res->cols;
  if (piece < 1) piece = 1;
  int with_classes = res->kind != HT_PREDICT_VALUES;
  ht_comm_stall_enter(comm, "the gather of the predictions (MPI_Send/MPI_Recv)");
  if (comm->rank == 0)
    rc = gather_write(comm, w, ds.n_total, res->cols, piece, with_classes, &ds, cls, vals);
  else
    rc = send_rows(comm, ds.n, res->cols, piece, with_classes, cls, vals);
  ht_comm_stall_leave(comm);
  if (rc == 0 && w) rc = ht__predict_out_commit(&w);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  res->total_s = ht_now() - t0;
done:
  ht__predict_out_discard(&w);
  free(cls);
  free(vals);
  ht_model_destroy(&m);
  ht_norm_free(&norm);
  ht_dataset_free(&ds);
  return rc;
}
