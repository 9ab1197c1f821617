/*
 * Evaluation over rank shards (src/train/eval.c), run at 1, 2 and 4 ranks.
 *
 * Every rank generates the same N-row dataset and keeps its shard
 * (ht_shard_range); ht_eval_model on the shards, in batches smaller than a
 * shard, must give the metrics of the whole dataset computed here directly
 * from the weights (an independent loop over all rows in double): softmax
 * loss and accuracy, and a linear model's RMSE. 5 rows over 4 ranks leave
 * some shards with one row. Rank 0 also checks ht_eval_check_data's messages.
 * Every rank returns the same exit code (a failure flag is allreduced).
 */
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "ht_rank_check.h"
#include "hytrain/eval.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 3
#define K 3 /* classes */
#define T 2 /* regression targets */

#define CHECK(cond, ...) HT_RANK_CHECK(rank, *fail, cond, __VA_ARGS__)

static float feature(int64_t i, int j) { return (float)sin(0.7 * (double)i + 1.3 * j); }
static int32_t label(int64_t i) { return (int32_t)((i * 7) % K); }
static float target(int64_t i, int k) { return (float)cos(0.3 * (double)i + k); }

/* This rank's shard of the N-row dataset, built in memory. */
static void make_shard(ht_dataset *ds, int64_t n_total, int regression, int rank, int size) {
  memset(ds, 0, sizeof ds[0]);
  ht_shard_range(n_total, rank, size, &ds->row0, &ds->n);
  ds->n_total = n_total;
  ds->d = D;
  ds->task = regression ? HT_TASK_REGRESS : HT_TASK_CLASSIFY;
  ds->num_classes = regression ? 0 : K;
  ds->t = regression ? T : 1;
  ds->x = malloc(sizeof(float) * (size_t)(ds->n * D + 1));
  if (regression) ds->yt = malloc(sizeof(float) * (size_t)(ds->n * T + 1));
  else ds->y = malloc(sizeof(int32_t) * (size_t)(ds->n + 1));
  for (int64_t r = 0; r < ds->n; r++) {
    int64_t i = ds->row0 + r;
    for (int j = 0; j < D; j++) ds->x[r * D + j] = feature(i, j);
    if (regression)
      for (int k = 0; k < T; k++) ds->yt[r * T + k] = target(i, k);
    else
      ds->y[r] = label(i);
  }
}

/* Row i's outputs of the single dense layer of m, in double. */
static void outputs(const ht_model *m, int64_t i, int out, double *z) {
  const ht_layer *L = &m->layers[0];
  for (int o = 0; o < out; o++) {
    double s = m->params[L->b_off + (size_t)o];
    for (int j = 0; j < D; j++) s += (double)m->params[L->w_off + (size_t)o * D + (size_t)j] * feature(i, j);
    z[o] = s;
  }
}

/* A one-layer model of type over D features with out outputs, batches of
 * max_batch rows, weights drawn from seed. */
static void make_model(ht_model *m, ht_model_type type, int out, int regression, int max_batch, uint64_t seed, int rank,
                       int *fail) {
  ht_model_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.type = type;
  spec.init = HT_INIT_AUTO;
  spec.in = D;
  spec.out = out;
  spec.regression = regression;
  memset(m, 0, sizeof *m);
  CHECK(ht_model_create(m, &spec, max_batch) == 0, "%s", ht_error_message());
  ht_model_init(m, seed);
}

static void check_softmax(const ht_comm *comm, int64_t n_total, int *fail) {
  int rank = comm->rank;
  ht_model m;
  make_model(&m, HT_MODEL_SOFTMAX, K, 0, 2, 7, rank, fail);
  double loss = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < n_total; i++) {
    double z[K], mx = -INFINITY, se = 0;
    outputs(&m, i, K, z);
    int arg = 0;
    for (int o = 0; o < K; o++) {
      if (z[o] > mx) mx = z[o], arg = o;
    }
    for (int o = 0; o < K; o++) se += exp(z[o] - mx);
    loss += mx + log(se) - z[label(i)];
    correct += arg == label(i);
  }
  ht_dataset ds;
  make_shard(&ds, n_total, 0, rank, comm->size);
  ht_eval_metrics ev;
  CHECK(ht_eval_model(&m, &ds, comm, &ev) == 0, "%s", ht_error_message());
  CHECK(ev.rows == n_total, "rows %lld, want %lld", (long long)ev.rows, (long long)n_total);
  CHECK(fabs(ev.loss - loss / n_total) <= 1e-5 * fabs(loss / n_total) + 1e-6, "loss %.9g, want %.9g", ev.loss, loss / n_total);
  CHECK(fabs(ev.accuracy - (double)correct / n_total) < 1e-12, "accuracy %.9g, want %.9g", ev.accuracy, (double)correct / n_total);
  CHECK(ev.rmse == -1, "rmse %g for a classifier, want -1", ev.rmse);
  ht_model_destroy(&m);
  ht_dataset_free(&ds);
}

