/*
 * compute.backend and compute.precision for a training run: resolves auto by
 * timing both backends on the model's real shapes, switches the model to the
 * choice, and prints it (with both figures) under the start-up table, plus a
 * warning when the GEMM kernels in use are below what the CPU can run.
 *
 * auto is a measurement, so two runs could in principle choose differently;
 * to keep that from happening on near ties it prefers the reference
 * (OpenBLAS) unless oneDNN is faster by HT__AUTO_MARGIN, and models too small
 * to time reliably (under HT__AUTO_MIN_FLOPS per step) take OpenBLAS without
 * timing. Every rank uses the slowest rank's figures, so all agree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "hytrain/error.h"
#include "hytrain/gemm.h"
#include "train/internal.h"

/* oneDNN must beat OpenBLAS by this factor for auto to pick it. */
#define HT__AUTO_MARGIN 1.10
/* Below this many GEMM FLOPs per step a step takes well under a millisecond
 * and its time is mostly overhead and noise: auto does not time. */
#define HT__AUTO_MIN_FLOPS 20e6
/* Untimed and timed steps per backend and round, and interleaved rounds. */
#define HT__AUTO_WARMUP 2
#define HT__AUTO_STEPS 3
#define HT__AUTO_ROUNDS 2

/* Collective on comm->main: the slowest rank's fastest step on each backend. */
static int time_backends(const ht_comm *comm, ht_model *m, ht_precision prec, int B, double t[2]) {
  const ht_gemm_backend order[2] = {HT_GEMM_OPENBLAS, HT_GEMM_ONEDNN};
  t[0] = t[1] = INFINITY;
  int rc = 0;
  /* Interleaved rounds, so that a burst of load on a shared machine falls
   * on both backends. */
  for (int round = 0; rc == 0 && round < HT__AUTO_ROUNDS; round++)
    for (int k = 0; rc == 0 && k < 2; k++) {
      ht_gemm_opts o = {.backend = order[k], .precision = prec, .fuse_relu = 1};
      double best = 0;
      rc = ht_model_set_compute(m, &o);
      if (rc == 0) rc = ht_model_time_steps(m, B, round == 0 ? HT__AUTO_WARMUP : 1, HT__AUTO_STEPS, &best);
      if (rc == 0 && best < t[k]) t[k] = best;
    }
  HT_CHECK(ht_comm_agree(comm, rc));
  HT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, t, 2, MPI_DOUBLE, MPI_MAX, comm->main));
  return 0;
}

int ht__compute_setup(const ht_config *cfg, const ht_comm *comm, const ht_log *log, ht_model *m, int B,
                      ht_gemm_backend resumed) {
  ht_gemm_backend backend = cfg->compute.backend;
  ht_precision prec = cfg->compute.precision;
  int rc = 0;
  if (backend == HT_GEMM_ONEDNN && !ht_gemm_have_onednn())
    rc = ht_error(HT_ECONFIG, "compute.backend onednn: this hytrain was built without oneDNN (install libdnnl-dev "
                              "and rebuild, or use compute.backend=auto|openblas)");
  HT_CHECK(ht_comm_agree(comm, rc));

  double flops = ht_model_gemm_flops(m, B), t[2] = {0, 0};
  char why[200] = "";
  if (backend == HT_GEMM_AUTO) {
    if (resumed != HT_GEMM_AUTO && (resumed != HT_GEMM_ONEDNN || ht_gemm_have_onednn())) {
      backend = resumed;
      snprintf(why, sizeof why, "auto: %s, the backend of the run being resumed", ht_gemm_backend_name(resumed));
    } else if (!ht_gemm_have_onednn()) {
      backend = HT_GEMM_OPENBLAS;
      snprintf(why, sizeof why, "auto: openblas, this build has no oneDNN (install libdnnl-dev and rebuild)");
    } else if (flops < HT__AUTO_MIN_FLOPS) {
      backend = HT_GEMM_OPENBLAS;
      snprintf(why, sizeof why, "auto: openblas, the model's %.1f MFLOP per step is too little to time", flops / 1e6);
    } else {
      HT_CHECK(time_backends(comm, m, prec, B, t));
      backend = t[1] * HT__AUTO_MARGIN < t[0] ? HT_GEMM_ONEDNN : HT_GEMM_OPENBLAS;
      snprintf(why, sizeof why, "auto: openblas %.2f ms/step (%.0f GFLOP/s), onednn %.2f ms/step (%.0f GFLOP/s)",
               t[0] * 1e3, flops / t[0] / 1e9, t[1] * 1e3, flops / t[1] / 1e9);
    }
  }
  ht_gemm_opts o = {.backend = backend, .precision = prec, .fuse_relu = 1};
  rc = ht_model_set_compute(m, &o);
  HT_CHECK(ht_comm_agree(comm, rc));

  const char *cpu = ht_cpu_isa(), *core = openblas_get_corename();
  const char *kernels = backend == HT_GEMM_ONEDNN ? ht_gemm_onednn_isa() : ht_openblas_core_isa(core);
  ht_log_info(log, "  compute: %s %s, %s kernels on a CPU with %s%s%s%s", ht_gemm_backend_name(backend),
              ht_precision_name(prec), kernels[0] ? kernels : "unknown", cpu, why[0] ? " (" : "", why,
              why[0] ? ")" : "");
  /* fp32 gains nothing from bf16 instructions: compare up to avx512 there. */
  int cpu_rank = ht_isa_rank(cpu), avx512 = ht_isa_rank("avx512");
  if (prec == HT_PREC_FP32 && cpu_rank > avx512) cpu_rank = avx512;
  if (backend == HT_GEMM_OPENBLAS && kernels[0] && ht_isa_rank(kernels) < cpu_rank)
    ht_log_warn(log,
                "OpenBLAS runs its %s (%s) kernels on a CPU with %s: the matrix products run at a fraction of the "
                "silicon's speed. Use compute.backend=onednn%s, or an OpenBLAS that knows this CPU (a newer "
                "version, or OPENBLAS_CORETYPE=SkylakeX when it is set to an older core).",
                core, kernels, cpu, ht_gemm_have_onednn() ? "" : " (install libdnnl-dev and rebuild)");
  if (backend == HT_GEMM_OPENBLAS && prec == HT_PREC_BF16)
    ht_log_warn(log, "compute.precision bf16 on OpenBLAS is emulated (the inputs are rounded, the products run in "
                     "fp32): the same numbers as bf16 hardware, none of the speed. Use compute.backend=onednn.");
  if (backend == HT_GEMM_ONEDNN && prec == HT_PREC_BF16 && ht_isa_rank(ht_gemm_onednn_isa()) < ht_isa_rank("avx512_bf16"))
    ht_log_warn(log, "compute.precision bf16: this CPU has no AVX512_BF16 instructions, oneDNN emulates bf16 "
                     "and may be slower than fp32");
  return 0;
}
