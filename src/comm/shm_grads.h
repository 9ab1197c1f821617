/*
 * Gradient buffers in memory shared by the ranks of one node, and the flags
 * that let the communication threads sum buckets in them directly.
 *
 * When every rank runs on one node (comm.transport auto or shm), each rank's
 * flat gradient buffers (one, or two for comm.mode delayed) live in one POSIX
 * shared-memory segment that every rank maps. Bucket k is summed as
 * comm/bucket_reduce.h does over messages, with the same chunks and the
 * same rank order, so the sums are bit-identical to the message path:
 *   rank r, bucket k final:   ready[r][k] = round (release)
 *   owner c of chunk c:       once every ready[q][k] shows the round, reads
 *                             chunk c of every rank's buffer, adds the copies
 *                             in rank order, writes the sum into chunk c of
 *                             every rank's buffer, then summed[c][k] = round
 *   bucket k complete:        every summed[c][k] shows the round
 * No copy goes through MPI: each rank reads and writes 2 x its chunk of every
 * bucket once, where messages cost a copy each way plus MPI's progress calls.
 *
 * Ordering: a rank writes bucket k of round s+1 only after its round s is
 * complete, i.e. after every owner has finished reading and writing its
 * buffer, so no lock is needed beyond the flags.
 *
 * The segment is created by rank 0 (shm_open with a unique name, reserved with
 * posix_fallocate so a full /dev/shm fails here and not later with SIGBUS),
 * mapped by every rank and unlinked as soon as all have mapped it: nothing is
 * left in /dev/shm whatever happens to the job later. Freeing is local
 * (munmap), so no rank can hang on teardown.
 */
#ifndef HT_COMM_SHM_GRADS_H
#define HT_COMM_SHM_GRADS_H

#include <mpi.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ht_shm_grads {
  int rank, size;
  int n_bufs;            /* gradient buffers per rank (1, or 2 for delayed) */
  int n_buckets;
  size_t n;              /* floats per gradient buffer */
  unsigned char *base;   /* the mapping: size areas of `area` bytes */
  size_t area;           /* bytes per rank: flags, then the buffers */
  size_t flags_bytes;    /* bytes of ready[] + summed[], rounded to 64 */
  size_t buf_bytes;      /* bytes per buffer, rounded to 64 */
  size_t bytes;          /* the whole mapping */
} ht_shm_grads;

/* Collective on comm (every rank must call it, also one that failed before:
 * local_rc != 0 makes every rank skip the segment and return 1). Sets up the
 * segment for n floats x n_bufs buffers per rank and n_buckets buckets.
 * Returns 0 (in use), 1 (not available here: why says why, e.g. the ranks
 * span several nodes or /dev/shm is full) or HT_EMPI. */
int ht_shm_grads_create(ht_shm_grads *s, MPI_Comm comm, size_t n, int n_bufs, int n_buckets, int local_rc, char *why,
                        size_t why_cap);

/* Rank r's gradient buffer b (0 <= b < n_bufs), 64-byte aligned. */
float *ht_shm_grads_buf(const ht_shm_grads *s, int r, int b);

/* The index of this rank's buffer that starts at p, or -1. */
int ht_shm_grads_index(const ht_shm_grads *s, const float *p);

/* Rank r's flags for bucket k: "its part of round .. is final" and "its
 * chunk of round .. is summed and written to every rank". */
_Atomic uint64_t *ht_shm_grads_ready(const ht_shm_grads *s, int r, int k);
_Atomic uint64_t *ht_shm_grads_summed(const ht_shm_grads *s, int r, int k);

/* Unmaps the segment (local). Safe on a zeroed struct. */
void ht_shm_grads_free(ht_shm_grads *s);

#endif
