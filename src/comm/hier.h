/*
 * Hierarchical gradient summing: the node layout, and the communicators and
 * shared memory it needs (comm.transport hier, or auto across nodes).
 *
 * The ranks of the gradient communicator form N nodes of L ranks each (every
 * node must run the same number of ranks). Nodes are numbered by their lowest
 * rank; on a node, ranks are numbered (local index 0 .. L-1) by rank. Bucket k
 * of n floats is summed in three stages (comm/bucket_reduce.h runs them on
 * the communication thread, bucket by bucket, without blocking):
 *   1. node:   the rank with local index l owns slice l of the bucket,
 *              [n*l/L, n*(l+1)/L); it adds slice l of the node's L gradient
 *              buffers (shared memory) in local order, ((y0 + y1) + y2) + ...
 *   2. across: the N owners of slice l (one per node, the "cross"
 *              communicator) allreduce it with messages, by ring or by
 *              recursive halving/doubling (below);
 *   3. node:   the owner writes the summed slice into every buffer of its node.
 * Per rank, the inter-node traffic is 2 (N-1)/N of the slice, 1/L of the
 * bucket, in 2 (N-1) (ring) or 2 log2 N (halving/doubling) messages.
 *
 * Order of additions (fixed for a layout, so runs are bit-identical; the
 * same on every rank, since stage 3 copies one result everywhere):
 *   node sums     s_j = ((y_j0 + y_j1) + ...) + y_j(L-1)   (node j, local order)
 *   ring          block b of the slice (N blocks) starts at node b:
 *                 ((s_b + s_b+1) + ...) + s_b-1   (indices mod N)
 *   halving/doubling (N = 2^d): a balanced tree in node order,
 *                 ((s_0 + s_1) + (s_2 + s_3)) + ((s_4 + s_5) + (s_6 + s_7)) ...
 * With one node this is the rank order of the flat paths (bit-identical to
 * them), and so it is with 2 nodes x 1 rank (s_0 + s_1); otherwise it
 * differs from the flat rank order in the last bits (within the tolerance of
 * a P-rank vs 1-rank comparison).
 */
#ifndef HT_COMM_HIER_H
#define HT_COMM_HIER_H

#include <mpi.h>
#include <stddef.h>

#include "comm/shm_grads.h"
#include "hytrain/options.h"


typedef struct ht_hier {
  MPI_Comm node;      /* this node's ranks, ordered by rank */
  MPI_Comm cross;     /* the ranks with this local index, one per node, in node order */
  int rank, size;     /* in the gradient communicator */
  int local, L;       /* this rank's index on its node; ranks per node */
  int node_id, N;     /* this node's index; nodes */
  int *node_ranks;    /* [L] gradient-communicator ranks of this node, by local index */
  int *cross_ranks;   /* [N] gradient-communicator ranks of the cross communicator, by node */
  int *node_of;       /* [size] the node of every rank */
  ht_inter_algo algo; /* ring or rhd (never auto once created) */
  int bf16;           /* inter-node messages carry bf16 (comm.dtype); set by the creator's caller */
  ht_shm_grads shm;   /* the node's gradient buffers when L > 1; shm.base == NULL when L == 1 */
} ht_hier;

/* Collective on comm (every rank must call it, also one that failed before:
 * local_rc != 0 makes every rank give up and return 1). Finds the node
 * layout and, for L > 1, sets up the node's shared segment for n floats x
 * n_bufs buffers and n_buckets buckets (comm/shm_grads.h). algo auto picks
 * halving/doubling when N is a power of two, else ring (docs/comm.md).
 * Returns 0 (in use), 1 (not possible: why says why, e.g. nodes with
 * different numbers of ranks) or a negative HT_E* code. */
int ht_hier_create(ht_hier *h, MPI_Comm comm, size_t n, int n_bufs, int n_buckets, int local_rc, ht_inter_algo algo,
                   char *why, size_t why_cap);

/* "ring" or "recursive halving/doubling". */
const char *ht_hier_algo_name(ht_inter_algo algo);

/* Frees everything (local: MPI_Comm_free is not synchronising). Safe on a
 * zeroed struct. */
void ht_hier_free(ht_hier *h);

#endif
