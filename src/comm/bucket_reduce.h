/*
 * Summing gradient buckets over ranks with point-to-point messages, in a fixed
 * order (used by the communication thread only).
 *
 * Each bucket [lo, hi) is cut into P chunks (chunk c = [lo + n*c/P,
 * lo + n*(c+1)/P), n = hi - lo); rank c owns chunk c.
 *   gather: every rank sends chunk c to rank c and receives its own chunk from
 *           every other rank (P-1 messages each way);
 *   sum:    the owner adds the P copies of its chunk in rank order,
 *           ((x0 + x1) + x2) + ... , into buf;
 *   spread: the owner sends the summed chunk to every other rank and receives
 *           every other chunk into buf.
 * Each rank sends and receives 2(P-1)/P of the bucket, as a ring allreduce
 * does. Because every element is summed in rank order whatever the bucket
 * boundaries, the result is bit-identical for every bucket size, every
 * comm.mode and every waiting policy, and identical on every rank.
 *
 * Why not MPI_Iallreduce: on shared memory Open MPI 4.1's libnbc ring took
 * 6.4-6.9 ms for the 7.1 MiB gradient of the MLP 784-1024-1024-10 in 1 MiB
 * buckets (2 ranks, the thread polling), against 2.5-3.9 ms for the blocking
 * MPI_Allreduce; this scheme does the same transfer with one copy per message
 * (vader's CMA) and one summing pass (docs/comm.md has the numbers).
 *
 * Non-finite values: as the owner sums its chunk it also checks the sums
 * (one multiply-add per element, in the same pass); when one is NaN or
 * infinite it looks through the P copies of that block in rank order and
 * records the first rank whose copy holds a non-finite value (nf_rank,
 * nf_elem). Only the owner of a chunk knows; callers agree over ranks.
 *
 * All memory (the received copies and the requests) is allocated at init: the
 * received copies of every bucket take (P-1)/P of the gradient.
 *
 * With a shared segment (comm/shm_grads.h: every rank on one node) the
 * same chunks are summed in the same rank order straight from the other
 * ranks' buffers, and no message is sent: the results are bit-identical to
 * the message path.
 */
#ifndef HT_COMM_BUCKET_REDUCE_H
#define HT_COMM_BUCKET_REDUCE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "comm/hier.h"
#include "comm/shm_grads.h"

/* A contiguous slice [lo, hi) of the flat gradient buffer. */
typedef struct ht_bucket {
  size_t lo, hi;
} ht_bucket;

typedef struct ht_bucket_reduce {
  MPI_Comm comm;
  int rank, size;
  int n_buckets;
  const ht_bucket *buckets; /* borrowed */
  float *recv;              /* received copies of the own chunk, every bucket */
  size_t *recv_off;         /* [n_buckets]: bucket k's copies start at recv + recv_off[k] */
  MPI_Request *req;         /* [n_buckets][2 (P-1)] */
  int *ready;               /* [n_buckets * 2 (P-1)] scratch for MPI_Testsome */
  int *phase;               /* [n_buckets]: HT_BR_* */
  int *pending;             /* [n_buckets]: requests of the current phase not yet complete */
  const float **src;        /* [P] scratch: the P copies of a chunk */
  const ht_shm_grads *shm;  /* borrowed; non-NULL: sum in shared memory, no messages */
  uint64_t *round;          /* [n_buckets] shm: the bucket's round (1, 2, ...; the same on every rank) */
  int *shm_buf;             /* [n_buckets] shm: which of the rank's buffers this round sums */
  float **dst;              /* [P] shm scratch: chunk c in every rank's buffer */
  const ht_hier *hier;      /* borrowed; non-NULL: hierarchical summing (comm/hier.h, comm/hier_reduce.c) */
  int *step;                /* [n_buckets] hier: -1 node sum, 0 .. n_steps-1 inter-node step, n_steps node spread */
  int n_steps;              /* hier: inter-node steps per bucket */
  float *scratch;           /* hier: received inter-node partial sums, every bucket */
  size_t *scratch_off;      /* [n_buckets] hier: bucket k's start in scratch */
  uint16_t *wire;           /* hier with bf16: bucket k's outgoing piece at wire + 2 scratch_off[k], incoming after it */
  int *nf_rank;             /* [n_buckets] last sum of bucket k: -1 every sum of the own chunk is finite;
                             * else the first rank whose copy holds a non-finite value (P: none does,
                             * the sum overflowed) */
  size_t *nf_elem;          /* [n_buckets] with nf_rank >= 0: that element, an index into the flat buffer */
} ht_bucket_reduce;

