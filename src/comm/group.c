/*
 * Communicators for groups of ranks: a sweep or cross-validation runs one
 * training per group, and ht_train needs an ht_comm whose main and grad
 * communicators span only that group.
 */
#include "hytrain/comm.h"

#include "comm/stall.h"
#include "hytrain/error.h"

int ht_comm_split(const ht_comm *parent, int color, int key, ht_comm *out) {
  MPI_Comm group = MPI_COMM_NULL;
  out->main = out->grad = MPI_COMM_NULL;
  out->stall = NULL;
  out->provided = parent->provided;
  HT_CHECK_MPI(MPI_Comm_split(parent->main, color, key, &group));
  /* Two duplicates, as in ht_comm_init: the main thread's collectives and
   * the gradient traffic never share a communicator. */
  int rc = 0;
  rc = HT_MPI(MPI_Comm_dup(group, &out->main));
  if (rc == 0) rc = HT_MPI(MPI_Comm_dup(group, &out->grad));
  MPI_Comm_free(&group);
  if (rc < 0) {
    ht_comm_free(out);
    return rc;
  }
  HT_CHECK_MPI(MPI_Comm_set_errhandler(out->main, MPI_ERRORS_RETURN));
  HT_CHECK_MPI(MPI_Comm_set_errhandler(out->grad, MPI_ERRORS_RETURN));
  HT_CHECK_MPI(MPI_Comm_rank(out->main, &out->rank));
  HT_CHECK_MPI(MPI_Comm_size(out->main, &out->size));
  /* Its own watchdog: a training in the group sets its own limits, and its
   * messages name the rank within the group. */
  return ht_stall_create(&out->stall, out->rank);
}

void ht_comm_free(ht_comm *c) {
  ht_stall_destroy(&c->stall);
  if (c->grad != MPI_COMM_NULL) MPI_Comm_free(&c->grad);
  if (c->main != MPI_COMM_NULL) MPI_Comm_free(&c->main);
}
