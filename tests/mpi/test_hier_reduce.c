/*
 * Hierarchical summing (comm/hier.h) on its own: every rank fills a buffer
 * with values whose float sum depends on the order of the additions, sums a
 * set of buckets (sizes 1, 2 and 3, smaller than the rank count, up to
 * uneven large ones) and checks, bit for bit and on every rank, that each
 * element equals the order comm/hier.h documents, computed here from the
 * node layout:
 *   node sums in local order, then the ring's rotated order (block b starts
 *   at node b) or halving/doubling's balanced tree in node order;
 * that it agrees with the flat rank order ((x0 + x1) + x2) + ... within
 * relative 1e-6 of the sum of magnitudes, and bit for bit where comm/hier.h
 * promises it (one node, or 2 nodes x 1 rank). Round 0 has every bucket in
 * flight at once (buffer 0), round 1 one bucket at a time with the list of
 * ranks it waits for checked (buffer 1, as comm.mode delayed alternates).
 * It runs with the algorithm auto picks and, when that is halving/doubling,
 * with ring as well; then both again with comm.dtype bf16 between nodes,
 * where every rank must hold the same values, each within N x 2^-8 of the sum
 * of magnitudes of the exact sum. Then the non-finite findings: a NaN in one
 * rank's copy and an overflow between nodes (check_nonfinite).
 * Usage: mpitest_hier_reduce [N L]   (any layout; with N L given, the layout
 * found must be N nodes x L ranks; exit code 0 = pass)
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/bucket_reduce.h"
#include "comm/hier.h"
#include "ht_reduce_case.h"

/* The sum over node j's ranks of element i, in local order. */
static float node_sum(const ht_hier *h, int j, size_t i, int round) {
  float acc = 0;
  int first = 1;
  for (int r = 0; r < h->size; r++)
    if (h->node_of[r] == j) {
      acc = first ? ht_reduce_value(r, i, round) : acc + ht_reduce_value(r, i, round);
      first = 0;
    }
  return acc;
}

/* Halving/doubling's tree over nodes [lo, lo + count). */
static float tree(const ht_hier *h, int lo, int count, size_t i, int round) {
  if (count == 1) return node_sum(h, lo, i, round);
  return tree(h, lo, count / 2, i, round) + tree(h, lo + count / 2, count / 2, i, round);
}

/* The documented order for element i = bucket lo + j of a bucket of n floats. */
static float documented(const ht_hier *h, size_t i, size_t j, size_t n, int round) {
  if (h->N == 1 || h->algo == HT_INTER_RHD) return tree(h, 0, h->N, i, round);
  int l = 0;
  while (j >= ht__chunk_lo(n, l + 1, h->L)) l++;
  size_t m = ht__chunk_lo(n, l + 1, h->L) - ht__chunk_lo(n, l, h->L), q = j - ht__chunk_lo(n, l, h->L);
  int b = 0;
  while (q >= ht__chunk_lo(m, b + 1, h->N)) b++;
  float acc = node_sum(h, b, i, round);
  for (int s = 1; s < h->N; s++) acc += node_sum(h, (b + s) % h->N, i, round);
  return acc;
}