static void check_linear(const ht_comm *comm, int64_t n_total, int *fail) {
  int rank = comm->rank;
  ht_model m;
  make_model(&m, HT_MODEL_LINEAR, T, 1, 3, 11, rank, fail);
  double sse = 0;
  for (int64_t i = 0; i < n_total; i++) {
    double z[T];
    outputs(&m, i, T, z);
    for (int k = 0; k < T; k++) sse += (z[k] - target(i, k)) * (z[k] - target(i, k));
  }
  double rmse = sqrt(sse / ((double)n_total * T));
  ht_dataset ds;
  make_shard(&ds, n_total, 1, rank, comm->size);
  ht_eval_metrics ev;
  CHECK(ht_eval_model(&m, &ds, comm, &ev) == 0, "%s", ht_error_message());
  CHECK(ev.rows == n_total, "rows %lld, want %lld", (long long)ev.rows, (long long)n_total);
  CHECK(fabs(ev.rmse - rmse) <= 1e-5 * rmse + 1e-7, "rmse %.9g, want %.9g", ev.rmse, rmse);
  CHECK(ev.accuracy == -1, "accuracy %g for regression, want -1", ev.accuracy);
  ht_model_destroy(&m);
  ht_dataset_free(&ds);
}

/* Each mismatch is refused with its own message naming the file and what it
 * was checked against. */
static void check_inputs(int rank, int *fail) {
  ht_dataset ds;
  make_shard(&ds, 4, 0, 0, 1);
  ht_data_shape want = {.features = D, .regression = 0, .classes = K, .targets = 0};
  CHECK(ht_eval_check_data(&ds, "t.h5", &want, "the model in m.h5") == 0, "%s", ht_error_message());
  struct {
    ht_data_shape want;
    int code;
    const char *msg;
  } bad[] = {
      {{D + 1, 0, K, 0}, HT_ESHAPE, "t.h5: 3 features per row, but the model in m.h5 has 4"},
      {{D, 1, 0, 1}, HT_EDATA, "t.h5: class labels, but the model in m.h5 has regression labels"},
      {{D, 0, K - 1, 0}, HT_EDATA, "t.h5: 3 classes, but the model in m.h5 has 2"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ht_error_clear();
    int rc = ht_eval_check_data(&ds, "t.h5", &bad[i].want, "the model in m.h5");
    CHECK(rc == bad[i].code, "case %zu: code %d, want %d", i, rc, bad[i].code);
    CHECK(strcmp(ht_error_message(), bad[i].msg) == 0, "case %zu: '%s', want '%s'", i, ht_error_message(), bad[i].msg);
  }
  ht_dataset_free(&ds);
  make_shard(&ds, 4, 1, 0, 1);
  ht_data_shape reg = {.features = D, .regression = 1, .classes = 0, .targets = T + 1};
  ht_error_clear();
  CHECK(ht_eval_check_data(&ds, "r.h5", &reg, "the training data x.h5") == HT_ESHAPE, "targets mismatch accepted");
  CHECK(strcmp(ht_error_message(), "r.h5: 2 targets per row, but the training data x.h5 has 3") == 0, "'%s'",
        ht_error_message());
  ht_error_clear();
  ht_dataset_free(&ds);
}

int main(int argc, char **argv) {
  ht_comm comm;
  if (ht_comm_init(&comm, &argc, &argv) != 0) {
    fprintf(stderr, "ht_comm_init: %s\n", ht_error_message());
    return 1;
  }
  int fail = 0;
  check_softmax(&comm, 37, &fail);
  check_softmax(&comm, 5, &fail);
  check_linear(&comm, 29, &fail);
  if (comm.rank == 0) check_inputs(comm.rank, &fail);
  MPI_Allreduce(MPI_IN_PLACE, &fail, 1, MPI_INT, MPI_SUM, comm.main);
  if (comm.rank == 0) printf("test_eval: %d ranks, %d failed checks\n", comm.size, fail);
  ht_comm_finalize(&comm);
  return fail ? 1 : 0;
}
