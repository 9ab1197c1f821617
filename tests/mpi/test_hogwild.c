/*
 * The sparse engines on a planted problem (run at 1 and 2 ranks; also under
 * ThreadSanitizer, tests/tsan/run.sh).
 *
 * Every rank generates the same seeded problem in memory: a binary logistic
 * model w* over D features, rows with ~NNZ non-zeros at Zipf-like features,
 * labels drawn from sigmoid(x . w*). Then:
 *   1. reference: the serial engine on the whole training set, alone on each
 *      rank (a one-rank communicator), EPOCHS epochs, lazy L2 on;
 *   2. the hogwild engine with 1 thread on one rank performs exactly the
 *      serial updates (one worker claims every chunk of ticks in order), so
 *      its weights are bit-identical;
 *   3. hogwild with 2 threads x all ranks, averaging every AVG updates, and
 *      locked with 2 threads x all ranks, each on its shard, with the rate
 *      scaled by the number of ranks (the averaging divides each rank's
 *      progress by it): the test loss
 *      must be within TOL (relative) of the reference's, well below the
 *      loss of the zero model (log 2), and the weights identical on every
 *      rank at the end;
 *   4. the same for hogwild without L2, where the workers keep replicas of
 *      the hot features (at least one must be picked), against a serial
 *      reference without L2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_rank_check.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"
#include "hytrain/sparse_train.h"
#include "train/hogwild.h"

#define N 6000
#define NTEST 2000
#define D 3000
#define NNZ 20
#define EPOCHS 3
#define AVG 700
#define LR 0.5
#define TOL 0.03 /* hogwild / locked test loss within 3 % of serial's */
#define L2 1e-5  /* lazy L2 on; a last case runs without (hot-feature replicas) */

#define CHECK(cond, ...) HT_RANK_CHECK(comm.rank, fail, cond, __VA_ARGS__)

/* Rows [row0, row0 + n) of the seeded problem as a CSR shard (the same rows on
 * every call for the same arguments). */
static void make_rows(ht_csr *ds, const float *wstar, uint64_t seed, int64_t n_total, int64_t row0, int64_t n) {
  memset(ds, 0, sizeof *ds);
  ds->n_total = n_total;
  ds->row0 = row0;
  ds->n = n;
  ds->d = D;
  ds->task = HT_TASK_CLASSIFY;
  ds->num_classes = 2;
  ds->indptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
  ds->indices = malloc(sizeof(int32_t) * (size_t)n * NNZ);
  ds->values = malloc(sizeof(float) * (size_t)n * NNZ);
  ds->y = malloc(sizeof(int32_t) * (size_t)n);
  ds->indptr[0] = 0;
  for (int64_t r = 0; r < n; r++) {
    ht_rng g;
    ht_rng_seed(&g, ht_rng_mix(seed, (uint64_t)(row0 + r), 7));
    int64_t at = ds->indptr[r];
    int32_t prev = -1;
    double z = 0;
    /* Increasing features with Zipf-ish gaps: small indices are frequent. */
    for (int k = 0; k < NNZ; k++) {
      int32_t j = prev + 1 + (int32_t)(ht_rng_uniform(&g) * ht_rng_uniform(&g) * (D / NNZ));
      if (j >= D) break;
      float v = (float)(0.5 + ht_rng_uniform(&g)) / sqrtf((float)NNZ);
      ds->indices[at] = j;
      ds->values[at++] = v;
      z += v * wstar[j];
      prev = j;
    }
    ds->indptr[r + 1] = at;
    ds->y[r] = ht_rng_uniform(&g) < 1.0 / (1.0 + exp(-4.0 * z)) ? 1 : 0;
  }
}

static double train(ht_engine engine, int threads, const ht_comm *c, const ht_csr *tr, const ht_csr *te, float *w_out,
                    double lr, double l2, int *hot) {
  ht_sparse_model m;
  ht_sparse_clock clk;
  ht__hogwild *hw = NULL;
  ht_sched s;
  ht_sched_opts so = {.kind = HT_SCHED_COSINE, .lr = lr, .min_lr = 0.1 * lr};
  int64_t rows = tr->n_total / c->size;
  if (ht_sparse_model_create(&m, HT_MODEL_LOGISTIC, D, 2, l2) || ht_sparse_clock_create(&clk, rows) ||
      ht_sched_create(&s, &so, rows * EPOCHS))
    return NAN;
  ht__hogwild_opts o = {.engine = engine, .threads = threads, .average_every = AVG, .wait = HT_WAIT_BACKOFF, .wait_us = 100,
                        .bucket_mb = 0.004, .first_track = 2};
  if (ht__hogwild_create(&hw, &o, &m, tr, c, NULL, NNZ) < 0) return NAN;
  int64_t *order = malloc(sizeof(int64_t) * (size_t)tr->n);
  double loss = NAN;
  for (int e = 0; e < EPOCHS; e++) {
    for (int64_t i = 0; i < tr->n; i++) order[i] = i;
    ht_rng g;
    ht_rng_seed(&g, ht_rng_mix(42, (uint64_t)e, (uint64_t)c->rank));
    ht_rng_shuffle_i64(&g, order, tr->n);
    ht__epoch_stats st;
    if (ht_sparse_clock_fill(&clk, &s, e * rows, rows, m.l2) < 0 || ht__hogwild_epoch(hw, order, rows, &clk, &st) < 0) goto out;
  }
  if (hot) *hot = ht__hogwild_hot_features(hw);
  ht_eval_metrics ev;
  if (ht_sparse_eval(&m, te, c, &ev) == 0) loss = ev.loss;
  ht_sparse_model_get(&m, w_out);
out:
  free(order);
  ht__hogwild_destroy(&hw);
  ht_sparse_clock_destroy(&clk);
  ht_sparse_model_destroy(&m);
  return loss;
}

