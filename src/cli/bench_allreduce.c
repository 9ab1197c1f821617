/*
 * hytrain bench allreduce [--floats N] [--bucket-mb X] [--steps S] [--wait W (default: comm.wait's)]
 *                         [--transport mpi|shm|hier|auto] [--inter auto|ring|rhd] [--compute-ms T]
 * Communication alone: every step the communication thread sums N floats over
 * all ranks in buckets of about X MiB (the same machinery as training, with
 * nothing computing next to it), with messages (mpi, the default), in
 * memory shared by the ranks of one node (shm), hierarchically (hier, with
 * --inter's exchange between nodes) or as training would choose (auto). Prints the per-step time on rank 0 and one
 * line "allreduce_ms=<median over steps>" (rank-0 clock; each step starts
 * after a barrier so ranks are aligned). With --compute-ms the main thread
 * multiplies matrices for T ms while the buckets are in flight (the speed of
 * the summing behind compute, for docs/scaling.md's model).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/config.h"
#include "hytrain/error.h"
#include "hytrain/timer.h"

/* The compute behind the summing: 128 x 1024 by 1024 x 1024 products, the
 * shape of a hidden layer's backward at batch 128, until the time is up. */
enum { GM = 128, GK = 1024, GN = 1024 };
typedef struct gemm_work {
  float *a, *b, *c;
} gemm_work;

static void gemm_for(double seconds, void *arg) {
  gemm_work *g = arg;
  double t0 = ht_now();
  do cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, GM, GN, GK, 1.0f, g->a, GK, g->b, GN, 0.0f, g->c, GN);
  while (ht_now() - t0 < seconds);
}

/* Runs the measurement (src/comm/bench.c) and prints it on rank 0. */
static int run_bench(const ht_comm *comm, size_t n, double bucket_mb, int steps, ht_wait_kind wait, int sleep_us,
                     ht_transport transport, ht_inter_algo inter, int compute_ms) {
  ht_comm_bench_result r;
  gemm_work g = {0};
  ht_bench_compute work = {gemm_for, &g, compute_ms / 1e3};
  if (compute_ms > 0) {
    g.a = calloc((size_t)GM * GK, sizeof(float));
    g.b = calloc((size_t)GK * GN, sizeof(float));
    g.c = calloc((size_t)GM * GN, sizeof(float));
  }
  int rc = compute_ms > 0 && (!g.a || !g.b || !g.c) ? ht_error(HT_ENOMEM, "out of memory for --compute-ms's matrices") : 0;
  /* Collective: every rank calls it, also one whose matrices failed (it then computes nothing). */
  if (rc < 0) compute_ms = 0;
  int brc = ht_comm_bench_allreduce(comm, n, bucket_mb, steps, wait, sleep_us, transport, inter,
                                    compute_ms > 0 ? &work : NULL, &r);
  free(g.a), free(g.b), free(g.c);
  if (rc == 0) rc = brc;
  if (rc < 0) return rc;
  if (comm->rank != 0) return 0;
  printf("allreduce of %zu floats (%.2f MiB) in %d buckets over %d ranks (%s)%s: median %.3f ms, min %.3f ms, max "
         "%.3f ms\n",
         n, n * 4.0 / 1048576, r.buckets, comm->size, r.how, compute_ms > 0 ? " behind compute" : "", 1e3 * r.median_s,
         1e3 * r.min_s, 1e3 * r.max_s);
  printf("allreduce_ms=%.4f\n", 1e3 * r.median_s);
  return 0;
}

/* How a policy is written after --wait (docs/comm.md has the table). */
static const char *wait_syntax(ht_wait_kind k) {
  switch (k) {
  case HT_WAIT_YIELD: return "yield";
  case HT_WAIT_SLEEP: return "sleep:<us>";
  case HT_WAIT_BLOCK: return "block";
  case HT_WAIT_ADAPTIVE: return "adaptive[:<us>]";
  case HT_WAIT_BACKOFF: return "backoff[:<us>]";
  }
  return "?";
}

