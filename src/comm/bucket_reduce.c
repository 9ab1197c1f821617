/* Summing gradient buckets over ranks in rank order; see comm/bucket_reduce.h. */
#include "comm/bucket_reduce.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/clones.h"
#include "hytrain/error.h"

/* Chunk c of a bucket of n floats over p ranks: [n*c/p, n*(c+1)/p). */
size_t ht__chunk_lo(size_t n, int c, int p) {
  return (size_t)((unsigned __int128)n * (unsigned)c / (unsigned)p);
}

/* Tags: the same bucket index is never in flight twice at once, and every
 * rank issues buckets in the same order, so tags only need to tell the two
 * phases of the buckets in flight apart. */
static int tag(int k, int phase) { return 2 * (k % 16000) + phase; }

/* The first element of the copies src[0..p)[i0, i0 + n) that is NaN or
 * infinite, in rank order: returns the rank with *at its index (from i0);
 * p when no copy has one, with *at the first non-finite element of
 * sums[0..n) (the sum overflowed). */
static int blame(const float *const *src, int p, size_t i0, const float *sums, size_t n, size_t *at) {
  for (int r = 0; r < p; r++)
    for (size_t j = 0; j < n; j++)
      if (!isfinite(src[r][i0 + j])) {
        *at = i0 + j;
        return r;
      }
  size_t j = 0;
  while (j < n && isfinite(sums[j])) j++;
  *at = i0 + j;
  return p;
}

/* Whether a float is NaN or infinite: its exponent bits are all set. An
 * integer compare on the bits, which vectorises (a float test would not). */
static inline unsigned nonfinite_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7f800000u) == 0x7f800000u;
}

/* Whether the sums of block [i0, i0 + m) are all finite: -1; otherwise
 * blame() of the block. */
HT_CLONES static int check_block(const float *const *src, int p, size_t i0, const float *sums, size_t m, size_t *at) {
  unsigned bad = 0;
  for (size_t j = 0; j < m; j++) bad |= nonfinite_bits(sums[j]);
  return bad == 0 ? -1 : blame(src, p, i0, sums, m, at);
}

/* check_block over n elements in 256-element blocks (sums = src[0]: one rank). */
static int check_sums(const float *const *src, int p, const float *sums, size_t n, size_t *at) {
  for (size_t i0 = 0; i0 < n; i0 += 256) {
    int who = check_block(src, p, i0, sums + i0, n - i0 < 256 ? n - i0 : 256, at);
    if (who >= 0) return who;
  }
  return -1;
}

int ht__first_nonfinite(const float *v, size_t n, size_t *at) {
  const float *src[1] = {v};
  return check_sums(src, 1, v, n, at) < 0 ? -1 : 0;
}

int ht_bucket_reduce_init(ht_bucket_reduce *br, MPI_Comm comm, const ht_bucket *buckets, int n_buckets,
                          const ht_shm_grads *shm, const ht_hier *hier) {
  memset(br, 0, sizeof *br);
  br->comm = comm;
  br->shm = shm;
  br->hier = hier;
  br->buckets = buckets;
  br->n_buckets = n_buckets;
  HT_CHECK_MPI(MPI_Comm_rank(comm, &br->rank));
  HT_CHECK_MPI(MPI_Comm_size(comm, &br->size));
  /* The non-finite findings, for every summing path. */
  br->nf_rank = malloc((size_t)n_buckets * sizeof *br->nf_rank);
  br->nf_elem = calloc((size_t)n_buckets, sizeof *br->nf_elem);
  if (!br->nf_rank || !br->nf_elem) {
    ht_bucket_reduce_free(br);
    return ht_error(HT_ENOMEM, "out of memory for %d gradient buckets", n_buckets);
  }
  for (int k = 0; k < n_buckets; k++) br->nf_rank[k] = -1;
  if (hier) return ht__hier_reduce_init(br);
  int p = br->size;
  size_t n_req = (size_t)n_buckets * (size_t)(2 * (p - 1)); /* every bucket's requests, for one MPI_Testsome */
  if (n_req > (size_t)INT_MAX)
    return ht_error(HT_EINVAL, "%d gradient buckets over %d ranks need more MPI requests than an int counts "
                    "(raise comm.bucket_mb)", n_buckets, p);
  br->recv_off = calloc((size_t)n_buckets, sizeof *br->recv_off);
  br->phase = calloc((size_t)n_buckets, sizeof *br->phase);
  br->pending = calloc((size_t)n_buckets, sizeof *br->pending);
  br->req = malloc((n_req + 1) * sizeof *br->req);
  br->ready = malloc((n_req + 1) * sizeof *br->ready);
  br->src = malloc((size_t)p * sizeof *br->src);
  br->dst = malloc((size_t)p * sizeof *br->dst);
  br->round = calloc((size_t)n_buckets, sizeof *br->round);
  br->shm_buf = calloc((size_t)n_buckets, sizeof *br->shm_buf);
  if (!br->recv_off || !br->phase || !br->pending || !br->req || !br->ready || !br->src || !br->dst || !br->round ||
      !br->shm_buf) {
    ht_bucket_reduce_free(br);
    return ht_error(HT_ENOMEM, "out of memory for %d gradient buckets", n_buckets);
  }
  size_t total = 0;
  for (int k = 0; k < n_buckets; k++) {
    size_t n = buckets[k].hi - buckets[k].lo;
    br->recv_off[k] = total;
    total += (size_t)(p - 1) * (ht__chunk_lo(n, br->rank + 1, p) - ht__chunk_lo(n, br->rank, p));
  }
  for (size_t i = 0; i < n_req; i++) br->req[i] = MPI_REQUEST_NULL;
  if (total > 0 && !shm) {
    br->recv = malloc(total * sizeof *br->recv);
    if (!br->recv) {
      ht_bucket_reduce_free(br);
      return ht_error(HT_ENOMEM, "out of memory for %.1f MB of received gradient chunks", total * 4.0 / 1e6);
    }
  }
  return 0;
}

