/*
 * Hierarchical summing of a gradient bucket (comm/hier.h has the stages and
 * the order of additions), driven by comm/bucket_reduce.c's start / progress
 * calls on the communication thread. Every bucket moves on its own, so
 * several buckets are in flight at once, as on the flat paths:
 *   step -1            (L > 1) wait until every rank of the node has
 *                      published bucket k, then add the own slice of the
 *                      node's buffers in local order into the own buffer
 *   step 0 .. S-1      the inter-node allreduce of the slice, one exchange
 *                      (an Isend and an Irecv on the cross communicator) per
 *                      step; a reduce-scatter step adds what it received
 *   step S             (L > 1) write the slice into every buffer of the node,
 *                      raise summed[own][k], wait until every owner has
 *   done
 * br->phase is HT_BR_GATHER up to the last reduce-scatter step and
 * HT_BR_SPREAD after it, so the watchdog's words fit.
 *
 * comm.dtype bf16 (hier->bf16): every inter-node message carries the
 * values rounded to bf16 (half the bytes); a reduce-scatter step adds the
 * received bf16 partial sum to its own fp32 values, and the owner of a
 * block rounds its complete sum to bf16 before the all-gather, so every
 * rank ends with the same values. The order of additions is the one above.
 *
 * Tags: bucket k's messages all carry tag k mod 30000 on the cross
 * communicator. The same bucket is never in flight twice, and between two
 * peers MPI delivers messages with one tag in the order they were sent, to
 * receives in the order they were posted, so the steps cannot be confused.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "comm/bucket_reduce.h"
#include "hytrain/error.h"
#include "hytrain/gemm.h"

static int tag(int k) { return k % 30000; }

static int log2_int(int n) {
  int d = 0;
  while ((1 << d) < n) d++;
  return d;
}

/* One inter-node step of a slice of m floats: send [send_lo, send_hi) to
 * node `to`, receive [recv_lo, recv_hi) from node `from`, into scratch and
 * then added (reduce = 1, the received partial sum on the left when
 * recv_left) or straight into the slice (reduce = 0). */
typedef struct step_plan {
  size_t send_lo, send_hi, recv_lo, recv_hi;
  int to, from, reduce, recv_left;
} step_plan;

/* Recursive halving/doubling: the range of the slice node i holds after
 * `level` halving steps (distance 1, 2, 4 ...: the node whose bit s is 0
 * keeps the lower half). */
static void rhd_range(size_t m, int i, int level, size_t *lo, size_t *hi) {
  *lo = 0;
  *hi = m;
  for (int s = 0; s < level; s++) {
    size_t mid = *lo + (*hi - *lo) / 2;
    if ((i >> s) & 1) *lo = mid;
    else *hi = mid;
  }
}

static void plan_step(const ht_hier *h, size_t m, int s, step_plan *p) {
  int N = h->N, i = h->node_id;
  memset(p, 0, sizeof *p);
  if (h->algo == HT_INTER_RING) {
    /* Reduce-scatter: steps 0 .. N-2 pass block i-s on and add block i-s-1
     * (the partial sum from node i-1 on the left); all-gather: steps
     * N-1 .. 2N-3 pass on the complete block received last. */
    int rs = s < N - 1, t = rs ? s : s - (N - 1);
    int send_b = rs ? i - t : i + 1 - t, recv_b = rs ? i - t - 1 : i - t;
    send_b = ((send_b % N) + N) % N;
    recv_b = ((recv_b % N) + N) % N;
    p->send_lo = ht__chunk_lo(m, send_b, N);
    p->send_hi = ht__chunk_lo(m, send_b + 1, N);
    p->recv_lo = ht__chunk_lo(m, recv_b, N);
    p->recv_hi = ht__chunk_lo(m, recv_b + 1, N);
    p->to = (i + 1) % N;
    p->from = (i + N - 1) % N;
    p->reduce = rs;
    p->recv_left = 1;
    return;
  }
  /* Halving at distance 2^s (s < d): keep one half of the range held, send
   * the other, add the partner's copy of the kept half (the lower node's on
   * the left). Doubling, the same levels in reverse: send the half held,
   * receive the partner's into place. */
  int d = log2_int(N), halving = s < d, lvl = halving ? s : d - 1 - (s - d);
  size_t lo, hi, klo, khi;
  rhd_range(m, i, lvl, &lo, &hi);
  rhd_range(m, i, lvl + 1, &klo, &khi);
  size_t olo = klo == lo ? khi : lo, ohi = klo == lo ? hi : klo; /* the partner's half */
  p->to = p->from = i ^ (1 << lvl);
  p->recv_lo = halving ? klo : olo;
  p->recv_hi = halving ? khi : ohi;
  p->send_lo = halving ? olo : klo;
  p->send_hi = halving ? ohi : khi;
  p->reduce = halving;
  p->recv_left = (i >> lvl) & 1; /* the partner is the lower node */
}

