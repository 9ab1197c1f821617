/*
 * The communication thread and comm.mode, checked for exactness.
 *
 * For every model type and both optimizers, every rank trains on its rows of
 * a seeded global batch for several steps through ht_grad_sync, in:
 *   reference   sync, one bucket for everything
 *   variants    sync and overlap with one bucket, with one bucket per slice of
 *               the split layers (tiny buckets) and with medium buckets
 * Overlap must be bit-identical to sync with the same buckets at every rank
 * count, and every bucket size and every waiting policy (comm.wait) must be
 * bit-identical to the reference at every rank count too. The reference sums
 * with MPI messages (comm.transport mpi); the variants sum in shared memory
 * (auto: these ranks share one machine, which is checked) and the waiting
 * policies run with both transports. The reference
 * must match a 1-process run on the whole global batch within relative 1e-5
 * (the averaging is right). Weights are compared on every rank.
 * Then comm.mode delayed is checked against a two-step example computed by
 * hand (linear model, MSE, plain SGD): the first apply changes nothing, the
 * second applies the first step's gradient, the flush the second's (computed
 * at the initial weights: one step of staleness), with both transports.
 * With the argument "hier" (run across emulated nodes: tests/multinode.cmake)
 * auto must pick hierarchical summing and the reference sums that way;
 * bucket sizes are then compared bit for bit where comm/hier.h promises it
 * (halving/doubling, or 2 nodes), else within relative 1e-5.
 * Usage: mpitest_overlap [hier]   (any number of ranks; exit code 0 = pass)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_cases.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "train/grad_sync_impl.h" /* check_transport looks inside */
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/rng.h"

#define D HT_CASE_D
#define K HT_CASE_K
#define B_LOCAL 8
#define STEPS 5
#define MAXP 4096

typedef ht_case tcase;

static const tcase cases[] = {
    {"softmax", "relu", "sgd", 0, K, 0, {0}},       {"logistic", "relu", "adamw", 0, 2, 0, {0}},
    {"linear", "relu", "sgd", 1, 2, 0, {0}},        {"svm", "relu", "adamw", 0, K, 0, {0}},
    {"mlp", "relu", "sgd", 0, K, 2, {16, 8}},       {"mlp", "tanh", "adamw", 0, K, 2, {10, 6}},
    {"mlp", "sigmoid", "sgd", 1, 2, 1, {9, 0}},     {"mlp", "relu", "adamw", 0, K, 2, {16, 8}},
};

/* Target bucket sizes in floats. 16: smaller than any slice, so every slice
 * (row block of a split layer, or whole small layer) is its own bucket; 100:
 * a few slices per bucket; 1e9: one bucket for the whole model. */
static const double bucket_sizes[] = {1e9, 16, 100};
#define N_SIZES ((int)(sizeof bucket_sizes / sizeof bucket_sizes[0]))

static void make_batch(int step, int G, const tcase *c, float *x, int32_t *y, float *t) {
  ht_case_batch(c, 4321, step, G, x, y, t);
}

static int build(ht_model *m, ht_optim *o, const tcase *c, int max_batch) {
  return ht_case_build(c, max_batch, 0, m, o);
}

/* The argument "hier" (the emulated cluster, tests/multinode.cmake): the
 * ranks span nodes, auto must pick hierarchical summing, and the reference
 * sums that way too; two of the cases run. */
static int g_hier = 0;
/* Whether the sums are bit-identical for every bucket size: always on the
 * flat paths; hierarchically only with halving/doubling (comm/hier.h). */
static int g_exact_buckets = 1;

/* The transport asked for is the one in use: auto picks shared memory for
 * ranks of one machine (P > 1), hierarchical summing across emulated
 * nodes; mpi never uses either. */
static int check_transport(const ht_comm *comm, const ht_grad_sync *gs, ht_transport transport) {
  ht_transport want = transport == HT_TRANSPORT_MPI || comm->size == 1 ? HT_TRANSPORT_MPI
                      : g_hier || transport == HT_TRANSPORT_HIER      ? HT_TRANSPORT_HIER
                                                                      : HT_TRANSPORT_SHM;
  if (gs->tr.used != want)
    return ht_error(HT_EINTERNAL, "transport %d with %d ranks: uses %d, expected %d (%s)", (int)transport, comm->size,
                    (int)gs->tr.used, (int)want, gs->tr.note);
  if (want == HT_TRANSPORT_HIER && gs->tr.hier.algo == HT_INTER_RING && gs->tr.hier.N > 2) g_exact_buckets = 0;
  float *shared = ht_grad_transport_buf(&gs->tr, comm->rank, 0);
  if (shared && gs->m->grads != shared) return ht_error(HT_EINTERNAL, "the model's gradient is not in the shared segment");
  return 0;
}

