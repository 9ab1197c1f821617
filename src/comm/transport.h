/*
 * Choosing how gradient buckets are summed (comm.transport) and setting it
 * up: shared memory on one node (comm/shm_grads.h), hierarchical across
 * nodes (comm/hier.h) or MPI messages from every rank
 * (comm/bucket_reduce.h). One place for training and `hytrain bench
 * allreduce`, so both choose alike.
 */
#ifndef HT_COMM_TRANSPORT_H
#define HT_COMM_TRANSPORT_H

#include <mpi.h>
#include <stddef.h>

#include "comm/hier.h"
#include "comm/shm_grads.h"
#include "hytrain/options.h"

typedef struct ht_grad_transport {
  ht_transport used;  /* HT_TRANSPORT_SHM, _HIER or _MPI (never auto) */
  ht_shm_grads shm;   /* used == SHM: every rank's buffers */
  ht_hier hier;       /* used == HIER: the layout and the node's buffers */
  char note[256];     /* why auto did not pick shared memory / hierarchical summing, or "" */
} ht_grad_transport;

/* Collective on comm (unless want is mpi or comm has one rank; every rank
 * must call it, also one that failed before: local_rc != 0 makes every rank
 * fall back to messages). auto: shared memory when every rank is on one
 * node, else hierarchical, else messages (note says why). shm / hier: that,
 * or HT_ECONFIG naming the reason. n floats x n_bufs buffers per rank,
 * n_buckets buckets. Returns 0, HT_ECONFIG, HT_ENOMEM or HT_EMPI. */
int ht_grad_transport_create(ht_grad_transport *t, MPI_Comm comm, ht_transport want, ht_inter_algo inter, size_t n,
                             int n_bufs, int n_buckets, int local_rc);

/* This rank's gradient buffer b in shared memory, or NULL when its
 * buffers are its own (messages, or one rank per node). */
float *ht_grad_transport_buf(const ht_grad_transport *t, int rank, int b);

/* What the comm thread takes (ht_comm_thread_create): the shared buffers
 * or the hierarchy, each NULL when not in use. */
const ht_shm_grads *ht_grad_transport_shm(const ht_grad_transport *t);
const ht_hier *ht_grad_transport_hier(const ht_grad_transport *t);

/* Frees everything (local). Safe on a zeroed struct. */
void ht_grad_transport_free(ht_grad_transport *t);

#endif
