/* Choosing and setting up comm.transport; see comm/transport.h. */
#include "comm/transport.h"

#include <stdio.h>
#include <string.h>

#include "hytrain/error.h"

int ht_grad_transport_create(ht_grad_transport *t, MPI_Comm comm, ht_transport want, ht_inter_algo inter, size_t n,
                             int n_bufs, int n_buckets, int local_rc) {
  memset(t, 0, sizeof *t);
  t->used = HT_TRANSPORT_MPI;
  int size = 1;
  HT_CHECK_MPI(MPI_Comm_size(comm, &size));
  if (want == HT_TRANSPORT_MPI || size == 1) return 0;
  char why[256] = "";
  int s = 1;
  if (want == HT_TRANSPORT_AUTO || want == HT_TRANSPORT_SHM) {
    s = ht_shm_grads_create(&t->shm, comm, n, n_bufs, n_buckets, local_rc, why, sizeof why);
    if (s < 0) return s;
    if (s == 0) {
      t->used = HT_TRANSPORT_SHM;
      return 0;
    }
    if (want == HT_TRANSPORT_SHM)
      return local_rc < 0 ? local_rc : ht_error(HT_ECONFIG, "comm.transport: shm is not available: %s (use auto or mpi)", why);
    snprintf(t->note, sizeof t->note, "shared memory not used: %s", why);
  }
  /* auto (the ranks span nodes, or shared memory failed) or hier. */
  char hwhy[256] = "";
  s = ht_hier_create(&t->hier, comm, n, n_bufs, n_buckets, local_rc, inter, hwhy, sizeof hwhy);
  if (s < 0) return s;
  if (s == 0) {
    t->used = HT_TRANSPORT_HIER;
    t->note[0] = '\0';
    return 0;
  }
  if (want == HT_TRANSPORT_HIER)
    return local_rc < 0 ? local_rc : ht_error(HT_ECONFIG, "comm.transport: hier is not available: %s (use auto or mpi)", hwhy);
  size_t len = strlen(t->note);
  snprintf(t->note + len, sizeof t->note - len, "%shierarchical summing not used: %s", len ? "; " : "", hwhy);
  return 0;
}

float *ht_grad_transport_buf(const ht_grad_transport *t, int rank, int b) {
  if (t->used == HT_TRANSPORT_SHM) return ht_shm_grads_buf(&t->shm, rank, b);
  if (t->used == HT_TRANSPORT_HIER && t->hier.shm.base) return ht_shm_grads_buf(&t->hier.shm, t->hier.local, b);
  return NULL;
}

const ht_shm_grads *ht_grad_transport_shm(const ht_grad_transport *t) {
  return t->used == HT_TRANSPORT_SHM ? &t->shm : NULL;
}

const ht_hier *ht_grad_transport_hier(const ht_grad_transport *t) {
  return t->used == HT_TRANSPORT_HIER ? &t->hier : NULL;
}

void ht_grad_transport_free(ht_grad_transport *t) {
  ht_shm_grads_free(&t->shm);
  ht_hier_free(&t->hier);
  t->used = HT_TRANSPORT_MPI;
}