static MPI_Request *reqs(ht_bucket_reduce *br, int k) { return br->req + (size_t)k * (size_t)(2 * (br->size - 1)); }

/* The received copy from rank r (r != own rank) of bucket k's own chunk. */
static float *copy_from(ht_bucket_reduce *br, int k, int r, size_t chunk) {
  int slot = r < br->rank ? r : r - 1;
  return br->recv + br->recv_off[k] + (size_t)slot * chunk;
}

/* The value of ready[r][k] once rank r's bucket k of this round is final:
 * the round, and which buffer it is in. */
static uint64_t shm_ready_value(const ht_bucket_reduce *br, int k) {
  return br->round[k] << 1 | (uint64_t)br->shm_buf[k];
}

/* Shared memory: bucket k of this rank's buffer buf is final. */
static int shm_start(ht_bucket_reduce *br, const float *buf, int k) {
  int b = ht_shm_grads_index(br->shm, buf);
  if (b < 0) return ht_error(HT_EINTERNAL, "gradient bucket %d: the buffer is not one of the shared-memory buffers", k);
  br->round[k]++;
  br->shm_buf[k] = b;
  /* Release: the gradient written before this store is what the owners read. */
  atomic_store_explicit(ht_shm_grads_ready(br->shm, br->rank, k), shm_ready_value(br, k), memory_order_release);
  br->phase[k] = HT_BR_GATHER;
  return 0;
}

int ht_bucket_reduce_start(ht_bucket_reduce *br, float *buf, int k) {
  int p = br->size, me = br->rank;
  float *b = buf + br->buckets[k].lo;
  size_t n = br->buckets[k].hi - br->buckets[k].lo;
  br->nf_rank[k] = -1;
  if (p == 1) {
    /* The "sum" is the bucket itself: check it as the owner would. */
    const float *src[1] = {b};
    size_t at = 0;
    br->nf_rank[k] = check_sums(src, 1, b, n, &at);
    br->nf_elem[k] = br->buckets[k].lo + at;
    br->phase[k] = HT_BR_DONE;
    return 0;
  }
  if (br->hier) return ht__hier_reduce_start(br, buf, k);
  if (br->shm) return shm_start(br, buf, k);
  size_t mine = ht__chunk_lo(n, me + 1, p) - ht__chunk_lo(n, me, p);
  MPI_Request *rq = reqs(br, k);
  int i = 0, rc;
  for (int r = 0; r < p; r++) {
    if (r == me) continue;
    rc = HT_MPI(MPI_Irecv(copy_from(br, k, r, mine), (int)mine, MPI_FLOAT, r, tag(k, 0), br->comm, &rq[i++]));
    if (rc < 0) return rc;
  }
  /* Sends go to the owners in order me+1, me+2, ... so no rank is the first
   * target of everybody at once. */
  for (int s = 1; s < p; s++) {
    int r = (me + s) % p;
    size_t lo = ht__chunk_lo(n, r, p), hi = ht__chunk_lo(n, r + 1, p);
    rc = HT_MPI(MPI_Isend(b + lo, (int)(hi - lo), MPI_FLOAT, r, tag(k, 0), br->comm, &rq[i++]));
    if (rc < 0) return rc;
  }
  br->phase[k] = HT_BR_GATHER;
  br->pending[k] = i;
  return 0;
}

