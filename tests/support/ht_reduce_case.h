/*
 * Set-up shared by the bucket-summing tests (mpi/test_bucket_reduce.c with
 * messages or shared memory, mpi/test_hier_reduce.c across nodes): MPI
 * start-up, the values every rank sums, the bucket layout, and the two
 * rounds a set of buckets goes through (all in flight at once, then one at a
 * time). Each test checks the sums itself, against its own expected order.
 */
#ifndef HT_REDUCE_CASE_H
#define HT_REDUCE_CASE_H

#include <stddef.h>

#include "comm/bucket_reduce.h"

/* The bucket set: sizes 1, 2 and 3 (smaller than the rank count) up to
 * uneven large ones. */
enum { HT_REDUCE_NB = 7 };
extern const size_t ht_reduce_sizes[HT_REDUCE_NB];

/* MPI_Init_thread with MPI_THREAD_MULTIPLE; this rank and the world size. */
void ht_reduce_mpi_init(int *argc, char ***argv, int *rank, int *size);

/* Rank r's value for element i in round `round`: large and small magnitudes
 * mixed, so that a different summation order changes the last bits. */
float ht_reduce_value(int r, size_t i, int round);

/* Lays out nb buckets of sizes[k] floats end to end into b[0 .. nb);
 * returns the floats they cover. */
size_t ht_reduce_layout(const size_t *sizes, int nb, ht_bucket *b);

/* Round 0: starts every bucket of buf at once and polls until each has been
 * reported done exactly once (on one rank a bucket is done at its start).
 * 1 on failure (start/progress errors, a bucket reported twice), else 0. */
int ht_reduce_all_at_once(ht_bucket_reduce *br, float *buf, int nb, int rank);

/* Round 1: each bucket started and completed in bucket order (as
 * comm.wait=block does, every rank alike). While in flight a bucket waits
 * for other ranks only, listed in increasing order (checked when size <= 64);
 * once done, for none. 1 on failure, else 0. */
int ht_reduce_one_by_one(ht_bucket_reduce *br, float *buf, int nb, int rank, int size);

#endif
