/*
 * Per-feature standardisation: mean and std over all rows of all ranks'
 * shards, computed in double precision in two passes (mean first, then the
 * sum of squared deviations from that mean), which avoids the cancellation of
 * the one-pass E[x^2] - E[x]^2 formula on features with a large offset.
 * The std is the population one (divide by N), like NumPy's default.
 */
#include "hytrain/dataset.h"

#include "hytrain/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Features whose spread is below this are constant for all purposes; dividing
 * by their std would only amplify rounding noise. */
#define HT__STD_MIN 1e-6

/* Column sums of x [n, d] into out[d]. */
static void column_sums(const float *x, int64_t n, int d, double *out) {
  /* Parallel over features j: each thread owns out[j] alone, and the sum over
   * rows keeps a fixed order, so the result does not depend on the threads. */
#pragma omp parallel for schedule(static) if ((int64_t)d * n > 65536)
  for (int j = 0; j < d; j++) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i * d + j];
    out[j] = s;
  }
}

/* Column sums of squared deviations from mean[d] into out[d]. */
static void column_sq_dev(const float *x, int64_t n, int d, const double *mean, double *out) {
  /* Parallel over features j: out[j] has one writer, rows are summed in order. */
#pragma omp parallel for schedule(static) if ((int64_t)d * n > 65536)
  for (int j = 0; j < d; j++) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
      double dev = (double)x[i * d + j] - mean[j];
      s += dev * dev;
    }
    out[j] = s;
  }
}

static int alloc_stats(ht_norm *norm, int d) {
  memset(norm, 0, sizeof *norm);
  norm->d = d;
  norm->mean = malloc(sizeof(float) * (size_t)(d > 0 ? d : 1));
  norm->std = malloc(sizeof(float) * (size_t)(d > 0 ? d : 1));
  if (!norm->mean || !norm->std) {
    ht_norm_free(norm);
    return ht_error(HT_ENOMEM, "out of memory for normalisation statistics of %d features", d);
  }
  for (int j = 0; j < d; j++) {
    norm->mean[j] = 0.0f;
    norm->std[j] = 1.0f;
  }
  return 0;
}

/* The collective part; buf holds 2 * (d + 1) doubles of scratch. */
static int fit_stats(ht_norm *norm, const ht_dataset *ds, MPI_Comm comm, double *buf) {
  int d = ds->d;
  double *local = buf, *global = buf + d + 1;

  /* Pass 1: row count and column sums -> mean. */
  local[0] = (double)ds->n;
  column_sums(ds->x, ds->n, d, local + 1);
  HT_CHECK_MPI(MPI_Allreduce(local, global, d + 1, MPI_DOUBLE, MPI_SUM, comm));
  double count = global[0];
  if (count < 1) return ht_error(HT_EDATA, "%s: no rows to compute normalisation statistics from", ds->path);
  double *mean = global + 1;
  for (int j = 0; j < d; j++) mean[j] /= count;

  /* Pass 2: squared deviations from the global mean -> std. */
  column_sq_dev(ds->x, ds->n, d, mean, local);
  for (int j = 0; j < d; j++) norm->mean[j] = (float)mean[j];
  HT_CHECK_MPI(MPI_Allreduce(local, global, d, MPI_DOUBLE, MPI_SUM, comm));
  for (int j = 0; j < d; j++) {
    double sd = sqrt(global[j] / count);
    norm->std[j] = sd < HT__STD_MIN ? 1.0f : (float)sd;
  }

  /* MPI does not promise bitwise-identical allreduce results on every rank;
   * rank 0's values are made everyone's so all ranks normalise identically. */
  HT_CHECK_MPI(MPI_Bcast(norm->mean, d, MPI_FLOAT, 0, comm));
  HT_CHECK_MPI(MPI_Bcast(norm->std, d, MPI_FLOAT, 0, comm));
  return 0;
}

int ht_norm_fit(ht_norm *norm, const ht_dataset *ds, int enabled, MPI_Comm comm) {
  HT_CHECK(alloc_stats(norm, ds->d));
  norm->enabled = enabled ? 1 : 0;
  if (!enabled) return 0;

  /* Every rank must agree on d before exchanging d-sized buffers, or the
   * reductions would mismatch; max(d) and max(-d) give max and min at once. */
  int dd[2] = {ds->d, -ds->d}, agree[2];
  int rc = 0;
  HT_CHECK_MPI(MPI_Allreduce(dd, agree, 2, MPI_INT, MPI_MAX, comm));
  if (agree[0] != -agree[1])
    rc = ht_error(HT_ESHAPE, "%s: ranks disagree on the number of features (%d to %d)", ds->path, -agree[1], agree[0]);
  double *buf = rc == 0 ? malloc(sizeof(double) * 2 * ((size_t)ds->d + 1)) : NULL;
  if (rc == 0 && !buf) rc = ht_error(HT_ENOMEM, "out of memory for normalisation sums of %d features", ds->d);
  if (rc == 0) rc = fit_stats(norm, ds, comm, buf);
  free(buf);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_norm_free(norm);
  }
  return rc;
}

void ht_norm_apply(const ht_norm *norm, float *x, int64_t n) {
  if (!norm || !norm->enabled || n <= 0) return;
  const int d = norm->d;
  const float *mean = norm->mean, *std = norm->std;
  /* Parallel over rows i: each thread writes only its own rows of x. */
#pragma omp parallel for schedule(static) if ((int64_t)d * n > 65536)
  for (int64_t i = 0; i < n; i++) {
    float *row = x + i * d;
    for (int j = 0; j < d; j++) row[j] = (row[j] - mean[j]) / std[j];
  }
}

void ht_norm_free(ht_norm *norm) {
  if (!norm) return;
  free(norm->mean);
  free(norm->std);
  memset(norm, 0, sizeof *norm);
}