/* acc[0..m) = the rank-order sums of src[0..p)[i0 .. i0 + m); returns
 * nonzero when one of them is NaN or infinite (a non-finite input makes its
 * sum non-finite, so the sums alone tell). The check rides on the last
 * pass, and the loops are built for the CPU (HT_CLONES: the same IEEE
 * additions in the same order in every version). */
HT_CLONES static unsigned sum_block(const float *const *src, int p, size_t i0, size_t m, float *restrict acc) {
  unsigned bad = 0;
  const float *a = src[0] + i0, *b = src[1] + i0;
  if (p == 2) {
    for (size_t j = 0; j < m; j++) {
      acc[j] = a[j] + b[j];
      bad |= nonfinite_bits(acc[j]);
    }
    return bad;
  }
  for (size_t j = 0; j < m; j++) acc[j] = a[j] + b[j];
  for (int r = 2; r < p - 1; r++) {
    const float *c = src[r] + i0;
    for (size_t j = 0; j < m; j++) acc[j] += c[j];
  }
  const float *c = src[p - 1] + i0;
  for (size_t j = 0; j < m; j++) {
    acc[j] += c[j];
    bad |= nonfinite_bits(acc[j]);
  }
  return bad;
}

/* Rank order: the sum ((src[0][i] + src[1][i]) + src[2][i]) + ... (p >= 2
 * copies of n floats) is written to dst[0..n_dst)[i]. A dst may be a src:
 * each block is summed aside before any dst is written (and checked before,
 * so the copies are still there to blame). Returns what check_sums() would. */
int ht__sum_rank_order(const float *const *src, int p, size_t n, float *const *dst, int n_dst, size_t *at) {
  int who = -1;
  for (size_t i0 = 0; i0 < n; i0 += 256) {
    size_t m = n - i0 < 256 ? n - i0 : 256;
    float acc[256];
    if (sum_block(src, p, i0, m, acc) && who < 0) who = blame(src, p, i0, acc, m, at);
    for (int d = 0; d < n_dst; d++) memcpy(dst[d] + i0, acc, m * sizeof *acc);
  }
  return who;
}

/* The gather of bucket k is complete: sum the own chunk in rank order and
 * post the spread. */
static int sum_and_spread(ht_bucket_reduce *br, float *buf, int k) {
  int p = br->size, me = br->rank;
  float *b = buf + br->buckets[k].lo;
  size_t n = br->buckets[k].hi - br->buckets[k].lo;
  size_t lo = ht__chunk_lo(n, me, p), mine = ht__chunk_lo(n, me + 1, p) - lo;
  float *own = b + lo;
  const float **src = br->src;
  for (int r = 0; r < p; r++) src[r] = r == me ? own : copy_from(br, k, r, mine);
  size_t at = 0;
  br->nf_rank[k] = ht__sum_rank_order(src, p, mine, &own, 1, &at);
  br->nf_elem[k] = br->buckets[k].lo + lo + at;
  MPI_Request *rq = reqs(br, k);
  int i = 0, rc;
  for (int r = 0; r < p; r++) {
    if (r == me) continue;
    size_t rlo = ht__chunk_lo(n, r, p), rhi = ht__chunk_lo(n, r + 1, p);
    rc = HT_MPI(MPI_Irecv(b + rlo, (int)(rhi - rlo), MPI_FLOAT, r, tag(k, 1), br->comm, &rq[i++]));
    if (rc < 0) return rc;
  }
  for (int s = 1; s < p; s++) {
    int r = (me + s) % p;
    rc = HT_MPI(MPI_Isend(own, (int)mine, MPI_FLOAT, r, tag(k, 1), br->comm, &rq[i++]));
    if (rc < 0) return rc;
  }
  br->phase[k] = HT_BR_SPREAD;
  br->pending[k] = i;
  return 0;
}

/* Shared memory, bucket k: every rank's part is final; sum the own chunk of
 * every rank's buffer in rank order, write it back into all of them, and say
 * so. */
static void shm_sum(ht_bucket_reduce *br, int k) {
  int p = br->size, me = br->rank;
  size_t n = br->buckets[k].hi - br->buckets[k].lo;
  size_t lo = br->buckets[k].lo + ht__chunk_lo(n, me, p), mine = ht__chunk_lo(n, me + 1, p) - ht__chunk_lo(n, me, p);
  for (int r = 0; r < p; r++) br->dst[r] = ht_shm_grads_buf(br->shm, r, br->shm_buf[k]) + lo;
  size_t at = 0;
  br->nf_rank[k] = ht__sum_rank_order((const float *const *)br->dst, p, mine, br->dst, p, &at);
  br->nf_elem[k] = lo + at;
  /* Release: the sums written above are what the other ranks read next. */
  atomic_store_explicit(ht_shm_grads_summed(br->shm, me, k), br->round[k], memory_order_release);
}