enum { HT_BR_IDLE, HT_BR_GATHER, HT_BR_SPREAD, HT_BR_DONE };

/* Plans the buckets for comm (not collective). shm: the ranks' shared
 * gradient buffers (then buf below must be one of this rank's), or NULL for
 * messages. hier: sum hierarchically (comm/hier.h; shm must be NULL; with
 * L > 1, buf must be one of this rank's buffers in hier->shm), or NULL.
 * Returns 0, HT_ENOMEM or HT_EMPI. */
int ht_bucket_reduce_init(ht_bucket_reduce *br, MPI_Comm comm, const ht_bucket *buckets, int n_buckets,
                          const ht_shm_grads *shm, const ht_hier *hier);

/* Starts summing bucket k of buf (posts the gather). Returns 0, HT_EMPI
 * (message recorded on the calling thread), or HT_EINTERNAL when shm is set
 * and buf is not one of its buffers. */
int ht_bucket_reduce_start(ht_bucket_reduce *br, float *buf, int k);

/* Progresses every started bucket without blocking (one MPI_Testsome, or
 * one look at the shared flags): sums
 * the buckets whose gather completed and posts their spread; writes the
 * buckets whose sum is now complete in buf to done[0 .. *n_done) (done must
 * hold n_buckets). Returns 0 or a negative HT_E* code (message recorded). */
int ht_bucket_reduce_progress(ht_bucket_reduce *br, float *buf, int *done, int *n_done);

/* The ranks bucket k still waits for in its current phase (a message to or
 * from them is incomplete), in increasing order, into ranks[0 .. return)
 * (ranks must hold P). 0 when the bucket is idle or done. */
int ht_bucket_reduce_missing(const ht_bucket_reduce *br, int k, int *ranks);

/* Internals shared with comm/hier_reduce.c. */
/* Chunk c of n floats over p owners: [n*c/p, n*(c+1)/p). */
size_t ht__chunk_lo(size_t n, int c, int p);
/* Rank order: ((src[0][i] + src[1][i]) + src[2][i]) + ... (p >= 2 copies of n
 * floats) is written to dst[0..n_dst)[i]; a dst may be a src. Returns -1, or
 * the first copy holding a NaN/inf where a sum is one (p: none, the sum
 * overflowed) with *at its element. */
int ht__sum_rank_order(const float *const *src, int p, size_t n, float *const *dst, int n_dst, size_t *at);
/* Whether n floats are all finite: -1; else the index of the first NaN or
 * infinity in *at and 0. The same vectorised exponent test as the sums. */
int ht__first_nonfinite(const float *v, size_t n, size_t *at);
/* The hierarchical counterparts of init, start, progress and missing. */
int ht__hier_reduce_init(ht_bucket_reduce *br);
int ht__hier_reduce_start(ht_bucket_reduce *br, float *buf, int k);
int ht__hier_reduce_progress(ht_bucket_reduce *br, float *buf, int *done, int *n_done);
int ht__hier_reduce_missing(const ht_bucket_reduce *br, int k, int *ranks);

/* Frees everything; safe on a zeroed struct. Requests must be complete. */
void ht_bucket_reduce_free(ht_bucket_reduce *br);

#endif