/* Trains through ht_grad_sync; final params into out. */
static int train_waiting(const ht_comm *comm, const tcase *c, ht_sync_mode mode, double bucket_floats,
                         ht_wait_kind wait, ht_transport transport, float *out, size_t *n_params) {
  int G = B_LOCAL * comm->size;
  ht_model m;
  ht_optim o;
  HT_CHECK(build(&m, &o, c, B_LOCAL));
  ht_grad_sync *gs = NULL;
  /* Slices of 24 floats: the hidden layers are split into row blocks of 1-2 rows. */
  ht_grad_sync_opts opts = {.mode = mode, .bucket_mb = bucket_floats * 4 / (1024.0 * 1024.0),
                            .slice_mb = 24 * 4 / (1024.0 * 1024.0), .wait = wait, .sleep_us = 50, .thread_core = -1,
                            .transport = transport};
  int rc = ht_grad_sync_create(&gs, &opts, comm, &m, &o, NULL, NULL);
  if (rc == 0) rc = check_transport(comm, gs, transport);
  float *x = malloc(sizeof(float) * (size_t)G * D), *t = malloc(sizeof(float) * (size_t)G * (size_t)c->out);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)G);
  for (int s = 0; s < STEPS && rc == 0; s++) {
    make_batch(s, G, c, x, y, t);
    int r0 = comm->rank * B_LOCAL;
    double loss = ht_grad_sync_compute(gs, x + (size_t)r0 * D, c->regression ? NULL : y + r0,
                                       c->regression ? t + (size_t)r0 * c->out : NULL, B_LOCAL);
    if (!isfinite(loss)) rc = ht_error(HT_EINTERNAL, "step %d: loss %g", s, loss);
    if (rc == 0) rc = ht_grad_sync_apply(gs, 0.05);
  }
  if (rc == 0) rc = ht_grad_sync_finish(gs);
  if (rc == 0 && m.n_params <= MAXP) memcpy(out, m.params, sizeof(float) * m.n_params);
  *n_params = m.n_params;
  ht_grad_sync_destroy(&gs);
  free(x);
  free(y);
  free(t);
  ht_optim_destroy(&o);
  ht_model_destroy(&m);
  return rc;
}

static int train(const ht_comm *comm, const tcase *c, ht_sync_mode mode, double bucket_floats, float *out,
                 size_t *n_params) {
  return train_waiting(comm, c, mode, bucket_floats, HT_WAIT_ADAPTIVE, HT_TRANSPORT_AUTO, out, n_params);
}

/* Bit-identical on this rank, and on every rank (collective); with
 * !g_exact_buckets (ring across more than 2 nodes, whose order depends on
 * the bucket boundaries), exact is 0 for a comparison across bucket sizes,
 * which must then agree within relative 1e-5. */
static int all_identical_or_close(const ht_comm *comm, const float *a, const float *b, size_t n, int exact) {
  int same = memcmp(a, b, n * sizeof(float)) == 0;
  if (!exact) {
    double maxdiff = 0, maxref = 0;
    for (size_t i = 0; i < n; i++) {
      maxdiff = fmax(maxdiff, fabs((double)a[i] - b[i]));
      maxref = fmax(maxref, fabs((double)a[i]));
    }
    same = maxdiff <= 1e-5 * maxref;
  }
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, comm->main);
  return same;
}

static int all_identical(const ht_comm *comm, const float *a, const float *b, size_t n) {
  int same = memcmp(a, b, n * sizeof(float)) == 0;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, comm->main);
  return same;
}