/* Shared memory: one look at the flags of every bucket in flight. */
static int shm_progress(ht_bucket_reduce *br, int *done, int *n_done) {
  int p = br->size;
  for (int k = 0; k < br->n_buckets; k++) {
    if (br->phase[k] == HT_BR_GATHER) {
      uint64_t want = shm_ready_value(br, k);
      int all = 1;
      for (int r = 0; r < p && all; r++) {
        uint64_t v = atomic_load_explicit(ht_shm_grads_ready(br->shm, r, k), memory_order_acquire);
        /* Same round, other buffer: the ranks disagree on comm.mode (cannot
         * happen with one config); fail rather than wait forever. */
        if (v >> 1 == br->round[k] && v != want)
          return ht_error(HT_EINTERNAL, "gradient bucket %d: rank %d summed another buffer in the same round (comm.mode differs between ranks?)", k, r);
        all = v == want;
      }
      if (!all) continue;
      shm_sum(br, k);
      br->phase[k] = HT_BR_SPREAD;
    }
    if (br->phase[k] == HT_BR_SPREAD) {
      int all = 1;
      for (int r = 0; r < p && all; r++)
        all = atomic_load_explicit(ht_shm_grads_summed(br->shm, r, k), memory_order_acquire) >= br->round[k];
      if (!all) continue;
      br->phase[k] = HT_BR_DONE;
      done[(*n_done)++] = k;
    }
  }
  return MPI_SUCCESS;
}

int ht_bucket_reduce_progress(ht_bucket_reduce *br, float *buf, int *done, int *n_done) {
  int per = 2 * (br->size - 1), rc;
  *n_done = 0;
  if (br->hier) return ht__hier_reduce_progress(br, buf, done, n_done);
  if (br->shm) return shm_progress(br, done, n_done);
  /* MPI_Testsome over every bucket's requests: one pass of Open MPI's
   * progress engine however many buckets are in flight (completed requests
   * are MPI_REQUEST_NULL and ignored). Passes repeat while they complete
   * something, so a gather that completes has its spread posted and pushed on
   * in the same poll; a poll where nothing moves costs one pass. */
  for (;;) {
    int outcount = 0;
    rc = HT_MPI(MPI_Testsome(br->n_buckets * per, br->req, &outcount, br->ready, MPI_STATUSES_IGNORE));
    if (rc < 0) return rc;
    if (outcount == MPI_UNDEFINED || outcount == 0) return 0;
    for (int i = 0; i < outcount; i++) {
      int k = br->ready[i] / per;
      if (--br->pending[k] > 0) continue;
      if (br->phase[k] == HT_BR_GATHER) {
        rc = sum_and_spread(br, buf, k);
        if (rc < 0) return rc;
      } else {
        br->phase[k] = HT_BR_DONE;
        done[(*n_done)++] = k;
      }
    }
  }
}

int ht_bucket_reduce_missing(const ht_bucket_reduce *br, int k, int *ranks) {
  if (br->phase[k] != HT_BR_GATHER && br->phase[k] != HT_BR_SPREAD) return 0;
  if (br->hier) return ht__hier_reduce_missing(br, k, ranks);
  int p = br->size, me = br->rank, n = 0;
  if (br->shm) {
    /* Gather: the ranks whose part is not final yet; spread: the owners
     * whose chunk is not summed yet. */
    for (int r = 0; r < p; r++) {
      uint64_t v = br->phase[k] == HT_BR_GATHER ? atomic_load(ht_shm_grads_ready(br->shm, r, k)) >> 1
                                                : atomic_load(ht_shm_grads_summed(br->shm, r, k));
      if (v < br->round[k]) ranks[n++] = r;
    }
    return n;
  }
  const MPI_Request *rq = br->req + (size_t)k * (size_t)(2 * (p - 1));
  for (int r = 0; r < p; r++) {
    if (r == me) continue;
    /* Request layout of a phase: receives from every other rank in rank
     * order, then sends to me+1, me+2, ... */
    int recv_i = r < me ? r : r - 1, send_i = (p - 1) + ((r - me + p) % p - 1);
    if (rq[recv_i] != MPI_REQUEST_NULL || rq[send_i] != MPI_REQUEST_NULL) ranks[n++] = r;
  }
  return n;
}

void ht_bucket_reduce_free(ht_bucket_reduce *br) {
  free(br->recv);
  free(br->recv_off);
  free(br->req);
  free(br->phase);
  free(br->pending);
  free(br->ready);
  free(br->src);
  free(br->dst);
  free(br->round);
  free(br->shm_buf);
  free(br->step);
  free(br->scratch);
  free(br->scratch_off);
  free(br->wire);
  free(br->nf_rank);
  free(br->nf_elem);
  memset(br, 0, sizeof *br);
}