/* comm.wait's default from the option registry: the benchmark waits as
 * training does unless told otherwise. */
static ht_wait_opt default_wait(void) {
  ht_config *cfg = malloc(sizeof *cfg);
  ht_wait_opt w = {HT_WAIT_BACKOFF, HT_WAIT_DEFAULT_US};
  if (cfg) {
    ht_config_defaults(cfg);
    w = cfg->comm.wait;
    free(cfg);
  }
  return w;
}

void ht__bench_allreduce_usage(FILE *f) {
  ht_wait_opt d = default_wait();
  fputs("usage: hytrain bench allreduce [--floats N] [--bucket-mb X] [--steps S] [--wait W] [--transport mpi|shm|hier|auto]\n"
        "       [--inter auto|ring|rhd] [--compute-ms T]\n"
        "  the gradient allreduce alone, on the communication thread (run under mpirun)\n"
        "  T > 0: the main thread multiplies matrices for T ms after handing the buckets over (a step's time includes them)\n"
        "  W, how the communication thread waits (comm.wait, docs/comm.md): ",
        f);
  for (int k = 0; k < ht_wait_kinds.count; k++) fprintf(f, "%s%s", k ? " | " : "", wait_syntax((ht_wait_kind)k));
  fprintf(f, "\n  default: %s", ht_enum_name(&ht_wait_kinds, (int)d.kind));
  if (d.kind != HT_WAIT_YIELD && d.kind != HT_WAIT_BLOCK) fprintf(f, ":%d", d.us);
  fputs(" (as comm.wait)\n", f);
}

int ht__bench_allreduce(int argc, char **argv) {
  long long n = 1863690; /* the MLP 784-1024-1024-10 */
  double bucket_mb = 1;
  int steps = 50, rc = 0;
  int compute_ms = 0;
  ht_wait_opt wait = default_wait();
  ht_transport transport = HT_TRANSPORT_MPI;
  ht_inter_algo inter = HT_INTER_AUTO;
  for (int i = 2; i < argc && rc == 0; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      ht__bench_allreduce_usage(stdout);
      return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--floats") == 0) n = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--bucket-mb") == 0) bucket_mb = atof(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0) steps = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--compute-ms") == 0) rc = ht_cli_parse_int("--compute-ms", argv[++i], 0, 60000, &compute_ms);
    else if (i + 1 < argc && strcmp(argv[i], "--wait") == 0) rc = ht_config_parse_wait(argv[++i], &wait);
    else if (i + 1 < argc && strcmp(argv[i], "--transport") == 0) {
      const char *v = argv[++i];
      int t = ht_enum_parse(&ht_transports, v);
      transport = (ht_transport)t;
      if (t < 0) rc = ht_error(HT_EUSAGE, "--transport: expected %s, got '%s'", ht_transports.choices, v);
    } else if (i + 1 < argc && strcmp(argv[i], "--inter") == 0) {
      const char *v = argv[++i];
      int t = ht_enum_parse(&ht_inter_algos, v);
      inter = (ht_inter_algo)t;
      if (t < 0) rc = ht_error(HT_EUSAGE, "--inter: expected %s, got '%s'", ht_inter_algos.choices, v);
    } else rc = ht_error(HT_EUSAGE, "unknown option '%s'", argv[i]);
  }
  if (rc == 0 && (n < 1 || bucket_mb <= 0 || steps < 1))
    rc = ht_error(HT_EUSAGE, "--floats, --bucket-mb and --steps must be positive");
  if (rc < 0) return ht_cli_fail("bench", rc);
  ht_comm comm;
  rc = ht_comm_init(&comm, &argc, &argv);
  if (rc == 0) rc = run_bench(&comm, (size_t)n, bucket_mb, steps, wait.kind, wait.us, transport, inter, compute_ms);
  int code = rc < 0 ? ht_cli_fail("bench", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