/* The largest piece of a slice of m floats one step moves. */
static size_t max_piece(const ht_hier *h, size_t m) {
  return h->algo == HT_INTER_RING ? (m + (size_t)h->N - 1) / (size_t)h->N : (m + 1) / 2;
}

/* Bucket k's own slice: [lo, lo + m) of the flat buffer. */
static void own_slice(const ht_bucket_reduce *br, int k, size_t *lo, size_t *m) {
  const ht_hier *h = br->hier;
  size_t n = br->buckets[k].hi - br->buckets[k].lo;
  *lo = br->buckets[k].lo + ht__chunk_lo(n, h->local, h->L);
  *m = ht__chunk_lo(n, h->local + 1, h->L) - ht__chunk_lo(n, h->local, h->L);
}

/* Bucket k's own slice and the plan of its current inter-node step. */
static void current_step(const ht_bucket_reduce *br, int k, size_t *lo, size_t *m, step_plan *p) {
  own_slice(br, k, lo, m);
  plan_step(br->hier, *m, br->step[k], p);
}

int ht__hier_reduce_init(ht_bucket_reduce *br) {
  const ht_hier *h = br->hier;
  int nb = br->n_buckets;
  br->n_steps = h->N == 1 ? 0 : h->algo == HT_INTER_RING ? 2 * (h->N - 1) : 2 * log2_int(h->N);
  br->phase = calloc((size_t)nb, sizeof *br->phase);
  br->pending = calloc((size_t)nb, sizeof *br->pending);
  br->step = calloc((size_t)nb, sizeof *br->step);
  br->round = calloc((size_t)nb, sizeof *br->round);
  br->shm_buf = calloc((size_t)nb, sizeof *br->shm_buf);
  br->scratch_off = calloc((size_t)nb, sizeof *br->scratch_off);
  br->req = malloc(((size_t)nb * 2 + 1) * sizeof *br->req);
  br->ready = malloc(((size_t)nb * 2 + 1) * sizeof *br->ready);
  br->dst = malloc((size_t)h->L * sizeof *br->dst);
  if (!br->phase || !br->pending || !br->step || !br->round || !br->shm_buf || !br->scratch_off || !br->req ||
      !br->ready || !br->dst) {
    ht_bucket_reduce_free(br);
    return ht_error(HT_ENOMEM, "out of memory for %d gradient buckets", nb);
  }
  if ((size_t)nb * 2 > (size_t)INT_MAX) {
    ht_bucket_reduce_free(br);
    return ht_error(HT_EINVAL, "%d gradient buckets are too many (raise comm.bucket_mb)", nb);
  }
  /* Scratch: the largest piece one step receives to add, per bucket (a
   * ring block, or half the slice for halving). */
  size_t total = 0;
  for (int k = 0; k < nb; k++) {
    size_t lo, m;
    own_slice(br, k, &lo, &m);
    br->scratch_off[k] = total;
    if (h->N > 1) total += max_piece(h, m);
  }
  for (int i = 0; i < nb * 2; i++) br->req[i] = MPI_REQUEST_NULL;
  if (total > 0) {
    if (h->bf16) br->wire = malloc(2 * total * sizeof *br->wire);
    else br->scratch = malloc(total * sizeof *br->scratch);
    if (!br->scratch && !br->wire) {
      ht_bucket_reduce_free(br);
      return ht_error(HT_ENOMEM, "out of memory for %.1f MB of received partial sums", total * 4.0 / 1e6);
    }
  }
  return 0;
}

