/*
 * `hytrain bench allreduce`'s measurement: the communication thread summing a
 * buffer over all ranks with nothing computing next to it (the command in
 * src/cli/bench_allreduce.c parses its arguments and prints the result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm_thread.h"
#include "comm/shm_grads.h"
#include "comm/transport.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/timer.h"

int ht_comm_bench_allreduce(const ht_comm *comm, size_t n, double bucket_mb, int steps, ht_wait_kind wait, int sleep_us,
                            ht_transport transport, ht_inter_algo inter, const ht_bench_compute *compute,
                            ht_comm_bench_result *out) {
  memset(out, 0, sizeof *out);
  size_t per = (size_t)(bucket_mb * 1024 * 1024 / sizeof(float));
  if (per < 1) per = 1;
  int nb = (int)((n + per - 1) / per);
  float *own = calloc(n, sizeof(float)), *buf = own;
  ht_bucket *b = calloc((size_t)nb, sizeof *b);
  double *t = calloc((size_t)steps, sizeof *t);
  int local = own && b && t ? 0 : ht_error(HT_ENOMEM, "out of memory for %zu floats", n);
  ht_grad_transport tr;
  int trc = ht_grad_transport_create(&tr, comm->grad, transport, inter, n, 1, nb, local);
  if (local == 0 && trc < 0) local = trc;
  if (ht_grad_transport_buf(&tr, comm->rank, 0)) buf = ht_grad_transport_buf(&tr, comm->rank, 0);
  if (local < 0) {
    ht_grad_transport_free(&tr);
    free(own), free(b), free(t);
    return local;
  }
  /* Buckets from the end of the buffer, like backward produces them. */
  for (int k = 0; k < nb; k++) {
    size_t hi = n - (size_t)k * per;
    b[k] = (ht_bucket){hi > per ? hi - per : 0, hi};
  }
  ht_comm_thread *ct = NULL;
  int rc = ht_comm_thread_create(&ct, comm, b, nb, ht_grad_transport_shm(&tr), ht_grad_transport_hier(&tr), wait,
                                 sleep_us, NULL, -1, NULL);
  for (int s = 0; s < steps + 1 && rc == 0; s++) {
    rc = HT_MPI(MPI_Barrier(comm->main));
    double t0 = ht_now();
    if (rc == 0) rc = ht_comm_thread_begin(ct, buf);
    for (int k = 0; k < nb && rc == 0; k++) ht_comm_thread_enqueue(ct, k);
    if (rc == 0 && compute) compute->fn(compute->seconds, compute->arg);
    for (int k = 0; k < nb && rc == 0; k++) rc = ht_comm_thread_wait(ct, k);
    if (s > 0) t[s - 1] = ht_now() - t0; /* the first step warms up connections */
  }
  ht_comm_thread_destroy(&ct);
  if (rc == 0) {
    ht_sort_times(t, (size_t)steps);
    *out = (ht_comm_bench_result){
        .buckets = nb, .used = tr.used, .median_s = t[steps / 2], .min_s = t[0], .max_s = t[steps - 1]};
    if (tr.used == HT_TRANSPORT_HIER)
      snprintf(out->how, sizeof out->how, "hierarchical, %d nodes x %d ranks, %s", tr.hier.N, tr.hier.L,
               ht_hier_algo_name(tr.hier.algo));
    else
      snprintf(out->how, sizeof out->how, "%s", tr.used == HT_TRANSPORT_SHM ? "shared memory" : "MPI messages");
  }
  ht_grad_transport_free(&tr);
  free(own), free(b), free(t);
  return rc;
}