/* 1 when w is the same on every rank of c (compared bit for bit via rank 0's copy). */
static int identical(const ht_comm *c, const float *w, size_t n) {
  float *root = malloc(sizeof(float) * n);
  memcpy(root, w, sizeof(float) * n);
  MPI_Bcast(root, (int)n, MPI_FLOAT, 0, c->main);
  int same = memcmp(root, w, sizeof(float) * n) == 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, c->main);
  free(root);
  return all;
}

int main(int argc, char **argv) {
  ht_comm comm, self;
  if (ht_comm_init(&comm, &argc, &argv) != 0) {
    fprintf(stderr, "ht_comm_init: %s\n", ht_error_message());
    ht_comm_finalize(&comm);
    return 1;
  }
  int fail = 0;
  float *wstar = malloc(sizeof(float) * D);
  ht_rng g;
  ht_rng_seed(&g, 99);
  for (int j = 0; j < D; j++) wstar[j] = (float)ht_rng_normal(&g);
  ht_csr all, shard, test;
  make_rows(&all, wstar, 1, N, 0, N);
  int64_t row0, n;
  ht_shard_range(N, comm.rank, comm.size, &row0, &n);
  make_rows(&shard, wstar, 1, N, row0, n);
  ht_shard_range(NTEST, comm.rank, comm.size, &row0, &n);
  make_rows(&test, wstar, 2, NTEST, row0, n);
  ht_csr test_all;
  make_rows(&test_all, wstar, 2, NTEST, 0, NTEST);
  CHECK(ht_comm_split(&comm, comm.rank, 0, &self) == 0, "split: %s", ht_error_message());

  size_t nw = D + 1;
  float *w_serial = malloc(sizeof(float) * nw), *w_one = malloc(sizeof(float) * nw), *w = malloc(sizeof(float) * nw);
  double serial = train(HT_ENGINE_SERIAL, 1, &self, &all, &test_all, w_serial, LR, L2, NULL);
  double one = train(HT_ENGINE_HOGWILD, 1, &self, &all, &test_all, w_one, LR, L2, NULL);
  CHECK(isfinite(serial) && serial < 0.8 * log(2.0), "serial test loss %g (zero model: %g)", serial, log(2.0));
  CHECK(memcmp(w_serial, w_one, sizeof(float) * nw) == 0, "hogwild with 1 thread differs from serial (loss %g vs %g)", one,
        serial);
  const ht_engine engines[2] = {HT_ENGINE_HOGWILD, HT_ENGINE_LOCKED};
  for (int i = 0; i < 2; i++) {
    const char *name = ht_enum_name(&ht_engines, (int)engines[i]);
    /* Averaging P models each moved by its own rows moves the mean 1/P as far:
     * P times the rate (docs/sparse.md) makes up for it. */
    double loss = train(engines[i], 2, &comm, &shard, &test, w, LR * comm.size, L2, NULL);
    CHECK(isfinite(loss) && fabs(loss - serial) <= TOL * serial, "%s, 2 threads x %d ranks: test loss %.5f, serial %.5f (tolerance %g)",
          name, comm.size, loss, serial, TOL);
    CHECK(identical(&comm, w, nw), "%s: the weights differ between ranks", name);
    if (comm.rank == 0) printf("%s 2 threads x %d ranks: test loss %.5f (serial %.5f)\n", name, comm.size, loss, serial);
  }
  /* Without L2 the hogwild workers keep replicas of the hot features. */
  {
    int hot = 0;
    double serial0 = train(HT_ENGINE_SERIAL, 1, &self, &all, &test_all, w_serial, LR, 0, NULL);
    double loss = train(HT_ENGINE_HOGWILD, 2, &comm, &shard, &test, w, LR * comm.size, 0, &hot);
    CHECK(hot > 0, "hogwild, l2 = 0: no hot features on data with Zipf-like features");
    CHECK(isfinite(loss) && fabs(loss - serial0) <= TOL * serial0,
          "hogwild with hot-feature replicas, 2 threads x %d ranks: test loss %.5f, serial %.5f (tolerance %g)", comm.size, loss,
          serial0, TOL);
    CHECK(identical(&comm, w, nw), "hogwild with hot-feature replicas: the weights differ between ranks");
    if (comm.rank == 0)
      printf("hogwild (l2 = 0, %d hot features) 2 threads x %d ranks: test loss %.5f (serial %.5f)\n", hot, comm.size, loss,
             serial0);
  }
  ht_comm_free(&self);
  ht_csr_free(&all);
  ht_csr_free(&shard);
  ht_csr_free(&test);
  ht_csr_free(&test_all);
  free(wstar);
  free(w_serial);
  free(w_one);
  free(w);
  int any = 0;
  MPI_Allreduce(&fail, &any, 1, MPI_INT, MPI_MAX, comm.main);
  ht_comm_finalize(&comm);
  return any ? 1 : 0;
}