/* Posts inter-node step br->step[k] of bucket k. */
static int post_step(ht_bucket_reduce *br, float *buf, int k) {
  const ht_hier *h = br->hier;
  size_t lo, m;
  step_plan p;
  current_step(br, k, &lo, &m, &p);
  float *slice = buf + lo;
  MPI_Request *rq = br->req + 2 * (size_t)k;
  int rc, n_recv = (int)(p.recv_hi - p.recv_lo), n_send = (int)(p.send_hi - p.send_lo);
  if (h->bf16) {
    uint16_t *out = br->wire + 2 * br->scratch_off[k], *in = out + max_piece(h, m);
    for (int j = 0; j < n_send; j++) out[j] = ht_bf16_bits(slice[p.send_lo + (size_t)j]);
    rc = HT_MPI(MPI_Irecv(in, n_recv, MPI_UINT16_T, p.from, tag(k), h->cross, &rq[0]));
    if (rc == 0) rc = HT_MPI(MPI_Isend(out, n_send, MPI_UINT16_T, p.to, tag(k), h->cross, &rq[1]));
  } else {
    float *into = p.reduce ? br->scratch + br->scratch_off[k] : slice + p.recv_lo;
    rc = HT_MPI(MPI_Irecv(into, n_recv, MPI_FLOAT, p.from, tag(k), h->cross, &rq[0]));
    if (rc == 0) rc = HT_MPI(MPI_Isend(slice + p.send_lo, n_send, MPI_FLOAT, p.to, tag(k), h->cross, &rq[1]));
  }
  br->pending[k] = 2;
  br->phase[k] = p.reduce ? HT_BR_GATHER : HT_BR_SPREAD;
  return rc;
}

/* Both messages of the current step of bucket k completed: add what a
 * reduce-scatter step received. */
static void finish_step(ht_bucket_reduce *br, float *buf, int k) {
  const ht_hier *h = br->hier;
  size_t lo, m;
  step_plan p;
  current_step(br, k, &lo, &m, &p);
  float *own = buf + lo + p.recv_lo;
  size_t len = p.recv_hi - p.recv_lo;
  if (h->bf16) {
    const uint16_t *in = br->wire + 2 * br->scratch_off[k] + max_piece(h, m);
    if (!p.reduce) {
      for (size_t j = 0; j < len; j++) own[j] = ht_bf16_to_f32(in[j]);
      return;
    }
    if (p.recv_left)
      for (size_t j = 0; j < len; j++) own[j] = ht_bf16_to_f32(in[j]) + own[j];
    else
      for (size_t j = 0; j < len; j++) own[j] = own[j] + ht_bf16_to_f32(in[j]);
    /* The last reduce-scatter step completes the block this rank owns:
     * round it as the others will receive it. */
    if (br->step[k] == br->n_steps / 2 - 1)
      for (size_t j = 0; j < len; j++) own[j] = ht_bf16_to_f32(ht_bf16_bits(own[j]));
    return;
  }
  if (!p.reduce) return;
  const float *got = br->scratch + br->scratch_off[k];
  /* The fixed order of comm/hier.h: the partial sum of the lower nodes on the left. */
  if (p.recv_left)
    for (size_t j = 0; j < len; j++) own[j] = got[j] + own[j];
  else
    for (size_t j = 0; j < len; j++) own[j] = own[j] + got[j];
}

/* After the last reduce-scatter step this rank holds the complete sum of
 * one block of its slice: a NaN or infinity there that no rank's own copy
 * explains (the node sum's check, or the own check with one rank per node,
 * found none) is an overflow between nodes. */
static void check_owned_block(ht_bucket_reduce *br, float *buf, int k) {
  if (br->step[k] != br->n_steps / 2 - 1 || br->nf_rank[k] >= 0) return;
  size_t lo, m, at = 0;
  step_plan p;
  current_step(br, k, &lo, &m, &p);
  if (ht__first_nonfinite(buf + lo + p.recv_lo, p.recv_hi - p.recv_lo, &at) < 0) return;
  br->nf_rank[k] = br->size;
  br->nf_elem[k] = lo + p.recv_lo + at;
}