static int check_modes(const ht_comm *comm) {
  int failed = 0;
  static float ref[MAXP], var[MAXP], one[MAXP];
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    /* Across emulated nodes every training is slow (4 ranks on 2 cores over
     * TCP): two cases, a linear model with SGD and an MLP with AdamW. */
    if (g_hier && ci != 0 && ci != 7) continue;
    const tcase *c = &cases[ci];
    size_t n = 0;
    ht_transport ref_transport = g_hier ? HT_TRANSPORT_HIER : HT_TRANSPORT_MPI;
    if (train_waiting(comm, c, HT_SYNC_SYNC, 1e9, HT_WAIT_ADAPTIVE, ref_transport, ref, &n) < 0 || n > MAXP) {
      fprintf(stderr, "[rank %d] %s: %s\n", comm->rank, c->type, ht_error_message());
      return 1;
    }
    if (comm->rank == 0) {
      ht_case_train_reference(c, 4321, 0, B_LOCAL * comm->size, STEPS, 0.05, one, NULL);
      double maxdiff = 0, maxref = 0;
      for (size_t i = 0; i < n; i++) {
        maxdiff = fmax(maxdiff, fabs((double)ref[i] - one[i]));
        maxref = fmax(maxref, fabs((double)one[i]));
      }
      int close = maxdiff <= 1e-5 * maxref;
      printf("%-8s %-7s %-5s P=%d: sync vs 1 process on the global batch: max diff %.3g (tol %.3g) %s\n", c->type,
             c->activation, c->optim, comm->size, maxdiff, 1e-5 * maxref, close ? "ok" : "FAIL");
      if (!close) failed = 1;
    }
    for (int bi = 0; bi < N_SIZES; bi++) {
      size_t nv = 0;
      for (int mode = HT_SYNC_SYNC; mode <= HT_SYNC_OVERLAP; mode++) {
        if (bi == 0 && mode == HT_SYNC_SYNC) continue; /* the reference itself */
        if (train(comm, c, (ht_sync_mode)mode, bucket_sizes[bi], var, &nv) < 0) {
          fprintf(stderr, "[rank %d] %s: %s\n", comm->rank, c->type, ht_error_message());
          return 1;
        }
        /* Every element is summed in rank order whatever the bucket
         * boundaries (comm/bucket_reduce.h): bit-identical at any rank count. */
        int exact = g_exact_buckets || bi == 0;
        int same = all_identical_or_close(comm, ref, var, n, exact);
        if (comm->rank == 0)
          printf("%-8s %-7s %-5s P=%d: %-7s buckets of %-5g floats vs sync one bucket: %s\n", c->type,
                 c->activation, c->optim, comm->size, mode == HT_SYNC_SYNC ? "sync" : "overlap", bucket_sizes[bi],
                 same ? (exact ? "bit-identical" : "within 1e-5") : "differs FAIL");
        if (!same) failed = 1;
      }
      /* Same buckets, sync vs overlap, compared directly. */
      if (bi > 0) {
        static float sync_w[MAXP];
        if (train(comm, c, HT_SYNC_SYNC, bucket_sizes[bi], sync_w, &nv) < 0) return 1;
        int same = all_identical(comm, sync_w, var, n);
        if (comm->rank == 0)
          printf("%-8s %-7s %-5s P=%d: overlap vs sync, both buckets of %g floats: %s\n", c->type, c->activation,
                 c->optim, comm->size, bucket_sizes[bi], same ? "bit-identical" : "DIFFERS FAIL");
        if (!same) failed = 1;
      }
    }
    /* Every waiting policy sums the same way, with either transport. */
    static const ht_wait_kind waits[] = {HT_WAIT_BLOCK, HT_WAIT_YIELD, HT_WAIT_SLEEP, HT_WAIT_BACKOFF};
    static const char *const wait_names[] = {"block", "yield", "sleep", "backoff"};
    static const ht_transport transports[] = {HT_TRANSPORT_AUTO, HT_TRANSPORT_MPI};
    /* Across nodes only auto (hierarchical): messages add in rank order. */
    for (int ti = 0; ti < (g_hier ? 1 : 2); ti++)
      for (int wi = 0; wi < 4; wi++) {
        size_t nv = 0;
        if (train_waiting(comm, c, HT_SYNC_OVERLAP, 100, waits[wi], transports[ti], var, &nv) < 0) {
          fprintf(stderr, "[rank %d] %s: %s\n", comm->rank, c->type, ht_error_message());
          return 1;
        }
        int same = all_identical_or_close(comm, ref, var, n, g_exact_buckets);
        if (comm->rank == 0)
          printf("%-8s %-7s %-5s P=%d: overlap, comm.wait %s, %s, buckets of 100 floats vs sync one bucket: %s\n",
                 c->type, c->activation, c->optim, comm->size, wait_names[wi],
                 ti ? "messages" : g_hier ? "hierarchical" : "shared memory",
                 same ? (g_exact_buckets ? "bit-identical" : "within 1e-5") : "DIFFERS FAIL");
        if (!same) failed = 1;
      }
  }
  return failed;
}