static int check(ht_inter_algo algo, int bf16, int rank, int size, int want_n, int want_l) {
  const size_t *sizes = ht_reduce_sizes;
  enum { NB = HT_REDUCE_NB };
  ht_bucket b[NB];
  size_t n = ht_reduce_layout(sizes, NB, b);
  ht_hier h;
  char why[256];
  int rc = ht_hier_create(&h, MPI_COMM_WORLD, n, 2, NB, 0, algo, why, sizeof why);
  h.bf16 = bf16;
  if (rc != 0) {
    if (rank == 0) fprintf(stderr, "hierarchical summing not available (%d): %s\n", rc, why);
    return 1;
  }
  if (want_n > 0 && (h.N != want_n || h.L != want_l)) {
    if (rank == 0) fprintf(stderr, "layout: %d nodes x %d ranks, expected %d x %d\n", h.N, h.L, want_n, want_l);
    ht_hier_free(&h);
    return 1;
  }
  float *own[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
  ht_bucket_reduce br;
  if (!own[0] || !own[1] || ht_bucket_reduce_init(&br, MPI_COMM_WORLD, b, NB, NULL, &h) != 0) {
    fprintf(stderr, "[rank %d] setup failed\n", rank);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int bad = 0, exact_flat = h.N == 1 || (h.N == 2 && h.L == 1);
  double worst = 0;
  for (int round = 0; round < 2; round++) {
    float *buf = h.shm.base ? ht_shm_grads_buf(&h.shm, h.local, round) : own[round];
    for (size_t i = 0; i < n; i++) buf[i] = ht_reduce_value(rank, i, round);
    if (!bad)
      bad = round == 0 ? ht_reduce_all_at_once(&br, buf, NB, rank) : ht_reduce_one_by_one(&br, buf, NB, rank, size);
    size_t wrong = 0, wrong_flat = 0;
    if (bf16) {
      /* Every rank the same values, each close to the exact sum. */
      float *first = malloc(n * sizeof *first);
      if (!first) MPI_Abort(MPI_COMM_WORLD, 1);
      if (rank == 0) memcpy(first, buf, n * sizeof *first);
      MPI_Bcast(first, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
      for (size_t i = 0; i < n; i++) {
        double exact = 0, mag = 0;
        for (int r = 0; r < size; r++) exact += ht_reduce_value(r, i, round), mag += fabs(ht_reduce_value(r, i, round));
        if (memcmp(&buf[i], &first[i], sizeof(float)) != 0) wrong++;
        double rel = fabs(buf[i] - exact) / (mag > 0 ? mag : 1);
        if (rel > worst) worst = rel;
      }
      free(first);
      if (wrong || worst > h.N * 0.00390625) {
        fprintf(stderr, "[rank %d] bf16 %s, round %d: %zu elements differ from rank 0's, worst relative error %.3g\n",
                rank, ht_hier_algo_name(h.algo), round, wrong, worst);
        bad = 1;
      }
      continue;
    }
    for (int k = 0; k < NB; k++)
      for (size_t j = 0; j < sizes[k]; j++) {
        size_t i = b[k].lo + j;
        float want = documented(&h, i, j, sizes[k], round), flat = ht_reduce_value(0, i, round);
        double mag = fabs(ht_reduce_value(0, i, round));
        for (int r = 1; r < size; r++) flat += ht_reduce_value(r, i, round), mag += fabs(ht_reduce_value(r, i, round));
        if (memcmp(&buf[i], &want, sizeof want) != 0) wrong++;
        if (memcmp(&buf[i], &flat, sizeof flat) != 0) wrong_flat++;
        double rel = fabs((double)buf[i] - flat) / (mag > 0 ? mag : 1);
        if (rel > worst) worst = rel;
      }
    if (wrong || (exact_flat && wrong_flat) || worst > 1e-6) {
      fprintf(stderr, "[rank %d] %s, round %d: %zu of %zu elements differ from the documented order, %zu from the "
              "rank order (promised equal: %s), worst relative difference %.3g\n", rank, ht_hier_algo_name(h.algo),
              round, wrong, n, wrong_flat, exact_flat ? "yes" : "no", worst);
      bad = 1;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && bf16)
    printf("%d nodes x %d ranks, %s, bf16 between nodes: %d buckets, %zu floats: %s (max relative error %.2g, "
           "bound %.3g)\n", h.N, h.L, h.N == 1 ? "one node" : ht_hier_algo_name(h.algo), NB, n,
           bad ? "FAIL" : "identical on every rank, within the bound", worst, h.N * 0.00390625);
  else if (rank == 0)
    printf("%d nodes x %d ranks, %s: %d buckets, %zu floats: %s; vs rank order: %s (max relative %.2g)\n", h.N, h.L,
           h.N == 1 ? "one node" : ht_hier_algo_name(h.algo), NB, n,
           bad ? "FAIL" : "every element in the documented order, bit for bit",
           exact_flat ? "bit for bit (promised)" : "within 1e-6", worst);
  ht_inter_algo used = h.algo;
  int N = h.N;
  ht_bucket_reduce_free(&br);
  ht_hier_free(&h);
  free(own[0]);
  free(own[1]);
  if (!bad && algo == HT_INTER_AUTO && N > 1 && used == HT_INTER_RHD)
    bad = check(HT_INTER_RING, bf16, rank, size, want_n, want_l);
  if (!bad && !bf16 && algo == HT_INTER_AUTO && N > 1) bad = check(HT_INTER_AUTO, 1, rank, size, want_n, want_l);
  return bad;
}

/* The non-finite findings (bucket_reduce.h nf_rank / nf_elem), agreed over
 * ranks as src/train/grad_sync.c does (the smallest rank * (n + 1) + element):
 * a NaN in the last rank's copy must name that rank and element, on every
 * layout (with one rank per node no node sum sees the copies: each rank
 * checks its own); two 3e38 on ranks 0 and P-1 (on different nodes when
 * there are several, so every node's sum is finite) must be named an
 * overflow (rank P) at that element. */
static int check_nonfinite(ht_inter_algo algo, int bf16, int rank, int size) {
  const size_t sizes[] = {3, 1001, 16, 4096 + 5};
  enum { NB = (int)(sizeof sizes / sizeof sizes[0]) };
  ht_bucket b[NB];
  size_t n = ht_reduce_layout(sizes, NB, b);
  ht_hier h;
  char why[256];
  if (ht_hier_create(&h, MPI_COMM_WORLD, n, 2, NB, 0, algo, why, sizeof why) != 0) return 1;
  h.bf16 = bf16;
  float *own[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
  ht_bucket_reduce br;
  if (!own[0] || !own[1] || ht_bucket_reduce_init(&br, MPI_COMM_WORLD, b, NB, NULL, &h) != 0) MPI_Abort(MPI_COMM_WORLD, 1);
  const size_t nan_at = b[1].lo + 500, big_at = b[3].lo + 4000;
  int bad = 0;
  for (int c = 0; c < 2 && !bad; c++) {
    float *buf = h.shm.base ? ht_shm_grads_buf(&h.shm, h.local, c) : own[c];
    for (size_t i = 0; i < n; i++) buf[i] = 1.0f;
    if (c == 0 && rank == size - 1) buf[nan_at] = NAN;
    if (c == 1 && (rank == 0 || rank == size - 1)) buf[big_at] = 3e38f;
    int n_seen = 0, done[NB], n_done = 0;
    for (int k = 0; k < NB; k++)
      if (ht_bucket_reduce_start(&br, buf, k) != 0) bad = 1;
    while (n_seen < NB && !bad) {
      if (ht_bucket_reduce_progress(&br, buf, done, &n_done) != 0) bad = 1;
      n_seen += n_done;
    }
    long long key = LLONG_MAX;
    for (int k = 0; k < NB; k++)
      if (br.nf_rank[k] >= 0 && (long long)br.nf_rank[k] * (long long)(n + 1) + (long long)br.nf_elem[k] < key)
        key = (long long)br.nf_rank[k] * (long long)(n + 1) + (long long)br.nf_elem[k];
    MPI_Allreduce(MPI_IN_PLACE, &key, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    long long want = c == 0 ? (long long)(size - 1) * (long long)(n + 1) + (long long)nan_at
                            : (long long)size * (long long)(n + 1) + (long long)big_at;
    if (key != want) {
      if (rank == 0)
        fprintf(stderr, "%d nodes x %d ranks, %s%s, %s: agreed finding rank %lld element %lld, expected rank %lld element %lld\n",
                h.N, h.L, ht_hier_algo_name(h.algo), bf16 ? " bf16" : "", c == 0 ? "NaN" : "overflow",
                key == LLONG_MAX ? -1 : key / (long long)(n + 1), key == LLONG_MAX ? -1 : key % (long long)(n + 1),
                want / (long long)(n + 1), want % (long long)(n + 1));
      bad = 1;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("%d nodes x %d ranks, %s%s: non-finite findings %s\n", h.N, h.L, h.N == 1 ? "one node" : ht_hier_algo_name(h.algo),
           bf16 ? ", bf16" : "", bad ? "FAIL" : "name the NaN's rank and element, and an overflow between nodes");
  ht_inter_algo used = h.algo;
  int N = h.N;
  ht_bucket_reduce_free(&br);
  ht_hier_free(&h);
  free(own[0]);
  free(own[1]);
  if (!bad && algo == HT_INTER_AUTO && N > 1 && used == HT_INTER_RHD) bad = check_nonfinite(HT_INTER_RING, bf16, rank, size);
  if (!bad && !bf16 && algo == HT_INTER_AUTO && N > 1) bad = check_nonfinite(HT_INTER_AUTO, 1, rank, size);
  return bad;
}

int main(int argc, char **argv) {
  int rank, size;
  ht_reduce_mpi_init(&argc, &argv, &rank, &size);
  int want_n = argc > 2 ? atoi(argv[1]) : 0, want_l = argc > 2 ? atoi(argv[2]) : 0;
  int bad = size > 1 ? check(HT_INTER_AUTO, 0, rank, size, want_n, want_l) : 0;
  if (!bad && size > 1) bad = check_nonfinite(HT_INTER_AUTO, 0, rank, size);
  if (size == 1 && rank == 0) printf("one rank: nothing to sum\n");
  if (rank == 0) printf("%s\n", bad ? "FAIL" : "pass");
  MPI_Finalize();
  return bad;
}
