/* MPI initialisation, communicators and the main thread's collectives. */
#include "hytrain/comm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "comm/stall.h"
#include "hytrain/error.h"

static const char *thread_level_name(int level) {
  switch (level) {
  case MPI_THREAD_SINGLE:
    return "MPI_THREAD_SINGLE";
  case MPI_THREAD_FUNNELED:
    return "MPI_THREAD_FUNNELED";
  case MPI_THREAD_SERIALIZED:
    return "MPI_THREAD_SERIALIZED";
  case MPI_THREAD_MULTIPLE:
    return "MPI_THREAD_MULTIPLE";
  }
  return "unknown";
}

int ht_comm_init(ht_comm *c, int *argc, char ***argv) {
  c->main = c->grad = MPI_COMM_NULL;
  c->stall = NULL;
  HT_CHECK_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &c->provided));
  /* Errors come back as codes so they can be reported with the input named. */
  HT_CHECK_MPI(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  HT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &c->rank));
  HT_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &c->size));
  if (c->provided < MPI_THREAD_MULTIPLE)
    return ht_error(HT_EMPI,
                    "MPI provides only %s; hytrain needs MPI_THREAD_MULTIPLE (the communication thread "
                    "and the main thread both call MPI). Use an Open MPI built with thread support.",
                    thread_level_name(c->provided));
  HT_CHECK_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &c->main));
  HT_CHECK_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &c->grad));
  HT_CHECK_MPI(MPI_Comm_set_errhandler(c->main, MPI_ERRORS_RETURN));
  HT_CHECK_MPI(MPI_Comm_set_errhandler(c->grad, MPI_ERRORS_RETURN));
  return ht_stall_create(&c->stall, c->rank);
}

void ht_comm_finalize(ht_comm *c) {
  ht_stall_destroy(&c->stall);
  if (c->grad != MPI_COMM_NULL) MPI_Comm_free(&c->grad);
  if (c->main != MPI_COMM_NULL) MPI_Comm_free(&c->main);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

int ht_comm_agree(const ht_comm *c, int rc) {
  /* MINLOC: the most negative code, and the lowest rank that holds it. */
  struct {
    int code;
    int rank;
  } mine = {rc < 0 ? rc : 0, c->rank}, first;
  ht_stall_enter(c->stall, "the error agreement (MPI_Allreduce)");
  int mpi_rc = HT_MPI(MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, c->main));
  ht_stall_leave(c->stall);
  if (mpi_rc < 0) return mpi_rc;
  if (first.code < 0 && first.rank != c->rank) {
    /* Another rank reports this failure; stay silent so the user sees one line. */
    ht_error_defer();
  }
  return first.code;
}

int ht_comm_allreduce_mean(const ht_comm *c, float *buf, size_t n) {
  if (c->size == 1) return 0;
  /* MPI counts are int: reduce in pieces of at most INT_MAX elements. */
  for (size_t off = 0; off < n;) {
    int count = n - off > (size_t)INT_MAX ? INT_MAX : (int)(n - off);
    HT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, buf + off, count, MPI_FLOAT, MPI_SUM, c->grad));
    off += (size_t)count;
  }
  const float scale = 1.0f / (float)c->size;
  /* i is parallel: each element is scaled independently. */
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) buf[i] *= scale;
  return 0;
}

int ht_comm_bcast_floats(const ht_comm *c, float *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    int count = n - off > (size_t)INT_MAX ? INT_MAX : (int)(n - off);
    ht_stall_enter(c->stall, "the broadcast of rank 0's floats (MPI_Bcast)");
    int rc = HT_MPI(MPI_Bcast(buf + off, count, MPI_FLOAT, 0, c->main));
    ht_stall_leave(c->stall);
    if (rc < 0) return rc;
    off += (size_t)count;
  }
  return 0;
}

int ht_comm_set_watchdog(const ht_comm *c, double warn_s, double timeout_s) {
  return ht_stall_set_limits(c->stall, warn_s, timeout_s);
}

void ht_comm_stall_enter(const ht_comm *c, const char *what) { ht_stall_enter(c->stall, what); }

void ht_comm_stall_leave(const ht_comm *c) { ht_stall_leave(c->stall); }

_Noreturn void ht_comm_abort(const ht_comm *c, int code, const char *msg) {
  fprintf(stderr, "hytrain: error: [rank %d] %s\n", c ? c->rank : -1, msg && msg[0] ? msg : ht_strerror(code));
  fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, ht_exit_code(code));
  abort(); /* MPI_Abort does not return; keep the compiler and the contract honest. */
}
