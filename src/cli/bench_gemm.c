/*
 * hytrain bench gemm [--layers 784,1024,1024,10] [--batch B] [--seconds S]
 * GFLOP/s of the dense layers' products (forward, dW, dX; layer 0 has no dX
 * in training) of an MLP with those widths at B rows per rank, on every
 * backend and precision this build has: OpenBLAS fp32, oneDNN fp32, oneDNN
 * bf16. Every rank measures at once (run it under mpirun with the layout of
 * the training you compare against); figures are sums over ranks. Each
 * measurement runs the same calls training makes (hytrain/gemm.h), bf16
 * including the rounding of the inputs. Last lines, for scripts:
 *   gemm_best_gflops_total openblas_fp32=.. onednn_fp32=.. onednn_bf16=..
 *   gemm_model_gflops_total openblas_fp32=.. onednn_fp32=.. onednn_bf16=..
 * (best: the fastest product; model: all products' FLOPs over their summed
 * time, i.e. the rate of one training step's GEMMs). 0 marks a column this
 * build does not have.
 * With oneDNN it then times whole training steps of that MLP (relu, softmax,
 * zeros as data) with the relu fused into the forward GEMM and separate, the
 * measurement behind keeping the fusion (docs/compute.md):
 *   step_ms onednn_fp32 fused=.. separate=.. onednn_bf16 fused=.. separate=..
 * (slowest rank's fastest step of 3 interleaved rounds).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/gemm.h"
#include "hytrain/model.h"

#define HT__BG_MAX_LAYERS 17
#define HT__BG_COLS 3

static const struct {
  ht_gemm_backend backend;
  ht_precision precision;
  const char *name;
} bg_cols[HT__BG_COLS] = {{HT_GEMM_OPENBLAS, HT_PREC_FP32, "openblas_fp32"},
                              {HT_GEMM_ONEDNN, HT_PREC_FP32, "onednn_fp32"},
                              {HT_GEMM_ONEDNN, HT_PREC_BF16, "onednn_bf16"}};

static int parse_layers(const char *s, int *w, int *n) {
  *n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > 1048576 || *n == HT__BG_MAX_LAYERS || (*end != ',' && *end != '\0'))
      return ht_error(HT_EUSAGE, "--layers '%s': expected 2 to %d comma-separated widths >= 1, e.g. 784,1024,10", s,
                      HT__BG_MAX_LAYERS);
    w[(*n)++] = (int)v;
    p = *end == ',' ? end + 1 : end;
  }
  if (*n < 2) return ht_error(HT_EUSAGE, "--layers '%s': need at least an input and an output width", s);
  return 0;
}

static int bench_gemm_run(const ht_comm *comm, const int *w, int n, int B, double seconds) {
  static const char *const kinds[] = {"fwd", "dW", "dX"};
  double best[HT__BG_COLS] = {0}, flops[HT__BG_COLS] = {0}, time[HT__BG_COLS] = {0};
  if (comm->rank == 0) {
    printf("GEMM GFLOP/s, %d rank%s x %d thread%s, sum over ranks (M x K x N per rank)\n", comm->size,
           comm->size == 1 ? "" : "s", omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");
    printf("%-8s %-4s %-18s", "layer", "op", "M x K x N");
    for (int c = 0; c < HT__BG_COLS; c++) printf(" %14s", bg_cols[c].name);
    printf("\n");
  }
  for (int d = 0; d + 1 < n; d++)
    for (int k = 0; k < 3; k++) {
      if (d == 0 && k == HT_GEMM_DX) continue; /* training computes no dX for the data */
      int I = w[d], O = w[d + 1];
      /* As a matmul M x K x N: fwd B x I x O, dW O x B x I, dX B x O x I. */
      int M = k == HT_GEMM_DW ? O : B, K = k == HT_GEMM_FWD ? I : k == HT_GEMM_DW ? B : O, N = k == HT_GEMM_FWD ? O : I;
      double rate[HT__BG_COLS];
      for (int c = 0; c < HT__BG_COLS; c++) {
        double g = 0;
        int rc = 0;
        if (bg_cols[c].backend != HT_GEMM_ONEDNN || ht_gemm_have_onednn()) {
          HT_CHECK_MPI(MPI_Barrier(comm->main));
          rc = ht_gemm_bench(bg_cols[c].backend, bg_cols[c].precision, B, I, O, (ht_gemm_product)k, seconds, &g);
        }
        HT_CHECK(ht_comm_agree(comm, rc));
        HT_CHECK_MPI(MPI_Allreduce(&g, &rate[c], 1, MPI_DOUBLE, MPI_SUM, comm->main));
        if (rate[c] > best[c]) best[c] = rate[c];
        /* FLOPs of this product on all ranks, and the time it takes at this rate. */
        double f = 2.0 * B * (double)I * (double)O * comm->size;
        flops[c] += f;
        time[c] += rate[c] > 0 ? f / (rate[c] * 1e9) : 0;
      }
      if (comm->rank == 0) {
        char shape[40];
        snprintf(shape, sizeof shape, "%dx%dx%d", M, K, N);
        printf("dense%-3d %-4s %-18s", d, kinds[k], shape);
        for (int c = 0; c < HT__BG_COLS; c++) printf(" %14.1f", rate[c]);
        printf("\n");
      }
    }
  if (comm->rank == 0) {
    printf("gemm_best_gflops_total");
    for (int c = 0; c < HT__BG_COLS; c++) printf(" %s=%.3f", bg_cols[c].name, best[c]);
    printf("\ngemm_model_gflops_total");
    for (int c = 0; c < HT__BG_COLS; c++) printf(" %s=%.3f", bg_cols[c].name, time[c] > 0 ? flops[c] / time[c] / 1e9 : 0);
    printf("\n");
    fflush(stdout);
  }
  return 0;
}

