/*
 * MPI set-up and the collectives the trainer needs.
 *
 * Two communicators, both duplicated from MPI_COMM_WORLD, so collectives from
 * two threads can never interleave on one communicator:
 *   main  - the main thread's own collectives (config broadcast, initial
 *           weights, metrics, agreement on errors and stop flags);
 *   grad  - gradient traffic only (owned by the communication thread).
 */
#ifndef HYTRAIN_COMM_H
#define HYTRAIN_COMM_H

#include <mpi.h>
#include <stddef.h>

typedef struct ht_comm {
  int rank, size;
  int provided;      /* thread level MPI granted */
  MPI_Comm main;
  MPI_Comm grad;
} ht_comm;

/* MPI_Init_thread asking for MPI_THREAD_MULTIPLE; refuses (HT_EMPI, with the
 * level that was provided) if less is granted. Duplicates the communicators. */
int ht_comm_init(ht_comm *c, int *argc, char ***argv);

/* Collective on parent->main: an ht_comm over the ranks of parent that pass
 * the same color (MPI_Comm_split; ranks ordered by key, then parent rank),
 * with its own main and grad communicators. rank/size are within the group.
 * Free it with ht_comm_free (src/comm/group.c). */
int ht_comm_split(const ht_comm *parent, int color, int key, ht_comm *out);

/* Frees the communicators of an ht_comm made by ht_comm_split (not MPI). */
void ht_comm_free(ht_comm *c);

/* Frees the communicators and finalizes MPI. */
void ht_comm_finalize(ht_comm *c);

/* Collective on c->main: every rank passes its own rc (0 or HT_E*); returns 0
 * if all were 0, else the most negative code. The lowest rank holding that
 * code keeps its error message and reports it; every other rank's message is
 * cleared (ht_error_message() == ""), so the user sees one line. Use this at
 * the end of each phase so that a failure on one rank ends the job on all of
 * them cleanly (no rank left waiting in a collective). */
int ht_comm_agree(const ht_comm *c, int rc);

/* Collective on c->grad: buf[0..n) = mean over ranks (sum, then * 1/size).
 * Plain synchronous MPI_Allreduce from the calling thread. Training does not
 * use it (the communication thread owns c->grad there, see
 * hytrain/comm_thread.h); it is the simple reference the tests compare with.
 * Never call it while a communication thread is running on c. */
int ht_comm_allreduce_mean(const ht_comm *c, float *buf, size_t n);

/* Collective on c->main: broadcasts n floats from rank 0. */
int ht_comm_bcast_floats(const ht_comm *c, float *buf, size_t n);

/* Ends the whole job now from any rank: prints "hytrain: error: [rank r] msg"
 * to stderr and calls MPI_Abort with ht_exit_code(code). For failures where
 * the other ranks may already be inside a collective. Does not return. */
_Noreturn void ht_comm_abort(const ht_comm *c, int code, const char *msg);

#endif
