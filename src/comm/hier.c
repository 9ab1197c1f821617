/* The node layout of hierarchical summing; see comm/hier.h. */
#include "comm/hier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

const char *ht_hier_algo_name(ht_inter_algo algo) {
  switch (algo) {
  case HT_INTER_RING:
    return "ring";
  case HT_INTER_RHD:
    return "recursive halving/doubling";
  case HT_INTER_AUTO:
    return "auto";
  }
  return "?";
}

/* What every rank tells the others: did it get here, its node's lowest rank
 * and the node's size. */
typedef struct layout_row {
  int ok, leader, node_size;
} layout_row;

/* Numbers the nodes by their lowest rank and checks they are all the same
 * size. rows[size] from every rank. Returns 0, or 1 with why. */
static int number_nodes(ht_hier *h, const layout_row *rows, char *why, size_t cap) {
  h->N = 0;
  for (int r = 0; r < h->size; r++) {
    if (!rows[r].ok) {
      snprintf(why, cap, "a rank failed before setting it up");
      return 1;
    }
    if (rows[r].leader == r) h->N++;
  }
  for (int r = 0; r < h->size; r++) {
    int id = 0;
    for (int q = 0; q < rows[r].leader; q++) id += rows[q].leader == q;
    h->node_of[r] = id;
    if (rows[r].node_size != rows[0].node_size) {
      snprintf(why, cap, "the nodes run different numbers of ranks (%d on the node of rank 0, %d on the node of rank %d)",
               rows[0].node_size, rows[r].node_size, r);
      return 1;
    }
  }
  return 0;
}

int ht_hier_create(ht_hier *h, MPI_Comm comm, size_t n, int n_bufs, int n_buckets, int local_rc, ht_inter_algo algo,
                   char *why, size_t why_cap) {
  memset(h, 0, sizeof *h);
  h->node = h->cross = MPI_COMM_NULL;
  why[0] = '\0';
  HT_CHECK_MPI(MPI_Comm_rank(comm, &h->rank));
  HT_CHECK_MPI(MPI_Comm_size(comm, &h->size));
  int rc = HT_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, h->rank, MPI_INFO_NULL, &h->node));
  if (rc == 0) rc = HT_MPI(MPI_Comm_rank(h->node, &h->local));
  if (rc == 0) rc = HT_MPI(MPI_Comm_size(h->node, &h->L));
  int leader = h->rank;
  if (rc == 0) rc = HT_MPI(MPI_Allreduce(MPI_IN_PLACE, &leader, 1, MPI_INT, MPI_MIN, h->node));
  /* Sized by the rank count (L, N <= size) so that every allocation is
   * checked before the first collective that depends on it. */
  h->node_of = malloc((size_t)h->size * sizeof *h->node_of);
  h->node_ranks = malloc((size_t)h->size * sizeof *h->node_ranks);
  h->cross_ranks = malloc((size_t)h->size * sizeof *h->cross_ranks);
  layout_row *rows = malloc((size_t)h->size * sizeof *rows);
  int mem = h->node_of && h->node_ranks && h->cross_ranks && rows;
  layout_row mine = {local_rc == 0 && rc == 0 && mem, leader, h->L};
  /* Every rank joins the exchange, also one that failed, so none hangs. */
  int arc = HT_MPI(MPI_Allgather(&mine, 3, MPI_INT, rows ? rows : (layout_row *)&mine, rows ? 3 : 0, MPI_INT, comm));
  if (rc == 0) rc = arc;
  if (rc < 0 || !mem) {
    free(rows);
    ht_hier_free(h);
    return rc < 0 ? rc : ht_error(HT_ENOMEM, "out of memory for the node layout of %d ranks", h->size);
  }
  int s = number_nodes(h, rows, why, why_cap);
  free(rows);
  if (s != 0) {
    ht_hier_free(h);
    return s;
  }
  h->node_id = h->node_of[h->rank];
  if (algo == HT_INTER_AUTO) algo = (h->N & (h->N - 1)) == 0 ? HT_INTER_RHD : HT_INTER_RING;
  if (algo == HT_INTER_RHD && (h->N & (h->N - 1)) != 0) {
    snprintf(why, why_cap, "recursive halving/doubling needs a power of two of nodes, not %d", h->N);
    ht_hier_free(h);
    return 1;
  }
  h->algo = algo;
  rc = HT_MPI(MPI_Comm_split(comm, h->local, h->node_id, &h->cross));
  if (rc == 0) rc = HT_MPI(MPI_Allgather(&h->rank, 1, MPI_INT, h->node_ranks, 1, MPI_INT, h->node));
  if (rc == 0) rc = HT_MPI(MPI_Allgather(&h->rank, 1, MPI_INT, h->cross_ranks, 1, MPI_INT, h->cross));

  /* The node's shared buffers; agreed over every rank, since a node
   * without them cannot take part. */
  int ok = rc == 0;
  if (h->L > 1) {
    int s2 = ht_shm_grads_create(&h->shm, h->node, n, n_bufs, n_buckets, rc, why, why_cap);
    if (s2 < 0 && rc == 0) rc = s2;
    ok = ok && s2 == 0;
  }
  int all_ok = 0;
  int arc2 = HT_MPI(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm));
  if (rc == 0) rc = arc2;
  if (rc < 0 || !all_ok) {
    if (rc == 0 && ok) snprintf(why, why_cap, "another node could not set up its shared gradient buffers");
    ht_hier_free(h);
    return rc < 0 ? rc : 1;
  }
  return 0;
}

void ht_hier_free(ht_hier *h) {
  ht_shm_grads_free(&h->shm);
  /* size > 0: ht_hier_create has set both handles (to MPI_COMM_NULL at least). */
  if (h->size > 0 && h->cross != MPI_COMM_NULL) MPI_Comm_free(&h->cross);
  if (h->size > 0 && h->node != MPI_COMM_NULL) MPI_Comm_free(&h->node);
  free(h->node_ranks);
  free(h->cross_ranks);
  free(h->node_of);
  memset(h, 0, sizeof *h);
  h->node = h->cross = MPI_COMM_NULL;
}