/* The node's buffers at the own slice of bucket k, local rank order. */
static void node_slices(ht_bucket_reduce *br, int k, size_t lo) {
  const ht_hier *h = br->hier;
  for (int r = 0; r < h->L; r++) br->dst[r] = ht_shm_grads_buf(&h->shm, r, br->shm_buf[k]) + lo;
}

/* The inter-node sum of the own slice is in buf: hand it to the node. */
static void spread_on_node(ht_bucket_reduce *br, float *buf, int k, int *done, int *n_done) {
  const ht_hier *h = br->hier;
  br->step[k] = br->n_steps;
  br->phase[k] = HT_BR_SPREAD;
  if (h->L == 1) {
    br->phase[k] = HT_BR_DONE;
    done[(*n_done)++] = k;
    return;
  }
  size_t lo, m;
  own_slice(br, k, &lo, &m);
  node_slices(br, k, lo);
  for (int r = 0; r < h->L; r++)
    if (r != h->local) memcpy(br->dst[r], buf + lo, m * sizeof *buf);
  /* Release: the sums written above are what the node's ranks read next. */
  atomic_store_explicit(ht_shm_grads_summed(&h->shm, h->local, k), br->round[k], memory_order_release);
}

/* Starts the inter-node steps of bucket k (or finishes, with one node). */
static int start_inter(ht_bucket_reduce *br, float *buf, int k, int *done, int *n_done) {
  br->step[k] = 0;
  if (br->n_steps == 0) {
    spread_on_node(br, buf, k, done, n_done);
    return 0;
  }
  return post_step(br, buf, k);
}

int ht__hier_reduce_start(ht_bucket_reduce *br, float *buf, int k) {
  const ht_hier *h = br->hier;
  br->round[k]++;
  br->phase[k] = HT_BR_GATHER;
  br->step[k] = -1;
  if (h->L == 1) {
    /* One rank per node (and P > 1, so N > 1): the inter-node steps alone.
     * No node sum looks at this rank's copy, and the owners of the
     * inter-node blocks only see partial sums, which cannot name a rank:
     * so each rank checks its own bucket here (one exponent test per float,
     * as the node sum would do), and the first rank is agreed over ranks. */
    size_t lo, m, at = 0;
    own_slice(br, k, &lo, &m);
    if (ht__first_nonfinite(buf + lo, m, &at) == 0) {
      br->nf_rank[k] = br->rank;
      br->nf_elem[k] = lo + at;
    }
    br->step[k] = 0;
    return post_step(br, buf, k);
  }
  int b = ht_shm_grads_index(&h->shm, buf);
  if (b < 0) return ht_error(HT_EINTERNAL, "gradient bucket %d: the buffer is not one of the node's shared buffers", k);
  br->shm_buf[k] = b;
  /* Release: the gradient written before this store is what the owners read. */
  atomic_store_explicit(ht_shm_grads_ready(&h->shm, h->local, k), br->round[k] << 1 | (uint64_t)b,
                        memory_order_release);
  return 0;
}

/* Step -1 of bucket k: is every rank's part final on this node? Then sum the
 * own slice over the node. 1 when it moved on. */
static int try_node_sum(ht_bucket_reduce *br, float *buf, int k, int *done, int *n_done, int *rc) {
  const ht_hier *h = br->hier;
  uint64_t want = br->round[k] << 1 | (uint64_t)br->shm_buf[k];
  for (int r = 0; r < h->L; r++) {
    uint64_t v = atomic_load_explicit(ht_shm_grads_ready(&h->shm, r, k), memory_order_acquire);
    if (v >> 1 == br->round[k] && v != want) {
      *rc = ht_error(HT_EINTERNAL, "gradient bucket %d: rank %d summed another buffer in the same round (comm.mode "
                     "differs between ranks?)", k, h->node_ranks[r]);
      return 0;
    }
    if (v != want) return 0;
  }
  size_t lo, m;
  own_slice(br, k, &lo, &m);
  node_slices(br, k, lo);
  float *own = buf + lo;
  /* The non-finite check covers this node's ranks' copies of the slice (the
   * other nodes' owners check theirs); the blamed local index becomes a rank. */
  size_t at = 0;
  int who = ht__sum_rank_order((const float *const *)br->dst, h->L, m, &own, 1, &at);
  br->nf_rank[k] = who < 0 ? -1 : who < h->L ? h->node_ranks[who] : br->size;
  br->nf_elem[k] = lo + at;
  *rc = start_inter(br, buf, k, done, n_done);
  return 1;
}