/* Delayed mode against a two-step example worked out by hand. */
static int check_delayed(const ht_comm *comm, ht_transport transport) {
  /* linear model 2 -> 1, MSE: loss = 1/B sum_r 0.5 (z_r - t_r)^2,
   * dz_r = (z_r - t_r)/B, dW = sum_r dz_r x_r, db = sum_r dz_r.
   * Every rank uses the same rows, so the average over ranks is the local gradient. */
  const float x0[4] = {1, 2, 3, -1}, t0[2] = {1, 0};
  const float x1[4] = {0, 1, 2, 2}, t1[2] = {-1, 0.5f};
  const double w0[3] = {0.5, -1, 0.25}; /* w[0], w[1], b */
  const double lr = 0.1;
  /* By hand, at w0 = (0.5, -1), b = 0.25:
   * batch 0: z = (0.5 - 2 + 0.25, 1.5 + 1 + 0.25) = (-1.25, 2.75); z - t = (-2.25, 2.75); dz = (-1.125, 1.375)
   *   dW = -1.125*(1,2) + 1.375*(3,-1) = (3.0, -3.625);  db = 0.25
   * batch 1: z = (0 - 1 + 0.25, 1 - 2 + 0.25) = (-0.75, -0.75); z - t = (0.25, -1.25); dz = (0.125, -0.625)
   *   dW = 0.125*(0,1) - 0.625*(2,2) = (-1.25, -1.125);  db = -0.5 */
  const double g0[3] = {3.0, -3.625, 0.25}, g1[3] = {-1.25, -1.125, -0.5};
  ht_model_spec s;
  memset(&s, 0, sizeof s);
  s.type = HT_MODEL_LINEAR;
  s.activation = HT_ACT_RELU;
  s.init = HT_INIT_AUTO;
  s.in = 2, s.out = 1, s.regression = 1;
  ht_model m;
  ht_optim o;
  ht_grad_sync *gs = NULL;
  int failed = 0;
  if (ht_model_create(&m, &s, 2) < 0 || ht_optim_create(&o, &(ht_optim_opts){.kind = HT_OPTIM_SGD, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
                                                          m.n_params) < 0) {
    fprintf(stderr, "delayed: %s\n", ht_error_message());
    return 1;
  }
  for (int i = 0; i < 3; i++) m.params[i] = (float)w0[i];
  ht_grad_sync_opts opts = {.mode = HT_SYNC_DELAYED, .bucket_mb = 1, .slice_mb = 1, .wait = HT_WAIT_ADAPTIVE,
                            .sleep_us = 50, .thread_core = -1, .transport = transport};
  int rc = ht_grad_sync_create(&gs, &opts, comm, &m, &o, NULL, NULL);
  if (rc == 0) rc = check_transport(comm, gs, transport);
  double after[3][3];
  if (rc == 0) ht_grad_sync_compute(gs, x0, NULL, t0, 2);
  if (rc == 0) rc = ht_grad_sync_apply(gs, lr);
  for (int i = 0; i < 3; i++) after[0][i] = m.params[i];
  if (rc == 0) ht_grad_sync_compute(gs, x1, NULL, t1, 2);
  if (rc == 0) rc = ht_grad_sync_apply(gs, lr);
  for (int i = 0; i < 3; i++) after[1][i] = m.params[i];
  if (rc == 0) rc = ht_grad_sync_flush(gs);
  for (int i = 0; i < 3; i++) after[2][i] = m.params[i];
  if (rc == 0) rc = ht_grad_sync_finish(gs);
  if (rc < 0) {
    fprintf(stderr, "delayed: %s\n", ht_error_message());
    failed = 1;
  }
  double want[3][3];
  for (int i = 0; i < 3; i++) {
    want[0][i] = w0[i];
    want[1][i] = w0[i] - lr * g0[i];
    want[2][i] = w0[i] - lr * g0[i] - lr * g1[i];
  }
  for (int k = 0; k < 3 && !failed; k++) {
    double err = 0;
    for (int i = 0; i < 3; i++) err = fmax(err, fabs(after[k][i] - want[k][i]));
    if (comm->rank == 0)
      printf("delayed P=%d %s after %s: (%.6f, %.6f, %.6f), by hand (%.6f, %.6f, %.6f): %s\n", comm->size,
             transport == HT_TRANSPORT_MPI ? "messages" : "auto", k == 0 ? "apply 1" : k == 1 ? "apply 2" : "flush  ",
             after[k][0], after[k][1], after[k][2], want[k][0],
             want[k][1], want[k][2], err <= 1e-6 ? "ok" : "FAIL");
    if (err > 1e-6) failed = 1;
  }
  ht_grad_sync_destroy(&gs);
  ht_optim_destroy(&o);
  ht_model_destroy(&m);
  return failed;
}

int main(int argc, char **argv) {
  ht_comm comm;
  if (ht_comm_init(&comm, &argc, &argv) < 0) {
    fprintf(stderr, "init failed: %s\n", ht_error_message());
    return 1;
  }
  g_hier = argc > 1 && strcmp(argv[1], "hier") == 0;
  int failed = check_modes(&comm);
  failed |= check_delayed(&comm, HT_TRANSPORT_AUTO);
  failed |= check_delayed(&comm, HT_TRANSPORT_MPI);
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm.main);
  if (comm.rank == 0) printf("%s\n", failed ? "FAILED" : "all cases passed");
  ht_comm_finalize(&comm);
  return failed;
}