/* Fastest step of m on B rows in ms, fused relu on or off (slowest rank). */
static int step_ms(const ht_comm *comm, ht_model *m, ht_precision prec, int fuse, int B, double *ms) {
  ht_gemm_opts o = {.backend = HT_GEMM_ONEDNN, .precision = prec, .fuse_relu = fuse};
  double best = 0;
  int rc = ht_model_set_compute(m, &o);
  if (rc == 0) rc = ht_model_time_steps(m, B, 2, 5, &best);
  HT_CHECK(ht_comm_agree(comm, rc));
  best *= 1e3;
  HT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &best, 1, MPI_DOUBLE, MPI_MAX, comm->main));
  if (best < *ms) *ms = best;
  return 0;
}

static int bench_fusion(const ht_comm *comm, const int *w, int n, int B) {
  ht_model_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.type = HT_MODEL_MLP;
  spec.activation = HT_ACT_RELU;
  spec.init = HT_INIT_AUTO;
  spec.in = w[0];
  spec.out = w[n - 1];
  spec.n_hidden = n - 2;
  if (spec.n_hidden < 1 || spec.out < 2) return 0; /* no hidden relu to fuse */
  for (int h = 0; h < spec.n_hidden; h++) spec.hidden[h] = w[h + 1];
  ht_model m;
  HT_CHECK(ht_model_create(&m, &spec, B));
  ht_model_init(&m, 1);
  double ms[2][2] = {{1e30, 1e30}, {1e30, 1e30}}; /* [precision][fused] */
  int rc = 0;
  for (int round = 0; rc == 0 && round < 3; round++)
    for (int p = 0; rc == 0 && p < 2; p++)
      for (int f = 0; rc == 0 && f < 2; f++) rc = step_ms(comm, &m, p ? HT_PREC_BF16 : HT_PREC_FP32, f, B, &ms[p][f]);
  ht_model_destroy(&m);
  HT_CHECK(rc);
  if (comm->rank == 0) {
    printf("step_ms onednn_fp32 fused=%.3f separate=%.3f onednn_bf16 fused=%.3f separate=%.3f\n", ms[0][1], ms[0][0],
           ms[1][1], ms[1][0]);
    fflush(stdout);
  }
  return 0;
}

int ht__bench_gemm(int argc, char **argv) {
  int w[HT__BG_MAX_LAYERS], n = 0, B = 128, rc = 0;
  double seconds = 0.3;
  rc = parse_layers("784,1024,1024,10", w, &n);
  for (int i = 2; rc == 0 && i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs("usage: hytrain bench gemm [--layers 784,1024,1024,10] [--batch B] [--seconds S]\n"
            "  GFLOP/s of an MLP's matrix products (forward, dW, dX of every dense layer) for openblas fp32,\n"
            "  onednn fp32 and onednn bf16 on every rank (run under mpirun; defaults: batch 128, 0.3 s each)\n",
            stdout);
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--layers") == 0) rc = parse_layers(argv[++i], w, &n);
    else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0) B = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);
    else rc = ht_error(HT_EUSAGE, "bench gemm: unknown option '%s' (expected --layers, --batch, --seconds)", argv[i]);
  }
  if (rc == 0 && (B < 1 || !(seconds > 0)))
    rc = ht_error(HT_EUSAGE, "bench gemm: --batch and --seconds must be positive");
  if (rc < 0) return ht_cli_fail("bench", rc);
  ht_comm comm;
  rc = ht_comm_init(&comm, &argc, &argv);
  if (rc == 0) rc = bench_gemm_run(&comm, w, n, B, seconds);
  if (rc == 0 && ht_gemm_have_onednn()) rc = bench_fusion(&comm, w, n, B);
  int code = rc < 0 ? ht_cli_fail("bench", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