/* Step S of bucket k: has every owner of the node spread its slice? */
static int try_node_done(ht_bucket_reduce *br, int k) {
  const ht_hier *h = br->hier;
  for (int r = 0; r < h->L; r++)
    if (atomic_load_explicit(ht_shm_grads_summed(&h->shm, r, k), memory_order_acquire) < br->round[k]) return 0;
  return 1;
}

int ht__hier_reduce_progress(ht_bucket_reduce *br, float *buf, int *done, int *n_done) {
  const ht_hier *h = br->hier;
  int rc = 0;
  for (int k = 0; k < br->n_buckets && rc == 0; k++)
    if (br->phase[k] == HT_BR_GATHER && br->step[k] < 0) try_node_sum(br, buf, k, done, n_done, &rc);
  if (rc < 0) return rc;
  /* One MPI_Testsome over every bucket's two requests; passes repeat while
   * they complete something, so a finished step posts the next at once. */
  while (br->n_steps > 0) {
    int outcount = 0;
    rc = HT_MPI(MPI_Testsome(br->n_buckets * 2, br->req, &outcount, br->ready, MPI_STATUSES_IGNORE));
    if (rc < 0) return rc;
    if (outcount == MPI_UNDEFINED || outcount == 0) break;
    for (int i = 0; i < outcount; i++) {
      int k = br->ready[i] / 2;
      if (--br->pending[k] > 0) continue;
      finish_step(br, buf, k);
      check_owned_block(br, buf, k);
      if (++br->step[k] < br->n_steps) rc = post_step(br, buf, k);
      else spread_on_node(br, buf, k, done, n_done);
      if (rc < 0) return rc;
    }
  }
  if (h->L > 1)
    for (int k = 0; k < br->n_buckets; k++)
      if (br->phase[k] == HT_BR_SPREAD && br->step[k] == br->n_steps && try_node_done(br, k)) {
        br->phase[k] = HT_BR_DONE;
        done[(*n_done)++] = k;
      }
  return 0;
}

int ht__hier_reduce_missing(const ht_bucket_reduce *br, int k, int *ranks) {
  const ht_hier *h = br->hier;
  int n = 0;
  if (br->phase[k] != HT_BR_GATHER && br->phase[k] != HT_BR_SPREAD) return 0;
  if (br->step[k] < 0 || br->step[k] == br->n_steps) {
    /* On the node: the ranks whose part is not final, or the owners whose
     * slice is not spread yet. */
    for (int r = 0; r < h->L; r++) {
      uint64_t v = br->step[k] < 0 ? atomic_load(ht_shm_grads_ready(&h->shm, r, k)) >> 1
                                   : atomic_load(ht_shm_grads_summed(&h->shm, r, k));
      if (v < br->round[k]) ranks[n++] = h->node_ranks[r];
    }
    return n;
  }
  /* Across nodes: the peers of the step whose message is incomplete. */
  size_t lo, m;
  step_plan p;
  current_step(br, k, &lo, &m, &p);
  const MPI_Request *rq = br->req + 2 * (size_t)k;
  int from = h->cross_ranks[p.from], to = h->cross_ranks[p.to];
  if (rq[0] != MPI_REQUEST_NULL) ranks[n++] = from;
  if (rq[1] != MPI_REQUEST_NULL && (n == 0 || to != from)) {
    if (n == 1 && to < from) {
      ranks[1] = from;
      ranks[0] = to;
      n = 2;
    } else {
      ranks[n++] = to;
    }
  }
  return n;
}
