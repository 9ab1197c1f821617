/*
 * hytrain bench allreduce [--floats N] [--bucket-mb X] [--steps S] [--wait W]
 *                         [--transport mpi|shm]
 * Communication alone: every step the communication thread sums N floats over
 * all ranks in buckets of about X MiB (the same machinery as training, with
 * nothing computing next to it), with messages (mpi, the default) or in
 * memory shared by the ranks of one node (shm). Prints the per-step time on rank 0 and one
 * line "allreduce_ms=<median over steps>" (rank-0 clock; each step starts
 * after a barrier so ranks are aligned).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/comm_thread.h"
#include "hytrain/config.h"
#include "hytrain/error.h"
#include "hytrain/shm_grads.h"
#include "hytrain/timer.h"

static int ht__cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int ht__run(const ht_comm *comm, size_t n, double bucket_mb, int steps, ht_wait_kind wait, int sleep_us,
                   int use_shm) {
  size_t per = (size_t)(bucket_mb * 1024 * 1024 / sizeof(float));
  if (per < 1) per = 1;
  int nb = (int)((n + per - 1) / per);
  float *own = calloc(n, sizeof(float)), *buf = own;
  ht_bucket *b = calloc((size_t)nb, sizeof *b);
  double *t = calloc((size_t)steps, sizeof *t);
  int local = own && b && t ? 0 : ht_error(HT_ENOMEM, "out of memory for %zu floats", n);
  ht_shm_grads shm;
  memset(&shm, 0, sizeof shm);
  if (use_shm) {
    char why[256];
    int rc = ht_shm_grads_create(&shm, comm->grad, n, 1, nb, local, why, sizeof why);
    if (rc == 1 && local == 0) local = ht_error(HT_EUSAGE, "--transport shm: not available: %s", why);
    else if (rc < 0) local = rc;
    if (rc == 0) buf = ht_shm_grads_buf(&shm, comm->rank, 0);
  }
  if (local < 0) {
    ht_shm_grads_free(&shm);
    free(own), free(b), free(t);
    return local;
  }
  /* Buckets from the end of the buffer, like backward produces them. */
  for (int k = 0; k < nb; k++) {
    size_t hi = n - (size_t)k * per;
    b[k] = (ht_bucket){hi > per ? hi - per : 0, hi};
  }
  ht_comm_thread ct;
  int rc = ht_comm_thread_create(&ct, comm, b, nb, shm.base ? &shm : NULL, wait, sleep_us, NULL, -1, NULL);
  for (int s = 0; s < steps + 1 && rc == 0; s++) {
    MPI_Barrier(comm->main);
    double t0 = ht_now();
    rc = ht_comm_thread_begin(&ct, buf);
    for (int k = 0; k < nb && rc == 0; k++) ht_comm_thread_enqueue(&ct, k);
    for (int k = 0; k < nb && rc == 0; k++) rc = ht_comm_thread_wait(&ct, k);
    if (s > 0) t[s - 1] = ht_now() - t0; /* the first step warms up connections */
  }
  ht_comm_thread_destroy(&ct);
  if (rc == 0 && comm->rank == 0) {
    qsort(t, (size_t)steps, sizeof *t, ht__cmp_double);
    printf("allreduce of %zu floats (%.2f MiB) in %d buckets over %d ranks (%s): median %.3f ms, min %.3f ms, max "
           "%.3f ms\n",
           n, n * 4.0 / 1048576, nb, comm->size, use_shm ? "shared memory" : "MPI messages", 1e3 * t[steps / 2],
           1e3 * t[0], 1e3 * t[steps - 1]);
    printf("allreduce_ms=%.4f\n", 1e3 * t[steps / 2]);
  }
  ht_shm_grads_free(&shm);
  free(own), free(b), free(t);
  return rc;
}

int ht__bench_allreduce(int argc, char **argv) {
  long long n = 1863690; /* the MLP 784-1024-1024-10 */
  double bucket_mb = 1;
  int steps = 50, rc = 0;
  ht_wait_opt wait = {HT_WAIT_YIELD, 0};
  int use_shm = 0;
  for (int i = 2; i < argc && rc == 0; i++) {
    if (i + 1 < argc && strcmp(argv[i], "--floats") == 0) n = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--bucket-mb") == 0) bucket_mb = atof(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0) steps = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--wait") == 0) rc = ht_config_parse_wait(argv[++i], &wait);
    else if (i + 1 < argc && strcmp(argv[i], "--transport") == 0) {
      const char *v = argv[++i];
      int t = ht_enum_parse(&ht_transports, v);
      use_shm = t == HT_TRANSPORT_SHM;
      if (t != HT_TRANSPORT_SHM && t != HT_TRANSPORT_MPI)
        rc = ht_error(HT_EUSAGE, "--transport: expected mpi or shm, got '%s'", v);
    } else rc = ht_error(HT_EUSAGE, "unknown option '%s'", argv[i]);
  }
  if (rc == 0 && (n < 1 || bucket_mb <= 0 || steps < 1))
    rc = ht_error(HT_EUSAGE, "--floats, --bucket-mb and --steps must be positive");
  if (rc < 0) return ht_cli_fail("bench", rc);
  ht_comm comm;
  rc = ht_comm_init(&comm, &argc, &argv);
  if (rc == 0) rc = ht__run(&comm, (size_t)n, bucket_mb, steps, wait.kind, wait.us, use_shm);
  int code = rc < 0 ? ht_cli_fail("bench", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
