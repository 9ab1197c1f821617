/*
 * Data parallelism, checked against a 1-process reference.
 *
 * Every rank builds the same global batch of G = P*b rows for each step (from
 * a seeded generator), takes rows [rank*b, (rank+1)*b), computes its gradient,
 * averages it over ranks (ht_comm_allreduce_mean) and updates. Rank 0 also
 * trains a reference model in-process on all G rows at once. After several
 * steps the weights must agree within relative 1e-5, for every model type and
 * both optimizers. Then the whole distributed run is repeated and must give
 * bit-identical weights (determinism).
 * Usage: mpitest_data_parallel   (any number of ranks; exit code 0 = pass)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_cases.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/rng.h"

#define D HT_CASE_D
#define K HT_CASE_K
#define B_LOCAL 8
#define STEPS 6

typedef ht_case tcase;

static const tcase cases[] = {
    {"softmax", "relu", "sgd", 0, K, 0, {0}},       {"logistic", "relu", "adamw", 0, 2, 0, {0}},
    {"linear", "relu", "sgd", 1, 2, 0, {0}},        {"svm", "relu", "sgd", 0, K, 0, {0}},
    {"mlp", "relu", "sgd", 0, K, 2, {16, 8}},       {"mlp", "tanh", "adamw", 0, K, 2, {10, 6}},
    {"mlp", "sigmoid", "adamw", 1, 2, 1, {9, 0}},
};

/* Global batch for a step: features x [G, D], labels y [G] or targets t [G, out]. */
static void make_batch(int step, int G, const tcase *c, float *x, int32_t *y, float *t) {
  ht_case_batch(c, 1234, step, G, x, y, t);
}

static int build(ht_model *m, ht_optim *o, const tcase *c, int max_batch) {
  return ht_case_build(c, max_batch, 1, m, o);
}

/* Distributed training on comm; final params copied into out. */
static int train_distributed(const ht_comm *comm, const tcase *c, float *out) {
  int G = B_LOCAL * comm->size;
  ht_model m;
  ht_optim o;
  HT_CHECK(build(&m, &o, c, B_LOCAL));
  float *x = malloc(sizeof(float) * (size_t)G * D), *t = malloc(sizeof(float) * (size_t)G * (size_t)c->out);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)G);
  for (int s = 0; s < STEPS; s++) {
    make_batch(s, G, c, x, y, t);
    int r0 = comm->rank * B_LOCAL;
    ht_model_step(&m, x + (size_t)r0 * D, c->regression ? NULL : y + r0, c->regression ? t + (size_t)r0 * c->out : NULL,
                  B_LOCAL, NULL, NULL);
    HT_CHECK(ht_comm_allreduce_mean(comm, m.grads, m.n_params));
    ht_optim_begin_step(&o);
    ht_optim_update(&o, m.params, m.grads, 0, m.n_params, 0.05);
  }
  memcpy(out, m.params, sizeof(float) * m.n_params);
  free(x);
  free(y);
  free(t);
  ht_optim_destroy(&o);
  ht_model_destroy(&m);
  return 0;
}


int main(int argc, char **argv) {
  ht_comm comm;
  if (ht_comm_init(&comm, &argc, &argv) < 0) {
    fprintf(stderr, "init failed: %s\n", ht_error_message());
    return 1;
  }
  int failed = 0;
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const tcase *c = &cases[ci];
    float *a = calloc(4096, sizeof(float)), *b = calloc(4096, sizeof(float)), *ref = calloc(4096, sizeof(float));
    size_t n = 0;
    int rc = train_distributed(&comm, c, a);
    if (rc == 0) rc = train_distributed(&comm, c, b);
    if (rc < 0) {
      fprintf(stderr, "[rank %d] %s: %s\n", comm.rank, c->type, ht_error_message());
      failed = 1;
    }
    if (rc == 0 && comm.rank == 0) {
      ht_case_train_reference(c, 1234, 1, B_LOCAL * comm.size, STEPS, 0.05, ref, &n);
      double maxdiff = 0, maxref = 0;
      for (size_t i = 0; i < n; i++) {
        maxdiff = fmax(maxdiff, fabs((double)a[i] - ref[i]));
        maxref = fmax(maxref, fabs((double)ref[i]));
      }
      int same = memcmp(a, b, n * sizeof(float)) == 0;
      int close = maxdiff <= 1e-5 * maxref;
      printf("%-8s %-7s %-5s P=%d: max|P ranks - 1 rank| = %.3g (max|w| %.3g, tol %.3g) %s; repeat %s\n", c->type,
             c->activation, c->optim, comm.size, maxdiff, maxref, 1e-5 * maxref, close ? "ok" : "FAIL",
             same ? "bit-identical" : "DIFFERS");
      if (!close || !same || n == 0) failed = 1;
    }
    free(a);
    free(b);
    free(ref);
  }
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm.main);
  if (comm.rank == 0) printf("%s\n", failed ? "FAILED" : "all cases passed");
  ht_comm_finalize(&comm);
  return failed;
}
