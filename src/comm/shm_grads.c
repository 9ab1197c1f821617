/* Gradient buffers shared by the ranks of one node; see comm/shm_grads.h. */
#include "comm/shm_grads.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hytrain/error.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the flags are shared between processes: they must be lock-free");

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* What rank 0 tells the others. */
typedef struct shm_hello {
  int ok;
  char name[64];
  char why[192];
} shm_hello;

/* Maps the segment `name` (rank 0 creates and reserves it). 0 or -1 with why. */
static int map_segment(ht_shm_grads *s, const char *name, int create, char *why, size_t cap) {
  int fd = shm_open(name, create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
  if (fd < 0) {
    snprintf(why, cap, "rank %d cannot open shared memory %s: %s", s->rank, name, strerror(errno));
    return -1;
  }
  if (create) {
    /* Reserve every page now: a full /dev/shm fails here, not with SIGBUS
     * in the middle of training. The pages read as zero: every flag starts
     * at round 0. */
    int rc = posix_fallocate(fd, 0, (off_t)s->bytes);
    if (rc != 0) {
      snprintf(why, cap, "cannot reserve %.1f MB of shared memory in /dev/shm: %s", s->bytes / 1e6, strerror(rc));
      close(fd);
      shm_unlink(name);
      return -1;
    }
  }
  void *p = mmap(NULL, s->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    snprintf(why, cap, "rank %d cannot map %.1f MB of shared memory: %s", s->rank, s->bytes / 1e6, strerror(errno));
    if (create) shm_unlink(name);
    return -1;
  }
  s->base = p;
  return 0;
}

int ht_shm_grads_create(ht_shm_grads *s, MPI_Comm comm, size_t n, int n_bufs, int n_buckets, int local_rc, char *why,
                        size_t why_cap) {
  memset(s, 0, sizeof *s);
  why[0] = '\0';
  HT_CHECK_MPI(MPI_Comm_rank(comm, &s->rank));
  HT_CHECK_MPI(MPI_Comm_size(comm, &s->size));
  s->n = n;
  s->n_bufs = n_bufs;
  s->n_buckets = n_buckets;
  s->flags_bytes = round_up(2 * (size_t)n_buckets * sizeof(_Atomic uint64_t), 64);
  s->buf_bytes = round_up(n * sizeof(float), 64);
  s->area = round_up(s->flags_bytes + (size_t)n_bufs * s->buf_bytes, 4096);
  s->bytes = s->area * (size_t)s->size;

  /* One node? (and did every rank get this far?) */
  MPI_Comm node;
  int node_size = 0;
  HT_CHECK_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, s->rank, MPI_INFO_NULL, &node));
  int rc = HT_MPI(MPI_Comm_size(node, &node_size));
  MPI_Comm_free(&node);
  if (rc < 0) return rc;
  int mine[2] = {local_rc == 0, node_size == s->size}, all[2];
  HT_CHECK_MPI(MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MIN, comm));
  if (!all[0]) {
    snprintf(why, why_cap, "a rank failed before setting it up");
    return 1;
  }
  if (!all[1]) {
    snprintf(why, why_cap, "the ranks run on more than one node");
    return 1;
  }

  shm_hello hello;
  memset(&hello, 0, sizeof hello);
  if (s->rank == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(hello.name, sizeof hello.name, "/hytrain-grads-%ld-%ld", (long)getpid(), (long)ts.tv_nsec);
    hello.ok = map_segment(s, hello.name, 1, hello.why, sizeof hello.why) == 0;
  }
  rc = HT_MPI(MPI_Bcast(&hello, (int)sizeof hello, MPI_BYTE, 0, comm));
  if (rc < 0) {
    if (s->rank == 0 && hello.ok) shm_unlink(hello.name);
    ht_shm_grads_free(s);
    return rc;
  }
  int ok = hello.ok;
  if (!ok) snprintf(why, why_cap, "%s", hello.why);
  else if (s->rank != 0) ok = map_segment(s, hello.name, 0, why, why_cap) == 0;
  int all_ok = 0;
  rc = HT_MPI(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm));
  /* Every rank has mapped it (or given up): the name is no longer needed. */
  if (s->rank == 0 && hello.ok) shm_unlink(hello.name);
  if (rc < 0) {
    ht_shm_grads_free(s);
    return rc;
  }
  if (!all_ok) {
    if (ok) snprintf(why, why_cap, "another rank could not map the shared segment");
    ht_shm_grads_free(s);
    return 1;
  }
  return 0;
}

float *ht_shm_grads_buf(const ht_shm_grads *s, int r, int b) {
  return (float *)(s->base + (size_t)r * s->area + s->flags_bytes + (size_t)b * s->buf_bytes);
}

int ht_shm_grads_index(const ht_shm_grads *s, const float *p) {
  for (int b = 0; b < s->n_bufs; b++)
    if (p == ht_shm_grads_buf(s, s->rank, b)) return b;
  return -1;
}

_Atomic uint64_t *ht_shm_grads_ready(const ht_shm_grads *s, int r, int k) {
  return (_Atomic uint64_t *)(s->base + (size_t)r * s->area) + k;
}

_Atomic uint64_t *ht_shm_grads_summed(const ht_shm_grads *s, int r, int k) {
  return (_Atomic uint64_t *)(s->base + (size_t)r * s->area) + s->n_buckets + k;
}

void ht_shm_grads_free(ht_shm_grads *s) {
  if (s->base) munmap(s->base, s->bytes);
  memset(s, 0, sizeof *s);
}
