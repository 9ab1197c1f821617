/*
 * hytrain bench sgemm [--m M --n N --k K] [--seconds S]
 * Measures cblas_sgemm GFLOP/s on every rank at once (run it under mpirun with
 * the same rank/thread layout as the training you compare against), so the
 * reference rate comes from the same cores in the same run. Prints per-rank
 * rates and one line "sgemm_gflops_total=<sum over ranks>".
 * hytrain bench allreduce: see bench_allreduce.c; hytrain bench gemm: bench_gemm.c;
 * hytrain bench lines: bench_lines.c.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"
#include "hytrain/timer.h"

static int bench_sgemm(const ht_comm *comm, int m, int n, int k, double seconds) {
  float *a = malloc(sizeof(float) * (size_t)m * (size_t)k), *b = malloc(sizeof(float) * (size_t)k * (size_t)n),
        *c = malloc(sizeof(float) * (size_t)m * (size_t)n);
  if (!a || !b || !c) {
    free(a), free(b), free(c);
    return ht_error(HT_ENOMEM, "out of memory for sgemm %dx%dx%d", m, n, k);
  }
  ht_rng r;
  ht_rng_seed(&r, 1);
  for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)ht_rng_uniform(&r);
  for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)ht_rng_uniform(&r);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n); /* warm-up */
  int rc = HT_MPI(MPI_Barrier(comm->main));
  double t0 = ht_now(), t = 0;
  long reps = 0;
  do {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    reps++;
    t = ht_now() - t0;
  } while (t < seconds);
  double gflops = 2.0 * m * n * (double)k * (double)reps / t / 1e9, total = 0;
  if (rc == 0) rc = HT_MPI(MPI_Reduce(&gflops, &total, 1, MPI_DOUBLE, MPI_SUM, 0, comm->main));
  double all[comm->rank == 0 ? comm->size : 1];
  if (rc == 0) rc = HT_MPI(MPI_Gather(&gflops, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, comm->main));
  if (rc == 0 && comm->rank == 0) {
    for (int i = 0; i < comm->size; i++) printf("rank %d: sgemm %dx%dx%d %.2f GFLOP/s (%d threads)\n", i, m, n, k, all[i], omp_get_max_threads());
    printf("sgemm_gflops_total=%.4f\n", total);
  }
  free(a), free(b), free(c);
  return rc;
}

static const char sgemm_usage[] =
    "usage: hytrain bench sgemm [--m M] [--n N] [--k K] [--seconds S]\n"
    "  cblas_sgemm GFLOP/s of an MxK by KxN product on every rank (default 1024^3, 3 s)\n";

static const char gemm_usage[] =
    "usage: hytrain bench gemm [--layers 784,1024,1024,10] [--batch B] [--seconds S]\n"
    "  GFLOP/s of an MLP's matrix products for openblas fp32, onednn fp32 and onednn bf16\n";

int ht_cmd_bench(int argc, char **argv) {
  int m = 1024, n = 1024, k = 1024, rc = 0;
  double seconds = 3;
  if (argc >= 2 && strcmp(argv[1], "allreduce") == 0) return ht__bench_allreduce(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "gemm") == 0) return ht__bench_gemm(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "lines") == 0) return ht__bench_lines(argc, argv);
  int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
  if (argc < 2 || strcmp(argv[1], "sgemm") != 0) {
    FILE *f = help ? stdout : stderr;
    fputs(sgemm_usage, f);
    fputs(gemm_usage, f);
    ht__bench_allreduce_usage(f);
    ht__bench_lines_usage(f);
    if (!help && argc >= 2)
      fprintf(stderr, "hytrain bench: error: unknown benchmark '%s' (expected sgemm, gemm, allreduce or lines)\n", argv[1]);
    return help ? 0 : 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(sgemm_usage, stdout);
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--m") == 0) m = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--n") == 0) n = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--k") == 0) k = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);
    else rc = ht_error(HT_EUSAGE, "unknown option '%s'", argv[i]);
  }
  if (rc == 0 && (m < 1 || n < 1 || k < 1 || seconds <= 0)) rc = ht_error(HT_EUSAGE, "sizes and --seconds must be positive");
  if (rc < 0) return ht_cli_fail("bench", rc);
  ht_comm comm;
  rc = ht_comm_init(&comm, &argc, &argv);
  if (rc == 0) rc = bench_sgemm(&comm, m, n, k, seconds);
  int code = rc < 0 ? ht_cli_fail("bench", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
